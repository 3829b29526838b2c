#!/usr/bin/env bash
# Restores the whole solution as a machine that has never seen a NuGet package would: the committed tree copied into
# an empty temporary folder, NUGET_PACKAGES pointed at a new empty cache, locked mode (every project's
# packages.lock.json must hold), then a build of the Functions app so that the SDK's generated extension project
# restores too (its lock file is src/ServerlessStyle.Functions/WorkerExtensions.packages.lock.json). Prints every
# NuGet warning or error and fails on any that scripts/restore-allowed.txt does not list. It downloads about 1 GB, so
# it is not part of every CI run: run it before changing a package version and when a restore starts to fail.
#
#   scripts/check-restore.sh            # the committed tree (HEAD)
#   scripts/check-restore.sh --worktree # the files as they are, uncommitted changes included
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 CI=true

work=$(mktemp -d "${TMPDIR:-/tmp}/serverless-style-restore.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/clone" "$work/packages"
if [ "${1:-}" = "--worktree" ]; then
  tar -C "$root" --exclude=bin --exclude=obj --exclude=node_modules --exclude=TestResults --exclude=./out --exclude=.git -c . | tar -x -C "$work/clone"
else
  git -C "$root" archive HEAD | tar -x -C "$work/clone"
fi
export NUGET_PACKAGES="$work/packages"
cd "$work/clone"

log="$work/restore.log"
start=$SECONDS
set +e
dotnet restore ServerlessStyle.sln --locked-mode >"$log" 2>&1
restore_status=$?
dotnet build src/ServerlessStyle.Functions -c Release --no-restore >>"$log" 2>&1
build_status=$?
set -e

# Each diagnostic once (MSBuild repeats them per project and per solution), without the trailing project in brackets.
grep -oE '(warning|error) [A-Z]+[0-9]+: .*' "$log" | sed -E 's/ \[[^]]*\]$//' | sort -u >"$work/diagnostics.txt" || true
allowed="$root/scripts/restore-allowed.txt"
: >"$work/unexpected.txt"
while IFS= read -r line; do
  code=$(echo "$line" | grep -oE '[A-Z]+[0-9]+' | head -n 1)
  if [ -f "$allowed" ] && grep -qxF "$code" <(grep -vE '^\s*(#|$)' "$allowed" | awk '{print $1}'); then
    echo "check-restore: allowed ($allowed): $line"
  else
    echo "$line" >>"$work/unexpected.txt"
  fi
done <"$work/diagnostics.txt"

packages=$(find "$NUGET_PACKAGES" -mindepth 2 -maxdepth 2 -type d | wc -l)
size=$(du -sh "$NUGET_PACKAGES" | cut -f1)
echo "check-restore: restored $packages package versions ($size) into an empty cache in $((SECONDS - start)) s; restore exited $restore_status, Functions build $build_status"
if [ -s "$work/unexpected.txt" ]; then
  echo "check-restore: $(wc -l <"$work/unexpected.txt") NuGet diagnostics that the repository does not allow:" >&2
  cat "$work/unexpected.txt" >&2
fi
if [ "$restore_status" -ne 0 ] || [ "$build_status" -ne 0 ] || [ -s "$work/unexpected.txt" ]; then
  echo "check-restore: FAILED; the last lines of the log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "check-restore: OK, every project restored the versions in its lock file, with no warning"
