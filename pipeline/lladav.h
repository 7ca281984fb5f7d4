/* lladav.h - the embedding API: one call from an image and a question to an answer, for
 * programs that link lladav (pkg-config lladav). The CLI's `caption` and `ask` use it.
 *
 *   lv_model *m = NULL;
 *   lv_model_params mp = lv_model_default_params();
 *   if (lv_model_load(&m, "path/to/model", &mp) != LV_OK)       // NULL dir: lv_model_find
 *       fprintf(stderr, "error: %s\n", lv_last_error());
 *   lv_sampler_params sp = lv_sampler_default_params();
 *   sp.gen_length = 32;
 *   lv_result r = {0};
 *   if (lv_model_ask(m, "cat.png", "What is in the image?", &sp, &r) == LV_OK)
 *       printf("%s\n", r.answer);                               // + r.t_*, r.n_*
 *   lv_result_free(&r);
 *   lv_model_free(m);
 *
 * Per request (spec §3-§6):
 *   image --decode--> RGB --views, SigLIP, projector, merge--> image rows [N_img, D]
 *   question --llava_llada template, tokenizer_image_token--> ids --embed, splice at <image>-->
 *   prompt rows --LLaDA-V sampler (generate_with_embeds: bans, <|eot_id|> stop)--> response ids
 *   --decode (special tokens skipped), whitespace trimmed--> answer
 *
 * Images are cached by content (lladav.h lv_model_params.image_cache_mb): twenty questions
 * about four images decode and encode four images. A model answers one request at a time (the
 * forward scratch and the image cache are shared): use one lv_model per thread. Errors: every call returns an lv_status and records lv_last_error() (status.h).
 */
#ifndef LV_LLADAV_H
#define LV_LLADAV_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "language.h"
#include "vision.h"

typedef struct lv_model lv_model;   /* opaque: weights (mmap), tokenizer, vision encoder, LM */

typedef struct {
    int threads;   /* threads for OpenMP and OpenBLAS: > 0 sets them, 0 = physical cores,
                      < 0 leaves the process setting alone (default -1) */
    long image_cache_mb;   /* image rows kept by content for later questions about the same
                              image, least recently used dropped first (default
                              LV_IMAGE_CACHE_MB; 0 keeps only the latest image) */
} lv_model_params;

#define LV_IMAGE_CACHE_MB 1024L   /* ~9 real LLaDA-V anyres images of 729 x 5 rows x 4096 */

lv_model_params lv_model_default_params(void);

/* Name of the model shipped with lladav (samples/models/<name>). */
#define LV_BUNDLED_MODEL "shapes-v4"

/* The model directory to use when none is given: $LLADAV_MODEL when set and non-empty, else
 * the bundled model, looked up next to the running executable (<exe dir>/../share/lladav/
 * models, <exe dir>/../samples/models, <exe dir>/../../samples/models: install and build
 * trees), then in the install prefix and the source tree recorded at build time. LV_ERR_IO
 * naming the places searched when none has a config.json. */
lv_status lv_model_find(char *dir, size_t size);

/* Open dir (config.json, weights, tokenizer.json; NULL: lv_model_find) and load the vision
 * tower + projector when the config has them. p NULL: defaults. */
lv_status lv_model_load(lv_model **out, const char *dir, const lv_model_params *p);
void      lv_model_free(lv_model *m);                  /* NULL-safe */
int       lv_model_has_vision(const lv_model *m);      /* 0 for a text-only LLaDA */
const char *lv_model_path(const lv_model *m);          /* the directory it was loaded from */
/* Images this model has decoded + encoded, and requests that reused a cached image. */
void      lv_model_image_counts(const lv_model *m, long *encoded, long *reused);
/* --reuse-prefix (lv_cache_params.reuse_prefix): prefixes computed and kept, and full passes
 * that took a kept prefix instead of recomputing it. */
void      lv_model_prefix_counts(const lv_model *m, long *saved, long *reused);

/* Sampler settings of one request (diffusion.h has the full parameter set). */
typedef struct {
    int steps;              /* forward passes in total; 0 = gen_length */
    int gen_length;         /* response length in tokens (128) */
    int block_length;       /* semi-autoregressive block length; 0 = gen_length */
    double temperature;     /* 0 = argmax; > 0 Gumbel-max */
    double cfg_scale;       /* classifier-free guidance, 0 = off */
    lv_remask remasking;    /* LV_REMASK_LOW_CONFIDENCE */
    uint64_t seed;          /* counter RNG seed (0) */
    lv_progress_fn progress;   /* called after every forward pass, NULL = silent */
    void *progress_user;
    /* opt-in fast modes (docs/MODES.md; lv_fast_mode_apply sets all three for a preset):
     * parallel decoding threshold / factor (0 = off) and an approximate cache (zero = none) */
    double threshold, factor;
    lv_cache_params cache;
} lv_sampler_params;

lv_sampler_params lv_sampler_default_params(void);
/* Apply a fast-mode preset ("exact", "fast", "fastest": docs/MODES.md) to sp's threshold,
 * factor and cache; LV_ERR_ARG for another name. */
lv_status lv_sampler_set_mode(lv_sampler_params *sp, const char *mode);

/* One answer with its token counts and stage times (seconds, monotonic clock). */
typedef struct {
    char *answer;             /* owned, NUL-terminated, special tokens skipped, trimmed */
    size_t answer_len;
    int n_text_tokens;        /* prompt ids that are text (the chat template included) */
    int n_image_tokens;       /* image rows spliced at <image> (N_img), 0 without an image */
    int n_prompt_rows;        /* n_text_tokens + n_image_tokens */
    int n_response_tokens;    /* response ids before decoding (stop token excluded) */
    int n_passes;             /* forward passes the sampler ran (a cfg pair counts once) */
    int stopped;              /* 1 when <|eot_id|> ended the response */
    int image_width, image_height, n_views;   /* 0 without an image */
    double t_decode;          /* file / bytes -> RGB */
    int image_reused;         /* 1 when the image rows came from the model's image cache */
    double t_preprocess, t_vision, t_projector, t_merge;   /* image stages (merge.h); 0 when
                              reused (the same file bytes / pixels asked about before) */
    double t_embed;           /* prompt template + tokenization + embedding + splice */
    double t_sampling;        /* the diffusion sampler (every forward pass) */
    double t_total;           /* the whole call */
} lv_result;

/* Answer question about the image file image_path (PNG or JPEG; NULL: text only). The user
 * turn is "<image>\n" + question unless question holds "<image>" (interfaces.md §2).
 * sp NULL: defaults. r: zeroed or freed before; filled on LV_OK. An image for a model
 * without vision is LV_ERR_UNSUPPORTED; image errors are vision.h's (LV_ERR_IO, ..._IMAGE,
 * ..._UNSUPPORTED, ..._LIMIT), naming the file. */
lv_status lv_model_ask(lv_model *m, const char *image_path, const char *question,
                       const lv_sampler_params *sp, lv_result *r);
/* Same with an encoded image in memory (data[size], borrowed for the call); name is used in
 * error messages only. */
lv_status lv_model_ask_memory(lv_model *m, const void *data, size_t size, const char *name,
                              const char *question, const lv_sampler_params *sp, lv_result *r);
/* Same with a decoded RGB image (lv_image_load / lv_image_decode; NULL: text only). */
lv_status lv_model_ask_rgb(lv_model *m, const lv_image *img, const char *question,
                           const lv_sampler_params *sp, lv_result *r);
void      lv_result_free(lv_result *r);                /* NULL-safe; leaves it zeroed */

#endif
