//! `StakeReputationApi`: what workers and clients read about stake, reputation and the
//! validator sets (polkadot.js: `api.call.stakeReputationApi.*`).

use crate::ElectedValidator;
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// A validator candidate as the runtime API reports it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct CandidateInfo<AccountId, Balance> {
	/// The candidate.
	pub who: AccountId,
	/// Its own active bond.
	pub own: Balance,
	/// The sum of the delegations to it.
	pub delegated: Balance,
	/// Number of delegators.
	pub delegators: u32,
	/// Its current reputation.
	pub reputation: u32,
	/// Its commission.
	pub commission: Perbill,
	/// Whether it may be elected now (stake, reputation and session keys).
	pub eligible: bool,
}

sp_api::decl_runtime_apis! {
	/// Stake, reputation and validator weights.
	pub trait StakeReputationApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// The current reputation of `who`.
		fn reputation(who: AccountId) -> u32;
		/// `who`'s weights in the current session (zeros if it is not a validator).
		fn weight(who: AccountId) -> ElectedValidator<AccountId>;
		/// The validators of the current session with their weights.
		fn current_validators() -> Vec<ElectedValidator<AccountId>>;
		/// The validators elected for the next session with their weights.
		fn next_validators() -> Vec<ElectedValidator<AccountId>>;
		/// All validator candidates.
		fn candidates() -> Vec<CandidateInfo<AccountId, Balance>>;
	}
}
