//! The data-market worker: the LoopX data cycle of a data node and of the validators that buy
//! from it (see `shared/design.md`, "How the parts talk").
//!
//! - Both register the X25519 key that payloads are sealed to ([`crate::sealed`]), derived
//!   from the worker secret, once the chain does not already hold it.
//! - A **data node** (`--data-node`) sells one data set ([`SellPlan`]): it keeps one offer in
//!   the book, committed to the CSV form of its rows (content hash, size, rows, schema). When an
//!   offer matches, it seals the CSV to the buyer's key for that deal, serves it over the deals
//!   protocol ([`crate::payload_net`]) and calls `deliver` with the sealed payload's hash.
//! - A **validator** buys ([`BuyPlan`]): when the book of its tag holds an offer at or below its
//!   price, of data it does not have yet, and it has nothing in progress, it bids for one unit.
//!   Once the seller delivered, it fetches the sealed payload by hash from its peers, opens it,
//!   and checks it against the offer's commitment ([`check_delivery`]): it confirms (and trains
//!   on the rows from then on) or disputes with the reason committed as evidence. A payload
//!   that cannot be had by the last block of the confirmation period is disputed too.
//!
//! Decided afresh from the chain at every best block, so a restarted node carries on; bought
//! data is kept on disk by content hash and loaded again.

use std::collections::BTreeSet;

use loopx_ml_kernels::data::{
	table::{read_csv, write_csv},
	Dataset,
};
use loopx_runtime::{opaque::Block, Balance, BlockNumber};
use loopx_worker_api::WorkerAction;
use pallet_data_market::{
	runtime_api::{DataMarketApi, NextStep},
	DealState, Goods, GoodsKind, Side,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;
use x25519_dalek::StaticSecret;

use crate::{
	chain::WorkerRuntimeApis,
	outbox::{At, Outbox},
	payload_net::PayloadFetcher,
	payload_store::{payload_hash, PayloadStore, MAX_PAYLOAD_BYTES},
	sealed, LOG_TARGET,
};

/// The market of wallet-transaction data sets (the CSV schema of `ml-kernels`).
pub const DATA_TAG: &[u8] = b"wallet-tx";

/// A buyer disputes a payload it could not fetch when this many blocks of the confirmation
/// period are left (the dispute must land before the deal settles by itself).
pub const DISPUTE_MARGIN: BlockNumber = 3;

/// What a data node sells.
#[derive(Clone, Debug)]
pub struct SellPlan {
	/// The market.
	pub tag: Vec<u8>,
	/// Price per unit (one unit = the whole data set, sold to one buyer).
	pub price: Balance,
	/// Units per offer.
	pub quantity: u32,
	/// Blocks an offer stays in the book.
	pub lifetime: BlockNumber,
	/// The rows sold (`None`: this node's shard of the demo generator, seeded by its account).
	pub data: Option<Dataset>,
}

/// What a validator buys.
#[derive(Clone, Debug)]
pub struct BuyPlan {
	/// The market.
	pub tag: Vec<u8>,
	/// Highest price paid per data set.
	pub max_price: Balance,
	/// Blocks a bid stays in the book.
	pub lifetime: BlockNumber,
	/// Data sets bought at most (a bound on spending).
	pub max_datasets: usize,
}

impl Default for BuyPlan {
	fn default() -> Self {
		Self { tag: DATA_TAG.to_vec(), max_price: 10 * loopx_runtime::UNITS, lifetime: 100, max_datasets: 8 }
	}
}

/// Reads a data set to sell from a CSV file (the schema of `ml-kernels`' `data::table`).
pub fn read_data_file(path: &std::path::Path) -> Result<Dataset, String> {
	let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
	let data = read_csv(file).map_err(|e| e.to_string())?;
	if prepare(&data).is_none() {
		return Err(format!("larger than a payload ({MAX_PAYLOAD_BYTES} bytes as CSV)"));
	}
	Ok(data)
}

/// A data set in the form it is sold in, with the commitment an offer makes to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
	/// Its CSV form (the plaintext payload).
	pub csv: Vec<u8>,
	/// What the offer commits to.
	pub goods: Goods,
}

/// The schema commitment of a data set: blake2-256 of its CSV header.
pub fn schema_hash(data: &Dataset) -> H256 {
	let header = ["label", "group"].into_iter().chain(data.names.iter().map(String::as_str)).collect::<Vec<_>>().join(",");
	H256(sp_crypto_hashing::blake2_256(header.as_bytes()))
}

/// `data` as a payload with its commitment, if it fits a payload.
pub fn prepare(data: &Dataset) -> Option<Prepared> {
	let mut csv = Vec::new();
	write_csv(data, &mut csv).ok()?;
	if csv.len() + sealed::OVERHEAD > MAX_PAYLOAD_BYTES || data.is_empty() {
		return None;
	}
	let commitment = pallet_data_market::Commitment {
		content_hash: payload_hash(&csv),
		size: csv.len() as u64,
		samples: data.len() as u64,
		schema: schema_hash(data),
	};
	Some(Prepared { csv, goods: Goods { kind: GoodsKind::RawData, commitment } })
}

/// Why a delivered payload was disputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
	/// No peer served the sealed payload.
	NotReceived,
	/// It does not open with this node's key for this deal.
	DoesNotOpen(sealed::OpenError),
	/// Its content hash or size is not the offer's.
	NotWhatWasOffered,
	/// It is not a CSV table of the documented schema.
	Unreadable(String),
	/// Rows or columns differ from the offer's commitment.
	WrongShape,
}

impl Rejection {
	/// The evidence committed on chain with the dispute: a hash of the reason and the deal.
	pub fn evidence(&self, deal: u64) -> H256 {
		H256(sp_crypto_hashing::blake2_256(&[format!("{self:?}").as_bytes(), &deal.to_le_bytes()].concat()))
	}
}

/// Checks a sealed payload of `deal` against what the offer committed to; the plaintext and
/// its rows if it holds.
pub fn check_delivery(sealed_payload: &[u8], secret: &StaticSecret, deal: u64, goods: &Goods) -> Result<(Vec<u8>, Dataset), Rejection> {
	let plain = sealed::open(sealed_payload, secret, deal).map_err(Rejection::DoesNotOpen)?;
	let c = &goods.commitment;
	if payload_hash(&plain) != c.content_hash || plain.len() as u64 != c.size {
		return Err(Rejection::NotWhatWasOffered);
	}
	let data = read_csv(&plain[..]).map_err(|e| Rejection::Unreadable(e.to_string()))?;
	if data.len() as u64 != c.samples || schema_hash(&data) != c.schema {
		return Err(Rejection::WrongShape);
	}
	Ok((plain, data))
}

/// What an action was for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
	RegisterKey,
	Offer,
	Bid,
	Deliver(u64),
	Confirm(u64),
	Dispute(u64),
}

/// The data-market worker's memory between blocks.
pub struct DealWorker {
	secret: StaticSecret,
	public: [u8; 32],
	selling: Option<SellPlan>,
	prepared: Option<Prepared>,
	buying: Option<BuyPlan>,
	/// Sealed payloads of this node's deliveries (served by the deals protocol).
	sealed: PayloadStore,
	/// Plaintext of the data sets bought, by content hash (kept across restarts).
	bought: PayloadStore,
	/// Content hashes of the data sets bought.
	have: BTreeSet<H256>,
	fetcher: Option<PayloadFetcher>,
	outbox: Outbox<Step>,
}

impl DealWorker {
	/// A worker with the deal key of `worker_secret`, selling and/or buying, serving sealed
	/// payloads from `sealed` and keeping bought data in `bought`. Returns the data sets bought
	/// earlier too, for the learning worker.
	pub fn new(
		worker_secret: &[u8; 32],
		selling: Option<SellPlan>,
		buying: Option<BuyPlan>,
		sealed: PayloadStore,
		bought: PayloadStore,
		fetcher: Option<PayloadFetcher>,
	) -> (Self, Vec<Dataset>) {
		let secret = sealed::deal_secret(worker_secret);
		let public = sealed::public_key(&secret);
		let mut have = BTreeSet::new();
		let mut datasets = Vec::new();
		for hash in bought.hashes() {
			if let Some(data) = bought.get(&hash).and_then(|csv| read_csv(&csv[..]).ok()) {
				have.insert(hash);
				datasets.push(data);
			}
		}
		let worker = Self { secret, public, selling, prepared: None, buying, sealed, bought, have, fetcher, outbox: Outbox::default() };
		(worker, datasets)
	}

	/// One pass at a new best block; returns a data set bought and confirmed in it, if any.
	pub async fn on_block<C, P>(&mut self, at: &At<'_, C, P>) -> Vec<Dataset>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		match api.encryption_key(at.hash, at.me.clone()) {
			Ok(Some(key)) if key == self.public => {},
			Ok(_) => {
				if self.outbox.may_send(Step::RegisterKey, at.now) {
					log::info!(target: LOG_TARGET, "🔑 registering the data-market key {}", sp_core::hexdisplay::HexDisplay::from(&self.public));
				}
				self.outbox.send(at, Step::RegisterKey, "register_key", WorkerAction::RegisterKey { key: self.public });
				// Orders need the key on chain first.
				return Vec::new();
			},
			Err(e) => {
				log::warn!(target: LOG_TARGET, "cannot read the data-market key: {e}");
				return Vec::new();
			},
		}
		let deals = match api.deals_of(at.hash, at.me.clone()) {
			Ok(d) => d,
			Err(e) => {
				log::warn!(target: LOG_TARGET, "cannot read the deals: {e}");
				return Vec::new();
			},
		};
		let open: BTreeSet<u64> = deals.iter().map(|d| d.id).collect();
		self.outbox.retain(|step| match step {
			Step::Deliver(id) | Step::Confirm(id) | Step::Dispute(id) => open.contains(id),
			_ => true,
		});

		let mut confirmed = Vec::new();
		for deal in &deals {
			match (deal.is_seller, deal.next) {
				(true, NextStep::Deliver) => self.deliver(at, deal.id, &deal.deal.buyer_key, &deal.deal.goods),
				(false, NextStep::ConfirmOrDispute) => {
					let DealState::Delivered { ciphertext } = deal.deal.state else { continue };
					let deadline = deal.deal.deadline.unwrap_or(at.now);
					if let Some(data) = self.receive(at, deal.id, ciphertext, deadline, &deal.deal.goods).await {
						confirmed.push(data);
					}
				},
				_ => {},
			}
		}
		if let Some(plan) = self.selling.clone() {
			self.keep_offer(at, &plan);
		}
		if let Some(plan) = self.buying.clone() {
			let buying = deals.iter().any(|d| !d.is_seller);
			self.maybe_bid(at, &plan, buying);
		}
		confirmed
	}

	/// The data set sold, prepared once (the demo shard is seeded by the account).
	fn prepared(&mut self, at_me: &loopx_runtime::AccountId, plan: &SellPlan) -> Option<&Prepared> {
		if self.prepared.is_none() {
			let data = match &plan.data {
				Some(data) => data.clone(),
				None => crate::demo_data::training_shard(crate::learning::seed_of(at_me)),
			};
			self.prepared = prepare(&data);
			if self.prepared.is_none() {
				log::error!(target: LOG_TARGET, "the data set to sell is empty or larger than a payload ({MAX_PAYLOAD_BYTES} bytes): nothing offered");
			}
		}
		self.prepared.as_ref()
	}

	fn keep_offer<C, P>(&mut self, at: &At<'_, C, P>, plan: &SellPlan)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let Some(goods) = self.prepared(at.me, plan).map(|p| p.goods) else { return };
		// Enough orders to see ours among the best; the book is bounded anyway.
		let offers = at.chain.client.runtime_api().best_orders(at.hash, plan.tag.clone(), Side::Offer, 64).unwrap_or_default();
		if offers.iter().any(|o| &o.owner == at.me) || !self.outbox.may_send(Step::Offer, at.now) {
			return;
		}
		let c = goods.commitment;
		log::info!(
			target: LOG_TARGET,
			"🏷️ offering {} rows ({} bytes, content {:?}) on {:?} at {} a unit",
			c.samples,
			c.size,
			c.content_hash,
			String::from_utf8_lossy(&plan.tag),
			plan.price
		);
		let action = WorkerAction::PostOffer {
			tag: plan.tag.clone(),
			local_model: false,
			content_hash: c.content_hash,
			size: c.size,
			samples: c.samples,
			schema: c.schema,
			price: plan.price,
			quantity: plan.quantity,
			expires: at.now.saturating_add(plan.lifetime),
		};
		self.outbox.send(at, Step::Offer, "post_offer", action);
	}

	fn maybe_bid<C, P>(&mut self, at: &At<'_, C, P>, plan: &BuyPlan, buying: bool)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if buying || self.have.len() >= plan.max_datasets || !self.outbox.may_send(Step::Bid, at.now) {
			return;
		}
		let api = at.chain.client.runtime_api();
		let bids = api.best_orders(at.hash, plan.tag.clone(), Side::Bid, 64).unwrap_or_default();
		if bids.iter().any(|b| &b.owner == at.me) {
			return;
		}
		let offers = api.best_orders(at.hash, plan.tag.clone(), Side::Offer, 64).unwrap_or_default();
		let wanted = offers.iter().find(|o| {
			&o.owner != at.me
				&& o.price <= plan.max_price
				&& o.goods.is_some_and(|g| g.kind == GoodsKind::RawData && !self.have.contains(&g.commitment.content_hash))
		});
		let Some(offer) = wanted else { return };
		log::info!(target: LOG_TARGET, "🛒 bidding {} for the data set of offer #{} on {:?}", offer.price, offer.id, String::from_utf8_lossy(&plan.tag));
		let action = WorkerAction::PostBid {
			tag: plan.tag.clone(),
			price: offer.price,
			quantity: 1,
			expires: at.now.saturating_add(plan.lifetime),
		};
		self.outbox.send(at, Step::Bid, "post_bid", action);
	}

	fn deliver<C, P>(&mut self, at: &At<'_, C, P>, deal: u64, buyer_key: &[u8; 32], goods: &Goods)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if !self.outbox.may_send(Step::Deliver(deal), at.now) {
			return;
		}
		let Some(plan) = self.selling.clone() else { return };
		let Some(prepared) = self.prepared(at.me, &plan).cloned() else { return };
		if prepared.goods != *goods {
			return log::warn!(target: LOG_TARGET, "deal #{deal} sold other data than this node holds now: not delivered");
		}
		let mut ephemeral = [0u8; 32];
		if getrandom::getrandom(&mut ephemeral).is_err() {
			return log::error!(target: LOG_TARGET, "no randomness for sealing deal #{deal}: not delivered");
		}
		let sealed_payload = match sealed::seal(&prepared.csv, buyer_key, deal, ephemeral) {
			Ok(s) => s,
			Err(e) => return log::warn!(target: LOG_TARGET, "deal #{deal}: the buyer's key cannot be sealed to ({e:?}): not delivered"),
		};
		let Some(ciphertext) = self.sealed.insert(sealed_payload) else { return };
		log::info!(target: LOG_TARGET, "📦 deal #{deal}: payload sealed to the buyer's key, served as {ciphertext:?}; delivering");
		self.outbox.send(at, Step::Deliver(deal), "deliver", WorkerAction::Deliver { deal, ciphertext });
	}

	async fn receive<C, P>(&mut self, at: &At<'_, C, P>, deal: u64, ciphertext: H256, deadline: BlockNumber, goods: &Goods) -> Option<Dataset>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if !self.outbox.may_send(Step::Confirm(deal), at.now) || !self.outbox.may_send(Step::Dispute(deal), at.now) {
			return None;
		}
		let fetched = match &self.fetcher {
			Some(fetcher) => fetcher.fetch(ciphertext, at.metrics).await,
			None => None,
		};
		let verdict = match fetched {
			Some(bytes) => check_delivery(&bytes, &self.secret, deal, goods),
			None if at.now.saturating_add(DISPUTE_MARGIN) >= deadline => Err(Rejection::NotReceived),
			None => {
				log::info!(target: LOG_TARGET, "⏳ deal #{deal}: sealed payload {ciphertext:?} not found at any peer yet");
				return None;
			},
		};
		match verdict {
			Ok((plain, data)) => {
				// Kept as delivered, so that it is found under the offer's content hash again.
				if let Some(hash) = self.bought.insert(plain) {
					self.have.insert(hash);
				}
				log::info!(target: LOG_TARGET, "✅ deal #{deal}: payload opened and matches the offer ({} rows); confirming", data.len());
				self.outbox.send(at, Step::Confirm(deal), "confirm", WorkerAction::Confirm { deal });
				Some(data)
			},
			Err(rejection) => {
				log::warn!(target: LOG_TARGET, "⚠️ deal #{deal}: {rejection:?}; disputing");
				let evidence = rejection.evidence(deal);
				self.outbox.send(at, Step::Dispute(deal), "dispute", WorkerAction::Dispute { deal, evidence });
				None
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::demo_data::training_shard;

	fn buyer() -> StaticSecret {
		sealed::deal_secret(&[5; 32])
	}

	#[test]
	fn a_delivery_that_matches_the_offer_gives_back_the_rows() {
		let data = training_shard(3);
		let prepared = prepare(&data).unwrap();
		assert_eq!(prepared.goods.commitment.samples, data.len() as u64);
		let sealed_payload = sealed::seal(&prepared.csv, &sealed::public_key(&buyer()), 9, [1; 32]).unwrap();
		let (plain, rows) = check_delivery(&sealed_payload, &buyer(), 9, &prepared.goods).unwrap();
		assert_eq!(plain, prepared.csv);
		assert_eq!(rows.len(), data.len());
		assert_eq!(rows.labels, data.labels);
		assert_eq!(rows.names, data.names);
	}

	#[test]
	fn deliveries_that_differ_from_the_offer_are_rejected_with_a_reason() {
		let prepared = prepare(&training_shard(3)).unwrap();
		let to = sealed::public_key(&buyer());
		// Other data than offered.
		let other = prepare(&training_shard(4)).unwrap();
		let swapped = sealed::seal(&other.csv, &to, 9, [1; 32]).unwrap();
		assert_eq!(check_delivery(&swapped, &buyer(), 9, &prepared.goods), Err(Rejection::NotWhatWasOffered));
		// Sealed for another deal or another key.
		let replayed = sealed::seal(&prepared.csv, &to, 8, [1; 32]).unwrap();
		assert!(matches!(check_delivery(&replayed, &buyer(), 9, &prepared.goods), Err(Rejection::DoesNotOpen(_))));
		// What was offered is not a table: the commitment matches but the content is useless.
		let junk = b"not,a table\n\"unbalanced".to_vec();
		let mut goods = prepared.goods;
		goods.commitment.content_hash = payload_hash(&junk);
		goods.commitment.size = junk.len() as u64;
		let sealed_junk = sealed::seal(&junk, &to, 9, [1; 32]).unwrap();
		assert!(matches!(check_delivery(&sealed_junk, &buyer(), 9, &goods), Err(Rejection::Unreadable(_))));
		// The right bytes, but the offer claimed more rows than they hold.
		let mut inflated = prepared.goods;
		inflated.commitment.samples += 1;
		let honest = sealed::seal(&prepared.csv, &to, 9, [1; 32]).unwrap();
		assert_eq!(check_delivery(&honest, &buyer(), 9, &inflated), Err(Rejection::WrongShape));
		// Evidence differs by reason and by deal.
		assert_ne!(Rejection::NotReceived.evidence(1), Rejection::WrongShape.evidence(1));
		assert_ne!(Rejection::NotReceived.evidence(1), Rejection::NotReceived.evidence(2));
	}

	#[test]
	fn the_schema_commits_to_the_columns() {
		let a = training_shard(1);
		let mut b = a.clone();
		b.names.swap(0, 1);
		assert_ne!(schema_hash(&a), schema_hash(&b));
		assert_eq!(schema_hash(&a), schema_hash(&training_shard(2)));
	}

	#[test]
	fn bought_data_is_loaded_again_after_a_restart() {
		let dir = std::env::temp_dir().join(format!("loopx-bought-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		let data = training_shard(3);
		let prepared = prepare(&data).unwrap();
		PayloadStore::open(&dir).unwrap().insert(prepared.csv.clone()).unwrap();
		let (worker, loaded) =
			DealWorker::new(&[1; 32], None, Some(BuyPlan::default()), PayloadStore::default(), PayloadStore::open(&dir).unwrap(), None);
		assert_eq!(loaded.len(), 1);
		assert_eq!(loaded[0].len(), data.len());
		assert!(worker.have.contains(&prepared.goods.commitment.content_hash), "not bought twice");
		std::fs::remove_dir_all(&dir).unwrap();
	}
}
