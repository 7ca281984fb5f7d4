#!/bin/bash
# The MME official eval_tool fixture (LaVIN answers, BradyFU/Awesome-Multimodal-Large-Language-
# Models, `git show Evaluation:tools/eval_tool.zip`, folder eval_tool/LaVIN): the public MME
# leaderboard gives LaVIN-13B perception 963.61 and cognition 249.64 (benchmarks.md §6.2).
# Not committed (third-party data): set LV_MME_LAVIN_DIR to the unzipped LaVIN folder.
set -euo pipefail
: "${LLADAV:?}" "${LV_WORK:?}"
if [ -z "${LV_MME_LAVIN_DIR:-}" ] || [ ! -f "$LV_MME_LAVIN_DIR/posters.txt" ]; then
  echo "SKIP: LV_MME_LAVIN_DIR is not set to the eval_tool/LaVIN folder of the MME eval_tool.zip"
  exit 77
fi
rm -rf "$LV_WORK" && mkdir -p "$LV_WORK"
"$LLADAV" eval --rescore "$LV_WORK/lavin" --bench "$LV_MME_LAVIN_DIR" > "$LV_WORK/out"
cat "$LV_WORK/out"
grep -q "2374 samples, 2374 done" "$LV_WORK/out" || { echo "FAIL: sample count"; exit 1; }
grep -q "MME perception 963.61 cognition 249.64" "$LV_WORK/out" || { echo "FAIL: leaderboard numbers"; exit 1; }
/usr/bin/python3 - "$LV_WORK/lavin/summary.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["mme"]["subtasks"]
want = {"existence": 185.00, "count": 88.33, "position": 63.33, "color": 75.00, "posters": 79.59,
        "celebrity": 47.35, "scene": 136.75, "landmark": 93.50, "artwork": 87.25, "OCR": 107.50,
        "commonsense_reasoning": 87.14, "numerical_calculation": 65.00, "text_translation": 47.50,
        "code_reasoning": 50.00}
bad = [k for k, v in want.items() if round(t[k]["score"], 2) != v]
assert not bad, bad
assert abs(t["posters"]["acc"] - 59.1837) < 1e-4 and abs(t["posters"]["acc_plus"] - 20.4082) < 1e-4
print("per-subtask scores match the leaderboard")
PY
