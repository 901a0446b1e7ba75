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
//!   demo table ([`demo_data`]) or the chain's own tables, commit, then reveal;
//! - **chain index** ([`chain_index`]): every finalized block into the chain tables (blocks,
//!   extrinsics, events, transfers), backfilled from genesis on start;
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
//! The block loop that drives them all is [`run`].
//!
//! [`faults`] is a test facility that makes a validator cheat.

pub mod announce;
pub mod answers;
pub mod chain;
pub mod chain_answers;
pub mod chain_index;
pub mod dataset_info;
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
mod run;
pub mod sealed;
pub mod secret;
pub mod sql_datasets;
pub mod training;
pub mod votes;

use std::sync::Arc;

use loopx_runtime::{opaque::Block, Balance};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_keystore::KeystorePtr;

pub use faults::Faults;
pub use metrics::Metrics;
pub use run::run;

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
	/// The stash the `lpxw` key is a proxy of (`--worker-stash`): the workers act as it,
	/// through `proxy.proxy` with the `Worker` proxy type, and its key stays off the node.
	pub acting_for: Option<loopx_runtime::AccountId>,
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
	/// What a validator buys in the data market (`--buy-plan`; used only by a validator).
	pub buying: deals::BuyPlan,
	/// Sealed payloads of this node's deliveries, served over the deals protocol.
	pub deal_store: payload_store::PayloadStore,
	/// Data sets bought, kept across restarts.
	pub bought_store: payload_store::PayloadStore,
	/// Fetches sealed deal payloads from peers.
	pub deal_fetcher: Option<payload_net::PayloadFetcher>,
	/// The chain tables' file and the indexer's state, if this node indexes the chain
	/// ([`chain_index`]): `chain@<n>` queries are answered from it.
	pub chain_index: Option<(std::path::PathBuf, chain_index::IndexStatus)>,
	/// The operator's own SQL datasets (`--sql-dataset`).
	pub sql_datasets: Vec<sql_datasets::SqlDataset>,
}

/// Inserts the dev worker key of `seed` (e.g. `//Alice`) into `keystore`: what `--alice` and
/// `--dev` do for the session keys, done for the `lpxw` key.
pub fn insert_dev_key(keystore: &KeystorePtr, seed: &str) -> Result<(), String> {
	keystore
		.sr25519_generate_new(loopx_worker_api::WORKER_KEY_TYPE, Some(seed))
		.map(|_| ())
		.map_err(|e| format!("cannot insert the dev worker key {seed}: {e}"))
}
