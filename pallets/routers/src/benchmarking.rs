//! Benchmarks of the two calls.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Saturating;

fn funded<T: Config>(i: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account("router", i, 0);
	let amount = T::RouterBond::get().saturating_mul(10u32.into()).saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, amount);
	who
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_router() {
		let who = funded::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MaxRouterFee::get());
		assert!(Routers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn unregister_router() {
		let who = funded::<T>(0);
		Pallet::<T>::register_router(RawOrigin::Signed(who.clone()).into(), T::MaxRouterFee::get()).expect("funded");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Routers::<T>::contains_key(&who));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
