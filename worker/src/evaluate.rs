//! Re-evaluating a model outside the workers (`loopx-node evaluate-model`): anyone holding a
//! task's spec and a model payload can check a claimed or accepted metric against the task's
//! evaluation set — the demo one the nodes hold, or a CSV file (`--eval-csv`) whose commitment
//! is the task's `eval_set` — with the same deterministic evaluation the voters run.

use codec::Decode;
use loopx_primitives::TaskId;
use loopx_runtime::{Balance, BlockNumber};
use pallet_builder_market::TaskSpec;

use loopx_ml_kernels::data::Dataset;
use sp_core::H256;

use crate::{
	dataset_info,
	demo_data::{eval_set, DEMO_EVAL_SET},
	payload_store::payload_hash,
	training::{read_payload, TaskModel, TaskModelError},
};

/// What a model scores on the demo evaluation set.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
	/// The task the payload belongs to.
	pub task: TaskId,
	/// The payload's hash (a version's `hash` on chain).
	pub hash: String,
	/// Rows of the evaluation set.
	pub rows: usize,
	/// Area under the ROC curve.
	pub auc: f64,
	/// Accuracy at 0.5.
	pub accuracy: f64,
	/// Mean log-loss.
	pub log_loss: f64,
	/// The task's metric in parts per million, as the chain records it.
	pub metric_ppm: u32,
}

/// Why a payload was not evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvaluateError {
	/// The spec bytes are not a SCALE-encoded task spec.
	NotATaskSpec(String),
	/// The task is scored on an evaluation set this node does not hold (and no file was given).
	OtherEvaluationSet(sp_core::H256),
	/// The evaluation file is not the task's evaluation set: its commitment differs.
	EvalSetMismatch {
		/// The file's commitment.
		file: H256,
		/// The task's `eval_set`.
		task: H256,
	},
	/// The evaluation file's rows do not fit the task's model.
	SchemaMismatch {
		/// Feature columns of the file.
		columns: usize,
		/// Inputs of the model.
		inputs: usize,
	},
	/// The payload is not a model of the task, or the task's model cannot be built here.
	Model(TaskModelError),
}

impl core::fmt::Display for EvaluateError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::NotATaskSpec(e) => write!(f, "not a task spec: {e}"),
			Self::OtherEvaluationSet(set) => {
				write!(
					f,
					"the task is scored on the evaluation set {set:?}; this node holds only the demo one, {DEMO_EVAL_SET:?} (give the set's CSV with --eval-csv)"
				)
			},
			Self::EvalSetMismatch { file, task } => {
				write!(f, "the evaluation file's commitment is {file:?}, not the task's eval_set {task:?}")
			},
			Self::SchemaMismatch { columns, inputs } => {
				write!(f, "the evaluation file has {columns} feature columns; the task's model takes {inputs} inputs")
			},
			Self::Model(e) => write!(f, "{e:?}"),
		}
	}
}

impl std::error::Error for EvaluateError {}

/// Scores `payload` as a model of the task whose SCALE-encoded spec is `spec` (what
/// `builderMarket.tasks(id).spec` holds) on `eval_file` — which must be the task's evaluation
/// set, by its commitment — or, without one, on the demo set if that is the task's.
pub fn evaluate_payload(spec: &[u8], payload: &[u8], eval_file: Option<&Dataset>) -> Result<Evaluation, EvaluateError> {
	let spec = TaskSpec::<Balance, BlockNumber>::decode(&mut &spec[..]).map_err(|e| EvaluateError::NotATaskSpec(e.to_string()))?;
	let eval = match eval_file {
		Some(data) => {
			let file = dataset_info::inspect(data).map_err(|e| EvaluateError::Model(TaskModelError::Evaluation(e.to_string())))?.commitment;
			if file != spec.eval_set {
				return Err(EvaluateError::EvalSetMismatch { file, task: spec.eval_set });
			}
			data.clone()
		},
		None if spec.eval_set == DEMO_EVAL_SET => eval_set(),
		None => return Err(EvaluateError::OtherEvaluationSet(spec.eval_set)),
	};
	// One decode (task and model), one pass over the evaluation set (every metric).
	let read = read_payload(payload).map_err(EvaluateError::Model)?;
	let task = read.task;
	let model = TaskModel::new(task, &spec.architecture, spec.precision, spec.metric, spec.hyper).map_err(EvaluateError::Model)?;
	if eval.dim() != model.inputs() {
		return Err(EvaluateError::SchemaMismatch { columns: eval.dim(), inputs: model.inputs() });
	}
	let (state, _) = model.open(&read).map_err(EvaluateError::Model)?;
	// (`TaskModel::new` refuses the metrics a classifier cannot be scored by.)
	let (m, metric_ppm) = model.evaluate(&state, &eval).map_err(EvaluateError::Model)?;
	Ok(Evaluation {
		task,
		hash: format!("{:?}", payload_hash(payload)),
		rows: eval.len(),
		auc: m.auc,
		accuracy: m.accuracy,
		log_loss: m.log_loss,
		metric_ppm,
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::demo_data::training_shard;
	use codec::Encode;
	use loopx_model_spec::Precision;
	use loopx_primitives::Thresholds;
	use pallet_builder_market::{HyperParams, Metric};

	fn spec(eval_set: sp_core::H256) -> TaskSpec<Balance, BlockNumber> {
		TaskSpec {
			architecture: crate::training::fraud_classifier(1),
			precision: Precision::Int8,
			metric: Metric::Auc,
			target: 990_000,
			eval_set,
			hyper: HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 30, seed: 7 },
			round_length: 60,
			bounty: 1,
			trainers: Thresholds { min_stake: 0, min_reputation: 0 },
			max_rounds: 2,
			deadline: 1_000,
		}
	}

	#[test]
	fn a_payload_scores_what_the_voters_score_and_bad_inputs_are_refused() {
		let spec = spec(DEMO_EVAL_SET);
		let model = TaskModel::new(2, &spec.architecture, spec.precision, spec.metric, spec.hyper).unwrap();
		let payload = model.encode(&model.train(model.initial(), &training_shard(1), 1), 1, 30, 1, &[7; 12]).unwrap();
		let e = evaluate_payload(&spec.encode(), &payload, None).unwrap();
		assert_eq!(e.task, 2);
		assert_eq!(e.metric_ppm, model.score_payload(&payload, &eval_set()).unwrap(), "the voters' score to the unit");
		assert_eq!(e.metric_ppm, (e.auc * 1e6).round() as u32);
		assert_eq!(e.rows, eval_set().len());
		assert_eq!(e.hash, format!("{:?}", payload_hash(&payload)));
		assert!((0.0..=1.0).contains(&e.accuracy) && e.log_loss > 0.0);
		assert!(evaluate_payload(b"\x01", &payload, None).unwrap_err().to_string().starts_with("not a task spec"));
		assert!(evaluate_payload(&spec.encode(), b"junk", None).is_err());
		let elsewhere = self::spec(sp_core::H256::repeat_byte(1)).encode();
		assert!(evaluate_payload(&elsewhere, &payload, None).unwrap_err().to_string().contains("holds only the demo one"));
	}

	/// A builder's own evaluation set: scored when the file is the one the task committed to,
	/// refused by name when it is not or when its rows do not fit the model.
	#[test]
	fn a_builders_evaluation_file_scores_only_as_the_task_committed_to_it() {
		// A held-out set of the builder's own: a training shard the model never saw.
		let own = training_shard(9);
		let committed = crate::dataset_info::inspect(&own).unwrap().commitment;
		let task = spec(committed);
		let model = TaskModel::new(3, &task.architecture, task.precision, task.metric, task.hyper).unwrap();
		let payload = model.encode(&model.train(model.initial(), &training_shard(1), 1), 1, 30, 1, &[7; 12]).unwrap();

		let e = evaluate_payload(&task.encode(), &payload, Some(&own)).unwrap();
		assert_eq!(e.rows, own.len());
		assert_eq!(e.metric_ppm, model.score_payload(&payload, &own).unwrap(), "the voters' score on that set, to the unit");
		assert!(
			matches!(evaluate_payload(&task.encode(), &payload, None), Err(EvaluateError::OtherEvaluationSet(set)) if set == committed),
			"without the file the node cannot score it"
		);

		// One label flipped: not the committed set.
		let mut tampered = own.clone();
		tampered.labels[0] = !tampered.labels[0];
		let err = evaluate_payload(&task.encode(), &payload, Some(&tampered)).unwrap_err();
		assert!(matches!(err, EvaluateError::EvalSetMismatch { task: t, .. } if t == committed), "{err}");

		// A set committed to but of another width: the model cannot read it.
		let mut narrow = own.clone();
		let dim = narrow.dim();
		narrow.names.truncate(dim - 1);
		narrow.features = narrow.features.chunks(dim).flat_map(|row| row[..dim - 1].to_vec()).collect();
		let narrow_task = spec(crate::dataset_info::inspect(&narrow).unwrap().commitment);
		let err = evaluate_payload(&narrow_task.encode(), &payload, Some(&narrow)).unwrap_err();
		assert_eq!(err, EvaluateError::SchemaMismatch { columns: dim - 1, inputs: dim });
	}
}
