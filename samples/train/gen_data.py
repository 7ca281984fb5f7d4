"""gen_data.py - synthetic "shapes" scenes with captions and VQA questions.

Each scene: one to four shapes (circle, square, triangle, star, cross) in six colours and two
sizes, each in its own cell of a 3x3 layout grid (so every position has a name), on a plain or
textured background, at a random size and aspect ratio (64..128 px on the long side, at least 48, 1:2..2:1), so the
anyres tiling of the model takes 1x1, 2x1, 1x2 and 2x2 grids.

Questions per scene (balanced): open (colour, shape, count, position), yes/no (half yes),
multiple choice (A-D, correct letter uniform), caption. Written in the native benchmark-folder
format of spec/benchmarks.md sec 3 (questions.jsonl + images/).

  /usr/bin/python3 gen_data.py --seed 7 --count 120 --out DIR [--per-image 3]

Deterministic for a seed (random.Random only; PIL drawing is deterministic).
"""
import argparse
import json
import math
import os
import random

from PIL import Image, ImageDraw

SHAPES = ["circle", "square", "triangle", "star", "cross"]
COLORS = {"red": (220, 30, 30), "green": (30, 170, 50), "blue": (30, 60, 220),
          "yellow": (240, 210, 20), "purple": (140, 40, 170), "orange": (245, 130, 20)}
COLOR_NAMES = list(COLORS)
SIZES = ["small", "large"]
# cell (row, col) of the 3x3 layout -> position name
POS_NAMES = {(0, 0): "top left", (0, 1): "top middle", (0, 2): "top right",
             (1, 0): "middle left", (1, 1): "center", (1, 2): "middle right",
             (2, 0): "bottom left", (2, 1): "bottom middle", (2, 2): "bottom right"}
POSITIONS = [POS_NAMES[k] for k in sorted(POS_NAMES)]
NUM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
ASPECTS = [(1, 1), (1, 1), (4, 3), (3, 4), (3, 2), (2, 3), (2, 1), (1, 2)]
# plain backgrounds chosen to stay distinguishable from every shape colour
BACKGROUNDS = {"white": (250, 250, 250), "light gray": (200, 200, 200),
               "dark gray": (70, 70, 70), "black": (15, 15, 15), "cream": (245, 235, 205)}
TEXTURES = ["plain", "striped", "checkered", "noisy"]
SUPERSAMPLE = 4
TYPES = ("open", "yesno", "mc", "caption")

# benchmark templates of spec/benchmarks.md sec 3 (the runner's defaults), used by training
TEMPLATE_SUFFIX = "\nAnswer the question using a single word or phrase."
MC_SUFFIX = "\nAnswer with the option's letter from the given choices directly."
CAPTION_PROMPT = "Provide a one-sentence caption for the provided image."


def user_text(q, no_think=True):
    """The user turn the benchmark runner builds from a questions.jsonl line (benchmarks.md
    sec 3 default templates + the LLaDA-V ' /no_think' marker). '<image>\\n' is added later by
    the chat layer."""
    t = q["type"]
    if t == "mc":
        s = q["question"] + "\n" + "\n".join("%s. %s" % ("ABCD"[i], c)
                                             for i, c in enumerate(q["choices"])) + MC_SUFFIX
    elif t == "caption":
        s = CAPTION_PROMPT
    else:
        s = q["question"] + TEMPLATE_SUFFIX
    return s + (" /no_think" if no_think else "")


# ------------------------------------------------------------------------------------------
# scenes
# ------------------------------------------------------------------------------------------

def make_scene(rng, n_shapes=None):
    """Returns a dict: size (W, H), background, texture, shapes [{shape, color, size, cell,
    pos, center, radius}] sorted row-major by cell. Each (colour, shape) pair is unique."""
    aw, ah = rng.choice(ASPECTS)
    long_side = rng.randint(64, 128)
    if aw >= ah:
        W, H = long_side, max(48, round(long_side * ah / aw))
    else:
        H, W = long_side, max(48, round(long_side * aw / ah))
    n = n_shapes if n_shapes is not None else rng.choice([1, 1, 2, 2, 3, 3, 4])
    cells = rng.sample(sorted(POS_NAMES), n)
    pairs = set()
    shapes = []
    for cell in cells:
        while True:
            kind, col = rng.choice(SHAPES), rng.choice(COLOR_NAMES)
            if (kind, col) not in pairs:
                pairs.add((kind, col))
                break
        size = rng.choice(SIZES)
        cw, ch = W / 3.0, H / 3.0
        r = min(cw, ch) * (0.47 if size == "large" else 0.32)
        jx = (cw / 2 - r) * rng.uniform(-0.8, 0.8)
        jy = (ch / 2 - r) * rng.uniform(-0.8, 0.8)
        cx = (cell[1] + 0.5) * cw + jx
        cy = (cell[0] + 0.5) * ch + jy
        shapes.append({"shape": kind, "color": col, "size": size, "cell": list(cell),
                       "pos": POS_NAMES[cell], "center": [cx, cy], "radius": r,
                       "rot": rng.uniform(-0.25, 0.25),
                       "rgb": [max(0, min(255, c + rng.randint(-20, 20))) for c in COLORS[col]]})
    shapes.sort(key=lambda s: (s["cell"][0], s["cell"][1]))
    bg = rng.choice(sorted(BACKGROUNDS))
    return {"size": [W, H], "background": bg, "texture": rng.choice(TEXTURES), "shapes": shapes,
            "tex_seed": rng.randint(0, 2 ** 31 - 1)}


def _polygon(kind, cx, cy, r, rot):
    if kind == "square":
        a = r * 0.85
        pts = [(-a, -a), (a, -a), (a, a), (-a, a)]
    elif kind == "triangle":
        pts = [(r * math.cos(rot0), r * math.sin(rot0)) for rot0 in
               (-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3))]
        pts = [(x, y + r * 0.15) for x, y in pts]
    elif kind == "star":
        pts = []
        for k in range(10):
            rr = r if k % 2 == 0 else r * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((rr * math.cos(a), rr * math.sin(a)))
    elif kind == "cross":
        a, b = r, r * 0.34
        pts = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b),
               (-a, b), (-a, -b), (-b, -b)]
    else:
        raise ValueError(kind)
    c, s = math.cos(rot), math.sin(rot)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def render(scene):
    """PIL RGB image of the scene (drawn at 4x and reduced with a box filter: smooth edges)."""
    W, H = scene["size"]
    k = SUPERSAMPLE
    base = BACKGROUNDS[scene["background"]]
    img = Image.new("RGB", (W * k, H * k), base)
    d = ImageDraw.Draw(img)
    trng = random.Random(scene["tex_seed"])
    alt = tuple(max(0, min(255, c + (40 if sum(base) < 384 else -40))) for c in base)
    tex = scene["texture"]
    if tex == "striped":
        step = trng.randint(3, 8) * k
        vertical = trng.random() < 0.5
        for i in range(0, (W if vertical else H) * k, 2 * step):
            box = (i, 0, i + step - 1, H * k) if vertical else (0, i, W * k, i + step - 1)
            d.rectangle(box, fill=alt)
    elif tex == "checkered":
        step = trng.randint(4, 10) * k
        for y in range(0, H * k, step):
            for x in range(0, W * k, step):
                if ((x // step) + (y // step)) % 2:
                    d.rectangle((x, y, x + step - 1, y + step - 1), fill=alt)
    elif tex == "noisy":
        for _ in range(W * H // 6):
            x, y = trng.randrange(W) * k, trng.randrange(H) * k
            v = trng.randint(-35, 35)
            d.rectangle((x, y, x + k - 1, y + k - 1),
                        fill=tuple(max(0, min(255, c + v)) for c in base))
    for s in scene["shapes"]:
        cx, cy, r = s["center"][0] * k, s["center"][1] * k, s["radius"] * k
        col = tuple(s["rgb"])
        if s["shape"] == "circle":
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=col)
        else:
            d.polygon(_polygon(s["shape"], cx, cy, r, s["rot"]), fill=col)
    return img.resize((W, H), Image.BOX)


def blank_like(scene):
    """The scene's background (texture included) without any shape: for the sanity check."""
    s = dict(scene)
    s["shapes"] = []
    return render(s)


# ------------------------------------------------------------------------------------------
# texts
# ------------------------------------------------------------------------------------------

def art(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def _join(items):
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def caption(scene):
    """One sentence, shapes in row-major order of their cells."""
    sh = scene["shapes"]
    n = len(sh)
    parts = ["%s %s %s at the %s" % (art(s["size"]), s["color"], s["shape"], s["pos"]) for s in sh]
    head = "One shape" if n == 1 else "%s shapes" % NUM_WORDS[n].capitalize()
    tex = "" if scene["texture"] == "plain" else " " + scene["texture"]
    return "%s on %s%s background: %s." % (head, art(scene["background"]), tex, _join(parts))


def _plural(kind):
    return {"cross": "crosses"}.get(kind, kind + "s")


def _mc(rng, question, correct, pool, category):
    """Multiple choice with the correct option at a uniform letter."""
    others = [p for p in pool if p != correct]
    rng.shuffle(others)
    opts = others[:3]
    k = rng.randrange(4)
    opts.insert(k, correct)
    return {"type": "mc", "question": question, "choices": opts, "answer": "ABCD"[k],
            "category": category}


def questions(rng, scene):
    """All question candidates of a scene, grouped by type: {type: [question dicts]}."""
    sh = scene["shapes"]
    n = len(sh)
    kinds = [s["shape"] for s in sh]
    cols = [s["color"] for s in sh]
    uniq_kind = [s for s in sh if kinds.count(s["shape"]) == 1]
    uniq_col = [s for s in sh if cols.count(s["color"]) == 1]
    out = {"open": [], "yesno": [], "mc": [], "caption": []}

    def ans(a, alts=()):
        return {"answer": a, "answers": [a] + list(alts)}

    # ---- open
    for s in uniq_kind:
        out["open"].append(dict(type="open", category="color",
                                question="What color is the %s?" % s["shape"], **ans(s["color"])))
    for s in sh:
        out["open"].append(dict(type="open", category="color",
                                question="What color is the shape at the %s?" % s["pos"],
                                **ans(s["color"])))
        out["open"].append(dict(type="open", category="shape",
                                question="What shape is at the %s?" % s["pos"], **ans(s["shape"])))
    for s in uniq_col:
        out["open"].append(dict(type="open", category="shape",
                                question="What shape is %s?" % s["color"], **ans(s["shape"])))
    out["open"].append(dict(type="open", category="count", question="How many shapes are there?",
                            **ans(str(n), [NUM_WORDS[n]])))
    k = rng.choice(SHAPES)
    c = kinds.count(k)
    out["open"].append(dict(type="open", category="count",
                            question="How many %s are there?" % _plural(k),
                            **ans(str(c), [NUM_WORDS.get(c, "zero")])))
    col = rng.choice(COLOR_NAMES)
    c = cols.count(col)
    out["open"].append(dict(type="open", category="count",
                            question="How many %s shapes are there?" % col,
                            **ans(str(c), [NUM_WORDS.get(c, "zero")])))
    for s in sh:
        out["open"].append(dict(type="open", category="position",
                                question="Where is the %s %s?" % (s["color"], s["shape"]),
                                **ans(s["pos"])))

    # ---- yes/no: equal numbers of yes and no candidates
    yes, no = [], []
    present = {(s["color"], s["shape"]) for s in sh}
    s = rng.choice(sh)
    yes.append(("Is there %s %s?" % (art(s["color"]), s["shape"]), "existence"))
    while True:
        pc = (rng.choice(COLOR_NAMES), rng.choice(SHAPES))
        if pc not in present:
            break
    # half the absent pairs share the shape or the colour of a present one (harder negatives)
    if rng.random() < 0.5:
        t = rng.choice(sh)
        pc = (rng.choice([c_ for c_ in COLOR_NAMES if (c_, t["shape"]) not in present]), t["shape"])
    no.append(("Is there %s %s?" % (art(pc[0]), pc[1]), "existence"))
    k = rng.choice(kinds)
    yes.append(("Is there %s in the image?" % art(k), "existence"))
    absent = [x for x in SHAPES if x not in kinds]
    if absent:
        no.append(("Is there %s in the image?" % art(rng.choice(absent)), "existence"))
    if uniq_kind:
        s = rng.choice(uniq_kind)
        yes.append(("Is the %s %s?" % (s["shape"], s["color"]), "color"))
        no.append(("Is the %s %s?" % (s["shape"], rng.choice([c_ for c_ in COLOR_NAMES
                                                               if c_ != s["color"]])), "color"))
    yes.append(("Are there %d shapes?" % n, "count"))
    no.append(("Are there %d shapes?" % rng.choice([m for m in (1, 2, 3, 4) if m != n]), "count"))
    s = rng.choice(sh)
    yes.append(("Is the %s %s at the %s?" % (s["color"], s["shape"], s["pos"]), "position"))
    no.append(("Is the %s %s at the %s?" % (s["color"], s["shape"],
                                            rng.choice([p for p in POSITIONS if p != s["pos"]])),
               "position"))
    for qs, a in ((yes, "yes"), (no, "no")):
        for q, cat in qs:
            out["yesno"].append(dict(type="yesno", category=cat, question=q, **ans(a)))

    # ---- multiple choice
    for s in uniq_kind:
        out["mc"].append(_mc(rng, "What color is the %s?" % s["shape"], s["color"], COLOR_NAMES,
                             "color"))
    for s in sh:
        out["mc"].append(_mc(rng, "What shape is at the %s?" % s["pos"], s["shape"], SHAPES,
                             "shape"))
        out["mc"].append(_mc(rng, "Where is the %s %s?" % (s["color"], s["shape"]), s["pos"],
                             POSITIONS, "position"))
    out["mc"].append(_mc(rng, "How many shapes are there?", str(n), ["1", "2", "3", "4", "5"],
                         "count"))

    # ---- caption
    cap = caption(scene)
    out["caption"].append({"type": "caption", "category": "caption", "question": CAPTION_PROMPT,
                           "answer": cap, "answers": [cap]})
    return out


def pick_questions(rng, scene, per_type):
    """per_type[t] questions of type t for one image; yes/no alternate yes and no (so two yes/no
    questions of an image are an MME-style pair with opposite answers)."""
    cand = questions(rng, scene)
    chosen = []
    for t in TYPES:
        pool = cand[t]
        if t == "yesno":
            ys = [q for q in pool if q["answer"] == "yes"]
            ns = [q for q in pool if q["answer"] == "no"]
            rng.shuffle(ys)
            rng.shuffle(ns)
            start = rng.randrange(2)
            sel = []
            for i in range(per_type[t]):
                src = (ys, ns)[(i + start) % 2]
                if src:
                    sel.append(src.pop())
            chosen += sel
        else:
            chosen += rng.sample(pool, min(per_type[t], len(pool)))
    return chosen


def write_benchmark(out, seed, count, per_type, name=None):
    """A benchmark folder: images/NNNN.png + questions.jsonl + benchmark.json. The yes/no
    questions of one image share a `group` (acc+ as in MME); no other type uses groups."""
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    lines = []
    for i in range(count):
        scene = make_scene(rng)
        img_rel = "images/%04d.png" % i
        render(scene).save(os.path.join(out, img_rel), optimize=True)
        qs = pick_questions(rng, scene, per_type)
        for j, q in enumerate(qs):
            rec = {"id": "%04d-%d" % (i, j), "image": img_rel, "question": q["question"],
                   "type": q["type"], "answer": q["answer"], "category": q["category"]}
            if q["type"] == "yesno":
                rec["group"] = "%04d" % i
            if q["type"] == "mc":
                rec["choices"] = q["choices"]
            elif len(q.get("answers", [])) > 1 or q["type"] == "caption":
                rec["answers"] = q["answers"]
            lines.append(rec)
    with open(os.path.join(out, "questions.jsonl"), "w", encoding="utf-8") as f:
        for rec in lines:
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    with open(os.path.join(out, "benchmark.json"), "w", encoding="utf-8") as f:
        json.dump({"name": name or "shapes-seed%d" % seed, "version": 1,
                   "generator": "samples/train/gen_data.py --seed %d --count %d --per-type %s"
                   % (seed, count, ",".join(str(per_type[t]) for t in TYPES))},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True, help="number of images")
    ap.add_argument("--per-type", default="2,2,1,1",
                    help="questions per image of the types open,yesno,mc,caption")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    a = ap.parse_args()
    per = dict(zip(TYPES, (int(x) for x in a.per_type.split(","))))
    lines = write_benchmark(a.out, a.seed, a.count, per, a.name)
    print("%d questions over %d images -> %s" % (len(lines), a.count, a.out))


if __name__ == "__main__":
    main()
