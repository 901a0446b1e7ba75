//! The node service: client, database, networking, BABE block production, GRANDPA finality,
//! transaction pool, offchain workers and RPC, assembled from the `sc-*` building blocks.

use std::{sync::Arc, time::Duration};

use futures::FutureExt;
use loopx_runtime::{opaque::Block, RuntimeApi};
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_babe::{BabeWorkerHandle, SlotProportion};
use sc_consensus_grandpa as grandpa;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_inherents::CreateInherentDataProviders;

/// Host functions the runtime may call (plus the benchmarking ones in a benchmarking build).
#[cfg(not(feature = "runtime-benchmarks"))]
pub type HostFunctions = sp_io::SubstrateHostFunctions;
/// Host functions the runtime may call (plus the benchmarking ones in a benchmarking build).
#[cfg(feature = "runtime-benchmarks")]
pub type HostFunctions = (sp_io::SubstrateHostFunctions, frame_benchmarking::benchmarking::HostFunctions);

/// The full client: runtime executed by wasmtime.
pub type FullClient = sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
pub type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type FullGrandpaBlockImport = grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
/// The transaction pool of the node.
pub type TransactionPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;

/// What BABE needs on every block: the slot and the timestamp.
type BabeInherentProviders = (sp_consensus_babe::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider);
/// Creates [`BabeInherentProviders`] for a block; behind an `Arc` so that the block import has a
/// nameable (and cloneable) type.
type BabeInherents = Arc<dyn CreateInherentDataProviders<Block, (), InherentDataProviders = BabeInherentProviders>>;
/// BABE's block import, wrapping GRANDPA's.
type FullBabeBlockImport = sc_consensus_babe::BabeBlockImport<Block, FullClient, FullGrandpaBlockImport, BabeInherents, FullSelectChain>;

/// GRANDPA produces a justification at least every this many blocks (and at every set change),
/// so light clients and warp sync have regular proofs of finality.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// Slot and timestamp inherent providers for the slot containing "now".
fn babe_inherents(slot_duration: sp_consensus_babe::SlotDuration) -> BabeInherents {
	Arc::new(move |_parent, ()| async move {
		let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
		let slot = sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(*timestamp, slot_duration);
		Ok((slot, timestamp))
	})
}

/// Parts of the node that the subcommands (check-block, import-blocks, revert, ...) share with
/// the full service.
pub struct Extra {
	/// BABE's block import (wrapping GRANDPA's).
	pub block_import: FullBabeBlockImport,
	/// GRANDPA's link to the voter.
	pub grandpa_link: grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
	/// BABE's link to the authoring worker.
	pub babe_link: sc_consensus_babe::BabeLink<Block>,
	/// Handle to BABE's epoch worker, for the BABE RPC.
	pub babe_worker_handle: BabeWorkerHandle<Block>,
	/// Telemetry, when endpoints are configured.
	pub telemetry: Option<Telemetry>,
}

/// The components every subcommand and the full node need.
pub type Service =
	sc_service::PartialComponents<FullClient, FullBackend, FullSelectChain, sc_consensus::DefaultImportQueue<Block>, TransactionPool, Extra>;

/// Builds client, backend, import queue and transaction pool.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) = sc_service::new_full_parts::<Block, RuntimeApi, _>(
		config,
		telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
		executor,
		Vec::new(),
	)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(task_manager.spawn_essential_handle(), client.clone(), config.role.is_authority().into())
			.with_options(config.transaction_pool.clone())
			.with_prometheus(config.prometheus_registry())
			.build(),
	);

	let (grandpa_block_import, grandpa_link) = grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&(client.clone() as Arc<_>),
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;
	let justification_import = grandpa_block_import.clone();

	let babe_config = sc_consensus_babe::configuration(&*client)?;
	let slot_duration = babe_config.slot_duration();
	let (block_import, babe_link) = sc_consensus_babe::block_import(
		babe_config,
		grandpa_block_import,
		client.clone(),
		babe_inherents(slot_duration),
		select_chain.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	)?;

	let (import_queue, babe_worker_handle) = sc_consensus_babe::import_queue(sc_consensus_babe::ImportQueueParams {
		link: babe_link.clone(),
		block_import: block_import.clone(),
		justification_import: Some(Box::new(justification_import)),
		client: client.clone(),
		slot_duration,
		spawner: &task_manager.spawn_essential_handle(),
		registry: config.prometheus_registry(),
		telemetry: telemetry.as_ref().map(|x| x.handle()),
	})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: Extra { block_import, grandpa_link, babe_link, babe_worker_handle, telemetry },
	})
}

/// What the LoopX native workers of this node do.
pub struct WorkerOptions {
	/// Injected faults (tests only).
	pub faults: loopx_worker::Faults,
	/// What a data node sells (`--data-node`).
	pub selling: Option<loopx_worker::deals::SellPlan>,
	/// What a validator buys (`--buy-plan`).
	pub buying: loopx_worker::deals::BuyPlan,
	/// The stash the worker key is a proxy of (`--worker-stash`).
	pub acting_for: Option<loopx_runtime::AccountId>,
	/// The operator's own SQL datasets (`--sql-dataset`).
	pub sql_datasets: Vec<loopx_worker::sql_datasets::SqlDataset>,
	/// The blocks the chain index keeps (`--chain-index-keep-blocks`; `None`: all).
	pub chain_index_kept: Option<u32>,
	/// How the chain index backfills (`--chain-index-batch`, `--chain-index-pause-ms`).
	pub chain_index_backfill: loopx_worker::chain_index::Backfill,
}

/// Builds and starts the full node: networking, RPC, BABE authoring (for validators), the
/// GRANDPA voter, offchain workers and (unless `workers` is `None`) the LoopX native workers:
/// a validator's, a data node's, or both.
pub fn new_full<N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>>(
	config: Configuration,
	workers: Option<WorkerOptions>,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: Extra { block_import, grandpa_link, babe_link, babe_worker_handle, mut telemetry },
	} = new_partial(&config)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<Block, <Block as sp_runtime::traits::Block>::Hash, N>::new(
		&config.network,
		config.prometheus_registry().cloned(),
	);
	let metrics = N::register_notification_metrics(config.prometheus_registry());
	let peer_store_handle = net_config.peer_store_handle();

	let genesis_hash = client.block_hash(0).ok().flatten().ok_or_else(|| ServiceError::Other("the genesis block is missing".into()))?;
	let grandpa_protocol_name = grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		grandpa::grandpa_peers_set_config::<_, N>(grandpa_protocol_name.clone(), metrics.clone(), peer_store_handle);
	net_config.add_notification_protocol(grandpa_protocol_config);
	// LoopX's own protocols, served by every node: compressed models and sealed data-market
	// payloads, fetched by hash.
	use loopx_worker::payload_net::{self, Payloads};
	let (models_protocol_config, model_requests) = payload_net::config::<N>(&genesis_hash, Payloads::Models);
	net_config.add_request_response_protocol(models_protocol_config);
	let (deals_protocol_config, deal_requests) = payload_net::config::<N>(&genesis_hash, Payloads::Deals);
	net_config.add_request_response_protocol(deals_protocol_config);
	// And a gossip protocol on which workers announce the models they hold.
	let (announce_protocol_config, announce_service) =
		loopx_worker::announce::config::<N>(&genesis_hash, metrics.clone(), net_config.peer_store_handle());
	net_config.add_notification_protocol(announce_protocol_config);

	let warp_sync = Arc::new(grandpa::warp_proof::NetworkProvider::new(backend.clone(), grandpa_link.shared_authority_set().clone(), Vec::default()));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) = sc_service::build_network(sc_service::BuildNetworkParams {
		config: &config,
		net_config,
		client: client.clone(),
		transaction_pool: transaction_pool.clone(),
		spawn_handle: task_manager.spawn_handle(),
		spawn_essential_handle: task_manager.spawn_essential_handle(),
		import_queue,
		block_announce_validator_builder: None,
		warp_sync_config: Some(sc_service::WarpSyncConfig::WithProvider(warp_sync)),
		block_relay: None,
		metrics,
		gap_sync_body_policy: None,
	})?;

	if config.offchain_worker.enabled {
		let offchain_workers = sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
			runtime_api_provider: client.clone(),
			is_validator: config.role.is_authority(),
			keystore: Some(keystore_container.keystore()),
			offchain_db: backend.offchain_storage(),
			transaction_pool: Some(OffchainTransactionPoolFactory::new(transaction_pool.clone())),
			network_provider: Arc::new(network.clone()),
			enable_http_requests: false,
			custom_extensions: |_| vec![],
		})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	let open_store = |dir: &str| {
		loopx_worker::payload_store::PayloadStore::open(&config.data_path.join(dir))
			.map_err(|e| ServiceError::Other(format!("payload store {dir} in {}: {e}", config.data_path.display())))
	};
	let models = open_store("loopx-models")?;
	let deals = open_store("loopx-deals")?;
	let bought = open_store("loopx-bought")?;
	let worker_metrics =
		loopx_worker::Metrics::register(config.prometheus_registry()).map_err(|e| ServiceError::Other(format!("worker metrics: {e}")))?;
	task_manager.spawn_handle().spawn(
		"loopx-models-server",
		Some("loopx-worker"),
		payload_net::serve(models.clone(), Payloads::Models, model_requests, worker_metrics.clone()),
	);
	// Sealed payloads of deals this node sold (the data-node worker fills the store).
	task_manager.spawn_handle().spawn(
		"loopx-deals-server",
		Some("loopx-worker"),
		payload_net::serve(deals.clone(), Payloads::Deals, deal_requests, worker_metrics.clone()),
	);

	let (announcer, announcing) =
		loopx_worker::announce::Announcer::new(network.clone(), sync_service.clone(), announce_service, &genesis_hash, worker_metrics.clone());
	task_manager.spawn_handle().spawn("loopx-announce", Some("loopx-worker"), announcing);

	let validator = config.role.is_authority();
	if let Some(WorkerOptions { faults, selling, buying, acting_for, sql_datasets, chain_index_kept, chain_index_backfill }) =
		workers.filter(|w| validator || w.selling.is_some())
	{
		let keystore = keystore_container.keystore();
		if let Some(seed) = &config.dev_key_seed {
			loopx_worker::insert_dev_key(&keystore, seed).map_err(ServiceError::Other)?;
		}
		// Fetches run as tasks of their own: the workers' block pass never waits for a peer.
		// Models fetched land in the store the node serves from; sealed deliveries in a
		// memory-only store of their own (the buyer opens them, it does not serve them).
		let spawner: Arc<dyn sp_core::traits::SpawnNamed> = Arc::new(task_manager.spawn_handle());
		let fetcher = payload_net::PayloadFetcher::new(network.clone(), sync_service.clone(), &genesis_hash, Payloads::Models)
			.with_announcer(announcer)
			.in_background(spawner.clone(), models.clone(), worker_metrics.clone());
		let deal_fetcher = payload_net::PayloadFetcher::new(network.clone(), sync_service.clone(), &genesis_hash, Payloads::Deals).in_background(
			spawner,
			loopx_worker::payload_store::PayloadStore::default(),
			worker_metrics.clone(),
		);
		// Validators index the chain into SQL tables for `chain@<n>` queries.
		let chain_index = if validator {
			use loopx_worker::chain_index;
			let path = config.data_path.join(chain_index::STORE_FILE);
			if let Some(sc_service::PruningMode::Constrained(c)) = &config.state_pruning {
				log::warn!(
					"the chain index reads the state of every finalized block it indexes: with the state of only the last {:?} blocks \
					 kept, this node cannot backfill a longer gap; run validators with --state-pruning archive-canonical",
					c.max_blocks
				);
			}
			let store = chain_index::ChainStore::open(&path).map_err(|e| ServiceError::Other(format!("chain index {}: {e}", path.display())))?;
			let status =
				chain_index::IndexStatus::new(&store, sc_client_api::HeaderBackend::info(&*client).finalized_number.into(), chain_index_kept);
			let scorer = chain_index::scores::TransferScorer::new(models.clone(), Some(fetcher.clone()), worker_metrics.clone());
			let indexing = chain_index::run(client.clone(), store, scorer, status.clone(), chain_index_backfill, worker_metrics.clone());
			task_manager.spawn_handle().spawn_blocking("loopx-chain-index", Some("loopx-worker"), indexing);
			Some((path, status))
		} else {
			None
		};
		let params = loopx_worker::Params {
			client: client.clone(),
			pool: transaction_pool.clone(),
			offchain_pool: OffchainTransactionPoolFactory::new(transaction_pool.clone()),
			keystore,
			acting_for,
			offchain_storage: backend.offchain_storage(),
			metrics: worker_metrics,
			faults,
			models,
			fetcher: Some(fetcher),
			validator,
			selling,
			buying,
			deal_store: deals,
			bought_store: bought,
			deal_fetcher: Some(deal_fetcher),
			chain_index,
			sql_datasets,
		};
		// Answering runs SQL: keep it off the async executor's threads.
		task_manager.spawn_handle().spawn_blocking("loopx-workers", Some("loopx-worker"), loopx_worker::run(params));
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();
	let shared_voter_state = grandpa::SharedVoterState::empty();

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let select_chain = select_chain.clone();
		let keystore = keystore_container.keystore();
		let justification_stream = grandpa_link.justification_stream();
		let shared_authority_set = grandpa_link.shared_authority_set().clone();
		let shared_voter_state = shared_voter_state.clone();
		let finality_provider = grandpa::FinalityProofProvider::new_for_service(backend.clone(), Some(shared_authority_set.clone()));

		Box::new(move |subscription_executor: sc_rpc::SubscriptionTaskExecutor| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				babe: crate::rpc::BabeDeps {
					keystore: keystore.clone(),
					babe_worker_handle: babe_worker_handle.clone(),
					select_chain: select_chain.clone(),
				},
				grandpa: crate::rpc::GrandpaDeps {
					shared_voter_state: shared_voter_state.clone(),
					shared_authority_set: shared_authority_set.clone(),
					justification_stream: justification_stream.clone(),
					subscription_executor,
					finality_provider: finality_provider.clone(),
				},
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: Arc::new(network.clone()),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		// Equivocations of other authorities, reported with sealed headers (see the module).
		task_manager.spawn_handle().spawn(
			"babe-equivocation-reports",
			Some("block-authoring"),
			crate::babe_equivocation::run(client.clone(), OffchainTransactionPoolFactory::new(transaction_pool.clone())),
		);
		let proposer = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = babe_link.config().slot_duration();
		let babe = sc_consensus_babe::start_babe(sc_consensus_babe::BabeParams {
			keystore: keystore_container.keystore(),
			client: client.clone(),
			select_chain,
			env: proposer,
			block_import,
			sync_oracle: sync_service.clone(),
			justification_sync_link: sync_service.clone(),
			create_inherent_data_providers: babe_inherents(slot_duration),
			force_authoring,
			backoff_authoring_blocks: Some(sc_consensus_slots::BackoffAuthoringOnFinalizedHeadLagging::default()),
			babe_link,
			block_proposal_slot_portion: SlotProportion::new(0.5),
			max_block_proposal_slot_portion: None,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
		})?;
		// BABE is part of consensus: if it stops, the node stops with it.
		task_manager.spawn_essential_handle().spawn_blocking("babe-proposer", Some("block-authoring"), babe);
	}

	if enable_grandpa {
		// A node that is not an authority runs the voter without a keystore: it follows
		// finality but does not vote.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };
		let grandpa_config = grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};
		let grandpa_voter = grandpa::run_grandpa_voter(grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		})?;
		// GRANDPA is part of consensus: if the voter fails, the node stops with it.
		task_manager.spawn_essential_handle().spawn_blocking("grandpa-voter", None, grandpa_voter);
	}

	Ok(task_manager)
}
