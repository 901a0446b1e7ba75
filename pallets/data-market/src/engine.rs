//! The engine behind the calls: orders and books, matching, deals, escrow and timeouts.

use crate::{
	book::{self, BookEntry, HeapSlots},
	*,
};
use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use loopx_primitives::{agenda, ClaimClass, ClaimOutcome, ClaimRequest, ContributionCategory, Decision, Outcome, ReputationReason, RouterRegistry};
use sp_runtime::{
	traits::{BlakeTwo256, CheckedMul, Hash, Saturating, UniqueSaturatedInto, Zero},
	DispatchError,
};

/// One book (tag and side) in storage, as the heap of [`book`] sees it.
pub(crate) struct StoredBook<T: Config> {
	tag: TagOf<T>,
	side: Side,
}

impl<T: Config> StoredBook<T> {
	pub(crate) fn new(tag: TagOf<T>, side: Side) -> Self {
		Self { tag, side }
	}
}

impl<T: Config> HeapSlots for StoredBook<T> {
	fn len(&self) -> u32 {
		BookLen::<T>::get(&self.tag, self.side)
	}
	fn set_len(&mut self, len: u32) {
		if len == 0 {
			BookLen::<T>::remove(&self.tag, self.side);
		} else {
			BookLen::<T>::insert(&self.tag, self.side, len);
		}
	}
	fn get(&self, slot: u32) -> Option<BookEntry> {
		Books::<T>::get((&self.tag, self.side, slot))
	}
	fn put(&mut self, slot: u32, entry: BookEntry) {
		Books::<T>::insert((&self.tag, self.side, slot), entry);
		BookSlot::<T>::insert(entry.order, slot);
	}
	fn clear(&mut self, slot: u32) {
		Books::<T>::remove((&self.tag, self.side, slot));
	}
}

/// What posting an order did, for the weight it is charged ([`Pallet::post_weight`]).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct PostWork {
	/// Orders of the book taken (filled) or closed as expired while matching.
	pub steps: u32,
	/// The longest book it worked on (the opposite side it matched against, its own side).
	pub book_len: u32,
}

impl<T: Config> Pallet<T> {
	/// Whether both periods are non-zero and at most [`Config::MaxDealPeriod`].
	pub fn periods_are_valid(periods: &DealPeriods<BlockNumberFor<T>>) -> bool {
		let max = T::MaxDealPeriod::get();
		!periods.delivery.is_zero() && !periods.confirm.is_zero() && periods.delivery <= max && periods.confirm <= max
	}

	/// The subject of a deal's dispute claim: the deal id, big-endian, in the last 8 bytes.
	pub fn deal_subject(deal: DealId) -> H256 {
		let mut subject = [0u8; 32];
		subject[24..].copy_from_slice(&deal.to_be_bytes());
		H256(subject)
	}

	pub(crate) fn hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&reason.into(), who, amount).map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Releases up to `amount` of `who`'s `reason` hold; returns what was released.
	pub(crate) fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		T::Currency::release(&reason.into(), who, amount, Precision::BestEffort).unwrap_or_else(|e| {
			log::error!(target: "runtime::data-market", "release of {amount:?} failed: {e:?}");
			Zero::zero()
		})
	}

	/// Moves `amount` of `from`'s `reason` hold to `to`'s free balance.
	fn pay_held(reason: HoldReason, from: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::transfer_on_hold(&reason.into(), from, to, amount, Precision::Exact, Restriction::Free, Fortitude::Force).map(|_| ())
	}

	/// Takes `amount` of `who`'s `reason` hold to the slash destination (or burns it).
	fn slash_held(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		match T::SlashDestination::get() {
			Some(dest) => Self::pay_held(reason, who, &dest, amount),
			None => T::Currency::burn_held(&reason.into(), who, amount, Precision::Exact, Fortitude::Force).map(|_| ()),
		}
	}

	fn units(quantity: u32) -> BalanceOf<T> {
		BalanceOf::<T>::from(quantity)
	}

	/// What an order holds for its unfilled quantity.
	pub(crate) fn order_held(order: &OrderOf<T>) -> BalanceOf<T> {
		let per_unit = match order.side {
			Side::Offer => order.bond_per_unit,
			Side::Bid => order.price,
		};
		per_unit.saturating_mul(Self::units(order.remaining))
	}

	fn points(amount: BalanceOf<T>) -> u64 {
		let per_point = T::PaymentPerPoint::get();
		if per_point.is_zero() {
			return 0;
		}
		(amount / per_point).unique_saturated_into()
	}

	/// Schedules `timeout` at `at` or, if that block is full, at one of the next
	/// [`agenda::MAX_SLIDE`] blocks; returns the block.
	fn schedule(at: BlockNumberFor<T>, timeout: Timeout) -> Result<BlockNumberFor<T>, DispatchError> {
		agenda::schedule::<Timeouts<T>, _, _, _>(at, timeout).ok_or_else(|| Error::<T>::TooManyTimeouts.into())
	}

	fn unschedule(at: BlockNumberFor<T>, timeout: Timeout) {
		agenda::unschedule::<Timeouts<T>, _, _, _>(at, &timeout);
	}

	/// Posts an order: checks, holds, matches against the book (book orders), rests the
	/// remainder. Transactional: an error leaves nothing behind.
	#[allow(clippy::too_many_arguments)]
	pub fn do_post(
		owner: T::AccountId,
		side: Side,
		tag: TagOf<T>,
		goods: Option<Goods>,
		price: BalanceOf<T>,
		quantity: u32,
		expires: BlockNumberFor<T>,
		router: Option<T::AccountId>,
	) -> Result<OrderId, DispatchError> {
		Self::do_post_metered(owner, side, tag, goods, price, quantity, expires, router).map(|(id, _)| id)
	}

	/// [`Self::do_post`], also returning the work it did, for the weight it is charged.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_post_metered(
		owner: T::AccountId,
		side: Side,
		tag: TagOf<T>,
		goods: Option<Goods>,
		price: BalanceOf<T>,
		quantity: u32,
		expires: BlockNumberFor<T>,
		router: Option<T::AccountId>,
	) -> Result<(OrderId, PostWork), DispatchError> {
		with_storage_layer(|| {
			let mut work = PostWork::default();
			ensure!(EncryptionKeys::<T>::contains_key(&owner), Error::<T>::NoEncryptionKey);
			ensure!(quantity > 0, Error::<T>::ZeroQuantity);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(expires > now, Error::<T>::ExpiryInPast);
			ensure!(expires <= now.saturating_add(T::MaxOrderLifetime::get()), Error::<T>::ExpiryTooFar);
			if let Some(r) = &router {
				ensure!(T::Routers::router_fee(r).is_some(), Error::<T>::NotRouter);
			}
			let total = price.checked_mul(&Self::units(quantity)).ok_or(Error::<T>::AmountOverflow)?;
			let (bond_per_unit, held, reason) = match side {
				Side::Offer => {
					let bond = (T::SellerBond::get() * price).max(T::MinSellerBond::get());
					(bond, bond.checked_mul(&Self::units(quantity)).ok_or(Error::<T>::AmountOverflow)?, HoldReason::SellerBond)
				},
				Side::Bid => (Zero::zero(), total, HoldReason::Payment),
			};
			Self::hold(reason, &owner, held)?;
			let id = NextOrderId::<T>::mutate(|n| {
				let id = *n;
				*n = n.saturating_add(1);
				id
			});
			let mut order = Order { owner, side, tag, goods, price, remaining: quantity, filled: 0, bond_per_unit, expires, router };
			Self::deposit_event(Event::OrderPosted {
				order: id,
				owner: order.owner.clone(),
				side,
				tag: order.tag.clone(),
				price,
				quantity,
				expires,
				router: order.router.clone(),
				held,
			});
			if order.router.is_none() {
				work.book_len = StoredBook::<T>::new(order.tag.clone(), side.opposite()).len();
				work.steps = Self::match_against_book(id, &mut order)?;
			}
			if order.remaining == 0 {
				Self::deposit_event(Event::OrderClosed { order: id, reason: CloseReason::Filled, released: Zero::zero() });
				return Ok((id, work));
			}
			if order.router.is_none() {
				let mut book = StoredBook::<T>::new(order.tag.clone(), side);
				ensure!(book.len() < T::MaxBookSize::get(), Error::<T>::BookFull);
				work.book_len = work.book_len.max(book.len().saturating_add(1));
				book::push(&mut book, BookEntry { rank: book::rank(side, price.unique_saturated_into()), order: id });
			}
			order.expires = Self::schedule(expires, Timeout::Order(id))?;
			Orders::<T>::insert(id, order);
			Ok((id, work))
		})
	}

	/// Crosses `order` (not yet stored) with the best orders of the opposite book, at most
	/// [`Config::MaxFillsPerOrder`] fills.
	fn match_against_book(id: OrderId, order: &mut OrderOf<T>) -> Result<u32, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut book = StoredBook::<T>::new(order.tag.clone(), order.side.opposite());
		let mut steps = 0;
		for _ in 0..T::MaxFillsPerOrder::get() {
			if order.remaining == 0 {
				break;
			}
			let Some(top) = book::peek(&book) else { break };
			let Some(mut resting) = Orders::<T>::get(top.order) else {
				// A book entry without its order: drop it (never expected).
				log::error!(target: "runtime::data-market", "book entry for missing order {}", top.order);
				Self::unbook(&mut book, top.order);
				steps += 1;
				continue;
			};
			if resting.expires <= now {
				Self::close_order(top.order, resting, CloseReason::Expired);
				steps += 1;
				continue;
			}
			// A bid whose owner removed its key could not take a delivery: it leaves the book
			// instead of failing every offer that crosses it.
			if resting.side == Side::Bid && !EncryptionKeys::<T>::contains_key(&resting.owner) {
				Self::close_order(top.order, resting, CloseReason::NoBuyerKey);
				steps += 1;
				continue;
			}
			let crosses = match order.side {
				Side::Bid => resting.price <= order.price,
				Side::Offer => resting.price >= order.price,
			};
			if !crosses {
				break;
			}
			ensure!(resting.owner != order.owner, Error::<T>::WouldMatchOwnOrder);
			let quantity = order.remaining.min(resting.remaining);
			let price = resting.price;
			match order.side {
				Side::Offer => Self::open_deal(id, order, top.order, &mut resting, quantity, price, None)?,
				Side::Bid => Self::open_deal(top.order, &mut resting, id, order, quantity, price, None)?,
			};
			if resting.remaining == 0 {
				Self::close_order(top.order, resting, CloseReason::Filled);
			} else {
				Orders::<T>::insert(top.order, resting);
			}
			steps += 1;
		}
		Ok(steps)
	}

	/// How many orders rest in the book of `tag` and `side`.
	pub(crate) fn book_len(tag: &TagOf<T>, side: Side) -> u32 {
		StoredBook::<T>::new(tag.clone(), side).len()
	}

	/// The most resting an order may cost in a book of `len` orders with it: it climbs at most
	/// the depth of the last slot; and its expiry may find its block's timeouts full and go to
	/// the next block's (one more read and write, which the benchmark's deepest point, a book of
	/// 1,023 orders expiring together, shows and its fit over the depth does not).
	pub fn resting_weight(len: u32) -> Weight {
		T::WeightInfo::post_order_resting(book::depth(len.clamp(1, T::MaxBookSize::get()).saturating_sub(1)))
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// The most cancelling an order of a book of `len` orders may cost: the book's last entry
	/// sinks at most its depth. (The benchmark's line over the depth runs one read and one
	/// write under its measured points past the top: added.)
	pub fn cancel_weight(len: u32) -> Weight {
		T::WeightInfo::cancel_order(book::depth(len.clamp(1, T::MaxBookSize::get()).saturating_sub(1)))
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// What a post may cost at most (declared before dispatch).
	pub fn post_bound() -> Weight {
		let max_book = T::MaxBookSize::get();
		Self::matching_weight(max_book).max(Self::resting_weight(max_book))
	}

	/// The most a full match (`MaxFillsPerOrder` fills, each the best order taken off the top
	/// and the last entry sinking) may cost in a book of `len` orders: by the depth of its
	/// last slot, as resting is (a book of fewer orders than the fills counts as one that has
	/// them).
	pub fn matching_weight(len: u32) -> Weight {
		let max_book = T::MaxBookSize::get();
		let len = len.max(T::MaxFillsPerOrder::get()).clamp(1, max_book);
		T::WeightInfo::post_order_matching(book::depth(len.saturating_sub(1)))
	}

	/// The weight of a post that did `work`: the measured cost of resting in a book of that
	/// length (by the depth it climbs; plus the read of a best order that did not cross), plus
	/// the measured extra of a full match (`MaxFillsPerOrder` fills) pro rata to the fills and
	/// expiry closures it made (each costs about one fill: an order read, a removal from the
	/// heap, a timeout unscheduled). Never above what the call declared.
	pub(crate) fn post_weight(work: PostWork) -> Weight {
		let max_book = T::MaxBookSize::get();
		let max_fills = T::MaxFillsPerOrder::get().max(1);
		let b = work.book_len.clamp(1, max_book);
		let resting = Self::resting_weight(work.book_len).saturating_add(T::DbWeight::get().reads(1));
		let declared = Self::post_bound();
		if work.steps == 0 {
			return resting.min(declared);
		}
		let extra = Self::matching_weight(b).saturating_sub(resting);
		let steps = u64::from(work.steps.min(max_fills));
		let share = |full: u64| full.saturating_mul(steps).div_ceil(u64::from(max_fills));
		let matched = Weight::from_parts(share(extra.ref_time()), share(extra.proof_size()));
		resting.saturating_add(matched).min(declared)
	}

	/// Removes a booked order from its book.
	fn unbook(book: &mut StoredBook<T>, order: OrderId) {
		if let Some(slot) = BookSlot::<T>::take(order) {
			book::remove(book, slot);
		}
	}

	/// Removes a stored order (from its book and timeouts) and releases what it holds.
	pub(crate) fn close_order(id: OrderId, order: OrderOf<T>, reason: CloseReason) {
		if order.router.is_none() {
			Self::unbook(&mut StoredBook::<T>::new(order.tag.clone(), order.side), id);
		}
		Self::unschedule(order.expires, Timeout::Order(id));
		let hold = match order.side {
			Side::Offer => HoldReason::SellerBond,
			Side::Bid => HoldReason::Payment,
		};
		let released = Self::release(hold, &order.owner, Self::order_held(&order));
		Orders::<T>::remove(id);
		Self::deposit_event(Event::OrderClosed { order: id, reason, released });
	}

	/// Matches `quantity` units of an offer with a bid at `price` (≤ the bid's price): moves the
	/// bond and payment from the orders to a new deal, releases the bid's excess.
	#[allow(clippy::too_many_arguments)]
	fn open_deal(
		offer_id: OrderId,
		offer: &mut OrderOf<T>,
		bid_id: OrderId,
		bid: &mut OrderOf<T>,
		quantity: u32,
		price: BalanceOf<T>,
		router: Option<(T::AccountId, Perbill)>,
	) -> Result<DealId, DispatchError> {
		let units = Self::units(quantity);
		let payment = price.checked_mul(&units).ok_or(Error::<T>::AmountOverflow)?;
		let reserved = bid.price.checked_mul(&units).ok_or(Error::<T>::AmountOverflow)?;
		let bond = offer.bond_per_unit.checked_mul(&units).ok_or(Error::<T>::AmountOverflow)?;
		let goods = offer.goods.ok_or(Error::<T>::WrongSide)?;
		let buyer_key = EncryptionKeys::<T>::get(&bid.owner).ok_or(Error::<T>::NoEncryptionKey)?;
		let released = Self::release(HoldReason::Payment, &bid.owner, reserved.saturating_sub(payment));
		offer.remaining = offer.remaining.saturating_sub(quantity);
		offer.filled = offer.filled.saturating_add(quantity);
		bid.remaining = bid.remaining.saturating_sub(quantity);
		bid.filled = bid.filled.saturating_add(quantity);
		let id = NextDealId::<T>::mutate(|n| {
			let id = *n;
			*n = n.saturating_add(1);
			id
		});
		let now = frame_system::Pallet::<T>::block_number();
		let deliver_by = Self::schedule(now.saturating_add(Periods::<T>::get().delivery), Timeout::Deal(id))?;
		let deal = Deal {
			offer: offer_id,
			bid: bid_id,
			seller: offer.owner.clone(),
			buyer: bid.owner.clone(),
			buyer_key,
			tag: offer.tag.clone(),
			goods,
			quantity,
			price,
			payment,
			bond,
			router: router.clone(),
			state: DealState::Matched,
			deadline: Some(deliver_by),
		};
		AccountDeals::<T>::insert(&deal.seller, id, ());
		AccountDeals::<T>::insert(&deal.buyer, id, ());
		Self::deposit_event(Event::DealMatched {
			deal: id,
			offer: offer_id,
			bid: bid_id,
			seller: deal.seller.clone(),
			buyer: deal.buyer.clone(),
			quantity,
			price,
			payment,
			bond,
			router: router.map(|(r, _)| r),
			released,
			deliver_by,
		});
		Deals::<T>::insert(id, deal);
		Ok(id)
	}

	/// The router `who` matches `quantity` units of `offer_id` and `bid_id`. Transactional.
	pub fn do_route(who: T::AccountId, offer_id: OrderId, bid_id: OrderId, quantity: u32) -> Result<DealId, DispatchError> {
		with_storage_layer(|| Self::route_orders(who, offer_id, bid_id, quantity))
	}

	fn route_orders(who: T::AccountId, offer_id: OrderId, bid_id: OrderId, quantity: u32) -> Result<DealId, DispatchError> {
		let fee = T::Routers::router_fee(&who).ok_or(Error::<T>::NotRouter)?;
		let mut offer = Orders::<T>::get(offer_id).ok_or(Error::<T>::UnknownOrder)?;
		let mut bid = Orders::<T>::get(bid_id).ok_or(Error::<T>::UnknownOrder)?;
		ensure!(offer.side == Side::Offer && bid.side == Side::Bid, Error::<T>::WrongSide);
		let routable = |o: &OrderOf<T>| o.router.as_ref().is_none_or(|r| *r == who);
		ensure!(routable(&offer) && routable(&bid) && (offer.router.is_some() || bid.router.is_some()), Error::<T>::NotRouterOfOrder);
		ensure!(offer.tag == bid.tag, Error::<T>::TagMismatch);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(offer.expires > now && bid.expires > now, Error::<T>::OrderExpired);
		ensure!(offer.owner != bid.owner, Error::<T>::WouldMatchOwnOrder);
		ensure!(bid.price >= offer.price, Error::<T>::PricesDoNotCross);
		ensure!(quantity > 0, Error::<T>::ZeroQuantity);
		ensure!(quantity <= offer.remaining.min(bid.remaining), Error::<T>::QuantityTooLarge);
		let price = offer.price;
		let deal = Self::open_deal(offer_id, &mut offer, bid_id, &mut bid, quantity, price, Some((who, fee)))?;
		for (id, order) in [(offer_id, offer), (bid_id, bid)] {
			if order.remaining == 0 {
				Self::close_order(id, order, CloseReason::Filled);
			} else {
				Orders::<T>::insert(id, order);
			}
		}
		Ok(deal)
	}

	/// Records a delivery. Transactional.
	pub(crate) fn do_deliver(who: T::AccountId, id: DealId, ciphertext: H256, key_commitment: H256) -> DispatchResult {
		with_storage_layer(|| Self::record_delivery(who, id, ciphertext, key_commitment))
	}

	fn record_delivery(who: T::AccountId, id: DealId, ciphertext: H256, key_commitment: H256) -> DispatchResult {
		let mut deal = Deals::<T>::get(id).ok_or(Error::<T>::UnknownDeal)?;
		ensure!(deal.seller == who, Error::<T>::NotSeller);
		ensure!(deal.state == DealState::Matched, Error::<T>::WrongDealState);
		ensure!(key_commitment != H256::zero(), Error::<T>::InvalidKeyCommitment);
		if let Some(at) = deal.deadline {
			Self::unschedule(at, Timeout::Deal(id));
		}
		let now = frame_system::Pallet::<T>::block_number();
		let confirm_by = Self::schedule(now.saturating_add(Periods::<T>::get().confirm), Timeout::Deal(id))?;
		deal.state = DealState::Delivered { ciphertext, key_commitment };
		deal.deadline = Some(confirm_by);
		Deals::<T>::insert(id, deal);
		Self::deposit_event(Event::Delivered { deal: id, ciphertext, key_commitment, confirm_by });
		Ok(())
	}

	/// Disputes a delivered deal. Transactional.
	pub(crate) fn do_dispute(who: T::AccountId, id: DealId, evidence: H256, key: Option<DealKey>) -> DispatchResult {
		with_storage_layer(|| Self::open_dispute(who, id, evidence, key))
	}

	fn open_dispute(who: T::AccountId, id: DealId, evidence: H256, key: Option<DealKey>) -> DispatchResult {
		let mut deal = Deals::<T>::get(id).ok_or(Error::<T>::UnknownDeal)?;
		ensure!(deal.buyer == who, Error::<T>::NotBuyer);
		let DealState::Delivered { ciphertext, key_commitment } = deal.state else { return Err(Error::<T>::WrongDealState.into()) };
		// Deliveries before storage version 2 have no key commitment: their vote opens at once.
		let legacy = key_commitment == H256::zero();
		if let Some(key) = &key {
			ensure!(!legacy && deal_key_commitment(id, key) == key_commitment, Error::<T>::WrongDealKey);
		}
		let deposit = T::DisputeDeposit::get();
		Self::hold(HoldReason::DisputeDeposit, &who, deposit)?;
		if let Some(at) = deal.deadline.take() {
			Self::unschedule(at, Timeout::Deal(id));
		}
		let key = key.map(|key| RevealedKey { key, by_buyer: true });
		deal.state = DealState::Disputed { ciphertext, key_commitment, evidence, deposit, key, claim: None };
		let (claim, reveal_by) = if legacy || key.is_some() {
			// A vote that cannot open fails the dispute: the buyer tries again.
			(Some(Self::open_dispute_claim(id, &mut deal)?), None)
		} else {
			// The seller always knows the key; the buyer may reveal it later too.
			let now = frame_system::Pallet::<T>::block_number();
			let at = Self::schedule(now.saturating_add(Periods::<T>::get().confirm), Timeout::Deal(id))?;
			deal.deadline = Some(at);
			(None, Some(at))
		};
		Deals::<T>::insert(id, deal);
		Self::deposit_event(Event::Disputed { deal: id, evidence, deposit, claim, reveal_by });
		if let Some(key) = key {
			Self::deposit_event(Event::DealKeyRevealed { deal: id, by: who, key: key.key });
		}
		if let Some(claim) = claim {
			Self::deposit_event(Event::DisputeClaimOpened { deal: id, claim });
		}
		Ok(())
	}

	/// Reveals the key of a disputed deal and opens its vote. Transactional.
	pub(crate) fn do_reveal_key(who: T::AccountId, id: DealId, key: DealKey) -> DispatchResult {
		with_storage_layer(|| {
			let mut deal = Deals::<T>::get(id).ok_or(Error::<T>::UnknownDeal)?;
			let by_buyer = deal.buyer == who;
			ensure!(by_buyer || deal.seller == who, Error::<T>::NotParty);
			let DealState::Disputed { key_commitment, key: revealed, claim, .. } = &mut deal.state else {
				return Err(Error::<T>::WrongDealState.into());
			};
			ensure!(revealed.is_none() && claim.is_none(), Error::<T>::KeyAlreadyRevealed);
			ensure!(deal_key_commitment(id, &key) == *key_commitment, Error::<T>::WrongDealKey);
			*revealed = Some(RevealedKey { key, by_buyer });
			if let Some(at) = deal.deadline.take() {
				Self::unschedule(at, Timeout::Deal(id));
			}
			Self::deposit_event(Event::DealKeyRevealed { deal: id, by: who, key });
			// The key is on chain whatever happens to the vote: if it cannot open now, it is
			// tried again later and the revealer is not made to lose by a full claim registry.
			Self::open_or_defer(id, deal)
		})
	}

	/// Opens the vote of a disputed deal whose key is known, or schedules another try.
	fn open_or_defer(id: DealId, mut deal: DealOf<T>) -> DispatchResult {
		match with_storage_layer(|| Self::open_dispute_claim(id, &mut deal)) {
			Ok(claim) => {
				Deals::<T>::insert(id, deal);
				Self::deposit_event(Event::DisputeClaimOpened { deal: id, claim });
			},
			Err(error) => {
				let now = frame_system::Pallet::<T>::block_number();
				let retry_at = Self::schedule(now.saturating_add(Periods::<T>::get().confirm), Timeout::Deal(id))?;
				deal.deadline = Some(retry_at);
				Deals::<T>::insert(id, deal);
				Self::deposit_event(Event::DisputeClaimDeferred { deal: id, error, retry_at });
			},
		}
		Ok(())
	}

	/// Opens the `DataDispute` claim of a disputed deal and records it in the deal (not
	/// stored: the caller stores the deal).
	fn open_dispute_claim(id: DealId, deal: &mut DealOf<T>) -> Result<ClaimId, DispatchError> {
		let DealState::Disputed { ciphertext, evidence, key, claim: slot, .. } = &mut deal.state else {
			return Err(Error::<T>::WrongDealState.into());
		};
		// The claim names the ciphertext, the evidence and the key the voters judge with.
		let commitment = BlakeTwo256::hash_of(&(deal.goods.commitment.content_hash, *ciphertext, *evidence, key.map(|k| k.key)));
		let claim = T::Claims::open_claim(ClaimRequest {
			class: ClaimClass::DataDispute,
			claimant: deal.seller.clone(),
			subject: Self::deal_subject(id),
			commitment,
			claimed_score: None,
			sealed_score: None,
			must_beat: None,
			thresholds: None,
			// The buyer wins the dispute if the seller's claim is rejected.
			conflicted: alloc::vec![deal.buyer.clone()],
			rivals: alloc::vec::Vec::new(),
		})?;
		*slot = Some(claim);
		Disputes::<T>::insert(claim, id);
		Ok(claim)
	}

	/// Pays the deal out to the seller (minus router and protocol fees), returns the bond,
	/// records points, removes the deal. Transactional.
	pub(crate) fn settle(id: DealId, deal: DealOf<T>) -> DispatchResult {
		with_storage_layer(|| {
			let payment = deal.payment;
			let protocol_fee = T::ProtocolFee::get() * payment;
			let router_fee = deal.router.as_ref().map(|(_, fee)| *fee * payment).unwrap_or_default();
			let to_seller = payment.saturating_sub(protocol_fee).saturating_sub(router_fee);
			Self::pay_held(HoldReason::Payment, &deal.buyer, &deal.seller, to_seller)?;
			if let Some((router, _)) = &deal.router {
				Self::pay_held(HoldReason::Payment, &deal.buyer, router, router_fee)?;
				T::Contributions::note(router, ContributionCategory::Routing, Self::points(payment));
			}
			if !protocol_fee.is_zero() {
				T::Currency::release(&HoldReason::Payment.into(), &deal.buyer, protocol_fee, Precision::Exact)?;
				T::Fees::pay_fee(&deal.buyer, protocol_fee)?;
			}
			Self::release(HoldReason::SellerBond, &deal.seller, deal.bond);
			// No reputation: a confirmation is the buyer's word, and buyer and seller may be one
			// operator (a wash trade would mint reputation for fees). Reputation comes from work
			// that independent voters verified (weighted voting), not from trading.
			T::Contributions::note(&deal.seller, ContributionCategory::DataSale, Self::points(payment));
			Self::remove_deal(id, &deal);
			Self::deposit_event(Event::DealSettled { deal: id, seller: deal.seller.clone(), to_seller, router_fee, protocol_fee });
			Ok(())
		})
	}

	/// Refunds the buyer, penalises the seller, removes the deal. The seller's bond is slashed
	/// when it did not deliver, and paid to the buyer when it lost a dispute (the loser's bond
	/// pays the winner). Transactional.
	pub(crate) fn refund(id: DealId, deal: DealOf<T>, reason: RefundReason) -> DispatchResult {
		with_storage_layer(|| {
			let refunded = Self::release(HoldReason::Payment, &deal.buyer, deal.payment);
			let (mut bond_slashed, mut bond_to_buyer) = (Zero::zero(), Zero::zero());
			match reason {
				RefundReason::NotDelivered => {
					Self::slash_held(HoldReason::SellerBond, &deal.seller, deal.bond)?;
					bond_slashed = deal.bond;
				},
				RefundReason::DisputeLost | RefundReason::KeyNotRevealed => {
					Self::pay_held(HoldReason::SellerBond, &deal.seller, &deal.buyer, deal.bond)?;
					bond_to_buyer = deal.bond;
				},
			}
			T::Reputations::penalize(&deal.seller, T::DealFailurePenalty::get(), ReputationReason::DealFailed);
			Self::remove_deal(id, &deal);
			Self::deposit_event(Event::DealRefunded { deal: id, buyer: deal.buyer.clone(), refunded, bond_slashed, bond_to_buyer, reason });
			Ok(())
		})
	}

	fn remove_deal(id: DealId, deal: &DealOf<T>) {
		if let Some(at) = deal.deadline {
			Self::unschedule(at, Timeout::Deal(id));
		}
		AccountDeals::<T>::remove(&deal.seller, id);
		AccountDeals::<T>::remove(&deal.buyer, id);
		Deals::<T>::remove(id);
	}

	/// A settlement or refund in a hook failed: keep the deal and try again one confirmation
	/// period later.
	fn retry_later(id: DealId, mut deal: DealOf<T>, error: DispatchError) {
		let now = frame_system::Pallet::<T>::block_number();
		let retry_at = match Self::schedule(now.saturating_add(Periods::<T>::get().confirm), Timeout::Deal(id)) {
			Ok(at) => at,
			Err(e) => {
				log::error!(target: "runtime::data-market", "deal {id}: cannot reschedule ({e:?}) after {error:?}");
				return;
			},
		};
		deal.deadline = Some(retry_at);
		Deals::<T>::insert(id, deal);
		Self::deposit_event(Event::SettlementFailed { deal: id, error, retry_at });
	}

	/// Expires the orders and ends the deal periods due at `now`.
	pub(crate) fn process_timeouts(now: BlockNumberFor<T>) -> Weight {
		let due = Timeouts::<T>::take(now);
		let n = due.len() as u32;
		for timeout in due {
			match timeout {
				Timeout::Order(id) => {
					if let Some(order) = Orders::<T>::get(id) {
						Self::close_order(id, order, CloseReason::Expired);
					}
				},
				Timeout::Deal(id) => {
					let Some(mut deal) = Deals::<T>::get(id) else { continue };
					// The bucket was taken: the deal no longer has a scheduled deadline.
					deal.deadline = None;
					let result = match deal.state {
						DealState::Matched => Self::refund(id, deal.clone(), RefundReason::NotDelivered),
						DealState::Delivered { .. } => Self::settle(id, deal.clone()),
						// A decided dispute whose funds could not move, a key not revealed in
						// time, or a vote that could not open yet.
						DealState::Disputed { key, claim, deposit, .. } => match PendingDecisions::<T>::take(id) {
							Some((claim, outcome)) => Self::apply_decision(id, claim, deal.clone(), outcome).inspect_err(|_| {
								PendingDecisions::<T>::insert(id, (claim, outcome));
							}),
							None => match (key, claim) {
								(None, None) => with_storage_layer(|| {
									Self::release(HoldReason::DisputeDeposit, &deal.buyer, deposit);
									Self::refund(id, deal.clone(), RefundReason::KeyNotRevealed)
								}),
								(Some(_), None) => Self::open_or_defer(id, deal.clone()),
								_ => Ok(()),
							},
						},
					};
					if let Err(e) = result {
						Self::retry_later(id, deal, e);
					}
				},
			}
		}
		T::WeightInfo::on_timeouts(n)
	}

	/// Applies the vote on a dispute; if moving the funds fails, the outcome is kept and
	/// applied again one confirmation period later.
	fn decide_dispute(claim: ClaimId, outcome: Outcome) {
		let Some(id) = Disputes::<T>::take(claim) else { return };
		let Some(deal) = Deals::<T>::get(id) else { return };
		if let Err(e) = Self::apply_decision(id, claim, deal.clone(), outcome) {
			PendingDecisions::<T>::insert(id, (claim, outcome));
			Self::retry_later(id, deal, e);
		}
	}

	/// Rejected: the buyer gets the payment and the deposit back, and the seller's bond.
	/// Accepted: the seller is paid, and gets the buyer's deposit if the buyer had revealed the
	/// key itself. No quorum: the seller is paid; a buyer that opened the vote itself (it
	/// revealed the key) forfeits its deposit to the slash destination — not to the seller, who
	/// may be the buyer's own second account — so a dispute nobody can decide is not a free way
	/// to hold a claim slot; a buyer that could not open the payload gets it back. Transactional.
	fn apply_decision(id: DealId, claim: ClaimId, deal: DealOf<T>, outcome: Outcome) -> DispatchResult {
		let DealState::Disputed { deposit, key, key_commitment, .. } = deal.state else { return Ok(()) };
		// Legacy deliveries (no key commitment) keep the old rule: the buyer stands by its claim.
		let buyer_could_open = key.is_none_or(|k| k.by_buyer) || key_commitment == H256::zero();
		with_storage_layer(|| {
			let mut deposit_to_seller = Zero::zero();
			let mut deposit_forfeited = Zero::zero();
			match outcome {
				Outcome::Rejected => {
					Self::release(HoldReason::DisputeDeposit, &deal.buyer, deposit);
					Self::refund(id, deal.clone(), RefundReason::DisputeLost)?;
				},
				// A buyer that could open the payload itself and disputed a good one loses its
				// deposit to the seller. One that could not (the seller had to reveal the key)
				// had reason to dispute: a seller sealing with a key other than the committed
				// one must not win the buyer's deposit; it gets its deposit back.
				Outcome::Accepted if buyer_could_open => {
					Self::pay_held(HoldReason::DisputeDeposit, &deal.buyer, &deal.seller, deposit)?;
					deposit_to_seller = deposit;
					T::Reputations::penalize(&deal.buyer, T::DealFailurePenalty::get(), ReputationReason::DealFailed);
					Self::settle(id, deal.clone())?;
				},
				Outcome::NoQuorum if buyer_could_open => {
					Self::slash_held(HoldReason::DisputeDeposit, &deal.buyer, deposit)?;
					deposit_forfeited = deposit;
					Self::settle(id, deal.clone())?;
				},
				Outcome::Accepted | Outcome::NoQuorum => {
					Self::release(HoldReason::DisputeDeposit, &deal.buyer, deposit);
					Self::settle(id, deal.clone())?;
				},
			}
			Self::deposit_event(Event::DisputeDecided { deal: id, claim, outcome, deposit_to_seller, deposit_forfeited });
			Ok(())
		})
	}
}

impl<T: Config> ClaimOutcome<T::AccountId> for Pallet<T> {
	fn on_claim_decided(id: ClaimId, class: ClaimClass, _: &T::AccountId, _: &H256, decision: &Decision) -> Weight {
		if class != ClaimClass::DataDispute {
			return Weight::zero();
		}
		Self::decide_dispute(id, decision.outcome);
		T::WeightInfo::dispute_decided()
	}

	fn weight_bound(class: ClaimClass) -> Weight {
		if class != ClaimClass::DataDispute {
			return Weight::zero();
		}
		T::WeightInfo::dispute_decided()
	}
}

/// Trained models from the builder market are offers of [`GoodsKind::TrainedModel`] in an
/// ordinary book: the same matching, escrow, delivery and disputes as data.
impl<T: Config> loopx_primitives::ModelMarket<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn list_model(
		seller: T::AccountId,
		tag: &[u8],
		listing: loopx_primitives::ModelListing<BalanceOf<T>, BlockNumberFor<T>>,
	) -> Result<OrderId, DispatchError> {
		let tag = TagOf::<T>::try_from(tag.to_vec()).map_err(|_| Error::<T>::TagTooLong)?;
		let goods = Goods {
			kind: GoodsKind::TrainedModel,
			commitment: Commitment { content_hash: listing.model_hash, size: listing.size, samples: 0, schema: listing.architecture },
		};
		Self::do_post(seller, Side::Offer, tag, Some(goods), listing.price, listing.quantity, listing.expires, None)
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// The pallet's invariants (checked by `try-runtime` and after every step of the property
	/// tests): every account holds, under each of this pallet's reasons, exactly what its
	/// orders, deals and disputes say (a bid's funds and a deal's payment under `Payment`,
	/// offers' and deals' bonds under `SellerBond`, dispute deposits under `DisputeDeposit`);
	/// each deal is indexed under both of its parties; each booked order exists.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		// Indices into `reasons`: a bid's funds and a deal's payment, bonds, dispute deposits.
		let reasons = [HoldReason::Payment, HoldReason::SellerBond, HoldReason::DisputeDeposit];
		let mut expected: BTreeMap<(T::AccountId, usize), BalanceOf<T>> = BTreeMap::new();
		let mut add = |who: &T::AccountId, reason: usize, amount: BalanceOf<T>| {
			let e = expected.entry((who.clone(), reason)).or_insert_with(Zero::zero);
			*e = e.saturating_add(amount);
		};
		for (_, o) in Orders::<T>::iter() {
			add(&o.owner, if o.side == Side::Bid { 0 } else { 1 }, Self::order_held(&o));
		}
		for (id, d) in Deals::<T>::iter() {
			ensure!(
				AccountDeals::<T>::contains_key(&d.seller, id) && AccountDeals::<T>::contains_key(&d.buyer, id),
				"a deal not indexed under its parties"
			);
			add(&d.buyer, 0, d.payment);
			add(&d.seller, 1, d.bond);
			if let DealState::Disputed { deposit, .. } = d.state {
				add(&d.buyer, 2, deposit);
			}
		}
		for ((who, reason), amount) in expected {
			ensure!(T::Currency::balance_on_hold(&reasons[reason].into(), &who) == amount, "a data-market hold differs from the orders and deals");
		}
		for (order, _) in BookSlot::<T>::iter() {
			ensure!(Orders::<T>::contains_key(order), "a booked order that does not exist");
		}
		for (who, _) in EncryptionKeys::<T>::iter() {
			// Keys registered before deposits were taken hold none.
			ensure!(T::Currency::balance_on_hold(&HoldReason::KeyDeposit.into(), &who) <= T::KeyDeposit::get(), "a key holds more than its deposit");
		}
		Ok(())
	}
}
