//! The embedded demo data set every validator holds: a seeded synthetic wallet-transaction
//! stream from `ml-kernels`, as the SQL table `transactions` under the dataset tag
//! [`DEMO_TAG`]. The seed is fixed, so every node builds the same rows and honest answers agree.

use loopx_ml_kernels::data::wallet::{generate_transactions, Pattern, WalletConfig};
use loopx_query_engine::{ColumnType, Table, Value};

/// The dataset tag validators advertise for the demo table.
pub const DEMO_TAG: &[u8] = b"wallet-demo";

/// The generator settings of the demo table (shared by every node).
pub const DEMO_CONFIG: WalletConfig =
	WalletConfig { wallets: 500, transactions: 5_000, fraud_share: 0.05, seed: 0x4c6f_6f70 };

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
