//! Benchmarks of every call and hook, each in its costliest case: the largest architecture to
//! validate, claims opened with the largest electorate (set up by the runtime's helper), a
//! decision that makes a version and pays a full round, and `n` rounds closing in one block.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get, Hooks};
use frame_system::RawOrigin;
use loopx_model_spec::{Modes, TtLayer, MAX_LAYERS, MAX_MODES};
use loopx_primitives::{ClaimClass, ClaimOutcome, Decision, Outcome};
use sp_runtime::traits::Saturating;

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	T::Currency::set_balance(&who, bounty::<T>().saturating_mul(1_000u32.into()));
	who
}

fn bounty<T: Config>() -> BalanceOf<T> {
	T::MinBounty::get().saturating_add(T::TaskDeposit::get()).saturating_mul(100u32.into())
}

/// `MAX_LAYERS` layers of `MAX_MODES` modes each: the most work `validate` can do.
fn largest_architecture() -> Architecture {
	let modes = |first: u32| {
		let mut m = alloc::vec![1u32; MAX_MODES as usize];
		m[0] = first;
		Modes::truncate_from(m)
	};
	let layers = (0..MAX_LAYERS)
		.map(|i| TtLayer { out_modes: modes(if i + 1 == MAX_LAYERS { 1 } else { 2 }), in_modes: modes(2), rank: 2 })
		.collect::<alloc::vec::Vec<_>>();
	Architecture::Classifier { layers: BoundedVec::truncate_from(layers) }
}

fn spec<T: Config>() -> TaskSpecOf<T> {
	let now = frame_system::Pallet::<T>::block_number();
	TaskSpec {
		architecture: largest_architecture(),
		precision: Precision::Int8,
		metric: Metric::Auc,
		target: 1_000_000,
		eval_set: H256::repeat_byte(7),
		hyper: HyperParams { learning_rate_ppm: 10_000, batch_size: 64, local_steps: 20, seed: 42 },
		round_length: T::MinRoundLength::get(),
		bounty: bounty::<T>(),
		trainers: Thresholds::default(),
		max_rounds: T::MaxRounds::get(),
		deadline: now.saturating_add(T::MaxRoundLength::get().saturating_mul(1_000u32.into())),
	}
}

fn deployed<T: Config>(i: u32) -> (TaskId, T::AccountId) {
	let builder = funded::<T>("builder", i);
	let task = Pallet::<T>::do_deploy(builder.clone(), spec::<T>()).expect("valid spec");
	(task, builder)
}

/// A task whose round 0 has `MaxUpdatesPerRound` updates, all accepted (each a better version)
/// but the last, which is still in voting; returns the task, its builder and the pending claim.
/// A hash whose last eight bytes are `x` (`H256::from_low_u64_be` is not in `no_std`).
fn low_hash(x: u64) -> H256 {
	let mut h = [0u8; 32];
	h[24..].copy_from_slice(&x.to_be_bytes());
	H256(h)
}

fn round_with_one_pending<T: Config>(i: u32) -> (TaskId, T::AccountId, ClaimId) {
	let (task, builder) = deployed::<T>(i);
	let n = T::MaxUpdatesPerRound::get();
	let claims = (0..n)
		.map(|k| {
			let trainer = T::BenchmarkHelper::trainer(k);
			Pallet::<T>::do_submit(trainer, task, H256::zero(), H256::repeat_byte(k as u8 + 1), low_hash(500_000 + u64::from(k))).expect("eligible")
		})
		.collect::<alloc::vec::Vec<_>>();
	for (k, claim) in claims.iter().enumerate().take(n as usize - 1) {
		let decision = Decision { outcome: Outcome::Accepted, score: Some(500_000 + k as u32), revealed_weight: 1, agreeing_weight: 1 };
		Pallet::<T>::on_claim_decided(*claim, ClaimClass::ModelUpdate, &builder, &H256::zero(), &decision);
	}
	(task, builder, claims[n as usize - 1])
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn deploy_model() {
		let builder = funded::<T>("builder", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(builder), spec::<T>());
		assert!(Tasks::<T>::contains_key(0));
	}

	#[benchmark]
	fn top_up() {
		let (task, builder) = deployed::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(builder), task, T::MinBounty::get());
		assert!(Tasks::<T>::get(task).is_some_and(|t| t.bounty_left > bounty::<T>()));
	}

	#[benchmark]
	fn pause() {
		let (task, builder) = deployed::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(builder), task);
		assert!(Tasks::<T>::get(task).is_some_and(|t| t.status == TaskStatus::Paused));
	}

	/// Resuming after the round closed: schedules a new round.
	#[benchmark]
	fn resume() {
		let (task, builder) = deployed::<T>(0);
		Pallet::<T>::pause(RawOrigin::Signed(builder.clone()).into(), task).expect("active");
		let end = Tasks::<T>::get(task).and_then(|t| t.round_end).expect("scheduled");
		frame_system::Pallet::<T>::set_block_number(end);
		Pallet::<T>::on_initialize(end);
		#[extrinsic_call]
		_(RawOrigin::Signed(builder), task);
		assert!(Tasks::<T>::get(task).is_some_and(|t| t.round == 1 && t.round_end.is_some()));
	}

	/// Cutting a round with `MaxUpdatesPerRound - 1` accepted updates: pays them, then releases.
	#[benchmark]
	fn end_task() {
		let (task, builder, claim) = round_with_one_pending::<T>(0);
		let decision = Decision { outcome: Outcome::Rejected, score: None, revealed_weight: 1, agreeing_weight: 1 };
		Pallet::<T>::on_claim_decided(claim, ClaimClass::ModelUpdate, &builder, &H256::zero(), &decision);
		#[extrinsic_call]
		_(RawOrigin::Signed(builder), task);
		assert!(Tasks::<T>::get(task).is_some_and(|t| t.status == TaskStatus::Ended));
	}

	/// The last update of a full round: every earlier trainer is its rival, and it leaves
	/// every earlier claim's electorate.
	#[benchmark]
	fn submit_update() {
		let (task, _) = deployed::<T>(0);
		let n = T::MaxUpdatesPerRound::get();
		for k in 1..n {
			let trainer = T::BenchmarkHelper::trainer(k);
			Pallet::<T>::do_submit(trainer, task, H256::zero(), H256::repeat_byte(k as u8 + 1), low_hash(u64::from(k))).expect("eligible");
		}
		let trainer = T::BenchmarkHelper::trainer(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(trainer), task, H256::zero(), H256::repeat_byte(0xff), H256::repeat_byte(2));
		assert_eq!(UpdateClaims::<T>::iter().count(), n as usize);
	}

	#[benchmark]
	fn list_version() {
		let (task, builder, claim) = round_with_one_pending::<T>(0);
		let decision = Decision { outcome: Outcome::Accepted, score: Some(900_000), revealed_weight: 1, agreeing_weight: 1 };
		Pallet::<T>::on_claim_decided(claim, ClaimClass::ModelUpdate, &builder, &H256::zero(), &decision);
		let seller = T::BenchmarkHelper::trainer(T::MaxUpdatesPerRound::get() - 1);
		let version = Tasks::<T>::get(task).and_then(|t| t.current).map(|c| c.number).expect("a version");
		let expires = frame_system::Pallet::<T>::block_number().saturating_add(10u32.into());
		#[extrinsic_call]
		_(RawOrigin::Signed(seller), task, version, T::MinBounty::get(), 1, expires);
		assert!(frame_system::Pallet::<T>::events().len() > 1);
	}

	/// A pending update of a round still open is accepted and improves the task: a new
	/// version, the round written back, nothing paid yet (what most decided updates do).
	#[benchmark]
	fn update_recorded() {
		let (task, builder, claim) = round_with_one_pending::<T>(0);
		let decision = Decision { outcome: Outcome::Accepted, score: Some(900_000), revealed_weight: 1, agreeing_weight: 1 };
		#[block]
		{
			Pallet::<T>::on_claim_decided(claim, ClaimClass::ModelUpdate, &builder, &H256::zero(), &decision);
		}
		assert!(Versions::<T>::contains_key(task, T::MaxUpdatesPerRound::get()));
		assert!(Rounds::<T>::get(task, 0).is_some_and(|r| r.pending == 0 && !r.ended));
	}

	/// The last pending update of an ended round is accepted: a new version and a full payout.
	#[benchmark]
	fn update_decided() {
		let (task, builder, claim) = round_with_one_pending::<T>(0);
		Rounds::<T>::mutate(task, 0, |r| {
			if let Some(r) = r {
				r.ended = true;
			}
		});
		let decision = Decision { outcome: Outcome::Accepted, score: Some(900_000), revealed_weight: 1, agreeing_weight: 1 };
		#[block]
		{
			Pallet::<T>::on_claim_decided(claim, ClaimClass::ModelUpdate, &builder, &H256::zero(), &decision);
		}
		assert!(Versions::<T>::contains_key(task, T::MaxUpdatesPerRound::get()));
		assert!(!Rounds::<T>::contains_key(task, 0));
	}

	/// `n` rounds closing at one block, each paying `MaxUpdatesPerRound` accepted updates.
	#[benchmark]
	fn close_rounds(n: Linear<0, { T::MaxRoundEndsPerBlock::get() }>) {
		let mut tasks = alloc::vec::Vec::new();
		for i in 0..n {
			let (task, _, claim) = round_with_one_pending::<T>(i);
			let decision = Decision { outcome: Outcome::Accepted, score: Some(900_000), revealed_weight: 1, agreeing_weight: 1 };
			let builder = Tasks::<T>::get(task).map(|t| t.builder).expect("deployed");
			Pallet::<T>::on_claim_decided(claim, ClaimClass::ModelUpdate, &builder, &H256::zero(), &decision);
			tasks.push(task);
		}
		let end = frame_system::Pallet::<T>::block_number().saturating_add(T::MinRoundLength::get());
		frame_system::Pallet::<T>::set_block_number(end);
		#[block]
		{
			Pallet::<T>::on_initialize(end);
		}
		for task in tasks {
			assert!(Tasks::<T>::get(task).is_some_and(|t| t.round == 1));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
