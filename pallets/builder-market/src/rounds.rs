//! The engine behind the calls: deploying, round clocks, update claims and their outcomes,
//! bounty payouts, ending, listing versions.

use crate::*;
use alloc::format;
use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision as TokenPrecision, Restriction},
	},
};
use loopx_primitives::{
	agenda, ClaimClass, ClaimOutcome, ClaimRegistry, ClaimRequest, ContributionCategory, ContributionSink, Decision, ModelListing, ModelMarket,
	Outcome, ScoreBound, VoterSet,
};
use sp_runtime::{
	traits::{BlakeTwo256, Hash, Saturating, UniqueSaturatedInto, Zero},
	DispatchError,
};

impl<T: Config> Pallet<T> {
	/// The subject of a task's update claims.
	pub fn task_subject(task: TaskId) -> H256 {
		let mut subject = [0u8; 32];
		subject[28..].copy_from_slice(&task.to_be_bytes());
		H256(subject)
	}

	/// The data-market book a version is sold in.
	pub fn version_tag(task: TaskId, version: u32) -> alloc::vec::Vec<u8> {
		let mut tag = loopx_primitives::markets::MODEL_TAG_PREFIX.to_vec();
		tag.extend_from_slice(format!("{task}/{version}").as_bytes());
		tag
	}

	/// Checks a spec against the runtime's bounds.
	pub fn check_spec(spec: &TaskSpecOf<T>, now: BlockNumberFor<T>) -> DispatchResult {
		spec.architecture.validate().map_err(|_| Error::<T>::InvalidArchitecture)?;
		ensure!(!spec.metric.higher_is_better() || spec.target <= 1_000_000, Error::<T>::InvalidTarget);
		ensure!(spec.hyper.batch_size > 0 && spec.hyper.local_steps > 0, Error::<T>::InvalidHyperParams);
		// What every validator does for the task: bounded, so that no task stalls one.
		ensure!(spec.hyper.batch_size <= T::MaxBatchSize::get(), Error::<T>::BatchSizeTooLarge);
		ensure!(spec.hyper.local_steps <= T::MaxLocalSteps::get(), Error::<T>::TooManyLocalSteps);
		ensure!(spec.architecture.payload_bytes(spec.precision) <= T::MaxModelBytes::get(), Error::<T>::ModelTooLarge);
		let work = spec.architecture.num_params().saturating_mul(spec.hyper.batch_size.into()).saturating_mul(spec.hyper.local_steps.into());
		ensure!(work <= T::MaxTrainingWork::get(), Error::<T>::TrainingTooHeavy);
		ensure!(spec.round_length >= T::MinRoundLength::get() && spec.round_length <= T::MaxRoundLength::get(), Error::<T>::InvalidRoundLength);
		ensure!(spec.max_rounds > 0 && spec.max_rounds <= T::MaxRounds::get(), Error::<T>::InvalidMaxRounds);
		ensure!(spec.deadline > now.saturating_add(spec.round_length), Error::<T>::DeadlineTooSoon);
		ensure!(spec.bounty >= T::MinBounty::get(), Error::<T>::BountyTooLow);
		Ok(())
	}

	/// Deploys a task. Transactional.
	pub fn do_deploy(builder: T::AccountId, spec: TaskSpecOf<T>) -> Result<TaskId, DispatchError> {
		with_storage_layer(|| {
			let now = frame_system::Pallet::<T>::block_number();
			Self::check_spec(&spec, now)?;
			let task = NextTaskId::<T>::get();
			let live = LiveTasks::<T>::get();
			ensure!(live < T::MaxLiveTasks::get(), Error::<T>::TooManyTasks);
			let deposit = T::TaskDeposit::get();
			for (reason, amount) in [(HoldReason::Bounty, spec.bounty), (HoldReason::TaskDeposit, deposit)] {
				if !amount.is_zero() {
					T::Currency::hold(&reason.into(), &builder, amount).map_err(|_| Error::<T>::InsufficientBalance)?;
				}
			}
			let round_end = Self::schedule_round_end(task, &spec)?;
			let bounty = spec.bounty;
			Tasks::<T>::insert(
				task,
				Task {
					builder: builder.clone(),
					spec,
					status: TaskStatus::Active,
					bounty_left: bounty,
					deposit,
					round: 0,
					round_end: Some(round_end),
					unpaid_rounds: 0,
					current: None,
				},
			);
			NextTaskId::<T>::put(task.saturating_add(1));
			LiveTasks::<T>::put(live.saturating_add(1));
			Self::deposit_event(Event::TaskDeployed { task, builder, bounty, deposit, round_end });
			Self::deposit_event(Event::RoundStarted { task, round: 0, round_end });
			Ok(task)
		})
	}

	/// Schedules the close of a round starting now: `round_length` blocks on (never after the
	/// deadline), moved up to 16 blocks later when a block is full.
	pub(crate) fn schedule_round_end(task: TaskId, spec: &TaskSpecOf<T>) -> Result<BlockNumberFor<T>, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let block = now.saturating_add(spec.round_length).min(spec.deadline).max(now.saturating_add(1u32.into()));
		agenda::schedule::<RoundEnds<T>, _, _, _>(block, task).ok_or_else(|| Error::<T>::TooManyRoundEnds.into())
	}

	/// Submits an update. Transactional.
	pub fn do_submit(trainer: T::AccountId, task: TaskId, parent: H256, new_hash: H256, sealed_metric: H256) -> Result<ClaimId, DispatchError> {
		with_storage_layer(|| {
			let t = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			ensure!(t.status == TaskStatus::Active, Error::<T>::NotActive);
			let eligible = T::Validators::voters()
				.into_iter()
				.any(|v| v.who == trainer && v.stake >= t.spec.trainers.min_stake && v.reputation >= t.spec.trainers.min_reputation);
			ensure!(eligible, Error::<T>::NotEligible);
			ensure!(parent == t.current.map(|c| c.hash).unwrap_or_default(), Error::<T>::WrongParent);
			ensure!(new_hash != parent && new_hash != H256::zero(), Error::<T>::UnchangedModel);
			let mut round = Rounds::<T>::get(task, t.round).unwrap_or_default();
			ensure!(!round.trainers.contains(&trainer), Error::<T>::AlreadySubmitted);
			ensure!(!ClaimedPayloads::<T>::contains_key(task, (&trainer, new_hash)), Error::<T>::PayloadAlreadyClaimed);
			round.trainers.try_push(trainer.clone()).map_err(|_| Error::<T>::RoundFull)?;
			round.pending = round.pending.saturating_add(1);
			let claim = T::Claims::open_claim(ClaimRequest {
				class: ClaimClass::ModelUpdate,
				claimant: trainer.clone(),
				subject: Self::task_subject(task),
				commitment: BlakeTwo256::hash_of(&(task, parent, new_hash, sealed_metric)),
				// Sealed: no voter can copy the claimed metric instead of scoring the model.
				claimed_score: None,
				sealed_score: Some(sealed_metric),
				// An update no better than its parent earns its trainer no reputation either.
				must_beat: t.current.map(|c| ScoreBound { score: c.metric, higher_is_better: t.spec.metric.higher_is_better() }),
				thresholds: None,
				// The builder keeps the bounty of every update rejected.
				conflicted: alloc::vec![t.builder.clone()],
				// The round's earlier trainers judge this update only where nobody else can;
				// later ones leave this claim's electorate when they submit (below). Either
				// way a rival gains nothing by a false verdict: each accepted update is paid
				// its own slot of the round's budget (`pay_round`).
				rivals: round.trainers.iter().filter(|r| **r != trainer).cloned().collect(),
			})?;
			let mut claims = RoundClaims::<T>::get(task, t.round);
			for earlier in claims.iter() {
				T::Claims::exclude_rival(*earlier, &trainer);
			}
			// Cannot fail: one claim per trainer, and the trainers fit.
			claims.try_push(claim).map_err(|_| Error::<T>::RoundFull)?;
			RoundClaims::<T>::insert(task, t.round, claims);
			Rounds::<T>::insert(task, t.round, round);
			ClaimedPayloads::<T>::insert(task, (trainer.clone(), new_hash), ());
			let parent_metric = t.current.map(|c| c.metric);
			UpdateClaims::<T>::insert(claim, UpdateClaim { task, round: t.round, trainer: trainer.clone(), parent, new_hash, parent_metric });
			Self::deposit_event(Event::UpdateSubmitted { task, round: t.round, trainer, claim, new_hash, sealed_metric });
			Ok(claim)
		})
	}

	/// Closes the rounds due at `now`: marks each ended (paying it if nothing is pending), then
	/// ends the task or starts its next round.
	pub(crate) fn close_rounds(now: BlockNumberFor<T>) -> Weight {
		let due = RoundEnds::<T>::take(now);
		let n = due.len() as u32;
		for task in due {
			let Some(mut t) = Tasks::<T>::get(task) else { continue };
			if t.status.has_ended() || t.round_end != Some(now) {
				continue;
			}
			t.round_end = None;
			Self::mark_round_ended(task, &mut t);
			let reached = t.current.is_some_and(|c| t.spec.metric.reaches(c.metric, t.spec.target));
			let last = t.round.saturating_add(1) >= t.spec.max_rounds;
			let reason = if reached {
				Some(EndReason::TargetReached)
			} else if last {
				Some(EndReason::MaxRounds)
			} else if now.saturating_add(T::MinRoundLength::get()) > t.spec.deadline {
				Some(EndReason::Deadline)
			} else {
				None
			};
			match reason {
				Some(reason) => Self::end(task, t, reason),
				None if t.status == TaskStatus::Paused => Tasks::<T>::insert(task, t),
				None => Self::start_next_round(task, t),
			}
		}
		T::WeightInfo::close_rounds(n)
	}

	fn start_next_round(task: TaskId, mut t: TaskOf<T>) {
		match Self::schedule_round_end(task, &t.spec) {
			Ok(round_end) => {
				let round = t.round.saturating_add(1);
				t.round = round;
				t.round_end = Some(round_end);
				Tasks::<T>::insert(task, t);
				Self::deposit_event(Event::RoundStarted { task, round, round_end });
			},
			// Every block for 16 blocks is full of round ends: pause; the builder resumes.
			Err(_) => {
				t.status = TaskStatus::Paused;
				t.round_end = None;
				Tasks::<T>::insert(task, t);
				Self::deposit_event(Event::TaskPaused { task });
			},
		}
	}

	/// Marks the task's round ended and pays it if no update is pending.
	fn mark_round_ended(task: TaskId, t: &mut TaskOf<T>) {
		let round = t.round;
		let Some(mut state) = Rounds::<T>::get(task, round) else { return };
		state.ended = true;
		if state.pending == 0 {
			Rounds::<T>::remove(task, round);
			RoundClaims::<T>::remove(task, round);
			Self::pay_round(task, round, t, &state);
		} else {
			t.unpaid_rounds = t.unpaid_rounds.saturating_add(1);
			Rounds::<T>::insert(task, round, state);
		}
	}

	/// Pays a round's budget (bounty left / rounds left, this one included) in equal slots, one
	/// per update submitted in the round: each accepted, improving update is paid its slot; the
	/// slots of the others stay in the bounty. A trainer's pay does not depend on its rivals'
	/// verdicts, so a rival voting on its claim gains nothing by voting it down (rival trainers
	/// are not known when a claim opens, so they cannot be left out of its electorate).
	/// Rounding dust stays in the bounty.
	fn pay_round(task: TaskId, round: u32, t: &mut TaskOf<T>, state: &RoundOf<T>) {
		if t.status == TaskStatus::Ended || state.accepted.is_empty() {
			return;
		}
		let rounds_left = t.spec.max_rounds.saturating_sub(round).max(1);
		let left: u128 = t.bounty_left.unique_saturated_into();
		let budget = left / rounds_left as u128;
		let submitted = state.trainers.len().max(state.accepted.len()).max(1) as u128;
		let slot = budget / submitted;
		if slot == 0 {
			return;
		}
		let mut paid = BalanceOf::<T>::zero();
		for update in state.accepted.iter() {
			let amount: BalanceOf<T> = slot.unique_saturated_into();
			if amount.is_zero() {
				continue;
			}
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::Bounty.into(),
				&t.builder,
				&update.trainer,
				amount,
				TokenPrecision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_default();
			paid = paid.saturating_add(moved);
			Self::deposit_event(Event::TrainerPaid { task, round, trainer: update.trainer.clone(), amount: moved });
		}
		t.bounty_left = t.bounty_left.saturating_sub(paid);
		Self::deposit_event(Event::RoundPaid { task, round, paid, updates: state.accepted.len() as u32 });
	}

	/// Ends a task: cuts a running round short, then releases the bounty left and the deposit,
	/// or, while updates are in voting, waits for them ([`TaskStatus::Finishing`]).
	pub(crate) fn end(task: TaskId, mut t: TaskOf<T>, reason: EndReason) {
		if let Some(at) = t.round_end.take() {
			agenda::unschedule::<RoundEnds<T>, _, _, _>(at, &task);
			Self::mark_round_ended(task, &mut t);
		}
		if t.unpaid_rounds > 0 {
			t.status = TaskStatus::Finishing(reason);
			let unpaid_rounds = t.unpaid_rounds;
			Tasks::<T>::insert(task, t);
			Self::deposit_event(Event::TaskFinishing { task, reason, unpaid_rounds });
		} else {
			Self::release_all(task, t, reason);
		}
	}

	/// Releases a finished task's bounty left and deposit; the task is [`TaskStatus::Ended`].
	fn release_all(task: TaskId, mut t: TaskOf<T>, reason: EndReason) {
		let bounty = T::Currency::release(&HoldReason::Bounty.into(), &t.builder, t.bounty_left, TokenPrecision::BestEffort).unwrap_or_default();
		let deposit = T::Currency::release(&HoldReason::TaskDeposit.into(), &t.builder, t.deposit, TokenPrecision::BestEffort).unwrap_or_default();
		t.bounty_left = Zero::zero();
		t.deposit = Zero::zero();
		t.status = TaskStatus::Ended;
		Tasks::<T>::insert(task, t);
		LiveTasks::<T>::mutate(|n| *n = n.saturating_sub(1));
		Self::deposit_event(Event::TaskEnded { task, reason, refunded: bounty.saturating_add(deposit) });
	}

	/// Lists a version in the data market.
	pub fn do_list(
		seller: T::AccountId,
		task: TaskId,
		version: u32,
		price: BalanceOf<T>,
		quantity: u32,
		expires: BlockNumberFor<T>,
	) -> Result<u64, DispatchError> {
		let t = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		let v = Versions::<T>::get(task, version).ok_or(Error::<T>::UnknownVersion)?;
		ensure!(seller == t.builder || v.contributors.contains(&seller), Error::<T>::NotHolder);
		let params = t.spec.architecture.num_params();
		let size = match t.spec.precision {
			Precision::F32 => params.saturating_mul(4),
			Precision::Int8 => params,
			Precision::Int4 => params.div_ceil(2),
		};
		let listing = ModelListing { model_hash: v.hash, size, architecture: BlakeTwo256::hash_of(&t.spec.architecture), price, quantity, expires };
		let order = T::Market::list_model(seller.clone(), &Self::version_tag(task, version), listing)?;
		Self::deposit_event(Event::VersionListed { task, version, seller, order });
		Ok(order)
	}

	/// Records a decided update: an accepted one joins its round (and may become the new
	/// version); the round is paid once it has ended and nothing is pending. Returns the weight
	/// of the branch taken.
	fn on_update_decided(claim: ClaimId, decision: &Decision) -> Weight {
		let recorded = T::WeightInfo::update_recorded();
		let Some(update) = UpdateClaims::<T>::take(claim) else { return recorded };
		let task = update.task;
		let verified = decision.score;
		Self::deposit_event(Event::UpdateDecided { task, claim, outcome: decision.outcome, verified });
		let Some(mut t) = Tasks::<T>::get(task) else { return recorded };
		let Some(mut round) = Rounds::<T>::get(task, update.round) else { return recorded };
		round.pending = round.pending.saturating_sub(1);
		// Score mode: an accepted claim always carries the voters' median.
		let metric = verified.unwrap_or_default();
		let improving = verified.is_some() && update.parent_metric.is_none_or(|p| t.spec.metric.better(metric, p));
		if decision.outcome == Outcome::Accepted && !improving {
			let parent_metric = update.parent_metric.unwrap_or_default();
			Self::deposit_event(Event::UpdateNotImproving { task, claim, verified: metric, parent_metric });
		}
		if decision.outcome == Outcome::Accepted && improving && t.status != TaskStatus::Ended {
			// Cannot fail: at most one accepted update per submitted one.
			let _ = round.accepted.try_push(AcceptedUpdate { trainer: update.trainer.clone(), metric });
			T::Contributions::note(&update.trainer, ContributionCategory::Learning, T::LearningPoints::get());
			let improves = t.current.is_none_or(|c| t.spec.metric.better(metric, c.metric));
			if improves {
				let number = t.current.map_or(1, |c| c.number.saturating_add(1));
				let contributors = BoundedVec::truncate_from(round.accepted.iter().map(|u| u.trainer.clone()).collect());
				let count = contributors.len() as u32;
				Versions::<T>::insert(
					task,
					number,
					VersionInfo {
						hash: update.new_hash,
						parent: update.parent,
						metric,
						contributors,
						accepted_at: frame_system::Pallet::<T>::block_number(),
					},
				);
				t.current = Some(CurrentVersion { number, hash: update.new_hash, metric });
				T::Contributions::note(&t.builder, ContributionCategory::Building, T::BuildingPoints::get());
				Self::deposit_event(Event::VersionAccepted { task, version: number, hash: update.new_hash, metric, contributors: count });
			}
		}
		if round.ended && round.pending == 0 {
			Rounds::<T>::remove(task, update.round);
			RoundClaims::<T>::remove(task, update.round);
			Self::pay_round(task, update.round, &mut t, &round);
			t.unpaid_rounds = t.unpaid_rounds.saturating_sub(1);
			if let TaskStatus::Finishing(reason) = t.status {
				if t.unpaid_rounds == 0 {
					Self::release_all(task, t, reason);
					return T::WeightInfo::update_decided();
				}
			}
			Tasks::<T>::insert(task, t);
			return T::WeightInfo::update_decided();
		}
		Rounds::<T>::insert(task, update.round, round);
		Tasks::<T>::insert(task, t);
		recorded
	}
}

impl<T: Config> ClaimOutcome<T::AccountId> for Pallet<T> {
	fn on_claim_decided(id: ClaimId, class: ClaimClass, _: &T::AccountId, _: &H256, decision: &Decision) -> Weight {
		if class != ClaimClass::ModelUpdate {
			return Weight::zero();
		}
		// Most updates are only recorded; the last of an ended round pays the round.
		Self::on_update_decided(id, decision)
	}

	fn weight_bound(class: ClaimClass) -> Weight {
		if class != ClaimClass::ModelUpdate {
			return Weight::zero();
		}
		T::WeightInfo::update_decided()
	}
}
