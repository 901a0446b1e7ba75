//! Weights of `pallet_routers`.
//!
//! Not generated yet: these are the figures `loopx-node benchmark pallet` measured for the
//! data market's `register_router` and `unregister_router` on 2026-11-23 (steps 25, repeat 10,
//! host `vm`, CPU `AMD EPYC`), the calls this pallet took over with the same storage and hold
//! operations (one router entry, the account, its holds). Regenerate with
//! `scripts/bench/pallet-weights.sh` (it lists `pallet_routers`).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions of `pallet_routers`.
pub trait WeightInfo {
	fn register_router() -> Weight;
	fn unregister_router() -> Weight;
}

/// Measured weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Routers::Routers` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	fn register_router() -> Weight {
		Weight::from_parts(131_315_000, 3658)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Routers::Routers` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	fn unregister_router() -> Weight {
		Weight::from_parts(73_568_000, 3658)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

// For tests.
impl WeightInfo for () {
	fn register_router() -> Weight {
		Weight::from_parts(131_315_000, 3658)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn unregister_router() -> Weight {
		Weight::from_parts(73_568_000, 3658)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
}
