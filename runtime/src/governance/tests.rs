//! Governance as a user meets it: a referendum on each track dispatches with that track's origin
//! and nothing more, passes only with enough ayes and support, and is enacted after its periods.

use super::{origins::Origin as GovOrigin, tracks, AdminOrigin, SlashCancelOrigin};
use crate::{
	genesis_config_presets::LOCAL_TESTNET_PATCH, AccountId, Balances, OriginCaller, Preimage, Referenda, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, RuntimeOrigin, Scheduler, StakeReputation, System, UNITS,
};
use frame_support::{
	assert_ok,
	traits::{EnsureOrigin, Hooks, StorePreimage},
};
use loopx_primitives::{SlashReason, Slashing};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::{ReferendumInfo, TracksInfo as _};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{BuildStorage, Perbill};

fn local_testnet() -> sp_io::TestExternalities {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("the default genesis serializes");
	let patch: serde_json::Value = serde_json::from_slice(LOCAL_TESTNET_PATCH).expect("the local preset is JSON");
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig = serde_json::from_value(config).expect("the local preset fits the genesis config");
	let mut ext: sp_io::TestExternalities = config.build_storage().expect("the local genesis builds").into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
	match (a, b) {
		(serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
			for (k, v) in b {
				merge(a.entry(k).or_insert(serde_json::Value::Null), v);
			}
		},
		(a, b) => *a = b,
	}
}

fn account(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

/// Runs the scheduler (which drives referenda through their alarms) up to block `n`.
fn run_to(n: u32) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Scheduler::on_initialize(next);
	}
}

fn has_event(pred: impl Fn(&RuntimeEvent) -> bool) -> bool {
	System::events().iter().any(|r| pred(&r.event))
}

/// Submits `call` as a referendum asking for `origin`, places its decision deposit and has
/// Eve and Ferdie (free, unstaked) vote aye with `ayes` LPX each (980,000 LPX each is a third
/// of the local testnet's issuance); returns its index.
fn referendum(call: RuntimeCall, origin: OriginCaller, ayes: u128) -> u32 {
	let eve = account(Sr25519Keyring::Eve);
	let bounded = <Preimage as StorePreimage>::bound(call).expect("the call fits a preimage");
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	assert_ok!(Referenda::submit(
		RuntimeOrigin::signed(eve.clone()),
		Box::new(origin),
		bounded,
		frame_support::traits::schedule::DispatchTime::After(0),
	));
	assert_ok!(Referenda::place_decision_deposit(RuntimeOrigin::signed(eve), index));
	for voter in [Sr25519Keyring::Eve, Sr25519Keyring::Ferdie] {
		let vote = AccountVote::Standard { vote: Vote { aye: true, conviction: Conviction::Locked1x }, balance: ayes * UNITS };
		assert_ok!(pallet_conviction_voting::Pallet::<Runtime>::vote(RuntimeOrigin::signed(account(voter)), index, vote));
	}
	index
}

fn approved(index: u32) -> bool {
	matches!(pallet_referenda::ReferendumInfoFor::<Runtime>::get(index), Some(ReferendumInfo::Approved(..)))
}

#[test]
fn tracks_are_sorted_and_each_governance_origin_has_its_own() {
	assert_eq!(tracks::TracksInfo::check_integrity(), Ok(()));
	let track = |o: OriginCaller| tracks::TracksInfo::track_for(&o);
	assert_eq!(track(OriginCaller::system(frame_system::RawOrigin::Root)), Ok(tracks::ROOT));
	assert_eq!(track(OriginCaller::Origins(GovOrigin::WhitelistedCaller)), Ok(tracks::WHITELISTED_CALLER));
	assert_eq!(track(OriginCaller::Origins(GovOrigin::ParameterAdmin)), Ok(tracks::PARAMETER_ADMIN));
	assert_eq!(track(OriginCaller::Origins(GovOrigin::SlashCanceller)), Ok(tracks::SLASH_CANCELLER));
	assert_eq!(track(OriginCaller::Origins(GovOrigin::Treasurer)), Ok(tracks::TREASURER));
	let alice = account(Sr25519Keyring::Alice);
	assert_eq!(track(OriginCaller::system(frame_system::RawOrigin::Signed(alice))), Err(()), "no track lets an account ask for its own origin");
	assert_eq!(track(OriginCaller::system(frame_system::RawOrigin::None)), Err(()));
}

#[test]
fn each_track_origin_can_do_its_own_job_and_no_other() {
	let o = |g: GovOrigin| RuntimeOrigin::from(g);
	assert!(AdminOrigin::ensure_origin(RuntimeOrigin::root()).is_ok());
	assert!(AdminOrigin::ensure_origin(o(GovOrigin::ParameterAdmin)).is_ok());
	assert!(SlashCancelOrigin::ensure_origin(RuntimeOrigin::root()).is_ok());
	assert!(SlashCancelOrigin::ensure_origin(o(GovOrigin::SlashCanceller)).is_ok());
	// A cheaper or faster track never borrows another's power.
	for other in [GovOrigin::SlashCanceller, GovOrigin::Treasurer, GovOrigin::WhitelistedCaller] {
		assert!(AdminOrigin::ensure_origin(o(other)).is_err());
	}
	for other in [GovOrigin::ParameterAdmin, GovOrigin::Treasurer, GovOrigin::WhitelistedCaller] {
		assert!(SlashCancelOrigin::ensure_origin(o(other)).is_err());
	}
	let alice = RuntimeOrigin::signed(account(Sr25519Keyring::Alice));
	assert!(AdminOrigin::ensure_origin(alice.clone()).is_err());
	assert!(SlashCancelOrigin::ensure_origin(alice).is_err());
	type Spend = <Runtime as pallet_treasury::Config>::SpendOrigin;
	assert_eq!(Spend::ensure_origin(o(GovOrigin::Treasurer)).ok(), Some(super::origins::MAX_TREASURER_SPEND));
	assert!(Spend::ensure_origin(o(GovOrigin::ParameterAdmin)).is_err());
}

#[test]
fn a_deferred_slash_stays_cancellable_through_its_track_on_the_testnet() {
	// The testnet defers slashes by a few one-minute sessions: the slash-cancellation track
	// must be able to pass within that time.
	let testnet: serde_json::Value = serde_json::from_slice(include_bytes!("../../../chain-spec/testnet/genesis.json")).expect("JSON");
	let defer = testnet["stakeReputation"]["slashDeferSessions"].as_u64().expect("the testnet defers slashes") as u32;
	let info = tracks::TracksInfo::info(tracks::SLASH_CANCELLER).expect("the track exists");
	let fastest = info.prepare_period + info.confirm_period + info.min_enactment_period;
	let deferred = defer * crate::EPOCH_DURATION_IN_SLOTS as u32;
	assert!(fastest < deferred, "{fastest} blocks to cancel, {deferred} before the slash lands");
}

#[test]
fn a_parameter_change_passes_its_track_and_is_enacted_after_its_periods() {
	local_testnet().execute_with(|| {
		let call = RuntimeCall::WeightedVoting(pallet_weighted_voting::Call::set_class_quota {
			class: loopx_primitives::ClaimClass::EvaluationScore,
			quota: 7,
		});
		let index = referendum(call, OriginCaller::Origins(GovOrigin::ParameterAdmin), 980_000);
		let info = tracks::TracksInfo::info(tracks::PARAMETER_ADMIN).expect("the track exists");
		// Not before the documented minute of preparation and minute of confirmation have run.
		assert_eq!(info.prepare_period + info.confirm_period, 2 * crate::MINUTES);
		run_to(1 + 2 * crate::MINUTES - 1);
		assert!(!approved(index), "approved within two minutes");
		run_to(1 + info.prepare_period + info.confirm_period + 2);
		assert!(approved(index), "{:?}", pallet_referenda::ReferendumInfoFor::<Runtime>::get(index));
		assert!(!has_event(|e| matches!(e, RuntimeEvent::WeightedVoting(pallet_weighted_voting::Event::ClassQuotaSet { .. }))), "not enacted yet");
		run_to(System::block_number() + info.min_enactment_period + 1);
		assert!(
			has_event(|e| matches!(e, RuntimeEvent::WeightedVoting(pallet_weighted_voting::Event::ClassQuotaSet { quota: 7, .. }))),
			"enacted with the parameter_admin origin"
		);
	});
}

#[test]
fn a_referendum_without_enough_support_is_not_enacted() {
	local_testnet().execute_with(|| {
		let call = RuntimeCall::WeightedVoting(pallet_weighted_voting::Call::set_class_quota {
			class: loopx_primitives::ClaimClass::EvaluationScore,
			quota: 7,
		});
		// 2 × 10 LPX of some six million: far below even the curve's 1 % floor.
		let index = referendum(call, OriginCaller::Origins(GovOrigin::ParameterAdmin), 10);
		let info = tracks::TracksInfo::info(tracks::PARAMETER_ADMIN).expect("the track exists");
		run_to(2 + info.prepare_period + info.decision_period + info.min_enactment_period);
		assert!(matches!(pallet_referenda::ReferendumInfoFor::<Runtime>::get(index), Some(ReferendumInfo::Rejected(..))));
		assert!(!has_event(|e| matches!(e, RuntimeEvent::WeightedVoting(pallet_weighted_voting::Event::ClassQuotaSet { .. }))));
	});
}

#[test]
fn a_parameter_referendum_cannot_cancel_a_slash_but_a_slash_canceller_one_can() {
	local_testnet().execute_with(|| {
		let bob = account(Sr25519Keyring::Bob);
		assert_ok!(StakeReputation::set_slash_defer_sessions(RuntimeOrigin::root(), 3));
		assert_ok!(<StakeReputation as Slashing<_, _>>::slash(&bob, Perbill::from_percent(10), SlashReason::Governance, false));
		let (apply_at, _) = pallet_stake_reputation::DeferredSlashes::<Runtime>::iter().next().expect("the slash is deferred");
		let cancel = || RuntimeCall::StakeReputation(pallet_stake_reputation::Call::cancel_deferred_slash { apply_at, who: bob.clone() });
		let wrong = referendum(cancel(), OriginCaller::Origins(GovOrigin::ParameterAdmin), 980_000);
		let info = tracks::TracksInfo::info(tracks::PARAMETER_ADMIN).expect("the track exists");
		run_to(3 + info.prepare_period + info.confirm_period + info.min_enactment_period);
		assert!(approved(wrong), "the referendum passes ...");
		assert!(pallet_stake_reputation::DeferredSlashes::<Runtime>::contains_key(apply_at), "... but its origin may not cancel slashes");
		let right = referendum(cancel(), OriginCaller::Origins(GovOrigin::SlashCanceller), 980_000);
		let info = tracks::TracksInfo::info(tracks::SLASH_CANCELLER).expect("the track exists");
		run_to(System::block_number() + info.prepare_period + info.confirm_period + info.min_enactment_period + 2);
		assert!(approved(right));
		assert!(!pallet_stake_reputation::DeferredSlashes::<Runtime>::contains_key(apply_at), "cancelled");
		assert!(has_event(|e| matches!(e, RuntimeEvent::StakeReputation(pallet_stake_reputation::Event::DeferredSlashCancelled { .. }))));
	});
}

#[test]
fn votes_lock_the_voters_funds_and_deposits_come_back() {
	local_testnet().execute_with(|| {
		let eve = account(Sr25519Keyring::Eve);
		let free_before = Balances::free_balance(&eve);
		let call = RuntimeCall::System(frame_system::Call::remark { remark: b"governance".to_vec() });
		let index = referendum(call, OriginCaller::system(frame_system::RawOrigin::Root), 1_000_000 - 20_000);
		let info = tracks::TracksInfo::info(tracks::ROOT).expect("the track exists");
		// Two thirds of a million each: a third of the issuance, so support meets the root curve
		// part way through the decision period.
		run_to(2 + info.prepare_period + info.decision_period + info.min_enactment_period);
		assert!(approved(index));
		assert_ok!(Referenda::refund_submission_deposit(RuntimeOrigin::signed(eve.clone()), index));
		assert_ok!(Referenda::refund_decision_deposit(RuntimeOrigin::signed(eve.clone()), index));
		assert_eq!(Balances::free_balance(&eve), free_before, "both deposits returned");
		let usable = <Balances as frame_support::traits::fungible::Inspect<_>>::reducible_balance(
			&eve,
			frame_support::traits::tokens::Preservation::Expendable,
			frame_support::traits::tokens::Fortitude::Polite,
		);
		assert!(usable < free_before - 900_000 * UNITS, "the vote's conviction still locks it: {usable}");
	});
}
