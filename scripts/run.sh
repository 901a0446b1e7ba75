#!/usr/bin/env bash
# The README's first command: set up what is missing, build, and start a development chain
# (one validator, Alice) that produces and finalizes blocks, with the native workers on the
# embedded demo dataset (see docs/protocol.md, "Native workers"). Ctrl-C stops it.
#   scripts/run.sh [extra loopx-node flags, e.g. --rpc-external]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

ensure_setup
build_node
log "starting the dev chain: RPC ws://127.0.0.1:9944, Prometheus http://127.0.0.1:9615/metrics"
log "polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944"
exec "$NODE_BIN" --dev --tmp --rpc-cors all "$@"
