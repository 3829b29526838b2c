#!/usr/bin/env bash
# Runs every test: lints the Bicep (scripts/lint-infra.sh, one check), installs Azurite from the lock file (once),
# starts it, runs `dotnet test` on the solution,
# stops Azurite whatever the outcome, prints "N passed, N failed" from the TRX results and exits non-zero on
# any failure. Extra arguments go to `dotnet test` (for example: --filter "Category!=Integration").
#
# --fast (first argument): the unit tests and the quick Azurite tests only, in about two minutes once built: it leaves
# out the test categories below and the Bicep lint. Categories (xunit traits "Category"):
#   Storage      single calls against Azurite (milliseconds each): kept in --fast
#   Integration  whole jobs through the durable engine and the style engine in one process
#   Process      the CLI as separate processes (run, worker, Ctrl-C, a fresh clone, its own Azurite)
#   Slow         long computations in one process (L-BFGS convergence, finite-difference gradients)
#   Browser      the job page in Chromium
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
  set -- --filter "Category!=Integration&Category!=Process&Category!=Slow&Category!=Browser" "$@"
fi

if [ ! -x node_modules/.bin/azurite-blob ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# The viewer's browser test (Category=Browser) drives Debian's Chromium; install it when missing and we may.
# Without it (not root) that test fails with a message saying so.
if [ "$fast" -eq 0 ] && [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ]; then
  apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; } \
    || echo "test: could not install chromium; the browser test will fail." >&2
fi

# The infrastructure lint runs first and counts as one check in the summary line.
lint_status=0
if [ "$fast" -eq 0 ]; then
  set +e
  scripts/lint-infra.sh
  lint_status=$?
  set -e
fi

results="$root/TestResults"
rm -rf "$results"
set +e
scripts/with-azurite.sh dotnet test ServerlessStyle.sln -c Release --results-directory "$results" "$@"
status=$?
set -e

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test: dotnet test exited with $status without a failed test in the results (a build error or a crashed test host); counted as one failure." >&2
  failed=1
fi
if [ "$fast" -eq 0 ]; then
  if [ "$lint_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ] && [ "$lint_status" -eq 0 ]
