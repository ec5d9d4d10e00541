#!/usr/bin/env bash
# Runs schemathesis (property-based requests generated from the OpenAPI document) against a
# running Worktrace server: scripts/schemathesis.sh http://127.0.0.1:PORT [schemathesis options].
#
# schemathesis is installed, pinned, into a Python venv under target/tools (or
# $CARGO_TARGET_DIR/tools) on first use, from PyPI. Every answer is checked: no 5xx, only the
# statuses and content types the document lists, bodies that fit the document's schemas.
# The run is bounded (examples per operation and a time budget; override with
# WT_SCHEMATHESIS_MAX_EXAMPLES and WT_SCHEMATHESIS_MAX_TIME). Exits non-zero on any failure.
# Called by crates/server/tests/schema_fuzz.rs, which starts the server and seeds its data.
set -euo pipefail

VERSION=4.32.5
if [ $# -lt 1 ]; then
  echo "usage: $0 BASE_URL [schemathesis run options]" >&2
  exit 2
fi
base=${1%/}
shift

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${CARGO_TARGET_DIR:-$root/target}/tools
venv=$tools/schemathesis-$VERSION
st=$venv/bin/schemathesis

if ! "$st" --version 2>/dev/null | grep -q "$VERSION"; then
  command -v python3 >/dev/null 2>&1 || {
    echo "schemathesis: python3 is missing; run scripts/deps.sh (installs python3 and python3-venv)" >&2
    exit 1
  }
  echo "schemathesis: installing $VERSION into $venv" >&2
  mkdir -p "$tools"
  rm -rf "$venv"
  python3 -m venv "$venv" || {
    echo "schemathesis: python3 -m venv failed; install python3-venv (scripts/deps.sh)" >&2
    exit 1
  }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

# No colours in test logs.
export NO_COLOR=1
exec "$st" run "$base/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${WT_SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --max-time "${WT_SCHEMATHESIS_MAX_TIME:-90}" \
  --request-timeout 20 \
  --suppress-health-check all \
  "$@"
