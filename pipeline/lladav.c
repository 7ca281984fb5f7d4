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
#include "metrics.h"   /* lv_hash64 */

#ifndef LV_INSTALL_MODELS_DIR
#define LV_INSTALL_MODELS_DIR "/usr/local/share/lladav/models"
#endif
#ifndef LV_SOURCE_MODELS_DIR
#define LV_SOURCE_MODELS_DIR "samples/models"
#endif

/* One image's merged rows, kept for the next requests about the same image. The key is the
 * image as the caller gave it: the encoded file bytes (ask, ask_memory) or the RGB pixels
 * (ask_rgb); a hit compares the whole key, so reuse is exact, never a hash collision. */
typedef struct {
    uint64_t hash;             /* FNV-1a of kind, size and key bytes: a cheap first test */
    int kind;                  /* 0 encoded file bytes, 1 RGB pixels */
    unsigned char *key;        /* owned copy of the bytes */
    size_t key_len;
    int width, height;         /* decoded size */
    lv_image_stages st;        /* geom, D, embeds and stage times; views/vision/projected freed */
    size_t bytes;              /* key + embeds: what the entry costs */
    uint64_t used;             /* LRU clock */
} lv_image_entry;

#define LV_IMAGE_CACHE_MAX 64   /* entries, whatever the byte budget */

struct lv_model {
    char *path;
    lv_llada_dir dir;          /* config, weights, tokenizer, special ids, LM */
    lv_image_encoder *ie;      /* NULL for a text-only model; borrows dir.cfg and dir.w */
    /* image stages by content: questions about one image decode and encode it once (exact:
     * decoding and the encoder are deterministic). LRU within image_cache_bytes. */
    lv_image_entry cache[LV_IMAGE_CACHE_MAX];
    int n_cache;
    size_t cache_bytes, cache_budget;
    uint64_t clock;
    long n_encoded, n_reused;
};

static uint64_t lv_key_hash(int kind, const void *key, size_t n, int w, int h)
{
    const int64_t head[4] = {kind, (int64_t)n, w, h};
    return lv_hash64(lv_hash64(LV_HASH64_INIT, head, sizeof head), key, n);
}

static lv_image_entry *lv_cache_find(lv_model *m, int kind, const void *key, size_t n, uint64_t hash,
                                     int w, int h)
{
    for (int i = 0; i < m->n_cache; i++) {
        lv_image_entry *e = &m->cache[i];
        if (e->hash == hash && e->kind == kind && e->key_len == n && !memcmp(e->key, key, n) &&
            (kind == 0 || (e->width == w && e->height == h))) {   /* pixels: the shape too */
            e->used = ++m->clock;
            return e;
        }
    }
    return NULL;
}

static void lv_cache_drop(lv_model *m, int i)
{
    lv_image_entry *e = &m->cache[i];
    m->cache_bytes -= e->bytes;
    free(e->key);
    lv_image_stages_free(&e->st);
    m->cache[i] = m->cache[--m->n_cache];
    memset(&m->cache[m->n_cache], 0, sizeof m->cache[0]);
}

/* Takes st (its embeds) into a new entry, evicting the least recently used ones until it fits;
 * the newest entry is always kept, so the current request can borrow it. NULL when out of
 * memory (st is then freed). */
static lv_image_entry *lv_cache_put(lv_model *m, int kind, const void *key, size_t n, uint64_t hash,
                                    int w, int h, lv_image_stages *st)
{
    free(st->views);
    free(st->vision);
    free(st->projected);
    st->views = st->vision = st->projected = NULL;
    size_t bytes = n + (size_t)st->geom.n_tokens * (size_t)st->D * sizeof(float);
    while (m->n_cache && (m->n_cache == LV_IMAGE_CACHE_MAX || m->cache_bytes + bytes > m->cache_budget)) {
        int lru = 0;
        for (int i = 1; i < m->n_cache; i++)
            if (m->cache[i].used < m->cache[lru].used) lru = i;
        lv_cache_drop(m, lru);
    }
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy) {
        lv_image_stages_free(st);
        return NULL;
    }
    memcpy(copy, key, n);
    lv_image_entry *e = &m->cache[m->n_cache++];
    *e = (lv_image_entry){.hash = hash, .kind = kind, .key = copy, .key_len = n, .width = w,
                          .height = h, .st = *st, .bytes = bytes, .used = ++m->clock};
    memset(st, 0, sizeof *st);
    m->cache_bytes += bytes;
    return e;
}

static double lv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

lv_model_params lv_model_default_params(void)
{
    return (lv_model_params){.threads = -1, .image_cache_mb = LV_IMAGE_CACHE_MB};
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
    while (m->n_cache) lv_cache_drop(m, m->n_cache - 1);
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
    if (mp.image_cache_mb < 0) return lv_fail(LV_ERR_ARG, "image cache of %ld MiB", mp.image_cache_mb);
    lv_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(dir))) {
        free(m);
        return lv_fail(LV_ERR_NOMEM, "%s: model handle", dir);
    }
    m->cache_budget = (size_t)mp.image_cache_mb << 20;
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

void lv_model_prefix_counts(const lv_model *m, long *saved, long *reused)
{
    if (saved) *saved = m->dir.prefix.n_saved;
    if (reused) *reused = m->dir.prefix.n_reused;
}

void lv_model_image_counts(const lv_model *m, long *encoded, long *reused)
{
    if (encoded) *encoded = m->n_encoded;
    if (reused) *reused = m->n_reused;
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

/* The image stages for a request: from the cache when the same bytes (kind 0: the encoded
 * file, decoded here; kind 1: RGB pixels of img) came before, else decoded, encoded and
 * cached. *out points into the cache, valid until the next lv_model_image call. */
static lv_status lv_model_image(lv_model *m, int kind, const void *key, size_t n, const char *name,
                                const lv_image *rgb, lv_result *r, const lv_image_stages **out)
{
    int w = rgb ? rgb->width : 0, h = rgb ? rgb->height : 0;
    uint64_t hash = lv_key_hash(kind, key, n, w, h);
    lv_image_entry *e = lv_cache_find(m, kind, key, n, hash, w, h);
    if (e) {
        m->n_reused++;
        r->image_reused = 1;
    } else {
        lv_image decoded = {0};
        const lv_image *img = rgb;
        if (kind == 0) {
            double t = lv_now();
            LV_TRY(lv_image_decode(&decoded, key, n, name));
            img = &decoded;
            r->t_decode += lv_now() - t;
        }
        lv_image_stages st = {0};
        lv_status s = lv_image_encoder_run(m->ie, img, &st);
        if (s == LV_OK && !(e = lv_cache_put(m, kind, key, n, hash, img->width, img->height, &st)))
            s = lv_fail(LV_ERR_NOMEM, "%s: image cache entry", name);
        lv_image_free(&decoded);
        if (s != LV_OK) {
            lv_image_stages_free(&st);
            return s;
        }
        m->n_encoded++;
        r->t_preprocess = e->st.t_preprocess;
        r->t_vision = e->st.t_vision;
        r->t_projector = e->st.t_projector;
        r->t_merge = e->st.t_merge;
    }
    r->image_width = e->width;
    r->image_height = e->height;
    r->n_views = e->st.geom.n_views;
    r->n_image_tokens = e->st.geom.n_tokens;
    *out = &e->st;
    return LV_OK;
}

/* The request once its image rows are known (st NULL: text only); p: lv_model_begin's
 * sampler parameters; t0 = start of the call. */
static lv_status lv_model_run(lv_model *m, const lv_image_stages *st, const char *question,
                              const lv_sampler_params *sp, lv_diffusion_params p, lv_result *r,
                              double t0)
{
    lv_sampler_params def = lv_sampler_default_params();
    if (!question) return lv_fail(LV_ERR_ARG, "ask: no question");
    lv_gen_image gi = {0};   /* borrows st->embeds for lv_gen_prompt */
    int32_t *ids = NULL, *out = NULL;
    float *pe = NULL;
    int n_ids = 0, n_rows = 0;
    if (st) {
        gi.g = st->geom;
        gi.D = st->D;
        gi.image_embeds = st->embeds;
    }
    double t = lv_now();
    lv_status s = lv_gen_prompt(&m->dir, question, 0, st ? &gi : NULL, p.gen_length + p.n_suffix, &ids, &n_ids,
                      &pe, &n_rows);
    r->t_embed = lv_now() - t;
    if (s == LV_OK && !(out = malloc((size_t)(p.gen_length + p.n_suffix) * sizeof *out)))
        s = lv_fail(LV_ERR_NOMEM, "ask: response of %d tokens", p.gen_length);
    lv_diffusion_result dr = {.ids = out};
    t = lv_now();
    m->dir.cache = sp ? sp->cache : def.cache;
    /* --reuse-prefix: the rows through the image are what questions about it share */
    m->dir.prefix_rows = 0;
    for (int i = 0; st && i < n_ids; i++)
        if (ids[i] == LV_IMAGE_TOKEN_ID) m->dir.prefix_rows = i + st->geom.n_tokens;
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
        r->n_text_tokens = n_ids - (st ? 1 : 0);
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

/* Checks before any work, so a bad request costs no image decode or encode; *p: the sampler
 * parameters of the request. */
static lv_status lv_model_begin(lv_model *m, int has_image, const char *name,
                                const lv_sampler_params *sp, lv_result *r, lv_diffusion_params *p)
{
    memset(r, 0, sizeof *r);
    if (has_image && !m->ie) return lv_model_no_vision(m, name);
    lv_sampler_params def = lv_sampler_default_params();
    return lv_sampler_apply(sp ? sp : &def, &m->dir.ids, p);
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
    lv_diffusion_params p;
    LV_TRY(lv_model_begin(m, img != NULL, "image", sp, r, &p));
    const lv_image_stages *st = NULL;
    lv_status s = LV_OK;
    if (img) {
        size_t n = (size_t)img->width * (size_t)img->height * 3;
        s = lv_model_image(m, 1, img->rgb, n, "image", img, r, &st);
    }
    if (s == LV_OK) s = lv_model_run(m, st, question, sp, p, r, t0);
    return lv_model_finish(s, r);
}

lv_status lv_model_ask_memory(lv_model *m, const void *data, size_t size, const char *name,
                              const char *question, const lv_sampler_params *sp, lv_result *r)
{
    double t0 = lv_now();
    lv_diffusion_params p;
    LV_TRY(lv_model_begin(m, 1, name, sp, r, &p));
    const lv_image_stages *st = NULL;
    lv_status s = lv_model_image(m, 0, data, size, name, NULL, r, &st);
    if (s == LV_OK) s = lv_model_run(m, st, question, sp, p, r, t0);
    return lv_model_finish(s, r);
}

lv_status lv_model_ask(lv_model *m, const char *image_path, const char *question,
                       const lv_sampler_params *sp, lv_result *r)
{
    double t0 = lv_now();
    lv_diffusion_params p;
    LV_TRY(lv_model_begin(m, image_path != NULL, image_path, sp, r, &p));
    unsigned char *data = NULL;
    size_t n = 0;
    const lv_image_stages *st = NULL;
    lv_status s = LV_OK;
    if (image_path) {
        s = lv_image_read_file(image_path, &data, &n);
        r->t_decode = lv_now() - t0;   /* reading; decoding adds to it on a cache miss */
        if (s == LV_OK) s = lv_model_image(m, 0, data, n, image_path, NULL, r, &st);
    }
    if (s == LV_OK) s = lv_model_run(m, st, question, sp, p, r, t0);
    free(data);
    return lv_model_finish(s, r);
}
