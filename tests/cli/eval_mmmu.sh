#!/bin/bash
# MMMU eval-only fixture (MMMU-Benchmark/MMMU, folder mmmu/: answer_dict_val.json +
# example_outputs/llava1.5_13b/total_val_output.json): the official main_eval_only.py gives
# 330/900 with Art & Design 63/120, Business 34/150, Science 44/150, Health & Medicine 58/150,
# Humanities & Social Science 66/120, Tech & Engineering 65/210 (benchmarks.md §6.7). The files
# are converted to the native format (MC answers are letters already; open answers go through
# the MMMU open parse + eval_open) and scored by lladav eval --rescore.
# Not committed (third-party data): set LV_MMMU_DIR to that mmmu/ folder.
set -euo pipefail
: "${LLADAV:?}" "${LV_WORK:?}"
if [ -z "${LV_MMMU_DIR:-}" ] || [ ! -f "$LV_MMMU_DIR/answer_dict_val.json" ]; then
  echo "SKIP: LV_MMMU_DIR is not set to the mmmu/ folder of MMMU-Benchmark/MMMU"
  exit 77
fi
rm -rf "$LV_WORK" && mkdir -p "$LV_WORK"
/usr/bin/python3 - "$LV_MMMU_DIR" "$LV_WORK" <<'PY'
import json, os, sys
src, out = sys.argv[1], sys.argv[2]
DOM = {'Art and Design': ['Art', 'Art_Theory', 'Design', 'Music'],
       'Business': ['Accounting', 'Economics', 'Finance', 'Manage', 'Marketing'],
       'Science': ['Biology', 'Chemistry', 'Geography', 'Math', 'Physics'],
       'Health and Medicine': ['Basic_Medical_Science', 'Clinical_Medicine', 'Diagnostics_and_Laboratory_Medicine', 'Pharmacy', 'Public_Health'],
       'Humanities and Social Science': ['History', 'Literature', 'Sociology', 'Psychology'],
       'Tech and Engineering': ['Agriculture', 'Architecture_and_Engineering', 'Computer_Science', 'Electronics', 'Energy_and_Power', 'Materials', 'Mechanical_Engineering']}
sub2dom = {s: d for d, ss in DOM.items() for s in ss}
ans = json.load(open(os.path.join(src, 'answer_dict_val.json')))
outs = json.load(open(os.path.join(src, 'example_outputs/llava1.5_13b/total_val_output.json')))
os.makedirs(os.path.join(out, 'bench'), exist_ok=True); os.makedirs(os.path.join(out, 'run'), exist_ok=True)
with open(os.path.join(out, 'bench/questions.jsonl'), 'w') as q, open(os.path.join(out, 'run/predictions.jsonl'), 'w') as p:
    for k, v in ans.items():
        subj = '_'.join(k.split('_')[1:-1])
        g = v['ground_truth']
        rec = {'id': k, 'question': k, 'category': sub2dom[subj], 'subcategory': subj}
        if v['question_type'] == 'multiple-choice':
            golds = g if isinstance(g, list) else [g]
            n = max(4, max(ord(x) - 64 for x in golds + [outs[k]] if len(x) == 1 and x.isupper()))
            rec.update(type='mc', choices=['option %c' % (65 + i) for i in range(n)], answer=golds[0])
        else:
            rec.update(type='open', metric='mmmu_open', answers=g if isinstance(g, list) else [g])
        q.write(json.dumps(rec) + '\n')
        p.write(json.dumps({'id': k, 'output': outs[k]}) + '\n')
json.dump({'name': 'mmmu-val-eval-only', 'mc_rule': 'mmmu', 'category_order': list(DOM)}, open(os.path.join(out, 'bench/benchmark.json'), 'w'))
PY
"$LLADAV" eval --rescore "$LV_WORK/run" --bench "$LV_WORK/bench" --official
/usr/bin/python3 - "$LV_WORK/run/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert (s["overall"]["correct"], s["overall"]["n"]) == (330, 900), s["overall"]
want = {"Art and Design": (63, 120), "Business": (34, 150), "Science": (44, 150), "Health and Medicine": (58, 150),
        "Humanities and Social Science": (66, 120), "Tech and Engineering": (65, 210)}
got = {k: (v["correct"], v["n"]) for k, v in s["categories"].items()}
assert got == want, got
print("MMMU eval-only: 330/900 and every discipline match main_eval_only.py")
PY
# the official export is main_eval_only.py's input again: same predictions, key for key
/usr/bin/python3 - "$LV_WORK/run/official/mmmu_eval_only.json" "$LV_MMMU_DIR/example_outputs/llava1.5_13b/total_val_output.json" <<'PY'
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert got == want, [k for k in want if got.get(k) != want[k]][:5]
print("official/mmmu_eval_only.json equals the fixture's total_val_output.json")
PY
