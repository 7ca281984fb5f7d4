#!/bin/bash
# PTB-like tokenizer vs Stanford CoreNLP on real captions: tylin/coco-caption's demo prints
# testlen 9893 for results/captions_val2014_fakecap_results.json (1,000 captions, benchmarks.md
# §6.4). The captions become a native caption benchmark scored against themselves, and the
# candidate token total in summary.json must be 9893.
# Not committed (third-party data): set LV_COCO_CAPTION_DIR to a tylin/coco-caption checkout.
set -euo pipefail
: "${LLADAV:?}" "${LV_WORK:?}"
F="${LV_COCO_CAPTION_DIR:-}/results/captions_val2014_fakecap_results.json"
if [ -z "${LV_COCO_CAPTION_DIR:-}" ] || [ ! -f "$F" ]; then
  echo "SKIP: LV_COCO_CAPTION_DIR is not set to a tylin/coco-caption checkout"
  exit 77
fi
rm -rf "$LV_WORK" && mkdir -p "$LV_WORK/bench" "$LV_WORK/run"
/usr/bin/python3 - "$F" "$LV_WORK" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
with open(sys.argv[2] + "/bench/questions.jsonl", "w") as q, open(sys.argv[2] + "/run/predictions.jsonl", "w") as p:
    for x in r:
        q.write(json.dumps({"id": x["image_id"], "type": "caption", "answers": [x["caption"]]}) + "\n")
        p.write(json.dumps({"id": x["image_id"], "output": x["caption"]}) + "\n")
PY
"$LLADAV" eval --rescore "$LV_WORK/run" --bench "$LV_WORK/bench"
/usr/bin/python3 - "$LV_WORK/run/summary.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["captions"]
assert c["images"] == 1000 and c["testlen"] == 9893, c
print("PTB-like tokenizer: 9893 candidate tokens, as CoreNLP in cocoEvalCapDemo")
PY
