//! Training steps and deterministic evaluation.
//!
//! A step takes a batch of row indices, so the caller decides the sampling (and its seed). With
//! `keep < 1` the loss is taken over the lowest-loss `keep` share of the batch only — the
//! iterative trimmed loss of [`crate::selection::lowest_loss`], which leaves out samples whose
//! labels the current model finds implausible (flipped or faked ones).

use super::{mlp::Mlp, state::ModelState, two_tower::TwoTower};
use crate::{
	data::{movielens::Ratings, Dataset},
	metrics::{accuracy, auc, log_loss, rmse, MetricError},
	selection::lowest_loss,
};
use burn::{
	module::{AutodiffModule, Module},
	optim::{GradientsParams, Optimizer, SgdConfig},
	tensor::{
		activation::{log_sigmoid, sigmoid},
		backend::{AutodiffBackend, Backend},
		ElementConversion, Tensor, TensorData,
	},
};
use rand::{Rng, RngExt};

/// Rows evaluated per forward pass. Fixed: the evaluation must not depend on the caller.
pub const EVAL_BATCH: usize = 1024;

/// The features of `rows` as a `[rows, dim]` tensor.
pub fn features<B: Backend>(data: &Dataset, rows: &[usize], device: &B::Device) -> Tensor<B, 2> {
	let values: Vec<f32> = rows.iter().flat_map(|&i| data.row(i).iter().copied()).collect();
	Tensor::from_data(TensorData::new(values, [rows.len(), data.dim()]), device)
}

/// The labels of `rows` as 0/1.
pub fn labels<B: Backend>(data: &Dataset, rows: &[usize], device: &B::Device) -> Tensor<B, 1> {
	let values: Vec<f32> = rows.iter().map(|&i| if data.labels[i] { 1.0 } else { 0.0 }).collect();
	Tensor::from_data(TensorData::new(values, [rows.len()]), device)
}

/// Binary cross-entropy of `logits` against 0/1 `targets`, per sample (numerically stable).
pub fn bce_with_logits<B: Backend>(logits: Tensor<B, 1>, targets: Tensor<B, 1>) -> Tensor<B, 1> {
	let positive = targets.clone() * log_sigmoid(logits.clone());
	let negative = (targets.neg() + 1.0) * log_sigmoid(logits.neg());
	(positive + negative).neg()
}

/// Mean of `per_sample` over the lowest `keep` share of it (all of it for `keep ≥ 1`).
fn trimmed_mean<B: AutodiffBackend>(per_sample: Tensor<B, 1>, keep: f64) -> Tensor<B, 1> {
	if keep >= 1.0 {
		return per_sample.mean();
	}
	let values = per_sample.clone().inner().into_data().to_vec::<f32>().unwrap_or_default();
	let kept = lowest_loss(&values, keep);
	let mut mask = vec![0.0f32; values.len()];
	for &i in &kept {
		mask[i] = 1.0;
	}
	let mask = Tensor::from_data(TensorData::new(mask, [values.len()]), &per_sample.device());
	(per_sample * mask).sum() / (kept.len().max(1) as f32)
}

/// One optimizer step of the classifier on `rows` of `data`. Returns the model and the batch's
/// (trimmed) loss.
pub fn classifier_step<B: AutodiffBackend, O: Optimizer<Mlp<B>, B>>(
	model: Mlp<B>,
	optim: &mut O,
	data: &Dataset,
	rows: &[usize],
	lr: f64,
	keep: f64,
) -> (Mlp<B>, f64) {
	let device = model.devices().into_iter().next().unwrap_or_default();
	let logits = model.forward(features(data, rows, &device));
	let loss = trimmed_mean(bce_with_logits(logits, labels(data, rows, &device)), keep);
	let value = loss.clone().inner().into_scalar().elem::<f64>();
	let grads = GradientsParams::from_grads(loss.backward(), &model);
	(optim.step(lr, model, grads), value)
}

/// The local update of gossip learning: `steps` plain-SGD steps of the classifier from `state`
/// on batches of `batch` rows drawn uniformly (with replacement) from `data` by `rng`. Empty
/// data leaves the state as it is.
#[allow(clippy::too_many_arguments)] // each is one knob of the wire format / of SGD, named at every call
pub fn local_sgd<B: AutodiffBackend>(
	state: &ModelState,
	data: &Dataset,
	steps: usize,
	batch: usize,
	lr: f64,
	keep: f64,
	rng: &mut impl Rng,
	device: &B::Device,
) -> ModelState {
	if data.is_empty() {
		return state.clone();
	}
	let mut model = Mlp::<B>::from_state(state, device);
	let mut optim = SgdConfig::new().init::<B, Mlp<B>>();
	for _ in 0..steps {
		let rows: Vec<usize> = (0..batch).map(|_| rng.random_range(0..data.len())).collect();
		model = classifier_step(model, &mut optim, data, &rows, lr, keep).0;
	}
	model.state()
}

/// Fraud probabilities of every row of `data`, in row order, in batches of [`EVAL_BATCH`].
pub fn predict<B: Backend>(model: &Mlp<B>, data: &Dataset, device: &B::Device) -> Vec<f32> {
	let mut out = Vec::with_capacity(data.len());
	let rows: Vec<usize> = (0..data.len()).collect();
	for chunk in rows.chunks(EVAL_BATCH) {
		let p = sigmoid(model.forward(features(data, chunk, device)));
		out.extend(p.into_data().to_vec::<f32>().unwrap_or_default());
	}
	out
}

/// A classifier's evaluation on a labelled set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassifierMetrics {
	/// Area under the ROC curve.
	pub auc: f64,
	/// Accuracy at threshold ½.
	pub accuracy: f64,
	/// Mean log-loss.
	pub log_loss: f64,
}

/// `evaluate(model, eval_set)`: the same bits for the same model and set on this platform
/// (fixed batches, fixed reduction order in [`crate::metrics`]).
pub fn evaluate<B: Backend>(model: &Mlp<B>, data: &Dataset, device: &B::Device) -> Result<ClassifierMetrics, MetricError> {
	let p = predict(model, data, device);
	Ok(ClassifierMetrics { auc: auc(&p, &data.labels)?, accuracy: accuracy(&p, &data.labels)?, log_loss: log_loss(&p, &data.labels)? })
}

/// The autodiff model's evaluation (on its inner backend).
pub fn evaluate_trained<B: AutodiffBackend>(model: &Mlp<B>, data: &Dataset) -> Result<ClassifierMetrics, MetricError> {
	let inner = model.valid();
	let device = inner.devices().into_iter().next().unwrap_or_default();
	evaluate(&inner, data, &device)
}

/// One optimizer step of the recommender on ratings `rows`: squared error plus `l2` times the
/// squared norms of the looked-up embeddings (the usual per-sample MF regularisation).
pub fn recommender_step<B: AutodiffBackend, O: Optimizer<TwoTower<B>, B>>(
	model: TwoTower<B>,
	optim: &mut O,
	ratings: &Ratings,
	rows: &[usize],
	lr: f64,
	l2: f64,
) -> (TwoTower<B>, f64) {
	let device = model.devices().into_iter().next().unwrap_or_default();
	let users: Vec<u32> = rows.iter().map(|&i| ratings.user[i]).collect();
	let items: Vec<u32> = rows.iter().map(|&i| ratings.item[i]).collect();
	let target: Vec<f32> = rows.iter().map(|&i| ratings.rating[i]).collect();
	let (prediction, penalty) = model.forward_with_penalty(&users, &items, &device);
	let target = Tensor::<B, 1>::from_data(TensorData::new(target, [rows.len()]), &device);
	let err = prediction - target;
	let mse = (err.clone() * err).mean();
	let value = mse.clone().inner().into_scalar().elem::<f64>();
	let loss = mse + penalty * l2;
	let grads = GradientsParams::from_grads(loss.backward(), &model);
	(optim.step(lr, model, grads), value)
}

/// RMSE (predictions clamped to the 1–5 scale) of the recommender on every rating of `ratings`, in batches of [`EVAL_BATCH`].
pub fn evaluate_recommender<B: Backend>(model: &TwoTower<B>, ratings: &Ratings, device: &B::Device) -> Result<f64, MetricError> {
	let mut predictions = Vec::with_capacity(ratings.len());
	for start in (0..ratings.len()).step_by(EVAL_BATCH) {
		let end = (start + EVAL_BATCH).min(ratings.len());
		let p = model.forward(&ratings.user[start..end], &ratings.item[start..end], device);
		predictions.extend(p.into_data().to_vec::<f32>().unwrap_or_default().into_iter().map(|v| v.clamp(1.0, 5.0)));
	}
	rmse(&predictions, &ratings.rating)
}
