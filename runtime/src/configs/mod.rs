//! Configuration of every pallet in the runtime.
//!
//! Base weights (block, extrinsic, database) are measured on our reference machine
//! (`crate::weights`); LoopX pallets bring weights benchmarked there too
//! (`scripts/bench/pallet-weights.sh`); upstream pallets keep upstream's `SubstrateWeight`,
//! priced with our database weights.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, ConstU8, Contains, VariantCountOf},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, IdentityFee, Weight},
	PalletId,
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{
	traits::{AccountIdConversion, Bounded},
	FixedPointNumber, Perbill, Perquintill,
};
use sp_version::RuntimeVersion;

use crate::weights::{BlockExecutionWeight, ExtrinsicBaseWeight, ParityDbWeight};
use crate::{
	AccountId, Babe, Balance, Balances, Block, BlockNumber, Hash, Nonce, OriginCaller, PalletInfo, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, SessionKeys, StakeReputation, System, EPOCH_DURATION_IN_SLOTS,
	EXISTENTIAL_DEPOSIT, MILLI_SECS_PER_BLOCK, SLOT_DURATION, UNITS, VERSION,
};

/// Normal (user) extrinsics may fill 75% of a block; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// Two seconds of compute per block, with a 3 s slot: the remaining second is for propagation
/// and import on the other validators.
const MAXIMUM_BLOCK_WEIGHT: Weight = Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2), u64::MAX);

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// `BlockWeights::with_sensible_defaults`, with the base weights measured here.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::builder()
		.base_block(BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |weights| {
			weights.base_extrinsic = ExtrinsicBaseWeight::get();
		})
		.for_class(DispatchClass::Normal, |weights| {
			weights.max_total = Some(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		.for_class(DispatchClass::Operational, |weights| {
			weights.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			weights.reserved = Some(MAXIMUM_BLOCK_WEIGHT - NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		.avg_block_initialization(Perbill::from_percent(10))
		.build_or_panic();
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |m| {
			*m = NORMAL_DISPATCH_RATIO * *m
		})
		.build();
	/// Generic Substrate address format (addresses start with `5`), registered as prefix 42.
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

parameter_types! {
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
	pub const MaxAuthorities: u32 = 100;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	// Epochs end on their own schedule; pallet-session follows BABE (`ShouldEndSession = Babe`).
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	// Equivocations are reported with a key-ownership proof against the historical session
	// roots, and punished through pallet-offences (`offences.rs`).
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = pallet_babe::EquivocationReportSystem<Self, crate::Offences, crate::Historical, offences::ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = offences::MaxSetIdSessionEntries;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = pallet_grandpa::EquivocationReportSystem<Self, crate::Offences, crate::Historical, offences::ReportLongevity>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	type EventHandler = AuthoringPoints;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Blocks fuller than this raise the fee multiplier, emptier ones lower it.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the multiplier follows (polkadot's value: a full block raises it ~0.0056 %,
	/// a day of full blocks about 5×).
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	/// Idle chains get fees down to a tenth, never to nothing.
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 10u128);
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
	/// What a byte of a transaction costs: 1 µLPX (a transfer's ~150 bytes cost about what its
	/// weight does; a 5 MiB block of bytes costs ~5 LPX).
	pub const TransactionByteFee: Balance = crate::MICRO_UNITS;
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Fees and tips: a share to the reward pot, the rest to the treasury (pallet-rewards).
	type OnChargeTransaction = FungibleAdapter<Balances, pallet_rewards::DealWithFees<Runtime>>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = frame_support::weights::ConstantMultiplier<Balance, TransactionByteFee>;
	// Congestion pricing: the multiplier rises while blocks are fuller than the target, so a
	// flood costs more the longer it lasts.
	type FeeMultiplierUpdate = TargetedFeeAdjustment<Self, TargetBlockFullness, AdjustmentVariable, MinimumMultiplier, MaximumMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	// Each session's validators are elected by stake × reputation ...
	// (noting each set in the historical roots that equivocation proofs are checked against) ...
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, offences::ElectedWithHistory>;
	// ... and handed to BABE and GRANDPA with their weights.
	type SessionHandler = crate::weighted_authorities::WeightedSessionHandler;
	type Keys = SessionKeys;
	// An offender is disabled for the rest of its session, at most a third of the set at once.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = ();
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Where slashed stake goes (a keyless account; governance spends from it).
	pub TreasuryAccount: AccountId = TREASURY_PALLET_ID.into_account_truncating();
	pub SlashDestination: Option<AccountId> = Some(TreasuryAccount::get());
	pub const ReputationDecay: Perbill = Perbill::from_percent(1);
	// A penalty fades four times slower than a gain.
	pub const PenaltyRecovery: Perbill = Perbill::from_parts(2_500_000);
	/// Below 1/3: no single validator can stall GRANDPA (which needs more than 2/3) alone.
	pub const MaxWeightShare: Perbill = Perbill::from_percent(30);
	/// Below 1/2: no voter alone accepts, rejects or sets a claim's median; above 1/3, so that
	/// the three voters of a four-validator network keep their stake × reputation order.
	pub const MaxVoterShare: Perbill = Perbill::from_percent(40);
	pub const CarryOverRelease: Perbill = Perbill::from_percent(10);
	pub const DecisiveShare: Perbill = Perbill::from_percent(67);
	pub TallyBudget: Weight = Perbill::from_percent(25) * MAXIMUM_BLOCK_WEIGHT;
	/// The compute market's due steps: a routing is charged ~9.4 ms (every validator's
	/// capabilities read), an expiry ~1.5 ms, a disputed evaluation ~31 ms, so a quarter of the
	/// block routes and expires about 45 queries (15 a second).
	pub DueBudget: Weight = Perbill::from_percent(25) * MAXIMUM_BLOCK_WEIGHT;
}

/// The treasury's pallet id (its account receives slashes).
pub const TREASURY_PALLET_ID: PalletId = PalletId(*b"lpx/trsy");

/// Whether an account has registered session keys with `session.setKeys`.
pub struct HasSessionKeys;
impl Contains<AccountId> for HasSessionKeys {
	fn contains(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}
}

impl pallet_stake_reputation::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinBond = ConstU128<UNITS>;
	type MinValidatorStake = ConstU128<{ 1_000 * UNITS }>;
	type MinDelegation = ConstU128<{ 10 * UNITS }>;
	type MinValidatorReputation = ConstU32<100_000>;
	type MaxReputation = ConstU32<1_000_000>;
	type NeutralReputation = ConstU32<500_000>;
	// A new account starts at the validator minimum, not at neutral: re-bonding under a fresh
	// key after a slash gains nothing.
	type InitialReputation = ConstU32<100_000>;
	type ReputationDecay = ReputationDecay;
	type PenaltyRecovery = PenaltyRecovery;
	// 20,000 a session (a minute): from neutral to the maximum in no less than 25 sessions,
	// whatever work is done; an honest validator's votes and claims earn less than that.
	type MaxGainPerSession = ConstU32<20_000>;
	type MaxValidators = MaxAuthorities;
	type MinValidators = ConstU32<1>;
	type MaxCandidates = ConstU32<256>;
	type MaxDelegatorsPerValidator = ConstU32<64>;
	type MaxDelegationsPerDelegator = ConstU32<16>;
	type MaxUnlockingChunks = ConstU32<16>;
	// 10 sessions = 10 minutes: short for a test chain; a public network would use days.
	type BondingDuration = ConstU32<10>;
	type MaxWeightShare = MaxWeightShare;
	type SlashReputationPenalty = ConstU32<100_000>;
	type SlashDestination = SlashDestination;
	type AdminOrigin = crate::governance::AdminOrigin;
	type SlashCancelOrigin = crate::governance::SlashCancelOrigin;
	type MaxDeferredSlashes = ConstU32<64>;
	type Disabler = offences::SessionDisabler;
	type HasSessionKeys = HasSessionKeys;
	type WeightInfo = pallet_stake_reputation::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = StakeReputationBenchmarkHelper;
}

/// Gives benchmark accounts session keys (all-zero keys written straight to `NextKeys`: the
/// stake-reputation benchmarks only check that keys exist).
#[cfg(feature = "runtime-benchmarks")]
pub struct StakeReputationBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_stake_reputation::BenchmarkHelper<AccountId> for StakeReputationBenchmarkHelper {
	fn register_session_keys(who: &AccountId) {
		use codec::Decode;
		use sp_runtime::traits::TrailingZeroInput;
		if let Ok(keys) = SessionKeys::decode(&mut TrailingZeroInput::zeroes()) {
			pallet_session::NextKeys::<Runtime>::insert(who, keys);
		}
	}
}

/// Block authors earn one block-authoring contribution point per block.
pub struct AuthoringPoints;
impl pallet_authorship::EventHandler<AccountId, BlockNumber> for AuthoringPoints {
	fn note_author(author: AccountId) {
		use loopx_primitives::{ContributionCategory, ContributionSink};
		<crate::Rewards as ContributionSink<AccountId>>::note(&author, ContributionCategory::BlockAuthoring, 1);
	}
}

impl pallet_weighted_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Voters = StakeReputation;
	type Reputations = StakeReputation;
	type SlashedBalance = Balance;
	type Slasher = StakeReputation;
	// A claim its claimant opened and nobody could decide costs 1 LPX of the claimant's bond:
	// 96 such claims to fill a class cost 96 LPX, a fee-sized sum for an honest answerer.
	type UndecidedClaimBond = ConstU128<{ UNITS }>;
	type Contributions = crate::Rewards;
	// The markets that open claims act on their outcomes.
	type OnDecided = (crate::DataMarket, crate::BuilderMarket, crate::ComputeMarket);
	type MaxVoters = MaxAuthorities;
	// A block's tally budget decides up to 62 model-update claims of a 16-voter committee (~21 a
	// second, `claim_capacity_tests`); a claim is open 40 blocks: 2,480 at once. One key each,
	// so the cap costs nothing per claim (storage v6). Two classes flooded still leave 1,280
	// slots to the others.
	type MaxOpenClaims = ConstU32<6_400>;
	type MaxOpenPerClass = ConstU32<2_560>;
	type MaxQueuedClaims = ConstU32<256>;
	// The builder and up to 16 rival trainers of a round (`MaxUpdatesPerRound`), with room.
	type MaxConflicted = ConstU32<24>;
	// A validator drawn for many claims votes on 64 of them per transaction.
	type MaxVotesPerCall = ConstU32<64>;
	// Charlie holds half the stake of `--chain local`: alone he decides nothing.
	type MaxVoterShare = MaxVoterShare;
	type MinVoters = ConstU32<2>;
	// Rivals leave a claim's electorate only while three others are left: one of them down
	// still leaves the two a decision needs. On the four validators of `--chain local` a claim
	// with a rival keeps it (two would be left).
	type MinVotersWithoutRivals = ConstU32<3>;
	// A committee's verdict with less than two thirds of the revealed weight behind it (a tie,
	// a split a few colluders drawn together can cause) goes to a larger committee.
	type DecisiveShare = DecisiveShare;
	// A quarter of the block for tallies and for opening queued claims: a worst-case tally (100
	// voters, escalating) costs ~70 ms, one of a 16-voter committee ~19 ms (weights.rs).
	type TallyBudget = TallyBudget;
	// 12 hours of 3 s blocks.
	type MaxPeriod = ConstU32<14_400>;
	// 1 hour.
	type DecidedRetention = ConstU32<1_200>;
	type VoterReward = ConstU32<1_000>;
	type VoterPenalty = ConstU32<5_000>;
	type MissedRevealPenalty = ConstU32<10_000>;
	type AbsentPenalty = ConstU32<10_000>;
	type ClaimantReward = ConstU32<5_000>;
	type ClaimantPenalty = ConstU32<50_000>;
	type VotePoints = ConstU64<10>;
	type DivergenceLimit = ConstU32<3>;
	type SuspensionBase = ConstU32<2>;
	// Committees are drawn from the VRF output of the block the claim opens in: before that
	// block is published only its author knows it, so a claimant cannot pick its committee by
	// choosing when to submit.
	type Randomness = BlockVrfRandomness;
	type AdminOrigin = crate::governance::AdminOrigin;
	type WeightInfo = pallet_weighted_voting::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LoopxBenchmarkHelper;
}

parameter_types! {
	pub const RewardsPalletId: PalletId = PalletId(*b"lpx/rwrd");
	pub RewardsTreasury: Option<AccountId> = Some(TreasuryAccount::get());
}

/// The session in progress, as the staking pallet counts it.
pub struct CurrentSession;
impl frame_support::traits::Get<u32> for CurrentSession {
	fn get() -> u32 {
		StakeReputation::current_session()
	}
}

impl pallet_rewards::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Treasury = RewardsTreasury;
	type CurrentSession = CurrentSession;
	type Exposure = StakeReputation;
	// 365.25 days of 3 s blocks.
	type BlocksPerYear = ConstU32<10_519_200>;
	type MaxDelegators = ConstU32<64>;
	type MaxExpiryEras = ConstU32<84>;
	type CleanupPerBlock = ConstU32<256>;
	// A tenth of what earlier eras carried over joins each era's budgets.
	type CarryOverRelease = CarryOverRelease;
	type AdminOrigin = crate::governance::AdminOrigin;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LoopxBenchmarkHelper;
}

parameter_types! {
	pub const SellerBond: Perbill = Perbill::from_percent(10);
	pub const DataProtocolFee: Perbill = Perbill::from_percent(2);
	pub const MaxRouterFee: Perbill = Perbill::from_percent(5);
}

/// The one router registry of both markets: one bond, one fee cap.
impl pallet_routers::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RouterBond = ConstU128<{ 100 * UNITS }>;
	type MaxRouterFee = MaxRouterFee;
	type WeightInfo = pallet_routers::weights::SubstrateWeight<Runtime>;
}

impl pallet_data_market::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Reputations = StakeReputation;
	type Contributions = crate::Rewards;
	type Fees = crate::Rewards;
	type Claims = crate::WeightedVoting;
	type SlashDestination = SlashDestination;
	type MaxTagLen = ConstU32<32>;
	type MaxBookSize = ConstU32<1_024>;
	type MaxFillsPerOrder = ConstU32<8>;
	// Deal deadlines and order expiries due at one block: the market's sustained deal rate is
	// about this many per block; processing them all takes a few per cent of a block.
	type MaxTimeoutsPerBlock = ConstU32<512>;
	// 7 days of 3 s blocks.
	type MaxOrderLifetime = ConstU32<201_600>;
	// 1 hour to deliver, 1 hour to confirm or dispute (genesis may set shorter periods).
	type DeliveryPeriod = ConstU32<1_200>;
	type ConfirmPeriod = ConstU32<1_200>;
	// 7 days.
	type MaxDealPeriod = ConstU32<201_600>;
	type SellerBond = SellerBond;
	// 0.01 LPX a unit at least: a free offer of many units costs its owner a bond per unit.
	type MinSellerBond = ConstU128<{ 10 * crate::MILLI_UNITS }>;
	type ProtocolFee = DataProtocolFee;
	type Routers = crate::Routers;
	type DisputeDeposit = ConstU128<{ 10 * UNITS }>;
	// An encryption key's storage (~130 bytes with its key): 0.1 LPX, returned on removal.
	type KeyDeposit = ConstU128<{ UNITS / 10 }>;
	type DealFailurePenalty = ConstU32<20_000>;
	type PaymentPerPoint = ConstU128<{ UNITS / 10 }>;
	type AdminOrigin = crate::governance::AdminOrigin;
	type WeightInfo = pallet_data_market::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LoopxBenchmarkHelper;
}

impl pallet_builder_market::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Validators = StakeReputation;
	type Claims = crate::WeightedVoting;
	type Contributions = crate::Rewards;
	type Market = crate::DataMarket;
	type MaxLiveTasks = ConstU32<256>;
	type MaxRounds = ConstU32<1_000>;
	// What a task asks of every validator, bounded so that none stalls one: batches of up to
	// 4,096 rows, 1,000 local steps, a payload of 1 MiB (the workers' payload limit: ~1 M int8
	// parameters) and 2^30 parameter-samples of training a round (about a second of one core
	// for the TT kernels; the demo task asks 241 × 64 × 60 ≈ 10^6).
	type MaxBatchSize = ConstU32<4_096>;
	type MaxLocalSteps = ConstU32<1_000>;
	type MaxModelBytes = ConstU64<{ 1 << 20 }>;
	type MaxTrainingWork = ConstU64<{ 1 << 30 }>;
	// 30 seconds to 12 hours.
	type MinRoundLength = ConstU32<10>;
	type MaxRoundLength = ConstU32<14_400>;
	type MaxUpdatesPerRound = ConstU32<16>;
	type MaxRoundEndsPerBlock = ConstU32<16>;
	type MinBounty = ConstU128<{ 100 * UNITS }>;
	type TaskDeposit = ConstU128<{ 10 * UNITS }>;
	type LearningPoints = ConstU64<10>;
	type BuildingPoints = ConstU64<10>;
	type WeightInfo = pallet_builder_market::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LoopxBenchmarkHelper;
}

parameter_types! {
	pub const ComputePalletId: PalletId = PalletId(*b"lpx/cmpt");
	pub const ComputeProtocolFee: Perbill = Perbill::from_percent(2);
	pub const LoosestAnswerers: loopx_primitives::Thresholds = loopx_primitives::Thresholds { min_stake: 0, min_reputation: 0 };
	pub const StrictestAnswerers: loopx_primitives::Thresholds =
		loopx_primitives::Thresholds { min_stake: 1_000_000 * UNITS, min_reputation: 1_000_000 };
}

/// The reward era in progress (service-pass quotas are per era).
pub struct CurrentRewardEra;
impl frame_support::traits::Get<u32> for CurrentRewardEra {
	fn get() -> u32 {
		pallet_rewards::CurrentEra::<Runtime>::get()
	}
}

impl pallet_compute_market::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Validators = StakeReputation;
	type Reputations = StakeReputation;
	type Claims = crate::WeightedVoting;
	type Contributions = crate::Rewards;
	type Fees = crate::Rewards;
	type Pot = crate::Rewards;
	type Models = crate::BuilderMarket;
	type Randomness = FreshRandomness;
	type CurrentEra = CurrentRewardEra;
	type PalletId = ComputePalletId;
	type MaxSqlLen = ConstU32<2_048>;
	type MaxInputLen = ConstU32<{ loopx_primitives::limits::MAX_INPUT_BYTES }>;
	type MaxResultLen = ConstU32<{ loopx_primitives::limits::MAX_RESULT_BYTES }>;
	type MaxTagLen = ConstU32<32>;
	type MaxTags = ConstU32<16>;
	type MaxModels = ConstU32<{ loopx_primitives::limits::MAX_SERVED_MODELS }>;
	type MaxRedundancy = ConstU32<5>;
	type MaxQueries = ConstU32<4_096>;
	// One client holds at most 1/16 of the live queries.
	type MaxQueriesPerClient = ConstU32<256>;
	// Room for a block's routings and expiries at 10+ queries a second; what the budget
	// cannot run in its block is carried over, and a full bucket slides to the next blocks.
	type MaxDuePerBlock = ConstU32<128>;
	type DueBudget = DueBudget;
	// 9 seconds for a router, then the runtime draws.
	type RouterWindow = ConstU32<3>;
	type MinAnswerPeriod = ConstU32<2>;
	// 12 hours; results are kept 1 hour.
	type MaxQueryLifetime = ConstU32<14_400>;
	type ResultLifetime = ConstU32<1_200>;
	type LoosestThresholds = LoosestAnswerers;
	type StrictestThresholds = StrictestAnswerers;
	type MinFee = ConstU128<{ UNITS / 10 }>;
	type ProtocolFee = ComputeProtocolFee;
	type Routers = crate::Routers;
	type MinPassLock = ConstU128<{ 100 * UNITS }>;
	// 1 hour.
	type PassCooldown = ConstU32<1_200>;
	// A rating is ~100 bytes of state: 0.1 LPX while it is stored.
	type RatingDeposit = ConstU128<{ UNITS / 10 }>;
	type FreeQueriesPerEra = ConstU32<1_000>;
	// Paid by the reward pot (inflation) per free query: the smallest fee of a paid query.
	type FreeQueryFee = ConstU128<{ UNITS / 10 }>;
	type AnswerPoints = ConstU64<10>;
	type RoutingPoints = ConstU64<5>;
	type AnswerReputation = ConstU32<1_000>;
	type MissedAnswerPenalty = ConstU32<5_000>;
	type RatingTheta = ConstU32<500>;
	type MaxServiceReputation = ConstU32<100_000>;
	type WeightInfo = pallet_compute_market::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LoopxBenchmarkHelper;
}

/// Sets up validators, delegators and sessions for the weighted-voting and rewards benchmarks by
/// writing the staking pallet's state directly.
#[cfg(feature = "runtime-benchmarks")]
pub struct LoopxBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl LoopxBenchmarkHelper {
	/// Funds `who` and bonds `stake` of it.
	fn bond(who: &AccountId, stake: Balance) {
		use frame_support::traits::fungible::{Mutate, MutateHold};
		let _ = Balances::set_balance(who, stake * 2);
		let _ = Balances::hold(&pallet_stake_reputation::HoldReason::Staking.into(), who, stake);
		pallet_stake_reputation::Ledgers::<Runtime>::insert(
			who,
			pallet_stake_reputation::Ledger::<Runtime> { active: stake, unlocking: Default::default() },
		);
	}

	/// A fresh benchmark account with `stake` bonded.
	fn bonded(name: &'static str, i: u32, stake: Balance) -> AccountId {
		let who: AccountId = frame_benchmarking::account(name, i, 0);
		Self::bond(&who, stake);
		who
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_weighted_voting::BenchmarkHelper<AccountId> for LoopxBenchmarkHelper {
	fn setup_voters(n: u32) -> alloc::vec::Vec<AccountId> {
		let session = StakeReputation::current_session();
		let voters: alloc::vec::Vec<AccountId> = (0..n).map(|i| Self::bonded("voter", i, 2_000 * UNITS)).collect();
		let elected = voters
			.iter()
			.map(|who| pallet_stake_reputation::ElectedValidator { who: who.clone(), weight: 1, finality_weight: 1 })
			.collect::<alloc::vec::Vec<_>>();
		pallet_stake_reputation::ElectedWeights::<Runtime>::insert(session, frame_support::BoundedVec::truncate_from(elected));
		voters
	}
	fn setup_claimant() -> AccountId {
		Self::bonded("claimant", 0, 2_000 * UNITS)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_rewards::BenchmarkHelper<AccountId> for LoopxBenchmarkHelper {
	fn setup_validator(who: &AccountId, d: u32) {
		Self::bond(who, 2_000 * UNITS);
		for i in 0..d {
			let delegator = Self::bonded("delegator", i, 100 * UNITS);
			pallet_stake_reputation::Delegations::<Runtime>::insert(who, &delegator, 100 * UNITS);
		}
		pallet_stake_reputation::Candidates::<Runtime>::insert(
			who,
			pallet_stake_reputation::Candidate { commission: Perbill::from_percent(5), delegated: 100 * UNITS * d as Balance, delegators: d },
		);
	}
	fn next_session() {
		let s = StakeReputation::current_session();
		pallet_stake_reputation::CurrentSession::<Runtime>::put(s + 1);
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl LoopxBenchmarkHelper {
	/// Claims of `class` openable by anyone, voted on by the largest electorate.
	fn open_class_to_all(class: loopx_primitives::ClaimClass) {
		use loopx_primitives::Thresholds;
		let none = Thresholds::default();
		pallet_weighted_voting::ClassParameters::<Runtime>::insert(
			class,
			pallet_weighted_voting::ClassParams {
				mode: pallet_weighted_voting::VoteMode::Binary,
				thresholds: none,
				loosest: none,
				strictest: none,
				commit_period: 20,
				reveal_period: 20,
				quorum: Perbill::from_percent(50),
				approval: Perbill::from_percent(50),
				tolerance: 0,
				slash: Perbill::from_percent(5),
			},
		);
		<Self as pallet_weighted_voting::BenchmarkHelper<AccountId>>::setup_voters(MaxAuthorities::get());
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_data_market::BenchmarkHelper<AccountId> for LoopxBenchmarkHelper {
	/// The largest electorate, eligible whatever the genesis thresholds.
	fn prepare_dispute() {
		Self::open_class_to_all(loopx_primitives::ClaimClass::DataDispute);
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_compute_market::BenchmarkHelper<AccountId> for LoopxBenchmarkHelper {
	fn validator(i: u32) -> AccountId {
		<Self as pallet_builder_market::BenchmarkHelper<AccountId>>::trainer(i)
	}
	fn max_validators() -> u32 {
		MaxAuthorities::get()
	}
	fn prepare_dispute() {
		Self::open_class_to_all(loopx_primitives::ClaimClass::QueryResult);
	}
	/// Version 1 of task 0, written directly.
	fn model() -> (u32, u32) {
		let version = pallet_builder_market::VersionInfo {
			hash: sp_core::H256::repeat_byte(1),
			parent: sp_core::H256::zero(),
			metric: 900_000,
			contributors: Default::default(),
			accepted_at: 0,
		};
		pallet_builder_market::Versions::<Runtime>::insert(0, 1, version);
		(0, 1)
	}
	fn fund_pot() {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::set_balance(&crate::Rewards::pot(), 1_000_000 * UNITS);
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_builder_market::BenchmarkHelper<AccountId> for LoopxBenchmarkHelper {
	/// Validator `i` of the largest electorate (made once), with an encryption key.
	fn trainer(i: u32) -> AccountId {
		let session = StakeReputation::current_session();
		let max = MaxAuthorities::get();
		if pallet_stake_reputation::ElectedWeights::<Runtime>::get(session).map_or(0, |w| w.len()) < max as usize {
			<Self as pallet_weighted_voting::BenchmarkHelper<AccountId>>::setup_voters(max);
		}
		let who: AccountId = frame_benchmarking::account("voter", i % max, 0);
		pallet_data_market::EncryptionKeys::<Runtime>::insert(&who, [7u8; 32]);
		who
	}
}

#[cfg(test)]
mod claim_capacity_tests;
#[cfg(test)]
mod compute_capacity_tests;
#[cfg(test)]
mod fee_tests;
pub mod randomness;
pub use randomness::{BlockVrfRandomness, FreshRandomness};
pub mod offences;
pub mod proxy;
