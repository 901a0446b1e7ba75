//! When two answers to a compute-market query agree. Written once for the runtime (which pays
//! the answerers when all agree) and the workers (which vote on disputed answers), so that the
//! two cannot judge differently.
//!
//! - **Aggregation** answers come from SQLite running only deterministic functions with counted
//!   limits (`loopx-query-engine`): honest nodes give the same bytes, so they must be equal.
//! - **Inference** answers are model outputs in floating point, whose last bits depend on the
//!   CPU's vector instructions and the order of sums: a header line, then one decimal number a
//!   line (`0.123456`). Two answers agree when they have the same lines and every number is
//!   within [`INFERENCE_TOLERANCE`] millionths of the other's; a line that is not a number
//!   (an `#error` answer, the header) must be equal byte for byte.

/// Largest difference between two honest inference outputs, in millionths (0.001): far above
/// the ~10⁻⁶ that platforms differ by, far below what a different model or input gives.
pub const INFERENCE_TOLERANCE: u64 = 1_000;

/// Whether answers `a` and `b` agree, for an inference query when `inference`.
pub fn answers_agree(inference: bool, a: &[u8], b: &[u8]) -> bool {
	if a == b {
		return true;
	}
	if !inference {
		return false;
	}
	let (mut left, mut right) = (a.split(|&c| c == b'\n'), b.split(|&c| c == b'\n'));
	loop {
		match (left.next(), right.next()) {
			(None, None) => return true,
			(Some(x), Some(y)) if x == y => {},
			(Some(x), Some(y)) => match (micros(x), micros(y)) {
				(Some(x), Some(y)) if x.abs_diff(y) <= INFERENCE_TOLERANCE => {},
				_ => return false,
			},
			_ => return false,
		}
	}
}

/// A non-negative decimal with at most six fraction digits (`0.5`, `12.000001`) in millionths.
fn micros(text: &[u8]) -> Option<u64> {
	let (whole, fraction) = match text.iter().position(|&c| c == b'.') {
		Some(dot) => (&text[..dot], &text[dot + 1..]),
		None => (text, &[][..]),
	};
	let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
	if !digits(whole) || whole.len() > 12 || fraction.len() > 6 || (!fraction.is_empty() && !digits(fraction)) {
		return None;
	}
	let number = |s: &[u8]| s.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
	let scale = 10u64.pow(6 - fraction.len() as u32);
	Some(number(whole) * 1_000_000 + number(fraction) * scale)
}

#[cfg(test)]
mod tests {
	use super::answers_agree;

	#[test]
	fn aggregation_answers_agree_only_byte_for_byte() {
		assert!(answers_agree(false, b"n\n42\n", b"n\n42\n"));
		assert!(!answers_agree(false, b"avg\n0.500000\n", b"avg\n0.500001\n"));
	}

	#[test]
	fn inference_answers_agree_within_the_tolerance() {
		let honest = b"fraud_probability\n0.123456\n0.987654\n";
		assert!(answers_agree(true, honest, b"fraud_probability\n0.123457\n0.987650\n"), "platform noise");
		assert!(answers_agree(true, honest, b"fraud_probability\n0.124456\n0.987654\n"), "exactly the tolerance");
		assert!(!answers_agree(true, honest, b"fraud_probability\n0.124457\n0.987654\n"), "beyond it");
		assert!(!answers_agree(true, honest, b"fraud_probability\n0.900000\n0.987654\n"), "another model");
		assert!(!answers_agree(true, honest, b"fraud_probability\n0.123456\n"), "a row missing");
		assert!(!answers_agree(true, honest, b"fraud_probability\n0.123456\n0.987654\n0.5\n"), "a row more");
		assert!(!answers_agree(true, honest, b"probability\n0.123456\n0.987654\n"), "another header");
		assert!(!answers_agree(true, b"#error\tno input rows\n", b"#error\tother\n"));
		assert!(!answers_agree(true, honest, b"fraud_probability\n-0.123456\n0.987654\n"));
		assert!(!answers_agree(true, honest, b"fraud_probability\n0.1234560\n0.987654\n"), "seven digits are not ours");
		assert!(!answers_agree(true, honest, b"fraud_probability\n0.12e3\n0.987654\n"));
	}
}
