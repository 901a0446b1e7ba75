//! Property test over random sequences of market actions (orders, routing, cancels, deliveries,
//! confirmations, disputes with and without the deal key, key reveals right and wrong, and
//! their outcomes, timeouts): after every action
//! - a failed action changed no storage at all;
//! - every hold equals what the pallet's storage says is held, and all balances add up to the
//!   unchanged total issuance (held + free + fees + slashes, to the last unit);
//! - every account holds exactly what the events say it should: its start, plus what it was
//!   paid as seller, router, pot or treasury, minus what it paid as buyer or lost as a bond.

use crate::{mock::*, *};
use frame_support::traits::fungible::Inspect;
use loopx_primitives::{ClaimClass, ClaimOutcome, Decision, Outcome};
use proptest::prelude::*;
use std::collections::BTreeMap;

const TAGS: [&[u8]; 2] = [b"a", b"b"];

#[derive(Clone, Debug)]
enum Action {
	Offer {
		seller: bool,
		tag: usize,
		price: u128,
		quantity: u32,
		routed: bool,
		lifetime: u64,
	},
	Bid {
		buyer: bool,
		tag: usize,
		price: u128,
		quantity: u32,
		routed: bool,
		lifetime: u64,
	},
	Cancel(usize),
	Route {
		offer: usize,
		bid: usize,
		quantity: u32,
	},
	Deliver(usize),
	Confirm(usize),
	/// Disputes, with the key (`true`) or without.
	Dispute(usize, bool),
	/// The seller (`true`) or the buyer reveals the key, right or wrong.
	Reveal(usize, bool, bool),
	Decide(usize, u8),
	Advance(u64),
	/// A buyer removes its encryption key, or registers one again.
	ToggleKey(bool),
}

fn action() -> impl Strategy<Value = Action> {
	prop_oneof![
		3 => (any::<bool>(), 0..2usize, 0u128..300, 1u32..5, prop::bool::weighted(0.2), 1u64..40).prop_map(
			|(seller, tag, price, quantity, routed, lifetime)| Action::Offer { seller, tag, price, quantity, routed, lifetime }
		),
		3 => (any::<bool>(), 0..2usize, 0u128..300, 1u32..5, prop::bool::weighted(0.2), 1u64..40).prop_map(
			|(buyer, tag, price, quantity, routed, lifetime)| Action::Bid { buyer, tag, price, quantity, routed, lifetime }
		),
		1 => any::<usize>().prop_map(Action::Cancel),
		1 => (any::<usize>(), any::<usize>(), 1u32..4).prop_map(|(offer, bid, quantity)| Action::Route { offer, bid, quantity }),
		2 => any::<usize>().prop_map(Action::Deliver),
		2 => any::<usize>().prop_map(Action::Confirm),
		1 => (any::<usize>(), any::<bool>()).prop_map(|(d, k)| Action::Dispute(d, k)),
		1 => (any::<usize>(), any::<bool>(), prop::bool::weighted(0.8)).prop_map(|(d, s, right)| Action::Reveal(d, s, right)),
		1 => (any::<usize>(), 0u8..3).prop_map(|(d, o)| Action::Decide(d, o)),
		2 => (1u64..12).prop_map(Action::Advance),
		1 => any::<bool>().prop_map(Action::ToggleKey),
	]
}

fn pick<K: Copy>(keys: &[K], i: usize) -> Option<K> {
	(!keys.is_empty()).then(|| keys[i % keys.len()])
}

fn apply(action: &Action) -> DispatchResult {
	let now = System::block_number();
	let orders: Vec<OrderId> = Orders::<Test>::iter_keys().collect();
	let mut deals: Vec<DealId> = Deals::<Test>::iter_keys().collect();
	deals.sort();
	let signed = RuntimeOrigin::signed;
	match *action {
		Action::Offer { seller, tag, price, quantity, routed, lifetime } => {
			let who = if seller { SELLER } else { SELLER2 };
			let goods = Goods {
				kind: GoodsKind::LocalModel,
				commitment: Commitment { content_hash: H256::repeat_byte(3), size: 10, samples: 1, schema: H256::zero() },
			};
			DataMarket::post_offer(signed(who), TAGS[tag].to_vec(), goods, price, quantity, now + lifetime, routed.then_some(ROUTER))
				.map(|_| ())
				.map_err(|e| e.error)
		},
		Action::Bid { buyer, tag, price, quantity, routed, lifetime } => {
			let who = if buyer { BUYER } else { BUYER2 };
			DataMarket::post_bid(signed(who), TAGS[tag].to_vec(), price, quantity, now + lifetime, routed.then_some(ROUTER))
				.map(|_| ())
				.map_err(|e| e.error)
		},
		Action::Cancel(i) => match pick(&orders, i) {
			Some(id) => DataMarket::cancel_order(signed(Orders::<Test>::get(id).unwrap().owner), id).map(|_| ()).map_err(|e| e.error),
			None => Ok(()),
		},
		Action::Route { offer, bid, quantity } => {
			let offers: Vec<_> = orders.iter().copied().filter(|o| Orders::<Test>::get(o).unwrap().side == Side::Offer).collect();
			let bids: Vec<_> = orders.iter().copied().filter(|o| Orders::<Test>::get(o).unwrap().side == Side::Bid).collect();
			match (pick(&offers, offer), pick(&bids, bid)) {
				(Some(o), Some(b)) => DataMarket::route(signed(ROUTER), o, b, quantity),
				_ => Ok(()),
			}
		},
		Action::Deliver(i) => match pick(&deals, i) {
			Some(id) => {
				DataMarket::deliver(signed(Deals::<Test>::get(id).unwrap().seller), id, H256::repeat_byte(5), deal_key_commitment(id, &[5; 32]))
			},
			None => Ok(()),
		},
		Action::Confirm(i) => match pick(&deals, i) {
			Some(id) => DataMarket::confirm(signed(Deals::<Test>::get(id).unwrap().buyer), id),
			None => Ok(()),
		},
		Action::Dispute(i, with_key) => match pick(&deals, i) {
			Some(id) => DataMarket::dispute(signed(Deals::<Test>::get(id).unwrap().buyer), id, H256::repeat_byte(6), with_key.then_some([5; 32])),
			None => Ok(()),
		},
		Action::Reveal(i, by_seller, right) => match pick(&deals, i) {
			Some(id) => {
				let d = Deals::<Test>::get(id).unwrap();
				let who = if by_seller { d.seller } else { d.buyer };
				DataMarket::reveal_deal_key(signed(who), id, if right { [5; 32] } else { [6; 32] })
			},
			None => Ok(()),
		},
		Action::Decide(i, o) => {
			let mut claims: Vec<_> = Disputes::<Test>::iter_keys().collect();
			claims.sort();
			if let Some(claim) = pick(&claims, i) {
				let outcome = [Outcome::Accepted, Outcome::Rejected, Outcome::NoQuorum][o as usize];
				let decision = Decision { outcome, score: None, revealed_weight: 1, agreeing_weight: 1 };
				DataMarket::on_claim_decided(claim, ClaimClass::DataDispute, &SELLER, &H256::zero(), &decision);
			}
			Ok(())
		},
		Action::Advance(n) => {
			run_to(now + n);
			Ok(())
		},
		Action::ToggleKey(buyer) => {
			let who = if buyer { BUYER } else { BUYER2 };
			match EncryptionKeys::<Test>::contains_key(who) {
				true => DataMarket::remove_key(signed(who)),
				false => DataMarket::register_key(signed(who), [who as u8; 32]),
			}
		},
	}
}

/// What each account should hold, from the events alone.
fn expected_balances() -> BTreeMap<AccountId, i128> {
	let mut expected: BTreeMap<AccountId, i128> = (1..=6).map(|a| (a, INITIAL as i128)).collect();
	expected.insert(POT, 1);
	expected.insert(TREASURY, 1);
	let mut parties: BTreeMap<DealId, (AccountId, AccountId)> = BTreeMap::new();
	for event in market_events() {
		match event {
			Event::DealMatched { deal, seller, buyer, .. } => {
				parties.insert(deal, (seller, buyer));
			},
			Event::DealSettled { deal, seller, to_seller, router_fee, protocol_fee } => {
				let (_, buyer) = parties[&deal];
				*expected.get_mut(&seller).unwrap() += to_seller as i128;
				*expected.get_mut(&buyer).unwrap() -= (to_seller + router_fee + protocol_fee) as i128;
				*expected.get_mut(&ROUTER).unwrap() += router_fee as i128;
				*expected.get_mut(&POT).unwrap() += protocol_fee as i128;
			},
			Event::DealRefunded { deal, bond_slashed, bond_to_buyer, .. } => {
				let (seller, buyer) = parties[&deal];
				*expected.get_mut(&seller).unwrap() -= (bond_slashed + bond_to_buyer) as i128;
				*expected.get_mut(&TREASURY).unwrap() += bond_slashed as i128;
				*expected.get_mut(&buyer).unwrap() += bond_to_buyer as i128;
			},
			Event::DisputeDecided { deal, deposit_to_seller, deposit_forfeited, .. } => {
				let (seller, buyer) = parties[&deal];
				*expected.get_mut(&seller).unwrap() += deposit_to_seller as i128;
				*expected.get_mut(&buyer).unwrap() -= (deposit_to_seller + deposit_forfeited) as i128;
				*expected.get_mut(&TREASURY).unwrap() += deposit_forfeited as i128;
			},
			_ => {},
		}
	}
	expected
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]
	#[test]
	fn random_market_histories_conserve_every_unit(actions in prop::collection::vec(action(), 1..60)) {
		new_test_ext().execute_with(|| {
			Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(3)).unwrap();
			for action in &actions {
				let before = sp_io::storage::root(sp_runtime::StateVersion::V1);
				if apply(action).is_err() {
					assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), before, "{action:?} failed but changed storage");
				}
				assert_books_balance();
				DataMarket::do_try_state().unwrap_or_else(|e| panic!("after {action:?}: {e:?}"));
				for (who, balance) in expected_balances() {
					assert_eq!(Balances::total_balance(&who) as i128, balance, "account {who} after {action:?}");
				}
			}
			// Everything still open ends: orders expire, deals time out (disputes are decided).
			let claims: Vec<_> = Disputes::<Test>::iter_keys().collect();
			for claim in claims {
				let decision = Decision { outcome: Outcome::NoQuorum, score: None, revealed_weight: 0, agreeing_weight: 0 };
				DataMarket::on_claim_decided(claim, ClaimClass::DataDispute, &SELLER, &H256::zero(), &decision);
			}
			run_to(System::block_number() + 200);
			prop_assert_eq!(Orders::<Test>::iter().count(), 0);
			prop_assert_eq!(Deals::<Test>::iter().count(), 0);
			prop_assert_eq!(Timeouts::<Test>::iter().count(), 0);
			prop_assert_eq!(Books::<Test>::iter().count(), 0);
			prop_assert_eq!(BookSlot::<Test>::iter().count(), 0);
			assert_books_balance();
			Ok(())
		})?;
	}
}
