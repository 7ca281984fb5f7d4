#!/usr/bin/env bash
# tokenize.sh - `lladav tokenize` (interfaces.md §3): plain, --jsonl and --decode round trips,
# line handling (CRLF, empty lines, a last line without newline, long lines) and errors.
set -uo pipefail
: "${LLADAV:?}" "${LV_SOURCE_DIR:?}" "${LV_WORK:=$(mktemp -d)}"
mkdir -p "$LV_WORK"
# qwen3 (11 MB) for the checks against the HF ids; the 9 KB tiny variant (LLaDA special tokens)
# for the line-handling and error checks, so each lladav start stays cheap
tok="$LV_SOURCE_DIR/tests/tokenizer/models/qwen3/tokenizer.json"
small="$LV_SOURCE_DIR/tests/tokenizer/models/variant-bailing/tokenizer.json"
[ -f "$tok" ] && [ -f "$small" ] || { echo "SKIP: $tok or $small absent"; exit 77; }
expected="$LV_SOURCE_DIR/tests/tokenizer/expected/qwen3.jsonl"
corpus="$LV_SOURCE_DIR/tests/tokenizer/corpus.jsonl"
fails=0
pass=0
check() {  # check NAME CONDITION-EXIT-CODE
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else echo "FAIL: $1"; fails=$((fails + 1)); fi
}
w="$LV_WORK"

# plain: known ids for known text (from the HF library via expected/qwen3.jsonl line 1)
printf 'The quick brown fox jumps over the lazy dog.\n' > "$w/plain.txt"
"$LLADAV" tokenize --tokenizer "$tok" < "$w/plain.txt" > "$w/plain.ids"
check "plain ids" $([ "$(cat "$w/plain.ids")" = "785 3974 13876 38835 34208 916 279 15678 5562 13" ]; echo $?)

# plain: CRLF and LF give the same ids, empty lines give empty lines, last line without "\n"
printf 'hello world\r\n\r\n<|start_header_id|>user\nlast line' > "$w/crlf.txt"
"$LLADAV" tokenize --tokenizer "$small" < "$w/crlf.txt" > "$w/crlf.ids"
check "crlf exit" $?
check "crlf line count" $([ "$(wc -l < "$w/crlf.ids")" -eq 4 ]; echo $?)
check "crlf empty line" $([ -z "$(sed -n 2p "$w/crlf.ids")" ]; echo $?)
printf 'hello world\n' | "$LLADAV" tokenize --tokenizer "$small" > "$w/lf.ids"
check "crlf == lf" $([ "$(sed -n 1p "$w/crlf.ids")" = "$(cat "$w/lf.ids")" ]; echo $?)
check "special token matched" $(sed -n 3p "$w/crlf.ids" | grep -q '^392 '; echo $?)

# plain decode round trip
"$LLADAV" tokenize --tokenizer "$small" --decode < "$w/crlf.ids" > "$w/crlf.dec"
check "plain decode" $([ "$(cat "$w/crlf.dec")" = "$(printf 'hello world\n\n<|start_header_id|>user\nlast line')" ]; echo $?)

# long line (300 KB, longer than any stdio buffer)
head -c 300000 /dev/zero | tr '\0' 'a' > "$w/long.txt"
echo >> "$w/long.txt"
"$LLADAV" tokenize --tokenizer "$small" < "$w/long.txt" > "$w/long.ids"
check "long line" $?
"$LLADAV" tokenize --tokenizer "$small" --decode < "$w/long.ids" | cmp -s - "$w/long.txt"
check "long line round trip" $?

# --jsonl: the whole corpus gives the HF library's ids, and decodes back to its decodes
"$LLADAV" tokenize --tokenizer "$tok" --jsonl < "$corpus" > "$w/corpus.ids"
check "jsonl exit" $?
if command -v python3 >/dev/null; then
  /usr/bin/python3 - "$w/corpus.ids" "$expected" <<'EOF'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = [json.loads(l)["ids"] for l in open(sys.argv[2], encoding="utf-8").readlines()[1:]]  # 1: fingerprint
sys.exit(0 if got == want else 1)
EOF
  check "jsonl ids == HF" $?
  "$LLADAV" tokenize --tokenizer "$tok" --jsonl --decode < "$w/corpus.ids" > "$w/corpus.dec"
  check "jsonl decode exit" $?
  /usr/bin/python3 - "$w/corpus.dec" "$expected" <<'EOF'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = [json.loads(l)["decoded"] for l in open(sys.argv[2], encoding="utf-8").readlines()[1:]]
sys.exit(0 if got == want else 1)
EOF
  check "jsonl decode == HF" $?
else
  echo "note: python3 absent, jsonl comparison with the HF ids skipped"
fi

# --jsonl: NUL, tabs, newlines and non-BMP text survive encode + decode
printf '%s\n' '"a\u0000b\tc\nd \ud83d\ude00 \u00e9"' '""' > "$w/nul.jsonl"
"$LLADAV" tokenize --tokenizer "$small" --jsonl < "$w/nul.jsonl" > "$w/nul.ids"
check "jsonl nul exit" $?
check "jsonl empty text" $([ "$(sed -n 2p "$w/nul.ids")" = "[]" ]; echo $?)
"$LLADAV" tokenize --tokenizer "$small" --jsonl --decode < "$w/nul.ids" > "$w/nul.dec"
check "jsonl nul round trip" $([ "$(sed -n 1p "$w/nul.dec")" = '"a\u0000b\tc\nd 😀 é"' ]; echo $?)

# errors: invalid JSON names its line, bad ids, missing tokenizer, out-of-range id
printf '"ok"\n{"not": "a string"}\n' | "$LLADAV" tokenize --tokenizer "$small" --jsonl > /dev/null 2> "$w/err1"
rc=$?
check "bad json exit code" $([ $rc -eq 11 ]; echo $?)
check "bad json names line 2" $(grep -q 'line 2' "$w/err1"; echo $?)
printf '1 2 x\n' | "$LLADAV" tokenize --tokenizer "$small" --decode > /dev/null 2> "$w/err2"
check "bad id" $([ $? -eq 11 ] && grep -q 'line 1' "$w/err2"; echo $?)
printf '1 999999999\n' | "$LLADAV" tokenize --tokenizer "$small" --decode > /dev/null 2> "$w/err3"
check "id out of range" $([ $? -eq 11 ] && grep -q 'out of range' "$w/err3"; echo $?)
printf 'x\n' | "$LLADAV" tokenize --tokenizer "$w/none.json" > /dev/null 2> "$w/err4"
check "missing tokenizer" $([ $? -eq 2 ]; echo $?)
printf 'x\n' | "$LLADAV" tokenize > /dev/null 2>&1
check "no --tokenizer is a usage error" $([ $? -eq 1 ]; echo $?)
printf '\xff\n' | "$LLADAV" tokenize --tokenizer "$small" > /dev/null 2> "$w/err5"
check "invalid utf-8" $([ $? -eq 11 ] && grep -q 'UTF-8' "$w/err5"; echo $?)

echo "tokenize: $pass passed, $fails failed"
[ $fails -eq 0 ]
