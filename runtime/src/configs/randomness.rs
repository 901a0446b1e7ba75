//! On-chain randomness for the draws: the compute market's answerers and weighted voting's
//! committees.

use super::*;
use sp_consensus_babe::{digests::PreDigest, AuthorityId as BabeId, BabeAuthorityWeight, RANDOMNESS_VRF_CONTEXT};
use sp_core::crypto::Wraps;
use sp_runtime::traits::{BlakeTwo256, Hash as _};

/// The compute market's draw randomness: the VRF output of the parent block. The draw runs at
/// the end of the router window, blocks after the query was posted, so a client cannot know
/// whom it will draw (with the epoch's randomness and a sequential query number it could).
/// Before the first VRF output, or after a block without one, BABE's epoch randomness.
pub struct FreshRandomness;

impl frame_support::traits::Randomness<Hash, BlockNumber> for FreshRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		match pallet_babe::ParentBlockRandomness::<Runtime>::random(subject) {
			(Some(random), at) => (random, at),
			(None, _) => pallet_babe::RandomnessFromOneEpochAgo::<Runtime>::random(subject),
		}
	}
}

/// Randomness from the VRF output of the block being executed (its BABE pre-digest; every
/// LoopX slot, primary or secondary, carries one). A claim's committee is drawn in the block
/// the claim opens in: with the parent block's output (public once the parent is out) anyone
/// could work out the committee a claim would get in the next block and submit it only when
/// the committee suits them. This block's output is known to its author alone until the block
/// is published, so only a claimant that authors the very block its claim lands in can see its
/// committee first: a choice among its own slots, not among every block. Falls back to
/// [`FreshRandomness`] outside a BABE block (genesis, off-chain calls, tests).
pub struct BlockVrfRandomness;

impl BlockVrfRandomness {
	/// The VRF output of the block being executed, as BABE will deposit it at `on_finalize`.
	pub fn current_output() -> Option<[u8; 32]> {
		let pre_digest: PreDigest = pallet_babe::Initialized::<Runtime>::get().flatten()?;
		let signature = pre_digest.vrf_signature()?;
		let authorities = pallet_babe::Authorities::<Runtime>::get();
		let (author, _): &(BabeId, BabeAuthorityWeight) = authorities.get(pre_digest.authority_index() as usize)?;
		let transcript = sp_consensus_babe::make_vrf_transcript(
			&pallet_babe::Randomness::<Runtime>::get(),
			pallet_babe::CurrentSlot::<Runtime>::get(),
			pallet_babe::EpochIndex::<Runtime>::get(),
		);
		author.as_inner_ref().make_bytes(RANDOMNESS_VRF_CONTEXT, &transcript, &signature.pre_output).ok()
	}
}

impl frame_support::traits::Randomness<Hash, BlockNumber> for BlockVrfRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		match Self::current_output() {
			Some(output) => {
				let mut seed = subject.to_vec();
				seed.extend_from_slice(&output);
				(BlakeTwo256::hash(&seed), System::block_number())
			},
			None => FreshRandomness::random(subject),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::traits::Randomness;
	use sp_consensus_babe::digests::PrimaryPreDigest;
	use sp_core::{crypto::VrfSecret, sr25519, Pair};
	use sp_runtime::BuildStorage;

	fn ext() -> sp_io::TestExternalities {
		frame_system::GenesisConfig::<Runtime>::default().build_storage().expect("a genesis").into()
	}

	#[test]
	fn the_compute_market_draws_with_the_parent_blocks_vrf_output() {
		ext().execute_with(|| {
			let epoch = pallet_babe::RandomnessFromOneEpochAgo::<Runtime>::random(b"query 7").0;
			assert_eq!(FreshRandomness::random(b"query 7").0, epoch, "no VRF output yet: the epoch's");
			pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some([7u8; 32]));
			let fresh = FreshRandomness::random(b"query 7").0;
			assert_ne!(fresh, epoch);
			pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some([8u8; 32]));
			assert_ne!(FreshRandomness::random(b"query 7").0, fresh, "each block's output draws anew");
		});
	}

	/// Block `slot`, authored by `author` (the only BABE authority), as BABE's `on_initialize`
	/// leaves it: the pre-digest with the author's VRF signature for this slot.
	fn author_block(author: &sr25519::Pair, slot: u64) {
		let babe_id = BabeId::from(author.public());
		pallet_babe::Authorities::<Runtime>::put(frame_support::WeakBoundedVec::force_from(vec![(babe_id, 1)], None));
		pallet_babe::CurrentSlot::<Runtime>::put(sp_consensus_babe::Slot::from(slot));
		let transcript = sp_consensus_babe::make_vrf_transcript(
			&pallet_babe::Randomness::<Runtime>::get(),
			slot.into(),
			pallet_babe::EpochIndex::<Runtime>::get(),
		);
		let vrf_signature = author.vrf_sign(&transcript.into_sign_data());
		let digest = PreDigest::Primary(PrimaryPreDigest { authority_index: 0, slot: slot.into(), vrf_signature });
		pallet_babe::Initialized::<Runtime>::put(Some(digest));
	}

	#[test]
	fn committees_draw_with_this_blocks_vrf_output_which_the_parent_block_does_not_reveal() {
		ext().execute_with(|| {
			let author = sr25519::Pair::from_string("//Alice", None).expect("a dev key");
			// The parent's output, public to everyone who has the parent block.
			pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some([7u8; 32]));
			let predicted = FreshRandomness::random(b"committee 3").0;

			author_block(&author, 41);
			let drawn = BlockVrfRandomness::random(b"committee 3").0;
			assert_ne!(drawn, predicted, "the parent block's output does not tell the committee");

			// The author can work it out from its key alone (nobody else can before the block).
			let transcript = sp_consensus_babe::make_vrf_transcript(
				&pallet_babe::Randomness::<Runtime>::get(),
				41u64.into(),
				pallet_babe::EpochIndex::<Runtime>::get(),
			);
			let own: [u8; 32] = author.make_bytes(RANDOMNESS_VRF_CONTEXT, &transcript);
			assert_eq!(BlockVrfRandomness::current_output(), Some(own));

			// Another slot, another committee, with the same parent output.
			author_block(&author, 42);
			assert_ne!(BlockVrfRandomness::random(b"committee 3").0, drawn);
			assert_ne!(BlockVrfRandomness::random(b"committee 4").0, BlockVrfRandomness::random(b"committee 3").0);
		});
	}

	#[test]
	fn outside_a_babe_block_committees_fall_back_to_the_parent_output() {
		ext().execute_with(|| {
			pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some([7u8; 32]));
			assert_eq!(BlockVrfRandomness::random(b"committee 3"), FreshRandomness::random(b"committee 3"));
		});
	}
}
