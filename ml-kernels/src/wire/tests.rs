use super::*;
use crate::quant::{dequantize, quantize};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn shapes() -> Vec<Vec<u32>> {
	vec![vec![1, 4, 2, 3], vec![3, 5, 2, 1], vec![7]]
}

fn message(precision: Precision, partition: Partition) -> Message {
	let shapes = shapes();
	let total = param_count(&shapes) as usize;
	let range = partition_range(total, partition.index, partition.count);
	let values: Vec<f32> = range.map(|i| (i as f32 * 0.37).sin()).collect();
	let mut rng = ChaCha8Rng::seed_from_u64(1);
	Message { model_id: [7; 32], model_version: 42, shapes, partition, values: quantize(&values, precision, 16, &mut rng) }
}

fn rehash(mut bytes: Vec<u8>) -> Vec<u8> {
	let at = bytes.len() - 32;
	let hash = Sha256::digest(&bytes[..at]);
	bytes[at..].copy_from_slice(&hash);
	bytes
}

/// Offset of the payload-length field in `message(..)`'s encoding.
fn payload_len_at() -> usize {
	4 + 2 + 32 + 8 + 1 + 4 + 2 + 2 + 8 + 2 + shapes().iter().map(|s| 1 + 4 * s.len()).sum::<usize>()
}

#[test]
fn round_trips_every_precision_and_partition() {
	for precision in [Precision::F32, Precision::Int8, Precision::Int4] {
		for (index, count) in [(0, 1), (0, 3), (2, 3)] {
			let msg = message(precision, Partition { index, count, age: 9 });
			let bytes = encode(&msg).unwrap();
			assert_eq!(decode(&bytes).unwrap(), msg);
			assert_eq!(content_hash(&bytes).unwrap().as_slice(), &bytes[bytes.len() - 32..]);
		}
	}
}

#[test]
fn compressed_messages_are_small() {
	let f32_len = encode(&message(Precision::F32, Partition::whole(0))).unwrap().len();
	let int4_len = encode(&message(Precision::Int4, Partition::whole(0))).unwrap().len();
	assert!(int4_len < f32_len);
	let q = message(Precision::Int4, Partition::whole(0)).values;
	assert_eq!(dequantize(&q).len(), 61);
}

#[test]
fn partitions_cover_the_model_exactly_once() {
	for total in [0usize, 1, 7, 61, 1000] {
		for count in 1..=9u16 {
			let mut next = 0;
			for index in 0..count {
				let r = partition_range(total, index, count);
				assert_eq!(r.start, next);
				next = r.end;
			}
			assert_eq!(next, total);
		}
	}
}

#[test]
fn rejects_each_kind_of_malformed_message() {
	let good = encode(&message(Precision::Int8, Partition::whole(1))).unwrap();
	let plen = payload_len_at();
	let edit = |at: usize, bytes: &[u8]| {
		let mut b = good.clone();
		b[at..at + bytes.len()].copy_from_slice(bytes);
		rehash(b)
	};
	assert_eq!(decode(&good[..10]), Err(WireError::TooShort(10)));
	assert_eq!(decode(&vec![0; MAX_MESSAGE_BYTES + 1]), Err(WireError::TooLarge(MAX_MESSAGE_BYTES + 1)));
	assert_eq!(decode(&edit(0, b"XPXW")), Err(WireError::BadMagic));
	assert_eq!(decode(&edit(4, &2u16.to_le_bytes())), Err(WireError::UnsupportedVersion(2)));
	let mut flipped = good.clone();
	flipped[plen + 10] ^= 0x01;
	assert_eq!(decode(&flipped), Err(WireError::HashMismatch));
	assert_eq!(decode(&good[..good.len() - 5]), Err(WireError::Truncated(good.len() - 5)));
	let mut longer = good.clone();
	longer.extend_from_slice(&[0; 3]);
	assert_eq!(decode(&longer), Err(WireError::TrailingBytes(3)));
	assert_eq!(decode(&edit(46, &[9])), Err(WireError::UnknownPrecision(9)));
	assert_eq!(decode(&edit(47, &0u32.to_le_bytes())), Err(WireError::BadBlockSize(0)));
	assert_eq!(decode(&edit(51, &[3, 0, 3, 0])), Err(WireError::BadPartition { index: 3, count: 3 }));
	assert_eq!(decode(&edit(63, &0u16.to_le_bytes())), Err(WireError::BadTensorCount(0)));
	assert_eq!(decode(&edit(65, &[7])), Err(WireError::BadShape(0)));
	assert_eq!(decode(&edit(66, &0u32.to_le_bytes())), Err(WireError::BadShape(0)));
	assert_eq!(decode(&edit(66, &u32::MAX.to_le_bytes())), Err(WireError::TooManyParams));
	assert_eq!(decode(&edit(plen, &5u32.to_le_bytes())), Err(WireError::PayloadLength { expected: 61 + 4 * 4, found: 5 }));
	assert_eq!(decode(&edit(plen + 4, &f32::NAN.to_le_bytes())), Err(WireError::InvalidScale(0)));
	assert_eq!(decode(&edit(plen + 4 + 4, &(-1.0f32).to_le_bytes())), Err(WireError::InvalidScale(1)));
	assert_eq!(decode(&edit(plen + 4 + 16 + 5, &[0x80])), Err(WireError::InvalidCode(5)));

	let int4 = encode(&message(Precision::Int4, Partition::whole(1))).unwrap();
	let mut bad = int4.clone();
	bad[plen + 4 + 16] = 0x08 << 4; // low nibble 0: code −8
	assert_eq!(decode(&rehash(bad)), Err(WireError::InvalidCode(0)));
	let mut bad = int4.clone();
	let last = int4.len() - 33; // 61 values: the last byte's high nibble is padding
	bad[last] = (bad[last] & 0x0f) | 0x30;
	assert_eq!(decode(&rehash(bad)), Err(WireError::InvalidCode(61)));

	let f32s = encode(&message(Precision::F32, Partition::whole(1))).unwrap();
	let mut bad = f32s.clone();
	bad[plen + 4 + 8..plen + 4 + 12].copy_from_slice(&f32::INFINITY.to_le_bytes());
	assert_eq!(decode(&rehash(bad)), Err(WireError::NonFinite(2)));
}

#[test]
fn encode_refuses_what_decode_would() {
	let mut msg = message(Precision::Int8, Partition::whole(0));
	msg.values.len -= 1;
	assert!(matches!(encode(&msg), Err(WireError::PayloadLength { .. })));
	let mut msg = message(Precision::Int8, Partition::whole(0));
	msg.partition.count = 0;
	assert_eq!(encode(&msg), Err(WireError::BadPartition { index: 0, count: 0 }));
	let mut msg = message(Precision::Int8, Partition::whole(0));
	msg.values.scales[0] = f32::NAN;
	assert_eq!(encode(&msg), Err(WireError::InvalidScale(0)));
}

/// 3,000 cases per property by default; `LOOPX_FUZZ_CASES=<n>` runs a longer fuzzing session.
fn fuzz_config() -> ProptestConfig {
	let cases = std::env::var("LOOPX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
	ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
	#![proptest_config(fuzz_config())]

	/// Arbitrary bytes never panic the decoder.
	#[test]
	fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
		let _ = decode(&bytes);
		let mut with_magic = b"LPXW\x01\x00".to_vec();
		with_magic.extend_from_slice(&bytes);
		let _ = decode(&rehash_or_keep(with_magic));
	}

	/// Mutating a valid message (with or without fixing the hash) gives an error or a message
	/// that encodes back to the same bytes; never a panic.
	#[test]
	fn mutated_messages_are_rejected_or_consistent(
		precision in 0u8..3,
		edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..6),
		fix_hash in any::<bool>(),
	) {
		let precision = Precision::from_tag(precision).unwrap();
		let mut bytes = encode(&message(precision, Partition { index: 1, count: 2, age: 3 })).unwrap();
		for (at, value, kind) in edits {
			let at = at % bytes.len();
			match kind {
				0 => bytes[at] = value,
				1 => { bytes.truncate(at.max(1)); },
				2 => bytes.insert(at, value),
				_ => { bytes.remove(at); },
			}
			if bytes.is_empty() { break; }
		}
		if fix_hash && bytes.len() > 32 { bytes = rehash(bytes); }
		if let Ok(msg) = decode(&bytes) {
			prop_assert_eq!(encode(&msg).unwrap(), bytes);
		}
	}
}

fn rehash_or_keep(bytes: Vec<u8>) -> Vec<u8> {
	if bytes.len() > 32 {
		rehash(bytes)
	} else {
		bytes
	}
}
