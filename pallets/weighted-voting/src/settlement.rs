//! What a block's tallies owe their voters, written once a voter when the block's tallies end
//! instead of once a ballot. A tally of a 16-voter committee wrote four keys a voter
//! (reputation, the session's gain, verification points and the era's total), most of its cost;
//! a voter drawn for many of the claims decided in one block now gets one write of each.
//!
//! The sums are what the ballots added one by one: the gain cap of a session applies to the sum
//! as it applied to its parts, and penalties add up. Only at the bounds of reputation (zero, the
//! maximum) can the result differ from applying each ballot in turn: gains are applied before
//! penalties, so a voter at zero cannot cancel a penalty with a gain of the same block.

use alloc::collections::btree_map::BTreeMap;
use loopx_primitives::{ContributionCategory, ContributionSink, Reputation, ReputationHandler, ReputationReason};

/// One voter's sums over the ballots of the claims decided in a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owed {
	/// Reputation gained voting with outcomes.
	pub reward: Reputation,
	/// Verification points earned with it.
	pub points: u64,
	/// Reputation lost voting against outcomes.
	pub against: Reputation,
	/// Reputation lost for votes committed and never revealed.
	pub missed_reveal: Reputation,
	/// Reputation lost for drawn votes never cast.
	pub absent: Reputation,
}

/// The sums of every voter a block's tallies touched.
#[derive(Debug)]
pub struct Settlements<AccountId> {
	owed: BTreeMap<AccountId, Owed>,
}

impl<AccountId> Default for Settlements<AccountId> {
	fn default() -> Self {
		Self { owed: BTreeMap::new() }
	}
}

impl<AccountId: Ord + Clone> Settlements<AccountId> {
	/// Voters owed something (each costs one settlement when applied).
	pub fn voters(&self) -> usize {
		self.owed.len()
	}

	/// `who`'s sums, to add to.
	pub fn of(&mut self, who: &AccountId) -> &mut Owed {
		self.owed.entry(who.clone()).or_default()
	}

	/// Writes every voter's sums: gains and points first, then each kind of penalty with its
	/// own reason (so that events still say why).
	pub fn apply<R: ReputationHandler<AccountId>, C: ContributionSink<AccountId>>(self) {
		for (who, owed) in self.owed {
			settle::<AccountId, R, C>(&who, owed);
		}
	}
}

/// Writes one voter's sums (what the `settle_voter` benchmark measures).
pub fn settle<AccountId, R: ReputationHandler<AccountId>, C: ContributionSink<AccountId>>(who: &AccountId, owed: Owed) {
	if owed.reward > 0 {
		R::reward(who, owed.reward, ReputationReason::VotedWithOutcome);
	}
	if owed.points > 0 {
		C::note(who, ContributionCategory::Verification, owed.points);
	}
	for (amount, reason) in [
		(owed.against, ReputationReason::VotedAgainstOutcome),
		(owed.missed_reveal, ReputationReason::MissedReveal),
		(owed.absent, ReputationReason::NotVoted),
	] {
		if amount > 0 {
			R::penalize(who, amount, reason);
		}
	}
}
