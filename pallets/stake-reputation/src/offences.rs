//! Offences proven by consensus (BABE and GRANDPA equivocations), as pallet-offences reports
//! them: the offender is slashed, chilled and disabled for the rest of its session.
//!
//! pallet-offences hands every report of a kind and time slot with *all* offenders known for it
//! so far, each with the fraction for the whole group (more offenders together, a larger
//! fraction). A validator may so be reported several times for one session, by BABE and by
//! GRANDPA too. As in pallet-staking, what it loses for a session is the largest fraction
//! reported for it in that session, never the sum: [`OffenceSlashes`] keeps what was taken, and
//! a later, larger fraction takes only the difference.

use crate::*;
use sp_staking::offence::{OffenceDetails, OnOffenceHandler};

/// Disables a validator for the rest of its session: its blocks and votes no longer count
/// (the runtime hands this to pallet-session's disabling strategy).
pub trait DisableValidator<AccountId> {
	/// Disables `who`, which committed an offence of `severity` (its slash fraction).
	fn disable(who: &AccountId, severity: Perbill);
}

impl<AccountId> DisableValidator<AccountId> for () {
	fn disable(_: &AccountId, _: Perbill) {}
}

impl<T: Config, FullIdentification> OnOffenceHandler<T::AccountId, (T::AccountId, FullIdentification), Weight> for Pallet<T> {
	/// Slashes each offender by its fraction (less what it lost for `session` before) through
	/// [`Slashing::slash`] (deferred like any slash when [`SlashDeferSessions`] is set),
	/// penalises its reputation, chills and disables it. Offences of a session older than
	/// [`Config::BondingDuration`] are ignored ([`Event::OffenceTooOld`]): the funds that backed
	/// them may be gone, and the newcomers' funds did not back them.
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, FullIdentification)>],
		slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		let db = T::DbWeight::get();
		let mut weight = db.reads(1);
		if Self::offence_too_old(session) {
			for details in offenders {
				Self::deposit_event(Event::OffenceTooOld { who: details.offender.0.clone(), session });
			}
			return weight;
		}
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			weight.saturating_accrue(Self::punish_offence(&details.offender.0, *fraction, session));
		}
		weight
	}
}

impl<T: Config> Pallet<T> {
	/// Whether the offences of `session` are past the bonding duration.
	pub(crate) fn offence_too_old(session: SessionIndex) -> bool {
		session.saturating_add(T::BondingDuration::get()) <= CurrentSession::<T>::get()
	}

	/// What of `fraction` is still to take from `who` for `session`, taken; returns the weight.
	fn punish_offence(who: &T::AccountId, fraction: Perbill, session: SessionIndex) -> Weight {
		let db = T::DbWeight::get();
		let prior = OffenceSlashes::<T>::get(session, who).unwrap_or_default();
		if fraction <= prior {
			// Reported again (another kind, or with co-offenders): nothing more to take.
			return db.reads(1);
		}
		OffenceSlashes::<T>::insert(session, who, fraction);
		Self::deposit_event(Event::OffenceReported { who: who.clone(), session, fraction });
		T::Disabler::disable(who, fraction);
		// `prior` of the stake is gone already: `fraction` of the original stake is `prior` plus
		// `extra` of what is left. (`prior` < `fraction` ≤ 100 %, so `prior` < 100 %.)
		let extra = Perbill::from_rational(fraction.deconstruct() - prior.deconstruct(), Perbill::one().deconstruct() - prior.deconstruct());
		// Only the stake that backed `who` in `session` pays (`take_slash`).
		if let Err(e) = Self::slash_for(who, extra, SlashReason::Equivocation, true, Some(session)) {
			// Only chilling can fail, for an account that is not a candidate: the funds and
			// reputation were taken.
			log::warn!(target: "runtime::stake-reputation", "equivocation of {who:?}: chill failed: {e:?}");
		}
		// `force_slash` measures a claim's slash; an offence's also reads each active
		// delegation's `DelegatedSince`.
		T::WeightInfo::force_slash(Self::max_delegators())
			.saturating_add(db.reads_writes(1, 1))
			.saturating_add(db.reads(u64::from(T::MaxDelegatorsPerValidator::get())))
	}

	/// Forgets the offences of the session that just left the bonding duration (called at each
	/// session start; at most one entry per validator of that session).
	pub(crate) fn prune_offence_slashes(start_index: SessionIndex) {
		if let Some(old) = start_index.checked_sub(T::BondingDuration::get()) {
			let _ = OffenceSlashes::<T>::clear_prefix(old, T::MaxValidators::get(), None);
		}
	}
}
