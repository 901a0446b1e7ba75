//! Actions sent and not yet seen on chain, so that each is sent once and sent again only if it
//! did not land within [`RETRY_AFTER`] blocks (dropped by the pool, or on a retracted fork).

use std::collections::BTreeMap;

use loopx_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use loopx_worker_api::WorkerAction;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

use crate::{
	chain::{Chain, WorkerRuntimeApis},
	metrics::Metrics,
	LOG_TARGET,
};

/// Blocks after which an action that has not shown on chain is sent again.
/// (Claims have 10-block commit and reveal periods on the dev and local chains: a lost vote
/// gets a second chance within them.)
pub const RETRY_AFTER: BlockNumber = 4;

/// Where a worker is at one block: the chain, the block and the worker's account.
pub struct At<'a, C, P> {
	/// The chain.
	pub chain: &'a Chain<C, P>,
	/// The best block.
	pub hash: H256,
	/// The last finalized block (what no fork can undo).
	pub finalized: H256,
	/// Its number.
	pub now: BlockNumber,
	/// The worker's account.
	pub me: &'a AccountId,
	/// Metrics.
	pub metrics: &'a Metrics,
}

/// The actions a worker sent, by key, with the block they were sent at.
pub struct Outbox<K> {
	sent: BTreeMap<K, BlockNumber>,
}

impl<K: Ord + Copy + std::fmt::Debug> Default for Outbox<K> {
	fn default() -> Self {
		Self { sent: BTreeMap::new() }
	}
}

impl<K: Ord + Copy + std::fmt::Debug> Outbox<K> {
	/// Whether `key` may be sent at block `now`: never sent, or sent long enough ago.
	pub fn may_send(&self, key: K, now: BlockNumber) -> bool {
		self.sent.get(&key).is_none_or(|at| now >= at.saturating_add(RETRY_AFTER))
	}

	/// Keeps only the keys `keep` says are still of use.
	pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
		self.sent.retain(|k, _| keep(k));
	}

	/// Sends `action` (counted under `call`) unless `key` was sent recently.
	pub fn send<C, P>(&mut self, at: &At<'_, C, P>, key: K, call: &'static str, action: WorkerAction<Balance>)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if self.may_send(key, at.now) {
			self.send_for(at, &[key], call, action);
		}
	}

	/// Sends one `action` that does the work of every key in `keys` (a batch of votes); the
	/// caller picked keys that [`Outbox::may_send`]. Each key is then sent, and retried, as one.
	pub fn send_for<C, P>(&mut self, at: &At<'_, C, P>, keys: &[K], call: &'static str, action: WorkerAction<Balance>)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		// A retry while this account still has transactions waiting in the pool (a node that
		// just restarted, not yet connected to the authors) would land twice: wait for them.
		if keys.iter().any(|k| self.sent.contains_key(k)) && at.chain.has_pending(at.hash).unwrap_or(false) {
			return;
		}
		match at.chain.submit(at.hash, at.now, action) {
			Ok(()) => {
				for key in keys {
					self.sent.insert(*key, at.now);
				}
				at.metrics.submitted(call);
			},
			Err(e) => {
				at.metrics.submit_failed();
				log::warn!(target: LOG_TARGET, "💤 could not submit {call} ({keys:?}): {e}");
			},
		}
	}
}
