#!/usr/bin/env bash
# Lints the Azure infrastructure offline: restores the Bicep CLI from NuGet (the only registry CI reaches),
# runs `bicep build` (compile errors) and `bicep lint` (the default linter rules), fails on any error or
# warning, and ends with one line: "lint-infra: passed (...)" or "lint-infra: failed (...)".
#
#   scripts/lint-infra.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

package=Azure.Bicep.CommandLine.linux-x64
# One version for the repository: Directory.Build.props (the Functions tests compile infra/ with it too).
version=$(sed -n 's|.*<BicepCliVersion>\(.*\)</BicepCliVersion>.*|\1|p' Directory.Build.props)

fail() { echo "lint-infra: failed ($1)"; exit 1; }
[ -n "$version" ] || fail "no <BicepCliVersion> in Directory.Build.props"

# A throwaway project outside the repository, so the solution's central package management does not apply;
# PackageDownload fetches the package into the global packages folder without referencing it.
tools=$(mktemp -d "${TMPDIR:-/tmp}/bicep-tools.XXXXXX")
trap 'rm -rf "$tools"' EXIT
cat > "$tools/bicep-tools.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$package" Version="[$version]" /></ItemGroup>
</Project>
EOF
dotnet restore "$tools/bicep-tools.csproj" --verbosity quiet >"$tools/restore.log" 2>&1 \
  || { cat "$tools/restore.log" >&2; fail "could not restore $package $version"; }

packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')
bicep="$packages/$(echo "$package" | tr '[:upper:]' '[:lower:]')/$version/tools/bicep"
[ -f "$bicep" ] || fail "no bicep binary at $bicep"
# NuGet extracts without the executable bit; the owner alone needs to run it.
chmod u+x,go-x "$bicep"

# bicep exits 0 on warnings; a warning here (an unknown property, a linter rule) is a defect too, so any
# diagnostic line fails the check.
diagnostics="$tools/diagnostics.txt"
"$bicep" build infra/main.bicep --stdout 2>"$diagnostics" >/dev/null || { cat "$diagnostics"; fail "bicep build infra/main.bicep"; }
"$bicep" lint infra/main.bicep >>"$diagnostics" 2>&1 || { cat "$diagnostics"; fail "bicep lint infra/main.bicep"; }
# build and lint both report the compiler's diagnostics: count each line once.
sort -u -o "$diagnostics" "$diagnostics"
if grep -qE ': (Error|Warning) ' "$diagnostics"; then
  cat "$diagnostics"
  fail "$(grep -cE ': Error ' "$diagnostics") errors, $(grep -cE ': Warning ' "$diagnostics") warnings"
fi
echo "lint-infra: passed (bicep $version: build and lint of infra/main.bicep, 0 errors, 0 warnings)"
