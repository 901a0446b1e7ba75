//! A claim's electorate in storage: one [`BallotEntry`] per `(claim, voter)` in [`Ballots`] and
//! its size in [`ElectorateSizes`]. A vote touches its own ballot; only the tally, an escalation
//! and a rival's exclusion read the whole electorate (O(k) for a committee of k).

use crate::{Ballot, BallotEntry, Ballots, Config, ElectorateSizes, Pallet};
use alloc::vec::Vec;
use loopx_primitives::ClaimId;

impl<T: Config> Pallet<T> {
	/// The ballots of claim `id`, sorted by voter (empty once the claim is decided).
	pub fn electorate(id: ClaimId) -> Vec<Ballot<T::AccountId>> {
		let mut ballots: Vec<_> = Ballots::<T>::iter_prefix(id)
			.map(|(who, entry)| Ballot { who, weight: entry.weight, commitment: entry.commitment, verdict: entry.verdict })
			.collect();
		// Storage order follows the key's hash; sorted, every node tallies and reports the
		// voters in the same order as before the ballots had keys of their own.
		ballots.sort_by(|a, b| a.who.cmp(&b.who));
		ballots
	}

	/// How many ballots claim `id` has (without reading them).
	pub fn electorate_size(id: ClaimId) -> u32 {
		ElectorateSizes::<T>::get(id)
	}

	/// Writes the electorate of claim `id`, which has none (a claim opening, or escalating
	/// after the last round's ballots were cleared).
	pub(crate) fn put_electorate(id: ClaimId, ballots: &[Ballot<T::AccountId>]) {
		for b in ballots {
			Ballots::<T>::insert(id, &b.who, BallotEntry { weight: b.weight, commitment: b.commitment, verdict: b.verdict });
		}
		ElectorateSizes::<T>::insert(id, ballots.len() as u32);
	}

	/// Removes the electorate of claim `id` (when it escalates, or is pruned).
	pub(crate) fn clear_electorate(id: ClaimId) {
		let size = ElectorateSizes::<T>::take(id);
		// At most `size` keys (+1 so that a miscount cannot leave one behind unnoticed by the
		// invariant check, which compares the two).
		let _ = Ballots::<T>::clear_prefix(id, size.saturating_add(1), None);
	}
}
