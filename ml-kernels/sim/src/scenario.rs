//! The simulation's data: a synthetic wallet-transaction stream, split in time (the first 75 %
//! trains, the rest tests — fraud is judged on transactions the models have not seen),
//! standardised on the training part, sharded across nodes and optionally poisoned.

use crate::config::{SimConfig, Split};
use loopx_ml_kernels::data::{shard, split_in_time_standardized, wallet, Dataset};

/// The data of one simulation.
pub struct Scenario {
	/// The whole (clean) training set: what the central baseline trains on.
	pub train: Dataset,
	/// Each node's shard (label-flipped where the config says so).
	pub shards: Vec<Dataset>,
	/// The held-out test set.
	pub test: Dataset,
}

impl Scenario {
	/// Builds the data for `cfg`.
	pub fn new(cfg: &SimConfig) -> Self {
		let wallets = (cfg.transactions / 20).max(100) as u32;
		let stream = wallet::generate(&wallet::WalletConfig { wallets, transactions: cfg.transactions, fraud_share: 0.05, seed: cfg.seed });
		let (all, test) = split_in_time_standardized(&stream, 0.75);
		let parts = match cfg.split {
			Split::Iid => shard::iid(all.len(), cfg.nodes, cfg.seed ^ 0x5157),
			Split::NonIid => shard::label_skew(&all.labels, cfg.nodes, cfg.alpha, cfg.seed ^ 0x5157),
		};
		let shards = parts
			.iter()
			.enumerate()
			.map(|(i, rows)| {
				let mut s = all.subset(rows);
				if cfg.label_flip > 0.0 {
					s.flip_labels(cfg.label_flip, cfg.seed.wrapping_add(1000 + i as u64));
				}
				s
			})
			.collect();
		Self { train: all, shards, test }
	}
}
