//! Counting a claim's revealed votes: pure functions over the ballots, so that unit and property
//! tests can call them without a runtime.

use crate::{Ballot, VoteMode};
use alloc::vec::Vec;
use loopx_primitives::{Decision, Outcome, Verdict};
use sp_runtime::Perbill;

/// How one ballot stands against the decision.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Standing {
	/// Committed and never revealed.
	MissedReveal,
	/// Drawn and never committed (neither voted nor abstained).
	Absent,
	/// Revealed an abstention: counted for nothing, nothing happens to it.
	Abstained,
	/// Revealed on the side of the outcome (or, in score mode, within the tolerance of the median).
	Agreed,
	/// Revealed against the outcome (or further than the tolerance from the median).
	Diverged,
	/// Revealed, but nothing was decided (no quorum).
	Undecided,
}

/// The voting rules a tally applies (a snapshot of the class parameters).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rules {
	/// Binary or score mode.
	pub mode: VoteMode,
	/// Share of the eligible weight that must reveal.
	pub quorum: Perbill,
	/// Binary mode: a claim is accepted when its `Valid` weight is strictly more than this share
	/// of the revealed weight.
	pub approval: Perbill,
	/// Score mode: how far a score may be from the median (and the median from the claimed
	/// score) and still agree.
	pub tolerance: u32,
	/// Fewest voters that must reveal, whatever their weight: no claim is decided by one voter.
	pub min_voters: u32,
}

/// Caps every weight at `share` of the capped total (water-filling: the heaviest are cut to a
/// common level `c` with `c = share · Σ min(w, c)`), so that no voter holds more than `share` of
/// a claim's weight; lighter weights are unchanged and the order is kept. When the voters are
/// too few for the cap (fewer than `1 / share`), all get the smallest weight: as equal as they
/// can be. Rounded down, so the capped share never exceeds `share`.
pub fn cap_weights(weights: &mut [u128], share: Perbill) {
	let parts = share.deconstruct() as u128;
	let one = Perbill::one().deconstruct() as u128;
	if weights.is_empty() || parts >= one {
		return;
	}
	let mut order: Vec<usize> = (0..weights.len()).collect();
	order.sort_by(|&a, &b| weights[b].cmp(&weights[a]));
	let sorted: Vec<u128> = order.iter().map(|&i| weights[i]).collect();
	let mut rest: u128 = sorted.iter().fold(0, |acc, w| acc.saturating_add(*w));
	for k in 0..sorted.len() {
		// With the k heaviest capped at c: c = share · (k·c + rest), so c = share · rest / (1 − k·share).
		let Some(denominator) = one.checked_sub(parts.saturating_mul(k as u128)).filter(|d| *d > 0) else { break };
		let level =
			sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(rest, parts, denominator, sp_runtime::Rounding::Down).unwrap_or(u128::MAX);
		if sorted[k] <= level {
			for &i in &order[..k] {
				weights[i] = level;
			}
			return;
		}
		rest = rest.saturating_sub(sorted[k]);
	}
	let smallest = sorted[sorted.len() - 1];
	weights.iter_mut().for_each(|w| *w = smallest);
}

/// Decides a claim from its ballots; `eligible` is the total weight of the electorate and
/// `claimed_score` the claimant's score in score mode.
pub fn decide<AccountId>(ballots: &[Ballot<AccountId>], eligible: u128, rules: &Rules, claimed_score: Option<u32>) -> Decision {
	// Abstentions count towards nothing: neither the quorum nor the outcome.
	let counted = |b: &&Ballot<AccountId>| b.verdict.is_some_and(|v| v != Verdict::Abstain);
	let revealed: u128 = ballots.iter().filter(counted).fold(0, |acc, b| acc.saturating_add(b.weight));
	let voters = ballots.iter().filter(counted).count();
	let no_quorum = Decision { outcome: Outcome::NoQuorum, score: None, revealed_weight: revealed, agreeing_weight: 0 };
	// The quorum is rounded up, so that "half" of three equal voters needs two of them.
	if revealed == 0 || revealed < rules.quorum.mul_ceil(eligible) || voters < rules.min_voters as usize {
		return Decision { score: median_score(ballots), ..no_quorum };
	}
	match rules.mode {
		VoteMode::Binary => {
			let valid = weight_where(ballots, |v| v == Verdict::Valid);
			let outcome = if valid > rules.approval.mul_floor(revealed) { Outcome::Accepted } else { Outcome::Rejected };
			let agreeing = if outcome == Outcome::Accepted { valid } else { revealed.saturating_sub(valid) };
			Decision { outcome, score: None, revealed_weight: revealed, agreeing_weight: agreeing }
		},
		VoteMode::Score => {
			let Some(median) = median_score(ballots) else { return no_quorum };
			let outcome = match claimed_score {
				Some(claimed) if claimed.abs_diff(median) > rules.tolerance => Outcome::Rejected,
				_ => Outcome::Accepted,
			};
			let agreeing = weight_where(ballots, |v| matches!(v, Verdict::Score(s) if s.abs_diff(median) <= rules.tolerance));
			Decision { outcome, score: Some(median), revealed_weight: revealed, agreeing_weight: agreeing }
		},
	}
}

/// Whether `decision` is too close to stand when a larger committee could decide instead: fewer
/// than `decisive` of the revealed weight agrees with it (a tie always is). A committee can be
/// split by colluders drawn into it where the whole electorate would not be.
pub fn is_close(decision: &Decision, decisive: Perbill) -> bool {
	decision.outcome != Outcome::NoQuorum && decision.agreeing_weight < decisive.mul_ceil(decision.revealed_weight)
}

/// Where a ballot stands against `decision`.
pub fn standing<AccountId>(ballot: &Ballot<AccountId>, decision: &Decision, rules: &Rules) -> Standing {
	let Some(verdict) = ballot.verdict else {
		return if ballot.commitment.is_some() { Standing::MissedReveal } else { Standing::Absent };
	};
	let agrees = match (decision.outcome, verdict) {
		(_, Verdict::Abstain) => return Standing::Abstained,
		(Outcome::NoQuorum, _) => return Standing::Undecided,
		(_, Verdict::Score(s)) => decision.score.is_some_and(|m| s.abs_diff(m) <= rules.tolerance),
		(Outcome::Accepted, v) => v == Verdict::Valid,
		(Outcome::Rejected, v) => v == Verdict::Invalid,
	};
	if agrees {
		Standing::Agreed
	} else {
		Standing::Diverged
	}
}

/// The stake-weighted (lower) median of the revealed scores: the smallest score at which the
/// cumulative weight reaches half of the revealed score weight. Ties in score are broken by the
/// ballots' order, which is by account, so every node computes the same value.
pub fn median_score<AccountId>(ballots: &[Ballot<AccountId>]) -> Option<u32> {
	let mut scores: Vec<(u32, u128)> = ballots
		.iter()
		.filter_map(|b| match b.verdict {
			Some(Verdict::Score(s)) => Some((s, b.weight)),
			_ => None,
		})
		.collect();
	if scores.is_empty() {
		return None;
	}
	scores.sort_by_key(|(s, _)| *s);
	let total: u128 = scores.iter().fold(0, |acc, (_, w)| acc.saturating_add(*w));
	// Cumulative weight ≥ total / 2, computed without rounding: 2·cum ≥ total.
	let mut cumulative: u128 = 0;
	for (score, weight) in &scores {
		cumulative = cumulative.saturating_add(*weight);
		if cumulative.saturating_mul(2) >= total {
			return Some(*score);
		}
	}
	scores.last().map(|(s, _)| *s)
}

fn weight_where<AccountId>(ballots: &[Ballot<AccountId>], pred: impl Fn(Verdict) -> bool) -> u128 {
	ballots.iter().filter(|b| b.verdict.is_some_and(&pred)).fold(0, |acc, b| acc.saturating_add(b.weight))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn ballot(who: u64, weight: u128, verdict: Option<Verdict>) -> Ballot<u64> {
		Ballot { who, weight, commitment: Some(Default::default()), verdict }
	}

	fn binary() -> Rules {
		Rules { mode: VoteMode::Binary, quorum: Perbill::from_percent(50), approval: Perbill::from_percent(50), tolerance: 0, min_voters: 1 }
	}

	#[test]
	fn no_voter_holds_more_than_the_capped_share() {
		// Stakes 1 : 2 : 5 : 2 (the local network): 5 is cut to 10/3 = 40 % of 25/3.
		let mut w = [1_000u128, 2_000, 5_000, 2_000];
		cap_weights(&mut w, Perbill::from_percent(40));
		assert_eq!(w, [1_000, 2_000, 3_333, 2_000]);
		// Two heavy voters are both cut, to the same level.
		let mut w = [9_000u128, 8_000, 1_000, 1_000, 1_000];
		cap_weights(&mut w, Perbill::from_percent(40));
		assert_eq!(w, [6_000, 6_000, 1_000, 1_000, 1_000]); // 40 % each of 15,000
													  // Under the cap nothing changes; too few voters for it: all as light as the lightest.
		let mut w = [3_000u128, 3_000, 2_000];
		cap_weights(&mut w, Perbill::from_percent(40));
		assert_eq!(w, [3_000, 3_000, 2_000]);
		let mut w = [5_000u128, 1_000];
		cap_weights(&mut w, Perbill::from_percent(40));
		assert_eq!(w, [1_000, 1_000]);
	}

	#[test]
	fn one_voter_decides_nothing_when_more_are_required() {
		let b = [ballot(1, 90, Some(Verdict::Invalid)), ballot(2, 10, None)];
		let rules = Rules { min_voters: 2, ..binary() };
		assert_eq!(decide(&b, 100, &rules, None).outcome, Outcome::NoQuorum);
		assert_eq!(decide(&b, 100, &binary(), None).outcome, Outcome::Rejected);
	}

	#[test]
	fn binary_majority_of_revealed_weight_decides() {
		let b = [ballot(1, 40, Some(Verdict::Valid)), ballot(2, 35, Some(Verdict::Invalid)), ballot(3, 25, Some(Verdict::Valid))];
		let d = decide(&b, 100, &binary(), None);
		assert_eq!(d, Decision { outcome: Outcome::Accepted, score: None, revealed_weight: 100, agreeing_weight: 65 });
		assert_eq!(standing(&b[1], &d, &binary()), Standing::Diverged);
		assert_eq!(standing(&b[2], &d, &binary()), Standing::Agreed);
	}

	#[test]
	fn an_exact_half_is_not_a_majority() {
		let b = [ballot(1, 50, Some(Verdict::Valid)), ballot(2, 50, Some(Verdict::Invalid))];
		assert_eq!(decide(&b, 100, &binary(), None).outcome, Outcome::Rejected);
	}

	#[test]
	fn quorum_is_rounded_up_and_missing_reveals_count() {
		// Three equal voters, one reveals: 1/3 < 50%.
		let b = [ballot(1, 1, Some(Verdict::Valid)), ballot(2, 1, None), ballot(3, 1, None)];
		let d = decide(&b, 3, &binary(), None);
		assert_eq!(d.outcome, Outcome::NoQuorum);
		assert_eq!(standing(&b[1], &d, &binary()), Standing::MissedReveal);
		assert_eq!(standing(&b[0], &d, &binary()), Standing::Undecided);
		// Two of three: quorum.
		let b = [ballot(1, 1, Some(Verdict::Valid)), ballot(2, 1, Some(Verdict::Valid)), ballot(3, 1, None)];
		assert_eq!(decide(&b, 3, &binary(), None).outcome, Outcome::Accepted);
	}

	#[test]
	fn abstentions_count_for_nothing_and_the_absent_are_told_apart() {
		// 60 of 100 abstain: the 40 that voted are below the 50 % quorum.
		let b = [ballot(1, 60, Some(Verdict::Abstain)), ballot(2, 40, Some(Verdict::Valid))];
		let d = decide(&b, 100, &binary(), None);
		assert_eq!((d.outcome, d.revealed_weight), (Outcome::NoQuorum, 40));
		assert_eq!(standing(&b[0], &d, &binary()), Standing::Abstained);
		// An abstention does not dilute the approval threshold either.
		let b = [ballot(1, 20, Some(Verdict::Abstain)), ballot(2, 45, Some(Verdict::Valid)), ballot(3, 35, Some(Verdict::Invalid))];
		let d = decide(&b, 100, &binary(), None);
		assert_eq!((d.outcome, d.revealed_weight, d.agreeing_weight), (Outcome::Accepted, 80, 45));
		assert_eq!(standing(&b[0], &d, &binary()), Standing::Abstained);
		// In score mode it is no score.
		let rules = Rules { mode: VoteMode::Score, tolerance: 10, ..binary() };
		let b = [ballot(1, 90, Some(Verdict::Abstain)), ballot(2, 10, Some(Verdict::Score(7))), ballot(3, 5, Some(Verdict::Score(9)))];
		assert_eq!(median_score(&b), Some(7));
		assert_eq!(decide(&b, 105, &rules, Some(7)).outcome, Outcome::NoQuorum);
		let never = Ballot { who: 4u64, weight: 1, commitment: None, verdict: None };
		assert_eq!(standing(&never, &d, &binary()), Standing::Absent);
	}

	#[test]
	fn nothing_revealed_is_no_quorum_even_with_zero_quorum() {
		let rules = Rules { quorum: Perbill::zero(), ..binary() };
		assert_eq!(decide::<u64>(&[], 0, &rules, None).outcome, Outcome::NoQuorum);
	}

	#[test]
	fn weighted_median_known_answers() {
		let s = |who, w, score| ballot(who, w, Some(Verdict::Score(score)));
		// Weights 1, 1, 5 at scores 10, 20, 30: the heavy voter holds the median.
		assert_eq!(median_score(&[s(1, 1, 10), s(2, 1, 20), s(3, 5, 30)]), Some(30));
		// Equal weights, even count: the lower median.
		assert_eq!(median_score(&[s(1, 1, 40), s(2, 1, 10), s(3, 1, 30), s(4, 1, 20)]), Some(20));
		assert_eq!(median_score(&[s(1, 7, 5)]), Some(5));
		assert_eq!(median_score::<u64>(&[]), None);
	}

	#[test]
	fn score_mode_accepts_within_tolerance_and_marks_outliers() {
		let rules = Rules { mode: VoteMode::Score, tolerance: 10, ..binary() };
		let b = [ballot(1, 30, Some(Verdict::Score(900))), ballot(2, 30, Some(Verdict::Score(905))), ballot(3, 40, Some(Verdict::Score(500)))];
		// Median 900 (cumulative 30+30 ≥ 50 after sorting 500, 900, 905 → 40, 70).
		let d = decide(&b, 100, &rules, Some(895));
		assert_eq!(d.score, Some(900));
		assert_eq!(d.outcome, Outcome::Accepted);
		assert_eq!(d.agreeing_weight, 60);
		assert_eq!(standing(&b[2], &d, &rules), Standing::Diverged);
		// A claimed score far from the median is rejected; the voters near it still agree.
		let d = decide(&b, 100, &rules, Some(990));
		assert_eq!(d.outcome, Outcome::Rejected);
		assert_eq!(standing(&b[0], &d, &rules), Standing::Agreed);
	}
}
