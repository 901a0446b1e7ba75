//! Operators' own SQL datasets: `loopx-node --sql-dataset <name>:<table>=<file.csv>` loads the
//! CSV file as table `<table>` (`loopx_query_engine::csv_table`) and advertises it under the tag
//! `<name>#<commitment>`, the first 8 bytes of blake2-256 of the file in hex. The tag names the
//! content: validators holding different files under the same name advertise different tags,
//! so a query never goes to answerers whose honest answers would disagree.

use std::path::PathBuf;

use loopx_query_engine::{csv_table::table_from_csv, Table};

/// Longest name (the tag adds `#` and 16 hex digits; the compute market takes 32 bytes).
pub const MAX_NAME_LEN: usize = 15;

/// A dataset loaded from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlDataset {
	/// The tag it is advertised under: `<name>#<commitment>`.
	pub tag: Vec<u8>,
	/// Its table.
	pub table: Table,
	/// blake2-256 of the file.
	pub commitment: [u8; 32],
}

/// Parses `<name>:<table>=<file>`.
pub fn parse(spec: &str) -> Result<(String, String, PathBuf), String> {
	let usage = || format!("--sql-dataset {spec}: expected <name>:<table>=<file.csv>");
	let (names, file) = spec.split_once('=').ok_or_else(usage)?;
	let (name, table) = names.split_once(':').ok_or_else(usage)?;
	let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
	if !plain(name) || name.len() > MAX_NAME_LEN || name == "chain" {
		return Err(format!("--sql-dataset {spec}: the name must be 1 to {MAX_NAME_LEN} letters, digits, '-' or '_', and not 'chain'"));
	}
	if !plain(table) || table.contains('-') || file.is_empty() {
		return Err(usage());
	}
	Ok((name.to_string(), table.to_string(), PathBuf::from(file)))
}

/// Loads the dataset of `spec`.
pub fn load(spec: &str) -> Result<SqlDataset, String> {
	let (name, table, path) = parse(spec)?;
	let bytes = std::fs::read(&path).map_err(|e| format!("--sql-dataset {spec}: {}: {e}", path.display()))?;
	let table = table_from_csv(&table, &bytes).map_err(|e| format!("--sql-dataset {spec}: {e}"))?;
	let commitment = sp_crypto_hashing::blake2_256(&bytes);
	let short: String = commitment[..8].iter().map(|b| format!("{b:02x}")).collect();
	Ok(SqlDataset { tag: format!("{name}#{short}").into_bytes(), table, commitment })
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_tag_names_the_content() {
		let dir = std::env::temp_dir();
		let (a, b) = (dir.join(format!("loopx-sql-a-{}.csv", std::process::id())), dir.join(format!("loopx-sql-b-{}.csv", std::process::id())));
		std::fs::write(&a, "x,y\n1,2\n").unwrap();
		std::fs::write(&b, "x,y\n1,3\n").unwrap();
		let da = load(&format!("prices:p={}", a.display())).unwrap();
		let db = load(&format!("prices:p={}", b.display())).unwrap();
		assert_eq!(da.tag.len(), "prices#".len() + 16);
		assert!(da.tag.starts_with(b"prices#"));
		assert_ne!(da.tag, db.tag, "different files, different tags");
		assert_eq!(load(&format!("prices:p={}", a.display())).unwrap(), da, "the same file, the same dataset");
		assert_eq!(da.table.name, "p");
		let _ = (std::fs::remove_file(a), std::fs::remove_file(b));
	}

	#[test]
	fn bad_specs_are_refused_with_the_reason() {
		for bad in ["prices", "prices=x.csv", ":t=x.csv", "chain:t=x.csv", "a-very-long-name-x:t=x.csv", "p:t-t=x.csv", "p:t=", "p q:t=x.csv"] {
			assert!(parse(bad).is_err(), "{bad}");
		}
		assert_eq!(parse("prices:p=/data/p.csv").unwrap(), ("prices".into(), "p".into(), PathBuf::from("/data/p.csv")));
		assert!(load("prices:p=/no/such/file.csv").unwrap_err().contains("/no/such/file.csv"));
	}
}
