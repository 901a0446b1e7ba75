//! The task registry: each learning task's spec, as the chain describes it, turned once into
//! the model this node trains and scores ([`TaskModel`]), or the reason it cannot work on it.

use std::collections::BTreeMap;

use loopx_primitives::TaskId;
use loopx_runtime::opaque::Block;
use pallet_builder_market::runtime_api::{BuilderMarketApi, TaskView};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;

use super::TaskViewOf;
use crate::{
	chain::WorkerRuntimeApis,
	demo_data::DEMO_EVAL_SET,
	outbox::At,
	training::{TaskModel, TaskModelError},
	LOG_TARGET,
};

/// Why a task has no model here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
	/// The chain has no such task.
	UnknownTask(TaskId),
	/// The chain's state could not be read.
	Chain(String),
	/// This node does not work on the task, for this reason.
	NotWorkedOn(TaskId, TaskModelError),
}

impl core::fmt::Display for TaskError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::UnknownTask(task) => write!(f, "no task {task}"),
			Self::Chain(e) => write!(f, "cannot read the chain: {e}"),
			Self::NotWorkedOn(task, why) => write!(f, "task {task} is not worked on here: {why:?}"),
		}
	}
}

/// Each task's model, or why this node cannot work on it, made on first sight of the task.
#[derive(Default)]
pub struct TaskRegistry {
	tasks: BTreeMap<TaskId, Result<TaskModel, TaskModelError>>,
}

impl TaskRegistry {
	/// The model of `view`'s task (made and cached on first use).
	pub fn model(&mut self, view: &TaskViewOf) -> Result<&TaskModel, TaskError> {
		let spec = &view.task.spec;
		let entry = self.tasks.entry(view.id).or_insert_with(|| {
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
		entry.as_ref().map_err(|why| TaskError::NotWorkedOn(view.id, why.clone()))
	}

	/// Whether this node works on `view`'s task.
	pub fn works_on(&mut self, view: &TaskViewOf) -> bool {
		self.model(view).is_ok()
	}

	/// The model of task `task` as the chain at `at` describes it, with the task's view.
	pub fn model_at<C, P>(&mut self, at: &At<'_, C, P>, task: TaskId) -> Result<(TaskViewOf, &TaskModel), TaskError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let spec = at.chain.client.runtime_api().task(at.hash, task).map_err(|e| TaskError::Chain(e.to_string()))?;
		let view = TaskView { id: task, task: spec.ok_or(TaskError::UnknownTask(task))? };
		let model = self.model(&view)?;
		Ok((view, model))
	}

	/// The model of a task already seen (`None`: not seen, or not worked on).
	pub fn get(&self, task: TaskId) -> Option<&TaskModel> {
		self.tasks.get(&task)?.as_ref().ok()
	}

	/// The tasks seen that this node works on.
	pub fn worked_on(&self) -> impl Iterator<Item = TaskId> + '_ {
		self.tasks.iter().filter(|(_, m)| m.is_ok()).map(|(id, _)| *id)
	}
}
