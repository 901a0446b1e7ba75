//! Benchmarks of every call, each in its worst case: the most unlocking chunks, delegations and
//! delegators the bounds allow.

use super::*;
use frame_benchmarking::v2::*;
use frame_system::RawOrigin;

const SEED: u32 = 0;

/// A bond comfortably above both minimums.
fn stake<T: Config>() -> BalanceOf<T> {
	T::MinValidatorStake::get().max(T::MinBond::get()).saturating_mul(4u32.into())
}

/// A delegation comfortably above the minimum.
fn delegation<T: Config>() -> BalanceOf<T> {
	T::MinDelegation::get().max(1u32.into()).saturating_mul(2u32.into())
}

/// A fresh account holding enough for any setup below.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	fund::<T>(&who);
	who
}

fn fund<T: Config>(who: &T::AccountId) {
	let amount = stake::<T>().saturating_mul(1_000u32.into()).saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(who, amount);
}

fn signed<T: Config>(who: &T::AccountId) -> OriginFor<T> {
	RawOrigin::Signed(who.clone()).into()
}

/// A bonded validator candidate with session keys.
fn candidate<T: Config>(name: &'static str, index: u32) -> Result<T::AccountId, BenchmarkError> {
	let who = funded::<T>(name, index);
	T::BenchmarkHelper::register_session_keys(&who);
	Pallet::<T>::bond(signed::<T>(&who), stake::<T>())?;
	Pallet::<T>::validate(signed::<T>(&who), Perbill::from_percent(5))?;
	Ok(who)
}

/// `d` delegators, each delegating to `validator`.
fn add_delegators<T: Config>(validator: &T::AccountId, d: u32) -> Result<(), BenchmarkError> {
	for i in 0..d {
		let delegator = funded::<T>("delegator", i);
		Pallet::<T>::delegate(signed::<T>(&delegator), validator.clone(), delegation::<T>())?;
	}
	Ok(())
}

/// Fills `who`'s ledger with `MaxUnlockingChunks` chunks, each unlocking in its own session.
fn fill_unlocking<T: Config>(who: &T::AccountId, chunks: u32) -> Result<(), BenchmarkError> {
	let start = CurrentSession::<T>::get();
	for i in 0..chunks {
		CurrentSession::<T>::put(start.saturating_add(i));
		Pallet::<T>::unbond(signed::<T>(who), T::MinBond::get().max(1u32.into()))?;
	}
	CurrentSession::<T>::put(start);
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let caller = funded::<T>("caller", 0);
		let value = stake::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), value);

		assert_eq!(Ledgers::<T>::get(&caller).map(|l| l.active), Some(value));
	}

	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		let caller = funded::<T>("caller", 0);
		Pallet::<T>::bond(signed::<T>(&caller), stake::<T>())?;
		let extra = stake::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), extra);

		assert_eq!(Pallet::<T>::backing_of(&caller), stake::<T>().saturating_mul(2u32.into()));
		Ok(())
	}

	// A candidate (the stake check runs) adding its last free chunk.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let caller = candidate::<T>("caller", 0)?;
		Pallet::<T>::bond_extra(signed::<T>(&caller), stake::<T>())?;
		let max = T::MaxUnlockingChunks::get();
		fill_unlocking::<T>(&caller, max.saturating_sub(1))?;
		CurrentSession::<T>::put(max);
		let value = T::MinBond::get().max(1u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), value);

		assert_eq!(Ledgers::<T>::get(&caller).map(|l| l.unlocking.len() as u32), Some(max));
		Ok(())
	}

	// Every own chunk and every undelegated chunk matured at once; each of the `d` delegations
	// it withdraws from ends (its slot is freed).
	#[benchmark]
	fn withdraw_unbonded(d: Linear<0, { T::MaxDelegationsPerDelegator::get() }>) -> Result<(), BenchmarkError> {
		let caller = funded::<T>("caller", 0);
		Pallet::<T>::bond(signed::<T>(&caller), stake::<T>().saturating_mul(2u32.into()))?;
		let max = T::MaxUnlockingChunks::get();
		fill_unlocking::<T>(&caller, max)?;
		for i in 0..d {
			let validator = candidate::<T>("validator", i)?;
			Pallet::<T>::delegate(signed::<T>(&caller), validator.clone(), delegation::<T>())?;
			Pallet::<T>::undelegate(signed::<T>(&caller), validator, delegation::<T>())?;
		}
		CurrentSession::<T>::put(max.saturating_add(T::BondingDuration::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert_eq!(Ledgers::<T>::get(&caller).map(|l| l.unlocking.len()), Some(0));
		assert!(DelegationsOf::<T>::get(&caller).is_empty());
		Ok(())
	}

	// Rebonds everything that is unlocking: every chunk is consumed.
	#[benchmark]
	fn rebond() -> Result<(), BenchmarkError> {
		let caller = funded::<T>("caller", 0);
		Pallet::<T>::bond(signed::<T>(&caller), stake::<T>().saturating_mul(2u32.into()))?;
		let max = T::MaxUnlockingChunks::get();
		fill_unlocking::<T>(&caller, max)?;
		let unlocking = Ledgers::<T>::get(&caller).map(|l| l.total().saturating_sub(l.active)).unwrap_or_default();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), unlocking);

		assert_eq!(Ledgers::<T>::get(&caller).map(|l| l.unlocking.len()), Some(0));
		Ok(())
	}

	// A chilled validator with `d` delegations standing becomes a candidate again: its
	// delegations are summed.
	#[benchmark]
	fn validate(d: Linear<0, { T::MaxDelegatorsPerValidator::get() }>) -> Result<(), BenchmarkError> {
		let caller = candidate::<T>("caller", 0)?;
		add_delegators::<T>(&caller, d)?;
		Pallet::<T>::chill(signed::<T>(&caller))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), Perbill::from_percent(10));

		assert_eq!(Candidates::<T>::get(&caller).map(|c| c.delegators), Some(d));
		Ok(())
	}

	#[benchmark]
	fn chill() -> Result<(), BenchmarkError> {
		let caller = candidate::<T>("caller", 0)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(!Candidates::<T>::contains_key(&caller));
		Ok(())
	}

	// A new delegation from an account that already delegates to all but one of the validators
	// it may, to a validator with all but one of the delegators it may have.
	#[benchmark]
	fn delegate() -> Result<(), BenchmarkError> {
		// The heaviest branch: the validator's delegations are all taken, and the caller's larger
		// one evicts the smallest (every delegation is read to find it).
		let validator = candidate::<T>("validator", 0)?;
		add_delegators::<T>(&validator, T::MaxDelegatorsPerValidator::get())?;
		let caller = funded::<T>("caller", 0);
		for i in 1..T::MaxDelegationsPerDelegator::get() {
			let other = candidate::<T>("validator", i)?;
			Pallet::<T>::delegate(signed::<T>(&caller), other, delegation::<T>())?;
		}
		let amount = delegation::<T>().saturating_mul(2u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), validator.clone(), amount);

		assert_eq!(Delegations::<T>::get(&validator, &caller), Some(amount));
		assert_eq!(Delegations::<T>::iter_prefix(&validator).count() as u32, T::MaxDelegatorsPerValidator::get());
		Ok(())
	}

	// Withdraws a whole delegation (the delegation list is rewritten) from an account that
	// delegates to as many validators as it may.
	#[benchmark]
	fn undelegate() -> Result<(), BenchmarkError> {
		let caller = funded::<T>("caller", 0);
		let mut last = None;
		for i in 0..T::MaxDelegationsPerDelegator::get() {
			let validator = candidate::<T>("validator", i)?;
			Pallet::<T>::delegate(signed::<T>(&caller), validator.clone(), delegation::<T>())?;
			last = Some(validator);
		}
		let validator = last.ok_or(BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), validator.clone(), delegation::<T>());

		assert!(Delegations::<T>::get(&validator, &caller).is_none());
		Ok(())
	}

	#[benchmark]
	fn set_reputation() -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let who: T::AccountId = account("who", 0, SEED);
		let score = T::MaxReputation::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), score);

		assert_eq!(Pallet::<T>::reputation_of(&who), score);
		Ok(())
	}

	// A candidate with full unlocking chunks and `d` delegators, slashed by half and chilled.
	#[benchmark]
	fn force_slash(d: Linear<0, { T::MaxDelegatorsPerValidator::get() }>) -> Result<(), BenchmarkError> {
		let who = candidate::<T>("validator", 0)?;
		Pallet::<T>::bond_extra(signed::<T>(&who), stake::<T>())?;
		fill_unlocking::<T>(&who, T::MaxUnlockingChunks::get())?;
		add_delegators::<T>(&who, d)?;
		// Each delegator also has an undelegated amount still unlocking (slashed as well).
		for i in 0..d {
			let delegator: T::AccountId = account("delegator", i, SEED);
			Pallet::<T>::undelegate(signed::<T>(&delegator), who.clone(), T::MinDelegation::get().max(1u32.into()))?;
		}
		let before = Pallet::<T>::backing_of(&who);
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), Perbill::from_percent(50), true);

		assert!(!Candidates::<T>::contains_key(&who));
		assert!(Pallet::<T>::backing_of(&who) < before);
		Ok(())
	}

	// A full session of deferred slashes, one of which is cancelled.
	#[benchmark]
	fn cancel_deferred_slash() -> Result<(), BenchmarkError> {
		let apply_at = CurrentSession::<T>::get().saturating_add(1);
		let due: Vec<_> = (0..T::MaxDeferredSlashes::get())
			.map(|i| DeferredSlash::<T::AccountId> {
				who: account("offender", i, SEED),
				fraction: Perbill::from_percent(10),
				reason: SlashReason::Governance,
				reported_in: 0,
				offence_in: None,
			})
			.collect();
		let who = due.last().map(|s| s.who.clone()).ok_or(BenchmarkError::Weightless)?;
		for slash in &due {
			PendingSlashes::<T>::insert(&slash.who, 1);
		}
		DeferredSlashes::<T>::insert(apply_at, BoundedVec::try_from(due).map_err(|_| BenchmarkError::Weightless)?);
		let origin = T::SlashCancelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, apply_at, who.clone());

		assert_eq!(PendingSlashes::<T>::get(&who), 0);
		Ok(())
	}

	#[benchmark]
	fn set_slash_defer_sessions() -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let sessions = T::BondingDuration::get().saturating_sub(1);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, sessions);

		assert_eq!(SlashDeferSessions::<T>::get(), sessions);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
