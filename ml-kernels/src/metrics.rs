//! Evaluation metrics with a fixed reduction order: every validator re-running an evaluation on
//! the same inputs gets the same bits (sums in f64, sequential, in input order; sorting with a
//! total order and index tie-breaks).

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
	/// Predictions and targets differ in length.
	#[error("{predictions} predictions for {targets} targets")]
	LengthMismatch {
		/// Predictions given.
		predictions: usize,
		/// Targets given.
		targets: usize,
	},
	/// No samples.
	#[error("no samples")]
	Empty,
	/// AUC needs both classes.
	#[error("AUC needs positive and negative samples")]
	OneClass,
}

fn check(predictions: usize, targets: usize) -> Result<(), MetricError> {
	if predictions != targets {
		return Err(MetricError::LengthMismatch { predictions, targets });
	}
	if predictions == 0 {
		return Err(MetricError::Empty);
	}
	Ok(())
}

/// Area under the ROC curve of `scores` for binary `labels`, ties counted half (the
/// Mann–Whitney statistic with average ranks).
pub fn auc(scores: &[f32], labels: &[bool]) -> Result<f64, MetricError> {
	check(scores.len(), labels.len())?;
	let positives = labels.iter().filter(|&&l| l).count();
	let negatives = labels.len() - positives;
	if positives == 0 || negatives == 0 {
		return Err(MetricError::OneClass);
	}
	let mut order: Vec<usize> = (0..scores.len()).collect();
	order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
	// Sum of the (1-based, tie-averaged) ranks of the positives.
	let mut rank_sum = 0.0f64;
	let mut i = 0;
	while i < order.len() {
		let mut j = i;
		while j + 1 < order.len() && scores[order[j + 1]].total_cmp(&scores[order[i]]).is_eq() {
			j += 1;
		}
		let average_rank = (i + j) as f64 / 2.0 + 1.0;
		for &k in &order[i..=j] {
			if labels[k] {
				rank_sum += average_rank;
			}
		}
		i = j + 1;
	}
	let p = positives as f64;
	Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Share of `probabilities` on the right side of 0.5 for `labels`.
pub fn accuracy(probabilities: &[f32], labels: &[bool]) -> Result<f64, MetricError> {
	check(probabilities.len(), labels.len())?;
	let right = probabilities.iter().zip(labels).filter(|(p, l)| (**p >= 0.5) == **l).count();
	Ok(right as f64 / labels.len() as f64)
}

/// Root mean squared error.
pub fn rmse(predictions: &[f32], targets: &[f32]) -> Result<f64, MetricError> {
	check(predictions.len(), targets.len())?;
	let sum: f64 = predictions.iter().zip(targets).map(|(p, t)| (f64::from(*p) - f64::from(*t)).powi(2)).sum();
	Ok((sum / predictions.len() as f64).sqrt())
}

/// Mean binary cross-entropy, with probabilities clamped to `[1e-7, 1 − 1e-7]`.
pub fn log_loss(probabilities: &[f32], labels: &[bool]) -> Result<f64, MetricError> {
	check(probabilities.len(), labels.len())?;
	const EPS: f64 = 1e-7;
	let sum: f64 = probabilities
		.iter()
		.zip(labels)
		.map(|(p, l)| {
			let p = f64::from(*p).clamp(EPS, 1.0 - EPS);
			if *l {
				-p.ln()
			} else {
				-(1.0 - p).ln()
			}
		})
		.sum();
	Ok(sum / labels.len() as f64)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn auc_known_answers() {
		assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Ok(0.75));
		assert_eq!(auc(&[0.9, 0.8, 0.1], &[true, true, false]), Ok(1.0));
		assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[true, false, true, false]), Ok(0.5));
		assert_eq!(auc(&[0.1, 0.2], &[true, true]), Err(MetricError::OneClass));
	}

	#[test]
	fn accuracy_rmse_and_log_loss_known_answers() {
		assert_eq!(accuracy(&[0.9, 0.2, 0.6, 0.4], &[true, false, false, false]), Ok(0.75));
		assert_eq!(rmse(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0]), Ok((4.0f64 / 3.0).sqrt()));
		let ll = log_loss(&[0.5, 0.5], &[true, false]).unwrap();
		assert!((ll - std::f64::consts::LN_2).abs() < 1e-12);
		assert!(log_loss(&[0.0], &[true]).unwrap().is_finite(), "clamped");
		assert_eq!(rmse(&[1.0], &[]), Err(MetricError::LengthMismatch { predictions: 1, targets: 0 }));
		assert_eq!(accuracy(&[], &[]), Err(MetricError::Empty));
	}

	#[test]
	fn metrics_are_bit_for_bit_reproducible() {
		// Values whose sum depends on the order: the fixed order gives identical bits each run.
		let scores: Vec<f32> = (0..10_000).map(|i| ((i * 7919 % 10_007) as f32 / 10_007.0).powi(3)).collect();
		let labels: Vec<bool> = (0..10_000).map(|i| (i * 31 % 7) < 3).collect();
		let targets: Vec<f32> = scores.iter().map(|s| s * 0.9 + 0.01).collect();
		let first =
			(auc(&scores, &labels).unwrap().to_bits(), log_loss(&scores, &labels).unwrap().to_bits(), rmse(&scores, &targets).unwrap().to_bits());
		for _ in 0..5 {
			let again =
				(auc(&scores, &labels).unwrap().to_bits(), log_loss(&scores, &labels).unwrap().to_bits(), rmse(&scores, &targets).unwrap().to_bits());
			assert_eq!(again, first);
		}
	}
}
