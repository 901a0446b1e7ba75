//! The origins that referenda on the non-root tracks dispatch with.
//!
//! Each origin can do one kind of privileged thing and nothing else: `ParameterAdmin` is the
//! `AdminOrigin` of the LoopX pallets, `SlashCanceller` their `SlashCancelOrigin`, `Treasurer`
//! spends from the treasury, `WhitelistedCaller` dispatches calls the technical committee has
//! whitelisted. A referendum gets one of them only by passing its track (`tracks.rs`).

pub use pallet_loopx_origins::*;

#[frame_support::pallet]
pub mod pallet_loopx_origins {
	use crate::{Balance, UNITS};
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// An origin a passed referendum dispatches its call with.
	#[derive(PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
	#[pallet::origin]
	pub enum Origin {
		/// Changes the LoopX pallets' parameters (their `AdminOrigin`).
		ParameterAdmin,
		/// Cancels deferred slashes (stake-reputation's `SlashCancelOrigin`).
		SlashCanceller,
		/// Spends from the treasury, up to [`MAX_TREASURER_SPEND`] at once.
		Treasurer,
		/// Dispatches a call the technical committee has whitelisted.
		WhitelistedCaller,
	}

	/// The most a `Treasurer` referendum may spend in one `treasury.spend`.
	pub const MAX_TREASURER_SPEND: Balance = 100_000 * UNITS;

	macro_rules! decl_unit_ensures {
		( $name:ident: $success_type:ty = $success:expr ) => {
			#[doc = concat!("Ensures the `", stringify!($name), "` origin.")]
			pub struct $name;
			impl<O: Into<Result<Origin, O>> + From<Origin>> EnsureOrigin<O> for $name {
				type Success = $success_type;
				fn try_origin(o: O) -> Result<Self::Success, O> {
					o.into().and_then(|o| match o {
						Origin::$name => Ok($success),
						other => Err(O::from(other)),
					})
				}
				#[cfg(feature = "runtime-benchmarks")]
				fn try_successful_origin() -> Result<O, ()> {
					Ok(O::from(Origin::$name))
				}
			}
		};
		( $name:ident ) => { decl_unit_ensures! { $name : () = () } };
		( $name:ident: $success_type:ty = $success:expr, $( $rest:tt )* ) => {
			decl_unit_ensures! { $name: $success_type = $success }
			decl_unit_ensures! { $( $rest )* }
		};
		( $name:ident, $( $rest:tt )* ) => {
			decl_unit_ensures! { $name }
			decl_unit_ensures! { $( $rest )* }
		};
		() => {}
	}
	decl_unit_ensures!(ParameterAdmin, SlashCanceller, WhitelistedCaller, Treasurer: Balance = MAX_TREASURER_SPEND);
}
