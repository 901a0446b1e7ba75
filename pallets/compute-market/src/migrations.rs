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

/// v2 → v3: ratings hold a deposit ([`crate::Config::RatingDeposit`], since spec version 123).
/// Every rating stored before then holds none: each now holds its client's deposit, and a
/// client that cannot put it up loses the rating as [`crate::Pallet::withdraw_rating`] would
/// remove it (its provider's service reputation and reputation move back). Afterwards every
/// stored rating holds a deposit, so storing one is never free.
///
/// Runs in one block over every stored rating: fine for the networks so far (a few hundred
/// ratings at most); a chain with many more would need it as a multi-block migration.
pub mod v3 {
	use crate::{Config, Event, HoldReason, Pallet, RatingDeposits, Ratings};
	use alloc::vec::Vec;
	use frame_support::{
		migrations::VersionedMigration,
		traits::{fungible::MutateHold, Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use sp_runtime::traits::Zero;

	/// Holds the deposits of the ratings stored without one.
	pub struct HoldRatingDeposits<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for HoldRatingDeposits<T> {
		fn on_runtime_upgrade() -> Weight {
			let deposit = T::RatingDeposit::get();
			let db = T::DbWeight::get();
			// Collected first: the loop below changes the map it would iterate.
			let all: Vec<_> = Ratings::<T>::iter().collect();
			let mut weight = db.reads(all.len() as u64 * 2);
			let without = all.into_iter().filter(|(provider, client, _)| !RatingDeposits::<T>::contains_key(provider, client));
			if deposit.is_zero() {
				return weight;
			}
			for (provider, client, rating) in without {
				if T::Currency::hold(&HoldReason::Rating.into(), &client, deposit).is_ok() {
					RatingDeposits::<T>::insert(&provider, &client, deposit);
					Pallet::<T>::deposit_event(Event::RatingDepositHeld { client, provider, deposit });
					weight.saturating_accrue(db.reads_writes(2, 3));
				} else {
					Ratings::<T>::remove(&provider, &client);
					let after = Pallet::<T>::move_rating_sum(&provider, 0i64.saturating_sub(rating.value()));
					Pallet::<T>::deposit_event(Event::RatingWithdrawn { client, provider, deposit: Zero::zero(), service_reputation: after });
					// The rating sum, service reputation and the reputation pallet's record.
					weight.saturating_accrue(db.reads_writes(5, 5));
				}
			}
			weight
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			if !T::RatingDeposit::get().is_zero() {
				for (provider, client, _) in Ratings::<T>::iter() {
					frame_support::ensure!(RatingDeposits::<T>::contains_key(&provider, &client), "a rating without its deposit after v3");
				}
			}
			Ok(())
		}
	}

	/// Holds the deposits once, from storage version 2 to 3.
	pub type MigrateV2ToV3<T> = VersionedMigration<2, 3, HoldRatingDeposits<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
