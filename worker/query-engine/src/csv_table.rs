//! A table from a CSV file an operator names (`loopx-node --sql-dataset`): the header row names
//! the columns, and each column's type is the narrowest that holds all its values — INTEGER if
//! every value is a 64-bit integer, REAL if every value is a number, TEXT otherwise; an empty
//! cell is NULL. The same file gives the same table on every node.

use crate::{ColumnType, QueryError, Table, Value};

/// Most rows of an operator's table (every answerer loads it into memory).
pub const MAX_ROWS: usize = 1_000_000;

/// The table `name` of the CSV text `text`.
pub fn table_from_csv(name: &str, text: &[u8]) -> Result<Table, QueryError> {
	let bad = |why: String| QueryError::NotAllowed(format!("CSV for table {name}: {why}"));
	let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text);
	let names: Vec<String> = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
	if names.is_empty() {
		return Err(bad("no columns".into()));
	}
	let mut cells: Vec<Vec<String>> = Vec::new();
	for (i, record) in reader.records().enumerate() {
		let record = record.map_err(|e| bad(e.to_string()))?;
		if record.len() != names.len() {
			return Err(QueryError::RowShape { table: name.to_string(), row: i, got: record.len(), want: names.len() });
		}
		if cells.len() == MAX_ROWS {
			return Err(bad(format!("more than {MAX_ROWS} rows")));
		}
		cells.push(record.iter().map(|c| c.trim().to_string()).collect());
	}
	let types: Vec<ColumnType> = (0..names.len())
		.map(|c| {
			let values = || cells.iter().map(move |row| row[c].as_str()).filter(|v| !v.is_empty());
			if values().all(|v| v.parse::<i64>().is_ok()) {
				ColumnType::Integer
			} else if values().all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)) {
				ColumnType::Real
			} else {
				ColumnType::Text
			}
		})
		.collect();
	let rows = cells
		.into_iter()
		.map(|row| {
			row.into_iter()
				.zip(&types)
				.map(|(cell, ty)| match (cell.is_empty(), ty) {
					(true, _) => Value::Null,
					// Checked above: every non-empty cell of the column parses.
					(false, ColumnType::Integer) => cell.parse().map_or(Value::Null, Value::Integer),
					(false, ColumnType::Real) => cell.parse().map_or(Value::Null, Value::Real),
					(false, ColumnType::Text) => Value::Text(cell),
				})
				.collect()
		})
		.collect();
	Ok(Table { name: name.to_string(), columns: names.into_iter().zip(types).collect(), rows })
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{Engine, Limits};

	#[test]
	fn columns_get_the_narrowest_type_and_empty_cells_are_null() {
		let csv = b"city,population,area,note\nParis,2102650,105.4,\nLyon,522250,47.87,third\nNice,,71.9,\"sea, sun\"\n";
		let t = table_from_csv("cities", csv).unwrap();
		let types: Vec<_> = t.columns.iter().map(|(n, ty)| (n.as_str(), *ty)).collect();
		assert_eq!(types, [("city", ColumnType::Text), ("population", ColumnType::Integer), ("area", ColumnType::Real), ("note", ColumnType::Text)]);
		assert_eq!(t.rows[2], vec![Value::Text("Nice".into()), Value::Null, Value::Real(71.9), Value::Text("sea, sun".into())]);
		let mut engine = Engine::new(&[t]).unwrap();
		let answer = engine.run("SELECT COUNT(*), SUM(population), COUNT(note) FROM cities", &Limits::default()).unwrap();
		assert_eq!(answer.rows, vec![vec![Value::Integer(3), Value::Integer(2_624_900), Value::Integer(2)]]);
	}

	#[test]
	fn ragged_or_unnamed_csv_is_refused() {
		assert!(matches!(table_from_csv("t", b"a,b\n1,2\n3\n"), Err(QueryError::RowShape { row: 1, got: 1, want: 2, .. })));
		assert!(table_from_csv("t", b"").is_err());
		// Column names must be identifiers: the engine refuses the table.
		let t = table_from_csv("t", b"a b,c\n1,2\n").unwrap();
		assert!(matches!(Engine::new(&[t]), Err(QueryError::BadIdentifier(_))));
	}
}
