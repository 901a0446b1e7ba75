#!/usr/bin/env bash
# ml-kernels benchmarks B1–B5 (release build). Figures, CSVs and plots go to
# ml-kernels/benchmarks/ (one directory per gossip run, one .txt per benchmark); BENCHMARKS.md
# quotes them.
#   scripts/bench/ml.sh            everything (~50 min on 2 cores)
#   scripts/bench/ml.sh b3 b4      some of them
# Run it on an otherwise idle machine: B5 times single training steps.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

out="$REPO_ROOT/ml-kernels/benchmarks"
mkdir -p "$out"
[ -n "${LOOPX_BENCH_NO_BUILD:-}" ] || (cd "$REPO_ROOT" && cargo build --release --locked -p loopx-ml-sim)
sim="$CARGO_TARGET_DIR/release/loopx-sim"
bench="$CARGO_TARGET_DIR/release/loopx-ml-bench"
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(b1 b2 b3 b4 b5)

run_sim() { # name, args…
	local name="$1"
	shift
	log "loopx-sim $name: $*"
	"$sim" run --out "$out/$name" "$@" | grep -v '^wrote'
}

for b in "${which[@]}"; do
	case "$b" in
	b1)
		inter="$("$REPO_ROOT/scripts/fetch-movielens.sh")"
		"$bench" movielens --data "$inter" | tee "$out/b1-movielens.txt"
		"$bench" synthetic | tee "$out/b1-synthetic.txt"
		# The dense 10⁶ × 16 table under Adam takes ~3.5 min an epoch here (~25 min in all).
		"$bench" synthetic-trained | tee "$out/b1-synthetic-trained.txt"
		;;
	b2)
		{ "$bench" bytes --hidden 16x16; "$bench" bytes --hidden 8x8; } | tee "$out/b2-bytes.txt"
		;;
	b3)
		run_sim b3-iid-uncompressed --rank 0 --precision f32 --rounds 60
		run_sim b3-iid-tt-int8 --rank 4 --precision int8 --rounds 60
		run_sim b3-iid-tt-int4 --rank 4 --precision int4 --rounds 60
		run_sim b3-noniid-uncompressed --split non-iid --rank 0 --precision f32 --rounds 60
		run_sim b3-noniid-tt-int8 --split non-iid --rank 4 --precision int8 --rounds 60
		run_sim b3-iid-tt-int8-churn-loss --rank 4 --precision int8 --rounds 60 --churn 0.2 --loss 0.1 --peer-sampling view --view 8
		central="$(sed -n 's/^central_auc = //p' "$out/b3-iid-uncompressed/summary.txt")"
		"$sim" plot --out "$out/b3-iid" --title "B3: 64 nodes, IID" --reference "central=$central" \
			--series "dense f32=$out/b3-iid-uncompressed/rounds.csv" --series "TT r4 int8=$out/b3-iid-tt-int8/rounds.csv" \
			--series "TT r4 int4=$out/b3-iid-tt-int4/rounds.csv" --series "TT r4 int8, 20% churn, 10% loss=$out/b3-iid-tt-int8-churn-loss/rounds.csv"
		"$sim" plot --out "$out/b3-noniid" --title "B3: 64 nodes, non-IID (Dirichlet 0.3)" --reference "central=$central" \
			--series "dense f32=$out/b3-noniid-uncompressed/rounds.csv" --series "TT r4 int8=$out/b3-noniid-tt-int8/rounds.csv"
		;;
	b4)
		common=(--rank 4 --precision int8 --rounds 60 --fanin 6)
		run_sim b4-clean-mean "${common[@]}" --merge mean
		run_sim b4-byz25-mean "${common[@]}" --merge mean --byzantine 0.25 --attack sign-flip
		run_sim b4-clean-median "${common[@]}" --merge median
		run_sim b4-byz25-median "${common[@]}" --merge median --byzantine 0.25 --attack sign-flip
		run_sim b4-byz25-krum "${common[@]}" --merge krum --trim 2 --byzantine 0.25 --attack sign-flip
		run_sim b4-byz25-median-random "${common[@]}" --merge median --byzantine 0.25 --attack random
		# Centered clipping around the own model (radius 0.1 × its norm, the default), and the
		# radii around it (the default was chosen from this sweep).
		run_sim b4-clean-cclip "${common[@]}" --merge centered-clip
		run_sim b4-byz25-cclip "${common[@]}" --merge centered-clip --byzantine 0.25 --attack sign-flip
		run_sim b4-byz25-cclip-random "${common[@]}" --merge centered-clip --byzantine 0.25 --attack random
		for r in 0.05 0.25 0.5; do
			run_sim "b4-byz25-cclip-r$r" "${common[@]}" --merge centered-clip --clip-radius "$r" --byzantine 0.25 --attack sign-flip --no-plots
		done
		"$sim" plot --out "$out/b4-byzantine" --title "B4: 25% Byzantine peers (sign flip x4), fan-in 6" \
			--series "no attack, mean=$out/b4-clean-mean/rounds.csv" --series "attack, plain mean=$out/b4-byz25-mean/rounds.csv" \
			--series "no attack, median=$out/b4-clean-median/rounds.csv" --series "attack, median=$out/b4-byz25-median/rounds.csv" \
			--series "attack, Multi-Krum=$out/b4-byz25-krum/rounds.csv" --series "random models, median=$out/b4-byz25-median-random/rounds.csv" \
			--series "attack, centered clip=$out/b4-byz25-cclip/rounds.csv" --series "random models, centered clip=$out/b4-byz25-cclip-random/rounds.csv"
		run_sim b4-flip20-all --rank 4 --precision int8 --rounds 60 --label-flip 0.2 --keep 1.0
		# Keep 1 − the flip rate; 75 % and 90 % around it.
		run_sim b4-flip20-lowloss --rank 4 --precision int8 --rounds 60 --label-flip 0.2 --keep 0.8
		run_sim b4-flip20-lowloss75 --rank 4 --precision int8 --rounds 60 --label-flip 0.2 --keep 0.75 --no-plots
		run_sim b4-flip20-lowloss90 --rank 4 --precision int8 --rounds 60 --label-flip 0.2 --keep 0.9 --no-plots
		"$sim" plot --out "$out/b4-labelflip" --title "B4: 20% flipped labels on every node" \
			--series "clean=$out/b3-iid-tt-int8/rounds.csv" --series "flipped, all samples=$out/b4-flip20-all/rounds.csv" \
			--series "flipped, lowest-loss 80%=$out/b4-flip20-lowloss/rounds.csv" --series "flipped, lowest-loss 75%=$out/b4-flip20-lowloss75/rounds.csv"
		;;
	b5)
		"$bench" speed | tee "$out/b5-speed.txt"
		run_sim b5-memory --rank 4 --precision int8 --rounds 20 --central-steps 0 --no-plots
		;;
	*)
		echo "unknown benchmark $b (b1…b5)" >&2
		exit 1
		;;
	esac
done
log "results in $out"
