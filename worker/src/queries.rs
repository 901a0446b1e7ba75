//! The compute-market worker: advertise the datasets held and the model versions served, then
//! for every query assigned to this validator compute the answer (SQL over the datasets, or
//! inference with the learning worker's model), commit to it, and reveal it once reveals are
//! open.
//!
//! Decided afresh at every best block from the chain state, so a restarted node picks up where
//! it was: the salt comes from the stored secret and the answer is recomputed identically.
//!
//! Forks: a query's number can name different queries on different forks. What the worker
//! remembers is keyed by the query's identity ([`QueryKey`]: number and the hash of what it
//! asks), and a commit names that question, which the runtime checks: an answer worked out for
//! query #N on a retracted fork is never committed for the other query #N of the winning fork.

use std::collections::BTreeMap;

use loopx_runtime::{opaque::Block, Balance, BlockNumber};
use loopx_worker_api::WorkerAction;
use pallet_compute_market::{
	question_hash,
	runtime_api::{AssignedQuery, ComputeMarketApi},
	KindInput,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

use crate::{
	answers::{Answerer, Unanswerable},
	chain::WorkerRuntimeApis,
	learning::Learning,
	outbox::{At, Outbox},
	secret::answer_salt,
	Faults, LOG_TARGET,
};

/// A query as it is on one fork: its number and the hash of what it asks.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct QueryKey {
	id: u64,
	question: H256,
}

impl QueryKey {
	fn of(query: &AssignedQuery<BlockNumber>) -> Self {
		Self { id: query.id, question: question_hash(&query.kind) }
	}
}

/// What an action was for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
	Advertise,
	Commit(QueryKey),
	Reveal(QueryKey),
}

/// The compute-market worker's memory between blocks.
pub struct QueryWorker {
	answerer: Answerer,
	secret: [u8; 32],
	price: Balance,
	faults: Faults,
	/// Results computed, by query.
	results: BTreeMap<QueryKey, Result<Vec<u8>, Unanswerable>>,
	outbox: Outbox<Step>,
}

impl QueryWorker {
	/// A worker answering from `answerer`, salting with `secret`, asking `price` a query.
	pub fn new(answerer: Answerer, secret: [u8; 32], price: Balance, faults: Faults) -> Self {
		Self { answerer, secret, price, faults, results: BTreeMap::new(), outbox: Outbox::default() }
	}

	/// One pass at a new best block.
	pub fn on_block<C, P>(&mut self, at: &At<'_, C, P>, learning: &mut Learning)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let advertised = match api.capabilities(at.hash, at.me.clone()) {
			Ok(c) => c,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read capabilities: {e}"),
		};
		let tags = self.answerer.tags();
		let models = learning.served().to_vec();
		let up_to_date = advertised.is_some_and(|c| c.tags == tags && c.models.as_slice() == models.as_slice() && c.price == self.price);
		if !up_to_date && self.outbox.may_send(Step::Advertise, at.now) {
			log::info!(
				target: LOG_TARGET,
				"📣 advertising datasets {:?} and models {models:?} at {} a query",
				tags.iter().map(|t| String::from_utf8_lossy(t)).collect::<Vec<_>>(),
				self.price
			);
			let action = WorkerAction::Advertise { tags, models, price: self.price };
			self.outbox.send(at, Step::Advertise, "advertise", action);
		}

		let assigned = match api.assigned_queries(at.hash, at.me.clone()) {
			Ok(a) => a,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read assigned queries: {e}"),
		};
		// Forget what is no longer assigned (answered, expired, refunded, or on another fork).
		let keys: Vec<QueryKey> = assigned.iter().map(QueryKey::of).collect();
		self.results.retain(|key, _| keys.contains(key));
		self.outbox.retain(at.now, |step| match step {
			Step::Advertise => true,
			Step::Commit(key) | Step::Reveal(key) => keys.contains(key),
		});
		for query in assigned {
			self.on_query(at, query, learning);
		}
	}

	/// This node's result for `query`: computed once, forged when that fault is injected.
	fn result<C, P>(&mut self, at: &At<'_, C, P>, query: &AssignedQuery<BlockNumber>, learning: &mut Learning) -> Result<Vec<u8>, Unanswerable>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let (key, id) = (QueryKey::of(query), query.id);
		if let Some(r) = self.results.get(&key) {
			return r.clone();
		}
		let started = std::time::Instant::now();
		let mut r = answer(&mut self.answerer, learning, at, &query.kind);
		at.metrics.answered(started.elapsed());
		match &r {
			Ok(bytes) => log::info!(target: LOG_TARGET, "🧮 query {id}: answer of {} bytes computed in {:?}", bytes.len(), started.elapsed()),
			Err(why) if why.passing() => log::debug!(target: LOG_TARGET, "query {id}: {why:?}; asked again at the next block"),
			Err(why) => log::warn!(target: LOG_TARGET, "query {id} assigned but not answerable here: {why:?}"),
		}
		if self.faults.forge_answers {
			if let Ok(bytes) = &mut r {
				log::warn!(target: LOG_TARGET, "🎭 FAULT INJECTION: forging the answer to query {id}");
				*bytes = crate::faults::forge(bytes);
			}
		}
		// A chain block not indexed yet is asked again at the next block.
		if !matches!(&r, Err(why) if why.passing()) {
			self.results.insert(key, r.clone());
		}
		r
	}

	fn on_query<C, P>(&mut self, at: &At<'_, C, P>, query: AssignedQuery<BlockNumber>, learning: &mut Learning)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let (key, id) = (QueryKey::of(&query), query.id);
		let Ok(result) = self.result(at, &query, learning) else { return };
		let salt = answer_salt(&self.secret, id, &key.question);
		if !query.committed {
			if at.now > query.commit_end || !self.outbox.may_send(Step::Commit(key), at.now) {
				return;
			}
			let commitment = match at.chain.client.runtime_api().answer_commitment(at.hash, id, at.me.clone(), result, salt) {
				Ok(c) => c,
				Err(e) => return log::warn!(target: LOG_TARGET, "cannot compute the commitment of query {id}: {e}"),
			};
			log::info!(target: LOG_TARGET, "🔒 query {id}: committing to the answer");
			let action = WorkerAction::CommitAnswer { query: id, question: key.question, commitment };
			self.outbox.send(at, Step::Commit(key), "commit_answer", action);
		} else if (query.all_committed || at.now > query.commit_end) && at.now <= query.deadline {
			if !self.outbox.may_send(Step::Reveal(key), at.now) {
				return;
			}
			log::info!(target: LOG_TARGET, "🔓 query {id}: revealing the answer");
			self.outbox.send(at, Step::Reveal(key), "reveal_answer", WorkerAction::RevealAnswer { query: id, result, salt });
		}
	}
}

/// This node's answer to a query of `kind`: SQL from the datasets, inference from the learning
/// worker's models. Also what a voter on a disputed answer compares with.
pub fn answer<C, P>(answerer: &mut Answerer, learning: &mut Learning, at: &At<'_, C, P>, kind: &KindInput) -> Result<Vec<u8>, Unanswerable>
where
	C: ProvideRuntimeApi<Block> + Send + Sync,
	C::Api: WorkerRuntimeApis,
	P: TransactionPool<Block = Block>,
{
	match kind {
		KindInput::Inference { model, version, input } => learning.infer(at, *model, *version, input),
		_ => answerer.answer(kind),
	}
}
