#!/usr/bin/env bash
# bundled_model.sh - the bundled model (samples/models/<LV_BUNDLED_MODEL>) through `lladav eval`
# on the held-out benchmark samples/bench, checked against the PyTorch reference:
#   - `lladav eval` answers the first 240 questions (40 images; every question type; the anyres
#     grids 2x2, 1x2 and 2x1 occur there), nothing unparsed, no read or generation errors;
#   - with Debian's torch and the reference's node tokenizer: samples/train/eval.py (the fp32 reference: its own image path, prompt,
#     tokenizer and sampler) gives the same answer text on at least 99 % of them, so the model's
#     reported accuracy is the runtime's;
#   - the per-type accuracy of the run is printed (not asserted: the model's quality is issue
#     #7's business, measured in samples/models/<name>/eval.json).
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3
cd "$LV_SOURCE_DIR" || exit 1
NAME=$(bundled_model_name)
M=samples/models/$NAME
if [ ! -f "$M/config.json" ]; then
  echo "skipped: no bundled model at $M"; exit 77
fi
if ! "$PY" -c "import json" 2>/dev/null; then
  echo "skipped: $PY is needed to read the predictions"; exit 77
fi
N=240

"$LLADAV" eval --bench samples/bench -m "$M" -t 1 -q --limit $N --out "$LV_WORK/run" --overwrite \
  > "$LV_WORK/eval.out" 2>&1
ok "eval on the held-out benchmark exits 0" test $? -eq 0
ok "eval answered $N questions" test "$(wc -l < "$LV_WORK/run/predictions.jsonl")" -eq $N
ok "no unparsed answers, read or generation errors" "$PY" - "$LV_WORK/run/summary.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["counts"]
assert c["unparsed"] == 0 and c["read_errors"] == 0 and c["generation_errors"] == 0, c
PY
"$PY" - "$LV_WORK/run/predictions.jsonl" <<'PY'
import collections, json, sys
n, c = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    p = json.loads(line)
    n[p["type"]] += 1
    c[p["type"]] += bool(p["correct"])
print("held-out, first %d questions: " % sum(n.values()) +
      ", ".join("%s %d/%d" % (t, c[t], n[t]) for t in sorted(n)))
PY

# eval.py tokenizes with the HF tokenizers library through node (tests/reference/tok.js), as
# the reference suite does; node_modules is not committed (`npm ci` in tests/reference).
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "skipped: the reference comparison needs Debian's python3-torch under $PY"
elif ! command -v node >/dev/null || [ ! -d tests/reference/node_modules/@anush008/tokenizers ]; then
  echo "skipped: the reference comparison needs node and tests/reference/node_modules (npm ci there)"
else
  (cd samples/train && "$PY" eval.py --model "../../$M" --bench ../bench --limit $N \
     --predictions "$LV_WORK/ref.jsonl" > "$LV_WORK/ref.out" 2>&1)
  ok "reference eval.py exits 0" test $? -eq 0
  same=$("$PY" - "$LV_WORK/run/predictions.jsonl" "$LV_WORK/ref.jsonl" <<'PY'
import json, sys
c = {json.loads(l)["id"]: json.loads(l)["output"].strip() for l in open(sys.argv[1])}
r = {json.loads(l)["id"]: json.loads(l)["output"].strip() for l in open(sys.argv[2])}
print(sum(c.get(k) == r[k] for k in r), len(r))
PY
)
  echo "C runtime = reference on $(awk '{print $1 " of " $2}' <<<"$same") questions"
  ok "C runtime = reference on >= 99 % of $N ($same)" \
    awk -v n=$N '{exit !($2 == n && $1 >= 0.99 * $2)}' <<<"$same"
fi
finish
