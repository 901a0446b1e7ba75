//! Per-block queues of due work (deadlines, timeouts) that `on_initialize` drains.
//!
//! Each block has a bounded bucket. When the bucket of the wanted block is full the item goes
//! to the first of the next [`MAX_SLIDE`] blocks with room (a little late rather than never),
//! so a hook handles at most the bucket bound per block.

use frame_support::{storage::StorageMap, traits::Get, BoundedVec};
use sp_runtime::traits::{One, Saturating};

/// How many blocks past the wanted one an item may slide when buckets are full.
pub const MAX_SLIDE: u32 = 16;

/// Puts `item` in the bucket of block `at`, or of the first later block (at most
/// [`MAX_SLIDE`] later) with room. Returns the block, or `None` if all were full.
pub fn schedule<M, B, I, S>(at: B, item: I) -> Option<B>
where
	M: StorageMap<B, BoundedVec<I, S>, Query = BoundedVec<I, S>>,
	B: codec::FullCodec + Copy + Saturating + One,
	I: codec::FullCodec + Clone,
	S: Get<u32>,
{
	let mut block = at;
	for _ in 0..=MAX_SLIDE {
		if M::mutate(block, |due| due.try_push(item.clone()).is_ok()) {
			return Some(block);
		}
		block = block.saturating_add(B::one());
	}
	None
}

/// Removes `item` from the bucket of block `at` (deleting the bucket once empty).
pub fn unschedule<M, B, I, S>(at: B, item: &I)
where
	M: StorageMap<B, BoundedVec<I, S>, Query = BoundedVec<I, S>>,
	B: codec::FullCodec + Copy,
	I: codec::FullCodec + PartialEq,
	S: Get<u32>,
{
	M::mutate_exists(at, |due| {
		if let Some(list) = due {
			list.retain(|i| i != item);
			if list.is_empty() {
				*due = None;
			}
		}
	});
}
