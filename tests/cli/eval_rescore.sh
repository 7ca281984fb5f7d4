#!/bin/bash
# lladav eval --rescore / --merge on the committed tiny run folders of tests/eval/runs: summary
# numbers, report files, a truncated last prediction line, and a merge of two hand-split shard
# runs giving the same summary.json as the unsharded rescore.
set -euo pipefail
: "${LLADAV:?}" "${LV_SOURCE_DIR:?}" "${LV_WORK:?}"
E="$LV_SOURCE_DIR/tests/eval"
rm -rf "$LV_WORK" && mkdir -p "$LV_WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
num() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): d=d[k]
print(d)" "$1" "$2"; }

# MME: perception = existence (66.67 + 50) + artwork 200, cognition 50
cp -r "$E/runs/mme" "$LV_WORK/mme"
"$LLADAV" eval --rescore "$LV_WORK/mme" --bench "$E/mme" --official > "$LV_WORK/mme.out"
grep -q "MME perception 316.67 cognition 50.00" "$LV_WORK/mme.out" || fail "mme line: $(cat "$LV_WORK/mme.out")"
for f in summary.json report.md report.html official/mme_eval_tool/existence.txt official/answers_llava.jsonl; do
  [ -s "$LV_WORK/mme/$f" ] || fail "missing $f"
done
# the eval_tool export scores the same through the mme_txt reader
"$LLADAV" eval --rescore "$LV_WORK/mme_rt" --bench "$LV_WORK/mme/official/mme_eval_tool" > "$LV_WORK/rt.out"
grep -q "MME perception 316.67 cognition 50.00" "$LV_WORK/rt.out" || fail "round trip: $(cat "$LV_WORK/rt.out")"

# an alternative parser: under the lmms-eval rule "I think so" is still other, under POPE's it is yes
"$LLADAV" eval --rescore "$LV_WORK/mme" --bench "$E/mme" --yesno-rule pope > "$LV_WORK/pope_rule.out"
grep -q "0 unparsed" "$LV_WORK/pope_rule.out" || fail "pope rule: $(cat "$LV_WORK/pope_rule.out")"
if "$LLADAV" eval --rescore "$LV_WORK/mme" --bench "$E/mme" --yesno-rule maybe 2> "$LV_WORK/rule.err"; then fail "bad rule accepted"; fi
grep -q "is not mme, lmms, pope or vlmeval" "$LV_WORK/rule.err" || fail "rule message: $(cat "$LV_WORK/rule.err")"

# native run: run.json names the benchmark relative to the run folder; truncated last line
cp -r "$E/runs/native" "$LV_WORK/native"
"$LLADAV" eval --rescore "$LV_WORK/native" --bench "$E/native" > "$LV_WORK/native.out" 2> "$LV_WORK/native.err"
grep -q "16 samples, 8 done, 7 scored, 1 unparsed, score 65.15" "$LV_WORK/native.out" || fail "native: $(cat "$LV_WORK/native.out")"
grep -q "dropped a truncated last line" "$LV_WORK/native.err" || fail "no truncation note"
[ "$(num "$LV_WORK/native/summary.json" counts.read_errors)" = 8 ] || fail "read errors"
grep -q "<svg" "$LV_WORK/native/report.html" || fail "no chart"

# merge two shard runs (split by hand) == unsharded
for k in 1 2; do
  mkdir -p "$LV_WORK/s$k"
  /usr/bin/python3 - "$E/runs/native/run.json" "$LV_WORK/s$k/run.json" "$k/2" "$E/native" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["shard"] = sys.argv[3]; r["benchmark"]["path"] = sys.argv[4]
json.dump(r, open(sys.argv[2], "w"))
PY
done
head -4 "$E/runs/native/predictions.jsonl" > "$LV_WORK/s2/predictions.jsonl"
sed -n '5,8p' "$E/runs/native/predictions.jsonl" > "$LV_WORK/s1/predictions.jsonl"
"$LLADAV" eval --merge --out "$LV_WORK/merged" "$LV_WORK/s1" "$LV_WORK/s2" > /dev/null 2>&1 || fail "merge failed"
cmp "$LV_WORK/merged/summary.json" "$LV_WORK/native/summary.json" || fail "merged summary differs from the unsharded one"
[ "$(wc -l < "$LV_WORK/merged/predictions.jsonl")" = 8 ] || fail "merged predictions count"

# shards with different settings are refused
/usr/bin/python3 -c "import json; p='$LV_WORK/s2/run.json'; r=json.load(open(p)); r['seed']=1; json.dump(r, open(p,'w'))"
if "$LLADAV" eval --merge --out "$LV_WORK/bad" "$LV_WORK/s1" "$LV_WORK/s2" 2> "$LV_WORK/bad.err"; then fail "merge of different runs accepted"; fi
grep -q "not the same run settings" "$LV_WORK/bad.err" || fail "message: $(cat "$LV_WORK/bad.err")"
echo "eval rescore/merge OK"
