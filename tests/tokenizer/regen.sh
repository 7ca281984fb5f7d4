#!/usr/bin/env bash
# regen.sh - regenerate corpus.jsonl and expected/NAME.jsonl from the Hugging Face library.
# Run after changing gen_corpus.js or adding a tokenizer; commit the outputs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
[ -d node_modules/@anush008/tokenizers ] || npm install --no-audit --no-fund
node gen_corpus.js > corpus.jsonl
mkdir -p expected
for f in models/*/tokenizer.json; do
  name="$(basename "$(dirname "$f")")"
  node make_expected.js "$name" "$f" > "expected/$name.jsonl"
  echo "regen: expected/$name.jsonl"
done
# the tiny LLaDA-style fixtures of tests/fixtures (byte-level BPE + LLaDA special tokens)
for name in tiny-bf16-sharded tiny-f32; do
  f="$root/tests/fixtures/models/$name/tokenizer.json"
  [ -f "$f" ] || continue
  node make_expected.js "$name" "$f" > "expected/$name.jsonl"
  echo "regen: expected/$name.jsonl"
done
