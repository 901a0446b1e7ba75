//! # LoopX learning kernels
//!
//! What validator workers run to train, compress, exchange and check models (see
//! `shared/design.md`, "Learning in one paragraph"):
//!
//! - [`tt`]: tensor-train (TT) matrices — the compressed form of LoopX's layers and embedding
//!   tables — with TT-SVD to compress a dense matrix and TT rounding to re-compress a TT matrix.
//! - [`quant`]: per-block int8/int4 quantization with stochastic rounding and error feedback.
//! - [`wire`]: the versioned, hashed message that carries a (partial) model to a peer; decoding
//!   validates everything and returns a typed [`wire::WireError`], never panics.
//! - [`merge`]: age-weighted gossip merge of TT models, done soundly (in the product space, then
//!   TT-rounded), not core by core.
//! - [`robust`]: aggregation that tolerates poisoned updates (median, trimmed mean, Multi-Krum,
//!   norm clipping).
//! - [`data`]: a seeded synthetic wallet-transaction stream with planted fraud and its features,
//!   IID and Dirichlet label-skew sharding, a CSV loader with a documented schema, and the
//!   MovieLens-100K loader.
//! - [`models`]: the fraud TT-MLP and the two-tower TT-Rec recommender, their parameters as
//!   exchangeable state (wire messages, sound merge, robust aggregation), training steps and the
//!   deterministic `evaluate` validators re-run.
//! - [`selection`]: training-data defences (lowest-loss fraction, per-group caps).
//! - [`privacy`]: clipping plus Gaussian noise, with the (ε, δ) spent.
//! - [`metrics`]: AUC, accuracy, RMSE and log-loss in a fixed reduction order, so every
//!   validator computes the same bits.
//!
//! Every random draw comes from a seeded `rand_chacha` generator passed in by the caller.

/// The burn version the models are built with, for crates that drive them.
pub use burn;

pub mod data;
pub mod layers;
pub mod merge;
pub mod metrics;
pub mod models;
pub mod privacy;
pub mod quant;
pub mod robust;
pub mod selection;
pub mod tt;
pub mod wire;
