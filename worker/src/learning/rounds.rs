//! The round driver: this node's part in the running round of each task (merge, local update
//! on its own data shard, score, claim), what it claimed and whether it was accepted, read
//! back from the chain at each block so that a restarted node does not claim twice in a round.
//! It also trains a data node's local model.

use std::{
	collections::{BTreeMap, BTreeSet},
	sync::Arc,
};

use loopx_ml_kernels::{data::Dataset, models::state::ModelState, selection::cap_per_group};
use loopx_primitives::{ClaimId, TaskId};
use loopx_runtime::{opaque::Block, AccountId, Balance};
use loopx_worker_api::WorkerAction;
use pallet_builder_market::{runtime_api::BuilderMarketApi, TaskStatus};
use pallet_weighted_voting::runtime_api::WeightedVotingApi;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

use super::{
	pool::{ModelPool, PoolError},
	scorer::UpdateScorer,
	tasks::TaskRegistry,
	trainer::{Progress, RoundJob, Trained, Training},
	TaskViewOf,
};
use crate::{
	chain::WorkerRuntimeApis,
	demo_data::training_shard,
	outbox::{At, Outbox},
	secret::score_salt,
	training::maker_of,
	Faults, LOG_TARGET,
};

/// Rounds of the task's local steps a data node trains its local model for.
pub const LOCAL_MODEL_ROUNDS: u64 = 3;

/// A round of a task: `(task, round)`.
type RoundKey = (TaskId, u32);

/// Why this node did nothing in a round at this block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundError {
	/// The chain's state could not be read.
	Chain(String),
	/// The version to train from is not held yet.
	WaitingForVersion(PoolError),
	/// The version to train from does not decode: the round is skipped.
	VersionDoesNotDecode,
	/// The training thread ended without a result: the round is skipped.
	TrainingFailed,
}

impl core::fmt::Display for RoundError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Chain(e) => write!(f, "cannot read its rounds: {e}"),
			Self::WaitingForVersion(e) => write!(f, "waiting for the current version: {e}"),
			Self::VersionDoesNotDecode => f.write_str("the current version does not decode; skipping the round"),
			Self::TrainingFailed => f.write_str("the training thread failed; skipping the round"),
		}
	}
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

/// Most rows of one group (a wallet, a user) kept from one bought data set: a seller cannot
/// make one actor dominate a buyer's training data by volume (`ml-kernels`'
/// `selection::cap_per_group`). The demo stream's busiest wallet has 121 transfers, so an
/// honest seller of it keeps every row (tested).
pub const MAX_BOUGHT_ROWS_PER_GROUP: usize = 128;

/// A bought data set as it joins the training data: at most [`MAX_BOUGHT_ROWS_PER_GROUP`] rows
/// of each group, the first ones in the seller's order.
pub fn admit_bought(data: &Dataset) -> Dataset {
	data.subset(&cap_per_group(&data.groups, MAX_BOUGHT_ROWS_PER_GROUP))
}

/// What training a data node's local model makes: its payload (`None`: it did not encode),
/// and how long it took.
type LocalModel = (Option<Vec<u8>>, std::time::Duration);

/// The round driver's memory between blocks.
pub struct RoundDriver {
	faults: Faults,
	/// This validator's data shard (with the data sets it bought), made on
	/// first use and again when data is bought.
	shard: Option<Arc<Dataset>>,
	/// Data sets bought in the data market.
	bought: Vec<Dataset>,
	/// Rounds done (trained and claimed, or nothing better found).
	done: BTreeSet<RoundKey>,
	/// Claims prepared and not yet seen on chain.
	prepared: BTreeMap<RoundKey, WorkerAction<Balance>>,
	/// Rounds whose update of this node is on chain and not decided yet (for the metrics).
	awaiting: BTreeSet<RoundKey>,
	/// The round training in the background, and the version it trains from. One at a time:
	/// the node's other core produces and imports blocks.
	training: Option<(RoundKey, H256, Training)>,
	/// A job given up (its round moved on, or a newer version came) whose thread still runs:
	/// no job starts until it ends.
	abandoned: Option<Training>,
	/// A data node's local model training, for its task.
	local: Option<(TaskId, Training<LocalModel>)>,
	/// The metric sealed in each update claimed (by model hash), to reveal once the claim's
	/// commit period is over. After a restart the model is scored again instead.
	sealed: BTreeMap<(TaskId, H256), u32>,
	/// Salts the seals.
	secret: [u8; 32],
	outbox: Outbox<RoundKey>,
	reveals: Outbox<ClaimId>,
}

impl RoundDriver {
	/// A driver that cheats as `faults` say (test networks only).
	pub fn new(faults: Faults, secret: [u8; 32]) -> Self {
		Self {
			faults,
			shard: None,
			bought: Vec::new(),
			done: BTreeSet::new(),
			prepared: BTreeMap::new(),
			awaiting: BTreeSet::new(),
			training: None,
			abandoned: None,
			local: None,
			sealed: BTreeMap::new(),
			secret,
			outbox: Outbox::default(),
			reveals: Outbox::default(),
		}
	}

	/// Trains on the rows of `data` too from now on (a data set bought in the data market).
	pub fn add_training_data(&mut self, data: Dataset) {
		let names_match = self.shard.as_ref().is_none_or(|shard| shard.names == data.names);
		if !names_match {
			return log::warn!(target: LOG_TARGET, "bought data has other columns than the tasks use: not trained on");
		}
		let admitted = admit_bought(&data);
		log::info!(
			target: LOG_TARGET,
			"🧺 {} bought rows join the training data ({} over {MAX_BOUGHT_ROWS_PER_GROUP} a group left out)",
			admitted.len(),
			data.len() - admitted.len()
		);
		self.bought.push(admitted);
		self.shard = None;
	}

	/// Forgets the rounds of tasks that moved on (`tasks`: the active tasks now).
	pub fn retain(&mut self, tasks: &[TaskViewOf]) {
		let running = |key: &RoundKey| tasks.iter().any(|t| t.id == key.0 && t.task.round == key.1);
		self.done.retain(running);
		self.prepared.retain(|key, _| self.done.contains(key) || running(key));
		self.awaiting.retain(|(task, _)| tasks.iter().any(|t| t.id == *task));
		if self.training.as_ref().is_some_and(|(key, _, _)| !running(key)) {
			self.abandon();
		}
	}

	/// Gives up the job training in the background (its result will be dropped).
	fn abandon(&mut self) {
		if let Some((_, _, training)) = self.training.take() {
			self.abandoned = Some(training);
		}
	}

	/// Counts this node's updates in `task` as accepted or rejected once their rounds have no
	/// update left in voting.
	pub fn track_decisions<C, P>(&mut self, at: &At<'_, C, P>, task: TaskId)
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

	/// This node's part in the running round of `view`'s task.
	pub async fn round<C, P>(
		&mut self,
		at: &At<'_, C, P>,
		view: &TaskViewOf,
		tasks: &mut TaskRegistry,
		pool: &ModelPool,
		scorer: &UpdateScorer,
	) -> Result<(), RoundError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let key = (view.id, view.task.round);
		let rounds = at.chain.client.runtime_api().open_rounds(at.hash, view.id).map_err(|e| RoundError::Chain(e.to_string()))?;
		if rounds.iter().any(|r| r.round == key.1 && r.trainers.contains(at.me)) {
			// First seen on chain (prepared here, or found after a restart): await its verdict.
			let prepared = self.prepared.remove(&key).is_some();
			if self.done.insert(key) || prepared {
				self.awaiting.insert(key);
			}
			return Ok(());
		}
		let parent_hash = view.task.current.map(|c| c.hash).unwrap_or_default();
		if let Some(action) = self.prepared.get(&key) {
			// A version accepted since the claim was prepared makes it stale (the chain wants
			// the current version as parent): train again from the new version.
			if matches!(action, WorkerAction::SubmitUpdate { parent, .. } if *parent != parent_hash) {
				log::info!(target: LOG_TARGET, "task {} round {}: a new version was accepted; training again from it", view.id, key.1);
				self.prepared.remove(&key);
				self.done.remove(&key);
				self.outbox.forget(&key);
			} else {
				self.outbox.send(at, key, "submit_update", action.clone());
				return Ok(());
			}
		}
		if self.done.contains(&key) || !tasks.works_on(view) {
			return Ok(());
		}
		if let Some((job_key, job_parent, training)) = &self.training {
			if *job_key != key {
				// Another round trains: this one waits its turn.
				return Ok(());
			}
			if *job_parent != parent_hash {
				log::info!(target: LOG_TARGET, "task {} round {}: a new version was accepted; training again from it", view.id, key.1);
				self.abandon();
			} else {
				return match training.poll() {
					Progress::Running => Ok(()),
					Progress::Failed => {
						self.training = None;
						self.done.insert(key);
						Err(RoundError::TrainingFailed)
					},
					Progress::Done(trained) => {
						self.training = None;
						self.finish(at, view, parent_hash, trained, pool)
					},
				};
			}
		}
		if self.abandoned.as_ref().is_some_and(|t| !t.finished()) {
			return Ok(());
		}
		self.abandoned = None;
		let parent = if parent_hash == H256::zero() {
			tasks.model(view).ok().map(|m| (m.initial().clone(), 0))
		} else {
			let bytes = pool.payload(parent_hash, at.metrics).await.map_err(RoundError::WaitingForVersion)?;
			tasks.model(view).ok().and_then(|m| m.decode(&bytes).ok())
		};
		let Some(parent) = parent else {
			self.done.insert(key);
			return Err(RoundError::VersionDoesNotDecode);
		};
		let Some(job) = self.job(at, view, parent, tasks, pool, scorer) else {
			self.done.insert(key);
			return Ok(());
		};
		match Training::start(job.clone()) {
			Ok(training) => {
				log::info!(target: LOG_TARGET, "task {} round {}: training in the background", view.id, key.1);
				self.training = Some((key, parent_hash, training));
				Ok(())
			},
			// No thread to be had: train here, as a node did before.
			Err(e) => {
				log::warn!(target: LOG_TARGET, "no training thread ({e}): training in the block loop");
				self.finish(at, view, parent_hash, job.run(), pool)
			},
		}
	}

	/// Ends `view`'s running round with what its training made: the round is done, and a model
	/// worth claiming is served and claimed with its metric sealed.
	fn finish<C, P>(&mut self, at: &At<'_, C, P>, view: &TaskViewOf, parent_hash: H256, trained: Trained, pool: &ModelPool) -> Result<(), RoundError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let key = (view.id, view.task.round);
		at.metrics.trained(trained.took);
		self.done.insert(key);
		let Some((payload, metric)) = trained.claim else { return Ok(()) };
		let Some(new_hash) = pool.publish(payload) else { return Ok(()) };
		let salt = score_salt(&self.secret, view.id, &new_hash);
		let sealed_metric =
			at.chain.client.runtime_api().score_seal(at.hash, at.me.clone(), metric, salt).map_err(|e| RoundError::Chain(e.to_string()))?;
		log::info!(target: LOG_TARGET, "📤 task {} round {}: claiming model {new_hash:?} with metric {metric} ppm (sealed)", view.id, key.1);
		self.sealed.insert((view.id, new_hash), metric);
		let action = WorkerAction::SubmitUpdate { task: view.id, parent: parent_hash, new_hash, sealed_metric };
		self.prepared.insert(key, action.clone());
		self.outbox.send(at, key, "submit_update", action);
		Ok(())
	}

	/// Reveals the metric sealed in each of this node's update claims whose commit period is
	/// over (every vote is in: no voter can copy it now). The metric is the one sealed, or,
	/// after a restart, the model's score again (the same: evaluation is deterministic).
	pub fn reveal_scores<C, P>(&mut self, at: &At<'_, C, P>, active: &[TaskViewOf], tasks: &mut TaskRegistry, pool: &ModelPool, scorer: &UpdateScorer)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let due = match api.scores_to_reveal(at.hash, at.me.clone()) {
			Ok(due) => due,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the claimed metrics to reveal: {e}"),
		};
		self.reveals.retain(at.now, |claim| due.contains(claim));
		for claim in due {
			if !self.reveals.may_send(claim, at.now) {
				continue;
			}
			let Ok(Some(update)) = api.update_claim(at.hash, claim) else { continue };
			let metric = self.sealed.get(&(update.task, update.new_hash)).copied().or_else(|| {
				let view = active.iter().find(|v| v.id == update.task)?;
				let bytes = pool.held(&update.new_hash)?;
				tasks.model(view).ok()?.score_payload(&bytes, scorer.eval()).ok()
			});
			let Some(score) = metric else {
				log::warn!(target: LOG_TARGET, "claim {claim}: the metric sealed for {:?} is not known here; it cannot be revealed", update.new_hash);
				continue;
			};
			log::info!(target: LOG_TARGET, "🔓 claim {claim}: revealing the claimed metric {score} ppm");
			let salt = score_salt(&self.secret, update.task, &update.new_hash);
			self.reveals.send(at, claim, "reveal_claimed_score", WorkerAction::RevealClaimedScore { claim, score, salt });
		}
		self.sealed.retain(|(task, _), _| active.iter().any(|v| v.id == *task));
	}

	/// This validator's data shard (made on first use).
	fn shard(&mut self, seed: u64) -> Arc<Dataset> {
		let bought = &self.bought;
		self.shard
			.get_or_insert_with(|| {
				let mut shard = training_shard(seed);
				for more in bought {
					append(&mut shard, more);
				}
				Arc::new(shard)
			})
			.clone()
	}

	/// The local update of `view`'s running round from `parent`: this node's shard, the task's
	/// evaluation set and the received models worth merging (`None`: the task is not held).
	fn job<C, P>(
		&mut self,
		at: &At<'_, C, P>,
		view: &TaskViewOf,
		parent: (ModelState, u64),
		tasks: &TaskRegistry,
		pool: &ModelPool,
		scorer: &UpdateScorer,
	) -> Option<RoundJob> {
		let seed = seed_of(at.me);
		let model = tasks.get(view.id)?.clone();
		let spec = &view.task.spec;
		let round = view.task.round;
		let current = view.task.current.map(|c| c.metric);
		// Received models join the merge if they score at least as well as the version (the
		// version itself, often one of them, is the parent already).
		let version = view.task.current.map(|c| c.hash);
		let received = pool
			.received(view.id)
			.iter()
			.filter(|r| Some(r.hash) != version)
			.filter(|r| current.is_none_or(|c| !spec.metric.better(c, r.score)))
			.map(|r| (r.state.clone(), r.age))
			.collect();
		Some(RoundJob {
			task: view.id,
			round,
			model,
			metric: spec.metric,
			current,
			parent,
			received,
			shard: self.shard(seed),
			eval: scorer.shared_eval(),
			step_seed: seed ^ (u64::from(view.id) << 32) ^ u64::from(round),
			maker: maker_of(at.me),
			forge: self.faults.forge_claims,
			slow: self.faults.slow_training,
		})
	}

	/// A data node's local model: trained on `data` from the initial model of the first active
	/// task it can train, for [`LOCAL_MODEL_ROUNDS`] rounds of the task's local steps, on a
	/// thread of its own (see [`super::trainer`]). The task and the payload once trained;
	/// `None` while there is no such task, or while it trains.
	pub fn local_model<C, P>(
		&mut self,
		at: &At<'_, C, P>,
		data: &Arc<Dataset>,
		tasks: &mut TaskRegistry,
		scorer: &UpdateScorer,
	) -> Option<(TaskId, Vec<u8>)>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if let Some((task, training)) = &self.local {
			let task = *task;
			return match training.poll() {
				Progress::Running => None,
				Progress::Done((payload, took)) => {
					self.local = None;
					at.metrics.trained(took);
					payload.map(|p| (task, p))
				},
				// Tried again at the next block.
				Progress::Failed => {
					self.local = None;
					None
				},
			};
		}
		let active = at.chain.client.runtime_api().active_tasks(at.hash).ok()?;
		let view = active.iter().find(|v| v.task.status == TaskStatus::Active && tasks.works_on(v))?;
		let model = tasks.model(view).ok()?.clone();
		let (task, rows, seed) = (view.id, data.len(), seed_of(at.me) ^ u64::from(view.id));
		let age = LOCAL_MODEL_ROUNDS * u64::from(view.task.spec.hyper.local_steps);
		let (data, eval, maker) = (Arc::clone(data), scorer.shared_eval(), maker_of(at.me));
		let job = move || {
			let started = std::time::Instant::now();
			let mut state = model.initial().clone();
			for round in 0..LOCAL_MODEL_ROUNDS {
				state = model.train(&state, &data, seed ^ round);
			}
			let payload = model.encode(&state, 0, age, seed, &maker).ok().and_then(|payload| {
				let metric = model.score_payload(&payload, &eval).ok()?;
				log::info!(target: LOG_TARGET, "🏋️ task {task}: local model trained on {rows} rows → {metric} ppm on the evaluation set");
				Some(payload)
			});
			(payload, started.elapsed())
		};
		match Training::spawn(format!("loopx-local-{task}"), job) {
			Ok(training) => self.local = Some((task, training)),
			Err(e) => log::warn!(target: LOG_TARGET, "no thread to train the local model on: {e}"),
		}
		None
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_bought_data_set_keeps_at_most_its_cap_of_rows_a_group() {
		// An honest seller's stream loses little or nothing (the demo's: nothing).
		let honest = training_shard(2);
		let kept = admit_bought(&honest);
		let mut per_group = BTreeMap::<u64, usize>::new();
		honest.groups.iter().for_each(|g| *per_group.entry(*g).or_default() += 1);
		eprintln!(
			"{} groups, the busiest {} rows; {} of {} rows kept",
			per_group.len(),
			per_group.values().max().unwrap_or(&0),
			kept.len(),
			honest.len()
		);
		assert!(kept.len() * 100 >= honest.len() * 95, "{} of {} rows kept", kept.len(), honest.len());
		// One wallet stuffed with copies of a row keeps its cap, in the seller's order.
		let mut stuffed = honest.clone();
		let (row, dim) = (honest.row(0).to_vec(), honest.dim());
		for _ in 0..1_000 {
			stuffed.features.extend_from_slice(&row);
			stuffed.labels.push(true);
			stuffed.groups.push(honest.groups[0]);
		}
		let admitted = admit_bought(&stuffed);
		let of_wallet = admitted.groups.iter().filter(|g| **g == honest.groups[0]).count();
		assert_eq!(of_wallet, MAX_BOUGHT_ROWS_PER_GROUP);
		assert_eq!(admitted.features.len(), admitted.len() * dim);
		assert_eq!(
			admitted.len(),
			kept.len() + MAX_BOUGHT_ROWS_PER_GROUP - honest.groups.iter().filter(|g| **g == honest.groups[0]).count().min(MAX_BOUGHT_ROWS_PER_GROUP)
		);
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
