//! The data-market worker: the LoopX data cycle of a data node and of the validators that buy
//! from it (see `shared/design.md`, "How the parts talk").
//!
//! - Both register the X25519 key that payloads are sealed to ([`crate::sealed`]), derived
//!   from the worker secret, once the chain does not already hold it.
//! - A **data node** (`--data-node`) sells one data set ([`SellPlan`]): it keeps one offer in
//!   the book, committed to the CSV form of its rows (content hash, size, rows, schema). Once a
//!   learning task it can train is on chain, it also trains a local model on the same rows
//!   ([`crate::learning::Learning::local_model`]) and keeps an offer of those compressed
//!   parameters in the book of [`MODEL_TAG`] (kind `LocalModel`, schema = the task's model id).
//!   When an offer matches, it waits for the match to be finalized (deal numbers differ between
//!   forks), seals the payload to the buyer's key for that deal, serves it over the deals
//!   protocol ([`crate::payload_net`]) and calls `deliver` with the sealed payload's hash.
//! - A **validator** buys ([`BuyPlan`]): when the book of its tag holds an offer at or below its
//!   price, of data it does not have yet, and it has nothing in progress, it bids for one unit.
//!   Once the seller delivered, it fetches the sealed payload by hash from its peers, opens it,
//!   and checks it against the offer's commitment ([`check_delivery`]): it confirms (and trains
//!   on the rows from then on, or merges the local model in its next round) or disputes with
//!   the reason committed as evidence. A payload
//!   that cannot be had by the last block of the confirmation period is disputed too.
//!
//! Decided afresh from the chain at every best block, so a restarted node carries on; bought
//! data is kept on disk by content hash and loaded again.

use std::{
	collections::{BTreeMap, BTreeSet},
	sync::Arc,
};

use loopx_ml_kernels::data::{
	table::{read_csv, write_csv},
	Dataset,
};
use loopx_primitives::{ClaimClass, ClaimId, TaskId};
use loopx_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use loopx_worker_api::Verdict;
use loopx_worker_api::WorkerAction;
use pallet_builder_market::{runtime_api::BuilderMarketApi, TaskStatus};
use pallet_data_market::{
	runtime_api::{DataMarketApi, NextStep, OrderView},
	DealState, Goods, GoodsKind, Side,
};
use pallet_weighted_voting::runtime_api::{Phase, VotableClaim, WeightedVotingApi};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::H256;
use x25519_dalek::StaticSecret;

use crate::{
	chain::WorkerRuntimeApis,
	learning::Learning,
	outbox::{At, Outbox},
	payload_net::PayloadFetcher,
	payload_store::{payload_hash, PayloadStore, MAX_PAYLOAD_BYTES},
	sealed,
	training::{model_schema, read_payload, task_of_payload, TaskPayload},
	LOG_TARGET,
};

/// The market of wallet-transaction data sets (the CSV schema of `ml-kernels`).
pub const DATA_TAG: &[u8] = b"wallet-tx";

/// The market of local models trained on wallet-transaction data (wire-format payloads of a
/// learning task's model).
pub const MODEL_TAG: &[u8] = b"wallet-model";

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
	/// Also sell a local model trained on the rows: its market and price per unit.
	pub model: Option<(Vec<u8>, Balance)>,
}

/// What a validator buys.
#[derive(Clone, Debug)]
pub struct BuyPlan {
	/// The market of data sets.
	pub tag: Vec<u8>,
	/// The market of local models (`None`: buys none).
	pub model_tag: Option<Vec<u8>>,
	/// Highest price paid per data set.
	pub max_price: Balance,
	/// Blocks a bid stays in the book.
	pub lifetime: BlockNumber,
	/// Data sets and local models bought at most (a bound on spending).
	pub max_datasets: usize,
}

impl Default for BuyPlan {
	fn default() -> Self {
		Self { tag: DATA_TAG.to_vec(), model_tag: Some(MODEL_TAG.to_vec()), max_price: 10 * loopx_runtime::UNITS, lifetime: 100, max_datasets: 8 }
	}
}

/// Why a data file cannot be sold.
#[derive(Debug)]
pub enum DataFileError {
	/// It cannot be read.
	Io(std::io::Error),
	/// It is not a CSV table of the documented schema.
	NotATable(String),
	/// Its CSV form does not fit one payload.
	TooLarge,
}

impl core::fmt::Display for DataFileError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Io(e) => e.fmt(f),
			Self::NotATable(e) => f.write_str(e),
			Self::TooLarge => write!(f, "larger than a payload ({MAX_PAYLOAD_BYTES} bytes as CSV)"),
		}
	}
}

impl std::error::Error for DataFileError {}

/// Reads a data set to sell from a CSV file (the schema of `ml-kernels`' `data::table`).
pub fn read_data_file(path: &std::path::Path) -> Result<Dataset, DataFileError> {
	let file = std::fs::File::open(path).map_err(DataFileError::Io)?;
	let data = read_csv(file).map_err(|e| DataFileError::NotATable(e.to_string()))?;
	if prepare(&data).is_none() {
		return Err(DataFileError::TooLarge);
	}
	Ok(data)
}

/// A data set or a local model in the form it is sold in, with the commitment an offer makes to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
	/// The plaintext payload: a data set's CSV form, or a model's wire form.
	pub plain: Vec<u8>,
	/// What the offer commits to.
	pub goods: Goods,
}

/// The schema commitment of a data set: blake2-256 of its CSV header.
pub fn schema_hash(data: &Dataset) -> H256 {
	schema_of_features(data.names.iter().map(String::as_str))
}

/// The schema commitment of a data set with these feature columns (in order).
pub fn schema_of_features<'a>(features: impl IntoIterator<Item = &'a str>) -> H256 {
	let header = ["label", "group"].into_iter().chain(features).collect::<Vec<_>>().join(",");
	H256(sp_crypto_hashing::blake2_256(header.as_bytes()))
}

/// The schema of the data this node trains on (the wallet transactions' features): the only
/// data sets it buys.
pub fn training_schema() -> H256 {
	schema_of_features(loopx_ml_kernels::data::wallet::FEATURE_NAMES.iter().copied())
}

/// The best offer in `offers` (best first) worth buying for `me`: not its own, at most
/// `max_price`, goods of `kind` it does not have yet, in a schema it can use (`usable`: data it
/// trains on, local models of tasks it works on). Anything else would be paid for and dropped.
pub fn offer_to_buy<'a>(
	offers: &'a [OrderView<AccountId, Balance, BlockNumber>],
	me: &AccountId,
	max_price: Balance,
	kind: GoodsKind,
	have: &BTreeSet<H256>,
	usable: impl Fn(&H256) -> bool,
) -> Option<&'a OrderView<AccountId, Balance, BlockNumber>> {
	offers.iter().find(|o| {
		&o.owner != me
			&& o.price <= max_price
			&& o.goods.is_some_and(|g| g.kind == kind && !have.contains(&g.commitment.content_hash) && usable(&g.commitment.schema))
	})
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
	Some(Prepared { plain: csv, goods: Goods { kind: GoodsKind::RawData, commitment } })
}

/// A local model of `task` (its wire payload, trained on `samples` rows) as a payload with its
/// commitment, if it fits a payload.
pub fn prepare_model(task: TaskId, payload: Vec<u8>, samples: u64) -> Option<Prepared> {
	if payload.len() + sealed::OVERHEAD > MAX_PAYLOAD_BYTES || task_of_payload(&payload) != Some(task) {
		return None;
	}
	let commitment =
		pallet_data_market::Commitment { content_hash: payload_hash(&payload), size: payload.len() as u64, samples, schema: model_schema(task) };
	Some(Prepared { plain: payload, goods: Goods { kind: GoodsKind::LocalModel, commitment } })
}

/// What a confirmed deal brought.
#[derive(Clone, Debug)]
pub enum Bought {
	/// Rows to train on.
	Data(Dataset),
	/// A local model of a task, to merge (its wire payload).
	Model(TaskId, Vec<u8>),
	/// A builder-market model version (its wire payload); this worker never buys one.
	Version(Vec<u8>),
}

/// Why a delivered payload was disputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
	/// No peer served the sealed payload.
	NotReceived,
	/// It does not open with this node's key (or the revealed deal key) for this deal.
	DoesNotOpen(sealed::OpenError),
	/// The key this node derives for it is not the one the seller committed to.
	KeyMismatch,
	/// Its content hash or size is not the offer's.
	NotWhatWasOffered,
	/// It is not a CSV table of the documented schema, or not a model of the task offered.
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
/// what it holds if it holds. A local model is checked against its task by `is_model_of`
/// (the buyer's learning worker decodes it with the task's architecture).
pub fn check_delivery(
	sealed_payload: &[u8],
	secret: &StaticSecret,
	deal: u64,
	goods: &Goods,
	is_model_of: impl FnOnce(&TaskPayload) -> Result<(), String>,
) -> Result<(Vec<u8>, Bought), Rejection> {
	let plain = sealed::open(sealed_payload, secret, deal).map_err(Rejection::DoesNotOpen)?;
	check_plaintext(plain, goods, is_model_of)
}

/// Checks an opened payload against the offer's commitment: content hash and size, then rows
/// and schema (data) or task and decoding (local models). Buyers and, in a dispute, voters run
/// the same check, so a buyer disputes exactly what the voters will reject.
pub fn check_plaintext(
	plain: Vec<u8>,
	goods: &Goods,
	is_model_of: impl FnOnce(&TaskPayload) -> Result<(), String>,
) -> Result<(Vec<u8>, Bought), Rejection> {
	let c = &goods.commitment;
	if payload_hash(&plain) != c.content_hash || plain.len() as u64 != c.size {
		return Err(Rejection::NotWhatWasOffered);
	}
	let bought = match goods.kind {
		GoodsKind::LocalModel => {
			// Read once: the task from its header, the model from the same decode.
			let read = read_payload(&plain).map_err(|_| Rejection::Unreadable("not a task model".into()))?;
			if model_schema(read.task) != c.schema {
				return Err(Rejection::WrongShape);
			}
			is_model_of(&read).map_err(Rejection::Unreadable)?;
			Bought::Model(read.task, plain.clone())
		},
		// A builder-market version: its content hash names the exact payload.
		GoodsKind::TrainedModel => Bought::Version(plain.clone()),
		GoodsKind::RawData => {
			let data = read_csv(&plain[..]).map_err(|e| Rejection::Unreadable(e.to_string()))?;
			if data.len() as u64 != c.samples || schema_hash(&data) != c.schema {
				return Err(Rejection::WrongShape);
			}
			Bought::Data(data)
		},
	};
	Ok((plain, bought))
}

/// A voter's verdict on a data dispute whose deal key is revealed: the ciphertext the buyer
/// received (`None`: no peer served it), opened with the key and checked against the offer's
/// commitment. Valid: the seller delivered what it offered.
pub fn dispute_verdict(
	sealed_payload: Option<&[u8]>,
	key: &[u8; 32],
	deal: u64,
	goods: &Goods,
	is_model_of: impl FnOnce(&TaskPayload) -> Result<(), String>,
) -> Result<(), Rejection> {
	let sealed_payload = sealed_payload.ok_or(Rejection::NotReceived)?;
	let plain = sealed::open_with_key(sealed_payload, key, deal).map_err(Rejection::DoesNotOpen)?;
	check_plaintext(plain, goods, is_model_of).map(|_| ())
}

/// What an action was for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
	RegisterKey,
	/// An offer of the data set (`false`) or of the local model (`true`).
	Offer(bool),
	/// A bid in the data-set (`false`) or the local-model (`true`) market.
	Bid(bool),
	Deliver(u64),
	Confirm(u64),
	Dispute(u64),
	RevealKey(u64),
}

/// The data-market worker's memory between blocks.
pub struct DealWorker {
	secret: StaticSecret,
	public: [u8; 32],
	selling: Option<SellPlan>,
	/// The rows sold, and their payload (made on first use).
	prepared: Option<(Arc<Dataset>, Prepared)>,
	/// The local model sold, once trained, and its task.
	model: Option<(TaskId, Prepared)>,
	buying: Option<BuyPlan>,
	/// Sealed payloads of this node's deliveries (served by the deals protocol).
	sealed: PayloadStore,
	/// Plaintext of the data sets bought, by content hash (kept across restarts).
	bought: PayloadStore,
	/// Content hashes of the data sets and local models bought.
	have: BTreeSet<H256>,
	fetcher: Option<PayloadFetcher>,
	outbox: Outbox<Step>,
	/// This validator's verdicts on the data disputes it is drawn for, by claim number and
	/// commitment (the vote worker casts them).
	dispute_verdicts: BTreeMap<(ClaimId, H256), Verdict>,
	/// **Test facility**: deliver garbage ([`crate::faults::garble`]) instead of the goods.
	sell_garbage: bool,
}

impl DealWorker {
	/// A worker with the deal key of `worker_secret`, selling and/or buying, serving sealed
	/// payloads from `sealed` and keeping bought data in `bought`. Returns what was bought
	/// earlier too, for the learning worker.
	pub fn new(
		worker_secret: &[u8; 32],
		selling: Option<SellPlan>,
		buying: Option<BuyPlan>,
		sealed: PayloadStore,
		bought: PayloadStore,
		fetcher: Option<PayloadFetcher>,
	) -> (Self, Vec<Bought>) {
		let secret = sealed::deal_secret(worker_secret);
		let public = sealed::public_key(&secret);
		let mut have = BTreeSet::new();
		let mut kept = Vec::new();
		for hash in bought.hashes() {
			let Some(plain) = bought.get(&hash) else { continue };
			let found = match task_of_payload(&plain) {
				Some(task) => Some(Bought::Model(task, plain.to_vec())),
				None => read_csv(&plain[..]).ok().map(Bought::Data),
			};
			if let Some(found) = found {
				have.insert(hash);
				kept.push(found);
			}
		}
		let worker = Self {
			secret,
			public,
			selling,
			prepared: None,
			model: None,
			buying,
			sealed,
			bought,
			have,
			fetcher,
			outbox: Outbox::default(),
			dispute_verdicts: BTreeMap::new(),
			sell_garbage: false,
		};
		(worker, kept)
	}

	/// One pass at a new best block. What is bought and confirmed goes to `learning` (rows to
	/// train on, local models to merge); a data node's local model is trained there too.
	pub async fn on_block<C, P>(&mut self, at: &At<'_, C, P>, learning: &mut Learning)
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
				return;
			},
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the data-market key: {e}"),
		}
		let deals = match api.deals_of(at.hash, at.me.clone()) {
			Ok(d) => d,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the deals: {e}"),
		};
		let open: BTreeSet<u64> = deals.iter().map(|d| d.id).collect();
		self.outbox.retain(at.now, |step| match step {
			Step::Deliver(id) | Step::Confirm(id) | Step::Dispute(id) | Step::RevealKey(id) => open.contains(id),
			_ => true,
		});

		// Every delivery to judge, fetched side by side before any is judged: in the background
		// (found at a later block), except those whose deal is about to be disputed for want of
		// them, which are waited for.
		let (last_chance, in_time): (Vec<_>, Vec<_>) = deals
			.iter()
			.filter_map(|deal| match (deal.is_seller, &deal.deal.state) {
				(false, DealState::Delivered { ciphertext, .. })
					if matches!(deal.next, NextStep::ConfirmOrDispute) && self.may_judge(deal.id, at.now) =>
				{
					Some((*ciphertext, at.now.saturating_add(DISPUTE_MARGIN) >= deal.deal.deadline.unwrap_or(at.now)))
				},
				_ => None,
			})
			.partition(|(_, last_chance)| *last_chance);
		let payloads = match &self.fetcher {
			Some(fetcher) => {
				let mut payloads = fetcher.fetch_ready(in_time.into_iter().map(|(hash, _)| hash), at.metrics).await;
				payloads.extend(fetcher.fetch_waiting(last_chance.into_iter().map(|(hash, _)| hash), at.metrics).await);
				payloads
			},
			None => Default::default(),
		};
		for deal in &deals {
			match (deal.is_seller, deal.next) {
				(true, NextStep::Deliver) => self.deliver(at, deal.id, &deal.deal.buyer_key, &deal.deal.goods),
				(true, NextStep::RevealKey) => self.reveal_key(at, deal.id, &deal.deal),
				(false, NextStep::ConfirmOrDispute) => {
					let DealState::Delivered { ciphertext, key_commitment } = deal.deal.state else { continue };
					if !self.may_judge(deal.id, at.now) {
						continue;
					}
					let deadline = deal.deal.deadline.unwrap_or(at.now);
					let payload = payloads.get(&ciphertext).cloned();
					match self.receive(at, deal.id, (ciphertext, key_commitment), payload, deadline, &deal.deal.goods, learning) {
						Some(Bought::Data(data)) => learning.add_training_data(data),
						Some(Bought::Model(task, payload)) => learning.add_bought_model(task, payload),
						Some(Bought::Version(_)) | None => {},
					}
				},
				_ => {},
			}
		}
		if let Some(plan) = self.selling.clone() {
			if let Some(goods) = self.prepared(at.me, &plan).map(|(_, p)| p.goods) {
				self.keep_offer(at, &plan.tag, plan.price, goods, &plan);
			}
			if let Some((tag, price)) = &plan.model {
				if let Some(goods) = self.local_model(at, learning).map(|p| p.goods) {
					self.keep_offer(at, tag, *price, goods, &plan);
				}
			}
		}
		if let Some(plan) = self.buying.clone() {
			let buying = deals.iter().any(|d| !d.is_seller);
			self.maybe_bid(at, &plan, buying, learning);
		}
	}

	/// **Test facility** (`--worker-fault sell-garbage`): deliver garbage from now on.
	pub fn sell_garbage(&mut self) {
		log::warn!(target: LOG_TARGET, "🎭 this data node delivers garbage instead of what it offers (test facility)");
		self.sell_garbage = true;
	}

	/// This validator's verdicts on data disputes, worked out by [`Self::judge_disputes`].
	pub fn dispute_verdicts(&self) -> &BTreeMap<(ClaimId, H256), Verdict> {
		&self.dispute_verdicts
	}

	/// As a voter: works out the verdict on each data dispute this validator is drawn for
	/// whose deal key is revealed. It fetches the ciphertext the buyer received by its hash,
	/// opens it with the key and checks it against the offer ([`dispute_verdict`]). A
	/// ciphertext that no peer serves is retried at every block and counts as a bad delivery
	/// from [`crate::votes::LAST_CHANCE_BLOCKS`] before the commit period ends: serving it is the seller's job.
	pub async fn judge_disputes<C, P>(&mut self, at: &At<'_, C, P>, learning: &mut Learning)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let api = at.chain.client.runtime_api();
		let claims = match api.claims_for_voter(at.hash, at.me.clone()) {
			Ok(c) => c,
			Err(e) => return log::warn!(target: LOG_TARGET, "cannot read the claims to vote on: {e}"),
		};
		let disputes: Vec<_> = claims.into_iter().filter(|c| c.class == ClaimClass::DataDispute).collect();
		self.dispute_verdicts.retain(|(id, commitment), _| disputes.iter().any(|c| c.claim == *id && c.commitment == *commitment));
		// The disputes to judge, their ciphertexts fetched side by side first.
		let mut to_judge = Vec::new();
		for claim in disputes {
			let key = (claim.claim, claim.commitment);
			// A verdict to commit, or one to reveal that a restart forgot (it is worked out again
			// the same way: the same ciphertext, key and offer).
			let needed = match claim.phase {
				Phase::Commit => !claim.committed,
				Phase::Reveal => claim.committed && !claim.revealed,
				Phase::AwaitingTally => false,
			};
			if !needed || self.dispute_verdicts.contains_key(&key) {
				continue;
			}
			let found = at.chain.client.runtime_api().disputed_deal(at.hash, claim.claim).ok().flatten();
			let Some((deal, DealState::Disputed { ciphertext, key: Some(revealed), .. }, goods)) = found.map(|(id, d)| (id, d.state, d.goods)) else {
				// A dispute from before deal keys: nothing a voter could open.
				log::info!(target: LOG_TARGET, "claim {}: a data dispute without a revealed deal key; abstaining", claim.claim);
				self.dispute_verdicts.insert(key, Verdict::Abstain);
				continue;
			};
			to_judge.push((claim, key, deal, ciphertext, revealed, goods));
		}
		// In the background, except for the disputes whose commit period is about to end: a
		// ciphertext not found then counts as a bad delivery, so it is waited for.
		let last_chance = |claim: &VotableClaim<BlockNumber>| at.now.saturating_add(crate::votes::LAST_CHANCE_BLOCKS) >= claim.commit_end;
		let payloads = match &self.fetcher {
			Some(fetcher) => {
				let ciphertexts =
					|last: bool| to_judge.iter().filter(move |(claim, ..)| last_chance(claim) == last).map(|(.., ciphertext, _, _)| *ciphertext);
				let mut payloads = fetcher.fetch_ready(ciphertexts(false), at.metrics).await;
				payloads.extend(fetcher.fetch_waiting(ciphertexts(true), at.metrics).await);
				payloads
			},
			None => Default::default(),
		};
		for (claim, key, deal, ciphertext, revealed, goods) in to_judge {
			let fetched = payloads.get(&ciphertext).cloned();
			let last_chance = last_chance(&claim);
			if fetched.is_none() && !last_chance {
				log::info!(target: LOG_TARGET, "⏳ claim {}: the ciphertext {ciphertext:?} of deal #{deal} not found at any peer yet", claim.claim);
				continue;
			}
			let checked =
				dispute_verdict(fetched.as_deref(), &revealed.key, deal, &goods, |model| learning.check_model(at, model).map_err(|e| e.to_string()));
			let verdict = match &checked {
				Ok(()) => Verdict::Valid,
				Err(_) => Verdict::Invalid,
			};
			log::info!(target: LOG_TARGET, "⚖️ claim {}: deal #{deal}'s delivery is {verdict:?} ({checked:?})", claim.claim);
			self.dispute_verdicts.insert(key, verdict);
		}
	}

	/// The data set sold, prepared once (the demo shard is seeded by the account).
	fn prepared(&mut self, at_me: &loopx_runtime::AccountId, plan: &SellPlan) -> Option<&(Arc<Dataset>, Prepared)> {
		if self.prepared.is_none() {
			let data = match &plan.data {
				Some(data) => data.clone(),
				None => crate::demo_data::training_shard(crate::learning::seed_of(at_me)),
			};
			self.prepared = prepare(&data).map(|p| (Arc::new(data), p));
			if self.prepared.is_none() {
				log::error!(target: LOG_TARGET, "the data set to sell is empty or larger than a payload ({MAX_PAYLOAD_BYTES} bytes): nothing offered");
			}
		}
		self.prepared.as_ref()
	}

	/// The local model sold: trained on the rows sold once a task it can train is on chain,
	/// and kept while that task is active.
	fn local_model<C, P>(&mut self, at: &At<'_, C, P>, learning: &mut Learning) -> Option<&Prepared>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if let Some((task, _)) = self.model {
			let active = at.chain.client.runtime_api().active_tasks(at.hash).unwrap_or_default();
			if !active.iter().any(|v| v.id == task && v.task.status == TaskStatus::Active) {
				log::info!(target: LOG_TARGET, "task {task} is no longer active: its local model is not offered any more");
				self.model = None;
			}
		}
		if self.model.is_none() {
			// Shared with the training thread, not copied at each block while it trains.
			let data = Arc::clone(&self.prepared.as_ref()?.0);
			let (task, payload) = learning.local_model(at, &data)?;
			self.model = prepare_model(task, payload, data.len() as u64).map(|p| (task, p));
		}
		self.model.as_ref().map(|(_, p)| p)
	}

	/// Keeps one offer of `goods` in the book of `tag`.
	fn keep_offer<C, P>(&mut self, at: &At<'_, C, P>, tag: &[u8], price: Balance, goods: Goods, plan: &SellPlan)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let local_model = goods.kind == GoodsKind::LocalModel;
		// Enough orders to see ours among the best; the book is bounded anyway.
		let offers = at.chain.client.runtime_api().best_orders(at.hash, tag.to_vec(), Side::Offer, 64).unwrap_or_default();
		if offers.iter().any(|o| &o.owner == at.me) || !self.outbox.may_send(Step::Offer(local_model), at.now) {
			return;
		}
		let c = goods.commitment;
		log::info!(
			target: LOG_TARGET,
			"🏷️ offering {} ({} bytes, {} rows, content {:?}) on {:?} at {} a unit",
			if local_model { "a local model" } else { "a data set" },
			c.size,
			c.samples,
			c.content_hash,
			String::from_utf8_lossy(tag),
			price
		);
		let action = WorkerAction::PostOffer {
			tag: tag.to_vec(),
			local_model,
			content_hash: c.content_hash,
			size: c.size,
			samples: c.samples,
			schema: c.schema,
			price,
			quantity: plan.quantity,
			expires: at.now.saturating_add(plan.lifetime),
		};
		self.outbox.send(at, Step::Offer(local_model), "post_offer", action);
	}

	fn maybe_bid<C, P>(&mut self, at: &At<'_, C, P>, plan: &BuyPlan, buying: bool, learning: &Learning)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		if buying || self.have.len() >= plan.max_datasets {
			return;
		}
		let markets = [(plan.tag.clone(), GoodsKind::RawData)].into_iter().chain(plan.model_tag.clone().map(|t| (t, GoodsKind::LocalModel)));
		let api = at.chain.client.runtime_api();
		// One deal at a time: the first market with an offer worth buying.
		for (tag, kind) in markets {
			let local_model = kind == GoodsKind::LocalModel;
			if !self.outbox.may_send(Step::Bid(local_model), at.now) {
				return;
			}
			let bids = api.best_orders(at.hash, tag.clone(), Side::Bid, 64).unwrap_or_default();
			if bids.iter().any(|b| &b.owner == at.me) {
				return;
			}
			let offers = api.best_orders(at.hash, tag.clone(), Side::Offer, 64).unwrap_or_default();
			let data_schema = training_schema();
			let model_schemas: Vec<H256> = if local_model { learning.tasks_worked_on().into_iter().map(model_schema).collect() } else { Vec::new() };
			let usable = |schema: &H256| if local_model { model_schemas.contains(schema) } else { *schema == data_schema };
			let Some(offer) = offer_to_buy(&offers, at.me, plan.max_price, kind, &self.have, usable) else { continue };
			log::info!(
				target: LOG_TARGET,
				"🛒 bidding {} for the {} of offer #{} on {:?}",
				offer.price,
				if local_model { "local model" } else { "data set" },
				offer.id,
				String::from_utf8_lossy(&tag)
			);
			let action = WorkerAction::PostBid { tag, price: offer.price, quantity: 1, expires: at.now.saturating_add(plan.lifetime) };
			return self.outbox.send(at, Step::Bid(local_model), "post_bid", action);
		}
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
		// A deal's number names another deal on another fork: seal only once the match is
		// final, or a reorganisation could leave a payload sealed to one buyer delivered under
		// the number of another's deal (which that buyer would rightly dispute).
		let api = at.chain.client.runtime_api();
		let settled_match = api.deals_of(at.finalized, at.me.clone()).ok().and_then(|d| d.into_iter().find(|d| d.id == deal));
		drop(api);
		if !settled_match.is_some_and(|d| d.deal.buyer_key == *buyer_key && d.deal.goods == *goods) {
			return log::debug!(target: LOG_TARGET, "deal #{deal}: waiting for its match to be finalized before sealing");
		}
		let Some(plan) = self.selling.clone() else { return };
		let data = self.prepared(at.me, &plan).map(|(_, p)| p.clone());
		let model = self.model.as_ref().map(|(_, p)| p.clone());
		let Some(prepared) = data.into_iter().chain(model).find(|p| p.goods == *goods) else {
			return log::warn!(target: LOG_TARGET, "deal #{deal} sold other goods than this node holds now: not delivered");
		};
		let ephemeral = sealed::deal_ephemeral(&self.secret, deal, buyer_key, &goods.commitment.content_hash.0);
		let plain = if self.sell_garbage { crate::faults::garble(&prepared.plain) } else { prepared.plain };
		let (sealed_payload, key) = match sealed::seal_with_key(&plain, buyer_key, deal, ephemeral) {
			Ok(s) => s,
			Err(e) => return log::warn!(target: LOG_TARGET, "deal #{deal}: the buyer's key cannot be sealed to ({e:?}): not delivered"),
		};
		let Some(ciphertext) = self.sealed.insert(sealed_payload) else { return };
		let key_commitment = pallet_data_market::deal_key_commitment(deal, &key);
		log::info!(target: LOG_TARGET, "📦 deal #{deal}: payload sealed to the buyer's key, served as {ciphertext:?}; delivering");
		self.outbox.send(at, Step::Deliver(deal), "deliver", WorkerAction::Deliver { deal, ciphertext, key_commitment });
	}

	/// The seller's side of a dispute opened without the key: derive the deal key again (the
	/// one-time secret is derived, not stored) and reveal it, so the voters can open the payload.
	fn reveal_key<C, P>(&mut self, at: &At<'_, C, P>, id: u64, deal: &pallet_data_market::DealOf<loopx_runtime::Runtime>)
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		let DealState::Disputed { key_commitment, .. } = deal.state else { return };
		if !self.outbox.may_send(Step::RevealKey(id), at.now) {
			return;
		}
		let ephemeral = sealed::deal_ephemeral(&self.secret, id, &deal.buyer_key, &deal.goods.commitment.content_hash.0);
		let key = match sealed::sender_key(ephemeral, &deal.buyer_key) {
			Ok(key) if pallet_data_market::deal_key_commitment(id, &key) == key_commitment => key,
			_ => {
				return log::warn!(target: LOG_TARGET, "deal #{id}: disputed, but this node did not seal it (the key it derives is not the one committed)")
			},
		};
		log::info!(target: LOG_TARGET, "🔓 deal #{id}: disputed without the key; revealing it for the voters");
		self.outbox.send(at, Step::RevealKey(id), "reveal_deal_key", WorkerAction::RevealDealKey { deal: id, key });
	}

	/// Whether a delivery of `deal` may be judged now: no confirmation or dispute of it is
	/// waiting for its retry.
	fn may_judge(&self, deal: u64, now: BlockNumber) -> bool {
		self.outbox.may_send(Step::Confirm(deal), now) && self.outbox.may_send(Step::Dispute(deal), now)
	}

	/// Judges the delivery of `deal` (its sealed payload `fetched`, when a peer served it):
	/// confirms it or disputes it.
	#[allow(clippy::too_many_arguments)]
	fn receive<C, P>(
		&mut self,
		at: &At<'_, C, P>,
		deal: u64,
		(ciphertext, key_commitment): (H256, H256),
		fetched: Option<Vec<u8>>,
		deadline: BlockNumber,
		goods: &Goods,
		learning: &mut Learning,
	) -> Option<Bought>
	where
		C: ProvideRuntimeApi<Block> + Send + Sync,
		C::Api: WorkerRuntimeApis,
		P: TransactionPool<Block = Block>,
	{
		// The key this node derives, when it is the one the seller committed to: a dispute
		// reveals it at once, and the voters judge the payload right away.
		let mut key = None;
		let verdict = match fetched {
			Some(bytes) => match sealed::recipient_key(&bytes, &self.secret) {
				Ok(k) if pallet_data_market::deal_key_commitment(deal, &k) == key_commitment => {
					key = Some(k);
					check_delivery(&bytes, &self.secret, deal, goods, |model| learning.check_model(at, model).map_err(|e| e.to_string()))
				},
				Ok(_) => Err(Rejection::KeyMismatch),
				Err(e) => Err(Rejection::DoesNotOpen(e)),
			},
			None if at.now.saturating_add(DISPUTE_MARGIN) >= deadline => Err(Rejection::NotReceived),
			None => {
				log::info!(target: LOG_TARGET, "⏳ deal #{deal}: sealed payload {ciphertext:?} not found at any peer yet");
				return None;
			},
		};
		match verdict {
			Ok((plain, bought)) => {
				// Kept as delivered, so that it is found under the offer's content hash again.
				if let Some(hash) = self.bought.insert(plain) {
					self.have.insert(hash);
				}
				let what = match &bought {
					Bought::Data(data) => format!("{} rows", data.len()),
					Bought::Model(task, _) => format!("a local model of task {task}"),
					Bought::Version(plain) => format!("a model version of {} bytes", plain.len()),
				};
				log::info!(target: LOG_TARGET, "✅ deal #{deal}: payload opened and matches the offer ({what}); confirming");
				self.outbox.send(at, Step::Confirm(deal), "confirm", WorkerAction::Confirm { deal });
				Some(bought)
			},
			Err(rejection) => {
				log::warn!(target: LOG_TARGET, "⚠️ deal #{deal}: {rejection:?}; disputing");
				let evidence = rejection.evidence(deal);
				self.outbox.send(at, Step::Dispute(deal), "dispute", WorkerAction::Dispute { deal, evidence, key });
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

	/// A buyer that knows no task.
	fn no_model(model: &TaskPayload) -> Result<(), String> {
		Err(format!("no task {}", model.task))
	}

	/// The payload of a local model of task 3, its commitment, and a check that knows task 3.
	fn local_model() -> (Prepared, impl Fn(&TaskPayload) -> Result<(), String>) {
		use crate::training::TaskModel;
		use loopx_model_spec::Precision;
		use pallet_builder_market::{HyperParams, Metric};
		let architecture = crate::training::fraud_classifier(1);
		let hyper = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 10, seed: 7 };
		let model = TaskModel::new(3, &architecture, Precision::Int8, Metric::Auc, hyper).unwrap();
		let trained = model.train(model.initial(), &training_shard(1), 1);
		let prepared = prepare_model(3, model.encode(&trained, 0, 30, 1, &[7; 12]).unwrap(), 5_000).unwrap();
		(prepared, move |payload: &TaskPayload| {
			if payload.task != 3 {
				return Err(format!("no task {}", payload.task));
			}
			model.open(payload).map(|_| ()).map_err(|e| format!("{e:?}"))
		})
	}

	#[test]
	fn a_delivery_that_matches_the_offer_gives_back_the_rows() {
		let data = training_shard(3);
		let prepared = prepare(&data).unwrap();
		assert_eq!(prepared.goods.commitment.samples, data.len() as u64);
		let sealed_payload = sealed::seal(&prepared.plain, &sealed::public_key(&buyer()), 9, [1; 32]).unwrap();
		let (plain, bought) = check_delivery(&sealed_payload, &buyer(), 9, &prepared.goods, no_model).unwrap();
		let Bought::Data(rows) = bought else { panic!("rows expected") };
		assert_eq!(plain, prepared.plain);
		assert_eq!(rows.len(), data.len());
		assert_eq!(rows.labels, data.labels);
		assert_eq!(rows.names, data.names);
	}

	#[test]
	fn voters_judge_a_disputed_delivery_with_the_revealed_key_as_the_buyer_would() {
		let prepared = prepare(&training_shard(3)).unwrap();
		let to = sealed::public_key(&buyer());
		let seller = sealed::deal_secret(&[6; 32]);
		let seal = |plain: &[u8]| {
			let ephemeral = sealed::deal_ephemeral(&seller, 9, &to, &prepared.goods.commitment.content_hash.0);
			sealed::seal_with_key(plain, &to, 9, ephemeral).unwrap()
		};
		// Good data: the voters (who hold no buyer secret) accept it with the key alone.
		let (honest, key) = seal(&prepared.plain);
		assert_eq!(dispute_verdict(Some(&honest), &key, 9, &prepared.goods, no_model), Ok(()));
		assert_eq!(sealed::recipient_key(&honest, &buyer()).unwrap(), key, "the buyer derives the committed key");
		// Garbage sealed under the committed key: rejected, for the reason the buyer saw.
		let (garbage, key) = seal(&[0xAB; 4_096]);
		assert_eq!(dispute_verdict(Some(&garbage), &key, 9, &prepared.goods, no_model), Err(Rejection::NotWhatWasOffered));
		// A ciphertext nobody serves, or one the committed key does not open: rejected.
		assert_eq!(dispute_verdict(None, &key, 9, &prepared.goods, no_model), Err(Rejection::NotReceived));
		assert!(matches!(dispute_verdict(Some(&honest), &[1; 32], 9, &prepared.goods, no_model), Err(Rejection::DoesNotOpen(_))));
		// The right rows with an inflated row count on the offer: rejected.
		let mut inflated = prepared.goods;
		inflated.commitment.samples += 1;
		let (honest, key) = seal(&prepared.plain);
		assert_eq!(dispute_verdict(Some(&honest), &key, 9, &inflated, no_model), Err(Rejection::WrongShape));
	}

	#[test]
	fn deliveries_that_differ_from_the_offer_are_rejected_with_a_reason() {
		let prepared = prepare(&training_shard(3)).unwrap();
		let to = sealed::public_key(&buyer());
		// Other data than offered.
		let other = prepare(&training_shard(4)).unwrap();
		let swapped = sealed::seal(&other.plain, &to, 9, [1; 32]).unwrap();
		assert_eq!(check_delivery(&swapped, &buyer(), 9, &prepared.goods, no_model).map(|_| ()), Err(Rejection::NotWhatWasOffered));
		// Sealed for another deal or another key.
		let replayed = sealed::seal(&prepared.plain, &to, 8, [1; 32]).unwrap();
		assert!(matches!(check_delivery(&replayed, &buyer(), 9, &prepared.goods, no_model), Err(Rejection::DoesNotOpen(_))));
		// What was offered is not a table: the commitment matches but the content is useless.
		let junk = b"not,a table\n\"unbalanced".to_vec();
		let mut goods = prepared.goods;
		goods.commitment.content_hash = payload_hash(&junk);
		goods.commitment.size = junk.len() as u64;
		let sealed_junk = sealed::seal(&junk, &to, 9, [1; 32]).unwrap();
		assert!(matches!(check_delivery(&sealed_junk, &buyer(), 9, &goods, no_model), Err(Rejection::Unreadable(_))));
		// The right bytes, but the offer claimed more rows than they hold.
		let mut inflated = prepared.goods;
		inflated.commitment.samples += 1;
		let honest = sealed::seal(&prepared.plain, &to, 9, [1; 32]).unwrap();
		assert_eq!(check_delivery(&honest, &buyer(), 9, &inflated, no_model).map(|_| ()), Err(Rejection::WrongShape));
		// Evidence differs by reason and by deal.
		assert_ne!(Rejection::NotReceived.evidence(1), Rejection::WrongShape.evidence(1));
		assert_ne!(Rejection::NotReceived.evidence(1), Rejection::NotReceived.evidence(2));
	}

	#[test]
	fn a_local_model_is_confirmed_only_as_a_model_of_the_task_offered() {
		let (prepared, task_3) = local_model();
		assert_eq!(prepared.goods.kind, GoodsKind::LocalModel);
		assert_eq!(prepared.goods.commitment.schema, model_schema(3));
		assert!(prepare_model(4, prepared.plain.clone(), 1).is_none(), "a payload of task 3 offered as task 4's");
		let to = sealed::public_key(&buyer());
		let sealed_model = sealed::seal(&prepared.plain, &to, 9, [1; 32]).unwrap();
		let (plain, bought) = check_delivery(&sealed_model, &buyer(), 9, &prepared.goods, &task_3).unwrap();
		assert_eq!(plain, prepared.plain);
		assert!(matches!(bought, Bought::Model(3, ref p) if *p == prepared.plain));
		// The buyer cannot use it (its learning worker does not know the task): disputed.
		assert!(matches!(check_delivery(&sealed_model, &buyer(), 9, &prepared.goods, no_model), Err(Rejection::Unreadable(_))));
		// Offered under another task's schema.
		let mut other_schema = prepared.goods;
		other_schema.commitment.schema = model_schema(4);
		assert_eq!(check_delivery(&sealed_model, &buyer(), 9, &other_schema, &task_3).map(|_| ()), Err(Rejection::WrongShape));
		// A data set delivered where a model was offered.
		let rows = prepare(&training_shard(3)).unwrap();
		let mut as_model = rows.goods;
		as_model.kind = GoodsKind::LocalModel;
		let sealed_rows = sealed::seal(&rows.plain, &to, 9, [1; 32]).unwrap();
		assert!(matches!(check_delivery(&sealed_rows, &buyer(), 9, &as_model, &task_3), Err(Rejection::Unreadable(_))));
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
		let (model, _) = local_model();
		PayloadStore::open(&dir).unwrap().insert(prepared.plain.clone()).unwrap();
		PayloadStore::open(&dir).unwrap().insert(model.plain.clone()).unwrap();
		let (worker, loaded) =
			DealWorker::new(&[1; 32], None, Some(BuyPlan::default()), PayloadStore::default(), PayloadStore::open(&dir).unwrap(), None);
		assert_eq!(loaded.len(), 2);
		let rows: Vec<usize> = loaded.iter().filter_map(|b| if let Bought::Data(d) = b { Some(d.len()) } else { None }).collect();
		assert_eq!(rows, vec![data.len()]);
		assert!(loaded.iter().any(|b| matches!(b, Bought::Model(3, p) if *p == model.plain)));
		assert!(worker.have.contains(&prepared.goods.commitment.content_hash), "not bought twice");
		assert!(worker.have.contains(&model.goods.commitment.content_hash), "not bought twice");
		std::fs::remove_dir_all(&dir).unwrap();
	}

	fn offer(id: u64, owner: u8, price: Balance, kind: GoodsKind, schema: H256) -> OrderView<AccountId, Balance, BlockNumber> {
		let commitment = pallet_data_market::Commitment { content_hash: H256::repeat_byte(id as u8), size: 100, samples: 10, schema };
		OrderView { id, owner: AccountId::from([owner; 32]), price, remaining: 1, expires: 100, goods: Some(Goods { kind, commitment }) }
	}

	/// A data set this node cannot train on is not bought, however cheap and first in the book:
	/// it would be paid for, match its offer (so no dispute refunds it) and be dropped.
	#[test]
	fn a_validator_buys_only_data_it_can_train_on() {
		let me = AccountId::from([1; 32]);
		let wallet = training_schema();
		assert_eq!(wallet, schema_hash(&training_shard(3)), "the schema of the data the node trains on");
		let other = schema_of_features(["pixels"]);
		let offers = vec![
			offer(1, 2, 1, GoodsKind::RawData, other),
			offer(2, 1, 2, GoodsKind::RawData, wallet),
			offer(3, 3, 3, GoodsKind::RawData, wallet),
			offer(4, 4, 4, GoodsKind::RawData, wallet),
		];
		let usable = |s: &H256| *s == wallet;
		let none = BTreeSet::new();
		// Not the other schema (first), not its own (second): the third.
		assert_eq!(offer_to_buy(&offers, &me, 10, GoodsKind::RawData, &none, usable).map(|o| o.id), Some(3));
		// Above its price, or already bought: the next one, or none.
		assert_eq!(offer_to_buy(&offers, &me, 2, GoodsKind::RawData, &none, usable).map(|o| o.id), None);
		let have = BTreeSet::from([H256::repeat_byte(3)]);
		assert_eq!(offer_to_buy(&offers, &me, 10, GoodsKind::RawData, &have, usable).map(|o| o.id), Some(4));
		assert_eq!(offer_to_buy(&offers, &me, 10, GoodsKind::LocalModel, &none, |_| true).map(|o| o.id), None, "no model offers");
		// Local models: only of the tasks it works on.
		let models = vec![offer(5, 2, 1, GoodsKind::LocalModel, model_schema(9)), offer(6, 3, 1, GoodsKind::LocalModel, model_schema(7))];
		let worked_on = [model_schema(7)];
		assert_eq!(offer_to_buy(&models, &me, 10, GoodsKind::LocalModel, &none, |s| worked_on.contains(s)).map(|o| o.id), Some(6));
	}
}
