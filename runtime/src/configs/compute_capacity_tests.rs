//! The compute market's due-step budget holds the settlement rate the chain promises: each
//! settled query takes a routing and, once its result expires, an expiry, and a block's
//! `on_initialize` must run at least ten queries' worth a second of both.

use super::*;
use frame_support::traits::Get;
use pallet_compute_market::WeightInfo as _;

type Weights = pallet_compute_market::weights::SubstrateWeight<Runtime>;

/// What the hook charges one step: the query's read, then the step's worst case.
fn step(worst: Weight) -> Weight {
	<Runtime as frame_system::Config>::DbWeight::get().reads(1).saturating_add(worst)
}

#[test]
fn a_blocks_due_budget_routes_and_expires_ten_queries_a_second() {
	let per_query = step(Weights::route_due(5)).saturating_add(step(Weights::expire_due()));
	let bucket = <Runtime as frame_system::Config>::DbWeight::get().reads_writes(1, 1);
	let per_block = DueBudget::get().saturating_sub(bucket).ref_time() / per_query.ref_time();
	let per_second = per_block as f64 * 1_000.0 / crate::MILLI_SECS_PER_BLOCK as f64;
	assert!(per_second >= 10.0, "{per_block} queries a block ({per_second:.1}/s) is under 10 a second");
	// And a block's bucket has room for both steps of that many queries.
	let due: u32 = <Runtime as pallet_compute_market::Config>::MaxDuePerBlock::get();
	let due = u64::from(due);
	assert!(due >= 2 * per_block, "a bucket of {due} holds fewer than the {per_block} routings and expiries the budget runs");
	// The heaviest step (a disputed evaluation) fits too, so no bucket stalls.
	assert!(DueBudget::get().all_gte(step(Weights::evaluate_due(5)).saturating_add(bucket)));
}
