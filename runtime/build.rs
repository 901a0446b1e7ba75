//! Builds the runtime's WebAssembly blob (skipped with `SKIP_WASM_BUILD=1`).
fn main() {
	// The genesis presets are compiled in from `chain-spec/*/genesis.json` (outside this crate),
	// so an edit there must rebuild the runtime.
	println!("cargo:rerun-if-changed=../chain-spec");
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
