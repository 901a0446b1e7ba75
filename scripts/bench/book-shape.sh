#!/usr/bin/env bash
# How the data market's order-book calls grow with the book: runs the three book benchmarks of
# `pallet_data_market` (a resting insert that climbs to the top of the heap and a cancel of the
# best order, over the heap's depth d; a matching order with the most fills, over book sizes b
# up to MaxBookSize), and writes the median time and storage accesses per point, next to the
# heap levels, to pallets/data-market/BENCHMARKS.md.
#   scripts/bench/book-shape.sh      (uses the benchmark node of scripts/bench/pallet-weights.sh)
#   BENCH_JSON=FILE scripts/bench/book-shape.sh   (the --json-file of a run that did all three)
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ensure_setup

BENCH_TARGET="${LOOPX_BENCH_TARGET_DIR:-$HOME/.cache/loopx/target-bench}"
STEPS="${STEPS:-25}"
REPEAT="${REPEAT:-10}"
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
if [ -n "${BENCH_JSON:-}" ]; then
	json="$BENCH_JSON"
else
	(cd "$REPO_ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release --locked -p loopx-node --features runtime-benchmarks)
	NODE="$BENCH_TARGET/release/loopx-node"
	WASM="$BENCH_TARGET/release/wbuild/loopx-runtime/loopx_runtime.compact.compressed.wasm"
	json="$(mktemp)"
	trap 'rm -f "$json"' EXIT
	"$NODE" benchmark pallet --runtime "$WASM" --genesis-builder runtime --genesis-builder-preset development \
		--pallet pallet_data_market --extrinsic post_order_resting,post_order_matching,cancel_order \
		--steps "$STEPS" --repeat "$REPEAT" --json-file "$json" >/dev/null
fi

python3 - "$json" "$REPO_ROOT/pallets/data-market/BENCHMARKS.md" "$STEPS" "$REPEAT" <<'PY'
import json, math, statistics, sys, datetime, subprocess, os
data = json.load(open(sys.argv[1]))
out, steps, repeat = sys.argv[2], sys.argv[3], sys.argv[4]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
name = lambda b: b["benchmark"] if isinstance(b["benchmark"], str) else bytes(b["benchmark"]).decode()
lines = [
    "# Data market: order-book cost against book size",
    "",
    f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC at commit `{commit}` on {os.cpu_count()} cores ({cpu}), "
    f"{steps} steps x {repeat} repeats. Reproduce: `scripts/bench/book-shape.sh`.",
    "",
    "Each book is a binary heap in storage, so a resting insert, the removal of the best order and a",
    "cancel touch at most about log2(b) slots: d + 1 for a heap d levels deep (a book of up to",
    "2^(d+1) − 1 orders). Below: the median time of the call (µs) and its storage reads and writes",
    "at each depth d (resting, cancel; the weights are charged by it) or book size b (matching)",
    "the benchmark ran, and the time per heap level (time / (1 + d), d = log2 b for matching).",
    "Constant time per level means logarithmic growth in the book's size; linear growth would",
    "multiply the time by the size ratio (x1024 from b = 1 to 1024).",
    "",
]
# Only the book benchmarks (a run of every benchmark has the others too).
data = [b for b in data if name(b) in ("post_order_resting", "post_order_matching", "cancel_order")]
for bench in data:
    comps = lambda r: dict((c[0] if isinstance(c[0], str) else str(c[0]), c[1]) for c in r["components"])
    key = "d" if any("d" in comps(r) for r in bench["time_results"]) else "b"
    size = lambda r: comps(r).get(key)
    rows, db = {}, {}
    for r in bench["time_results"]:
        rows.setdefault(size(r), []).append(r)
    # Storage accesses are counted in the separate database runs.
    for r in bench.get("db_results", []):
        db.setdefault(size(r), []).append(r)
    lines += [f"## `{name(bench)}`", "", f"| {key} | median µs | reads | writes | µs per level |", "|---|---|---|---|---|"]
    for b in sorted(rows):
        rs = rows[b]
        t = statistics.median(x["extrinsic_time"] for x in rs) / 1000
        d = db.get(b) or rs
        reads = statistics.median(x["reads"] for x in d)
        writes = statistics.median(x["writes"] for x in d)
        per = t / (1 + (b if key == "d" else math.log2(max(b, 1))))
        lines.append(f"| {b} | {t:.1f} | {reads:.0f} | {writes:.0f} | {per:.1f} |")
    lines.append("")
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
log "written pallets/data-market/BENCHMARKS.md"
