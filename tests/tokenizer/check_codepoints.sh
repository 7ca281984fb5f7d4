#!/usr/bin/env bash
# check_codepoints.sh - every Unicode scalar value (U+0020..U+10FFFF, 48 per line, a space after
# every third) through the HF library and through `lladav tokenize --jsonl`; prints the lines
# that differ with their code point range. A manual check (needs node + npm install here):
#   tests/tokenizer/check_codepoints.sh build/lladav [NAME ...]   (default: qwen3)
# Result on Debian 12 (PCRE2 10.42 = Unicode 14, utf8proc 2.8 = Unicode 15): identical except
# for lines holding characters added in Unicode 13-16 (see README.md, known differences).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lladav="$(realpath "${1:?usage: check_codepoints.sh LLADAV [NAME ...]}")"
shift
names=("${@:-qwen3}")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$here"
for name in "${names[@]}"; do
  node -e '
const fs = require("fs"), tk = require("@anush008/tokenizers");
(async () => {
  const lines = [];
  for (let c = 0x20; c < 0x110000; c += 48) {
    let s = "";
    for (let k = c; k < c + 48 && k < 0x110000; k++) {
      if (k >= 0xd800 && k <= 0xdfff) continue;
      s += String.fromCodePoint(k) + (k % 3 ? "" : " ");
    }
    lines.push(s);
  }
  fs.writeFileSync(process.argv[2], lines.map((x) => JSON.stringify(x)).join("\n") + "\n");
  const t = tk.Tokenizer.fromFile(process.argv[1]);
  const out = [];
  for (const s of lines) out.push(JSON.stringify((await t.encode(s, null, { addSpecialTokens: false })).getIds()));
  fs.writeFileSync(process.argv[3], out.join("\n") + "\n");
})();' "models/$name/tokenizer.json" "$tmp/cp.jsonl" "$tmp/hf.txt"
  "$lladav" tokenize --tokenizer "models/$name/tokenizer.json" --jsonl < "$tmp/cp.jsonl" > "$tmp/lv.txt"
  n=0
  while IFS= read -r ln; do
    first=$(( 0x20 + (ln - 1) * 48 ))
    printf '%s: line %d differs: U+%04X..U+%04X\n' "$name" "$ln" "$first" "$(( first + 47 ))"
    n=$(( n + 1 ))
  done < <(paste -d '\t' "$tmp/hf.txt" "$tmp/lv.txt" | awk -F '\t' '$1 != $2 {print NR}')
  echo "$name: $(wc -l < "$tmp/cp.jsonl") lines, $n differ"
done
