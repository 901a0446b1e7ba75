//! Age-weighted gossip merge (Ormándi, Hegedűs & Jelasity 2013): a model of age `t₁` meeting
//! one of age `t₂` becomes `(t₁w₁ + t₂w₂)/(t₁ + t₂)` with age `max(t₁, t₂)`.
//!
//! ## Merging TT models soundly
//!
//! A TT matrix is multilinear in its cores, so averaging two models core by core is **not** the
//! average of the matrices: `½(A₁+B₁)·½(A₂+B₂) ≠ ½(A₁A₂ + B₁B₂)` — the cross terms `A₁B₂`, `B₁A₂`
//! appear, and two models trained from different starts (or just in different gauges: `G₁X`,
//! `X⁻¹G₂` give the same matrix) average to something neither of them is.
//!
//! [`merge_tt`] instead forms the exact weighted sum `αA + βB` in TT form (block cores, ranks
//! `r_A + r_B`, see [`tt_add`]) and TT-rounds it back to the model's rank cap ([`tt_round`]).
//! That is the average of the two matrices, re-compressed with the quasi-optimal TT-SVD error
//! bound, without ever forming the dense matrix (cost `O(d·m·n·r³)`, fine for the 10⁶-row
//! embeddings). [`merge_dense`] does the same through the dense matrix and TT-SVD (for small
//! layers and for comparison); [`core_average`] is the unsound core-wise average, kept only to
//! measure how wrong it is (see the tests and `BENCHMARKS.md`).

use crate::tt::{tt_add, tt_round, tt_svd, TtError, TtMatrix};

/// Weights `(α, β)` of two models of ages `t₁`, `t₂` (equal if both are 0).
pub fn age_weights(t1: u64, t2: u64) -> (f64, f64) {
	let total = t1 as f64 + t2 as f64;
	if total == 0.0 {
		(0.5, 0.5)
	} else {
		(t1 as f64 / total, t2 as f64 / total)
	}
}

/// Age-weighted average of two plain parameter vectors of equal length; `None` if they differ.
pub fn merge_vectors(a: &[f32], t1: u64, b: &[f32], t2: u64) -> Option<(Vec<f32>, u64)> {
	if a.len() != b.len() {
		return None;
	}
	let (alpha, beta) = age_weights(t1, t2);
	let merged = a.iter().zip(b).map(|(x, y)| (alpha * f64::from(*x) + beta * f64::from(*y)) as f32).collect();
	Some((merged, t1.max(t2)))
}

/// Age-weighted average of two TT matrices, TT-rounded to ranks ≤ `max_rank` within relative
/// error `eps` (see the module docs).
pub fn merge_tt(a: &TtMatrix, t1: u64, b: &TtMatrix, t2: u64, max_rank: usize, eps: f64) -> Result<(TtMatrix, u64), TtError> {
	let (alpha, beta) = age_weights(t1, t2);
	let sum = tt_add(a, alpha as f32, b, beta as f32)?;
	Ok((tt_round(&sum, max_rank, eps)?, t1.max(t2)))
}

/// The same average through the dense matrices and TT-SVD.
pub fn merge_dense(a: &TtMatrix, t1: u64, b: &TtMatrix, t2: u64, max_rank: usize, eps: f64) -> Result<(TtMatrix, u64), TtError> {
	if a.row_modes() != b.row_modes() || a.col_modes() != b.col_modes() {
		return Err(TtError::DifferentModes);
	}
	let (alpha, beta) = age_weights(t1, t2);
	let dense = a.to_dense() * alpha as f32 + b.to_dense() * beta as f32;
	Ok((tt_svd(&dense, &a.row_modes(), &a.col_modes(), max_rank, eps)?, t1.max(t2)))
}

/// Core-by-core average — **unsound** for TT models (see the module docs); for comparison only.
pub fn core_average(a: &TtMatrix, t1: u64, b: &TtMatrix, t2: u64) -> Result<TtMatrix, TtError> {
	if a.ranks() != b.ranks() || a.row_modes() != b.row_modes() || a.col_modes() != b.col_modes() {
		return Err(TtError::DifferentModes);
	}
	let (alpha, beta) = age_weights(t1, t2);
	TtMatrix::from_cores(a.cores().iter().zip(b.cores()).map(|(x, y)| x * alpha as f32 + y * beta as f32).collect())
}

#[cfg(test)]
mod tests {
	use super::*;
	use ndarray::{Array2, Array4};
	use rand::{RngExt, SeedableRng};
	use rand_chacha::ChaCha8Rng;

	fn random_tt(seed: u64, ranks: &[usize]) -> TtMatrix {
		let mut rng = ChaCha8Rng::seed_from_u64(seed);
		let (rows, cols) = ([4, 3, 4], [2, 4, 2]);
		TtMatrix::from_cores(
			(0..3).map(|k| Array4::from_shape_fn((ranks[k], rows[k], cols[k], ranks[k + 1]), |_| rng.random_range(-1.0f32..1.0))).collect(),
		)
		.unwrap()
	}

	fn rel_err(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
		let num: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
		let den: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
		(num / den).sqrt()
	}

	#[test]
	fn age_weighted_vectors_known_answer() {
		let (m, age) = merge_vectors(&[1.0, 2.0], 1, &[4.0, 8.0], 3).unwrap();
		assert_eq!(m, vec![3.25, 6.5]);
		assert_eq!(age, 3);
		assert_eq!(merge_vectors(&[1.0], 0, &[3.0], 0).unwrap().0, vec![2.0]);
		assert_eq!(merge_vectors(&[1.0], 0, &[3.0, 1.0], 0), None);
	}

	#[test]
	fn tt_merge_is_the_average_of_the_matrices() {
		let (a, b) = (random_tt(1, &[1, 2, 3, 1]), random_tt(2, &[1, 2, 3, 1]));
		let want = a.to_dense() * 0.25 + b.to_dense() * 0.75;
		// With room for the summed ranks the merge is exact.
		let (m, age) = merge_tt(&a, 2, &b, 6, 16, 1e-7).unwrap();
		assert_eq!(age, 6);
		assert!(rel_err(&m.to_dense(), &want) < 1e-5);
		let (d, _) = merge_dense(&a, 2, &b, 6, 16, 1e-7).unwrap();
		assert!(rel_err(&d.to_dense(), &want) < 1e-5);
	}

	#[test]
	fn tt_merge_at_the_model_rank_is_as_good_as_the_dense_route() {
		let (a, b) = (random_tt(3, &[1, 3, 3, 1]), random_tt(4, &[1, 3, 3, 1]));
		let want = (a.to_dense() + b.to_dense()) * 0.5;
		let (m, _) = merge_tt(&a, 1, &b, 1, 3, 0.0).unwrap();
		let (d, _) = merge_dense(&a, 1, &b, 1, 3, 0.0).unwrap();
		assert!(m.ranks().iter().all(|&r| r <= 3));
		let (em, ed) = (rel_err(&m.to_dense(), &want), rel_err(&d.to_dense(), &want));
		// Both are TT-SVD truncations of the same matrix (up to rounding).
		assert!((em - ed).abs() < 1e-3, "tt route {em}, dense route {ed}");
	}

	#[test]
	fn core_averaging_is_not_the_average_even_for_one_matrix_in_two_gauges() {
		// B is A in another gauge: the same matrix, different cores.
		let a = random_tt(5, &[1, 2, 2, 1]);
		let mut cores = a.cores().to_vec();
		let x = ndarray::arr2(&[[2.0f32, 1.0], [0.0, 0.5]]);
		let x_inv = ndarray::arr2(&[[0.5f32, -1.0], [0.0, 2.0]]);
		let (r0, m, n, r1) = cores[0].dim();
		let g0 = cores[0].clone().into_shape_with_order((r0 * m * n, r1)).unwrap().dot(&x);
		cores[0] = g0.into_shape_with_order((r0, m, n, r1)).unwrap();
		let (r0, m, n, r1) = cores[1].dim();
		let g1 = x_inv.dot(&cores[1].clone().into_shape_with_order((r0, m * n * r1)).unwrap());
		cores[1] = g1.into_shape_with_order((r0, m, n, r1)).unwrap();
		let b = TtMatrix::from_cores(cores).unwrap();
		assert!(rel_err(&b.to_dense(), &a.to_dense()) < 1e-5, "same matrix");
		let wrong = core_average(&a, 1, &b, 1).unwrap();
		assert!(rel_err(&wrong.to_dense(), &a.to_dense()) > 0.05, "core averaging changes the model");
		let (right, _) = merge_tt(&a, 1, &b, 1, 2, 0.0).unwrap();
		assert!(rel_err(&right.to_dense(), &a.to_dense()) < 1e-4, "the sound merge keeps it");
	}
}
