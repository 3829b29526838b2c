#!/bin/sh
# azd hook (azure.yaml: after provision and after deploy): reads the Functions app's properties.template.scale back
# and fails loudly when it is not what infra/ deployed. The scale-to-zero setup rests on
# allowScalingRuleOverride, a property of the preview API 2026-03-02-preview that has been reported refused on create
# and reset by a later PUT (azd deploy writes the app again): without it Container Apps replaces our KEDA rules by its
# generated ones, which know nothing of the Durable task hub on Azure Storage, and nothing wakes the app from zero.
#   1. GET the app with that API version (az rest) and compare minReplicas, maxReplicas, allowScalingRuleOverride and
#      the rule names with the Bicep outputs.
#   2. If they differ, PATCH allowScalingRuleOverride back to true once (a JSON merge patch: the rules stay) and read again.
#   3. Still different: one error line saying what differs and what to check (docs/deploy.md, "After azd up"), exit 1.
#
# Environment (azd sets them from the Bicep outputs and its own settings): AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP,
# AZURE_FUNCTION_APP_NAME, SERVERLESS_STYLE_MIN_REPLICAS, SERVERLESS_STYLE_MAX_REPLICAS, SERVERLESS_STYLE_SCALE_RULES
# (the rule names, space-separated); SERVERLESS_STYLE_AZ, the command that runs the Azure CLI (default: az).
set -u
az=${SERVERLESS_STYLE_AZ:-az}
api=2026-03-02-preview

fail() {
  echo "error: the scale settings of ${AZURE_FUNCTION_APP_NAME:-the Functions app} are not the deployed ones ($1); without them the app does not scale from zero on its queues. Check with: az rest --method get --url '${url:-/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.App/containerApps/APP?api-version=$api}' --query properties.template.scale (docs/deploy.md, \"After azd up\")." >&2
  exit 1
}

for name in AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME SERVERLESS_STYLE_MIN_REPLICAS SERVERLESS_STYLE_MAX_REPLICAS SERVERLESS_STYLE_SCALE_RULES; do
  eval "value=\${$name:-}"
  # shellcheck disable=SC2154 # set by the eval
  [ -n "$value" ] || fail "$name is not set; run this as azd's hook, after azd provision"
done
url="/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$AZURE_RESOURCE_GROUP/providers/Microsoft.App/containerApps/$AZURE_FUNCTION_APP_NAME?api-version=$api"
expected="min=$SERVERLESS_STYLE_MIN_REPLICAS max=$SERVERLESS_STYLE_MAX_REPLICAS override=true rules=$(echo "$SERVERLESS_STYLE_SCALE_RULES" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')"

# One line: min=N max=N override=true|false|none rules=a b c (sorted). The CLI prints JSON booleans as true or True.
actual() {
  numbers=$($az rest --method get --url "$url" \
    --query "[properties.template.scale.minReplicas, properties.template.scale.maxReplicas, properties.template.scale.allowScalingRuleOverride]" \
    -o tsv) || return 1
  rules=$($az rest --method get --url "$url" --query "properties.template.scale.rules[].name" -o tsv) || return 1
  # shellcheck disable=SC2086 # split on purpose: three tab-separated values
  set -- $numbers
  echo "min=${1:-none} max=${2:-none} override=$(echo "${3:-none}" | tr '[:upper:]' '[:lower:]') rules=$(echo "$rules" | sed '/^$/d' | sort | tr '\n' ' ')"
}

found=$(actual) || fail "could not read the app with API $api"
[ "$found" = "$expected" ] && { echo "check-scale: $AZURE_FUNCTION_APP_NAME scales as deployed ($found)"; exit 0; }

echo "check-scale: $AZURE_FUNCTION_APP_NAME read back as '$found', expected '$expected'; setting allowScalingRuleOverride again" >&2
$az rest --method patch --url "$url" --body '{"properties":{"template":{"scale":{"allowScalingRuleOverride":true}}}}' >/dev/null \
  || fail "read back '$found', expected '$expected', and the PATCH that sets allowScalingRuleOverride again failed"
found=$(actual) || fail "could not read the app with API $api after the PATCH"
[ "$found" = "$expected" ] || fail "read back '$found', expected '$expected', also after setting allowScalingRuleOverride again"
echo "check-scale: $AZURE_FUNCTION_APP_NAME scales as deployed after setting allowScalingRuleOverride again ($found)"
