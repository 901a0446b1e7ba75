//! Tensor-train (TT) matrices.
//!
//! A matrix `W` of `M × N` with `M = m₁⋯m_d` and `N = n₁⋯n_d` is stored as `d` cores
//! `G_k` of shape `(r_{k-1}, m_k, n_k, r_k)`, `r₀ = r_d = 1` (Oseledets 2011, "Tensor-Train
//! decomposition"; Novikov et al. 2015, "Tensorizing neural networks"):
//!
//! `W[(i₁…i_d), (j₁…j_d)] = G₁[:, i₁, j₁, :] · G₂[:, i₂, j₂, :] ⋯ G_d[:, i_d, j_d, :]`
//!
//! with row and column indices in mixed radix, most significant first. A TT embedding table
//! (TT-Rec, Yin et al. 2021) is the same object with `M` = number of rows: [`TtMatrix::row`] looks
//! one row up without forming the table.

mod decompose;
mod linalg;

pub use decompose::{tt_add, tt_round, tt_svd, TtError};

use ndarray::{Array2, Array4, Axis};

/// A matrix in tensor-train form.
#[derive(Clone, Debug, PartialEq)]
pub struct TtMatrix {
	/// The cores, each `(r_{k-1}, m_k, n_k, r_k)`.
	cores: Vec<Array4<f32>>,
}

impl TtMatrix {
	/// Builds a TT matrix from cores, checking that their ranks chain and start and end at 1.
	pub fn from_cores(cores: Vec<Array4<f32>>) -> Result<Self, TtError> {
		let Some(first) = cores.first() else {
			return Err(TtError::NoCores);
		};
		if first.shape()[0] != 1 {
			return Err(TtError::BoundaryRank { rank: first.shape()[0] });
		}
		for (k, pair) in cores.windows(2).enumerate() {
			let (left, right) = (pair[0].shape()[3], pair[1].shape()[0]);
			if left != right {
				return Err(TtError::RankMismatch { core: k + 1, left, right });
			}
		}
		let last = cores[cores.len() - 1].shape()[3];
		if last != 1 {
			return Err(TtError::BoundaryRank { rank: last });
		}
		if cores.iter().any(|c| c.shape().contains(&0)) {
			return Err(TtError::EmptyMode);
		}
		Ok(Self { cores })
	}

	/// The cores.
	pub fn cores(&self) -> &[Array4<f32>] {
		&self.cores
	}

	/// Consumes the matrix into its cores.
	pub fn into_cores(self) -> Vec<Array4<f32>> {
		self.cores
	}

	/// Row modes `m_k`.
	pub fn row_modes(&self) -> Vec<usize> {
		self.cores.iter().map(|c| c.shape()[1]).collect()
	}

	/// Column modes `n_k`.
	pub fn col_modes(&self) -> Vec<usize> {
		self.cores.iter().map(|c| c.shape()[2]).collect()
	}

	/// TT ranks `r₀ … r_d` (first and last are 1).
	pub fn ranks(&self) -> Vec<usize> {
		let mut r = vec![1];
		r.extend(self.cores.iter().map(|c| c.shape()[3]));
		r
	}

	/// `(M, N)` of the matrix it represents.
	pub fn shape(&self) -> (usize, usize) {
		(self.row_modes().iter().product(), self.col_modes().iter().product())
	}

	/// Number of stored parameters (all core entries).
	pub fn num_params(&self) -> usize {
		self.cores.iter().map(|c| c.len()).sum()
	}

	/// The dense `M × N` matrix (for tests, comparisons and small layers).
	pub fn to_dense(&self) -> Array2<f32> {
		// Partial product P of shape (M_k, N_k, r_k), built core by core in f64.
		let mut rows = 1usize;
		let mut cols = 1usize;
		let mut p = Array2::<f64>::ones((1, 1)); // (M_k·N_k, r_k)
		for core in &self.cores {
			let (r0, m, n, r1) = core.dim();
			let g = core.mapv(f64::from).into_shape_with_order((r0, m * n * r1)).expect("standard layout");
			let q = p.dot(&g); // (M_k·N_k, m·n·r1)
			let q = q.into_shape_with_order((rows, cols, m, n, r1)).expect("contiguous").permuted_axes([0, 2, 1, 3, 4]);
			rows *= m;
			cols *= n;
			p = q.as_standard_layout().into_owned().into_shape_with_order((rows * cols, r1)).expect("contiguous");
		}
		p.into_shape_with_order((rows, cols)).expect("r_d = 1").mapv(|v| v as f32)
	}

	/// Row `i` of the matrix (an embedding lookup), without forming the matrix; `None` if `i`
	/// is out of range.
	pub fn row(&self, i: usize) -> Option<Vec<f32>> {
		let modes = self.row_modes();
		if i >= modes.iter().product() {
			return None;
		}
		let digits = mixed_radix(i, &modes);
		let mut q = Array2::<f64>::ones((1, 1)); // (N_k, r_k)
		for (core, &digit) in self.cores.iter().zip(&digits) {
			let (r0, _, n, r1) = core.dim();
			let slice = core.index_axis(Axis(1), digit).mapv(f64::from); // (r0, n, r1)
			let slice = slice.into_shape_with_order((r0, n * r1)).expect("owned");
			let next = q.dot(&slice);
			let len = next.nrows() * n;
			q = next.into_shape_with_order((len, r1)).expect("contiguous");
		}
		Some(q.iter().map(|&v| v as f32).collect())
	}
}

/// The digits of `index` in the mixed radix `modes`, most significant first.
pub fn mixed_radix(mut index: usize, modes: &[usize]) -> Vec<usize> {
	let mut digits = vec![0; modes.len()];
	for (d, &m) in digits.iter_mut().zip(modes).rev() {
		*d = index % m;
		index /= m;
	}
	digits
}

#[cfg(test)]
mod tests;
