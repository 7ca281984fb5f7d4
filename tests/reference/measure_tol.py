"""measure_tol.py - how far the fp32 fixtures are from a float64 run of the same reference.

For every case of make_fixtures.CASES: rerun the pipeline with all weights and activations in
float64 (same code, same inputs) and compare each dumped tensor with the committed fp32 fixture:
max |a-b|, max |a-b|/max|b|, and whether the sampled ids / committed steps are identical.
Run: /usr/bin/python3 measure_tol.py   (prints a table; used for the README tolerances)
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lladav_ref as R  # noqa: E402
import make_fixtures as F  # noqa: E402
import st_io  # noqa: E402


def main():
    worst = {}
    for name, (args, _) in F.CASES.items():
        ns = F.parse(args + ["--out", "/dev/null"])
        for k in ("model", "image"):
            if getattr(ns, k):
                setattr(ns, k, os.path.join(F.REPO, getattr(ns, k)))
        ref, _ = st_io.load(os.path.join(F.REPO, F.FX, "ref", name + ".safetensors"))
        pl = R.Pipeline(ns.model, dtype=torch.float64)
        out, _, _, _ = R.compute(pl, ns)
        row = []
        for k in ("views", "vision", "projected", "image_embeds", "logits0"):
            if k not in ref:
                continue
            a, b = ref[k].astype(np.float64), np.asarray(out[k], dtype=np.float64)
            # compare against the float64 values before their float32 rounding in compute()
            d = np.abs(a - b).max()
            rel = d / max(np.abs(b).max(), 1e-30)
            worst[k] = max(worst.get(k, 0.0), d)
            row.append("%s %.1e (rel %.1e)" % (k, d, rel))
        same = all(np.array_equal(ref[k], out[k]) for k in ("prompt_ids", "response_ids", "committed_step"))
        print("%-20s ids %s | %s" % (name, "same" if same else "DIFFER", "; ".join(row)))
    print("worst abs:", {k: "%.1e" % v for k, v in worst.items()})
    # robustness: perturb every forward's logits by uniform noise of +-EPS (several draws);
    # a fixture whose ids survive this is safe for an fp32 port whose logits are within EPS
    for eps in (3e-4, 1e-3):
        flips = []
        for name, (args, _) in F.CASES.items():
            ns = F.parse(args + ["--out", "/dev/null"])
            for k in ("model", "image"):
                if getattr(ns, k):
                    setattr(ns, k, os.path.join(F.REPO, getattr(ns, k)))
            ref, _ = st_io.load(os.path.join(F.REPO, F.FX, "ref", name + ".safetensors"))
            pl = R.Pipeline(ns.model)
            fwd = pl.llm.forward
            g = torch.Generator().manual_seed(0)
            pl.llm.forward = lambda E: (lambda y: y + (torch.rand(y.shape, generator=g) * 2 - 1) * eps)(fwd(E))
            for trial in range(3):
                out, _, _, _ = R.compute(pl, ns)
                if not all(np.array_equal(ref[k], out[k]) for k in ("response_ids", "committed_step")):
                    flips.append("%s#%d" % (name, trial))
        for name, c in F.GENERATE_CASES.items():
            c = dict(c)
            model, prompt, seed = c.pop("model"), c.pop("prompt"), c.pop("seed", 0)
            with open(os.path.join(F.REPO, F.FX, "generate", name + ".json")) as f:
                want = json.load(f)
            pl = R.Pipeline(os.path.join(F.REPO, F.M + model))
            fwd = pl.llm.forward
            g = torch.Generator().manual_seed(0)
            pl.llm.forward = lambda E: (lambda y: y + (torch.rand(y.shape, generator=g) * 2 - 1) * eps)(fwd(E))
            ids = pl.prompt_ids(prompt, False)
            for trial in range(3):
                x, cs = R.generate_text(pl.llm, ids, noise=R.CounterNoise(seed), **c)
                if x[len(ids):].tolist() != want["output_ids"] or cs.tolist() != want["committed_step"]:
                    flips.append("%s#%d" % (name, trial))
        print("logit perturbation +-%.0e: %s" % (eps, ("flips in " + ", ".join(flips)) if flips else "no case changes its ids"))


if __name__ == "__main__":
    main()
