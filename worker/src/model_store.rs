//! The compressed model payloads this node can serve to peers, by hash: the models it trained
//! and the ones it fetched. Bounded in count and in size; the oldest goes first.
//!
//! Opened on a directory (the node's `<base>/chains/<id>/loopx-models`), every payload is also
//! a file `<hash hex>.model` there, so a restarted node still serves the versions it made and
//! answers with them. Files are checked against their names when loaded.

use std::{
	collections::VecDeque,
	fs,
	path::{Path, PathBuf},
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
	/// Where payloads are kept across restarts (none: memory only).
	dir: Option<PathBuf>,
}

impl ModelStore {
	/// A store kept in `dir` as well, loaded with the payloads already there (newest
	/// [`MAX_MODELS`]; files that are too large or do not hash to their names are removed).
	pub fn open(dir: &Path) -> std::io::Result<Self> {
		fs::create_dir_all(dir)?;
		let mut found = Vec::new();
		for entry in fs::read_dir(dir)?.flatten() {
			let path = entry.path();
			let named = path.extension().is_some_and(|e| e == "model")
				.then(|| path.file_stem().and_then(|s| s.to_str()).and_then(parse_hash))
				.flatten();
			let Some(hash) = named else { continue };
			let modified = entry.metadata().and_then(|m| m.modified()).ok();
			match fs::read(&path) {
				Ok(bytes) if bytes.len() <= MAX_MODEL_BYTES && model_hash(&bytes) == hash => found.push((modified, hash, bytes)),
				_ => {
					log::warn!(target: crate::LOG_TARGET, "removing the damaged model file {}", path.display());
					let _ = fs::remove_file(&path);
				},
			}
		}
		found.sort_by_key(|(modified, hash, _)| (*modified, *hash));
		let skip = found.len().saturating_sub(MAX_MODELS);
		if !found.is_empty() {
			log::info!(target: crate::LOG_TARGET, "📦 {} models kept from an earlier run in {}", found.len() - skip, dir.display());
		}
		let store = Self { models: Default::default(), dir: Some(dir.to_path_buf()) };
		for (_, hash, bytes) in found.into_iter().skip(skip) {
			store.lock().push_back((hash, Arc::new(bytes)));
		}
		Ok(store)
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(H256, Arc<Vec<u8>>)>> {
		self.models.lock().unwrap_or_else(|p| p.into_inner())
	}

	fn file(&self, hash: &H256) -> Option<PathBuf> {
		self.dir.as_ref().map(|d| d.join(format!("{}.model", hex(hash))))
	}

	/// Adds `bytes` (refused above [`MAX_MODEL_BYTES`]) and returns its hash.
	pub fn insert(&self, bytes: Vec<u8>) -> Option<H256> {
		if bytes.len() > MAX_MODEL_BYTES {
			return None;
		}
		let hash = model_hash(&bytes);
		let mut models = self.lock();
		if !models.iter().any(|(h, _)| *h == hash) {
			if models.len() >= MAX_MODELS {
				if let Some(file) = models.pop_front().and_then(|(old, _)| self.file(&old)) {
					let _ = fs::remove_file(file);
				}
			}
			if let Some(file) = self.file(&hash) {
				// Written aside and renamed, so a crash never leaves a partial file under the name.
				let partial = file.with_extension("partial");
				if let Err(e) = fs::write(&partial, &bytes).and_then(|_| fs::rename(&partial, &file)) {
					log::warn!(target: crate::LOG_TARGET, "cannot keep model {hash:?} on disk: {e}");
				}
			}
			models.push_back((hash, Arc::new(bytes)));
		}
		Some(hash)
	}

	/// The payload of `hash`, if held.
	pub fn get(&self, hash: &H256) -> Option<Arc<Vec<u8>>> {
		self.lock().iter().find(|(h, _)| h == hash).map(|(_, b)| b.clone())
	}
}

fn hex(hash: &H256) -> String {
	format!("{hash:x}")
}

fn parse_hash(s: &str) -> Option<H256> {
	(s.len() == 64).then(|| s.parse().ok()).flatten()
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

	#[test]
	fn a_store_on_disk_reloads_what_it_held_and_drops_damaged_files() {
		let dir = std::env::temp_dir().join(format!("loopx-model-store-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let store = ModelStore::open(&dir).unwrap();
		let a = store.insert(b"model a".to_vec()).unwrap();
		let b = store.insert(b"model b".to_vec()).unwrap();
		// A file whose content does not match its name, and one that is not a model.
		fs::write(dir.join(format!("{}.model", hex(&model_hash(b"x")))), b"y").unwrap();
		fs::write(dir.join("notes.txt"), b"z").unwrap();
		let reopened = ModelStore::open(&dir).unwrap();
		assert_eq!(reopened.get(&a).unwrap().as_slice(), b"model a");
		assert_eq!(reopened.get(&b).unwrap().as_slice(), b"model b");
		assert!(reopened.get(&model_hash(b"x")).is_none());
		assert!(!dir.join(format!("{}.model", hex(&model_hash(b"x")))).exists(), "the damaged file is removed");
		// Evicted payloads leave the disk too.
		for i in 0..MAX_MODELS as u32 {
			reopened.insert(i.to_le_bytes().to_vec());
		}
		assert!(!dir.join(format!("{}.model", hex(&a))).exists());
		assert_eq!(fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "model")).count(), MAX_MODELS);
		assert_eq!(parse_hash(&hex(&a)), Some(a));
		assert_eq!(parse_hash("zz"), None);
		fs::remove_dir_all(&dir).unwrap();
	}
}
