#!/bin/sh
# azd's postprovision hook (azure.yaml): puts VGG19 into the models container (scripts/provision-model.sh, which only
# ever warns), then checks the app's scale settings took effect (scripts/check-scale.sh, which fails the provision
# when they did not: a deployment that cannot scale from zero must not look like a success).
set -u
cd "$(dirname "$0")/.."
sh ./scripts/provision-model.sh
exec sh ./scripts/check-scale.sh
