//! Storage migrations.

/// v0 → v1: the open claims are counted per class in [`crate::OpenPerClass`].
pub mod v1 {
	use crate::{Claims, Config, OpenClaims, OpenPerClass, Pallet};
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
	use crate::{Claim, ClaimStatus, Claims, ClassParams, Config, Pallet};
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
			Claims::<T>::translate::<OldClaim<T::AccountId, BlockNumberFor<T>>, _>(|_, old| {
				n += 1;
				Some(Claim {
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
