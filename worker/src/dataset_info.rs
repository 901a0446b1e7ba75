//! What a builder or a data node learns of a CSV data set before naming it on chain
//! (`loopx-node dataset inspect`): the hash of its schema, the commitment a task's `eval_set`
//! or an offer makes to it, and what it holds.
//!
//! Both hashes are of the canonical CSV form ([`write_csv`]: `label`, `group`, then the
//! features in header order), so a file with its columns in another order, other spacing or
//! other group names of the same grouping has the same commitment as the form the nodes hold.

use loopx_ml_kernels::data::{
	table::{read_csv, write_csv, TableError},
	Dataset,
};
use sp_core::H256;

use crate::deals::schema_hash;

/// A data set as the chain sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
	/// blake2-256 of the canonical header: what an offer's `schema` names.
	pub schema: H256,
	/// blake2-256 of the canonical CSV: a task's `eval_set`, an offer's `content_hash`.
	pub commitment: H256,
	/// Bytes of the canonical CSV (an offer's `size`).
	pub size: u64,
	/// Rows (an offer's `samples`).
	pub rows: usize,
	/// The feature columns, in order.
	pub features: Vec<String>,
	/// Rows labelled 1.
	pub positives: usize,
	/// Distinct groups (wallets, users).
	pub groups: usize,
	/// Rows of the largest group (what a per-group cap would cut).
	pub largest_group: usize,
}

/// Why a data set could not be read.
#[derive(Debug)]
pub enum DatasetError {
	/// The file could not be read.
	Io(std::io::Error),
	/// The file is not a table in the schema the nodes read (the line and column say where).
	Table(TableError),
}

impl core::fmt::Display for DatasetError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Io(e) => write!(f, "{e}"),
			Self::Table(e) => write!(f, "{e}"),
		}
	}
}

impl std::error::Error for DatasetError {}

/// Reads the CSV data set at `path`.
pub fn read_file(path: &std::path::Path) -> Result<Dataset, DatasetError> {
	read_csv(std::fs::File::open(path).map_err(DatasetError::Io)?).map_err(DatasetError::Table)
}

/// The canonical CSV form of `data`.
pub fn canonical_csv(data: &Dataset) -> Result<Vec<u8>, TableError> {
	let mut csv = Vec::new();
	write_csv(data, &mut csv)?;
	Ok(csv)
}

/// What `data` is, as the chain names it.
pub fn inspect(data: &Dataset) -> Result<DatasetInfo, TableError> {
	let csv = canonical_csv(data)?;
	let mut sizes = std::collections::BTreeMap::<u64, usize>::new();
	for g in &data.groups {
		*sizes.entry(*g).or_default() += 1;
	}
	Ok(DatasetInfo {
		schema: schema_hash(data),
		commitment: H256(sp_crypto_hashing::blake2_256(&csv)),
		size: csv.len() as u64,
		rows: data.len(),
		features: data.names.clone(),
		positives: data.labels.iter().filter(|l| **l).count(),
		groups: sizes.len(),
		largest_group: sizes.values().copied().max().unwrap_or(0),
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::demo_data::{commitment, eval_set, DEMO_EVAL_SET};
	use loopx_ml_kernels::data::table::read_csv;

	#[test]
	fn a_file_is_named_by_its_canonical_form_whatever_its_column_order() {
		let a = read_csv("label,group,x,y\n1,w1,0.5,2\n0,w2,1,3\n0,w1,2,4\n".as_bytes()).unwrap();
		let b = read_csv("group , y,label,x\nw1,2,1,0.5\nw2,3,0,1.0\nw1,4,false,2\n".as_bytes()).unwrap();
		// The label and group columns may sit anywhere, values may be spaced and spelled alike.
		let moved = read_csv("x, label ,group,y\n0.5,true,w1,2\n1.0,0,w2,3\n2,0,w1,4\n".as_bytes()).unwrap();
		assert_eq!(inspect(&moved).unwrap(), inspect(&a).unwrap());
		let (ia, ib) = (inspect(&a).unwrap(), inspect(&b).unwrap());
		assert_eq!(ia.features, vec!["x", "y"]);
		assert_eq!(ib.features, vec!["y", "x"], "features keep their header order");
		assert_ne!((ib.schema, ib.commitment), (ia.schema, ia.commitment), "another feature order is another schema");
		let c = read_csv("label,group,x,y\n1,a,0.5,2\n0,b,1,3\n0,a,2,4\n".as_bytes()).unwrap();
		let ic = inspect(&c).unwrap();
		assert_eq!(ic.commitment, ia.commitment, "group names and spacing do not change the commitment");
		assert_eq!((ia.rows, ia.positives, ia.groups, ia.largest_group), (3, 1, 2, 2));
		assert_eq!(ia.size, canonical_csv(&a).unwrap().len() as u64);
		assert_eq!(ia.schema, schema_hash(&a));
		let other = read_csv("label,group,x,y\n1,w1,0.5,2\n0,w2,1,3\n1,w1,2,4\n".as_bytes()).unwrap();
		assert_ne!(inspect(&other).unwrap().commitment, ia.commitment, "one label changed");
		assert_eq!(inspect(&other).unwrap().schema, ia.schema, "same columns, same schema");
	}

	#[test]
	fn the_demo_evaluation_set_is_named_by_its_commitment() {
		let info = inspect(&eval_set()).unwrap();
		assert_eq!(info.commitment, DEMO_EVAL_SET);
		assert_eq!(info.commitment, commitment(&eval_set()));
		assert!(info.positives > 0 && info.positives < info.rows);
	}

	#[test]
	fn a_bad_row_is_refused_with_its_line() {
		let dir = std::env::temp_dir().join(format!("loopx-dataset-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let path = dir.join("bad.csv");
		std::fs::write(&path, "label,x\n1,0.5\n0,abc\n").unwrap();
		let e = read_file(&path).unwrap_err().to_string();
		assert!(e.contains("line 3") && e.contains("`abc`"), "{e}");
		assert!(read_file(&dir.join("missing.csv")).is_err());
		std::fs::remove_dir_all(&dir).unwrap();
	}
}
