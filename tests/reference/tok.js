// tok.js - batch bridge from the Python reference to the Hugging Face `tokenizers`
// library (Rust, via the @anush008/tokenizers N-API binding, tokenizers crate 0.22).
//
// stdin : one JSON object {"tokenizer": "path/tokenizer.json" | null,
//                          "ops": [{"op": "encode", "text": s, "special": bool},
//                                  {"op": "decode", "ids": [..], "skip": bool},
//                                  {"op": "pretok", "text": s},     // ByteLevel(add_prefix_space=false) split
//                                  {"op": "info"}]}                 // vocab size, added tokens
// stdout: one JSON array, one result per op, in order.
"use strict";
const tk = require("@anush008/tokenizers");

async function main() {
  let buf = "";
  for await (const chunk of process.stdin) buf += chunk;
  const req = JSON.parse(buf);
  const tok = req.tokenizer ? tk.Tokenizer.fromFile(req.tokenizer) : null;
  const pre = tk.byteLevelPreTokenizer(false, true);
  const out = [];
  for (const op of req.ops) {
    if (op.op === "encode") {
      const enc = await tok.encode(op.text, null, { addSpecialTokens: !!op.special });
      out.push(enc.getIds());
    } else if (op.op === "decode") {
      out.push(await tok.decode(op.ids, !!op.skip));
    } else if (op.op === "pretok") {
      out.push(pre.preTokenizeString(op.text).map((p) => p[0]));
    } else if (op.op === "info") {
      out.push({ size: tok.getVocabSize(true), base: tok.getVocabSize(false), vocab: tok.getVocab(true) });
    } else {
      throw new Error("unknown op " + op.op);
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { process.stderr.write(String(e.stack || e) + "\n"); process.exit(1); });
