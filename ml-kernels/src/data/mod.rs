//! Training data: the labelled table the models train on, a seeded synthetic wallet-transaction
//! generator with planted fraud, IID and non-IID sharding across nodes, and a CSV loader for
//! users' own data, and the MovieLens-100K ratings for the recommender.

pub mod movielens;
pub mod shard;
pub mod table;
pub mod wallet;

use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A labelled table: `len` rows of `dim` features, a binary label and a group (for example the
/// sending wallet or the user) per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
	/// Feature names, `dim` of them.
	pub names: Vec<String>,
	/// Row-major features, `len · dim` values.
	pub features: Vec<f32>,
	/// One label per row.
	pub labels: Vec<bool>,
	/// One group id per row.
	pub groups: Vec<u64>,
}

impl Dataset {
	/// Number of features per row.
	pub fn dim(&self) -> usize {
		self.names.len()
	}

	/// Number of rows.
	pub fn len(&self) -> usize {
		self.labels.len()
	}

	/// Whether there are no rows.
	pub fn is_empty(&self) -> bool {
		self.labels.is_empty()
	}

	/// Row `i`'s features.
	pub fn row(&self, i: usize) -> &[f32] {
		&self.features[i * self.dim()..(i + 1) * self.dim()]
	}

	/// The rows `indices`, in that order.
	pub fn subset(&self, indices: &[usize]) -> Dataset {
		Dataset {
			names: self.names.clone(),
			features: indices.iter().flat_map(|&i| self.row(i).iter().copied()).collect(),
			labels: indices.iter().map(|&i| self.labels[i]).collect(),
			groups: indices.iter().map(|&i| self.groups[i]).collect(),
		}
	}

	/// Share of positive labels (0 for an empty table).
	pub fn positive_rate(&self) -> f64 {
		if self.is_empty() {
			return 0.0;
		}
		self.labels.iter().filter(|&&l| l).count() as f64 / self.len() as f64
	}

	/// Flips the labels of a `fraction` of the rows, chosen from `seed`: the corrupted data of
	/// a label-flipping attacker. Returns the flipped rows, sorted.
	pub fn flip_labels(&mut self, fraction: f64, seed: u64) -> Vec<usize> {
		let mut order: Vec<usize> = (0..self.len()).collect();
		order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
		let k = ((fraction.clamp(0.0, 1.0) * self.len() as f64).round() as usize).min(self.len());
		let mut flipped = order[..k].to_vec();
		flipped.sort_unstable();
		for &i in &flipped {
			self.labels[i] = !self.labels[i];
		}
		flipped
	}
}

/// Per-feature standardisation `(x − mean) / std`, fitted on training data and applied to
/// every set (std floored at 1e-6 so constant features stay finite).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
	/// Mean of each feature.
	pub mean: Vec<f32>,
	/// Standard deviation of each feature.
	pub std: Vec<f32>,
}

impl Standardizer {
	/// Fits on `data` (f64 sums in row order).
	pub fn fit(data: &Dataset) -> Self {
		let (dim, n) = (data.dim(), data.len().max(1) as f64);
		let mut mean = vec![0.0f64; dim];
		let mut square = vec![0.0f64; dim];
		for i in 0..data.len() {
			for (j, &x) in data.row(i).iter().enumerate() {
				mean[j] += f64::from(x);
				square[j] += f64::from(x) * f64::from(x);
			}
		}
		let mean: Vec<f64> = mean.iter().map(|s| s / n).collect();
		let std = square.iter().zip(&mean).map(|(s, m)| ((s / n - m * m).max(0.0).sqrt()).max(1e-6) as f32).collect();
		Self { mean: mean.into_iter().map(|m| m as f32).collect(), std }
	}

	/// Standardises `data` in place (it must have the fitted number of features).
	pub fn apply(&self, data: &mut Dataset) {
		let dim = self.mean.len();
		for (k, x) in data.features.iter_mut().enumerate() {
			let j = k % dim;
			*x = (*x - self.mean[j]) / self.std[j];
		}
	}
}

/// Splits `data` in time: the first `train_share` of the rows (in order) train, the rest test
/// — fraud is judged on transactions the model has not seen — and standardises both with the
/// training part's statistics.
pub fn split_in_time_standardized(data: &Dataset, train_share: f64) -> (Dataset, Dataset) {
	let cut = ((data.len() as f64 * train_share.clamp(0.0, 1.0)) as usize).min(data.len());
	let mut train = data.subset(&(0..cut).collect::<Vec<_>>());
	let mut test = data.subset(&(cut..data.len()).collect::<Vec<_>>());
	let scaler = Standardizer::fit(&train);
	scaler.apply(&mut train);
	scaler.apply(&mut test);
	(train, test)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn table() -> Dataset {
		Dataset {
			names: vec!["a".into(), "b".into()],
			features: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
			labels: vec![true, false, false],
			groups: vec![7, 7, 9],
		}
	}

	#[test]
	fn rows_and_subsets() {
		let t = table();
		assert_eq!((t.len(), t.dim()), (3, 2));
		assert_eq!(t.row(1), &[3.0, 4.0]);
		let s = t.subset(&[2, 0]);
		assert_eq!(s.features, vec![5.0, 6.0, 1.0, 2.0]);
		assert_eq!(s.labels, vec![false, true]);
		assert_eq!(s.groups, vec![9, 7]);
		assert!((t.positive_rate() - 1.0 / 3.0).abs() < 1e-12);
	}

	#[test]
	fn standardizing_centres_and_scales() {
		let mut t = table();
		let s = Standardizer::fit(&t);
		assert_eq!(s.mean, vec![3.0, 4.0]);
		s.apply(&mut t);
		let col0: Vec<f32> = (0..3).map(|i| t.row(i)[0]).collect();
		let std = (8.0f32 / 3.0).sqrt();
		assert!(col0.iter().zip([-2.0 / std, 0.0, 2.0 / std]).all(|(a, b)| (a - b).abs() < 1e-6));
	}

	#[test]
	fn flipping_labels_flips_exactly_the_reported_rows() {
		let mut t = Dataset { labels: vec![false; 100], features: vec![0.0; 200], groups: vec![0; 100], names: table().names };
		let flipped = t.flip_labels(0.2, 5);
		assert_eq!(flipped.len(), 20);
		assert_eq!(t.labels.iter().filter(|&&l| l).count(), 20);
		assert!(flipped.iter().all(|&i| t.labels[i]));
	}
}
