#!/usr/bin/env bash
# bad_inputs.sh - the bad-input catalogue (issue 10): every case is a broken file or argument
# fed to the real CLI, asserting its exit code (status list of `lladav --help`) and a fragment
# of its one-line message, and that a failed `dump` leaves no output file. The broken files are
# built here from the tiny fixtures with printf/dd/gzip (no binaries committed, no Python).
# Limits it checks are documented in tests/fuzz/README.md ("Limits").
set -u
source "$(dirname "$0")/lib.bash"
w="$LV_WORK"
fx="$LV_SOURCE_DIR/tests/fixtures"
M="$fx/models/tiny-f32"
T="$M/tokenizer.json"
gen() { "$LLADAV" generate -m "$1" -q --gen-length 4 "${@:2}"; }
[ -f "$M/model.safetensors" ] || { echo "skip: fixture model $M missing"; exit 77; }

# ---- byte builders ------------------------------------------------------------------------
# hexbytes HEX...: raw bytes from hex pairs
hexbytes() { local h; for h in "$@"; do printf "\\x$h"; done; }
byte() { printf "%b" "$(printf '\\%03o' "$1")"; }
be32() { byte $(($1 >> 24 & 255)); byte $(($1 >> 16 & 255)); byte $(($1 >> 8 & 255)); byte $(($1 & 255)); }
le64() { local i; for i in 0 1 2 3 4 5 6 7; do byte $(($1 >> (8 * i) & 255)); done; }
# crc32 of stdin, big-endian bytes (gzip's trailer holds it little-endian)
crc32be() { gzip -c | tail -c8 | head -c4 | od -An -tx1 | awk '{printf "\\x%s\\x%s\\x%s\\x%s", $4, $3, $2, $1}'; }
# png_chunk TYPE DATAFILE: length, type, data, CRC
png_chunk() { be32 "$(stat -c %s "$2")"; printf '%s' "$1"; cat "$2"; printf "$( (printf '%s' "$1"; cat "$2") | crc32be)"; }
# png_header W H DEPTH COLOR: signature + IHDR with a valid CRC (the decoder checks dims first)
png_header() {
  local t; t="$(mktemp "$w/ihdr.XXXX")"
  { be32 "$1"; be32 "$2"; byte "$3"; byte "$4"; byte 0; byte 0; byte 0; } > "$t"
  hexbytes 89 50 4e 47 0d 0a 1a 0a; png_chunk IHDR "$t"
  hexbytes 78 9c 03 00 00 00 00 01 > "$t"; png_chunk IDAT "$t"   # zlib of nothing
  : > "$t"; png_chunk IEND "$t"; rm -f "$t"
}
# st FILE HEADER_JSON DATA_BYTES: a safetensors file with that header and zeroed data
st() { { le64 "${#2}"; printf '%s' "$2"; head -c "$3" /dev/zero; } > "$1"; }
# model NAME: a fresh copy of the tiny f32 fixture
model() { rm -rf "$w/$1"; cp -r "$M" "$w/$1"; echo "$w/$1"; }

# ---- images: decode errors (8), unsupported formats (9), limits (10), missing (2) ----------
img="$fx/images/square_56.png"
jpg="$fx/images/tall_50x130.jpg"
expect 0 "" -- gen "$M" -p hi -i "$img"
expect 2 "nope.png" -- gen "$M" -p hi -i "$w/nope.png"
expect 2 "not a regular file" -- gen "$M" -p hi -i "$w"
: > "$w/empty.png"
expect 9 "empty file" -- gen "$M" -p hi -i "$w/empty.png"
echo "not an image" > "$w/text.png"
expect 9 "only PNG and JPEG" -- gen "$M" -p hi -i "$w/text.png"
printf 'GIF89a\x01\x00\x01\x00' > "$w/x.gif"
expect 9 "GIF" -- gen "$M" -p hi -i "$w/x.gif"
printf 'BM\x1e\x00\x00\x00\x00\x00\x00\x00\x1a\x00\x00\x00' > "$w/x.bmp"
expect 9 "only PNG and JPEG" -- gen "$M" -p hi -i "$w/x.bmp"
head -c 8 "$img" > "$w/sig_only.png"
expect 8 "corrupt PNG" -- gen "$M" -p hi -i "$w/sig_only.png"
head -c 200 "$img" > "$w/trunc.png"
expect 8 "corrupt PNG" -- gen "$M" -p hi -i "$w/trunc.png"
{ head -c 29 "$img"; printf '\xde\xad\xbe\xef'; tail -c +34 "$img"; } > "$w/badcrc.png"
expect 8 "CRC" -- gen "$M" -p hi -i "$w/badcrc.png"
png_header 0 5 8 2 > "$w/zero_w.png"
expect 8 "IHDR" -- gen "$M" -p hi -i "$w/zero_w.png"
png_header 7 0 8 2 > "$w/zero_h.png"
expect 8 "IHDR" -- gen "$M" -p hi -i "$w/zero_h.png"
png_header 8 8 7 2 > "$w/bad_depth.png"
expect 8 "corrupt PNG" -- gen "$M" -p hi -i "$w/bad_depth.png"
png_header 8 8 8 2 > "$w/empty_idat.png"
expect 8 "corrupt PNG" -- gen "$M" -p hi -i "$w/empty_idat.png"
# decompression bombs and giant declared sizes: refused from the header, before any allocation
png_header 100000 100000 8 2 > "$w/bomb.png"
expect 10 "100000x100000 exceeds the limit" -- gen "$M" -p hi -i "$w/bomb.png"
png_header 16385 1 8 2 > "$w/wide.png"
expect 10 "16385x1 exceeds the limit" -- gen "$M" -p hi -i "$w/wide.png"
png_header 16384 16384 8 0 > "$w/pixels.png"
expect 10 "exceeds the limit" -- gen "$M" -p hi -i "$w/pixels.png"
png_header 2147483647 2147483647 8 6 > "$w/max.png"
expect 10 "2147483647x2147483647 exceeds the limit" -- gen "$M" -p hi -i "$w/max.png"
png_header 16384 4096 8 2 > "$w/at_limit.png"
expect 8 "corrupt PNG" -- gen "$M" -p hi -i "$w/at_limit.png"
truncate -s $((512 * 1024 * 1024 + 1)) "$w/sparse.png"   # sparse: no disk used
expect 10 "exceeds the limit of 536870912 bytes" -- gen "$M" -p hi -i "$w/sparse.png"
rm -f "$w/sparse.png"
# pad mode pastes the image on a square canvas of its longer side: a valid 9000x1 PNG (zlib
# stored block of zero rows, adler32 = n << 16 | 1) would need 81 M pixels there
png_header 9000 1 8 2 | head -c 33 > "$w/line.png"   # signature + IHDR
n=$((1 + 9000 * 3))
{ hexbytes 78 01 01; byte $((n & 255)); byte $((n >> 8)); byte $((~n & 255)); byte $((~n >> 8 & 255))
  head -c "$n" /dev/zero; be32 $(((n % 65521) << 16 | 1)); } > "$w/line.idat"
{ cat "$w/line.png"; png_chunk IDAT "$w/line.idat"; : > "$w/line.idat"; png_chunk IEND "$w/line.idat"; } > "$w/line9000.png"
expect 0 "" -- gen "$M" -p hi -i "$w/line9000.png"
expect 10 "square canvas of a 9000x1 image exceeds" -- gen "$fx/models/tiny-f16-pad" -p hi -i "$w/line9000.png"
expect 0 "" -- gen "$M" -p hi -i "$jpg"
head -c 400 "$jpg" > "$w/trunc.jpg"
expect 8 "corrupt JPEG" -- gen "$M" -p hi -i "$w/trunc.jpg"
printf '\xff\xd8\xff' > "$w/soi.jpg"
expect 8 "corrupt JPEG" -- gen "$M" -p hi -i "$w/soi.jpg"
# SOF0 height/width patched: 60000 x 60000 (limit) and 0 x 0 (corrupt)
sof=$(LC_ALL=C grep -obUaP '\xff[\xc0-\xc2]' "$jpg" | head -1 | cut -d: -f1)
cp "$jpg" "$w/huge.jpg" && printf '\xea\x60\xea\x60' | dd of="$w/huge.jpg" bs=1 seek=$((sof + 5)) conv=notrunc status=none
expect 10 "60000x60000 exceeds the limit" -- gen "$M" -p hi -i "$w/huge.jpg"
cp "$jpg" "$w/zero.jpg" && printf '\x00\x00\x00\x00' | dd of="$w/zero.jpg" bs=1 seek=$((sof + 5)) conv=notrunc status=none
expect 8 "corrupt JPEG" -- gen "$M" -p hi -i "$w/zero.jpg"
# a failed image leaves no dump behind
expect 8 "corrupt PNG" -- "$LLADAV" dump -m "$M" -p hi --gen-length 4 -i "$w/trunc.png" -o "$w/img.safetensors"
ok "no dump after an image error" not test -e "$w/img.safetensors"
ok "no dump temp file after an image error" not test -e "$w/img.safetensors.tmp"

# ---- prompts and placeholders ---------------------------------------------------------------
expect 0 "" -- gen "$M" -p ""
expect 11 "not valid UTF-8" -- gen "$M" -p $'ab\xff'
expect 11 "not valid UTF-8" -- gen "$M" -p $'caf\xc3'
expect 11 "not valid UTF-8" -- gen "$M" -p $'\xed\xa0\x80'
expect 11 "placeholders but 0 image" -- gen "$M" -p "<image> what is it?"
expect 11 "placeholders but 1 image" -- gen "$M" -p "<image> <image>" -i "$img"
expect 1 "--prompt TEXT are required" -- "$LLADAV" generate -m "$M"

# ---- ask / caption (the embedding API's commands) ------------------------------------------
ask() { "$LLADAV" ask -m "$M" -q --gen-length 4 "$@"; }
expect 0 "" -- ask "$img" ""
expect 11 "not valid UTF-8" -- ask "$img" $'why \xff'
expect 11 "placeholders but 1 image" -- ask "$img" "<image> <image>"
expect 10 "exceeds the limit" -- ask "$w/bomb.png" "what is it?"
expect 8 "corrupt PNG" -- ask "$w/trunc.png" "what is it?"
expect 2 "not a regular file" -- ask "$w" "what is it?"
expect 1 "expected IMAGE QUESTION" -- ask "$img"
expect 1 "expected at least one IMAGE" -- "$LLADAV" caption -m "$M" -q
expect 8 "trunc.png: corrupt PNG" -- "$LLADAV" caption -m "$M" -q --gen-length 4 "$img" "$w/trunc.png"
expect 1 "block_length: must divide" -- "$LLADAV" caption -m "$M" -q --gen-length 8 --block-length 3 "$img"
expect 1 "--threads: expected an integer >= 0" -- "$LLADAV" caption -m "$M" -q -t -3 "$img"
expect 2 "config.json" -- env LLADAV_MODEL="$w/nonexistent" "$LLADAV" caption -q "$img"

# ---- sampler parameters (1) and the sequence limit (10) ---------------------------------
expect 1 "block_length: must divide gen_length" -- gen "$M" -p hi --gen-length 8 --block-length 3
expect 1 "steps: at most gen_length" -- gen "$M" -p hi --gen-length 8 --steps 16
expect 1 "positive multiple of the 2 blocks" -- gen "$M" -p hi --gen-length 8 --block-length 4 --steps 3
expect 1 "gen_length: must be >= 1" -- gen "$M" -p hi --gen-length 0
expect 1 "gen_length: must be >= 1" -- gen "$M" -p hi --gen-length -8
expect 1 "expected an integer" -- gen "$M" -p hi --gen-length abc
expect 1 "expected an integer" -- gen "$M" -p hi --gen-length 99999999999
expect 10 "exceed the limit of 32768" -- gen "$M" -p hi --gen-length 2147483647 --steps 1
expect 10 "exceeds the limit of 32768" -- gen "$M" -p hi --gen-length 32768 --steps 1
expect 1 "temperature: must be finite" -- gen "$M" -p hi --temperature -1
expect 1 "temperature: must be finite" -- gen "$M" -p hi --temperature inf
expect 1 "expected a number" -- gen "$M" -p hi --temperature nan
expect 1 "cfg: must be finite" -- gen "$M" -p hi --cfg -0.5
expect 1 "unknown strategy" -- gen "$M" -p hi --remasking sideways
expect 1 "expected llada_v or llada_text" -- gen "$M" -p hi --sampler gpt
expect 1 "non-negative integer" -- gen "$M" -p hi --seed -1
expect 1 "unknown option" -- gen "$M" -p hi --gen-lenght 8
expect 1 "steps: at most gen_length" -- "$LLADAV" dump -m "$M" -p hi --gen-length 8 --steps 16 -o "$w/steps.safetensors"
ok "no dump after a parameter error" not test -e "$w/steps.safetensors"

# ---- dump output paths --------------------------------------------------------------------
echo "previous" > "$w/keep.safetensors"
expect 1 "" -- "$LLADAV" dump -m "$M" -p hi --gen-length 8 --steps 16 -o "$w/keep.safetensors"
ok "a failed dump keeps the previous file" grep -q previous "$w/keep.safetensors"
expect 2 "cannot create" -- "$LLADAV" dump -m "$M" -p hi --gen-length 4 -o "$w/no/such/dir/x.safetensors"
mkdir -p "$w/outdir"
expect 2 "cannot rename" -- "$LLADAV" dump -m "$M" -p hi --gen-length 4 -o "$w/outdir"
ok "no temp file after a failed rename" not test -e "$w/outdir.tmp"
expect 0 "" -- "$LLADAV" dump -m "$M" -p hi --gen-length 4 -o "$w/good.safetensors"
ok "a good dump is a readable safetensors file" test -s "$w/good.safetensors"

# ---- safetensors: lying headers (3), dtypes (4), shapes (5), shards (2) ------------------
d=$(model st_len)
{ le64 $((1 << 40)); printf '{}'; } > "$d/model.safetensors"
expect 3 "model.safetensors" -- "$LLADAV" info -m "$d"
d=$(model st_maxhdr)
{ le64 $((100 * 1024 * 1024 + 1)); printf '{}'; } > "$d/model.safetensors"
expect 3 "runs past the end of the file" -- "$LLADAV" info -m "$d"
truncate -s $((8 + 100 * 1024 * 1024 + 1)) "$d/model.safetensors"   # sparse: the header is there
expect 10 "exceeds the 104857600-byte limit" -- "$LLADAV" info -m "$d"
d=$(model st_short)
printf '\x10\x00\x00' > "$d/model.safetensors"
expect 3 "model.safetensors" -- "$LLADAV" info -m "$d"
d=$(model st_empty)
: > "$d/model.safetensors"
expect 3 "model.safetensors" -- "$LLADAV" info -m "$d"
st_case() {   # st_case CODE FRAGMENT HEADER DATA_BYTES: one-file checkpoint with that header
  local d; d=$(model "st_case$((++st_n))")
  st "$d/model.safetensors" "$3" "$4"
  expect "$1" "$2" -- "$LLADAV" info -m "$d"
}
st_n=0
F1='"dtype": "F32", "shape": [1]'
st_case 3 "model.safetensors" '{"a": {'"$F1"', "data_offsets": [0, 4]' 4
st_case 3 "'a'" '{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}' 8
st_case 3 "overlap" '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}' 12
st_case 3 "'a'" '{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}' 8
st_case 3 "'a'" '{"a": {"dtype": "F32", "shape": [-2, -2], "data_offsets": [0, 16]}}' 16
st_case 3 "'a'" '{"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 0]}}' 0
st_case 3 "'a'" '{"a": {"dtype": "F32", "shape": [1, 1, 1, 1, 1, 1, 1, 1, 1], "data_offsets": [0, 4]}}' 4
st_case 3 "duplicate" '{"a": {'"$F1"', "data_offsets": [0, 4]}, "a": {'"$F1"', "data_offsets": [4, 8]}}' 8
st_case 3 "'a'" '{"a": {'"$F1"', "data_offsets": [8, 4]}}' 8
st_case 3 "'a'" '{"a": {'"$F1"', "data_offsets": [0]}}' 4
st_case 3 "model.safetensors" '{"__metadata__": {"format": 5}}' 0
st_case 4 "F64" '{"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}' 8
st_case 5 "" '{"a": {'"$F1"', "data_offsets": [0, 4]}}' 4
d=$(model st_vocab)
sed -i 's/"vocab_size": 416/"vocab_size": 500/' "$d/config.json"
expect 5 "embed_tokens" -- "$LLADAV" info -m "$d"
d=$(model st_none)
rm "$d/model.safetensors"
expect 2 "neither model.safetensors nor" -- "$LLADAV" info -m "$d"
# sharded: missing shard, index escaping its folder, empty map, tensor promised but absent
S="$fx/models/tiny-bf16-sharded"
shard_case() {   # shard_case CODE FRAGMENT CMD...: CMD breaks a fresh copy in $w/sh
  local code="$1" frag="$2"; shift 2
  rm -rf "$w/sh" && cp -r "$S" "$w/sh" && "$@"
  expect "$code" "$frag" -- "$LLADAV" info -m "$w/sh"
}
I="$w/sh/model.safetensors.index.json"
shard_case 2 "model-00003-of-00003.safetensors" rm "$w/sh/model-00003-of-00003.safetensors"
shard_case 3 "not a plain file name" sed -i 's#"model-00001-of-00003.safetensors"#"../model-00001-of-00003.safetensors"#' "$I"
shard_case 3 "not a plain file name" sed -i 's#"model-00001-of-00003.safetensors"#"/etc/passwd"#' "$I"
shard_case 3 "weight_map is empty" cp /dev/stdin "$I" <<<'{"weight_map": {}}'
shard_case 3 "weight_map is not an object" cp /dev/stdin "$I" <<<'{"weight_map": [1, 2]}'
shard_case 3 "not valid JSON" cp /dev/stdin "$I" <<<'{"weight_map": {'
shard_case 3 "promised by the index is missing" sed -i 's#"model.norm.weight": *"\([^"]*\)"#"model.norm.weight": "\1", "ghost.weight": "\1"#' "$I"
shard_case 3 "is not listed in the index" sed -i 's#"model.norm.weight": *"[^"]*",\?##' "$I"
shard_case 3 "index maps it to" sed -i 's#"model.norm.weight": *"[^"]*"#"model.norm.weight": "model-00001-of-00003.safetensors"#' "$I"
# NaN weights are not scanned at load (that would read every byte of a 16 GB mmap): the run
# completes deterministically with meaningless ids, documented in tests/fuzz/README.md
d=$(model nan)
hlen=$(od -An -tu8 -N8 "$d/model.safetensors")
norm=$(head -c $((8 + hlen)) "$d/model.safetensors" | tail -c +9 | grep -oP '"model.norm.weight":\{"data_offsets":\[\K[0-9]+')
off=$((8 + hlen + norm))
head -c 256 /dev/zero | tr '\0' '\377' | dd of="$d/model.safetensors" bs=1 seek="$off" conv=notrunc status=none
expect 0 "" -- "$LLADAV" info -m "$d"
nan_gen() { gen "$@" > "$w/nan.out"; }
expect 0 "" -- nan_gen "$d" -p hi
ok "NaN weights still give a full-length answer" test -s "$w/nan.out"

# ---- config.json (2, 3, 6) ----------------------------------------------------------------
d=$(model cfg_missing); rm "$d/config.json"
expect 2 "config.json" -- "$LLADAV" info -m "$d"
d=$(model cfg_array); echo '[1, 2]' > "$d/config.json"
expect 3 "config.json" -- "$LLADAV" info -m "$d"
d=$(model cfg_neg); sed -i 's/"hidden_size": 64/"hidden_size": -64/' "$d/config.json"
expect 6 "hidden_size" -- "$LLADAV" info -m "$d"
d=$(model cfg_kv); sed -i 's/"num_key_value_heads": 4/"num_key_value_heads": 2/' "$d/config.json"
expect 6 "num_key_value_heads" -- "$LLADAV" info -m "$d"
d=$(model cfg_proj); sed -i 's/"mlp2x_gelu"/"mlp9x_relu"/' "$d/config.json"
expect 6 "mm_projector_type" -- "$LLADAV" info -m "$d"
d=$(model cfg_layers); sed -i 's/"num_hidden_layers": 2,/"num_hidden_layers": 2147483647,/' "$d/config.json"
expect 6 "num_hidden_layers" -- "$LLADAV" info -m "$d"
d=$(model cfg_1025); sed -i 's/"num_hidden_layers": 2,/"num_hidden_layers": 1025,/' "$d/config.json"
expect 6 "out of range [1, 1024]" -- "$LLADAV" info -m "$d"
d=$(model cfg_big); truncate -s 17M "$d/config.json"
expect 10 "larger than the 16777216-byte limit" -- "$LLADAV" info -m "$d"
d=$(model cfg_pin); sed -i 's/"(1x1),...,(3x3)"/"(3x3),...,(1x1)"/' "$d/config.json"
expect 6 "image_grid_pinpoints" -- "$LLADAV" info -m "$d"

# ---- tokenizer.json (2, 3, 7, 9) and tokenize input (11) -----------------------------------
tok() { local f="$w/tok_$1.json"; sed "$2" "$T" > "$f"; echo "$f"; }
expect 2 "cannot open" -- "$LLADAV" tokenize -t "$w/none.json" < /dev/null
expect 1 "--tokenizer FILE is required" -- "$LLADAV" tokenize < /dev/null
f=$(tok trunc 's/"merges"/"merges/'); expect 3 "malformed JSON" -- "$LLADAV" tokenize -t "$f" <<<"hi"
f=$(tok wp 's/"type": "BPE"/"type": "WordPiece"/'); expect 9 "WordPiece" -- "$LLADAV" tokenize -t "$f" <<<"hi"
f=$(tok uni 's/"type": "BPE"/"type": "Unigram"/'); expect 9 "Unigram" -- "$LLADAV" tokenize -t "$f" <<<"hi"
f=$(tok bogus 's/"type": "BPE"/"type": "Bogus"/'); expect 9 "Bogus" -- "$LLADAV" tokenize -t "$f" <<<"hi"
f=$(tok nomerge 's/"merges": \[/"merges": [ "zz qq",/'); expect 7 "unknown token 'zz'" -- "$LLADAV" tokenize -t "$f" <<<"hi"
f=$(tok cyc 's/"merges": \[/"merges": [ "h hh", "hh h",/'); expect 7 "merge 0" -- "$LLADAV" tokenize -t "$f" <<<"hi"
f=$(tok onepart 's/"merges": \[/"merges": [ "h",/'); expect 3 "not two tokens" -- "$LLADAV" tokenize -t "$f" <<<"hi"
cp "$T" "$w/tok_gen.json"
d=$(model tokbad); cp "$w/tok_wp.json" "$d/tokenizer.json"
expect 9 "WordPiece" -- gen "$d" -p hi
expect 11 "not valid UTF-8" -- "$LLADAV" tokenize -t "$T" < <(printf 'ab\xffcd\n')
expect 11 "out of range" -- "$LLADAV" tokenize -t "$T" --decode <<<"1 2 99999"
expect 11 "out of range" -- "$LLADAV" tokenize -t "$T" --decode <<<"-5"
expect 11 "expected an integer id" -- "$LLADAV" tokenize -t "$T" --decode <<<"1 x 2"
expect 11 "unterminated JSON string" -- "$LLADAV" tokenize -t "$T" --jsonl <<<'"abc'
expect 11 "expected a JSON string" -- "$LLADAV" tokenize -t "$T" --jsonl <<<'5'
expect 11 "expected an integer id" -- "$LLADAV" tokenize -t "$T" --jsonl --decode <<<'[1, "a"]'
expect 0 "" -- "$LLADAV" tokenize -t "$T" < /dev/null

# ---- benchmark and request files (2): a device is refused, a pipe is read -----------------
expect 2 "not a regular file, folder or pipe" -- "$LLADAV" eval -m "$M" --bench /dev/zero -q
expect 2 "not a regular file, folder or pipe" -- "$LLADAV" vqa -m "$M" -i /dev/zero -o "$w/never.jsonl"
ok "a refused vqa input leaves no output file" test ! -e "$w/never.jsonl"

finish
