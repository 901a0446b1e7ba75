//! The two model families LoopX trains, built from the TT layers, and what the gossip protocol
//! needs to move them between peers:
//!
//! - [`mlp`]: the fraud/anomaly classifier over wallet-transaction features — an MLP whose
//!   layers are [`TtLinear`](crate::layers::TtLinear) (a one-core layer is an ordinary dense
//!   layer, so the dense baseline runs the same code).
//! - [`two_tower`]: the recommender — a user tower and an item tower with TT embedding tables
//!   (TT-Rec) and a scoring head.
//! - [`state`]: a model's parameters as TT matrices and bias vectors, outside burn: wire
//!   encoding, sound age-weighted merge and robust aggregation.
//! - [`from_spec`]: both families built from the chain's architecture type
//!   (`loopx_model_spec::Architecture`, what the builder market stores for a task).
//! - [`train`]: training steps (optionally on the lowest-loss fraction of each batch) and the
//!   deterministic evaluation validators re-run.

pub mod from_spec;
pub mod mlp;
pub mod state;
pub mod train;
pub mod two_tower;

#[cfg(test)]
mod tests;
