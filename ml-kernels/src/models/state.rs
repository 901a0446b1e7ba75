//! A model's parameters outside burn — what peers exchange and merge.
//!
//! A model is a list of layers, each a weight in TT form plus a bias vector (an embedding table
//! has an empty bias). On the wire the tensors are, in order, each layer's cores (4-D shapes)
//! followed by its bias (a 1-D shape), so the layer structure is recoverable from the shapes.

use crate::{
	merge::{merge_tt, merge_vectors},
	quant::{dequantize, ErrorFeedback, Precision},
	robust::{AggregationError, Aggregator},
	tt::{tt_svd, TtError, TtMatrix},
	wire::{Message, Partition},
};
use ndarray::{Array2, Array4};
use rand_chacha::ChaCha8Rng;

/// Why a model state could not be built, merged or aggregated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
	/// The message's shapes are not this model's.
	#[error("the message's tensor shapes do not match the model's")]
	ShapeMismatch,
	/// The message carries a partition, not the whole model.
	#[error("partition {index} of {count}: a whole model is needed")]
	Partial {
		/// Its index.
		index: u16,
		/// Number of partitions.
		count: u16,
	},
	/// Two models have different architectures.
	#[error("the models have different architectures")]
	DifferentArchitectures,
	/// A TT operation failed.
	#[error(transparent)]
	Tt(#[from] TtError),
	/// The aggregation rule refused the inputs.
	#[error(transparent)]
	Aggregation(#[from] AggregationError),
}

/// One layer's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerState {
	/// The weight (rows = outputs), in TT form.
	pub weight: TtMatrix,
	/// The bias (empty for embedding tables).
	pub bias: Vec<f32>,
}

/// A model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelState {
	/// The layers, in order.
	pub layers: Vec<LayerState>,
}

impl ModelState {
	/// Number of parameters.
	pub fn num_params(&self) -> usize {
		self.layers.iter().map(|l| l.weight.num_params() + l.bias.len()).sum()
	}

	/// The tensor shapes in wire order (each layer's cores, then its bias).
	pub fn shapes(&self) -> Vec<Vec<u32>> {
		let mut shapes = Vec::new();
		for layer in &self.layers {
			for core in layer.weight.cores() {
				let (a, b, c, d) = core.dim();
				shapes.push([a, b, c, d].iter().map(|&x| x as u32).collect());
			}
			shapes.push(vec![layer.bias.len() as u32]);
		}
		shapes
	}

	/// All parameters, flattened in wire order.
	pub fn flatten(&self) -> Vec<f32> {
		let mut values = Vec::with_capacity(self.num_params());
		for layer in &self.layers {
			for core in layer.weight.cores() {
				values.extend(core.iter());
			}
			values.extend(&layer.bias);
		}
		values
	}

	/// The state with `shapes` (wire order) and flattened `values`.
	pub fn from_parts(shapes: &[Vec<u32>], values: &[f32]) -> Result<Self, StateError> {
		let mut layers = Vec::new();
		let mut cores = Vec::new();
		let mut at = 0usize;
		for shape in shapes {
			let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
			let len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or(StateError::ShapeMismatch)?;
			let end = at.checked_add(len).ok_or(StateError::ShapeMismatch)?;
			let chunk = values.get(at..end).ok_or(StateError::ShapeMismatch)?;
			at = end;
			match dims[..] {
				[a, b, c, d] => cores.push(Array4::from_shape_vec((a, b, c, d), chunk.to_vec()).map_err(|_| StateError::ShapeMismatch)?),
				[_] => {
					let weight = TtMatrix::from_cores(std::mem::take(&mut cores))?;
					layers.push(LayerState { weight, bias: chunk.to_vec() });
				},
				_ => return Err(StateError::ShapeMismatch),
			}
		}
		if !cores.is_empty() || at != values.len() {
			return Err(StateError::ShapeMismatch);
		}
		Ok(Self { layers })
	}

	/// The whole model as a wire message of `age`, quantized at `precision` in blocks of `block`
	/// through the sender's error-feedback memory `feedback`.
	#[allow(clippy::too_many_arguments)] // each is one knob of the wire format / of SGD, named at every call
	pub fn to_message(
		&self,
		model_id: [u8; 32],
		version: u64,
		age: u64,
		precision: Precision,
		block: usize,
		feedback: &mut ErrorFeedback,
		rng: &mut ChaCha8Rng,
	) -> Message {
		Message {
			model_id,
			model_version: version,
			shapes: self.shapes(),
			partition: Partition::whole(age),
			values: feedback.compress(&self.flatten(), precision, block, rng),
		}
	}

	/// The model a received (decoded) message carries, checked against this model's
	/// architecture: same layers, modes and bias lengths. The TT ranks may differ (a peer's
	/// rounding may have kept fewer); merging handles any ranks.
	pub fn from_message(&self, msg: &Message) -> Result<ModelState, StateError> {
		if msg.partition.count != 1 {
			return Err(StateError::Partial { index: msg.partition.index, count: msg.partition.count });
		}
		let theirs = Self::from_parts(&msg.shapes, &dequantize(&msg.values))?;
		if !self.same_architecture(&theirs) {
			return Err(StateError::DifferentArchitectures);
		}
		Ok(theirs)
	}

	fn same_architecture(&self, other: &ModelState) -> bool {
		self.layers.len() == other.layers.len()
			&& self.layers.iter().zip(&other.layers).all(|(a, b)| {
				a.weight.row_modes() == b.weight.row_modes() && a.weight.col_modes() == b.weight.col_modes() && a.bias.len() == b.bias.len()
			})
	}

	/// The largest interior rank of each layer (the rank cap merges keep).
	pub fn rank_caps(&self) -> Vec<usize> {
		self.layers.iter().map(|l| l.weight.ranks().into_iter().max().unwrap_or(1)).collect()
	}

	/// Each layer as a dense matrix, flattened, then every bias: the space robust aggregation
	/// works in (TT cores are only defined up to a gauge, see [`crate::merge`]).
	pub fn dense_flatten(&self) -> Vec<f32> {
		let mut out = Vec::new();
		for layer in &self.layers {
			out.extend(layer.weight.to_dense().iter());
			out.extend(&layer.bias);
		}
		out
	}
}

/// Age-weighted gossip merge of two models (Algorithm 1): every weight by [`merge_tt`] at the
/// ranks of `a`, every bias averaged. Returns the merged model and its age.
pub fn merge_pair(a: &ModelState, t1: u64, b: &ModelState, t2: u64) -> Result<(ModelState, u64), StateError> {
	if !a.same_architecture(b) {
		return Err(StateError::DifferentArchitectures);
	}
	let caps = a.rank_caps();
	let mut layers = Vec::with_capacity(a.layers.len());
	for ((la, lb), cap) in a.layers.iter().zip(&b.layers).zip(caps) {
		let (weight, _) = merge_tt(&la.weight, t1, &lb.weight, t2, cap, 0.0)?;
		let (bias, _) = merge_vectors(&la.bias, t1, &lb.bias, t2).ok_or(StateError::DifferentArchitectures)?;
		layers.push(LayerState { weight, bias });
	}
	Ok((ModelState { layers }, t1.max(t2)))
}

/// Robust aggregation of several models with `rule`, in the dense space (one vector per model,
/// so distance-based rules such as Multi-Krum see whole models), then each weight TT-SVD'd back
/// to the ranks of `models[0]`.
pub fn aggregate(models: &[&ModelState], rule: &Aggregator) -> Result<ModelState, StateError> {
	let first = models.first().ok_or(AggregationError::Empty)?;
	if models.iter().any(|m| !first.same_architecture(m)) {
		return Err(StateError::DifferentArchitectures);
	}
	let flats: Vec<Vec<f32>> = models.iter().map(|m| m.dense_flatten()).collect();
	let refs: Vec<&[f32]> = flats.iter().map(Vec::as_slice).collect();
	let merged = rule.aggregate(&refs)?;
	let mut at = 0;
	let mut layers = Vec::with_capacity(first.layers.len());
	for (layer, cap) in first.layers.iter().zip(first.rank_caps()) {
		let (rows, cols) = layer.weight.shape();
		let mut take = |len: usize| {
			let chunk = merged.get(at..at + len).map(<[f32]>::to_vec).ok_or(StateError::ShapeMismatch);
			at += len;
			chunk
		};
		let dense = Array2::from_shape_vec((rows, cols), take(rows * cols)?).map_err(|_| StateError::ShapeMismatch)?;
		let weight = tt_svd(&dense, &layer.weight.row_modes(), &layer.weight.col_modes(), cap, 0.0)?;
		let bias = take(layer.bias.len())?;
		layers.push(LayerState { weight, bias });
	}
	Ok(ModelState { layers })
}

/// Bytes of the same model sent densely in f32 (the B2 baseline): every weight as a dense
/// matrix plus every bias, four bytes each.
pub fn dense_f32_bytes(state: &ModelState) -> usize {
	state.layers.iter().map(|l| 4 * (l.weight.shape().0 * l.weight.shape().1 + l.bias.len())).sum()
}
