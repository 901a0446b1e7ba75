//! Weighted draws without replacement from on-chain randomness: the compute market's answerers
//! (by reputation, when no router acts; MintAI selects validators by reputation-weighted VRF,
//! BABE's randomness plays that part here) and the weighted vote's committees (by stake ×
//! reputation).

use alloc::vec::Vec;
use sp_runtime::traits::{BlakeTwo256, Hash as _};

/// Draws `count` distinct entries of `candidates`, each pick with probability proportional to
/// its weight among those left (a zero weight counts as 1, so that everyone can be drawn).
/// Deterministic in `seed`; returns fewer than `count` only when there are fewer candidates.
pub fn weighted_draw<A: Clone>(candidates: &[(A, u128)], count: usize, seed: [u8; 32]) -> Vec<A> {
	let mut left: Vec<(A, u128)> = candidates.iter().map(|(a, w)| (a.clone(), (*w).max(1))).collect();
	let mut picked = Vec::with_capacity(count.min(left.len()));
	let mut round = 0u32;
	while picked.len() < count && !left.is_empty() {
		// Saturating: weights up to u128::MAX / count never reach it (votes weigh below 2^90).
		let total: u128 = left.iter().fold(0u128, |acc, (_, w)| acc.saturating_add(*w));
		let mut entropy = [0u8; 16];
		entropy.copy_from_slice(&BlakeTwo256::hash(&[&seed[..], &round.to_le_bytes()[..]].concat()).0[..16]);
		let mut point = u128::from_le_bytes(entropy) % total;
		let mut index = 0;
		for (k, (_, w)) in left.iter().enumerate() {
			if point < *w {
				index = k;
				break;
			}
			point -= *w;
		}
		picked.push(left.swap_remove(index).0);
		round += 1;
	}
	picked
}

#[cfg(test)]
mod tests {
	use super::weighted_draw;

	#[test]
	fn draws_distinct_candidates_deterministically() {
		let c = [(1u8, 10u128), (2, 20), (3, 30), (4, 0)];
		let a = weighted_draw(&c, 3, [7; 32]);
		assert_eq!(a, weighted_draw(&c, 3, [7; 32]));
		assert_eq!(a.len(), 3);
		let mut sorted = a.clone();
		sorted.sort();
		sorted.dedup();
		assert_eq!(sorted.len(), 3, "no candidate twice");
		assert_eq!(weighted_draw(&c, 9, [1; 32]).len(), 4, "at most every candidate");
		assert!(weighted_draw::<u8>(&[], 2, [1; 32]).is_empty());
	}

	#[test]
	fn picks_follow_the_weights() {
		// One pick from weights 1 : 3 over 4,000 seeds: about 1,000 : 3,000.
		let c = [(0usize, 1u128), (1, 3)];
		let mut hits = [0u32; 2];
		for s in 0..4_000u32 {
			let mut seed = [0u8; 32];
			seed[..4].copy_from_slice(&s.to_le_bytes());
			hits[weighted_draw(&c, 1, seed)[0]] += 1;
		}
		assert!((850..1_150).contains(&hits[0]), "{hits:?}");
	}
}
