//! Property test over random sequences of compute-market actions (paid and free queries,
//! routers, assignments, honest and forged answers, verdicts, passes, ratings, blocks and eras
//! passing): after every action
//! - a failed action changed no storage at all and emitted nothing;
//! - holds equal what queries, routers and passes hold, the free-query escrow holds exactly the
//!   fees of free queries in progress, and all balances add up to the unchanged total issuance;
//! - every account holds exactly what the events say it was paid or paid.

use crate::{mock::*, *};
use frame_support::traits::fungible::Inspect;
use loopx_primitives::{ClaimClass, ClaimOutcome, Decision, Outcome};
use proptest::prelude::*;
use std::collections::BTreeMap;

const VALIDATORS: [AccountId; 4] = [V1, V2, V3, WEAK];
const CLIENTS: [AccountId; 2] = [CLIENT, OTHER];

#[derive(Clone, Debug)]
enum Action {
	Post { client: usize, free: bool, fee: u128, redundancy: u32, inference: bool, deadline: u64 },
	Lock(usize, u128),
	RequestUnlock(usize),
	Unlock(usize),
	RegisterRouter(u32),
	UnregisterRouter,
	Assign { query: usize, first: usize, redundancy: usize },
	Commit { query: usize, validator: usize, forged: bool },
	Reveal { query: usize, validator: usize },
	Decide { claim: usize, outcome: u8 },
	Rate { query: usize, provider: usize, rating: u8 },
	Advance(u64),
}

fn action() -> impl Strategy<Value = Action> {
	prop_oneof![
		3 => (0usize..2, any::<bool>(), 50u128..3_000, 0u32..5, any::<bool>(), 5u64..40)
			.prop_map(|(client, free, fee, redundancy, inference, deadline)| Action::Post { client, free, fee, redundancy, inference, deadline }),
		1 => (0usize..2, 0u128..4_000).prop_map(|(w, a)| Action::Lock(w, a)),
		1 => (0usize..2).prop_map(Action::RequestUnlock),
		1 => (0usize..2).prop_map(Action::Unlock),
		1 => (0u32..30).prop_map(Action::RegisterRouter),
		1 => Just(Action::UnregisterRouter),
		2 => (any::<usize>(), 0usize..4, 1usize..4).prop_map(|(query, first, redundancy)| Action::Assign { query, first, redundancy }),
		5 => (any::<usize>(), 0usize..10, prop::bool::weighted(0.2)).prop_map(|(query, validator, forged)| Action::Commit { query, validator, forged }),
		5 => (any::<usize>(), 0usize..10).prop_map(|(query, validator)| Action::Reveal { query, validator }),
		3 => (any::<usize>(), 0u8..3).prop_map(|(claim, outcome)| Action::Decide { claim, outcome }),
		1 => (any::<usize>(), 0usize..4, 0u8..3).prop_map(|(query, provider, rating)| Action::Rate { query, provider, rating }),
		3 => (1u64..8).prop_map(Action::Advance),
	]
}

fn pick<K: Copy>(keys: &[K], i: usize) -> Option<K> {
	(!keys.is_empty()).then(|| keys[i % keys.len()])
}

/// Mostly one of the validators assigned to `q` (so that histories reach answers), sometimes
/// any validator.
fn assigned(q: QueryId, i: usize) -> AccountId {
	let answerers = Queries::<Test>::get(q).map(|x| x.answerers.into_inner()).unwrap_or_default();
	if i % 5 == 4 || answerers.is_empty() {
		VALIDATORS[i % 4]
	} else {
		answerers[i % answerers.len()]
	}
}

/// The results committed so far, so that reveals reveal them.
type Committed = BTreeMap<(QueryId, AccountId), Vec<u8>>;

fn apply(action: &Action, committed: &mut Committed) -> DispatchResult {
	let mut queries: Vec<QueryId> = Queries::<Test>::iter_keys().collect();
	queries.sort();
	let query = |i| pick(&queries, i).unwrap_or(999);
	let signed = RuntimeOrigin::signed;
	match *action {
		Action::Post { client, free, fee, redundancy, inference, deadline } => {
			let kind = if inference {
				QueryKind::Inference { model: MODEL.0, version: MODEL.1, input: vec![1] }
			} else {
				QueryKind::Aggregation { sql: b"SELECT COUNT(*) FROM tx".to_vec(), dataset: b"wallets".to_vec() }
			};
			let thresholds = Thresholds { min_stake: 0, min_reputation: 0 };
			let deadline = System::block_number() + deadline;
			let who = signed(CLIENTS[client]);
			if free {
				ComputeMarket::post_free_query(who, kind, redundancy, thresholds, deadline)
			} else {
				ComputeMarket::post_query(who, kind, fee, redundancy, thresholds, deadline)
			}
		},
		Action::Lock(w, amount) => ComputeMarket::lock_for_pass(signed(CLIENTS[w]), amount),
		Action::RequestUnlock(w) => ComputeMarket::request_unlock(signed(CLIENTS[w])),
		Action::Unlock(w) => ComputeMarket::unlock(signed(CLIENTS[w])),
		Action::RegisterRouter(percent) => Routers::register_router(signed(ROUTER), Perbill::from_percent(percent)),
		Action::UnregisterRouter => Routers::unregister_router(signed(ROUTER)),
		Action::Assign { query: q, first, redundancy } => {
			let chosen: Vec<AccountId> = (0..redundancy).map(|k| VALIDATORS[(first + k) % 4]).collect();
			ComputeMarket::assign(signed(ROUTER), query(q), BoundedVec::truncate_from(chosen))
		},
		Action::Commit { query: q, validator, forged } => {
			let (q, who) = (query(q), assigned(query(q), validator));
			let result = if forged { format!("forged by {who}").into_bytes() } else { b"the answer".to_vec() };
			let commitment = ComputeMarket::answer_commitment(q, &who, &result, &[who as u8; 32]);
			let question = Queries::<Test>::get(q).map(|x| crate::question_hash(&x.kind)).unwrap_or_default();
			ComputeMarket::commit_answer(signed(who), q, question, commitment)?;
			committed.insert((q, who), result);
			Ok(())
		},
		Action::Reveal { query: q, validator } => {
			let (q, who) = (query(q), assigned(query(q), validator));
			let result = committed.get(&(q, who)).cloned().unwrap_or_default();
			ComputeMarket::reveal_answer(signed(who), q, result, [who as u8; 32]).map(|_| ()).map_err(|e| e.error)
		},
		Action::Decide { claim, outcome } => {
			let mut claims: Vec<_> = AnswerClaims::<Test>::iter_keys().collect();
			claims.sort();
			if let Some(id) = pick(&claims, claim) {
				let outcome = [Outcome::Accepted, Outcome::Rejected, Outcome::NoQuorum][outcome as usize];
				let d = Decision { outcome, score: None, revealed_weight: 1, agreeing_weight: 1 };
				ComputeMarket::on_claim_decided(id, ClaimClass::QueryResult, &0, &H256::zero(), &d);
			}
			Ok(())
		},
		Action::Rate { query: q, provider, rating } => {
			let rating = [Rating::Good, Rating::Fair, Rating::Bad][rating as usize];
			let client = Queries::<Test>::get(query(q)).map_or(CLIENT, |x| x.client);
			ComputeMarket::rate(signed(client), query(q), VALIDATORS[provider], rating)
		},
		Action::Advance(n) => {
			run_to(System::block_number() + n);
			set_era((System::block_number() / 10) as u32);
			Ok(())
		},
	}
}

/// What the events say each account should hold in total (free + held).
fn expected_totals() -> BTreeMap<AccountId, Balance> {
	let mut totals: BTreeMap<AccountId, Balance> = ACCOUNTS.iter().map(|a| (*a, INITIAL)).collect();
	totals.insert(POT, POT_FUNDS);
	let escrow = ComputeMarket::escrow_account();
	// Each query's payer and what of its fee is left to pay.
	let mut payer: BTreeMap<QueryId, (AccountId, Payer)> = BTreeMap::new();
	let mut left: BTreeMap<QueryId, Balance> = BTreeMap::new();
	for event in market_events() {
		match event {
			Event::QueryPosted { query, client, fee, free, .. } => {
				if free {
					*totals.entry(POT).or_default() -= fee;
					*totals.entry(escrow).or_default() += fee;
					payer.insert(query, (escrow, Payer::Pot));
				} else {
					payer.insert(query, (client, Payer::Client));
				}
				left.insert(query, fee);
			},
			Event::AnswerPaid { query, who: to, amount } | Event::RouterPaid { query, router: to, amount } => {
				*totals.entry(payer[&query].0).or_default() -= amount;
				*totals.entry(to).or_default() += amount;
				*left.get_mut(&query).unwrap() -= amount;
			},
			Event::ProtocolFeePaid { query, amount } => {
				*totals.entry(payer[&query].0).or_default() -= amount;
				*totals.entry(POT).or_default() += amount;
				*left.get_mut(&query).unwrap() -= amount;
			},
			// What a free query did not spend goes back to the pot.
			Event::QueryAnswered { query, .. } | Event::QueryRefunded { query, .. } if payer[&query].1 == Payer::Pot => {
				let rest = left.remove(&query).unwrap_or(0);
				*totals.entry(escrow).or_default() -= rest;
				*totals.entry(POT).or_default() += rest;
			},
			_ => {},
		}
	}
	totals
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]
	#[test]
	fn random_histories_conserve_issuance_and_pay_what_the_events_say(actions in prop::collection::vec(action(), 1..80)) {
		new_test_ext().execute_with(|| {
			for who in VALIDATORS {
				let tags = BoundedVec::truncate_from(vec![BoundedVec::truncate_from(b"wallets".to_vec())]);
				ComputeMarket::advertise(RuntimeOrigin::signed(who), tags, BoundedVec::truncate_from(vec![MODEL]), 10).unwrap();
			}
			let mut committed = Committed::new();
			for action in &actions {
				let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
				let events = System::event_count();
				if apply(action, &mut committed).is_err() {
					prop_assert_eq!(System::event_count(), events, "a failed {:?} emitted events", action);
					prop_assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "a failed {:?} changed storage", action);
				}
				assert_books_balance();
				for (who, total) in expected_totals() {
					prop_assert_eq!(Balances::total_balance(&who), total, "account {} after {:?}", who, action);
				}
				// The counts are of live queries: every stored one that is not answered.
				let live: Vec<_> = Queries::<Test>::iter().filter(|(_, q)| !matches!(q.status, QueryStatus::Answered { .. })).collect();
				prop_assert_eq!(QueryCount::<Test>::get() as usize, live.len());
				for (client, n) in ClientQueries::<Test>::iter() {
					prop_assert_eq!(n as usize, live.iter().filter(|(_, q)| q.client == client).count());
				}
				prop_assert_eq!(ClientQueries::<Test>::iter_values().sum::<u32>() as usize, live.len());
				if let Err(e) = ComputeMarket::do_try_state() {
					return Err(TestCaseError::fail(format!("after {action:?}: {e:?}")));
				}
			}
			Ok(())
		})?;
	}
}
