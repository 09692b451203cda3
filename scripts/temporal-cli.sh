#!/usr/bin/env bash
# `npm run -s temporal -- <args>`: the pinned Temporal CLI (built once if missing), pointed at the
# dev server `npm start` launched unless TEMPORAL_ADDRESS says otherwise.
set -euo pipefail
cli=$(bash "$(dirname "$0")/install-temporal-cli.sh" | tail -n1)
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-localhost:${TEMPORAL_DEV_PORT:-7233}}"
export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
exec "$cli" "$@"
