//! The compute-market worker: advertise the datasets held, then for every query assigned to
//! this validator compute the answer, commit to it, and reveal it once reveals are open.
//!
//! Decided afresh at every best block from the chain state, so a restarted node picks up where
//! it was: the salt comes from the stored secret and the answer is recomputed identically.

use std::collections::BTreeMap;

use loopx_runtime::{opaque::Block, Balance, BlockNumber};
use loopx_worker_api::WorkerAction;
use pallet_compute_market::runtime_api::{AssignedQuery, ComputeMarketApi};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;

use crate::{
	answers::{Answerer, Unanswerable},
	chain::WorkerRuntimeApis,
	outbox::{At, Outbox},
	secret::answer_salt,
	Faults, Metrics, LOG_TARGET,
};

/// What an action was for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
	Advertise,
	Commit(u64),
	Reveal(u64),
}

/// The compute-market worker's memory between blocks.
pub struct QueryWorker {
	answerer: Answerer,
	secret: [u8; 32],
	price: Balance,
	faults: Faults,
	/// Results computed, by query.
	results: BTreeMap<u64, Result<Vec<u8>, Unanswerable>>,
	outbox: Outbox<Step>,
}

impl QueryWorker {
	/// A worker answering from `answerer`, salting with `secret`, asking `price` a query.
	pub fn new(answerer: Answerer, secret: [u8; 32], price: Balance, faults: Faults) -> Self {
		Self { answerer, secret, price, faults, results: BTreeMap::new(), outbox: Outbox::default() }
	}

	/// One pass at a new best block.
	pub fn on_block<C, P>(&mut self, at: &At<'_, C, P>)
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
		let up_to_date = advertised.is_some_and(|c| c.tags == tags && c.price == self.price);
		if !up_to_date && self.outbox.may_send(Step::Advertise, at.now) {
			log::info!(target: LOG_TARGET, "📣 advertising datasets {:?} at {} a query", tags.iter().map(|t| String::from_utf8_lossy(t)).collect::<Vec<_>>(), self.price);
			let action = WorkerAction::Advertise { tags, models: vec![], price: self.price };
			self.outbox.send(at, Step::Advertise, "advertise", action);
		}

		let assigned = match api.assigned_queries(at.hash, at.me.clone()) {
			Ok(a) => a,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read assigned queries: {e}"),
		};
		// Forget what is no longer assigned (answered, expired, refunded).
		self.results.retain(|id, _| assigned.iter().any(|q| q.id == *id));
		self.outbox.retain(|step| match step {
			Step::Advertise => true,
			Step::Commit(id) | Step::Reveal(id) => assigned.iter().any(|q| q.id == *id),
		});
		for query in assigned {
			self.on_query(at, query);
		}
	}

	/// This node's result for `query`: computed once, forged when that fault is injected.
	fn result(&mut self, at_metrics: &Metrics, query: &AssignedQuery<BlockNumber>) -> Result<Vec<u8>, Unanswerable> {
		let id = query.id;
		if let Some(r) = self.results.get(&id) {
			return r.clone();
		}
		let started = std::time::Instant::now();
		let mut r = self.answerer.answer(&query.kind);
		at_metrics.answered(started.elapsed());
		match &r {
			Ok(bytes) => log::info!(target: LOG_TARGET, "🧮 query {id}: answer of {} bytes computed in {:?}", bytes.len(), started.elapsed()),
			Err(why) => log::warn!(target: LOG_TARGET, "query {id} assigned but not answerable here: {why:?}"),
		}
		if self.faults.forge_answers {
			if let Ok(bytes) = &mut r {
				log::warn!(target: LOG_TARGET, "🎭 FAULT INJECTION: forging the answer to query {id}");
				*bytes = crate::faults::forge(bytes);
			}
		}
		self.results.insert(id, r.clone());
		r
	}

	fn on_query<C, P>(&mut self, at: &At<'_, C, P>, query: AssignedQuery<BlockNumber>)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let id = query.id;
		let Ok(result) = self.result(at.metrics, &query) else { return };
		let salt = answer_salt(&self.secret, id);
		if !query.committed {
			if at.now > query.commit_end || !self.outbox.may_send(Step::Commit(id), at.now) {
				return;
			}
			let commitment = match at.chain.client.runtime_api().answer_commitment(at.hash, id, at.me.clone(), result, salt) {
				Ok(c) => c,
				Err(e) => return log::warn!(target: LOG_TARGET, "cannot compute the commitment of query {id}: {e}"),
			};
			log::info!(target: LOG_TARGET, "🔒 query {id}: committing to the answer");
			self.outbox.send(at, Step::Commit(id), "commit_answer", WorkerAction::CommitAnswer { query: id, commitment });
		} else if (query.all_committed || at.now > query.commit_end) && at.now <= query.deadline {
			if !self.outbox.may_send(Step::Reveal(id), at.now) {
				return;
			}
			log::info!(target: LOG_TARGET, "🔓 query {id}: revealing the answer");
			self.outbox.send(at, Step::Reveal(id), "reveal_answer", WorkerAction::RevealAnswer { query: id, result, salt });
		}
	}
}
