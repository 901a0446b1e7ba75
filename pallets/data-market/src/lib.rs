//! # Data market pallet
//!
//! The LoopX Data Market: users (data nodes) sell encrypted raw data and compressed local models
//! to validators, and holders of trained models sell them (the Builder Market lists its model
//! versions here: "buying a trained model is equivalent to trading model parameters in the Data
//! Market"). This pallet is the one order book, escrow and delivery engine of LoopX.
//!
//! ## The cycle
//!
//! 1. **Keys.** Every participant registers an X25519 public key ([`Pallet::register_key`]).
//!    Payloads never touch the chain: the seller encrypts them off-chain to the buyer's key (the
//!    key is copied into the deal when it is made). The chain holds commitments ([`Commitment`]):
//!    content hash, size, sample count, schema or model tag.
//! 2. **Orders.** [`Pallet::post_offer`] (kind, tag, commitment, price per unit, quantity,
//!    expiry) holds the seller's bond, [`Config::SellerBond`] of the price per unit;
//!    [`Pallet::post_bid`] (tag, maximum price, quantity, expiry) holds `price × quantity` of the
//!    buyer's funds. An order crosses the opposite book at the resting order's price, in
//!    price-time priority, with partial fills (at most [`Config::MaxFillsPerOrder`] fills per
//!    call); the remainder rests. Books are binary heaps in storage ([`book`]): best-price lookup
//!    is one read, insertion and removal O(log n), and each book holds at most
//!    [`Config::MaxBookSize`] orders. [`Pallet::cancel_order`] returns everything still held.
//!    Orders expire at their expiry block (a few blocks later when that block is busy).
//! 3. **Routers.** An order posted with a router does not enter the book: the named router
//!    (registered and bonded in the one router registry both markets share, [`Config::Routers`])
//!    matches it with [`Pallet::route`] against any crossing order of the same tag and earns
//!    its registered fee on settlement.
//! 4. **Deals** ([`DealState`]): a match creates a deal in `Matched`; the buyer's payment and
//!    the seller's bond stay held. The seller delivers the payload off-chain and
//!    [`Pallet::deliver`]s the ciphertext hash (`Delivered`) within [`Config::DeliveryPeriod`];
//!    the buyer then [`Pallet::confirm`]s or [`Pallet::dispute`]s within
//!    [`Config::ConfirmPeriod`]. A dispute holds [`Config::DisputeDeposit`] from the buyer and
//!    opens a `DataDispute` claim in weighted voting (claimant: the seller, "my delivery matches
//!    the commitment"), with the evidence committed, once the deal key is revealed (fair
//!    exchange: by the buyer with its dispute, or by the seller within a confirmation period,
//!    or the seller loses the deal and its bond to the buyer).
//! 5. **Settlement.** The payment goes to the seller, minus the router's fee and
//!    [`Config::ProtocolFee`] (to the reward pot through [`Config::Fees`]); the bond returns;
//!    the seller earns data-sale points and the router routing points (one point per
//!    [`Config::PaymentPerPoint`] of payment). Neither side gains reputation: a confirmation is
//!    the buyer's word, and buyer and seller may be one operator.
//!
//! Timeouts, checked in `on_initialize`: no delivery in time refunds the buyer and slashes the
//! bond (to [`Config::SlashDestination`], or burned), and the seller loses
//! [`Config::DealFailurePenalty`] reputation; no confirmation or dispute in time settles to the
//! seller. Dispute outcomes: **Rejected** (the delivery was bad) refunds the buyer, slashes the
//! bond, penalises the seller (the vote slashes the seller's stake too) and returns the deposit;
//! **Accepted** settles to the seller, gives it the buyer's deposit and penalises the buyer;
//! **NoQuorum** settles to the seller; the deposit of a buyer that opened the vote itself (it
//! revealed the deal key) is forfeited to [`Config::SlashDestination`] (a dispute nobody can
//! decide must not be a free way to hold a claim slot), otherwise it returns.
//!
//! Neither side can walk away with both goods and money: the buyer's money is held before the
//! seller delivers, and it leaves escrow only to the seller (confirmation, timeout, lost
//! dispute) or back to the buyer (no delivery, dispute won, with the seller's bond slashed).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod book;
mod engine;
pub mod migrations;
pub mod runtime_api;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, traits::fungible::Inspect};
use frame_system::pallet_prelude::*;
use loopx_primitives::{ClaimId, ClaimRegistry, ContributionSink, FeeSink, Reputation, ReputationHandler, RouterRegistry};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

pub use pallet::*;
pub use weights::WeightInfo;

/// Identifies an order.
pub type OrderId = u64;
/// Identifies a deal.
pub type DealId = u64;
/// An X25519 public key.
pub type EncryptionKey = [u8; 32];

/// The balance type of the currency.
pub type BalanceOf<T> = <<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A market tag: what is traded (a dataset schema, a model family), e.g. `wallet-tx-v1`.
pub type TagOf<T> = BoundedVec<u8, <T as Config>::MaxTagLen>;
/// An order of this runtime.
pub type OrderOf<T> = Order<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>, TagOf<T>>;
/// A deal of this runtime.
pub type DealOf<T> = Deal<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>, TagOf<T>>;

/// The side of an order.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Side {
	/// Sells.
	Offer,
	/// Buys.
	Bid,
}

impl Side {
	/// The side an order of this side matches against.
	pub fn opposite(self) -> Side {
		match self {
			Side::Offer => Side::Bid,
			Side::Bid => Side::Offer,
		}
	}
}

/// What an offer sells.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum GoodsKind {
	/// Encrypted raw samples (a data node's local data).
	RawData,
	/// Compressed parameters of a locally trained model.
	LocalModel,
	/// A model version accepted in the Builder Market.
	TrainedModel,
}

/// What the chain knows of a payload that travels off-chain.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Commitment {
	/// Hash of the plaintext payload.
	pub content_hash: H256,
	/// Size of the payload in bytes.
	pub size: u64,
	/// Number of samples (raw data) or of training samples behind a model.
	pub samples: u64,
	/// Hash of the schema (raw data) or the model tag (models).
	pub schema: H256,
}

/// The goods of an offer: kind and commitment.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Goods {
	/// What is sold.
	pub kind: GoodsKind,
	/// Commitment to the payload.
	pub commitment: Commitment,
}

/// An open order. Funds for its unfilled quantity are held: `price × remaining` of a bid,
/// `bond_per_unit × remaining` of an offer.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Order<AccountId, Balance, BlockNumber, Tag> {
	/// Who posted it.
	pub owner: AccountId,
	/// Offer or bid.
	pub side: Side,
	/// The market.
	pub tag: Tag,
	/// Offers: what is sold. Bids: `None`.
	pub goods: Option<Goods>,
	/// Price per unit (a bid's maximum).
	pub price: Balance,
	/// Units not yet matched.
	pub remaining: u32,
	/// Units matched so far.
	pub filled: u32,
	/// Offers: the bond held per unit. Bids: zero.
	pub bond_per_unit: Balance,
	/// The block at which it expires.
	pub expires: BlockNumber,
	/// The router that alone may match it; `None` for book orders.
	pub router: Option<AccountId>,
}

/// A deal's symmetric key: the ChaCha20-Poly1305 key its payload is sealed with (derived by
/// the seller from its one-time key and the buyer's registered key; the buyer derives the
/// same from its own secret).
pub type DealKey = [u8; 32];

/// The commitment to a deal's key the seller gives at delivery:
/// `blake2_256("loopx/deal-key" ‖ deal (u64 LE) ‖ key)`. In a dispute the key is revealed and
/// checked against it, so voters can open the very ciphertext the buyer received.
pub fn deal_key_commitment(deal: DealId, key: &DealKey) -> H256 {
	use sp_runtime::traits::{BlakeTwo256, Hash};
	BlakeTwo256::hash(&[&b"loopx/deal-key"[..], &deal.to_le_bytes(), key].concat())
}

/// A deal key revealed in a dispute, and by whom.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct RevealedKey {
	/// The key; it matches the delivery's key commitment.
	pub key: DealKey,
	/// The buyer revealed it (it could open the payload and still disputed); otherwise the
	/// seller did.
	pub by_buyer: bool,
}

/// Where a deal is in the fair-exchange protocol. Settled and refunded deals are removed (their
/// end is in the events).
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum DealState<Balance> {
	/// Matched; the seller must deliver.
	Matched,
	/// The seller delivered; the buyer must confirm or dispute.
	Delivered {
		/// Hash of the ciphertext the seller sent.
		ciphertext: H256,
		/// The seller's commitment to the deal key ([`deal_key_commitment`]); zero for deals
		/// delivered before storage version 2 (their disputes go to the vote at once).
		key_commitment: H256,
	},
	/// The buyer disputed. Until the deal key is revealed (by either party, within one
	/// confirmation period) there is no vote; then weighted voting decides.
	Disputed {
		/// Hash of the ciphertext the seller sent.
		ciphertext: H256,
		/// The seller's commitment to the deal key.
		key_commitment: H256,
		/// Hash of the buyer's evidence.
		evidence: H256,
		/// The buyer's dispute deposit, held.
		deposit: Balance,
		/// The deal key, once revealed.
		key: Option<RevealedKey>,
		/// The claim in weighted voting, once open.
		claim: Option<ClaimId>,
	},
}

/// A deal: a match between an offer and a bid for `quantity` units at `price`.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Deal<AccountId, Balance, BlockNumber, Tag> {
	/// The offer it came from.
	pub offer: OrderId,
	/// The bid it came from.
	pub bid: OrderId,
	/// Delivers; is paid.
	pub seller: AccountId,
	/// Pays; receives.
	pub buyer: AccountId,
	/// The buyer's key when the deal was made: the payload is encrypted to it.
	pub buyer_key: EncryptionKey,
	/// The market.
	pub tag: Tag,
	/// What is sold.
	pub goods: Goods,
	/// Units.
	pub quantity: u32,
	/// Price per unit.
	pub price: Balance,
	/// `price × quantity`, held from the buyer.
	pub payment: Balance,
	/// The seller's bond, held.
	pub bond: Balance,
	/// The router that made the match and its fee.
	pub router: Option<(AccountId, Perbill)>,
	/// Where the deal is.
	pub state: DealState<Balance>,
	/// When the current step times out (none while disputed: the vote has its own deadlines).
	pub deadline: Option<BlockNumber>,
}

/// Something that times out at a block.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Timeout {
	/// An order expires.
	Order(OrderId),
	/// A deal's delivery or confirmation period ends.
	Deal(DealId),
}

/// Why an order left the market.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum CloseReason {
	/// Fully matched.
	Filled,
	/// Cancelled by its owner.
	Cancelled,
	/// Its expiry block came.
	Expired,
	/// A bid whose owner removed its encryption key, met by an offer: nothing could be
	/// delivered to it, so it leaves the book rather than block the offers that cross it.
	NoBuyerKey,
}

/// Why a buyer was refunded.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum RefundReason {
	/// The seller did not deliver in time.
	NotDelivered,
	/// The vote rejected the seller's delivery; the seller's bond went to the buyer.
	DisputeLost,
	/// Disputed, and neither party revealed the deal key in time: the delivery cannot be
	/// judged, so the seller (who always knows the key) loses; its bond went to the buyer.
	KeyNotRevealed,
}

/// How long the parties of a deal have for each step, in blocks.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct DealPeriods<BlockNumber> {
	/// From the match to the seller's delivery.
	pub delivery: BlockNumber,
	/// From the delivery to the buyer's confirmation or dispute.
	pub confirm: BlockNumber,
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes a dispute claim as costly to open as it can be (the largest electorate).
	fn prepare_dispute();
}

#[cfg(feature = "runtime-benchmarks")]
impl<AccountId> BenchmarkHelper<AccountId> for () {
	fn prepare_dispute() {}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::traits::fungible::{Mutate, MutateHold};
	use sp_runtime::traits::Zero;

	/// v1: routers live in the one router registry ([`crate::migrations::v1`]). v2: deliveries
	/// commit to the deal key, disputes wait for it ([`crate::migrations::v2`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Funds this pallet holds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A bid's funds, then a deal's payment, in escrow.
		Payment,
		/// A seller's bond for its offers and deals.
		SellerBond,
		/// A router's bond, before the one router registry (`pallet-routers`) held them: no
		/// longer held here (migration [`crate::migrations::v1`] releases what was), kept so
		/// that the reasons after it keep their encoding.
		RouterBond,
		/// A buyer's deposit for a dispute.
		DisputeDeposit,
		/// The storage deposit of a registered encryption key.
		KeyDeposit,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency payments, bonds and deposits are held in.
		type Currency: Inspect<Self::AccountId> + Mutate<Self::AccountId> + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons.
		type RuntimeHoldReason: From<HoldReason>;

		/// Reputation changes for completed and failed deals.
		type Reputations: ReputationHandler<Self::AccountId>;

		/// Data-sale and routing points.
		type Contributions: ContributionSink<Self::AccountId>;

		/// Takes the protocol fee (to the reward pot and the treasury).
		type Fees: FeeSink<Self::AccountId, BalanceOf<Self>>;

		/// Opens dispute claims in weighted voting.
		type Claims: ClaimRegistry<Self::AccountId>;

		/// Receives slashed bonds; `None` burns them.
		type SlashDestination: Get<Option<Self::AccountId>>;

		/// Longest tag, in bytes.
		#[pallet::constant]
		type MaxTagLen: Get<u32>;

		/// Most orders resting in one book (one tag, one side).
		#[pallet::constant]
		type MaxBookSize: Get<u32>;

		/// Most fills one posted order makes; the remainder rests.
		#[pallet::constant]
		type MaxFillsPerOrder: Get<u32>;

		/// Most timeouts (order expiries, deal deadlines) due at one block.
		#[pallet::constant]
		type MaxTimeoutsPerBlock: Get<u32>;

		/// Longest an order may rest.
		#[pallet::constant]
		type MaxOrderLifetime: Get<BlockNumberFor<Self>>;

		/// Blocks the seller has to deliver after the match, unless genesis or
		/// [`Pallet::set_periods`] set [`Periods`].
		#[pallet::constant]
		type DeliveryPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks the buyer has to confirm or dispute after delivery, unless genesis or
		/// [`Pallet::set_periods`] set [`Periods`].
		#[pallet::constant]
		type ConfirmPeriod: Get<BlockNumberFor<Self>>;

		/// The longest period [`Pallet::set_periods`] accepts.
		#[pallet::constant]
		type MaxDealPeriod: Get<BlockNumberFor<Self>>;

		/// The seller's bond, as a share of the price of what it sells.
		#[pallet::constant]
		type SellerBond: Get<Perbill>;

		/// The least bond per unit, whatever the price: without it a free offer of `u32::MAX`
		/// units would hold nothing, absorb every bid of its book and deliver nothing, at no
		/// cost to its owner.
		#[pallet::constant]
		type MinSellerBond: Get<BalanceOf<Self>>;

		/// The protocol's share of each payment, paid to [`Config::Fees`].
		#[pallet::constant]
		type ProtocolFee: Get<Perbill>;

		/// The router registry (shared with the compute market): who may route, at what fee.
		/// Its largest fee with [`Config::ProtocolFee`] is at most 100 %.
		type Routers: RouterRegistry<Self::AccountId>;

		/// What a buyer holds to dispute a delivery.
		#[pallet::constant]
		type DisputeDeposit: Get<BalanceOf<Self>>;

		/// What an account holds for its registered encryption key (a storage deposit),
		/// returned by [`Pallet::remove_key`].
		#[pallet::constant]
		type KeyDeposit: Get<BalanceOf<Self>>;

		/// Reputation lost by a seller that does not deliver or loses a dispute, and by a buyer
		/// whose dispute the vote rejects.
		#[pallet::constant]
		type DealFailurePenalty: Get<Reputation>;

		/// Payment that earns one contribution point (data sale for the seller, routing for the
		/// router). Non-zero.
		#[pallet::constant]
		type PaymentPerPoint: Get<BalanceOf<Self>>;

		/// The origin of this pallet's privileged calls: governance on a public chain, root on
		/// the dev chain.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;

		/// Sets up what the benchmarks need from other pallets.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Registered encryption keys.
	#[pallet::storage]
	pub type EncryptionKeys<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, EncryptionKey>;

	/// The id of the next order.
	#[pallet::storage]
	pub type NextOrderId<T> = StorageValue<_, OrderId, ValueQuery>;

	/// Open orders.
	#[pallet::storage]
	pub type Orders<T: Config> = StorageMap<_, Twox64Concat, OrderId, OrderOf<T>>;

	/// The slots of the book heaps: (tag, side, slot) → entry; slot 0 is the best order.
	#[pallet::storage]
	pub type Books<T: Config> =
		StorageNMap<_, (NMapKey<Blake2_128Concat, TagOf<T>>, NMapKey<Twox64Concat, Side>, NMapKey<Twox64Concat, u32>), book::BookEntry>;

	/// Number of orders in each book.
	#[pallet::storage]
	pub type BookLen<T: Config> = StorageDoubleMap<_, Blake2_128Concat, TagOf<T>, Twox64Concat, Side, u32, ValueQuery>;

	/// The slot of each booked order.
	#[pallet::storage]
	pub type BookSlot<T> = StorageMap<_, Twox64Concat, OrderId, u32>;

	/// The id of the next deal.
	#[pallet::storage]
	pub type NextDealId<T> = StorageValue<_, DealId, ValueQuery>;

	/// Open deals.
	#[pallet::storage]
	pub type Deals<T: Config> = StorageMap<_, Twox64Concat, DealId, DealOf<T>>;

	/// Open deals by party (seller or buyer).
	#[pallet::storage]
	pub type AccountDeals<T: Config> = StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, DealId, ()>;

	/// What times out at each block.
	#[pallet::storage]
	pub type Timeouts<T: Config> = StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<Timeout, T::MaxTimeoutsPerBlock>, ValueQuery>;

	/// Deals under dispute, by claim.
	#[pallet::storage]
	pub type Disputes<T> = StorageMap<_, Twox64Concat, ClaimId, DealId>;

	/// The [`Config::DeliveryPeriod`] and [`Config::ConfirmPeriod`] defaults.
	#[pallet::type_value]
	pub fn DefaultPeriods<T: Config>() -> DealPeriods<BlockNumberFor<T>> {
		DealPeriods { delivery: T::DeliveryPeriod::get(), confirm: T::ConfirmPeriod::get() }
	}

	/// The deal periods in force; deals keep the deadlines they were given.
	#[pallet::storage]
	pub type Periods<T: Config> = StorageValue<_, DealPeriods<BlockNumberFor<T>>, ValueQuery, DefaultPeriods<T>>;

	/// Decided disputes whose funds could not move yet (retried at the deal's deadline).
	#[pallet::storage]
	pub type PendingDecisions<T> = StorageMap<_, Twox64Concat, DealId, (ClaimId, loopx_primitives::Outcome)>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Deal periods other than the runtime's defaults (short ones on development chains).
		pub periods: Option<DealPeriods<BlockNumberFor<T>>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(periods) = &self.periods {
				assert!(Pallet::<T>::periods_are_valid(periods), "invalid genesis deal periods");
				Periods::<T>::put(periods);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The deal periods changed; deals made from now on use them.
		PeriodsSet { periods: DealPeriods<BlockNumberFor<T>> },
		/// An account registered (or replaced) its encryption key.
		KeyRegistered { who: T::AccountId, key: EncryptionKey },
		/// An account removed its encryption key; its deposit, `released`, is free again.
		KeyRemoved { who: T::AccountId, released: BalanceOf<T> },
		/// An order was posted; `held` is what it holds (bond or funds).
		OrderPosted {
			order: OrderId,
			owner: T::AccountId,
			side: Side,
			tag: TagOf<T>,
			price: BalanceOf<T>,
			quantity: u32,
			expires: BlockNumberFor<T>,
			router: Option<T::AccountId>,
			held: BalanceOf<T>,
		},
		/// An order left the market; `released` is what it still held.
		OrderClosed { order: OrderId, reason: CloseReason, released: BalanceOf<T> },
		/// An offer and a bid matched. `released` is what the bid held above the deal's price.
		DealMatched {
			deal: DealId,
			offer: OrderId,
			bid: OrderId,
			seller: T::AccountId,
			buyer: T::AccountId,
			quantity: u32,
			price: BalanceOf<T>,
			payment: BalanceOf<T>,
			bond: BalanceOf<T>,
			router: Option<T::AccountId>,
			released: BalanceOf<T>,
			deliver_by: BlockNumberFor<T>,
		},
		/// The seller delivered, committing to the deal key.
		Delivered { deal: DealId, ciphertext: H256, key_commitment: H256, confirm_by: BlockNumberFor<T> },
		/// The buyer disputed the delivery. `claim` is the vote, open at once when the buyer
		/// revealed the deal key; otherwise the key must be revealed by `reveal_by`.
		Disputed { deal: DealId, evidence: H256, deposit: BalanceOf<T>, claim: Option<ClaimId>, reveal_by: Option<BlockNumberFor<T>> },
		/// The deal key of a disputed deal was revealed (and matched the seller's commitment):
		/// anyone can now open the ciphertext, and the voters judge it.
		DealKeyRevealed { deal: DealId, by: T::AccountId, key: DealKey },
		/// The vote on a disputed deal opened (or was queued by weighted voting).
		DisputeClaimOpened { deal: DealId, claim: ClaimId },
		/// Opening the vote on a disputed deal failed (e.g. weighted voting is full); retried at
		/// `retry_at`.
		DisputeClaimDeferred { deal: DealId, error: DispatchError, retry_at: BlockNumberFor<T> },
		/// The deal settled to the seller.
		DealSettled { deal: DealId, seller: T::AccountId, to_seller: BalanceOf<T>, router_fee: BalanceOf<T>, protocol_fee: BalanceOf<T> },
		/// The buyer was refunded; the seller's bond was slashed (`bond_slashed`, to the slash
		/// destination: the seller did not deliver) or paid to the buyer (`bond_to_buyer`: the
		/// seller lost a dispute).
		DealRefunded {
			deal: DealId,
			buyer: T::AccountId,
			refunded: BalanceOf<T>,
			bond_slashed: BalanceOf<T>,
			bond_to_buyer: BalanceOf<T>,
			reason: RefundReason,
		},
		/// A dispute was decided; `deposit_to_seller` is the buyer's deposit the seller received
		/// (only when the buyer could open the payload itself and the vote found it good);
		/// `deposit_forfeited` the deposit that went to the slash destination (the buyer opened
		/// the vote itself and nobody could decide it).
		DisputeDecided {
			deal: DealId,
			claim: ClaimId,
			outcome: loopx_primitives::Outcome,
			deposit_to_seller: BalanceOf<T>,
			deposit_forfeited: BalanceOf<T>,
		},
		/// Moving a deal's funds failed (e.g. a party's account cannot receive them); retried at
		/// `retry_at`.
		SettlementFailed { deal: DealId, error: DispatchError, retry_at: BlockNumberFor<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has no registered encryption key (both sides of a deal need one).
		NoEncryptionKey,
		/// The key is all zeros.
		InvalidKey,
		/// The tag is longer than `MaxTagLen`.
		TagTooLong,
		/// Trained models are offered only by the builder market (`listVersion`), in the books
		/// under `model/`.
		ReservedForModels,
		/// A quantity of zero.
		ZeroQuantity,
		/// The expiry block is not in the future.
		ExpiryInPast,
		/// The expiry is further than `MaxOrderLifetime` away.
		ExpiryTooFar,
		/// `price × quantity` (or the bond) does not fit in a balance.
		AmountOverflow,
		/// Not enough free balance for what must be held.
		InsufficientBalance,
		/// The book of this tag and side holds `MaxBookSize` orders.
		BookFull,
		/// Every block near the requested one already has `MaxTimeoutsPerBlock` timeouts.
		TooManyTimeouts,
		/// The order would match an order of the same account.
		WouldMatchOwnOrder,
		/// No open order with this id.
		UnknownOrder,
		/// Only the owner can cancel an order.
		NotOrderOwner,
		/// The account is not a registered router.
		NotRouter,
		/// The order is routed by another router, or neither order names the caller.
		NotRouterOfOrder,
		/// `route` needs an offer and a bid, in that order.
		WrongSide,
		/// The orders are for different tags.
		TagMismatch,
		/// The bid's price is below the offer's.
		PricesDoNotCross,
		/// The order has expired.
		OrderExpired,
		/// More units than the orders have left.
		QuantityTooLarge,
		/// No open deal with this id.
		UnknownDeal,
		/// Only the deal's seller can do this.
		NotSeller,
		/// Only the deal's buyer can do this.
		NotBuyer,
		/// The deal is not in the state this call needs.
		WrongDealState,
		/// A deal period is zero or longer than [`Config::MaxDealPeriod`].
		InvalidPeriod,
		/// The key commitment of a delivery is zero.
		InvalidKeyCommitment,
		/// The revealed key does not match the seller's key commitment.
		WrongDealKey,
		/// Only the deal's buyer or seller can do this.
		NotParty,
		/// The deal key of this dispute is already revealed.
		KeyAlreadyRevealed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_timeouts(now)
		}

		fn integrity_test() {
			assert!(
				T::ProtocolFee::get().deconstruct() as u64 + T::Routers::max_router_fee().deconstruct() as u64 <= Perbill::one().deconstruct() as u64,
				"protocol fee and the largest router fee exceed the payment"
			);
			assert!(!T::PaymentPerPoint::get().is_zero(), "PaymentPerPoint must be non-zero");
			assert!(T::MaxTimeoutsPerBlock::get() >= T::MaxFillsPerOrder::get(), "one order's deals must fit in a block's timeouts");
			assert!(Self::periods_are_valid(&DefaultPeriods::<T>::get()), "default deal periods out of bounds");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers (or replaces) the caller's X25519 public key. Sellers encrypt payloads to it;
		/// deals already made keep the key they were made with. A first registration holds
		/// [`Config::KeyDeposit`] (a replacement holds nothing more).
		///
		/// Fails with [`Error::InvalidKey`] (all zero) or [`Error::InsufficientBalance`] (the
		/// deposit). Emits [`Event::KeyRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_key())]
		pub fn register_key(origin: OriginFor<T>, key: EncryptionKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(key != [0u8; 32], Error::<T>::InvalidKey);
			if !EncryptionKeys::<T>::contains_key(&who) {
				Self::hold(HoldReason::KeyDeposit, &who, T::KeyDeposit::get())?;
			}
			EncryptionKeys::<T>::insert(&who, key);
			Self::deposit_event(Event::KeyRegistered { who, key });
			Ok(())
		}

		/// Removes the caller's encryption key and returns its deposit. Deals already made keep
		/// their key; the caller's resting bids leave the book when an offer meets them
		/// ([`CloseReason::NoBuyerKey`]), and it can post no order until it registers a key again.
		///
		/// Fails with [`Error::NoEncryptionKey`]. Emits [`Event::KeyRemoved`].
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::remove_key())]
		pub fn remove_key(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			EncryptionKeys::<T>::take(&who).ok_or(Error::<T>::NoEncryptionKey)?;
			// A key registered before deposits were taken holds none: release what is held.
			let released = Self::release(HoldReason::KeyDeposit, &who, T::KeyDeposit::get());
			Self::deposit_event(Event::KeyRemoved { who, released });
			Ok(())
		}

		/// Offers `quantity` units of `goods` in market `tag` at `price` per unit until block
		/// `expires`, holding the bond ([`Config::SellerBond`] of the price, at least
		/// [`Config::MinSellerBond`]) per unit. Without a
		/// `router` the offer crosses the bids of the book first (best price first, each fill at
		/// the bid's price) and the remainder rests; with one it waits for that router.
		///
		/// Emits [`Event::OrderPosted`], a [`Event::DealMatched`] per fill and
		/// [`Event::OrderClosed`] for each order filled completely.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::post_bound())]
		pub fn post_offer(
			origin: OriginFor<T>,
			tag: alloc::vec::Vec<u8>,
			goods: Goods,
			price: BalanceOf<T>,
			quantity: u32,
			expires: BlockNumberFor<T>,
			router: Option<T::AccountId>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let reserved = tag.starts_with(loopx_primitives::markets::MODEL_TAG_PREFIX) || goods.kind == GoodsKind::TrainedModel;
			ensure!(!reserved, Error::<T>::ReservedForModels);
			let tag = TagOf::<T>::try_from(tag).map_err(|_| Error::<T>::TagTooLong)?;
			let (_, work) = Self::do_post_metered(who, Side::Offer, tag, Some(goods), price, quantity, expires, router)?;
			Ok(Some(Self::post_weight(work)).into())
		}

		/// Bids for `quantity` units in market `tag` at up to `max_price` per unit until block
		/// `expires`, holding `max_price × quantity`. Without a `router` the bid crosses the
		/// offers of the book first (cheapest first, each fill at the offer's price, the
		/// difference released at once) and the remainder rests; with one it waits for that
		/// router.
		///
		/// Emits [`Event::OrderPosted`], a [`Event::DealMatched`] per fill and
		/// [`Event::OrderClosed`] for each order filled completely.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::post_bound())]
		pub fn post_bid(
			origin: OriginFor<T>,
			tag: alloc::vec::Vec<u8>,
			max_price: BalanceOf<T>,
			quantity: u32,
			expires: BlockNumberFor<T>,
			router: Option<T::AccountId>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let tag = TagOf::<T>::try_from(tag).map_err(|_| Error::<T>::TagTooLong)?;
			let (_, work) = Self::do_post_metered(who, Side::Bid, tag, None, max_price, quantity, expires, router)?;
			Ok(Some(Self::post_weight(work)).into())
		}

		/// Cancels the caller's open order and releases what it still holds. Deals it already
		/// made go on.
		///
		/// Emits [`Event::OrderClosed`].
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::cancel_weight(T::MaxBookSize::get()))]
		pub fn cancel_order(origin: OriginFor<T>, order: OrderId) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let o = Orders::<T>::get(order).ok_or(Error::<T>::UnknownOrder)?;
			ensure!(o.owner == who, Error::<T>::NotOrderOwner);
			let book_len = Self::book_len(&o.tag, o.side);
			Self::close_order(order, o, CloseReason::Cancelled);
			Ok(Some(Self::cancel_weight(book_len)).into())
		}

		/// As a router, matches `quantity` units of `offer` with `bid` at the offer's price. At
		/// least one of them must name the caller as router and neither may name another; both
		/// open, same tag, prices crossing, different owners.
		///
		/// Emits [`Event::DealMatched`] and [`Event::OrderClosed`] for an order filled completely.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::route())]
		pub fn route(origin: OriginFor<T>, offer: OrderId, bid: OrderId, quantity: u32) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_route(who, offer, bid, quantity).map(|_| ())
		}

		/// As the seller, records that the payload of `deal` was sent, sealed to the deal's
		/// buyer key, with hash `ciphertext`, and commits to the key it is sealed with
		/// (`key_commitment` = [`deal_key_commitment`]). The buyer then has
		/// [`Config::ConfirmPeriod`] blocks to confirm or dispute.
		///
		/// Emits [`Event::Delivered`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::deliver())]
		pub fn deliver(origin: OriginFor<T>, deal: DealId, ciphertext: H256, key_commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deliver(who, deal, ciphertext, key_commitment)
		}

		/// As the buyer, confirms the delivery of `deal`: it settles to the seller.
		///
		/// Emits [`Event::DealSettled`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::confirm())]
		pub fn confirm(origin: OriginFor<T>, deal: DealId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let d = Deals::<T>::get(deal).ok_or(Error::<T>::UnknownDeal)?;
			ensure!(d.buyer == who, Error::<T>::NotBuyer);
			ensure!(matches!(d.state, DealState::Delivered { .. }), Error::<T>::WrongDealState);
			Self::settle(deal, d)
		}

		/// As the buyer, disputes the delivery of `deal` with evidence hash `evidence` (e.g.
		/// the hash of the reason the payload does not match the commitment), holding
		/// [`Config::DisputeDeposit`].
		///
		/// With `key` (the deal key the buyer derived, matching the seller's commitment) a
		/// `DataDispute` claim opens in weighted voting at once (claimant: the seller); the
		/// voters fetch the ciphertext, open it with the key and check it against the offer's
		/// commitment. Without it (the payload did not arrive, or the buyer's key does not
		/// match the commitment) the seller must [`Pallet::reveal_deal_key`] within one
		/// confirmation period, or the buyer is refunded and given the seller's bond.
		///
		/// Emits [`Event::Disputed`] (and [`Event::DealKeyRevealed`] with a key).
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::dispute())]
		pub fn dispute(origin: OriginFor<T>, deal: DealId, evidence: H256, key: Option<DealKey>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_dispute(who, deal, evidence, key)
		}

		/// As the seller or the buyer of a disputed deal, reveals its deal key (it must match
		/// the seller's key commitment). The vote on the delivery opens.
		///
		/// Revealing makes the payload readable by anyone who fetches the ciphertext: the cost
		/// of having it judged. A buyer could publish what it bought anyway.
		///
		/// Emits [`Event::DealKeyRevealed`] and [`Event::DisputeClaimOpened`] (or
		/// [`Event::DisputeClaimDeferred`]).
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::reveal_deal_key())]
		pub fn reveal_deal_key(origin: OriginFor<T>, deal: DealId, key: DealKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_reveal_key(who, deal, key)
		}

		/// Sets the deal periods ([`Config::AdminOrigin`]). Deals already made keep their deadlines.
		///
		/// Emits [`Event::PeriodsSet`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_periods())]
		pub fn set_periods(origin: OriginFor<T>, periods: DealPeriods<BlockNumberFor<T>>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::periods_are_valid(&periods), Error::<T>::InvalidPeriod);
			Periods::<T>::put(&periods);
			Self::deposit_event(Event::PeriodsSet { periods });
			Ok(())
		}
	}
}
