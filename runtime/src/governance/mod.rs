//! Governance: OpenGov (`pallet-referenda` with `pallet-conviction-voting`, `pallet-preimage`,
//! `pallet-scheduler`), a technical committee (`pallet-collective`) that can whitelist urgent
//! calls (`pallet-whitelist`), and a treasury (`pallet-treasury`).
//!
//! Every privileged call of the LoopX pallets takes its origin from here: [`AdminOrigin`] is root
//! or a passed `parameter_admin` referendum, [`SlashCancelOrigin`] is root or a passed
//! `slash_canceller` referendum. Root itself is a passed `root` referendum (or, on the dev
//! chain only, the sudo key).

pub mod origins;
#[cfg(test)]
mod tests;
pub mod tracks;

use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{pay::PayFromAccount, UnityAssetBalanceConversion},
		ConstU32, EitherOf, EqualPrivilegeOnly, LinearStoragePrice, TotalIssuanceOf,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned};
use sp_runtime::{traits::IdentityLookup, Perbill, Permill};

use crate::{
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason,
	RuntimeOrigin, Scheduler, System, Treasury, TreasuryAccount, DAYS, MINUTES, UNITS,
};
pub use origins::{ParameterAdmin, SlashCanceller, Treasurer, WhitelistedCaller};

/// The `AdminOrigin` of the LoopX pallets: root, or a referendum passed on `parameter_admin`.
pub type AdminOrigin = EitherOf<EnsureRoot<AccountId>, ParameterAdmin>;
/// stake-reputation's `SlashCancelOrigin`: root, or a referendum passed on `slash_canceller`.
pub type SlashCancelOrigin = EitherOf<EnsureRoot<AccountId>, SlashCanceller>;

impl origins::Config for Runtime {}

parameter_types! {
	pub const PreimageBaseDeposit: Balance = UNITS;
	pub const PreimageByteDeposit: Balance = crate::MICRO_UNITS * 10;
	pub const PreimageHoldReason: RuntimeHoldReason = RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	// A preimage holds 1 LPX + 10 µLPX a byte of its noter until it is unnoted or used.
	type Consideration =
		HoldConsideration<AccountId, Balances, PreimageHoldReason, LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>>;
}

parameter_types! {
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) * crate::configs::RuntimeBlockWeights::get().max_block;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	// Only referenda (and root) schedule: no one schedules with a signed origin.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// What a vote's conviction locks for, per doubling (`Locked1x` = one period).
	pub const VoteLockingPeriod: BlockNumber = 10 * MINUTES;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	// Support is measured against the whole issuance.
	type MaxTurnout = TotalIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	/// Held from whoever submits a referendum; returned when it is decided.
	pub const SubmissionDeposit: Balance = 10 * UNITS;
	pub const UndecidingTimeout: BlockNumber = DAYS;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = EnsureSigned<AccountId>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	// A killed referendum's deposits go to the treasury.
	type Slash = Treasury;
	type Votes = pallet_conviction_voting::VotesOf<Runtime>;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = ConstU32<1>;
	type Tracks = tracks::TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	pub const TechnicalMotionDuration: BlockNumber = 10 * MINUTES;
	pub MaxCollectivesProposalWeight: Weight = Perbill::from_percent(50) * crate::configs::RuntimeBlockWeights::get().max_block;
}

/// The technical committee: it whitelists urgent calls for the `whitelisted_caller` track.
pub type TechnicalCollective = pallet_collective::Instance1;
impl pallet_collective::Config<TechnicalCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = TechnicalMotionDuration;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<32>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	// Membership changes by a root referendum.
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxCollectivesProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

/// Two thirds of the technical committee.
pub type TechnicalTwoThirds = pallet_collective::EnsureProportionAtLeast<AccountId, TechnicalCollective, 2, 3>;

parameter_types! {
	/// How long a whitelisted call may wait for its referendum.
	pub const WhitelistExpiration: BlockNumber = DAYS;
}

impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WhitelistOrigin = EitherOf<EnsureRoot<AccountId>, TechnicalTwoThirds>;
	type DispatchWhitelistedOrigin = EitherOf<EnsureRoot<AccountId>, WhitelistedCaller>;
	type Preimages = Preimage;
	type DeferredDispatchExpiration = WhitelistExpiration;
	type BlockNumberProvider = System;
	type WeightInfo = pallet_whitelist::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const TreasuryPalletId: frame_support::PalletId = crate::configs::TREASURY_PALLET_ID;
	pub const SpendPeriod: BlockNumber = 60 * MINUTES;
	/// Nothing is burnt: what is not spent stays for later.
	pub const Burn: Permill = Permill::zero();
	pub const PayoutPeriod: BlockNumber = 7 * DAYS;
	pub const MaxBalance: Balance = Balance::MAX;
}

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = Burn;
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = EitherOf<EnsureRootWithSuccess<AccountId, MaxBalance>, Treasurer>;
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TreasuryArguments;
	type BlockNumberProvider = System;
}

/// Treasury benchmarks' spends: the native token to an account made from the seed.
#[cfg(feature = "runtime-benchmarks")]
pub struct TreasuryArguments;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_treasury::ArgumentsFactory<(), AccountId> for TreasuryArguments {
	fn create_asset_kind(_seed: u32) {}
	fn create_beneficiary(seed: [u8; 32]) -> AccountId {
		AccountId::from(seed)
	}
}
