//! What this validator answers to a compute-market query. Aggregation SQL runs in the embedded
//! read-only SQLite of `loopx-query-engine` over the tables of the query's dataset tag, or,
//! for `chain@<n>`, over the chain tables as of block `n` ([`crate::chain_index`]).
//!
//! A statement the engine refuses or that fails is answered too, with the error's kind as the
//! result (`#error\t<kind>\t<detail>`, [`QueryError::code`]): the engine's limits are counted,
//! not timed, and its functions deterministic, so honest validators on the same rows fail the
//! same way and still agree; staying silent would be penalised as a missed answer.

use std::collections::BTreeMap;

use loopx_primitives::chain_data::{self, Dataset};
use loopx_query_engine::{chain::ChainReader, Engine, Limits, QueryError};
use pallet_compute_market::KindInput;

use crate::{
	chain_answers::{ChainAnswers, Outcome},
	chain_index::IndexStatus,
};

/// The runtime's `MaxResultLen`: an answer must fit it.
pub const MAX_RESULT_BYTES: usize = loopx_primitives::limits::MAX_RESULT_BYTES as usize;

/// The limits of a query over the chain tables: whole-history aggregations over millions of
/// rows take far more steps than the demo table's queries (they run off the block loop).
pub fn chain_limits() -> Limits {
	Limits { max_rows: 256, max_bytes: MAX_RESULT_BYTES, max_steps: CHAIN_MAX_STEPS, ..Limits::default() }
}

/// Most SQLite steps of a query over the chain tables: a few seconds on this project's 2-core
/// machine.
pub const CHAIN_MAX_STEPS: u64 = 200_000_000;

/// Why a query gets no answer from this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswerable {
	/// The dataset tag is not held here.
	UnknownDataset(Vec<u8>),
	/// Inference is answered by the learning worker, not from datasets.
	InferenceNotServed,
	/// The model version asked for is not served here (why).
	ModelNotServed(String),
	/// The tables could not be loaded into the engine.
	Engine(String),
	/// Block `n` of a `chain@<n>` query is not indexed here yet: asked again at the next block.
	NotIndexedYet(u32),
	/// Block `from` of a `chain@<from>..<to>` query is no longer kept here (the node was drawn
	/// before its bound was advertised, or its store was cut since).
	NotHeld(u32),
	/// The statement is running on the chain query thread: asked again at the next block.
	Running,
}

impl Unanswerable {
	/// Whether asking again later may give an answer.
	pub fn passing(&self) -> bool {
		matches!(self, Self::NotIndexedYet(_) | Self::Running)
	}
}

/// The datasets this validator holds and the engines over them.
pub struct Answerer {
	engines: BTreeMap<Vec<u8>, Engine>,
	/// The chain tables' query thread and the indexer's state, if this node indexes the chain.
	chain: Option<(ChainAnswers, IndexStatus)>,
	limits: Limits,
}

impl Answerer {
	/// An answerer over `datasets` (tag → tables).
	pub fn new(datasets: Vec<(Vec<u8>, Vec<loopx_query_engine::Table>)>) -> Result<Self, QueryError> {
		let mut engines = BTreeMap::new();
		for (tag, tables) in datasets {
			engines.insert(tag, Engine::new(&tables)?);
		}
		let limits = Limits { max_rows: 256, max_bytes: MAX_RESULT_BYTES, ..Limits::default() };
		Ok(Self { engines, chain: None, limits })
	}

	/// Answers `chain@<n>` queries from `reader`, and advertises the chain dataset while
	/// `status` says the tables are caught up with finality.
	pub fn with_chain(mut self, reader: ChainReader, status: IndexStatus) -> Result<Self, QueryError> {
		let answers =
			ChainAnswers::start(reader, chain_limits()).map_err(|e| QueryError::NotAllowed(format!("cannot start the chain query thread: {e}")))?;
		self.chain = Some((answers, status));
		Ok(self)
	}

	/// The dataset tags held (in order).
	pub fn tags(&self) -> Vec<Vec<u8>> {
		let mut tags: Vec<Vec<u8>> = self.engines.keys().cloned().collect();
		if let Some((_, status)) = self.chain.as_ref().filter(|(_, status)| status.caught_up()) {
			tags.push(chain_data::tag(status.kept()));
			tags.sort();
		}
		tags
	}

	/// The result bytes for `kind`.
	pub fn answer(&mut self, kind: &KindInput) -> Result<Vec<u8>, Unanswerable> {
		match kind {
			KindInput::Aggregation { sql, dataset } if chain_data::dataset(dataset) != Dataset::Other => {
				let Dataset::Chain { from, to } = chain_data::dataset(dataset) else { return Err(Unanswerable::UnknownDataset(dataset.clone())) };
				let (answers, _) = self.chain.as_mut().ok_or_else(|| Unanswerable::UnknownDataset(dataset.clone()))?;
				match answers.ask(&String::from_utf8_lossy(sql), from.into(), to.into()) {
					Some(Outcome::Answer(bytes)) => Ok(bytes),
					Some(Outcome::NotIndexed) => Err(Unanswerable::NotIndexedYet(to)),
					Some(Outcome::NotHeld) => Err(Unanswerable::NotHeld(from)),
					None => Err(Unanswerable::Running),
				}
			},
			KindInput::Aggregation { sql, dataset } => {
				let engine = self.engines.get_mut(dataset).ok_or_else(|| Unanswerable::UnknownDataset(dataset.clone()))?;
				let sql = String::from_utf8_lossy(sql);
				Ok(match engine.run(&sql, &self.limits) {
					Ok(answer) => answer.encode(),
					Err(e) => error_answer(&e),
				})
			},
			KindInput::Inference { .. } => Err(Unanswerable::InferenceNotServed),
		}
	}
}

/// The result revealed for a statement that failed: `#error\t<kind>…`, cut to fit.
pub(crate) fn error_answer(e: &QueryError) -> Vec<u8> {
	let mut bytes = format!("#error\t{}\n", e.code()).into_bytes();
	bytes.truncate(MAX_RESULT_BYTES);
	bytes
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::demo_data::{demo_table, DEMO_TAG};

	fn answerer() -> Answerer {
		Answerer::new(vec![(DEMO_TAG.to_vec(), vec![demo_table()])]).expect("demo table loads")
	}

	fn aggregation(sql: &str) -> KindInput {
		KindInput::Aggregation { sql: sql.as_bytes().to_vec(), dataset: DEMO_TAG.to_vec() }
	}

	#[test]
	fn group_by_over_the_demo_table_counts_every_row_once() {
		let mut a = answerer();
		let rows = demo_table().rows.len();
		let bytes = a.answer(&aggregation("SELECT fraud, COUNT(*), AVG(amount) FROM transactions GROUP BY fraud")).unwrap();
		let text = String::from_utf8(bytes).unwrap();
		let mut lines = text.lines();
		assert_eq!(lines.next(), Some("fraud\tCOUNT(*)\tAVG(amount)"));
		let counts: Vec<usize> = lines.map(|l| l.split('\t').nth(1).unwrap().parse().unwrap()).collect();
		assert_eq!(counts.len(), 2, "fraud and normal rows: {text}");
		assert_eq!(counts.iter().sum::<usize>(), rows);
	}

	#[test]
	fn two_nodes_give_identical_bytes() {
		let q = aggregation("SELECT pattern, COUNT(*), AVG(amount), SUM(amount) FROM transactions GROUP BY pattern ORDER BY pattern");
		assert_eq!(answerer().answer(&q), answerer().answer(&q));
	}

	#[test]
	fn failing_and_refused_statements_are_answered_with_their_error() {
		let mut a = answerer();
		let missing = a.answer(&aggregation("SELECT COUNT(*) FROM nowhere")).unwrap();
		assert!(missing.starts_with(b"#error\t"), "{}", String::from_utf8_lossy(&missing));
		let write = a.answer(&aggregation("DELETE FROM transactions")).unwrap();
		assert_eq!(write, b"#error\tshape\tNotReadOnly\n");
		// A statement that runs out of steps gets the same answer on every node.
		let endless = aggregation("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n");
		let steps = a.answer(&endless).unwrap();
		assert_eq!(steps, format!("#error\tsteps\t{}\n", Limits::default().max_steps).into_bytes());
		assert_eq!(answerer().answer(&endless).unwrap(), steps);
		// And nothing was deleted.
		let count = a.answer(&aggregation("SELECT COUNT(*) FROM transactions")).unwrap();
		assert_eq!(String::from_utf8(count).unwrap(), format!("COUNT(*)\n{}\n", demo_table().rows.len()));
	}

	#[test]
	fn unknown_datasets_and_inference_are_not_answered() {
		let mut a = answerer();
		let other = KindInput::Aggregation { sql: b"SELECT 1".to_vec(), dataset: b"other".to_vec() };
		assert_eq!(a.answer(&other), Err(Unanswerable::UnknownDataset(b"other".to_vec())));
		let inference = KindInput::Inference { model: 0, version: 1, input: vec![] };
		assert_eq!(a.answer(&inference), Err(Unanswerable::InferenceNotServed));
	}

	#[test]
	fn chain_queries_see_their_block_and_wait_for_it() {
		use loopx_query_engine::chain::{BlockRows, ChainStore, TransferRow};
		let path = std::env::temp_dir().join(format!("loopx-answers-chain-{}.sqlite", std::process::id()));
		let block = |n: u64| BlockRows {
			number: n,
			hash: format!("0x{n:02x}"),
			parent_hash: String::new(),
			author: None,
			timestamp_ms: None,
			extrinsics: vec![],
			events: vec![],
			transfers: vec![TransferRow { idx: 0, sender: "a".into(), receiver: "b".into(), amount: 7 }],
			scores: vec![],
			market_events: vec![],
		};
		let mut store = ChainStore::open(&path).unwrap();
		store.write(&[block(0), block(1), block(2)]).unwrap();
		let status = IndexStatus::new(&store, 100, None);
		let reader = ChainReader::open(&path).unwrap();
		let mut a = answerer().with_chain(reader, status.clone()).unwrap();
		// Asked at every block until the query thread has the outcome.
		let ask = |a: &mut Answerer, kind: &KindInput| loop {
			match a.answer(kind) {
				Err(Unanswerable::Running) => std::thread::sleep(std::time::Duration::from_millis(5)),
				other => break other,
			}
		};
		// Far behind finality: the chain dataset is not advertised.
		status.set(2, 100);
		assert_eq!(a.tags(), vec![DEMO_TAG.to_vec()]);
		status.set(2, 3);
		assert_eq!(a.tags(), vec![chain_data::TAG.to_vec(), DEMO_TAG.to_vec()]);
		// The tables this worker keeps are the layout the runtime's chain queries name.
		assert_eq!(loopx_query_engine::chain::SCHEMA_VERSION, i64::from(chain_data::SCHEMA_VERSION));
		let over =
			|at: &str| KindInput::Aggregation { sql: b"SELECT COUNT(*), SUM(amount) FROM transfers".to_vec(), dataset: at.as_bytes().to_vec() };
		assert_eq!(a.answer(&over("chain@1")), Err(Unanswerable::Running), "the first ask starts the statement");
		assert_eq!(ask(&mut a, &over("chain@1")), Ok(b"COUNT(*)\tSUM(amount)\n2\t14\n".to_vec()));
		// Not indexed yet: no answer now, asked again later.
		let later = ask(&mut a, &over("chain@3"));
		assert_eq!(later, Err(Unanswerable::NotIndexedYet(3)));
		assert!(later.unwrap_err().passing());
		store.write(&[block(3)]).unwrap();
		assert_eq!(ask(&mut a, &over("chain@3")), Ok(b"COUNT(*)\tSUM(amount)\n4\t28\n".to_vec()));
		// The statement's own errors are answers, alike on every node.
		let bad = KindInput::Aggregation { sql: b"SELECT nope FROM transfers".to_vec(), dataset: b"chain@1".to_vec() };
		assert_eq!(ask(&mut a, &bad), Ok(b"#error\tsqlite\t1\n".to_vec()));
		// A range of blocks.
		assert_eq!(ask(&mut a, &over("chain@2..3")), Ok(b"COUNT(*)\tSUM(amount)\n2\t14\n".to_vec()));
		// While a long backfill runs without the indexes, a statement is not run (its plan, so
		// its step count, could differ from other nodes') and the dataset is not advertised.
		store.drop_indexes().unwrap();
		let mut c = answerer().with_chain(ChainReader::open(&path).unwrap(), IndexStatus::new(&store, 3, None)).unwrap();
		assert_eq!(c.tags(), vec![DEMO_TAG.to_vec()]);
		assert_eq!(ask(&mut c, &over("chain@2")), Err(Unanswerable::NotIndexedYet(2)));
		store.build_indexes().unwrap();
		// A node without the chain tables does not hold the dataset.
		assert_eq!(answerer().answer(&over("chain@1")), Err(Unanswerable::UnknownDataset(b"chain@1".to_vec())));
		// A node keeping the last 1,200 blocks advertises it, and does not answer for blocks it
		// cut (it is not drawn for them).
		let bounded = IndexStatus::new(&store, 3, Some(1_200));
		let mut b = answerer().with_chain(ChainReader::open(&path).unwrap(), bounded).unwrap();
		assert_eq!(b.tags(), vec![b"chain/v2/last1200".to_vec(), DEMO_TAG.to_vec()]);
		store.prune(2).unwrap();
		assert_eq!(ask(&mut b, &over("chain@1..3")), Err(Unanswerable::NotHeld(1)));
		assert_eq!(ask(&mut b, &over("chain@2..3")), Ok(b"COUNT(*)\tSUM(amount)\n2\t14\n".to_vec()));
		drop(store);
		for suffix in ["", "-wal", "-shm"] {
			let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
		}
	}
}
