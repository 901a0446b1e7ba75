//! The text format of inference queries on fraud classifiers, so a polkadot.js client can post
//! and read them without any codec.
//!
//! - **Input**: one line per transaction, each 16 comma-separated numbers — the wallet features
//!   of `ml-kernels`' `FEATURE_NAMES`, in that order (`log_amount, amount_zscore_vs_sender, …`).
//! - **Answer**: `fraud_probability` then one line per input row, the probability with 6
//!   decimals. An input that does not parse is answered with `#error\t<message>`, the same on
//!   every honest node (as failing SQL is).

use loopx_ml_kernels::data::wallet::FEATURES;

/// Rows one query may ask for (the runtime bounds the input's bytes as well).
pub const MAX_ROWS: usize = 64;

/// The row-major features of `input`, or why it is not a valid input.
pub fn parse_input(input: &[u8]) -> Result<Vec<f32>, String> {
	let text = std::str::from_utf8(input).map_err(|_| "input is not UTF-8".to_string())?;
	let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
	if lines.is_empty() {
		return Err("no input rows".into());
	}
	if lines.len() > MAX_ROWS {
		return Err(format!("{} rows; at most {MAX_ROWS}", lines.len()));
	}
	let mut features = Vec::with_capacity(lines.len() * FEATURES);
	for (i, line) in lines.iter().enumerate() {
		let row: Vec<f32> = line
			.split(',')
			.map(|v| v.trim().parse::<f32>().ok().filter(|x| x.is_finite()))
			.collect::<Option<_>>()
			.ok_or_else(|| format!("row {}: not a list of finite numbers", i + 1))?;
		if row.len() != FEATURES {
			return Err(format!("row {}: {} values; {FEATURES} expected", i + 1, row.len()));
		}
		features.extend(row);
	}
	Ok(features)
}

/// The answer for `probabilities`.
pub fn format_answer(probabilities: &[f32]) -> Vec<u8> {
	let mut out = String::from("fraud_probability\n");
	for p in probabilities {
		out.push_str(&format!("{p:.6}\n"));
	}
	out.into_bytes()
}

/// The answer to an input that does not parse.
pub fn error_answer(why: &str) -> Vec<u8> {
	format!("#error\t{why}\n").into_bytes()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn row(v: f32) -> String {
		vec![v.to_string(); FEATURES].join(",")
	}

	#[test]
	fn parses_rows_of_sixteen_numbers() {
		let input = format!("{}\n {} \n\n", row(0.5), row(-1.0));
		let f = parse_input(input.as_bytes()).unwrap();
		assert_eq!(f.len(), 2 * FEATURES);
		assert_eq!((f[0], f[FEATURES]), (0.5, -1.0));
	}

	#[test]
	fn refuses_malformed_input_with_a_reason() {
		assert_eq!(parse_input(b""), Err("no input rows".into()));
		assert_eq!(parse_input(&[0xff, 0xfe]), Err("input is not UTF-8".into()));
		assert_eq!(parse_input(b"1,2,3"), Err(format!("row 1: 3 values; {FEATURES} expected")));
		let nan = format!("{}\n{},NaN", row(1.0), vec!["1"; FEATURES - 1].join(","));
		assert_eq!(parse_input(nan.as_bytes()), Err("row 2: not a list of finite numbers".into()));
		let many = vec![row(0.0); MAX_ROWS + 1].join("\n");
		assert!(parse_input(many.as_bytes()).unwrap_err().contains("at most"));
	}

	#[test]
	fn answers_one_line_per_row() {
		assert_eq!(format_answer(&[0.25, 1.0]), b"fraud_probability\n0.250000\n1.000000\n".to_vec());
	}
}
