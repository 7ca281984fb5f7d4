#!/usr/bin/python3
"""Deterministic generator of the vision test data (run with Debian's /usr/bin/python3 and
Pillow 9.4; rerunning rewrites identical files).

Writes into this directory:
  decode/*.png, *.jpg   small encoded images in every PNG colour type / depth / interlace and
                        JPEG baseline / progressive / gray / CMYK, plus absurd-size headers
  decode/*.rgb          PIL's Image.open(f).convert("RGB") of each, raw [H, W, 3] bytes
  resize_*.png          sources of the resize grid;  resize.bin  PIL BICUBIC outputs
  views_*.bin           full anyres/pad/square views computed with PIL + numpy (float32)
  manifest.txt          one line per case, read by tests/test_vision.c
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEC = os.path.join(HERE, "decode")
rng = np.random.default_rng(1234)
manifest = []


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def pack_rows(a, depth):
    """a: [h, w, ch] uint samples -> list of packed scanline bytes (filter 0 prefix)."""
    h = a.shape[0]
    out = []
    for y in range(h):
        row = a[y].reshape(-1)
        if depth == 16:
            b = row.astype(">u2").tobytes()
        elif depth == 8:
            b = row.astype(np.uint8).tobytes()
        else:
            per = 8 // depth
            vals = list(row) + [0] * ((-len(row)) % per)
            b = bytes(sum(int(vals[i + j]) << (8 - depth * (j + 1)) for j in range(per))
                      for i in range(0, len(vals), per))
        out.append(b"\x00" + b)
    return out


def write_png(path, a, color_type, depth, interlace=False, plte=None, trns=None):
    h, w = a.shape[:2]
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = a[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += b"".join(pack_rows(sub, depth))
    else:
        raw = b"".join(pack_rows(a, depth))
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if plte is not None:
        data += chunk(b"PLTE", bytes(plte))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def expect_decode(name):
    path = os.path.join(DEC, name)
    im = Image.open(path)
    mode = im.mode
    rgb = im.convert("RGB")
    with open(path + ".rgb", "wb") as f:
        f.write(np.asarray(rgb, dtype=np.uint8).tobytes())
    manifest.append(f"decode {name} {rgb.width} {rgb.height} {mode}")


def smooth(h, w, ch, maxv):
    y, x = np.mgrid[0:h, 0:w]
    planes = [((x * (7 + 3 * c) + y * (5 + 2 * c)) * maxv // (w * 7 + h * 5 + 20 * c + 1))
              for c in range(ch)]
    a = np.stack(planes, -1) + rng.integers(0, max(2, maxv // 16), (h, w, ch))
    return np.clip(a, 0, maxv).astype(np.int64)


def make_decode_cases():
    os.makedirs(DEC, exist_ok=True)
    H, W = 19, 23
    cases = [
        ("gray8.png", 0, 8, 1, {}), ("gray1.png", 0, 1, 1, {}), ("gray2.png", 0, 2, 1, {}),
        ("gray4.png", 0, 4, 1, {}), ("gray16.png", 0, 16, 1, {}),
        ("gray16_small.png", 0, 16, 1, {"maxv": 300}),
        ("gray8_trns.png", 0, 8, 1, {"trns": struct.pack(">H", 7)}),
        ("gray_alpha8.png", 4, 8, 2, {}), ("gray_alpha16.png", 4, 16, 2, {}),
        ("rgb8.png", 2, 8, 3, {}), ("rgb16.png", 2, 16, 3, {}),
        ("rgb8_trns.png", 2, 8, 3, {"trns": struct.pack(">HHH", 1, 2, 3)}),
        ("rgba8.png", 6, 8, 4, {}), ("rgba16.png", 6, 16, 4, {}),
        ("palette8.png", 3, 8, 1, {}), ("palette4.png", 3, 4, 1, {}),
        ("palette8_trns.png", 3, 8, 1, {"trns": bytes(range(0, 250, 10))}),
        ("rgb8_interlaced.png", 2, 8, 3, {"interlace": True}),
        ("rgba16_interlaced.png", 6, 16, 4, {"interlace": True}),
        ("palette2_interlaced.png", 3, 2, 1, {"interlace": True}),
    ]
    for name, ct, depth, ch, kw in cases:
        if ct == 3:
            n = 1 << depth if depth < 8 else 200
            a = smooth(H, W, 1, n - 1)
            plte = rng.integers(0, 256, (n, 3)).astype(np.uint8).reshape(-1)
            write_png(os.path.join(DEC, name), a, ct, depth, kw.get("interlace", False),
                      plte=plte, trns=kw.get("trns"))
        else:
            a = smooth(H, W, ch, kw.get("maxv", (1 << depth) - 1))
            write_png(os.path.join(DEC, name), a, ct, depth, kw.get("interlace", False),
                      trns=kw.get("trns"))
        expect_decode(name)
    # JPEG through Pillow's own encoder (the same libjpeg-turbo as lladav links).
    rgb = Image.fromarray(smooth(37, 45, 3, 255).astype(np.uint8), "RGB")
    rgb.save(os.path.join(DEC, "baseline.jpg"), quality=90)
    rgb.save(os.path.join(DEC, "baseline444.jpg"), quality=95, subsampling=0)
    rgb.save(os.path.join(DEC, "progressive.jpg"), quality=85, progressive=True)
    rgb.convert("L").save(os.path.join(DEC, "gray.jpg"), quality=90)
    Image.fromarray(smooth(37, 45, 4, 255).astype(np.uint8), "CMYK").save(
        os.path.join(DEC, "cmyk.jpg"), quality=90)
    for name in ("baseline.jpg", "baseline444.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"):
        expect_decode(name)
    # Absurd declared sizes: a valid PNG header of 20000 x 20000 and a JPEG whose SOF claims
    # 60000 x 60000 (only the header is read before the limit check).
    hdr = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0))
    with open(os.path.join(DEC, "huge.png"), "wb") as f:
        f.write(hdr + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    data = bytearray(open(os.path.join(DEC, "gray.jpg"), "rb").read())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    with open(os.path.join(DEC, "huge.jpg"), "wb") as f:
        f.write(bytes(data))


RESIZE_TARGETS = {
    "resize_a.png": (97, 73, [(97, 73), (97, 40), (50, 73), (1, 1), (2, 3), (3, 200), (200, 3),
                              (194, 146), (150, 31), (13, 101), (96, 72), (98, 74), (28, 28),
                              (7, 5), (61, 29)]),
    "resize_b.png": (400, 9, [(3, 9), (1, 9), (399, 9), (57, 20), (400, 1), (13, 2)]),
}


def make_resize_cases():
    blob = b""
    for name, (w, h, targets) in RESIZE_TARGETS.items():
        src = Image.fromarray(rng.integers(0, 256, (h, w, 3)).astype(np.uint8), "RGB")
        src.save(os.path.join(HERE, name))
        for tw, th in targets:
            out = src.resize((tw, th), Image.BICUBIC)
            manifest.append(f"resize {name} {tw} {th} {len(blob)}")
            blob += np.asarray(out, dtype=np.uint8).tobytes()
    with open(os.path.join(HERE, "resize.bin"), "wb") as f:
        f.write(blob)


# ---- full views, an independent restatement of mm_utils.py with PIL (spec §3) -----------

def select_best(W, H, pins):
    best, best_eff, best_waste = None, 0, float("inf")
    for wc, hc in pins:
        s = min(wc / W, hc / H)
        dw, dh = int(W * s), int(H * s)
        eff = min(dw * dh, W * H)
        waste = wc * hc - eff
        if eff > best_eff or (eff == best_eff and waste < best_waste):
            best, best_eff, best_waste = (wc, hc), eff, waste
    return best


def normalize(img):
    a = np.asarray(img, dtype=np.uint8).astype(np.float64) * (1 / 255)
    a = a.astype(np.float32)
    a = (a - np.float32(0.5)) / np.float32(0.5)
    return a.transpose(2, 0, 1).astype(np.float32)


def views_of(img, mode, S, pins):
    import math
    if mode == "square":
        return [normalize(img.resize((S, S), Image.BICUBIC))]
    if mode == "pad":
        W, H = img.size
        if W != H:
            side = max(W, H)
            sq = Image.new("RGB", (side, side), (127, 127, 127))
            sq.paste(img, ((side - W) // 2, (side - H) // 2))
            img = sq
        return [normalize(img.resize((S, S), Image.BICUBIC))]
    W, H = img.size
    wc, hc = select_best(W, H, pins)
    sw, sh = wc / W, hc / H
    if sw < sh:
        nw, nh = wc, min(math.ceil(H * sw), hc)
    else:
        nh, nw = hc, min(math.ceil(W * sh), wc)
    canvas = Image.new("RGB", (wc, hc), (0, 0, 0))
    canvas.paste(img.resize((nw, nh)), ((wc - nw) // 2, (hc - nh) // 2))
    out = [normalize(img.resize((S, S)))]
    for y in range(0, hc, S):
        for x in range(0, wc, S):
            out.append(normalize(canvas.crop((x, y, x + S, y + S))))
    return out


VIEW_CASES = [  # name, source (w, h), mode, S
    ("views_anyres_wide", (71, 30), "anyres", 28),
    ("views_anyres_tall", (33, 90), "anyres", 28),
    ("views_anyres_exact", (56, 28), "anyres", 28),
    ("views_pad", (45, 20), "pad", 28),
    ("views_square", (45, 20), "square", 28),
]


def make_view_cases():
    for name, (w, h), mode, S in VIEW_CASES:
        pins = [(S * i, S * j) for i in range(1, 4) for j in range(1, 4)]
        img = Image.fromarray(smooth(h, w, 3, 255).astype(np.uint8), "RGB")
        img.save(os.path.join(HERE, name + ".png"))
        v = np.stack(views_of(img, mode, S, pins)).astype("<f4")
        v.tofile(os.path.join(HERE, name + ".bin"))
        manifest.append(f"views {name}.png {mode} {S} {v.shape[0]}")


if __name__ == "__main__":
    make_decode_cases()
    make_resize_cases()
    make_view_cases()
    with open(os.path.join(HERE, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
