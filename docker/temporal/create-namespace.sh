#!/bin/sh
# Registers the namespace the application uses, once the Temporal server reports SERVING.
# Safe on every start: an existing namespace is left as it is.
# Reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_RETENTION.
set -eu

namespace=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_RETENTION:-168h}
attempts=0

# The server reports SERVING only after its history shards are owned, a few seconds after the port opens.
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 60 ]; then
    echo "Temporal at ${TEMPORAL_ADDRESS} did not report SERVING after ${attempts} attempts" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$namespace" >/dev/null 2>&1; then
  echo "Namespace ${namespace} already exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$namespace" --retention "$retention"
  echo "Created namespace ${namespace} with retention ${retention}"
fi
