//! Order books as binary min-heaps kept in storage, one per tag and side.
//!
//! Each slot of a heap holds a [`BookEntry`]: the order's rank and id. The best order is at slot
//! 0; inserting and removing any order (best, cancelled or expired) touch O(log n) slots, so a
//! book's weight grows with the logarithm of its size and no call ever scans a book. Offers rank
//! by ascending price, bids by descending price ([`rank`]), and within a price the older order
//! (smaller id) comes first: price-time priority.
//!
//! The heap algorithms are written once over [`HeapSlots`]; the pallet implements it on its
//! storage maps, the tests on a vector.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{OrderId, Side};

/// One slot of a book: what the heap orders by. Derived `Ord` compares `rank`, then `order`
/// (older orders first at the same price).
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, TypeInfo, MaxEncodedLen)]
pub struct BookEntry {
	/// Smaller is better: the price for offers, `u128::MAX − price` for bids.
	pub rank: u128,
	/// The order.
	pub order: OrderId,
}

/// The heap rank of an order at `price` on `side`.
pub fn rank(side: Side, price: u128) -> u128 {
	match side {
		Side::Offer => price,
		Side::Bid => u128::MAX - price,
	}
}

/// The price of an entry's order, back from its rank.
pub fn price_of(side: Side, rank: u128) -> u128 {
	match side {
		Side::Offer => rank,
		Side::Bid => u128::MAX - rank,
	}
}

/// Slot storage of one heap. `put` must also remember the slot of the entry's order, so that an
/// order can be removed by id.
pub trait HeapSlots {
	/// Number of occupied slots.
	fn len(&self) -> u32;
	/// Whether no slot is occupied.
	fn is_empty(&self) -> bool {
		self.len() == 0
	}
	/// Sets the number of occupied slots.
	fn set_len(&mut self, len: u32);
	/// The entry in `slot`, if any.
	fn get(&self, slot: u32) -> Option<BookEntry>;
	/// Writes `entry` into `slot` and records `slot` as the position of `entry.order`.
	fn put(&mut self, slot: u32, entry: BookEntry);
	/// Empties `slot` (the position record of the order that was there is the caller's).
	fn clear(&mut self, slot: u32);
}

/// The depth of `slot` in a heap (the top is 0): how many levels an entry put there climbs at
/// most, and how far an entry sinks at most in a heap whose last slot it is. A book's weights
/// grow with it, not with the book's length.
pub fn depth(slot: u32) -> u32 {
	slot.saturating_add(1).ilog2()
}

/// The best entry.
pub fn peek<S: HeapSlots>(heap: &S) -> Option<BookEntry> {
	heap.get(0)
}

/// Adds `entry`. The caller checks the book's bound first.
pub fn push<S: HeapSlots>(heap: &mut S, entry: BookEntry) {
	let slot = heap.len();
	heap.set_len(slot.saturating_add(1));
	sift_up(heap, slot, entry);
}

/// Removes the entry in `slot` and returns it; `None` if the slot is empty.
pub fn remove<S: HeapSlots>(heap: &mut S, slot: u32) -> Option<BookEntry> {
	let len = heap.len();
	if slot >= len {
		return None;
	}
	let removed = heap.get(slot)?;
	let last = len - 1;
	let moved = heap.get(last);
	heap.clear(last);
	heap.set_len(last);
	if slot != last {
		if let Some(moved) = moved {
			// The entry from the end may belong above or below the hole.
			if slot > 0 && heap.get((slot - 1) / 2).is_some_and(|parent| moved < parent) {
				sift_up(heap, slot, moved);
			} else {
				sift_down(heap, slot, moved);
			}
		}
	}
	Some(removed)
}

/// Moves `entry`, destined for `slot`, up past every parent that ranks worse.
fn sift_up<S: HeapSlots>(heap: &mut S, mut slot: u32, entry: BookEntry) {
	while slot > 0 {
		let parent = (slot - 1) / 2;
		match heap.get(parent) {
			Some(p) if entry < p => {
				heap.put(slot, p);
				slot = parent;
			},
			_ => break,
		}
	}
	heap.put(slot, entry);
}

/// Moves `entry`, destined for `slot`, down past every child that ranks better.
fn sift_down<S: HeapSlots>(heap: &mut S, mut slot: u32, entry: BookEntry) {
	let len = heap.len();
	loop {
		let left = slot.saturating_mul(2).saturating_add(1);
		if left >= len {
			break;
		}
		let right = left + 1;
		let (child, c) = match (heap.get(left), (right < len).then(|| heap.get(right)).flatten()) {
			(Some(l), Some(r)) if r < l => (right, r),
			(Some(l), _) => (left, l),
			(None, _) => break,
		};
		if c < entry {
			heap.put(slot, c);
			slot = child;
		} else {
			break;
		}
	}
	heap.put(slot, entry);
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;
	use std::collections::BTreeMap;

	/// A heap on a vector, with the order → slot index the pallet keeps in storage.
	#[derive(Default)]
	struct VecHeap {
		slots: Vec<Option<BookEntry>>,
		len: u32,
		position: BTreeMap<OrderId, u32>,
		touched: u32,
	}
	impl HeapSlots for VecHeap {
		fn len(&self) -> u32 {
			self.len
		}
		fn set_len(&mut self, len: u32) {
			self.len = len;
			self.slots.resize(len as usize, None);
		}
		fn get(&self, slot: u32) -> Option<BookEntry> {
			self.slots.get(slot as usize).copied().flatten()
		}
		fn put(&mut self, slot: u32, entry: BookEntry) {
			self.touched += 1;
			self.slots[slot as usize] = Some(entry);
			self.position.insert(entry.order, slot);
		}
		fn clear(&mut self, slot: u32) {
			if let Some(Some(e)) = self.slots.get(slot as usize) {
				if self.position.get(&e.order) == Some(&slot) {
					self.position.remove(&e.order);
				}
			}
			if (slot as usize) < self.slots.len() {
				self.slots[slot as usize] = None;
			}
		}
	}
	impl VecHeap {
		fn remove_order(&mut self, order: OrderId) -> Option<BookEntry> {
			let slot = *self.position.get(&order)?;
			let e = remove(self, slot);
			self.position.remove(&order);
			e
		}
		fn is_heap(&self) -> bool {
			(1..self.len).all(|i| self.get((i - 1) / 2).unwrap() <= self.get(i).unwrap())
				&& self.position.iter().all(|(o, s)| self.get(*s).map(|e| e.order) == Some(*o))
				&& self.position.len() == self.len as usize
		}
	}

	fn entry(rank: u128, order: OrderId) -> BookEntry {
		BookEntry { rank, order }
	}

	#[test]
	fn bids_rank_highest_price_first_and_offers_lowest() {
		assert!(rank(Side::Bid, 10) < rank(Side::Bid, 9));
		assert!(rank(Side::Offer, 9) < rank(Side::Offer, 10));
		assert_eq!(rank(Side::Bid, 0), u128::MAX);
		assert_eq!(rank(Side::Bid, u128::MAX), 0);
		assert_eq!(price_of(Side::Bid, rank(Side::Bid, 77)), 77);
		assert_eq!(price_of(Side::Offer, rank(Side::Offer, 77)), 77);
	}

	#[test]
	fn same_price_pops_in_time_order() {
		let mut h = VecHeap::default();
		for (order, price) in [(3, 5), (1, 5), (2, 4), (4, 5)] {
			push(&mut h, entry(price, order));
		}
		let mut popped = vec![];
		while let Some(e) = peek(&h) {
			popped.push(e.order);
			remove(&mut h, 0);
			h.position.remove(&e.order);
		}
		assert_eq!(popped, vec![2, 1, 3, 4]);
	}

	#[test]
	fn removing_from_the_middle_keeps_the_heap() {
		let mut h = VecHeap::default();
		for i in 0..20u64 {
			push(&mut h, entry(((i * 7) % 11) as u128, i));
		}
		assert_eq!(h.remove_order(13).map(|e| e.order), Some(13));
		assert_eq!(h.remove_order(13), None);
		assert!(h.is_heap());
		assert_eq!(remove(&mut h, 99), None);
	}

	#[test]
	fn work_per_operation_is_logarithmic() {
		let mut h = VecHeap::default();
		let n = 1u64 << 12;
		for i in 0..n {
			push(&mut h, entry((n - i) as u128, i));
		}
		// Worst case: every push (descending ranks) climbs to the root.
		h.touched = 0;
		push(&mut h, entry(0, n));
		assert!(h.touched <= 14, "push touched {} slots", h.touched);
		h.touched = 0;
		remove(&mut h, 0);
		assert!(h.touched <= 14, "remove touched {} slots", h.touched);
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(256))]
		/// Random pushes and removals (of the best or of any order) behave like a sorted set.
		#[test]
		fn behaves_like_a_sorted_set(ops in prop::collection::vec((0u8..3, 0u128..50, 0usize..64), 1..200)) {
			let mut h = VecHeap::default();
			let mut reference = std::collections::BTreeSet::new();
			let mut next = 0u64;
			for (op, price, pick) in ops {
				match op {
					0 => {
						push(&mut h, entry(price, next));
						reference.insert(entry(price, next));
						next += 1;
					},
					1 => {
						let best = peek(&h);
						prop_assert_eq!(best, reference.iter().next().copied());
						if let Some(b) = best {
							prop_assert_eq!(h.remove_order(b.order), Some(b));
							reference.remove(&b);
						}
					},
					_ => {
						if let Some(e) = reference.iter().nth(pick % reference.len().max(1)).copied() {
							prop_assert_eq!(h.remove_order(e.order), Some(e));
							reference.remove(&e);
						}
					},
				}
				prop_assert!(h.is_heap());
				prop_assert_eq!(h.len as usize, reference.len());
				prop_assert_eq!(peek(&h), reference.iter().next().copied());
			}
		}
	}
}
