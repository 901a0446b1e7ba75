//! The compressed model payloads this node can serve to peers, by hash: the models it trained
//! and the ones it fetched. Bounded in count and in size; the oldest goes first.

use std::{
	collections::VecDeque,
	sync::{Arc, Mutex},
};

use sp_core::H256;

/// Largest payload stored or served (a wire-format model message). The demo fraud classifier
/// is a few KiB; this leaves room for large TT models while bounding what a peer can make us
/// download.
pub const MAX_MODEL_BYTES: usize = 1 << 20;

/// Payloads kept.
pub const MAX_MODELS: usize = 64;

/// The hash a payload is known by on chain (`new_hash` of a model-update claim).
pub fn model_hash(bytes: &[u8]) -> H256 {
	H256(sp_crypto_hashing::blake2_256(bytes))
}

/// Shared between the worker (which adds) and the protocol server (which reads).
#[derive(Clone, Default)]
pub struct ModelStore {
	models: Arc<Mutex<VecDeque<(H256, Arc<Vec<u8>>)>>>,
}

impl ModelStore {
	/// Adds `bytes` (refused above [`MAX_MODEL_BYTES`]) and returns its hash.
	pub fn insert(&self, bytes: Vec<u8>) -> Option<H256> {
		if bytes.len() > MAX_MODEL_BYTES {
			return None;
		}
		let hash = model_hash(&bytes);
		let mut models = self.models.lock().unwrap_or_else(|p| p.into_inner());
		if !models.iter().any(|(h, _)| *h == hash) {
			if models.len() >= MAX_MODELS {
				models.pop_front();
			}
			models.push_back((hash, Arc::new(bytes)));
		}
		Some(hash)
	}

	/// The payload of `hash`, if held.
	pub fn get(&self, hash: &H256) -> Option<Arc<Vec<u8>>> {
		let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
		models.iter().find(|(h, _)| h == hash).map(|(_, b)| b.clone())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn stores_by_hash_within_bounds() {
		let store = ModelStore::default();
		let h = store.insert(b"model".to_vec()).unwrap();
		assert_eq!(h, model_hash(b"model"));
		assert_eq!(store.get(&h).unwrap().as_slice(), b"model");
		assert!(store.insert(vec![0; MAX_MODEL_BYTES + 1]).is_none());
		for i in 0..MAX_MODELS as u32 {
			store.insert(i.to_le_bytes().to_vec());
		}
		assert!(store.get(&h).is_none(), "the oldest is dropped past MAX_MODELS");
		assert!(store.get(&model_hash(&(MAX_MODELS as u32 - 1).to_le_bytes())).is_some());
	}
}
