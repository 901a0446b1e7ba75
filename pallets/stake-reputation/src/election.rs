//! The election: from candidates with a backing and a reputation to the validator set with the
//! weights that BABE and GRANDPA use. Pure functions, so that tests and property tests can call
//! them without a runtime.

use alloc::vec::Vec;
use core::cmp::Ordering;
use sp_runtime::{PerThing, Perbill};

/// One eligible candidate: who, total backing (own + delegated) and reputation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contender<AccountId> {
	/// The candidate.
	pub who: AccountId,
	/// Own bond plus delegations.
	pub backing: u128,
	/// Current reputation.
	pub reputation: u32,
}

impl<AccountId> Contender<AccountId> {
	/// The raw election weight: [`loopx_primitives::stake_weight`], backing × (1,000,000 +
	/// reputation), so that reputation moves it by a factor of two at most.
	pub fn raw_weight(&self) -> u128 {
		loopx_primitives::stake_weight(self.backing, self.reputation)
	}
}

/// The sum the elected weights are normalised to: a validator's weight is its share of the set
/// in parts per billion (at least 1), so it fits BABE's and GRANDPA's `u64` weights with room.
pub const WEIGHT_SCALE: u128 = 1_000_000_000;

/// An elected validator and its two weights, each in parts per billion of its set's total.
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode, codec::DecodeWithMemTracking, scale_info::TypeInfo, codec::MaxEncodedLen)]
pub struct ElectedValidator<AccountId> {
	/// The validator.
	pub who: AccountId,
	/// Share of backing × reputation: BABE's authority weight (primary-slot probability).
	pub weight: u64,
	/// The same share with the cap applied: GRANDPA's voter weight.
	pub finality_weight: u64,
}

/// Elects up to `max` contenders by raw weight (backing × reputation), highest first, ties broken
/// by account id (ascending) so that every validator computes the same set.
///
/// Each elected validator gets two weights (parts per billion, at least 1): `weight`, its share
/// of the raw weight, which BABE uses for leader election; and `finality_weight`, the same share
/// with no validator above `cap` (when `cap · n > 1`; otherwise all equal), which GRANDPA uses,
/// so that no single validator can stall finality alone while block production still follows
/// stake × reputation.
pub fn elect<AccountId: Ord + Clone>(mut contenders: Vec<Contender<AccountId>>, max: usize, cap: Perbill) -> Vec<ElectedValidator<AccountId>> {
	contenders.retain(|c| c.raw_weight() > 0);
	contenders.sort_by(|a, b| match b.raw_weight().cmp(&a.raw_weight()) {
		Ordering::Equal => a.who.cmp(&b.who),
		other => other,
	});
	contenders.truncate(max);
	let raw: Vec<u128> = contenders.iter().map(|c| c.raw_weight()).collect();
	let weights = shares(&raw);
	let finality = shares(&cap_shares(&raw, cap));
	contenders
		.into_iter()
		.zip(weights.into_iter().zip(finality))
		.map(|(c, (weight, finality_weight))| ElectedValidator { who: c.who, weight, finality_weight })
		.collect()
}

/// Each value's share of their sum in parts per billion (at least 1).
fn shares(values: &[u128]) -> Vec<u64> {
	let total: u128 = values.iter().fold(0u128, |acc, w| acc.saturating_add(*w));
	values.iter().map(|w| if total == 0 { 1 } else { mul_div(*w, WEIGHT_SCALE, total).max(1) as u64 }).collect()
}

/// Lowers the largest weights (sorted descending) so that none exceeds `cap` of the total.
///
/// With the top `k` capped at a common value `x` and the rest `r` unchanged, `x = cap·(k·x + r)`
/// gives `x = cap·r / (1 − k·cap)`; the smallest `k` for which the (k+1)-th weight is already
/// below `x` is the answer. If `cap · n ≤ 1` no such `x` exists and all weights become equal.
pub fn cap_shares(sorted_desc: &[u128], cap: Perbill) -> Vec<u128> {
	let n = sorted_desc.len();
	let parts = cap.deconstruct() as u128; // cap = parts / 1e9
	let billion = Perbill::ACCURACY as u128;
	if n == 0 {
		return Vec::new();
	}
	if parts.saturating_mul(n as u128) <= billion {
		// The cap cannot hold for everyone: equal weights are the closest.
		let equal = sorted_desc.iter().copied().max().unwrap_or(0).max(1);
		return alloc::vec![equal; n];
	}
	let total: u128 = sorted_desc.iter().fold(0u128, |a, w| a.saturating_add(*w));
	let mut rest = total;
	for k in 0..n {
		let denominator = billion.saturating_sub(parts.saturating_mul(k as u128));
		if denominator == 0 {
			break;
		}
		// Largest value the top k may keep: cap·rest/(1 − k·cap).
		let x = mul_div(rest, parts, denominator);
		if sorted_desc[k] <= x {
			let mut out = sorted_desc.to_vec();
			for w in out.iter_mut().take(k) {
				*w = x;
			}
			return out;
		}
		rest = rest.saturating_sub(sorted_desc[k]);
	}
	let equal = sorted_desc.iter().copied().max().unwrap_or(0).max(1);
	alloc::vec![equal; n]
}

/// `a · b / c` without overflow for the magnitudes used here (falls back to dividing first).
fn mul_div(a: u128, b: u128, c: u128) -> u128 {
	if c == 0 {
		return 0;
	}
	match a.checked_mul(b) {
		Some(p) => p / c,
		None => (a / c).saturating_mul(b).saturating_add((a % c).saturating_mul(b) / c),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn c(who: u64, backing: u128, reputation: u32) -> Contender<u64> {
		Contender { who, backing, reputation }
	}

	fn who(set: &[ElectedValidator<u64>]) -> Vec<u64> {
		set.iter().map(|v| v.who).collect()
	}
	fn weights(set: &[ElectedValidator<u64>]) -> Vec<u64> {
		set.iter().map(|v| v.weight).collect()
	}
	fn finality(set: &[ElectedValidator<u64>]) -> Vec<u64> {
		set.iter().map(|v| v.finality_weight).collect()
	}

	#[test]
	fn weights_follow_backing_times_reputation() {
		let set = elect(vec![c(1, 100, 10), c(2, 200, 10), c(3, 500, 10)], 10, Perbill::one());
		assert_eq!(who(&set), vec![3, 2, 1]);
		assert_eq!(weights(&set), vec![625_000_000, 250_000_000, 125_000_000]);
		assert_eq!(finality(&set), weights(&set));
	}

	#[test]
	fn takes_the_top_n_and_breaks_ties_by_account() {
		let set = elect(vec![c(9, 100, 1), c(4, 100, 1), c(7, 300, 1), c(5, 100, 1)], 3, Perbill::one());
		assert_eq!(who(&set), vec![7, 4, 5]);
	}

	#[test]
	fn zero_backing_contenders_are_not_elected() {
		let set = elect(vec![c(1, 0, 10), c(3, 1, 1)], 10, Perbill::one());
		assert_eq!(who(&set), vec![3]);
		assert_eq!(weights(&set), vec![WEIGHT_SCALE as u64]);
	}

	#[test]
	fn reputation_moves_a_weight_by_a_factor_of_two_at_most() {
		// Equal backing: the maximum reputation against none is 2 : 1, against neutral 4 : 3.
		let set = elect(vec![c(1, 100, 0), c(2, 100, 1_000_000), c(3, 100, 500_000)], 10, Perbill::one());
		assert_eq!(who(&set), vec![2, 3, 1]);
		assert_eq!(weights(&set), vec![444_444_444, 333_333_333, 222_222_222]);
		// Twice the backing at no reputation matches the maximum reputation.
		let set = elect(vec![c(1, 200, 0), c(2, 100, 1_000_000)], 10, Perbill::one());
		assert_eq!(weights(&set), vec![500_000_000, 500_000_000]);
	}

	#[test]
	fn the_cap_limits_the_largest_share() {
		// 1 : 2 : 5 with a 40 % cap: for finality the largest is cut to 40 % and the others keep
		// their ratio; the block-production weights stay uncapped.
		let set = elect(vec![c(1, 100, 1), c(2, 200, 1), c(3, 500, 1)], 10, Perbill::from_percent(40));
		let f = finality(&set);
		let total: u64 = f.iter().sum();
		assert!((f[0] as f64 / total as f64 - 0.4).abs() < 1e-6, "{f:?}");
		assert!((f[1] as f64 / f[2] as f64 - 2.0).abs() < 1e-6);
		assert_eq!(weights(&set), vec![625_000_000, 250_000_000, 125_000_000]);
	}

	#[test]
	fn an_unreachable_cap_gives_equal_weights() {
		let set = elect(vec![c(1, 100, 1), c(2, 900, 1)], 10, Perbill::from_percent(30));
		assert_eq!(set[0].finality_weight, set[1].finality_weight);
		assert_eq!(weights(&set), vec![900_000_000, 100_000_000]);
	}

	#[test]
	fn extreme_values_do_not_overflow() {
		let set = elect(vec![c(1, u128::MAX, u32::MAX), c(2, u128::MAX / 3, 7)], 10, Perbill::from_percent(60));
		assert_eq!(set.len(), 2);
		assert!(set.iter().all(|v| v.weight >= 1 && v.finality_weight >= 1));
	}
}
