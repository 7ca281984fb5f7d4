"""make_tok_fixtures.py - tokenizer parity data from the Hugging Face library for the tiny
tokenizers: tests/fixtures/tokenizer/<model>.jsonl, one JSON object per line:

  {"op": "encode", "text": s, "ids": [...],            # add_special_tokens=False (lladav tokenize)
   "ids_special": [...]}                               # add_special_tokens=True (post_processor)
  {"op": "decode", "ids": [...], "text": s, "text_skip_special": s}

Run: /usr/bin/python3 make_tok_fixtures.py   (regen.sh calls it)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lladav_ref as R  # noqa: E402
from hf_tok import run_ops  # noqa: E402

FX = os.path.normpath(os.path.join(HERE, "..", "fixtures"))

TEXTS = [
    "", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", " \t\n ", "a", "Hello world",
    "Describe the image in detail.", "What is in the image?", "  leading and trailing  ",
    "multiple   spaces    here", "tabs\tand\nnewlines\r\nCRLF", "it's I'LL we've they're don't",
    "2024 12345 3.14159 -7", "héllo wörld ñ", "世界 こんにちは", "emoji 🙂👍🏽 done",
    "a<|eot_id|>b", "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
    "<|eot_id|><|eot_id|>", "<|eot_id", "<|mdm_mask|><|mdm_mask|> x", " <|endoftext|> ",
    "<image>\nPlease describe the image in detail.", "The quick brown fox jumps over the lazy dog.",
    "punctuation!!! ??? ... ,,, ;;; ::: \"quotes\" 'single' (parens) [brackets] {braces}",
    "x" * 40, "A" * 7 + "a" * 7, "\u00a0nbsp\u2003emspace", "zero\u200bwidth", "\x00\x01\x7f",
    R.chat_prompt("<image>\nWhat color is the car?"),
]

DECODES = [[72, 105], [195], [195, 169], [226, 130], [240, 159, 153, 130], [394], [384, 72, 394],
           [256, 257, 258], [389, 389], list(range(32, 48))]


def main():
    out_dir = os.path.join(FX, "tokenizer")
    os.makedirs(out_dir, exist_ok=True)
    for model in ("tiny-f32", "tiny-bf16-sharded"):
        path = os.path.join(FX, "models", model, "tokenizer.json")
        ops = [{"op": "encode", "text": t, "special": False} for t in TEXTS]
        ops += [{"op": "encode", "text": t, "special": True} for t in TEXTS]
        ops += [{"op": "decode", "ids": d, "skip": False} for d in DECODES]
        ops += [{"op": "decode", "ids": d, "skip": True} for d in DECODES]
        res = run_ops(path, ops)
        n, m = len(TEXTS), len(DECODES)
        lines = []
        for i, t in enumerate(TEXTS):
            lines.append({"op": "encode", "text": t, "ids": res[i], "ids_special": res[n + i]})
        for i, d in enumerate(DECODES):
            lines.append({"op": "decode", "ids": d, "text": res[2 * n + i],
                          "text_skip_special": res[2 * n + m + i]})
        with open(os.path.join(out_dir, model + ".jsonl"), "w", encoding="utf-8") as f:
            for obj in lines:
                f.write(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
