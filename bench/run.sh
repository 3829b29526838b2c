#!/usr/bin/env bash
# One run of the engine benchmark against PyTorch (issue 7): same weights, same loss, same machine, side by side.
# Prints the agreement check at one point, the GEMM peak and a table per size with both ratios, time and peak memory
# (docs/contracts.md, Goals: at most 0.5x PyTorch's time and 1.5x its peak RSS). Usage: bench/run.sh [SIZES...]
# ROUNDS=N alternates ours and PyTorch N times per size (medians of the rounds and of the rounds' time ratios; the highest
# peak RSS): use 3 or more on a shared machine. CONTENT_IMAGE= and STYLE_IMAGE= override the agreement check's images.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("${@:-224 512 1024}")
read -r -a SIZES <<< "${SIZES[*]}"
THREADS="${THREADS:-$(nproc)}"
WINOGRAD="${WINOGRAD:-auto}"   # auto (the default: up to 768x768), on or off
PY=/usr/bin/python3
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The benchmark project builds the CLI too (it references it): eval comes from the CLI, the timings from the benchmarks.
dotnet build -c Release bench/ServerlessStyle.Bench -v quiet -nologo > "$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }
CLI=src/ServerlessStyle.Cli/bin/Release/net10.0/serverless-style
BENCH=bench/ServerlessStyle.Bench/bin/Release/net10.0/serverless-style-bench
TORCH="$PY bench/torch_style_loss.py --onnx $WORK/random_vgg19.onnx --threads $THREADS"
CONTENT=samples/content/chelsea.png
STYLE=samples/styles/starry_night.jpg
runs_for() { case "$1" in 224) echo 7 ;; 512) echo 5 ;; *) echo 3 ;; esac; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
CONTENT="${CONTENT_IMAGE:-$CONTENT}"
STYLE="${STYLE_IMAGE:-$STYLE}"
ROUNDS="${ROUNDS:-1}"
$BENCH export-random-vgg19 "$WORK/random_vgg19.onnx" > /dev/null

# Agreement at one point away from the content image (so all three terms and their gradients are active).
$CLI eval --network random-vgg19 --content $CONTENT --style $STYLE --height 224 --width 224 --inputs-out "$WORK/at" > /dev/null
$PY - "$WORK/at" <<'PY'
import sys, numpy as np
folder = sys.argv[1]
c = np.load(f"{folder}/content.npy")
np.save(f"{folder}/x_moved.npy", (c + 20 * np.sin(0.37 * np.arange(c.size)).reshape(c.shape)).astype(np.float32))
PY
$CLI eval --network random-vgg19 --content $CONTENT --style $STYLE --height 224 --width 224 -x "$WORK/at/x_moved.npy" \
  --grad-out "$WORK/grad.npy" --inputs-out "$WORK/at" > "$WORK/ours.json"
echo "check (ours vs PyTorch float64 at 224x224): $($TORCH check --inputs "$WORK/at" --ours-json "$WORK/ours.json" --ours-grad "$WORK/grad.npy")"

# Peak: the faster of PyTorch's sgemm (its BLAS) and ONNX Runtime's (MLAS, what our convolutions run on), 2048^3.
TORCH_GEMM="$($TORCH gemm --n 2048)"
ORT_GEMM="$($BENCH gemm --size 2048 --threads "$THREADS")"
PEAK=$($PY -c "import json,sys; print(max(json.loads(a)['gflops'] for a in sys.argv[1:]))" "$TORCH_GEMM" "$ORT_GEMM")
echo "gemm: torch $TORCH_GEMM; onnxruntime $ORT_GEMM; peak used: $PEAK GFLOP/s"

printf '\n| size | ours ms (median) | PyTorch ms (median) | time ratio | ours peak RSS MB | PyTorch peak RSS MB | memory ratio | ours GFLOP/s | %% of peak |\n|---|---|---|---|---|---|---|---|---|\n'
for size in "${SIZES[@]}"; do
  runs=$(runs_for "$size")
  : > "$WORK/ours.jsonl"
  : > "$WORK/theirs.jsonl"
  for _ in $(seq "$ROUNDS"); do
    $BENCH evaluation --network random-vgg19 --height "$size" --width "$size" --evaluations "$runs" --threads "$THREADS" --winograd "$WINOGRAD" >> "$WORK/ours.jsonl"
    $TORCH time --size "$size" --runs "$runs" >> "$WORK/theirs.jsonl"
  done
  $PY - "$size" "$WORK/ours.jsonl" "$WORK/theirs.jsonl" "$PEAK" <<'PY'
import json, statistics, sys
size, peak = sys.argv[1], float(sys.argv[4])
ours, theirs = ([json.loads(line) for line in open(path)] for path in sys.argv[2:4])
ms = lambda rounds: statistics.median(r["medianMs"] for r in rounds)
rounds = lambda rounds: "" if len(rounds) == 1 else " [" + ", ".join("%.0f" % r["medianMs"] for r in rounds) + "]"
rss = lambda rounds: max(r["peakRssMb"] for r in rounds)
gflops = statistics.median(r["gflops"] for r in ours)
# Each round's ratio is ours against the PyTorch run right after it, so a load that drifts between rounds cancels out.
ratio = statistics.median(o["medianMs"] / t["medianMs"] for o, t in zip(ours, theirs))
print(f"| {size} | {ms(ours):.0f}{rounds(ours)} | {ms(theirs):.0f}{rounds(theirs)} | {ratio:.2f} | "
      f"{rss(ours):.0f} | {rss(theirs):.0f} | {rss(ours) / rss(theirs):.2f} | {gflops:.0f} | {100 * gflops / peak:.0f}% |")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
