//! The message that carries a model, or one partition of it, to a gossip peer.
//!
//! Layout (all integers little-endian):
//!
//! | field | bytes |
//! |---|---|
//! | magic `LPXW` | 4 |
//! | format version (1) | 2 |
//! | model id | 32 |
//! | model version | 8 |
//! | precision tag (0 f32, 1 int8, 2 int4) | 1 |
//! | quantization block size | 4 |
//! | partition index, partition count | 2 + 2 |
//! | partition age (rounds of training behind it) | 8 |
//! | tensor count `T` | 2 |
//! | per tensor: dimension count `D`, then `D` × u32 dims | 1 + 4·D |
//! | payload length | 4 |
//! | payload: one f32 scale per block, then the codes ([`crate::quant`]) | payload length |
//! | SHA-256 of everything above | 32 |
//!
//! The tensor shapes describe the whole model (a TT core's shape `(r₀, m, n, r₁)` carries its
//! ranks); the payload holds the values of partition `p` of `K`: the `p`-th of `K` near-equal
//! contiguous ranges of the model's flattened parameters ([`partition_range`]).
//!
//! [`decode`] checks size limits, magic and version, parses the header (which fixes the length),
//! checks the hash, then every scale and code; any
//! malformed input gives a [`WireError`], never a panic (property-tested, see the tests and
//! `BENCHMARKS.md` for the fuzzing run).

use crate::quant::{Precision, Quantized};
use core::ops::Range;
use sha2::{Digest, Sha256};

/// Magic bytes that start every message.
pub const MAGIC: [u8; 4] = *b"LPXW";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Largest message accepted.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// Most tensors a model may have.
pub const MAX_TENSORS: usize = 1024;
/// Most dimensions a tensor may have.
pub const MAX_DIMS: usize = 6;
/// Most parameters a model may have.
pub const MAX_PARAMS: u64 = 1 << 28;
/// Largest quantization block.
pub const MAX_BLOCK: u32 = 1 << 16;
const HASH_LEN: usize = 32;

/// Why a message was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
	/// Shorter than the smallest possible message.
	#[error("message of {0} bytes is shorter than any valid message")]
	TooShort(usize),
	/// Longer than [`MAX_MESSAGE_BYTES`].
	#[error("message of {0} bytes exceeds the limit")]
	TooLarge(usize),
	/// Does not start with [`MAGIC`].
	#[error("not a LoopX model message (bad magic)")]
	BadMagic,
	/// A format version this crate does not read.
	#[error("unsupported format version {0}")]
	UnsupportedVersion(u16),
	/// The content hash does not match: corrupted in transit.
	#[error("content hash mismatch")]
	HashMismatch,
	/// The message ends inside a field.
	#[error("truncated at byte {0}")]
	Truncated(usize),
	/// Unknown precision tag.
	#[error("unknown precision tag {0}")]
	UnknownPrecision(u8),
	/// Block size zero or above [`MAX_BLOCK`].
	#[error("bad quantization block size {0}")]
	BadBlockSize(u32),
	/// Partition index not below the count, or a count of zero.
	#[error("bad partition {index} of {count}")]
	BadPartition {
		/// Index given.
		index: u16,
		/// Count given.
		count: u16,
	},
	/// More than [`MAX_TENSORS`] tensors, or none.
	#[error("bad tensor count {0}")]
	BadTensorCount(usize),
	/// A tensor with no, too many or zero-sized dimensions.
	#[error("tensor {0} has a bad shape")]
	BadShape(usize),
	/// More than [`MAX_PARAMS`] parameters.
	#[error("model has more than the allowed parameters")]
	TooManyParams,
	/// The payload length does not match the shapes, partition, precision and block size.
	#[error("payload is {found} bytes, expected {expected}")]
	PayloadLength {
		/// Expected.
		expected: usize,
		/// Found.
		found: usize,
	},
	/// A scale that is negative, NaN or infinite.
	#[error("block {0} has an invalid scale")]
	InvalidScale(usize),
	/// A code outside the precision's range (int8 −128, int4 nibble 0).
	#[error("value {0} has an invalid code")]
	InvalidCode(usize),
	/// An f32 value that is NaN or infinite.
	#[error("value {0} is not finite")]
	NonFinite(usize),
	/// More bytes than the header says the message has.
	#[error("{0} bytes beyond the message's length")]
	TrailingBytes(usize),
}

/// Which part of a model a message carries, and how trained that part is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
	/// Index `p` in `0..count`.
	pub index: u16,
	/// Number of partitions `K` (1: the whole model).
	pub count: u16,
	/// Age of this partition (the gossip merge weighs by it).
	pub age: u64,
}

impl Partition {
	/// The whole model at `age`.
	pub fn whole(age: u64) -> Self {
		Self { index: 0, count: 1, age }
	}
}

/// A decoded (or to-be-encoded) message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
	/// The model's identifier (e.g. the hash of its architecture on chain).
	pub model_id: [u8; 32],
	/// The sender's model version.
	pub model_version: u64,
	/// Shapes of all of the model's tensors, in order.
	pub shapes: Vec<Vec<u32>>,
	/// Which partition `values` holds.
	pub partition: Partition,
	/// The partition's values, quantized.
	pub values: Quantized,
}

/// Number of parameters of a model with `shapes`.
pub fn param_count(shapes: &[Vec<u32>]) -> u64 {
	shapes.iter().map(|s| s.iter().map(|&d| u64::from(d)).product::<u64>()).sum()
}

/// The range of flattened parameters that partition `index` of `count` covers.
pub fn partition_range(total: usize, index: u16, count: u16) -> Range<usize> {
	let count = u128::from(count.max(1));
	let at = |i: u128| (i * total as u128 / count) as usize;
	at(u128::from(index))..at(u128::from(index) + 1)
}

/// Encodes `msg`; fails with the error [`decode`] would give for it.
pub fn encode(msg: &Message) -> Result<Vec<u8>, WireError> {
	validate_header(msg.values.block as u32, msg.partition, &msg.shapes)?;
	let len = partition_range(param_count(&msg.shapes) as usize, msg.partition.index, msg.partition.count).len();
	if msg.values.len != len {
		return Err(WireError::PayloadLength { expected: len, found: msg.values.len });
	}
	let mut out = Vec::with_capacity(96 + msg.values.codes.len() + 4 * msg.values.scales.len());
	out.extend_from_slice(&MAGIC);
	out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
	out.extend_from_slice(&msg.model_id);
	out.extend_from_slice(&msg.model_version.to_le_bytes());
	out.push(msg.values.precision as u8);
	out.extend_from_slice(&(msg.values.block as u32).to_le_bytes());
	out.extend_from_slice(&msg.partition.index.to_le_bytes());
	out.extend_from_slice(&msg.partition.count.to_le_bytes());
	out.extend_from_slice(&msg.partition.age.to_le_bytes());
	out.extend_from_slice(&(msg.shapes.len() as u16).to_le_bytes());
	for shape in &msg.shapes {
		out.push(shape.len() as u8);
		for d in shape {
			out.extend_from_slice(&d.to_le_bytes());
		}
	}
	let payload_len = msg.values.scales.len() * 4 + msg.values.codes.len();
	out.extend_from_slice(&(payload_len as u32).to_le_bytes());
	for s in &msg.values.scales {
		out.extend_from_slice(&s.to_le_bytes());
	}
	out.extend_from_slice(&msg.values.codes);
	let hash = Sha256::digest(&out);
	out.extend_from_slice(&hash);
	if out.len() > MAX_MESSAGE_BYTES {
		return Err(WireError::TooLarge(out.len()));
	}
	decode(&out)?; // what we send, a peer accepts
	Ok(out)
}

/// Decodes and validates a message.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
	const MIN: usize = 4 + 2 + 32 + 8 + 1 + 4 + 2 + 2 + 8 + 2 + 4 + HASH_LEN;
	if bytes.len() < MIN {
		return Err(WireError::TooShort(bytes.len()));
	}
	if bytes.len() > MAX_MESSAGE_BYTES {
		return Err(WireError::TooLarge(bytes.len()));
	}
	if bytes[..4] != MAGIC {
		return Err(WireError::BadMagic);
	}
	let version = u16::from_le_bytes([bytes[4], bytes[5]]);
	if version != FORMAT_VERSION {
		return Err(WireError::UnsupportedVersion(version));
	}
	// The header says how long the message is: shorter is truncated, longer has extra bytes.
	let (message, end) = decode_body(bytes)?;
	let expected = end + HASH_LEN;
	if bytes.len() < expected {
		return Err(WireError::Truncated(bytes.len()));
	}
	if bytes.len() > expected {
		return Err(WireError::TrailingBytes(bytes.len() - expected));
	}
	if Sha256::digest(&bytes[..end]).as_slice() != &bytes[end..] {
		return Err(WireError::HashMismatch);
	}
	validate_values(&message.values)?;
	Ok(message)
}

/// The SHA-256 content hash of an encoded message (its last 32 bytes, checked by [`decode`]).
pub fn content_hash(bytes: &[u8]) -> Option<[u8; 32]> {
	bytes.len().checked_sub(HASH_LEN).map(|at| {
		let mut h = [0; 32];
		h.copy_from_slice(&bytes[at..]);
		h
	})
}

fn validate_header(block: u32, partition: Partition, shapes: &[Vec<u32>]) -> Result<(), WireError> {
	if block == 0 || block > MAX_BLOCK {
		return Err(WireError::BadBlockSize(block));
	}
	if partition.count == 0 || partition.index >= partition.count {
		return Err(WireError::BadPartition { index: partition.index, count: partition.count });
	}
	if shapes.is_empty() || shapes.len() > MAX_TENSORS {
		return Err(WireError::BadTensorCount(shapes.len()));
	}
	let mut total = 0u64;
	for (i, shape) in shapes.iter().enumerate() {
		if shape.is_empty() || shape.len() > MAX_DIMS || shape.contains(&0) {
			return Err(WireError::BadShape(i));
		}
		let size = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)).filter(|&s| s <= MAX_PARAMS));
		total = size.and_then(|s| total.checked_add(s)).filter(|&t| t <= MAX_PARAMS).ok_or(WireError::TooManyParams)?;
	}
	Ok(())
}

/// A bounds-checked reader over the message body.
struct Reader<'a> {
	bytes: &'a [u8],
	at: usize,
}

impl<'a> Reader<'a> {
	fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
		let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(WireError::Truncated(self.at))?;
		let out = &self.bytes[self.at..end];
		self.at = end;
		Ok(out)
	}
	fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
		let mut a = [0; N];
		a.copy_from_slice(self.take(N)?);
		Ok(a)
	}
	fn u8(&mut self) -> Result<u8, WireError> {
		Ok(self.array::<1>()?[0])
	}
	fn u16(&mut self) -> Result<u16, WireError> {
		Ok(u16::from_le_bytes(self.array()?))
	}
	fn u32(&mut self) -> Result<u32, WireError> {
		Ok(u32::from_le_bytes(self.array()?))
	}
	fn u64(&mut self) -> Result<u64, WireError> {
		Ok(u64::from_le_bytes(self.array()?))
	}
}

/// Parses the header and payload from `bytes` (which may hold more after them); returns the
/// message and where its hashed part ends.
fn decode_body(bytes: &[u8]) -> Result<(Message, usize), WireError> {
	let mut r = Reader { bytes, at: 6 };
	let model_id = r.array::<32>()?;
	let model_version = r.u64()?;
	let tag = r.u8()?;
	let precision = Precision::from_tag(tag).ok_or(WireError::UnknownPrecision(tag))?;
	let block = r.u32()?;
	let partition = Partition { index: r.u16()?, count: r.u16()?, age: r.u64()? };
	let tensors = usize::from(r.u16()?);
	if tensors == 0 || tensors > MAX_TENSORS {
		return Err(WireError::BadTensorCount(tensors));
	}
	let mut shapes = Vec::with_capacity(tensors);
	for i in 0..tensors {
		let dims = usize::from(r.u8()?);
		if dims == 0 || dims > MAX_DIMS {
			return Err(WireError::BadShape(i));
		}
		shapes.push((0..dims).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?);
	}
	validate_header(block, partition, &shapes)?;
	let len = partition_range(param_count(&shapes) as usize, partition.index, partition.count).len();
	let block = block as usize;
	let expected = precision.encoded_len(len, block);
	let found = r.u32()? as usize;
	if found != expected {
		return Err(WireError::PayloadLength { expected, found });
	}
	let blocks = if precision == Precision::F32 { 0 } else { len.div_ceil(block) };
	let scales = r.take(blocks * 4)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
	let codes = r.take(found - blocks * 4)?.to_vec();
	let values = Quantized { precision, block, len, scales, codes };
	Ok((Message { model_id, model_version, shapes, partition, values }, r.at))
}

/// Checks every scale and code of a parsed payload.
fn validate_values(q: &Quantized) -> Result<(), WireError> {
	if let Some(b) = q.scales.iter().position(|s| !s.is_finite() || *s < 0.0) {
		return Err(WireError::InvalidScale(b));
	}
	match q.precision {
		Precision::F32 => {
			if let Some(i) = q.codes.chunks_exact(4).position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite()) {
				return Err(WireError::NonFinite(i));
			}
		},
		Precision::Int8 => {
			if let Some(i) = q.codes.iter().position(|&c| c == 0x80) {
				return Err(WireError::InvalidCode(i));
			}
		},
		Precision::Int4 => {
			for (i, &c) in q.codes.iter().enumerate() {
				if c & 0x0f == 0 {
					return Err(WireError::InvalidCode(2 * i));
				}
				let high = c >> 4;
				// The high nibble past an odd length is padding: it must hold code 0 (stored 8).
				let padding = 2 * i + 1 == q.len;
				if (!padding && high == 0) || (padding && high != 8) {
					return Err(WireError::InvalidCode(2 * i + 1));
				}
			}
		},
	}
	Ok(())
}

#[cfg(test)]
mod tests;
