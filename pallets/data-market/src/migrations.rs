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

/// v1 → v2: a delivery commits to the deal key, and a dispute waits for the key before its vote.
/// Deals delivered before get a zero key commitment (their disputes open the vote at once, as
/// before); deals under dispute keep their claim, with no key.
pub mod v2 {
	use crate::{Config, Deal, DealState, Deals, Pallet};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use loopx_primitives::ClaimId;
	use sp_core::H256;

	/// The v1 deal state.
	#[derive(Encode, Decode)]
	pub enum OldDealState<Balance> {
		/// Matched.
		Matched,
		/// Delivered.
		Delivered { ciphertext: H256 },
		/// Disputed, its claim open.
		Disputed { ciphertext: H256, evidence: H256, claim: ClaimId, deposit: Balance },
	}

	impl<Balance> OldDealState<Balance> {
		fn upgrade(self) -> DealState<Balance> {
			match self {
				Self::Matched => DealState::Matched,
				Self::Delivered { ciphertext } => DealState::Delivered { ciphertext, key_commitment: H256::zero() },
				Self::Disputed { ciphertext, evidence, claim, deposit } => {
					DealState::Disputed { ciphertext, key_commitment: H256::zero(), evidence, deposit, key: None, claim: Some(claim) }
				},
			}
		}
	}

	/// Rewrites every deal in the v2 layout.
	pub struct UpgradeDeals<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UpgradeDeals<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut n = 0u64;
			Deals::<T>::translate_values::<OldDealOf<T>, _>(|old| {
				n += 1;
				Some(old.upgrade())
			});
			T::DbWeight::get().reads_writes(n, n)
		}
	}

	/// A v1 deal of this runtime, decoded as it is stored.
	#[derive(Decode)]
	pub struct OldDealOf<T: Config> {
		offer: crate::OrderId,
		bid: crate::OrderId,
		seller: T::AccountId,
		buyer: T::AccountId,
		buyer_key: crate::EncryptionKey,
		tag: crate::TagOf<T>,
		goods: crate::Goods,
		quantity: u32,
		price: crate::BalanceOf<T>,
		payment: crate::BalanceOf<T>,
		bond: crate::BalanceOf<T>,
		router: Option<(T::AccountId, sp_runtime::Perbill)>,
		state: OldDealState<crate::BalanceOf<T>>,
		deadline: Option<frame_system::pallet_prelude::BlockNumberFor<T>>,
	}

	impl<T: Config> OldDealOf<T> {
		fn upgrade(self) -> crate::DealOf<T> {
			Deal {
				offer: self.offer,
				bid: self.bid,
				seller: self.seller,
				buyer: self.buyer,
				buyer_key: self.buyer_key,
				tag: self.tag,
				goods: self.goods,
				quantity: self.quantity,
				price: self.price,
				payment: self.payment,
				bond: self.bond,
				router: self.router,
				state: self.state.upgrade(),
				deadline: self.deadline,
			}
		}
	}

	/// Upgrades the deals once, from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<1, 2, UpgradeDeals<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
