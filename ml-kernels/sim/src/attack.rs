//! What a Byzantine peer sends instead of its model.

use crate::config::AttackKind;
use loopx_ml_kernels::{
	layers::random_tt,
	models::state::{LayerState, ModelState},
	tt::TtMatrix,
};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

fn scaled(tt: &TtMatrix, factor: f32) -> TtMatrix {
	let mut cores = tt.cores().to_vec();
	if let Some(first) = cores.first_mut() {
		first.mapv_inplace(|v| v * factor);
	}
	TtMatrix::from_cores(cores).unwrap_or_else(|_| tt.clone())
}

/// The poisoned model a Byzantine peer sends, built from a model of the right shape.
pub fn forge(model: &ModelState, attack: AttackKind, scale: f32, rng: &mut ChaCha8Rng) -> ModelState {
	let layers = model
		.layers
		.iter()
		.map(|l| match attack {
			AttackKind::SignFlip => LayerState { weight: scaled(&l.weight, -scale), bias: l.bias.iter().map(|b| -scale * b).collect() },
			AttackKind::Scaling => LayerState { weight: scaled(&l.weight, scale), bias: l.bias.iter().map(|b| scale * b).collect() },
			AttackKind::Random => {
				let rank = l.weight.ranks().into_iter().max().unwrap_or(1);
				let seed: u64 = rng.random();
				LayerState {
					weight: random_tt(&l.weight.row_modes(), &l.weight.col_modes(), rank, 1.0, seed),
					bias: l.bias.iter().map(|_| rng.random_range(-1.0f32..1.0)).collect(),
				}
			},
		})
		.collect();
	ModelState { layers }
}
