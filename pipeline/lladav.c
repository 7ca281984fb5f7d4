/* lladav.c - the embedding API of lladav.h over the libraries and the prompt set-up that
 * `generate` and `dump` use (cmd_generate.h), so all three build the same prompt rows:
 *
 *   lv_model_load:  lv_llada_dir_open (config, weights, tokenizer, special ids)
 *                   + lv_image_encoder_load (SigLIP + projector) when the config has vision
 *   lv_model_ask:   lv_image_load -> lv_image_encoder_run -> lv_gen_prompt (template, ids,
 *                   embed, splice) -> lv_llada_dir_generate -> lv_tokenizer_decode -> trim
 */
#include "lladav.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_generate.h"
#include "merge.h"

#ifndef LV_INSTALL_MODELS_DIR
#define LV_INSTALL_MODELS_DIR "/usr/local/share/lladav/models"
#endif
#ifndef LV_SOURCE_MODELS_DIR
#define LV_SOURCE_MODELS_DIR "samples/models"
#endif

struct lv_model {
    char *path;
    lv_llada_dir dir;          /* config, weights, tokenizer, special ids, LM */
    lv_image_encoder *ie;      /* NULL for a text-only model; borrows dir.cfg and dir.w */
    /* the last image's stages, reused while the next request brings the same pixels
     * (questions about one image: decode is the caller's, views + tower + projector + merge
     * run once; exact, the encoder being deterministic) */
    lv_image_stages last;
    uint64_t last_hash;
    int last_w, last_h;
};

/* FNV-1a over the RGB bytes: which image the cached stages belong to (with its size). */
static uint64_t lv_image_hash(const lv_image *img)
{
    uint64_t h = 1469598103934665603ull;
    size_t n = (size_t)img->width * (size_t)img->height * 3;
    for (size_t i = 0; i < n; i++) h = (h ^ img->rgb[i]) * 1099511628211ull;
    return h;
}

static double lv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

lv_model_params lv_model_default_params(void)
{
    return (lv_model_params){.threads = -1};
}

lv_sampler_params lv_sampler_default_params(void)
{
    lv_diffusion_params d = lv_diffusion_default_params();
    return (lv_sampler_params){.gen_length = d.gen_length, .temperature = d.temperature,
                               .cfg_scale = d.cfg_scale, .remasking = d.remasking, .seed = d.seed};
}

lv_status lv_sampler_set_mode(lv_sampler_params *sp, const char *mode)
{
    lv_diffusion_params fp = lv_diffusion_default_params();
    LV_TRY(lv_fast_mode_apply(mode, &sp->cache, &fp));
    sp->threshold = fp.threshold;
    sp->factor = fp.factor;
    return LV_OK;
}

static int lv_is_model_dir(const char *dir)
{
    char p[4096];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/config.json", dir) >= (int)sizeof p) return 0;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

lv_status lv_model_find(char *dir, size_t size)
{
    const char *env = getenv("LLADAV_MODEL");
    if (env && *env) {
        if (strlen(env) >= size) return lv_fail(LV_ERR_ARG, "$LLADAV_MODEL: path too long");
        strcpy(dir, env);
        return LV_OK;
    }
    char exe[4096] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    const char *rel[] = {"/../share/lladav/models/", "/../samples/models/", "/../../samples/models/"};
    char cand[4096];
    for (int i = 0; slash && i < 3; i++) {
        if (snprintf(cand, sizeof cand, "%s%s%s", exe, rel[i], LV_BUNDLED_MODEL) >= (int)sizeof cand)
            continue;   /* a truncated path could name another folder */
        if (lv_is_model_dir(cand) && strlen(cand) < size) {
            strcpy(dir, cand);
            return LV_OK;
        }
    }
    const char *abs[] = {LV_INSTALL_MODELS_DIR, LV_SOURCE_MODELS_DIR};
    for (int i = 0; i < 2; i++) {
        snprintf(cand, sizeof cand, "%s/%s", abs[i], LV_BUNDLED_MODEL);
        if (lv_is_model_dir(cand) && strlen(cand) < size) {
            strcpy(dir, cand);
            return LV_OK;
        }
    }
    return lv_fail(LV_ERR_IO, "no model given (--model DIR or $LLADAV_MODEL) and the bundled model "
                   "'%s' is not in %s/../share/lladav/models, %s/../samples/models, %s or %s",
                   LV_BUNDLED_MODEL, exe, exe, LV_INSTALL_MODELS_DIR, LV_SOURCE_MODELS_DIR);
}

void lv_model_free(lv_model *m)
{
    if (!m) return;
    lv_image_encoder_free(m->ie);
    lv_image_stages_free(&m->last);
    lv_llada_dir_free(&m->dir);
    free(m->path);
    free(m);
}

lv_status lv_model_load(lv_model **out, const char *dir, const lv_model_params *p)
{
    *out = NULL;
    lv_model_params mp = p ? *p : lv_model_default_params();
    char found[4096];
    if (!dir) {
        LV_TRY(lv_model_find(found, sizeof found));
        dir = found;
    }
    if (mp.threads >= 0) lv_threads_set(mp.threads);
    lv_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(dir))) {
        free(m);
        return lv_fail(LV_ERR_NOMEM, "%s: model handle", dir);
    }
    lv_status s = lv_llada_dir_open(&m->dir, dir);
    if (s == LV_OK && m->dir.cfg.has_vision) s = lv_image_encoder_load(&m->ie, &m->dir.cfg, m->dir.w);
    if (s != LV_OK) {
        lv_model_free(m);
        return s;
    }
    *out = m;
    return LV_OK;
}

int lv_model_has_vision(const lv_model *m)
{
    return m->ie != NULL;
}

const char *lv_model_path(const lv_model *m)
{
    return m->path;
}

void lv_result_free(lv_result *r)
{
    if (!r) return;
    free(r->answer);
    memset(r, 0, sizeof *r);
}

static lv_status lv_model_no_vision(const lv_model *m, const char *image)
{
    return lv_fail(LV_ERR_UNSUPPORTED, "%s: the model %s has no vision tower (text-only config), "
                   "so it cannot be asked about an image", image, m->path);
}

lv_status lv_sampler_apply(const lv_sampler_params *sp, const lv_llada_tokens *t,
                           lv_diffusion_params *p)
{
    *p = lv_diffusion_default_params();
    p->gen_length = sp->gen_length;
    p->steps = sp->steps > 0 ? sp->steps : sp->gen_length;
    p->block_length = sp->block_length > 0 ? sp->block_length : sp->gen_length;
    p->temperature = sp->temperature;
    p->cfg_scale = sp->cfg_scale;
    p->remasking = sp->remasking;
    p->seed = sp->seed;
    p->progress = sp->progress;
    p->progress_user = sp->progress_user;
    p->threshold = sp->threshold;
    p->factor = sp->factor;
    lv_llada_tokens_apply(t, p);
    return lv_diffusion_validate(p);
}

/* The request after decoding: t0 = start of the call, r->t_decode already set. */
static lv_status lv_model_run(lv_model *m, const lv_image *img, const char *question,
                              const lv_sampler_params *sp, lv_result *r, double t0)
{
    lv_sampler_params def = lv_sampler_default_params();
    lv_diffusion_params p;
    LV_TRY(lv_sampler_apply(sp ? sp : &def, &m->dir.ids, &p));
    if (!question) return lv_fail(LV_ERR_ARG, "ask: no question");
    lv_gen_image gi = {0};   /* borrows m->last.embeds for lv_gen_prompt */
    int32_t *ids = NULL, *out = NULL;
    float *pe = NULL;
    int n_ids = 0, n_rows = 0;
    lv_status s = LV_OK;
    if (img) {
        const lv_image_stages *st = &m->last;
        uint64_t hash = lv_image_hash(img);
        if (!st->embeds || hash != m->last_hash || img->width != m->last_w || img->height != m->last_h) {
            lv_image_stages_free(&m->last);
            s = lv_image_encoder_run(m->ie, img, &m->last);
            if (s != LV_OK) lv_image_stages_free(&m->last);
            m->last_hash = hash;
            m->last_w = img->width;
            m->last_h = img->height;
            r->t_preprocess = st->t_preprocess;
            r->t_vision = st->t_vision;
            r->t_projector = st->t_projector;
            r->t_merge = st->t_merge;
        }
        gi.g = st->geom;
        gi.D = st->D;
        gi.image_embeds = st->embeds;
        r->image_width = img->width;
        r->image_height = img->height;
        r->n_views = st->geom.n_views;
        r->n_image_tokens = st->geom.n_tokens;
    }
    double t = lv_now();
    if (s == LV_OK)
        s = lv_gen_prompt(&m->dir, question, 0, img ? &gi : NULL, p.gen_length + p.n_suffix, &ids,
                          &n_ids, &pe, &n_rows);
    r->t_embed = lv_now() - t;
    if (s == LV_OK && !(out = malloc((size_t)(p.gen_length + p.n_suffix) * sizeof *out)))
        s = lv_fail(LV_ERR_NOMEM, "ask: response of %d tokens", p.gen_length);
    lv_diffusion_result dr = {.ids = out};
    t = lv_now();
    m->dir.cache = sp ? sp->cache : def.cache;
    if (s == LV_OK) s = lv_llada_dir_generate(&m->dir, pe, n_rows, &p, &dr);
    r->t_sampling = lv_now() - t;
    if (s == LV_OK) s = lv_tokenizer_decode(m->dir.tok, out, dr.n_ids, 1, &r->answer, &r->answer_len);
    if (s == LV_OK) {
        /* trimmed in place: leading and trailing whitespace, as the caption/ask output */
        size_t a = 0, b = r->answer_len;
        while (a < b && isspace((unsigned char)r->answer[a])) a++;
        while (b > a && isspace((unsigned char)r->answer[b - 1])) b--;
        memmove(r->answer, r->answer + a, b - a);
        r->answer[b - a] = 0;
        r->answer_len = b - a;
        r->n_text_tokens = n_ids - (img ? 1 : 0);
        r->n_prompt_rows = n_rows;
        r->n_response_tokens = dr.n_ids;
        r->n_passes = dr.n_passes;
        r->stopped = dr.stopped;
    }
    free(ids);
    free(pe);
    free(out);
    r->t_total = lv_now() - t0;
    return s;
}

static lv_status lv_model_begin(lv_model *m, int has_image, const char *name, lv_result *r)
{
    memset(r, 0, sizeof *r);
    if (has_image && !m->ie) return lv_model_no_vision(m, name);
    return LV_OK;
}

static lv_status lv_model_finish(lv_status s, lv_result *r)
{
    if (s != LV_OK) lv_result_free(r);
    return s;
}

lv_status lv_model_ask_rgb(lv_model *m, const lv_image *img, const char *question,
                           const lv_sampler_params *sp, lv_result *r)
{
    double t0 = lv_now();
    LV_TRY(lv_model_begin(m, img != NULL, "image", r));
    return lv_model_finish(lv_model_run(m, img, question, sp, r, t0), r);
}

lv_status lv_model_ask_memory(lv_model *m, const void *data, size_t size, const char *name,
                              const char *question, const lv_sampler_params *sp, lv_result *r)
{
    double t0 = lv_now();
    LV_TRY(lv_model_begin(m, 1, name, r));
    lv_image img = {0};
    lv_status s = lv_image_decode(&img, data, size, name);
    r->t_decode = lv_now() - t0;
    if (s == LV_OK) s = lv_model_run(m, &img, question, sp, r, t0);
    lv_image_free(&img);
    return lv_model_finish(s, r);
}

lv_status lv_model_ask(lv_model *m, const char *image_path, const char *question,
                       const lv_sampler_params *sp, lv_result *r)
{
    double t0 = lv_now();
    LV_TRY(lv_model_begin(m, image_path != NULL, image_path, r));
    lv_image img = {0};
    lv_status s = image_path ? lv_image_load(&img, image_path) : LV_OK;
    r->t_decode = lv_now() - t0;
    if (s == LV_OK) s = lv_model_run(m, image_path ? &img : NULL, question, sp, r, t0);
    lv_image_free(&img);
    return lv_model_finish(s, r);
}
