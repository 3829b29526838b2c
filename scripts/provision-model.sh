#!/bin/sh
# azd's postprovision hook (azure.yaml): puts the reference VGG19 into the deployment's models container, so that
# `azd up` ends with the network the seed uses in place.
#   1. serverless-style models fetch vgg19 --if-missing: downloads the Keras notop file on this machine (which has
#      internet), keeps it only if its MD5 is the one Keras publishes, and imports it into ~/.serverless-style/models.
#   2. serverless-style models upload --account $AZURE_STORAGE_ACCOUNT_NAME: with your signed-in identity (azd gave it
#      Storage Blob Data Contributor on the account); retried while that fresh role assignment takes effect.
# If either step fails it prints one warning line, saying how to add the network by hand, and exits 0: the app then
# runs the bundled ResNet18, and the deployment goes on. With private storage (SERVERLESS_STYLE_STORAGE_NETWORK_ACCESS=
# private) step 2 cannot reach the account from this machine: it is skipped with one warning line instead of being
# refused ten times, and the fetched file stays in this machine's model store for the upload docs/deploy.md describes.
#
# Environment: AZURE_STORAGE_ACCOUNT_NAME, SERVERLESS_STYLE_CONTAINER_PREFIX and SERVERLESS_STYLE_STORAGE_NETWORK_ACCESS
# (azd sets them from the Bicep outputs);
# SERVERLESS_STYLE_VGG19_URL, a mirror of the Keras file (its MD5 is still checked); SERVERLESS_STYLE_CLI, the command
# that runs the CLI (default: dotnet run on src/ServerlessStyle.Cli); SERVERLESS_STYLE_UPLOAD_TRIES and
# SERVERLESS_STYLE_UPLOAD_WAIT, the upload's tries (10) and seconds between them (30).
set -u
cd "$(dirname "$0")/.."
cli=${SERVERLESS_STYLE_CLI:-"dotnet run --project src/ServerlessStyle.Cli -c Release --"}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

warn() {
  echo "warning: VGG19 was not put into the models container ($1); the app runs the bundled ResNet18. To add VGG19: serverless-style models import --keras-h5 FILE, then serverless-style models upload --account ${AZURE_STORAGE_ACCOUNT_NAME:-ACCOUNT} (docs/deploy.md, \"When the model is missing\")." >&2
  exit 0
}

# The last line a failed command printed, without the CLI's "serverless-style: " prefix.
reason() { tail -n 1 "$log" | sed 's/^serverless-style: //'; }

set -- models fetch vgg19 --if-missing
[ -n "${SERVERLESS_STYLE_VGG19_URL:-}" ] && set -- "$@" --url "$SERVERLESS_STYLE_VGG19_URL"
# shellcheck disable=SC2086 # $cli is a command line on purpose
$cli "$@" >"$log" 2>&1 || warn "models fetch vgg19 failed: $(reason)"
cat "$log"

[ -n "${AZURE_STORAGE_ACCOUNT_NAME:-}" ] || warn "AZURE_STORAGE_ACCOUNT_NAME is not set; run this as azd's postprovision hook"
if [ "${SERVERLESS_STYLE_STORAGE_NETWORK_ACCESS:-public}" = private ]; then
  echo "warning: VGG19 was not put into the models container (the storage account is private: only its virtual network reaches it); the app runs the bundled ResNet18. To add VGG19, upload it from inside that network or open the account to your address for the upload: docs/deploy.md, \"Private storage\"." >&2
  exit 0
fi
tries=0
# shellcheck disable=SC2086
until $cli models upload --account "$AZURE_STORAGE_ACCOUNT_NAME" >"$log" 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt "${SERVERLESS_STYLE_UPLOAD_TRIES:-10}" ] || warn "models upload failed $tries times: $(reason)"
  # A role assignment made by this provision can take minutes to apply; until then the upload is refused (403).
  sleep "${SERVERLESS_STYLE_UPLOAD_WAIT:-30}"
done
cat "$log"
