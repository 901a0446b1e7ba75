//! How many model-update claims the chain decides a second, from the weights: a block's tallies
//! run from `TallyBudget`, each admitted while its worst case fits (a committee of 16 that may
//! escalate: the draw of the next committee on top, and the settlement of each of its voters)
//! and charged what it used; each voter's reputation and points are written once a block
//! (every validator, at most `MaxVoters`, settled once). The open-claims cap must hold every
//! claim those tallies can decide over a claim's commit and reveal periods, so that the cap,
//! not the budget, is never what bounds the rate.

use super::*;
use frame_support::{traits::Get, weights::Weight};
use pallet_builder_market::WeightInfo as _;
use pallet_weighted_voting::{CommitteeRound, WeightInfo as _};

type Voting = pallet_weighted_voting::Pallet<Runtime>;
type VotingWeights = pallet_weighted_voting::weights::SubstrateWeight<Runtime>;
type BuilderWeights = pallet_builder_market::weights::SubstrateWeight<Runtime>;

/// The dev and local chains' model-update committee and periods (chain-spec/*/genesis.json).
const COMMITTEE: u32 = 16;
const PERIODS: u64 = 40;

/// Claims a block decides when the builder market's handler of each uses `handler`: the first
/// admitted at its bound, each next one while its bound fits in what the ones before used.
fn decided_per_block(handler: Weight) -> (u64, f64) {
	let budget = TallyBudget::get().ref_time();
	let round = Some(CommitteeRound { size: COMMITTEE, level: 0 });
	let settle = VotingWeights::settle_voter();
	let bound = Voting::tally_bound(loopx_primitives::ClaimClass::ModelUpdate, COMMITTEE, round)
		.saturating_add(Voting::tally_overhead())
		.saturating_add(settle.saturating_mul(u64::from(COMMITTEE)))
		.ref_time();
	let validators: u32 = <Runtime as pallet_weighted_voting::Config>::MaxVoters::get();
	let settled = settle.saturating_mul(u64::from(validators)).ref_time();
	let used = VotingWeights::tally(COMMITTEE).saturating_add(handler).saturating_add(Voting::tally_overhead()).ref_time();
	let per_block = budget.saturating_sub(bound).saturating_sub(settled) / used + 1;
	(per_block, per_block as f64 * 1_000.0 / crate::MILLI_SECS_PER_BLOCK as f64)
}

/// Every decided update pays a round (the worst case), and rounds of `MaxUpdatesPerRound`
/// updates (one in 16 pays, the others are recorded).
fn rates() -> [(u64, f64); 2] {
	let per_round = u64::from(<<Runtime as pallet_builder_market::Config>::MaxUpdatesPerRound as Get<u32>>::get());
	let typical =
		BuilderWeights::update_recorded().saturating_mul(per_round - 1).saturating_add(BuilderWeights::update_decided()).saturating_div(per_round);
	[decided_per_block(BuilderWeights::update_decided()), decided_per_block(typical)]
}

#[test]
fn the_open_claims_cap_holds_every_claim_the_tally_budget_can_decide() {
	let [(worst, worst_rate), (per_block, per_second)] = rates();
	println!("model-update claims (committee {COMMITTEE}): every update paying a round: {worst} decided a block, {worst_rate:.1} a second");
	println!("model-update claims (committee {COMMITTEE}): rounds of 16 updates: {per_block} decided a block, {per_second:.1} a second");
	let per_class: u32 = <Runtime as pallet_weighted_voting::Config>::MaxOpenPerClass::get();
	let all: u32 = <Runtime as pallet_weighted_voting::Config>::MaxOpenClaims::get();
	let needed = per_block.max(worst) * PERIODS;
	assert!(
		u64::from(per_class) >= needed,
		"{per_class} model-update claims open at once hold fewer than the {needed} the budget decides in {PERIODS} blocks"
	);
	// Two classes at their cap still leave the others room.
	assert!(all >= 2 * per_class + per_class / 2, "MaxOpenClaims {all} leaves the other classes too little beside two full ones");
}
