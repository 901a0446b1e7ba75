//! The weight of a two-core TT layer as one autodiff operation on the default training backend
//! (`Autodiff<Flex>`), with its backward pass written out.
//!
//! Built from burn's tensor operations, `Wᵀ` from two cores takes 8 graph nodes (reshapes, a
//! matmul, a permute), each with its own bookkeeping in the forward and the backward pass. At
//! the fraud model's sizes that bookkeeping costs more than the arithmetic (B5 in
//! `BENCHMARKS.md`). Here the same arithmetic runs on the inner backend and the graph gets one
//! node, whose backward maps `∂L/∂Wᵀ` back to the two cores with two matmuls. The two 4-D
//! permutations (one each way) are plain loops ([`permute4`]), not burn-flex's strided copy.
//! Together: TT step ≈ 1.05× the dense step at 8×8 and 16×16 hidden, from 1.9× and 3.1×.
//!
//! Other backends (and layers of one or of three or more cores) keep the composite path in
//! [`super::TtLinear::weight`]; the results are the same (tests compare both, and the
//! finite-difference test runs through this one).

use core::any::{Any, TypeId};

use burn::{
	backend::{
		autodiff::{
			checkpoint::{base::Checkpointer, strategy::NoCheckpointing},
			grads::Gradients,
			ops::{Backward, Ops, OpsKind},
		},
		flex::FlexTensor,
		Autodiff, Flex,
	},
	tensor::{
		backend::Backend,
		ops::{FloatTensor, FloatTensorOps},
		DType, Shape, Tensor, TensorData, TensorPrimitive,
	},
};

type Ad = Autodiff<Flex>;

/// `Wᵀ` (`[N, M]`) of the layer with cores `a` (`[1, m0, n0, r]`) and `b` (`[r, m1, n1, 1]`),
/// as one graph node, when the backend is `Autodiff<Flex>` and the cores have that shape;
/// `None` otherwise (the caller takes the composite path).
pub(super) fn two_core_weight_t<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>) -> Option<Tensor<B, 2>> {
	if TypeId::of::<B>() != TypeId::of::<Ad>() {
		return None;
	}
	let [ra, m0, n0, r] = a.dims();
	let [rb, m1, n1, rc] = b.dims();
	if ra != 1 || rc != 1 || rb != r {
		return None;
	}
	let modes = Modes { m0, n0, m1, n1, r };
	let wt = forward(downcast(a)?, downcast(b)?, modes);
	let wt = *(Box::new(wt) as Box<dyn Any>).downcast::<FloatTensor<B>>().ok()?;
	Some(Tensor::from_primitive(TensorPrimitive::Float(wt)))
}

/// The autodiff primitive of a float tensor of `B`, which is `Ad`.
fn downcast<B: Backend, const D: usize>(t: Tensor<B, D>) -> Option<FloatTensor<Ad>> {
	let TensorPrimitive::Float(p) = t.into_primitive() else { return None };
	(Box::new(p) as Box<dyn Any>).downcast::<FloatTensor<Ad>>().ok().map(|p| *p)
}

/// The mode sizes: `W` is `[m0·m1, n0·n1]`, the interior rank `r`.
#[derive(Clone, Copy, Debug)]
struct Modes {
	m0: usize,
	n0: usize,
	m1: usize,
	n1: usize,
	r: usize,
}

/// What the backward pass needs: both cores as matrices (`[m0·n0, r]`, `[r, m1·n1]`).
#[derive(Clone, Debug)]
struct Saved {
	a: FloatTensor<Flex>,
	b: FloatTensor<Flex>,
	modes: Modes,
}

#[derive(Debug)]
struct TwoCoreWeightT;

impl Backward<Flex, 2> for TwoCoreWeightT {
	type State = Saved;

	fn backward(self, ops: Ops<Saved, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
		let Saved { a, b, modes: Modes { m0, n0, m1, n1, r } } = ops.state;
		// ∂L/∂Wᵀ [n0, n1, m0, m1] → ∂L/∂P [(m0, n0), (m1, n1)], P = A·B the core product.
		let grad = grads.consume::<Flex>(&ops.node);
		let grad = Flex::float_reshape(permute4(grad, [n0, n1, m0, m1], [2, 0, 3, 1]), Shape::new([m0 * n0, m1 * n1]));
		let [parent_a, parent_b] = ops.parents;
		if let Some(node) = parent_a {
			let da = Flex::float_matmul(grad.clone(), Flex::float_transpose(b));
			grads.register::<Flex>(node.id, Flex::float_reshape(da, Shape::new([1, m0, n0, r])));
		}
		if let Some(node) = parent_b {
			let db = Flex::float_matmul(Flex::float_transpose(a), grad);
			grads.register::<Flex>(node.id, Flex::float_reshape(db, Shape::new([r, m1, n1, 1])));
		}
	}
}

/// `Wᵀ[(j0, j1), (i0, i1)] = Σ_k a[i0, j0, k] · b[k, i1, j1]` on the inner backend, recorded as
/// one node.
fn forward(a: FloatTensor<Ad>, b: FloatTensor<Ad>, modes: Modes) -> FloatTensor<Ad> {
	let Modes { m0, n0, m1, n1, r } = modes;
	let a2 = Flex::float_reshape(a.primitive.clone(), Shape::new([m0 * n0, r]));
	let b2 = Flex::float_reshape(b.primitive.clone(), Shape::new([r, m1 * n1]));
	let p = Flex::float_matmul(a2.clone(), b2.clone());
	let wt = Flex::float_reshape(permute4(p, [m0, n0, m1, n1], [1, 3, 0, 2]), Shape::new([n0 * n1, m0 * m1]));
	match TwoCoreWeightT.prepare::<NoCheckpointing>([a.node.clone(), b.node.clone()]).compute_bound().stateful() {
		OpsKind::Tracked(prep) => prep.finish(Saved { a: a2, b: b2, modes }, wt),
		OpsKind::UnTracked(prep) => prep.finish(wt),
	}
}

/// `t` (any shape with `dims`' elements, read as `dims`) with its axes permuted by `perm`, as a
/// contiguous tensor of the permuted shape.
///
/// burn-flex copies a permutation that does not collapse to two dimensions one index at a time
/// through a generic strided iterator, which took about 40 % of a 16×16 training step; this is
/// the same gather as four plain loops. Tensors that are not `f32` take burn's own permute.
pub(super) fn permute4(t: FloatTensor<Flex>, dims: [usize; 4], perm: [usize; 4]) -> FloatTensor<Flex> {
	// Contiguous and exactly `dims`' elements (a no-copy clone when it already is).
	let t = Flex::float_reshape(t, Shape::new(dims)).to_contiguous();
	let src = match bytemuck::try_cast_slice::<u8, f32>(t.bytes()) {
		Ok(src) if t.dtype() == DType::F32 => src,
		_ => return Flex::float_permute(t, &perm),
	};
	// Row-major strides of the source, and the output's axes with their source strides.
	let strides = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1];
	let (d, s) = (perm.map(|k| dims[k]), perm.map(|k| strides[k]));
	let mut out: Vec<f32> = Vec::with_capacity(src.len());
	for i0 in 0..d[0] {
		for i1 in 0..d[1] {
			for i2 in 0..d[2] {
				let row = src.get(i0 * s[0] + i1 * s[1] + i2 * s[2]..).unwrap_or_default();
				out.extend(row.iter().step_by(s[3].max(1)).take(d[3]));
			}
		}
	}
	FlexTensor::from_data(TensorData::new(out, d))
}
