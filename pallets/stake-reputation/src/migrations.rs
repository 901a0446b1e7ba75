//! Storage migrations.

/// v0 → v1: a deferred slash names the session of its offence
/// ([`crate::DeferredSlash::offence_in`]). Slashes deferred before the upgrade get `None`: they
/// are taken as before, from every delegation and unlocking chunk at their application.
/// [`crate::DelegatedSince`] starts empty: delegations made before count as made at session 0.
pub mod v1 {
	use crate::{Config, DeferredSlash, DeferredSlashes, Pallet, SlashReason};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::{BoundedVec, Weight},
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};
	use sp_runtime::Perbill;
	use sp_staking::SessionIndex;

	/// A deferred slash as storage version 0 kept it.
	#[derive(Encode, Decode)]
	pub struct OldDeferredSlash<AccountId> {
		pub who: AccountId,
		pub fraction: Perbill,
		pub reason: SlashReason,
		pub reported_in: SessionIndex,
	}

	/// Rewrites every queued deferred slash with no offence session.
	pub struct AddOffenceSession<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for AddOffenceSession<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut sessions = 0u64;
			DeferredSlashes::<T>::translate::<BoundedVec<OldDeferredSlash<T::AccountId>, T::MaxDeferredSlashes>, _>(|_, old| {
				sessions += 1;
				let new: alloc::vec::Vec<_> = old
					.into_iter()
					.map(|o| DeferredSlash { who: o.who, fraction: o.fraction, reason: o.reason, reported_in: o.reported_in, offence_in: None })
					.collect();
				// As many entries as before, so within the same bound.
				Some(BoundedVec::truncate_from(new))
			});
			T::DbWeight::get().reads_writes(sessions, sessions)
		}
	}

	/// Rewrites once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<0, 1, AddOffenceSession<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
