//! Unit tests: every call and its failure paths, every timeout, both dispute outcomes (and no
//! quorum), routers, book bounds, extreme prices. Each test ends by checking that holds match
//! the pallet's storage and that no unit was created or lost.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use loopx_primitives::{ClaimClass, ClaimOutcome, ContributionCategory, Decision, Outcome, ReputationReason};

const TAG: &[u8] = b"wallet-tx-v1";
const EXPIRES: u64 = 50;

fn goods() -> Goods {
	Goods {
		kind: GoodsKind::RawData,
		commitment: Commitment { content_hash: H256::repeat_byte(1), size: 4_096, samples: 100, schema: H256::repeat_byte(2) },
	}
}
fn offer(who: AccountId, price: Balance, quantity: u32) -> DispatchResult {
	DataMarket::post_offer(RuntimeOrigin::signed(who), TAG.to_vec(), goods(), price, quantity, EXPIRES, None).map(|_| ()).map_err(|e| e.error)
}
fn bid(who: AccountId, price: Balance, quantity: u32) -> DispatchResult {
	DataMarket::post_bid(RuntimeOrigin::signed(who), TAG.to_vec(), price, quantity, EXPIRES, None).map(|_| ()).map_err(|e| e.error)
}
fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::DataMarket(reason), &who)
}
fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}
fn tag() -> TagOf<Test> {
	TAG.to_vec().try_into().unwrap()
}
fn book(side: Side) -> Vec<(OrderId, Balance, u32)> {
	DataMarket::best_orders(TAG.to_vec(), side, 100).into_iter().map(|o| (o.id, o.price, o.remaining)).collect()
}
fn deal(id: DealId) -> DealOf<Test> {
	Deals::<Test>::get(id).expect("deal exists")
}
fn decision(outcome: Outcome) -> Decision {
	Decision { outcome, score: None, revealed_weight: 10, agreeing_weight: 10 }
}
/// The key the sellers of these tests seal with.
const KEY: DealKey = [5; 32];
fn kc(deal: DealId) -> H256 {
	deal_key_commitment(deal, &KEY)
}
/// Offer 2 units at 100 from SELLER, bid 2 at 100 from BUYER: deal 0.
fn matched_deal() -> DealId {
	assert_ok!(offer(SELLER, 100, 2));
	assert_ok!(bid(BUYER, 100, 2));
	0
}
fn delivered_deal() -> DealId {
	let id = matched_deal();
	assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), id, H256::repeat_byte(7), kc(id)));
	id
}
fn disputed_deal() -> DealId {
	let id = delivered_deal();
	assert_ok!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::repeat_byte(9), Some(KEY)));
	id
}

// ---- keys ----

#[test]
fn register_key_stores_and_replaces_the_key() {
	new_test_ext().execute_with(|| {
		assert_ok!(DataMarket::register_key(RuntimeOrigin::signed(NO_KEY), [7; 32]));
		assert_eq!(EncryptionKeys::<Test>::get(NO_KEY), Some([7; 32]));
		assert_ok!(DataMarket::register_key(RuntimeOrigin::signed(NO_KEY), [8; 32]));
		assert_eq!(EncryptionKeys::<Test>::get(NO_KEY), Some([8; 32]));
		System::assert_last_event(Event::<Test>::KeyRegistered { who: NO_KEY, key: [8; 32] }.into());
		assert_noop!(DataMarket::register_key(RuntimeOrigin::signed(NO_KEY), [0; 32]), Error::<Test>::InvalidKey);
	});
}

#[test]
fn an_encryption_key_holds_a_deposit_returned_when_it_is_removed() {
	new_test_ext().execute_with(|| {
		let before = Balances::total_issuance();
		assert_ok!(DataMarket::register_key(RuntimeOrigin::signed(NO_KEY), [7; 32]));
		assert_eq!(held(HoldReason::KeyDeposit, NO_KEY), KEY_DEPOSIT);
		// Replacing the key holds nothing more.
		assert_ok!(DataMarket::register_key(RuntimeOrigin::signed(NO_KEY), [8; 32]));
		assert_eq!(held(HoldReason::KeyDeposit, NO_KEY), KEY_DEPOSIT);
		assert_ok!(DataMarket::remove_key(RuntimeOrigin::signed(NO_KEY)));
		System::assert_last_event(Event::<Test>::KeyRemoved { who: NO_KEY, released: KEY_DEPOSIT }.into());
		assert_eq!((held(HoldReason::KeyDeposit, NO_KEY), free(NO_KEY)), (0, INITIAL));
		assert!(!EncryptionKeys::<Test>::contains_key(NO_KEY));
		assert_noop!(DataMarket::remove_key(RuntimeOrigin::signed(NO_KEY)), Error::<Test>::NoEncryptionKey);
		// Who cannot pay the deposit registers nothing.
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::transfer(
			&NO_KEY,
			&POT,
			INITIAL - 2,
			frame_support::traits::tokens::Preservation::Expendable
		));
		assert_noop!(DataMarket::register_key(RuntimeOrigin::signed(NO_KEY), [7; 32]), Error::<Test>::InsufficientBalance);
		// A key registered before deposits were taken (the mock's genesis keys) holds none and
		// releases none of the account's other holds.
		assert_ok!(bid(BUYER, 100, 1));
		assert_ok!(DataMarket::remove_key(RuntimeOrigin::signed(BUYER)));
		System::assert_last_event(Event::<Test>::KeyRemoved { who: BUYER, released: 0 }.into());
		assert_eq!(held(HoldReason::Payment, BUYER), 100);
		assert_eq!(Balances::total_issuance(), before);
		DataMarket::do_try_state().unwrap();
	});
}

#[test]
fn a_bid_whose_owner_removed_its_key_cannot_block_the_offers_that_cross_it() {
	// The attack: a buyer rests a high bid, then removes its key. Every offer that crosses the
	// bid would fail (no key to seal the delivery to), closing the book to sellers.
	new_test_ext().execute_with(|| {
		assert_ok!(bid(BUYER, 200, 1));
		assert_ok!(bid(BUYER2, 100, 1));
		assert_ok!(DataMarket::remove_key(RuntimeOrigin::signed(BUYER)));
		assert_ok!(offer(SELLER, 100, 1));
		// The keyless bid left the book, its funds back to its owner; the offer met the next.
		System::assert_has_event(Event::<Test>::OrderClosed { order: 0, reason: CloseReason::NoBuyerKey, released: 200 }.into());
		assert_eq!((held(HoldReason::Payment, BUYER), free(BUYER)), (0, INITIAL));
		assert_eq!(deal(0).buyer, BUYER2);
		assert_eq!(book(Side::Bid), vec![]);
		DataMarket::do_try_state().unwrap();
	});
}

#[test]
fn a_buyer_or_seller_without_a_key_cannot_post() {
	new_test_ext().execute_with(|| {
		assert_noop!(bid(NO_KEY, 100, 1), Error::<Test>::NoEncryptionKey);
		assert_noop!(offer(NO_KEY, 100, 1), Error::<Test>::NoEncryptionKey);
		assert_eq!(free(NO_KEY), INITIAL);
		assert_books_balance();
	});
}

#[test]
fn deals_keep_the_key_the_buyer_had_when_matched() {
	new_test_ext().execute_with(|| {
		let id = matched_deal();
		assert_ok!(DataMarket::register_key(RuntimeOrigin::signed(BUYER), [42; 32]));
		assert_eq!(deal(id).buyer_key, [BUYER as u8; 32]);
	});
}

// ---- orders ----

#[test]
fn non_crossing_orders_rest_in_their_books_with_their_holds() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 100, 3));
		assert_ok!(bid(BUYER, 90, 2));
		assert_eq!(book(Side::Offer), vec![(0, 100, 3)]);
		assert_eq!(book(Side::Bid), vec![(1, 90, 2)]);
		assert_eq!(held(HoldReason::SellerBond, SELLER), 30);
		assert_eq!(held(HoldReason::Payment, BUYER), 180);
		assert_eq!(NextDealId::<Test>::get(), 0);
		assert_books_balance();
	});
}

#[test]
fn nobody_but_the_builder_market_offers_trained_models() {
	new_test_ext().execute_with(|| {
		// A fake "version" in a model book, or a trained model anywhere, from an ordinary offer.
		let post = |tag: &[u8], goods: Goods| DataMarket::post_offer(RuntimeOrigin::signed(SELLER), tag.to_vec(), goods, 10, 1, EXPIRES, None);
		assert_noop!(post(b"model/0/1", goods()), Error::<Test>::ReservedForModels);
		assert_noop!(post(TAG, Goods { kind: GoodsKind::TrainedModel, ..goods() }), Error::<Test>::ReservedForModels);
		// The builder market's own listing goes through.
		let listing = loopx_primitives::ModelListing {
			model_hash: H256::repeat_byte(3),
			size: 100,
			architecture: H256::repeat_byte(4),
			price: 10,
			quantity: 1,
			expires: EXPIRES,
		};
		assert_ok!(<DataMarket as loopx_primitives::ModelMarket<_, _, _>>::list_model(SELLER, b"model/0/1", listing));
		assert_books_balance();
	});
}

#[test]
fn a_crossing_bid_fills_at_the_resting_offers_price_and_gets_the_excess_back() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 100, 2));
		assert_ok!(bid(BUYER, 120, 2));
		let d = deal(0);
		assert_eq!((d.seller, d.buyer, d.quantity, d.price, d.payment, d.bond), (SELLER, BUYER, 2, 100, 200, 20));
		assert_eq!(d.state, DealState::Matched);
		assert_eq!(d.deadline, Some(1 + DELIVERY));
		assert_eq!(held(HoldReason::Payment, BUYER), 200);
		assert_eq!(free(BUYER), INITIAL - 200);
		assert!(book(Side::Offer).is_empty() && book(Side::Bid).is_empty());
		assert!(Orders::<Test>::iter().next().is_none());
		let events = market_events();
		assert!(events.contains(&Event::DealMatched {
			deal: 0,
			offer: 0,
			bid: 1,
			seller: SELLER,
			buyer: BUYER,
			quantity: 2,
			price: 100,
			payment: 200,
			bond: 20,
			router: None,
			released: 40,
			deliver_by: 1 + DELIVERY,
		}));
		assert!(events.contains(&Event::OrderClosed { order: 0, reason: CloseReason::Filled, released: 0 }));
		assert!(events.contains(&Event::OrderClosed { order: 1, reason: CloseReason::Filled, released: 0 }));
		assert_books_balance();
	});
}

#[test]
fn a_crossing_offer_fills_at_the_resting_bids_price() {
	new_test_ext().execute_with(|| {
		assert_ok!(bid(BUYER, 120, 1));
		assert_ok!(offer(SELLER, 100, 1));
		assert_eq!((deal(0).price, deal(0).payment, deal(0).bond), (120, 120, 10));
		assert_eq!(held(HoldReason::SellerBond, SELLER), 10);
		assert_books_balance();
	});
}

#[test]
fn matching_follows_price_then_time_priority() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 110, 1)); // order 0
		assert_ok!(offer(SELLER2, 100, 1)); // order 1: cheaper
		assert_ok!(offer(SELLER, 100, 1)); // order 2: same price, later
		assert_ok!(bid(BUYER, 200, 2));
		assert_eq!((deal(0).offer, deal(0).price), (1, 100));
		assert_eq!((deal(1).offer, deal(1).price), (2, 100));
		assert_eq!(book(Side::Offer), vec![(0, 110, 1)]);
		assert_books_balance();
	});
}

#[test]
fn partial_fills_leave_the_rest_in_the_book() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 100, 5));
		assert_ok!(bid(BUYER, 100, 2));
		assert_eq!(book(Side::Offer), vec![(0, 100, 3)]);
		assert_eq!(Orders::<Test>::get(0).unwrap().filled, 2);
		assert_eq!(held(HoldReason::SellerBond, SELLER), 50);
		// A bid larger than what is offered rests with the remainder.
		assert_ok!(bid(BUYER2, 100, 4));
		assert_eq!(deal(1).quantity, 3);
		assert_eq!(book(Side::Offer), vec![]);
		assert_eq!(book(Side::Bid), vec![(2, 100, 1)]);
		assert_eq!(held(HoldReason::Payment, BUYER2), 400);
		assert_books_balance();
	});
}

#[test]
fn one_order_makes_at_most_max_fills_and_the_rest_rests() {
	new_test_ext().execute_with(|| {
		for _ in 0..2 {
			assert_ok!(offer(SELLER, 100, 1));
			assert_ok!(offer(SELLER2, 100, 1));
		}
		assert_ok!(bid(BUYER, 100, 4));
		assert_eq!(NextDealId::<Test>::get(), 3);
		assert_eq!(book(Side::Offer), vec![(3, 100, 1)]);
		assert_eq!(book(Side::Bid), vec![(4, 100, 1)]);
		assert_books_balance();
	});
}

#[test]
fn an_order_never_matches_its_owners_orders() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 100, 1));
		assert_noop!(bid(SELLER, 100, 1), Error::<Test>::WouldMatchOwnOrder);
		assert_books_balance();
	});
}

#[test]
fn cancelling_after_a_partial_fill_returns_only_what_is_left() {
	new_test_ext().execute_with(|| {
		assert_ok!(bid(BUYER, 100, 5));
		assert_ok!(offer(SELLER, 100, 2));
		assert_eq!(held(HoldReason::Payment, BUYER), 500);
		assert_noop!(DataMarket::cancel_order(RuntimeOrigin::signed(SELLER), 0), Error::<Test>::NotOrderOwner);
		assert_noop!(DataMarket::cancel_order(RuntimeOrigin::signed(BUYER), 9), Error::<Test>::UnknownOrder);
		assert_ok!(DataMarket::cancel_order(RuntimeOrigin::signed(BUYER), 0));
		System::assert_last_event(Event::<Test>::OrderClosed { order: 0, reason: CloseReason::Cancelled, released: 300 }.into());
		// The deal's payment stays in escrow.
		assert_eq!(held(HoldReason::Payment, BUYER), 200);
		assert_eq!(deal(0).state, DealState::Matched);
		assert!(book(Side::Bid).is_empty());
		assert!(Timeouts::<Test>::get(EXPIRES).is_empty());
		assert_books_balance();
	});
}

#[test]
fn orders_expire_at_their_expiry_block_and_release_their_holds() {
	new_test_ext().execute_with(|| {
		assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 10, 3, 5, None));
		assert_ok!(DataMarket::post_offer(RuntimeOrigin::signed(SELLER), TAG.to_vec(), goods(), 20, 1, 6, None));
		run_to(4);
		assert_eq!(book(Side::Bid).len(), 1);
		run_to(5);
		assert!(book(Side::Bid).is_empty());
		assert_eq!(held(HoldReason::Payment, BUYER), 0);
		assert!(market_events().contains(&Event::OrderClosed { order: 0, reason: CloseReason::Expired, released: 30 }));
		run_to(6);
		assert!(book(Side::Offer).is_empty());
		assert_eq!(free(SELLER), INITIAL);
		assert_books_balance();
	});
}

#[test]
fn expiry_must_be_in_the_future_and_within_the_lifetime() {
	new_test_ext().execute_with(|| {
		run_to(10);
		let post = |expires| DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 10, 1, expires, None);
		assert_noop!(post(10), Error::<Test>::ExpiryInPast);
		assert_noop!(post(111), Error::<Test>::ExpiryTooFar);
		assert_ok!(post(110));
	});
}

#[test]
fn a_busy_expiry_block_moves_the_expiry_to_the_next_free_block() {
	new_test_ext().execute_with(|| {
		// Four expiries at EXPIRES fill its block (MaxTimeoutsPerBlock = 4).
		assert_ok!(bid(BUYER, 10, 1));
		assert_ok!(bid(BUYER, 10, 1));
		assert_ok!(offer(SELLER, 20, 1));
		assert_ok!(offer(SELLER, 20, 1));
		assert_ok!(bid(BUYER2, 10, 1));
		assert_eq!(Orders::<Test>::get(4).unwrap().expires, EXPIRES + 1);
		assert_eq!(Timeouts::<Test>::get(EXPIRES + 1).into_inner(), vec![Timeout::Order(4)]);
		run_to(EXPIRES);
		assert!(Orders::<Test>::get(4).is_some());
		run_to(EXPIRES + 1);
		assert_eq!(Orders::<Test>::iter().count(), 0);
		assert_books_balance();
	});
}

#[test]
fn a_full_book_rejects_a_resting_order_but_still_matches_a_crossing_one() {
	new_test_ext().execute_with(|| {
		for price in [100, 101, 102, 103] {
			assert_ok!(offer(SELLER, price, 1));
		}
		assert_noop!(offer(SELLER2, 104, 1), Error::<Test>::BookFull);
		assert_eq!(free(SELLER2), INITIAL);
		// The other side is not full, and an order that fills completely never rests.
		assert_ok!(bid(BUYER, 100, 1));
		assert_eq!(book(Side::Offer).len(), 3);
		assert_ok!(offer(SELLER2, 104, 1));
		assert_books_balance();
	});
}

#[test]
fn zero_prices_trade_for_free() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 0, 1));
		assert_ok!(bid(BUYER, 0, 1));
		assert_eq!((deal(0).payment, deal(0).bond), (0, 1), "the least bond");
		assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), 0, H256::repeat_byte(7), kc(0)));
		assert_ok!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), 0));
		assert_eq!((free(SELLER), free(BUYER)), (INITIAL, INITIAL));
		assert!(points().iter().all(|(_, _, p)| *p == 0));
		assert_books_balance();
	});
}

#[test]
fn a_free_offer_cannot_absorb_every_bid_for_nothing() {
	// The attack: an offer at price 0 of u32::MAX units held nothing (10 % of 0), matched every
	// bid of its book, delivered nothing, and cost its owner only the transaction fee.
	new_test_ext().execute_with(|| {
		assert_noop!(offer(SELLER, 0, u32::MAX), Error::<Test>::InsufficientBalance);
		// A free offer holds the least bond per unit, and loses it for a deal not delivered.
		assert_ok!(offer(SELLER, 0, 3));
		assert_eq!(held(HoldReason::SellerBond, SELLER), 3);
		assert_ok!(bid(BUYER, 0, 1));
		run_to(1 + DELIVERY);
		assert!(market_events().iter().any(|e| matches!(e, Event::DealRefunded { bond_slashed: 1, reason: RefundReason::NotDelivered, .. })));
		assert_eq!(free(SELLER), INITIAL - 3);
		assert_books_balance();
	});
}

#[test]
fn wash_trading_mints_no_reputation() {
	// The attack: two accounts of one operator trade with each other at price 0 (or any
	// price: the payment comes back to the operator) and confirm at once, 100 times. Before,
	// each settled deal gave both sides reputation (~500 deals took a validator from neutral
	// to the maximum for a few LPX of fees).
	new_test_ext().execute_with(|| {
		for id in 0..100 {
			assert_ok!(offer(SELLER, if id % 2 == 0 { 0 } else { 100 }, 1));
			assert_ok!(bid(BUYER, 100, 1));
			assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), id, H256::repeat_byte(7), kc(id)));
			assert_ok!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), id));
		}
		assert!(rep_log().iter().all(|(_, change, _)| *change <= 0), "no reputation gained: {:?}", rep_log());
		assert_books_balance();
	});
}

#[test]
fn maximal_prices_fail_cleanly() {
	new_test_ext().execute_with(|| {
		assert_noop!(bid(BUYER, Balance::MAX, 2), Error::<Test>::AmountOverflow);
		assert_noop!(bid(BUYER, Balance::MAX, 1), Error::<Test>::InsufficientBalance);
		assert_noop!(offer(SELLER, Balance::MAX, 1), Error::<Test>::InsufficientBalance);
		assert_noop!(offer(SELLER, Balance::MAX / 5, 100), Error::<Test>::AmountOverflow);
		// A bid at the highest price ranks first and an offer at the highest price last.
		assert_eq!(book::rank(Side::Bid, Balance::MAX), 0);
		assert_books_balance();
	});
}

#[test]
fn invalid_order_inputs_are_rejected() {
	new_test_ext().execute_with(|| {
		assert_noop!(bid(BUYER, 10, 0), Error::<Test>::ZeroQuantity);
		assert_noop!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), vec![b'x'; 17], 10, 1, EXPIRES, None), Error::<Test>::TagTooLong);
		assert_noop!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 10, 1, EXPIRES, Some(ROUTER)), Error::<Test>::NotRouter);
	});
}

// ---- deals ----

#[test]
fn delivery_and_confirmation_split_the_payment() {
	new_test_ext().execute_with(|| {
		let id = matched_deal();
		assert_noop!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), id), Error::<Test>::WrongDealState);
		assert_noop!(DataMarket::deliver(RuntimeOrigin::signed(BUYER), id, H256::zero(), kc(id)), Error::<Test>::NotSeller);
		assert_noop!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), 9, H256::zero(), kc(9)), Error::<Test>::UnknownDeal);
		run_to(3);
		assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), id, H256::repeat_byte(7), kc(id)));
		System::assert_last_event(
			Event::<Test>::Delivered { deal: id, ciphertext: H256::repeat_byte(7), key_commitment: kc(id), confirm_by: 3 + CONFIRM }.into(),
		);
		assert_eq!(deal(id).state, DealState::Delivered { ciphertext: H256::repeat_byte(7), key_commitment: kc(id) });
		assert!(Timeouts::<Test>::get(1 + DELIVERY).is_empty());
		assert_noop!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), id, H256::zero(), kc(id)), Error::<Test>::WrongDealState);
		assert_noop!(DataMarket::confirm(RuntimeOrigin::signed(SELLER), id), Error::<Test>::NotBuyer);
		assert_eq!(DataMarket::deals_of(SELLER).into_iter().map(|d| d.next).collect::<Vec<_>>(), vec![runtime_api::NextStep::AwaitConfirmation]);
		assert_eq!(DataMarket::deals_of(BUYER).into_iter().map(|d| d.next).collect::<Vec<_>>(), vec![runtime_api::NextStep::ConfirmOrDispute]);
		assert_ok!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), id));
		// 200 paid: 2 % protocol fee to the pot, 196 to the seller; the bond returns.
		System::assert_last_event(Event::<Test>::DealSettled { deal: id, seller: SELLER, to_seller: 196, router_fee: 0, protocol_fee: 4 }.into());
		assert_eq!(free(SELLER), INITIAL + 196);
		assert_eq!(free(BUYER), INITIAL - 200);
		assert_eq!(free(POT), 1 + 4);
		assert_eq!(held(HoldReason::SellerBond, SELLER), 0);
		assert!(Deals::<Test>::get(id).is_none() && DataMarket::deals_of(SELLER).is_empty());
		assert!(Timeouts::<Test>::get(3 + CONFIRM).is_empty());
		assert_eq!(rep_log(), vec![], "a settled deal moves no reputation");
		assert_eq!(points(), vec![(SELLER, ContributionCategory::DataSale, 20)]);
		assert_books_balance();
	});
}

#[test]
fn no_delivery_in_time_refunds_the_buyer_and_slashes_the_bond() {
	new_test_ext().execute_with(|| {
		let id = matched_deal();
		run_to(DELIVERY);
		assert!(Deals::<Test>::get(id).is_some());
		run_to(1 + DELIVERY);
		assert!(Deals::<Test>::get(id).is_none());
		assert_eq!(free(BUYER), INITIAL);
		assert_eq!(free(SELLER), INITIAL - 20);
		assert_eq!(free(TREASURY), 1 + 20);
		assert!(market_events().contains(&Event::DealRefunded {
			deal: id,
			buyer: BUYER,
			refunded: 200,
			bond_slashed: 20,
			bond_to_buyer: 0,
			reason: RefundReason::NotDelivered
		}));
		assert_eq!(rep_log(), vec![(SELLER, -(FAIL_REP as i64), ReputationReason::DealFailed)]);
		assert_books_balance();
	});
}

#[test]
fn no_confirmation_in_time_settles_to_the_seller() {
	new_test_ext().execute_with(|| {
		let id = delivered_deal();
		run_to(1 + CONFIRM);
		assert!(Deals::<Test>::get(id).is_none());
		assert_eq!(free(SELLER), INITIAL + 196);
		assert_books_balance();
	});
}

#[test]
fn a_dispute_opens_a_claim_against_the_seller() {
	new_test_ext().execute_with(|| {
		let id = delivered_deal();
		assert_noop!(DataMarket::dispute(RuntimeOrigin::signed(SELLER), id, H256::zero(), Some(KEY)), Error::<Test>::NotBuyer);
		fail_claims(true);
		assert_noop!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::zero(), Some(KEY)), DispatchError::Other("no voters"));
		fail_claims(false);
		assert_ok!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::repeat_byte(9), Some(KEY)));
		let claim = &claims()[0];
		assert_eq!((claim.class, claim.claimant, claim.subject), (ClaimClass::DataDispute, SELLER, DataMarket::deal_subject(id)));
		assert_eq!(claim.conflicted, vec![BUYER], "the buyer may not vote on its own dispute");
		assert_eq!(held(HoldReason::DisputeDeposit, BUYER), DEPOSIT);
		assert!(matches!(
			deal(id).state,
			DealState::Disputed { claim: Some(100), deposit: DEPOSIT, key: Some(RevealedKey { by_buyer: true, .. }), .. }
		));
		assert_eq!(deal(id).deadline, None);
		// No timeout while the vote runs.
		run_to(100);
		assert!(Deals::<Test>::get(id).is_some());
		assert_noop!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::zero(), Some(KEY)), Error::<Test>::WrongDealState);
		assert_noop!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), id), Error::<Test>::WrongDealState);
		assert_books_balance();
	});
}

#[test]
fn a_dispute_without_funds_for_the_deposit_fails() {
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 100, 1));
		assert_ok!(bid(BUYER, 100, 1));
		assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), 0, H256::zero(), kc(0)));
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::transfer(
			&BUYER,
			&BUYER2,
			free(BUYER) - 10,
			frame_support::traits::tokens::Preservation::Preserve
		));
		assert_noop!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), 0, H256::zero(), Some(KEY)), Error::<Test>::InsufficientBalance);
	});
}

#[test]
fn a_rejected_delivery_refunds_the_buyer_and_pays_it_the_bond() {
	new_test_ext().execute_with(|| {
		let id = disputed_deal();
		DataMarket::on_claim_decided(100, ClaimClass::DataDispute, &SELLER, &DataMarket::deal_subject(id), &decision(Outcome::Rejected));
		assert!(Deals::<Test>::get(id).is_none());
		// The loser's bond pays the winner.
		assert_eq!(free(BUYER), INITIAL + 20);
		assert_eq!(free(SELLER), INITIAL - 20);
		assert_eq!(free(TREASURY), 1);
		assert!(market_events().contains(&Event::DealRefunded {
			deal: id,
			buyer: BUYER,
			refunded: 200,
			bond_slashed: 0,
			bond_to_buyer: 20,
			reason: RefundReason::DisputeLost
		}));
		assert!(market_events().contains(&Event::DisputeDecided {
			deal: id,
			claim: 100,
			outcome: Outcome::Rejected,
			deposit_to_seller: 0,
			deposit_forfeited: 0
		}));
		assert_eq!(rep_log(), vec![(SELLER, -(FAIL_REP as i64), ReputationReason::DealFailed)]);
		assert_books_balance();
	});
}

#[test]
fn an_accepted_delivery_pays_the_seller_and_the_deposit() {
	new_test_ext().execute_with(|| {
		let id = disputed_deal();
		DataMarket::on_claim_decided(100, ClaimClass::DataDispute, &SELLER, &DataMarket::deal_subject(id), &decision(Outcome::Accepted));
		assert_eq!(free(SELLER), INITIAL + 196 + DEPOSIT);
		assert_eq!(free(BUYER), INITIAL - 200 - DEPOSIT);
		assert!(rep_log().contains(&(BUYER, -(FAIL_REP as i64), ReputationReason::DealFailed)));
		assert!(market_events().contains(&Event::DisputeDecided {
			deal: id,
			claim: 100,
			outcome: Outcome::Accepted,
			deposit_to_seller: DEPOSIT,
			deposit_forfeited: 0
		}));
		assert_books_balance();
	});
}

/// Attack: a buyer buys from its own second account and disputes with the key, so that the
/// claim holds a slot until it ends `NoQuorum`. The deposit is forfeited to the treasury, not
/// to the seller (its own account).
#[test]
fn no_quorum_settles_to_the_seller_and_a_buyer_that_opened_the_vote_forfeits_its_deposit() {
	new_test_ext().execute_with(|| {
		let id = disputed_deal();
		let treasury = free(TREASURY);
		DataMarket::on_claim_decided(100, ClaimClass::DataDispute, &SELLER, &DataMarket::deal_subject(id), &decision(Outcome::NoQuorum));
		assert_eq!(free(SELLER), INITIAL + 196);
		assert_eq!(free(BUYER), INITIAL - 200 - DEPOSIT);
		assert_eq!(free(TREASURY), treasury + DEPOSIT, "the deposit, to the treasury");
		assert!(market_events().contains(&Event::DisputeDecided {
			deal: id,
			claim: 100,
			outcome: Outcome::NoQuorum,
			deposit_to_seller: 0,
			deposit_forfeited: DEPOSIT
		}));
		assert_books_balance();
	});
}

#[test]
fn no_quorum_returns_the_deposit_of_a_buyer_that_could_not_open_the_payload() {
	new_test_ext().execute_with(|| {
		let id = delivered_deal();
		assert_ok!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::repeat_byte(9), None));
		assert_ok!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), id, KEY));
		DataMarket::on_claim_decided(100, ClaimClass::DataDispute, &SELLER, &DataMarket::deal_subject(id), &decision(Outcome::NoQuorum));
		assert_eq!(free(SELLER), INITIAL + 196);
		assert_eq!(free(BUYER), INITIAL - 200, "the seller had to reveal the key: the buyer had reason to dispute");
		assert_books_balance();
	});
}

#[test]
fn decisions_on_other_classes_or_unknown_claims_change_nothing() {
	new_test_ext().execute_with(|| {
		let id = disputed_deal();
		DataMarket::on_claim_decided(100, ClaimClass::QueryResult, &SELLER, &H256::zero(), &decision(Outcome::Rejected));
		DataMarket::on_claim_decided(7, ClaimClass::DataDispute, &SELLER, &H256::zero(), &decision(Outcome::Rejected));
		assert!(matches!(deal(id).state, DealState::Disputed { .. }));
		assert_books_balance();
	});
}

// ---- fair exchange: the deal key ----

/// Delivered deal 0, disputed by the buyer without the key (it could not open the payload).
fn disputed_without_key() -> DealId {
	let id = delivered_deal();
	assert_ok!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::repeat_byte(9), None));
	id
}

#[test]
fn a_delivery_must_commit_to_a_key() {
	new_test_ext().execute_with(|| {
		let id = matched_deal();
		assert_noop!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), id, H256::repeat_byte(7), H256::zero()), Error::<Test>::InvalidKeyCommitment);
	});
}

#[test]
fn a_garbage_seller_cannot_escape_the_vote_by_withholding_the_key() {
	// The attack: deliver garbage, and when disputed never reveal the key, so that nobody can
	// judge the delivery (before deal keys, every such dispute ended NoQuorum and paid the seller).
	new_test_ext().execute_with(|| {
		run_to(2);
		let id = disputed_without_key();
		assert!(claims().is_empty(), "no vote without the key");
		assert!(market_events().contains(&Event::Disputed {
			deal: id,
			evidence: H256::repeat_byte(9),
			deposit: DEPOSIT,
			claim: None,
			reveal_by: Some(2 + CONFIRM)
		}));
		assert_eq!(DataMarket::deals_of(SELLER)[0].next, runtime_api::NextStep::RevealKey);
		assert_eq!(DataMarket::deals_of(BUYER)[0].next, runtime_api::NextStep::AwaitKey);
		run_to(1 + CONFIRM);
		assert!(Deals::<Test>::get(id).is_some());
		run_to(2 + CONFIRM);
		assert!(Deals::<Test>::get(id).is_none());
		assert_eq!(free(BUYER), INITIAL + 20, "payment and deposit back, and the seller's bond");
		assert_eq!(free(SELLER), INITIAL - 20);
		assert!(market_events().contains(&Event::DealRefunded {
			deal: id,
			buyer: BUYER,
			refunded: 200,
			bond_slashed: 0,
			bond_to_buyer: 20,
			reason: RefundReason::KeyNotRevealed
		}));
		assert_eq!(rep_log(), vec![(SELLER, -(FAIL_REP as i64), ReputationReason::DealFailed)]);
		assert_books_balance();
	});
}

#[test]
fn only_the_committed_key_is_accepted_from_either_party() {
	new_test_ext().execute_with(|| {
		let id = delivered_deal();
		// A buyer cannot make the voters judge another key (say, one that opens to garbage).
		assert_noop!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::repeat_byte(9), Some([6; 32])), Error::<Test>::WrongDealKey);
		assert_noop!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), id, KEY), Error::<Test>::WrongDealState);
		assert_ok!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), id, H256::repeat_byte(9), None));
		assert_noop!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), id, [6; 32]), Error::<Test>::WrongDealKey);
		assert_noop!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(BUYER2), id, KEY), Error::<Test>::NotParty);
		assert_noop!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), 9, KEY), Error::<Test>::UnknownDeal);
		assert_ok!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), id, KEY));
		assert_noop!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(BUYER), id, KEY), Error::<Test>::KeyAlreadyRevealed);
		assert!(market_events().contains(&Event::DealKeyRevealed { deal: id, by: SELLER, key: KEY }));
		assert!(market_events().contains(&Event::DisputeClaimOpened { deal: id, claim: 100 }));
		let claim = &claims()[0];
		assert_eq!((claim.class, claim.claimant, claim.conflicted.clone()), (ClaimClass::DataDispute, SELLER, vec![BUYER]));
		assert_eq!(DataMarket::disputed_deal(100).map(|(d, _)| d), Some(id));
		assert!(matches!(deal(id).state, DealState::Disputed { claim: Some(100), key: Some(RevealedKey { key: KEY, by_buyer: false }), .. }));
		assert_eq!(deal(id).deadline, None, "the vote has its own deadlines");
		run_to(100);
		assert!(Deals::<Test>::get(id).is_some());
		assert_books_balance();
	});
}

#[test]
fn a_buyer_that_could_not_open_the_payload_keeps_its_deposit_when_the_vote_finds_it_good() {
	// A seller sealing with a key other than the committed one makes the buyer dispute; it
	// must not win the buyer's deposit by revealing the key afterwards.
	new_test_ext().execute_with(|| {
		let id = disputed_without_key();
		assert_ok!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), id, KEY));
		DataMarket::on_claim_decided(100, ClaimClass::DataDispute, &SELLER, &DataMarket::deal_subject(id), &decision(Outcome::Accepted));
		assert_eq!(free(SELLER), INITIAL + 196);
		assert_eq!(free(BUYER), INITIAL - 200);
		assert!(!rep_log().iter().any(|(who, d, _)| *who == BUYER && *d < 0), "the buyer is not penalised");
		assert!(market_events().contains(&Event::DisputeDecided {
			deal: id,
			claim: 100,
			outcome: Outcome::Accepted,
			deposit_to_seller: 0,
			deposit_forfeited: 0
		}));
		assert_books_balance();
	});
}

#[test]
fn a_revealed_key_survives_a_full_claim_registry_and_its_vote_opens_later() {
	// A seller revealing while weighted voting cannot take the claim must not lose the deal.
	new_test_ext().execute_with(|| {
		run_to(2);
		let id = disputed_without_key();
		fail_claims(true);
		assert_ok!(DataMarket::reveal_deal_key(RuntimeOrigin::signed(SELLER), id, KEY));
		// (Stored events lose a `DispatchError::Other`'s text.)
		assert!(market_events()
			.iter()
			.any(|e| matches!(e, Event::DisputeClaimDeferred { deal, retry_at, .. } if *deal == id && *retry_at == 2 + CONFIRM)));
		assert!(matches!(deal(id).state, DealState::Disputed { claim: None, key: Some(_), .. }));
		assert_eq!(DataMarket::deals_of(SELLER)[0].next, runtime_api::NextStep::AwaitVerdict);
		// Still full at the retry: tried again later, never refunded for want of a key.
		run_to(2 + CONFIRM);
		assert!(matches!(deal(id).state, DealState::Disputed { claim: None, key: Some(_), .. }));
		fail_claims(false);
		run_to(2 + 2 * CONFIRM);
		assert!(market_events().contains(&Event::DisputeClaimOpened { deal: id, claim: 100 }));
		assert!(matches!(deal(id).state, DealState::Disputed { claim: Some(100), .. }));
		assert_eq!(free(SELLER), INITIAL - 20, "the bond is still held");
		assert_books_balance();
	});
}

#[test]
fn the_v2_migration_keeps_deals_delivered_and_disputed_before_it() {
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	use migrations::v2::OldDealState;
	new_test_ext().execute_with(|| {
		assert_ok!(offer(SELLER, 100, 2));
		assert_ok!(bid(BUYER, 100, 1));
		assert_ok!(bid(BUYER, 100, 1));
		// Rewrite deals 0 and 1 as v1 stored them: delivered, and disputed with its claim open.
		let rewrite = |id: DealId, state: OldDealState<Balance>| {
			let d = deal(id);
			let mut bytes =
				(d.offer, d.bid, d.seller, d.buyer, d.buyer_key, d.tag.clone(), d.goods, d.quantity, d.price, d.payment, d.bond, d.router).encode();
			bytes.extend((state, d.deadline).encode());
			frame_support::storage::unhashed::put_raw(&Deals::<Test>::hashed_key_for(id), &bytes);
		};
		rewrite(0, OldDealState::Delivered { ciphertext: H256::repeat_byte(7) });
		assert_ok!(<Balances as frame_support::traits::fungible::MutateHold<_>>::hold(
			&RuntimeHoldReason::DataMarket(HoldReason::DisputeDeposit),
			&BUYER,
			DEPOSIT
		));
		rewrite(1, OldDealState::Disputed { ciphertext: H256::repeat_byte(7), evidence: H256::repeat_byte(9), claim: 7, deposit: DEPOSIT });
		Disputes::<Test>::insert(7, 1);
		StorageVersion::new(1).put::<DataMarket>();

		crate::migrations::v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(DataMarket::on_chain_storage_version(), 2);
		assert_eq!(deal(0).state, DealState::Delivered { ciphertext: H256::repeat_byte(7), key_commitment: H256::zero() });
		assert!(matches!(deal(1).state, DealState::Disputed { claim: Some(7), key: None, deposit: DEPOSIT, .. }));
		// An old delivery's dispute goes to the vote at once (no key was committed).
		assert_ok!(DataMarket::dispute(RuntimeOrigin::signed(BUYER), 0, H256::repeat_byte(9), None));
		assert!(matches!(deal(0).state, DealState::Disputed { claim: Some(_), .. }));
		// The old dispute is decided by its vote as before.
		DataMarket::on_claim_decided(7, ClaimClass::DataDispute, &SELLER, &DataMarket::deal_subject(1), &decision(Outcome::Rejected));
		assert!(Deals::<Test>::get(1).is_none());
		assert_books_balance();
	});
}

// ---- routers ----

#[test]
fn routers_come_from_the_shared_registry_and_leaving_it_stops_routing() {
	new_test_ext().execute_with(|| {
		// Registration, its bond and its fee cap are the registry's (pallet-routers' tests);
		// here: the market routes only for accounts the registry holds.
		assert_noop!(
			DataMarket::post_offer(RuntimeOrigin::signed(SELLER), TAG.to_vec(), goods(), 100, 1, EXPIRES, Some(ROUTER)),
			Error::<Test>::NotRouter
		);
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(5)));
		assert_ok!(DataMarket::post_offer(RuntimeOrigin::signed(SELLER), TAG.to_vec(), goods(), 100, 1, EXPIRES, Some(ROUTER)));
		assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 100, 1, EXPIRES, Some(ROUTER)));
		assert_ok!(Routers::unregister_router(RuntimeOrigin::signed(ROUTER)));
		assert_eq!(free(ROUTER), INITIAL, "the bond came back");
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 1, 1), Error::<Test>::NotRouter);
		assert_books_balance();
	});
}

#[test]
fn a_router_matches_routed_orders_and_earns_its_fee() {
	new_test_ext().execute_with(|| {
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(5)));
		assert_ok!(DataMarket::post_offer(RuntimeOrigin::signed(SELLER), TAG.to_vec(), goods(), 100, 3, EXPIRES, Some(ROUTER)));
		// Routed orders stay out of the book: this crossing bid does not match them.
		assert_ok!(bid(BUYER, 150, 2));
		assert_eq!(NextDealId::<Test>::get(), 0);
		assert!(book(Side::Offer).is_empty());
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(SELLER2), 0, 1, 1), Error::<Test>::NotRouter);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 1, 0, 1), Error::<Test>::WrongSide);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 1, 3), Error::<Test>::QuantityTooLarge);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 1, 0), Error::<Test>::ZeroQuantity);
		assert_ok!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 1, 2));
		let d = deal(0);
		assert_eq!((d.price, d.payment, d.router), (100, 200, Some((ROUTER, Perbill::from_percent(5)))));
		assert_eq!(Orders::<Test>::get(0).unwrap().remaining, 1);
		assert!(Orders::<Test>::get(1).is_none());
		assert_ok!(DataMarket::deliver(RuntimeOrigin::signed(SELLER), 0, H256::repeat_byte(7), kc(0)));
		assert_ok!(DataMarket::confirm(RuntimeOrigin::signed(BUYER), 0));
		// 200: 10 to the router, 4 to the pot, 186 to the seller.
		System::assert_last_event(Event::<Test>::DealSettled { deal: 0, seller: SELLER, to_seller: 186, router_fee: 10, protocol_fee: 4 }.into());
		assert_eq!(free(ROUTER), INITIAL - ROUTER_BOND + 10);
		assert!(points().contains(&(ROUTER, ContributionCategory::Routing, 20)));
		assert_books_balance();
	});
}

#[test]
fn a_router_cannot_match_another_routers_orders_or_non_crossing_ones() {
	new_test_ext().execute_with(|| {
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(1)));
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(SELLER2), Perbill::from_percent(1)));
		assert_ok!(DataMarket::post_offer(RuntimeOrigin::signed(SELLER), TAG.to_vec(), goods(), 100, 1, EXPIRES, Some(ROUTER)));
		assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 90, 1, EXPIRES, Some(ROUTER)));
		assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER2), b"other".to_vec(), 200, 1, EXPIRES, Some(ROUTER)));
		assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER2), TAG.to_vec(), 200, 1, EXPIRES, Some(SELLER2)));
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 1, 1), Error::<Test>::PricesDoNotCross);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 2, 1), Error::<Test>::TagMismatch);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 3, 1), Error::<Test>::NotRouterOfOrder);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(SELLER2), 0, 3, 1), Error::<Test>::NotRouterOfOrder);
		assert_noop!(DataMarket::route(RuntimeOrigin::signed(ROUTER), 0, 9, 1), Error::<Test>::UnknownOrder);
		assert_books_balance();
	});
}

// ---- bounds ----

#[test]
fn deal_deadlines_slide_when_a_block_is_full() {
	new_test_ext().execute_with(|| {
		// Four bids of one unit, then an offer that fills three (MaxFillsPerOrder) of them: its
		// order expiry and three deal deadlines.
		for _ in 0..4 {
			assert_ok!(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 10, 1, 1 + DELIVERY, None));
		}
		// Block 11 holds the four bid expiries: the first deal's deadline slides to block 12;
		// each filled bid leaves block 11, so the next deals fit there again.
		assert_ok!(offer(SELLER, 10, 3));
		assert_eq!(deal(0).deadline, Some(2 + DELIVERY));
		assert_eq!(deal(1).deadline, Some(1 + DELIVERY));
		assert_eq!(deal(2).deadline, Some(1 + DELIVERY));
		run_to(2 + DELIVERY);
		assert_eq!(Deals::<Test>::iter().count(), 0);
		assert_books_balance();
	});
}

#[test]
fn heap_slots_stay_consistent_through_matching_and_cancelling() {
	new_test_ext().execute_with(|| {
		for (who, price) in [(SELLER, 105), (SELLER2, 101), (SELLER, 103), (SELLER2, 102)] {
			assert_ok!(offer(who, price, 1));
		}
		assert_ok!(DataMarket::cancel_order(RuntimeOrigin::signed(SELLER), 2));
		assert_eq!(book(Side::Offer), vec![(1, 101, 1), (3, 102, 1), (0, 105, 1)]);
		assert_ok!(bid(BUYER, 102, 3));
		assert_eq!(book(Side::Offer), vec![(0, 105, 1)]);
		assert_eq!(book(Side::Bid), vec![(4, 102, 1)]);
		for (id, _) in Orders::<Test>::iter() {
			let slot = BookSlot::<Test>::get(id).unwrap();
			let o = Orders::<Test>::get(id).unwrap();
			assert_eq!(Books::<Test>::get((tag(), o.side, slot)).map(|e| e.order), Some(id));
		}
		assert_eq!(BookSlot::<Test>::iter().count(), 2);
		assert_books_balance();
	});
}

// ---- deal periods ----

#[test]
fn root_sets_deal_periods_within_bounds_and_only_new_deals_use_them() {
	new_test_ext().execute_with(|| {
		let first = matched_deal();
		let short = DealPeriods { delivery: 3, confirm: 2 };
		assert_noop!(DataMarket::set_periods(RuntimeOrigin::signed(BUYER), short), sp_runtime::DispatchError::BadOrigin);
		for bad in [DealPeriods { delivery: 0, confirm: 2 }, DealPeriods { delivery: 3, confirm: 0 }, DealPeriods { delivery: 1_001, confirm: 2 }] {
			assert_noop!(DataMarket::set_periods(RuntimeOrigin::root(), bad), Error::<Test>::InvalidPeriod);
		}
		assert_eq!(Periods::<Test>::get(), DealPeriods { delivery: DELIVERY, confirm: CONFIRM });
		assert_ok!(DataMarket::set_periods(RuntimeOrigin::root(), short));
		assert!(market_events().contains(&Event::PeriodsSet { periods: short }));

		// A second deal, made after the change, times out after 3 blocks; the first keeps its own.
		assert_ok!(offer(SELLER, 100, 1));
		assert_ok!(bid(BUYER, 100, 1));
		let second = first + 1;
		run_to(1 + 3);
		assert!(Deals::<Test>::get(second).is_none());
		assert!(Deals::<Test>::get(first).is_some());
		run_to(1 + DELIVERY);
		assert!(Deals::<Test>::get(first).is_none());
		assert_books_balance();
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
		put_storage_value(b"DataMarket", b"Routers", &key, (Perbill::from_percent(5), ROUTER_BOND));
		let old_reason = RuntimeHoldReason::DataMarket(HoldReason::RouterBond);
		assert_ok!(<Balances as MutateHold<AccountId>>::hold(&old_reason, &ROUTER, ROUTER_BOND));
		StorageVersion::new(0).put::<DataMarket>();

		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(free(ROUTER), INITIAL, "the whole bond is back");
		assert_eq!(Balances::balance_on_hold(&old_reason, &ROUTER), 0);
		assert_eq!(get_storage_value::<(Perbill, Balance)>(b"DataMarket", b"Routers", &key), None, "the old entry is gone");
		assert_eq!(DataMarket::on_chain_storage_version(), 1);
		assert_eq!(pallet_routers::Routers::<Test>::get(ROUTER), None, "it registers again itself");

		// Once only: a second run finds version 1 and changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
		assert_books_balance();
	});
}

// ---- weight refunds ----

/// The weight a post was charged after dispatch.
fn charged(result: frame_support::dispatch::DispatchResultWithPostInfo) -> Weight {
	result.expect("the post succeeds").actual_weight.expect("a post returns its actual weight")
}

#[test]
fn a_post_pays_for_the_work_it_did_not_for_the_worst_case() {
	use crate::weights::WeightInfo;
	new_test_ext().execute_with(|| {
		let max = <<Test as Config>::MaxBookSize as Get<u32>>::get();
		let declared = <() as WeightInfo>::post_order_matching(crate::book::depth(max - 1)).max(DataMarket::resting_weight(max));
		assert_eq!(declared, DataMarket::post_bound());
		// Resting in an empty book: it climbs nothing.
		let rest = charged(DataMarket::post_offer(RuntimeOrigin::signed(SELLER), TAG.to_vec(), goods(), 10, 1, EXPIRES, None));
		let read = <<Test as frame_system::Config>::DbWeight as Get<frame_support::weights::RuntimeDbWeight>>::get().reads(1);
		assert_eq!(rest, DataMarket::resting_weight(1).saturating_add(read));
		assert!(rest.all_gte(<() as WeightInfo>::post_order_resting(0)));
		assert!(rest.ref_time() < declared.ref_time());
		assert_ok!(offer(SELLER2, 11, 1));
		// A bid that takes one of the two offers pays for one fill of three, not for three.
		let one = charged(DataMarket::post_bid(RuntimeOrigin::signed(BUYER), TAG.to_vec(), 10, 1, EXPIRES, None));
		// One that takes the other and rests its second unit pays for a fill too.
		let two = charged(DataMarket::post_bid(RuntimeOrigin::signed(BUYER2), TAG.to_vec(), 11, 2, EXPIRES, None));
		assert!(rest.ref_time() < one.ref_time() && one.ref_time() < declared.ref_time(), "{rest:?} {one:?} {declared:?}");
		assert!(two.ref_time() <= declared.ref_time());
		assert!(two.ref_time() > rest.ref_time(), "a fill costs more than resting alone");
		// Cancelling is charged for the book it left.
		let order = book(Side::Bid)[0].0;
		let cancel = DataMarket::cancel_order(RuntimeOrigin::signed(BUYER2), order).unwrap().actual_weight.unwrap();
		assert_eq!(cancel, DataMarket::cancel_weight(1));
		assert!(cancel.all_gte(<() as WeightInfo>::cancel_order(0)));
	});
}

#[test]
fn the_charged_weight_grows_with_the_fills_and_never_passes_the_declared_one() {
	new_test_ext().execute_with(|| {
		let max_fills = <<Test as Config>::MaxFillsPerOrder as Get<u32>>::get();
		let mut last = Weight::zero();
		for steps in 0..=max_fills + 2 {
			for book_len in [0, 1, 3, 4, 100] {
				let w = DataMarket::post_weight(crate::engine::PostWork { steps, book_len });
				let declared = DataMarket::post_bound();
				assert!(w.all_lte(declared), "{steps} {book_len}: {w:?} > {declared:?}");
			}
			let w = DataMarket::post_weight(crate::engine::PostWork { steps, book_len: 4 });
			assert!(w.all_gte(last), "more fills never cost less");
			last = w;
		}
	});
}

/// A heap's reads and writes grow with its depth: the weight charged for resting in, and for
/// cancelling from, a book follows the depth the order climbs or the last entry sinks — one more
/// level each time the book's length passes a power of two — so the deepest book is charged
/// for its deepest walk (a linear fit over the length charged it as a middle-sized one).
#[test]
fn a_book_is_charged_by_the_depth_of_its_heap() {
	use crate::{book::depth, weights::WeightInfo};
	assert_eq!([0, 1, 2, 3, 6, 7, 1022, 1023].map(depth), [0, 1, 1, 2, 2, 3, 9, 10]);
	new_test_ext().execute_with(|| {
		// Resting with 1, 2..3, 4 orders in the book (the mock's books hold 4): depth 0, 1, 2.
		for (len, d) in [(1, 0), (2, 1), (3, 1), (4, 2), (100, 2)] {
			let spill = <<Test as frame_system::Config>::DbWeight as Get<frame_support::weights::RuntimeDbWeight>>::get().reads_writes(1, 1);
			assert_eq!(DataMarket::resting_weight(len), <() as WeightInfo>::post_order_resting(d).saturating_add(spill), "{len} orders");
			assert_eq!(DataMarket::cancel_weight(len), <() as WeightInfo>::cancel_order(d).saturating_add(spill), "{len} orders");
		}
		// A full match too, with a book at least as long as the fills (3 in the mock).
		for (len, d) in [(1, 1), (3, 1), (4, 2)] {
			assert_eq!(DataMarket::matching_weight(len), <() as WeightInfo>::post_order_matching(d), "{len} orders");
		}
		assert!(<() as WeightInfo>::post_order_resting(2).all_gt(<() as WeightInfo>::post_order_resting(0)));
	});
}
