//! Reports BABE equivocations (two blocks of one slot signed by one authority) with proofs the
//! runtime accepts.
//!
//! sc-consensus-babe 0.60 (polkadot-sdk stable2609) looks for equivocations in its block import,
//! after its verifier has moved each header's seal into the import's post-digests: the headers of
//! the proofs it submits carry no seal, and pallet-babe rejects every one of them
//! (`InvalidEquivocationProof`: the seal is the authority's signature over the header, the only
//! thing that proves the authority made it). This detector reads every imported block's header
//! as the database stores it, sealed, remembers which authority sealed which header in each
//! recent slot, and submits a proof when one authority sealed two. The runtime API drops unsealed
//! proofs, so the upstream ones no longer fill blocks with failing extrinsics.

use std::{collections::BTreeMap, sync::Arc};

use futures::StreamExt;
use loopx_runtime::opaque::Block;
use sc_client_api::BlockchainEvents;
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_consensus_babe::{digests::CompatibleDigestItem, AuthorityIndex, BabeApi, EquivocationProof, Slot};
use sp_runtime::traits::{Block as BlockT, Header as HeaderT};

use crate::service::FullClient;

type Header = <Block as BlockT>::Header;

const LOG_TARGET: &str = "babe-equivocation";

/// Slots remembered: an equivocation seen later than this many slots after the first header is
/// not reported by this node (sc-consensus-slots keeps as many).
const KEEP_SLOTS: u64 = 1000;

/// The sealed headers of recent slots, by slot and authority.
#[derive(Default)]
pub struct Detector {
	seen: BTreeMap<Slot, Vec<Seen>>,
}

struct Seen {
	authority: AuthorityIndex,
	header: Header,
	reported: bool,
}

/// Two different headers one authority sealed for one slot.
#[derive(Debug)]
pub struct Equivocation {
	pub slot: Slot,
	pub authority: AuthorityIndex,
	pub first: Header,
	pub second: Header,
}

impl Detector {
	/// Notes `header`; returns an equivocation the first time its authority is seen sealing a
	/// second, different header for its slot. Headers without a BABE pre-digest and seal (the
	/// genesis block, headers not imported whole) are ignored.
	pub fn note(&mut self, header: Header) -> Option<Equivocation> {
		let logs = header.digest().logs();
		logs.last()?.as_babe_seal()?;
		let pre_digest = logs.iter().find_map(|log| log.as_babe_pre_digest())?;
		let (slot, authority) = (pre_digest.slot(), pre_digest.authority_index());
		if let Some((&newest, _)) = self.seen.last_key_value() {
			if *slot + KEEP_SLOTS < *newest {
				return None;
			}
		}
		let entries = self.seen.entry(slot).or_default();
		let hash = header.hash();
		let found = entries.iter_mut().find(|e| e.authority == authority && e.header.hash() != hash);
		let equivocation = match found {
			Some(first) if !first.reported => {
				first.reported = true;
				Some(Equivocation { slot, authority, first: first.header.clone(), second: header.clone() })
			},
			_ => None,
		};
		if !entries.iter().any(|e| e.authority == authority && e.header.hash() == hash) {
			entries.push(Seen { authority, header, reported: equivocation.is_some() });
		}
		while self.seen.len() as u64 > KEEP_SLOTS {
			self.seen.pop_first();
		}
		equivocation
	}
}

/// Watches imported blocks and reports the equivocations found, until the node stops.
pub async fn run(client: Arc<FullClient>, offchain_tx_pool_factory: OffchainTransactionPoolFactory<Block>) {
	let mut detector = Detector::default();
	let mut imports = client.import_notification_stream();
	while let Some(imported) = imports.next().await {
		// Blocks of a major sync are history: their equivocations are stale (as upstream).
		if imported.origin == sp_consensus::BlockOrigin::NetworkInitialSync {
			continue;
		}
		let Ok(Some(header)) = client.header(imported.hash) else { continue };
		if let Some(equivocation) = detector.note(header) {
			if let Err(e) = report(&client, &offchain_tx_pool_factory, equivocation) {
				log::warn!(target: LOG_TARGET, "equivocation not reported: {e}");
			}
		}
	}
}

/// Builds the proof (the offender from the epoch of the slot), checks it as the runtime will,
/// adds the key-ownership proof and submits the unsigned report through the local pool.
fn report(client: &FullClient, pool: &OffchainTransactionPoolFactory<Block>, e: Equivocation) -> Result<(), String> {
	let api = client.runtime_api();
	let parent = *e.second.parent_hash();
	let mut epoch = api.current_epoch(parent).map_err(|err| err.to_string())?;
	if *e.slot >= *epoch.start_slot + epoch.duration {
		epoch = api.next_epoch(parent).map_err(|err| err.to_string())?;
	}
	let (offender, _) = epoch.authorities.get(e.authority as usize).cloned().ok_or("the authority is not in the slot's epoch")?;
	let proof = EquivocationProof { offender: offender.clone(), slot: e.slot, first_header: e.first, second_header: e.second };
	if !sp_consensus_babe::check_equivocation_proof(proof.clone()) {
		return Err(format!("the headers of slot {} do not prove an equivocation of {offender:?}", e.slot));
	}
	log::info!(
		target: LOG_TARGET,
		"⚠️ BABE authority {offender:?} sealed two blocks in slot {}: {:?} and {:?}",
		e.slot,
		proof.first_header.hash(),
		proof.second_header.hash()
	);
	// The proof of the offender's key in the session of the offence: from the parent's state,
	// or the best block's if the parent is of another session.
	let best = client.info().best_hash;
	let key_owner_proof = match api.generate_key_ownership_proof(parent, e.slot, offender.clone()).map_err(|err| err.to_string())? {
		Some(p) => p,
		None => api
			.generate_key_ownership_proof(best, e.slot, offender.clone())
			.map_err(|err| err.to_string())?
			.ok_or("the offender is not in the authority set")?,
	};
	let mut api = client.runtime_api();
	api.register_extension(pool.offchain_transaction_pool(best));
	api.submit_report_equivocation_unsigned_extrinsic(best, proof, key_owner_proof)
		.map_err(|err| err.to_string())?
		.ok_or("the runtime did not take the report")?;
	log::info!(target: LOG_TARGET, "submitted the equivocation report of {offender:?} for slot {}", e.slot);
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_consensus_babe::{
		digests::{PreDigest, SecondaryPlainPreDigest},
		AuthorityPair,
	};
	use sp_core::{crypto::Pair, H256};
	use sp_runtime::{Digest, DigestItem};

	/// A header of `slot` by `authority` (index `index`), sealed with its key; `salt` makes
	/// headers of the same slot differ.
	fn sealed(key: &AuthorityPair, index: u32, slot: u64, salt: u8, seal: bool) -> Header {
		let pre = DigestItem::babe_pre_digest(PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index: index, slot: slot.into() }));
		let mut header = Header::new(7, H256::repeat_byte(salt), H256::zero(), H256::repeat_byte(1), Digest { logs: vec![pre] });
		if seal {
			let signature = key.sign(header.hash().as_ref());
			header.digest_mut().push(DigestItem::babe_seal(signature));
		}
		header
	}

	fn key(seed: u8) -> AuthorityPair {
		AuthorityPair::from_seed(&[seed; 32])
	}

	#[test]
	fn two_sealed_headers_of_one_slot_and_authority_prove_an_equivocation_the_runtime_accepts() {
		let dave = key(4);
		let mut d = Detector::default();
		assert!(d.note(sealed(&dave, 3, 100, 1, true)).is_none());
		let e = d.note(sealed(&dave, 3, 100, 2, true)).expect("an equivocation");
		assert_eq!((*e.slot, e.authority), (100, 3));
		let proof = EquivocationProof { offender: dave.public(), slot: e.slot, first_header: e.first, second_header: e.second };
		assert!(sp_consensus_babe::check_equivocation_proof(proof));
	}

	#[test]
	fn the_upstream_unsealed_headers_would_not_prove_anything() {
		// What sc-consensus-babe 0.60 submits: the same headers without their seals.
		let dave = key(4);
		let (a, b) = (sealed(&dave, 3, 100, 1, false), sealed(&dave, 3, 100, 2, false));
		let proof = EquivocationProof { offender: dave.public(), slot: 100.into(), first_header: a.clone(), second_header: b.clone() };
		assert!(!sp_consensus_babe::check_equivocation_proof(proof));
		let mut d = Detector::default();
		assert!(d.note(a).is_none() && d.note(b).is_none(), "unsealed headers are not noted");
	}

	#[test]
	fn the_same_header_twice_other_authorities_and_other_slots_are_no_equivocation() {
		let (dave, bob) = (key(4), key(2));
		let mut d = Detector::default();
		let h = sealed(&dave, 3, 100, 1, true);
		assert!(d.note(h.clone()).is_none());
		assert!(d.note(h).is_none(), "the same block imported twice");
		assert!(d.note(sealed(&bob, 1, 100, 2, true)).is_none(), "another authority in the slot");
		assert!(d.note(sealed(&dave, 3, 101, 3, true)).is_none(), "the next slot");
	}

	#[test]
	fn an_equivocation_is_reported_once_and_old_slots_are_forgotten() {
		let dave = key(4);
		let mut d = Detector::default();
		d.note(sealed(&dave, 3, 100, 1, true));
		assert!(d.note(sealed(&dave, 3, 100, 2, true)).is_some());
		assert!(d.note(sealed(&dave, 3, 100, 3, true)).is_none(), "a third header of the slot: reported already");
		for slot in 101..=100 + KEEP_SLOTS + 5 {
			d.note(sealed(&dave, 3, slot, 1, true));
		}
		assert!(d.seen.len() as u64 <= KEEP_SLOTS);
		assert!(d.note(sealed(&dave, 3, 100, 9, true)).is_none(), "slot 100 is too old now");
	}
}
