#!/usr/bin/env bash
# Starts Azurite (blob, queue, table) on 127.0.0.1 in a temporary folder, waits until the three answer,
# runs the given command with the connection string exported, then stops exactly the processes it started
# (also when the command fails or the script is interrupted). Without a command it keeps Azurite up until Ctrl-C.
#
#   scripts/with-azurite.sh [command args...]
#   AZURITE_BLOB_PORT / AZURITE_QUEUE_PORT / AZURITE_TABLE_PORT choose the ports (default 10000/10001/10002).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/node_modules/.bin"
if [ ! -x "$bin/azurite-blob" ]; then
  echo "with-azurite: Azurite is not installed; run 'npm ci' in $root first." >&2
  exit 2
fi

blob_port=${AZURITE_BLOB_PORT:-10000}
queue_port=${AZURITE_QUEUE_PORT:-10001}
table_port=${AZURITE_TABLE_PORT:-10002}
location=$(mktemp -d "${TMPDIR:-/tmp}/azurite.XXXXXX")
pids=()

stop() {
  local code=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$location"
  exit "$code"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in "$blob_port" "$queue_port" "$table_port"; do
  if port_in_use "$port"; then
    echo "with-azurite: port $port on 127.0.0.1 is already taken (another Azurite?); set AZURITE_*_PORT to free ports." >&2
    exit 2
  fi
done

common=(--disableTelemetry --silent --skipApiVersionCheck --location "$location")
"$bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$blob_port" "${common[@]}" >"$location/blob.log" 2>&1 &
pids+=($!)
"$bin/azurite-queue" --queueHost 127.0.0.1 --queuePort "$queue_port" "${common[@]}" >"$location/queue.log" 2>&1 &
pids+=($!)
"$bin/azurite-table" --tableHost 127.0.0.1 --tablePort "$table_port" "${common[@]}" >"$location/table.log" 2>&1 &
pids+=($!)

for port in "$blob_port" "$queue_port" "$table_port"; do
  for _ in $(seq 1 150); do
    port_in_use "$port" && break
    sleep 0.2
  done
  if ! port_in_use "$port"; then
    echo "with-azurite: Azurite did not answer on port $port within 30 s; its logs:" >&2
    cat "$location"/*.log >&2
    exit 1
  fi
done

key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table_port/devstoreaccount1;"
export ServerlessStyle__Storage__ConnectionString="$AZURITE_CONNECTION_STRING"
echo "with-azurite: Azurite is up on 127.0.0.1:$blob_port/$queue_port/$table_port (data in $location)" >&2

if [ $# -eq 0 ]; then
  echo "with-azurite: press Ctrl-C to stop. Connection string: $AZURITE_CONNECTION_STRING" >&2
  wait
else
  set +e
  "$@"
  status=$?
  set -e
  exit "$status"
fi
