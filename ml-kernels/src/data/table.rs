//! Loading and writing [`Dataset`]s as CSV, so users can train on their own data.
//!
//! ## Schema
//!
//! - A header row naming every column. Column order is free.
//! - `label` (required): `0`/`1` or `false`/`true` (case-insensitive).
//! - `group` (optional): who the row belongs to (a wallet, a user), any text; rows of the same
//!   text share a group. Without it every row is its own group. Groups feed the per-group cap
//!   ([`crate::selection::cap_per_group`]).
//! - Every other column is a numeric feature (f32, finite), kept in header order.
//!
//! Example: `label,group,log_amount,hour_sin` then `1,wallet-7,4.2,0.5`.

use super::Dataset;
use std::{collections::HashMap, io};

/// Why a CSV table was rejected. Lines are 1-based and count the header.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
	/// The file is empty or has only a header.
	#[error("no data rows")]
	Empty,
	/// No `label` column.
	#[error("the header has no `label` column")]
	MissingLabel,
	/// No feature column.
	#[error("the header has no feature column")]
	NoFeatures,
	/// A column name appears twice.
	#[error("column `{0}` appears twice")]
	DuplicateColumn(String),
	/// A label other than 0/1/true/false.
	#[error("line {line}: label `{value}` is not 0, 1, true or false")]
	BadLabel {
		/// Line.
		line: u64,
		/// The text found.
		value: String,
	},
	/// A feature that is not a finite number.
	#[error("line {line}, column `{column}`: `{value}` is not a finite number")]
	BadNumber {
		/// Line.
		line: u64,
		/// Column name.
		column: String,
		/// The text found.
		value: String,
	},
	/// The CSV itself is malformed (unbalanced quotes, rows of different lengths, I/O).
	#[error("CSV: {0}")]
	Csv(#[from] csv::Error),
}

/// Reads a table from CSV text (see the module docs for the schema).
pub fn read_csv<R: io::Read>(reader: R) -> Result<Dataset, TableError> {
	let mut csv = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(reader);
	let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
	for (i, name) in header.iter().enumerate() {
		if header[..i].contains(name) {
			return Err(TableError::DuplicateColumn(name.clone()));
		}
	}
	let label = header.iter().position(|h| h == "label").ok_or(TableError::MissingLabel)?;
	let group = header.iter().position(|h| h == "group");
	let feature_columns: Vec<usize> = (0..header.len()).filter(|&c| c != label && Some(c) != group).collect();
	if feature_columns.is_empty() {
		return Err(TableError::NoFeatures);
	}
	let mut data =
		Dataset { names: feature_columns.iter().map(|&c| header[c].clone()).collect(), features: Vec::new(), labels: Vec::new(), groups: Vec::new() };
	let mut group_ids = HashMap::<String, u64>::new();
	for record in csv.records() {
		let record = record?;
		let line = record.position().map_or(0, |p| p.line());
		let value = |c: usize| record.get(c).unwrap_or("");
		data.labels.push(match value(label).to_ascii_lowercase().as_str() {
			"1" | "true" => true,
			"0" | "false" => false,
			other => return Err(TableError::BadLabel { line, value: other.to_owned() }),
		});
		let next = data.groups.len() as u64;
		data.groups.push(match group {
			Some(c) => {
				let fresh = group_ids.len() as u64;
				*group_ids.entry(value(c).to_owned()).or_insert(fresh)
			},
			None => next,
		});
		for &c in &feature_columns {
			let text = value(c);
			match text.parse::<f32>() {
				Ok(v) if v.is_finite() => data.features.push(v),
				_ => return Err(TableError::BadNumber { line, column: header[c].clone(), value: text.to_owned() }),
			}
		}
	}
	if data.is_empty() {
		return Err(TableError::Empty);
	}
	Ok(data)
}

/// Writes `data` as CSV in the schema [`read_csv`] reads (`label`, `group`, then the features).
pub fn write_csv<W: io::Write>(data: &Dataset, writer: W) -> Result<(), TableError> {
	let mut csv = csv::Writer::from_writer(writer);
	let mut header = vec!["label".to_owned(), "group".to_owned()];
	header.extend(data.names.iter().cloned());
	csv.write_record(&header)?;
	for i in 0..data.len() {
		let mut row = vec![u8::from(data.labels[i]).to_string(), data.groups[i].to_string()];
		row.extend(data.row(i).iter().map(|v| v.to_string()));
		csv.write_record(&row)?;
	}
	csv.flush().map_err(csv::Error::from)?;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::data::wallet::{generate, WalletConfig};

	#[test]
	fn reads_the_documented_schema() {
		let text = "group, x, label ,y\nw1,1.5,1,-2\nw2,0,false,3e2\nw1,2,TRUE,0.25\n";
		let data = read_csv(text.as_bytes()).unwrap();
		assert_eq!(data.names, vec!["x", "y"]);
		assert_eq!(data.features, vec![1.5, -2.0, 0.0, 300.0, 2.0, 0.25]);
		assert_eq!(data.labels, vec![true, false, true]);
		assert_eq!(data.groups, vec![0, 1, 0]);
		let no_group = read_csv("label,x\n1,1\n0,2\n".as_bytes()).unwrap();
		assert_eq!(no_group.groups, vec![0, 1]);
	}

	#[test]
	fn rejects_bad_tables_with_the_line() {
		let err = |text: &str| read_csv(text.as_bytes()).unwrap_err().to_string();
		assert_eq!(err("x,y\n1,2\n"), "the header has no `label` column");
		assert_eq!(err("label,group\n1,a\n"), "the header has no feature column");
		assert_eq!(err("label,x,x\n1,2,3\n"), "column `x` appears twice");
		assert_eq!(err("label,x\n"), "no data rows");
		assert_eq!(err("label,x\n1,2\nyes,3\n"), "line 3: label `yes` is not 0, 1, true or false");
		assert_eq!(err("label,x\n1,NaN\n"), "line 2, column `x`: `NaN` is not a finite number");
		assert_eq!(err("label,x\n1,abc\n"), "line 2, column `x`: `abc` is not a finite number");
		assert!(err("label,x\n1,2,3\n").starts_with("CSV:"), "ragged row");
	}

	#[test]
	fn generated_data_round_trips() {
		let data = generate(&WalletConfig { wallets: 50, transactions: 500, fraud_share: 0.1, seed: 1 });
		let mut bytes = Vec::new();
		write_csv(&data, &mut bytes).unwrap();
		let back = read_csv(bytes.as_slice()).unwrap();
		assert_eq!(back.names, data.names);
		assert_eq!(back.features, data.features);
		assert_eq!(back.labels, data.labels);
		// Group ids are renumbered in order of appearance; the partition into groups is the same.
		for i in 0..data.len() {
			for j in 0..i.min(50) {
				assert_eq!(back.groups[i] == back.groups[j], data.groups[i] == data.groups[j]);
			}
		}
	}
}
