//! The embedded demo data set every validator holds: a seeded synthetic wallet-transaction
//! stream from `ml-kernels`, as the SQL table `transactions` under the dataset tag
//! [`DEMO_TAG`]. The seed is fixed, so every node builds the same rows and honest answers agree.
//!
//! For learning, each validator trains on its own shard of the same synthetic stream (its own
//! seed, [`training_shard`]) and scores models on the shared held-out evaluation set
//! ([`eval_set`]), whose commitment [`DEMO_EVAL_SET`] a builder puts in a task's `eval_set`.

use loopx_ml_kernels::data::{
	table::write_csv,
	wallet::{generate, generate_transactions, Pattern, WalletConfig},
	Dataset,
};
use loopx_query_engine::{ColumnType, Table, Value};
use sp_core::H256;

/// The dataset tag validators advertise for the demo table.
pub const DEMO_TAG: &[u8] = b"wallet-demo";

/// The generator settings of the demo table (shared by every node).
pub const DEMO_CONFIG: WalletConfig = WalletConfig { wallets: 500, transactions: 5_000, fraud_share: 0.05, seed: 0x4c6f_6f70 };

/// The generator settings of the held-out evaluation set (shared by every node; a seed no
/// training shard uses).
pub const EVAL_CONFIG: WalletConfig = WalletConfig { wallets: 500, transactions: 4_000, fraud_share: 0.05, seed: 0x4576_616c_5365_7400 };

/// The commitment to the demo evaluation set: blake2-256 of its CSV form (`ml-kernels`'
/// documented schema). Tasks with this `eval_set` are scored by every validator's workers.
pub const DEMO_EVAL_SET: H256 = H256(EVAL_SET_HASH);
const EVAL_SET_HASH: [u8; 32] = [
	0x6d, 0x18, 0xd1, 0x9c, 0x27, 0x2e, 0xf8, 0x3b, 0x4f, 0xff, 0xbe, 0x60, 0xd7, 0xf6, 0x14, 0xbf, 0xaf, 0x8b, 0xed, 0x09, 0xc5, 0x82, 0x08, 0x7b,
	0xe5, 0x5a, 0xa0, 0xfa, 0xd0, 0xfa, 0xe5, 0xda,
];

/// The held-out evaluation set (featurized wallet transactions, fraud labels).
pub fn eval_set() -> Dataset {
	generate(&EVAL_CONFIG)
}

/// The commitment of a data set: blake2-256 of its CSV form.
pub fn commitment(data: &Dataset) -> H256 {
	let mut csv = Vec::new();
	// Writing to a Vec cannot fail for a well-formed data set; an empty commitment would not
	// match any task.
	if write_csv(data, &mut csv).is_err() {
		return H256::zero();
	}
	H256(sp_crypto_hashing::blake2_256(&csv))
}

/// This node's training data: the same synthetic stream under its own `seed` (each validator
/// passes one derived from its account), so each validator holds a different shard.
pub fn training_shard(seed: u64) -> Dataset {
	generate(&WalletConfig { seed, ..DEMO_CONFIG })
}

/// The demo table:
/// `transactions(time INTEGER, sender INTEGER, receiver INTEGER, amount REAL, fraud INTEGER, pattern TEXT)`,
/// one row a transfer, in time order; `fraud` is 1 for every planted pattern.
pub fn demo_table() -> Table {
	let rows = generate_transactions(&DEMO_CONFIG)
		.into_iter()
		.map(|t| {
			vec![
				Value::Integer(t.time as i64),
				Value::Integer(i64::from(t.from)),
				Value::Integer(i64::from(t.to)),
				Value::Real(t.amount),
				Value::Integer(i64::from(t.pattern != Pattern::Normal)),
				Value::Text(pattern_name(t.pattern).into()),
			]
		})
		.collect();
	Table {
		name: "transactions".into(),
		columns: vec![
			("time".into(), ColumnType::Integer),
			("sender".into(), ColumnType::Integer),
			("receiver".into(), ColumnType::Integer),
			("amount".into(), ColumnType::Real),
			("fraud".into(), ColumnType::Integer),
			("pattern".into(), ColumnType::Text),
		],
		rows,
	}
}

fn pattern_name(p: Pattern) -> &'static str {
	match p {
		Pattern::Normal => "normal",
		Pattern::FanOut => "fan_out",
		Pattern::PeelChain => "peel_chain",
		Pattern::AmountOutlier => "amount_outlier",
		Pattern::Sybil => "sybil",
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_eval_set_commitment_is_pinned() {
		assert_eq!(commitment(&eval_set()), DEMO_EVAL_SET, "{:?}", commitment(&eval_set()));
	}

	#[test]
	fn shards_differ_by_seed_and_hold_fraud() {
		let (a, b) = (training_shard(1), training_shard(2));
		assert_ne!(a.features, b.features);
		for shard in [a, b] {
			let fraud = shard.labels.iter().filter(|&&l| l).count();
			assert!(fraud > shard.len() / 50 && fraud < shard.len() / 5, "{fraud} of {}", shard.len());
		}
	}
}
