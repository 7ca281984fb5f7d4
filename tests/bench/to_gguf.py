#!/usr/bin/python3
"""to_gguf.py - write the language-model half of a LLaDA / LLaDA-V checkpoint as a GGUF v3 file that
llama.cpp loads as its "llada" architecture (for tests/bench/llamacpp.sh).

usage: /usr/bin/python3 tests/bench/to_gguf.py MODEL_DIR OUT.gguf [--pre NAME] [--ctx N] [--mask-id N] [--chat-template identity|none]

MODEL_DIR holds config.json, *.safetensors (one file or shards) and tokenizer.json, with LLaMA-style
names (model.layers.N.self_attn.q_proj.weight, ...; the LLaDA-V layout). Vision tower, projector and
image_newline are skipped. numpy only; the GGUF format is written here directly:

  header   "GGUF", u32 version 3, u64 tensor count, u64 KV count
  KV       gguf string key (u64 length + bytes), u32 value type, value (arrays: u32 type, u64 n, items)
  infos    name, u32 n_dims, u64 ne[n_dims] (innermost first), u32 ggml type, u64 offset in data
  data     starts at the next multiple of general.alignment (32); each tensor 32-byte aligned

Conventions (checked against llama.cpp b10256 src/models/llada.cpp, llama-arch.cpp, llama-vocab.cpp):
  * An HF [out, in] row-major matrix is written with ne = [in, out] and the very same bytes.
  * 2-D weights keep their dtype (BF16 = ggml type 30); 1-D norm weights are widened to F32 (type 0).
  * llama.cpp runs LLM_ARCH_LLADA with LLAMA_ROPE_TYPE_NORM (rotation of adjacent pairs), while the
    checkpoint is trained with rotate-half RoPE (pairs i, i + d/2).  The rows of q_proj and k_proj are
    therefore permuted per head, (2, d/2) -> (d/2, 2), which makes the two conventions identical.
  * Tokenizer: byte-level BPE from tokenizer.json -> tokenizer.ggml.model "gpt2"; tokens, token_type
    (1 normal, 3 control for added special tokens), merges ("a b"), pre-tokenizer name from the split
    regex (the LLaMA-3 regex -> "llama-bpe").  The token list is cut to the embedding's row count
    (config vocab_size): a LLaMA-3 tokenizer.json (128256 ids) on a 126464-row LLaDA shape loses ids
    >= 126464, and merges whose result is not in the kept list are dropped.
  * mask id: <|mdm_mask|> if the tokenizer has it inside the vocabulary, else 126336 (LLaDA's id);
    bos/eos/eot from <|startoftext|> / <|endoftext|> / <|eot_id|> when inside the vocabulary.
    add_bos_token / add_eos_token are false (prompts are raw, like `lladav generate --raw`).
  * tokenizer.chat_template is an identity template (the concatenated message contents):
    llama-diffusion-cli always formats -p through the model's chat template and falls back to ChatML
    when the GGUF has none, so this keeps its prompt raw.  --chat-template none leaves the key out.
  * diffusion.shift_logits = false: LLaDA predicts token i from logit row i (Dream shifts by one).
"""
import json
import os
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGN = 32

# gguf value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, \
    T_FLOAT64 = range(13)
# ggml tensor types
GGML_F32, GGML_F16, GGML_BF16 = 0, 1, 30

LLAMA3_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
KNOWN_PRE = {LLAMA3_REGEX: "llama-bpe"}
LLADA_MASK_ID = 126336
IDENTITY_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


def die(msg):
    sys.stderr.write("to_gguf: " + msg + "\n")
    sys.exit(1)


# ---------------------------------------------------------------- safetensors (read-only, mmap)

ST_DTYPES = {"BF16": (np.uint16, GGML_BF16), "F16": (np.float16, GGML_F16), "F32": (np.float32, GGML_F32)}


def load_safetensors(model_dir):
    files = sorted(f for f in os.listdir(model_dir) if f.endswith(".safetensors"))
    if not files:
        die("no *.safetensors in " + model_dir)
    tensors = {}
    for fn in files:
        path = os.path.join(model_dir, fn)
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        base = 8 + n
        mm = np.memmap(path, dtype=np.uint8, mode="r")
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in ST_DTYPES:
                die("%s: unsupported dtype %s" % (name, info["dtype"]))
            npdt, _ = ST_DTYPES[info["dtype"]]
            b, e = info["data_offsets"]
            arr = mm[base + b: base + e].view(npdt).reshape(info["shape"])
            tensors[name] = (arr, info["dtype"])
    return tensors


def bf16_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


# ---------------------------------------------------------------- GGUF writer

class GGUFWriter:
    def __init__(self):
        self.kv = []        # (key, type, payload bytes)
        self.tensors = []   # (name, ne list, ggml type, numpy array whose bytes are written)

    @staticmethod
    def _str(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def add(self, key, vtype, value):
        if vtype == T_STRING:
            payload = self._str(value)
        elif vtype == T_BOOL:
            payload = struct.pack("<?", bool(value))
        elif vtype == T_UINT32:
            payload = struct.pack("<I", value)
        elif vtype == T_INT32:
            payload = struct.pack("<i", value)
        elif vtype == T_FLOAT32:
            payload = struct.pack("<f", value)
        elif vtype == T_UINT64:
            payload = struct.pack("<Q", value)
        else:
            die("kv type %d not handled" % vtype)
        self.kv.append((key, vtype, payload))

    def add_array(self, key, etype, values):
        if etype == T_STRING:
            body = b"".join(self._str(v) for v in values)
        elif etype == T_INT32:
            body = np.asarray(values, dtype="<i4").tobytes()
        else:
            die("array type %d not handled" % etype)
        self.kv.append((key, T_ARRAY, struct.pack("<IQ", etype, len(values)) + body))

    def add_tensor(self, name, ne, gtype, arr):
        self.tensors.append((name, list(ne), gtype, arr))

    def write(self, path):
        infos = []
        off = 0
        for name, ne, gtype, arr in self.tensors:
            infos.append(self._str(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne) +
                         struct.pack("<IQ", gtype, off))
            off += arr.nbytes
            off = (off + ALIGN - 1) // ALIGN * ALIGN
        with open(path, "wb") as f:
            f.write(GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv)))
            for key, vtype, payload in self.kv:
                f.write(self._str(key) + struct.pack("<I", vtype) + payload)
            for info in infos:
                f.write(info)
            pad = (-f.tell()) % ALIGN
            f.write(b"\0" * pad)
            data0 = f.tell()
            for name, ne, gtype, arr in self.tensors:
                assert (f.tell() - data0) % ALIGN == 0
                # write in row chunks so a permuted/widened 1 GB tensor is never copied whole
                a = np.ascontiguousarray(arr) if arr.ndim == 1 else arr
                if a.ndim == 1:
                    f.write(a.tobytes())
                else:
                    step = max(1, (64 << 20) // max(1, a[0].nbytes))
                    for r in range(0, a.shape[0], step):
                        f.write(np.ascontiguousarray(a[r:r + step]).tobytes())
                f.write(b"\0" * ((-f.tell() + data0) % ALIGN))


# ---------------------------------------------------------------- conversion

def permute_rope(w, n_head):
    """rotate-half rows (per head: [x0..x(d/2-1) | y0..]) -> adjacent pairs (x0 y0 x1 y1 ...)."""
    out, inp = w.shape
    d = out // n_head
    return w.reshape(n_head, 2, d // 2, inp).swapaxes(1, 2).reshape(out, inp)


def tokenizer_kv(g, tok_path, n_vocab, pre_override, mask_override, chat_template):
    tj = json.load(open(tok_path, encoding="utf-8"))
    model = tj["model"]
    if model.get("type") != "BPE":
        die("tokenizer.json model type %r: only byte-level BPE is handled" % model.get("type"))
    pre = tj.get("pre_tokenizer") or {}
    byte_level = False
    regex = None
    for p in ([pre] if pre.get("type") != "Sequence" else pre.get("pretokenizers", [])):
        if p.get("type") == "ByteLevel":
            byte_level = True
        if p.get("type") == "Split":
            regex = p.get("pattern", {}).get("Regex")
    if not byte_level and (tj.get("decoder") or {}).get("type") != "ByteLevel":
        die("tokenizer.json is not byte-level BPE")
    pre_name = pre_override or KNOWN_PRE.get(regex)
    if not pre_name:
        die("unknown pre-tokenizer regex %r: pass --pre NAME (a tokenizer.ggml.pre value llama.cpp knows)" % regex)

    id_to_tok = {}
    for t, i in model["vocab"].items():
        id_to_tok[i] = t
    special = set()
    for a in tj.get("added_tokens", []):
        id_to_tok[a["id"]] = a["content"]
        if a.get("special"):
            special.add(a["id"])
    n_tok = max(id_to_tok) + 1
    if n_tok < n_vocab:
        # pad like upstream converters do ([PADn] tokens), so the list matches the embedding rows
        for i in range(n_vocab):
            id_to_tok.setdefault(i, "[PAD%d]" % i)
    elif n_tok > n_vocab:
        sys.stderr.write("to_gguf: tokenizer has %d ids, model %d rows: ids >= %d dropped\n" % (n_tok, n_vocab, n_vocab))
    tokens = []
    types = []
    for i in range(n_vocab):
        t = id_to_tok.get(i)
        if t is None:
            t = "[PAD%d]" % i
            types.append(5)  # unused
        else:
            types.append(3 if i in special else 1)
        tokens.append(t)
    kept = set(tokens)
    merges = []
    dropped = 0
    for m in model.get("merges", []):
        a, b = (m.split(" ", 1) if isinstance(m, str) else m)
        if a in kept and b in kept and (a + b) in kept:
            merges.append(a + " " + b)
        else:
            dropped += 1
    if dropped:
        sys.stderr.write("to_gguf: %d merges dropped (result outside the kept ids)\n" % dropped)

    def added(name):
        for a in tj.get("added_tokens", []):
            if a["content"] == name and a["id"] < n_vocab:
                return a["id"]
        return None

    g.add("tokenizer.ggml.model", T_STRING, "gpt2")
    g.add("tokenizer.ggml.pre", T_STRING, pre_name)
    g.add_array("tokenizer.ggml.tokens", T_STRING, tokens)
    g.add_array("tokenizer.ggml.token_type", T_INT32, types)
    g.add_array("tokenizer.ggml.merges", T_STRING, merges)
    mask = mask_override if mask_override is not None else added("<|mdm_mask|>")
    if mask is None:
        mask = LLADA_MASK_ID
    if not 0 <= mask < n_vocab:
        die("mask id %d outside the vocabulary [0, %d): pass --mask-id N" % (mask, n_vocab))
    g.add("tokenizer.ggml.mask_token_id", T_UINT32, mask)
    for key, name in (("bos", "<|startoftext|>"), ("eos", "<|endoftext|>"), ("eot", "<|eot_id|>")):
        i = added(name)
        if i is not None:
            g.add("tokenizer.ggml.%s_token_id" % key, T_UINT32, i)
    g.add("tokenizer.ggml.add_bos_token", T_BOOL, False)
    g.add("tokenizer.ggml.add_eos_token", T_BOOL, False)
    if chat_template:
        g.add("tokenizer.chat_template", T_STRING, chat_template)
    return pre_name, mask, len(merges)


def main(argv):
    args = list(argv)
    opts = {"--pre": None, "--ctx": None, "--mask-id": None, "--chat-template": "identity"}
    pos = []
    while args:
        a = args.pop(0)
        if a in opts:
            if not args:
                die(a + " needs a value")
            opts[a] = args.pop(0)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            pos.append(a)
    if len(pos) != 2:
        die("usage: to_gguf.py MODEL_DIR OUT.gguf [--pre NAME] [--ctx N] [--mask-id N] [--chat-template identity|none]")
    model_dir, out = pos
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    H = cfg["hidden_size"]
    F = cfg["intermediate_size"]
    L = cfg["num_hidden_layers"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)
    V = cfg["vocab_size"]
    eps = cfg.get("rms_norm_eps", 1e-5)
    theta = cfg.get("rope_theta", 10000.0)
    if cfg.get("rope_scaling"):
        die("rope_scaling is not handled")
    ctx = int(opts["--ctx"] or cfg.get("max_position_embeddings") or cfg.get("max_sequence_length") or 4096)
    hd = H // nh

    st = load_safetensors(model_dir)
    # LLaDA-V / LLaMA names; a text-only LLaDA synth may also use them (OLMo-style names are not handled)
    if "model.embed_tokens.weight" not in st:
        die("no model.embed_tokens.weight: expected LLaMA-style names (model.layers.N.self_attn.q_proj...)")

    g = GGUFWriter()
    g.add("general.architecture", T_STRING, "llada")
    g.add("general.name", T_STRING, os.path.basename(os.path.abspath(model_dir)))
    g.add("general.alignment", T_UINT32, ALIGN)
    g.add("llada.context_length", T_UINT32, ctx)
    g.add("llada.embedding_length", T_UINT32, H)
    g.add("llada.block_count", T_UINT32, L)
    g.add("llada.feed_forward_length", T_UINT32, F)
    g.add("llada.attention.head_count", T_UINT32, nh)
    g.add("llada.attention.head_count_kv", T_UINT32, nkv)
    g.add("llada.attention.layer_norm_rms_epsilon", T_FLOAT32, float(eps))
    g.add("llada.rope.freq_base", T_FLOAT32, float(theta))
    g.add("llada.rope.dimension_count", T_UINT32, hd)
    g.add("llada.vocab_size", T_UINT32, V)
    g.add("diffusion.shift_logits", T_BOOL, False)
    pre_name, mask, n_merges = tokenizer_kv(g, os.path.join(model_dir, "tokenizer.json"), V, opts["--pre"],
                                            None if opts["--mask-id"] is None else int(opts["--mask-id"]),
                                            IDENTITY_TEMPLATE if opts["--chat-template"] == "identity" else None)

    def get(name, shape):
        if name not in st:
            die("missing tensor " + name)
        arr, dt = st[name]
        if list(arr.shape) != list(shape):
            die("%s: shape %s, expected %s" % (name, list(arr.shape), list(shape)))
        return arr, dt

    def mat(gname, hname, shape, permute_heads=0):
        arr, dt = get(hname, shape)
        if permute_heads:
            arr = permute_rope(arr, permute_heads)
        g.add_tensor(gname, [shape[1], shape[0]], ST_DTYPES[dt][1], arr)

    def vec(gname, hname, n):
        arr, dt = get(hname, [n])
        a = bf16_to_f32(np.asarray(arr)) if dt == "BF16" else np.asarray(arr, dtype=np.float32)
        g.add_tensor(gname, [n], GGML_F32, np.ascontiguousarray(a, dtype="<f4"))

    mat("token_embd.weight", "model.embed_tokens.weight", [V, H])
    for i in range(L):
        p = "model.layers.%d." % i
        b = "blk.%d." % i
        vec(b + "attn_norm.weight", p + "input_layernorm.weight", H)
        mat(b + "attn_q.weight", p + "self_attn.q_proj.weight", [nh * hd, H], nh)
        mat(b + "attn_k.weight", p + "self_attn.k_proj.weight", [nkv * hd, H], nkv)
        mat(b + "attn_v.weight", p + "self_attn.v_proj.weight", [nkv * hd, H])
        mat(b + "attn_output.weight", p + "self_attn.o_proj.weight", [H, nh * hd])
        vec(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", H)
        mat(b + "ffn_gate.weight", p + "mlp.gate_proj.weight", [F, H])
        mat(b + "ffn_up.weight", p + "mlp.up_proj.weight", [F, H])
        mat(b + "ffn_down.weight", p + "mlp.down_proj.weight", [H, F])
    vec("output_norm.weight", "model.norm.weight", H)
    if "lm_head.weight" in st and not cfg.get("tie_word_embeddings", False):
        mat("output.weight", "lm_head.weight", [V, H])
    # else: llama.cpp's llada loader falls back to token_embd for the output projection

    g.write(out)
    sys.stderr.write("to_gguf: wrote %s: arch llada, %d tensors, %d KV, vocab %d, pre %s, mask %d, %d merges\n" %
                     (out, len(g.tensors), len(g.kv), V, pre_name, mask, n_merges))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
