#!/usr/bin/env bash
# Turns an editable network description in chain-spec/<network>/ into full chain specs:
#   chain-spec/out/<network>.json       plain (human-readable genesis patch)
#   chain-spec/out/<network>-raw.json   raw (what nodes are started with: --chain <this file>)
#
#   scripts/build-spec.sh <network>     e.g. dev, local, testnet, or any folder you add
#
# chain-spec/<network>/network.json  name, id, chainType, protocolId, bootNodes, properties
# chain-spec/<network>/genesis.json  the runtime genesis patch: validators with their session
#                                    keys, endowments, technical committee, sudo key (dev only), ...
# The runtime code comes from the built node, so build it first (scripts/run.sh or cargo build).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

network="${1:-}"
[ -n "$network" ] || die "usage: $0 <network>   (a folder under chain-spec/: $(ls "$REPO_ROOT/chain-spec" | grep -v '^out$' | tr '\n' ' '))"
src="$REPO_ROOT/chain-spec/$network"
[ -f "$src/network.json" ] && [ -f "$src/genesis.json" ] || die "$src needs network.json and genesis.json"
[ -x "$NODE_BIN" ] || build_node
out="$REPO_ROOT/chain-spec/out"
mkdir -p "$out"

# Start from the built-in local spec (for its runtime code), then put this network's metadata
# and genesis patch in place.
"$NODE_BIN" build-spec --chain local --disable-default-bootnode 2>/dev/null >"$out/$network.base.json"
python3 - "$src/network.json" "$src/genesis.json" "$out/$network.base.json" "$out/$network.json" <<'PY'
import json, sys
network, genesis, base, dest = sys.argv[1:]
spec = json.load(open(base))
net = json.load(open(network))
for key in ("name", "id", "chainType", "protocolId", "bootNodes", "properties"):
    spec[key] = net[key]
runtime_genesis = spec["genesis"]["runtimeGenesis"]
for key in ("config", "patch", "namedPreset"):
    runtime_genesis.pop(key, None)
runtime_genesis["patch"] = json.load(open(genesis))
json.dump(spec, open(dest, "w"), indent=2)
PY
rm -f "$out/$network.base.json"
"$NODE_BIN" build-spec --chain "$out/$network.json" --raw --disable-default-bootnode 2>/dev/null >"$out/$network-raw.json"
log "wrote $out/$network.json and $out/$network-raw.json"
log "start a node with: loopx-node --chain $out/$network-raw.json --validator ..."
