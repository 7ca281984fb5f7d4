/* kernels.c - GEMM over in-place mmap'd weights, norms, RoPE, attention, activations.
 *
 * Threading rule (threads.h): BLAS calls are made from the serial part only; the plain loops
 * use one OpenMP `parallel for` over independent rows, each row reduced in a fixed order.
 * The `_ref` twins are deliberately naive (float64 accumulation, no BLAS, no OpenMP).
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

/* ---- GEMM ------------------------------------------------------------------------------ */

size_t lv_matmul_scratch_floats(int K)
{
    return (size_t)K > LV_MATMUL_PANEL_FLOATS ? (size_t)K : LV_MATMUL_PANEL_FLOATS;
}

/* One weight row to float32. BF16 is the top half of a float32, so widening is a shift the
 * compiler vectorises (bit-identical to lv_bf16_to_f32, NaNs included); F16 goes through
 * lv_tensor_to_f32. */
static void lv_widen_row(float *dst, const lv_tensor *W, int64_t first, int K)
{
    if (W->dtype != LV_DTYPE_BF16) {
        lv_tensor_to_f32(dst, W, first, K);
        return;
    }
    const uint16_t *src = (const uint16_t *)W->data + first;
    uint32_t *out = (uint32_t *)(void *)dst;
    for (int k = 0; k < K; k++) out[k] = (uint32_t)src[k] << 16;
}

/* y = x·Wᵀ + beta·y (+ bias). BF16/F16 weights are widened LV_MATMUL_PANEL_FLOATS at a time
 * (a panel of whole rows of W = a block of output columns), so memory stays bounded. */
static void lv_matmul_beta(float *y, const float *x, const lv_tensor *W, const float *bias,
                           int M, int K, int N, float beta, float *scratch)
{
    LV_ASSERT(W->ndim == 2 && W->shape[1] == K && W->shape[0] >= N);
    if (M <= 0 || N <= 0) return;
    if (W->dtype == LV_DTYPE_F32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K,
                    (const float *)W->data, K, beta, y, N);
    } else {
        LV_ASSERT(scratch != NULL);
        int rows = (int)(LV_MATMUL_PANEL_FLOATS / (size_t)K);
        if (rows < 1) rows = 1;
        for (int n0 = 0; n0 < N; n0 += rows) {
            int nr = N - n0 < rows ? N - n0 : rows;
            /* serial on purpose: widening is memory-bound, and an OpenMP team woken between
             * two BLAS calls fights OpenBLAS's spinning workers (2x slower at 2 threads) */
            for (int r = 0; r < nr; r++)
                lv_widen_row(scratch + (size_t)r * K, W, (int64_t)(n0 + r) * K, K);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, nr, K, 1.0f, x, K, scratch,
                        K, beta, y + n0, N);
        }
    }
    if (bias) {
#pragma omp parallel for schedule(static) if ((size_t)M * N >= LV_OMP_MIN_WORK)
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) y[(size_t)m * N + n] += bias[n];
    }
}

void lv_matmul(float *y, const float *x, const lv_tensor *W, const float *bias, int M, int K,
               int N, float *scratch)
{
    lv_matmul_beta(y, x, W, bias, M, K, N, 0.0f, scratch);
}

void lv_matmul_acc(float *y, const float *x, const lv_tensor *W, const float *bias, int M,
                   int K, int N, float *scratch)
{
    lv_matmul_beta(y, x, W, bias, M, K, N, 1.0f, scratch);
}

void lv_matmul_ref(float *y, const float *x, const lv_tensor *W, const float *bias, int M,
                   int K, int N, int accumulate)
{
    LV_ASSERT(W->ndim == 2 && W->shape[1] == K && W->shape[0] >= N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                float w;
                lv_tensor_to_f32(&w, W, (int64_t)n * K + k, 1);
                acc += (double)x[(size_t)m * K + k] * w;
            }
            if (bias) acc += bias[n];
            float *dst = &y[(size_t)m * N + n];
            *dst = accumulate ? (float)(*dst + acc) : (float)acc;
        }
}

/* ---- norms ----------------------------------------------------------------------------- */

void lv_rmsnorm(float *out, const float *x, const float *w, int T, int D, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)T * D >= LV_OMP_MIN_WORK)
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * D;
        float *o = out + (size_t)t * D;
        double ss = 0.0;
        for (int d = 0; d < D; d++) ss += (double)xr[d] * xr[d];
        float r = 1.0f / sqrtf((float)(ss / D) + eps);
        for (int d = 0; d < D; d++) o[d] = w[d] * (xr[d] * r);
    }
}

void lv_rmsnorm_ref(float *out, const float *x, const float *w, int T, int D, float eps)
{
    for (int t = 0; t < T; t++) {
        double ss = 0.0;
        for (int d = 0; d < D; d++) ss += (double)x[(size_t)t * D + d] * x[(size_t)t * D + d];
        double r = 1.0 / sqrt(ss / D + eps);
        for (int d = 0; d < D; d++) out[(size_t)t * D + d] = (float)(w[d] * (x[(size_t)t * D + d] * r));
    }
}

void lv_layernorm(float *out, const float *x, const float *w, const float *b, int T, int D,
                  float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)T * D >= LV_OMP_MIN_WORK)
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * D;
        float *o = out + (size_t)t * D;
        double s = 0.0, ss = 0.0;
        for (int d = 0; d < D; d++) s += xr[d];
        float mean = (float)(s / D);
        for (int d = 0; d < D; d++) ss += (double)(xr[d] - mean) * (xr[d] - mean);
        float rstd = 1.0f / sqrtf((float)(ss / D) + eps);
        for (int d = 0; d < D; d++) o[d] = (xr[d] - mean) * rstd * w[d] + b[d];
    }
}

void lv_layernorm_ref(float *out, const float *x, const float *w, const float *b, int T, int D,
                      float eps)
{
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * D;
        double s = 0.0, ss = 0.0;
        for (int d = 0; d < D; d++) s += xr[d];
        double mean = s / D;
        for (int d = 0; d < D; d++) ss += (xr[d] - mean) * (xr[d] - mean);
        double rstd = 1.0 / sqrt(ss / D + eps);
        for (int d = 0; d < D; d++) out[(size_t)t * D + d] = (float)((xr[d] - mean) * rstd * w[d] + b[d]);
    }
}

/* ---- RoPE ------------------------------------------------------------------------------ */

void lv_rope_table(float *cos_t, float *sin_t, int T, int HD, double theta)
{
    int half = HD / 2;
    for (int i = 0; i < half; i++) {
        /* float32 as in the reference: base ** (arange(0, HD, 2).float() / HD), then 1/x */
        float inv = 1.0f / powf((float)theta, (float)(2 * i) / (float)HD);
        for (int t = 0; t < T; t++) {
            float ang = (float)t * inv;
            cos_t[(size_t)t * half + i] = cosf(ang);
            sin_t[(size_t)t * half + i] = sinf(ang);
        }
    }
}

void lv_rope(float *x, const float *cos_t, const float *sin_t, int T, int H, int HD)
{
    int half = HD / 2;
#pragma omp parallel for schedule(static) if ((size_t)T * H * HD >= LV_OMP_MIN_WORK)
    for (int t = 0; t < T; t++) {
        const float *c = cos_t + (size_t)t * half, *s = sin_t + (size_t)t * half;
        for (int h = 0; h < H; h++) {
            float *xh = x + ((size_t)t * H + h) * HD;
            for (int i = 0; i < half; i++) {
                float x1 = xh[i], x2 = xh[i + half];
                xh[i] = x1 * c[i] - x2 * s[i];
                xh[i + half] = x2 * c[i] + x1 * s[i];
            }
        }
    }
}

void lv_rope_ref(float *x, int T, int H, int HD, double theta)
{
    int half = HD / 2;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) {
            float *xh = x + ((size_t)t * H + h) * HD;
            for (int i = 0; i < half; i++) {
                double ang = t / pow(theta, 2.0 * i / HD);
                double x1 = xh[i], x2 = xh[i + half];
                xh[i] = (float)(x1 * cos(ang) - x2 * sin(ang));
                xh[i + half] = (float)(x2 * cos(ang) + x1 * sin(ang));
            }
        }
}

/* ---- attention ------------------------------------------------------------------------- */

#define LV_ATTN_QBLOCK 256        /* query rows per score block */
#define LV_ATTN_SCORE_ROWS 2048   /* scratch holds min(T, this) score rows of length T */

size_t lv_attention_scratch_floats(int T)
{
    size_t t = T > 0 ? (size_t)T : 1;
    return (t < LV_ATTN_SCORE_ROWS ? t : LV_ATTN_SCORE_ROWS) * t;
}

/* Per block of nq queries, the scores of a group of hg heads are computed (one GEMM per head),
 * soft-maxed in one OpenMP loop and multiplied by V (one GEMM per head): grouping heads keeps
 * the OpenMP regions between BLAS calls few, so the two thread pools rarely contend. */
void lv_attention(float *out, const float *q, const float *k, const float *v, int T, int H,
                  int HD, float *scores)
{
    const int ld = H * HD;
    const float scale = 1.0f / sqrtf((float)HD);
    const int nq_max = T < LV_ATTN_QBLOCK ? T : LV_ATTN_QBLOCK;
    size_t fit = lv_attention_scratch_floats(T) / ((size_t)nq_max * T);
    const int hg_max = fit < 1 ? 1 : fit > (size_t)H ? H : (int)fit;
    for (int q0 = 0; q0 < T; q0 += nq_max) {
        int nq = T - q0 < nq_max ? T - q0 : nq_max;
        for (int h0 = 0; h0 < H; h0 += hg_max) {
            int hg = H - h0 < hg_max ? H - h0 : hg_max;
            /* scores[j][nq, T] = scale · q_h[q0:q0+nq] · k_hᵀ, h = h0 + j */
            for (int j = 0; j < hg; j++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, T, HD, scale,
                            q + (size_t)q0 * ld + (size_t)(h0 + j) * HD, ld,
                            k + (size_t)(h0 + j) * HD, ld, 0.0f, scores + (size_t)j * nq * T, T);
            lv_softmax_rows(scores, hg * nq, T);
            /* out_h[q0:q0+nq] = scores[j] · v_h */
            for (int j = 0; j < hg; j++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, HD, T, 1.0f,
                            scores + (size_t)j * nq * T, T, v + (size_t)(h0 + j) * HD, ld, 0.0f,
                            out + (size_t)q0 * ld + (size_t)(h0 + j) * HD, ld);
        }
    }
}

void lv_attention_ref(float *out, const float *q, const float *k, const float *v, int T, int H,
                      int HD)
{
    int ld = H * HD;
    double scale = 1.0 / sqrt((double)HD);
    for (int h = 0; h < H; h++)
        for (int i = 0; i < T; i++) {
            const float *qi = q + (size_t)i * ld + (size_t)h * HD;
            double mx = -INFINITY, sum = 0.0;
            for (int j = 0; j < T; j++) {
                const float *kj = k + (size_t)j * ld + (size_t)h * HD;
                double s = 0.0;
                for (int d = 0; d < HD; d++) s += (double)qi[d] * kj[d];
                if (s * scale > mx) mx = s * scale;
            }
            float *o = out + (size_t)i * ld + (size_t)h * HD;
            double *acc = calloc((size_t)HD, sizeof *acc);
            LV_ASSERT(acc != NULL);
            for (int j = 0; j < T; j++) {
                const float *kj = k + (size_t)j * ld + (size_t)h * HD;
                double s = 0.0;
                for (int d = 0; d < HD; d++) s += (double)qi[d] * kj[d];
                double p = exp(s * scale - mx);
                sum += p;
                for (int d = 0; d < HD; d++) acc[d] += p * v[(size_t)j * ld + (size_t)h * HD + d];
            }
            for (int d = 0; d < HD; d++) o[d] = (float)(acc[d] / sum);
            free(acc);
        }
}

/* ---- softmax --------------------------------------------------------------------------- */

void lv_softmax_rows(float *x, int rows, int n)
{
#pragma omp parallel for schedule(static) if ((size_t)rows * n >= LV_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * n;
        float mx = -INFINITY, sum = 0.0f;
        for (int j = 0; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (int j = 0; j < n; j++) {
            xr[j] = expf(xr[j] - mx);
            sum += xr[j];
        }
        for (int j = 0; j < n; j++) xr[j] /= sum;
    }
}

void lv_softmax_rows_ref(float *x, int rows, int n)
{
    for (int r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * n;
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (int j = 0; j < n; j++) sum += exp(xr[j] - mx);
        for (int j = 0; j < n; j++) xr[j] = (float)(exp(xr[j] - mx) / sum);
    }
}

double lv_softmax64_prob(const float *l, int n, int idx)
{
    double mx = -INFINITY, sum = 0.0;
    for (int j = 0; j < n; j++) mx = l[j] > mx ? l[j] : mx;
    if (mx == -INFINITY) return 0.0;
    for (int j = 0; j < n; j++) sum += exp((double)l[j] - mx);
    return exp((double)l[idx] - mx) / sum;
}

/* ---- activations ----------------------------------------------------------------------- */

void lv_swiglu(float *out, const float *gate, const float *up, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= LV_OMP_MIN_WORK)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void lv_swiglu_ref(float *out, const float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)(gate[i] / (1.0 + exp(-(double)gate[i])) * up[i]);
}

void lv_gelu_tanh(float *x, size_t n)
{
    const float c = 0.7978845608028654f;   /* sqrt(2/pi) */
#pragma omp parallel for schedule(static) if (n >= LV_OMP_MIN_WORK)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}

void lv_gelu_tanh_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        x[i] = (float)(0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
    }
}

void lv_gelu_erf(float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= LV_OMP_MIN_WORK)
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void lv_gelu_erf_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0))));
}

/* ---- embeddings ------------------------------------------------------------------------ */

void lv_embed_rows(float *out, const lv_tensor *E, const int32_t *ids, int n, int K)
{
    LV_ASSERT(E->ndim == 2 && E->shape[1] == K);
#pragma omp parallel for schedule(static) if ((size_t)n * K >= LV_OMP_MIN_WORK)
    for (int r = 0; r < n; r++)
        lv_tensor_to_f32(out + (size_t)r * K, E, (int64_t)ids[r] * K, K);
}
