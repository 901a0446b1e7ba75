//! A mock runtime for the pallet's tests: System, Balances, the real data market (versions are
//! sold through it) and this pallet. Validators, the claim registry and contribution points are
//! recording fakes; the tests decide claims by calling `on_claim_decided` as weighted voting
//! would.

use crate as pallet_builder_market;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::Mutate, tokens::Preservation, ConstU128, ConstU32, ConstU64, Hooks},
};
use loopx_primitives::{
	ClaimId, ClaimRegistry, ClaimRequest, ContributionCategory, ContributionSink, FeeSink, Reputation, ReputationHandler, ReputationReason,
	VoterInfo, VoterSet,
};
use sp_runtime::{BuildStorage, DispatchError, DispatchResult, Perbill};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Routers: pallet_routers,
		DataMarket: pallet_data_market,
		BuilderMarket: pallet_builder_market,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Deploys models.
pub const BUILDER: AccountId = 1;
/// Validators that train (stake 1,000, reputation 500,000 each).
pub const TRAINER: AccountId = 2;
pub const TRAINER2: AccountId = 3;
pub const TRAINER3: AccountId = 4;
/// A validator with a low reputation (100,000).
pub const WEAK: AccountId = 5;
/// Buys models; not a validator.
pub const BUYER: AccountId = 6;
/// Receives data-market fees and slashes.
pub const POT: AccountId = 90;
/// What every account starts with.
pub const INITIAL: Balance = 100_000;
pub const DEPOSIT: Balance = 100;
pub const MIN_BOUNTY: Balance = 1_000;

thread_local! {
	static POINTS: RefCell<Vec<(AccountId, ContributionCategory, u64)>> = const { RefCell::new(Vec::new()) };
	static CLAIMS: RefCell<Vec<ClaimRequest<AccountId>>> = const { RefCell::new(Vec::new()) };
	static EXCLUDED: RefCell<Vec<(ClaimId, AccountId)>> = const { RefCell::new(Vec::new()) };
}

pub fn points() -> Vec<(AccountId, ContributionCategory, u64)> {
	POINTS.with(|p| p.borrow().clone())
}
/// Rivals taken out of earlier claims' electorates: (claim, who).
pub fn excluded_rivals() -> Vec<(ClaimId, AccountId)> {
	EXCLUDED.with(|e| e.borrow().clone())
}
pub fn claims() -> Vec<ClaimRequest<AccountId>> {
	CLAIMS.with(|c| c.borrow().clone())
}

pub struct Fakes;
impl VoterSet<AccountId> for Fakes {
	fn current_session() -> u32 {
		0
	}
	fn voters() -> Vec<VoterInfo<AccountId>> {
		[(TRAINER, 500_000), (TRAINER2, 500_000), (TRAINER3, 500_000), (WEAK, 100_000)]
			.into_iter()
			.map(|(who, reputation)| VoterInfo { who, stake: 1_000, reputation })
			.collect()
	}
}
impl ClaimRegistry<AccountId> for Fakes {
	fn open_claim(request: ClaimRequest<AccountId>) -> Result<ClaimId, DispatchError> {
		CLAIMS.with(|c| {
			c.borrow_mut().push(request);
			Ok(c.borrow().len() as ClaimId - 1 + 100)
		})
	}
	fn exclude_rival(claim: ClaimId, who: &AccountId) -> bool {
		EXCLUDED.with(|e| e.borrow_mut().push((claim, *who)));
		true
	}
}
impl ContributionSink<AccountId> for Fakes {
	fn note(who: &AccountId, category: ContributionCategory, points: u64) {
		POINTS.with(|p| p.borrow_mut().push((*who, category, points)));
	}
}
impl ReputationHandler<AccountId> for Fakes {
	fn reputation(_: &AccountId) -> Reputation {
		500_000
	}
	fn reward(_: &AccountId, _: Reputation, _: ReputationReason) {}
	fn penalize(_: &AccountId, _: Reputation, _: ReputationReason) {}
	fn set(_: &AccountId, _: Reputation, _: ReputationReason) {}
}
impl FeeSink<AccountId, Balance> for Fakes {
	fn pay_fee(from: &AccountId, amount: Balance) -> DispatchResult {
		<Balances as Mutate<AccountId>>::transfer(from, &POT, amount, Preservation::Expendable).map(|_| ())
	}
}

parameter_types! {
	pub const SlashTo: Option<AccountId> = Some(POT);
	pub const SellerBond: Perbill = Perbill::from_percent(10);
	pub const ProtocolFee: Perbill = Perbill::from_percent(2);
	pub const MaxRouterFee: Perbill = Perbill::from_percent(5);
}

impl pallet_routers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RouterBond = ConstU128<100>;
	type MaxRouterFee = MaxRouterFee;
	type WeightInfo = ();
}

impl pallet_data_market::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Reputations = Fakes;
	type Contributions = Fakes;
	type Fees = Fakes;
	type Claims = Fakes;
	type SlashDestination = SlashTo;
	type MaxTagLen = ConstU32<32>;
	type MaxBookSize = ConstU32<16>;
	type MaxFillsPerOrder = ConstU32<4>;
	type MaxTimeoutsPerBlock = ConstU32<16>;
	type MaxOrderLifetime = ConstU64<1_000>;
	type DeliveryPeriod = ConstU64<10>;
	type ConfirmPeriod = ConstU64<10>;
	type MaxDealPeriod = ConstU64<1_000>;
	type SellerBond = SellerBond;
	type MinSellerBond = frame_support::traits::ConstU128<1>;
	type ProtocolFee = ProtocolFee;
	type Routers = Routers;
	type DisputeDeposit = ConstU128<50>;
	type KeyDeposit = ConstU128<1>;
	type DealFailurePenalty = ConstU32<20_000>;
	type PaymentPerPoint = ConstU128<10>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for Fakes {
	fn trainer(i: u32) -> AccountId {
		[TRAINER, TRAINER2, TRAINER3][i as usize % 3]
	}
}

impl pallet_builder_market::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Validators = Fakes;
	type Claims = Fakes;
	type Contributions = Fakes;
	type Market = DataMarket;
	type MaxLiveTasks = ConstU32<3>;
	type MaxRounds = ConstU32<10>;
	type MaxBatchSize = ConstU32<256>;
	type MaxLocalSteps = ConstU32<100>;
	type MaxModelBytes = ConstU64<{ 64 << 10 }>;
	type MaxTrainingWork = ConstU64<{ 1 << 24 }>;
	type MinRoundLength = ConstU64<5>;
	type MaxRoundLength = ConstU64<100>;
	type MaxUpdatesPerRound = ConstU32<3>;
	type MaxRoundEndsPerBlock = ConstU32<2>;
	type MinBounty = ConstU128<MIN_BOUNTY>;
	type TaskDeposit = ConstU128<DEPOSIT>;
	type LearningPoints = ConstU64<10>;
	type BuildingPoints = ConstU64<5>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Fakes;
}

/// Accounts 1–6 with [`INITIAL`] each, POT with 1; data-market keys for all six.
pub fn new_test_ext() -> sp_io::TestExternalities {
	POINTS.with(|p| p.borrow_mut().clear());
	CLAIMS.with(|c| c.borrow_mut().clear());
	EXCLUDED.with(|e| e.borrow_mut().clear());
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> = (1..=6).map(|a| (a, INITIAL)).collect();
	balances.push((POT, 1));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		for who in 1..=6u64 {
			pallet_data_market::EncryptionKeys::<Test>::insert(who, [who as u8; 32]);
		}
	});
	ext
}

/// Runs blocks up to `n`, with both markets' `on_initialize`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		DataMarket::on_initialize(next);
		BuilderMarket::on_initialize(next);
	}
}

/// The events of this pallet so far.
pub fn builder_events() -> Vec<pallet_builder_market::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::BuilderMarket(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Holds equal what the pallet's tasks say they hold, and the balances add up to genesis.
pub fn assert_books_balance() {
	use crate::{HoldReason, Tasks};
	use frame_support::traits::fungible::{Inspect, InspectHold};
	let (mut bounty, mut deposit) = (0, 0);
	for (_, t) in Tasks::<Test>::iter() {
		assert_eq!(t.builder, BUILDER, "the tests deploy as BUILDER only");
		bounty += t.bounty_left;
		deposit += t.deposit;
	}
	assert_eq!(Balances::balance_on_hold(&RuntimeHoldReason::BuilderMarket(HoldReason::Bounty), &BUILDER), bounty);
	assert_eq!(Balances::balance_on_hold(&RuntimeHoldReason::BuilderMarket(HoldReason::TaskDeposit), &BUILDER), deposit);
	let accounts = [1, 2, 3, 4, 5, 6, POT];
	let sum: Balance = accounts.iter().map(Balances::total_balance).sum();
	assert_eq!(Balances::total_issuance(), 6 * INITIAL + 1, "issuance changed");
	assert_eq!(sum, Balances::total_issuance(), "balances do not add up to the issuance");
	crate::Pallet::<Test>::do_try_state().unwrap();
}
