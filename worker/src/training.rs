//! The learning kernels as a worker uses them for one task (no chain here): the task's model
//! from its on-chain spec, wire payloads in and out, merging received models, the local
//! update, and the deterministic score voters recompute.
//!
//! A claim's metric is the score of the model *as sent* (quantized at the task's precision and
//! decoded again), so the trainer and every voter score the very same parameters and agree to
//! the bit (`ml-kernels`' evaluation has a fixed reduction order).

use loopx_ml_kernels::{
	burn::backend::{flex::FlexDevice, Autodiff, Flex},
	data::{
		wallet::{FEATURES, FEATURE_NAMES},
		Dataset,
	},
	models::{
		mlp::{Mlp, MlpSpec},
		state::{aggregate, merge_pair, ModelState},
		train::{evaluate, local_sgd, predict, ClassifierMetrics},
	},
	quant::{ErrorFeedback, Precision as WirePrecision},
	robust::Aggregator,
	wire,
};
use loopx_model_spec::{Architecture, Precision};
use loopx_primitives::TaskId;
use pallet_builder_market::{HyperParams, Metric};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

type Cpu = Flex;
type Train = Autodiff<Flex>;

/// Values per quantization block on the wire (the chain sizes payloads by the same block).
pub const WIRE_BLOCK: usize = loopx_model_spec::WIRE_BLOCK as usize;

/// A fraud classifier over the 16 wallet features, for tests and benchmarks: `hidden` TT layers
/// 16 → 16 (modes 4 × 4, rank 3), then the logit. The demo task (`e2e/lib/cycle.mjs`) has two.
pub fn fraud_classifier(hidden: usize) -> Architecture {
	use loopx_model_spec::{Modes, TtLayer};
	let m = |v: &[u32]| Modes::truncate_from(v.to_vec());
	let mut layers = vec![TtLayer { out_modes: m(&[4, 4]), in_modes: m(&[4, 4]), rank: 3 }; hidden];
	layers.push(TtLayer { out_modes: m(&[1]), in_modes: m(&[16]), rank: 1 });
	Architecture::Classifier { layers: layers.try_into().unwrap_or_default() }
}

/// The first bytes of the model id of every task model on the wire; the next twelve name the
/// account that made the payload ([`maker_of`]) and the last four the task (big-endian).
const MODEL_ID_PREFIX: &[u8; 16] = b"loopx/task-model";

/// Who made a payload: the first twelve bytes of blake2-256 of its SCALE-encoded account.
/// Inside the payload, so inside its hash: a copy claimed by another account still names its
/// maker, and voters score it as nothing. 96 bits: finding another account with the same
/// maker takes about 2⁹⁶ hashes.
pub type Maker = [u8; 12];

/// The maker bytes of `who`'s payloads.
pub fn maker_of(who: &impl codec::Encode) -> Maker {
	let hash = sp_crypto_hashing::blake2_256(&who.encode());
	let mut maker = [0u8; 12];
	maker.copy_from_slice(&hash[..12]);
	maker
}

/// The model id `maker`'s payloads of `task` carry.
fn model_id(task: TaskId, maker: &Maker) -> [u8; 32] {
	let mut id = [0u8; 32];
	id[..16].copy_from_slice(MODEL_ID_PREFIX);
	id[16..28].copy_from_slice(maker);
	id[28..].copy_from_slice(&task.to_be_bytes());
	id
}

/// A task model's payload read once: the task and maker its header names, and its wire
/// message (whose parameters [`TaskModel::open`] checks against the task's architecture).
pub struct TaskPayload {
	/// The task the payload says it belongs to.
	pub task: TaskId,
	/// Who made it.
	pub maker: Maker,
	message: wire::Message,
}

/// Reads a payload as a task model's (once: the task and the model come from the same decode).
pub fn read_payload(payload: &[u8]) -> Result<TaskPayload, TaskModelError> {
	let message = wire::decode(payload).map_err(|e| TaskModelError::BadPayload(e.to_string()))?;
	let id = message.model_id;
	if id[..16] != MODEL_ID_PREFIX[..] {
		return Err(TaskModelError::BadPayload("not a task model's payload".into()));
	}
	let task = TaskId::from_be_bytes([id[28], id[29], id[30], id[31]]);
	let mut maker = [0u8; 12];
	maker.copy_from_slice(&id[16..28]);
	Ok(TaskPayload { task, maker, message })
}

/// Whether `payload` is a model of `task` made by `who` (what a voter checks before it scores
/// a claimed update: a payload made by another account is a copy). One read of the header.
pub fn made_for(payload: &[u8], task: TaskId, who: &impl codec::Encode) -> bool {
	read_payload(payload).is_ok_and(|p| p.task == task && p.maker == maker_of(who))
}

/// The task a model payload says it belongs to (`None`: not a task model's payload).
pub fn task_of_payload(payload: &[u8]) -> Option<TaskId> {
	read_payload(payload).ok().map(|p| p.task)
}

/// What a data-market offer of a local model of `task` commits to as its schema: blake2-256
/// of the task's model id with no maker, so a buyer knows which task the parameters are for
/// before it bids.
pub fn model_schema(task: TaskId) -> sp_core::H256 {
	sp_core::H256(sp_crypto_hashing::blake2_256(&model_id(task, &[0; 12])))
}

/// One task's model, as the worker trains and scores it.
#[derive(Clone)]
pub struct TaskModel {
	task: TaskId,
	spec: MlpSpec,
	init: ModelState,
	precision: WirePrecision,
	metric: Metric,
	hyper: HyperParams,
}

/// Why a task cannot be worked on here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskModelError {
	/// Not a classifier (the demo data set trains fraud classifiers only).
	Unsupported(String),
	/// A payload that is not a model of this task.
	BadPayload(String),
	/// Evaluation failed.
	Evaluation(String),
}

impl TaskModel {
	/// The model of `task` as its spec describes it.
	pub fn new(task: TaskId, architecture: &Architecture, precision: Precision, metric: Metric, hyper: HyperParams) -> Result<Self, TaskModelError> {
		let spec = MlpSpec::try_from(architecture).map_err(|e| TaskModelError::Unsupported(e.to_string()))?;
		if spec.inputs() != FEATURES {
			return Err(TaskModelError::Unsupported(format!("{} inputs; the wallet data has {}", spec.inputs(), FEATURES)));
		}
		if metric == Metric::Rmse {
			return Err(TaskModelError::Unsupported("RMSE is not a classifier metric".into()));
		}
		let precision = match precision {
			Precision::F32 => WirePrecision::F32,
			Precision::Int8 => WirePrecision::Int8,
			Precision::Int4 => WirePrecision::Int4,
		};
		let init = Mlp::<Cpu>::new(&spec, hyper.seed, &FlexDevice).state();
		Ok(Self { task, spec, init, precision, metric, hyper })
	}

	/// The model every trainer starts from (the task's seed).
	pub fn initial(&self) -> &ModelState {
		&self.init
	}

	/// The wire payload `maker` makes of `state` as version `version` of age `age`;
	/// quantization draws are seeded by `seed`.
	pub fn encode(&self, state: &ModelState, version: u64, age: u64, seed: u64, maker: &Maker) -> Result<Vec<u8>, TaskModelError> {
		let mut rng = ChaCha8Rng::seed_from_u64(seed);
		let message = state.to_message(model_id(self.task, maker), version, age, self.precision, WIRE_BLOCK, &mut ErrorFeedback::default(), &mut rng);
		wire::encode(&message).map_err(|e| TaskModelError::BadPayload(e.to_string()))
	}

	/// The model a payload carries, checked against the task's architecture; and its age.
	pub fn decode(&self, payload: &[u8]) -> Result<(ModelState, u64), TaskModelError> {
		let message = wire::decode(payload).map_err(|e| TaskModelError::BadPayload(e.to_string()))?;
		self.state_of(&message)
	}

	/// The model of a payload already read with [`read_payload`], and its age.
	pub fn open(&self, payload: &TaskPayload) -> Result<(ModelState, u64), TaskModelError> {
		self.state_of(&payload.message)
	}

	fn state_of(&self, message: &wire::Message) -> Result<(ModelState, u64), TaskModelError> {
		let state = self.init.from_message(message).map_err(|e| TaskModelError::BadPayload(e.to_string()))?;
		Ok((state, message.partition.age))
	}

	/// Merges received models with the one trained from (gossip learning's merge step): one
	/// model is kept as is, two are averaged by age, three or more go through the robust
	/// coordinate-wise median (poisoned models cannot drag it far).
	pub fn merge(&self, models: &[(ModelState, u64)]) -> Option<(ModelState, u64)> {
		match models {
			[] => None,
			[one] => Some(one.clone()),
			[(a, ta), (b, tb)] => merge_pair(a, (*ta).max(1), b, (*tb).max(1)).ok(),
			more => {
				let refs: Vec<&ModelState> = more.iter().map(|(m, _)| m).collect();
				let age = more.iter().map(|(_, t)| *t).max().unwrap_or(0);
				aggregate(&refs, &Aggregator::Median).ok().map(|m| (m, age))
			},
		}
	}

	/// The local update: the task's `local_steps` SGD steps on batches of `batch_size` rows of
	/// `data` drawn with `seed`, at the task's learning rate.
	pub fn train(&self, from: &ModelState, data: &Dataset, seed: u64) -> ModelState {
		let h = &self.hyper;
		let lr = f64::from(h.learning_rate_ppm) / 1e6;
		let mut rng = ChaCha8Rng::seed_from_u64(seed);
		local_sgd::<Train>(from, data, h.local_steps as usize, h.batch_size as usize, lr, 1.0, &mut rng, &FlexDevice)
	}

	/// Every classifier metric of `state` on `eval` (deterministic).
	pub fn metrics(&self, state: &ModelState, eval: &Dataset) -> Result<ClassifierMetrics, TaskModelError> {
		let device = FlexDevice;
		evaluate(&Mlp::<Cpu>::from_state(state, &device), eval, &device).map_err(|e| TaskModelError::Evaluation(e.to_string()))
	}

	/// How many features a row must have for this model.
	pub fn inputs(&self) -> usize {
		self.spec.inputs()
	}

	/// The task's metric of `state` on `eval`, in parts per million (deterministic).
	pub fn score(&self, state: &ModelState, eval: &Dataset) -> Result<u32, TaskModelError> {
		self.evaluate(state, eval).map(|(_, ppm)| ppm)
	}

	/// Every classifier metric of `state` on `eval` and the task's metric among them in parts
	/// per million, from one pass over the evaluation set.
	pub fn evaluate(&self, state: &ModelState, eval: &Dataset) -> Result<(ClassifierMetrics, u32), TaskModelError> {
		let m = self.metrics(state, eval)?;
		let value = match self.metric {
			Metric::Auc => m.auc,
			Metric::Accuracy => m.accuracy,
			Metric::LogLoss => m.log_loss,
			Metric::Rmse => return Err(TaskModelError::Unsupported("RMSE".into())),
		};
		Ok((m, (value * 1e6).round().clamp(0.0, f64::from(u32::MAX)) as u32))
	}

	/// The score of a payload (what a voter computes for a claim).
	pub fn score_payload(&self, payload: &[u8], eval: &Dataset) -> Result<u32, TaskModelError> {
		self.score(&self.decode(payload)?.0, eval)
	}

	/// The fraud probability of each row of `features` (row-major, the 16 wallet features of
	/// `ml-kernels`' `FEATURE_NAMES` a row) under `state`. Each row is computed on its own:
	/// a matrix product's rounding depends on the batch, and a row's answer must not depend
	/// on the rows asked with it.
	pub fn predict(&self, state: &ModelState, features: &[f32]) -> Vec<f32> {
		let device = FlexDevice;
		let model = Mlp::<Cpu>::from_state(state, &device);
		let names: Vec<String> = FEATURE_NAMES.iter().map(|n| n.to_string()).collect();
		features
			.chunks_exact(FEATURES)
			.flat_map(|row| {
				let data = Dataset { names: names.clone(), features: row.to_vec(), labels: vec![false], groups: vec![0] };
				predict(&model, &data, &device)
			})
			.collect()
	}

	/// The spec built from the chain's architecture.
	pub fn spec(&self) -> &MlpSpec {
		&self.spec
	}

	/// The SGD steps of one round's local update.
	pub fn local_steps(&self) -> u32 {
		self.hyper.local_steps
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		demo_data::{eval_set, training_shard},
		payload_store::payload_hash,
	};
	use loopx_model_spec::Modes;

	fn fraud_architecture() -> Architecture {
		fraud_classifier(2)
	}

	#[test]
	fn a_payload_is_never_larger_than_the_chain_sizes_it() {
		// The builder market bounds a task by `Architecture::payload_bytes`: a worker's payload
		// must fit it, or a task the chain accepts could make payloads the workers refuse.
		let hyper = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 1, seed: 7 };
		for hidden in [1, 2, 6] {
			let architecture = fraud_classifier(hidden);
			for precision in [Precision::F32, Precision::Int8, Precision::Int4] {
				let model = TaskModel::new(0, &architecture, precision, Metric::Auc, hyper).unwrap();
				let len = model.encode(model.initial(), 1, 1, 1, &TEST_MAKER).unwrap().len() as u64;
				let bound = architecture.payload_bytes(precision);
				assert!(len <= bound, "{hidden} hidden layers, {precision:?}: {len} > {bound}");
				assert!(bound - len <= loopx_model_spec::WIRE_OVERHEAD_BYTES, "the bound is not loose: {len} of {bound}");
			}
		}
		use sp_core::Get;
		assert!(
			<<loopx_runtime::Runtime as pallet_builder_market::Config>::MaxModelBytes as Get<u64>>::get()
				<= crate::payload_store::MAX_PAYLOAD_BYTES as u64
		);
	}

	const TEST_MAKER: Maker = [7; 12];

	fn task_model() -> TaskModel {
		let hyper = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 60, seed: 7 };
		TaskModel::new(0, &fraud_architecture(), Precision::Int8, Metric::Auc, hyper).unwrap()
	}

	#[test]
	fn training_improves_the_score_and_voters_agree_to_the_bit() {
		let model = task_model();
		let eval = eval_set();
		let before = model.score_payload(&model.encode(model.initial(), 0, 0, 1, &TEST_MAKER).unwrap(), &eval).unwrap();
		let trained = model.train(model.initial(), &training_shard(1), 3);
		let payload = model.encode(&trained, 1, 1, 1, &TEST_MAKER).unwrap();
		let after = model.score_payload(&payload, &eval).unwrap();
		assert!(after > before, "AUC {before} → {after}");
		assert!(after > 800_000, "AUC after one round {after}");
		// A voter decodes the same bytes and gets the same score.
		let voter = task_model();
		assert_eq!(voter.score_payload(&payload, &eval).unwrap(), after);
	}

	#[test]
	fn inference_gives_one_probability_a_row_and_ranks_fraud_higher() {
		let model = task_model();
		let eval = eval_set();
		let trained = model.train(model.initial(), &training_shard(1), 3);
		let p = model.predict(&trained, &eval.features[..400 * FEATURES]);
		assert_eq!(p.len(), 400);
		assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
		let mean = |fraud: bool| {
			let v: Vec<f32> = p.iter().zip(&eval.labels[..400]).filter(|(_, l)| **l == fraud).map(|(x, _)| *x).collect();
			v.iter().sum::<f32>() / v.len() as f32
		};
		assert!(mean(true) > mean(false), "fraud {} vs normal {}", mean(true), mean(false));
		// Another node, asked for one row of them, gives the same bits.
		let row = 7 * FEATURES..8 * FEATURES;
		assert_eq!(task_model().predict(&trained, &eval.features[row]), p[7..8].to_vec());
	}

	#[test]
	fn merging_keeps_the_architecture_and_rejects_foreign_payloads() {
		let model = task_model();
		let a = model.train(model.initial(), &training_shard(1), 1);
		let b = model.train(model.initial(), &training_shard(2), 2);
		let c = model.train(model.initial(), &training_shard(3), 3);
		for merged in
			[model.merge(&[(a.clone(), 1)]), model.merge(&[(a.clone(), 1), (b.clone(), 2)]), model.merge(&[(a.clone(), 1), (b.clone(), 2), (c, 3)])]
		{
			let (state, _) = merged.unwrap();
			let payload = model.encode(&state, 1, 1, 0, &TEST_MAKER).unwrap();
			assert!(model.decode(&payload).is_ok());
		}
		assert!(model.merge(&[]).is_none());
		assert!(matches!(model.decode(b"not a model"), Err(TaskModelError::BadPayload(_))));
		assert_eq!(task_of_payload(b"not a model"), None);
		let mut truncated = model.encode(&a, 1, 1, 0, &TEST_MAKER).unwrap();
		truncated.truncate(truncated.len() / 2);
		assert!(matches!(model.decode(&truncated), Err(TaskModelError::BadPayload(_))));
	}

	#[test]
	fn a_payload_names_its_task_and_the_offer_schema_commits_to_it() {
		let hyper = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 60, seed: 7 };
		let of_task_5 = TaskModel::new(5, &fraud_architecture(), Precision::Int8, Metric::Auc, hyper).unwrap();
		let payload = of_task_5.encode(of_task_5.initial(), 0, 0, 0, &TEST_MAKER).unwrap();
		assert_eq!(task_of_payload(&payload), Some(5));
		assert_eq!(task_of_payload(&task_model().encode(task_model().initial(), 0, 0, 0, &TEST_MAKER).unwrap()), Some(0));
		assert_ne!(model_schema(5), model_schema(0));
		// Another model id on the wire (e.g. the simulator's) is no task model.
		let mut rng = ChaCha8Rng::seed_from_u64(0);
		let foreign = of_task_5.initial().to_message([9; 32], 0, 0, WirePrecision::Int8, WIRE_BLOCK, &mut ErrorFeedback::default(), &mut rng);
		assert_eq!(task_of_payload(&wire::encode(&foreign).unwrap()), None);
	}

	#[test]
	fn a_payload_names_its_maker_and_a_copy_claimed_by_another_account_is_told_apart() {
		let model = task_model();
		let (alice, bob) = ([1u8; 32], [2u8; 32]);
		let trained = model.train(model.initial(), &training_shard(1), 1);
		let alices = model.encode(&trained, 1, 1, 1, &maker_of(&alice)).unwrap();
		assert!(made_for(&alices, 0, &alice));
		assert!(!made_for(&alices, 0, &bob), "Bob claiming Alice's payload claims a copy");
		assert!(!made_for(b"not a model", 0, &alice));
		// The same parameters made by Bob are another payload (another hash), and the
		// maker is no part of the model: both score the same.
		let bobs = model.encode(&trained, 1, 1, 1, &maker_of(&bob)).unwrap();
		assert_ne!(payload_hash(&alices), payload_hash(&bobs));
		assert!(made_for(&bobs, 0, &bob));
		let eval = training_shard(9);
		assert_eq!(model.score_payload(&alices, &eval).unwrap(), model.score_payload(&bobs, &eval).unwrap());
		assert_eq!(read_payload(&alices).unwrap().task, 0);
	}

	#[test]
	fn non_classifier_specs_are_unsupported() {
		let hyper = HyperParams { learning_rate_ppm: 1, batch_size: 1, local_steps: 1, seed: 0 };
		let rec = Architecture::Recommender {
			users: 16,
			items: 16,
			user_modes: Modes::truncate_from(vec![4, 4]),
			item_modes: Modes::truncate_from(vec![4, 4]),
			dim_modes: Modes::truncate_from(vec![2, 2]),
			rank: 2,
		};
		assert!(matches!(TaskModel::new(0, &rec, Precision::F32, Metric::Auc, hyper), Err(TaskModelError::Unsupported(_))));
		assert!(matches!(TaskModel::new(0, &fraud_architecture(), Precision::F32, Metric::Rmse, hyper), Err(TaskModelError::Unsupported(_))));
	}
}
