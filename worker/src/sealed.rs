//! Data-market payloads sealed to the buyer's registered X25519 key.
//!
//! A seller never sends plaintext: the payload of a deal is encrypted to the key the buyer had
//! registered when the deal matched (`Deal::buyer_key`), so the relaying peers and anyone who
//! fetches it learn nothing but its size. The scheme is ECIES on RustCrypto parts:
//! - a fresh X25519 key pair per payload; its Diffie–Hellman with the buyer's key, checked to
//!   be contributory (a low-order buyer key would give a known shared secret);
//! - HKDF-SHA256 of the shared secret into a ChaCha20-Poly1305 key, with both public keys in
//!   the info (the key is bound to this sender and this recipient);
//! - the deal id as associated data, so a payload sealed for one deal does not open as another.
//!
//! Wire form: `version (1) ‖ ephemeral public key (32) ‖ ciphertext with its 16-byte tag`.
//!
//! Fair exchange: the ChaCha20-Poly1305 key (the *deal key*) is what the seller commits to on
//! chain at delivery. Seller (from its one-time secret) and buyer (from its own secret) both
//! derive it; in a dispute either reveals it, the chain checks it against the commitment, and
//! the voters open the very ciphertext the buyer received with it ([`open_with_key`]).
//! The nonce is zero: every key encrypts exactly one message.
//!
//! A validator's X25519 secret is derived from its worker secret (see [`crate::secret`]), so it
//! survives restarts and is never stored elsewhere.

use chacha20poly1305::{
	aead::{Aead, KeyInit, Payload},
	ChaCha20Poly1305, Key, Nonce,
};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

/// The format version this node writes and reads.
pub const VERSION: u8 = 1;
/// Bytes a sealed payload adds to its plaintext.
pub const OVERHEAD: usize = 1 + 32 + 16;
/// Domain of the key derivation.
const INFO: &[u8] = b"loopx/data-market/sealed-payload/v1";

/// Why a sealed payload did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
	/// Shorter than the version, the ephemeral key and the tag.
	TooShort,
	/// A format version this node does not know.
	UnknownVersion(u8),
	/// The ephemeral key is of low order (the shared secret would be known to anyone).
	WeakKey,
	/// Not sealed to this key, sealed for another deal, or altered on the way.
	NotAuthentic,
}

impl core::fmt::Display for OpenError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::TooShort => write!(f, "shorter than a sealed payload's header and tag"),
			Self::UnknownVersion(v) => write!(f, "unknown sealed-payload version {v}"),
			Self::WeakKey => write!(f, "low-order ephemeral key"),
			Self::NotAuthentic => write!(f, "does not open with this key for this deal"),
		}
	}
}

/// Why a payload could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
	/// The recipient's key is of low order: anything sealed to it could be read by anyone.
	WeakRecipientKey,
}

/// The X25519 secret of a worker, derived from its worker secret.
pub fn deal_secret(worker_secret: &[u8; 32]) -> StaticSecret {
	StaticSecret::from(sp_crypto_hashing::blake2_256(&[&b"loopx/x25519"[..], worker_secret].concat()))
}

/// The public key to register in the data market for `secret`.
pub fn public_key(secret: &StaticSecret) -> [u8; 32] {
	PublicKey::from(secret).to_bytes()
}

/// The ChaCha20-Poly1305 key of a payload: HKDF-SHA256 of the shared secret, bound to both
/// public keys. This is the deal key the seller commits to at delivery
/// (`pallet_data_market::deal_key_commitment`) and reveals in a dispute.
fn aead_key(shared: &[u8; 32], ephemeral: &[u8; 32], recipient: &[u8; 32]) -> [u8; 32] {
	let mut key = [0u8; 32];
	let info = [INFO, ephemeral, recipient].concat();
	// 32 bytes are far below HKDF-SHA256's 8,160-byte limit: `expand` cannot fail here.
	let _ = Hkdf::<Sha256>::new(None, shared).expand(&info, &mut key);
	key
}

/// The one-time secret a seller seals deal `deal` with: derived from its deal secret, the deal,
/// the buyer's key and the payload's content hash, so the seller can derive the deal key again
/// after a restart (to reveal it in a dispute) without storing it. One key still encrypts one
/// message: the same inputs always seal the same plaintext.
pub fn deal_ephemeral(seller: &StaticSecret, deal: u64, recipient: &[u8; 32], content_hash: &[u8; 32]) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&[&b"loopx/deal-ephemeral"[..], &seller.to_bytes(), &deal.to_le_bytes(), recipient, content_hash].concat())
}

/// The deal key a seller's one-time secret `ephemeral` gives with `recipient` (the key
/// [`seal_with_key`] returns for the same inputs).
pub fn sender_key(ephemeral: [u8; 32], recipient: &[u8; 32]) -> Result<[u8; 32], SealError> {
	let ephemeral = StaticSecret::from(ephemeral);
	let ephemeral_public = PublicKey::from(&ephemeral).to_bytes();
	let shared = ephemeral.diffie_hellman(&PublicKey::from(*recipient));
	if !shared.was_contributory() {
		return Err(SealError::WeakRecipientKey);
	}
	Ok(aead_key(shared.as_bytes(), &ephemeral_public, recipient))
}

/// Seals `plaintext` of deal `deal` to `recipient`, with the one-time secret `ephemeral` (the
/// caller derives it, see [`deal_ephemeral`], which keeps this function deterministic).
pub fn seal(plaintext: &[u8], recipient: &[u8; 32], deal: u64, ephemeral: [u8; 32]) -> Result<Vec<u8>, SealError> {
	seal_with_key(plaintext, recipient, deal, ephemeral).map(|(sealed, _)| sealed)
}

/// [`seal`], also returning the deal key the payload is sealed with.
pub fn seal_with_key(plaintext: &[u8], recipient: &[u8; 32], deal: u64, ephemeral: [u8; 32]) -> Result<(Vec<u8>, [u8; 32]), SealError> {
	let ephemeral_public = PublicKey::from(&StaticSecret::from(ephemeral)).to_bytes();
	let key = sender_key(ephemeral, recipient)?;
	let aad = deal.to_le_bytes();
	// Encryption into a Vec cannot fail for inputs below ChaCha20's 256 GiB limit.
	let ciphertext =
		ChaCha20Poly1305::new(Key::from_slice(&key)).encrypt(Nonce::from_slice(&[0; 12]), Payload { msg: plaintext, aad: &aad }).unwrap_or_default();
	let mut sealed = Vec::with_capacity(OVERHEAD + plaintext.len());
	sealed.push(VERSION);
	sealed.extend_from_slice(&ephemeral_public);
	sealed.extend_from_slice(&ciphertext);
	Ok((sealed, key))
}

/// The deal key the holder of `secret` derives for a sealed payload (it opens the payload only
/// if the payload was sealed to this key's public key).
pub fn recipient_key(sealed: &[u8], secret: &StaticSecret) -> Result<[u8; 32], OpenError> {
	if sealed.len() < OVERHEAD {
		return Err(OpenError::TooShort);
	}
	if sealed[0] != VERSION {
		return Err(OpenError::UnknownVersion(sealed[0]));
	}
	let mut ephemeral = [0u8; 32];
	ephemeral.copy_from_slice(&sealed[1..33]);
	let shared = secret.diffie_hellman(&PublicKey::from(ephemeral));
	if !shared.was_contributory() {
		return Err(OpenError::WeakKey);
	}
	Ok(aead_key(shared.as_bytes(), &ephemeral, &public_key(secret)))
}

/// Opens a payload of deal `deal` with its deal key (as voters do once a dispute revealed it).
pub fn open_with_key(sealed: &[u8], key: &[u8; 32], deal: u64) -> Result<Vec<u8>, OpenError> {
	if sealed.len() < OVERHEAD {
		return Err(OpenError::TooShort);
	}
	if sealed[0] != VERSION {
		return Err(OpenError::UnknownVersion(sealed[0]));
	}
	let aad = deal.to_le_bytes();
	ChaCha20Poly1305::new(Key::from_slice(key))
		.decrypt(Nonce::from_slice(&[0; 12]), Payload { msg: &sealed[33..], aad: &aad })
		.map_err(|_| OpenError::NotAuthentic)
}

/// Opens a payload of deal `deal` sealed to the public key of `secret`.
pub fn open(sealed: &[u8], secret: &StaticSecret, deal: u64) -> Result<Vec<u8>, OpenError> {
	open_with_key(sealed, &recipient_key(sealed, secret)?, deal)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn buyer() -> StaticSecret {
		deal_secret(&[7; 32])
	}

	#[test]
	fn a_sealed_payload_opens_with_the_buyers_key_for_its_deal_only() {
		let buyer = buyer();
		let sealed = seal(b"wallet,amount\n1,2\n", &public_key(&buyer), 5, [1; 32]).unwrap();
		assert_eq!(sealed.len(), OVERHEAD + 18);
		assert_eq!(open(&sealed, &buyer, 5).unwrap(), b"wallet,amount\n1,2\n");
		// Another deal, another key: refused.
		assert_eq!(open(&sealed, &buyer, 6), Err(OpenError::NotAuthentic));
		assert_eq!(open(&sealed, &deal_secret(&[8; 32]), 5), Err(OpenError::NotAuthentic));
		// The plaintext does not appear in the sealed bytes.
		assert!(!sealed.windows(6).any(|w| w == b"wallet"));
	}

	#[test]
	fn any_altered_byte_is_refused() {
		let buyer = buyer();
		let sealed = seal(&[42; 100], &public_key(&buyer), 1, [3; 32]).unwrap();
		for i in 0..sealed.len() {
			let mut altered = sealed.clone();
			altered[i] ^= 0x01;
			assert!(open(&altered, &buyer, 1).is_err(), "byte {i} altered but opened");
		}
		assert_eq!(open(&sealed[..OVERHEAD - 1], &buyer, 1), Err(OpenError::TooShort));
		assert_eq!(open(&sealed[..sealed.len() - 1], &buyer, 1), Err(OpenError::NotAuthentic));
		let mut future = sealed.clone();
		future[0] = 2;
		assert_eq!(open(&future, &buyer, 1), Err(OpenError::UnknownVersion(2)));
	}

	#[test]
	fn low_order_keys_are_refused_both_ways() {
		// The identity point: Diffie–Hellman with it gives zero whatever the secret.
		assert_eq!(seal(b"x", &[0; 32], 1, [1; 32]), Err(SealError::WeakRecipientKey));
		let mut sealed = seal(b"x", &public_key(&buyer()), 1, [1; 32]).unwrap();
		sealed[1..33].copy_from_slice(&[0; 32]);
		assert_eq!(open(&sealed, &buyer(), 1), Err(OpenError::WeakKey));
	}

	#[test]
	fn seller_and_buyer_derive_the_same_deal_key_and_it_opens_the_payload_for_anyone() {
		let buyer = buyer();
		let seller = deal_secret(&[3; 32]);
		let ephemeral = deal_ephemeral(&seller, 4, &public_key(&buyer), &[9; 32]);
		let (sealed, key) = seal_with_key(b"rows", &public_key(&buyer), 4, ephemeral).unwrap();
		assert_eq!(recipient_key(&sealed, &buyer).unwrap(), key);
		assert_eq!(open_with_key(&sealed, &key, 4).unwrap(), b"rows");
		assert_eq!(open_with_key(&sealed, &key, 5), Err(OpenError::NotAuthentic), "bound to the deal");
		assert_eq!(open_with_key(&sealed, &[1; 32], 4), Err(OpenError::NotAuthentic));
		// Another buyer derives another key, which opens nothing.
		assert_ne!(recipient_key(&sealed, &deal_secret(&[8; 32])).unwrap(), key);
		// Derived again after a restart: the same payload, the same key.
		assert_eq!(seal_with_key(b"rows", &public_key(&buyer), 4, deal_ephemeral(&seller, 4, &public_key(&buyer), &[9; 32])).unwrap(), (sealed, key));
		assert_ne!(deal_ephemeral(&seller, 5, &public_key(&buyer), &[9; 32]), ephemeral);
		assert_eq!(sender_key(ephemeral, &public_key(&buyer)).unwrap(), key, "the seller derives it without the payload");
	}

	#[test]
	fn fresh_ephemeral_keys_give_unlinkable_payloads_and_the_deal_key_is_stable() {
		let to = public_key(&buyer());
		let a = seal(b"same", &to, 1, [1; 32]).unwrap();
		let b = seal(b"same", &to, 1, [2; 32]).unwrap();
		assert_ne!(a, b);
		assert_eq!(public_key(&deal_secret(&[7; 32])), to, "derived again from the same worker secret");
		assert_ne!(public_key(&deal_secret(&[9; 32])), to);
	}
}
