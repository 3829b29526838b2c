#!/usr/bin/env bash
# Measures how soon a job moves on when one of two `serverless-style worker` processes dies (kill -9) or is stopped
# (SIGTERM) while it runs a chunk: how long the stopped worker takes to exit, when the other worker starts that
# chunk again, and when the job ends. Runs on the Azurite of scripts/with-azurite.sh (blob, queue, table), in a task
# hub of its own, with the workers' default time limits unless ServerlessStyle__Durable__* variables set others:
#
#   dotnet build src/ServerlessStyle.Cli -c Release
#   scripts/with-azurite.sh scripts/measure-recovery.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cli=(dotnet src/ServerlessStyle.Cli/bin/Release/net10.0/serverless-style.dll)
[ -f "${cli[1]}" ] || { echo "measure-recovery: build first: dotnet build src/ServerlessStyle.Cli -c Release" >&2; exit 2; }
[ -n "${AZURITE_CONNECTION_STRING:-}" ] || { echo "measure-recovery: run it under scripts/with-azurite.sh" >&2; exit 2; }

hub="recovery$RANDOM$RANDOM"
logs=$(mktemp -d "${TMPDIR:-/tmp}/recovery.XXXXXX")
declare -A pid
cleanup() {
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$logs"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
chunk_starts() { grep -c "RunChunk for $1.* started" "$logs/$2.log" || true; }

start_worker() {
  "${cli[@]}" worker --task-hub "$hub" --provider cpu >"$logs/$1.log" 2>&1 &
  pid[$1]=$!
  until grep -qs "joined task hub" "$logs/$1.log"; do sleep 0.1; done
}

# The worker whose last line about the job's chunks says it started one (and not yet that it is done).
running_worker() {
  for name in "$@"; do
    case "$(grep "RunChunk for $job" "$logs/$name.log" | tail -1)" in *" started "*) echo "$name"; return ;; esac
  done
}

# One pair, chunks of 20 ResNet18 evaluations at 128 px (2-3 s each on 2 cores): one chunk at a time, so the worker
# that does not run it is idle and takes it as soon as the task hub hands it out again.
measure() {
  local signal=$1 first=$2 second=$3
  job=$("${cli[@]}" run --task-hub "$hub" --network resnet18 --provider cpu --height 128 --iterations 8 --evaluations 20 --detach | tail -1)
  local victim=""
  # The job's second chunk (the first one also loads the network).
  until [ $(( $(chunk_starts "$job" "$first") + $(chunk_starts "$job" "$second") )) -ge 2 ] && victim=$(running_worker "$first" "$second") && [ -n "$victim" ]; do
    sleep 0.02
  done
  local survivor=$([ "$victim" = "$first" ] && echo "$second" || echo "$first")
  local before
  before=$(chunk_starts "$job" "$survivor")
  local sent exited="" resumed=""
  sent=$(now)
  kill "-$signal" "${pid[$victim]}"
  while [ -z "$exited" ] || [ -z "$resumed" ]; do
    [ -z "$exited" ] && ! kill -0 "${pid[$victim]}" 2>/dev/null && exited=$(since "$sent")
    [ -z "$resumed" ] && [ "$(chunk_starts "$job" "$survivor")" -gt "$before" ] && resumed=$(since "$sent")
    sleep 0.05
  done
  "${cli[@]}" jobs wait "$job" --task-hub "$hub" --timeout 600 >/dev/null
  echo "kill -$signal during a chunk: the worker exited after $exited s, the other worker started the chunk again after $resumed s, the job ended after $(since "$sent") s"
  unset "pid[$victim]"
  survivor_name=$survivor
}

start_worker a
start_worker b
measure KILL a b
start_worker c
measure TERM "$survivor_name" c
