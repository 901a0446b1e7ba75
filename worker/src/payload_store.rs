//! Content-addressed payloads this node serves to peers, by their blake2-256 hash: compressed
//! models (the ones it trained and the ones it fetched) in one store, sealed data-market
//! payloads in another. Bounded in count and in size; the least recently used goes first.
//! Only this node's own reads count as use ([`PayloadStore::get`]): what a peer asks for
//! ([`PayloadStore::serve`]) does not, so no peer can keep payloads in or push them out.
//!
//! Opened on a directory (the node's `<base>/chains/<id>/loopx-models`, `.../loopx-deals`),
//! every payload is also a file `<hash hex>.payload` there, so a restarted node still serves
//! what it made. Files are checked against their names when loaded.
//!
//! Some payloads must outlive the bound: the model versions that scored
//! the chain's transfers ([`crate::chain_index::scores`]), which a node rebuilding its chain
//! index from genesis fetches again from its peers. They are **pinned**: kept on disk under
//! `pinned/` (not in memory), [`MAX_PINNED`] at most, and served like the others. So are the
//! current versions of the tasks a node works on (a late joiner fetches them from it).

use std::{
	collections::VecDeque,
	fs,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
};

use sp_core::H256;

/// Largest payload stored or served (a wire-format model message or a sealed deal payload).
/// The demo fraud classifier is a few KiB; this leaves room for large TT models and data
/// batches while bounding what a peer can make us download.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// Payloads kept.
pub const MAX_PAYLOADS: usize = 64;

/// Pinned payloads kept (the oldest pinned goes first beyond it).
pub const MAX_PINNED: usize = 4_096;

/// The hash a payload is known by on chain (`new_hash` of a model-update claim, `ciphertext`
/// of a delivered deal).
pub fn payload_hash(bytes: &[u8]) -> H256 {
	H256(sp_crypto_hashing::blake2_256(bytes))
}

/// A payload held, by hash.
type Entry = (H256, Arc<Vec<u8>>);

/// A pinned payload's hash, and its bytes in a memory-only store (on disk otherwise).
type Pinned = (H256, Option<Arc<Vec<u8>>>);

/// Shared between the worker (which adds) and the protocol server (which reads).
#[derive(Clone, Default)]
pub struct PayloadStore {
	payloads: Arc<Mutex<VecDeque<Entry>>>,
	/// Pinned payloads by hash, oldest first, and (memory-only stores) their bytes.
	pinned: Arc<Mutex<VecDeque<Pinned>>>,
	/// Where payloads are kept across restarts (none: memory only).
	dir: Option<PathBuf>,
}

impl PayloadStore {
	/// A store kept in `dir` as well, loaded with the payloads already there (newest
	/// [`MAX_PAYLOADS`]; files that are too large or do not hash to their names are removed).
	pub fn open(dir: &Path) -> std::io::Result<Self> {
		fs::create_dir_all(dir)?;
		let mut found = Vec::new();
		for entry in fs::read_dir(dir)?.flatten() {
			let path = entry.path();
			let named =
				path.extension().is_some_and(|e| e == "payload").then(|| path.file_stem().and_then(|s| s.to_str()).and_then(parse_hash)).flatten();
			let Some(hash) = named else { continue };
			let modified = entry.metadata().and_then(|m| m.modified()).ok();
			match fs::read(&path) {
				Ok(bytes) if bytes.len() <= MAX_PAYLOAD_BYTES && payload_hash(&bytes) == hash => found.push((modified, hash, bytes)),
				_ => {
					log::warn!(target: crate::LOG_TARGET, "removing the damaged payload file {}", path.display());
					let _ = fs::remove_file(&path);
				},
			}
		}
		found.sort_by_key(|(modified, hash, _)| (*modified, *hash));
		let skip = found.len().saturating_sub(MAX_PAYLOADS);
		if !found.is_empty() {
			log::info!(target: crate::LOG_TARGET, "📦 {} payloads kept from an earlier run in {}", found.len() - skip, dir.display());
		}
		let store = Self { payloads: Default::default(), pinned: Default::default(), dir: Some(dir.to_path_buf()) };
		for (_, hash, bytes) in found.into_iter().skip(skip) {
			store.lock().push_back((hash, Arc::new(bytes)));
		}
		// Pinned payloads: their names only (read when asked for), oldest first.
		let pinned_dir = dir.join(PINNED_DIR);
		fs::create_dir_all(&pinned_dir)?;
		let mut pinned = Vec::new();
		for entry in fs::read_dir(&pinned_dir)?.flatten() {
			let path = entry.path();
			let named =
				path.extension().is_some_and(|e| e == "payload").then(|| path.file_stem().and_then(|s| s.to_str()).and_then(parse_hash)).flatten();
			if let Some(hash) = named {
				pinned.push((entry.metadata().and_then(|m| m.modified()).ok(), hash));
			}
		}
		pinned.sort();
		store.pinned.lock().unwrap_or_else(|p| p.into_inner()).extend(pinned.into_iter().map(|(_, hash)| (hash, None)));
		Ok(store)
	}

	/// Pins `bytes` (refused above [`MAX_PAYLOAD_BYTES`]): kept beyond [`MAX_PAYLOADS`], on
	/// disk, up to [`MAX_PINNED`]. Returns its hash.
	pub fn pin(&self, bytes: &[u8]) -> Option<H256> {
		if bytes.len() > MAX_PAYLOAD_BYTES {
			return None;
		}
		let hash = payload_hash(bytes);
		let mut pinned = self.pinned.lock().unwrap_or_else(|p| p.into_inner());
		if pinned.iter().any(|(h, _)| *h == hash) {
			return Some(hash);
		}
		if pinned.len() >= MAX_PINNED {
			if let Some(file) = pinned.pop_front().and_then(|(old, _)| self.pinned_file(&old)) {
				let _ = fs::remove_file(file);
			}
		}
		match self.pinned_file(&hash) {
			Some(file) => {
				let partial = file.with_extension("partial");
				if let Err(e) = fs::write(&partial, bytes).and_then(|_| fs::rename(&partial, &file)) {
					log::warn!(target: crate::LOG_TARGET, "cannot pin payload {hash:?} on disk: {e}");
					return None;
				}
				pinned.push_back((hash, None));
			},
			None => pinned.push_back((hash, Some(Arc::new(bytes.to_vec())))),
		}
		Some(hash)
	}

	fn pinned_file(&self, hash: &H256) -> Option<PathBuf> {
		self.dir.as_ref().map(|d| d.join(PINNED_DIR).join(format!("{}.payload", hex(hash))))
	}

	/// A pinned payload, read from disk and checked against its hash.
	fn get_pinned(&self, hash: &H256) -> Option<Arc<Vec<u8>>> {
		let pinned = self.pinned.lock().unwrap_or_else(|p| p.into_inner());
		let (_, bytes) = pinned.iter().find(|(h, _)| h == hash)?;
		if let Some(bytes) = bytes {
			return Some(bytes.clone());
		}
		let read = fs::read(self.pinned_file(hash)?).ok()?;
		(read.len() <= MAX_PAYLOAD_BYTES && payload_hash(&read) == *hash).then(|| Arc::new(read))
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(H256, Arc<Vec<u8>>)>> {
		self.payloads.lock().unwrap_or_else(|p| p.into_inner())
	}

	fn file(&self, hash: &H256) -> Option<PathBuf> {
		self.dir.as_ref().map(|d| d.join(format!("{}.payload", hex(hash))))
	}

	/// Adds `bytes` (refused above [`MAX_PAYLOAD_BYTES`]) and returns its hash.
	pub fn insert(&self, bytes: Vec<u8>) -> Option<H256> {
		if bytes.len() > MAX_PAYLOAD_BYTES {
			return None;
		}
		let hash = payload_hash(&bytes);
		let mut payloads = self.lock();
		if let Some(i) = payloads.iter().position(|(h, _)| *h == hash) {
			// Made or fetched again: used now.
			if let Some(entry) = payloads.remove(i) {
				payloads.push_back(entry);
			}
		} else {
			if payloads.len() >= MAX_PAYLOADS {
				if let Some(file) = payloads.pop_front().and_then(|(old, _)| self.file(&old)) {
					let _ = fs::remove_file(file);
				}
			}
			if let Some(file) = self.file(&hash) {
				// Written aside and renamed, so a crash never leaves a partial file under the name.
				let partial = file.with_extension("partial");
				if let Err(e) = fs::write(&partial, &bytes).and_then(|_| fs::rename(&partial, &file)) {
					log::warn!(target: crate::LOG_TARGET, "cannot keep payload {hash:?} on disk: {e}");
				}
			}
			payloads.push_back((hash, Arc::new(bytes)));
		}
		Some(hash)
	}

	/// The hashes held (not the pinned ones), least recently used first.
	pub fn hashes(&self) -> Vec<H256> {
		self.lock().iter().map(|(h, _)| *h).collect()
	}

	/// The payload of `hash`, if held or pinned, for this node's own use: a held one becomes
	/// the most recently used (the last to be evicted).
	pub fn get(&self, hash: &H256) -> Option<Arc<Vec<u8>>> {
		let held = {
			let mut payloads = self.lock();
			payloads.iter().position(|(h, _)| h == hash).and_then(|i| payloads.remove(i)).map(|entry| {
				let bytes = entry.1.clone();
				payloads.push_back(entry);
				bytes
			})
		};
		held.or_else(|| self.get_pinned(hash))
	}

	/// The payload of `hash`, if held or pinned, for a peer that asked: its place in the
	/// eviction order stays as it is.
	pub fn serve(&self, hash: &H256) -> Option<Arc<Vec<u8>>> {
		let held = self.lock().iter().find(|(h, _)| h == hash).map(|(_, b)| b.clone());
		held.or_else(|| self.get_pinned(hash))
	}
}

/// The subdirectory of the pinned payloads.
const PINNED_DIR: &str = "pinned";

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
		let store = PayloadStore::default();
		let h = store.insert(b"model".to_vec()).unwrap();
		assert_eq!(h, payload_hash(b"model"));
		assert_eq!(store.get(&h).unwrap().as_slice(), b"model");
		assert!(store.insert(vec![0; MAX_PAYLOAD_BYTES + 1]).is_none());
		for i in 0..MAX_PAYLOADS as u32 {
			store.insert(i.to_le_bytes().to_vec());
		}
		assert!(store.get(&h).is_none(), "the oldest is dropped past MAX_PAYLOADS");
		assert!(store.get(&payload_hash(&(MAX_PAYLOADS as u32 - 1).to_le_bytes())).is_some());
	}

	#[test]
	fn the_least_recently_used_goes_first_and_peers_requests_do_not_count_as_use() {
		let store = PayloadStore::default();
		let payload = |i: u32| i.to_le_bytes().to_vec();
		for i in 0..MAX_PAYLOADS as u32 {
			store.insert(payload(i));
		}
		let (first, second, third) = (payload_hash(&payload(0)), payload_hash(&payload(1)), payload_hash(&payload(2)));
		// This node reads the oldest: it stays, the next oldest goes.
		assert!(store.get(&first).is_some());
		store.insert(payload(1_000));
		assert!(store.serve(&first).is_some(), "used lately: kept");
		assert!(store.serve(&second).is_none(), "the least recently used is evicted");
		// A peer asking for the oldest, however often, does not keep it in.
		for _ in 0..10 {
			assert!(store.serve(&third).is_some());
		}
		store.insert(payload(1_001));
		assert!(store.serve(&third).is_none(), "peers' requests are not use");
		// Inserting a payload held already makes it the most recently used.
		let oldest = store.hashes()[0];
		let bytes = store.serve(&oldest).unwrap().to_vec();
		store.insert(bytes);
		store.insert(payload(1_002));
		assert!(store.serve(&oldest).is_some());
		assert_eq!(store.hashes().len(), MAX_PAYLOADS);
	}

	#[test]
	fn a_store_on_disk_reloads_what_it_held_and_drops_damaged_files() {
		let dir = std::env::temp_dir().join(format!("loopx-payload-store-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let store = PayloadStore::open(&dir).unwrap();
		let a = store.insert(b"model a".to_vec()).unwrap();
		let b = store.insert(b"model b".to_vec()).unwrap();
		// A file whose content does not match its name, and one that is not a model.
		fs::write(dir.join(format!("{}.payload", hex(&payload_hash(b"x")))), b"y").unwrap();
		fs::write(dir.join("notes.txt"), b"z").unwrap();
		let reopened = PayloadStore::open(&dir).unwrap();
		assert_eq!(reopened.get(&a).unwrap().as_slice(), b"model a");
		assert_eq!(reopened.get(&b).unwrap().as_slice(), b"model b");
		assert!(reopened.get(&payload_hash(b"x")).is_none());
		assert!(!dir.join(format!("{}.payload", hex(&payload_hash(b"x")))).exists(), "the damaged file is removed");
		// Evicted payloads leave the disk too.
		for i in 0..MAX_PAYLOADS as u32 {
			reopened.insert(i.to_le_bytes().to_vec());
		}
		assert!(!dir.join(format!("{}.payload", hex(&a))).exists());
		assert_eq!(
			fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "payload")).count(),
			MAX_PAYLOADS
		);
		assert_eq!(parse_hash(&hex(&a)), Some(a));
		assert_eq!(parse_hash("zz"), None);
		fs::remove_dir_all(&dir).unwrap();
	}

	#[test]
	fn a_pinned_payload_outlives_the_bound_and_a_restart() {
		let dir = std::env::temp_dir().join(format!("loopx-payload-pinned-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let store = PayloadStore::open(&dir).unwrap();
		let version = store.insert(b"a version in force".to_vec()).unwrap();
		assert_eq!(store.pin(b"a version in force"), Some(version));
		for i in 0..2 * MAX_PAYLOADS as u32 {
			store.insert(i.to_le_bytes().to_vec());
		}
		assert!(!store.hashes().contains(&version), "evicted from the bounded part");
		assert_eq!(store.get(&version).unwrap().as_slice(), b"a version in force");
		let reopened = PayloadStore::open(&dir).unwrap();
		assert_eq!(reopened.get(&version).unwrap().as_slice(), b"a version in force");
		// A pinned file altered on disk is not served.
		fs::write(dir.join(PINNED_DIR).join(format!("{}.payload", hex(&version))), b"forged").unwrap();
		assert!(reopened.get(&version).is_none());
		// A memory-only store pins in memory.
		let memory = PayloadStore::default();
		let h = memory.pin(b"kept").unwrap();
		assert_eq!(memory.get(&h).unwrap().as_slice(), b"kept");
		assert!(memory.pin(&vec![0; MAX_PAYLOAD_BYTES + 1]).is_none());
		fs::remove_dir_all(&dir).unwrap();
	}
}
