//! Unit tests: emission, budgets, payouts with delegators, expiry, fees, parameters.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Balanced, Inspect as _},
		tokens::{Fortitude, Precision, Preservation},
		OnUnbalanced,
	},
};
use loopx_primitives::ContributionCategory as C;
use sp_runtime::DispatchError;

type RewardsSink = Pallet<Test>;

fn note(who: AccountId, c: C, points: u64) {
	<RewardsSink as ContributionSink<AccountId>>::note(&who, c, points);
}

/// Era 0 with authoring points 3 (account 1) and 1 (account 2) and 5 verification points
/// (account 2), ended at block 10: issuance 9,000,110 at 10 % a year over 10 of 10,000 blocks
/// mints 900; authoring gets 40 % (360), verification 15 % (135), the rest (405) carries over.
fn first_era() {
	note(1, C::BlockAuthoring, 3);
	note(2, C::BlockAuthoring, 1);
	note(2, C::Verification, 5);
	run_to(9);
	next_session();
}

#[test]
fn points_accumulate_by_era_and_category() {
	new_test_ext().execute_with(|| {
		note(1, C::Learning, 2);
		note(1, C::Learning, 3);
		note(1, C::Routing, 1);
		note(2, C::Learning, 0);
		assert_eq!(AccountPoints::<Test>::get(0, 1), Some([0, 5, 0, 0, 0, 1, 0]));
		assert_eq!(AccountPoints::<Test>::get(0, 2), None);
		assert_eq!(EraPoints::<Test>::get(0), [0, 5, 0, 0, 0, 1, 0]);
	});
}

#[test]
fn an_era_ends_with_minting_and_budgets() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		assert_eq!(issuance, 9_000_110);
		first_era();
		assert_eq!(CurrentEra::<Test>::get(), 1);
		assert_eq!(EraStart::<Test>::get(), (1, 10));
		let summary = Eras::<Test>::get(0).unwrap();
		assert_eq!(summary.minted, 900);
		assert_eq!(summary.budgets, [360, 0, 135, 0, 0, 0, 0]);
		assert_eq!((summary.allocated, summary.carried_out, summary.carried_in), (495, 405, 0));
		assert_eq!(Balances::total_issuance(), issuance + 900);
		assert_eq!(free(pot()), ED + 900);
		assert_eq!(Liabilities::<Test>::get(), 495);
		assert_eq!(CarriedOver::<Test>::get(), 405);
		assert!(events().contains(&Event::EraEnded { era: 0, summary }));
	});
}

#[test]
fn no_era_ends_within_its_sessions() {
	new_test_ext().execute_with(|| {
		run_to(50);
		assert_eq!(CurrentEra::<Test>::get(), 0);
		assert_ok!(Rewards::set_params(RuntimeOrigin::root(), RewardParams { sessions_per_era: 2, ..params() }));
		next_session();
		assert_eq!(CurrentEra::<Test>::get(), 0);
		next_session();
		assert_eq!(CurrentEra::<Test>::get(), 1);
	});
}

#[test]
fn claiming_pays_by_points_and_only_once() {
	new_test_ext().execute_with(|| {
		first_era();
		let before = (free(1), free(2));
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0));
		// 360 × 3/4.
		assert_eq!(free(1), before.0 + 270);
		assert!(events().contains(&Event::Rewarded { era: 0, who: 1, amount: 270 }));
		assert_noop!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0), Error::<Test>::NothingToClaim);
		// Anyone can pay account 2: 360 × 1/4 + 135.
		assert_ok!(Rewards::payout_for(RuntimeOrigin::signed(7), 0, 2));
		assert_eq!(free(2), before.1 + 225);
		assert_eq!(Eras::<Test>::get(0).unwrap().paid, 495);
		assert_eq!(Liabilities::<Test>::get(), 0);
		assert_eq!(free(pot()), ED + 405);
	});
}

#[test]
fn claim_failures() {
	new_test_ext().execute_with(|| {
		note(1, C::Learning, 1);
		assert_noop!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0), Error::<Test>::EraNotEnded);
		assert_noop!(Rewards::payout_for(RuntimeOrigin::none(), 0, 1), DispatchError::BadOrigin);
		first_era();
		assert_noop!(Rewards::claim_rewards(RuntimeOrigin::signed(3), 0), Error::<Test>::NothingToClaim);
		assert_noop!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 1), Error::<Test>::EraNotEnded);
		next_session();
		next_session();
		// Era 0 expired at the end of era 2.
		assert_noop!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0), Error::<Test>::EraExpired);
	});
}

#[test]
fn a_validators_reward_is_shared_with_its_delegators() {
	new_test_ext().execute_with(|| {
		// Commission 10 %, own 40, delegations 50 (account 5) and 10 (account 6).
		set_exposure(1, Perbill::from_percent(10), 40, vec![(5, 50), (6, 10)]);
		first_era();
		let before = [free(1), free(5), free(6)];
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0));
		// 270: commission 27, 243 over backing 100 → 121 (5), 24 (6), the rest 125 to 1.
		assert_eq!([free(1) - before[0], free(5) - before[1], free(6) - before[2]], [125, 121, 24]);
		assert!(events().contains(&Event::DelegatorRewarded { era: 0, validator: 1, delegator: 5, amount: 121 }));
		assert!(events().contains(&Event::Rewarded { era: 0, who: 1, amount: 125 }));
		assert_eq!(Eras::<Test>::get(0).unwrap().paid, 270);
	});
}

#[test]
fn a_payout_is_charged_for_the_delegators_it_paid_not_the_most_there_could_be() {
	use crate::weights::WeightInfo;
	use frame_support::dispatch::GetDispatchInfo;
	new_test_ext().execute_with(|| {
		set_exposure(1, Perbill::from_percent(10), 40, vec![(5, 50), (6, 10)]);
		first_era();
		let call = RuntimeCall::Rewards(crate::Call::claim_rewards { era: 0 });
		let charged = call.get_dispatch_info().call_weight;
		assert_eq!(charged, <() as WeightInfo>::payout(4), "charged up front for MaxDelegators (4)");
		let post = Rewards::claim_rewards(RuntimeOrigin::signed(1), 0).expect("paid");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::payout(2)), "two delegators paid: the rest refunded");
		// Anyone paying out a validator without delegators pays for none.
		note(2, C::BlockAuthoring, 1);
		set_exposure(2, Perbill::zero(), 40, vec![]);
		run_to(19);
		next_session();
		let post = Rewards::payout_for(RuntimeOrigin::signed(9), 1, 2).expect("paid");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::payout(0)));
	});
}

#[test]
fn what_happens_after_the_era_does_not_move_its_rewards_between_validator_and_delegators() {
	// The attacks: a validator earns with its delegators' backing at 10 % commission, then
	// raises the commission to 100 % (or chills) before its era's payout; a whale delegates
	// just before a payout to take a share of an era it never backed. Before, the payout read
	// the exposure at payout time, so each of them worked.
	let shares = |after: &dyn Fn()| {
		new_test_ext().execute_with(|| {
			set_exposure(1, Perbill::from_percent(10), 40, vec![(5, 50), (6, 10)]);
			first_era();
			after();
			let before = [free(1), free(5), free(6), free(7)];
			assert_ok!(Rewards::payout_for(RuntimeOrigin::signed(9), 0, 1));
			[free(1) - before[0], free(5) - before[1], free(6) - before[2], free(7) - before[3]]
		})
	};
	let honest = shares(&|| {});
	assert_eq!(honest, [125, 121, 24, 0]);
	assert_eq!(shares(&|| set_exposure(1, Perbill::one(), 40, vec![(5, 50), (6, 10)])), honest, "commission raised");
	assert_eq!(shares(&|| remove_exposure(1)), honest, "chilled");
	assert_eq!(shares(&|| set_exposure(1, Perbill::from_percent(10), 40, vec![(5, 50), (6, 10), (7, 1_000_000)])), honest, "late whale");
	// A later era is shared by the exposure of its own first point.
	new_test_ext().execute_with(|| {
		set_exposure(1, Perbill::from_percent(10), 40, vec![(5, 50), (6, 10)]);
		first_era();
		set_exposure(1, Perbill::one(), 40, vec![(5, 50), (6, 10)]);
		note(1, C::BlockAuthoring, 3);
		assert_eq!(EraExposures::<Test>::get(1, 1).flatten().map(|s| s.0), Some(Perbill::one()));
		assert_eq!(EraExposures::<Test>::get(0, 1).flatten().map(|s| s.0), Some(Perbill::from_percent(10)));
	});
}

#[test]
fn eras_before_the_v1_migration_are_shared_by_the_exposure_at_payout() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		first_era();
		// As a v0 chain left it: era 0 has no snapshots.
		let _ = EraExposures::<Test>::clear_prefix(0, u32::MAX, None);
		StorageVersion::new(0).put::<Rewards>();
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Rewards::on_chain_storage_version(), 1);
		assert_eq!(SnapshotsSince::<Test>::get(), CurrentEra::<Test>::get() + 1);
		set_exposure(1, Perbill::from_percent(10), 40, vec![(5, 50), (6, 10)]);
		let before = [free(1), free(5), free(6)];
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0));
		assert_eq!([free(1) - before[0], free(5) - before[1], free(6) - before[2]], [125, 121, 24]);
		// Run again: nothing changes.
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(SnapshotsSince::<Test>::get(), CurrentEra::<Test>::get() + 1);
	});
}

#[test]
fn unclaimed_rewards_expire_to_the_treasury() {
	let mut ext = new_test_ext();
	let (allocated, treasury) = ext.execute_with(|| {
		for who in 3..=6 {
			note(who, C::Learning, 1);
		}
		first_era();
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0));
		next_session();
		assert!(Eras::<Test>::get(0).is_some());
		(Eras::<Test>::get(0).unwrap().allocated, free(TREASURY))
	});
	// Into the backend, as on a chain: removal limits count backend keys only.
	ext.commit_all().unwrap();
	ext.execute_with(|| {
		next_session();
		assert!(events().contains(&Event::EraExpired { era: 0, amount: allocated - 270, burned: false }));
		assert_eq!(free(TREASURY), treasury + allocated - 270);
		assert!(Eras::<Test>::get(0).is_none());
		// Five points records were left (accounts 2 to 6); two are removed per block.
		assert_eq!(CleanupQueue::<Test>::get().to_vec(), vec![0]);
		assert_eq!(AccountPoints::<Test>::iter_prefix(0).count(), 3);
	});
	// Each block's changes reach the backend before the next block, as on a chain.
	for left in [1, 0] {
		ext.commit_all().unwrap();
		ext.execute_with(|| {
			run_to(System::block_number() + 1);
			assert_eq!(AccountPoints::<Test>::iter_prefix(0).count(), left);
		});
	}
	// Then the exposure snapshots of accounts 2 to 6 (1 was paid), within the same limit: one
	// went with the last points record, two more a block.
	for left in [2, 0] {
		ext.commit_all().unwrap();
		ext.execute_with(|| {
			assert!(!CleanupQueue::<Test>::get().is_empty());
			run_to(System::block_number() + 1);
			assert_eq!(EraExposures::<Test>::iter_prefix(0).count(), left);
		});
	}
	ext.commit_all().unwrap();
	ext.execute_with(|| {
		assert!(CleanupQueue::<Test>::get().is_empty());
	});
}

#[test]
fn without_a_treasury_expired_rewards_are_burned() {
	new_test_ext().execute_with(|| {
		burn_instead_of_treasury(true);
		first_era();
		next_session();
		let issuance = Balances::total_issuance();
		let minted_era_2 = {
			next_session();
			Eras::<Test>::get(2).unwrap().minted
		};
		assert!(events().contains(&Event::EraExpired { era: 0, amount: 495, burned: true }));
		assert_eq!(Balances::total_issuance(), issuance + minted_era_2 - 495);
	});
}

/// Attack: a pile builds up in the pot (empty categories' shares, funds sent to it); a wash
/// trader then makes one data sale in a quiet era to take the data-sale share of the pile.
/// Budgets come from the era's own inflow and a tenth of the carry-over, so the trade takes
/// 5 % of that slice, not 5 % of the pile.
#[test]
fn a_wash_trade_after_a_quiet_spell_takes_its_share_of_one_slice_of_the_carry_over() {
	new_test_ext().execute_with(|| {
		CarryOverRelease::set(Perbill::from_percent(10));
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<AccountId>>::transfer(
			&9,
			&pot(),
			400_000,
			frame_support::traits::tokens::Preservation::Preserve
		));
		first_era();
		let pile = CarriedOver::<Test>::get();
		assert!(pile > 100_000, "the pile carried out of era 0: {pile}");
		note(3, C::DataSale, 1);
		run_to(19);
		next_session();
		let s = Eras::<Test>::get(1).unwrap();
		let slice = Perbill::from_percent(10).mul_floor(pile);
		assert_eq!(s.budgets[C::DataSale.index()], Perbill::from_percent(5).mul_floor(s.minted + slice));
		assert!(s.budgets[C::DataSale.index()] < Perbill::from_percent(5).mul_floor(pile) / 5, "far from 5 % of the pile");
		assert_eq!(s.carried_in + s.minted + s.fees + s.other, s.allocated + s.carried_out + s.spent, "nothing lost");
		assert_ok!(Rewards::do_try_state());
	});
}

#[test]
fn carried_over_funds_join_the_next_eras_budgets() {
	new_test_ext().execute_with(|| {
		first_era();
		note(3, C::DataSale, 1);
		run_to(19);
		next_session();
		let s = Eras::<Test>::get(1).unwrap();
		assert_eq!(s.carried_in, 405);
		// Era 1 is 10 blocks at issuance 9,001,010: 900 minted; available 405 + 900.
		assert_eq!(s.minted, 900);
		assert_eq!(s.budgets[C::DataSale.index()], Perbill::from_percent(5).mul_floor(1_305u128));
		assert_eq!(s.carried_in + s.minted + s.fees + s.other, s.allocated + s.carried_out + s.spent);
		// The unpaid 495 of era 0 was not counted as available.
		assert_eq!(Liabilities::<Test>::get(), 495 + s.allocated);
	});
}

#[test]
fn market_fees_are_split_between_pot_and_treasury() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (pot0, t0) = (free(pot()), free(TREASURY));
		assert_ok!(<RewardsSink as FeeSink<AccountId, Balance>>::pay_fee(&4, 101));
		// 50 % of 101 rounded: Perbill rounds to nearest, 50.
		assert_eq!((free(pot()) - pot0, free(TREASURY) - t0), (50, 51));
		assert_eq!(free(4), 1_000_000 - 101);
		assert_eq!(EraFees::<Test>::get(0), 50);
		assert!(events().contains(&Event::FeeTaken { from: 4, to_pot: 50, to_treasury: 51 }));
		assert_eq!(Balances::total_issuance(), issuance);
		// Too poor to pay: nothing moves.
		assert_noop!(<RewardsSink as FeeSink<AccountId, Balance>>::pay_fee(&4, 10_000_000), Error::<Test>::FeeFailed);
		// Counted in the era's accounts.
		run_to(9);
		next_session();
		assert_eq!(Eras::<Test>::get(0).unwrap().fees, 50);
	});
}

#[test]
fn market_fees_without_treasury_burn_the_rest() {
	new_test_ext().execute_with(|| {
		burn_instead_of_treasury(true);
		let issuance = Balances::total_issuance();
		assert_ok!(<RewardsSink as FeeSink<AccountId, Balance>>::pay_fee(&4, 100));
		assert_eq!(Balances::total_issuance(), issuance - 50);
	});
}

#[test]
fn transaction_fees_are_split_between_pot_and_treasury() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (pot0, t0) = (free(pot()), free(TREASURY));
		let credit = <Balances as Balanced<AccountId>>::withdraw(&3, 80, Precision::Exact, Preservation::Preserve, Fortitude::Polite).unwrap();
		DealWithFees::<Test>::on_unbalanced(credit);
		assert_eq!((free(pot()) - pot0, free(TREASURY) - t0), (40, 40));
		assert_eq!(EraFees::<Test>::get(0), 40);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn set_params_is_root_only_and_validated() {
	new_test_ext().execute_with(|| {
		let p = params();
		assert_noop!(Rewards::set_params(RuntimeOrigin::signed(1), p), DispatchError::BadOrigin);
		let mut too_much = p;
		too_much.category_shares[0] = Perbill::from_percent(41);
		let bad = [
			RewardParams { sessions_per_era: 0, ..p },
			too_much,
			RewardParams { inflation: InflationCurve { floor: Perbill::from_percent(11), ..p.inflation }, ..p },
			RewardParams { expiry_eras: 0, ..p },
			RewardParams { expiry_eras: 9, ..p },
		];
		for b in bad {
			assert_noop!(Rewards::set_params(RuntimeOrigin::root(), b), Error::<Test>::InvalidParams);
		}
		let new = RewardParams { fee_to_pot: Perbill::from_percent(80), ..p };
		assert_ok!(Rewards::set_params(RuntimeOrigin::root(), new));
		assert_eq!(Params::<Test>::get(), Some(new));
		assert!(events().contains(&Event::ParamsSet { params: new }));
	});
}

#[test]
fn pending_rewards_lists_claimable_eras() {
	new_test_ext().execute_with(|| {
		first_era();
		note(1, C::BlockAuthoring, 1);
		run_to(19);
		next_session();
		let pending = Rewards::pending_rewards(&1);
		assert_eq!(pending.len(), 2);
		assert_eq!(pending[0], (0, 270));
		assert_eq!(pending[1].0, 1);
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0));
		assert_eq!(Rewards::pending_rewards(&1).len(), 1);
	});
}

#[test]
fn the_pot_keeps_its_existential_deposit() {
	new_test_ext().execute_with(|| {
		assert_eq!(free(pot()), ED);
		first_era();
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 0));
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(2), 0));
		assert!(free(pot()) >= ED + CarriedOver::<Test>::get());
		assert_eq!(Balances::reducible_balance(&pot(), Preservation::Preserve, Fortitude::Polite), 405);
	});
}

#[test]
fn the_pot_spends_only_what_no_era_may_still_claim_and_accounts_for_it() {
	new_test_ext().execute_with(|| {
		first_era();
		let issuance = Balances::total_issuance();
		let spendable = Balances::reducible_balance(&pot(), Preservation::Preserve, Fortitude::Polite) - Liabilities::<Test>::get();
		assert!(spendable > 100);
		// More than the unallocated funds: nothing moves.
		assert_noop!(<RewardsSink as RewardPot<AccountId, Balance>>::spend(&4, spendable + 1), Error::<Test>::PotExhausted);
		let before = free(4);
		assert_ok!(<RewardsSink as RewardPot<AccountId, Balance>>::spend(&4, 100));
		assert_eq!(free(4), before + 100);
		assert_eq!(EraSpent::<Test>::get(1), 100);
		assert!(events().contains(&Event::PotSpent { to: 4, amount: 100 }));
		assert_eq!(Balances::total_issuance(), issuance);
		// The era's accounts show the spend and still balance; nothing counts as "other".
		run_to(19);
		next_session();
		let s = Eras::<Test>::get(1).unwrap();
		assert_eq!(s.spent, 100);
		assert_eq!(s.other, 0);
		assert_eq!(s.carried_in + s.minted + s.fees + s.other, s.allocated + s.carried_out + s.spent);
		assert!(!EraSpent::<Test>::contains_key(1));
	});
}

#[test]
fn try_state_catches_liabilities_that_do_not_add_up() {
	new_test_ext().execute_with(|| {
		assert_ok!(Rewards::do_try_state());
		Liabilities::<Test>::put(1);
		assert!(Rewards::do_try_state().is_err(), "owed without an era that allocated it");
	});
}
