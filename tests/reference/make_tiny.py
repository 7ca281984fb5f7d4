"""make_tiny.py - builds the tiny checkpoints and test images under tests/fixtures/.

  corpus --HF ByteLevel pre-tokenizer--> words --our BPE trainer--> tokenizer.json (+ specials)
  torch.Generator(seed) --> random weights --st_io--> model dirs in the real HF layout
  numpy patterns --> PNG / JPEG test images (RGB, L, P, RGBA)

Deterministic: fixed seeds, sorted JSON, st_io's deterministic writer.
Run: /usr/bin/python3 make_tiny.py [FIXTURES_DIR]
"""
import collections
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import st_io  # noqa: E402
from hf_tok import HFTokenizer, byte_level_pretokenize  # noqa: E402
from lladav_ref import SYSTEM_PROMPT  # noqa: E402

N_MERGES = 128                      # base vocab = 256 bytes + 128 merges = 384
VOCAB_ROWS = 416                    # checkpoint rows > len(tokenizer) -> exercises V_eff truncation
# LLaDA's special tokens (spec sec 5.1), same order, ids at the top of the tiny vocabulary
SPECIALS = ["<|startoftext|>", "<|endoftext|>", "[CLS]", "[gMASK]", "<|reserved_token_0|>",
            "<|mdm_mask|>", "<role>", "</role>", "<|start_header_id|>", "<|end_header_id|>",
            "<|eot_id|>"]

CORPUS = SYSTEM_PROMPT + """
Please describe the image in detail. What is in the image? Describe the picture.
The image shows a red square on a blue background. There is a small cat sitting on the table.
A dog is running in the green park. The sky is blue and the sun is bright.
What color is the car? The car is red. How many people are in the photo? There are two people.
The answer is yes. The answer is no. Is there a tree in the picture? Yes, there is a tree.
Tell me a short story about a robot that learns to paint.
Once upon a time, a little robot lived in a quiet town. It wanted to paint the world.
assistant user system language vision helpful visual content provides variety tasks natural
The quick brown fox jumps over the lazy dog. 0 1 2 3 4 5 6 7 8 9 10 12 24 100 2024
Answer the question using a single word or phrase.
The image is a photograph of a street with buildings, cars and people walking.
"""


def bytes_to_unicode():
    """GPT-2 byte <-> printable unicode map (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def train_bpe(corpus, n_merges):
    """Classic BPE on ByteLevel pre-tokenized words. Ties between equally frequent pairs go
    to the lexicographically smallest pair, so the result is deterministic."""
    words = collections.Counter()
    for line in byte_level_pretokenize(corpus.split("\n")):
        for w in line:
            words[tuple(w)] += 1
    alphabet = [bytes_to_unicode()[b] for b in range(256)]
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    merges = []
    words = dict(words)
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        nw = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nw[tuple(out)] = nw.get(tuple(out), 0) + c
        words = nw
    return vocab, merges


def tokenizer_json(vocab, merges, auto_bos=False):
    base = len(vocab)
    added = [{"id": base + i, "content": s, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    post = None
    if auto_bos:
        # TemplateProcessing that prepends BOS when special tokens are on (interfaces.md sec 1)
        bos = {"id": "<|startoftext|>", "type_id": 0}
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": bos}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": bos}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<|startoftext|>": {"id": "<|startoftext|>", "ids": [base],
                                                       "tokens": ["<|startoftext|>"]}}}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": post,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": ["%s %s" % m for m in merges]},
    }


CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}")


def tokenizer_config():
    return {"add_bos_token": False, "add_eos_token": False, "bos_token": "<|startoftext|>",
            "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "cls_token": "[CLS]",
            "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
            "model_max_length": 8192, "tokenizer_class": "PreTrainedTokenizerFast",
            "added_tokens_decoder": {}}


# ---------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------

class Rand:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def n(self, *shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=self.g, dtype=torch.float32) * std + mean).numpy()


def llm_weights(r, D=64, F=128, L=2, V=VOCAB_ROWS, ids=None, eot_boost=1.0):
    """LLaMA-style names. lm_head rows of never-generated specials (mask, CLS, ...) are zero so
    their logit is exactly 0 and random weights never predict them; EOT row scaled by eot_boost.
    Shapes: embed/lm_head [V, D], q/k/v/o [D, D], gate/up [F, D], down [D, F], norms [D]."""
    W = {"model.embed_tokens.weight": r.n(V, D, std=1.0)}
    # a short mask embedding: the residual of a mask row is then dominated by what it attends
    # to, otherwise every masked position of a random model predicts the same token
    W["model.embed_tokens.weight"][ids["<|mdm_mask|>"]] *= 0.05
    for l in range(L):
        p = "model.layers.%d." % l
        W[p + "input_layernorm.weight"] = r.n(D, std=0.1, mean=1.0)
        # sharp attention (scores std ~5) so RoPE makes the mask rows position-dependent
        W[p + "self_attn.q_proj.weight"] = r.n(D, D, std=0.5)
        W[p + "self_attn.k_proj.weight"] = r.n(D, D, std=0.5)
        W[p + "self_attn.v_proj.weight"] = r.n(D, D, std=0.12)
        W[p + "self_attn.o_proj.weight"] = r.n(D, D, std=0.12)
        W[p + "post_attention_layernorm.weight"] = r.n(D, std=0.1, mean=1.0)
        W[p + "mlp.gate_proj.weight"] = r.n(F, D, std=0.12)
        W[p + "mlp.up_proj.weight"] = r.n(F, D, std=0.12)
        W[p + "mlp.down_proj.weight"] = r.n(D, F, std=0.09)
    W["model.norm.weight"] = r.n(D, std=0.1, mean=1.0)
    head = r.n(V, D, std=0.3)
    for t in ("[CLS]", "[gMASK]", "<|reserved_token_0|>", "<|mdm_mask|>", "<role>", "</role>"):
        head[ids[t]] = 0.0
    head[ids["<|eot_id|>"]] *= eot_boost
    W["lm_head.weight"] = head
    return W


def vision_weights(r, Dv=32, Fv=64, Lv=2, S=56, p=14, D=64):
    pre = "model.vision_tower.vision_tower.vision_model."
    g = S // p
    W = {pre + "embeddings.patch_embedding.weight": r.n(Dv, 3, p, p, std=0.05),
         pre + "embeddings.patch_embedding.bias": r.n(Dv, std=0.02),
         pre + "embeddings.position_embedding.weight": r.n(g * g, Dv, std=0.5)}
    for l in range(Lv):
        q = pre + "encoder.layers.%d." % l
        for nm in ("layer_norm1", "layer_norm2"):
            W[q + nm + ".weight"] = r.n(Dv, std=0.1, mean=1.0)
            W[q + nm + ".bias"] = r.n(Dv, std=0.02)
        for nm in ("q_proj", "k_proj", "v_proj", "out_proj"):
            W[q + "self_attn." + nm + ".weight"] = r.n(Dv, Dv, std=0.18)
            W[q + "self_attn." + nm + ".bias"] = r.n(Dv, std=0.02)
        W[q + "mlp.fc1.weight"] = r.n(Fv, Dv, std=0.18)
        W[q + "mlp.fc1.bias"] = r.n(Fv, std=0.02)
        W[q + "mlp.fc2.weight"] = r.n(Dv, Fv, std=0.13)
        W[q + "mlp.fc2.bias"] = r.n(Dv, std=0.02)
    # present in the checkpoint, never applied (spec sec 1.2)
    W[pre + "post_layernorm.weight"] = r.n(Dv, std=0.1, mean=1.0)
    W[pre + "post_layernorm.bias"] = r.n(Dv, std=0.02)
    W["model.mm_projector.0.weight"] = r.n(D, Dv, std=0.18)
    W["model.mm_projector.0.bias"] = r.n(D, std=0.02)
    W["model.mm_projector.2.weight"] = r.n(D, D, std=0.15)
    W["model.mm_projector.2.bias"] = r.n(D, std=0.02)
    W["model.image_newline"] = r.n(D, std=1.0)
    return W


def to_olmo(W):
    inv_g = {"model.embed_tokens.weight": "model.transformer.wte.weight",
             "model.norm.weight": "model.transformer.ln_f.weight",
             "lm_head.weight": "model.transformer.ff_out.weight"}
    inv_b = {"input_layernorm": "attn_norm", "self_attn.q_proj": "q_proj",
             "self_attn.k_proj": "k_proj", "self_attn.v_proj": "v_proj",
             "self_attn.o_proj": "attn_out", "post_attention_layernorm": "ff_norm",
             "mlp.gate_proj": "ff_proj", "mlp.up_proj": "up_proj", "mlp.down_proj": "ff_out"}
    out = {}
    for k, v in W.items():
        if k in inv_g:
            out[inv_g[k]] = v
            continue
        parts = k.split(".")            # model.layers.N.<a>[.<b>].weight
        out["model.transformer.blocks.%s.%s.weight" % (parts[2], inv_b[".".join(parts[3:-1])])] = v
    return out


def llava_config(ids, tok_len, pinpoints, rope_theta, extra=None):
    c = {
        "architectures": ["LlavaLLaDAModelLM"], "model_type": "llava_llada",
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "hidden_act": "silu",
        "rms_norm_eps": 1e-5, "rope_theta": rope_theta, "rope_scaling": None,
        "vocab_size": VOCAB_ROWS, "tie_word_embeddings": False, "attention_bias": False,
        "pretraining_tp": 1, "max_position_embeddings": 4096,
        "bos_token_id": 128000,      # the real config's LLaMA-3 leftover: must be ignored
        "eos_token_id": ids["<|endoftext|>"], "pad_token_id": ids["<|endoftext|>"],
        "torch_dtype": "float32",
        "mm_vision_tower": "tiny-siglip", "mm_hidden_size": 32, "mm_projector_type": "mlp2x_gelu",
        "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
        "mm_patch_merge_type": "spatial_unpad", "image_aspect_ratio": "anyres_max_4",
        "image_grid_pinpoints": pinpoints, "mm_newline_position": "grid",
        "mm_use_im_start_end": False, "mm_use_im_patch_token": False,
        "tokenizer_model_max_length": 8192, "tokenizer_padding_side": "right",
        "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                          "num_attention_heads": 2, "image_size": 56, "patch_size": 14,
                          "layer_norm_eps": 1e-6, "hidden_act": "gelu_pytorch_tanh"},
    }
    c.update(extra or {})
    return c


def olmo_config(ids):
    return {
        "architectures": ["LLaDAModelLM"], "model_type": "llada", "d_model": 64, "n_heads": 4,
        "n_kv_heads": 4, "n_layers": 2, "mlp_hidden_size": 128, "mlp_ratio": 2,
        "activation_type": "silu", "block_type": "llama", "layer_norm_type": "rms",
        "rms_norm_eps": 1e-5, "rope": True, "rope_full_precision": True, "rope_theta": 500000.0,
        "embedding_size": VOCAB_ROWS, "vocab_size": VOCAB_ROWS, "weight_tying": False,
        "include_bias": False, "include_qkv_bias": False, "max_sequence_length": 4096,
        "mask_token_id": ids["<|mdm_mask|>"], "eos_token_id": ids["<|endoftext|>"],
        "pad_token_id": ids["<|endoftext|>"], "scale_logits": False, "precision": "amp_bf16",
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def write_model(d, W, config, tok, dtype="F32", shards=1, auto_bos=False, extra_files=None):
    os.makedirs(d, exist_ok=True)
    for fn in os.listdir(d):
        os.remove(os.path.join(d, fn))
    write_json(os.path.join(d, "config.json"), config)
    write_json(os.path.join(d, "tokenizer.json"), tokenizer_json(*tok, auto_bos=auto_bos))
    write_json(os.path.join(d, "tokenizer_config.json"), tokenizer_config())
    ids = {s: len(tok[0]) + i for i, s in enumerate(SPECIALS)}
    write_json(os.path.join(d, "generation_config.json"),
               {"bos_token_id": ids["<|startoftext|>"], "eos_token_id": ids["<|endoftext|>"]})
    names = sorted(W)
    dt = {k: dtype for k in names}
    if shards == 1:
        st_io.save(os.path.join(d, "model.safetensors"), W, {"format": "pt"}, dt)
        return
    per = (len(names) + shards - 1) // shards
    wmap, total = {}, 0
    for s in range(shards):
        fn = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        part = {k: W[k] for k in names[s * per:(s + 1) * per]}
        st_io.save(os.path.join(d, fn), part, {"format": "pt"}, dt)
        for k, v in part.items():
            wmap[k] = fn
            total += v.size * (2 if dtype in ("BF16", "F16") else 4)
    write_json(os.path.join(d, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": wmap})


# ---------------------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------------------

def pattern(w, h, seed):
    """Smooth gradients + a few rectangles + mild noise: structured, varied per image."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.28)
        img[..., c] = 127 + 100 * np.sin(fx * 6.28 * x / w + ph) * np.cos(fy * 6.28 * y / h)
    for _ in range(3):
        x0, y0 = rng.randint(0, max(1, w - 2)), rng.randint(0, max(1, h - 2))
        x1, y1 = x0 + rng.randint(1, max(2, w // 2)), y0 + rng.randint(1, max(2, h // 2))
        img[y0:y1, x0:x1] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_images(d):
    os.makedirs(d, exist_ok=True)
    Image.fromarray(pattern(56, 56, 1)).save(os.path.join(d, "square_56.png"))
    Image.fromarray(pattern(150, 60, 2)).save(os.path.join(d, "wide_150x60.png"))
    Image.fromarray(pattern(50, 130, 3)).save(os.path.join(d, "tall_50x130.jpg"), quality=90)
    Image.fromarray(pattern(9, 7, 4)).convert("L").save(os.path.join(d, "tiny_9x7_gray.png"))
    Image.fromarray(pattern(400, 300, 5)).quantize(colors=32, method=Image.MEDIANCUT, dither=Image.NONE) \
        .save(os.path.join(d, "large_400x300_palette.png"))
    rgba = np.concatenate([pattern(100, 80, 6), pattern(100, 80, 7)[..., :1]], axis=2)
    Image.fromarray(rgba, "RGBA").save(os.path.join(d, "rgba_100x80.png"))


def main(fx):
    write_images(os.path.join(fx, "images"))
    vocab, merges = train_bpe(CORPUS, N_MERGES)
    tok = (vocab, merges)
    ids = {s: len(vocab) + i for i, s in enumerate(SPECIALS)}
    tok_len = len(vocab) + len(SPECIALS)
    md = os.path.join(fx, "models")
    # (a) single-file F32, LLaMA names, string pinpoints, no mask_token_id (looked up by content)
    r = Rand(1234)
    W = llm_weights(r, ids=ids)
    W.update(vision_weights(r))
    write_model(os.path.join(md, "tiny-f32"), W,
                llava_config(ids, tok_len, "(1x1),...,(3x3)", 10000.0), tok)
    # (b) BF16, 3 shards, list pinpoints, explicit mask_token_id, tokenizer with a BOS
    #     post-processor, EOT row boosted so <|eot_id|> stops generation early
    r = Rand(5678)
    W = llm_weights(r, ids=ids, eot_boost=2.5)
    W.update(vision_weights(r))
    pp = [[56 * i, 56 * j] for i in range(1, 4) for j in range(1, 4)]
    write_model(os.path.join(md, "tiny-bf16-sharded"), W,
                llava_config(ids, tok_len, pp, 500000.0,
                             {"mask_token_id": ids["<|mdm_mask|>"], "torch_dtype": "bfloat16"}),
                tok, dtype="BF16", shards=3, auto_bos=True)
    # (d) F16 single file, image_aspect_ratio "pad" (expand2square, one view) + "flat" merge
    r = Rand(2468)
    W = llm_weights(r, ids=ids)
    W.update(vision_weights(r))
    write_model(os.path.join(md, "tiny-f16-pad"), W,
                llava_config(ids, tok_len, "(1x1),...,(3x3)", 10000.0,
                             {"image_aspect_ratio": "pad", "mm_patch_merge_type": "flat",
                              "torch_dtype": "float16"}), tok, dtype="F16")
    # (c) text-only original LLaDA layout (OLMo names + config keys), F32
    r = Rand(91011)
    write_model(os.path.join(md, "tiny-olmo"), to_olmo(llm_weights(r, ids=ids)), olmo_config(ids), tok)
    # sanity: the HF library loads our tokenizer.json and round-trips text
    t = HFTokenizer(os.path.join(md, "tiny-f32", "tokenizer.json"))
    assert t.length == tok_len, (t.length, tok_len)
    probe = "Describe the image.\n\n<|eot_id|>héllo 2024!"
    enc = t.encode(probe, special=False)
    assert t.decode(enc) == probe, t.decode(enc)
    assert ids["<|eot_id|>"] in enc
    print("tokenizer: %d base + %d added, len %d" % (len(vocab), len(SPECIALS), tok_len))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fixtures"))
