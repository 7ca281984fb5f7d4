"""hf_tok.py - Hugging Face tokenizers from Python, through node + tok.js.

The reference tokenizes with the real HF `tokenizers` library (Rust) via the npm package
@anush008/tokenizers installed in tests/reference/node_modules (`npm ci` there). Calls are
batched: queue ops, then one node process answers all of them.
"""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.environ.get("LLADAV_NODE", "node")


def run_ops(tokenizer_path, ops):
    req = json.dumps({"tokenizer": os.path.abspath(tokenizer_path) if tokenizer_path else None,
                      "ops": ops})
    p = subprocess.run([NODE, os.path.join(HERE, "tok.js")], input=req.encode("utf-8"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE, check=False)
    if p.returncode != 0:
        raise RuntimeError("tok.js failed: " + p.stderr.decode("utf-8", "replace"))
    return json.loads(p.stdout.decode("utf-8"))


class HFTokenizer:
    """Minimal view of a tokenizer.json: encode/decode through HF, added tokens from the JSON."""

    def __init__(self, path):
        self.path = path
        with open(path, "r", encoding="utf-8") as f:
            self.json = json.load(f)
        self.added = {t["content"]: t["id"] for t in self.json.get("added_tokens", [])}
        info = run_ops(path, [{"op": "info"}])[0]
        self.vocab = info["vocab"]
        # len(tokenizer) in transformers = largest id + 1 over base vocab and added tokens
        self.length = max(self.vocab.values()) + 1

    def token_id(self, content):
        return self.added.get(content, self.vocab.get(content))

    def encode_many(self, texts, special=True):
        return run_ops(self.path, [{"op": "encode", "text": t, "special": special} for t in texts])

    def encode(self, text, special=True):
        return self.encode_many([text], special)[0]

    def decode_many(self, id_lists, skip=False):
        return run_ops(self.path, [{"op": "decode", "ids": list(map(int, ids)), "skip": skip}
                                   for ids in id_lists])

    def decode(self, ids, skip=False):
        return self.decode_many([ids], skip)[0]


def byte_level_pretokenize(texts):
    """GPT-2 ByteLevel(add_prefix_space=false, use_regex=true) split of each text, as HF does it."""
    return run_ops(None, [{"op": "pretok", "text": t} for t in texts])
