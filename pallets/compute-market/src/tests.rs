//! Unit tests: every call and its failure paths, routing, answers, disputes, payment, passes
//! and ratings.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use frame_support::{
	traits::{Get, Hooks},
	weights::Weight,
};
use loopx_primitives::{ClaimClass, ClaimOutcome, ContributionCategory as C, Decision, Outcome, ReputationReason};
use sp_runtime::{traits::Zero, TokenError};

type CM = Pallet<Test>;
type E = Error<Test>;

const SQL: &str = "SELECT wallet, COUNT(*), AVG(amount) FROM tx GROUP BY wallet";

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}
fn tag(t: &str) -> TagOf<Test> {
	t.as_bytes().to_vec().try_into().unwrap()
}
fn aggregation(sql: &str) -> KindInput {
	QueryKind::Aggregation { sql: sql.as_bytes().to_vec(), dataset: b"wallets".to_vec() }
}
fn inference(model: (u32, u32)) -> KindInput {
	QueryKind::Inference { model: model.0, version: model.1, input: vec![1, 2, 3] }
}
fn loose() -> Thresholds {
	Thresholds { min_stake: 0, min_reputation: 0 }
}
/// V1–V3 and WEAK hold the "wallets" data set and serve [`MODEL`] at price 10.
fn advertise_all() {
	for v in [V1, V2, V3, WEAK] {
		assert_ok!(CM::advertise(origin(v), vec![tag("wallets")].try_into().unwrap(), vec![MODEL].try_into().unwrap(), 10));
	}
}
fn post(fee: Balance, r: u32) -> QueryId {
	assert_ok!(CM::post_query(origin(CLIENT), aggregation(SQL), fee, r, loose(), 20));
	NextQueryId::<Test>::get() - 1
}
fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}
fn held_fee(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ComputeMarket(HoldReason::QueryFee), &who)
}
fn salt(who: AccountId) -> [u8; 32] {
	[who as u8; 32]
}
/// The question hash of stored query `q` (what a commit names besides the number).
fn question(q: QueryId) -> H256 {
	crate::question_hash(&Queries::<Test>::get(q).expect("stored").kind)
}
fn commit(q: QueryId, who: AccountId, result: &[u8]) {
	assert_ok!(CM::commit_answer(origin(who), q, question(q), CM::answer_commitment(q, &who, result, &salt(who))));
}
fn reveal(q: QueryId, who: AccountId, result: &[u8]) {
	assert_ok!(CM::reveal_answer(origin(who), q, result.to_vec(), salt(who)));
}
fn router_assign(q: QueryId, validators: Vec<AccountId>) {
	assert_ok!(CM::assign(origin(ROUTER), q, validators.try_into().unwrap()));
}
/// Every validator advertises, a zero-fee router is registered and assigns `validators` to a
/// new query of `fee` (redundancy: their number).
fn routed(fee: Balance, validators: Vec<AccountId>) -> QueryId {
	advertise_all();
	if !pallet_routers::Routers::<Test>::contains_key(ROUTER) {
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
	}
	let q = post(fee, validators.len() as u32);
	router_assign(q, validators);
	q
}
/// Each validator commits its result, then each reveals it.
fn answer(q: QueryId, answers: &[(AccountId, &[u8])]) {
	for (who, result) in answers {
		commit(q, *who, result);
	}
	for (who, result) in answers {
		reveal(q, *who, result);
	}
}
fn status(q: QueryId) -> QueryStatus<u64> {
	Queries::<Test>::get(q).unwrap().status
}
fn decide(claim: u64, outcome: Outcome) {
	let decision = Decision { outcome, score: None, revealed_weight: 3, agreeing_weight: 2 };
	CM::on_claim_decided(claim, ClaimClass::QueryResult, &0, &Default::default(), &decision);
}

#[test]
fn only_active_validators_advertise_known_things() {
	new_test_ext().execute_with(|| {
		let tags = || -> BoundedVec<TagOf<Test>, _> { vec![tag("wallets")].try_into().unwrap() };
		assert_noop!(CM::advertise(origin(CLIENT), tags(), Default::default(), 10), E::NotValidator);
		assert_noop!(CM::advertise(origin(V1), vec![tag("")].try_into().unwrap(), Default::default(), 10), E::BadTag);
		assert_noop!(CM::advertise(origin(V1), tags(), vec![(7, 2)].try_into().unwrap(), 10), E::UnknownModel);
		assert_ok!(CM::advertise(origin(V1), tags(), vec![MODEL].try_into().unwrap(), 10));
		assert_eq!(Capabilities::<Test>::get(V1).unwrap().price, 10);
		assert!(matches!(market_events().last(), Some(Event::CapabilitiesSet { who: V1, .. })));
		assert_ok!(CM::withdraw_capabilities(origin(V1)));
		assert!(Capabilities::<Test>::get(V1).is_none());
		assert_noop!(CM::withdraw_capabilities(origin(V1)), E::NotValidator);
	});
}

#[test]
fn routers_come_from_the_shared_registry_and_leaving_it_stops_assigning() {
	new_test_ext().execute_with(|| {
		// Registration, its bond and its fee cap are the registry's (pallet-routers' tests);
		// here: only accounts the registry holds assign, at the fee they registered.
		advertise_all();
		let q = post(1_000, 2);
		assert_noop!(CM::assign(origin(ROUTER), q, vec![V1, V2].try_into().unwrap()), E::NotRouter);
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::from_percent(5)));
		assert_eq!(free(ROUTER), INITIAL - 500);
		assert_ok!(Routers::unregister_router(origin(ROUTER)));
		assert_eq!(free(ROUTER), INITIAL);
		assert_noop!(CM::assign(origin(ROUTER), q, vec![V1, V2].try_into().unwrap()), E::NotRouter);
		assert_books_balance();
	});
}

#[test]
fn malformed_oversized_writing_and_non_deterministic_sql_is_refused() {
	new_test_ext().execute_with(|| {
		let try_sql =
			|sql: Vec<u8>| CM::post_query(origin(CLIENT), QueryKind::Aggregation { sql, dataset: b"wallets".to_vec() }, 1_000, 1, loose(), 20);
		assert_noop!(try_sql(vec![b'x'; 257]), E::SqlTooLong);
		assert_noop!(try_sql(b" -- nothing".to_vec()), E::EmptySql);
		assert_noop!(try_sql(b"SELECT 'open".to_vec()), E::MalformedSql);
		assert_noop!(try_sql(vec![0xff, 0xfe]), E::MalformedSql);
		assert_noop!(try_sql(b"SELECT 1; SELECT 2".to_vec()), E::MultipleStatements);
		assert_noop!(try_sql(b"DELETE FROM tx".to_vec()), E::NotReadOnly);
		assert_noop!(try_sql(b"WITH x AS (SELECT 1) UPDATE tx SET a = 1".to_vec()), E::NotReadOnly);
		// Honest answerers would disagree on these, and be slashed for it.
		assert_noop!(try_sql(b"SELECT random() AS r".to_vec()), E::NonDeterministicSql);
		assert_noop!(try_sql(b"SELECT COUNT(*) FROM tx WHERE ts < strftime('%s', 'now')".to_vec()), E::NonDeterministicSql);
		assert_noop!(try_sql(b"SELECT CURRENT_TIMESTAMP".to_vec()), E::NonDeterministicSql);
		let bad_tag = |dataset: Vec<u8>| CM::post_query(origin(CLIENT), QueryKind::Aggregation { sql: SQL.into(), dataset }, 1_000, 1, loose(), 20);
		assert_noop!(bad_tag(vec![]), E::BadTag);
		assert_noop!(bad_tag(vec![b'a'; 33]), E::BadTag);
		assert_eq!(held_fee(CLIENT), 0);
	});
}

#[test]
fn a_query_over_the_chains_tables_names_a_block_that_exists_and_goes_to_validators_indexing_it() {
	new_test_ext().execute_with(|| {
		let over = |dataset: &str| {
			let kind = QueryKind::Aggregation { sql: b"SELECT COUNT(*), SUM(amount) FROM transfers".to_vec(), dataset: dataset.as_bytes().to_vec() };
			CM::post_query(origin(CLIENT), kind, 1_000, 2, loose(), 20)
		};
		run_to(5);
		// The block is named once, in canonical decimal.
		for bad in ["chain", "chain@", "chain@05", "chain@x", "chain@4294967296", "chain/v2"] {
			assert_noop!(over(bad), E::BadChainBlock);
		}
		// Block 5 is being built and block 6 does not exist: answerers could not index them.
		assert_noop!(over("chain@5"), E::ChainBlockNotYetProduced);
		assert_noop!(over("chain@6"), E::ChainBlockNotYetProduced);
		// V1 and V2 index the chain in the runtime's schema version, V3 in an older one (a node
		// not upgraded yet): a query at any block goes to the validators advertising `chain/v2`.
		for v in [V1, V2] {
			assert_ok!(CM::advertise(origin(v), vec![tag("chain/v2"), tag("wallets")].try_into().unwrap(), Default::default(), 10));
		}
		assert_ok!(CM::advertise(origin(V3), vec![tag("chain/v1"), tag("wallets")].try_into().unwrap(), Default::default(), 10));
		assert_ok!(over("chain@4"));
		assert_ok!(over("chain@0"));
		for q in [NextQueryId::<Test>::get() - 2, NextQueryId::<Test>::get() - 1] {
			let eligible: Vec<AccountId> = CM::eligible(&Queries::<Test>::get(q).unwrap()).into_iter().map(|v| v.who).collect();
			assert_eq!(eligible, vec![V1, V2]);
		}
		// V3 now keeps the last 1,200 blocks only: it is drawn for a range it will still hold at
		// the query's deadline (block 20 here), not for one reaching further back.
		assert_ok!(CM::advertise(origin(V3), vec![tag("chain/v2/last1200")].try_into().unwrap(), Default::default(), 10));
		assert_noop!(over("chain@3..2"), E::BadChainBlock);
		assert_ok!(over("chain@1..4"));
		let recent = Queries::<Test>::get(NextQueryId::<Test>::get() - 1).unwrap();
		assert_eq!(CM::eligible(&recent).into_iter().map(|v| v.who).collect::<Vec<_>>(), vec![V1, V2, V3]);
		run_to(1_300);
		let late = |dataset: &str| {
			let kind = QueryKind::Aggregation { sql: b"SELECT COUNT(*) FROM transfers".to_vec(), dataset: dataset.as_bytes().to_vec() };
			assert_ok!(CM::post_query(origin(CLIENT), kind, 1_000, 2, loose(), 1_340));
			let q = Queries::<Test>::get(NextQueryId::<Test>::get() - 1).unwrap();
			CM::eligible(&q).into_iter().map(|v| v.who).collect::<Vec<_>>()
		};
		assert_eq!(late("chain@141..1200"), vec![V1, V2, V3]);
		assert_eq!(late("chain@140..1200"), vec![V1, V2]);
		assert_eq!(late("chain@1200"), vec![V1, V2]);
		// `chain` alone is not a block, and a tag that merely starts with it is another dataset.
		assert_ok!(CM::post_query(
			origin(CLIENT),
			QueryKind::Aggregation { sql: SQL.into(), dataset: b"chainlink".to_vec() },
			1_000,
			1,
			loose(),
			1_340
		));
		assert_books_balance();
	});
}

#[test]
fn query_parameters_are_checked() {
	new_test_ext().execute_with(|| {
		let post = |kind, fee, r, t, deadline| CM::post_query(origin(CLIENT), kind, fee, r, t, deadline);
		assert_noop!(post(inference((7, 2)), 1_000, 1, loose(), 20), E::UnknownModel);
		let big = QueryKind::Inference { model: 7, version: 1, input: vec![0; 65] };
		assert_noop!(post(big, 1_000, 1, loose(), 20), E::InputTooLarge);
		assert_noop!(post(aggregation(SQL), 1_000, 0, loose(), 20), E::ZeroRedundancy);
		assert_noop!(post(aggregation(SQL), 1_000, 5, loose(), 20), E::RedundancyTooHigh);
		let strict = Thresholds { min_stake: 10_001, min_reputation: 0 };
		assert_noop!(post(aggregation(SQL), 1_000, 1, strict, 20), E::ThresholdsOutOfBounds);
		run_to(5);
		assert_noop!(post(aggregation(SQL), 1_000, 1, loose(), 5), E::DeadlinePassed);
		assert_noop!(post(aggregation(SQL), 1_000, 1, loose(), 3), E::DeadlinePassed);
		// Router window 3 + two answer periods of 2: the earliest deadline is block 12.
		assert_noop!(post(aggregation(SQL), 1_000, 1, loose(), 11), E::DeadlineTooSoon);
		assert_noop!(post(aggregation(SQL), 1_000, 1, loose(), 106), E::DeadlineTooFar);
		assert_noop!(post(aggregation(SQL), 99, 1, loose(), 20), E::FeeTooLow);
		assert_noop!(post(aggregation(SQL), INITIAL + 1, 1, loose(), 20), TokenError::FundsUnavailable);
		assert_ok!(post(aggregation(SQL), 1_000, 1, loose(), 12));
		assert_ok!(post(inference(MODEL), 1_000, 2, Thresholds { min_stake: 10_000, min_reputation: 900_000 }, 105));
		assert_eq!(held_fee(CLIENT), 2_000);
		assert!(matches!(market_events().last(), Some(Event::QueryPosted { query: 1, fee: 1_000, free: false, .. })));
		assert_books_balance();
	});
}

#[test]
fn the_number_of_live_queries_is_bounded() {
	new_test_ext().execute_with(|| {
		for _ in 0..8 {
			post(100, 1);
		}
		assert_noop!(CM::post_query(origin(OTHER), aggregation(SQL), 100, 1, loose(), 20), E::TooManyQueries);
	});
}

#[test]
fn one_client_cannot_take_every_query_slot() {
	new_test_ext().execute_with(|| {
		MaxQueriesPerClient::set(3);
		for _ in 0..3 {
			post(100, 1);
		}
		assert_noop!(CM::post_query(origin(CLIENT), aggregation(SQL), 100, 1, loose(), 20), E::TooManyQueriesOfClient);
		assert_eq!(ClientQueries::<Test>::get(CLIENT), 3);
		// Another client still gets a slot.
		assert_ok!(CM::post_query(origin(OTHER), aggregation(SQL), 100, 1, loose(), 20));
		assert_eq!(QueryCount::<Test>::get(), 4);
	});
}

#[test]
fn an_answered_query_frees_its_slots_while_its_result_is_kept() {
	new_test_ext().execute_with(|| {
		MaxQueriesPerClient::set(1);
		advertise_all();
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
		let q = post(1_000, 2);
		router_assign(q, vec![V1, V2]);
		let result = b"42";
		commit(q, V1, result);
		commit(q, V2, result);
		reveal(q, V1, result);
		reveal(q, V2, result);
		assert!(matches!(status(q), QueryStatus::Answered { .. }));
		assert!(Results::<Test>::get(q).is_some(), "the result is kept");
		assert_eq!(QueryCount::<Test>::get(), 0);
		assert!(!ClientQueries::<Test>::contains_key(CLIENT));
		// The client may post again at once, though its cap is one live query.
		post(1_000, 2);
		assert_eq!(ClientQueries::<Test>::get(CLIENT), 1);
		// The answered query's expiry does not touch the counts.
		let second = NextQueryId::<Test>::get() - 1;
		run_to(12);
		assert!(Queries::<Test>::get(second).is_some() && Queries::<Test>::get(q).is_some());
		assert_eq!((QueryCount::<Test>::get(), ClientQueries::<Test>::get(CLIENT)), (1, 1));
	});
}

#[test]
fn migration_v2_recounts_live_queries() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
		let q = post(1_000, 2);
		router_assign(q, vec![V1, V2]);
		for v in [V1, V2] {
			commit(q, v, b"1");
		}
		for v in [V1, V2] {
			reveal(q, v, b"1");
		}
		post(100, 1);
		assert_ok!(CM::post_query(origin(OTHER), aggregation(SQL), 100, 1, loose(), 20));
		// As v1 left them: every stored query counted, no per-client counts.
		QueryCount::<Test>::put(3);
		let _ = ClientQueries::<Test>::clear(u32::MAX, None);
		StorageVersion::new(1).put::<CM>();
		crate::migrations::v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(CM::on_chain_storage_version(), StorageVersion::new(2));
		assert_eq!(QueryCount::<Test>::get(), 2);
		assert_eq!((ClientQueries::<Test>::get(CLIENT), ClientQueries::<Test>::get(OTHER)), (1, 1));
	});
}

#[test]
fn agreeing_answers_are_accepted_and_the_fee_is_split() {
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::from_percent(5)));
		let q = post(1_003, 3);
		router_assign(q, vec![V1, V2, V3]);
		let QueryStatus::Answering { commit_end } = status(q) else { panic!("not answering") };
		// Half of the 19 blocks left, from block 1.
		assert_eq!(commit_end, 10);
		let result = b"wallet 1: 3 tx, avg 20";
		commit(q, V1, result);
		commit(q, V2, result);
		// Not everyone committed and the commit phase runs: too early.
		assert_noop!(CM::reveal_answer(origin(V1), q, result.to_vec(), salt(V1)), E::RevealTooEarly);
		commit(q, V3, result);
		let (v1, router, pot) = (free(V1), free(ROUTER), free(POT));
		reveal(q, V1, result);
		reveal(q, V2, result);
		reveal(q, V3, result);
		// Protocol 10 % = 100, router 5 % = 50, the 853 left: 284 each, 1 back to the client.
		assert_eq!(free(V1) - v1, 284);
		assert_eq!(free(ROUTER) - router, 50);
		assert_eq!(free(POT) - pot, 100);
		assert_eq!(held_fee(CLIENT), 0);
		assert_eq!(free(CLIENT), INITIAL - 1_003 + 1);
		let QueryStatus::Answered { expires, .. } = status(q) else { panic!("not answered") };
		assert_eq!(expires, 21);
		assert_eq!(Results::<Test>::get(q).unwrap().into_inner(), result.to_vec());
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryAnswered { query, answerers, .. }
			if *query == q && answerers == &vec![V1, V2, V3])));
		for v in [V1, V2, V3] {
			assert!(Answers::<Test>::get(q, v).is_none(), "answers are cleared");
		}
		// The router picked the answerers: paid, but no reputation or points for anyone.
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryAnswered { verified: false, .. })));
		assert_eq!(points(), vec![]);
		assert_eq!(reputation_changes(), vec![]);
		assert_books_balance();
		// The result expires with the query.
		run_to(21);
		assert!(Queries::<Test>::get(q).is_none() && Results::<Test>::get(q).is_none());
		assert!(market_events().contains(&Event::QueryExpired { query: q }));
		assert_eq!(QueryCount::<Test>::get(), 0);
	});
}

/// Every validator advertises and, with no router, the runtime draws `r` of the four for a new
/// query of `fee` at block 4 (the router window's end). Returns the query and its answerers.
fn drawn(fee: Balance, r: u32) -> (QueryId, Vec<AccountId>) {
	advertise_all();
	let q = post(fee, r);
	run_to(4);
	let answerers = Queries::<Test>::get(q).unwrap().answerers.into_inner();
	assert_eq!(answerers.len(), r as usize);
	(q, answerers)
}

#[test]
fn answers_the_runtime_drew_and_that_agree_earn_reputation_and_points() {
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 3);
		let answers: Vec<_> = answerers.iter().map(|v| (*v, &b"ok"[..])).collect();
		answer(q, &answers);
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryAnswered { query, verified: true, .. } if *query == q)));
		for v in answerers {
			assert!(points().contains(&(v, C::QueryAnswer, 10)));
			assert!(reputation_changes().contains(&(v, 1_000, ReputationReason::ClaimAccepted)));
		}
	});
}

#[test]
fn self_dealing_queries_earn_no_reputation_or_points() {
	// The attack: a client runs its own router and assigns its own validator, which answers
	// and is paid the client's own fee back (less the protocol's share) — before, with a
	// reputation gain and contribution points (a share of the reward pot) each time.
	new_test_ext().execute_with(|| {
		for _ in 0..3 {
			let q = routed(1_000, vec![V1]);
			answer(q, &[(V1, b"ok")]);
			assert!(matches!(status(q), QueryStatus::Answered { .. }));
		}
		assert_eq!(reputation_changes(), vec![]);
		assert_eq!(points(), vec![]);
	});
	// One answerer drawn by the runtime (e.g. the only holder of a private dataset): nobody
	// checked it either.
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 1);
		answer(q, &[(answerers[0], b"ok")]);
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryAnswered { query, verified: false, .. } if *query == q)));
		assert_eq!(reputation_changes(), vec![]);
		assert_eq!(points(), vec![]);
	});
}

#[test]
fn a_client_cannot_rate_answers_nobody_independent_checked() {
	new_test_ext().execute_with(|| {
		let q = routed(1_000, vec![V1, V2]);
		answer(q, &[(V1, b"ok"), (V2, b"ok")]);
		assert_noop!(CM::rate(origin(CLIENT), q, V1, Rating::Good), E::UnverifiedAnswer);
	});
	// Nor a lone answerer the runtime drew (nobody checked it).
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 1);
		answer(q, &[(answerers[0], b"ok")]);
		assert_noop!(CM::rate(origin(CLIENT), q, answerers[0], Rating::Good), E::UnverifiedAnswer);
	});
}

#[test]
fn a_router_cannot_assign_ineligible_validators() {
	new_test_ext().execute_with(|| {
		advertise_all();
		let q = post(1_000, 2);
		let assign = |who, v: Vec<AccountId>| CM::assign(origin(who), q, v.try_into().unwrap());
		assert_noop!(assign(ROUTER, vec![V1, V2]), E::NotRouter);
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::from_percent(5)));
		assert_noop!(CM::assign(origin(ROUTER), 99, vec![V1, V2].try_into().unwrap()), E::QueryNotFound);
		assert_noop!(assign(ROUTER, vec![V1]), E::WrongAssignmentSize);
		assert_noop!(assign(ROUTER, vec![V1, V1]), E::DuplicateValidator);
		// Not a validator.
		assert_noop!(assign(ROUTER, vec![V1, OTHER]), E::IneligibleValidator);
		// Advertises nothing.
		assert_ok!(CM::withdraw_capabilities(origin(V3)));
		assert_noop!(assign(ROUTER, vec![V1, V3]), E::IneligibleValidator);
		// Asks more than the fee's per-answer share (500).
		assert_ok!(CM::advertise(origin(V3), vec![tag("wallets")].try_into().unwrap(), Default::default(), 501));
		assert_noop!(assign(ROUTER, vec![V1, V3]), E::IneligibleValidator);
		// Does not hold the data set.
		assert_ok!(CM::advertise(origin(V3), vec![tag("movies")].try_into().unwrap(), Default::default(), 10));
		assert_noop!(assign(ROUTER, vec![V1, V3]), E::IneligibleValidator);
		// Below the query's reputation threshold.
		assert_ok!(CM::post_query(origin(CLIENT), aggregation(SQL), 1_000, 2, Thresholds { min_stake: 0, min_reputation: 200_000 }, 20));
		assert_noop!(CM::assign(origin(ROUTER), 1, vec![V1, WEAK].try_into().unwrap()), E::IneligibleValidator);
		assert_ok!(assign(ROUTER, vec![V1, V2]));
		// Assigned already.
		assert_noop!(assign(ROUTER, vec![V1, V2]), E::NotOpen);
	});
}

#[test]
fn without_a_router_the_runtime_draws_eligible_validators() {
	new_test_ext().execute_with(|| {
		advertise_all();
		let strict = Thresholds { min_stake: 0, min_reputation: 200_000 };
		assert_ok!(CM::post_query(origin(CLIENT), aggregation(SQL), 1_000, 3, strict, 20));
		run_to(4);
		let q = Queries::<Test>::get(0).unwrap();
		assert!(matches!(q.status, QueryStatus::Answering { .. }));
		let mut drawn = q.answerers.into_inner();
		drawn.sort();
		// WEAK is below the threshold: the three others are drawn.
		assert_eq!(drawn, vec![V1, V2, V3]);
		assert!(q.router.is_none());
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryAssigned { router: None, .. })));
	});
}

fn db() -> frame_support::weights::RuntimeDbWeight {
	<Test as frame_system::Config>::DbWeight::get()
}
/// The weight of `n` routings of one answerer each, with their bucket's read and write.
fn routings(n: u64) -> Weight {
	let db = db();
	let one = db.reads(1).saturating_add(<() as WeightInfo>::route_due(1));
	db.reads_writes(1, 1).saturating_add(one.saturating_mul(n))
}

#[test]
fn due_steps_over_the_budget_wait_in_their_bucket_and_run_in_order_at_the_next_block() {
	new_test_ext().execute_with(|| {
		advertise_all();
		let queries: Vec<_> = (0..4).map(|_| post(1_000, 1)).collect();
		// Block 4 (the router window's end) can route two of the four.
		DueBudget::set(routings(2));
		run_to(3);
		System::set_block_number(4);
		let used = ComputeMarket::on_initialize(4);
		let fixed = db().reads_writes(1, 1);
		assert!(used.all_lte(routings(2).saturating_add(fixed)), "{used:?} over the budget");
		let assigned = |q: &QueryId| matches!(status(*q), QueryStatus::Answering { .. });
		assert_eq!(queries.iter().map(assigned).collect::<Vec<_>>(), vec![true, true, false, false]);
		assert_eq!(DueIncompleteSince::<Test>::get(), Some(4));
		assert_eq!(Due::<Test>::get(4).into_inner(), queries[2..].to_vec());
		assert!(market_events().contains(&Event::DueCarriedOver { since: 4, left: 2 }));
		assert_ok!(CM::do_try_state());
		// Block 5 goes on where block 4 stopped, before its own bucket.
		run_to(5);
		assert!(queries.iter().all(assigned));
		assert_eq!(DueIncompleteSince::<Test>::get(), None);
		assert!(!Due::<Test>::contains_key(4));
		assert_ok!(CM::do_try_state());
		// A bucket behind the cursor would never run: the invariant catches it.
		Due::<Test>::insert(5, BoundedVec::truncate_from(vec![queries[0]]));
		assert!(CM::do_try_state().is_err());
		Due::<Test>::remove(5);
		// The late ones answer within their deadline like the others.
		let late = Queries::<Test>::get(queries[3]).unwrap();
		let QueryStatus::Answering { commit_end } = late.status else { unreachable!() };
		assert!(commit_end > 5 && commit_end < late.deadline);
		assert_books_balance();
	});
}

#[test]
fn a_draw_carried_over_too_late_to_answer_refunds_the_client() {
	new_test_ext().execute_with(|| {
		advertise_all();
		// The earliest deadline: the router window, then a commit and a reveal phase.
		assert_ok!(CM::post_query(origin(CLIENT), aggregation(SQL), 1_000, 1, loose(), 8));
		let q = NextQueryId::<Test>::get() - 1;
		let issuance = Balances::total_issuance();
		// Blocks 4 and 5 have no room for its draw.
		DueBudget::set(routings(0));
		run_to(5);
		assert!(matches!(status(q), QueryStatus::Open { .. }));
		assert_eq!(DueIncompleteSince::<Test>::get(), Some(4));
		// At block 6 two blocks are left, not enough to commit and then reveal.
		DueBudget::set(Weight::MAX);
		run_to(6);
		assert!(Queries::<Test>::get(q).is_none());
		assert_eq!((free(CLIENT), held_fee(CLIENT)), (INITIAL, 0));
		assert!(market_events().contains(&Event::QueryRefunded {
			query: q,
			payer: Payer::Client,
			amount: 1_000,
			reason: RefundReason::RoutedTooLate
		}));
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!((QueryCount::<Test>::get(), DueIncompleteSince::<Test>::get()), (0, None));
		assert_books_balance();
	});
}

#[test]
fn with_too_few_eligible_validators_the_client_is_refunded() {
	new_test_ext().execute_with(|| {
		assert_ok!(CM::advertise(origin(V1), vec![tag("wallets")].try_into().unwrap(), Default::default(), 10));
		let q = post(1_000, 2);
		run_to(4);
		assert!(Queries::<Test>::get(q).is_none());
		assert_eq!((free(CLIENT), held_fee(CLIENT)), (INITIAL, 0));
		assert!(market_events().contains(&Event::QueryRefunded { query: q, payer: Payer::Client, amount: 1_000, reason: RefundReason::NoProviders }));
		assert_books_balance();
	});
}

#[test]
fn a_validator_never_answers_its_own_query() {
	new_test_ext().execute_with(|| {
		advertise_all();
		// V1 asks: it could answer (and forge) its own query and be refunded when the vote
		// cannot decide, or pay itself for it. The three others are drawn.
		assert_ok!(CM::post_query(origin(V1), aggregation(SQL), 1_000, 3, loose(), 20));
		let q = NextQueryId::<Test>::get() - 1;
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
		assert_noop!(CM::assign(origin(ROUTER), q, vec![V1, V2, V3].try_into().unwrap()), E::IneligibleValidator);
		run_to(4);
		let mut drawn = Queries::<Test>::get(q).expect("assigned").answerers.into_inner();
		drawn.sort();
		assert_eq!(drawn, vec![V2, V3, WEAK]);
		// Four answers cannot be had without V1.
		assert_ok!(CM::post_query(origin(V1), aggregation(SQL), 1_000, 4, loose(), 20));
		let q = NextQueryId::<Test>::get() - 1;
		run_to(8);
		assert!(market_events().contains(&Event::QueryRefunded { query: q, payer: Payer::Client, amount: 1_000, reason: RefundReason::NoProviders }));
		assert_books_balance();
	});
}

#[test]
fn a_commit_naming_another_question_is_refused() {
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
		let q = post(1_000, 2);
		router_assign(q, vec![V1, V2]);
		// What the worker hashes (the submitted kind) is what the pallet checks (the stored one).
		assert_eq!(question(q), crate::question_hash(&aggregation(SQL)));
		// An answer worked out for another query (the same number on another fork).
		let other = crate::question_hash(&aggregation("SELECT COUNT(*) FROM tx"));
		let c = CM::answer_commitment(q, &V1, b"r", &salt(V1));
		assert_noop!(CM::commit_answer(origin(V1), q, other, c), E::NotTheQueryAnswered);
		assert!(!Answers::<Test>::contains_key(q, V1), "nothing committed");
		assert_ok!(CM::commit_answer(origin(V1), q, question(q), c));
		System::assert_last_event(Event::AnswerCommitted { query: q, who: V1 }.into());
	});
}

#[test]
fn commits_and_reveals_are_checked() {
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
		let q = post(1_000, 2);
		assert_noop!(CM::commit_answer(origin(V1), q, question(q), Default::default()), E::NotAnswering);
		assert_noop!(CM::commit_answer(origin(V1), 9, H256::zero(), Default::default()), E::QueryNotFound);
		router_assign(q, vec![V1, V2]);
		assert_noop!(CM::commit_answer(origin(V3), q, question(q), Default::default()), E::NotAssigned);
		assert_noop!(CM::reveal_answer(origin(V1), q, b"r".to_vec(), salt(V1)), E::NotCommitted);
		commit(q, V1, b"r");
		assert_noop!(CM::commit_answer(origin(V1), q, question(q), Default::default()), E::AlreadyCommitted);
		commit(q, V2, b"r");
		// A reveal that does not match its commitment (other result, other salt).
		assert_noop!(CM::reveal_answer(origin(V1), q, b"s".to_vec(), salt(V1)), E::RevealMismatch);
		assert_noop!(CM::reveal_answer(origin(V1), q, b"r".to_vec(), salt(V2)), E::RevealMismatch);
		assert_noop!(CM::reveal_answer(origin(V1), q, vec![0; 65], salt(V1)), E::ResultTooLarge);
		// A reveal that does not settle the query pays for the reveal only.
		let info = CM::reveal_answer(origin(V1), q, b"r".to_vec(), salt(V1)).unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::reveal_answer(1)));
		assert_noop!(CM::reveal_answer(origin(V1), q, b"r".to_vec(), salt(V1)), E::AlreadyRevealed);
		// The commit phase ends.
		let q2 = post(1_000, 1);
		router_assign(q2, vec![V3]);
		run_to(11);
		assert_noop!(CM::commit_answer(origin(V3), q2, question(q2), Default::default()), E::CommitPhaseOver);
	});
}

#[test]
fn disagreeing_answers_go_to_the_vote_and_the_accepted_one_is_paid() {
	new_test_ext().execute_with(|| {
		let q = routed(1_000, vec![V1, V2, V3]);
		let (v1, v3) = (free(V1), free(V3));
		answer(q, &[(V1, b"42"), (V2, b"42"), (V3, b"forged")]);
		assert_eq!(status(q), QueryStatus::Disputed { pending: 3 });
		let opened = claims();
		assert_eq!(opened.len(), 3);
		assert!(opened.iter().all(|c| c.class == ClaimClass::QueryResult && c.subject == CM::claim_subject(q)));
		assert_eq!(opened[2].claimant, V3);
		assert!(opened.iter().all(|c| c.conflicted == vec![CLIENT]), "the client, refunded on no accepted answer, does not vote");
		// Each answer's rivals are the other answerers (left out where others can decide).
		assert_eq!(opened.iter().map(|c| c.rivals.clone()).collect::<Vec<_>>(), vec![vec![V2, V3], vec![V1, V3], vec![V1, V2]]);
		assert!(market_events().contains(&Event::QueryDisputed { query: q, claims: 3 }));
		// The vote accepts V1 and V2 and rejects V3 (whom weighted voting slashes).
		decide(100, Outcome::Accepted);
		decide(102, Outcome::Rejected);
		assert_eq!(status(q), QueryStatus::Disputed { pending: 1 });
		decide(101, Outcome::Accepted);
		assert!(matches!(status(q), QueryStatus::Answered { .. }));
		// 10 % protocol fee; a third of 900 to each accepted answer, the rejected one's third
		// back to the client (never to the answerers that outvoted it).
		assert_eq!(free(V1) - v1, 300);
		assert_eq!(free(V3), v3);
		assert_eq!(free(CLIENT), INITIAL - 100 - 600);
		assert_eq!(Results::<Test>::get(q).unwrap().into_inner(), b"42".to_vec());
		assert!(market_events().contains(&Event::AnswerJudged { query: q, who: V3, accepted: false }));
		// The vote moved reputations; the market adds none for voted answers.
		assert!(!reputation_changes().iter().any(|(_, _, r)| *r == ReputationReason::ClaimAccepted));
		// A decision on a claim the market does not know changes nothing.
		decide(100, Outcome::Accepted);
		assert_books_balance();
	});
}

/// Attack: two answerers vote a third, true answer down to split its share of the fee. The
/// accepted answerers' pay is the same whether the third answer is accepted or not.
#[test]
fn voting_a_co_answerer_down_pays_nothing_more() {
	let pay = |third: Outcome| {
		new_test_ext().execute_with(|| {
			let q = routed(1_000, vec![V1, V2, V3]);
			let v1 = free(V1);
			answer(q, &[(V1, b"42"), (V2, b"42"), (V3, b"41")]);
			decide(100, Outcome::Accepted);
			decide(101, Outcome::Accepted);
			decide(102, third);
			assert!(matches!(status(q), QueryStatus::Answered { .. }));
			assert_books_balance();
			free(V1) - v1
		})
	};
	let honest = pay(Outcome::Accepted);
	assert_eq!(honest, 300);
	assert_eq!(pay(Outcome::Rejected), honest);
	assert_eq!(pay(Outcome::NoQuorum), honest);
}

#[test]
fn a_dispute_the_vote_rejects_entirely_refunds_the_client() {
	new_test_ext().execute_with(|| {
		let q = routed(1_000, vec![V1, V2]);
		answer(q, &[(V1, b"a"), (V2, b"b")]);
		decide(100, Outcome::Rejected);
		decide(101, Outcome::NoQuorum);
		assert!(Queries::<Test>::get(q).is_none());
		assert_eq!(free(CLIENT), INITIAL);
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryRefunded { reason: RefundReason::NoAcceptedAnswer, .. })));
		assert_books_balance();
	});
}

#[test]
fn at_the_deadline_missing_answers_are_penalised_and_lone_answers_verified() {
	new_test_ext().execute_with(|| {
		// Nobody answers: refunded at the deadline.
		let q0 = routed(1_000, vec![V1, V2]);
		// One of two answers: it goes to the vote.
		let q1 = routed(1_000, vec![V1, V2]);
		commit(q1, V1, b"x");
		run_to(11);
		reveal(q1, V1, b"x");
		run_to(20);
		assert!(Queries::<Test>::get(q0).is_none());
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryRefunded { query: 0, reason: RefundReason::NoAnswer, .. })));
		assert!(reputation_changes().contains(&(V1, -5_000, ReputationReason::DealFailed)));
		assert!(market_events().contains(&Event::AnswerMissed { query: q1, who: V2 }));
		assert_eq!(status(q1), QueryStatus::Disputed { pending: 1 });
		assert_eq!(claims().len(), 1);
		decide(100, Outcome::Accepted);
		assert!(matches!(status(q1), QueryStatus::Answered { .. }));
		assert_eq!(Queries::<Test>::get(q1).unwrap().answerers.into_inner(), vec![V1]);
		assert_books_balance();
	});
}

#[test]
fn when_the_vote_cannot_take_a_dispute_the_client_is_refunded() {
	new_test_ext().execute_with(|| {
		let q = routed(1_000, vec![V1, V2]);
		claims_fail(true);
		answer(q, &[(V1, b"a"), (V2, b"b")]);
		assert!(Queries::<Test>::get(q).is_none());
		assert!(AnswerClaims::<Test>::iter().next().is_none(), "no claim half-recorded");
		assert_eq!(free(CLIENT), INITIAL);
		assert_books_balance();
	});
}

#[test]
fn an_inference_query_is_answered_by_validators_serving_the_model() {
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(CM::advertise(origin(V2), vec![tag("wallets")].try_into().unwrap(), Default::default(), 10));
		let seen = CM::capabilities_of(&V2).unwrap();
		assert_eq!((seen.tags, seen.models, seen.price), (vec![b"wallets".to_vec()], vec![], 10));
		assert!(CM::capabilities_of(&CLIENT).is_none());
		assert_ok!(CM::post_query(origin(CLIENT), inference(MODEL), 1_000, 2, loose(), 20));
		run_to(4);
		let q = Queries::<Test>::get(0).unwrap();
		assert!(!q.answerers.contains(&V2), "V2 does not serve the model");
		assert_eq!(CM::assigned_queries(&q.answerers[0]).len(), 1);
		let (first, second) = (q.answerers[0], q.answerers[1]);
		commit(0, first, b"score 0.93");
		// The workers' view: who committed, and whether reveals may start early.
		let view = |v| CM::assigned_queries(&v).pop().unwrap();
		assert!(view(first).committed && !view(second).committed && !view(first).all_committed);
		commit(0, second, b"score 0.93");
		assert!(view(first).all_committed && view(second).all_committed && !view(first).revealed);
		for v in q.answerers.clone() {
			reveal(0, v, b"score 0.93");
		}
		let view = CM::queries_of(&CLIENT);
		assert_eq!(view[0].result.as_deref(), Some(&b"score 0.93"[..]));
		assert!(CM::assigned_queries(&q.answerers[0]).is_empty());
	});
}

#[test]
fn inference_outputs_that_differ_in_their_last_digits_agree_and_sql_answers_do_not() {
	new_test_ext().execute_with(|| {
		advertise_all();
		// Two platforms' honest outputs of the same model: 10⁻⁶ apart.
		assert_ok!(CM::post_query(origin(CLIENT), inference(MODEL), 1_000, 2, loose(), 20));
		run_to(4);
		let q = Queries::<Test>::get(0).unwrap();
		let (a, b) = (q.answerers[0], q.answerers[1]);
		answer(0, &[(a, b"fraud_probability\n0.123456\n"), (b, b"fraud_probability\n0.123457\n")]);
		assert!(matches!(status(0), QueryStatus::Answered { .. }), "no dispute: nobody is slashed for platform noise");
		assert!(claims().is_empty());
		assert_eq!(CM::queries_of(&CLIENT)[0].result.as_deref(), Some(&b"fraud_probability\n0.123456\n"[..]));
		// SQL answers one digit apart are different answers.
		let sql = routed(1_000, vec![V1, V2]);
		answer(sql, &[(V1, b"avg\n0.123456\n"), (V2, b"avg\n0.123457\n")]);
		assert_eq!(status(sql), QueryStatus::Disputed { pending: 2 });
		assert_books_balance();
	});
}

#[test]
fn passes_lock_grant_quotas_freeze_and_unlock_after_the_cool_down() {
	new_test_ext().execute_with(|| {
		advertise_all();
		let free_query = |who| CM::post_free_query(origin(who), aggregation(SQL), 1, loose(), 20);
		assert_noop!(free_query(CLIENT), E::NoPass);
		assert_noop!(CM::lock_for_pass(origin(CLIENT), 999), E::PassLockTooSmall);
		assert_ok!(CM::lock_for_pass(origin(CLIENT), 3_000));
		assert_ok!(CM::lock_for_pass(origin(OTHER), 1_000));
		// Four free queries an era: 3 for CLIENT, 1 for OTHER.
		assert_eq!(CM::pass_view(&CLIENT).unwrap().quota, 3);
		let pot = free(POT);
		for _ in 0..3 {
			assert_ok!(free_query(CLIENT));
		}
		assert_eq!(free(POT), pot - 3 * FREE_FEE, "the pot pays free queries");
		assert_eq!(free(CLIENT), INITIAL - 3_000, "the client pays nothing");
		assert!(market_events().contains(&Event::PassFrozen { who: CLIENT, until_era: 1 }));
		assert_noop!(free_query(CLIENT), E::PassFrozen);
		// The next era the quota is back.
		set_era(1);
		assert_ok!(free_query(CLIENT));
		assert_books_balance();
		// Unlocking: a cool-down of 10 blocks, during which the pass is inactive.
		assert_noop!(CM::unlock(origin(CLIENT)), E::NotUnlocking);
		assert_ok!(CM::request_unlock(origin(CLIENT)));
		assert_noop!(CM::request_unlock(origin(CLIENT)), E::PassUnlocking);
		assert_noop!(CM::lock_for_pass(origin(CLIENT), 1_000), E::PassUnlocking);
		assert_noop!(free_query(CLIENT), E::PassUnlocking);
		assert_eq!(TotalLocked::<Test>::get(), 1_000);
		run_to(10);
		assert_noop!(CM::unlock(origin(CLIENT)), E::CoolDownNotOver);
		run_to(11);
		assert_ok!(CM::unlock(origin(CLIENT)));
		assert!(Passes::<Test>::get(CLIENT).is_none());
		assert_noop!(CM::unlock(origin(CLIENT)), E::NoPass);
		assert_noop!(CM::request_unlock(origin(CLIENT)), E::NoPass);
		assert_books_balance();
	});
}

#[test]
fn a_free_query_is_paid_from_the_pot_and_a_failed_one_goes_back_there() {
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(Routers::register_router(origin(ROUTER), Perbill::zero()));
		assert_ok!(CM::lock_for_pass(origin(CLIENT), 1_000));
		assert_ok!(CM::post_free_query(origin(CLIENT), aggregation(SQL), 2, loose(), 20));
		router_assign(0, vec![V1, V2]);
		let (v1, client) = (free(V1), free(CLIENT));
		answer(0, &[(V1, b"7"), (V2, b"7")]);
		// 300 from the pot: 30 protocol fee, 135 to each answerer; the client pays nothing.
		assert_eq!(free(V1) - v1, 135);
		assert_eq!(free(CLIENT), client);
		assert!(Balances::total_balance(&CM::escrow_account()).is_zero());
		// Unanswered: the pot gets its 300 back.
		assert_ok!(CM::post_free_query(origin(CLIENT), aggregation(SQL), 2, loose(), 20));
		let pot = free(POT);
		run_to(30);
		assert_eq!(free(POT), pot + FREE_FEE);
		assert!(market_events().iter().any(|e| matches!(e, Event::QueryRefunded { payer: Payer::Pot, amount: FREE_FEE, .. })));
		assert_books_balance();
	});
}

#[test]
fn a_free_query_fails_cleanly_when_the_pot_cannot_pay() {
	new_test_ext().execute_with(|| {
		advertise_all();
		assert_ok!(CM::lock_for_pass(origin(CLIENT), 1_000));
		// Empty the pot (but its existential deposit).
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::transfer(
			&POT,
			&OTHER,
			POT_FUNDS - 1,
			frame_support::traits::tokens::Preservation::Preserve
		));
		assert_noop!(CM::post_free_query(origin(CLIENT), aggregation(SQL), 1, loose(), 20), E::PotExhausted);
		assert_eq!(Passes::<Test>::get(CLIENT).unwrap().used, 0, "the quota is untouched");
	});
}

#[test]
fn clients_rate_the_answerers_of_their_answered_queries() {
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 4);
		assert_noop!(CM::rate(origin(CLIENT), q, V1, Rating::Good), E::NotAnswered);
		let answers: Vec<_> = answerers.iter().map(|v| (*v, &b"ok"[..])).collect();
		answer(q, &answers);
		assert_noop!(CM::rate(origin(OTHER), q, V1, Rating::Good), E::NotQueryClient);
		assert_noop!(CM::rate(origin(CLIENT), 77, V1, Rating::Good), E::QueryNotFound);
		assert_noop!(CM::rate(origin(CLIENT), q, OTHER, Rating::Good), E::NotAnAnswerer);
		let mid = CM::service_reputation(0);
		assert_eq!(mid, 50_000);
		assert_ok!(CM::rate(origin(CLIENT), q, V1, Rating::Good));
		let up = CM::service_reputation(1);
		assert_eq!(ServiceReputation::<Test>::get(V1), Some(up));
		assert!(reputation_changes().contains(&(V1, (up - mid) as i64, ReputationReason::ClientRating)));
		// One rating per answer: a flip needs another query's answer.
		assert_noop!(CM::rate(origin(CLIENT), q, V1, Rating::Bad), E::AlreadyRated);
		let q2 = answered_again(&answerers);
		// Only the latest rating counts: Good then Bad is a sum of −1, not 0.
		assert_ok!(CM::rate(origin(CLIENT), q2, V1, Rating::Bad));
		assert_eq!(RatingSums::<Test>::get(V1), -1);
		let down = CM::service_reputation(-1);
		assert_eq!(ServiceReputation::<Test>::get(V1), Some(down));
		assert!(reputation_changes().contains(&(V1, down as i64 - up as i64, ReputationReason::ClientRating)));
		assert!(matches!(market_events().last(), Some(Event::Rated { rating: Rating::Bad, .. })));
	});
}

/// Posts another query with the same answerers drawn, has them agree, returns it.
fn answered_again(answerers: &[AccountId]) -> QueryId {
	let q = post(1_000, answerers.len() as u32);
	run_to(System::block_number() + 4);
	let drawn = Queries::<Test>::get(q).unwrap().answerers.into_inner();
	assert_eq!(drawn.len(), answerers.len());
	let answers: Vec<_> = drawn.iter().map(|v| (*v, &b"ok"[..])).collect();
	answer(q, &answers);
	q
}

#[test]
fn a_first_rating_holds_a_deposit_until_it_is_withdrawn() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (q, answerers) = drawn(1_000, 4);
		let answers: Vec<_> = answerers.iter().map(|v| (*v, &b"ok"[..])).collect();
		answer(q, &answers);
		let rating_hold = || Balances::balance_on_hold(&HoldReason::Rating.into(), &CLIENT);
		assert_ok!(CM::rate(origin(CLIENT), q, V1, Rating::Bad));
		assert_eq!(rating_hold(), RATING_DEPOSIT);
		assert_eq!(RatingDeposits::<Test>::get(V1, CLIENT), Some(RATING_DEPOSIT));
		// Rating another provider holds one more deposit; re-rating one holds nothing more.
		let other = *answerers.iter().find(|v| **v != V1).expect("four answerers");
		assert_ok!(CM::rate(origin(CLIENT), q, other, Rating::Good));
		assert_eq!(rating_hold(), 2 * RATING_DEPOSIT);
		let q2 = answered_again(&answerers);
		assert_ok!(CM::rate(origin(CLIENT), q2, V1, Rating::Fair));
		assert_eq!(rating_hold(), 2 * RATING_DEPOSIT);

		assert_noop!(CM::withdraw_rating(origin(OTHER), V1), E::NoRating);
		assert_ok!(CM::withdraw_rating(origin(CLIENT), V1));
		assert_eq!(rating_hold(), RATING_DEPOSIT);
		assert!(!Ratings::<Test>::contains_key(V1, CLIENT) && !RatingDeposits::<Test>::contains_key(V1, CLIENT));
		assert_eq!(RatingSums::<Test>::get(V1), 0, "as if never rated");
		assert_eq!(ServiceReputation::<Test>::get(V1), Some(CM::service_reputation(0)));
		assert!(matches!(market_events().last(), Some(Event::RatingWithdrawn { client: CLIENT, provider: V1, deposit: RATING_DEPOSIT, .. })));
		assert_noop!(CM::withdraw_rating(origin(CLIENT), V1), E::NoRating);
		// Withdrawing does not reopen an answer for rating.
		assert_noop!(CM::rate(origin(CLIENT), q2, V1, Rating::Good), E::AlreadyRated);
		assert_ok!(CM::withdraw_rating(origin(CLIENT), other));
		assert_eq!(rating_hold(), 0);
		assert_eq!(Balances::total_issuance(), issuance, "deposits are held and released, never minted or burnt");
	});
}

#[test]
fn a_client_that_cannot_put_up_the_deposit_rates_nothing() {
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 4);
		let answers: Vec<_> = answerers.iter().map(|v| (*v, &b"ok"[..])).collect();
		answer(q, &answers);
		// Leave the client its existential deposit and less than a rating's deposit.
		let spare =
			free(CLIENT) - RATING_DEPOSIT / 2 - <<Test as pallet_balances::Config>::ExistentialDeposit as frame_support::traits::Get<Balance>>::get();
		assert_ok!(Balances::transfer_allow_death(origin(CLIENT), OTHER, spare));
		assert_noop!(CM::rate(origin(CLIENT), q, V1, Rating::Bad), E::CannotHoldRatingDeposit);
	});
}

#[test]
fn an_answers_rating_mark_leaves_with_its_query() {
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 4);
		let answers: Vec<_> = answerers.iter().map(|v| (*v, &b"ok"[..])).collect();
		answer(q, &answers);
		assert_ok!(CM::rate(origin(CLIENT), q, V1, Rating::Good));
		assert!(RatedAnswers::<Test>::contains_key(q, V1));
		run_to(System::block_number() + 100);
		assert!(!Queries::<Test>::contains_key(q), "the result expired");
		assert!(!RatedAnswers::<Test>::contains_key(q, V1));
		assert!(Ratings::<Test>::contains_key(V1, CLIENT), "the rating itself stays until withdrawn");
	});
}

// ---- migrations ----

#[test]
fn the_v1_migration_releases_the_old_router_bonds_once() {
	use codec::Encode;
	use frame_support::{
		storage::migration::{get_storage_value, put_storage_value},
		traits::{fungible::MutateHold, GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
		Blake2_128Concat, StorageHasher,
	};
	new_test_ext().execute_with(|| {
		// Storage version 0: the router in the market's own map, its bond held by the market.
		let key = Blake2_128Concat::hash(&ROUTER.encode());
		put_storage_value(b"ComputeMarket", b"Routers", &key, (Perbill::from_percent(5), 500 as Balance));
		let old_reason = RuntimeHoldReason::ComputeMarket(HoldReason::RouterBond);
		assert_ok!(<Balances as MutateHold<AccountId>>::hold(&old_reason, &ROUTER, 500));
		StorageVersion::new(0).put::<ComputeMarket>();

		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(free(ROUTER), INITIAL, "the whole bond is back");
		assert_eq!(Balances::balance_on_hold(&old_reason, &ROUTER), 0);
		assert_eq!(get_storage_value::<(Perbill, Balance)>(b"ComputeMarket", b"Routers", &key), None, "the old entry is gone");
		assert_eq!(ComputeMarket::on_chain_storage_version(), 1);
		assert_eq!(pallet_routers::Routers::<Test>::get(ROUTER), None, "it registers again itself");

		// Once only: a second run finds version 1 and changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
		assert_books_balance();
	});
}

#[test]
fn the_v3_migration_holds_a_deposit_for_every_rating_stored_without_one() {
	use frame_support::traits::{
		fungible::{Mutate, MutateHold},
		tokens::{Precision, Preservation},
		GetStorageVersion, OnRuntimeUpgrade, StorageVersion,
	};
	new_test_ext().execute_with(|| {
		let (q, answerers) = drawn(1_000, 4);
		let answers: Vec<_> = answerers.iter().map(|v| (*v, &b"ok"[..])).collect();
		answer(q, &answers);
		let other = *answerers.iter().find(|v| **v != V1).expect("four answerers");
		assert_ok!(CM::rate(origin(CLIENT), q, V1, Rating::Good));
		assert_ok!(CM::rate(origin(CLIENT), q, other, Rating::Bad));
		// As storage version 2 left them: ratings stored without deposits.
		let reason: RuntimeHoldReason = HoldReason::Rating.into();
		for provider in [V1, other] {
			RatingDeposits::<Test>::remove(provider, CLIENT);
		}
		assert_ok!(Balances::release(&reason, &CLIENT, 2 * RATING_DEPOSIT, Precision::Exact));
		StorageVersion::new(2).put::<CM>();
		// The client can put up one deposit, not two.
		let spare = free(CLIENT) - RATING_DEPOSIT - RATING_DEPOSIT / 2;
		assert_ok!(<Balances as Mutate<AccountId>>::transfer(&CLIENT, &OTHER, spare, Preservation::Preserve));
		let sums_before = (RatingSums::<Test>::get(V1), RatingSums::<Test>::get(other));
		assert_eq!(sums_before, (1, -1));

		crate::migrations::v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(CM::on_chain_storage_version(), StorageVersion::new(3));
		assert_eq!(Balances::balance_on_hold(&reason, &CLIENT), RATING_DEPOSIT, "one deposit held");
		let kept: Vec<_> = [V1, other].into_iter().filter(|p| Ratings::<Test>::contains_key(p, CLIENT)).collect();
		assert_eq!(kept.len(), 1, "the rating it could not hold for is gone");
		let (kept, dropped) = (kept[0], if kept[0] == V1 { other } else { V1 });
		assert_eq!(RatingDeposits::<Test>::get(kept, CLIENT), Some(RATING_DEPOSIT));
		assert!(!RatingDeposits::<Test>::contains_key(dropped, CLIENT));
		assert_eq!(RatingSums::<Test>::get(dropped), 0, "the dropped rating no longer counts");
		assert_eq!(ServiceReputation::<Test>::get(dropped), Some(CM::service_reputation(0)));
		let events = market_events();
		assert!(events.contains(&Event::RatingDepositHeld { client: CLIENT, provider: kept, deposit: RATING_DEPOSIT }));
		assert!(events.iter().any(|e| matches!(e, Event::RatingWithdrawn { client: CLIENT, provider, deposit: 0, .. } if *provider == dropped)));
		assert_ok!(CM::do_try_state());
		assert_books_balance();

		// Once only: a second run finds version 3 and changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		crate::migrations::v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
	});
}
