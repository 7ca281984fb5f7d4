/* siglip.c - the SigLIP vision tower as LLaDA-V runs it (SigLipVisionModel of
 * siglip_encoder.py after load_model deleted the last encoder layer, spec §4.1).
 *
 *   view [3, S, S] -> patches [P, 3*p*p] -> patch GEMM + bias + position embedding
 *   -> L x SigLipEncoderLayer:  h += out_proj(attn(LN1(h)));  h += fc2(gelu(fc1(LN2(h))))
 *   -> features [P, Dv]       (no post_layernorm, no head: hidden_states[-1] is taken)
 *
 * GEMM weights are used in place from the mmap (F32/F16/BF16 through lv_matmul); biases,
 * norms and the position table are widened to float32 at load. Every layer present in the
 * weights runs (the published checkpoint already holds only 26 of SigLIP's 27).
 */
#include "vision.h"

#include <stdlib.h>
#include <string.h>

/* Views per GEMM: BF16/F16 weights are widened once per call, so batching views divides that
 * cost; 4 views of the real model keep the scratch near 130 MB. */
#define LV_SIGLIP_BATCH 4

typedef struct {
    const lv_tensor *q_w, *k_w, *v_w, *o_w, *fc1_w, *fc2_w;   /* borrowed, [out, in] */
    float *ln1_w, *ln1_b, *ln2_w, *ln2_b;                     /* [Dv] */
    float *q_b, *k_b, *v_b, *o_b, *fc2_b;                     /* [Dv] */
    float *fc1_b;                                             /* [Fv] */
} siglip_layer;

struct lv_siglip {
    const lv_config *cfg;      /* borrowed */
    int S, p, g, P;            /* view side, patch, patches per side, tokens per view */
    int Dv, Fv, H, HD, L;      /* width, MLP width, heads, head dim, layers */
    float eps;                 /* layer_norm_eps */
    int gelu_tanh;             /* 1: gelu_pytorch_tanh, 0: exact erf gelu */
    lv_tensor patch_w;         /* [Dv, 3*p*p]: the conv weight [Dv, 3, p, p] seen as a matrix */
    float *patch_b;            /* [Dv] */
    float *pos;                /* [P, Dv] */
    siglip_layer *layers;      /* [L] */
    /* scratch for a batch of up to LV_SIGLIP_BATCH views, T = batch * P rows */
    float *patches;            /* [T, 3*p*p] */
    float *h, *a, *q, *k, *v, *ctx;   /* [T, Dv] each */
    float *mlp;                /* [T, Fv] */
    float *mm;                 /* lv_matmul_scratch_floats(max K) */
    float *att;                /* lv_attention_scratch_floats(P) */
};

/* The tensor (kind, layer) with the shape config.c expects for it. */
static lv_status siglip_tensor(const lv_tensor **out, const lv_siglip *e, const lv_weights *w,
                               lv_wkind kind, int layer)
{
    char name[256];
    int64_t shape[LV_ST_MAX_DIMS];
    lv_tensor_name(name, sizeof name, e->cfg, kind, layer);
    int nd = lv_tensor_shape(shape, e->cfg, kind);
    const lv_tensor *t = lv_weights_get(w, name);
    if (!t) return lv_fail(LV_ERR_SHAPE, "vision tower: missing tensor '%s'", name);
    int same = t->ndim == nd && lv_dtype_is_float(t->dtype);
    for (int i = 0; same && i < nd; i++) same = t->shape[i] == shape[i];
    if (!same)
        return lv_fail(LV_ERR_SHAPE, "vision tower: tensor '%s' (%s, %d dims) does not have the "
                       "shape the config implies", name, lv_dtype_name(t->dtype), t->ndim);
    *out = t;
    return LV_OK;
}

static lv_status siglip_f32(float **out, const lv_siglip *e, const lv_weights *w, lv_wkind kind,
                            int layer)
{
    const lv_tensor *t;
    LV_TRY(siglip_tensor(&t, e, w, kind, layer));
    if (!(*out = malloc(sizeof **out * (size_t)t->numel)))
        return lv_fail(LV_ERR_NOMEM, "vision tower: cannot allocate %s", t->name);
    lv_tensor_to_f32(*out, t, 0, t->numel);
    return LV_OK;
}

static lv_status siglip_load_layer(lv_siglip *e, const lv_weights *w, int l)
{
    siglip_layer *y = &e->layers[l];
    LV_TRY(siglip_tensor(&y->q_w, e, w, LV_WV_Q_W, l));
    LV_TRY(siglip_tensor(&y->k_w, e, w, LV_WV_K_W, l));
    LV_TRY(siglip_tensor(&y->v_w, e, w, LV_WV_V_W, l));
    LV_TRY(siglip_tensor(&y->o_w, e, w, LV_WV_O_W, l));
    LV_TRY(siglip_tensor(&y->fc1_w, e, w, LV_WV_FC1_W, l));
    LV_TRY(siglip_tensor(&y->fc2_w, e, w, LV_WV_FC2_W, l));
    LV_TRY(siglip_f32(&y->ln1_w, e, w, LV_WV_LN1_W, l));
    LV_TRY(siglip_f32(&y->ln1_b, e, w, LV_WV_LN1_B, l));
    LV_TRY(siglip_f32(&y->ln2_w, e, w, LV_WV_LN2_W, l));
    LV_TRY(siglip_f32(&y->ln2_b, e, w, LV_WV_LN2_B, l));
    LV_TRY(siglip_f32(&y->q_b, e, w, LV_WV_Q_B, l));
    LV_TRY(siglip_f32(&y->k_b, e, w, LV_WV_K_B, l));
    LV_TRY(siglip_f32(&y->v_b, e, w, LV_WV_V_B, l));
    LV_TRY(siglip_f32(&y->o_b, e, w, LV_WV_O_B, l));
    LV_TRY(siglip_f32(&y->fc1_b, e, w, LV_WV_FC1_B, l));
    LV_TRY(siglip_f32(&y->fc2_b, e, w, LV_WV_FC2_B, l));
    return LV_OK;
}

static lv_status siglip_alloc(float **p, size_t n)
{
    if (!(*p = malloc(sizeof **p * (n ? n : 1))))
        return lv_fail(LV_ERR_NOMEM, "vision tower: cannot allocate %zu floats of scratch", n);
    return LV_OK;
}

static lv_status siglip_init(lv_siglip *e, const lv_config *c, const lv_weights *w)
{
    e->cfg = c;
    e->S = c->v_image_size, e->p = c->v_patch_size;
    e->Dv = c->v_hidden_size, e->Fv = c->v_intermediate_size, e->H = c->v_num_attention_heads;
    e->eps = c->v_layer_norm_eps;
    if (!c->has_vision) return lv_fail(LV_ERR_CONFIG, "the model has no vision tower");
    if (e->p <= 0 || e->S < e->p || e->Dv <= 0 || e->Fv <= 0 || e->H <= 0 || e->Dv % e->H)
        return lv_fail(LV_ERR_CONFIG, "vision_config: invalid sizes (image %d, patch %d, "
                       "hidden %d, intermediate %d, heads %d)", e->S, e->p, e->Dv, e->Fv, e->H);
    if (!strcmp(c->v_hidden_act, "gelu_pytorch_tanh") || !strcmp(c->v_hidden_act, "gelu_new"))
        e->gelu_tanh = 1;
    else if (strcmp(c->v_hidden_act, "gelu"))
        return lv_fail(LV_ERR_UNSUPPORTED, "vision_config: hidden_act '%s' is not supported "
                       "(gelu_pytorch_tanh, gelu_new, gelu)", c->v_hidden_act);
    e->g = e->S / e->p, e->P = e->g * e->g, e->HD = e->Dv / e->H;
    e->L = c->v_num_hidden_layers;
    if (e->L <= 0) {   /* count the layers present, as lv_config_check_weights does */
        char name[256];
        while (lv_weights_get(w, lv_tensor_name(name, sizeof name, c, LV_WV_LN1_W, e->L))) e->L++;
    }
    if (e->L <= 0) return lv_fail(LV_ERR_SHAPE, "vision tower: the weights hold no layer");

    const lv_tensor *pw;
    LV_TRY(siglip_tensor(&pw, e, w, LV_WV_PATCH_W, -1));
    e->patch_w = *pw;
    e->patch_w.ndim = 2;
    e->patch_w.shape[1] = (int64_t)3 * e->p * e->p;
    LV_TRY(siglip_f32(&e->patch_b, e, w, LV_WV_PATCH_B, -1));
    LV_TRY(siglip_f32(&e->pos, e, w, LV_WV_POS, -1));
    if (!(e->layers = calloc((size_t)e->L, sizeof *e->layers)))
        return lv_fail(LV_ERR_NOMEM, "vision tower: cannot allocate %d layers", e->L);
    for (int l = 0; l < e->L; l++) LV_TRY(siglip_load_layer(e, w, l));

    size_t T = (size_t)LV_SIGLIP_BATCH * e->P, PD = T * e->Dv, K = (size_t)3 * e->p * e->p;
    size_t kmax = K > (size_t)e->Fv ? K : (size_t)e->Fv;
    if ((size_t)e->Dv > kmax) kmax = (size_t)e->Dv;
    LV_TRY(siglip_alloc(&e->patches, T * K));
    LV_TRY(siglip_alloc(&e->h, PD));
    LV_TRY(siglip_alloc(&e->a, PD));
    LV_TRY(siglip_alloc(&e->q, PD));
    LV_TRY(siglip_alloc(&e->k, PD));
    LV_TRY(siglip_alloc(&e->v, PD));
    LV_TRY(siglip_alloc(&e->ctx, PD));
    LV_TRY(siglip_alloc(&e->mlp, T * e->Fv));
    LV_TRY(siglip_alloc(&e->mm, lv_matmul_scratch_floats((int)kmax)));
    LV_TRY(siglip_alloc(&e->att, lv_attention_scratch_floats(e->P)));
    return LV_OK;
}

lv_status lv_siglip_load(lv_siglip **out, const lv_config *cfg, const lv_weights *w)
{
    *out = NULL;
    lv_siglip *e = calloc(1, sizeof *e);
    if (!e) return lv_fail(LV_ERR_NOMEM, "vision tower: cannot allocate");
    lv_status s = siglip_init(e, cfg, w);
    if (s != LV_OK) {
        lv_siglip_free(e);
        return s;
    }
    *out = e;
    return LV_OK;
}

void lv_siglip_free(lv_siglip *e)
{
    if (!e) return;
    for (int l = 0; e->layers && l < e->L; l++) {
        siglip_layer *y = &e->layers[l];
        float *owned[] = {y->ln1_w, y->ln1_b, y->ln2_w, y->ln2_b, y->q_b,
                          y->k_b,   y->v_b,   y->o_b,   y->fc1_b, y->fc2_b};
        for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) free(owned[i]);
    }
    float *owned[] = {e->patch_b, e->pos, e->patches, e->h,   e->a,   e->q,
                      e->k,       e->v,   e->ctx,     e->mlp, e->mm,  e->att};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) free(owned[i]);
    free(e->layers);
    free(e);
}

int lv_siglip_n_tokens(const lv_siglip *e) { return e->P; }
int lv_siglip_width(const lv_siglip *e) { return e->Dv; }

/* SigLipEncoderLayer on h [nb*P, Dv] (nb views stacked), in place; attention per view. */
static void siglip_layer_forward(lv_siglip *e, const siglip_layer *y, int nb)
{
    int P = e->P, T = nb * P, Dv = e->Dv, Fv = e->Fv;
    lv_layernorm(e->a, e->h, y->ln1_w, y->ln1_b, T, Dv, e->eps);
    lv_matmul(e->q, e->a, y->q_w, y->q_b, T, Dv, Dv, e->mm);
    lv_matmul(e->k, e->a, y->k_w, y->k_b, T, Dv, Dv, e->mm);
    lv_matmul(e->v, e->a, y->v_w, y->v_b, T, Dv, Dv, e->mm);
    for (int b = 0; b < nb; b++) {   /* softmax((q k^T) * HD^-0.5) v, no mask */
        size_t o = (size_t)b * P * Dv;
        lv_attention(e->ctx + o, e->q + o, e->k + o, e->v + o, P, e->H, e->HD, e->att);
    }
    lv_matmul_acc(e->h, e->ctx, y->o_w, y->o_b, T, Dv, Dv, e->mm);     /* h += out_proj */
    lv_layernorm(e->a, e->h, y->ln2_w, y->ln2_b, T, Dv, e->eps);
    lv_matmul(e->mlp, e->a, y->fc1_w, y->fc1_b, T, Dv, Fv, e->mm);
    if (e->gelu_tanh)
        lv_gelu_tanh(e->mlp, (size_t)T * Fv);
    else
        lv_gelu_erf(e->mlp, (size_t)T * Fv);
    lv_matmul_acc(e->h, e->mlp, y->fc2_w, y->fc2_b, T, Fv, Dv, e->mm); /* h += fc2 */
}

lv_status lv_siglip_encode(lv_siglip *e, const float *pixels, int n, float *out)
{
    int S = e->S, p = e->p, g = e->g, P = e->P, Dv = e->Dv, K = 3 * p * p;
    for (int v0 = 0; v0 < n; v0 += LV_SIGLIP_BATCH) {
        int nb = n - v0 < LV_SIGLIP_BATCH ? n - v0 : LV_SIGLIP_BATCH;
        /* Conv2d(k=p, s=p, no padding) as a GEMM: row r*g+c of a view holds the patch at
         * (r, c) in (channel, row, col) order; the last S - g*p pixel rows/columns are never
         * read. */
        for (int b = 0; b < nb; b++) {
            const float *x = pixels + (size_t)(v0 + b) * 3 * S * S;
            for (int r = 0; r < g; r++)
                for (int c = 0; c < g; c++) {
                    float *d = e->patches + ((size_t)b * P + (size_t)r * g + c) * K;
                    for (int ch = 0; ch < 3; ch++)
                        for (int i = 0; i < p; i++, d += p)
                            memcpy(d, x + ((size_t)ch * S + (size_t)r * p + i) * S +
                                          (size_t)c * p, sizeof *d * p);
                }
        }
        lv_matmul(e->h, e->patches, &e->patch_w, e->patch_b, nb * P, K, Dv, e->mm);
        for (int b = 0; b < nb; b++)   /* + position_embedding(token index) */
            for (size_t i = 0; i < (size_t)P * Dv; i++) e->h[(size_t)b * P * Dv + i] += e->pos[i];
        for (int l = 0; l < e->L; l++) siglip_layer_forward(e, &e->layers[l], nb);
        memcpy(out + (size_t)v0 * P * Dv, e->h, sizeof *out * (size_t)nb * P * Dv);
    }
    return LV_OK;
}
