//! The node's payload protocols: sc-network request–response protocols over the node's own
//! peers, identities and transport, one per kind of payload ([`Payloads`]):
//! - `/<genesis hash>/loopx/models/1`: compressed models (`ml-kernels` wire messages), asked for
//!   by the hash a model-update claim put on chain;
//! - `/<genesis hash>/loopx/deals/1`: sealed data-market payloads ([`crate::sealed`]), asked
//!   for by the ciphertext hash of a delivery. Only the buyer can open one.
//!
//! Both are content-addressed: the answer is the payload or "not found", and a payload counts
//! only if it hashes to what was asked. Both directions are bounded ([`MAX_REQUEST_BYTES`],
//! [`MAX_RESPONSE_BYTES`], enforced by sc-network before our code sees a byte) and validated: a
//! request that does not decode, or a response that does not decode or does not hash to what
//! was asked, costs the peer [`Payloads::malformed`] reputation; a few of them get it banned
//! and disconnected by the peer store.

use std::{
	collections::{BTreeMap, BTreeSet},
	sync::{Arc, Mutex},
	time::Duration,
};

use codec::{Decode, DecodeAll, Encode};
use futures::{future::BoxFuture, FutureExt};
use loopx_runtime::opaque::Block;
use sc_network::{
	request_responses::{IncomingRequest, OutgoingResponse},
	service::traits::NetworkService,
	IfDisconnected, NetworkBackend, PeerId, ProtocolName, ReputationChange,
};
use sc_network_sync::SyncingService;
use sp_core::{hexdisplay::HexDisplay, traits::SpawnNamed, H256};

use crate::{
	announce::Announcer,
	payload_store::{payload_hash, PayloadStore, MAX_PAYLOAD_BYTES},
	Metrics, LOG_TARGET,
};

/// Largest request: a SCALE [`PayloadRequest`] is 33 bytes.
pub const MAX_REQUEST_BYTES: u64 = 64;
/// Largest response: a payload of [`MAX_PAYLOAD_BYTES`] with its SCALE framing.
pub const MAX_RESPONSE_BYTES: u64 = MAX_PAYLOAD_BYTES as u64 + 16;
/// How long a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests queued for the server before sc-network refuses more.
const INBOUND_QUEUE: usize = 32;

/// What a malformed message costs its sender: the peer store bans below 71 % of `i32::MIN`,
/// so six of these in a row (faster than reputation decays) disconnect the peer.
const MALFORMED_COST: i32 = -(1 << 28);

/// The kinds of payload, each with a protocol of its own (so that neither can crowd out the
/// other's request queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payloads {
	/// Compressed models.
	Models,
	/// Sealed data-market payloads.
	Deals,
}

impl Payloads {
	fn name(self) -> &'static str {
		match self {
			Self::Models => "models",
			Self::Deals => "deals",
		}
	}

	/// What a malformed message of this protocol costs its sender.
	pub fn malformed(self) -> ReputationChange {
		match self {
			Self::Models => ReputationChange::new(MALFORMED_COST, "LoopX models: malformed message"),
			Self::Deals => ReputationChange::new(MALFORMED_COST, "LoopX deals: malformed message"),
		}
	}
}

/// A request of the model protocol.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum PayloadRequest {
	/// The payload hashing (blake2-256) to this.
	#[codec(index = 0)]
	Fetch(H256),
}

/// A response of the model protocol.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum PayloadResponse {
	/// The payload.
	#[codec(index = 0)]
	Found(Vec<u8>),
	/// Not held here.
	#[codec(index = 1)]
	NotFound,
}

/// The name of the protocol for `kind` on the chain of `genesis`.
pub fn protocol_name(genesis: &H256, kind: Payloads) -> ProtocolName {
	format!("/{}/loopx/{}/1", HexDisplay::from(&genesis.as_bytes()), kind.name()).into()
}

/// The protocol's sc-network configuration and the queue its requests arrive on: add the first
/// to the network configuration before the network is built, give the second to [`serve`].
pub fn config<N: NetworkBackend<Block, H256>>(
	genesis: &H256,
	kind: Payloads,
) -> (N::RequestResponseProtocolConfig, async_channel::Receiver<IncomingRequest>) {
	let (tx, rx) = async_channel::bounded(INBOUND_QUEUE);
	let config =
		N::request_response_config(protocol_name(genesis, kind), Vec::new(), MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, REQUEST_TIMEOUT, Some(tx));
	(config, rx)
}

/// The response to the request bytes `payload`, or what the sender's reputation loses.
pub fn respond(store: &PayloadStore, payload: &[u8], kind: Payloads) -> Result<Vec<u8>, ReputationChange> {
	let PayloadRequest::Fetch(hash) = PayloadRequest::decode_all(&mut &payload[..]).map_err(|_| kind.malformed())?;
	Ok(match store.serve(&hash) {
		Some(bytes) => PayloadResponse::Found(bytes.to_vec()).encode(),
		None => PayloadResponse::NotFound.encode(),
	})
}

/// Reads the response to a fetch of `hash`: the payload, `None` if the peer does not hold it,
/// or what the peer's reputation loses for a malformed or mismatched response.
pub fn read_response(hash: &H256, bytes: &[u8], kind: Payloads) -> Result<Option<Vec<u8>>, ReputationChange> {
	match PayloadResponse::decode_all(&mut &bytes[..]).map_err(|_| kind.malformed())? {
		PayloadResponse::Found(payload) if payload.len() <= MAX_PAYLOAD_BYTES && payload_hash(&payload) == *hash => Ok(Some(payload)),
		PayloadResponse::Found(_) => Err(kind.malformed()),
		PayloadResponse::NotFound => Ok(None),
	}
}

/// Serves the `kind` requests of peers from `store` until the node stops.
pub async fn serve(store: PayloadStore, kind: Payloads, requests: async_channel::Receiver<IncomingRequest>, metrics: Metrics) {
	while let Ok(request) = requests.recv().await {
		let response = match respond(&store, &request.payload, kind) {
			Ok(bytes) => {
				metrics.network_bytes("sent", bytes.len());
				OutgoingResponse { result: Ok(bytes), reputation_changes: Vec::new(), sent_feedback: None }
			},
			Err(cost) => {
				metrics.malformed_message();
				log::info!(target: LOG_TARGET, "🚫 malformed {} request from {}: peer reputation lowered", kind.name(), request.peer);
				OutgoingResponse { result: Err(()), reputation_changes: vec![cost], sent_feedback: None }
			},
		};
		let _ = request.pending_response.send(response);
	}
}

/// Asks the node's peers for payloads of one kind.
#[derive(Clone)]
pub struct PayloadFetcher {
	network: Arc<dyn NetworkService>,
	sync: Arc<SyncingService<Block>>,
	kind: Payloads,
	protocol: ProtocolName,
	announcer: Option<Announcer>,
	/// Payloads each peer served this node (shared by the clones of this fetcher): the peers
	/// that served before are asked first.
	served: Arc<Mutex<BTreeMap<PeerId, u32>>>,
	/// Where [`Self::fetch_ready`] fetches (none: in the caller's pass).
	background: Option<Background>,
}

impl PayloadFetcher {
	/// A fetcher of `kind` payloads over the node's network and its syncing peers, on the
	/// chain of `genesis`.
	pub fn new(network: Arc<dyn NetworkService>, sync: Arc<SyncingService<Block>>, genesis: &H256, kind: Payloads) -> Self {
		Self { network, sync, kind, protocol: protocol_name(genesis, kind), announcer: None, served: Default::default(), background: None }
	}

	/// The same fetcher, fetching for [`Self::fetch_ready`] in tasks of `spawner` that put what
	/// they find in `into` (shared by the clones of this fetcher).
	pub fn in_background(self, spawner: Arc<dyn SpawnNamed>, into: PayloadStore, metrics: Metrics) -> Self {
		Self { background: Some(Background::new(spawner, into, metrics)), ..self }
	}

	/// Whether [`Self::fetch_ready`] leaves payloads it does not hold yet for a later call.
	pub fn fetches_in_background(&self) -> bool {
		self.background.is_some()
	}

	/// The payloads of `hashes` at hand now, without waiting for the network: those a
	/// background fetch found earlier; the others are fetched in the background (see
	/// [`Background`]) and found by a later call. A fetcher without a background fetches them
	/// here ([`Self::fetch_all`]).
	pub async fn fetch_ready(&self, hashes: impl IntoIterator<Item = H256>, metrics: &Metrics) -> BTreeMap<H256, Vec<u8>> {
		match &self.background {
			Some(background) => {
				let fetcher = Self { background: None, ..self.clone() };
				background.ready(hashes, move |hash, metrics| {
					let fetcher = fetcher.clone();
					async move { fetcher.fetch(hash, &metrics).await }.boxed()
				})
			},
			None => self.fetch_all(hashes, metrics).await,
		}
	}

	/// The payloads of `hashes`, waiting for the network: those a background fetch found
	/// earlier, the others fetched here (for a last chance, when not finding one has
	/// consequences: a dispute, a vote against).
	pub async fn fetch_waiting(&self, hashes: impl IntoIterator<Item = H256>, metrics: &Metrics) -> BTreeMap<H256, Vec<u8>> {
		let mut found = BTreeMap::new();
		let mut missing = Vec::new();
		for hash in hashes.into_iter().collect::<BTreeSet<_>>() {
			match self.background.as_ref().and_then(|b| b.into.get(&hash)) {
				Some(bytes) => {
					found.insert(hash, bytes.to_vec());
				},
				None => missing.push(hash),
			}
		}
		found.extend(self.fetch_all(missing, metrics).await);
		found
	}

	/// The same fetcher, asking first the peers that announced a payload on `announcer`'s
	/// protocol, and announcing the payloads it fetches ([`crate::announce`]).
	pub fn with_announcer(self, announcer: Announcer) -> Self {
		Self { announcer: Some(announcer), ..self }
	}

	/// Tells the peers this node holds `hash` (without an announcer: nothing).
	pub fn announce(&self, hash: H256) {
		if let Some(announcer) = &self.announcer {
			announcer.announce(hash);
		}
	}

	/// The syncing peers in the order to ask them for `hash`: those that announced it first,
	/// then by how many payloads each served this node (most first).
	async fn peers(&self, hash: &H256) -> Vec<PeerId> {
		let peers: Vec<PeerId> = self.sync.peers_info().await.map(|p| p.into_iter().map(|(peer, _)| peer).collect()).unwrap_or_default();
		let holders = self.announcer.as_ref().map(|a| a.holders().of(hash)).unwrap_or_default();
		let served = self.served.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
		order_peers(peers, &holders, &served)
	}

	fn note_served(&self, peer: PeerId) {
		let mut served = self.served.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let n = served.entry(peer).or_default();
		*n = n.saturating_add(1);
	}

	/// The payload of `hash` from the first peer that has it (checked against the hash),
	/// announced to the peers once fetched.
	pub async fn fetch(&self, hash: H256, metrics: &Metrics) -> Option<Vec<u8>> {
		for peer in self.peers(&hash).await {
			let request = PayloadRequest::Fetch(hash).encode();
			let reply = self.network.request(peer, self.protocol.clone(), request, None, IfDisconnected::ImmediateError).await;
			match reply {
				Ok((bytes, _)) => {
					metrics.network_bytes("received", bytes.len());
					match read_response(&hash, &bytes, self.kind) {
						Ok(Some(payload)) => {
							log::debug!(target: LOG_TARGET, "{} {hash:?} fetched from {peer}", self.kind.name());
							self.note_served(peer);
							self.announce(hash);
							return Some(payload);
						},
						Ok(None) => {},
						Err(cost) => {
							metrics.malformed_message();
							log::info!(target: LOG_TARGET, "🚫 bad {} response from {peer}: peer reputation lowered", self.kind.name());
							self.network.report_peer(peer, cost);
						},
					}
				},
				Err(e) => log::debug!(target: LOG_TARGET, "{} {hash:?}: request to {peer} failed: {e}", self.kind.name()),
			}
		}
		None
	}

	/// The payloads of `hashes` fetched concurrently ([`fetch_concurrently`]).
	pub async fn fetch_all(&self, hashes: impl IntoIterator<Item = H256>, metrics: &Metrics) -> BTreeMap<H256, Vec<u8>> {
		fetch_concurrently(hashes, |hash| self.fetch(hash, metrics)).await
	}

	/// **Test facility** (`--worker-fault garbage-requests`): sends each peer a request that
	/// does not decode, as a misbehaving peer would.
	pub async fn send_garbage(&self, seed: u32) {
		for peer in self.peers(&H256::zero()).await {
			let garbage: Vec<u8> = (0..40u32).map(|i| (i.wrapping_mul(31) ^ seed) as u8 | 0x80).collect();
			let _ = self.network.request(peer, self.protocol.clone(), garbage, None, IfDisconnected::ImmediateError).await;
		}
	}
}

/// Payloads fetched at the same time (each tries its peers one after another, up to a 10 s
/// timeout each): one silent peer no longer holds up the fetches queued behind it.
pub const CONCURRENT_FETCHES: usize = 8;

/// Runs `fetch` for each distinct hash of `hashes`, [`CONCURRENT_FETCHES`] at a time; returns
/// what was found (hashes nothing was found for are missing).
pub async fn fetch_concurrently<F, Fut>(hashes: impl IntoIterator<Item = H256>, fetch: F) -> BTreeMap<H256, Vec<u8>>
where
	F: Fn(H256) -> Fut,
	Fut: core::future::Future<Output = Option<Vec<u8>>>,
{
	use futures::StreamExt;
	let distinct: std::collections::BTreeSet<H256> = hashes.into_iter().collect();
	futures::stream::iter(distinct)
		.map(|hash| {
			let fetched = fetch(hash);
			async move { fetched.await.map(|payload| (hash, payload)) }
		})
		.buffer_unordered(CONCURRENT_FETCHES)
		.filter_map(|found| async move { found })
		.collect()
		.await
}

/// Fetches that run beside the worker's block pass, so that no vote, answer or verdict waits
/// for a slow or silent peer: each is a task of the node's spawner, [`CONCURRENT_FETCHES`] at
/// most at a time and one per hash, and puts what it finds in a payload store, where a later
/// pass takes it ([`Background::ready`]). A fetch that finds nothing ends, and is started
/// again by the next pass that still needs its payload; the hashes tried least often start
/// first, so payloads nobody serves do not keep the others waiting.
#[derive(Clone)]
pub struct Background {
	spawner: Arc<dyn SpawnNamed>,
	into: PayloadStore,
	pending: Arc<Mutex<BTreeSet<H256>>>,
	/// Fetches started per hash not found yet (forgotten past [`MAX_TRIED`] hashes).
	tried: Arc<Mutex<BTreeMap<H256, u32>>>,
	metrics: Metrics,
}

/// Hashes whose fetch attempts are counted, at most.
const MAX_TRIED: usize = 1_024;

impl Background {
	/// Fetches spawned on `spawner`, their payloads put in `into`.
	pub fn new(spawner: Arc<dyn SpawnNamed>, into: PayloadStore, metrics: Metrics) -> Self {
		Self { spawner, into, pending: Default::default(), tried: Default::default(), metrics }
	}

	/// The payloads of `hashes` found so far; for each of the others a fetch (`fetch`) is
	/// started unless one is running or [`CONCURRENT_FETCHES`] are.
	pub fn ready<F>(&self, hashes: impl IntoIterator<Item = H256>, fetch: F) -> BTreeMap<H256, Vec<u8>>
	where
		F: Fn(H256, Metrics) -> BoxFuture<'static, Option<Vec<u8>>>,
	{
		let mut found = BTreeMap::new();
		let mut missing = Vec::new();
		let mut tried = self.tried.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		for hash in hashes.into_iter().collect::<BTreeSet<_>>() {
			match self.into.get(&hash) {
				Some(bytes) => {
					tried.remove(&hash);
					found.insert(hash, bytes.to_vec());
				},
				None => missing.push((tried.get(&hash).copied().unwrap_or(0), hash)),
			}
		}
		missing.sort();
		for (_, hash) in missing {
			if self.start(hash, &fetch) {
				if tried.len() >= MAX_TRIED {
					tried.clear();
				}
				*tried.entry(hash).or_default() += 1;
			}
		}
		found
	}

	/// Fetches currently running.
	pub fn pending(&self) -> usize {
		self.lock().len()
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<H256>> {
		self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Starts a fetch of `hash` unless one is running or too many are; whether it did.
	fn start<F>(&self, hash: H256, fetch: &F) -> bool
	where
		F: Fn(H256, Metrics) -> BoxFuture<'static, Option<Vec<u8>>>,
	{
		{
			let mut pending = self.lock();
			if pending.len() >= CONCURRENT_FETCHES || !pending.insert(hash) {
				return false;
			}
		}
		let fetched = fetch(hash, self.metrics.clone());
		let this = self.clone();
		self.spawner.spawn(
			"loopx-fetch",
			Some("loopx-worker"),
			async move {
				if let Some(bytes) = fetched.await {
					this.into.insert(bytes);
				}
				this.lock().remove(&hash);
			}
			.boxed(),
		);
		true
	}
}

/// `peers` in the order to ask them: announced `holders` first, then by payloads `served`
/// (most first); a stable sort, so ties keep the syncing service's order.
fn order_peers(mut peers: Vec<PeerId>, holders: &[PeerId], served: &BTreeMap<PeerId, u32>) -> Vec<PeerId> {
	peers.sort_by_key(|peer| (!holders.contains(peer), core::cmp::Reverse(served.get(peer).copied().unwrap_or(0))));
	peers
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A future that is pending once (waking itself) before it returns `value`.
	struct YieldOnce<T>(Option<T>, bool);
	impl<T: Unpin> core::future::Future for YieldOnce<T> {
		type Output = T;
		fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<T> {
			if !self.1 {
				self.1 = true;
				cx.waker().wake_by_ref();
				return core::task::Poll::Pending;
			}
			core::task::Poll::Ready(self.0.take().expect("polled after completion"))
		}
	}

	#[test]
	fn fetches_run_side_by_side_each_hash_once_and_missing_ones_are_left_out() {
		use std::sync::atomic::{AtomicUsize, Ordering};
		let (in_flight, most, calls) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
		let hashes: Vec<H256> = (0..20u8).map(H256::repeat_byte).chain([H256::repeat_byte(3)]).collect();
		let found = futures::executor::block_on(fetch_concurrently(hashes, |hash| {
			calls.fetch_add(1, Ordering::SeqCst);
			let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
			most.fetch_max(now, Ordering::SeqCst);
			let reply = (hash.0[0] % 2 == 0).then(|| vec![hash.0[0]]);
			let in_flight = &in_flight;
			async move {
				let reply = YieldOnce(Some(reply), false).await;
				in_flight.fetch_sub(1, Ordering::SeqCst);
				reply
			}
		}));
		assert_eq!(calls.load(Ordering::SeqCst), 20, "the repeated hash is fetched once");
		assert_eq!(most.load(Ordering::SeqCst), CONCURRENT_FETCHES, "{CONCURRENT_FETCHES} at a time, not one after another");
		assert_eq!(found.len(), 10, "the odd ones were not found");
		assert!(found.iter().all(|(hash, payload)| payload == &vec![hash.0[0]]));
	}

	#[test]
	fn peers_that_announced_come_first_then_those_that_served_most() {
		let [a, b, c, d] = [PeerId::random(), PeerId::random(), PeerId::random(), PeerId::random()];
		let served = BTreeMap::from([(c, 5), (b, 1), (a, 9)]);
		assert_eq!(order_peers(vec![a, b, c, d], &[d], &served), vec![d, a, c, b]);
		assert_eq!(order_peers(vec![d, b], &[], &BTreeMap::new()), vec![d, b], "ties keep their order");
	}

	#[test]
	fn serves_held_payloads_and_says_not_found() {
		for kind in [Payloads::Models, Payloads::Deals] {
			let store = PayloadStore::default();
			let hash = store.insert(b"payload".to_vec()).unwrap();
			let found = respond(&store, &PayloadRequest::Fetch(hash).encode(), kind).unwrap();
			assert_eq!(read_response(&hash, &found, kind), Ok(Some(b"payload".to_vec())));
			let other = H256::repeat_byte(7);
			let missing = respond(&store, &PayloadRequest::Fetch(other).encode(), kind).unwrap();
			assert_eq!(read_response(&other, &missing, kind), Ok(None));
		}
	}

	#[test]
	fn malformed_requests_cost_reputation() {
		let store = PayloadStore::default();
		let valid = PayloadRequest::Fetch(H256::zero()).encode();
		let mut trailing = valid.clone();
		trailing.push(0);
		let mut unknown = valid.clone();
		unknown[0] = 9;
		for garbage in [&[][..], &valid[..10], &trailing, &unknown, &[0xff; 64]] {
			assert_eq!(respond(&store, garbage, Payloads::Models), Err(Payloads::Models.malformed()), "{garbage:?}");
			assert_eq!(respond(&store, garbage, Payloads::Deals), Err(Payloads::Deals.malformed()), "{garbage:?}");
		}
		assert_eq!(Payloads::Deals.malformed().value, Payloads::Models.malformed().value);
	}

	#[test]
	fn mismatched_or_malformed_responses_cost_reputation() {
		let hash = payload_hash(b"asked for");
		let wrong = PayloadResponse::Found(b"something else".to_vec()).encode();
		let oversized = PayloadResponse::Found(vec![0; MAX_PAYLOAD_BYTES + 1]).encode();
		for kind in [Payloads::Models, Payloads::Deals] {
			assert_eq!(read_response(&hash, &wrong, kind), Err(kind.malformed()));
			assert_eq!(read_response(&payload_hash(&vec![0; MAX_PAYLOAD_BYTES + 1]), &oversized, kind), Err(kind.malformed()));
			assert_eq!(read_response(&hash, b"\x00\xff", kind), Err(kind.malformed()));
			assert_eq!(read_response(&hash, &[], kind), Err(kind.malformed()));
		}
	}

	#[test]
	fn the_protocol_names_are_per_chain_and_kind() {
		let a = protocol_name(&H256::repeat_byte(1), Payloads::Models);
		assert!(a.starts_with("/0101"), "{a}");
		assert!(a.ends_with("/loopx/models/1"));
		assert_ne!(a, protocol_name(&H256::repeat_byte(2), Payloads::Models));
		assert!(protocol_name(&H256::repeat_byte(1), Payloads::Deals).ends_with("/loopx/deals/1"));
	}

	/// A spawner that keeps what it is given, to run by hand.
	#[derive(Clone, Default)]
	struct Held(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);
	impl SpawnNamed for Held {
		fn spawn_blocking(&self, _: &'static str, _: Option<&'static str>, future: BoxFuture<'static, ()>) {
			self.0.lock().unwrap().push(future);
		}
		fn spawn(&self, _: &'static str, _: Option<&'static str>, future: BoxFuture<'static, ()>) {
			self.0.lock().unwrap().push(future);
		}
	}
	impl Held {
		/// Runs every task spawned so far; how many.
		fn run(&self) -> usize {
			let tasks: Vec<_> = std::mem::take(&mut *self.0.lock().unwrap());
			let n = tasks.len();
			for task in tasks {
				futures::executor::block_on(task);
			}
			n
		}
	}

	#[test]
	fn background_fetches_never_wait_start_once_a_hash_and_are_found_by_a_later_pass() {
		use std::sync::atomic::{AtomicUsize, Ordering};
		let spawner = Held::default();
		let into = PayloadStore::default();
		let background = Background::new(Arc::new(spawner.clone()), into.clone(), Metrics::default());
		let calls = Arc::new(AtomicUsize::new(0));
		// A network where payload `b` exists and `c` does not (yet).
		let network = |calls: Arc<AtomicUsize>| {
			move |hash: H256, _: Metrics| -> BoxFuture<'static, Option<Vec<u8>>> {
				calls.fetch_add(1, Ordering::SeqCst);
				async move { (hash == payload_hash(b"b")).then(|| b"b".to_vec()) }.boxed()
			}
		};
		let (a, b, c) = (payload_hash(b"a"), payload_hash(b"b"), payload_hash(b"c"));
		into.insert(b"a".to_vec());
		// First pass: `a` is at hand, `b` and `c` are started, nothing waited for.
		let found = background.ready([a, b, c, b], network(calls.clone()));
		assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![a]);
		assert_eq!(background.pending(), 2);
		// A second pass before they ran starts nothing more.
		assert!(background.ready([b, c], network(calls.clone())).is_empty());
		assert_eq!(spawner.run(), 2, "one fetch a hash");
		assert_eq!(calls.load(Ordering::SeqCst), 2);
		assert_eq!(background.pending(), 0);
		// A later pass finds `b`; `c`, found nowhere, is fetched again.
		let found = background.ready([b, c], network(calls.clone()));
		assert_eq!(found.get(&b).map(Vec::as_slice), Some(&b"b"[..]));
		assert!(!found.contains_key(&c));
		assert_eq!(spawner.run(), 1);
		// At most CONCURRENT_FETCHES at a time; the rest start at a later pass.
		let many: Vec<H256> = (0..2 * CONCURRENT_FETCHES as u8).map(H256::repeat_byte).collect();
		background.ready(many.clone(), network(calls.clone()));
		assert_eq!(background.pending(), CONCURRENT_FETCHES);
		assert_eq!(spawner.run(), CONCURRENT_FETCHES);
		let before = calls.load(Ordering::SeqCst);
		background.ready(many.clone(), network(calls.clone()));
		assert_eq!(background.pending(), CONCURRENT_FETCHES);
		let started: BTreeSet<H256> = background.lock().clone();
		assert_eq!(started, many[CONCURRENT_FETCHES..].iter().copied().collect(), "those not tried yet go first");
		assert_eq!(spawner.run(), CONCURRENT_FETCHES);
		assert_eq!(calls.load(Ordering::SeqCst), before + CONCURRENT_FETCHES);
	}
}
