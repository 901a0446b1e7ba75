//! Benchmarks of every call and hook, each in its costliest case: the longest SQL to check,
//! the most validators to check or draw from (the runtime's largest electorate, set up by its
//! helper), disputes that open a claim per answer, and settlements that pay every answerer and
//! a router.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::RawOrigin;
use loopx_primitives::{ClaimClass, ClaimOutcome, Decision, Outcome};
use sp_runtime::traits::{Bounded, Saturating};

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

fn dataset<T: Config>() -> TagOf<T> {
	BoundedVec::truncate_from(alloc::vec![b'd'; T::MaxTagLen::get() as usize])
}

/// An aggregation of `l` bytes of SQL: every byte goes through the shape check.
fn sql_of_len(l: u32) -> Vec<u8> {
	let mut sql = b"SELECT COUNT(*) FROM t WHERE a = ".to_vec();
	while (sql.len() as u32) < l {
		sql.extend_from_slice(b"1 OR a = ");
	}
	sql.truncate(l.max(9) as usize);
	// Ends on a word, so that the statement stays well formed whatever `l`.
	while sql.last().is_some_and(|c| !c.is_ascii_alphanumeric()) {
		sql.pop();
	}
	sql
}

fn kind<T: Config>(l: u32) -> KindInput {
	QueryKind::Aggregation { sql: sql_of_len(l), dataset: dataset::<T>().into_inner() }
}

/// `n` active validators advertising the benchmark dataset and the helper's model, at price 0.
fn providers<T: Config>(n: u32) -> Vec<T::AccountId> {
	let (model, version) = T::BenchmarkHelper::model();
	(0..n)
		.map(|i| {
			let v = T::BenchmarkHelper::validator(i);
			let tags = BoundedVec::truncate_from(alloc::vec![dataset::<T>(); T::MaxTags::get() as usize]);
			let models = BoundedVec::truncate_from(alloc::vec![(model, version); T::MaxModels::get() as usize]);
			Capabilities::<T>::insert(&v, Capability { tags, models, price: 0u32.into() });
			v
		})
		.collect()
}

fn deadline<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number().saturating_add(T::MaxQueryLifetime::get())
}

fn posted<T: Config>(r: u32) -> (QueryId, T::AccountId) {
	let client = funded::<T>("client", 0);
	let fee = T::MinFee::get().saturating_mul(1_000u32.into());
	let q = Pallet::<T>::do_post(client.clone(), kind::<T>(64), Some(fee), r, T::LoosestThresholds::get(), deadline::<T>()).expect("valid query");
	(q, client)
}

fn router<T: Config>() -> T::AccountId {
	let router = funded::<T>("router", 0);
	T::Routers::register_for_benchmarks(&router).expect("router");
	router
}

/// A query assigned by a router to `r` providers who all committed `results[k]`.
fn committed<T: Config>(r: u32, results: &[Vec<u8>]) -> (QueryId, Vec<T::AccountId>) {
	let validators = providers::<T>(r);
	let (q, _) = posted::<T>(r);
	let router = router::<T>();
	Pallet::<T>::do_router_assign(q, (router, T::Routers::max_router_fee()), BoundedVec::truncate_from(validators.clone())).expect("eligible");
	let question = question::<T>(q);
	for (k, v) in validators.iter().enumerate() {
		let c = Pallet::<T>::answer_commitment(q, v, &results[k], &[k as u8; 32]);
		Pallet::<T>::do_commit(q, v.clone(), question, c).expect("assigned");
	}
	(q, validators)
}

/// What stored query `q` asks, as a commit names it.
fn question<T: Config>(q: QueryId) -> H256 {
	Queries::<T>::get(q).map(|x| crate::question_hash(&x.kind)).unwrap_or_default()
}

/// Distinct results, one per answerer: a dispute.
fn forged_results(r: u32) -> Vec<Vec<u8>> {
	(0..r).map(|k| alloc::vec![k as u8; 8]).collect()
}

/// Every answer revealed (written directly, so that nothing settles yet): evaluating it opens
/// one claim per answer (for `r` ≥ 2).
fn revealed_unsettled<T: Config>(r: u32) -> (QueryId, QueryOf<T>) {
	let results = forged_results(r);
	let (q, validators) = committed::<T>(r, &results);
	for (k, v) in validators.iter().enumerate() {
		Answers::<T>::mutate(q, v, |a| {
			if let Some(a) = a {
				a.result = Some(BoundedVec::truncate_from(results[k].clone()));
			}
		});
	}
	(q, Queries::<T>::get(q).expect("stored"))
}

fn passholder<T: Config>() -> T::AccountId {
	let who = funded::<T>("holder", 0);
	Pallet::<T>::do_lock(who.clone(), T::MinPassLock::get().saturating_mul(10u32.into())).expect("lock");
	who
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn advertise(t: Linear<1, { T::MaxTags::get() }>, m: Linear<0, { T::MaxModels::get() }>) {
		let v = T::BenchmarkHelper::validator(0);
		let (model, version) = T::BenchmarkHelper::model();
		let tags = BoundedVec::truncate_from(alloc::vec![dataset::<T>(); t as usize]);
		let models = BoundedVec::truncate_from(alloc::vec![(model, version); m as usize]);
		#[extrinsic_call]
		_(RawOrigin::Signed(v.clone()), tags, models, 1u32.into());
		assert!(Capabilities::<T>::contains_key(&v));
	}

	#[benchmark]
	fn withdraw_capabilities() {
		let v = providers::<T>(1).remove(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(v.clone()));
		assert!(!Capabilities::<T>::contains_key(&v));
	}

	#[benchmark]
	fn post_query(l: Linear<16, { T::MaxSqlLen::get() }>) {
		let client = funded::<T>("client", 0);
		let fee = T::MinFee::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(client), kind::<T>(l), fee, T::MaxRedundancy::get(), T::LoosestThresholds::get(), deadline::<T>());
		assert_eq!(QueryCount::<T>::get(), 1);
	}

	#[benchmark]
	fn post_free_query(l: Linear<16, { T::MaxSqlLen::get() }>) {
		T::BenchmarkHelper::fund_pot();
		let holder = passholder::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(holder), kind::<T>(l), T::MaxRedundancy::get(), T::LoosestThresholds::get(), deadline::<T>());
		assert_eq!(QueryCount::<T>::get(), 1);
	}

	#[benchmark]
	fn assign(r: Linear<1, { T::MaxRedundancy::get() }>) {
		let validators = providers::<T>(r);
		let (q, _) = posted::<T>(r);
		let router = router::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(router), q, BoundedVec::truncate_from(validators));
		assert!(matches!(Queries::<T>::get(q).map(|q| q.status), Some(QueryStatus::Answering { .. })));
	}

	#[benchmark]
	fn commit_answer() {
		let r = T::MaxRedundancy::get();
		let validators = providers::<T>(r);
		let (q, _) = posted::<T>(r);
		let router = router::<T>();
		Pallet::<T>::do_router_assign(q, (router, T::Routers::max_router_fee()), BoundedVec::truncate_from(validators.clone())).expect("eligible");
		let v = validators[0].clone();
		let question = question::<T>(q);
		#[extrinsic_call]
		_(RawOrigin::Signed(v.clone()), q, question, H256::repeat_byte(1));
		assert!(Answers::<T>::contains_key(q, &v));
	}

	/// A reveal that does not settle (one answer still to come).
	#[benchmark]
	fn reveal_answer(l: Linear<0, { T::MaxResultLen::get() }>) {
		let r = T::MaxRedundancy::get().max(2);
		let mut results = forged_results(r);
		results[0] = alloc::vec![9u8; l as usize];
		let (q, validators) = committed::<T>(r, &results);
		let v = validators[0].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(v.clone()), q, results[0].clone(), [0u8; 32]);
		assert!(Answers::<T>::get(q, &v).is_some_and(|a| a.result.is_some()));
	}

	#[benchmark]
	fn lock_for_pass() {
		let who = funded::<T>("holder", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinPassLock::get());
		assert!(Passes::<T>::contains_key(&who));
	}

	#[benchmark]
	fn request_unlock() {
		let who = passholder::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Passes::<T>::get(&who).is_some_and(|p| p.unlock_at.is_some()));
	}

	#[benchmark]
	fn unlock() {
		let who = passholder::<T>();
		Pallet::<T>::do_request_unlock(who.clone()).expect("pass");
		let at = frame_system::Pallet::<T>::block_number().saturating_add(T::PassCooldown::get());
		frame_system::Pallet::<T>::set_block_number(at);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Passes::<T>::contains_key(&who));
	}

	/// An answered query whose answers the runtime drew and `MaxRedundancy` of them agreed on,
	/// its client with the means for rating deposits, and one of its answerers.
	fn rateable<T: Config>() -> (QueryId, T::AccountId, T::AccountId) {
		let r = T::MaxRedundancy::get();
		let results: Vec<Vec<u8>> = (0..r).map(|_| alloc::vec![1u8; 8]).collect();
		let (q, validators) = committed::<T>(r, &results);
		// Only answerers the runtime drew can be rated: drop the router the setup assigned with.
		Queries::<T>::mutate(q, |query| {
			if let Some(query) = query {
				query.router = None;
			}
		});
		for (k, v) in validators.iter().enumerate() {
			Pallet::<T>::do_reveal(q, v.clone(), results[k].clone(), [k as u8; 32]).expect("valid reveal");
		}
		let client = Queries::<T>::get(q).expect("answered").client;
		T::Currency::set_balance(&client, T::RatingDeposit::get().saturating_mul(100u32.into()).saturating_add(T::Currency::minimum_balance()));
		(q, client, validators[r as usize - 1].clone())
	}

	/// The heaviest rating is a client's first of a provider: it holds the deposit.
	#[benchmark]
	fn rate() {
		let (q, client, provider) = rateable::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(client.clone()), q, provider.clone(), Rating::Good);
		assert_eq!(RatingSums::<T>::get(&provider), 1);
		assert!(Ratings::<T>::contains_key(&provider, &client));
	}

	#[benchmark]
	fn withdraw_rating() {
		let (q, client, provider) = rateable::<T>();
		Pallet::<T>::do_rate(q, client.clone(), provider.clone(), Rating::Good).expect("rated");
		#[extrinsic_call]
		_(RawOrigin::Signed(client.clone()), provider.clone());
		assert!(!Ratings::<T>::contains_key(&provider, &client));
		assert_eq!(RatingSums::<T>::get(&provider), 0);
	}

	/// The router window closes: the runtime draws `r` of the largest electorate.
	#[benchmark]
	fn route_due(r: Linear<1, { T::MaxRedundancy::get() }>) {
		providers::<T>(T::BenchmarkHelper::max_validators());
		let (q, _) = posted::<T>(r);
		let now = Queries::<T>::get(q).and_then(|q| q.due).expect("scheduled");
		#[block]
		{
			Pallet::<T>::on_due(q, now);
		}
		assert_eq!(Queries::<T>::get(q).map(|q| q.answerers.len()), Some(r as usize));
	}

	/// The deadline (or the last reveal): `r` revealed answers disagree and each becomes a claim.
	#[benchmark]
	fn evaluate_due(r: Linear<1, { T::MaxRedundancy::get() }>) {
		T::BenchmarkHelper::prepare_dispute();
		let (q, query) = revealed_unsettled::<T>(r);
		#[block]
		{
			Pallet::<T>::evaluate(q, query);
		}
		assert!(Queries::<T>::contains_key(q));
	}

	/// A result's lifetime ends.
	#[benchmark]
	fn expire_due() {
		let r = T::MaxRedundancy::get();
		let results: Vec<Vec<u8>> = (0..r).map(|_| alloc::vec![1u8; T::MaxResultLen::get() as usize]).collect();
		let (q, validators) = committed::<T>(r, &results);
		for (k, v) in validators.iter().enumerate() {
			Pallet::<T>::do_reveal(q, v.clone(), results[k].clone(), [k as u8; 32]).expect("valid reveal");
		}
		let at = Queries::<T>::get(q).and_then(|q| q.due).expect("answered");
		#[block]
		{
			Pallet::<T>::on_due(q, at);
		}
		assert!(!Queries::<T>::contains_key(q));
	}

	/// The last claim of a dispute is decided: `r` accepted answers and the router are paid.
	#[benchmark]
	fn answer_judged(r: Linear<1, { T::MaxRedundancy::get() }>) {
		T::BenchmarkHelper::prepare_dispute();
		let (q, query) = revealed_unsettled::<T>(r);
		let client = query.client.clone();
		Pallet::<T>::evaluate(q, query);
		let mut claims: Vec<_> = AnswerClaims::<T>::iter().map(|(id, _)| id).collect();
		claims.sort();
		let last = claims.pop();
		let accept = Decision { outcome: Outcome::Accepted, score: None, revealed_weight: 1, agreeing_weight: 1 };
		let decide = |id| <Pallet<T> as ClaimOutcome<T::AccountId>>::on_claim_decided(id, ClaimClass::QueryResult, &client, &H256::zero(), &accept);
		for id in claims {
			decide(id);
		}
		#[block]
		{
			if let Some(id) = last {
				decide(id);
			}
		}
		assert!(matches!(Queries::<T>::get(q).map(|q| q.status), Some(QueryStatus::Answered { .. })));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
