#!/usr/bin/env bash
# tests/bench/compare.sh - lladav vs the PyTorch reference (tests/reference/lladav_ref.py) in one
# run: same random model, same image and prompt, same sampler settings, same number of threads
# (THREADS, default 1: torch.set_num_threads through LV_REF_THREADS, lladav --threads). Prints
# seconds per denoising step and per answer, and the ratios reference / lladav. Not a ctest test
# (minutes of CPU); run it by hand:
#
#   [THREADS=2] [PRECISION=bf16] [MODEL=DIR] tests/bench/compare.sh BUILD/lladav [WORKDIR] [GEN_LENGTH]
#
# PRECISION is lladav's --precision (the reference is float32 either way); MODEL an existing
# model directory (e.g. `lladav synth --preset llada-v-1b` + the tiny fixture tokenizer) instead
# of the mid-size one made in WORKDIR.
#
# Per step = (t(G steps) - t(1 step)) / (G - 1), so start-up, model load, tokenization and the
# image stages cancel out; per answer = t(G steps) as a whole (start-up included, both sides).
# The model is `lladav synth --config` of a mid-size LLaDA-V (1024 wide, 4 layers, 2-layer
# SigLIP, BF16) with the tiny fixture tokenizer, made in WORKDIR on the first run.
# llama.cpp's llama-diffusion-cli: see BENCH.md (procedure; not run here).
set -euo pipefail
LLADAV=${1:?usage: compare.sh LLADAV [WORKDIR] [GEN_LENGTH]}
WORK=${2:-/tmp/lladav-compare}
G=${3:-16}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
M=${MODEL:-$WORK/mid}
THREADS=${THREADS:-1}
PRECISION=${PRECISION:-f32}
IMG=$SRC/tests/fixtures/images/large_400x300_palette.png
PROMPT="What is in the image?"
mkdir -p "$WORK"
if [ ! -f "$M/config.json" ]; then
  if [ -n "${MODEL:-}" ]; then echo "compare.sh: $M/config.json: not found" >&2; exit 2; fi
  "$PY" - "$SRC/tests/fixtures/models/tiny-f32/config.json" "$WORK/mid.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(hidden_size=1024, intermediate_size=2816, num_hidden_layers=4, num_attention_heads=8,
         num_key_value_heads=8, image_aspect_ratio="anyres_max_4")
c["vision_config"].update(hidden_size=1152, intermediate_size=4304, num_hidden_layers=2,
                          num_attention_heads=16, image_size=384, patch_size=14)
c["mm_hidden_size"] = 1152
json.dump(c, open(sys.argv[2], "w"), indent=1)
PYEOF
  "$LLADAV" synth --config "$WORK/mid.json" --dtype bf16 --tokenizer "$SRC/tests/fixtures/models/tiny-f32/tokenizer.json" --out "$M" >/dev/null
fi
now() { date +%s.%N; }
run() {  # run WHAT STEPS -> seconds
  local t0 t1
  t0=$(now)
  if [ "$1" = ref ]; then
    LV_REF_THREADS=$THREADS "$PY" "$SRC/tests/reference/lladav_ref.py" dump --model "$M" --image "$IMG" --prompt "$PROMPT" \
      --steps "$2" --gen-length "$G" --block-length "$G" --out "$WORK/ref_$2.safetensors" >/dev/null
  else
    "$LLADAV" dump --threads "$THREADS" --precision "$PRECISION" --model "$M" --image "$IMG" --prompt "$PROMPT" \
      --steps "$2" --gen-length "$G" --block-length "$G" --out "$WORK/lv_$2.safetensors" >/dev/null
  fi
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: $M ($(grep -o '"hidden_size":[[:space:]]*[0-9]*' "$M/config.json" | head -1), $(grep -o '"num_hidden_layers":[[:space:]]*[0-9]*' "$M/config.json" | head -1)), image $(basename "$IMG"), gen_length $G, threads $THREADS, lladav --precision $PRECISION"
r1=$(run ref 1);  rG=$(run ref "$G")
l1=$(run lv 1);   lG=$(run lv "$G")
"$PY" - "$r1" "$rG" "$l1" "$lG" "$G" <<'PYEOF'
import sys
r1, rG, l1, lG, G = map(float, sys.argv[1:6])
rs, ls = (rG - r1) / (G - 1), (lG - l1) / (G - 1)
print(f"reference: 1 step {r1:.2f} s, {G:.0f} steps {rG:.2f} s -> {rs:.3f} s/step")
print(f"lladav:    1 step {l1:.2f} s, {G:.0f} steps {lG:.2f} s -> {ls:.3f} s/step")
print(f"ratio reference/lladav: per step {rs / ls:.2f}x, per answer {rG / lG:.2f}x")
PYEOF
# same answer? (ids and commit order of the G-step runs)
"$PY" - "$WORK/ref_$G.safetensors" "$WORK/lv_$G.safetensors" "$SRC/tests/reference" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[3])
import numpy as np
import st_io
a, b = st_io.load(sys.argv[1])[0], st_io.load(sys.argv[2])[0]
for k in ("response_ids", "committed_step"):
    same = np.array_equal(np.asarray(a[k]), np.asarray(b[k]))
    print(f"{k}: {'identical' if same else 'DIFFERENT'}")
PYEOF
