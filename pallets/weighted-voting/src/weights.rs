//! Weights of `pallet_weighted_voting`.
//!
//! PROVISIONAL: these are estimates from each function's storage accesses (reads/writes counted
//! by hand, 25 µs of computation per access, 2 µs per voter), not measurements. Regenerate with
//! `scripts/bench/pallet-weights.sh pallet_weighted_voting` (the benchmarks are in
//! `benchmarking.rs`); the generated file replaces this one.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions of `pallet_weighted_voting`.
pub trait WeightInfo {
	fn commit_vote(v: u32, ) -> Weight;
	fn reveal_vote(v: u32, ) -> Weight;
	fn set_class_params() -> Weight;
	fn open_test_claim(v: u32, ) -> Weight;
	fn queue_ended_claims(c: u32, ) -> Weight;
	fn tally(v: u32, ) -> Weight;
}

/// Estimated weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn commit_vote(v: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 12_000)
			.saturating_add(Weight::from_parts(2_000_000, 100).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn reveal_vote(v: u32, ) -> Weight {
		Weight::from_parts(60_000_000, 12_000)
			.saturating_add(Weight::from_parts(2_000_000, 100).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn set_class_params() -> Weight {
		Weight::from_parts(20_000_000, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn open_test_claim(v: u32, ) -> Weight {
		Weight::from_parts(80_000_000, 20_000)
			.saturating_add(Weight::from_parts(4_000_000, 2_700).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(v.into())))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn queue_ended_claims(c: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(Weight::from_parts(100_000, 8).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn tally(v: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(60_000_000, 8_000).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().reads((4_u64).saturating_mul(v.into())))
			.saturating_add(T::DbWeight::get().writes(8_u64))
			.saturating_add(T::DbWeight::get().writes((4_u64).saturating_mul(v.into())))
	}
}

/// For tests: the same estimates with RocksDB weights.
impl WeightInfo for () {
	fn commit_vote(v: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 12_000)
			.saturating_add(Weight::from_parts(2_000_000, 100).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(3, 1))
	}
	fn reveal_vote(v: u32, ) -> Weight {
		Weight::from_parts(60_000_000, 12_000)
			.saturating_add(Weight::from_parts(2_000_000, 100).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 1))
	}
	fn set_class_params() -> Weight {
		Weight::from_parts(20_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
	fn open_test_claim(v: u32, ) -> Weight {
		Weight::from_parts(80_000_000, 20_000)
			.saturating_add(Weight::from_parts(4_000_000, 2_700).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(6 + 2 * v as u64, 6))
	}
	fn queue_ended_claims(c: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(Weight::from_parts(100_000, 8).saturating_mul(c.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2))
	}
	fn tally(v: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(60_000_000, 8_000).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(8 + 4 * v as u64, 8 + 4 * v as u64))
	}
}
