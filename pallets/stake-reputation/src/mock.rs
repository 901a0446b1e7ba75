//! A mock runtime for the pallet's tests: System, Balances and this pallet; session keys are a
//! settable set of accounts.

use crate as pallet_stake_reputation;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, Contains},
};
use sp_runtime::{BuildStorage, Perbill};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		StakeReputation: pallet_stake_reputation,
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
	type ExistentialDeposit = frame_support::traits::ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const TREASURY: AccountId = 999;
pub const MIN_BOND: Balance = 10;
pub const MIN_VALIDATOR_STAKE: Balance = 100;
pub const NEUTRAL: u32 = 500_000;

thread_local! {
	static KEYS: RefCell<Vec<AccountId>> = RefCell::new(vec![1, 2, 3, 4, 5]);
	static BURN: RefCell<bool> = const { RefCell::new(false) };
	static MAX_VALIDATORS: RefCell<u32> = const { RefCell::new(3) };
}

/// Accounts "with session keys".
pub struct Keys;
impl Contains<AccountId> for Keys {
	fn contains(who: &AccountId) -> bool {
		KEYS.with(|k| k.borrow().contains(who))
	}
}
pub fn set_keys(who: AccountId, has: bool) {
	KEYS.with(|k| {
		let mut k = k.borrow_mut();
		k.retain(|a| *a != who);
		if has {
			k.push(who);
		}
	});
}

pub struct SlashTo;
impl frame_support::traits::Get<Option<AccountId>> for SlashTo {
	fn get() -> Option<AccountId> {
		if BURN.with(|b| *b.borrow()) {
			None
		} else {
			Some(TREASURY)
		}
	}
}
pub fn burn_slashes(burn: bool) {
	BURN.with(|b| *b.borrow_mut() = burn);
}

pub struct MaxValidators;
impl frame_support::traits::Get<u32> for MaxValidators {
	fn get() -> u32 {
		MAX_VALIDATORS.with(|m| *m.borrow())
	}
}
pub fn set_max_validators(n: u32) {
	MAX_VALIDATORS.with(|m| *m.borrow_mut() = n);
}

parameter_types! {
	pub const MinBond: Balance = MIN_BOND;
	pub const MinValidatorStake: Balance = MIN_VALIDATOR_STAKE;
	pub const MinDelegation: Balance = 5;
	pub const ReputationDecay: Perbill = Perbill::from_percent(10);
	pub const PenaltyRecovery: Perbill = Perbill::from_percent(5);
	pub static MaxGainPerSession: loopx_primitives::Reputation = 1_000_000;
	pub static InitialReputation: loopx_primitives::Reputation = NEUTRAL;
	pub const MaxWeightShare: Perbill = Perbill::from_percent(60);
	/// The account that may cancel deferred slashes (a council in a real runtime).
	pub const SlashCanceller: AccountId = 50;
}

/// The members of [`Config::SlashCancelOrigin`] in the tests.
pub struct SlashCancellers;
impl frame_support::traits::SortedMembers<AccountId> for SlashCancellers {
	fn sorted_members() -> Vec<AccountId> {
		vec![SlashCanceller::get()]
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn add(_: &AccountId) {}
}

std::thread_local! {
	static DISABLED: RefCell<Vec<(AccountId, Perbill)>> = const { RefCell::new(Vec::new()) };
}

/// Records the validators disabled for an offence, with the offence's severity.
pub struct RecordDisabled;
impl pallet_stake_reputation::DisableValidator<AccountId> for RecordDisabled {
	fn disable(who: &AccountId, severity: Perbill) {
		DISABLED.with(|d| d.borrow_mut().push((*who, severity)));
	}
}

/// The validators disabled so far in this test, in order.
pub fn disabled() -> Vec<(AccountId, Perbill)> {
	DISABLED.with(|d| d.borrow().clone())
}

impl pallet_stake_reputation::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinBond = MinBond;
	type MinValidatorStake = MinValidatorStake;
	type MinDelegation = MinDelegation;
	type MinValidatorReputation = ConstU32<300_000>;
	type MaxReputation = ConstU32<1_000_000>;
	type NeutralReputation = ConstU32<NEUTRAL>;
	type InitialReputation = InitialReputation;
	type ReputationDecay = ReputationDecay;
	type PenaltyRecovery = PenaltyRecovery;
	type MaxGainPerSession = MaxGainPerSession;
	type MaxValidators = MaxValidators;
	type MinValidators = ConstU32<1>;
	type MaxCandidates = ConstU32<8>;
	type MaxDelegatorsPerValidator = ConstU32<4>;
	type MaxDelegationsPerDelegator = ConstU32<2>;
	type MaxUnlockingChunks = ConstU32<3>;
	type BondingDuration = ConstU32<2>;
	type MaxWeightShare = MaxWeightShare;
	type SlashReputationPenalty = ConstU32<100_000>;
	type SlashDestination = SlashTo;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type SlashCancelOrigin = frame_system::EnsureSignedBy<SlashCancellers, AccountId>;
	type MaxDeferredSlashes = ConstU32<3>;
	type Disabler = RecordDisabled;
	type HasSessionKeys = Keys;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Keys;
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_stake_reputation::BenchmarkHelper<AccountId> for Keys {
	fn register_session_keys(who: &AccountId) {
		set_keys(*who, true);
	}
}

/// Accounts 1..=9 hold 10_000 each, the treasury 1; nobody is bonded.
pub fn new_test_ext() -> sp_io::TestExternalities {
	new_test_ext_with(vec![])
}

pub fn new_test_ext_with(stakers: Vec<(AccountId, Balance, u32, bool)>) -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<_> = (1..=9).map(|a| (a, 10_000)).collect();
	balances.push((TREASURY, 1));
	balances.push((100, u128::MAX / 4));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }.assimilate_storage(&mut t).unwrap();
	pallet_stake_reputation::GenesisConfig::<Test> { stakers, ..Default::default() }.assimilate_storage(&mut t).unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	burn_slashes(false);
	set_max_validators(3);
	KEYS.with(|k| *k.borrow_mut() = vec![1, 2, 3, 4, 5]);
	ext
}

/// The events of this pallet emitted so far.
pub fn events() -> Vec<pallet_stake_reputation::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::StakeReputation(e) => Some(e),
			_ => None,
		})
		.collect()
}
