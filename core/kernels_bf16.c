/* kernels_bf16.c - y = x·Wᵀ with BF16 weights read in place and activations rounded to BF16,
 * on AVX512-BF16 (vdpbf16ps: 16 lanes, each += a pair of bf16 products in float32).
 *
 * Only this file is compiled for the extension (function-level target attributes), and
 * lv_bf16_gemm_available() checks cpuid at run time, so the build runs on any x86-64.
 *
 * Layout: x is rounded once per call to bf16 rows of Kp = K rounded up to 32 (zero padded);
 * W stays [N, K] bf16 in the mmap (the tail of each row is a masked load). The microkernel
 * takes 4 rows of x and 4 rows of W and keeps 16 accumulators of 16 lanes over the whole K;
 * each lane sums a fixed subset of k and the 16 lanes are added in a fixed tree at the end,
 * so every output depends only on its own row and column: results are the same for any
 * thread count and any column slicing.
 */
#include "kernels.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "threads.h"

#define LV_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define LV_BF16_NC 64   /* W rows per task (fixed: 64 x K bf16 stays in L2) */

int lv_bf16_gemm_available(void)
{
    static int cached = -1;
    if (cached < 0) {
        unsigned a, b, c, d, a1 = 0, b1, c1, d1;
        int ok = __get_cpuid_count(7, 0, &a, &b, &c, &d);
        if (ok) ok = __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
        /* avx512f (ebx 16), avx512bw (ebx 30), avx512vl (ebx 31), avx512_bf16 (leaf 7.1 eax 5) */
        cached = ok && (b >> 16 & 1) && (b >> 30 & 1) && (b >> 31 & 1) && (a1 >> 5 & 1);
    }
    return cached;
}

typedef struct {
    float *y;
    const uint16_t *xb;   /* [M, Kp] bf16 */
    const uint16_t *w;    /* [N, K] bf16 */
    const float *bias;
    int M, K, Kp, N;
    float beta;
} lv_bf16_job;

/* acc[a][b] += xb[m0 + a, k:k+32] · w[n0 + b, k:k+32] for a < mr, b < nr (mask: valid k). */
LV_BF16_TARGET __attribute__((always_inline)) static inline void
lv_bf16_step(const lv_bf16_job *j, __m512 acc[4][4], int m0, int n0, int mr, int nr, int k,
             __mmask32 mk)
{
    __m512i xv[4], wv[4];
#pragma GCC unroll 4
    for (int a = 0; a < mr; a++) xv[a] = _mm512_loadu_si512(j->xb + (size_t)(m0 + a) * j->Kp + k);
#pragma GCC unroll 4
    for (int b = 0; b < nr; b++) wv[b] = _mm512_maskz_loadu_epi16(mk, j->w + (size_t)(n0 + b) * j->K + k);
#pragma GCC unroll 4
    for (int a = 0; a < mr; a++)
#pragma GCC unroll 4
        for (int b = 0; b < nr; b++)
            acc[a][b] = _mm512_dpbf16_ps(acc[a][b], (__m512bh)xv[a], (__m512bh)wv[b]);
}

/* y[mr, nr] (+)= xb[mr rows] · w[nr rows]ᵀ for mr, nr <= 4; inlined with constant 4/4 in the
 * hot path so the 16 accumulators stay in registers. */
LV_BF16_TARGET __attribute__((always_inline)) static inline void
lv_bf16_tile(const lv_bf16_job *j, int m0, int n0, int mr, int nr)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int a = 0; a < 4; a++)
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++) acc[a][b] = _mm512_setzero_ps();
    const int K = j->K, Kf = K / 32 * 32;
    for (int k = 0; k < Kf; k += 32) lv_bf16_step(j, acc, m0, n0, mr, nr, k, 0xffffffffu);
    if (Kf < K) lv_bf16_step(j, acc, m0, n0, mr, nr, Kf, (__mmask32)((1u << (K - Kf)) - 1u));
#pragma GCC unroll 4
    for (int a = 0; a < mr; a++) {
        float *yr = j->y + (size_t)(m0 + a) * j->N + n0;
#pragma GCC unroll 4
        for (int b = 0; b < nr; b++) {
            float v = _mm512_reduce_add_ps(acc[a][b]);
            if (j->bias) v += j->bias[n0 + b];
            yr[b] = j->beta != 0.0f ? yr[b] + v : v;
        }
    }
}

LV_BF16_TARGET static void lv_bf16_task(void *ctx, int t)
{
    const lv_bf16_job *j = ctx;
    const int n0 = t * LV_BF16_NC, n1 = j->N - n0 < LV_BF16_NC ? j->N : n0 + LV_BF16_NC;
    int m = 0;
    for (; m + 4 <= j->M; m += 4) {
        int n = n0;
        for (; n + 4 <= n1; n += 4) lv_bf16_tile(j, m, n, 4, 4);
        for (; n < n1; n++) lv_bf16_tile(j, m, n, 4, 1);
    }
    for (; m < j->M; m++)
        for (int n = n0; n < n1; n++) lv_bf16_tile(j, m, n, 1, 1);
}

typedef struct {
    uint16_t *xb;
    const float *x;
    int M, K, Kp;
} lv_bf16_cvt_job;

/* Row t of x to bf16, round to nearest even (vcvtne2ps2bf16), zero padded to Kp. */
LV_BF16_TARGET static void lv_bf16_cvt_task(void *ctx, int t)
{
    const lv_bf16_cvt_job *c = ctx;
    const float *xr = c->x + (size_t)t * c->K;
    uint16_t *o = c->xb + (size_t)t * c->Kp;
    for (int k = 0; k < c->Kp; k += 32) {
        int n = c->K - k;
        __mmask16 lo = n >= 16 ? 0xffff : n > 0 ? (__mmask16)((1u << n) - 1u) : 0;
        __mmask16 hi = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1u) : 0;
        __m512 a = _mm512_maskz_loadu_ps(lo, xr + k), b = _mm512_maskz_loadu_ps(hi, xr + k + 16);
        _mm512_storeu_si512(o + k, (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
}

static _Thread_local uint16_t *lv_bf16_xbuf = NULL;
static _Thread_local size_t lv_bf16_xcap = 0;

int lv_matmul_bf16(float *y, const float *x, const lv_tensor *W, const float *bias, int M, int K,
                   int N, int accumulate)
{
    if (W->dtype != LV_DTYPE_BF16 || !lv_bf16_gemm_available() || M <= 0 || N <= 0) return 0;
    const int Kp = (K + 31) / 32 * 32;
    size_t need = (size_t)M * Kp;
    if (need > lv_bf16_xcap) {
        free(lv_bf16_xbuf);
        lv_bf16_xbuf = aligned_alloc(64, (need * sizeof *lv_bf16_xbuf + 63) / 64 * 64);
        lv_bf16_xcap = lv_bf16_xbuf ? need : 0;
        if (!lv_bf16_xbuf) return 0;   /* the float32 path needs no such buffer */
    }
    lv_bf16_cvt_job c = {lv_bf16_xbuf, x, M, K, Kp};
    lv_parallel_for(M, lv_bf16_cvt_task, &c);
    lv_bf16_job j = {y, lv_bf16_xbuf, (const uint16_t *)W->data, bias, M, K, Kp, N,
                     accumulate ? 1.0f : 0.0f};
    lv_parallel_for((N + LV_BF16_NC - 1) / LV_BF16_NC, lv_bf16_task, &j);
    return 1;
}
