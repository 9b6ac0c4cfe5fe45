#!/usr/bin/env bash
# Runs the MCP tests: the MCP TypeScript SDK's client auth and oauth4webapi
# against plugauth and the example MCP server (examples/mcp) behind the real
# Caddy (/usr/bin/caddy, from `scripts/deps.sh test`), plus the refusals an
# MCP deployment depends on. Uses Node's built-in test runner.
#
# usage: run.sh [path/to/plugauth]   (default: build/plugauth)
# Prints node's TAP report, then a last line "N passed, M failed"; exits non-zero
# when any test failed or the suite could not run.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="${1:-$root/build/plugauth}"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac

fail_early() {
  echo "run.sh: $1" >&2
  echo "0 passed, 1 failed"
  exit 1
}

[ -x "$binary" ] || fail_early "no plugauth binary at $binary"
for tool in node npm curl openssl "${CADDY:-/usr/bin/caddy}"; do
  command -v "$tool" >/dev/null || fail_early "$tool not found; run scripts/deps.sh test"
done

# No lock files are kept (they would record registry host names); each
# package.json pins exact versions.
install() {
  local dir=$1 probe=$2
  [ -d "$dir/node_modules/$probe" ] && return 0
  (cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2) ||
    fail_early "npm install in $dir failed"
}
install "$root/examples/mcp" @modelcontextprotocol/sdk
install "$here" oauth4webapi

cd "$here" || exit 2
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
# One file at a time: each starts its own daemons, and the machine is small.
PLUGAUTH_BINARY="$binary" \
  node --test --test-reporter=tap --test-concurrency=1 \
  example.test.mjs sdk_client.test.mjs oauth4webapi.test.mjs refusals.test.mjs 2>&1 | tee "$report"
status=${PIPESTATUS[0]}

passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$report" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$report" | tail -n 1)
if [ -z "$passed" ] || [ -z "$failed" ]; then
  echo "run.sh: node --test printed no summary (exit $status)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
