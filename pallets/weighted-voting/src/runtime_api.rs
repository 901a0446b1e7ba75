//! `WeightedVotingApi`: what validators' workers and clients read about claims
//! (polkadot.js: `api.call.weightedVotingApi.*`).

use crate::{Claim, VoteMode};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use loopx_primitives::{ClaimClass, ClaimId, Decision, Verdict};
use scale_info::TypeInfo;
use sp_core::H256;

/// Where a claim's vote stands.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
pub enum Phase {
	/// Votes are committed.
	Commit,
	/// Committed votes are revealed.
	Reveal,
	/// The reveal period is over; the tally runs in a coming block.
	AwaitingTally,
}

/// An open claim a validator is in the electorate of, with what it has done so far.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct VotableClaim<BlockNumber> {
	/// The claim.
	pub claim: ClaimId,
	/// Its class.
	pub class: ClaimClass,
	/// What it is about.
	pub subject: H256,
	/// The claimant's commitment.
	pub commitment: H256,
	/// Score mode: the claimed score (a sealed one only once the claimant revealed it, after
	/// the commit period).
	pub claimed_score: Option<u32>,
	/// Binary or score votes.
	pub mode: VoteMode,
	/// The current phase.
	pub phase: Phase,
	/// First block without commits.
	pub commit_end: BlockNumber,
	/// First block without reveals.
	pub reveal_end: BlockNumber,
	/// The validator's frozen weight.
	pub weight: u128,
	/// Whether it committed.
	pub committed: bool,
	/// Whether it revealed.
	pub revealed: bool,
	/// Whether it is suspended now (it cannot commit).
	pub suspended: bool,
}

/// A claim's tally: running while it is open (weights of what was revealed so far), with the
/// decision once it is decided (the electorate is gone then; the decision carries the weights).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct TallyInfo {
	/// Size of the electorate.
	pub voters: u32,
	/// Its total weight.
	pub eligible_weight: u128,
	/// Ballots committed.
	pub committed: u32,
	/// Ballots revealed.
	pub revealed: u32,
	/// Revealed `Valid` weight.
	pub valid_weight: u128,
	/// Revealed `Invalid` weight.
	pub invalid_weight: u128,
	/// Revealed score weight.
	pub score_weight: u128,
	/// The decision, once tallied.
	pub decision: Option<Decision>,
}

sp_api::decl_runtime_apis! {
	/// Claims, electorates and tallies of the weighted vote.
	pub trait WeightedVotingApi<AccountId, BlockNumber>
	where
		AccountId: Codec,
		BlockNumber: Codec,
	{
		/// The open claims `who` is in the electorate of, with its progress on each.
		fn claims_for_voter(who: AccountId) -> Vec<VotableClaim<BlockNumber>>;
		/// A claim (open or recently decided).
		fn claim(id: ClaimId) -> Option<Claim<AccountId, BlockNumber>>;
		/// A claim's tally.
		fn tally(id: ClaimId) -> Option<TallyInfo>;
		/// The commitment to publish with `commit_vote` for this vote.
		fn vote_commitment(claim: ClaimId, voter: AccountId, verdict: Verdict, salt: [u8; 32]) -> H256;
		/// The seal a claimant puts on a claimed score (`submit_update`'s `sealed_metric`).
		fn score_seal(claimant: AccountId, score: u32, salt: [u8; 32]) -> H256;
		/// The claims of `claimant` whose sealed score it must reveal now (reveal period
		/// running, score not revealed yet).
		fn scores_to_reveal(claimant: AccountId) -> Vec<ClaimId>;
	}
}
