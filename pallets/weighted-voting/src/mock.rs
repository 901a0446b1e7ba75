//! A mock runtime for the pallet's tests: System and this pallet. The validator set,
//! reputation, slashing, contribution points and outcome handler are recording fakes.

use crate as pallet_weighted_voting;
use crate::{ClassParams, VoteMode};
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::Hooks, weights::Weight};
use loopx_primitives::{
	claims::SessionIndex, ClaimClass, ClaimId, ClaimOutcome, ContributionCategory, ContributionSink, Decision, Reputation, ReputationHandler,
	ReputationReason, SlashOutcome, SlashReason, Slashing, Thresholds, Verdict, VoterInfo, VoterSet,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, DispatchError, Perbill};
use std::collections::BTreeMap;

pub type AccountId = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		WeightedVoting: pallet_weighted_voting,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

pub const NEUTRAL: Reputation = 500_000;

thread_local! {
	static VOTERS: RefCell<Vec<VoterInfo<AccountId>>> = const { RefCell::new(Vec::new()) };
	static SESSION: RefCell<SessionIndex> = const { RefCell::new(0) };
	static REPUTATION: RefCell<BTreeMap<AccountId, Reputation>> = const { RefCell::new(BTreeMap::new()) };
	static REP_LOG: RefCell<Vec<(AccountId, i64, ReputationReason)>> = const { RefCell::new(Vec::new()) };
	static SLASHES: RefCell<Vec<(AccountId, Perbill, SlashReason)>> = const { RefCell::new(Vec::new()) };
	static SLASH_FAILS: RefCell<bool> = const { RefCell::new(false) };
	static SLASHED_BACKING: RefCell<Vec<(AccountId, Option<SessionIndex>)>> = const { RefCell::new(Vec::new()) };
	static FORFEITS: RefCell<Vec<(AccountId, u128, SlashReason)>> = const { RefCell::new(Vec::new()) };
	static POINTS: RefCell<Vec<(AccountId, ContributionCategory, u64)>> = const { RefCell::new(Vec::new()) };
	static DECIDED: RefCell<Vec<(ClaimId, ClaimClass, AccountId, Decision)>> = const { RefCell::new(Vec::new()) };
}

/// The active validators: (account, stake); reputations come from the fake ledger.
pub fn set_voters(voters: &[(AccountId, u128)]) {
	VOTERS.with(|v| *v.borrow_mut() = voters.iter().map(|(who, stake)| VoterInfo { who: *who, stake: *stake, reputation: NEUTRAL }).collect());
}
pub fn set_session(s: SessionIndex) {
	SESSION.with(|x| *x.borrow_mut() = s);
}
pub fn set_reputation(who: AccountId, r: Reputation) {
	REPUTATION.with(|m| m.borrow_mut().insert(who, r));
}
pub fn reputation(who: AccountId) -> Reputation {
	REPUTATION.with(|m| m.borrow().get(&who).copied().unwrap_or(NEUTRAL))
}
pub fn rep_log() -> Vec<(AccountId, i64, ReputationReason)> {
	REP_LOG.with(|l| l.borrow().clone())
}
pub fn slashes() -> Vec<(AccountId, Perbill, SlashReason)> {
	SLASHES.with(|s| s.borrow().clone())
}
/// The session each claim's slash was for (whose backing pays).
pub fn slashed_backing() -> Vec<(AccountId, Option<SessionIndex>)> {
	SLASHED_BACKING.with(|s| s.borrow().clone())
}
pub fn forfeits() -> Vec<(AccountId, u128, SlashReason)> {
	FORFEITS.with(|f| f.borrow().clone())
}
pub fn fail_slashes(fail: bool) {
	SLASH_FAILS.with(|s| *s.borrow_mut() = fail);
}
pub fn points() -> Vec<(AccountId, ContributionCategory, u64)> {
	POINTS.with(|p| p.borrow().clone())
}
pub fn decided() -> Vec<(ClaimId, ClaimClass, AccountId, Decision)> {
	DECIDED.with(|d| d.borrow().clone())
}

pub struct Fakes;
impl VoterSet<AccountId> for Fakes {
	fn current_session() -> SessionIndex {
		SESSION.with(|s| *s.borrow())
	}
	fn voters() -> Vec<VoterInfo<AccountId>> {
		VOTERS.with(|v| v.borrow().iter().map(|i| VoterInfo { reputation: reputation(i.who), ..i.clone() }).collect())
	}
}
impl ReputationHandler<AccountId> for Fakes {
	fn reputation(who: &AccountId) -> Reputation {
		reputation(*who)
	}
	fn reward(who: &AccountId, amount: Reputation, reason: ReputationReason) {
		set_reputation(*who, reputation(*who).saturating_add(amount).min(1_000_000));
		REP_LOG.with(|l| l.borrow_mut().push((*who, amount as i64, reason)));
	}
	fn penalize(who: &AccountId, amount: Reputation, reason: ReputationReason) {
		set_reputation(*who, reputation(*who).saturating_sub(amount));
		REP_LOG.with(|l| l.borrow_mut().push((*who, -(amount as i64), reason)));
	}
	fn set(who: &AccountId, score: Reputation, _: ReputationReason) {
		set_reputation(*who, score);
	}
}
impl Slashing<AccountId, u128> for Fakes {
	fn slash(who: &AccountId, fraction: Perbill, reason: SlashReason, _: bool) -> Result<SlashOutcome<u128>, DispatchError> {
		if SLASH_FAILS.with(|s| *s.borrow()) {
			return Err(DispatchError::Other("slash failed"));
		}
		SLASHES.with(|s| s.borrow_mut().push((*who, fraction, reason)));
		Ok(SlashOutcome { own: 0, delegated: 0 })
	}
	fn slash_backing(
		who: &AccountId,
		fraction: Perbill,
		reason: SlashReason,
		chill: bool,
		backed_in: Option<SessionIndex>,
	) -> Result<SlashOutcome<u128>, DispatchError> {
		let outcome = Self::slash(who, fraction, reason, chill)?;
		SLASHED_BACKING.with(|s| s.borrow_mut().push((*who, backed_in)));
		Ok(outcome)
	}
	fn forfeit(who: &AccountId, amount: u128, reason: SlashReason) -> u128 {
		FORFEITS.with(|f| f.borrow_mut().push((*who, amount, reason)));
		amount
	}
}
impl ContributionSink<AccountId> for Fakes {
	fn note(who: &AccountId, category: ContributionCategory, points: u64) {
		POINTS.with(|p| p.borrow_mut().push((*who, category, points)));
	}
}
impl ClaimOutcome<AccountId> for Fakes {
	fn on_claim_decided(id: ClaimId, class: ClaimClass, claimant: &AccountId, _: &H256, decision: &Decision) -> Weight {
		DECIDED.with(|d| d.borrow_mut().push((id, class, *claimant, *decision)));
		Weight::from_parts(1_000, 0)
	}
	fn weight_bound(_: ClaimClass) -> Weight {
		Weight::from_parts(1_000, 0)
	}
}

parameter_types! {
	/// Room for two worst-case tallies a block once `new_test_ext` ran (`tallies_per_block`).
	pub static TallyBudget: Weight = Weight::MAX;
	pub static MaxVoterShare: sp_runtime::Perbill = sp_runtime::Perbill::one();
	pub static MinVoters: u32 = 1;
	pub static MinVotersWithoutRivals: u32 = 1;
	/// No verdict is too close unless a test says otherwise.
	pub static DecisiveShare: sp_runtime::Perbill = sp_runtime::Perbill::zero();
	/// What the fake randomness is derived from (tests vary it to draw other committees).
	pub static RandomSeed: u64 = 0;
}

/// Randomness from [`RandomSeed`] and the subject, as a block's VRF output would be.
pub struct TestRandomness;
impl frame_support::traits::Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		use sp_runtime::traits::Hash;
		(sp_runtime::traits::BlakeTwo256::hash(&[&RandomSeed::get().to_le_bytes()[..], subject].concat()), 0)
	}
}

impl pallet_weighted_voting::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Voters = Fakes;
	type Reputations = Fakes;
	type SlashedBalance = u128;
	type Slasher = Fakes;
	type UndecidedClaimBond = frame_support::traits::ConstU128<7>;
	type Contributions = Fakes;
	type OnDecided = Fakes;
	type MaxVoters = frame_support::traits::ConstU32<5>;
	type MaxOpenClaims = frame_support::traits::ConstU32<8>;
	type MaxOpenPerClass = frame_support::traits::ConstU32<6>;
	type MaxQueuedClaims = frame_support::traits::ConstU32<2>;
	type MaxConflicted = frame_support::traits::ConstU32<4>;
	type MaxVotesPerCall = frame_support::traits::ConstU32<4>;
	type MaxVoterShare = MaxVoterShare;
	type MinVoters = MinVoters;
	type MinVotersWithoutRivals = MinVotersWithoutRivals;
	type DecisiveShare = DecisiveShare;
	type Randomness = TestRandomness;
	type TallyBudget = TallyBudget;
	type MaxPeriod = frame_support::traits::ConstU64<100>;
	type DecidedRetention = frame_support::traits::ConstU64<10>;
	type VoterReward = frame_support::traits::ConstU32<1_000>;
	type VoterPenalty = frame_support::traits::ConstU32<5_000>;
	type MissedRevealPenalty = frame_support::traits::ConstU32<10_000>;
	type AbsentPenalty = frame_support::traits::ConstU32<8_000>;
	type ClaimantReward = frame_support::traits::ConstU32<20_000>;
	type ClaimantPenalty = frame_support::traits::ConstU32<50_000>;
	type VotePoints = frame_support::traits::ConstU64<10>;
	type DivergenceLimit = frame_support::traits::ConstU32<2>;
	type SuspensionBase = frame_support::traits::ConstU32<3>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Fakes;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for Fakes {
	fn setup_voters(n: u32) -> Vec<AccountId> {
		let voters: Vec<_> = (0..n as u64).map(|i| (1_000 + i, 1_000u128)).collect();
		set_voters(&voters);
		voters.into_iter().map(|(who, _)| who).collect()
	}
	fn setup_claimant() -> AccountId {
		99
	}
}

pub const COMMIT: u64 = 5;
pub const REVEAL: u64 = 5;

/// Binary test-class parameters: quorum 50 %, approval 50 %, min stake 100, min reputation
/// 100,000 (bounds 0..=1,000 stake and 0..=900,000 reputation), slash 10 %.
pub fn binary_params() -> ClassParams<u64> {
	ClassParams {
		mode: VoteMode::Binary,
		thresholds: Thresholds { min_stake: 100, min_reputation: 100_000 },
		loosest: Thresholds { min_stake: 0, min_reputation: 0 },
		strictest: Thresholds { min_stake: 1_000, min_reputation: 900_000 },
		commit_period: COMMIT,
		reveal_period: REVEAL,
		quorum: Perbill::from_percent(50),
		approval: Perbill::from_percent(50),
		tolerance: 0,
		slash: Perbill::from_percent(10),
	}
}

/// Score parameters (evaluation-score class): tolerance 10.
pub fn score_params() -> ClassParams<u64> {
	ClassParams { mode: VoteMode::Score, tolerance: 10, ..binary_params() }
}

/// Voters 1, 2, 3 with stake 100 each (equal weight), 4 with stake 50 (below the threshold).
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_weighted_voting::GenesisConfig::<Test> {
		classes: vec![(ClaimClass::QueryResult, binary_params()), (ClaimClass::EvaluationScore, score_params())],
		committees: Vec::new(),
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		set_voters(&[(1, 100), (2, 100), (3, 100), (4, 50)]);
		set_session(0);
		REPUTATION.with(|m| m.borrow_mut().clear());
		REP_LOG.with(|l| l.borrow_mut().clear());
		SLASHES.with(|s| s.borrow_mut().clear());
		SLASHED_BACKING.with(|s| s.borrow_mut().clear());
		FORFEITS.with(|f| f.borrow_mut().clear());
		POINTS.with(|p| p.borrow_mut().clear());
		DECIDED.with(|d| d.borrow_mut().clear());
		fail_slashes(false);
		tallies_per_block(2);
	});
	ext
}

/// Sets [`TallyBudget`] to what `n` worst-case tallies of `MaxVoters` voters need (each voter
/// new to the block), with the hook's reads and writes of its queues.
pub fn tallies_per_block(n: u64) {
	use frame_support::traits::Get;
	let db: frame_support::weights::RuntimeDbWeight = <Test as frame_system::Config>::DbWeight::get();
	use crate::weights::WeightInfo;
	let worst = crate::CommitteeRound { size: 5, level: 0 };
	// Five voters new to the block each time, and the last admission's reservation of theirs.
	let settling = <() as WeightInfo>::settle_voter().saturating_mul(5);
	let one = WeightedVoting::tally_bound(ClaimClass::QueryResult, 5, Some(worst))
		.saturating_add(WeightedVoting::tally_overhead())
		.saturating_add(settling);
	TallyBudget::set(one.saturating_mul(n).saturating_add(settling).saturating_add(db.reads_writes(2, 2)));
}

/// Sets [`TallyBudget`] to what `n` tallies of claims of `voters` voters without a committee
/// need, with the hook's reads and writes of its queues.
pub fn room_for(n: u64, voters: u32) {
	use frame_support::traits::Get;
	let db: frame_support::weights::RuntimeDbWeight = <Test as frame_system::Config>::DbWeight::get();
	use crate::weights::WeightInfo;
	let one = WeightedVoting::tally_bound(ClaimClass::QueryResult, voters, None).saturating_add(WeightedVoting::tally_overhead());
	// The same voters each time: settled once, and each admission reserves their settlement.
	let settling = <() as WeightInfo>::settle_voter().saturating_mul(u64::from(voters));
	TallyBudget::set(one.saturating_mul(n).saturating_add(settling.saturating_mul(2)).saturating_add(db.reads_writes(2, 2)));
}

/// Runs `on_initialize` of every block up to and including `n`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		WeightedVoting::on_initialize(next);
	}
}

/// The events of this pallet emitted so far.
pub fn events() -> Vec<pallet_weighted_voting::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::WeightedVoting(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// A salt derived from the voter (tests only).
pub fn salt(who: AccountId) -> [u8; 32] {
	[who as u8; 32]
}

/// Commits `verdict` for `who` on `claim` with [`salt`].
pub fn commit(who: AccountId, claim: ClaimId, verdict: Verdict) -> sp_runtime::DispatchResult {
	let c = crate::vote_commitment(claim, &who, &verdict, &salt(who));
	WeightedVoting::commit_vote(RuntimeOrigin::signed(who), claim, claim_commitment(claim), c)
}

/// The commitment of `claim` (what a vote on it names), zero for no claim.
pub fn claim_commitment(claim: ClaimId) -> H256 {
	crate::Claims::<Test>::get(claim).map(|c| c.commitment).unwrap_or_default()
}

/// Reveals `verdict` for `who` on `claim` with [`salt`].
pub fn reveal(who: AccountId, claim: ClaimId, verdict: Verdict) -> sp_runtime::DispatchResult {
	WeightedVoting::reveal_vote(RuntimeOrigin::signed(who), claim, verdict, salt(who))
}

/// `ids` in ascending order.
pub fn sorted(ids: impl Iterator<Item = ClaimId>) -> Vec<ClaimId> {
	let mut ids: Vec<_> = ids.collect();
	ids.sort_unstable();
	ids
}
