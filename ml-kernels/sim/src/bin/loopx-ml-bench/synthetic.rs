//! B1 on a synthetic 10⁶ × 16 embedding table, two ways.
//!
//! The table: 10⁶ wallets whose ids are hierarchical (100 communities × 100 clusters × 100
//! wallets); each wallet's embedding is a smooth function of its place plus per-wallet noise,
//! that is a TT of rank 4 over the id digits plus N(0, σ²) (σ = `--noise`, 0.1 by default).
//! A lookup of wallet `i` is labelled fraud with probability `sigmoid(2 · table[i] · w)`.
//!
//! - [`oracle`]: TT-SVD of the generating table itself, scored against the table. Whatever the
//!   compression drops (the per-row noise) shows up as lost AUC.
//! - [`trained`]: the TT-Rec comparison. A dense table and a TT table, each with a learned
//!   linear head, are trained end to end on the same labelled lookups and scored on held-out
//!   lookups; the table is only the hidden truth behind the labels.

use super::{Res, Train};
use loopx_ml_kernels::{
	burn::{
		self,
		backend::flex::FlexDevice,
		module::{AutodiffModule, Module, Param},
		optim::{AdamConfig, GradientsParams, Optimizer},
		tensor::{backend::Backend, Tensor, TensorData},
	},
	layers::{random_tt, TtEmbedding},
	metrics::auc,
	models::train::bce_with_logits,
	tt::{tt_svd, TtMatrix},
};
use ndarray::Array2;
use rand::{seq::SliceRandom, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Zipf};
use std::time::Instant;

const WALLETS: usize = 1_000_000;
const DIM: usize = 16;
const ROW_MODES: [usize; 3] = [100, 100, 100];
const DIM_MODES: [usize; 3] = [2, 2, 4];

/// The generating table and label weights, and the generator's random stream after drawing them.
struct Truth {
	table: Array2<f32>,
	w: Vec<f32>,
	rng: ChaCha8Rng,
}

impl Truth {
	fn new(noise_sd: f32) -> Result<Self, String> {
		let planted = random_tt(&ROW_MODES, &DIM_MODES, 4, 1.0, 5).to_dense();
		let mut rng = ChaCha8Rng::seed_from_u64(6);
		let noise = Normal::new(0.0f32, noise_sd).map_err(|e| e.to_string())?;
		let table: Array2<f32> = planted.mapv(|v| v + noise.sample(&mut rng));
		let w: Vec<f32> = (0..DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
		Ok(Self { table, w, rng })
	}

	fn score(&self, row: &[f32]) -> f32 {
		row.iter().zip(&self.w).map(|(a, b)| a * b).sum()
	}

	fn true_score(&self, i: usize) -> f32 {
		self.table.row(i).iter().zip(&self.w).map(|(a, b)| a * b).sum()
	}

	/// A label for a lookup of wallet `i`, drawn from the truth.
	fn label(&mut self, i: usize) -> bool {
		let p = 1.0 / (1.0 + (-2.0 * self.true_score(i)).exp());
		self.rng.random::<f32>() < p
	}
}

/// TT-SVD of the generating table at `rank`, scored on 200,000 uniform lookups against the
/// table itself.
pub fn oracle(rank: usize, noise_sd: f32) -> Res {
	let started = Instant::now();
	let mut truth = Truth::new(noise_sd)?;
	let samples = 200_000;
	let ids: Vec<usize> = (0..samples).map(|_| truth.rng.random_range(0..WALLETS)).collect();
	let labels: Vec<bool> = ids.iter().map(|&i| truth.label(i)).collect();
	let dense_scores: Vec<f32> = ids.iter().map(|&i| truth.true_score(i)).collect();
	let dense_auc = auc(&dense_scores, &labels)?;
	println!("synthetic.build_seconds = {:.1}", started.elapsed().as_secs_f64());
	let started = Instant::now();
	let compressed: TtMatrix = tt_svd(&truth.table, &ROW_MODES, &DIM_MODES, rank, 0.0)?;
	println!("synthetic.tt_svd_seconds = {:.1}", started.elapsed().as_secs_f64());
	let tt_scores: Vec<f32> = ids.iter().map(|&i| truth.score(&compressed.row(i).unwrap_or_default())).collect();
	let tt_auc = auc(&tt_scores, &labels)?;
	let (dense_params, tt_params) = (WALLETS * DIM, compressed.num_params());
	println!("synthetic.dense_params = {dense_params}");
	println!("synthetic.tt_rank = {rank}");
	println!("synthetic.row_noise_sd = {noise_sd}");
	println!("synthetic.tt_params = {tt_params}");
	println!("synthetic.compression = {:.1}", dense_params as f64 / tt_params as f64);
	println!("synthetic.dense_auc = {dense_auc:.5}");
	println!("synthetic.tt_auc = {tt_auc:.5}");
	println!("synthetic.relative_auc_loss_pct = {:.3}", 100.0 * (dense_auc - tt_auc) / dense_auc);
	Ok(())
}

/// Settings of the trained comparison.
pub struct TrainedConfig {
	pub rank: usize,
	pub noise_sd: f32,
	/// Zipf exponent of how often each wallet is looked up (0 = uniform).
	pub zipf: f64,
	pub train: usize,
	pub epochs: usize,
	pub batch: usize,
	pub lr: f64,
	/// Train the dense table (the slow one: 16·10⁶ parameters under Adam).
	pub dense: bool,
}

/// Labelled lookups.
struct Lookups {
	ids: Vec<usize>,
	labels: Vec<bool>,
}

/// A table with a learned linear head: `logit(i) = table[i] · head + bias`.
#[derive(Module, Debug)]
struct Scorer<B: Backend> {
	table: TtEmbedding<B>,
	head: Param<Tensor<B, 1>>,
	bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> Scorer<B> {
	fn new(row_modes: &[usize], dim_modes: &[usize], rank: usize, seed: u64, device: &B::Device) -> Self {
		let mut rng = ChaCha8Rng::seed_from_u64(seed);
		let head: Vec<f32> = (0..DIM).map(|_| rng.random_range(-0.25f32..0.25)).collect();
		Self {
			table: TtEmbedding::new(row_modes, dim_modes, rank, 0.01, seed, device),
			head: Param::from_tensor(Tensor::from_data(TensorData::new(head, [DIM]), device)),
			bias: Param::from_tensor(Tensor::zeros([1], device)),
		}
	}

	fn logits(&self, ids: &[usize], device: &B::Device) -> Tensor<B, 1> {
		let rows = self.table.forward(ids, device);
		let dot: Tensor<B, 1> = (rows * self.head.val().unsqueeze::<2>()).sum_dim(1).squeeze_dim(1);
		dot + self.bias.val()
	}
}

/// Test AUC of the dense and the TT table trained on the same lookups (each at its best
/// validation epoch), and of the truth itself on the same test lookups.
pub fn trained(cfg: &TrainedConfig) -> Res {
	let mut truth = Truth::new(cfg.noise_sd)?;
	// Wallets by popularity: Zipf ranks mapped to ids by a seeded permutation, so popular
	// wallets are spread over the communities.
	let mut by_rank: Vec<usize> = (0..WALLETS).collect();
	by_rank.shuffle(&mut truth.rng);
	let zipf = Zipf::new(WALLETS as f64, cfg.zipf).map_err(|e| e.to_string())?;
	let draw = |n: usize, truth: &mut Truth| -> Lookups {
		let ids: Vec<usize> = (0..n).map(|_| by_rank[(zipf.sample(&mut truth.rng) as usize).clamp(1, WALLETS) - 1]).collect();
		let labels = ids.iter().map(|&i| truth.label(i)).collect();
		Lookups { ids, labels }
	};
	let train = draw(cfg.train, &mut truth);
	let valid = draw(100_000, &mut truth);
	let test = draw(200_000, &mut truth);
	let mut seen = vec![false; WALLETS];
	train.ids.iter().for_each(|&i| seen[i] = true);
	let distinct = seen.iter().filter(|&&s| s).count();
	let covered = test.ids.iter().filter(|&&i| seen[i]).count();
	println!("trained.train_lookups = {} distinct_wallets = {distinct}", cfg.train);
	println!("trained.test_lookups_of_wallets_seen_in_training_pct = {:.1}", 100.0 * covered as f64 / test.ids.len() as f64);
	println!("trained.zipf = {} row_noise_sd = {} tt_rank = {}", cfg.zipf, cfg.noise_sd, cfg.rank);
	let truth_auc = auc(&test.ids.iter().map(|&i| truth.true_score(i)).collect::<Vec<_>>(), &test.labels)?;
	println!("trained.truth_test_auc = {truth_auc:.5}");
	let mut results = Vec::new();
	let dense = cfg.dense.then(|| ("dense", vec![WALLETS], vec![DIM], 1));
	for (name, row_modes, dim_modes, rank) in dense.into_iter().chain([("tt", ROW_MODES.to_vec(), DIM_MODES.to_vec(), cfg.rank)]) {
		let (params, test_auc) = train_one(name, &row_modes, &dim_modes, rank, cfg, &train, &valid, &test)?;
		println!("trained.{name}.params = {params}");
		println!("trained.{name}.test_auc = {test_auc:.5}");
		results.push((params, test_auc));
	}
	let [(dense_params, dense_auc), (tt_params, tt_auc)] = results[..] else { return Ok(()) };
	println!("trained.compression = {:.1}", dense_params as f64 / tt_params as f64);
	println!("trained.relative_auc_loss_pct = {:.3}", 100.0 * (dense_auc - tt_auc) / dense_auc);
	Ok(())
}

#[allow(clippy::too_many_arguments)]
fn train_one(
	name: &str,
	row_modes: &[usize],
	dim_modes: &[usize],
	rank: usize,
	cfg: &TrainedConfig,
	train: &Lookups,
	valid: &Lookups,
	test: &Lookups,
) -> Result<(usize, f64), Box<dyn std::error::Error>> {
	let device = FlexDevice;
	let mut model = Scorer::<Train>::new(row_modes, dim_modes, rank, 21, &device);
	let params = model.table.to_tt().num_params();
	let mut optim = AdamConfig::new().init::<Train, Scorer<Train>>();
	let mut rng = ChaCha8Rng::seed_from_u64(22);
	let mut order: Vec<usize> = (0..train.ids.len()).collect();
	let mut best = (f64::NEG_INFINITY, 0.0, 0usize);
	for epoch in 1..=cfg.epochs {
		let started = Instant::now();
		order.shuffle(&mut rng);
		for batch in order.chunks(cfg.batch) {
			let ids: Vec<usize> = batch.iter().map(|&k| train.ids[k]).collect();
			let targets: Vec<f32> = batch.iter().map(|&k| f32::from(u8::from(train.labels[k]))).collect();
			let targets = Tensor::<Train, 1>::from_data(TensorData::new(targets, [batch.len()]), &device);
			let loss = bce_with_logits(model.logits(&ids, &device), targets).mean();
			let grads = GradientsParams::from_grads(loss.backward(), &model);
			model = optim.step(cfg.lr, model, grads);
		}
		let inner = model.valid();
		let v = score_auc(&inner, valid, &device)?;
		println!("trained.{name}.epoch_{epoch} = validation AUC {v:.5} ({:.1} s)", started.elapsed().as_secs_f64());
		if v > best.0 {
			best = (v, score_auc(&inner, test, &device)?, epoch);
		}
	}
	println!("trained.{name}.best_epoch = {} validation AUC {:.5}", best.2, best.0);
	Ok((params, best.1))
}

fn score_auc<B: Backend>(model: &Scorer<B>, lookups: &Lookups, device: &B::Device) -> Result<f64, Box<dyn std::error::Error>> {
	let mut scores = Vec::with_capacity(lookups.ids.len());
	for ids in lookups.ids.chunks(8192) {
		scores.extend(model.logits(ids, device).into_data().to_vec::<f32>().map_err(|e| format!("{e:?}"))?);
	}
	Ok(auc(&scores, &lookups.labels)?)
}
