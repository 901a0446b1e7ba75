#!/usr/bin/env bash
# Four LoopX validators (Alice, Bob, Charlie, Dave) on loopback, `--chain local`: GRANDPA needs
# more than 2/3 of the finality weight, so with four any one of them can be down.
#
#   scripts/local-net.sh start [name...]   start all four (or the named ones); Alice is bootnode
#   scripts/local-net.sh stop  [name...]   stop all running (or the named ones) cleanly (SIGTERM)
#   scripts/local-net.sh status            which are running, their best/finalized block
#   scripts/local-net.sh kill  name...     kill the named ones at once (SIGKILL), as a crash would
#   scripts/local-net.sh purge             stop all and delete their databases and logs
#
# Ports: p2p 30333+i, RPC 9944+i, Prometheus 9615+i for i = 0 (alice), 1 (bob), 2 (charlie),
# 3 (dave), each plus $LOOPX_PORT_OFFSET (default 0), so that several networks can run at once.
# `start ferdie` adds a fifth node (i = 5) with Ferdie's dev keys. Ferdie is funded in the local
# genesis but is not a validator there: he becomes one by bonding, `session.setKeys` and
# `stakeReputation.validate` (see docs/operators-guide.md, "Becoming a validator").
# `start dave-twin` (a TEST FACILITY, i = 6) starts a second node with Dave's validator keys and no
# workers: both sign in Dave's slots and rounds, so Dave equivocates and is reported and slashed.
# `start data` adds a data node (i = 4, not a validator, `--data-node`): a user selling a shard
# of the demo wallet data in the data market with Eve's account, whose key is put into the
# node's keystore with `loopx-node key insert` first. LOOPX_DATA_SURI picks another account;
# LOOPX_ML_DATA a CSV file to sell instead; LOOPX_DATA_OFFERS an offers file (`--data-offers`).
# State, logs and PID files live in $LOOPX_NET_DIR (default: /tmp/loopx-local-net).
# Set LOOPX_NODE to use another binary; LOOPX_CHAIN to use another chain spec; LOOPX_NO_WORKERS=1
# to start the validators without their native workers (tests that play their duties by hand);
# LOOPX_FAULTY=<name> makes that validator's workers cheat (a TEST FACILITY: `--worker-fault` for
# each word of $LOOPX_FAULT, default forge-answers; the chain catches and slashes it).
# LOOPX_TEST_SUDO=1 (a TEST FACILITY) starts the network on the local spec with Alice as sudo key
# added ($LOOPX_NET_DIR/local-test-sudo.json; nodes started later in that directory use it
# too): the local preset has no sudo, and end-to-end tests that set up scenarios as root use it.
# LOOPX_GENESIS_RUNTIME=<file.wasm> (a TEST FACILITY) starts the network on the local spec with
# that runtime's code instead of the node's own ($LOOPX_NET_DIR/local-genesis-runtime.json; later
# starts in that directory use it too): the runtime-upgrade test starts on an earlier release's,
# with that release's genesis patch (LOOPX_GENESIS_PATCH=<genesis.json>, else this checkout's).
# LOOPX_NODE_ARGS adds its words to the command line of each node started (e.g.
# `LOOPX_NODE_ARGS='--chain-index-keep-blocks 1200' scripts/local-net.sh start dave`).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

NET_DIR="${LOOPX_NET_DIR:-/tmp/loopx-local-net}"
NODE="${LOOPX_NODE:-$NODE_BIN}"
CHAIN="${LOOPX_CHAIN:-local}"
ALL=(alice bob charlie dave)
OFFSET="${LOOPX_PORT_OFFSET:-0}"
# Alice's fixed network key, so the others know her peer id before she starts.
ALICE_NODE_KEY=0000000000000000000000000000000000000000000000000000000000000001

index_of() {
	case "$1" in
	alice) echo 0 ;; bob) echo 1 ;; charlie) echo 2 ;; dave) echo 3 ;; data) echo 4 ;; ferdie) echo 5 ;; dave-twin) echo 6 ;;
	*) die "unknown node '$1' (alice, bob, charlie, dave, data, ferdie or dave-twin)" ;;
	esac
}

# The local spec plus a sudo key (LOOPX_TEST_SUDO=1), written once per network directory.
test_sudo_spec() {
	local spec="$NET_DIR/local-test-sudo.json"
	if [ ! -f "$spec" ]; then
		mkdir -p "$NET_DIR"
		"$NODE" build-spec --chain local --disable-default-bootnode 2>/dev/null >"$spec.base" ||
			die "could not build the local spec"
		python3 - "$REPO_ROOT/chain-spec/local/genesis.json" "$spec.base" "$spec.tmp" <<'PY'
import json, sys
genesis, base, dest = sys.argv[1:]
spec = json.load(open(base))
patch = json.load(open(genesis))
patch["sudo"] = {"key": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}  # Alice
runtime_genesis = spec["genesis"]["runtimeGenesis"]
for key in ("config", "patch", "namedPreset"):
    runtime_genesis.pop(key, None)
runtime_genesis["patch"] = patch
json.dump(spec, open(dest, "w"), indent=2)
PY
		mv "$spec.tmp" "$spec"
		rm -f "$spec.base"
	fi
	echo "$spec"
}

# The local spec with the runtime code of $LOOPX_GENESIS_RUNTIME, written once per network
# directory. Its genesis is built by that runtime from the local preset.
genesis_runtime_spec() {
	local spec="$NET_DIR/local-genesis-runtime.json"
	if [ ! -f "$spec" ]; then
		[ -f "${LOOPX_GENESIS_RUNTIME:-}" ] || die "LOOPX_GENESIS_RUNTIME names no file: '${LOOPX_GENESIS_RUNTIME:-}'"
		mkdir -p "$NET_DIR"
		"$NODE" build-spec --chain local --disable-default-bootnode 2>/dev/null >"$spec.base" ||
			die "could not build the local spec"
		python3 - "$LOOPX_GENESIS_RUNTIME" "$spec.base" "$spec.tmp" "${LOOPX_GENESIS_PATCH:-}" <<'PY'
import json, sys
wasm, base, dest, patch = sys.argv[1:]
spec = json.load(open(base))
spec["genesis"]["runtimeGenesis"]["code"] = "0x" + open(wasm, "rb").read().hex()
if patch:
    spec["genesis"]["runtimeGenesis"]["patch"] = json.load(open(patch))
json.dump(spec, open(dest, "w"))
PY
		mv "$spec.tmp" "$spec"
		rm -f "$spec.base"
	fi
	echo "$spec"
}

pid_of() { cat "$NET_DIR/$1.pid" 2>/dev/null || true; }
is_running() { local pid; pid="$(pid_of "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

rpc() { # rpc <port> <method> [params-json]
	curl -s -m 3 -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":${3:-[]}}" "http://127.0.0.1:$1"
}

start_one() {
	local name="$1" i p2p rpc_port prom
	i="$(index_of "$name")"
	p2p=$((30333 + OFFSET + i)); rpc_port=$((9944 + OFFSET + i)); prom=$((9615 + OFFSET + i))
	if is_running "$name"; then log "$name already running (pid $(pid_of "$name"))"; return; fi
	for port in "$p2p" "$rpc_port" "$prom"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			die "port $port (for $name) is in use; stop whatever holds it first"
		fi
	done
	local args=(--chain "$CHAIN" --base-path "$NET_DIR/$name" --port "$p2p"
		--rpc-port "$rpc_port" --prometheus-port "$prom" --rpc-cors all --no-mdns
		--unsafe-force-node-key-generation --allow-private-ip --name "$name")
	if [ "$name" = data ]; then
		# What a user does once: put the account key into the node's keystore.
		"$NODE" key insert --base-path "$NET_DIR/data" --chain "$CHAIN" --key-type lpxw \
			--scheme sr25519 --suri "${LOOPX_DATA_SURI:-//Eve}" ||
			die "could not insert the data node's key"
		args+=(--data-node)
		[ -n "${LOOPX_ML_DATA:-}" ] && args+=(--ml-data "$LOOPX_ML_DATA")
		[ -n "${LOOPX_DATA_OFFERS:-}" ] && args+=(--data-offers "$LOOPX_DATA_OFFERS")
	elif [ "$name" = dave-twin ]; then
		# Dave's keys on a second machine, as a careless failover would run them.
		args+=(--dave)
	else
		# A validator keeps the state of every finalized block, so that its chain index can
		# backfill from genesis after any gap (`worker/src/chain_index`).
		args+=("--$name" --state-pruning archive-canonical)
	fi
	# (The twin never runs workers: its votes and answers would be Dave's second copy.)
	{ [ "${LOOPX_NO_WORKERS:-0}" = 1 ] || [ "$name" = dave-twin ]; } && args+=(--no-workers)
	# shellcheck disable=SC2206 # the operator's words, split as a shell would
	[ -n "${LOOPX_NODE_ARGS:-}" ] && args+=(${LOOPX_NODE_ARGS})
	if [ "${LOOPX_FAULTY:-}" = "$name" ]; then
		for fault in ${LOOPX_FAULT:-forge-answers}; do args+=(--worker-fault "$fault"); done
	fi
	if [ "$name" = alice ]; then
		args+=(--node-key "$ALICE_NODE_KEY")
	else
		args+=(--bootnodes "/ip4/127.0.0.1/tcp/$((30333 + OFFSET))/p2p/$(alice_peer_id)")
	fi
	mkdir -p "$NET_DIR"
	nohup "$NODE" "${args[@]}" >"$NET_DIR/$name.log" 2>&1 9>&- &
	echo $! >"$NET_DIR/$name.pid"
	log "$name started (pid $!, rpc ws://127.0.0.1:$rpc_port, log $NET_DIR/$name.log)"
}

# Waits (up to 3 minutes) until node `name` answers an RPC call; fails if it exits first.
wait_for_rpc() {
	local name="$1" port
	port=$((9944 + OFFSET + $(index_of "$name")))
	for _ in $(seq 1 360); do
		rpc "$port" system_health | grep -q '"result"' && return 0
		is_running "$name" || die "$name exited before it answered RPC (log: $NET_DIR/$name.log)"
		sleep 0.5
	done
	die "$name did not answer RPC on port $port within 3 minutes (log: $NET_DIR/$name.log)"
}

alice_peer_id() {
	local key_file="$NET_DIR/alice.node-key"
	mkdir -p "$NET_DIR"
	printf '%s' "$ALICE_NODE_KEY" >"$key_file"
	"$NODE" key inspect-node-key --file "$key_file"
}

# Stops a node with `signal`: TERM (cleanly; KILL after 10 s) or KILL (at once, as a crash or a
# power cut would). Its database stays either way.
halt_one() {
	local name="$1" signal="$2" pid
	index_of "$name" >/dev/null
	pid="$(pid_of "$name")"
	if ! is_running "$name"; then rm -f "$NET_DIR/$name.pid"; log "$name is not running"; return; fi
	kill "-$signal" "$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in 10 s; killing"; kill -KILL "$pid"; fi
	rm -f "$NET_DIR/$name.pid"
	log "$name stopped (SIG$signal)"
}

# The genesis validators, and the data node and Ferdie if they have been started.
known() {
	echo "${ALL[@]}"
	for extra in data ferdie dave-twin; do [ -f "$NET_DIR/$extra.pid" ] && echo "$extra"; done
	true
}

status() {
	for name in $(known); do
		local i port best fin
		i="$(index_of "$name")"; port=$((9944 + OFFSET + i))
		if is_running "$name"; then
			best="$(rpc "$port" chain_getHeader | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["number"],16))' 2>/dev/null || echo '?')"
			fin="$(rpc "$port" chain_getFinalizedHead | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' 2>/dev/null || echo '')"
			fin="$( [ -n "$fin" ] && rpc "$port" chain_getHeader "[\"$fin\"]" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["number"],16))' 2>/dev/null || echo '?')"
			printf '%-8s running  pid %-7s best #%-6s finalized #%s\n' "$name" "$(pid_of "$name")" "$best" "$fin"
		else
			printf '%-8s stopped\n' "$name"
		fi
	done
}

cmd="${1:-status}"; shift || true
names=("$@"); [ ${#names[@]} -eq 0 ] && names=("${ALL[@]}")
case "$cmd" in
start)
	[ -x "$NODE" ] || die "no node binary at $NODE: run scripts/run.sh or cargo build --release -p loopx-node"
	# One network starts at a time on this machine (a lock shared by every state directory):
	# each node builds its genesis by running the runtime, and a dozen doing that at once on two
	# cores take minutes. The start returns once every node it started answers RPC.
	exec 9>"${TMPDIR:-/tmp}/loopx-local-net-start.lock"
	flock 9
	if [ "${LOOPX_TEST_SUDO:-0}" = 1 ] || [ -f "$NET_DIR/local-test-sudo.json" ]; then CHAIN="$(test_sudo_spec)"; fi
	if [ -n "${LOOPX_GENESIS_RUNTIME:-}" ] || [ -f "$NET_DIR/local-genesis-runtime.json" ]; then CHAIN="$(genesis_runtime_spec)"; fi
	for n in "${names[@]}"; do start_one "$n"; done
	for n in "${names[@]}"; do wait_for_rpc "$n"; done
	flock -u 9 ;;
stop)
	[ $# -eq 0 ] && read -r -a names <<<"$(known | tr '\n' ' ')"
	for n in "${names[@]}"; do halt_one "$n" TERM; done ;;
kill)
	[ $# -gt 0 ] || die "kill needs the names of the nodes to kill"
	for n in "${names[@]}"; do halt_one "$n" KILL; done ;;
status) status ;;
purge)
	for n in $(known); do halt_one "$n" TERM; done
	rm -rf "$NET_DIR"; log "removed $NET_DIR" ;;
*) die "usage: $0 start|stop|kill|status|purge [alice|bob|charlie|dave|data|ferdie|dave-twin ...]" ;;
esac
