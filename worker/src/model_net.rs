//! The node's model protocol, `/<genesis hash>/loopx/models/1`: an sc-network request–response
//! protocol over the node's own peers, identities and transport. A peer asks for a compressed
//! model payload (a `ml-kernels` wire message) by the hash a model-update claim put on chain;
//! the answer is the payload or "not found".
//!
//! Both directions are bounded ([`MAX_REQUEST_BYTES`], [`MAX_RESPONSE_BYTES`], enforced by
//! sc-network before our code sees a byte) and validated: a request that does not decode, or a
//! response that does not decode or does not hash to what was asked, costs the peer
//! [`MALFORMED`] reputation; a few of them get it banned and disconnected by the peer store.

use std::{sync::Arc, time::Duration};

use codec::{Decode, DecodeAll, Encode};
use loopx_runtime::opaque::Block;
use sc_network::{
	request_responses::{IncomingRequest, OutgoingResponse},
	service::traits::NetworkService,
	IfDisconnected, NetworkBackend, PeerId, ProtocolName, ReputationChange,
};
use sc_network_sync::SyncingService;
use sp_core::{hexdisplay::HexDisplay, H256};

use crate::{
	model_store::{model_hash, ModelStore, MAX_MODEL_BYTES},
	Metrics, LOG_TARGET,
};

/// Largest request: a SCALE [`ModelRequest`] is 33 bytes.
pub const MAX_REQUEST_BYTES: u64 = 64;
/// Largest response: a payload of [`MAX_MODEL_BYTES`] with its SCALE framing.
pub const MAX_RESPONSE_BYTES: u64 = MAX_MODEL_BYTES as u64 + 16;
/// How long a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests queued for the server before sc-network refuses more.
const INBOUND_QUEUE: usize = 32;

/// What a malformed message costs its sender: the peer store bans below 71 % of `i32::MIN`,
/// so six of these in a row (faster than reputation decays) disconnect the peer.
pub const MALFORMED: ReputationChange = ReputationChange::new(-(1 << 28), "LoopX models: malformed message");

/// A request of the model protocol.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum ModelRequest {
	/// The payload hashing (blake2-256) to this.
	#[codec(index = 0)]
	Fetch(H256),
}

/// A response of the model protocol.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum ModelResponse {
	/// The payload.
	#[codec(index = 0)]
	Found(Vec<u8>),
	/// Not held here.
	#[codec(index = 1)]
	NotFound,
}

/// The protocol's name on the chain of `genesis`.
pub fn protocol_name(genesis: &H256) -> ProtocolName {
	format!("/{}/loopx/models/1", HexDisplay::from(&genesis.as_bytes())).into()
}

/// The protocol's sc-network configuration and the queue its requests arrive on: add the first
/// to the network configuration before the network is built, give the second to [`serve`].
pub fn config<N: NetworkBackend<Block, H256>>(
	genesis: &H256,
) -> (N::RequestResponseProtocolConfig, async_channel::Receiver<IncomingRequest>) {
	let (tx, rx) = async_channel::bounded(INBOUND_QUEUE);
	let config = N::request_response_config(
		protocol_name(genesis),
		Vec::new(),
		MAX_REQUEST_BYTES,
		MAX_RESPONSE_BYTES,
		REQUEST_TIMEOUT,
		Some(tx),
	);
	(config, rx)
}

/// The response to the request bytes `payload`, or what the sender's reputation loses.
pub fn respond(store: &ModelStore, payload: &[u8]) -> Result<Vec<u8>, ReputationChange> {
	let ModelRequest::Fetch(hash) = ModelRequest::decode_all(&mut &payload[..]).map_err(|_| MALFORMED)?;
	Ok(match store.get(&hash) {
		Some(bytes) => ModelResponse::Found(bytes.to_vec()).encode(),
		None => ModelResponse::NotFound.encode(),
	})
}

/// Reads the response to a fetch of `hash`: the payload, `None` if the peer does not hold it,
/// or what the peer's reputation loses for a malformed or mismatched response.
pub fn read_response(hash: &H256, bytes: &[u8]) -> Result<Option<Vec<u8>>, ReputationChange> {
	match ModelResponse::decode_all(&mut &bytes[..]).map_err(|_| MALFORMED)? {
		ModelResponse::Found(payload) if payload.len() <= MAX_MODEL_BYTES && model_hash(&payload) == *hash =>
			Ok(Some(payload)),
		ModelResponse::Found(_) => Err(MALFORMED),
		ModelResponse::NotFound => Ok(None),
	}
}

/// Serves the model requests of peers from `store` until the node stops.
pub async fn serve(store: ModelStore, requests: async_channel::Receiver<IncomingRequest>, metrics: Metrics) {
	while let Ok(request) = requests.recv().await {
		let response = match respond(&store, &request.payload) {
			Ok(bytes) => {
				metrics.network_bytes("sent", bytes.len());
				OutgoingResponse { result: Ok(bytes), reputation_changes: Vec::new(), sent_feedback: None }
			},
			Err(cost) => {
				metrics.malformed_message();
				log::info!(target: LOG_TARGET, "🚫 malformed model request from {}: peer reputation lowered", request.peer);
				OutgoingResponse { result: Err(()), reputation_changes: vec![cost], sent_feedback: None }
			},
		};
		let _ = request.pending_response.send(response);
	}
}

/// Asks the node's peers for model payloads.
#[derive(Clone)]
pub struct ModelFetcher {
	network: Arc<dyn NetworkService>,
	sync: Arc<SyncingService<Block>>,
	protocol: ProtocolName,
}

impl ModelFetcher {
	/// A fetcher over the node's network and its syncing peers, on the chain of `genesis`.
	pub fn new(network: Arc<dyn NetworkService>, sync: Arc<SyncingService<Block>>, genesis: &H256) -> Self {
		Self { network, sync, protocol: protocol_name(genesis) }
	}

	async fn peers(&self) -> Vec<PeerId> {
		self.sync.peers_info().await.map(|p| p.into_iter().map(|(peer, _)| peer).collect()).unwrap_or_default()
	}

	/// The payload of `hash` from the first peer that has it (checked against the hash).
	pub async fn fetch(&self, hash: H256, metrics: &Metrics) -> Option<Vec<u8>> {
		for peer in self.peers().await {
			let request = ModelRequest::Fetch(hash).encode();
			let reply =
				self.network.request(peer, self.protocol.clone(), request, None, IfDisconnected::ImmediateError).await;
			match reply {
				Ok((bytes, _)) => {
					metrics.network_bytes("received", bytes.len());
					match read_response(&hash, &bytes) {
						Ok(Some(payload)) => return Some(payload),
						Ok(None) => {},
						Err(cost) => {
							metrics.malformed_message();
							log::info!(target: LOG_TARGET, "🚫 bad model response from {peer}: peer reputation lowered");
							self.network.report_peer(peer, cost);
						},
					}
				},
				Err(e) => log::debug!(target: LOG_TARGET, "model {hash:?}: request to {peer} failed: {e}"),
			}
		}
		None
	}

	/// **Test facility** (`--worker-fault garbage-requests`): sends each peer a request that
	/// does not decode, as a misbehaving peer would.
	pub async fn send_garbage(&self, seed: u32) {
		for peer in self.peers().await {
			let garbage: Vec<u8> = (0..40u32).map(|i| (i.wrapping_mul(31) ^ seed) as u8 | 0x80).collect();
			let _ = self.network.request(peer, self.protocol.clone(), garbage, None, IfDisconnected::ImmediateError).await;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn serves_held_models_and_says_not_found() {
		let store = ModelStore::default();
		let hash = store.insert(b"payload".to_vec()).unwrap();
		let found = respond(&store, &ModelRequest::Fetch(hash).encode()).unwrap();
		assert_eq!(read_response(&hash, &found), Ok(Some(b"payload".to_vec())));
		let other = H256::repeat_byte(7);
		let missing = respond(&store, &ModelRequest::Fetch(other).encode()).unwrap();
		assert_eq!(read_response(&other, &missing), Ok(None));
	}

	#[test]
	fn malformed_requests_cost_reputation() {
		let store = ModelStore::default();
		let valid = ModelRequest::Fetch(H256::zero()).encode();
		let mut trailing = valid.clone();
		trailing.push(0);
		let mut unknown = valid.clone();
		unknown[0] = 9;
		for garbage in [&[][..], &valid[..10], &trailing, &unknown, &[0xff; 64]] {
			assert_eq!(respond(&store, garbage), Err(MALFORMED), "{garbage:?}");
		}
	}

	#[test]
	fn mismatched_or_malformed_responses_cost_reputation() {
		let hash = model_hash(b"asked for");
		let wrong = ModelResponse::Found(b"something else".to_vec()).encode();
		assert_eq!(read_response(&hash, &wrong), Err(MALFORMED));
		let oversized = ModelResponse::Found(vec![0; MAX_MODEL_BYTES + 1]).encode();
		assert_eq!(read_response(&model_hash(&vec![0; MAX_MODEL_BYTES + 1]), &oversized), Err(MALFORMED));
		assert_eq!(read_response(&hash, b"\x00\xff"), Err(MALFORMED));
		assert_eq!(read_response(&hash, &[]), Err(MALFORMED));
	}

	#[test]
	fn the_protocol_name_is_per_chain() {
		let a = protocol_name(&H256::repeat_byte(1));
		assert!(a.starts_with("/0101"), "{a}");
		assert!(a.ends_with("/loopx/models/1"));
		assert_ne!(a, protocol_name(&H256::repeat_byte(2)));
	}
}
