/* cmd_bench.c - `lladav bench`: time every stage of a model directory (real or `lladav synth`)
 * with warm-up and repeated runs, and the machine's own GEMM peak in the same process.
 *
 *   header: CPU, ISA (cpuid), threads, OpenBLAS config, library versions, git commit
 *   image:  decode + preprocess, vision tower, projector (+ merge) of one image
 *   llm:    one full forward at each --lengths T (every row through every layer, lm_head on the
 *           last min(T, gen_length) rows): FLOPs = L·(2·T·(4D² + 3DF) + 4·T²·D) + 2·rows·D·V
 *   step:   one denoising step (gen_length rows after the prompt, one sampler pass)
 *   answer: a whole answer (gen_length tokens, --steps passes)
 *   peak:   sgemm x[T, D]·W[N, D]ᵀ for N = D and N = F, T = 1024 (OpenBLAS threaded as one call,
 *           and lv_matmul on F32 weights: the pool-sliced sgemm the model uses)
 * Median and min of --runs timed runs after --warmup untimed ones; peak RSS from getrusage.
 */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <cpuid.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_generate.h"
#include "merge.h"

char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);

#define LV_BENCH_MAX_LENGTHS 16
#define LV_BENCH_MAX_RUNS 64

static double lv_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int lv_bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One measured quantity: name, times of the runs, work per run (FLOPs, tokens; 0 = none). */
typedef struct {
    char name[64];
    double t[LV_BENCH_MAX_RUNS];
    int n;
    double flops, tokens, peak_flops;   /* peak_flops: the GEMM peak it is compared with */
    double med, min;
} lv_bench_row;

static void lv_bench_stats(lv_bench_row *r)
{
    double s[LV_BENCH_MAX_RUNS];
    memcpy(s, r->t, (size_t)r->n * sizeof *s);
    qsort(s, (size_t)r->n, sizeof *s, lv_bench_cmp);
    r->min = r->n ? s[0] : 0;
    r->med = r->n ? (r->n % 2 ? s[r->n / 2] : 0.5 * (s[r->n / 2 - 1] + s[r->n / 2])) : 0;
}

typedef struct {
    int warmup, runs;
    lv_bench_row rows[64];
    int n_rows;
    int printed;   /* rows already printed (text mode prints each stage when it is done) */
    int quiet;     /* --json: nothing before the end */
} lv_bench;

static void lv_bench_print(FILE *f, const lv_bench *b, int markdown, int from);

static void lv_bench_progress(lv_bench *b)
{
    if (!b->quiet) {
        lv_bench_print(stdout, b, 0, b->printed);
        fflush(stdout);
    }
    b->printed = b->n_rows;
}

/* ---- the header line ------------------------------------------------------------------- */

static void lv_bench_cpu(char *model, size_t n)
{
    snprintf(model, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c += 1 + (c[1] == ' ');
                c[strcspn(c, "\n")] = 0;
                snprintf(model, n, "%s", c);
            }
            break;
        }
    fclose(f);
}

/* ISA features from cpuid leaf 7 (the OS's XSAVE state is assumed enabled, as on Linux). */
static void lv_bench_isa(char *out, size_t n)
{
    unsigned a, b, c, d, a1 = 0, b1, c1, d1;
    int ok = __get_cpuid_count(7, 0, &a, &b, &c, &d);
    if (ok) __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    snprintf(out, n, "avx2=%d avx512f=%d avx512_bf16=%d avx512_vnni=%d amx=%d", ok && (b >> 5 & 1),
             ok && (b >> 16 & 1), ok && (a1 >> 5 & 1), ok && (c >> 11 & 1), ok && (d >> 24 & 1));
}

static void lv_bench_commit(char *out, size_t n)
{
    snprintf(out, n, "unknown");
    char exe[4096], cmd[4200];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return;
    exe[len] = 0;
    snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", exe);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    char line[256] = "";
    if (fgets(line, sizeof line, p)) {
        char *c = strstr(line, "commit ");
        if (c) {
            c += 7;
            c[strcspn(c, ")\n")] = 0;
            snprintf(out, n, "%s", c);
        }
    }
    pclose(p);
}

/* ---- timing helpers -------------------------------------------------------------------- */

static lv_bench_row *lv_bench_add(lv_bench *b, const char *name)
{
    LV_ASSERT(b->n_rows < (int)(sizeof b->rows / sizeof b->rows[0]));
    lv_bench_row *r = &b->rows[b->n_rows++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

static double lv_bench_peak_rss_gb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss * 1024.0 / 1e9;
}

static void lv_bench_fill(float *x, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.1f;
    }
}

/* GEMM peaks at M = T, K = D, N in {D, F}: OpenBLAS as one threaded call, lv_matmul on F32
 * weights, and (when the CPU has AVX512-BF16) the BF16 path on BF16 weights. */
static lv_status lv_bench_peak(lv_bench *b, int T, int D, int F, double *peak, double *peak16)
{
    int Ns[2] = {D, F};
    *peak = *peak16 = 0;
    for (int i = 0; i < 2; i++) {
        int N = Ns[i];
        float *x = malloc((size_t)T * D * sizeof *x), *w = malloc((size_t)N * D * sizeof *w),
              *y = malloc((size_t)T * N * sizeof *y);
        if (!x || !w || !y) {
            free(x); free(w); free(y);
            return lv_fail(LV_ERR_NOMEM, "bench: GEMM peak buffers for %dx%dx%d", T, D, N);
        }
        lv_bench_fill(x, (size_t)T * D, 1);
        lv_bench_fill(w, (size_t)N * D, 2);
        lv_tensor W = {.dtype = LV_DTYPE_F32, .ndim = 2, .shape = {N, D}, .numel = (int64_t)N * D, .data = w};
        uint16_t *wb = lv_bf16_gemm_available() ? malloc((size_t)N * D * sizeof *wb) : NULL;
        for (size_t i = 0; wb && i < (size_t)N * D; i++) wb[i] = lv_f32_to_bf16(w[i]);
        lv_tensor Wb = W;
        Wb.dtype = LV_DTYPE_BF16;
        Wb.data = wb;
        static const char *kinds[3] = {"sgemm openblas", "lv_matmul f32", "lv_matmul bf16"};
        for (int kind = 0; kind < (wb ? 3 : 2); kind++) {
            char name[64];
            snprintf(name, sizeof name, "%s M=%d K=%d N=%d", kinds[kind], T, D, N);
            lv_bench_row *r = lv_bench_add(b, name);
            r->flops = 2.0 * T * D * N;
            for (int run = 0; run < b->warmup + b->runs; run++) {
                if (!kind) openblas_set_num_threads(lv_threads_get());
                double t0 = lv_bench_now();
                if (kind == 2) lv_matmul_bf16(y, x, &Wb, NULL, T, D, N, 0);
                else if (kind) lv_matmul(y, x, &W, NULL, T, D, N, NULL);
                else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, D, 1.0f, x, D, w, D,
                                 0.0f, y, N);
                double dt = lv_bench_now() - t0;
                if (!kind) openblas_set_num_threads(1);
                if (run >= b->warmup) r->t[r->n++] = dt;
            }
            lv_bench_stats(r);
            double *pk = kind == 2 ? peak16 : peak;
            if (r->flops / r->min > *pk) *pk = r->flops / r->min;
        }
        free(x); free(w); free(y); free(wb);
    }
    return LV_OK;
}

/* ---- the model stages ------------------------------------------------------------------ */

/* A 384x384 RGB test card (gradients + a square), so the bench needs no image file. */
static lv_status lv_bench_card(lv_image *img)
{
    img->width = img->height = 384;
    img->rgb = malloc(384 * 384 * 3);
    if (!img->rgb) return lv_fail(LV_ERR_NOMEM, "bench: test image");
    for (int y = 0; y < 384; y++)
        for (int x = 0; x < 384; x++) {
            uint8_t *p = img->rgb + (y * 384 + x) * 3;
            int in = x > 96 && x < 288 && y > 96 && y < 288;
            p[0] = (uint8_t)(in ? 230 : x * 255 / 383);
            p[1] = (uint8_t)(in ? 40 : y * 255 / 383);
            p[2] = (uint8_t)((x + y) * 255 / 766);
        }
    return LV_OK;
}

typedef struct {
    const char *model, *image, *lengths, *json_path, *append, *question, *precision;
    int runs, warmup, gen_length, steps, threads, json, no_answer, no_peak, peak_only, accuracy;
} lv_bench_opts;

static lv_status lv_bench_image(lv_bench *b, const lv_bench_opts *o, lv_llada_dir *d,
                                lv_image_stages *keep)
{
    lv_image_encoder *ie = NULL;
    LV_TRY(lv_image_encoder_load(&ie, &d->cfg, d->w));
    lv_bench_row *rd = lv_bench_add(b, "image decode + preprocess");
    lv_bench_row *rv = lv_bench_add(b, "vision tower");
    lv_bench_row *rp = lv_bench_add(b, "projector");
    lv_bench_row *rm = lv_bench_add(b, "merge");
    lv_status s = LV_OK;
    for (int run = 0; run < b->warmup + b->runs && s == LV_OK; run++) {
        lv_image img = {0};
        lv_image_stages st = {0};
        double t0 = lv_bench_now();
        s = o->image ? lv_image_load(&img, o->image) : lv_bench_card(&img);
        double t_dec = lv_bench_now() - t0;
        if (s == LV_OK) s = lv_image_encoder_run(ie, &img, &st);
        if (s == LV_OK && run >= b->warmup) {
            rd->t[rd->n++] = t_dec + st.t_preprocess;
            rv->t[rv->n++] = st.t_vision;
            rp->t[rp->n++] = st.t_projector;
            rm->t[rm->n++] = st.t_merge;
            rv->tokens = rp->tokens = st.geom.n_tokens;
        }
        lv_image_free(&img);
        if (s == LV_OK && run == b->warmup + b->runs - 1) *keep = st;
        else lv_image_stages_free(&st);
    }
    lv_image_encoder_free(ie);
    lv_bench_stats(rd); lv_bench_stats(rv); lv_bench_stats(rp); lv_bench_stats(rm);
    return s;
}

static double lv_bench_forward_flops(const lv_config *c, int T, int rows, int V)
{
    double D = c->hidden_size, F = c->intermediate_size, L = c->num_hidden_layers;
    return L * (2.0 * T * (4 * D * D + 3 * D * F) + 4.0 * T * (double)T * D) + 2.0 * rows * D * V;
}

static lv_status lv_bench_forward(lv_bench *b, lv_llada_dir *d, int T, int n_rows, double peak)
{
    const int D = d->cfg.hidden_size;
    float *x = malloc((size_t)T * D * sizeof *x);
    float *logits = malloc((size_t)n_rows * d->ids.v_eff * sizeof *logits);
    int32_t *rows = malloc((size_t)n_rows * sizeof *rows);
    lv_status s = x && logits && rows ? LV_OK : lv_fail(LV_ERR_NOMEM, "bench: forward of %d rows", T);
    if (s == LV_OK) {
        lv_bench_fill(x, (size_t)T * D, 3);
        for (int i = 0; i < n_rows; i++) rows[i] = T - n_rows + i;
        char name[64];
        snprintf(name, sizeof name, "llm forward T=%d", T);
        lv_bench_row *r = lv_bench_add(b, name);
        r->flops = lv_bench_forward_flops(&d->cfg, T, n_rows, d->ids.v_eff);
        r->tokens = T;
        r->peak_flops = peak;
        for (int run = 0; run < b->warmup + b->runs && s == LV_OK; run++) {
            double t0 = lv_bench_now();
            s = lv_llada_forward(d->lm, x, T, rows, n_rows, logits);
            if (run >= b->warmup) r->t[r->n++] = lv_bench_now() - t0;
        }
        lv_bench_stats(r);
    }
    free(x); free(logits); free(rows);
    return s;
}

/* steps = 1: one denoising step; else a whole answer. The prompt is the image rows (when an
 * image was encoded) spliced into the chat template of o->question. */
static lv_status lv_bench_sample(lv_bench *b, const lv_bench_opts *o, lv_llada_dir *d,
                                 const lv_image_stages *st, int steps, double peak)
{
    lv_gen_image gi = {0};
    gi.g = st->geom;
    gi.D = st->D;
    gi.image_embeds = st->embeds;
    lv_sampler_params sp = lv_sampler_default_params();
    sp.gen_length = o->gen_length;
    sp.steps = steps;
    lv_diffusion_params p;
    LV_TRY(lv_sampler_apply(&sp, &d->ids, &p));
    int32_t *ids = NULL, *out = malloc((size_t)(p.gen_length + p.n_suffix) * sizeof *out);
    float *pe = NULL;
    int n_ids = 0, n_rows = 0;
    lv_status s = out ? LV_OK : lv_fail(LV_ERR_NOMEM, "bench: response");
    if (s == LV_OK)
        s = lv_gen_prompt(d, o->question, 0, st->embeds ? &gi : NULL, p.gen_length + p.n_suffix,
                          &ids, &n_ids, &pe, &n_rows);
    char name[64];
    if (steps == 1) snprintf(name, sizeof name, "denoising step T=%d", n_rows + p.gen_length);
    else snprintf(name, sizeof name, "answer %d tokens, %d steps, T=%d", p.gen_length, steps,
                  n_rows + p.gen_length);
    lv_bench_row *r = lv_bench_add(b, name);
    r->peak_flops = peak;
    for (int run = 0; run < b->warmup + b->runs && s == LV_OK; run++) {
        lv_diffusion_result dr = {.ids = out};
        double t0 = lv_bench_now();
        s = lv_llada_dir_generate(d, pe, n_rows, &p, &dr);
        if (s == LV_OK && run >= b->warmup) {
            r->t[r->n++] = lv_bench_now() - t0;
            r->tokens = dr.n_ids;
            r->flops = dr.n_passes * lv_bench_forward_flops(&d->cfg, n_rows + p.gen_length + p.n_suffix,
                                                             p.gen_length, d->ids.v_eff);
        }
    }
    lv_bench_stats(r);
    free(ids); free(pe); free(out);
    return s;
}

/* --accuracy: the same answer with the float32 and the bf16 GEMM path: max|Δ| of the first
 * pass's logits (all response rows), rows whose argmax agrees, response tokens identical. */
static lv_status lv_bench_accuracy(const lv_bench_opts *o, lv_llada_dir *d, const lv_image_stages *st,
                                   char *out, size_t n)
{
    lv_gen_image gi = {0};
    gi.g = st->geom;
    gi.D = st->D;
    gi.image_embeds = st->embeds;
    lv_sampler_params sp = lv_sampler_default_params();
    sp.gen_length = o->gen_length;
    sp.steps = o->steps > 0 ? o->steps : o->gen_length;
    lv_diffusion_params p;
    LV_TRY(lv_sampler_apply(&sp, &d->ids, &p));
    const int G = p.gen_length, V = d->ids.v_eff, n_tail = p.gen_length + p.n_suffix;
    int32_t *ids = NULL, *out2[2] = {malloc((size_t)n_tail * 4), malloc((size_t)n_tail * 4)};
    float *l0[2] = {malloc((size_t)G * V * 4), malloc((size_t)G * V * 4)}, *pe = NULL;
    int n_ids = 0, n_rows = 0, len[2] = {0, 0};
    lv_status s = out2[0] && out2[1] && l0[0] && l0[1] ? LV_OK : lv_fail(LV_ERR_NOMEM, "bench: accuracy");
    if (s == LV_OK)
        s = lv_gen_prompt(d, o->question, 0, st->embeds ? &gi : NULL, n_tail, &ids, &n_ids, &pe, &n_rows);
    lv_precision keep = lv_precision_get();
    double t[2] = {0, 0};
    for (int k = 0; k < 2 && s == LV_OK; k++) {
        lv_precision_set(k ? LV_PRECISION_BF16 : LV_PRECISION_F32);
        lv_diffusion_result dr = {.ids = out2[k], .logits0 = l0[k]};
        t[k] = lv_bench_now();
        s = lv_llada_dir_generate(d, pe, n_rows, &p, &dr);
        t[k] = lv_bench_now() - t[k];
        len[k] = dr.n_ids;
    }
    lv_precision_set(keep);
    if (s == LV_OK) {
        double dmax = 0, rmax = 0;
        int agree = 0, same = 0;
        for (int r = 0; r < G; r++) {
            int a0 = 0, a1 = 0;
            for (int v = 0; v < V; v++) {
                float x = l0[0][(size_t)r * V + v], y = l0[1][(size_t)r * V + v];
                dmax = fabs((double)x - y) > dmax ? fabs((double)x - y) : dmax;
                rmax = fabs((double)x) > rmax ? fabs((double)x) : rmax;
                if (x > l0[0][(size_t)r * V + a0]) a0 = v;
                if (y > l0[1][(size_t)r * V + a1]) a1 = v;
            }
            agree += a0 == a1;
        }
        int nmin = len[0] < len[1] ? len[0] : len[1];
        for (int i = 0; i < nmin; i++) same += out2[0][i] == out2[1][i];
        snprintf(out, n, "bf16 vs f32 (T=%d, %d tokens): logits0 max|d| %.3g (max|f32| %.3g), argmax "
                 "agrees on %d/%d rows, response tokens identical %d/%d (lengths %d, %d); "
                 "answer time f32 %.2f s, bf16 %.2f s (%.2fx)",
                 n_rows + n_tail, G, dmax, rmax, agree, G, same, len[0] > len[1] ? len[0] : len[1],
                 len[0], len[1], t[0], t[1], t[1] > 0 ? t[0] / t[1] : 0.0);
    }
    free(ids); free(pe); free(out2[0]); free(out2[1]); free(l0[0]); free(l0[1]);
    return s;
}

/* ---- output ---------------------------------------------------------------------------- */

/* Rows [from, n_rows) as text lines, or all rows as a markdown table. */
static void lv_bench_print(FILE *f, const lv_bench *b, int markdown, int from)
{
    if (markdown)
        fprintf(f, "| stage | median s | min s | tokens/s | GFLOP/s | %% of GEMM peak |\n"
                   "|---|---:|---:|---:|---:|---:|\n");
    for (int i = markdown ? 0 : from; i < b->n_rows; i++) {
        const lv_bench_row *r = &b->rows[i];
        char tps[32] = "", gf[32] = "", pk[32] = "";
        if (r->tokens > 0 && r->med > 0) snprintf(tps, sizeof tps, "%.1f", r->tokens / r->med);
        if (r->flops > 0 && r->med > 0) snprintf(gf, sizeof gf, "%.1f", r->flops / r->med * 1e-9);
        if (r->flops > 0 && r->peak_flops > 0 && r->med > 0)
            snprintf(pk, sizeof pk, "%.0f%%", 100.0 * r->flops / r->med / r->peak_flops);
        if (markdown)
            fprintf(f, "| %s | %.4f | %.4f | %s | %s | %s |\n", r->name, r->med, r->min, tps, gf, pk);
        else
            fprintf(f, "%-40s median %9.4f s  min %9.4f s%s%s%s%s%s%s%s%s%s\n", r->name, r->med,
                    r->min, *tps ? "  " : "", tps, *tps ? " tok/s" : "", *gf ? "  " : "", gf,
                    *gf ? " GFLOP/s" : "", *pk ? "  " : "", *pk ? pk : "", *pk ? " of peak" : "");
    }
}

static lv_status lv_bench_json(const lv_bench *b, const char *header, double rss, const char *acc)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "stages");
    cJSON_AddStringToObject(o, "header", header);
    cJSON_AddNumberToObject(o, "peak_rss_gb", rss);
    if (*acc) cJSON_AddStringToObject(o, "accuracy", acc);
    for (int i = 0; i < b->n_rows; i++) {
        const lv_bench_row *r = &b->rows[i];
        cJSON *e = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(e, "times");
        cJSON_AddStringToObject(e, "name", r->name);
        cJSON_AddNumberToObject(e, "median_s", r->med);
        cJSON_AddNumberToObject(e, "min_s", r->min);
        for (int k = 0; k < r->n; k++) cJSON_AddItemToArray(t, cJSON_CreateNumber(r->t[k]));
        if (r->tokens > 0) cJSON_AddNumberToObject(e, "tokens_per_s", r->tokens / r->med);
        if (r->flops > 0) cJSON_AddNumberToObject(e, "gflops", r->flops / r->med * 1e-9);
        if (r->flops > 0 && r->peak_flops > 0)
            cJSON_AddNumberToObject(e, "fraction_of_gemm_peak", r->flops / r->med / r->peak_flops);
        cJSON_AddItemToArray(arr, e);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return lv_fail(LV_ERR_NOMEM, "bench: JSON");
    printf("%s\n", s);
    free(s);
    return LV_OK;
}

lv_status lv_cmd_bench(int argc, char **argv)
{
    lv_bench_opts o = {.lengths = "256,1024,2048", .runs = 5, .warmup = 1, .gen_length = 32,
                       .question = "Describe the image."};
    lv_opt opts[] = {
        {"--model", "-m", LV_OPT_STR, &o.model, "DIR", "model directory (required)"},
        {"--image", NULL, LV_OPT_STR, &o.image, "FILE", "image for the image stages (default: a 384x384 test card)"},
        {"--lengths", NULL, LV_OPT_STR, &o.lengths, "LIST", "LLM forward lengths, comma-separated (256,1024,2048; \"\" = none)"},
        {"--gen-length", NULL, LV_OPT_INT, &o.gen_length, "N", "response tokens of the step and answer (32)"},
        {"--steps", NULL, LV_OPT_INT, &o.steps, "N", "denoising steps of the answer (default gen-length)"},
        {"--runs", NULL, LV_OPT_INT, &o.runs, "N", "timed runs per stage (5)"},
        {"--warmup", NULL, LV_OPT_INT, &o.warmup, "N", "untimed runs first (1)"},
        {"--precision", NULL, LV_OPT_STR, &o.precision, "P", "f32 | bf16: arithmetic of BF16-weight GEMMs and of attention (f32)"},
        {"--threads", "-t", LV_OPT_COUNT, &o.threads, "N", "threads (default: physical cores)"},
        {"--no-answer", NULL, LV_OPT_FLAG, &o.no_answer, NULL, "skip the whole-answer stage"},
        {"--no-peak", NULL, LV_OPT_FLAG, &o.no_peak, NULL, "skip the GEMM peak measurement"},
        {"--accuracy", NULL, LV_OPT_FLAG, &o.accuracy, NULL, "compare one answer of the bf16 path with the f32 path"},
        {"--peak-only", NULL, LV_OPT_FLAG, &o.peak_only, NULL, "only the GEMM peaks at the model's shapes"},
        {"--json", NULL, LV_OPT_FLAG, &o.json, NULL, "print JSON instead of text"},
        {"--append", NULL, LV_OPT_STR, &o.append, "FILE", "append a dated markdown section (e.g. BENCH.md)"},
    };
    const int nopts = (int)(sizeof opts / sizeof opts[0]);
    int help = 0, npos = 0;
    const char *pos[1];
    LV_TRY(lv_cli_parse(argc, argv, opts, nopts, pos, 0, &npos, &help));
    if (help) {
        lv_cli_usage("bench", "--model DIR [options]",
                     "Time every stage of a model (median and min of --runs after --warmup), with the "
                     "machine's GEMM peak measured in the same run.", opts, nopts);
        return LV_OK;
    }
    if (!o.model) return lv_fail(LV_ERR_ARG, "bench: --model DIR is required");
    if (o.runs < 1 || o.runs > LV_BENCH_MAX_RUNS || o.warmup < 0 || o.gen_length < 1)
        return lv_fail(LV_ERR_ARG, "bench: --runs must be in [1, %d], --warmup >= 0, --gen-length >= 1",
                       LV_BENCH_MAX_RUNS);
    int lengths[LV_BENCH_MAX_LENGTHS], n_len = 0;
    for (const char *p = o.lengths; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > LV_MAX_SEQ_LEN || n_len == LV_BENCH_MAX_LENGTHS)
            return lv_fail(LV_ERR_ARG, "bench: --lengths '%s': up to %d lengths in [1, %d]", o.lengths,
                           LV_BENCH_MAX_LENGTHS, LV_MAX_SEQ_LEN);
        lengths[n_len++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return lv_fail(LV_ERR_ARG, "bench: --lengths '%s': not a list", o.lengths);
    }
    int threads = lv_cli_threads(o.threads);
    LV_TRY(lv_cli_precision(o.precision));
    int bf16 = lv_precision_get() == LV_PRECISION_BF16;

    char cpu[256], isa[128], commit[64], header[1024];
    lv_bench_cpu(cpu, sizeof cpu);
    lv_bench_isa(isa, sizeof isa);
    lv_bench_commit(commit, sizeof commit);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    snprintf(header, sizeof header,
             "%s | %s | threads=%d | precision=%s | %s | cJSON %s, libpng %s, gcc %s | commit %s | load %.2f %.2f %.2f",
             cpu, isa, threads, bf16 ? "bf16" : "f32", openblas_get_config(), cJSON_Version(), png_get_libpng_ver(NULL),
             __VERSION__, commit, load[0], load[1], load[2]);
    if (!o.json) {
        printf("%s\n", header);
        fflush(stdout);
    }

    lv_bench b;
    b.warmup = o.warmup;
    b.runs = o.runs;
    b.n_rows = 0;
    b.printed = 0;
    b.quiet = o.json;
    lv_llada_dir d;
    lv_image_stages st = {0};
    double t_load = lv_bench_now();
    lv_status s = lv_llada_dir_open(&d, o.model);
    t_load = lv_bench_now() - t_load;
    double peak32 = 0, peak16 = 0;
    if (s == LV_OK && !o.no_peak)
        s = lv_bench_peak(&b, 1024, d.cfg.hidden_size, d.cfg.intermediate_size, &peak32, &peak16);
    lv_bench_progress(&b);
    double peak = bf16 ? peak16 : peak32;
    if (o.peak_only) n_len = 0, o.no_answer = 1;
    if (s == LV_OK && d.cfg.has_vision && !o.peak_only) s = lv_bench_image(&b, &o, &d, &st);
    lv_bench_progress(&b);
    int t_max = 1;
    for (int i = 0; i < n_len; i++) t_max = lengths[i] > t_max ? lengths[i] : t_max;
    if (s == LV_OK && !o.peak_only) s = lv_llada_dir_load_lm(&d, t_max);
    for (int i = 0; i < n_len && s == LV_OK; i++) {
        s = lv_bench_forward(&b, &d, lengths[i], o.gen_length < lengths[i] ? o.gen_length : lengths[i], peak);
        lv_bench_progress(&b);
    }
    if (s == LV_OK && !o.peak_only) s = lv_bench_sample(&b, &o, &d, &st, 1, peak);
    lv_bench_progress(&b);
    if (s == LV_OK && !o.no_answer)
        s = lv_bench_sample(&b, &o, &d, &st, o.steps > 0 ? o.steps : o.gen_length, peak);
    char acc[512] = "";
    if (s == LV_OK && o.accuracy && lv_bf16_gemm_available()) s = lv_bench_accuracy(&o, &d, &st, acc, sizeof acc);
    double rss = lv_bench_peak_rss_gb();
    if (s == LV_OK) {
        if (o.json) s = lv_bench_json(&b, header, rss, acc);
        else {
            lv_bench_progress(&b);
            printf("model open %.2f s, peak RSS %.2f GB\n", t_load, rss);
            if (*acc) printf("%s\n", acc);
        }
    }
    if (s == LV_OK && o.append) {
        FILE *f = fopen(o.append, "a");
        if (!f) s = lv_fail(LV_ERR_IO, "bench: cannot append to %s", o.append);
        else {
            time_t now = time(NULL);
            char date[64];
            strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
            fprintf(f, "\n## %s — %s\n\n%s\n\n`lladav bench --model %s --lengths %s --gen-length %d "
                       "--runs %d --warmup %d --threads %d --precision %s`\n\n",
                    date, o.model, header, o.model, *o.lengths ? o.lengths : "\"\"", o.gen_length,
                    o.runs, o.warmup, threads, bf16 ? "bf16" : "f32");
            lv_bench_print(f, &b, 1, 0);
            fprintf(f, "\nmodel open %.2f s, peak RSS %.2f GB\n", t_load, rss);
            if (*acc) fprintf(f, "\n%s\n", acc);
            fclose(f);
        }
    }
    lv_image_stages_free(&st);
    lv_llada_dir_free(&d);
    return s;
}
