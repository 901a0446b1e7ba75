//! # LoopX native workers
//!
//! What a validator node does besides producing and finalizing blocks (see
//! `shared/design.md`, "How the parts talk"). The workers read chain state through runtime
//! APIs at every new best block and put their results on chain through the runtime's
//! [`loopx_worker_api::WorkerApi`]: the runtime builds and signs the transactions with the
//! node's `lpxw` key, so the node never encodes a call.
//!
//! Workers now:
//! - **compute market** ([`queries`]): advertise the datasets held, answer the aggregation
//!   queries assigned to this validator in embedded read-only SQLite ([`answers`]) over the
//!   demo table ([`demo_data`]), commit, then reveal;
//! - **learning** ([`learning`]): gossip learning on the builder market's tasks: fetch the
//!   current version and peers' claimed models over the node's model protocol
//!   ([`payload_net`], served from [`payload_store`]; peers announce the models they hold on
//!   the node's announce gossip protocol, [`announce`]), merge, update on the validator's own
//!   data shard ([`training`]), claim the result (`ModelUpdate` claims);
//! - **votes** ([`votes`]): on disputed query answers (`QueryResult` claims), answer the query
//!   itself; on model updates, score the claimed model on the task's evaluation set; vote with
//!   commit–reveal;
//! - **data market** ([`deals`]): a data node sells its data set, and a local model trained on
//!   it, sealed to the buyer's key ([`sealed`]) over the node's deals protocol
//!   ([`payload_net`]); validators buy, check the delivery against the offer's commitment,
//!   confirm or dispute, train on the rows and merge the models they bought.
//!
//! [`faults`] is a test facility that makes a validator cheat.

pub mod announce;
pub mod answers;
pub mod chain;
pub mod deals;
pub mod demo_data;
pub mod evaluate;
pub mod faults;
pub mod inference;
pub mod learning;
pub mod metrics;
pub mod outbox;
pub mod payload_net;
pub mod payload_store;
pub mod queries;
pub mod sealed;
pub mod secret;
pub mod training;
pub mod votes;

use std::sync::Arc;

use futures::StreamExt;
use loopx_runtime::{opaque::Block, Balance};
use sc_client_api::BlockchainEvents;
use sc_transaction_pool_api::{OffchainTransactionPoolFactory, TransactionPool};
use sp_api::ProvideRuntimeApi;
use sp_core::offchain::OffchainStorage;
use sp_keystore::KeystorePtr;

use chain::{Chain, WorkerRuntimeApis};
pub use faults::Faults;
pub use metrics::Metrics;

/// Log target of the workers.
pub const LOG_TARGET: &str = "loopx-worker";

/// The price a validator asks per answer by default: 0.01 LPX.
pub const DEFAULT_ANSWER_PRICE: Balance = 10_000_000_000;

/// What the workers need from the node.
pub struct Params<C, P, S> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool (to count the worker account's pending transactions).
	pub pool: Arc<P>,
	/// The offchain transaction pool, for the runtime to submit into.
	pub offchain_pool: OffchainTransactionPoolFactory<Block>,
	/// The keystore with the `lpxw` key.
	pub keystore: KeystorePtr,
	/// Persistent offchain storage (for the worker secret).
	pub offchain_storage: Option<S>,
	/// Metrics.
	pub metrics: Metrics,
	/// Injected faults (tests only; none by default).
	pub faults: Faults,
	/// The models this node serves over the model protocol.
	pub models: payload_store::PayloadStore,
	/// Fetches models from peers (`None`: no network, e.g. in tests).
	pub fetcher: Option<payload_net::PayloadFetcher>,
	/// Whether this node is a validator: it learns, answers, votes and buys data.
	pub validator: bool,
	/// What this node sells as a data node (`--data-node`), if anything.
	pub selling: Option<deals::SellPlan>,
	/// Sealed payloads of this node's deliveries, served over the deals protocol.
	pub deal_store: payload_store::PayloadStore,
	/// Data sets bought, kept across restarts.
	pub bought_store: payload_store::PayloadStore,
	/// Fetches sealed deal payloads from peers.
	pub deal_fetcher: Option<payload_net::PayloadFetcher>,
}

/// Inserts the dev worker key of `seed` (e.g. `//Alice`) into `keystore`: what `--alice` and
/// `--dev` do for the session keys, done for the `lpxw` key.
pub fn insert_dev_key(keystore: &KeystorePtr, seed: &str) -> Result<(), String> {
	keystore
		.sr25519_generate_new(loopx_worker_api::WORKER_KEY_TYPE, Some(seed))
		.map(|_| ())
		.map_err(|e| format!("cannot insert the dev worker key {seed}: {e}"))
}

/// The datasets this node holds: the embedded demo table.
fn answerer() -> Result<answers::Answerer, loopx_query_engine::QueryError> {
	answers::Answerer::new(vec![(demo_data::DEMO_TAG.to_vec(), vec![demo_data::demo_table()])])
}

/// Runs the workers until the node stops.
pub async fn run<C, P, S>(params: Params<C, P, S>)
where
	C: ProvideRuntimeApi<Block> + BlockchainEvents<Block> + sp_blockchain::HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: WorkerRuntimeApis,
	P: TransactionPool<Block = Block> + 'static,
	S: OffchainStorage,
{
	let Params {
		client,
		pool,
		offchain_pool,
		keystore,
		mut offchain_storage,
		metrics,
		faults,
		models,
		fetcher,
		validator,
		selling,
		deal_store,
		bought_store,
		deal_fetcher,
	} = params;
	let (for_queries, for_votes) = match (answerer(), answerer()) {
		(Ok(a), Ok(b)) => (a, b),
		(Err(e), _) | (_, Err(e)) => return log::error!(target: LOG_TARGET, "workers not started: the demo tables did not load: {e}"),
	};
	if faults != Faults::default() {
		log::warn!(target: LOG_TARGET, "🎭 FAULT INJECTION ON ({faults:?}): this validator will cheat and be slashed. Test networks only.");
	}
	let secret = secret::load_or_create(offchain_storage.as_mut());
	let mut queries = queries::QueryWorker::new(for_queries, secret, DEFAULT_ANSWER_PRICE, faults);
	let mut votes = votes::VoteWorker::new(for_votes, secret);
	let garbage = fetcher.clone().filter(|_| faults.garbage_requests);
	// Models kept from an earlier run are served again: say so.
	if let Some(fetcher) = &fetcher {
		for hash in models.hashes() {
			fetcher.announce(hash);
		}
	}
	let mut learning = learning::Learning::new(models, fetcher, faults);
	let buying = validator.then(deals::BuyPlan::default);
	let (mut deals, bought) = deals::DealWorker::new(&secret, selling.clone(), buying, deal_store, bought_store, deal_fetcher);
	for kept in bought {
		match kept {
			deals::Bought::Data(data) => learning.add_training_data(data),
			deals::Bought::Model(task, payload) => learning.add_bought_model(task, payload),
		}
	}
	let chain = Chain::new(client.clone(), pool, offchain_pool, keystore);
	let mut warned_no_key = false;
	if validator {
		log::info!(
			target: LOG_TARGET,
			"🛠️ workers started (compute market over {:?}, learning tasks scored on the demo evaluation set {:?}, votes, buying data on {:?})",
			String::from_utf8_lossy(demo_data::DEMO_TAG),
			demo_data::DEMO_EVAL_SET,
			String::from_utf8_lossy(deals::DATA_TAG),
		);
	}
	if let Some(plan) = &selling {
		log::info!(
			target: LOG_TARGET,
			"🛠️ data node: selling {} on {:?} at {} a unit{}",
			plan.data.as_ref().map_or("this node's demo shard".to_owned(), |d| format!("{} rows", d.len())),
			String::from_utf8_lossy(&plan.tag),
			plan.price,
			plan.model.as_ref().map_or(String::new(), |(tag, price)| format!(
				", and a local model trained on it on {:?} at {price} once a learning task is on chain",
				String::from_utf8_lossy(tag)
			)),
		);
	}

	let mut imports = client.import_notification_stream();
	while let Some(block) = imports.next().await {
		if !block.is_new_best {
			continue;
		}
		let me = match chain.worker_account(block.hash) {
			Ok(Some(me)) => me,
			Ok(None) => {
				if !warned_no_key {
					warned_no_key = true;
					log::warn!(target: LOG_TARGET, "no worker key (type lpxw) in the keystore: workers idle; see `loopx-node key insert --key-type lpxw`");
				}
				continue;
			},
			Err(e) => {
				log::warn!(target: LOG_TARGET, "cannot read the worker account: {e}");
				continue;
			},
		};
		let finalized = client.info().finalized_hash;
		let at = outbox::At { chain: &chain, hash: block.hash, finalized, now: block.header.number, me: &me, metrics: &metrics };
		deals.on_block(&at, &mut learning).await;
		if !validator {
			continue;
		}
		// Learning first: it fetches the models that inference answers and votes need.
		learning.on_block(&at).await;
		queries.on_block(&at, &mut learning);
		votes.on_block(&at, &mut learning);
		if let Some(fetcher) = &garbage {
			fetcher.send_garbage(block.header.number).await;
		}
	}
}
