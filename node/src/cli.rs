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
	/// better model metrics than reached; `garbage-requests`: send peers malformed
	/// model-protocol requests). The chain should
	/// catch and slash it; the end-to-end tests use this to show that it does.
	#[arg(long, value_enum, hide = true)]
	pub worker_fault: Vec<WorkerFault>,
}

/// A cheat to inject into the workers (`--worker-fault`; tests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerFault {
	/// Reveal forged answers to compute-market queries.
	ForgeAnswers,
	/// Claim a better metric than the trained model reaches.
	ForgeClaims,
	/// Send malformed model-protocol requests to every peer each block.
	GarbageRequests,
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
}
