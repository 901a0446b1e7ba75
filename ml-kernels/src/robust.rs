//! Aggregating model updates when some peers may be poisoned.
//!
//! Each rule takes `n` updates of equal length and returns one. Sums run in f64 in peer order,
//! so results are deterministic.

/// Why updates could not be aggregated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregationError {
	/// No updates.
	#[error("no updates to aggregate")]
	Empty,
	/// Updates of different lengths.
	#[error("update {index} has length {found}, expected {expected}")]
	LengthMismatch {
		/// Offending update.
		index: usize,
		/// Length of the first update.
		expected: usize,
		/// Its length.
		found: usize,
	},
	/// The rule needs more updates than it got (e.g. trimming or Krum's `n > 2f + 2`).
	#[error("{rule} needs at least {needed} updates, got {got}")]
	TooFew {
		/// The rule.
		rule: &'static str,
		/// Needed.
		needed: usize,
		/// Given.
		got: usize,
	},
}

/// An aggregation rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregator {
	/// Plain average (not robust: the baseline).
	Mean,
	/// Coordinate-wise median (the mean of the two middle values for even `n`).
	Median,
	/// Coordinate-wise mean after dropping the `trim` largest and `trim` smallest values.
	TrimmedMean {
		/// Values dropped at each end, per coordinate.
		trim: usize,
	},
	/// Multi-Krum (Blanchard et al. 2017): score each update by the summed squared distances to
	/// its `n − f − 2` nearest others, average the `m` best-scored.
	MultiKrum {
		/// Assumed number of Byzantine updates.
		f: usize,
		/// Number of updates averaged.
		m: usize,
	},
	/// Scale every update to L2 norm at most `max_norm`, then average.
	NormClippedMean {
		/// The norm bound.
		max_norm: f32,
	},
	/// Centered clipping (Karimireddy, He & Jaggi 2021, one iteration) around the first
	/// update, which in gossip is the node's own model: every update's difference from it is
	/// clipped to L2 norm `radius × ‖first‖`, and the first plus the mean of the clipped
	/// differences is returned. One poisoned input moves the result by at most
	/// `radius × ‖first‖ / n`, however far it is, while honest models that lie within the
	/// radius are averaged unchanged. The radius is relative so that it needs no tuning to the
	/// model's scale.
	CenteredClip {
		/// The clipping radius as a fraction of the first update's norm.
		radius: f32,
	},
}

impl Aggregator {
	/// Aggregates `updates`.
	pub fn aggregate(&self, updates: &[&[f32]]) -> Result<Vec<f32>, AggregationError> {
		let len = check(updates)?;
		let n = updates.len();
		match *self {
			Aggregator::Mean => Ok(mean(updates, len)),
			Aggregator::Median => Ok(per_coordinate(updates, len, |v| {
				let mid = v.len() / 2;
				if v.len() % 2 == 1 {
					f64::from(v[mid])
				} else {
					(f64::from(v[mid - 1]) + f64::from(v[mid])) / 2.0
				}
			})),
			Aggregator::TrimmedMean { trim } => {
				if n <= 2 * trim {
					return Err(AggregationError::TooFew { rule: "trimmed mean", needed: 2 * trim + 1, got: n });
				}
				Ok(per_coordinate(updates, len, |v| {
					let kept = &v[trim..v.len() - trim];
					kept.iter().map(|&x| f64::from(x)).sum::<f64>() / kept.len() as f64
				}))
			},
			Aggregator::MultiKrum { f, m } => {
				if n < 2 * f + 3 || m == 0 || m > n {
					return Err(AggregationError::TooFew { rule: "Multi-Krum", needed: (2 * f + 3).max(m), got: n });
				}
				let chosen = krum_select(updates, f, m);
				let picked: Vec<&[f32]> = chosen.iter().map(|&i| updates[i]).collect();
				Ok(mean(&picked, len))
			},
			Aggregator::NormClippedMean { max_norm } => {
				let clipped: Vec<Vec<f32>> = updates.iter().map(|u| clip_norm(u, max_norm)).collect();
				let refs: Vec<&[f32]> = clipped.iter().map(|v| v.as_slice()).collect();
				Ok(mean(&refs, len))
			},
			Aggregator::CenteredClip { radius } => Ok(centered_clip(updates, radius)),
		}
	}
}

/// The indices Multi-Krum keeps (lowest scores first; ties by index).
pub fn krum_select(updates: &[&[f32]], f: usize, m: usize) -> Vec<usize> {
	let n = updates.len();
	let neighbours = n.saturating_sub(f + 2).max(1);
	let mut dist = vec![vec![0.0f64; n]; n];
	for i in 0..n {
		for j in i + 1..n {
			let d = updates[i].iter().zip(updates[j]).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum();
			dist[i][j] = d;
			dist[j][i] = d;
		}
	}
	let mut scores: Vec<(f64, usize)> = (0..n)
		.map(|i| {
			let mut d: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| dist[i][j]).collect();
			d.sort_by(f64::total_cmp);
			(d.iter().take(neighbours).sum(), i)
		})
		.collect();
	scores.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
	scores.into_iter().take(m).map(|(_, i)| i).collect()
}

/// `u` scaled down to L2 norm `max_norm` if it is longer.
pub fn clip_norm(u: &[f32], max_norm: f32) -> Vec<f32> {
	let norm = l2(u);
	if norm <= f64::from(max_norm) || norm == 0.0 {
		return u.to_vec();
	}
	let s = f64::from(max_norm) / norm;
	u.iter().map(|&x| (f64::from(x) * s) as f32).collect()
}

/// [`Aggregator::CenteredClip`] (`updates` checked non-empty and of equal lengths).
fn centered_clip(updates: &[&[f32]], radius: f32) -> Vec<f32> {
	let center = updates[0];
	let tau = (f64::from(radius) * l2(center)) as f32;
	let diffs: Vec<Vec<f32>> = updates
		.iter()
		.map(|u| {
			let d: Vec<f32> = u.iter().zip(center).map(|(x, c)| x - c).collect();
			clip_norm(&d, tau)
		})
		.collect();
	let refs: Vec<&[f32]> = diffs.iter().map(Vec::as_slice).collect();
	let shift = mean(&refs, center.len());
	center.iter().zip(shift).map(|(c, s)| c + s).collect()
}

fn l2(u: &[f32]) -> f64 {
	u.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt()
}

fn check(updates: &[&[f32]]) -> Result<usize, AggregationError> {
	let first = updates.first().ok_or(AggregationError::Empty)?;
	let expected = first.len();
	if let Some((index, u)) = updates.iter().enumerate().find(|(_, u)| u.len() != expected) {
		return Err(AggregationError::LengthMismatch { index, expected, found: u.len() });
	}
	Ok(expected)
}

fn mean(updates: &[&[f32]], len: usize) -> Vec<f32> {
	let n = updates.len() as f64;
	(0..len).map(|c| (updates.iter().map(|u| f64::from(u[c])).sum::<f64>() / n) as f32).collect()
}

fn per_coordinate(updates: &[&[f32]], len: usize, reduce: impl Fn(&[f32]) -> f64) -> Vec<f32> {
	let mut column = Vec::with_capacity(updates.len());
	(0..len)
		.map(|c| {
			column.clear();
			column.extend(updates.iter().map(|u| u[c]));
			column.sort_by(f32::total_cmp);
			reduce(&column) as f32
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	const HONEST: [[f32; 2]; 5] = [[1.0, 2.0], [1.2, 2.2], [0.8, 1.8], [1.1, 1.9], [0.9, 2.1]];

	fn with_attackers(attack: &[[f32; 2]]) -> Vec<Vec<f32>> {
		HONEST.iter().chain(attack).map(|u| u.to_vec()).collect()
	}

	fn run(rule: Aggregator, updates: &[Vec<f32>]) -> Vec<f32> {
		let refs: Vec<&[f32]> = updates.iter().map(|u| u.as_slice()).collect();
		rule.aggregate(&refs).unwrap()
	}

	fn close(a: &[f32], b: &[f32]) -> bool {
		a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
	}

	#[test]
	fn known_answers_without_attack() {
		let u = with_attackers(&[]);
		assert!(close(&run(Aggregator::Mean, &u), &[1.0, 2.0]));
		assert!(close(&run(Aggregator::Median, &u), &[1.0, 2.0]));
		assert!(close(&run(Aggregator::TrimmedMean { trim: 1 }, &u), &[1.0, 2.0]));
		// Even count: median is the mean of the middle two.
		let even = vec![vec![1.0], vec![2.0], vec![3.0], vec![10.0]];
		assert!(close(&run(Aggregator::Median, &even), &[2.5]));
		assert!(close(&run(Aggregator::TrimmedMean { trim: 1 }, &even), &[2.5]));
	}

	#[test]
	fn robust_rules_ignore_two_huge_attackers_but_the_mean_does_not() {
		let u = with_attackers(&[[100.0, -100.0], [90.0, -80.0]]);
		let mean = run(Aggregator::Mean, &u);
		assert!(mean[0] > 20.0, "the mean is dragged away: {mean:?}");
		assert!(close(&run(Aggregator::Median, &u), &[1.1, 1.9]));
		assert!(close(&run(Aggregator::TrimmedMean { trim: 2 }, &u), &[1.1, 1.9]));
		// Multi-Krum with f = 2 keeps three honest updates: the closest cluster.
		let mut chosen = {
			let refs: Vec<&[f32]> = u.iter().map(|x| x.as_slice()).collect();
			krum_select(&refs, 2, 3)
		};
		// Scores: 0.12 for update 0, 0.20 for 3 and 4 (equal up to rounding), 0.28 for 1 and 2.
		chosen.sort_unstable();
		assert_eq!(chosen, vec![0, 3, 4]);
		assert!(close(&run(Aggregator::MultiKrum { f: 2, m: 3 }, &u), &[1.0, 2.0]));
	}

	#[test]
	fn norm_clipping_bounds_each_update() {
		let u = vec![vec![3.0, 4.0], vec![0.3, 0.4]];
		assert!(close(&clip_norm(&u[0], 1.0), &[0.6, 0.8]));
		assert!(close(&run(Aggregator::NormClippedMean { max_norm: 1.0 }, &u), &[0.45, 0.6]));
	}

	#[test]
	fn centered_clipping_bounds_each_input_around_the_first() {
		// ‖first‖ = 5, radius 0.2: differences are clipped to norm 1.
		let u = vec![vec![3.0, 4.0], vec![13.0, 4.0], vec![3.0, 4.5]];
		let merged = run(Aggregator::CenteredClip { radius: 0.2 }, &u);
		// 3 + (0 + 1 + 0) / 3, 4 + (0 + 0 + 0.5) / 3
		assert!(close(&merged, &[3.0 + 1.0 / 3.0, 4.0 + 0.5 / 3.0]), "{merged:?}");
		// Inputs within the radius are averaged as they are: the plain mean.
		let near = vec![vec![3.0, 4.0], vec![3.3, 4.0], vec![3.0, 3.7]];
		assert!(close(&run(Aggregator::CenteredClip { radius: 0.2 }, &near), &run(Aggregator::Mean, &near)));
	}

	#[test]
	fn centered_clipping_is_not_flipped_by_a_majority_of_sign_flips() {
		// Four of six inputs are the first × (−4); the median would follow them.
		let own = [1.0f32, 2.0];
		let flip = [-4.0f32, -8.0];
		let u: Vec<Vec<f32>> = [&own[..], &[1.1, 2.1], &flip, &flip, &flip, &flip].iter().map(|x| x.to_vec()).collect();
		let median = run(Aggregator::Median, &u);
		assert!(median[0] < 0.0, "the median is flipped: {median:?}");
		let merged = run(Aggregator::CenteredClip { radius: 0.5 }, &u);
		// Each flip moves it by at most 0.5·‖own‖/6 towards −own: at most a third in all.
		assert!(merged.iter().zip(own).all(|(m, o)| *m > 0.0 && *m / o > 0.6), "{merged:?}");
	}

	#[test]
	fn bad_input_is_refused() {
		let none: [&[f32]; 0] = [];
		assert_eq!(Aggregator::Mean.aggregate(&none), Err(AggregationError::Empty));
		let a = [1.0f32, 2.0];
		let b = [1.0f32];
		assert_eq!(Aggregator::Median.aggregate(&[&a, &b]), Err(AggregationError::LengthMismatch { index: 1, expected: 2, found: 1 }));
		assert!(matches!(Aggregator::TrimmedMean { trim: 1 }.aggregate(&[&a, &a]), Err(AggregationError::TooFew { .. })));
		assert!(matches!(Aggregator::MultiKrum { f: 1, m: 1 }.aggregate(&[&a, &a, &a, &a]), Err(AggregationError::TooFew { .. })));
	}
}
