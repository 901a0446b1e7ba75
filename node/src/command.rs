//! Parses the command line and runs the node or a subcommand.

use std::sync::Arc;

use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use loopx_runtime::opaque::Block;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"LoopX Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"the LoopX issue tracker".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		chain_spec::load(id)
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } = service::new_partial(&config)?;
				// BABE's epoch tree and GRANDPA's authority set live in aux storage: revert them
				// together with the blocks.
				let aux_revert = Box::new(|client: Arc<service::FullClient>, backend: Arc<service::FullBackend>, blocks| {
					sc_consensus_babe::revert(client.clone(), backend, blocks)?;
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => crate::benchmarking::run(&cli, cmd),
		#[cfg(not(feature = "runtime-benchmarks"))]
		Some(Subcommand::Benchmark { .. }) => Err("this loopx-node was built without benchmarks: \
			build one with `cargo build --release -p loopx-node --features runtime-benchmarks` \
			(use a separate CARGO_TARGET_DIR: see the README)"
			.into()),
		Some(Subcommand::EvaluateModel(cmd)) => cmd.run().map_err(sc_cli::Error::Input),
		Some(Subcommand::Dataset(cmd)) => cmd.run().map_err(sc_cli::Error::Input),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			runner.run_node_until_exit(|mut config| async move {
				// Substrate quietly moves the RPC server to a random port when the one asked for
				// is taken; an operator (and polkadot.js) would then talk to the wrong node or to
				// none. Fail instead.
				for endpoint in config.rpc.addr.iter_mut().flatten() {
					endpoint.retry_random_port = false;
				}
				crate::preflight::check_ports(&config).map_err(sc_cli::Error::Input)?;
				let selling = cli.sell_plan().map_err(sc_cli::Error::Input)?;
				let acting_for = cli.worker_stash().map_err(sc_cli::Error::Input)?;
				let sql_datasets = cli.sql_datasets().map_err(sc_cli::Error::Input)?;
				let chain_index_kept = cli.chain_index_kept().map_err(sc_cli::Error::Input)?;
				let buying = cli.buy_plan().map_err(sc_cli::Error::Input)?;
				let workers = (!cli.no_workers).then(|| service::WorkerOptions {
					faults: loopx_worker::Faults {
						forge_answers: cli.worker_fault.contains(&crate::cli::WorkerFault::ForgeAnswers),
						forge_claims: cli.worker_fault.contains(&crate::cli::WorkerFault::ForgeClaims),
						garbage_requests: cli.worker_fault.contains(&crate::cli::WorkerFault::GarbageRequests),
						sell_garbage: cli.worker_fault.contains(&crate::cli::WorkerFault::SellGarbage),
						slow_training: cli.worker_fault.contains(&crate::cli::WorkerFault::SlowTraining),
					},
					selling,
					buying,
					acting_for,
					sql_datasets,
					chain_index_kept,
					chain_index_backfill: cli.chain_index_backfill(),
				});
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						service::new_full::<sc_network::NetworkWorker<Block, <Block as sp_runtime::traits::Block>::Hash>>(config, workers)
							.map_err(sc_cli::Error::Service)
					},
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(config, workers).map_err(sc_cli::Error::Service)
					},
				}
			})
		},
	}
}
