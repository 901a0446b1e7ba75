//! The update scorer: the score of a model on its task's evaluation set, by the deterministic
//! evaluation every voter runs (one decode and one pass over the evaluation set a model). It
//! gives the vote on a `ModelUpdate` claim, checks a bought local model before the deal is
//! confirmed, and scores bought models before they join a merge.

use std::sync::Arc;

use loopx_ml_kernels::data::Dataset;
use loopx_primitives::{ClaimId, TaskId};
use loopx_runtime::opaque::Block;
use loopx_worker_api::Verdict;
use pallet_builder_market::runtime_api::BuilderMarketApi;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

use super::{
	pool::{ModelPool, Scored},
	tasks::{TaskError, TaskRegistry},
	TaskViewOf,
};
use crate::{
	chain::WorkerRuntimeApis,
	demo_data::eval_set,
	outbox::At,
	payload_store::payload_hash,
	training::{made_for, TaskModel, TaskModelError, TaskPayload},
	LOG_TARGET,
};

/// Why a model was not scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreError {
	/// The chain has no update claim with this id.
	UnknownClaim(ClaimId),
	/// The claim's task is not active.
	TaskNotActive(TaskId),
	/// The claimed model is not fetched yet.
	NotFetched(H256),
	/// The task has no model here.
	Task(TaskError),
	/// The chain's state could not be read.
	Chain(String),
	/// The payload is not a model of the task.
	Model(TaskModelError),
}

impl core::fmt::Display for ScoreError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::UnknownClaim(claim) => write!(f, "no update claim {claim}"),
			Self::TaskNotActive(task) => write!(f, "task {task} is not active"),
			Self::NotFetched(hash) => write!(f, "model {hash:?} not fetched yet"),
			Self::Task(e) => e.fmt(f),
			Self::Chain(e) => write!(f, "cannot read the chain: {e}"),
			Self::Model(e) => write!(f, "not a model of the task: {e:?}"),
		}
	}
}

impl From<TaskError> for ScoreError {
	fn from(e: TaskError) -> Self {
		Self::Task(e)
	}
}

/// Scores models on the evaluation set (the demo one: the only one this node holds).
pub struct UpdateScorer {
	eval: Arc<Dataset>,
}

impl Default for UpdateScorer {
	fn default() -> Self {
		Self { eval: Arc::new(eval_set()) }
	}
}

impl UpdateScorer {
	/// The evaluation set.
	pub fn eval(&self) -> &Dataset {
		&self.eval
	}

	/// The evaluation set, to share with a training thread.
	pub fn shared_eval(&self) -> Arc<Dataset> {
		self.eval.clone()
	}

	/// Decodes `payload` as a model of `model`'s task and scores it.
	pub fn score(&self, model: &TaskModel, payload: &[u8]) -> Result<Scored, TaskModelError> {
		let (state, age) = model.decode(payload)?;
		let score = model.score(&state, &self.eval)?;
		Ok(Scored { hash: payload_hash(payload), state, age, score })
	}

	/// The vote on `ModelUpdate` claim `claim`: the score of the claimed model, which is then
	/// kept for merging. A payload that is not a model of the task, or was made by another
	/// account than the claimant (a copy of a version or of a rival's update), scores nothing
	/// (0, or the worst loss), and so does one still not fetched when `last_chance` (the end of the commit
	/// period is near): a claimant that puts a hash on chain and never serves the model gets
	/// the verdict of a forged claim, not a `NoQuorum` that costs it nothing.
	pub fn verdict<C, P>(
		&self,
		at: &At<'_, C, P>,
		claim: ClaimId,
		last_chance: bool,
		tasks: &mut TaskRegistry,
		pool: &mut ModelPool,
	) -> Result<Verdict, ScoreError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let update = api.update_claim(at.hash, claim).map_err(|e| ScoreError::Chain(e.to_string()))?.ok_or(ScoreError::UnknownClaim(claim))?;
		let active = api.active_tasks(at.hash).map_err(|e| ScoreError::Chain(e.to_string()))?;
		let view = active.into_iter().find(|t| t.id == update.task).ok_or(ScoreError::TaskNotActive(update.task))?;
		drop(api);
		let nothing = Verdict::Score(if view.task.spec.metric.higher_is_better() { 0 } else { u32::MAX });
		let Some(bytes) = pool.held(&update.new_hash) else {
			if last_chance {
				log::warn!(target: LOG_TARGET, "⚖️ claim {claim}: {}'s model {:?} was not served within the commit period; scoring it as nothing", update.trainer, update.new_hash);
				return Ok(nothing);
			}
			return Err(ScoreError::NotFetched(update.new_hash));
		};
		if !made_for(&bytes, update.task, &update.trainer) {
			log::warn!(target: LOG_TARGET, "⚖️ claim {claim}: {:?} is not a model {} made for task {}; scoring it as nothing", update.new_hash, update.trainer, update.task);
			return Ok(nothing);
		}
		let model = tasks.model(&view)?;
		let started = std::time::Instant::now();
		let scored = self.score(model, &bytes);
		at.metrics.evaluated(started.elapsed());
		match scored {
			Ok(scored) => {
				log::info!(
					target: LOG_TARGET,
					"⚖️ claim {claim}: {}'s model for task {} scores {} ppm",
					update.trainer, update.task, scored.score
				);
				let score = scored.score;
				pool.keep(update.task, scored);
				Ok(Verdict::Score(score))
			},
			Err(e) => {
				log::info!(target: LOG_TARGET, "⚖️ claim {claim}: the model does not decode ({e:?}); scoring 0");
				Ok(nothing)
			},
		}
	}

	/// Whether `payload` (read once by the deal worker) is a model of its task as the chain
	/// describes it: what a buyer checks before it confirms a local-model deal.
	pub fn check_model<C, P>(&self, at: &At<'_, C, P>, payload: &TaskPayload, tasks: &mut TaskRegistry) -> Result<(), ScoreError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let (_, model) = tasks.model_at(at, payload.task)?;
		model.open(payload).map(|_| ()).map_err(ScoreError::Model)
	}

	/// Scores the bought local models of `view`'s task and keeps them for merging.
	pub fn score_bought(&self, view: &TaskViewOf, tasks: &mut TaskRegistry, pool: &mut ModelPool) {
		let bought = pool.take_bought(view.id);
		let Ok(model) = tasks.model(view) else { return };
		let mut scored = Vec::new();
		for payload in bought {
			match self.score(model, &payload) {
				Ok(s) => {
					log::info!(target: LOG_TARGET, "🧺 task {}: bought local model {:?} scores {} ppm", view.id, s.hash, s.score);
					scored.push(s);
				},
				Err(e) => log::warn!(target: LOG_TARGET, "a bought local model of task {} does not decode ({e:?}): not merged", view.id),
			}
		}
		for s in scored {
			pool.keep(view.id, s);
		}
	}
}
