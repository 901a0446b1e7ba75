//! What this validator answers to a compute-market query. Aggregation SQL runs in the embedded
//! read-only SQLite of `loopx-query-engine` over the tables of the query's dataset tag.
//!
//! A statement the engine refuses or that fails is answered too, with the error's kind as the
//! result (`#error\t<kind>\t<detail>`, [`QueryError::code`]): the engine's limits are counted,
//! not timed, and its functions deterministic, so honest validators on the same rows fail the
//! same way and still agree; staying silent would be penalised as a missed answer.

use std::collections::BTreeMap;

use loopx_query_engine::{Engine, Limits, QueryError};
use pallet_compute_market::KindInput;

/// The runtime's `MaxResultLen`: an answer must fit it.
pub const MAX_RESULT_BYTES: usize = loopx_primitives::limits::MAX_RESULT_BYTES as usize;

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
}

/// The datasets this validator holds and the engines over them.
pub struct Answerer {
	engines: BTreeMap<Vec<u8>, Engine>,
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
		Ok(Self { engines, limits })
	}

	/// The dataset tags held.
	pub fn tags(&self) -> Vec<Vec<u8>> {
		self.engines.keys().cloned().collect()
	}

	/// The result bytes for `kind`.
	pub fn answer(&mut self, kind: &KindInput) -> Result<Vec<u8>, Unanswerable> {
		match kind {
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
fn error_answer(e: &QueryError) -> Vec<u8> {
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
}
