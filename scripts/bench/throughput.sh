#!/usr/bin/env bash
# Throughput baseline (a benchmark, not a test): starts a fresh dev node (its workers off: the
# benchmark signs Alice's transactions itself), submits pre-signed balance transfers, market
# extrinsics (data-market offers and bids that match), model-update claims and votes, then runs
# the learning workers' benchmark (model bytes on the wire, training and verification time:
# worker/benches/learning.rs) and the chain index's (backfill rate, query latency at 10^6
# transfers: worker/benches/chain_index.rs), and writes scripts/bench/REPORT.md with all three.
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
# A large pool: the in-flight submissions of one sender can arrive out of nonce order, and the
# pool keeps a tenth of --pool-limit for such "future" transactions (2,000 of 20,000 dropped
# ~2,700 transfers in earlier runs).
trap 'kill $node_pid ${index_pid:-} 2>/dev/null || true; wait $node_pid 2>/dev/null || true; cp "$work/node.log" /tmp/loopx-throughput-node.log 2>/dev/null || true; rm -rf "$work"' EXIT
"$NODE_BIN" --dev --base-path "$work/db" --rpc-port 9950 --port 30350 --prometheus-port 9660 \
	--no-mdns --no-workers --rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 262144 \
	>"$work/node.log" 2>&1 &
node_pid=$!
export BENCH_OUT="$work/throughput.json"
(cd "$REPO_ROOT/e2e" && node bench/throughput.mjs)
kill "$node_pid" 2>/dev/null || true
wait "$node_pid" 2>/dev/null || true

# The chain index under load: a second fresh dev node, its workers on (Alice's worker indexes
# every finalized block), the transfer baseline from the five other senders, and the indexer's
# lag behind finality (`loopx_worker_chain_index_lag_blocks`) sampled every half second.
log "chain index lag under the transfer load (dev node with workers)"
"$NODE_BIN" --dev --base-path "$work/db-index" --rpc-port 9951 --port 30351 --prometheus-port 9661 \
	--no-mdns --rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 262144 \
	>"$work/node-index.log" 2>&1 &
index_pid=$!
for _ in $(seq 1 120); do
	curl -s -m 2 http://127.0.0.1:9661/metrics | grep -Eq '^loopx_worker_chain_index_height(\{[^}]*\})? [1-9]' && break
	sleep 1
done
(while kill -0 "$index_pid" 2>/dev/null; do
	curl -s -m 1 http://127.0.0.1:9661/metrics | awk '/^loopx_worker_chain_index_lag_blocks[ {]/{print $NF}'
	sleep 0.5
done) >"$work/lag.samples" &
sampler_pid=$!
(cd "$REPO_ROOT/e2e" && BENCH_RPC_PORT=9951 BENCH_TRANSFERS_ONLY=1 BENCH_SENDERS=//Bob,//Charlie,//Dave,//Eve,//Ferdie \
	BENCH_OUT="$work/lag-load.json" node bench/throughput.mjs)
sleep 6
kill "$index_pid" 2>/dev/null || true
wait "$index_pid" 2>/dev/null || true
kill "$sampler_pid" 2>/dev/null || true
cp "$work/lag.samples" /tmp/loopx-throughput-lag.samples 2>/dev/null || true

log "learning workers' benchmark"
(cd "$REPO_ROOT" && cargo bench --locked -p loopx-worker --bench learning -- --out "$work/learning.md")
log "chain index benchmark (backfill rate, query latency at 10^6 transfers)"
(cd "$REPO_ROOT" && cargo bench --locked -p loopx-worker --bench chain_index -- --out "$work/chain-index.md") | tee "$work/chain-index.raw"

python3 - "$BENCH_OUT" "$REPO_ROOT/scripts/bench/REPORT.md" "$work/learning.md" "$work/chain-index.md" "$work/chain-index.raw" "$work/lag-load.json" "$work/lag.samples" <<'PY'
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
    "Market workloads run after the baseline on the same node, each after a setup of its own. "
    "Claims and votes come from Alice alone (the dev chain's one validator) and are few (the "
    "runtime keeps at most 256 claims open), so they fit a block or two: their measured rate says "
    "how fast they arrived, and the weight bound (calls per normal weight used x a full block / "
    "block time) what blocks full of them would carry.",
    "",
    "| workload | senders | included / signed | failed in block | loaded blocks | tx/s (all) | tx/s (steady) | ratio to transfers | weight bound tx/s | mean tx/block | mean fullness | max fullness |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]
def failed(r):
    reasons = ", ".join(f"{n} {k}" for k, n in sorted(r.get("failures", {}).items()))
    return f"{r.get('failed_in_block', 0)}" + (f" ({reasons})" if reasons else "")
for r in data["results"]:
    lines.append(
        f"| `{r['workload']}` | {r.get('senders', data['senders'])} | {r['included']} / {r['signed']} | {failed(r)} | {r['blocks_with_load']} | {r['tps']:.1f} | "
        f"{'–' if r['steady_tps'] is None else format(r['steady_tps'], '.1f')} | "
        f"{r['ratio_to_transfers']:.2f} | {r.get('weight_bound_tps', 0):.0f} | {r['mean_extrinsics_per_block']:.1f} | "
        f"{100*r['mean_block_fullness_normal_weight']:.1f} % | {100*r['max_block_fullness_normal_weight']:.1f} % |"
    )
batched = [r for r in data["results"] if r.get("votes_per_call")]
if batched:
    lines += ["", "Batched votes (what the workers send: a block's votes in one call): "
              + "; ".join(f"`{r['workload']}` carries {r['weight_bound_votes_per_second']:.0f} votes/s at the weight bound, "
                          f"{r['weight_bound_votes_per_second'] / data['results'][0]['weight_bound_tps']:.2f} of the transfers' bound" for r in batched) + "."]
v = data.get("voting")
if v:
    lines += [
        "",
        f"The vote itself bounds sustained claims below any of these: at most {v['max_open_claims']} claims open at once"
        + (f", {v['max_open_per_class']} of one class" if 'max_open_per_class' in v else "")
        + f", a model-update claim open {v['model_update_blocks_open']} blocks (commit + reveal), so at most "
        f"{v['claims_per_second_open_bound']:.2f} model-update claims/s. "
        + (f"Tallies share a budget of {v['tally_budget_ms']:.0f} ms of each {v['block_seconds']:.0f} s block, each charged its "
           "measured worst case (a committee that may escalate is charged the draw of its next committee, which reads every validator of the session; "
           "claims decided per block by committee size: `scripts/bench/SCALE.md`). "
           if 'tally_budget_ms' in v else
           f"At most {v['max_tallies_per_block']} claims decided per {v['block_seconds']:.0f} s block, "
           f"{v['claims_per_second_tally_bound']:.2f} claims/s. ")
        + "Each claim takes one commit and one reveal per voter.",
    ]
lines += ["", open(sys.argv[3]).read().rstrip(), ""]
load = json.load(open(sys.argv[6]))["results"][0]
lags = [int(float(x)) for x in open(sys.argv[7]).read().split()]
if lags:
    within = sum(1 for x in lags if x <= 1) / len(lags)
    lag_line = (f"- Online lag behind finality under load: a fresh `--dev` node with its workers on (Alice's worker indexing), "
                f"{load['included']} transfers from {load['senders']} senders at {load['tps']:.0f} tx/s ({load['steady_tps'] or 0:.0f} steady, "
                f"{load['blocks_with_load']} loaded blocks); `loopx_worker_chain_index_lag_blocks` sampled every 0.5 s ({len(lags)} samples, "
                f"from the node's start through the load to 6 s after it): **max {max(lags)} blocks**, mean {sum(lags)/len(lags):.2f}, {100*within:.0f} % of samples ≤ 1 (goal ≤ 1). "
                f"Samples: `{' '.join(map(str, lags))}`.")
else:
    lag_line = "- Online lag: no samples (the indexing node did not report its gauge)."
lines += ["", open(sys.argv[4]).read().rstrip(), lag_line, "", "Raw output of the chain index benchmark:", "", "```",
          *[l for l in open(sys.argv[5]).read().splitlines() if not l.startswith(("## ", "- ", "|"))], "```", ""]
lines += ["", "Raw figures:", "", "```json", json.dumps(data, indent=2), "```", ""]
open(report, "w").write("\n".join(lines))
print("\n".join(lines[:16]))
PY
log "report written to scripts/bench/REPORT.md"
