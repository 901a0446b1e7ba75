//! The chain's own tables as a compute-market dataset.
//!
//! Every validator that advertises a chain tag ([`TAG`], or [`TAG`]`/last<N>`) indexes
//! finalized blocks into SQL tables (blocks, extrinsics, events, transfers, transfer scores,
//! market events; layout [`SCHEMA_VERSION`]). A query over them names the blocks it sees,
//! `chain@<n>` (blocks `0..=n`) or `chain@<from>..<to>` (blocks `from..=to`), so that answerers
//! that have indexed to different heights, or keep different amounts of history, still agree
//! byte for byte: the tables show those blocks only. The runtime takes such a query only once
//! block `to` exists (below the block it is posted in), and answerers wait until it is
//! finalized and indexed.
//!
//! **What a validator holds.** `chain/v2` holds every block since genesis; `chain/v2/last<N>`
//! keeps only the last `N` finalized blocks (an operator's bound on the store). A query goes to
//! a validator keeping `N` blocks only if its first block will still be kept at the query's
//! deadline: `from + N > deadline` ([`can_answer`]).

use alloc::{format, vec::Vec};

/// The prefix of the chain's dataset tags.
pub const PREFIX: &[u8] = b"chain";

/// The version of the tables' layout that this runtime's chain queries are answered on. It is
/// raised, with the runtime, whenever the tables change, so that every answerer of one query
/// reads the same layout: a validator still on another release advertises another version and
/// is not drawn.
pub const SCHEMA_VERSION: u32 = 2;

/// The tag of a validator holding the chain's tables since genesis:
/// `chain/v<SCHEMA_VERSION>`.
pub const TAG: &[u8] = b"chain/v2";

/// The fewest blocks a validator may keep (a bound below this is refused by the node): an
/// hour of 3 s blocks, so that a bounded validator still answers the recent questions.
pub const MIN_KEPT_BLOCKS: u32 = 1_200;

/// What a dataset tag names of the chain's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
	/// Another dataset: the tag is advertised as it is.
	Other,
	/// The chain's tables as of block `to`, showing blocks `from..=to` (`chain@<to>`:
	/// `from` = 0; `chain@<from>..<to>`).
	Chain {
		/// The first block shown.
		from: u32,
		/// The last block shown (the state the query sees).
		to: u32,
	},
	/// `chain` without blocks, blocks that are not canonical decimal `u32`s, `from > to`, or
	/// an advertised tag (`chain/…`).
	Malformed,
}

/// Reads `tag`.
pub fn dataset(tag: &[u8]) -> Dataset {
	let Some(rest) = tag.strip_prefix(PREFIX) else { return Dataset::Other };
	match rest {
		[] => Dataset::Malformed,
		[b'@', blocks @ ..] => range(blocks).map_or(Dataset::Malformed, |(from, to)| Dataset::Chain { from, to }),
		// `chain/v2`, an advertised tag, is no dataset a query names.
		[b'/', ..] => Dataset::Malformed,
		// `chainlink`, say: another dataset.
		_ => Dataset::Other,
	}
}

/// `<to>` or `<from>..<to>`, `from <= to`.
fn range(blocks: &[u8]) -> Option<(u32, u32)> {
	match blocks.windows(2).position(|w| w == b"..") {
		None => Some((0, block(blocks)?)),
		Some(i) => {
			let (from, to) = (block(&blocks[..i])?, block(&blocks[i + 2..])?);
			(from <= to).then_some((from, to))
		},
	}
}

/// How much of the chain's tables a validator advertising a tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
	/// Not a chain tag of this schema version.
	Nothing,
	/// Every block since genesis ([`TAG`]).
	Everything,
	/// The last `N` finalized blocks (`chain/v2/last<N>`).
	Last(u32),
}

/// Reads an advertised `tag`.
pub fn holding(tag: &[u8]) -> Holding {
	let Some(rest) = tag.strip_prefix(TAG) else { return Holding::Nothing };
	match rest {
		[] => Holding::Everything,
		[b'/', b'l', b'a', b's', b't', digits @ ..] => block(digits).filter(|n| *n >= MIN_KEPT_BLOCKS).map_or(Holding::Nothing, Holding::Last),
		_ => Holding::Nothing,
	}
}

/// The tag of a validator keeping `kept` blocks (`None`: every block).
pub fn tag(kept: Option<u32>) -> Vec<u8> {
	match kept {
		None => TAG.to_vec(),
		Some(n) => format!("chain/v{SCHEMA_VERSION}/last{n}").into_bytes(),
	}
}

/// Whether a validator advertising `tag` can answer a query over blocks from `from` with
/// answers due by block `deadline`: it holds every block, or it keeps `N` blocks and block
/// `from` is still among them at the deadline (its oldest kept block is then at most
/// `deadline + 1 - N`).
pub fn can_answer(tag: &[u8], from: u32, deadline: u32) -> bool {
	match holding(tag) {
		Holding::Nothing => false,
		Holding::Everything => true,
		Holding::Last(n) => u64::from(from) + u64::from(n) > u64::from(deadline),
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
	fn chain_tags_name_a_range_of_blocks() {
		assert_eq!(dataset(b"chain@0"), Dataset::Chain { from: 0, to: 0 });
		assert_eq!(dataset(b"chain@1234"), Dataset::Chain { from: 0, to: 1234 });
		assert_eq!(dataset(b"chain@4294967295"), Dataset::Chain { from: 0, to: u32::MAX });
		assert_eq!(dataset(b"chain@100..250"), Dataset::Chain { from: 100, to: 250 });
		assert_eq!(dataset(b"chain@7..7"), Dataset::Chain { from: 7, to: 7 });
		for bad in [
			&b"chain"[..],
			b"chain@",
			b"chain@01",
			b"chain@4294967296",
			b"chain@12a",
			b"chain@-1",
			b"chain@ 1",
			b"chain@@1",
			b"chain/v2",
			b"chain@8..7",
			b"chain@..7",
			b"chain@7..",
			b"chain@1..2..3",
			b"chain@01..2",
		] {
			assert_eq!(dataset(bad), Dataset::Malformed, "{}", String::from_utf8_lossy(bad));
		}
		assert_eq!(dataset(b"wallet-demo"), Dataset::Other);
		assert_eq!(dataset(b"chainlink"), Dataset::Other);
	}

	#[test]
	fn the_advertised_tag_names_the_schema_version_and_what_is_kept() {
		assert_eq!(TAG, format!("chain/v{SCHEMA_VERSION}").as_bytes());
		assert_eq!(tag(None), TAG);
		assert_eq!(tag(Some(5_000)), b"chain/v2/last5000");
		assert_eq!(holding(&tag(Some(5_000))), Holding::Last(5_000));
		assert_eq!(holding(TAG), Holding::Everything);
		// Another layout, a bound below the minimum or not canonical: nothing this runtime uses.
		for other in [&b"chain/v1"[..], b"chain", b"chain/v2/last1199", b"chain/v2/last01200", b"chain/v2/", b"chain/v2x", b"chain/v20"] {
			assert_eq!(holding(other), Holding::Nothing, "{}", String::from_utf8_lossy(other));
		}
	}

	#[test]
	fn a_validator_keeping_n_blocks_answers_only_ranges_it_still_holds_at_the_deadline() {
		let kept = tag(Some(2_000));
		// Posted at 10,000, due by 10,040: a validator keeping 2,000 blocks still holds 8,041.
		assert!(can_answer(&kept, 8_041, 10_040));
		assert!(!can_answer(&kept, 8_040, 10_040));
		assert!(!can_answer(&kept, 0, 10_040));
		assert!(can_answer(TAG, 0, u32::MAX));
		assert!(!can_answer(b"chain/v1", 9_999, 10_040));
		assert!(!can_answer(b"wallet-demo", 9_999, 10_040));
	}
}
