//! Property tests of the vote: weight cannot be gained by splitting a stake, a colluding
//! minority can neither pass a false claim nor block a true one, and no claim taken is lost.

use crate::{mock::*, tally, *};
use loopx_primitives::ClaimRegistry;
use proptest::prelude::*;

proptest! {
	#![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

	/// A validator that splits its stake over several accounts (same reputation) never has more
	/// weight in a claim's electorate than it had with one account: weight is linear in stake,
	/// and the parts may fall below the minimum stake or out of the `MaxVoters` heaviest.
	#[test]
	fn splitting_stake_gives_no_more_weight(
		stake in 100u128..10_000,
		cuts in proptest::collection::vec(1u128..1_000, 1..4),
		others in proptest::collection::vec(100u128..10_000, 0..4),
		reputation in 100_000u32..1_000_000,
	) {
		new_test_ext().execute_with(|| {
			let other_voters: Vec<(AccountId, u128)> = others.iter().enumerate().map(|(i, s)| (20 + i as u64, *s)).collect();
			// Whole: account 1 holds `stake`.
			let mut whole = other_voters.clone();
			whole.push((1, stake));
			set_voters(&whole);
			set_reputation(1, reputation);
			let id = WeightedVoting::open_claim(test_request()).unwrap();
			let whole_weight: u128 = WeightedVoting::electorate(id).iter().filter(|b| b.who == 1).map(|b| b.weight).sum();

			// Split: accounts 1, 2, 3, … hold parts that add up to `stake`.
			let mut parts = Vec::new();
			let mut left = stake;
			for (i, cut) in cuts.iter().enumerate() {
				let part = (*cut).min(left.saturating_sub(1));
				if part == 0 { break; }
				parts.push((10 + i as u64, part));
				left -= part;
			}
			parts.push((1, left));
			let mut split = other_voters.clone();
			split.extend(parts.iter().copied());
			for (who, _) in &parts { set_reputation(*who, reputation); }
			set_voters(&split);
			let id = WeightedVoting::open_claim(test_request()).unwrap();
			let split_weight: u128 = WeightedVoting::electorate(id)
				.iter()
				.filter(|b| parts.iter().any(|(w, _)| *w == b.who))
				.map(|b| b.weight)
				.sum();
			prop_assert!(split_weight <= whole_weight, "split {} > whole {}", split_weight, whole_weight);
			Ok(())
		})?;
	}

	/// Honest voters reveal the truth; colluders, with less than min(approval, 1 − approval,
	/// 1 − quorum) of the eligible weight, vote the opposite or hide. The outcome is the truth.
	#[test]
	fn a_colluding_minority_cannot_decide(
		weights in proptest::collection::vec(1u128..1_000_000, 2..12),
		colluding in proptest::collection::vec(any::<bool>(), 12),
		hide in any::<bool>(),
		truth in any::<bool>(),
		approval in 1u32..99,
		quorum in 1u32..99,
	) {
		let total: u128 = weights.iter().sum();
		let bound = approval.min(100 - approval).min(100 - quorum) as u128;
		// The voters `colluding` picks join the coalition while it stays below the bound.
		let mut colluding_weight = 0u128;
		let colluding: Vec<bool> = weights
			.iter()
			.zip(&colluding)
			.map(|(w, wants)| {
				let joins = *wants && (colluding_weight + w) * 100 < bound * total;
				if joins { colluding_weight += w; }
				joins
			})
			.collect();
		let (honest, lie) = if truth { (Verdict::Valid, Verdict::Invalid) } else { (Verdict::Invalid, Verdict::Valid) };
		let ballots: Vec<Ballot<u64>> = weights
			.iter()
			.zip(&colluding)
			.enumerate()
			.map(|(i, (w, c))| Ballot {
				who: i as u64,
				weight: *w,
				commitment: Some(Default::default()),
				verdict: if !*c { Some(honest) } else if hide { None } else { Some(lie) },
			})
			.collect();
		let rules = tally::Rules {
			mode: VoteMode::Binary,
			quorum: Perbill::from_percent(quorum),
			approval: Perbill::from_percent(approval),
			tolerance: 0,
			min_voters: 1,
		};
		let decision = tally::decide(&ballots, total, &rules, None);
		let expected = if truth { Outcome::Accepted } else { Outcome::Rejected };
		prop_assert_eq!(decision.outcome, expected);
	}

	/// The same with the pallet end to end under the test class's defaults (quorum and approval
	/// 50 %): any colluding weight below half.
	#[test]
	fn a_colluding_minority_cannot_decide_on_chain(
		stakes in proptest::collection::vec(100u128..1_000, 3..6),
		colluding in proptest::collection::vec(any::<bool>(), 6),
		truth in any::<bool>(),
	) {
		new_test_ext().execute_with(|| {
			let voters: Vec<(AccountId, u128)> = stakes.iter().enumerate().map(|(i, s)| (1 + i as u64, *s)).collect();
			let total: u128 = stakes.iter().sum();
			let colluding_stake: u128 = stakes.iter().zip(&colluding).filter(|(_, c)| **c).map(|(s, _)| *s).sum();
			if colluding_stake * 2 >= total { return Ok(()); }
			set_voters(&voters);
			let id = WeightedVoting::open_claim(test_request()).unwrap();
			let (honest, lie) = if truth { (Verdict::Valid, Verdict::Invalid) } else { (Verdict::Invalid, Verdict::Valid) };
			let verdict = |i: usize| if colluding[i] { lie } else { honest };
			for (i, (who, _)) in voters.iter().enumerate() { commit(*who, id, verdict(i)).unwrap(); }
			run_to(1 + COMMIT);
			for (i, (who, _)) in voters.iter().enumerate() { reveal(*who, id, verdict(i)).unwrap(); }
			run_to(1 + COMMIT + REVEAL);
			let outcome = decided()[0].3.outcome;
			prop_assert_eq!(outcome, if truth { Outcome::Accepted } else { Outcome::Rejected });
			Ok(())
		})?;
	}

	/// Rivals named when a claim opens and rivals that leave later: a rival never votes while
	/// enough others are left, a claim never falls below `MinVotersWithoutRivals` voters by
	/// rivals leaving, its eligible weight is always its ballots' sum, and no ballot holds more
	/// than `MaxVoterShare` of it once enough voters are left for the cap to be met.
	#[test]
	fn rivals_leave_only_while_enough_voters_are_left(
		// At most the mock's `MaxVoters` (5), so that every voter is in the electorate.
		stakes in proptest::collection::vec(100u128..10_000, 2..6),
		named in proptest::collection::vec(any::<bool>(), 6),
		later in proptest::collection::vec(0usize..6, 0..8),
		margin in 1u32..5,
	) {
		new_test_ext().execute_with(|| {
			MinVoters::set(2);
			MinVotersWithoutRivals::set(margin);
			MaxVoterShare::set(Perbill::from_percent(40));
			let voters: Vec<(AccountId, u128)> = stakes.iter().enumerate().map(|(i, s)| (1 + i as u64, *s)).collect();
			set_voters(&voters);
			let rivals: Vec<AccountId> = voters.iter().zip(&named).filter(|(_, n)| **n).map(|((w, _), _)| *w).collect();
			let id = WeightedVoting::open_claim(ClaimRequest { rivals: rivals.clone(), ..test_request() }).unwrap();
			let floor = margin.max(2) as usize;
			let electorate: Vec<AccountId> = WeightedVoting::electorate(id).iter().map(|b| b.who).collect();
			if voters.len() - rivals.len() >= floor {
				prop_assert!(rivals.iter().all(|r| !electorate.contains(r)), "a named rival votes with {} others left", voters.len() - rivals.len());
			} else {
				prop_assert_eq!(electorate.len(), voters.len(), "nobody left out when too few would be left");
			}
			for k in later {
				let who = 1 + k as u64;
				let before = WeightedVoting::electorate(id).len();
				let left = WeightedVoting::exclude_rival(id, &who);
				let ballots = WeightedVoting::electorate(id);
				prop_assert_eq!(left, before > floor && ballots.len() == before - 1);
				prop_assert!(!left || !ballots.iter().any(|b| b.who == who));
				prop_assert!(ballots.len() >= floor.min(before));
				let total: u128 = ballots.iter().map(|b| b.weight).sum();
				prop_assert_eq!(Claims::<Test>::get(id).unwrap().eligible_weight, total);
				if ballots.len() >= 3 {
					prop_assert!(ballots.iter().all(|b| b.weight * 100 <= total * 40 + 100), "a ballot over the cap");
				}
				if let Err(e) = WeightedVoting::do_try_state() {
					return Err(TestCaseError::fail(format!("{e:?}")));
				}
			}
			Ok(())
		})?;
	}

	/// Claims of two classes opened in random bursts, more than the slots hold: every claim the
	/// registry takes is decided in the end (none is lost in the queue), the open counts always
	/// match the claims in voting, and only a claim that finds the queue full is refused.
	#[test]
	fn every_claim_taken_is_decided_and_the_slot_counts_hold(
		bursts in proptest::collection::vec((0usize..5, any::<bool>(), 0u64..4), 1..12),
	) {
		new_test_ext().execute_with(|| {
			let mut taken = Vec::new();
			for (count, score_class, wait) in bursts {
				for _ in 0..count {
					let mut r = test_request();
					if score_class { r.class = ClaimClass::EvaluationScore; }
					let queue_was_full = ClaimQueue::<Test>::get().len() >= MOCK_MAX_QUEUED;
					match WeightedVoting::open_claim(r) {
						Ok(id) => taken.push(id),
						Err(_) => prop_assert!(queue_was_full, "refused with room in the queue"),
					}
				}
				run_to(System::block_number() + wait);
				for class in [ClaimClass::QueryResult, ClaimClass::EvaluationScore] {
					let voting = WeightedVoting::open_claims().iter().filter(|id| Claims::<Test>::get(id).is_some_and(|c| c.class == class)).count();
					prop_assert_eq!(OpenPerClass::<Test>::get(class) as usize, voting);
					prop_assert!(voting <= MOCK_MAX_OPEN_PER_CLASS);
				}
				for id in ClaimQueue::<Test>::get() {
					prop_assert_eq!(Claims::<Test>::get(id).map(|c| c.status), Some(ClaimStatus::Queued));
				}
				if let Err(e) = WeightedVoting::do_try_state() {
					return Err(TestCaseError::fail(format!("{e:?}")));
				}
			}
			run_to(System::block_number() + 20 * (COMMIT + REVEAL));
			// (Decided claims are pruned after a while: the opening pallet's record says.)
			let heard: Vec<ClaimId> = decided().iter().map(|d| d.0).collect();
			for id in &taken {
				prop_assert!(heard.contains(id), "claim {} never decided", id);
			}
			prop_assert_eq!(heard.len(), taken.len(), "each decided once");
			prop_assert!(ClaimQueue::<Test>::get().is_empty());
			prop_assert_eq!(OpenPerClass::<Test>::iter().count(), 0);
			Ok(())
		})?;
	}
}

/// The mock's `MaxQueuedClaims` and `MaxOpenPerClass`.
const MOCK_MAX_QUEUED: usize = 2;
const MOCK_MAX_OPEN_PER_CLASS: usize = 6;

fn test_request() -> ClaimRequest<AccountId> {
	ClaimRequest {
		class: ClaimClass::QueryResult,
		claimant: 99,
		subject: Default::default(),
		commitment: Default::default(),
		claimed_score: None,
		sealed_score: None,
		must_beat: None,
		thresholds: None,
		conflicted: Vec::new(),
		rivals: Vec::new(),
	}
}
