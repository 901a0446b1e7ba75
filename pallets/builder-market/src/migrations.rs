//! Storage migrations.

/// v0 → v1: update claims remember their parent's metric ([`crate::UpdateClaim::parent_metric`]),
/// every payload already claimed or accepted is indexed in [`crate::ClaimedPayloads`], and the
/// tasks not ended are counted in [`crate::LiveTasks`].
pub mod v1 {
	use crate::{ClaimedPayloads, Config, LiveTasks, Pallet, TaskStatus, Tasks, UpdateClaim, UpdateClaims, Versions};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use loopx_primitives::TaskId;
	use sp_core::H256;

	/// An update claim as storage version 0 kept it.
	#[derive(Encode, Decode)]
	pub struct OldUpdateClaim<AccountId> {
		/// Its task.
		pub task: TaskId,
		/// Its round.
		pub round: u32,
		/// Who trained.
		pub trainer: AccountId,
		/// The version it starts from.
		pub parent: H256,
		/// The new model.
		pub new_hash: H256,
		/// The metric claimed.
		pub claimed_metric: u32,
	}

	/// The unversioned step (wrapped in [`MigrateV0ToV1`]).
	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 1u64);
			let mut live = 0u32;
			for task in Tasks::<T>::iter_values() {
				reads += 1;
				if task.status != TaskStatus::Ended {
					live = live.saturating_add(1);
				}
			}
			LiveTasks::<T>::put(live);
			for (task, _, version) in Versions::<T>::iter() {
				ClaimedPayloads::<T>::insert(task, version.hash, ());
				reads += 1;
				writes += 1;
			}
			UpdateClaims::<T>::translate::<OldUpdateClaim<T::AccountId>, _>(|_, old| {
				// The parent is a version of the task (zero before the first one).
				let parent_metric = Versions::<T>::iter_prefix_values(old.task).find(|v| v.hash == old.parent).map(|v| v.metric);
				ClaimedPayloads::<T>::insert(old.task, old.new_hash, ());
				reads += 2;
				writes += 2;
				Some(UpdateClaim {
					task: old.task,
					round: old.round,
					trainer: old.trainer,
					parent: old.parent,
					new_hash: old.new_hash,
					claimed_metric: old.claimed_metric,
					parent_metric,
				})
			});
			T::DbWeight::get().reads_writes(reads, writes)
		}
	}

	/// Runs [`InnerMigrateV0ToV1`] once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<0, 1, InnerMigrateV0ToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
