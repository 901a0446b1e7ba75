//! A block's extrinsics and events turned into the rows of the chain tables, decoded with the
//! runtime's own metadata (read from the block's state), so the tables follow the runtime
//! through upgrades with no type table kept by hand.
//!
//! Everything here is a function of the block's bytes and the metadata: every node writes the
//! same rows for the same block.

use codec::Decode;
use frame_metadata::{
	v15::{RuntimeMetadataV15, StorageEntryType},
	RuntimeMetadata, RuntimeMetadataPrefixed,
};
use loopx_query_engine::chain::{BlockRows, EventRow, ExtrinsicRow, MarketEventRow, TransferRow};
use sp_core::crypto::{AccountId32, Ss58Codec};

use super::node::{Fields, Node};

/// The metadata version read from the runtime.
pub const METADATA_VERSION: u32 = 15;

/// The pallets whose events also go to `market_events`.
pub const MARKET_PALLETS: [&str; 6] = ["DataMarket", "ComputeMarket", "BuilderMarket", "WeightedVoting", "Rewards", "StakeReputation"];

/// The fields that fill `market_events.account`, the first present.
const ACCOUNT_FIELDS: [&str; 9] = ["who", "client", "buyer", "trainer", "claimant", "voter", "builder", "delegator", "by"];
/// The fields that fill `market_events.counterparty`, the first present.
const COUNTERPARTY_FIELDS: [&str; 4] = ["seller", "provider", "validator", "router"];
/// The fields that fill `market_events.amount`, the first present.
const AMOUNT_FIELDS: [&str; 8] = ["amount", "fee", "to_seller", "paid", "bounty", "refunded", "released", "own"];
/// The fields that fill `market_events.outcome`, the first present.
const OUTCOME_FIELDS: [&str; 6] = ["outcome", "decision", "verdict", "accepted", "reason", "rating"];

/// What a block's header and state say besides its body and events.
#[derive(Clone, Debug)]
pub struct BlockHead {
	/// The number.
	pub number: u64,
	/// `0x` hex of the hash.
	pub hash: String,
	/// `0x` hex of the parent's hash.
	pub parent_hash: String,
	/// The author's account, if known.
	pub author: Option<AccountId32>,
	/// `Timestamp::Now` in the block's state.
	pub timestamp_ms: Option<u64>,
}

/// Decodes blocks of one runtime version.
pub struct Decoder {
	metadata: RuntimeMetadataV15,
	/// The type of `System::Events`.
	events_ty: u32,
}

impl Decoder {
	/// A decoder from the runtime's metadata (SCALE of [`RuntimeMetadataPrefixed`], version
	/// [`METADATA_VERSION`]).
	pub fn new(mut bytes: &[u8]) -> Result<Self, String> {
		let prefixed = RuntimeMetadataPrefixed::decode(&mut bytes).map_err(|e| format!("metadata does not decode: {e}"))?;
		let RuntimeMetadata::V15(metadata) = prefixed.1 else { return Err("metadata is not version 15".into()) };
		let events_ty = metadata
			.pallets
			.iter()
			.find(|p| p.name == "System")
			.and_then(|p| p.storage.as_ref())
			.and_then(|s| s.entries.iter().find(|e| e.name == "Events"))
			.and_then(|e| match &e.ty {
				StorageEntryType::Plain(ty) => Some(ty.id),
				StorageEntryType::Map { .. } => None,
			})
			.ok_or("the metadata has no System::Events")?;
		Ok(Self { metadata, events_ty })
	}

	/// The rows of a block: `head`, its extrinsics (each SCALE-encoded with its length prefix,
	/// as in the block body) and its `System::Events` value (`None`: no events).
	pub fn rows(&self, head: BlockHead, extrinsics: &[Vec<u8>], events: Option<&[u8]>) -> Result<BlockRows, String> {
		let events = match events {
			Some(mut bytes) => self.events(&mut bytes)?,
			None => Vec::new(),
		};
		let mut extrinsic_rows: Vec<ExtrinsicRow> = extrinsics
			.iter()
			.enumerate()
			.map(|(idx, bytes)| {
				let (pallet, call) = match frame_decode::extrinsics::decode_extrinsic(&mut &bytes[..], &self.metadata, &self.metadata.types) {
					Ok(x) => (x.pallet_name().to_string(), x.call_name().to_string()),
					// Kept with empty names: the same bytes fail the same way on every node.
					Err(_) => (String::new(), String::new()),
				};
				ExtrinsicRow { idx: idx as u32, pallet, call, signer: None, success: false, fee: None }
			})
			.collect();
		let mut event_rows = Vec::with_capacity(events.len());
		let mut transfers = Vec::new();
		let mut market_events = Vec::new();
		for (idx, event) in events.into_iter().enumerate() {
			let idx = idx as u32;
			let row = self.event_row(idx, &event);
			if MARKET_PALLETS.contains(&row.pallet.as_str()) {
				market_events.push(self.market_event_row(idx, &event));
			}
			if let Some(x) = event.extrinsic.and_then(|i| extrinsic_rows.get_mut(i as usize)) {
				match (row.pallet.as_str(), row.name.as_str()) {
					("System", "ExtrinsicSuccess") => x.success = true,
					("TransactionPayment", "TransactionFeePaid") => {
						x.signer = event.fields.get("who").and_then(Node::account).map(ss58);
						x.fee = event.fields.get("actual_fee").and_then(Node::number);
					},
					_ => {},
				}
			}
			if (row.pallet.as_str(), row.name.as_str()) == ("Balances", "Transfer") {
				let account = |name| event.fields.get(name).and_then(Node::account).map(ss58);
				if let (Some(sender), Some(receiver), Some(amount)) =
					(account("from"), account("to"), event.fields.get("amount").and_then(Node::number))
				{
					transfers.push(TransferRow { idx, sender, receiver, amount });
				}
			}
			event_rows.push(row);
		}
		Ok(BlockRows {
			number: head.number,
			hash: head.hash,
			parent_hash: head.parent_hash,
			author: head.author.map(|a| a.to_ss58check()),
			timestamp_ms: head.timestamp_ms,
			extrinsics: extrinsic_rows,
			events: event_rows,
			transfers,
			scores: Vec::new(),
			market_events,
		})
	}

	/// A market event's fields picked by name into `market_events`' columns.
	fn market_event_row(&self, idx: u32, event: &DecodedEvent) -> MarketEventRow {
		let id = |name| event.fields.get(name).and_then(Node::number).and_then(|n| u64::try_from(n).ok());
		let first_account = |names: &[&str]| names.iter().find_map(|name| event.fields.get(name).and_then(Node::account)).map(ss58);
		let outcome = OUTCOME_FIELDS.iter().find_map(|name| event.fields.get(name)).map(|v| {
			let mut json = String::new();
			v.json(&ss58, &mut json);
			// A plain name (`"Accepted"`) without its quotes, for `WHERE outcome = 'Accepted'`.
			match json.strip_prefix('"').and_then(|j| j.strip_suffix('"')) {
				Some(name) if !name.contains('"') && !name.contains('\\') => name.to_string(),
				_ => json,
			}
		});
		MarketEventRow {
			idx,
			pallet: event.pallet.to_string(),
			name: event.name.to_string(),
			deal: id("deal"),
			query: id("query"),
			claim: id("claim"),
			task: id("task"),
			version: id("version"),
			round: id("round"),
			era: id("era"),
			account: first_account(&ACCOUNT_FIELDS),
			counterparty: first_account(&COUNTERPARTY_FIELDS),
			amount: AMOUNT_FIELDS.iter().find_map(|name| event.fields.get(name).and_then(Node::number)),
			outcome,
		}
	}

	fn events(&self, bytes: &mut &[u8]) -> Result<Vec<DecodedEvent<'_>>, String> {
		let value = Node::decode(bytes, self.events_ty, &self.metadata.types).map_err(|e| format!("events do not decode: {e}"))?;
		let Node::Composite(Fields::Unnamed(records)) = value else { return Err("events are not a sequence".into()) };
		records
			.into_iter()
			.map(|record| {
				let Node::Composite(record) = record else { return Err("an event record that is not a struct".to_string()) };
				let extrinsic = match record.get("phase") {
					Some(Node::Variant("ApplyExtrinsic", index)) => index.first().and_then(Node::number).map(|i| i as u32),
					Some(_) => None,
					None => return Err("an event record without a phase".into()),
				};
				// `event` is the runtime's enum of pallets, each holding the pallet's enum.
				let Some(Node::Variant(pallet, fields)) = record.take("event") else {
					return Err("an event record without an event, or one that is not a variant".to_string());
				};
				let Some(Node::Variant(name, fields)) = fields.into_first() else {
					return Err(format!("an event of {pallet} that is not a variant"));
				};
				Ok(DecodedEvent { extrinsic, pallet, name, fields })
			})
			.collect()
	}

	fn event_row(&self, idx: u32, event: &DecodedEvent) -> EventRow {
		let mut data_json = String::new();
		event.fields.json(&ss58, &mut data_json);
		EventRow { idx, extrinsic: event.extrinsic, pallet: event.pallet.to_string(), name: event.name.to_string(), data_json }
	}
}

/// An event as decoded, its names borrowed from the metadata.
struct DecodedEvent<'r> {
	extrinsic: Option<u32>,
	pallet: &'r str,
	name: &'r str,
	fields: Fields<'r>,
}

/// Accounts encoded to SS58 per decoding thread, at most (the cache is emptied beyond).
const SS58_CACHE: usize = 1 << 16;

thread_local! {
	/// SS58 of accounts seen on this thread: base-58 encoding is the largest single cost of
	/// decoding a block of transfers (each names its accounts in ~5 events), and accounts repeat.
	static SS58: std::cell::RefCell<std::collections::HashMap<AccountId32, String>> = Default::default();
}

/// `account` in SS58 (the same string as `to_ss58check`).
fn ss58(account: &AccountId32) -> String {
	SS58.with(|cache| {
		let mut cache = cache.borrow_mut();
		if let Some(s) = cache.get(account) {
			return s.clone();
		}
		if cache.len() >= SS58_CACHE {
			cache.clear();
		}
		let s = account.to_ss58check();
		cache.insert(account.clone(), s.clone());
		s
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;
	use frame_system::{EventRecord, Phase};
	use loopx_runtime::{Runtime, RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
	use sp_keyring::Sr25519Keyring;

	fn decoder() -> Decoder {
		let metadata = Runtime::metadata_at_version(METADATA_VERSION).expect("the runtime has metadata v15");
		Decoder::new(&metadata).unwrap()
	}

	fn head(number: u64) -> BlockHead {
		BlockHead { number, hash: format!("0x{number:064x}"), parent_hash: "0x00".into(), author: None, timestamp_ms: Some(6_000) }
	}

	#[test]
	fn a_block_becomes_its_rows() {
		let (alice, bob) = (Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id());
		let timestamp = UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set { now: 6_000 })).encode();
		let transfer = UncheckedExtrinsic::new_bare(RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: bob.clone().into(),
			value: 5_000_000_000_000,
		}))
		.encode();
		let record = |phase, event| EventRecord::<RuntimeEvent, sp_core::H256> { phase, event, topics: vec![] };
		let events = vec![
			record(Phase::ApplyExtrinsic(0), RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { dispatch_info: Default::default() })),
			record(
				Phase::ApplyExtrinsic(1),
				RuntimeEvent::Balances(pallet_balances::Event::Transfer { from: alice.clone(), to: bob.clone(), amount: 5_000_000_000_000 }),
			),
			record(
				Phase::ApplyExtrinsic(1),
				RuntimeEvent::TransactionPayment(pallet_transaction_payment::Event::TransactionFeePaid {
					who: alice.clone(),
					actual_fee: 1_234,
					tip: 0,
				}),
			),
			record(Phase::ApplyExtrinsic(1), RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { dispatch_info: Default::default() })),
			record(Phase::Finalization, RuntimeEvent::Balances(pallet_balances::Event::Deposit { who: bob.clone(), amount: u128::MAX })),
			record(
				Phase::Finalization,
				RuntimeEvent::DataMarket(pallet_data_market::Event::DealSettled {
					deal: 42,
					seller: bob.clone(),
					to_seller: 980,
					router_fee: 0,
					protocol_fee: 20,
				}),
			),
			record(
				Phase::Finalization,
				RuntimeEvent::BuilderMarket(pallet_builder_market::Event::UpdateDecided {
					task: 3,
					claim: 17,
					outcome: loopx_primitives::Outcome::Accepted,
					verified: Some(955_000),
				}),
			),
		];
		let rows = decoder().rows(head(7), &[timestamp, transfer], Some(&events.encode())).unwrap();
		assert_eq!(rows.number, 7);
		let calls: Vec<_> = rows.extrinsics.iter().map(|x| (x.pallet.as_str(), x.call.as_str(), x.success, x.signer.clone(), x.fee)).collect();
		assert_eq!(
			calls,
			vec![("Timestamp", "set", true, None, None), ("Balances", "transfer_keep_alive", true, Some(alice.to_ss58check()), Some(1_234))]
		);
		assert_eq!(
			rows.transfers,
			vec![TransferRow { idx: 1, sender: alice.to_ss58check(), receiver: bob.to_ss58check(), amount: 5_000_000_000_000 }]
		);
		let names: Vec<_> = rows.events.iter().map(|e| (e.extrinsic, e.pallet.as_str(), e.name.as_str())).collect();
		assert_eq!(names[1], (Some(1), "Balances", "Transfer"));
		assert_eq!(names[4], (None, "Balances", "Deposit"));
		assert_eq!(
			rows.events[1].data_json,
			format!(r#"{{"from":"{}","to":"{}","amount":5000000000000}}"#, alice.to_ss58check(), bob.to_ss58check())
		);
		// Beyond 64 bits, amounts are decimal strings.
		assert_eq!(rows.events[4].data_json, format!(r#"{{"who":"{}","amount":"{}"}}"#, bob.to_ss58check(), u128::MAX));
		assert!(rows.events[0].data_json.starts_with(r#"{"dispatch_info":{"#), "{}", rows.events[0].data_json);
		// The markets' events, their ids, parties, amounts and outcomes in columns.
		assert_eq!(
			rows.market_events,
			vec![
				MarketEventRow {
					idx: 5,
					pallet: "DataMarket".into(),
					name: "DealSettled".into(),
					deal: Some(42),
					counterparty: Some(bob.to_ss58check()),
					amount: Some(980),
					..Default::default()
				},
				MarketEventRow {
					idx: 6,
					pallet: "BuilderMarket".into(),
					name: "UpdateDecided".into(),
					task: Some(3),
					claim: Some(17),
					outcome: Some("Accepted".into()),
					..Default::default()
				},
			]
		);
	}

	#[test]
	fn bytes_that_do_not_decode_are_an_error_or_an_unnamed_call() {
		let d = decoder();
		assert!(d.rows(head(1), &[], Some(&[9, 9, 9][..])).is_err());
		let rows = d.rows(head(1), &[vec![8, 1, 2]], None).unwrap();
		assert_eq!((rows.extrinsics[0].pallet.as_str(), rows.extrinsics[0].call.as_str()), ("", ""));
		assert!(Decoder::new(&[1, 2, 3]).is_err());
	}
}
