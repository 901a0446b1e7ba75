//! Model announcements: a gossip protocol of the node's own (`/<genesis hash>/loopx/announce/1`,
//! an sc-network notification protocol driven by `sc-network-gossip`) on which a worker tells
//! its peers "I hold the model payload of this hash" as soon as it holds one: trained for its
//! own claim, fetched from a peer, or reloaded from disk after a restart. Fetching a model asks
//! the peers that announced it first ([`Holders`]), so a new version spreads hop by hop from its
//! trainer to the voters and trainers that need it, without asking every peer in turn.
//!
//! An announcement is 33 bytes ([`Announcement`], at most [`MAX_ANNOUNCEMENT_BYTES`], enforced
//! by sc-network). One that does not decode costs its sender [`malformed`] reputation (a few get
//! it banned) and is dropped. Announcements go to each peer once: to the connected peers when
//! made, to a peer that connects later at the next rebroadcast; a worker keeps announcing only
//! its last [`MAX_OWN_ANNOUNCEMENTS`] payloads.

use std::{
	collections::{HashMap, VecDeque},
	sync::{Arc, Mutex, MutexGuard},
};

use codec::{Decode, DecodeAll, Encode};
use futures::FutureExt;
use loopx_runtime::opaque::Block;
use sc_network::{
	config::{NonReservedPeerMode, SetConfig},
	peer_store::PeerStoreProvider,
	service::{traits::NetworkService, NotificationMetrics},
	NetworkBackend, NotificationService, PeerId, ProtocolName, ReputationChange,
};
use sc_network_gossip::{GossipEngine, MessageIntent, ValidationResult, Validator, ValidatorContext};
use sc_network_sync::SyncingService;
use sp_core::{hexdisplay::HexDisplay, H256};

use crate::{Metrics, LOG_TARGET};

/// Largest announcement: a SCALE [`Announcement`] is 33 bytes.
pub const MAX_ANNOUNCEMENT_BYTES: u64 = 64;
/// Payloads a worker keeps announcing (older ones are no longer sent to new peers).
pub const MAX_OWN_ANNOUNCEMENTS: usize = 64;
/// Hashes whose holders a worker remembers (the oldest is forgotten first).
pub const MAX_REMEMBERED_HASHES: usize = 1024;
/// Holders remembered for one hash.
pub const MAX_HOLDERS_PER_HASH: usize = 16;

/// What a malformed announcement costs its sender (as a malformed payload-protocol message).
pub fn malformed() -> ReputationChange {
	ReputationChange::new(-(1 << 28), "LoopX announce: malformed message")
}

/// A message of the announcement protocol.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announcement {
	/// The sender holds the model payload hashing (blake2-256) to this and serves it on the
	/// models protocol.
	#[codec(index = 0)]
	Have(H256),
}

/// The name of the protocol on the chain of `genesis`.
pub fn protocol_name(genesis: &H256) -> ProtocolName {
	format!("/{}/loopx/announce/1", HexDisplay::from(&genesis.as_bytes())).into()
}

/// The one gossip topic of the protocol.
fn topic() -> H256 {
	H256(sp_crypto_hashing::blake2_256(b"loopx/announce/models"))
}

/// The protocol's sc-network configuration and its notification service: add the first to
/// the network configuration before the network is built, give the second to [`Announcer::new`].
/// Like GRANDPA's, the protocol opens no connections of its own: it speaks with the peers the
/// node syncs with (the gossip engine adds them to the protocol's reserved set).
pub fn config<N: NetworkBackend<Block, H256>>(
	genesis: &H256,
	metrics: NotificationMetrics,
	peer_store: Arc<dyn PeerStoreProvider>,
) -> (N::NotificationProtocolConfig, Box<dyn NotificationService>) {
	N::notification_config(
		protocol_name(genesis),
		Vec::new(),
		MAX_ANNOUNCEMENT_BYTES,
		None,
		SetConfig { in_peers: 0, out_peers: 0, reserved_nodes: Vec::new(), non_reserved_mode: NonReservedPeerMode::Deny },
		metrics,
		peer_store,
	)
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
	// A panic elsewhere while holding the lock leaves plain data behind: keep using it.
	m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Which peers announced which payloads, bounded on both axes.
#[derive(Clone, Default)]
pub struct Holders(Arc<Mutex<HoldersInner>>);

#[derive(Default)]
struct HoldersInner {
	by_hash: HashMap<H256, Vec<PeerId>>,
	order: VecDeque<H256>,
}

impl Holders {
	/// Notes that `peer` holds `hash`.
	pub fn record(&self, hash: H256, peer: PeerId) {
		let mut inner = locked(&self.0);
		if !inner.by_hash.contains_key(&hash) {
			if inner.order.len() >= MAX_REMEMBERED_HASHES {
				if let Some(oldest) = inner.order.pop_front() {
					inner.by_hash.remove(&oldest);
				}
			}
			inner.order.push_back(hash);
		}
		let peers = inner.by_hash.entry(hash).or_default();
		if !peers.contains(&peer) && peers.len() < MAX_HOLDERS_PER_HASH {
			peers.push(peer);
		}
	}

	/// The peers that announced `hash`, first announced first.
	pub fn of(&self, hash: &H256) -> Vec<PeerId> {
		locked(&self.0).by_hash.get(hash).cloned().unwrap_or_default()
	}
}

/// Checks incoming announcements, records their holders, and says which of ours to keep sending.
struct AnnounceValidator {
	holders: Holders,
	own: Mutex<VecDeque<H256>>,
	network: Arc<dyn NetworkService>,
	metrics: Metrics,
}

impl AnnounceValidator {
	/// What to do with the bytes `data` from `sender`: the hash it announces, or the
	/// reputation it loses.
	fn read(data: &[u8]) -> Result<H256, ReputationChange> {
		let Announcement::Have(hash) = Announcement::decode_all(&mut &data[..]).map_err(|_| malformed())?;
		Ok(hash)
	}
}

impl Validator<Block> for AnnounceValidator {
	fn validate(&self, _context: &mut dyn ValidatorContext<Block>, sender: &PeerId, data: &[u8]) -> ValidationResult<H256> {
		match Self::read(data) {
			Ok(hash) => {
				self.metrics.announcement("received");
				self.holders.record(hash, *sender);
				log::debug!(target: LOG_TARGET, "📣 {sender} holds model {hash:?}");
				// Processed here, not relayed: a relayer would not hold the model.
				ValidationResult::ProcessAndDiscard(topic())
			},
			Err(cost) => {
				self.metrics.malformed_message();
				log::info!(target: LOG_TARGET, "🚫 malformed announcement from {sender}: peer reputation lowered");
				self.network.report_peer(*sender, cost);
				ValidationResult::Discard
			},
		}
	}

	fn message_expired<'a>(&'a self) -> Box<dyn FnMut(H256, &[u8]) -> bool + 'a> {
		let own = locked(&self.own).clone();
		Box::new(move |_topic, data| Self::read(data).map_or(true, |hash| !own.contains(&hash)))
	}

	fn message_allowed<'a>(&'a self) -> Box<dyn FnMut(&PeerId, MessageIntent, &H256, &[u8]) -> bool + 'a> {
		// Each peer hears an announcement once (the engine's rebroadcast would repeat it).
		Box::new(move |_who, intent, _topic, _data| intent != MessageIntent::PeriodicRebroadcast)
	}
}

/// Announces this node's model payloads to its peers and remembers who announced what.
#[derive(Clone)]
pub struct Announcer {
	engine: Arc<Mutex<GossipEngine<Block>>>,
	validator: Arc<AnnounceValidator>,
}

impl Announcer {
	/// An announcer on the node's network; the future drives the protocol and must be spawned.
	pub fn new(
		network: Arc<dyn NetworkService>,
		sync: Arc<SyncingService<Block>>,
		service: Box<dyn NotificationService>,
		genesis: &H256,
		metrics: Metrics,
	) -> (Self, impl std::future::Future<Output = ()> + Send) {
		let validator =
			Arc::new(AnnounceValidator { holders: Holders::default(), own: Mutex::new(VecDeque::new()), network: network.clone(), metrics });
		let engine = GossipEngine::new(network, sync, service, protocol_name(genesis), validator.clone(), None);
		let engine = Arc::new(Mutex::new(engine));
		let driven = engine.clone();
		let run = futures::future::poll_fn(move |cx| locked(&driven).poll_unpin(cx));
		(Self { engine, validator }, run)
	}

	/// Tells the peers this node holds `hash` (and tells peers that connect later, as long as
	/// it is among the last [`MAX_OWN_ANNOUNCEMENTS`]).
	pub fn announce(&self, hash: H256) {
		{
			let mut own = locked(&self.validator.own);
			if own.contains(&hash) {
				return;
			}
			if own.len() >= MAX_OWN_ANNOUNCEMENTS {
				own.pop_front();
			}
			own.push_back(hash);
		}
		locked(&self.engine).gossip_message(topic(), Announcement::Have(hash).encode(), false);
		self.validator.metrics.announcement("sent");
		log::debug!(target: LOG_TARGET, "📣 announced model {hash:?} to the peers");
	}

	/// Who announced what.
	pub fn holders(&self) -> &Holders {
		&self.validator.holders
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn announcements_decode_only_when_well_formed() {
		let hash = H256::repeat_byte(3);
		let bytes = Announcement::Have(hash).encode();
		assert!(bytes.len() as u64 <= MAX_ANNOUNCEMENT_BYTES);
		assert_eq!(AnnounceValidator::read(&bytes), Ok(hash));
		let mut trailing = bytes.clone();
		trailing.push(0);
		let mut unknown = bytes.clone();
		unknown[0] = 9;
		for garbage in [&[][..], &bytes[..10], &trailing, &unknown, &[0xff; 40]] {
			assert_eq!(AnnounceValidator::read(garbage), Err(malformed()), "{garbage:?}");
		}
	}

	#[test]
	fn holders_are_bounded_and_keep_the_first_announcers() {
		let holders = Holders::default();
		let peers: Vec<PeerId> = (0..MAX_HOLDERS_PER_HASH + 3).map(|_| PeerId::random()).collect();
		let hash = H256::repeat_byte(1);
		for peer in &peers {
			holders.record(hash, *peer);
			holders.record(hash, *peer);
		}
		assert_eq!(holders.of(&hash), peers[..MAX_HOLDERS_PER_HASH].to_vec());
		for i in 0..MAX_REMEMBERED_HASHES as u64 {
			holders.record(H256::from_low_u64_be(i + 1000), peers[0]);
		}
		assert!(holders.of(&hash).is_empty(), "the oldest hash is forgotten first");
		assert_eq!(holders.of(&H256::from_low_u64_be(1000 + MAX_REMEMBERED_HASHES as u64 - 1)), vec![peers[0]]);
		assert!(holders.of(&H256::repeat_byte(9)).is_empty());
	}
}
