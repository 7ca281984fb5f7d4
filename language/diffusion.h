/* diffusion.h - the masked-diffusion sampler of LLaDA-V (spec §6), network-agnostic: the model
 * is reached only through a logits callback, so tests drive it with scripted logits.
 *
 *   lv_diffusion_params p = lv_diffusion_default_params();
 *   p.gen_length = 64; p.steps = 64; p.block_length = 32; p.mask_id = mask; p.vocab = V_eff;
 *   p.ban_ids = bans; p.n_ban = 4;  p.stops = &eot_seq; p.n_stops = 1;
 *   lv_diffusion_result r = {ids, committed};           // caller-allocated arrays
 *   if (lv_diffusion_generate(&p, my_logits, model, &r) != LV_OK) ... lv_last_error() ...
 *
 * Sequence layout: [prompt (Lp rows, owned by the model) | response (gen_length) | suffix].
 * The sampler tracks the ids of the response + suffix ("tail"); the callback builds the full
 * input (prompt embeddings, or the mask embedding for them when `uncond`, then embed(tail))
 * and returns logits for the requested tail rows only (spec §6.7).
 */
#ifndef LV_DIFFUSION_H
#define LV_DIFFUSION_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* Longest sequence one forward takes: prompt (+ image tokens) + response + suffix rows.
 * lv_diffusion_validate checks gen_length + n_suffix and lv_llada_load checks T_max against it
 * (LV_ERR_LIMIT) before anything is allocated, so row counts and T * T stay inside int. */
#define LV_MAX_SEQ_LEN 32768

typedef enum { LV_REMASK_LOW_CONFIDENCE, LV_REMASK_RANDOM, LV_REMASK_COUNT } lv_remask;

typedef enum {
    LV_SAMPLER_LLADA_V,     /* generate_with_embeds (§6.1): bans, stops, early exit, suffix */
    LV_SAMPLER_LLADA_TEXT,  /* LLaDA generate.py (§6.5): every step runs, float32 softmax */
    LV_SAMPLER_COUNT
} lv_sampler;

/* logits[n_rows, V] for tail rows rows[0..n_rows) (ascending, 0 = first response position)
 * of one forward pass over [prompt | tail[0..n_tail)]. uncond = 1: the prompt rows are
 * replaced by the mask embedding (classifier-free guidance, §6.1). */
typedef lv_status (*lv_logits_fn)(void *model, const int32_t *tail, int n_tail, int uncond,
                                  const int32_t *rows, int n_rows, float *logits);

/* Called after every forward pass: pass index (from 0), block index, tokens committed so far,
 * and the current canvas tail[0..gen_length) (borrowed; masked rows hold mask_id). */
typedef void (*lv_progress_fn)(void *user, int pass, int block, int n_blocks, int committed,
                               int gen_length, const int32_t *tail);

typedef struct {
    const int32_t *ids;   /* borrowed */
    int n;
} lv_token_seq;

/* Where the sampler is before a forward pass, for models that cache across passes (llada.h):
 * the pass index, the block and the step inside it, the block's tail rows [bs, be) and the end
 * of the candidate region (be, or the stop position once a stop sequence was found). */
typedef struct {
    int pass, block, step;
    int bs, be, lim;
} lv_pass_info;

/* Called with the model pointer before the logits calls of every pass; LV_OK to go on. */
typedef lv_status (*lv_pass_fn)(void *model, const lv_pass_info *info);

typedef struct {
    lv_sampler sampler;          /* LV_SAMPLER_LLADA_V */
    int steps;                   /* 128; steps % (gen_length / block_length) == 0 */
    int gen_length;              /* 128 */
    int block_length;            /* 128; divides gen_length */
    double temperature;          /* 0 = argmax; > 0 Gumbel-max in float64 (§6.3) */
    double cfg_scale;            /* 0 = off; logits = lu + (s + 1)(lc - lu) */
    lv_remask remasking;         /* LV_REMASK_LOW_CONFIDENCE */
    uint64_t seed;               /* counter RNG streams (rng.h) */
    int32_t mask_id;             /* required: from config / tokenizer (126336 for LLaDA) */
    int vocab;                   /* required: V_eff, columns of the logits */
    const int32_t *ban_ids;      /* borrowed [n_ban]: -inf at masked rows (LLaDA-V only) */
    int n_ban;
    const lv_token_seq *stops;   /* borrowed [n_stops]: stop sequences (LLaDA-V only) */
    int n_stops;
    const int32_t *suffix;       /* borrowed [n_suffix]: generation suffix (LLaDA-V only) */
    int n_suffix;
    /* LLaDA generate.py options (LV_SAMPLER_LLADA_TEXT only); eos_id/eot_id -1 if unknown */
    int logits_eos_inf;          /* logits[:, eos] = -inf before the argmax */
    int confidence_eos_eot_inf;  /* logits[:, eos/eot] = -inf after the argmax */
    int32_t eos_id, eot_id;
    lv_progress_fn progress;     /* NULL = silent */
    void *progress_user;
    /* Fast-dLLM parallel decoding (spec §7.2), 0 = off, at most one of the two. With either,
     * a block runs until it has no mask left (at most block_length passes; steps unused):
     * threshold: commit every candidate with confidence >= threshold, at least the best one;
     * factor f: confidences sorted c1 >= c2 >= ...; commit the top n-1 for the first n with
     * c_n < 1 - f/(n+1) (t_1 = -1), all of them when none or only the last one is below
     * (the reference's count quirk, get_transfer_index_dynamic). */
    double threshold;
    double factor;
    lv_pass_fn on_pass;          /* NULL = none */
} lv_diffusion_params;

typedef struct {
    int32_t *ids;             /* caller-allocated [gen_length + n_suffix]: response (stop excluded) + suffix */
    int32_t *committed_step;  /* caller-allocated [gen_length] or NULL: pass that unmasked each row, -1 never */
    float *logits0;           /* caller-allocated [gen_length, vocab] or NULL: first pass, all rows, before bans */
    int n_ids;                /* out: length of ids */
    int n_passes;             /* out: forward passes run (a cfg pair counts once) */
    int stopped;              /* out: 1 when a stop sequence ended the response */
} lv_diffusion_result;

lv_diffusion_params lv_diffusion_default_params(void);
/* LV_ERR_ARG with a message naming the parameter when p is inconsistent. */
lv_status lv_diffusion_validate(const lv_diffusion_params *p);
/* One-line "steps=128 gen_length=128 ..." into buf; returns buf. */
const char *lv_diffusion_params_str(const lv_diffusion_params *p, char *buf, size_t size);
/* §6.2: out[0..steps) = tokens to commit per step for n masked positions. */
void lv_diffusion_schedule(int *out, int n, int steps);
/* Tokens a parallel-decoding step commits (p->threshold or p->factor set) out of n candidates
 * whose confidences, sorted descending, are conf[order[0..n)]; 0 when n = 0. */
int lv_diffusion_parallel_count(const lv_diffusion_params *p, const double *conf,
                                const int32_t *order, int n);
const char *lv_remask_name(lv_remask r);          /* "low_confidence", "random" */
lv_status   lv_remask_parse(lv_remask *out, const char *name);

/* Run the sampler. All buffers are allocated once before the first pass. */
lv_status lv_diffusion_generate(const lv_diffusion_params *p, lv_logits_fn fn, void *model,
                                lv_diffusion_result *r);

#endif
