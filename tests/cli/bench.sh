#!/usr/bin/env bash
# bench.sh - `lladav bench` on the tiny fixture: text, --json, --append, --accuracy, bad options.
# One run per stage at tiny sizes (no timing is checked, only the output's shape).
set -u
source "$(dirname "$0")/lib.bash"
w="$LV_WORK"
M="$LV_SOURCE_DIR/tests/fixtures/models/tiny-bf16-sharded"
b=(bench --model "$M" --lengths 16,32 --gen-length 4 --runs 1 --warmup 0 --threads 2)

expect 0 "llm forward T=32" -- "$LLADAV" "${b[@]}"
expect 0 "threads=2" -- "$LLADAV" "${b[@]}" --no-answer
expect 0 "answer 4 tokens" -- "$LLADAV" "${b[@]}"
"$LLADAV" "${b[@]}" --json > "$w/b.json" 2>/dev/null
ok "--json parses" /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['stages'] and d['peak_rss_gb'] > 0" "$w/b.json"
expect 0 "" -- "$LLADAV" "${b[@]}" --append "$w/BENCH.md"
ok "--append writes a markdown table" grep -q "^| llm forward T=16 |" "$w/BENCH.md"
if grep -qw avx512_bf16 /proc/cpuinfo; then   # the bf16 path needs AVX512-BF16
  expect 0 "bf16 vs f32" -- "$LLADAV" "${b[@]}" --peak-only --no-peak --accuracy
  expect 0 "precision=bf16" -- "$LLADAV" "${b[@]}" --no-answer --precision bf16
fi
expect 0 "lv_matmul f32" -- "$LLADAV" "${b[@]}" --peak-only
expect 1 "--lengths" -- "$LLADAV" bench --model "$M" --lengths 12x
expect 1 "--precision" -- "$LLADAV" bench --model "$M" --precision f8
expect 1 "--model DIR is required" -- "$LLADAV" bench
expect 1 "--runs" -- "$LLADAV" bench --model "$M" --runs 0
finish
