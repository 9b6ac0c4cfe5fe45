#!/usr/bin/env bash
# One fuzz target's run: its regressions and seeds, then FUZZ_SECONDS (20)
# of fuzzing, or FUZZ_RUNS inputs when that is set (the long runs the
# README records). New corpus inputs and crash files go to the build
# directory; a crash, a leak, a timeout or an abort() fails the run.
#
# usage: run.sh BINARY TARGET SOURCE_DIR BUILD_DIR
set -euo pipefail
bin=$1 name=$2 src=$3 build=$4
corpus="$build/corpus/$name"
crashes="$build/crashes"
mkdir -p "$corpus" "$crashes"
dirs=("$corpus" "$src/corpus/$name")
[ -d "$src/regressions/$name" ] && dirs+=("$src/regressions/$name")
opts=(-timeout=10 -rss_limit_mb=2048 -max_len=70000 -print_final_stats=1 -artifact_prefix="$crashes/$name-")
[ -f "$src/$name.dict" ] && opts+=(-dict="$src/$name.dict")
# <target>.options: libFuzzer flags of its own (they come later, and win).
[ -f "$src/$name.options" ] && read -r -a own <"$src/$name.options" && opts+=("${own[@]}")
if [ -n "${FUZZ_RUNS:-}" ]; then
  opts+=(-runs="$FUZZ_RUNS")
else
  opts+=(-max_total_time="${FUZZ_SECONDS:-20}")
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$bin" "${opts[@]}" "${dirs[@]}"
