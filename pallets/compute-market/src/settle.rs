//! A query's end: evaluation of the revealed answers, disputes through the weighted vote,
//! payment of the accepted answerers, router and protocol, and refunds.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungible::{Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use loopx_primitives::{
	agenda, answers::answers_agree, ClaimClass, ClaimId, ClaimOutcome, ClaimRegistry, ClaimRequest, ContributionCategory, ContributionSink, Decision,
	FeeSink, Outcome, ReputationHandler, ReputationReason, RewardPot,
};
use sp_runtime::traits::{BlakeTwo256, Hash as _};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// What a query's claims are about: `blake2_256(SCALE("loopx/query", query))`.
	pub fn claim_subject(query: QueryId) -> H256 {
		BlakeTwo256::hash_of(&(b"loopx/query", query))
	}

	/// Settles the revealed answers of `query` (all revealed, or the deadline came): agreeing
	/// answers from every assigned validator answer it; anything else goes to the vote.
	pub(crate) fn evaluate(query: QueryId, mut q: QueryOf<T>) {
		let mut revealed: Vec<(T::AccountId, ResultOf<T>)> = Vec::new();
		for who in q.answerers.iter() {
			match Answers::<T>::get(query, who).and_then(|a| a.result) {
				Some(result) => revealed.push((who.clone(), result)),
				None => {
					T::Reputations::penalize(who, T::MissedAnswerPenalty::get(), ReputationReason::DealFailed);
					Self::deposit_event(Event::AnswerMissed { query, who: who.clone() });
				},
			}
		}
		let Some((_, first)) = revealed.first().cloned() else {
			Self::refund(query, &q, RefundReason::NoAnswer);
			Self::remove_query(query, &q);
			return;
		};
		// Inference outputs agree within a tolerance (floating point differs by platform);
		// aggregation answers byte for byte. The first answer is the one recorded.
		let inference = matches!(q.kind, QueryKind::Inference { .. });
		if revealed.len() == q.redundancy as usize && revealed.iter().all(|(_, r)| answers_agree(inference, r, &first)) {
			let answerers = revealed.into_iter().map(|(who, _)| who).collect();
			Self::answered(query, q, answerers, first, false);
			return;
		}
		// Disagreement, or too few answers to compare: each revealed answer is a claim.
		let opened = with_storage_layer(|| -> Result<u32, sp_runtime::DispatchError> {
			for (who, result) in revealed.iter() {
				let id = T::Claims::open_claim(ClaimRequest {
					class: ClaimClass::QueryResult,
					claimant: who.clone(),
					subject: Self::claim_subject(query),
					commitment: BlakeTwo256::hash(result),
					claimed_score: None,
					sealed_score: None,
					must_beat: None,
					thresholds: None,
					// The client is refunded if no answer is accepted.
					conflicted: alloc::vec![q.client.clone()],
					// The other answerers judge this answer only where nobody else can; a
					// rejected answer's share goes back to the client, never to them.
					rivals: q.answerers.iter().filter(|a| *a != who).cloned().collect(),
				})?;
				AnswerClaims::<T>::insert(id, (query, who.clone()));
			}
			Ok(revealed.len() as u32)
		});
		match opened {
			Ok(claims) => {
				q.status = QueryStatus::Disputed { pending: claims };
				q.due = None;
				Queries::<T>::insert(query, q);
				Self::deposit_event(Event::QueryDisputed { query, claims });
			},
			Err(e) => {
				log::warn!(target: "runtime::compute-market", "query {query}: dispute could not be opened: {e:?}");
				Self::refund(query, &q, RefundReason::DisputeFailed);
				Self::remove_query(query, &q);
			},
		}
	}

	/// The vote decided on one disputed answer.
	fn on_answer_judged(claim: ClaimId, decision: &Decision) {
		let Some((query, who)) = AnswerClaims::<T>::take(claim) else { return };
		let Some(mut q) = Queries::<T>::get(query) else { return };
		let QueryStatus::Disputed { pending } = q.status else { return };
		let accepted = decision.outcome == Outcome::Accepted;
		if accepted {
			Answers::<T>::mutate(query, &who, |a| {
				if let Some(a) = a {
					a.accepted = true;
				}
			});
		}
		Self::deposit_event(Event::AnswerJudged { query, who, accepted });
		let pending = pending.saturating_sub(1);
		if pending > 0 {
			q.status = QueryStatus::Disputed { pending };
			Queries::<T>::insert(query, q);
			return;
		}
		// All judged: the accepted answers (in assignment order) are paid; the first one's
		// result is the query's.
		let mut accepted: Vec<(T::AccountId, ResultOf<T>)> = Vec::new();
		for a in q.answerers.iter() {
			if let Some(Answer { result: Some(result), accepted: true, .. }) = Answers::<T>::get(query, a) {
				accepted.push((a.clone(), result));
			}
		}
		match accepted.first().cloned() {
			Some((_, result)) => {
				let answerers = accepted.into_iter().map(|(who, _)| who).collect();
				Self::answered(query, q, answerers, result, true);
			},
			None => {
				Self::refund(query, &q, RefundReason::NoAcceptedAnswer);
				Self::remove_query(query, &q);
			},
		}
	}

	/// Whether independent parties checked an accepted result: the vote did (`by_vote`), or at
	/// least two answerers that the runtime drew agreed. A router's pick is not independent (the
	/// router may be the client's own account choosing the client's own validator), and a lone
	/// answerer is checked by nobody.
	pub(crate) fn verified(q: &QueryOf<T>, answerers: usize, by_vote: bool) -> bool {
		by_vote || (q.router.is_none() && answerers >= 2)
	}

	/// Pays for an accepted `result` by `answerers` and keeps the result for its lifetime.
	/// `by_vote`: the vote already moved the answerers' reputations. Only a verified result
	/// ([`Self::verified`]) earns reputation and contribution points; any result earns its fee.
	fn answered(query: QueryId, mut q: QueryOf<T>, answerers: Vec<T::AccountId>, result: ResultOf<T>, by_vote: bool) {
		if let Err(e) = with_storage_layer(|| Self::pay_out(query, &q, &answerers)) {
			log::error!(target: "runtime::compute-market", "query {query}: payout failed: {e:?}");
			Self::refund(query, &q, RefundReason::NoAcceptedAnswer);
			Self::remove_query(query, &q);
			return;
		}
		let verified = Self::verified(&q, answerers.len(), by_vote);
		for who in answerers.iter().filter(|_| verified) {
			if !by_vote {
				T::Reputations::reward(who, T::AnswerReputation::get(), ReputationReason::ClaimAccepted);
			}
			T::Contributions::note(who, ContributionCategory::QueryAnswer, T::AnswerPoints::get());
		}
		if let Some((router, _)) = q.router.as_ref().filter(|_| verified) {
			T::Contributions::note(router, ContributionCategory::Routing, T::RoutingPoints::get());
		}
		for a in q.answerers.iter() {
			Answers::<T>::remove(query, a);
		}
		let now = frame_system::Pallet::<T>::block_number();
		let expires = now.saturating_add(T::ResultLifetime::get());
		let result_hash = BlakeTwo256::hash(&result);
		Self::deposit_event(Event::QueryAnswered { query, result: result.clone(), answerers: answerers.clone(), expires, verified });
		q.answerers = BoundedVec::truncate_from(answerers);
		match agenda::schedule::<Due<T>, _, _, _>(expires, query) {
			Some(due) => {
				// Answered: no longer live, so the client's and the chain's query slots free up
				// now, not when the result expires.
				Self::end_live(&q.client);
				q.status = QueryStatus::Answered { result_hash, expires: due };
				q.due = Some(due);
				Results::<T>::insert(query, result);
				Queries::<T>::insert(query, q);
			},
			// No room to schedule the removal: the result lives only in the event.
			None => {
				Self::remove_query(query, &q);
				Self::deposit_event(Event::QueryExpired { query });
			},
		}
	}

	/// Splits the fee: protocol, router, one share per assigned answerer to each of
	/// `answerers` (the accepted ones), the remainder back to the payer. A share is the same
	/// whoever else is accepted: an answerer gains nothing when a rival's answer is rejected or
	/// missing (that share goes back to the client), so it has no reason to vote a true answer
	/// down.
	fn pay_out(query: QueryId, q: &QueryOf<T>, answerers: &[T::AccountId]) -> DispatchResult {
		let fee = q.fee;
		let protocol = T::ProtocolFee::get().mul_floor(fee);
		let router_cut = q.router.as_ref().map(|(_, share)| share.mul_floor(fee)).unwrap_or_else(Zero::zero);
		let rest = fee.saturating_sub(protocol).saturating_sub(router_cut);
		let assigned = q.answerers.len().max(q.redundancy as usize).max(answerers.len()).max(1);
		let each = rest / BalanceOf::<T>::from(assigned as u32);
		let n = BalanceOf::<T>::from(answerers.len() as u32);
		for who in answerers {
			Self::pay_from_fee(q, who, each)?;
			Self::deposit_event(Event::AnswerPaid { query, who: who.clone(), amount: each });
		}
		if let Some((router, _)) = &q.router {
			Self::pay_from_fee(q, router, router_cut)?;
			Self::deposit_event(Event::RouterPaid { query, router: router.clone(), amount: router_cut });
		}
		if !protocol.is_zero() {
			let from = match q.payer {
				Payer::Client => {
					T::Currency::release(&HoldReason::QueryFee.into(), &q.client, protocol, Precision::Exact)?;
					q.client.clone()
				},
				Payer::Pot => Self::escrow_account(),
			};
			T::Fees::pay_fee(&from, protocol)?;
			Self::deposit_event(Event::ProtocolFeePaid { query, amount: protocol });
		}
		Self::return_to_payer(q, rest.saturating_sub(each.saturating_mul(n)))
	}

	/// Moves `amount` of `q`'s fee to `to`.
	fn pay_from_fee(q: &QueryOf<T>, to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		match q.payer {
			Payer::Client => T::Currency::transfer_on_hold(
				&HoldReason::QueryFee.into(),
				&q.client,
				to,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)
			.map(|_| ()),
			Payer::Pot => T::Currency::transfer(&Self::escrow_account(), to, amount, Preservation::Expendable).map(|_| ()),
		}
	}

	/// Gives `amount` of `q`'s fee back to its payer.
	fn return_to_payer(q: &QueryOf<T>, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		match q.payer {
			Payer::Client => T::Currency::release(&HoldReason::QueryFee.into(), &q.client, amount, Precision::Exact).map(|_| ()),
			Payer::Pot => T::Currency::transfer(&Self::escrow_account(), &T::Pot::account(), amount, Preservation::Expendable).map(|_| ()),
		}
	}

	/// Gives the whole fee back.
	pub(crate) fn refund(query: QueryId, q: &QueryOf<T>, reason: RefundReason) {
		if let Err(e) = Self::return_to_payer(q, q.fee) {
			log::error!(target: "runtime::compute-market", "query {query}: refund failed: {e:?}");
		}
		Self::deposit_event(Event::QueryRefunded { query, payer: q.payer, amount: q.fee, reason });
	}
}

impl<T: Config> ClaimOutcome<T::AccountId> for Pallet<T> {
	fn on_claim_decided(id: ClaimId, class: ClaimClass, _: &T::AccountId, _: &H256, decision: &Decision) -> Weight {
		if class != ClaimClass::QueryResult {
			return Weight::zero();
		}
		Self::on_answer_judged(id, decision);
		T::WeightInfo::answer_judged(T::MaxRedundancy::get())
	}

	fn weight_bound(class: ClaimClass) -> Weight {
		if class != ClaimClass::QueryResult {
			return Weight::zero();
		}
		T::WeightInfo::answer_judged(T::MaxRedundancy::get())
	}
}
