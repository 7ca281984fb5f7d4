#!/bin/bash
# lladav vqa: JSONL in, JSONL out. Twenty questions over four images encode four images; a run
# killed with SIGKILL and started again ends with exactly one record per id and the answers of
# an uninterrupted run; a torn last line is cut; bad lines become error records for their id;
# per-line sampler settings apply; a second writer is refused; answers equal `ask`'s.
source "$(dirname "$0")/lib.bash"
M="$LV_SOURCE_DIR/tests/fixtures/models/tiny-f32"
I="$LV_SOURCE_DIR/tests/fixtures/images"
if [ ! -f "$M/tokenizer.json" ]; then
  echo "SKIP: no tiny model at $M (tests/fixtures is made by the reference helper)"
  exit 77
fi
W="$LV_WORK"
imgs=(square_56.png wide_150x60.png tall_50x130.jpg large_400x300_palette.png)
mkdir -p "$W/imgs" && for f in "${imgs[@]}"; do cp "$I/$f" "$W/imgs/"; done
for k in $(seq 0 19); do   # ids alternate string / number; paths relative to the input's folder
  id="\"q$k\""; [ $((k % 2)) = 1 ] && id=$k
  printf '{"id": %s, "image": "imgs/%s", "question": "What is shown? (%d)"}\n' "$id" "${imgs[$((k % 4))]}" "$k"
done > "$W/q.jsonl"
RUN=("$LLADAV" vqa -m "$M" -t 1 --gen-length 32 -i "$W/q.jsonl")   # an array: kill reaches lladav
run() { "${RUN[@]}" "$@"; }
ids_once() {   # FILE N: N lines, N distinct ids
  /usr/bin/python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
keys = [json.dumps(r["id"]) + str(r.get("line") if r["id"] is None else "") for r in recs]
sys.exit(0 if len(recs) == int(sys.argv[2]) == len(set(keys)) else 1)' "$@"
}
same_answers() {   # A B: the same (id, answer) pairs
  /usr/bin/python3 -c '
import json, sys
f = lambda p: sorted((json.dumps(r["id"]), r.get("answer"), r.get("error")) for r in map(json.loads, open(p)))
sys.exit(0 if f(sys.argv[1]) == f(sys.argv[2]) else 1)' "$@"
}

# 1. uninterrupted: 20 records, 4 images encoded
expect 0 "images: 4 encoded, 16 reused" -- run -o "$W/ref.jsonl"
run -o "$W/ref2.jsonl" 2> "$W/ref2.log"
ok "the log shows 4 image encodings" test "$(grep -c 'image encoded' "$W/ref2.log")" = 4
ok "the log shows 16 reuses" test "$(grep -c 'image reused' "$W/ref2.log")" = 16
ok "20 records, one per id" ids_once "$W/ref.jsonl" 20
ok "deterministic" same_answers "$W/ref.jsonl" "$W/ref2.jsonl"
ok "numeric ids stay numbers" grep -q '^{"id":1,' "$W/ref.jsonl"
ok "record fields" /usr/bin/python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
need = {"id", "answer", "image", "question", "tokens", "seconds", "sampler", "image_reused", "model"}
assert need <= set(r), need - set(r)
assert r["sampler"]["gen_length"] == 32 and r["tokens"]["image"] > 0 and r["seconds"]["total"] > 0' "$W/ref.jsonl"

# 2. SIGKILL mid-run, twice, then finish: one record per id, the uninterrupted answers
rm -f "$W/a.jsonl"
n1=$(kill_after_lines "$W/a.jsonl" 3 "${RUN[@]}" -o "$W/a.jsonl")
mid_run() { [ "$1" != done ] && [ "$1" -lt 20 ]; }
ok "first kill landed mid-run ($n1 records)" mid_run "$n1"
n2=$(kill_after_lines "$W/a.jsonl" 9 "${RUN[@]}" -o "$W/a.jsonl")
ok "second kill landed mid-run ($n2 records)" mid_run "$n2"
expect 0 "answered before" -- run -o "$W/a.jsonl"
ok "after kill + resume: exactly one record per id" ids_once "$W/a.jsonl" 20
ok "after kill + resume: the uninterrupted answers" same_answers "$W/a.jsonl" "$W/ref.jsonl"
expect 0 "0 to run" -- run -o "$W/a.jsonl"
ok "a finished run appends nothing" test "$(wc -l < "$W/a.jsonl")" = 20

# 3. a torn last line (killed inside a write) is cut and its question asked again
head -c 2500 "$W/ref.jsonl" > "$W/t.jsonl"
expect 0 "cut a torn last line" -- run -o "$W/t.jsonl"
ok "torn line: one record per id" ids_once "$W/t.jsonl" 20
ok "torn line: the uninterrupted answers" same_answers "$W/t.jsonl" "$W/ref.jsonl"

# 4. bad lines: an error record each, the run goes on (exit 0)
{
  printf '{"id": "ok", "image": "imgs/square_56.png", "question": "fine", "gen_length": 8}\n'
  printf '{"id": "missing", "image": "imgs/nope.png", "question": "x"}\n'
  printf 'not json at all\n'
  printf '{"image": "imgs/square_56.png", "question": "no id"}\n'
  printf '{"id": "two", "images": ["imgs/square_56.png", "imgs/tall_50x130.jpg"], "question": "x"}\n'
  printf '{"id": "div", "image": "imgs/square_56.png", "question": "x", "gen_length": 8, "block_length": 3}\n'
  printf '{"id": "mode", "image": "imgs/square_56.png", "question": "x", "mode": "warp"}\n'
  printf '{"id": "neg", "image": "imgs/square_56.png", "question": "x", "steps": -4}\n'
  printf '{"id": "corrupt", "image": "imgs/bad.png", "question": "x"}\n'
  printf '{"id": "ok", "image": "imgs/square_56.png", "question": "duplicate"}\n'
  printf '{"id": "text", "question": "no image at all", "gen_length": 4}\n'
} > "$W/bad.jsonl"
head -c 100 "$W/imgs/square_56.png" > "$W/imgs/bad.png"
"$LLADAV" vqa -m "$M" -t 1 --gen-length 16 -i "$W/bad.jsonl" -o "$W/bad.out" 2> "$W/bad.log"
ok "bad lines: exit 0" test $? = 0
ok "bad lines: 10 records (the duplicate id is skipped)" test "$(wc -l < "$W/bad.out")" = 10
ok "bad lines: duplicate reported" grep -q "duplicate id ok" "$W/bad.log"
ok "bad lines: each error names its problem" /usr/bin/python3 -c '
import json, sys
r = {json.dumps(x["id"]) + (str(x["line"]) if x["id"] is None else ""): x for x in map(json.loads, open(sys.argv[1]))}
def err(key, status, frag):
    x = [v for k, v in r.items() if k.startswith(key)][0]
    assert x.get("status") == status and frag in x["error"], (key, x)
assert r["\"ok\""]["sampler"]["gen_length"] == 8 and "answer" in r["\"ok\""]
err("\"missing\"", "ERR_IO", "nope.png")
err("null3", "ERR_FORMAT", "not valid JSON")
err("null4", "ERR_FORMAT", "id")
err("\"two\"", "ERR_UNSUPPORTED", "multi-image")
err("\"div\"", "ERR_ARG", "block_length")
err("\"mode\"", "ERR_ARG", "warp")
err("\"neg\"", "ERR_ARG", "steps")
err("\"corrupt\"", "ERR_IMAGE", "bad.png")
assert r["\"text\""]["image"] is None and r["\"text\""]["tokens"]["image"] == 0
' "$W/bad.out"

# 5. the same answer as `ask` with the same settings
a=$("$LLADAV" ask -m "$M" -t 1 --gen-length 32 -q "$W/imgs/wide_150x60.png" "What is shown? (1)")
v=$(/usr/bin/python3 -c 'import json,sys; print([r for r in map(json.loads, open(sys.argv[1])) if r["id"] == 1][0]["answer"])' "$W/ref.jsonl")
ok "vqa answer = ask answer" test "$a" = "$v"

# 6. refusals: a second writer, output = input, a file that is not vqa output, usage
exec 9>>"$W/ref.jsonl"; flock 9   # this shell holds the lock, as a running vqa would
expect 2 "another process is writing" -- run -o "$W/ref.jsonl"
exec 9>&-
expect 1 "is the input file" -- run -o "$W/q.jsonl"
echo '{"no": "id"}' > "$W/other.jsonl"
expect 3 "not a vqa record" -- run -o "$W/other.jsonl"
expect 1 "--input Q.jsonl and --output A.jsonl are required" -- "$LLADAV" vqa -m "$M" -i "$W/q.jsonl"
expect 2 "no such file" -- "$LLADAV" vqa -m "$M" -i "$W/none.jsonl" -o "$W/x.jsonl"
expect 1 "--gen-length" -- "$LLADAV" vqa -m "$M" -i "$W/q.jsonl" -o "$W/y.jsonl" --gen-length -3
expect 1 "expected f32 or bf16" -- "$LLADAV" vqa -m "$M" -i "$W/q.jsonl" -o "$W/y.jsonl" --precision f16

# 7. --precision bf16 (opt-in, needs AVX512-BF16) is recorded with each answer
if grep -qw avx512_bf16 /proc/cpuinfo; then
  expect 0 "" -- "$LLADAV" vqa -m "$LV_SOURCE_DIR/tests/fixtures/models/tiny-bf16-sharded" -t 1 --gen-length 8 \
      --precision bf16 -i "$W/q.jsonl" -o "$W/bf16.jsonl" -q
  ok "bf16 recorded" grep -q '"precision":"bf16"' "$W/bf16.jsonl"
else
  expect 9 "needs a CPU with AVX512-BF16" -- "$LLADAV" vqa -m "$M" --precision bf16 -i "$W/q.jsonl" -o "$W/bf16.jsonl"
  echo "note: no AVX512-BF16 on this CPU: checked the refusal instead of a bf16 run"
fi
# 8. a pipe: requests on stdin (images relative to the working directory), records on stdout
out=$(cd "$W" && printf '%s\n' '{"id": "p1", "image": "imgs/square_56.png", "question": "What is shown? (0)"}' 'oops' |
      "$LLADAV" vqa -m "$M" -t 1 --gen-length 32 -i - -o - -q)
ok "stdin -> stdout: two records" test "$(printf '%s\n' "$out" | wc -l)" = 2
ok "stdin -> stdout: the answer of the file run" /usr/bin/python3 -c '
import json, sys
a = json.loads(sys.argv[1].splitlines()[0])
b = [r for r in map(json.loads, open(sys.argv[2])) if r["id"] == "q0"][0]
assert a["id"] == "p1" and a["answer"] == b["answer"], (a, b)
assert "not valid JSON" in json.loads(sys.argv[1].splitlines()[1])["error"]' "$out" "$W/ref.jsonl"
finish
