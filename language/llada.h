/* llada.h - the LLaDA language model (spec §4.4): a LLaMA-shaped bidirectional transformer
 * (RMSNorm, rotate-half RoPE, full attention without mask, SwiGLU), weights used in place
 * from the mmap (F32, F16 or BF16), activations from one arena sized for T_max rows.
 *
 *   lv_llada *m = NULL;
 *   if (lv_llada_load(&m, weights, &cfg, v_eff, t_max) != LV_OK) ... lv_last_error() ...
 *   lv_llada_embed(m, ids, n, x);                        // x: caller-allocated [n, D]
 *   lv_llada_forward(m, x, T, rows, n_rows, logits);     // logits: caller-allocated [n_rows, V]
 *   lv_llada_free(m);
 *
 * To drive the sampler (diffusion.h) put the prompt embeddings in an lv_llada_session and pass
 * lv_llada_logits as the callback with the session as its model pointer.
 */
#ifndef LV_LLADA_H
#define LV_LLADA_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "diffusion.h"

typedef struct lv_llada lv_llada;   /* opaque; borrows the weights, owns norms + arena */

/* Bytes of activations of one forward over T_max rows for config c (llm.c-style sum). */
size_t    lv_llada_scratch_size(const lv_config *c, int T_max);
/* w, c: borrowed, must outlive the model. v_eff: vocabulary rows used (tokenizer length when
 * smaller than the checkpoint, interfaces.md §2; <= 0 means vocab_size). T_max: longest
 * sequence a forward will get (longer is LV_ERR_LIMIT). */
lv_status lv_llada_load(lv_llada **out, const lv_weights *w, const lv_config *c, int v_eff,
                        int T_max);
void      lv_llada_free(lv_llada *m);   /* NULL-safe, accepts a half-built model */
int       lv_llada_dim(const lv_llada *m);     /* D = hidden_size */
int       lv_llada_vocab(const lv_llada *m);   /* V = v_eff */
int       lv_llada_t_max(const lv_llada *m);

/* out[n, D] = embed_tokens rows of ids (each must be in [0, V), else LV_ERR_INPUT). */
lv_status lv_llada_embed(const lv_llada *m, const int32_t *ids, int n, float *out);
/* One full forward over x[T, D] (input embeddings; not modified): every row goes through every
 * layer, and only the rows rows[0..n_rows) (in [0, T)) through the final norm + lm_head:
 * logits[n_rows, V]. */
lv_status lv_llada_forward(lv_llada *m, const float *x, int T, const int32_t *rows, int n_rows,
                           float *logits);
/* Floats of a K/V cache of a T-row sequence: [n_layers][K, V][T, D], keys after RoPE. */
size_t    lv_llada_kv_floats(const lv_llada *m, int T);
/* Forward of rows [q0, q1) of a T-row sequence, x = their input rows [q1 - q0, D]: their K,V
 * (post-RoPE, absolute positions) overwrite the cache kv and their queries attend to all T
 * cached rows, the other rows' K,V being whatever kv holds (Fast-dLLM prefix / dual cache,
 * spec §7.2). q0 = 0, q1 = T is a full forward that fills kv (identical to lv_llada_forward);
 * kv NULL requires it. rows: absolute, inside [q0, q1). */
lv_status lv_llada_forward_kv(lv_llada *m, float *kv, const float *x, int T, int q0, int q1,
                              const int32_t *rows, int n_rows, float *logits);
/* Floats of a dLLM-Cache of a T-row sequence: [n_layers][K, V, attn out, MLP out][T, D]. */
size_t    lv_llada_dllm_floats(const lv_llada *m, int T);
/* One dLLM-Cache pass (spec §7.1, LLaDA-V's cache hook) over x [T, D], prompt = rows [0, Lp):
 * rp / rg recompute the prompt / gen rows (both: a full pass that fills the cache dc); gen rows
 * not refreshed get their kT lowest-cosine-V rows recomputed; every other row's attention and
 * MLP output comes from dc, added to its fresh residual. rows: absolute logits rows. */
lv_status lv_llada_forward_dllm(lv_llada *m, float *dc, const float *x, int T, int Lp, int rp,
                                int rg, int kT, const int32_t *rows, int n_rows, float *logits);

/* ---- approximate caches (opt-in fast modes, spec §7) ---- */
typedef enum {
    LV_CACHE_NONE,     /* exact: every pass is a full forward */
    LV_CACHE_PREFIX,   /* Fast-dLLM prefix cache: K,V of the rows before the block reused */
    LV_CACHE_DUAL,     /* Fast-dLLM dual cache: only the block's rows are recomputed */
    LV_CACHE_DLLM,     /* dLLM-Cache: per-layer attention / MLP outputs, partial refresh */
    LV_CACHE_COUNT
} lv_cache_mode;

typedef struct {
    lv_cache_mode mode;
    int refresh;   /* prefix/dual: full forward every `refresh` steps of a block, 0 = at the
                      block start only (1 = every pass: exact) */
    /* dLLM-Cache: prompt rows refreshed every prompt_interval passes, gen rows every
     * gen_interval (1, 1 = exact); in between the floor(transfer_ratio * gen rows) gen rows
     * whose V changed most are recomputed. 0 = the LLaDA-V demo's 25, 7, 0.25. */
    int prompt_interval, gen_interval;
    double transfer_ratio;
    /* approximate, across requests (docs/MODES.md): keep the K/V of the prompt's first
     * prefix_rows rows (lv_llada_dir.prefix_rows: the text before the image and the image)
     * from an earlier request whose rows were the same, and never recompute them; with mode
     * none it runs as prefix with refresh 1; not with dllm */
    int reuse_prefix;
} lv_cache_params;

const char *lv_cache_mode_name(lv_cache_mode c);   /* "none", "prefix", "dual", "dllm" */
lv_status   lv_cache_mode_parse(lv_cache_mode *out, const char *name);
/* "P,G,R" (e.g. "25,7,0.25") -> c->mode = LV_CACHE_DLLM and its three settings. */
lv_status   lv_dllm_cache_parse(lv_cache_params *c, const char *spec);
/* Presets (docs/MODES.md): "exact" (no cache, plain schedule), "fast", "fastest" set c and
 * p->threshold / p->factor; LV_ERR_ARG for another name. */
lv_status   lv_fast_mode_apply(const char *mode, lv_cache_params *c, lv_diffusion_params *p);

/* ---- sampler adapter: the logits callback of diffusion.h over a fixed prompt ---- */
typedef struct {
    lv_llada *m;          /* borrowed */
    const float *prompt;  /* borrowed [n_prompt, D]: text rows embedded, image rows spliced */
    int n_prompt;
    int32_t mask_id;      /* its embedding replaces the prompt rows in the unconditional pass */
    float *x;             /* owned [n_prompt + n_tail_max, D] input of the current pass */
    float *mask_row;      /* owned [D] */
    int32_t *abs_rows;    /* owned [n_tail_max] */
    int n_tail_max;
    lv_cache_params cache;   /* set before the first pass; zero = exact */
    float *kv;               /* owned lv_llada_kv_floats(T) once a cache mode runs */
    lv_pass_info at;         /* the sampler's position (lv_llada_pass), at_set = 1 once given */
    int at_set, kv_full;     /* kv_full: kv holds a full pass of this sequence */
    int n_full, n_partial;   /* passes run as full / cached forwards */
    struct lv_prefix_store *store;   /* reuse_prefix: borrowed from the lv_llada_dir */
    int prefix_rows;                 /* rows [0, prefix_rows) the store may hold */
    int n_dllm;              /* dLLM-Cache passes since the session started */
} lv_llada_session;

lv_status lv_llada_session_init(lv_llada_session *s, lv_llada *m, const float *prompt,
                                int n_prompt, int32_t mask_id, int n_tail_max);
void      lv_llada_session_free(lv_llada_session *s);   /* NULL-safe */
/* lv_logits_fn: x = [prompt (or mask rows when uncond) ; embed(tail)], logits of the tail rows.
 * With a cache mode, a pass that is not a refresh forwards only the block's rows (dual; the
 * rows after it too for prefix, and any requested row beyond it) against the cached K,V; the
 * unconditional pass of cfg is always a full forward without the cache. */
lv_status lv_llada_logits(void *session, const int32_t *tail, int n_tail, int uncond,
                          const int32_t *rows, int n_rows, float *logits);
/* lv_pass_fn: records the sampler's block and step for the cache decisions. */
lv_status lv_llada_pass(void *session, const lv_pass_info *at);

/* ---- a model directory opened for text generation ---- */
typedef struct lv_tokenizer lv_tokenizer;   /* language.h */

/* Special ids found by content in tokenizer.json (interfaces.md §1), -1 when absent. */
typedef struct {
    int32_t mask;            /* config mask_token_id, else <|mdm_mask|>, else 126336 */
    int32_t bos, eos, eot;   /* <|startoftext|>, <|endoftext|>, <|eot_id|> */
    int32_t start_header, end_header;   /* <|start_header_id|>, <|end_header_id|> */
    int v_eff;               /* min(len(tokenizer), vocab_size) */
    int32_t bans[4];         /* the ids above banned at masked rows (§6.4), present ones */
    int n_bans;
    lv_token_seq eot_stop;   /* {&eot, 1}, n = 0 when the tokenizer has no <|eot_id|> */
} lv_llada_tokens;

lv_status lv_llada_tokens_resolve(lv_llada_tokens *t, const lv_config *c, const lv_tokenizer *tok);
/* p->mask_id, p->vocab, bans and the <|eot_id|> stop from t (t must outlive p). */
void      lv_llada_tokens_apply(const lv_llada_tokens *t, lv_diffusion_params *p);

/* K/V of a prompt prefix kept across requests (lv_cache_params.reuse_prefix). */
typedef struct lv_prefix_store {
    int P;          /* rows held, 0 = empty */
    float *x;       /* owned [P, D] the input rows they belong to (compared in full) */
    float *kv;      /* owned [n_layers][2][P, D] post-RoPE K and V */
    int precision;  /* lv_precision_get() when they were computed */
    long n_saved, n_reused;
} lv_prefix_store;

typedef struct {
    lv_config cfg;
    lv_weights *w;         /* owned */
    lv_tokenizer *tok;     /* owned */
    lv_llada_tokens ids;
    lv_llada *lm;          /* owned; NULL until lv_llada_dir_load_lm */
    lv_cache_params cache; /* used by lv_llada_dir_generate; zero (exact) after open */
    int prefix_rows;       /* with cache.reuse_prefix: rows shared by requests about one image */
    lv_prefix_store prefix;   /* owned */
} lv_llada_dir;

void      lv_prefix_store_free(lv_prefix_store *ps);   /* NULL-safe; leaves it empty */

/* dir/config.json + weights (checked against the config) + dir/tokenizer.json + special ids. */
lv_status lv_llada_dir_open(lv_llada_dir *d, const char *dir);
/* The language model for sequences of at most T_max rows: loaded on first use and reloaded
 * (a new arena) only when an earlier load was for fewer rows, so a batch of requests reuses it. */
lv_status lv_llada_dir_load_lm(lv_llada_dir *d, int T_max);
void      lv_llada_dir_free(lv_llada_dir *d);   /* NULL-safe, accepts a half-open one */
/* Sample a response after prompt embeddings pe[Lp, D] (text rows from lv_llada_embed, image
 * rows spliced by the caller): lv_llada_dir_load_lm for Lp + gen_length + suffix rows, then
 * lv_diffusion_generate with an lv_llada_session. */
lv_status lv_llada_dir_generate(lv_llada_dir *d, const float *pe, int Lp,
                                const lv_diffusion_params *p, lv_diffusion_result *r);

#endif
