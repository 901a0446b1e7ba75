//! Service passes (MintAI's free mode) and client ratings.

use crate::*;
use frame_support::traits::{fungible::MutateHold, tokens::Precision};
use loopx_primitives::{logistic_reputation, ReputationHandler, ReputationReason};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// The free queries per era a pass with `locked` tokens grants now:
	/// `FreeQueriesPerEra × locked / all locked`, rounded down.
	pub fn quota(locked: BalanceOf<T>) -> u32 {
		let total: u128 = TotalLocked::<T>::get().unique_saturated_into();
		if total == 0 {
			return 0;
		}
		let locked: u128 = locked.unique_saturated_into();
		let quota = (T::FreeQueriesPerEra::get() as u128).saturating_mul(locked) / total;
		quota.min(u32::MAX as u128) as u32
	}

	/// Takes one free query from `who`'s pass.
	pub(crate) fn use_pass(who: &T::AccountId) -> DispatchResult {
		let mut pass = Passes::<T>::get(who).ok_or(Error::<T>::NoPass)?;
		ensure!(pass.unlock_at.is_none(), Error::<T>::PassUnlocking);
		let era = T::CurrentEra::get();
		if pass.era != era {
			pass.era = era;
			pass.used = 0;
		}
		let quota = Self::quota(pass.locked);
		ensure!(pass.used < quota, Error::<T>::PassFrozen);
		pass.used = pass.used.saturating_add(1);
		Passes::<T>::insert(who, pass);
		Self::deposit_event(Event::FreeQueryUsed { who: who.clone(), era, used: pass.used, quota });
		if pass.used == quota {
			Self::deposit_event(Event::PassFrozen { who: who.clone(), until_era: era.saturating_add(1) });
		}
		Ok(())
	}

	pub(crate) fn do_lock(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut pass = match Passes::<T>::get(&who) {
			Some(pass) => {
				ensure!(pass.unlock_at.is_none(), Error::<T>::PassUnlocking);
				ensure!(!amount.is_zero(), Error::<T>::PassLockTooSmall);
				pass
			},
			None => {
				ensure!(amount >= T::MinPassLock::get() && !amount.is_zero(), Error::<T>::PassLockTooSmall);
				Pass { locked: Zero::zero(), unlock_at: None, era: T::CurrentEra::get(), used: 0 }
			},
		};
		T::Currency::hold(&HoldReason::Pass.into(), &who, amount)?;
		pass.locked = pass.locked.saturating_add(amount);
		Passes::<T>::insert(&who, pass);
		TotalLocked::<T>::mutate(|t| *t = t.saturating_add(amount));
		Self::deposit_event(Event::PassLocked { who, amount, locked: pass.locked });
		Ok(())
	}

	pub(crate) fn do_request_unlock(who: T::AccountId) -> DispatchResult {
		let mut pass = Passes::<T>::get(&who).ok_or(Error::<T>::NoPass)?;
		ensure!(pass.unlock_at.is_none(), Error::<T>::PassUnlocking);
		let unlock_at = frame_system::Pallet::<T>::block_number().saturating_add(T::PassCooldown::get());
		pass.unlock_at = Some(unlock_at);
		Passes::<T>::insert(&who, pass);
		TotalLocked::<T>::mutate(|t| *t = t.saturating_sub(pass.locked));
		Self::deposit_event(Event::PassUnlockRequested { who, unlock_at });
		Ok(())
	}

	pub(crate) fn do_unlock(who: T::AccountId) -> DispatchResult {
		let pass = Passes::<T>::get(&who).ok_or(Error::<T>::NoPass)?;
		let unlock_at = pass.unlock_at.ok_or(Error::<T>::NotUnlocking)?;
		ensure!(frame_system::Pallet::<T>::block_number() >= unlock_at, Error::<T>::CoolDownNotOver);
		T::Currency::release(&HoldReason::Pass.into(), &who, pass.locked, Precision::Exact)?;
		Passes::<T>::remove(&who);
		Self::deposit_event(Event::PassUnlocked { who, amount: pass.locked });
		Ok(())
	}

	/// `provider`'s service reputation for a sum of ratings.
	pub fn service_reputation(rating_sum: i64) -> Reputation {
		logistic_reputation(rating_sum, T::RatingTheta::get(), T::MaxServiceReputation::get())
	}

	pub(crate) fn do_rate(query: QueryId, client: T::AccountId, provider: T::AccountId, rating: Rating) -> DispatchResult {
		let q = Queries::<T>::get(query).ok_or(Error::<T>::QueryNotFound)?;
		ensure!(q.client == client, Error::<T>::NotQueryClient);
		ensure!(matches!(q.status, QueryStatus::Answered { .. }), Error::<T>::NotAnswered);
		ensure!(q.answerers.contains(&provider), Error::<T>::NotAnAnswerer);
		ensure!(Self::verified(&q, q.answerers.len(), false), Error::<T>::UnverifiedAnswer);
		ensure!(!RatedAnswers::<T>::contains_key(query, &provider), Error::<T>::AlreadyRated);
		let previous = Ratings::<T>::get(&provider, &client);
		if previous.is_none() {
			let deposit = T::RatingDeposit::get();
			if !deposit.is_zero() {
				T::Currency::hold(&HoldReason::Rating.into(), &client, deposit).map_err(|_| Error::<T>::CannotHoldRatingDeposit)?;
				RatingDeposits::<T>::insert(&provider, &client, deposit);
			}
		}
		Ratings::<T>::insert(&provider, &client, rating);
		RatedAnswers::<T>::insert(query, &provider, ());
		let after = Self::move_rating_sum(&provider, rating.value().saturating_sub(previous.map_or(0, Rating::value)));
		Self::deposit_event(Event::Rated { query, client, provider, rating, service_reputation: after });
		Ok(())
	}

	/// Removes `client`'s rating of `provider` and releases its deposit.
	pub(crate) fn do_withdraw_rating(client: T::AccountId, provider: T::AccountId) -> DispatchResult {
		let rating = Ratings::<T>::take(&provider, &client).ok_or(Error::<T>::NoRating)?;
		let deposit = RatingDeposits::<T>::take(&provider, &client).unwrap_or_else(Zero::zero);
		if !deposit.is_zero() {
			T::Currency::release(&HoldReason::Rating.into(), &client, deposit, Precision::BestEffort)?;
		}
		let after = Self::move_rating_sum(&provider, 0i64.saturating_sub(rating.value()));
		Self::deposit_event(Event::RatingWithdrawn { client, provider, deposit, service_reputation: after });
		Ok(())
	}

	/// Adds `delta` to `provider`'s rating sum and moves its reputation by as much as its
	/// service reputation moves; returns the new service reputation.
	pub(crate) fn move_rating_sum(provider: &T::AccountId, delta: i64) -> Reputation {
		let sum = RatingSums::<T>::get(provider).saturating_add(delta);
		RatingSums::<T>::insert(provider, sum);
		let before = ServiceReputation::<T>::get(provider).unwrap_or_else(|| Self::service_reputation(0));
		let after = Self::service_reputation(sum);
		ServiceReputation::<T>::insert(provider, after);
		if after > before {
			T::Reputations::reward(provider, after - before, ReputationReason::ClientRating);
		} else if before > after {
			T::Reputations::penalize(provider, before - after, ReputationReason::ClientRating);
		}
		after
	}
}
