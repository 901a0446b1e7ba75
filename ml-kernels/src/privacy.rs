//! Differential privacy for released updates: clip, add Gaussian noise, account for (ε, δ).
//!
//! Each round a node releases `clip(u, C) + N(0, σ²C²·I)`. Under the add/remove neighbouring
//! relation (the node's local contribution present or absent) the clipped update has L2
//! sensitivity `C`, which is what the accountant assumes. The Gaussian mechanism with noise multiplier `σ` has Rényi-DP `α/(2σ²)` at every
//! order `α > 1` (Mironov 2017); `T` releases compose to `Tα/(2σ²)`, and converting gives
//! `ε = min_α Tα/(2σ²) + ln(1/δ)/(α−1) = T/(2σ²) + 2·√(T·ln(1/δ)/(2σ²))` at
//! `α* = 1 + √(2σ²·ln(1/δ)/T)`. No subsampling amplification is claimed, so the figure is an
//! upper bound.

use crate::robust::clip_norm;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Clipping bound and noise multiplier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianMechanism {
	/// L2 bound `C` on each released update.
	pub clip: f32,
	/// Noise standard deviation as a multiple `σ` of `C`.
	pub noise_multiplier: f64,
}

impl GaussianMechanism {
	/// The update, clipped to `C` and noised with `N(0, (σC)²)` per coordinate.
	pub fn privatize(&self, update: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
		let std = self.noise_multiplier * f64::from(self.clip);
		let clipped = clip_norm(update, self.clip);
		match Normal::new(0.0, std) {
			Ok(noise) if std > 0.0 => clipped.iter().map(|&x| (f64::from(x) + noise.sample(rng)) as f32).collect(),
			_ => clipped,
		}
	}

	/// The (ε, δ) spent by `releases` releases (see the module docs); infinite without noise.
	pub fn epsilon(&self, releases: u64, delta: f64) -> f64 {
		if self.noise_multiplier <= 0.0 || !(0.0..1.0).contains(&delta) || delta == 0.0 {
			return f64::INFINITY;
		}
		let a = releases as f64 / (2.0 * self.noise_multiplier * self.noise_multiplier);
		let b = (1.0 / delta).ln();
		a + 2.0 * (a * b).sqrt()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use rand::SeedableRng;

	#[test]
	fn epsilon_matches_the_minimum_over_orders() {
		let m = GaussianMechanism { clip: 1.0, noise_multiplier: 1.1 };
		for (t, delta) in [(1u64, 1e-5), (100, 1e-5), (1000, 1e-6)] {
			let closed = m.epsilon(t, delta);
			let grid = (1..200_000)
				.map(|i| 1.0 + i as f64 * 1e-3)
				.map(|alpha| t as f64 * alpha / (2.0 * 1.21) + (1.0 / delta).ln() / (alpha - 1.0))
				.fold(f64::INFINITY, f64::min);
			assert!((closed - grid).abs() / grid < 1e-3, "T={t}: {closed} vs {grid}");
		}
		let one = GaussianMechanism { clip: 1.0, noise_multiplier: 1.0 }.epsilon(1, 1e-5);
		assert!((one - (0.5 + 2.0 * (0.5 * (1e5f64).ln()).sqrt())).abs() < 1e-12);
		assert_eq!(GaussianMechanism { clip: 1.0, noise_multiplier: 0.0 }.epsilon(1, 1e-5), f64::INFINITY);
	}

	#[test]
	fn privatize_clips_then_adds_noise_of_the_stated_scale() {
		let m = GaussianMechanism { clip: 1.0, noise_multiplier: 0.5 };
		let mut rng = ChaCha8Rng::seed_from_u64(3);
		let update = vec![30.0f32, 40.0]; // norm 50 → clipped to (0.6, 0.8)
		let n = 20_000;
		let (mut sum, mut sq) = ([0.0f64; 2], [0.0f64; 2]);
		for _ in 0..n {
			let y = m.privatize(&update, &mut rng);
			for c in 0..2 {
				sum[c] += f64::from(y[c]);
				sq[c] += f64::from(y[c]).powi(2);
			}
		}
		for (c, want) in [0.6, 0.8].iter().enumerate() {
			let mean = sum[c] / n as f64;
			let std = (sq[c] / n as f64 - mean * mean).sqrt();
			assert!((mean - want).abs() < 0.02, "mean {mean}");
			assert!((std - 0.5).abs() < 0.02, "std {std}");
		}
		let quiet = GaussianMechanism { clip: 1.0, noise_multiplier: 0.0 };
		assert_eq!(quiet.privatize(&update, &mut rng), vec![0.6, 0.8]);
	}
}
