#!/usr/bin/env python3
"""Where does a model lose the layout cell of a shape? A linear probe (9 cells) on the base-view
patches a shape covers, read at every stage: the tower's output, the projector's output, and
the LLM's residual stream at that image row after each layer (prompt: the scene's "Where is
the X?" question, the full chat layout). Probe fitted on 70 % of the patches, accuracy on the
rest; chance is the majority class, printed first.

  /usr/bin/python3 probe_cell.py [--model ../models/shapes-v4] [--inject-cell 4]

--inject-cell applies train.py's inject_cell (with a re-fitted stage-1 head) before probing.
samples/train/README.md ("shapes-v4", positions) has the numbers."""
import argparse
import os

import torch

import train as T

R, C = T.R, T.C


def linear_probe(F, Y, ntr, steps=300):
    """Held-out accuracy of a softmax regression on standardised features."""
    F = (F - F[:ntr].mean(0)) / (F[:ntr].std(0) + 1e-6)
    lin = torch.nn.Linear(F.shape[1], 9)
    opt = torch.optim.Adam(lin.parameters(), 1e-2, weight_decay=1e-3)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(lin(F[:ntr]), Y[:ntr])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float((lin(F[ntr:]).argmax(-1) == Y[ntr:]).float().mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(C.REPO, "samples", "models", "shapes-v4"))
    ap.add_argument("--scenes", type=int, default=400)
    ap.add_argument("--seed", type=int, default=777, help="scene seed (not a training seed)")
    ap.add_argument("--inject-cell", type=float, default=0.0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    W = R.load_weights(a.model)
    hft = C.HFTokenizer(os.path.join(a.model, "tokenizer.json"))
    cfg = R.Config(a.model, W, hft)
    sc = T.build_scenes(a.seed, a.scenes)
    T.prepare(sc, cfg, C.CachedTokenizer(hft), cfg.bos_id)
    if a.inject_cell > 0:
        head, note = T.fit_head(W, cfg, sc, cfg.v_hidden, a.seed, 3.0)
        print(note)
        print("injected into units", T.inject_cell(W, cfg, head, sc[:300], a.inject_cell))
    llm = R.LLaDA(W, cfg)
    names = ["tower output", "projector output"] + ["LLM after layer %d" % (i + 1)
                                                    for i in range(cfg.num_layers)]
    X, Y = [[] for _ in names], []
    with torch.no_grad():
        for si, s in enumerate(sc):
            img, feats, Z, _ = T.encode_scenes(W, cfg, sc, [si])
            q = next(q for q in s["q"]["open"] if q["category"] == "position")
            pre = T.splice_prompt(llm, cfg, q["ids"], img[si])
            # the base view's rows inside the prompt (merge_views puts them first, unchanged)
            rows = ((pre[:, None, :] - Z[0][None]) ** 2).sum(-1).argmin(0)
            hs = []
            llm.forward(pre[None], hidden=hs)
            tg = s["aux_tg"][0, :, 2]
            for p in range(tg.shape[0]):
                if tg[p] < 0:
                    continue
                Y.append(int(tg[p]))
                X[0].append(feats[0, p])
                X[1].append(Z[0, p])
                for i, h in enumerate(hs):
                    X[2 + i].append(h[0, rows[p]])
    Y = torch.tensor(Y)
    ntr = int(len(Y) * 0.7)
    print("%d patches; chance (majority cell) %.3f" % (len(Y), float(torch.bincount(Y).max()) / len(Y)))
    for nm, x in zip(names, X):
        print("%-20s cell accuracy %.3f" % (nm, linear_probe(torch.stack(x), Y, ntr)))


if __name__ == "__main__":
    main()
