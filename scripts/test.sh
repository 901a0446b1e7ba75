#!/usr/bin/env bash
# The README's second command: set up what is missing, then run every Rust test and every
# end-to-end test (polkadot.js against real nodes: dev chains and the four-validator network),
# and writes every part's duration to $CARGO_TARGET_DIR/loopx-test-times.tsv.
#   scripts/test.sh            everything
#   scripts/test.sh rust       Rust tests only
#   scripts/test.sh e2e        end-to-end tests only (needs a built node)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

what="${1:-all}"
ensure_setup

# Every part's duration, as `file<TAB>seconds` lines (the e2e runner appends one per file).
TIMES="$CARGO_TARGET_DIR/loopx-test-times.tsv"
mkdir -p "$CARGO_TARGET_DIR"
# The last run's times order the e2e files, longest first.
[ -s "$TIMES" ] && cp "$TIMES" "$TIMES.last"
: >"$TIMES"
status=0

if [ "$what" = all ] || [ "$what" = rust ]; then
	log "formatting (cargo fmt --check, the repository's rustfmt.toml)"
	started=$SECONDS
	(cd "$REPO_ROOT" && cargo fmt --all --check) || { status=$?; log "run 'cargo fmt --all' to fix the formatting"; }
	printf 'rust-fmt (cargo fmt --all --check)\t%s\n' "$((SECONDS - started))" >>"$TIMES"
	log "lints (cargo clippy --workspace --all-targets -- -D warnings)"
	# Check-mode only (no WebAssembly runtime needed for lints): ~6 min the first time on this
	# machine, 1–2 min after a change.
	started=$SECONDS
	(cd "$REPO_ROOT" && SKIP_WASM_BUILD=1 cargo clippy --release --locked --workspace --all-targets -- -D warnings) || status=$?
	printf 'rust-clippy (cargo clippy --workspace --all-targets)\t%s\n' "$((SECONDS - started))" >>"$TIMES"
	log "Rust tests (release profile, sharing the node's build)"
	# Release, so the tests reuse the dependencies the node build compiled (and ML kernels run
	# at real speed).
	started=$SECONDS
	(cd "$REPO_ROOT" && cargo test --release --locked --workspace) || status=$?
	printf 'rust (cargo test --release --workspace)\t%s\n' "$((SECONDS - started))" >>"$TIMES"
	log "benchmark setups of every pallet (each benchmark runs once on its mock, checking its worst case still dispatches)"
	started=$SECONDS
	(cd "$REPO_ROOT" && SKIP_WASM_BUILD=1 cargo test --release --locked --features runtime-benchmarks \
		-p pallet-stake-reputation -p pallet-weighted-voting -p pallet-rewards -p pallet-routers \
		-p pallet-data-market -p pallet-builder-market -p pallet-compute-market --lib benchmarking) || status=$?
	printf 'rust-benchmarks (pallet benchmark tests)\t%s\n' "$((SECONDS - started))" >>"$TIMES"
	log "the runtime with try-runtime (its TryRuntime API and every pallet's try_state hook compile)"
	started=$SECONDS
	(cd "$REPO_ROOT" && SKIP_WASM_BUILD=1 cargo check --release --locked -p loopx-runtime --features try-runtime) || status=$?
	printf 'rust-try-runtime (cargo check --features try-runtime)\t%s\n' "$((SECONDS - started))" >>"$TIMES"
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
	build_node
	# The runtime-upgrade test's earlier release (built once, then cached).
	build_upgrade_fixture >/dev/null
	ensure_e2e_packages
	log "end-to-end tests (e2e/run.mjs: ${LOOPX_E2E_JOBS:-4} files at a time)"
	# Stop nodes left behind by an interrupted earlier run on the same ports.
	LOOPX_NET_DIR=/tmp/loopx-local-net "$REPO_ROOT/scripts/local-net.sh" stop >/dev/null 2>&1 || true
	(cd "$REPO_ROOT/e2e" && LOOPX_NODE="$NODE_BIN" LOOPX_TEST_TIMES="$TIMES" node run.mjs) || status=$?
fi

log "durations (seconds; also in $TIMES):"
sort -t $'\t' -k2 -rn "$TIMES" | awk -F '\t' '{ printf "  %8s  %s\n", $2, $1 }' >&2
exit "$status"
