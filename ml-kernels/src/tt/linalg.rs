//! The two factorizations TT-SVD and TT rounding need, on nalgebra (pure Rust, deterministic
//! on one thread), in f64.

use nalgebra::DMatrix;

/// `a ≈ u · sv` with `u` orthonormal columns, keeping at most `max_rank` singular values and
/// dropping the smallest ones while their Frobenius mass stays within `delta`. At least one
/// is kept.
pub(super) fn truncated_svd(a: DMatrix<f64>, max_rank: usize, delta: f64) -> (DMatrix<f64>, DMatrix<f64>) {
	let svd = a.svd(true, true);
	let (Some(u), Some(vt)) = (svd.u, svd.v_t) else {
		unreachable!("both factors were requested");
	};
	// Sort by singular value, largest first (ties broken by position: deterministic).
	let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
	order.sort_by(|&x, &y| svd.singular_values[y].total_cmp(&svd.singular_values[x]).then(x.cmp(&y)));
	let sigma: Vec<f64> = order.iter().map(|&i| svd.singular_values[i]).collect();
	// Smallest rank whose dropped tail has squared mass ≤ delta².
	let mut keep = sigma.len();
	let mut tail = 0.0;
	while keep > 1 {
		let next = tail + sigma[keep - 1] * sigma[keep - 1];
		if next > delta * delta {
			break;
		}
		tail = next;
		keep -= 1;
	}
	let keep = keep.min(max_rank.max(1));
	let mut u_k = DMatrix::<f64>::zeros(u.nrows(), keep);
	let mut sv_k = DMatrix::<f64>::zeros(keep, vt.ncols());
	for (col, &i) in order.iter().take(keep).enumerate() {
		u_k.set_column(col, &u.column(i));
		sv_k.set_row(col, &(vt.row(i) * sigma[col]));
	}
	(u_k, sv_k)
}

/// Thin QR: `a = q · r`, `q` with orthonormal columns.
pub(super) fn thin_qr(a: DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>) {
	let qr = a.qr();
	(qr.q(), qr.r())
}

/// A row-major slice as a matrix.
pub(super) fn from_row_major(rows: usize, cols: usize, data: &[f64]) -> DMatrix<f64> {
	DMatrix::from_row_slice(rows, cols, data)
}

/// A matrix's entries in row-major order.
pub(super) fn to_row_major(m: &DMatrix<f64>) -> Vec<f64> {
	m.transpose().as_slice().to_vec()
}
