//! Queries over the chain tables, run on a thread of their own: a whole-history aggregation
//! over millions of rows takes seconds, and the block loop (votes, answers) must not wait for
//! it. The block loop asks at every block; the first ask starts the statement, later ones
//! collect the result once it is there.

use std::{
	collections::{BTreeMap, BTreeSet},
	sync::{mpsc, Arc, Mutex},
};

use loopx_query_engine::{
	chain::{ChainQueryError, ChainReader},
	Limits,
};

use crate::{answers::error_answer, LOG_TARGET};

/// A statement over blocks `from..=to`: `(sql, from, to)`.
type Job = (String, u64, u64);

/// What became of a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
	/// The answer bytes (an `#error` answer for a statement that failed, alike on every node).
	Answer(Vec<u8>),
	/// The block is not indexed here yet.
	NotIndexed,
	/// The range's first block is no longer kept here.
	NotHeld,
}

/// The handle the block loop keeps.
pub struct ChainAnswers {
	jobs: mpsc::Sender<Job>,
	pending: BTreeSet<Job>,
	done: Arc<Mutex<BTreeMap<Job, Outcome>>>,
}

impl ChainAnswers {
	/// Starts the thread answering from `reader` within `limits`.
	pub fn start(mut reader: ChainReader, limits: Limits) -> std::io::Result<Self> {
		let (jobs, inbox) = mpsc::channel::<Job>();
		let done = Arc::new(Mutex::new(BTreeMap::new()));
		let results = done.clone();
		std::thread::Builder::new().name("loopx-chain-sql".into()).spawn(move || {
			for (sql, from, at) in inbox {
				let started = std::time::Instant::now();
				let outcome = match reader.run_range(&sql, from, at, &limits) {
					Ok(answer) => Outcome::Answer(answer.encode()),
					Err(ChainQueryError::Query(e)) => Outcome::Answer(error_answer(&e)),
					Err(ChainQueryError::NotIndexed { .. } | ChainQueryError::Building) => Outcome::NotIndexed,
					Err(ChainQueryError::NotHeld { .. }) => Outcome::NotHeld,
				};
				log::debug!(target: LOG_TARGET, "chain query over #{from}..=#{at} ran in {:?}", started.elapsed());
				results.lock().unwrap_or_else(|p| p.into_inner()).insert((sql, from, at), outcome);
			}
		})?;
		Ok(Self { jobs, pending: BTreeSet::new(), done })
	}

	/// The outcome of `sql` over blocks `from..=at` if it is ready, starting it if it is not
	/// running: `None` while it runs.
	pub fn ask(&mut self, sql: &str, from: u64, at: u64) -> Option<Outcome> {
		let job = (sql.to_string(), from, at);
		if let Some(outcome) = self.done.lock().unwrap_or_else(|p| p.into_inner()).remove(&job) {
			self.pending.remove(&job);
			return Some(outcome);
		}
		if self.pending.insert(job.clone()) && self.jobs.send(job.clone()).is_err() {
			// The thread is gone (it panicked): nothing will answer.
			self.pending.remove(&job);
			log::error!(target: LOG_TARGET, "the chain query thread stopped");
		}
		None
	}
}
