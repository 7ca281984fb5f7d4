/* kernels.h - the numeric building blocks of the vision tower, projector and LLaDA.
 *
 * Dimension legend (row-major everywhere):
 *   M, N, K  GEMM: y[M,N] = x[M,K] · W[N,K]ᵀ        T   tokens (rows) in a sequence
 *   D        model width (hidden_size)                H   attention heads
 *   HD       head dim (D / H)                         F   MLP width (intermediate_size)
 *   V        vocabulary rows used (V_eff)             n   element count of a flat array
 *
 * Conventions: out, inputs, weights, dims (style.md B6). Activations are float32; weights of
 * GEMMs are lv_tensor views (F32, F16 or BF16) used in place from the mmap. Every kernel runs
 * on the thread pool of threads.h: GEMMs in fixed slices of output columns (single-threaded
 * OpenBLAS inside each task), attention per (query block, head), plain loops per row range;
 * every reduction runs in a fixed order inside one task, so results do not depend on the
 * thread count. Each kernel has a naive `_ref` twin for tests (float64 accumulation).
 */
#ifndef LV_KERNELS_H
#define LV_KERNELS_H

#include <stddef.h>

#include "safetensors.h"

/* Smallest element count worth an OpenMP team, for the OpenMP loops outside core/ (core's own
 * loops use LV_PAR_MIN_WORK of threads.h): below it a loop runs on the calling thread. */
#define LV_OMP_MIN_WORK ((size_t)1 << 16)

/* Scratch floats lv_matmul needs from its caller: none any more (each pool thread widens
 * BF16/F16 weight rows, 128 at a time, into its own lv_thread_scratch); kept so callers that
 * size a scratch buffer still compile. Returns 1. */
size_t lv_matmul_scratch_floats(int K);

/* y[M,N] = x[M,K] · W[0:N, 0:K]ᵀ (+ bias[N]); lv_matmul_acc adds into y instead (residuals).
 * W: [>=N, K] F32/F16/BF16 tensor (only its first N rows are used, e.g. V_eff of lm_head).
 * scratch: unused (may be NULL). */
void lv_matmul(float *y, const float *x, const lv_tensor *W, const float *bias, int M, int K,
               int N, float *scratch);
void lv_matmul_acc(float *y, const float *x, const lv_tensor *W, const float *bias, int M,
                   int K, int N, float *scratch);
/* Arithmetic of GEMMs with BF16 weights, process-wide like the thread count:
 *   LV_PRECISION_F32  (default) weights widened to float32, OpenBLAS sgemm: exact float32 math;
 *   LV_PRECISION_BF16 activations rounded to bf16 (round to nearest even), products summed in
 *                     float32 by AVX512-BF16 (kernels_avx512.c): ~2x the float32 peak, but the
 *                     rounding changes logits (opt-in; --precision bf16). Attention follows
 *                     it too, whatever the weights' dtype (lv_attention_bf16).
 * BF16 GEMMs fall back to F32 when the CPU lacks AVX512-BF16 or a weight is not BF16. */
typedef enum { LV_PRECISION_F32, LV_PRECISION_BF16 } lv_precision;
void         lv_precision_set(lv_precision p);
lv_precision lv_precision_get(void);
int          lv_bf16_gemm_available(void);   /* cpuid: avx512f/bw/vl + avx512_bf16 */
/* The BF16 path itself: returns 0 (nothing written) when it cannot run (dtype, CPU, memory). */
int          lv_matmul_bf16(float *y, const float *x, const lv_tensor *W, const float *bias,
                            int M, int K, int N, int accumulate);

void lv_matmul_ref(float *y, const float *x, const lv_tensor *W, const float *bias, int M,
                   int K, int N, int accumulate);

/* RMSNorm (LLaDARMSNorm, spec §4.4): out[t] = (x[t] · (mean(x[t]²) + eps)^-1/2) ⊙ w.
 * Statistics in float64-accumulated float32; the normalised row is rounded to float32 before
 * the weight multiply, as the reference casts before multiplying. out may alias x. [T, D] */
void lv_rmsnorm(float *out, const float *x, const float *w, int T, int D, float eps);
void lv_rmsnorm_ref(float *out, const float *x, const float *w, int T, int D, float eps);

/* LayerNorm (nn.LayerNorm, biased variance): out = (x - mean)/sqrt(var + eps) ⊙ w + b. [T, D] */
void lv_layernorm(float *out, const float *x, const float *w, const float *b, int T, int D,
                  float eps);
void lv_layernorm_ref(float *out, const float *x, const float *w, const float *b, int T, int D,
                      float eps);

/* Rotate-half RoPE tables (LLaDARotaryEmbedding): inv_freq[i] = 1 / theta^(2i/HD) computed in
 * float32, angle = float32(p) · inv_freq[i]; cos, sin: caller-allocated [T, HD/2]. */
void lv_rope_table(float *cos_t, float *sin_t, int T, int HD, double theta);
/* In place on x[T, H*HD]: per head, x = x ⊙ cos + rotate_half(x) ⊙ sin, dim i paired with
 * i + HD/2. Position of row t is t. */
void lv_rope(float *x, const float *cos_t, const float *sin_t, int T, int H, int HD);
void lv_rope_ref(float *x, int T, int H, int HD, double theta);

/* Bidirectional multi-head attention (no mask), softmax in float32:
 * out[T, H*HD] = concat_h softmax(q_h k_hᵀ / sqrt(HD)) v_h, with q, k, v [T, H*HD].
 * One pool task per (block of 256 queries, head): its [256, T] scores live in the thread's
 * lv_thread_scratch, so memory is O(threads · 256 · T), never T × T per head.
 * scores: unused (may be NULL); lv_attention_scratch_floats returns 1 for older callers. */
size_t lv_attention_scratch_floats(int T);
void lv_attention(float *out, const float *q, const float *k, const float *v, int T, int H,
                  int HD, float *scores);
void lv_attention_ref(float *out, const float *q, const float *k, const float *v, int T, int H,
                      int HD);
/* The same for nq query rows q[nq, H*HD] over Tk key/value rows k, v [Tk, H*HD]: the rows a
 * prefix / dual K/V cache recomputes, against every cached row (lv_attention: nq = Tk = T). */
void lv_attention_rect(float *out, const float *q, int nq, const float *k, const float *v, int Tk,
                       int H, int HD);

/* The bf16 path of lv_attention_rect (under LV_PRECISION_BF16; kernels_avx512.c): q, k, then
 * the probabilities and v rounded to bf16, products summed in float32 by AVX512-BF16, float32
 * softmax; one task per head. Returns 0 (nothing written) without AVX512-BF16. */
int lv_attention_bf16(float *out, const float *q, int nq, const float *k, const float *v, int Tk,
                      int H, int HD);

/* In-place softmax of each of `rows` rows of length n (float32, max-subtracted);
 * lv_softmax_row is one row on the calling thread (the attention's rows): AVX-512 exp
 * (Cephes, 1-2 ulp) and 16-lane sums when the CPU has AVX-512F (kernels_avx512.c), else expf
 * and a running sum; either way a fixed order. */
void lv_softmax_rows(float *x, int rows, int n);
void lv_softmax_row(float *x, int n);
void lv_softmax_rows_ref(float *x, int rows, int n);
/* float64 softmax probability of entry idx of l[n]: exp(l[idx] - max) / Σ exp(l - max), summed
 * in index order (spec §6.7). -inf entries contribute 0. */
double lv_softmax64_prob(const float *l, int n, int idx);

/* out[n] = silu(gate) ⊙ up, silu(x) = x·σ(x) (SwiGLU of LLaDAMLP). out may alias gate.
 * lv_swiglu_span / lv_gelu_tanh_span: one span on the calling thread, AVX-512 exp when the CPU
 * has AVX-512F (kernels_avx512.c), else expf / tanhf. */
void lv_swiglu(float *out, const float *gate, const float *up, size_t n);
void lv_swiglu_span(float *out, const float *gate, const float *up, size_t n);
void lv_gelu_tanh_span(float *x, size_t n);
void lv_swiglu_ref(float *out, const float *gate, const float *up, size_t n);
/* In place: GELU tanh approximation (gelu_pytorch_tanh, SigLIP) and exact erf GELU (nn.GELU). */
void lv_gelu_tanh(float *x, size_t n);
void lv_gelu_tanh_ref(float *x, size_t n);
void lv_gelu_erf(float *x, size_t n);
void lv_gelu_erf_ref(float *x, size_t n);

/* out[n, K] = rows ids[0..n) of an embedding tensor E [rows, K] widened to float32.
 * ids must be in [0, E->shape[0]) (checked by the caller). */
void lv_embed_rows(float *out, const lv_tensor *E, const int32_t *ids, int n, int K);

#endif
