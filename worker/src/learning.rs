//! The learning worker: gossip learning on the builder market's tasks (Algorithm 1 of the LoopX
//! whitepaper, driven by the chain's rounds).
//!
//! Every round of every active classifier task scored on the demo evaluation set:
//! 1. **receive**: fetch the task's current version by its hash over the model protocol (the
//!    chain announces versions: each accepted update carries its hash), plus the models of the
//!    other trainers' claims this node scored as a voter;
//! 2. **merge** them ([`TaskModel::merge`]: age-weighted pair, robust median for three or more);
//! 3. **update** on this validator's own data shard for the task's local steps;
//! 4. **score** the model as sent on the evaluation set and, if it beats the current version,
//!    serve its payload and claim it (`submit_update`: a `ModelUpdate` claim the other
//!    validators verify by scoring the same payload).
//!
//! It also answers the vote worker's question for `ModelUpdate` claims: the score of the
//! claimed model, by the same deterministic evaluation ([`Learning::update_verdict`]).
//!
//! What happened is read back from the chain at each block (its open rounds list this node as
//! a trainer), so a restarted node does not claim twice in a round.

use std::collections::{BTreeMap, BTreeSet};

use loopx_ml_kernels::{data::Dataset, models::state::ModelState};
use loopx_primitives::{ClaimClass, ClaimId};
use loopx_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use loopx_worker_api::{Verdict, WorkerAction};
use pallet_builder_market::{
	runtime_api::{BuilderMarketApi, TaskView},
	TaskStatus,
};
use pallet_weighted_voting::runtime_api::WeightedVotingApi;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

use crate::{
	answers::Unanswerable,
	chain::WorkerRuntimeApis,
	demo_data::{commitment, eval_set, training_shard, DEMO_EVAL_SET},
	inference::{error_answer, format_answer, parse_input},
	outbox::{At, Outbox},
	payload_net::PayloadFetcher,
	payload_store::PayloadStore,
	training::{TaskModel, TaskModelError},
	Faults, LOG_TARGET,
};

/// How far a forging validator's (test facility) claimed metric is from the one it really
/// reached (ppm).
pub const FORGED_METRIC_BONUS: u32 = 100_000;

/// What a forging validator claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgery {
	/// Its trained model, with this metric.
	Metric(u32),
	/// The untrained initial model, with this (best possible) metric.
	UntrainedModel(u32),
}

/// The forgery of a validator whose model reached `real` (ppm): the metric overstated by
/// [`FORGED_METRIC_BONUS`]; where the scale has no room for that (an AUC near 1, a loss near 0),
/// the best possible metric claimed for the untrained model. Either way a claim its model is far
/// from meeting, that still beats the current version (as the runtime requires of a claim).
pub fn forge(real: u32, higher_is_better: bool) -> Forgery {
	const BEST_AUC: u32 = 1_000_000;
	if higher_is_better {
		match real.checked_add(FORGED_METRIC_BONUS) {
			Some(up) if up <= BEST_AUC => Forgery::Metric(up),
			_ => Forgery::UntrainedModel(BEST_AUC),
		}
	} else {
		match real.checked_sub(FORGED_METRIC_BONUS) {
			Some(down) => Forgery::Metric(down),
			None => Forgery::UntrainedModel(0),
		}
	}
}

/// Model versions served for inference at most (the runtime's `MaxModels` of a capability).
pub const MAX_SERVED_MODELS: usize = 16;

/// Models of other trainers' claims kept per task for merging.
const MAX_RECEIVED: usize = 8;

/// Local-model payloads bought in the data market and not yet merged, at most.
const MAX_BOUGHT_MODELS: usize = 8;

/// Rounds of the task's local steps a data node trains its local model for.
pub const LOCAL_MODEL_ROUNDS: u64 = 3;

type TaskViewOf = TaskView<AccountId, Balance, BlockNumber>;

/// A claim prepared in a round: sent (and re-sent) until the chain shows it.
#[derive(Clone)]
struct Prepared {
	action: WorkerAction<Balance>,
}

/// The learning worker's memory between blocks.
pub struct Learning {
	store: PayloadStore,
	fetcher: Option<PayloadFetcher>,
	faults: Faults,
	eval: Dataset,
	/// This validator's data shard (with the data sets it bought) and its commitment, made on
	/// first use and again when data is bought.
	shard: Option<(Dataset, H256)>,
	/// Data sets bought in the data market.
	bought: Vec<Dataset>,
	/// Local models bought in the data market, by task, waiting to be scored and merged.
	bought_models: Vec<(u32, Vec<u8>)>,
	/// Each task's model, or why this node cannot work on it.
	tasks: BTreeMap<u32, Result<TaskModel, TaskModelError>>,
	/// Rounds done (trained and claimed, or nothing better found), by task.
	done: BTreeSet<(u32, u32)>,
	/// Claims prepared and not yet seen on chain, by (task, round).
	prepared: BTreeMap<(u32, u32), Prepared>,
	/// The `(task, version)` pairs this node serves inference for.
	served: Vec<(u32, u32)>,
	/// Rounds whose update of this node is on chain and not decided yet (for the metrics).
	awaiting: BTreeSet<(u32, u32)>,
	/// Scored models of other trainers, by task: (hash, model, age, score).
	received: BTreeMap<u32, Vec<(H256, ModelState, u64, u32)>>,
	outbox: Outbox<(u32, u32)>,
}

/// The seed of `who`'s own data: each validator (and data node) holds a different shard.
pub fn seed_of(who: &AccountId) -> u64 {
	u64::from_le_bytes(sp_crypto_hashing::blake2_256(who.as_ref())[..8].try_into().unwrap_or_default())
}

/// Appends the rows of `more` to `data` when both have the same columns (groups renumbered
/// past `data`'s, so that a seller's wallets never merge with ours); whether it did.
pub fn append(data: &mut Dataset, more: &Dataset) -> bool {
	if data.names != more.names {
		return false;
	}
	let offset = data.groups.iter().max().map_or(0, |g| g + 1);
	data.features.extend_from_slice(&more.features);
	data.labels.extend_from_slice(&more.labels);
	data.groups.extend(more.groups.iter().map(|g| g + offset));
	true
}

impl Learning {
	/// Trains on the rows of `data` too from now on (a data set bought in the data market).
	pub fn add_training_data(&mut self, data: Dataset) {
		let names_match = self.shard.as_ref().is_none_or(|(shard, _)| shard.names == data.names);
		if !names_match {
			return log::warn!(target: LOG_TARGET, "bought data has other columns than the tasks use: not trained on");
		}
		log::info!(target: LOG_TARGET, "🧺 {} bought rows join the training data", data.len());
		self.bought.push(data);
		self.shard = None;
	}

	/// Merges a local model of `task` bought in the data market from the next round on (as it
	/// merges the models of other trainers: scored first, and only if it is at least as good
	/// as the current version).
	pub fn add_bought_model(&mut self, task: u32, payload: Vec<u8>) {
		if self.bought_models.len() >= MAX_BOUGHT_MODELS {
			self.bought_models.remove(0);
		}
		log::info!(target: LOG_TARGET, "🧺 a bought local model of task {task} joins the next merge");
		self.bought_models.push((task, payload));
	}

	/// Whether `payload` is a model of `task` as the chain describes it (what a buyer checks
	/// before it confirms a local-model deal).
	pub fn check_model<C, P>(&mut self, at: &At<'_, C, P>, task: u32, payload: &[u8]) -> Result<(), String>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let spec = at.chain.client.runtime_api().task(at.hash, task).map_err(|e| e.to_string())?;
		let view = TaskView { id: task, task: spec.ok_or_else(|| format!("no task {task}"))? };
		let model = Self::task_model(&mut self.tasks, &view).ok_or_else(|| format!("task {task} is not worked on here"))?;
		model.decode(payload).map(|_| ()).map_err(|e| format!("{e:?}"))
	}

	/// A data node's local model: trained on `data` from the initial model of the first active
	/// task it can train, for [`LOCAL_MODEL_ROUNDS`] rounds of the task's local steps. The task
	/// and the payload; `None` while there is no such task.
	pub fn local_model<C, P>(&mut self, at: &At<'_, C, P>, data: &Dataset) -> Option<(u32, Vec<u8>)>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let tasks = at.chain.client.runtime_api().active_tasks(at.hash).ok()?;
		let view = tasks.iter().find(|v| v.task.status == TaskStatus::Active && Self::task_model(&mut self.tasks, v).is_some())?;
		let model = Self::task_model(&mut self.tasks, view)?;
		let seed = seed_of(at.me) ^ u64::from(view.id);
		let started = std::time::Instant::now();
		let mut state = model.initial().clone();
		for round in 0..LOCAL_MODEL_ROUNDS {
			state = model.train(&state, data, seed ^ round);
		}
		at.metrics.trained(started.elapsed());
		let age = LOCAL_MODEL_ROUNDS * u64::from(view.task.spec.hyper.local_steps);
		let payload = model.encode(&state, 0, age, seed).ok()?;
		let metric = model.score_payload(&payload, &self.eval).ok()?;
		log::info!(target: LOG_TARGET, "🏋️ task {}: local model trained on {} rows → {metric} ppm on the evaluation set", view.id, data.len());
		Some((view.id, payload))
	}

	/// Scores the bought local models of `view`'s task and keeps them with the received ones.
	fn score_bought_models(&mut self, view: &TaskViewOf) {
		let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.bought_models).into_iter().partition(|(t, _)| *t == view.id);
		self.bought_models = others;
		let Some(model) = Self::task_model(&mut self.tasks, view) else { return };
		let mut scored = Vec::new();
		for (_, payload) in mine {
			let hash = crate::payload_store::payload_hash(&payload);
			match model.decode(&payload).and_then(|(state, age)| Ok((model.score(&state, &self.eval)?, state, age))) {
				Ok((score, state, age)) => {
					log::info!(target: LOG_TARGET, "🧺 task {}: bought local model {hash:?} scores {score} ppm", view.id);
					scored.push((hash, state, age, score));
				},
				Err(e) => log::warn!(target: LOG_TARGET, "a bought local model of task {} does not decode ({e:?}): not merged", view.id),
			}
		}
		for (hash, state, age, score) in scored {
			self.keep_received(view.id, hash, state, age, score);
		}
	}

	/// Keeps a scored model of `task` for the next merges (the newest [`MAX_RECEIVED`]).
	fn keep_received(&mut self, task: u32, hash: H256, state: ModelState, age: u64, score: u32) {
		let received = self.received.entry(task).or_default();
		if !received.iter().any(|(h, ..)| *h == hash) {
			if received.len() >= MAX_RECEIVED {
				received.remove(0);
			}
			received.push((hash, state, age, score));
		}
	}

	/// A worker serving its models from `store` and fetching others' with `fetcher` (no
	/// fetcher: it can only train from scratch and score models it holds).
	pub fn new(store: PayloadStore, fetcher: Option<PayloadFetcher>, faults: Faults) -> Self {
		Self {
			store,
			fetcher,
			faults,
			eval: eval_set(),
			shard: None,
			bought: Vec::new(),
			bought_models: Vec::new(),
			tasks: BTreeMap::new(),
			done: BTreeSet::new(),
			prepared: BTreeMap::new(),
			served: Vec::new(),
			awaiting: BTreeSet::new(),
			received: BTreeMap::new(),
			outbox: Outbox::default(),
		}
	}

	fn task_model<'a>(tasks: &'a mut BTreeMap<u32, Result<TaskModel, TaskModelError>>, view: &TaskViewOf) -> Option<&'a TaskModel> {
		let spec = &view.task.spec;
		let entry = tasks.entry(view.id).or_insert_with(|| {
			if spec.eval_set != DEMO_EVAL_SET {
				return Err(TaskModelError::Unsupported(format!("evaluation set {:?} is not held here", spec.eval_set)));
			}
			let model = TaskModel::new(view.id, &spec.architecture, spec.precision, spec.metric, spec.hyper);
			match &model {
				Ok(_) => log::info!(target: LOG_TARGET, "🧠 task {}: training and verifying ({:?}, target {})", view.id, spec.metric, spec.target),
				Err(e) => log::info!(target: LOG_TARGET, "task {}: not working on it: {e:?}", view.id),
			}
			model
		});
		entry.as_ref().ok()
	}

	/// A payload by hash: held here, or fetched from a peer (and then held and served).
	async fn payload(&self, hash: H256, metrics: &crate::Metrics) -> Option<std::sync::Arc<Vec<u8>>> {
		if let Some(bytes) = self.store.get(&hash) {
			return Some(bytes);
		}
		let bytes = self.fetcher.as_ref()?.fetch(hash, metrics).await?;
		self.store.insert(bytes);
		self.store.get(&hash)
	}

	/// One pass at a new best block: fetch the models of the update claims to vote on, then
	/// train in the running round of each task.
	pub async fn on_block<C, P>(&mut self, at: &At<'_, C, P>)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		for hash in self.claimed_models_to_fetch(at) {
			if self.payload(hash, at.metrics).await.is_none() {
				log::info!(target: LOG_TARGET, "model {hash:?}: no peer serves it yet");
			}
		}
		let tasks = match at.chain.client.runtime_api().active_tasks(at.hash) {
			Ok(t) => t,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the learning tasks: {e}"),
		};
		self.done.retain(|(task, round)| tasks.iter().any(|t| t.id == *task && t.task.round == *round));
		self.prepared.retain(|key, _| self.done.contains(key) || tasks.iter().any(|t| t.id == key.0 && t.task.round == key.1));
		self.awaiting.retain(|(task, _)| tasks.iter().any(|t| t.id == *task));
		self.served.clear();
		for view in tasks {
			if let Some(current) = view.task.current {
				at.metrics.model_metric(view.id, current.metric);
				// The current version of a task worked on here is served for inference.
				if Self::task_model(&mut self.tasks, &view).is_some()
					&& self.served.len() < MAX_SERVED_MODELS
					&& self.payload(current.hash, at.metrics).await.is_some()
				{
					self.served.push((view.id, current.number));
				}
			}
			self.track_decisions(at, view.id);
			if self.bought_models.iter().any(|(t, _)| *t == view.id) {
				self.score_bought_models(&view);
			}
			if view.task.status == TaskStatus::Active {
				self.round(at, &view).await;
			}
		}
	}

	/// Counts this node's updates in `task` as accepted or rejected once their rounds have no
	/// update left in voting.
	fn track_decisions<C, P>(&mut self, at: &At<'_, C, P>, task: u32)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if !self.awaiting.iter().any(|(t, _)| *t == task) {
			return;
		}
		let Ok(rounds) = at.chain.client.runtime_api().open_rounds(at.hash, task) else { return };
		self.awaiting.retain(|&(t, round)| {
			if t != task {
				return true;
			}
			// A round no longer open was settled before this node looked: its outcome is unknown here.
			let Some(r) = rounds.iter().find(|r| r.round == round) else { return false };
			if let Some((_, metric)) = r.accepted.iter().find(|(who, _)| who == at.me) {
				log::info!(target: LOG_TARGET, "✅ task {task} round {round}: our update was accepted at {metric} ppm");
				at.metrics.update_decided("accepted");
				return false;
			}
			if r.pending == 0 {
				log::info!(target: LOG_TARGET, "❌ task {task} round {round}: our update was not accepted");
				at.metrics.update_decided("rejected");
				return false;
			}
			true
		});
	}

	/// Hashes of the models behind the `ModelUpdate` claims this node votes on, not held yet.
	fn claimed_models_to_fetch<C, P>(&self, at: &At<'_, C, P>) -> Vec<H256>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let Ok(claims) = api.claims_for_voter(at.hash, at.me.clone()) else { return Vec::new() };
		claims
			.iter()
			// Still to reveal too: a restarted node must score the model again to reveal.
			.filter(|c| c.class == ClaimClass::ModelUpdate && !c.revealed)
			.filter_map(|c| api.update_claim(at.hash, c.claim).ok().flatten())
			.map(|u| u.new_hash)
			.filter(|h| self.store.get(h).is_none())
			.collect()
	}

	/// This node's part in the running round of a task.
	async fn round<C, P>(&mut self, at: &At<'_, C, P>, view: &TaskViewOf)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let key = (view.id, view.task.round);
		let on_chain = match at.chain.client.runtime_api().open_rounds(at.hash, view.id) {
			Ok(rounds) => rounds.iter().any(|r| r.round == key.1 && r.trainers.contains(at.me)),
			Err(e) => return log::warn!(target: LOG_TARGET, "task {}: cannot read its rounds: {e}", view.id),
		};
		if on_chain {
			// First seen on chain (prepared here, or found after a restart): await its verdict.
			let prepared = self.prepared.remove(&key).is_some();
			if self.done.insert(key) || prepared {
				self.awaiting.insert(key);
			}
			return;
		}
		let parent_hash = view.task.current.map(|c| c.hash).unwrap_or_default();
		if let Some(prepared) = self.prepared.get(&key) {
			// A version accepted since the claim was prepared makes it stale (the chain wants
			// the current version as parent): train again from the new version.
			if matches!(prepared.action, WorkerAction::SubmitUpdate { parent, .. } if parent != parent_hash) {
				log::info!(target: LOG_TARGET, "task {} round {}: a new version was accepted; training again from it", view.id, key.1);
				self.prepared.remove(&key);
				self.done.remove(&key);
				self.outbox.retain(|k| *k != key);
			} else {
				self.outbox.send(at, key, "submit_update", prepared.action.clone());
				return;
			}
		}
		if self.done.contains(&key) || Self::task_model(&mut self.tasks, view).is_none() {
			return;
		}
		let parent = if parent_hash == H256::zero() {
			Self::task_model(&mut self.tasks, view).map(|m| (m.initial().clone(), 0))
		} else {
			match self.payload(parent_hash, at.metrics).await {
				Some(bytes) => Self::task_model(&mut self.tasks, view).and_then(|m| m.decode(&bytes).ok()),
				None => {
					log::info!(target: LOG_TARGET, "task {}: waiting for version {parent_hash:?} from a peer", view.id);
					return;
				},
			}
		};
		let Some(parent) = parent else {
			log::warn!(target: LOG_TARGET, "task {}: the current version does not decode; skipping round {}", view.id, key.1);
			self.done.insert(key);
			return;
		};
		let started = std::time::Instant::now();
		match self.train(at, view, parent) {
			Some((payload, metric, data)) => {
				at.metrics.trained(started.elapsed());
				let Some(new_hash) = self.store.insert(payload) else { return };
				if let Some(fetcher) = &self.fetcher {
					fetcher.announce(new_hash);
				}
				log::info!(target: LOG_TARGET, "📤 task {} round {}: claiming model {new_hash:?} with metric {metric} ppm", view.id, key.1);
				let action = WorkerAction::SubmitUpdate { task: view.id, parent: parent_hash, new_hash, metric, data };
				self.prepared.insert(key, Prepared { action: action.clone() });
				self.outbox.send(at, key, "submit_update", action);
			},
			None => at.metrics.trained(started.elapsed()),
		}
		self.done.insert(key);
	}

	/// Merge, local update and score; `Some((payload, metric, data commitment))` when the
	/// result is worth claiming.
	fn train<C, P>(&mut self, at: &At<'_, C, P>, view: &TaskViewOf, parent: (ModelState, u64)) -> Option<(Vec<u8>, u32, H256)> {
		let seed = seed_of(at.me);
		if self.shard.is_none() {
			let mut shard = training_shard(seed);
			for bought in &self.bought {
				append(&mut shard, bought);
			}
			let data = commitment(&shard);
			self.shard = Some((shard, data));
		}
		let (shard, data) = self.shard.as_ref()?;
		let (shard, data) = (shard, *data);
		let model = self.tasks.get(&view.id)?.as_ref().ok()?;
		let spec = &view.task.spec;
		let round = view.task.round;
		let step_seed = seed ^ (u64::from(view.id) << 32) ^ u64::from(round);
		let age = parent.1.saturating_add(u64::from(spec.hyper.local_steps));
		let current = view.task.current.map(|c| c.metric);
		let beats = |m: u32| current.is_none_or(|c| spec.metric.better(m, c));
		// Received models join the merge if they score at least as well as the version (the
		// version itself, often one of them, is the parent already).
		let version = view.task.current.map(|c| c.hash);
		let mut pool = vec![parent.clone()];
		pool.extend(
			self.received
				.get(&view.id)
				.into_iter()
				.flatten()
				.filter(|(hash, ..)| Some(*hash) != version)
				.filter(|(_, _, _, score)| current.is_none_or(|c| !spec.metric.better(c, *score)))
				.map(|(_, m, age, _)| (m.clone(), *age)),
		);
		let mut starts = Vec::new();
		if pool.len() > 1 {
			starts.extend(model.merge(&pool).map(|(m, _)| m));
		}
		starts.push(parent.0);
		let mut best: Option<(Vec<u8>, u32)> = None;
		for (i, start) in starts.iter().enumerate() {
			let trained = model.train(start, shard, step_seed);
			let Ok(payload) = model.encode(&trained, u64::from(round) + 1, age, step_seed) else { continue };
			let Ok(metric) = model.score_payload(&payload, &self.eval) else { continue };
			let merged = i == 0 && starts.len() > 1;
			log::info!(target: LOG_TARGET, "🏋️ task {} round {round}: trained from {} models → {metric} ppm", view.id, if merged { pool.len() } else { 1 });
			if best.as_ref().is_none_or(|(_, m)| spec.metric.better(metric, *m)) {
				best = Some((payload, metric));
			}
			if beats(metric) {
				break;
			}
		}
		let (mut payload, mut metric) = best?;
		if self.faults.forge_claims {
			match forge(metric, spec.metric.higher_is_better()) {
				Forgery::Metric(forged) => metric = forged,
				Forgery::UntrainedModel(forged) => {
					metric = forged;
					payload = model.encode(model.initial(), u64::from(round) + 1, age, step_seed).ok()?;
				},
			}
			log::warn!(target: LOG_TARGET, "🎭 task {} round {round}: forging the claim: {metric} ppm", view.id);
		} else if !beats(metric) {
			log::info!(target: LOG_TARGET, "task {} round {round}: {metric} ppm does not beat the current version; no claim", view.id);
			return None;
		}
		Some((payload, metric, data))
	}

	/// The `(task, version)` pairs served for inference: the current version of every task
	/// worked on here, once its model is held.
	pub fn served(&self) -> &[(u32, u32)] {
		&self.served
	}

	/// The answer to an inference query on `version` of task `task` (see [`crate::inference`]
	/// for the text format); an input that does not parse is answered with its error.
	pub fn infer<C, P>(&mut self, at: &At<'_, C, P>, task: u32, version: u32, input: &[u8]) -> Result<Vec<u8>, Unanswerable>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let not_served = |why: &str| Unanswerable::ModelNotServed(format!("task {task} version {version}: {why}"));
		let api = at.chain.client.runtime_api();
		let spec = api.task(at.hash, task).ok().flatten().ok_or_else(|| not_served("unknown task"))?;
		let versions = api.versions(at.hash, task).map_err(|e| not_served(&e.to_string()))?;
		drop(api);
		let (_, hash, ..) = versions.into_iter().find(|v| v.0 == version).ok_or_else(|| not_served("unknown version"))?;
		let bytes = self.store.get(&hash).ok_or_else(|| not_served("model not held"))?;
		let view = TaskView { id: task, task: spec };
		let model = Self::task_model(&mut self.tasks, &view).ok_or_else(|| not_served("model kind not supported"))?;
		let (state, _) = model.decode(&bytes).map_err(|e| not_served(&format!("{e:?}")))?;
		Ok(match parse_input(input) {
			Ok(features) => format_answer(&model.predict(&state, &features)),
			Err(why) => error_answer(&why),
		})
	}

	/// The vote on a `ModelUpdate` claim: the score of the claimed model on the task's
	/// evaluation set; `None` (abstain) when this node cannot score it.
	pub fn update_verdict<C, P>(&mut self, at: &At<'_, C, P>, claim: ClaimId) -> Option<Verdict>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let update = api.update_claim(at.hash, claim).ok().flatten()?;
		let view = api.active_tasks(at.hash).ok()?.into_iter().find(|t| t.id == update.task)?;
		drop(api);
		let Some(bytes) = self.store.get(&update.new_hash) else {
			log::info!(target: LOG_TARGET, "claim {claim}: model {:?} not fetched yet", update.new_hash);
			return None;
		};
		let model = Self::task_model(&mut self.tasks, &view)?;
		let started = std::time::Instant::now();
		let scored = model.decode(&bytes).and_then(|(state, age)| Ok((model.score(&state, &self.eval)?, state, age)));
		at.metrics.evaluated(started.elapsed());
		match scored {
			Ok((score, state, age)) => {
				log::info!(
					target: LOG_TARGET,
					"⚖️ claim {claim}: {}'s model for task {} scores {score} ppm (claimed {})",
					update.trainer, update.task, update.claimed_metric
				);
				self.keep_received(update.task, update.new_hash, state, age, score);
				Some(Verdict::Score(score))
			},
			// A payload that is not a model of the task scores nothing.
			Err(e) => {
				log::info!(target: LOG_TARGET, "⚖️ claim {claim}: the model does not decode ({e:?}); scoring 0");
				Some(Verdict::Score(if view.task.spec.metric.higher_is_better() { 0 } else { u32::MAX }))
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_forgery_claims_what_the_model_does_not_reach() {
		assert_eq!(forge(700_000, true), Forgery::Metric(800_000), "overstated where there is room");
		assert_eq!(forge(900_000, true), Forgery::Metric(1_000_000));
		assert_eq!(forge(986_631, true), Forgery::UntrainedModel(1_000_000), "near 1: the untrained model claimed as perfect");
		assert_eq!(forge(1_000_000, true), Forgery::UntrainedModel(1_000_000));
		assert_eq!(forge(300_000, false), Forgery::Metric(200_000), "a loss understated");
		assert_eq!(forge(50_000, false), Forgery::UntrainedModel(0), "a loss near 0: the untrained model claimed as perfect");
	}

	#[test]
	fn bought_rows_are_appended_with_their_own_groups_and_other_columns_are_refused() {
		let mut mine = training_shard(1);
		let bought = training_shard(2);
		let (rows, dim) = (mine.len(), mine.dim());
		let my_groups = mine.groups.iter().max().copied().unwrap_or(0);
		assert!(append(&mut mine, &bought));
		assert_eq!(mine.len(), rows + bought.len());
		assert_eq!(mine.features.len(), mine.len() * dim);
		assert_eq!(mine.row(rows), bought.row(0));
		assert!(mine.groups[rows..].iter().all(|g| *g > my_groups), "a seller's wallets stay apart from ours");
		let mut other = bought.clone();
		other.names[0] = "something else".into();
		assert!(!append(&mut mine, &other));
		assert_eq!(mine.len(), rows + bought.len(), "nothing appended");
	}
}
