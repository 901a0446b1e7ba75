//! Defences against faked and corrupted training data, applied before each local update.

/// Indices of the `⌈keep · n⌉` samples with the lowest loss (iterative trimmed loss: Shen &
/// Sanghavi 2019), in input order. Ties go to the earlier sample; NaN losses count as highest.
/// `keep` is clamped to `[0, 1]`.
pub fn lowest_loss(losses: &[f32], keep: f64) -> Vec<usize> {
	let n = losses.len();
	let k = ((keep.clamp(0.0, 1.0) * n as f64).ceil() as usize).min(n);
	let mut order: Vec<usize> = (0..n).collect();
	order.sort_by(|&a, &b| {
		let (x, y) = (losses[a], losses[b]);
		match (x.is_nan(), y.is_nan()) {
			(false, false) => x.total_cmp(&y),
			(a_nan, b_nan) => a_nan.cmp(&b_nan),
		}
		.then(a.cmp(&b))
	});
	let mut kept = order[..k].to_vec();
	kept.sort_unstable();
	kept
}

/// Indices of at most `cap` samples per group (for example per wallet or user), the first ones
/// in input order: one actor cannot dominate a node's data by volume.
pub fn cap_per_group<G: Ord + Clone>(groups: &[G], cap: usize) -> Vec<usize> {
	let mut seen = std::collections::BTreeMap::<G, usize>::new();
	groups
		.iter()
		.enumerate()
		.filter_map(|(i, g)| {
			let count = seen.entry(g.clone()).or_insert(0);
			(*count < cap).then(|| {
				*count += 1;
				i
			})
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn keeps_the_lowest_losses_in_input_order() {
		let losses = [0.5, 3.0, 0.1, f32::NAN, 0.1, 2.0];
		assert_eq!(lowest_loss(&losses, 0.5), vec![0, 2, 4]);
		assert_eq!(lowest_loss(&losses, 0.34), vec![0, 2, 4]); // ⌈2.04⌉ = 3
		assert_eq!(lowest_loss(&losses, 0.2), vec![2, 4]);
		assert_eq!(lowest_loss(&losses, 1.0), vec![0, 1, 2, 3, 4, 5]);
		assert_eq!(lowest_loss(&losses, 0.0), Vec::<usize>::new());
		assert_eq!(lowest_loss(&losses, 5.0 / 6.0), vec![0, 1, 2, 4, 5], "NaN goes first");
	}

	#[test]
	fn caps_each_group() {
		let wallets = ["a", "b", "a", "a", "c", "b", "a"];
		assert_eq!(cap_per_group(&wallets, 2), vec![0, 1, 2, 4, 5]);
		assert_eq!(cap_per_group(&wallets, 1), vec![0, 1, 4]);
		assert_eq!(cap_per_group(&wallets, 0), Vec::<usize>::new());
	}
}
