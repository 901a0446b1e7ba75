//! Storage migrations.

/// v0 → v1: routers moved to the one router registry both markets share (`pallet-routers`).
/// Every old `DataMarket::Routers` entry is removed and its bond, held under
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
