//! # LoopX query engine
//!
//! What a validator's worker runs for a compute-market aggregation query: the statement, after
//! the same shape check the runtime made ([`loopx_sql_shape`]), in an embedded SQLite database
//! over the validator's own tables, read-only and within time and row limits. The answer is
//! encoded canonically ([`Answer::encode`]), so that validators holding the same data reveal
//! byte-identical results and the market can compare them.
//!
//! Read-only is enforced three times: the shape check (one `SELECT`/`WITH` statement without
//! writing or administrative keywords), SQLite's `query_only` pragma once the tables are
//! loaded, and no attached databases (`SQLITE_LIMIT_ATTACHED` = 0).

use rusqlite::{limits::Limit, types::ValueRef, Connection};
use std::time::{Duration, Instant};

pub use loopx_sql_shape::SqlError;

/// A column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
	/// 64-bit integer.
	Integer,
	/// 64-bit float.
	Real,
	/// UTF-8 text.
	Text,
}

impl ColumnType {
	fn sql(self) -> &'static str {
		match self {
			Self::Integer => "INTEGER",
			Self::Real => "REAL",
			Self::Text => "TEXT",
		}
	}
}

/// A value in a table or an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
	/// SQL NULL.
	Null,
	/// An integer.
	Integer(i64),
	/// A float.
	Real(f64),
	/// Text.
	Text(String),
}

/// A table to load: its name, typed columns and rows (each as long as the columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
	/// Name (letters, digits and `_`).
	pub name: String,
	/// Column names and types.
	pub columns: Vec<(String, ColumnType)>,
	/// The rows.
	pub rows: Vec<Vec<Value>>,
}

/// Limits of one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Most rows in the answer.
	pub max_rows: usize,
	/// Longest run time.
	pub max_time: Duration,
	/// Largest encoded answer, in bytes (the runtime's `MaxResultLen`).
	pub max_bytes: usize,
}

impl Default for Limits {
	fn default() -> Self {
		Self { max_rows: 1_000, max_time: Duration::from_secs(2), max_bytes: 4_096 }
	}
}

/// Why a query or a load failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QueryError {
	/// The statement failed the shape check.
	#[error("refused by the shape check: {0:?}")]
	Shape(SqlError),
	/// A table name or column name is not a plain identifier.
	#[error("bad identifier {0:?}")]
	BadIdentifier(String),
	/// A row has a different number of values than the table has columns.
	#[error("row {row} of table {table} has {got} values for {want} columns")]
	RowShape {
		/// The table.
		table: String,
		/// The row's index.
		row: usize,
		/// Values in the row.
		got: usize,
		/// Columns of the table.
		want: usize,
	},
	/// SQLite refused or failed the statement.
	#[error("SQLite: {0}")]
	Sql(String),
	/// The answer has more rows than allowed.
	#[error("more than {0} rows")]
	TooManyRows(usize),
	/// The query ran longer than allowed.
	#[error("ran longer than {0:?}")]
	TimeLimit(Duration),
	/// The encoded answer is larger than allowed.
	#[error("the answer takes {0} bytes, more than allowed")]
	TooLarge(usize),
}

impl From<rusqlite::Error> for QueryError {
	fn from(e: rusqlite::Error) -> Self {
		Self::Sql(e.to_string())
	}
}

/// A query's answer: column names and rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
	/// Column names, in order.
	pub columns: Vec<String>,
	/// Rows, in the order the statement produced them.
	pub rows: Vec<Vec<Value>>,
}

impl Answer {
	/// The canonical encoding revealed on chain: tab-separated lines, the column names first,
	/// then one line per row; integers in decimal, reals in Rust's shortest round-trip form,
	/// text with `\`, tab and newline escaped, NULL as `\N`.
	pub fn encode(&self) -> Vec<u8> {
		let mut out = String::new();
		let line = |out: &mut String, cells: Vec<String>| {
			out.push_str(&cells.join("\t"));
			out.push('\n');
		};
		line(&mut out, self.columns.iter().map(|c| escape(c)).collect());
		for row in &self.rows {
			line(
				&mut out,
				row.iter()
					.map(|v| match v {
						Value::Null => "\\N".to_string(),
						Value::Integer(i) => i.to_string(),
						Value::Real(r) => format!("{r:?}"),
						Value::Text(t) => escape(t),
					})
					.collect(),
			);
		}
		out.into_bytes()
	}
}

fn escape(s: &str) -> String {
	s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n")
}

fn identifier(name: &str) -> Result<&str, QueryError> {
	let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit());
	ok.then_some(name).ok_or_else(|| QueryError::BadIdentifier(name.to_string()))
}

/// An in-memory, read-only database of a validator's tables.
pub struct Engine {
	conn: Connection,
}

impl Engine {
	/// Loads `tables` into a fresh in-memory database, then makes it read-only.
	pub fn new(tables: &[Table]) -> Result<Self, QueryError> {
		let mut conn = Connection::open_in_memory()?;
		let tx = conn.transaction()?;
		for table in tables {
			let name = identifier(&table.name)?;
			let columns = table.columns.iter().map(|(c, t)| identifier(c).map(|c| format!("{c} {}", t.sql()))).collect::<Result<Vec<_>, _>>()?;
			tx.execute(&format!("CREATE TABLE {name} ({})", columns.join(", ")), [])?;
			let placeholders = vec!["?"; table.columns.len()].join(", ");
			let mut insert = tx.prepare(&format!("INSERT INTO {name} VALUES ({placeholders})"))?;
			for (i, row) in table.rows.iter().enumerate() {
				if row.len() != table.columns.len() {
					return Err(QueryError::RowShape { table: table.name.clone(), row: i, got: row.len(), want: table.columns.len() });
				}
				let values = row.iter().map(|v| match v {
					Value::Null => rusqlite::types::Value::Null,
					Value::Integer(i) => rusqlite::types::Value::Integer(*i),
					Value::Real(r) => rusqlite::types::Value::Real(*r),
					Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
				});
				insert.execute(rusqlite::params_from_iter(values))?;
			}
		}
		tx.commit()?;
		conn.pragma_update(None, "query_only", true)?;
		conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
		Ok(Self { conn })
	}

	/// Runs one aggregation statement within `limits`.
	pub fn run(&mut self, sql: &str, limits: &Limits) -> Result<Answer, QueryError> {
		loopx_sql_shape::check_read_only(sql.as_bytes()).map_err(QueryError::Shape)?;
		let deadline = Instant::now() + limits.max_time;
		// SQLite calls this every 1,000 virtual-machine steps; `true` interrupts the statement.
		self.conn.progress_handler(1_000, Some(move || Instant::now() > deadline))?;
		let result = self.collect(sql, limits);
		self.conn.progress_handler(1_000, None::<fn() -> bool>)?;
		let answer = match result {
			Err(QueryError::Sql(_)) if Instant::now() > deadline => return Err(QueryError::TimeLimit(limits.max_time)),
			other => other?,
		};
		let size = answer.encode().len();
		if size > limits.max_bytes {
			return Err(QueryError::TooLarge(size));
		}
		Ok(answer)
	}

	fn collect(&self, sql: &str, limits: &Limits) -> Result<Answer, QueryError> {
		let mut statement = self.conn.prepare(sql)?;
		if !statement.readonly() {
			return Err(QueryError::Shape(SqlError::NotReadOnly));
		}
		let columns: Vec<String> = statement.column_names().map(str::to_string).collect();
		let width = columns.len();
		let mut rows = statement.query([])?;
		let mut out = Vec::new();
		while let Some(row) = rows.next()? {
			if out.len() == limits.max_rows {
				return Err(QueryError::TooManyRows(limits.max_rows));
			}
			let values = (0..width)
				.map(|i| {
					Ok(match row.get_ref(i)? {
						ValueRef::Null => Value::Null,
						ValueRef::Integer(i) => Value::Integer(i),
						ValueRef::Real(r) => Value::Real(r),
						ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
						ValueRef::Blob(b) => Value::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
					})
				})
				.collect::<Result<Vec<_>, rusqlite::Error>>()?;
			out.push(values);
		}
		Ok(Answer { columns, rows: out })
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn wallets() -> Table {
		let rows = [("w1", 10.0, 0), ("w1", 30.0, 1), ("w2", 5.0, 0), ("w3", 7.0, 0), ("w3", 9.0, 0), ("w3", 11.0, 1)]
			.into_iter()
			.map(|(w, a, l)| vec![Value::Text(w.into()), Value::Real(a), Value::Integer(l)])
			.collect();
		Table {
			name: "tx".into(),
			columns: vec![("wallet".into(), ColumnType::Text), ("amount".into(), ColumnType::Real), ("label".into(), ColumnType::Integer)],
			rows,
		}
	}

	#[test]
	fn group_by_aggregates_give_the_known_answer() {
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let sql = "SELECT wallet, COUNT(*) AS n, AVG(amount), SUM(label), MIN(amount), MAX(amount) FROM tx GROUP BY wallet ORDER BY wallet";
		let answer = engine.run(sql, &Limits::default()).unwrap();
		assert_eq!(answer.columns, ["wallet", "n", "AVG(amount)", "SUM(label)", "MIN(amount)", "MAX(amount)"]);
		let text = String::from_utf8(answer.encode()).unwrap();
		assert_eq!(
			text,
			"wallet\tn\tAVG(amount)\tSUM(label)\tMIN(amount)\tMAX(amount)\n\
			 w1\t2\t20.0\t1\t10.0\t30.0\n\
			 w2\t1\t5.0\t0\t5.0\t5.0\n\
			 w3\t3\t9.0\t1\t7.0\t11.0\n"
		);
	}

	#[test]
	fn two_validators_with_the_same_data_reveal_the_same_bytes() {
		let mut a = Engine::new(&[wallets()]).unwrap();
		let mut b = Engine::new(&[wallets()]).unwrap();
		let sql = "SELECT AVG(amount) / 3, COUNT(*) FROM tx";
		assert_eq!(a.run(sql, &Limits::default()).unwrap().encode(), b.run(sql, &Limits::default()).unwrap().encode());
	}

	#[test]
	fn writes_are_refused_by_the_shape_check_and_by_sqlite() {
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let limits = Limits::default();
		assert_eq!(engine.run("DELETE FROM tx", &limits), Err(QueryError::Shape(SqlError::NotReadOnly)));
		assert_eq!(engine.run("SELECT 1; DROP TABLE tx", &limits), Err(QueryError::Shape(SqlError::MultipleStatements)));
		// Past the shape check, SQLite itself is read-only and attaches nothing.
		assert!(engine.conn.execute("DELETE FROM tx", []).is_err());
		assert!(engine.conn.execute("ATTACH DATABASE ':memory:' AS other", []).is_err());
		assert_eq!(engine.run("SELECT COUNT(*) FROM tx", &limits).unwrap().rows, vec![vec![Value::Integer(6)]]);
	}

	#[test]
	fn row_time_and_size_limits_hold() {
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let few = Limits { max_rows: 2, ..Limits::default() };
		assert_eq!(engine.run("SELECT * FROM tx", &few), Err(QueryError::TooManyRows(2)));
		let quick = Limits { max_time: Duration::from_millis(50), ..Limits::default() };
		let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n";
		assert_eq!(engine.run(endless, &quick), Err(QueryError::TimeLimit(quick.max_time)));
		let small = Limits { max_bytes: 10, ..Limits::default() };
		assert!(matches!(engine.run("SELECT wallet FROM tx", &small), Err(QueryError::TooLarge(_))));
		// After an interrupted query the engine still answers.
		assert!(engine.run("SELECT COUNT(*) FROM tx", &Limits::default()).is_ok());
	}

	#[test]
	fn bad_tables_and_statements_get_typed_errors() {
		let mut t = wallets();
		t.name = "tx; DROP".into();
		assert!(matches!(Engine::new(&[t]), Err(QueryError::BadIdentifier(_))));
		let mut t = wallets();
		t.rows[3].pop();
		assert!(matches!(Engine::new(&[t]), Err(QueryError::RowShape { row: 3, got: 2, want: 3, .. })));
		let mut engine = Engine::new(&[wallets()]).unwrap();
		assert!(matches!(engine.run("SELECT nope FROM tx", &Limits::default()), Err(QueryError::Sql(_))));
		assert_eq!(engine.run("SELECT 'a\tb\\c'", &Limits::default()).unwrap().encode(), b"'a\\tb\\\\c'\na\\tb\\\\c\n".to_vec());
	}
}
