//! How many model-update claims the chain decides a second, from the weights: a block's tallies
//! run from `TallyBudget`, each admitted while its worst case fits (a committee of 16 that may
//! escalate: the draw of the next committee on top) and charged what it used; the open-claims
//! cap must hold every claim those tallies can decide over a claim's commit and reveal periods,
//! so that the cap, not the budget, is never what bounds the rate.

use super::*;
use frame_support::traits::Get;
use pallet_builder_market::WeightInfo as _;
use pallet_weighted_voting::{CommitteeRound, WeightInfo as _};

type Voting = pallet_weighted_voting::Pallet<Runtime>;
type VotingWeights = pallet_weighted_voting::weights::SubstrateWeight<Runtime>;
type BuilderWeights = pallet_builder_market::weights::SubstrateWeight<Runtime>;

/// The dev and local chains' model-update committee and periods (chain-spec/*/genesis.json).
const COMMITTEE: u32 = 16;
const PERIODS: u64 = 40;

/// Claims a block decides: the first admitted at its bound, each next one while its bound fits
/// in what the ones before actually used.
fn decided_per_block() -> (u64, f64) {
	let budget = TallyBudget::get().ref_time();
	let round = Some(CommitteeRound { size: COMMITTEE, level: 0 });
	let bound = Voting::tally_bound(loopx_primitives::ClaimClass::ModelUpdate, COMMITTEE, round).saturating_add(Voting::tally_overhead()).ref_time();
	let used = VotingWeights::tally(COMMITTEE).saturating_add(BuilderWeights::update_decided()).saturating_add(Voting::tally_overhead()).ref_time();
	let per_block = budget.saturating_sub(bound) / used + 1;
	(per_block, per_block as f64 * 1_000.0 / crate::MILLI_SECS_PER_BLOCK as f64)
}

#[test]
fn the_open_claims_cap_holds_every_claim_the_tally_budget_can_decide() {
	let (per_block, per_second) = decided_per_block();
	println!("model-update claims (committee {COMMITTEE}): {per_block} decided a block, {per_second:.1} a second");
	let per_class: u32 = <Runtime as pallet_weighted_voting::Config>::MaxOpenPerClass::get();
	let all: u32 = <Runtime as pallet_weighted_voting::Config>::MaxOpenClaims::get();
	let needed = per_block * PERIODS;
	assert!(
		u64::from(per_class) >= needed,
		"{per_class} model-update claims open at once hold fewer than the {needed} the budget decides in {PERIODS} blocks"
	);
	// Two classes at their cap still leave the others room.
	assert!(all >= 2 * per_class + per_class / 2, "MaxOpenClaims {all} leaves the other classes too little beside two full ones");
}
