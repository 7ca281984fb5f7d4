/* test_lladav_api.c - the embedding API (pipeline/lladav.h) on the tiny fixture models:
 *  - lv_model_ask with a fixture's own settings answers the reference's response_text
 *    (image: img_square_png on tiny-f32; text only: text_olmo_blocks on tiny-olmo);
 *  - the file, in-memory and decoded-RGB variants give the same answer and counts;
 *  - token counts and stage times are consistent;
 *  - errors: an image for a text-only model, bad sampler settings; lv_model_find honours
 *    $LLADAV_MODEL. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lladav.h"
#include "testutil.h"

/* Sidecar of a reference fixture: sampler settings, question, image, trimmed response text. */
typedef struct {
    cJSON *root;
    lv_sampler_params sp;
    const char *model, *image, *prompt;
    char want[1024];
    int n_passes, n_response;
} ta_case;

static void ta_case_load(ta_case *c, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/ref/%s.json", name);
    char *txt = lv_test_read_file(lv_test_path(rel), NULL);
    ck_assert_ptr_nonnull(txt);
    memset(c, 0, sizeof *c);
    c->root = cJSON_Parse(txt);
    free(txt);
    ck_assert_ptr_nonnull(c->root);
    c->sp = lv_sampler_default_params();
    const cJSON *cli = cJSON_GetObjectItem(c->root, "cli");
    for (int i = 2; i + 1 < cJSON_GetArraySize(cli); i += 2) {
        const char *k = cJSON_GetArrayItem(cli, i)->valuestring, *v = cJSON_GetArrayItem(cli, i + 1)->valuestring;
        if (!strcmp(k, "--model")) c->model = v;
        else if (!strcmp(k, "--image")) c->image = v;
        else if (!strcmp(k, "--prompt")) c->prompt = v;
        else if (!strcmp(k, "--steps")) c->sp.steps = atoi(v);
        else if (!strcmp(k, "--gen-length")) c->sp.gen_length = atoi(v);
        else if (!strcmp(k, "--block-length")) c->sp.block_length = atoi(v);
        else if (!strcmp(k, "--seed")) c->sp.seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--temperature")) c->sp.temperature = atof(v);
        else if (!strcmp(k, "--cfg")) c->sp.cfg_scale = atof(v);
        else if (!strcmp(k, "--remasking")) ck_assert_int_eq(lv_remask_parse(&c->sp.remasking, v), LV_OK);
    }
    const char *resp = cJSON_GetObjectItem(c->root, "response_text")->valuestring;
    size_t a = 0, b = strlen(resp);
    while (a < b && strchr(" \t\n\v\f\r", resp[a])) a++;
    while (b > a && strchr(" \t\n\v\f\r", resp[b - 1])) b--;
    ck_assert_uint_lt(b - a, sizeof c->want);
    memcpy(c->want, resp + a, b - a);
    c->n_passes = cJSON_GetObjectItem(c->root, "n_passes")->valueint;
    c->n_response = cJSON_GetArraySize(cJSON_GetObjectItem(c->root, "response_ids"));
}

static lv_model *ta_load(const char *model_rel)
{
    lv_model *m = NULL;
    lv_model_params mp = lv_model_default_params();
    mp.threads = 1;
    ck_assert_msg(lv_model_load(&m, lv_test_path(model_rel), &mp) == LV_OK, "%s", lv_last_error());
    return m;
}

static void ta_same(const lv_result *a, const lv_result *b)
{
    ck_assert_uint_eq(a->answer_len, b->answer_len);
    ck_assert(memcmp(a->answer, b->answer, a->answer_len) == 0);
    ck_assert_int_eq(a->n_text_tokens, b->n_text_tokens);
    ck_assert_int_eq(a->n_image_tokens, b->n_image_tokens);
    ck_assert_int_eq(a->n_response_tokens, b->n_response_tokens);
    ck_assert_int_eq(a->n_passes, b->n_passes);
}

START_TEST(test_ask_image_variants)
{
    ta_case c;
    ta_case_load(&c, "img_square_png");
    lv_model *m = ta_load(c.model);
    ck_assert_int_eq(lv_model_has_vision(m), 1);
    const char *img_path = lv_test_path(c.image);
    lv_result r = {0}, r2 = {0}, r3 = {0};
    ck_assert_msg(lv_model_ask(m, img_path, c.prompt, &c.sp, &r) == LV_OK, "%s", lv_last_error());
    ck_assert_str_eq(r.answer, c.want);
    ck_assert_int_eq(r.n_passes, c.n_passes);
    ck_assert_int_eq(r.n_response_tokens, c.n_response);
    ck_assert_int_eq(r.n_prompt_rows, r.n_text_tokens + r.n_image_tokens);
    ck_assert_int_eq(r.image_width, 56);
    ck_assert_int_eq(r.n_views, 2);
    ck_assert_int_gt(r.n_image_tokens, 0);
    ck_assert(r.t_total >= r.t_decode + r.t_vision + r.t_sampling);
    ck_assert(r.t_sampling > 0);

    size_t n = 0;
    char *bytes = lv_test_read_file(img_path, &n);
    ck_assert_int_eq(lv_model_ask_memory(m, bytes, n, "square", c.prompt, &c.sp, &r2), LV_OK);
    ta_same(&r, &r2);
    lv_image img = {0};
    ck_assert_int_eq(lv_image_load(&img, img_path), LV_OK);
    ck_assert_int_eq(lv_model_ask_rgb(m, &img, c.prompt, &c.sp, &r3), LV_OK);
    ta_same(&r, &r3);
    ck_assert(r3.t_decode == 0);
    /* the image cache: the same file bytes are reused (no stage time), pixels are their own key */
    ck_assert_int_eq(r.image_reused, 0);
    ck_assert_int_eq(r2.image_reused, 1);
    ck_assert(r2.t_vision == 0 && r2.t_preprocess == 0);
    ck_assert_int_eq(r2.image_width, 56);
    ck_assert_int_eq(r3.image_reused, 0);
    long enc = -1, reu = -1;
    lv_model_image_counts(m, &enc, &reu);
    ck_assert_int_eq(enc, 2);
    ck_assert_int_eq(reu, 1);

    /* a corrupt in-memory image names itself */
    lv_result bad = {0};
    ck_assert_int_eq(lv_model_ask_memory(m, bytes, 40, "cut.png", c.prompt, &c.sp, &bad), LV_ERR_IMAGE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "cut.png"));
    ck_assert_ptr_null(bad.answer);

    lv_image_free(&img);
    free(bytes);
    lv_result_free(&r);
    lv_result_free(&r2);
    lv_result_free(&r3);
    ck_assert_ptr_null(r.answer);
    lv_result_free(NULL);
    lv_model_free(m);
    cJSON_Delete(c.root);
}
END_TEST

/* Three images asked A B C A B C: a cache that holds them encodes each once; a budget of 0
 * keeps only the latest image, so every request encodes; the answers are the same. */
START_TEST(test_image_cache)
{
    ta_case c;
    ta_case_load(&c, "img_square_png");
    const char *names[3] = {"tests/fixtures/images/square_56.png", "tests/fixtures/images/wide_150x60.png",
                            "tests/fixtures/images/tall_50x130.jpg"};
    char *answers[2][6];
    for (int budget = 0; budget < 2; budget++) {
        lv_model *m = NULL;
        lv_model_params mp = lv_model_default_params();
        mp.threads = 1;
        mp.image_cache_mb = budget ? 64 : 0;
        ck_assert_msg(lv_model_load(&m, lv_test_path(c.model), &mp) == LV_OK, "%s", lv_last_error());
        for (int k = 0; k < 6; k++) {
            lv_result r = {0};
            ck_assert_msg(lv_model_ask(m, lv_test_path(names[k % 3]), c.prompt, &c.sp, &r) == LV_OK, "%s", lv_last_error());
            ck_assert_int_eq(r.image_reused, budget && k >= 3);
            answers[budget][k] = strdup(r.answer);
            lv_result_free(&r);
        }
        long enc = -1, reu = -1;
        lv_model_image_counts(m, &enc, &reu);
        ck_assert_int_eq(enc, budget ? 3 : 6);
        ck_assert_int_eq(reu, budget ? 3 : 0);
        lv_model_free(m);
    }
    for (int k = 0; k < 6; k++) {
        ck_assert_str_eq(answers[0][k], answers[1][k]);
        free(answers[0][k]);
        free(answers[1][k]);
    }
    /* the same pixel bytes in another shape are another image */
    {
        lv_model *m = NULL;
        lv_model_params mp = lv_model_default_params();
        mp.threads = 1;
        ck_assert_int_eq(lv_model_load(&m, lv_test_path(c.model), &mp), LV_OK);
        unsigned char px[16 * 4 * 3];
        for (size_t i = 0; i < sizeof px; i++) px[i] = (unsigned char)(i * 37);
        lv_image wide = {16, 4, px}, tall = {4, 16, px};
        lv_result r = {0};
        ck_assert_int_eq(lv_model_ask_rgb(m, &wide, c.prompt, &c.sp, &r), LV_OK);
        lv_result_free(&r);
        ck_assert_int_eq(lv_model_ask_rgb(m, &tall, c.prompt, &c.sp, &r), LV_OK);
        ck_assert_int_eq(r.image_reused, 0);
        ck_assert_int_eq(r.image_width, 4);
        lv_result_free(&r);
        long enc = -1;
        lv_model_image_counts(m, &enc, NULL);
        ck_assert_int_eq(enc, 2);
        lv_model_free(m);
    }
    lv_model_params bad = lv_model_default_params();
    bad.image_cache_mb = -1;
    lv_model *m = NULL;
    ck_assert_int_eq(lv_model_load(&m, lv_test_path(c.model), &bad), LV_ERR_ARG);
    ck_assert_ptr_null(m);
    cJSON_Delete(c.root);
}
END_TEST

/* --reuse-prefix: the rows through the image are computed by the first full pass that sees
 * them and frozen after. Exact where that changes nothing: under a single-block dual cache the
 * only full pass of a request is its first, so the first request answers as without reuse,
 * and a second identical request takes the kept prefix, computed from the same rows, and
 * answers the same too; another image is not served by the kept prefix. With mode none every
 * pass is full and every pass after the first takes the frozen prefix (approximate). */
START_TEST(test_reuse_prefix)
{
    ta_case c;
    ta_case_load(&c, "img_square_png");
    const char *img = lv_test_path(c.image);
    lv_model_params mp = lv_model_default_params();
    mp.threads = 1;
    lv_model *m = NULL, *plain = NULL;
    ck_assert_msg(lv_model_load(&m, lv_test_path(c.model), &mp) == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(lv_model_load(&plain, lv_test_path(c.model), &mp), LV_OK);

    lv_sampler_params sp = c.sp;   /* mode none + reuse */
    sp.cache.reuse_prefix = 1;
    lv_result r = {0};
    ck_assert_msg(lv_model_ask(m, img, c.prompt, &sp, &r) == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(r.n_passes, c.n_passes);
    lv_result_free(&r);
    long saved = -1, reused = -1;
    lv_model_prefix_counts(m, &saved, &reused);
    ck_assert_int_eq(saved, 1);
    ck_assert_int_eq(reused, c.n_passes - 1);   /* every later pass of the request took it */

    lv_sampler_params dual = c.sp;   /* one block, full pass only at its start */
    dual.block_length = dual.gen_length;
    dual.cache.mode = LV_CACHE_DUAL;
    lv_sampler_params dual_reuse = dual;
    dual_reuse.cache.reuse_prefix = 1;
    lv_result want = {0}, got = {0};
    ck_assert_int_eq(lv_model_ask(plain, img, c.prompt, &dual, &want), LV_OK);
    lv_model *m2 = NULL;
    ck_assert_int_eq(lv_model_load(&m2, lv_test_path(c.model), &mp), LV_OK);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(lv_model_ask(m2, img, c.prompt, &dual_reuse, &got), LV_OK);
        ta_same(&want, &got);
        lv_result_free(&got);
        lv_model_prefix_counts(m2, &saved, &reused);
        ck_assert_int_eq(saved, 1);
        ck_assert_int_eq(reused, k);
    }
    /* another image: the kept rows differ, so they are recomputed and kept instead */
    ck_assert_int_eq(lv_model_ask(m2, lv_test_path("tests/fixtures/images/wide_150x60.png"), c.prompt,
                                  &dual_reuse, &got), LV_OK);
    lv_result_free(&got);
    lv_model_prefix_counts(m2, &saved, &reused);
    ck_assert_int_eq(saved, 2);
    ck_assert_int_eq(reused, 1);
    /* not with the dLLM-Cache */
    dual_reuse.cache.mode = LV_CACHE_DLLM;
    ck_assert_int_eq(lv_model_ask(m2, img, c.prompt, &dual_reuse, &got), LV_ERR_UNSUPPORTED);
    lv_result_free(&want);
    lv_model_free(m);
    lv_model_free(m2);
    lv_model_free(plain);
    cJSON_Delete(c.root);
}
END_TEST

START_TEST(test_ask_text_only)
{
    ta_case c;
    ta_case_load(&c, "text_olmo_blocks");
    lv_model *m = ta_load(c.model);
    ck_assert_int_eq(lv_model_has_vision(m), 0);
    lv_result r = {0};
    ck_assert_msg(lv_model_ask(m, NULL, c.prompt, &c.sp, &r) == LV_OK, "%s", lv_last_error());
    ck_assert_str_eq(r.answer, c.want);
    ck_assert_int_eq(r.n_passes, c.n_passes);
    ck_assert_int_eq(r.n_image_tokens, 0);
    ck_assert_int_eq(r.n_prompt_rows, r.n_text_tokens);
    lv_result_free(&r);

    /* an image for a model without vision: LV_ERR_UNSUPPORTED naming the image */
    ck_assert_int_eq(lv_model_ask(m, "cat.png", c.prompt, &c.sp, &r), LV_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "cat.png: the model"));
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "no vision tower"));
    ck_assert_ptr_null(r.answer);

    /* inconsistent sampler settings are refused before any work */
    lv_sampler_params sp = c.sp;
    sp.gen_length = 10;
    sp.block_length = 4;
    ck_assert_int_eq(lv_model_ask(m, NULL, c.prompt, &sp, &r), LV_ERR_ARG);
    lv_model_free(m);
    lv_model_free(NULL);
    cJSON_Delete(c.root);
}
END_TEST

START_TEST(test_find_env)
{
    char dir[4096];
    setenv("LLADAV_MODEL", "/some/model", 1);
    ck_assert_int_eq(lv_model_find(dir, sizeof dir), LV_OK);
    ck_assert_str_eq(dir, "/some/model");
    ck_assert_int_eq(lv_model_find(dir, 4), LV_ERR_ARG);
    lv_model *m = NULL;
    ck_assert_int_eq(lv_model_load(&m, NULL, NULL), LV_ERR_IO);   /* /some/model/config.json */
    ck_assert_ptr_null(m);
    unsetenv("LLADAV_MODEL");
}
END_TEST

int main(void)
{
    char *probe = lv_test_read_file(lv_test_path("tests/fixtures/ref/img_square_png.json"), NULL);
    if (!probe) lv_test_skip("tests/fixtures/ref/img_square_png.json is missing");
    free(probe);
    Suite *s = suite_create("lladav_api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ask_image_variants);
    tcase_add_test(tc, test_image_cache);
    tcase_add_test(tc, test_reuse_prefix);
    tcase_add_test(tc, test_ask_text_only);
    tcase_add_test(tc, test_find_env);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
