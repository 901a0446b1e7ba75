//! # Builder market
//!
//! Builders deploy models as learning tasks; validators train them and prove each round's
//! update to each other in the weighted vote; accepted updates advance the task's model version
//! and share the bounty; holders of an accepted version sell it through the data market's
//! order/escrow/delivery engine.
//!
//! ## Tasks
//!
//! [`Pallet::deploy_model`] takes a [`TaskSpec`]: the architecture (task kind, input
//! dimensions, TT shapes and ranks: [`loopx_model_spec::Architecture`], the type `ml-kernels`
//! builds a model from, checked by the same `validate`), precision, metric and target, a
//! commitment to the evaluation set, hyper-parameters, round length, bounty, trainer thresholds,
//! and the most rounds and a deadline. It holds the bounty and [`Config::TaskDeposit`]. The
//! builder can [`Pallet::top_up`], [`Pallet::pause`], [`Pallet::resume`] and [`Pallet::end_task`];
//! the unspent bounty and the deposit come back when the task ends (by the builder, after the
//! last round, at the deadline, or at the end of the round that reached the target).
//!
//! ## Rounds
//!
//! A round lasts `round_length` blocks. An eligible validator (stake and reputation at least the
//! task's trainer thresholds) submits one update per round with [`Pallet::submit_update`]:
//! parent hash (the current version), new hash and a seal on its claimed metric (no
//! commitment to the training data: the data is private, so nobody could check one). That
//! opens a `ModelUpdate` claim in weighted voting (score mode: voters evaluate the model on the
//! evaluation set and reveal the metric; the trainer then reveals the metric it sealed; the
//! claim is accepted when the voters' stake-weighted median is within the class tolerance of
//! it). Rejected claims are
//! slashed by the vote. An accepted claim whose verified metric beats the current version makes
//! a new version (hash, metric, the round's accepted trainers as contributors).
//!
//! An update must be new work: its hash is neither zero nor its parent, no trainer claims a
//! payload twice for a task ([`ClaimedPayloads`]), and the payload must be the claimant's own:
//! a task model's payload names the account that made it, and voters score one made by anyone
//! else as nothing, so a copy of a known version or of a rival's update is rejected.
//! An accepted update is paid only if its *verified* metric beats the metric of the version it
//! started from; otherwise an unchanged model claimed a little better than its parent — which
//! voters measure at the parent's metric, within the class tolerance of the claim — would be
//! paid for nothing ([`Event::UpdateNotImproving`]).
//!
//! The trainers of a round are each other's rivals: a claim names the round's earlier trainers
//! (`ClaimRequest::rivals`), and a trainer that submits later leaves the electorates of the
//! earlier claims ([`RoundClaims`], `ClaimRegistry::exclude_rival`), in both cases only while
//! enough other validators are left to decide.
//!
//! When a round has ended and all its claims are decided, its budget (the bounty left divided
//! by the rounds left) is cut into equal slots, one per update submitted in the round, and each
//! accepted, improving update is paid its slot; the slots of rejected or non-improving updates
//! stay in the bounty. A trainer's pay never depends on its rivals' verdicts, so a rival that
//! votes on its claim gains nothing by voting it down or scoring it low. A task that ends (by its
//! builder, too) with updates still in voting is `Finishing`: they are decided and paid as
//! usual, then the rest of the bounty and the deposit go back.
//!
//! ## Sales
//!
//! The builder or a contributor of an accepted version lists copies of it with
//! [`Pallet::list_version`]: an offer of a trained model in the data market's book
//! `model/<task>/<version>`, bought, delivered, confirmed or disputed like data.
//!
//! Not built (optional in the issue): the metamodel (a stake-weighted ensemble of models).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod migrations;
mod rounds;
pub mod runtime_api;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;

pub use loopx_model_spec::{Architecture, Precision};
pub use pallet::*;
pub use weights::WeightInfo;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, traits::fungible};
use frame_system::pallet_prelude::*;
use loopx_primitives::{ClaimId, Thresholds};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};

/// Identifies a task (defined once, in `loopx-primitives`).
pub use loopx_primitives::TaskId;

/// The balance type of the currency.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A task as stored.
pub type TaskOf<T> = Task<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
/// A task spec with the runtime's types.
pub type TaskSpecOf<T> = TaskSpec<BalanceOf<T>, BlockNumberFor<T>>;
/// A round as stored.
pub type RoundOf<T> = RoundState<<T as frame_system::Config>::AccountId, <T as Config>::MaxUpdatesPerRound>;
/// A version as stored.
pub type VersionOf<T> = VersionInfo<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, <T as Config>::MaxUpdatesPerRound>;

/// The evaluation metric of a task, in parts per million.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Metric {
	/// Area under the ROC curve (higher is better, at most 10⁶).
	#[codec(index = 0)]
	Auc,
	/// Accuracy (higher is better, at most 10⁶).
	#[codec(index = 1)]
	Accuracy,
	/// Root mean squared error (lower is better).
	#[codec(index = 2)]
	Rmse,
	/// Log-loss (lower is better).
	#[codec(index = 3)]
	LogLoss,
}

impl Metric {
	/// Whether a larger value is a better model.
	pub fn higher_is_better(self) -> bool {
		matches!(self, Self::Auc | Self::Accuracy)
	}

	/// Whether `a` is a strictly better value than `b`.
	pub fn better(self, a: u32, b: u32) -> bool {
		if self.higher_is_better() {
			a > b
		} else {
			a < b
		}
	}

	/// Whether `value` reaches `target`.
	pub fn reaches(self, value: u32, target: u32) -> bool {
		value == target || self.better(value, target)
	}
}

/// Training hyper-parameters the workers use.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct HyperParams {
	/// Learning rate, in parts per million.
	pub learning_rate_ppm: u32,
	/// Mini-batch size (non-zero).
	pub batch_size: u32,
	/// Local optimisation steps per round (non-zero).
	pub local_steps: u32,
	/// Seed of the model's initialisation.
	pub seed: u64,
}

/// What a builder deploys.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct TaskSpec<Balance, BlockNumber> {
	/// The model to train.
	pub architecture: Architecture,
	/// Precision of the parameters on the wire.
	pub precision: Precision,
	/// How models are scored.
	pub metric: Metric,
	/// The metric at which the task is done.
	pub target: u32,
	/// Hash of the evaluation set validators score models on.
	pub eval_set: H256,
	/// Training hyper-parameters.
	pub hyper: HyperParams,
	/// Blocks per round.
	pub round_length: BlockNumber,
	/// The bounty, held from the builder.
	pub bounty: Balance,
	/// Least stake and reputation of a trainer.
	pub trainers: Thresholds,
	/// Most rounds.
	pub max_rounds: u32,
	/// Block after which no round starts.
	pub deadline: BlockNumber,
}

/// Whether a task runs.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum TaskStatus {
	/// Rounds run and updates are accepted.
	Active,
	/// No updates are accepted; the round in progress ends as scheduled, the next starts on
	/// [`Pallet::resume`].
	Paused,
	/// Ended, waiting for the verdicts on its last updates (they are paid as usual); then
	/// [`TaskStatus::Ended`].
	Finishing(EndReason),
	/// Done; the bounty left and the deposit went back. The record stays for its versions.
	Ended,
}

impl TaskStatus {
	/// Whether the task has ended (finishing or done).
	pub fn has_ended(self) -> bool {
		matches!(self, Self::Finishing(_) | Self::Ended)
	}
}

/// Why a task ended.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum EndReason {
	/// The builder ended it.
	Builder,
	/// Its last round closed.
	MaxRounds,
	/// Its deadline passed.
	Deadline,
	/// A version reached the target.
	TargetReached,
}

/// The version a task is at.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct CurrentVersion {
	/// Its number (1 for the first accepted model).
	pub number: u32,
	/// Hash of its parameters.
	pub hash: H256,
	/// Its verified metric.
	pub metric: u32,
}

/// A learning task.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Task<AccountId, Balance, BlockNumber> {
	/// Who deployed it.
	pub builder: AccountId,
	/// What it trains.
	pub spec: TaskSpec<Balance, BlockNumber>,
	/// Running, paused or ended.
	pub status: TaskStatus,
	/// Bounty still held.
	pub bounty_left: Balance,
	/// Storage deposit held.
	pub deposit: Balance,
	/// The round in progress (0-based), or the last one.
	pub round: u32,
	/// When it ends (the block its close is scheduled at); `None` while paused between rounds
	/// and once the task ended.
	pub round_end: Option<BlockNumber>,
	/// Ended rounds with updates still in voting.
	pub unpaid_rounds: u32,
	/// The current version, once one was accepted.
	pub current: Option<CurrentVersion>,
}

/// An accepted version.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(MaxUpdates))]
pub struct VersionInfo<AccountId, BlockNumber, MaxUpdates: Get<u32>> {
	/// Hash of its parameters.
	pub hash: H256,
	/// The version it improves on (zero for the first).
	pub parent: H256,
	/// Its verified metric.
	pub metric: u32,
	/// The round's accepted trainers when it was accepted (its holders, with the builder).
	pub contributors: BoundedVec<AccountId, MaxUpdates>,
	/// When.
	pub accepted_at: BlockNumber,
}

/// An accepted update and its payout weight.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct AcceptedUpdate<AccountId> {
	/// Its trainer.
	pub trainer: AccountId,
	/// Its verified metric.
	pub metric: u32,
}

/// A round's updates.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen, frame_support::DefaultNoBound)]
#[scale_info(skip_type_params(MaxUpdates))]
pub struct RoundState<AccountId, MaxUpdates: Get<u32>> {
	/// Who submitted (one update each).
	pub trainers: BoundedVec<AccountId, MaxUpdates>,
	/// Updates still in voting.
	pub pending: u32,
	/// Accepted updates.
	pub accepted: BoundedVec<AcceptedUpdate<AccountId>, MaxUpdates>,
	/// Whether the round's time is over (it is paid when nothing is pending).
	pub ended: bool,
}

/// An update in voting.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct UpdateClaim<AccountId> {
	/// Its task.
	pub task: TaskId,
	/// Its round.
	pub round: u32,
	/// Who trained.
	pub trainer: AccountId,
	/// The version it starts from.
	pub parent: H256,
	/// The new model.
	pub new_hash: H256,
	/// The metric of the version it starts from (`None` before the first version): an
	/// accepted update is paid only if its verified metric beats this.
	pub parent_metric: Option<u32>,
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// The `i`-th eligible trainer (a validator with an encryption key in the data market),
	/// with update claims as costly to open as they can be.
	fn trainer(i: u32) -> AccountId;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::traits::fungible::{Mutate, MutateHold};
	use loopx_primitives::{ClaimRegistry, ContributionSink, ModelMarket, VoterSet};

	/// v1: [`UpdateClaim::parent_metric`], claimed payloads and [`LiveTasks`]
	/// ([`crate::migrations::v1`]); v2: sealed metrics, [`ClaimedPayloads`] by trainer
	/// ([`crate::migrations::v2`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A task's bounty.
		Bounty,
		/// A task's storage deposit.
		TaskDeposit,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native currency; bounties and deposits are holds on it.
		type Currency: Mutate<Self::AccountId> + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The validators with their stake and reputation (trainer eligibility).
		type Validators: VoterSet<Self::AccountId>;

		/// Opens update claims in the weighted vote.
		type Claims: ClaimRegistry<Self::AccountId>;

		/// Records learning and building points.
		type Contributions: ContributionSink<Self::AccountId>;

		/// The data market's engine, where versions are sold.
		type Market: ModelMarket<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// Most tasks live (not ended) at once. Ended tasks keep their record, so that their
		/// versions are still sold, and do not count: deploying and ending tasks cannot close
		/// the market.
		#[pallet::constant]
		type MaxLiveTasks: Get<u32>;

		/// Most rounds a task may ask for.
		#[pallet::constant]
		type MaxRounds: Get<u32>;

		/// Largest training batch a task may ask for.
		#[pallet::constant]
		type MaxBatchSize: Get<u32>;

		/// Most local training steps a round may ask of each trainer.
		#[pallet::constant]
		type MaxLocalSteps: Get<u32>;

		/// Largest model payload (`Architecture::payload_bytes` in the task's precision): what
		/// every validator fetches, stores and serves for each version. No larger than the
		/// workers' payload limit, so every model the chain accepts can travel.
		#[pallet::constant]
		type MaxModelBytes: Get<u64>;

		/// Most training work a round may ask of a trainer, in parameter-samples (parameters ×
		/// batch size × local steps): a proxy of its CPU time, so that no task makes every
		/// validator train for long on each round.
		#[pallet::constant]
		type MaxTrainingWork: Get<u64>;

		/// Shortest round.
		#[pallet::constant]
		type MinRoundLength: Get<BlockNumberFor<Self>>;

		/// Longest round.
		#[pallet::constant]
		type MaxRoundLength: Get<BlockNumberFor<Self>>;

		/// Most updates per round (and contributors per version).
		#[pallet::constant]
		type MaxUpdatesPerRound: Get<u32>;

		/// Most rounds closing at one block.
		#[pallet::constant]
		type MaxRoundEndsPerBlock: Get<u32>;

		/// Smallest bounty.
		#[pallet::constant]
		type MinBounty: Get<BalanceOf<Self>>;

		/// What a task holds for its storage while it runs.
		#[pallet::constant]
		type TaskDeposit: Get<BalanceOf<Self>>;

		/// Learning points per accepted update.
		#[pallet::constant]
		type LearningPoints: Get<u64>;

		/// Building points to the builder per accepted version.
		#[pallet::constant]
		type BuildingPoints: Get<u64>;

		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;

		/// Sets up what the benchmarks need from other pallets.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The id of the next task.
	#[pallet::storage]
	pub type NextTaskId<T> = StorageValue<_, TaskId, ValueQuery>;

	/// Every task deployed.
	#[pallet::storage]
	pub type Tasks<T: Config> = StorageMap<_, Twox64Concat, TaskId, TaskOf<T>>;

	/// How many tasks have not ended (at most [`Config::MaxLiveTasks`]).
	#[pallet::storage]
	pub type LiveTasks<T> = StorageValue<_, u32, ValueQuery>;

	/// Accepted versions: (task, number) → version.
	#[pallet::storage]
	pub type Versions<T: Config> = StorageDoubleMap<_, Twox64Concat, TaskId, Twox64Concat, u32, VersionOf<T>>;

	/// Rounds not yet paid: (task, round) → its updates.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageDoubleMap<_, Twox64Concat, TaskId, Twox64Concat, u32, RoundOf<T>>;

	/// The claims of a round's updates, in submission order: a trainer that submits later
	/// leaves the electorates of its rivals' earlier claims (`ClaimRegistry::exclude_rival`).
	/// Removed with the round.
	#[pallet::storage]
	pub type RoundClaims<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TaskId, Twox64Concat, u32, BoundedVec<ClaimId, T::MaxUpdatesPerRound>, ValueQuery>;

	/// Update claims in voting.
	#[pallet::storage]
	pub type UpdateClaims<T: Config> = StorageMap<_, Twox64Concat, ClaimId, UpdateClaim<T::AccountId>>;

	/// Every model payload each trainer ever claimed as an update of a task (task, (trainer,
	/// hash)): nobody claims its own payload twice. Keyed by trainer as well, because a hash is
	/// public once announced or in the pool: a rival that claimed an honest trainer's payload
	/// first must not lock the honest trainer out. The rival's claim fails in the vote instead:
	/// a task model's payload names the account that made it, and voters score a payload made
	/// by anyone but the claimant as nothing (so a copy of a version or of a rival's update is
	/// rejected and slashed).
	#[pallet::storage]
	pub type ClaimedPayloads<T: Config> = StorageDoubleMap<_, Twox64Concat, TaskId, Blake2_128Concat, (T::AccountId, H256), ()>;

	/// Tasks whose round closes at each block.
	#[pallet::storage]
	pub type RoundEnds<T: Config> = StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<TaskId, T::MaxRoundEndsPerBlock>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A task was deployed; its first round ends at `round_end`.
		TaskDeployed { task: TaskId, builder: T::AccountId, bounty: BalanceOf<T>, deposit: BalanceOf<T>, round_end: BlockNumberFor<T> },
		/// The builder added to the bounty.
		BountyToppedUp { task: TaskId, amount: BalanceOf<T>, bounty_left: BalanceOf<T> },
		/// The builder paused the task.
		TaskPaused { task: TaskId },
		/// The builder resumed the task; round `round` ends at `round_end`.
		TaskResumed { task: TaskId, round: u32, round_end: BlockNumberFor<T> },
		/// A round started.
		RoundStarted { task: TaskId, round: u32, round_end: BlockNumberFor<T> },
		/// A task ended with updates still in voting: they are decided and paid, then the task
		/// ends ([`Event::TaskEnded`]).
		TaskFinishing { task: TaskId, reason: EndReason, unpaid_rounds: u32 },
		/// A task ended; `refunded` (bounty left and deposit) went back to the builder.
		TaskEnded { task: TaskId, reason: EndReason, refunded: BalanceOf<T> },
		/// A trainer submitted an update, opened as claim `claim`.
		/// The claimed metric is sealed (`sealed_metric`); the trainer reveals it in the claim's
		/// reveal period (`weightedVoting.ClaimedScoreRevealed`).
		UpdateSubmitted { task: TaskId, round: u32, trainer: T::AccountId, claim: ClaimId, new_hash: H256, sealed_metric: H256 },
		/// The vote decided an update; `verified` is the voters' median metric.
		UpdateDecided { task: TaskId, claim: ClaimId, outcome: loopx_primitives::Outcome, verified: Option<u32> },
		/// An accepted update's verified metric does not beat the version it started from: it
		/// is not paid, earns no learning points and makes no version.
		UpdateNotImproving { task: TaskId, claim: ClaimId, verified: u32, parent_metric: u32 },
		/// An accepted update became the task's version `version`.
		VersionAccepted { task: TaskId, version: u32, hash: H256, metric: u32, contributors: u32 },
		/// A round's budget was paid to its `updates` accepted updates.
		RoundPaid { task: TaskId, round: u32, paid: BalanceOf<T>, updates: u32 },
		/// A trainer's share of a round's budget.
		TrainerPaid { task: TaskId, round: u32, trainer: T::AccountId, amount: BalanceOf<T> },
		/// A version was offered for sale in the data market.
		VersionListed { task: TaskId, version: u32, seller: T::AccountId, order: u64 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The architecture cannot be built (see `loopx_model_spec::SpecError`).
		InvalidArchitecture,
		/// A target above 10⁶ for a metric that cannot exceed it.
		InvalidTarget,
		/// Zero batch size or local steps.
		InvalidHyperParams,
		/// A round length outside [`Config::MinRoundLength`]..=[`Config::MaxRoundLength`].
		InvalidRoundLength,
		/// Zero rounds or more than [`Config::MaxRounds`].
		InvalidMaxRounds,
		/// The deadline is not after the first round.
		DeadlineTooSoon,
		/// A bounty below [`Config::MinBounty`].
		BountyTooLow,
		/// The builder cannot hold the bounty and the deposit.
		InsufficientBalance,
		/// [`Config::MaxLiveTasks`] tasks are live.
		TooManyTasks,
		/// No round end could be scheduled near the wanted block.
		TooManyRoundEnds,
		/// No such task.
		UnknownTask,
		/// Only the task's builder can do this.
		NotBuilder,
		/// The task is not active.
		NotActive,
		/// The task is not paused.
		NotPaused,
		/// The task has ended.
		TaskEnded,
		/// A zero amount.
		ZeroAmount,
		/// The caller is not a validator with the task's trainer stake and reputation.
		NotEligible,
		/// The parent is not the task's current version.
		WrongParent,
		/// The new hash is zero or the parent itself: an unchanged model is no update.
		UnchangedModel,
		/// The caller already claimed this payload as an update of the task.
		PayloadAlreadyClaimed,
		/// The caller already submitted an update this round.
		AlreadySubmitted,
		/// The round has [`Config::MaxUpdatesPerRound`] updates.
		RoundFull,
		/// No such version.
		UnknownVersion,
		/// Only the builder or a contributor of the version can sell it.
		NotHolder,
		/// A batch size above [`Config::MaxBatchSize`].
		BatchSizeTooLarge,
		/// More local steps than [`Config::MaxLocalSteps`].
		TooManyLocalSteps,
		/// The model's payload would exceed [`Config::MaxModelBytes`].
		ModelTooLarge,
		/// Parameters × batch size × local steps above [`Config::MaxTrainingWork`].
		TrainingTooHeavy,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::close_rounds(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(T::MinRoundLength::get() > Zero::zero(), "rounds must last at least a block");
			assert!(T::MinRoundLength::get() <= T::MaxRoundLength::get());
			assert!(T::MaxRounds::get() > 0 && T::MaxUpdatesPerRound::get() > 0);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Deploys a learning task: checks the spec, holds the bounty and
		/// [`Config::TaskDeposit`], starts round 0.
		///
		/// Emits [`Event::TaskDeployed`] and [`Event::RoundStarted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::deploy_model())]
		pub fn deploy_model(origin: OriginFor<T>, spec: TaskSpecOf<T>) -> DispatchResult {
			let builder = ensure_signed(origin)?;
			Self::do_deploy(builder, spec).map(|_| ())
		}

		/// Adds `amount` to a task's bounty (builder only, not after it ended).
		///
		/// Emits [`Event::BountyToppedUp`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::top_up())]
		pub fn top_up(origin: OriginFor<T>, task: TaskId, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			Tasks::<T>::try_mutate(task, |t| {
				let t = t.as_mut().ok_or(Error::<T>::UnknownTask)?;
				ensure!(t.builder == who, Error::<T>::NotBuilder);
				ensure!(!t.status.has_ended(), Error::<T>::TaskEnded);
				T::Currency::hold(&HoldReason::Bounty.into(), &who, amount).map_err(|_| Error::<T>::InsufficientBalance)?;
				t.bounty_left = t.bounty_left.saturating_add(amount);
				Self::deposit_event(Event::BountyToppedUp { task, amount, bounty_left: t.bounty_left });
				Ok(())
			})
		}

		/// Pauses a task (builder only): no updates until [`Pallet::resume`]; the round in
		/// progress still closes and pays.
		///
		/// Emits [`Event::TaskPaused`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::pause())]
		pub fn pause(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Tasks::<T>::try_mutate(task, |t| {
				let t = t.as_mut().ok_or(Error::<T>::UnknownTask)?;
				ensure!(t.builder == who, Error::<T>::NotBuilder);
				ensure!(t.status == TaskStatus::Active, Error::<T>::NotActive);
				t.status = TaskStatus::Paused;
				Self::deposit_event(Event::TaskPaused { task });
				Ok(())
			})
		}

		/// Resumes a paused task (builder only). If its round closed while paused, the next
		/// round starts now.
		///
		/// Emits [`Event::TaskResumed`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut t = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			ensure!(t.builder == who, Error::<T>::NotBuilder);
			ensure!(t.status == TaskStatus::Paused, Error::<T>::NotPaused);
			t.status = TaskStatus::Active;
			let round_end = match t.round_end {
				Some(end) => end,
				None => {
					let end = Self::schedule_round_end(task, &t.spec)?;
					t.round = t.round.saturating_add(1);
					t.round_end = Some(end);
					end
				},
			};
			let round = t.round;
			Tasks::<T>::insert(task, t);
			Self::deposit_event(Event::TaskResumed { task, round, round_end });
			Ok(())
		}

		/// Ends a task (builder only), cutting its round short. Updates already submitted are
		/// decided and paid as usual; then the bounty left and the deposit go back.
		///
		/// Emits [`Event::TaskEnded`], or [`Event::TaskFinishing`] while updates are in voting.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::end_task())]
		pub fn end_task(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let t = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			ensure!(t.builder == who, Error::<T>::NotBuilder);
			ensure!(!t.status.has_ended(), Error::<T>::TaskEnded);
			Self::end(task, t, EndReason::Builder);
			Ok(())
		}

		/// Submits this round's update of an eligible validator: the model `new_hash` trained
		/// from `parent` (the current version, zero before the first), claimed to score the
		/// metric sealed in `sealed_metric` on the evaluation set:
		/// `blake2_256(SCALE((trainer, metric, salt)))` with a secret 32-byte salt (the runtime
		/// API `weightedVotingApi.scoreSeal` computes it). Opens a `ModelUpdate` claim in the
		/// weighted vote; the trainer reveals the metric with
		/// `weightedVoting.reveal_claimed_score` once the claim's commit period is over (voters
		/// score the model without seeing what is claimed). A metric never revealed rejects the
		/// update.
		///
		/// Emits [`Event::UpdateSubmitted`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::submit_update())]
		pub fn submit_update(origin: OriginFor<T>, task: TaskId, parent: H256, new_hash: H256, sealed_metric: H256) -> DispatchResult {
			let trainer = ensure_signed(origin)?;
			Self::do_submit(trainer, task, parent, new_hash, sealed_metric).map(|_| ())
		}

		/// Offers `quantity` copies of version `version` of `task` at `price` each, until
		/// `expires`, in the data market's book `model/<task>/<version>` (builder or contributor
		/// of the version). The data market holds the seller's bond and runs the deal.
		///
		/// Emits [`Event::VersionListed`] (and the data market's `OrderPosted`).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::list_version())]
		pub fn list_version(
			origin: OriginFor<T>,
			task: TaskId,
			version: u32,
			price: BalanceOf<T>,
			quantity: u32,
			expires: BlockNumberFor<T>,
		) -> DispatchResult {
			let seller = ensure_signed(origin)?;
			Self::do_list(seller, task, version, price, quantity, expires).map(|_| ())
		}
	}
}

/// The registry of accepted versions that inference queries name (the compute market).
#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and after every step of the property
	/// test): each builder holds, as bounty and as deposit, exactly what its tasks say; the live
	/// task count is the tasks not ended; a task's unpaid rounds are its ended rounds still
	/// stored, and its only open round is its current one; a round's pending count is its
	/// update claims in voting, and it lists at most one claim per trainer; a scheduled round
	/// end is in the agenda at its block.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut held: BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> = BTreeMap::new();
		let mut live = 0u32;
		for (id, t) in Tasks::<T>::iter() {
			let e = held.entry(t.builder.clone()).or_insert((Zero::zero(), Zero::zero()));
			e.0 = e.0.saturating_add(t.bounty_left);
			e.1 = e.1.saturating_add(t.deposit);
			if t.status != TaskStatus::Ended {
				live = live.saturating_add(1);
			}
			let rounds: alloc::vec::Vec<_> = Rounds::<T>::iter_prefix(id).collect();
			let ended = rounds.iter().filter(|(_, r)| r.ended).count() as u32;
			ensure!(ended == t.unpaid_rounds, "a task's unpaid rounds are not its ended rounds in storage");
			for (n, _) in rounds.iter().filter(|(_, r)| !r.ended) {
				ensure!(*n == t.round && t.status != TaskStatus::Ended, "an open round that is not its task's current one");
			}
			if let Some(at) = t.round_end {
				ensure!(RoundEnds::<T>::get(at).contains(&id), "a round end missing from the agenda");
			}
		}
		ensure!(LiveTasks::<T>::get() == live, "LiveTasks is not the number of tasks not ended");
		for (builder, (bounty, deposit)) in held {
			ensure!(T::Currency::balance_on_hold(&HoldReason::Bounty.into(), &builder) == bounty, "a builder's bounty hold differs from its tasks'");
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::TaskDeposit.into(), &builder) == deposit,
				"a builder's deposit hold differs from its tasks'"
			);
		}
		let mut pending: BTreeMap<(TaskId, u32), u32> = BTreeMap::new();
		for (_, u) in UpdateClaims::<T>::iter() {
			*pending.entry((u.task, u.round)).or_default() += 1;
		}
		for (task, n, r) in Rounds::<T>::iter() {
			ensure!(pending.remove(&(task, n)).unwrap_or(0) == r.pending, "a round's pending count is not its claims in voting");
			ensure!(r.accepted.len() <= r.trainers.len(), "more accepted updates than trainers");
			ensure!(RoundClaims::<T>::get(task, n).len() <= r.trainers.len(), "more claims than trainers in a round");
		}
		ensure!(pending.is_empty(), "an update claim in voting without its round");
		Ok(())
	}
}

impl<T: Config> loopx_primitives::ModelRegistry for Pallet<T> {
	fn has_version(model: u32, version: u32) -> bool {
		Versions::<T>::contains_key(model, version)
	}
}
