//! The chain's own tables as a compute-market dataset.
//!
//! Every validator that advertises the dataset tag [`TAG`] indexes finalized blocks into SQL
//! tables (blocks, extrinsics, events, transfers). A query over them names the block it sees,
//! `chain@<n>`, so that answerers that have indexed to different heights still agree byte for
//! byte: the tables show blocks `0..=n` only. The runtime takes such a query only once block
//! `n` exists (`n` below the block it is posted in), and answerers wait until `n` is finalized
//! and indexed.

/// The tag validators advertise for the chain's tables.
pub const TAG: &[u8] = b"chain";

/// What a dataset tag says about the chain's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
	/// Another dataset: the tag is advertised as it is.
	Other,
	/// The chain's tables as of block `n` (`chain@<n>`).
	ChainAt(u32),
	/// `chain` without a block, or a block that is not a canonical decimal `u32`.
	Malformed,
}

/// Reads `tag`.
pub fn dataset(tag: &[u8]) -> Dataset {
	let Some(rest) = tag.strip_prefix(TAG) else { return Dataset::Other };
	match rest {
		[] => Dataset::Malformed,
		[b'@', digits @ ..] => block(digits).map_or(Dataset::Malformed, Dataset::ChainAt),
		// `chainlink`, say: another dataset.
		_ if !rest.starts_with(b"@") => Dataset::Other,
		_ => Dataset::Malformed,
	}
}

/// The tag validators advertise for dataset `tag`: [`TAG`] for the chain's tables at any
/// block, `tag` itself otherwise.
pub fn advertised(tag: &[u8]) -> &[u8] {
	match dataset(tag) {
		Dataset::ChainAt(_) => TAG,
		_ => tag,
	}
}

/// A canonical decimal `u32`: digits only, no leading zero (so one block has one tag).
fn block(digits: &[u8]) -> Option<u32> {
	let canonical = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && (digits == b"0" || digits[0] != b'0');
	if !canonical || digits.len() > 10 {
		return None;
	}
	let n = digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
	u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn chain_tags_name_one_block() {
		assert_eq!(dataset(b"chain@0"), Dataset::ChainAt(0));
		assert_eq!(dataset(b"chain@1234"), Dataset::ChainAt(1234));
		assert_eq!(dataset(b"chain@4294967295"), Dataset::ChainAt(u32::MAX));
		for bad in [&b"chain"[..], b"chain@", b"chain@01", b"chain@4294967296", b"chain@12a", b"chain@-1", b"chain@ 1", b"chain@@1"] {
			assert_eq!(dataset(bad), Dataset::Malformed, "{}", String::from_utf8_lossy(bad));
		}
		assert_eq!(dataset(b"wallet-demo"), Dataset::Other);
		assert_eq!(dataset(b"chainlink"), Dataset::Other);
		assert_eq!(advertised(b"chain@7"), TAG);
		assert_eq!(advertised(b"wallet-demo"), b"wallet-demo");
	}
}
