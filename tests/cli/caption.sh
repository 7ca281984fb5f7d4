#!/usr/bin/env bash
# caption.sh - `lladav ask` and `lladav caption` (pipeline/cmd_caption.c over lladav.h):
#   - ask with every image fixture's own args (tests/fixtures/ref/img_*.json) prints the
#     reference's response text (decode of response_ids without specials, trimmed);
#   - --json: the fields, counts consistent with the reference dump, stage times;
#   - caption: one line per image, "PATH: " when several; $LLADAV_MODEL; the bundled model;
#   - errors: missing image (exit 2), not an image (9), over the size limit (10), a text-only
#     model asked about an image (9), usage (1); each names the file.
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3
if ! "$PY" -c "import json" 2>/dev/null; then
  echo "skipped: $PY is needed to read the fixture sidecars"; exit 77
fi
cd "$LV_SOURCE_DIR" || exit 1
M=tests/fixtures/models
IMG=tests/fixtures/images/square_56.png

# Sidecar -> NUL-separated `ask` args (model, sampler flags, IMAGE, QUESTION) in $2, the
# expected stdout (trimmed response_text + newline) in $3.
ask_args() {
  "$PY" - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["cli"][2:]
i = a.index("--out"); del a[i:i + 2]
img = a[a.index("--image") + 1]; q = a[a.index("--prompt") + 1]
for k in ("--image", "--prompt"):
    i = a.index(k); del a[i:i + 2]
open(sys.argv[2], "wb").write(b"\0".join(s.encode() for s in a + [img, q]))
open(sys.argv[3], "wb").write(d["response_text"].strip(" \t\n\v\f\r").encode() + b"\n")
PY
}

n_cases=0
for side in tests/fixtures/ref/img_*.json; do
  name=$(basename "$side" .json)
  ask_args "$side" "$LV_WORK/$name.args" "$LV_WORK/$name.want"
  mapfile -d '' args < "$LV_WORK/$name.args"
  "$LLADAV" ask -q --threads 1 "${args[@]}" > "$LV_WORK/$name.got" 2> "$LV_WORK/$name.err"
  ok "ask $name exits 0" test $? -eq 0
  ok "ask $name = reference response_text" cmp -s "$LV_WORK/$name.got" "$LV_WORK/$name.want"
  n_cases=$((n_cases + 1))
done
ok "image fixtures found" test "$n_cases" -gt 0

# --json on img_wide_blocks (7 views, 2 blocks): fields and counts against the reference dump.
side=tests/fixtures/ref/img_wide_blocks.json
mapfile -d '' args < "$LV_WORK/img_wide_blocks.args"
"$LLADAV" ask -q --json --threads 1 "${args[@]}" > "$LV_WORK/wide.json"
ok "ask --json exits 0" test $? -eq 0
ok "ask --json fields" "$PY" - "$LV_WORK/wide.json" "$side" tests/fixtures/ref/img_wide_blocks.safetensors \
    "$LV_WORK/img_wide_blocks.got" <<'PY'
import json, struct, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o, ref = json.loads(lines[0]), json.load(open(sys.argv[2]))
with open(sys.argv[3], "rb") as f:
    hdr = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
tok, sec = o["tokens"], o["seconds"]
assert o["answer"] + "\n" == open(sys.argv[4], encoding="utf-8").read(), o["answer"]
assert o["image"].endswith("wide_150x60.png") and o["question"] and o["model"].endswith("tiny-f32")
assert (o["image_width"], o["image_height"], o["views"]) == (150, 60, hdr["views"]["shape"][0])
assert tok["image"] == hdr["image_embeds"]["shape"][0], tok
assert tok["prompt_text"] == hdr["prompt_ids"]["shape"][0] - 1, tok
assert tok["prompt_rows"] == tok["prompt_text"] + tok["image"], tok
assert tok["response"] == len(ref["response_ids"]) and tok["forward_passes"] == ref["n_passes"], tok
keys = ["decode", "preprocess", "vision", "projector", "merge", "prompt_embed", "sampling", "total"]
assert sorted(sec) == sorted(keys), sec
assert all(sec[k] >= 0 for k in keys) and sec["total"] >= sum(sec[k] for k in keys[:-1]) * 0.999, sec
PY

# caption: one line per image, prefixed by the path when several; the same answers alone.
W=tests/fixtures/images/wide_150x60.png
cap=(caption -q --threads 1 --model $M/tiny-f32 --gen-length 8 --steps 4)
"$LLADAV" "${cap[@]}" "$IMG" > "$LV_WORK/cap1"
"$LLADAV" "${cap[@]}" "$W" > "$LV_WORK/cap2"
"$LLADAV" "${cap[@]}" "$IMG" "$W" > "$LV_WORK/cap12"
ok "caption: 2 images, 2 lines" test "$(wc -l < "$LV_WORK/cap12")" -eq 2
{ printf '%s: ' "$IMG"; cat "$LV_WORK/cap1"; printf '%s: ' "$W"; cat "$LV_WORK/cap2"; } > "$LV_WORK/cap12.want"
ok "caption: 'PATH: caption' per image" cmp -s "$LV_WORK/cap12" "$LV_WORK/cap12.want"
"$LLADAV" "${cap[@]}" --prompt "Provide a one-sentence caption for the provided image." "$IMG" > "$LV_WORK/cap1p"
ok "caption: the default prompt is the lmms-eval caption prompt" cmp -s "$LV_WORK/cap1" "$LV_WORK/cap1p"
"$LLADAV" "${cap[@]}" --json "$IMG" "$W" > "$LV_WORK/cap12.json"
ok "caption --json: one object per image" test "$(grep -c '"answer"' "$LV_WORK/cap12.json")" -eq 2
LLADAV_MODEL=$M/tiny-f32 "$LLADAV" caption -q --threads 1 --gen-length 8 --steps 4 "$IMG" > "$LV_WORK/cap1e"
ok "caption: \$LLADAV_MODEL" cmp -s "$LV_WORK/cap1" "$LV_WORK/cap1e"
expect 0 "step 4/4" -- "$LLADAV" caption --threads 1 --model $M/tiny-f32 --gen-length 8 --steps 4 "$IMG"
BUNDLED=$(bundled_model_name)
if [ -f "samples/models/$BUNDLED/config.json" ]; then
  out=$(LLADAV_MODEL= "$LLADAV" caption -q --threads 1 --gen-length 16 samples/images/shapes_105x70.png)
  ok "caption: the bundled model answers" test -n "$out"
else
  expect 2 "bundled model '$BUNDLED'" -- env LLADAV_MODEL= "$LLADAV" caption -q "$IMG"
fi

# errors name the file and map to their exit codes
q=(-q --threads 1 --model $M/tiny-f32 --gen-length 4)
expect 2 "$LV_WORK/missing.png: cannot open" -- "$LLADAV" ask "${q[@]}" "$LV_WORK/missing.png" "What?"
expect 9 "$M/tiny-f32/config.json: unsupported image format" -- "$LLADAV" ask "${q[@]}" $M/tiny-f32/config.json "What?"
"$PY" - "$LV_WORK/big.png" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", 20000, 100, 8, 2, 0, 0, 0)   # 20000 px wide, RGB
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                              + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
PY
expect 10 "big.png: image 20000x100 exceeds the limit" -- "$LLADAV" caption "${q[@]}" "$LV_WORK/big.png"
expect 9 "has no vision tower" -- "$LLADAV" ask -q --model $M/tiny-olmo "$IMG" "What?"
expect 1 "expected IMAGE QUESTION" -- "$LLADAV" ask "${q[@]}" "$IMG"
expect 1 "expected at least one IMAGE" -- "$LLADAV" caption "${q[@]}"
expect 1 "--prompt" -- "$LLADAV" ask "${q[@]}" --prompt x "$IMG" "What?"
expect 0 "IMAGE QUESTION" -- "$LLADAV" ask --help
finish
