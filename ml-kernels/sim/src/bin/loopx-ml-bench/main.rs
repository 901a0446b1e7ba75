//! `loopx-ml-bench`: the ml-kernels benchmarks that are not gossip runs (B1 compression, B2
//! bytes per message, B5 training-step speed). `scripts/bench/ml.sh` runs them all, with the
//! gossip runs (B3, B4) of `loopx-sim`, and collects the figures for `ml-kernels/BENCHMARKS.md`.
//! Every figure is printed as `key = value` lines.

use clap::{Parser, Subcommand};
use loopx_ml_kernels::{
	burn::{
		backend::{flex::FlexDevice, Autodiff, Flex},
		module::AutodiffModule,
		optim::{AdamConfig, SgdConfig},
	},
	data::{movielens, split_in_time_standardized, wallet, Dataset},
	models::{
		mlp::{Mlp, MlpSpec},
		state::dense_f32_bytes,
		train::{classifier_step, evaluate, evaluate_recommender, recommender_step},
		two_tower::{TwoTower, TwoTowerSpec},
	},
	quant::{ErrorFeedback, Precision},
	wire,
};
use loopx_ml_sim::config::parse_modes;
use rand::{seq::SliceRandom, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::{path::PathBuf, time::Instant};

mod synthetic;

type Cpu = Flex;
type Train = Autodiff<Flex>;

#[derive(Parser)]
#[command(name = "loopx-ml-bench", about = "LoopX ml-kernels benchmarks B1, B2, B5")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// B1: MovieLens-100K recommender, dense item table vs TT item table.
	Movielens {
		/// `ml-100k.inter` (scripts/fetch-movielens.sh).
		#[arg(long)]
		data: PathBuf,
		/// Epochs (the best validation epoch is reported).
		#[arg(long, default_value_t = 25)]
		epochs: usize,
		/// TT rank of both tables.
		#[arg(long, default_value_t = 8)]
		rank: usize,
	},
	/// B1: a 10⁶ × 16 embedding table compressed by TT-SVD, AUC of its scores.
	Synthetic {
		/// TT rank of the compressed table.
		#[arg(long, default_value_t = 6)]
		rank: usize,
		/// Standard deviation of the independent per-row noise added to the planted structure.
		#[arg(long, default_value_t = 0.1)]
		noise: f32,
	},
	/// B1: a dense and a TT 10⁶ × 16 table trained end to end on the same labelled lookups
	/// (TT-Rec), test AUC of each.
	SyntheticTrained {
		/// TT rank of the TT table.
		#[arg(long, default_value_t = 6)]
		rank: usize,
		/// Standard deviation of the per-row noise of the hidden table behind the labels.
		#[arg(long, default_value_t = 0.1)]
		noise: f32,
		/// Zipf exponent of how often each wallet is looked up (0 = uniform).
		#[arg(long, default_value_t = 1.0)]
		zipf: f64,
		/// Training lookups.
		#[arg(long, default_value_t = 2_000_000)]
		train: usize,
		/// Epochs (the best validation epoch is reported).
		#[arg(long, default_value_t = 6)]
		epochs: usize,
		/// Lookups per step.
		#[arg(long, default_value_t = 4096)]
		batch: usize,
		/// Adam learning rate.
		#[arg(long, default_value_t = 1e-2)]
		lr: f64,
		/// Train only the TT table (the dense one takes minutes per epoch).
		#[arg(long)]
		tt_only: bool,
	},
	/// B2: bytes of one gossip message, TT + low precision vs dense f32, and the metric cost.
	Bytes {
		/// Hidden layer modes.
		#[arg(long, default_value = "16x16", value_parser = parse_modes)]
		hidden: [usize; 2],
		/// TT rank.
		#[arg(long, default_value_t = 4)]
		rank: usize,
	},
	/// B5: time of one training step (forward, backward, Adam) at batch 64, TT vs dense.
	Speed {
		/// Hidden layer modes (repeatable).
		#[arg(long, value_parser = parse_modes, default_values = ["8x8", "16x16"])]
		hidden: Vec<[usize; 2]>,
		/// TT rank.
		#[arg(long, default_value_t = 4)]
		rank: usize,
		/// Timed steps (after 30 warm-up steps).
		#[arg(long, default_value_t = 500)]
		steps: usize,
	},
}

fn main() {
	let result = match Cli::parse().command {
		Command::Movielens { data, epochs, rank } => movielens_bench(&data, epochs, rank),
		Command::Synthetic { rank, noise } => synthetic::oracle(rank, noise),
		Command::SyntheticTrained { rank, noise, zipf, train, epochs, batch, lr, tt_only } => {
			synthetic::trained(&synthetic::TrainedConfig { rank, noise_sd: noise, zipf, train, epochs, batch, lr, dense: !tt_only })
		},
		Command::Bytes { hidden, rank } => bytes_bench(hidden, rank),
		Command::Speed { hidden, rank, steps } => {
			speed_bench(&hidden, rank, steps);
			Ok(())
		},
	};
	if let Err(e) = result {
		eprintln!("error: {e}");
		std::process::exit(1);
	}
}

type Res = Result<(), Box<dyn std::error::Error>>;

fn movielens_bench(path: &PathBuf, epochs: usize, rank: usize) -> Res {
	let file = std::io::BufReader::new(std::fs::File::open(path)?);
	let ratings = movielens::read_inter(file)?;
	let (train, valid, test) = ratings.split(0.8, 0.1, 42);
	println!(
		"ratings = {} users = {} items = {} (train {}, validation {}, test {})",
		ratings.len(),
		ratings.users,
		ratings.items,
		train.len(),
		valid.len(),
		test.len()
	);
	let tt = TwoTowerSpec {
		users: ratings.users,
		items: ratings.items,
		user_modes: vec![10, 10, 10],
		item_modes: vec![12, 12, 12],
		dim_modes: vec![2, 4, 4],
		rank,
	};
	if !tt.is_valid() {
		return Err("the TT modes do not cover the users and items".into());
	}
	let device = FlexDevice;
	for (name, spec) in [("dense", tt.dense()), ("tt", tt.clone())] {
		let mut best = (f64::INFINITY, f64::INFINITY, 0usize, 0.0f64);
		for l2 in [0.005, 0.02, 0.05] {
			let started = Instant::now();
			let mut model = TwoTower::<Train>::new(&spec, train.mean() as f32, 7, &device);
			let mut optim = AdamConfig::new().init();
			let mut rng = ChaCha8Rng::seed_from_u64(11);
			let mut order: Vec<usize> = (0..train.len()).collect();
			for epoch in 1..=epochs {
				order.shuffle(&mut rng);
				for batch in order.chunks(256) {
					model = recommender_step(model, &mut optim, &train, batch, 5e-3, l2).0;
				}
				let inner = model.valid();
				let v = evaluate_recommender(&inner, &valid, &device)?;
				if v < best.0 {
					best = (v, evaluate_recommender(&inner, &test, &device)?, epoch, l2);
				}
			}
			println!("{name}.l2_{l2}.seconds = {:.1}", started.elapsed().as_secs_f64());
		}
		println!("{name}.item_table_params = {}", spec.item_table_params());
		println!("{name}.params = {}", spec.num_params());
		println!("{name}.best = validation RMSE {:.4} at epoch {} with l2 {}", best.0, best.2, best.3);
		println!("{name}.test_rmse = {:.4}", best.1);
	}
	println!("item_table_compression = {:.1}", tt.dense().item_table_params() as f64 / tt.item_table_params() as f64);
	Ok(())
}

fn wallet_data() -> (Dataset, Dataset) {
	split_in_time_standardized(&wallet::generate(&wallet::WalletConfig { wallets: 3_000, transactions: 60_000, fraud_share: 0.05, seed: 1 }), 0.75)
}

fn train_fraud(spec: &MlpSpec, train: &Dataset, steps: usize) -> Mlp<Train> {
	let device = FlexDevice;
	let mut model = Mlp::<Train>::new(spec, 3, &device);
	let mut optim = AdamConfig::new().init();
	let mut rng = ChaCha8Rng::seed_from_u64(4);
	for _ in 0..steps {
		let rows: Vec<usize> = (0..64).map(|_| rng.random_range(0..train.len())).collect();
		model = classifier_step(model, &mut optim, train, &rows, 2e-3, 1.0).0;
	}
	model
}

fn bytes_bench(hidden: [usize; 2], rank: usize) -> Res {
	let (train, test) = wallet_data();
	let device = FlexDevice;
	let tt_spec = MlpSpec::fraud(hidden, rank);
	let dense = train_fraud(&tt_spec.dense(), &train, 3000).valid();
	let tt = train_fraud(&tt_spec, &train, 3000).valid();
	let dense_auc = evaluate(&dense, &test, &device)?.auc;
	let dense_state = dense.state();
	let mut rng = ChaCha8Rng::seed_from_u64(0);
	let dense_msg = wire::encode(&dense_state.to_message([0; 32], 1, 1, Precision::F32, 64, &mut ErrorFeedback::default(), &mut rng))?;
	println!("bytes.hidden = {}x{} rank = {rank}", hidden[0], hidden[1]);
	println!("bytes.dense_params = {} tt_params = {}", tt_spec.dense().num_params(), tt_spec.num_params());
	println!("bytes.dense_f32_raw = {}", dense_f32_bytes(&dense_state));
	println!("bytes.dense_f32_message = {}", dense_msg.len());
	println!("bytes.dense_auc = {dense_auc:.5}");
	let tt_state = tt.state();
	for precision in [Precision::F32, Precision::Int8, Precision::Int4] {
		let msg = tt_state.to_message([0; 32], 1, 1, precision, 64, &mut ErrorFeedback::default(), &mut rng);
		let encoded = wire::encode(&msg)?;
		let received = tt_state.from_message(&wire::decode(&encoded)?)?;
		let a = evaluate(&Mlp::<Cpu>::from_state(&received, &device), &test, &device)?.auc;
		println!(
			"bytes.tt_{precision:?} = {} bytes, {:.1}x fewer than the dense f32 message, AUC {a:.5} ({:+.3} % vs dense)",
			encoded.len(),
			dense_msg.len() as f64 / encoded.len() as f64,
			100.0 * (a - dense_auc) / dense_auc
		);
	}
	Ok(())
}

fn speed_bench(hiddens: &[[usize; 2]], rank: usize, steps: usize) {
	let (train, _) = wallet_data();
	for &hidden in hiddens {
		let tt = MlpSpec::fraud(hidden, rank);
		let mut medians = Vec::new();
		for (name, spec) in [("tt", tt.clone()), ("dense", tt.dense())] {
			let device = FlexDevice;
			let mut model = Mlp::<Train>::new(&spec, 3, &device);
			let mut adam = AdamConfig::new().init();
			let mut sgd = SgdConfig::new().init();
			let mut rng = ChaCha8Rng::seed_from_u64(4);
			let mut times = Vec::with_capacity(steps);
			for k in 0..steps + 30 {
				let rows: Vec<usize> = (0..64).map(|_| rng.random_range(0..train.len())).collect();
				let started = Instant::now();
				model = classifier_step(model, &mut adam, &train, &rows, 1e-3, 1.0).0;
				if k >= 30 {
					times.push(started.elapsed().as_secs_f64() * 1e6);
				}
			}
			times.sort_by(f64::total_cmp);
			let median = times[times.len() / 2];
			let p90 = times[times.len() * 9 / 10];
			let mut sgd_times = Vec::with_capacity(steps);
			for _ in 0..steps {
				let rows: Vec<usize> = (0..64).map(|_| rng.random_range(0..train.len())).collect();
				let started = Instant::now();
				model = classifier_step(model, &mut sgd, &train, &rows, 1e-3, 1.0).0;
				sgd_times.push(started.elapsed().as_secs_f64() * 1e6);
			}
			sgd_times.sort_by(f64::total_cmp);
			println!(
				"speed.{}x{}.{name} = adam median {median:.0} µs p90 {p90:.0} µs; sgd median {:.0} µs ({} params)",
				hidden[0],
				hidden[1],
				sgd_times[sgd_times.len() / 2],
				spec.num_params()
			);
			medians.push(median);
		}
		println!("speed.{}x{}.tt_over_dense = {:.2}", hidden[0], hidden[1], medians[0] / medians[1]);
	}
}
