//! Splitting a data set across gossip nodes: IID (uniform) or non-IID (label skew drawn from a
//! Dirichlet distribution, the usual federated-learning benchmark split: Hsu et al. 2019).

use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

/// Row indices per node: a uniformly shuffled split, node sizes differing by at most one.
pub fn iid(rows: usize, nodes: usize, seed: u64) -> Vec<Vec<usize>> {
	let nodes = nodes.max(1);
	let mut order: Vec<usize> = (0..rows).collect();
	order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
	let mut shards = vec![Vec::with_capacity(rows / nodes + 1); nodes];
	for (k, i) in order.into_iter().enumerate() {
		shards[k % nodes].push(i);
	}
	shards
}

/// Row indices per node with label skew: each class is spread over the nodes in proportions
/// drawn from `Dirichlet(alpha, …, alpha)`. Small `alpha` (0.1) gives nodes that see mostly one
/// class; large `alpha` (100) approaches IID.
pub fn label_skew(labels: &[bool], nodes: usize, alpha: f64, seed: u64) -> Vec<Vec<usize>> {
	let nodes = nodes.max(1);
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	let gamma = Gamma::new(alpha.max(1e-3), 1.0).expect("shape and scale are positive");
	let mut shards = vec![Vec::new(); nodes];
	for class in [false, true] {
		let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
		rows.shuffle(&mut rng);
		let weights: Vec<f64> = (0..nodes).map(|_| gamma.sample(&mut rng)).collect();
		let total: f64 = weights.iter().sum();
		let mut start = 0;
		let mut cumulative = 0.0;
		for (node, w) in weights.iter().enumerate() {
			cumulative += w;
			let end = if node + 1 == nodes { rows.len() } else { ((cumulative / total) * rows.len() as f64) as usize };
			let end = end.clamp(start, rows.len());
			shards[node].extend_from_slice(&rows[start..end]);
			start = end;
		}
	}
	for shard in &mut shards {
		shard.sort_unstable();
	}
	shards
}

#[cfg(test)]
mod tests {
	use super::*;

	fn is_partition(shards: &[Vec<usize>], rows: usize) -> bool {
		let mut all: Vec<usize> = shards.iter().flatten().copied().collect();
		all.sort_unstable();
		all == (0..rows).collect::<Vec<_>>()
	}

	#[test]
	fn iid_is_a_balanced_deterministic_partition() {
		let shards = iid(1003, 10, 7);
		assert!(is_partition(&shards, 1003));
		assert!(shards.iter().all(|s| s.len() == 100 || s.len() == 101));
		assert_eq!(shards, iid(1003, 10, 7));
		assert_ne!(shards, iid(1003, 10, 8));
	}

	#[test]
	fn label_skew_partitions_and_skews_more_with_small_alpha() {
		let labels: Vec<bool> = (0..4000).map(|i| i % 4 == 0).collect();
		let spread = |alpha: f64| {
			let shards = label_skew(&labels, 16, alpha, 3);
			assert!(is_partition(&shards, labels.len()));
			// Variance across nodes of the positive share.
			let shares: Vec<f64> =
				shards.iter().filter(|s| !s.is_empty()).map(|s| s.iter().filter(|&&i| labels[i]).count() as f64 / s.len() as f64).collect();
			let mean = shares.iter().sum::<f64>() / shares.len() as f64;
			shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / shares.len() as f64
		};
		let (skewed, near_iid) = (spread(0.1), spread(100.0));
		assert!(skewed > 10.0 * near_iid, "alpha 0.1: {skewed}, alpha 100: {near_iid}");
		assert_eq!(label_skew(&labels, 16, 0.5, 1), label_skew(&labels, 16, 0.5, 1));
	}
}
