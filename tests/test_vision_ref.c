/* test_vision_ref.c - image path parity with the PyTorch reference (tests/reference).
 *
 * For every tests/fixtures/ref/img_*.json case: load its tiny model and image, then compare
 * each stage with the reference dump: views (|Δ| <= 1e-6), vision tower, projector and the
 * merged image rows (max|Δ| <= 1e-4 · max|ref|). Each stage runs on our own previous output,
 * so errors would accumulate rather than hide.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "projector.h"
#include "testutil.h"
#include "vision.h"

/* The value following `flag` in the sidecar's "cli" array. */
static const char *cli_arg(const cJSON *cli, const char *flag)
{
    int n = cJSON_GetArraySize(cli);
    for (int i = 0; i + 1 < n; i++)
        if (!strcmp(cJSON_GetArrayItem(cli, i)->valuestring, flag))
            return cJSON_GetArrayItem(cli, i + 1)->valuestring;
    return NULL;
}

static float *ref_tensor(const lv_weights *r, const char *name, int64_t numel)
{
    const lv_tensor *t = lv_weights_get(r, name);
    ck_assert_msg(t != NULL, "fixture lacks '%s'", name);
    ck_assert_msg(t->numel == numel, "'%s': %lld elements, we produce %lld", name,
                  (long long)t->numel, (long long)numel);
    float *f = malloc(sizeof *f * (size_t)numel);
    lv_tensor_to_f32(f, t, 0, numel);
    return f;
}

static int close_rel(const char *what, const float *got, const float *want, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(want[i]));
    return lv_test_close(what, got, want, n, 1e-4 * m, 0);
}

#define OK(x)                                                                             \
    do {                                                                                  \
        lv_status s_ = (x);                                                               \
        ck_assert_msg(s_ == LV_OK, "%s: %s", #x, lv_last_error());                        \
    } while (0)

static void run_case(const char *json_path)
{
    size_t n;
    char *text = lv_test_read_file(json_path, &n);
    cJSON *j = cJSON_Parse(text);
    ck_assert(j != NULL);
    const cJSON *cli = cJSON_GetObjectItem(j, "cli");
    const char *model = cli_arg(cli, "--model"), *image = cli_arg(cli, "--image");
    const char *out = cJSON_GetObjectItem(j, "reference_out")->valuestring;
    const char *name = cJSON_GetObjectItem(j, "case")->valuestring;
    ck_assert(model && image && out);
    char cfg_path[4096];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", lv_test_path(model));

    lv_config c;
    lv_weights *w = NULL, *ref = NULL;
    OK(lv_config_load(&c, cfg_path));
    OK(lv_weights_open(&w, lv_test_path(model)));
    OK(lv_config_check_weights(&c, w));
    OK(lv_weights_open(&ref, lv_test_path(out)));

    lv_image img;
    lv_view_geometry g;
    OK(lv_image_load(&img, lv_test_path(image)));
    OK(lv_vision_geometry(&g, &c, img.width, img.height));
    size_t nv = lv_vision_views_numel(&g);
    float *views = malloc(sizeof *views * nv), *want = ref_tensor(ref, "views", (int64_t)nv);
    OK(lv_vision_preprocess(views, &g, &img));
    ck_assert_msg(lv_test_close("views", views, want, nv, 1e-6, 0), "%s: views", name);
    free(want);

    lv_siglip *enc = NULL;
    OK(lv_siglip_load(&enc, &c, w));
    int P = lv_siglip_n_tokens(enc), Dv = lv_siglip_width(enc);
    size_t nf = (size_t)g.n_views * P * Dv;
    float *feats = malloc(sizeof *feats * nf);
    OK(lv_siglip_encode(enc, views, g.n_views, feats));
    want = ref_tensor(ref, "vision", (int64_t)nf);
    ck_assert_msg(close_rel("vision", feats, want, nf), "%s: vision", name);
    free(want);

    lv_projector *pj = NULL;
    OK(lv_projector_load(&pj, &c, w));
    int D = lv_projector_out_dim(pj);
    size_t np = (size_t)g.n_views * P * D;
    float *proj = malloc(sizeof *proj * np);
    OK(lv_projector_forward(pj, feats, g.n_views * P, proj));
    want = ref_tensor(ref, "projected", (int64_t)np);
    ck_assert_msg(close_rel("projected", proj, want, np), "%s: projected", name);
    free(want);

    size_t ne = (size_t)g.n_tokens * D;
    float *emb = malloc(sizeof *emb * ne);
    OK(lv_vision_merge(emb, proj, lv_projector_newline(pj), D, &g));
    want = ref_tensor(ref, "image_embeds", (int64_t)ne);
    ck_assert_msg(close_rel("image_embeds", emb, want, ne), "%s: image_embeds", name);
    free(want);

    /* the pipeline's one-call image path gives the same bytes at every stage */
    lv_image_encoder *ie = NULL;
    lv_image_stages st;
    OK(lv_image_encoder_load(&ie, &c, w));
    OK(lv_image_encoder_run(ie, &img, &st));
    ck_assert_int_eq(st.geom.n_tokens, g.n_tokens);
    ck_assert(!memcmp(st.views, views, sizeof *views * nv));
    ck_assert(!memcmp(st.vision, feats, sizeof *feats * nf));
    ck_assert(!memcmp(st.projected, proj, sizeof *proj * np));
    ck_assert(!memcmp(st.embeds, emb, sizeof *emb * ne));
    lv_image_stages_free(&st);
    lv_image_encoder_free(ie);

    free(emb), free(proj), free(feats), free(views);
    lv_projector_free(pj);
    lv_siglip_free(enc);
    lv_image_free(&img);
    lv_weights_free(ref);
    lv_weights_free(w);
    cJSON_Delete(j);
    free(text);
}

START_TEST(image_stages_match_reference)
{
    glob_t gl;
    ck_assert_int_eq(glob(lv_test_path("tests/fixtures/ref/img_*.json"), 0, NULL, &gl), 0);
    for (size_t i = 0; i < gl.gl_pathc; i++) run_case(gl.gl_pathv[i]);
    ck_assert_int_ge((int)gl.gl_pathc, 1);
    globfree(&gl);
}
END_TEST

START_TEST(projector_rejects_unknown_type)
{
    lv_config c;
    lv_weights *w = NULL;
    OK(lv_config_load(&c, lv_test_path("tests/fixtures/models/tiny-f32/config.json")));
    OK(lv_weights_open(&w, lv_test_path("tests/fixtures/models/tiny-f32")));
    snprintf(c.mm_projector_type, sizeof c.mm_projector_type, "mlp3x_gelu");
    lv_projector *pj = (lv_projector *)&c;
    ck_assert_int_eq(lv_projector_load(&pj, &c, w), LV_ERR_UNSUPPORTED);
    ck_assert(pj == NULL);
    ck_assert(strstr(lv_last_error(), "mlp3x_gelu"));
    lv_weights_free(w);
}
END_TEST

START_TEST(siglip_load_errors)
{
    lv_config c;
    lv_weights *w = NULL;
    lv_siglip *e = NULL;
    OK(lv_config_load(&c, lv_test_path("tests/fixtures/models/tiny-f32/config.json")));
    OK(lv_weights_open(&w, lv_test_path("tests/fixtures/models/tiny-f32")));
    lv_config bad = c;
    bad.v_intermediate_size += 1;
    ck_assert_int_eq(lv_siglip_load(&e, &bad, w), LV_ERR_SHAPE);
    ck_assert(e == NULL && strstr(lv_last_error(), "mlp.fc1.weight"));
    bad = c;
    snprintf(bad.v_hidden_act, sizeof bad.v_hidden_act, "quick_gelu");
    ck_assert_int_eq(lv_siglip_load(&e, &bad, w), LV_ERR_UNSUPPORTED);
    ck_assert(strstr(lv_last_error(), "quick_gelu"));
    bad = c;
    bad.v_num_hidden_layers = 3;   /* one more than the weights hold */
    ck_assert_int_eq(lv_siglip_load(&e, &bad, w), LV_ERR_SHAPE);
    ck_assert(strstr(lv_last_error(), "layers.2."));
    lv_weights_free(w);
}
END_TEST

int main(void)
{
    glob_t gl;
    if (glob(lv_test_path("tests/fixtures/ref/img_*.json"), 0, NULL, &gl) != 0)
        lv_test_skip("no image fixtures in tests/fixtures/ref (helper reference not run yet)");
    globfree(&gl);
    Suite *s = suite_create("vision_ref");
    TCase *tc = tcase_create("parity");
    tcase_add_test(tc, image_stages_match_reference);
    tcase_add_test(tc, projector_rejects_unknown_type);
    tcase_add_test(tc, siglip_load_errors);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
