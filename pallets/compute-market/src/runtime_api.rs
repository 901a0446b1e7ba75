//! Runtime API for validators' workers and clients: the queries assigned to a validator, the
//! queries of a client with their results, answer commitments and passes.

use crate::*;
use alloc::vec::Vec;
use codec::Codec;

/// A query a validator was assigned and has not finished answering.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct AssignedQuery<BlockNumber> {
	/// Its id.
	pub id: QueryId,
	/// What is asked.
	pub kind: KindInput,
	/// The last block to commit in.
	pub commit_end: BlockNumber,
	/// The last block to reveal in.
	pub deadline: BlockNumber,
	/// Whether the validator committed.
	pub committed: bool,
	/// Whether it revealed.
	pub revealed: bool,
	/// Whether every assigned validator committed (then reveals may start before `commit_end`).
	pub all_committed: bool,
}

/// A client's query.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct QueryView<AccountId, Balance, BlockNumber> {
	/// Its id.
	pub id: QueryId,
	/// What is asked.
	pub kind: KindInput,
	/// Its fee.
	pub fee: Balance,
	/// Who pays.
	pub payer: Payer,
	/// Where it is.
	pub status: QueryStatus<BlockNumber>,
	/// The assigned validators, or once answered the paid answerers.
	pub answerers: Vec<AccountId>,
	/// The accepted result, once answered.
	pub result: Option<Vec<u8>>,
}

/// A service pass and its quota now.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct PassView<Balance, BlockNumber> {
	/// Tokens locked.
	pub locked: Balance,
	/// When they can be unlocked, once requested.
	pub unlock_at: Option<BlockNumber>,
	/// Free queries used this era.
	pub used: u32,
	/// Free queries granted this era.
	pub quota: u32,
}

/// A validator's advertisement as the runtime API returns it: dataset tags, served `(task,
/// version)` pairs and its price per answer.
pub type CapabilityView<Balance> = Capability<Vec<Vec<u8>>, Vec<(u32, u32)>, Balance>;

sp_api::decl_runtime_apis! {
	/// Queries, answers and passes of the compute market.
	pub trait ComputeMarketApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The queries `validator` is assigned to and has not finished answering.
		fn assigned_queries(validator: AccountId) -> Vec<AssignedQuery<BlockNumber>>;
		/// The stored queries of `client` (in progress, or answered with their result).
		fn queries_of(client: AccountId) -> Vec<QueryView<AccountId, Balance, BlockNumber>>;
		/// The commitment of `who`'s answer `result` to `query` with `salt`.
		fn answer_commitment(query: QueryId, who: AccountId, result: Vec<u8>, salt: [u8; 32]) -> H256;
		/// `who`'s pass, with this era's use and quota.
		fn pass(who: AccountId) -> Option<PassView<Balance, BlockNumber>>;
		/// The query and answerer behind a `QueryResult` claim of a disputed query, with what the
		/// query asks and the answer revealed (for voters to answer it themselves and compare,
		/// with `loopx_primitives::answers::answers_agree`).
		fn disputed_answer(claim: loopx_primitives::ClaimId) -> Option<(QueryId, AccountId, KindInput, Vec<u8>)>;
		/// What validator `who` advertises, if anything.
		fn capabilities(who: AccountId) -> Option<CapabilityView<Balance>>;
	}
}

/// A stored kind in its submitted form.
fn unbound<T: Config>(kind: KindOf<T>) -> KindInput {
	match kind {
		QueryKind::Aggregation { sql, dataset } => QueryKind::Aggregation { sql: sql.into_inner(), dataset: dataset.into_inner() },
		QueryKind::Inference { model, version, input } => QueryKind::Inference { model, version, input: input.into_inner() },
	}
}

impl<T: Config> Pallet<T> {
	/// See [`ComputeMarketApi::assigned_queries`]. Reads every query (at most
	/// [`Config::MaxQueries`]): for off-chain use.
	pub fn assigned_queries(validator: &T::AccountId) -> Vec<AssignedQuery<BlockNumberFor<T>>> {
		Queries::<T>::iter()
			.filter_map(|(id, q)| {
				let QueryStatus::Answering { commit_end } = q.status else { return None };
				if !q.answerers.contains(validator) {
					return None;
				}
				let answer = Answers::<T>::get(id, validator);
				let revealed = answer.as_ref().is_some_and(|a| a.result.is_some());
				if revealed {
					return None;
				}
				Some(AssignedQuery {
					id,
					kind: unbound::<T>(q.kind),
					commit_end,
					deadline: q.deadline,
					committed: answer.is_some(),
					revealed,
					all_committed: Answers::<T>::iter_prefix(id).count() == q.answerers.len(),
				})
			})
			.collect()
	}

	/// See [`ComputeMarketApi::queries_of`]. Reads every query: for off-chain use.
	pub fn queries_of(client: &T::AccountId) -> Vec<QueryView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let mut queries: Vec<_> = Queries::<T>::iter()
			.filter(|(_, q)| q.client == *client)
			.map(|(id, q)| QueryView {
				id,
				kind: unbound::<T>(q.kind),
				fee: q.fee,
				payer: q.payer,
				status: q.status,
				answerers: q.answerers.into_inner(),
				result: Results::<T>::get(id).map(|r| r.into_inner()),
			})
			.collect();
		queries.sort_by_key(|q| q.id);
		queries
	}

	/// See [`ComputeMarketApi::disputed_answer`].
	pub fn disputed_answer(claim: loopx_primitives::ClaimId) -> Option<(QueryId, T::AccountId, KindInput, Vec<u8>)> {
		let (query, who) = AnswerClaims::<T>::get(claim)?;
		let q = Queries::<T>::get(query)?;
		let result = Answers::<T>::get(query, &who).and_then(|a| a.result)?;
		Some((query, who, unbound::<T>(q.kind), result.into_inner()))
	}

	/// See [`ComputeMarketApi::capabilities`].
	pub fn capabilities_of(who: &T::AccountId) -> Option<CapabilityView<BalanceOf<T>>> {
		let c = Capabilities::<T>::get(who)?;
		Some(Capability { tags: c.tags.into_iter().map(|t| t.into_inner()).collect(), models: c.models.into_inner(), price: c.price })
	}

	/// See [`ComputeMarketApi::pass`].
	pub fn pass_view(who: &T::AccountId) -> Option<PassView<BalanceOf<T>, BlockNumberFor<T>>> {
		let pass = Passes::<T>::get(who)?;
		let used = if pass.era == T::CurrentEra::get() { pass.used } else { 0 };
		let quota = if pass.unlock_at.is_some() { 0 } else { Self::quota(pass.locked) };
		Some(PassView { locked: pass.locked, unlock_at: pass.unlock_at, used, quota })
	}
}
