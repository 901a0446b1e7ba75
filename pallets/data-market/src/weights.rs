//! Weights of `pallet_data_market`.
//!
//! PROVISIONAL: estimates from each function's storage accesses (reads/writes counted by hand,
//! 25 µs of computation per access, log₂ of the book size for heap work), not measurements.
//! Regenerate with `scripts/bench/pallet-weights.sh pallet_data_market` (the benchmarks are in
//! `benchmarking.rs`); the generated file replaces this one.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions of `pallet_data_market`.
pub trait WeightInfo {
	fn register_key() -> Weight;
	fn post_order_resting(b: u32, ) -> Weight;
	fn post_order_matching(b: u32, ) -> Weight;
	fn cancel_order(b: u32, ) -> Weight;
	fn register_router() -> Weight;
	fn unregister_router() -> Weight;
	fn route() -> Weight;
	fn deliver() -> Weight;
	fn confirm() -> Weight;
	fn dispute() -> Weight;
	fn dispute_decided() -> Weight;
	fn on_timeouts(n: u32, ) -> Weight;
	fn set_periods() -> Weight;
}

fn log2(b: u32) -> u64 {
	(32 - b.leading_zeros()) as u64
}

/// Estimated weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_key() -> Weight {
		Weight::from_parts(15_000_000, 0).saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn post_order_resting(b: u32, ) -> Weight {
		Weight::from_parts(80_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(8_u64 + 2 * log2(b)))
			.saturating_add(T::DbWeight::get().writes(6_u64 + 2 * log2(b)))
	}
	fn post_order_matching(b: u32, ) -> Weight {
		// Eight fills, each a deal and a heap removal.
		Weight::from_parts(600_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(40_u64 + 16 * log2(b)))
			.saturating_add(T::DbWeight::get().writes(50_u64 + 16 * log2(b)))
	}
	fn cancel_order(b: u32, ) -> Weight {
		Weight::from_parts(60_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(5_u64 + 2 * log2(b)))
			.saturating_add(T::DbWeight::get().writes(5_u64 + 2 * log2(b)))
	}
	fn register_router() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn unregister_router() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn route() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	fn deliver() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn confirm() -> Weight {
		Weight::from_parts(150_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(12_u64))
			.saturating_add(T::DbWeight::get().writes(12_u64))
	}
	fn dispute() -> Weight {
		// Opening the claim freezes an electorate of up to 100 validators.
		Weight::from_parts(400_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(210_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	fn dispute_decided() -> Weight {
		Weight::from_parts(180_000_000, 14_000)
			.saturating_add(T::DbWeight::get().reads(14_u64))
			.saturating_add(T::DbWeight::get().writes(14_u64))
	}
	fn on_timeouts(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 2_000)
			.saturating_add(Weight::from_parts(150_000_000, 12_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64 + 12 * n as u64))
			.saturating_add(T::DbWeight::get().writes(1_u64 + 12 * n as u64))
	}
	fn set_periods() -> Weight {
		Weight::from_parts(8_000_000, 0).saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

/// Zero weights, for tests.
impl WeightInfo for () {
	fn register_key() -> Weight { Weight::zero() }
	fn post_order_resting(_b: u32, ) -> Weight { Weight::zero() }
	fn post_order_matching(_b: u32, ) -> Weight { Weight::zero() }
	fn cancel_order(_b: u32, ) -> Weight { Weight::zero() }
	fn register_router() -> Weight { Weight::zero() }
	fn unregister_router() -> Weight { Weight::zero() }
	fn route() -> Weight { Weight::zero() }
	fn deliver() -> Weight { Weight::zero() }
	fn confirm() -> Weight { Weight::zero() }
	fn dispute() -> Weight { Weight::zero() }
	fn dispute_decided() -> Weight { Weight::zero() }
	fn on_timeouts(_n: u32, ) -> Weight { Weight::zero() }
	fn set_periods() -> Weight { Weight::zero() }
}
