use super::*;
use burn::backend::{Autodiff, Flex};
use rand::RngExt;

type Cpu = Flex;
type Train = Autodiff<Flex>;

fn device() -> burn::backend::flex::FlexDevice {
	Default::default()
}

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
	t.into_data().to_vec::<f32>().unwrap()
}

fn random_input(seed: u64, batch: usize, n: usize) -> Vec<f32> {
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	(0..batch * n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

#[test]
fn tt_linear_forward_equals_the_dense_product_of_its_cores() {
	let dev = device();
	let tt = random_tt(&[4, 2, 3], &[2, 3, 4], 3, 0.5, 1);
	let bias: Vec<f32> = (0..24).map(|i| i as f32 * 0.01).collect();
	let layer = TtLinear::<Cpu>::from_tt(&tt, &bias, &dev);
	let x = random_input(2, 5, 24);
	let w = tt.to_dense(); // [M = 24 outputs, N = 24 inputs]
	let input = || Tensor::from_data(TensorData::new(x.clone(), [5, 24]), &dev);
	for y in [layer.forward_factorized(input()), layer.forward_materialized(input()), layer.forward(input())].map(to_vec) {
		for b in 0..5 {
			for i in 0..24 {
				let want: f64 = (0..24).map(|j| f64::from(w[[i, j]]) * f64::from(x[b * 24 + j])).sum::<f64>() + f64::from(bias[i]);
				assert!((f64::from(y[b * 24 + i]) - want).abs() < 1e-4, "({b},{i}): {} vs {want}", y[b * 24 + i]);
			}
		}
	}
	let weight = to_vec(layer.weight());
	assert!(weight.iter().zip(w.iter()).all(|(a, b)| (a - b).abs() < 1e-5));
	assert_eq!(layer.to_tt(), tt);
}

#[test]
fn tt_linear_with_rectangular_modes() {
	let dev = device();
	let tt = random_tt(&[8, 8], &[4, 4], 2, 0.5, 3); // 16 inputs -> 64 outputs
	let layer = TtLinear::<Cpu>::from_tt(&tt, &[0.0; 64], &dev);
	let x = random_input(4, 3, 16);
	let y = to_vec(layer.forward(Tensor::from_data(TensorData::new(x.clone(), [3, 16]), &dev)));
	assert_eq!(y.len(), 3 * 64);
	let w = tt.to_dense();
	for b in 0..3 {
		for i in 0..64 {
			let want: f64 = (0..16).map(|j| f64::from(w[[i, j]]) * f64::from(x[b * 16 + j])).sum();
			assert!((f64::from(y[b * 64 + i]) - want).abs() < 1e-4);
		}
	}
}

#[test]
fn tt_linear_gradients_match_finite_differences() {
	let dev = device();
	let tt = random_tt(&[3, 2], &[2, 4], 2, 0.5, 5);
	let x = random_input(6, 4, 8);
	let target = random_input(7, 4, 6);
	// loss = Σ (y − t)², quadratic in each core entry: central differences are exact up to
	// rounding, so the tolerance only covers f32 arithmetic.
	let loss_of = |tt: &TtMatrix| -> f64 {
		let w = tt.to_dense();
		let mut loss = 0.0f64;
		for b in 0..4 {
			for i in 0..6 {
				let y: f64 = (0..8).map(|j| f64::from(w[[i, j]]) * f64::from(x[b * 8 + j])).sum();
				loss += (y - f64::from(target[b * 6 + i])).powi(2);
			}
		}
		loss
	};
	for materialized in [false, true] {
		let layer = TtLinear::<Train>::from_tt(&tt, &[0.0; 6], &dev);
		let xs = Tensor::from_data(TensorData::new(x.clone(), [4, 8]), &dev);
		let ts = Tensor::from_data(TensorData::new(target.clone(), [4, 6]), &dev);
		let y = if materialized { layer.forward_materialized(xs) } else { layer.forward_factorized(xs) };
		let diff = y - ts;
		let loss = (diff.clone() * diff).sum();
		let grads = loss.backward();
		let h = 1e-2f32;
		for (k, core) in layer.cores.iter().enumerate() {
			let grad = to_vec(core.val().grad(&grads).expect("cores are trainable"));
			for (flat, g) in grad.iter().enumerate() {
				let mut cores = tt.cores().to_vec();
				let mut plus = cores[k].clone();
				let mut minus = cores[k].clone();
				plus.as_slice_mut().unwrap()[flat] += h;
				minus.as_slice_mut().unwrap()[flat] -= h;
				cores[k] = plus;
				let lp = loss_of(&TtMatrix::from_cores(cores.clone()).unwrap());
				cores[k] = minus;
				let lm = loss_of(&TtMatrix::from_cores(cores).unwrap());
				let numeric = (lp - lm) / (2.0 * f64::from(h));
				assert!((f64::from(*g) - numeric).abs() <= 1e-3 * (1.0 + numeric.abs()), "core {k}[{flat}]: autodiff {g}, numeric {numeric}");
			}
		}
	}
}

#[test]
fn tt_embedding_lookup_equals_the_dense_rows() {
	let dev = device();
	let tt = random_tt(&[5, 4, 3], &[2, 2, 2], 3, 1.0, 8);
	let table = TtEmbedding::<Cpu>::from_tt(&tt, &dev);
	assert_eq!(table.rows(), 60);
	let ids = [0usize, 7, 59, 31, 7];
	let rows = to_vec(table.forward(&ids, &dev));
	let dense = tt.to_dense();
	for (b, &id) in ids.iter().enumerate() {
		for j in 0..8 {
			assert!((rows[b * 8 + j] - dense[[id, j]]).abs() < 1e-5);
		}
	}
}

#[test]
fn tt_embedding_gradients_reach_only_the_selected_slices() {
	let dev = device();
	let tt = random_tt(&[3, 3], &[2, 2], 2, 1.0, 9);
	let table = TtEmbedding::<Train>::from_tt(&tt, &dev);
	let loss = table.forward(&[4], &dev).sum(); // row 4 = digits (1, 1)
	let grads = loss.backward();
	let g0 = to_vec(table.cores[0].val().grad(&grads).unwrap()); // [1, 3, 2, 2]
	for (flat, g) in g0.iter().enumerate() {
		let row_digit = (flat / 4) % 3;
		if row_digit != 1 {
			assert_eq!(*g, 0.0, "slice {row_digit} was not used");
		}
	}
	assert!(g0.iter().any(|g| *g != 0.0));
}

#[test]
fn initialisation_has_the_requested_variance() {
	let tt = random_tt(&[10, 10, 10], &[4, 4, 4], 8, 0.01, 10);
	let w = tt.to_dense();
	let var = w.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / w.len() as f64;
	assert!((0.5..2.0).contains(&(var / 0.01)), "variance {var}");
}

#[test]
fn the_fused_two_core_weight_has_the_composite_forward_and_gradients() {
	let dev = device();
	let tt = random_tt(&[4, 3], &[2, 5], 3, 0.5, 11);
	let layer = TtLinear::<Train>::from_tt(&tt, &[0.1; 12], &dev);
	// The fused node is taken on the training backend only (so the comparison is not of the
	// composite path with itself).
	let fused_on = |c: &[Param<Tensor<Train, 4>>]| super::fused::two_core_weight_t(c[0].val(), c[1].val()).is_some();
	assert!(fused_on(&layer.cores));
	let inner = TtLinear::<Cpu>::from_tt(&tt, &[0.1; 12], &dev);
	assert!(super::fused::two_core_weight_t(inner.cores[0].val(), inner.cores[1].val()).is_none());
	let x = random_input(12, 6, 10);
	let target = random_input(13, 6, 12);
	let run = |fused: bool| {
		let xs = Tensor::<Train, 2>::from_data(TensorData::new(x.clone(), [6, 10]), &dev);
		let ts = Tensor::<Train, 2>::from_data(TensorData::new(target.clone(), [6, 12]), &dev);
		// `forward_materialized` takes the fused path on this backend; the composite one is
		// spelled out from `weight`.
		let y = if fused { layer.forward_materialized(xs) } else { xs.matmul(layer.weight().transpose()) + layer.bias.val().unsqueeze::<2>() };
		let diff = y.clone() - ts;
		let grads = (diff.clone() * diff).sum().backward();
		let mut out = vec![to_vec(y)];
		out.extend(layer.cores.iter().map(|c| to_vec(c.val().grad(&grads).expect("cores are trainable"))));
		out.push(to_vec(layer.bias.val().grad(&grads).expect("the bias is trainable")));
		out
	};
	let (fused, composite) = (run(true), run(false));
	assert_eq!(fused.len(), composite.len());
	for (k, (f, c)) in fused.iter().zip(&composite).enumerate() {
		assert_eq!(f.len(), c.len());
		for (a, b) in f.iter().zip(c) {
			assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "tensor {k}: fused {a}, composite {b}");
		}
	}
	assert!(fused[1].iter().any(|g| *g != 0.0), "gradients reach the first core");
}

#[test]
fn the_fused_permutation_equals_burns() {
	use burn::{backend::Flex, tensor::ops::FloatTensorOps};
	let dims = [2, 3, 4, 5];
	let data: Vec<f32> = (0..120).map(|i| i as f32).collect();
	for perm in [[1, 3, 0, 2], [2, 0, 3, 1], [3, 2, 1, 0], [0, 1, 2, 3]] {
		let t = || Flex::float_from_data(TensorData::new(data.clone(), dims), &Default::default());
		let ours = super::fused::permute4(t(), dims, perm).into_data();
		let burns = Flex::float_permute(t(), &perm).to_contiguous().into_data();
		assert_eq!(ours.shape, burns.shape, "{perm:?}");
		assert_eq!(ours.as_slice::<f32>().ok(), burns.as_slice::<f32>().ok(), "{perm:?}");
	}
}
