//! Limits that the runtime enforces and the native workers must respect, written once so the
//! two cannot drift apart: a worker that produced more than the chain accepts would have its
//! honest answer refused.

/// Bytes of one query answer (the compute market's `MaxResultLen`). Workers cut SQL results to
/// this length before committing to them.
pub const MAX_RESULT_BYTES: u32 = 4_096;

/// Bytes of one inference query's input (the compute market's `MaxInputLen`).
pub const MAX_INPUT_BYTES: u32 = 4_096;

/// Model versions one compute-market capability may serve for inference (`MaxModels`); a
/// worker serves at most this many.
pub const MAX_SERVED_MODELS: u32 = 16;
