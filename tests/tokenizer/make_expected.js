// make_expected.js - reference ids from the Hugging Face `tokenizers` library (Rust crate 0.22
// through the @anush008/tokenizers N-API binding, offline once installed) for tests/test_tokenizer.c.
//
//   cd tests/tokenizer && npm install            # once: node_modules/ is gitignored
//   node make_expected.js NAME path/to/tokenizer.json   > expected/NAME.jsonl
//
// First line: {"tokenizer_fnv1a64": hex, "bytes": n} of the tokenizer.json used, so the test
// can tell expected ids made from another version of a file. Then, per corpus line:
//   {"ids": encode(text, add_special_tokens=false), "ids_special": encode(text, true),
//    "decoded": decode(ids, false), "decoded_skip": decode(ids_special, true)}
"use strict";
const fs = require("fs");
const path = require("path");
const tk = require("@anush008/tokenizers");

async function main() {
  const [name, file] = process.argv.slice(2);
  if (!name || !file) throw new Error("usage: node make_expected.js NAME tokenizer.json");
  const tok = tk.Tokenizer.fromFile(file);
  const raw = fs.readFileSync(file);
  let h = 0xcbf29ce484222325n;
  for (const b of raw) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  process.stdout.write(JSON.stringify({ tokenizer_fnv1a64: h.toString(16).padStart(16, "0"), bytes: raw.length }) + "\n");
  const lines = fs.readFileSync(path.join(__dirname, "corpus.jsonl"), "utf8").split("\n").filter((l) => l.length);
  for (const line of lines) {
    const text = JSON.parse(line);
    const ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    const ids_special = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
    const decoded = await tok.decode(ids, false);
    const decoded_skip = await tok.decode(ids_special, true);
    process.stdout.write(JSON.stringify({ ids, ids_special, decoded, decoded_skip }) + "\n");
  }
}
main().catch((e) => { process.stderr.write(String(e.stack || e) + "\n"); process.exit(1); });
