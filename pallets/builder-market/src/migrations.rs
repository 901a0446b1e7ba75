//! Storage migrations.

/// v0 → v1: update claims remember their parent's metric, every payload already claimed or
/// accepted is indexed by task and hash, and the tasks not ended are counted in
/// [`crate::LiveTasks`]. Written against the v1 layout ([`v1::layout`]), which [`v2`] moves on
/// from.
pub mod v1 {
	use crate::{Config, LiveTasks, Pallet, TaskStatus, Tasks, Versions};
	use codec::{Decode, Encode, MaxEncodedLen};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::{Identity, OptionQuery, Twox64Concat},
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use loopx_primitives::{ClaimId, TaskId};
	use scale_info::TypeInfo;
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

	/// An update claim as storage version 1 kept it: the claimed metric shown.
	#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
	pub struct UpdateClaimV1<AccountId> {
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
		/// The metric of the version it starts from.
		pub parent_metric: Option<u32>,
	}

	/// The v1 layout of the maps v2 changes (an alias is named as the storage item it reads).
	pub mod layout {
		use super::*;

		/// `UpdateClaims` in the v1 layout.
		#[storage_alias]
		pub type UpdateClaims<T: Config> =
			StorageMap<Pallet<T>, Twox64Concat, ClaimId, UpdateClaimV1<<T as frame_system::Config>::AccountId>, OptionQuery>;

		/// `ClaimedPayloads` in the v1 layout: (task, hash), whoever claimed it.
		#[storage_alias]
		pub type ClaimedPayloads<T: Config> = StorageDoubleMap<Pallet<T>, Twox64Concat, TaskId, Identity, H256, (), OptionQuery>;
	}
	pub use layout::{ClaimedPayloads as ClaimedPayloadsV1, UpdateClaims as UpdateClaimsV1};

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
				ClaimedPayloadsV1::<T>::insert(task, version.hash, ());
				reads += 1;
				writes += 1;
			}
			UpdateClaimsV1::<T>::translate::<OldUpdateClaim<T::AccountId>, _>(|_, old| {
				// The parent is a version of the task (zero before the first one).
				let parent_metric = Versions::<T>::iter_prefix_values(old.task).find(|v| v.hash == old.parent).map(|v| v.metric);
				ClaimedPayloadsV1::<T>::insert(old.task, old.new_hash, ());
				reads += 2;
				writes += 2;
				Some(UpdateClaimV1 {
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

/// v1 → v2: claimed metrics are sealed (update claims no longer keep one: the vote does), and
/// claimed payloads are indexed by trainer as well ([`crate::ClaimedPayloads`]): the index is
/// rebuilt from the claims in voting (their trainers) and the versions (their contributors:
/// which one made a version is not recorded, so all of them count as having claimed it).
pub mod v2 {
	use super::v1::{ClaimedPayloadsV1, UpdateClaimV1};
	use crate::{ClaimedPayloads, Config, Pallet, UpdateClaim, UpdateClaims, Versions};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// The unversioned step (wrapped in [`MigrateV1ToV2`]).
	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let cleared = ClaimedPayloadsV1::<T>::clear(u32::MAX, None);
			let (mut reads, mut writes) = (u64::from(cleared.loops), u64::from(cleared.unique));
			for (task, _, version) in Versions::<T>::iter() {
				reads += 1;
				for who in version.contributors {
					ClaimedPayloads::<T>::insert(task, (who, version.hash), ());
					writes += 1;
				}
			}
			UpdateClaims::<T>::translate::<UpdateClaimV1<T::AccountId>, _>(|_, old| {
				ClaimedPayloads::<T>::insert(old.task, (old.trainer.clone(), old.new_hash), ());
				reads += 1;
				writes += 2;
				Some(UpdateClaim {
					task: old.task,
					round: old.round,
					trainer: old.trainer,
					parent: old.parent,
					new_hash: old.new_hash,
					parent_metric: old.parent_metric,
				})
			});
			T::DbWeight::get().reads_writes(reads, writes)
		}
	}

	/// Runs [`InnerMigrateV1ToV2`] once, from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<1, 2, InnerMigrateV1ToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
