//! The vote worker: for each open claim this validator is in the electorate of, work out the
//! verdict itself, commit to it, and reveal it in the reveal phase (weighted voting's
//! commit–reveal).
//!
//! Verdicts:
//! - `QueryResult` claims (a disputed compute-market answer): the worker answers the query
//!   itself and votes `Valid` when the revealed answer the claim commits to agrees with its own
//!   (`loopx_primitives::answers::answers_agree`: SQL byte for byte, inference outputs within
//!   0.001), `Invalid` otherwise; it abstains (`Verdict::Abstain`, counted for nothing) when it
//!   cannot answer (a dataset it does not hold).
//! - `ModelUpdate` claims: the score of the claimed model on the task's evaluation set, worked
//!   out by the learning worker ([`Learning::update_verdict`]) once it has fetched the model;
//!   the claim is accepted when the voters' median score is within the class tolerance of the
//!   claimed metric. A model still not fetched three blocks before the commit period ends
//!   scores nothing: a claimant that never serves its payload is rejected and slashed.
//!
//! - `DataDispute` claims: the deal worker's verdict ([`crate::deals::DealWorker::judge_disputes`]):
//!   the ciphertext the buyer received, opened with the revealed deal key and checked against
//!   the offer's commitment; one no peer serves by the end of the commit period is `Invalid`.
//!
//! On evaluation-score claims it abstains (not built yet). A drawn voter that
//! casts nothing loses reputation; one that abstains does not.
//!
//! The votes cast at one block travel together: one `commit_votes` and one `reveal_votes`
//! transaction, so a validator drawn for many claims pays one transaction a block, not one a
//! claim.
//!
//! Claims opened in the same blocks get different numbers on different forks, so everything
//! the worker remembers is keyed by the claim's identity ([`ClaimKey`]: number, subject and
//! the claimant's commitment), and a commit names the claim's commitment, which the runtime
//! checks: a verdict worked out for claim #N on a retracted fork is never cast for the other
//! claim #N of the winning fork.

use std::collections::BTreeMap;

use loopx_primitives::{ClaimClass, ClaimId};
use loopx_runtime::{opaque::Block, Balance};
use loopx_worker_api::{Verdict, VoteCommit, VoteReveal, WorkerAction};
use pallet_compute_market::runtime_api::ComputeMarketApi;
use pallet_weighted_voting::runtime_api::{Phase, VotableClaim, WeightedVotingApi};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;

/// Blocks before the end of a claim's commit period from which a payload still not fetched (a
/// claimed model, a disputed delivery) counts as never served (room for the commit to be
/// included in time). Serving it is the claimant's job.
pub const LAST_CHANCE_BLOCKS: u32 = 3;

use crate::{
	answers::Answerer,
	chain::WorkerRuntimeApis,
	learning::Learning,
	outbox::{At, Outbox},
	secret::vote_salt,
	LOG_TARGET,
};

/// A claim as the worker knows it: its number and what it is (a number alone can name other
/// claims on other forks).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct ClaimKey {
	id: ClaimId,
	subject: H256,
	commitment: H256,
}

impl ClaimKey {
	fn of(claim: &VotableClaim<u32>) -> Self {
		Self { id: claim.claim, subject: claim.subject, commitment: claim.commitment }
	}
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
	Commit(ClaimKey),
	Reveal(ClaimKey),
}

/// A vote to send at this block.
enum Cast {
	Commit(Step, VoteCommit),
	Reveal(Step, VoteReveal),
}

/// Most votes of one kind in one transaction: the runtime's `weightedVoting.MaxVotesPerCall`
/// (a larger batch would be refused as a whole; more votes go in a second transaction).
fn votes_per_transaction() -> usize {
	use sp_core::Get;
	<<loopx_runtime::Runtime as pallet_weighted_voting::Config>::MaxVotesPerCall as Get<u32>>::get().max(1) as usize
}

/// The vote worker's memory between blocks.
pub struct VoteWorker {
	answerer: Answerer,
	secret: [u8; 32],
	/// Verdicts worked out, by claim.
	verdicts: BTreeMap<ClaimKey, Verdict>,
	outbox: Outbox<Step>,
}

impl VoteWorker {
	/// A worker answering disputed queries from `answerer`, salting with `secret`.
	pub fn new(answerer: Answerer, secret: [u8; 32]) -> Self {
		Self { answerer, secret, verdicts: BTreeMap::new(), outbox: Outbox::default() }
	}

	/// One pass at a new best block. `fetched`: the learning worker has tried this block's
	/// fetches already, so a model still missing at its last chance counts as never served;
	/// before that (the early pass) it is only not scored yet.
	pub fn on_block<C, P>(&mut self, at: &At<'_, C, P>, learning: &mut Learning, disputes: &BTreeMap<(ClaimId, H256), Verdict>, fetched: bool)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let claims = match at.chain.client.runtime_api().claims_for_voter(at.hash, at.me.clone()) {
			Ok(c) => c,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the claims to vote on: {e}"),
		};
		let open: Vec<ClaimKey> = claims.iter().map(ClaimKey::of).collect();
		self.verdicts.retain(|key, _| open.contains(key));
		self.outbox.retain(at.now, |step| match step {
			Step::Commit(key) | Step::Reveal(key) => open.contains(key),
		});
		let (mut commits, mut reveals) = (Vec::new(), Vec::new());
		for claim in claims {
			match self.on_claim(at, claim, learning, disputes, fetched) {
				Some(Cast::Commit(step, vote)) => commits.push((step, vote)),
				Some(Cast::Reveal(step, vote)) => reveals.push((step, vote)),
				None => {},
			}
		}
		// One transaction per kind and block, however many claims this validator was drawn for.
		self.send_batches(at, commits, "commit_votes", |votes| WorkerAction::CommitVotes { votes });
		self.send_batches(at, reveals, "reveal_votes", |votes| WorkerAction::RevealVotes { votes });
	}

	/// Sends `casts` in batches of at most the runtime's `MaxVotesPerCall`, counted under `call`.
	fn send_batches<C, P, V: Clone>(
		&mut self,
		at: &At<'_, C, P>,
		casts: Vec<(Step, V)>,
		call: &'static str,
		batch: fn(Vec<V>) -> WorkerAction<Balance>,
	) where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		for chunk in casts.chunks(votes_per_transaction()) {
			let steps: Vec<Step> = chunk.iter().map(|(step, _)| *step).collect();
			let votes = chunk.iter().map(|(_, vote)| vote.clone()).collect();
			self.outbox.send_for(at, &steps, call, batch(votes));
		}
	}

	/// This node's verdict on `claim`, worked out once; `None` while it cannot be worked out
	/// yet (a model not fetched yet is tried again at the next block).
	fn verdict<C, P>(
		&mut self,
		at: &At<'_, C, P>,
		claim: &VotableClaim<u32>,
		learning: &mut Learning,
		disputes: &BTreeMap<(ClaimId, H256), Verdict>,
		fetched: bool,
	) -> Option<Verdict>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let key = ClaimKey::of(claim);
		if let Some(v) = self.verdicts.get(&key) {
			return Some(*v);
		}
		let verdict = match claim.class {
			ClaimClass::QueryResult => self.query_verdict(at, claim, learning, fetched)?,
			ClaimClass::ModelUpdate => {
				let last_chance = fetched && claim.phase == Phase::Commit && at.now.saturating_add(LAST_CHANCE_BLOCKS) >= claim.commit_end;
				learning.update_verdict(at, claim.claim, last_chance)?
			},
			// Worked out by the deal worker, which fetches and opens the disputed payload.
			ClaimClass::DataDispute => *disputes.get(&(claim.claim, claim.commitment))?,
			ClaimClass::EvaluationScore => Verdict::Abstain,
		};
		self.verdicts.insert(key, verdict);
		Some(verdict)
	}

	/// `None` for an inference query in the early pass: the model version it names may start
	/// being served only in this block's learning pass.
	fn query_verdict<C, P>(&mut self, at: &At<'_, C, P>, claim: &VotableClaim<u32>, learning: &mut Learning, fetched: bool) -> Option<Verdict>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let id = claim.claim;
		let (query, answerer, kind, claimed) = match at.chain.client.runtime_api().disputed_answer(at.hash, id) {
			Ok(Some(found)) => found,
			Ok(None) => {
				log::warn!(target: LOG_TARGET, "claim {id}: no disputed answer behind it; abstaining");
				return Some(Verdict::Abstain);
			},
			Err(e) => {
				log::warn!(target: LOG_TARGET, "claim {id}: cannot read the disputed answer: {e}; abstaining");
				return Some(Verdict::Abstain);
			},
		};
		let inference = matches!(kind, pallet_compute_market::QueryKind::Inference { .. });
		if inference && !fetched {
			return None;
		}
		let started = std::time::Instant::now();
		let mine = match crate::queries::answer(&mut self.answerer, learning, at, &kind) {
			Ok(bytes) => bytes,
			// Block not indexed yet: asked again at the next block.
			Err(why) if why.passing() => return None,
			Err(why) => {
				log::info!(target: LOG_TARGET, "claim {id} (query {query}): cannot answer it here ({why:?}); abstaining");
				return Some(Verdict::Abstain);
			},
		};
		at.metrics.evaluated(started.elapsed());
		// The claim commits to the revealed answer; that answer must agree with mine (byte for
		// byte for SQL, within the stated tolerance for inference outputs).
		let genuine = H256(sp_crypto_hashing::blake2_256(&claimed)) == claim.commitment;
		let agrees = genuine && loopx_primitives::answers::answers_agree(inference, &mine, &claimed);
		let verdict = if agrees { Verdict::Valid } else { Verdict::Invalid };
		log::info!(target: LOG_TARGET, "⚖️ claim {id}: {answerer}'s answer to query {query} is {verdict:?} by my own answer");
		Some(verdict)
	}

	/// The vote this node casts on `claim` at this block, if any (sent by [`Self::on_block`]).
	fn on_claim<C, P>(
		&mut self,
		at: &At<'_, C, P>,
		claim: VotableClaim<u32>,
		learning: &mut Learning,
		disputes: &BTreeMap<(ClaimId, H256), Verdict>,
		fetched: bool,
	) -> Option<Cast>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let (id, key) = (claim.claim, ClaimKey::of(&claim));
		let wants_commit = claim.phase == Phase::Commit && !claim.committed && !claim.suspended;
		let wants_reveal = claim.phase == Phase::Reveal && claim.committed && !claim.revealed;
		let step = if wants_commit { Step::Commit(key) } else { Step::Reveal(key) };
		if !(wants_commit || wants_reveal) || !self.outbox.may_send(step, at.now) {
			return None;
		}
		let verdict = self.verdict(at, &claim, learning, disputes, fetched)?;
		let salt = vote_salt(&self.secret, id, &claim.commitment, claim.commit_end);
		if wants_commit {
			let api = at.chain.client.runtime_api();
			let commitment = match api.vote_commitment(at.hash, id, at.me.clone(), verdict, salt) {
				Ok(c) => c,
				Err(e) => {
					log::warn!(target: LOG_TARGET, "cannot compute the vote commitment of claim {id}: {e}");
					return None;
				},
			};
			log::info!(target: LOG_TARGET, "🗳️ claim {id}: committing a vote");
			Some(Cast::Commit(step, VoteCommit { claim: id, claim_commitment: claim.commitment, commitment }))
		} else {
			log::info!(target: LOG_TARGET, "🗳️ claim {id}: revealing {verdict:?}");
			Some(Cast::Reveal(step, VoteReveal { claim: id, verdict, salt }))
		}
	}
}
