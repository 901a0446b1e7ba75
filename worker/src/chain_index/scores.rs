//! Online fraud scoring (OLTP) of the chain's transfers: each transfer of a finalized block is
//! scored by every fraud model in force at that block, into `transfer_scores(block, idx, task,
//! version, score)`, written with the block's other rows.
//!
//! Every honest node writes the same rows, because every input is fixed by the finalized chain:
//! - **the models**: the current version of each active task the worker's fraud classifier
//!   covers (a classifier over the wallet features on the demo evaluation set), read from the
//!   state *at that block*, at most [`MAX_MODELS_PER_BLOCK`] of them (the most bounty left); its payload is fetched from peers when not held, and the block waits
//!   until it is (a version was accepted only once voters held and scored it; every node that
//!   scored with it pins it in its payload store and serves it, so a node rebuilt later finds
//!   it);
//! - **the features**: [`WalletFeaturizer`] over every transfer before it in chain order (block,
//!   event index), with the block's timestamp in seconds and amounts in LPX — rebuilt from the
//!   stored transfers when the node starts;
//! - **the score**: the model's probability of fraud rounded to 3 decimals. The kernels use no
//!   threads or randomness, so nodes on the same release and CPU features agree bit for bit;
//!   across CPUs the float kernels' last bits differ (the 0.001 tolerance of inference answers),
//!   and a probability within ~1e-7 of a rounding boundary (odds ~1e-4 a transfer) can round
//!   to scores 0.001 apart. Thresholds (`score > 0.9`) are what the table is for.

use std::{collections::BTreeMap, sync::Arc};

use loopx_ml_kernels::{data::wallet::WalletFeaturizer, models::state::ModelState};
use loopx_primitives::TaskId;
use loopx_query_engine::chain::{BlockRows, ChainStore, ScoreRow};
use loopx_runtime::{constants::UNITS, opaque::Block, AccountId, Balance, BlockNumber};
use pallet_builder_market::runtime_api::BuilderMarketApi;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

use crate::{demo_data::DEMO_EVAL_SET, payload_net::PayloadFetcher, payload_store::PayloadStore, training::TaskModel, Metrics, LOG_TARGET};

/// Fraud models that score a block's transfers at most: the ones with the most bounty left
/// (ties: the older task), so deploying many tasks cannot make every validator's indexer run
/// thousands of models a transfer and fall behind finality.
pub const MAX_MODELS_PER_BLOCK: usize = 4;

/// Decoded models kept at most (a version is decoded once, then scores every block it is in
/// force).
const MAX_LOADED: usize = 16;

/// A fraud model, decoded.
pub struct Loaded {
	model: TaskModel,
	state: ModelState,
}

/// A fraud model in force at a block.
#[derive(Clone)]
pub struct InForce {
	/// Its task.
	pub task: TaskId,
	/// The task's current version at the block.
	pub version: u32,
	model: Arc<Loaded>,
}

impl InForce {
	/// `state`, a model of `model`'s kind, as version `version` of `task` (for benchmarks and
	/// tests; the indexer finds what is in force on chain).
	pub fn new(task: TaskId, version: u32, model: TaskModel, state: ModelState) -> Self {
		Self { task, version, model: Arc::new(Loaded { model, state }) }
	}
}

/// The wallets' history and the fraud models, for scoring each block's transfers.
pub struct TransferScorer {
	features: WalletFeaturizer<String>,
	primed: bool,
	loaded: BTreeMap<H256, Arc<Loaded>>,
	payloads: PayloadStore,
	fetcher: Option<PayloadFetcher>,
	metrics: Metrics,
}

/// A transfer's amount as the features take it: LPX.
fn lpx(planck: f64) -> f64 {
	planck / UNITS as f64
}

/// A probability as stored: rounded to 3 decimals (see the module's note on CPUs).
pub fn stored_score(p: f32) -> f64 {
	(f64::from(p) * 1e3).round() / 1e3
}

impl TransferScorer {
	/// A scorer that reads model payloads from `payloads`, fetching missing ones with `fetcher`.
	pub fn new(payloads: PayloadStore, fetcher: Option<PayloadFetcher>, metrics: Metrics) -> Self {
		Self { features: WalletFeaturizer::new(), primed: false, loaded: BTreeMap::new(), payloads, fetcher, metrics }
	}

	/// Rebuilds the wallets' history from the transfers in `store`, once (and again after
	/// [`TransferScorer::reset`]).
	pub fn prime(&mut self, store: &ChainStore) -> Result<(), String> {
		if self.primed {
			return Ok(());
		}
		let mut features = WalletFeaturizer::new();
		let mut count = 0u64;
		store
			.replay_transfers(|t| {
				features.next(&t.sender, &t.receiver, t.timestamp_ms / 1_000, lpx(t.amount));
				count += 1;
			})
			.map_err(|e| e.to_string())?;
		if count > 0 {
			log::info!(target: LOG_TARGET, "📇 fraud scoring: the history of {} wallets rebuilt from {count} stored transfers", features.wallets());
		}
		self.features = features;
		self.primed = true;
		Ok(())
	}

	/// Forgets the wallets' history (after a write that failed: the store did not take what
	/// [`TransferScorer::score`] saw), to be rebuilt by the next [`TransferScorer::prime`].
	pub fn reset(&mut self) {
		self.features = WalletFeaturizer::new();
		self.primed = false;
	}

	/// The fraud models in force at each block of `blocks` (its hash, and whether it has
	/// transfers to score: blocks without get none, unread). `Err` names a model whose payload
	/// is neither held nor served yet: the blocks wait.
	pub async fn models_at<C>(&mut self, client: &C, blocks: &[(H256, bool)]) -> Result<Vec<Vec<InForce>>, String>
	where
		C: ProvideRuntimeApi<Block>,
		C::Api: BuilderMarketApi<Block, AccountId, Balance, BlockNumber>,
	{
		let mut out = Vec::with_capacity(blocks.len());
		for &(hash, has_transfers) in blocks {
			if !has_transfers {
				out.push(Vec::new());
				continue;
			}
			let mut tasks = client.runtime_api().active_tasks(hash).map_err(|e| format!("active tasks at {hash:?}: {e}"))?;
			tasks.retain(|view| view.task.current.is_some() && view.task.spec.eval_set == DEMO_EVAL_SET);
			tasks.sort_by(|a, b| b.task.bounty_left.cmp(&a.task.bounty_left).then(a.id.cmp(&b.id)));
			let mut in_force = Vec::new();
			for view in tasks {
				if in_force.len() >= MAX_MODELS_PER_BLOCK {
					break;
				}
				let (Some(current), spec) = (view.task.current, &view.task.spec) else { continue };
				if let Some(loaded) = self.loaded.get(&current.hash) {
					in_force.push(InForce { task: view.id, version: current.number, model: loaded.clone() });
					continue;
				}
				let Ok(model) = TaskModel::new(view.id, &spec.architecture, spec.precision, spec.metric, spec.hyper) else { continue };
				let loaded = self.load(current.hash, model).await?;
				in_force.push(InForce { task: view.id, version: current.number, model: loaded });
			}
			out.push(in_force);
		}
		Ok(out)
	}

	async fn load(&mut self, hash: H256, model: TaskModel) -> Result<Arc<Loaded>, String> {
		if let Some(loaded) = self.loaded.get(&hash) {
			return Ok(loaded.clone());
		}
		let bytes = match self.payloads.get(&hash) {
			Some(bytes) => bytes.to_vec(),
			None => {
				let fetched = match &self.fetcher {
					Some(fetcher) => fetcher.fetch(hash, &self.metrics).await,
					None => None,
				};
				let bytes = fetched.ok_or(format!("the payload of model {hash:?} is not held and no peer served it yet"))?;
				self.payloads.insert(bytes.clone());
				bytes
			},
		};
		// An accepted version decodes as its task's model: voters scored it.
		let (state, _) = model.decode(&bytes).map_err(|e| format!("model {hash:?} does not decode: {e:?}"))?;
		// Kept and served for as long as the store's pins last: a node rebuilding its index
		// from genesis fetches every version that was ever in force.
		self.payloads.pin(&bytes);
		if self.loaded.len() >= MAX_LOADED {
			self.loaded.pop_first();
		}
		let loaded = Arc::new(Loaded { model, state });
		self.loaded.insert(hash, loaded.clone());
		Ok(loaded)
	}

	/// Takes the transfers of `rows` (consecutive blocks, in order) into the wallets' history
	/// and scores each with the models in force at its block (`models`, one list per block).
	pub fn score(&mut self, rows: &mut [BlockRows], models: &[Vec<InForce>]) {
		for (block, in_force) in rows.iter_mut().zip(models) {
			let seconds = block.timestamp_ms.unwrap_or(0) / 1_000;
			let mut features = Vec::with_capacity(block.transfers.len());
			for t in &block.transfers {
				features.push(self.features.next(&t.sender, &t.receiver, seconds, lpx(t.amount as f64)));
			}
			for model in in_force {
				let flat: Vec<f32> = features.iter().flatten().copied().collect();
				let scores = model.model.model.predict(&model.model.state, &flat);
				block.scores.extend(block.transfers.iter().zip(scores).map(|(t, p)| ScoreRow {
					idx: t.idx,
					task: u64::from(model.task),
					version: model.version,
					score: stored_score(p),
				}));
			}
			block.scores.sort_by_key(|s| (s.idx, s.task));
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use loopx_query_engine::chain::TransferRow;

	fn block(number: u64, transfers: &[(&str, &str, u128)]) -> BlockRows {
		BlockRows {
			number,
			hash: format!("0x{number:064x}"),
			parent_hash: String::new(),
			author: None,
			timestamp_ms: Some(6_000 * number),
			extrinsics: vec![],
			events: vec![],
			transfers: transfers
				.iter()
				.enumerate()
				.map(|(i, (from, to, amount))| TransferRow { idx: i as u32, sender: from.to_string(), receiver: to.to_string(), amount: *amount })
				.collect(),
			scores: vec![],
			market_events: vec![],
		}
	}

	#[test]
	fn a_scorer_rebuilt_from_the_store_continues_as_if_it_had_never_stopped() {
		let dir = std::env::temp_dir().join(format!("loopx-scores-{}", std::process::id()));
		let _ = std::fs::remove_file(&dir);
		let mut store = ChainStore::open(&dir).unwrap();
		let history: Vec<BlockRows> = (0..20).map(|n| block(n, &[("alice", "bob", u128::from(n) * UNITS), ("bob", "carol", 3 * UNITS)])).collect();
		let metrics = Metrics::default();
		let mut online = TransferScorer::new(PayloadStore::default(), None, metrics.clone());
		let mut rows = history.clone();
		let none = vec![Vec::new(); rows.len()];
		online.score(&mut rows, &none);
		store.write(&rows).unwrap();
		// A node started now replays the stored transfers: its next features are the same.
		let mut restarted = TransferScorer::new(PayloadStore::default(), None, metrics);
		restarted.prime(&store).unwrap();
		let next = |s: &mut TransferScorer| s.features.next(&"carol".to_string(), &"alice".to_string(), 200, 1.5);
		assert_eq!(next(&mut online), next(&mut restarted));
		assert_eq!(restarted.features.wallets(), 3);
		let _ = std::fs::remove_file(&dir);
	}

	fn trained_fraud_model() -> Arc<Loaded> {
		use loopx_model_spec::Precision;
		use pallet_builder_market::{HyperParams, Metric};
		let architecture = crate::training::fraud_classifier(1);
		let hyper = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 200, seed: 7 };
		let model = TaskModel::new(3, &architecture, Precision::F32, Metric::Auc, hyper).unwrap();
		let state = model.train(model.initial(), &crate::demo_data::training_shard(1), 1);
		Arc::new(Loaded { model, state })
	}

	#[test]
	fn every_transfer_is_scored_by_every_model_in_force_and_a_fan_out_burst_scores_higher() {
		let model = trained_fraud_model();
		let in_force = vec![InForce { task: 3, version: 2, model: model.clone() }, InForce { task: 4, version: 1, model }];
		// A month of routine payments between ten wallets, then one fresh wallet paying thirty
		// fresh receivers within a block.
		let routine = |n: u64| {
			let from = format!("w{}", n % 10);
			let to = format!("w{}", (n * 3 + 1) % 10);
			block(n, &[(&from, &to, 5 * UNITS)]).transfers
		};
		let mut rows: Vec<BlockRows> =
			(1..=400).map(|n| BlockRows { timestamp_ms: Some(n * 6_000_000), transfers: routine(n), ..block(n, &[]) }).collect();
		let receivers: Vec<String> = (0..30).map(|i| format!("fresh{i}")).collect();
		let burst: Vec<(&str, &str, u128)> = receivers.iter().map(|r| ("mule", r.as_str(), 900 * UNITS)).collect();
		rows.push(BlockRows { timestamp_ms: Some(401 * 6_000_000), ..block(401, &burst) });
		let mut scorer = TransferScorer::new(PayloadStore::default(), None, Metrics::default());
		let models: Vec<Vec<InForce>> = rows.iter().map(|_| in_force.clone()).collect();
		scorer.score(&mut rows, &models);
		for b in &rows {
			assert_eq!(b.scores.len(), 2 * b.transfers.len(), "block {}", b.number);
			assert!(b.scores.iter().all(|s| (0.0..=1.0).contains(&s.score)));
		}
		let mean = |rows: &[BlockRows]| {
			let s: Vec<f64> = rows.iter().flat_map(|b| b.scores.iter().filter(|s| s.task == 3).map(|s| s.score)).collect();
			s.iter().sum::<f64>() / s.len() as f64
		};
		let (normal, fraud) = (mean(&rows[300..400]), mean(&rows[400..]));
		assert!(fraud > normal + 0.2, "burst {fraud} vs routine {normal}");
		// Another node scoring the same blocks writes the same rows.
		let mut again: Vec<BlockRows> = rows.iter().map(|b| BlockRows { scores: vec![], ..b.clone() }).collect();
		TransferScorer::new(PayloadStore::default(), None, Metrics::default()).score(&mut again, &models);
		assert_eq!(again, rows);
	}

	#[test]
	fn scores_are_rounded_to_three_decimals() {
		assert_eq!(stored_score(0.123_456_78), 0.123);
		assert_eq!(stored_score(0.9996), 1.0);
		assert_eq!(stored_score(1.0), 1.0);
	}
}
