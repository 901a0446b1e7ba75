//! The inference service: the model versions this node serves for inference queries (the
//! current version of every task worked on here, once its payload is held), and the answers
//! (see [`crate::inference`] for the text format).

use loopx_primitives::{limits::MAX_SERVED_MODELS, TaskId};
use loopx_runtime::opaque::Block;
use pallet_builder_market::runtime_api::BuilderMarketApi;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;

use super::{pool::ModelPool, tasks::TaskRegistry};
use crate::{
	answers::Unanswerable,
	chain::WorkerRuntimeApis,
	inference::{error_answer, format_answer, parse_input},
	outbox::At,
};

/// Why a version is not served here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeError {
	/// The chain has no such task.
	UnknownTask,
	/// The task has no such version.
	UnknownVersion,
	/// The version's payload is not held here.
	NotHeld,
	/// This node does not work on the task's kind of model.
	NotSupported,
	/// The version's payload does not decode as the task's model.
	BadModel(String),
	/// The chain's state could not be read.
	Chain(String),
}

impl core::fmt::Display for ServeError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::UnknownTask => f.write_str("unknown task"),
			Self::UnknownVersion => f.write_str("unknown version"),
			Self::NotHeld => f.write_str("model not held"),
			Self::NotSupported => f.write_str("model kind not supported"),
			Self::BadModel(e) | Self::Chain(e) => f.write_str(e),
		}
	}
}

/// The `(task, version)` pairs served, refreshed at every block.
#[derive(Default)]
pub struct InferenceService {
	served: Vec<(TaskId, u32)>,
}

impl InferenceService {
	/// The `(task, version)` pairs served for inference.
	pub fn served(&self) -> &[(TaskId, u32)] {
		&self.served
	}

	/// Forgets what was served (at each block, before the tasks are looked at again).
	pub fn clear(&mut self) {
		self.served.clear();
	}

	/// Whether another version can be served ([`MAX_SERVED_MODELS`], the runtime's limit).
	pub fn has_room(&self) -> bool {
		self.served.len() < MAX_SERVED_MODELS as usize
	}

	/// Serves `version` of `task` (its payload is held).
	pub fn serve(&mut self, task: TaskId, version: u32) {
		if self.has_room() {
			self.served.push((task, version));
		}
	}

	/// The answer to an inference query on `version` of task `task`; an input that does not
	/// parse is answered with its error (every honest node answers that the same way).
	pub fn infer<C, P>(
		&self,
		at: &At<'_, C, P>,
		task: TaskId,
		version: u32,
		input: &[u8],
		tasks: &mut TaskRegistry,
		pool: &ModelPool,
	) -> Result<Vec<u8>, Unanswerable>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		Self::answer(at, task, version, input, tasks, pool)
			.map_err(|why| Unanswerable::ModelNotServed(format!("task {task} version {version}: {why}")))
	}

	fn answer<C, P>(
		at: &At<'_, C, P>,
		task: TaskId,
		version: u32,
		input: &[u8],
		tasks: &mut TaskRegistry,
		pool: &ModelPool,
	) -> Result<Vec<u8>, ServeError>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let spec = api.task(at.hash, task).ok().flatten().ok_or(ServeError::UnknownTask)?;
		let versions = api.versions(at.hash, task).map_err(|e| ServeError::Chain(e.to_string()))?;
		drop(api);
		let (_, hash, ..) = versions.into_iter().find(|v| v.0 == version).ok_or(ServeError::UnknownVersion)?;
		let bytes = pool.held(&hash).ok_or(ServeError::NotHeld)?;
		let view = pallet_builder_market::runtime_api::TaskView { id: task, task: spec };
		let model = tasks.model(&view).map_err(|_| ServeError::NotSupported)?;
		let (state, _) = model.decode(&bytes).map_err(|e| ServeError::BadModel(format!("{e:?}")))?;
		Ok(match parse_input(input) {
			Ok(features) => format_answer(&model.predict(&state, &features)),
			Err(why) => error_answer(&why),
		})
	}
}
