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

	/// Keeps the keys `keep` says are still of use, and every key sent within the last
	/// [`RETRY_AFTER`] blocks: a key whose action landed in a block that a fork switch then
	/// retracted is due again at the new best block while the pool resubmits the retracted
	/// transaction, and sending it again would land it twice.
	pub fn retain(&mut self, now: BlockNumber, mut keep: impl FnMut(&K) -> bool) {
		self.sent.retain(|k, at| keep(k) || now < at.saturating_add(RETRY_AFTER));
	}

	/// Forgets `key`, so that it may be sent again at once (its action was replaced).
	pub fn forget(&mut self, key: &K) {
		self.sent.remove(key);
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

#[cfg(test)]
mod tests {
	use super::*;

	/// An action that landed in a block a fork switch retracted is due again at the new best
	/// block, while the pool resubmits it: it must not be sent a second time (it would land
	/// twice, the second failing on chain).
	#[test]
	fn a_key_sent_recently_is_not_forgotten_when_a_fork_switch_makes_it_due_again() {
		let mut outbox = Outbox::<u32>::default();
		outbox.sent.insert(3, 22);
		// At #23 (the block that carried it) the key is no longer due...
		outbox.retain(23, |_| false);
		// ...and after the reorg to another #23 it is due again: not yet sendable.
		assert!(!outbox.may_send(3, 23));
		// Once the retry period is over a key no longer of use is dropped.
		outbox.retain(26, |_| false);
		assert!(outbox.sent.is_empty());
		assert!(outbox.may_send(3, 26));
	}

	#[test]
	fn a_forgotten_key_may_be_sent_at_once() {
		let mut outbox = Outbox::<u32>::default();
		outbox.sent.insert(7, 10);
		assert!(!outbox.may_send(7, 11));
		outbox.forget(&7);
		assert!(outbox.may_send(7, 11));
	}
}
