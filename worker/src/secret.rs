//! The node's worker secret: 32 random bytes made once and kept in the node's persistent
//! offchain storage, so that salts derived from it survive restarts (a restarted validator
//! reveals the answers it committed before).

use codec::Encode;
use sp_core::offchain::{OffchainStorage, STORAGE_PREFIX};

const KEY: &[u8] = b"loopx-worker::secret";

/// The stored secret, made and stored on first use. Without storage it lives in memory only.
pub fn load_or_create<S: OffchainStorage>(storage: Option<&mut S>) -> [u8; 32] {
	if let Some(existing) = storage.as_ref().and_then(|s| s.get(STORAGE_PREFIX, KEY)) {
		if let Ok(secret) = <[u8; 32]>::try_from(existing.as_slice()) {
			return secret;
		}
	}
	let mut secret = [0u8; 32];
	if let Err(e) = getrandom::getrandom(&mut secret) {
		// No OS randomness: fall back to the clock. Salts only hide answers during the commit
		// phase; they need not be secret for long.
		log::warn!(target: crate::LOG_TARGET, "no OS randomness for the worker secret ({e}); using the clock");
		let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
		secret = sp_crypto_hashing::blake2_256(&nanos.as_nanos().encode());
	}
	match storage {
		Some(s) => s.set(STORAGE_PREFIX, KEY, &secret),
		None => log::warn!(target: crate::LOG_TARGET, "no offchain storage: the worker secret will not survive a restart"),
	}
	secret
}

/// The salt of this node's answer to `query`, which asks `question` (so that two queries with
/// one number on two forks get different salts).
pub fn answer_salt(secret: &[u8; 32], query: u64, question: &sp_core::H256) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&(b"answer", secret, query, question).encode())
}

/// The salt of this node's vote on `claim`, whose claimant committed to `claimed` (so that
/// two claims with one number on two forks get different salts), in the voting round whose
/// commit period ends at `commit_end` (an escalated claim votes again: a fresh salt keeps the
/// new commitment from matching the one this node revealed in the round before).
pub fn vote_salt(secret: &[u8; 32], claim: u64, claimed: &sp_core::H256, commit_end: u32) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&(b"vote", secret, claim, claimed, commit_end).encode())
}

/// The salt of the seal on the metric this node claims for model `new_hash` of `task` (secret:
/// a metric in parts per million is easily guessed, so the salt is what hides it).
pub fn score_salt(secret: &[u8; 32], task: u32, new_hash: &sp_core::H256) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&(b"score", secret, task, new_hash).encode())
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::offchain::storage::InMemOffchainStorage;

	#[test]
	fn the_secret_is_made_once_and_then_reloaded() {
		let mut storage = InMemOffchainStorage::default();
		let first = load_or_create(Some(&mut storage));
		let again = load_or_create(Some(&mut storage));
		assert_eq!(first, again);
		assert_ne!(first, load_or_create(Some(&mut InMemOffchainStorage::default())));
	}

	#[test]
	fn salts_differ_by_query() {
		let s = [7u8; 32];
		let asked = sp_core::H256::repeat_byte(5);
		assert_ne!(answer_salt(&s, 1, &asked), answer_salt(&s, 2, &asked));
		assert_eq!(answer_salt(&s, 1, &asked), answer_salt(&s, 1, &asked));
		assert_ne!(answer_salt(&s, 1, &asked), answer_salt(&s, 1, &sp_core::H256::repeat_byte(6)), "nor one question's another's");
		let claimed = sp_core::H256::repeat_byte(3);
		assert_ne!(answer_salt(&s, 1, &asked), vote_salt(&s, 1, &claimed, 10), "an answer's salt is not a vote's");
		assert_ne!(vote_salt(&s, 1, &claimed, 10), vote_salt(&s, 1, &sp_core::H256::repeat_byte(4), 10), "nor one claim's another's");
		assert_ne!(vote_salt(&s, 1, &claimed, 10), vote_salt(&s, 1, &claimed, 30), "nor one voting round's another's");
	}
}
