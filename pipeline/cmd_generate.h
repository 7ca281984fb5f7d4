/* cmd_generate.h - what `lladav generate` and `lladav dump` share (cmd_generate.c): the sampler
 * options, their translation into lv_diffusion_params, and the text prompt set-up. */
#ifndef LV_CMD_GENERATE_H
#define LV_CMD_GENERATE_H

#include <cjson/cJSON.h>

#include "cli.h"
#include "language.h"
#include "lladav.h"
#include "projector.h"
#include "vision.h"

#define LV_GEN_N_OPTS 18   /* rows written by lv_gen_opts_table */

typedef struct {
    const char *model, *prompt;
    const char *temperature, *cfg, *remasking;   /* parsed by lv_gen_opts_params (float64) */
    int steps, gen_length, block_length, threads, raw;
    uint64_t seed;
    /* fast modes (docs/MODES.md): a preset, then the flags given override it; NULL / -1 unset */
    const char *mode, *cache, *threshold, *factor, *dllm_cache;
    int cache_refresh;
    const char *precision;   /* --precision f32|bf16 (lv_cli_precision), NULL = f32 */
    int reuse_prefix;        /* --reuse-prefix (lv_cache_params.reuse_prefix) */
} lv_gen_opts;

void lv_gen_opts_default(lv_gen_opts *o);
/* Writes the LV_GEN_N_OPTS option rows (model, prompt, sampler, threads) to opts. */
void lv_gen_opts_table(lv_gen_opts *o, lv_opt *opts);
/* The sampler flags of o as the embedding API's settings (caption, ask: lladav.h). */
lv_status lv_gen_opts_sampler(const lv_gen_opts *o, lv_sampler_params *sp);
/* Sampler params for o on model d (mask id, V_eff, bans, <|eot_id|> stop, dump semantics),
 * and the fast-mode flags: threshold / factor into p, the cache into d->cache. */
lv_status lv_gen_opts_params(const lv_gen_opts *o, lv_llada_dir *d, lv_diffusion_params *p);
/* sp (steps / block_length 0 = gen_length) + the model's special ids t -> validated p
 * (lladav.c; what lv_gen_opts_params and lv_model_ask both use). */
lv_status lv_sampler_apply(const lv_sampler_params *sp, const lv_llada_tokens *t,
                           lv_diffusion_params *p);
/* One image through the vision stages (spec §3, §4.1-4.3); every intermediate is kept for dump. */
typedef struct {
    lv_view_geometry g;
    int P, Dv, D;          /* tokens per view, vision width, LLM width */
    float *views;          /* owned [n_views, 3, S, S] */
    float *vision;         /* owned [n_views, P, Dv] */
    float *projected;      /* owned [n_views, P, D] */
    float *image_embeds;   /* owned [g.n_tokens, D] */
} lv_gen_image;

lv_status lv_gen_image_encode(lv_gen_image *im, const lv_llada_dir *d, const char *path);
void      lv_gen_image_free(lv_gen_image *im);   /* NULL-safe */

/* Prompt ids of text (llava_llada chat template unless raw; with an image the user turn is
 * "<image>\n" + text unless text holds "<image>") and the prompt embeddings: text rows embedded,
 * each LV_IMAGE_TOKEN_ID replaced by the image rows (spec §5.4). Loads the LM for
 * *n_rows + n_tail rows. *ids, *pe: returned, free(); *pe is [*n_rows, D]. */
lv_status lv_gen_prompt(lv_llada_dir *d, const char *text, int raw, const lv_gen_image *im,
                        int n_tail, int32_t **ids, int *n_ids, float **pe, int *n_rows);

/* One answer as the JSON object of `ask --json` and `vqa` (cmd_caption.c): model, image (NULL:
 * null), question, answer (may hold any byte, escaped), image size, views, image_reused,
 * tokens{prompt_text, image, prompt_rows, response, forward_passes, stopped} and
 * seconds{decode, preprocess, vision, projector, merge, prompt_embed, sampling, total}. */
cJSON *lv_answer_json(const lv_model *m, const char *image, const char *question, const lv_result *r);

#endif
