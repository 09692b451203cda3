#!/usr/bin/env bash
# Finds or builds the pinned Temporal server and its SQL schema tool, and prints three lines:
#   server=<path to the server binary>
#   sql-tool=<path to temporal-sql-tool>
#   schema=<directory holding postgresql/v12/{temporal,visibility}/versioned>
# Order: $TEMPORAL_SERVER_BIN / $TEMPORAL_SQL_TOOL, then the tool cache outside the repo
# (built once with `go install`, about 3 minutes on two cores; later runs reuse it).
# The schema files are copied out of the Go module cache next to the binaries so that a
# `go clean -modcache` does not break a cluster that was already set up.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"

TEMPORAL_SERVER_VERSION="v1.29.1"
CACHE_DIR="${MANDI_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mandi}/temporal-server-${TEMPORAL_SERVER_VERSION}"
SERVER_BIN="${TEMPORAL_SERVER_BIN:-$CACHE_DIR/bin/server}"
SQL_TOOL="${TEMPORAL_SQL_TOOL:-$CACHE_DIR/bin/temporal-sql-tool}"
SCHEMA_DIR="$CACHE_DIR/schema"

print_paths() {
  echo "server=$SERVER_BIN"
  echo "sql-tool=$SQL_TOOL"
  echo "schema=$SCHEMA_DIR"
}

if [ -x "$SERVER_BIN" ] && [ -x "$SQL_TOOL" ] && [ -d "$SCHEMA_DIR/postgresql/v12" ]; then
  print_paths
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Temporal server not found and Go is not installed; set TEMPORAL_SERVER_BIN and TEMPORAL_SQL_TOOL or install Go." >&2
  exit 1
fi

mkdir -p "$CACHE_DIR/bin"
# The module proxy occasionally drops a connection; a go install is safe to repeat.
with_retries() {
  local attempt
  for attempt in 1 2 3; do
    if "$@"; then return 0; fi
    if [ "$attempt" = 2 ]; then
      echo "Retrying with GOFLAGS=-mod=mod GOSUMDB=off" >&2
      export GOFLAGS=-mod=mod GOSUMDB=off
    fi
    echo "attempt $attempt failed; retrying" >&2
    sleep 3
  done
  return 1
}

if [ ! -x "$CACHE_DIR/bin/server" ]; then
  echo "Building Temporal server ${TEMPORAL_SERVER_VERSION} into $CACHE_DIR (once, ~3 min)..." >&2
  with_retries env GOBIN="$CACHE_DIR/bin" go install "go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}" >&2
fi
if [ ! -x "$CACHE_DIR/bin/temporal-sql-tool" ]; then
  echo "Building temporal-sql-tool ${TEMPORAL_SERVER_VERSION} into $CACHE_DIR (once)..." >&2
  with_retries env GOBIN="$CACHE_DIR/bin" go install "go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}" >&2
  # `go install .../cmd/tools/sql` names the binary after its directory.
  mv "$CACHE_DIR/bin/sql" "$CACHE_DIR/bin/temporal-sql-tool"
fi

if [ ! -d "$SCHEMA_DIR/postgresql/v12" ]; then
  MOD_DIR="$(go env GOMODCACHE)/go.temporal.io/server@${TEMPORAL_SERVER_VERSION}"
  if [ ! -d "$MOD_DIR/schema" ]; then
    with_retries go mod download "go.temporal.io/server@${TEMPORAL_SERVER_VERSION}" >&2
  fi
  mkdir -p "$SCHEMA_DIR"
  cp -R "$MOD_DIR/schema/postgresql" "$SCHEMA_DIR/"
  chmod -R u+w "$SCHEMA_DIR"
fi

print_paths
