//! `RewardsApi`: pending rewards and points (polkadot.js: `api.call.rewardsApi.*`).

use crate::{EraIndex, Points};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Rewards of accounts.
	pub trait RewardsApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// `who`'s unpaid rewards by ended, unexpired era (before sharing with its delegators).
		fn pending_rewards(who: AccountId) -> Vec<(EraIndex, Balance)>;
		/// `who`'s points in the current era, by category.
		fn current_points(who: AccountId) -> Points;
		/// The era in progress.
		fn current_era() -> EraIndex;
	}
}
