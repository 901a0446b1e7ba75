#!/usr/bin/env bash
# The testnet's key ceremony (docs/operators-guide.md, "The testnet's keys").
#
#   scripts/testnet-keys.sh generate <name> <secrets-dir>
#       Run by each validator operator, on the machine that will keep the keys. Generates a
#       stash (sr25519), a BABE key (sr25519), a GRANDPA key (ed25519) and a worker key (sr25519)
#       with `loopx-node key generate`; writes their secret phrases to
#       <secrets-dir>/<name>.secrets.json (mode 600, never leaves the machine) and the public
#       part to <secrets-dir>/<name>.public.json, which the operator sends to the coordinator.
#
#   scripts/testnet-keys.sh genesis <name.public.json>...
#       Run by the coordinator: writes the validators into chain-spec/testnet/genesis.json
#       (endowments, equal bonds at neutral reputation, session keys, the technical committee),
#       keeping every other section of the file. No dev key and no sudo key is left.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

NODE="${LOOPX_NODE:-$NODE_BIN}"
GENESIS="$REPO_ROOT/chain-spec/testnet/genesis.json"

generate() {
	local name="$1" dir="$2"
	[[ "$name" =~ ^[a-z0-9-]+$ ]] || die "a name of lowercase letters, digits and dashes, not '$name'"
	[ -x "$NODE" ] || die "no node binary at $NODE: build it first (scripts/run.sh)"
	mkdir -p "$dir"
	chmod 700 "$dir"
	local secrets="$dir/$name.secrets.json" public="$dir/$name.public.json"
	[ -e "$secrets" ] && die "$secrets exists: a key ceremony never overwrites keys"
	local stash babe grandpa worker
	stash="$("$NODE" key generate --scheme sr25519 --output-type json --words 24)"
	babe="$("$NODE" key generate --scheme sr25519 --output-type json --words 24)"
	grandpa="$("$NODE" key generate --scheme ed25519 --output-type json --words 24)"
	worker="$("$NODE" key generate --scheme sr25519 --output-type json --words 24)"
	(
		umask 077
		python3 - "$name" "$secrets" "$public" "$stash" "$babe" "$grandpa" "$worker" <<'PY'
import json, sys
name, secrets, public = sys.argv[1:4]
keys = dict(zip(("stash", "babe", "grandpa", "worker"), (json.loads(k) for k in sys.argv[4:8])))
json.dump({role: k["secretPhrase"] for role, k in keys.items()}, open(secrets, "w"), indent=2)
json.dump({"name": name, **{role: k["ss58Address"] for role, k in keys.items()}}, open(public, "w"), indent=2)
PY
	)
	chmod 600 "$secrets"
	chmod 644 "$public"
	log "secrets: $secrets (keep it offline; the stash phrase belongs on no node)"
	log "public:  $public (send it to the coordinator)"
	cat "$public"
}

genesis() {
	[ $# -ge 1 ] || die "genesis needs the validators' .public.json files"
	python3 - "$GENESIS" "$@" <<'PY'
import json, sys
path, publics = sys.argv[1], sys.argv[2:]
g = json.load(open(path))
validators = [json.load(open(p)) for p in publics]
for v in validators:
    for role in ("stash", "babe", "grandpa", "worker"):
        if not v.get(role):
            sys.exit(f"{v.get('name', '?')}: no {role} key")
LPX = 10**12
TREASURY = "5EYCAe5hvqNtq4cLDJeu4kE6zW9uCrF9RgZb6HVgkWGw2CXz"  # the `lpx/trsy` pallet account
treasury = [b for b in g["balances"]["balances"] if b[0] == TREASURY]
g["balances"]["balances"] = (
    [[v["stash"], 1_000_000 * LPX] for v in validators]
    # The worker keys pay their proxies' fees.
    + [[v["worker"], 100 * LPX] for v in validators]
    + treasury
)
g["session"]["keys"] = [[v["stash"], v["stash"], {"babe": v["babe"], "grandpa": v["grandpa"]}] for v in validators]
g["stakeReputation"]["stakers"] = [[v["stash"], 20_000 * LPX, 500_000, True] for v in validators]
g["technicalCommittee"] = {"members": [v["stash"] for v in validators]}
g.pop("sudo", None)
open(path, "w").write(json.dumps(g, indent=2) + "\n")
print(f"wrote {len(validators)} validators into {path}")
PY
}

cmd="${1:-}"; shift || true
case "$cmd" in
generate) [ $# -eq 2 ] || die "usage: $0 generate <name> <secrets-dir>"; generate "$@" ;;
genesis) genesis "$@" ;;
*) die "usage: $0 generate <name> <secrets-dir> | genesis <name.public.json>..." ;;
esac
