//! Weights of `pallet_rewards`.
//!
//! PROVISIONAL: these are estimates from each function's storage accesses (counted by hand,
//! 25 µs of computation per access, 30 µs per transfer), not measurements. Regenerate with
//! `scripts/bench/pallet-weights.sh pallet_rewards` (the benchmarks are in `benchmarking.rs`);
//! the generated file replaces this one.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions of `pallet_rewards`.
pub trait WeightInfo {
	fn payout(d: u32, ) -> Weight;
	fn set_params() -> Weight;
	fn end_era() -> Weight;
	fn cleanup(k: u32, ) -> Weight;
}

/// Estimated weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn payout(d: u32, ) -> Weight {
		Weight::from_parts(120_000_000, 8_000)
			.saturating_add(Weight::from_parts(60_000_000, 2_600).saturating_mul(d.into()))
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(d.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(d.into())))
	}
	fn set_params() -> Weight {
		Weight::from_parts(20_000_000, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn end_era() -> Weight {
		Weight::from_parts(250_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(14_u64))
			.saturating_add(T::DbWeight::get().writes(14_u64))
	}
	fn cleanup(k: u32, ) -> Weight {
		Weight::from_parts(10_000_000, 1_500)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(k.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(k.into())))
	}
}

/// For tests: the same estimates with RocksDB weights.
impl WeightInfo for () {
	fn payout(d: u32, ) -> Weight {
		Weight::from_parts(120_000_000, 8_000)
			.saturating_add(Weight::from_parts(60_000_000, 2_600).saturating_mul(d.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(8 + 2 * d as u64, 5 + d as u64))
	}
	fn set_params() -> Weight {
		Weight::from_parts(20_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
	fn end_era() -> Weight {
		Weight::from_parts(250_000_000, 12_000).saturating_add(RocksDbWeight::get().reads_writes(14, 14))
	}
	fn cleanup(k: u32, ) -> Weight {
		Weight::from_parts(10_000_000, 1_500)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(k.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1 + k as u64))
	}
}
