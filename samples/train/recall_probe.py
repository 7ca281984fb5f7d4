"""The look-up plateau in its purest form (samples/train/README.md, "Seventh attempt").

Associative recall through the reference LLaDA forward (tests/reference/lladav_ref.LLaDA, the
same code train.py trains): a context of one to --n (colour, shape) pairs, then a query shape,
then a mask position whose target is that shape's colour (--task open), or a query (shape,
colour) whose target is yes/no (--task yn), or both mixed (--task mix). A fresh model of
shapes-v2's width (d 128, ffn 384), CE on the answer position only, batch 32, AdamW. Prints the
running accuracy every 100 steps. The bag level (any colour of the context) is ~0.65 for --n 3.

  /usr/bin/python3 recall_probe.py --steps 1500                 # stays at ~0.65
  /usr/bin/python3 recall_probe.py --steps 1000 --emb 1.0 --hd 16   # leaves it (0.90 at 1000)
  # the comparison behind 60 fillers: chance without a length curriculum, 0.965 at 2400 with one
  /usr/bin/python3 recall_probe.py --steps 2400 --task yn --fused --emb 1.0 --hd 16 --pre 60 \
      --pre-hold 1000 --pre-ramp 1000
"""
import argparse
import os
import random
import sys
import time

import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402
R = T.R
ap = argparse.ArgumentParser()
ap.add_argument("--hd", type=int, default=32, help="head size (heads = 128 / hd)")
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--qk", type=float, default=0.05, help="init std of q/k (shapes-v2's lineage)")
ap.add_argument("--emb", type=float, default=0.02, help="init std of the token embeddings")
ap.add_argument("--n", type=int, default=3, help="most (colour, shape) pairs in a context")
ap.add_argument("--pre", type=int, default=0, help="filler tokens before the pairs")
ap.add_argument("--fixed-pre", action="store_true",
                help="the same fillers in every sequence (as the system prompt is)")
ap.add_argument("--pre-ramp", type=int, default=0,
                help="grow the fillers from 0 to --pre over this many steps (a length curriculum)")
ap.add_argument("--pre-hold", type=int, default=0, help="steps without fillers before the ramp")
ap.add_argument("--steps", type=int, default=2000)
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--task", default="open", choices=["open", "yn", "mix"])
ap.add_argument("--theta", type=float, default=500000.0, help="rope_theta")
ap.add_argument("--wd", type=float, default=0.05)
ap.add_argument("--fused", action="store_true",
                help="one token per (colour, shape) pair, as an image token carries both")
ap.add_argument("--batch", type=int, default=32)
a = ap.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)
D, F, L, V = 128, 384, a.layers, 128 if a.fused else 64
NC, NS = 8, 6   # tokens: colours 0..7, shapes 8..13, Q 20, M 21, sep 22, yes 23, no 24,
# filler 30..63, fused pairs 64 + 8 * shape + colour
Q, M, SEP, YES, NO = 20, 21, 22, 23, 24


class Cfg:
    """The fields of lladav_ref.Config that LLaDA reads."""
    v_eff, tie, num_layers, rms_norm_eps, hidden_size = V, False, L, 1e-5, D
    num_heads, rope_theta = D // a.hd, a.theta


def init_weights():
    """train.init_weights (N(0, 0.02), residual outputs / sqrt(2 L), seed 1) with the embedding
    and q/k stds as options; its tower and projector (a minimal one here) are dropped."""
    hp = {"llm": {"hidden_size": D, "intermediate_size": F, "num_hidden_layers": L},
          "vision": {"hidden_size": 24, "intermediate_size": 96, "num_hidden_layers": 1,
                     "image_size": 32, "patch_size": 16}}
    W = T.init_weights(hp, V, 1, a.qk, a.emb)
    return {k: v for k, v in W.items() if k.startswith(("model.embed", "lm_head", "model.norm", "model.layers"))}


def item(rng, pre):
    """One sequence: [filler...] (c s SEP)*k Q s_j [c] M -> (tokens, target, kind)."""
    k = rng.randint(1, a.n)
    sh = rng.sample(range(8, 8 + NS), k)
    co = [rng.randrange(NC) for _ in sh]
    seq = [30 + (i % 34 if a.fixed_pre else rng.randrange(34)) for i in range(pre)]
    for s_, c_ in zip(sh, co):
        seq += [64 + 8 * (s_ - 8) + c_, SEP] if a.fused else [c_, s_, SEP]
    j = rng.randrange(k)
    if a.task == "open" or (a.task == "mix" and rng.random() < 0.5):
        return seq + [Q, sh[j], M], co[j], "open"
    col = co[j] if rng.random() < 0.5 else rng.choice([x for x in range(NC) if x != co[j]])
    return seq + [Q, sh[j], col, M], YES if col == co[j] else NO, "yn"


def main():
    W = init_weights()
    for k in W:
        W[k].requires_grad_()
    opt = torch.optim.AdamW(list(W.values()), lr=a.lr, betas=(0.9, 0.95), weight_decay=a.wd)
    rng = random.Random(0)
    t0, hist = time.time(), []
    for step in range(a.steps):
        llm = R.LLaDA(W, Cfg)
        if step < a.pre_hold:
            pre = 0
        elif a.pre_ramp:
            pre = min(a.pre, a.pre * (step - a.pre_hold) // a.pre_ramp)
        else:
            pre = a.pre
        b = [item(rng, pre) for _ in range(a.batch)]
        Lm = max(len(s) for s, _, _ in b)
        X = torch.stack([llm.embed[torch.tensor(s + [SEP] * (Lm - len(s)))] for s, _, _ in b])
        lg = llm.forward(X)[torch.arange(a.batch), torch.tensor([len(s) - 1 for s, _, _ in b])]
        Y = torch.tensor([y for _, y, _ in b])
        loss = torch.nn.functional.cross_entropy(lg, Y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(W.values()), 3)
        opt.step()
        hist += list(zip([t for _, _, t in b], (lg.argmax(-1) == Y).tolist()))
        if (step + 1) % 100 == 0:
            h = hist[-100 * a.batch:]   # the last 100 steps
            acc = {t: round(sum(x for tt, x in h if tt == t) / max(1, sum(1 for tt, _ in h if tt == t)), 3)
                   for t in ("open", "yn")}
            print(step + 1, "loss %.3f" % loss, acc, "%.0fs" % (time.time() - t0), flush=True)


if __name__ == "__main__":
    main()
