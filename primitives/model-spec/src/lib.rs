//! What a builder deploys: the architecture of a model, in a bounded, SCALE-encoded form that
//! the builder-market pallet stores and checks and that `loopx-ml-kernels` builds a model from
//! (`MlpSpec::try_from(&Architecture)`, `TwoTowerSpec::try_from(&Architecture)`). Both sides call
//! the same [`Architecture::validate`], so a spec the chain accepts is one the workers can build.
#![cfg_attr(not(feature = "std"), no_std)]

use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Most layers of an MLP.
pub const MAX_LAYERS: u32 = 8;
/// Most TT modes (cores) per layer or table.
pub const MAX_MODES: u32 = 6;
/// Largest single mode.
pub const MAX_MODE: u32 = 4_096;
/// Largest TT rank.
pub const MAX_RANK: u32 = 64;
/// Most parameters a deployed model may have (what a validator trains, sends and evaluates).
pub const MAX_PARAMS: u64 = 16 << 20;
/// Values per quantization block on the wire (one `f32` scale each).
pub const WIRE_BLOCK: u64 = 64;
/// What a model payload holds besides its values, at most: the wire header, the shapes of up to
/// [`MAX_LAYERS`] layers' cores, the payload length and the checksum.
pub const WIRE_OVERHEAD_BYTES: u64 = 2_048;

/// The factorisation of one dimension into TT modes.
pub type Modes = BoundedVec<u32, ConstU32<MAX_MODES>>;

/// One TT-matrix layer: `out_modes` (product = outputs) by `in_modes` (product = inputs), with
/// interior TT rank `rank`. One mode on each side is a dense layer.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct TtLayer {
	/// Factorisation of the output dimension.
	pub out_modes: Modes,
	/// Factorisation of the input dimension (as many modes as `out_modes`).
	pub in_modes: Modes,
	/// Interior TT rank (1 for one-core layers).
	pub rank: u32,
}

/// A model architecture.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Architecture {
	/// A binary classifier (fraud / anomaly): TT layers with ReLU between them, one logit out.
	#[codec(index = 0)]
	Classifier {
		/// The layers in order; each one's inputs are the previous one's outputs.
		layers: BoundedVec<TtLayer, ConstU32<MAX_LAYERS>>,
	},
	/// A two-tower recommender with TT embedding tables (TT-Rec) and a scoring head.
	#[codec(index = 1)]
	Recommender {
		/// Number of users.
		users: u32,
		/// Number of items.
		items: u32,
		/// Factorisation of the user-table rows (product ≥ `users`).
		user_modes: Modes,
		/// Factorisation of the item-table rows (product ≥ `items`).
		item_modes: Modes,
		/// Factorisation of the embedding dimension (as many modes as the row modes).
		dim_modes: Modes,
		/// Interior TT rank of both tables.
		rank: u32,
	},
}

/// Why an architecture is not buildable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SpecError {
	/// A classifier without layers.
	NoLayers,
	/// A layer or table with no modes, or with different numbers of modes on its two sides.
	ModeCountMismatch,
	/// A mode of zero or above [`MAX_MODE`].
	BadMode,
	/// A rank of zero or above [`MAX_RANK`].
	BadRank,
	/// A layer's inputs differ from the previous layer's outputs.
	LayersDoNotChain,
	/// The last layer of a classifier does not have exactly one output.
	NotOneLogit,
	/// The row modes of a table do not cover its users or items.
	TooFewRows,
	/// More than [`MAX_PARAMS`] parameters.
	TooLarge,
}

fn product(modes: &[u32]) -> u64 {
	modes.iter().fold(1u64, |p, &m| p.saturating_mul(m as u64))
}

/// Parameters of a TT tensor with row modes `rows`, column modes `cols` and interior `rank`
/// (pairs of modes beyond the shorter side are ignored: `validate` rejects such shapes).
fn tt_params(rows: &[u32], cols: &[u32], rank: u32) -> u64 {
	let d = rows.len().min(cols.len());
	let r = |k: usize| if k == 0 || k == d { 1u64 } else { rank as u64 };
	rows.iter()
		.zip(cols)
		.enumerate()
		.fold(0u64, |acc, (k, (&m, &n))| acc.saturating_add(r(k).saturating_mul(m as u64).saturating_mul(n as u64).saturating_mul(r(k + 1))))
}

fn check_modes(a: &[u32], b: &[u32], rank: u32) -> Result<(), SpecError> {
	if a.is_empty() || a.len() != b.len() {
		return Err(SpecError::ModeCountMismatch);
	}
	if a.iter().chain(b).any(|&m| m == 0 || m > MAX_MODE) {
		return Err(SpecError::BadMode);
	}
	if rank == 0 || rank > MAX_RANK {
		return Err(SpecError::BadRank);
	}
	Ok(())
}

impl TtLayer {
	/// Output dimension.
	pub fn outputs(&self) -> u64 {
		product(&self.out_modes)
	}

	/// Input dimension.
	pub fn inputs(&self) -> u64 {
		product(&self.in_modes)
	}

	/// Parameters: cores plus bias.
	pub fn num_params(&self) -> u64 {
		tt_params(&self.out_modes, &self.in_modes, self.rank).saturating_add(self.outputs())
	}
}

impl Architecture {
	/// Input features of a classifier (0 for a recommender, whose inputs are ids).
	pub fn inputs(&self) -> u64 {
		match self {
			Self::Classifier { layers } => layers.first().map_or(0, TtLayer::inputs),
			Self::Recommender { .. } => 0,
		}
	}

	/// Number of trainable parameters.
	pub fn num_params(&self) -> u64 {
		match self {
			Self::Classifier { layers } => layers.iter().fold(0u64, |acc, l| acc.saturating_add(l.num_params())),
			Self::Recommender { users, items, user_modes, item_modes, dim_modes, rank } => {
				let dim = product(dim_modes);
				tt_params(user_modes, dim_modes, *rank)
					.saturating_add(tt_params(item_modes, dim_modes, *rank))
					.saturating_add(*users as u64)
					.saturating_add(*items as u64)
					.saturating_add(dim)
					.saturating_add(1)
			},
		}
	}

	/// The most bytes a payload of this model takes on the wire in `precision`: what a validator
	/// fetches, stores and serves for every version.
	pub fn payload_bytes(&self, precision: Precision) -> u64 {
		precision.encoded_bytes(self.num_params()).saturating_add(WIRE_OVERHEAD_BYTES)
	}

	/// Whether a model can be built from this architecture, and why not.
	pub fn validate(&self) -> Result<(), SpecError> {
		match self {
			Self::Classifier { layers } => {
				let last = layers.last().ok_or(SpecError::NoLayers)?;
				for layer in layers.iter() {
					check_modes(&layer.out_modes, &layer.in_modes, layer.rank)?;
				}
				if layers.windows(2).any(|w| w[0].outputs() != w[1].inputs()) {
					return Err(SpecError::LayersDoNotChain);
				}
				if last.outputs() != 1 {
					return Err(SpecError::NotOneLogit);
				}
			},
			Self::Recommender { users, items, user_modes, item_modes, dim_modes, rank } => {
				check_modes(user_modes, dim_modes, *rank)?;
				check_modes(item_modes, dim_modes, *rank)?;
				if product(user_modes) < *users as u64 || product(item_modes) < *items as u64 {
					return Err(SpecError::TooFewRows);
				}
			},
		}
		if self.num_params() > MAX_PARAMS {
			return Err(SpecError::TooLarge);
		}
		Ok(())
	}
}

/// How parameters travel and are stored (the wire format's precision).
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Precision {
	/// 32-bit floats.
	#[codec(index = 0)]
	F32,
	/// 8-bit integers with per-block scales.
	#[codec(index = 1)]
	Int8,
	/// 4-bit integers with per-block scales.
	#[codec(index = 2)]
	Int4,
}

impl Precision {
	/// Bytes that `values` values take in this precision: codes plus one `f32` scale per
	/// [`WIRE_BLOCK`] values (none for `F32`).
	pub fn encoded_bytes(self, values: u64) -> u64 {
		let scales = values.div_ceil(WIRE_BLOCK).saturating_mul(4);
		match self {
			Self::F32 => values.saturating_mul(4),
			Self::Int8 => values.saturating_add(scales),
			Self::Int4 => values.div_ceil(2).saturating_add(scales),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn modes(m: &[u32]) -> Modes {
		Modes::truncate_from(m.to_vec())
	}
	fn layer(out: &[u32], inp: &[u32], rank: u32) -> TtLayer {
		TtLayer { out_modes: modes(out), in_modes: modes(inp), rank }
	}
	fn classifier(layers: Vec<TtLayer>) -> Architecture {
		Architecture::Classifier { layers: BoundedVec::truncate_from(layers) }
	}
	/// LoopX's fraud model: 16 = 4·4 features, two 8·8 hidden TT layers of rank 4, one logit.
	fn fraud() -> Architecture {
		classifier(vec![layer(&[8, 8], &[4, 4], 4), layer(&[8, 8], &[8, 8], 4), layer(&[1], &[64], 1)])
	}

	#[test]
	fn the_fraud_model_is_valid_with_its_parameter_count() {
		let a = fraud();
		assert_eq!(a.validate(), Ok(()));
		assert_eq!(a.inputs(), 16);
		// Layer 1: 8·4·4 + 4·8·4 + 64 bias; layer 2: 8·8·4·2 + 64; layer 3: 64 + 1.
		assert_eq!(a.num_params(), (128 + 128 + 64) + (256 + 256 + 64) + 65);
	}

	#[test]
	fn invalid_architectures_are_rejected_with_their_reason() {
		assert_eq!(classifier(vec![]).validate(), Err(SpecError::NoLayers));
		assert_eq!(classifier(vec![layer(&[1], &[4, 4], 1)]).validate(), Err(SpecError::ModeCountMismatch));
		assert_eq!(classifier(vec![layer(&[1, 0], &[4, 4], 1)]).validate(), Err(SpecError::BadMode));
		assert_eq!(classifier(vec![layer(&[1, 1], &[4, 4], 0)]).validate(), Err(SpecError::BadRank));
		assert_eq!(classifier(vec![layer(&[1, 1], &[4, 4], MAX_RANK + 1)]).validate(), Err(SpecError::BadRank));
		assert_eq!(classifier(vec![layer(&[8], &[16], 1), layer(&[1], &[9], 1)]).validate(), Err(SpecError::LayersDoNotChain));
		assert_eq!(classifier(vec![layer(&[2], &[16], 1)]).validate(), Err(SpecError::NotOneLogit));
		assert_eq!(
			classifier(vec![layer(&[4_096, 4_096], &[4_096, 4_096], 64), layer(&[1, 1], &[4_096, 4_096], 1)]).validate(),
			Err(SpecError::TooLarge)
		);
		let rec = |users| Architecture::Recommender {
			users,
			items: 1_682,
			user_modes: modes(&[10, 10, 10]),
			item_modes: modes(&[12, 12, 12]),
			dim_modes: modes(&[2, 2, 4]),
			rank: 8,
		};
		assert_eq!(rec(943).validate(), Ok(()));
		assert_eq!(rec(1_001).validate(), Err(SpecError::TooFewRows));
	}

	#[test]
	fn parameter_counts_of_invalid_shapes_do_not_panic() {
		let a = classifier(vec![layer(&[2, 2, 2], &[3], 2)]);
		assert_eq!(a.validate(), Err(SpecError::ModeCountMismatch));
		assert_eq!(a.num_params(), 2 * 3 + 8);
	}

	#[test]
	fn a_spec_round_trips_through_scale() {
		let a = fraud();
		assert_eq!(Architecture::decode(&mut &a.encode()[..]), Ok(a));
	}
}
