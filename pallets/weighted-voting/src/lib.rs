//! # Weighted voting pallet
//!
//! One verification mechanism for every claim in LoopX: learning proofs, query answers, market
//! disputes and evaluation scores. Other pallets open a **claim** through [`ClaimRegistry`]
//! (there is no public extrinsic for it); the active validators vote on it with commit–reveal,
//! weighted by stake × reputation; the tally goes back to the opening pallet through
//! [`ClaimOutcome`], and this pallet applies the consequences: slashing and reputation for the
//! claimant, reputation, contribution points and suspensions for the voters.
//!
//! ## Overview
//!
//! - **Classes** ([`ClaimClass`]) each have [`ClassParams`]: vote mode (binary or score),
//!   eligibility thresholds and the bounds an opening pallet may move them within, commit and
//!   reveal periods, quorum, approval threshold, score tolerance and the claimant's slash. Root
//!   sets them with [`Pallet::set_class_params`].
//! - **Opening** freezes the electorate: the current validators that meet the claim's
//!   thresholds, are not suspended and are neither the claimant nor named conflicted by the
//!   opening pallet (`ClaimRequest::conflicted`) — nor its rivals (`ClaimRequest::rivals`,
//!   the other answerers of a disputed query, a round's earlier trainers) unless leaving them
//!   out would leave fewer than [`Config::MinVotersWithoutRivals`] eligible; a voter that becomes a rival
//!   later leaves then, on the same condition (`ClaimRegistry::exclude_rival`,
//!   [`Event::RivalExcluded`]) — each with weight `stake × reputation`
//!   (linear in stake, so splitting a stake adds no weight), at most [`Config::MaxVoters`] of
//!   them (the heaviest); the heaviest are then cut to [`Config::MaxVoterShare`] of the claim's
//!   weight ([`tally::cap_weights`]). At most [`Config::MaxOpenPerClass`] claims of one class
//!   are open at once (and [`Config::MaxOpenClaims`] in all); a claim that finds no slot waits
//!   in a queue of [`Config::MaxQueuedClaims`] (`ClaimQueued`) and opens, oldest first, when
//!   a slot frees up, its electorate drawn then. Only a claim that finds the queue full too is
//!   refused.
//! - **Voting**: [`Pallet::commit_vote`] with `blake2_256(SCALE(claim, voter, verdict, salt))`
//!   during the commit period, then [`Pallet::reveal_vote`] during the reveal period. A commit
//!   also names the claim's own commitment, so that after a reorganisation it cannot land on
//!   another claim that got the same number on the winning fork.
//!   [`Pallet::commit_votes`] and [`Pallet::reveal_votes`] carry up to
//!   [`Config::MaxVotesPerCall`] votes on different claims in one transaction, each applied
//!   or failed ([`Event::VoteFailed`]) on its own. Ballots are stored per `(claim, voter)`
//!   ([`Ballots`]): a vote costs the same whatever the size of the electorate.
//! - **Tally** in `on_initialize`: claims whose reveal period ended are tallied, earliest
//!   deadline first ([`Deadlines`], one key per claim), while their worst case
//!   ([`Pallet::tally_bound`]: the tally for the claim's electorate, the market's handler, a
//!   larger committee drawn) fits in what is left of [`Config::TallyBudget`] this block; the
//!   rest wait at their deadline and the next block resumes there ([`TallyIncompleteSince`],
//!   `TalliesCarriedOver`). Queued claims open from what is left of the same budget, and
//!   decided claims past [`Config::DecidedRetention`] are pruned with their ballots from what
//!   is left after that (at least two a block) and from the block's idle weight (`on_idle`): a
//!   tally reads its ballots and leaves them to the pruning. Open claims and deadlines have a key per claim: opening or
//!   deciding one costs the same however many are open. What a block's tallies owe each voter
//!   (reputation, verification points) is summed and written once a voter when they end
//!   ([`settlement`]), each admission reserving the settlement of all its voters.
//!   - No quorum if the revealed weight is below `quorum × eligible` (rounded up) or fewer
//!     than [`Config::MinVoters`] voters revealed.
//!   - Binary: accepted when the `Valid` weight is strictly more than `approval × revealed`.
//!   - Score: the outcome carries the stake-weighted median of the scores; a claimed score
//!     further than `tolerance` from it is rejected (DIN's median scoring).
//! - **Consequences**: a rejected claimant is slashed by the class's fraction and loses
//!   [`Config::ClaimantPenalty`] reputation (an accepted one gains [`Config::ClaimantReward`],
//!   unless the opener named a score the median must beat — `ClaimRequest::must_beat`, for an
//!   update that leaves its model no better — and it does not);
//!   voters with the outcome gain [`Config::VoterReward`] reputation and
//!   [`Config::VotePoints`] verification points; voters against it (or, in score mode, further
//!   than the tolerance from the median) lose [`Config::VoterPenalty`], and after
//!   [`Config::DivergenceLimit`] such votes in a row are suspended for t, 2t, 4t… sessions
//!   (t = [`Config::SuspensionBase`]); committed votes never revealed lose
//!   [`Config::MissedRevealPenalty`], and drawn voters that never committed lose
//!   [`Config::AbsentPenalty`]. A voter that cannot judge a claim reveals `Verdict::Abstain`:
//!   it counts towards neither the quorum nor the outcome, and nothing happens to the voter.
//!   Verification points and reputation go only to voters that revealed a verdict agreeing
//!   with the outcome.
//!
//! ## Worked example
//!
//! Three validators (the local network had three before Dave joined it; with four,
//! `e2e/tests/voting-rewards.test.mjs` runs the same story). The `DataDispute` class is set to:
//! binary, thresholds min stake 0 and min reputation 100,000, commit and reveal periods of 10
//! blocks, quorum 50 %, approval 50 %, slash 10 %. The runtime sets voter reward 1,000
//! reputation, voter penalty 5,000, claimant penalty 50,000 and 10 verification points per
//! agreeing vote.
//!
//! 1. Block n: Dave (bonded 100 LPX) sold data that the buyer, Eve, disputes with the deal key:
//!    the data market opens a claim with Dave, who stands by his delivery, as its claimant (a
//!    rejected claim also refunds Eve and pays her Dave's seller bond). The electorate is frozen: Alice, Bob and Charlie back 10,000, 20,000
//!    and 50,000 LPX with reputation 500,000, so their weights are 5·10²¹, 10²² and 2.5·10²²
//!    (stake in 10⁻¹² LPX × reputation). Charlie's 62.5 % is cut to the 40 % a voter may hold:
//!    10²², so that 10²² = 40 % of the eligible weight 2.5·10²². Commits until block n + 10,
//!    reveals until n + 20.
//! 2. Each commits `blake2_256(SCALE((claim, account, verdict, salt)))`: Alice and Charlie
//!    `Invalid`, Bob `Valid`; then each reveals its verdict and salt.
//! 3. Block n + 20, `on_initialize`: revealed weight 2.5·10²² ≥ 50 % quorum, three voters ≥ 2;
//!    the `Valid` weight 10²² is not more than 50 % of it, so the claim is **Rejected**
//!    (agreeing weight 1.5·10²²).
//! 4. Consequences: Dave's bond is slashed by 10 % (100 → 90 LPX, to the treasury) and his
//!    reputation falls by the staking pallet's slash penalty (100,000) and the claimant penalty
//!    (50,000): 500,000 → 350,000. Alice and Charlie gain 1,000 reputation and 10 verification
//!    points each; Bob loses 5,000 reputation and gets a strike (three in a row suspend him for 2
//!    sessions, then 4, then 8…).
//! 5. At the end of the era (one session on the local network) `pallet-rewards` gives the
//!    verification category 15 % of the pot's unallocated funds; Alice and Charlie, with 10 of the
//!    20 points each, can each claim half of it, next to their block-authoring share.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod electorate;
pub mod migrations;
pub mod runtime_api;
#[cfg(test)]
mod scale_sim;
pub mod settlement;
pub mod tally;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{pallet_prelude::*, weights::WeightMeter, BoundedVec};
use frame_system::pallet_prelude::*;
use loopx_primitives::{
	claims::SessionIndex, ClaimClass, ClaimId, ClaimOutcome, ClaimRegistry, ClaimRequest, ContributionSink, Decision, Outcome, Reputation,
	ReputationHandler, ReputationReason, ScoreBound, SlashReason, Slashing, Thresholds, Verdict, VoterSet,
};
use scale_info::TypeInfo;
use settlement::Settlements;
use sp_core::H256;
use sp_runtime::{
	traits::{BlakeTwo256, Hash, One, Saturating, Zero},
	Perbill,
};

pub use loopx_primitives::{VoteCommit, VoteReveal};
pub use pallet::*;
pub use tally::{Rules, Standing};
pub use weights::WeightInfo;

/// Binary (valid / invalid) or score votes.
#[derive(serde::Serialize, serde::Deserialize, Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum VoteMode {
	/// Voters say `Valid` or `Invalid`.
	#[codec(index = 0)]
	Binary,
	/// Voters report a `Score`; the tally takes the stake-weighted median.
	#[codec(index = 1)]
	Score,
}

/// The voting parameters of a claim class.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct ClassParams<BlockNumber> {
	/// Binary or score mode.
	pub mode: VoteMode,
	/// Default eligibility thresholds.
	pub thresholds: Thresholds,
	/// The lowest thresholds an opening pallet may ask for.
	pub loosest: Thresholds,
	/// The highest thresholds an opening pallet may ask for.
	pub strictest: Thresholds,
	/// Blocks during which votes are committed.
	pub commit_period: BlockNumber,
	/// Blocks during which committed votes are revealed.
	pub reveal_period: BlockNumber,
	/// Share of the eligible weight that must reveal for a decision.
	pub quorum: Perbill,
	/// Binary mode: accepted when the `Valid` weight is strictly more than this share of the
	/// revealed weight (below 100 %).
	pub approval: Perbill,
	/// Score mode: largest distance from the median that still agrees.
	pub tolerance: u32,
	/// Share of a rejected claimant's bond that is slashed.
	pub slash: Perbill,
}

/// One voter's place in a claim's electorate.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Ballot<AccountId> {
	/// The voter.
	pub who: AccountId,
	/// Its weight, frozen when the claim opened.
	pub weight: u128,
	/// Its commitment, once committed.
	pub commitment: Option<H256>,
	/// Its verdict, once revealed.
	pub verdict: Option<Verdict>,
}

/// A ballot as [`Ballots`] keeps it: the voter is the key.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct BallotEntry {
	/// The voter's weight, frozen when the claim opened.
	pub weight: u128,
	/// Its commitment, once committed.
	pub commitment: Option<H256>,
	/// Its verdict, once revealed.
	pub verdict: Option<Verdict>,
}

/// Where a claim is in its life.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum ClaimStatus<BlockNumber> {
	/// Commit or reveal period running (or waiting in the tally queue).
	Voting,
	/// Tallied in block `at`.
	Decided { decision: Decision, at: BlockNumber },
	/// Waiting for a slot ([`ClaimQueue`]): no electorate yet, periods not started.
	Queued,
}

/// A claim and its voting parameters.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Claim<AccountId, BlockNumber> {
	/// The class.
	pub class: ClaimClass,
	/// Who claims.
	pub claimant: AccountId,
	/// What the claim is about.
	pub subject: H256,
	/// Commitment to what is claimed.
	pub commitment: H256,
	/// Score mode: the score claimed (for a sealed claim, once the claimant revealed it).
	pub claimed_score: Option<u32>,
	/// Score mode: the seal on the claimed score, when the claimant sealed it
	/// ([`score_seal`]); revealed with [`Pallet::reveal_claimed_score`] during the reveal period.
	pub sealed_score: Option<H256>,
	/// Score mode: what the median must beat for the claimant to gain reputation.
	pub must_beat: Option<ScoreBound>,
	/// The thresholds the electorate was drawn with.
	pub thresholds: Thresholds,
	/// The class parameters when the claim opened (later changes do not affect it).
	pub params: ClassParams<BlockNumber>,
	/// Block in which it opened (a queued claim: in which it was queued).
	pub opened_at: BlockNumber,
	/// The session the claim was submitted in: only stake that backed the claimant then pays
	/// the slash of a rejection ([`Slashing::slash_backing`]), so a delegation made once the
	/// claim is public does not pay for work it never backed, and undelegating during the vote
	/// does not escape it. `None` for claims stored before storage version 5.
	pub submitted_in: Option<loopx_primitives::claims::SessionIndex>,
	/// First block in which votes can no longer be committed (and can be revealed); for a
	/// queued claim, set when it opens.
	pub commit_end: BlockNumber,
	/// First block in which votes can no longer be revealed; the tally is queued then.
	pub reveal_end: BlockNumber,
	/// Total weight of the electorate.
	pub eligible_weight: u128,
	/// Voting or decided.
	pub status: ClaimStatus<BlockNumber>,
}

/// A voter's divergence record.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, Default, TypeInfo, MaxEncodedLen)]
pub struct VoterRecord {
	/// Votes against the outcome in a row.
	pub strikes: u32,
	/// Suspensions so far (each one twice as long as the one before).
	pub suspensions: u32,
	/// First session in which it may vote again.
	pub suspended_until: SessionIndex,
}

/// The tally rules of a claim.
fn rules_of<BlockNumber>(params: &ClassParams<BlockNumber>, min_voters: u32) -> Rules {
	Rules { mode: params.mode, quorum: params.quorum, approval: params.approval, tolerance: params.tolerance, min_voters }
}

/// How often a committee that did not reach a quorum is followed by a larger one (`2k + 1`, then
/// every eligible validator).
pub const MAX_ESCALATIONS: u8 = 2;

/// A claim's committee round: the committee size drawn and how often it was escalated.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct CommitteeRound {
	/// Voters drawn (at the last level: every eligible one, this many).
	pub size: u32,
	/// 0 for the first committee, then 1, 2 after each escalation.
	pub level: u8,
}

impl CommitteeRound {
	/// The committee an escalation of this round draws: its level and size (`2k + 1`, or
	/// `None` for every eligible validator at the last level); `None` when this round is the
	/// last. The one rule the tally, its weight bound and the scaling simulation follow.
	pub fn escalation(self) -> Option<(u8, Option<u32>)> {
		(self.level < MAX_ESCALATIONS).then(|| {
			let level = self.level.saturating_add(1);
			(level, (level < MAX_ESCALATIONS).then(|| self.size.saturating_mul(2).saturating_add(1)))
		})
	}
}

/// The commitment a voter publishes: `blake2_256(SCALE((claim, voter, verdict, salt)))`. The
/// voter's account is inside, so that nobody can copy another's commitment.
pub fn vote_commitment<AccountId: Encode>(claim: ClaimId, voter: &AccountId, verdict: &Verdict, salt: &[u8; 32]) -> H256 {
	BlakeTwo256::hash_of(&(claim, voter, verdict, salt))
}

/// The seal a claimant puts on a claimed score: `blake2_256(SCALE((claimant, score, salt)))`.
pub fn score_seal<AccountId: Encode>(claimant: &AccountId, score: u32, salt: &[u8; 32]) -> H256 {
	BlakeTwo256::hash_of(&(claimant, score, salt))
}

/// Sets up, for the benchmarks, what belongs to other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `n` accounts active validators (stake and reputation) and returns them.
	fn setup_voters(n: u32) -> Vec<AccountId>;
	/// An account that can be a claimant (it is bonded, so that a slash has something to take).
	fn setup_claimant() -> AccountId;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version. v1: [`OpenPerClass`] ([`crate::migrations::v1`]); v2:
	/// [`Claim::sealed_score`] ([`crate::migrations::v2`]); v6: open claims and deadlines
	/// one key each ([`crate::migrations::v6`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(6);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The active validators with their stake and reputation, and the session clock.
		type Voters: VoterSet<Self::AccountId>;

		/// Reputation changes for claimants and voters.
		type Reputations: ReputationHandler<Self::AccountId>;

		/// The balance type of [`Config::Slasher`].
		type SlashedBalance: Debug;

		/// Slashes rejected claimants.
		type Slasher: Slashing<Self::AccountId, Self::SlashedBalance>;

		/// What a claimant that opened a claim itself (a disagreeing answer, a model update:
		/// every class but `DataDispute`, which the buyer opens) forfeits from its own bond when
		/// the claim ends `NoQuorum`: filling claim slots with claims nobody can decide costs
		/// this much a claim. Its reputation and delegators are untouched.
		type UndecidedClaimBond: Get<Self::SlashedBalance>;

		/// Receives verification points for the voters on the side of the outcome.
		type Contributions: ContributionSink<Self::AccountId>;

		/// The pallets that opened claims hear their outcome here.
		type OnDecided: ClaimOutcome<Self::AccountId>;

		/// Largest electorate of a claim (the heaviest eligible voters).
		#[pallet::constant]
		type MaxVoters: Get<u32>;

		/// Most claims open at once.
		#[pallet::constant]
		type MaxOpenClaims: Get<u32>;

		/// Most claims of one class open at once (at most `MaxOpenClaims`), so that a flood of
		/// one class — disagreeing answers to cheap queries — cannot keep the other classes'
		/// claims from opening.
		#[pallet::constant]
		type MaxOpenPerClass: Get<u32>;

		/// Most claims waiting for a slot (their class at `MaxOpenPerClass`, or `MaxOpenClaims`
		/// open): they open, oldest first, as slots free up, so that a flood of claims delays
		/// others instead of refusing them (a refused dispute refunds its client and lets a
		/// forger escape). A claim that finds the queue full too is refused.
		#[pallet::constant]
		type MaxQueuedClaims: Get<u32>;

		/// Most votes in one [`Pallet::commit_votes`] or [`Pallet::reveal_votes`].
		#[pallet::constant]
		type MaxVotesPerCall: Get<u32>;

		/// Most accounts a claim may name as conflicted.
		#[pallet::constant]
		type MaxConflicted: Get<u32>;

		/// Largest share of one claim's weight a voter may hold: heavier voters are cut down to
		/// it when the electorate is drawn ([`tally::cap_weights`]), so that no validator alone
		/// accepts or rejects a claim, or sets the median score.
		#[pallet::constant]
		type MaxVoterShare: Get<Perbill>;

		/// Fewest eligible voters a claim must keep for its claimant's rivals to be left out
		/// of its electorate (at least [`Config::MinVoters`]): with a margin above `MinVoters`,
		/// one voter down cannot leave a claim without rivals undecidable.
		type MinVotersWithoutRivals: Get<u32>;

		/// A committee's verdict stands only if at least this share of the revealed weight
		/// agrees with it; a closer one (a tie always) escalates to a larger committee like a
		/// missing quorum, until every eligible validator has voted (whose verdict stands).
		type DecisiveShare: Get<Perbill>;

		/// Fewest voters that must reveal for a claim to be decided (else `NoQuorum`).
		#[pallet::constant]
		type MinVoters: Get<u32>;

		/// Randomness for drawing claims' committees ([`CommitteeSizes`]), read in the block
		/// the claim opens in: it must be unknown before that block (the runtime uses the
		/// block's own VRF output, which only its author knows in advance), or a claimant could
		/// submit its claim when the committee it would get suits it.
		type Randomness: frame_support::traits::Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// The weight `on_initialize` may spend per block on tallies and on opening queued
		/// claims (a share of the block); what does not fit waits for the next block. It must
		/// hold at least one worst-case tally ([`Pallet::tally_bound`] with `MaxVoters`).
		#[pallet::constant]
		type TallyBudget: Get<Weight>;

		/// Longest commit or reveal period a class may have.
		#[pallet::constant]
		type MaxPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks a decided claim stays readable before it is pruned.
		#[pallet::constant]
		type DecidedRetention: Get<BlockNumberFor<Self>>;

		/// Reputation gained by a voter on the side of the outcome.
		#[pallet::constant]
		type VoterReward: Get<Reputation>;

		/// Reputation lost by a voter against the outcome.
		#[pallet::constant]
		type VoterPenalty: Get<Reputation>;

		/// Reputation lost by a voter that committed and never revealed.
		#[pallet::constant]
		type MissedRevealPenalty: Get<Reputation>;

		/// Reputation lost by a voter drawn for a claim that neither voted nor abstained
		/// (unless it was suspended meanwhile, which keeps it from voting). A voter that cannot
		/// judge a claim says so with `Verdict::Abstain` and loses nothing; one that is drawn
		/// and stays silent leaves the claim short of its quorum.
		#[pallet::constant]
		type AbsentPenalty: Get<Reputation>;

		/// Reputation gained by a claimant whose claim is accepted.
		#[pallet::constant]
		type ClaimantReward: Get<Reputation>;

		/// Reputation lost by a claimant whose claim is rejected (besides the slash's penalty).
		#[pallet::constant]
		type ClaimantPenalty: Get<Reputation>;

		/// Verification points per vote on the side of the outcome.
		#[pallet::constant]
		type VotePoints: Get<u64>;

		/// Votes against the outcome in a row that suspend a voter.
		#[pallet::constant]
		type DivergenceLimit: Get<u32>;

		/// Sessions of the first suspension; each later one doubles.
		#[pallet::constant]
		type SuspensionBase: Get<SessionIndex>;

		/// The origin of this pallet's privileged calls: governance on a public chain, root on
		/// the dev chain.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Sets up validators and claimants for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Voting parameters by class. A class without parameters cannot have claims.
	#[pallet::storage]
	pub type ClassParameters<T: Config> = StorageMap<_, Twox64Concat, ClaimClass, ClassParams<BlockNumberFor<T>>>;

	/// The committee size of each class: a claim's electorate is that many validators drawn by
	/// weight (stake × reputation, without replacement) from those eligible, with the
	/// [`Config::Randomness`] of the block it opens in. A class without one (or 0) is voted on
	/// by every eligible validator.
	#[pallet::storage]
	pub type CommitteeSizes<T> = StorageMap<_, Twox64Concat, ClaimClass, u32>;

	/// The most claims of a class open at once, where the admin lowered it below
	/// [`Config::MaxOpenPerClass`] (which applies to a class not listed). A claim that finds its
	/// class full waits in the queue.
	#[pallet::storage]
	pub type ClassQuotas<T> = StorageMap<_, Twox64Concat, ClaimClass, u32>;

	/// The committee round of each open claim voted on by a committee: its size and how often
	/// it was escalated. A committee that does not reach a quorum (no-shows) is followed by one
	/// of `2k + 1`, then by every eligible validator ([`Event::ClaimEscalated`]).
	#[pallet::storage]
	pub type Committees<T> = StorageMap<_, Twox64Concat, ClaimId, CommitteeRound>;

	/// Who may not vote on an open claim voted on by a committee (kept to draw its escalation).
	#[pallet::storage]
	pub type CommitteeConflicts<T: Config> = StorageMap<_, Twox64Concat, ClaimId, BoundedVec<T::AccountId, T::MaxConflicted>>;

	/// The id the next claim gets.
	#[pallet::storage]
	pub type NextClaimId<T> = StorageValue<_, ClaimId, ValueQuery>;

	/// Claims, open and recently decided.
	#[pallet::storage]
	pub type Claims<T: Config> = StorageMap<_, Twox64Concat, ClaimId, Claim<T::AccountId, BlockNumberFor<T>>>;

	/// The frozen electorate of each open claim: one ballot per `(claim, voter)`, so that a
	/// vote reads and writes its own ballot only, whatever the size of the electorate.
	#[pallet::storage]
	pub type Ballots<T: Config> = StorageDoubleMap<_, Twox64Concat, ClaimId, Blake2_128Concat, T::AccountId, BallotEntry>;

	/// How many ballots [`Ballots`] holds for each voting claim (at most `MaxVoters`).
	#[pallet::storage]
	pub type ElectorateSizes<T: Config> = StorageMap<_, Twox64Concat, ClaimId, u32, ValueQuery>;

	/// The claims not yet decided (at most [`Config::MaxOpenClaims`]), one key each: opening or
	/// deciding a claim writes its own key and the count, whatever the number open.
	#[pallet::storage]
	pub type OpenClaims<T: Config> = CountedStorageMap<_, Twox64Concat, ClaimId, ()>;

	/// How many claims of each class are open (at most [`Config::MaxOpenPerClass`]).
	#[pallet::storage]
	pub type OpenPerClass<T: Config> = StorageMap<_, Twox64Concat, ClaimClass, u32, ValueQuery>;

	/// Claims waiting for a slot, oldest first ([`Config::MaxQueuedClaims`]).
	#[pallet::storage]
	pub type ClaimQueue<T: Config> = StorageValue<_, BoundedVec<ClaimId, T::MaxQueuedClaims>, ValueQuery>;

	/// Who may not vote on each waiting claim (drawn out of its electorate when it opens).
	#[pallet::storage]
	pub type QueuedConflicts<T: Config> = StorageMap<_, Twox64Concat, ClaimId, BoundedVec<T::AccountId, T::MaxConflicted>, ValueQuery>;

	/// The open claims by the block at whose start their reveal period ends (`(block, claim)`,
	/// a claim's key removed when it is tallied): a block's tallies take their claims one key
	/// at a time, and any number of claims may end in one block.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, ClaimId, ()>;

	/// The earliest block whose ended claims are not all tallied yet (as `pallet-scheduler`'s
	/// `IncompleteSince`): the next block's tallies start there. `None`: every claim whose
	/// reveal period ended is decided.
	#[pallet::storage]
	pub type TallyIncompleteSince<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	/// The oldest claim id that may still need pruning.
	#[pallet::storage]
	pub type PruneCursor<T> = StorageValue<_, ClaimId, ValueQuery>;

	/// Voters' divergence strikes and suspensions.
	#[pallet::storage]
	pub type VoterRecords<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, VoterRecord, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The voting parameters of each class.
		pub classes: Vec<(ClaimClass, ClassParams<BlockNumberFor<T>>)>,
		/// Committee sizes by class ([`CommitteeSizes`]); a class not listed is voted on by
		/// every eligible validator.
		pub committees: Vec<(ClaimClass, u32)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (class, params) in &self.classes {
				assert!(Pallet::<T>::params_are_valid(params), "invalid genesis parameters for {class:?}");
				ClassParameters::<T>::insert(class, params);
			}
			for (class, size) in &self.committees {
				assert!(*size >= T::MinVoters::get(), "a committee for {class:?} smaller than MinVoters could never decide");
				CommitteeSizes::<T>::insert(class, size);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The parameters of `class` were set.
		ClassParamsSet { class: ClaimClass, params: ClassParams<BlockNumberFor<T>> },
		/// Claims of `class` opened from now on are voted on by a committee of `size` drawn
		/// validators (0: every eligible validator).
		CommitteeSizeSet { class: ClaimClass, size: u32 },
		/// At most `quota` claims of `class` are open at once from now on (claims open beyond it
		/// stay open; new ones wait in the queue).
		ClassQuotaSet { class: ClaimClass, quota: u32 },
		/// The committee of `claim` did not reach a quorum: a larger one (`voters` validators,
		/// every eligible one at the last `level`) votes again until `commit_end` / `reveal_end`.
		/// The no-shows of the round before lost reputation.
		ClaimEscalated { claim: ClaimId, level: u8, voters: u32, eligible_weight: u128, commit_end: BlockNumberFor<T>, reveal_end: BlockNumberFor<T> },
		/// A claim opened; `voters` validators with `eligible_weight` in all may vote until
		/// `commit_end` (commit) and `reveal_end` (reveal).
		ClaimOpened {
			claim: ClaimId,
			class: ClaimClass,
			claimant: T::AccountId,
			subject: H256,
			voters: u32,
			eligible_weight: u128,
			commit_end: BlockNumberFor<T>,
			reveal_end: BlockNumberFor<T>,
		},
		/// `claim` waits for a slot (its class or the whole registry is full); it opens, oldest
		/// first, when one frees up (`ClaimOpened`).
		ClaimQueued { claim: ClaimId, class: ClaimClass, claimant: T::AccountId, subject: H256 },
		/// `voter` committed a vote on `claim`.
		VoteCommitted { claim: ClaimId, voter: T::AccountId },
		/// `voter` revealed `verdict` on `claim`.
		VoteRevealed { claim: ClaimId, voter: T::AccountId, verdict: Verdict },
		/// A vote of `voter` on `claim` in a batch ([`Pallet::commit_votes`],
		/// [`Pallet::reveal_votes`]) failed with `error` and changed nothing; the batch's other
		/// votes stand.
		VoteFailed { claim: ClaimId, voter: T::AccountId, error: DispatchError },
		/// The claimant of `claim` revealed the score it had sealed.
		ClaimedScoreRevealed { claim: ClaimId, claimant: T::AccountId, score: u32 },
		/// The claimant of `claim` never revealed its sealed score: the claim is rejected.
		ClaimedScoreWithheld { claim: ClaimId, claimant: T::AccountId },
		/// `claim` was accepted (its score was claimed truthfully) but the median does not beat
		/// `bound`: the claimant gains no reputation for it.
		ClaimNotImproving { claim: ClaimId, claimant: T::AccountId, bound: ScoreBound },
		/// `claim` was tallied.
		ClaimDecided { claim: ClaimId, class: ClaimClass, claimant: T::AccountId, decision: Decision },
		/// The rejected claimant of `claim` was slashed by `fraction`.
		ClaimantSlashed { claim: ClaimId, who: T::AccountId, fraction: Perbill },
		/// The slash of a rejected claimant failed (it is logged; the decision stands).
		ClaimantSlashFailed { claim: ClaimId, who: T::AccountId },
		/// The claimant of `claim`, which it opened itself and nobody could decide, forfeited
		/// [`Config::UndecidedClaimBond`] of its own bond (`stakeReputation.Forfeited` says how
		/// much was there to take).
		ClaimBondForfeited { claim: ClaimId, who: T::AccountId },
		/// The committee of `claim` reached `outcome` with only `agreeing_weight` of
		/// `revealed_weight` behind it (below [`Config::DecisiveShare`]): a larger committee
		/// votes again ([`Event::ClaimEscalated`] follows).
		CloseVerdictEscalated { claim: ClaimId, outcome: Outcome, agreeing_weight: u128, revealed_weight: u128 },
		/// `who` became a rival of the claimant of `claim` after it opened and left its
		/// electorate, which now weighs `eligible_weight`.
		RivalExcluded { claim: ClaimId, who: T::AccountId, eligible_weight: u128 },
		/// `who` voted against the outcome too often and may not vote before session `until`.
		VoterSuspended { who: T::AccountId, until: SessionIndex },
		/// Claims whose reveal period ended at block `since` or later wait for a tally in a
		/// later block (more ended than [`Config::TallyBudget`] could decide in this one).
		TalliesCarriedOver { since: BlockNumberFor<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No claim with this id is open.
		UnknownClaim,
		/// The class has no parameters, so it cannot have claims.
		ClassNotConfigured,
		/// The parameters are inconsistent: a period is zero or above `MaxPeriod`, the quorum is
		/// zero, the approval threshold is 100 %, or the thresholds lie outside their bounds.
		InvalidParams,
		/// A committee smaller than [`Config::MinVoters`] (other than 0, no committee) could
		/// never decide a claim.
		CommitteeTooSmall,
		/// A class quota of 0 (its claims could never open) or above `MaxOpenPerClass`.
		InvalidQuota,
		/// The thresholds asked for lie outside the class's bounds.
		ThresholdsOutOfBounds,
		/// A claimed score, a seal on one or a score to beat was given for a binary class.
		ClaimedScoreInBinaryMode,
		/// `MaxOpenClaims` claims are open already and `MaxQueuedClaims` wait.
		TooManyOpenClaims,
		/// `MaxOpenPerClass` claims of this class are open already and `MaxQueuedClaims` wait.
		ClassFull,
		/// The claim names more than `MaxConflicted` accounts as conflicted.
		TooManyConflicted,
		/// The claimant cannot vote on its own claim.
		ClaimantCannotVote,
		/// The account is not in the claim's electorate (not a validator when it opened, or below
		/// the thresholds).
		NotEligible,
		/// The voter is suspended for voting against outcomes too often.
		VoterSuspended,
		/// The commit period is over.
		CommitPeriodOver,
		/// The reveal period has not started.
		RevealPeriodNotStarted,
		/// The reveal period is over.
		RevealPeriodOver,
		/// A vote on this claim was committed already.
		AlreadyCommitted,
		/// No vote on this claim was committed.
		NotCommitted,
		/// The vote was revealed already.
		AlreadyRevealed,
		/// The revealed verdict and salt do not hash to the commitment.
		RevealMismatch,
		/// A score on a binary claim, or valid/invalid on a score claim.
		WrongVerdictKind,
		/// The claim under this number is not the one the vote was worked out for (its
		/// commitment differs from `claim_commitment`; on a fork, numbers name other claims).
		NotTheClaimJudged,
		/// Only the claimant reveals its claimed score.
		NotTheClaimant,
		/// The claim's score was not sealed (it is shown, or the claim has none).
		ScoreNotSealed,
		/// The claimed score was revealed already.
		ScoreAlreadyRevealed,
		/// The score and salt do not hash to the claim's seal.
		SealMismatch,
		/// A claim shows its score or seals it, not both.
		ScoreShownAndSealed,
		/// A batch of votes holds none.
		EmptyBatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// Tallies and openings share the budget; pruning takes what they left, and at least
			// two claims' worth a block (the rest in `on_idle`).
			let mut meter = WeightMeter::with_limit(T::TallyBudget::get());
			let overrun = Self::run_tallies(now, &mut meter);
			Self::open_queued(&mut meter);
			let mut pruning = WeightMeter::with_limit(meter.remaining().max(Self::prune_bound(2)));
			Self::prune(now, &mut pruning);
			meter.consumed().saturating_add(pruning.consumed()).saturating_add(overrun)
		}

		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			// Decided claims and their ballots leave in the block's spare weight.
			let mut meter = WeightMeter::with_limit(remaining);
			Self::prune(now, &mut meter);
			meter.consumed()
		}

		fn integrity_test() {
			assert!(T::MaxVoters::get() > 0, "MaxVoters must be positive");
			assert!(T::MaxOpenClaims::get() > 0, "MaxOpenClaims must be positive");
			assert!(
				T::MaxOpenPerClass::get() > 0 && T::MaxOpenPerClass::get() <= T::MaxOpenClaims::get(),
				"MaxOpenPerClass must be positive and at most MaxOpenClaims"
			);
			let worst = [ClaimClass::ModelUpdate, ClaimClass::QueryResult, ClaimClass::DataDispute, ClaimClass::EvaluationScore]
				.into_iter()
				.map(|class| Self::tally_bound(class, T::MaxVoters::get(), Some(CommitteeRound { size: T::MaxVoters::get(), level: 0 })))
				.fold(Weight::zero(), |a, b| a.max(b))
				.saturating_add(T::WeightInfo::settle_voter().saturating_mul(u64::from(T::MaxVoters::get())));
			assert!(
				T::TallyBudget::get().all_gte(worst),
				"TallyBudget must hold a tally of MaxVoters voters, or such a claim would never be decided"
			);
			assert!(T::MaxQueuedClaims::get() > 0, "MaxQueuedClaims must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Commits a vote on `claim`: `commitment` = `blake2_256(SCALE((claim, voter, verdict,
		/// salt)))` with a secret 32-byte salt (the runtime API `vote_commitment` computes it).
		///
		/// `claim_commitment` is the commitment of the claim the vote was worked out for (its
		/// `commitment` field): claims opened in the same blocks get different numbers on
		/// different forks, so a vote sent for claim #N on one fork could otherwise land on
		/// another claim #N after a reorganisation (the pool re-submits retracted transactions).
		///
		/// Only during the commit period, once, by a member of the claim's electorate that is
		/// not the claimant and not suspended. Emits `VoteCommitted`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::commit_vote())]
		pub fn commit_vote(origin: OriginFor<T>, claim: ClaimId, claim_commitment: H256, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_commit(&who, VoteCommit { claim, claim_commitment, commitment })
		}

		/// Reveals the vote committed on `claim`: the `verdict` and `salt` must hash to the
		/// commitment. Only during the reveal period. `Valid`/`Invalid` for binary classes,
		/// `Score` for score classes, `Abstain` for either (a voter that cannot judge the claim:
		/// counted for nothing, not penalized). Emits `VoteRevealed`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::reveal_vote())]
		pub fn reveal_vote(origin: OriginFor<T>, claim: ClaimId, verdict: Verdict, salt: [u8; 32]) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_reveal(&who, VoteReveal { claim, verdict, salt })
		}

		/// Commits votes on several claims in one transaction (a validator drawn for many
		/// claims sends one a block instead of one per claim). Each vote is checked and applied
		/// on its own, exactly as [`Pallet::commit_vote`] would: one that fails changes nothing
		/// and is reported by [`Event::VoteFailed`] with its error, and the others still count
		/// (votes work out at different times: one late claim must not sink the rest).
		/// Refused as a whole with `EmptyBatch` when it holds no vote.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::commit_votes(votes.len() as u32))]
		pub fn commit_votes(origin: OriginFor<T>, votes: BoundedVec<VoteCommit, T::MaxVotesPerCall>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!votes.is_empty(), Error::<T>::EmptyBatch);
			Self::each_on_its_own(&who, votes.into_iter().map(|vote| (vote.claim, vote)), Self::do_commit);
			Ok(())
		}

		/// Reveals votes on several claims in one transaction, each checked and applied on its
		/// own as [`Pallet::reveal_vote`] would; one that fails changes nothing and is reported
		/// by [`Event::VoteFailed`]. Refused as a whole with `EmptyBatch` when it holds no vote.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::reveal_votes(votes.len() as u32))]
		pub fn reveal_votes(origin: OriginFor<T>, votes: BoundedVec<VoteReveal, T::MaxVotesPerCall>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!votes.is_empty(), Error::<T>::EmptyBatch);
			Self::each_on_its_own(&who, votes.into_iter().map(|vote| (vote.claim, vote)), Self::do_reveal);
			Ok(())
		}

		/// Reveals the score the claimant of `claim` sealed when the claim opened: `score` and
		/// `salt` must hash to the seal ([`score_seal`]). Only by the claimant, and only during
		/// the reveal period (after every vote is committed, so no voter could copy the score).
		/// A sealed score never revealed rejects the claim at the tally. Emits
		/// `ClaimedScoreRevealed`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::reveal_claimed_score())]
		pub fn reveal_claimed_score(origin: OriginFor<T>, claim: ClaimId, score: u32, salt: [u8; 32]) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut c = Claims::<T>::get(claim).ok_or(Error::<T>::UnknownClaim)?;
			ensure!(c.status == ClaimStatus::Voting, Error::<T>::UnknownClaim);
			ensure!(c.claimant == who, Error::<T>::NotTheClaimant);
			let seal = c.sealed_score.ok_or(Error::<T>::ScoreNotSealed)?;
			ensure!(c.claimed_score.is_none(), Error::<T>::ScoreAlreadyRevealed);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= c.commit_end, Error::<T>::RevealPeriodNotStarted);
			ensure!(now < c.reveal_end, Error::<T>::RevealPeriodOver);
			ensure!(score_seal(&who, score, &salt) == seal, Error::<T>::SealMismatch);
			c.claimed_score = Some(score);
			Claims::<T>::insert(claim, c);
			Self::deposit_event(Event::ClaimedScoreRevealed { claim, claimant: who, score });
			Ok(())
		}

		/// Sets the voting parameters of `class` ([`Config::AdminOrigin`]). Claims already open keep theirs.
		///
		/// Fails with [`Error::InvalidParams`] for inconsistent parameters. Emits `ClassParamsSet`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_class_params())]
		pub fn set_class_params(origin: OriginFor<T>, class: ClaimClass, params: ClassParams<BlockNumberFor<T>>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			ClassParameters::<T>::insert(class, params);
			Self::deposit_event(Event::ClassParamsSet { class, params });
			Ok(())
		}

		/// Sets the committee size of `class` ([`Config::AdminOrigin`]): claims opened from now
		/// on are voted on by `size` validators drawn by weight from those eligible; 0 removes
		/// the committee (every eligible validator votes). Open claims keep their electorate.
		///
		/// Fails with [`Error::CommitteeTooSmall`] below `MinVoters`. Emits
		/// [`Event::CommitteeSizeSet`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_class_params())]
		pub fn set_committee_size(origin: OriginFor<T>, class: ClaimClass, size: u32) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(size == 0 || size >= T::MinVoters::get(), Error::<T>::CommitteeTooSmall);
			if size == 0 {
				CommitteeSizes::<T>::remove(class);
			} else {
				CommitteeSizes::<T>::insert(class, size);
			}
			Self::deposit_event(Event::CommitteeSizeSet { class, size });
			Ok(())
		}

		/// Sets how many claims of `class` may be open at once ([`Config::AdminOrigin`]):
		/// between 1 and [`Config::MaxOpenPerClass`] (the default). A flood of one class then
		/// waits in the queue while the other classes' claims keep opening. Claims open beyond
		/// a lowered quota stay open.
		///
		/// Fails with [`Error::InvalidQuota`] for 0 or above the maximum. Emits
		/// [`Event::ClassQuotaSet`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_class_params())]
		pub fn set_class_quota(origin: OriginFor<T>, class: ClaimClass, quota: u32) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let max = T::MaxOpenPerClass::get();
			ensure!(quota > 0 && quota <= max, Error::<T>::InvalidQuota);
			if quota == max {
				ClassQuotas::<T>::remove(class);
			} else {
				ClassQuotas::<T>::insert(class, quota);
			}
			Self::deposit_event(Event::ClassQuotaSet { class, quota });
			Ok(())
		}
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and the property tests): every open
	/// claim is voting, has its electorate and is counted once in its class; every voting claim
	/// is open; every waiting claim is queued.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let open: alloc::collections::btree_set::BTreeSet<ClaimId> = OpenClaims::<T>::iter_keys().collect();
		ensure!(open.len() as u32 == OpenClaims::<T>::count(), "the open claims' count differs from their keys");
		let mut per_class: alloc::collections::btree_map::BTreeMap<ClaimClass, u32> = Default::default();
		for id in open.iter() {
			let claim = Claims::<T>::get(id).ok_or("an open claim without its record")?;
			ensure!(claim.status == ClaimStatus::Voting, "an open claim that is not voting");
			ensure!(ElectorateSizes::<T>::contains_key(id), "an open claim without its electorate");
			ensure!(
				Ballots::<T>::iter_prefix(id).count() as u32 == ElectorateSizes::<T>::get(id),
				"an electorate whose size is not its number of ballots"
			);
			ensure!(Deadlines::<T>::contains_key(claim.reveal_end, id), "an open claim without its deadline");
			*per_class.entry(claim.class).or_default() += 1;
		}
		let mut deadlines = 0usize;
		for (at, id, ()) in Deadlines::<T>::iter() {
			ensure!(open.contains(&id), "a deadline of a claim that is not open");
			ensure!(Claims::<T>::get(id).is_some_and(|c| c.reveal_end == at), "a deadline that is not its claim's end of reveal");
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(at >= now || TallyIncompleteSince::<T>::get().is_some_and(|since| since <= at), "an ended claim left behind the tallies");
			deadlines += 1;
		}
		ensure!(deadlines == open.len(), "open claims and deadlines differ in number");
		for (class, n) in OpenPerClass::<T>::iter() {
			ensure!(per_class.remove(&class) == Some(n), "OpenPerClass differs from the open claims");
		}
		ensure!(per_class.is_empty(), "a class with open claims but no count");
		for (id, claim) in Claims::<T>::iter() {
			if claim.status == ClaimStatus::Voting {
				ensure!(open.contains(&id), "a voting claim that is not open");
			}
		}
		for (id, size) in ElectorateSizes::<T>::iter() {
			// A decided claim keeps its ballots until it is pruned.
			ensure!(Claims::<T>::contains_key(id), "an electorate of a pruned claim");
			ensure!(Ballots::<T>::iter_prefix(id).count() as u32 == size, "an electorate whose size is not its number of ballots");
		}
		for id in ClaimQueue::<T>::get().iter() {
			ensure!(Claims::<T>::get(id).is_some_and(|c| c.status == ClaimStatus::Queued), "a waiting claim that is not queued");
		}
		for (id, _) in Committees::<T>::iter() {
			ensure!(open.contains(&id), "a committee round of a claim that is not open");
		}
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// Applies each vote of a batch with `apply` in a storage layer of its own: one that fails is
	/// rolled back alone and reported ([`Event::VoteFailed`]).
	fn each_on_its_own<V>(who: &T::AccountId, votes: impl Iterator<Item = (ClaimId, V)>, apply: fn(&T::AccountId, V) -> DispatchResult) {
		for (claim, vote) in votes {
			if let Err(error) = frame_support::storage::with_storage_layer(|| apply(who, vote)) {
				Self::deposit_event(Event::VoteFailed { claim, voter: who.clone(), error });
			}
		}
	}

	/// Commits `vote` for `who` ([`Pallet::commit_vote`]).
	fn do_commit(who: &T::AccountId, vote: VoteCommit) -> DispatchResult {
		let VoteCommit { claim, claim_commitment, commitment } = vote;
		let c = Claims::<T>::get(claim).ok_or(Error::<T>::UnknownClaim)?;
		ensure!(c.status == ClaimStatus::Voting, Error::<T>::UnknownClaim);
		ensure!(c.commitment == claim_commitment, Error::<T>::NotTheClaimJudged);
		ensure!(&c.claimant != who, Error::<T>::ClaimantCannotVote);
		ensure!(!Self::is_suspended(who), Error::<T>::VoterSuspended);
		ensure!(frame_system::Pallet::<T>::block_number() < c.commit_end, Error::<T>::CommitPeriodOver);
		let mut ballot = Ballots::<T>::get(claim, who).ok_or(Error::<T>::NotEligible)?;
		ensure!(ballot.commitment.is_none(), Error::<T>::AlreadyCommitted);
		ballot.commitment = Some(commitment);
		Ballots::<T>::insert(claim, who, ballot);
		Self::deposit_event(Event::VoteCommitted { claim, voter: who.clone() });
		Ok(())
	}

	/// Reveals `vote` for `who` ([`Pallet::reveal_vote`]).
	fn do_reveal(who: &T::AccountId, vote: VoteReveal) -> DispatchResult {
		let VoteReveal { claim, verdict, salt } = vote;
		let c = Claims::<T>::get(claim).ok_or(Error::<T>::UnknownClaim)?;
		ensure!(c.status == ClaimStatus::Voting, Error::<T>::UnknownClaim);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now >= c.commit_end, Error::<T>::RevealPeriodNotStarted);
		ensure!(now < c.reveal_end, Error::<T>::RevealPeriodOver);
		let kind_fits = match verdict {
			Verdict::Abstain => true,
			Verdict::Score(_) => c.params.mode == VoteMode::Score,
			Verdict::Valid | Verdict::Invalid => c.params.mode == VoteMode::Binary,
		};
		ensure!(kind_fits, Error::<T>::WrongVerdictKind);
		let mut ballot = Ballots::<T>::get(claim, who).ok_or(Error::<T>::NotEligible)?;
		let committed = ballot.commitment.ok_or(Error::<T>::NotCommitted)?;
		ensure!(ballot.verdict.is_none(), Error::<T>::AlreadyRevealed);
		ensure!(vote_commitment(claim, who, &verdict, &salt) == committed, Error::<T>::RevealMismatch);
		ballot.verdict = Some(verdict);
		Ballots::<T>::insert(claim, who, ballot);
		Self::deposit_event(Event::VoteRevealed { claim, voter: who.clone(), verdict });
		Ok(())
	}

	/// Whether `params` are consistent (see [`Error::InvalidParams`]).
	pub fn params_are_valid(p: &ClassParams<BlockNumberFor<T>>) -> bool {
		!p.commit_period.is_zero()
			&& !p.reveal_period.is_zero()
			&& p.commit_period <= T::MaxPeriod::get()
			&& p.reveal_period <= T::MaxPeriod::get()
			&& !p.quorum.is_zero()
			&& p.approval < Perbill::one()
			&& p.thresholds.within(&p.loosest, &p.strictest)
	}

	/// Whether `who` is suspended from voting now.
	pub fn is_suspended(who: &T::AccountId) -> bool {
		VoterRecords::<T>::get(who).suspended_until > T::Voters::current_session()
	}

	/// The electorate of claim `id`: eligible validators other than the claimant and the
	/// conflicted — a committee drawn by weight from them if its class has one
	/// ([`CommitteeSizes`]) — heaviest first up to `MaxVoters`, then sorted by account (for
	/// lookups and a deterministic tally order).
	fn draw_electorate(
		id: ClaimId,
		committee: Option<u32>,
		claimant: &T::AccountId,
		conflicted: &[T::AccountId],
		thresholds: &Thresholds,
	) -> (BoundedVec<Ballot<T::AccountId>, T::MaxVoters>, bool) {
		let mut voters: Vec<_> = T::Voters::voters()
			.into_iter()
			.filter(|v| Self::may_vote(v, claimant, conflicted, thresholds))
			.map(|v| Ballot { weight: v.weight(), who: v.who, commitment: None, verdict: None })
			.collect();
		voters.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.who.cmp(&b.who)));
		voters.dedup_by(|a, b| a.who == b.who);
		let drawn = committee.filter(|k| *k > 0 && voters.len() > *k as usize);
		if let Some(k) = drawn {
			voters = Self::draw_committee(id, voters, k as usize);
			voters.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.who.cmp(&b.who)));
		}
		voters.truncate(T::MaxVoters::get() as usize);
		let mut weights: Vec<u128> = voters.iter().map(|b| b.weight).collect();
		tally::cap_weights(&mut weights, T::MaxVoterShare::get());
		voters.iter_mut().zip(weights).for_each(|(b, w)| b.weight = w);
		voters.sort_by(|a, b| a.who.cmp(&b.who));
		(BoundedVec::truncate_from(voters), drawn.is_some())
	}

	/// Whether validator `v` may be in the electorate of a claim of `claimant` with these
	/// `excluded` accounts and `thresholds`.
	fn may_vote(v: &loopx_primitives::VoterInfo<T::AccountId>, claimant: &T::AccountId, excluded: &[T::AccountId], thresholds: &Thresholds) -> bool {
		&v.who != claimant
			&& !excluded.contains(&v.who)
			&& v.stake >= thresholds.min_stake
			&& v.reputation >= thresholds.min_reputation
			&& v.weight() > 0
			&& !Self::is_suspended(&v.who)
	}

	/// How many eligible voters a claim keeps at least when rivals leave it.
	fn min_voters_without_rivals() -> usize {
		T::MinVotersWithoutRivals::get().max(T::MinVoters::get()) as usize
	}

	/// Who is kept out of a claim's electorate: the conflicted always; the claimant's rivals
	/// too when at least [`Config::MinVotersWithoutRivals`] eligible validators are left
	/// without them (so the claim stays decidable in a network where every validator was a
	/// rival) and all of them fit in [`Config::MaxConflicted`].
	fn excluded(claimant: &T::AccountId, mut conflicted: Vec<T::AccountId>, rivals: Vec<T::AccountId>, thresholds: &Thresholds) -> Vec<T::AccountId> {
		let rivals: Vec<_> = rivals.into_iter().filter(|r| r != claimant && !conflicted.contains(r)).collect();
		if rivals.is_empty() {
			return conflicted;
		}
		let left =
			T::Voters::voters().into_iter().filter(|v| !rivals.contains(&v.who) && Self::may_vote(v, claimant, &conflicted, thresholds)).count();
		// Rivals beyond `MaxConflicted` could not be kept out of an escalation: keep them all in.
		let fits = conflicted.len().saturating_add(rivals.len()) <= T::MaxConflicted::get() as usize;
		if left >= Self::min_voters_without_rivals() && fits {
			conflicted.extend(rivals);
		}
		conflicted
	}

	/// Takes `who` out of the electorate of voting claim `id` (it became a rival of the
	/// claimant) unless fewer than [`Config::MinVotersWithoutRivals`] would be left: its ballot and any
	/// vote in it go, the others' weights are capped again to [`Config::MaxVoterShare`] and the
	/// claim's eligible weight is their sum; an escalation will not draw it either.
	fn do_exclude_rival(id: ClaimId, who: &T::AccountId) -> bool {
		let Some(mut claim) = Claims::<T>::get(id).filter(|c| c.status == ClaimStatus::Voting && &c.claimant != who) else {
			return false;
		};
		if !Ballots::<T>::contains_key(id, who) {
			return false;
		}
		let mut electorate = Self::electorate(id);
		let Some(at) = electorate.iter().position(|b| &b.who == who) else { return false };
		if electorate.len().saturating_sub(1) < Self::min_voters_without_rivals() {
			return false;
		}
		electorate.remove(at);
		let mut weights: Vec<u128> = electorate.iter().map(|b| b.weight).collect();
		tally::cap_weights(&mut weights, T::MaxVoterShare::get());
		// Only the ballots the new cap cuts are rewritten (usually none or the heaviest few).
		for (ballot, weight) in electorate.iter_mut().zip(weights) {
			if ballot.weight != weight {
				ballot.weight = weight;
				Ballots::<T>::mutate(id, &ballot.who, |entry| {
					if let Some(entry) = entry {
						entry.weight = weight;
					}
				});
			}
		}
		Ballots::<T>::remove(id, who);
		ElectorateSizes::<T>::insert(id, electorate.len() as u32);
		claim.eligible_weight = electorate.iter().fold(0u128, |acc, b| acc.saturating_add(b.weight));
		if Committees::<T>::contains_key(id) {
			CommitteeConflicts::<T>::mutate(id, |c| {
				let mut list = c.take().unwrap_or_default();
				// Full: the escalation may draw it again; it is left out of this round.
				let _ = list.try_push(who.clone());
				*c = Some(list);
			});
		}
		let eligible_weight = claim.eligible_weight;
		Claims::<T>::insert(id, claim);
		Self::deposit_event(Event::RivalExcluded { claim: id, who: who.clone(), eligible_weight });
		true
	}

	/// `k` of `voters` drawn by weight without replacement, seeded by the block's randomness and
	/// the claim's id (so two claims of one block get different committees).
	fn draw_committee(id: ClaimId, voters: Vec<Ballot<T::AccountId>>, k: usize) -> Vec<Ballot<T::AccountId>> {
		let (random, _) = <T::Randomness as frame_support::traits::Randomness<_, _>>::random(&(b"loopx/committee", id).encode());
		let seed = BlakeTwo256::hash(random.as_ref()).0;
		let candidates: Vec<_> = voters.into_iter().map(|b| (b.clone(), b.weight)).collect();
		loopx_primitives::draw::weighted_draw(&candidates, k, seed)
	}

	/// Opens a claim now, or queues it when its class or the registry is full.
	fn do_open(request: ClaimRequest<T::AccountId>) -> Result<ClaimId, DispatchError> {
		let params = ClassParameters::<T>::get(request.class).ok_or(Error::<T>::ClassNotConfigured)?;
		let scored = request.claimed_score.is_some() || request.sealed_score.is_some() || request.must_beat.is_some();
		ensure!(!scored || params.mode == VoteMode::Score, Error::<T>::ClaimedScoreInBinaryMode);
		ensure!(request.claimed_score.is_none() || request.sealed_score.is_none(), Error::<T>::ScoreShownAndSealed);
		let thresholds = request.thresholds.unwrap_or(params.thresholds);
		ensure!(thresholds.within(&params.loosest, &params.strictest), Error::<T>::ThresholdsOutOfBounds);
		let excluded = Self::excluded(&request.claimant, request.conflicted, request.rivals, &thresholds);
		let conflicted = BoundedVec::<_, T::MaxConflicted>::try_from(excluded).map_err(|_| Error::<T>::TooManyConflicted)?;
		let now = frame_system::Pallet::<T>::block_number();
		let claim = Claim {
			class: request.class,
			claimant: request.claimant,
			subject: request.subject,
			commitment: request.commitment,
			claimed_score: request.claimed_score,
			sealed_score: request.sealed_score,
			must_beat: request.must_beat,
			thresholds,
			params,
			opened_at: now,
			submitted_in: Some(T::Voters::current_session()),
			commit_end: now,
			reveal_end: now,
			eligible_weight: 0,
			status: ClaimStatus::Queued,
		};
		let id = NextClaimId::<T>::get();
		match Self::has_slot(claim.class) {
			Ok(()) => Self::open_now(id, claim, &conflicted)?,
			Err(full) => {
				let mut waiting = ClaimQueue::<T>::get();
				waiting.try_push(id).map_err(|_| full)?;
				ClaimQueue::<T>::put(waiting);
				QueuedConflicts::<T>::insert(id, conflicted);
				Self::deposit_event(Event::ClaimQueued { claim: id, class: claim.class, claimant: claim.claimant.clone(), subject: claim.subject });
				Claims::<T>::insert(id, claim);
			},
		}
		NextClaimId::<T>::put(id.saturating_add(1));
		Ok(id)
	}

	/// The most claims of `class` open at once ([`ClassQuotas`], else `MaxOpenPerClass`).
	pub fn class_quota(class: ClaimClass) -> u32 {
		ClassQuotas::<T>::get(class).unwrap_or(u32::MAX).min(T::MaxOpenPerClass::get())
	}

	/// Whether a claim of `class` can open now; else why not.
	fn has_slot(class: ClaimClass) -> Result<(), Error<T>> {
		ensure!(OpenPerClass::<T>::get(class) < Self::class_quota(class), Error::<T>::ClassFull);
		ensure!(OpenClaims::<T>::count() < T::MaxOpenClaims::get(), Error::<T>::TooManyOpenClaims);
		Ok(())
	}

	/// Opens claim `id` (a slot is free): draws its electorate without the claimant and
	/// `conflicted`, and starts its periods.
	fn open_now(id: ClaimId, mut claim: Claim<T::AccountId, BlockNumberFor<T>>, conflicted: &[T::AccountId]) -> DispatchResult {
		ensure!(OpenClaims::<T>::count() < T::MaxOpenClaims::get(), Error::<T>::TooManyOpenClaims);
		let now = frame_system::Pallet::<T>::block_number();
		let commit_end = now.saturating_add(claim.params.commit_period);
		let reveal_end = commit_end.saturating_add(claim.params.reveal_period);

		let committee = CommitteeSizes::<T>::get(claim.class).filter(|k| *k > 0);
		let (electorate, drawn) = Self::draw_electorate(id, committee, &claim.claimant, conflicted, &claim.thresholds);
		if let (true, Some(size)) = (drawn, committee) {
			Committees::<T>::insert(id, CommitteeRound { size, level: 0 });
			if !conflicted.is_empty() {
				CommitteeConflicts::<T>::insert(id, BoundedVec::truncate_from(conflicted.to_vec()));
			}
		}
		let eligible_weight = electorate.iter().fold(0u128, |acc, b| acc.saturating_add(b.weight));
		let voters = electorate.len() as u32;
		// Checks done: write.
		OpenClaims::<T>::insert(id, ());
		OpenPerClass::<T>::mutate(claim.class, |n| *n = n.saturating_add(1));
		Deadlines::<T>::insert(reveal_end, id, ());
		Self::put_electorate(id, &electorate);
		Self::deposit_event(Event::ClaimOpened {
			claim: id,
			class: claim.class,
			claimant: claim.claimant.clone(),
			subject: claim.subject,
			voters,
			eligible_weight,
			commit_end,
			reveal_end,
		});
		claim.opened_at = now;
		claim.commit_end = commit_end;
		claim.reveal_end = reveal_end;
		claim.eligible_weight = eligible_weight;
		claim.status = ClaimStatus::Voting;
		Claims::<T>::insert(id, claim);
		Ok(())
	}

	/// Opens waiting claims whose class has a free slot, oldest first, while an opening fits
	/// in `meter` (a claim of a full class does not hold up the others).
	fn open_queued(meter: &mut WeightMeter) {
		let db = T::DbWeight::get();
		if !meter.can_consume(db.reads(1)) {
			return;
		}
		let mut waiting = ClaimQueue::<T>::get();
		meter.consume(db.reads(1));
		if waiting.is_empty() {
			return;
		}
		// The queue is written back once, whatever happens.
		meter.consume(db.writes(1));
		let opening = T::WeightInfo::open_claim(T::MaxVoters::get()).saturating_add(db.reads(1));
		let mut i = 0;
		while i < waiting.len() && meter.can_consume(opening) {
			let id = waiting[i];
			meter.consume(db.reads(1));
			let Some(claim) = Claims::<T>::get(id).filter(|c| c.status == ClaimStatus::Queued) else {
				waiting.remove(i);
				continue;
			};
			if Self::has_slot(claim.class).is_err() {
				i += 1;
				continue;
			}
			waiting.remove(i);
			if let Err(e) = Self::open_now(id, claim, &QueuedConflicts::<T>::take(id)) {
				// Cannot happen: `has_slot` said there is room.
				log::error!(target: "runtime::weighted-voting", "queued claim {id} could not open: {e:?}");
			}
			meter.consume(T::WeightInfo::open_claim(T::MaxVoters::get()));
		}
		ClaimQueue::<T>::put(waiting);
	}

	/// The most drawing an electorate of `size` (`None`: every eligible validator) may cost.
	/// The draw reads every validator of the session (at most `MaxVoters`) whatever the size;
	/// only the drawn get a ballot written. (`open_claim(v)` is measured with `v` validators
	/// all drawn.)
	pub fn draw_bound(size: Option<u32>) -> Weight {
		let max = T::MaxVoters::get();
		let unwritten = max.saturating_sub(size.map_or(max, |k| k.min(max)));
		T::WeightInfo::open_claim(max).saturating_sub(T::DbWeight::get().writes(u64::from(unwritten)))
	}

	/// The most deciding one claim of `class` with `voters` ballots may cost: its tally, the
	/// market's handler of the outcome, and, for a committee `round` that can still escalate,
	/// drawing the next, larger committee.
	pub fn tally_bound(class: ClaimClass, voters: u32, round: Option<CommitteeRound>) -> Weight {
		let escalation = round
			.and_then(CommitteeRound::escalation)
			.map_or(Weight::zero(), |(_, size)| Self::draw_bound(size).saturating_add(Self::clear_electorate_weight(voters)));
		T::WeightInfo::tally(voters).saturating_add(T::OnDecided::weight_bound(class)).saturating_add(escalation)
	}

	/// What taking one ended claim off its deadline costs beyond its tally (whose benchmark
	/// removes it from the open claims): finding its key, peeking at its class, electorate size
	/// and committee round, and removing its deadline.
	pub fn tally_overhead() -> Weight {
		T::DbWeight::get().reads_writes(4, 1)
	}

	/// Tallies the claims whose reveal period ended, block by block from the earliest with
	/// claims left ([`TallyIncompleteSince`]) up to `now`, while the next one's worst case fits
	/// in `meter`; the rest wait for the next block. Returns what tallies used beyond their
	/// bounds (none unless a market's handler exceeds its `weight_bound`), charged outside the
	/// meter.
	fn run_tallies(now: BlockNumberFor<T>, meter: &mut WeightMeter) -> Weight {
		let db = T::DbWeight::get();
		let mut overrun = Weight::zero();
		if !meter.can_consume(db.reads_writes(1, 1)) {
			return overrun;
		}
		meter.consume(db.reads_writes(1, 1));
		let since = TallyIncompleteSince::<T>::get();
		let mut at = since.unwrap_or(now).min(now);
		let mut stopped = None;
		let mut owed = Settlements::default();
		'blocks: while at <= now {
			loop {
				// Each step looks up the block's next ended claim (the tallied one's key is gone).
				if !meter.can_consume(Self::tally_overhead()) {
					stopped = Some(at);
					break 'blocks;
				}
				let Some(id) = Deadlines::<T>::iter_key_prefix(at).next() else {
					meter.consume(db.reads(1));
					break;
				};
				meter.consume(Self::tally_overhead());
				let class = Claims::<T>::get(id).map(|c| c.class);
				let voters = Self::electorate_size(id);
				// Every voter may be one the block has not settled yet.
				let settling = T::WeightInfo::settle_voter().saturating_mul(u64::from(voters));
				let bound = class.map_or(Weight::zero(), |class| Self::tally_bound(class, voters, Committees::<T>::get(id)));
				if !meter.can_consume(bound.saturating_add(settling)) {
					stopped = Some(at);
					break 'blocks;
				}
				Deadlines::<T>::remove(at, id);
				let settled_before = owed.voters();
				let used = Self::tally(id, now, &mut owed)
					.saturating_add(T::WeightInfo::settle_voter().saturating_mul(owed.voters().saturating_sub(settled_before) as u64));
				let charged = used.min(meter.remaining());
				meter.consume(charged);
				overrun.saturating_accrue(used.saturating_sub(charged));
			}
			at = at.saturating_add(One::one());
		}
		// Paid for as each voter joined: one write of each of its sums, however many claims.
		owed.apply::<T::Reputations, T::Contributions>();
		match stopped {
			Some(since) => {
				TallyIncompleteSince::<T>::put(since);
				Self::deposit_event(Event::TalliesCarriedOver { since });
			},
			None if since.is_some() => TallyIncompleteSince::<T>::kill(),
			None => {},
		}
		overrun
	}

	/// Decides one claim and applies the consequences, the voters' into `owed` (applied once the
	/// block's tallies end); returns the weight used, `owed`'s settlement aside.
	pub(crate) fn tally(id: ClaimId, now: BlockNumberFor<T>, owed: &mut Settlements<T::AccountId>) -> Weight {
		let Some(mut claim) = Claims::<T>::get(id) else { return T::DbWeight::get().reads(1) };
		// Read, not removed: a decided claim's ballots go with it when it is pruned (in idle
		// block space), which keeps a tally to one read a voter.
		let electorate = Self::electorate(id);
		let voters = electorate.len() as u32;
		let rules = rules_of(&claim.params, T::MinVoters::get());
		let mut decision = tally::decide(&electorate, claim.eligible_weight, &rules, claim.claimed_score);
		let withheld = claim.sealed_score.is_some() && claim.claimed_score.is_none();
		// A withheld score rejects the claim whoever votes: nothing to escalate.
		let close = !withheld && tally::is_close(&decision, T::DecisiveShare::get());
		if withheld && decision.outcome == Outcome::Accepted {
			// The claimant kept its score to itself: nothing was claimed that voters could
			// confirm, and a claimant must not choose after the votes whether to stand by it.
			decision.outcome = Outcome::Rejected;
			Self::deposit_event(Event::ClaimedScoreWithheld { claim: id, claimant: claim.claimant.clone() });
		}
		let mut weight = T::WeightInfo::tally(voters);
		if decision.outcome == Outcome::NoQuorum || close {
			if let Some(next) = Committees::<T>::get(id).and_then(CommitteeRound::escalation) {
				// Without a larger committee to draw, the claim is decided as it is.
				if Self::escalate(id, &mut claim, &electorate, next, now).is_ok() {
					if close {
						Self::deposit_event(Event::CloseVerdictEscalated {
							claim: id,
							outcome: decision.outcome,
							agreeing_weight: decision.agreeing_weight,
							revealed_weight: decision.revealed_weight,
						});
					}
					// The no-shows of this round pay; the claim votes again.
					for ballot in &electorate {
						Self::penalize_no_show(ballot, &decision, &rules, owed);
					}
					Claims::<T>::insert(id, claim);
					return weight
						.saturating_add(T::WeightInfo::open_claim(T::MaxVoters::get()))
						.saturating_add(Self::clear_electorate_weight(voters));
				}
			}
		}
		Committees::<T>::remove(id);
		CommitteeConflicts::<T>::remove(id);

		for ballot in &electorate {
			match tally::standing(ballot, &decision, &rules) {
				Standing::Agreed => {
					let o = owed.of(&ballot.who);
					o.reward = o.reward.saturating_add(T::VoterReward::get());
					o.points = o.points.saturating_add(T::VotePoints::get());
					// A run of divergent votes ends here; most voters have none to end (no write).
					if VoterRecords::<T>::get(&ballot.who).strikes != 0 {
						VoterRecords::<T>::mutate(&ballot.who, |r| r.strikes = 0);
					}
				},
				Standing::Diverged => {
					let o = owed.of(&ballot.who);
					o.against = o.against.saturating_add(T::VoterPenalty::get());
					Self::add_strike(&ballot.who);
				},
				Standing::MissedReveal | Standing::Absent => Self::penalize_no_show(ballot, &decision, &rules, owed),
				Standing::Abstained | Standing::Undecided => {},
			}
		}
		match decision.outcome {
			Outcome::Accepted => match (claim.must_beat, decision.score) {
				(Some(bound), median) if !median.is_some_and(|m| bound.beaten_by(m)) => {
					Self::deposit_event(Event::ClaimNotImproving { claim: id, claimant: claim.claimant.clone(), bound })
				},
				_ => T::Reputations::reward(&claim.claimant, T::ClaimantReward::get(), ReputationReason::ClaimAccepted),
			},
			Outcome::Rejected => {
				let fraction = claim.params.slash;
				match T::Slasher::slash_backing(&claim.claimant, fraction, slash_reason(claim.class), false, claim.submitted_in) {
					Ok(_) => Self::deposit_event(Event::ClaimantSlashed { claim: id, who: claim.claimant.clone(), fraction }),
					Err(e) => {
						log::warn!(target: "runtime::weighted-voting", "slash of claimant of {id} failed: {e:?}");
						Self::deposit_event(Event::ClaimantSlashFailed { claim: id, who: claim.claimant.clone() });
					},
				}
				T::Reputations::penalize(&claim.claimant, T::ClaimantPenalty::get(), ReputationReason::ClaimRejected);
			},
			Outcome::NoQuorum if claim.class != ClaimClass::DataDispute => {
				T::Slasher::forfeit(&claim.claimant, T::UndecidedClaimBond::get(), SlashReason::UndecidedClaim);
				Self::deposit_event(Event::ClaimBondForfeited { claim: id, who: claim.claimant.clone() });
			},
			Outcome::NoQuorum => {},
		}

		claim.status = ClaimStatus::Decided { decision, at: now };
		OpenClaims::<T>::remove(id);
		OpenPerClass::<T>::mutate_exists(claim.class, |n| *n = n.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0));
		Self::deposit_event(Event::ClaimDecided { claim: id, class: claim.class, claimant: claim.claimant.clone(), decision });
		weight = weight.saturating_add(T::OnDecided::on_claim_decided(id, claim.class, &claim.claimant, &claim.subject, &decision));
		Claims::<T>::insert(id, claim);
		weight
	}

	/// Draws the next, larger committee of `claim` (`(level, size)` from
	/// [`CommitteeRound::escalation`]) and restarts its periods from `now`; `Err` when it would
	/// not be larger than `before`.
	fn escalate(
		id: ClaimId,
		claim: &mut Claim<T::AccountId, BlockNumberFor<T>>,
		before: &[Ballot<T::AccountId>],
		(level, size): (u8, Option<u32>),
		now: BlockNumberFor<T>,
	) -> Result<(), ()> {
		let conflicted = CommitteeConflicts::<T>::get(id).unwrap_or_default();
		let (electorate, _) = Self::draw_electorate(id.wrapping_add(u64::from(level) << 48), size, &claim.claimant, &conflicted, &claim.thresholds);
		if electorate.len() <= before.len() {
			return Err(());
		}
		let commit_end = now.saturating_add(claim.params.commit_period);
		let reveal_end = commit_end.saturating_add(claim.params.reveal_period);
		Deadlines::<T>::insert(reveal_end, id, ());
		let eligible_weight = electorate.iter().fold(0u128, |acc, b| acc.saturating_add(b.weight));
		let voters = electorate.len() as u32;
		// The last round's ballots make way for the new committee's.
		Self::clear_electorate(id);
		Self::put_electorate(id, &electorate);
		Committees::<T>::insert(id, CommitteeRound { size: size.unwrap_or(voters), level });
		claim.commit_end = commit_end;
		claim.reveal_end = reveal_end;
		claim.eligible_weight = eligible_weight;
		Self::deposit_event(Event::ClaimEscalated { claim: id, level, voters, eligible_weight, commit_end, reveal_end });
		Ok(())
	}

	/// The reputation penalty of a drawn voter that did not vote (or did not reveal).
	fn penalize_no_show(ballot: &Ballot<T::AccountId>, decision: &Decision, rules: &tally::Rules, owed: &mut Settlements<T::AccountId>) {
		match tally::standing(ballot, decision, rules) {
			Standing::MissedReveal => {
				let o = owed.of(&ballot.who);
				o.missed_reveal = o.missed_reveal.saturating_add(T::MissedRevealPenalty::get());
			},
			Standing::Absent if !Self::is_suspended(&ballot.who) => {
				let o = owed.of(&ballot.who);
				o.absent = o.absent.saturating_add(T::AbsentPenalty::get());
			},
			_ => {},
		}
	}

	/// A vote against the outcome: a strike, and a suspension (t, 2t, 4t… sessions) when the
	/// strikes in a row reach `DivergenceLimit`.
	fn add_strike(who: &T::AccountId) {
		let mut record = VoterRecords::<T>::get(who);
		record.strikes = record.strikes.saturating_add(1);
		if record.strikes >= T::DivergenceLimit::get() {
			// Doubling stops at 2^16 of the base: beyond that the suspension outlasts any chain.
			let factor = 1u32 << record.suspensions.min(16);
			let until = T::Voters::current_session().saturating_add(T::SuspensionBase::get().saturating_mul(factor));
			record = VoterRecord { strikes: 0, suspensions: record.suspensions.saturating_add(1), suspended_until: until };
			Self::deposit_event(Event::VoterSuspended { who: who.clone(), until });
		}
		VoterRecords::<T>::insert(who, record);
	}

	/// What removing an electorate of `ballots` ballots costs: its size read and removed, each
	/// ballot found and removed.
	pub fn clear_electorate_weight(ballots: u32) -> Weight {
		let n = u64::from(ballots);
		T::DbWeight::get().reads_writes(n.saturating_add(1), n.saturating_add(1))
	}

	/// What pruning `n` claims of at most `MaxVoters` ballots may cost: the cursor and the next
	/// id, each claim read and removed with its electorate, the cursor written back.
	pub fn prune_bound(n: u64) -> Weight {
		let claim = T::DbWeight::get().reads_writes(1, 1).saturating_add(Self::clear_electorate_weight(T::MaxVoters::get()));
		T::DbWeight::get().reads_writes(2, 1).saturating_add(claim.saturating_mul(n))
	}

	/// Removes decided claims older than `DecidedRetention` and their ballots, oldest id first,
	/// while the next fits in `meter`. Runs after the tallies of each block (at least two
	/// claims' worth) and in the block's idle weight, so that pruning keeps up with as many
	/// claims as tallies decide.
	fn prune(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		let db = T::DbWeight::get();
		if !meter.can_consume(db.reads_writes(2, 1)) {
			return;
		}
		meter.consume(db.reads_writes(2, 1));
		let mut cursor = PruneCursor::<T>::get();
		let start = cursor;
		let next = NextClaimId::<T>::get();
		while cursor < next && meter.can_consume(db.reads(1)) {
			meter.consume(db.reads(1));
			match Claims::<T>::get(cursor) {
				Some(Claim { status: ClaimStatus::Decided { at, .. }, .. }) if at.saturating_add(T::DecidedRetention::get()) <= now => {
					let cost = db.writes(1).saturating_add(Self::clear_electorate_weight(Self::electorate_size(cursor)));
					if !meter.can_consume(cost) {
						break;
					}
					meter.consume(cost);
					Claims::<T>::remove(cursor);
					Self::clear_electorate(cursor);
				},
				Some(_) => break,
				None => {},
			}
			cursor = cursor.saturating_add(1);
		}
		if cursor != start {
			PruneCursor::<T>::put(cursor);
		}
	}

	/// The open claims, in the order they were submitted (ids ascending).
	pub fn open_claims() -> Vec<ClaimId> {
		let mut open: Vec<_> = OpenClaims::<T>::iter_keys().collect();
		open.sort_unstable();
		open
	}

	/// The open claims `who` may still act on (runtime API).
	pub fn claims_for_voter(who: &T::AccountId) -> Vec<runtime_api::VotableClaim<BlockNumberFor<T>>> {
		let now = frame_system::Pallet::<T>::block_number();
		let suspended = Self::is_suspended(who);
		Self::open_claims()
			.into_iter()
			.filter_map(|id| {
				let claim = Claims::<T>::get(id)?;
				let ballot = Ballots::<T>::get(id, who)?;
				let phase = if now < claim.commit_end {
					runtime_api::Phase::Commit
				} else if now < claim.reveal_end {
					runtime_api::Phase::Reveal
				} else {
					runtime_api::Phase::AwaitingTally
				};
				Some(runtime_api::VotableClaim {
					claim: id,
					class: claim.class,
					subject: claim.subject,
					commitment: claim.commitment,
					claimed_score: claim.claimed_score,
					mode: claim.params.mode,
					phase,
					commit_end: claim.commit_end,
					reveal_end: claim.reveal_end,
					weight: ballot.weight,
					committed: ballot.commitment.is_some(),
					revealed: ballot.verdict.is_some(),
					suspended,
				})
			})
			.collect()
	}

	/// The open claims of `claimant` whose sealed score it may and must reveal now (runtime API).
	pub fn scores_to_reveal(claimant: &T::AccountId) -> Vec<ClaimId> {
		let now = frame_system::Pallet::<T>::block_number();
		Self::open_claims()
			.into_iter()
			.filter(|id| {
				Claims::<T>::get(id).is_some_and(|c| {
					&c.claimant == claimant && c.sealed_score.is_some() && c.claimed_score.is_none() && now >= c.commit_end && now < c.reveal_end
				})
			})
			.collect()
	}

	/// The running or final tally of a claim (runtime API).
	pub fn tally_of(id: ClaimId) -> Option<runtime_api::TallyInfo> {
		let claim = Claims::<T>::get(id)?;
		let electorate = Self::electorate(id);
		let sum = |f: &dyn Fn(&Ballot<T::AccountId>) -> bool| electorate.iter().filter(|b| f(b)).fold(0u128, |acc, b| acc.saturating_add(b.weight));
		Some(runtime_api::TallyInfo {
			voters: electorate.len() as u32,
			eligible_weight: claim.eligible_weight,
			committed: electorate.iter().filter(|b| b.commitment.is_some()).count() as u32,
			revealed: electorate.iter().filter(|b| b.verdict.is_some()).count() as u32,
			valid_weight: sum(&|b| b.verdict == Some(Verdict::Valid)),
			invalid_weight: sum(&|b| b.verdict == Some(Verdict::Invalid)),
			score_weight: sum(&|b| matches!(b.verdict, Some(Verdict::Score(_)))),
			decision: match claim.status {
				ClaimStatus::Decided { decision, .. } => Some(decision),
				ClaimStatus::Voting | ClaimStatus::Queued => None,
			},
		})
	}
}

/// The slash reason recorded for a rejected claimant of `class`.
fn slash_reason(class: ClaimClass) -> SlashReason {
	match class {
		ClaimClass::ModelUpdate | ClaimClass::EvaluationScore => SlashReason::ForgedLearning,
		ClaimClass::QueryResult => SlashReason::ForgedAnswer,
		ClaimClass::DataDispute => SlashReason::LostDispute,
	}
}

impl<T: Config> ClaimRegistry<T::AccountId> for Pallet<T> {
	fn open_claim(request: ClaimRequest<T::AccountId>) -> Result<ClaimId, DispatchError> {
		Self::do_open(request)
	}

	fn exclude_rival(claim: ClaimId, who: &T::AccountId) -> bool {
		Self::do_exclude_rival(claim, who)
	}
}
