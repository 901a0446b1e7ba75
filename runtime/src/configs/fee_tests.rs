//! The fee rules: congestion raises the multiplier, idleness lowers it to a floor, and every
//! byte of a transaction costs `TransactionByteFee`.

use super::*;
use frame_support::dispatch::DispatchInfo;
use sp_runtime::{
	traits::{Convert, One},
	BuildStorage,
};

fn ext() -> sp_io::TestExternalities {
	frame_system::GenesisConfig::<Runtime>::default().build_storage().expect("a genesis").into()
}

type Update = <Runtime as pallet_transaction_payment::Config>::FeeMultiplierUpdate;

#[test]
fn full_blocks_raise_the_fee_multiplier_and_idle_ones_lower_it_to_a_floor() {
	ext().execute_with(|| {
		let max = RuntimeBlockWeights::get().get(DispatchClass::Normal).max_total.unwrap_or(Weight::MAX);
		frame_system::Pallet::<Runtime>::set_block_consumed_resources(max, 0);
		assert!(Update::convert(Multiplier::one()) > Multiplier::one(), "a full block raises it");
		frame_system::Pallet::<Runtime>::set_block_consumed_resources(Weight::zero(), 0);
		let mut m = Multiplier::one();
		m = Update::convert(m);
		assert!(m < Multiplier::one(), "an empty block lowers it");
		for _ in 0..200_000 {
			m = Update::convert(m);
		}
		assert_eq!(m, MinimumMultiplier::get(), "never below a tenth");
	});
}

#[test]
fn every_byte_costs_a_micro_lpx() {
	ext().execute_with(|| {
		let info = DispatchInfo::default();
		let fee = |len: u32| pallet_transaction_payment::Pallet::<Runtime>::compute_fee(len, &info, 0);
		assert_eq!(fee(1_100) - fee(100), 1_000 * crate::MICRO_UNITS);
	});
}
