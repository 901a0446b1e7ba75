//! Tests of every call, every failure path, the election, slashing and the issuance they keep.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use loopx_primitives::{ReputationHandler, ReputationReason, SlashReason, Slashing};
use pallet_session::SessionManager;
use sp_runtime::{DispatchError, Perbill};

type Stake = crate::Pallet<Test>;

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}
fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Staking.into(), &who)
}
fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}
fn issuance() -> Balance {
	Balances::total_issuance()
}
/// (validator, block-production weight) of a session.
fn weights(session: u32) -> Vec<(AccountId, u64)> {
	Stake::weights_of_session(session).into_iter().map(|v| (v.who, v.weight)).collect()
}
/// (validator, finality weight) of a session.
fn finality(session: u32) -> Vec<(AccountId, u64)> {
	Stake::weights_of_session(session).into_iter().map(|v| (v.who, v.finality_weight)).collect()
}
fn go_to_session(index: u32) {
	<Stake as SessionManager<AccountId>>::start_session(index);
}

// ---- bond ----

#[test]
fn bond_holds_funds_and_creates_a_ledger() {
	new_test_ext().execute_with(|| {
		assert_ok!(Stake::bond(origin(1), 300));
		assert_eq!(held(1), 300);
		assert_eq!(free(1), 9_700);
		assert_eq!(Ledgers::<Test>::get(1).unwrap().active, 300);
		assert_eq!(events(), vec![Event::Bonded { who: 1, amount: 300, active: 300 }]);
	});
}

#[test]
fn bond_failures_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::bond(origin(1), MIN_BOND - 1), Error::<Test>::BondBelowMinimum);
		assert_noop!(Stake::bond(origin(1), 0), Error::<Test>::BondBelowMinimum);
		assert_noop!(Stake::bond(origin(1), 10_001), Error::<Test>::InsufficientFunds);
		assert_ok!(Stake::bond(origin(1), 100));
		assert_noop!(Stake::bond(origin(1), 100), Error::<Test>::AlreadyBonded);
		assert_noop!(Stake::bond(RuntimeOrigin::root(), 100), DispatchError::BadOrigin);
	});
}

#[test]
fn bond_extra_adds_and_checks() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::bond_extra(origin(1), 50), Error::<Test>::NotBonded);
		assert_ok!(Stake::bond(origin(1), 100));
		assert_noop!(Stake::bond_extra(origin(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Stake::bond_extra(origin(1), 9_901), Error::<Test>::InsufficientFunds);
		assert_ok!(Stake::bond_extra(origin(1), 50));
		assert_eq!(Ledgers::<Test>::get(1).unwrap().active, 150);
		assert_eq!(held(1), 150);
	});
}

#[test]
fn balances_at_the_extremes_do_not_overflow() {
	new_test_ext().execute_with(|| {
		let rich = 100;
		let all = free(rich);
		assert_ok!(Stake::bond(origin(rich), all - 1));
		assert_noop!(Stake::bond_extra(origin(rich), u128::MAX), Error::<Test>::InsufficientFunds);
		assert_eq!(Stake::backing_of(&rich), all - 1);
		// A validator with an enormous bond and maximal reputation still gets a finite weight.
		Stake::set(&rich, 1_000_000, ReputationReason::Governance);
		set_keys(rich, true);
		assert_ok!(Stake::validate(origin(rich), Perbill::zero()));
		assert_eq!(Stake::new_session(1), Some(vec![rich]));
		assert_eq!(weights(1), vec![(rich, 1_000_000_000)]);
	});
}

// ---- unbond / withdraw / rebond ----

#[test]
fn unbond_moves_funds_into_a_chunk_that_matures() {
	new_test_ext().execute_with(|| {
		assert_ok!(Stake::bond(origin(1), 300));
		assert_ok!(Stake::unbond(origin(1), 100));
		let ledger = Ledgers::<Test>::get(1).unwrap();
		assert_eq!(ledger.active, 200);
		assert_eq!(ledger.unlocking.to_vec(), vec![UnlockChunk { value: 100, unlock_in: 2 }]);
		assert_eq!(held(1), 300, "still held while unlocking");
		// Withdrawing before maturity fails.
		assert_noop!(Stake::withdraw_unbonded(origin(1)), Error::<Test>::NothingToWithdraw);
		go_to_session(1);
		assert_noop!(Stake::withdraw_unbonded(origin(1)), Error::<Test>::NothingToWithdraw);
		go_to_session(2);
		assert_ok!(Stake::withdraw_unbonded(origin(1)));
		assert_eq!(held(1), 200);
		assert_eq!(free(1), 9_800);
		assert!(events().contains(&Event::Withdrawn { who: 1, amount: 100 }));
	});
}

#[test]
fn unbond_failures_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::unbond(origin(1), 10), Error::<Test>::NotBonded);
		assert_ok!(Stake::bond(origin(1), 300));
		assert_noop!(Stake::unbond(origin(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Stake::unbond(origin(1), 301), Error::<Test>::NotEnoughBonded);
		assert_noop!(Stake::unbond(origin(1), 295), Error::<Test>::BondBelowMinimum);
		// A candidate may not go below the validator minimum while validating.
		assert_ok!(Stake::validate(origin(1), Perbill::zero()));
		assert_noop!(Stake::unbond(origin(1), 201), Error::<Test>::ValidatorStakeBelowMinimum);
		assert_ok!(Stake::unbond(origin(1), 200));
	});
}

#[test]
fn unlocking_chunks_are_bounded_and_merge_within_a_session() {
	new_test_ext().execute_with(|| {
		assert_ok!(Stake::bond(origin(1), 1_000));
		assert_ok!(Stake::unbond(origin(1), 10));
		assert_ok!(Stake::unbond(origin(1), 10)); // same session: merged
		assert_eq!(Ledgers::<Test>::get(1).unwrap().unlocking.len(), 1);
		go_to_session(1);
		assert_ok!(Stake::unbond(origin(1), 10));
		go_to_session(2);
		assert_ok!(Stake::unbond(origin(1), 10));
		go_to_session(3);
		assert_noop!(Stake::unbond(origin(1), 10), Error::<Test>::TooManyUnlockingChunks);
	});
}

#[test]
fn withdrawing_everything_removes_the_ledger() {
	new_test_ext().execute_with(|| {
		assert_ok!(Stake::bond(origin(1), 100));
		assert_ok!(Stake::unbond(origin(1), 100));
		go_to_session(2);
		assert_ok!(Stake::withdraw_unbonded(origin(1)));
		assert!(Ledgers::<Test>::get(1).is_none());
		assert_eq!(free(1), 10_000);
		assert_noop!(Stake::withdraw_unbonded(origin(1)), Error::<Test>::NotBonded);
	});
}

#[test]
fn rebond_takes_the_latest_chunks_first() {
	new_test_ext().execute_with(|| {
		assert_ok!(Stake::bond(origin(1), 1_000));
		assert_noop!(Stake::rebond(origin(1), 10), Error::<Test>::NothingToRebond);
		assert_ok!(Stake::unbond(origin(1), 100));
		go_to_session(1);
		assert_ok!(Stake::unbond(origin(1), 50));
		assert_noop!(Stake::rebond(origin(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Stake::rebond(origin(1), 151), Error::<Test>::NotEnoughBonded);
		assert_ok!(Stake::rebond(origin(1), 70));
		let ledger = Ledgers::<Test>::get(1).unwrap();
		assert_eq!(ledger.active, 920);
		assert_eq!(ledger.unlocking.to_vec(), vec![UnlockChunk { value: 80, unlock_in: 2 }]);
		assert_eq!(held(1), 1_000);
	});
}

// ---- candidacy ----

#[test]
fn validate_requires_stake_reputation_and_keys() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::validate(origin(1), Perbill::zero()), Error::<Test>::NotBonded);
		assert_ok!(Stake::bond(origin(1), MIN_VALIDATOR_STAKE - 1));
		assert_noop!(Stake::validate(origin(1), Perbill::zero()), Error::<Test>::InsufficientValidatorStake);
		assert_ok!(Stake::bond_extra(origin(1), 1));
		Stake::set(&1, 299_999, ReputationReason::Governance);
		assert_noop!(Stake::validate(origin(1), Perbill::zero()), Error::<Test>::ReputationTooLow);
		Stake::set(&1, 300_000, ReputationReason::Governance);
		set_keys(1, false);
		assert_noop!(Stake::validate(origin(1), Perbill::zero()), Error::<Test>::NoSessionKeys);
		set_keys(1, true);
		assert_ok!(Stake::validate(origin(1), Perbill::from_percent(5)));
		assert_eq!(Candidates::<Test>::get(1).unwrap().commission, Perbill::from_percent(5));
		// Again: changes the commission.
		assert_ok!(Stake::validate(origin(1), Perbill::from_percent(7)));
		assert_eq!(Candidates::<Test>::count(), 1);
	});
}

#[test]
fn candidates_are_bounded() {
	new_test_ext().execute_with(|| {
		for who in 1..=8 {
			set_keys(who, true);
			assert_ok!(Stake::bond(origin(who), 200));
			assert_ok!(Stake::validate(origin(who), Perbill::zero()));
		}
		set_keys(9, true);
		assert_ok!(Stake::bond(origin(9), 200));
		assert_noop!(Stake::validate(origin(9), Perbill::zero()), Error::<Test>::TooManyCandidates);
	});
}

#[test]
fn chill_ends_candidacy() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::chill(origin(1)), Error::<Test>::NotCandidate);
		assert_ok!(Stake::bond(origin(1), 200));
		assert_ok!(Stake::validate(origin(1), Perbill::zero()));
		assert_ok!(Stake::chill(origin(1)));
		assert!(Candidates::<Test>::get(1).is_none());
		assert!(events().contains(&Event::Chilled { who: 1 }));
	});
}

// ---- delegation ----

fn candidate(who: AccountId) {
	assert_ok!(Stake::bond(origin(who), 200));
	assert_ok!(Stake::validate(origin(who), Perbill::from_percent(10)));
}

#[test]
fn a_commission_raise_applies_from_the_next_session_and_a_cut_at_once() {
	use loopx_primitives::StakeExposure;
	// The attack: a validator raises its commission to 100 % just before its rewards are shared,
	// keeping what its delegators earned. A raise waits for the next session instead.
	new_test_ext().execute_with(|| {
		candidate(1); // 10 %
		assert_ok!(Stake::delegate(origin(6), 1, 50));
		let commission = || Stake::exposure(&1).unwrap().commission;
		assert_ok!(Stake::validate(origin(1), Perbill::one()));
		assert!(events().contains(&Event::CommissionScheduled { who: 1, commission: Perbill::one(), from: 1 }));
		assert_eq!(commission(), Perbill::from_percent(10), "the raise waits for the next session");
		go_to_session(1);
		assert_eq!(commission(), Perbill::one());
		assert_eq!(Stake::candidate_infos()[0].commission, Perbill::one());
		// A cut applies at once, and replaces a raise still waiting.
		assert_ok!(Stake::validate(origin(1), Perbill::from_percent(50)));
		assert_ok!(Stake::validate(origin(1), Perbill::from_percent(5)));
		assert_eq!(commission(), Perbill::from_percent(5));
		assert!(PendingCommission::<Test>::get(1).is_none());
		// Chilling drops a scheduled raise.
		assert_ok!(Stake::validate(origin(1), Perbill::from_percent(20)));
		assert_ok!(Stake::chill(origin(1)));
		assert!(PendingCommission::<Test>::get(1).is_none());
	});
}

#[test]
fn validate_is_charged_for_the_delegations_it_counts() {
	use crate::weights::WeightInfo;
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 50));
		assert_ok!(Stake::delegate(origin(7), 1, 50));
		// A commission change counts nothing.
		let post = Stake::validate(origin(1), Perbill::from_percent(5)).expect("a cut");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::validate(0)));
		let post = Stake::validate(origin(1), Perbill::from_percent(50)).expect("a raise");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::validate(0)));
		// A new candidacy counts its delegators: two, not `MaxDelegatorsPerValidator`.
		assert_ok!(Stake::chill(origin(1)));
		let post = Stake::validate(origin(1), Perbill::from_percent(5)).expect("a candidacy");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::validate(2)));
		assert_eq!(Candidates::<Test>::get(1).map(|c| c.delegators), Some(2));
		// An unlocking part beside an active delegation adds no delegator, but it is read: paid.
		assert_ok!(Stake::undelegate(origin(6), 1, 10));
		assert_ok!(Stake::chill(origin(1)));
		let post = Stake::validate(origin(1), Perbill::from_percent(5)).expect("a candidacy");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::validate(3)));
		assert_eq!(Candidates::<Test>::get(1).map(|c| c.delegators), Some(2));
	});
}

#[test]
fn delegate_holds_funds_and_counts_toward_backing() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 50));
		assert_ok!(Stake::delegate(origin(6), 1, 25));
		assert_eq!(Delegations::<Test>::get(1, 6), Some(75));
		assert_eq!(held(6), 75);
		assert_eq!(Stake::backing_of(&1), 275);
		let c = Candidates::<Test>::get(1).unwrap();
		assert_eq!((c.delegated, c.delegators), (75, 1));
	});
}

#[test]
fn delegate_failures_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::delegate(origin(6), 1, 50), Error::<Test>::NotCandidate);
		candidate(1);
		assert_noop!(Stake::delegate(origin(1), 1, 50), Error::<Test>::CannotDelegateToSelf);
		assert_noop!(Stake::delegate(origin(6), 1, 0), Error::<Test>::ZeroAmount);
		assert_noop!(Stake::delegate(origin(6), 1, 4), Error::<Test>::DelegationBelowMinimum);
		assert_noop!(Stake::delegate(origin(6), 1, 10_001), Error::<Test>::InsufficientFunds);
		// Per-delegator bound (2).
		candidate(2);
		candidate(3);
		assert_ok!(Stake::delegate(origin(6), 1, 10));
		assert_ok!(Stake::delegate(origin(6), 2, 10));
		assert_noop!(Stake::delegate(origin(6), 3, 10), Error::<Test>::TooManyDelegations);
		// Per-validator bound (4).
		for d in [7, 8, 9] {
			assert_ok!(Stake::delegate(origin(d), 1, 10));
		}
		// Full: only a larger delegation than the smallest gets in.
		assert_noop!(Stake::delegate(origin(5), 1, 10), Error::<Test>::DelegationTooSmallToEnter);
	});
}

#[test]
fn undelegate_unlocks_like_an_unbond() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 50));
		assert_noop!(Stake::undelegate(origin(6), 2, 10), Error::<Test>::NoDelegation);
		assert_noop!(Stake::undelegate(origin(6), 1, 0), Error::<Test>::ZeroAmount);
		assert_noop!(Stake::undelegate(origin(6), 1, 51), Error::<Test>::NotEnoughBonded);
		assert_noop!(Stake::undelegate(origin(6), 1, 47), Error::<Test>::DelegationBelowMinimum);
		assert_ok!(Stake::undelegate(origin(6), 1, 50));
		assert!(Delegations::<Test>::get(1, 6).is_none());
		assert_eq!(Stake::backing_of(&1), 200, "no longer backs the validator");
		assert!(Ledgers::<Test>::get(6).is_none(), "the chunk stays with the validator, not in a ledger");
		assert_eq!(Undelegating::<Test>::get(1, 6).to_vec(), vec![UnlockChunk { value: 50, unlock_in: 2 }]);
		assert_eq!(DelegationsOf::<Test>::get(6).to_vec(), vec![1], "the pair keeps its slot while unlocking");
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 1);
		assert_eq!(held(6), 50, "held until the chunk matures");
		assert_noop!(Stake::withdraw_unbonded(origin(6)), Error::<Test>::NothingToWithdraw);
		go_to_session(2);
		assert_ok!(Stake::withdraw_unbonded(origin(6)));
		assert_eq!(held(6), 0);
		assert_eq!(free(6), 10_000);
		assert!(DelegationsOf::<Test>::get(6).is_empty());
		assert!(!Undelegating::<Test>::contains_key(1, 6));
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 0, "the slot is freed");
		assert_noop!(Stake::withdraw_unbonded(origin(6)), Error::<Test>::NotBonded);
	});
}

#[test]
fn an_undelegating_delegator_still_pays_its_share_of_a_slash() {
	// The attack: a delegator sees its validator accused (a claim opens) and undelegates
	// everything before the verdict. Its funds are still unlocking, so the slash reaches them.
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::delegate(origin(7), 1, 100));
		assert_ok!(Stake::undelegate(origin(6), 1, 100));
		assert_ok!(Stake::undelegate(origin(7), 1, 40));
		let before = issuance();
		let out = Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, false).unwrap();
		assert_eq!(out.own, 20);
		assert_eq!(out.delegated, 10 + 10, "6's unlocking 100 and 7's 60 active + 40 unlocking");
		assert_eq!(held(6), 90);
		assert_eq!(held(7), 90);
		assert_eq!(Undelegating::<Test>::get(1, 6)[0].value, 90);
		assert_eq!(Undelegating::<Test>::get(1, 7)[0].value, 36);
		assert_eq!(Delegations::<Test>::get(1, 7), Some(54));
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegated, 54, "only active delegations back the validator");
		assert_eq!(issuance(), before, "slashed funds go to the treasury");
		assert_eq!(free(TREASURY), 1 + 40);
		go_to_session(2);
		assert_ok!(Stake::withdraw_unbonded(origin(6)));
		assert_eq!(free(6), 10_000 - 10, "6 withdraws what is left after the slash");
		assert_ok!(Stake::withdraw_unbonded(origin(7)));
		assert_eq!(held(7), 54);
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 1, "7 still delegates");
	});
}

#[test]
fn a_forfeit_takes_a_fixed_sum_of_the_own_bond_only() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::chill(origin(1)));
		assert_ok!(Stake::unbond(origin(1), 150));
		let rep = Stake::reputation_of(&1);
		let before = issuance();
		// 50 active, 150 unlocking: 60 is taken from the active 50, then 10 from the unlocking.
		assert_eq!(Stake::forfeit(&1, 60, SlashReason::UndecidedClaim), 60);
		let ledger = Ledgers::<Test>::get(1).unwrap();
		assert_eq!((ledger.active, ledger.unlocking[0].value), (0, 140));
		assert_eq!(held(1), 140);
		assert_eq!(held(6), 100, "the delegators did not open the claim");
		assert_eq!(Stake::reputation_of(&1), rep, "a bond, not a slash: reputation untouched");
		assert!(events().contains(&Event::Forfeited { who: 1, amount: 60, reason: SlashReason::UndecidedClaim }));
		assert_eq!(issuance(), before, "forfeits go to the treasury");
		// More than is bonded: only what is there.
		assert_eq!(Stake::forfeit(&1, 1_000, SlashReason::UndecidedClaim), 140);
		assert!(Ledgers::<Test>::get(1).is_none());
		assert_eq!(Stake::forfeit(&1, 1, SlashReason::UndecidedClaim), 0, "nothing left to take");
	});
}

#[test]
fn a_full_slash_of_an_unlocking_delegation_ends_the_pair() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::undelegate(origin(6), 1, 100));
		assert_ok!(Stake::slash(&1, Perbill::one(), SlashReason::Governance, false));
		assert_eq!(held(6), 0);
		assert!(!Undelegating::<Test>::contains_key(1, 6));
		assert!(DelegationsOf::<Test>::get(6).is_empty());
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 0);
	});
}

#[test]
fn an_unlocking_delegation_keeps_its_slot_through_a_chill_and_a_new_candidacy() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 50));
		assert_ok!(Stake::delegate(origin(7), 1, 50));
		assert_ok!(Stake::undelegate(origin(6), 1, 50));
		assert_ok!(Stake::chill(origin(1)));
		assert_ok!(Stake::validate(origin(1), Perbill::from_percent(10)));
		let c = Candidates::<Test>::get(1).unwrap();
		assert_eq!((c.delegated, c.delegators), (50, 2), "6's unlocking pair still counts");
		// Delegating again while unlocking reuses the pair's slot.
		assert_ok!(Stake::delegate(origin(6), 1, 20));
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 2);
		assert_eq!(DelegationsOf::<Test>::get(6).to_vec(), vec![1]);
		go_to_session(2);
		assert_ok!(Stake::withdraw_unbonded(origin(6)));
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 2, "6 still delegates 20");
		assert_eq!(held(6), 20);
	});
}

// ---- reputation ----

#[test]
fn a_fresh_account_starts_at_the_validator_minimum_and_must_earn_its_way_up() {
	// The attack: a validator slashed to a low reputation bonds again under a new account to
	// start over at the neutral score. A new account starts at the validator minimum instead.
	new_test_ext().execute_with(|| {
		InitialReputation::set(300_000);
		candidate(1);
		Stake::penalize(&1, 150_000, ReputationReason::Slashed);
		assert_eq!(Stake::reputation(&6), 300_000, "a fresh account");
		// Eligible (exactly at the minimum), but with less weight than a neutral peer of equal
		// stake: 200·1.3 : 200·1.5.
		set_keys(6, true);
		candidate(6);
		candidate(2);
		Stake::set(&2, NEUTRAL, ReputationReason::Governance);
		Stake::new_session(1);
		assert_eq!(weights(1), vec![(2, 535_714_285), (6, 464_285_714)]);
		// Once it earns, it recovers toward neutral like a penalty, never past it.
		Stake::reward(&6, 1_000, ReputationReason::ClaimAccepted);
		go_to_session(10);
		let later = Stake::reputation(&6);
		assert!(later > 301_000 && later < NEUTRAL, "{later}");
	});
}

#[test]
fn reputation_changes_emit_events_and_saturate() {
	new_test_ext().execute_with(|| {
		assert_eq!(Stake::reputation(&1), NEUTRAL);
		Stake::reward(&1, 600_000, ReputationReason::ClaimAccepted);
		assert_eq!(Stake::reputation(&1), 1_000_000);
		Stake::penalize(&1, 2_000_000, ReputationReason::ClaimRejected);
		assert_eq!(Stake::reputation(&1), 0);
		assert_eq!(
			events(),
			vec![
				Event::ReputationChanged { who: 1, old: NEUTRAL, new: 1_000_000, reason: ReputationReason::ClaimAccepted },
				Event::ReputationChanged { who: 1, old: 1_000_000, new: 0, reason: ReputationReason::ClaimRejected },
			]
		);
	});
}

#[test]
fn set_reputation_is_root_only_and_bounded() {
	new_test_ext().execute_with(|| {
		assert_noop!(Stake::set_reputation(origin(1), 1, 10), DispatchError::BadOrigin);
		assert_noop!(Stake::set_reputation(RuntimeOrigin::root(), 1, 1_000_001), Error::<Test>::ReputationOutOfRange);
		assert_ok!(Stake::set_reputation(RuntimeOrigin::root(), 1, 900_000));
		assert_eq!(Stake::reputation(&1), 900_000);
	});
}

#[test]
fn reputation_decays_toward_neutral_each_session() {
	new_test_ext().execute_with(|| {
		Stake::set(&1, 900_000, ReputationReason::Governance);
		go_to_session(1);
		assert_eq!(Stake::reputation(&1), 860_000);
		go_to_session(3);
		assert_eq!(Stake::reputation(&1), 791_600);
	});
}

#[test]
fn reputation_gains_are_capped_per_session() {
	// The attack: a flood of small rewards in one session (wash trades, self-answered queries,
	// or anything else that slips past the markets' rules). Whatever their number, the
	// reputation rises by at most the cap a session.
	new_test_ext().execute_with(|| {
		MaxGainPerSession::set(20_000);
		for _ in 0..100 {
			Stake::reward(&1, 1_000, ReputationReason::VotedWithOutcome);
		}
		assert_eq!(Stake::reputation(&1), NEUTRAL + 20_000);
		assert!(events().contains(&Event::ReputationGainCapped { who: 1, requested: 1_000, granted: 0, reason: ReputationReason::VotedWithOutcome }));
		// Penalties are never capped, and do not free room for more gains.
		Stake::penalize(&1, 5_000, ReputationReason::ClaimRejected);
		Stake::reward(&1, 1_000, ReputationReason::VotedWithOutcome);
		assert_eq!(Stake::reputation(&1), NEUTRAL + 15_000);
		// Another account has its own allowance; so does the next session (the gain above
		// neutral decays 10 % first).
		Stake::reward(&2, 25_000, ReputationReason::ClaimAccepted);
		assert_eq!(Stake::reputation(&2), NEUTRAL + 20_000);
		go_to_session(1);
		assert_eq!(Stake::reputation(&1), NEUTRAL + 13_500);
		Stake::reward(&1, 30_000, ReputationReason::ClaimAccepted);
		assert_eq!(Stake::reputation(&1), NEUTRAL + 33_500);
		// Governance sets a score; that is no gain and has no cap.
		Stake::set(&1, 900_000, ReputationReason::Governance);
		assert_eq!(Stake::reputation(&1), 900_000);
	});
}

#[test]
fn a_penalty_fades_slower_than_a_gain() {
	// A cheat must not wait its penalty away as fast as an honest gain fades: 10 % of the
	// distance to neutral a session above it, 5 % below (the mock's rates).
	new_test_ext().execute_with(|| {
		Stake::set(&1, NEUTRAL + 100_000, ReputationReason::Governance);
		Stake::set(&2, NEUTRAL - 100_000, ReputationReason::Governance);
		go_to_session(1);
		assert_eq!(Stake::reputation(&1), NEUTRAL + 90_000);
		assert_eq!(Stake::reputation(&2), NEUTRAL - 95_000);
	});
}

// ---- election ----

#[test]
fn the_election_weights_backing_by_reputation() {
	new_test_ext_with(vec![(1, 100, NEUTRAL, true), (2, 200, NEUTRAL, true), (3, 500, NEUTRAL, true)]).execute_with(|| {
		// 1 : 2 : 5 for block production; for finality the 60 % cap cuts the largest share
		// (62.5 %) to 60 % and the others keep their 1 : 2 ratio.
		assert_eq!(Stake::new_session(1), Some(vec![3, 2, 1]));
		assert_eq!(weights(1), vec![(3, 625_000_000), (2, 250_000_000), (1, 125_000_000)]);
		assert_eq!(finality(1), vec![(3, 600_000_000), (2, 266_666_666), (1, 133_333_333)]);
		// Doubling Bob's reputation (neutral to the maximum) raises his weight by a third:
		// 500·1.5 : 200·2 : 100·1.5 = 750 : 400 : 150.
		Stake::set(&2, 2 * NEUTRAL, ReputationReason::Governance);
		Stake::new_session(2);
		assert_eq!(weights(2), vec![(3, 576_923_076), (2, 307_692_307), (1, 115_384_615)]);
	});
}

#[test]
fn the_election_skips_ineligible_candidates_and_keeps_the_set_when_none_is_eligible() {
	new_test_ext_with(vec![(1, 100, NEUTRAL, true), (2, 200, NEUTRAL, true)]).execute_with(|| {
		assert_eq!(Stake::new_session(1), Some(vec![2, 1]));
		set_keys(2, false);
		assert_eq!(Stake::new_session(2), Some(vec![1]));
		Stake::set(&1, 0, ReputationReason::Governance);
		System::reset_events();
		assert_eq!(Stake::new_session(3), None);
		assert_eq!(events(), vec![Event::ElectionKeptCurrentSet { session: 3, eligible: 0, required: 1 }]);
		assert_eq!(weights(3), weights(2));
	});
}

#[test]
fn the_election_takes_the_top_n() {
	new_test_ext_with(vec![(1, 100, NEUTRAL, true), (2, 400, NEUTRAL, true), (3, 300, NEUTRAL, true), (4, 200, NEUTRAL, true)]).execute_with(|| {
		assert_eq!(Stake::new_session(1), Some(vec![2, 3, 4]));
	});
}

// ---- slashing ----

#[test]
fn slashing_cuts_bond_and_delegations_pro_rata_into_the_treasury() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::unbond(origin(1), 100)); // 100 active + 100 unlocking
		let before = issuance();
		let out = Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, true).unwrap();
		assert_eq!((out.own, out.delegated), (20, 10));
		assert_eq!(held(1), 180);
		assert_eq!(held(6), 90);
		assert_eq!(Delegations::<Test>::get(1, 6), Some(90));
		assert_eq!(free(TREASURY), 1 + 30);
		assert_eq!(issuance(), before, "slashing to the treasury keeps issuance");
		assert_eq!(Stake::reputation(&1), NEUTRAL - 100_000);
		assert!(Candidates::<Test>::get(1).is_none(), "chilled");
		let ledger = Ledgers::<Test>::get(1).unwrap();
		assert_eq!((ledger.active, ledger.unlocking[0].value), (90, 90));
	});
}

#[test]
fn slashing_with_burning_reduces_issuance_by_exactly_the_slash() {
	new_test_ext().execute_with(|| {
		burn_slashes(true);
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		let before = issuance();
		let out = Stake::slash(&1, Perbill::from_percent(50), SlashReason::ForgedAnswer, false).unwrap();
		assert_eq!(issuance(), before - out.own - out.delegated);
		assert_eq!(out.own + out.delegated, 150);
		assert!(Candidates::<Test>::get(1).is_some(), "not chilled");
	});
}

#[test]
fn force_slash_is_root_only() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_noop!(Stake::force_slash(origin(2), 1, Perbill::from_percent(10), false), DispatchError::BadOrigin);
		assert_noop!(Stake::force_slash(RuntimeOrigin::root(), 7, Perbill::from_percent(10), false), Error::<Test>::NotBonded);
		assert_ok!(Stake::force_slash(RuntimeOrigin::root(), 1, Perbill::from_percent(10), false));
		assert_eq!(held(1), 180);
	});
}

#[test]
fn a_slashed_validator_weighs_less_at_the_next_election() {
	new_test_ext_with(vec![(1, 400, NEUTRAL, true), (2, 400, NEUTRAL, true)]).execute_with(|| {
		Stake::new_session(1);
		assert_eq!(weights(1), vec![(1, 500_000_000), (2, 500_000_000)]);
		Stake::slash(&1, Perbill::from_percent(50), SlashReason::Governance, false).unwrap();
		Stake::new_session(2);
		// 200 × (1M + 400k) against 400 × (1M + 500k): 280 : 600.
		assert_eq!(weights(2), vec![(2, 681_818_181), (1, 318_181_818)]);
		// For finality Bob's 71 % is capped at 60 %.
		assert_eq!(finality(2), vec![(2, 600_000_000), (1, 400_000_000)]);
	});
}

// ---- genesis ----

#[test]
fn genesis_stakers_are_bonded_and_candidates() {
	new_test_ext_with(vec![(1, 100, 700_000, true), (6, 50, NEUTRAL, false)]).execute_with(|| {
		assert_eq!(held(1), 100);
		assert_eq!(Stake::reputation(&1), 700_000);
		assert!(Candidates::<Test>::get(1).is_some());
		assert!(Candidates::<Test>::get(6).is_none());
		assert_eq!(Ledgers::<Test>::get(6).unwrap().active, 50);
	});
}

// ---- what the voting and rewards pallets read ----

#[test]
fn voter_set_is_the_current_sessions_validators_with_backing_and_reputation() {
	use loopx_primitives::{StakeExposure, VoterInfo, VoterSet};
	new_test_ext().execute_with(|| {
		candidate(1);
		candidate(2);
		assert_ok!(Stake::delegate(origin(6), 1, 50));
		assert_ok!(Stake::set_reputation(RuntimeOrigin::root(), 2, 800_000));
		Stake::new_session(1);
		go_to_session(1);
		assert_eq!(<Stake as VoterSet<AccountId>>::current_session(), 1);
		let mut voters = <Stake as VoterSet<AccountId>>::voters();
		voters.sort_by_key(|v| v.who);
		assert_eq!(
			voters,
			vec![
				VoterInfo { who: 1, stake: 250, reputation: NEUTRAL },
				// 800,000 decayed by 10 % of its distance to neutral over one session.
				VoterInfo { who: 2, stake: 200, reputation: 770_000 },
			]
		);
		// Candidates report their commission, own bond and delegations; others nothing.
		let e = <Stake as StakeExposure<AccountId>>::exposure(&1).unwrap();
		assert_eq!((e.commission, e.own, e.delegations), (Perbill::from_percent(10), 200, vec![(6, 50)]));
		assert!(<Stake as StakeExposure<AccountId>>::exposure(&6).is_none());
	});
}

#[test]
fn the_first_sessions_keep_their_weights() {
	new_test_ext().execute_with(|| {
		candidate(1);
		Stake::new_session(0);
		go_to_session(0);
		assert_eq!(weights(0).len(), 1);
		Stake::new_session(1);
		go_to_session(1);
		assert_eq!((weights(0).len(), weights(1).len()), (1, 1));
		Stake::new_session(2);
		go_to_session(2);
		assert_eq!((weights(0).len(), weights(2).len()), (0, 1));
	});
}

// ---- deferred slashes ----

#[test]
fn a_deferred_slash_takes_its_funds_at_its_session_and_the_penalty_at_once() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		let (before, rep) = (issuance(), Stake::reputation_of(&1));
		let out = Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, true).unwrap();
		assert_eq!((out.own, out.delegated), (0, 0), "nothing taken yet");
		assert_eq!((held(1), held(6)), (200, 100));
		assert_eq!(Stake::reputation_of(&1), rep - 100_000, "the penalty applies at the report");
		assert!(!Candidates::<Test>::contains_key(1), "and so does the chill");
		assert!(events().contains(&Event::SlashDeferred {
			who: 1,
			fraction: Perbill::from_percent(10),
			reason: SlashReason::ForgedLearning,
			apply_at: 1
		}));
		go_to_session(1);
		assert_eq!((held(1), held(6)), (180, 90));
		assert_eq!(issuance(), before, "slashed funds go to the treasury");
		assert_eq!(free(TREASURY), 1 + 30);
		assert_eq!(PendingSlashes::<Test>::get(1), 0);
		assert_eq!(DeferredSlashes::<Test>::get(1).len(), 0);
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn a_delegator_cannot_withdraw_out_of_a_pending_slash() {
	// The attack: a delegator whose undelegated funds have matured sees `SlashDeferred` name
	// its validator and withdraws before the funds are taken.
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::undelegate(origin(6), 1, 100));
		assert_ok!(Stake::unbond(origin(1), 50));
		go_to_session(2);
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, false).unwrap();
		assert_noop!(Stake::withdraw_unbonded(origin(6)), Error::<Test>::SlashPending);
		assert_noop!(Stake::withdraw_unbonded(origin(1)), Error::<Test>::SlashPending);
		go_to_session(3);
		assert_ok!(Stake::withdraw_unbonded(origin(6)));
		assert_eq!(free(6), 10_000 - 10, "the slash reached the matured chunk");
		assert_ok!(Stake::withdraw_unbonded(origin(1)));
		assert_eq!(free(1), 10_000 - 200 + 45, "the validator's own matured chunk was cut too (5 of its 50)");
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn nobody_joins_a_validator_with_a_pending_slash_and_pays_for_its_past() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		Stake::slash(&1, Perbill::from_percent(50), SlashReason::ForgedLearning, false).unwrap();
		assert_noop!(Stake::delegate(origin(7), 1, 100), Error::<Test>::SlashPending);
		assert_noop!(Stake::delegate(origin(6), 1, 100), Error::<Test>::SlashPending);
		go_to_session(1);
		assert_eq!(held(6), 50);
		assert_ok!(Stake::delegate(origin(7), 1, 100));
		assert_eq!(held(7), 100);
	});
}

#[test]
fn only_the_cancel_origin_cancels_a_deferred_slash_and_then_nothing_is_taken() {
	new_test_ext().execute_with(|| {
		candidate(1);
		candidate(2);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, false).unwrap();
		Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedAnswer, false).unwrap();
		Stake::slash(&2, Perbill::from_percent(10), SlashReason::ForgedAnswer, false).unwrap();
		assert_eq!(PendingSlashes::<Test>::get(1), 2);
		// The offender, its delegators and root are not the cancel origin here.
		for who in [origin(1), origin(6), RuntimeOrigin::root()] {
			assert_noop!(Stake::cancel_deferred_slash(who, 1, 1), DispatchError::BadOrigin);
		}
		let canceller = origin(SlashCanceller::get());
		assert_noop!(Stake::cancel_deferred_slash(canceller.clone(), 2, 1), Error::<Test>::NoDeferredSlash);
		assert_noop!(Stake::cancel_deferred_slash(canceller.clone(), 1, 3), Error::<Test>::NoDeferredSlash);
		let before = issuance();
		assert_ok!(Stake::cancel_deferred_slash(canceller, 1, 1));
		assert!(events().contains(&Event::DeferredSlashCancelled { who: 1, apply_at: 1, count: 2 }));
		assert_eq!(PendingSlashes::<Test>::get(1), 0);
		Stake::do_try_state().unwrap();
		go_to_session(1);
		assert_eq!((held(1), held(6)), (200, 100), "1's slashes were cancelled");
		assert_eq!(held(2), 180, "2's was not");
		assert_eq!(issuance(), before);
		assert_ok!(Stake::delegate(origin(7), 1, 100));
	});
}

#[test]
fn a_full_session_queue_slashes_at_once_and_the_deferral_is_bounded() {
	new_test_ext().execute_with(|| {
		for who in 1..=4 {
			candidate(who);
		}
		assert_noop!(Stake::set_slash_defer_sessions(origin(1), 1), DispatchError::BadOrigin);
		// BondingDuration is 2 sessions here: a deferral must end before funds could unlock.
		assert_noop!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 2), Error::<Test>::DeferNotBelowBondingDuration);
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		assert_eq!(events().last(), Some(&Event::SlashDeferSessionsSet { sessions: 1 }));
		for who in 1..=4 {
			Stake::slash(&who, Perbill::from_percent(10), SlashReason::ForgedAnswer, false).unwrap();
		}
		// MaxDeferredSlashes is 3: the fourth is not dropped, it is taken now.
		assert_eq!((held(1), held(2), held(3), held(4)), (200, 200, 200, 180));
		assert_eq!(PendingSlashes::<Test>::get(4), 0);
		go_to_session(1);
		assert_eq!((held(1), held(2), held(3), held(4)), (180, 180, 180, 180));
		// Governance's own slash is never deferred.
		assert_ok!(Stake::force_slash(RuntimeOrigin::root(), 1, Perbill::from_percent(50), false));
		assert_eq!(held(1), 90);
		Stake::do_try_state().unwrap();
	});
}

// ---- offences proven by consensus (equivocations, through pallet-offences) ----

use sp_staking::offence::{OffenceDetails, OnOffenceHandler};

/// pallet-offences reporting `offenders` of `session`, each with its fraction.
fn report(offenders: &[(AccountId, u32)], session: u32) {
	let details: Vec<OffenceDetails<AccountId, (AccountId, ())>> =
		offenders.iter().map(|(who, _)| OffenceDetails { offender: (*who, ()), reporters: vec![9] }).collect();
	let fractions: Vec<Perbill> = offenders.iter().map(|(_, pct)| Perbill::from_percent(*pct)).collect();
	let _: frame_support::weights::Weight = <Stake as OnOffenceHandler<AccountId, (AccountId, ()), _>>::on_offence(&details, &fractions, session);
}

#[test]
fn an_equivocation_slashes_chills_and_disables_the_offender_and_its_delegators() {
	// Before this, a double-signing validator kept its stake, candidacy and weight.
	new_test_ext().execute_with(|| {
		candidate(1);
		candidate(2);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		let (before, rep) = (issuance(), Stake::reputation_of(&1));
		report(&[(1, 10)], 0);
		assert_eq!((held(1), held(6)), (180, 90), "10 % of the bond and of the delegation");
		assert_eq!(held(2), 200, "nobody else pays");
		assert_eq!(Stake::reputation_of(&1), rep - 100_000);
		assert!(!Candidates::<Test>::contains_key(1), "chilled");
		assert_eq!(disabled(), vec![(1, Perbill::from_percent(10))]);
		assert_eq!(issuance(), before, "the slashed funds go to the treasury");
		assert_eq!(free(TREASURY), 1 + 30);
		let ev = events();
		assert!(ev.contains(&Event::OffenceReported { who: 1, session: 0, fraction: Perbill::from_percent(10) }));
		assert!(ev.contains(&Event::Slashed {
			who: 1,
			fraction: Perbill::from_percent(10),
			own: 20,
			delegated: 10,
			reason: SlashReason::Equivocation
		}));
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn one_sessions_offences_cost_their_largest_fraction_not_the_sum() {
	// pallet-offences reports an offender again with each co-offender of the same slot (with the
	// larger group fraction), and BABE and GRANDPA may both report it: summing would let a second
	// account that equivocates on purpose multiply an honest mistake's slash.
	new_test_ext().execute_with(|| {
		candidate(1);
		candidate(2);
		report(&[(1, 20)], 0);
		assert_eq!(held(1), 160);
		report(&[(1, 20)], 0);
		report(&[(1, 10)], 0);
		assert_eq!(held(1), 160, "the same or a smaller fraction takes nothing more");
		report(&[(1, 50), (2, 50)], 0);
		assert_eq!(held(1), 100, "50 % of the original 200 in all");
		assert_eq!(held(2), 100);
		assert_eq!(disabled().len(), 3, "disabled at each larger fraction (the strategy keeps the highest)");
		// Another session's offence is another offence.
		go_to_session(1);
		report(&[(2, 10)], 1);
		assert_eq!(held(2), 90);
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn an_offence_past_the_bonding_duration_is_ignored_and_forgotten() {
	new_test_ext().execute_with(|| {
		candidate(1);
		report(&[(1, 10)], 0);
		assert_eq!(OffenceSlashes::<Test>::get(0, 1), Some(Perbill::from_percent(10)));
		go_to_session(1);
		go_to_session(2); // BondingDuration = 2: session 0's offences are out of reach now
		assert_eq!(OffenceSlashes::<Test>::get(0, 1), None, "pruned at the session's start");
		let held_before = held(1);
		report(&[(1, 50)], 0);
		assert_eq!(held(1), held_before);
		assert!(events().contains(&Event::OffenceTooOld { who: 1, session: 0 }));
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn a_deferred_equivocation_slash_can_be_cancelled_like_any_other() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		report(&[(1, 10)], 0);
		assert_eq!(held(1), 200, "deferred");
		assert_eq!(disabled(), vec![(1, Perbill::from_percent(10))], "but disabled at once");
		assert_ok!(Stake::cancel_deferred_slash(origin(SlashCanceller::get()), 1, 1));
		go_to_session(1);
		assert_eq!(held(1), 200);
		// The cancelled offence still counts as taken: a repeat report of it takes nothing.
		report(&[(1, 10)], 0);
		assert_eq!(PendingSlashes::<Test>::get(1), 0);
		Stake::do_try_state().unwrap();
	});
}

// ---- the largest delegations are kept ----

/// Fills validator 1's four delegation places (mock: `MaxDelegatorsPerValidator` = 4) with
/// `amounts` from accounts 6, 7, 8, 9.
fn fill_places(amounts: [Balance; 4]) {
	candidate(1);
	for (d, a) in [6, 7, 8, 9].into_iter().zip(amounts) {
		assert_ok!(Stake::delegate(origin(d), 1, a));
	}
}

#[test]
fn minimum_delegations_no_longer_close_a_validator_to_larger_backers() {
	// The attack: four minimum-sized delegations (5 each) took every place, and any real backer
	// got `TooManyDelegators`. Now a larger one takes the place of the smallest.
	new_test_ext().execute_with(|| {
		fill_places([5, 6, 5, 7]);
		let before = issuance();
		assert_ok!(Stake::delegate(origin(5), 1, 500));
		assert_eq!(Delegations::<Test>::get(1, 5), Some(500));
		// The smallest (5; account 6 comes before account 8 among equals in storage order, or
		// the other way round: exactly one of them) was undelegated, not released.
		let evicted: Vec<_> = [6, 8].into_iter().filter(|d| Delegations::<Test>::get(1, d).is_none()).collect();
		assert_eq!(evicted.len(), 1);
		let loser = evicted[0];
		assert_eq!(Undelegating::<Test>::get(1, loser).iter().map(|c| c.value).sum::<Balance>(), 5);
		assert_eq!(held(loser), 5, "still held while it unlocks");
		assert!(events().contains(&Event::DelegationEvicted { validator: 1, delegator: loser, amount: 5, unlock_in: 2 }));
		let c = Candidates::<Test>::get(1).unwrap();
		assert_eq!((c.delegated, c.delegators), (5 + 6 + 7 + 500, 5), "four active, one unlocking");
		assert_eq!(issuance(), before);
		// Still slashable for the validator's offences until it matures.
		Stake::slash(&1, Perbill::from_percent(20), SlashReason::ForgedLearning, false).unwrap();
		assert_eq!(held(loser), 4);
		Stake::do_try_state().unwrap();
		// Matured, it is withdrawn and frees its delegator slot.
		go_to_session(2);
		assert_ok!(Stake::withdraw_unbonded(origin(loser)));
		assert_eq!(Candidates::<Test>::get(1).unwrap().delegators, 4);
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn a_delegation_no_larger_than_the_smallest_is_refused_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		fill_places([5, 6, 7, 8]);
		assert_noop!(Stake::delegate(origin(5), 1, 5), Error::<Test>::DelegationTooSmallToEnter);
		// Adding to an existing delegation needs no place.
		assert_ok!(Stake::delegate(origin(6), 1, 1));
		assert_eq!(Delegations::<Test>::get(1, 6), Some(6));
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn delegators_still_unlocking_are_bounded_at_as_many_again() {
	// Eight delegator slots in all (twice the four places): evictions fill the other four, and
	// then nobody new gets in until one of them has withdrawn.
	new_test_ext().execute_with(|| {
		for d in 10..=14 {
			assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), d, 10_000));
		}
		fill_places([5, 6, 7, 8]);
		for (d, a) in [(10, 100), (11, 101), (12, 102), (13, 103)] {
			assert_ok!(Stake::delegate(origin(d), 1, a));
		}
		let c = Candidates::<Test>::get(1).unwrap();
		assert_eq!(c.delegators, 8);
		assert_noop!(Stake::delegate(origin(14), 1, 1_000), Error::<Test>::TooManyDelegators);
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn an_evicted_delegation_with_full_unlocking_chunks_joins_the_last_one() {
	new_test_ext().execute_with(|| {
		fill_places([50, 60, 70, 80]);
		// Account 6 fills its three chunks (mock: `MaxUnlockingChunks` = 3), one per session.
		for session in 0..3 {
			go_to_session(session);
			assert_ok!(Stake::undelegate(origin(6), 1, 10));
		}
		assert_eq!(Delegations::<Test>::get(1, 6), Some(20));
		go_to_session(3); // an eviction now unlocks at 5, later than every chunk
		assert_ok!(Stake::delegate(origin(5), 1, 100));
		let chunks = Undelegating::<Test>::get(1, 6);
		assert_eq!(chunks.len(), 3);
		assert_eq!(chunks.last().map(|c| (c.value, c.unlock_in)), Some((30, 5)), "10 + the evicted 20, unlocking at 3 + 2");
		assert_eq!(held(6), 50);
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn an_offence_is_paid_by_the_stake_that_backed_it_not_by_stake_that_came_later_or_left_before() {
	// Before this, a report reached every delegation at the report (one made after the double
	// signing paid for it) and every unlocking chunk (one that had left before it paid too).
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::delegate(origin(7), 1, 100));
		assert_ok!(Stake::undelegate(origin(7), 1, 100)); // 7 leaves in session 0
		assert_ok!(Stake::unbond(origin(1), 50)); // so does part of 1's own bond
		go_to_session(1); // 1 double-signs in session 1
		go_to_session(2);
		assert_ok!(Stake::undelegate(origin(6), 1, 50)); // 6 leaves after it: still pays
		assert_ok!(Stake::delegate(origin(8), 1, 100)); // 8 joins after it: does not
		report(&[(1, 10)], 1);
		assert_eq!(held(1), 150 - 15 + 50, "10 % of the active bond; the chunk unbonded before the offence is spared");
		assert_eq!(held(6), 90, "6 backed the offence: 10 % of its active 50 and unlocking 50");
		assert_eq!(held(7), 100, "7 had left before it");
		assert_eq!(held(8), 100, "8 joined after it");
		assert!(events().contains(&Event::Slashed {
			who: 1,
			fraction: Perbill::from_percent(10),
			own: 15,
			delegated: 10,
			reason: SlashReason::Equivocation
		}));
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn a_claims_verdict_is_paid_by_the_stake_that_backed_the_claimant_when_it_submitted() {
	// The attack: a delegator sees a claim against its validator (public for its 40 blocks)
	// and leaves, or a newcomer joins after it and pays for work it never backed.
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		go_to_session(1); // 1 submits a forged update in session 1
		go_to_session(2);
		assert_ok!(Stake::undelegate(origin(6), 1, 100)); // 6 runs: still pays
		assert_ok!(Stake::delegate(origin(8), 1, 100)); // 8 joins: does not
		let out = <Stake as Slashing<_, _>>::slash_backing(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, false, Some(1)).unwrap();
		assert_eq!(out.delegated, 10);
		assert_eq!(held(6), 90, "6 backed the claim and left during the vote: 10 % of its unlocking 100");
		assert_eq!(held(8), 100, "8 joined after the claim was submitted");
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn a_deferred_offence_slash_spares_at_its_application_who_did_not_back_the_offence() {
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::delegate(origin(7), 1, 100));
		assert_ok!(Stake::undelegate(origin(7), 1, 100)); // 7 leaves in session 0
		go_to_session(1); // the offence
		assert_ok!(Stake::delegate(origin(9), 1, 100)); // 9 joins in the offence's session: pays
		go_to_session(2);
		assert_ok!(Stake::delegate(origin(8), 1, 100)); // 8 joins after it, before the report
		report(&[(1, 10)], 1);
		assert_eq!(held(6), 100, "deferred");
		go_to_session(3);
		assert_eq!((held(1), held(6), held(7), held(8), held(9)), (180, 90, 100, 100, 90));
		Stake::do_try_state().unwrap();
	});
}

#[test]
fn a_claims_slash_still_reaches_every_delegation_and_unlocking_chunk() {
	// A verdict names no session: whoever backs the validator now, or left and is unlocking,
	// pays (the newcomer guard keeps delegations away from an accused validator meanwhile).
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(7), 1, 100));
		assert_ok!(Stake::undelegate(origin(7), 1, 100));
		go_to_session(1);
		assert_ok!(Stake::delegate(origin(8), 1, 100));
		assert_ok!(Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, false));
		assert_eq!((held(7), held(8)), (90, 90));
	});
}

#[test]
fn the_v1_migration_gives_queued_deferred_slashes_no_offence_session_once() {
	use codec::Encode;
	use frame_support::{
		storage::unhashed,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	new_test_ext().execute_with(|| {
		candidate(1);
		assert_ok!(Stake::delegate(origin(6), 1, 100));
		assert_ok!(Stake::set_slash_defer_sessions(RuntimeOrigin::root(), 1));
		assert_ok!(Stake::slash(&1, Perbill::from_percent(10), SlashReason::ForgedLearning, false));
		// As storage version 0 wrote it: the same slash without its offence session.
		let key = DeferredSlashes::<Test>::hashed_key_for(1);
		let old = vec![crate::migrations::v1::OldDeferredSlash {
			who: 1u64,
			fraction: Perbill::from_percent(10),
			reason: SlashReason::ForgedLearning,
			reported_in: 0,
		}];
		unhashed::put_raw(&key, &old.encode());
		StorageVersion::new(0).put::<Stake>();

		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Stake::on_chain_storage_version(), StorageVersion::new(1));
		let queued = DeferredSlashes::<Test>::get(1);
		assert_eq!(queued.len(), 1);
		assert_eq!((queued[0].who, queued[0].reported_in, queued[0].offence_in), (1, 0, None));
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");
		go_to_session(1);
		assert_eq!(held(6), 90, "taken as before");
		Stake::do_try_state().unwrap();
	});
}
