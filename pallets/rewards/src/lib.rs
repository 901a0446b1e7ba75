//! # Rewards pallet
//!
//! Pays LoopX's useful work: block production, learning proofs, verification votes, query
//! answers, data sales, routing and building. Other pallets report work through
//! [`ContributionSink::note`]; each era this pallet mints new tokens into a reward pot, splits
//! the pot over the categories by configured shares and, within a category, over the accounts by
//! their points (R_k = C_k / C_total × share, MintAI's contribution rule).
//!
//! ## Overview
//!
//! - **Eras** last [`RewardParams::sessions_per_era`] sessions. At the first block of a new era,
//!   `on_initialize` closes the old one: it mints `issuance × rate(year) × era_blocks /
//!   BlocksPerYear` into the pot, where `rate` falls from [`InflationCurve::initial`] by
//!   [`InflationCurve::decay`] a year down to [`InflationCurve::floor`].
//! - **Fees**: [`DealWithFees`] (transaction fees) and [`FeeSink::pay_fee`] (market fees) send
//!   [`RewardParams::fee_to_pot`] of each fee to the pot; the rest goes to
//!   [`Config::Treasury`], or is burned when there is none.
//! - **Budgets**: of what the pot holds beyond the unpaid rewards of earlier eras, category k
//!   gets `share_k`; a category nobody earned points in gets nothing and its share stays in the
//!   pot for the next era (carried over), as does every share's rounding dust.
//! - **Payout**: [`Pallet::claim_rewards`] (for oneself) or [`Pallet::payout_for`] (anyone, for
//!   anyone) pays an account's reward for an ended era in one bounded call. A validator's reward
//!   is shared with its delegators: commission first, the rest pro rata to backing (own bond and
//!   each delegation), as they stood when the validator earned its first point of the era
//!   ([`EraExposures`], as pallet-staking's per-era exposures): a commission raised, a chill or
//!   a delegation made or withdrawn later does not change how an era's reward is shared. Rewards not paid within [`RewardParams::expiry_eras`]
//!   eras expire to the treasury (or are burned).
//! - **Spends**: [`RewardPot::spend`] pays from what the pot holds beyond its liabilities, at
//!   once (the compute market's free queries, funded by inflation as in MintAI).
//! - **Accounting**: for every era, `carried_in + minted + fees + other = allocated + carried_out
//!   + spent`, and once it expires `allocated = paid + expired`, to the unit; [`Event::EraEnded`]
//!   and [`Event::EraExpired`] carry the figures.
//!
//! ## Worked example (continues `pallet-weighted-voting`'s)
//!
//! The dev runtime: 1 session per era, 8 % initial yearly inflation, shares 40 % block
//! authoring, 20 % learning, 15 % verification, 10 % query answers, 5 % data sales, 5 % routing,
//! 5 % building. In an era of 20 blocks Alice, Bob and Charlie author 7, 7 and 6 blocks and Alice
//! and Bob each earn 10 verification points. Say the pot has 1,000 LPX to allocate: authoring
//! gets 400 (Alice 140, Bob 140, Charlie 120), verification 150 (Alice 75, Bob 75), the other
//! 45 % (450 LPX) has no points and is carried over. Alice claims 215 LPX; had Alice a 10 %
//! commission and one delegator backing half of her stake, the commission would be 21 LPX
//! (rounded down), the delegator would get (215 − 21) × ½ = 97 LPX and Alice the other 118.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod math;
pub mod migrations;
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
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Balanced, Credit, Inspect, Mutate},
		tokens::{Fortitude, Precision, Preservation},
		Imbalance, OnUnbalanced,
	},
	BoundedVec, PalletId,
};
use frame_system::pallet_prelude::*;
use loopx_primitives::{claims::SessionIndex, ContributionCategory, ContributionSink, FeeSink, RewardPot, StakeExposure, CATEGORIES};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{AccountIdConversion, Saturating, UniqueSaturatedFrom, UniqueSaturatedInto, Zero},
	DispatchResult, PerThing, Perbill,
};

pub use math::InflationCurve;
pub use pallet::*;
pub use weights::WeightInfo;

/// An era's index; era 0 starts at genesis.
pub type EraIndex = u32;

/// The balance type of the rewarded currency.
pub type BalanceOf<T> = <<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Points by category (indexed by [`ContributionCategory::index`]).
pub type Points = [u64; CATEGORIES];

/// The reward parameters (root can change them).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct RewardParams {
	/// Sessions per era (at least 1).
	pub sessions_per_era: SessionIndex,
	/// The yearly inflation curve.
	pub inflation: InflationCurve,
	/// Each category's share of the pot, in [`ContributionCategory`] order (sum at most 100 %).
	pub category_shares: [Perbill; CATEGORIES],
	/// The share of transaction and market fees that goes to the pot.
	pub fee_to_pot: Perbill,
	/// Eras after its end in which an era's rewards can be claimed (1 ..= `MaxExpiryEras`).
	pub expiry_eras: EraIndex,
}

/// An ended era's accounts, in the smallest unit.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, Default, TypeInfo, MaxEncodedLen)]
pub struct EraSummary<Balance> {
	/// The pot's free funds at the era's start that no earlier era had allocated.
	pub carried_in: Balance,
	/// Minted at the era's end.
	pub minted: Balance,
	/// Fees that reached the pot during the era.
	pub fees: Balance,
	/// Anything else that reached the pot (direct transfers, slashes sent there, refunds of
	/// spends).
	pub other: Balance,
	/// Spent from the pot during the era on work the protocol pays for directly (the compute
	/// market's free queries, through [`RewardPot::spend`]).
	pub spent: Balance,
	/// Each category's budget.
	pub budgets: [Balance; CATEGORIES],
	/// Each category's points.
	pub totals: Points,
	/// Sum of the budgets: what the era's accounts can claim.
	pub allocated: Balance,
	/// Left for the next era (categories without points, rounding of the shares).
	pub carried_out: Balance,
	/// Paid so far.
	pub paid: Balance,
}

/// Sets up, for the benchmarks, what belongs to other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` a validator with `d` delegators (so that its payout is shared with them).
	fn setup_validator(who: &AccountId, d: u32);
	/// Advances the session clock by one session.
	fn next_session();
}

/// A validator's commission, own bond and delegations (each delegator and amount) as of its
/// first point in an era.
pub type ExposureSnapshotOf<T> = (Perbill, u128, BoundedVec<(<T as frame_system::Config>::AccountId, u128), <T as pallet::Config>::MaxDelegators>);

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version. v1: rewards are shared by per-era exposure snapshots
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

		/// The rewarded currency: minted into the pot, paid out of it.
		type Currency: Mutate<Self::AccountId> + Balanced<Self::AccountId>;

		/// Derives the pot's account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Where expired rewards and the treasury's share of fees go; `None` burns them.
		type Treasury: Get<Option<Self::AccountId>>;

		/// The session in progress (eras are counted in sessions).
		type CurrentSession: Get<SessionIndex>;

		/// Validators' commission and backing, to share their rewards with delegators.
		type Exposure: StakeExposure<Self::AccountId>;

		/// Blocks in a year (emission is per block of the era).
		#[pallet::constant]
		type BlocksPerYear: Get<u32>;

		/// Most delegators one payout pays (the staking pallet's bound).
		#[pallet::constant]
		type MaxDelegators: Get<u32>;

		/// Largest `expiry_eras`.
		#[pallet::constant]
		type MaxExpiryEras: Get<EraIndex>;

		/// Points records of expired eras removed per block.
		#[pallet::constant]
		type CleanupPerBlock: Get<u32>;

		/// The part of what earlier eras carried over that joins an era's budgets, next to the
		/// era's own inflow (minted, fees, anything else that reached the pot). A category that
		/// earns its first points after a quiet spell takes its share of this slice, not of the
		/// whole pile: one wash trade in an empty category must not take 5 % of the pot.
		#[pallet::constant]
		type CarryOverRelease: Get<Perbill>;

		/// The origin of this pallet's privileged calls: governance on a public chain, root on
		/// the dev chain.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Sets up validators and sessions for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The reward parameters.
	#[pallet::storage]
	pub type Params<T> = StorageValue<_, RewardParams, OptionQuery>;

	/// The era in progress.
	#[pallet::storage]
	pub type CurrentEra<T> = StorageValue<_, EraIndex, ValueQuery>;

	/// The session and block at which the current era started.
	#[pallet::storage]
	pub type EraStart<T: Config> = StorageValue<_, (SessionIndex, BlockNumberFor<T>), ValueQuery>;

	/// Points of the current era, by category.
	#[pallet::storage]
	pub type EraPoints<T> = StorageMap<_, Twox64Concat, EraIndex, Points, ValueQuery>;

	/// Each account's points by era (removed when paid, or when the era expires).
	#[pallet::storage]
	pub type AccountPoints<T: Config> = StorageDoubleMap<_, Twox64Concat, EraIndex, Blake2_128Concat, T::AccountId, Points, OptionQuery>;

	/// Fees that reached the pot, by era.
	#[pallet::storage]
	pub type EraFees<T: Config> = StorageMap<_, Twox64Concat, EraIndex, BalanceOf<T>, ValueQuery>;

	/// What the pot spent during an era (until the era ends).
	#[pallet::storage]
	pub type EraSpent<T: Config> = StorageMap<_, Twox64Concat, EraIndex, BalanceOf<T>, ValueQuery>;

	/// The accounts of ended eras that can still be claimed.
	#[pallet::storage]
	pub type Eras<T: Config> = StorageMap<_, Twox64Concat, EraIndex, EraSummary<BalanceOf<T>>, OptionQuery>;

	/// Allocated to ended eras and not yet paid or expired (the pot holds at least this).
	#[pallet::storage]
	pub type Liabilities<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The pot's free funds that no era had allocated when the last era ended.
	#[pallet::storage]
	pub type CarriedOver<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Expired eras whose points records are still being removed.
	#[pallet::storage]
	pub type CleanupQueue<T> = StorageValue<_, BoundedVec<EraIndex, ConstU32<16>>, ValueQuery>;

	/// Each account's commission, own bond and delegations as they stood when it earned its
	/// first point of an era (`None`: no validator candidate then, its reward is all its own).
	/// An era's rewards are shared by these, so that what a validator or a delegator does after
	/// the work cannot move a reward between them. Removed with the era's points.
	#[pallet::storage]
	pub type EraExposures<T: Config> =
		StorageDoubleMap<_, Twox64Concat, EraIndex, Blake2_128Concat, T::AccountId, Option<ExposureSnapshotOf<T>>, OptionQuery>;

	/// The first era shared by [`EraExposures`]; earlier eras (ended before the upgrade that
	/// brought them) are shared by the exposure at payout, as they were.
	#[pallet::storage]
	pub type SnapshotsSince<T> = StorageValue<_, EraIndex, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The reward parameters (required).
		pub params: Option<RewardParams>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(params) = self.params {
				assert!(Pallet::<T>::params_are_valid(&params), "invalid genesis reward parameters");
				Params::<T>::put(params);
			}
			// The pot keeps its existential deposit, so that small fees can always land in it.
			let pot = Pallet::<T>::pot();
			let ed = T::Currency::minimum_balance();
			if T::Currency::balance(&pot) < ed {
				let _ = T::Currency::mint_into(&pot, ed);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The reward parameters were set.
		ParamsSet { params: RewardParams },
		/// `era` ended: its accounts (`carried_in + minted + fees + other = allocated +
		/// carried_out`).
		EraEnded { era: EraIndex, summary: EraSummary<BalanceOf<T>> },
		/// `who` was paid `amount` for `era` (its share, after its delegators').
		Rewarded { era: EraIndex, who: T::AccountId, amount: BalanceOf<T> },
		/// `delegator` was paid `amount` of `validator`'s reward for `era`.
		DelegatorRewarded { era: EraIndex, validator: T::AccountId, delegator: T::AccountId, amount: BalanceOf<T> },
		/// The unclaimed rewards of `era` expired: `amount` went to the treasury (or was burned).
		EraExpired { era: EraIndex, amount: BalanceOf<T>, burned: bool },
		/// A market fee: `to_pot` went to the reward pot, `to_treasury` to the treasury (or was
		/// burned).
		FeeTaken { from: T::AccountId, to_pot: BalanceOf<T>, to_treasury: BalanceOf<T> },
		/// The pot paid `amount` to `to` for work the protocol funds directly (a free query).
		PotSpent { to: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The era has not ended yet.
		EraNotEnded,
		/// The era's rewards expired (or it never existed).
		EraExpired,
		/// The account has no points in this era, or was paid already.
		NothingToClaim,
		/// Inconsistent parameters: zero sessions per era, shares above 100 %, a floor above the
		/// initial rate, or an expiry outside 1 ..= `MaxExpiryEras`.
		InvalidParams,
		/// A transfer from the pot failed (the pot holds less than the era's liabilities).
		PayoutFailed,
		/// A fee could not be taken from the payer.
		FeeFailed,
		/// The pot holds less than the spend beyond what earlier eras' accounts may still claim.
		PotExhausted,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut weight = T::DbWeight::get().reads(3);
			if let Some(params) = Params::<T>::get() {
				let (start_session, _) = EraStart::<T>::get();
				if T::CurrentSession::get() >= start_session.saturating_add(params.sessions_per_era) {
					weight = weight.saturating_add(Self::end_era(now, &params));
				}
			}
			weight.saturating_add(Self::cleanup())
		}

		fn integrity_test() {
			assert!(T::MaxExpiryEras::get() > 0, "MaxExpiryEras must be positive");
			assert!(T::BlocksPerYear::get() > 0, "BlocksPerYear must be positive");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Pays the caller's rewards for the ended `era` (and, for a validator, its delegators'
		/// shares). Emits `Rewarded` and a `DelegatorRewarded` per delegator. Charged for the
		/// delegators actually paid (the rest of the `MaxDelegators` worst case is refunded).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::payout(T::MaxDelegators::get()))]
		pub fn claim_rewards(origin: OriginFor<T>, era: EraIndex) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let delegators = Self::do_payout(era, &who)?;
			Ok(Some(T::WeightInfo::payout(delegators)).into())
		}

		/// Pays `who`'s rewards for the ended `era`, as [`Pallet::claim_rewards`] would; anyone
		/// may call it (the funds go to `who` and its delegators only).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::payout(T::MaxDelegators::get()))]
		pub fn payout_for(origin: OriginFor<T>, era: EraIndex, who: T::AccountId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let delegators = Self::do_payout(era, &who)?;
			Ok(Some(T::WeightInfo::payout(delegators)).into())
		}

		/// Sets the reward parameters ([`Config::AdminOrigin`]). They apply from the next era end. Emits `ParamsSet`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: RewardParams) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and by the property test after every
	/// era): the liabilities are what the claimable eras allocated and did not pay, and the pot
	/// holds at least that; each era's budgets add up to what it allocated; the current era's
	/// points are its accounts' points; an ended era has no more account points left than it
	/// counted; account points exist only for eras that are current, claimable or being cleaned.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let current = CurrentEra::<T>::get();
		let mut owed = BalanceOf::<T>::zero();
		for (_, era) in Eras::<T>::iter() {
			let budgets = era.budgets.iter().fold(BalanceOf::<T>::zero(), |acc, b| acc.saturating_add(*b));
			ensure!(budgets == era.allocated, "an era's budgets do not add up to what it allocated");
			ensure!(era.paid <= era.allocated, "an era paid more than it allocated");
			owed = owed.saturating_add(era.allocated.saturating_sub(era.paid));
		}
		ensure!(owed == Liabilities::<T>::get(), "the liabilities are not what the claimable eras owe");
		ensure!(Self::pot_free() >= owed, "the pot holds less than it owes");
		let cleaning = CleanupQueue::<T>::get();
		let mut sums: alloc::collections::btree_map::BTreeMap<EraIndex, Points> = Default::default();
		for (era, _, points) in AccountPoints::<T>::iter() {
			ensure!(era == current || Eras::<T>::contains_key(era) || cleaning.contains(&era), "account points of an era that is gone");
			let sum = sums.entry(era).or_insert([0; CATEGORIES]);
			for (s, p) in sum.iter_mut().zip(points) {
				*s = s.saturating_add(p);
			}
		}
		let zero = [0; CATEGORIES];
		ensure!(*sums.get(&current).unwrap_or(&zero) == EraPoints::<T>::get(current), "the current era's points are not its accounts' points");
		for (era, summary) in Eras::<T>::iter() {
			let left = sums.get(&era).unwrap_or(&zero);
			ensure!(left.iter().zip(summary.totals).all(|(l, t)| *l <= t), "an ended era has more account points left than it counted");
		}
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// The reward pot's account.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Whether `p` is consistent (see [`Error::InvalidParams`]).
	pub fn params_are_valid(p: &RewardParams) -> bool {
		let shares: u64 = p.category_shares.iter().map(|s| s.deconstruct() as u64).sum();
		p.sessions_per_era > 0
			&& shares <= Perbill::ACCURACY as u64
			&& p.inflation.floor <= p.inflation.initial
			&& p.expiry_eras > 0
			&& p.expiry_eras <= T::MaxExpiryEras::get()
	}

	/// What the pot can pay beyond its existential deposit.
	fn pot_free() -> BalanceOf<T> {
		T::Currency::reducible_balance(&Self::pot(), Preservation::Preserve, Fortitude::Polite)
	}

	/// Closes the current era: mint, budgets, expiry of the oldest claimable era.
	fn end_era(now: BlockNumberFor<T>, params: &RewardParams) -> Weight {
		let era = CurrentEra::<T>::get();
		let (_, start_block) = EraStart::<T>::get();
		let pot = Self::pot();

		// Mint.
		let era_blocks: u128 = now.saturating_sub(start_block).unique_saturated_into();
		let year: u32 = (start_block / BlockNumberFor::<T>::from(T::BlocksPerYear::get())).unique_saturated_into();
		let issuance: u128 = T::Currency::total_issuance().unique_saturated_into();
		let emission = math::era_emission(issuance, &params.inflation, year, era_blocks, T::BlocksPerYear::get() as u128);
		let minted = T::Currency::mint_into(&pot, BalanceOf::<T>::unique_saturated_from(emission)).unwrap_or_else(|e| {
			log::error!(target: "runtime::rewards", "minting {emission} for era {era} failed: {e:?}");
			Zero::zero()
		});

		// What the pot holds beyond earlier eras' unpaid rewards: this era's inflow and what
		// earlier eras carried over. Budgets are shares of the inflow and of a slice of the
		// carry-over (`CarryOverRelease`); the rest of the carry-over waits.
		let liabilities = Liabilities::<T>::get();
		let available = Self::pot_free().saturating_sub(liabilities);
		let carried_in = CarriedOver::<T>::get();
		let fees = EraFees::<T>::take(era);
		let spent = EraSpent::<T>::take(era);
		let other = available.saturating_add(spent).saturating_sub(carried_in).saturating_sub(minted).saturating_sub(fees);
		let totals = EraPoints::<T>::take(era);
		let carried = carried_in.min(available);
		let base = available.saturating_sub(carried).saturating_add(T::CarryOverRelease::get().mul_floor(carried));
		let budgets = math::budgets(base.unique_saturated_into(), &params.category_shares, &totals).map(BalanceOf::<T>::unique_saturated_from);
		let allocated = budgets.iter().fold(BalanceOf::<T>::zero(), |acc, b| acc.saturating_add(*b));
		let carried_out = available.saturating_sub(allocated);
		let summary = EraSummary { carried_in, minted, fees, other, spent, budgets, totals, allocated, carried_out, paid: Zero::zero() };
		Liabilities::<T>::put(liabilities.saturating_add(allocated));
		CarriedOver::<T>::put(carried_out);
		Eras::<T>::insert(era, summary.clone());
		Self::deposit_event(Event::EraEnded { era, summary });

		CurrentEra::<T>::put(era.saturating_add(1));
		EraStart::<T>::put((T::CurrentSession::get(), now));

		// The era that can no longer be claimed.
		if let Some(expired) = era.checked_sub(params.expiry_eras) {
			Self::expire(expired);
		}
		T::WeightInfo::end_era()
	}

	/// Sends an era's unpaid rewards to the treasury (or burns them) and schedules the removal
	/// of its points records.
	fn expire(era: EraIndex) {
		let Some(summary) = Eras::<T>::take(era) else { return };
		let unpaid = summary.allocated.saturating_sub(summary.paid);
		let pot = Self::pot();
		let (moved, burned) = match T::Treasury::get() {
			Some(treasury) => (T::Currency::transfer(&pot, &treasury, unpaid, Preservation::Preserve), false),
			None => (T::Currency::burn_from(&pot, unpaid, Preservation::Preserve, Precision::Exact, Fortitude::Polite), true),
		};
		if let Err(e) = moved {
			log::error!(target: "runtime::rewards", "expiring {unpaid:?} of era {era} failed: {e:?}");
		}
		Liabilities::<T>::mutate(|l| *l = l.saturating_sub(unpaid));
		CleanupQueue::<T>::mutate(|q| {
			if q.try_push(era).is_err() {
				log::warn!(target: "runtime::rewards", "cleanup queue full; points of era {era} stay");
			}
		});
		Self::deposit_event(Event::EraExpired { era, amount: unpaid, burned });
	}

	/// Removes up to `CleanupPerBlock` points records of the oldest expired era.
	fn cleanup() -> Weight {
		let mut queue = CleanupQueue::<T>::get();
		let Some(era) = queue.first().copied() else { return Weight::zero() };
		let limit = T::CleanupPerBlock::get();
		// One call per map and block: the keys removed in earlier blocks are gone from the
		// backend, so each block starts again from the first remaining key (no cursor to carry).
		// The points go first, then the exposure snapshots, within one limit.
		let points = AccountPoints::<T>::clear_prefix(era, limit, None);
		let left = limit.saturating_sub(points.backend);
		let mut removed = points.backend;
		if points.maybe_cursor.is_none() && left > 0 {
			let snapshots = EraExposures::<T>::clear_prefix(era, left, None);
			removed = removed.saturating_add(snapshots.backend);
			if snapshots.maybe_cursor.is_none() {
				queue.remove(0);
				CleanupQueue::<T>::put(queue);
			}
		}
		T::WeightInfo::cleanup(removed)
	}

	/// `who`'s reward for the ended `era` (before sharing with delegators), if any.
	pub fn pending_reward(era: EraIndex, who: &T::AccountId) -> Option<BalanceOf<T>> {
		let summary = Eras::<T>::get(era)?;
		let points = AccountPoints::<T>::get(era, who)?;
		Some(Self::reward_from(&summary, &points))
	}

	fn reward_from(summary: &EraSummary<BalanceOf<T>>, points: &Points) -> BalanceOf<T> {
		let budgets: [u128; CATEGORIES] = summary.budgets.map(|b| b.unique_saturated_into());
		BalanceOf::<T>::unique_saturated_from(math::reward_of(points, &budgets, &summary.totals))
	}

	fn do_payout(era: EraIndex, who: &T::AccountId) -> Result<u32, DispatchError> {
		ensure!(era < CurrentEra::<T>::get(), Error::<T>::EraNotEnded);
		let mut summary = Eras::<T>::get(era).ok_or(Error::<T>::EraExpired)?;
		let points = AccountPoints::<T>::take(era, who).ok_or(Error::<T>::NothingToClaim)?;
		let reward = Self::reward_from(&summary, &points);
		let pot = Self::pot();
		let pay = |to: &T::AccountId, amount: BalanceOf<T>| -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			T::Currency::transfer(&pot, to, amount, Preservation::Preserve).map(|_| ()).map_err(|_| Error::<T>::PayoutFailed.into())
		};

		// Delegators first (each rounded down); the validator keeps the rest.
		let mut own_part = reward;
		let mut delegators = 0u32;
		let exposure = if era >= SnapshotsSince::<T>::get() {
			EraExposures::<T>::take(era, who).flatten().map(|(commission, own, delegations)| loopx_primitives::Exposure {
				commission,
				own,
				delegations: delegations.into_inner(),
			})
		} else {
			T::Exposure::exposure(who)
		};
		if let Some(exposure) = exposure {
			let delegations: Vec<_> = exposure.delegations.into_iter().take(T::MaxDelegators::get() as usize).collect();
			delegators = delegations.len() as u32;
			let amounts: Vec<u128> = delegations.iter().map(|(_, d)| *d).collect();
			let parts = math::delegator_parts(reward.unique_saturated_into(), exposure.commission, exposure.own, &amounts);
			for ((delegator, _), part) in delegations.into_iter().zip(parts) {
				let part = BalanceOf::<T>::unique_saturated_from(part);
				if part.is_zero() {
					continue;
				}
				pay(&delegator, part)?;
				own_part = own_part.saturating_sub(part);
				Self::deposit_event(Event::DelegatorRewarded { era, validator: who.clone(), delegator, amount: part });
			}
		}
		pay(who, own_part)?;
		summary.paid = summary.paid.saturating_add(reward);
		Eras::<T>::insert(era, summary);
		Liabilities::<T>::mutate(|l| *l = l.saturating_sub(reward));
		Self::deposit_event(Event::Rewarded { era, who: who.clone(), amount: own_part });
		Ok(delegators)
	}

	/// Adds a fee's pot share to the current era's fee income.
	fn note_fee(amount: BalanceOf<T>) {
		EraFees::<T>::mutate(CurrentEra::<T>::get(), |f| *f = f.saturating_add(amount));
	}

	/// The pending rewards of `who` in every claimable era (runtime API).
	pub fn pending_rewards(who: &T::AccountId) -> Vec<(EraIndex, BalanceOf<T>)> {
		let current = CurrentEra::<T>::get();
		let depth = T::MaxExpiryEras::get();
		(current.saturating_sub(depth)..current).filter_map(|era| Some((era, Self::pending_reward(era, who)?))).collect()
	}
}

impl<T: Config> ContributionSink<T::AccountId> for Pallet<T> {
	fn note(who: &T::AccountId, category: ContributionCategory, points: u64) {
		if points == 0 {
			return;
		}
		let era = CurrentEra::<T>::get();
		let k = category.index();
		if !EraExposures::<T>::contains_key(era, who) {
			let snapshot = T::Exposure::exposure(who).map(|e| (e.commission, e.own, BoundedVec::truncate_from(e.delegations)));
			EraExposures::<T>::insert(era, who, snapshot);
		}
		AccountPoints::<T>::mutate(era, who, |p| {
			let p = p.get_or_insert([0; CATEGORIES]);
			p[k] = p[k].saturating_add(points);
		});
		EraPoints::<T>::mutate(era, |t| t[k] = t[k].saturating_add(points));
	}
}

impl<T: Config> RewardPot<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn spend(to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		// Only what no ended era may still claim.
		let spendable = Self::pot_free().saturating_sub(Liabilities::<T>::get());
		ensure!(amount <= spendable, Error::<T>::PotExhausted);
		T::Currency::transfer(&Self::pot(), to, amount, Preservation::Preserve).map_err(|_| Error::<T>::PotExhausted)?;
		EraSpent::<T>::mutate(CurrentEra::<T>::get(), |s| *s = s.saturating_add(amount));
		Self::deposit_event(Event::PotSpent { to: to.clone(), amount });
		Ok(())
	}

	fn account() -> T::AccountId {
		Self::pot()
	}
}

impl<T: Config> FeeSink<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn pay_fee(from: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let share = Params::<T>::get().map(|p| p.fee_to_pot).unwrap_or_default();
		let to_pot = share * amount;
		let to_treasury = amount.saturating_sub(to_pot);
		if !to_pot.is_zero() {
			T::Currency::transfer(from, &Self::pot(), to_pot, Preservation::Expendable).map_err(|_| Error::<T>::FeeFailed)?;
			Self::note_fee(to_pot);
		}
		if !to_treasury.is_zero() {
			match T::Treasury::get() {
				Some(t) => T::Currency::transfer(from, &t, to_treasury, Preservation::Expendable).map(|_| ()),
				None => T::Currency::burn_from(from, to_treasury, Preservation::Expendable, Precision::Exact, Fortitude::Polite).map(|_| ()),
			}
			.map_err(|_| Error::<T>::FeeFailed)?;
		}
		Self::deposit_event(Event::FeeTaken { from: from.clone(), to_pot, to_treasury });
		Ok(())
	}
}

/// Transaction fees and tips: the `fee_to_pot` share to the reward pot, the rest to the
/// treasury, or burned when there is none.
pub struct DealWithFees<T>(core::marker::PhantomData<T>);
impl<T: Config> OnUnbalanced<Credit<T::AccountId, T::Currency>> for DealWithFees<T> {
	fn on_nonzero_unbalanced(credit: Credit<T::AccountId, T::Currency>) {
		let share = Params::<T>::get().map(|p| p.fee_to_pot).unwrap_or_default();
		let to_pot_amount = share * credit.peek();
		let (to_pot, rest) = credit.split(to_pot_amount);
		let landed = to_pot.peek();
		match T::Currency::resolve(&Pallet::<T>::pot(), to_pot) {
			Ok(()) => Pallet::<T>::note_fee(landed),
			// Dropping the credit burns it.
			Err(unplaced) => drop(unplaced),
		}
		if let Some(treasury) = T::Treasury::get() {
			let _ = T::Currency::resolve(&treasury, rest);
		}
	}
}
