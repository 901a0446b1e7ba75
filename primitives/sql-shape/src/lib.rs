//! # LoopX SQL shape check
//!
//! The check of aggregation SQL that both sides run: the compute market's runtime when a query
//! is posted, and the validators' query engine before it executes one. The runtime does not
//! parse SQL beyond this; validators run the statement against their own tables in a read-only
//! embedded engine (`loopx-query-engine`).
//!
//! The check scans tokens outside string literals, quoted identifiers and comments:
//! - the text is UTF-8, not empty, and every quote and block comment is closed;
//! - it is a single statement: a `;` may only end it (followed by nothing but whitespace and
//!   comments);
//! - it starts with `SELECT` or `WITH` and contains none of the keywords that write, change the
//!   schema, attach files, change settings or manage transactions;
//! - it calls none of the functions whose value depends on the clock, chance, the connection or
//!   the SQLite build ([`NON_DETERMINISTIC_FUNCTIONS`], `CURRENT_TIMESTAMP` and its kin).
//!
//! This is what can be seen in the text. The validators' engine is the authority: it runs only
//! the functions of [`DETERMINISTIC_FUNCTIONS`] (SQLite's authorizer refuses any other, however
//! it is spelled), so every honest node gives the same answer to whatever passes here.
#![cfg_attr(not(test), no_std)]

/// Why a statement was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SqlError {
	/// Nothing but whitespace or comments.
	Empty,
	/// Not UTF-8, or an unterminated string, quoted identifier or block comment.
	Malformed,
	/// More than one statement.
	MultipleStatements,
	/// Not a query, or a keyword that would write, alter, attach, configure or manage
	/// transactions.
	NotReadOnly,
	/// A call of a function whose value is not the same on every node (the clock, randomness,
	/// the connection's state or the SQLite build).
	NonDeterministic,
}

/// The functions a query may call: SQLite's core scalar, aggregate and window functions whose
/// value depends only on their arguments and rows, computed by SQLite's own code (no libm:
/// `exp`, `ln`, `pow`, `sin`, … round differently on different CPUs and C libraries). The date
/// and time functions are left out because `'now'` (or no argument) reads the clock; store
/// times as integers and compute on them.
pub const DETERMINISTIC_FUNCTIONS: &[&str] = &[
	// Scalars.
	"abs",
	"ceil",
	"ceiling",
	"char",
	"coalesce",
	"concat",
	"concat_ws",
	"floor",
	"format",
	"glob",
	"hex",
	"ifnull",
	"iif",
	"instr",
	"length",
	"like",
	"likelihood",
	"likely",
	"lower",
	"ltrim",
	"max",
	"min",
	"mod",
	"nullif",
	"octet_length",
	"printf",
	"quote",
	"replace",
	"round",
	"rtrim",
	"sign",
	"sqrt",
	"substr",
	"substring",
	"trim",
	"trunc",
	"typeof",
	"unhex",
	"unicode",
	"unlikely",
	"upper",
	// Aggregates.
	"avg",
	"count",
	"group_concat",
	"string_agg",
	"sum",
	"total",
	// Window functions.
	"row_number",
	"rank",
	"dense_rank",
	"percent_rank",
	"cume_dist",
	"ntile",
	"lag",
	"lead",
	"first_value",
	"last_value",
	"nth_value",
];

/// Functions the shape check refuses outright when it sees them called: their value differs
/// between nodes or between runs.
pub const NON_DETERMINISTIC_FUNCTIONS: &[&str] = &[
	"random",
	"randomblob",
	"changes",
	"total_changes",
	"last_insert_rowid",
	"sqlite_version",
	"sqlite_source_id",
	"sqlite_compileoption_get",
	"sqlite_compileoption_used",
	"sqlite_offset",
	"date",
	"time",
	"datetime",
	"julianday",
	"unixepoch",
	"strftime",
	"timediff",
	"current_date",
	"current_time",
	"current_timestamp",
];

/// Keywords that read the clock (SQLite evaluates them as calls of the functions of the same
/// name).
const CLOCK_KEYWORDS: &[&str] = &["CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP"];

/// Whether `name` is a function a query may call (ASCII case-insensitive).
pub fn is_deterministic_function(name: &str) -> bool {
	DETERMINISTIC_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Keywords a read-only query never needs (SQLite's writing and administrative statements).
const FORBIDDEN: &[&str] = &[
	"INSERT",
	"UPDATE",
	"DELETE",
	"REPLACE",
	"UPSERT",
	"MERGE",
	"DROP",
	"CREATE",
	"ALTER",
	"TRUNCATE",
	"ATTACH",
	"DETACH",
	"PRAGMA",
	"VACUUM",
	"REINDEX",
	"ANALYZE",
	"BEGIN",
	"COMMIT",
	"ROLLBACK",
	"SAVEPOINT",
	"RELEASE",
	"TRIGGER",
	"GRANT",
	"REVOKE",
	"LOAD_EXTENSION",
	"INTO",
];

/// Checks that `sql` is one read-only statement (see the module documentation).
pub fn check_read_only(sql: &[u8]) -> Result<(), SqlError> {
	let text = core::str::from_utf8(sql).map_err(|_| SqlError::Malformed)?;
	let bytes = text.as_bytes();
	let mut words = 0usize;
	let mut ended = false;
	let mut i = 0;
	while i < bytes.len() {
		let c = bytes[i];
		match c {
			b' ' | b'\t' | b'\r' | b'\n' => i += 1,
			b'-' if bytes.get(i + 1) == Some(&b'-') => {
				// Line comment: to the end of the line.
				i = bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p + 1);
			},
			b'/' if bytes.get(i + 1) == Some(&b'*') => {
				let close = bytes[i + 2..].windows(2).position(|w| w == b"*/").ok_or(SqlError::Malformed)?;
				i += 2 + close + 2;
			},
			b'\'' | b'"' | b'`' | b'[' => {
				if ended {
					return Err(SqlError::MultipleStatements);
				}
				if words == 0 {
					return Err(SqlError::NotReadOnly);
				}
				let close = if c == b'[' { b']' } else { c };
				i = skip_quoted(bytes, i + 1, close)?;
				words += 1;
			},
			b';' => {
				ended = true;
				i += 1;
			},
			_ => {
				if ended {
					return Err(SqlError::MultipleStatements);
				}
				if c.is_ascii_alphabetic() || c == b'_' {
					let start = i;
					while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$') {
						i += 1;
					}
					let word = &text[start..i];
					if words == 0 && !(word.eq_ignore_ascii_case("SELECT") || word.eq_ignore_ascii_case("WITH")) {
						return Err(SqlError::NotReadOnly);
					}
					if FORBIDDEN.iter().any(|k| word.eq_ignore_ascii_case(k)) {
						return Err(SqlError::NotReadOnly);
					}
					let called = || bytes.get(skip_blank(bytes, i)) == Some(&b'(');
					if CLOCK_KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k))
						|| (NON_DETERMINISTIC_FUNCTIONS.iter().any(|f| word.eq_ignore_ascii_case(f)) && called())
					{
						return Err(SqlError::NonDeterministic);
					}
					words += 1;
				} else {
					if words == 0 {
						return Err(SqlError::NotReadOnly);
					}
					i += 1;
				}
			},
		}
	}
	if words == 0 {
		return Err(SqlError::Empty);
	}
	Ok(())
}

/// The index of the first byte at or after `from` that is neither whitespace nor in a comment
/// (an unterminated block comment runs to the end).
fn skip_blank(bytes: &[u8], mut from: usize) -> usize {
	loop {
		match bytes.get(from) {
			Some(b' ' | b'\t' | b'\r' | b'\n') => from += 1,
			Some(b'-') if bytes.get(from + 1) == Some(&b'-') => {
				from = bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| from + p + 1)
			},
			Some(b'/') if bytes.get(from + 1) == Some(&b'*') => {
				from = bytes[from + 2..].windows(2).position(|w| w == b"*/").map_or(bytes.len(), |p| from + 2 + p + 2)
			},
			_ => return from,
		}
	}
}

/// Skips a quoted run that started before `from`; a doubled closing quote is an escaped quote
/// (SQL style). Returns the index after the closing quote.
fn skip_quoted(bytes: &[u8], mut from: usize, close: u8) -> Result<usize, SqlError> {
	while from < bytes.len() {
		if bytes[from] == close {
			if close != b']' && bytes.get(from + 1) == Some(&close) {
				from += 2;
				continue;
			}
			return Ok(from + 1);
		}
		from += 1;
	}
	Err(SqlError::Malformed)
}

#[cfg(test)]
mod tests {
	use super::{check_read_only as check, SqlError::*};

	#[test]
	fn aggregation_queries_pass() {
		for sql in [
			"SELECT wallet, COUNT(*), AVG(amount) FROM tx GROUP BY wallet",
			"select min(amount), max(amount), sum(amount) from tx where label = 'fraud';",
			"  -- the fraud rate per hour\nSELECT hour, AVG(label) FROM tx GROUP BY hour ; -- done",
			"WITH big AS (SELECT * FROM tx WHERE amount > 1000) SELECT COUNT(*) FROM big",
			"SELECT 'a;b', \"col;name\", [x;y], `z` FROM t /* ; DROP TABLE t */",
			"SELECT 'it''s' FROM t",
			"SELECT updated_at, inserted FROM t", // keywords only as whole words
		] {
			assert_eq!(check(sql.as_bytes()), Ok(()), "{sql}");
		}
	}

	#[test]
	fn writes_and_administration_are_refused() {
		for sql in [
			"DELETE FROM tx",
			"INSERT INTO tx VALUES (1)",
			"UPDATE tx SET amount = 0",
			"DROP TABLE tx",
			"PRAGMA writable_schema = 1",
			"ATTACH DATABASE '/etc/passwd' AS x",
			"WITH x AS (SELECT 1) DELETE FROM tx",
			"SELECT * INTO copy FROM tx",
			"BEGIN",
			"VACUUM",
			"(SELECT 1)",
			"SELECT load_extension('evil')",
			"'SELECT 1'",
		] {
			assert_eq!(check(sql.as_bytes()), Err(NotReadOnly), "{sql}");
		}
	}

	#[test]
	fn functions_of_the_clock_chance_and_connection_are_refused() {
		for sql in [
			"SELECT random() AS r",
			"SELECT abs(RANDOM ()) % 2 FROM tx",
			"SELECT hex(randomblob(8))",
			"SELECT datetime('now')",
			"SELECT strftime('%s', 'now') - 1",
			"SELECT julianday /* the day */ ('now')",
			"SELECT CURRENT_TIMESTAMP",
			"SELECT COUNT(*) FROM tx WHERE ts < current_date",
			"SELECT changes(), total_changes()",
			"SELECT sqlite_version()",
			"WITH t AS (SELECT unixepoch() AS u) SELECT u FROM t",
		] {
			assert_eq!(check(sql.as_bytes()), Err(NonDeterministic), "{sql}");
		}
		// The same names as columns, or inside strings and comments, are fine.
		for sql in [
			"SELECT date, time, COUNT(*) FROM tx GROUP BY date, time",
			"SELECT 'random()' FROM tx -- datetime('now')",
			"SELECT \"random\"(1)", // a quoted identifier is no function name the check knows
		] {
			assert_eq!(check(sql.as_bytes()), Ok(()), "{sql}");
		}
	}

	#[test]
	fn the_two_function_lists_do_not_overlap() {
		for f in super::NON_DETERMINISTIC_FUNCTIONS {
			assert!(!super::is_deterministic_function(f), "{f}");
		}
		assert!(super::is_deterministic_function("COUNT"));
		assert!(!super::is_deterministic_function("exp"));
	}

	#[test]
	fn several_statements_are_refused() {
		assert_eq!(check(b"SELECT 1; SELECT 2"), Err(MultipleStatements));
		assert_eq!(check(b"SELECT 1;; SELECT 2"), Err(MultipleStatements));
		assert_eq!(check(b"SELECT 1; 'x'"), Err(MultipleStatements));
		assert_eq!(check(b"SELECT 1;;"), Ok(()));
	}

	#[test]
	fn malformed_text_is_refused() {
		assert_eq!(check(b""), Err(Empty));
		assert_eq!(check(b"  -- nothing\n /* at all */ "), Err(Empty));
		assert_eq!(check(b"SELECT 'open"), Err(Malformed));
		assert_eq!(check(b"SELECT \"open"), Err(Malformed));
		assert_eq!(check(b"SELECT 1 /* open"), Err(Malformed));
		assert_eq!(check(&[b'S', b'E', 0xff, 0xfe]), Err(Malformed));
	}
}
