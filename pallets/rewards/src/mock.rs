//! A mock runtime for the pallet's tests: System, Balances and this pallet; the session clock and
//! validators' exposures are settable fakes.

use crate as pallet_rewards;
use crate::{InflationCurve, RewardParams};
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::Hooks, PalletId};
use loopx_primitives::{claims::SessionIndex, Exposure, StakeExposure};
use sp_runtime::{BuildStorage, Perbill};
use std::collections::BTreeMap;

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Rewards: pallet_rewards,
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
	type ExistentialDeposit = frame_support::traits::ConstU128<ED>;
	type AccountStore = System;
}

pub const ED: Balance = 10;
pub const TREASURY: AccountId = 999;
/// Blocks per year in the mock: an era of 10 blocks is 1/1,000 of a year.
pub const BLOCKS_PER_YEAR: u32 = 10_000;

thread_local! {
	static SESSION: RefCell<SessionIndex> = const { RefCell::new(0) };
	static EXPOSURES: RefCell<BTreeMap<AccountId, Exposure<AccountId>>> = const { RefCell::new(BTreeMap::new()) };
	static HAS_TREASURY: RefCell<bool> = const { RefCell::new(true) };
}

pub fn set_session(s: SessionIndex) {
	SESSION.with(|x| *x.borrow_mut() = s);
}
pub fn session() -> SessionIndex {
	SESSION.with(|x| *x.borrow())
}
pub fn set_exposure(who: AccountId, commission: Perbill, own: u128, delegations: Vec<(AccountId, u128)>) {
	EXPOSURES.with(|e| e.borrow_mut().insert(who, Exposure { commission, own, delegations }));
}
/// `who` is no validator candidate any more (chilled).
pub fn remove_exposure(who: AccountId) {
	EXPOSURES.with(|e| e.borrow_mut().remove(&who));
}
pub fn burn_instead_of_treasury(burn: bool) {
	HAS_TREASURY.with(|t| *t.borrow_mut() = !burn);
}

pub struct Fakes;
impl frame_support::traits::Get<SessionIndex> for Fakes {
	fn get() -> SessionIndex {
		session()
	}
}
impl frame_support::traits::Get<Option<AccountId>> for Fakes {
	fn get() -> Option<AccountId> {
		HAS_TREASURY.with(|t| *t.borrow()).then_some(TREASURY)
	}
}
impl StakeExposure<AccountId> for Fakes {
	fn exposure(who: &AccountId) -> Option<Exposure<AccountId>> {
		EXPOSURES.with(|e| e.borrow().get(who).cloned())
	}
}

parameter_types! {
	pub const RewardsPalletId: PalletId = PalletId(*b"lx/rwrds");
	/// All of the carry-over joins the next era's budgets unless a test says otherwise.
	pub static CarryOverRelease: Perbill = Perbill::one();
}

impl pallet_rewards::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Treasury = Fakes;
	type CurrentSession = Fakes;
	type Exposure = Fakes;
	type BlocksPerYear = frame_support::traits::ConstU32<BLOCKS_PER_YEAR>;
	type MaxDelegators = frame_support::traits::ConstU32<4>;
	type MaxExpiryEras = frame_support::traits::ConstU32<8>;
	type CleanupPerBlock = frame_support::traits::ConstU32<2>;
	type CarryOverRelease = CarryOverRelease;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Fakes;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for Fakes {
	fn setup_validator(who: &AccountId, d: u32) {
		let delegations = (0..d as u64).map(|i| (5_000 + i, 100)).collect();
		for i in 0..d as u64 {
			let _ = <Balances as frame_support::traits::fungible::Mutate<_>>::mint_into(&(5_000 + i), ED);
		}
		set_exposure(*who, Perbill::from_percent(10), 100, delegations);
	}
	fn next_session() {
		set_session(session() + 1);
	}
}

/// 1 session per era, 10 % yearly inflation without decay, shares 40/20/15/10/5/5/5 %, half of
/// each fee to the pot, expiry after 2 eras.
pub fn params() -> RewardParams {
	RewardParams {
		sessions_per_era: 1,
		inflation: InflationCurve { initial: Perbill::from_percent(10), decay: Perbill::zero(), floor: Perbill::zero() },
		category_shares: [40, 20, 15, 10, 5, 5, 5].map(Perbill::from_percent),
		fee_to_pot: Perbill::from_percent(50),
		expiry_eras: 2,
	}
}

/// Accounts 1..=9 hold 1,000,000 each, the treasury 100: issuance 9,000,100 + the pot's ED.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<_> = (1..=9).map(|a| (a, 1_000_000)).collect();
	balances.push((TREASURY, 100));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }.assimilate_storage(&mut t).unwrap();
	pallet_rewards::GenesisConfig::<Test> { params: Some(params()), _config: Default::default() }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		set_session(0);
		burn_instead_of_treasury(false);
		EXPOSURES.with(|e| e.borrow_mut().clear());
	});
	ext
}

/// Runs `on_initialize` of every block up to and including `n`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Rewards::on_initialize(next);
	}
}

/// Starts the next session at the next block (so an era with 1 session per era ends there).
pub fn next_session() {
	set_session(session() + 1);
	run_to(System::block_number() + 1);
}

/// The events of this pallet emitted so far.
pub fn events() -> Vec<pallet_rewards::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Rewards(e) => Some(e),
			_ => None,
		})
		.collect()
}

pub fn free(who: AccountId) -> Balance {
	pallet_balances::Pallet::<Test>::free_balance(who)
}

pub fn pot() -> AccountId {
	Rewards::pot()
}
