/* test_cache.c - the opt-in fast modes (docs/MODES.md) on the tiny checkpoints of tests/fixtures:
 *  - lv_llada_forward_kv: after a full pass fills the K/V cache, a forward of a row range
 *    (prefix: to the end; dual: a block) against it gives the full forward's logits of those
 *    rows (max|d| <= 1e-4 * max|ref|), for every tiny model (F32, F16, BF16, OLMo names);
 *  - lv_llada_forward_dllm: a full pass, then partial passes (prompt only, gen rows by V
 *    similarity, nothing) over the same input give the full forward's logits;
 *  - `lladav dump` with --cache prefix / dual refreshed every step, --dllm-cache 1,1,R,
 *    and with --threshold
 *    above 1 where the plain schedule commits one token per step, reproduces each reference
 *    dump of tests/fixtures/ref (text and image): response_ids and committed_step identical,
 *    logits0 within 1e-4 * max|ref|;
 *  - lv_model reuses the image stages for a second question about the same pixels (same
 *    answers as a fresh model), and recomputes them for another image;
 *  - presets and flag errors.
 * Skips (exit 77, with the reason) only when a fixture directory is missing. */
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "language.h"
#include "lladav.h"
#include "testutil.h"

static const char *tc_models[] = {"tests/fixtures/models/tiny-f32", "tests/fixtures/models/tiny-olmo",
                                  "tests/fixtures/models/tiny-bf16-sharded",
                                  "tests/fixtures/models/tiny-f16-pad"};

static double tc_maxabs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* logits of rows [q0, q1) by a cached forward vs the same rows of the full forward. */
static void tc_check_range(lv_llada_dir *d, float *kv, const float *x, int T, int q0, int q1,
                           const float *full)
{
    const int D = d->cfg.hidden_size, V = d->ids.v_eff, n = q1 - q0;
    int32_t *rows = malloc((size_t)n * sizeof *rows);
    float *got = malloc((size_t)n * V * sizeof *got);
    for (int i = 0; i < n; i++) rows[i] = q0 + i;
    ck_assert_msg(lv_llada_forward_kv(d->lm, kv, x + (size_t)q0 * D, T, q0, q1, rows, n, got) == LV_OK,
                  "%s", lv_last_error());
    const float *want = full + (size_t)q0 * V;
    double mref = tc_maxabs(want, (size_t)n * V), mdiff = 0;
    for (size_t i = 0; i < (size_t)n * V; i++) mdiff = fmax(mdiff, fabs(got[i] - want[i]));
    ck_assert_msg(mdiff <= 1e-4 * mref, "rows [%d, %d): max|d| %g > 1e-4 * %g", q0, q1, mdiff, mref);
    free(rows);
    free(got);
}

START_TEST(test_forward_kv)
{
    const int T = 40;
    for (int mi = 0; mi < 4; mi++) {
        lv_llada_dir d;
        ck_assert_msg(lv_llada_dir_open(&d, lv_test_path(tc_models[mi])) == LV_OK, "%s", lv_last_error());
        ck_assert_int_eq(lv_llada_dir_load_lm(&d, T), LV_OK);
        const int D = d.cfg.hidden_size, V = d.ids.v_eff;
        int32_t ids[40], rows[40];
        for (int i = 0; i < T; i++) {
            ids[i] = (int32_t)((i * 7919u + 13u) % (unsigned)V);
            rows[i] = i;
        }
        float *x = malloc((size_t)T * D * sizeof *x), *full = malloc((size_t)T * V * sizeof *full);
        float *kv = malloc(lv_llada_kv_floats(d.lm, T) * sizeof *kv);
        float *full2 = malloc((size_t)T * V * sizeof *full2);
        ck_assert_int_eq(lv_llada_embed(d.lm, ids, T, x), LV_OK);
        ck_assert_int_eq(lv_llada_forward(d.lm, x, T, rows, T, full), LV_OK);
        /* the full pass that fills the cache is the plain forward, bit for bit */
        ck_assert_int_eq(lv_llada_forward_kv(d.lm, kv, x, T, 0, T, rows, T, full2), LV_OK);
        ck_assert(memcmp(full, full2, (size_t)T * V * sizeof *full) == 0);
        tc_check_range(&d, kv, x, T, 24, T, full);   /* prefix cache: the block and after it */
        tc_check_range(&d, kv, x, T, 16, 24, full);  /* dual cache: one block */
        tc_check_range(&d, kv, x, T, 39, 40, full);
        /* dLLM-Cache over the same input: every combination reproduces the full forward */
        float *dc = malloc(lv_llada_dllm_floats(d.lm, T) * sizeof *dc);
        const int Lp = 24, cases[5][3] = {{1, 1, 0}, {0, 0, 0}, {1, 0, 0}, {0, 0, 5}, {0, 1, 3}};
        for (int c = 0; c < 5; c++) {
            ck_assert_int_eq(lv_llada_forward_dllm(d.lm, dc, x, T, Lp, cases[c][0], cases[c][1],
                                                   cases[c][2], rows, T, full2), LV_OK);
            double mref = tc_maxabs(full, (size_t)T * V), mdiff = 0;
            for (size_t i = 0; i < (size_t)T * V; i++) mdiff = fmax(mdiff, fabs(full2[i] - full[i]));
            ck_assert_msg(mdiff <= 1e-4 * mref, "%s dllm case %d: max|d| %g > 1e-4 * %g",
                          tc_models[mi], c, mdiff, mref);
        }
        ck_assert_int_eq(lv_llada_forward_dllm(d.lm, dc, x, T, T, 1, 1, 0, rows, T, full2), LV_ERR_ARG);
        free(dc);
        /* argument errors */
        ck_assert_int_eq(lv_llada_forward_kv(d.lm, NULL, x, T, 4, T, rows, 0, full2), LV_ERR_ARG);
        ck_assert_int_eq(lv_llada_forward_kv(d.lm, kv, x, T, 8, 8, rows, 0, full2), LV_ERR_ARG);
        ck_assert_int_eq(lv_llada_forward_kv(d.lm, kv, x, T, 8, 16, rows, 1, full2), LV_ERR_ARG);
        free(x); free(full); free(full2); free(kv);
        lv_llada_dir_free(&d);
    }
}
END_TEST

/* ---- `lladav dump` in a fast mode that must reproduce exact mode ---- */

typedef struct {
    char *argv[64];
    int argc, steps, gen_length, block_length;
} tc_cli;

static void tc_cli_load(tc_cli *c, const char *json_path, const char *out, const char *const *extra,
                        int n_extra)
{
    size_t n;
    char *txt = lv_test_read_file(json_path, &n);
    ck_assert_ptr_nonnull(txt);
    cJSON *root = cJSON_Parse(txt), *cli = cJSON_GetObjectItem(root, "cli");
    memset(c, 0, sizeof *c);
    int argc = cJSON_GetArraySize(cli);
    ck_assert_int_lt(argc + n_extra + 3, 64);
    c->argv[c->argc++] = strdup(LV_LLADAV_BIN);
    for (int i = 1; i < argc; i++) {
        const char *a = cJSON_GetArrayItem(cli, i)->valuestring;
        c->argv[c->argc++] = strdup(strcmp(a, "OUT.safetensors") ? a : out);
        const char *v = i + 1 < argc ? cJSON_GetArrayItem(cli, i + 1)->valuestring : "0";
        if (!strcmp(a, "--steps")) c->steps = atoi(v);
        if (!strcmp(a, "--gen-length")) c->gen_length = atoi(v);
        if (!strcmp(a, "--block-length")) c->block_length = atoi(v);
    }
    for (int i = 0; i < n_extra; i++) c->argv[c->argc++] = strdup(extra[i]);
    c->argv[c->argc++] = strdup("--threads");
    c->argv[c->argc++] = strdup("1");
    if (!c->gen_length) c->gen_length = 128;
    if (!c->steps) c->steps = c->gen_length;
    if (!c->block_length) c->block_length = c->gen_length;
    cJSON_Delete(root);
    free(txt);
}

static int tc_cli_run(tc_cli *c)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(LV_SOURCE_DIR) == 0) execv(c->argv[0], c->argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    for (int i = 0; i < c->argc; i++) free(c->argv[i]);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* response_ids and committed_step identical, logits0 within 1e-4 * max|ref|. */
static void tc_compare(const char *label, const char *got_path, const char *want_path)
{
    lv_weights *g = NULL, *w = NULL;
    ck_assert_msg(lv_weights_open(&g, got_path) == LV_OK, "%s", lv_last_error());
    ck_assert_msg(lv_weights_open(&w, want_path) == LV_OK, "%s", lv_last_error());
    static const char *ints[] = {"response_ids", "committed_step", "prompt_ids"};
    for (int i = 0; i < 3; i++) {
        const lv_tensor *a = lv_weights_get(g, ints[i]), *b = lv_weights_get(w, ints[i]);
        ck_assert_msg(a && b, "%s: %s missing", label, ints[i]);
        ck_assert_msg(a->numel == b->numel && !memcmp(a->data, b->data, b->nbytes), "%s: %s differs",
                      label, ints[i]);
    }
    const lv_tensor *a = lv_weights_get(g, "logits0"), *b = lv_weights_get(w, "logits0");
    ck_assert(a && b && a->numel == b->numel);
    const float *av = a->data, *bv = b->data;
    double mref = tc_maxabs(bv, (size_t)b->numel), mdiff = 0;
    for (int64_t i = 0; i < b->numel; i++) mdiff = fmax(mdiff, fabs(av[i] - bv[i]));
    ck_assert_msg(mdiff <= 1e-4 * mref, "%s: logits0 max|d| %g > 1e-4 * %g", label, mdiff, mref);
    lv_weights_free(g);
    lv_weights_free(w);
}

START_TEST(test_dump_modes_match_exact)
{
    const char *dirp = lv_test_path("tests/fixtures/ref");
    DIR *dir = opendir(dirp);
    ck_assert_ptr_nonnull(dir);
    static const char *modes[][6] = {{"--cache", "prefix", "--cache-refresh", "1"},
                                     {"--cache", "dual", "--cache-refresh", "1"},
                                     {"--dllm-cache", "1,1,0.25"},
                                     {"--threshold", "1.000001"},
                                     {"--mode", "fast", "--cache-refresh", "1", "--threshold", "1.000001"}};
    static const int n_mode_args[] = {4, 4, 2, 2, 6};
    char out[4200];
    snprintf(out, sizeof out, "%s/cache_dump.safetensors", lv_test_tmpdir());
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
        char json[4200], want[4200];
        snprintf(json, sizeof json, "%s/%s", dirp, e->d_name);
        snprintf(want, sizeof want, "%s/%.*s.safetensors", dirp, (int)(len - 5), e->d_name);
        for (int m = 0; m < 5; m++) {
            tc_cli c;
            tc_cli_load(&c, json, out, modes[m], n_mode_args[m]);
            /* threshold > 1 commits the single best token per pass: the plain schedule only
             * when that schedule is one token per step too */
            int one_per_step = c.steps / (c.gen_length / c.block_length) == c.block_length;
            if (m >= 3 && !one_per_step) {
                for (int i = 0; i < c.argc; i++) free(c.argv[i]);
                continue;
            }
            char label[600];
            snprintf(label, sizeof label, "%.200s %s %s", e->d_name, modes[m][0], modes[m][1]);
            ck_assert_msg(tc_cli_run(&c) == 0, "%s: lladav dump failed", label);
            tc_compare(label, out, want);
            checked++;
        }
    }
    closedir(dir);
    printf("fast modes: %d dumps identical to the reference\n", checked);
    ck_assert_int_gt(checked, 0);
}
END_TEST

START_TEST(test_image_reuse)
{
    const char *a = lv_test_path("tests/fixtures/images/square_56.png");
    char b[4200];
    snprintf(b, sizeof b, "%s", lv_test_path("tests/fixtures/images/rgba_100x80.png"));
    lv_model *m = NULL, *fresh = NULL;
    lv_model_params mp = lv_model_default_params();
    ck_assert_msg(lv_model_load(&m, lv_test_path(tc_models[0]), &mp) == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(lv_model_load(&fresh, lv_test_path(tc_models[0]), &mp), LV_OK);
    lv_sampler_params sp = lv_sampler_default_params();
    sp.gen_length = 8;
    const char *qs[3] = {"What is it?", "What color?", "What is it?"};
    const char *imgs[3] = {a, a, b};
    for (int i = 0; i < 3; i++) {
        lv_result r = {0}, want = {0};
        ck_assert_int_eq(lv_model_ask(m, imgs[i], qs[i], &sp, &r), LV_OK);
        ck_assert_int_eq(lv_model_ask(fresh, imgs[i], qs[i], &sp, &want), LV_OK);
        lv_model_free(fresh);   /* a new model each time: nothing cached */
        ck_assert_int_eq(lv_model_load(&fresh, lv_test_path(tc_models[0]), &mp), LV_OK);
        ck_assert_str_eq(r.answer, want.answer);
        ck_assert_int_eq(r.n_image_tokens, want.n_image_tokens);
        if (i == 1) ck_assert(r.t_vision == 0.0);   /* reused */
        else ck_assert(r.t_vision > 0.0);
        lv_result_free(&r);
        lv_result_free(&want);
    }
    lv_model_free(fresh);
    lv_model_free(m);
}
END_TEST

START_TEST(test_presets)
{
    lv_cache_params c;
    lv_diffusion_params p = lv_diffusion_default_params();
    ck_assert_int_eq(lv_fast_mode_apply("exact", &c, &p), LV_OK);
    ck_assert(c.mode == LV_CACHE_NONE && p.threshold == 0 && p.factor == 0);
    ck_assert_int_eq(lv_fast_mode_apply("fast", &c, &p), LV_OK);
    ck_assert(c.mode == LV_CACHE_DUAL && p.threshold == 0 && p.factor == 0);
    ck_assert_int_eq(lv_fast_mode_apply("fastest", &c, &p), LV_OK);
    ck_assert(c.mode != LV_CACHE_NONE && (p.threshold > 0 || p.factor > 0));
    ck_assert_int_eq(lv_fast_mode_apply("turbo", &c, &p), LV_ERR_ARG);
    lv_cache_mode cm;
    ck_assert_int_eq(lv_cache_mode_parse(&cm, "dual"), LV_OK);
    ck_assert_int_eq(cm, LV_CACHE_DUAL);
    ck_assert_int_eq(lv_cache_mode_parse(&cm, "full"), LV_ERR_ARG);
    p = lv_diffusion_default_params();
    p.mask_id = 1;
    p.vocab = 4;
    p.threshold = 0.9;
    p.factor = 1;
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    p.factor = -1;
    p.threshold = 0;
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
}
END_TEST

static void tc_need_fixtures(void)
{
    for (int i = 0; i < 4; i++) {
        DIR *dir = opendir(lv_test_path(tc_models[i]));
        if (!dir) {
            char why[256];
            snprintf(why, sizeof why, "%s missing (tiny models of tests/reference)", tc_models[i]);
            lv_test_skip(why);
        }
        closedir(dir);
    }
    DIR *dir = opendir(lv_test_path("tests/fixtures/ref"));
    if (!dir) lv_test_skip("tests/fixtures/ref missing (parity fixtures of tests/reference)");
    closedir(dir);
}

int main(void)
{
    tc_need_fixtures();
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_forward_kv);
    tcase_add_test(tc, test_dump_modes_match_exact);
    tcase_add_test(tc, test_image_reuse);
    tcase_add_test(tc, test_presets);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
