#!/usr/bin/env bash
# Regenerates the `weights.rs` of LoopX's pallets from frame-benchmarking runs on this machine.
#
#   scripts/bench/pallet-weights.sh [pallet...]    default: every LoopX pallet
#
# Builds `loopx-node --features runtime-benchmarks` into its own target directory
# ($LOOPX_BENCH_TARGET_DIR, default ~/.cache/loopx/target-bench): the benchmark build compiles
# the runtime with different features, and both builds would otherwise overwrite each other's
# runtime WebAssembly. A clean benchmark build takes about 40 minutes on 2 cores.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ensure_setup

BENCH_TARGET="${LOOPX_BENCH_TARGET_DIR:-$HOME/.cache/loopx/target-bench}"
STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-20}"
PALLETS=("$@")
[ ${#PALLETS[@]} -eq 0 ] && PALLETS=(pallet_stake_reputation pallet_weighted_voting pallet_rewards pallet_data_market pallet_builder_market pallet_compute_market pallet_routers)

log "building loopx-node with runtime benchmarks into $BENCH_TARGET"
# frame-benchmarking-cli's storage-access test runtime cannot find itself in this workspace's
# metadata (the CLI is an optional dependency of the node); it only serves parachain storage
# benchmarks, so its WebAssembly build is skipped.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
(cd "$REPO_ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release --locked -p loopx-node --features runtime-benchmarks)
NODE="$BENCH_TARGET/release/loopx-node"
WASM="$BENCH_TARGET/release/wbuild/loopx-runtime/loopx_runtime.compact.compressed.wasm"

for pallet in "${PALLETS[@]}"; do
	dir="pallets/${pallet#pallet_}"; dir="${dir//_/-}"
	[ -d "$REPO_ROOT/$dir" ] || die "no pallet directory $dir for $pallet"
	log "benchmarking $pallet (steps $STEPS, repeat $REPEAT) -> $dir/src/weights.rs"
	(cd "$REPO_ROOT" && "$NODE" benchmark pallet \
		--runtime "$WASM" --genesis-builder runtime --genesis-builder-preset development \
		--pallet "$pallet" --extrinsic '*' --steps "$STEPS" --repeat "$REPEAT" \
		--template scripts/bench/pallet-weight-template.hbs --output "$dir/src/weights.rs")
done
