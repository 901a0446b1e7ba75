//! A query's life up to its answers: posting, eligibility, routing (by a router or the
//! runtime's draw), commits and reveals, and the per-block agenda of due steps.

use crate::{sql, *};
use alloc::vec::Vec;
use frame_support::{
	storage::with_storage_layer,
	traits::{fungible::MutateHold, Randomness},
	weights::WeightMeter,
};
use loopx_primitives::draw::weighted_draw;
use loopx_primitives::{agenda, chain_data, ModelRegistry, RewardPot, VoterInfo, VoterSet};
use sp_runtime::traits::{BlakeTwo256, Hash as _};
use sp_runtime::{
	traits::{AccountIdConversion, One, Saturating},
	DispatchError, DispatchResult, SaturatedConversion,
};

impl<T: Config> Pallet<T> {
	/// The account free-query fees wait in until they are paid out or returned to the pot.
	pub fn escrow_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The commitment of `who`'s answer `result` to `query` with `salt`:
	/// `blake2_256(SCALE(query, who, result, salt))`.
	pub fn answer_commitment(query: QueryId, who: &T::AccountId, result: &[u8], salt: &[u8; 32]) -> H256 {
		BlakeTwo256::hash_of(&(query, who, result, salt))
	}

	/// Checks and bounds a submitted kind.
	fn bound_kind(kind: KindInput) -> Result<KindOf<T>, DispatchError> {
		Ok(match kind {
			QueryKind::Aggregation { sql, dataset } => {
				let sql: BoundedVec<u8, T::MaxSqlLen> = sql.try_into().map_err(|_| Error::<T>::SqlTooLong)?;
				sql::check_read_only(&sql).map_err(|e| match e {
					sql::SqlError::Empty => Error::<T>::EmptySql,
					sql::SqlError::Malformed => Error::<T>::MalformedSql,
					sql::SqlError::MultipleStatements => Error::<T>::MultipleStatements,
					sql::SqlError::NotReadOnly => Error::<T>::NotReadOnly,
					sql::SqlError::NonDeterministic => Error::<T>::NonDeterministicSql,
				})?;
				ensure!(!dataset.is_empty(), Error::<T>::BadTag);
				match chain_data::dataset(&dataset) {
					chain_data::Dataset::Other => {},
					chain_data::Dataset::Malformed => return Err(Error::<T>::BadChainBlock.into()),
					// Block `to` must exist on this chain before answerers can index it.
					chain_data::Dataset::Chain { to, .. } => {
						ensure!(BlockNumberFor::<T>::from(to) < frame_system::Pallet::<T>::block_number(), Error::<T>::ChainBlockNotYetProduced)
					},
				}
				let dataset: TagOf<T> = dataset.try_into().map_err(|_| Error::<T>::BadTag)?;
				QueryKind::Aggregation { sql, dataset }
			},
			QueryKind::Inference { model, version, input } => {
				ensure!(T::Models::has_version(model, version), Error::<T>::UnknownModel);
				let input = input.try_into().map_err(|_| Error::<T>::InputTooLarge)?;
				QueryKind::Inference { model, version, input }
			},
		})
	}

	/// Posts a query; `fee` is `None` for a free query on the client's pass. Transactional.
	pub(crate) fn do_post(
		client: T::AccountId,
		kind: KindInput,
		fee: Option<BalanceOf<T>>,
		redundancy: u32,
		thresholds: Thresholds,
		deadline: BlockNumberFor<T>,
	) -> Result<QueryId, DispatchError> {
		with_storage_layer(|| {
			let kind = Self::bound_kind(kind)?;
			ensure!(redundancy > 0, Error::<T>::ZeroRedundancy);
			ensure!(redundancy <= T::MaxRedundancy::get(), Error::<T>::RedundancyTooHigh);
			ensure!(thresholds.within(&T::LoosestThresholds::get(), &T::StrictestThresholds::get()), Error::<T>::ThresholdsOutOfBounds);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(deadline > now, Error::<T>::DeadlinePassed);
			let min_answer = T::MinAnswerPeriod::get();
			let earliest = now.saturating_add(T::RouterWindow::get()).saturating_add(min_answer).saturating_add(min_answer);
			ensure!(deadline >= earliest, Error::<T>::DeadlineTooSoon);
			ensure!(deadline <= now.saturating_add(T::MaxQueryLifetime::get()), Error::<T>::DeadlineTooFar);
			let count = QueryCount::<T>::get();
			ensure!(count < T::MaxQueries::get(), Error::<T>::TooManyQueries);
			let of_client = ClientQueries::<T>::get(&client);
			ensure!(of_client < T::MaxQueriesPerClient::get(), Error::<T>::TooManyQueriesOfClient);

			let query = NextQueryId::<T>::get();
			let (fee, payer) = match fee {
				Some(fee) => {
					ensure!(fee >= T::MinFee::get(), Error::<T>::FeeTooLow);
					T::Currency::hold(&HoldReason::QueryFee.into(), &client, fee)?;
					(fee, Payer::Client)
				},
				None => {
					Self::use_pass(&client)?;
					let fee = T::FreeQueryFee::get();
					T::Pot::spend(&Self::escrow_account(), fee).map_err(|_| Error::<T>::PotExhausted)?;
					(fee, Payer::Pot)
				},
			};
			let route_by = now.saturating_add(T::RouterWindow::get());
			let due = agenda::schedule::<Due<T>, _, _, _>(route_by, query).ok_or(Error::<T>::TooManyDue)?;
			Queries::<T>::insert(
				query,
				Query {
					client: client.clone(),
					kind,
					fee,
					payer,
					redundancy,
					thresholds,
					deadline,
					status: QueryStatus::Open { route_by },
					router: None,
					answerers: BoundedVec::new(),
					due: Some(due),
				},
			);
			QueryCount::<T>::put(count.saturating_add(1));
			ClientQueries::<T>::insert(&client, of_client.saturating_add(1));
			NextQueryId::<T>::put(query.saturating_add(1));
			Self::deposit_event(Event::QueryPosted { query, client, fee, redundancy, deadline, free: payer == Payer::Pot });
			Ok(query)
		})
	}

	/// The active validators eligible for `q`, with their reputation. Never its client: a
	/// validator answering its own query could forge the answer at no cost (refunded when the
	/// vote cannot decide) or pay itself for an answer nobody else checked.
	pub(crate) fn eligible(q: &QueryOf<T>) -> Vec<VoterInfo<T::AccountId>> {
		let share = q.fee / BalanceOf::<T>::from(q.redundancy.max(1));
		T::Validators::voters()
			.into_iter()
			.filter(|v| v.who != q.client)
			.filter(|v| v.stake >= q.thresholds.min_stake && v.reputation >= q.thresholds.min_reputation)
			.filter(|v| {
				Capabilities::<T>::get(&v.who).is_some_and(|c| {
					c.price <= share
						&& match &q.kind {
							QueryKind::Aggregation { dataset, .. } => match chain_data::dataset(dataset) {
								// A validator holding the blocks the query shows until its deadline.
								chain_data::Dataset::Chain { from, .. } => {
									let deadline: u32 = q.deadline.saturated_into();
									c.tags.iter().any(|t| chain_data::can_answer(t, from, deadline))
								},
								_ => c.tags.iter().any(|t| t.as_slice() == dataset.as_slice()),
							},
							QueryKind::Inference { model, version, .. } => c.models.contains(&(*model, *version)),
						}
				})
			})
			.collect()
	}

	/// A router's assignment of an open query.
	pub(crate) fn do_router_assign(
		query: QueryId,
		router: (T::AccountId, Perbill),
		validators: BoundedVec<T::AccountId, T::MaxRedundancy>,
	) -> DispatchResult {
		let mut q = Queries::<T>::get(query).ok_or(Error::<T>::QueryNotFound)?;
		ensure!(matches!(q.status, QueryStatus::Open { .. }), Error::<T>::NotOpen);
		ensure!(validators.len() as u32 == q.redundancy, Error::<T>::WrongAssignmentSize);
		for (k, v) in validators.iter().enumerate() {
			ensure!(!validators[..k].contains(v), Error::<T>::DuplicateValidator);
		}
		let eligible = Self::eligible(&q);
		ensure!(validators.iter().all(|v| eligible.iter().any(|e| e.who == *v)), Error::<T>::IneligibleValidator);
		Self::start_answering(query, &mut q, validators, Some(router))?;
		Queries::<T>::insert(query, q);
		Ok(())
	}

	/// Assigns `validators` and schedules the evaluation at the deadline.
	fn start_answering(
		query: QueryId,
		q: &mut QueryOf<T>,
		validators: BoundedVec<T::AccountId, T::MaxRedundancy>,
		router: Option<(T::AccountId, Perbill)>,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let due = agenda::schedule::<Due<T>, _, _, _>(q.deadline, query).ok_or(Error::<T>::TooManyDue)?;
		if let Some(old) = q.due.take() {
			agenda::unschedule::<Due<T>, _, _, _>(old, &query);
		}
		// Commits until the middle of the time left, at least the shortest phase.
		let half = q.deadline.saturating_sub(now) / 2u32.into();
		let commit_end = now.saturating_add(half.max(T::MinAnswerPeriod::get())).min(q.deadline);
		q.status = QueryStatus::Answering { commit_end };
		q.due = Some(due);
		q.answerers = validators.clone();
		q.router = router.clone();
		Self::deposit_event(Event::QueryAssigned { query, validators: validators.into_inner(), router: router.map(|(r, _)| r), commit_end });
		Ok(())
	}

	/// The runtime's own assignment when the router window closed: `r` eligible validators
	/// drawn by reputation from [`Config::Randomness`] (the runtime's is the parent block's
	/// VRF output), or a refund when there are fewer.
	pub(crate) fn auto_assign(query: QueryId, mut q: QueryOf<T>) {
		q.due = None;
		// A draw carried over from full blocks may come too late for both answer phases.
		let now = frame_system::Pallet::<T>::block_number();
		let min_answer = T::MinAnswerPeriod::get();
		if q.deadline < now.saturating_add(min_answer).saturating_add(min_answer) {
			Self::refund(query, &q, RefundReason::RoutedTooLate);
			Self::remove_query(query, &q);
			return;
		}
		let eligible = Self::eligible(&q);
		if eligible.len() < q.redundancy as usize {
			Self::refund(query, &q, RefundReason::NoProviders);
			Self::remove_query(query, &q);
			return;
		}
		let (random, _) = T::Randomness::random(&(b"loopx/compute/assign", query).encode());
		let candidates: Vec<_> = eligible.into_iter().map(|v| (v.who, v.reputation as u128)).collect();
		let drawn = weighted_draw(&candidates, q.redundancy as usize, random.0);
		let drawn: BoundedVec<_, T::MaxRedundancy> = BoundedVec::truncate_from(drawn);
		match Self::start_answering(query, &mut q, drawn, None) {
			Ok(()) => Queries::<T>::insert(query, q),
			Err(e) => {
				log::warn!(target: "runtime::compute-market", "query {query}: assignment failed: {e:?}");
				Self::refund(query, &q, RefundReason::NoProviders);
				Self::remove_query(query, &q);
			},
		}
	}

	pub(crate) fn do_commit(query: QueryId, who: T::AccountId, question: H256, commitment: H256) -> DispatchResult {
		let q = Queries::<T>::get(query).ok_or(Error::<T>::QueryNotFound)?;
		let QueryStatus::Answering { commit_end } = q.status else { return Err(Error::<T>::NotAnswering.into()) };
		ensure!(crate::question_hash(&q.kind) == question, Error::<T>::NotTheQueryAnswered);
		ensure!(q.answerers.contains(&who), Error::<T>::NotAssigned);
		ensure!(frame_system::Pallet::<T>::block_number() <= commit_end, Error::<T>::CommitPhaseOver);
		ensure!(!Answers::<T>::contains_key(query, &who), Error::<T>::AlreadyCommitted);
		Answers::<T>::insert(query, &who, Answer { commitment, result: None, accepted: false });
		Self::deposit_event(Event::AnswerCommitted { query, who });
		Ok(())
	}

	/// Reveals an answer; returns whether it settled the query (the last answer).
	pub(crate) fn do_reveal(query: QueryId, who: T::AccountId, result: Vec<u8>, salt: [u8; 32]) -> Result<bool, DispatchError> {
		let mut q = Queries::<T>::get(query).ok_or(Error::<T>::QueryNotFound)?;
		let QueryStatus::Answering { commit_end } = q.status else { return Err(Error::<T>::NotAnswering.into()) };
		ensure!(q.answerers.contains(&who), Error::<T>::NotAssigned);
		let mut answer = Answers::<T>::get(query, &who).ok_or(Error::<T>::NotCommitted)?;
		ensure!(answer.result.is_none(), Error::<T>::AlreadyRevealed);
		let now = frame_system::Pallet::<T>::block_number();
		let all_committed = q.answerers.iter().all(|a| Answers::<T>::contains_key(query, a));
		ensure!(all_committed || now > commit_end, Error::<T>::RevealTooEarly);
		let result: ResultOf<T> = result.try_into().map_err(|_| Error::<T>::ResultTooLarge)?;
		ensure!(Self::answer_commitment(query, &who, &result, &salt) == answer.commitment, Error::<T>::RevealMismatch);
		let result_hash = BlakeTwo256::hash(&result);
		answer.result = Some(result);
		Answers::<T>::insert(query, &who, answer);
		Self::deposit_event(Event::AnswerRevealed { query, who, result_hash });

		let revealed = q.answerers.iter().filter(|a| Answers::<T>::get(query, *a).is_some_and(|x| x.result.is_some())).count();
		if revealed < q.answerers.len() {
			return Ok(false);
		}
		if let Some(due) = q.due.take() {
			agenda::unschedule::<Due<T>, _, _, _>(due, &query);
		}
		Self::evaluate(query, q);
		Ok(true)
	}

	/// Runs the due steps of the blocks from the oldest unfinished bucket
	/// ([`DueIncompleteSince`]) to `now`, each charged its worst case from `meter`; the first
	/// step that does not fit and everything after it wait for the next block, in order.
	pub(crate) fn run_due(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		let db = T::DbWeight::get();
		let mut block = DueIncompleteSince::<T>::take().unwrap_or(now);
		while block <= now {
			// The bucket's read, and its write if it is left unfinished.
			if meter.try_consume(db.reads_writes(1, 1)).is_err() {
				Self::carry_over(block, None);
				return;
			}
			let due = Due::<T>::take(block);
			let mut done = 0;
			for query in due.iter() {
				// The query's status decides what its step costs.
				let cost = db.reads(1).saturating_add(Self::due_step_bound(*query));
				if meter.try_consume(cost).is_err() {
					break;
				}
				Self::on_due(*query, block);
				done += 1;
			}
			if done < due.len() {
				let left: BoundedVec<_, T::MaxDuePerBlock> = BoundedVec::truncate_from(due.into_inner().split_off(done));
				Self::carry_over(block, Some(left));
				return;
			}
			block = block.saturating_add(One::one());
		}
	}

	/// Leaves the steps of block `since` (its bucket, with `left` the steps still to run when
	/// it was taken) and of the blocks after it to the next block.
	fn carry_over(since: BlockNumberFor<T>, left: Option<BoundedVec<QueryId, T::MaxDuePerBlock>>) {
		let count = match left {
			Some(left) => {
				let count = left.len() as u32;
				// Steps run from this bucket may have scheduled into it again: none do (every
				// step schedules after the block it runs in), but keep them if they did.
				Due::<T>::mutate(since, |due| {
					let later = core::mem::replace(due, left);
					for q in later {
						let _ = due.try_push(q);
					}
				});
				count
			},
			None => Due::<T>::decode_len(since).unwrap_or(0) as u32,
		};
		DueIncompleteSince::<T>::put(since);
		Self::deposit_event(Event::DueCarriedOver { since, left: count });
	}

	/// The most the due step of `query` costs: routing and evaluation by its redundancy,
	/// expiry, or nothing for a query that is gone or disputed.
	fn due_step_bound(query: QueryId) -> Weight {
		let Some(q) = Queries::<T>::get(query) else { return Weight::zero() };
		match q.status {
			QueryStatus::Open { .. } => T::WeightInfo::route_due(q.redundancy),
			QueryStatus::Answering { .. } => T::WeightInfo::evaluate_due(q.redundancy),
			QueryStatus::Answered { .. } => T::WeightInfo::expire_due(),
			QueryStatus::Disputed { .. } => Weight::zero(),
		}
	}

	/// The heaviest due step there can be (the budget must hold it).
	pub(crate) fn heaviest_due_step() -> Weight {
		let r = T::MaxRedundancy::get();
		T::WeightInfo::route_due(r).max(T::WeightInfo::evaluate_due(r)).max(T::WeightInfo::expire_due()).saturating_add(T::DbWeight::get().reads(1))
	}

	/// Runs the step due for `query` in the bucket of block `at` (now, or an earlier block
	/// whose bucket was carried over).
	pub(crate) fn on_due(query: QueryId, at: BlockNumberFor<T>) {
		let Some(mut q) = Queries::<T>::get(query) else { return };
		if q.due != Some(at) {
			// Rescheduled or settled since; a stale entry.
			return;
		}
		q.due = None;
		match q.status {
			QueryStatus::Open { .. } => Self::auto_assign(query, q),
			QueryStatus::Answering { .. } => Self::evaluate(query, q),
			QueryStatus::Answered { .. } => {
				Self::remove_query(query, &q);
				Self::deposit_event(Event::QueryExpired { query });
			},
			QueryStatus::Disputed { .. } => Queries::<T>::insert(query, q),
		}
	}

	/// Removes a query and everything stored for it.
	pub(crate) fn remove_query(query: QueryId, q: &QueryOf<T>) {
		for a in q.answerers.iter() {
			Answers::<T>::remove(query, a);
			RatedAnswers::<T>::remove(query, a);
		}
		Results::<T>::remove(query);
		Queries::<T>::remove(query);
		if !matches!(q.status, QueryStatus::Answered { .. }) {
			Self::end_live(&q.client);
		}
	}

	/// A query of `client` stops being live (answered, or removed before it was): it leaves
	/// the global and the client's count.
	pub(crate) fn end_live(client: &T::AccountId) {
		QueryCount::<T>::mutate(|c| *c = c.saturating_sub(1));
		ClientQueries::<T>::mutate_exists(client, |n| *n = n.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0));
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and the property tests): the live-query
	/// counts, global and per client, match the stored queries that are not answered, and each
	/// stored answer belongs to one of its query's answerers.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut live = 0u32;
		let mut per_client: alloc::collections::btree_map::BTreeMap<T::AccountId, u32> = Default::default();
		for (_, q) in Queries::<T>::iter() {
			if !matches!(q.status, QueryStatus::Answered { .. }) {
				live += 1;
				*per_client.entry(q.client).or_default() += 1;
			}
		}
		ensure!(QueryCount::<T>::get() == live, "QueryCount differs from the live queries");
		for (client, n) in ClientQueries::<T>::iter() {
			ensure!(per_client.remove(&client) == Some(n), "ClientQueries differs from the client's live queries");
		}
		ensure!(per_client.is_empty(), "a client with live queries but no count");
		for (query, who, _) in Answers::<T>::iter() {
			let q = Queries::<T>::get(query).ok_or("an answer to no query")?;
			ensure!(q.answerers.contains(&who), "an answer from a validator not assigned");
		}
		for (provider, client, _) in RatingDeposits::<T>::iter() {
			ensure!(Ratings::<T>::contains_key(&provider, &client), "a rating deposit without its rating");
		}
		if !T::RatingDeposit::get().is_zero() {
			for (provider, client, _) in Ratings::<T>::iter() {
				ensure!(RatingDeposits::<T>::contains_key(&provider, &client), "a rating without its deposit");
			}
		}
		for (query, _, ()) in RatedAnswers::<T>::iter() {
			ensure!(Queries::<T>::contains_key(query), "a rated answer of no query");
		}
		// Due steps are never lost: every bucket left is of a later block, or of the block the
		// next one carries on from, or after it.
		let next = DueIncompleteSince::<T>::get().unwrap_or_else(|| frame_system::Pallet::<T>::block_number().saturating_add(One::one()));
		ensure!(Due::<T>::iter_keys().all(|at| at >= next), "a bucket of due steps that no block will run");
		Ok(())
	}
}
