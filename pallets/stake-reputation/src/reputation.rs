//! Reputation decay toward neutral, computed lazily: a score is stored with the session it was
//! last written in, and read as `neutral + (score − neutral) · (1 − rate)^(sessions elapsed)`,
//! with one rate above neutral (gains fade) and a smaller one below (penalties fade slower).
//! No hook ever walks all accounts.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use loopx_primitives::Reputation;
use scale_info::TypeInfo;
use sp_runtime::{traits::Saturating, Perbill};

/// A stored reputation: the score when last written and the session it was written in.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct ReputationRecord {
	/// The score at `updated_in`.
	pub score: Reputation,
	/// The session the score was written in.
	pub updated_in: u32,
}

/// The score `record` decays to by session `now`, moving toward `neutral` by `above` per
/// session from above and by `below` per session from below.
pub fn decayed(record: ReputationRecord, now: u32, neutral: Reputation, above: Perbill, below: Perbill) -> Reputation {
	let elapsed = now.saturating_sub(record.updated_in);
	let rate = if record.score >= neutral { above } else { below };
	if elapsed == 0 || rate.is_zero() {
		return record.score;
	}
	let keep = (Perbill::one() - rate).saturating_pow(elapsed as usize);
	if record.score >= neutral {
		neutral.saturating_add(keep * (record.score - neutral))
	} else {
		neutral.saturating_sub(keep * (neutral - record.score))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn rec(score: u32, updated_in: u32) -> ReputationRecord {
		ReputationRecord { score, updated_in }
	}

	/// The same rate from both sides.
	fn both(rate: Perbill) -> (Perbill, Perbill) {
		(rate, rate)
	}

	#[test]
	fn no_time_or_no_rate_means_no_decay() {
		let (a, b) = both(Perbill::from_percent(10));
		assert_eq!(decayed(rec(900_000, 5), 5, 500_000, a, b), 900_000);
		assert_eq!(decayed(rec(900_000, 5), 50, 500_000, Perbill::zero(), Perbill::zero()), 900_000);
	}

	#[test]
	fn penalties_fade_slower_than_gains() {
		// 10 % a session above neutral, 2.5 % below: the same distance, a different pace.
		let (above, below) = (Perbill::from_percent(10), Perbill::from_rational(25u32, 1_000u32));
		assert_eq!(decayed(rec(900_000, 0), 1, 500_000, above, below), 860_000);
		assert_eq!(decayed(rec(100_000, 0), 1, 500_000, above, below), 110_000);
		assert_eq!(decayed(rec(900_000, 0), 1, 500_000, Perbill::zero(), below), 900_000, "no decay above");
	}

	#[test]
	fn decays_toward_neutral_from_both_sides() {
		let (a, b) = both(Perbill::from_percent(10));
		// 400k above neutral, 90 % kept per session: 360k, then 324k.
		assert_eq!(decayed(rec(900_000, 0), 1, 500_000, a, b), 860_000);
		assert_eq!(decayed(rec(900_000, 0), 2, 500_000, a, b), 824_000);
		assert_eq!(decayed(rec(100_000, 0), 1, 500_000, a, b), 140_000);
		// Long after: neutral.
		assert_eq!(decayed(rec(1_000_000, 0), 10_000, 500_000, a, b), 500_000);
		assert_eq!(decayed(rec(0, 0), 10_000, 500_000, a, b), 500_000);
	}

	#[test]
	fn full_rate_resets_to_neutral() {
		assert_eq!(decayed(rec(0, 0), 1, 500_000, Perbill::one(), Perbill::one()), 500_000);
	}
}
