//! Hands the elected weights to BABE and GRANDPA.
//!
//! pallet-babe's and pallet-grandpa's own session handlers give every authority weight 1. This
//! handler takes their place in pallet-session: at each session change it enacts the BABE epoch
//! with each validator's block-production weight (primary-slot probability ∝ weight) and
//! schedules the GRANDPA set with each validator's (capped) finality weight, keeping GRANDPA's
//! set-id bookkeeping exactly as pallet-grandpa does (`CurrentSetId`, `SetIdSession`, `Stalled`).

use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{
	traits::{Get, OneSessionHandler},
	WeakBoundedVec,
};
use pallet_session::SessionHandler;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::crypto::KeyTypeId;
use sp_runtime::traits::OpaqueKeys;

use crate::{AccountId, Babe, Grandpa, MaxAuthorities, Runtime, SessionKeys, StakeReputation};

/// The standard handlers (weight 1 for everyone), used at genesis and for everything but the
/// authority sets.
type Standard = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;

/// Block-production and finality weights of a session's validators (1 for an unknown one).
struct Weights {
	block: BTreeMap<AccountId, u64>,
	finality: BTreeMap<AccountId, u64>,
}

impl Weights {
	fn of_session(session: u32) -> Self {
		let elected = StakeReputation::weights_of_session(session);
		Self {
			block: elected.iter().map(|v| (v.who.clone(), v.weight.max(1))).collect(),
			finality: elected.iter().map(|v| (v.who.clone(), v.finality_weight.max(1))).collect(),
		}
	}
}

fn babe_authorities<Ks: OpaqueKeys>(set: &[(AccountId, Ks)], weights: &Weights) -> WeakBoundedVec<(BabeId, u64), MaxAuthorities> {
	let authorities: Vec<_> = set
		.iter()
		.filter_map(|(who, keys)| {
			let key = keys.get::<BabeId>(sp_consensus_babe::KEY_TYPE)?;
			Some((key, weights.block.get(who).copied().unwrap_or(1)))
		})
		.collect();
	WeakBoundedVec::force_from(authorities, Some("more BABE authorities than MaxAuthorities"))
}

fn grandpa_authorities<Ks: OpaqueKeys>(set: &[(AccountId, Ks)], weights: &Weights) -> sp_consensus_grandpa::AuthorityList {
	set.iter()
		.filter_map(|(who, keys)| {
			let key = keys.get::<GrandpaId>(sp_consensus_grandpa::KEY_TYPE)?;
			Some((key, weights.finality.get(who).copied().unwrap_or(1)))
		})
		.collect()
}

/// pallet-session's handler: BABE and GRANDPA with stake × reputation weights.
pub struct WeightedSessionHandler;

impl SessionHandler<AccountId> for WeightedSessionHandler {
	const KEY_TYPE_IDS: &'static [KeyTypeId] = <Standard as SessionHandler<AccountId>>::KEY_TYPE_IDS;

	fn on_genesis_session<Ks: OpaqueKeys>(validators: &[(AccountId, Ks)]) {
		// Genesis authorities start with equal weights; the first session change applies the
		// elected ones.
		<Standard as SessionHandler<AccountId>>::on_genesis_session::<Ks>(validators)
	}

	fn on_new_session<Ks: OpaqueKeys>(changed: bool, validators: &[(AccountId, Ks)], queued_validators: &[(AccountId, Ks)]) {
		let session = pallet_session::Pallet::<Runtime>::current_index();
		let now = Weights::of_session(session);
		let next = Weights::of_session(session.saturating_add(1));

		// BABE: this epoch's authorities were announced last epoch; announce the next ones.
		Babe::enact_epoch_change(babe_authorities(validators, &now), babe_authorities(queued_validators, &next), Some(session));

		// GRANDPA: as pallet-grandpa's handler, but with weights, and also when only the weights
		// changed.
		let next_set = grandpa_authorities(validators, &now);
		let mut set_id = pallet_grandpa::CurrentSetId::<Runtime>::get();
		if changed || next_set != Grandpa::grandpa_authorities() || pallet_grandpa::Stalled::<Runtime>::exists() {
			let scheduled = match pallet_grandpa::Stalled::<Runtime>::get() {
				Some((further_wait, median)) => Grandpa::schedule_change(next_set, further_wait, Some(median)),
				None => Grandpa::schedule_change(next_set, 0, None),
			};
			if scheduled.is_ok() {
				pallet_grandpa::Stalled::<Runtime>::kill();
				set_id = set_id.saturating_add(1);
				pallet_grandpa::CurrentSetId::<Runtime>::put(set_id);
				let keep: u64 = <<Runtime as pallet_grandpa::Config>::MaxSetIdSessionEntries as Get<u64>>::get().max(1);
				if set_id >= keep {
					pallet_grandpa::SetIdSession::<Runtime>::remove(set_id - keep);
				}
			}
		}
		pallet_grandpa::SetIdSession::<Runtime>::insert(set_id, session);
	}

	fn on_before_session_ending() {
		<Standard as SessionHandler<AccountId>>::on_before_session_ending()
	}

	fn on_disabled(validator_index: u32) {
		<Babe as OneSessionHandler<AccountId>>::on_disabled(validator_index);
		<Grandpa as OneSessionHandler<AccountId>>::on_disabled(validator_index);
	}
}
