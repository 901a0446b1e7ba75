//! The worker's view of the chain: runtime API reads at a block, and submission of actions
//! through the runtime's [`WorkerApi`] with the keystore and the offchain transaction pool
//! registered, at the next free nonce of the worker's account: past the chain's nonce, its
//! transactions ready in the pool (as the `system_accountNextIndex` RPC counts them) and the
//! last nonce this worker used while that one may still be on its way into the pool's view.

use std::sync::{Arc, Mutex};

use codec::Encode;
use frame_system_rpc_runtime_api::AccountNonceApi;
use loopx_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use loopx_worker_api::{SubmitError, WorkerAction, WorkerApi};
use pallet_builder_market::runtime_api::BuilderMarketApi;
use pallet_compute_market::runtime_api::ComputeMarketApi;
use pallet_data_market::runtime_api::DataMarketApi;
use pallet_weighted_voting::runtime_api::WeightedVotingApi;
use sc_transaction_pool_api::{InPoolTransaction, OffchainTransactionPoolFactory, TransactionPool};
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_core::H256;
use sp_keystore::{KeystoreExt, KeystorePtr};

/// The runtime APIs the workers use.
pub trait WorkerRuntimeApis:
	WorkerApi<Block, AccountId, Nonce, Balance>
	+ ComputeMarketApi<Block, AccountId, Balance, BlockNumber>
	+ BuilderMarketApi<Block, AccountId, Balance, BlockNumber>
	+ WeightedVotingApi<Block, AccountId, BlockNumber>
	+ DataMarketApi<Block, AccountId, Balance, BlockNumber, DataTag>
	+ AccountNonceApi<Block, AccountId, Nonce>
{
}
/// The data market's tag type in this runtime.
pub type DataTag = pallet_data_market::TagOf<loopx_runtime::Runtime>;
impl<T> WorkerRuntimeApis for T where
	T: WorkerApi<Block, AccountId, Nonce, Balance>
		+ ComputeMarketApi<Block, AccountId, Balance, BlockNumber>
		+ BuilderMarketApi<Block, AccountId, Balance, BlockNumber>
		+ WeightedVotingApi<Block, AccountId, BlockNumber>
		+ DataMarketApi<Block, AccountId, Balance, BlockNumber, DataTag>
		+ AccountNonceApi<Block, AccountId, Nonce>
{
}

/// Why an action did not reach the pool.
#[derive(Debug)]
pub enum ChainError {
	/// A runtime API call failed.
	Api(sp_api::ApiError),
	/// The runtime refused to sign or submit.
	Submit(SubmitError),
}

impl std::fmt::Display for ChainError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Api(e) => write!(f, "runtime API call failed: {e}"),
			Self::Submit(e) => write!(f, "the runtime did not submit: {e:?}"),
		}
	}
}

impl From<sp_api::ApiError> for ChainError {
	fn from(e: sp_api::ApiError) -> Self {
		Self::Api(e)
	}
}

/// Client, pool and keystore, as the workers need them.
pub struct Chain<C, P> {
	/// The client.
	pub client: Arc<C>,
	pool: Arc<P>,
	offchain_pool: OffchainTransactionPoolFactory<Block>,
	keystore: KeystorePtr,
	/// The stash the worker key is a proxy of (`--worker-stash`), if any.
	acting_for: Option<AccountId>,
	/// The last nonce used, and the block it was used at.
	last: Mutex<Option<(Nonce, BlockNumber)>>,
}

/// Blocks after which a nonce this worker used but the chain has not reached is given up (its
/// transaction was dropped) and the chain's nonce is used again.
const NONCE_PATIENCE: BlockNumber = 5;

impl<C, P> Chain<C, P>
where
	C: ProvideRuntimeApi<Block> + Send + Sync,
	C::Api: WorkerRuntimeApis,
	P: TransactionPool<Block = Block>,
{
	/// Wraps the node's parts.
	pub fn new(
		client: Arc<C>,
		pool: Arc<P>,
		offchain_pool: OffchainTransactionPoolFactory<Block>,
		keystore: KeystorePtr,
		acting_for: Option<AccountId>,
	) -> Self {
		Self { client, pool, offchain_pool, keystore, acting_for, last: Mutex::new(None) }
	}

	/// A runtime API instance with the keystore and the offchain pool of block `at`.
	fn api(&self, at: H256) -> sp_api::ApiRef<'_, C::Api> {
		let mut api = self.client.runtime_api();
		api.register_extension(KeystoreExt::from(self.keystore.clone()));
		api.register_extension(self.offchain_pool.offchain_transaction_pool(at));
		api
	}

	/// The account the workers act as: the stash they are a proxy of (`--worker-stash`), else
	/// the worker key's own; `None` without a worker key in the keystore.
	pub fn worker_account(&self, at: H256) -> Result<Option<AccountId>, ChainError> {
		Ok(self.signer(at)?.map(|signer| self.acting_for.clone().unwrap_or(signer)))
	}

	/// The account of the worker key (`lpxw`), which signs and pays for the transactions.
	pub fn signer(&self, at: H256) -> Result<Option<AccountId>, ChainError> {
		Ok(self.api(at).worker_account(at)?)
	}

	/// The next nonce of `who`: the chain's, past its transactions ready in the pool.
	fn next_nonce(&self, at: H256, who: &AccountId) -> Result<Nonce, ChainError> {
		let mut nonce = self.client.runtime_api().account_nonce(at, who.clone())?;
		let mut tag = (who.clone(), nonce).encode();
		// Ready transactions come in nonce order per sender.
		for tx in self.pool.ready() {
			if tx.provides().first() == Some(&tag) {
				nonce += 1;
				tag = (who.clone(), nonce).encode();
			}
		}
		Ok(nonce)
	}

	/// Whether the worker key has transactions ready in the pool and not yet in block `at`: an
	/// action sent earlier may be one of them, still on its way (not lost), so it is not sent
	/// again.
	pub fn has_pending(&self, at: H256) -> Result<bool, ChainError> {
		let Some(signer) = self.signer(at)? else { return Ok(false) };
		let chain = self.client.runtime_api().account_nonce(at, signer.clone())?;
		Ok(self.next_nonce(at, &signer)? > chain)
	}

	/// Has the runtime sign `action` with the worker key (as a proxy of the stash, if there is
	/// one) and put it in the pool, at block `at` (number `now`).
	pub fn submit(&self, at: H256, now: BlockNumber, action: WorkerAction<Balance>) -> Result<(), ChainError> {
		let signer = self.signer(at)?.ok_or(ChainError::Submit(loopx_worker_api::SubmitError::NoWorkerKey))?;
		let pooled = self.next_nonce(at, &signer)?;
		let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let (nonce, since) = choose_nonce(pooled, *last, now);
		self.api(at).submit(at, action, nonce, self.acting_for.clone())?.map_err(ChainError::Submit)?;
		*last = Some((nonce, since));
		Ok(())
	}
}

/// The nonce to use next, given the one the chain and the pool's ready set count (`pooled`)
/// and the last one this worker used with the block since which the pool has not shown it
/// (`last`). Returns the nonce and that block for the next call.
///
/// The pool's ready set may not show a transaction submitted moments ago, so the last nonce
/// used is trusted past `pooled`, but only for [`NONCE_PATIENCE`] blocks from the first time the
/// pool did not show it, however often the worker submits meanwhile: a transaction the pool
/// dropped (a reorganisation can do that) leaves a gap that every later transaction waits
/// behind, and using `pooled` again fills it.
fn choose_nonce(pooled: Nonce, last: Option<(Nonce, BlockNumber)>, now: BlockNumber) -> (Nonce, BlockNumber) {
	match last {
		Some((used, since)) if used >= pooled && now < since.saturating_add(NONCE_PATIENCE) => (used + 1, since),
		_ => (pooled, now),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_nonce_the_pool_does_not_show_yet_is_trusted_then_given_up() {
		// Nothing used yet, or the pool shows everything used: the pool's count.
		assert_eq!(choose_nonce(7, None, 10), (7, 10));
		assert_eq!(choose_nonce(9, Some((8, 3)), 10), (9, 10));
		// Used 7 at block 10, the pool does not show it yet: 8, still counting from block 10.
		assert_eq!(choose_nonce(7, Some((7, 10)), 11), (8, 10));
		// Submitting every block does not extend the patience: after it, back to the gap.
		let mut last = Some((7, 10));
		let mut nonces = Vec::new();
		for now in 11..=17 {
			let (n, since) = choose_nonce(7, last, now);
			nonces.push(n);
			last = Some((n, since));
		}
		assert_eq!(nonces, vec![8, 9, 10, 11, 7, 8, 9], "nonce 7 is used again at block 15");
	}
}
