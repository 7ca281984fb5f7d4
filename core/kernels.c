/* kernels.c - GEMM over in-place mmap'd weights, norms, RoPE, attention, activations.
 *
 * Threading rule (threads.h): everything runs as tasks of lv_parallel_for. GEMMs are sliced
 * over fixed blocks of output columns (one single-threaded sgemm each), attention over
 * (query block, head) pairs, the plain loops over ranges of independent rows, each row
 * reduced in a fixed order. The `_ref` twins are deliberately naive (float64, serial).
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "threads.h"

/* Arguments of the row-parallel loops below; each kernel reads the fields it needs. */
typedef struct {
    float *out;
    const float *x, *w, *b, *c, *s;
    const lv_tensor *E;
    const int32_t *ids;
    size_t n;          /* element count of the flat loops */
    int T, D, H, HD;
    float eps;
    int n_tasks;
} lv_ew_job;

/* [lo, hi) of task t when n items are split into j->n_tasks near-equal ranges. */
static void lv_range(const lv_ew_job *j, int t, size_t n, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)t / (size_t)j->n_tasks;
    *hi = n * (size_t)(t + 1) / (size_t)j->n_tasks;
}

/* Run fn over `items` independent items of `work` elements each. */
static void lv_ew_run(lv_ew_job *j, lv_task_fn fn, size_t items, size_t work)
{
    j->n_tasks = lv_par_tasks(items > (size_t)INT32_MAX ? INT32_MAX : (int)items, work);
    lv_parallel_for(j->n_tasks, fn, j);
}

/* ---- GEMM ------------------------------------------------------------------------------ */

/* Output columns per GEMM task: a fixed slice, so the split (and each column's result) never
 * depends on the thread count. Each task makes its own sgemm call, which re-packs all of x, so
 * wider slices cost less: at M = 1024, K = 2048 the f32 path reached 87-90 % of OpenBLAS's own
 * threaded sgemm with 128 columns, 95-96 % with 256 (512 left too few tasks for N = 5632 on 2
 * threads). 256 still gives 5 tasks for the narrowest GEMM (SigLIP's 1152). */
#define LV_GEMM_NC 256

size_t lv_matmul_scratch_floats(int K)
{
    (void)K;
    return 1;
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

typedef struct {
    float *y;
    const float *x;
    const lv_tensor *W;
    const float *bias;
    int M, K, N;
    float beta;
} lv_gemm_job;

/* Task t: columns [t·NC, t·NC + NC) of y, one single-threaded sgemm; BF16/F16 rows of W are
 * first widened into this thread's scratch (NC·K floats). */
static void lv_gemm_task(void *ctx, int t)
{
    const lv_gemm_job *j = ctx;
    const int K = j->K, n0 = t * LV_GEMM_NC;
    const int nr = j->N - n0 < LV_GEMM_NC ? j->N - n0 : LV_GEMM_NC;
    const float *w;
    if (j->W->dtype == LV_DTYPE_F32) {
        w = (const float *)j->W->data + (size_t)n0 * K;
    } else {
        float *panel = lv_thread_scratch((size_t)nr * K);
        LV_ASSERT(panel != NULL);
        for (int r = 0; r < nr; r++) lv_widen_row(panel + (size_t)r * K, j->W, (int64_t)(n0 + r) * K, K);
        w = panel;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->M, nr, K, 1.0f, j->x, K, w, K,
                j->beta, j->y + n0, j->N);
    if (j->bias)
        for (int m = 0; m < j->M; m++) {
            float *yr = j->y + (size_t)m * j->N + n0;
            for (int n = 0; n < nr; n++) yr[n] += j->bias[n0 + n];
        }
}

static _Atomic lv_precision lv_the_precision = LV_PRECISION_F32;

void lv_precision_set(lv_precision p)
{
    lv_the_precision = p;
}

lv_precision lv_precision_get(void)
{
    return lv_the_precision;
}

/* y = x·Wᵀ + beta·y (+ bias), sliced over output columns on the thread pool. */
static void lv_matmul_beta(float *y, const float *x, const lv_tensor *W, const float *bias,
                           int M, int K, int N, float beta)
{
    LV_ASSERT(W->ndim == 2 && W->shape[1] == K && W->shape[0] >= N);
    if (M <= 0 || N <= 0) return;
    if (lv_the_precision == LV_PRECISION_BF16 && lv_matmul_bf16(y, x, W, bias, M, K, N, beta != 0.0f))
        return;
    lv_gemm_job j = {y, x, W, bias, M, K, N, beta};
    lv_parallel_for((N + LV_GEMM_NC - 1) / LV_GEMM_NC, lv_gemm_task, &j);
}

void lv_matmul(float *y, const float *x, const lv_tensor *W, const float *bias, int M, int K,
               int N, float *scratch)
{
    (void)scratch;
    lv_matmul_beta(y, x, W, bias, M, K, N, 0.0f);
}

void lv_matmul_acc(float *y, const float *x, const lv_tensor *W, const float *bias, int M,
                   int K, int N, float *scratch)
{
    (void)scratch;
    lv_matmul_beta(y, x, W, bias, M, K, N, 1.0f);
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

static void lv_rmsnorm_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, (size_t)j->T, &lo, &hi);
    const int D = j->D;
    for (size_t t = lo; t < hi; t++) {
        const float *xr = j->x + t * D;
        float *o = j->out + t * D;
        double ss = 0.0;
        for (int d = 0; d < D; d++) ss += (double)xr[d] * xr[d];
        float r = 1.0f / sqrtf((float)(ss / D) + j->eps);
        for (int d = 0; d < D; d++) o[d] = j->w[d] * (xr[d] * r);
    }
}

void lv_rmsnorm(float *out, const float *x, const float *w, int T, int D, float eps)
{
    lv_ew_job j = {.out = out, .x = x, .w = w, .T = T, .D = D, .eps = eps};
    lv_ew_run(&j, lv_rmsnorm_task, (size_t)T, (size_t)D);
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

static void lv_layernorm_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, (size_t)j->T, &lo, &hi);
    const int D = j->D;
    for (size_t t = lo; t < hi; t++) {
        const float *xr = j->x + t * D;
        float *o = j->out + t * D;
        double s = 0.0, ss = 0.0;
        for (int d = 0; d < D; d++) s += xr[d];
        float mean = (float)(s / D);
        for (int d = 0; d < D; d++) ss += (double)(xr[d] - mean) * (xr[d] - mean);
        float rstd = 1.0f / sqrtf((float)(ss / D) + j->eps);
        for (int d = 0; d < D; d++) o[d] = (xr[d] - mean) * rstd * j->w[d] + j->b[d];
    }
}

void lv_layernorm(float *out, const float *x, const float *w, const float *b, int T, int D,
                  float eps)
{
    lv_ew_job j = {.out = out, .x = x, .w = w, .b = b, .T = T, .D = D, .eps = eps};
    lv_ew_run(&j, lv_layernorm_task, (size_t)T, (size_t)D);
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

static void lv_rope_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, (size_t)j->T, &lo, &hi);
    const int half = j->HD / 2;
    for (size_t t = lo; t < hi; t++) {
        const float *c = j->c + t * half, *s = j->s + t * half;
        for (int h = 0; h < j->H; h++) {
            float *xh = j->out + (t * j->H + h) * j->HD;
            for (int i = 0; i < half; i++) {
                float x1 = xh[i], x2 = xh[i + half];
                xh[i] = x1 * c[i] - x2 * s[i];
                xh[i + half] = x2 * c[i] + x1 * s[i];
            }
        }
    }
}

void lv_rope(float *x, const float *cos_t, const float *sin_t, int T, int H, int HD)
{
    lv_ew_job j = {.out = x, .c = cos_t, .s = sin_t, .T = T, .H = H, .HD = HD};
    lv_ew_run(&j, lv_rope_task, (size_t)T, (size_t)H * HD);
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

#define LV_ATTN_QBLOCK 256        /* query rows per task */

size_t lv_attention_scratch_floats(int T)
{
    (void)T;
    return 1;
}

typedef struct {
    float *out;
    const float *q, *k, *v;
    int nq, Tk, H, HD, n_qb;
} lv_attn_job;

/* Task = (query block, head): scores[n, Tk] in this thread's scratch, soft-maxed row by row,
 * times v_h. Only one block of scores per thread exists at a time: O(256·Tk) floats. */
static void lv_attention_task(void *ctx, int task)
{
    const lv_attn_job *j = ctx;
    const int Tk = j->Tk, HD = j->HD, ld = j->H * HD, h = task / j->n_qb;
    const int q0 = (task % j->n_qb) * LV_ATTN_QBLOCK;
    const int n = j->nq - q0 < LV_ATTN_QBLOCK ? j->nq - q0 : LV_ATTN_QBLOCK;
    float *scores = lv_thread_scratch((size_t)n * Tk);
    LV_ASSERT(scores != NULL);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Tk, HD, 1.0f / sqrtf((float)HD),
                j->q + (size_t)q0 * ld + (size_t)h * HD, ld, j->k + (size_t)h * HD, ld, 0.0f,
                scores, Tk);
    for (int r = 0; r < n; r++) lv_softmax_row(scores + (size_t)r * Tk, Tk);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, HD, Tk, 1.0f, scores, Tk,
                j->v + (size_t)h * HD, ld, 0.0f, j->out + (size_t)q0 * ld + (size_t)h * HD, ld);
}

void lv_attention_rect(float *out, const float *q, int nq, const float *k, const float *v, int Tk,
                       int H, int HD)
{
    if (lv_the_precision == LV_PRECISION_BF16 && lv_attention_bf16(out, q, nq, k, v, Tk, H, HD))
        return;
    lv_attn_job j = {out, q, k, v, nq, Tk, H, HD, (nq + LV_ATTN_QBLOCK - 1) / LV_ATTN_QBLOCK};
    lv_parallel_for(j.n_qb * H, lv_attention_task, &j);
}

void lv_attention(float *out, const float *q, const float *k, const float *v, int T, int H,
                  int HD, float *scores)
{
    (void)scores;
    lv_attention_rect(out, q, T, k, v, T, H, HD);
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

static void lv_softmax_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, (size_t)j->T, &lo, &hi);
    for (size_t r = lo; r < hi; r++) lv_softmax_row(j->out + r * j->D, j->D);
}

void lv_softmax_rows(float *x, int rows, int n)
{
    lv_ew_job j = {.out = x, .T = rows, .D = n};
    lv_ew_run(&j, lv_softmax_task, (size_t)rows, (size_t)n);
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

static void lv_swiglu_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, j->n, &lo, &hi);
    lv_swiglu_span(j->out + lo, j->x + lo, j->w + lo, hi - lo);
}

/* Flat loops are split in chunks of 4096 elements (items of the task split). */
#define LV_EW_CHUNK 4096

void lv_swiglu(float *out, const float *gate, const float *up, size_t n)
{
    lv_ew_job j = {.out = out, .x = gate, .w = up, .n = n};
    lv_ew_run(&j, lv_swiglu_task, (n + LV_EW_CHUNK - 1) / LV_EW_CHUNK, LV_EW_CHUNK);
}

void lv_swiglu_ref(float *out, const float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)(gate[i] / (1.0 + exp(-(double)gate[i])) * up[i]);
}

static void lv_gelu_tanh_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, j->n, &lo, &hi);
    lv_gelu_tanh_span(j->out + lo, hi - lo);
}

void lv_gelu_tanh(float *x, size_t n)
{
    lv_ew_job j = {.out = x, .n = n};
    lv_ew_run(&j, lv_gelu_tanh_task, (n + LV_EW_CHUNK - 1) / LV_EW_CHUNK, LV_EW_CHUNK);
}

void lv_gelu_tanh_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        x[i] = (float)(0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
    }
}

static void lv_gelu_erf_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, j->n, &lo, &hi);
    for (size_t i = lo; i < hi; i++) j->out[i] = 0.5f * j->out[i] * (1.0f + erff(j->out[i] * 0.70710678118654752f));
}

void lv_gelu_erf(float *x, size_t n)
{
    lv_ew_job j = {.out = x, .n = n};
    lv_ew_run(&j, lv_gelu_erf_task, (n + LV_EW_CHUNK - 1) / LV_EW_CHUNK, LV_EW_CHUNK);
}

void lv_gelu_erf_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0))));
}

/* ---- embeddings ------------------------------------------------------------------------ */

static void lv_embed_task(void *ctx, int task)
{
    const lv_ew_job *j = ctx;
    size_t lo, hi;
    lv_range(j, task, (size_t)j->T, &lo, &hi);
    for (size_t r = lo; r < hi; r++)
        lv_tensor_to_f32(j->out + r * j->D, j->E, (int64_t)j->ids[r] * j->D, j->D);
}

void lv_embed_rows(float *out, const lv_tensor *E, const int32_t *ids, int n, int K)
{
    LV_ASSERT(E->ndim == 2 && E->shape[1] == K);
    lv_ew_job j = {.out = out, .E = E, .ids = ids, .T = n, .D = K};
    lv_ew_run(&j, lv_embed_task, (size_t)n, (size_t)K);
}
