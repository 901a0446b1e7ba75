//! Genesis presets served through `sp-genesis-builder`.
//!
//! The presets are not written in Rust: each is the JSON genesis patch that operators edit in
//! `chain-spec/<network>/genesis.json` (validators with their session keys, endowments, sudo key),
//! compiled into the runtime. One file per network is the single source of truth, for the
//! built-in `--dev` / `--chain local` specs and for `scripts/build-spec.sh` alike.

use alloc::vec::Vec;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// `development`: one validator (Alice), endowed dev accounts, Alice is sudo.
pub const DEVELOPMENT_PATCH: &[u8] = include_bytes!("../../chain-spec/dev/genesis.json");
/// `local_testnet`: four validators (Alice, Bob, Charlie, Dave), so that one of them can be down
/// while GRANDPA still finalizes; endowed dev accounts; no sudo key (governed by referenda).
pub const LOCAL_TESTNET_PATCH: &[u8] = include_bytes!("../../chain-spec/local/genesis.json");

/// The JSON genesis patch of a named preset, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => DEVELOPMENT_PATCH,
		LOCAL_TESTNET_RUNTIME_PRESET => LOCAL_TESTNET_PATCH,
		_ => return None,
	};
	Some(patch.to_vec())
}

/// The names of the presets this runtime ships.
pub fn preset_names() -> Vec<PresetId> {
	alloc::vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{AccountId, RuntimeGenesisConfig, SessionKeys};
	use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

	/// Applies a preset patch to the default genesis config, as the node does.
	fn config_of(patch: &[u8]) -> RuntimeGenesisConfig {
		let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
		let patch: serde_json::Value = serde_json::from_slice(patch).expect("preset is valid JSON");
		json_merge(&mut config, patch);
		serde_json::from_value(config).expect("preset patch fits RuntimeGenesisConfig")
	}

	fn json_merge(a: &mut serde_json::Value, b: serde_json::Value) {
		match (a, b) {
			(serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
				for (k, v) in b {
					json_merge(a.entry(k).or_insert(serde_json::Value::Null), v);
				}
			},
			(a, b) => *a = b,
		}
	}

	const TESTNET_TEMPLATE: &[u8] = include_bytes!("../../chain-spec/testnet/genesis.json");

	fn session_keys_of(who: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AccountId, SessionKeys) {
		let account: AccountId = who.to_account_id();
		(account, SessionKeys { babe: who.public().into(), grandpa: grandpa.public().into() })
	}

	#[test]
	fn every_named_preset_is_served_and_unknown_names_are_not() {
		for name in preset_names() {
			assert!(get_preset(&name).is_some(), "{name:?}");
		}
		assert!(get_preset(&PresetId::from("no_such_preset")).is_none());
	}

	#[test]
	fn development_preset_has_alice_as_only_validator_and_sudo() {
		let config = config_of(DEVELOPMENT_PATCH);
		let (alice, keys) = session_keys_of(Sr25519Keyring::Alice, Ed25519Keyring::Alice);
		assert_eq!(config.session.keys, vec![(alice.clone(), alice.clone(), keys)]);
		assert_eq!(config.sudo.key, Some(alice));
	}

	#[test]
	fn local_testnet_preset_has_alice_bob_charlie_dave_as_validators() {
		let config = config_of(LOCAL_TESTNET_PATCH);
		let expected: Vec<_> = [
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		]
		.into_iter()
		.map(|(s, e)| {
			let (account, keys) = session_keys_of(s, e);
			(account.clone(), account, keys)
		})
		.collect();
		assert_eq!(config.session.keys, expected);
	}

	#[test]
	fn presets_endow_the_six_dev_accounts_with_a_million_lpx_and_the_treasury() {
		for patch in [DEVELOPMENT_PATCH, LOCAL_TESTNET_PATCH] {
			let config = config_of(patch);
			let mut expected: Vec<_> = Sr25519Keyring::iter().take(6).map(|k| (k.to_account_id(), 1_000_000 * crate::UNITS)).collect();
			expected.push((crate::TreasuryAccount::get(), crate::UNITS));
			assert_eq!(config.balances.balances, expected);
		}
	}

	#[test]
	fn only_the_testnet_template_defers_slashes() {
		for patch in [DEVELOPMENT_PATCH, LOCAL_TESTNET_PATCH] {
			assert_eq!(config_of(patch).stake_reputation.slash_defer_sessions, 0, "the e2e tests watch slashes land at once");
		}
		let testnet = config_of(TESTNET_TEMPLATE);
		assert_eq!(testnet.stake_reputation.slash_defer_sessions, 3);
		assert!(3 < <<crate::Runtime as pallet_stake_reputation::Config>::BondingDuration as frame_support::traits::Get<u32>>::get());
	}

	#[test]
	fn local_testnet_stakes_are_one_two_five_two_with_equal_reputation() {
		let config = config_of(LOCAL_TESTNET_PATCH);
		let stakes: Vec<_> = config
			.stake_reputation
			.stakers
			.iter()
			.map(|(who, bond, rep, validates)| (who.clone(), *bond / (10_000 * crate::UNITS), *rep, *validates))
			.collect();
		assert_eq!(
			stakes,
			vec![
				(Sr25519Keyring::Alice.to_account_id(), 1, 500_000, true),
				(Sr25519Keyring::Bob.to_account_id(), 2, 500_000, true),
				(Sr25519Keyring::Charlie.to_account_id(), 5, 500_000, true),
				(Sr25519Keyring::Dave.to_account_id(), 2, 500_000, true),
			]
		);
	}

	/// GRANDPA finalizes with more than 2/3 of the finality weight. The local network's elected
	/// finality weights (stakes 1 : 2 : 5 : 2, capped at `MaxWeightShare`) must let it finalize
	/// with any one validator down, and must stall both halves of any 2–2 split (no conflicting
	/// finality).
	#[test]
	fn local_testnet_finalizes_with_any_one_validator_down_and_no_half_finalizes_alone() {
		let config = config_of(LOCAL_TESTNET_PATCH);
		let contenders = config
			.stake_reputation
			.stakers
			.iter()
			.map(|(who, bond, rep, _)| pallet_stake_reputation::election::Contender { who: who.clone(), backing: *bond, reputation: *rep })
			.collect();
		let cap: sp_runtime::Perbill = crate::configs::MaxWeightShare::get();
		let elected = pallet_stake_reputation::election::elect(contenders, 100, cap);
		assert_eq!(elected.len(), 4);
		let finality: Vec<u128> = elected.iter().map(|v| v.finality_weight as u128).collect();
		let total: u128 = finality.iter().sum();
		let finalizes = |online: u128| 3 * online > 2 * total;
		for down in &finality {
			assert!(finalizes(total - down), "{finality:?} stalls with one of four down");
		}
		for i in 0..4 {
			for j in (i + 1)..4 {
				let half = finality[i] + finality[j];
				assert!(!finalizes(half) && !finalizes(total - half), "{finality:?}: a half finalizes");
			}
		}
		// The cap binds (Charlie's raw share is 50 %) but block production keeps the stakes.
		assert!(elected.iter().all(|v| v.finality_weight <= cap.deconstruct() as u64 + 1));
		assert!(elected[0].weight > elected[0].finality_weight);
	}

	#[test]
	fn development_chains_have_short_deal_periods_within_bounds() {
		for (patch, period) in [(DEVELOPMENT_PATCH, 10), (LOCAL_TESTNET_PATCH, 20)] {
			let periods = config_of(patch).data_market.periods.expect("dev chains set deal periods");
			assert_eq!((periods.delivery, periods.confirm), (period, period));
			assert!(pallet_data_market::Pallet::<crate::Runtime>::periods_are_valid(&periods));
		}
	}

	#[test]
	fn only_the_development_preset_has_a_sudo_key() {
		assert!(config_of(DEVELOPMENT_PATCH).sudo.key.is_some());
		assert_eq!(config_of(LOCAL_TESTNET_PATCH).sudo.key, None, "the local chain is governed by referenda");
		assert_eq!(config_of(TESTNET_TEMPLATE).sudo.key, None);
	}

	#[test]
	fn the_testnet_uses_its_key_ceremonys_keys_and_no_dev_key() {
		let testnet = core::str::from_utf8(TESTNET_TEMPLATE).expect("UTF-8");
		for dev in Sr25519Keyring::iter() {
			assert!(!testnet.contains(&dev.to_account_id().to_string()), "{dev:?}'s well-known key in the testnet genesis");
		}
		for dev in Ed25519Keyring::iter() {
			assert!(!testnet.contains(&AccountId::from(dev.public().0).to_string()), "{dev:?}'s well-known key in the testnet genesis");
		}
		let config = config_of(TESTNET_TEMPLATE);
		assert_eq!(config.session.keys.len(), 4, "four validators: any one may be down");
		let stashes: Vec<AccountId> = config.session.keys.iter().map(|(stash, ..)| stash.clone()).collect();
		assert_eq!(config.technical_committee.members, stashes, "the validators' operators sit on the technical committee");
		assert!(
			config.session.keys.iter().all(|(stash, _, keys)| AccountId::from(keys.babe.clone().into_inner().0) != *stash),
			"session keys apart from the stash"
		);
	}

	#[test]
	fn presets_build_a_genesis_state() {
		for patch in [DEVELOPMENT_PATCH, LOCAL_TESTNET_PATCH, TESTNET_TEMPLATE] {
			let config = config_of(patch);
			let storage = sp_runtime::BuildStorage::build_storage(&config);
			assert!(storage.is_ok(), "{:?}", storage.err());
		}
	}
}
