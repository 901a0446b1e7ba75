//! # LoopX primitives
//!
//! The small vocabulary the LoopX pallets use to talk to each other without reaching into each
//! other's storage (see `shared/design.md`, "How the parts talk"):
//!
//! - [`ReputationHandler`]: read and change an account's reputation, always with a
//!   [`ReputationReason`] so that every change is explained by an event.
//! - [`Slashing`]: cut a validator's bond (and its delegators') by a fraction.
//! - [`logistic_reputation`]: MintAI's R = max / (1 + e^(−θ·Σc)) in deterministic fixed point.
//! - [`claims`]: claims, verdicts and decisions of the weighted vote ([`ClaimRegistry`],
//!   [`ClaimOutcome`], [`VoterSet`]).
//! - [`contributions`]: contribution points ([`ContributionSink`]), market fees ([`FeeSink`])
//!   and validator exposure ([`StakeExposure`]) for the rewards pallet.
//! - [`markets`]: trained models listed for sale through the data market's engine
//!   ([`ModelMarket`]) and the registry of accepted model versions ([`ModelRegistry`]).
//! - [`agenda`]: per-block queues of due work for `on_initialize`, bounded per block.
//! - [`routers`]: the one router registry both markets use ([`RouterRegistry`]).
//! - [`limits`]: the limits both the runtime and the native workers enforce.
//! - [`TaskId`]: the one identifier of a builder-market learning task, on chain and in the workers.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod agenda;
pub mod answers;
pub mod chain_data;
pub mod claims;
pub mod contributions;
pub mod draw;
pub mod limits;
pub mod logistic;
pub mod markets;
pub mod routers;

pub use claims::{
	ClaimClass, ClaimId, ClaimOutcome, ClaimRegistry, ClaimRequest, Decision, Outcome, ScoreBound, Thresholds, Verdict, VoteCommit, VoteReveal,
	VoterInfo, VoterSet,
};
pub use contributions::{ContributionCategory, ContributionSink, Exposure, FeeSink, RewardPot, StakeExposure, CATEGORIES};

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, Perbill};

pub use logistic::logistic_reputation;
pub use markets::{ModelListing, ModelMarket, ModelRegistry};
pub use routers::RouterRegistry;

/// Identifies a builder-market learning task (and the model it trains).
pub type TaskId = u32;

/// A reputation score, from 0 to the runtime's maximum (1,000,000 in LoopX).
pub type Reputation = u32;

/// Added to a reputation before it multiplies a stake (see [`stake_weight`]): LoopX's largest
/// reputation.
pub const REPUTATION_WEIGHT_BASE: u128 = 1_000_000;

/// The weight of `stake` with `reputation`, in elections (block production, finality) and in
/// votes: `stake × (1,000,000 + reputation)`, i.e. proportional to `stake · (½ + rep / 2M)`.
///
/// Reputation moves a weight by a factor of at most two (from 0 to the maximum, 1,000,000), so
/// however reputation is earned — or bought with self-dealing that slips past the markets'
/// rules — it cannot stand in for stake. Linear in stake, so splitting a stake across accounts
/// never adds weight.
pub fn stake_weight(stake: u128, reputation: Reputation) -> u128 {
	stake.saturating_mul(REPUTATION_WEIGHT_BASE.saturating_add(reputation as u128))
}

/// Why a reputation changed. Carried in the `ReputationChanged` event.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum ReputationReason {
	/// Set by governance (root).
	Governance,
	/// Penalty that comes with a slash.
	Slashed,
	/// A claim (learning proof, query answer) was accepted by the vote.
	ClaimAccepted,
	/// A claim was rejected by the vote.
	ClaimRejected,
	/// A vote on the side of the outcome.
	VotedWithOutcome,
	/// A vote against the outcome.
	VotedAgainstOutcome,
	/// Committed a vote and never revealed it.
	MissedReveal,
	/// A market deal completed.
	DealCompleted,
	/// A market deal failed through this party (no delivery, lost dispute).
	DealFailed,
	/// Client ratings of the services provided (MintAI).
	ClientRating,
	/// Drawn to vote on a claim and neither voted nor abstained.
	NotVoted,
}

/// Why a validator is slashed. Carried in the `Slashed` event.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum SlashReason {
	/// Slashed by governance (root).
	#[codec(index = 0)]
	Governance,
	/// A forged learning proof (model update claim rejected).
	#[codec(index = 1)]
	ForgedLearning,
	/// A forged query answer (inference or aggregation).
	#[codec(index = 2)]
	ForgedAnswer,
	/// A lost dispute in a market.
	#[codec(index = 3)]
	LostDispute,
	/// Failed to deliver what was sold.
	#[codec(index = 4)]
	NonDelivery,
	// Index 5 was the rejected test-only claim (removed in spec 125): never reuse it.
	/// A claim its claimant opened (a disagreeing answer, a model update) could not be decided:
	/// the claimant's opening bond is forfeited, so filling claim slots with claims nobody can
	/// decide is not free.
	#[codec(index = 6)]
	UndecidedClaim,
	/// Signed two blocks for one slot (BABE) or two votes in one GRANDPA round, reported with
	/// a proof through pallet-offences.
	#[codec(index = 7)]
	Equivocation,
}

/// Reads and changes reputations. Every change emits an event that carries the reason.
pub trait ReputationHandler<AccountId> {
	/// The account's current reputation (decay applied).
	fn reputation(who: &AccountId) -> Reputation;
	/// Raises the reputation by `amount`, saturating at the maximum.
	fn reward(who: &AccountId, amount: Reputation, reason: ReputationReason);
	/// Lowers the reputation by `amount`, saturating at zero.
	fn penalize(who: &AccountId, amount: Reputation, reason: ReputationReason);
	/// Sets the reputation to `score` (clamped to the maximum).
	fn set(who: &AccountId, score: Reputation, reason: ReputationReason);
}

/// What a slash took.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SlashOutcome<Balance> {
	/// Taken from the validator's own bond (active and unlocking).
	pub own: Balance,
	/// Taken from its delegators, together.
	pub delegated: Balance,
}

/// Slashes validators for provable misbehaviour.
pub trait Slashing<AccountId, Balance> {
	/// Cuts `fraction` of `who`'s bond and of every delegation to it, moves the funds to the
	/// slash destination, applies the reputation penalty and, if `chill`, removes `who` from the
	/// candidates. Returns what was taken.
	fn slash(who: &AccountId, fraction: Perbill, reason: SlashReason, chill: bool) -> Result<SlashOutcome<Balance>, DispatchError>;
	/// [`Slashing::slash`] for an act of `who` in session `backed_in` (a claim submitted then):
	/// only stake that backed `who` in that session pays — delegations begun in a later
	/// session are spared, and so is what had started unlocking before it; leaving or joining
	/// in that session itself pays. `None`: everything at the taking, as [`Slashing::slash`].
	fn slash_backing(
		who: &AccountId,
		fraction: Perbill,
		reason: SlashReason,
		chill: bool,
		backed_in: Option<claims::SessionIndex>,
	) -> Result<SlashOutcome<Balance>, DispatchError>;
	/// Takes up to `amount` from `who`'s own bond (active first, then unlocking), never from
	/// its delegators, to the slash destination, without touching its reputation: a fixed bond
	/// for an act of `who` alone (opening a claim nobody could decide). Returns what was taken.
	fn forfeit(who: &AccountId, amount: Balance, reason: SlashReason) -> Balance;
}
