//! `DataMarketApi`: what workers and clients read about books and deals
//! (polkadot.js: `api.call.dataMarketApi.*`).

use crate::{book, BookLen, Books, Config, Deal, DealId, DealState, Deals, EncryptionKey, Goods, OrderId, Orders, Pallet, Side, TagOf};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use frame_system::pallet_prelude::BlockNumberFor;
use loopx_primitives::ClaimId;
use scale_info::TypeInfo;

/// An order as a book shows it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct OrderView<AccountId, Balance, BlockNumber> {
	/// Its id.
	pub id: OrderId,
	/// Who posted it.
	pub owner: AccountId,
	/// Price per unit.
	pub price: Balance,
	/// Units left.
	pub remaining: u32,
	/// Its expiry block.
	pub expires: BlockNumber,
	/// Offers: what is sold.
	pub goods: Option<Goods>,
}

/// What an account has to do next in a deal.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
pub enum NextStep {
	/// Seller: encrypt the payload to the buyer's key, send it, call `deliver`.
	Deliver,
	/// Buyer: wait for the seller's delivery.
	AwaitDelivery,
	/// Buyer: receive and check the payload, then `confirm` or `dispute`.
	ConfirmOrDispute,
	/// Seller: wait for the buyer's confirmation.
	AwaitConfirmation,
	/// Both: the dispute is with the voters.
	AwaitVerdict,
	/// Seller of a dispute opened without the deal key: reveal it (`reveal_deal_key`) before
	/// the deadline, or lose the deal and the bond.
	RevealKey,
	/// Buyer of a dispute opened without the deal key: wait for the seller to reveal it.
	AwaitKey,
}

/// A deal of an account, with its role and next step.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct AccountDeal<AccountId, Balance, BlockNumber, Tag> {
	/// Its id.
	pub id: DealId,
	/// Whether the account is the seller (otherwise the buyer).
	pub is_seller: bool,
	/// What the account has to do.
	pub next: NextStep,
	/// The deal.
	pub deal: Deal<AccountId, Balance, BlockNumber, Tag>,
}

/// An account's deal with the runtime's types.
pub type AccountDealOf<T> = AccountDeal<<T as frame_system::Config>::AccountId, crate::BalanceOf<T>, BlockNumberFor<T>, TagOf<T>>;

sp_api::decl_runtime_apis! {
	/// Books and deals of the data market.
	pub trait DataMarketApi<AccountId, Balance, BlockNumber, Tag>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
		Tag: Codec,
	{
		/// The best `n` orders of a book, best first (an unknown or too long tag gives none).
		fn best_orders(tag: Vec<u8>, side: Side, n: u32) -> Vec<OrderView<AccountId, Balance, BlockNumber>>;
		/// The open deals `who` is seller or buyer of, with what it must do.
		fn deals_of(who: AccountId) -> Vec<AccountDeal<AccountId, Balance, BlockNumber, Tag>>;
		/// The registered encryption key of `who`.
		fn encryption_key(who: AccountId) -> Option<EncryptionKey>;
		/// The deal a `DataDispute` claim is about, with its id.
		fn disputed_deal(claim: ClaimId) -> Option<(DealId, Deal<AccountId, Balance, BlockNumber, Tag>)>;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`DataMarketApi::best_orders`]. Reads the whole book: for off-chain use only.
	pub fn best_orders(tag: Vec<u8>, side: Side, n: u32) -> Vec<OrderView<T::AccountId, crate::BalanceOf<T>, BlockNumberFor<T>>> {
		let Ok(tag) = TagOf::<T>::try_from(tag) else { return Vec::new() };
		let len = BookLen::<T>::get(&tag, side);
		let mut entries: Vec<book::BookEntry> = (0..len).filter_map(|slot| Books::<T>::get((&tag, side, slot))).collect();
		entries.sort();
		entries
			.into_iter()
			.take(n as usize)
			.filter_map(|e| {
				Orders::<T>::get(e.order).map(|o| OrderView {
					id: e.order,
					owner: o.owner,
					price: o.price,
					remaining: o.remaining,
					expires: o.expires,
					goods: o.goods,
				})
			})
			.collect()
	}

	/// See [`DataMarketApi::disputed_deal`].
	pub fn disputed_deal(claim: ClaimId) -> Option<(DealId, crate::DealOf<T>)> {
		let id = crate::Disputes::<T>::get(claim)?;
		Deals::<T>::get(id).map(|deal| (id, deal))
	}

	/// See [`DataMarketApi::deals_of`].
	pub fn deals_of(who: T::AccountId) -> Vec<AccountDealOf<T>> {
		crate::AccountDeals::<T>::iter_key_prefix(&who)
			.filter_map(|id| Deals::<T>::get(id).map(|deal| (id, deal)))
			.map(|(id, deal)| {
				let is_seller = deal.seller == who;
				let next = match (&deal.state, is_seller) {
					(DealState::Matched, true) => NextStep::Deliver,
					(DealState::Matched, false) => NextStep::AwaitDelivery,
					(DealState::Delivered { .. }, true) => NextStep::AwaitConfirmation,
					(DealState::Delivered { .. }, false) => NextStep::ConfirmOrDispute,
					(DealState::Disputed { key: None, claim: None, .. }, true) => NextStep::RevealKey,
					(DealState::Disputed { key: None, claim: None, .. }, false) => NextStep::AwaitKey,
					(DealState::Disputed { .. }, _) => NextStep::AwaitVerdict,
				};
				AccountDeal { id, is_seller, next, deal }
			})
			.collect()
	}
}
