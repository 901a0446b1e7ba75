//! The runtime's base weights, measured on the reference machine (2 cores, 24 GiB) by
//! `scripts/bench/base-weights.sh` (raw output in `scripts/bench/results/base-weights-*.txt`):
//! an empty block, a no-op extrinsic, and one read and one write of the nodes' database
//! (ParityDB, `--database`'s default for a new database). Regenerate, do not edit.

pub mod block_weights;
pub mod extrinsic_weights;
// The generated file documents the fields of a struct expression, which rustc does not use.
#[allow(unused_doc_comments)]
pub mod paritydb_weights;

pub use block_weights::BlockExecutionWeight;
pub use extrinsic_weights::ExtrinsicBaseWeight;
pub use paritydb_weights::constants::ParityDbWeight;
