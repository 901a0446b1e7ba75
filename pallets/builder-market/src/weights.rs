//! Weights for `pallet-builder-market`.
//!
//! PROVISIONAL: estimates until `scripts/bench/pallet-weights.sh pallet_builder_market` is run
//! on the reference machine with the pallet in the runtime (the benchmarks in
//! `benchmarking.rs` are ready and pass on the mock runtime).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

/// Weight functions of `pallet-builder-market`.
pub trait WeightInfo {
	fn deploy_model() -> Weight;
	fn top_up() -> Weight;
	fn pause() -> Weight;
	fn resume() -> Weight;
	fn end_task() -> Weight;
	fn submit_update() -> Weight;
	fn list_version() -> Weight;
	fn update_decided() -> Weight;
	fn close_rounds(n: u32, ) -> Weight;
}

/// Estimated weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn deploy_model() -> Weight {
		Weight::from_parts(120_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn top_up() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn pause() -> Weight {
		Weight::from_parts(25_000_000, 2_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn resume() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn end_task() -> Weight {
		Weight::from_parts(90_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn submit_update() -> Weight {
		// Opening a claim draws the electorate: the weighted-voting open cost dominates.
		Weight::from_parts(2_000_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads(110_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	fn list_version() -> Weight {
		Weight::from_parts(250_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(30_u64))
			.saturating_add(T::DbWeight::get().writes(12_u64))
	}
	fn update_decided() -> Weight {
		Weight::from_parts(400_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(40_u64))
	}
	fn close_rounds(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 2_000)
			.saturating_add(Weight::from_parts(400_000_000, 12_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64 + 6 * n as u64))
			.saturating_add(T::DbWeight::get().writes(1_u64 + 40 * n as u64))
	}
}

/// Zero weights, for tests.
impl WeightInfo for () {
	fn deploy_model() -> Weight { Weight::zero() }
	fn top_up() -> Weight { Weight::zero() }
	fn pause() -> Weight { Weight::zero() }
	fn resume() -> Weight { Weight::zero() }
	fn end_task() -> Weight { Weight::zero() }
	fn submit_update() -> Weight { Weight::zero() }
	fn list_version() -> Weight { Weight::zero() }
	fn update_decided() -> Weight { Weight::zero() }
	fn close_rounds(_n: u32, ) -> Weight { Weight::zero() }
}
