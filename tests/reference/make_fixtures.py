"""make_fixtures.py - runs the reference `dump` for every parity case and writes
tests/fixtures/ref/<case>.safetensors (lladav dump format) + <case>.json (the exact CLI
arguments for `lladav dump`, what the case covers, and the decision margins of the run).

Paths in the sidecars are relative to the repository root (run `lladav dump` from there).
Run: /usr/bin/python3 make_fixtures.py [--only CASE ...] [--check]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lladav_ref as R  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
FX = "tests/fixtures"
M = FX + "/models/"
I = FX + "/images/"

# name: (cli args, what it covers)
CASES = {
    "text_f32_greedy": (
        ["--model", M + "tiny-f32", "--prompt", "Describe the picture.", "--steps", "16",
         "--gen-length", "16", "--block-length", "16"],
        "text-only prompt on the multimodal F32 model; one block, one token per step; "
        "V_eff 395 < 416 checkpoint rows; config bos_token_id 128000 ignored"),
    "text_olmo_blocks": (
        ["--model", M + "tiny-olmo", "--prompt", "Tell me a short story about a robot.",
         "--steps", "12", "--gen-length", "24", "--block-length", "8"],
        "original LLaDA layout (OLMo names, d_model/n_heads/... keys, rope_theta 500000); "
        "3 blocks x 4 steps, 2 tokens per step"),
    "text_olmo_gumbel": (
        ["--model", M + "tiny-olmo", "--prompt", "What color is the car?", "--steps", "8",
         "--gen-length", "16", "--block-length", "16", "--temperature", "0.9", "--seed", "7"],
        "temperature 0.9 Gumbel-max with the counter-splitmix64 noise (README RNG), "
        "low_confidence remasking on the un-noised logits"),
    "img_square_png": (
        ["--model", M + "tiny-f32", "--image", I + "square_56.png", "--prompt",
         "What is in the image?", "--steps", "8", "--gen-length", "16", "--block-length", "16"],
        "56x56 RGB PNG = one view size: best 1x1, views 2, no downsample; <image>\\n prefix "
        "and the dropped first token after the image"),
    "img_wide_blocks": (
        ["--model", M + "tiny-f32", "--image", I + "wide_150x60.png", "--prompt",
         "Describe the image in detail.", "--steps", "8", "--gen-length", "16",
         "--block-length", "8"],
        "wide 150x60 PNG: best 168x112 (3x2 grid, 7 views), vertical padding, unpad 8x12 -> 4x12; "
        "2 blocks"),
    "img_tall_jpeg_bf16": (
        ["--model", M + "tiny-bf16-sharded", "--image", I + "tall_50x130.jpg", "--prompt",
         "Is there a tree in the picture?", "--steps", "16", "--gen-length", "16",
         "--block-length", "16"],
        "tall 50x130 JPEG (libjpeg-turbo decode; compare views with a tolerance); BF16 3-shard "
        "model with index json, list-form pinpoints, mask_token_id in config, tokenizer with a "
        "BOS TemplateProcessing post_processor (each chunk gets BOS, so the \\n after <image> "
        "is kept and the prompt starts with two BOS)"),
    "img_tiny_gray": (
        ["--model", M + "tiny-f32", "--image", I + "tiny_9x7_gray.png", "--prompt",
         "What color is the car?", "--steps", "8", "--gen-length", "8", "--block-length", "8"],
        "9x7 grayscale (L) PNG: upscaling BICUBIC, convert L->RGB; unpad keeps all 4 rows "
        "(nh = 3, pad = 0)"),
    "img_large_palette": (
        ["--model", M + "tiny-f32", "--image", I + "large_400x300_palette.png", "--prompt",
         "What is in the image?", "--steps", "16", "--gen-length", "16", "--block-length", "16"],
        "400x300 palette (P) PNG: 3x3 grid (10 views), antialiased BICUBIC downscale, unpad + "
        "anyres_max_4 bilinear downsample 10x12 -> 7x8"),
    "img_rgba_cfg": (
        ["--model", M + "tiny-f32", "--image", I + "rgba_100x80.png", "--prompt",
         "How many people are in the photo?", "--steps", "8", "--gen-length", "16",
         "--block-length", "16", "--cfg", "1.5"],
        "RGBA PNG (alpha dropped, not composited); classifier-free guidance 1.5 (unconditional "
        "= whole prompt incl. image rows replaced by the mask embedding); logits0 guided"),
    "img_random_temp": (
        ["--model", M + "tiny-f32", "--image", I + "square_56.png", "--prompt",
         "Tell me a short story.", "--steps", "8", "--gen-length", "16", "--block-length", "8",
         "--temperature", "0.7", "--remasking", "random", "--seed", "42"],
        "random remasking + temperature 0.7, both from the counter-splitmix64 noise"),
    "img_tag_in_prompt": (
        ["--model", M + "tiny-f32", "--image", I + "square_56.png", "--prompt",
         "Look at this <image> and answer: what is it?", "--steps", "8", "--gen-length", "8",
         "--block-length", "8"],
        "TEXT already contains <image>: no \\n prefix; the first token of the chunk after the "
        "image is dropped (tokenizer without auto-BOS)"),
    "img_pad_flat_f16": (
        ["--model", M + "tiny-f16-pad", "--image", I + "wide_150x60.png", "--prompt",
         "Describe the image in detail.", "--steps", "8", "--gen-length", "8",
         "--block-length", "8"],
        "F16 weights; image_aspect_ratio pad: expand2square with (127,127,127) fill, one "
        "BICUBIC-resized view; mm_patch_merge_type flat: 16 tokens, no newline"),
    "text_eot_early_bf16": (
        ["--model", M + "tiny-bf16-sharded", "--prompt", "Is the sky blue?", "--steps", "16",
         "--gen-length", "32", "--block-length", "8"],
        "<|eot_id|> committed early (EOT row boosted): stop-aware candidate region, later blocks "
        "skipped, committed_step -1 after the stop, response excludes the EOT; BF16 shards, "
        "auto-BOS tokenizer on a text-only prompt"),
    "text_eot_topk_short_bf16": (
        ["--model", M + "tiny-bf16-sharded", "--prompt", "What color is the car?", "--steps",
         "6", "--gen-length", "24", "--block-length", "8"],
        "EOT stop at response index 11 in block 1, then a pass whose top-k (k = 4) has only 2 "
        "finite candidates: the 2 extra picks are -inf and, with lowest-index ties, land on "
        "prompt rows (no-ops); block 2 skipped"),
}


def parse(args):
    ap = argparse.ArgumentParser()
    R.add_dump_args(ap)
    return ap.parse_args(args)


def run_case(name, check=False):
    args, covers = CASES[name]
    out_rel = FX + "/ref/" + name + ".safetensors"
    out_abs = "/tmp/lladav_check_%s.safetensors" % name if check else os.path.join(REPO, out_rel)
    ns = parse(args + ["--out", out_abs])
    for k in ("model", "image"):
        if getattr(ns, k):
            setattr(ns, k, os.path.join(REPO, getattr(ns, k)))
    trace = []
    t, meta = R.run_dump(ns, trace=trace)
    cg = [x["conf_gap"] for x in trace if x["conf_gap"] is not None]
    ag = [x["argmax_gap"] for x in trace if x["argmax_gap"] is not None]
    side = {
        "case": name, "covers": covers,
        "cli": ["lladav", "dump"] + args + ["--out", "OUT.safetensors"],
        "reference_out": out_rel,
        "response_ids": t["response_ids"].tolist(), "response_text": meta["response_text"],
        "n_passes": len(trace),
        "min_conf_gap": min(cg) if cg else None,      # k-th vs (k+1)-th confidence, any pass
        "min_argmax_gap": min(ag) if ag else None,    # top1 - top2 logit (log-score) of commits
    }
    if check:
        return side
    with open(os.path.join(REPO, FX, "ref", name + ".json"), "w") as f:
        json.dump(side, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    return side


# original LLaDA generate.py variant (sec 6.5), ids space, no bans/stop: JSON-only fixtures in
# tests/fixtures/generate/<case>.json (prompt = chat template of the text, no image)
GENERATE_CASES = {
    "gen_olmo_blocks": dict(model="tiny-olmo", prompt="Tell me a short story about a robot.",
                            steps=8, gen_length=16, block_length=8),
    "gen_olmo_eos_flags": dict(model="tiny-olmo", prompt="Say hello.", steps=8, gen_length=16,
                               block_length=16, logits_eos_inf=True, confidence_eos_eot_inf=True),
    "gen_bf16_random_cfg": dict(model="tiny-bf16-sharded", prompt="What color is the car?",
                                steps=8, gen_length=16, block_length=8, temperature=0.8,
                                remasking="random", cfg_scale=1.0, seed=11),
}


def run_generate_case(name):
    c = dict(GENERATE_CASES[name])
    model, prompt, seed = c.pop("model"), c.pop("prompt"), c.pop("seed", 0)
    pl = R.Pipeline(os.path.join(REPO, M + model))
    ids = pl.prompt_ids(prompt, False)
    x, committed = R.generate_text(pl.llm, ids, noise=R.CounterNoise(seed), **c)
    full = dict(GENERATE_CASES[name])
    full.update({"model": M + model, "seed": seed})
    out = {"case": name, "params": full, "prompt_ids": ids,
           "output_ids": [int(t) for t in x[len(ids):]], "committed_step": committed.tolist(),
           "mask_id": pl.cfg.mask_id, "v_eff": pl.cfg.v_eff,
           "note": "LLaDA generate.py semantics (README): no bans, no stop, every step is a pass"}
    os.makedirs(os.path.join(REPO, FX, "generate"), exist_ok=True)
    with open(os.path.join(REPO, FX, "generate", name + ".json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--check", action="store_true", help="print, don't write the sidecars")
    a = ap.parse_args()
    os.makedirs(os.path.join(REPO, FX, "ref"), exist_ok=True)
    for name in GENERATE_CASES:
        if not a.only and not a.check:
            g = run_generate_case(name)
            print("%-20s generate.py variant: %s" % (name, g["output_ids"]))
    for name in (a.only or CASES):
        s = run_case(name, a.check)
        print("%-20s passes %2d  conf_gap %-9s argmax_gap %-9s resp %s" % (
            name, s["n_passes"], "%.2e" % s["min_conf_gap"] if s["min_conf_gap"] is not None else "-",
            "%.2e" % s["min_argmax_gap"] if s["min_argmax_gap"] is not None else "-",
            json.dumps(s["response_text"])))


if __name__ == "__main__":
    main()
