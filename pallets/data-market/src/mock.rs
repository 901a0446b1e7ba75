//! A mock runtime for the pallet's tests: System, Balances, the router registry and this pallet. Reputation,
//! contribution points and the claim registry are recording fakes; protocol fees go to `POT`,
//! slashed bonds to `TREASURY`, so that every test can check that no unit is created or lost.

use crate as pallet_data_market;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::Mutate, tokens::Preservation, ConstU128, ConstU32, ConstU64, Hooks},
};
use loopx_primitives::{
	ClaimId, ClaimRegistry, ClaimRequest, ContributionCategory, ContributionSink, FeeSink, Reputation, ReputationHandler, ReputationReason,
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

/// Sells data.
pub const SELLER: AccountId = 1;
/// A second seller.
pub const SELLER2: AccountId = 2;
/// Buys data.
pub const BUYER: AccountId = 3;
/// A second buyer.
pub const BUYER2: AccountId = 4;
/// A router.
pub const ROUTER: AccountId = 5;
/// Has funds but no encryption key.
pub const NO_KEY: AccountId = 6;
/// Receives protocol fees.
pub const POT: AccountId = 90;
/// Receives slashed bonds.
pub const TREASURY: AccountId = 99;
/// What every account starts with.
pub const INITIAL: Balance = 10_000;

pub const DELIVERY: u64 = 10;
pub const CONFIRM: u64 = 5;
pub const DEPOSIT: Balance = 50;
/// The storage deposit of an encryption key.
pub const KEY_DEPOSIT: Balance = 5;
pub const ROUTER_BOND: Balance = 100;
pub const FAIL_REP: Reputation = 20_000;

thread_local! {
	static REP_LOG: RefCell<Vec<(AccountId, i64, ReputationReason)>> = const { RefCell::new(Vec::new()) };
	static POINTS: RefCell<Vec<(AccountId, ContributionCategory, u64)>> = const { RefCell::new(Vec::new()) };
	static CLAIMS: RefCell<Vec<ClaimRequest<AccountId>>> = const { RefCell::new(Vec::new()) };
	static CLAIMS_FAIL: RefCell<bool> = const { RefCell::new(false) };
}

pub fn rep_log() -> Vec<(AccountId, i64, ReputationReason)> {
	REP_LOG.with(|l| l.borrow().clone())
}
pub fn points() -> Vec<(AccountId, ContributionCategory, u64)> {
	POINTS.with(|p| p.borrow().clone())
}
pub fn claims() -> Vec<ClaimRequest<AccountId>> {
	CLAIMS.with(|c| c.borrow().clone())
}
pub fn fail_claims(fail: bool) {
	CLAIMS_FAIL.with(|f| *f.borrow_mut() = fail);
}

pub struct Fakes;
impl ReputationHandler<AccountId> for Fakes {
	fn reputation(_: &AccountId) -> Reputation {
		500_000
	}
	fn reward(who: &AccountId, amount: Reputation, reason: ReputationReason) {
		REP_LOG.with(|l| l.borrow_mut().push((*who, amount as i64, reason)));
	}
	fn penalize(who: &AccountId, amount: Reputation, reason: ReputationReason) {
		REP_LOG.with(|l| l.borrow_mut().push((*who, -(amount as i64), reason)));
	}
	fn set(_: &AccountId, _: Reputation, _: ReputationReason) {}
}
impl ContributionSink<AccountId> for Fakes {
	fn note(who: &AccountId, category: ContributionCategory, points: u64) {
		POINTS.with(|p| p.borrow_mut().push((*who, category, points)));
	}
}
impl FeeSink<AccountId, Balance> for Fakes {
	fn pay_fee(from: &AccountId, amount: Balance) -> DispatchResult {
		<Balances as Mutate<AccountId>>::transfer(from, &POT, amount, Preservation::Expendable).map(|_| ())
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

parameter_types! {
	pub const SlashTo: Option<AccountId> = Some(TREASURY);
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
	type MaxTagLen = ConstU32<16>;
	type MaxBookSize = ConstU32<4>;
	type MaxFillsPerOrder = ConstU32<3>;
	type MaxTimeoutsPerBlock = ConstU32<4>;
	type MaxOrderLifetime = ConstU64<100>;
	type DeliveryPeriod = ConstU64<DELIVERY>;
	type ConfirmPeriod = ConstU64<CONFIRM>;
	type MaxDealPeriod = ConstU64<1_000>;
	type SellerBond = SellerBond;
	type MinSellerBond = frame_support::traits::ConstU128<1>;
	type ProtocolFee = ProtocolFee;
	type Routers = Routers;
	type DisputeDeposit = ConstU128<DEPOSIT>;
	type KeyDeposit = ConstU128<KEY_DEPOSIT>;
	type DealFailurePenalty = ConstU32<FAIL_REP>;
	type PaymentPerPoint = ConstU128<10>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

impl pallet_routers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RouterBond = ConstU128<ROUTER_BOND>;
	type MaxRouterFee = MaxRouterFee;
	type WeightInfo = ();
}

parameter_types! {
	pub const SellerBond: Perbill = Perbill::from_percent(10);
	pub const ProtocolFee: Perbill = Perbill::from_percent(2);
	pub const MaxRouterFee: Perbill = Perbill::from_percent(5);
}

/// Accounts 1–6 with [`INITIAL`] each, POT and TREASURY with 1; keys registered for 1–5.
pub fn new_test_ext() -> sp_io::TestExternalities {
	REP_LOG.with(|l| l.borrow_mut().clear());
	POINTS.with(|p| p.borrow_mut().clear());
	CLAIMS.with(|c| c.borrow_mut().clear());
	fail_claims(false);
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> = (1..=6).map(|a| (a, INITIAL)).collect();
	balances.extend([(POT, 1), (TREASURY, 1)]);
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		for who in 1..=5u64 {
			pallet_data_market::EncryptionKeys::<Test>::insert(who, [who as u8; 32]);
		}
	});
	ext
}

/// Runs blocks up to `n`, with the pallet's `on_initialize`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		DataMarket::on_initialize(next);
	}
}

/// The events of this pallet so far.
pub fn market_events() -> Vec<pallet_data_market::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::DataMarket(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Every account's holds equal what the pallet's storage says it holds, and the balances of all
/// accounts add up to the total issuance, which is what genesis created.
pub fn assert_books_balance() {
	use crate::{AccountDeals, DealState, Deals, HoldReason, Orders, Side};
	use frame_support::traits::fungible::{Inspect, InspectHold};
	use std::collections::BTreeMap;
	let mut expected: BTreeMap<(AccountId, u8), Balance> = BTreeMap::new();
	let mut add = |who: AccountId, r: u8, x: Balance| *expected.entry((who, r)).or_default() += x;
	for (_, o) in Orders::<Test>::iter() {
		let r = if o.side == Side::Bid { 0 } else { 1 };
		add(o.owner, r, DataMarket::order_held(&o));
	}
	for (id, d) in Deals::<Test>::iter() {
		assert!(AccountDeals::<Test>::contains_key(d.seller, id) && AccountDeals::<Test>::contains_key(d.buyer, id));
		add(d.buyer, 0, d.payment);
		add(d.seller, 1, d.bond);
		if let DealState::Disputed { deposit, .. } = d.state {
			add(d.buyer, 3, deposit);
		}
	}
	for (who, r) in pallet_routers::Routers::<Test>::iter() {
		add(who, 2, r.bond);
	}
	let reasons = [HoldReason::Payment, HoldReason::SellerBond, HoldReason::RouterBond, HoldReason::DisputeDeposit];
	let accounts = [1, 2, 3, 4, 5, 6, POT, TREASURY];
	for who in accounts {
		for (i, reason) in reasons.iter().enumerate() {
			// Router bonds are held by the router registry, under its own reason.
			let held = match reason {
				HoldReason::RouterBond => Balances::balance_on_hold(&RuntimeHoldReason::Routers(pallet_routers::HoldReason::RouterBond), &who),
				_ => Balances::balance_on_hold(&RuntimeHoldReason::DataMarket(*reason), &who),
			};
			assert_eq!(held, expected.get(&(who, i as u8)).copied().unwrap_or(0), "account {who}, hold {reason:?}");
		}
	}
	let sum: Balance = accounts.iter().map(Balances::total_balance).sum();
	assert_eq!(Balances::total_issuance(), 6 * INITIAL + 2, "issuance changed");
	assert_eq!(sum, Balances::total_issuance(), "balances do not add up to the issuance");
}
