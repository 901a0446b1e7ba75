#!/usr/bin/env bash
# The whole LoopX cycle told as a story, for someone seeing the project for the first time:
# four validators and a data node on loopback (scripts/local-net.sh), a builder's task, a data
# deal, gossip-learning rounds with verification votes, a cheat caught and slashed, a client's
# queries, and the era's rewards (e2e/demo/demo.mjs; the same steps the full-cycle test checks).
# Takes about 15 minutes. Uses ports 9944-9948, 30333-30337 and 9615-9619.
#   scripts/demo.sh              Charlie forges his claims (test facility) and is caught
#   DEMO_HONEST=1 scripts/demo.sh   nobody cheats
#   DEMO_KEEP=1 scripts/demo.sh     keep the nodes' logs and databases afterwards
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

ensure_setup
build_node
ensure_e2e_packages
net_dir="$(mktemp -d /tmp/loopx-demo-XXXXXX)"
cleanup() {
	LOOPX_NET_DIR="$net_dir" "$REPO_ROOT/scripts/local-net.sh" stop >/dev/null 2>&1 || true
	if [ "${DEMO_KEEP:-0}" = 1 ]; then log "nodes' logs and databases kept in $net_dir"; else rm -rf "$net_dir"; fi
}
trap cleanup EXIT
cd "$REPO_ROOT/e2e"
LOOPX_NET_DIR="$net_dir" LOOPX_NODE="$NODE_BIN" node demo/demo.mjs
