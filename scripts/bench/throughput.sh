#!/usr/bin/env bash
# Throughput baseline (a benchmark, not a test): starts a fresh dev node, submits pre-signed
# balance transfers and market extrinsics (data-market offers and bids that match), then runs
# the learning workers' benchmark (model bytes on the wire, training and verification time:
# worker/benches/learning.rs), and writes scripts/bench/REPORT.md with both.
#   scripts/bench/throughput.sh                      6 senders x 3000 transfers
#   BENCH_TXS_PER_SENDER=2000 scripts/bench/throughput.sh
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

ensure_setup
export BENCH_TXS_PER_SENDER="${BENCH_TXS_PER_SENDER:-3000}"
build_node
ensure_e2e_packages

work="$(mktemp -d)"
# The node's log is kept in /tmp for a look at what the pool did.
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; cp "$work/node.log" /tmp/loopx-throughput-node.log 2>/dev/null || true; rm -rf "$work"' EXIT
"$NODE_BIN" --dev --base-path "$work/db" --rpc-port 9950 --port 30350 --prometheus-port 9660 \
	--no-mdns --rpc-max-connections 1000 --pool-limit 20000 --pool-kbytes 65536 \
	>"$work/node.log" 2>&1 &
node_pid=$!
export BENCH_OUT="$work/throughput.json"
(cd "$REPO_ROOT/e2e" && node bench/throughput.mjs)
kill "$node_pid" 2>/dev/null || true
wait "$node_pid" 2>/dev/null || true
log "learning workers' benchmark"
(cd "$REPO_ROOT" && cargo bench --locked -p loopx-worker --bench learning -- --out "$work/learning.md")

python3 - "$BENCH_OUT" "$REPO_ROOT/scripts/bench/REPORT.md" "$work/learning.md" <<'PY'
import json, sys, platform, subprocess, datetime, os
data = json.load(open(sys.argv[1]))
report = sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [
    "# Throughput report",
    "",
    f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC at commit `{commit or '?'}` on {os.cpu_count()} cores ({cpu}).",
    "",
    "Reproduce: `scripts/bench/throughput.sh`"
    + (f" (BENCH_TXS_PER_SENDER={os.environ['BENCH_TXS_PER_SENDER']})" if os.environ.get("BENCH_TXS_PER_SENDER") else ""),
    "",
    f"A fresh `loopx-node --dev` (release build, one validator, 3 s blocks); {data['senders']} senders x "
    f"{data['per_sender']} transfers (market workloads: their own count per sender, in the raw figures), "
    "all signed before submission (immortal era), submitted over WebSocket RPC with at most 256 requests in flight. Rate = included transactions / chain time "
    "from the block before the first loaded block to the last loaded block. Fullness = normal-class "
    "ref-time weight used / the normal-class maximum (75 % of 2 s). Steady = the loaded blocks "
    "other than the first and last (which submission starts and ends inside). Failed in block = "
    "included but dispatched with an error (counted in the rate: they use block space too). "
    "Market workloads run after the baseline on the same node, each after a setup of its own.",
    "",
    "| workload | included / signed | failed in block | loaded blocks | tx/s (all) | tx/s (steady) | ratio to transfers | mean tx/block | mean fullness | max fullness |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for r in data["results"]:
    lines.append(
        f"| `{r['workload']}` | {r['included']} / {r['signed']} | {r.get('failed_in_block', 0)} | {r['blocks_with_load']} | {r['tps']:.1f} | "
        f"{(r['steady_tps'] or 0):.1f} | "
        f"{r['ratio_to_transfers']:.2f} | {r['mean_extrinsics_per_block']:.1f} | "
        f"{100*r['mean_block_fullness_normal_weight']:.1f} % | {100*r['max_block_fullness_normal_weight']:.1f} % |"
    )
lines += ["", open(sys.argv[3]).read().rstrip(), ""]
lines += ["", "Raw figures:", "", "```json", json.dumps(data, indent=2), "```", ""]
open(report, "w").write("\n".join(lines))
print("\n".join(lines[:16]))
PY
log "report written to scripts/bench/REPORT.md"
