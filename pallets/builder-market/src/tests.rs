//! Unit tests: every call and its failure paths, round clocks, update outcomes, the bounty
//! split, the ways a task ends, and a version sold through the data market. Each test ends by
//! checking that holds match the tasks and that no unit was created or lost.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use loopx_model_spec::{Modes, TtLayer};
use loopx_primitives::{ClaimClass, ClaimOutcome, ContributionCategory, Decision, Outcome, ScoreBound};

const ROUND: u64 = 10;
const BOUNTY: Balance = 10_000;

fn fraud() -> Architecture {
	let m = |v: &[u32]| Modes::truncate_from(v.to_vec());
	Architecture::Classifier {
		layers: BoundedVec::truncate_from(vec![
			TtLayer { out_modes: m(&[8, 8]), in_modes: m(&[4, 4]), rank: 4 },
			TtLayer { out_modes: m(&[1]), in_modes: m(&[64]), rank: 1 },
		]),
	}
}
/// A classifier of dense layers (`(outputs, inputs)` each).
fn dense(layers: &[(u32, u32)]) -> Architecture {
	let m = |v: u32| Modes::truncate_from(vec![v]);
	Architecture::Classifier {
		layers: BoundedVec::truncate_from(layers.iter().map(|&(o, i)| TtLayer { out_modes: m(o), in_modes: m(i), rank: 1 }).collect()),
	}
}
fn spec() -> TaskSpecOf<Test> {
	TaskSpec {
		architecture: fraud(),
		precision: Precision::Int8,
		metric: Metric::Auc,
		target: 950_000,
		eval_set: H256::repeat_byte(7),
		hyper: HyperParams { learning_rate_ppm: 10_000, batch_size: 64, local_steps: 20, seed: 42 },
		round_length: ROUND,
		bounty: BOUNTY,
		trainers: Thresholds { min_stake: 1_000, min_reputation: 200_000 },
		max_rounds: 4,
		deadline: 1_000,
	}
}
fn deploy() -> TaskId {
	assert_ok!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), spec()));
	NextTaskId::<Test>::get() - 1
}
fn task(id: TaskId) -> TaskOf<Test> {
	Tasks::<Test>::get(id).expect("task exists")
}
/// A seal on `metric` (the mock's claim registry checks none: weighted voting does).
fn seal(metric: u32) -> H256 {
	H256::from_low_u64_be(metric.into())
}
fn submit(who: AccountId, id: TaskId, parent: H256, new: u8, metric: u32) -> ClaimId {
	assert_ok!(BuilderMarket::submit_update(RuntimeOrigin::signed(who), id, parent, H256::repeat_byte(new), seal(metric)));
	claims().len() as ClaimId - 1 + 100
}
fn decide(claim: ClaimId, outcome: Outcome, score: Option<u32>) {
	let d = Decision { outcome, score, revealed_weight: 10, agreeing_weight: 10 };
	BuilderMarket::on_claim_decided(claim, ClaimClass::ModelUpdate, &0, &H256::zero(), &d);
}
fn held_bounty() -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::BuilderMarket(HoldReason::Bounty), &BUILDER)
}
fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

// ---- deploying ----

#[test]
fn deploy_holds_the_bounty_and_deposit_and_starts_round_zero() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let t = task(id);
		assert_eq!((t.status, t.round, t.round_end, t.bounty_left, t.deposit), (TaskStatus::Active, 0, Some(1 + ROUND), BOUNTY, DEPOSIT));
		assert_eq!(free(BUILDER), INITIAL - BOUNTY - DEPOSIT);
		assert_eq!(RoundEnds::<Test>::get(1 + ROUND).into_inner(), vec![id]);
		assert!(builder_events().contains(&Event::TaskDeployed {
			task: id,
			builder: BUILDER,
			bounty: BOUNTY,
			deposit: DEPOSIT,
			round_end: 1 + ROUND
		}));
		assert_eq!(BuilderMarket::active_tasks().len(), 1);
		assert_books_balance();
	});
}

#[test]
fn deploying_an_invalid_spec_fails_with_its_reason_and_holds_nothing() {
	new_test_ext().execute_with(|| {
		let bad = |f: fn(&mut TaskSpecOf<Test>)| {
			let mut s = spec();
			f(&mut s);
			s
		};
		let cases: Vec<(TaskSpecOf<Test>, Error<Test>)> = vec![
			(bad(|s| s.architecture = Architecture::Classifier { layers: BoundedVec::new() }), Error::InvalidArchitecture),
			(
				bad(|s| {
					if let Architecture::Classifier { layers } = &mut s.architecture {
						layers[1].out_modes = Modes::truncate_from(vec![2]);
					}
				}),
				Error::InvalidArchitecture,
			),
			(bad(|s| s.target = 1_000_001), Error::InvalidTarget),
			(bad(|s| s.hyper.batch_size = 0), Error::InvalidHyperParams),
			(bad(|s| s.hyper.local_steps = 0), Error::InvalidHyperParams),
			(bad(|s| s.round_length = 4), Error::InvalidRoundLength),
			(bad(|s| s.round_length = 101), Error::InvalidRoundLength),
			(bad(|s| s.max_rounds = 0), Error::InvalidMaxRounds),
			(bad(|s| s.max_rounds = 11), Error::InvalidMaxRounds),
			(bad(|s| s.deadline = 1 + ROUND), Error::DeadlineTooSoon),
			(bad(|s| s.bounty = MIN_BOUNTY - 1), Error::BountyTooLow),
			(bad(|s| s.bounty = INITIAL), Error::InsufficientBalance),
			// What every validator would do for the task, bounded (attacks on the validators:
			// a batch, a step count, a model or a round's training large enough to stall them).
			(bad(|s| s.hyper.batch_size = 257), Error::BatchSizeTooLarge),
			(bad(|s| s.hyper.local_steps = 101), Error::TooManyLocalSteps),
			(bad(|s| s.architecture = dense(&[(1_024, 64), (1, 1_024)])), Error::ModelTooLarge),
			(
				bad(|s| {
					s.architecture = dense(&[(128, 16), (1, 128)]);
					s.hyper.batch_size = 256;
					s.hyper.local_steps = 100;
				}),
				Error::TrainingTooHeavy,
			),
		];
		for (s, error) in cases {
			assert_noop!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), s), error);
		}
		// At the bounds, a task deploys.
		let at_bounds = bad(|s| {
			s.hyper.batch_size = 256;
			s.hyper.local_steps = 100;
			s.precision = Precision::F32;
		});
		assert_ok!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), at_bounds));
		// A lower-is-better metric may have any target.
		assert_ok!(BuilderMarket::deploy_model(
			RuntimeOrigin::signed(BUILDER),
			bad(|s| {
				s.metric = Metric::Rmse;
				s.target = 2_000_000;
			})
		));
		assert_books_balance();
	});
}

#[test]
fn the_number_of_tasks_and_of_round_ends_per_block_is_bounded() {
	new_test_ext().execute_with(|| {
		// Two round ends fit in a block: the third task's round end moves one block on.
		for _ in 0..3 {
			deploy();
		}
		assert_eq!(task(2).round_end, Some(2 + ROUND));
		assert_noop!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), spec()), Error::<Test>::TooManyTasks);
		assert_books_balance();
	});
}

#[test]
fn deploying_and_ending_tasks_never_closes_the_market() {
	new_test_ext().execute_with(|| {
		// The limit counts live tasks: a builder cycling deploy and end a hundred times leaves
		// room for everyone else.
		for _ in 0..100 {
			let id = deploy();
			assert_ok!(BuilderMarket::end_task(RuntimeOrigin::signed(BUILDER), id));
		}
		assert_eq!(LiveTasks::<Test>::get(), 0);
		for _ in 0..3 {
			deploy();
		}
		assert_eq!(LiveTasks::<Test>::get(), 3);
		assert_noop!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), spec()), Error::<Test>::TooManyTasks);
		// Ended tasks keep their record.
		assert_eq!(task(0).status, TaskStatus::Ended);
		assert_books_balance();
	});
}

// ---- builder controls ----

#[test]
fn only_the_builder_tops_up_pauses_resumes_and_ends() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let other = RuntimeOrigin::signed(TRAINER);
		assert_noop!(BuilderMarket::top_up(other.clone(), id, 10), Error::<Test>::NotBuilder);
		assert_noop!(BuilderMarket::pause(other.clone(), id), Error::<Test>::NotBuilder);
		assert_noop!(BuilderMarket::end_task(other, id), Error::<Test>::NotBuilder);
		assert_noop!(BuilderMarket::top_up(RuntimeOrigin::signed(BUILDER), 9, 10), Error::<Test>::UnknownTask);
		assert_noop!(BuilderMarket::top_up(RuntimeOrigin::signed(BUILDER), id, 0), Error::<Test>::ZeroAmount);
		assert_noop!(BuilderMarket::top_up(RuntimeOrigin::signed(BUILDER), id, INITIAL), Error::<Test>::InsufficientBalance);
		assert_ok!(BuilderMarket::top_up(RuntimeOrigin::signed(BUILDER), id, 500));
		assert_eq!((task(id).bounty_left, held_bounty()), (BOUNTY + 500, BOUNTY + 500));
		assert_noop!(BuilderMarket::resume(RuntimeOrigin::signed(BUILDER), id), Error::<Test>::NotPaused);
		assert_ok!(BuilderMarket::pause(RuntimeOrigin::signed(BUILDER), id));
		assert_noop!(BuilderMarket::pause(RuntimeOrigin::signed(BUILDER), id), Error::<Test>::NotActive);
		assert_books_balance();
	});
}

#[test]
fn a_paused_task_takes_no_updates_and_its_next_round_waits_for_resume() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		assert_ok!(BuilderMarket::pause(RuntimeOrigin::signed(BUILDER), id));
		assert_noop!(
			BuilderMarket::submit_update(RuntimeOrigin::signed(TRAINER), id, H256::zero(), H256::repeat_byte(1), seal(700_000)),
			Error::<Test>::NotActive
		);
		run_to(1 + ROUND);
		assert_eq!((task(id).round, task(id).round_end), (0, None));
		run_to(30);
		assert_ok!(BuilderMarket::resume(RuntimeOrigin::signed(BUILDER), id));
		assert_eq!((task(id).status, task(id).round, task(id).round_end), (TaskStatus::Active, 1, Some(30 + ROUND)));
		submit(TRAINER, id, H256::zero(), 1, 700_000);
		assert_books_balance();
	});
}

#[test]
fn ending_a_task_without_pending_updates_returns_everything_at_once() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		run_to(5);
		assert_ok!(BuilderMarket::end_task(RuntimeOrigin::signed(BUILDER), id));
		assert_eq!((task(id).status, task(id).round_end), (TaskStatus::Ended, None));
		assert_eq!(free(BUILDER), INITIAL);
		assert!(RoundEnds::<Test>::get(1 + ROUND).is_empty());
		assert!(builder_events().contains(&Event::TaskEnded { task: id, reason: EndReason::Builder, refunded: BOUNTY + DEPOSIT }));
		assert_noop!(BuilderMarket::end_task(RuntimeOrigin::signed(BUILDER), id), Error::<Test>::TaskEnded);
		assert_noop!(BuilderMarket::top_up(RuntimeOrigin::signed(BUILDER), id, 10), Error::<Test>::TaskEnded);
		run_to(1 + ROUND);
		assert_eq!(BuilderMarket::active_tasks().len(), 0);
		assert_books_balance();
	});
}

#[test]
fn ending_a_task_mid_round_pays_the_updates_in_voting_then_returns_the_rest() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 700_000);
		let b = submit(TRAINER2, id, H256::zero(), 2, 650_000);
		run_to(5);
		assert_ok!(BuilderMarket::end_task(RuntimeOrigin::signed(BUILDER), id));
		assert_eq!(task(id).status, TaskStatus::Finishing(EndReason::Builder));
		assert!(builder_events().contains(&Event::TaskFinishing { task: id, reason: EndReason::Builder, unpaid_rounds: 1 }));
		assert!(RoundEnds::<Test>::get(1 + ROUND).is_empty());
		// No new updates, no second end, no top-up while finishing.
		assert_noop!(
			BuilderMarket::submit_update(RuntimeOrigin::signed(TRAINER3), id, H256::zero(), H256::repeat_byte(3), seal(1)),
			Error::<Test>::NotActive
		);
		assert_noop!(BuilderMarket::end_task(RuntimeOrigin::signed(BUILDER), id), Error::<Test>::TaskEnded);
		assert_noop!(BuilderMarket::top_up(RuntimeOrigin::signed(BUILDER), id, 10), Error::<Test>::TaskEnded);
		assert_books_balance();

		decide(b, Outcome::Rejected, Some(100_000));
		assert_eq!(free(BUILDER), INITIAL - BOUNTY - DEPOSIT);
		decide(a, Outcome::Accepted, Some(700_000));
		// The cut round's budget (10,000 / 4) in two slots (two updates submitted): the one
		// accepted update is paid its slot, the rejected one's goes back.
		assert_eq!(free(TRAINER), INITIAL + 1_250);
		assert_eq!(free(BUILDER), INITIAL - 1_250);
		assert_eq!(task(id).status, TaskStatus::Ended);
		assert_eq!(task(id).current.map(|c| c.number), Some(1));
		assert!(builder_events().contains(&Event::TaskEnded { task: id, reason: EndReason::Builder, refunded: BOUNTY - 1_250 + DEPOSIT }));
		assert!(Rounds::<Test>::iter().next().is_none() && UpdateClaims::<Test>::iter().next().is_none());
		assert_books_balance();
	});
}

#[test]
fn the_last_round_waits_for_its_verdicts_before_the_task_ends() {
	new_test_ext().execute_with(|| {
		let mut s = spec();
		s.max_rounds = 1;
		assert_ok!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), s));
		let a = submit(TRAINER, 0, H256::zero(), 1, 700_000);
		run_to(1 + ROUND);
		assert_eq!(task(0).status, TaskStatus::Finishing(EndReason::MaxRounds));
		decide(a, Outcome::Accepted, Some(700_000));
		// One round: the whole bounty is its budget.
		assert_eq!(free(TRAINER), INITIAL + BOUNTY);
		assert!(builder_events().contains(&Event::TaskEnded { task: 0, reason: EndReason::MaxRounds, refunded: DEPOSIT }));
		assert_books_balance();
	});
}

/// A decided update that pays nothing is charged what recording it costs; only the one that
/// closes an ended round is charged the round's payout (a block decides many updates, and each
/// charged a payout would cut the claims the tally budget decides by half).
#[test]
fn a_decided_update_is_charged_the_branch_it_took() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 700_000);
		let b = submit(TRAINER2, id, H256::zero(), 2, 710_000);
		let d = |score| Decision { outcome: Outcome::Accepted, score: Some(score), revealed_weight: 10, agreeing_weight: 10 };
		let recorded = BuilderMarket::on_claim_decided(a, ClaimClass::ModelUpdate, &0, &H256::zero(), &d(700_000));
		assert_eq!(recorded, <() as crate::weights::WeightInfo>::update_recorded());
		run_to(1 + ROUND);
		let paid = BuilderMarket::on_claim_decided(b, ClaimClass::ModelUpdate, &0, &H256::zero(), &d(710_000));
		assert_eq!(paid, <() as crate::weights::WeightInfo>::update_decided());
		assert!(builder_events().iter().any(|e| matches!(e, Event::RoundPaid { task, .. } if *task == id)));
		// The bound the tally admits a claim by is the payout.
		assert_eq!(BuilderMarket::weight_bound(ClaimClass::ModelUpdate), paid);
		assert!(recorded.all_lt(paid), "recording an update costs less than paying a round");
		assert_books_balance();
	});
}

// ---- updates ----

#[test]
fn submitting_an_update_opens_a_model_update_claim() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let claim = submit(TRAINER, id, H256::zero(), 1, 700_000);
		let request = claims().pop().unwrap();
		assert_eq!(request.class, ClaimClass::ModelUpdate);
		assert_eq!(request.claimant, TRAINER);
		assert_eq!((request.claimed_score, request.sealed_score), (None, Some(seal(700_000))), "the metric is sealed");
		assert_eq!(request.must_beat, None, "nothing to beat before the first version");
		assert_eq!(request.conflicted, vec![BUILDER], "the builder keeps what is rejected: it does not vote");
		assert_eq!(request.subject, BuilderMarket::task_subject(id));
		assert_eq!(UpdateClaims::<Test>::get(claim).map(|u| (u.task, u.round, u.trainer)), Some((id, 0, TRAINER)));
		let rounds = BuilderMarket::open_rounds(id);
		assert_eq!((rounds[0].round, rounds[0].pending, rounds[0].trainers.clone()), (0, 1, vec![TRAINER]));
		assert_books_balance();
	});
}

#[test]
fn updates_are_checked_before_a_claim_opens() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let try_submit =
			|who, parent, metric| BuilderMarket::submit_update(RuntimeOrigin::signed(who), id, parent, H256::repeat_byte(1), seal(metric));
		assert_noop!(
			BuilderMarket::submit_update(RuntimeOrigin::signed(TRAINER), 9, H256::zero(), H256::zero(), seal(1)),
			Error::<Test>::UnknownTask
		);
		assert_noop!(try_submit(BUYER, H256::zero(), 700_000), Error::<Test>::NotEligible);
		assert_noop!(try_submit(WEAK, H256::zero(), 700_000), Error::<Test>::NotEligible);
		assert_noop!(try_submit(TRAINER, H256::repeat_byte(9), 700_000), Error::<Test>::WrongParent);
		submit(TRAINER, id, H256::zero(), 1, 700_000);
		assert_noop!(try_submit(TRAINER, H256::zero(), 700_000), Error::<Test>::AlreadySubmitted);
		decide(100, Outcome::Accepted, Some(700_000));
		// Version 1 exists: the parent must be it, and the claim names its metric as the
		// score to beat (the sealed metric cannot be checked here).
		assert_noop!(try_submit(TRAINER2, H256::zero(), 800_000), Error::<Test>::WrongParent);
		submit(TRAINER2, id, H256::repeat_byte(1), 2, 800_000);
		assert_eq!(claims().pop().unwrap().must_beat, Some(ScoreBound { score: 700_000, higher_is_better: true }));
		submit(TRAINER3, id, H256::repeat_byte(1), 3, 810_000);
		assert_eq!(claims().len(), 3);
		assert_books_balance();
	});
}

#[test]
fn a_round_takes_at_most_max_updates() {
	new_test_ext().execute_with(|| {
		// Four eligible validators (WEAK too, with no reputation threshold), three updates a round.
		let mut s = spec();
		s.trainers.min_reputation = 0;
		assert_ok!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), s));
		submit(TRAINER, 0, H256::zero(), 1, 700_000);
		submit(TRAINER2, 0, H256::zero(), 2, 700_000);
		submit(TRAINER3, 0, H256::zero(), 3, 700_000);
		assert_noop!(
			BuilderMarket::submit_update(RuntimeOrigin::signed(WEAK), 0, H256::zero(), H256::repeat_byte(4), seal(700_000)),
			Error::<Test>::RoundFull
		);
		// The next round has room again.
		run_to(1 + ROUND);
		submit(WEAK, 0, H256::zero(), 4, 700_000);
		assert_books_balance();
	});
}

#[test]
fn accepted_updates_advance_the_version_and_rejected_ones_do_not() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 700_000);
		let b = submit(TRAINER2, id, H256::zero(), 2, 750_000);
		decide(b, Outcome::Rejected, Some(600_000));
		assert!(task(id).current.is_none());
		decide(a, Outcome::Accepted, Some(699_000));
		assert_eq!(task(id).current, Some(CurrentVersion { number: 1, hash: H256::repeat_byte(1), metric: 699_000 }));
		let v = Versions::<Test>::get(id, 1).unwrap();
		assert_eq!((v.parent, v.metric, v.contributors.into_inner()), (H256::zero(), 699_000, vec![TRAINER]));
		assert!(points().contains(&(TRAINER, ContributionCategory::Learning, 10)));
		assert!(points().contains(&(BUILDER, ContributionCategory::Building, 5)));
		assert!(!points().iter().any(|p| p.0 == TRAINER2));
		assert_eq!(BuilderMarket::versions_of(id), vec![(1, H256::repeat_byte(1), 699_000, vec![TRAINER])]);
		// Decisions on other classes or unknown claims change nothing.
		let d = Decision { outcome: Outcome::Accepted, score: Some(1), revealed_weight: 1, agreeing_weight: 1 };
		BuilderMarket::on_claim_decided(a, ClaimClass::DataDispute, &0, &H256::zero(), &d);
		decide(a, Outcome::Accepted, Some(999_999));
		assert_eq!(task(id).current.map(|c| c.number), Some(1));
		assert_books_balance();
	});
}

// ---- updates must be new work ----

#[test]
fn an_unchanged_model_or_a_payload_claimed_twice_cannot_be_submitted() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let try_submit = |who, parent, new: H256, metric| BuilderMarket::submit_update(RuntimeOrigin::signed(who), id, parent, new, seal(metric));
		assert_noop!(try_submit(TRAINER, H256::zero(), H256::zero(), 700_000), Error::<Test>::UnchangedModel);
		let a = submit(TRAINER, id, H256::zero(), 1, 700_000);
		decide(a, Outcome::Accepted, Some(700_000));
		// Version 1 is the parent now: the parent itself is refused.
		let v1 = H256::repeat_byte(1);
		assert_noop!(try_submit(TRAINER2, v1, v1, 710_000), Error::<Test>::UnchangedModel);
		run_to(1 + ROUND);
		assert_noop!(try_submit(TRAINER, v1, v1, 710_000), Error::<Test>::UnchangedModel);
		let b = submit(TRAINER, id, v1, 2, 710_000);
		decide(b, Outcome::Accepted, Some(710_000));
		run_to(1 + 2 * ROUND);
		// The trainer claiming its own earlier payload again (not the parent now).
		let v2 = H256::repeat_byte(2);
		assert_noop!(try_submit(TRAINER, v2, v1, 720_000), Error::<Test>::PayloadAlreadyClaimed);
		assert_books_balance();
	});
}

#[test]
fn a_rival_that_claims_an_announced_payload_first_does_not_lock_its_trainer_out() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		// TRAINER2 saw TRAINER's hash (announced, or in the pool) and claims it first.
		let stolen = submit(TRAINER2, id, H256::zero(), 1, 700_000);
		let own = submit(TRAINER, id, H256::zero(), 1, 700_000);
		assert_ne!(stolen, own);
		assert!(ClaimedPayloads::<Test>::contains_key(id, (TRAINER, H256::repeat_byte(1))));
		assert!(ClaimedPayloads::<Test>::contains_key(id, (TRAINER2, H256::repeat_byte(1))));
		// Voters score a payload made by another account as nothing: the rival is rejected
		// (and slashed by the vote); the trainer's own claim is accepted and paid.
		decide(stolen, Outcome::Rejected, Some(0));
		decide(own, Outcome::Accepted, Some(700_000));
		assert_eq!(task(id).current.map(|c| c.hash), Some(H256::repeat_byte(1)));
		assert_books_balance();
	});
}

#[test]
fn an_accepted_update_that_does_not_beat_its_parent_is_not_paid() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let first = submit(TRAINER, id, H256::zero(), 1, 700_000);
		decide(first, Outcome::Accepted, Some(700_000));
		run_to(1 + ROUND);
		let before = points().len();
		// An untrained copy (new bytes, same model) claimed 0.5 % better: the voters measure the
		// parent's 700,000, within the 1 % tolerance, and accept the claim.
		let copy = submit(TRAINER2, id, H256::repeat_byte(1), 2, 703_500);
		decide(copy, Outcome::Accepted, Some(700_000));
		assert!(builder_events().contains(&Event::UpdateNotImproving { task: id, claim: copy, verified: 700_000, parent_metric: 700_000 }));
		assert_eq!(task(id).current.map(|c| c.number), Some(1), "no new version");
		assert_eq!(points().len(), before, "no learning points");
		run_to(1 + 2 * ROUND);
		assert_eq!(free(TRAINER2), INITIAL, "not paid");
		assert!(!builder_events().iter().any(|e| matches!(e, Event::RoundPaid { round: 1, .. })));
		assert_books_balance();
	});
}

// ---- rounds and payouts ----

#[test]
fn the_trainers_of_a_round_are_each_others_rivals() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 600_000);
		let b = submit(TRAINER2, id, H256::zero(), 2, 600_000);
		let c = submit(TRAINER3, id, H256::zero(), 3, 600_000);
		// Each claim names the earlier trainers as rivals; each later trainer leaves the
		// earlier claims' electorates.
		let rivals: Vec<_> = claims().iter().map(|r| r.rivals.clone()).collect();
		assert_eq!(rivals, vec![vec![], vec![TRAINER], vec![TRAINER, TRAINER2]]);
		assert_eq!(excluded_rivals(), vec![(a, TRAINER2), (a, TRAINER3), (b, TRAINER3)]);
		assert_eq!(RoundClaims::<Test>::get(id, 0).into_inner(), vec![a, b, c]);
		// The next round's trainers are not this round's rivals.
		run_to(1 + ROUND);
		submit(TRAINER, id, H256::zero(), 4, 600_000);
		assert_eq!(claims().last().unwrap().rivals, Vec::<AccountId>::new());
		assert_eq!(excluded_rivals().len(), 3);
		// The round's claims are forgotten with the round.
		for claim in [a, b, c] {
			decide(claim, Outcome::Rejected, Some(0));
		}
		assert!(!RoundClaims::<Test>::contains_key(id, 0));
	});
}

#[test]
fn a_round_pays_each_accepted_update_its_slot_once_all_are_decided() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 600_000);
		let b = submit(TRAINER2, id, H256::zero(), 2, 200_000);
		let c = submit(TRAINER3, id, H256::zero(), 3, 500_000);
		decide(a, Outcome::Accepted, Some(600_000));
		decide(c, Outcome::Rejected, Some(100_000));
		run_to(1 + ROUND);
		// The round ended with b pending: nothing paid yet; round 1 started.
		assert_eq!((task(id).round, free(TRAINER)), (1, INITIAL));
		decide(b, Outcome::Accepted, Some(200_000));
		// Budget: 10,000 / 4 rounds = 2,500, three slots of 833; c's stays in the bounty.
		assert_eq!(free(TRAINER), INITIAL + 833);
		assert_eq!(free(TRAINER2), INITIAL + 833);
		assert_eq!(free(TRAINER3), INITIAL);
		assert_eq!(task(id).bounty_left, BOUNTY - 1_666);
		assert!(builder_events().contains(&Event::RoundPaid { task: id, round: 0, paid: 1_666, updates: 2 }));
		assert!(Rounds::<Test>::get(id, 0).is_none());
		assert_books_balance();
	});
}

/// Attack: a trainer that also votes on its rival's update of the same round votes it down (or
/// scores it low) to take a larger part of the round's budget. Its pay is the same either way.
#[test]
fn voting_a_rival_trainer_down_pays_nothing_more() {
	let pay_of_trainer = |rival: Outcome| {
		new_test_ext().execute_with(|| {
			let id = deploy();
			let mine = submit(TRAINER, id, H256::zero(), 1, 600_000);
			let theirs = submit(TRAINER2, id, H256::zero(), 2, 650_000);
			decide(mine, Outcome::Accepted, Some(600_000));
			decide(theirs, rival, Some(if rival == Outcome::Accepted { 650_000 } else { 0 }));
			run_to(1 + ROUND);
			assert_books_balance();
			free(TRAINER) - INITIAL
		})
	};
	let honest = pay_of_trainer(Outcome::Accepted);
	assert_eq!(honest, 1_250);
	assert_eq!(pay_of_trainer(Outcome::Rejected), honest, "the rival's rejection leaves the trainer's pay as it was");
	assert_eq!(pay_of_trainer(Outcome::NoQuorum), honest);
}

#[test]
fn lower_is_better_metrics_make_lower_values_the_version() {
	new_test_ext().execute_with(|| {
		let mut s = spec();
		s.metric = Metric::Rmse;
		s.target = 100_000;
		assert_ok!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), s));
		let a = submit(TRAINER, 0, H256::zero(), 1, 1_000_000);
		let b = submit(TRAINER2, 0, H256::zero(), 2, 3_000_000);
		decide(a, Outcome::Accepted, Some(999_999));
		decide(b, Outcome::Accepted, Some(2_999_999));
		run_to(1 + ROUND);
		// Both improve on no parent and are paid a slot each; the lower RMSE is the version.
		assert_eq!(free(TRAINER) - INITIAL, 1_250);
		assert_eq!(free(TRAINER2) - INITIAL, 1_250);
		assert_eq!(task(0).current.map(|c| c.metric), Some(999_999));
		assert_books_balance();
	});
}

#[test]
fn a_task_ends_after_its_last_round_and_returns_what_is_left() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		for r in 0..4u64 {
			run_to(1 + ROUND * (r + 1));
		}
		assert_eq!(task(id).status, TaskStatus::Ended);
		assert!(builder_events().contains(&Event::TaskEnded { task: id, reason: EndReason::MaxRounds, refunded: BOUNTY + DEPOSIT }));
		assert_eq!(free(BUILDER), INITIAL);
		assert!(RoundEnds::<Test>::iter().next().is_none());
		assert_books_balance();
	});
}

#[test]
fn a_task_ends_at_its_deadline_and_when_its_target_is_reached() {
	new_test_ext().execute_with(|| {
		let mut s = spec();
		s.deadline = 18;
		assert_ok!(BuilderMarket::deploy_model(RuntimeOrigin::signed(BUILDER), s));
		run_to(1 + ROUND);
		// Round 1 is cut at the deadline (block 18); no round fits after it.
		assert_eq!(task(0).round_end, Some(18));
		run_to(18);
		assert!(builder_events().contains(&Event::TaskEnded { task: 0, reason: EndReason::Deadline, refunded: BOUNTY + DEPOSIT }));

		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 960_000);
		decide(a, Outcome::Accepted, Some(955_000));
		run_to(18 + ROUND);
		assert_eq!(task(id).status, TaskStatus::Ended);
		// The round was paid first (10,000 / 4), then the rest went back.
		assert_eq!(free(TRAINER), INITIAL + 2_500);
		assert!(builder_events().contains(&Event::TaskEnded { task: id, reason: EndReason::TargetReached, refunded: BOUNTY - 2_500 + DEPOSIT }));
		assert_books_balance();
	});
}

// ---- sales ----

#[test]
fn a_version_is_listed_and_bought_through_the_data_market() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		assert_noop!(BuilderMarket::list_version(RuntimeOrigin::signed(TRAINER), id, 1, 500, 1, 50), Error::<Test>::UnknownVersion);
		let a = submit(TRAINER, id, H256::zero(), 1, 700_000);
		decide(a, Outcome::Accepted, Some(700_000));
		assert_noop!(BuilderMarket::list_version(RuntimeOrigin::signed(TRAINER2), id, 1, 500, 1, 50), Error::<Test>::NotHolder);
		assert_ok!(BuilderMarket::list_version(RuntimeOrigin::signed(TRAINER), id, 1, 500, 2, 50));
		let tag = BuilderMarket::version_tag(id, 1);
		assert_eq!(tag, b"model/0/1".to_vec());
		let offers = DataMarket::best_orders(tag.clone(), pallet_data_market::Side::Offer, 10);
		let goods = offers[0].goods.unwrap();
		assert_eq!(goods.kind, pallet_data_market::GoodsKind::TrainedModel);
		assert_eq!(goods.commitment.content_hash, H256::repeat_byte(1));
		assert_eq!(goods.commitment.size, fraud().num_params());
		// The builder may sell too; a buyer takes one copy, it is delivered and confirmed.
		assert_ok!(BuilderMarket::list_version(RuntimeOrigin::signed(BUILDER), id, 1, 600, 1, 50));
		assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), tag, 500, 1, 50, None));
		assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(TRAINER), 0, H256::repeat_byte(5), H256::repeat_byte(6)));
		assert_ok!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), 0));
		assert_eq!(free(BUYER), INITIAL - 500);
		assert_eq!(free(TRAINER), INITIAL + 490 - 50, "paid 500 less 2 %; the bond on the unsold copy is held");
		assert_books_balance();
	});
}

// ---- migrations ----

#[test]
fn the_v1_and_v2_migrations_carry_claims_and_claimed_payloads_over_once() {
	use crate::migrations::{
		v1::{ClaimedPayloadsV1, MigrateV0ToV1, OldUpdateClaim, UpdateClaimsV1},
		v2::MigrateV1ToV2,
	};
	use codec::Encode;
	use frame_support::{
		storage::unhashed,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	new_test_ext().execute_with(|| {
		let id = deploy();
		let a = submit(TRAINER, id, H256::zero(), 1, 700_000);
		decide(a, Outcome::Accepted, Some(700_000));
		run_to(1 + ROUND);
		let b = submit(TRAINER2, id, H256::repeat_byte(1), 2, 750_000);
		// Storage version 0: the claim without its parent's metric, no payload index.
		let old = OldUpdateClaim {
			task: id,
			round: 1,
			trainer: TRAINER2,
			parent: H256::repeat_byte(1),
			new_hash: H256::repeat_byte(2),
			claimed_metric: 750_000,
		};
		unhashed::put_raw(&UpdateClaims::<Test>::hashed_key_for(b), &old.encode());
		let _ = ClaimedPayloads::<Test>::clear(u32::MAX, None);
		LiveTasks::<Test>::kill();
		StorageVersion::new(0).put::<BuilderMarket>();

		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		let v1 = UpdateClaimsV1::<Test>::get(b).expect("the claim in the v1 layout");
		assert_eq!((v1.claimed_metric, v1.parent_metric), (750_000, Some(700_000)));
		assert!(ClaimedPayloadsV1::<Test>::contains_key(id, H256::repeat_byte(1)), "the accepted version");
		assert!(ClaimedPayloadsV1::<Test>::contains_key(id, H256::repeat_byte(2)), "the claim in voting");
		assert_eq!(LiveTasks::<Test>::get(), 1, "the live task counted");
		assert_eq!(BuilderMarket::on_chain_storage_version(), 1);
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");

		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(UpdateClaims::<Test>::get(b).and_then(|u| u.parent_metric), Some(700_000));
		assert!(ClaimedPayloads::<Test>::contains_key(id, (TRAINER, H256::repeat_byte(1))), "the accepted version, by its contributor");
		assert!(ClaimedPayloads::<Test>::contains_key(id, (TRAINER2, H256::repeat_byte(2))), "the claim in voting, by its trainer");
		assert_eq!(ClaimedPayloads::<Test>::iter().count(), 2, "the v1 keys are gone");
		assert_eq!(BuilderMarket::on_chain_storage_version(), 2);
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");
		assert_books_balance();
	});
}

#[test]
fn try_state_catches_books_that_do_not_add_up() {
	new_test_ext().execute_with(|| {
		let id = deploy();
		submit(TRAINER, id, H256::zero(), 1, 600_000);
		assert_ok!(BuilderMarket::do_try_state());
		// A claim in voting the round does not count.
		Rounds::<Test>::mutate(id, 0, |r| r.as_mut().unwrap().pending = 0);
		assert!(BuilderMarket::do_try_state().is_err());
		Rounds::<Test>::mutate(id, 0, |r| r.as_mut().unwrap().pending = 1);
		// A task's bounty that is not held.
		Tasks::<Test>::mutate(id, |t| t.as_mut().unwrap().bounty_left += 1);
		assert!(BuilderMarket::do_try_state().is_err());
		Tasks::<Test>::mutate(id, |t| t.as_mut().unwrap().bounty_left -= 1);
		LiveTasks::<Test>::put(2);
		assert!(BuilderMarket::do_try_state().is_err());
	});
}
