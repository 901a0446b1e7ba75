//! Storage migrations.

/// v0 → v1: the open claims are counted per class in [`crate::OpenPerClass`].
pub mod v1 {
	use crate::{Claims, Config, OpenClaims, OpenPerClass, Pallet};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// The unversioned step (wrapped in [`MigrateV0ToV1`]).
	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let open = OpenClaims::<T>::get();
			for id in open.iter() {
				if let Some(claim) = Claims::<T>::get(id) {
					OpenPerClass::<T>::mutate(claim.class, |n| *n = n.saturating_add(1));
				}
			}
			let n = open.len() as u64;
			T::DbWeight::get().reads_writes(1 + 2 * n, n)
		}
	}

	/// Runs [`InnerMigrateV0ToV1`] once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<0, 1, InnerMigrateV0ToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
