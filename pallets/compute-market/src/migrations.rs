//! Storage migrations.

/// v0 → v1: routers moved to the one router registry both markets share (`pallet-routers`).
/// Every old `ComputeMarket::Routers` entry is removed and its bond, held under
/// [`crate::HoldReason::RouterBond`], released to its owner, who registers again in the
/// registry ([`loopx_primitives::routers::ReleaseOldRouterBonds`]).
pub mod v1 {
	use crate::{Config, HoldReason, Pallet};
	use frame_support::{migrations::VersionedMigration, traits::Get};
	use loopx_primitives::routers::ReleaseOldRouterBonds;

	/// The hold reason the old router bonds are under.
	pub struct OldRouterBond<T>(core::marker::PhantomData<T>);

	impl<T: Config> Get<T::RuntimeHoldReason> for OldRouterBond<T> {
		fn get() -> T::RuntimeHoldReason {
			HoldReason::RouterBond.into()
		}
	}

	/// Releases the old routers' bonds once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		ReleaseOldRouterBonds<
			Pallet<T>,
			<T as frame_system::Config>::AccountId,
			<T as Config>::Currency,
			OldRouterBond<T>,
			<T as frame_system::Config>::DbWeight,
		>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// v1 → v2: [`crate::QueryCount`] counted every stored query; it now counts live ones
/// (answered queries holding their result are not counted), and [`crate::ClientQueries`]
/// counts each client's. Both are recounted from [`crate::Queries`] (at most
/// [`crate::Config::MaxQueries`] entries).
pub mod v2 {
	use crate::{ClientQueries, Config, Pallet, Queries, QueryCount, QueryStatus};
	use alloc::collections::BTreeMap;
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// Recounts the live queries.
	pub struct RecountLiveQueries<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for RecountLiveQueries<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut live = 0u32;
			let mut per_client: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let mut read = 0u64;
			for (_, q) in Queries::<T>::iter() {
				read += 1;
				if !matches!(q.status, QueryStatus::Answered { .. }) {
					live = live.saturating_add(1);
					*per_client.entry(q.client).or_default() += 1;
				}
			}
			QueryCount::<T>::put(live);
			let written = per_client.len() as u64 + 1;
			for (client, n) in per_client {
				ClientQueries::<T>::insert(client, n);
			}
			T::DbWeight::get().reads_writes(read, written)
		}
	}

	/// Recounts once, from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<1, 2, RecountLiveQueries<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
