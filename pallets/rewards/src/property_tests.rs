//! Property test of the accounts: every era, what was minted (with what was carried in and the
//! fees) is exactly what is paid, carried over and expired to the treasury, dust included.

use crate::{mock::*, *};
use loopx_primitives::ContributionCategory;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct EraPlan {
	blocks: u64,
	notes: Vec<(AccountId, usize, u64)>,
	fees: Vec<(AccountId, Balance)>,
	claims: Vec<(AccountId, u32)>,
}

fn era_plan() -> impl Strategy<Value = EraPlan> {
	(
		1u64..40,
		proptest::collection::vec((1u64..=6, 0usize..CATEGORIES, 0u64..1_000), 0..12),
		proptest::collection::vec((1u64..=6, 1u128..5_000), 0..3),
		proptest::collection::vec((1u64..=6, 1u32..=3), 0..8),
	)
		.prop_map(|(blocks, notes, fees, claims)| EraPlan { blocks, notes, fees, claims })
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

	#[test]
	fn minted_equals_paid_plus_carried_plus_expired(
		eras in proptest::collection::vec(era_plan(), 3..9),
		commission in 0u32..100,
		burn in any::<bool>(),
		release in 0u32..=100,
	) {
		new_test_ext().execute_with(|| {
			burn_instead_of_treasury(burn);
			CarryOverRelease::set(Perbill::from_percent(release));
			// Account 1 is a validator with two delegators (accounts 7 and 8).
			set_exposure(1, Perbill::from_percent(commission), 300, vec![(7, 200), (8, 55)]);
			let initial_issuance = Balances::total_issuance();
			let mut burned_fees: Balance = 0;
			for plan in &eras {
				for (who, k, points) in &plan.notes {
					<Pallet<Test> as ContributionSink<AccountId>>::note(who, ContributionCategory::ALL[*k], *points);
				}
				for (who, amount) in &plan.fees {
					let share = params().fee_to_pot * *amount;
					<Pallet<Test> as FeeSink<AccountId, Balance>>::pay_fee(who, *amount).unwrap();
					if burn { burned_fees += amount - share; }
				}
				let current = CurrentEra::<Test>::get();
				for (who, back) in &plan.claims {
					if let Some(era) = current.checked_sub(*back) {
						let _ = Rewards::payout_for(RuntimeOrigin::signed(9), era, *who);
					}
				}
				run_to(System::block_number() + plan.blocks - 1);
				next_session();
				if let Err(e) = Pallet::<Test>::do_try_state() {
					return Err(TestCaseError::fail(format!("{e:?}")));
				}
			}

			// Collect the accounts from the events.
			let mut summaries = BTreeMap::new();
			let mut paid: BTreeMap<EraIndex, Balance> = BTreeMap::new();
			let mut expired = BTreeMap::new();
			let mut burned_rewards: Balance = 0;
			for e in events() {
				match e {
					Event::EraEnded { era, summary } => { summaries.insert(era, summary); },
					Event::Rewarded { era, amount, .. } | Event::DelegatorRewarded { era, amount, .. } => {
						*paid.entry(era).or_default() += amount;
					},
					Event::EraExpired { era, amount, burned } => {
						expired.insert(era, amount);
						if burned { burned_rewards += amount; }
					},
					_ => {},
				}
			}
			let mut minted_total = 0;
			let mut last_carried_out = 0;
			for (era, s) in &summaries {
				prop_assert_eq!(s.carried_in + s.minted + s.fees + s.other, s.allocated + s.carried_out + s.spent, "era {}", era);
				prop_assert_eq!(s.other, 0);
				prop_assert_eq!(s.carried_in, last_carried_out);
				last_carried_out = s.carried_out;
				minted_total += s.minted;
				let p = paid.get(era).copied().unwrap_or(0);
				match expired.get(era) {
					Some(x) => prop_assert_eq!(p + x, s.allocated, "era {} expired", era),
					None => prop_assert_eq!(p + Eras::<Test>::get(era).map(|e| e.allocated - e.paid).unwrap_or(0), s.allocated),
				}
			}
			// The pot holds its deposit, the unpaid rewards and what is carried over: nothing else.
			let fees_now = EraFees::<Test>::get(CurrentEra::<Test>::get());
			prop_assert_eq!(free(pot()), ED + Liabilities::<Test>::get() + CarriedOver::<Test>::get() + fees_now);
			// Issuance changed by the minting and by what was burned, nothing else.
			prop_assert_eq!(Balances::total_issuance(), initial_issuance + minted_total - burned_rewards - burned_fees);
			Ok(())
		})?;
	}
}
