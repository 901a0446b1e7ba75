//! Benchmarks of every call and hook. The book operations — a resting insertion that climbs to
//! the top of the heap, a matching order that makes `MaxFillsPerOrder` fills and rests its
//! remainder, a cancel of the best order — are measured over the heap's depth `d` (up to that of
//! a book of `MaxBookSize`), which their reads and writes grow with: a linear fit over the
//! book's length charged the deepest books as middle-sized ones (a full match at 1,023 orders
//! wrote 183 keys and was charged for 120). The report in `pallets/data-market/BENCHMARKS.md`
//! shows the measured shape.

use super::*;
use crate::engine::StoredBook;
use book::HeapSlots;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get, Hooks};
use frame_system::RawOrigin;
use loopx_primitives::{ClaimClass, ClaimOutcome, Decision, Outcome};
use sp_runtime::traits::Saturating;

const SEED: u32 = 0;
const TAG: &[u8] = b"wallet-tx-v1";

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, SEED);
	let amount = T::Currency::minimum_balance().saturating_mul(1_000_000_000u32.into());
	T::Currency::set_balance(&who, amount);
	EncryptionKeys::<T>::insert(&who, [7u8; 32]);
	who
}

fn tag<T: Config>() -> TagOf<T> {
	TAG.to_vec().try_into().expect("the tag fits MaxTagLen")
}

fn goods() -> Goods {
	Goods {
		kind: GoodsKind::RawData,
		commitment: Commitment { content_hash: H256::repeat_byte(1), size: 4_096, samples: 100, schema: H256::repeat_byte(2) },
	}
}

fn price<T: Config>(x: u32) -> BalanceOf<T> {
	T::Currency::minimum_balance().saturating_mul(x.into())
}

fn expiry<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number().saturating_add(T::MaxOrderLifetime::get())
}

/// The depth of the deepest full heap a book holds (1,023 orders of 1,024: 9). A book one order
/// longer has one entry a level further down, which a removal from the top no longer reaches
/// after a fill: its cost is the full heap's, and the weights' line through the full heaps,
/// extended one level, charges it more than that.
fn full_depth<T: Config>() -> u32 {
	book::depth(T::MaxBookSize::get()).saturating_sub(1).max(1)
}

/// Fills the offer book with `b` one-unit offers from distinct sellers, priced 1,000 + i.
fn fill_offer_book<T: Config>(b: u32) {
	for i in 0..b {
		let seller = funded::<T>("seller", i);
		Pallet::<T>::do_post(seller, Side::Offer, tag::<T>(), Some(goods()), price::<T>(1_000 + i), 1, expiry::<T>(), None)
			.expect("the book has room");
	}
}

/// The deal key the benchmarks' sellers commit to.
const KEY: DealKey = [7; 32];

/// A delivered deal between a fresh seller and buyer, matched by a router.
fn delivered_deal<T: Config>() -> (DealId, T::AccountId, T::AccountId) {
	let seller = funded::<T>("seller", 0);
	let buyer = funded::<T>("buyer", 0);
	let router = funded::<T>("router", 0);
	T::Routers::register_for_benchmarks(&router).expect("funded");
	let offer = Pallet::<T>::do_post(seller.clone(), Side::Offer, tag::<T>(), Some(goods()), price::<T>(100), 1, expiry::<T>(), Some(router.clone()))
		.expect("valid offer");
	let bid =
		Pallet::<T>::do_post(buyer.clone(), Side::Bid, tag::<T>(), None, price::<T>(100), 1, expiry::<T>(), Some(router.clone())).expect("valid bid");
	let deal = Pallet::<T>::do_route(router, offer, bid, 1).expect("routable");
	Pallet::<T>::deliver(RawOrigin::Signed(seller.clone()).into(), deal, H256::repeat_byte(9), deal_key_commitment(deal, &KEY)).expect("matched");
	(deal, seller, buyer)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	// A first registration: the deposit is held.
	#[benchmark]
	fn register_key() {
		let caller = funded::<T>("caller", 0);
		EncryptionKeys::<T>::remove(&caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), [9u8; 32]);
		assert_eq!(EncryptionKeys::<T>::get(&caller), Some([9u8; 32]));
	}

	#[benchmark]
	fn remove_key() -> Result<(), BenchmarkError> {
		let caller = funded::<T>("caller", 0);
		Pallet::<T>::hold(HoldReason::KeyDeposit, &caller, T::KeyDeposit::get())?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));
		assert!(!EncryptionKeys::<T>::contains_key(&caller));
		Ok(())
	}

	/// An offer that crosses nothing and climbs `d` levels, from the bottom of a full heap of
	/// 2^d − 1 orders to its top: a heap's writes grow with its depth, not its length.
	#[benchmark]
	fn post_order_resting(d: Linear<0, { book::depth(T::MaxBookSize::get() - 1) }>) {
		let b = (1u32 << d) - 1;
		fill_offer_book::<T>(b);
		let caller = funded::<T>("caller", 0);
		#[extrinsic_call]
		post_offer(RawOrigin::Signed(caller), TAG.to_vec(), goods(), price::<T>(1), 1, expiry::<T>(), None);
		assert_eq!(StoredBook::<T>::new(tag::<T>(), Side::Offer).len(), b + 1);
	}

	/// A bid that takes the `MaxFillsPerOrder` best offers of a book whose last slot is `d` deep
	/// (a full heap, or the largest book; each fill a deal and a removal from the top of the
	/// heap, the last entry sinking) and rests one more unit.
	#[benchmark]
	fn post_order_matching(d: Linear<{ book::depth(T::MaxFillsPerOrder::get() - 1) }, { full_depth::<T>() }>) {
		let b = ((1u32 << (d + 1)) - 1).max(T::MaxFillsPerOrder::get());
		fill_offer_book::<T>(b);
		let caller = funded::<T>("caller", 0);
		let fills = T::MaxFillsPerOrder::get();
		#[extrinsic_call]
		post_bid(RawOrigin::Signed(caller), TAG.to_vec(), price::<T>(1_000_000), fills + 1, expiry::<T>(), None);
		assert_eq!(NextDealId::<T>::get(), fills as u64);
		assert_eq!(StoredBook::<T>::new(tag::<T>(), Side::Offer).len(), b - fills);
	}

	/// Cancelling the best order of a full heap `d` levels deep: its last entry sinks from the
	/// top through `d` levels.
	#[benchmark]
	fn cancel_order(d: Linear<0, { full_depth::<T>() }>) {
		let b = (1u32 << (d + 1)) - 1;
		fill_offer_book::<T>(b);
		let best = book::peek(&StoredBook::<T>::new(tag::<T>(), Side::Offer)).expect("a full book").order;
		let owner = Orders::<T>::get(best).expect("booked").owner;
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), best);
		assert!(Orders::<T>::get(best).is_none());
	}

	#[benchmark]
	fn route() {
		let seller = funded::<T>("seller", 0);
		let buyer = funded::<T>("buyer", 0);
		let router = funded::<T>("router", 0);
		T::Routers::register_for_benchmarks(&router).expect("funded");
		let offer = Pallet::<T>::do_post(seller, Side::Offer, tag::<T>(), Some(goods()), price::<T>(100), 2, expiry::<T>(), Some(router.clone()))
			.expect("valid offer");
		let bid =
			Pallet::<T>::do_post(buyer, Side::Bid, tag::<T>(), None, price::<T>(100), 2, expiry::<T>(), Some(router.clone())).expect("valid bid");
		#[extrinsic_call]
		_(RawOrigin::Signed(router), offer, bid, 2);
		assert!(Deals::<T>::contains_key(0));
	}

	#[benchmark]
	fn deliver() {
		let seller = funded::<T>("seller", 0);
		let buyer = funded::<T>("buyer", 0);
		Pallet::<T>::do_post(seller.clone(), Side::Offer, tag::<T>(), Some(goods()), price::<T>(100), 1, expiry::<T>(), None).expect("valid");
		Pallet::<T>::do_post(buyer, Side::Bid, tag::<T>(), None, price::<T>(100), 1, expiry::<T>(), None).expect("valid");
		#[extrinsic_call]
		_(RawOrigin::Signed(seller), 0, H256::repeat_byte(9), deal_key_commitment(0, &KEY));
		assert!(matches!(Deals::<T>::get(0).map(|d| d.state), Some(DealState::Delivered { .. })));
	}

	/// Confirming a routed deal: seller, router and protocol fee are paid.
	#[benchmark]
	fn confirm() {
		let (deal, _, buyer) = delivered_deal::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(buyer), deal);
		assert!(!Deals::<T>::contains_key(deal));
	}

	/// Disputing with the key opens a claim; the runtime's helper gives it the largest
	/// electorate.
	#[benchmark]
	fn dispute() {
		T::BenchmarkHelper::prepare_dispute();
		let (deal, _, buyer) = delivered_deal::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(buyer), deal, H256::repeat_byte(3), Some(KEY));
		assert!(matches!(Deals::<T>::get(deal).map(|d| d.state), Some(DealState::Disputed { claim: Some(_), .. })));
	}

	/// The seller reveals the key of a dispute opened without it: the claim opens.
	#[benchmark]
	fn reveal_deal_key() {
		T::BenchmarkHelper::prepare_dispute();
		let (deal, seller, buyer) = delivered_deal::<T>();
		Pallet::<T>::dispute(RawOrigin::Signed(buyer).into(), deal, H256::repeat_byte(3), None).expect("delivered");
		#[extrinsic_call]
		_(RawOrigin::Signed(seller), deal, KEY);
		assert!(matches!(Deals::<T>::get(deal).map(|d| d.state), Some(DealState::Disputed { claim: Some(_), .. })));
	}

	/// The costliest outcome: accepted, the deposit goes to the seller and the deal settles.
	#[benchmark]
	fn dispute_decided() {
		T::BenchmarkHelper::prepare_dispute();
		let (deal, seller, buyer) = delivered_deal::<T>();
		Pallet::<T>::dispute(RawOrigin::Signed(buyer).into(), deal, H256::repeat_byte(3), Some(KEY)).expect("delivered");
		let Some(DealState::Disputed { claim: Some(claim), .. }) = Deals::<T>::get(deal).map(|d| d.state) else { panic!("the deal is disputed") };
		let decision = Decision { outcome: Outcome::Accepted, score: None, revealed_weight: 1, agreeing_weight: 1 };
		#[block]
		{
			Pallet::<T>::on_claim_decided(claim, ClaimClass::DataDispute, &seller, &Pallet::<T>::deal_subject(deal), &decision);
		}
		assert!(!Deals::<T>::contains_key(deal));
	}

	/// `n` deals whose delivery period ends at the same block: each refunds and slashes.
	#[benchmark]
	fn on_timeouts(n: Linear<0, { T::MaxTimeoutsPerBlock::get() }>) {
		let buyer = funded::<T>("buyer", 0);
		for i in 0..n {
			let seller = funded::<T>("seller", i);
			Pallet::<T>::do_post(seller, Side::Offer, tag::<T>(), Some(goods()), price::<T>(100), 1, expiry::<T>(), None).expect("valid");
			Pallet::<T>::do_post(buyer.clone(), Side::Bid, tag::<T>(), None, price::<T>(100), 1, expiry::<T>(), None).expect("valid");
		}
		let due = frame_system::Pallet::<T>::block_number().saturating_add(Periods::<T>::get().delivery);
		assert_eq!(Timeouts::<T>::get(due).len() as u32, n);
		frame_system::Pallet::<T>::set_block_number(due);
		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}
		assert_eq!(Deals::<T>::iter().count(), 0);
	}

	#[benchmark]
	fn set_periods() -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let periods = DealPeriods { delivery: T::MaxDealPeriod::get(), confirm: T::MaxDealPeriod::get() };
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, periods);
		assert_eq!(Periods::<T>::get(), periods);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
