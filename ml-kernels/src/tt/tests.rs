use super::*;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_cores(seed: u64, rows: &[usize], cols: &[usize], ranks: &[usize]) -> TtMatrix {
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	let cores =
		(0..rows.len()).map(|k| Array4::from_shape_fn((ranks[k], rows[k], cols[k], ranks[k + 1]), |_| rng.random_range(-1.0f32..1.0))).collect();
	TtMatrix::from_cores(cores).unwrap()
}

fn frob(a: &Array2<f32>) -> f64 {
	a.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt()
}

fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
	a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn dense_matches_the_product_of_cores_entry_by_entry() {
	let tt = random_cores(1, &[2, 3, 2], &[3, 2, 2], &[1, 2, 3, 1]);
	let dense = tt.to_dense();
	assert_eq!(dense.dim(), (12, 12));
	let (rm, cm) = (tt.row_modes(), tt.col_modes());
	for i in 0..12 {
		for j in 0..12 {
			let (di, dj) = (mixed_radix(i, &rm), mixed_radix(j, &cm));
			let mut v = Array2::<f64>::ones((1, 1));
			for (k, core) in tt.cores().iter().enumerate() {
				let slice = core.slice(ndarray::s![.., di[k], dj[k], ..]).mapv(f64::from);
				v = v.dot(&slice);
			}
			assert!((v[[0, 0]] as f32 - dense[[i, j]]).abs() < 1e-5, "({i},{j})");
		}
	}
}

#[test]
fn row_lookup_equals_the_dense_row() {
	let tt = random_cores(2, &[4, 5, 3], &[2, 2, 4], &[1, 3, 2, 1]);
	let dense = tt.to_dense();
	for i in [0, 1, 17, 59] {
		let row = tt.row(i).unwrap();
		for (j, v) in row.iter().enumerate() {
			assert!((v - dense[[i, j]]).abs() < 1e-5);
		}
	}
	assert_eq!(tt.row(60), None);
}

#[test]
fn tt_svd_at_full_rank_is_exact() {
	let mut rng = ChaCha8Rng::seed_from_u64(3);
	let dense = Array2::from_shape_fn((12, 8), |_| rng.random_range(-1.0f32..1.0));
	let tt = tt_svd(&dense, &[3, 4], &[2, 4], usize::MAX, 0.0).unwrap();
	assert!(max_abs_diff(&tt.to_dense(), &dense) < 1e-5);
}

#[test]
fn tt_svd_recovers_a_low_rank_tt_matrix_with_its_ranks() {
	let tt = random_cores(4, &[4, 4, 4], &[2, 2, 2], &[1, 2, 2, 1]);
	let dense = tt.to_dense();
	let back = tt_svd(&dense, &[4, 4, 4], &[2, 2, 2], 8, 1e-6).unwrap();
	assert_eq!(back.ranks(), vec![1, 2, 2, 1]);
	assert!(max_abs_diff(&back.to_dense(), &dense) < 1e-4);
}

#[test]
fn tt_svd_respects_the_error_bound_and_the_rank_cap() {
	let mut rng = ChaCha8Rng::seed_from_u64(5);
	let dense = Array2::from_shape_fn((27, 8), |_| rng.random_range(-1.0f32..1.0));
	for eps in [0.05, 0.2, 0.5] {
		let tt = tt_svd(&dense, &[3, 3, 3], &[2, 2, 2], usize::MAX, eps).unwrap();
		let err = frob(&(&tt.to_dense() - &dense)) / frob(&dense);
		assert!(err <= eps + 1e-6, "eps {eps}: error {err}");
	}
	let capped = tt_svd(&dense, &[3, 3, 3], &[2, 2, 2], 2, 0.0).unwrap();
	assert!(capped.ranks().iter().all(|&r| r <= 2));
	assert!(capped.num_params() < 27 * 8);
}

#[test]
fn tt_svd_rejects_modes_that_do_not_fit() {
	let dense = Array2::<f32>::zeros((6, 4));
	assert_eq!(tt_svd(&dense, &[2, 2], &[2, 2], 4, 0.0), Err(TtError::ModesMismatch { modes: (4, 4), matrix: (6, 4) }));
	assert_eq!(tt_svd(&dense, &[], &[], 4, 0.0), Err(TtError::NoCores));
	assert_eq!(tt_svd(&dense, &[6, 1], &[4, 0], 4, 0.0), Err(TtError::EmptyMode));
}

#[test]
fn from_cores_checks_the_rank_chain() {
	let a = Array4::<f32>::zeros((1, 2, 2, 3));
	let b = Array4::<f32>::zeros((2, 2, 2, 1));
	assert_eq!(TtMatrix::from_cores(vec![a.clone(), b]), Err(TtError::RankMismatch { core: 1, left: 3, right: 2 }));
	assert_eq!(TtMatrix::from_cores(vec![a]), Err(TtError::BoundaryRank { rank: 3 }));
	assert_eq!(TtMatrix::from_cores(vec![]), Err(TtError::NoCores));
}

#[test]
fn tt_add_is_the_weighted_sum_of_the_dense_matrices() {
	let a = random_cores(6, &[2, 3, 2], &[2, 2, 3], &[1, 2, 2, 1]);
	let b = random_cores(7, &[2, 3, 2], &[2, 2, 3], &[1, 3, 2, 1]);
	let sum = tt_add(&a, 0.25, &b, 0.75).unwrap();
	assert_eq!(sum.ranks(), vec![1, 5, 4, 1]);
	let want = a.to_dense() * 0.25 + b.to_dense() * 0.75;
	assert!(max_abs_diff(&sum.to_dense(), &want) < 1e-5);
	let other = random_cores(8, &[3, 2, 2], &[2, 2, 3], &[1, 2, 2, 1]);
	assert_eq!(tt_add(&a, 1.0, &other, 1.0), Err(TtError::DifferentModes));
}

#[test]
fn tt_round_removes_redundant_rank_without_changing_the_matrix() {
	let a = random_cores(9, &[3, 2, 4], &[2, 3, 2], &[1, 2, 3, 1]);
	// a + a has ranks 4, 6 but is 2·a, of ranks 2, 3.
	let doubled = tt_add(&a, 1.0, &a, 1.0).unwrap();
	let rounded = tt_round(&doubled, usize::MAX, 1e-6).unwrap();
	assert_eq!(rounded.ranks(), vec![1, 2, 3, 1]);
	assert!(max_abs_diff(&rounded.to_dense(), &(a.to_dense() * 2.0)) < 1e-4);
}

#[test]
fn tt_round_respects_the_error_bound() {
	let a = random_cores(10, &[3, 3, 3], &[3, 3, 3], &[1, 6, 6, 1]);
	let dense = a.to_dense();
	for eps in [0.1, 0.3] {
		let r = tt_round(&a, usize::MAX, eps).unwrap();
		let err = frob(&(&r.to_dense() - &dense)) / frob(&dense);
		assert!(err <= eps + 1e-6, "eps {eps}: error {err}");
	}
	let capped = tt_round(&a, 2, 0.0).unwrap();
	assert_eq!(capped.ranks(), vec![1, 2, 2, 1]);
}

#[test]
fn parameter_counts_and_shapes() {
	let tt = random_cores(11, &[10, 10, 10], &[2, 2, 4], &[1, 4, 4, 1]);
	assert_eq!(tt.shape(), (1000, 16));
	assert_eq!(tt.num_params(), 10 * 2 * 4 + 4 * 10 * 2 * 4 + 4 * 10 * 4);
}

#[test]
fn non_finite_matrices_are_refused_not_decomposed() {
	let mut dense = random_cores(3, &[2, 3], &[3, 2], &[1, 2, 1]).to_dense();
	dense[[1, 1]] = f32::NAN;
	assert_eq!(tt_svd(&dense, &[2, 3], &[3, 2], 4, 0.0), Err(TtError::NonFinite));
	let mut cores = random_cores(3, &[2, 3], &[3, 2], &[1, 2, 1]).into_cores();
	cores[1][[0, 0, 0, 0]] = f32::INFINITY;
	let tt = TtMatrix::from_cores(cores).unwrap();
	assert_eq!(tt_round(&tt, 2, 0.0), Err(TtError::NonFinite));
}
