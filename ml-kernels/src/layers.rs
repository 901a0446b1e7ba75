//! Tensor-train layers as burn modules, trained end to end in compressed form: the parameters
//! are the TT cores themselves, and gradients flow to them through burn's autodiff.
//!
//! - [`TtLinear`]: `y = W x + b` with `W` (`M × N`, `M = ∏m_k` outputs, `N = ∏n_k` inputs) in
//!   TT form, never materialised: the input is contracted with one core at a time
//!   (Novikov et al. 2015), costing `O(B · Σ_k P_k R_k r_{k-1} n_k m_k r_k)` instead of `B·M·N`.
//! - [`TtEmbedding`]: a TT-Rec table (Yin et al. 2021): rows are items (`M = ∏m_k` ≥ number of
//!   items), columns the embedding (`N = ∏n_k`); a lookup multiplies the selected core slices.
//!
//! Their dense equivalents are burn's `Linear` and `Embedding`.

use crate::tt::TtMatrix;
use burn::{
	module::{Module, Param},
	tensor::{backend::Backend, Int, Tensor, TensorData},
};
use ndarray::Array4;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// TT cores with random Gaussian entries whose product has entries of variance `variance`.
pub fn random_tt(row_modes: &[usize], col_modes: &[usize], rank: usize, variance: f64, seed: u64) -> TtMatrix {
	let d = row_modes.len();
	let ranks: Vec<usize> = (0..=d).map(|k| if k == 0 || k == d { 1 } else { rank.max(1) }).collect();
	// Var(W_ij) = Π_k v_k · Π_interior r_k; spread evenly over the d cores.
	let interior: f64 = ranks[1..d].iter().map(|&r| r as f64).product();
	let per_core = (variance / interior).powf(1.0 / d as f64);
	let normal = Normal::new(0.0, per_core.sqrt()).unwrap_or_else(|_| Normal::new(0.0, 1.0).expect("valid"));
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	let cores =
		(0..d).map(|k| Array4::from_shape_fn((ranks[k], row_modes[k], col_modes[k], ranks[k + 1]), |_| normal.sample(&mut rng) as f32)).collect();
	TtMatrix::from_cores(cores).expect("ranks chain by construction")
}

fn core_param<B: Backend>(core: &Array4<f32>, device: &B::Device) -> Param<Tensor<B, 4>> {
	let (r0, m, n, r1) = core.dim();
	let data = TensorData::new(core.iter().copied().collect::<Vec<f32>>(), [r0, m, n, r1]);
	Param::from_tensor(Tensor::from_data(data, device))
}

fn cores_to_tt<B: Backend>(cores: &[Param<Tensor<B, 4>>]) -> TtMatrix {
	TtMatrix::from_cores(
		cores
			.iter()
			.map(|c| {
				let t = c.val();
				let [r0, m, n, r1] = t.dims();
				let values = t.into_data().to_vec::<f32>().unwrap_or_default();
				Array4::from_shape_vec((r0, m, n, r1), values).expect("tensor data matches its shape")
			})
			.collect(),
	)
	.expect("cores of a module chain")
}

/// Largest `M · N` for which [`TtLinear::forward`] materialises the weight (2²⁰ entries, 4 MiB).
pub const MATERIALIZE_LIMIT: usize = 1 << 20;

/// A linear layer with its weight matrix in TT form.
#[derive(Module, Debug)]
pub struct TtLinear<B: Backend> {
	/// Cores `(r_{k-1}, m_k, n_k, r_k)`: `m` output modes, `n` input modes.
	pub cores: Vec<Param<Tensor<B, 4>>>,
	/// Bias, one per output.
	pub bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> TtLinear<B> {
	/// A layer from `out_modes` (product = outputs), `in_modes` (product = inputs) and interior
	/// TT rank `rank`, Glorot-initialised from `seed`, zero bias.
	pub fn new(out_modes: &[usize], in_modes: &[usize], rank: usize, seed: u64, device: &B::Device) -> Self {
		let (m, n): (usize, usize) = (out_modes.iter().product(), in_modes.iter().product());
		let tt = random_tt(out_modes, in_modes, rank, 2.0 / (m + n) as f64, seed);
		Self::from_tt(&tt, &vec![0.0; m], device)
	}

	/// A layer with weight `tt` and `bias` (one per row of `tt`).
	pub fn from_tt(tt: &TtMatrix, bias: &[f32], device: &B::Device) -> Self {
		Self {
			cores: tt.cores().iter().map(|c| core_param::<B>(c, device)).collect(),
			bias: Param::from_tensor(Tensor::from_data(TensorData::new(bias.to_vec(), [bias.len()]), device)),
		}
	}

	/// The weight as a [`TtMatrix`] (for the wire format, merging and tests).
	pub fn to_tt(&self) -> TtMatrix {
		cores_to_tt(&self.cores)
	}

	/// `x · Wᵀ + b` for a batch `x` of shape `[B, N]`; returns `[B, M]`.
	///
	/// Layers of up to [`MATERIALIZE_LIMIT`] weights build `W` from the cores for the pass and
	/// do one matmul ([`Self::forward_materialized`]): for small layers the per-core
	/// contraction is dominated by per-operation overhead (measured in `BENCHMARKS.md`, B5).
	/// Larger layers never form `W` ([`Self::forward_factorized`]). Either way the parameters
	/// and their gradients are the cores'.
	pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
		let (m, n) = self.dims();
		if m.saturating_mul(n) <= MATERIALIZE_LIMIT {
			self.forward_materialized(x)
		} else {
			self.forward_factorized(x)
		}
	}

	/// `(outputs, inputs)`.
	pub fn dims(&self) -> (usize, usize) {
		self.cores.iter().fold((1, 1), |(m, n), c| {
			let [_, mk, nk, _] = c.val().dims();
			(m * mk, n * nk)
		})
	}

	/// The weight `W` (`[M, N]`) contracted from the cores, differentiably.
	pub fn weight(&self) -> Tensor<B, 2> {
		let first = self.cores[0].val();
		let [_, m0, n0, r0] = first.dims();
		// t: [P, Q, r] — rows and columns so far, open rank.
		let mut t: Tensor<B, 3> = first.reshape([m0, n0, r0]);
		for core in &self.cores[1..] {
			let g = core.val();
			let [r, m, n, r1] = g.dims();
			let [p, q, _] = t.dims();
			let prod = t.reshape([p * q, r]).matmul(g.reshape([r, m * n * r1]));
			t = prod.reshape([p, q, m, n, r1]).permute([0, 2, 1, 3, 4]).reshape([p * m, q * n, r1]);
		}
		let [p, q, _] = t.dims();
		t.reshape([p, q])
	}

	/// `Wᵀ` (`[N, M]`), what the materialised forward pass multiplies by: one fused graph node
	/// for two cores on the training backend ([`fused`]), else built from [`Self::weight`].
	fn weight_t(&self) -> Tensor<B, 2> {
		if let [a, b] = self.cores.as_slice() {
			if let Some(wt) = fused::two_core_weight_t(a.val(), b.val()) {
				return wt;
			}
		}
		self.weight().transpose()
	}

	/// Forward through the materialised weight.
	pub fn forward_materialized(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
		x.matmul(self.weight_t()) + self.bias.val().unsqueeze::<2>()
	}

	/// Forward contracting the input with one core at a time, never forming `W`.
	pub fn forward_factorized(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
		let [batch, n_total] = x.dims();
		let d = self.cores.len();
		let first_n = self.cores[0].val().dims()[2];
		// t: [B, P, r, n_k, R] — P = outputs produced so far, R = inputs not yet contracted.
		let mut t: Tensor<B, 5> = x.reshape([batch, 1, 1, first_n, n_total / first_n]);
		let mut outputs = 1;
		for (k, core) in self.cores.iter().enumerate() {
			let g = core.val();
			let [r0, m, n, r1] = g.dims();
			let [_, p, _, _, rest] = t.dims();
			let lhs: Tensor<B, 2> = t.permute([0, 1, 4, 2, 3]).reshape([batch * p * rest, r0 * n]);
			let rhs: Tensor<B, 2> = g.permute([0, 2, 1, 3]).reshape([r0 * n, m * r1]);
			let y = lhs.matmul(rhs).reshape([batch, p, rest, m, r1]).permute([0, 1, 3, 4, 2]);
			outputs = p * m;
			if k + 1 < d {
				let next_n = self.cores[k + 1].val().dims()[2];
				t = y.reshape([batch, outputs, r1, next_n, rest / next_n]);
			} else {
				t = y;
			}
		}
		let y: Tensor<B, 2> = t.reshape([batch, outputs]);
		y + self.bias.val().unsqueeze::<2>()
	}
}

/// An embedding table in TT form (TT-Rec).
#[derive(Module, Debug)]
pub struct TtEmbedding<B: Backend> {
	/// Cores `(r_{k-1}, m_k, n_k, r_k)`: `m` row (item) modes, `n` embedding modes.
	pub cores: Vec<Param<Tensor<B, 4>>>,
}

impl<B: Backend> TtEmbedding<B> {
	/// A table of `∏row_modes` rows of dimension `∏dim_modes`, interior rank `rank`, entries of
	/// variance `variance`, from `seed`.
	pub fn new(row_modes: &[usize], dim_modes: &[usize], rank: usize, variance: f64, seed: u64, device: &B::Device) -> Self {
		Self::from_tt(&random_tt(row_modes, dim_modes, rank, variance, seed), device)
	}

	/// A table with the rows of `tt`.
	pub fn from_tt(tt: &TtMatrix, device: &B::Device) -> Self {
		Self { cores: tt.cores().iter().map(|c| core_param::<B>(c, device)).collect() }
	}

	/// The table as a [`TtMatrix`].
	pub fn to_tt(&self) -> TtMatrix {
		cores_to_tt(&self.cores)
	}

	/// Number of rows.
	pub fn rows(&self) -> usize {
		self.cores.iter().map(|c| c.val().dims()[1]).product()
	}

	/// The rows `ids` (each `< rows()`), as `[B, N]`.
	pub fn forward(&self, ids: &[usize], device: &B::Device) -> Tensor<B, 2> {
		let modes: Vec<usize> = self.cores.iter().map(|c| c.val().dims()[1]).collect();
		let batch = ids.len();
		let digits: Vec<Vec<usize>> = ids.iter().map(|&i| crate::tt::mixed_radix(i, &modes)).collect();
		let mut q: Tensor<B, 3> = Tensor::ones([batch, 1, 1], device); // [B, N_k, r_k]
		for (k, core) in self.cores.iter().enumerate() {
			let g = core.val();
			let [r0, _, n, r1] = g.dims();
			let index: Vec<i32> = digits.iter().map(|d| d[k] as i32).collect();
			let index = Tensor::<B, 1, Int>::from_data(TensorData::new(index, [batch]), device);
			// [r0, B, n, r1] -> [B, r0, n·r1]
			let slices: Tensor<B, 3> = g.select(1, index).swap_dims(0, 1).reshape([batch, r0, n * r1]);
			let [_, width, _] = q.dims();
			q = q.matmul(slices).reshape([batch, width * n, r1]);
		}
		let [_, width, _] = q.dims();
		q.reshape([batch, width])
	}
}

mod fused;

#[cfg(test)]
mod tests;
