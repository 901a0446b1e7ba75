//! Models from the chain's architecture type: the builder market stores a task's
//! [`loopx_model_spec::Architecture`], and the workers build the model it describes. The chain's
//! own `validate` runs first, so a model is built only from a spec the runtime accepts.

use super::{
	mlp::{LayerSpec, MlpSpec},
	two_tower::TwoTowerSpec,
};
use loopx_model_spec::{Architecture, SpecError};

/// Why an architecture does not give the model asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FromSpecError {
	/// The runtime would refuse it.
	#[error("invalid architecture: {0:?}")]
	Invalid(SpecError),
	/// A recommender, where a classifier was asked for.
	#[error("the architecture is not a classifier")]
	NotClassifier,
	/// A classifier, where a recommender was asked for.
	#[error("the architecture is not a recommender")]
	NotRecommender,
}

fn modes(m: &[u32]) -> Vec<usize> {
	m.iter().map(|&x| x as usize).collect()
}

impl TryFrom<&Architecture> for MlpSpec {
	type Error = FromSpecError;

	fn try_from(a: &Architecture) -> Result<Self, FromSpecError> {
		a.validate().map_err(FromSpecError::Invalid)?;
		match a {
			Architecture::Classifier { layers } => Ok(MlpSpec {
				layers: layers
					.iter()
					.map(|l| LayerSpec { out_modes: modes(&l.out_modes), in_modes: modes(&l.in_modes), rank: l.rank as usize })
					.collect(),
			}),
			Architecture::Recommender { .. } => Err(FromSpecError::NotClassifier),
		}
	}
}

impl TryFrom<&Architecture> for TwoTowerSpec {
	type Error = FromSpecError;

	fn try_from(a: &Architecture) -> Result<Self, FromSpecError> {
		a.validate().map_err(FromSpecError::Invalid)?;
		match a {
			Architecture::Recommender { users, items, user_modes, item_modes, dim_modes, rank } => Ok(TwoTowerSpec {
				users: *users as usize,
				items: *items as usize,
				user_modes: modes(user_modes),
				item_modes: modes(item_modes),
				dim_modes: modes(dim_modes),
				rank: *rank as usize,
			}),
			Architecture::Classifier { .. } => Err(FromSpecError::NotRecommender),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use loopx_model_spec::{Modes, TtLayer};

	fn m(v: &[u32]) -> Modes {
		Modes::truncate_from(v.to_vec())
	}

	/// The chain's form of `MlpSpec::fraud([4, 4], 3)`.
	fn fraud_on_chain() -> Architecture {
		let layers = vec![
			TtLayer { out_modes: m(&[4, 4]), in_modes: m(&[4, 4]), rank: 3 },
			TtLayer { out_modes: m(&[4, 4]), in_modes: m(&[4, 4]), rank: 3 },
			TtLayer { out_modes: m(&[1]), in_modes: m(&[16]), rank: 1 },
		];
		Architecture::Classifier { layers: layers.try_into().unwrap() }
	}

	#[test]
	fn the_chains_classifier_is_the_kernels_fraud_model() {
		let spec = MlpSpec::try_from(&fraud_on_chain()).unwrap();
		assert_eq!(spec, MlpSpec::fraud([4, 4], 3));
		assert_eq!(spec.num_params() as u64, fraud_on_chain().num_params());
		assert_eq!(TwoTowerSpec::try_from(&fraud_on_chain()), Err(FromSpecError::NotRecommender));
	}

	#[test]
	fn recommenders_convert_and_invalid_specs_are_refused() {
		let rec = Architecture::Recommender {
			users: 943,
			items: 1_682,
			user_modes: m(&[8, 12, 10]),
			item_modes: m(&[12, 12, 12]),
			dim_modes: m(&[2, 2, 4]),
			rank: 8,
		};
		let spec = TwoTowerSpec::try_from(&rec).unwrap();
		assert_eq!((spec.users, spec.items, spec.dim(), spec.rank), (943, 1_682, 16, 8));
		assert_eq!(MlpSpec::try_from(&rec), Err(FromSpecError::NotClassifier));
		let bad = Architecture::Classifier { layers: Default::default() };
		assert_eq!(MlpSpec::try_from(&bad), Err(FromSpecError::Invalid(SpecError::NoLayers)));
	}
}
