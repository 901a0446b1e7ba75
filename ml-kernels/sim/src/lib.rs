//! # LoopX gossip-learning simulator
//!
//! `N` nodes (default 64) run the node loop of the LoopX whitepaper's Algorithm 1 (after
//! Ormándi, Hegedűs & Jelasity): each round every online node pulls compressed models from
//! sampled peers, merges them into its own (age-weighted, or with a robust rule), and updates on
//! its local shard of the synthetic wallet-transaction data. Peer sampling, churn, message loss,
//! IID/non-IID splits, Byzantine peers, label-flipped data and the compression settings are all
//! configurable ([`config::SimConfig`]). Every message really goes through the wire format of
//! `loopx-ml-kernels` (quantize → encode → decode → dequantize), and its encoded length is what
//! the byte counts add up.
//!
//! - [`scenario`]: the data — generated, split, standardised, sharded, poisoned.
//! - [`attack`]: what Byzantine peers send.
//! - [`sim`]: the rounds, and the centrally trained baseline.
//! - [`report`]: CSV per round and PNG plots.

pub mod attack;
pub mod config;
pub mod report;
pub mod scenario;
pub mod sim;
