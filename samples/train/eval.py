"""eval.py - accuracy of a model directory on a native benchmark folder, computed with the fp32
PyTorch reference (tests/reference/lladav_ref.py): its image path, prompt, tokenizer_image_token
and generate_with_embeds (greedy, low_confidence remasking, <|eot_id|> stop).

Prompts and generation settings are the benchmark runner defaults of spec/benchmarks.md sec 3:
user turn "<image>\\n" + template(question) + " /no_think"; yesno/mc gen 2 block 2 steps 2;
open 16/16/16 with "\\n" as an extra stop; caption 64/64/32. Output: decode without special
tokens, drop one trailing ".", strip.

Scoring: yesno = answer word, mc = option letter, open = normalised exact match against any of
`answers`, caption = exact match and word F1 against the reference caption.

  /usr/bin/python3 eval.py --model ../models/shapes-v4 --bench ../bench [--blank] [--limit N]
      [--predictions FILE]

--blank replaces every image by a plain image of its corner (background) colour: the colour
questions should fall to chance (sanity check that answers come from the image).
"""
import argparse
import collections
import json
import os
import re
import tempfile
import time

import torch
from PIL import Image

import common as C
import gen_data as G

R = C.R
GEN = {"yesno": (2, 2, 2), "mc": (2, 2, 2), "open": (16, 16, 16), "caption": (64, 64, 32)}


def norm(s):
    s = s.strip().lower()
    if s.endswith("."):
        s = s[:-1]
    return re.sub(r"\s+", " ", s).strip()


def mc_letter(s):
    s = s.strip()
    if len(s) == 1 and s.upper() in "ABCD":
        return s.upper()
    m = re.findall(r"\b([A-D])\b", s.replace(".", " ").replace("(", " ").replace(")", " "))
    return m[0] if len(set(m)) == 1 else None


def word_f1(pred, ref):
    p, r = norm(pred).replace(",", " ").split(), norm(ref).replace(",", " ").split()
    if not p or not r:
        return 0.0
    common = sum((collections.Counter(p) & collections.Counter(r)).values())
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(r)
    return 2 * prec * rec / (prec + rec)


def score(q, out):
    t = q["type"]
    if t == "yesno":
        w = norm(out).split()
        return bool(w) and w[0].strip(",") == q["answer"]
    if t == "mc":
        return mc_letter(out) == q["answer"]
    golds = q.get("answers") or [q["answer"]]
    if t == "open":
        return norm(out) in {norm(g) for g in golds}
    return norm(out) == norm(golds[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--types", default="yesno,mc,open,caption")
    ap.add_argument("--blank", action="store_true")
    ap.add_argument("--categories", default="", help="comma list, e.g. color (default all)")
    ap.add_argument("--threads", type=int, default=1,
                    help="1: batch-1 forwards are tiny, and OpenMP threads on a busy machine "
                         "cost more than they give")
    ap.add_argument("--predictions")
    ap.add_argument("--summary")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    with open(os.path.join(a.bench, "questions.jsonl"), encoding="utf-8") as f:
        qs = [json.loads(l) for l in f if l.strip()]
    qs = [q for q in qs if q["type"] in a.types.split(",")]
    if a.categories:
        qs = [q for q in qs if q["category"] in a.categories.split(",")]
    if a.limit:
        qs = qs[:a.limit]
    pl = R.Pipeline(a.model)
    ctok = C.CachedTokenizer(pl.tok)
    texts = [G.user_text(q) for q in qs]
    ctok.fill([c for t in texts for c in C.prompt_chunks(t)], True)
    nl = ctok.encode("\n", False)
    stops = [pl.cfg.eot_id] + (nl if len(nl) == 1 else [])
    img_cache = {}
    tmpdir = tempfile.mkdtemp(prefix="shapes-eval-")
    resp = []
    with torch.no_grad():
        for q, text in zip(qs, texts):
            path = os.path.join(a.bench, q["image"])
            if path not in img_cache:
                if a.blank:
                    im = R.load_image(path)
                    bl = Image.new("RGB", im.size, im.getpixel((0, 0)))
                    path2 = os.path.join(tmpdir, "blank.png")
                    bl.save(path2)
                    img_cache = {path: pl.encode_image(path2)["image_embeds"]}
                else:
                    img_cache = {path: pl.encode_image(path)["image_embeds"]}
            ids = C.prompt_ids(ctok, text, pl.cfg.bos_id)
            E = pl.prompt_embeds(ids, img_cache[path])
            gl, bl_, st = GEN[q["type"]]
            out, _, _ = R.generate_with_embeds(pl.llm, E, st, gl, bl_, 0.0, 0.0, "low_confidence",
                                               None, stop_ids=stops if q["type"] == "open" else None)
            resp.append(out)
    texts_out = pl.tok.decode_many(resp, skip=True)
    by_type = collections.defaultdict(lambda: [0, 0])
    by_cat = collections.defaultdict(lambda: [0, 0])
    f1 = []
    preds = []
    for q, o in zip(qs, texts_out):
        o2 = o.strip()
        if o2.endswith("."):
            o2 = o2[:-1]
        o2 = o2.strip()
        ok = score(q, o2)
        by_type[q["type"]][0] += ok
        by_type[q["type"]][1] += 1
        by_cat["%s/%s" % (q["type"], q["category"])][0] += ok
        by_cat["%s/%s" % (q["type"], q["category"])][1] += 1
        if q["type"] == "caption":
            f1.append(word_f1(o2, q["answer"]))
        preds.append({"id": q["id"], "type": q["type"], "category": q["category"],
                      "question": q["question"], "gold": q["answer"], "output": o, "correct": bool(ok)})
    summ = {"model": os.path.normpath(a.model), "bench": os.path.normpath(a.bench), "blank": a.blank,
            "n": len(qs), "seconds": round(time.time() - t0, 1),
            "accuracy": {t: round(100.0 * c / n, 2) for t, (c, n) in sorted(by_type.items())},
            "counts": {t: [c, n] for t, (c, n) in sorted(by_type.items())},
            "by_category": {k: [c, n, round(100.0 * c / n, 1)] for k, (c, n) in sorted(by_cat.items())}}
    if f1:
        summ["caption_word_f1"] = round(100.0 * sum(f1) / len(f1), 2)
    if a.predictions:
        with open(a.predictions, "w", encoding="utf-8") as f:
            for p in preds:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
    js = json.dumps(summ, indent=1)
    if a.summary:
        with open(a.summary, "w") as f:
            f.write(js + "\n")
    print(js)


if __name__ == "__main__":
    main()
