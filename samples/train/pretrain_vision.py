"""pretrain_vision.py - stage 1: pretrain the SigLIP-style tower alone (the analogue of the
separately pretrained SigLIP that LLaDA-V starts from).

The tower (exactly the reference `siglip_forward`, i.e. every layer the checkpoint holds, no
post-layernorm: the features the projector sees at inference) is trained with a temporary
linear head, discarded afterwards, on dense targets known from the generator's scene
description. Scenes are generated online (a fresh batch of scenes every step) and cut into the
anyres views of the reference `image_views`; for every patch of every view the targets are

  * colour class of the shape covering the patch (0 = background / padding, 1..6 colours),
  * on patches a shape covers: its kind (5), its layout cell (9, the 3x3 position names of
    gen_data; base view only, a crop cannot know where it lies), its size (2), the number of
    shapes of its colour and of its kind (1..4: what "How many red shapes" needs),

decided by 16 sample points per patch mapped back to the image (a shape wins when it covers
at least 3 of them), and per base view (the squashed full image) from the mean-pooled tokens:
the number of shapes (1..4), the presence of every colour and every shape kind, the background
colour and texture. Every per-token term is a mean over its own valid patches (a shape term
averaged over all patches, ~85 % background, was too weak to be learnt at all).

Curriculum of the third attempt (samples/train/README.md): shape alone first, then all terms:

  /usr/bin/python3 pretrain_vision.py --image 96 --patch 16 --pos-amp 0.3 --lv 4 --lr 1e-3 \
      --clip 1000 --skip color,cell,size,ncolor,nshape --glob-weight 0 --feat-reg 0 \
      --minutes 5 --flat 0.99 --out /tmp/v2/sE1.pt
  /usr/bin/python3 pretrain_vision.py --image 96 --patch 16 --pos-amp 0.3 --lv 4 --lr 1e-3 \
      --clip 1000 --shape-weight 3 --minutes 4.5 --flat 0.7 --warmup 20 \
      --resume /tmp/v2/sE1.pt --out /tmp/v2/sE2.pt

Output: a torch file with the tower weights (checkpoint names), the head, the arguments and
the probe accuracies on held-out scenes (seed --seed + 1).
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

import common as C
import gen_data as G

R = C.R
PRE = "model.vision_tower.vision_tower.vision_model."
N_COL = 1 + len(G.COLOR_NAMES)    # colour classes incl. 0 = background


def label_map(scene):
    """uint8 [H*k, W*k]: 0 background, i+1 = scene['shapes'][i] (drawn as render() draws)."""
    W, H = scene["size"]
    k = G.SUPERSAMPLE
    img = Image.new("L", (W * k, H * k), 0)
    d = ImageDraw.Draw(img)
    for i, s in enumerate(scene["shapes"]):
        cx, cy, r = s["center"][0] * k, s["center"][1] * k, s["radius"] * k
        if s["shape"] == "circle":
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=i + 1)
        else:
            d.polygon(G._polygon(s["shape"], cx, cy, r, s["rot"]), fill=i + 1)
    return np.asarray(img)


class ViewCfg:
    """The few Config fields image_views needs (anyres_max_2 over (1x1)..(2x2), views 48)."""

    def __init__(self, S=48, aspect="anyres_max_2", pinpoints="(1x1),...,(2x2)"):
        self.v_image = S
        self.aspect = aspect
        self.pinpoints = R.parse_pinpoints(pinpoints, S)


MIN_HITS = 3     # --min-hits; 3 suits 8/16-pixel patches, leaves 19 % of shapes out at 32 (check_targets.py)
#                  and 1 labels kinds from slivers (README, shapes-v2): neither is right at 32
CENTRES = False  # --centres: also label each shape on the patch holding its centre, in every view
#                  that shows the centre: every shape a target (check_targets.py: 0 % missing at
#                  patch 32), and never from a sliver


def patch_targets(scene, info, S, p):
    """[n_views, g*g, 6] int arrays, per patch: colour class (0 = background / padding), then,
    on patches a shape covers (else -100): shape class, layout cell (base view only: a crop
    cannot know where it lies), size (0 small, 1 large), number of shapes of the same colour
    minus 1, number of shapes of the same kind minus 1 (object-level facts the LLM reads off
    one token of the object: "How many red shapes are there?")."""
    W, H = scene["size"]
    k = G.SUPERSAMPLE
    lm = label_map(scene)
    g = S // p
    # 4x4 sample points per patch, view coordinates
    off = (np.arange(4) + 0.5) * p / 4
    pu = (np.arange(g)[:, None] * p + off[None, :]).reshape(-1)      # g*4 coords
    U = np.broadcast_to(pu[None, :], (g * 4, g * 4))                  # x
    V = np.broadcast_to(pu[:, None], (g * 4, g * 4))                  # y
    sh = scene["shapes"]
    cen = np.array([s["center"] for s in sh], dtype=np.float64).reshape(-1, 2)   # scene coords
    coords, centre_uv = [], []
    coords.append((U * W / S, V * H / S, np.ones_like(U, dtype=bool)))   # base view (squashed)
    centre_uv.append(cen * [S / W, S / H])
    wc, hc = info["best"]
    nw, nh = info["content"]
    x0, y0 = info["offset"]
    for cy in range(0, hc, S):
        for cx in range(0, wc, S):
            X, Y = cx + U - x0, cy + V - y0
            ok = (X >= 0) & (X < nw) & (Y >= 0) & (Y < nh)
            coords.append((X * W / nw, Y * H / nh, ok))
            centre_uv.append(cen * [nw / W, nh / H] + [x0 - cx, y0 - cy])
    cols = [s["color"] for s in sh]
    kinds = [s["shape"] for s in sh]
    N = -100
    col = np.array([0] + [1 + G.COLOR_NAMES.index(c) for c in cols])
    kind = np.array([N] + [G.SHAPES.index(x) for x in kinds])
    cell = np.array([N] + [3 * s["cell"][0] + s["cell"][1] for s in sh])
    size = np.array([N] + [G.SIZES.index(s["size"]) for s in sh])
    ncol = np.array([N] + [cols.count(c) - 1 for c in cols])
    nkind = np.array([N] + [kinds.count(x) - 1 for x in kinds])
    out = []
    for vi, (x, y, ok) in enumerate(coords):
        xi = np.clip((x * k).astype(np.int64), 0, W * k - 1)
        yi = np.clip((y * k).astype(np.int64), 0, H * k - 1)
        lab = np.where(ok, lm[yi, xi], 0)                                # [g*4, g*4]
        lab = lab.reshape(g, 4, g, 4).transpose(0, 2, 1, 3).reshape(g * g, 16)
        cnt = np.stack([(lab == i).sum(1) for i in range(len(sh) + 1)], 1)   # [P, n+1]
        cnt[:, 0] = 0
        best = cnt.argmax(1)
        best = np.where(cnt.max(1) >= MIN_HITS, best, 0)
        if CENTRES:
            for i, (u, v) in enumerate(centre_uv[vi]):
                if 0 <= u < S and 0 <= v < S:
                    best[int(v // p) * g + int(u // p)] = i + 1
        ce = cell[best] if vi == 0 else np.full(len(best), N)
        out.append(np.stack([col[best], kind[best], ce, size[best], ncol[best], nkind[best]], 1))
    return np.stack(out, 0)                                             # [n_views, P, 6]


BGS = sorted(G.BACKGROUNDS)
N_GLOB = 4 + len(G.COLOR_NAMES) + len(G.SHAPES) + len(BGS) + len(G.TEXTURES)


def scene_globals(scene):
    """[1 + 6 + 5 + 2]: number of shapes - 1, presence of every colour and kind, background
    class, texture class (the caption's first words)."""
    sh = scene["shapes"]
    y = np.zeros(1 + len(G.COLOR_NAMES) + len(G.SHAPES) + 2, dtype=np.float32)
    y[0] = len(sh) - 1
    for s in sh:
        y[1 + G.COLOR_NAMES.index(s["color"])] = 1
        y[1 + len(G.COLOR_NAMES) + G.SHAPES.index(s["shape"])] = 1
    y[-2] = BGS.index(scene["background"])
    y[-1] = G.TEXTURES.index(scene["texture"])
    return y


def make_batch(rng, vc, n, p):
    views, tg, glob, first = [], [], [], []
    for _ in range(n):
        sc = G.make_scene(rng)
        v, info = R.image_views(G.render(sc), vc)
        first.append(sum(x.shape[0] for x in views))
        views.append(v)
        tg.append(patch_targets(sc, info, vc.v_image, p))
        glob.append(scene_globals(sc))
    return (torch.from_numpy(np.concatenate(views)), torch.from_numpy(np.concatenate(tg)),
            torch.from_numpy(np.stack(glob)), torch.tensor(first))


def sincos_pos(g, dv, amp):
    """[g*g, dv] 2-D sine-cosine table (half the channels for x, half for y), amplitude amp:
    an initialisation of the learned position embeddings that makes nearby patches similar,
    so attention can be local from the first step (a tower from scratch on few images is slow
    to discover locality from random position vectors)."""
    q = dv // 4
    om = 1.0 / (10000 ** (torch.arange(q, dtype=torch.float32) / q))
    ys, xs = torch.meshgrid(torch.arange(g, dtype=torch.float32),
                            torch.arange(g, dtype=torch.float32), indexing="ij")
    ax = xs.reshape(-1, 1) * om
    ay = ys.reshape(-1, 1) * om
    pe = torch.cat([ax.sin(), ax.cos(), ay.sin(), ay.cos()], 1)
    return amp * torch.nn.functional.pad(pe, (0, dv - 4 * q))


def init_tower(dv, lv, fv, S, p, seed, qk_std=0.02, pos_amp=0.0):
    g = torch.Generator().manual_seed(seed)

    def n(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std
    pos = n((S // p) ** 2, dv)
    if pos_amp > 0:
        pos = pos + sincos_pos(S // p, dv, pos_amp)
    W = {PRE + "embeddings.patch_embedding.weight": n(dv, 3, p, p),
         PRE + "embeddings.patch_embedding.bias": torch.zeros(dv),
         PRE + "embeddings.position_embedding.weight": pos}
    vres = 0.02 / math.sqrt(2 * lv)
    for i in range(lv):
        q = PRE + "encoder.layers.%d." % i
        for nm in ("layer_norm1", "layer_norm2"):
            W[q + nm + ".weight"] = torch.ones(dv)
            W[q + nm + ".bias"] = torch.zeros(dv)
        for nm in ("q_proj", "k_proj", "v_proj", "out_proj"):
            W[q + "self_attn.%s.weight" % nm] = n(dv, dv, std=vres if nm == "out_proj" else
                                                  qk_std if nm in ("q_proj", "k_proj") else 0.02)
            W[q + "self_attn.%s.bias" % nm] = torch.zeros(dv)
        W[q + "mlp.fc1.weight"] = n(fv, dv)
        W[q + "mlp.fc1.bias"] = torch.zeros(fv)
        W[q + "mlp.fc2.weight"] = n(dv, fv, std=vres)
        W[q + "mlp.fc2.bias"] = torch.zeros(dv)
    W[PRE + "post_layernorm.weight"] = torch.ones(dv)    # exported, never applied
    W[PRE + "post_layernorm.bias"] = torch.zeros(dv)
    return W


class TowerCfg:
    def __init__(self, a):
        self.v_hidden, self.v_heads, self.v_image, self.v_patch = a.dv, a.dv // 24, a.image, a.patch
        self.v_eps, self.v_act, self.v_layers = 1e-6, "gelu_pytorch_tanh", a.lv


# per-token head: colour (7), shape (5), cell (9), size (2), same-colour count (4), same-kind
# count (4); per-scene head on the mean base-view token: count (4), presence (11), bg, texture
TOK_SPLITS = [N_COL, len(G.SHAPES), 9, len(G.SIZES), 4, 4]


def init_head(dv, seed):
    g = torch.Generator().manual_seed(seed)
    nt = sum(TOK_SPLITS)
    return {"tok.weight": torch.randn(nt, dv, generator=g) * 0.02,
            "tok.bias": torch.zeros(nt),
            "glob.weight": torch.randn(N_GLOB, dv, generator=g) * 0.02,
            "glob.bias": torch.zeros(N_GLOB)}


AUX_NAMES = ["color", "shape", "cell", "size", "ncolor", "nshape"]


def aux_loss(Hd, feats, tg, glob, first, shape_w=1.0, glob_w=1.0, skip=()):
    """feats [n_views, P, Dv] (siglip_forward output); tg [n_views, P, 6] long (-100 = no
    target); glob [B, 14]; first [B] index of each scene's base view. Every per-token term is a
    mean over its own valid patches (a shape term averaged over all patches, mostly background,
    was too weak to be learnt at all). Returns (loss, accuracies dict)."""
    lt = feats @ Hd["tok.weight"].T + Hd["tok.bias"]
    parts = torch.split(lt, TOK_SPLITS, -1)
    tg = tg.long()
    ce = torch.nn.functional.cross_entropy
    loss = 0.0
    acc = {}
    for i, (lg, nm) in enumerate(zip(parts, AUX_NAMES)):
        t = tg[..., i].reshape(-1)
        ok = t >= 0
        if not ok.any() or nm in skip:
            continue
        lgf = lg.reshape(-1, lg.shape[-1])[ok]
        loss = loss + (shape_w if nm in ("shape", "size") else 1.0) * ce(lgf, t[ok])
        with torch.no_grad():
            good = lgf.argmax(-1) == t[ok]
            if nm == "color":
                fg = t[ok] > 0
                acc["color_fg"] = float(good[fg].float().mean()) if fg.any() else 0.0
            else:
                acc[nm] = float(good.float().mean())
    gb = feats[first].mean(1) @ Hd["glob.weight"].T + Hd["glob.bias"]
    nc, nk, nb = len(G.COLOR_NAMES), len(G.SHAPES), len(BGS)
    cnt = glob[:, 0].long()
    bg = glob[:, -2].long()
    tx = glob[:, -1].long()
    g_cnt, g_pr = gb[:, :4], gb[:, 4:4 + nc + nk]
    g_bg, g_tx = gb[:, 4 + nc + nk:4 + nc + nk + nb], gb[:, 4 + nc + nk + nb:]
    loss = loss + glob_w * (ce(g_cnt, cnt) + ce(g_bg, bg) + ce(g_tx, tx) + 4 *
                            torch.nn.functional.binary_cross_entropy_with_logits(
                                g_pr, glob[:, 1:1 + nc + nk]))
    with torch.no_grad():
        acc["count"] = float((g_cnt.argmax(-1) == cnt).float().mean())
        acc["presence"] = float(((g_pr > 0).float() == glob[:, 1:1 + nc + nk]).all(1).float().mean())
        acc["bg"] = float((g_bg.argmax(-1) == bg).float().mean())
        acc["texture"] = float((g_tx.argmax(-1) == tx).float().mean())
    return loss, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/stage1/vision.pt")
    ap.add_argument("--seed", type=int, default=3000)
    ap.add_argument("--dv", type=int, default=96)
    ap.add_argument("--lv", type=int, default=3)
    ap.add_argument("--image", type=int, default=48, help="view size (vision_config.image_size)")
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--min-hits", type=int, default=3,
                    help="of a patch's 4x4 sample points, how many must fall on a shape for the "
                         "patch to be labelled with it (at 32-pixel patches 3 leaves 19 %% of the "
                         "shapes out and 1 labels kinds from slivers: check_targets.py, README)")
    ap.add_argument("--centres", action="store_true",
                    help="also label every shape on the patch holding its centre in each view "
                         "(at 32-pixel patches: every shape a target; check_targets.py)")
    ap.add_argument("--pos-amp", type=float, default=0.0,
                    help="add a 2-D sine-cosine table of this amplitude to the position init")
    ap.add_argument("--batch", type=int, default=16, help="scenes per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=8)
    ap.add_argument("--feat-reg", type=float, default=1e-3,
                    help="weight of the mean square of the features (keeps their scale sane: "
                         "the architecture applies no post-layernorm)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shape-weight", type=float, default=1.0)
    ap.add_argument("--clip", type=float, default=5.0, help="gradient-norm clip")
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--flat", type=float, default=0.6, help="fraction of the run at the peak lr")
    ap.add_argument("--glob-weight", type=float, default=1.0, help="weight of the per-scene terms")
    ap.add_argument("--skip", default="", help="per-token terms left out, e.g. ncolor,nshape")
    ap.add_argument("--qk-std", type=float, default=0.02,
                    help="init std of q/k projections (larger: attention patterns form sooner)")
    ap.add_argument("--resume", help="continue from a stage-1 file (fresh schedule)")
    ap.add_argument("--probe", type=int, default=200, help="held-out scenes for the probe")
    a = ap.parse_args()
    global MIN_HITS, CENTRES
    MIN_HITS, CENTRES = a.min_hits, a.centres
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    vc = ViewCfg(a.image)
    tc = TowerCfg(a)
    W = init_tower(a.dv, a.lv, 4 * a.dv, a.image, a.patch, a.seed, a.qk_std, a.pos_amp)
    Hd = init_head(a.dv, a.seed + 1)
    prev = None
    if a.resume:
        prev = torch.load(a.resume)
        W = {k: v.clone() for k, v in prev["W"].items()}
        Hd = {k: v.clone() for k, v in prev["head"].items()}
        rng_off = prev["steps"]
    train = [v for k, v in sorted(W.items()) if "post_layernorm" not in k] + list(Hd.values())
    for t in train:
        t.requires_grad_()
    decay = [t for t in train if t.dim() >= 2]
    nodecay = [t for t in train if t.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": nodecay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, a.beta2))
    rng = random.Random(a.seed + (7919 * prev["steps"] if prev else 0))
    t0 = time.time()
    hist = []
    step = 0
    runs = []
    if prev:
        hist = list(prev["loss"])
        runs = prev.get("runs", [])
    while step < a.steps:
        f = max(step / a.steps, (time.time() - t0) / (a.minutes * 60))
        if f >= 1:
            break
        fc = max(0.0, (f - a.flat) / max(1e-9, 1 - a.flat))   # constant lr, then cosine to 5 %
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * fc)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        views, tg, glob, first = make_batch(rng, vc, a.batch, a.patch)
        feats = R.siglip_forward(W, tc, views)
        loss, acc = aux_loss(Hd, feats, tg, glob, first, a.shape_weight, a.glob_weight,
                             tuple(x for x in a.skip.split(",") if x))
        fsq = (feats ** 2).mean()
        tot = loss + a.feat_reg * fsq
        opt.zero_grad(set_to_none=True)
        tot.backward()
        torch.nn.utils.clip_grad_norm_(train, a.clip)
        opt.step()
        step += 1
        hist.append([step + (prev["steps"] if prev else 0), round(float(loss), 4)])
        if step % 25 == 0:
            print("%s step %d loss %.4f fsq %.2f lr %.2e %s %.0fs" % (
                time.strftime("%H:%M:%S", time.gmtime()), step, float(loss), float(fsq), lr,
                " ".join("%s=%.3f" % kv for kv in acc.items()), time.time() - t0), flush=True)
    train_s = time.time() - t0
    # probe on held-out scenes
    prng = random.Random(a.seed + 1)
    accs = []
    with torch.no_grad():
        for _ in range(max(1, a.probe // 20)):
            views, tg, glob, first = make_batch(prng, vc, 20, a.patch)
            feats = R.siglip_forward(W, tc, views)
            accs.append(aux_loss(Hd, feats, tg, glob, first)[1])
            fnorm = float(feats.norm(dim=-1).mean())
    probe = {k: round(float(np.mean([x[k] for x in accs])), 4) for k in accs[0]}
    probe["feature_norm"] = round(fnorm, 2)
    print("probe (held-out scenes, seed %d): %s" % (a.seed + 1, json.dumps(probe)), flush=True)
    runs = runs + [{"args": vars(a), "steps": step, "train_s": round(train_s, 1), "probe": probe}]
    torch.save({"W": {k: v.detach() for k, v in W.items()},
                "head": {k: v.detach() for k, v in Hd.items()},
                "args": vars(a), "steps": step + (prev["steps"] if prev else 0),
                "train_s": round(train_s + (prev["train_s"] if prev else 0), 1), "probe": probe,
                "loss": hist, "runs": runs}, a.out)
    print("saved %s (%d steps, %.1f min)" % (a.out, step, train_s / 60))


if __name__ == "__main__":
    main()
