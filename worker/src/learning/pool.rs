//! The model pool: the model payloads this node holds and serves (its payload store), fetched
//! from peers by hash when missing; the scored models of other trainers kept for the next
//! merges; and the local models bought in the data market, waiting to be scored.

use std::{collections::BTreeMap, sync::Arc};

use loopx_ml_kernels::models::state::ModelState;
use loopx_primitives::TaskId;
use sp_core::H256;

use crate::{payload_net::PayloadFetcher, payload_store::PayloadStore, Metrics, LOG_TARGET};

/// Models of other trainers' claims kept per task for merging.
const MAX_RECEIVED: usize = 8;

/// Local-model payloads bought in the data market and not yet merged, at most.
const MAX_BOUGHT_MODELS: usize = 8;

/// A model scored on the task's evaluation set.
#[derive(Clone)]
pub struct Scored {
	/// Hash of its payload.
	pub hash: H256,
	/// The model.
	pub state: ModelState,
	/// Its age (local steps behind it).
	pub age: u64,
	/// Its score, in parts per million.
	pub score: u32,
}

/// Why a payload is not at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
	/// Not held, and this node has no network to fetch it with.
	NoNetwork(H256),
	/// Not held, and no peer served it.
	NoPeerServes(H256),
	/// Not held yet: being fetched in the background (a later block finds it).
	Fetching(H256),
}

impl core::fmt::Display for PoolError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::NoNetwork(hash) => write!(f, "model {hash:?} is not held and there is no network to fetch it"),
			Self::NoPeerServes(hash) => write!(f, "model {hash:?}: no peer serves it yet"),
			Self::Fetching(hash) => write!(f, "model {hash:?}: being fetched"),
		}
	}
}

/// The payloads held, and the models waiting to be merged.
pub struct ModelPool {
	store: PayloadStore,
	fetcher: Option<PayloadFetcher>,
	/// Scored models of other trainers (and bought ones), by task, the newest last.
	received: BTreeMap<TaskId, Vec<Scored>>,
	/// Local models bought in the data market, by task, not scored yet.
	bought: Vec<(TaskId, Vec<u8>)>,
}

impl ModelPool {
	/// A pool serving from `store` and fetching with `fetcher` (none: it holds only what it has).
	pub fn new(store: PayloadStore, fetcher: Option<PayloadFetcher>) -> Self {
		Self { store, fetcher, received: BTreeMap::new(), bought: Vec::new() }
	}

	/// A payload held here.
	pub fn held(&self, hash: &H256) -> Option<Arc<Vec<u8>>> {
		self.store.get(hash)
	}

	/// A payload by hash: held here, or fetched from a peer (and then held and served). A
	/// fetcher that fetches in the background (the node's) never waits: a payload not held
	/// yet is [`PoolError::Fetching`], and held at a later block once a peer served it.
	pub async fn payload(&self, hash: H256, metrics: &Metrics) -> Result<Arc<Vec<u8>>, PoolError> {
		if let Some(bytes) = self.store.get(&hash) {
			return Ok(bytes);
		}
		let fetcher = self.fetcher.as_ref().ok_or(PoolError::NoNetwork(hash))?;
		let Some(bytes) = fetcher.fetch_ready([hash], metrics).await.remove(&hash) else {
			return Err(if fetcher.fetches_in_background() { PoolError::Fetching(hash) } else { PoolError::NoPeerServes(hash) });
		};
		self.store.insert(bytes);
		self.store.get(&hash).ok_or(PoolError::NoPeerServes(hash))
	}

	/// Keeps `bytes` beyond the store's bound (a task's current version).
	pub fn pin(&self, bytes: &[u8]) {
		self.store.pin(bytes);
	}

	/// Holds and serves a payload this node made, and tells the peers; its hash (`None`: the
	/// store refused it).
	pub fn publish(&self, payload: Vec<u8>) -> Option<H256> {
		let hash = self.store.insert(payload)?;
		if let Some(fetcher) = &self.fetcher {
			fetcher.announce(hash);
		}
		Some(hash)
	}

	/// Keeps a scored model of `task` for the next merges (the newest [`MAX_RECEIVED`]).
	pub fn keep(&mut self, task: TaskId, model: Scored) {
		let received = self.received.entry(task).or_default();
		if !received.iter().any(|r| r.hash == model.hash) {
			if received.len() >= MAX_RECEIVED {
				received.remove(0);
			}
			received.push(model);
		}
	}

	/// The scored models of `task` kept for merging.
	pub fn received(&self, task: TaskId) -> &[Scored] {
		self.received.get(&task).map_or(&[], |r| &r[..])
	}

	/// A local model of `task` bought in the data market, to be scored and merged (the newest
	/// [`MAX_BOUGHT_MODELS`] are kept).
	pub fn add_bought(&mut self, task: TaskId, payload: Vec<u8>) {
		if self.bought.len() >= MAX_BOUGHT_MODELS {
			self.bought.remove(0);
		}
		log::info!(target: LOG_TARGET, "🧺 a bought local model of task {task} joins the next merge");
		self.bought.push((task, payload));
	}

	/// Takes the bought local models of `task`.
	pub fn take_bought(&mut self, task: TaskId) -> Vec<Vec<u8>> {
		let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.bought).into_iter().partition(|(t, _)| *t == task);
		self.bought = others;
		mine.into_iter().map(|(_, payload)| payload).collect()
	}

	/// Whether bought local models of `task` wait to be scored.
	pub fn has_bought(&self, task: TaskId) -> bool {
		self.bought.iter().any(|(t, _)| *t == task)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::payload_store::MAX_PAYLOADS;

	#[test]
	fn a_pinned_current_version_is_still_served_after_many_newer_payloads() {
		let pool = ModelPool::new(PayloadStore::default(), None);
		let (version, other) = (pool.publish(b"the current version".to_vec()).unwrap(), pool.publish(b"an older version".to_vec()).unwrap());
		pool.pin(b"the current version");
		for i in 0..2 * MAX_PAYLOADS as u32 {
			pool.publish(i.to_le_bytes().to_vec());
		}
		let metrics = Metrics::default();
		let fetch = |hash| futures::executor::block_on(pool.payload(hash, &metrics));
		assert_eq!(fetch(version).unwrap().as_slice(), b"the current version");
		// Without the pin it would be gone (and with no peer, not fetched again).
		assert!(matches!(fetch(other), Err(PoolError::NoNetwork(_))));
	}
}
