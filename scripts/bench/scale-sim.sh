#!/usr/bin/env bash
# The scaling simulation of verification (issue 29, item 6): n = 10, 100 and 1,000 validators,
# every validator voting or committees of 16, 10 % and 30 % colluding weight, 5 % no-shows,
# over the chain's own committee draw, share cap and tally (pallets/weighted-voting/src/scale_sim.rs).
#
#   scripts/bench/scale-sim.sh     writes scripts/bench/results/scale-sim.jsonl and scripts/bench/SCALE.md
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ensure_setup

OUT_DIR="$REPO_ROOT/scripts/bench/results"
mkdir -p "$OUT_DIR"
TABLE="$(cd "$REPO_ROOT" && SKIP_WASM_BUILD=1 SCALE_SIM_OUT="$OUT_DIR/scale-sim.jsonl" \
	cargo test --release --locked -p pallet-weighted-voting --lib scale_sim::scale_grid -- --ignored --nocapture --test-threads 1 2>/dev/null | grep '^| [0-9]')"
{
	echo "# Verification at scale (simulation)"
	echo
	echo "Produced by \`scripts/bench/scale-sim.sh\` on $(date -u +%Y-%m-%d); raw output: \`scripts/bench/results/scale-sim.jsonl\`."
	echo "Every validator claims one model update per round; the dishonest share (equal weights) forges"
	echo "its claims and votes together (its own claims valid, honest ones invalid); each drawn voter"
	echo "stays away with probability 5 %. Runtime rules: quorum 50 %, approval > 50 % of the revealed"
	echo "weight (a tie rejects), at least 2 voters, 40 % share cap, escalation to 2k + 1 then everyone"
	echo "on no quorum and, where the row says so, on a verdict with less than 67 % of the revealed"
	echo "weight behind it (\`DecisiveShare\`); tallies in the runtime's \`TallyBudget\` (a quarter of a 2 s block, each charged its measured worst case: \`Pallet::tally_bound\`), 3 s blocks. Payload 48 KiB a claim. 20 seeds a point (5 for n = 1,000 with"
	echo "everyone voting); forged-claim acceptance with its 95 % Wilson interval."
	echo
	echo "| n | committee | dishonest | forged accepted (95 % CI) of forged | honest rejected | undecided | escalations | scorings/validator/round (max) | MiB/round | tally blocks/round |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	echo "$TABLE"
} > "$REPO_ROOT/scripts/bench/SCALE.md"
cat "$REPO_ROOT/scripts/bench/SCALE.md"
