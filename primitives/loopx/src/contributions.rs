//! Contribution points and the reward pot: how the markets, the vote and block production tell
//! the rewards pallet who did useful work, and how market fees reach the pot.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{DispatchResult, Perbill};

/// The kinds of useful work rewarded from the pot, each with its own share of it.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, TypeInfo, MaxEncodedLen)]
pub enum ContributionCategory {
	/// Authoring blocks (fed from pallet-authorship).
	#[codec(index = 0)]
	BlockAuthoring,
	/// Accepted learning proofs (model updates).
	#[codec(index = 1)]
	Learning,
	/// Verification votes on the side of the outcome.
	#[codec(index = 2)]
	Verification,
	/// Accepted answers to queries.
	#[codec(index = 3)]
	QueryAnswer,
	/// Completed data sales.
	#[codec(index = 4)]
	DataSale,
	/// Matching orders and queries (routers).
	#[codec(index = 5)]
	Routing,
	/// Building: deployed models that were trained.
	#[codec(index = 6)]
	Building,
}

impl ContributionCategory {
	/// Every category, in index order.
	pub const ALL: [ContributionCategory; 7] =
		[Self::BlockAuthoring, Self::Learning, Self::Verification, Self::QueryAnswer, Self::DataSale, Self::Routing, Self::Building];

	/// The category's position in [`Self::ALL`].
	pub fn index(self) -> usize {
		self as usize
	}
}

/// Number of contribution categories.
pub const CATEGORIES: usize = ContributionCategory::ALL.len();

/// Records contribution points for the current era.
pub trait ContributionSink<AccountId> {
	/// `who` earned `points` in `category`.
	fn note(who: &AccountId, category: ContributionCategory, points: u64);
}

impl<AccountId> ContributionSink<AccountId> for () {
	fn note(_: &AccountId, _: ContributionCategory, _: u64) {}
}

/// Takes protocol fees from the markets: a share goes to the reward pot, the rest to the
/// treasury or is burned.
pub trait FeeSink<AccountId, Balance> {
	/// Moves `amount` of free balance from `from`.
	fn pay_fee(from: &AccountId, amount: Balance) -> DispatchResult;
}

/// Pays from the reward pot for work the protocol funds directly: the compute market's free
/// queries (MintAI's service passes, funded by inflation).
pub trait RewardPot<AccountId, Balance> {
	/// Moves `amount` from the pot to `to`; fails, moving nothing, if the pot holds less than
	/// that beyond what ended eras' accounts may still claim.
	fn spend(to: &AccountId, amount: Balance) -> DispatchResult;
	/// The pot's account (what a spend did not use goes back there).
	fn account() -> AccountId;
}

/// How a validator's reward is shared: commission first, then pro rata to backing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Exposure<AccountId> {
	/// The validator's commission.
	pub commission: Perbill,
	/// The validator's own active bond.
	pub own: u128,
	/// Delegators and their delegations (bounded by the staking pallet).
	pub delegations: Vec<(AccountId, u128)>,
}

/// The backing of a validator, for sharing its rewards with its delegators.
pub trait StakeExposure<AccountId> {
	/// `None` if `who` is not a validator candidate (its reward is then all its own).
	fn exposure(who: &AccountId) -> Option<Exposure<AccountId>>;
}
