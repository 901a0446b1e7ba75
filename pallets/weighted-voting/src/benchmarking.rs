//! Benchmarks of every call and of the tally, each over the electorate size `v` (up to
//! `MaxVoters`) or the number of claims ending in one block `c` (up to `MaxOpenPerClass`: the
//! claims are of one class; the weight is linear in `c`).

use super::*;
use frame_benchmarking::v2::*;
use frame_system::RawOrigin;

/// Binary parameters with no thresholds, so that every voter the helper sets up is eligible.
fn params<T: Config>() -> ClassParams<BlockNumberFor<T>> {
	let none = Thresholds::default();
	ClassParams {
		mode: VoteMode::Binary,
		thresholds: none,
		loosest: none,
		strictest: Thresholds { min_stake: u128::MAX, min_reputation: Reputation::MAX },
		commit_period: T::MaxPeriod::get(),
		reveal_period: T::MaxPeriod::get(),
		quorum: Perbill::from_percent(50),
		approval: Perbill::from_percent(50),
		tolerance: 0,
		slash: Perbill::from_percent(10),
	}
}

/// The binary class the benchmarks open claims of.
const CLASS: ClaimClass = ClaimClass::DataDispute;

/// Gives [`CLASS`] the benchmark parameters and no committee: every eligible voter is drawn.
fn setup_class<T: Config>() {
	ClassParameters::<T>::insert(CLASS, params::<T>());
	CommitteeSizes::<T>::remove(CLASS);
	ClassQuotas::<T>::remove(CLASS);
}

/// A claim request of [`CLASS`] by `claimant`.
fn request<T: Config>(claimant: T::AccountId) -> ClaimRequest<T::AccountId> {
	ClaimRequest {
		class: CLASS,
		claimant,
		subject: H256::repeat_byte(1),
		commitment: H256::repeat_byte(2),
		claimed_score: None,
		sealed_score: None,
		must_beat: None,
		thresholds: None,
		conflicted: Vec::new(),
		rivals: Vec::new(),
	}
}

/// A binary claim with an electorate of `v` voters; returns the claim and the voters.
fn claim_with_voters<T: Config>(v: u32) -> Result<(ClaimId, Vec<T::AccountId>), BenchmarkError> {
	setup_class::<T>();
	let voters = T::BenchmarkHelper::setup_voters(v);
	let claimant = T::BenchmarkHelper::setup_claimant();
	let id = Pallet::<T>::do_open(request::<T>(claimant))?;
	assert_eq!(Pallet::<T>::electorate(id).len() as u32, v);
	Ok((id, voters))
}

/// `n` binary claims opened in one block with one voter; returns them and the voter.
fn claims_of_one_voter<T: Config>(n: u32) -> Result<(Vec<ClaimId>, T::AccountId), BenchmarkError> {
	let mut ids = Vec::new();
	let mut voter = None;
	for _ in 0..n {
		let (id, voters) = claim_with_voters::<T>(1)?;
		ids.push(id);
		voter = voters.first().cloned();
	}
	Ok((ids, voter.ok_or(BenchmarkError::Weightless)?))
}

fn salt(i: u32) -> [u8; 32] {
	let mut s = [0u8; 32];
	s[..4].copy_from_slice(&i.to_le_bytes());
	s
}

/// Half the voters say `Valid`, half `Invalid`: the claim is rejected, so the tally slashes the
/// claimant and changes every voter's reputation (the most work).
fn verdict(i: u32) -> Verdict {
	if i.is_multiple_of(2) {
		Verdict::Invalid
	} else {
		Verdict::Valid
	}
}

fn commit_all<T: Config>(id: ClaimId, voters: &[T::AccountId]) -> Result<(), BenchmarkError> {
	for (i, who) in voters.iter().enumerate() {
		let c = vote_commitment(id, who, &verdict(i as u32), &salt(i as u32));
		Pallet::<T>::commit_vote(RawOrigin::Signed(who.clone()).into(), id, claimed::<T>(id), c)?;
	}
	Ok(())
}

/// The commitment of claim `id`, which a vote names.
fn claimed<T: Config>(id: ClaimId) -> H256 {
	Claims::<T>::get(id).map(|c| c.commitment).unwrap_or_default()
}

fn go_to_reveal<T: Config>(id: ClaimId) {
	if let Some(c) = Claims::<T>::get(id) {
		frame_system::Pallet::<T>::set_block_number(c.commit_end);
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A vote touches its own ballot only: its cost does not depend on the electorate, so the
	/// claim has the largest one.
	#[benchmark]
	fn commit_vote() -> Result<(), BenchmarkError> {
		let (id, voters) = claim_with_voters::<T>(T::MaxVoters::get())?;
		let who = voters.last().cloned().ok_or(BenchmarkError::Weightless)?;
		let c = vote_commitment(id, &who, &Verdict::Valid, &salt(0));

		let claimed = claimed::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), id, claimed, c);

		assert_eq!(Ballots::<T>::get(id, &who).and_then(|b| b.commitment), Some(c));
		Ok(())
	}

	/// `n` votes of one voter on `n` claims in one call.
	#[benchmark]
	fn commit_votes(n: Linear<1, { T::MaxVotesPerCall::get() }>) -> Result<(), BenchmarkError> {
		let (ids, who) = claims_of_one_voter::<T>(n)?;
		let votes: Vec<_> = ids
			.iter()
			.map(|&id| VoteCommit { claim: id, claim_commitment: claimed::<T>(id), commitment: vote_commitment(id, &who, &Verdict::Valid, &salt(0)) })
			.collect();
		let votes = BoundedVec::try_from(votes).map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), votes);

		assert!(ids.iter().all(|&id| Ballots::<T>::get(id, &who).is_some_and(|b| b.commitment.is_some())));
		Ok(())
	}

	#[benchmark]
	fn reveal_claimed_score() -> Result<(), BenchmarkError> {
		let mut score = params::<T>();
		score.mode = VoteMode::Score;
		ClassParameters::<T>::insert(ClaimClass::EvaluationScore, score);
		T::BenchmarkHelper::setup_voters(1);
		let claimant = T::BenchmarkHelper::setup_claimant();
		let id = Pallet::<T>::do_open(ClaimRequest {
			class: ClaimClass::EvaluationScore,
			claimant: claimant.clone(),
			subject: H256::repeat_byte(1),
			commitment: H256::repeat_byte(2),
			claimed_score: None,
			sealed_score: Some(score_seal(&claimant, 700_000, &salt(7))),
			must_beat: None,
			thresholds: None,
			conflicted: Vec::new(),
			rivals: Vec::new(),
		})?;
		go_to_reveal::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(claimant), id, 700_000, salt(7));

		assert_eq!(Claims::<T>::get(id).and_then(|c| c.claimed_score), Some(700_000));
		Ok(())
	}

	#[benchmark]
	fn reveal_vote() -> Result<(), BenchmarkError> {
		let (id, voters) = claim_with_voters::<T>(T::MaxVoters::get())?;
		commit_all::<T>(id, &voters)?;
		go_to_reveal::<T>(id);
		let i = voters.len() as u32 - 1;
		let who = voters[i as usize].clone();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), id, verdict(i), salt(i));

		assert_eq!(Ballots::<T>::get(id, &who).and_then(|b| b.verdict), Some(verdict(i)));
		Ok(())
	}

	/// `n` reveals of one voter on `n` claims in one call.
	#[benchmark]
	fn reveal_votes(n: Linear<1, { T::MaxVotesPerCall::get() }>) -> Result<(), BenchmarkError> {
		let (ids, who) = claims_of_one_voter::<T>(n)?;
		for &id in &ids {
			let c = vote_commitment(id, &who, &Verdict::Valid, &salt(0));
			Pallet::<T>::commit_vote(RawOrigin::Signed(who.clone()).into(), id, claimed::<T>(id), c)?;
		}
		go_to_reveal::<T>(ids[0]);
		let votes: Vec<_> = ids.iter().map(|&id| VoteReveal { claim: id, verdict: Verdict::Valid, salt: salt(0) }).collect();
		let votes = BoundedVec::try_from(votes).map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), votes);

		assert!(ids.iter().all(|&id| Ballots::<T>::get(id, &who).is_some_and(|b| b.verdict == Some(Verdict::Valid))));
		Ok(())
	}

	#[benchmark]
	fn set_class_params() -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let p = params::<T>();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, ClaimClass::ModelUpdate, p);

		assert_eq!(ClassParameters::<T>::get(ClaimClass::ModelUpdate), Some(p));
		Ok(())
	}

	/// Opening a claim (what a market pays when it opens one) with an electorate of `v`.
	#[benchmark]
	fn open_claim(v: Linear<1, { T::MaxVoters::get() }>) -> Result<(), BenchmarkError> {
		setup_class::<T>();
		T::BenchmarkHelper::setup_voters(v);
		let claimant = T::BenchmarkHelper::setup_claimant();

		#[block]
		{
			Pallet::<T>::do_open(request::<T>(claimant))?;
		}

		assert_eq!(Pallet::<T>::electorate(NextClaimId::<T>::get() - 1).len() as u32, v);
		Ok(())
	}

	/// One claim with `v` voters, all revealed, half against: rejected, claimant slashed, every
	/// voter's reputation changed.
	#[benchmark]
	fn tally(v: Linear<1, { T::MaxVoters::get() }>) -> Result<(), BenchmarkError> {
		let (id, voters) = claim_with_voters::<T>(v)?;
		commit_all::<T>(id, &voters)?;
		go_to_reveal::<T>(id);
		for (i, who) in voters.iter().enumerate() {
			Pallet::<T>::reveal_vote(RawOrigin::Signed(who.clone()).into(), id, verdict(i as u32), salt(i as u32))?;
		}
		let end = Claims::<T>::get(id).map(|c| c.reveal_end).ok_or(BenchmarkError::Weightless)?;
		frame_system::Pallet::<T>::set_block_number(end);

		// The voters' sums are written once a block for all its tallies: `settle_voter`.
		let mut owed = settlement::Settlements::default();
		#[block]
		{
			Pallet::<T>::tally(id, end, &mut owed);
		}

		assert!(matches!(Claims::<T>::get(id).map(|c| c.status), Some(ClaimStatus::Decided { .. })));
		// Every voter with a standing is owed something (none without a quorum: one voter).
		assert!(owed.voters() <= voters.len());
		Ok(())
	}

	/// One voter's sums of a block's tallies written: a gain (over the session's cap: the
	/// capped path writes as much and says so), verification points in an era it has none in
	/// yet (its exposure is snapshotted), and each kind of penalty.
	#[benchmark]
	fn settle_voter() -> Result<(), BenchmarkError> {
		let who = T::BenchmarkHelper::setup_voters(1).pop().ok_or(BenchmarkError::Weightless)?;
		let owed = settlement::Owed {
			reward: T::VoterReward::get().saturating_mul(1_000),
			points: T::VotePoints::get(),
			against: T::VoterPenalty::get(),
			missed_reveal: T::MissedRevealPenalty::get(),
			absent: T::AbsentPenalty::get(),
		};
		let before = T::Reputations::reputation(&who);
		#[block]
		{
			settlement::settle::<T::AccountId, T::Reputations, T::Contributions>(&who, owed);
		}
		assert!(T::Reputations::reputation(&who) != before);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
