//! The recommender: a user tower and an item tower, each a TT embedding table (TT-Rec), and a
//! scoring head `r̂ = μ + b_u + b_i + Σ_k h_k u_k v_k` (a learned weighting of the towers'
//! element-wise product, plus global, user and item biases). One-core tables are dense tables.

use crate::layers::TtEmbedding;
use burn::{
	module::{Module, Param},
	tensor::{backend::Backend, Int, Tensor, TensorData},
};

/// A two-tower architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoTowerSpec {
	/// Number of users.
	pub users: usize,
	/// Number of items.
	pub items: usize,
	/// Factorisation of the user-table rows (product ≥ `users`).
	pub user_modes: Vec<usize>,
	/// Factorisation of the item-table rows (product ≥ `items`).
	pub item_modes: Vec<usize>,
	/// Factorisation of the embedding dimension (as many modes as the row modes).
	pub dim_modes: Vec<usize>,
	/// Interior TT rank of both tables.
	pub rank: usize,
}

impl TwoTowerSpec {
	/// Embedding dimension.
	pub fn dim(&self) -> usize {
		self.dim_modes.iter().product()
	}

	/// The same model with dense tables (one core: `users × dim`, `items × dim`).
	pub fn dense(&self) -> Self {
		Self { user_modes: vec![self.users], item_modes: vec![self.items], dim_modes: vec![self.dim()], rank: 1, ..self.clone() }
	}

	fn table_params(&self, rows: &[usize]) -> usize {
		let d = rows.len();
		let rank = |k: usize| if k == 0 || k == d { 1 } else { self.rank };
		(0..d).map(|k| rank(k) * rows[k] * self.dim_modes[k] * rank(k + 1)).sum()
	}

	/// Parameters of the item table (what B1 compares).
	pub fn item_table_params(&self) -> usize {
		self.table_params(&self.item_modes)
	}

	/// Parameters of the whole model.
	pub fn num_params(&self) -> usize {
		self.table_params(&self.user_modes) + self.item_table_params() + self.users + self.items + self.dim() + 1
	}

	/// Whether the modes cover the users and items and the ranks are positive.
	pub fn is_valid(&self) -> bool {
		let d = self.dim_modes.len();
		d >= 1
			&& self.user_modes.len() == d
			&& self.item_modes.len() == d
			&& self.user_modes.iter().product::<usize>() >= self.users
			&& self.item_modes.iter().product::<usize>() >= self.items
			&& self.rank >= 1
	}
}

/// The recommender.
#[derive(Module, Debug)]
pub struct TwoTower<B: Backend> {
	/// User tower.
	pub users: TtEmbedding<B>,
	/// Item tower.
	pub items: TtEmbedding<B>,
	/// Per-user bias.
	pub user_bias: Param<Tensor<B, 1>>,
	/// Per-item bias.
	pub item_bias: Param<Tensor<B, 1>>,
	/// Scoring head: one weight per embedding dimension.
	pub head: Param<Tensor<B, 1>>,
	/// Global offset μ.
	pub global: Param<Tensor<B, 1>>,
}

fn vector<B: Backend>(values: Vec<f32>, device: &B::Device) -> Param<Tensor<B, 1>> {
	let len = values.len();
	Param::from_tensor(Tensor::from_data(TensorData::new(values, [len]), device))
}

impl<B: Backend> TwoTower<B> {
	/// A fresh model of `spec` (a valid one) with global offset `mean_rating`, embeddings of
	/// standard deviation 0.1, from `seed`.
	pub fn new(spec: &TwoTowerSpec, mean_rating: f32, seed: u64, device: &B::Device) -> Self {
		let variance = 0.01;
		Self {
			users: TtEmbedding::new(&spec.user_modes, &spec.dim_modes, spec.rank, variance, seed, device),
			items: TtEmbedding::new(&spec.item_modes, &spec.dim_modes, spec.rank, variance, seed.wrapping_add(1), device),
			user_bias: vector(vec![0.0; spec.users], device),
			item_bias: vector(vec![0.0; spec.items], device),
			head: vector(vec![1.0; spec.dim()], device),
			global: vector(vec![mean_rating], device),
		}
	}

	/// Predicted ratings and the summed squared norms of the looked-up embeddings (divided by the
	/// batch size), for `users[i]` rating `items[i]`. Ids must be below the table sizes.
	pub fn forward_with_penalty(&self, users: &[u32], items: &[u32], device: &B::Device) -> (Tensor<B, 1>, Tensor<B, 1>) {
		let batch = users.len();
		let to_usize = |v: &[u32]| v.iter().map(|&x| x as usize).collect::<Vec<usize>>();
		let u = self.users.forward(&to_usize(users), device);
		let v = self.items.forward(&to_usize(items), device);
		let penalty = ((u.clone() * u.clone()).sum() + (v.clone() * v.clone()).sum()) / (batch.max(1) as f32);
		let score: Tensor<B, 1> = (u * v * self.head.val().unsqueeze::<2>()).sum_dim(1).reshape([batch]);
		let bias = self.user_bias.val().select(0, id_tensor(users, device)) + self.item_bias.val().select(0, id_tensor(items, device));
		(score + bias + self.global.val().expand([batch]), penalty)
	}

	/// Predicted ratings for `users[i]` rating `items[i]`.
	pub fn forward(&self, users: &[u32], items: &[u32], device: &B::Device) -> Tensor<B, 1> {
		self.forward_with_penalty(users, items, device).0
	}
}

/// A 1-D integer tensor of ids (embedding lookups).
fn id_tensor<B: Backend>(values: &[u32], device: &B::Device) -> Tensor<B, 1, Int> {
	Tensor::from_data(TensorData::new(values.iter().map(|&v| v as i32).collect::<Vec<i32>>(), [values.len()]), device)
}
