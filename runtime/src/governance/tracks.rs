//! The referendum tracks: which origin a referendum asks for decides how long it is prepared,
//! decided and confirmed, how much must back it and how soon it is enacted.
//!
//! Periods are in blocks of the chain's own clock, which is compressed for a test network
//! (one-minute sessions, a ten-minute bonding duration): a slash must still be cancellable
//! before it is applied, so the slash-cancellation track decides in minutes. A public network
//! would scale sessions, bonding and these periods together.

use super::origins;
use crate::{Balance, BlockNumber, OriginCaller, MINUTES, UNITS};
use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::{str_array as name, Perbill};

/// The track's identifier in `referenda.submit`'s result and in `referenda.referendumInfoFor`.
pub type TrackId = u16;

/// Root: runtime upgrades and anything else only root may do.
pub const ROOT: TrackId = 0;
/// Calls the technical committee whitelisted (`whitelist.dispatchWhitelistedCall*`).
pub const WHITELISTED_CALLER: TrackId = 1;
/// The LoopX pallets' parameters (`AdminOrigin`).
pub const PARAMETER_ADMIN: TrackId = 2;
/// Cancelling deferred slashes (`SlashCancelOrigin`).
pub const SLASH_CANCELLER: TrackId = 3;
/// Treasury spends.
pub const TREASURER: TrackId = 4;

/// Ayes must start at all of the votes cast and may fall to a majority by the end of the
/// decision period.
const APPROVAL: Curve = Curve::LinearDecreasing { length: Perbill::one(), floor: Perbill::from_percent(50), ceil: Perbill::from_percent(100) };

/// Support (aye capital over total issuance, before conviction) falling from `ceil` to `floor`
/// over the decision period.
const fn support(ceil: u32, floor: u32) -> Curve {
	Curve::LinearDecreasing { length: Perbill::one(), floor: Perbill::from_percent(floor), ceil: Perbill::from_percent(ceil) }
}

const TRACKS: [Track<TrackId, Balance, BlockNumber>; 5] = [
	Track {
		id: ROOT,
		info: TrackInfo {
			name: name("root"),
			max_deciding: 1,
			decision_deposit: 10_000 * UNITS,
			prepare_period: 10 * MINUTES,
			decision_period: 120 * MINUTES,
			confirm_period: 10 * MINUTES,
			min_enactment_period: 10 * MINUTES,
			min_approval: APPROVAL,
			min_support: support(50, 5),
		},
	},
	Track {
		id: WHITELISTED_CALLER,
		info: TrackInfo {
			name: name("whitelisted_caller"),
			max_deciding: 10,
			decision_deposit: 1_000 * UNITS,
			prepare_period: MINUTES,
			decision_period: 120 * MINUTES,
			confirm_period: MINUTES,
			min_enactment_period: 1,
			min_approval: APPROVAL,
			min_support: support(10, 1),
		},
	},
	Track {
		id: PARAMETER_ADMIN,
		info: TrackInfo {
			name: name("parameter_admin"),
			max_deciding: 10,
			decision_deposit: 1_000 * UNITS,
			prepare_period: MINUTES,
			decision_period: 60 * MINUTES,
			confirm_period: MINUTES,
			min_enactment_period: MINUTES,
			min_approval: APPROVAL,
			min_support: support(20, 1),
		},
	},
	Track {
		id: SLASH_CANCELLER,
		info: TrackInfo {
			name: name("slash_canceller"),
			max_deciding: 10,
			decision_deposit: 1_000 * UNITS,
			// Deferred slashes wait only a few sessions: no preparation, one minute of confirmation.
			prepare_period: 1,
			decision_period: 5 * MINUTES,
			confirm_period: MINUTES,
			min_enactment_period: 1,
			min_approval: APPROVAL,
			min_support: support(20, 1),
		},
	},
	Track {
		id: TREASURER,
		info: TrackInfo {
			name: name("treasurer"),
			max_deciding: 10,
			decision_deposit: 1_000 * UNITS,
			prepare_period: 10 * MINUTES,
			decision_period: 120 * MINUTES,
			confirm_period: 10 * MINUTES,
			min_enactment_period: 10 * MINUTES,
			min_approval: APPROVAL,
			min_support: support(50, 5),
		},
	},
];

/// The runtime's referendum tracks (`pallet_referenda::Config::Tracks`).
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = TrackId;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		TRACKS.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(ROOT),
			OriginCaller::Origins(origin) => Ok(match origin {
				origins::Origin::WhitelistedCaller => WHITELISTED_CALLER,
				origins::Origin::ParameterAdmin => PARAMETER_ADMIN,
				origins::Origin::SlashCanceller => SLASH_CANCELLER,
				origins::Origin::Treasurer => TREASURER,
			}),
			// Signed, none and the technical committee's origins have no track.
			_ => Err(()),
		}
	}
}
