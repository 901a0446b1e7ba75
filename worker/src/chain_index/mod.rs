//! Online and batch ETL of the chain into the validator's SQL store: every finalized block,
//! in order, becomes rows of the chain tables (`loopx_query_engine::chain`), which the
//! compute market's `chain@<n>` queries read.
//!
//! - **Only finalized blocks**, so no reorg can make two honest validators' tables differ.
//! - **Batch** (backfill): on start, after a resync or any gap, the indexer works from the
//!   block after the last one stored (or genesis) up to finality, [`BATCH`] blocks a
//!   transaction (`--chain-index-batch`), optionally pausing between batches
//!   (`--chain-index-pause-ms`, to leave the CPU to the node); a crash loses at most the batch
//!   being written, which is written again (writes are idempotent). A long backfill (at least
//!   [`BULK_BATCHES`] batches, and more blocks than are stored) drops the secondary indexes
//!   and builds them once at its end ([`index_plan`]); the store is not read meanwhile.
//!   Progress goes to the log (blocks/s, ETA) and to the metrics
//!   (`loopx_worker_chain_index_height`, `loopx_worker_chain_index_lag_blocks`).
//! - **Online**: once caught up, each newly finalized block is one transaction.
//! - **Fraud scores**: each block's transfers are scored by the fraud models in force at it
//!   ([`scores`]) and written with it.
//!
//! Reading a block needs its state (events, timestamp, validators): a node whose state is
//! pruned below what it has not indexed yet cannot backfill and says so; such a node runs with
//! `--state-pruning archive-canonical`. A node advertises the chain dataset (`chain/v2`) only while
//! [`IndexStatus::caught_up`], so it is never drawn for blocks it cannot answer.

pub mod decode;
pub mod node;
pub mod scores;

pub use loopx_query_engine::chain::ChainStore;

use std::{
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use futures::StreamExt;
use loopx_query_engine::chain::BlockRows;
use loopx_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use sc_client_api::{BlockBackend, BlockchainEvents, StorageProvider};
use sp_api::{Core, Metadata, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_consensus_babe::digests::CompatibleDigestItem;
use sp_core::{storage::StorageKey, H256};
use sp_crypto_hashing::twox_128;
use sp_runtime::traits::Header as _;

use crate::{Metrics, LOG_TARGET};
use decode::{BlockHead, Decoder, METADATA_VERSION};
use pallet_builder_market::runtime_api::BuilderMarketApi;
use scores::TransferScorer;

pub use loopx_primitives::chain_data::MIN_KEPT_BLOCKS;

/// Blocks written in one transaction while backfilling (default).
pub const BATCH: u64 = 256;

/// A backfill at least this many batches behind finality writes without the secondary indexes.
pub const BULK_BATCHES: u64 = 4;

/// How the indexer backfills.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backfill {
	/// Blocks written in one transaction.
	pub batch: u64,
	/// A pause after each batch written while behind.
	pub pause: Duration,
}

impl Default for Backfill {
	fn default() -> Self {
		Self { batch: BATCH, pause: Duration::ZERO }
	}
}

/// What the indexer does with the store's secondary indexes before writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexPlan {
	/// Nothing: write as they are.
	Keep,
	/// Drop them: a long backfill starts.
	Drop,
	/// Build them: the backfill is at its last batch.
	Build,
}

/// The plan for a store whose next block is `next`, with the chain finalized to `finalized`,
/// indexes `built` or not, writing `batch` blocks a transaction. Dropping pays when the
/// backfill is long ([`BULK_BATCHES`] batches) and longer than what is stored (building sorts
/// every row again, old ones too); once dropped, the indexes stay so until the last batch.
pub fn index_plan(next: u64, finalized: u64, built: bool, batch: u64) -> IndexPlan {
	let behind = (finalized + 1).saturating_sub(next);
	match built {
		true if behind >= BULK_BATCHES.saturating_mul(batch) && behind >= next => IndexPlan::Drop,
		false if behind <= batch => IndexPlan::Build,
		_ => IndexPlan::Keep,
	}
}

/// A node this many finalized blocks behind or fewer advertises the chain dataset.
pub const CAUGHT_UP_WITHIN: u64 = 4;

/// The file of the chain tables under the node's data path.
pub const STORE_FILE: &str = "loopx-chain-index.sqlite";

/// What the answerers need to know of the indexer.
#[derive(Clone, Default)]
pub struct IndexStatus {
	indexed: Arc<AtomicU64>,
	caught_up: Arc<AtomicBool>,
	/// Whether the store has its secondary indexes (not while backfilling in bulk).
	built: Arc<AtomicBool>,
	/// The operator's bound on the blocks kept (`None`: every block).
	kept: Option<u32>,
}

impl IndexStatus {
	/// The state of `store` with the chain finalized to `finalized`: known before the indexer's
	/// first pass, so a restarted node advertises what it did before it stopped.
	pub fn new(store: &ChainStore, finalized: u64, kept: Option<u32>) -> Self {
		let status = Self { kept, ..Self::default() };
		status.built.store(store.indexes_built().unwrap_or(false), Ordering::Relaxed);
		status.set(store.indexed_to().ok().flatten().unwrap_or(0), finalized);
		status
	}

	/// Whether the tables are within [`CAUGHT_UP_WITHIN`] blocks of finality, with their
	/// indexes built.
	pub fn caught_up(&self) -> bool {
		self.caught_up.load(Ordering::Relaxed) && self.built.load(Ordering::Relaxed)
	}

	/// The blocks kept (`None`: every block since genesis).
	pub fn kept(&self) -> Option<u32> {
		self.kept
	}

	/// The highest block indexed (0 before the first).
	pub fn indexed(&self) -> u64 {
		self.indexed.load(Ordering::Relaxed)
	}

	pub(crate) fn set(&self, indexed: u64, finalized: u64) {
		self.indexed.store(indexed, Ordering::Relaxed);
		self.caught_up.store(finalized.saturating_sub(indexed) <= CAUGHT_UP_WITHIN, Ordering::Relaxed);
	}
}

/// `twox128(pallet) ++ twox128(item)`: the key of a plain storage value.
fn value_key(pallet: &str, item: &str) -> StorageKey {
	StorageKey([twox_128(pallet.as_bytes()), twox_128(item.as_bytes())].concat())
}

fn hex(hash: &H256) -> String {
	format!("{hash:?}")
}

/// Indexes finalized blocks into `store` until the node stops, scoring transfers with
/// `scorer`.
pub async fn run<C, B>(client: Arc<C>, mut store: ChainStore, mut scorer: TransferScorer, status: IndexStatus, backfill: Backfill, metrics: Metrics)
where
	B: sc_client_api::Backend<Block>,
	C: HeaderBackend<Block> + BlockBackend<Block> + StorageProvider<Block, B> + BlockchainEvents<Block> + ProvideRuntimeApi<Block> + 'static,
	C::Api: Core<Block> + Metadata<Block> + BuilderMarketApi<Block, AccountId, Balance, BlockNumber>,
{
	let indexer = Indexer { client: client.clone(), decoder: Default::default() };
	let mut prefetch = Prefetch::<Result<Decoded, String>>::default();
	let mut waiting_for: Option<String> = None;
	let mut finality = client.finality_notification_stream();
	let mut progress = Progress::new(backfill.batch);
	let batch = backfill.batch.max(1);
	match store.indexed_to() {
		Ok(Some(top)) => log::info!(
			target: LOG_TARGET,
			"📇 chain index: resuming at block #{} (finalized #{})",
			top + 1,
			client.info().finalized_number
		),
		Ok(None) => log::info!(target: LOG_TARGET, "📇 chain index: empty, starting at genesis (finalized #{})", client.info().finalized_number),
		Err(e) => log::warn!(target: LOG_TARGET, "chain index: cannot read its height: {e}"),
	}
	loop {
		let finalized = client.info().finalized_number as u64;
		let next = match store.next() {
			Ok(n) => n,
			Err(e) => return log::error!(target: LOG_TARGET, "chain index stopped: {e}"),
		};
		status.set(next.saturating_sub(1), finalized);
		metrics.chain_indexed(next.saturating_sub(1), finalized.saturating_sub(next.saturating_sub(1)));
		let built = status.built.load(Ordering::Relaxed);
		let plan = index_plan(next, finalized, built, batch);
		if plan != IndexPlan::Keep {
			let started = Instant::now();
			let done = if plan == IndexPlan::Drop { store.drop_indexes() } else { store.build_indexes() };
			if let Err(e) = done {
				log::error!(target: LOG_TARGET, "chain index: {plan:?} of the indexes failed: {e}");
				std::thread::sleep(Duration::from_secs(30));
				continue;
			}
			status.built.store(plan == IndexPlan::Build, Ordering::Relaxed);
			match plan {
				IndexPlan::Drop => log::info!(
					target: LOG_TARGET,
					"📇 chain index: {} blocks behind, backfilling without its secondary indexes (not answering until they are built)",
					(finalized + 1).saturating_sub(next)
				),
				_ => {
					log::info!(target: LOG_TARGET, "📇 chain index: indexes built to block #{} in {:.1} s", next.saturating_sub(1), started.elapsed().as_secs_f64())
				},
			}
			continue;
		}
		if next > finalized {
			// Wait for the next finalized block (the stream yields each finalized head).
			if finality.next().await.is_none() {
				return;
			}
			continue;
		}
		let decoded = prefetch.take(next).unwrap_or_else(|| indexer.decode(next, finalized.min(next + batch - 1)));
		let end = decoded.as_ref().map_or(next, |d| (d.first + d.rows.len() as u64).saturating_sub(1).max(next));
		// While behind, the next batch is read and decoded while this one is written.
		if end < finalized {
			let (ahead, last) = (indexer.clone(), finalized.min(end + batch));
			prefetch.start(end + 1, move || ahead.decode(end + 1, last));
		}
		let written = match decoded {
			Ok(Decoded { hashes, mut rows, .. }) => {
				let blocks: Vec<(H256, bool)> = hashes.into_iter().zip(&rows).map(|(h, r)| (h, !r.transfers.is_empty())).collect();
				let models = match scorer.prime(&store) {
					Ok(()) => scorer.models_at(&*client, &blocks).await,
					Err(e) => Err(e),
				};
				match models {
					Ok(models) => {
						waiting_for = None;
						scorer.score(&mut rows, &models);
						store
							.write(&rows)
							.map_err(|e| {
								scorer.reset();
								e.to_string()
							})
							.and_then(|()| match status.kept() {
								Some(keep) => store.prune(keep.into()).map(drop).map_err(|e| e.to_string()),
								None => Ok(()),
							})
					},
					Err(why) => {
						// A model in force is not at hand yet: score nothing rather than
						// something another node would not (its peers serve it soon).
						if waiting_for.as_ref() != Some(&why) {
							log::warn!(target: LOG_TARGET, "📇 chain index waits at block {next} to score its transfers: {why}");
							waiting_for = Some(why);
						}
						status.set(next.saturating_sub(1), finalized);
						std::thread::sleep(Duration::from_secs(3));
						continue;
					},
				}
			},
			Err(e) => Err(e),
		};
		if let Err(e) = written {
			log::error!(
				target: LOG_TARGET,
				"chain index stopped at block {next}: {e}. A node whose state of old blocks is pruned cannot backfill: run it with \
				 --state-pruning archive-canonical (it does not advertise the chain dataset meanwhile)"
			);
			status.set(next.saturating_sub(1), finalized);
			// Retry later: the error may be passing (a block not yet imported after a warp sync).
			std::thread::sleep(Duration::from_secs(30));
			continue;
		}
		progress.wrote(next, end, finalized);
		if end < finalized && !backfill.pause.is_zero() {
			std::thread::sleep(backfill.pause);
		}
	}
}

/// Work on the next batch started while the current one is written: decoding the next batch
/// overlaps SQLite's writing of this one (each is about half of a backfill's time).
pub struct Prefetch<T> {
	ahead: Option<(u64, std::thread::JoinHandle<T>)>,
}

impl<T: Send + 'static> Default for Prefetch<T> {
	fn default() -> Self {
		Self { ahead: None }
	}
}

impl<T: Send + 'static> Prefetch<T> {
	/// Starts `job`, the work on the batch from block `first`, on a thread, unless work on that
	/// batch is already under way.
	pub fn start(&mut self, first: u64, job: impl FnOnce() -> T + Send + 'static) {
		if self.ahead.as_ref().is_some_and(|(from, _)| *from == first) {
			return;
		}
		// Spawning fails only when the system is out of threads: the batch is then done inline.
		self.ahead = std::thread::Builder::new().name("loopx-chain-prefetch".into()).spawn(job).ok().map(|handle| (first, handle));
	}

	/// The work on the batch from block `first`, waited for, if it was started; work started
	/// on another batch is kept for when it is asked for.
	pub fn take(&mut self, first: u64) -> Option<T> {
		match self.ahead.take() {
			Some((from, handle)) if from == first => handle.join().ok(),
			other => {
				self.ahead = other;
				None
			},
		}
	}
}

/// A batch of blocks read and decoded.
pub struct Decoded {
	/// The first block.
	pub first: u64,
	/// Each block's hash, in order.
	pub hashes: Vec<H256>,
	/// Each block's rows, in order.
	pub rows: Vec<BlockRows>,
}

/// A block as read from the client, with the decoder of its runtime version.
pub struct RawBlock {
	/// The block's hash.
	pub block_hash: H256,
	/// Header facts and what the state says of the block.
	pub head: BlockHead,
	/// The extrinsics, each SCALE-encoded with its length prefix.
	pub extrinsics: Vec<Vec<u8>>,
	/// `System::Events` at the block.
	pub events: Option<Vec<u8>>,
	/// The decoder of the block's runtime.
	pub decoder: Arc<Decoder>,
}

/// Decodes `blocks` into rows, on as many threads as there are cores (at most 4), keeping their
/// order: decoding is the larger part of a backfill.
pub fn decode_all(blocks: Vec<RawBlock>) -> Result<Vec<BlockRows>, String> {
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
	let chunk = blocks.len().div_ceil(threads).max(1);
	let decode = |part: &[RawBlock]| -> Result<Vec<BlockRows>, String> {
		part.iter().map(|b| b.decoder.rows(b.head.clone(), &b.extrinsics, b.events.as_deref())).collect()
	};
	if threads == 1 || blocks.len() < 2 * threads {
		return decode(&blocks);
	}
	std::thread::scope(|scope| {
		let parts: Vec<_> = blocks.chunks(chunk).map(|part| scope.spawn(move || decode(part))).collect();
		let mut rows = Vec::with_capacity(blocks.len());
		for part in parts {
			rows.extend(part.join().map_err(|_| "a decoding thread panicked".to_string())??);
		}
		Ok(rows)
	})
}

/// The decoder of the last runtime version seen, by its spec version.
type DecoderCache = Arc<std::sync::Mutex<Option<(u32, Arc<Decoder>)>>>;

/// Reads blocks from the client (a clone shares the decoder).
struct Indexer<C> {
	client: Arc<C>,
	decoder: DecoderCache,
}

impl<C> Clone for Indexer<C> {
	fn clone(&self) -> Self {
		Self { client: self.client.clone(), decoder: self.decoder.clone() }
	}
}

impl<C> Indexer<C> {
	/// Reads and decodes blocks `first..=last`.
	fn decode<B>(&self, first: u64, last: u64) -> Result<Decoded, String>
	where
		B: sc_client_api::Backend<Block>,
		C: HeaderBackend<Block> + BlockBackend<Block> + StorageProvider<Block, B> + ProvideRuntimeApi<Block>,
		C::Api: Core<Block> + Metadata<Block>,
	{
		let raw = (first..=last).map(|n| self.read(n)).collect::<Result<Vec<_>, _>>()?;
		let hashes = raw.iter().map(|b| b.block_hash).collect();
		Ok(Decoded { first, hashes, rows: decode_all(raw)? })
	}

	fn read<B>(&self, number: u64) -> Result<RawBlock, String>
	where
		B: sc_client_api::Backend<Block>,
		C: HeaderBackend<Block> + BlockBackend<Block> + StorageProvider<Block, B> + ProvideRuntimeApi<Block>,
		C::Api: Core<Block> + Metadata<Block>,
	{
		let client = &self.client;
		let n = u32::try_from(number).map_err(|_| format!("block {number} beyond u32"))?;
		let hash = client.hash(n).map_err(|e| e.to_string())?.ok_or(format!("block {number} not in the database"))?;
		let header = client.header(hash).map_err(|e| e.to_string())?.ok_or(format!("header of {number} missing"))?;
		let body = client.block_body(hash).map_err(|e| e.to_string())?.ok_or(format!("body of {number} missing"))?;
		let read = |key: &StorageKey| client.storage(hash, key).map_err(|e| format!("state of block {number}: {e}"));
		let events = read(&value_key("System", "Events"))?;
		let timestamp_ms = read(&value_key("Timestamp", "Now"))?.and_then(|d| u64::decode(&mut &d.0[..]).ok());
		let author = header.digest().logs().iter().find_map(|d| d.as_babe_pre_digest()).and_then(|pre| {
			let validators = read(&value_key("Session", "Validators")).ok().flatten()?;
			Vec::<AccountId>::decode(&mut &validators.0[..]).ok()?.get(pre.authority_index() as usize).cloned()
		});
		let spec = client.runtime_api().version(hash).map_err(|e| e.to_string())?.spec_version;
		let cached = self.decoder.lock().map_err(|_| "the decoder cache is poisoned".to_string())?.clone();
		let decoder = match cached {
			Some((s, decoder)) if s == spec => decoder,
			_ => {
				let metadata = client
					.runtime_api()
					.metadata_at_version(hash, METADATA_VERSION)
					.map_err(|e| e.to_string())?
					.ok_or(format!("runtime {spec} has no metadata v{METADATA_VERSION}"))?;
				let decoder = Arc::new(Decoder::new(&metadata)?);
				if let Ok(mut cache) = self.decoder.lock() {
					*cache = Some((spec, decoder.clone()));
				}
				decoder
			},
		};
		let head = BlockHead { number, hash: hex(&hash), parent_hash: hex(header.parent_hash()), author, timestamp_ms };
		Ok(RawBlock { block_hash: hash, head, extrinsics: body.iter().map(Encode::encode).collect(), events: events.map(|d| d.0), decoder })
	}
}

/// Logs backfill progress every [`Progress::EVERY`] while far behind.
struct Progress {
	since: Instant,
	/// The first block written since `since` (`None` before the first write).
	from: Option<u64>,
	logged: Instant,
	batch: u64,
}

impl Progress {
	const EVERY: Duration = Duration::from_secs(10);

	fn new(batch: u64) -> Self {
		Self { since: Instant::now(), from: None, logged: Instant::now(), batch }
	}

	fn wrote(&mut self, first: u64, last: u64, finalized: u64) {
		let behind = finalized.saturating_sub(last);
		if last + 1 - first < self.batch && behind == 0 {
			// Online: one block at a time, nothing to report.
			self.since = Instant::now();
			self.from = Some(last + 1);
			return;
		}
		let from = *self.from.get_or_insert_with(|| {
			log::info!(target: LOG_TARGET, "📇 chain index: backfilling from block #{first} to #{finalized}");
			first
		});
		if self.logged.elapsed() < Self::EVERY && behind > 0 {
			return;
		}
		let rate = (last + 1).saturating_sub(from) as f64 / self.since.elapsed().as_secs_f64().max(1e-3);
		log::info!(
			target: LOG_TARGET,
			"📇 chain index: block #{last} of #{finalized} ({rate:.0} blocks/s{})",
			if behind > 0 { format!(", ETA {:.0} s", behind as f64 / rate.max(1e-3)) } else { ", caught up".into() }
		);
		self.logged = Instant::now();
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_a_long_backfill_drops_the_indexes_and_they_are_built_before_the_last_batch() {
		use IndexPlan::*;
		let batch = 256;
		let long = BULK_BATCHES * batch;
		// A fresh node far behind drops them; one a few batches behind keeps them.
		assert_eq!(index_plan(0, long - 1, true, batch), Drop);
		assert_eq!(index_plan(0, long - 2, true, batch), Keep);
		// A gap shorter than what is stored is written into the indexes: building them again
		// would sort every old row too.
		assert_eq!(index_plan(10 * long, 11 * long, true, batch), Keep);
		assert_eq!(index_plan(long, 3 * long, true, batch), Drop);
		// Once dropped, they stay so while more than a batch is behind, then are built.
		assert_eq!(index_plan(long, long + batch, false, batch), Keep);
		assert_eq!(index_plan(long, long + batch - 1, false, batch), Build);
		// A node caught up (or ahead of a restarted finality) builds what is missing.
		assert_eq!(index_plan(5, 4, false, batch), Build);
		assert_eq!(index_plan(5, 4, true, batch), Keep);
	}
}
