//! The learning worker: gossip learning on the builder market's tasks (Algorithm 1 of the LoopX
//! whitepaper, driven by the chain's rounds).
//!
//! Every round of every active classifier task scored on the demo evaluation set:
//! 1. **receive**: fetch the task's current version by its hash over the model protocol (the
//!    chain announces versions: each accepted update carries its hash), plus the models of the
//!    other trainers' claims this node scored as a voter;
//! 2. **merge** them ([`crate::training::TaskModel::merge`]: age-weighted pair, robust median for three or more);
//! 3. **update** on this validator's own data shard for the task's local steps;
//! 4. **score** the model as sent on the evaluation set and, if it beats the current version,
//!    serve its payload and claim it (`submit_update`: a `ModelUpdate` claim the other
//!    validators verify by scoring the same payload).
//!
//! It also answers the vote worker's question for `ModelUpdate` claims: the score of the
//! claimed model, by the same deterministic evaluation ([`Learning::update_verdict`]).
//!
//! One module a duty: [`tasks`] (the task registry: spec → model), [`rounds`] (the round
//! driver), [`trainer`] (a round's local update, on a thread of its own so that votes and
//! answers never wait for it), [`pool`] (the model pool: payloads held and fetched, models to
//! merge), [`serving`] (the inference service) and [`scorer`] (the update scorer).
//! [`Learning`] holds them and runs them in order at each block.
//!
//! What happened is read back from the chain at each block (its open rounds list this node as
//! a trainer), so a restarted node does not claim twice in a round.

pub mod pool;
pub mod rounds;
pub mod scorer;
pub mod serving;
pub mod tasks;
pub mod trainer;

use futures::StreamExt;
use loopx_ml_kernels::data::Dataset;
use loopx_primitives::{ClaimId, TaskId};
use loopx_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use loopx_worker_api::Verdict;
use pallet_builder_market::{
	runtime_api::{BuilderMarketApi, TaskView},
	TaskStatus,
};
use pallet_weighted_voting::runtime_api::WeightedVotingApi;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;
use std::sync::Arc;

pub use pool::{ModelPool, PoolError, Scored};
pub use rounds::{append, seed_of, RoundDriver, RoundError, LOCAL_MODEL_ROUNDS};
pub use scorer::{ScoreError, UpdateScorer};
pub use serving::{InferenceService, ServeError};
pub use tasks::{TaskError, TaskRegistry};

use crate::{
	answers::Unanswerable,
	chain::WorkerRuntimeApis,
	outbox::At,
	payload_net::{PayloadFetcher, CONCURRENT_FETCHES},
	payload_store::PayloadStore,
	training::TaskPayload,
	Faults, LOG_TARGET,
};

/// A task as the runtime API shows it.
pub type TaskViewOf = TaskView<AccountId, Balance, BlockNumber>;

/// The learning worker: its five parts, run in order at each block.
pub struct Learning {
	tasks: TaskRegistry,
	pool: ModelPool,
	rounds: RoundDriver,
	serving: InferenceService,
	scorer: UpdateScorer,
}

impl Learning {
	/// A worker serving its models from `store` and fetching others' with `fetcher` (no
	/// fetcher: it can only train from scratch and score models it holds).
	/// `secret` salts the seals on its claimed metrics.
	pub fn new(store: PayloadStore, fetcher: Option<PayloadFetcher>, faults: Faults, secret: [u8; 32]) -> Self {
		Self {
			tasks: TaskRegistry::default(),
			pool: ModelPool::new(store, fetcher),
			rounds: RoundDriver::new(faults, secret),
			serving: InferenceService::default(),
			scorer: UpdateScorer::default(),
		}
	}

	/// Trains on the rows of `data` too from now on (a data set bought in the data market).
	pub fn add_training_data(&mut self, data: Dataset) {
		self.rounds.add_training_data(data);
	}

	/// Merges a local model of `task` bought in the data market from the next round on (as it
	/// merges the models of other trainers: scored first, and only if it is at least as good
	/// as the current version).
	pub fn add_bought_model(&mut self, task: TaskId, payload: Vec<u8>) {
		self.pool.add_bought(task, payload);
	}

	/// The tasks seen that this node trains and verifies (whose local models it may buy).
	pub fn tasks_worked_on(&self) -> Vec<TaskId> {
		self.tasks.worked_on().collect()
	}

	/// Whether `payload` is a model of its task as the chain describes it (what a buyer checks
	/// before it confirms a local-model deal).
	pub fn check_model<C, P>(&mut self, at: &At<'_, C, P>, payload: &TaskPayload) -> Result<(), ScoreError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		self.scorer.check_model(at, payload, &mut self.tasks)
	}

	/// A data node's local model (see [`RoundDriver::local_model`]).
	pub fn local_model<C, P>(&mut self, at: &At<'_, C, P>, data: &Arc<Dataset>) -> Option<(TaskId, Vec<u8>)>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		self.rounds.local_model(at, data, &mut self.tasks, &self.scorer)
	}

	/// One pass at a new best block: fetch the models of the update claims to vote on, then
	/// serve the current versions and train in the running round of each task.
	pub async fn on_block<C, P>(&mut self, at: &At<'_, C, P>)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		// All at once (a few at a time): one peer that times out no longer holds up the rest; the
		// node's fetcher starts them in the background and returns at once (found at a later block).
		let pool = &self.pool;
		let fetches = futures::stream::iter(self.claimed_models_to_fetch(at)).map(|hash| pool.payload(hash, at.metrics));
		let results: Vec<_> = fetches.buffer_unordered(CONCURRENT_FETCHES).collect().await;
		for e in results.into_iter().filter_map(Result::err) {
			match e {
				PoolError::Fetching(_) => log::debug!(target: LOG_TARGET, "{e}"),
				_ => log::info!(target: LOG_TARGET, "{e}"),
			}
		}
		let tasks = match at.chain.client.runtime_api().active_tasks(at.hash) {
			Ok(t) => t,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the learning tasks: {e}"),
		};
		self.rounds.retain(&tasks);
		self.rounds.reveal_scores(at, &tasks, &mut self.tasks, &self.pool, &self.scorer);
		self.serving.clear();
		for view in tasks {
			if let Some(current) = view.task.current {
				at.metrics.model_metric(view.id, current.metric);
				// The current version of a task worked on here is served for inference, and
				// pinned: the store's bound (64 payloads, least recently used out) would otherwise let
				// newer updates push it out on every node, and nobody could fetch it any more.
				if self.tasks.works_on(&view) && self.serving.has_room() {
					if let Ok(bytes) = self.pool.payload(current.hash, at.metrics).await {
						self.pool.pin(&bytes);
						self.serving.serve(view.id, current.number);
					}
				}
			}
			self.rounds.track_decisions(at, view.id);
			if self.pool.has_bought(view.id) {
				self.scorer.score_bought(&view, &mut self.tasks, &mut self.pool);
			}
			if view.task.status == TaskStatus::Active {
				match self.rounds.round(at, &view, &mut self.tasks, &self.pool, &self.scorer).await {
					Ok(()) => {},
					Err(e @ RoundError::WaitingForVersion(_)) => log::info!(target: LOG_TARGET, "task {}: {e}", view.id),
					Err(e) => log::warn!(target: LOG_TARGET, "task {}: {e}", view.id),
				}
			}
		}
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
			.filter(|c| c.class == loopx_primitives::ClaimClass::ModelUpdate && !c.revealed)
			.filter_map(|c| api.update_claim(at.hash, c.claim).ok().flatten())
			.map(|u| u.new_hash)
			.filter(|h| self.pool.held(h).is_none())
			.collect()
	}

	/// The `(task, version)` pairs served for inference: the current version of every task
	/// worked on here, once its model is held.
	pub fn served(&self) -> &[(TaskId, u32)] {
		self.serving.served()
	}

	/// The answer to an inference query on `version` of task `task` (see [`crate::inference`]
	/// for the text format); an input that does not parse is answered with its error.
	pub fn infer<C, P>(&mut self, at: &At<'_, C, P>, task: TaskId, version: u32, input: &[u8]) -> Result<Vec<u8>, Unanswerable>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		self.serving.infer(at, task, version, input, &mut self.tasks, &self.pool)
	}

	/// The vote on a `ModelUpdate` claim: the score of the claimed model on the task's
	/// evaluation set; `Abstain` when this node cannot score it, `None` while it cannot yet
	/// (the model not fetched, the chain not readable).
	pub fn update_verdict<C, P>(&mut self, at: &At<'_, C, P>, claim: ClaimId, last_chance: bool) -> Option<Verdict>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		match self.scorer.verdict(at, claim, last_chance, &mut self.tasks, &mut self.pool) {
			Ok(verdict) => Some(verdict),
			// Worth another try at the next block.
			Err(e @ (ScoreError::NotFetched(_) | ScoreError::Chain(_))) => {
				log::info!(target: LOG_TARGET, "claim {claim}: not scored yet: {e}");
				None
			},
			// This node cannot judge it (a model family it does not run, say): it says so.
			Err(e) => {
				log::info!(target: LOG_TARGET, "claim {claim}: cannot be scored here: {e}; abstaining");
				Some(Verdict::Abstain)
			},
		}
	}
}
