//! # Compute market
//!
//! Clients pay validators to answer queries (the LoopX whitepaper's "job recruitment market"):
//! SQL aggregations over the data validators hold, and inferences of a trained model from the
//! builder market. Answers are redundant and committed before they are revealed; answers that
//! disagree go to the weighted vote.
//!
//! ## Capabilities
//!
//! An active validator advertises what it can answer with [`Pallet::advertise`]: the dataset
//! tags it holds, the (model, version) pairs it serves and its price per answer.
//!
//! ## Queries
//!
//! [`Pallet::post_query`] takes the kind (`Aggregation { sql, dataset }` or `Inference { model,
//! version, input }`), the fee (held), the redundancy `r` (answers required), the answerers'
//! stake and reputation thresholds (within the runtime's bounds) and a deadline. SQL is checked
//! for shape only (bounded, one statement, read-only: [`sql`]); an inference must name an
//! accepted version ([`loopx_primitives::ModelRegistry`]). A validator is *eligible* for a
//! query when it is active, meets the thresholds, advertises the dataset or the model version,
//! and its price is at most the fee's per-answer share.
//!
//! The chain's own tables (blocks, extrinsics, events, transfers, indexed by the validators'
//! workers) are the dataset `chain`; a query over them names the block it sees, `chain@<n>`,
//! with `n` below the block it is posted in ([`loopx_primitives::chain_data`]), so answerers
//! that have indexed to different heights give the same answer.
//!
//! ## Routing
//!
//! A router (registered and bonded in the one router registry both markets share,
//! [`Config::Routers`]) assigns `r` eligible validators
//! with [`Pallet::assign`] within [`Config::RouterWindow`] blocks and earns its fee share. If no
//! router acts in time, the runtime draws `r` eligible validators weighted by reputation from
//! BABE's randomness ([`draw`]); with fewer than `r` eligible, the client is refunded.
//!
//! ## Answers
//!
//! Assigned validators [`Pallet::commit_answer`] the hash of their result (see
//! [`Pallet::answer_commitment`]) until the middle of the time left, then
//! [`Pallet::reveal_answer`] the result (bounded) until the deadline; revealing starts early once
//! every assigned validator committed. When all `r` answers are revealed and agree, the query
//! is answered at once. Otherwise, at the deadline, each revealed answer becomes a
//! `QueryResult` claim in the weighted vote: voters re-run the query; a rejected answer is
//! slashed and loses reputation (by the vote), and the accepted answers are paid. The accepted
//! result is stored for [`Config::ResultLifetime`] blocks and emitted in
//! [`Event::QueryAnswered`].
//!
//! ## Payment
//!
//! The fee is split: [`Config::ProtocolFee`] to the reward pot (through the fee sink), the
//! router's share to the router, the rest equally to the accepted answerers (the indivisible
//! remainder goes back to the payer). Answerers earn query-answer points and reputation, the
//! router routing points. Without an accepted answer the payer gets everything back.
//!
//! ## Service passes (MintAI's free mode)
//!
//! [`Pallet::lock_for_pass`] holds tokens. Each era a pass grants
//! `FreeQueriesPerEra × locked / all locked` free queries ([`Pallet::post_free_query`]); each is
//! paid [`Config::FreeQueryFee`] from the reward pot (funded by inflation), split like a fee. A
//! pass that used its quota is frozen until the next era. [`Pallet::request_unlock`] stops the
//! pass and starts [`Config::PassCooldown`]; [`Pallet::unlock`] releases the tokens after it.
//!
//! ## Ratings
//!
//! The client of an answered query rates each of its answerers Good, Fair or Bad (+1, 0, −1)
//! with [`Pallet::rate`]; only its latest rating of a provider counts. A provider's service
//! reputation is MintAI's logistic `max / (1 + e^(−θ·Σ ratings))`; each change of it moves
//! the provider's reputation by the same amount. A stored rating holds the client's
//! [`Config::RatingDeposit`] until [`Pallet::withdraw_rating`] removes it.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod migrations;
mod passes;
mod queries;
pub mod runtime_api;
mod settle;
pub use loopx_sql_shape as sql;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, traits::fungible, weights::WeightMeter};
use frame_system::pallet_prelude::*;
use loopx_primitives::{Reputation, RouterRegistry, Thresholds};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

/// Identifies a query; numbered from 0.
pub type QueryId = u64;

/// The balance type of the currency.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A dataset tag.
pub type TagOf<T> = BoundedVec<u8, <T as Config>::MaxTagLen>;
/// A query's kind as stored.
pub type KindOf<T> = QueryKind<BoundedVec<u8, <T as Config>::MaxSqlLen>, TagOf<T>, BoundedVec<u8, <T as Config>::MaxInputLen>>;
/// A query's kind as submitted (checked and bounded by the pallet, with named errors).
pub type KindInput = QueryKind<Vec<u8>, Vec<u8>, Vec<u8>>;
/// A revealed result.
pub type ResultOf<T> = BoundedVec<u8, <T as Config>::MaxResultLen>;
/// A query as stored.
pub type QueryOf<T> = Query<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	KindOf<T>,
	BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxRedundancy>,
>;
/// A validator's capabilities as stored.
pub type CapabilityOf<T> = Capability<BoundedVec<TagOf<T>, <T as Config>::MaxTags>, BoundedVec<(u32, u32), <T as Config>::MaxModels>, BalanceOf<T>>;

/// What is asked.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum QueryKind<Sql, Tag, Input> {
	/// A read-only SQL statement (GROUP BY, MIN, MAX, COUNT, AVG, SUM…) over dataset `dataset`.
	#[codec(index = 0)]
	Aggregation {
		/// The statement.
		sql: Sql,
		/// The dataset tag validators advertise.
		dataset: Tag,
	},
	/// Version `version` of the model of builder-market task `model`, applied to `input`.
	#[codec(index = 1)]
	Inference {
		/// The builder-market task.
		model: u32,
		/// The accepted version.
		version: u32,
		/// The encoded input.
		input: Input,
	},
}

/// Who pays a query.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Payer {
	/// The client: its fee is held.
	#[codec(index = 0)]
	Client,
	/// The reward pot, for a pass holder's free query: the fee waits in the pallet's account.
	#[codec(index = 1)]
	Pot,
}

/// Where a query is in its life.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum QueryStatus<BlockNumber> {
	/// Waiting for a router until `route_by`, then the runtime assigns.
	Open {
		/// The last block a router may assign in.
		route_by: BlockNumber,
	},
	/// Assigned: commits until `commit_end`, reveals until the deadline.
	Answering {
		/// The last block of the commit phase.
		commit_end: BlockNumber,
	},
	/// The answers disagreed (or too few were revealed): `pending` answer claims are in voting.
	Disputed {
		/// Claims not yet decided.
		pending: u32,
	},
	/// Answered; the result is kept until `expires`.
	Answered {
		/// Hash of the accepted result.
		result_hash: H256,
		/// When the result (and the query) are removed.
		expires: BlockNumber,
	},
}

/// A query.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Query<AccountId, Balance, BlockNumber, Kind, Answerers> {
	/// Who asked.
	pub client: AccountId,
	/// What is asked.
	pub kind: Kind,
	/// The fee (held from the client, or waiting in the pallet's account for a free query).
	pub fee: Balance,
	/// Who pays.
	pub payer: Payer,
	/// Answers required.
	pub redundancy: u32,
	/// Least stake and reputation of an answerer.
	pub thresholds: Thresholds,
	/// The last block answers can be revealed in.
	pub deadline: BlockNumber,
	/// Where it is.
	pub status: QueryStatus<BlockNumber>,
	/// The router that assigned it and its fee share.
	pub router: Option<(AccountId, Perbill)>,
	/// The assigned validators; once answered, the answerers that were paid.
	pub answerers: Answerers,
	/// The block its next step is scheduled at (none while disputed).
	pub due: Option<BlockNumber>,
}

/// An assigned validator's answer.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Answer<Result> {
	/// The hash committed.
	pub commitment: H256,
	/// The result, once revealed.
	pub result: Option<Result>,
	/// Whether the vote accepted it (disputed queries only).
	pub accepted: bool,
}

/// What a validator can answer.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Capability<Tags, Models, Balance> {
	/// Dataset tags it holds.
	pub tags: Tags,
	/// (model, version) pairs it serves.
	pub models: Models,
	/// Its least price per answer.
	pub price: Balance,
}

/// A service pass.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Pass<Balance, BlockNumber> {
	/// Tokens held for it.
	pub locked: Balance,
	/// When its tokens can be unlocked, once an unlock was requested (the pass is then inactive).
	pub unlock_at: Option<BlockNumber>,
	/// The era `used` counts.
	pub era: u32,
	/// Free queries used in `era`.
	pub used: u32,
}

/// A client's rating of a provider's answer.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Rating {
	/// +1.
	#[codec(index = 0)]
	Good,
	/// 0.
	#[codec(index = 1)]
	Fair,
	/// −1.
	#[codec(index = 2)]
	Bad,
}

impl Rating {
	/// The rating's value in the sum.
	pub fn value(self) -> i64 {
		match self {
			Self::Good => 1,
			Self::Fair => 0,
			Self::Bad => -1,
		}
	}
}

/// Why a payer got its fee back.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum RefundReason {
	/// Fewer eligible validators than the redundancy when the router window closed.
	NoProviders,
	/// No answer was revealed by the deadline.
	NoAnswer,
	/// The vote accepted none of the answers.
	NoAcceptedAnswer,
	/// The answers disagreed and the weighted vote could not take the dispute.
	DisputeFailed,
	/// The runtime's draw ran too late for a commit and a reveal phase before the deadline
	/// (its step waited in a bucket that did not fit in the blocks' due budget).
	RoutedTooLate,
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// The `i`-th active validator (eligible at the loosest thresholds).
	fn validator(i: u32) -> AccountId;
	/// How many active validators [`BenchmarkHelper::validator`] can give (the largest
	/// electorate).
	fn max_validators() -> u32;
	/// Makes `QueryResult` claims openable with the largest electorate.
	fn prepare_dispute();
	/// A (model, version) the model registry knows.
	fn model() -> (u32, u32);
	/// Funds the reward pot so that free queries can be paid.
	fn fund_pot();
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		traits::{
			fungible::{Mutate, MutateHold},
			Randomness,
		},
		PalletId,
	};
	use loopx_primitives::{ClaimRegistry, ContributionSink, FeeSink, ModelRegistry, ReputationHandler, RewardPot, VoterSet};

	/// v1: routers live in the one router registry ([`crate::migrations::v1`]).
	/// v2: [`QueryCount`] counts live queries only, and [`ClientQueries`] per client
	/// ([`crate::migrations::v2`]).
	/// v3: every stored rating holds its client's [`Config::RatingDeposit`]
	/// ([`crate::migrations::v3`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A client's query fee.
		QueryFee,
		/// A router's bond, before the one router registry (`pallet-routers`) held them: no
		/// longer held here (migration [`crate::migrations::v1`] releases what was), kept so
		/// that the reasons after it keep their encoding.
		RouterBond,
		/// Tokens locked for a service pass.
		Pass,
		/// A client's deposit for a rating it keeps in storage ([`Config::RatingDeposit`]).
		Rating,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native currency; fees, bonds and passes are holds on it.
		type Currency: Mutate<Self::AccountId> + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The active validators with their stake and reputation.
		type Validators: VoterSet<Self::AccountId>;

		/// Reputation of answerers (accepted answers, missed answers, ratings).
		type Reputations: ReputationHandler<Self::AccountId>;

		/// Opens `QueryResult` claims for disputed answers.
		type Claims: ClaimRegistry<Self::AccountId>;

		/// Records query-answer and routing points.
		type Contributions: ContributionSink<Self::AccountId>;

		/// Takes the protocol fee.
		type Fees: FeeSink<Self::AccountId, BalanceOf<Self>>;

		/// Pays free queries.
		type Pot: RewardPot<Self::AccountId, BalanceOf<Self>>;

		/// The builder market's accepted model versions.
		type Models: ModelRegistry;

		/// On-chain randomness for the runtime's own assignment (BABE).
		type Randomness: Randomness<H256, BlockNumberFor<Self>>;

		/// The reward era in progress (pass quotas are per era).
		type CurrentEra: Get<u32>;

		/// Derives the account free-query fees wait in.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Longest SQL statement, in bytes.
		#[pallet::constant]
		type MaxSqlLen: Get<u32>;

		/// Largest inference input, in bytes.
		#[pallet::constant]
		type MaxInputLen: Get<u32>;

		/// Largest result, in bytes.
		#[pallet::constant]
		type MaxResultLen: Get<u32>;

		/// Longest dataset tag.
		#[pallet::constant]
		type MaxTagLen: Get<u32>;

		/// Most dataset tags a validator advertises.
		#[pallet::constant]
		type MaxTags: Get<u32>;

		/// Most model versions a validator advertises.
		#[pallet::constant]
		type MaxModels: Get<u32>;

		/// Most answers a query may require.
		#[pallet::constant]
		type MaxRedundancy: Get<u32>;

		/// Most live queries at once (open, being answered or disputed). An answered query
		/// leaves the count: its result is kept until it expires, bounded by the removals
		/// [`Config::MaxDuePerBlock`] can schedule, not by this.
		#[pallet::constant]
		type MaxQueries: Get<u32>;

		/// Most live queries of one client, so that one client cannot take the whole
		/// [`Config::MaxQueries`] from the others.
		#[pallet::constant]
		type MaxQueriesPerClient: Get<u32>;

		/// Most queries whose next step falls in one block.
		#[pallet::constant]
		type MaxDuePerBlock: Get<u32>;

		/// Weight `on_initialize` may spend on due steps (routing, evaluation, expiry) a block.
		/// Each step is charged its own worst case; what does not fit waits in its bucket for
		/// the next block ([`Event::DueCarriedOver`]). Must hold the heaviest single step.
		#[pallet::constant]
		type DueBudget: Get<Weight>;

		/// Blocks a router has to assign a query before the runtime does.
		#[pallet::constant]
		type RouterWindow: Get<BlockNumberFor<Self>>;

		/// Shortest commit phase (and reveal phase).
		#[pallet::constant]
		type MinAnswerPeriod: Get<BlockNumberFor<Self>>;

		/// Latest deadline, counted from posting.
		#[pallet::constant]
		type MaxQueryLifetime: Get<BlockNumberFor<Self>>;

		/// Blocks an accepted result is kept.
		#[pallet::constant]
		type ResultLifetime: Get<BlockNumberFor<Self>>;

		/// The loosest answerer thresholds a query may ask for.
		#[pallet::constant]
		type LoosestThresholds: Get<Thresholds>;

		/// The strictest answerer thresholds a query may ask for.
		#[pallet::constant]
		type StrictestThresholds: Get<Thresholds>;

		/// Smallest fee of a paid query.
		#[pallet::constant]
		type MinFee: Get<BalanceOf<Self>>;

		/// The protocol's share of every fee (to the reward pot via the fee sink).
		#[pallet::constant]
		type ProtocolFee: Get<Perbill>;

		/// The router registry (shared with the data market): who may assign queries, for
		/// what share of their fee.
		type Routers: RouterRegistry<Self::AccountId>;

		/// Smallest amount a pass starts with.
		#[pallet::constant]
		type MinPassLock: Get<BalanceOf<Self>>;

		/// Blocks between an unlock request and the unlock.
		#[pallet::constant]
		type PassCooldown: Get<BlockNumberFor<Self>>;

		/// Held from a client for each provider it rates, while the rating is stored; returned
		/// by [`Pallet::withdraw_rating`].
		#[pallet::constant]
		type RatingDeposit: Get<BalanceOf<Self>>;

		/// Free queries per era over all passes.
		#[pallet::constant]
		type FreeQueriesPerEra: Get<u32>;

		/// What the reward pot pays for one free query.
		#[pallet::constant]
		type FreeQueryFee: Get<BalanceOf<Self>>;

		/// Query-answer points per accepted answer.
		#[pallet::constant]
		type AnswerPoints: Get<u64>;

		/// Routing points per query a router assigned that was answered.
		#[pallet::constant]
		type RoutingPoints: Get<u64>;

		/// Reputation gained per accepted answer.
		#[pallet::constant]
		type AnswerReputation: Get<Reputation>;

		/// Reputation lost by an assigned validator that revealed no answer.
		#[pallet::constant]
		type MissedAnswerPenalty: Get<Reputation>;

		/// θ of the logistic service reputation, in thousandths.
		#[pallet::constant]
		type RatingTheta: Get<u32>;

		/// Largest service reputation.
		#[pallet::constant]
		type MaxServiceReputation: Get<Reputation>;

		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;

		/// Sets up what the benchmarks need from other pallets.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The id of the next query.
	#[pallet::storage]
	pub type NextQueryId<T> = StorageValue<_, QueryId, ValueQuery>;

	/// Queries in progress or holding their result.
	#[pallet::storage]
	pub type Queries<T: Config> = StorageMap<_, Twox64Concat, QueryId, QueryOf<T>>;

	/// How many queries are live: open, being answered or disputed (at most
	/// [`Config::MaxQueries`]). Answered queries holding their result are not counted.
	#[pallet::storage]
	pub type QueryCount<T> = StorageValue<_, u32, ValueQuery>;

	/// How many live queries each client has (at most [`Config::MaxQueriesPerClient`]);
	/// removed at zero.
	#[pallet::storage]
	pub type ClientQueries<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Answers of assigned validators: (query, validator) → answer.
	#[pallet::storage]
	pub type Answers<T: Config> = StorageDoubleMap<_, Twox64Concat, QueryId, Blake2_128Concat, T::AccountId, Answer<ResultOf<T>>>;

	/// Accepted results, until they expire.
	#[pallet::storage]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, QueryId, ResultOf<T>>;

	/// Disputed answers in voting: claim → (query, answerer).
	#[pallet::storage]
	pub type AnswerClaims<T: Config> = StorageMap<_, Twox64Concat, loopx_primitives::ClaimId, (QueryId, T::AccountId)>;

	/// Queries whose next step (assignment, evaluation, expiry) falls in each block.
	#[pallet::storage]
	pub type Due<T: Config> = StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<QueryId, T::MaxDuePerBlock>, ValueQuery>;

	/// The oldest block whose bucket of [`Due`] steps did not fit in its block's
	/// [`Config::DueBudget`] (as pallet-scheduler's `IncompleteSince`): the next block starts
	/// there. `None` when every bucket up to the last block is done.
	#[pallet::storage]
	pub type DueIncompleteSince<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	/// What validators advertise.
	#[pallet::storage]
	pub type Capabilities<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, CapabilityOf<T>>;

	/// Service passes.
	#[pallet::storage]
	pub type Passes<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Pass<BalanceOf<T>, BlockNumberFor<T>>>;

	/// Tokens locked in active passes (the denominator of the quotas).
	#[pallet::storage]
	pub type TotalLocked<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The latest rating of a provider by a client: (provider, client) → rating.
	#[pallet::storage]
	pub type Ratings<T: Config> = StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, T::AccountId, Rating>;

	/// The answerers of a query its client has rated: (query, provider) → (). One rating per
	/// answer, so that flipping a rating back and forth costs a query each time. Removed with
	/// the query.
	#[pallet::storage]
	pub type RatedAnswers<T: Config> = StorageDoubleMap<_, Twox64Concat, QueryId, Blake2_128Concat, T::AccountId, ()>;

	/// The deposit held for a stored rating: (provider, client) → amount (one for every stored
	/// rating while [`Config::RatingDeposit`] is not zero).
	#[pallet::storage]
	pub type RatingDeposits<T: Config> = StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// The sum of a provider's latest ratings.
	#[pallet::storage]
	pub type RatingSums<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, i64, ValueQuery>;

	/// A provider's service reputation (absent: never rated, the logistic's midpoint).
	#[pallet::storage]
	pub type ServiceReputation<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Reputation>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` advertised what it answers.
		CapabilitiesSet { who: T::AccountId, capability: CapabilityOf<T> },
		/// `who` withdrew its capabilities.
		CapabilitiesWithdrawn { who: T::AccountId },
		/// `client` posted `query`; `fee` is held (or, `free`, paid by the pot).
		QueryPosted { query: QueryId, client: T::AccountId, fee: BalanceOf<T>, redundancy: u32, deadline: BlockNumberFor<T>, free: bool },
		/// `validators` must answer `query`: commits until `commit_end`, reveals until the
		/// deadline; `router` assigned them (none: the runtime's draw).
		QueryAssigned { query: QueryId, validators: Vec<T::AccountId>, router: Option<T::AccountId>, commit_end: BlockNumberFor<T> },
		/// `who` committed its answer to `query`.
		AnswerCommitted { query: QueryId, who: T::AccountId },
		/// `who` revealed a result of hash `result_hash` for `query`.
		AnswerRevealed { query: QueryId, who: T::AccountId, result_hash: H256 },
		/// `who` was assigned to `query` and revealed nothing.
		AnswerMissed { query: QueryId, who: T::AccountId },
		/// The answers to `query` disagreed (or too few came): `claims` answer claims went to the
		/// weighted vote.
		QueryDisputed { query: QueryId, claims: u32 },
		/// The vote decided on `who`'s answer to `query`.
		AnswerJudged { query: QueryId, who: T::AccountId, accepted: bool },
		/// `query` was answered with `result` by `answerers`; the result is kept until `expires`.
		/// `verified`: independent parties checked it (the vote, or two or more answerers the
		/// runtime drew that agreed); only then do the answerers (and the router) earn
		/// reputation and contribution points.
		QueryAnswered { query: QueryId, result: ResultOf<T>, answerers: Vec<T::AccountId>, expires: BlockNumberFor<T>, verified: bool },
		/// `who` was paid `amount` for its answer to `query`.
		AnswerPaid { query: QueryId, who: T::AccountId, amount: BalanceOf<T> },
		/// `router` was paid `amount` for routing `query`.
		RouterPaid { query: QueryId, router: T::AccountId, amount: BalanceOf<T> },
		/// The protocol fee `amount` of `query` went to the fee sink.
		ProtocolFeePaid { query: QueryId, amount: BalanceOf<T> },
		/// `amount` of `query`'s fee went back to its payer (the client, or the pot).
		QueryRefunded { query: QueryId, payer: Payer, amount: BalanceOf<T>, reason: RefundReason },
		/// `query`'s result expired and the query was removed.
		QueryExpired { query: QueryId },
		/// `who` locked `amount` more for its pass, now `locked` in all.
		PassLocked { who: T::AccountId, amount: BalanceOf<T>, locked: BalanceOf<T> },
		/// `who`'s pass stopped; its tokens can be unlocked from `unlock_at`.
		PassUnlockRequested { who: T::AccountId, unlock_at: BlockNumberFor<T> },
		/// `who` unlocked `amount` and its pass was removed.
		PassUnlocked { who: T::AccountId, amount: BalanceOf<T> },
		/// `who` used `used` of its quota of free queries in `era`.
		FreeQueryUsed { who: T::AccountId, era: u32, used: u32, quota: u32 },
		/// `who`'s pass used its quota and is frozen until era `until_era`.
		PassFrozen { who: T::AccountId, until_era: u32 },
		/// `client` rated `provider`'s answer to `query`; the provider's service reputation is
		/// now `service_reputation`.
		Rated { query: QueryId, client: T::AccountId, provider: T::AccountId, rating: Rating, service_reputation: Reputation },
		/// `client` withdrew its rating of `provider` and got its `deposit` back; the provider's
		/// service reputation is now `service_reputation`.
		RatingWithdrawn { client: T::AccountId, provider: T::AccountId, deposit: BalanceOf<T>, service_reputation: Reputation },
		/// The v3 migration held `client`'s `deposit` for its rating of `provider`, stored before
		/// ratings held deposits (a client that could not put it up lost the rating instead:
		/// [`Event::RatingWithdrawn`] with no deposit).
		RatingDepositHeld { client: T::AccountId, provider: T::AccountId, deposit: BalanceOf<T> },
		/// `left` due steps of block `since`'s bucket (and the buckets after it) did not fit in
		/// this block's [`Config::DueBudget`]; the next block goes on from there.
		DueCarriedOver { since: BlockNumberFor<T>, left: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The SQL statement is longer than [`Config::MaxSqlLen`].
		SqlTooLong,
		/// The SQL statement is empty.
		EmptySql,
		/// The SQL is not UTF-8 or has an unterminated string, identifier or comment.
		MalformedSql,
		/// The SQL holds more than one statement.
		MultipleStatements,
		/// The SQL is not a read-only query.
		NotReadOnly,
		/// The SQL calls a function whose value differs between nodes or runs (`random()`, the
		/// clock, the connection's state, the SQLite version): honest answerers would disagree.
		NonDeterministicSql,
		/// The dataset tag is empty or longer than [`Config::MaxTagLen`].
		BadTag,
		/// The inference input is larger than [`Config::MaxInputLen`].
		InputTooLarge,
		/// The builder market has no such accepted model version.
		UnknownModel,
		/// A query needs at least one answer.
		ZeroRedundancy,
		/// More answers than [`Config::MaxRedundancy`].
		RedundancyTooHigh,
		/// The thresholds lie outside the runtime's bounds.
		ThresholdsOutOfBounds,
		/// The deadline has passed.
		DeadlinePassed,
		/// The deadline leaves no time for routing, commits and reveals.
		DeadlineTooSoon,
		/// The deadline is further than [`Config::MaxQueryLifetime`].
		DeadlineTooFar,
		/// The fee is below [`Config::MinFee`].
		FeeTooLow,
		/// As many queries as [`Config::MaxQueries`] are live.
		TooManyQueries,
		/// The client has [`Config::MaxQueriesPerClient`] live queries already.
		TooManyQueriesOfClient,
		/// Too many queries are due around that block.
		TooManyDue,
		/// No such query.
		QueryNotFound,
		/// The query is not waiting for a router.
		NotOpen,
		/// Not a registered router.
		NotRouter,
		/// The router assigned a number of validators other than the redundancy.
		WrongAssignmentSize,
		/// The same validator twice.
		DuplicateValidator,
		/// A validator is not active, below the thresholds, does not advertise what is asked, or
		/// asks more than the fee's share.
		IneligibleValidator,
		/// Only active validators advertise.
		NotValidator,
		/// The caller was not assigned to the query.
		NotAssigned,
		/// The query is not taking answers.
		NotAnswering,
		/// The commit phase is over.
		CommitPhaseOver,
		/// Already committed.
		AlreadyCommitted,
		/// Nothing committed to reveal.
		NotCommitted,
		/// Revealing opens when everyone committed or the commit phase ended.
		RevealTooEarly,
		/// Already revealed.
		AlreadyRevealed,
		/// The result is larger than [`Config::MaxResultLen`].
		ResultTooLarge,
		/// The revealed result and salt do not hash to the commitment.
		RevealMismatch,
		/// The query under this number asks something else than the answer was worked out for
		/// (its [`question_hash`] differs from `question`; on a fork, numbers name other queries).
		NotTheQueryAnswered,
		/// Below [`Config::MinPassLock`].
		PassLockTooSmall,
		/// No pass.
		NoPass,
		/// The pass is being unlocked (no more locking or free queries).
		PassUnlocking,
		/// No unlock was requested.
		NotUnlocking,
		/// The cool-down has not ended.
		CoolDownNotOver,
		/// The pass used its quota of free queries this era (frozen until the next one).
		PassFrozen,
		/// The pot cannot pay a free query now.
		PotExhausted,
		/// Only the query's client can rate it.
		NotQueryClient,
		/// The query has no accepted answer (yet).
		NotAnswered,
		/// The provider's answer was not among the accepted ones.
		NotAnAnswerer,
		/// Only answers that parties independent of the client checked can be rated: the
		/// answerers the runtime drew (not a router's pick, perhaps the client's own), two or
		/// more of them agreeing. Otherwise a client would rate its own choice, or a lone
		/// answerer (say, the only holder of a private dataset) nobody checked.
		UnverifiedAnswer,
		/// The caller has not rated this provider.
		NoRating,
		/// The client rated this answerer's answer to this query already (one rating per
		/// answer; a later query's answer can change it).
		AlreadyRated,
		/// The caller cannot put up [`Config::RatingDeposit`] for a first rating of a provider.
		CannotHoldRatingDeposit,
		/// A query over the chain's own tables names the block it sees as `chain@<n>`: `n` in
		/// decimal, without leading zeros, within `u32` (`loopx_primitives::chain_data`).
		BadChainBlock,
		/// A query over the chain's tables names a block not produced yet: `n` must be below the
		/// block the query is posted in.
		ChainBlockNotYetProduced,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut meter = WeightMeter::with_limit(T::DueBudget::get());
			Self::run_due(now, &mut meter);
			// The cursor's read and write, outside the budget so that a budget too small for
			// even one bucket still moves nothing and is charged.
			T::DbWeight::get().reads_writes(1, 1).saturating_add(meter.consumed())
		}

		fn integrity_test() {
			assert!(T::MaxRedundancy::get() > 0, "MaxRedundancy must be positive");
			assert!(T::MaxDuePerBlock::get() > 0, "MaxDuePerBlock must be positive");
			assert!(
				T::DueBudget::get().all_gte(Self::heaviest_due_step().saturating_add(T::DbWeight::get().reads_writes(2, 1))),
				"DueBudget must hold the heaviest due step, or a bucket holding it would never empty"
			);
			let (lo, hi) = (T::LoosestThresholds::get(), T::StrictestThresholds::get());
			assert!(lo.within(&lo, &hi), "LoosestThresholds must not be stricter than StrictestThresholds");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Advertises what the caller (an active validator) answers: dataset `tags`, (model,
		/// version) pairs it serves (each an accepted version) and its least `price` per
		/// answer. Replaces an earlier advertisement.
		///
		/// Emits [`Event::CapabilitiesSet`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::advertise(tags.len() as u32, models.len() as u32))]
		pub fn advertise(
			origin: OriginFor<T>,
			tags: BoundedVec<TagOf<T>, T::MaxTags>,
			models: BoundedVec<(u32, u32), T::MaxModels>,
			price: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Validators::voters().iter().any(|v| v.who == who), Error::<T>::NotValidator);
			ensure!(tags.iter().all(|t| !t.is_empty()), Error::<T>::BadTag);
			ensure!(models.iter().all(|(m, v)| T::Models::has_version(*m, *v)), Error::<T>::UnknownModel);
			let capability = Capability { tags, models, price };
			Capabilities::<T>::insert(&who, &capability);
			Self::deposit_event(Event::CapabilitiesSet { who, capability });
			Ok(())
		}

		/// Withdraws the caller's capabilities (it is no longer assigned queries).
		///
		/// Emits [`Event::CapabilitiesWithdrawn`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw_capabilities())]
		pub fn withdraw_capabilities(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Capabilities::<T>::take(&who).is_some(), Error::<T>::NotValidator);
			Self::deposit_event(Event::CapabilitiesWithdrawn { who });
			Ok(())
		}

		/// Posts a query paid by the caller: `kind`, `fee` (held), `redundancy` answers
		/// required, answerer `thresholds` (within the runtime's bounds) and the `deadline` for
		/// answers. Aggregation SQL must be one read-only statement; an inference must name an
		/// accepted model version.
		///
		/// Emits [`Event::QueryPosted`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::post_query(kind_len(kind)))]
		pub fn post_query(
			origin: OriginFor<T>,
			kind: KindInput,
			fee: BalanceOf<T>,
			redundancy: u32,
			thresholds: Thresholds,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_post(client, kind, Some(fee), redundancy, thresholds, deadline).map(|_| ())
		}

		/// Posts a free query on the caller's service pass: like [`Pallet::post_query`], but
		/// the reward pot pays [`Config::FreeQueryFee`] for it. Uses one query of the pass's
		/// quota for this era.
		///
		/// Emits [`Event::QueryPosted`], [`Event::FreeQueryUsed`] and, with the quota used up,
		/// [`Event::PassFrozen`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::post_free_query(kind_len(kind)))]
		pub fn post_free_query(
			origin: OriginFor<T>,
			kind: KindInput,
			redundancy: u32,
			thresholds: Thresholds,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_post(client, kind, None, redundancy, thresholds, deadline).map(|_| ())
		}

		/// Assigns `validators` (exactly the redundancy, each eligible) to an open `query`, as a
		/// registered router; the router earns its fee share when the query is answered.
		///
		/// Emits [`Event::QueryAssigned`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::assign(validators.len() as u32))]
		pub fn assign(origin: OriginFor<T>, query: QueryId, validators: BoundedVec<T::AccountId, T::MaxRedundancy>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let fee = T::Routers::router_fee(&who).ok_or(Error::<T>::NotRouter)?;
			Self::do_router_assign(query, (who, fee), validators)
		}

		/// Commits the hash of the caller's answer to `query` (see
		/// [`Pallet::answer_commitment`]), during the commit phase. `question` is the hash of
		/// what the answer was worked out for ([`question_hash`] of the query's kind): on a fork
		/// the same number can name another query, and a commit for another question is refused.
		///
		/// Emits [`Event::AnswerCommitted`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::commit_answer())]
		pub fn commit_answer(origin: OriginFor<T>, query: QueryId, question: H256, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_commit(query, who, question, commitment)
		}

		/// Reveals the caller's `result` for `query` with the `salt` of its commitment. Once all
		/// required answers are revealed the query is settled (answered, or disputed); a reveal
		/// that does not settle is refunded the settlement's weight.
		///
		/// Emits [`Event::AnswerRevealed`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::reveal_answer(result.len() as u32).saturating_add(T::WeightInfo::evaluate_due(T::MaxRedundancy::get())))]
		pub fn reveal_answer(origin: OriginFor<T>, query: QueryId, result: Vec<u8>, salt: [u8; 32]) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let len = result.len() as u32;
			let settled = Self::do_reveal(query, who, result, salt)?;
			// Only the last reveal settles the query; the others pay for the reveal alone.
			Ok(if settled { None } else { Some(T::WeightInfo::reveal_answer(len)) }.into())
		}

		/// Locks `amount` (held) for the caller's service pass (at least
		/// [`Config::MinPassLock`] to start one).
		///
		/// Emits [`Event::PassLocked`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::lock_for_pass())]
		pub fn lock_for_pass(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_lock(who, amount)
		}

		/// Stops the caller's pass and starts the cool-down of [`Config::PassCooldown`] blocks.
		///
		/// Emits [`Event::PassUnlockRequested`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::request_unlock())]
		pub fn request_unlock(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_unlock(who)
		}

		/// Releases the caller's pass tokens once the cool-down is over; removes the pass.
		///
		/// Emits [`Event::PassUnlocked`].
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::unlock())]
		pub fn unlock(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unlock(who)
		}

		/// Rates `provider`'s answer to the caller's answered `query`: Good, Fair or Bad. Only
		/// the latest rating of a provider by a client counts. Only verified answers can be
		/// rated (two or more answerers the runtime drew that agreed; [`Error::UnverifiedAnswer`]).
		/// Each answer is rated once ([`Error::AlreadyRated`]): a client that flips its rating
		/// of a provider pays a query for each flip. A client's first rating of a provider holds
		/// [`Config::RatingDeposit`] while it is stored ([`Error::CannotHoldRatingDeposit`] if it
		/// cannot); later ones hold nothing more.
		///
		/// Emits [`Event::Rated`] (and the reputation pallet's change event).
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::rate())]
		pub fn rate(origin: OriginFor<T>, query: QueryId, provider: T::AccountId, rating: Rating) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_rate(query, client, provider, rating)
		}

		/// Removes the caller's rating of `provider` (it counts as no rating again) and returns
		/// its deposit.
		///
		/// Fails with [`Error::NoRating`] if there is none. Emits [`Event::RatingWithdrawn`]
		/// (and the reputation pallet's change event if the service reputation moves).
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::withdraw_rating())]
		pub fn withdraw_rating(origin: OriginFor<T>, provider: T::AccountId) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_withdraw_rating(client, provider)
		}
	}
}

/// The hash of what a query asks, `blake2_256(SCALE(kind))`: what an answer commitment names
/// besides the query's number. The submitted [`KindInput`] and the stored, bounded kind encode
/// the same, so either gives it. In polkadot.js: `blake2AsHex(query.kind.toU8a())` of the
/// stored query.
pub fn question_hash<Kind: Encode>(kind: &Kind) -> H256 {
	use sp_runtime::traits::{BlakeTwo256, Hash as _};
	BlakeTwo256::hash_of(kind)
}

/// The length a query kind's weight depends on (its SQL or input).
pub fn kind_len(kind: &KindInput) -> u32 {
	let len = match kind {
		QueryKind::Aggregation { sql, dataset } => sql.len().saturating_add(dataset.len()),
		QueryKind::Inference { input, .. } => input.len(),
	};
	u32::try_from(len).unwrap_or(u32::MAX)
}
