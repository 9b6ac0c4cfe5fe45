#!/usr/bin/env bash
# Benchmarks live here, never in timed tests. The /verify benchmark against
# nginx and a Node jose verifier arrives with the keys/verify work.
set -euo pipefail
echo "bench: no benchmark defined yet"
