//! # Stake and reputation pallet
//!
//! LoopX's "proof of stake with weighted voting": accounts bond LPX, validators are elected each
//! session from the candidates above a stake and a reputation threshold, and each validator's
//! weight is its backing (own bond + delegations) times `1,000,000 + reputation`
//! ([`loopx_primitives::stake_weight`]: reputation moves a weight by a factor of two at most, so
//! it cannot stand in for stake). The weights become BABE
//! authority weights (primary-slot leader probability) and GRANDPA voter weights (wired in the
//! runtime). Reputation is earned and lost through [`ReputationHandler`], which the markets and
//! the voting pallet call; slashing through [`Slashing`].
//!
//! ## Overview
//!
//! - **Bonds**: [`Pallet::bond`], [`Pallet::bond_extra`], [`Pallet::unbond`] into unlocking
//!   chunks that mature after [`Config::BondingDuration`] sessions, [`Pallet::withdraw_unbonded`],
//!   [`Pallet::rebond`]. Bonded funds are held under [`HoldReason::Staking`].
//! - **Candidacy**: [`Pallet::validate`] (needs session keys, minimum stake and reputation) and
//!   [`Pallet::chill`]. A candidate's commission raise takes effect from the next session
//!   ([`PendingCommission`]), so its delegators always see it coming; a cut applies at once.
//! - **Delegation**: [`Pallet::delegate`] and [`Pallet::undelegate`]. The undelegated amount
//!   unlocks like an unbond but stays with its validator ([`Undelegating`]) until it matures, so
//!   it shares that validator's slashes: a delegator who sees its validator accused cannot
//!   undelegate its way out of the slash. Delegators share their validator's slashes pro rata.
//!   A validator keeps its [`Config::MaxDelegatorsPerValidator`] largest delegations: when they
//!   are all taken, a larger one takes the place of the smallest, which is undelegated
//!   ([`Event::DelegationEvicted`]), so minimum-sized delegations cannot close a validator to
//!   real backers. Pairs still unlocking count against a second bound of as many again.
//! - **Reputation**: a score in `0..=MaxReputation`. A new account starts at
//!   [`Config::InitialReputation`] (the validator minimum in the runtime, not the neutral
//!   score), so a slashed validator gains nothing by bonding again under a fresh account; once
//!   recorded, a score above neutral decays toward it by [`Config::ReputationDecay`] per session
//!   and one below recovers by [`Config::PenaltyRecovery`] (computed lazily: no hook walks all
//!   accounts).
//! - **Election** (each session, as pallet-session's `SessionManager`): eligible candidates by
//!   weight, top [`Config::MaxValidators`], deterministic tie-break, no share above
//!   [`Config::MaxWeightShare`]; never an empty set.
//! - **Slashing**: [`Slashing::slash`] cuts the bond and delegations by a fraction, sends the
//!   funds to [`Config::SlashDestination`] (or burns them), penalises reputation and can chill.
//!   With [`SlashDeferSessions`] set, the funds are taken only at the start of a later session
//!   ([`DeferredSlashes`], like pallet-staking's deferred slashes), so that
//!   [`Config::SlashCancelOrigin`] can cancel a wrong verdict ([`Pallet::cancel_deferred_slash`]);
//!   meanwhile nobody delegates to the offender and no funds it could cut are withdrawn.
//! - **Offences** proven by consensus (BABE and GRANDPA equivocations, through pallet-offences:
//!   [`offences`]): the offender is slashed by the offence's fraction like any slash, chilled,
//!   and disabled for the rest of the session ([`Config::Disabler`]); one session's offences
//!   cost at most their largest fraction ([`OffenceSlashes`]).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod election;
pub mod migrations;
pub mod offences;
pub mod reputation;
pub mod runtime_api;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
		Contains,
	},
	BoundedVec, CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::*;
use loopx_primitives::{Reputation, ReputationHandler, ReputationReason, SlashOutcome, SlashReason, Slashing};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};
use sp_staking::SessionIndex;

pub use election::ElectedValidator;
pub use offences::DisableValidator;
pub use pallet::*;
pub use reputation::ReputationRecord;
pub use weights::WeightInfo;

/// A delegator and its delegation to some validator.
pub type DelegationOf<T> = (<T as frame_system::Config>::AccountId, BalanceOf<T>);

/// The balance type of the currency that is staked.
pub type BalanceOf<T> = <<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Part of a bond on its way out: `value` becomes withdrawable in session `unlock_in`.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct UnlockChunk<Balance> {
	/// Amount unlocking.
	pub value: Balance,
	/// First session in which it can be withdrawn.
	pub unlock_in: SessionIndex,
}

/// An account's bond: what is active (backs a candidacy) and what is unlocking.
#[derive(Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, DefaultNoBound, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Ledger<T: Config> {
	/// Bonded and counting toward a candidacy.
	pub active: BalanceOf<T>,
	/// Unbonded, still held until each chunk matures.
	pub unlocking: BoundedVec<UnlockChunk<BalanceOf<T>>, T::MaxUnlockingChunks>,
}

impl<T: Config> Ledger<T> {
	/// Everything this ledger holds (active and unlocking).
	pub fn total(&self) -> BalanceOf<T> {
		self.unlocking.iter().fold(self.active, |acc, c| acc.saturating_add(c.value))
	}
}

/// Sets up, for the benchmarks, state that belongs to other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers session keys for `who`, so that [`Config::HasSessionKeys`] holds for it.
	fn register_session_keys(who: &AccountId);
}

/// A slash reported but not applied yet ([`DeferredSlashes`]): its funds are taken at the
/// start of the session it is filed under, unless [`Config::SlashCancelOrigin`] cancels it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct DeferredSlash<AccountId> {
	/// The offender.
	pub who: AccountId,
	/// The share of its own and its delegators' stake to take.
	pub fraction: Perbill,
	/// Why.
	pub reason: SlashReason,
	/// The session in which it was reported.
	pub reported_in: SessionIndex,
	/// For an offence proven by consensus, the session it was committed in: only the stake
	/// that backed the offender then pays ([`Pallet::take_slash`]). `None` for a claim's
	/// verdict: every delegation and unlocking chunk at the application pays.
	pub offence_in: Option<SessionIndex>,
}

/// A validator candidate.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Candidate<Balance> {
	/// The share of the validator's rewards kept before its delegators are paid.
	pub commission: Perbill,
	/// Sum of the delegations to this candidate.
	pub delegated: Balance,
	/// Number of delegators: pairs with an active delegation or unlocking chunks (at most twice
	/// [`Config::MaxDelegatorsPerValidator`]; the active ones at most that many).
	pub delegators: u32,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version. v1: deferred slashes name the session of their offence
	/// ([`crate::migrations::v1`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The staked currency: bonds and delegations are held on it.
		type Currency: Inspect<Self::AccountId> + Mutate<Self::AccountId> + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Smallest active bond an account may have (other than zero).
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// Smallest own bond of a validator candidate.
		#[pallet::constant]
		type MinValidatorStake: Get<BalanceOf<Self>>;

		/// Smallest delegation.
		#[pallet::constant]
		type MinDelegation: Get<BalanceOf<Self>>;

		/// Smallest reputation of a validator candidate.
		#[pallet::constant]
		type MinValidatorReputation: Get<Reputation>;

		/// The highest reputation.
		#[pallet::constant]
		type MaxReputation: Get<Reputation>;

		/// Where recorded reputations decay (from above) and recover (from below) to.
		#[pallet::constant]
		type NeutralReputation: Get<Reputation>;

		/// The reputation of an account that has none recorded: where a new account starts.
		/// At most [`Config::NeutralReputation`]; the runtime sets it to the validator minimum, so
		/// that a fresh account (a slashed validator bonding again under a new key, a sybil) is
		/// barely eligible and must earn its way up.
		#[pallet::constant]
		type InitialReputation: Get<Reputation>;

		/// The fraction of the distance to neutral that a reputation *above* neutral loses each
		/// session.
		#[pallet::constant]
		type ReputationDecay: Get<Perbill>;

		/// The fraction of the distance to neutral that a reputation *below* neutral regains
		/// each session. Smaller than [`Config::ReputationDecay`]: a penalty outlasts a gain, so
		/// a cheat cannot wait its penalty away as fast as it lost it.
		#[pallet::constant]
		type PenaltyRecovery: Get<Perbill>;

		/// The most reputation one account gains in one session; rewards past it are dropped
		/// ([`Event::ReputationGainCapped`]). Whatever volume of work (or of self-dealing that
		/// slips past the markets' rules) an account does, its reputation rises no faster.
		#[pallet::constant]
		type MaxGainPerSession: Get<Reputation>;

		/// Size of the validator set.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Below this many eligible candidates the current set is kept.
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// Most candidates at once (bounds the election's work).
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Most active delegations of one validator: the largest are kept (a larger newcomer
		/// evicts the smallest). As many more delegators may be only unlocking, so a validator
		/// has at most twice this many (this bounds a slash's work).
		#[pallet::constant]
		type MaxDelegatorsPerValidator: Get<u32>;

		/// Most validators one account delegates to.
		#[pallet::constant]
		type MaxDelegationsPerDelegator: Get<u32>;

		/// Most unlocking chunks in a ledger.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;

		/// Sessions an unbonded amount stays held before it can be withdrawn.
		#[pallet::constant]
		type BondingDuration: Get<SessionIndex>;

		/// Largest share of the total weight one validator may have (below 1/3 so that no single
		/// validator can stall GRANDPA alone).
		#[pallet::constant]
		type MaxWeightShare: Get<Perbill>;

		/// Reputation lost with every slash.
		#[pallet::constant]
		type SlashReputationPenalty: Get<Reputation>;

		/// Where slashed funds go; `None` burns them.
		type SlashDestination: Get<Option<Self::AccountId>>;

		/// Whether an account has registered session keys (pallet-session's `set_keys`).
		type HasSessionKeys: Contains<Self::AccountId>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// The origin of the privileged calls ([`Pallet::set_reputation`],
		/// [`Pallet::force_slash`]): governance on a public chain, root on the dev chain.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The origin that cancels a deferred slash ([`Pallet::cancel_deferred_slash`]): a
		/// governance track on a public chain, root on the dev chain.
		type SlashCancelOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Most slashes deferred to one session; past it a slash is applied at once.
		#[pallet::constant]
		type MaxDeferredSlashes: Get<u32>;

		/// Disables an offender for the rest of its session (pallet-session's disabling in the
		/// runtime).
		type Disabler: DisableValidator<Self::AccountId>;

		/// Sets up, for the benchmarks, what this pallet's calls cannot (session keys).
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Reasons for which this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Bonded, delegated or unlocking stake.
		#[codec(index = 0)]
		Staking,
	}

	/// The session in progress.
	#[pallet::storage]
	pub type CurrentSession<T> = StorageValue<_, SessionIndex, ValueQuery>;

	/// The reputation an account gained in the session it last gained in (for
	/// [`Config::MaxGainPerSession`]). One entry per account ever rewarded, like
	/// [`Reputations`]; rewritten, never grown, by later gains.
	#[pallet::storage]
	pub type SessionGains<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, (SessionIndex, Reputation)>;

	/// Bonds by account.
	#[pallet::storage]
	pub type Ledgers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Ledger<T>>;

	/// Validator candidates.
	#[pallet::storage]
	pub type Candidates<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, Candidate<BalanceOf<T>>>;

	/// Delegations: validator → delegator → amount.
	#[pallet::storage]
	pub type Delegations<T: Config> = StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// The validators each account delegates to, or has undelegated from while the amount is
	/// still unlocking ([`Undelegating`]).
	#[pallet::storage]
	pub type DelegationsOf<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BoundedVec<T::AccountId, T::MaxDelegationsPerDelegator>, ValueQuery>;

	/// Undelegated amounts on their way out: validator → delegator → chunks. They are held until
	/// each chunk matures and stay slashable for the validator's offences until then (like
	/// pallet-staking's unlocking chunks). A (validator, delegator) pair keeps its delegator slot
	/// while it has an active delegation or unlocking chunks.
	#[pallet::storage]
	pub type Undelegating<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<UnlockChunk<BalanceOf<T>>, T::MaxUnlockingChunks>,
		ValueQuery,
	>;

	/// A candidate's raised commission and the session from which it applies (until then the
	/// candidate's current commission holds).
	#[pallet::storage]
	pub type PendingCommission<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, (SessionIndex, Perbill)>;

	/// Recorded reputations (an account without one has the neutral reputation).
	#[pallet::storage]
	pub type Reputations<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ReputationRecord>;

	/// Sessions between a slash's report and the taking of its funds (0: at once). Shorter than
	/// [`Config::BondingDuration`]; set at genesis or by [`Config::AdminOrigin`].
	#[pallet::storage]
	pub type SlashDeferSessions<T> = StorageValue<_, SessionIndex, ValueQuery>;

	/// Slashes reported and not applied yet, by the session at whose start they are applied.
	#[pallet::storage]
	pub type DeferredSlashes<T: Config> =
		StorageMap<_, Twox64Concat, SessionIndex, BoundedVec<DeferredSlash<T::AccountId>, T::MaxDeferredSlashes>, ValueQuery>;

	/// The session each active delegation began in: (validator, delegator) → session. A top-up
	/// keeps it; the entry leaves with the active delegation. A delegation without one predates
	/// this record and counts as made at session 0. An offence of an earlier session does not
	/// reach the delegation ([`Pallet::take_slash`]).
	#[pallet::storage]
	pub type DelegatedSince<T: Config> = StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, T::AccountId, SessionIndex>;

	/// How many deferred slashes await each offender. While any does, nobody delegates to it (a
	/// newcomer would pay for an offence it did not back) and neither it nor its delegators
	/// withdraw funds it could cut (they would escape the slash by waiting out the deferral).
	#[pallet::storage]
	pub type PendingSlashes<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The largest fraction an offender was slashed by for the offences of a session (kept for
	/// [`Config::BondingDuration`] sessions): a later report of that session takes only what
	/// goes beyond it.
	#[pallet::storage]
	pub type OffenceSlashes<T: Config> = StorageDoubleMap<_, Twox64Concat, SessionIndex, Blake2_128Concat, T::AccountId, Perbill>;

	/// The elected validators and their weights for the current and the next session.
	#[pallet::storage]
	pub type ElectedWeights<T: Config> = StorageMap<_, Twox64Concat, SessionIndex, BoundedVec<ElectedValidator<T::AccountId>, T::MaxValidators>>;

	#[pallet::genesis_config]
	#[derive(DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Initial stakers: (account, bond, reputation, is a validator candidate).
		pub stakers: Vec<(T::AccountId, BalanceOf<T>, Reputation, bool)>,
		/// [`SlashDeferSessions`] (0: slashes are applied at once).
		pub slash_defer_sessions: SessionIndex,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (who, bond, reputation, validate) in &self.stakers {
				assert!(*bond >= T::MinBond::get(), "genesis bond below MinBond");
				assert!(*reputation <= T::MaxReputation::get(), "genesis reputation above max");
				T::Currency::hold(&HoldReason::Staking.into(), who, *bond).expect("genesis staker can afford its bond");
				Ledgers::<T>::insert(who, Ledger::<T> { active: *bond, unlocking: Default::default() });
				Reputations::<T>::insert(who, ReputationRecord { score: *reputation, updated_in: 0 });
				if *validate {
					Candidates::<T>::insert(who, Candidate { commission: Perbill::zero(), delegated: Zero::zero(), delegators: 0 });
				}
			}
			assert!(Candidates::<T>::count() <= T::MaxCandidates::get(), "more genesis candidates than MaxCandidates");
			assert!(self.slash_defer_sessions < T::BondingDuration::get().max(1), "slash_defer_sessions not below BondingDuration");
			SlashDeferSessions::<T>::put(self.slash_defer_sessions);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `amount` was bonded by `who` (its active bond is now `active`).
		Bonded { who: T::AccountId, amount: BalanceOf<T>, active: BalanceOf<T> },
		/// `amount` was unbonded; it can be withdrawn from session `unlock_in`.
		Unbonded { who: T::AccountId, amount: BalanceOf<T>, unlock_in: SessionIndex },
		/// `amount` of matured unlocking funds was released to `who`.
		Withdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of unlocking funds was bonded again.
		Rebonded { who: T::AccountId, amount: BalanceOf<T> },
		/// `who` is a validator candidate with `commission`.
		Validating { who: T::AccountId, commission: Perbill },
		/// `who` raised its commission to `commission`; it applies from session `from` (until
		/// then the current one holds).
		CommissionScheduled { who: T::AccountId, commission: Perbill, from: SessionIndex },
		/// `who` is no longer a validator candidate.
		Chilled { who: T::AccountId },
		/// `delegator` delegated `amount` to `validator`.
		Delegated { delegator: T::AccountId, validator: T::AccountId, amount: BalanceOf<T> },
		/// The smallest delegation to `validator`, `delegator`'s `amount`, made room for a larger
		/// one: it is undelegated and unlocks in session `unlock_in` (slashable until then).
		DelegationEvicted { validator: T::AccountId, delegator: T::AccountId, amount: BalanceOf<T>, unlock_in: SessionIndex },
		/// `delegator` withdrew `amount` from `validator`; it unlocks in session `unlock_in`.
		Undelegated { delegator: T::AccountId, validator: T::AccountId, amount: BalanceOf<T>, unlock_in: SessionIndex },
		/// A reputation changed.
		ReputationChanged { who: T::AccountId, old: Reputation, new: Reputation, reason: ReputationReason },
		/// `who` reached this session's gain cap ([`Config::MaxGainPerSession`]): of a reward of
		/// `requested`, only `granted` counted.
		ReputationGainCapped { who: T::AccountId, requested: Reputation, granted: Reputation, reason: ReputationReason },
		/// `who` was slashed: `own` from its bond, `delegated` from its delegators.
		Slashed { who: T::AccountId, fraction: Perbill, own: BalanceOf<T>, delegated: BalanceOf<T>, reason: SlashReason },
		/// `who` forfeited `amount` of its own bond (a fixed bond for its own act; its
		/// delegators and its reputation are untouched).
		Forfeited { who: T::AccountId, amount: BalanceOf<T>, reason: SlashReason },
		/// The validators of `session` were elected, with their block-production and finality
		/// weights (parts per billion).
		ValidatorsElected { session: SessionIndex, validators: Vec<ElectedValidator<T::AccountId>> },
		/// Too few candidates were eligible for `session` (`eligible` of the minimum
		/// `required`): the current set stays.
		ElectionKeptCurrentSet { session: SessionIndex, eligible: u32, required: u32 },
		/// A slash of `who` by `fraction` was reported: its reputation penalty applies now, its
		/// funds are taken at the start of session `apply_at` unless it is cancelled.
		SlashDeferred { who: T::AccountId, fraction: Perbill, reason: SlashReason, apply_at: SessionIndex },
		/// The `count` deferred slashes of `who` due at `apply_at` were cancelled.
		DeferredSlashCancelled { who: T::AccountId, apply_at: SessionIndex, count: u32 },
		/// Slashes are now deferred by `sessions` sessions (0: applied at once).
		SlashDeferSessionsSet { sessions: SessionIndex },
		/// `who` committed an offence in `session` (an equivocation, through pallet-offences)
		/// that costs it `fraction` of its stake in all for that session: it is slashed by what
		/// goes beyond its earlier offences of that session, chilled and disabled.
		OffenceReported { who: T::AccountId, session: SessionIndex, fraction: Perbill },
		/// An offence of `who` in `session` was reported after the bonding duration and ignored.
		OffenceTooOld { who: T::AccountId, session: SessionIndex },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has bonded already: use `bond_extra`.
		AlreadyBonded,
		/// The account has not bonded.
		NotBonded,
		/// The bond would be below `MinBond` (and above zero).
		BondBelowMinimum,
		/// Unbonding, rebonding or undelegating more than there is.
		NotEnoughBonded,
		/// Nothing has matured yet.
		NothingToWithdraw,
		/// No unlocking funds to rebond.
		NothingToRebond,
		/// Too many unlocking chunks: withdraw or rebond first.
		TooManyUnlockingChunks,
		/// The free balance cannot cover the amount.
		InsufficientFunds,
		/// A zero amount.
		ZeroAmount,
		/// The own bond is below `MinValidatorStake`.
		InsufficientValidatorStake,
		/// A validator cannot unbond below `MinValidatorStake`: chill first.
		ValidatorStakeBelowMinimum,
		/// The reputation is below `MinValidatorReputation`.
		ReputationTooLow,
		/// No session keys are registered (`session.setKeys`).
		NoSessionKeys,
		/// `MaxCandidates` candidates exist already.
		TooManyCandidates,
		/// The account is not a validator candidate.
		NotCandidate,
		/// A validator cannot delegate to itself.
		CannotDelegateToSelf,
		/// The delegation would be below `MinDelegation` (and above zero).
		DelegationBelowMinimum,
		/// The validator has twice `MaxDelegatorsPerValidator` delegators already (counting those
		/// whose undelegated amounts are still unlocking): wait until some have withdrawn.
		TooManyDelegators,
		/// The account delegates to `MaxDelegationsPerDelegator` validators already.
		TooManyDelegations,
		/// No delegation from this account to that validator.
		NoDelegation,
		/// A reputation above `MaxReputation`.
		ReputationOutOfRange,
		/// A slash of this validator awaits its session: no delegating to it, and none of the
		/// funds it could cut are withdrawn, until it is applied or cancelled.
		SlashPending,
		/// No deferred slash of that account is due at that session.
		NoDeferredSlash,
		/// A slash may be deferred by less than `BondingDuration` sessions only.
		DeferNotBelowBondingDuration,
		/// The validator has `MaxDelegatorsPerValidator` delegations and none is smaller than
		/// this one: only a larger delegation takes the place of the smallest.
		DelegationTooSmallToEnter,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::InitialReputation::get() <= T::NeutralReputation::get(), "InitialReputation above NeutralReputation");
			assert!(T::NeutralReputation::get() <= T::MaxReputation::get(), "NeutralReputation above MaxReputation");
			assert!(T::MinValidatorReputation::get() <= T::InitialReputation::get(), "a new account could never validate");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bonds `value` of the caller's free balance (held under [`HoldReason::Staking`]).
		///
		/// Fails with [`Error::AlreadyBonded`] if the caller has a bond (use `bond_extra`),
		/// [`Error::BondBelowMinimum`] below `MinBond`, [`Error::InsufficientFunds`] if the free
		/// balance cannot cover it. Emits [`Event::Bonded`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(origin: OriginFor<T>, #[pallet::compact] value: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Ledgers::<T>::contains_key(&who), Error::<T>::AlreadyBonded);
			ensure!(value >= T::MinBond::get() && !value.is_zero(), Error::<T>::BondBelowMinimum);
			Self::hold(&who, value)?;
			Ledgers::<T>::insert(&who, Ledger::<T> { active: value, unlocking: Default::default() });
			Self::deposit_event(Event::Bonded { who, amount: value, active: value });
			Ok(())
		}

		/// Adds `value` of the caller's free balance to its active bond.
		///
		/// Fails with [`Error::NotBonded`], [`Error::ZeroAmount`], [`Error::BondBelowMinimum`] (if
		/// the result stays below `MinBond`) or [`Error::InsufficientFunds`]. Emits
		/// [`Event::Bonded`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, #[pallet::compact] value: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			let active = ledger.active.saturating_add(value);
			ensure!(active >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
			Self::hold(&who, value)?;
			ledger.active = active;
			Ledgers::<T>::insert(&who, ledger);
			Self::deposit_event(Event::Bonded { who, amount: value, active });
			Ok(())
		}

		/// Moves `value` of the active bond into an unlocking chunk that matures after
		/// `BondingDuration` sessions; it stays held until then.
		///
		/// Fails with [`Error::NotBonded`], [`Error::ZeroAmount`], [`Error::NotEnoughBonded`]
		/// (more than active), [`Error::BondBelowMinimum`] (remainder above zero but below
		/// `MinBond`), [`Error::ValidatorStakeBelowMinimum`] (a candidate going below
		/// `MinValidatorStake`: chill first) or [`Error::TooManyUnlockingChunks`]. Emits
		/// [`Event::Unbonded`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, #[pallet::compact] value: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(value <= ledger.active, Error::<T>::NotEnoughBonded);
			let remaining = ledger.active.saturating_sub(value);
			ensure!(remaining.is_zero() || remaining >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
			if Candidates::<T>::contains_key(&who) {
				ensure!(remaining >= T::MinValidatorStake::get(), Error::<T>::ValidatorStakeBelowMinimum);
			}
			let unlock_in = Self::unlock_session();
			Self::add_unlocking(&mut ledger.unlocking, value, unlock_in)?;
			ledger.active = remaining;
			Ledgers::<T>::insert(&who, ledger);
			Self::deposit_event(Event::Unbonded { who, amount: value, unlock_in });
			Ok(())
		}

		/// Releases every unlocking chunk that has matured: the caller's own unbonded chunks and
		/// its undelegated ones. Removes the ledger when nothing is left in it, and a delegation
		/// whose last chunk is withdrawn frees its validator's delegator slot.
		///
		/// Fails with [`Error::NotBonded`] (neither a bond nor delegations) or
		/// [`Error::NothingToWithdraw`] (nothing matured yet). Emits [`Event::Withdrawn`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded(T::MaxDelegationsPerDelegator::get()))]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let ledger = Ledgers::<T>::get(&who);
			let validators = DelegationsOf::<T>::get(&who);
			ensure!(ledger.is_some() || !validators.is_empty(), Error::<T>::NotBonded);
			let now = CurrentSession::<T>::get();
			let mut matured = BalanceOf::<T>::zero();
			// Funds a pending slash could cut stay until it is applied or cancelled.
			let mut held_back = false;
			if let Some(mut ledger) = ledger.filter(|l| {
				let pending = PendingSlashes::<T>::get(&who) > 0;
				held_back |= pending && l.unlocking.iter().any(|c| c.unlock_in <= now);
				!pending
			}) {
				matured = take_matured(&mut ledger.unlocking, now);
				if ledger.active.is_zero() && ledger.unlocking.is_empty() {
					Ledgers::<T>::remove(&who);
				} else {
					Ledgers::<T>::insert(&who, ledger);
				}
			}
			for validator in validators.iter() {
				let mut chunks = Undelegating::<T>::get(validator, &who);
				if chunks.is_empty() {
					continue;
				}
				if PendingSlashes::<T>::get(validator) > 0 {
					held_back |= chunks.iter().any(|c| c.unlock_in <= now);
					continue;
				}
				let released = take_matured(&mut chunks, now);
				if released.is_zero() {
					continue;
				}
				matured = matured.saturating_add(released);
				Self::put_undelegating(validator, &who, chunks);
			}
			ensure!(!matured.is_zero(), if held_back { Error::<T>::SlashPending } else { Error::<T>::NothingToWithdraw });
			Self::release(&who, matured)?;
			Self::deposit_event(Event::Withdrawn { who, amount: matured });
			Ok(Some(T::WeightInfo::withdraw_unbonded(validators.len() as u32)).into())
		}

		/// Bonds `value` of the unlocking funds again (the most recent chunks first).
		///
		/// Fails with [`Error::NotBonded`], [`Error::ZeroAmount`], [`Error::NothingToRebond`],
		/// [`Error::NotEnoughBonded`] (more than is unlocking) or [`Error::BondBelowMinimum`].
		/// Emits [`Event::Rebonded`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::rebond())]
		pub fn rebond(origin: OriginFor<T>, #[pallet::compact] value: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!ledger.unlocking.is_empty(), Error::<T>::NothingToRebond);
			let unlocking = ledger.total().saturating_sub(ledger.active);
			ensure!(value <= unlocking, Error::<T>::NotEnoughBonded);
			let active = ledger.active.saturating_add(value);
			ensure!(active >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
			let mut left = value;
			while !left.is_zero() {
				let Some(last) = ledger.unlocking.last_mut() else { break };
				if last.value <= left {
					left = left.saturating_sub(last.value);
					ledger.unlocking.pop();
				} else {
					last.value = last.value.saturating_sub(left);
					left = Zero::zero();
				}
			}
			ledger.active = active;
			Ledgers::<T>::insert(&who, ledger);
			Self::deposit_event(Event::Rebonded { who, amount: value });
			Ok(())
		}

		/// Declares the caller a validator candidate with `commission` (or changes its
		/// commission). The candidacy takes effect at the next election. For a candidate, a
		/// lower commission applies at once ([`Event::Validating`]) and a higher one from the next
		/// session ([`Event::CommissionScheduled`]), so that delegators can leave before it
		/// touches their rewards.
		///
		/// Fails with [`Error::NotBonded`], [`Error::InsufficientValidatorStake`],
		/// [`Error::ReputationTooLow`], [`Error::NoSessionKeys`] or
		/// [`Error::TooManyCandidates`]. Emits [`Event::Validating`].
		#[pallet::call_index(5)]
		/// Charged for the delegations it read: none for a candidate changing its commission,
		/// the new candidate's active and unlocking ones for a first candidacy.
		#[pallet::weight(T::WeightInfo::validate(Pallet::<T>::max_delegators()))]
		pub fn validate(origin: OriginFor<T>, commission: Perbill) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(ledger.active >= T::MinValidatorStake::get(), Error::<T>::InsufficientValidatorStake);
			ensure!(Self::reputation_of(&who) >= T::MinValidatorReputation::get(), Error::<T>::ReputationTooLow);
			ensure!(T::HasSessionKeys::contains(&who), Error::<T>::NoSessionKeys);
			let counted = match Candidates::<T>::get(&who) {
				Some(mut candidate) => {
					let current = Self::commission_of(&who, &candidate);
					PendingCommission::<T>::remove(&who);
					if commission > current {
						// The current commission holds until the raise applies.
						candidate.commission = current;
						Candidates::<T>::insert(&who, candidate);
						let from = CurrentSession::<T>::get().saturating_add(1);
						PendingCommission::<T>::insert(&who, (from, commission));
						Self::deposit_event(Event::CommissionScheduled { who, commission, from });
						return Ok(Some(T::WeightInfo::validate(0)).into());
					}
					candidate.commission = commission;
					Candidates::<T>::insert(&who, candidate);
					0
				},
				None => {
					ensure!(Candidates::<T>::count() < T::MaxCandidates::get(), Error::<T>::TooManyCandidates);
					let max = Self::max_delegators() as usize;
					let delegated = Delegations::<T>::iter_prefix_values(&who).take(max).fold(BalanceOf::<T>::zero(), |a, b| a.saturating_add(b));
					// Pairs with an active delegation, and those only unlocking.
					let active = Delegations::<T>::iter_prefix_values(&who).take(max).count();
					let unlocking: Vec<_> = Undelegating::<T>::iter_key_prefix(&who).take(max).collect();
					let unlocking_only = unlocking.iter().filter(|d| !Delegations::<T>::contains_key(&who, *d)).count();
					let delegators = active.saturating_add(unlocking_only) as u32;
					Candidates::<T>::insert(&who, Candidate { commission, delegated, delegators });
					// Charged for every pair read: an unlocking chunk beside an active delegation
					// was read too, though it adds no delegator.
					(active.saturating_add(unlocking.len()) as u32).min(Self::max_delegators())
				},
			};
			Self::deposit_event(Event::Validating { who, commission });
			Ok(Some(T::WeightInfo::validate(counted)).into())
		}

		/// Stops the caller's candidacy from the next election on. Its delegations stay (their
		/// owners may undelegate).
		///
		/// Fails with [`Error::NotCandidate`]. Emits [`Event::Chilled`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::chill())]
		pub fn chill(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_chill(&who)
		}

		/// Delegates `amount` of the caller's free balance to the candidate `validator` (held
		/// under [`HoldReason::Staking`]). Adds to an existing delegation. When the validator has
		/// `MaxDelegatorsPerValidator` delegations already, a new one larger than the smallest
		/// takes its place: the smallest is undelegated ([`Event::DelegationEvicted`]).
		///
		/// Fails with [`Error::CannotDelegateToSelf`], [`Error::NotCandidate`],
		/// [`Error::ZeroAmount`], [`Error::DelegationBelowMinimum`],
		/// [`Error::DelegationTooSmallToEnter`], [`Error::TooManyDelegators`],
		/// [`Error::TooManyDelegations`], [`Error::SlashPending`] or
		/// [`Error::InsufficientFunds`]. Emits [`Event::Delegated`].
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::delegate_weight())]
		pub fn delegate(origin: OriginFor<T>, validator: T::AccountId, #[pallet::compact] amount: BalanceOf<T>) -> DispatchResult {
			let delegator = ensure_signed(origin)?;
			ensure!(delegator != validator, Error::<T>::CannotDelegateToSelf);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			ensure!(PendingSlashes::<T>::get(&validator) == 0, Error::<T>::SlashPending);
			let mut candidate = Candidates::<T>::get(&validator).ok_or(Error::<T>::NotCandidate)?;
			let existing = Delegations::<T>::get(&validator, &delegator);
			let total = existing.unwrap_or_default().saturating_add(amount);
			ensure!(total >= T::MinDelegation::get(), Error::<T>::DelegationBelowMinimum);
			let new_pair = !Self::has_pair(&validator, &delegator);
			if new_pair {
				ensure!(candidate.delegators < Self::max_delegators(), Error::<T>::TooManyDelegators);
			}
			// A new active delegation: the largest `MaxDelegatorsPerValidator` are kept.
			let evicted = if existing.is_none() { Self::place_for(&validator, total)? } else { None };
			if new_pair {
				DelegationsOf::<T>::try_mutate(&delegator, |list| list.try_push(validator.clone()).map_err(|_| Error::<T>::TooManyDelegations))?;
				candidate.delegators = candidate.delegators.saturating_add(1);
			}
			if let Err(e) = Self::hold(&delegator, amount) {
				if new_pair {
					DelegationsOf::<T>::mutate(&delegator, |list| list.retain(|v| v != &validator));
				}
				return Err(e);
			}
			if let Some((smallest, smallest_amount)) = evicted {
				Self::evict(&validator, &smallest, smallest_amount);
				candidate.delegated = candidate.delegated.saturating_sub(smallest_amount);
			}
			candidate.delegated = candidate.delegated.saturating_add(amount);
			Candidates::<T>::insert(&validator, candidate);
			Delegations::<T>::insert(&validator, &delegator, total);
			if existing.is_none() {
				DelegatedSince::<T>::insert(&validator, &delegator, CurrentSession::<T>::get());
			}
			Self::deposit_event(Event::Delegated { delegator, validator, amount });
			Ok(())
		}

		/// Withdraws `amount` of the caller's delegation to `validator`; it unlocks like an
		/// unbond, after `BondingDuration` sessions, and is withdrawn with `withdraw_unbonded`.
		/// Until then it stays slashable for `validator`'s offences ([`Undelegating`]). Works
		/// whether or not `validator` is still a candidate.
		///
		/// Fails with [`Error::ZeroAmount`], [`Error::NoDelegation`],
		/// [`Error::NotEnoughBonded`], [`Error::DelegationBelowMinimum`] (remainder above zero
		/// but below `MinDelegation`) or [`Error::TooManyUnlockingChunks`]. Emits
		/// [`Event::Undelegated`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::undelegate())]
		pub fn undelegate(origin: OriginFor<T>, validator: T::AccountId, #[pallet::compact] amount: BalanceOf<T>) -> DispatchResult {
			let delegator = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let delegated = Delegations::<T>::get(&validator, &delegator).ok_or(Error::<T>::NoDelegation)?;
			ensure!(amount <= delegated, Error::<T>::NotEnoughBonded);
			let remaining = delegated.saturating_sub(amount);
			ensure!(remaining.is_zero() || remaining >= T::MinDelegation::get(), Error::<T>::DelegationBelowMinimum);
			let unlock_in = Self::unlock_session();
			// The pair keeps its slot (and stays in `DelegationsOf`) until the chunk is withdrawn.
			Undelegating::<T>::try_mutate(&validator, &delegator, |chunks| Self::add_unlocking(chunks, amount, unlock_in))?;
			if remaining.is_zero() {
				Delegations::<T>::remove(&validator, &delegator);
				DelegatedSince::<T>::remove(&validator, &delegator);
			} else {
				Delegations::<T>::insert(&validator, &delegator, remaining);
			}
			Candidates::<T>::mutate(&validator, |maybe| {
				if let Some(candidate) = maybe {
					candidate.delegated = candidate.delegated.saturating_sub(amount);
				}
			});
			Self::deposit_event(Event::Undelegated { delegator, validator, amount, unlock_in });
			Ok(())
		}

		/// Sets `who`'s reputation to `score` (governance).
		///
		/// Fails with `BadOrigin` unless [`Config::AdminOrigin`], [`Error::ReputationOutOfRange`] above
		/// `MaxReputation`. Emits [`Event::ReputationChanged`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_reputation())]
		pub fn set_reputation(origin: OriginFor<T>, who: T::AccountId, score: Reputation) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(score <= T::MaxReputation::get(), Error::<T>::ReputationOutOfRange);
			<Self as ReputationHandler<T::AccountId>>::set(&who, score, ReputationReason::Governance);
			Ok(())
		}

		/// Slashes `who` by `fraction` (governance), as [`Slashing::slash`] does for the other
		/// pallets, but at once: governance's own decision is not deferred.
		///
		/// Fails with `BadOrigin` unless [`Config::AdminOrigin`], [`Error::NotBonded`] if `who` has no bond. Emits
		/// [`Event::Slashed`], [`Event::ReputationChanged`] and, if `chill`, [`Event::Chilled`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::force_slash(Pallet::<T>::max_delegators()))]
		pub fn force_slash(origin: OriginFor<T>, who: T::AccountId, fraction: Perbill, chill: bool) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Ledgers::<T>::contains_key(&who), Error::<T>::NotBonded);
			Self::slash_now(&who, fraction, SlashReason::Governance, chill, None)?;
			Ok(())
		}

		/// Cancels every deferred slash of `who` due at the start of session `apply_at`: its
		/// funds are not taken (the reputation penalty, applied at the report, stays; restore it
		/// with [`Pallet::set_reputation`] if the verdict was wrong).
		///
		/// Fails with `BadOrigin` unless [`Config::SlashCancelOrigin`],
		/// [`Error::NoDeferredSlash`] if none is due. Emits [`Event::DeferredSlashCancelled`].
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::cancel_deferred_slash())]
		pub fn cancel_deferred_slash(origin: OriginFor<T>, apply_at: SessionIndex, who: T::AccountId) -> DispatchResult {
			T::SlashCancelOrigin::ensure_origin(origin)?;
			let mut due = DeferredSlashes::<T>::get(apply_at);
			let before = due.len();
			due.retain(|s| s.who != who);
			let count = (before - due.len()) as u32;
			ensure!(count > 0, Error::<T>::NoDeferredSlash);
			if due.is_empty() {
				DeferredSlashes::<T>::remove(apply_at);
			} else {
				DeferredSlashes::<T>::insert(apply_at, due);
			}
			Self::unpend(&who, count);
			Self::deposit_event(Event::DeferredSlashCancelled { who, apply_at, count });
			Ok(())
		}

		/// Defers the funds of every later slash by `sessions` sessions (0: taken at once), so
		/// that [`Config::SlashCancelOrigin`] can cancel a wrong one. Slashes deferred already
		/// keep their session.
		///
		/// Fails with `BadOrigin` unless [`Config::AdminOrigin`],
		/// [`Error::DeferNotBelowBondingDuration`] unless below `BondingDuration`. Emits
		/// [`Event::SlashDeferSessionsSet`].
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::set_slash_defer_sessions())]
		pub fn set_slash_defer_sessions(origin: OriginFor<T>, sessions: SessionIndex) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(sessions < T::BondingDuration::get().max(1), Error::<T>::DeferNotBelowBondingDuration);
			SlashDeferSessions::<T>::put(sessions);
			Self::deposit_event(Event::SlashDeferSessionsSet { sessions });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The current reputation of `who` (decay applied; neutral if none is recorded).
	pub fn reputation_of(who: &T::AccountId) -> Reputation {
		match Reputations::<T>::get(who) {
			Some(record) => reputation::decayed(
				record,
				CurrentSession::<T>::get(),
				T::NeutralReputation::get(),
				T::ReputationDecay::get(),
				T::PenaltyRecovery::get(),
			),
			None => T::InitialReputation::get(),
		}
	}

	/// The elected validators of `session` with their weights, if known.
	pub fn weights_of_session(session: SessionIndex) -> Vec<ElectedValidator<T::AccountId>> {
		ElectedWeights::<T>::get(session).map(|v| v.into_inner()).unwrap_or_default()
	}

	/// `who`'s own bond plus the delegations to it (zero if not bonded).
	pub fn backing_of(who: &T::AccountId) -> BalanceOf<T> {
		let own = Ledgers::<T>::get(who).map(|l| l.active).unwrap_or_default();
		let delegated = Candidates::<T>::get(who).map(|c| c.delegated).unwrap_or_default();
		own.saturating_add(delegated)
	}

	/// Every candidate with its bond, delegations, reputation and eligibility (runtime API).
	pub fn candidate_infos() -> Vec<runtime_api::CandidateInfo<T::AccountId, BalanceOf<T>>> {
		Candidates::<T>::iter()
			.take(T::MaxCandidates::get() as usize)
			.map(|(who, c)| {
				let own = Ledgers::<T>::get(&who).map(|l| l.active).unwrap_or_default();
				let reputation = Self::reputation_of(&who);
				let eligible = Self::is_eligible(&who, own, reputation);
				let commission = Self::commission_of(&who, &c);
				runtime_api::CandidateInfo { who, own, delegated: c.delegated, delegators: c.delegators, reputation, commission, eligible }
			})
			.collect()
	}

	/// `who`'s weights in `session` (zeros if it is not elected in it).
	pub fn weight_in_session(who: &T::AccountId, session: SessionIndex) -> ElectedValidator<T::AccountId> {
		Self::weights_of_session(session).into_iter().find(|v| &v.who == who).unwrap_or(ElectedValidator {
			who: who.clone(),
			weight: 0,
			finality_weight: 0,
		})
	}

	/// The commission of `candidate` (`who`) in force now: a scheduled raise once its session
	/// has come, else the recorded one.
	pub fn commission_of(who: &T::AccountId, candidate: &Candidate<BalanceOf<T>>) -> Perbill {
		match PendingCommission::<T>::get(who) {
			Some((from, raised)) if CurrentSession::<T>::get() >= from => raised,
			_ => candidate.commission,
		}
	}

	/// The current session.
	pub fn current_session() -> SessionIndex {
		CurrentSession::<T>::get()
	}

	fn is_eligible(who: &T::AccountId, own: BalanceOf<T>, reputation: Reputation) -> bool {
		own >= T::MinValidatorStake::get() && reputation >= T::MinValidatorReputation::get() && T::HasSessionKeys::contains(who)
	}

	/// The candidates that may be elected now, with their backing and reputation.
	pub fn eligible_contenders() -> Vec<election::Contender<T::AccountId>>
	where
		BalanceOf<T>: Into<u128>,
	{
		Self::candidate_infos()
			.into_iter()
			.filter(|c| c.eligible)
			.map(|c| election::Contender { backing: c.own.saturating_add(c.delegated).into(), who: c.who, reputation: c.reputation })
			.collect()
	}

	/// Elects the validators of `session` and records their weights; `None` keeps the current
	/// set (too few eligible candidates).
	fn plan_session(session: SessionIndex) -> Option<Vec<T::AccountId>>
	where
		BalanceOf<T>: Into<u128>,
	{
		let contenders = Self::eligible_contenders();
		let eligible = contenders.len() as u32;
		let required = T::MinValidators::get().max(1);
		let elected = election::elect(contenders, T::MaxValidators::get() as usize, T::MaxWeightShare::get());
		if (elected.len() as u32) < required {
			// Keep what was planned last, with its weights.
			if let Some(previous) = ElectedWeights::<T>::get(session.saturating_sub(1)) {
				ElectedWeights::<T>::insert(session, previous);
			}
			Self::deposit_event(Event::ElectionKeptCurrentSet { session, eligible, required });
			return None;
		}
		let bounded = BoundedVec::<_, T::MaxValidators>::truncate_from(elected);
		let validators = bounded.iter().map(|v| v.who.clone()).collect();
		Self::deposit_event(Event::ValidatorsElected { session, validators: bounded.to_vec() });
		ElectedWeights::<T>::insert(session, bounded);
		Some(validators)
	}

	fn do_chill(who: &T::AccountId) -> DispatchResult {
		ensure!(Candidates::<T>::contains_key(who), Error::<T>::NotCandidate);
		Candidates::<T>::remove(who);
		PendingCommission::<T>::remove(who);
		Self::deposit_event(Event::Chilled { who: who.clone() });
		Ok(())
	}

	fn unlock_session() -> SessionIndex {
		CurrentSession::<T>::get().saturating_add(T::BondingDuration::get())
	}

	fn add_unlocking(
		chunks: &mut BoundedVec<UnlockChunk<BalanceOf<T>>, T::MaxUnlockingChunks>,
		value: BalanceOf<T>,
		unlock_in: SessionIndex,
	) -> DispatchResult {
		if let Some(last) = chunks.last_mut().filter(|c| c.unlock_in == unlock_in) {
			last.value = last.value.saturating_add(value);
			return Ok(());
		}
		chunks.try_push(UnlockChunk { value, unlock_in }).map_err(|_| Error::<T>::TooManyUnlockingChunks.into())
	}

	/// Writes `delegator`'s unlocking chunks toward `validator`; with none left and no active
	/// delegation, the pair ends.
	fn put_undelegating(validator: &T::AccountId, delegator: &T::AccountId, chunks: BoundedVec<UnlockChunk<BalanceOf<T>>, T::MaxUnlockingChunks>) {
		if !chunks.is_empty() {
			Undelegating::<T>::insert(validator, delegator, chunks);
			return;
		}
		Undelegating::<T>::remove(validator, delegator);
		if !Delegations::<T>::contains_key(validator, delegator) {
			Self::end_pair(validator, delegator);
		}
	}

	/// Most delegators of a validator, counting those only unlocking: twice the active bound.
	pub fn max_delegators() -> u32 {
		T::MaxDelegatorsPerValidator::get().saturating_mul(2)
	}

	/// `delegate`'s weight: its benchmark takes the heaviest branch (a full validator: every
	/// active delegation read to find the smallest, which is evicted).
	pub fn delegate_weight() -> Weight {
		T::WeightInfo::delegate()
	}

	/// Room for a new active delegation of `amount` to `validator`: none needed below
	/// `MaxDelegatorsPerValidator` delegations; otherwise the smallest (the first in storage
	/// order among equals), which `amount` must exceed.
	fn place_for(validator: &T::AccountId, amount: BalanceOf<T>) -> Result<Option<DelegationOf<T>>, DispatchError> {
		let max = T::MaxDelegatorsPerValidator::get() as usize;
		let mut count = 0usize;
		let mut smallest: Option<DelegationOf<T>> = None;
		for (delegator, value) in Delegations::<T>::iter_prefix(validator).take(max) {
			count += 1;
			if smallest.as_ref().is_none_or(|(_, least)| value < *least) {
				smallest = Some((delegator, value));
			}
		}
		if count < max {
			return Ok(None);
		}
		match smallest {
			Some((who, least)) if amount > least => Ok(Some((who, least))),
			_ => Err(Error::<T>::DelegationTooSmallToEnter.into()),
		}
	}

	/// Undelegates all of `delegator`'s `amount` from `validator` to make room for a larger
	/// delegation: it unlocks like an undelegation (slashable until then); with its chunks full,
	/// it joins the last one, which then unlocks no earlier than this one would. The pair keeps
	/// its delegator slot while it unlocks. The caller updates the candidate's `delegated`.
	fn evict(validator: &T::AccountId, delegator: &T::AccountId, amount: BalanceOf<T>) {
		let unlock_in = Self::unlock_session();
		Delegations::<T>::remove(validator, delegator);
		DelegatedSince::<T>::remove(validator, delegator);
		Undelegating::<T>::mutate(validator, delegator, |chunks| {
			if Self::add_unlocking(chunks, amount, unlock_in).is_err() {
				if let Some(last) = chunks.last_mut() {
					last.value = last.value.saturating_add(amount);
					last.unlock_in = last.unlock_in.max(unlock_in);
				}
			}
		});
		Self::deposit_event(Event::DelegationEvicted { validator: validator.clone(), delegator: delegator.clone(), amount, unlock_in });
	}

	/// A (validator, delegator) pair with neither an active delegation nor unlocking chunks:
	/// its delegator slot is freed.
	fn end_pair(validator: &T::AccountId, delegator: &T::AccountId) {
		DelegationsOf::<T>::mutate(delegator, |list| list.retain(|v| v != validator));
		Candidates::<T>::mutate(validator, |c| {
			if let Some(c) = c {
				c.delegators = c.delegators.saturating_sub(1);
			}
		});
	}

	/// Whether `delegator` holds a delegator slot of `validator` (an active delegation or
	/// unlocking chunks).
	fn has_pair(validator: &T::AccountId, delegator: &T::AccountId) -> bool {
		Delegations::<T>::contains_key(validator, delegator) || Undelegating::<T>::contains_key(validator, delegator)
	}

	fn hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::Staking.into(), who, amount).map_err(|_| Error::<T>::InsufficientFunds.into())
	}

	fn release(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::release(&HoldReason::Staking.into(), who, amount, Precision::BestEffort).map(|_| ())
	}

	/// Takes up to `amount` from `who`'s staking hold to the slash destination (or burns it);
	/// returns what was taken.
	fn take_held(who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		let reason = HoldReason::Staking.into();
		let taken = match T::SlashDestination::get() {
			Some(dest) => T::Currency::transfer_on_hold(&reason, who, &dest, amount, Precision::BestEffort, Restriction::Free, Fortitude::Force),
			None => T::Currency::burn_held(&reason, who, amount, Precision::BestEffort, Fortitude::Force),
		};
		taken.unwrap_or_else(|e| {
			log::error!(target: "runtime::stake-reputation", "slash of {amount:?} failed: {e:?}");
			Zero::zero()
		})
	}

	fn write_reputation(who: &T::AccountId, new: Reputation, reason: ReputationReason) {
		let old = Self::reputation_of(who);
		let new = new.min(T::MaxReputation::get());
		Reputations::<T>::insert(who, ReputationRecord { score: new, updated_in: CurrentSession::<T>::get() });
		Self::deposit_event(Event::ReputationChanged { who: who.clone(), old, new, reason });
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and after every step of the property
	/// tests): every candidate's `delegated` is the sum of its active delegations and its
	/// `delegators` the number of (validator, delegator) pairs with an active delegation or
	/// unlocking chunks; each pair is in its delegator's `DelegationsOf`; every account holds
	/// under `Staking` exactly its ledger plus its delegations plus its undelegated chunks;
	/// no reputation is above the maximum.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut owed: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut add = |who: &T::AccountId, amount: BalanceOf<T>| {
			let e = owed.entry(who.clone()).or_insert_with(Zero::zero);
			*e = e.saturating_add(amount);
		};
		for (who, ledger) in Ledgers::<T>::iter() {
			add(&who, ledger.total());
		}
		for (validator, delegator, amount) in Delegations::<T>::iter() {
			add(&delegator, amount);
			ensure!(DelegationsOf::<T>::get(&delegator).contains(&validator), "an active delegation missing from DelegationsOf");
		}
		for (validator, delegator, _) in DelegatedSince::<T>::iter() {
			ensure!(Delegations::<T>::contains_key(&validator, &delegator), "a DelegatedSince entry without its delegation");
		}
		for (validator, delegator, chunks) in Undelegating::<T>::iter() {
			ensure!(!chunks.is_empty(), "an empty Undelegating entry");
			add(&delegator, chunks.iter().fold(Zero::zero(), |a: BalanceOf<T>, c| a.saturating_add(c.value)));
			ensure!(DelegationsOf::<T>::get(&delegator).contains(&validator), "an unlocking delegation missing from DelegationsOf");
		}
		for (who, held) in owed {
			ensure!(T::Currency::balance_on_hold(&HoldReason::Staking.into(), &who) == held, "staking hold differs from ledger and delegations");
		}
		for (validator, candidate) in Candidates::<T>::iter() {
			let delegated = Delegations::<T>::iter_prefix_values(&validator).fold(BalanceOf::<T>::zero(), |a, b| a.saturating_add(b));
			ensure!(candidate.delegated == delegated, "a candidate's delegated differs from its delegations");
			let mut pairs: Vec<T::AccountId> = Delegations::<T>::iter_key_prefix(&validator).collect();
			pairs.extend(Undelegating::<T>::iter_key_prefix(&validator));
			pairs.sort();
			pairs.dedup();
			ensure!(candidate.delegators == pairs.len() as u32, "a candidate's delegators differs from its pairs");
			ensure!(candidate.delegators <= Self::max_delegators(), "more delegators than twice MaxDelegatorsPerValidator");
			ensure!(
				Delegations::<T>::iter_key_prefix(&validator).count() as u32 <= T::MaxDelegatorsPerValidator::get(),
				"more active delegations than MaxDelegatorsPerValidator"
			);
		}
		for (delegator, validators) in DelegationsOf::<T>::iter() {
			for v in validators.iter() {
				ensure!(Self::has_pair(v, &delegator), "DelegationsOf names a validator without a pair");
			}
		}
		for (_, record) in Reputations::<T>::iter() {
			ensure!(record.score <= T::MaxReputation::get(), "a reputation above the maximum");
		}
		let mut pending: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		for (session, due) in DeferredSlashes::<T>::iter() {
			ensure!(session > CurrentSession::<T>::get(), "a deferred slash past its session");
			for slash in due {
				*pending.entry(slash.who).or_default() += 1;
			}
		}
		ensure!(pending.into_iter().eq(PendingSlashes::<T>::iter().collect::<BTreeMap<_, _>>()), "PendingSlashes differs from DeferredSlashes");
		for (session, _, fraction) in OffenceSlashes::<T>::iter() {
			ensure!(!Self::offence_too_old(session), "an offence slash kept past the bonding duration");
			ensure!(!fraction.is_zero(), "a zero offence slash");
		}
		Ok(())
	}
}

impl<T: Config> ReputationHandler<T::AccountId> for Pallet<T> {
	fn reputation(who: &T::AccountId) -> Reputation {
		Self::reputation_of(who)
	}

	fn reward(who: &T::AccountId, amount: Reputation, reason: ReputationReason) {
		let session = CurrentSession::<T>::get();
		let gained = SessionGains::<T>::get(who).filter(|(s, _)| *s == session).map_or(0, |(_, g)| g);
		let granted = amount.min(T::MaxGainPerSession::get().saturating_sub(gained));
		if granted < amount {
			Self::deposit_event(Event::ReputationGainCapped { who: who.clone(), requested: amount, granted, reason });
		}
		if granted == 0 {
			return;
		}
		SessionGains::<T>::insert(who, (session, gained.saturating_add(granted)));
		let new = Self::reputation_of(who).saturating_add(granted);
		Self::write_reputation(who, new, reason);
	}

	fn penalize(who: &T::AccountId, amount: Reputation, reason: ReputationReason) {
		let new = Self::reputation_of(who).saturating_sub(amount);
		Self::write_reputation(who, new, reason);
	}

	fn set(who: &T::AccountId, score: Reputation, reason: ReputationReason) {
		Self::write_reputation(who, score, reason);
	}
}

impl<T: Config> Pallet<T> {
	/// Slashes `who` at once: funds ([`Self::take_slash`]), reputation and, if `chill`, its
	/// candidacy.
	fn slash_now(
		who: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
		chill: bool,
		offence_in: Option<SessionIndex>,
	) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
		let outcome = Self::take_slash(who, fraction, reason, offence_in);
		Self::penalize_slashed(who, chill)?;
		Ok(outcome)
	}

	/// [`Slashing::slash`], for an offence of session `offence_in` if given (only the stake
	/// that backed the offender then pays, [`Self::take_slash`]): with [`SlashDeferSessions`]
	/// set, the funds are taken at the start of the session that many sessions from now
	/// ([`Event::SlashDeferred`]; the outcome is then zero) and the reputation penalty and
	/// chill apply now; otherwise all at once.
	pub(crate) fn slash_for(
		who: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
		chill: bool,
		offence_in: Option<SessionIndex>,
	) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
		let defer = SlashDeferSessions::<T>::get();
		if defer == 0 {
			return Self::slash_now(who, fraction, reason, chill, offence_in);
		}
		let now = CurrentSession::<T>::get();
		let apply_at = now.saturating_add(defer);
		let deferred = DeferredSlashes::<T>::mutate(apply_at, |due| {
			due.try_push(DeferredSlash { who: who.clone(), fraction, reason, reported_in: now, offence_in })
		});
		if deferred.is_err() {
			// The session's queue is full: better slashed now than not at all.
			return Self::slash_now(who, fraction, reason, chill, offence_in);
		}
		PendingSlashes::<T>::mutate(who, |n| *n = n.saturating_add(1));
		Self::deposit_event(Event::SlashDeferred { who: who.clone(), fraction, reason, apply_at });
		Self::penalize_slashed(who, chill)?;
		Ok(SlashOutcome::default())
	}

	/// What a slash does besides taking funds, at its report: the reputation penalty and, if
	/// `chill`, the end of the candidacy.
	fn penalize_slashed(who: &T::AccountId, chill: bool) -> DispatchResult {
		<Self as ReputationHandler<T::AccountId>>::penalize(who, T::SlashReputationPenalty::get(), ReputationReason::Slashed);
		if chill && Candidates::<T>::contains_key(who) {
			Self::do_chill(who)?;
		}
		Ok(())
	}

	/// One fewer deferred slash awaits `who` (`count` fewer).
	fn unpend(who: &T::AccountId, count: u32) {
		PendingSlashes::<T>::mutate_exists(who, |n| *n = n.map(|n| n.saturating_sub(count)).filter(|n| *n > 0));
	}

	/// Takes the funds of the slashes deferred to `session` (at its start).
	fn apply_deferred_slashes(session: SessionIndex) {
		for slash in DeferredSlashes::<T>::take(session) {
			Self::unpend(&slash.who, 1);
			Self::take_slash(&slash.who, slash.fraction, slash.reason, slash.offence_in);
		}
	}

	/// Takes `fraction` of `who`'s own bond (active and unlocking) and of its delegators'
	/// delegations (active and undelegated but unlocking). Emits [`Event::Slashed`].
	///
	/// For an offence of session `offence_in`, only what backed `who` then pays: delegations
	/// begun after it ([`DelegatedSince`]) and chunks that started unlocking before it (a chunk
	/// unlocking in session `u` started in `u − BondingDuration`) are spared. Leaving in the
	/// offence's session, or joining in it, is not leaving before or joining after.
	fn take_slash(who: &T::AccountId, fraction: Perbill, reason: SlashReason, offence_in: Option<SessionIndex>) -> SlashOutcome<BalanceOf<T>> {
		let backed_by_chunk =
			|chunk: &UnlockChunk<BalanceOf<T>>| offence_in.is_none_or(|s| chunk.unlock_in.saturating_sub(T::BondingDuration::get()) >= s);
		let mut outcome = SlashOutcome::default();
		// Own bond: active first, then each unlocking chunk, by the same fraction.
		if let Some(mut ledger) = Ledgers::<T>::get(who) {
			let cut = fraction * ledger.active;
			let taken = Self::take_held(who, cut);
			ledger.active = ledger.active.saturating_sub(taken);
			outcome.own = taken;
			for chunk in ledger.unlocking.iter_mut().filter(|c| backed_by_chunk(c)) {
				let taken = Self::take_held(who, fraction * chunk.value);
				chunk.value = chunk.value.saturating_sub(taken);
				outcome.own = outcome.own.saturating_add(taken);
			}
			ledger.unlocking.retain(|c| !c.value.is_zero());
			if ledger.active.is_zero() && ledger.unlocking.is_empty() {
				Ledgers::<T>::remove(who);
			} else {
				Ledgers::<T>::insert(who, ledger);
			}
		}
		// Delegators, pro rata (at most MaxDelegatorsPerValidator active delegations).
		let delegations: Vec<_> = Delegations::<T>::iter_prefix(who).take(T::MaxDelegatorsPerValidator::get() as usize).collect();
		for (delegator, amount) in delegations {
			if offence_in.is_some_and(|s| DelegatedSince::<T>::get(who, &delegator).unwrap_or(0) > s) {
				continue;
			}
			let taken = Self::take_held(&delegator, fraction * amount);
			let left = amount.saturating_sub(taken);
			if left.is_zero() {
				Delegations::<T>::remove(who, &delegator);
				DelegatedSince::<T>::remove(who, &delegator);
				if !Undelegating::<T>::contains_key(who, &delegator) {
					Self::end_pair(who, &delegator);
				}
			} else {
				Delegations::<T>::insert(who, &delegator, left);
			}
			outcome.delegated = outcome.delegated.saturating_add(taken);
		}
		// Undelegated amounts still unlocking: a delegator that left after the offence pays its
		// share too (they are not part of `Candidate::delegated`).
		let mut unlocking_taken = BalanceOf::<T>::zero();
		let leaving: Vec<_> = Undelegating::<T>::iter_prefix(who).take(Self::max_delegators() as usize).collect();
		for (delegator, mut chunks) in leaving {
			for chunk in chunks.iter_mut().filter(|c| backed_by_chunk(c)) {
				let taken = Self::take_held(&delegator, fraction * chunk.value);
				chunk.value = chunk.value.saturating_sub(taken);
				unlocking_taken = unlocking_taken.saturating_add(taken);
			}
			chunks.retain(|c| !c.value.is_zero());
			Self::put_undelegating(who, &delegator, chunks);
		}
		Candidates::<T>::mutate(who, |c| {
			if let Some(c) = c {
				c.delegated = c.delegated.saturating_sub(outcome.delegated);
			}
		});
		outcome.delegated = outcome.delegated.saturating_add(unlocking_taken);
		Self::deposit_event(Event::Slashed { who: who.clone(), fraction, own: outcome.own, delegated: outcome.delegated, reason });
		outcome
	}
}

impl<T: Config> Slashing<T::AccountId, BalanceOf<T>> for Pallet<T> {
	/// A slash that names no session: every delegation and unlocking chunk of `who` at the
	/// taking pays ([`Pallet::slash_for`], deferred like any slash when [`SlashDeferSessions`]
	/// is set). Claims' verdicts use [`Slashing::slash_backing`].
	fn slash(who: &T::AccountId, fraction: Perbill, reason: SlashReason, chill: bool) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
		Self::slash_for(who, fraction, reason, chill, None)
	}

	/// A claim's verdict for work submitted in session `backed_in`: the offences' rule
	/// ([`Pallet::slash_for`]): what backed `who` then pays, whenever the verdict comes.
	fn slash_backing(
		who: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
		chill: bool,
		backed_in: Option<SessionIndex>,
	) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
		Self::slash_for(who, fraction, reason, chill, backed_in)
	}

	fn forfeit(who: &T::AccountId, amount: BalanceOf<T>, reason: SlashReason) -> BalanceOf<T> {
		let Some(mut ledger) = Ledgers::<T>::get(who) else { return Zero::zero() };
		let from_active = Self::take_held(who, amount.min(ledger.active));
		ledger.active = ledger.active.saturating_sub(from_active);
		let mut taken = from_active;
		for chunk in ledger.unlocking.iter_mut() {
			let want = amount.saturating_sub(taken).min(chunk.value);
			if want.is_zero() {
				break;
			}
			let got = Self::take_held(who, want);
			chunk.value = chunk.value.saturating_sub(got);
			taken = taken.saturating_add(got);
		}
		ledger.unlocking.retain(|c| !c.value.is_zero());
		if ledger.active.is_zero() && ledger.unlocking.is_empty() {
			Ledgers::<T>::remove(who);
		} else {
			Ledgers::<T>::insert(who, ledger);
		}
		if !taken.is_zero() {
			Self::deposit_event(Event::Forfeited { who: who.clone(), amount: taken, reason });
		}
		taken
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T>
where
	BalanceOf<T>: Into<u128>,
{
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		Self::plan_session(new_index)
	}

	fn start_session(start_index: SessionIndex) {
		CurrentSession::<T>::put(start_index);
		// Bounded: `MaxDeferredSlashes` slashes of twice `MaxDelegatorsPerValidator` delegators each,
		// in the session-change block (which pallet-session charges as a full block).
		Self::apply_deferred_slashes(start_index);
		Self::prune_offence_slashes(start_index);
		// Weights older than the previous session are no longer read (at sessions 0 and 1 there
		// are none: a saturating index would remove the current one).
		if let Some(old) = start_index.checked_sub(2) {
			ElectedWeights::<T>::remove(old);
		}
	}

	fn end_session(_end_index: SessionIndex) {}
}

/// The validators of the current session vote on claims, with their backing and reputation.
impl<T: Config> loopx_primitives::VoterSet<T::AccountId> for Pallet<T>
where
	BalanceOf<T>: Into<u128>,
{
	fn current_session() -> SessionIndex {
		CurrentSession::<T>::get()
	}

	fn voters() -> Vec<loopx_primitives::VoterInfo<T::AccountId>> {
		Self::weights_of_session(CurrentSession::<T>::get())
			.into_iter()
			.map(|v| loopx_primitives::VoterInfo { stake: Self::backing_of(&v.who).into(), reputation: Self::reputation_of(&v.who), who: v.who })
			.collect()
	}
}

/// A candidate's commission, own bond and delegations, for sharing its rewards.
impl<T: Config> loopx_primitives::StakeExposure<T::AccountId> for Pallet<T>
where
	BalanceOf<T>: Into<u128>,
{
	fn exposure(who: &T::AccountId) -> Option<loopx_primitives::Exposure<T::AccountId>> {
		let candidate = Candidates::<T>::get(who)?;
		let own = Ledgers::<T>::get(who).map(|l| l.active).unwrap_or_default().into();
		let delegations = Delegations::<T>::iter_prefix(who)
			.take(T::MaxDelegatorsPerValidator::get() as usize)
			.map(|(delegator, amount)| (delegator, amount.into()))
			.collect();
		Some(loopx_primitives::Exposure { commission: Self::commission_of(who, &candidate), own, delegations })
	}
}

/// Removes the chunks of `chunks` that have matured by session `now`; returns their sum.
fn take_matured<Balance: Copy + Zero + Saturating, S: Get<u32>>(chunks: &mut BoundedVec<UnlockChunk<Balance>, S>, now: SessionIndex) -> Balance {
	let mut matured = Balance::zero();
	chunks.retain(|chunk| {
		if chunk.unlock_in <= now {
			matured = matured.saturating_add(chunk.value);
			false
		} else {
			true
		}
	});
	matured
}
