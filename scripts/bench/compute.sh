#!/usr/bin/env bash
# Compute-market capacity (issue 29, goal "≥ 10 queries/s settled"): settled queries per second
# on a fresh dev node whose own worker answers them, RUNS times (a fresh node each).
#
#   scripts/bench/compute.sh     writes scripts/bench/results/compute.jsonl and scripts/bench/COMPUTE.md
#   RUNS=3 BENCH_QUERIES_PER_CLIENT=100 (5 clients) by default
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ensure_setup
build_node
ensure_e2e_packages

RUNS="${RUNS:-3}"
export BENCH_QUERIES_PER_CLIENT="${BENCH_QUERIES_PER_CLIENT:-100}"
OUT_DIR="$REPO_ROOT/scripts/bench/results"
mkdir -p "$OUT_DIR"
RAW="$OUT_DIR/compute.jsonl"
: >"$RAW"
work="$(mktemp -d)"
node_pid=
trap 'kill $node_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for run in $(seq 1 "$RUNS"); do
	log "compute market run $run of $RUNS ($BENCH_QUERIES_PER_CLIENT queries from each of 5 clients)"
	"$NODE_BIN" --dev --base-path "$work/db-$run" --rpc-port 9952 --port 30352 --prometheus-port 9662 \
		--no-mdns --rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 262144 >"$work/node-$run.log" 2>&1 &
	node_pid=$!
	(cd "$REPO_ROOT/e2e" && BENCH_RPC_PORT=9952 BENCH_OUT="$work/run-$run.json" node bench/compute.mjs >/dev/null)
	kill "$node_pid" 2>/dev/null || true
	wait "$node_pid" 2>/dev/null || true
	node_pid=
	python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$work/run-$run.json" >>"$RAW"
done

python3 - "$RAW" "$REPO_ROOT/scripts/bench/COMPUTE.md" "$BENCH_QUERIES_PER_CLIENT" <<'PY'
import json, sys, datetime, statistics, subprocess
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
due = runs[0]["max_due_per_block"]
budget = runs[0]["due_budget_ms"]
carried = sum(r["blocks_carrying_over"] for r in runs)
# Each step's charge (ms): the query's read plus route_due / expire_due / evaluate_due(5) of
# pallets/compute-market/src/weights.rs at ParityDB's 17.487 µs a read, 121.941 µs a write.
READ, WRITE = 0.017487, 0.121941
ROUTE = READ + 2.024049 + 407 * READ + 2 * WRITE
EXPIRE = READ + 0.051599 + 1 * READ + 12 * WRITE
EVALUATE = READ + 0.331856 + 5 * 1.745443 + (54 + 500) * READ + (13 + 90) * WRITE
lines = [
    "# Compute market capacity",
    "",
    f"Produced by `scripts/bench/compute.sh` (RUNS={len(runs)}, BENCH_QUERIES_PER_CLIENT={sys.argv[3]}) on "
    f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC at commit `{commit}`; raw output: `scripts/bench/results/compute.jsonl`.",
    "",
    "A fresh `loopx-node --dev` with its workers each run (Alice, the one validator, answers every query: "
    "SQL on the demo table in SQLite, `commit_answer` then `reveal_answer`). Five clients post aggregation "
    "queries (redundancy 1, fee 1 LPX, deadline 200 blocks on), all signed before submission and submitted "
    "at once. Settled = `QueryAnswered` on chain (answer revealed and paid). Rate = settled queries over the "
    "chain time from the block before the first post to the last answer (routing waits the 3-block router "
    "window, then commit and reveal take a block each); steady = answers after the first answering block "
    "over the time from it to the last.",
    "",
    "| run | posted | settled | refunded | failed in block | blocks (first post → last answer) | settled/s (all) | settled/s (steady) | answers a block |",
    "|---|---|---|---|---|---|---|---|---|",
]
for i, r in enumerate(runs, 1):
    failed = ", ".join(f"{n} {k}" for k, n in sorted(r["failed_in_block"].items())) or "0"
    lines.append(
        f"| {i} | {r['posted']} | {r['answered']} | {r['refunded']} | {failed} | {r['first_post_block']} → {r['last_answer_block']} | "
        f"{r['settled_per_second']:.2f} | {r['steady_settled_per_second']:.2f} | {' '.join(map(str, r['answers_per_block']))} |"
    )
alls = [r["settled_per_second"] for r in runs]
steady = [r["steady_settled_per_second"] for r in runs]
lines += [
    "",
    f"Mean over the runs: **{statistics.mean(alls):.2f} settled/s** in all (min {min(alls):.2f}, max {max(alls):.2f}), "
    f"**{statistics.mean(steady):.2f}/s** steady (min {min(steady):.2f}, max {max(steady):.2f}).",
    "",
    "What bounds it: each block's `on_initialize` spends at most `DueBudget` on due steps "
    f"({budget:.0f} ms, a quarter of the 2 s block), charging each step its worst case from "
    "`pallets/compute-market/src/weights.rs` with the runtime's ParityDB weights: a routing "
    f"{ROUTE:.2f} ms (it reads every validator's capabilities, up to 100), an expiry {EXPIRE:.2f} ms, "
    f"a disputed evaluation {EVALUATE:.1f} ms; a step that does not fit waits, in order, for the next "
    "block (`DueCarriedOver`, `computeMarket.dueIncompleteSince`; "
    f"{carried} block(s) carried over in these runs). A burst is routed at up to {budget // ROUTE:.0f} a block "
    f"({budget // ROUTE / 3:.1f}/s). Sustained, each settled query also takes an expiry when its result "
    f"goes (`ResultLifetime` = 1,200 blocks after the answer): {budget // (ROUTE + EXPIRE):.0f} queries a block, "
    f"**{budget // (ROUTE + EXPIRE) / 3:.1f} a second**, within buckets of `MaxDuePerBlock` = {due} "
    f"(room for {due // 2} a block). The runtime test `a_blocks_due_budget_routes_and_expires_ten_queries_a_second` "
    "checks that bound against the weights. Above that, queries wait for their step rather than fail; "
    "one whose draw comes too late for a commit and a reveal phase is refunded (`RoutedTooLate`).",
]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
