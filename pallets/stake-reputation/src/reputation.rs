//! Reputation decay toward neutral, computed lazily: a score is stored with the session it was
//! last written in, and read as `neutral + (score − neutral) · (1 − rate)^(sessions elapsed)`.
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

/// The score `record` decays to by session `now`, moving toward `neutral` by `rate` per session.
pub fn decayed(record: ReputationRecord, now: u32, neutral: Reputation, rate: Perbill) -> Reputation {
	let elapsed = now.saturating_sub(record.updated_in);
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

	#[test]
	fn no_time_or_no_rate_means_no_decay() {
		assert_eq!(decayed(rec(900_000, 5), 5, 500_000, Perbill::from_percent(10)), 900_000);
		assert_eq!(decayed(rec(900_000, 5), 50, 500_000, Perbill::zero()), 900_000);
	}

	#[test]
	fn decays_toward_neutral_from_both_sides() {
		let rate = Perbill::from_percent(10);
		// 400k above neutral, 90 % kept per session: 360k, then 324k.
		assert_eq!(decayed(rec(900_000, 0), 1, 500_000, rate), 860_000);
		assert_eq!(decayed(rec(900_000, 0), 2, 500_000, rate), 824_000);
		assert_eq!(decayed(rec(100_000, 0), 1, 500_000, rate), 140_000);
		// Long after: neutral.
		assert_eq!(decayed(rec(1_000_000, 0), 10_000, 500_000, rate), 500_000);
		assert_eq!(decayed(rec(0, 0), 10_000, 500_000, rate), 500_000);
	}

	#[test]
	fn full_rate_resets_to_neutral() {
		assert_eq!(decayed(rec(0, 0), 1, 500_000, Perbill::one()), 500_000);
	}
}
