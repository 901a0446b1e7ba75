//! MovieLens-100K ratings, as shipped in RecBole's atomic-file format (`ml-100k.inter`, inside
//! the `recbole` wheel on PyPI; `scripts/fetch-movielens.sh` extracts it — the data set is never
//! committed): a tab-separated header `user_id:token  item_id:token  rating:float
//! timestamp:float`, then one rating per line. User and item tokens are renumbered densely in
//! order of first appearance.

use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::{collections::HashMap, io};

/// Why a ratings file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RatingsError {
	/// Reading failed.
	#[error("reading the ratings: {0}")]
	Io(#[from] io::Error),
	/// The header lacks a column.
	#[error("the header has no `{0}` column")]
	MissingColumn(&'static str),
	/// A line is malformed.
	#[error("line {line}: {reason}")]
	Line {
		/// 1-based line number.
		line: usize,
		/// What is wrong.
		reason: String,
	},
}

/// Ratings: `user[i]` gave `item[i]` the rating `rating[i]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ratings {
	/// Number of distinct users (ids are `0..users`).
	pub users: usize,
	/// Number of distinct items (ids are `0..items`).
	pub items: usize,
	/// User of each rating.
	pub user: Vec<u32>,
	/// Item of each rating.
	pub item: Vec<u32>,
	/// The ratings (1–5).
	pub rating: Vec<f32>,
}

impl Ratings {
	/// Number of ratings.
	pub fn len(&self) -> usize {
		self.rating.len()
	}

	/// Whether there are none.
	pub fn is_empty(&self) -> bool {
		self.rating.is_empty()
	}

	/// Mean rating (0 if empty).
	pub fn mean(&self) -> f64 {
		if self.is_empty() {
			return 0.0;
		}
		self.rating.iter().map(|&r| f64::from(r)).sum::<f64>() / self.len() as f64
	}

	/// The ratings `rows` (same id spaces).
	pub fn subset(&self, rows: &[usize]) -> Ratings {
		Ratings {
			users: self.users,
			items: self.items,
			user: rows.iter().map(|&i| self.user[i]).collect(),
			item: rows.iter().map(|&i| self.item[i]).collect(),
			rating: rows.iter().map(|&i| self.rating[i]).collect(),
		}
	}

	/// A seeded random split into train / validation / test with the given shares of the
	/// ratings (test gets the rest).
	pub fn split(&self, train: f64, validation: f64, seed: u64) -> (Ratings, Ratings, Ratings) {
		let mut order: Vec<usize> = (0..self.len()).collect();
		order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
		let a = ((train.clamp(0.0, 1.0) * self.len() as f64) as usize).min(self.len());
		let b = (a + (validation.clamp(0.0, 1.0) * self.len() as f64) as usize).min(self.len());
		(self.subset(&order[..a]), self.subset(&order[a..b]), self.subset(&order[b..]))
	}
}

/// Reads a RecBole `.inter` file (see the module docs).
pub fn read_inter<R: io::BufRead>(reader: R) -> Result<Ratings, RatingsError> {
	let mut lines = reader.lines();
	let header = lines.next().transpose()?.unwrap_or_default();
	let columns: Vec<&str> = header.split('\t').map(|c| c.split(':').next().unwrap_or("").trim()).collect();
	let find = |name: &'static str| columns.iter().position(|&c| c == name).ok_or(RatingsError::MissingColumn(name));
	let (cu, ci, cr) = (find("user_id")?, find("item_id")?, find("rating")?);
	let mut out = Ratings::default();
	let (mut users, mut items) = (HashMap::new(), HashMap::new());
	for (n, line) in lines.enumerate() {
		let line = line?;
		if line.trim().is_empty() {
			continue;
		}
		let bad = |reason: String| RatingsError::Line { line: n + 2, reason };
		let fields: Vec<&str> = line.split('\t').collect();
		let field = |c: usize| fields.get(c).copied().ok_or_else(|| bad(format!("{} fields, column {} missing", fields.len(), c + 1)));
		let rating: f32 = field(cr)?.trim().parse().map_err(|_| bad(format!("rating {:?} is not a number", fields[cr])))?;
		if !(rating.is_finite() && (0.0..=10.0).contains(&rating)) {
			return Err(bad(format!("rating {rating} out of range")));
		}
		let next_user = users.len() as u32;
		let user = *users.entry(field(cu)?.to_string()).or_insert(next_user);
		let next_item = items.len() as u32;
		let item = *items.entry(field(ci)?.to_string()).or_insert(next_item);
		out.user.push(user);
		out.item.push(item);
		out.rating.push(rating);
	}
	out.users = users.len();
	out.items = items.len();
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;

	const SAMPLE: &str =
		"user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t1\n";

	#[test]
	fn reads_recbole_atomic_files() {
		let r = read_inter(SAMPLE.as_bytes()).unwrap();
		assert_eq!((r.users, r.items, r.len()), (2, 2, 3));
		assert_eq!(r.user, vec![0, 1, 0]);
		assert_eq!(r.item, vec![0, 1, 1]);
		assert_eq!(r.rating, vec![3.0, 3.0, 5.0]);
		assert!((r.mean() - 11.0 / 3.0).abs() < 1e-12);
	}

	#[test]
	fn rejects_bad_headers_and_lines() {
		assert!(matches!(read_inter("user_id:token\trating:float\n".as_bytes()), Err(RatingsError::MissingColumn("item_id"))));
		let bad = "user_id:token\titem_id:token\trating:float\n1\t2\tfive\n";
		assert!(matches!(read_inter(bad.as_bytes()), Err(RatingsError::Line { line: 2, .. })));
		let short = "user_id:token\titem_id:token\trating:float\n1\t2\n";
		assert!(matches!(read_inter(short.as_bytes()), Err(RatingsError::Line { line: 2, .. })));
		let range = "user_id:token\titem_id:token\trating:float\n1\t2\t-4\n";
		assert!(matches!(read_inter(range.as_bytes()), Err(RatingsError::Line { line: 2, .. })));
	}

	#[test]
	fn splits_partition_the_ratings() {
		let r = read_inter(SAMPLE.as_bytes()).unwrap();
		let (a, b, c) = r.split(0.34, 0.34, 1);
		assert_eq!(a.len() + b.len() + c.len(), 3);
		let mut all: Vec<(u32, u32)> = [&a, &b, &c].iter().flat_map(|s| s.user.iter().copied().zip(s.item.iter().copied())).collect();
		all.sort_unstable();
		assert_eq!(all, vec![(0, 0), (0, 1), (1, 1)]);
	}
}
