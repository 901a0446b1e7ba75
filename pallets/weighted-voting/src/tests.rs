//! Unit tests: every call, every rejection, and the tally's consequences.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use loopx_primitives::{ClaimRegistry, ContributionCategory, ReputationReason as RR};
use sp_runtime::DispatchError;

/// A neutral voter's weight per unit of stake ([`loopx_primitives::stake_weight`]).
const NW: u128 = loopx_primitives::REPUTATION_WEIGHT_BASE + NEUTRAL as u128;

fn request(class: ClaimClass, claimant: AccountId) -> ClaimRequest<AccountId> {
	ClaimRequest {
		class,
		claimant,
		subject: H256::repeat_byte(7),
		commitment: H256::repeat_byte(9),
		claimed_score: None,
		sealed_score: None,
		must_beat: None,
		thresholds: None,
		conflicted: Vec::new(),
		rivals: Vec::new(),
	}
}

fn open(claimant: AccountId) -> ClaimId {
	WeightedVoting::open_claim(request(ClaimClass::QueryResult, claimant)).unwrap()
}

fn voters_of(claim: ClaimId) -> Vec<AccountId> {
	WeightedVoting::electorate(claim).iter().map(|b| b.who).collect()
}

/// Opens a claim by 9, has 1, 2, 3 commit and reveal the given verdicts (`None`: no commit),
/// and runs to the tally.
fn vote_and_tally(verdicts: [Option<Verdict>; 3]) -> ClaimId {
	let id = open(9);
	for (who, v) in (1..=3).zip(verdicts) {
		if let Some(v) = v {
			assert_ok!(commit(who, id, v));
		}
	}
	run_to(1 + COMMIT);
	for (who, v) in (1..=3).zip(verdicts) {
		if let Some(v) = v {
			assert_ok!(reveal(who, id, v));
		}
	}
	run_to(1 + COMMIT + REVEAL);
	id
}

fn decision_of(id: ClaimId) -> Decision {
	match Claims::<Test>::get(id).unwrap().status {
		ClaimStatus::Decided { decision, .. } => decision,
		ClaimStatus::Voting | ClaimStatus::Queued => panic!("claim {id} not decided"),
	}
}

// --- opening ---

#[test]
fn no_voter_holds_more_than_the_voter_share_of_a_claim() {
	new_test_ext().execute_with(|| {
		MaxVoterShare::set(Perbill::from_percent(40));
		// Stakes 1 : 2 : 5 : 2, as on the local network: 5 is cut to 40 % of the claim.
		set_voters(&[(1, 100), (2, 200), (3, 500), (4, 200), (9, 500)]);
		let id = open(9);
		let weights: Vec<u128> = WeightedVoting::electorate(id).iter().map(|b| b.weight).collect();
		let unit = NW;
		assert_eq!(weights, vec![100 * unit, 200 * unit, 1_000 * unit / 3, 200 * unit]);
		let eligible = Claims::<Test>::get(id).unwrap().eligible_weight;
		assert_eq!(eligible, weights.iter().sum::<u128>());
		assert!(weights[2] * 100 <= eligible * 40);
		// Alone, the heaviest cannot reject: 3 says Invalid, 1, 2 and 4 Valid.
		for (who, v) in [(1, Verdict::Valid), (2, Verdict::Valid), (3, Verdict::Invalid), (4, Verdict::Valid)] {
			assert_ok!(commit(who, id, v));
		}
		run_to(1 + COMMIT);
		for (who, v) in [(1, Verdict::Valid), (2, Verdict::Valid), (3, Verdict::Invalid), (4, Verdict::Valid)] {
			assert_ok!(reveal(who, id, v));
		}
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decided()[0].3.outcome, Outcome::Accepted);
	});
}

#[test]
fn a_claim_with_fewer_revealed_voters_than_the_minimum_is_not_decided() {
	new_test_ext().execute_with(|| {
		MinVoters::set(2);
		set_voters(&[(1, 900), (2, 100), (9, 500)]);
		let id = open(9);
		assert_ok!(commit(1, id, Verdict::Invalid));
		run_to(1 + COMMIT);
		assert_ok!(reveal(1, id, Verdict::Invalid));
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decided()[0].3.outcome, Outcome::NoQuorum, "90 % of the weight, but one voter");
		assert!(slashes().is_empty());
		// The claimant opened a claim nobody could decide: it forfeits the fixed bond, and
		// nothing else (no slash, no reputation).
		assert_eq!(forfeits(), vec![(9, 7, SlashReason::UndecidedClaim)]);
		assert!(events().contains(&Event::ClaimBondForfeited { claim: id, who: 9 }));
		assert!(!rep_log().iter().any(|(who, ..)| *who == 9));
	});
}

/// Attack: a validator fills a class's slots with claims of its own that nobody can decide
/// (answers over a data set only it holds). Each costs it the bond; a decided claim costs
/// an honest claimant nothing.
#[test]
fn only_undecided_claims_cost_their_claimant_the_bond() {
	new_test_ext().execute_with(|| {
		set_voters(&[(1, 100), (2, 100), (9, 100)]);
		let decided_claim = open(1);
		let undecided = [open(9), open(9)];
		// A data dispute is opened by the buyer, not by its claimant (the seller): no bond.
		ClassParameters::<Test>::insert(ClaimClass::DataDispute, binary_params());
		WeightedVoting::open_claim(request(ClaimClass::DataDispute, 9)).unwrap();
		for voter in [2, 9] {
			assert_ok!(commit(voter, decided_claim, Verdict::Valid));
		}
		run_to(1 + COMMIT);
		for voter in [2, 9] {
			assert_ok!(reveal(voter, decided_claim, Verdict::Valid));
		}
		run_to(1 + COMMIT + REVEAL + 2);
		assert_eq!(decided().iter().filter(|d| d.3.outcome == Outcome::NoQuorum).count(), 3);
		assert_eq!(forfeits(), vec![(9, 7, SlashReason::UndecidedClaim); 2], "{undecided:?}: one bond each; the accepted claimant pays nothing");
	});
}

#[test]
fn the_conflicted_are_not_drawn() {
	new_test_ext().execute_with(|| {
		// 2 is, say, the buyer of a disputed deal whose seller (9) is the claimant.
		set_voters(&[(1, 100), (2, 500), (3, 100), (9, 500)]);
		let id = WeightedVoting::open_claim(ClaimRequest { conflicted: vec![2], ..request(ClaimClass::QueryResult, 9) }).unwrap();
		assert_eq!(voters_of(id), vec![1, 3]);
		assert_eq!(Claims::<Test>::get(id).unwrap().eligible_weight, 2 * 100 * NW);
		assert_noop!(commit(2, id, Verdict::Invalid), Error::<Test>::NotEligible);
	});
}

#[test]
fn rivals_are_left_out_when_enough_others_can_decide() {
	new_test_ext().execute_with(|| {
		MinVoters::set(2);
		// 9's answer disagrees with 4's and 5's (co-answerers of one query); 1, 2 and 3 did
		// not answer and decide alone.
		set_voters(&[(1, 100), (2, 100), (3, 100), (4, 100), (5, 100), (9, 100)]);
		let id = WeightedVoting::open_claim(ClaimRequest { rivals: vec![4, 5], ..request(ClaimClass::QueryResult, 9) }).unwrap();
		assert_eq!(voters_of(id), vec![1, 2, 3]);
		assert_noop!(commit(4, id, Verdict::Invalid), Error::<Test>::NotEligible);
		// With a margin of four voters asked for, three left is not enough: the rivals stay.
		MinVotersWithoutRivals::set(4);
		let id = WeightedVoting::open_claim(ClaimRequest { rivals: vec![4, 5], ..request(ClaimClass::QueryResult, 9) }).unwrap();
		assert_eq!(voters_of(id), vec![1, 2, 3, 4, 5]);
	});
}

#[test]
fn rivals_stay_in_when_nobody_else_could_decide() {
	new_test_ext().execute_with(|| {
		MinVoters::set(2);
		// Every validator but 1 answered the query: without the rivals one voter would be left,
		// and a claim needs two, so the rivals judge (they gain nothing by a false verdict).
		set_voters(&[(1, 100), (4, 100), (5, 100), (9, 100)]);
		let id = WeightedVoting::open_claim(ClaimRequest { rivals: vec![4, 5], ..request(ClaimClass::QueryResult, 9) }).unwrap();
		assert_eq!(voters_of(id), vec![1, 4, 5]);
		// The conflicted are left out whatever is left.
		let id = WeightedVoting::open_claim(ClaimRequest { conflicted: vec![1], rivals: vec![4], ..request(ClaimClass::QueryResult, 9) }).unwrap();
		assert_eq!(voters_of(id), vec![4, 5]);
	});
}

#[test]
fn a_voter_that_becomes_a_rival_leaves_the_electorate_while_enough_are_left() {
	new_test_ext().execute_with(|| {
		MinVoters::set(2);
		MaxVoterShare::set(Perbill::from_percent(40));
		set_voters(&[(1, 100), (2, 100), (3, 100), (4, 300), (9, 100)]);
		let id = open(9);
		assert_eq!(voters_of(id), vec![1, 2, 3, 4]);
		// 2 committed, then claimed an update of its own in the same round: its vote goes.
		assert_ok!(commit(2, id, Verdict::Invalid));
		assert!(WeightedVoting::exclude_rival(id, &2));
		assert_eq!(voters_of(id), vec![1, 3, 4]);
		assert_noop!(commit(2, id, Verdict::Valid), Error::<Test>::NotEligible);
		// The heaviest is capped again: 4 holds at most 40 % of what is left.
		let weights: Vec<u128> = WeightedVoting::electorate(id).iter().map(|b| b.weight).collect();
		let total: u128 = weights.iter().sum();
		assert_eq!(Claims::<Test>::get(id).unwrap().eligible_weight, total);
		assert!(weights[2] * 100 <= total * 40 + 100, "{weights:?}");
		assert!(events().iter().any(|e| matches!(e, Event::RivalExcluded { claim, who: 2, .. } if *claim == id)));
		// Down to two voters: a third rival stays (else the claim could not be decided).
		assert!(WeightedVoting::exclude_rival(id, &3));
		assert!(!WeightedVoting::exclude_rival(id, &1));
		assert_eq!(voters_of(id), vec![1, 4]);
		// Not a voter, the claimant itself, or an unknown claim: nothing happens.
		assert!(!WeightedVoting::exclude_rival(id, &7));
		assert!(!WeightedVoting::exclude_rival(id, &9));
		assert!(!WeightedVoting::exclude_rival(99, &1));
		WeightedVoting::do_try_state().unwrap();
	});
}

#[test]
fn opening_freezes_an_electorate_of_eligible_validators() {
	new_test_ext().execute_with(|| {
		set_voters(&[(1, 100), (2, 100), (3, 100), (4, 50), (9, 500)]);
		let id = open(9);
		assert_eq!(id, 0);
		// 4 is below the minimum stake, 9 is the claimant.
		assert_eq!(voters_of(id), vec![1, 2, 3]);
		let claim = Claims::<Test>::get(id).unwrap();
		assert_eq!(claim.eligible_weight, 3 * 100 * NW);
		assert_eq!((claim.commit_end, claim.reveal_end), (1 + COMMIT, 1 + COMMIT + REVEAL));
		assert_eq!(WeightedVoting::open_claims(), vec![0]);
		assert!(events().contains(&Event::ClaimOpened {
			claim: 0,
			class: ClaimClass::QueryResult,
			claimant: 9,
			subject: H256::repeat_byte(7),
			voters: 3,
			eligible_weight: 3 * 100 * NW,
			commit_end: 6,
			reveal_end: 11,
		}));
		// Bonding or gaining reputation after the opening changes nothing.
		set_voters(&[(1, 100_000), (2, 100), (3, 100), (5, 1_000)]);
		assert_noop!(commit(5, id, Verdict::Valid), Error::<Test>::NotEligible);
		assert_eq!(WeightedVoting::electorate(id)[0].weight, 100 * NW);
	});
}

#[test]
fn electorate_excludes_low_reputation_and_suspended_and_keeps_the_heaviest() {
	new_test_ext().execute_with(|| {
		set_voters(&[(1, 100), (2, 200), (3, 300), (5, 400), (6, 500), (7, 600), (8, 700)]);
		set_reputation(1, 99_999);
		VoterRecords::<Test>::insert(2, VoterRecord { strikes: 0, suspensions: 1, suspended_until: 1 });
		// MaxVoters = 5: of 3, 5, 6, 7, 8 (1 too low, 2 suspended) all five fit.
		assert_eq!(voters_of(open(9)), vec![3, 5, 6, 7, 8]);
		set_reputation(1, 500_000);
		// With 1 eligible again there are six: the lightest (1) is left out.
		set_session(1);
		assert_eq!(voters_of(open(9)), vec![3, 5, 6, 7, 8]);
	});
}

#[test]
fn openers_may_move_thresholds_within_the_class_bounds_only() {
	new_test_ext().execute_with(|| {
		let mut r = request(ClaimClass::QueryResult, 9);
		r.thresholds = Some(Thresholds { min_stake: 10, min_reputation: 0 });
		let id = WeightedVoting::open_claim(r.clone()).unwrap();
		assert_eq!(voters_of(id), vec![1, 2, 3, 4]);
		r.thresholds = Some(Thresholds { min_stake: 1_001, min_reputation: 0 });
		assert_noop!(WeightedVoting::open_claim(r.clone()), Error::<Test>::ThresholdsOutOfBounds);
		r.thresholds = Some(Thresholds { min_stake: 100, min_reputation: 900_001 });
		assert_noop!(WeightedVoting::open_claim(r), Error::<Test>::ThresholdsOutOfBounds);
	});
}

#[test]
fn opening_rejects_bad_requests_and_writes_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(WeightedVoting::open_claim(request(ClaimClass::ModelUpdate, 9)), Error::<Test>::ClassNotConfigured);
		let mut r = request(ClaimClass::QueryResult, 9);
		r.claimed_score = Some(5);
		assert_noop!(WeightedVoting::open_claim(r), Error::<Test>::ClaimedScoreInBinaryMode);
		// Six of one class fill its quota; the other class still opens, up to eight in all;
		// then two more wait in the queue, and the next is refused.
		for _ in 0..6 {
			open(9);
		}
		for _ in 0..2 {
			assert_ok!(WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)));
		}
		for _ in 0..2 {
			assert_ok!(WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)));
		}
		assert_eq!(ClaimQueue::<Test>::get().len(), 2);
		assert_noop!(WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)), Error::<Test>::TooManyOpenClaims);
		assert_noop!(WeightedVoting::open_claim(request(ClaimClass::QueryResult, 9)), Error::<Test>::ClassFull);
		assert_eq!(NextClaimId::<Test>::get(), 10);
		assert_eq!((OpenPerClass::<Test>::get(ClaimClass::QueryResult), OpenPerClass::<Test>::get(ClaimClass::EvaluationScore)), (6, 2));
	});
}

#[test]
fn a_decided_claim_frees_its_class_slot() {
	new_test_ext().execute_with(|| {
		set_voters(&[(1, 100), (2, 100), (3, 100)]);
		for _ in 0..6 {
			open(9);
		}
		run_to(1 + COMMIT + REVEAL + 5);
		assert_eq!(OpenPerClass::<Test>::get(ClaimClass::QueryResult), 0);
		assert!(!OpenPerClass::<Test>::contains_key(ClaimClass::QueryResult), "no zero entries left behind");
		open(9);
		assert_eq!(OpenPerClass::<Test>::get(ClaimClass::QueryResult), 1);
	});
}

#[test]
fn the_admin_lowers_a_class_quota_and_its_flood_waits_while_others_open() {
	new_test_ext().execute_with(|| {
		assert_noop!(WeightedVoting::set_class_quota(RuntimeOrigin::signed(1), ClaimClass::QueryResult, 2), DispatchError::BadOrigin);
		assert_noop!(WeightedVoting::set_class_quota(RuntimeOrigin::root(), ClaimClass::QueryResult, 0), Error::<Test>::InvalidQuota);
		assert_noop!(WeightedVoting::set_class_quota(RuntimeOrigin::root(), ClaimClass::QueryResult, 7), Error::<Test>::InvalidQuota);
		let flood = [open(9), open(9)];
		assert_ok!(WeightedVoting::set_class_quota(RuntimeOrigin::root(), ClaimClass::QueryResult, 2));
		assert!(events().contains(&Event::ClassQuotaSet { class: ClaimClass::QueryResult, quota: 2 }));
		assert_eq!(WeightedVoting::class_quota(ClaimClass::QueryResult), 2);
		// The class is full at 2: the next claim of it waits; another class opens at once.
		let waiting = open(8);
		assert_eq!(ClaimQueue::<Test>::get().into_inner(), vec![waiting]);
		let other = WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)).unwrap();
		assert_eq!(Claims::<Test>::get(other).map(|c| c.status), Some(ClaimStatus::Voting));
		// The flood ends: the waiting claim opens.
		run_to(1 + COMMIT + REVEAL + 2);
		assert!(flood.iter().all(|id| matches!(Claims::<Test>::get(id).map(|c| c.status), Some(ClaimStatus::Decided { .. }))));
		assert_eq!(Claims::<Test>::get(waiting).map(|c| c.status), Some(ClaimStatus::Voting));
		// Back to the maximum: the override is removed.
		assert_ok!(WeightedVoting::set_class_quota(RuntimeOrigin::root(), ClaimClass::QueryResult, 6));
		assert!(!ClassQuotas::<Test>::contains_key(ClaimClass::QueryResult));
		WeightedVoting::do_try_state().unwrap();
	});
}

#[test]
fn a_claim_of_a_full_class_waits_for_a_slot_and_opens_when_one_frees() {
	new_test_ext().execute_with(|| {
		// A flood of one class fills its six slots.
		let flood: Vec<ClaimId> = (0..6).map(|_| open(9)).collect();
		// The next claims of that class wait, in order; another class still opens at once.
		let first = open(8);
		let second = open(7);
		assert_eq!(ClaimQueue::<Test>::get().into_inner(), vec![first, second]);
		assert_eq!(Claims::<Test>::get(first).map(|c| c.status), Some(ClaimStatus::Queued), "not open yet: no electorate, no periods");
		assert!(voters_of(first).is_empty());
		assert_noop!(commit(1, first, Verdict::Valid), Error::<Test>::UnknownClaim);
		assert!(events().contains(&Event::ClaimQueued { claim: first, class: ClaimClass::QueryResult, claimant: 8, subject: H256::repeat_byte(7) }));
		let other = WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)).unwrap();
		assert_eq!(Claims::<Test>::get(other).map(|c| c.status), Some(ClaimStatus::Voting));
		// The queue is full too: a third is refused and nothing is written.
		let next = NextClaimId::<Test>::get();
		assert_noop!(WeightedVoting::open_claim(request(ClaimClass::QueryResult, 6)), Error::<Test>::ClassFull);
		assert_eq!(NextClaimId::<Test>::get(), next);
		// The flood's claims end without votes; their slots go to the waiting claims, oldest
		// first, as many a block as the tally budget leaves room for.
		let ended = 1 + COMMIT + REVEAL;
		run_to(ended + 3);
		assert!(flood.iter().all(|id| matches!(Claims::<Test>::get(id).map(|c| c.status), Some(ClaimStatus::Decided { .. }))));
		assert!(ClaimQueue::<Test>::get().is_empty());
		assert!(!QueuedConflicts::<Test>::contains_key(first));
		for (id, claimant) in [(first, 8), (second, 7)] {
			let c = Claims::<Test>::get(id).expect("opened");
			assert_eq!((c.claimant, c.status, c.opened_at > ended - 1), (claimant, ClaimStatus::Voting, true));
			assert_eq!(voters_of(id), vec![1, 2, 3], "its electorate drawn when it opened");
		}
		// It is voted on and decided like any other.
		let opened_at = Claims::<Test>::get(first).unwrap().opened_at;
		for who in 1..=3 {
			assert_ok!(commit(who, first, Verdict::Valid));
		}
		run_to(opened_at + COMMIT);
		for who in 1..=3 {
			assert_ok!(reveal(who, first, Verdict::Valid));
		}
		run_to(opened_at + COMMIT + REVEAL);
		assert_eq!(decision_of(first).outcome, Outcome::Accepted);
		assert!(decided().iter().any(|d| d.0 == first && d.2 == 8));
	});
}

#[test]
fn a_claim_naming_too_many_conflicted_is_refused() {
	new_test_ext().execute_with(|| {
		let mut r = request(ClaimClass::QueryResult, 9);
		r.conflicted = vec![1, 2, 3, 4, 5];
		assert_noop!(WeightedVoting::open_claim(r), Error::<Test>::TooManyConflicted);
	});
}

#[test]
fn the_v1_migration_counts_the_open_claims_per_class_once() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		for _ in 0..3 {
			open(9);
		}
		assert_ok!(WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)));
		let _ = OpenPerClass::<Test>::clear(u32::MAX, None);
		store_in_v5_layout(&[]);
		StorageVersion::new(0).put::<WeightedVoting>();
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!((OpenPerClass::<Test>::get(ClaimClass::QueryResult), OpenPerClass::<Test>::get(ClaimClass::EvaluationScore)), (3, 1));
		assert_eq!(WeightedVoting::on_chain_storage_version(), 1);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(OpenPerClass::<Test>::get(ClaimClass::QueryResult), 3, "once only");
	});
}

#[test]
fn a_claim_without_voters_ends_without_quorum() {
	new_test_ext().execute_with(|| {
		set_voters(&[]);
		let id = open(9);
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decision_of(id).outcome, Outcome::NoQuorum);
		assert!(slashes().is_empty());
	});
}

// --- parameters ---

#[test]
fn set_class_params_is_root_only_and_validated() {
	new_test_ext().execute_with(|| {
		let p = binary_params();
		assert_noop!(WeightedVoting::set_class_params(RuntimeOrigin::signed(1), ClaimClass::ModelUpdate, p), DispatchError::BadOrigin);
		let bad = [
			ClassParams { commit_period: 0, ..p },
			ClassParams { reveal_period: 0, ..p },
			ClassParams { reveal_period: 101, ..p },
			ClassParams { quorum: Perbill::zero(), ..p },
			ClassParams { approval: Perbill::one(), ..p },
			ClassParams { loosest: Thresholds { min_stake: 101, min_reputation: 0 }, ..p },
			ClassParams { strictest: Thresholds { min_stake: 1_000, min_reputation: 1 }, ..p },
		];
		for b in bad {
			assert_noop!(WeightedVoting::set_class_params(RuntimeOrigin::root(), ClaimClass::ModelUpdate, b), Error::<Test>::InvalidParams);
		}
		assert_ok!(WeightedVoting::set_class_params(RuntimeOrigin::root(), ClaimClass::ModelUpdate, p));
		assert_eq!(ClassParameters::<Test>::get(ClaimClass::ModelUpdate), Some(p));
		assert!(events().contains(&Event::ClassParamsSet { class: ClaimClass::ModelUpdate, params: p }));
	});
}

#[test]
fn open_claims_keep_the_parameters_they_opened_with() {
	new_test_ext().execute_with(|| {
		assert_ok!(WeightedVoting::set_class_params(RuntimeOrigin::root(), ClaimClass::ModelUpdate, binary_params()));
		let id = WeightedVoting::open_claim(request(ClaimClass::ModelUpdate, 9)).unwrap();
		let stricter = ClassParams { quorum: Perbill::from_percent(100), ..binary_params() };
		assert_ok!(WeightedVoting::set_class_params(RuntimeOrigin::root(), ClaimClass::ModelUpdate, stricter));
		assert_ok!(commit(1, id, Verdict::Valid));
		assert_ok!(commit(2, id, Verdict::Valid));
		run_to(1 + COMMIT);
		assert_ok!(reveal(1, id, Verdict::Valid));
		assert_ok!(reveal(2, id, Verdict::Valid));
		run_to(1 + COMMIT + REVEAL);
		// Two of three is a quorum under the old 50 %, not under the new 100 %.
		assert_eq!(decision_of(id).outcome, Outcome::Accepted);
	});
}

// --- commit ---

#[test]
fn commit_failures() {
	new_test_ext().execute_with(|| {
		assert_noop!(commit(1, 0, Verdict::Valid), Error::<Test>::UnknownClaim);
		let id = open(9);
		assert_noop!(commit(9, id, Verdict::Valid), Error::<Test>::ClaimantCannotVote);
		assert_noop!(commit(4, id, Verdict::Valid), Error::<Test>::NotEligible);
		assert_ok!(commit(1, id, Verdict::Valid));
		assert_eq!(events().last(), Some(&Event::VoteCommitted { claim: id, voter: 1 }));
		assert_noop!(commit(1, id, Verdict::Invalid), Error::<Test>::AlreadyCommitted);
		VoterRecords::<Test>::insert(2, VoterRecord { strikes: 0, suspensions: 1, suspended_until: 5 });
		assert_noop!(commit(2, id, Verdict::Valid), Error::<Test>::VoterSuspended);
		run_to(1 + COMMIT);
		assert_noop!(commit(3, id, Verdict::Valid), Error::<Test>::CommitPeriodOver);
	});
}

#[test]
fn a_commit_naming_another_claims_commitment_is_refused() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		// What a reorganisation does: the vote was worked out for another claim with this number.
		let other = H256::repeat_byte(1);
		assert_ne!(other, claim_commitment(id));
		let c = vote_commitment(id, &1u64, &Verdict::Invalid, &salt(1));
		assert_noop!(WeightedVoting::commit_vote(RuntimeOrigin::signed(1), id, other, c), Error::<Test>::NotTheClaimJudged);
		assert!(WeightedVoting::electorate(id).iter().all(|b| b.commitment.is_none()), "nothing committed");
		assert_ok!(WeightedVoting::commit_vote(RuntimeOrigin::signed(1), id, claim_commitment(id), c));
	});
}

// --- reveal ---

#[test]
fn reveal_failures() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		assert_ok!(commit(1, id, Verdict::Valid));
		assert_ok!(commit(2, id, Verdict::Valid));
		assert_noop!(reveal(1, id, Verdict::Valid), Error::<Test>::RevealPeriodNotStarted);
		run_to(1 + COMMIT);
		assert_noop!(reveal(1, 7, Verdict::Valid), Error::<Test>::UnknownClaim);
		// A different verdict, or the right verdict with another salt, does not match.
		assert_noop!(reveal(1, id, Verdict::Invalid), Error::<Test>::RevealMismatch);
		assert_noop!(WeightedVoting::reveal_vote(RuntimeOrigin::signed(1), id, Verdict::Valid, [0; 32]), Error::<Test>::RevealMismatch);
		assert_noop!(reveal(1, id, Verdict::Score(3)), Error::<Test>::WrongVerdictKind);
		assert_noop!(reveal(3, id, Verdict::Valid), Error::<Test>::NotCommitted);
		assert_noop!(reveal(4, id, Verdict::Valid), Error::<Test>::NotEligible);
		assert_ok!(reveal(1, id, Verdict::Valid));
		assert_eq!(events().last(), Some(&Event::VoteRevealed { claim: id, voter: 1, verdict: Verdict::Valid }));
		assert_noop!(reveal(1, id, Verdict::Valid), Error::<Test>::AlreadyRevealed);
		// One block too late: the reveal period is over (the tally ran).
		run_to(1 + COMMIT + REVEAL);
		assert_noop!(reveal(2, id, Verdict::Valid), Error::<Test>::UnknownClaim);
	});
}

#[test]
fn revealing_late_is_rejected_while_the_tally_waits() {
	new_test_ext().execute_with(|| {
		let ids = [open(9), open(9)];
		room_for(1, voters_of(ids[0]).len() as u32);
		for id in ids {
			assert_ok!(commit(1, id, Verdict::Valid));
		}
		run_to(1 + COMMIT + REVEAL);
		// Room for one tally: the other claim waits, still open, but its reveal period is over.
		let decided: Vec<_> = decided().iter().map(|d| d.0).collect();
		assert_eq!(decided.len(), 1);
		let waiting = if decided[0] == ids[0] { ids[1] } else { ids[0] };
		assert_eq!(Claims::<Test>::get(waiting).unwrap().status, ClaimStatus::Voting);
		assert_noop!(reveal(1, waiting, Verdict::Valid), Error::<Test>::RevealPeriodOver);
	});
}

#[test]
fn copying_another_voters_commitment_cannot_be_revealed() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		let c1 = vote_commitment(id, &1u64, &Verdict::Valid, &salt(1));
		assert_ok!(WeightedVoting::commit_vote(RuntimeOrigin::signed(1), id, claim_commitment(id), c1));
		assert_ok!(WeightedVoting::commit_vote(RuntimeOrigin::signed(2), id, claim_commitment(id), c1));
		run_to(1 + COMMIT);
		assert_ok!(reveal(1, id, Verdict::Valid));
		// 2 learns 1's verdict and salt, but its own account is in the hash.
		assert_noop!(WeightedVoting::reveal_vote(RuntimeOrigin::signed(2), id, Verdict::Valid, salt(1)), Error::<Test>::RevealMismatch);
	});
}

// --- tally and consequences ---

/// Voters drawn for several claims decided in one block have their reputation and verification
/// points written once for all of them, with the sums: a tally wrote four keys a ballot, which
/// bounded the claims a block decides. Strikes still count each divergent vote.
#[test]
fn a_blocks_tallies_settle_each_voter_once() {
	new_test_ext().execute_with(|| {
		let verdict = |who| if who == 3 { Verdict::Invalid } else { Verdict::Valid };
		let ids: Vec<_> = (0..3).map(|_| open(9)).collect();
		for &id in &ids {
			for who in 1..=3 {
				assert_ok!(commit(who, id, verdict(who)));
			}
		}
		run_to(1 + COMMIT);
		for &id in &ids {
			for who in 1..=3 {
				assert_ok!(reveal(who, id, verdict(who)));
			}
		}
		run_to(1 + COMMIT + REVEAL);
		for &id in &ids {
			assert_eq!(decision_of(id).outcome, Outcome::Accepted);
		}
		let of = |who| rep_log().into_iter().filter(|(w, ..)| *w == who).collect::<Vec<_>>();
		assert_eq!(of(1), vec![(1, 3_000, RR::VotedWithOutcome)]);
		assert_eq!(of(2), vec![(2, 3_000, RR::VotedWithOutcome)]);
		assert_eq!(of(3), vec![(3, -15_000, RR::VotedAgainstOutcome)]);
		assert_eq!(points(), vec![(1, ContributionCategory::Verification, 30), (2, ContributionCategory::Verification, 30)]);
		// Two divergent votes in a row suspend (the mock's limit), the third starts a new run.
		assert_eq!((VoterRecords::<Test>::get(3).suspensions, VoterRecords::<Test>::get(3).strikes), (1, 1));
		assert_eq!(of(9), vec![(9, 20_000, RR::ClaimAccepted); 3], "claimants are settled claim by claim");
	});
}

/// Summed settlement gives a voter no way out of a penalty: a voter at zero reputation that
/// votes with the outcome on one claim and against it on another decided in the same block ends
/// at zero (the gain is applied first, the penalty takes it), not at the gain.
#[test]
fn a_gain_of_the_block_cannot_cancel_a_penalty_of_the_same_block() {
	new_test_ext().execute_with(|| {
		let (a, b) = (open(9), open(9));
		for who in 1..=3 {
			assert_ok!(commit(who, a, Verdict::Valid));
			assert_ok!(commit(who, b, if who == 3 { Verdict::Invalid } else { Verdict::Valid }));
		}
		run_to(1 + COMMIT);
		for who in 1..=3 {
			assert_ok!(reveal(who, a, Verdict::Valid));
			assert_ok!(reveal(who, b, if who == 3 { Verdict::Invalid } else { Verdict::Valid }));
		}
		// Voter 3's weight was frozen when the claims opened; its reputation is gone since.
		set_reputation(3, 0);
		run_to(1 + COMMIT + REVEAL);
		assert_eq!((decision_of(a).outcome, decision_of(b).outcome), (Outcome::Accepted, Outcome::Accepted));
		assert_eq!(reputation(3), 0, "the penalty of claim b took the gain of claim a");
		assert_eq!(reputation(1), NEUTRAL + 2_000);
	});
}

/// The hook charges a voter's settlement once a block: deciding two more claims of the same
/// voters costs two more tallies, and nothing more for the voters' reputation and points.
#[test]
fn a_voters_settlement_is_charged_once_a_block() {
	let used = |claims: usize| {
		new_test_ext().execute_with(|| {
			TallyBudget::set(Weight::MAX);
			let ids: Vec<_> = (0..claims).map(|_| open(9)).collect();
			for &id in &ids {
				for who in 1..=3 {
					assert_ok!(commit(who, id, Verdict::Valid));
				}
			}
			run_to(1 + COMMIT);
			for &id in &ids {
				for who in 1..=3 {
					assert_ok!(reveal(who, id, Verdict::Valid));
				}
			}
			let end = 1 + COMMIT + REVEAL;
			run_to(end - 1);
			System::set_block_number(end);
			let used = WeightedVoting::on_initialize(end);
			assert_eq!(decided().len(), claims);
			used
		})
	};
	use crate::weights::WeightInfo;
	let one_more = <() as WeightInfo>::tally(3).saturating_add(WeightedVoting::tally_overhead()).saturating_add(Weight::from_parts(1_000, 0));
	assert_eq!(used(3).saturating_sub(used(1)), one_more.saturating_mul(2));
	assert!(used(1).all_gte(<() as WeightInfo>::settle_voter().saturating_mul(3)), "the first claim pays its three voters' settlement");
}

#[test]
fn accepted_claim_rewards_claimant_and_agreeing_voters() {
	new_test_ext().execute_with(|| {
		let id = vote_and_tally([Some(Verdict::Valid), Some(Verdict::Valid), Some(Verdict::Invalid)]);
		let w = 100 * NW;
		assert_eq!(decision_of(id), Decision { outcome: Outcome::Accepted, score: None, revealed_weight: 3 * w, agreeing_weight: 2 * w });
		assert!(slashes().is_empty());
		let log = rep_log();
		assert!(log.contains(&(9, 20_000, RR::ClaimAccepted)));
		assert!(log.contains(&(1, 1_000, RR::VotedWithOutcome)));
		assert!(log.contains(&(2, 1_000, RR::VotedWithOutcome)));
		assert!(log.contains(&(3, -5_000, RR::VotedAgainstOutcome)));
		assert_eq!(points(), vec![(1, ContributionCategory::Verification, 10), (2, ContributionCategory::Verification, 10)]);
		assert_eq!(VoterRecords::<Test>::get(3).strikes, 1);
		assert_eq!(decided(), vec![(id, ClaimClass::QueryResult, 9, decision_of(id))]);
		assert_eq!(OpenClaims::<Test>::count(), 0);
		// The ballots stay, read-only, until the claim is pruned.
		assert_eq!(voters_of(id), vec![1, 2, 3]);
	});
}

#[test]
fn rejected_claim_slashes_the_claimant() {
	new_test_ext().execute_with(|| {
		let id = vote_and_tally([Some(Verdict::Invalid), Some(Verdict::Invalid), Some(Verdict::Valid)]);
		assert_eq!(decision_of(id).outcome, Outcome::Rejected);
		assert_eq!(slashes(), vec![(9, Perbill::from_percent(10), SlashReason::ForgedAnswer)]);
		assert!(rep_log().contains(&(9, -50_000, RR::ClaimRejected)));
		assert!(events().contains(&Event::ClaimantSlashed { claim: id, who: 9, fraction: Perbill::from_percent(10) }));
		assert!(rep_log().contains(&(3, -5_000, RR::VotedAgainstOutcome)));
	});
}

#[test]
fn a_rejection_is_paid_by_the_stake_that_backed_the_claimant_when_it_submitted() {
	new_test_ext().execute_with(|| {
		// Submitted in session 3; the verdict comes in session 5, after delegators could see
		// the claim and move.
		set_session(3);
		let id = open(9);
		assert_eq!(Claims::<Test>::get(id).unwrap().submitted_in, Some(3));
		for who in 1..=3 {
			assert_ok!(commit(who, id, Verdict::Invalid));
		}
		run_to(1 + COMMIT);
		set_session(5);
		for who in 1..=3 {
			assert_ok!(reveal(who, id, Verdict::Invalid));
		}
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decision_of(id).outcome, Outcome::Rejected);
		assert_eq!(slashed_backing(), vec![(9, Some(3))], "the backing of session 3 pays, not that of the verdict's");
	});
}

#[test]
fn a_failed_slash_is_reported_and_the_decision_stands() {
	new_test_ext().execute_with(|| {
		fail_slashes(true);
		let id = vote_and_tally([Some(Verdict::Invalid), Some(Verdict::Invalid), None]);
		assert_eq!(decision_of(id).outcome, Outcome::Rejected);
		assert!(events().contains(&Event::ClaimantSlashFailed { claim: id, who: 9 }));
		assert!(rep_log().contains(&(9, -50_000, RR::ClaimRejected)));
	});
}

#[test]
fn quorum_not_reached_decides_nothing_and_penalizes_missing_reveals() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		assert_ok!(commit(1, id, Verdict::Invalid));
		assert_ok!(commit(2, id, Verdict::Invalid));
		run_to(1 + COMMIT);
		assert_ok!(reveal(1, id, Verdict::Invalid));
		run_to(1 + COMMIT + REVEAL);
		// One of three revealed: below 50 %.
		assert_eq!(decision_of(id).outcome, Outcome::NoQuorum);
		assert!(slashes().is_empty());
		assert_eq!(rep_log(), vec![(2, -10_000, RR::MissedReveal), (3, -8_000, RR::NotVoted)]);
		assert!(points().is_empty());
		assert_eq!(decided()[0].3.outcome, Outcome::NoQuorum);
	});
}

#[test]
fn a_drawn_voter_that_stays_silent_loses_reputation_and_an_abstainer_does_not() {
	new_test_ext().execute_with(|| {
		// 1 judges, 2 cannot (abstains), 3 stays silent: the lazy voter's cheapest move.
		let id = vote_and_tally([Some(Verdict::Valid), Some(Verdict::Abstain), None]);
		// 1 alone revealed a verdict: a third of the weight, below the quorum.
		assert_eq!(decision_of(id).outcome, Outcome::NoQuorum);
		assert_eq!(rep_log(), vec![(3, -8_000, RR::NotVoted)]);
		assert!(points().is_empty(), "no verification points without a decision");
		// With 1 and 2 judging, the abstainer of the next claim is paid nothing and loses nothing.
		let before = rep_log().len();
		System::set_block_number(100);
		let id = open(9);
		for (who, v) in [(1, Verdict::Valid), (2, Verdict::Valid), (3, Verdict::Abstain)] {
			assert_ok!(commit(who, id, v));
		}
		run_to(100 + COMMIT);
		for (who, v) in [(1, Verdict::Valid), (2, Verdict::Valid), (3, Verdict::Abstain)] {
			assert_ok!(reveal(who, id, v));
		}
		run_to(100 + COMMIT + REVEAL);
		let w = 100 * NW;
		assert_eq!(decision_of(id), Decision { outcome: Outcome::Accepted, score: None, revealed_weight: 2 * w, agreeing_weight: 2 * w });
		assert!(!rep_log()[before..].iter().any(|(who, ..)| *who == 3), "the abstainer's reputation is untouched");
		assert_eq!(points(), vec![(1, ContributionCategory::Verification, 10), (2, ContributionCategory::Verification, 10)]);
		assert_eq!(VoterRecords::<Test>::get(3).strikes, 0);
	});
}

#[test]
fn a_voter_suspended_after_the_draw_is_not_penalized_for_not_voting() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		VoterRecords::<Test>::insert(3, VoterRecord { strikes: 0, suspensions: 1, suspended_until: 5 });
		assert_noop!(commit(3, id, Verdict::Valid), Error::<Test>::VoterSuspended);
		for who in [1, 2] {
			assert_ok!(commit(who, id, Verdict::Valid));
		}
		run_to(1 + COMMIT);
		for who in [1, 2] {
			assert_ok!(reveal(who, id, Verdict::Valid));
		}
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decision_of(id).outcome, Outcome::Accepted);
		assert!(!rep_log().iter().any(|(who, ..)| *who == 3));
	});
}

#[test]
fn an_abstention_fits_either_mode() {
	new_test_ext().execute_with(|| {
		let id = WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)).unwrap();
		assert_ok!(commit(1, id, Verdict::Abstain));
		assert_ok!(commit(2, id, Verdict::Valid));
		run_to(1 + COMMIT);
		assert_ok!(reveal(1, id, Verdict::Abstain));
		assert_noop!(reveal(2, id, Verdict::Valid), Error::<Test>::WrongVerdictKind);
	});
}

#[test]
fn the_budget_not_a_count_decides_how_many_claims_a_block_tallies() {
	new_test_ext().execute_with(|| {
		// The budget holds two tallies of `MaxVoters` (5) voters. Claims judged by one voter
		// cost less to decide: more of them fit in one block.
		set_voters(&[(1, 100)]);
		let ids: Vec<_> = (0..6).map(|_| open(9)).collect();
		assert!(ids.iter().all(|id| voters_of(*id) == vec![1]));
		run_to(1 + COMMIT + REVEAL);
		let first_block = decided().len();
		assert!(first_block > 2, "only {first_block} one-voter claims decided in a budget for two five-voter ones");
		run_to(3 + COMMIT + REVEAL);
		assert_eq!(sorted(decided().iter().map(|d| d.0)), ids, "the rest in the next blocks");
	});
}

#[test]
fn the_tally_hook_spends_no_more_than_its_budget() {
	new_test_ext().execute_with(|| {
		let ids: Vec<_> = (0..5).map(|_| open(9)).collect();
		assert_eq!(voters_of(ids[0]), vec![1, 2, 3]);
		room_for(2, 3);
		let verdict = |who| if who == 3 { Verdict::Invalid } else { Verdict::Valid };
		for id in &ids {
			for who in 1..=3 {
				assert_ok!(commit(who, *id, verdict(who)));
			}
		}
		run_to(1 + COMMIT);
		for id in &ids {
			for who in 1..=3 {
				assert_ok!(reveal(who, *id, verdict(who)));
			}
		}
		let end = 1 + COMMIT + REVEAL;
		run_to(end - 1);
		System::set_block_number(end);
		let used = WeightedVoting::on_initialize(end);
		// Outside the budget: pruning, at most two claims' worth when the budget is spent.
		let fixed = WeightedVoting::prune_bound(2);
		assert!(used.all_lte(TallyBudget::get().saturating_add(fixed)), "{used:?} over the budget {:?} + {fixed:?}", TallyBudget::get());
		assert_eq!(decided().len(), 2, "room for two, not three");
		assert!(events().contains(&Event::TalliesCarriedOver { since: end }));
	});
}

#[test]
#[should_panic(expected = "TallyBudget must hold a tally of MaxVoters voters")]
fn a_budget_without_room_for_one_tally_fails_the_integrity_test() {
	new_test_ext().execute_with(|| {
		TallyBudget::set(Weight::from_parts(1_000_000, 0));
		<WeightedVoting as frame_support::traits::Hooks<u64>>::integrity_test();
	});
}

#[test]
fn more_claims_ending_in_one_block_than_k_carry_over() {
	new_test_ext().execute_with(|| {
		let ids: Vec<_> = (0..5).map(|_| open(9)).collect();
		room_for(2, voters_of(ids[0]).len() as u32);
		run_to(1 + COMMIT + REVEAL);
		// Room for two: two decided, three carried over; they wait at their deadline.
		let end = 1 + COMMIT + REVEAL;
		assert_eq!(decided().len(), 2);
		assert!(events().contains(&Event::TalliesCarriedOver { since: end }));
		assert_eq!(Deadlines::<Test>::iter_key_prefix(end).count(), 3);
		assert_eq!(TallyIncompleteSince::<Test>::get(), Some(end));
		WeightedVoting::do_try_state().unwrap();
		run_to(end + 1);
		assert_eq!(decided().len(), 4);
		run_to(end + 2);
		assert_eq!(sorted(decided().iter().map(|d| d.0)), ids);
		assert_eq!(TallyIncompleteSince::<Test>::get(), None, "nothing left behind");
		assert_eq!(Deadlines::<Test>::iter().count(), 0);
		assert_eq!(OpenClaims::<Test>::count(), 0);
	});
}

#[test]
fn repeated_divergence_suspends_for_doubling_periods() {
	new_test_ext().execute_with(|| {
		let against = [Some(Verdict::Valid), Some(Verdict::Valid), Some(Verdict::Invalid)];
		let mut start = 1;
		let round = |start: &mut u64| {
			System::set_block_number(*start);
			let id = open(9);
			for (who, v) in (1..=3).zip(against) {
				assert_ok!(commit(who, id, v.unwrap()));
			}
			run_to(*start + COMMIT);
			for (who, v) in (1..=3).zip(against) {
				assert_ok!(reveal(who, id, v.unwrap()));
			}
			run_to(*start + COMMIT + REVEAL);
			*start += COMMIT + REVEAL + 1;
		};
		round(&mut start);
		assert_eq!(VoterRecords::<Test>::get(3), VoterRecord { strikes: 1, suspensions: 0, suspended_until: 0 });
		round(&mut start);
		// Limit 2 reached in session 0: suspended for the base, 3 sessions.
		assert_eq!(VoterRecords::<Test>::get(3), VoterRecord { strikes: 0, suspensions: 1, suspended_until: 3 });
		assert!(events().contains(&Event::VoterSuspended { who: 3, until: 3 }));
		// Suspended voters are left out of new electorates.
		assert!(!voters_of(open(9)).contains(&3));
		set_session(3);
		round(&mut start);
		round(&mut start);
		// Second suspension: twice the base.
		assert_eq!(VoterRecords::<Test>::get(3), VoterRecord { strikes: 0, suspensions: 2, suspended_until: 9 });
		// A vote with the outcome clears the strikes.
		set_session(9);
		round(&mut start);
		let id = vote_and_tally_at(&mut start, [Verdict::Valid; 3]);
		assert_eq!(decision_of(id).outcome, Outcome::Accepted);
		assert_eq!(VoterRecords::<Test>::get(3).strikes, 0);
	});
}

fn vote_and_tally_at(start: &mut u64, verdicts: [Verdict; 3]) -> ClaimId {
	System::set_block_number(*start);
	let id = open(9);
	for (who, v) in (1..=3).zip(verdicts) {
		assert_ok!(commit(who, id, v));
	}
	run_to(*start + COMMIT);
	for (who, v) in (1..=3).zip(verdicts) {
		assert_ok!(reveal(who, id, v));
	}
	run_to(*start + COMMIT + REVEAL);
	*start += COMMIT + REVEAL + 1;
	id
}

#[test]
fn score_mode_uses_the_weighted_median_and_penalizes_outliers() {
	new_test_ext().execute_with(|| {
		set_voters(&[(1, 100), (2, 100), (3, 300)]);
		let mut r = request(ClaimClass::EvaluationScore, 9);
		r.claimed_score = Some(905);
		let id = WeightedVoting::open_claim(r).unwrap();
		let scores = [(1, 400), (2, 950), (3, 900)];
		for (who, s) in scores {
			assert_ok!(commit(who, id, Verdict::Score(s)));
		}
		run_to(1 + COMMIT);
		assert_noop!(reveal(1, id, Verdict::Valid), Error::<Test>::WrongVerdictKind);
		for (who, s) in scores {
			assert_ok!(reveal(who, id, Verdict::Score(s)));
		}
		run_to(1 + COMMIT + REVEAL);
		let d = decision_of(id);
		// Sorted 400 (w 100), 900 (w 300), 950 (w 100): the median is 900; 905 is within 10.
		assert_eq!((d.outcome, d.score), (Outcome::Accepted, Some(900)));
		assert_eq!(d.agreeing_weight, 300 * NW);
		let log = rep_log();
		assert!(log.contains(&(1, -5_000, RR::VotedAgainstOutcome)));
		assert!(log.contains(&(2, -5_000, RR::VotedAgainstOutcome)));
		assert!(log.contains(&(3, 1_000, RR::VotedWithOutcome)));
		assert_eq!(points(), vec![(3, ContributionCategory::Verification, 10)]);
	});
}

#[test]
fn score_claim_far_from_the_median_is_rejected_and_slashed() {
	new_test_ext().execute_with(|| {
		let mut r = request(ClaimClass::EvaluationScore, 9);
		r.claimed_score = Some(990);
		let id = WeightedVoting::open_claim(r).unwrap();
		for who in 1..=3 {
			assert_ok!(commit(who, id, Verdict::Score(800 + who as u32)));
		}
		run_to(1 + COMMIT);
		for who in 1..=3 {
			assert_ok!(reveal(who, id, Verdict::Score(800 + who as u32)));
		}
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decision_of(id).score, Some(802));
		assert_eq!(decision_of(id).outcome, Outcome::Rejected);
		assert_eq!(slashes(), vec![(9, Perbill::from_percent(10), SlashReason::ForgedLearning)]);
		// All three are within 10 of the median: they agree.
		assert_eq!(points().len(), 3);
	});
}

// --- sealed claimed scores ---

/// Opens an evaluation-score claim by 9 with its score 850 sealed under salt `[5; 32]`.
fn open_sealed() -> ClaimId {
	let mut r = request(ClaimClass::EvaluationScore, 9);
	r.sealed_score = Some(score_seal(&9u64, 850, &[5; 32]));
	WeightedVoting::open_claim(r).unwrap()
}

/// 1, 2, 3 commit and reveal scores 801, 802, 803.
fn score_votes(id: ClaimId, start: u64) {
	for who in 1..=3 {
		assert_ok!(commit(who, id, Verdict::Score(800 + who as u32)));
	}
	run_to(start + COMMIT);
	for who in 1..=3 {
		assert_ok!(reveal(who, id, Verdict::Score(800 + who as u32)));
	}
}

#[test]
fn a_sealed_score_is_hidden_from_voters_until_the_commits_are_in() {
	new_test_ext().execute_with(|| {
		let id = open_sealed();
		// A lazy voter has nothing to copy.
		assert_eq!(WeightedVoting::claims_for_voter(&1)[0].claimed_score, None);
		assert_eq!(Claims::<Test>::get(id).unwrap().claimed_score, None);
		let reveal_score = |who, score, salt| WeightedVoting::reveal_claimed_score(RuntimeOrigin::signed(who), id, score, salt);
		assert_noop!(reveal_score(9, 850, [5; 32]), Error::<Test>::RevealPeriodNotStarted);
		assert!(WeightedVoting::scores_to_reveal(&9).is_empty());
		score_votes(id, 1);
		assert_eq!(WeightedVoting::scores_to_reveal(&9), vec![id]);
		assert_noop!(reveal_score(1, 850, [5; 32]), Error::<Test>::NotTheClaimant);
		assert_noop!(reveal_score(9, 851, [5; 32]), Error::<Test>::SealMismatch);
		assert_noop!(reveal_score(9, 850, [6; 32]), Error::<Test>::SealMismatch);
		assert_ok!(reveal_score(9, 850, [5; 32]));
		assert!(events().contains(&Event::ClaimedScoreRevealed { claim: id, claimant: 9, score: 850 }));
		assert_noop!(reveal_score(9, 850, [5; 32]), Error::<Test>::ScoreAlreadyRevealed);
		assert!(WeightedVoting::scores_to_reveal(&9).is_empty());
		run_to(1 + COMMIT + REVEAL);
		// The revealed score is judged like a shown one: 850 is 48 from the median 802.
		assert_eq!((decision_of(id).outcome, decision_of(id).score), (Outcome::Rejected, Some(802)));
		assert_eq!(slashes().len(), 1);
	});
}

#[test]
fn a_sealed_score_never_revealed_rejects_the_claim() {
	new_test_ext().execute_with(|| {
		let mut r = request(ClaimClass::EvaluationScore, 9);
		r.sealed_score = Some(score_seal(&9u64, 802, &[5; 32]));
		let id = WeightedVoting::open_claim(r).unwrap();
		score_votes(id, 1);
		run_to(1 + COMMIT + REVEAL);
		// The median would have confirmed 802, but the claimant did not stand by it.
		assert_eq!((decision_of(id).outcome, decision_of(id).score), (Outcome::Rejected, Some(802)));
		assert!(events().contains(&Event::ClaimedScoreWithheld { claim: id, claimant: 9 }));
		assert_eq!(slashes(), vec![(9, Perbill::from_percent(10), SlashReason::ForgedLearning)]);
		assert!(rep_log().contains(&(9, -50_000, RR::ClaimRejected)));
		// The voters near the median still agree and are paid.
		assert_eq!(points().len(), 3);
		assert_noop!(WeightedVoting::reveal_claimed_score(RuntimeOrigin::signed(9), id, 802, [5; 32]), Error::<Test>::UnknownClaim);
	});
}

#[test]
fn an_accepted_claim_that_does_not_beat_its_bound_earns_its_claimant_nothing() {
	new_test_ext().execute_with(|| {
		// An unchanged model, re-encoded: its true score (802) claimed truthfully, no better
		// than the version it copies (802).
		let mut r = request(ClaimClass::EvaluationScore, 9);
		r.claimed_score = Some(802);
		r.must_beat = Some(ScoreBound { score: 802, higher_is_better: true });
		let id = WeightedVoting::open_claim(r.clone()).unwrap();
		score_votes(id, 1);
		run_to(1 + COMMIT + REVEAL);
		let bound = ScoreBound { score: 802, higher_is_better: true };
		assert_eq!(decision_of(id).outcome, Outcome::Accepted);
		assert!(events().contains(&Event::ClaimNotImproving { claim: id, claimant: 9, bound }));
		assert!(!rep_log().iter().any(|(who, ..)| *who == 9), "no reputation for no improvement");
		assert!(slashes().is_empty(), "a truthful claim is not slashed");
		assert_eq!(points().len(), 3, "the voters did their work");
		// Beating the bound earns the claimant's reward (lower is better here: 802 < 900).
		let start = 1 + COMMIT + REVEAL;
		r.must_beat = Some(ScoreBound { score: 900, higher_is_better: false });
		let id = WeightedVoting::open_claim(r).unwrap();
		score_votes(id, start);
		run_to(start + COMMIT + REVEAL);
		assert!(rep_log().contains(&(9, 20_000, RR::ClaimAccepted)));
		let mut binary = request(ClaimClass::QueryResult, 9);
		binary.must_beat = Some(bound);
		assert_noop!(WeightedVoting::open_claim(binary), Error::<Test>::ClaimedScoreInBinaryMode);
	});
}

#[test]
fn a_score_is_shown_or_sealed_and_only_a_sealed_one_is_revealed() {
	new_test_ext().execute_with(|| {
		let mut both = request(ClaimClass::EvaluationScore, 9);
		both.claimed_score = Some(1);
		both.sealed_score = Some(H256::repeat_byte(1));
		assert_noop!(WeightedVoting::open_claim(both), Error::<Test>::ScoreShownAndSealed);
		let mut binary = request(ClaimClass::QueryResult, 9);
		binary.sealed_score = Some(H256::repeat_byte(1));
		assert_noop!(WeightedVoting::open_claim(binary), Error::<Test>::ClaimedScoreInBinaryMode);
		let mut shown = request(ClaimClass::EvaluationScore, 9);
		shown.claimed_score = Some(802);
		let id = WeightedVoting::open_claim(shown).unwrap();
		run_to(1 + COMMIT);
		assert_noop!(WeightedVoting::reveal_claimed_score(RuntimeOrigin::signed(9), id, 802, [0; 32]), Error::<Test>::ScoreNotSealed);
	});
}

#[test]
fn the_v2_migration_gives_stored_claims_no_seal_once() {
	use crate::migrations::v2::{MigrateV1ToV2, OldClaim};
	use codec::Encode;
	use frame_support::{
		storage::unhashed,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	new_test_ext().execute_with(|| {
		let mut r = request(ClaimClass::EvaluationScore, 9);
		r.claimed_score = Some(802);
		let id = WeightedVoting::open_claim(r).unwrap();
		let c = Claims::<Test>::get(id).unwrap();
		let old = OldClaim {
			class: c.class,
			claimant: c.claimant,
			subject: c.subject,
			commitment: c.commitment,
			claimed_score: c.claimed_score,
			thresholds: c.thresholds,
			params: c.params,
			opened_at: c.opened_at,
			commit_end: c.commit_end,
			reveal_end: c.reveal_end,
			eligible_weight: c.eligible_weight,
			status: c.status,
		};
		unhashed::put_raw(&Claims::<Test>::hashed_key_for(id), &old.encode());
		StorageVersion::new(1).put::<WeightedVoting>();
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		let migrated = crate::migrations::v5::ClaimsV4::<Test>::get(id).unwrap();
		assert_eq!((migrated.claimed_score, migrated.sealed_score, migrated.must_beat, migrated.reveal_end), (Some(802), None, None, c.reveal_end));
		assert_eq!(WeightedVoting::on_chain_storage_version(), 2);
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");
	});
}

#[test]
fn the_v5_migration_gives_stored_claims_no_submission_session_once() {
	use crate::migrations::v5::{ClaimV4, ClaimsV4, MigrateV4ToV5};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		set_session(2);
		let id = open(9);
		let c = Claims::<Test>::get(id).unwrap();
		let old = ClaimV4 {
			class: c.class,
			claimant: c.claimant,
			subject: c.subject,
			commitment: c.commitment,
			claimed_score: c.claimed_score,
			sealed_score: c.sealed_score,
			must_beat: c.must_beat,
			thresholds: c.thresholds,
			params: c.params,
			opened_at: c.opened_at,
			commit_end: c.commit_end,
			reveal_end: c.reveal_end,
			eligible_weight: c.eligible_weight,
			status: c.status,
		};
		ClaimsV4::<Test>::insert(id, old);
		assert_ne!(Claims::<Test>::get(id).as_ref(), Some(&c), "read in the new layout, the old bytes are not the claim");
		StorageVersion::new(4).put::<WeightedVoting>();
		MigrateV4ToV5::<Test>::on_runtime_upgrade();
		let migrated = Claims::<Test>::get(id).unwrap();
		assert_eq!(migrated, Claim { submitted_in: None, ..c });
		assert_eq!(WeightedVoting::on_chain_storage_version(), 5);
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV4ToV5::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");
	});
}

#[test]
fn decided_claims_are_pruned_after_the_retention() {
	new_test_ext().execute_with(|| {
		let id = vote_and_tally([Some(Verdict::Valid); 3]);
		let decided_at = 1 + COMMIT + REVEAL;
		run_to(decided_at + 9);
		assert!(Claims::<Test>::get(id).is_some());
		run_to(decided_at + 10);
		assert!(Claims::<Test>::get(id).is_none());
		assert_eq!(PruneCursor::<Test>::get(), 1);
	});
}

#[test]
fn runtime_api_reports_claims_to_vote_on_and_tallies() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		let for_1 = WeightedVoting::claims_for_voter(&1);
		assert_eq!(for_1.len(), 1);
		assert_eq!((for_1[0].claim, for_1[0].phase, for_1[0].committed), (id, runtime_api::Phase::Commit, false));
		assert!(WeightedVoting::claims_for_voter(&4).is_empty());
		assert_ok!(commit(1, id, Verdict::Valid));
		run_to(1 + COMMIT);
		let for_1 = WeightedVoting::claims_for_voter(&1);
		assert_eq!((for_1[0].phase, for_1[0].committed), (runtime_api::Phase::Reveal, true));
		assert_ok!(reveal(1, id, Verdict::Valid));
		let t = WeightedVoting::tally_of(id).unwrap();
		assert_eq!((t.voters, t.committed, t.revealed), (3, 1, 1));
		assert_eq!(t.valid_weight, 100 * NW);
		assert_eq!(t.decision, None);
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(WeightedVoting::tally_of(id).unwrap().decision.map(|d| d.outcome), Some(Outcome::NoQuorum));
		assert!(WeightedVoting::claims_for_voter(&1).is_empty());
	});
}

// ---- ballots and batches ----

fn commits(votes: &[(ClaimId, H256)]) -> BoundedVec<VoteCommit, <Test as Config>::MaxVotesPerCall> {
	let v: Vec<_> = votes.iter().map(|&(claim, commitment)| VoteCommit { claim, claim_commitment: claim_commitment(claim), commitment }).collect();
	BoundedVec::try_from(v).unwrap()
}

fn reveals(votes: &[(ClaimId, Verdict, [u8; 32])]) -> BoundedVec<VoteReveal, <Test as Config>::MaxVotesPerCall> {
	let v: Vec<_> = votes.iter().map(|&(claim, verdict, salt)| VoteReveal { claim, verdict, salt }).collect();
	BoundedVec::try_from(v).unwrap()
}

#[test]
fn a_vote_writes_its_own_ballot_only() {
	new_test_ext().execute_with(|| {
		let id = open(9);
		let before: Vec<_> = [2u64, 3].iter().map(|w| Ballots::<Test>::get(id, w)).collect();
		assert_ok!(commit(1, id, Verdict::Valid));
		assert!(Ballots::<Test>::get(id, 1).unwrap().commitment.is_some());
		let after: Vec<_> = [2u64, 3].iter().map(|w| Ballots::<Test>::get(id, w)).collect();
		assert_eq!(before, after);
		assert_eq!(WeightedVoting::electorate_size(id), 3);
		assert_noop!(commit(4, id, Verdict::Valid), Error::<Test>::NotEligible);
	});
}

#[test]
fn one_batch_commits_and_one_reveals_votes_on_several_claims() {
	new_test_ext().execute_with(|| {
		let ids = [open(9), open(9), open(9)];
		let vote = |id| crate::vote_commitment(id, &1u64, &Verdict::Valid, &salt(1));
		assert_ok!(WeightedVoting::commit_votes(RuntimeOrigin::signed(1), commits(&ids.map(|id| (id, vote(id))))));
		for id in ids {
			assert_ok!(commit(2, id, Verdict::Valid));
		}
		run_to(1 + COMMIT);
		assert_ok!(WeightedVoting::reveal_votes(RuntimeOrigin::signed(1), reveals(&ids.map(|id| (id, Verdict::Valid, salt(1))))));
		for id in ids {
			assert_ok!(reveal(2, id, Verdict::Valid));
		}
		assert!(!events().iter().any(|e| matches!(e, Event::VoteFailed { .. })));
		run_to(1 + COMMIT + REVEAL);
		for id in ids {
			assert_eq!(decision_of(id).outcome, Outcome::Accepted, "claim {id}: both batched votes counted");
			assert_eq!(voters_of(id), vec![1, 2, 3], "the ballots stay until the claim is pruned");
		}
	});
}

#[test]
fn a_failing_vote_in_a_batch_changes_nothing_and_the_others_stand() {
	new_test_ext().execute_with(|| {
		let (a, b) = (open(9), open(1));
		let vote = |id| crate::vote_commitment(id, &1u64, &Verdict::Valid, &salt(1));
		// Unknown claim; 1 is the claimant of `b`; `a` twice (the second is a repeat).
		let batch = commits(&[(77, vote(77)), (b, vote(b)), (a, vote(a)), (a, H256::repeat_byte(5))]);
		assert_ok!(WeightedVoting::commit_votes(RuntimeOrigin::signed(1), batch));
		let failed: Vec<_> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::VoteFailed { claim, voter: 1, error } => Some((claim, error)),
				_ => None,
			})
			.collect();
		assert_eq!(
			failed,
			vec![
				(77, Error::<Test>::UnknownClaim.into()),
				(b, Error::<Test>::ClaimantCannotVote.into()),
				(a, Error::<Test>::AlreadyCommitted.into()),
			]
		);
		assert_eq!(Ballots::<Test>::get(a, 1).unwrap().commitment, Some(vote(a)), "the first commit of `a` stands, the repeat did not replace it");
		assert!(Ballots::<Test>::get(b, 1).is_none());

		// A reveal batch: a wrong salt fails alone.
		assert_ok!(commit(2, a, Verdict::Invalid));
		run_to(1 + COMMIT);
		assert_ok!(WeightedVoting::reveal_votes(RuntimeOrigin::signed(1), reveals(&[(a, Verdict::Invalid, salt(1)), (a, Verdict::Valid, salt(1))])));
		assert!(events().contains(&Event::VoteFailed { claim: a, voter: 1, error: Error::<Test>::RevealMismatch.into() }));
		assert_eq!(Ballots::<Test>::get(a, 1).unwrap().verdict, Some(Verdict::Valid));
	});
}

#[test]
fn an_empty_batch_is_refused() {
	new_test_ext().execute_with(|| {
		assert_noop!(WeightedVoting::commit_votes(RuntimeOrigin::signed(1), commits(&[])), Error::<Test>::EmptyBatch);
		assert_noop!(WeightedVoting::reveal_votes(RuntimeOrigin::signed(1), reveals(&[])), Error::<Test>::EmptyBatch);
	});
}

#[test]
fn a_batch_is_charged_for_its_votes() {
	use crate::weights::WeightInfo;
	use frame_support::dispatch::GetDispatchInfo;
	let call = |n: usize| crate::Call::<Test>::commit_votes {
		votes: BoundedVec::truncate_from(vec![VoteCommit { claim: 0, claim_commitment: H256::zero(), commitment: H256::zero() }; n]),
	};
	assert_eq!(call(1).get_dispatch_info().call_weight, <() as WeightInfo>::commit_votes(1));
	assert_eq!(call(4).get_dispatch_info().call_weight, <() as WeightInfo>::commit_votes(4));
	assert!(<() as WeightInfo>::commit_votes(1).all_lt(<() as WeightInfo>::commit_votes(4)));
}

#[test]
fn the_v3_migration_moves_each_electorate_into_ballots_once() {
	use crate::migrations::v3::{Electorates, MigrateV2ToV3};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let id = open(9);
		assert_ok!(commit(1, id, Verdict::Valid));
		let electorate = WeightedVoting::electorate(id);
		assert_eq!(electorate.len(), 3);
		// Storage as version 2 kept it.
		let _ = Ballots::<Test>::clear_prefix(id, u32::MAX, None);
		ElectorateSizes::<Test>::remove(id);
		Electorates::<Test>::insert(id, BoundedVec::truncate_from(electorate.clone()));
		StorageVersion::new(2).put::<WeightedVoting>();
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(WeightedVoting::electorate(id), electorate);
		assert_eq!(WeightedVoting::electorate_size(id), 3);
		assert!(!Electorates::<Test>::contains_key(id));
		assert_eq!(WeightedVoting::on_chain_storage_version(), 3);
		assert_ok!(WeightedVoting::do_try_state());
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");
		// The migrated votes count: 1's commitment survived.
		run_to(1 + COMMIT);
		assert_ok!(reveal(1, id, Verdict::Valid));
	});
}

// ---- committees ----

/// Eight voters of stake 100 each but 8, of 700.
fn eight_voters() {
	set_voters(&[(1, 100), (2, 100), (3, 100), (4, 100), (5, 100), (6, 100), (7, 100), (8, 700)]);
}

#[test]
fn a_committee_is_drawn_from_the_eligible_without_the_parties() {
	new_test_ext().execute_with(|| {
		eight_voters();
		CommitteeSizes::<Test>::insert(ClaimClass::QueryResult, 3);
		let id = WeightedVoting::open_claim(ClaimRequest { conflicted: vec![2], ..request(ClaimClass::QueryResult, 1) }).unwrap();
		let voters = voters_of(id);
		assert_eq!(voters.len(), 3, "{voters:?}");
		assert!(!voters.contains(&1) && !voters.contains(&2), "neither the claimant nor the conflicted: {voters:?}");
		let claim = Claims::<Test>::get(id).unwrap();
		let weights: u128 = WeightedVoting::electorate(id).iter().map(|b| b.weight).sum();
		assert_eq!(claim.eligible_weight, weights, "the committee's weight is the claim's");
		assert!(events().iter().any(|e| matches!(e, Event::ClaimOpened { claim, voters: 3, .. } if *claim == id)));
		// A validator not drawn cannot vote.
		let outsider = (3..=8).find(|v| !voters.contains(v)).unwrap();
		assert_noop!(commit(outsider, id, Verdict::Valid), Error::<Test>::NotEligible);
		// The committee decides alone.
		for v in &voters {
			assert_ok!(commit(*v, id, Verdict::Invalid));
		}
		System::set_block_number(1 + COMMIT);
		for v in &voters {
			assert_ok!(reveal(*v, id, Verdict::Invalid));
		}
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decided()[0].3.outcome, Outcome::Rejected);
	});
}

#[test]
fn the_draw_is_deterministic_for_a_seed_and_follows_the_weights() {
	new_test_ext().execute_with(|| {
		eight_voters();
		let ballots: Vec<_> = (1..=8u64).map(|who| Ballot { who, weight: if who == 8 { 7 } else { 1 }, commitment: None, verdict: None }).collect();
		let a = WeightedVoting::draw_committee(0, ballots.clone(), 2);
		assert_eq!(a, WeightedVoting::draw_committee(0, ballots.clone(), 2), "same block and claim, same committee");
		// Over 200 seeds, the voter with 7 of the 14 weight units is in a committee of 2 about
		// 0.5 + 0.5 · 7/13 ≈ 77 % of the time; each light one about 3.3 %.
		let mut heavy = 0;
		let mut seen = std::collections::BTreeSet::new();
		for seed in 0..200 {
			RandomSeed::set(seed);
			let drawn = WeightedVoting::draw_committee(0, ballots.clone(), 2);
			assert_eq!(drawn.len(), 2);
			assert_ne!(drawn[0].who, drawn[1].who, "no voter twice");
			heavy += drawn.iter().filter(|b| b.who == 8).count();
			seen.extend(drawn.iter().map(|b| b.who));
		}
		assert!((130..180).contains(&heavy), "the heavy voter drawn {heavy} times of 200");
		assert_eq!(seen.len(), 8, "everyone can be drawn");
	});
}

#[test]
fn without_a_committee_or_with_one_as_large_as_the_electorate_everyone_votes() {
	new_test_ext().execute_with(|| {
		eight_voters();
		// Every eligible voter, up to MaxVoters (the heaviest).
		let all = voters_of(open(9));
		assert_eq!(all.len(), 8.min(<<Test as Config>::MaxVoters as Get<u32>>::get() as usize));
		CommitteeSizes::<Test>::insert(ClaimClass::QueryResult, 8);
		assert_eq!(voters_of(open(9)), all);
	});
}

#[test]
fn the_admin_sets_committee_sizes() {
	new_test_ext().execute_with(|| {
		MinVoters::set(3);
		assert_noop!(WeightedVoting::set_committee_size(RuntimeOrigin::signed(1), ClaimClass::QueryResult, 5), DispatchError::BadOrigin);
		assert_noop!(WeightedVoting::set_committee_size(RuntimeOrigin::root(), ClaimClass::QueryResult, 2), Error::<Test>::CommitteeTooSmall);
		assert_ok!(WeightedVoting::set_committee_size(RuntimeOrigin::root(), ClaimClass::QueryResult, 5));
		assert_eq!(CommitteeSizes::<Test>::get(ClaimClass::QueryResult), Some(5));
		assert!(events().contains(&Event::CommitteeSizeSet { class: ClaimClass::QueryResult, size: 5 }));
		assert_ok!(WeightedVoting::set_committee_size(RuntimeOrigin::root(), ClaimClass::QueryResult, 0));
		assert!(!CommitteeSizes::<Test>::contains_key(ClaimClass::QueryResult));
	});
}

#[test]
fn a_committee_without_a_quorum_is_followed_by_a_larger_one_then_by_everyone() {
	new_test_ext().execute_with(|| {
		eight_voters();
		CommitteeSizes::<Test>::insert(ClaimClass::QueryResult, 1);
		let id = open(9);
		let first = voters_of(id);
		assert_eq!(first.len(), 1);
		assert_eq!(Committees::<Test>::get(id), Some(CommitteeRound { size: 1, level: 0 }));
		// Nobody votes: no quorum, so a committee of 2·1 + 1 = 3 is drawn and votes again.
		run_to(1 + COMMIT + REVEAL);
		assert!(decided().is_empty(), "not decided yet");
		let second = voters_of(id);
		assert_eq!(second.len(), 3);
		let claim = Claims::<Test>::get(id).unwrap();
		assert_eq!(claim.status, ClaimStatus::Voting);
		assert!(events().iter().any(|e| matches!(e, Event::ClaimEscalated { claim, level: 1, voters: 3, .. } if *claim == id)));
		assert!(rep_log().iter().any(|(who, _, reason)| *who == first[0] && *reason == RR::NotVoted), "the no-show paid");
		assert!(WeightedVoting::do_try_state().is_ok());
		// Still nobody: every eligible validator (up to MaxVoters) votes at the last level.
		run_to(claim.reveal_end);
		let third = voters_of(id);
		assert_eq!(third.len(), 5);
		assert_eq!(Committees::<Test>::get(id).map(|r| r.level), Some(2));
		let claim = Claims::<Test>::get(id).unwrap();
		for v in &third {
			assert_ok!(commit(*v, id, Verdict::Valid));
		}
		run_to(claim.commit_end);
		for v in &third {
			assert_ok!(reveal(*v, id, Verdict::Valid));
		}
		run_to(claim.reveal_end);
		assert_eq!(decided()[0].3.outcome, Outcome::Accepted);
		assert!(Committees::<Test>::get(id).is_none() && !OpenClaims::<Test>::contains_key(id));
		assert!(WeightedVoting::do_try_state().is_ok());
	});
}

/// Attack: two colluders drawn into a committee of four split it 2 : 2, and a tie rejects an
/// honest claim (its claimant slashed). A verdict with less than the decisive share behind it
/// goes to a larger committee instead, and the last one (everyone) decides.
#[test]
fn a_close_committee_verdict_is_escalated_and_everyone_decides() {
	new_test_ext().execute_with(|| {
		DecisiveShare::set(Perbill::from_percent(67));
		set_voters(&[(1, 100), (2, 100), (3, 100), (4, 100), (5, 100), (6, 100), (9, 100)]);
		CommitteeSizes::<Test>::insert(ClaimClass::QueryResult, 4);
		let id = open(9);
		let first = voters_of(id);
		assert_eq!(first.len(), 4);
		// Half of the committee votes the honest claim down.
		let vote = |k: usize| if k < 2 { Verdict::Invalid } else { Verdict::Valid };
		for (k, v) in first.iter().enumerate() {
			assert_ok!(commit(*v, id, vote(k)));
		}
		run_to(1 + COMMIT);
		for (k, v) in first.iter().enumerate() {
			assert_ok!(reveal(*v, id, vote(k)));
		}
		run_to(1 + COMMIT + REVEAL);
		assert!(decided().is_empty(), "a tie does not stand");
		assert!(slashes().is_empty(), "nobody slashed for it");
		assert!(events().iter().any(|e| matches!(e, Event::CloseVerdictEscalated { claim, outcome: Outcome::Rejected, .. } if *claim == id)));
		assert!(events().iter().any(|e| matches!(e, Event::ClaimEscalated { claim, level: 1, .. } if *claim == id)));
		// The larger committee (here every eligible validator, at most 5 by MaxVoters) votes
		// 4 : 1 for the claim: it stands.
		let second = voters_of(id);
		assert!(second.len() > first.len());
		let claim = Claims::<Test>::get(id).unwrap();
		for (k, v) in second.iter().enumerate() {
			assert_ok!(commit(*v, id, if k == 0 { Verdict::Invalid } else { Verdict::Valid }));
		}
		run_to(claim.commit_end);
		for (k, v) in second.iter().enumerate() {
			assert_ok!(reveal(*v, id, if k == 0 { Verdict::Invalid } else { Verdict::Valid }));
		}
		let claim = Claims::<Test>::get(id).unwrap();
		run_to(claim.reveal_end);
		assert_eq!(decided()[0].3.outcome, Outcome::Accepted);
		assert!(slashes().is_empty());
		assert!(WeightedVoting::do_try_state().is_ok());
	});
}

#[test]
fn the_last_round_without_a_quorum_is_decided_as_no_quorum() {
	new_test_ext().execute_with(|| {
		eight_voters();
		CommitteeSizes::<Test>::insert(ClaimClass::QueryResult, 2);
		let id = open(9);
		for _ in 0..3 {
			let end = Claims::<Test>::get(id).unwrap().reveal_end;
			run_to(end);
		}
		assert_eq!(decided().len(), 1);
		assert_eq!(decided()[0].3.outcome, Outcome::NoQuorum);
		assert!(Committees::<Test>::get(id).is_none());
	});
}

/// Hypergeometric tail: the probability that a committee of `k` drawn from `n` equal voters,
/// `d` of them dishonest, holds at least `at_least` dishonest members.
fn capture_probability(n: u64, d: u64, k: u64, at_least: u64) -> f64 {
	let ln_choose = |a: u64, b: u64| -> f64 { (1..=b).map(|i| ((a - b + i) as f64).ln() - (i as f64).ln()).sum() };
	(at_least..=k.min(d)).map(|x| (ln_choose(d, x) + ln_choose(n - d, k - x) - ln_choose(n, k)).exp()).sum()
}

#[test]
fn a_cheat_with_a_tenth_or_three_tenths_of_the_weight_captures_a_committee_as_the_formula_says() {
	// 100 validators of equal weight, a committee of 16: a cheat needs more than half of it
	// (9 voters) to accept its own claim over honest `Invalid` votes. The draw's frequency over
	// 4,000 seeds matches the hypergeometric tail within four standard deviations.
	let ballots: Vec<_> = (0..100u64).map(|who| (who, 1u128)).collect();
	for (dishonest, expected) in [(10u64, capture_probability(100, 10, 16, 9)), (30, capture_probability(100, 30, 16, 9))] {
		let trials = 4_000u32;
		let mut captured = 0u32;
		for t in 0..trials {
			let mut seed = [0u8; 32];
			seed[..4].copy_from_slice(&t.to_le_bytes());
			seed[4] = dishonest as u8;
			let committee = loopx_primitives::draw::weighted_draw(&ballots, 16, seed);
			if committee.iter().filter(|who| **who < dishonest).count() >= 9 {
				captured += 1;
			}
		}
		let p = captured as f64 / trials as f64;
		let sd = (expected * (1.0 - expected) / trials as f64).sqrt();
		assert!((p - expected).abs() <= 4.0 * sd + 1e-4, "{dishonest} %: measured {p}, formula {expected}");
		if dishonest == 10 {
			assert!(expected < 1e-4, "a tenth of the weight almost never captures a committee of 16: {expected}");
		} else {
			assert!(expected > 0.005 && expected < 0.05, "three tenths capture one in {:.0}", 1.0 / expected);
		}
	}
}

/// A development chain upgraded from a runtime with the test-only class (index 4): its
/// configuration and its claims are removed, everything else is kept, once only.
#[test]
fn the_v4_migration_removes_the_retired_test_class_once() {
	use crate::migrations::{
		v4::{retired_claims, retired_key, MigrateV3ToV4, RETIRED_CLASS},
		v6::v5_layout,
	};
	use frame_support::{
		storage::{unhashed, StoragePrefixedMap},
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	new_test_ext().execute_with(|| {
		let kept = open(9);
		let retired = open(8);
		let queued_retired = {
			assert_ok!(WeightedVoting::set_class_quota(RuntimeOrigin::root(), ClaimClass::QueryResult, 2));
			open(8)
		};
		assert!(ClaimQueue::<Test>::get().contains(&queued_retired));
		assert_ok!(commit(1, retired, Verdict::Valid));
		store_in_v5_layout(&[]);
		// Storage as version 3 kept it on a development chain: the test class configured, and
		// two of the claims of that class (one open, one waiting).
		for id in [retired, queued_retired] {
			let key = Claims::<Test>::hashed_key_for(id);
			let mut raw = unhashed::get_raw(&key).unwrap();
			raw[0] = RETIRED_CLASS;
			unhashed::put_raw(&key, &raw);
		}
		let params = ClassParameters::<Test>::get(ClaimClass::QueryResult).unwrap();
		unhashed::put_raw(&retired_key(ClassParameters::<Test>::final_prefix()), &codec::Encode::encode(&params));
		unhashed::put_raw(&retired_key(CommitteeSizes::<Test>::final_prefix()), &codec::Encode::encode(&3u32));
		unhashed::put_raw(&retired_key(OpenPerClass::<Test>::final_prefix()), &codec::Encode::encode(&1u32));
		assert_eq!(retired_claims::<Test>().into_iter().collect::<Vec<_>>(), vec![retired, queued_retired]);
		StorageVersion::new(3).put::<WeightedVoting>();

		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(WeightedVoting::on_chain_storage_version(), 4);
		assert!(retired_claims::<Test>().is_empty());
		for id in [retired, queued_retired] {
			assert!(!Claims::<Test>::contains_key(id));
			assert_eq!(Ballots::<Test>::iter_prefix(id).count(), 0);
			assert!(!ElectorateSizes::<Test>::contains_key(id));
		}
		assert_eq!(v5_layout::OpenClaims::<Test>::get(), vec![kept]);
		assert!(ClaimQueue::<Test>::get().is_empty());
		assert!(v5_layout::Deadlines::<Test>::iter().all(|(_, ids)| ids == vec![kept]));
		for prefix in [ClassParameters::<Test>::final_prefix(), CommitteeSizes::<Test>::final_prefix(), OpenPerClass::<Test>::final_prefix()] {
			assert!(!unhashed::exists(&retired_key(prefix)));
		}
		// Every remaining entry decodes, and the kept claim is decided as before.
		assert_eq!(ClassParameters::<Test>::iter().count(), 2);
		assert_eq!(ClassParameters::<Test>::get(ClaimClass::QueryResult), Some(params));
		// (Its class count still holds the retired claims it was given by the fixture above.)
		OpenPerClass::<Test>::insert(ClaimClass::QueryResult, 1);
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");
		// On to the layout of today (v5 left the claims as they are: written in today's).
		StorageVersion::new(5).put::<WeightedVoting>();
		crate::migrations::v6::MigrateV5ToV6::<Test>::on_runtime_upgrade();
		assert_ok!(WeightedVoting::do_try_state());
		for voter in [1, 2] {
			assert_ok!(commit(voter, kept, Verdict::Valid));
		}
		run_to(1 + COMMIT);
		for voter in [1, 2] {
			assert_ok!(reveal(voter, kept, Verdict::Valid));
		}
		run_to(1 + COMMIT + REVEAL);
		assert_eq!(decision_of(kept).outcome, Outcome::Accepted);
	});
}

/// Drawing an escalated committee reads every validator of the session (ledger, candidacy,
/// reputation, voter record), however few it draws: the tally's bound must pay for all of them,
/// not for the committee's size only, or a block of escalations would run over its budget.
#[test]
fn an_escalation_is_charged_for_reading_every_validator() {
	use crate::weights::WeightInfo;
	use frame_support::weights::constants::RocksDbWeight;
	new_test_ext().execute_with(|| {
		let max: u32 = <<Test as Config>::MaxVoters as frame_support::traits::Get<u32>>::get();
		let round = CommitteeRound { size: 1, level: 0 };
		assert_eq!(round.escalation(), Some((1, Some(3))), "a committee of 3 of at most {max} validators");
		let bound = WeightedVoting::tally_bound(ClaimClass::QueryResult, 1, Some(round));
		let db = RocksDbWeight::get();
		// The opening's fixed reads and writes, 4 reads of each of `max` validators, 3 ballots.
		let reads_and_writes = db.reads(9 + 4 * u64::from(max)).saturating_add(db.writes(6 + 3));
		assert!(bound.all_gte(<() as WeightInfo>::tally(1).saturating_add(reads_and_writes)), "{bound:?} does not pay for reading {max} validators");
	});
}

/// Rewrites the open claims and deadlines as storage versions up to 5 kept them (one list each),
/// with `waiting` (claims whose reveal period ended) in the tally queue instead of at their
/// deadline.
fn store_in_v5_layout(waiting: &[ClaimId]) {
	use crate::migrations::v6::v5_layout;
	let open = WeightedVoting::open_claims();
	let deadlines: Vec<(u64, ClaimId, ())> = Deadlines::<Test>::iter().collect();
	let _ = OpenClaims::<Test>::clear(u32::MAX, None);
	let _ = Deadlines::<Test>::clear(u32::MAX, None);
	TallyIncompleteSince::<Test>::kill();
	v5_layout::OpenClaims::<Test>::put(open);
	let mut by_block: std::collections::BTreeMap<u64, Vec<ClaimId>> = Default::default();
	for (at, id, ()) in deadlines {
		if !waiting.contains(&id) {
			by_block.entry(at).or_default().push(id);
		}
	}
	for (at, mut ids) in by_block {
		ids.sort_unstable();
		v5_layout::Deadlines::<Test>::insert(at, ids);
	}
	v5_layout::TallyQueue::<Test>::put(waiting.to_vec());
}

/// A chain upgraded while claims are open, one of them waiting for its tally: every claim keeps
/// its place (open, at its deadline; the waiting one where the tallies resume), once only.
#[test]
fn the_v6_migration_gives_each_open_claim_and_deadline_a_key_once() {
	use crate::migrations::v6::{v5_layout, MigrateV5ToV6};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let early: Vec<_> = (0..3).map(|_| open(9)).collect();
		run_to(3);
		let late = open(9);
		// The first of the early claims ended and waits for its tally.
		let end = 1 + COMMIT + REVEAL;
		run_to(end - 1);
		System::set_block_number(end);
		store_in_v5_layout(&early[..1]);
		assert_eq!(v5_layout::OpenClaims::<Test>::get(), vec![early[0], early[1], early[2], late]);
		assert_eq!(v5_layout::TallyQueue::<Test>::get(), vec![early[0]]);
		assert!(WeightedVoting::do_try_state().is_err(), "the lists are not read as keys");
		StorageVersion::new(5).put::<WeightedVoting>();

		MigrateV5ToV6::<Test>::on_runtime_upgrade();
		assert_eq!(WeightedVoting::on_chain_storage_version(), 6);
		assert_eq!(WeightedVoting::open_claims(), vec![early[0], early[1], early[2], late]);
		assert_eq!(OpenClaims::<Test>::count(), 4);
		assert_eq!(sorted(Deadlines::<Test>::iter_key_prefix(end)), early);
		assert_eq!(sorted(Deadlines::<Test>::iter_key_prefix(3 + COMMIT + REVEAL)), vec![late]);
		assert_eq!(TallyIncompleteSince::<Test>::get(), Some(end));
		assert!(!v5_layout::TallyQueue::<Test>::exists());
		assert_ok!(WeightedVoting::do_try_state());
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateV5ToV6::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "once only");

		// The block goes on: the three early claims are decided now, the late one at its end.
		WeightedVoting::on_initialize(end);
		assert_eq!(sorted(decided().iter().map(|d| d.0)), early);
		run_to(3 + COMMIT + REVEAL);
		assert_eq!(sorted(decided().iter().map(|d| d.0)), vec![early[0], early[1], early[2], late]);
		assert_eq!(OpenClaims::<Test>::count(), 0);
		assert_ok!(WeightedVoting::do_try_state());
	});
}

/// The pallet's storage, key by key.
fn pallet_state() -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
	let prefix = sp_io::hashing::twox_128(b"WeightedVoting");
	let mut key = prefix.to_vec();
	let mut state = std::collections::BTreeMap::new();
	while let Some(next) = sp_io::storage::next_key(&key).filter(|k| k.starts_with(&prefix)) {
		state.insert(next.clone(), sp_io::storage::get(&next).map(|v| v.to_vec()).unwrap_or_default());
		key = next;
	}
	state
}

/// Bytes of the pallet's storage that `f` writes (new or changed values) or removes (keys).
fn bytes_written(f: impl FnOnce()) -> usize {
	let before = pallet_state();
	f();
	let after = pallet_state();
	let written: usize = after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(_, v)| v.len()).sum();
	written + before.keys().filter(|k| !after.contains_key(*k)).count()
}

/// Opening and deciding a claim must not rewrite a list of every open claim: at thousands open,
/// each opening and each tally would write kilobytes (and 256 was the most the list could hold).
#[test]
fn opening_and_deciding_a_claim_write_as_much_however_many_are_open() {
	let costs = |already: usize| {
		new_test_ext().execute_with(|| {
			for _ in 0..already {
				assert_ok!(WeightedVoting::open_claim(request(ClaimClass::EvaluationScore, 9)));
			}
			let mut id = 0;
			let opening = bytes_written(|| id = open(9));
			for who in 1..=3 {
				assert_ok!(commit(who, id, Verdict::Valid));
			}
			run_to(1 + COMMIT);
			for who in 1..=3 {
				assert_ok!(reveal(who, id, Verdict::Valid));
			}
			let end = Claims::<Test>::get(id).unwrap().reveal_end;
			run_to(end - 1);
			// The others end at the same block: decide `id` alone.
			System::set_block_number(end);
			let deciding = bytes_written(|| {
				Deadlines::<Test>::remove(end, id);
				let _ = WeightedVoting::tally(id, end, &mut Default::default());
			});
			assert_eq!(decision_of(id).outcome, Outcome::Accepted);
			(opening, deciding)
		})
	};
	assert_eq!(costs(6), costs(0), "bytes written by an opening and a tally with 6 others open and with none");
}

/// A tally reads its claim's ballots and leaves them (no write a voter); they go with the claim
/// when it is pruned: after each block's tallies, and in the block's idle weight.
#[test]
fn a_decided_claims_ballots_go_when_it_is_pruned_in_idle_weight() {
	new_test_ext().execute_with(|| {
		let ids: Vec<_> = (0..4).map(|_| open(9)).collect();
		let decided_at = 1 + COMMIT + REVEAL;
		run_to(decided_at);
		assert_eq!(decided().len(), 4);
		assert!(ids.iter().all(|id| voters_of(*id).len() == 3), "the ballots outlive the tally");
		assert_ok!(WeightedVoting::do_try_state());
		run_to(decided_at + 9);
		assert!(ids.iter().all(|id| voters_of(*id).len() == 3), "kept through the retention");
		// The block's idle weight alone prunes them (the mock's database weights are zero: how
		// much fits is the runtime's `claim_capacity_tests`' business).
		System::set_block_number(decided_at + 10);
		WeightedVoting::on_idle(decided_at + 10, Weight::MAX);
		assert!(ids.iter().all(|id| !Claims::<Test>::contains_key(id) && !ElectorateSizes::<Test>::contains_key(id)), "pruned in idle weight");
		assert!(Ballots::<Test>::iter().next().is_none(), "with their ballots");
		assert_eq!(PruneCursor::<Test>::get(), 4);
		assert_ok!(WeightedVoting::do_try_state());
	});
}

/// Pruning keeps up with the tallies: a block that decided many claims has them all pruned
/// once they are past the retention, not two a block.
#[test]
fn decided_claims_are_pruned_as_fast_as_they_were_decided() {
	new_test_ext().execute_with(|| {
		TallyBudget::set(Weight::MAX);
		let ids: Vec<_> = (0..6).map(|_| open(9)).collect();
		let decided_at = 1 + COMMIT + REVEAL;
		run_to(decided_at);
		assert_eq!(decided().len(), 6);
		run_to(decided_at + 10);
		assert!(ids.iter().all(|id| !Claims::<Test>::contains_key(id)), "all six pruned in the block their retention ended");
		assert_eq!(PruneCursor::<Test>::get(), 6);
	});
}
