#!/bin/bash
# llamacpp.sh - per-step cost of lladav vs llama.cpp's llama-diffusion-cli on the same LLaDA-shaped text model.
#
# usage: tests/bench/llamacpp.sh LLADAV LLAMA_DIFFUSION_CLI MODEL_DIR GGUF [PROMPT_TOKENS] [GEN] [N]
#
#   LLADAV               the lladav binary (build/lladav)
#   LLAMA_DIFFUSION_CLI  llama.cpp's llama-diffusion-cli (CPU build); if LLAMA_DIFFUSION_CLI-greedy exists
#                        (same source built with -DDIFFUSION_GREEDY_T0, see /tmp/lcpp/BUILD.md) it is used
#                        once more for the token-agreement check at N steps
#   MODEL_DIR            HF checkpoint (config.json, safetensors, tokenizer.json) for lladav
#   GGUF                 the same weights converted by tests/bench/to_gguf.py (BF16)
#   PROMPT_TOKENS        prompt length in tokens (default 992, so a step is a 1024-row forward)
#   GEN                  answer length = block length (default 32)
#   N                    step count of the long runs (default 8); the short runs take 1 step
#
# Both tools get the identical raw prompt (no chat template, no BOS): lladav `generate --raw`; llama-diffusion-cli
# always formats -p through the GGUF's chat template, which to_gguf.py writes as an identity template, and the
# GGUF has add_bos_token = false. The prompt token ids of both are compared below.
# Sampler: greedy, low-confidence remasking, one block of GEN tokens, N steps (GEN/N tokens per step).
#   lladav: --sampler llada_text (LLaDA generate.py: no stop strings, every step runs) --temperature 0
#   llama.cpp: --temp 0 --top-k 1 (its sampler chain always ends in a dist sampler; top-k 1 makes it
#     greedy), --diffusion-block-length = -ub = prompt + GEN (its block count is max_length/block_length
#     with max_length = n_ubatch *including* the prompt, so this is the one-block setting), -b = -ub = -c.
# Per step = (t(N steps) - t(1 step)) / (N - 1) from the wall clock of whole runs (load cancels out).
# Everything runs under nice -n 19, one run at a time, 2 threads.
set -u
if [ $# -lt 4 ]; then
    sed -n '2,14p' "$0" >&2
    exit 1
fi
LLADAV=$1
CLI=$2
MODEL=$3
GGUF=$4
PTOK=${5:-992}
GEN=${6:-32}
N=${7:-8}
T=2
NICE="nice -n 19"
TMP=$(mktemp -d /tmp/llamacpp-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# ---------------------------------------------------------------- host
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
echo "host: ${cpu:-unknown cpu}, $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "lladav: $LLADAV"
echo "llama.cpp: $CLI ($("$CLI" --version 2>&1 | grep -m1 -o 'version: .*' || echo 'version unknown'))"
echo "model: $MODEL  gguf: $GGUF ($(du -h "$GGUF" | cut -f1))"

# ---------------------------------------------------------------- prompt of PTOK tokens
PARA="The history of the river town is written in its bridges. Each generation built a new crossing, wider and stronger than the last, and each one carried more carts, more travellers and more news from the cities downstream. The old stone bridge still stands beside the modern one, and children race across it every morning on their way to school while the fishermen below mend their nets and argue about the weather."
TAIL="Tell the story of the next bridge: describe who walks across it first, what they carry over the water, and what the old fishermen below say about it on that cold morning in early spring, before the heavy rain."
ntok() { printf '%s\n' "$1" | "$LLADAV" tokenize -t "$MODEL/tokenizer.json" | wc -w; }
[ "$(ntok "$TAIL")" -lt "$PTOK" ] || TAIL=""   # very short prompts: paragraph words only
BODY=""
while [ "$(ntok "$BODY$PARA${TAIL:+ $TAIL}")" -le "$PTOK" ]; do BODY="$BODY$PARA "; done
# trim the body word by word (binary search) so that body + tail is as long as possible within PTOK
read -r -a W <<< "$BODY$PARA"
lo=0; hi=${#W[@]}
while [ $lo -lt $hi ]; do
    mid=$(( (lo + hi + 1) / 2 ))
    if [ "$(ntok "${W[*]:0:$mid}${TAIL:+ $TAIL}")" -le "$PTOK" ]; then lo=$mid; else hi=$((mid - 1)); fi
done
PROMPT="${W[*]:0:$lo}"
[ -n "$TAIL" ] && PROMPT="${PROMPT:+$PROMPT }$TAIL"
printf '%s\n' "$PROMPT" | "$LLADAV" tokenize -t "$MODEL/tokenizer.json" > "$TMP/ids.lladav"
NP=$(wc -w < "$TMP/ids.lladav")
ROWS=$((NP + GEN))
echo "prompt: $NP tokens (raw text, no template, no BOS), answer $GEN, rows per forward $ROWS, steps 1 and $N, threads $T"
echo

# warm the page cache so neither tool pays the disk in its first run
cat "$MODEL"/*.safetensors > /dev/null
cat "$GGUF" > /dev/null

run_lladav() {  # $1 precision, $2 steps, $3 out file -> prints seconds
    local t0 t1
    t0=$(now)
    $NICE "$LLADAV" generate -m "$MODEL" -p "$PROMPT" --raw --sampler llada_text --temperature 0 \
        --gen-length "$GEN" --block-length "$GEN" --steps "$2" -t $T --precision "$1" -q > "$3" 2> "$3.err"
    local rc=$?
    t1=$(now)
    [ $rc -eq 0 ] || { echo "lladav failed (rc $rc):" >&2; tail -5 "$3.err" >&2; }
    fsub "$t1" "$t0"
}

run_cli() {  # $1 binary, $2 steps, $3 out file -> prints seconds
    local t0 t1
    t0=$(now)
    $NICE "$1" -m "$GGUF" -p "$PROMPT" -t $T -tb $T -c "$ROWS" -b "$ROWS" -ub "$ROWS" \
        --diffusion-steps "$2" --diffusion-block-length "$ROWS" --temp 0 --top-k 1 --seed 0 \
        > "$3" 2>&1
    local rc=$?
    t1=$(now)
    [ $rc -eq 0 ] || { echo "llama-diffusion-cli failed (rc $rc):" >&2; tail -5 "$3" >&2; }
    fsub "$t1" "$t0"
}

cli_ids() { sed -n 's/.*diffusion: answer ids: //p' "$1" | head -1; }
decode() { echo "$1" | "$LLADAV" tokenize -t "$MODEL/tokenizer.json" --decode; }

declare -A TIME
for prec in bf16 f32; do
    for s in 1 "$N"; do
        TIME[lladav_${prec}_$s]=$(run_lladav $prec "$s" "$TMP/lladav_${prec}_$s.out")
        echo "lladav $prec       steps $s: ${TIME[lladav_${prec}_$s]} s"
    done
done
for s in 1 "$N"; do
    TIME[cli_$s]=$(run_cli "$CLI" "$s" "$TMP/cli_$s.out")
    echo "llama.cpp bf16 steps $s: ${TIME[cli_$s]} s  ($(grep -m1 -o 'total time: .*' "$TMP/cli_$s.out"))"
done

# ---------------------------------------------------------------- same prompt?
sed -n 's/.*diffusion: prompt ids: //p' "$TMP/cli_1.out" | head -1 | tr ' ' '\n' > "$TMP/ids.cli"
tr ' ' '\n' < "$TMP/ids.lladav" | sed '/^$/d' > "$TMP/ids.lladav.col"
if cmp -s "$TMP/ids.cli" "$TMP/ids.lladav.col"; then
    echo "prompt ids: identical ($NP tokens)"
else
    echo "prompt ids: DIFFER (lladav $NP, llama.cpp $(wc -l < "$TMP/ids.cli"))"
fi

# ---------------------------------------------------------------- per step
echo
ps_cli=$(awk -v a="${TIME[cli_$N]}" -v b="${TIME[cli_1]}" -v n="$N" 'BEGIN { printf "%.3f", (a - b) / (n - 1) }')
printf '%-22s %10s %12s %10s\n' "per step ($ROWS rows)" "seconds" "llama.cpp/x" "load+1 step"
for prec in bf16 f32; do
    ps=$(awk -v a="${TIME[lladav_${prec}_$N]}" -v b="${TIME[lladav_${prec}_1]}" -v n="$N" 'BEGIN { printf "%.3f", (a - b) / (n - 1) }')
    r=$(awk -v a="$ps_cli" -v b="$ps" 'BEGIN { printf "%.2f", a / b }')
    printf '%-22s %10s %12s %10s\n' "lladav $prec" "$ps" "$r" "${TIME[lladav_${prec}_1]}"
done
printf '%-22s %10s %12s %10s\n' "llama.cpp bf16" "$ps_cli" "1.00" "${TIME[cli_1]}"

# ---------------------------------------------------------------- answers
echo
show() { printf '%s' "$1" | tr '\n' ' ' | cut -c1-160; }
for s in 1 "$N"; do
    ids=$(cli_ids "$TMP/cli_$s.out")
    ctext=$(decode "$ids")
    echo "steps $s  llama.cpp (top-k 1) ids: $ids"
    echo "steps $s  llama.cpp text: $(show "$ctext")"
    for prec in bf16 f32; do
        ltext=$(cat "$TMP/lladav_${prec}_$s.out")
        if [ "$ltext" = "$ctext" ]; then m="same text as llama.cpp"; else m="differs from llama.cpp"; fi
        echo "steps $s  lladav $prec text: $(show "$ltext")  [$m]"
    done
done
if [ -x "$CLI-greedy" ]; then
    # upstream's top-k 1 makes every confidence 1.0, so with N > 1 it unmasks left to right; the -greedy
    # build computes argmax + softmax confidence like LLaDA's generate.py (agreement check only, not timed)
    run_cli "$CLI-greedy" "$N" "$TMP/greedy_$N.out" > /dev/null
    ids=$(cli_ids "$TMP/greedy_$N.out")
    ctext=$(decode "$ids")
    echo "steps $N  llama.cpp-greedy ids: $ids"
    for prec in bf16 f32; do
        ltext=$(cat "$TMP/lladav_${prec}_$N.out")
        if [ "$ltext" = "$ctext" ]; then m="same text"; else m="differs"; fi
        echo "steps $N  lladav $prec vs llama.cpp-greedy: $m"
    done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
