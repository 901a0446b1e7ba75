//! The arithmetic of emission and distribution: pure functions on `u128`, rounding down
//! everywhere, so that what is paid never exceeds what was minted (the dust stays in the pot).

use loopx_primitives::CATEGORIES;
use sp_runtime::{helpers_128bit::multiply_by_rational_with_rounding, traits::Saturating, Perbill, Rounding};

/// Yearly inflation: starts at `initial`, falls by `decay` (a fraction of itself) each year,
/// never below `floor`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[derive(
	codec::Encode, codec::Decode, codec::DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, scale_info::TypeInfo, codec::MaxEncodedLen,
)]
pub struct InflationCurve {
	/// The rate in year 0.
	pub initial: Perbill,
	/// The share of the rate lost each year.
	pub decay: Perbill,
	/// The lowest rate.
	pub floor: Perbill,
}

impl InflationCurve {
	/// The yearly rate in `year` (0-based): max(floor, initial × (1 − decay)^year). After 200
	/// years the curve is at its floor for any decay above 0.1 %; the loop stops there.
	pub fn rate(&self, year: u32) -> Perbill {
		let keep = Perbill::one().saturating_sub(self.decay);
		let mut rate = self.initial;
		for _ in 0..year.min(200) {
			rate = rate * keep;
			if rate <= self.floor {
				break;
			}
		}
		rate.max(self.floor)
	}
}

/// What an era mints: `issuance × rate(year) × era_blocks / blocks_per_year`, rounded down.
pub fn era_emission(issuance: u128, curve: &InflationCurve, year: u32, era_blocks: u128, blocks_per_year: u128) -> u128 {
	let yearly = curve.rate(year).mul_floor(issuance);
	if blocks_per_year == 0 {
		return 0;
	}
	multiply_by_rational_with_rounding(yearly, era_blocks, blocks_per_year, Rounding::Down).unwrap_or(yearly)
}

/// The era's budget of each category: its share of `available` (the era's budget base), or
/// zero when nobody earned points in it (that share is carried over to the next era).
pub fn budgets(available: u128, shares: &[Perbill; CATEGORIES], totals: &[u64; CATEGORIES]) -> [u128; CATEGORIES] {
	let mut out = [0u128; CATEGORIES];
	for k in 0..CATEGORIES {
		if totals[k] > 0 {
			out[k] = shares[k].mul_floor(available);
		}
	}
	out
}

/// An account's reward: Σₖ budgetₖ × pointsₖ / totalₖ, each term rounded down.
pub fn reward_of(points: &[u64; CATEGORIES], budgets: &[u128; CATEGORIES], totals: &[u64; CATEGORIES]) -> u128 {
	(0..CATEGORIES)
		.filter(|k| totals[*k] > 0)
		.map(|k| multiply_by_rational_with_rounding(budgets[k], points[k] as u128, totals[k] as u128, Rounding::Down).unwrap_or(0))
		.fold(0u128, |acc, x| acc.saturating_add(x))
}

/// Splits a validator's `reward`: `commission` first to the validator, the rest pro rata to
/// backing (`own` and each delegation). Returns each delegator's part (rounded down); the
/// validator gets `reward` minus their sum, so nothing is lost to rounding.
pub fn delegator_parts(reward: u128, commission: Perbill, own: u128, delegations: &[u128]) -> alloc::vec::Vec<u128> {
	let backing = delegations.iter().fold(own, |acc, d| acc.saturating_add(*d));
	let rest = reward.saturating_sub(commission.mul_floor(reward));
	delegations
		.iter()
		.map(|d| if backing == 0 { 0 } else { multiply_by_rational_with_rounding(rest, *d, backing, Rounding::Down).unwrap_or(0) })
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn inflation_decreases_to_its_floor() {
		let c = InflationCurve { initial: Perbill::from_percent(8), decay: Perbill::from_percent(10), floor: Perbill::from_percent(2) };
		assert_eq!(c.rate(0), Perbill::from_percent(8));
		assert_eq!(c.rate(1), Perbill::from_rational(72u32, 1000u32));
		assert_eq!(c.rate(2), Perbill::from_rational(648u32, 10_000u32));
		assert_eq!(c.rate(20), Perbill::from_percent(2));
		assert_eq!(c.rate(u32::MAX), Perbill::from_percent(2));
	}

	#[test]
	fn era_emission_known_answer() {
		let c = InflationCurve { initial: Perbill::from_percent(10), decay: Perbill::zero(), floor: Perbill::zero() };
		// 10 % of 1,000,000 a year; an era of 1/100 of a year mints 1,000.
		assert_eq!(era_emission(1_000_000, &c, 0, 100, 10_000), 1_000);
		assert_eq!(era_emission(1_000_000, &c, 0, 1, 10_000), 10);
		assert_eq!(era_emission(1_000_000, &c, 0, 1, 0), 0);
	}

	#[test]
	fn budgets_skip_empty_categories_and_rewards_round_down() {
		let shares = [
			Perbill::from_percent(50),
			Perbill::from_percent(30),
			Perbill::from_percent(20),
			Perbill::zero(),
			Perbill::zero(),
			Perbill::zero(),
			Perbill::zero(),
		];
		let totals = [3, 0, 10, 0, 0, 0, 0];
		let b = budgets(1_000, &shares, &totals);
		assert_eq!(b, [500, 0, 200, 0, 0, 0, 0]);
		// One of three authoring points (166.66…) and 5 of 10 verification points (100).
		assert_eq!(reward_of(&[1, 0, 5, 0, 0, 0, 0], &b, &totals), 166 + 100);
	}

	#[test]
	fn delegators_share_after_commission_pro_rata() {
		// Reward 1,000, commission 10 %: 900 shared over backing 100 (own 40, delegations 50, 10).
		let parts = delegator_parts(1_000, Perbill::from_percent(10), 40, &[50, 10]);
		assert_eq!(parts, vec![450, 90]);
		assert_eq!(delegator_parts(7, Perbill::zero(), 0, &[1, 1, 1]), vec![2, 2, 2]);
		assert_eq!(delegator_parts(7, Perbill::zero(), 0, &[]), Vec::<u128>::new());
	}
}
