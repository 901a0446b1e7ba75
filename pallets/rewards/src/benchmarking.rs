//! Benchmarks of every call and hook: the payout over the number of delegators `d` (up to
//! `MaxDelegators`), the cleanup over the records removed `k` (up to `CleanupPerBlock`), and an
//! era end that also expires an era.

use super::*;
use frame_benchmarking::v2::*;
use frame_system::RawOrigin;

const SEED: u32 = 0;

fn params() -> RewardParams {
	RewardParams {
		sessions_per_era: 1,
		inflation: InflationCurve { initial: Perbill::from_percent(8), decay: Perbill::from_percent(10), floor: Perbill::from_percent(2) },
		category_shares: [40, 20, 15, 10, 5, 5, 5].map(Perbill::from_percent),
		fee_to_pot: Perbill::from_percent(50),
		expiry_eras: 1,
	}
}

/// Ends the current era at the next block (one session per era).
fn end_current_era<T: Config>() {
	Params::<T>::put(params());
	T::BenchmarkHelper::next_session();
	let now = frame_system::Pallet::<T>::block_number() + 1u32.into();
	frame_system::Pallet::<T>::set_block_number(now);
	let p = params();
	Pallet::<T>::end_era(now, &p);
}

/// Funds the pot so that the budgets are large enough to pay everyone something.
fn fund_pot<T: Config>() {
	let amount = T::Currency::minimum_balance().saturating_mul(1_000_000u32.into());
	let _ = T::Currency::mint_into(&Pallet::<T>::pot(), amount);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn payout(d: Linear<0, { T::MaxDelegators::get() }>) -> Result<(), BenchmarkError> {
		let validator: T::AccountId = account("validator", 0, SEED);
		let _ = T::Currency::mint_into(&validator, T::Currency::minimum_balance());
		T::BenchmarkHelper::setup_validator(&validator, d);
		<Pallet<T> as ContributionSink<T::AccountId>>::note(&validator, ContributionCategory::BlockAuthoring, 10);
		fund_pot::<T>();
		end_current_era::<T>();
		let era = CurrentEra::<T>::get() - 1;
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		payout_for(RawOrigin::Signed(caller), era, validator.clone());

		assert!(AccountPoints::<T>::get(era, &validator).is_none());
		assert!(!Eras::<T>::get(era).map(|e| e.paid).unwrap_or_default().is_zero());
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let p = params();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, p);

		assert_eq!(Params::<T>::get(), Some(p));
		Ok(())
	}

	/// An era end that mints, allocates every category and expires the previous era.
	#[benchmark]
	fn end_era() {
		fund_pot::<T>();
		for (i, k) in ContributionCategory::ALL.iter().enumerate() {
			let who: T::AccountId = account("contributor", i as u32, SEED);
			<Pallet<T> as ContributionSink<T::AccountId>>::note(&who, *k, 1);
		}
		end_current_era::<T>();
		for (i, k) in ContributionCategory::ALL.iter().enumerate() {
			let who: T::AccountId = account("contributor", i as u32, SEED);
			<Pallet<T> as ContributionSink<T::AccountId>>::note(&who, *k, 1);
		}
		T::BenchmarkHelper::next_session();
		let now = frame_system::Pallet::<T>::block_number() + 1u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		let era = CurrentEra::<T>::get();
		let p = params();

		#[block]
		{
			Pallet::<T>::end_era(now, &p);
		}

		assert_eq!(CurrentEra::<T>::get(), era + 1);
		assert!(Eras::<T>::get(era - 1).is_none());
	}

	#[benchmark]
	fn cleanup(k: Linear<0, { T::CleanupPerBlock::get() }>) {
		for i in 0..k {
			let who: T::AccountId = account("contributor", i, SEED);
			AccountPoints::<T>::insert(0, who, [1; CATEGORIES]);
		}
		CleanupQueue::<T>::put(BoundedVec::truncate_from(alloc::vec![0]));

		#[block]
		{
			Pallet::<T>::cleanup();
		}

		assert_eq!(AccountPoints::<T>::iter_prefix(0).count(), 0);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
