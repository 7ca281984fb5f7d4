/* projector.h - the multimodal projector of LLaDA-V (mm_projector, spec §4.2) and the
 * image_newline vector that the view merge appends after each row.
 *
 *   lv_projector *pj = NULL;
 *   if (lv_projector_load(&pj, cfg, weights) != LV_OK)
 *       fprintf(stderr, "error: %s\n", lv_last_error());
 *   lv_projector_forward(pj, feats, n_views * P, proj);   // [T, Dv] -> [T, D]
 *   lv_vision_merge(..., proj, lv_projector_newline(pj), lv_projector_out_dim(pj), &geom);
 *   lv_projector_free(pj);
 */
#ifndef LV_PROJECTOR_H
#define LV_PROJECTOR_H

#include "core.h"

typedef struct lv_projector lv_projector;   /* opaque; owns float32 biases and scratch */

/* mm_projector_type "mlp2x_gelu" only (Linear -> exact erf GELU -> Linear); any other type
 * is LV_ERR_UNSUPPORTED naming it. Borrows w (mmap) and cfg until lv_projector_free. */
lv_status    lv_projector_load(lv_projector **out, const lv_config *cfg, const lv_weights *w);
/* x: [T, mm_hidden_size]; out: caller-allocated [T, hidden_size]. Rows are independent. */
lv_status    lv_projector_forward(lv_projector *pj, const float *x, int T, float *out);
/* model.image_newline [hidden_size] widened to float32, borrowed until lv_projector_free;
 * NULL when the checkpoint has none (then only flat / pad merges work). */
const float *lv_projector_newline(const lv_projector *pj);
int          lv_projector_in_dim(const lv_projector *pj);    /* mm_hidden_size (1152) */
int          lv_projector_out_dim(const lv_projector *pj);   /* hidden_size (4096) */
void         lv_projector_free(lv_projector *pj);            /* NULL-safe, half-built ok */

#endif
