//! The built-in chain specifications (`--dev`, `--chain dev`, `--chain local`).
//!
//! Their network metadata (name, id, chain type, protocol id, token properties) is read from
//! `chain-spec/<network>/network.json` and their genesis from the runtime's preset of the same
//! network, which is `chain-spec/<network>/genesis.json` compiled into the runtime: what an
//! operator edits in `chain-spec/` is what the node runs.

use sc_service::{ChainType, Properties};
use serde::Deserialize;

/// The chain specification type of LoopX (no extensions).
pub type ChainSpec = sc_service::GenericChainSpec;

/// `chain-spec/<network>/network.json`: everything about a network except its genesis state.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NetworkFile {
	name: String,
	id: String,
	chain_type: ChainType,
	protocol_id: String,
	boot_nodes: Vec<String>,
	properties: Properties,
}

/// A built-in network: its metadata file and its runtime genesis preset.
struct BuiltIn {
	network_json: &'static str,
	preset: &'static str,
}

const DEV: BuiltIn = BuiltIn { network_json: include_str!("../../chain-spec/dev/network.json"), preset: sp_genesis_builder::DEV_RUNTIME_PRESET };

const LOCAL: BuiltIn =
	BuiltIn { network_json: include_str!("../../chain-spec/local/network.json"), preset: sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET };

fn build(built_in: &BuiltIn) -> Result<ChainSpec, String> {
	let network: NetworkFile = serde_json::from_str(built_in.network_json).map_err(|e| format!("built-in network.json is malformed: {e}"))?;
	let code = loopx_runtime::WASM_BINARY.ok_or_else(|| "the runtime's WebAssembly was not built (SKIP_WASM_BUILD?)".to_string())?;
	let boot_nodes =
		network.boot_nodes.iter().map(|addr| addr.parse().map_err(|e| format!("bad boot node `{addr}`: {e}"))).collect::<Result<Vec<_>, String>>()?;
	Ok(ChainSpec::builder(code, None)
		.with_name(&network.name)
		.with_id(&network.id)
		.with_chain_type(network.chain_type)
		.with_protocol_id(&network.protocol_id)
		.with_boot_nodes(boot_nodes)
		.with_properties(network.properties)
		.with_genesis_config_preset_name(built_in.preset)
		.build())
}

/// `--dev` / `--chain dev`: a single validator (Alice) that authors and finalizes alone.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	build(&DEV)
}

/// `--chain local`: four validators (Alice, Bob, Charlie, Dave) on loopback, so that one can be down.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	build(&LOCAL)
}

/// Loads `--chain <id>`: a built-in name or the path of a chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development_chain_spec()?),
		"" | "local" => Box::new(local_chain_spec()?),
		path => {
			let path = std::path::PathBuf::from(path);
			if !path.is_file() {
				return Err(format!(
					"unknown chain `{id}`: use `dev`, `local`, or the path of a chain-spec JSON \
					 file (scripts/build-spec.sh makes one from chain-spec/<network>/)"
				));
			}
			Box::new(ChainSpec::from_json_file(path.clone()).map_err(|e| format!("invalid chain spec `{}`: {e}", path.display()))?)
		},
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn built_in_network_files_parse() {
		for built_in in [&DEV, &LOCAL] {
			let network: NetworkFile = serde_json::from_str(built_in.network_json).unwrap();
			assert_eq!(network.properties["tokenSymbol"], "LPX");
			assert_eq!(network.properties["tokenDecimals"], 12);
		}
	}

	#[test]
	fn unknown_chain_and_bad_file_give_clear_errors() {
		let err = load("no-such-chain").err().unwrap();
		assert!(err.contains("unknown chain `no-such-chain`"), "{err}");

		let dir = std::env::temp_dir().join(format!("loopx-bad-spec-{}", std::process::id()));
		std::fs::write(&dir, b"{ not json").unwrap();
		let err = load(dir.to_str().unwrap()).err().unwrap();
		std::fs::remove_file(&dir).ok();
		assert!(err.contains("invalid chain spec"), "{err}");
	}
}
