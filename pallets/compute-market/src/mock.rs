//! A mock runtime for the pallet's tests: System, Balances, the router registry and this pallet. Validators,
//! reputations, the claim registry, contribution points, the fee sink, the reward pot, the
//! model registry and randomness are small fakes; the tests decide claims by calling
//! `on_claim_decided` as weighted voting would.

use crate as pallet_compute_market;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
		ConstU128, ConstU32, ConstU64, Hooks, Randomness,
	},
	weights::Weight,
	PalletId,
};
use loopx_primitives::{
	ClaimId, ClaimRegistry, ClaimRequest, ContributionCategory, ContributionSink, FeeSink, ModelRegistry, Reputation, ReputationHandler,
	ReputationReason, RewardPot, Thresholds, VoterInfo, VoterSet,
};
use sp_core::H256;
use sp_runtime::{traits::Hash, BuildStorage, DispatchError, DispatchResult, Perbill};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Routers: pallet_routers,
		ComputeMarket: pallet_compute_market,
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

/// Posts queries.
pub const CLIENT: AccountId = 1;
/// Validators (stake 1,000, reputation 500,000 each).
pub const V1: AccountId = 2;
pub const V2: AccountId = 3;
pub const V3: AccountId = 4;
/// A validator with a low reputation (100,000).
pub const WEAK: AccountId = 5;
/// Another client, and a router.
pub const OTHER: AccountId = 6;
pub const ROUTER: AccountId = 7;
/// The reward pot (receives fees, pays free queries).
pub const POT: AccountId = 90;
/// What every account starts with; the pot starts with [`POT_FUNDS`].
pub const INITIAL: Balance = 100_000;
/// What a first rating of a provider holds from its client.
pub const RATING_DEPOSIT: Balance = 50;
pub const POT_FUNDS: Balance = 10_000;
pub const FREE_FEE: Balance = 300;
/// A model version the registry knows.
pub const MODEL: (u32, u32) = (7, 1);

thread_local! {
	static POINTS: RefCell<Vec<(AccountId, ContributionCategory, u64)>> = const { RefCell::new(Vec::new()) };
	static CLAIMS: RefCell<Vec<ClaimRequest<AccountId>>> = const { RefCell::new(Vec::new()) };
	static REPUTATION: RefCell<Vec<(AccountId, i64, ReputationReason)>> = const { RefCell::new(Vec::new()) };
	static ERA: RefCell<u32> = const { RefCell::new(0) };
	static CLAIMS_FAIL: RefCell<bool> = const { RefCell::new(false) };
}

pub fn points() -> Vec<(AccountId, ContributionCategory, u64)> {
	POINTS.with(|p| p.borrow().clone())
}
pub fn claims() -> Vec<ClaimRequest<AccountId>> {
	CLAIMS.with(|c| c.borrow().clone())
}
/// Reputation changes so far: (who, signed amount, reason).
pub fn reputation_changes() -> Vec<(AccountId, i64, ReputationReason)> {
	REPUTATION.with(|r| r.borrow().clone())
}
pub fn set_era(era: u32) {
	ERA.with(|e| *e.borrow_mut() = era);
}
/// Makes the claim registry refuse new claims (no voters).
pub fn claims_fail(fail: bool) {
	CLAIMS_FAIL.with(|f| *f.borrow_mut() = fail);
}

pub struct Fakes;
impl VoterSet<AccountId> for Fakes {
	fn current_session() -> u32 {
		0
	}
	fn voters() -> Vec<VoterInfo<AccountId>> {
		[(V1, 500_000), (V2, 500_000), (V3, 500_000), (WEAK, 100_000)]
			.into_iter()
			.map(|(who, reputation)| VoterInfo { who, stake: 1_000, reputation })
			.collect()
	}
}
impl ClaimRegistry<AccountId> for Fakes {
	fn open_claim(request: ClaimRequest<AccountId>) -> Result<ClaimId, DispatchError> {
		if CLAIMS_FAIL.with(|f| *f.borrow()) {
			return Err(DispatchError::Other("no voters"));
		}
		CLAIMS.with(|c| {
			c.borrow_mut().push(request);
			Ok(c.borrow().len() as ClaimId - 1 + 100)
		})
	}
	// This market names every rival when its claims open.
	fn exclude_rival(_: ClaimId, _: &AccountId) -> bool {
		false
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
	fn reward(who: &AccountId, amount: Reputation, reason: ReputationReason) {
		REPUTATION.with(|r| r.borrow_mut().push((*who, amount as i64, reason)));
	}
	fn penalize(who: &AccountId, amount: Reputation, reason: ReputationReason) {
		REPUTATION.with(|r| r.borrow_mut().push((*who, -(amount as i64), reason)));
	}
	fn set(_: &AccountId, _: Reputation, _: ReputationReason) {}
}
impl FeeSink<AccountId, Balance> for Fakes {
	fn pay_fee(from: &AccountId, amount: Balance) -> DispatchResult {
		<Balances as Mutate<AccountId>>::transfer(from, &POT, amount, Preservation::Expendable).map(|_| ())
	}
}
impl RewardPot<AccountId, Balance> for Fakes {
	fn spend(to: &AccountId, amount: Balance) -> DispatchResult {
		let spendable = Balances::reducible_balance(&POT, Preservation::Preserve, frame_support::traits::tokens::Fortitude::Polite);
		if amount > spendable {
			return Err(DispatchError::Other("pot exhausted"));
		}
		<Balances as Mutate<AccountId>>::transfer(&POT, to, amount, Preservation::Preserve).map(|_| ())
	}
	fn account() -> AccountId {
		POT
	}
}
impl ModelRegistry for Fakes {
	fn has_version(model: u32, version: u32) -> bool {
		(model, version) == MODEL
	}
}
impl Randomness<H256, u64> for Fakes {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		(sp_runtime::traits::BlakeTwo256::hash_of(&(subject, block)), block)
	}
}

pub struct Era;
impl frame_support::traits::Get<u32> for Era {
	fn get() -> u32 {
		ERA.with(|e| *e.borrow())
	}
}

parameter_types! {
	pub const ComputePalletId: PalletId = PalletId(*b"lx/compt");
	pub const Loosest: Thresholds = Thresholds { min_stake: 0, min_reputation: 0 };
	pub const Strictest: Thresholds = Thresholds { min_stake: 10_000, min_reputation: 900_000 };
	pub const ProtocolFee: Perbill = Perbill::from_percent(10);
	pub const MaxRouterFee: Perbill = Perbill::from_percent(20);
	pub static MaxQueriesPerClient: u32 = 8;
	pub static DueBudget: Weight = Weight::MAX;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for Fakes {
	fn validator(i: u32) -> AccountId {
		[V1, V2, V3, WEAK][i as usize % 4]
	}
	fn max_validators() -> u32 {
		4
	}
	fn prepare_dispute() {}
	fn model() -> (u32, u32) {
		MODEL
	}
	fn fund_pot() {}
}

impl pallet_routers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RouterBond = ConstU128<500>;
	type MaxRouterFee = MaxRouterFee;
	type WeightInfo = ();
}

impl pallet_compute_market::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Validators = Fakes;
	type Reputations = Fakes;
	type Claims = Fakes;
	type Contributions = Fakes;
	type Fees = Fakes;
	type Pot = Fakes;
	type Models = Fakes;
	type Randomness = Fakes;
	type CurrentEra = Era;
	type PalletId = ComputePalletId;
	type MaxSqlLen = ConstU32<256>;
	type MaxInputLen = ConstU32<64>;
	type MaxResultLen = ConstU32<64>;
	type MaxTagLen = ConstU32<32>;
	type MaxTags = ConstU32<4>;
	type MaxModels = ConstU32<4>;
	type MaxRedundancy = ConstU32<4>;
	type MaxQueries = ConstU32<8>;
	type MaxQueriesPerClient = MaxQueriesPerClient;
	type MaxDuePerBlock = ConstU32<4>;
	type DueBudget = DueBudget;
	type RouterWindow = ConstU64<3>;
	type MinAnswerPeriod = ConstU64<2>;
	type MaxQueryLifetime = ConstU64<100>;
	type ResultLifetime = ConstU64<20>;
	type LoosestThresholds = Loosest;
	type StrictestThresholds = Strictest;
	type MinFee = ConstU128<100>;
	type ProtocolFee = ProtocolFee;
	type Routers = Routers;
	type MinPassLock = ConstU128<1_000>;
	type PassCooldown = ConstU64<10>;
	type RatingDeposit = ConstU128<RATING_DEPOSIT>;
	type FreeQueriesPerEra = ConstU32<4>;
	type FreeQueryFee = ConstU128<FREE_FEE>;
	type AnswerPoints = ConstU64<10>;
	type RoutingPoints = ConstU64<5>;
	type AnswerReputation = ConstU32<1_000>;
	type MissedAnswerPenalty = ConstU32<5_000>;
	type RatingTheta = ConstU32<500>;
	type MaxServiceReputation = ConstU32<100_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Fakes;
}

/// Accounts 1–7 with [`INITIAL`] each, the pot with [`POT_FUNDS`].
pub fn new_test_ext() -> sp_io::TestExternalities {
	POINTS.with(|p| p.borrow_mut().clear());
	CLAIMS.with(|c| c.borrow_mut().clear());
	REPUTATION.with(|r| r.borrow_mut().clear());
	set_era(0);
	claims_fail(false);
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> = (1..=7).map(|a| (a, INITIAL)).collect();
	balances.push((POT, POT_FUNDS));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs blocks up to `n` with the pallet's `on_initialize`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		ComputeMarket::on_initialize(next);
	}
}

/// The events of this pallet so far.
pub fn market_events() -> Vec<pallet_compute_market::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::ComputeMarket(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Every account the tests use.
pub const ACCOUNTS: [AccountId; 8] = [1, 2, 3, 4, 5, 6, 7, POT];

/// Holds equal what the pallet's records say, and balances add up to the unchanged issuance.
pub fn assert_books_balance() {
	use crate::{HoldReason, Passes, Payer, Queries};
	use frame_support::traits::fungible::InspectHold;
	let escrow = crate::Pallet::<Test>::escrow_account();
	let mut fees = std::collections::BTreeMap::<AccountId, Balance>::new();
	let mut escrowed = 0;
	for (_, q) in Queries::<Test>::iter() {
		if matches!(q.status, crate::QueryStatus::Answered { .. }) {
			continue;
		}
		match q.payer {
			Payer::Client => *fees.entry(q.client).or_default() += q.fee,
			Payer::Pot => escrowed += q.fee,
		}
	}
	for who in ACCOUNTS {
		let held = |r: HoldReason| Balances::balance_on_hold(&RuntimeHoldReason::ComputeMarket(r), &who);
		assert_eq!(held(HoldReason::QueryFee), fees.get(&who).copied().unwrap_or(0), "fees held by {who}");
		let bond = Balances::balance_on_hold(&RuntimeHoldReason::Routers(pallet_routers::HoldReason::RouterBond), &who);
		assert_eq!(bond, pallet_routers::Routers::<Test>::get(who).map_or(0, |r| r.bond), "router bond of {who}");
		assert_eq!(held(HoldReason::RouterBond), 0, "no router bond held by the market itself");
		assert_eq!(held(HoldReason::Pass), Passes::<Test>::get(who).map_or(0, |p| p.locked), "pass of {who}");
	}
	assert_eq!(Balances::total_balance(&escrow), escrowed, "free-query fees waiting");
	let sum: Balance = ACCOUNTS.iter().map(Balances::total_balance).sum::<Balance>() + Balances::total_balance(&escrow);
	assert_eq!(Balances::total_issuance(), 7 * INITIAL + POT_FUNDS, "issuance changed");
	assert_eq!(sum, Balances::total_issuance(), "balances do not add up to the issuance");
}
