#!/usr/bin/env bash
# The README's second command: set up what is missing, then run every Rust test and every
# end-to-end test (polkadot.js against real nodes: a dev chain and the three-validator network).
#   scripts/test.sh            everything
#   scripts/test.sh rust       Rust tests only
#   scripts/test.sh e2e        end-to-end tests only (needs a built node)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

what="${1:-all}"
ensure_setup

if [ "$what" = all ] || [ "$what" = rust ]; then
	log "Rust tests (release profile, sharing the node's build)"
	# Release, so the tests reuse the dependencies the node build compiled (and ML kernels run
	# at real speed).
	(cd "$REPO_ROOT" && cargo test --release --locked --workspace)
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
	build_node
	ensure_e2e_packages
	log "end-to-end tests (node --test)"
	# Stop nodes left behind by an interrupted earlier run on the same ports.
	LOOPX_NET_DIR=/tmp/loopx-local-net "$REPO_ROOT/scripts/local-net.sh" stop >/dev/null 2>&1 || true
	(cd "$REPO_ROOT/e2e" && LOOPX_NODE="$NODE_BIN" node --test --test-concurrency=1 tests/)
fi
