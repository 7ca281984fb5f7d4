"""pretrain_vision.py - stage 1: pretrain the SigLIP-style tower alone (the analogue of the
separately pretrained SigLIP that LLaDA-V starts from).

The tower (exactly the reference `siglip_forward`, i.e. every layer the checkpoint holds, no
post-layernorm: the features the projector sees at inference) is trained with a temporary
linear head, discarded afterwards, on dense targets known from the generator's scene
description. Scenes are generated online (a fresh batch of scenes every step) and cut into the
anyres views of the reference `image_views`; for every patch of every view the targets are

  * colour class of the shape covering the patch (0 = background / padding, 1..6 colours),
  * shape class (0 = none, 1..5),
  * layout cell of that shape (0 = none, 1..9: the 3x3 position names of gen_data; base view
    only, a crop cannot know where it lies),

decided by 16 sample points per patch mapped back to the image (a shape wins when it covers
at least 3 of them), and per base view (the squashed full image) from the mean-pooled tokens:
the number of shapes (1..4) and the presence of every colour and every shape kind.

  /usr/bin/python3 pretrain_vision.py --minutes 8 --out /tmp/stage1/vision.pt

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
N_COL, N_SHP, N_CELL = 1 + len(G.COLOR_NAMES), 1 + len(G.SHAPES), 10


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


def patch_targets(scene, info, S, p, min_hits=3):
    """[n_views, g*g] arrays of colour / shape / cell class (see module docstring)."""
    W, H = scene["size"]
    k = G.SUPERSAMPLE
    lm = label_map(scene)
    g = S // p
    # 4x4 sample points per patch, view coordinates
    off = (np.arange(4) + 0.5) * p / 4
    pu = (np.arange(g)[:, None] * p + off[None, :]).reshape(-1)      # g*4 coords
    U = np.broadcast_to(pu[None, :], (g * 4, g * 4))                  # x
    V = np.broadcast_to(pu[:, None], (g * 4, g * 4))                  # y
    coords = []
    coords.append((U * W / S, V * H / S, np.ones_like(U, dtype=bool)))   # base view (squashed)
    wc, hc = info["best"]
    nw, nh = info["content"]
    x0, y0 = info["offset"]
    for cy in range(0, hc, S):
        for cx in range(0, wc, S):
            X, Y = cx + U - x0, cy + V - y0
            ok = (X >= 0) & (X < nw) & (Y >= 0) & (Y < nh)
            coords.append((X * W / nw, Y * H / nh, ok))
    sh = scene["shapes"]
    col = np.array([0] + [1 + G.COLOR_NAMES.index(s["color"]) for s in sh])
    kind = np.array([0] + [1 + G.SHAPES.index(s["shape"]) for s in sh])
    cell = np.array([0] + [1 + 3 * s["cell"][0] + s["cell"][1] for s in sh])
    out = []
    for vi, (x, y, ok) in enumerate(coords):
        xi = np.clip((x * k).astype(np.int64), 0, W * k - 1)
        yi = np.clip((y * k).astype(np.int64), 0, H * k - 1)
        lab = np.where(ok, lm[yi, xi], 0)                                # [g*4, g*4]
        lab = lab.reshape(g, 4, g, 4).transpose(0, 2, 1, 3).reshape(g * g, 16)
        cnt = np.stack([(lab == i).sum(1) for i in range(len(sh) + 1)], 1)   # [P, n+1]
        cnt[:, 0] = 0
        best = cnt.argmax(1)
        best = np.where(cnt.max(1) >= min_hits, best, 0)
        # a crop does not know where it lies in the image: layout cell targets on the base view
        ce = cell[best] if vi == 0 else np.full(len(best), -100)
        out.append(np.stack([col[best], kind[best], ce], 1))
    return np.stack(out, 0)                                             # [n_views, P, 3]


def scene_globals(scene):
    sh = scene["shapes"]
    y = np.zeros(1 + len(G.COLOR_NAMES) + len(G.SHAPES), dtype=np.float32)
    y[0] = len(sh) - 1
    for s in sh:
        y[1 + G.COLOR_NAMES.index(s["color"])] = 1
        y[1 + len(G.COLOR_NAMES) + G.SHAPES.index(s["shape"])] = 1
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


def init_tower(dv, lv, fv, S, p, seed, qk_std=0.02):
    g = torch.Generator().manual_seed(seed)

    def n(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std
    W = {PRE + "embeddings.patch_embedding.weight": n(dv, 3, p, p),
         PRE + "embeddings.patch_embedding.bias": torch.zeros(dv),
         PRE + "embeddings.position_embedding.weight": n((S // p) ** 2, dv)}
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
        self.v_hidden, self.v_heads, self.v_image, self.v_patch = a.dv, a.dv // 24, 48, 8
        self.v_eps, self.v_act, self.v_layers = 1e-6, "gelu_pytorch_tanh", a.lv


def init_head(dv, seed):
    g = torch.Generator().manual_seed(seed)
    return {"tok.weight": torch.randn(N_COL + N_SHP + N_CELL, dv, generator=g) * 0.02,
            "tok.bias": torch.zeros(N_COL + N_SHP + N_CELL),
            "glob.weight": torch.randn(4 + len(G.COLOR_NAMES) + len(G.SHAPES), dv, generator=g) * 0.02,
            "glob.bias": torch.zeros(4 + len(G.COLOR_NAMES) + len(G.SHAPES))}


def aux_loss(Hd, feats, tg, glob, first, shape_w=1.0):
    """feats [n_views, P, Dv] (siglip_forward output); tg [n_views, P, 3] long; glob [B, 16];
    first [B] index of each scene's base view. Returns (loss, accuracies dict)."""
    lt = feats @ Hd["tok.weight"].T + Hd["tok.bias"]
    lc, ls, lp = lt[..., :N_COL], lt[..., N_COL:N_COL + N_SHP], lt[..., N_COL + N_SHP:]
    tg = tg.long()
    ce = torch.nn.functional.cross_entropy
    loss = (ce(lc.reshape(-1, N_COL), tg[..., 0].reshape(-1)) +
            shape_w * ce(ls.reshape(-1, N_SHP), tg[..., 1].reshape(-1)) +
            ce(lp.reshape(-1, N_CELL), tg[..., 2].reshape(-1)))
    gb = feats[first].mean(1) @ Hd["glob.weight"].T + Hd["glob.bias"]
    cnt = glob[:, 0].long()
    loss = loss + ce(gb[:, :4], cnt) + torch.nn.functional.binary_cross_entropy_with_logits(
        gb[:, 4:], glob[:, 1:]) * 4
    with torch.no_grad():
        fg = tg[..., 0] > 0
        acc = {"color": float((lc.argmax(-1) == tg[..., 0]).float().mean()),
               "color_fg": float((lc.argmax(-1) == tg[..., 0])[fg].float().mean()) if fg.any() else 0.0,
               "shape_fg": float((ls.argmax(-1) == tg[..., 1])[fg].float().mean()) if fg.any() else 0.0,
               "cell_fg": float((lp.argmax(-1) == tg[..., 2])[fg & (tg[..., 2] >= 0)].float().mean()),
               "count": float((gb[:, :4].argmax(-1) == cnt).float().mean()),
               "presence": float(((gb[:, 4:] > 0).float() == glob[:, 1:]).all(1).float().mean())}
    return loss, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/stage1/vision.pt")
    ap.add_argument("--seed", type=int, default=3000)
    ap.add_argument("--dv", type=int, default=96)
    ap.add_argument("--lv", type=int, default=3)
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
    ap.add_argument("--qk-std", type=float, default=0.02,
                    help="init std of q/k projections (larger: attention patterns form sooner)")
    ap.add_argument("--resume", help="continue from a stage-1 file (fresh schedule)")
    ap.add_argument("--probe", type=int, default=200, help="held-out scenes for the probe")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    vc = ViewCfg()
    tc = TowerCfg(a)
    W = init_tower(a.dv, a.lv, 4 * a.dv, 48, 8, a.seed, a.qk_std)
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
                             {"params": nodecay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.98))
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
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * f)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        views, tg, glob, first = make_batch(rng, vc, a.batch, 8)
        feats = R.siglip_forward(W, tc, views)
        loss, acc = aux_loss(Hd, feats, tg, glob, first, a.shape_weight)
        fsq = (feats ** 2).mean()
        tot = loss + a.feat_reg * fsq
        opt.zero_grad(set_to_none=True)
        tot.backward()
        torch.nn.utils.clip_grad_norm_(train, 1.0)
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
            views, tg, glob, first = make_batch(prng, vc, 20, 8)
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
