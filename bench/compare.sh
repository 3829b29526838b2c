#!/usr/bin/env bash
# A/B of engine settings in one run: each configuration runs `serverless-style-bench evaluation` once per round, rounds interleaved so that the
# machine's changing load hits every configuration alike. Prints each configuration's median of its per-run medians.
# Usage: bench/compare.sh SIZE ROUNDS "LABEL=ARGS" ...   e.g. bench/compare.sh 224 3 "default=" "extended=--opt-level extended"
# BENCH=path overrides the binary (e.g. a copy of an older build, to compare graph changes).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=$1 ROUNDS=$2
shift 2
BENCH="${BENCH:-bench/ServerlessStyle.Bench/bin/Release/net10.0/serverless-style-bench}"
declare -A RESULTS
for round in $(seq "$ROUNDS"); do
  for config in "$@"; do
    label="${config%%=*}" args="${config#*=}"
    binary="$BENCH"
    if [[ "$args" == bin:* ]]; then binary="${args#bin:}"; binary="${binary%% *}"; args="${args#bin:$binary}"; fi
    # shellcheck disable=SC2086
    ms=$("$binary" evaluation --height "$SIZE" --width "$SIZE" --evaluations 3 $args | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['medianMs'], d['peakRssMb'])")
    RESULTS[$label]+="$ms;"
    echo "round $round $label: ms rss = $ms (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done
for config in "$@"; do
  label="${config%%=*}"
  /usr/bin/python3 -c "
import statistics, sys
runs = [tuple(map(float, r.split())) for r in sys.argv[2].split(';') if r]
print(f'{sys.argv[1]:>14}: median {statistics.median(r[0] for r in runs):8.0f} ms  runs {[r[0] for r in runs]}  peak RSS {max(r[1] for r in runs):.0f} MB')
" "$label" "${RESULTS[$label]}"
done
