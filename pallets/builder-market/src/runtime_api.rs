//! Runtime API for workers and clients: the task registry, versions and open rounds.

use crate::*;
use alloc::vec::Vec;
use codec::Codec;
use loopx_primitives::ClaimId;

/// A task with its id.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct TaskView<AccountId, Balance, BlockNumber> {
	/// Its id.
	pub id: TaskId,
	/// The task.
	pub task: Task<AccountId, Balance, BlockNumber>,
}

/// A round that is running or waiting for its updates' verdicts.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct OpenRound<AccountId> {
	/// Its number.
	pub round: u32,
	/// Who submitted.
	pub trainers: Vec<AccountId>,
	/// Updates in voting.
	pub pending: u32,
	/// Accepted updates so far: trainer and verified metric.
	pub accepted: Vec<(AccountId, u32)>,
	/// Whether its time is over.
	pub ended: bool,
}

sp_api::decl_runtime_apis! {
	/// Tasks, versions and rounds of the builder market.
	pub trait BuilderMarketApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Tasks that have not ended.
		fn active_tasks() -> Vec<TaskView<AccountId, Balance, BlockNumber>>;
		/// One task, ended or not.
		fn task(id: TaskId) -> Option<Task<AccountId, Balance, BlockNumber>>;
		/// A task's accepted versions, oldest first: number, hash, metric, contributors.
		fn versions(id: TaskId) -> Vec<(u32, H256, u32, Vec<AccountId>)>;
		/// A task's rounds that are running or not yet paid.
		fn open_rounds(id: TaskId) -> Vec<OpenRound<AccountId>>;
		/// The model update behind a `ModelUpdate` claim while it is in voting: task, round,
		/// trainer, parent, new model hash and claimed metric. Voters fetch the model by its
		/// hash and score it on the task's evaluation set.
		fn update_claim(claim: ClaimId) -> Option<UpdateClaim<AccountId>>;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`BuilderMarketApi::active_tasks`]. Reads every task: for off-chain use only.
	pub fn active_tasks() -> Vec<TaskView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		Tasks::<T>::iter().filter(|(_, t)| t.status != TaskStatus::Ended).map(|(id, task)| TaskView { id, task }).collect()
	}

	/// See [`BuilderMarketApi::versions`].
	pub fn versions_of(id: TaskId) -> Vec<(u32, H256, u32, Vec<T::AccountId>)> {
		let mut versions: Vec<_> = Versions::<T>::iter_prefix(id).map(|(n, v)| (n, v.hash, v.metric, v.contributors.into_inner())).collect();
		versions.sort_by_key(|v| v.0);
		versions
	}

	/// See [`BuilderMarketApi::open_rounds`].
	pub fn open_rounds(id: TaskId) -> Vec<OpenRound<T::AccountId>> {
		let mut rounds: Vec<_> = Rounds::<T>::iter_prefix(id)
			.map(|(round, r)| OpenRound {
				round,
				trainers: r.trainers.into_inner(),
				pending: r.pending,
				accepted: r.accepted.into_iter().map(|u| (u.trainer, u.metric)).collect(),
				ended: r.ended,
			})
			.collect();
		rounds.sort_by_key(|r| r.round);
		rounds
	}
}
