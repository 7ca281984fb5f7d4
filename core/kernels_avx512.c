/* kernels_avx512.c - the AVX-512 code paths, chosen at run time by cpuid.
 *
 * First, y = x·Wᵀ with BF16 weights read in place and activations rounded to BF16,
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
 *
 * Then the bf16 attention of --precision bf16 (lv_attention_bf16), and a vectorised exp for
 * the float32 softmax rows, SiLU (SwiGLU) and GELU-tanh of both paths (with a scalar libm
 * fallback on CPUs without AVX-512F).
 */
#include "kernels.h"

#include <cpuid.h>
#include <immintrin.h>
#include <math.h>
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

LV_BF16_TARGET __attribute__((always_inline)) static inline void
lv_pk_tile(float *C, int ldc, const uint32_t *A, int lda, const uint32_t *B, int ldb, int kp,
           int mr);

/* Large M: the task's 64 rows of W are first packed into two 32-column strips of bf16 pairs
 * (B[p][c] = (w[n0 + c, 2p], w[n0 + c, 2p + 1]), [Kp/2][32] words each, in this thread's
 * scratch) and then every 8 rows of x go through the broadcast kernel of the attention
 * (lv_pk_tile: 8 x 32 outputs in registers, one k-pair per step, no horizontal sums). Packing
 * costs 64·K word writes per task against 2·M·64·K FLOPs, so it pays only for large M. Each
 * output is summed over k in order: the same for any thread count. */
#define LV_BF16_PK_MIN_M 128

LV_BF16_TARGET static void lv_bf16_pk_task(void *ctx, int t)
{
    const lv_bf16_job *j = ctx;
    const int n0 = t * LV_BF16_NC, nr = j->N - n0 < LV_BF16_NC ? j->N - n0 : LV_BF16_NC;
    const int kp = j->Kp / 2, ns = (nr + 31) / 32, K = j->K;
    float *tile = lv_thread_scratch((size_t)ns * kp * 32 + 8 * 32);
    LV_ASSERT(tile != NULL);
    uint32_t *B = (uint32_t *)(tile + 8 * 32);
    for (int c = 0; c < ns * 32; c++) {
        uint32_t *dst = B + (size_t)(c / 32) * kp * 32 + c % 32;
        int p = 0;
        if (c < nr) {
            const uint16_t *w = j->w + (size_t)(n0 + c) * K;
            for (; 2 * p + 1 < K; p++) dst[(size_t)p * 32] = (uint32_t)w[2 * p] | (uint32_t)w[2 * p + 1] << 16;
            if (2 * p < K) {
                dst[(size_t)p * 32] = w[2 * p];
                p++;
            }
        }
        for (; p < kp; p++) dst[(size_t)p * 32] = 0;
    }
    for (int m = 0; m < j->M; m += 8) {
        const int mr = j->M - m < 8 ? j->M - m : 8;
        const uint32_t *A = (const uint32_t *)(const void *)(j->xb + (size_t)m * j->Kp);
        for (int s = 0; s < ns; s++) {
            if (mr == 8) lv_pk_tile(tile, 32, A, kp, B + (size_t)s * kp * 32, 32, kp, 8);
            else
                for (int a = 0; a < mr; a++)
                    lv_pk_tile(tile + a * 32, 32, A + (size_t)a * kp, kp, B + (size_t)s * kp * 32, 32, kp, 1);
            const int c0 = n0 + s * 32, nc = nr - s * 32 < 32 ? nr - s * 32 : 32;
            for (int a = 0; a < mr; a++) {
                float *yr = j->y + (size_t)(m + a) * j->N + c0;
                for (int b = 0; b < nc; b++) {
                    float v = tile[a * 32 + b];
                    if (j->bias) v += j->bias[c0 + b];
                    yr[b] = j->beta != 0.0f ? yr[b] + v : v;
                }
            }
        }
    }
}

/* Lane mask for the next 16 of r remaining elements (r may be <= 0 or >= 16). */
static inline __mmask16 lv_mask16(long r)
{
    return r >= 16 ? (__mmask16)0xffff : r > 0 ? (__mmask16)((1u << r) - 1u) : (__mmask16)0;
}

/* n floats of x, times scale, to bf16 pairs: out[i] = (bf16(s·x[2i]), bf16(s·x[2i+1])) (round
 * to nearest even), zero past n; np words (a multiple of 16 stores whole vectors). */
LV_BF16_TARGET static void lv_pack_pairs(uint32_t *out, const float *x, int n, int np, float scale)
{
    const __m512 sc = _mm512_set1_ps(scale);
    for (int i = 0; i < np; i += 16) {
        int r = n - 2 * i;
        __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(lv_mask16(r), x + 2 * i), sc);
        __m512 b = _mm512_mul_ps(_mm512_maskz_loadu_ps(lv_mask16(r - 16), x + 2 * i + 16), sc);
        _mm512_mask_storeu_epi32(out + i, lv_mask16(np - i), (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
}

typedef struct {
    uint16_t *xb;
    const float *x;
    int M, K, Kp;
} lv_bf16_cvt_job;

/* Row t of x to bf16, round to nearest even (vcvtne2ps2bf16), zero padded to Kp: two bf16 are
 * one pair word, so this is lv_pack_pairs with scale 1 (exact). */
LV_BF16_TARGET static void lv_bf16_cvt_task(void *ctx, int t)
{
    const lv_bf16_cvt_job *c = ctx;
    lv_pack_pairs((uint32_t *)(void *)(c->xb + (size_t)t * c->Kp), c->x + (size_t)t * c->K, c->K,
                  c->Kp / 2, 1.0f);
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
    lv_parallel_for((N + LV_BF16_NC - 1) / LV_BF16_NC, M >= LV_BF16_PK_MIN_M ? lv_bf16_pk_task : lv_bf16_task, &j);
    return 1;
}

/* ---- attention with bf16 operands (--precision bf16) -------------------------------------
 *
 * Same math as lv_attention_task of kernels.c, but both products run on vdpbf16ps: q and k
 * rounded to bf16 for the scores, the probabilities and v rounded to bf16 for the output,
 * float32 sums throughout and a float32 softmax. The GEMM layout differs from lv_bf16_task's:
 * K is short here (HD = 64..128 for the scores), so instead of dot products with a horizontal
 * sum per output the kernel keeps rows of outputs in registers and adds one k-pair at a time
 * (a broadcast pair of A times a packed row of B: B[p][n] = (b[2p, n], b[2p+1, n]) as one
 * 32-bit word, which is the operand vdpbf16ps takes). Each output is summed over k in order,
 * so results are the same for any thread count. */

#define LV_PK_MR 8    /* output rows per register tile */
#define LV_ATTN_QB 256   /* query rows per block (as kernels.c) */

/* C[mr, 32] = A[mr, 2·kp] · B[2·kp, 32]: A as bf16-pair words [mr][lda], B as words [kp][ldb]. */
LV_BF16_TARGET __attribute__((always_inline)) static inline void
lv_pk_tile(float *C, int ldc, const uint32_t *A, int lda, const uint32_t *B, int ldb, int kp,
           int mr)
{
    __m512 c0[LV_PK_MR], c1[LV_PK_MR];
#pragma GCC unroll 8
    for (int a = 0; a < LV_PK_MR; a++) c0[a] = c1[a] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(B + (size_t)p * ldb);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(B + (size_t)p * ldb + 16);
#pragma GCC unroll 8
        for (int a = 0; a < mr; a++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)A[(size_t)a * lda + p]);
            c0[a] = _mm512_dpbf16_ps(c0[a], av, b0);
            c1[a] = _mm512_dpbf16_ps(c1[a], av, b1);
        }
    }
#pragma GCC unroll 8
    for (int a = 0; a < mr; a++) {
        _mm512_storeu_ps(C + (size_t)a * ldc, c0[a]);
        _mm512_storeu_ps(C + (size_t)a * ldc + 16, c1[a]);
    }
}

/* C[M, N] = A · B for N a multiple of 32 (C padded by the caller); B in strips of 32
 * columns, strip s = words [kp][32] at B + s·kp·32, so a tile reads it front to back. */
LV_BF16_TARGET static void lv_pk_gemm(float *C, int ldc, const uint32_t *A, int lda,
                                      const uint32_t *B, int M, int N, int kp)
{
    for (int n = 0; n < N; n += 32) {
        const uint32_t *Bs = B + (size_t)(n / 32) * kp * 32;
        int m = 0;
        for (; m + LV_PK_MR <= M; m += LV_PK_MR)
            lv_pk_tile(C + (size_t)m * ldc + n, ldc, A + (size_t)m * lda, lda, Bs, 32, kp,
                       LV_PK_MR);
        for (; m < M; m++)
            lv_pk_tile(C + (size_t)m * ldc + n, ldc, A + (size_t)m * lda, lda, Bs, 32, kp, 1);
    }
}

/* 16 floats to 16 bf16 (round to nearest even), zero-extended into 32-bit lanes. */
LV_BF16_TARGET static inline __m512i lv_bf16_lanes(__m512 x)
{
    return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x));
}

#define LV_AVX512_TARGET __attribute__((target("avx512f")))

/* exp of 16 floats, Cephes expf: x = n·ln2 + r (ln2 split in two for an exact n·ln2_hi),
 * exp(r) by a degree-7 polynomial on |r| <= ln2/2, times 2^n by vscalefps; relative error
 * ~2e-7 (1-2 ulp), the range clamped to float's; NaN propagates (x is max/min's 2nd operand). */
LV_AVX512_TARGET __attribute__((always_inline)) static inline __m512 lv_exp16(__m512 x)
{
    x = _mm512_max_ps(_mm512_set1_ps(-87.33654f), x);
    x = _mm512_min_ps(_mm512_set1_ps(88.37626f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(y, n);
}

static int lv_avx512f_available(void)
{
    static int cached = -1;
    if (cached < 0) {
        unsigned a, b, c, d;
        cached = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 16 & 1);
    }
    return cached;
}

/* s[0:n] = exp(scale · (s - max s)) in place; returns their sum, added in 16 lanes (a fixed
 * order). The float32 softmax passes scale 1 (an exact multiply). */
LV_AVX512_TARGET static float lv_exp_sum16(float *s, int n, float scale)
{
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, lv_mask16(n - i), s + i));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), sc = _mm512_set1_ps(scale);
    __m512 sum = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 k = lv_mask16(n - i);
        __m512 e = lv_exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + i), m), sc));
        e = _mm512_maskz_mov_ps(k, e);
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(s + i, k, e);
    }
    return _mm512_reduce_add_ps(sum);
}

/* x[0:n] = softmax(x) in float32 (lv_softmax_row on AVX-512F): exp(x - max), divided by the sum. */
LV_AVX512_TARGET static void lv_softmax16(float *x, int n)
{
    const __m512 s = _mm512_set1_ps(lv_exp_sum16(x, n, 1.0f));
    for (int i = 0; i < n; i += 16) {
        __mmask16 k = lv_mask16(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_div_ps(_mm512_maskz_loadu_ps(k, x + i), s));
    }
}

void lv_softmax_row(float *x, int n)
{
    if (lv_avx512f_available()) {
        lv_softmax16(x, n);
        return;
    }
    float mx = -INFINITY, sum = 0.0f;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

/* p = softmax(scale · s[0:n]) as bf16 pairs (np = ceil(n/2) words, zero padded): exp in
 * place in s, then scaled by 1/sum and rounded. */
LV_BF16_TARGET static void lv_softmax_pairs(uint32_t *p, float *s, int n, int np, float scale)
{
    lv_pack_pairs(p, s, n, np, 1.0f / lv_exp_sum16(s, n, scale));
}

typedef struct {
    float *out;
    const float *q, *k, *v;
    int nq, Tk, H, HD;
} lv_bf16_attn_job;

static int lv_round_up(int x, int m) { return (x + m - 1) / m * m; }

/* Task = one head: k_hᵀ and v_h packed once, then every block of 256 queries. */
LV_BF16_TARGET static void lv_bf16_attn_task(void *ctx, int h)
{
    const lv_bf16_attn_job *j = ctx;
    const int Tk = j->Tk, HD = j->HD, ld = j->H * HD;
    const int HP = (HD + 1) / 2, TP = (Tk + 1) / 2;      /* k-pairs of the two products */
    const int TN = lv_round_up(Tk, 32), HN = lv_round_up(HD, 32);   /* padded output widths */
    const int QB = j->nq < LV_ATTN_QB ? j->nq : LV_ATTN_QB;
    /* scratch (32-bit units): S [QB, TN] | O [QB, HN] | Q [QB, HP] | Kt [HP, TN] | P [QB, TP] |
     * Vp [TP, HN] | row [2 · HN] */
    size_t nS = (size_t)QB * TN, nO = (size_t)QB * HN, nQ = (size_t)QB * HP, nK = (size_t)HP * TN;
    size_t nP = (size_t)QB * TP, nV = (size_t)TP * HN;
    float *S = lv_thread_scratch(nS + nO + nQ + nK + nP + nV + 2 * (size_t)HN);
    LV_ASSERT(S != NULL);
    float *O = S + nS;
    uint32_t *Q = (uint32_t *)(O + nO), *Kt = Q + nQ, *P = Kt + nK, *Vp = P + nP, *row = Vp + nV;

    /* Kt = k_hᵀ in strips: word p of bf16(k[t, h]) at strip t/32, row p, lane t%32;
     * columns t >= Tk zero */
    memset(Kt, 0, nK * sizeof *Kt);
    for (int t = 0; t < Tk; t++) {
        lv_pack_pairs(row, j->k + (size_t)t * ld + (size_t)h * HD, HD, HP, 1.0f);
        uint32_t *kt = Kt + (size_t)(t / 32) * HP * 32 + t % 32;
        for (int p = 0; p < HP; p++) kt[(size_t)p * 32] = row[p];
    }
    /* Vp = v_h in strips: (bf16(v[2p, c]), bf16(v[2p + 1, c])) at strip c/32, row p, lane
     * c%32; row Tk (odd Tk) and c >= HD zero */
    for (int p = 0; p < TP; p++) {
        const float *v0 = j->v + (size_t)(2 * p) * ld + (size_t)h * HD;
        const float *v1 = 2 * p + 1 < Tk ? v0 + ld : NULL;
        for (int c = 0; c < HN; c += 16) {
            __mmask16 k = lv_mask16(HD - c);
            __m512i lo = lv_bf16_lanes(_mm512_maskz_loadu_ps(k, v0 + c));
            __m512i hi = v1 ? lv_bf16_lanes(_mm512_maskz_loadu_ps(k, v1 + c)) : _mm512_setzero_si512();
            _mm512_storeu_si512(Vp + (size_t)(c / 32) * TP * 32 + (size_t)p * 32 + c % 32,
                                _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
        }
    }
    const float scale = 1.0f / sqrtf((float)HD);
    for (int q0 = 0; q0 < j->nq; q0 += QB) {
        const int n = j->nq - q0 < QB ? j->nq - q0 : QB;
        for (int r = 0; r < n; r++)
            lv_pack_pairs(Q + (size_t)r * HP, j->q + (size_t)(q0 + r) * ld + (size_t)h * HD, HD, HP, 1.0f);
        lv_pk_gemm(S, TN, Q, HP, Kt, n, TN, HP);                 /* S = q kᵀ   [n, TN] */
        for (int r = 0; r < n; r++)
            lv_softmax_pairs(P + (size_t)r * TP, S + (size_t)r * TN, Tk, TP, scale);
        lv_pk_gemm(O, HN, P, TP, Vp, n, HN, TP);                 /* O = p v    [n, HN] */
        for (int r = 0; r < n; r++)
            memcpy(j->out + (size_t)(q0 + r) * ld + (size_t)h * HD, O + (size_t)r * HN,
                   (size_t)HD * sizeof(float));
    }
}

int lv_attention_bf16(float *out, const float *q, int nq, const float *k, const float *v, int Tk,
                      int H, int HD)
{
    if (!lv_bf16_gemm_available() || nq <= 0 || Tk <= 0) return 0;
    lv_bf16_attn_job j = {out, q, k, v, nq, Tk, H, HD};
    lv_parallel_for(H, lv_bf16_attn_task, &j);
    return 1;
}

/* ---- SiLU and GELU-tanh spans -------------------------------------------------------------
 * Both are x·σ(z): silu(g) = g / (1 + e^-g), and GELU-tanh 0.5·v·(1 + tanh(u)) = v / (1 + e^-2u)
 * with u = sqrt(2/π)(v + 0.044715 v³), an identity of tanh; e^-z from lv_exp16 (clamped, so
 * the denominator is finite and a large negative input gives ±0 as in libm). */

LV_AVX512_TARGET static void lv_swiglu16(float *out, const float *gate, const float *up, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = lv_mask16((long)(n - i));
        __m512 g = _mm512_maskz_loadu_ps(k, gate + i);
        __m512 d = _mm512_add_ps(one, lv_exp16(_mm512_sub_ps(_mm512_setzero_ps(), g)));
        _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(_mm512_div_ps(g, d), _mm512_maskz_loadu_ps(k, up + i)));
    }
}

void lv_swiglu_span(float *out, const float *gate, const float *up, size_t n)
{
    if (lv_avx512f_available()) {
        lv_swiglu16(out, gate, up, n);
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

LV_AVX512_TARGET static void lv_gelu_tanh16(float *x, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f), c = _mm512_set1_ps(-2.0f * 0.7978845608028654f);
    const __m512 a = _mm512_set1_ps(0.044715f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = lv_mask16((long)(n - i));
        __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        __m512 z = _mm512_mul_ps(c, _mm512_fmadd_ps(_mm512_mul_ps(a, v), _mm512_mul_ps(v, v), v));
        _mm512_mask_storeu_ps(x + i, k, _mm512_div_ps(v, _mm512_add_ps(one, lv_exp16(z))));
    }
}

void lv_gelu_tanh_span(float *x, size_t n)
{
    if (lv_avx512f_available()) {
        lv_gelu_tanh16(x, n);
        return;
    }
    const float c = 0.7978845608028654f;   /* sqrt(2/pi) */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}
