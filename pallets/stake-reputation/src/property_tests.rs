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

/// One staking action of a random sequence.
#[derive(Debug, Clone)]
enum Action {
	Bond(u64, u128),
	Unbond(u64, u128),
	Withdraw(u64),
	Rebond(u64, u128),
	Validate(u64),
	Chill(u64),
	Delegate(u64, u64, u128),
	Undelegate(u64, u64, u128),
	Slash(u64, u32),
	NextSession,
	/// Slashes deferred by one session (or applied at once).
	Defer(bool),
	/// The deferred slashes of an account, due next session, cancelled.
	Cancel(u64),
}

fn action() -> impl Strategy<Value = Action> {
	let who = 1u64..=9;
	let amount = 1u128..400;
	prop_oneof![
		(who.clone(), 100u128..600).prop_map(|(w, a)| Action::Bond(w, a)),
		(who.clone(), amount.clone()).prop_map(|(w, a)| Action::Unbond(w, a)),
		who.clone().prop_map(Action::Withdraw),
		(who.clone(), amount.clone()).prop_map(|(w, a)| Action::Rebond(w, a)),
		who.clone().prop_map(Action::Validate),
		who.clone().prop_map(Action::Chill),
		(who.clone(), 1u64..=4, amount.clone()).prop_map(|(d, v, a)| Action::Delegate(d, v, a)),
		(who.clone(), 1u64..=4, amount).prop_map(|(d, v, a)| Action::Undelegate(d, v, a)),
		(1u64..=4, 0u32..=100).prop_map(|(w, p)| Action::Slash(w, p)),
		Just(Action::NextSession),
		any::<bool>().prop_map(Action::Defer),
		(1u64..=4).prop_map(Action::Cancel),
	]
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Any sequence of bonds, unbonds, delegations, undelegations, withdrawals, candidacies and
	/// slashes (at once or deferred, applied or cancelled) keeps every invariant of
	/// `do_try_state` (holds equal ledgers plus delegations plus unlocking delegations,
	/// candidates' counts match their pairs, pending counts match the deferred slashes), and a
	/// refused call changes nothing.
	#[test]
	fn staking_keeps_its_invariants(actions in prop::collection::vec(action(), 1..40)) {
		new_test_ext().execute_with(|| {
			for who in 1..=9 {
				set_keys(who, true);
			}
			let mut session = 0;
			for action in &actions {
				let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
				let o = |w: u64| RuntimeOrigin::signed(w);
				let result = match action.clone() {
					Action::Bond(w, a) => Pallet::<Test>::bond(o(w), a).map(|_| ()),
					Action::Unbond(w, a) => Pallet::<Test>::unbond(o(w), a).map(|_| ()),
					Action::Withdraw(w) => Pallet::<Test>::withdraw_unbonded(o(w)).map(|_| ()).map_err(|e| e.error),
					Action::Rebond(w, a) => Pallet::<Test>::rebond(o(w), a).map(|_| ()),
					Action::Validate(w) => Pallet::<Test>::validate(o(w), Perbill::from_percent(10)).map(|_| ()).map_err(|e| e.error),
					Action::Chill(w) => Pallet::<Test>::chill(o(w)).map(|_| ()),
					Action::Delegate(d, v, a) => Pallet::<Test>::delegate(o(d), v, a).map(|_| ()),
					Action::Undelegate(d, v, a) => Pallet::<Test>::undelegate(o(d), v, a).map(|_| ()),
					Action::Slash(w, p) => {
						if Ledgers::<Test>::contains_key(w) {
							<Pallet<Test> as Slashing<_, _>>::slash(&w, Perbill::from_percent(p), SlashReason::Governance, false).map(|_| ())
						} else {
							Ok(())
						}
					},
					Action::NextSession => {
						session += 1;
						<Pallet<Test> as pallet_session::SessionManager<_>>::start_session(session);
						Ok(())
					},
					Action::Defer(on) => Pallet::<Test>::set_slash_defer_sessions(RuntimeOrigin::root(), on.into()),
					Action::Cancel(w) => Pallet::<Test>::cancel_deferred_slash(o(SlashCanceller::get()), session + 1, w),
				};
				if result.is_err() {
					prop_assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "a refused {:?} changed storage", action);
				}
				if let Err(e) = Pallet::<Test>::do_try_state() {
					return Err(TestCaseError::fail(format!("after {action:?}: {e:?}")));
				}
			}
			Ok(())
		})?;
	}
}
