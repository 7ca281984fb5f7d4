/* kernels.h - the numeric building blocks of the vision tower, projector and LLaDA.
 *
 * Dimension legend (row-major everywhere):
 *   M, N, K  GEMM: y[M,N] = x[M,K] · W[N,K]ᵀ        T   tokens (rows) in a sequence
 *   D        model width (hidden_size)                H   attention heads
 *   HD       head dim (D / H)                         F   MLP width (intermediate_size)
 *   V        vocabulary rows used (V_eff)             n   element count of a flat array
 *
 * Conventions: out, inputs, weights, dims (style.md B6). Activations are float32; weights of
 * GEMMs are lv_tensor views (F32, F16 or BF16) used in place from the mmap. OpenMP parallel
 * loops run over rows or heads only, never around a BLAS call (OpenBLAS is the pthread build),
 * and every reduction runs in a fixed order inside one row, so results do not depend on the
 * thread count. Each kernel has a naive `_ref` twin for tests (float64 accumulation).
 */
#ifndef LV_KERNELS_H
#define LV_KERNELS_H

#include <stddef.h>

#include "safetensors.h"

/* Smallest element count worth an OpenMP team: below it a loop runs on the calling thread
 * (on a loaded machine, waking and spinning threads for a few KB costs more than the work;
 * rows are independent, so the choice never changes a result). */
#define LV_OMP_MIN_WORK ((size_t)1 << 16)

/* Floats of the BF16/F16 -> F32 conversion panel of lv_matmul: 1M floats = 4 MiB, so a weight
 * is widened a few hundred rows at a time into reusable scratch, never as a whole. */
#define LV_MATMUL_PANEL_FLOATS ((size_t)1 << 20)

/* Scratch floats lv_matmul needs for a weight with K columns (0 is enough for F32 weights). */
size_t lv_matmul_scratch_floats(int K);

/* y[M,N] = x[M,K] · W[0:N, 0:K]ᵀ (+ bias[N]); lv_matmul_acc adds into y instead (residuals).
 * W: [>=N, K] F32/F16/BF16 tensor (only its first N rows are used, e.g. V_eff of lm_head).
 * scratch: caller-allocated, lv_matmul_scratch_floats(K) floats (may be NULL for F32). */
void lv_matmul(float *y, const float *x, const lv_tensor *W, const float *bias, int M, int K,
               int N, float *scratch);
void lv_matmul_acc(float *y, const float *x, const lv_tensor *W, const float *bias, int M,
                   int K, int N, float *scratch);
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
 * scores: caller-allocated lv_attention_scratch_floats(T) floats (min(T, 2048) rows of T);
 * queries are processed in blocks of 256 and heads in groups that fit, so memory stays
 * O(T) rows of scores however long the sequence is. */
size_t lv_attention_scratch_floats(int T);
void lv_attention(float *out, const float *q, const float *k, const float *v, int T, int H,
                  int HD, float *scores);
void lv_attention_ref(float *out, const float *q, const float *k, const float *v, int T, int H,
                      int HD);

/* In-place softmax of each of `rows` rows of length n (float32, max-subtracted). */
void lv_softmax_rows(float *x, int rows, int n);
void lv_softmax_rows_ref(float *x, int rows, int n);
/* float64 softmax probability of entry idx of l[n]: exp(l[idx] - max) / Σ exp(l - max), summed
 * in index order (spec §6.7). -inf entries contribute 0. */
double lv_softmax64_prob(const float *l, int n, int idx);

/* out[n] = silu(gate) ⊙ up, silu(x) = x·σ(x) (SwiGLU of LLaDAMLP). out may alias gate. */
void lv_swiglu(float *out, const float *gate, const float *up, size_t n);
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
