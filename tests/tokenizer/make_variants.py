"""make_variants.py - tokenizer.json variants of the tiny byte-level BPE (tests/fixtures/models/
tiny-f32) that exercise components the real checkpoints in models/ do not: possessive
quantifiers (the Bailing/Ling regex LLaDA's tokenizer probably uses, spec §8), every Split
behaviour and invert, Digits, NFKC + Lowercase + Replace, added-token flags (lstrip, rstrip,
single_word, normalized), Metaspace (both prepend schemes, split on/off) with unk fusing, and
Sequence/Roberta post-processors. Expected ids still come from the Hugging Face library
(regen.sh). Deterministic; run with /usr/bin/python3 from the repository root:

    /usr/bin/python3 tests/tokenizer/make_variants.py
"""
import copy
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.path.join(ROOT, "tests/fixtures/models/tiny-f32/tokenizer.json")
OUT = os.path.join(ROOT, "tests/tokenizer/models")

BAILING = (r"(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*"
           r"|\s*[\r\n]|\s+(?!\S)|\s+")


def bytelevel_pre(prefix=False, regex=False):
    return {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": regex}


def split(pattern, behavior, invert=False, literal=False):
    return {"type": "Split", "pattern": {"String" if literal else "Regex": pattern},
            "behavior": behavior, "invert": invert}


def set_flags(tok, content, **flags):
    for a in tok["added_tokens"]:
        if a["content"] == content:
            a.update(flags)
            return
    raise KeyError(content)


def add_token(tok, content, **flags):
    nid = max(a["id"] for a in tok["added_tokens"]) + 1
    entry = {"id": nid, "content": content, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": False}
    entry.update(flags)
    tok["added_tokens"].append(entry)


def main():
    base = json.load(open(BASE, encoding="utf-8"))
    variants = {}

    t = copy.deepcopy(base)
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [split(BAILING, "Isolated"),
                                                                 bytelevel_pre()]}
    set_flags(t, "<|mdm_mask|>", lstrip=True)
    set_flags(t, "<|eot_id|>", rstrip=True)
    variants["variant-bailing"] = t

    t = copy.deepcopy(base)
    t["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"},
        {"type": "Replace", "pattern": {"String": "  "}, "content": " "}]}
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, bytelevel_pre(prefix=True, regex=True)]}
    add_token(t, "hello world", normalized=True, single_word=True)
    add_token(t, "CAFÉ", normalized=True)
    set_flags(t, "<role>", single_word=True)
    t["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "RobertaProcessing", "sep": ["<|endoftext|>", 385], "cls": ["<|startoftext|>", 384],
         "trim_offsets": True, "add_prefix_space": True}]}
    variants["variant-norm"] = t

    t = copy.deepcopy(base)
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        split(" ", "MergedWithPrevious", literal=True),
        split(r"\p{P}+", "Contiguous"),
        split(r"[0-9]", "MergedWithNext"),
        split(r"\s+", "Removed"),
        split(r"[aeiou]", "Isolated", invert=True),
        {"type": "Digits", "individual_digits": False},
        bytelevel_pre()]}
    variants["variant-splits"] = t

    for name, scheme, do_split in (("variant-metaspace", "first", True),
                                   ("variant-metaspace-always", "always", False)):
        t = copy.deepcopy(base)
        t["model"]["unk_token"] = "Ā"
        t["model"]["fuse_unk"] = name.endswith("always")
        t["pre_tokenizer"] = {"type": "Metaspace", "replacement": "Ġ", "prepend_scheme": scheme,
                              "split": do_split}
        t["decoder"] = {"type": "Metaspace", "replacement": "Ġ", "prepend_scheme": scheme,
                        "split": do_split}
        variants[name] = t

    for name, t in variants.items():
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        with open(os.path.join(OUT, name, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write("\n")
        print("make_variants:", name)


if __name__ == "__main__":
    main()
