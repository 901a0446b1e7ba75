//! # Router registry
//!
//! The one registry of routers for both LoopX markets. A router is an account that matches
//! data-market orders (the data market's `route`) and assigns compute-market queries
//! (`assign`) for a fee: it registers here once with [`Pallet::register_router`], holding
//! [`Config::RouterBond`] and naming its fee (at most [`Config::MaxRouterFee`]), and leaves
//! with [`Pallet::unregister_router`], which releases the bond. The markets read the registry
//! through [`loopx_primitives::RouterRegistry`]; what a router earns, and the fee recorded
//! with each deal or query it routed, stay with the market.
//!
//! A router's fee is fixed while it is registered: a router that wants another fee leaves and
//! registers again, so no deal or query can see the fee change between a match and its
//! settlement (each market records the fee when the router acts).
//!
//! Events: [`Event::RouterRegistered`], [`Event::RouterUnregistered`].
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible;
use loopx_primitives::RouterRegistry;
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// The balance type of the currency.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A registered router.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct RouterInfo<Balance> {
	/// Its share of what it routes: of a deal's payment, of a query's fee.
	pub fee: Perbill,
	/// Its bond, held.
	pub bond: Balance,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::fungible::MutateHold};
	use frame_system::pallet_prelude::*;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Funds this pallet holds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A router's bond.
		RouterBond,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency bonds are held in.
		type Currency: fungible::Inspect<Self::AccountId> + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons.
		type RuntimeHoldReason: From<HoldReason>;

		/// A router's bond.
		#[pallet::constant]
		type RouterBond: Get<BalanceOf<Self>>;

		/// The highest fee a router may ask.
		#[pallet::constant]
		type MaxRouterFee: Get<Perbill>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Registered routers.
	#[pallet::storage]
	pub type Routers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, RouterInfo<BalanceOf<T>>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `router` registered, asking `fee` of what it routes; `bond` is held.
		RouterRegistered { router: T::AccountId, fee: Perbill, bond: BalanceOf<T> },
		/// `router` left the registry; `released` of its bond was released.
		RouterUnregistered { router: T::AccountId, released: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered router.
		AlreadyRouter,
		/// The account is not a registered router.
		NotRouter,
		/// The fee is above [`Config::MaxRouterFee`].
		RouterFeeTooHigh,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a router asking `fee` of what it routes (a data-market
		/// deal's payment, a compute-market query's fee), holding [`Config::RouterBond`].
		///
		/// Emits [`Event::RouterRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_router())]
		pub fn register_router(origin: OriginFor<T>, fee: Perbill) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(who, fee)
		}

		/// Leaves the registry and releases the caller's bond. Data-market orders that name it
		/// can be cancelled by their owners, compute-market queries waiting for it are assigned
		/// by the runtime when their router window closes; deals and queries it already routed
		/// still pay its fee.
		///
		/// Emits [`Event::RouterUnregistered`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::unregister_router())]
		pub fn unregister_router(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Routers::<T>::take(&who).ok_or(Error::<T>::NotRouter)?;
			let released =
				T::Currency::release(&HoldReason::RouterBond.into(), &who, info.bond, frame_support::traits::tokens::Precision::BestEffort)?;
			Self::deposit_event(Event::RouterUnregistered { router: who, released });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		pub(crate) fn do_register(who: T::AccountId, fee: Perbill) -> DispatchResult {
			ensure!(!Routers::<T>::contains_key(&who), Error::<T>::AlreadyRouter);
			ensure!(fee <= T::MaxRouterFee::get(), Error::<T>::RouterFeeTooHigh);
			let bond = T::RouterBond::get();
			T::Currency::hold(&HoldReason::RouterBond.into(), &who, bond)?;
			Routers::<T>::insert(&who, RouterInfo { fee, bond });
			Self::deposit_event(Event::RouterRegistered { router: who, fee, bond });
			Ok(())
		}
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and the tests): each router holds
	/// exactly its recorded bond, and its fee is within the maximum.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::{
			ensure,
			traits::{fungible::InspectHold, Get},
		};
		for (router, info) in Routers::<T>::iter() {
			ensure!(T::Currency::balance_on_hold(&HoldReason::RouterBond.into(), &router) == info.bond, "a router's hold differs from its bond");
			ensure!(info.fee <= T::MaxRouterFee::get(), "a router's fee above the maximum");
		}
		Ok(())
	}
}

impl<T: Config> RouterRegistry<T::AccountId> for Pallet<T> {
	fn router_fee(who: &T::AccountId) -> Option<Perbill> {
		Routers::<T>::get(who).map(|r| r.fee)
	}

	fn max_router_fee() -> Perbill {
		<T::MaxRouterFee as frame_support::traits::Get<Perbill>>::get()
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn register_for_benchmarks(who: &T::AccountId) -> sp_runtime::DispatchResult {
		Self::do_register(who.clone(), Self::max_router_fee())
	}
}
