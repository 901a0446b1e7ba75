//! # LoopX query engine
//!
//! What a validator's worker runs for a compute-market aggregation query: the statement, after
//! the same shape check the runtime made ([`loopx_sql_shape`]), in an embedded SQLite database
//! over the validator's own tables, read-only and within step, row and size limits. The answer
//! is encoded canonically ([`Answer::encode`]), so that validators holding the same data reveal
//! byte-identical results and the market can compare them.
//!
//! Every honest node must reach the same answer, or the same error, or it is slashed for
//! disagreeing. So nothing here depends on the machine:
//! - only the functions of [`loopx_sql_shape::DETERMINISTIC_FUNCTIONS`] run (SQLite's
//!   authorizer refuses any other at prepare time, however it is spelled), and only the loaded
//!   tables can be read;
//! - the work limit is counted in SQLite virtual-machine steps (the progress handler), never in
//!   wall-clock time, so a slow node stops exactly where a fast one does;
//! - strings and blobs are bounded by `SQLITE_LIMIT_LENGTH`, so no statement can make one node
//!   run out of memory where another does not;
//! - errors are reported by kind ([`QueryError::code`]), not by SQLite's message text.
//!
//! Read-only is enforced three times: the shape check (one `SELECT`/`WITH` statement without
//! writing or administrative keywords), SQLite's `query_only` pragma once the tables are
//! loaded, and the authorizer (which also forbids attaching databases and pragmas).

use rusqlite::{
	hooks::{AuthAction, AuthContext, Authorization},
	limits::Limit,
	types::ValueRef,
	Connection,
};
use std::sync::{
	atomic::{AtomicBool, AtomicU64, Ordering},
	Arc, Mutex,
};

pub use loopx_sql_shape::SqlError;

pub mod chain;
pub mod csv_table;

/// How many virtual-machine steps SQLite runs between two calls of the progress handler: the
/// granularity of [`Limits::max_steps`].
const STEPS_PER_CHECK: u64 = 1_000;

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

/// Limits of one query: all counted, none timed, so that every node stops at the same point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Most rows in the answer.
	pub max_rows: usize,
	/// Most SQLite virtual-machine steps (counted in blocks of 1,000).
	pub max_steps: u64,
	/// Largest encoded answer, in bytes (the runtime's `MaxResultLen`).
	pub max_bytes: usize,
	/// Longest string or blob any expression may build, in bytes.
	pub max_value_bytes: usize,
}

impl Default for Limits {
	/// 10 M steps is a fraction of a second on this project's 2-core machine.
	fn default() -> Self {
		Self { max_rows: 1_000, max_steps: 10_000_000, max_bytes: 4_096, max_value_bytes: 1 << 20 }
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
	/// The statement calls a function that is not on the deterministic list.
	#[error("function {0}() is not allowed")]
	Function(String),
	/// The statement reads something other than the loaded tables, or does something other
	/// than selecting (a pragma, an attach).
	#[error("not allowed: {0}")]
	NotAllowed(String),
	/// SQLite refused or failed the statement: its primary result code and message. Only the
	/// code is part of the answer ([`QueryError::code`]): messages change between SQLite
	/// versions.
	#[error("SQLite error {code}: {message}")]
	Sql {
		/// SQLite's primary result code (1 = generic error, 18 = too big, …).
		code: i32,
		/// SQLite's message.
		message: String,
	},
	/// The answer has more rows than allowed.
	#[error("more than {0} rows")]
	TooManyRows(usize),
	/// The statement ran more virtual-machine steps than allowed.
	#[error("more than {0} steps")]
	StepLimit(u64),
	/// The encoded answer is larger than allowed.
	#[error("the answer takes {0} bytes, more than allowed")]
	TooLarge(usize),
}

impl QueryError {
	/// What honest nodes reveal for this error: its kind and the details that do not depend on
	/// the SQLite version or the machine (tab-separated, one line).
	pub fn code(&self) -> String {
		match self {
			Self::Shape(e) => format!("shape\t{e:?}"),
			Self::BadIdentifier(name) => format!("identifier\t{name}"),
			Self::RowShape { table, row, .. } => format!("row-shape\t{table}\t{row}"),
			Self::Function(name) => format!("function\t{name}"),
			Self::NotAllowed(what) => format!("not-allowed\t{what}"),
			Self::Sql { code, .. } => format!("sqlite\t{code}"),
			Self::TooManyRows(n) => format!("rows\t{n}"),
			Self::StepLimit(n) => format!("steps\t{n}"),
			Self::TooLarge(n) => format!("bytes\t{n}"),
		}
	}
}

impl From<rusqlite::Error> for QueryError {
	fn from(e: rusqlite::Error) -> Self {
		match e {
			rusqlite::Error::SqliteFailure(failure, message) => {
				Self::Sql { code: failure.extended_code & 0xff, message: message.unwrap_or_else(|| failure.to_string()) }
			},
			other => Self::Sql { code: 1, message: other.to_string() },
		}
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

/// What the authorizer refused while a statement was prepared (the first refusal).
type Refusal = Arc<Mutex<Option<QueryError>>>;

/// SQLite's own tables and table-valued functions (the schema, pragma tables, statement
/// status, JSON table functions): they describe the engine, not the data. No loaded table may
/// have such a name ([`Engine::new`]), so everything else a statement can read is a loaded
/// table or one of its own common table expressions.
fn internal_table(name: &str) -> bool {
	let name = name.to_ascii_lowercase();
	name.starts_with("sqlite_") || name.starts_with("pragma_") || name == "dbstat" || name.starts_with("json_")
}

/// What a statement may read.
#[derive(Clone, Copy)]
enum Readable {
	/// Every table the engine loaded (an in-memory engine holds nothing else).
	LoadedTables,
	/// The chain store's tables, only through the snapshot views ([`chain`]), which show the
	/// rows up to the query's block: never the stored tables directly.
	ChainViews,
}

impl Readable {
	fn allows(self, table: &str, column: &str, accessor: Option<&str>) -> bool {
		match self {
			Self::LoadedTables => !internal_table(table),
			// SQLite authorizes the view's columns, then the stored table's behind it with the
			// view as accessor — except a read of no column (`COUNT(*)` over a flattened view),
			// which comes without one. Statements naming a stored table never get here
			// ([`chain::ChainReader::run`] refuses them by their text).
			Self::ChainViews => {
				chain::is_view(table) || (chain::is_stored_table(table) && (accessor.is_some_and(chain::is_view) || column.is_empty()))
			},
		}
	}

	fn function(self, name: &str) -> bool {
		matches!(self, Self::ChainViews) && (name.eq_ignore_ascii_case(chain::SNAPSHOT_FUNCTION) || name.eq_ignore_ascii_case(chain::FROM_FUNCTION))
	}
}

/// An in-memory, read-only database of a validator's tables.
pub struct Engine {
	conn: Connection,
	refused: Refusal,
}

impl Engine {
	/// Loads `tables` into a fresh in-memory database, then makes it read-only.
	pub fn new(tables: &[Table]) -> Result<Self, QueryError> {
		let mut conn = Connection::open_in_memory()?;
		let tx = conn.transaction()?;
		for table in tables {
			let name = identifier(&table.name)?;
			if internal_table(name) {
				return Err(QueryError::BadIdentifier(table.name.clone()));
			}
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
		Self::guard(conn, Readable::LoadedTables)
	}

	/// Makes `conn` read-only and installs the authorizer: only `readable` tables and the
	/// deterministic functions (plus `extra_function`, if any) may be used.
	fn guard(mut conn: Connection, readable: Readable) -> Result<Self, QueryError> {
		conn.pragma_update(None, "query_only", true)?;
		conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
		let refused = Refusal::default();
		let record = refused.clone();
		conn.authorizer(Some(move |context: AuthContext<'_>| {
			let refusal = match context.action {
				AuthAction::Select | AuthAction::Recursive => return Authorization::Allow,
				AuthAction::Read { table_name, column_name } if readable.allows(table_name, column_name, context.accessor) => {
					return Authorization::Allow
				},
				AuthAction::Function { function_name }
					if loopx_sql_shape::is_deterministic_function(function_name) || readable.function(function_name) =>
				{
					return Authorization::Allow
				},
				AuthAction::Function { function_name } => QueryError::Function(function_name.to_ascii_lowercase()),
				AuthAction::Read { table_name, .. } => QueryError::NotAllowed(format!("reading {table_name}")),
				AuthAction::Pragma { pragma_name, .. } => QueryError::NotAllowed(format!("pragma {pragma_name}")),
				_ => QueryError::Shape(SqlError::NotReadOnly),
			};
			let mut first = record.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
			first.get_or_insert(refusal);
			Authorization::Deny
		}))?;
		Ok(Self { conn, refused })
	}

	/// Runs one aggregation statement within `limits`.
	pub fn run(&mut self, sql: &str, limits: &Limits) -> Result<Answer, QueryError> {
		loopx_sql_shape::check_read_only(sql.as_bytes()).map_err(QueryError::Shape)?;
		let length = i32::try_from(limits.max_value_bytes).unwrap_or(i32::MAX).max(1);
		self.conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, length)?;
		// SQLite calls the handler every `STEPS_PER_CHECK` virtual-machine steps; `true`
		// interrupts the statement. Counting calls, not time, keeps every node in step.
		let checks = Arc::new(AtomicU64::new(0));
		let exhausted = Arc::new(AtomicBool::new(false));
		let allowed = limits.max_steps.div_ceil(STEPS_PER_CHECK);
		let (counter, flag) = (checks.clone(), exhausted.clone());
		self.conn.progress_handler(
			STEPS_PER_CHECK as i32,
			Some(move || {
				let over = counter.fetch_add(1, Ordering::Relaxed) + 1 > allowed;
				if over {
					flag.store(true, Ordering::Relaxed);
				}
				over
			}),
		)?;
		*self.refused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
		let result = self.collect(sql, limits);
		self.conn.progress_handler(0, None::<fn() -> bool>)?;
		let refused = self.refused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
		let answer = match (result, refused) {
			(Err(_), Some(refusal)) => return Err(refusal),
			(Err(_), None) if exhausted.load(Ordering::Relaxed) => return Err(QueryError::StepLimit(limits.max_steps)),
			(other, _) => other?,
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
	fn row_step_and_size_limits_hold() {
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let few = Limits { max_rows: 2, ..Limits::default() };
		assert_eq!(engine.run("SELECT * FROM tx", &few), Err(QueryError::TooManyRows(2)));
		let short = Limits { max_steps: 50_000, ..Limits::default() };
		let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n";
		assert_eq!(engine.run(endless, &short), Err(QueryError::StepLimit(50_000)));
		let small = Limits { max_bytes: 10, ..Limits::default() };
		assert!(matches!(engine.run("SELECT wallet FROM tx", &small), Err(QueryError::TooLarge(_))));
		// A value larger than the length limit fails as SQLite's "too big" (code 18).
		let huge = engine.run("SELECT length(printf('%.*c', 2000000, 'x'))", &Limits::default()).unwrap_err();
		assert_eq!(huge.code(), "sqlite\t18", "{huge}");
		// After an interrupted query the engine still answers.
		assert!(engine.run("SELECT COUNT(*) FROM tx", &Limits::default()).is_ok());
	}

	#[test]
	fn the_step_limit_cuts_at_the_same_count_however_fast_the_machine() {
		// A bounded loop that needs ~N steps: below the limit it answers, above it fails, and
		// the boundary is a count of steps, so it is the same on every run.
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let count_to = |n: u64| format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT COUNT(*) FROM n");
		let limits = Limits { max_steps: 200_000, ..Limits::default() };
		let boundary = |engine: &mut Engine| (1..200u64).map(|k| k * 500).find(|&n| engine.run(&count_to(n), &limits).is_err());
		let first = boundary(&mut engine).expect("some count runs out of steps");
		for _ in 0..5 {
			assert_eq!(boundary(&mut engine), Some(first));
		}
		assert_eq!(boundary(&mut Engine::new(&[wallets()]).unwrap()), Some(first));
		assert_eq!(engine.run(&count_to(first), &limits), Err(QueryError::StepLimit(200_000)));
	}

	#[test]
	fn only_deterministic_functions_run_however_they_are_spelled() {
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let limits = Limits::default();
		// The shape check sees these...
		assert_eq!(engine.run("SELECT random()", &limits), Err(QueryError::Shape(SqlError::NonDeterministic)));
		assert_eq!(engine.run("SELECT datetime('now')", &limits), Err(QueryError::Shape(SqlError::NonDeterministic)));
		// ...the authorizer catches what it cannot see, and functions computed by libm.
		assert_eq!(engine.run("SELECT \"random\"()", &limits), Err(QueryError::Function("random".into())));
		assert_eq!(engine.run("SELECT \"datetime\"('now')", &limits), Err(QueryError::Function("datetime".into())));
		assert_eq!(engine.run("SELECT hex(zeroblob(4)) FROM tx", &limits), Err(QueryError::Function("zeroblob".into())));
		assert_eq!(engine.run("SELECT json_extract('{}', '$.a')", &limits), Err(QueryError::Function("json_extract".into())));
		assert_eq!(engine.run("SELECT load_extension('x')", &limits), Err(QueryError::Shape(SqlError::NotReadOnly)));
		assert_eq!(engine.run("SELECT abs(amount), round(AVG(amount), 2), COUNT(*) FROM tx", &limits).map(|a| a.rows.len()), Ok(1));
		// Only the loaded tables (and the statement's own CTEs) are readable: not the schema, not
		// pragma tables.
		assert!(matches!(engine.run("SELECT sql FROM sqlite_master", &limits), Err(QueryError::NotAllowed(_))));
		assert!(matches!(engine.run("SELECT name FROM pragma_table_info('tx')", &limits), Err(QueryError::NotAllowed(_))));
		// And after a refusal, an allowed query runs as before.
		assert_eq!(engine.run("SELECT COUNT(*) FROM tx", &limits).unwrap().rows, vec![vec![Value::Integer(6)]]);
	}

	#[test]
	fn error_codes_carry_no_sqlite_message() {
		let mut engine = Engine::new(&[wallets()]).unwrap();
		let e = engine.run("SELECT nope FROM tx", &Limits::default()).unwrap_err();
		assert!(e.to_string().contains("nope"), "{e}");
		assert_eq!(e.code(), "sqlite\t1");
		assert_eq!(QueryError::StepLimit(7).code(), "steps\t7");
	}

	#[test]
	fn bad_tables_and_statements_get_typed_errors() {
		let mut t = wallets();
		t.name = "tx; DROP".into();
		assert!(matches!(Engine::new(&[t]), Err(QueryError::BadIdentifier(_))));
		let mut t = wallets();
		t.name = "pragma_tx".into();
		assert!(matches!(Engine::new(&[t]), Err(QueryError::BadIdentifier(_))));
		let mut t = wallets();
		t.rows[3].pop();
		assert!(matches!(Engine::new(&[t]), Err(QueryError::RowShape { row: 3, got: 2, want: 3, .. })));
		let mut engine = Engine::new(&[wallets()]).unwrap();
		assert!(matches!(engine.run("SELECT nope FROM tx", &Limits::default()), Err(QueryError::Sql { .. })));
		assert_eq!(engine.run("SELECT 'a\tb\\c'", &Limits::default()).unwrap().encode(), b"'a\\tb\\\\c'\na\\tb\\\\c\n".to_vec());
	}
}
