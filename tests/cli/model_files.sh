#!/usr/bin/env bash
# model_files.sh - `lladav synth` and `lladav info` on checkpoints in the real layout, and the
# one-line errors + distinct exit codes for broken model directories (issue 2).
set -u
source "$(dirname "$0")/lib.bash"
w="$LV_WORK"

expect 0 "Exit codes:" -- "$LLADAV" --help
expect 1 "unknown command" -- "$LLADAV" frobnicate
expect 1 "" -- "$LLADAV"
expect 1 "unknown preset" -- "$LLADAV" synth --preset nope --out "$w/x"
expect 1 "--dtype must be" -- "$LLADAV" synth --preset tiny --dtype f64 --out "$w/x"
expect 1 "exactly one of" -- "$LLADAV" synth --out "$w/x"
expect 1 "unknown option" -- "$LLADAV" info --modle "$w"

# Every preset's parameter count (only the small ones are written here; the 8B ones are
# checked through lv_config_param_count in test_config).
for dt in bf16 f16 f32; do
  expect 0 "" -- "$LLADAV" synth --preset tiny --dtype "$dt" --shards 3 --seed 7 --out "$w/tiny-$dt"
  expect 0 "total 190,624" -- "$LLADAV" info --model "$w/tiny-$dt"
done
expect 0 "3 file(s)" -- "$LLADAV" info --model "$w/tiny-bf16"
ok "index written for shards" test -f "$w/tiny-bf16/model.safetensors.index.json"
expect 1 "already holds a checkpoint" -- "$LLADAV" synth --preset tiny --out "$w/tiny-bf16"

# Same seed, same bytes; another seed, other bytes.
"$LLADAV" synth --preset tiny --dtype bf16 --shards 3 --seed 7 --out "$w/again" 2>/dev/null
ok "synth is deterministic" cmp -s "$w/tiny-bf16/model-00002-of-00003.safetensors" "$w/again/model-00002-of-00003.safetensors"
"$LLADAV" synth --preset tiny --dtype bf16 --shards 3 --seed 8 --out "$w/other" 2>/dev/null
ok "seed changes weights" not cmp -s "$w/tiny-bf16/model-00002-of-00003.safetensors" "$w/other/model-00002-of-00003.safetensors"

# Broken directories: each a one-line error naming the file, with its own exit code.
expect 2 "config.json" -- "$LLADAV" info --model "$w/missing"
cp -r "$w/tiny-f32" "$w/badjson" && printf '{"hidden_size": 64,' > "$w/badjson/config.json"
expect 3 "config.json" -- "$LLADAV" info --model "$w/badjson"
cp -r "$w/tiny-bf16" "$w/noshard" && rm "$w/noshard/model-00002-of-00003.safetensors"
expect 2 "model-00002-of-00003.safetensors" -- "$LLADAV" info --model "$w/noshard"
cp -r "$w/tiny-f32" "$w/wide" && sed -i 's/"intermediate_size":\s*128/"intermediate_size": 96/' "$w/wide/config.json"
expect 5 "mlp.gate_proj.weight" -- "$LLADAV" info --model "$w/wide"
cp -r "$w/tiny-f32" "$w/trunc" && truncate -s -100 "$w/trunc/model.safetensors"
expect 3 "model.safetensors" -- "$LLADAV" info --model "$w/trunc"
cp -r "$w/tiny-f32" "$w/heads" && sed -i 's/"num_attention_heads":\s*4/"num_attention_heads": 3/' "$w/heads/config.json"
expect 6 "num_attention_heads" -- "$LLADAV" info --model "$w/heads"
out="$("$LLADAV" info --model "$w/trunc" 2>&1)"
ok "errors are one line" test "$(wc -l <<<"$out")" -eq 1
ok "errors start with lladav: error:" grep -q '^lladav: error: ' <<<"$out"

finish
