//! The fraud classifier: `x → TT layer → ReLU → … → one logit`.

use super::state::{LayerState, ModelState};
use crate::layers::TtLinear;
use burn::{
	module::Module,
	tensor::{activation::relu, backend::Backend, Tensor},
};

/// One layer: `out_modes` (product = outputs) by `in_modes` (product = inputs), interior TT
/// rank `rank`. One mode on each side is a dense layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
	/// Factorisation of the output dimension.
	pub out_modes: Vec<usize>,
	/// Factorisation of the input dimension (as many modes as `out_modes`).
	pub in_modes: Vec<usize>,
	/// Interior TT rank (ignored for one-core layers).
	pub rank: usize,
}

impl LayerSpec {
	/// Output dimension.
	pub fn outputs(&self) -> usize {
		self.out_modes.iter().product()
	}

	/// Input dimension.
	pub fn inputs(&self) -> usize {
		self.in_modes.iter().product()
	}

	/// The dense layer of the same size.
	pub fn dense(&self) -> Self {
		Self { out_modes: vec![self.outputs()], in_modes: vec![self.inputs()], rank: 1 }
	}

	/// Parameters: cores plus bias.
	pub fn num_params(&self) -> usize {
		let d = self.out_modes.len();
		let rank = |k: usize| if k == 0 || k == d { 1 } else { self.rank };
		(0..d).map(|k| rank(k) * self.out_modes[k] * self.in_modes[k] * rank(k + 1)).sum::<usize>() + self.outputs()
	}
}

/// An MLP architecture: layers in order, ReLU between them, the last one with one output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpSpec {
	/// The layers, each one's inputs = the previous one's outputs.
	pub layers: Vec<LayerSpec>,
}

impl MlpSpec {
	/// LoopX's fraud model over the 16 wallet features (16 = 4·4 inputs): two hidden layers of
	/// `h₁·h₂` units in TT form with rank `rank`, and a dense one-logit output layer.
	pub fn fraud(hidden_modes: [usize; 2], rank: usize) -> Self {
		let hidden = hidden_modes.to_vec();
		let h = hidden_modes[0] * hidden_modes[1];
		Self {
			layers: vec![
				LayerSpec { out_modes: hidden.clone(), in_modes: vec![4, 4], rank },
				LayerSpec { out_modes: hidden.clone(), in_modes: hidden, rank },
				LayerSpec { out_modes: vec![1], in_modes: vec![h], rank: 1 },
			],
		}
	}

	/// The same architecture with every layer dense.
	pub fn dense(&self) -> Self {
		Self { layers: self.layers.iter().map(LayerSpec::dense).collect() }
	}

	/// Input dimension.
	pub fn inputs(&self) -> usize {
		self.layers.first().map_or(0, LayerSpec::inputs)
	}

	/// Parameters of the whole model.
	pub fn num_params(&self) -> usize {
		self.layers.iter().map(LayerSpec::num_params).sum()
	}

	/// Whether the layers chain (each input = the previous output) and end in one logit.
	pub fn is_valid(&self) -> bool {
		let chained = self.layers.windows(2).all(|w| w[0].outputs() == w[1].inputs());
		let shaped = self.layers.iter().all(|l| {
			!l.out_modes.is_empty() && l.out_modes.len() == l.in_modes.len() && l.rank >= 1 && l.out_modes.iter().chain(&l.in_modes).all(|&m| m >= 1)
		});
		chained && shaped && self.layers.last().is_some_and(|l| l.outputs() == 1)
	}
}

/// The classifier.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
	/// The layers, in order.
	pub layers: Vec<TtLinear<B>>,
}

impl<B: Backend> Mlp<B> {
	/// A fresh model of `spec` (a valid one: see [`MlpSpec::is_valid`]), initialised from `seed`.
	pub fn new(spec: &MlpSpec, seed: u64, device: &B::Device) -> Self {
		let layers = spec
			.layers
			.iter()
			.enumerate()
			.map(|(i, l)| TtLinear::new(&l.out_modes, &l.in_modes, l.rank, seed.wrapping_mul(31).wrapping_add(i as u64), device))
			.collect();
		Self { layers }
	}

	/// The model with the parameters of `state`.
	pub fn from_state(state: &ModelState, device: &B::Device) -> Self {
		Self { layers: state.layers.iter().map(|l| TtLinear::from_tt(&l.weight, &l.bias, device)).collect() }
	}

	/// The parameters.
	pub fn state(&self) -> ModelState {
		ModelState {
			layers: self
				.layers
				.iter()
				.map(|l| LayerState { weight: l.to_tt(), bias: l.bias.val().into_data().to_vec::<f32>().unwrap_or_default() })
				.collect(),
		}
	}

	/// Logits for a batch `[B, inputs]`, as `[B]`.
	pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 1> {
		let last = self.layers.len().saturating_sub(1);
		let mut h = x;
		for (i, layer) in self.layers.iter().enumerate() {
			h = layer.forward(h);
			if i < last {
				h = relu(h);
			}
		}
		let [batch, _] = h.dims();
		h.reshape([batch])
	}
}
