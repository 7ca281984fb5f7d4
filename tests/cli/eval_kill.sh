#!/bin/bash
# lladav eval killed with SIGKILL mid-run (twice) and started again: exactly one prediction
# per id and the summary of an uninterrupted run; a benchmark of 20 questions over 4 images
# decodes and encodes 4 images (the run's log says so).
source "$(dirname "$0")/lib.bash"
M="$LV_SOURCE_DIR/tests/fixtures/models/tiny-f32"
I="$LV_SOURCE_DIR/tests/fixtures/images"
if [ ! -f "$M/tokenizer.json" ]; then
  echo "SKIP: no tiny model at $M (tests/fixtures is made by the reference helper)"
  exit 77
fi
B="$LV_WORK/bench"
imgs=(square_56.png wide_150x60.png tall_50x130.jpg large_400x300_palette.png)
mkdir -p "$B/images" && for f in "${imgs[@]}"; do cp "$I/$f" "$B/images/"; done
for k in $(seq 0 19); do
  case $((k % 3)) in
    0) printf '{"id": "y%d", "image": "images/%s", "question": "Is it red? (%d)", "type": "yesno", "answer": "yes"}\n' "$k" "${imgs[$((k % 4))]}" "$k" ;;
    1) printf '{"id": "m%d", "image": "images/%s", "question": "Which? (%d)", "choices": ["a", "b", "c"], "answer": "B"}\n' "$k" "${imgs[$((k % 4))]}" "$k" ;;
    2) printf '{"id": "o%d", "image": "images/%s", "question": "What? (%d)", "answer": "red"}\n' "$k" "${imgs[$((k % 4))]}" "$k" ;;
  esac
done > "$B/questions.jsonl"
RUN=("$LLADAV" eval --bench "$B" -m "$M" -t 1 --gen-length 32)

"${RUN[@]}" --out "$LV_WORK/ref" > /dev/null 2> "$LV_WORK/ref.log"
ok "uninterrupted run: 20 predictions" test "$(wc -l < "$LV_WORK/ref/predictions.jsonl")" = 20
ok "20 questions over 4 images: 4 encodings in the log" grep -q "images: 4 encoded, 16 reused" "$LV_WORK/ref.log"

mid_run() { [ "$1" != done ] && [ "$1" -lt 20 ]; }
n1=$(kill_after_lines "$LV_WORK/k/predictions.jsonl" 3 "${RUN[@]}" --out "$LV_WORK/k")
ok "first kill landed mid-run ($n1 predictions)" mid_run "$n1"
n2=$(kill_after_lines "$LV_WORK/k/predictions.jsonl" 9 "${RUN[@]}" --out "$LV_WORK/k")
ok "second kill landed mid-run ($n2 predictions)" mid_run "$n2"
expect 0 "done before" -- "${RUN[@]}" --out "$LV_WORK/k"
ok "after kill + resume: one prediction per id, the same summary" /usr/bin/python3 -c '
import json, sys
a, b = sys.argv[1], sys.argv[2]
ids = [json.loads(l)["id"] for l in open(a + "/predictions.jsonl")]
assert len(ids) == 20 == len(set(ids)), ids
pa = sorted((p["id"], p["output"]) for p in map(json.loads, open(a + "/predictions.jsonl")))
pb = sorted((p["id"], p["output"]) for p in map(json.loads, open(b + "/predictions.jsonl")))
assert pa == pb
sa, sb = json.load(open(a + "/summary.json")), json.load(open(b + "/summary.json"))
for k in ("counts", "overall", "categories", "types", "yesno", "predictions_hash"):
    assert sa[k] == sb[k], (k, sa[k], sb[k])
' "$LV_WORK/k" "$LV_WORK/ref"
finish
