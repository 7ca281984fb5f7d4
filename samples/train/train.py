"""train.py - trains the bundled "shapes" model: LLaDA-V architecture, tiny sizes, synthetic data.

Pipeline (all model code comes from tests/reference via common.py):
  gen_data scenes --> byte-level BPE tokenizer (reference BPE trainer, HF tokenizers via node)
  --> random init in the real checkpoint layout --> LLaDA-V SFT objective --> model dir
  (config.json with vision_config, model.safetensors F32, tokenizer.json, tokenizer_config.json,
  generation_config.json) + training.json (hyper-parameters, wall time, loss curve) + loss.png.

Objective (LLaDA SFT as used by LLaDA-V): image tokens and prompt are never masked; the
response (answer ids, then <|eot_id|> repeated to the sample's generation length) is masked
token-wise with probability p = (1 - eps) t + eps, t ~ U(0,1) per sample; the loss is the
cross-entropy on masked response tokens weighted 1/p, divided by the sample's response length,
averaged over the batch. --eot-weight scales the eot padding's terms (1 = this objective; 0 in
the first phase lets the answers be learnt, see README "Fourth attempt").

Why <|eot_id|> as padding (not <|endoftext|> as LLaDA SFT): the LLaDA-V sampler bans
<|endoftext|> at masked positions and stops at the first <|eot_id|>; with eot padding every
masked position after the answer has a token the sampler may produce (eot), the most confident
ones are committed first, and the earliest committed eot is the stop. Generation lengths are
randomised per sample (and batches are padded with more eot), so the model answers correctly
for any gen_length >= answer + 1, in particular the runner defaults (2 / 16 / 64).

  nice -n 19 /usr/bin/python3 train.py --steps 6000 --minutes 74 --work /tmp/trainer
"""
import argparse
import json
import math
import os
import random
import time

# --threads sets torch's pool; without these, each process also kept a second BLAS/OpenMP thread
# spinning (half the machine's CPU time in the kernel): two one-thread runs side by side took
# 0.44 s/step each at step 50 without them, 0.32 with them
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import common as C
import gen_data as G
import pretrain_vision as PV

R, MT = C.R, C.MT

TYPE_WEIGHTS = {"open": 0.38, "yesno": 0.28, "mc": 0.28, "caption": 0.06}
CATEGORY_WEIGHTS = {}       # --category-weights: a question's odds within its type, by category
MC_HINT = "Hint: the answer is %s. "   # --mc-hint: the "mc_hint" type's prefix (see build_scenes)
TURNS_SINGLE = 0.35   # fraction of single-turn sequences (the exact inference layout)
SHORT_PAD = 0.7       # fraction of last turns with answer + 1..3 eot (else runner lengths)


# ------------------------------------------------------------------------------------------
# model definition (sizes) and config
# ------------------------------------------------------------------------------------------

def hparams(a):
    return {
        "vision": {"image_size": a.image, "patch_size": a.patch, "hidden_size": a.dv, "intermediate_size": 4 * a.dv,
                   "num_hidden_layers": a.lv, "num_attention_heads": a.dv // 24,
                   "layer_norm_eps": 1e-6, "hidden_act": "gelu_pytorch_tanh"},
        "llm": {"hidden_size": a.d, "intermediate_size": a.f, "num_hidden_layers": a.l,
                "num_attention_heads": a.d // a.head_dim, "rms_norm_eps": 1e-5,
                "rope_theta": a.rope_theta},
        "image_aspect_ratio": "anyres_max_2", "image_grid_pinpoints": "(1x1),...,(2x2)",
    }


@torch.no_grad()
def tower_pca(W, cfg, scenes):
    """Stage-1 tower features of the scenes' views [N, Dv], their mean, and the principal
    directions as rows (largest first) scaled so the mapped features have unit mean variance
    (one global scale, no whitening: a drifting tower would be amplified along weak
    directions)."""
    F = R.siglip_forward(W, cfg, torch.cat([s["views"] for s in scenes], 0)).reshape(-1, cfg.v_hidden)
    mu = F.mean(0)
    Fc = F - mu
    ev, U = torch.linalg.eigh(Fc.T @ Fc / len(Fc))
    return F, mu, U.T.flip(0) / ev.clamp_min(0).mean().sqrt()


def set_projector(W, F, rows, bias, out_std, ref_dims=None):
    """mlp2x_gelu projector: layer 0 = rows / bias; layer 2 = identity scaled so the output
    dimensions ref_dims (default all) have std out_std on F, with the bias that centres the
    output; image_newline ~ N(0, out_std)."""
    Wp = "model.mm_projector."
    D = rows.shape[0]
    W[Wp + "0.weight"].copy_(rows)
    W[Wp + "0.bias"].copy_(bias)
    G1 = R.gelu_erf(F @ rows.T + bias)
    W2 = torch.eye(D) * (out_std / G1[:, :ref_dims].std(0).mean())
    W[Wp + "2.weight"].copy_(W2)
    W[Wp + "2.bias"].copy_(-(G1.mean(0) @ W2.T))
    W["model.image_newline"].copy_(torch.randn(D) * out_std)


@torch.no_grad()
def init_projector(W, cfg, head, scenes, out_std):
    """Data-dependent init of the mlp2x_gelu projector on the stage-1 tower's features (the
    tower has no final LayerNorm, so its features carry a large image-independent mean):
    layer 0 = [principal directions of the centred features; the stage-1 head's colour /
    shape / layout-cell directions; a few random rows] with one global scale, bias = minus the
    mapped mean, so the GELU input is centred; layer 2 = scaled identity with the bias that
    centres the output. The image tokens then start clearly image-dependent."""
    F, mu, Wpc = tower_pca(W, cfg, scenes)
    Fc = F - mu
    Hw = head["tok.weight"]
    Hw = Hw / (Fc @ Hw.T).std(0).mean().clamp_min(1e-6)
    D = W["model.mm_projector.0.weight"].shape[0]
    rows = torch.cat([Wpc, Hw], 0)[:D]
    if rows.shape[0] < D:
        extra = torch.randn(D - rows.shape[0], cfg.v_hidden) * 0.02
        extra = extra / (Fc @ extra.T).std(0)[:, None]
        rows = torch.cat([rows, extra], 0)
    set_projector(W, F, rows, -(mu @ rows.T), out_std)


@torch.no_grad()
def init_projector_symbolic(W, cfg, head, scenes, out_std, gain=4.0, rest=0.1):
    """Projector init that hands the LLM the stage-1 head's symbolic reading of every token:
    layer 0 = the head's per-token logits (colour, shape, cell, size, same-colour count,
    same-kind count; 31 rows) scaled by `gain` and shifted so each class logit is ~0 on
    average, so the GELU passes the confident classes (a soft one-hot code); the other rows
    small PCA directions (`rest` of the scale). Layer 2 = scaled identity, centred output.
    With the generic PCA init, 96 of 128 image dimensions were unlabelled variation and the
    LLM learnt to use the image tokens as an attention sink instead of reading them."""
    F, mu, Wpc = tower_pca(W, cfg, scenes)
    Hw, hb = head["tok.weight"], head["tok.bias"]
    Lg = F @ Hw.T + hb
    sd = Lg.std(0).clamp_min(1e-6)
    k = W["model.mm_projector.0.weight"].shape[0] - Hw.shape[0]
    Wpc = Wpc[:k] * rest
    if Wpc.shape[0] < k:                     # more rows than tower dimensions: zero rows
        Wpc = torch.cat([Wpc, torch.zeros(k - Wpc.shape[0], Wpc.shape[1])], 0)
    rows = torch.cat([Hw * (gain / sd)[:, None], Wpc], 0)
    bias = torch.cat([(hb - Lg.mean(0)) * (gain / sd) - 0.5 * gain, -(mu @ Wpc.T)], 0)
    set_projector(W, F, rows, bias, out_std, ref_dims=Hw.shape[0])


@torch.no_grad()
def inject_cell(W, cfg, head, scenes, gain=4.0):
    """--inject-cell: hand the LLM the layout cell of every token again. The tower reads it (a
    linear probe on its base-view features: 0.99) but the trained projector had dropped it (the
    same probe on the projector's output: 0.17, chance 0.13), so "Where is the X?" could not be
    answered. The 9 hidden units of the projector with the smallest output weights become the
    (re-fitted) stage-1 head's cell logits, made as in init_projector_symbolic; each writes
    along a random unit direction with the median output-weight norm; the output bias keeps
    the mean of the projector's output unchanged."""
    Wp = "model.mm_projector."
    W0, b0, W2, b2 = (W[Wp + k] for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    F = R.siglip_forward(W, cfg, torch.cat([s["views"] for s in scenes], 0)).reshape(-1, cfg.v_hidden)
    o = PV.TOK_SPLITS[0] + PV.TOK_SPLITS[1]
    Hw, hb = head["tok.weight"][o:o + 9], head["tok.bias"][o:o + 9]
    Lg = F @ Hw.T + hb
    sd = Lg.std(0).clamp_min(1e-6)
    cn = W2.norm(dim=0)
    units = cn.argsort()[:9]
    old = R.gelu_erf(F @ W0[units].T + b0[units]).mean(0) @ W2[:, units].T
    W0[units] = Hw * (gain / sd)[:, None]
    b0[units] = (hb - Lg.mean(0)) * (gain / sd) - 0.5 * gain
    g = torch.Generator().manual_seed(1234)
    dirs = torch.randn(W2.shape[0], 9, generator=g)
    W2[:, units] = dirs / dirs.norm(dim=0) * cn.median()
    b2 += old - R.gelu_erf(F @ W0[units].T + b0[units]).mean(0) @ W2[:, units].T
    return units.tolist()


def make_config(hp, ids, tok_len):
    v, l = hp["vision"], hp["llm"]
    extra = dict(l)
    extra.update({
        "num_key_value_heads": l["num_attention_heads"], "vocab_size": tok_len,
        "mm_hidden_size": v["hidden_size"], "mm_vision_tower": "shapes-siglip",
        "image_aspect_ratio": hp["image_aspect_ratio"], "vision_config": dict(v),
        "mask_token_id": ids["<|mdm_mask|>"], "torch_dtype": "float32",
        "max_position_embeddings": 1024, "tokenizer_model_max_length": 1024,
    })
    return MT.llava_config(ids, tok_len, hp["image_grid_pinpoints"], l["rope_theta"], extra)


def init_weights(hp, V, seed, qk_std=0.02, embed_std=0.02):
    """Random init in the checkpoint layout (spec 2.1 names). Linear weights N(0, 0.02), the
    embeddings N(0, embed_std), q/k N(0, qk_std), output projections of residual branches
    scaled by 1/sqrt(2 * layers), norms 1, biases 0."""
    g = torch.Generator().manual_seed(seed)
    v, l = hp["vision"], hp["llm"]
    D, F, L = l["hidden_size"], l["intermediate_size"], l["num_hidden_layers"]
    Dv, Fv, Lv, S, p = v["hidden_size"], v["intermediate_size"], v["num_hidden_layers"], \
        v["image_size"], v["patch_size"]

    def n(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    W = {"model.embed_tokens.weight": n(V, D, std=embed_std), "lm_head.weight": n(V, D),
         "model.norm.weight": torch.ones(D)}
    res = 0.02 / math.sqrt(2 * L)
    for i in range(L):
        q = "model.layers.%d." % i
        W[q + "input_layernorm.weight"] = torch.ones(D)
        W[q + "post_attention_layernorm.weight"] = torch.ones(D)
        for nm in ("q_proj", "k_proj", "v_proj"):
            W[q + "self_attn.%s.weight" % nm] = n(D, D, std=qk_std if nm != "v_proj" else 0.02)
        W[q + "self_attn.o_proj.weight"] = n(D, D, std=res)
        W[q + "mlp.gate_proj.weight"] = n(F, D)
        W[q + "mlp.up_proj.weight"] = n(F, D)
        W[q + "mlp.down_proj.weight"] = n(D, F, std=res)
    # the tower: the same initialisation as stage 1 (pretrain_vision.init_tower)
    W.update(PV.init_tower(Dv, Lv, Fv, S, p, seed + 1))
    W["model.mm_projector.0.weight"] = n(D, Dv)
    W["model.mm_projector.0.bias"] = torch.zeros(D)
    W["model.mm_projector.2.weight"] = n(D, D)
    W["model.mm_projector.2.bias"] = torch.zeros(D)
    W["model.image_newline"] = n(D)
    return W


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------

def build_scenes(seed, count, one=0.0):
    """Training scenes with every candidate question (gen_data), rendered. A fraction `one`
    of them (on top of the generator's own 2/7) hold a single shape: the curriculum of
    --one-shape, where "the colour of the shape" is readable from any foreground token."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        sc = G.make_scene(rng, 1 if one > 0 and rng.random() < one else None)
        qs = G.questions(rng, sc)
        for t in qs:
            for q in qs[t]:
                q["no_think"] = rng.random() < 0.7
        if TYPE_WEIGHTS.get("mc_hint"):
            # --mc-hint: every multiple-choice question again with its answer's text in the
            # question, so the letter is found by matching text alone -- the "answer with the
            # matching option's letter" half of the task, learnt without the image look-up
            qs["mc_hint"] = [dict(q, question=MC_HINT % q["choices"]["ABCD".index(q["answer"])]
                                  + q["question"]) for q in qs["mc"]]
        out.append({"scene": sc, "image": G.render(sc), "q": qs})
    return out


def pool_seed(seed, chunk):
    """Scene seed of the chunk-th data pool (fresh scenes every --refresh steps)."""
    return seed * 1000 + 17 + chunk


def tokenizer_corpus(scenes):
    """Texts the tokenizer is trained on: the chat template words, every user text the runner
    builds, every answer and caption (newlines split lines; special tokens are not in it)."""
    lines = [R.SYSTEM_PROMPT, "system", "user", "assistant", G.CAPTION_PROMPT,
             G.TEMPLATE_SUFFIX.strip(), G.MC_SUFFIX.strip(), "/no_think /think"]
    for s in scenes:
        for t, qs in s["q"].items():
            for q in qs:
                lines.extend(G.user_text(q, q["no_think"]).split("\n"))
                lines.extend([q["answer"]] + q.get("answers", []))
    return "\n".join(lines)


def build_tokenizer(scenes, n_merges):
    vocab, merges = MT.train_bpe(tokenizer_corpus(scenes), n_merges)
    return vocab, merges


def load_tokenizer(d):
    """(vocab, merges) of a model directory's tokenizer.json."""
    with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    return tj["model"]["vocab"], [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                                  for m in tj["model"]["merges"]]


def write_tokenizer_dir(d, tok):
    os.makedirs(d, exist_ok=True)
    MT.write_json(os.path.join(d, "tokenizer.json"), MT.tokenizer_json(*tok))
    MT.write_json(os.path.join(d, "tokenizer_config.json"), MT.tokenizer_config())


def prepare(scenes, cfg, ctok, bos_id):
    """Views, merge geometry and token ids of every scene/question (one batched HF call)."""
    texts, answers = [], []
    for s in scenes:
        for qs in s["q"].values():
            for q in qs:
                texts.extend(C.prompt_chunks(G.user_text(q, q["no_think"])))
                texts.append(followup_text(G.user_text(q, q["no_think"])))
                answers.append(q["answer"])
    ctok.fill(texts, True)
    ctok.fill(answers, False)
    g = cfg.v_image // cfg.v_patch
    for s in scenes:
        views, info = R.image_views(s["image"], cfg)
        s["views"] = torch.from_numpy(views)
        s["info"] = info
        W_, H_ = info["size"]
        nx, ny = info["grid"]
        s["n_img"] = R.merge_geometry(W_, H_, nx, ny, g, cfg.aspect)["n_img"]
        s["aux_tg"] = torch.from_numpy(PV.patch_targets(s["scene"], info, cfg.v_image, cfg.v_patch))
        s["aux_glob"] = torch.from_numpy(PV.scene_globals(s["scene"]))
        for qs in s["q"].values():
            for q in qs:
                q["ids"] = C.prompt_ids(ctok, G.user_text(q, q["no_think"]), bos_id)
                q["ans_ids"] = ctok.encode(q["answer"], False)
                q["ids2"] = ctok.encode(followup_text(G.user_text(q, q["no_think"])), True)
        del s["image"]


def gen_len(rng, qtype, n_ans, last=True):
    """Response length (answer + eot padding) of one turn. Mostly the answer plus a few eot:
    the loss is normalised by the response length, so long padding would dilute the answer
    tokens' gradient (up to 1/64 for captions); a minority of last turns get the runner's
    lengths (2 / 16 / 64) or random ones up to them, so the model still fills long
    generation windows with eot. Earlier turns of a packed conversation: a little padding."""
    lo = n_ans + 1
    if not last or rng.random() < SHORT_PAD:
        return lo + rng.randint(0, 2)
    if qtype in ("yesno", "mc"):
        g = 2 if rng.random() < 0.5 else rng.randint(lo, 12)
    elif qtype == "open":
        g = 16 if rng.random() < 0.5 else rng.randint(lo, 20)
    else:
        g = 64 if rng.random() < 0.5 else rng.randint(lo, 72)
    return max(g, lo)


def followup_text(user_text):
    """A later user turn of the llava_llada template (spec 5.2), no image, no BOS."""
    return ("<|start_header_id|>user<|end_header_id|>\n\n" + user_text.strip() +
            "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def sample_conversation(rng, scenes, max_turns):
    """One training sequence: a scene and 1..max_turns (question, response length) turns of
    distinct questions. Single-turn sequences are exactly the inference layout; packed turns
    (as in LLaDA-V's multi-turn SFT data) add supervision per image-token forward."""
    types_, w = zip(*TYPE_WEIGHTS.items())
    si = rng.randrange(len(scenes))
    k = 1 if rng.random() < TURNS_SINGLE else rng.randint(2, max_turns)
    turns, seen = [], set()
    while len(turns) < k:
        t = rng.choices(types_, w)[0]
        qs = scenes[si]["q"][t]
        if not qs:
            continue
        if CATEGORY_WEIGHTS:
            i = rng.choices(range(len(qs)), [CATEGORY_WEIGHTS.get(q["category"], 1.0)
                                             for q in qs])[0]
        else:
            i = rng.randrange(len(qs))      # (without weights: the draws of earlier runs)
        if (t, i) in seen:
            if len(seen) >= sum(len(v) for v in scenes[si]["q"].values()):
                break
            continue
        seen.add((t, i))
        turns.append([qs[i], t])
    out = []
    for j, (q, t) in enumerate(turns):
        out.append((q, t, gen_len(rng, q["type"], len(q["ans_ids"]), last=(j == len(turns) - 1))))
    n = scenes[si]["n_img"] + len(out[0][0]["ids"]) - 1 + sum(x[2] for x in out) + \
        sum(len(q["ids2"]) for q, _, _ in out[1:])
    return (n, si, out)


def batches(rng, scenes, bsz, pool_batches, max_turns):
    """Endless stream of batches; each pool of pool_batches*bsz sequences is sorted by total
    length so a batch needs little extra eot padding."""
    while True:
        pool = [sample_conversation(rng, scenes, max_turns) for _ in range(bsz * pool_batches)]
        pool.sort(key=lambda x: x[0])
        chunks = [pool[i:i + bsz] for i in range(0, len(pool), bsz)]
        rng.shuffle(chunks)
        for c in chunks:
            yield c


# ------------------------------------------------------------------------------------------
# loss
# ------------------------------------------------------------------------------------------

def encode_scenes(W, cfg, scenes, sids, base_only=frozenset()):
    """Image rows of scenes[sids] (one tower + projector pass over all their views, then the
    reference merge per scene): ({sid: [N_img, D]}, tower features, projector output).
    Scenes in base_only: the base view only, its rows as merge_views puts them first."""
    nv = {s: 1 if s in base_only else scenes[s]["views"].shape[0] for s in sids}
    feats = R.siglip_forward(W, cfg, torch.cat([scenes[s]["views"][:nv[s]] for s in sids], 0))
    Z = R.projector_forward(W, cfg, feats)
    img, off = {}, 0
    for s in sids:
        img[s] = Z[off] if s in base_only else R.merge_views(W, cfg, Z[off:off + nv[s]],
                                                             scenes[s]["info"])
        off += nv[s]
    return img, feats, Z, nv


def eot_weight_at(a, step):
    """The eot padding's loss weight at a step: --eot-weight, then --eot-weight-late from
    --eot-late-from on (over --eot-ramp steps, linearly)."""
    if step < a.eot_late_from:
        return a.eot_weight
    f = min(1.0, (step - a.eot_late_from + 1) / a.eot_ramp) if a.eot_ramp > 0 else 1.0
    return a.eot_weight + f * (a.eot_weight_late - a.eot_weight)


def fit_head(W, cfg, scenes, dv, seed, shape_w, n=600, steps=400):
    """A fresh stage-1 head (PV.init_head) fitted on the frozen tower's features of n scenes:
    --init-ckpt from an exported model has no head, and a random one under --aux-weight would
    pull the tower towards noise. Full-batch AdamW on the aux loss alone; logs its accuracies."""
    sc = scenes[:n]
    with torch.no_grad():
        feats = R.siglip_forward(W, cfg, torch.cat([s["views"] for s in sc], 0))
    nv = [s["views"].shape[0] for s in sc]
    first = torch.tensor([sum(nv[:i]) for i in range(len(sc))])
    tg = torch.cat([s["aux_tg"][:k] for s, k in zip(sc, nv)], 0)
    glob = torch.stack([s["aux_glob"] for s in sc])
    head = PV.init_head(dv, seed + 1)
    for v in head.values():
        v.requires_grad_()
    opt = torch.optim.AdamW(list(head.values()), lr=1e-2, weight_decay=0.0)
    for _ in range(steps):
        loss, acc = PV.aux_loss(head, feats, tg, glob, first, shape_w)
        opt.zero_grad()
        loss.backward()
        opt.step()
    note = ("stage-1 head re-fitted on the frozen tower (%d scenes, %d steps): loss %.3f %s"
            % (len(sc), steps, float(loss), json.dumps({k: round(v, 3) for k, v in acc.items()})))
    return {k: v.detach() for k, v in head.items()}, note


def gt_image(W, cfg, scene, D):
    """--gt-tokens: one-hot stage-1 targets per view patch (31 of D dims, x3) -> merge_views."""
    tg_ = scene["aux_tg"].long()
    Z = torch.zeros(tg_.shape[0], tg_.shape[1], D)
    off = 0
    for i, n in enumerate(PV.TOK_SPLITS):
        t = tg_[..., i]
        oh = torch.nn.functional.one_hot(t.clamp_min(0), n).float() * (t >= 0)[..., None]
        Z[..., off:off + n] = 3.0 * oh
        off += n
    return R.merge_views(W, cfg, Z, scene["info"])


def splice_prompt(llm, cfg, ids, img, short=False):
    """Prompt rows [L, D]: ids with the image rows spliced in. short (the length curriculum,
    README "shapes-v3"): from the image token on (no BOS, system prompt or user header),
    with the base view only -- the first (image/patch)^2 rows, as merge_views puts them."""
    if not short:
        return C.splice(llm, ids, img)
    k_img = ids.index(R.IMAGE_TOKEN_INDEX)
    return C.splice(llm, ids[k_img:], img[:(cfg.v_image // cfg.v_patch) ** 2])


def batch_loss(W, cfg, batch, scenes, g, eps=1e-3, vision_reg=0.0, head=None, aux_weight=0.0,
               aux_shape_weight=1.0, text_only=False, mask_mode="bernoulli", gt_tokens=False,
               text_loss=False, eot_weight=1.0, short_p=0.0):
    """LLaDA-V SFT loss of one batch (see module docstring). Returns (loss, stats).
    short_p > 0 (--short-steps, a length curriculum): each sequence is, with probability short_p,
    in splice_prompt's short layout: 26-58 prompt rows instead of 77-129 (47 fewer text tokens).
    vision_reg > 0 adds vision_reg * mean square of the per-view token mean of the projector
    output: without SigLIP's (unused) post-layernorm, a tower trained from scratch can grow a
    huge image-independent component, and the LLM's RMSNorm then sees image tokens that
    differ by a few per cent only (observed: norm 1500, 3 % between images)."""
    llm = R.LLaDA(W, cfg)                     # views of W: rebuilt each step for autograd
    sids = sorted({b[1] for b in batch})
    reg = aux = None
    # the curriculum's draw per sequence; a scene seen only in short sequences needs no crops
    short = [short_p > 0 and not text_loss and float(torch.rand(1, generator=g)) < short_p
             for _ in batch]
    base_only = frozenset(sids) - {b[1] for b, sh in zip(batch, short) if not sh}
    if gt_tokens:
        # --gt-tokens (diagnostic): per-view tokens = the one-hot stage-1 targets of the scene
        # description instead of tower + projector, merged by the real merge_views: tells
        # whether the LLM can learn to read perfect visual tokens at all
        img = {s: gt_image(W, cfg, scenes[s], llm.embed.shape[1]) for s in sids}
    elif text_only:
        # --text-warmup: the same conversations with no image rows (the question and answer
        # keep their relative positions): the LLM learns the question -> answer-vocabulary
        # mapping on ~85-token sequences before the image has to be read
        img = {s: torch.zeros(0, llm.embed.shape[1]) for s in sids}
    else:
        img, feats, Z, nv = encode_scenes(W, cfg, scenes, sids, base_only)
        if vision_reg > 0:
            reg = (Z.mean(1) ** 2).mean()
        if head is not None and aux_weight > 0:
            # stage-1 dense vision targets at a small weight (keeps the tower from collapsing)
            first, off = [], 0
            for s in sids:
                first.append(off)
                off += nv[s]
            aux, aux_acc = PV.aux_loss(head, feats,
                                       torch.cat([scenes[s]["aux_tg"][:nv[s]] for s in sids], 0),
                                       torch.stack([scenes[s]["aux_glob"] for s in sids]),
                                       torch.tensor(first), aux_shape_weight)
    eot, mask = cfg.eot_id, cfg.mask_id
    # token layout of every sequence: (kind, ids-or-embeds); responses as target id tensors
    seqs = []
    for (_, si, turns), sh in zip(batch, short):
        ids = turns[0][0]["ids"]
        if sh:
            # README "Seventh attempt": with perfect image tokens a comparison ("Is the circle
            # red?") was learnt in a short context and carried over to the long one, and not
            # learnt in the long one; the shapes-v3 fine-tune's control did not show that gap
            parts = [("prompt", splice_prompt(llm, cfg, ids, img[si], True))]
        elif text_loss:
            # --mdm-steps: LLaDA pretraining on the whole conversation: the prompt's text tokens
            # are masked and predicted like the response (only the image rows are never
            # masked), so every text token gives a gradient, not only the few answer tokens
            k_img = ids.index(R.IMAGE_TOKEN_INDEX)
            parts = [("resp", (list(ids[:k_img]), "text")), ("prompt", img[si]),
                     ("resp", (list(ids[k_img + 1:]), "text"))]
        else:
            parts = [("prompt", splice_prompt(llm, cfg, ids, img[si]))]
        tg = []
        for j, (q, t, gl) in enumerate(turns):
            if j:
                parts.append(("resp", (list(q["ids2"]), "text")) if text_loss else
                             ("prompt", llm.embed[torch.tensor(q["ids2"])]))
            tgt = q["ans_ids"] + [eot] * (gl - len(q["ans_ids"]))
            parts.append(("resp", (tgt, t)))
        seqs.append(parts)
    lens = [sum(p[1].shape[0] if p[0] == "prompt" else len(p[1][0]) for p in parts) for parts in seqs]
    Ltot = max(lens)
    X, bi, pi, tg, wt, tix = [], [], [], [], [], []
    tnames = sorted(TYPE_WEIGHTS) + ["text", "eot"]
    # t ~ U(0,1) per sequence, stratified over the batch (one t in each 1/B interval, in random
    # order): the same marginal, a lower-variance estimate of the 1/t-weighted loss
    strat = ((torch.randperm(len(batch), generator=g) + torch.rand(len(batch), generator=g))
             / len(batch)).tolist()
    for b, (parts, L0) in enumerate(zip(seqs, lens)):
        last = parts[-1][1]
        # normalisation: the sample's own response length (answers + their eot padding); the
        # batch padding added next is masked and trained like the sample's own trailing eot but
        # does not dilute the weight of its answer tokens
        n_resp = sum(len(p[1][0]) for p in parts if p[0] == "resp")
        last[0].extend([eot] * (Ltot - L0))   # batch padding: more eot after the last answer
        tt = strat[b]
        pm = (1 - eps) * tt + eps
        if mask_mode == "ratio":
            # exactly k = ceil(t N) of the N response tokens masked (a uniform k-subset) and the
            # realised ratio k / N as the 1/t weight: the same objective as independent
            # Bernoulli(t) masking, without its rare 1/t ~ 1000 weights (with Adam those spikes
            # inflate the second-moment estimates and stall learning)
            N = sum(len(v[0]) for k_, v in parts if k_ == "resp")
            k = max(1, math.ceil(tt * N))
            sel = torch.zeros(N, dtype=torch.bool)
            sel[torch.randperm(N, generator=g)[:k]] = True
            pm = k / N
            msplit = iter(torch.split(sel, [len(v[0]) for k_, v in parts if k_ == "resp"]))
        rows, pos = [], 0
        for kind, val in parts:
            if kind == "prompt":
                rows.append(val)
                pos += val.shape[0]
                continue
            tgt = torch.tensor(val[0])
            m = next(msplit) if mask_mode == "ratio" else torch.rand(len(tgt), generator=g) < pm
            rows.append(llm.embed[torch.where(m, torch.full_like(tgt, mask), tgt)])
            j = torch.nonzero(m).flatten()
            bi.append(torch.full_like(j, b))
            pi.append(j + pos)
            tg.append(tgt[j])
            # --eot-weight: the eot padding's share of the loss (1 = the plain objective). Measured
            # (README "Fourth attempt"): at weight 1 the easy, ever-present eot terms stall the
            # answer tokens' learning (colour questions stay at the prior for 400+ steps with
            # perfect image tokens); at 0 the same run leaves the prior at step ~150
            # (the prompt's own <|eot_id|> tokens under --mdm-steps are text, not padding)
            pad = (tgt[j] == eot) & (val[1] != "text")
            wt.append(torch.full((len(j),), 1.0 / (pm * n_resp)) * torch.where(pad, eot_weight, 1.0))
            # the eot padding is logged apart: it is learnt first and would hide the answers' CE
            tix.append(torch.where(pad, tnames.index("eot"), tnames.index(val[1])))
            pos += len(tgt)
        X.append(torch.cat(rows, 0))
    logits = llm.forward(torch.stack(X, 0))
    # one gather over all masked response positions (per-sample slicing would make autograd
    # allocate a full-size logits gradient per sample)
    bi, pi, tg, wt, tix = (torch.cat(x) for x in (bi, pi, tg, wt, tix))
    ce = torch.nn.functional.cross_entropy(logits[bi, pi], tg, reduction="none")
    loss = (ce * wt).sum() / len(batch)
    if reg is not None:
        loss = loss + vision_reg * reg
    if aux is not None:
        loss = loss + aux_weight * aux
    per_type = {}
    ced = ce.detach()
    for k, t in enumerate(tnames):
        sel = tix == k
        if sel.any():
            per_type[t] = [float(ced[sel].mean())]
    return loss, {"masked_tokens": int(len(tg)), "seq_len": Ltot, "ce_by_type": per_type,
                  "aux": float(aux) if aux is not None else None,
                  "vision_mean_sq": float(reg) if reg is not None else None}


@torch.no_grad()
def probe(W, cfg, dev, gt=False, chunk=16, short=False):
    """Teacher-forced dev accuracy: every dev question as a single-turn sequence whose response
    (answer + one eot) is fully masked; a question counts as right when the argmax at every
    answer position is the answer token (the first denoising step of the sampler, greedy).
    Captions: fraction of caption tokens right. Cheap early signal; eval.py is the real one.
    short: the curriculum's short layout (batch_loss short_p) instead of the full prompt."""
    llm = R.LLaDA(W, cfg)
    scenes, items = dev
    right = {}
    for i in range(0, len(items), chunk):
        part = items[i:i + chunk]
        sids = sorted({si for si, _ in part})
        if gt:
            img = {s_: gt_image(W, cfg, scenes[s_], llm.embed.shape[1]) for s_ in sids}
        else:
            img = encode_scenes(W, cfg, scenes, sids)[0]
        X, spans = [], []
        for si, q in part:
            pre = splice_prompt(llm, cfg, q["ids"], img[si], short)
            n_r = len(q["ans_ids"]) + 1
            X.append(torch.cat([pre, llm.embed[torch.full((n_r,), cfg.mask_id)]], 0))
            spans.append((pre.shape[0], q))
        L = max(x.shape[0] for x in X)
        X = [torch.cat([x, llm.embed[torch.full((L - x.shape[0],), cfg.eot_id)]], 0) for x in X]
        logits = llm.forward(torch.stack(X, 0))
        for b, (st, q) in enumerate(spans):
            pred = logits[b, st:st + len(q["ans_ids"])].argmax(-1).tolist()
            ok = [int(a == b_) for a, b_ in zip(pred, q["ans_ids"])]
            key = q["type"] if q["type"] != "open" else "open/" + q["category"]
            right.setdefault(key, []).append(sum(ok) / len(ok) if q["type"] == "caption"
                                             else float(all(ok)))
            if q["type"] == "yesno":
                right.setdefault("yesno/" + q["category"], []).append(float(all(ok)))
    out = {k: round(100 * float(np.mean(v)), 1) for k, v in sorted(right.items())}
    op = [x for k, v in right.items() if k.startswith("open/") for x in v]
    out["open"] = round(100 * float(np.mean(op)), 1) if op else None
    return out


def dev_set(seed, count, cfg, ctok):
    """Dev scenes (a seed training and the benchmarks never use) and their questions: every
    open / yes-no / mc candidate of gen_data.questions plus the caption: (scenes, [(i, q)])."""
    scenes = build_scenes(seed, count)
    for s in scenes:
        for t, qs in s["q"].items():
            for q in qs:
                q["no_think"] = True
                q["type"] = t
    prepare(scenes, cfg, ctok, cfg.bos_id)
    items = [(i, q) for i, s in enumerate(scenes) for t in ("open", "yesno", "mc", "caption")
             for q in s["q"][t]]
    return scenes, items


# ------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------

def export(out, W, config, tok):
    Wnp = {k: v.detach().float().numpy() for k, v in W.items()}
    MT.write_model(out, Wnp, config, tok, dtype="F32")


def draw_loss_png(path, steps, losses, title):
    """Loss curve with PIL (matplotlib is not installed): raw loss in light grey, a running
    mean in blue, log-scale y axis."""
    from PIL import Image, ImageDraw
    Wd, Hd, m = 720, 400, 50
    im = Image.new("RGB", (Wd, Hd), "white")
    d = ImageDraw.Draw(im)
    ys = np.log10(np.maximum(np.array(losses, dtype=np.float64), 1e-4))
    k = max(1, len(ys) // 50)
    sm = np.convolve(ys, np.ones(k) / k, mode="valid")
    lo, hi = math.floor(min(ys.min(), sm.min()) * 2) / 2, math.ceil(max(ys.max(), sm.max()) * 2) / 2
    x0, x1 = steps[0], max(steps[-1], steps[0] + 1)

    def P(s, y):
        return (m + (s - x0) / (x1 - x0) * (Wd - 2 * m), Hd - m - (y - lo) / (hi - lo) * (Hd - 2 * m))
    d.rectangle((m, m, Wd - m, Hd - m), outline="black")
    yv = lo
    while yv <= hi + 1e-9:
        _, py = P(x0, yv)
        d.line((m, py, Wd - m, py), fill=(225, 225, 225))
        d.text((4, py - 6), "%.3g" % (10 ** yv), fill="black")
        yv += 0.5
    for fx in np.linspace(0, 1, 6):
        s = x0 + fx * (x1 - x0)
        px, _ = P(s, lo)
        d.text((px - 10, Hd - m + 6), "%d" % s, fill="black")
    d.line([P(s, y) for s, y in zip(steps, ys)], fill=(190, 190, 190))
    d.line([P(s, y) for s, y in zip(steps[k - 1:], sm)], fill=(20, 60, 200), width=2)
    d.text((m, 15), title, fill="black")
    d.text((Wd // 2 - 20, Hd - 18), "step", fill="black")
    im.save(path)


# ------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(C.REPO, "samples", "models", "shapes-v4"))
    ap.add_argument("--work", default="/tmp/trainer")
    ap.add_argument("--seed", type=int, default=1000, help="data + init seed (eval uses others)")
    ap.add_argument("--scenes", type=int, default=6000, help="scenes per data pool")
    ap.add_argument("--refresh", type=int, default=0,
                    help="a fresh pool of --scenes new scenes every N steps (0: one pool)")
    ap.add_argument("--tok-scenes", type=int, default=6000,
                    help="scenes (seed --seed) whose texts the BPE tokenizer is trained on")
    ap.add_argument("--tokenizer-from", help="model dir whose tokenizer.json to reuse")
    ap.add_argument("--init-vision", help="stage-1 file of pretrain_vision.py (tower + head)")
    ap.add_argument("--init-llm", help="model dir whose language model (embeddings, layers, "
                                       "norm, lm_head) initialises this run")
    ap.add_argument("--init-ckpt", help="start from every weight (and the stage-1 head) of a "
                    "train.py checkpoint, or from an exported model directory (the head then "
                    "re-fitted), with a fresh optimizer and schedule (a fine-tune)")
    ap.add_argument("--llm-qk-std", type=float, default=0.02,
                    help="init std of the LLM's q/k projections (larger: sharper attention from "
                         "the start, a shorter plateau before answers depend on the question)")
    ap.add_argument("--embed-std", type=float, default=0.02,
                    help="init std of the token embeddings (1.0 shortens recall_probe.py's look-up "
                         "plateau but did not help stage 2: README 'Seventh attempt')")
    ap.add_argument("--rope-theta", type=float, default=500000.0)
    ap.add_argument("--projector-init", default="data", choices=["data", "symbolic", "random"])
    ap.add_argument("--img-scale", type=float, default=0.3,
                    help="per-dimension std of the initial image tokens (data init)")
    ap.add_argument("--aux-weight", type=float, default=0.0,
                    help="weight of the stage-1 dense vision loss kept during SFT")
    ap.add_argument("--aux-shape-weight", type=float, default=1.0,
                    help="weight of the shape term inside the stage-1 loss")
    ap.add_argument("--vision-lr-mult", type=float, default=1.0)
    ap.add_argument("--freeze-vision-steps", type=int, default=0)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip")
    ap.add_argument("--short-pad", type=float, default=0.7,
                    help="fraction of last turns padded with 1..3 eot only (else the runner's "
                         "generation lengths 2 / 16 / 64 or random up to them)")
    ap.add_argument("--type-weights", default="",
                    help="open,yesno,mc,caption sampling weights (default %s)" % TYPE_WEIGHTS)
    ap.add_argument("--inject-cell", type=float, default=0.0,
                    help="gain: the projector's 9 least-used hidden units become the stage-1 "
                         "head's layout-cell logits (inject_cell; needs --init-ckpt)")
    ap.add_argument("--mc-hint", type=float, default=0.0,
                    help="sampling weight of hinted multiple choice (the answer's text in the "
                         "question; build_scenes), next to --type-weights")
    ap.add_argument("--category-weights", default="",
                    help="e.g. position=4: within a type, a question of that category is drawn "
                         "with that weight (others 1)")
    ap.add_argument("--single-turn", type=float, default=0.35,
                    help="fraction of single-turn sequences (the rest pack 2..--max-turns turns)")
    ap.add_argument("--merges", type=int, default=700)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-turns", type=int, default=4)
    ap.add_argument("--vision-reg", type=float, default=0.0)
    ap.add_argument("--reinit-vision", action="store_true",
                    help="with --resume: fresh vision tower, projector and image_newline, fresh "
                         "optimiser state and schedule (the language model is kept)")
    ap.add_argument("--minutes", type=float, default=0,
                    help="wall-clock budget: the schedule progress is max(step, time) fraction "
                         "and training stops when the budget is used (shared machine)")
    ap.add_argument("--lr", type=float, default=1.6e-3)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--f", type=int, default=384)
    ap.add_argument("--l", type=int, default=4)
    ap.add_argument("--head-dim", type=int, default=32, help="LLM head size (heads = d / head-dim)")
    ap.add_argument("--dv", type=int, default=96)
    ap.add_argument("--lv", type=int, default=3)
    ap.add_argument("--image", type=int, default=48, help="view size (vision_config.image_size)")
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--min-hits", type=int, default=3,
                    help="stage-1 aux targets (pretrain_vision.py --min-hits): use the tower's value")
    ap.add_argument("--centres", action="store_true",
                    help="stage-1 aux targets (pretrain_vision.py --centres): use the tower's value")
    ap.add_argument("--probe-every", type=int, default=0,
                    help="every N steps: teacher-forced answer accuracy on dev scenes")
    ap.add_argument("--probe-scenes", type=int, default=40)
    ap.add_argument("--one-shape", type=float, default=0.0,
                    help="curriculum: extra fraction of single-shape scenes in the first pool "
                         "(halved every --refresh)")
    ap.add_argument("--mask-mode", default="bernoulli", choices=["bernoulli", "ratio"],
                    help="bernoulli: every response token masked independently with p(t); "
                         "ratio: exactly ceil(t N) tokens masked, weight N / k")
    ap.add_argument("--gt-tokens", action="store_true",
                    help="diagnostic: the LLM reads one-hot scene-description tokens, no tower")
    ap.add_argument("--mdm-steps", type=int, default=0,
                    help="first N steps: LLaDA pretraining, prompt text masked and predicted too")
    ap.add_argument("--text-warmup", type=int, default=0,
                    help="first N steps without image rows (the LLM learns the answer format)")
    ap.add_argument("--eot-weight", type=float, default=1.0,
                    help="loss weight of the eot padding targets (answers and captions: 1)")
    ap.add_argument("--eot-late-from", type=int, default=10 ** 9,
                    help="from this step on the eot weight is --eot-weight-late (a curriculum: "
                         "answers first, then the stop)")
    ap.add_argument("--eot-weight-late", type=float, default=1.0)
    ap.add_argument("--eot-ramp", type=int, default=0,
                    help="from --eot-late-from, reach --eot-weight-late linearly over N steps "
                         "(0: a switch; the switch cost a dip of ~300 steps in every phase)")
    ap.add_argument("--short-steps", type=int, default=0,
                    help="length curriculum: the first N steps train on short sequences (the "
                    "prompt from the image on, base view only; README 'shapes-v3')")
    ap.add_argument("--short-ramp", type=int, default=0,
                    help="then the share of short sequences falls linearly to 0 over M steps")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--export-only", action="store_true", help="export the checkpoint and exit")
    ap.add_argument("--bench-only", type=int, default=0, help="time N steps and exit")
    a = ap.parse_args()
    PV.MIN_HITS, PV.CENTRES = a.min_hits, a.centres
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    global TURNS_SINGLE, SHORT_PAD
    TURNS_SINGLE = a.single_turn
    SHORT_PAD = a.short_pad
    if a.type_weights:
        TYPE_WEIGHTS.update(zip(("open", "yesno", "mc", "caption"),
                                (float(x) for x in a.type_weights.split(","))))
    if a.mc_hint > 0:
        TYPE_WEIGHTS["mc_hint"] = a.mc_hint
    for kv in filter(None, a.category_weights.split(",")):
        k, v = kv.split("=")
        CATEGORY_WEIGHTS[k] = float(v)
    if a.export_only:
        export_checkpoint(a)
        return
    os.makedirs(a.work, exist_ok=True)
    logf = open(os.path.join(a.work, "train.log"), "a")

    def log(msg):
        line = "%s %s" % (time.strftime("%H:%M:%S", time.gmtime()), msg)
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    t_start = time.time()
    hp = hparams(a)

    def one_at(chunk):
        """--one-shape curriculum: extra single-shape scenes in the first pools, halving."""
        return a.one_shape / (2 ** chunk) if a.refresh else a.one_shape
    chunk = 0
    scenes = build_scenes(pool_seed(a.seed, chunk), a.scenes, one_at(chunk))
    log("scenes: %d (%.1fs)" % (len(scenes), time.time() - t_start))
    tok_dir = os.path.join(a.work, "tok")
    if a.tokenizer_from:
        tok = load_tokenizer(a.tokenizer_from)
    else:
        tok = build_tokenizer(build_scenes(a.seed, a.tok_scenes), a.merges)
    write_tokenizer_dir(tok_dir, tok)
    ids = {s: len(tok[0]) + i for i, s in enumerate(MT.SPECIALS)}
    tok_len = len(tok[0]) + len(MT.SPECIALS)
    config = make_config(hp, ids, tok_len)
    W = init_weights(hp, tok_len, a.seed, a.llm_qk_std, a.embed_std)
    head = None
    if a.init_vision:
        st1 = torch.load(a.init_vision)
        for k, v in st1["W"].items():
            assert W[k].shape == v.shape, (k, W[k].shape, v.shape)
            W[k] = v.clone()
        head = {k: v.clone() for k, v in st1["head"].items()}
        log("vision tower from stage 1 %s (%d steps, probe %s)" % (a.init_vision, st1["steps"],
                                                                  json.dumps(st1["probe"])))
    if a.init_llm:
        W0 = R.load_weights(a.init_llm)
        n_ = 0
        for k, v in W0.items():
            if "vision_tower" in k or "mm_projector" in k or k == "model.image_newline":
                continue
            assert W[k].shape == v.shape, (k, W[k].shape, v.shape)
            W[k] = v.clone()
            n_ += 1
        log("language model (%d tensors) from %s" % (n_, a.init_llm))
    if a.init_ckpt:
        # a train.py checkpoint, or an exported model directory (samples/models/<name>: the
        # weights only -- the stage-1 head is not exported, it is re-fitted below)
        if os.path.isdir(a.init_ckpt):
            st0 = {"W": R.load_weights(a.init_ckpt), "step": -1}
            assert set(st0["W"]) == set(W), sorted(set(st0["W"]) ^ set(W))
            head = None
        else:
            st0 = torch.load(a.init_ckpt)
        for k, v in st0["W"].items():
            assert W[k].shape == v.shape, (k, W[k].shape, v.shape)
            W[k] = v.clone()
        if st0.get("head"):
            head = {k: v.clone() for k, v in st0["head"].items()}
        log("all weights from %s (step %d)" % (a.init_ckpt, st0["step"]))
    # the reference Config parses the very config.json / tokenizer.json that is exported
    MT.write_json(os.path.join(tok_dir, "config.json"), config)
    hft = C.HFTokenizer(os.path.join(tok_dir, "tokenizer.json"))
    assert hft.length == tok_len, (hft.length, tok_len)
    cfg = R.Config(tok_dir, W, hft)
    ctok = C.CachedTokenizer(hft)
    prepare(scenes, cfg, ctok, cfg.bos_id)
    if a.inject_cell > 0 and not a.init_ckpt:
        raise SystemExit("--inject-cell changes a trained projector: it needs --init-ckpt")
    if a.init_ckpt and head is None and (a.aux_weight > 0 or a.inject_cell > 0):
        head, note = fit_head(W, cfg, scenes, a.dv, a.seed, a.aux_shape_weight)
        log(note)
    if a.inject_cell > 0:
        log("projector: cell logits injected into hidden units %s"
            % inject_cell(W, cfg, head, scenes[:300], a.inject_cell))
    elif a.init_ckpt:
        pass                                   # the checkpoint's projector is kept
    elif a.init_vision and a.projector_init == "symbolic":
        init_projector_symbolic(W, cfg, head, scenes[:300], a.img_scale)
        log("projector: symbolic init (stage-1 head logits)")
    elif a.init_vision and a.projector_init == "data":
        init_projector(W, cfg, head, scenes[:300], a.img_scale)
        log("projector: data-dependent init (centred PCA whitening + stage-1 head directions)")
    nimg = [s["n_img"] for s in scenes]
    ntext = [len(q["ids"]) - 1 for s in scenes[:200] for qs in s["q"].values() for q in qs]
    log("image tokens min/mean/max %d/%.1f/%d; prompt text tokens min/mean/max %d/%.1f/%d"
        % (min(nimg), np.mean(nimg), max(nimg), min(ntext), np.mean(ntext), max(ntext)))
    nparam = sum(v.numel() for v in W.values())
    log("tokenizer: %d base + %d special = %d; params %d (%.2f MB F32); prep %.1fs"
        % (len(tok[0]), len(MT.SPECIALS), tok_len, nparam, nparam * 4 / 1e6, time.time() - t_start))

    for k in sorted(W):
        W[k].requires_grad_()
    is_vis = lambda k: "vision_tower" in k  # noqa: E731
    groups = []
    for vis in (False, True):
        for dec in (True, False):
            ks = [k for k in sorted(W) if is_vis(k) == vis and
                  (W[k].dim() >= 2 and "position_embedding" not in k) == dec]
            ps = [W[k] for k in ks] + ([v.requires_grad_() for v in head.values()
                                        if (v.dim() >= 2) == dec] if (vis and head) else [])
            groups.append({"params": ps, "weight_decay": a.wd if dec else 0.0,
                           "lr_mult": a.vision_lr_mult if vis else 1.0, "vis": vis})
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95))
    rng = random.Random(a.seed + 1)
    g = torch.Generator().manual_seed(a.seed + 2)
    start, hist, prev_time = 0, {"step": [], "loss": [], "ce_by_type": {}}, 0.0
    ck = os.path.join(a.work, "ckpt.pt")
    sched_start, prev_time_total = 0, 0.0
    if a.resume and os.path.exists(ck):
        st = torch.load(ck)
        with torch.no_grad():
            for k in W:
                W[k].copy_(st["W"][k])
            if head is not None and "head" in st:
                for k in head:
                    head[k].copy_(st["head"][k])
        start, hist, prev_time = st["step"], st["hist"], st.get("train_time", 0.0)
        if a.reinit_vision:
            fresh = init_weights(hp, tok_len, a.seed + 7)
            with torch.no_grad():
                for k in W:
                    if "vision_tower" in k or "mm_projector" in k or k == "model.image_newline":
                        W[k].copy_(fresh[k])
            hist.setdefault("reinit_vision_at", []).append(start)
            sched_start, prev_time_total = start, prev_time
            prev_time = 0.0
        else:
            opt.load_state_dict(st["opt"])
        rng.setstate(st["rng"])
        g.set_state(st["g"])
        if a.refresh and start // a.refresh:
            chunk = start // a.refresh
            scenes = build_scenes(pool_seed(a.seed, chunk), a.scenes, one_at(chunk))
            prepare(scenes, cfg, ctok, cfg.bos_id)
        log("resumed at step %d" % start)
    stream = batches(rng, scenes, a.batch, 8, a.max_turns)
    dev = dev_set(5555, a.probe_scenes, cfg, ctok) if a.probe_every else None

    def used():
        return prev_time + time.time() - t_train

    def lr_at(s):
        s -= sched_start
        if s < a.warmup:
            return a.lr * (s + 1) / a.warmup
        f = (s - a.warmup) / max(1, a.steps - sched_start - a.warmup)
        if a.minutes:
            f = max(f, used() / (a.minutes * 60))
        return a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, f))))

    def short_share(s):
        if s < a.short_steps:
            return 1.0
        return max(0.0, 1.0 - (s - a.short_steps + 1) / a.short_ramp) if a.short_ramp else 0.0

    t_train = time.time()
    acc_loss, acc_n = 0.0, 0
    ce_acc = {}
    for step in range(start, a.steps):
        if a.refresh and step > start and step % a.refresh == 0:
            # fresh scenes: a new pool (its own seed), a new batch stream over it
            t_r = time.time()
            chunk = step // a.refresh
            scenes = build_scenes(pool_seed(a.seed, chunk), a.scenes, one_at(chunk))
            prepare(scenes, cfg, ctok, cfg.bos_id)
            stream = batches(rng, scenes, a.batch, 8, a.max_turns)
            log("scene pool %d (seed %d) built in %.1fs" % (chunk, pool_seed(a.seed, chunk),
                                                            time.time() - t_r))
        frozen = step < a.freeze_vision_steps
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step) * (0.0 if (frozen and gr["vis"]) else gr["lr_mult"])
        batch = next(stream)
        loss, st = batch_loss(W, cfg, batch, scenes, g, vision_reg=a.vision_reg, head=head,
                              aux_weight=a.aux_weight, aux_shape_weight=a.aux_shape_weight,
                              text_only=step < a.text_warmup, mask_mode=a.mask_mode,
                              gt_tokens=a.gt_tokens, text_loss=step < a.mdm_steps,
                              eot_weight=eot_weight_at(a, step),
                              short_p=short_share(step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_([p_ for gr in opt.param_groups for p_ in gr["params"]],
                                            a.clip)
        opt.step()
        acc_loss += float(loss)
        acc_n += 1
        for t, v in st["ce_by_type"].items():
            ce_acc.setdefault(t, []).extend(v)
        if a.bench_only and step + 1 - start >= a.bench_only:
            dt = time.time() - t_train
            log("bench: %d steps in %.1fs = %.2fs/step (seq %d)" % (a.bench_only, dt, dt / a.bench_only, st["seq_len"]))
            return
        if (step + 1) % a.log_every == 0:
            el = time.time() - t_train
            done = step + 1 - start
            hist["step"].append(step + 1)
            hist["loss"].append(acc_loss / acc_n)
            for t, v in ce_acc.items():
                hist["ce_by_type"].setdefault(t, []).append((step + 1, float(np.mean(v))))
            log("step %d/%d loss %.4f lr %.2e gnorm %.2f short %.2f aux %s ce %s | %.2fs/step eta %.0fmin"
                % (step + 1, a.steps, acc_loss / acc_n, lr_at(step), float(gn), short_share(step),
                   "%.3g" % st["aux"] if st["aux"] is not None else "-",
                   " ".join("%s=%.3f" % (t, np.mean(v)) for t, v in sorted(ce_acc.items())),
                   el / done, (a.steps - step - 1) * el / done / 60))
            acc_loss, acc_n, ce_acc = 0.0, 0, {}
        if a.probe_every and (step + 1) % a.probe_every == 0:
            t_p = time.time()
            pr = probe(W, cfg, dev, a.gt_tokens)
            hist.setdefault("probe", []).append((step + 1, pr))
            log("probe step %d (%.0fs): %s" % (step + 1, time.time() - t_p, json.dumps(pr)))
            if short_share(step) > 0:
                log("probe (short layout) step %d: %s"
                    % (step + 1, json.dumps(probe(W, cfg, dev, a.gt_tokens, short=True))))
        last = step + 1 == a.steps or (a.minutes and used() >= a.minutes * 60)
        if (step + 1) % a.ckpt_every == 0 or last:
            torch.save({"W": {k: v.detach() for k, v in W.items()}, "opt": opt.state_dict(),
                        "head": {k: v.detach() for k, v in head.items()} if head else None,
                        "step": step + 1, "hist": hist, "rng": rng.getstate(),
                        "g": g.get_state(),
                        "train_time": prev_time_total + prev_time + time.time() - t_train}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
        if last:
            break
    train_time = prev_time_total + prev_time + time.time() - t_train
    finish(a, W, config, tok, hp, hist, train_time, train_time + (t_train - t_start))
    log("done: %d steps, train %.1f min, exported to %s" % (hist["step"][-1], train_time / 60, a.out))


def finish(a, W, config, tok, hp, hist, train_time, wall):
    """Model directory + training.json (hyper-parameters, wall time, loss curve) + loss.png."""
    export(a.out, W, config, tok)
    nparam = sum(v.numel() for v in W.values())
    hpj = {k: v for k, v in vars(a).items() if k not in ("out", "work", "export_only", "resume",
                                                          "bench_only")}
    info = {"steps_done": hist["step"][-1] if hist["step"] else 0,
            "hyper_parameters": {**hpj, "arch": hp, "type_weights": TYPE_WEIGHTS,
                                 "category_weights": CATEGORY_WEIGHTS,
                                 "single_turn_fraction": TURNS_SINGLE, "short_pad": SHORT_PAD,
                                 "optimizer": "AdamW betas (0.9, 0.95), warmup then cosine to 5%%, "
                                              "clip %g, progress = max(step, wall-clock) fraction"
                                              % a.clip,
                                 "mask_eps": 1e-3, "response_padding": "<|eot_id|>"},
            "params": nparam, "size_bytes_f32": nparam * 4, "tokenizer_len": config["vocab_size"],
            "stage1_vision_pretraining": stage1_info(a),
            "wall_time_s": round(wall, 1), "train_time_s": round(train_time, 1),
            "final_loss_mean_last_50_steps": float(np.mean(hist["loss"][-10:])) if hist["loss"] else None,
            "loss_curve": {"step": hist["step"], "loss": [round(x, 5) for x in hist["loss"]]},
            "ce_by_type": {t: [[s, round(v, 5)] for s, v in vs] for t, vs in hist["ce_by_type"].items()}}
    MT.write_json(os.path.join(a.out, "training.json"), info)
    draw_loss_png(os.path.join(a.out, "loss.png"), hist["step"], hist["loss"],
                  "%s LLaDA-V SFT loss (log scale), batch %d, %d steps, %.0f min training"
                  % (os.path.basename(os.path.normpath(a.out)), a.batch, info["steps_done"],
                     train_time / 60))


def stage1_info(a):
    if not getattr(a, "init_vision", None) or not os.path.exists(a.init_vision):
        return None
    st = torch.load(a.init_vision)
    return {"file": a.init_vision, "args": st["args"], "steps": st["steps"],
            "train_s": st["train_s"], "probe_heldout": st["probe"],
            "loss_curve": st["loss"][::max(1, len(st["loss"]) // 200)]}


def export_checkpoint(a):
    """--export-only: the work directory's tokenizer/config + checkpoint -> model directory."""
    tok_dir = os.path.join(a.work, "tok")
    with open(os.path.join(tok_dir, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    with open(os.path.join(tok_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tok = (tj["model"]["vocab"], [tuple(m.split(" ")) for m in tj["model"]["merges"]])
    st = torch.load(os.path.join(a.work, "ckpt.pt"))
    W = st["W"]
    finish(a, W, config, tok, hparams(a), st["hist"], st.get("train_time", 0.0),
           st.get("train_time", 0.0))
    print("exported step %d to %s" % (st["step"], a.out))


if __name__ == "__main__":
    main()
