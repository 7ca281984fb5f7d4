/* test_kernels.c - every kernel against its naive `_ref` twin on seeded random inputs at odd
 * shapes (|a-b| <= atol + rtol·|ref|), the arena, and the counter-based RNG. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "testutil.h"

static uint64_t tk_state;

static float tk_randn(void)
{
    tk_state = tk_state * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((tk_state >> 11) + 1) * 0x1p-53;
    tk_state = tk_state * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = (tk_state >> 11) * 0x1p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

static float *tk_rand(size_t n, float scale)
{
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = tk_randn() * scale;
    return p;
}

/* An in-memory weight [N, K] of dtype dt holding src rounded to dt; data malloc'd in *buf. */
static lv_tensor tk_weight(const float *src, int N, int K, lv_dtype dt, void **buf)
{
    lv_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "w";
    t.dtype = dt;
    t.ndim = 2;
    t.shape[0] = N;
    t.shape[1] = K;
    t.numel = (int64_t)N * K;
    t.nbytes = (size_t)t.numel * lv_dtype_size(dt);
    *buf = malloc(t.nbytes);
    ck_assert_ptr_nonnull(*buf);
    for (int64_t i = 0; i < t.numel; i++) {
        if (dt == LV_DTYPE_F32) ((float *)*buf)[i] = src[i];
        else if (dt == LV_DTYPE_BF16) ((uint16_t *)*buf)[i] = lv_f32_to_bf16(src[i]);
        else ((uint16_t *)*buf)[i] = lv_f32_to_f16(src[i]);
    }
    t.data = *buf;
    return t;
}

static void tk_check_matmul(int M, int K, int N, lv_dtype dt, int with_bias, int acc)
{
    tk_state = (uint64_t)(M * 131 + K * 7 + N + dt);
    float *x = tk_rand((size_t)M * K, 1.0f), *wf = tk_rand((size_t)(N + 3) * K, 0.2f);
    float *b = with_bias ? tk_rand((size_t)N, 0.5f) : NULL;
    float *y = tk_rand((size_t)M * N, 1.0f), *yr = malloc((size_t)M * N * sizeof *yr);
    memcpy(yr, y, (size_t)M * N * sizeof *yr);
    void *buf;
    /* N + 3 rows: only the first N take part (V_eff < checkpoint rows). */
    lv_tensor W = tk_weight(wf, N + 3, K, dt, &buf);
    float *scratch = malloc(lv_matmul_scratch_floats(K) * sizeof *scratch);
    if (acc) lv_matmul_acc(y, x, &W, b, M, K, N, scratch);
    else lv_matmul(y, x, &W, b, M, K, N, scratch);
    lv_matmul_ref(yr, x, &W, b, M, K, N, acc);
    ck_assert(lv_test_close("matmul", y, yr, (size_t)M * N, 1e-5, 1e-4));
    free(x); free(wf); free(b); free(y); free(yr); free(buf); free(scratch);
}

START_TEST(test_matmul_shapes)
{
    static const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {5, 129, 65}, {2, 64, 300}};
    for (int s = 0; s < 5; s++)
        for (int dt = 0; dt < 3; dt++)
            for (int acc = 0; acc < 2; acc++)
                tk_check_matmul(shapes[s][0], shapes[s][1], shapes[s][2], (lv_dtype)dt, s & 1, acc);
}
END_TEST

/* K large enough that one conversion panel holds few rows: several panels per call. */
START_TEST(test_matmul_panels)
{
    tk_check_matmul(3, 300000, 9, LV_DTYPE_BF16, 1, 0);
}
END_TEST

/* The AVX512-BF16 path against the float64 reference on x rounded to bf16 (the only rounding
 * it adds); tails in K (masked loads), M and N (smaller tiles). Skipped without the CPU. */
START_TEST(test_matmul_bf16)
{
    if (!lv_bf16_gemm_available()) return;
    /* the last two have M >= 128: the packed-strip kernel (odd K, M and N tails) */
    static const int shapes[][3] = {{1, 1, 1},     {3, 5, 7},     {17, 33, 9}, {5, 129, 65},
                                    {9, 64, 300}, {130, 33, 70}, {256, 96, 64}};
    for (int s = 0; s < 7; s++)
        for (int acc = 0; acc < 2; acc++) {
            int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
            tk_state = (uint64_t)(M * 131 + K * 7 + N);
            float *x = tk_rand((size_t)M * K, 1.0f), *wf = tk_rand((size_t)(N + 3) * K, 0.2f);
            float *b = s & 1 ? tk_rand((size_t)N, 0.5f) : NULL, *xr = malloc((size_t)M * K * 4);
            float *y = tk_rand((size_t)M * N, 1.0f), *yr = malloc((size_t)M * N * sizeof *yr);
            memcpy(yr, y, (size_t)M * N * sizeof *yr);
            for (size_t i = 0; i < (size_t)M * K; i++) xr[i] = lv_bf16_to_f32(lv_f32_to_bf16(x[i]));
            void *buf;
            lv_tensor W = tk_weight(wf, N + 3, K, LV_DTYPE_BF16, &buf);
            ck_assert_int_eq(lv_matmul_bf16(y, x, &W, b, M, K, N, acc), 1);
            lv_matmul_ref(yr, xr, &W, b, M, K, N, acc);
            ck_assert(lv_test_close("matmul_bf16", y, yr, (size_t)M * N, 1e-5, 1e-4));
            free(x); free(wf); free(b); free(xr); free(y); free(yr); free(buf);
        }
}
END_TEST

/* Pool kernels give bit-identical results for 1, 2 and 3 threads (fixed task boundaries). */
START_TEST(test_thread_count_invariance)
{
    const int M = 137, K = 96, N = 300, T = 300, H = 3, HD = 32;   /* M >= 128: packed bf16 kernel */
    tk_state = 99;
    float *x = tk_rand((size_t)M * K, 1.0f), *wf = tk_rand((size_t)N * K, 0.2f);
    float *q = tk_rand((size_t)T * H * HD, 1.0f), *k = tk_rand((size_t)T * H * HD, 1.0f);
    float *v = tk_rand((size_t)T * H * HD, 1.0f);
    void *buf;
    lv_tensor W = tk_weight(wf, N, K, LV_DTYPE_BF16, &buf);
    float *y[3], *a[3];
    for (int t = 0; t < 3; t++) {
        lv_threads_set(t + 1);
        y[t] = malloc((size_t)M * N * sizeof(float) * 2);
        a[t] = malloc((size_t)T * H * HD * sizeof(float) * 2);
        lv_matmul(y[t], x, &W, NULL, M, K, N, NULL);
        lv_precision_set(LV_PRECISION_BF16);
        lv_matmul(y[t] + (size_t)M * N, x, &W, NULL, M, K, N, NULL);
        lv_attention(a[t] + (size_t)T * H * HD, q, k, v, T, H, HD, NULL);
        lv_precision_set(LV_PRECISION_F32);
        lv_attention(a[t], q, k, v, T, H, HD, NULL);
        if (t) {
            ck_assert_mem_eq(y[t], y[0], (size_t)M * N * sizeof(float) * 2);
            ck_assert_mem_eq(a[t], a[0], (size_t)T * H * HD * sizeof(float) * 2);
        }
    }
    lv_threads_set(0);
    for (int t = 0; t < 3; t++) {
        free(y[t]);
        free(a[t]);
    }
    free(x); free(wf); free(q); free(k); free(v); free(buf);
}
END_TEST

START_TEST(test_norms)
{
    static const int shapes[][2] = {{1, 1}, {3, 7}, {13, 64}, {5, 257}};
    for (int s = 0; s < 4; s++) {
        int T = shapes[s][0], D = shapes[s][1];
        tk_state = (uint64_t)s + 11;
        float *x = tk_rand((size_t)T * D, 3.0f), *w = tk_rand((size_t)D, 1.0f);
        float *b = tk_rand((size_t)D, 1.0f);
        float *o = malloc((size_t)T * D * sizeof *o), *r = malloc((size_t)T * D * sizeof *r);
        lv_rmsnorm(o, x, w, T, D, 1e-5f);
        lv_rmsnorm_ref(r, x, w, T, D, 1e-5f);
        ck_assert(lv_test_close("rmsnorm", o, r, (size_t)T * D, 1e-6, 1e-5));
        lv_layernorm(o, x, w, b, T, D, 1e-6f);
        lv_layernorm_ref(r, x, w, b, T, D, 1e-6f);
        ck_assert(lv_test_close("layernorm", o, r, (size_t)T * D, 1e-5, 1e-5));
        memcpy(o, x, (size_t)T * D * sizeof *o);
        lv_rmsnorm(o, o, w, T, D, 1e-5f);   /* in place */
        lv_rmsnorm_ref(r, x, w, T, D, 1e-5f);
        ck_assert(lv_test_close("rmsnorm in place", o, r, (size_t)T * D, 1e-6, 1e-5));
        free(x); free(w); free(b); free(o); free(r);
    }
}
END_TEST

START_TEST(test_rope)
{
    static const int shapes[][3] = {{1, 1, 2}, {7, 3, 8}, {37, 2, 16}, {300, 1, 128}};
    for (int s = 0; s < 4; s++) {
        int T = shapes[s][0], H = shapes[s][1], HD = shapes[s][2];
        tk_state = (uint64_t)s + 5;
        size_t n = (size_t)T * H * HD;
        float *x = tk_rand(n, 1.0f), *r = malloc(n * sizeof *r);
        float *c = malloc((size_t)T * HD / 2 * sizeof *c), *sn = malloc((size_t)T * HD / 2 * sizeof *sn);
        memcpy(r, x, n * sizeof *r);
        lv_rope_table(c, sn, T, HD, 500000.0);
        lv_rope(x, c, sn, T, H, HD);
        lv_rope_ref(r, T, H, HD, 500000.0);
        /* angle = p·inv_freq in float32: at p = 300 the float32 angle is off by ~1e-5 */
        ck_assert(lv_test_close("rope", x, r, n, 1e-4, 1e-4));
        free(x); free(r); free(c); free(sn);
    }
}
END_TEST

START_TEST(test_attention)
{
    /* 300: two query blocks; 600 x 3 heads: head groups of 2 and 1 */
    static const int shapes[][3] = {{1, 1, 4}, {5, 3, 8}, {33, 2, 16}, {300, 2, 8}, {600, 3, 8}};
    for (int s = 0; s < 5; s++) {
        int T = shapes[s][0], H = shapes[s][1], HD = shapes[s][2];
        tk_state = (uint64_t)s + 99;
        size_t n = (size_t)T * H * HD;
        float *q = tk_rand(n, 1.0f), *k = tk_rand(n, 1.0f), *v = tk_rand(n, 1.0f);
        float *o = malloc(n * sizeof *o), *r = malloc(n * sizeof *r);
        float *sc = malloc(lv_attention_scratch_floats(T) * sizeof *sc);
        lv_attention(o, q, k, v, T, H, HD, sc);
        lv_attention_ref(r, q, k, v, T, H, HD);
        ck_assert(lv_test_close("attention", o, r, n, 1e-5, 1e-4));
        /* the rectangular form on the last rows (a K/V cache's recomputed block): the same
         * rows of the full attention */
        int q0 = T / 3, nq = T - q0;
        size_t off = (size_t)q0 * H * HD;
        lv_attention_rect(o, q + off, nq, k, v, T, H, HD);
        ck_assert(lv_test_close("attention_rect", o, r + off, (size_t)nq * H * HD, 1e-5, 1e-4));
        free(q); free(k); free(v); free(o); free(r); free(sc);
    }
}
END_TEST

/* --precision bf16: q, k, the probabilities and v rounded to bf16 (8 significant bits), so
 * the output is close to the float64 reference on rounded q, k, v; odd HD and Tk exercise
 * the zero padding of the bf16 pairs and of the 32-column strips; rect = rows of the square. */
START_TEST(test_attention_bf16)
{
    if (!lv_bf16_gemm_available()) {
        fprintf(stderr, "SKIP test_attention_bf16: this CPU has no AVX512-BF16\n");
        return;
    }
    static const int shapes[][3] = {{1, 1, 4}, {5, 3, 7}, {33, 2, 16}, {300, 2, 72}, {601, 3, 128}};
    for (int s = 0; s < 5; s++) {
        int T = shapes[s][0], H = shapes[s][1], HD = shapes[s][2];
        tk_state = (uint64_t)s + 7;
        size_t n = (size_t)T * H * HD;
        float *q = tk_rand(n, 2.0f), *k = tk_rand(n, 2.0f), *v = tk_rand(n, 1.0f);
        float *o = malloc(n * sizeof *o), *r = malloc(n * sizeof *r), *o2 = malloc(n * sizeof *o2);
        /* the reference on bf16-rounded q, k, v: what is left is the probabilities' rounding
         * (2^-9 relative) and float32 sums */
        float *qr = malloc(n * sizeof *qr), *kr = malloc(n * sizeof *kr), *vr = malloc(n * sizeof *vr);
        for (size_t i = 0; i < n; i++) {
            qr[i] = lv_bf16_to_f32(lv_f32_to_bf16(q[i]));
            kr[i] = lv_bf16_to_f32(lv_f32_to_bf16(k[i]));
            vr[i] = lv_bf16_to_f32(lv_f32_to_bf16(v[i]));
        }
        lv_attention_ref(r, qr, kr, vr, T, H, HD);
        lv_precision_set(LV_PRECISION_BF16);
        lv_attention(o, q, k, v, T, H, HD, NULL);
        ck_assert(lv_test_close("attention bf16", o, r, n, 4e-3, 4e-3));
        free(qr); free(kr); free(vr);
        int q0 = T / 3, nq = T - q0;
        size_t off = (size_t)q0 * H * HD;
        lv_attention_rect(o2, q + off, nq, k, v, T, H, HD);
        ck_assert_mem_eq(o2, o + off, (size_t)nq * H * HD * sizeof(float));
        lv_precision_set(LV_PRECISION_F32);
        free(q); free(k); free(v); free(o); free(r); free(o2);
    }
}
END_TEST

START_TEST(test_softmax_and_activations)
{
    size_t n = 1001;
    tk_state = 3;
    float *x = tk_rand(n, 4.0f), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    float *u = tk_rand(n, 1.0f);
    memcpy(a, x, n * sizeof *a); memcpy(b, x, n * sizeof *b);
    lv_softmax_rows(a, 7, 143);
    lv_softmax_rows_ref(b, 7, 143);
    ck_assert(lv_test_close("softmax", a, b, n, 1e-7, 1e-5));
    lv_swiglu(a, x, u, n);
    lv_swiglu_ref(b, x, u, n);
    ck_assert(lv_test_close("swiglu", a, b, n, 1e-6, 1e-5));
    memcpy(a, x, n * sizeof *a); memcpy(b, x, n * sizeof *b);
    lv_gelu_tanh(a, n);
    lv_gelu_tanh_ref(b, n);
    ck_assert(lv_test_close("gelu_tanh", a, b, n, 1e-6, 1e-5));
    memcpy(a, x, n * sizeof *a); memcpy(b, x, n * sizeof *b);
    lv_gelu_erf(a, n);
    lv_gelu_erf_ref(b, n);
    ck_assert(lv_test_close("gelu_erf", a, b, n, 1e-6, 1e-5));
    /* erf and tanh GELU really differ (the pitfall of style.md B7) */
    float g1 = 1.5f, g2 = 1.5f;
    lv_gelu_tanh(&g1, 1);
    lv_gelu_erf(&g2, 1);
    ck_assert(g1 != g2);
    /* softmax64: 1/Σexp(l - max) at the argmax; -inf entries contribute nothing */
    float l[4] = {1.0f, 3.0f, -INFINITY, 3.0f};
    double p = lv_softmax64_prob(l, 4, 1);
    ck_assert(fabs(p - 1.0 / (2.0 + exp(-2.0))) < 1e-15);
    free(x); free(a); free(b); free(u);
}
END_TEST

START_TEST(test_embed_rows)
{
    tk_state = 8;
    float *e = tk_rand(5 * 6, 1.0f), out[3 * 6];
    void *buf;
    lv_tensor E = tk_weight(e, 5, 6, LV_DTYPE_BF16, &buf);
    int32_t ids[3] = {4, 0, 4};
    lv_embed_rows(out, &E, ids, 3, 6);
    for (int r = 0; r < 3; r++)
        for (int d = 0; d < 6; d++)
            ck_assert(out[r * 6 + d] == lv_bf16_to_f32(((uint16_t *)buf)[ids[r] * 6 + d]));
    free(e); free(buf);
}
END_TEST

START_TEST(test_arena)
{
    lv_arena a;
    ck_assert_int_eq(lv_arena_init(&a, lv_arena_round(10) + lv_arena_round(100)), LV_OK);
    void *p = lv_arena_alloc(&a, 10), *q = lv_arena_alloc(&a, 100);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert(((uintptr_t)q % LV_ARENA_ALIGN) == 0);
    ck_assert_ptr_null(lv_arena_alloc(&a, 1));
    lv_arena_reset(&a);
    ck_assert_ptr_eq(lv_arena_alloc(&a, 10), p);
    ck_assert_uint_eq(a.peak, lv_arena_round(10) + lv_arena_round(100));
    lv_arena_free(&a);
    lv_arena_free(&a);
}
END_TEST

START_TEST(test_rng)
{
    /* pinned against tests/reference/lladav_ref.py splitmix64(_key(seed, stream, counter)) */
    ck_assert_uint_eq(lv_rng_splitmix64(0), 16294208416658607535ull);
    ck_assert_uint_eq(lv_rng_u64(7, 0, 12345), 2136871679037279858ull);
    ck_assert_uint_eq(lv_rng_u64(7, 1, 3), 6708458407349707514ull);
    double mean = 0;
    for (int i = 0; i < 10000; i++) {
        double u = lv_rng_uniform64(42, 0, (uint64_t)i);
        float f = lv_rng_uniform32(42, 1, (uint64_t)i);
        ck_assert(u >= 0.0 && u < 1.0 && f >= 0.0f && f < 1.0f);
        mean += u;
    }
    ck_assert(fabs(mean / 10000 - 0.5) < 0.02);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_matmul_shapes);
    tcase_add_test(tc, test_matmul_panels);
    tcase_add_test(tc, test_matmul_bf16);
    tcase_add_test(tc, test_thread_count_invariance);
    tcase_add_test(tc, test_norms);
    tcase_add_test(tc, test_rope);
    tcase_add_test(tc, test_attention);
    tcase_add_test(tc, test_attention_bf16);
    tcase_add_test(tc, test_softmax_and_activations);
    tcase_add_test(tc, test_embed_rows);
    tcase_add_test(tc, test_arena);
    tcase_add_test(tc, test_rng);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
