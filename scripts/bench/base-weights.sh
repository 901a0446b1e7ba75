#!/usr/bin/env bash
# Measures the runtime's base weights on this machine and writes them to runtime/src/weights/:
#   block_weights.rs      BlockExecutionWeight  (an empty block)       `benchmark overhead`
#   extrinsic_weights.rs  ExtrinsicBaseWeight   (a no-op extrinsic)    `benchmark overhead`
#   paritydb_weights.rs   ParityDbWeight        (one read, one write)  `benchmark storage`
#                         (the nodes' database: `--database` defaults to ParityDB for a new one)
# The raw outputs go to scripts/bench/results/base-weights-*.txt.
#
#   scripts/bench/base-weights.sh
#
# Uses the benchmark node of scripts/bench/pallet-weights.sh ($LOOPX_BENCH_TARGET_DIR, built if
# missing). The storage benchmark reads and writes every key of the local network's genesis
# state (4 validators, governance, the markets' genesis; 103 keys), in a throw-away database,
# and takes the average: the 5 MB runtime code among the keys makes it far above the median, a
# margin for the larger state of a live chain. Writes are timed in batches of 10 keys with the
# state root computed once a batch (the default batch of 100,000 would write none of 103 keys).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ensure_setup

BENCH_TARGET="${LOOPX_BENCH_TARGET_DIR:-$HOME/.cache/loopx/target-bench}"
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
log "building loopx-node with runtime benchmarks into $BENCH_TARGET"
(cd "$REPO_ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release --locked -p loopx-node --features runtime-benchmarks)
NODE="$BENCH_TARGET/release/loopx-node"
OUT="$REPO_ROOT/runtime/src/weights"
RAW="$REPO_ROOT/scripts/bench/results"
mkdir -p "$OUT" "$RAW"
DB="$(mktemp -d)"
trap 'rm -rf "$DB"' EXIT

log "benchmark overhead (empty blocks and system.remark extrinsics, --chain dev)"
"$NODE" benchmark overhead --chain dev --base-path "$DB/overhead" --weight-path "$OUT" \
	--warmup 10 --repeat 100 2>&1 | tee "$RAW/base-weights-overhead.txt"
log "benchmark storage (every key of the local genesis, RocksDB)"
"$NODE" benchmark storage --chain local --base-path "$DB/storage" --state-version 1 \
	--batch-size 10 --weight-path "$OUT" 2>&1 | tee "$RAW/base-weights-storage.txt"

# The generated files name sp_weights; the runtime reaches it through frame_support.
sed -i 's/\bsp_weights::/frame_support::weights::/g' "$OUT"/block_weights.rs "$OUT"/extrinsic_weights.rs "$OUT"/paritydb_weights.rs
log "written: $OUT/{block_weights,extrinsic_weights,paritydb_weights}.rs"
(cd "$REPO_ROOT" && cargo fmt --all)
