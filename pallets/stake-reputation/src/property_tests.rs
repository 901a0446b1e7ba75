//! Property tests: the election's guarantees, splitting stake, and issuance under slashing.

use crate::{election::*, mock::*, *};
use frame_support::assert_ok;
use loopx_primitives::{SlashReason, Slashing};
use proptest::prelude::*;
use sp_runtime::{PerThing, Perbill};

fn contenders() -> impl Strategy<Value = Vec<Contender<u64>>> {
	prop::collection::vec((1u128..1_000_000_000_000, 1u32..=1_000_000), 1..40)
		.prop_map(|v| v.into_iter().enumerate().map(|(i, (backing, reputation))| Contender { who: i as u64, backing, reputation }).collect())
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(300))]

	/// The elected set is the top N by backing × reputation (ties by account), and the result
	/// does not depend on the order the candidates come in.
	#[test]
	fn election_is_top_n_and_deterministic(mut cs in contenders(), n in 1usize..20, seed in any::<u64>()) {
		let set = elect(cs.clone(), n, Perbill::one());
		let mut expected = cs.clone();
		expected.sort_by(|a, b| b.raw_weight().cmp(&a.raw_weight()).then(a.who.cmp(&b.who)));
		expected.truncate(n);
		prop_assert_eq!(set.iter().map(|v| v.who).collect::<Vec<_>>(), expected.iter().map(|c| c.who).collect::<Vec<_>>());
		// Shuffle deterministically and elect again.
		let len = cs.len();
		for i in 0..len {
			let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % len as u64) as usize;
			cs.swap(i, j);
		}
		prop_assert_eq!(elect(cs, n, Perbill::one()), set);
	}

	/// No elected validator holds more than the cap (plus rounding) when the cap can hold.
	#[test]
	fn election_respects_the_cap(cs in contenders(), n in 1usize..20, cap_pct in 5u32..100) {
		let cap = Perbill::from_percent(cap_pct);
		let set = elect(cs, n, cap);
		let total: u64 = set.iter().map(|v| v.finality_weight).sum();
		if (cap.deconstruct() as u128) * (set.len() as u128) > Perbill::ACCURACY as u128 {
			for v in &set {
				let share = v.finality_weight as f64 / total as f64;
				prop_assert!(share <= cap_pct as f64 / 100.0 + 1e-6, "share {} > cap {}", share, cap_pct);
			}
		} else {
			prop_assert!(set.iter().all(|v| v.finality_weight == set[0].finality_weight));
		}
	}

	/// Splitting one backing across k accounts of the same reputation gains no weight: the raw
	/// weights add up to at most the original.
	#[test]
	fn splitting_stake_gains_no_weight(backing in 1u128..1_000_000_000_000, reputation in 1u32..=1_000_000, k in 2usize..10) {
		let whole = Contender { who: 0u64, backing, reputation }.raw_weight();
		let part = backing / k as u128;
		let split: u128 = (0..k).map(|i| Contender { who: i as u64, backing: part, reputation }.raw_weight()).sum();
		prop_assert!(split <= whole);
		// Against a fixed rival, the split accounts together never get a larger share.
		let rival = Contender { who: 99, backing: 777_777, reputation: 500_000 };
		let alone = elect(vec![Contender { who: 0, backing, reputation }, rival.clone()], 20, Perbill::one());
		let mut parts: Vec<_> = (0..k).map(|i| Contender { who: i as u64, backing: part, reputation }).collect();
		parts.push(rival);
		let together = elect(parts, 20, Perbill::one());
		let share = |set: &[ElectedValidator<u64>]| {
			let total: u64 = set.iter().map(|v| v.weight).sum();
			set.iter().filter(|v| v.who != 99).map(|v| v.weight).sum::<u64>() as f64 / total as f64
		};
		prop_assert!(share(&together) <= share(&alone) + 1e-6);
	}

	/// Slashing to the treasury keeps total issuance; burning reduces it by exactly the slash.
	#[test]
	fn slashing_conserves_or_burns_exactly(
		own in 100u128..5_000,
		delegations in prop::collection::vec(5u128..2_000, 0..4),
		pct in 0u32..=100,
		burn in any::<bool>(),
	) {
		new_test_ext().execute_with(|| {
			burn_slashes(burn);
			assert_ok!(Pallet::<Test>::bond(RuntimeOrigin::signed(1), own));
			assert_ok!(Pallet::<Test>::validate(RuntimeOrigin::signed(1), Perbill::zero()));
			for (i, amount) in delegations.iter().enumerate() {
				assert_ok!(Pallet::<Test>::delegate(RuntimeOrigin::signed(6 + i as u64), 1, *amount));
			}
			let before = Balances::total_issuance();
			let out = <Pallet<Test> as Slashing<_, _>>::slash(&1, Perbill::from_percent(pct), SlashReason::Governance, false).unwrap();
			let taken = out.own + out.delegated;
			let expected_own = Perbill::from_percent(pct) * own;
			let expected_delegated: u128 = delegations.iter().map(|d| Perbill::from_percent(pct) * *d).sum();
			assert_eq!((out.own, out.delegated), (expected_own, expected_delegated));
			if burn {
				assert_eq!(Balances::total_issuance(), before - taken);
			} else {
				assert_eq!(Balances::total_issuance(), before);
				assert_eq!(Balances::free_balance(TREASURY), 1 + taken);
			}
		});
	}
}
