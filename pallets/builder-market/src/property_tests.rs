//! Property test over random sequences of builder-market actions (deploys, top-ups, pauses,
//! resumes, ends, updates, verdicts, blocks passing): after every action
//! - a failed action changed no storage at all;
//! - the builder's holds equal what its tasks hold, and all balances add up to the unchanged
//!   total issuance;
//! - every account holds exactly what the events say: trainers their start plus what they were
//!   paid, the builder its start minus what it paid out (its holds still count as its own).

use crate::{mock::*, *};
use frame_support::traits::fungible::Inspect;
use loopx_model_spec::{Modes, TtLayer};
use loopx_primitives::{ClaimClass, ClaimOutcome, Decision, Outcome};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Action {
	Deploy { bounty: u128, rounds: u32, round_length: u64 },
	TopUp(usize, u128),
	Pause(usize),
	Resume(usize),
	End(usize),
	Submit { trainer: usize, task: usize, metric: u32 },
	Decide { claim: usize, outcome: u8, score: u32 },
	Advance(u64),
}

fn action() -> impl Strategy<Value = Action> {
	prop_oneof![
		2 => (900u128..5_000, 1u32..5, 5u64..15).prop_map(|(bounty, rounds, round_length)| Action::Deploy { bounty, rounds, round_length }),
		1 => (any::<usize>(), 0u128..2_000).prop_map(|(t, a)| Action::TopUp(t, a)),
		1 => any::<usize>().prop_map(Action::Pause),
		1 => any::<usize>().prop_map(Action::Resume),
		1 => any::<usize>().prop_map(Action::End),
		4 => (0usize..4, any::<usize>(), 1u32..1_000_000).prop_map(|(trainer, task, metric)| Action::Submit { trainer, task, metric }),
		3 => (any::<usize>(), 0u8..3, 1u32..1_000_000).prop_map(|(claim, outcome, score)| Action::Decide { claim, outcome, score }),
		3 => (1u64..12).prop_map(Action::Advance),
	]
}

fn pick<K: Copy>(keys: &[K], i: usize) -> Option<K> {
	(!keys.is_empty()).then(|| keys[i % keys.len()])
}

fn spec(bounty: u128, rounds: u32, round_length: u64) -> TaskSpecOf<Test> {
	let m = |v: &[u32]| Modes::truncate_from(v.to_vec());
	TaskSpec {
		architecture: Architecture::Classifier {
			layers: BoundedVec::truncate_from(vec![TtLayer { out_modes: m(&[1]), in_modes: m(&[16]), rank: 1 }]),
		},
		precision: Precision::F32,
		metric: Metric::Accuracy,
		target: 990_000,
		eval_set: H256::repeat_byte(1),
		hyper: HyperParams { learning_rate_ppm: 1, batch_size: 1, local_steps: 1, seed: 0 },
		round_length,
		bounty,
		trainers: Thresholds { min_stake: 0, min_reputation: 200_000 },
		max_rounds: rounds,
		deadline: System::block_number() + 60,
	}
}

fn apply(action: &Action) -> DispatchResult {
	let tasks: Vec<TaskId> = Tasks::<Test>::iter_keys().collect();
	let signed = RuntimeOrigin::signed(BUILDER);
	match *action {
		Action::Deploy { bounty, rounds, round_length } => BuilderMarket::deploy_model(signed, spec(bounty, rounds, round_length)),
		Action::TopUp(t, amount) => BuilderMarket::top_up(signed, pick(&tasks, t).unwrap_or(99), amount),
		Action::Pause(t) => BuilderMarket::pause(signed, pick(&tasks, t).unwrap_or(99)),
		Action::Resume(t) => BuilderMarket::resume(signed, pick(&tasks, t).unwrap_or(99)),
		Action::End(t) => BuilderMarket::end_task(signed, pick(&tasks, t).unwrap_or(99)),
		Action::Submit { trainer, task, metric } => {
			let who = [TRAINER, TRAINER2, TRAINER3, WEAK][trainer];
			let task = pick(&tasks, task).unwrap_or(99);
			let parent = Tasks::<Test>::get(task).and_then(|t| t.current).map(|c| c.hash).unwrap_or_default();
			let new = H256::from_low_u64_be(metric as u64);
			BuilderMarket::submit_update(RuntimeOrigin::signed(who), task, parent, new, H256::from_low_u64_be(metric.into()))
		},
		Action::Decide { claim, outcome, score } => {
			let mut claims: Vec<ClaimId> = UpdateClaims::<Test>::iter_keys().collect();
			claims.sort();
			if let Some(id) = pick(&claims, claim) {
				let outcome = [Outcome::Accepted, Outcome::Rejected, Outcome::NoQuorum][outcome as usize];
				let d = Decision { outcome, score: Some(score), revealed_weight: 1, agreeing_weight: 1 };
				BuilderMarket::on_claim_decided(id, ClaimClass::ModelUpdate, &0, &H256::zero(), &d);
			}
			Ok(())
		},
		Action::Advance(n) => {
			run_to(System::block_number() + n);
			Ok(())
		},
	}
}

/// What the events say each account should hold in total (free + held).
fn expected_totals() -> BTreeMap<AccountId, Balance> {
	let mut totals: BTreeMap<AccountId, Balance> = (1..=6).map(|a| (a, INITIAL)).collect();
	for event in builder_events() {
		if let Event::TrainerPaid { trainer, amount, .. } = event {
			*totals.entry(trainer).or_default() += amount;
			*totals.entry(BUILDER).or_default() -= amount;
		}
	}
	totals
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]
	#[test]
	fn random_histories_pay_exactly_what_the_events_say(actions in prop::collection::vec(action(), 1..60)) {
		new_test_ext().execute_with(|| {
			for action in &actions {
				let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
				let events = System::event_count();
				if apply(action).is_err() {
					prop_assert_eq!(System::event_count(), events, "a failed {:?} emitted events", action);
					prop_assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "a failed {:?} changed storage", action);
				}
				assert_books_balance();
				for (who, total) in expected_totals() {
					prop_assert_eq!(Balances::total_balance(&who), total, "account {} after {:?}", who, action);
				}
			}
			// Whatever happened, a task that ended holds nothing.
			for (_, t) in Tasks::<Test>::iter() {
				if t.status == TaskStatus::Ended {
					prop_assert_eq!((t.bounty_left, t.deposit), (0, 0));
				}
			}
			Ok(())
		})?;
	}
}
