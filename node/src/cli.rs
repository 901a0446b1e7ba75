//! Command-line interface: the standard Substrate node CLI.

/// `loopx-node` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of the node itself (`--dev`, `--chain`, `--validator`, `--base-path`, ports, ...).
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Do not run the native workers (which a validator runs by default: advertising and
	/// answering compute-market queries with the `lpxw` key). For nodes whose validator
	/// duties someone plays by hand, e.g. tests that submit a validator's answers themselves.
	#[arg(long)]
	pub no_workers: bool,

	/// TEST FACILITY, never on a real network: make this validator's workers cheat
	/// (`forge-answers`: reveal forged answers to compute-market queries; `forge-claims`: claim
	/// model metrics not reached; `garbage-requests`: send peers malformed
	/// model-protocol requests; `sell-garbage`: as a data node, deliver garbage). The chain should
	/// catch and slash it; the end-to-end tests use this to show that it does.
	#[arg(long, value_enum, hide = true)]
	pub worker_fault: Vec<WorkerFault>,

	/// The stash account (SS58) the worker key (`lpxw`) acts for, as its `Worker` proxy: the
	/// stash adds the proxy once with `proxy.addProxy(workerKeyAccount, Worker, 0)` and its own
	/// key never touches the node. The worker key's account pays the fees. Without it, the
	/// workers act as the worker key's own account.
	#[arg(long, value_name = "SS58")]
	pub worker_stash: Option<String>,

	/// An SQL dataset of the operator's: `<name>:<table>=<file.csv>` (repeatable). The CSV's
	/// header names the columns; each column is INTEGER, REAL or TEXT, the narrowest that holds
	/// its values. Advertised to the compute market as `<name>#<first 8 bytes of the file's
	/// blake2-256 in hex>`, so that only validators holding the same file answer the same tag.
	#[arg(long, value_name = "NAME:TABLE=FILE")]
	pub sql_dataset: Vec<String>,

	/// Keep only the last N finalized blocks in the chain index (at least 1,200): every table
	/// but `transfers` is cut below them. The validator then advertises `chain/v2/last<N>` and is
	/// drawn only for `chain@<from>..<to>` queries whose first block it still keeps at their
	/// deadline. Without it every block since genesis is kept.
	#[arg(long, value_name = "N")]
	pub chain_index_keep_blocks: Option<u32>,

	/// Blocks the chain index writes in one transaction while it backfills (1 to 4,096). A
	/// crash loses at most one batch's work.
	#[arg(long, value_name = "N", default_value_t = loopx_worker::chain_index::BATCH, value_parser = clap::value_parser!(u64).range(1..=4096))]
	pub chain_index_batch: u64,

	/// A pause, in milliseconds, after each batch the chain index writes while it backfills:
	/// spreads a long backfill out so that it leaves the CPU to block production and the
	/// workers on a small machine.
	#[arg(long, value_name = "MS", default_value_t = 0)]
	pub chain_index_pause_ms: u64,

	/// Run as a data node: sell a data set in the data market with the `lpxw` key's account
	/// (keep one offer in the book, seal the rows to each buyer's key, deliver them over the
	/// node's deals protocol, get paid on confirmation). Works without `--validator`.
	#[arg(long)]
	pub data_node: bool,

	/// The data set a data node sells: a CSV file of the schema in `ml-kernels`' `data::table`
	/// (`label`, optional `group`, numeric features). Default: the embedded demo generator's
	/// wallet transactions, a shard seeded by the node's account.
	#[arg(long, value_name = "PATH", requires = "data_node")]
	pub ml_data: Option<std::path::PathBuf>,

	/// The offers of a data node: a JSON file such as
	/// `{"tag": "wallet-tx", "price": 1000000000000, "quantity": 1, "lifetime": 200,
	/// "model_tag": "wallet-model", "model_price": 500000000000}` (every field optional; these
	/// are the defaults: 1 LPX for the data set, 0.5 LPX for a local model trained on it, one
	/// buyer an offer, 200 blocks in the book; `"model_tag": ""` sells no model).
	#[arg(long, value_name = "PATH", requires = "data_node")]
	pub data_offers: Option<std::path::PathBuf>,

	/// What a validator buys in the data market: a JSON file such as
	/// `{"tag": "wallet-tx", "model_tag": "wallet-model", "max_price": 10000000000000,
	/// "lifetime": 100, "max_datasets": 8}` (every field optional; these are the defaults: data
	/// sets and local models at up to 10 LPX each, a bid 100 blocks in the book, 8 bought at most
	/// in the node's life — a bound on spending; `"model_tag": ""` buys no local models). Only
	/// data sets of the schema the node trains on and local models of tasks it works on are
	/// bought.
	#[arg(long, value_name = "PATH")]
	pub buy_plan: Option<std::path::PathBuf>,
}

/// What a validator buys (`--buy-plan`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataBuys {
	/// The market of data sets.
	#[serde(default = "default_tag")]
	pub tag: String,
	/// The market of local models (empty: none bought).
	#[serde(default = "default_model_tag")]
	pub model_tag: String,
	/// Highest price paid per data set or local model, in plancks.
	#[serde(default = "default_max_price")]
	pub max_price: u128,
	/// Blocks a bid stays in the book.
	#[serde(default = "default_bid_lifetime")]
	pub lifetime: u32,
	/// Data sets and local models bought at most.
	#[serde(default = "default_max_datasets")]
	pub max_datasets: u32,
}

impl Default for DataBuys {
	fn default() -> Self {
		Self {
			tag: default_tag(),
			model_tag: default_model_tag(),
			max_price: default_max_price(),
			lifetime: default_bid_lifetime(),
			max_datasets: default_max_datasets(),
		}
	}
}

fn default_max_price() -> u128 {
	loopx_worker::deals::BuyPlan::default().max_price
}
fn default_bid_lifetime() -> u32 {
	loopx_worker::deals::BuyPlan::default().lifetime
}
fn default_max_datasets() -> u32 {
	loopx_worker::deals::BuyPlan::default().max_datasets as u32
}

impl DataBuys {
	/// The plan these settings describe, or why they are wrong.
	pub fn plan(self) -> Result<loopx_worker::deals::BuyPlan, String> {
		if self.tag.is_empty() || self.tag.len() > 32 || self.model_tag.len() > 32 || self.lifetime == 0 || self.max_datasets == 0 {
			return Err("the tag must have 1 to 32 bytes, the model tag at most 32, lifetime and max_datasets must not be zero".into());
		}
		if self.model_tag == self.tag {
			return Err("the model tag must differ from the data tag (a bid buys from one book)".into());
		}
		Ok(loopx_worker::deals::BuyPlan {
			tag: self.tag.into_bytes(),
			model_tag: (!self.model_tag.is_empty()).then(|| self.model_tag.into_bytes()),
			max_price: self.max_price,
			lifetime: self.lifetime,
			max_datasets: self.max_datasets as usize,
		})
	}
}

/// The offer settings of a data node (`--data-offers`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataOffers {
	/// The market.
	#[serde(default = "default_tag")]
	pub tag: String,
	/// Price per unit, in plancks (10^-12 LPX).
	#[serde(default = "default_price")]
	pub price: u128,
	/// Units (buyers) per offer.
	#[serde(default = "default_quantity")]
	pub quantity: u32,
	/// Blocks an offer stays in the book.
	#[serde(default = "default_lifetime")]
	pub lifetime: u32,
	/// The market of the local model trained on the data (empty: no model is sold).
	#[serde(default = "default_model_tag")]
	pub model_tag: String,
	/// Price of the local model per unit, in plancks.
	#[serde(default = "default_model_price")]
	pub model_price: u128,
}

fn default_tag() -> String {
	String::from_utf8_lossy(loopx_worker::deals::DATA_TAG).into_owned()
}
fn default_price() -> u128 {
	loopx_runtime::UNITS
}
fn default_quantity() -> u32 {
	1
}
fn default_lifetime() -> u32 {
	200
}
fn default_model_tag() -> String {
	String::from_utf8_lossy(loopx_worker::deals::MODEL_TAG).into_owned()
}
fn default_model_price() -> u128 {
	loopx_runtime::UNITS / 2
}

impl Default for DataOffers {
	fn default() -> Self {
		Self {
			tag: default_tag(),
			price: default_price(),
			quantity: default_quantity(),
			lifetime: default_lifetime(),
			model_tag: default_model_tag(),
			model_price: default_model_price(),
		}
	}
}

impl Cli {
	/// The chain index's bound (`--chain-index-keep-blocks`), or why it is refused.
	pub fn chain_index_kept(&self) -> Result<Option<u32>, String> {
		match self.chain_index_keep_blocks {
			Some(n) if n < loopx_worker::chain_index::MIN_KEPT_BLOCKS => {
				Err(format!("--chain-index-keep-blocks {n}: keep at least {} blocks", loopx_worker::chain_index::MIN_KEPT_BLOCKS))
			},
			kept => Ok(kept),
		}
	}

	/// How the chain index backfills (`--chain-index-batch`, `--chain-index-pause-ms`).
	pub fn chain_index_backfill(&self) -> loopx_worker::chain_index::Backfill {
		loopx_worker::chain_index::Backfill { batch: self.chain_index_batch, pause: std::time::Duration::from_millis(self.chain_index_pause_ms) }
	}

	/// The datasets of `--sql-dataset`, loaded, or why one does not load.
	pub fn sql_datasets(&self) -> Result<Vec<loopx_worker::sql_datasets::SqlDataset>, String> {
		let datasets = self.sql_dataset.iter().map(|spec| loopx_worker::sql_datasets::load(spec)).collect::<Result<Vec<_>, _>>()?;
		for (i, d) in datasets.iter().enumerate() {
			if datasets[..i].iter().any(|e| e.tag.split(|b| *b == b'#').next() == d.tag.split(|b| *b == b'#').next()) {
				return Err(format!("--sql-dataset: the name of {:?} is used twice", String::from_utf8_lossy(&d.tag)));
			}
		}
		Ok(datasets)
	}

	/// The stash of `--worker-stash`, or why it does not parse.
	pub fn worker_stash(&self) -> Result<Option<loopx_runtime::AccountId>, String> {
		use sp_core::crypto::Ss58Codec;
		self.worker_stash
			.as_deref()
			.map(|s| loopx_runtime::AccountId::from_ss58check(s).map_err(|e| format!("--worker-stash {s}: not an SS58 account ({e:?})")))
			.transpose()
	}

	/// What a validator buys (`--buy-plan`, else the defaults), or why the file is wrong.
	pub fn buy_plan(&self) -> Result<loopx_worker::deals::BuyPlan, String> {
		let buys = match &self.buy_plan {
			Some(path) => {
				let text = std::fs::read_to_string(path).map_err(|e| format!("--buy-plan {}: {e}", path.display()))?;
				serde_json::from_str::<DataBuys>(&text).map_err(|e| format!("--buy-plan {}: {e}", path.display()))?
			},
			None => DataBuys::default(),
		};
		buys.plan().map_err(|e| format!("--buy-plan: {e}"))
	}

	/// What the data node sells (`None` without `--data-node`), or why the options are wrong.
	pub fn sell_plan(&self) -> Result<Option<loopx_worker::deals::SellPlan>, String> {
		if !self.data_node {
			return Ok(None);
		}
		let offers = match &self.data_offers {
			Some(path) => {
				let text = std::fs::read_to_string(path).map_err(|e| format!("--data-offers {}: {e}", path.display()))?;
				serde_json::from_str::<DataOffers>(&text).map_err(|e| format!("--data-offers {}: {e}", path.display()))?
			},
			None => DataOffers::default(),
		};
		if offers.tag.is_empty() || offers.tag.len() > 32 || offers.model_tag.len() > 32 || offers.quantity == 0 || offers.lifetime == 0 {
			return Err("--data-offers: the tag must have 1 to 32 bytes, the model tag at most 32, quantity and lifetime must not be zero".into());
		}
		if offers.model_tag == offers.tag {
			return Err("--data-offers: the model tag must differ from the data tag (a bid buys from one book)".into());
		}
		let data = match &self.ml_data {
			Some(path) => Some(loopx_worker::deals::read_data_file(path).map_err(|e| format!("--ml-data {}: {e}", path.display()))?),
			None => None,
		};
		Ok(Some(loopx_worker::deals::SellPlan {
			tag: offers.tag.into_bytes(),
			price: offers.price,
			quantity: offers.quantity,
			lifetime: offers.lifetime,
			data,
			model: (!offers.model_tag.is_empty()).then(|| (offers.model_tag.into_bytes(), offers.model_price)),
		}))
	}
}

/// A cheat to inject into the workers (`--worker-fault`; tests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerFault {
	/// Reveal forged answers to compute-market queries.
	ForgeAnswers,
	/// Claim a metric the trained model does not reach.
	ForgeClaims,
	/// Send malformed model-protocol requests to every peer each block.
	GarbageRequests,
	/// As a data node, deliver garbage sealed under the committed deal key.
	SellGarbage,
	/// Train as a very slow machine would: each round's local update waits a minute first.
	SlowTraining,
}

/// Subcommands of `loopx-node`.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (`--raw` for the raw form that nodes share).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a built-in or file chain.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Runtime and node benchmarks (`pallet`, `overhead`, `block`, `storage`, `extrinsic`,
	/// `machine`). Available in a node built with `--features runtime-benchmarks`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Stand-in for `benchmark` in a node built without benchmarks: says how to get one.
	#[cfg(not(feature = "runtime-benchmarks"))]
	#[command(disable_help_flag = true)]
	Benchmark {
		/// Ignored: the benchmark command line.
		#[arg(trailing_var_arg = true, allow_hyphen_values = true)]
		args: Vec<String>,
	},

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Score a model payload on its task's evaluation set (the demo one, or a CSV file given
	/// with `--eval-csv`), as the validators' votes do, and print the metrics as JSON: an
	/// independent check of a claimed or accepted metric.
	EvaluateModel(EvaluateModelCmd),

	/// Data-set tools for builders and data nodes.
	#[command(subcommand)]
	Dataset(DatasetCmd),
}

/// `loopx-node dataset …`.
#[derive(Debug, clap::Subcommand)]
pub enum DatasetCmd {
	/// Print what the chain names a CSV data set by, as JSON: its schema hash (an offer's
	/// `schema`), its commitment (a task's `eval_set`, an offer's `contentHash`), size and rows,
	/// the feature columns, the label balance and the groups. A bad row is refused with its line.
	Inspect(DatasetInspectCmd),
}

impl DatasetCmd {
	/// Runs the subcommand.
	pub fn run(&self) -> Result<(), String> {
		match self {
			Self::Inspect(cmd) => cmd.run(),
		}
	}
}

/// `loopx-node dataset inspect`.
#[derive(Debug, clap::Args)]
pub struct DatasetInspectCmd {
	/// The CSV file: a `label` column (0/1), an optional `group` column, numeric features.
	#[arg(value_name = "FILE")]
	pub file: std::path::PathBuf,
}

impl DatasetInspectCmd {
	/// Prints the data set's description as one JSON object.
	pub fn run(&self) -> Result<(), String> {
		let data = loopx_worker::dataset_info::read_file(&self.file).map_err(|e| format!("{}: {e}", self.file.display()))?;
		let i = loopx_worker::dataset_info::inspect(&data).map_err(|e| format!("{}: {e}", self.file.display()))?;
		let json = serde_json::json!({
			"schema": format!("{:?}", i.schema), "commitment": format!("{:?}", i.commitment), "size": i.size,
			"rows": i.rows, "features": i.features, "positives": i.positives, "negatives": i.rows - i.positives,
			"groups": i.groups, "largestGroup": i.largest_group,
		});
		println!("{json}");
		Ok(())
	}
}

/// `loopx-node evaluate-model`.
#[derive(Debug, clap::Args)]
pub struct EvaluateModelCmd {
	/// The task's spec, SCALE-encoded, in hex: `builderMarket.tasks(id).unwrap().spec.toHex()`
	/// in polkadot.js.
	#[arg(long, value_name = "HEX")]
	pub spec: String,
	/// The model payload (wire format), e.g. a file `<hash>.payload` from a node's
	/// `<base>/chains/<id>/loopx-models`.
	#[arg(long, value_name = "PATH")]
	pub payload: std::path::PathBuf,
	/// The task's evaluation set as a CSV file (its commitment must be the task's `eval_set`:
	/// `loopx-node dataset inspect` prints it). Without it, only tasks scored on the demo set.
	#[arg(long, value_name = "FILE")]
	pub eval_csv: Option<std::path::PathBuf>,
}

impl EvaluateModelCmd {
	/// Prints the evaluation of the payload as one JSON object.
	pub fn run(&self) -> Result<(), String> {
		let spec = sp_core::bytes::from_hex(&self.spec).map_err(|e| format!("--spec: not hex: {e}"))?;
		let payload = std::fs::read(&self.payload).map_err(|e| format!("--payload {}: {e}", self.payload.display()))?;
		let eval = match &self.eval_csv {
			Some(path) => Some(loopx_worker::dataset_info::read_file(path).map_err(|e| format!("--eval-csv {}: {e}", path.display()))?),
			None => None,
		};
		let e = loopx_worker::evaluate::evaluate_payload(&spec, &payload, eval.as_ref()).map_err(|e| e.to_string())?;
		let json = serde_json::json!({
			"task": e.task, "hash": e.hash, "rows": e.rows,
			"auc": e.auc, "accuracy": e.accuracy, "logLoss": e.log_loss, "metricPpm": e.metric_ppm,
		});
		println!("{json}");
		Ok(())
	}
}

#[cfg(test)]
mod buy_plan_tests {
	use super::DataBuys;

	fn parse(json: &str) -> Result<loopx_worker::deals::BuyPlan, String> {
		serde_json::from_str::<DataBuys>(json).map_err(|e| e.to_string())?.plan()
	}

	#[test]
	fn a_buy_plan_defaults_to_the_workers_and_takes_the_operators_bounds() {
		let default = loopx_worker::deals::BuyPlan::default();
		let plan = parse("{}").unwrap();
		assert_eq!(
			(plan.tag, plan.model_tag, plan.max_price, plan.lifetime, plan.max_datasets),
			(default.tag, default.model_tag, default.max_price, default.lifetime, default.max_datasets)
		);
		let plan = parse(r#"{"max_price": 5, "max_datasets": 2, "model_tag": ""}"#).unwrap();
		assert_eq!((plan.max_price, plan.max_datasets, plan.model_tag), (5, 2, None));
	}

	#[test]
	fn a_bad_buy_plan_is_refused_with_the_reason() {
		assert!(parse(r#"{"max_datasets": 0}"#).unwrap_err().contains("must not be zero"));
		assert!(parse(r#"{"tag": ""}"#).is_err());
		assert!(parse(r#"{"model_tag": "wallet-tx"}"#).unwrap_err().contains("must differ"));
		assert!(parse(r#"{"budget": 1}"#).unwrap_err().contains("unknown field"));
	}
}
