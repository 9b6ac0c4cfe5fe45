#!/usr/bin/env bash
# Runs the real-browser tests of plugauth's pages: Debian's Chromium
# (/usr/bin/chromium, from `scripts/deps.sh test`) driven by npm playwright-core.
# Screenshots land in tests/artifacts/.
#
# usage: run.sh [path/to/plugauth]   (default: build/plugauth)
# Prints node's TAP report, then a last line "N passed, M failed"; exits non-zero
# when any test failed or the suite could not run.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="${1:-$root/build/plugauth}"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac

if [ ! -x "$binary" ]; then
  echo "run.sh: no plugauth binary at $binary" >&2
  exit 2
fi
if [ ! -x "${PLUGAUTH_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "run.sh: no Chromium at ${PLUGAUTH_CHROMIUM:-/usr/bin/chromium}; run scripts/deps.sh test" >&2
  exit 2
fi

cd "$here" || exit 2
# playwright-core only: it drives the system Chromium and never downloads a browser.
# No lock file is kept (it would record registry host names); package.json pins
# the exact version.
if [ ! -d node_modules/playwright-core ]; then
  npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2 || {
    echo "run.sh: npm install failed" >&2
    exit 2
  }
fi

mkdir -p "$root/tests/artifacts"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
PLUGAUTH_BINARY="$binary" PLUGAUTH_ARTIFACTS="$root/tests/artifacts" \
  node --test --test-reporter=tap --test-concurrency=1 pages.test.mjs 2>&1 | tee "$report"
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
