"""check_targets.py - how many shapes the stage-1 per-patch targets (pretrain_vision.patch_targets)
leave out: a shape that is no patch's target is taught to the tower as background, so no image
token reports it and no question about it can be answered from the image.

  /usr/bin/python3 check_targets.py [--image 96 --patch 32 --min-hits 3 --centres --scenes 400]

Prints the fraction of shapes missing from the base view's targets and from every view's, by
size. At shapes-v2's --image 96 --patch 32 with min_hits 3 (the default): 19.4 % of all shapes and
33.6 % of the small ones are in no view's targets (samples/train/README.md, shapes-v2); with
--centres (each shape also labels the patch holding its centre) none is, in the base view too."""
import argparse
import random
import numpy as np
import gen_data as G
import pretrain_vision as PV
from common import R


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", type=int, default=96)
    ap.add_argument("--patch", type=int, default=32)
    ap.add_argument("--min-hits", type=int, default=3)
    ap.add_argument("--centres", action="store_true")
    ap.add_argument("--scenes", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1000017)
    a = ap.parse_args()
    PV.MIN_HITS, PV.CENTRES = a.min_hits, a.centres
    pins = R.parse_pinpoints("(1x1),...,(2x2)", a.image)   # the shapes models' anyres_max_2
    rng = random.Random(a.seed)
    miss = {}                                  # size -> [shapes, missing in base, missing in all]
    for _ in range(a.scenes):
        sc = G.make_scene(rng)
        W, H = sc["size"]
        # R.image_views' geometry without rendering: the best pinpoint, content size, offset
        wc, hc = R.select_best_resolution(W, H, pins)
        nw, nh, x0, y0 = R.resize_and_pad_geometry(W, H, wc, hc)
        info = {"best": (wc, hc), "content": (nw, nh), "offset": (x0, y0)}
        tg = PV.patch_targets(sc, info, a.image, a.patch)
        for s in sc["shapes"]:
            hit = (tg[..., 0] == 1 + G.COLOR_NAMES.index(s["color"])) & \
                  (tg[..., 1] == G.SHAPES.index(s["shape"]))
            m = miss.setdefault(s["size"], [0, 0, 0])
            m[0] += 1
            m[1] += not hit[0].any()
            m[2] += not hit.any()
    tot = np.sum(list(miss.values()), 0)
    for k, m in sorted(miss.items()) + [("all", tot)]:
        print("%-5s %4d shapes: missing from the base view's targets %5.1f %%, from every view's %5.1f %%"
              % (k, m[0], 100 * m[1] / m[0], 100 * m[2] / m[0]))


if __name__ == "__main__":
    main()
