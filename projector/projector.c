/* projector.c - mlp2x_gelu: z = W2 · gelu_erf(W1 · f + b1) + b2 per token, as the
 * nn.Sequential(Linear, GELU(), Linear) built by multimodal_projector/builder.py (spec §4.2).
 *
 *   features [T, Dv] --Linear 0--> [T, D] --GELU (exact erf, not tanh)--> --Linear 2--> [T, D]
 *
 * Weights are used in place from the mmap through lv_matmul; rows go through in blocks of
 * LV_PROJ_ROWS so scratch stays bounded whatever the number of views.
 */
#include "projector.h"

#include <stdlib.h>
#include <string.h>

#define LV_PROJ_ROWS 256

struct lv_projector {
    int Dv, D;                  /* mm_hidden_size, hidden_size */
    const lv_tensor *w0, *w2;   /* borrowed: [D, Dv], [D, D] */
    float *b0, *b2;             /* [D] */
    float *newline;             /* [D], NULL when absent */
    float *hid;                 /* [LV_PROJ_ROWS, D] */
    float *mm;                  /* lv_matmul_scratch_floats(max(Dv, D)) */
};

/* *out = tensor (kind) with the shape config.c expects; a missing optional tensor is NULL. */
static lv_status proj_tensor(const lv_tensor **out, const lv_config *c, const lv_weights *w,
                             lv_wkind kind, int required)
{
    char name[256];
    int64_t shape[LV_ST_MAX_DIMS];
    lv_tensor_name(name, sizeof name, c, kind, -1);
    int nd = lv_tensor_shape(shape, c, kind);
    const lv_tensor *t = *out = lv_weights_get(w, name);
    if (!t)
        return required ? lv_fail(LV_ERR_SHAPE, "projector: missing tensor '%s'", name) : LV_OK;
    int ok = t->ndim == nd && lv_dtype_is_float(t->dtype);
    for (int i = 0; ok && i < nd; i++) ok = t->shape[i] == shape[i];
    if (!ok)
        return lv_fail(LV_ERR_SHAPE, "projector: tensor '%s' has shape [%lld%s] (%s), expected "
                       "[%lld%s]", name, (long long)t->shape[0], t->ndim > 1 ? ", ..." : "",
                       lv_dtype_name(t->dtype), (long long)shape[0], nd > 1 ? ", ..." : "");
    return LV_OK;
}

static float *proj_widen(const lv_tensor *t)
{
    float *f = malloc(sizeof *f * (size_t)t->numel);
    if (f) lv_tensor_to_f32(f, t, 0, t->numel);
    return f;
}

static lv_status proj_init(lv_projector *pj, const lv_config *c, const lv_weights *w)
{
    if (!c->has_vision) return lv_fail(LV_ERR_CONFIG, "the model has no multimodal projector");
    if (strcmp(c->mm_projector_type, "mlp2x_gelu"))
        return lv_fail(LV_ERR_UNSUPPORTED, "mm_projector_type '%s' is not supported "
                       "(only mlp2x_gelu)", c->mm_projector_type);
    pj->Dv = c->mm_hidden_size, pj->D = c->hidden_size;
    const lv_tensor *b0, *b2, *nl;
    LV_TRY(proj_tensor(&pj->w0, c, w, LV_WP_0_W, 1));
    LV_TRY(proj_tensor(&b0, c, w, LV_WP_0_B, 1));
    LV_TRY(proj_tensor(&pj->w2, c, w, LV_WP_2_W, 1));
    LV_TRY(proj_tensor(&b2, c, w, LV_WP_2_B, 1));
    LV_TRY(proj_tensor(&nl, c, w, LV_W_IMAGE_NEWLINE, 0));
    int kmax = pj->Dv > pj->D ? pj->Dv : pj->D;
    pj->b0 = proj_widen(b0);
    pj->b2 = proj_widen(b2);
    pj->newline = nl ? proj_widen(nl) : NULL;
    pj->hid = malloc(sizeof *pj->hid * LV_PROJ_ROWS * (size_t)pj->D);
    pj->mm = malloc(sizeof *pj->mm * lv_matmul_scratch_floats(kmax));
    if (!pj->b0 || !pj->b2 || (nl && !pj->newline) || !pj->hid || !pj->mm)
        return lv_fail(LV_ERR_NOMEM, "projector: cannot allocate buffers (width %d)", pj->D);
    return LV_OK;
}

lv_status lv_projector_load(lv_projector **out, const lv_config *cfg, const lv_weights *w)
{
    *out = NULL;
    lv_projector *pj = calloc(1, sizeof *pj);
    if (!pj) return lv_fail(LV_ERR_NOMEM, "projector: cannot allocate");
    lv_status s = proj_init(pj, cfg, w);
    if (s != LV_OK) {
        lv_projector_free(pj);
        return s;
    }
    *out = pj;
    return LV_OK;
}

lv_status lv_projector_forward(lv_projector *pj, const float *x, int T, float *out)
{
    int Dv = pj->Dv, D = pj->D;
    for (int t0 = 0; t0 < T; t0 += LV_PROJ_ROWS) {
        int n = T - t0 < LV_PROJ_ROWS ? T - t0 : LV_PROJ_ROWS;
        lv_matmul(pj->hid, x + (size_t)t0 * Dv, pj->w0, pj->b0, n, Dv, D, pj->mm);
        lv_gelu_erf(pj->hid, (size_t)n * D);   /* nn.GELU() default: exact erf */
        lv_matmul(out + (size_t)t0 * D, pj->hid, pj->w2, pj->b2, n, D, D, pj->mm);
    }
    return LV_OK;
}

const float *lv_projector_newline(const lv_projector *pj) { return pj->newline; }
int lv_projector_in_dim(const lv_projector *pj) { return pj->Dv; }
int lv_projector_out_dim(const lv_projector *pj) { return pj->D; }

void lv_projector_free(lv_projector *pj)
{
    if (!pj) return;
    free(pj->b0);
    free(pj->b2);
    free(pj->newline);
    free(pj->hid);
    free(pj->mm);
    free(pj);
}
