//! MintAI's service reputation, R = max / (1 + e^(−θ·Σc)), in integer fixed point so that every
//! validator computes exactly the same score (no floats in the runtime).

use crate::Reputation;

/// Fixed-point scale: 18 decimal places.
const SCALE: i128 = 1_000_000_000_000_000_000;
/// e^(−1) · SCALE.
const E_INV: i128 = 367_879_441_171_442_322;
/// Beyond e^(−60) the value is below 1e−26: zero at this scale.
const MAX_EXP: i128 = 60;

/// e^(−x) for `x ≥ 0` given at [`SCALE`], returned at [`SCALE`].
///
/// Integer part by repeated multiplication by e^(−1), fractional part by its Taylor series
/// (alternating, |terms| fall below 1e−18 by the 20th term for a fraction below 1).
fn exp_neg(x: i128) -> i128 {
	debug_assert!(x >= 0);
	let whole = x / SCALE;
	if whole >= MAX_EXP {
		return 0;
	}
	let frac = x % SCALE;
	let mut sum = SCALE;
	let mut term = SCALE;
	for n in 1..=24i128 {
		term = -term * frac / (n * SCALE);
		if term == 0 {
			break;
		}
		sum += term;
	}
	for _ in 0..whole {
		sum = sum * E_INV / SCALE;
	}
	sum
}

/// R = `max` / (1 + e^(−θ·Σc)) rounded to the nearest integer, with θ = `theta_milli` / 1000 and
/// Σc = `rating_sum` (each rating +1, 0 or −1). Σc = 0 gives `max / 2`; large positive sums tend
/// to `max`, large negative ones to 0.
pub fn logistic_reputation(rating_sum: i64, theta_milli: u32, max: Reputation) -> Reputation {
	// z = θ·Σc at SCALE; |Σc| ≤ 2^63 and θ ≤ 2^32/1000 keep this well inside i128 once clamped.
	let z = (rating_sum as i128).saturating_mul(theta_milli as i128).clamp(-MAX_EXP * 1000, MAX_EXP * 1000) * (SCALE / 1000);
	let e = exp_neg(z.abs());
	let max = max as i128;
	// For z ≥ 0: max / (1 + e^(−z)); for z < 0: max · e^(−|z|) / (1 + e^(−|z|)).
	let numerator = if z >= 0 { max * SCALE } else { max * e };
	let denominator = SCALE + e;
	((numerator + denominator / 2) / denominator) as Reputation
}

#[cfg(test)]
mod tests {
	use super::*;

	fn reference(sum: i64, theta: f64, max: u32) -> f64 {
		max as f64 / (1.0 + (-theta * sum as f64).exp())
	}

	#[test]
	fn zero_sum_gives_half() {
		assert_eq!(logistic_reputation(0, 500, 1_000_000), 500_000);
		assert_eq!(logistic_reputation(0, 500, 100), 50);
	}

	#[test]
	fn matches_the_float_formula_within_one_unit() {
		for sum in -200..=200i64 {
			for theta in [1u32, 100, 500, 1000, 2500] {
				let got = logistic_reputation(sum, theta, 1_000_000) as f64;
				let want = reference(sum, theta as f64 / 1000.0, 1_000_000);
				assert!((got - want).abs() <= 1.0, "sum {sum} θ {theta}: {got} vs {want}");
			}
		}
	}

	#[test]
	fn is_monotone_and_symmetric() {
		let mut last = 0;
		for sum in -100..=100i64 {
			let r = logistic_reputation(sum, 300, 1_000_000);
			assert!(r >= last);
			last = r;
			let mirror = logistic_reputation(-sum, 300, 1_000_000);
			assert!((r as i64 + mirror as i64 - 1_000_000).abs() <= 1);
		}
	}

	#[test]
	fn extremes_saturate_without_overflow() {
		assert_eq!(logistic_reputation(i64::MAX, u32::MAX, 1_000_000), 1_000_000);
		assert_eq!(logistic_reputation(i64::MIN, u32::MAX, 1_000_000), 0);
		assert_eq!(logistic_reputation(1, 0, 1_000_000), 500_000);
		let big = logistic_reputation(5, 1000, u32::MAX) as f64;
		assert!((big - reference(5, 1.0, u32::MAX)).abs() <= 1.0, "{big}");
	}
}
