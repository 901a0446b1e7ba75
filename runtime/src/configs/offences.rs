//! Equivocations are punished: BABE and GRANDPA check a report's proof (two headers of one slot,
//! two votes of one round, signed by one key) and a key-ownership proof against the historical
//! session roots (pallet-session's `historical`), pallet-offences deduplicates the offence and
//! hands it to pallet-stake-reputation, which slashes, chills and disables the offender
//! (pallet-session's disabling strategy). The nodes find equivocations as they import blocks and
//! votes, and submit the reports themselves (`BabeApi`/`GrandpaApi` in `apis.rs`).

use frame_support::parameter_types;
use sp_runtime::{traits::Convert, Perbill};
use sp_staking::{offence::OffenceSeverity, SessionIndex};

use crate::{AccountId, Historical, Runtime, RuntimeEvent, Session, StakeReputation, EPOCH_DURATION_IN_SLOTS};

/// The bonding duration in sessions: proofs of older sessions are no longer needed (their
/// offences are ignored), so neither are their historical roots.
fn bonding_duration() -> SessionIndex {
	<<Runtime as pallet_stake_reputation::Config>::BondingDuration as frame_support::traits::Get<SessionIndex>>::get()
}

parameter_types! {
	/// How long an equivocation report stays valid in the pool: the bonding duration, in blocks
	/// (a session is one BABE epoch).
	pub ReportLongevity: u64 = bonding_duration() as u64 * EPOCH_DURATION_IN_SLOTS;
	/// GRANDPA keeps the session of this many set ids, for its key-ownership proofs.
	pub MaxSetIdSessionEntries: u64 = bonding_duration() as u64;
}

/// A validator's identification in the historical session roots is its account alone: a slash
/// reads the stake from the ledgers when the offence is reported (unlocking funds stay
/// slashable for the bonding duration, so nothing backing the offence is gone by then).
pub struct AccountOnly;
impl Convert<AccountId, Option<()>> for AccountOnly {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = AccountOnly;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = StakeReputation;
}

/// The validator set of each session as pallet-stake-reputation elects it, noted in the
/// historical roots; roots older than the bonding duration are pruned.
pub struct ElectedWithHistory;

impl pallet_session::SessionManager<AccountId> for ElectedWithHistory {
	fn new_session(new_index: SessionIndex) -> Option<alloc::vec::Vec<AccountId>> {
		<StakeReputation as pallet_session::SessionManager<AccountId>>::new_session(new_index)
	}
	fn new_session_genesis(new_index: SessionIndex) -> Option<alloc::vec::Vec<AccountId>> {
		<StakeReputation as pallet_session::SessionManager<AccountId>>::new_session_genesis(new_index)
	}
	fn start_session(start_index: SessionIndex) {
		<StakeReputation as pallet_session::SessionManager<AccountId>>::start_session(start_index);
		if let Some(oldest_kept) = start_index.checked_sub(bonding_duration()) {
			Historical::prune_up_to(oldest_kept);
		}
	}
	fn end_session(end_index: SessionIndex) {
		<StakeReputation as pallet_session::SessionManager<AccountId>>::end_session(end_index)
	}
}

impl pallet_session::historical::SessionManager<AccountId, ()> for ElectedWithHistory {
	fn new_session(new_index: SessionIndex) -> Option<alloc::vec::Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<AccountId>>::new_session(new_index).map(|set| set.into_iter().map(|who| (who, ())).collect())
	}
	fn new_session_genesis(new_index: SessionIndex) -> Option<alloc::vec::Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<AccountId>>::new_session_genesis(new_index).map(|set| set.into_iter().map(|who| (who, ())).collect())
	}
	fn start_session(start_index: SessionIndex) {
		<Self as pallet_session::SessionManager<AccountId>>::start_session(start_index)
	}
	fn end_session(end_index: SessionIndex) {
		<Self as pallet_session::SessionManager<AccountId>>::end_session(end_index)
	}
}

/// Disables an offender through pallet-session, whose strategy decides (at most a third of the
/// set, `UpToLimitDisablingStrategy`).
pub struct SessionDisabler;
impl pallet_stake_reputation::DisableValidator<AccountId> for SessionDisabler {
	fn disable(who: &AccountId, severity: Perbill) {
		Session::report_offence(who.clone(), OffenceSeverity(severity));
	}
}

/// Equivocation reports travel as unsigned extrinsics (BABE and GRANDPA validate them).
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	fn create_bare(call: crate::RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}
