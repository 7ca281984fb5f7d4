/* llada.c - LLaDA forward (spec §4.4), mirroring LLaDAModel / LLaDADecoderLayer of LLaDA-V's
 * modeling_llada.py (and LLaDALlamaBlock of the original LLaDA-8B under OLMo names):
 *
 *   x [T, D] --per layer: h += Wo·attn(rope(Wq·n), rope(Wk·n), Wv·n), n = rms(h; g_in)
 *                         h += Wdown·(silu(Wgate·m) ⊙ Wup·m),        m = rms(h; g_post)
 *            --rows asked for: rms(h; g_final) · W_lmᵀ--> logits [n_rows, V]
 *
 * Weights stay in the mmap in their stored dtype (lv_matmul widens BF16/F16 panel by panel);
 * only the RMSNorm vectors are copied to float32. Activations are float32 from one arena.
 */
#include "llada.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "language.h"

typedef struct {
    const lv_tensor *wq, *wk, *wv, *wo;       /* borrowed [D, D] */
    const lv_tensor *gate, *up, *down;        /* borrowed [F, D], [F, D], [D, F] */
    float *attn_norm, *ffn_norm;              /* owned [D] */
} lv_llada_layer;

struct lv_llada {
    const lv_config *c;                       /* borrowed */
    int D, F, H, HD, n_layers, V, T_max;
    const lv_tensor *embed;                   /* borrowed [vocab_size, D] */
    const lv_tensor *head;                    /* borrowed [vocab_size, D] (embed when tied) */
    float *final_norm;                        /* owned [D] */
    lv_llada_layer *layers;                   /* owned [n_layers] */
    float *rope_cos, *rope_sin;               /* owned [T_max, HD/2] */
    lv_arena arena;                           /* lv_llada_scratch_size(c, T_max) bytes */
};

/* The activation buffers of one forward, carved from the arena in this order. */
typedef struct {
    float *h;        /* [T, D] residual stream */
    float *xn;       /* [T, D] normed input of a sublayer; later the gathered final rows */
    float *q, *k, *v;/* [T, D] */
    float *att;      /* [T, D] attention output (heads concatenated) */
    float *gate;     /* [T, F] gate projection, then silu(gate) ⊙ up */
    float *up;       /* [T, F] */
    float *scores;   /* lv_attention_scratch_floats(T) */
    float *panel;    /* lv_matmul_scratch_floats(max(D, F)) */
} lv_llada_acts;

static void lv_llada_sizes(const lv_config *c, int T, size_t sz[9])
{
    size_t TD = (size_t)T * c->hidden_size, TF = (size_t)T * c->intermediate_size;
    int K = c->hidden_size > c->intermediate_size ? c->hidden_size : c->intermediate_size;
    sz[0] = sz[1] = sz[2] = sz[3] = sz[4] = sz[5] = TD * sizeof(float);
    sz[6] = sz[7] = TF * sizeof(float);
    sz[8] = (lv_attention_scratch_floats(T) + lv_matmul_scratch_floats(K)) * sizeof(float);
}

size_t lv_llada_scratch_size(const lv_config *c, int T_max)
{
    size_t sz[9], total = 0;
    lv_llada_sizes(c, T_max, sz);
    for (int i = 0; i < 9; i++) total += lv_arena_round(sz[i]);
    return total;
}

static lv_status lv_llada_tensor(const lv_tensor **out, const lv_weights *w, const lv_config *c,
                                 lv_wkind kind, int layer)
{
    char name[256];
    lv_tensor_name(name, sizeof name, c, kind, layer);
    const lv_tensor *t = lv_weights_get(w, name);
    if (!t) return lv_fail(LV_ERR_SHAPE, "llada: missing tensor %s", name);
    if (t->dtype != LV_DTYPE_F32 && t->dtype != LV_DTYPE_F16 && t->dtype != LV_DTYPE_BF16)
        return lv_fail(LV_ERR_DTYPE, "llada: %s: dtype %s, expected F32, F16 or BF16", name,
                       lv_dtype_name(t->dtype));
    int64_t shape[LV_ST_MAX_DIMS];
    int nd = lv_tensor_shape(shape, c, kind);
    int ok = nd == t->ndim;
    for (int i = 0; ok && i < nd; i++) ok = shape[i] == t->shape[i];
    if (!ok)
        return lv_fail(LV_ERR_SHAPE, "llada: %s: shape [%lld, %lld], expected [%lld, %lld]", name,
                       (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0),
                       (long long)shape[0], (long long)(nd > 1 ? shape[1] : 0));
    *out = t;
    return LV_OK;
}

static lv_status lv_llada_norm(float **out, const lv_weights *w, const lv_config *c,
                               lv_wkind kind, int layer)
{
    const lv_tensor *t;
    LV_TRY(lv_llada_tensor(&t, w, c, kind, layer));
    *out = malloc((size_t)t->numel * sizeof **out);
    if (!*out) return lv_fail(LV_ERR_NOMEM, "llada: norm weight of %lld floats", (long long)t->numel);
    lv_tensor_to_f32(*out, t, 0, t->numel);
    return LV_OK;
}

static lv_status lv_llada_load_into(lv_llada *m, const lv_weights *w, const lv_config *c,
                                    int v_eff, int T_max)
{
    m->c = c;
    m->D = c->hidden_size;
    m->F = c->intermediate_size;
    m->H = c->num_attention_heads;
    m->HD = c->head_dim > 0 ? c->head_dim : c->hidden_size / c->num_attention_heads;
    m->n_layers = c->num_hidden_layers;
    m->V = v_eff > 0 ? v_eff : c->vocab_size;
    m->T_max = T_max;
    if (m->H * m->HD != m->D || m->HD % 2 || c->num_key_value_heads != m->H)
        return lv_fail(LV_ERR_CONFIG, "llada: %d heads x head_dim %d (kv heads %d) do not fit "
                       "hidden_size %d with an even head_dim", m->H, m->HD,
                       c->num_key_value_heads, m->D);
    if (m->V > c->vocab_size)
        return lv_fail(LV_ERR_CONFIG, "llada: tokenizer length %d exceeds the %d vocabulary rows",
                       m->V, c->vocab_size);
    if (T_max < 1) return lv_fail(LV_ERR_ARG, "llada: T_max must be >= 1, got %d", T_max);
    if (T_max > LV_MAX_SEQ_LEN)
        return lv_fail(LV_ERR_LIMIT, "llada: sequence of %d rows exceeds the limit of %d", T_max,
                       LV_MAX_SEQ_LEN);
    LV_TRY(lv_llada_tensor(&m->embed, w, c, LV_W_EMBED, -1));
    if (c->tie_word_embeddings) m->head = m->embed;
    else LV_TRY(lv_llada_tensor(&m->head, w, c, LV_W_LM_HEAD, -1));
    LV_TRY(lv_llada_norm(&m->final_norm, w, c, LV_W_FINAL_NORM, -1));
    m->layers = calloc((size_t)m->n_layers, sizeof *m->layers);
    if (!m->layers) return lv_fail(LV_ERR_NOMEM, "llada: %d layers", m->n_layers);
    for (int l = 0; l < m->n_layers; l++) {
        lv_llada_layer *L = &m->layers[l];
        LV_TRY(lv_llada_tensor(&L->wq, w, c, LV_W_Q, l));
        LV_TRY(lv_llada_tensor(&L->wk, w, c, LV_W_K, l));
        LV_TRY(lv_llada_tensor(&L->wv, w, c, LV_W_V, l));
        LV_TRY(lv_llada_tensor(&L->wo, w, c, LV_W_O, l));
        LV_TRY(lv_llada_tensor(&L->gate, w, c, LV_W_GATE, l));
        LV_TRY(lv_llada_tensor(&L->up, w, c, LV_W_UP, l));
        LV_TRY(lv_llada_tensor(&L->down, w, c, LV_W_DOWN, l));
        LV_TRY(lv_llada_norm(&L->attn_norm, w, c, LV_W_ATTN_NORM, l));
        LV_TRY(lv_llada_norm(&L->ffn_norm, w, c, LV_W_FFN_NORM, l));
    }
    size_t half = (size_t)T_max * (size_t)(m->HD / 2);
    m->rope_cos = malloc(half * sizeof *m->rope_cos);
    m->rope_sin = malloc(half * sizeof *m->rope_sin);
    if (!m->rope_cos || !m->rope_sin) return lv_fail(LV_ERR_NOMEM, "llada: rope tables for %d rows", T_max);
    lv_rope_table(m->rope_cos, m->rope_sin, T_max, m->HD, c->rope_theta);
    return lv_arena_init(&m->arena, lv_llada_scratch_size(c, T_max));
}

lv_status lv_llada_load(lv_llada **out, const lv_weights *w, const lv_config *c, int v_eff,
                        int T_max)
{
    *out = NULL;
    lv_llada *m = calloc(1, sizeof *m);
    if (!m) return lv_fail(LV_ERR_NOMEM, "llada: model struct");
    lv_status s = lv_llada_load_into(m, w, c, v_eff, T_max);
    if (s != LV_OK) {
        lv_llada_free(m);
        return s;
    }
    *out = m;
    return LV_OK;
}

void lv_llada_free(lv_llada *m)
{
    if (!m) return;
    if (m->layers)
        for (int l = 0; l < m->n_layers; l++) {
            free(m->layers[l].attn_norm);
            free(m->layers[l].ffn_norm);
        }
    free(m->layers);
    free(m->final_norm);
    free(m->rope_cos);
    free(m->rope_sin);
    lv_arena_free(&m->arena);
    free(m);
}

int lv_llada_dim(const lv_llada *m) { return m->D; }
int lv_llada_vocab(const lv_llada *m) { return m->V; }
int lv_llada_t_max(const lv_llada *m) { return m->T_max; }

lv_status lv_llada_embed(const lv_llada *m, const int32_t *ids, int n, float *out)
{
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->V)
            return lv_fail(LV_ERR_INPUT, "llada: token id %d at position %d outside the vocabulary [0, %d)",
                           ids[i], i, m->V);
    lv_embed_rows(out, m->embed, ids, n, m->D);
    return LV_OK;
}

static void lv_llada_carve(lv_llada *m, lv_llada_acts *a, int T)
{
    size_t sz[9];
    lv_llada_sizes(m->c, T, sz);
    float **dst[9] = {&a->h, &a->xn, &a->q, &a->k, &a->v, &a->att, &a->gate, &a->up, &a->scores};
    lv_arena_reset(&m->arena);
    for (int i = 0; i < 9; i++) {
        *dst[i] = lv_arena_alloc(&m->arena, sz[i]);
        LV_ASSERT(*dst[i] != NULL);   /* sized by lv_llada_scratch_size for T <= T_max */
    }
    a->panel = a->scores + lv_attention_scratch_floats(T);
}

/* One LLaDADecoderLayer, bidirectional, over the nq rows of h [nq, D] (updated in place) at
 * positions q0..q0+nq of a T-row sequence. kc, vc NULL: nq = T, plain attention. Otherwise
 * [T, D] post-RoPE K and V of this layer (RoPE positions are absolute, so cached rows are
 * never rotated again): the rows' K,V overwrite rows q0.. of it and the queries attend to all
 * T rows (with nq = T this is the full forward that fills the cache). */
static void lv_llada_block(lv_llada *m, const lv_llada_layer *L, lv_llada_acts *a, int q0,
                           int nq, int T, float *kc, float *vc)
{
    const int D = m->D, F = m->F;
    const size_t half = (size_t)(m->HD / 2), nD = (size_t)nq * D;
    const float eps = m->c->rms_norm_eps;
    lv_rmsnorm(a->xn, a->h, L->attn_norm, nq, D, eps);
    lv_matmul(a->q, a->xn, L->wq, NULL, nq, D, D, a->panel);
    lv_matmul(a->k, a->xn, L->wk, NULL, nq, D, D, a->panel);
    lv_matmul(a->v, a->xn, L->wv, NULL, nq, D, D, a->panel);
    lv_rope(a->q, m->rope_cos + q0 * half, m->rope_sin + q0 * half, nq, m->H, m->HD);
    lv_rope(a->k, m->rope_cos + q0 * half, m->rope_sin + q0 * half, nq, m->H, m->HD);
    if (kc) {
        memcpy(kc + (size_t)q0 * D, a->k, nD * sizeof *kc);
        memcpy(vc + (size_t)q0 * D, a->v, nD * sizeof *vc);
    }
    if (nq == T)
        lv_attention(a->att, a->q, a->k, a->v, T, m->H, m->HD, a->scores);
    else
        lv_attention_rect(a->att, a->q, nq, kc, vc, T, m->H, m->HD);
    lv_matmul_acc(a->h, a->att, L->wo, NULL, nq, D, D, a->panel);
    /* LLaDAMLP: down(silu(gate(m)) * up(m)) */
    lv_rmsnorm(a->xn, a->h, L->ffn_norm, nq, D, eps);
    lv_matmul(a->gate, a->xn, L->gate, NULL, nq, D, F, a->panel);
    lv_matmul(a->up, a->xn, L->up, NULL, nq, D, F, a->panel);
    lv_swiglu(a->gate, a->gate, a->up, (size_t)nq * F);
    lv_matmul_acc(a->h, a->gate, L->down, NULL, nq, F, D, a->panel);
}

/* Final norm + lm_head only for the requested rows (spec §6.7): logits row i from row
 * rows[i] - q0 of a->h. */
static void lv_llada_head(lv_llada *m, lv_llada_acts *a, int q0, const int32_t *rows, int n_rows,
                          float *logits)
{
    const int D = m->D;
    for (int i = 0; i < n_rows; i++)
        memcpy(a->xn + (size_t)i * D, a->h + (size_t)(rows[i] - q0) * D, (size_t)D * sizeof *a->xn);
    lv_rmsnorm(a->xn, a->xn, m->final_norm, n_rows, D, m->c->rms_norm_eps);
    lv_matmul(logits, a->xn, m->head, NULL, n_rows, D, m->V, a->panel);
}

lv_status lv_llada_forward(lv_llada *m, const float *x, int T, const int32_t *rows, int n_rows,
                           float *logits)
{
    return lv_llada_forward_kv(m, NULL, x, T, 0, T, rows, n_rows, logits);
}

size_t lv_llada_kv_floats(const lv_llada *m, int T)
{
    return (size_t)m->n_layers * 2 * (size_t)T * (size_t)m->D;
}

lv_status lv_llada_forward_kv(lv_llada *m, float *kv, const float *x, int T, int q0, int q1,
                              const int32_t *rows, int n_rows, float *logits)
{
    if (T < 1 || T > m->T_max)
        return lv_fail(LV_ERR_LIMIT, "llada: sequence of %d rows, the model was loaded for at most %d",
                       T, m->T_max);
    if (q0 < 0 || q1 > T || q0 >= q1 || (!kv && (q0 || q1 != T)))
        return lv_fail(LV_ERR_ARG, "llada: rows [%d, %d) of %d%s", q0, q1, T,
                       kv ? "" : " without a K/V cache");
    for (int i = 0; i < n_rows; i++)
        if (rows[i] < q0 || rows[i] >= q1)
            return lv_fail(LV_ERR_ARG, "llada: logits row %d outside the rows [%d, %d)", rows[i], q0, q1);
    lv_llada_acts a;
    lv_llada_carve(m, &a, T);
    const int D = m->D, nq = q1 - q0;
    const size_t TD = (size_t)T * D;
    memcpy(a.h, x, (size_t)nq * D * sizeof *a.h);
    for (int l = 0; l < m->n_layers; l++)
        lv_llada_block(m, &m->layers[l], &a, q0, nq, T, kv ? kv + 2 * l * TD : NULL,
                       kv ? kv + (2 * l + 1) * TD : NULL);
    lv_llada_head(m, &a, q0, rows, n_rows, logits);
    return LV_OK;
}

/* ---- dLLM-Cache (spec §7.1) ----------------------------------------------------------- */

size_t lv_llada_dllm_floats(const lv_llada *m, int T)
{
    return (size_t)m->n_layers * 4 * (size_t)T * (size_t)m->D;
}

static void lv_rows_gather(float *dst, const float *src, const int32_t *idx, int n, int D)
{
    for (int i = 0; i < n; i++)
        memcpy(dst + (size_t)i * D, src + (size_t)idx[i] * D, (size_t)D * sizeof *dst);
}

static void lv_rows_scatter(float *dst, const float *src, const int32_t *idx, int n, int D)
{
    for (int i = 0; i < n; i++)
        memcpy(dst + (size_t)idx[i] * D, src + (size_t)i * D, (size_t)D * sizeof *dst);
}

typedef struct {
    double c;
    int32_t i;
} lv_cos_row;

static int lv_cos_cmp(const void *a_, const void *b_)
{
    const lv_cos_row *a = a_, *b = b_;
    return a->c < b->c ? -1 : a->c > b->c ? 1 : (a->i > b->i) - (a->i < b->i);
}

static int lv_i32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The kT gen rows (absolute, ascending) whose fresh V (vnew [Ng, D]) has the lowest cosine
 * similarity with the cached V (vc rows Lp..T); ties to the lowest row. */
static int lv_dllm_select(int32_t *sel, lv_cos_row *tmp, const float *vnew, const float *vc, int Lp,
                          int Ng, int D, int kT)
{
    for (int g = 0; g < Ng; g++) {
        const float *a = vnew + (size_t)g * D, *b = vc + (size_t)(Lp + g) * D;
        double ab = 0, aa = 0, bb = 0;
        for (int d = 0; d < D; d++) {
            ab += (double)a[d] * b[d];
            aa += (double)a[d] * a[d];
            bb += (double)b[d] * b[d];
        }
        tmp[g].c = ab / fmax(sqrt(aa) * sqrt(bb), 1e-8);   /* F.cosine_similarity eps */
        tmp[g].i = Lp + g;
    }
    qsort(tmp, (size_t)Ng, sizeof *tmp, lv_cos_cmp);
    for (int i = 0; i < kT; i++) sel[i] = tmp[i].i;
    qsort(sel, (size_t)kT, sizeof *sel, lv_i32_cmp);
    return kT;
}

lv_status lv_llada_forward_dllm(lv_llada *m, float *dc, const float *x, int T, int Lp, int rp,
                                int rg, int kT, const int32_t *rows, int n_rows, float *logits)
{
    if (T < 1 || T > m->T_max || Lp < 0 || Lp >= T)
        return lv_fail(LV_ERR_ARG, "llada: dLLM-Cache pass over %d rows (prompt %d, limit %d)", T, Lp,
                       m->T_max);
    for (int i = 0; i < n_rows; i++)
        if (rows[i] < 0 || rows[i] >= T)
            return lv_fail(LV_ERR_ARG, "llada: logits row %d outside the sequence [0, %d)", rows[i], T);
    const int D = m->D, F = m->F, Ng = T - Lp;
    if (kT < 0 || kT > Ng) kT = kT < 0 ? 0 : Ng;
    if (rp && rg) kT = 0;
    int32_t *Q = malloc((size_t)T * sizeof *Q);
    lv_cos_row *tmp = malloc((size_t)Ng * sizeof *tmp);
    if (!Q || !tmp) {
        free(Q);
        free(tmp);
        return lv_fail(LV_ERR_NOMEM, "llada: dLLM-Cache row lists of %d", T);
    }
    lv_llada_acts a;
    lv_llada_carve(m, &a, T);
    const size_t TD = (size_t)T * D, half = (size_t)(m->HD / 2);
    const float eps = m->c->rms_norm_eps;
    memcpy(a.h, x, TD * sizeof *a.h);
    for (int l = 0; l < m->n_layers; l++) {
        const lv_llada_layer *L = &m->layers[l];
        float *Kc = dc + 4 * l * TD, *Vc = Kc + TD, *Ac = Vc + TD, *Mc = Ac + TD;
        /* rows recomputed in this layer: the refreshed part(s), plus (when the gen part is not
         * refreshed) the kT gen rows whose V moved most */
        int nq = 0;
        if (rp)
            for (int i = 0; i < Lp; i++) Q[nq++] = i;
        if (rg) {
            for (int i = Lp; i < T; i++) Q[nq++] = i;
        } else if (kT > 0) {
            lv_rmsnorm(a.q, a.h + (size_t)Lp * D, L->attn_norm, Ng, D, eps);
            lv_matmul(a.k, a.q, L->wv, NULL, Ng, D, D, a.panel);
            nq += lv_dllm_select(Q + nq, tmp, a.k, Vc, Lp, Ng, D, kT);
        }
        if (nq > 0) {
            /* attention rows: q, k, v of Q at their own positions; k, v into the cache */
            lv_rows_gather(a.att, a.h, Q, nq, D);
            lv_rmsnorm(a.xn, a.att, L->attn_norm, nq, D, eps);
            lv_matmul(a.q, a.xn, L->wq, NULL, nq, D, D, a.panel);
            lv_matmul(a.k, a.xn, L->wk, NULL, nq, D, D, a.panel);
            lv_matmul(a.v, a.xn, L->wv, NULL, nq, D, D, a.panel);
            for (int i = 0; i < nq; i++) {
                size_t o = (size_t)i * D, p = (size_t)Q[i] * half;
                lv_rope(a.q + o, m->rope_cos + p, m->rope_sin + p, 1, m->H, m->HD);
                lv_rope(a.k + o, m->rope_cos + p, m->rope_sin + p, 1, m->H, m->HD);
            }
            lv_rows_scatter(Kc, a.k, Q, nq, D);
            lv_rows_scatter(Vc, a.v, Q, nq, D);
            lv_attention_rect(a.att, a.q, nq, Kc, Vc, T, m->H, m->HD);
            lv_matmul(a.xn, a.att, L->wo, NULL, nq, D, D, a.panel);
            lv_rows_scatter(Ac, a.xn, Q, nq, D);
        }
        /* residual with the fresh input of every row, then the MLP of the same rows */
        for (size_t i = 0; i < TD; i++) a.h[i] += Ac[i];
        if (nq > 0) {
            lv_rows_gather(a.att, a.h, Q, nq, D);
            lv_rmsnorm(a.xn, a.att, L->ffn_norm, nq, D, eps);
            lv_matmul(a.gate, a.xn, L->gate, NULL, nq, D, F, a.panel);
            lv_matmul(a.up, a.xn, L->up, NULL, nq, D, F, a.panel);
            lv_swiglu(a.gate, a.gate, a.up, (size_t)nq * F);
            lv_matmul(a.q, a.gate, L->down, NULL, nq, F, D, a.panel);
            lv_rows_scatter(Mc, a.q, Q, nq, D);
        }
        for (size_t i = 0; i < TD; i++) a.h[i] += Mc[i];
    }
    free(Q);
    free(tmp);
    lv_llada_head(m, &a, 0, rows, n_rows, logits);
    return LV_OK;
}

lv_status lv_llada_session_init(lv_llada_session *s, lv_llada *m, const float *prompt,
                                int n_prompt, int32_t mask_id, int n_tail_max)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->prompt = prompt;
    s->n_prompt = n_prompt;
    s->mask_id = mask_id;
    s->n_tail_max = n_tail_max;
    if (n_prompt + n_tail_max > m->T_max)
        return lv_fail(LV_ERR_LIMIT, "llada: prompt %d + response %d rows exceed the limit of %d",
                       n_prompt, n_tail_max, m->T_max);
    size_t D = (size_t)m->D;
    s->x = malloc((size_t)(n_prompt + n_tail_max) * D * sizeof *s->x);
    s->mask_row = malloc(D * sizeof *s->mask_row);
    s->abs_rows = malloc((size_t)(n_tail_max > 0 ? n_tail_max : 1) * sizeof *s->abs_rows);
    if (!s->x || !s->mask_row || !s->abs_rows) {
        lv_llada_session_free(s);
        return lv_fail(LV_ERR_NOMEM, "llada: session of %d rows", n_prompt + n_tail_max);
    }
    lv_status st = lv_llada_embed(m, &mask_id, 1, s->mask_row);
    if (st != LV_OK) lv_llada_session_free(s);
    return st;
}

void lv_llada_session_free(lv_llada_session *s)
{
    if (!s) return;
    free(s->kv);
    s->kv = NULL;
    free(s->x);
    free(s->mask_row);
    free(s->abs_rows);
    s->x = s->mask_row = NULL;
    s->abs_rows = NULL;
}

const char *lv_cache_mode_name(lv_cache_mode c)
{
    return c == LV_CACHE_NONE ? "none" : c == LV_CACHE_PREFIX ? "prefix" : c == LV_CACHE_DUAL ? "dual"
         : c == LV_CACHE_DLLM ? "dllm" : "?";
}

lv_status lv_cache_mode_parse(lv_cache_mode *out, const char *name)
{
    for (int c = 0; c < LV_CACHE_COUNT; c++)
        if (!strcmp(name, lv_cache_mode_name((lv_cache_mode)c))) {
            *out = (lv_cache_mode)c;
            return LV_OK;
        }
    return lv_fail(LV_ERR_ARG, "cache: unknown mode '%s' (expected none, prefix, dual or dllm)", name);
}

lv_status lv_dllm_cache_parse(lv_cache_params *c, const char *spec)
{
    int pi = 0, gi = 0, n = 0;
    double r = -1;
    if (sscanf(spec, "%d,%d,%lf%n", &pi, &gi, &r, &n) != 3 || spec[n] || pi < 1 || gi < 1 ||
        !(r >= 0.0 && r <= 1.0))
        return lv_fail(LV_ERR_ARG, "dllm-cache: expected PROMPT_INTERVAL,GEN_INTERVAL,RATIO with "
                       "intervals >= 1 and 0 <= RATIO <= 1 (e.g. 25,7,0.25), got '%s'", spec);
    c->mode = LV_CACHE_DLLM;
    c->prompt_interval = pi;
    c->gen_interval = gi;
    c->transfer_ratio = r;
    return LV_OK;
}

lv_status lv_fast_mode_apply(const char *mode, lv_cache_params *c, lv_diffusion_params *p)
{
    memset(c, 0, sizeof *c);
    p->threshold = p->factor = 0;
    if (!strcmp(mode, "exact")) return LV_OK;
    /* chosen on the held-out shapes benchmark (docs/MODES.md): the dual cache alone changed no
     * answer there; factor 2 was the fastest setting that kept the score */
    c->mode = LV_CACHE_DUAL;   /* refreshed at each block start */
    if (!strcmp(mode, "fastest")) p->factor = 2.0;
    else if (strcmp(mode, "fast"))
        return lv_fail(LV_ERR_ARG, "mode: unknown preset '%s' (expected exact, fast or fastest)", mode);
    return LV_OK;
}

lv_status lv_llada_pass(void *session, const lv_pass_info *at)
{
    lv_llada_session *s = session;
    s->at = *at;
    s->at_set = 1;
    return LV_OK;
}

void lv_prefix_store_free(lv_prefix_store *ps)
{
    if (!ps) return;
    free(ps->x);
    free(ps->kv);
    memset(ps, 0, sizeof *ps);
}

/* Rows [0, P) of kv (layout [layer][K|V][T, D]) and of their inputs x into the store. */
static lv_status lv_prefix_store_save(lv_prefix_store *ps, const lv_llada *m, const float *kv, int T,
                                      const float *x, int P)
{
    const size_t PD = (size_t)P * m->D, TD = (size_t)T * m->D;
    long saved = ps->n_saved, reused = ps->n_reused;
    lv_prefix_store_free(ps);
    ps->n_saved = saved + 1;
    ps->n_reused = reused;
    ps->x = malloc(PD * sizeof *ps->x);
    ps->kv = malloc(2 * (size_t)m->n_layers * PD * sizeof *ps->kv);
    if (!ps->x || !ps->kv) {
        lv_prefix_store_free(ps);
        return lv_fail(LV_ERR_NOMEM, "llada: prefix store of %d rows", P);
    }
    memcpy(ps->x, x, PD * sizeof *ps->x);
    for (int l = 0; l < 2 * m->n_layers; l++) memcpy(ps->kv + l * PD, kv + l * TD, PD * sizeof *ps->kv);
    ps->P = P;
    ps->precision = (int)lv_precision_get();
    return LV_OK;
}

/* Prefix / dual cache pass (spec §7.2): a full forward that refills the cache at the block
 * start and every `refresh` steps, else only rows [Lp + bs, q1) against the cached K,V. */
static lv_status lv_llada_logits_cached(lv_llada_session *s, const int32_t *tail, int n_tail,
                                        const int32_t *rows, int n_rows, float *logits)
{
    const int Lp = s->n_prompt, T = Lp + n_tail;
    const size_t D = (size_t)s->m->D;
    if (!s->kv) {
        s->kv = malloc(lv_llada_kv_floats(s->m, Lp + s->n_tail_max) * sizeof *s->kv);
        if (!s->kv)
            return lv_fail(LV_ERR_NOMEM, "llada: K/V cache of %d rows", Lp + s->n_tail_max);
    }
    int refresh = s->cache.refresh > 0 ? s->cache.refresh : 0;
    int full = !s->at_set || !s->kv_full || s->at.step == 0 ||
               (refresh > 0 && s->at.step % refresh == 0);
    int q0 = full ? 0 : Lp + s->at.bs, q1 = T;
    /* reuse_prefix: a full pass starts after the prefix when the store holds these very rows */
    int P = s->store && s->prefix_rows > 0 && s->prefix_rows < Lp ? s->prefix_rows : 0;
    lv_prefix_store *ps = s->store;
    int take = full && P && ps->P == P && ps->precision == (int)lv_precision_get() &&
               !memcmp(ps->x, s->prompt, (size_t)P * D * sizeof *ps->x);
    if (!full && s->cache.mode == LV_CACHE_DUAL) {
        q1 = Lp + s->at.be;   /* and any requested row beyond the block (after a stop) */
        if (n_rows > 0 && Lp + rows[n_rows - 1] + 1 > q1) q1 = Lp + rows[n_rows - 1] + 1;
        if (q1 > T) q1 = T;
    }
    if (take) {
        /* the prefix K/V into this sequence's layout ([layer][K|V][T, D]); rows [P, T) run */
        const size_t PD = (size_t)P * D, TD = (size_t)T * D;
        for (int l = 0; l < 2 * s->m->n_layers; l++)
            memcpy(s->kv + l * TD, ps->kv + l * PD, PD * sizeof *s->kv);
        q0 = P;
        memcpy(s->x, s->prompt + PD, (size_t)(Lp - P) * D * sizeof *s->x);
        LV_TRY(lv_llada_embed(s->m, tail, n_tail, s->x + (size_t)(Lp - P) * D));
    } else if (full) {
        memcpy(s->x, s->prompt, (size_t)Lp * D * sizeof *s->x);
        LV_TRY(lv_llada_embed(s->m, tail, n_tail, s->x + (size_t)Lp * D));
    } else {
        LV_TRY(lv_llada_embed(s->m, tail + (q0 - Lp), q1 - q0, s->x));
    }
    for (int i = 0; i < n_rows; i++) s->abs_rows[i] = rows[i] + Lp;
    LV_TRY(lv_llada_forward_kv(s->m, s->kv, s->x, T, q0, q1, s->abs_rows, n_rows, logits));
    if (take) {
        ps->n_reused++;
    } else if (full && P && !s->kv_full) {
        /* the first full pass of a request the store cannot serve: keep its prefix */
        LV_TRY(lv_prefix_store_save(ps, s->m, s->kv, T, s->prompt, P));
    }
    s->kv_full = 1;
    if (full) s->n_full++;
    else s->n_partial++;
    return LV_OK;
}

/* dLLM-Cache pass (spec §7.1): the pass counter decides which parts are refreshed. */
static lv_status lv_llada_logits_dllm(lv_llada_session *s, const int32_t *tail, int n_tail,
                                      const int32_t *rows, int n_rows, float *logits)
{
    const int Lp = s->n_prompt, T = Lp + n_tail;
    const size_t D = (size_t)s->m->D;
    if (!s->kv) {
        s->kv = malloc(lv_llada_dllm_floats(s->m, Lp + s->n_tail_max) * sizeof *s->kv);
        if (!s->kv) return lv_fail(LV_ERR_NOMEM, "llada: dLLM-Cache of %d rows", Lp + s->n_tail_max);
    }
    const lv_cache_params *c = &s->cache;
    int pi = c->prompt_interval > 0 ? c->prompt_interval : 25;
    int gi = c->gen_interval > 0 ? c->gen_interval : 7;
    double ratio = c->prompt_interval > 0 ? c->transfer_ratio : 0.25;
    int n = s->n_dllm++;   /* (pass - 1) of the reference's counter */
    int rp = n % pi == 0, rg = n % gi == 0;
    memcpy(s->x, s->prompt, (size_t)Lp * D * sizeof *s->x);
    LV_TRY(lv_llada_embed(s->m, tail, n_tail, s->x + (size_t)Lp * D));
    for (int i = 0; i < n_rows; i++) s->abs_rows[i] = rows[i] + Lp;
    LV_TRY(lv_llada_forward_dllm(s->m, s->kv, s->x, T, Lp, rp, rg, (int)floor(n_tail * ratio),
                                 s->abs_rows, n_rows, logits));
    if (rp && rg) s->n_full++;
    else s->n_partial++;
    return LV_OK;
}

lv_status lv_llada_logits(void *session, const int32_t *tail, int n_tail, int uncond,
                          const int32_t *rows, int n_rows, float *logits)
{
    lv_llada_session *s = session;
    const size_t D = (size_t)s->m->D;
    if (n_tail > s->n_tail_max || n_rows > n_tail)
        return lv_fail(LV_ERR_ARG, "llada: %d tail rows, the session holds %d", n_tail, s->n_tail_max);
    if (!uncond && s->cache.mode == LV_CACHE_DLLM)
        return lv_llada_logits_dllm(s, tail, n_tail, rows, n_rows, logits);
    if (!uncond && s->cache.mode != LV_CACHE_NONE)
        return lv_llada_logits_cached(s, tail, n_tail, rows, n_rows, logits);
    if (uncond)   /* cfg: the whole prompt (BOS and image rows included) becomes mask rows */
        for (int i = 0; i < s->n_prompt; i++) memcpy(s->x + i * D, s->mask_row, D * sizeof *s->x);
    else
        memcpy(s->x, s->prompt, (size_t)s->n_prompt * D * sizeof *s->x);
    LV_TRY(lv_llada_embed(s->m, tail, n_tail, s->x + (size_t)s->n_prompt * D));
    for (int i = 0; i < n_rows; i++) s->abs_rows[i] = rows[i] + s->n_prompt;
    return lv_llada_forward(s->m, s->x, s->n_prompt + n_tail, s->abs_rows, n_rows, logits);
}

/* ---- model directory ------------------------------------------------------------------ */

lv_status lv_llada_tokens_resolve(lv_llada_tokens *t, const lv_config *c, const lv_tokenizer *tok)
{
    memset(t, 0, sizeof *t);
    t->bos = lv_tokenizer_added_id(tok, "<|startoftext|>");
    t->eos = lv_tokenizer_added_id(tok, "<|endoftext|>");
    t->eot = lv_tokenizer_added_id(tok, "<|eot_id|>");
    t->start_header = lv_tokenizer_added_id(tok, "<|start_header_id|>");
    t->end_header = lv_tokenizer_added_id(tok, "<|end_header_id|>");
    int32_t mask = lv_tokenizer_added_id(tok, "<|mdm_mask|>");
    t->mask = c->mask_token_id >= 0 ? c->mask_token_id : mask >= 0 ? mask : 126336;
    int n = lv_tokenizer_size(tok);
    t->v_eff = n < c->vocab_size ? n : c->vocab_size;
    if (t->mask >= t->v_eff)
        return lv_fail(LV_ERR_CONFIG, "mask token id %d outside the %d usable vocabulary rows "
                       "(set mask_token_id in config.json or add <|mdm_mask|> to tokenizer.json)",
                       t->mask, t->v_eff);
    const int32_t cand[4] = {t->eos, t->bos, t->start_header, t->end_header};
    for (int i = 0; i < 4; i++)
        if (cand[i] >= 0 && cand[i] < t->v_eff) t->bans[t->n_bans++] = cand[i];
    t->eot_stop.ids = &t->eot;
    t->eot_stop.n = t->eot >= 0 ? 1 : 0;
    return LV_OK;
}

void lv_llada_tokens_apply(const lv_llada_tokens *t, lv_diffusion_params *p)
{
    p->mask_id = t->mask;
    p->vocab = t->v_eff;
    p->ban_ids = t->bans;
    p->n_ban = t->n_bans;
    p->stops = t->eot_stop.n ? &t->eot_stop : NULL;
    p->n_stops = t->eot_stop.n ? 1 : 0;
    p->eos_id = t->eos;
    p->eot_id = t->eot;
}

lv_status lv_llada_dir_open(lv_llada_dir *d, const char *dir)
{
    memset(d, 0, sizeof *d);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    LV_TRY(lv_config_load(&d->cfg, path));
    LV_TRY(lv_weights_open(&d->w, dir));
    LV_TRY(lv_config_check_weights(&d->cfg, d->w));
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    LV_TRY(lv_tokenizer_load(&d->tok, path));
    return lv_llada_tokens_resolve(&d->ids, &d->cfg, d->tok);
}

lv_status lv_llada_dir_load_lm(lv_llada_dir *d, int T_max)
{
    if (d->lm && lv_llada_t_max(d->lm) >= T_max) return LV_OK;   /* the arena is big enough */
    lv_llada_free(d->lm);
    d->lm = NULL;
    return lv_llada_load(&d->lm, d->w, &d->cfg, d->ids.v_eff, T_max);
}

void lv_llada_dir_free(lv_llada_dir *d)
{
    if (!d) return;
    lv_prefix_store_free(&d->prefix);
    lv_llada_free(d->lm);
    lv_tokenizer_free(d->tok);
    lv_weights_free(d->w);
    d->lm = NULL;
    d->tok = NULL;
    d->w = NULL;
}

lv_status lv_llada_dir_generate(lv_llada_dir *d, const float *pe, int Lp,
                                const lv_diffusion_params *p, lv_diffusion_result *r)
{
    int n_tail = p->gen_length + p->n_suffix;
    LV_TRY(lv_llada_dir_load_lm(d, Lp + n_tail));
    lv_llada_session s;
    if (d->cache.reuse_prefix && d->cache.mode == LV_CACHE_DLLM)
        return lv_fail(LV_ERR_UNSUPPORTED, "reuse-prefix: not with the dLLM-Cache (use --cache prefix or dual)");
    LV_TRY(lv_llada_session_init(&s, d->lm, pe, Lp, p->mask_id, n_tail));
    s.cache = d->cache;
    if (s.cache.reuse_prefix) {
        if (s.cache.mode == LV_CACHE_NONE) {   /* every pass full, from the kept prefix on */
            s.cache.mode = LV_CACHE_PREFIX;
            s.cache.refresh = 1;
        }
        s.store = &d->prefix;
        s.prefix_rows = d->prefix_rows;
    }
    lv_diffusion_params pc = *p;
    pc.on_pass = lv_llada_pass;
    lv_status st = lv_diffusion_generate(&pc, lv_llada_logits, &s, r);
    lv_llada_session_free(&s);
    return st;
}
