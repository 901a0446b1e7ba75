//! A mock runtime for the pallet's tests: System, Balances and this pallet.

use crate as pallet_routers;
use frame_support::{derive_impl, parameter_types, traits::ConstU128};
use sp_runtime::{BuildStorage, Perbill};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Routers: pallet_routers,
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

/// A router's bond in the tests.
pub const BOND: Balance = 100;
/// What every funded account starts with.
pub const INITIAL: Balance = 1_000;
/// A funded account.
pub const ROUTER: AccountId = 1;
/// A second funded account.
pub const OTHER: AccountId = 2;
/// An account with less than a bond.
pub const POOR: AccountId = 3;

parameter_types! {
	pub const MaxRouterFee: Perbill = Perbill::from_percent(5);
}

impl pallet_routers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RouterBond = ConstU128<BOND>;
	type MaxRouterFee = MaxRouterFee;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().expect("genesis builds");
	pallet_balances::GenesisConfig::<Test> { balances: vec![(ROUTER, INITIAL), (OTHER, INITIAL), (POOR, BOND / 2)], ..Default::default() }
		.assimilate_storage(&mut storage)
		.expect("balances genesis");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
