"""test_reference.py - self-test of the PyTorch reference and of the committed fixtures.

Run: /usr/bin/python3 -m unittest tests/reference/test_reference.py   (or run this file)
Needs node + tests/reference/node_modules (npm ci) for the tokenizer-dependent tests.
"""
import json
import shutil
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lladav_ref as R  # noqa: E402
import make_fixtures as F  # noqa: E402
import st_io  # noqa: E402

FX = os.path.join(F.REPO, F.FX)
# tokenizer-dependent tests need node + `npm ci` in tests/reference (node_modules is not
# committed); without them they are skipped, the rest still runs
HAVE_TOK = bool(shutil.which(os.environ.get("LLADAV_NODE", "node"))) and os.path.isdir(
    os.path.join(HERE, "node_modules", "@anush008", "tokenizers"))
NEED_TOK = unittest.skipUnless(HAVE_TOK, "node or tests/reference/node_modules missing (run npm ci there)")


class Cfg384:
    """Geometry-only config of the published model: 384 px views, patch 14, (1x1)..(6x6)."""
    v_image, v_patch, aspect = 384, 14, "anyres_max_4"
    pinpoints = R.parse_pinpoints("(1x1),...,(6x6)", 384)


class TestGeometry(unittest.TestCase):
    # spec sec 3.7: W, H, best (wc, hc), content (nw, nh) @ (x0, y0), views, stitched (rows, cols),
    # unpadded (rows, cols), times, final (h', w'), N_img
    TABLE = [
        (384, 384, (384, 384), (384, 384, 0, 0), 2, (27, 27), (27, 27), 0.500, (27, 27), 1485),
        (640, 480, (768, 768), (768, 576, 0, 96), 5, (54, 54), (40, 54), 0.861, (40, 54), 2929),
        (480, 640, (768, 768), (576, 768, 96, 0), 5, (54, 54), (54, 40), 0.861, (54, 40), 2943),
        (768, 768, (768, 768), (768, 768, 0, 0), 5, (54, 54), (54, 54), 1.000, (54, 54), 3699),
        (1024, 768, (1152, 768), (1024, 768, 64, 0), 7, (54, 81), (54, 73), 1.163, (46, 62), 3627),
        (853, 1280, (1152, 1536), (1024, 1536, 64, 0), 13, (108, 81), (108, 71), 1.622, (66, 43), 3633),
        (1280, 720, (1536, 768), (1366, 768, 85, 0), 9, (54, 108), (54, 96), 1.333, (40, 72), 3649),
        (1920, 1080, (1920, 1152), (1920, 1080, 0, 36), 16, (81, 135), (75, 135), 1.863, (40, 72), 3649),
    ]

    def test_pinpoints(self):
        pp = Cfg384.pinpoints
        self.assertEqual(len(pp), 36)
        self.assertEqual(pp[:3], [(384, 384), (384, 768), (384, 1152)])   # i outer (w), j inner (h)
        self.assertEqual(R.parse_pinpoints("(1x1),...,(3x3)", 56)[-1], (168, 168))
        self.assertEqual(R.parse_pinpoints([[56, 112]], 56), [(56, 112)])

    def test_table_3_7(self):
        for W, H, best, content, views, stitched, unpadded, times, final, n_img in self.TABLE:
            with self.subTest(size=(W, H)):
                wc, hc = R.select_best_resolution(W, H, Cfg384.pinpoints)
                self.assertEqual((wc, hc), best)
                self.assertEqual(R.resize_and_pad_geometry(W, H, wc, hc), content)
                nx, ny = wc // 384, hc // 384
                self.assertEqual(1 + nx * ny, views)
                g = R.merge_geometry(W, H, nx, ny, 27, "anyres_max_4")
                self.assertEqual(g["stitched"], stitched)
                self.assertEqual(g["unpadded"], unpadded)
                self.assertAlmostEqual(g["times"], times, places=3)
                self.assertEqual(g["final"], final)
                self.assertEqual(g["n_img"], n_img)

    def test_unpad_bounds_examples(self):
        # 853x1280: cols 5..75 kept; 1024x768: cols 4..76 kept
        self.assertEqual(R.unpad_bounds(108, 81, 853, 1280), (0, 108, 5, 76))
        self.assertEqual(R.unpad_bounds(54, 81, 1024, 768), (0, 54, 4, 77))
        self.assertEqual(int(1280 * (54 / 720)), 96)

    def test_merge_matches_geometry(self):
        """Tensor merge == token-count formula, newline after every row, base view first."""
        class C:
            v_image, v_patch, aspect, merge_type = 56, 14, "anyres_max_4", "spatial_unpad"
        D = 5
        for (W, H) in [(150, 60), (50, 130), (400, 300), (56, 56), (9, 7)]:
            pp = R.parse_pinpoints("(1x1),...,(3x3)", 56)
            wc, hc = R.select_best_resolution(W, H, pp)
            info = {"mode": "anyres", "size": (W, H), "grid": (wc // 56, hc // 56)}
            n = 1 + (wc // 56) * (hc // 56)
            Z = torch.randn(n, 16, D, generator=torch.Generator().manual_seed(W))
            nl = torch.full((D,), 7.0)
            out = R.merge_views({"model.image_newline": nl}, C, Z, info)
            geo = R.merge_geometry(W, H, wc // 56, hc // 56, 4, "anyres_max_4")
            self.assertEqual(out.shape[0], geo["n_img"])
            self.assertTrue(torch.equal(out[:16], Z[0]))
            hf, wf = geo["final"]
            rows = out[16:].reshape(hf, wf + 1, D)
            self.assertTrue(bool((rows[:, -1] == 7.0).all()))


class TestSampler(unittest.TestCase):
    def test_schedule(self):
        self.assertEqual(R.transfer_schedule(16, 16), [1] * 16)
        self.assertEqual(R.transfer_schedule(16, 8), [2] * 8)
        self.assertEqual(R.transfer_schedule(10, 4), [3, 3, 2, 2])
        self.assertEqual(R.transfer_schedule(3, 5), [1, 1, 1, 0, 0])
        for n in range(0, 40):
            for s in range(1, 12):
                sch = R.transfer_schedule(n, s)
                self.assertEqual(sum(sch), n)
                self.assertLessEqual(max(sch) - min(sch), 1)

    def test_topk_ties(self):
        self.assertEqual(R.topk_lowest_index([0.5, 0.9, 0.9, -np.inf, 0.1], 2), [1, 2])
        self.assertEqual(R.topk_lowest_index([-np.inf, 0.3, -np.inf], 2), [1, 0])

    def test_rng_pinned(self):
        self.assertEqual(int(R.splitmix64(np.uint64(0))), 16294208416658607535)
        self.assertEqual(int(R.splitmix64(R._key(7, 1, np.uint64(3)))), 6708458407349707514)
        n = R.CounterNoise(42)
        u = n.gumbel_u(3, 4, 5)
        self.assertEqual(u.shape, (4, 5))
        # entry (j=2, v=1) of pass 3 uses counter (3*4 + 2)*5 + 1
        k = int(R.splitmix64(R._key(42, 0, np.uint64((3 * 4 + 2) * 5 + 1))))
        self.assertEqual(u[2, 1], (k >> 11) * 2.0 ** -53)
        r = n.remask_u(3, 4)
        k = int(R.splitmix64(R._key(42, 1, np.uint64(3 * 4 + 1))))
        self.assertEqual(r[1], (k >> 40) * 2.0 ** -24)
        self.assertTrue(((u >= 0) & (u < 1)).all())

    def test_gumbel_is_argmax_at_tiny_temperature(self):
        l = np.array([[0.0, 3.0, 1.0, -np.inf]])
        u = np.array([[0.3, 0.6, 0.9, 0.5]])
        self.assertEqual(int(R.gumbel_argmax(l, u, 1e-9)[0]), 1)


class TestFormats(unittest.TestCase):
    def test_safetensors_roundtrip(self):
        a = {"f": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "i": np.array([-200, 5], np.int32),
             "b": np.array([1.0, -2.5, 3.140625], np.float32), "h": np.array([0.5, 1e-3], np.float32)}
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            st_io.save(p, a, {"k": 1}, {"b": "BF16", "h": "F16"})
            t, m = st_io.load(p)
            n, hdr = st_io.read_header(p)
            self.assertEqual(n % 8, 0)
            self.assertEqual(hdr["b"]["dtype"], "BF16")
            self.assertEqual(m, {"k": "1"})
            self.assertTrue(np.array_equal(t["f"], a["f"]))
            self.assertTrue(np.array_equal(t["i"], a["i"]))
            self.assertTrue(np.array_equal(t["b"], a["b"]))          # exactly representable
            self.assertTrue(np.array_equal(t["h"], a["h"].astype(np.float16).astype(np.float32)))

    def test_olmo_names(self):
        self.assertEqual(R.canonical_name("model.transformer.ff_out.weight"), "lm_head.weight")
        self.assertEqual(R.canonical_name("model.transformer.blocks.3.ff_out.weight"),
                         "model.layers.3.mlp.down_proj.weight")
        self.assertEqual(R.canonical_name("model.transformer.blocks.0.attn_out.weight"),
                         "model.layers.0.self_attn.o_proj.weight")

    def test_chat_prompt(self):
        s = R.chat_prompt("  <image>\nHi there. ")
        self.assertTrue(s.startswith("<|startoftext|><|start_header_id|>system<|end_header_id|>\n\n"
                                     "You are a helpful language and vision assistant."))
        self.assertTrue(s.endswith("<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\nHi there."
                                   "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"))
        self.assertEqual(R.user_turn("Q", True), "<image>\nQ")
        self.assertEqual(R.user_turn("a <image> b", True), "a <image> b")
        self.assertEqual(R.user_turn("Q", False), "Q")

    def test_tokenizer_image_token(self):
        class Fake:
            def __init__(self, bos):
                self.bos = bos

            def encode_many(self, texts, special=True):
                return [([9] if self.bos else []) + [ord(c) for c in t] for t in texts]
        # no auto-BOS: the literal BOS is not first -> no drop
        self.assertEqual(R.tokenizer_image_token(Fake(False), "ab<image>\ncd", 9),
                         [97, 98, -200, 10, 99, 100])
        # first chunk starts with BOS: keep one, drop the first id of every chunk
        # (chr(9) == "\t" plays the BOS here; the "\n" after <image> is the dropped id)
        self.assertEqual(R.tokenizer_image_token(Fake(False), "\tab<image>\ncd", 9),
                         [9, 97, 98, -200, 99, 100])
        # auto-BOS tokenizer: every chunk starts with BOS, so the dropped ids are those BOS
        self.assertEqual(R.tokenizer_image_token(Fake(True), "ab<image>\ncd", 9),
                         [9, 97, 98, -200, 10, 99, 100])


class TestFixtures(unittest.TestCase):
    """The committed fixtures follow the dump contract (interfaces.md sec 2)."""

    def cases(self):
        for name, (args, _) in F.CASES.items():
            t, m = st_io.load(os.path.join(FX, "ref", name + ".safetensors"))
            with open(os.path.join(FX, "ref", name + ".json")) as f:
                side = json.load(f)
            yield name, args, t, m, side

    def test_contract(self):
        for name, args, t, m, side in self.cases():
            with self.subTest(case=name):
                _, hdr = st_io.read_header(os.path.join(FX, "ref", name + ".safetensors"))
                for k in ("prompt_ids", "response_ids", "committed_step"):
                    self.assertEqual(hdr[k]["dtype"], "I32")
                for k in ("views", "vision", "projected", "image_embeds", "logits0"):
                    if k in hdr:
                        self.assertEqual(hdr[k]["dtype"], "F32")
                G = int(m["gen_length"])
                self.assertEqual(t["logits0"].shape, (G, int(m["v_eff"])))
                self.assertEqual(t["committed_step"].shape, (G,))
                has_img = "--image" in args
                self.assertEqual("views" in t, has_img)
                self.assertEqual(int((t["prompt_ids"] == -200).sum()), 1 if has_img else 0)
                n = len(t["response_ids"])
                cs = t["committed_step"]
                self.assertTrue((cs[:n] >= 0).all())          # every output token was committed
                self.assertEqual(side["response_ids"], t["response_ids"].tolist())
                self.assertLess(int(cs.max()), side["n_passes"])
                self.assertEqual(side["cli"][:2], ["lladav", "dump"])
                if has_img:
                    nv, P = t["views"].shape[0], t["vision"].shape[1]
                    self.assertEqual(t["projected"].shape[:2], (nv, P))
                    self.assertLessEqual(float(np.abs(t["views"]).max()), 1.0)
                if n < G:   # stopped on <|eot_id|>: the EOT itself is not in the response
                    self.assertGreaterEqual(int(cs[n]), 0)

    def test_commits_follow_schedule(self):
        """Without a stop, every pass commits exactly schedule[s] new positions of its block."""
        for name, args, t, m, side in self.cases():
            G, B, S = int(m["gen_length"]), int(m["block_length"]), int(m["steps"])
            if len(t["response_ids"]) < G:
                continue
            with self.subTest(case=name):
                spb = S // (G // B)
                cs = t["committed_step"]
                for b in range(G // B):
                    sched = R.transfer_schedule(B, spb)
                    blk = cs[b * B:(b + 1) * B]
                    for s in range(spb):
                        self.assertEqual(int((blk == b * spb + s).sum()), sched[s])

    @NEED_TOK
    def test_regenerate_one_case_bytes(self):
        name = "img_wide_blocks"
        with tempfile.TemporaryDirectory() as d:
            args, _ = F.CASES[name]
            ns = F.parse(args + ["--out", os.path.join(d, "x.safetensors")])
            for k in ("model", "image"):
                if getattr(ns, k):
                    setattr(ns, k, os.path.join(F.REPO, getattr(ns, k)))
            R.run_dump(ns)
            with open(os.path.join(d, "x.safetensors"), "rb") as f1, \
                    open(os.path.join(FX, "ref", name + ".safetensors"), "rb") as f2:
                self.assertEqual(f1.read(), f2.read())

    @NEED_TOK
    def test_text_generate_runs(self):
        """The original LLaDA generate (sec 6.5) on the OLMo-layout model."""
        pl = R.Pipeline(os.path.join(FX, "models", "tiny-olmo"))
        ids = pl.prompt_ids("Hello.", False)
        x, cs = R.generate_text(pl.llm, ids, steps=8, gen_length=16, block_length=8)
        self.assertTrue((cs >= 0).all())
        self.assertEqual(len(x), len(ids) + 16)
        self.assertEqual(list(x[:len(ids)]), ids)
        self.assertFalse((x[len(ids):] == pl.cfg.mask_id).any())
        y, _ = R.generate_text(pl.llm, ids, steps=8, gen_length=16, block_length=8, temperature=0.8,
                            remasking="random", noise=R.CounterNoise(3), cfg_scale=0.5)
        self.assertEqual(len(y), len(ids) + 16)
        z, _ = R.generate_text(pl.llm, ids, steps=4, gen_length=8, block_length=8,
                            logits_eos_inf=True, confidence_eos_eot_inf=True)
        self.assertNotIn(pl.cfg.eos_id, z[len(ids):].tolist())


class TestIndependentPaths(unittest.TestCase):
    """The reference's hand-written pieces against independent torch formulations."""

    def test_patch_embedding_is_conv(self):
        g = torch.Generator().manual_seed(0)
        W = {}
        pre = "model.vision_tower.vision_tower.vision_model."
        Dv, p, S = 6, 14, 56
        W[pre + "embeddings.patch_embedding.weight"] = torch.randn(Dv, 3, p, p, generator=g)
        W[pre + "embeddings.patch_embedding.bias"] = torch.randn(Dv, generator=g)
        W[pre + "embeddings.position_embedding.weight"] = torch.zeros(16, Dv)

        class C:
            v_patch, v_image, v_hidden, v_heads, v_layers, v_eps, v_act = p, S, Dv, 2, 0, 1e-6, "gelu_pytorch_tanh"
        x = torch.randn(2, 3, S + 5, S + 5, generator=g)[:, :, :S, :S].contiguous()
        got = R.siglip_forward(W, C, x)
        want = torch.nn.functional.conv2d(x, W[pre + "embeddings.patch_embedding.weight"],
                                          W[pre + "embeddings.patch_embedding.bias"], stride=p)
        want = want.flatten(2).transpose(1, 2)                     # [n, g*g, Dv], index r*g + c
        self.assertLess(float((got - want).abs().max()), 1e-4)

    def test_rope_rotate_half_is_complex_rotation(self):
        class C:
            hidden_size, num_heads, num_layers, rope_theta, rms_norm_eps = 8, 1, 0, 10000.0, 1e-5
            v_eff, tie = 4, False
        W = {"model.embed_tokens.weight": torch.zeros(4, 8), "lm_head.weight": torch.zeros(4, 8),
             "model.norm.weight": torch.ones(8)}
        m = R.LLaDA(W, C)
        cos, sin = m.rope_tables(5)
        x = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
        rot = x * cos + torch.cat([-x[:, 4:], x[:, :4]], -1) * sin
        # pair (i, i + 4) as a complex number rotated by pos * theta^(-2i/8)
        z = torch.complex(x[:, :4].double(), x[:, 4:].double())
        ang = torch.arange(5).double()[:, None] * (10000.0 ** (-torch.arange(0, 8, 2).double() / 8))[None]
        zr = z * torch.exp(1j * ang)
        self.assertLess(float((rot[:, :4].double() - zr.real).abs().max()), 1e-5)
        self.assertLess(float((rot[:, 4:].double() - zr.imag).abs().max()), 1e-5)

    def test_bilinear_matches_spec_formula(self):
        """sec 4.3's per-axis bilinear formula vs torch interpolate (align_corners=False)."""
        T = torch.randn(3, 10, 12, generator=torch.Generator().manual_seed(2))
        oh, ow = 7, 8

        def axis(n_in, n_out):
            scale = n_in / n_out
            out = []
            for o in range(n_out):
                src = max(scale * (o + 0.5) - 0.5, 0.0)
                i0 = int(src)
                i1 = i0 + (1 if i0 < n_in - 1 else 0)
                l1 = src - i0
                out.append((i0, i1, 1.0 - l1, l1))
            return out
        want = torch.empty(3, oh, ow)
        for y, (a0, a1, wa0, wa1) in enumerate(axis(10, oh)):
            for x, (b0, b1, wb0, wb1) in enumerate(axis(12, ow)):
                want[:, y, x] = wa0 * (wb0 * T[:, a0, b0] + wb1 * T[:, a0, b1]) + \
                    wa1 * (wb0 * T[:, a1, b0] + wb1 * T[:, a1, b1])
        got = torch.nn.functional.interpolate(T[None], size=[oh, ow], mode="bilinear", align_corners=False)[0]
        self.assertLess(float((got - want).abs().max()), 1e-5)


class TestTokenizerFixtures(unittest.TestCase):
    @NEED_TOK
    def test_jsonl_matches_hf(self):
        from hf_tok import HFTokenizer
        for model in ("tiny-f32", "tiny-bf16-sharded"):
            tok = HFTokenizer(os.path.join(FX, "models", model, "tokenizer.json"))
            with open(os.path.join(FX, "tokenizer", model + ".jsonl"), encoding="utf-8") as f:
                rows = [json.loads(l) for l in f]
            enc = [r for r in rows if r["op"] == "encode"]
            self.assertEqual(tok.encode_many([r["text"] for r in enc], special=False), [r["ids"] for r in enc])
            self.assertEqual(tok.encode_many([r["text"] for r in enc], special=True),
                             [r["ids_special"] for r in enc])
            # byte-level BPE without normalizer: decode(encode(text)) == text, specials included
            self.assertEqual(tok.decode_many([r["ids"] for r in enc]), [r["text"] for r in enc])

def spec_bicubic(a, out_w, out_h):
    """Spec sec 3.6 restated in numpy (fixed-point, two uint8 passes, horizontal first), to
    check the spec's description of Pillow BICUBIC against Pillow itself. a: uint8 [H, W, C]."""
    def kernel(x):
        A = -0.5
        x = abs(x)
        if x < 1.0:
            return ((A + 2.0) * x - (A + 3.0)) * x * x + 1
        if x < 2.0:
            return (((x - 5) * x + 8) * x - 4) * A
        return 0.0

    def coeffs(in_size, out_size):
        scale = in_size / out_size
        fs = max(scale, 1.0)
        support = 2.0 * fs
        out = []
        for o in range(out_size):
            center = (o + 0.5) * scale
            lo = max(0, int(center - support + 0.5))
            hi = min(in_size, int(center + support + 0.5))
            ss = 1.0 / fs
            w = [kernel((k + lo - center + 0.5) * ss) for k in range(hi - lo)]
            tot = sum(w)
            if tot != 0.0:
                w = [x / tot for x in w]
            W = [int(x * (1 << 22) + 0.5) if x >= 0 else int(x * (1 << 22) - 0.5) for x in w]
            out.append((lo, np.array(W, dtype=np.int64)))
        return out

    def one_pass(x, n_out, axis):
        x = np.moveaxis(x, axis, 0).astype(np.int64)
        res = np.empty((n_out,) + x.shape[1:], dtype=np.int64)
        for o, (lo, W) in enumerate(coeffs(x.shape[0], n_out)):
            acc = (1 << 21) + np.tensordot(W, x[lo:lo + len(W)], axes=(0, 0))
            res[o] = np.clip(acc >> 22, 0, 255)
        return np.moveaxis(res, 0, axis).astype(np.uint8)

    h, w = a.shape[:2]
    if out_w != w:
        a = one_pass(a, out_w, 1)
    if out_h != h:
        a = one_pass(a, out_h, 0)
    return a


class TestBicubicSpec(unittest.TestCase):
    def test_spec_matches_pillow(self):
        from PIL import Image
        for name in ("large_400x300_palette.png", "wide_150x60.png", "tiny_9x7_gray.png",
                     "tall_50x130.jpg"):
            img = R.load_image(os.path.join(FX, "images", name))
            a = np.asarray(img)
            W, H = img.size
            for (ow, oh) in [(56, 56), (168, 126), (37, 91), (W, 3 * H), (W * 2, H)]:
                with self.subTest(image=name, size=(ow, oh)):
                    want = np.asarray(img.resize((ow, oh), Image.BICUBIC))
                    self.assertTrue(np.array_equal(spec_bicubic(a, ow, oh), want))


if __name__ == "__main__":
    unittest.main()
