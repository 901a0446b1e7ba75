//! Weights of `pallet-stake-reputation`.
//!
//! PLACEHOLDER, NOT BENCHMARKED: these figures are conservative estimates (storage reads and
//! writes counted by hand, 50 µs of compute per call) until `benchmarking.rs` is run on the
//! reference machine with `loopx-node benchmark pallet` and this file is regenerated from it.

use core::marker::PhantomData;
use frame_support::weights::{constants::RocksDbWeight, Weight};

/// Weight functions needed for `pallet-stake-reputation`.
pub trait WeightInfo {
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn rebond() -> Weight;
	fn validate() -> Weight;
	fn chill() -> Weight;
	fn delegate() -> Weight;
	fn undelegate() -> Weight;
	fn set_reputation() -> Weight;
	fn force_slash(d: u32) -> Weight;
}

const BASE: u64 = 50_000_000;

fn rw(reads: u64, writes: u64) -> Weight {
	Weight::from_parts(BASE, 4_000).saturating_add(RocksDbWeight::get().reads_writes(reads, writes))
}

/// Estimated weights (see the module docs).
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn bond() -> Weight { rw(3, 3) }
	fn bond_extra() -> Weight { rw(3, 3) }
	fn unbond() -> Weight { rw(3, 1) }
	fn withdraw_unbonded() -> Weight { rw(4, 3) }
	fn rebond() -> Weight { rw(1, 1) }
	fn validate() -> Weight { rw(6, 2) }
	fn chill() -> Weight { rw(2, 2) }
	fn delegate() -> Weight { rw(6, 5) }
	fn undelegate() -> Weight { rw(5, 4) }
	fn set_reputation() -> Weight { rw(2, 1) }
	fn force_slash(d: u32) -> Weight {
		rw(6, 6).saturating_add(RocksDbWeight::get().reads_writes(3, 3).saturating_mul(d as u64))
	}
}

impl WeightInfo for () {
	fn bond() -> Weight { rw(3, 3) }
	fn bond_extra() -> Weight { rw(3, 3) }
	fn unbond() -> Weight { rw(3, 1) }
	fn withdraw_unbonded() -> Weight { rw(4, 3) }
	fn rebond() -> Weight { rw(1, 1) }
	fn validate() -> Weight { rw(6, 2) }
	fn chill() -> Weight { rw(2, 2) }
	fn delegate() -> Weight { rw(6, 5) }
	fn undelegate() -> Weight { rw(5, 4) }
	fn set_reputation() -> Weight { rw(2, 1) }
	fn force_slash(d: u32) -> Weight {
		rw(6, 6).saturating_add(RocksDbWeight::get().reads_writes(3, 3).saturating_mul(d as u64))
	}
}
