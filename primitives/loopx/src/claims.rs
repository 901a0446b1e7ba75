//! Claims and their verification by weighted commit–reveal votes.
//!
//! A market or the learning protocol never checks work itself: it opens a claim through
//! [`ClaimRegistry`] and reacts to the [`Decision`] delivered to its [`ClaimOutcome`] handler.
//! Who may vote, and with which weight, comes from a [`VoterSet`] (the staking pallet).

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::{DispatchError, Weight};

use crate::Reputation;

/// Identifies a claim; claims are numbered from 0 in the order they are opened.
pub type ClaimId = u64;

/// Session index (as in `sp_staking`).
pub type SessionIndex = u32;

/// What a claim is about. Each class has its own voting parameters.
///
/// Later pallets add classes at the end; indices never change.
#[derive(
	serde::Serialize,
	serde::Deserialize,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ClaimClass {
	/// A learning proof: a new model version reached a claimed metric on a task's evaluation set.
	#[codec(index = 0)]
	ModelUpdate,
	/// An answer to a computation-market query.
	#[codec(index = 1)]
	QueryResult,
	/// A market dispute: the delivered data does not match what was sold.
	#[codec(index = 2)]
	DataDispute,
	/// An evaluation score (score mode: voters report a number, the tally takes the median).
	#[codec(index = 3)]
	EvaluationScore,
	// Index 4 was a test-only class (removed in spec 125, weighted-voting storage v4): never
	// reuse it.
}

/// A voter's verdict on a claim.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Verdict {
	/// The claim holds.
	#[codec(index = 0)]
	Valid,
	/// The claim does not hold.
	#[codec(index = 1)]
	Invalid,
	/// A score, for score-mode classes (for example a metric in parts per million).
	#[codec(index = 2)]
	Score(u32),
	/// The voter cannot judge this claim (it does not hold the dataset, or the class is one its
	/// worker does not judge): the vote counts for nothing either way, towards neither the
	/// quorum nor the outcome, and earns nothing. Unlike a drawn voter that does not vote at
	/// all, an abstainer is not penalized.
	#[codec(index = 3)]
	Abstain,
}

/// One vote to commit: the arguments of `weightedVoting.commit_vote`, one item of
/// `weightedVoting.commit_votes`.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct VoteCommit {
	/// The claim voted on.
	pub claim: ClaimId,
	/// The commitment of the claim the vote was worked out for (numbers name other claims on
	/// other forks).
	pub claim_commitment: H256,
	/// `blake2_256(SCALE((claim, voter, verdict, salt)))`.
	pub commitment: H256,
}

/// One vote to reveal: the arguments of `weightedVoting.reveal_vote`, one item of
/// `weightedVoting.reveal_votes`.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct VoteReveal {
	/// The claim voted on.
	pub claim: ClaimId,
	/// The verdict committed.
	pub verdict: Verdict,
	/// The salt committed with it.
	pub salt: [u8; 32],
}

/// The result of a tally.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Outcome {
	/// Enough weight revealed and the approval threshold was met.
	#[codec(index = 0)]
	Accepted,
	/// Enough weight revealed and the approval threshold was not met.
	#[codec(index = 1)]
	Rejected,
	/// Too little of the eligible weight revealed: nothing is decided, nobody is slashed.
	#[codec(index = 2)]
	NoQuorum,
}

/// What the vote decided, as handed back to the pallet that opened the claim.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Decision {
	/// Accepted, rejected or no quorum.
	pub outcome: Outcome,
	/// Score mode: the stake-weighted median of the revealed scores (if any were revealed).
	pub score: Option<u32>,
	/// The weight that revealed.
	pub revealed_weight: u128,
	/// The part of the revealed weight that voted with the outcome.
	pub agreeing_weight: u128,
}

/// Eligibility thresholds of a claim: voters need at least this stake (backing) and reputation.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, Default, TypeInfo, MaxEncodedLen)]
pub struct Thresholds {
	/// Smallest backing (own bond plus delegations).
	pub min_stake: u128,
	/// Smallest reputation.
	pub min_reputation: Reputation,
}

impl Thresholds {
	/// Whether both thresholds lie between `loosest` and `strictest` (inclusive).
	pub fn within(&self, loosest: &Thresholds, strictest: &Thresholds) -> bool {
		(loosest.min_stake..=strictest.min_stake).contains(&self.min_stake)
			&& (loosest.min_reputation..=strictest.min_reputation).contains(&self.min_reputation)
	}
}

/// A score a claim must beat to earn its claimant anything (the metric of the model version
/// an update starts from).
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct ScoreBound {
	/// The score to beat.
	pub score: u32,
	/// Whether a higher score is better (accuracy, AUC) or a lower one (RMSE, log-loss).
	pub higher_is_better: bool,
}

impl ScoreBound {
	/// Whether `score` is strictly better than the bound.
	pub fn beaten_by(&self, score: u32) -> bool {
		if self.higher_is_better {
			score > self.score
		} else {
			score < self.score
		}
	}
}

/// What a pallet asks for when it opens a claim.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClaimRequest<AccountId> {
	/// The class (selects the voting parameters).
	pub class: ClaimClass,
	/// Who makes the claim; slashed if it is rejected.
	pub claimant: AccountId,
	/// What the claim is about (a task, a query, a deal), as the opening pallet identifies it.
	pub subject: H256,
	/// Hash of what is claimed (model hash and metric, answer, evidence).
	pub commitment: H256,
	/// Score mode: the score the claimant claims; the claim is accepted when the voters' median
	/// is within the class tolerance of it. `None` in binary mode or for pure evaluations.
	pub claimed_score: Option<u32>,
	/// Score mode, instead of `claimed_score`: a seal on the claimed score,
	/// `blake2_256(SCALE((claimant, score, salt)))` with a secret 32-byte salt. The claimant
	/// reveals the score once votes can no longer be committed, so that no voter can copy the
	/// claim instead of checking it; a claim whose score is never revealed is rejected.
	pub sealed_score: Option<H256>,
	/// Score mode: the voters' median must beat this for the claimant to gain reputation for
	/// an accepted claim (an update that leaves its model no better earns nothing, though its
	/// score was claimed truthfully).
	pub must_beat: Option<ScoreBound>,
	/// Thresholds for this claim instead of the class defaults; must lie within the class's
	/// bounds. The LoopX whitepaper lowers them for complex work and raises them for simple work.
	pub thresholds: Option<Thresholds>,
	/// Who may not vote on it besides the claimant: whoever gains from one verdict whatever the
	/// truth (the buyer of a disputed deal, the client of a disputed query, the builder of the
	/// task an update is for).
	pub conflicted: Vec<AccountId>,
	/// Rivals of the claimant in the same piece of work (the other answerers of a disputed
	/// query, the earlier trainers of a round): left out of the electorate whenever enough
	/// validators are left to decide the claim (`MinVotersWithoutRivals` of them eligible),
	/// kept in it otherwise — in a network where
	/// every validator answered, nobody else could judge. Markets pay rivals independently of
	/// each other's verdicts, so a rival that does vote gains nothing by a false verdict.
	pub rivals: Vec<AccountId>,
}

/// Opens claims for other pallets (there is no public extrinsic that opens a claim).
pub trait ClaimRegistry<AccountId> {
	/// Opens a claim and freezes its electorate; returns its id.
	fn open_claim(request: ClaimRequest<AccountId>) -> Result<ClaimId, DispatchError>;
	/// `who` became a rival of the claimant of open claim `claim` after it opened (it made a
	/// claim of its own on the same work, e.g. an update in the same round): it leaves the
	/// claim's electorate unless fewer than the minimum number of voters would be left.
	/// Returns whether it left. A claim still waiting in the queue keeps its electorate rules.
	fn exclude_rival(claim: ClaimId, who: &AccountId) -> bool;
}

/// Receives the decision on a claim that a pallet opened. Implemented by the markets; a tuple
/// of handlers calls each in turn (each ignores the classes it did not open).
pub trait ClaimOutcome<AccountId> {
	/// Called once per claim when its tally is done. Returns the weight it used.
	fn on_claim_decided(id: ClaimId, class: ClaimClass, claimant: &AccountId, subject: &H256, decision: &Decision) -> Weight;
	/// The most [`Self::on_claim_decided`] may use for a claim of `class` (the tally's hook
	/// checks it against its budget before it decides a claim).
	fn weight_bound(class: ClaimClass) -> Weight;
}

#[impl_trait_for_tuples::impl_for_tuples(8)]
impl<AccountId> ClaimOutcome<AccountId> for Tuple {
	fn on_claim_decided(id: ClaimId, class: ClaimClass, claimant: &AccountId, subject: &H256, decision: &Decision) -> Weight {
		let mut weight = Weight::zero();
		for_tuples!( #( weight = weight.saturating_add(Tuple::on_claim_decided(id, class, claimant, subject, decision)); )* );
		weight
	}

	fn weight_bound(class: ClaimClass) -> Weight {
		let mut weight = Weight::zero();
		for_tuples!( #( weight = weight.saturating_add(Tuple::weight_bound(class)); )* );
		weight
	}
}

/// A potential voter: an active validator with its backing and reputation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VoterInfo<AccountId> {
	/// The validator.
	pub who: AccountId,
	/// Own bond plus delegations.
	pub stake: u128,
	/// Current reputation.
	pub reputation: Reputation,
}

impl<AccountId> VoterInfo<AccountId> {
	/// Voting weight: [`crate::stake_weight`] (stake × (1,000,000 + reputation)).
	pub fn weight(&self) -> u128 {
		crate::stake_weight(self.stake, self.reputation)
	}
}

/// Who may vote now, and the session clock (suspensions are counted in sessions).
pub trait VoterSet<AccountId> {
	/// The session in progress.
	fn current_session() -> SessionIndex;
	/// The validators of the current session with their backing and reputation.
	fn voters() -> alloc::vec::Vec<VoterInfo<AccountId>>;
}

#[cfg(test)]
mod tests {
	use super::Thresholds;

	#[test]
	fn thresholds_within_is_inclusive_on_both_bounds() {
		let t = |min_stake, min_reputation| Thresholds { min_stake, min_reputation };
		let (lo, hi) = (t(10, 100), t(20, 200));
		assert!(t(10, 100).within(&lo, &hi));
		assert!(t(20, 200).within(&lo, &hi));
		assert!(t(15, 150).within(&lo, &hi));
		assert!(!t(9, 150).within(&lo, &hi));
		assert!(!t(21, 150).within(&lo, &hi));
		assert!(!t(15, 99).within(&lo, &hi));
		assert!(!t(15, 201).within(&lo, &hi));
	}
}
