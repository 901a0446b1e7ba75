//! Storage migrations.

/// v0 → v1: the open claims are counted per class in [`crate::OpenPerClass`].
pub mod v1 {
	use crate::{migrations::v6::v5_layout::OpenClaims, Claims, Config, OpenPerClass, Pallet};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// The unversioned step (wrapped in [`MigrateV0ToV1`]).
	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let open = OpenClaims::<T>::get();
			for id in open.iter() {
				if let Some(claim) = Claims::<T>::get(id) {
					OpenPerClass::<T>::mutate(claim.class, |n| *n = n.saturating_add(1));
				}
			}
			let n = open.len() as u64;
			T::DbWeight::get().reads_writes(1 + 2 * n, n)
		}
	}

	/// Runs [`InnerMigrateV0ToV1`] once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<0, 1, InnerMigrateV0ToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

/// v1 → v2: claims may seal their claimed score ([`crate::Claim::sealed_score`]) and name a
/// score to beat ([`crate::Claim::must_beat`]); the claims stored before showed theirs and
/// named none.
pub mod v2 {
	use crate::{ClaimStatus, ClassParams, Config, Pallet};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use loopx_primitives::{ClaimClass, Thresholds};
	use sp_core::H256;

	/// A claim as storage version 1 kept it.
	#[derive(Encode, Decode)]
	pub struct OldClaim<AccountId, BlockNumber> {
		/// The class.
		pub class: ClaimClass,
		/// Who claims.
		pub claimant: AccountId,
		/// What the claim is about.
		pub subject: H256,
		/// Commitment to what is claimed.
		pub commitment: H256,
		/// Score mode: the score claimed.
		pub claimed_score: Option<u32>,
		/// The thresholds the electorate was drawn with.
		pub thresholds: Thresholds,
		/// The class parameters when the claim opened.
		pub params: ClassParams<BlockNumber>,
		/// Block in which it opened.
		pub opened_at: BlockNumber,
		/// End of the commit period.
		pub commit_end: BlockNumber,
		/// End of the reveal period.
		pub reveal_end: BlockNumber,
		/// Total weight of the electorate.
		pub eligible_weight: u128,
		/// Voting or decided.
		pub status: ClaimStatus<BlockNumber>,
	}

	/// The unversioned step (wrapped in [`MigrateV1ToV2`]).
	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut n = 0u64;
			// Written in the layout of versions 2 to 4 (v5 adds a field of its own).
			crate::migrations::v5::ClaimsV4::<T>::translate::<OldClaim<T::AccountId, BlockNumberFor<T>>, _>(|_, old| {
				n += 1;
				Some(crate::migrations::v5::ClaimV4 {
					class: old.class,
					claimant: old.claimant,
					subject: old.subject,
					commitment: old.commitment,
					claimed_score: old.claimed_score,
					sealed_score: None,
					must_beat: None,
					thresholds: old.thresholds,
					params: old.params,
					opened_at: old.opened_at,
					commit_end: old.commit_end,
					reveal_end: old.reveal_end,
					eligible_weight: old.eligible_weight,
					status: old.status,
				})
			});
			T::DbWeight::get().reads_writes(n, n)
		}
	}

	/// Runs [`InnerMigrateV1ToV2`] once, from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<1, 2, InnerMigrateV1ToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

/// v2 → v3: each open claim's electorate moves from one vector ([`v3::Electorates`]) to one
/// ballot per `(claim, voter)` in [`crate::Ballots`] with its size in
/// [`crate::ElectorateSizes`], so that a vote no longer reads and rewrites every ballot.
pub mod v3 {
	use crate::{Ballot, BallotEntry, Ballots, Config, ElectorateSizes, Pallet};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use loopx_primitives::ClaimId;

	/// The electorates as storage version 2 kept them: one vector per claim, sorted by voter.
	#[storage_alias]
	pub type Electorates<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		ClaimId,
		BoundedVec<Ballot<<T as frame_system::Config>::AccountId>, <T as Config>::MaxVoters>,
		ValueQuery,
	>;

	/// The unversioned step (wrapped in [`MigrateV2ToV3`]). Only open claims have an
	/// electorate (at most `MaxOpenClaims` of `MaxVoters` ballots), so it runs in one block.
	pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut claims, mut ballots) = (0u64, 0u64);
			for (id, electorate) in Electorates::<T>::drain() {
				claims += 1;
				ballots += electorate.len() as u64;
				ElectorateSizes::<T>::insert(id, electorate.len() as u32);
				for b in electorate {
					Ballots::<T>::insert(id, b.who, BallotEntry { weight: b.weight, commitment: b.commitment, verdict: b.verdict });
				}
			}
			T::DbWeight::get().reads_writes(claims, 2 * claims + ballots)
		}
	}

	/// Runs [`InnerMigrateV2ToV3`] once, from storage version 2 to 3.
	pub type MigrateV2ToV3<T> = VersionedMigration<2, 3, InnerMigrateV2ToV3<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

/// v3 → v4: the test-only claim class (`ClaimClass` index 4, opened by root through
/// `open_test_claim` on development chains) is gone from the runtime. Its parameters, committee
/// size, quota and count, and its claims with their ballots, deadlines and queue places, would
/// no longer decode: they are removed.
pub mod v4 {
	use crate::{
		migrations::v6::v5_layout::{Deadlines, OpenClaims, TallyQueue},
		Ballots, ClaimQueue, Claims, ClassParameters, ClassQuotas, CommitteeConflicts, CommitteeSizes, Committees, Config, ElectorateSizes,
		OpenPerClass, Pallet, QueuedConflicts,
	};
	use alloc::{collections::btree_set::BTreeSet, vec::Vec};
	use frame_support::{
		migrations::VersionedMigration,
		storage::{unhashed, StoragePrefixedMap},
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
		StorageHasher, Twox64Concat,
	};
	use loopx_primitives::ClaimId;

	/// The SCALE index the test class had.
	pub const RETIRED_CLASS: u8 = 4;

	/// The raw key of the retired class in a map keyed by class (`Twox64Concat`) with the
	/// final prefix `prefix`.
	pub fn retired_key(prefix: [u8; 32]) -> Vec<u8> {
		let mut key = prefix.to_vec();
		key.extend(Twox64Concat::hash(&[RETIRED_CLASS]));
		key
	}

	/// The claims of the retired class: a stored claim starts with its class.
	pub fn retired_claims<T: Config>() -> BTreeSet<ClaimId> {
		Claims::<T>::iter_keys()
			.filter(|id| unhashed::get_raw(&Claims::<T>::hashed_key_for(id)).is_some_and(|raw| raw.first() == Some(&RETIRED_CLASS)))
			.collect()
	}

	/// The unversioned step (wrapped in [`MigrateV3ToV4`]). Claims are pruned after they are
	/// decided, so the scan is bounded by `MaxOpenClaims`, `MaxQueuedClaims` and the pruning
	/// window; it runs in one block.
	pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut writes = 4u64;
			for prefix in [
				ClassParameters::<T>::final_prefix(),
				CommitteeSizes::<T>::final_prefix(),
				ClassQuotas::<T>::final_prefix(),
				OpenPerClass::<T>::final_prefix(),
			] {
				unhashed::kill(&retired_key(prefix));
			}
			let scanned = Claims::<T>::iter_keys().count() as u64;
			let retired = retired_claims::<T>();
			let mut ballots = 0u64;
			for id in retired.iter() {
				Claims::<T>::remove(id);
				ballots += u64::from(Ballots::<T>::clear_prefix(id, u32::MAX, None).backend);
				ElectorateSizes::<T>::remove(id);
				Committees::<T>::remove(id);
				CommitteeConflicts::<T>::remove(id);
				QueuedConflicts::<T>::remove(id);
				writes += 6;
			}
			let mut deadlines = 0u64;
			if !retired.is_empty() {
				OpenClaims::<T>::mutate(|open| open.retain(|id| !retired.contains(id)));
				ClaimQueue::<T>::mutate(|queue| queue.retain(|id| !retired.contains(id)));
				TallyQueue::<T>::mutate(|queue| queue.retain(|id| !retired.contains(id)));
				let keys: Vec<_> = Deadlines::<T>::iter_keys().collect();
				deadlines = keys.len() as u64;
				for at in keys {
					Deadlines::<T>::mutate_exists(at, |due| {
						if let Some(ids) = due {
							ids.retain(|id| !retired.contains(id));
							if ids.is_empty() {
								*due = None;
							}
						}
					});
				}
				writes += 3 + deadlines;
			}
			log::info!(target: "runtime::weighted-voting", "v4: {} claims of the retired test class removed", retired.len());
			T::DbWeight::get().reads_writes(3 + 2 * scanned + deadlines, writes + ballots)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			for prefix in [
				ClassParameters::<T>::final_prefix(),
				CommitteeSizes::<T>::final_prefix(),
				ClassQuotas::<T>::final_prefix(),
				OpenPerClass::<T>::final_prefix(),
			] {
				frame_support::ensure!(!unhashed::exists(&retired_key(prefix)), "the retired class is still configured");
			}
			frame_support::ensure!(retired_claims::<T>().is_empty(), "a claim of the retired class is left");
			// The pallet's invariants hold for the layout of the last version (checked after v6).
			Ok(())
		}
	}

	/// Runs [`InnerMigrateV3ToV4`] once, from storage version 3 to 4.
	pub type MigrateV3ToV4<T> = VersionedMigration<3, 4, InnerMigrateV3ToV4<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

/// v4 → v5: a claim records the session it was submitted in ([`crate::Claim::submitted_in`]),
/// so that only the stake that backed its claimant then pays a rejection's slash. Claims stored
/// before did not record it: `None` (everything at the taking pays, as before).
pub mod v5 {
	use crate::{Claim, ClaimStatus, Claims, ClassParams, Config, Pallet};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use loopx_primitives::{ClaimId, ScoreBound, Thresholds};
	use sp_core::H256;

	/// A claim as storage versions 2 to 4 kept it.
	#[derive(Encode, Decode, Clone, PartialEq, Debug)]
	pub struct ClaimV4<AccountId, BlockNumber> {
		pub class: loopx_primitives::ClaimClass,
		pub claimant: AccountId,
		pub subject: H256,
		pub commitment: H256,
		pub claimed_score: Option<u32>,
		pub sealed_score: Option<H256>,
		pub must_beat: Option<ScoreBound>,
		pub thresholds: Thresholds,
		pub params: ClassParams<BlockNumber>,
		pub opened_at: BlockNumber,
		pub commit_end: BlockNumber,
		pub reveal_end: BlockNumber,
		pub eligible_weight: u128,
		pub status: ClaimStatus<BlockNumber>,
	}

	/// The claims (`WeightedVoting::Claims`) read in the layout of versions 2 to 4.
	pub mod v4_layout {
		use super::*;

		#[storage_alias]
		pub type Claims<T: Config> = StorageMap<Pallet<T>, Twox64Concat, ClaimId, ClaimV4<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>>;
	}
	pub use v4_layout::Claims as ClaimsV4;

	/// The unversioned step (wrapped in [`MigrateV4ToV5`]). Claims are pruned after they are
	/// decided, so the map holds at most the open, queued and recently decided ones.
	pub struct InnerMigrateV4ToV5<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV4ToV5<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut n = 0u64;
			Claims::<T>::translate::<ClaimV4<T::AccountId, BlockNumberFor<T>>, _>(|_, old| {
				n += 1;
				Some(Claim {
					class: old.class,
					claimant: old.claimant,
					subject: old.subject,
					commitment: old.commitment,
					claimed_score: old.claimed_score,
					sealed_score: old.sealed_score,
					must_beat: old.must_beat,
					thresholds: old.thresholds,
					params: old.params,
					opened_at: old.opened_at,
					submitted_in: None,
					commit_end: old.commit_end,
					reveal_end: old.reveal_end,
					eligible_weight: old.eligible_weight,
					status: old.status,
				})
			});
			T::DbWeight::get().reads_writes(n, n)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((ClaimsV4::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..]).map_err(|_| "the pre-upgrade count")?;
			frame_support::ensure!(Claims::<T>::iter().count() as u64 == before, "a claim did not decode after v5");
			// The pallet's invariants hold for the layout of the last version (checked after v6).
			Ok(())
		}
	}

	/// Runs [`InnerMigrateV4ToV5`] once, from storage version 4 to 5.
	pub type MigrateV4ToV5<T> = VersionedMigration<4, 5, InnerMigrateV4ToV5<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

/// v5 → v6: the open claims and the deadlines have one key per claim ([`crate::OpenClaims`], a
/// counted map; [`crate::Deadlines`], a `(block, claim)` double map) instead of one list each,
/// so that opening or deciding a claim writes its own keys whatever the number open, and the
/// tally queue is gone: claims wait at their deadline and the tallies resume from
/// [`crate::TallyIncompleteSince`].
pub mod v6 {
	use crate::{Claims, Config, Deadlines, OpenClaims, Pallet, TallyIncompleteSince};
	use alloc::vec::Vec;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use loopx_primitives::ClaimId;

	/// The lists of versions up to 5 (under the same names).
	pub mod v5_layout {
		use super::*;
		use frame_support::storage_alias;

		/// The claims not yet decided, in the order they opened.
		#[storage_alias]
		pub type OpenClaims<T: Config> = StorageValue<Pallet<T>, Vec<ClaimId>, ValueQuery>;

		/// The claims whose reveal period ends at the start of a block.
		#[storage_alias]
		pub type Deadlines<T: Config> = StorageMap<Pallet<T>, Twox64Concat, BlockNumberFor<T>, Vec<ClaimId>, ValueQuery>;

		/// Claims whose reveal period is over, waiting for their tally (oldest first).
		#[storage_alias]
		pub type TallyQueue<T: Config> = StorageValue<Pallet<T>, Vec<ClaimId>, ValueQuery>;
	}

	/// The unversioned step (wrapped in [`MigrateV5ToV6`]): at most `MaxOpenClaims` claims (256
	/// in the runtimes of version 5), so it runs in one block.
	pub struct InnerMigrateV5ToV6<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV5ToV6<T> {
		fn on_runtime_upgrade() -> Weight {
			// The old lists are read whole before a key of the new layout (under the same
			// prefixes) is written.
			let open = v5_layout::OpenClaims::<T>::take();
			let deadlines: Vec<(BlockNumberFor<T>, Vec<ClaimId>)> = v5_layout::Deadlines::<T>::drain().collect();
			let waiting = v5_layout::TallyQueue::<T>::take();
			for id in open.iter() {
				OpenClaims::<T>::insert(id, ());
			}
			let mut writes = 3 + 2 * open.len() as u64;
			for (at, ids) in deadlines.iter() {
				for id in ids {
					Deadlines::<T>::insert(at, id, ());
					writes += 1;
				}
			}
			// Claims that waited for a tally wait at their own deadline; the tallies resume from
			// the earliest.
			let mut since: Option<BlockNumberFor<T>> = None;
			for id in waiting.iter() {
				if let Some(claim) = Claims::<T>::get(id) {
					Deadlines::<T>::insert(claim.reveal_end, id, ());
					since = Some(since.map_or(claim.reveal_end, |s| s.min(claim.reveal_end)));
					writes += 1;
				}
			}
			if let Some(since) = since {
				TallyIncompleteSince::<T>::put(since);
			}
			log::info!(
				target: "runtime::weighted-voting",
				"v6: {} open claims, {} deadlines and {} waiting tallies moved to keys of their own",
				open.len(),
				deadlines.len(),
				waiting.len()
			);
			T::DbWeight::get().reads_writes(3 + deadlines.len() as u64 + waiting.len() as u64, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((v5_layout::OpenClaims::<T>::get().len() as u32).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u32::decode(&mut &state[..]).map_err(|_| "the pre-upgrade count")?;
			frame_support::ensure!(OpenClaims::<T>::count() == before, "an open claim was lost in v6");
			Pallet::<T>::do_try_state()
		}
	}

	/// Runs [`InnerMigrateV5ToV6`] once, from storage version 5 to 6.
	pub type MigrateV5ToV6<T> = VersionedMigration<5, 6, InnerMigrateV5ToV6<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
