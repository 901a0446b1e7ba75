//! Time, currency and consensus constants shared by the runtime and the node.

use crate::{Balance, BlockNumber};

/// One LPX in its smallest unit: LPX has 12 decimals.
pub const UNITS: Balance = 1_000_000_000_000;
/// A thousandth of an LPX.
pub const MILLI_UNITS: Balance = UNITS / 1_000;
/// A millionth of an LPX.
pub const MICRO_UNITS: Balance = UNITS / 1_000_000;
/// The smallest balance an account may hold; below it the account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNITS;

/// Target block time. 3 s keeps end-to-end tests short while leaving a 2-core machine running
/// three validators enough headroom to author and import each block well inside its slot.
pub const MILLI_SECS_PER_BLOCK: u64 = 3_000;
/// BABE slot duration: one block per slot (secondary slots fill the gaps left by primaries).
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks per minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;

/// BABE epoch length, which is also the session length (pallet-session ends a session when BABE
/// ends an epoch). 20 slots = 1 minute: a test sees a session change (and, from the stake and
/// reputation issue on, an election) within two minutes, yet an epoch is long enough for BABE's
/// randomness and GRANDPA's set changes to settle. Changing it after genesis is a hard fork.
pub const EPOCH_DURATION_IN_SLOTS: u64 = 20;

/// Probability that a slot has a primary (VRF-elected) author, as a fraction `c = (1, 4)`.
/// Each authority's chance is weighted by its BABE authority weight.
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
