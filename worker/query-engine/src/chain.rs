//! The chain's own tables: what a validator's worker indexes from finalized blocks, and what a
//! compute-market query over the dataset `chain@<n>` reads.
//!
//! One SQLite file, written by the indexer ([`ChainStore`]) and read by the answerer
//! ([`ChainReader`], a second, read-only connection). Schema version [`SCHEMA_VERSION`]:
//!
//! | view         | columns                                                              |
//! |--------------|----------------------------------------------------------------------|
//! | `blocks`     | number, hash, parent_hash, author, timestamp_ms, extrinsics, events  |
//! | `extrinsics` | block, idx, pallet, call, signer, success, fee                       |
//! | `events`     | block, idx, extrinsic, pallet, name, data_json                       |
//! | `transfers`  | block, idx, sender, receiver, amount                                 |
//! | `transfer_scores` | block, idx, task, version, score                                |
//! | `market_events` | block, idx, pallet, name, deal, query, claim, task, version, round, era, account, counterparty, amount, outcome |
//!
//! A query names the blocks it sees (`from..=to`). Statements never read the stored tables
//! (`chain_*`) directly: the authorizer lets them through only from the views, and the views
//! show the rows of those blocks only ([`FROM_FUNCTION`], [`SNAPSHOT_FUNCTION`]).
//!
//! An operator may bound the store to the last `N` blocks ([`ChainStore::prune`]); every table
//! but `chain_transfers` is then cut below them (the fraud features need each account's whole
//! history, and transfers are the smallest part of a block), and the node advertises what it
//! keeps so that it is drawn only for ranges it holds. So two validators, one of which
//! has indexed further than the other, give the same bytes for the same block.
//!
//! Blocks are written in order, each block (online) or batch of blocks (backfill) in one
//! transaction together with the height reached, so a crash leaves the store at a block
//! boundary and the indexer resumes from the next one.

use std::{
	path::Path,
	sync::{
		atomic::{AtomicI64, Ordering},
		Arc,
	},
};

use rusqlite::{functions::FunctionFlags, params, Connection, OpenFlags, OptionalExtension};

use crate::{Answer, Engine, Limits, QueryError, Readable};

/// The version of the tables' layout. A store of another version is rebuilt from genesis.
pub const SCHEMA_VERSION: i64 = 2;

/// The SQL function the views filter with: the block the running query sees.
pub const SNAPSHOT_FUNCTION: &str = "loopx_snapshot";

/// The SQL function of the first block the running query sees.
pub const FROM_FUNCTION: &str = "loopx_from";

/// The prefix of the stored tables' names.
const STORED_PREFIX: &str = "chain_";

/// Each view a statement may read, the table behind it and its block-number column.
const VIEWS: [(&str, &str, &str); 6] = [
	("blocks", "chain_blocks", "number"),
	("extrinsics", "chain_extrinsics", "block"),
	("events", "chain_events", "block"),
	("transfers", "chain_transfers", "block"),
	("transfer_scores", "chain_transfer_scores", "block"),
	("market_events", "chain_market_events", "block"),
];

// Rows are keyed by (block, index) and written in that order: `WITHOUT ROWID` keeps each table
// one B-tree instead of a rowid table plus its key's index.
const SCHEMA: &str = "
CREATE TABLE chain_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE chain_blocks (
	number INTEGER PRIMARY KEY, hash TEXT NOT NULL, parent_hash TEXT NOT NULL, author TEXT,
	timestamp_ms INTEGER, extrinsics INTEGER NOT NULL, events INTEGER NOT NULL);
CREATE TABLE chain_extrinsics (
	block INTEGER NOT NULL, idx INTEGER NOT NULL, pallet TEXT NOT NULL, call TEXT NOT NULL,
	signer TEXT, success INTEGER NOT NULL, fee INTEGER, PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE chain_events (
	block INTEGER NOT NULL, idx INTEGER NOT NULL, extrinsic INTEGER, pallet TEXT NOT NULL,
	name TEXT NOT NULL, data_json TEXT NOT NULL, PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE chain_transfers (
	block INTEGER NOT NULL, idx INTEGER NOT NULL, sender TEXT NOT NULL, receiver TEXT NOT NULL,
	amount INTEGER NOT NULL, PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE chain_transfer_scores (
	block INTEGER NOT NULL, idx INTEGER NOT NULL, task INTEGER NOT NULL, version INTEGER NOT NULL,
	score REAL NOT NULL, PRIMARY KEY (block, idx, task)) WITHOUT ROWID;
CREATE TABLE chain_market_events (
	block INTEGER NOT NULL, idx INTEGER NOT NULL, pallet TEXT NOT NULL, name TEXT NOT NULL,
	deal INTEGER, query INTEGER, claim INTEGER, task INTEGER, version INTEGER, round INTEGER,
	era INTEGER, account TEXT, counterparty TEXT, amount INTEGER, outcome TEXT,
	PRIMARY KEY (block, idx)) WITHOUT ROWID;
";

/// The secondary indexes, by name and definition (`<table> (<columns>) [WHERE …]`). A long
/// backfill writes without them and builds them at its end ([`ChainStore::drop_indexes`],
/// [`ChainStore::build_indexes`]): building an index sorts once, where inserting into it row by
/// row costs a B-tree search each (about 60 % of the time a backfill spent writing).
const INDEXES: [(&str, &str); 12] = [
	("chain_market_events_by_deal", "chain_market_events (deal) WHERE deal IS NOT NULL"),
	("chain_market_events_by_query", "chain_market_events (query) WHERE query IS NOT NULL"),
	("chain_market_events_by_claim", "chain_market_events (claim) WHERE claim IS NOT NULL"),
	("chain_market_events_by_task", "chain_market_events (task, version) WHERE task IS NOT NULL"),
	("chain_market_events_by_account", "chain_market_events (account, block)"),
	("chain_market_events_by_name", "chain_market_events (pallet, name, block)"),
	("chain_blocks_by_time", "chain_blocks (timestamp_ms)"),
	("chain_extrinsics_by_signer", "chain_extrinsics (signer, block)"),
	("chain_extrinsics_by_call", "chain_extrinsics (pallet, call, block)"),
	("chain_events_by_name", "chain_events (pallet, name, block)"),
	("chain_transfers_by_sender", "chain_transfers (sender, block)"),
	("chain_transfers_by_receiver", "chain_transfers (receiver, block)"),
];

/// Whether every index of [`INDEXES`] exists in the store of `conn`.
fn indexes_built(conn: &Connection) -> rusqlite::Result<bool> {
	let names: Vec<String> = INDEXES.iter().map(|(name, _)| format!("'{name}'")).collect();
	let sql = format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ({})", names.join(", "));
	let built: i64 = conn.query_row(&sql, [], |r| r.get(0))?;
	Ok(built == INDEXES.len() as i64)
}

/// Whether `name` is one of the views statements read.
pub(crate) fn is_view(name: &str) -> bool {
	VIEWS.iter().any(|(view, _, _)| view.eq_ignore_ascii_case(name))
}

/// Whether `name` is one of the stored tables behind the views.
pub(crate) fn is_stored_table(name: &str) -> bool {
	VIEWS.iter().any(|(_, table, _)| table.eq_ignore_ascii_case(name))
}

/// A block's rows.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockRows {
	/// The block number.
	pub number: u64,
	/// `0x`-prefixed hex of the block hash.
	pub hash: String,
	/// `0x`-prefixed hex of the parent's hash.
	pub parent_hash: String,
	/// The author's account (SS58), if known.
	pub author: Option<String>,
	/// The timestamp set in the block (ms since the Unix epoch), if any.
	pub timestamp_ms: Option<u64>,
	/// The extrinsics, in order.
	pub extrinsics: Vec<ExtrinsicRow>,
	/// The events, in order.
	pub events: Vec<EventRow>,
	/// The balance transfers (from `Balances.Transfer` events).
	pub transfers: Vec<TransferRow>,
	/// The fraud models' scores of the transfers.
	pub scores: Vec<ScoreRow>,
	/// The markets' events, with their ids, parties and amounts in columns of their own.
	pub market_events: Vec<MarketEventRow>,
}

/// An event of one of the LoopX markets' pallets (data, compute and builder markets, voting,
/// rewards, stake and reputation), its fields picked by name into typed columns; the event's
/// other fields stay in `events.data_json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarketEventRow {
	/// Index in the block's events (the same as in `events`).
	pub idx: u32,
	/// Pallet name.
	pub pallet: String,
	/// Event name.
	pub name: String,
	/// Field `deal`.
	pub deal: Option<u64>,
	/// Field `query`.
	pub query: Option<u64>,
	/// Field `claim`.
	pub claim: Option<u64>,
	/// Field `task`.
	pub task: Option<u64>,
	/// Field `version`.
	pub version: Option<u64>,
	/// Field `round`.
	pub round: Option<u64>,
	/// Field `era`.
	pub era: Option<u64>,
	/// The acting account (SS58): the first of `who`, `client`, `buyer`, `trainer`, `claimant`,
	/// `voter`, `builder`, `delegator`, `by`.
	pub account: Option<String>,
	/// The other party (SS58): the first of `seller`, `provider`, `validator`, `router`.
	pub counterparty: Option<String>,
	/// The amount (planck): the first of `amount`, `fee`, `to_seller`, `paid`, `bounty`,
	/// `refunded`, `released`, `own`.
	pub amount: Option<u128>,
	/// The outcome: the first of `outcome`, `decision`, `verdict`, `accepted`, `reason`,
	/// `rating`, as JSON (a plain name without quotes).
	pub outcome: Option<String>,
}

/// An extrinsic.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtrinsicRow {
	/// Index in the block.
	pub idx: u32,
	/// Pallet name, as in the metadata.
	pub pallet: String,
	/// Call name, as in the metadata.
	pub call: String,
	/// Who paid its fee (SS58), for a signed extrinsic.
	pub signer: Option<String>,
	/// Whether it succeeded.
	pub success: bool,
	/// The fee paid, in planck.
	pub fee: Option<u128>,
}

/// An event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
	/// Index in the block's events.
	pub idx: u32,
	/// The extrinsic it was emitted by (`None` at initialization or finalization).
	pub extrinsic: Option<u32>,
	/// Pallet name.
	pub pallet: String,
	/// Event name.
	pub name: String,
	/// The event's fields as JSON.
	pub data_json: String,
}

/// A balance transfer.
#[derive(Clone, Debug, PartialEq)]
pub struct TransferRow {
	/// Index of its event in the block.
	pub idx: u32,
	/// SS58 of the sender.
	pub sender: String,
	/// SS58 of the receiver.
	pub receiver: String,
	/// The amount, in planck.
	pub amount: u128,
}

/// A fraud model's score of a transfer.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRow {
	/// The transfer's `idx`.
	pub idx: u32,
	/// The fraud task.
	pub task: u64,
	/// The task's version that scored it (the current one at the transfer's block).
	pub version: u32,
	/// The probability of fraud, rounded to 3 decimals.
	pub score: f64,
}

/// A stored transfer with its block's time, as the fraud scorer replays them.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTransfer {
	/// SS58 of the sender.
	pub sender: String,
	/// SS58 of the receiver.
	pub receiver: String,
	/// The amount, in planck, as a float (what the features use).
	pub amount: f64,
	/// The block's timestamp, in ms.
	pub timestamp_ms: u64,
}

/// Why the store refused a write or could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// SQLite failed.
	#[error("SQLite: {0}")]
	Sql(#[from] rusqlite::Error),
	/// Blocks must be written in order: `got` came when `want` was next.
	#[error("block {got} written when block {want} is next")]
	OutOfOrder {
		/// The next block the store takes.
		want: u64,
		/// The block offered.
		got: u64,
	},
	/// A block already stored was offered again with another hash: the store holds finalized
	/// blocks only, so this is a bug or another chain's store.
	#[error("block {0} is stored with another hash")]
	Conflict(u64),
}

/// A planck amount as SQLite holds it: an integer while it fits 64 bits, else a real (the
/// same on every node; documented with the schema).
fn amount(v: u128) -> rusqlite::types::Value {
	match i64::try_from(v) {
		Ok(i) => rusqlite::types::Value::Integer(i),
		Err(_) => rusqlite::types::Value::Real(v as f64),
	}
}

/// The indexer's side of the store: writes finalized blocks in order.
pub struct ChainStore {
	conn: Connection,
}

impl ChainStore {
	/// Opens (or creates) the store at `path`. A store of another schema version is emptied and
	/// rebuilt, since what it holds can be indexed again from the chain.
	pub fn open(path: &Path) -> Result<Self, StoreError> {
		let conn = Connection::open(path)?;
		// Large pages: rows are appended in key order, and fewer, larger pages cost fewer
		// B-tree splits (takes effect when the file is created).
		conn.pragma_update(None, "page_size", 16_384)?;
		conn.pragma_update(None, "journal_mode", "wal")?;
		conn.pragma_update(None, "synchronous", "normal")?;
		// Backfill writes ~600 rows a block into six indexes: keep their pages in memory.
		conn.pragma_update(None, "cache_size", -65_536)?;
		let version: Option<i64> = conn
			.query_row("SELECT value FROM chain_meta WHERE key = 'schema_version'", [], |r| r.get(0))
			.optional()
			.or_else(|e| if matches!(e, rusqlite::Error::SqliteFailure(..)) { Ok(None) } else { Err(e) })?;
		if version != Some(SCHEMA_VERSION) {
			let mut drop = String::from("DROP TABLE IF EXISTS chain_meta;");
			for (_, table, _) in VIEWS {
				drop.push_str(&format!("DROP TABLE IF EXISTS {table};"));
			}
			conn.execute_batch(&format!("BEGIN; {drop} {SCHEMA} COMMIT;"))?;
			conn.execute("INSERT INTO chain_meta VALUES ('schema_version', ?1)", [SCHEMA_VERSION])?;
			let mut store = Self { conn };
			store.build_indexes()?;
			return Ok(store);
		}
		Ok(Self { conn })
	}

	/// Whether every secondary index exists: a store written in bulk lacks them until
	/// [`Self::build_indexes`], and is not read meanwhile.
	pub fn indexes_built(&self) -> Result<bool, StoreError> {
		Ok(indexes_built(&self.conn)?)
	}

	/// Drops the secondary indexes, before a long backfill.
	pub fn drop_indexes(&mut self) -> Result<(), StoreError> {
		let drop: String = INDEXES.iter().map(|(name, _)| format!("DROP INDEX IF EXISTS {name};")).collect();
		self.conn.execute_batch(&format!("BEGIN; {drop} COMMIT;"))?;
		Ok(())
	}

	/// Builds the secondary indexes that are missing, in one transaction.
	pub fn build_indexes(&mut self) -> Result<(), StoreError> {
		let create: String = INDEXES.iter().map(|(name, on)| format!("CREATE INDEX IF NOT EXISTS {name} ON {on};")).collect();
		self.conn.execute_batch(&format!("BEGIN; {create} COMMIT;"))?;
		Ok(())
	}

	/// The highest block stored, if any.
	pub fn indexed_to(&self) -> Result<Option<u64>, StoreError> {
		let top: Option<i64> = self.conn.query_row("SELECT value FROM chain_meta WHERE key = 'indexed_to'", [], |r| r.get(0)).optional()?;
		Ok(top.map(|n| n as u64))
	}

	/// The next block the store takes.
	pub fn next(&self) -> Result<u64, StoreError> {
		Ok(self.indexed_to()?.map_or(0, |n| n + 1))
	}

	/// The stored hash of block `number`, if stored.
	pub fn hash_of(&self, number: u64) -> Result<Option<String>, StoreError> {
		Ok(self.conn.query_row("SELECT hash FROM chain_blocks WHERE number = ?1", [number as i64], |r| r.get(0)).optional()?)
	}

	/// Every stored transfer in order, with its block's time, for `each` (the fraud scorer
	/// rebuilds its wallets' history from them on start).
	pub fn replay_transfers(&self, mut each: impl FnMut(StoredTransfer)) -> Result<(), StoreError> {
		let mut statement = self.conn.prepare(
			"SELECT t.sender, t.receiver, t.amount, b.timestamp_ms FROM chain_transfers t JOIN chain_blocks b ON b.number = t.block \
			 ORDER BY t.block, t.idx",
		)?;
		let mut rows = statement.query([])?;
		while let Some(row) = rows.next()? {
			let amount = match row.get_ref(2)? {
				rusqlite::types::ValueRef::Integer(i) => i as f64,
				other => other.as_f64().map_err(rusqlite::Error::from)?,
			};
			let timestamp_ms: Option<i64> = row.get(3)?;
			each(StoredTransfer { sender: row.get(0)?, receiver: row.get(1)?, amount, timestamp_ms: timestamp_ms.unwrap_or(0) as u64 });
		}
		Ok(())
	}

	/// Keeps the last `keep` blocks stored (at least one): deletes every row of an older block
	/// from every table but `chain_transfers`. Returns the first block kept.
	pub fn prune(&mut self, keep: u64) -> Result<Option<u64>, StoreError> {
		let Some(top) = self.indexed_to()? else { return Ok(None) };
		let cut = (top + 1).saturating_sub(keep.max(1));
		let low: Option<i64> = self.conn.query_row("SELECT MIN(number) FROM chain_blocks", [], |r| r.get(0))?;
		if low.is_some_and(|low| low as u64 >= cut) {
			return Ok(low.map(|l| l as u64));
		}
		let tx = self.conn.transaction()?;
		for (_, table, block) in VIEWS {
			if table != "chain_transfers" {
				tx.execute(&format!("DELETE FROM {table} WHERE {block} < ?1"), [cut as i64])?;
			}
		}
		tx.commit()?;
		Ok(Some(cut))
	}

	/// Writes `blocks` (consecutive, in order) in one transaction. Blocks already stored are
	/// skipped if their hash matches, so a batch may be written again after a crash.
	pub fn write(&mut self, blocks: &[BlockRows]) -> Result<(), StoreError> {
		let mut next = self.next()?;
		let tx = self.conn.transaction()?;
		for block in blocks {
			if block.number < next {
				let stored: Option<String> =
					tx.query_row("SELECT hash FROM chain_blocks WHERE number = ?1", [block.number as i64], |r| r.get(0)).optional()?;
				if stored.as_deref() != Some(block.hash.as_str()) {
					return Err(StoreError::Conflict(block.number));
				}
				continue;
			}
			if block.number != next {
				return Err(StoreError::OutOfOrder { want: next, got: block.number });
			}
			let n = block.number as i64;
			tx.prepare_cached("INSERT INTO chain_blocks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![
				n,
				block.hash,
				block.parent_hash,
				block.author,
				block.timestamp_ms.map(|t| t as i64),
				block.extrinsics.len() as i64,
				block.events.len() as i64
			])?;
			let mut insert = tx.prepare_cached("INSERT INTO chain_extrinsics VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
			for x in &block.extrinsics {
				insert.execute(params![n, x.idx, x.pallet, x.call, x.signer, x.success, x.fee.map(amount)])?;
			}
			let mut insert = tx.prepare_cached("INSERT INTO chain_events VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
			for e in &block.events {
				insert.execute(params![n, e.idx, e.extrinsic, e.pallet, e.name, e.data_json])?;
			}
			let mut insert = tx.prepare_cached("INSERT INTO chain_transfers VALUES (?1, ?2, ?3, ?4, ?5)")?;
			for t in &block.transfers {
				insert.execute(params![n, t.idx, t.sender, t.receiver, amount(t.amount)])?;
			}
			let mut insert = tx.prepare_cached("INSERT INTO chain_transfer_scores VALUES (?1, ?2, ?3, ?4, ?5)")?;
			for x in &block.scores {
				insert.execute(params![n, x.idx, x.task as i64, x.version, x.score])?;
			}
			let mut insert =
				tx.prepare_cached("INSERT INTO chain_market_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")?;
			let id = |v: Option<u64>| v.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
			for m in &block.market_events {
				insert.execute(params![
					n,
					m.idx,
					m.pallet,
					m.name,
					id(m.deal),
					id(m.query),
					id(m.claim),
					id(m.task),
					id(m.version),
					id(m.round),
					id(m.era),
					m.account,
					m.counterparty,
					m.amount.map(amount),
					m.outcome
				])?;
			}
			next += 1;
		}
		if let Some(top) = next.checked_sub(1) {
			tx.execute("INSERT OR REPLACE INTO chain_meta VALUES ('indexed_to', ?1)", [top as i64])?;
		}
		tx.commit()?;
		Ok(())
	}
}

/// Why a chain query got no answer from this node (as opposed to an error answer, which every
/// node gives alike).
#[derive(Debug, PartialEq)]
pub enum ChainQueryError {
	/// This node has not indexed block `at` yet (it has up to `indexed_to`): wait, do not
	/// answer.
	NotIndexed {
		/// The block the query sees.
		at: u64,
		/// The highest block indexed here.
		indexed_to: Option<u64>,
	},
	/// This node no longer keeps block `from` (it keeps blocks from `kept_from` on): it is not
	/// drawn for such a range, and does not answer it.
	NotHeld {
		/// The first block the query sees.
		from: u64,
		/// The first block kept here.
		kept_from: u64,
	},
	/// The store is being backfilled without its secondary indexes: a statement's plan, and so
	/// the steps it takes against the limit, could differ from other nodes'. Not answered.
	Building,
	/// The statement's own error: the same on every node with the block indexed.
	Query(QueryError),
}

/// The answerer's side of the store: a read-only connection whose statements see the chain as
/// of one block.
pub struct ChainReader {
	engine: Engine,
	/// A second read-only connection, without the statements' guard, for what the store says
	/// of itself (its indexes).
	meta: Connection,
	from: Arc<AtomicI64>,
	snapshot: Arc<AtomicI64>,
}

impl ChainReader {
	/// Opens the store at `path` (created by [`ChainStore::open`]) read-only.
	pub fn open(path: &Path) -> Result<Self, QueryError> {
		let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
		conn.pragma_update(None, "cache_size", -65_536)?;
		// GROUP BY and ORDER BY sort in memory, not in temporary files.
		conn.pragma_update(None, "temp_store", "memory")?;
		let (from, snapshot) = (Arc::new(AtomicI64::new(0)), Arc::new(AtomicI64::new(-1)));
		for (name, value) in [(FROM_FUNCTION, from.clone()), (SNAPSHOT_FUNCTION, snapshot.clone())] {
			conn.create_scalar_function(name, 0, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, move |_| {
				Ok(value.load(Ordering::Relaxed))
			})?;
		}
		for (view, table, block) in VIEWS {
			conn.execute_batch(&format!(
				"CREATE TEMP VIEW {view} AS SELECT * FROM main.{table} WHERE {block} BETWEEN {FROM_FUNCTION}() AND {SNAPSHOT_FUNCTION}()"
			))?;
		}
		let meta = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
		Ok(Self { engine: Engine::guard(conn, Readable::ChainViews)?, meta, from, snapshot })
	}

	/// The first and the last block stored, if any.
	fn stored(&mut self) -> Result<Option<(u64, u64)>, QueryError> {
		self.from.store(0, Ordering::Relaxed);
		self.snapshot.store(i64::MAX, Ordering::Relaxed);
		let answer = self.engine.run("SELECT MIN(number), MAX(number) FROM blocks", &Limits::default())?;
		Ok(match answer.rows.first().map(Vec::as_slice) {
			Some([crate::Value::Integer(low), crate::Value::Integer(top)]) => Some((*low as u64, *top as u64)),
			_ => None,
		})
	}

	/// The highest block stored, if any.
	pub fn indexed_to(&mut self) -> Result<Option<u64>, QueryError> {
		Ok(self.stored()?.map(|(_, top)| top))
	}

	/// Runs `sql` on the chain as of block `at`, seeing blocks `0..=at`.
	pub fn run(&mut self, sql: &str, at: u64, limits: &Limits) -> Result<Answer, ChainQueryError> {
		self.run_range(sql, 0, at, limits)
	}

	/// Runs `sql` on the chain as of block `at`, seeing blocks `from..=at`.
	pub fn run_range(&mut self, sql: &str, from: u64, at: u64, limits: &Limits) -> Result<Answer, ChainQueryError> {
		// However it is quoted, a name of a stored table contains `chain_` (SQLite's identifiers
		// have no escapes), and SQLite's authorizer cannot always tell a read of one through a
		// view from a direct one: refuse such statements by their text, the same on every node.
		if sql.to_ascii_lowercase().contains(STORED_PREFIX) {
			return Err(ChainQueryError::Query(QueryError::NotAllowed(format!("naming {STORED_PREFIX}* tables"))));
		}
		let stored = self.stored().map_err(ChainQueryError::Query)?;
		match stored {
			Some((_, top)) if top < at => return Err(ChainQueryError::NotIndexed { at, indexed_to: Some(top) }),
			None => return Err(ChainQueryError::NotIndexed { at, indexed_to: None }),
			Some((low, _)) if low > from => return Err(ChainQueryError::NotHeld { from, kept_from: low }),
			Some(_) => {},
		}
		if !indexes_built(&self.meta).map_err(|e| ChainQueryError::Query(e.into()))? {
			return Err(ChainQueryError::Building);
		}
		self.from.store(from.min(i64::MAX as u64) as i64, Ordering::Relaxed);
		self.snapshot.store(at.min(i64::MAX as u64) as i64, Ordering::Relaxed);
		self.engine.run(sql, limits).map_err(ChainQueryError::Query)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::Value;

	/// A fresh store file in the system's temporary directory, removed on drop.
	struct TempStore(std::path::PathBuf);

	impl TempStore {
		fn new(name: &str) -> Self {
			let path = std::env::temp_dir().join(format!("loopx-chain-{name}-{}.sqlite", std::process::id()));
			Self::remove(&path);
			Self(path)
		}

		fn remove(path: &Path) {
			for suffix in ["", "-wal", "-shm"] {
				let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
			}
		}
	}

	impl Drop for TempStore {
		fn drop(&mut self) {
			Self::remove(&self.0);
		}
	}

	/// Block `n` with `n` transfers of 10·n planck from `alice` to `bob`, and one extrinsic.
	fn block(n: u64) -> BlockRows {
		let transfers =
			(0..n as u32).map(|i| TransferRow { idx: i, sender: "alice".into(), receiver: "bob".into(), amount: 10 * n as u128 }).collect();
		BlockRows {
			number: n,
			hash: format!("0x{n:064x}"),
			parent_hash: format!("0x{:064x}", n.saturating_sub(1)),
			author: Some("charlie".into()),
			timestamp_ms: Some(6_000 * n),
			extrinsics: vec![ExtrinsicRow { idx: 0, pallet: "Timestamp".into(), call: "set".into(), signer: None, success: true, fee: None }],
			events: vec![EventRow { idx: 0, extrinsic: Some(0), pallet: "System".into(), name: "ExtrinsicSuccess".into(), data_json: "{}".into() }],
			scores: (0..n as u32).map(|i| ScoreRow { idx: i, task: 0, version: 1, score: 0.25 }).collect(),
			market_events: vec![MarketEventRow {
				idx: 0,
				pallet: "DataMarket".into(),
				name: "DealSettled".into(),
				deal: Some(n),
				account: Some("alice".into()),
				amount: Some(u128::from(n) * 5),
				..Default::default()
			}],
			transfers,
		}
	}

	fn count_and_sum(reader: &mut ChainReader, at: u64) -> Result<Vec<u8>, ChainQueryError> {
		reader.run("SELECT COUNT(*), SUM(amount) FROM transfers", at, &Limits::default()).map(|a| a.encode())
	}

	#[test]
	fn a_query_sees_the_chain_as_of_its_block_however_far_the_node_indexed() {
		let tmp = TempStore::new("snapshot");
		let mut store = ChainStore::open(&tmp.0).unwrap();
		store.write(&(0..=5).map(block).collect::<Vec<_>>()).unwrap();
		let mut reader = ChainReader::open(&tmp.0).unwrap();
		// Blocks 0..=3 hold 0+1+2+3 = 6 transfers of 0, 10, 20 (×2), 30 (×3) = 140 planck.
		let at_3 = count_and_sum(&mut reader, 3).unwrap();
		assert_eq!(String::from_utf8(at_3.clone()).unwrap(), "COUNT(*)\tSUM(amount)\n6\t140\n");
		// The node indexes further: the answer for block 3 does not change.
		store.write(&(6..=9).map(block).collect::<Vec<_>>()).unwrap();
		assert_eq!(count_and_sum(&mut reader, 3).unwrap(), at_3);
		// Every view is cut at the block, and the indexed height is read through the views.
		let blocks = reader.run("SELECT COUNT(*), MAX(number) FROM blocks", 3, &Limits::default()).unwrap();
		assert_eq!(blocks.rows, vec![vec![Value::Integer(4), Value::Integer(3)]]);
		let joined = "SELECT COUNT(*) FROM events e JOIN extrinsics x ON x.block = e.block AND x.idx = e.extrinsic";
		assert_eq!(reader.run(joined, 3, &Limits::default()).unwrap().rows, vec![vec![Value::Integer(4)]]);
		assert_eq!(reader.indexed_to().unwrap(), Some(9));
	}

	#[test]
	fn transfer_scores_join_their_transfers_up_to_the_snapshot_and_transfers_replay_in_order() {
		let tmp = TempStore::new("scores");
		let mut store = ChainStore::open(&tmp.0).unwrap();
		store.write(&(0..=4).map(block).collect::<Vec<_>>()).unwrap();
		let mut reader = ChainReader::open(&tmp.0).unwrap();
		let sql = "SELECT COUNT(*), SUM(s.score), MAX(t.block) FROM transfers t JOIN transfer_scores s USING (block, idx) WHERE s.score > 0.2";
		assert_eq!(reader.run(sql, 2, &Limits::default()).unwrap().rows, vec![vec![Value::Integer(3), Value::Real(0.75), Value::Integer(2)]]);
		// The markets' history, by its ids.
		let deals =
			reader.run("SELECT COUNT(*), SUM(amount), MAX(deal) FROM market_events WHERE name = 'DealSettled'", 3, &Limits::default()).unwrap();
		assert_eq!(deals.rows, vec![vec![Value::Integer(4), Value::Integer(30), Value::Integer(3)]]);
		let mut replayed = Vec::new();
		store.replay_transfers(|t| replayed.push((t.timestamp_ms, t.amount))).unwrap();
		// Block n holds n transfers of 10 n planck at 6 n s.
		let expected: Vec<(u64, f64)> = (1..=4u64).flat_map(|n| (0..n).map(move |_| (6_000 * n, 10.0 * n as f64))).collect();
		assert_eq!(replayed, expected);
	}

	#[test]
	fn a_store_bounded_to_the_last_blocks_answers_the_ranges_it_keeps_as_a_whole_one_does() {
		let (whole, bounded) = (TempStore::new("whole"), TempStore::new("bounded"));
		let mut full = ChainStore::open(&whole.0).unwrap();
		let mut kept = ChainStore::open(&bounded.0).unwrap();
		for n in 0..=9 {
			full.write(&[block(n)]).unwrap();
			kept.write(&[block(n)]).unwrap();
			kept.prune(4).unwrap();
		}
		assert_eq!(kept.prune(4).unwrap(), Some(6));
		let (mut a, mut b) = (ChainReader::open(&whole.0).unwrap(), ChainReader::open(&bounded.0).unwrap());
		let limits = Limits::default();
		let sql = "SELECT COUNT(*), SUM(amount), MIN(block) FROM transfers";
		let joined = "SELECT COUNT(*), SUM(s.score), COUNT(DISTINCT b.number) FROM transfers t JOIN transfer_scores s USING (block, idx) JOIN blocks b ON b.number = t.block";
		for q in [sql, joined, "SELECT name, COUNT(*) FROM market_events GROUP BY name"] {
			assert_eq!(a.run_range(q, 6, 8, &limits).unwrap().encode(), b.run_range(q, 6, 8, &limits).unwrap().encode(), "{q}");
		}
		// Blocks 6, 7, 8: 21 transfers of 60, 70 and 80 planck.
		assert_eq!(b.run_range(sql, 6, 8, &limits).unwrap().rows, vec![vec![Value::Integer(21), Value::Integer(1_490), Value::Integer(6)]]);
		// What it no longer keeps it does not answer (it is not drawn for it).
		assert_eq!(b.run_range(sql, 5, 8, &limits), Err(ChainQueryError::NotHeld { from: 5, kept_from: 6 }));
		assert_eq!(b.run(sql, 8, &limits), Err(ChainQueryError::NotHeld { from: 0, kept_from: 6 }));
		// The range's first block cannot be set from SQL either.
		assert!(b.run_range("SELECT loopx_from(1)", 6, 8, &limits).is_err());
	}

	#[test]
	fn a_block_not_indexed_yet_is_not_answered() {
		let tmp = TempStore::new("not-indexed");
		let mut store = ChainStore::open(&tmp.0).unwrap();
		let mut reader = ChainReader::open(&tmp.0).unwrap();
		assert_eq!(count_and_sum(&mut reader, 0), Err(ChainQueryError::NotIndexed { at: 0, indexed_to: None }));
		store.write(&[block(0), block(1)]).unwrap();
		assert_eq!(count_and_sum(&mut reader, 2), Err(ChainQueryError::NotIndexed { at: 2, indexed_to: Some(1) }));
		assert!(count_and_sum(&mut reader, 1).is_ok());
	}

	#[test]
	fn statements_cannot_read_past_the_snapshot_or_outside_the_views() {
		let tmp = TempStore::new("bypass");
		let mut store = ChainStore::open(&tmp.0).unwrap();
		store.write(&(0..=4).map(block).collect::<Vec<_>>()).unwrap();
		let mut reader = ChainReader::open(&tmp.0).unwrap();
		let limits = Limits::default();
		let refused = |r: Result<Answer, ChainQueryError>| matches!(r, Err(ChainQueryError::Query(QueryError::NotAllowed(_))));
		// The stored tables, however they are named, are readable only through the views.
		assert!(refused(reader.run("SELECT COUNT(*) FROM chain_transfers", 1, &limits)));
		assert!(refused(reader.run("SELECT COUNT(*) FROM main.chain_transfers", 1, &limits)));
		assert!(refused(reader.run("SELECT value FROM chain_meta", 1, &limits)));
		assert!(refused(reader.run("SELECT COUNT(*) FROM \"CHAIN_TRANSFERS\"", 1, &limits)));
		assert!(refused(reader.run("SELECT COUNT(*) FROM [chain_blocks]", 1, &limits)));
		assert!(refused(reader.run("SELECT sql FROM sqlite_temp_master", 1, &limits)));
		// Setting the snapshot is not possible from SQL: the function takes no argument.
		assert!(reader.run("SELECT loopx_snapshot(9)", 1, &limits).is_err());
		// Writes are refused.
		assert!(reader.run("DELETE FROM transfers", 1, &limits).is_err());
		assert!(reader.engine.conn.execute("DELETE FROM chain_transfers", []).is_err());
		// And what a statement sees is the same as a store that holds only blocks 0..=1.
		let short = TempStore::new("bypass-short");
		let mut store = ChainStore::open(&short.0).unwrap();
		store.write(&[block(0), block(1)]).unwrap();
		let mut other = ChainReader::open(&short.0).unwrap();
		let sql = "SELECT sender, receiver, COUNT(*), SUM(amount), MAX(block) FROM transfers GROUP BY sender, receiver";
		assert_eq!(reader.run(sql, 1, &limits).unwrap().encode(), other.run(sql, 1, &limits).unwrap().encode());
	}

	#[test]
	fn writes_are_ordered_idempotent_and_survive_reopening() {
		let tmp = TempStore::new("writes");
		{
			let mut store = ChainStore::open(&tmp.0).unwrap();
			assert_eq!(store.next().unwrap(), 0);
			assert!(matches!(store.write(&[block(1)]), Err(StoreError::OutOfOrder { want: 0, got: 1 })));
			store.write(&[block(0), block(1), block(2)]).unwrap();
			// A batch written again after a crash: the stored blocks are skipped.
			store.write(&[block(1), block(2), block(3)]).unwrap();
			assert_eq!(store.indexed_to().unwrap(), Some(3));
			let mut other = block(2);
			other.hash = "0xdifferent".into();
			assert!(matches!(store.write(&[other]), Err(StoreError::Conflict(2))));
			// A failed batch changes nothing.
			assert!(store.write(&[block(4), block(6)]).is_err());
			assert_eq!(store.indexed_to().unwrap(), Some(3));
		}
		let store = ChainStore::open(&tmp.0).unwrap();
		assert_eq!(store.next().unwrap(), 4);
		assert_eq!(store.hash_of(3).unwrap(), Some(block(3).hash));
		let mut reader = ChainReader::open(&tmp.0).unwrap();
		assert_eq!(count_and_sum(&mut reader, 3).unwrap(), b"COUNT(*)\tSUM(amount)\n6\t140\n".to_vec());
	}

	#[test]
	fn a_store_written_without_its_indexes_is_not_read_until_they_are_built_and_then_answers_alike() {
		let (bulk, rowwise) = (TempStore::new("bulk"), TempStore::new("rowwise"));
		let mut incremental = ChainStore::open(&rowwise.0).unwrap();
		incremental.write(&(0..=9).map(block).collect::<Vec<_>>()).unwrap();
		{
			let mut store = ChainStore::open(&bulk.0).unwrap();
			assert!(store.indexes_built().unwrap());
			store.drop_indexes().unwrap();
			store.write(&(0..=6).map(block).collect::<Vec<_>>()).unwrap();
		}
		// A crash in the middle of the backfill: the store reopens without its indexes, and a
		// statement is not run on it (its plan could differ from other nodes').
		let mut store = ChainStore::open(&bulk.0).unwrap();
		assert!(!store.indexes_built().unwrap());
		let mut reader = ChainReader::open(&bulk.0).unwrap();
		assert_eq!(count_and_sum(&mut reader, 3), Err(ChainQueryError::Building));
		store.write(&(7..=9).map(block).collect::<Vec<_>>()).unwrap();
		store.build_indexes().unwrap();
		assert!(store.indexes_built().unwrap());
		let mut other = ChainReader::open(&rowwise.0).unwrap();
		let limits = Limits::default();
		for sql in [
			"SELECT COUNT(*), SUM(amount) FROM transfers WHERE sender = 'alice' AND block <= 8",
			"SELECT name, COUNT(*), MAX(deal) FROM market_events WHERE account = 'alice' GROUP BY name",
			"SELECT pallet, name, COUNT(*) FROM events GROUP BY pallet, name",
		] {
			let answer = reader.run(sql, 9, &limits).unwrap();
			assert_eq!(answer.encode(), other.run(sql, 9, &limits).unwrap().encode(), "{sql}");
		}
	}

	#[test]
	fn amounts_beyond_64_bits_are_kept_as_reals() {
		let tmp = TempStore::new("amounts");
		let mut store = ChainStore::open(&tmp.0).unwrap();
		let mut b = block(1);
		b.transfers[0].amount = u128::from(u64::MAX) * 4;
		store.write(&[block(0), b]).unwrap();
		let mut reader = ChainReader::open(&tmp.0).unwrap();
		let rows = reader.run("SELECT amount FROM transfers", 1, &Limits::default()).unwrap().rows;
		assert_eq!(rows, vec![vec![Value::Real(u128::from(u64::MAX) as f64 * 4.0)]]);
	}
}
