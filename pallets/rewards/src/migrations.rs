//! Storage migrations of the rewards pallet.

/// v0 → v1: rewards are shared by per-era exposure snapshots ([`crate::EraExposures`]). Eras up
/// to the current one have none (the current era's points were partly earned before), so they
/// keep being shared by the exposure at payout: [`crate::SnapshotsSince`] becomes the next era.
pub mod v1 {
	use crate::{Config, CurrentEra, Pallet, SnapshotsSince};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// Sets [`SnapshotsSince`] to the era after the current one.
	pub struct StartSnapshots<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for StartSnapshots<T> {
		fn on_runtime_upgrade() -> Weight {
			SnapshotsSince::<T>::put(CurrentEra::<T>::get().saturating_add(1));
			T::DbWeight::get().reads_writes(1, 1)
		}
	}

	/// Runs [`StartSnapshots`] once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<0, 1, StartSnapshots<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
