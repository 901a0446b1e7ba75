//! The pallets whose benchmarks `loopx-node benchmark pallet` runs (built with
//! `--features runtime-benchmarks`).

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_utility, Utility]
	[pallet_stake_reputation, StakeReputation]
	[pallet_weighted_voting, WeightedVoting]
	[pallet_rewards, Rewards]
	[pallet_data_market, DataMarket]
	[pallet_builder_market, BuilderMarket]
	[pallet_compute_market, ComputeMarket]
	[pallet_routers, Routers]
);

pub use crate::{
	Balances, BuilderMarket, ComputeMarket, DataMarket, Rewards, Routers, Runtime, StakeReputation, Sudo, Timestamp, Utility, WeightedVoting,
};
