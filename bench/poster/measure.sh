#!/usr/bin/env bash
# Measures tiled posters (issue 24) against untiled runs, on the CPU, and prints the numbers for docs/performance.md.
#
#   dotnet build bench/ServerlessStyle.Bench -c Release        (builds the CLI too)
#   scripts/with-azurite.sh bench/poster/measure.sh [quality|memory|all] [--untiled-only]
#
# quality: the same job untiled and tiled (same content, style, network, iterations and start): both results' loss
#   under the untiled objective (`serverless-style-bench loss`), the tiled/untiled ratio (issue 24: at most 1.15), and
#   the seam measure (`serverless-style-bench seam`: the step between neighbouring pixels across tile edges and across
#   overlap centres over the step elsewhere, and "local": over the step one pixel beside each line; at most 1.1) of the
#   tiled result and, as the floor that the picture itself gives on the same grid, of the untiled one. Both finals stay in $OUT for the docs' side-by-side picture.
# memory: a POSTER x POSTER job with POSTER_TILE-px tiles, run by `serverless-style worker` processes pinned to one
#   core each (taskset; the worker has no thread option, so ONNX Runtime's threads share that core): once with one
#   worker and once with two. Prints each worker's peak RSS (VmHWM) against MemoryEstimate's figure for a tile and for
#   the untiled stage (`serverless-style-bench estimate`), the wall time of each and their ratio, and the dispatch gaps
#   (the times when no activity of the job ran on any worker: the fan-in barrier between iterations, with the
#   orchestration's own steps).
# --untiled-only runs only the untiled half of quality: the one part that works before `run --tile` exists.
# Without it the script stops at once, with a message, when `run --tile` is unknown.
#
# Settings (environment, defaults in brackets): NETWORK [random-vgg19], CONTENT [samples/content/coffee.png],
# STYLE [samples/styles/starry_night.jpg], HEIGHT [512: coffee.png gives 512 x 768], ITERATIONS [4], EVALUATIONS [20],
# TILE [256], OVERLAP [32], POSTER_CONTENT [samples/content/astronaut.png, square], POSTER [2048], POSTER_TILE [512],
# POSTER_OVERLAP [64], POSTER_NETWORK [resnet18], POSTER_ITERATIONS [2], POSTER_EVALUATIONS [3], OUT [a new temp folder].
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
say() { echo "measure-poster: $*" >&2; }
cli=(dotnet src/ServerlessStyle.Cli/bin/Release/net10.0/serverless-style.dll)
bench=(dotnet bench/ServerlessStyle.Bench/bin/Release/net10.0/serverless-style-bench.dll)
[ -f "${cli[1]}" ] && [ -f "${bench[1]}" ] || { say "build first: dotnet build bench/ServerlessStyle.Bench -c Release"; exit 2; }
[ -n "${AZURITE_CONNECTION_STRING:-}" ] || { say "run it under scripts/with-azurite.sh (the workers share its task hub)"; exit 2; }

part=all untiled_only=""
for arg in "$@"; do
  case "$arg" in
    quality|memory|all) part=$arg ;;
    --untiled-only) untiled_only=1 ;;
    *) say "unknown argument '$arg': expected quality, memory or all, and optionally --untiled-only"; exit 2 ;;
  esac
done
if [ -n "$untiled_only" ] && [ "$part" = memory ]; then
  say "memory has no untiled half: it measures tiled jobs on workers"
  exit 2
fi
if [ -z "$untiled_only" ] && ! "${cli[@]}" run --help 2>/dev/null | grep -q -- '--tile '; then
  say "this build's 'serverless-style run' has no --tile option: the tiling of issue 24 is not in it yet, so there is nothing tiled to measure (--untiled-only runs the untiled half)"
  exit 3
fi

NETWORK=${NETWORK:-random-vgg19} CONTENT=${CONTENT:-samples/content/coffee.png} STYLE=${STYLE:-samples/styles/starry_night.jpg}
HEIGHT=${HEIGHT:-512} ITERATIONS=${ITERATIONS:-4} EVALUATIONS=${EVALUATIONS:-20} TILE=${TILE:-256} OVERLAP=${OVERLAP:-32}
POSTER_CONTENT=${POSTER_CONTENT:-samples/content/astronaut.png} POSTER=${POSTER:-2048} POSTER_TILE=${POSTER_TILE:-512}
POSTER_OVERLAP=${POSTER_OVERLAP:-64} POSTER_NETWORK=${POSTER_NETWORK:-resnet18}
POSTER_ITERATIONS=${POSTER_ITERATIONS:-2} POSTER_EVALUATIONS=${POSTER_EVALUATIONS:-3}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/poster.XXXXXX")}
mkdir -p "$OUT"
hub="poster$RANDOM$RANDOM"
declare -A pid
cleanup() {
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

json() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d[sys.argv[2]])' "$1" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# One job through `run` in this process (its own worker): prints the final image's path.
run_job() {
  local name=$1; shift
  "${cli[@]}" run --task-hub "$hub" --provider cpu --network "$NETWORK" --content "$CONTENT" --style "$STYLE" --height "$HEIGHT" \
    --iterations "$ITERATIONS" --evaluations "$EVALUATIONS" --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 \
    || { say "the $name run failed; its log:"; cat "$OUT/$name.log" >&2; exit 1; }
  sed -n 's/^final image: \(.*\)  (loss.*/\1/p' "$OUT/$name.log" | tail -1
}

quality() {
  echo "quality: $CONTENT x $STYLE at height $HEIGHT, $NETWORK, $ITERATIONS x $EVALUATIONS evaluations, tiles $TILE overlapping by $OVERLAP"
  local untiled tiled=""
  untiled=$(run_job untiled)
  [ -n "$untiled_only" ] || tiled=$(run_job tiled --tile "$TILE" --tile-overlap "$OVERLAP")
  local losses
  losses=$("${bench[@]}" loss "$untiled${tiled:+,$tiled}" --network "$NETWORK" --content "$CONTENT" --style "$STYLE" --height "$HEIGHT")
  local untiled_loss tiled_loss
  untiled_loss=$(json "$(sed -n 1p <<<"$losses")" loss)
  echo "  untiled: $untiled"
  echo "  untiled loss (untiled objective, PNG as saved): $untiled_loss"
  local floor
  floor=$("${bench[@]}" seam "$untiled" --tile "$TILE" --tile-overlap "$OVERLAP")
  echo "  seam floor (the untiled result on the same grid): edges $(json "$floor" edgeRatio) (local $(json "$floor" edgeLocalRatio)), overlap centres $(json "$floor" centreRatio) (local $(json "$floor" centreLocalRatio))"
  if [ -n "$tiled" ]; then
    tiled_loss=$(json "$(sed -n 2p <<<"$losses")" loss)
    local seam
    seam=$("${bench[@]}" seam "$tiled" --tile "$TILE" --tile-overlap "$OVERLAP")
    echo "  tiled: $tiled"
    echo "  tiled loss: $tiled_loss; tiled / untiled: $(ratio "$tiled_loss" "$untiled_loss") (want <= 1.15)"
    echo "  seam ratio of the tiled result: edges $(json "$seam" edgeRatio) (local $(json "$seam" edgeLocalRatio)), overlap centres $(json "$seam" centreRatio) (local $(json "$seam" centreLocalRatio)) (want <= 1.1); grid $(json "$seam" tilesAcross) x $(json "$seam" tilesDown)"
  fi
}

# Starts worker $1 pinned to core $2 and waits until it has joined the task hub.
start_worker() {
  taskset -c "$2" "${cli[@]}" worker --task-hub "$hub" --provider cpu >"$OUT/worker-$1.log" 2>&1 &
  pid[$1]=$!
  until grep -qs "joined task hub" "$OUT/worker-$1.log"; do
    kill -0 "${pid[$1]}" 2>/dev/null || { say "worker $1 did not start:"; cat "$OUT/worker-$1.log" >&2; exit 1; }
    sleep 0.1
  done
}

stop_worker() {
  kill "${pid[$1]}" 2>/dev/null || true
  wait "${pid[$1]}" 2>/dev/null || true
  unset "pid[$1]"
}

# A POSTER x POSTER job on the workers named in $@ (started for it, so that their peaks are this job's); prints wall
# time, peaks and dispatch gaps, and leaves the wall time in $wall.
wall=""
poster_job() {
  local started job ended
  started=$(date +%s.%N)
  job=$("${cli[@]}" run --task-hub "$hub" --provider cpu --network "$POSTER_NETWORK" --content "$POSTER_CONTENT" --style "$STYLE" \
    --height "$POSTER" --iterations "$POSTER_ITERATIONS" --evaluations "$POSTER_EVALUATIONS" \
    --tile "$POSTER_TILE" --tile-overlap "$POSTER_OVERLAP" --detach | tail -1)
  "${cli[@]}" jobs wait "$job" --task-hub "$hub" --timeout 3600 >"$OUT/poster-$#.log" 2>&1 \
    || { say "poster job $job did not complete:"; cat "$OUT/poster-$#.log" >&2; exit 1; }
  ended=$(date +%s.%N)
  wall=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
  echo "  $# worker(s): job $job took $wall s"
  for name in "$@"; do
    echo "    worker $name: peak RSS $(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/${pid[$name]}/status") MB"
  done
  # Activity lines of the job ("HH:mm:ss.fff X for <instance> started/done"), all workers merged: the gaps in which no
  # activity of this job ran anywhere.
  for name in "$@"; do grep -h "for $job" "$OUT/worker-$name.log" || true; done | python3 -c '
import sys
events = []
for line in sys.stdin:
    h, m, s = line.split()[0].split(":")
    t = int(h) * 3600 + int(m) * 60 + float(s)
    if " started on " in line: events.append((t, 1))
    elif " done in " in line or " failed on " in line or " abandoned after " in line: events.append((t, -1))
events.sort()
running, idle_since, gaps = 0, None, []
for t, d in events:
    if running == 0 and idle_since is not None and d == 1: gaps.append(t - idle_since)
    running += d
    if running == 0: idle_since = t
if gaps:
    print("    dispatch gaps (no activity of the job running): %d, mean %.2f s, max %.2f s, all: %s" % (len(gaps), sum(gaps) / len(gaps), max(gaps), " ".join("%.2f" % g for g in gaps)))
else:
    print("    dispatch gaps: none found in the worker logs")
'
}

memory() {
  local tile job stage side
  # The largest tile is optimised with its halo, 8 px a side (Tiling.Halo in src/ServerlessStyle.Core/Jobs/JobPlan.cs),
  # once the poster has more than one tile.
  side=$POSTER_TILE
  [ "$POSTER" -gt "$POSTER_TILE" ] && side=$((POSTER_TILE + 16))
  tile=$("${bench[@]}" estimate "${side}x${side}" --network "$POSTER_NETWORK")
  job=$("${bench[@]}" estimate "${side}x${side}" --network "$POSTER_NETWORK" --stage "${POSTER}x${POSTER}")
  stage=$("${bench[@]}" estimate "${POSTER}x${POSTER}" --network "$POSTER_NETWORK")
  echo "memory and fan-out: $POSTER_CONTENT at ${POSTER}x${POSTER}, $POSTER_NETWORK, tiles $POSTER_TILE overlapping by $POSTER_OVERLAP, $POSTER_ITERATIONS x $POSTER_EVALUATIONS evaluations"
  echo "  MemoryEstimate: a ${POSTER_TILE}-px tile ($side px with its halo) $(json "$tile" peakMb) MB; the tiled job's check (the tile plus the stage held whole to blend) $(json "$job" peakMb) MB, the untiled ${POSTER}-px stage $(json "$stage" peakMb) MB"
  start_worker a 0
  poster_job a
  local one=$wall
  stop_worker a
  start_worker a 0
  start_worker b 1
  poster_job a b
  echo "  wall time 1 worker / 2 workers: $(ratio "$one" "$wall")"
  stop_worker a
  stop_worker b
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); results in $OUT"
case "$part" in
  quality) quality ;;
  memory) memory ;;
  all) quality; [ -n "$untiled_only" ] || memory ;;
esac
