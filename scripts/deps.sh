#!/usr/bin/env bash
# Installs the Debian packages plugauth needs to build and test, if any are
# missing. Idempotent and quiet when everything is present. Uses sudo when
# not root. Packages come from the machine's configured Debian archive.
#
# usage: deps.sh build|test|fuzz
set -euo pipefail

build_pkgs=(g++ cmake make pkg-config file patch xz-utils ca-certificates
            libsqlitecpp-dev libsqlite3-dev libsodium-dev picojson-dev catch2 libssl-dev)
# nginx-light and caddy: the real reverse proxies the examples test runs in front
# of plugauth (tests/examples/gateway_test.sh). On a host where installing them
# starts their default services on port 80, the test is unaffected: it runs its
# own instances on free loopback ports with its own configs.
test_pkgs=(systemd curl python3 nginx-light caddy chromium)

# The third-party OAuth clients tests/oauth drives plugauth with.
# pyotp computes two-step sign-in codes the way an authenticator app does.
test_pkgs+=(python3-authlib python3-requests-oauthlib python3-jwt python3-pytest
            python3-requests python3-cryptography python3-pyotp)

# tests/mcp makes the CA and certificate of its local HTTPS server (client ID
# metadata documents) with the openssl CLI.
test_pkgs+=(openssl)

# tests/fuzz: libFuzzer ships with Debian's clang runtime (make fuzz).
fuzz_pkgs=(clang libclang-rt-14-dev)
test_pkgs+=("${fuzz_pkgs[@]}")

# Node.js runs the browser and MCP tests; the machine image normally has it.
command -v node >/dev/null 2>&1 || test_pkgs+=(nodejs npm)

case "${1:-build}" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  fuzz) want=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "usage: deps.sh build|test|fuzz" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
