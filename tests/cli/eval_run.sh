#!/bin/bash
# lladav eval --bench: the model (tests/fixtures/models/tiny-f32, random weights) over the tiny
# native benchmark - predictions.jsonl lines with the §5 fields, run.json fingerprint gating a
# resume, --overwrite, a truncated last line cut and re-run, --limit / --sample, and --shard
# K/N runs merged into the same summary as the unsharded run (timing aside).
set -euo pipefail
: "${LLADAV:?}" "${LV_SOURCE_DIR:?}" "${LV_WORK:?}"
M="$LV_SOURCE_DIR/tests/fixtures/models/tiny-f32"
B="$LV_SOURCE_DIR/tests/eval/native"
if [ ! -f "$M/tokenizer.json" ]; then
  echo "SKIP: no tiny model at $M (tests/fixtures is made by the reference helper)"
  exit 77
fi
rm -rf "$LV_WORK" && mkdir -p "$LV_WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
py() { /usr/bin/python3 - "$@"; }
run() { "$LLADAV" eval --bench "$B" -m "$M" -t 1 --gen-length 4 "$@"; }

run --out "$LV_WORK/r" > "$LV_WORK/1.out" 2> "$LV_WORK/1.err"
[ "$(wc -l < "$LV_WORK/r/predictions.jsonl")" = 8 ] || fail "expected 8 predictions"
grep -q "8 to run, 0 done before" "$LV_WORK/1.err" || fail "plan line: $(cat "$LV_WORK/1.err")"
py "$LV_WORK/r/predictions.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
need = {"id", "type", "prompt", "output", "extracted", "gold", "score", "correct", "parsed", "gen", "n_prompt_tokens", "n_image_tokens", "time_ms"}
for l in lines:
    assert need <= set(l), (l["id"], need - set(l))
multi = [l for l in lines if l["id"] == "7"][0]
assert multi["output"] is None and "multi-image" in multi["error"], multi
assert all(l["gen"]["gen_length"] == 4 for l in lines)
print("prediction lines ok")
PY
for f in run.json summary.json report.md report.html; do [ -s "$LV_WORK/r/$f" ] || fail "missing $f"; done

# resume: nothing left to run; other settings are refused; --overwrite restarts
run --out "$LV_WORK/r" > /dev/null 2> "$LV_WORK/2.err"
grep -q "0 to run, 8 done before" "$LV_WORK/2.err" || fail "resume: $(cat "$LV_WORK/2.err")"
if "$LLADAV" eval --bench "$B" -m "$M" -t 1 --gen-length 8 --out "$LV_WORK/r" > /dev/null 2> "$LV_WORK/3.err"; then fail "changed settings accepted"; fi
grep -q "fingerprint .* differs" "$LV_WORK/3.err" || fail "gate message: $(cat "$LV_WORK/3.err")"
run --out "$LV_WORK/r" --overwrite -q > /dev/null
[ "$(wc -l < "$LV_WORK/r/predictions.jsonl")" = 8 ] || fail "overwrite"

# a write cut short: the partial last line goes and its sample runs again
head -7 "$LV_WORK/r/predictions.jsonl" > "$LV_WORK/p" && tail -1 "$LV_WORK/r/predictions.jsonl" | head -c 30 >> "$LV_WORK/p"
mv "$LV_WORK/p" "$LV_WORK/r/predictions.jsonl"
run --out "$LV_WORK/r" > /dev/null 2> "$LV_WORK/4.err"
grep -q "cut a truncated last line" "$LV_WORK/4.err" || fail "truncation note: $(cat "$LV_WORK/4.err")"
grep -q "1 to run, 7 done before" "$LV_WORK/4.err" || fail "re-run of the cut sample: $(cat "$LV_WORK/4.err")"
py "$LV_WORK/r/predictions.jsonl" <<'PY'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
assert len(ids) == 8 == len(set(ids)), ids
PY

# selection
run --out "$LV_WORK/lim" --limit 2 -q > /dev/null
[ "$(wc -l < "$LV_WORK/lim/predictions.jsonl")" = 2 ] || fail "--limit 2"
run --out "$LV_WORK/smp" --sample 3 --seed 1 -q > /dev/null
[ "$(wc -l < "$LV_WORK/smp/predictions.jsonl")" = 3 ] || fail "--sample 3"

# shards merged = unsharded
run --out "$LV_WORK/s1" --shard 1/2 -q > /dev/null
run --out "$LV_WORK/s2" --shard 2/2 -q > /dev/null
"$LLADAV" eval --merge --out "$LV_WORK/m" "$LV_WORK/s1" "$LV_WORK/s2" > /dev/null 2>&1 || fail "merge"
py "$LV_WORK/m/summary.json" "$LV_WORK/r/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("timing"); b.pop("timing")
assert a == b, "merged shards differ from the unsharded run"
print("shards merged = unsharded run")
PY
# batch VQA over a folder of images: one free-form answer per image, ids = relative paths
"$LLADAV" eval --bench "$B/images" --question "What color is this?" -m "$M" -t 1 --gen-length 4 --out "$LV_WORK/batch" -q > /dev/null
py "$LV_WORK/batch/predictions.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["id"] for l in lines] == ["blue.png", "red.png"], lines
assert all(l["type"] == "free" and l["output"] is not None and l["score"] is None for l in lines), lines
PY
echo "eval run OK"
