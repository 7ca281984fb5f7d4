#!/usr/bin/env bash
# dump_parity.sh - `lladav dump` with the exact args of every sidecar tests/fixtures/ref/*.json
# against the committed reference file, printing max|Δ| per fixture and tensor (the C suite
# test_llada checks the same files with the elementwise tolerances of tests/reference/README.md;
# this one reports the numbers). Bounds: prompt_ids, response_ids, committed_step identical;
# views max|Δ| <= 1e-6; vision, projected, image_embeds, logits0 max|Δ| <= 1e-4 · max|ref|.
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3
if ! "$PY" -c "import numpy" 2>/dev/null; then
  echo "skipped: $PY with numpy is needed to compare the dumps"; exit 77
fi
cd "$LV_SOURCE_DIR" || exit 1
ok "every fixture within bounds" "$PY" - "$LLADAV" "$LV_WORK" <<'PY'
import glob, json, os, subprocess, sys
import numpy as np
sys.path.insert(0, "tests/reference")
import st_io
lladav, work = sys.argv[1:3]
bad, n = 0, 0
for side in sorted(glob.glob("tests/fixtures/ref/*.json")):
    name = os.path.basename(side)[:-5]
    out = os.path.join(work, name + ".safetensors")
    cli = json.load(open(side))["cli"]
    args = [out if a == "OUT.safetensors" else a for a in cli[1:]]
    if subprocess.run([lladav] + args + ["--threads", "1"]).returncode != 0:
        print(f"FAIL {name}: lladav dump failed"); bad += 1; continue
    got, ref = st_io.load(out)[0], st_io.load(side[:-5] + ".safetensors")[0]
    line = [name]
    if sorted(got) != sorted(ref):
        line.append(f"FAIL tensors {sorted(got)} != {sorted(ref)}"); bad += 1
    for k in ("prompt_ids", "response_ids", "committed_step"):
        same = k in got and got[k].shape == ref[k].shape and np.array_equal(got[k], ref[k])
        bad += not same
        line.append(f"{k} {'identical' if same else 'FAIL differs'}")
    for k in ("views", "vision", "projected", "image_embeds", "logits0"):
        if k not in ref or k not in got: continue
        if got[k].shape != ref[k].shape:
            line.append(f"{k} FAIL shape {got[k].shape} != {ref[k].shape}"); bad += 1; continue
        g, r = got[k].astype(np.float64), ref[k].astype(np.float64)
        d, m = float(np.abs(g - r).max(initial=0)), float(np.abs(r).max(initial=0))
        lim = 1e-6 if k == "views" else 1e-4 * m
        ok = d <= lim
        bad += not ok
        line.append(f"{k} max|d| {d:.2e} = {d / m if m else 0:.1e} max|ref|{'' if ok else ' FAIL'}")
    n += 1
    print("  ".join(line))
print(f"{n} fixtures, {bad} failures")
sys.exit(1 if bad or n == 0 else 0)
PY
finish
