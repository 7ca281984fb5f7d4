"""lladav_ref.py - fp32 PyTorch reference of LLaDA-V inference, written from
/work/shared/spec/lladav-inference.md (section numbers below refer to it) and
spec/interfaces.md. Not a copy of the official code.

  image --PIL RGB--> views [n_views,3,S,S] (sec 3) --SigLIP (4.1)--> [n_views,P,Dv]
        --mlp2x_gelu (4.2)--> [n_views,P,D] --merge (4.3)--> image_embeds [N_img,D]
  text  --llava_llada template (5.2)--> tokenizer_image_token (5.3) --> ids with -200
  embeds (5.4) --> generate_with_embeds (6.1-6.4, 6.6) with the LLaDA forward (4.4) in fp32

Numerics: everything fp32 (the C port is fp32), sampler confidences and Gumbel in float64 as
the official code. The reference's fp16 casts (pixels, weights, autocast) are NOT emulated.

CLI:  /usr/bin/python3 lladav_ref.py dump --model DIR [--image PATH] --prompt TEXT
        [--steps N] [--gen-length N] [--block-length N] [--temperature T]
        [--remasking low_confidence|random] [--cfg S] [--seed N] --out FILE.safetensors
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import st_io  # noqa: E402
from hf_tok import HFTokenizer  # noqa: E402

REF_VERSION = "lladav-ref 1"
IMAGE_TOKEN_INDEX = -200
SYSTEM_PROMPT = ("You are a helpful language and vision assistant. You are able to understand "
                 "the visual content that the user provides, and assist the user with a variety "
                 "of tasks using natural language.")
SIGLIP_DEFAULTS = dict(hidden_size=1152, intermediate_size=4304, num_attention_heads=16,
                       image_size=384, patch_size=14, layer_norm_eps=1e-6,
                       hidden_act="gelu_pytorch_tanh")

# 2 shared cores; the tiny models don't need more. tests/bench/compare.sh sets LV_REF_THREADS to
# time the reference with as many threads as lladav.
torch.set_num_threads(int(os.environ.get("LV_REF_THREADS", "1")))


# ----------------------------------------------------------------------------------------
# Model directory (interfaces.md sec 1)
# ----------------------------------------------------------------------------------------

# OLMo-style (original LLaDA) -> LLaMA-style (LLaDA-V) names, spec sec 2.2. Order matters:
# the model-level ff_out (LM head) is matched before the block-level ff_out (down proj).
_OLMO_GLOBAL = {"model.transformer.wte.weight": "model.embed_tokens.weight",
                "model.transformer.ln_f.weight": "model.norm.weight",
                "model.transformer.ff_out.weight": "lm_head.weight"}
_OLMO_BLOCK = {"attn_norm": "input_layernorm", "q_proj": "self_attn.q_proj",
               "k_proj": "self_attn.k_proj", "v_proj": "self_attn.v_proj",
               "attn_out": "self_attn.o_proj", "ff_norm": "post_attention_layernorm",
               "ff_proj": "mlp.gate_proj", "up_proj": "mlp.up_proj", "ff_out": "mlp.down_proj"}
_OLMO_BLOCK_RE = re.compile(r"^model\.transformer\.blocks\.(\d+)\.([a-z_]+)\.weight$")


def canonical_name(name):
    if name in _OLMO_GLOBAL:
        return _OLMO_GLOBAL[name]
    m = _OLMO_BLOCK_RE.match(name)
    if m and m.group(2) in _OLMO_BLOCK:
        return "model.layers.%s.%s.weight" % (m.group(1), _OLMO_BLOCK[m.group(2)])
    return name


def load_weights(model_dir):
    """All tensors as float32 torch tensors under LLaMA-style names. Single file or shards."""
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for fn in files:
        t, _ = st_io.load(os.path.join(model_dir, fn))
        for k, v in t.items():
            out[canonical_name(k)] = torch.from_numpy(v.astype(np.float32))
    return out


class Config:
    """Everything the reference needs from config.json + tokenizer, with spec defaults."""

    def __init__(self, model_dir, weights, tok):
        with open(os.path.join(model_dir, "config.json")) as f:
            c = json.load(f)
        self.raw = c
        g = lambda *keys, default=None: next((c[k] for k in keys if k in c and c[k] is not None), default)  # noqa: E731
        self.hidden_size = int(g("hidden_size", "d_model"))
        self.num_heads = int(g("num_attention_heads", "n_heads"))
        self.num_kv_heads = int(g("num_key_value_heads", "n_kv_heads", default=self.num_heads))
        self.num_layers = int(g("num_hidden_layers", "n_layers"))
        self.intermediate_size = int(g("intermediate_size", "mlp_hidden_size"))
        self.rms_norm_eps = float(g("rms_norm_eps", default=1e-5))
        self.rope_theta = float(g("rope_theta", default=10000.0))
        self.vocab_rows = int(weights["model.embed_tokens.weight"].shape[0])
        self.tie = bool(g("tie_word_embeddings", "weight_tying", default=False))
        if self.num_kv_heads != self.num_heads:
            raise ValueError("GQA not part of LLaDA (num_key_value_heads != num_attention_heads)")
        if c.get("rope_scaling"):
            raise ValueError("rope_scaling must be null")
        # special ids by content (interfaces.md sec 1)
        self.tok_len = tok.length
        self.v_eff = min(self.tok_len, self.vocab_rows)
        mid = c.get("mask_token_id")
        if mid is None:
            mid = tok.token_id("<|mdm_mask|>")
        self.mask_id = int(mid if mid is not None else 126336)
        self.bos_id = tok.token_id("<|startoftext|>")
        self.eos_id = tok.token_id("<|endoftext|>")
        self.eot_id = tok.token_id("<|eot_id|>")
        self.sh_id = tok.token_id("<|start_header_id|>")
        self.eh_id = tok.token_id("<|end_header_id|>")
        # multimodal
        self.multimodal = "mm_projector_type" in c or "model.mm_projector.0.weight" in weights
        if self.multimodal:
            vc = dict(SIGLIP_DEFAULTS)
            vc.update({k: v for k, v in (c.get("vision_config") or {}).items() if k in SIGLIP_DEFAULTS})
            self.v_hidden = int(vc["hidden_size"])
            self.v_inter = int(vc["intermediate_size"])
            self.v_heads = int(vc["num_attention_heads"])
            self.v_image = int(vc["image_size"])
            self.v_patch = int(vc["patch_size"])
            self.v_eps = float(vc["layer_norm_eps"])
            self.v_act = vc["hidden_act"]
            pre = "model.vision_tower.vision_tower.vision_model.encoder.layers."
            ids = {int(k[len(pre):].split(".")[0]) for k in weights if k.startswith(pre)}
            self.v_layers = max(ids) + 1 if ids else 0   # every layer present is run
            self.projector_type = c.get("mm_projector_type", "mlp2x_gelu")
            self.aspect = c.get("image_aspect_ratio", "anyres_max_4")
            self.pinpoints = parse_pinpoints(c.get("image_grid_pinpoints"), self.v_image)
            self.merge_type = c.get("mm_patch_merge_type", "spatial_unpad")

    def params(self):
        return {k: v for k, v in self.__dict__.items() if k != "raw"}


def parse_pinpoints(pp, unit):
    """image_grid_pinpoints -> list of (w, h). String "(1x1),...,(6x6)": range from the first to
    the last pair, i outer / j inner, each times the vision image size (spec sec 1.3, 3.2)."""
    if pp is None:
        return []
    if isinstance(pp, str):
        pairs = [tuple(map(int, m)) for m in re.findall(r"\((\d+)x(\d+)\)", pp)]
        (a0, b0), (a1, b1) = pairs[0], pairs[-1]
        return [(i * unit, j * unit) for i in range(a0, a1 + 1) for j in range(b0, b1 + 1)]
    return [(int(w), int(h)) for w, h in pp]


# ----------------------------------------------------------------------------------------
# Image preprocessing (sec 3)
# ----------------------------------------------------------------------------------------

def load_image(path):
    """PIL open + convert("RGB"): palette expanded, alpha dropped (not composited), L replicated."""
    with Image.open(path) as im:
        im.load()
        return im.convert("RGB")


def select_best_resolution(W, H, candidates):
    """sec 3.2: doubles, C-style truncation, first candidate wins ties."""
    best, best_eff, best_waste = None, 0, float("inf")
    for wc, hc in candidates:
        s = min(wc / W, hc / H)
        dw, dh = int(W * s), int(H * s)
        eff = min(dw * dh, W * H)
        waste = wc * hc - eff
        if eff > best_eff or (eff == best_eff and waste < best_waste):
            best, best_eff, best_waste = (wc, hc), eff, waste
    return best


def resize_and_pad_geometry(W, H, wc, hc):
    """sec 3.3 -> (nw, nh, x_off, y_off)."""
    sw, sh = wc / W, hc / H
    if sw < sh:
        nw, nh = wc, min(math.ceil(H * sw), hc)
    else:
        nh, nw = hc, min(math.ceil(W * sh), wc)
    return nw, nh, (wc - nw) // 2, (hc - nh) // 2


def to_pixels(view):
    """sec 3.5: uint8 HWC -> float32 CHW in [-1, 1]. rescale: float64 multiply then cast;
    normalize in float32. No fp16 cast (the C port is fp32)."""
    a = np.asarray(view, dtype=np.uint8)
    x = (a.astype(np.float64) * (1 / 255)).astype(np.float32)
    y = (x - np.float32(0.5)) / np.float32(0.5)
    return y.transpose(2, 0, 1).copy()


def image_views(img, cfg):
    """img: PIL RGB. Returns (views [n,3,S,S] float32, info dict)."""
    S = cfg.v_image
    W, H = img.size
    if cfg.aspect == "pad":
        # expand2square with the mean colour int(0.5*255) = 127, then a BICUBIC resize to S
        side = max(W, H)
        sq = Image.new("RGB", (side, side), (127, 127, 127))
        sq.paste(img, ((side - W) // 2, 0) if W < H else (0, (side - H) // 2))
        v = sq.resize((S, S), Image.BICUBIC)
        return np.stack([to_pixels(v)]), {"mode": "pad", "size": (W, H)}
    if not cfg.aspect.startswith("anyres"):
        # any other value ("square", absent): the processor's plain BICUBIC resize to S x S
        return np.stack([to_pixels(img.resize((S, S), Image.BICUBIC))]), {"mode": "square", "size": (W, H)}
    wc, hc = select_best_resolution(W, H, cfg.pinpoints)
    nw, nh, x0, y0 = resize_and_pad_geometry(W, H, wc, hc)
    content = img.resize((nw, nh), Image.BICUBIC)   # Pillow: exact copy when size unchanged
    canvas = Image.new("RGB", (wc, hc), (0, 0, 0))
    canvas.paste(content, (x0, y0))
    crops = [canvas.crop((x, y, x + S, y + S)) for y in range(0, hc, S) for x in range(0, wc, S)]
    base = img.resize((S, S), Image.BICUBIC)          # squashed, aspect not preserved
    views = [base] + crops
    # the per-view processor resizes to (S,S) again: a no-op copy, every view is S x S already
    info = {"mode": "anyres", "size": (W, H), "best": (wc, hc), "grid": (wc // S, hc // S),
            "content": (nw, nh), "offset": (x0, y0)}
    return np.stack([to_pixels(v) for v in views]), info


# ----------------------------------------------------------------------------------------
# Vision tower, projector, merge (sec 4.1-4.3)
# ----------------------------------------------------------------------------------------

def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def siglip_forward(W, cfg, pixels):
    """pixels [n,3,S,S] -> features [n,P,Dv]; P = (S//p)^2. No post_layernorm."""
    pre = "model.vision_tower.vision_tower.vision_model."
    x = torch.as_tensor(pixels).to(W[pre + "embeddings.patch_embedding.weight"].dtype)
    n, p, g, Dv, Hh = x.shape[0], cfg.v_patch, cfg.v_image // cfg.v_patch, cfg.v_hidden, cfg.v_heads
    x = x[:, :, :g * p, :g * p]                     # the conv never sees the last S - g*p pixels
    # patches [n, g*g, 3*p*p] in (channel, row, col) order; token index r*g + c
    patches = x.reshape(n, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, 3 * p * p)
    wpe = W[pre + "embeddings.patch_embedding.weight"].reshape(Dv, 3 * p * p)
    h = patches @ wpe.T + W[pre + "embeddings.patch_embedding.bias"]
    h = h + W[pre + "embeddings.position_embedding.weight"][: g * g]
    dh = Dv // Hh
    act = gelu_tanh if cfg.v_act in ("gelu_pytorch_tanh", "gelu_new", "gelu_fast") else gelu_erf
    for l in range(cfg.v_layers):
        q_ = pre + "encoder.layers.%d." % l
        lin = lambda t, nm: t @ W[q_ + nm + ".weight"].T + W[q_ + nm + ".bias"]  # noqa: E731
        a = torch.nn.functional.layer_norm(h, (Dv,), W[q_ + "layer_norm1.weight"],
                                           W[q_ + "layer_norm1.bias"], cfg.v_eps)
        q = lin(a, "self_attn.q_proj").reshape(n, -1, Hh, dh).transpose(1, 2)   # [n,H,P,dh]
        k = lin(a, "self_attn.k_proj").reshape(n, -1, Hh, dh).transpose(1, 2)
        v = lin(a, "self_attn.v_proj").reshape(n, -1, Hh, dh).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) * (dh ** -0.5)
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(n, -1, Dv)
        h = h + lin(o, "self_attn.out_proj")
        m = torch.nn.functional.layer_norm(h, (Dv,), W[q_ + "layer_norm2.weight"],
                                           W[q_ + "layer_norm2.bias"], cfg.v_eps)
        h = h + lin(act(lin(m, "mlp.fc1")), "mlp.fc2")
    return h


def projector_forward(W, cfg, f):
    """mlp2x_gelu: [n,P,Dv] -> [n,P,D], exact erf GELU."""
    if cfg.projector_type != "mlp2x_gelu":
        raise ValueError("mm_projector_type %r not supported" % cfg.projector_type)
    z = f @ W["model.mm_projector.0.weight"].T + W["model.mm_projector.0.bias"]
    return gelu_erf(z) @ W["model.mm_projector.2.weight"].T + W["model.mm_projector.2.bias"]


def unpad_bounds(Hc, Wc, W, H):
    """sec 4.3 unpad: returns (row0, row1, col0, col1) kept of the stitched [Hc, Wc] map."""
    if W / H > Wc / Hc:
        s = Wc / W
        nh = int(H * s)
        pad = (Hc - nh) // 2
        return pad, Hc - pad, 0, Wc
    s = Hc / H
    nw = int(W * s)
    pad = (Wc - nw) // 2
    return 0, Hc, pad, Wc - pad


def merge_geometry(W, H, nx, ny, g, aspect):
    """Token-count geometry of spatial_unpad. Returns dict with the unpadded (h, w), times and the
    final (h', w') and N_img = g*g + h'*(w'+1)."""
    Hc, Wc = g * ny, g * nx
    r0, r1, c0, c1 = unpad_bounds(Hc, Wc, W, H)
    h, w = r1 - r0, c1 - c0
    m = re.match(r"anyres_max_(\d+)", aspect)
    times, hf, wf = None, h, w
    if m:
        times = math.sqrt(h * w / (int(m.group(1)) * g * g))
        if times > 1.1:
            hf, wf = int(h // times), int(w // times)   # Python float floor division
    return {"stitched": (Hc, Wc), "bounds": (r0, r1, c0, c1), "unpadded": (h, w), "times": times,
            "final": (hf, wf), "n_img": g * g + hf * (wf + 1)}


def merge_views(W_, cfg, Z, info):
    """Z: projected [n_views, P, D] -> image_embeds [N_img, D] (sec 4.3)."""
    g = cfg.v_image // cfg.v_patch
    D = Z.shape[-1]
    if cfg.merge_type == "flat":
        return Z.reshape(-1, D)                      # all views, no newline
    if info["mode"] in ("pad", "square"):
        # one view. The single-image path of the official code (images passed as a list, as in
        # generate_demo.py) appends ONE image_newline after the 729 tokens when the merge type
        # contains "unpad"; spec sec 3.8 describes lmms-eval's multi-image tensor path (729, no
        # newline). README "Open points".
        if "unpad" in cfg.merge_type:
            return torch.cat([Z[0], W_["model.image_newline"][None]], dim=0)
        return Z[0]
    if "unpad" not in cfg.merge_type:
        raise ValueError("mm_patch_merge_type %r not supported" % cfg.merge_type)
    nx, ny = info["grid"]
    W, H = info["size"]
    geo = merge_geometry(W, H, nx, ny, g, cfg.aspect)
    base = Z[0]
    # crops [ny, nx, g, g, D] -> stitched T [D, g*ny, g*nx]
    T = Z[1:].reshape(ny, nx, g, g, D).permute(4, 0, 2, 1, 3).reshape(D, ny * g, nx * g)
    r0, r1, c0, c1 = geo["bounds"]
    T = T[:, r0:r1, c0:c1]
    if geo["final"] != geo["unpadded"]:
        T = torch.nn.functional.interpolate(T[None], size=list(geo["final"]), mode="bilinear",
                                            align_corners=False)[0]
    nl = W_["model.image_newline"].reshape(D, 1, 1).expand(D, T.shape[1], 1)
    T = torch.cat([T, nl], dim=2)                    # newline column after each row
    grid = T.reshape(D, -1).T                        # row-major [h'*(w'+1), D]
    return torch.cat([base, grid], dim=0)


# ----------------------------------------------------------------------------------------
# Prompt (sec 5)
# ----------------------------------------------------------------------------------------

def chat_prompt(user_text):
    """llava_llada template (sec 5.2): system + one user turn + open assistant header."""
    sh, eh, eot = "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"
    s = "<|startoftext|>"
    s += sh + "system" + eh + "\n\n" + SYSTEM_PROMPT.strip() + eot
    s += sh + "user" + eh + "\n\n" + user_text.strip() + eot
    s += sh + "assistant" + eh + "\n\n"
    return s


def user_turn(text, has_image):
    if has_image and "<image>" not in text:
        return "<image>\n" + text
    return text


def tokenizer_image_token(tok, prompt, bos_id):
    """sec 5.3: each <image>-separated chunk tokenized with special tokens on; if the first chunk
    starts with BOS, the first id of EVERY chunk is dropped (after keeping one BOS)."""
    chunks = tok.encode_many(prompt.split("<image>"), special=True)
    out = []
    offset = 0
    if chunks and chunks[0] and bos_id is not None and chunks[0][0] == bos_id:
        offset = 1
        out.append(chunks[0][0])
    for i, ch in enumerate(chunks):
        if i > 0:
            out.append(IMAGE_TOKEN_INDEX)
        out.extend(ch[offset:])
    return out


# ----------------------------------------------------------------------------------------
# LLaDA forward (sec 4.4)
# ----------------------------------------------------------------------------------------

class LLaDA:
    """fp32 (or float64 with dtype=torch.float64, for tolerance measurements) forward."""

    def __init__(self, W, cfg, dtype=torch.float32):
        self.cfg, self.dtype = cfg, dtype
        V = cfg.v_eff   # vocabulary truncated to len(tokenizer) (resize_token_embeddings)
        self.embed = W["model.embed_tokens.weight"][:V].to(dtype)
        head = W["model.embed_tokens.weight"] if cfg.tie and "lm_head.weight" not in W else W["lm_head.weight"]
        self.head = head[:V].to(dtype)
        self.norm = W["model.norm.weight"].to(dtype)
        self.layers = []
        for l in range(cfg.num_layers):
            p = "model.layers.%d." % l
            self.layers.append({k: W[p + n + ".weight"].to(dtype) for k, n in [
                ("ln1", "input_layernorm"), ("q", "self_attn.q_proj"), ("k", "self_attn.k_proj"),
                ("v", "self_attn.v_proj"), ("o", "self_attn.o_proj"),
                ("ln2", "post_attention_layernorm"), ("gate", "mlp.gate_proj"),
                ("up", "mlp.up_proj"), ("down", "mlp.down_proj")]})
        self._rope = {}

    def rms(self, x, w):
        # statistics in fp32 (or the wider dtype), normalise, then multiply by the weight
        xf = x.float() if x.dtype == torch.float16 else x
        r = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.cfg.rms_norm_eps)
        return w * r.to(x.dtype)

    def rope_tables(self, L):
        if L not in self._rope:
            dh = self.cfg.hidden_size // self.cfg.num_heads
            # fp32 as the official LLaDARotaryEmbedding: inv_freq, angles, cos/sin all float32
            inv = 1.0 / (self.cfg.rope_theta ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
            ang = torch.arange(L, dtype=torch.float32)[:, None] * inv[None, :]     # [L, dh/2]
            emb = torch.cat([ang, ang], dim=-1)                                   # [L, dh]
            self._rope[L] = (emb.cos().to(self.dtype), emb.sin().to(self.dtype))
        return self._rope[L]

    def forward(self, E, hidden=None):
        """E: [B, L, D] input embeddings -> logits [B, L, V_eff] (rotate-half RoPE, no mask).
        hidden: a list that receives the residual stream after each layer (diagnostics)."""
        c = self.cfg
        B, L, D = E.shape
        Hh, dh = c.num_heads, D // c.num_heads
        cos, sin = self.rope_tables(L)
        h = E.to(self.dtype)

        def rope(x):                                 # x [B,H,L,dh]; i pairs with i + dh/2
            x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
            return x * cos + torch.cat([-x2, x1], dim=-1) * sin

        for w in self.layers:
            a = self.rms(h, w["ln1"])
            q = rope((a @ w["q"].T).reshape(B, L, Hh, dh).transpose(1, 2))
            k = rope((a @ w["k"].T).reshape(B, L, Hh, dh).transpose(1, 2))
            v = (a @ w["v"].T).reshape(B, L, Hh, dh).transpose(1, 2)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, L, D)
            h = h + o @ w["o"].T
            m = self.rms(h, w["ln2"])
            h = h + (torch.nn.functional.silu(m @ w["gate"].T) * (m @ w["up"].T)) @ w["down"].T
            if hidden is not None:
                hidden.append(h)
        h = self.rms(h, self.norm)
        return h @ self.head.T


# ----------------------------------------------------------------------------------------
# Deterministic noise (README "RNG"): splitmix64 counter hashing, reproducible in C
# ----------------------------------------------------------------------------------------

M64 = (1 << 64) - 1


def splitmix64(x):
    """Vectorised over uint64 numpy arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _key(seed, stream, counter):
    base = ((int(seed) << 32) + (int(stream) << 63)) & M64
    with np.errstate(over="ignore"):
        return np.uint64(base) + np.asarray(counter, dtype=np.uint64)


class CounterNoise:
    """gumbel_u(p, G, V): u in [0,1) float64 [G, V] for forward pass p, response row j, token v:
         u = (splitmix64(seed*2^32 + (p*G + j)*V + v) >> 11) * 2^-53          (stream 0)
       remask_u(p, G): float32-exact confidence [G] for random remasking:
         c = (splitmix64(seed*2^32 + 2^63 + p*G + j) >> 40) * 2^-24           (stream 1)
       All additions mod 2^64."""

    def __init__(self, seed):
        self.seed = int(seed)

    def gumbel_u(self, p, G, V):
        cnt = (np.uint64(p * G * V) + np.arange(G * V, dtype=np.uint64)).reshape(G, V)
        return (splitmix64(_key(self.seed, 0, cnt)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    def remask_u(self, p, G):
        cnt = np.uint64(p * G) + np.arange(G, dtype=np.uint64)
        return (splitmix64(_key(self.seed, 1, cnt)) >> np.uint64(40)).astype(np.float64) * 2.0 ** -24


class TorchNoise:
    """The official code's torch.rand draws (not reproducible outside PyTorch)."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(int(seed))

    def gumbel_u(self, p, G, V):
        return torch.rand((G, V), dtype=torch.float64, generator=self.g).numpy()

    def remask_u(self, p, G):
        return torch.rand((G,), dtype=torch.float32, generator=self.g).double().numpy()


# ----------------------------------------------------------------------------------------
# Sampler (sec 6)
# ----------------------------------------------------------------------------------------

def transfer_schedule(n, steps):
    """sec 6.2: base = n // steps, the first n % steps steps get one more."""
    base, r = divmod(n, steps)
    return [base + 1 if j < r else base for j in range(steps)]


def topk_lowest_index(conf, k):
    """Indices of the k largest values, ties (incl. -inf) to the lowest index: stable sort by
    (-conf, index)."""
    order = sorted(range(len(conf)), key=lambda i: (-conf[i], i))
    return order[:k]


def gumbel_argmax(logits64, u, temperature):
    """sec 6.3 in float64: argmax exp(l) / (-ln u)^T; ties -> lowest id (np.argmax)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        score = np.exp(logits64) / (-np.log(u)) ** temperature
    return np.argmax(score, axis=-1)


def softmax64(l):
    m = np.max(l, axis=-1, keepdims=True)
    e = np.exp(l - m)
    return e / e.sum(-1, keepdims=True)


def generate_with_embeds(model, prompt_embeds, steps, gen_length, block_length, temperature=0.0,
                         cfg_scale=0.0, remasking="low_confidence", noise=None, stop_ids=None,
                         trace=None):
    """LLaDA-V sampler (sec 6.1-6.4, 6.6), batch 1, no suffix. prompt_embeds [Lp, D].
    Returns (response ids list, committed_step [G] int, logits0 [G, V] float32).
    Masks are tracked by id (equivalent to the embedding test, sec 6.7). trace: optional list
    receiving per-pass dicts (margins) for fixture-quality checks."""
    c = model.cfg
    MASK = c.mask_id
    Lp, D = prompt_embeds.shape
    G = gen_length
    Ltot = Lp + G
    if gen_length % block_length:
        raise ValueError("gen_length % block_length != 0")
    nb = gen_length // block_length
    if steps % nb:
        raise ValueError("steps % num_blocks != 0")
    spb = steps // nb
    emb_mask = model.embed[MASK]
    X = torch.cat([prompt_embeds.to(model.dtype), emb_mask[None].expand(G, D)], 0)   # [Ltot, D]
    gen = np.full(G, MASK, dtype=np.int64)          # ids of the response region
    committed = np.full(G, -1, dtype=np.int64)
    stop_ids = [c.eot_id] if stop_ids is None else stop_ids
    bans = [t for t in (c.eos_id, c.bos_id, c.sh_id, c.eh_id) if t is not None]
    found, stop_pos = False, Ltot
    logits0 = None
    npass = 0
    for b in range(nb):
        bs, be = Lp + b * block_length, Lp + (b + 1) * block_length
        if found and stop_pos <= bs:
            break
        n_b = int((gen[bs - Lp:be - Lp] == MASK).sum())
        sched = transfer_schedule(n_b, spb)
        for s in range(spb):
            masked = gen == MASK                     # response rows only; prompt rows never masked
            if found and not masked[: stop_pos - Lp].any():
                break
            if not masked[bs - Lp:be - Lp].any():
                break
            if cfg_scale > 0:
                Xu = X.clone()
                Xu[:Lp] = emb_mask                   # whole prompt (incl. BOS, image rows) masked
                out = model.forward(torch.stack([X, Xu]))
                lc, lu = out[0, Lp:], out[1, Lp:]
                logits = lu + (cfg_scale + 1) * (lc - lu)
            else:
                logits = model.forward(X[None])[0, Lp:]
            logits = logits if logits.dtype == torch.float64 else logits.float()   # [G, V]
            if logits0 is None:
                logits0 = logits.numpy().copy()      # before the bans
            l64 = logits.double().numpy().copy()
            for t in bans:                           # only at masked positions; EOT stays allowed
                l64[masked, t] = -np.inf
            if temperature > 0:
                u = noise.gumbel_u(npass, G, l64.shape[1])
                x0 = gumbel_argmax(l64, u, temperature)
                if trace is not None:
                    with np.errstate(divide="ignore", over="ignore"):
                        score_rows = np.log(np.exp(l64) / (-np.log(u)) ** temperature)
            else:
                x0 = np.argmax(l64, axis=-1)
            if remasking == "low_confidence":
                p = softmax64(l64)
                conf = p[np.arange(G), x0]
            elif remasking == "random":
                conf = noise.remask_u(npass, G).astype(np.float64)
            else:
                raise ValueError("remasking %r" % remasking)
            lim = (stop_pos if found else be) - Lp
            conf = conf.copy()
            conf[lim:] = -np.inf
            conf[~masked] = -np.inf
            # torch.topk over the whole sequence: prompt rows are -inf too and sit at lower
            # indices, so -inf picks (only possible after a stop) land on prompt rows: no-ops
            full = [-np.inf] * Lp + conf.tolist()
            pick = topk_lowest_index(full, sched[s])
            if trace is not None:
                # margins that decide this pass: per committed row the top1 - top2 score gap
                # (logits, or Gumbel scores when T > 0), and the k-th vs (k+1)-th confidence gap
                fin = sorted([v for v in conf.tolist() if v != -np.inf], reverse=True)
                k = sched[s]
                rows = [i - Lp for i in pick if i >= Lp and masked[i - Lp]]
                gaps = []
                for j in rows:
                    srt = np.sort(l64[j] if temperature == 0 else score_rows[j])
                    gaps.append(float(srt[-1] - srt[-2]))
                trace.append({"pass": npass, "k": k, "n_finite": len(fin),
                              "conf_gap": (fin[k - 1] - fin[k]) if 0 < k < len(fin) else None,
                              "argmax_gap": min(gaps) if gaps else None})
            for i in pick:
                if i >= Lp and masked[i - Lp]:
                    j = i - Lp
                    gen[j] = x0[j]
                    X[i] = model.embed[int(x0[j])]
                    committed[j] = npass
            npass += 1
            if stop_ids:
                for sid in stop_ids:                 # single-token stop ids: first occurrence
                    hit = np.nonzero(gen == sid)[0]
                    if len(hit) and (not found or Lp + hit[0] < stop_pos):
                        stop_pos, found = Lp + int(hit[0]), True
                    if found:
                        break
    end = (stop_pos - Lp) if found else G
    return [int(t) for t in gen[:end]], committed, logits0


def generate_text(model, prompt_ids, steps=128, gen_length=128, block_length=128, temperature=0.0,
                  cfg_scale=0.0, remasking="low_confidence", noise=None, logits_eos_inf=False,
                  confidence_eos_eot_inf=False):
    """Original LLaDA generate.py (sec 6.5), batch 1, ids space: no bans, no stop, every block
    runs all its steps (a pass even when k = 0); softmax in the logits dtype (fp32 here).
    Same counter RNG layout as generate_with_embeds (response rows only).
    Returns (ids [Lp+G], committed_step [G])."""
    c = model.cfg
    MASK = c.mask_id
    Lp = len(prompt_ids)
    x = np.array(list(prompt_ids) + [MASK] * gen_length, dtype=np.int64)
    prompt_index = x != MASK
    committed = np.full(gen_length, -1, dtype=np.int64)
    nb = gen_length // block_length
    assert gen_length % block_length == 0 and steps % nb == 0
    spb = steps // nb
    npass = 0
    for b in range(nb):
        bs, be = Lp + b * block_length, Lp + (b + 1) * block_length
        sched = transfer_schedule(int((x[bs:be] == MASK).sum()), spb)
        for s in range(spb):
            mask_index = x == MASK
            if cfg_scale > 0:
                un = x.copy()
                un[prompt_index] = MASK
                out = model.forward(model.embed[torch.from_numpy(np.stack([x, un]))])
                logits = out[1] + (cfg_scale + 1) * (out[0] - out[1])
            else:
                logits = model.forward(model.embed[torch.from_numpy(x)][None])[0]
            logits = logits.clone()
            if logits_eos_inf:
                logits[:, c.eos_id] = -float("inf")
            if temperature > 0:
                full_u = np.zeros((len(x), logits.shape[1]))
                full_u[Lp:] = noise.gumbel_u(npass, gen_length, logits.shape[1])
                full_u[:Lp] = 0.5                    # prompt rows: value irrelevant (never selected)
                x0 = gumbel_argmax(logits.double().numpy(), full_u, temperature)
            else:
                x0 = np.argmax(logits.numpy(), axis=-1)
            if confidence_eos_eot_inf:
                # generate.py's chained assignment `logits_with_noise[..., EOS] = logits[..., EOT]
                # = -inf`: EOT always leaves the softmax; EOS only when T == 0, where
                # logits_with_noise IS logits. x0 is already chosen, so a picked EOT gets conf 0.
                logits[:, c.eot_id] = -float("inf")
                if temperature == 0:
                    logits[:, c.eos_id] = -float("inf")
            if remasking == "low_confidence":
                p = torch.softmax(logits, dim=-1).numpy()
                conf = p[np.arange(len(x)), x0].astype(np.float64)
            else:
                conf = np.concatenate([np.zeros(Lp), noise.remask_u(npass, gen_length)])
            conf[be:] = -np.inf
            conf = np.where(mask_index, conf, -np.inf)
            for i in topk_lowest_index(conf.tolist(), sched[s]):
                if mask_index[i]:
                    x[i] = x0[i]
                    committed[i - Lp] = npass
            npass += 1
    return x, committed


# ----------------------------------------------------------------------------------------
# Pipeline + dump (interfaces.md sec 2)
# ----------------------------------------------------------------------------------------

class Pipeline:
    def __init__(self, model_dir, dtype=torch.float32):
        self.dir = model_dir
        self.tok = HFTokenizer(os.path.join(model_dir, "tokenizer.json"))
        self.W = load_weights(model_dir)
        self.cfg = Config(model_dir, self.W, self.tok)
        if dtype != torch.float32:          # float64 runs only measure the fp32 error
            self.W = {k: v.to(dtype) for k, v in self.W.items()}
        self.llm = LLaDA(self.W, self.cfg, dtype)

    def encode_image(self, path):
        img = load_image(path)
        views, info = image_views(img, self.cfg)
        vision = siglip_forward(self.W, self.cfg, views)
        projected = projector_forward(self.W, self.cfg, vision)
        merged = merge_views(self.W, self.cfg, projected, info)
        return {"views": views, "vision": vision, "projected": projected, "image_embeds": merged,
                "info": info}

    def prompt_ids(self, text, has_image):
        return tokenizer_image_token(self.tok, chat_prompt(user_turn(text, has_image)), self.cfg.bos_id)

    def prompt_embeds(self, ids, image_embeds):
        """sec 5.4: text ids -> embed rows; each -200 -> the image rows."""
        parts = []
        run = []
        for t in ids:
            if t == IMAGE_TOKEN_INDEX:
                if run:
                    parts.append(self.llm.embed[torch.tensor(run)])
                    run = []
                parts.append(image_embeds.to(self.llm.dtype))
            else:
                run.append(t)
        if run:
            parts.append(self.llm.embed[torch.tensor(run)])
        return torch.cat(parts, 0)


def compute(pl, args, trace=None):
    """All dump tensors for one request (numpy, float32 / int32) + image info + prompt length."""
    out = {}
    img = None
    if args.image:
        if not pl.cfg.multimodal:
            raise ValueError("--image given but the model has no vision tower")
        img = pl.encode_image(args.image)
        for k in ("views", "vision", "projected", "image_embeds"):
            out[k] = np.asarray(img[k], dtype=np.float32)
    ids = pl.prompt_ids(args.prompt, img is not None)
    E = pl.prompt_embeds(ids, img["image_embeds"] if img else None)
    noise = CounterNoise(args.seed)
    resp, committed, logits0 = generate_with_embeds(
        pl.llm, E, args.steps, args.gen_length, args.block_length, args.temperature, args.cfg,
        args.remasking, noise, trace=trace)
    out["prompt_ids"] = np.array(ids, dtype=np.int32)
    out["logits0"] = logits0.astype(np.float32)
    out["response_ids"] = np.array(resp, dtype=np.int32)
    out["committed_step"] = committed.astype(np.int32)
    return out, (img["info"] if img else None), int(E.shape[0]), resp


def run_dump(args, trace=None):
    torch.manual_seed(args.seed)
    pl = Pipeline(args.model)
    out, info, Lp, resp = compute(pl, args, trace)
    meta = {
        "reference": REF_VERSION, "torch": torch.__version__.split("+")[0],
        "model": os.path.basename(os.path.normpath(args.model)),
        "image": os.path.basename(args.image) if args.image else "",
        "prompt": args.prompt, "steps": args.steps, "gen_length": args.gen_length,
        "block_length": args.block_length, "temperature": repr(float(args.temperature)),
        "remasking": args.remasking, "cfg": repr(float(args.cfg)), "seed": args.seed,
        "noise": "counter-splitmix64 (README RNG)", "v_eff": pl.cfg.v_eff,
        "mask_id": pl.cfg.mask_id, "prompt_len_embeds": Lp,
        "response_text": pl.tok.decode(resp, skip=False),
    }
    if info:
        meta["image_geometry"] = json.dumps(info, sort_keys=True)
    st_io.save(args.out, out, meta)
    return out, meta


def add_dump_args(ap):
    ap.add_argument("--model", required=True)
    ap.add_argument("--image")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--steps", type=int, default=128)
    ap.add_argument("--gen-length", type=int, default=128)
    ap.add_argument("--block-length", type=int, default=128)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--remasking", default="low_confidence", choices=["low_confidence", "random"])
    ap.add_argument("--cfg", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="lladav_ref.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_dump_args(sub.add_parser("dump", help="write a lladav-dump-format safetensors file"))
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        _, meta = run_dump(args)
        print(json.dumps({"out": args.out, "response": meta["response_text"]}))


if __name__ == "__main__":
    main()
