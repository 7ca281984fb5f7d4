/* test_vision.c - image decoding and preprocessing against Pillow 9.4.
 *
 * tests/vision/make_expected.py wrote the inputs and PIL's outputs (manifest.txt): decoded RGB
 * of every PNG/JPEG variant, BICUBIC resizes over a grid of sizes, and whole view tensors.
 * All of them must match bit for bit. Geometry follows the table of spec §3.7.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "vision.h"

#define VDIR "tests/vision/"

static int first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return (int)i;
    return -1;
}

static void load_ok(lv_image *img, const char *rel)
{
    lv_status s = lv_image_load(img, lv_test_path(rel));
    ck_assert_msg(s == LV_OK, "%s: %s", rel, lv_last_error());
}

/* Each manifest line of the given kind, in order, to fn. */
static int for_manifest(const char *kind, void (*fn)(char *args))
{
    FILE *f = fopen(lv_test_path(VDIR "manifest.txt"), "r");
    ck_assert_msg(f != NULL, "missing " VDIR "manifest.txt");
    char line[512];
    int n = 0;
    size_t k = strlen(kind);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, kind, k) || line[k] != ' ') continue;
        fn(line + k + 1);
        n++;
    }
    fclose(f);
    return n;
}

static void check_decode(char *args)
{
    char name[128], mode[16], rel[256], rgb_rel[300];
    int w, h;
    ck_assert_int_eq(sscanf(args, "%127s %d %d %15s", name, &w, &h, mode), 4);
    snprintf(rel, sizeof rel, VDIR "decode/%s", name);
    snprintf(rgb_rel, sizeof rgb_rel, "%s.rgb", rel);
    lv_image img;
    load_ok(&img, rel);
    ck_assert_int_eq(img.width, w);
    ck_assert_int_eq(img.height, h);
    size_t n, fn;
    char *want = lv_test_read_file(lv_test_path(rgb_rel), &n);
    ck_assert(want && n == (size_t)w * h * 3);
    int d = first_diff(img.rgb, (const uint8_t *)want, n);
    ck_assert_msg(d < 0, "%s (PIL mode %s): byte %d (pixel %d channel %d) got %d want %d", name,
                  mode, d, d / 3, d % 3, d >= 0 ? img.rgb[d] : 0,
                  d >= 0 ? (uint8_t)want[d] : 0);
    /* the same bytes through the memory entry point */
    char *file = lv_test_read_file(lv_test_path(rel), &fn);
    lv_image mem;
    ck_assert_int_eq(lv_image_decode(&mem, file, fn, name), LV_OK);
    ck_assert(!memcmp(mem.rgb, img.rgb, n));
    lv_image_free(&mem);
    free(file);
    free(want);
    lv_image_free(&img);
}

START_TEST(decode_matches_pil)
{
    ck_assert_int_ge(for_manifest("decode", check_decode), 25);
}
END_TEST

static char *resize_blob;
static size_t resize_blob_n;

static void check_resize(char *args)
{
    char name[128], rel[256];
    int w, h;
    long off;
    ck_assert_int_eq(sscanf(args, "%127s %d %d %ld", name, &w, &h, &off), 4);
    snprintf(rel, sizeof rel, VDIR "%s", name);
    lv_image src, out;
    load_ok(&src, rel);
    ck_assert_int_eq(lv_image_resize(&out, &src, w, h), LV_OK);
    size_t n = (size_t)w * h * 3;
    ck_assert((size_t)off + n <= resize_blob_n);
    int d = first_diff(out.rgb, (const uint8_t *)resize_blob + off, n);
    ck_assert_msg(d < 0, "%s %dx%d -> %dx%d: byte %d got %d want %d", name, src.width,
                  src.height, w, h, d, d >= 0 ? out.rgb[d] : 0,
                  d >= 0 ? (uint8_t)resize_blob[off + d] : 0);
    lv_image_free(&src);
    lv_image_free(&out);
}

START_TEST(resize_matches_pil)
{
    resize_blob = lv_test_read_file(lv_test_path(VDIR "resize.bin"), &resize_blob_n);
    ck_assert(resize_blob != NULL);
    ck_assert_int_ge(for_manifest("resize", check_resize), 20);
    free(resize_blob);
}
END_TEST

/* A config with the spec's multimodal settings, view size S and patch p, and pinpoints
 * (i*S, j*S) for i, j in 1..k (i outer, as the "(1x1),...,(kxk)" expansion). */
static void test_config(lv_config *c, int S, int p, int k, lv_aspect aspect)
{
    memset(c, 0, sizeof *c);
    c->has_vision = 1;
    c->aspect = aspect;
    c->anyres_max = 4;
    c->merge = LV_MERGE_SPATIAL_UNPAD;
    c->v_image_size = S;
    c->v_patch_size = p;
    for (int i = 1; i <= k; i++)
        for (int j = 1; j <= k; j++) {
            c->pinpoints[c->n_pinpoints][0] = i * S;
            c->pinpoints[c->n_pinpoints][1] = j * S;
            c->n_pinpoints++;
        }
}

static void check_views(char *args)
{
    char name[128], mode[16], rel[256];
    int S, nv;
    ck_assert_int_eq(sscanf(args, "%127s %15s %d %d", name, mode, &S, &nv), 4);
    lv_aspect a = !strcmp(mode, "anyres") ? LV_ASPECT_ANYRES
                : !strcmp(mode, "pad")    ? LV_ASPECT_PAD
                                          : LV_ASPECT_SQUARE;
    lv_config c;
    test_config(&c, S, 14, 3, a);
    snprintf(rel, sizeof rel, VDIR "%s", name);
    lv_image img;
    load_ok(&img, rel);
    lv_view_geometry g;
    ck_assert_int_eq(lv_vision_geometry(&g, &c, img.width, img.height), LV_OK);
    ck_assert_int_eq(g.n_views, nv);
    size_t n = lv_vision_views_numel(&g), fn;
    float *got = malloc(n * sizeof *got);
    ck_assert_int_eq(lv_vision_preprocess(got, &g, &img), LV_OK);
    strcpy(rel + strlen(rel) - 4, ".bin");
    float *want = (float *)lv_test_read_file(lv_test_path(rel), &fn);
    ck_assert(want && fn == n * sizeof *got);
    ck_assert_msg(lv_test_close(name, got, want, n, 0, 0), "%s differs from PIL", name);
    free(want);
    free(got);
    lv_image_free(&img);
}

START_TEST(views_match_pil)
{
    ck_assert_int_eq(for_manifest("views", check_views), 5);
}
END_TEST

/* spec §3.7: best canvas, grid, content size and offset, views, final h' x w', N_img. */
START_TEST(anyres_geometry_spec_table)
{
    static const int t[][11] = {
        /* W, H, wc, hc, cw, ch, ox, oy, views, h'*w' packed as h', w', N_img */
        {384, 384, 384, 384, 384, 384, 0, 0, 2, 27, 27},
        {640, 480, 768, 768, 768, 576, 0, 96, 5, 40, 54},
        {480, 640, 768, 768, 576, 768, 96, 0, 5, 54, 40},
        {768, 768, 768, 768, 768, 768, 0, 0, 5, 54, 54},
        {1024, 768, 1152, 768, 1024, 768, 64, 0, 7, 46, 62},
        {853, 1280, 1152, 1536, 1024, 1536, 64, 0, 13, 66, 43},
        {1280, 720, 1536, 768, 1366, 768, 85, 0, 9, 40, 72},
        {1920, 1080, 1920, 1152, 1920, 1080, 0, 36, 16, 40, 72},
    };
    static const int n_img[] = {1485, 2929, 2943, 3699, 3627, 3633, 3649, 3649};
    lv_config c;
    test_config(&c, 384, 14, 6, LV_ASPECT_ANYRES);
    for (int i = 0; i < 8; i++) {
        lv_view_geometry g;
        ck_assert_int_eq(lv_vision_geometry(&g, &c, t[i][0], t[i][1]), LV_OK);
        int got[] = {g.best_w, g.best_h, g.content_w, g.content_h, g.off_x, g.off_y, g.n_views,
                     g.merged_h, g.merged_w};
        for (int k = 0; k < 9; k++)
            ck_assert_msg(got[k] == t[i][k + 2], "%dx%d: field %d got %d want %d", t[i][0],
                          t[i][1], k, got[k], t[i][k + 2]);
        ck_assert_int_eq(g.n_tokens, n_img[i]);
        ck_assert_int_eq(g.grid_w * g.image_size, g.best_w);
    }
    /* the unpad steps of the table: 640x480 keeps rows 7..46, 1024x768 columns 4..76 */
    lv_view_geometry g;
    lv_vision_geometry(&g, &c, 640, 480);
    ck_assert(g.unpad_r0 == 7 && g.unpad_h == 40 && g.unpad_w == 54);
    lv_vision_geometry(&g, &c, 1024, 768);
    ck_assert(g.unpad_c0 == 4 && g.unpad_w == 73 && g.unpad_h == 54);
    lv_vision_geometry(&g, &c, 853, 1280);
    ck_assert(g.unpad_c0 == 5 && g.unpad_w == 71 && g.unpad_h == 108);
    /* pad / square: one view, 729 tokens + one newline under spatial_unpad, none if flat */
    c.aspect = LV_ASPECT_PAD;
    lv_vision_geometry(&g, &c, 640, 480);
    ck_assert(g.n_views == 1 && g.n_tokens == 730);
    c.merge = LV_MERGE_FLAT;
    lv_vision_geometry(&g, &c, 640, 480);
    ck_assert(g.n_views == 1 && g.n_tokens == 729);
}
END_TEST

/* ---- failures ---------------------------------------------------------------------------- */

static void expect_fail(lv_status s, lv_status want, const char *frag1, const char *frag2)
{
    ck_assert_msg(s == want, "status %s, want %s (%s)", lv_status_name(s), lv_status_name(want),
                  lv_last_error());
    ck_assert_msg(strstr(lv_last_error(), frag1), "'%s' lacks '%s'", lv_last_error(), frag1);
    if (frag2)
        ck_assert_msg(strstr(lv_last_error(), frag2), "'%s' lacks '%s'", lv_last_error(), frag2);
    ck_assert(!strchr(lv_last_error(), '\n'));
}

static char *read_rel(const char *rel, size_t *n)
{
    char *d = lv_test_read_file(lv_test_path(rel), n);
    ck_assert_msg(d != NULL, "cannot read %s", rel);
    return d;
}

START_TEST(decode_failures)
{
    lv_image img;
    size_t n;
    char *png = read_rel(VDIR "decode/rgb8.png", &n);
    for (size_t cut = 0; cut < n; cut += n / 7 + 1) {   /* truncations everywhere */
        lv_status s = lv_image_decode(&img, png, cut, "cut.png");
        ck_assert(img.rgb == NULL);
        ck_assert(s == LV_ERR_IMAGE || (cut < 8 && s == LV_ERR_UNSUPPORTED));
        ck_assert(strstr(lv_last_error(), "cut.png"));
    }
    expect_fail(lv_image_decode(&img, png, n - 20, "t.png"), LV_ERR_IMAGE, "t.png", "PNG");
    ck_assert_int_eq(lv_image_decode(&img, png, n - 12, "no-iend.png"), LV_OK);   /* as PIL */
    lv_image_free(&img);
    png[60] ^= 0x55;   /* inside IDAT: CRC mismatch */
    expect_fail(lv_image_decode(&img, png, n, "crc.png"), LV_ERR_IMAGE, "crc.png", "PNG");
    free(png);

    char *jpg = read_rel(VDIR "decode/progressive.jpg", &n);
    expect_fail(lv_image_decode(&img, jpg, n * 2 / 3, "t.jpg"), LV_ERR_IMAGE, "t.jpg", "JPEG");
    free(jpg);
    jpg = read_rel(VDIR "decode/baseline.jpg", &n);
    expect_fail(lv_image_decode(&img, jpg, n / 2, "b.jpg"), LV_ERR_IMAGE, "b.jpg", "JPEG");
    expect_fail(lv_image_decode(&img, jpg, 40, "h.jpg"), LV_ERR_IMAGE, "h.jpg", "JPEG");
    memset(jpg + 3, 0x13, 40);   /* garbage after SOI */
    expect_fail(lv_image_decode(&img, jpg, n, "g.jpg"), LV_ERR_IMAGE, "g.jpg", "JPEG");
    free(jpg);

    static const char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    expect_fail(lv_image_decode(&img, gif, sizeof gif - 1, "x.gif"), LV_ERR_UNSUPPORTED,
                "x.gif", "unsupported image format");
    expect_fail(lv_image_decode(&img, "", 0, "e.png"), LV_ERR_UNSUPPORTED, "e.png", "unsupported");
    expect_fail(lv_image_decode(&img, "hello world", 11, "t.png"), LV_ERR_UNSUPPORTED, "t.png",
                "unsupported");
    expect_fail(lv_image_load(&img, lv_test_path(VDIR "huge.png")), LV_ERR_IO, "huge.png", NULL);
    expect_fail(lv_image_load(&img, lv_test_path(VDIR "decode/huge.png")), LV_ERR_LIMIT,
                "huge.png", "20000x20000");
    expect_fail(lv_image_load(&img, lv_test_path(VDIR "decode/huge.jpg")), LV_ERR_LIMIT,
                "huge.jpg", "60000x60000");
    ck_assert(img.rgb == NULL && img.width == 0);
}
END_TEST

START_TEST(decode_base64)
{
    size_t n;
    char *png = read_rel(VDIR "decode/palette8.png", &n);
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *b = malloc(n * 2 + 64), *o = b + sprintf(b, "data:image/png;base64,");
    for (size_t i = 0; i < n; i += 3) {   /* encode with a line break every 76 characters */
        unsigned v = (unsigned char)png[i] << 16;
        if (i + 1 < n) v |= (unsigned char)png[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)png[i + 2];
        for (int k = 0; k < 4; k++)
            *o++ = (size_t)k <= n - i ? tab[(v >> (18 - 6 * k)) & 63] : '=';
        if (i % 57 == 54) *o++ = '\n';
    }
    lv_image a, m;
    load_ok(&a, VDIR "decode/palette8.png");
    ck_assert_int_eq(lv_image_decode_base64(&m, b, (size_t)(o - b), "b64"), LV_OK);
    ck_assert(m.width == a.width && !memcmp(m.rgb, a.rgb, (size_t)a.width * a.height * 3));
    lv_image_free(&m);
    b[40] = '*';
    expect_fail(lv_image_decode_base64(&m, b, (size_t)(o - b), "bad"), LV_ERR_IMAGE, "bad",
                "base64");
    lv_image_free(&a);
    free(b);
    free(png);
}
END_TEST

START_TEST(resize_identity_and_args)
{
    lv_image src, out;
    load_ok(&src, VDIR "resize_a.png");
    ck_assert_int_eq(lv_image_resize(&out, &src, src.width, src.height), LV_OK);
    ck_assert(!memcmp(out.rgb, src.rgb, (size_t)src.width * src.height * 3));
    lv_image_free(&out);
    ck_assert_int_eq(lv_image_resize(&out, &src, 0, 5), LV_ERR_ARG);
    lv_image_free(&src);
}
END_TEST

/* ---- merge (spec §4.3) against a naive restatement ------------------------------------------ */

/* Feature k of token t of view v: a distinct value per element. */
static float feat(int v, int t, int k) { return (float)(v * 100000 + t * 10 + k) * 1e-3f; }

static void naive_merge(float *out, const float *Z, const float *nl, int D,
                        const lv_view_geometry *g)
{
    int gp = g->patch_grid, P = gp * gp, Hc = gp * g->grid_h, Wc = gp * g->grid_w;
    float *T = malloc(sizeof *T * (size_t)Hc * Wc * D);   /* [Hc, Wc, D] stitched */
    for (int y = 0; y < Hc; y++)
        for (int x = 0; x < Wc; x++) {
            int v = 1 + (y / gp) * g->grid_w + x / gp, t = (y % gp) * gp + x % gp;
            memcpy(T + ((size_t)y * Wc + x) * D, Z + ((size_t)v * P + t) * D, sizeof *T * D);
        }
    memcpy(out, Z, sizeof *out * (size_t)P * D);
    float *o = out + (size_t)P * D;
    int h = g->unpad_h, w = g->unpad_w, mh = g->merged_h, mw = g->merged_w;
    for (int y = 0; y < mh; y++) {
        for (int x = 0; x < mw; x++, o += D) {
            float sy = (float)h / mh * (y + 0.5f) - 0.5f, sx = (float)w / mw * (x + 0.5f) - 0.5f;
            if (sy < 0) sy = 0;
            if (sx < 0) sx = 0;
            int y0 = (int)sy, x0 = (int)sx, y1 = y0 + (y0 < h - 1), x1 = x0 + (x0 < w - 1);
            float ly = sy - y0, lx = sx - x0;
            for (int k = 0; k < D; k++) {
#define TT(yy, xx) T[((size_t)(g->unpad_r0 + (yy)) * Wc + g->unpad_c0 + (xx)) * D + k]
                o[k] = (1 - ly) * ((1 - lx) * TT(y0, x0) + lx * TT(y0, x1)) +
                       ly * ((1 - lx) * TT(y1, x0) + lx * TT(y1, x1));
#undef TT
            }
        }
        memcpy(o, nl, sizeof *o * D);
        o += D;
    }
    free(T);
}

START_TEST(merge_matches_naive)
{
    static const int sizes[][2] = {{640, 480}, {480, 640}, {1024, 768}, {384, 384},
                                   {1920, 1080}, {853, 1280}, {300, 1200}};
    lv_config c;
    test_config(&c, 384, 14, 6, LV_ASPECT_ANYRES);
    const int D = 3;
    float nl[3] = {-1, -2, -3};
    for (int i = 0; i < 7; i++) {
        lv_view_geometry g;
        ck_assert_int_eq(lv_vision_geometry(&g, &c, sizes[i][0], sizes[i][1]), LV_OK);
        int P = g.patch_grid * g.patch_grid;
        float *Z = malloc(sizeof *Z * (size_t)g.n_views * P * D);
        for (int v = 0; v < g.n_views; v++)
            for (int t = 0; t < P; t++)
                for (int k = 0; k < D; k++) Z[((size_t)v * P + t) * D + k] = feat(v, t, k);
        size_t n = (size_t)g.n_tokens * D;
        float *got = malloc(sizeof *got * n), *want = malloc(sizeof *want * n);
        ck_assert_int_eq(lv_vision_merge(got, Z, nl, D, &g), LV_OK);
        naive_merge(want, Z, nl, D, &g);
        ck_assert(lv_test_close("merge", got, want, n, 0, 0));
        /* flat: every view in order */
        lv_view_geometry gf;
        c.merge = LV_MERGE_FLAT;
        lv_vision_geometry(&gf, &c, sizes[i][0], sizes[i][1]);
        c.merge = LV_MERGE_SPATIAL_UNPAD;
        ck_assert_int_eq(gf.n_tokens, g.n_views * P);
        float *flat = malloc(sizeof *flat * (size_t)gf.n_tokens * D);
        ck_assert_int_eq(lv_vision_merge(flat, Z, nl, D, &gf), LV_OK);
        ck_assert(!memcmp(flat, Z, sizeof *flat * (size_t)gf.n_tokens * D));
        free(flat);
        /* pad + spatial_unpad: the single view, then one newline */
        lv_view_geometry gp;
        c.aspect = LV_ASPECT_PAD;
        lv_vision_geometry(&gp, &c, sizes[i][0], sizes[i][1]);
        c.aspect = LV_ASPECT_ANYRES;
        ck_assert_int_eq(gp.n_tokens, P + 1);
        ck_assert_int_eq(lv_vision_merge(got, Z, nl, D, &gp), LV_OK);
        ck_assert(!memcmp(got, Z, sizeof *got * (size_t)P * D));
        ck_assert(!memcmp(got + (size_t)P * D, nl, sizeof nl));
        free(Z), free(got), free(want);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vision");
    TCase *tc = tcase_create("image");
    tcase_add_test(tc, decode_matches_pil);
    tcase_add_test(tc, decode_failures);
    tcase_add_test(tc, decode_base64);
    tcase_add_test(tc, resize_matches_pil);
    tcase_add_test(tc, resize_identity_and_args);
    tcase_add_test(tc, views_match_pil);
    tcase_add_test(tc, anyres_geometry_spec_table);
    tcase_add_test(tc, merge_matches_naive);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
