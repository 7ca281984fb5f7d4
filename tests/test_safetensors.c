/* test_safetensors.c - the safetensors reader, writer and dtype conversions.
 *
 * Round trips through the writer (single file, sharded set with an index written here, a
 * 0-tensor file), lookups, exact bf16/f16 conversions (checked against the compiler's
 * _Float16 when it has one), and a table of malformed files built byte by byte in a temp dir,
 * each asserting the status and the specific part of lv_last_error().
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* A raw safetensors file: 8-byte LE length (hlen, or strlen(header) when hlen < 0), header,
 * then ndata bytes of data (a counting pattern). */
static void write_raw(const char *path, const char *header, long long hlen, size_t ndata)
{
    size_t n = strlen(header);
    unsigned long long len = hlen < 0 ? n : (unsigned long long)hlen;
    unsigned char *buf = malloc(8 + n + ndata + 1);
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8, header, n);
    for (size_t i = 0; i < ndata; i++) buf[8 + n + i] = (unsigned char)i;
    lv_test_write_file(path, buf, 8 + n + ndata);
    free(buf);
}

static void assert_fails(const char *path, lv_status want, const char *frag1, const char *frag2)
{
    lv_weights *w = (lv_weights *)1;
    lv_status s = lv_weights_open(&w, path);
    const char *e = lv_last_error();
    if (s != want || !strstr(e, frag1) || (frag2 && !strstr(e, frag2)))
        ck_abort_msg("%s: got %s '%s', want %s with '%s' and '%s'", path, lv_status_name(s), e,
                     lv_status_name(want), frag1, frag2 ? frag2 : "");
    ck_assert_ptr_null(w);
}

static lv_tensor mk(const char *name, lv_dtype dt, int ndim, int64_t d0, int64_t d1,
                    const void *data)
{
    lv_tensor t = {0};
    t.name = name;
    t.dtype = dt;
    t.ndim = ndim;
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.numel = ndim == 0 ? 1 : ndim == 1 ? d0 : d0 * d1;
    t.data = data;
    return t;
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- writer round trips ---------------------------------------------------------------- */

START_TEST(test_roundtrip_single)
{
    const char *dir = lv_test_tmpdir(), *path = lv_test_join(dir, "rt.safetensors");
    float f32[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.0f, 1e-30f};
    uint16_t bf[4] = {0x3f80, 0xc000, 0x7f80, 0x0001};
    uint16_t h[3] = {0x3c00, 0x8001, 0x7bff};
    int32_t ids[5] = {-200, 0, 7, 126336, -1};
    lv_st_writer *w = NULL;
    ck_assert_int_eq(lv_st_writer_init(&w), LV_OK);
    int64_t s23[2] = {2, 3}, s4[1] = {4}, s3[1] = {3}, s5[1] = {5};
    ck_assert_int_eq(lv_st_writer_add(w, "w.f32", LV_DTYPE_F32, 2, s23), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "a.bf16", LV_DTYPE_BF16, 1, s4), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "q\"uote\\d \xc3\xa9", LV_DTYPE_F16, 1, s3), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "ids", LV_DTYPE_I32, 1, s5), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "ids", LV_DTYPE_I32, 1, s5), LV_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "declared twice"));
    ck_assert_int_eq(lv_st_writer_set_metadata(w, "format", "pt"), LV_OK);
    ck_assert_int_eq(lv_st_writer_set_metadata(w, "args", "--seed 1 \"x\"\n"), LV_OK);
    ck_assert_uint_eq(lv_st_writer_data_bytes(w), 24 + 8 + 6 + 20);
    ck_assert_int_eq(lv_st_writer_begin(w, path), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "late", LV_DTYPE_F32, 1, s5), LV_ERR_ARG);
    /* stream in odd chunks that straddle tensor boundaries */
    unsigned char all[58];
    memcpy(all, f32, 24);
    memcpy(all + 24, bf, 8);
    memcpy(all + 32, h, 6);
    memcpy(all + 38, ids, 20);
    for (size_t off = 0; off < sizeof all; off += 7) {
        size_t n = sizeof all - off < 7 ? sizeof all - off : 7;
        ck_assert_int_eq(lv_st_writer_write(w, all + off, n), LV_OK);
    }
    ck_assert_int_eq(lv_st_writer_write(w, all, 1), LV_ERR_ARG);
    ck_assert_int_eq(lv_st_writer_finish(w), LV_OK);
    lv_st_writer_free(w);

    size_t n = 0;
    char *raw = lv_test_read_file(path, &n);
    ck_assert_ptr_nonnull(raw);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (unsigned char)raw[i];
    ck_assert_uint_eq(hlen % 8, 0);
    ck_assert_uint_eq(8 + hlen + 58, n);
    free(raw);
    struct stat st;
    ck_assert_int_ne(stat(lv_test_join(dir, "rt.safetensors.tmp"), &st), 0);

    lv_weights *wt = NULL;
    ck_assert_int_eq(lv_weights_open(&wt, path), LV_OK);
    ck_assert_int_eq(lv_weights_count(wt), 4);
    ck_assert_int_eq(lv_weights_n_files(wt), 1);
    ck_assert_str_eq(lv_weights_file_path(wt, 0), path);
    ck_assert_uint_eq(lv_weights_mapped_bytes(wt), n);
    ck_assert_str_eq(lv_weights_metadata(wt, "format"), "pt");
    ck_assert_str_eq(lv_weights_metadata(wt, "args"), "--seed 1 \"x\"\n");
    ck_assert_ptr_null(lv_weights_metadata(wt, "nope"));
    /* sorted by name */
    for (int i = 1; i < 4; i++)
        ck_assert_int_lt(strcmp(lv_weights_at(wt, i - 1)->name, lv_weights_at(wt, i)->name), 0);
    ck_assert_ptr_null(lv_weights_at(wt, 4));
    const lv_tensor *t = lv_weights_get(wt, "w.f32");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, LV_DTYPE_F32);
    ck_assert_int_eq(t->ndim, 2);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[1], 3);
    ck_assert_int_eq(t->numel, 6);
    ck_assert_uint_eq(t->nbytes, 24);
    ck_assert_int_eq(memcmp(t->data, f32, 24), 0);
    float got[6];
    lv_tensor_to_f32(got, t, 1, 4);
    ck_assert_int_eq(memcmp(got, f32 + 1, 16), 0);
    t = lv_weights_get(wt, "a.bf16");
    ck_assert_int_eq(memcmp(t->data, bf, 8), 0);
    lv_tensor_to_f32(got, t, 0, 4);
    ck_assert(got[0] == 1.0f && got[1] == -2.0f && isinf(got[2]));
    ck_assert_uint_eq(f2u(got[3]), 0x00010000u);
    t = lv_weights_get(wt, "q\"uote\\d \xc3\xa9");
    ck_assert_ptr_nonnull(t);
    lv_tensor_to_f32(got, t, 0, 3);
    ck_assert(got[0] == 1.0f && got[1] == -0x1p-24f && got[2] == 65504.0f);
    t = lv_weights_get(wt, "ids");
    ck_assert_int_eq(t->dtype, LV_DTYPE_I32);
    lv_tensor_to_f32(got, t, 0, 5);
    ck_assert(got[0] == -200.0f && got[3] == 126336.0f && got[4] == -1.0f);
    ck_assert_ptr_null(lv_weights_get(wt, "w.f3"));
    ck_assert_ptr_null(lv_weights_get(wt, ""));
    lv_weights_free(wt);
    lv_weights_free(NULL);
}
END_TEST

START_TEST(test_writer_incomplete_leaves_nothing)
{
    const char *dir = lv_test_tmpdir(), *path = lv_test_join(dir, "partial.safetensors");
    lv_st_writer *w = NULL;
    int64_t s[1] = {4};
    ck_assert_int_eq(lv_st_writer_init(&w), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "x", LV_DTYPE_F32, 1, s), LV_OK);
    ck_assert_int_eq(lv_st_writer_write(w, s, 1), LV_ERR_ARG); /* before begin */
    ck_assert_int_eq(lv_st_writer_begin(w, path), LV_OK);
    float x[2] = {1, 2};
    ck_assert_int_eq(lv_st_writer_write(w, x, sizeof x), LV_OK);
    ck_assert_int_eq(lv_st_writer_finish(w), LV_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "8 of 16 declared data bytes"));
    lv_st_writer_free(w);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_ne(stat(lv_test_join(dir, "partial.safetensors.tmp"), &st), 0);
    /* writing into a missing directory is an I/O error */
    lv_tensor t = mk("x", LV_DTYPE_F32, 1, 2, 0, x);
    ck_assert_int_eq(lv_st_save(lv_test_join(dir, "no/such/dir.safetensors"), &t, 1), LV_ERR_IO);
}
END_TEST

START_TEST(test_writer_argument_errors)
{
    lv_st_writer *w = NULL;
    int64_t ok[1] = {2}, neg[1] = {-1}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(lv_st_writer_init(&w), LV_OK);
    ck_assert_int_eq(lv_st_writer_add(w, "__metadata__", LV_DTYPE_F32, 1, ok), LV_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "invalid tensor name '__metadata__'"));
    ck_assert_int_eq(lv_st_writer_add(w, "", LV_DTYPE_F32, 1, ok), LV_ERR_ARG);
    ck_assert_int_eq(lv_st_writer_add(w, "x", LV_DTYPE_F32, 9, nine), LV_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "tensor 'x': bad dtype or ndim 9"));
    ck_assert_int_eq(lv_st_writer_add(w, "x", LV_DTYPE_COUNT, 1, ok), LV_ERR_ARG);
    ck_assert_int_eq(lv_st_writer_add(w, "x", LV_DTYPE_F32, 1, neg), LV_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "tensor 'x': bad dim -1"));
    int64_t huge[2] = {INT64_C(1) << 40, INT64_C(1) << 40};
    ck_assert_int_eq(lv_st_writer_add(w, "x", LV_DTYPE_F32, 2, huge), LV_ERR_ARG);
    ck_assert_int_eq(lv_st_writer_finish(w), LV_ERR_ARG);
    /* metadata: the last value of a key wins; none after begin */
    ck_assert_int_eq(lv_st_writer_set_metadata(w, "k", "1"), LV_OK);
    ck_assert_int_eq(lv_st_writer_set_metadata(w, "k", "2"), LV_OK);
    const char *path = lv_test_join(lv_test_tmpdir(), "meta.safetensors");
    ck_assert_int_eq(lv_st_writer_begin(w, path), LV_OK);
    ck_assert_int_eq(lv_st_writer_begin(w, path), LV_ERR_ARG);
    ck_assert_int_eq(lv_st_writer_set_metadata(w, "k", "3"), LV_ERR_ARG);
    ck_assert_int_eq(lv_st_writer_finish(w), LV_OK);
    lv_st_writer_free(w);
    lv_weights *wt = NULL;
    ck_assert_int_eq(lv_weights_open(&wt, path), LV_OK);
    ck_assert_str_eq(lv_weights_metadata(wt, "k"), "2");
    ck_assert_int_eq(lv_weights_count(wt), 0);
    lv_weights_free(wt);
}
END_TEST

START_TEST(test_zero_tensors_and_empty_tensor)
{
    const char *dir = lv_test_tmpdir(), *path = lv_test_join(dir, "empty.safetensors");
    ck_assert_int_eq(lv_st_save(path, NULL, 0), LV_OK);
    lv_weights *w = NULL;
    ck_assert_int_eq(lv_weights_open(&w, path), LV_OK);
    ck_assert_int_eq(lv_weights_count(w), 0);
    ck_assert_ptr_null(lv_weights_get(w, "x"));
    ck_assert_ptr_null(lv_weights_at(w, 0));
    lv_weights_free(w);
    /* a hand-written {} header, and zero-size tensors sharing an offset with a real one */
    path = lv_test_join(dir, "zero.safetensors");
    write_raw(path, "{}", -1, 0);
    ck_assert_int_eq(lv_weights_open(&w, path), LV_OK);
    ck_assert_int_eq(lv_weights_count(w), 0);
    lv_weights_free(w);
    path = lv_test_join(dir, "zsize.safetensors");
    write_raw(path,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
              "\"c\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[2,2]},"
              "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}   ",
              -1, 8);
    ck_assert_int_eq(lv_weights_open(&w, path), LV_OK);
    ck_assert_int_eq(lv_weights_count(w), 4);
    ck_assert_int_eq(lv_weights_get(w, "a")->numel, 0);
    ck_assert_int_eq(lv_weights_get(w, "s")->ndim, 0);
    ck_assert_int_eq(lv_weights_get(w, "s")->numel, 1);
    lv_weights_free(w);
}
END_TEST

START_TEST(test_many_tensors_lookup)
{
    const char *dir = lv_test_tmpdir(), *path = lv_test_join(dir, "many.safetensors");
    enum { N = 700 };
    static char names[N][48];
    static lv_tensor ts[N];
    static float vals[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "model.layers.%d.self_attn.q_proj.weight", (i * 37) % N);
        vals[i] = (float)((i * 37) % N);
        ts[i] = mk(names[i], LV_DTYPE_F32, 1, 1, 0, &vals[i]);
    }
    ck_assert_int_eq(lv_st_save(path, ts, N), LV_OK);
    lv_weights *w = NULL;
    ck_assert_int_eq(lv_weights_open(&w, path), LV_OK);
    ck_assert_int_eq(lv_weights_count(w), N);
    for (int l = 0; l < N; l++) {
        char name[64];
        snprintf(name, sizeof name, "model.layers.%d.self_attn.q_proj.weight", l);
        const lv_tensor *t = lv_weights_get(w, name);
        ck_assert_ptr_nonnull(t);
        float v;
        lv_tensor_to_f32(&v, t, 0, 1);
        ck_assert(v == (float)l);
    }
    ck_assert_ptr_null(lv_weights_get(w, "model.layers.700.self_attn.q_proj.weight"));
    lv_weights_free(w);
}
END_TEST

/* Shards a = {x, y}, b = {z}; the index is written by hand. */
static const char *make_shards(const char *sub)
{
    const char *dir = lv_test_join(lv_test_tmpdir(), sub);
    mkdir(dir, 0755);
    float x[3] = {1, 2, 3}, y[2] = {4, 5}, z[4] = {6, 7, 8, 9};
    lv_tensor a[2] = {mk("x", LV_DTYPE_F32, 1, 3, 0, x), mk("y", LV_DTYPE_F32, 2, 1, 2, y)};
    lv_tensor b[1] = {mk("z", LV_DTYPE_F32, 2, 2, 2, z)};
    ck_assert_int_eq(lv_st_save(lv_test_join(dir, "model-00001-of-00002.safetensors"), a, 2),
                     LV_OK);
    ck_assert_int_eq(lv_st_save(lv_test_join(dir, "model-00002-of-00002.safetensors"), b, 1),
                     LV_OK);
    return dir;
}

static void write_index(const char *dir, const char *json)
{
    lv_test_write_file(lv_test_join(dir, "model.safetensors.index.json"), json, strlen(json));
}

#define GOOD_INDEX                                                                           \
    "{\"metadata\": {\"total_size\": 36}, \"weight_map\": {"                                \
    "\"z\": \"model-00002-of-00002.safetensors\", \"x\": \"model-00001-of-00002.safetensors\"," \
    " \"y\": \"model-00001-of-00002.safetensors\"}}"

START_TEST(test_sharded_roundtrip)
{
    const char *dir = make_shards("sharded");
    write_index(dir, GOOD_INDEX);
    const char *paths[2] = {dir, lv_test_join(dir, "model.safetensors.index.json")};
    for (int k = 0; k < 2; k++) {
        lv_weights *w = NULL;
        ck_assert_int_eq(lv_weights_open(&w, paths[k]), LV_OK);
        ck_assert_int_eq(lv_weights_count(w), 3);
        ck_assert_int_eq(lv_weights_n_files(w), 2);
        ck_assert_ptr_nonnull(strstr(lv_weights_file_path(w, 0), "model-00001-of-00002"));
        ck_assert_ptr_nonnull(strstr(lv_weights_file_path(w, 1), "model-00002-of-00002"));
        const lv_tensor *z = lv_weights_get(w, "z");
        ck_assert_int_eq(z->file, 1);
        ck_assert_int_eq(lv_weights_get(w, "y")->file, 0);
        float v[4];
        lv_tensor_to_f32(v, z, 0, 4);
        ck_assert(v[0] == 6 && v[3] == 9);
        ck_assert_str_eq(lv_weights_at(w, 0)->name, "x");
        ck_assert_str_eq(lv_weights_at(w, 2)->name, "z");
        lv_weights_free(w);
    }
    /* a directory with model.safetensors prefers the single file */
    float one = 1;
    lv_tensor t = mk("solo", LV_DTYPE_F32, 1, 1, 0, &one);
    ck_assert_int_eq(lv_st_save(lv_test_join(dir, "model.safetensors"), &t, 1), LV_OK);
    lv_weights *w = NULL;
    ck_assert_int_eq(lv_weights_open(&w, dir), LV_OK);
    ck_assert_int_eq(lv_weights_count(w), 1);
    ck_assert_ptr_nonnull(lv_weights_get(w, "solo"));
    lv_weights_free(w);
}
END_TEST

/* ---- conversions ----------------------------------------------------------------------- */

START_TEST(test_bf16_conversions)
{
    /* plain ifs in the exhaustive loops: every ck_assert is a message to the parent process */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lv_bf16_to_f32((uint16_t)h);
        uint16_t back = lv_f32_to_bf16(f);
        int ok = f2u(f) == h << 16 &&
                 (isnan(f) ? (back & 0x7fc0) == 0x7fc0 && (back & 0x8000) == (h & 0x8000)
                           : back == h);
        if (!ok) ck_abort_msg("bf16 %04x -> %08x -> %04x", h, f2u(f), back);
    }
    /* ties to even, carries, overflow, NaN stays NaN (never inf) */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x3f808000)), 0x3f80); /* 1 + 2^-8: tie, even down */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x3f818000)), 0x3f82); /* tie, odd rounds up */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x3f808001)), 0x3f81); /* above the tie */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x3f807fff)), 0x3f80);
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x7f7fffff)), 0x7f80); /* FLT_MAX -> inf */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x00008000)), 0x0000); /* subnormal tie -> 0 */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x00018000)), 0x0002);
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x807fffff)), 0x8080); /* -max subnormal -> -min normal */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x7f800001)), 0x7fc0); /* sNaN: quiet, not inf */
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0xffc00000)), 0xffc0);
    ck_assert_uint_eq(lv_f32_to_bf16(u2f(0x7fffffff)), 0x7fff);
    ck_assert_uint_eq(lv_f32_to_bf16(-INFINITY), 0xff80);
}
END_TEST

#if defined(__FLT16_MAX__)
__extension__ typedef _Float16 lv_half;
static uint16_t half_bits(float f)
{
    lv_half h = (lv_half)f;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}
#endif

START_TEST(test_f16_conversions)
{
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lv_f16_to_f32((uint16_t)h);
        int e = (h >> 10) & 31, m = h & 1023;
        double want = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY)
                                                        : ldexp(1024 + m, e - 25);
        if (h & 0x8000) want = -want;
        uint16_t back = lv_f32_to_f16(f);
        int ok = e == 31 && m ? isnan(f) && f2u(f) >> 31 == h >> 15 && (back & 0x7e00) == 0x7e00
                              : (double)f == want && !!signbit(f) == !!signbit(want) && back == h;
        if (!ok) ck_abort_msg("f16 %04x -> %a -> %04x", h, (double)f, back);
    }
    ck_assert(lv_f16_to_f32(0x0001) == 0x1p-24f);
    ck_assert(lv_f16_to_f32(0x03ff) == 1023 * 0x1p-24f);
    ck_assert(lv_f16_to_f32(0x7bff) == 65504.0f);
    ck_assert(signbit(lv_f16_to_f32(0x8000)));
    /* narrowing: ties to even in the normal and subnormal ranges, overflow, underflow */
    ck_assert_uint_eq(lv_f32_to_f16(65519.0f), 0x7bff);
    ck_assert_uint_eq(lv_f32_to_f16(65520.0f), 0x7c00); /* tie between 65504 and 65536 -> inf */
    ck_assert_uint_eq(lv_f32_to_f16(1e10f), 0x7c00);
    ck_assert_uint_eq(lv_f32_to_f16(-INFINITY), 0xfc00);
    ck_assert_uint_eq(lv_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
    ck_assert_uint_eq(lv_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
    ck_assert_uint_eq(lv_f32_to_f16(0x1p-25f), 0x0000);             /* half the smallest */
    ck_assert_uint_eq(lv_f32_to_f16(0x1.000002p-25f), 0x0001);
    ck_assert_uint_eq(lv_f32_to_f16(3 * 0x1p-25f), 0x0002);         /* 1.5 units: to even */
    ck_assert_uint_eq(lv_f32_to_f16(5 * 0x1p-25f), 0x0002);         /* 2.5 units: to even */
    ck_assert_uint_eq(lv_f32_to_f16(1023.5f * 0x1p-24f), 0x0400);   /* into the normals */
    ck_assert_uint_eq(lv_f32_to_f16(-1e-30f), 0x8000);
    ck_assert_uint_eq(lv_f32_to_f16(u2f(0x7f800001)) & 0x7e00, 0x7e00); /* sNaN -> qNaN */
#if defined(__FLT16_MAX__)
    /* the compiler's conversion (IEEE RNE) as an independent reference over f32 patterns:
     * the whole f16 range densely, the rest sparsely */
    for (uint64_t u = 0; u < 0x7f800000u; u += u >= 0x32000000u && u < 0x48000000u ? 61 : 4099)
        for (uint32_t sign = 0; sign < 2; sign++) {
            float f = u2f((uint32_t)u | sign << 31);
            if (lv_f32_to_f16(f) != half_bits(f))
                ck_abort_msg("f32 %a -> f16 %04x, compiler says %04x", (double)f,
                             lv_f32_to_f16(f), half_bits(f));
        }
#endif
}
END_TEST

START_TEST(test_dtype_table)
{
    ck_assert_str_eq(lv_dtype_name(LV_DTYPE_BF16), "BF16");
    ck_assert_str_eq(lv_dtype_name(LV_DTYPE_I32), "I32");
    ck_assert_uint_eq(lv_dtype_size(LV_DTYPE_F16), 2);
    ck_assert_uint_eq(lv_dtype_size(LV_DTYPE_F32), 4);
    ck_assert(lv_dtype_is_float(LV_DTYPE_F16) && !lv_dtype_is_float(LV_DTYPE_I32));
}
END_TEST

/* ---- malformed single files ------------------------------------------------------------- */

#define T1 "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

static const struct {
    const char *header;
    long long hlen;   /* -1: strlen(header) */
    size_t ndata;
    lv_status status;
    const char *frag1, *frag2;
} bad_files[] = {
    {"", -2, 0, LV_ERR_FORMAT, "0 bytes, too short", NULL},  /* -2: a 0-byte file */
    {"", -3, 0, LV_ERR_FORMAT, "5 bytes, too short", NULL},  /* -3: a 5-byte file */
    {"{}", 1000, 0, LV_ERR_FORMAT, "header length 1000 runs past the end", NULL},
    {"{}", 200ll << 20, 0, LV_ERR_FORMAT, "header length 209715200 runs past the end", NULL},
    {"{\"w\":", -1, 0, LV_ERR_FORMAT, "header is not valid JSON", NULL},
    {"[1, 2]", -1, 0, LV_ERR_FORMAT, "header is not a JSON object", NULL},
    {"{} {}", -1, 0, LV_ERR_FORMAT, "trailing bytes", NULL},
    {"", 0, 0, LV_ERR_FORMAT, "header is not a JSON object", NULL},
    {"{\"w\": 3}", -1, 0, LV_ERR_FORMAT, "tensor 'w': entry is not an object", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': missing shape", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': shape is not an array", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': shape[0] is not a non-negative integer", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,2.5],\"data_offsets\":[0,8]}}", -1, 8,
     LV_ERR_FORMAT, "tensor 'w': shape[1] is not", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': shape[0] is not", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", -1, 8,
     LV_ERR_FORMAT, "tensor 'w': 9 dims, at most 8", NULL},
    {"{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': missing dtype", NULL},
    {"{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': dtype is not a string", NULL},
    {"{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", -1, 2, LV_ERR_DTYPE,
     "tensor 'w': unsupported dtype F8_E4M3", NULL},
    {"{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", -1, 8, LV_ERR_DTYPE,
     "unsupported dtype F64", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': missing data_offsets", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': data_offsets is not a pair of non-negative integers", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': data_offsets is not a pair", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e300]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': data_offsets is not a pair", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': data_offsets [8, 0] begin after end", NULL},
    {"{\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[4096],\"data_offsets\":[0,8190]}}", -1,
     8190, LV_ERR_FORMAT,
     "tensor 'model.norm.weight': shape [4096] x BF16 needs 8192 bytes, data_offsets give 8190",
     NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", -1,
     8, LV_ERR_FORMAT, "tensor 'w': shape [4294967296, 4294967296, 4] x F32 is larger than the "
     "data section", NULL},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", -1, 8, LV_ERR_FORMAT,
     "tensor 'w': data_offsets [8, 16] outside the data section of 8 bytes", NULL},
    /* truncated: the header promises 16 data bytes, the file holds 12 */
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", -1, 12, LV_ERR_FORMAT,
     "tensor 'b': data_offsets [8, 16] outside the data section of 12 bytes", "truncated"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[6,10]}}", -1, 10, LV_ERR_FORMAT,
     "tensor 'b': bytes [6, 10) overlap tensor 'a'", NULL},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}", -1, 16, LV_ERR_FORMAT,
     "tensor 'b': bytes [4, 8) overlap tensor 'a'", NULL},
    {"{" T1 ",\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", -1, 12,
     LV_ERR_FORMAT, "tensor 'w': duplicate name in the header", NULL},
    {"{\"__metadata__\":[\"a\"]," T1 "}", -1, 8, LV_ERR_FORMAT,
     "__metadata__ is not an object of strings", NULL},
    {"{\"__metadata__\":{\"k\":1}," T1 "}", -1, 8, LV_ERR_FORMAT,
     "__metadata__ value of 'k' is not a string", NULL},
    {"{\"__metadata__\":{},\"__metadata__\":{}," T1 "}", -1, 8, LV_ERR_FORMAT,
     "duplicate __metadata__", NULL},
};

START_TEST(test_bad_file)
{
    char name[64];
    snprintf(name, sizeof name, "bad%02d.safetensors", _i);
    const char *path = lv_test_join(lv_test_tmpdir(), name);
    if (bad_files[_i].hlen == -2) lv_test_write_file(path, "", 0);
    else if (bad_files[_i].hlen == -3) lv_test_write_file(path, "\x02\0\0\0\0", 5);
    else write_raw(path, bad_files[_i].header, bad_files[_i].hlen, bad_files[_i].ndata);
    assert_fails(path, bad_files[_i].status, name, bad_files[_i].frag1);
    if (bad_files[_i].frag2) assert_fails(path, bad_files[_i].status, name, bad_files[_i].frag2);
}
END_TEST

START_TEST(test_bad_paths)
{
    const char *dir = lv_test_tmpdir();
    assert_fails(lv_test_join(dir, "missing.safetensors"), LV_ERR_IO, "missing.safetensors",
                 "cannot open");
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/emptydir", dir);
    mkdir(sub, 0755);
    assert_fails(sub, LV_ERR_IO, "emptydir", "neither model.safetensors nor");
}
END_TEST

/* ---- malformed sharded sets ------------------------------------------------------------- */

#define SH1 "\"model-00001-of-00002.safetensors\""
#define SH2 "\"model-00002-of-00002.safetensors\""

static const struct {
    const char *index;
    lv_status status;
    const char *frag1, *frag2;
} bad_indexes[] = {
    {"{\"weight_map\": {\"x\": " SH1 ",", LV_ERR_FORMAT, "model.safetensors.index.json",
     "not valid JSON"},
    {"{\"metadata\": {}}", LV_ERR_FORMAT, "model.safetensors.index.json", "no weight_map"},
    {"[1]", LV_ERR_FORMAT, "model.safetensors.index.json", "no weight_map"},
    {"{\"weight_map\": [" SH1 "]}", LV_ERR_FORMAT, "index.json", "weight_map is not an object"},
    {"{\"weight_map\": {\"x\": 1}}", LV_ERR_FORMAT, "index.json",
     "weight_map entry 'x' is not a string"},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": \"model-00003-of-00003."
     "safetensors\"}}", LV_ERR_IO, "shard 'model-00003-of-00003.safetensors' named in the index "
     "cannot be opened", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": " SH2 ", \"w\": " SH2 "}}",
     LV_ERR_FORMAT, "model-00002-of-00002.safetensors: tensor 'w' promised by the index is "
     "missing", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH2 ", \"z\": " SH2 "}}", LV_ERR_FORMAT,
     "model-00001-of-00002.safetensors: tensor 'y' is in this shard but the index maps it to "
     "model-00002-of-00002.safetensors", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"z\": " SH2 "}}", LV_ERR_FORMAT,
     "model-00001-of-00002.safetensors: tensor 'y' is not listed in the index", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": \"../sharded/model-00002-of-"
     "00002.safetensors\"}}", LV_ERR_FORMAT, "tensor 'z': shard name '../sharded/", "not a plain "
     "file name"},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": \"..\"}}", LV_ERR_FORMAT,
     "tensor 'z': shard name '..' is not a plain file name", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": \"/etc/passwd\"}}", LV_ERR_FORMAT,
     "shard name '/etc/passwd' is not a plain file name", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": " SH2 ", \"x\": " SH1 "}}",
     LV_ERR_FORMAT, "tensor 'x' listed twice in weight_map", NULL},
    {"{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z\": \"\"}}", LV_ERR_FORMAT,
     "shard name '' is not a plain file name", NULL},
};

START_TEST(test_bad_index)
{
    char sub[32];
    snprintf(sub, sizeof sub, "badidx%02d", _i);
    const char *dir = make_shards(sub);
    write_index(dir, bad_indexes[_i].index);
    assert_fails(dir, bad_indexes[_i].status, bad_indexes[_i].frag1, bad_indexes[_i].frag2);
}
END_TEST

/* A tensor present in two shards: the index can map it to only one, so the other shard is
 * caught holding a tensor mapped elsewhere. A bad shard reports its own file name. */
START_TEST(test_bad_shard_contents)
{
    const char *dir = make_shards("dup");
    float v[2] = {1, 2};
    lv_tensor t[2] = {mk("x", LV_DTYPE_F32, 1, 2, 0, v), mk("z2", LV_DTYPE_F32, 1, 2, 0, v)};
    ck_assert_int_eq(lv_st_save(lv_test_join(dir, "model-00002-of-00002.safetensors"), t, 2),
                     LV_OK);
    write_index(dir, "{\"weight_map\": {\"x\": " SH1 ", \"y\": " SH1 ", \"z2\": " SH2 "}}");
    assert_fails(dir, LV_ERR_FORMAT, "model-00002-of-00002.safetensors: tensor 'x' is in this "
                 "shard but the index maps it to model-00001-of-00002.safetensors", NULL);
    write_raw(lv_test_join(dir, "model-00002-of-00002.safetensors"),
              "{\"z2\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[0,2]}}", -1, 2);
    assert_fails(dir, LV_ERR_DTYPE, "model-00002-of-00002.safetensors: tensor 'z2': unsupported "
                 "dtype F8_E5M2", NULL);
}
END_TEST

/* ---- the tiny fixtures of tests/fixtures/models (written by the PyTorch reference) ------ */

START_TEST(test_fixtures_open)
{
    const char *dirs[3] = {"tests/fixtures/models/tiny-f32", "tests/fixtures/models/tiny-olmo",
                           "tests/fixtures/models/tiny-bf16-sharded"};
    for (int i = 0; i < 3; i++) {
        struct stat st;
        if (stat(lv_test_path(dirs[i]), &st) != 0) continue; /* fixtures not generated yet */
        lv_weights *w = NULL;
        ck_assert_msg(lv_weights_open(&w, lv_test_path(dirs[i])) == LV_OK, "%s",
                      lv_last_error());
        ck_assert_int_gt(lv_weights_count(w), 10);
        lv_weights_free(w);
    }
}
END_TEST

static Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_roundtrip_single);
    tcase_add_test(tc, test_writer_incomplete_leaves_nothing);
    tcase_add_test(tc, test_writer_argument_errors);
    tcase_add_test(tc, test_zero_tensors_and_empty_tensor);
    tcase_add_test(tc, test_many_tensors_lookup);
    tcase_add_test(tc, test_sharded_roundtrip);
    tcase_add_test(tc, test_bf16_conversions);
    tcase_add_test(tc, test_f16_conversions);
    tcase_add_test(tc, test_dtype_table);
    tcase_add_loop_test(tc, test_bad_file, 0, (int)(sizeof bad_files / sizeof *bad_files));
    tcase_add_test(tc, test_bad_paths);
    tcase_add_loop_test(tc, test_bad_index, 0, (int)(sizeof bad_indexes / sizeof *bad_indexes));
    tcase_add_test(tc, test_bad_shard_contents);
    tcase_add_test(tc, test_fixtures_open);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lv_test_run(safetensors_suite());
}
