#!/usr/bin/env bash
# run.sh - fuzz every libFuzzer target of a -DLV_FUZZ=ON build for a bounded time each, one
# after another, and fail on the first crash, leak, timeout or out-of-memory.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]       (default: every fuzz_* in BUILD_DIR)
#
# The committed seeds (tests/fuzz/corpus/<name>) are read, never written: new inputs go to
# $LV_FUZZ_WORK/<name> (default BUILD_DIR/fuzz-work), crash reproducers to
# $LV_FUZZ_WORK/<name>/crash-*. The last libFuzzer stats line of each target is printed.
set -uo pipefail
build="${1:?build dir}"; secs="${2:?seconds per target}"; shift 2
src="$(cd "$(dirname "$0")" && pwd)"
work="${LV_FUZZ_WORK:-$build/fuzz-work}"
export LV_SOURCE_DIR="${LV_SOURCE_DIR:-$(cd "$src/../.." && pwd)}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for exe in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$exe" ] && targets+=("$(basename "$exe" | sed 's/^fuzz_//')")
  done
fi
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in $build/tests/fuzz (configure with -DLV_FUZZ=ON)"; exit 1; }
failed=0
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz_$t"
  out="$work/$t"
  mkdir -p "$out"
  log="$work/$t.log"
  # LV_FUZZ_RUNS=N: exactly N executions from seed 1 instead of a time budget, so a CI run
  # replays the very inputs a developer's run of the same commit already passed.
  if [ -n "${LV_FUZZ_RUNS:-}" ]; then
    budget=(-runs="$LV_FUZZ_RUNS" -seed=1); echo "--- fuzz_$t: ${LV_FUZZ_RUNS} runs, seed 1"
  else
    budget=(-max_total_time="$secs"); echo "--- fuzz_$t: ${secs}s"
  fi
  "$exe" "${budget[@]}" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
         -print_final_stats=1 -artifact_prefix="$out/" "$out" "$src/corpus/$t" >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+' "$log" | tail -1
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | tr '\n' ' '; echo
  if [ $rc -ne 0 ]; then
    echo "FAIL: fuzz_$t exited $rc; reproducer(s): $(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | tr '\n' ' ')"
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -30
    failed=1
  fi
done
exit $failed
