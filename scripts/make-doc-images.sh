#!/usr/bin/env bash
# Remakes the pictures in docs/images from the project itself (about 7 minutes on 2 cores):
#   sample.png                         the drawn sample content, the drawn style and the result of `run` with no images
#   chelsea_starry_night_resnet18.png  the RESULT ONLY of samples/content/chelsea.png in the style of
#                                      samples/styles/starry_night.jpg (the docs show results, not the inputs)
# Needs Azurite (scripts/with-azurite.sh exports its connection); the images come from samples/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cli=(dotnet run --project src/ServerlessStyle.Cli -c Release --)
out=$(mktemp -d)
"${cli[@]}" run --provider cpu --out "$out/sample"
job=$(ls "$out/sample")
"${cli[@]}" sheet --label "content style result" --out docs/images/sample.png \
  "$out/sample/$job"/inputs/content/*.png "$out/sample/$job"/inputs/styles/*.png "$out/sample/$job"/*/final.png
"${cli[@]}" run --provider cpu --content samples/content/chelsea.png --style samples/styles/starry_night.jpg \
  --height 224 --iterations 10 --out "$out/chelsea"
job=$(ls "$out/chelsea")
cp "$out/chelsea/$job"/*/final.png docs/images/chelsea_starry_night_resnet18.png
rm -rf "$out"
echo "docs/images updated"
