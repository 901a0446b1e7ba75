//! TT-SVD (dense → TT), TT rounding (TT → TT of lower rank) and exact TT sums.

use super::{
	linalg::{from_row_major, thin_qr, to_row_major, truncated_svd},
	TtMatrix,
};
use ndarray::{Array2, Array4, ArrayD, IxDyn};

/// Why a TT operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TtError {
	/// A TT matrix needs at least one core.
	#[error("a TT matrix needs at least one core")]
	NoCores,
	/// The first core must start, and the last end, with rank 1.
	#[error("boundary rank {rank}, expected 1")]
	BoundaryRank {
		/// The rank found.
		rank: usize,
	},
	/// Neighbouring cores disagree on the rank between them.
	#[error("core {core}: left neighbour ends with rank {left}, this core starts with {right}")]
	RankMismatch {
		/// Index of the right core.
		core: usize,
		/// Last dimension of the left core.
		left: usize,
		/// First dimension of the right core.
		right: usize,
	},
	/// A mode or rank of size zero.
	#[error("a mode or rank is zero")]
	EmptyMode,
	/// An entry is NaN or infinite (a diverged model): nothing to decompose.
	#[error("the matrix has a NaN or infinite entry")]
	NonFinite,
	/// The modes do not multiply to the matrix's dimensions.
	#[error("modes multiply to {modes:?}, the matrix is {matrix:?}")]
	ModesMismatch {
		/// Products of the row and column modes.
		modes: (usize, usize),
		/// The matrix's shape.
		matrix: (usize, usize),
	},
	/// Two TT matrices of different modes cannot be added.
	#[error("the two TT matrices have different modes")]
	DifferentModes,
}

/// Compresses `dense` (`M × N`) into TT cores with row modes `row_modes` (product `M`) and
/// column modes `col_modes` (product `N`), ranks at most `max_rank`.
///
/// If `max_rank` does not bind, the result is within `eps · ‖dense‖_F` of `dense` in Frobenius
/// norm (each of the `d − 1` truncations drops at most `eps/√(d−1) · ‖dense‖_F`; Oseledets
/// 2011, Theorem 2.2). With `eps = 0` and full ranks it is exact up to rounding.
pub fn tt_svd(dense: &Array2<f32>, row_modes: &[usize], col_modes: &[usize], max_rank: usize, eps: f64) -> Result<TtMatrix, TtError> {
	let d = row_modes.len();
	if d == 0 || col_modes.len() != d {
		return Err(TtError::NoCores);
	}
	if row_modes.iter().chain(col_modes).any(|&m| m == 0) {
		return Err(TtError::EmptyMode);
	}
	let modes = (row_modes.iter().product(), col_modes.iter().product());
	if modes != dense.dim() {
		return Err(TtError::ModesMismatch { modes, matrix: dense.dim() });
	}
	if dense.iter().any(|v| !v.is_finite()) {
		return Err(TtError::NonFinite);
	}
	// W as a tensor (m₁…m_d, n₁…n_d), then interleaved to (m₁, n₁, …, m_d, n_d).
	let shape: Vec<usize> = row_modes.iter().chain(col_modes).copied().collect();
	let tensor: ArrayD<f64> = dense.mapv(f64::from).into_shape_with_order(IxDyn(&shape)).expect("sizes checked");
	let axes: Vec<usize> = (0..d).flat_map(|k| [k, d + k]).collect();
	let interleaved: Vec<f64> = tensor.permuted_axes(IxDyn(&axes)).as_standard_layout().iter().copied().collect();

	let norm = interleaved.iter().map(|v| v * v).sum::<f64>().sqrt();
	let delta = if d > 1 { eps * norm / ((d - 1) as f64).sqrt() } else { 0.0 };
	let mut cores = Vec::with_capacity(d);
	let mut rank = 1;
	let mut rest = interleaved; // row-major (rank · m_k n_k, remaining)
	let mut remaining: usize = row_modes.iter().zip(col_modes).map(|(m, n)| m * n).product();
	for k in 0..d - 1 {
		let (m, n) = (row_modes[k], col_modes[k]);
		remaining /= m * n;
		let c = from_row_major(rank * m * n, remaining, &rest);
		let (u, sv) = truncated_svd(c, max_rank, delta);
		let r = u.ncols();
		cores.push(core_from(rank, m, n, r, &to_row_major(&u)));
		rest = to_row_major(&sv);
		rank = r;
	}
	cores.push(core_from(rank, row_modes[d - 1], col_modes[d - 1], 1, &rest));
	TtMatrix::from_cores(cores)
}

/// `alpha · a + beta · b` exactly, with ranks adding up (block-diagonal cores).
pub fn tt_add(a: &TtMatrix, alpha: f32, b: &TtMatrix, beta: f32) -> Result<TtMatrix, TtError> {
	if a.row_modes() != b.row_modes() || a.col_modes() != b.col_modes() {
		return Err(TtError::DifferentModes);
	}
	let d = a.cores.len();
	let mut cores = Vec::with_capacity(d);
	for (k, (ga, gb)) in a.cores.iter().zip(&b.cores).enumerate() {
		let (ra0, m, n, ra1) = ga.dim();
		let (rb0, _, _, rb1) = gb.dim();
		let (r0, r1) = if d == 1 {
			(1, 1)
		} else if k == 0 {
			(1, ra1 + rb1)
		} else if k == d - 1 {
			(ra0 + rb0, 1)
		} else {
			(ra0 + rb0, ra1 + rb1)
		};
		let mut g = Array4::<f32>::zeros((r0, m, n, r1));
		// Place A's block at the top-left, B's at the bottom-right (sharing the boundary rank 1
		// of the first and last cores); scale by alpha / beta in the first core only.
		let (sa, sb) = if k == 0 { (alpha, beta) } else { (1.0, 1.0) };
		let (oa0, oa1) = (0, 0);
		let ob0 = if k == 0 { 0 } else { ra0 };
		let ob1 = if k == d - 1 { 0 } else { ra1 };
		for ((x0, i, j, x1), v) in ga.indexed_iter() {
			g[[oa0 + x0, i, j, oa1 + x1]] += sa * v;
		}
		for ((x0, i, j, x1), v) in gb.indexed_iter() {
			g[[ob0 + x0, i, j, ob1 + x1]] += sb * v;
		}
		cores.push(g);
	}
	TtMatrix::from_cores(cores)
}

/// Re-compresses `tt` to ranks at most `max_rank`, within `eps · ‖tt‖_F` if `max_rank` does not
/// bind (TT rounding: right-to-left QR orthogonalization, then left-to-right truncated SVDs;
/// Oseledets 2011, Algorithm 2). Never forms the dense matrix.
pub fn tt_round(tt: &TtMatrix, max_rank: usize, eps: f64) -> Result<TtMatrix, TtError> {
	// An SVD of non-finite entries does not converge.
	if tt.cores.iter().any(|c| c.iter().any(|v| !v.is_finite())) {
		return Err(TtError::NonFinite);
	}
	let d = tt.cores.len();
	let mut cores: Vec<(usize, usize, usize, usize, Vec<f64>)> = tt
		.cores
		.iter()
		.map(|c| {
			let (r0, m, n, r1) = c.dim();
			(r0, m, n, r1, c.iter().map(|&v| f64::from(v)).collect())
		})
		.collect();
	// Right-to-left: make cores 2..d right-orthonormal, pushing the R factors leftwards.
	for k in (1..d).rev() {
		let (r0, m, n, r1, ref data) = cores[k];
		let g = from_row_major(r0, m * n * r1, data);
		let (q, r) = thin_qr(g.transpose()); // gᵀ = q r
		let s = q.ncols();
		cores[k] = (s, m, n, r1, to_row_major(&q.transpose()));
		let (p0, pm, pn, _, ref left) = cores[k - 1];
		let left = from_row_major(p0 * pm * pn, r0, left) * r.transpose();
		cores[k - 1] = (p0, pm, pn, s, to_row_major(&left));
	}
	let norm = cores[0].4.iter().map(|v| v * v).sum::<f64>().sqrt();
	let delta = if d > 1 { eps * norm / ((d - 1) as f64).sqrt() } else { 0.0 };
	// Left-to-right: truncate each bond.
	for k in 0..d.saturating_sub(1) {
		let (r0, m, n, _, ref data) = cores[k];
		let g = from_row_major(r0 * m * n, cores[k].3, data);
		let (u, sv) = truncated_svd(g, max_rank, delta);
		let r = u.ncols();
		cores[k] = (r0, m, n, r, to_row_major(&u));
		let (_, nm, nn, n1, ref right) = cores[k + 1];
		let right = sv * from_row_major(cores[k + 1].0, nm * nn * n1, right);
		cores[k + 1] = (r, nm, nn, n1, to_row_major(&right));
	}
	TtMatrix::from_cores(cores.into_iter().map(|(r0, m, n, r1, data)| core_from(r0, m, n, r1, &data)).collect())
}

fn core_from(r0: usize, m: usize, n: usize, r1: usize, data: &[f64]) -> Array4<f32> {
	Array4::from_shape_vec((r0, m, n, r1), data.iter().map(|&v| v as f32).collect()).expect("length is r0·m·n·r1")
}
