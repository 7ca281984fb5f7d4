/* cmd_generate.c - `lladav generate`: answer a text prompt with the masked-diffusion sampler.
 *
 *   TEXT --chat template + tokenizer (language/prompt)--> ids --embed--> prompt rows [Lp, D]
 *   [IMAGE --views, SigLIP, projector, merge (vision/, projector/)--> rows spliced at <image>]
 *   [prompt | gen_length masks] --lv_diffusion_generate (one LLaDA forward per pass)--> ids
 *   --decode (special tokens skipped)--> stdout ; progress and timing --> stderr
 */
#include "cmd_generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void lv_gen_opts_default(lv_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gen_length = 128;   /* steps and block_length 0: equal to gen_length, as the defaults of
                              the reference (128 / 128 / 128) */
    o->temperature = "0";
    o->cfg = "0";
    o->remasking = "low_confidence";
    o->mode = "exact";
    o->cache_refresh = -1;
}

void lv_gen_opts_table(lv_gen_opts *o, lv_opt *opts)
{
    const lv_opt t[LV_GEN_N_OPTS] = {
        {"--model", "-m", LV_OPT_STR, &o->model, "DIR", "model directory (config.json, weights, tokenizer.json)"},
        {"--prompt", "-p", LV_OPT_STR, &o->prompt, "TEXT", "the user turn (required)"},
        {"--steps", NULL, LV_OPT_INT, &o->steps, "N", "forward passes in total (default: gen-length)"},
        {"--gen-length", NULL, LV_OPT_INT, &o->gen_length, "N", "response length in tokens (default 128)"},
        {"--block-length", NULL, LV_OPT_INT, &o->block_length, "N", "semi-autoregressive block length (default: gen-length)"},
        {"--temperature", NULL, LV_OPT_STR, &o->temperature, "T", "Gumbel-max temperature, 0 = argmax (default 0)"},
        {"--remasking", NULL, LV_OPT_STR, &o->remasking, "S", "low_confidence or random (default low_confidence)"},
        {"--cfg", NULL, LV_OPT_STR, &o->cfg, "S", "classifier-free guidance scale, 0 = off (default 0)"},
        {"--seed", NULL, LV_OPT_U64, &o->seed, "N", "seed of the counter RNG (default 0)"},
        {"--threads", "-t", LV_OPT_COUNT, &o->threads, "N", "threads of the compute pool (default: physical cores)"},
        {"--mode", NULL, LV_OPT_STR, &o->mode, "M", "exact, fast or fastest: presets of the flags below, docs/MODES.md (default exact)"},
        {"--cache", NULL, LV_OPT_STR, &o->cache, "C", "none, prefix, dual (Fast-dLLM K/V cache) or dllm (dLLM-Cache 25,7,0.25)"},
        {"--dllm-cache", NULL, LV_OPT_STR, &o->dllm_cache, "P,G,R", "dLLM-Cache: prompt / gen refresh intervals, ratio of gen rows updated (e.g. 25,7,0.25)"},
        {"--cache-refresh", NULL, LV_OPT_INT, &o->cache_refresh, "N", "full forward every N steps of a block, 0 = block start only"},
        {"--threshold", NULL, LV_OPT_STR, &o->threshold, "T", "parallel decoding: commit every token with confidence >= T"},
        {"--factor", NULL, LV_OPT_STR, &o->factor, "F", "parallel decoding: Fast-dLLM factor rule (instead of --threshold)"},
        {"--reuse-prefix", NULL, LV_OPT_FLAG, &o->reuse_prefix, NULL, "approximate: keep the K/V of the rows through the image for later questions about it (docs/MODES.md)"},
        {"--precision", NULL, LV_OPT_STR, &o->precision, "P", "f32 (exact, default) or bf16: BF16-weight GEMMs and attention on bf16 operands, faster, changes logits (BENCH.md)"},
    };
    memcpy(opts, t, sizeof t);
}

static lv_status lv_parse_double(double *out, const char *name, const char *s)
{
    char *end = NULL;
    *out = strtod(s, &end);
    if (end == s || *end || *out != *out)
        return lv_fail(LV_ERR_ARG, "%s: expected a number, got '%s'", name, s);
    return LV_OK;
}

lv_status lv_gen_opts_sampler(const lv_gen_opts *o, lv_sampler_params *sp)
{
    *sp = lv_sampler_default_params();
    sp->gen_length = o->gen_length;
    sp->steps = o->steps;
    sp->block_length = o->block_length;
    sp->seed = o->seed;
    LV_TRY(lv_parse_double(&sp->temperature, "--temperature", o->temperature));
    LV_TRY(lv_parse_double(&sp->cfg_scale, "--cfg", o->cfg));
    LV_TRY(lv_remask_parse(&sp->remasking, o->remasking));
    /* the preset, then the flags given override it */
    LV_TRY(lv_sampler_set_mode(sp, o->mode));
    if (o->cache) LV_TRY(lv_cache_mode_parse(&sp->cache.mode, o->cache));
    if (o->dllm_cache) LV_TRY(lv_dllm_cache_parse(&sp->cache, o->dllm_cache));
    if (o->cache_refresh >= 0) sp->cache.refresh = o->cache_refresh;
    sp->cache.reuse_prefix = o->reuse_prefix;
    if (o->threshold || o->factor) sp->threshold = sp->factor = 0;
    if (o->threshold) LV_TRY(lv_parse_double(&sp->threshold, "--threshold", o->threshold));
    if (o->factor) LV_TRY(lv_parse_double(&sp->factor, "--factor", o->factor));
    return LV_OK;
}

lv_status lv_gen_opts_params(const lv_gen_opts *o, lv_llada_dir *d, lv_diffusion_params *p)
{
    lv_sampler_params sp;
    LV_TRY(lv_gen_opts_sampler(o, &sp));
    d->cache = sp.cache;
    return lv_sampler_apply(&sp, &d->ids, p);
}

void lv_gen_image_free(lv_gen_image *im)
{
    if (!im) return;
    free(im->views);
    free(im->vision);
    free(im->projected);
    free(im->image_embeds);
    memset(im, 0, sizeof *im);
}

lv_status lv_gen_image_encode(lv_gen_image *im, const lv_llada_dir *d, const char *path)
{
    memset(im, 0, sizeof *im);
    if (!d->cfg.has_vision)
        return lv_fail(LV_ERR_UNSUPPORTED, "%s: the model has no vision tower (text-only config)", path);
    lv_image img = {0};
    lv_siglip *enc = NULL;
    lv_projector *pj = NULL;
    lv_status s = lv_image_load(&img, path);
    if (s == LV_OK) s = lv_vision_geometry(&im->g, &d->cfg, img.width, img.height);
    if (s == LV_OK) s = lv_siglip_load(&enc, &d->cfg, d->w);
    if (s == LV_OK) s = lv_projector_load(&pj, &d->cfg, d->w);
    if (s == LV_OK) {
        int nv = im->g.n_views;
        im->P = lv_siglip_n_tokens(enc);
        im->Dv = lv_siglip_width(enc);
        im->D = lv_projector_out_dim(pj);
        im->views = malloc(lv_vision_views_numel(&im->g) * sizeof *im->views);
        im->vision = malloc((size_t)nv * im->P * im->Dv * sizeof *im->vision);
        im->projected = malloc((size_t)nv * im->P * im->D * sizeof *im->projected);
        im->image_embeds = malloc((size_t)im->g.n_tokens * im->D * sizeof *im->image_embeds);
        if (!im->views || !im->vision || !im->projected || !im->image_embeds)
            s = lv_fail(LV_ERR_NOMEM, "%s: buffers of %d views", path, nv);
    }
    if (s == LV_OK) s = lv_vision_preprocess(im->views, &im->g, &img);
    if (s == LV_OK) s = lv_siglip_encode(enc, im->views, im->g.n_views, im->vision);
    if (s == LV_OK) s = lv_projector_forward(pj, im->vision, im->g.n_views * im->P, im->projected);
    if (s == LV_OK)
        s = lv_vision_merge(im->image_embeds, im->projected, lv_projector_newline(pj), im->D, &im->g);
    lv_projector_free(pj);
    lv_siglip_free(enc);
    lv_image_free(&img);
    if (s != LV_OK) lv_gen_image_free(im);
    return s;
}

/* Rows of the prompt embedding: text ids one row each, every image placeholder N_img rows. */
static lv_status lv_gen_splice(const lv_llada_dir *d, const int32_t *ids, int n_ids,
                               const lv_gen_image *im, float *pe)
{
    const size_t D = (size_t)d->cfg.hidden_size;
    size_t row = 0;
    for (int i = 0; i < n_ids;) {
        if (ids[i] == LV_IMAGE_TOKEN_ID) {
            memcpy(pe + row * D, im->image_embeds, (size_t)im->g.n_tokens * D * sizeof *pe);
            row += (size_t)im->g.n_tokens;
            i++;
            continue;
        }
        int j = i;
        while (j < n_ids && ids[j] != LV_IMAGE_TOKEN_ID) j++;
        LV_TRY(lv_llada_embed(d->lm, ids + i, j - i, pe + row * D));
        row += (size_t)(j - i);
        i = j;
    }
    return LV_OK;
}

lv_status lv_gen_prompt(lv_llada_dir *d, const char *text, int raw, const lv_gen_image *im,
                        int n_tail, int32_t **ids, int *n_ids, float **pe, int *n_rows)
{
    *pe = NULL;
    *ids = NULL;
    if (raw) LV_TRY(lv_prompt_tokenize(d->tok, text, ids, n_ids));
    else LV_TRY(lv_prompt_build(d->tok, text, im ? 1 : 0, ids, n_ids));
    int n_img = 0;
    for (int i = 0; i < *n_ids; i++) n_img += (*ids)[i] == LV_IMAGE_TOKEN_ID;
    lv_status s = LV_OK;
    if (n_img > 0 && !im)
        s = lv_fail(LV_ERR_INPUT, "prompt: '<image>' in the text but no --image given");
    else if (im && n_img != 1)
        s = lv_fail(LV_ERR_INPUT, "prompt: %d '<image>' placeholders for one image", n_img);
    *n_rows = *n_ids + (im ? im->g.n_tokens - 1 : 0);
    if (s == LV_OK) s = lv_llada_dir_load_lm(d, *n_rows + n_tail);
    if (s == LV_OK) {
        *pe = malloc((size_t)(*n_rows > 0 ? *n_rows : 1) * (size_t)d->cfg.hidden_size * sizeof **pe);
        s = *pe ? lv_gen_splice(d, *ids, *n_ids, im, *pe)
                : lv_fail(LV_ERR_NOMEM, "prompt: embeddings of %d rows", *n_rows);
    }
    if (s != LV_OK) {
        free(*ids);
        free(*pe);
        *ids = NULL;
        *pe = NULL;
    }
    return s;
}

static double lv_gen_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    double t0;
    int steps, quiet, show_canvas, tty;
    const lv_llada_dir *d;
    int32_t *canvas;   /* [gen_length] scratch for --show-canvas */
} lv_gen_progress;

/* "step 12/128  block 1/1  committed 12/128  2.1s  eta 20.3s" on stderr; with --show-canvas
 * also the decoded canvas with masks shown as '_'. */
static void lv_gen_on_pass(void *user, int pass, int block, int n_blocks, int committed, int G,
                           const int32_t *tail)
{
    lv_gen_progress *g = user;
    double el = lv_gen_now() - g->t0, eta = el / (pass + 1) * (g->steps - pass - 1);
    if (!g->quiet)   /* redrawn in place on a terminal, one line per pass in a log */
        fprintf(stderr, "%sstep %d/%d  block %d/%d  committed %d/%d  %.1fs  eta %.1fs%s",
                g->tty ? "\r" : "", pass + 1, g->steps, block + 1, n_blocks, committed, G, el, eta,
                g->tty ? "   " : "\n");
    if (g->show_canvas) {
        fputc('\n', stderr);
        int run = 0;
        for (int j = 0; j <= G; j++) {
            if (j < G && tail[j] != g->d->ids.mask) {
                g->canvas[run++] = tail[j];
                continue;
            }
            char *txt = NULL;
            size_t len = 0;
            if (run && lv_tokenizer_decode(g->d->tok, g->canvas, run, 0, &txt, &len) == LV_OK)
                fwrite(txt, 1, len, stderr);
            free(txt);
            run = 0;
            if (j < G) fputc('_', stderr);
        }
        fputc('\n', stderr);
    }
}

/* Pull every "--stop STR" / "--stop=STR" out of argv (the parser keeps one value per option). */
static int lv_gen_take_stops(int argc, char **argv, const char **stops, int max, int *n)
{
    int out = 0;
    *n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--stop") && i + 1 < argc && *n < max) {
            stops[(*n)++] = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--stop=", 7) && *n < max) {
            stops[(*n)++] = argv[i] + 7;
            continue;
        }
        argv[out++] = argv[i];
    }
    return out;
}

#define LV_GEN_MAX_STOPS 16

lv_status lv_cmd_generate(int argc, char **argv)
{
    lv_gen_opts o;
    int show_canvas = 0, quiet = 0, n_stop_str = 0;
    const char *stop_str[LV_GEN_MAX_STOPS], *sampler = "llada_v", *image = NULL;
    lv_gen_opts_default(&o);
    lv_opt opts[LV_GEN_N_OPTS + 6];
    lv_gen_opts_table(&o, opts);
    const lv_opt extra[6] = {
        {"--image", "-i", LV_OPT_STR, &image, "PATH", "PNG or JPEG image; the user turn becomes <image>\\n + TEXT"},
        {"--raw", NULL, LV_OPT_FLAG, &o.raw, NULL, "use TEXT as the whole prompt (no chat template)"},
        {"--sampler", NULL, LV_OPT_STR, &sampler, "NAME", "llada_v (generate_with_embeds) or llada_text (LLaDA generate.py) (default llada_v)"},
        {"--show-canvas", NULL, LV_OPT_FLAG, &show_canvas, NULL, "print the partly unmasked answer after every pass"},
        {"--quiet", "-q", LV_OPT_FLAG, &quiet, NULL, "no progress line"},
        {"--stop", NULL, LV_OPT_STR, NULL, "STR", "extra stop string, repeatable (<|eot_id|> always stops)"},
    };
    memcpy(opts + LV_GEN_N_OPTS, extra, sizeof extra);
    int nopt = LV_GEN_N_OPTS + 6, npos, help;
    const char *pos[1];
    /* --stop (last row) is repeatable: taken out of argv here, the parser sees the rest */
    argc = lv_gen_take_stops(argc, argv, stop_str, LV_GEN_MAX_STOPS, &n_stop_str);
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt - 1, pos, 0, &npos, &help));
    if (help) {
        lv_cli_usage("generate", "--model DIR --prompt TEXT [options]",
                     "Answer a text prompt with LLaDA's masked-diffusion sampler; only the answer goes to stdout.",
                     opts, nopt);
        return LV_OK;
    }
    if (!o.model || !o.prompt) return lv_fail(LV_ERR_ARG, "generate: --model DIR and --prompt TEXT are required");
    lv_cli_threads(o.threads);
    LV_TRY(lv_cli_precision(o.precision));

    lv_llada_dir d;
    lv_status s = lv_llada_dir_open(&d, o.model);
    lv_diffusion_params p;
    int32_t *ids = NULL, *out = NULL, *stop_ids[LV_GEN_MAX_STOPS] = {0};
    lv_token_seq stops[LV_GEN_MAX_STOPS + 1];
    float *pe = NULL;
    int n_ids = 0, n_rows = 0, n_stops = 0;
    lv_gen_image im = {0};
    lv_gen_progress g = {.quiet = quiet, .show_canvas = show_canvas, .tty = isatty(2), .d = &d};
    if (s == LV_OK) s = lv_gen_opts_params(&o, &d, &p);
    if (s == LV_OK && !strcmp(sampler, "llada_text")) {
        /* generate.py (spec §6.5): no bans, no stop strings, every step runs */
        p.sampler = LV_SAMPLER_LLADA_TEXT;
        p.n_ban = p.n_stops = 0;
        p.ban_ids = NULL;
        p.stops = NULL;
        if (n_stop_str) s = lv_fail(LV_ERR_ARG, "generate: --stop needs --sampler llada_v");
    } else if (s == LV_OK && strcmp(sampler, "llada_v")) {
        s = lv_fail(LV_ERR_ARG, "generate: --sampler '%s': expected llada_v or llada_text", sampler);
    }
    if (s == LV_OK && p.n_stops) stops[n_stops++] = *p.stops;
    for (int i = 0; s == LV_OK && i < n_stop_str; i++) {
        int n = 0;
        s = lv_tokenizer_encode(d.tok, stop_str[i], strlen(stop_str[i]), 0, &stop_ids[i], &n);
        if (s == LV_OK && n == 0) s = lv_fail(LV_ERR_ARG, "generate: --stop '%s' encodes to no token", stop_str[i]);
        if (s == LV_OK) stops[n_stops++] = (lv_token_seq){stop_ids[i], n};
    }
    if (s == LV_OK && p.sampler == LV_SAMPLER_LLADA_V) {
        p.stops = stops;
        p.n_stops = n_stops;
    }
    if (s == LV_OK) {
        double t_img = lv_gen_now();
        if (image) s = lv_gen_image_encode(&im, &d, image);
        if (s == LV_OK && image && !quiet)
            fprintf(stderr, "image %dx%d: %d views, %d image tokens, %.2fs\n", im.g.orig_w, im.g.orig_h,
                    im.g.n_views, im.g.n_tokens, lv_gen_now() - t_img);
        if (s == LV_OK)
            s = lv_gen_prompt(&d, o.prompt, o.raw, image ? &im : NULL, p.gen_length, &ids, &n_ids, &pe, &n_rows);
    }
    if (s == LV_OK) {
        out = malloc((size_t)p.gen_length * sizeof *out);
        g.canvas = malloc((size_t)p.gen_length * sizeof *g.canvas);
        if (!out || !g.canvas) s = lv_fail(LV_ERR_NOMEM, "generate: response buffers");
    }
    lv_diffusion_result r = {.ids = out};
    if (s == LV_OK) {
        p.progress = lv_gen_on_pass;
        p.progress_user = &g;
        g.steps = p.steps;
        g.t0 = lv_gen_now();
        s = lv_llada_dir_generate(&d, pe, n_rows, &p, &r);
        if (!quiet)
            fprintf(stderr, "%s%d passes, %d tokens, prompt %d tokens, %.2fs\n", g.tty ? "\n" : "", r.n_passes, r.n_ids,
                    n_rows, lv_gen_now() - g.t0);
    }
    if (s == LV_OK) {
        char *txt = NULL;
        size_t len = 0;
        s = lv_tokenizer_decode(d.tok, out, r.n_ids, 1, &txt, &len);
        if (s == LV_OK) {
            fwrite(txt, 1, len, stdout);
            fputc('\n', stdout);
        }
        free(txt);
    }
    for (int i = 0; i < n_stop_str; i++) free(stop_ids[i]);
    free(ids);
    free(pe);
    free(out);
    free(g.canvas);
    lv_gen_image_free(&im);
    lv_llada_dir_free(&d);
    return s;
}
