//! Per-block low-precision quantization for gossip messages.
//!
//! Values are cut into blocks of `block` entries; each block is stored as one f32 scale
//! `s = max|x| / q_max` and one integer code per entry in `[-q_max, q_max]` (`q_max` = 127 for
//! int8, 7 for int4). Codes use **stochastic rounding**: `q = ⌊x/s + u⌋`, `u ~ U[0, 1)`, so
//! `E[q·s] = x` (unbiased, which keeps gossip averages unbiased) and the error bound is
//! `|x − q·s| < s`, i.e. below `max|block| / q_max` per entry (tested).
//!
//! [`ErrorFeedback`] carries each round's quantization error into the next round's input
//! (Seide et al. 2014; Karimireddy et al. 2019), so errors do not accumulate over rounds.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// How parameters are encoded on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Precision {
	/// Plain little-endian f32 (no quantization).
	F32 = 0,
	/// 8-bit codes in `[-127, 127]`, one scale per block.
	Int8 = 1,
	/// 4-bit codes in `[-7, 7]`, two per byte, one scale per block.
	Int4 = 2,
}

impl Precision {
	/// The precision with wire tag `tag`.
	pub fn from_tag(tag: u8) -> Option<Self> {
		match tag {
			0 => Some(Self::F32),
			1 => Some(Self::Int8),
			2 => Some(Self::Int4),
			_ => None,
		}
	}

	/// Largest code magnitude (`None` for f32).
	pub fn q_max(self) -> Option<i32> {
		match self {
			Self::F32 => None,
			Self::Int8 => Some(127),
			Self::Int4 => Some(7),
		}
	}

	/// Bytes that `len` values take in this precision with blocks of `block` (codes + scales).
	pub fn encoded_len(self, len: usize, block: usize) -> usize {
		let blocks = len.div_ceil(block.max(1));
		match self {
			Self::F32 => len * 4,
			Self::Int8 => len + blocks * 4,
			Self::Int4 => len.div_ceil(2) + blocks * 4,
		}
	}
}

/// Quantized values: per-block scales and packed codes.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
	/// The precision of `codes`.
	pub precision: Precision,
	/// Entries per block.
	pub block: usize,
	/// Number of values.
	pub len: usize,
	/// One scale per block (empty for f32).
	pub scales: Vec<f32>,
	/// Codes: f32 LE bytes, one i8 per value, or two 4-bit codes per byte (low nibble first,
	/// stored as code + 8, so 0 never occurs).
	pub codes: Vec<u8>,
}

/// Quantizes `values` with stochastic rounding drawn from `rng`.
pub fn quantize(values: &[f32], precision: Precision, block: usize, rng: &mut ChaCha8Rng) -> Quantized {
	let block = block.max(1);
	let Some(q_max) = precision.q_max() else {
		return Quantized { precision, block, len: values.len(), scales: Vec::new(), codes: values.iter().flat_map(|v| v.to_le_bytes()).collect() };
	};
	let mut scales = Vec::with_capacity(values.len().div_ceil(block));
	let mut codes = Vec::with_capacity(values.len());
	for chunk in values.chunks(block) {
		let max = chunk.iter().fold(0.0f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
		let scale = if max > 0.0 { max / q_max as f32 } else { 0.0 };
		scales.push(scale);
		for &v in chunk {
			let code = if scale > 0.0 && v.is_finite() {
				let u: f32 = rng.random();
				((v / scale + u).floor() as i32).clamp(-q_max, q_max)
			} else {
				0
			};
			codes.push(code);
		}
	}
	let codes = match precision {
		Precision::Int8 => codes.iter().map(|&c| c as i8 as u8).collect(),
		_ => codes
			.chunks(2)
			.map(|pair| {
				let lo = (pair[0] + 8) as u8;
				let hi = pair.get(1).map_or(8, |&c| (c + 8) as u8);
				lo | (hi << 4)
			})
			.collect(),
	};
	Quantized { precision, block, len: values.len(), scales, codes }
}

/// The values `q` stands for.
pub fn dequantize(q: &Quantized) -> Vec<f32> {
	match q.precision {
		Precision::F32 => q.codes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
		Precision::Int8 => (0..q.len).map(|i| f32::from(q.codes[i] as i8) * q.scales[i / q.block]).collect(),
		Precision::Int4 => (0..q.len)
			.map(|i| {
				let byte = q.codes[i / 2];
				let nibble = if i % 2 == 0 { byte & 0x0f } else { byte >> 4 };
				(i32::from(nibble) - 8) as f32 * q.scales[i / q.block]
			})
			.collect(),
	}
}

/// Error feedback: remembers what quantization lost and adds it to the next round's values.
#[derive(Clone, Debug, Default)]
pub struct ErrorFeedback {
	residual: Vec<f32>,
}

impl ErrorFeedback {
	/// Quantizes `values` plus the carried error and keeps the new error for next time.
	pub fn compress(&mut self, values: &[f32], precision: Precision, block: usize, rng: &mut ChaCha8Rng) -> Quantized {
		if self.residual.len() != values.len() {
			self.residual = vec![0.0; values.len()];
		}
		let corrected: Vec<f32> = values.iter().zip(&self.residual).map(|(v, e)| v + e).collect();
		let q = quantize(&corrected, precision, block, rng);
		for ((e, c), d) in self.residual.iter_mut().zip(&corrected).zip(dequantize(&q)) {
			*e = c - d;
		}
		q
	}

	/// The error carried into the next round.
	pub fn residual(&self) -> &[f32] {
		&self.residual
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use rand::SeedableRng;

	fn values(seed: u64, n: usize) -> Vec<f32> {
		let mut rng = ChaCha8Rng::seed_from_u64(seed);
		(0..n).map(|_| rng.random_range(-3.0f32..3.0)).collect()
	}

	#[test]
	fn error_stays_below_one_step_per_block() {
		let mut rng = ChaCha8Rng::seed_from_u64(1);
		let x = values(2, 1000);
		for precision in [Precision::Int8, Precision::Int4] {
			let q = quantize(&x, precision, 64, &mut rng);
			assert_eq!(q.codes.len() + q.scales.len() * 4, precision.encoded_len(1000, 64));
			let y = dequantize(&q);
			for (i, (a, b)) in x.iter().zip(&y).enumerate() {
				let step = q.scales[i / 64];
				assert!((a - b).abs() < step * 1.0001, "{precision:?} #{i}: {a} vs {b}, step {step}");
			}
		}
	}

	#[test]
	fn f32_is_lossless_and_zeros_stay_zero() {
		let mut rng = ChaCha8Rng::seed_from_u64(1);
		let x = values(3, 33);
		assert_eq!(dequantize(&quantize(&x, Precision::F32, 8, &mut rng)), x);
		let zeros = vec![0.0f32; 17];
		assert_eq!(dequantize(&quantize(&zeros, Precision::Int4, 8, &mut rng)), zeros);
	}

	#[test]
	fn stochastic_rounding_is_unbiased() {
		// 0.3 of a step: rounds up 30 % of the time.
		let x = vec![1.0f32, 0.3 / 7.0];
		let mut rng = ChaCha8Rng::seed_from_u64(4);
		let n = 20_000;
		let mean = (0..n).map(|_| dequantize(&quantize(&x, Precision::Int4, 2, &mut rng))[1] as f64).sum::<f64>() / n as f64;
		assert!((mean - 0.3 / 7.0).abs() < 0.002, "mean {mean}");
	}

	#[test]
	fn error_feedback_keeps_the_running_sum_close() {
		// Sending the same vector for many rounds: the sum of what arrived tracks the sum sent,
		// within one quantization step, instead of drifting by one step per round.
		let x = values(5, 256);
		let mut rng = ChaCha8Rng::seed_from_u64(6);
		let mut ef = ErrorFeedback::default();
		let mut received = vec![0.0f64; x.len()];
		let rounds = 50;
		for _ in 0..rounds {
			let q = ef.compress(&x, Precision::Int4, 32, &mut rng);
			for (r, v) in received.iter_mut().zip(dequantize(&q)) {
				*r += f64::from(v);
			}
		}
		let step = 3.0 * 2.0 / 7.0; // upper bound on any block's scale (|x| < 3, residual < step)
		for (r, v) in received.iter().zip(&x) {
			assert!((r - rounds as f64 * f64::from(*v)).abs() < step, "{r} vs {}", rounds as f64 * *v as f64);
		}
	}
}
