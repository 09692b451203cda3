#!/usr/bin/env bash
# Finds or builds the pinned Temporal CLI and prints its path on the last line.
# Order: $TEMPORAL_CLI, then `temporal` on PATH, then the tool cache outside the repo
# (built once with `go install`; later runs reuse it).
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"

TEMPORAL_CLI_VERSION="v1.5.1"
CACHE_DIR="${MANDI_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mandi}/temporal-${TEMPORAL_CLI_VERSION}"
CACHED_BIN="$CACHE_DIR/bin/temporal"

if [ -n "${TEMPORAL_CLI:-}" ] && [ -x "$TEMPORAL_CLI" ]; then echo "$TEMPORAL_CLI"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$CACHED_BIN" ]; then echo "$CACHED_BIN"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "Temporal CLI not found and Go is not installed; set TEMPORAL_CLI or install Go." >&2
  exit 1
fi

echo "Building Temporal CLI ${TEMPORAL_CLI_VERSION} into $CACHE_DIR (once)..." >&2
mkdir -p "$CACHE_DIR/bin"
build() { GOBIN="$CACHE_DIR/bin" go install "github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}" >&2; }
if ! build; then
  echo "Retrying with GOFLAGS=-mod=mod GOSUMDB=off" >&2
  GOFLAGS=-mod=mod GOSUMDB=off build
fi
echo "$CACHED_BIN"
