/* merge.h - the image path end to end: one image -> the rows spliced into the prompt where
 * its <image> placeholder stands (spec §3, §4.1-4.3).
 *
 *   lv_image_encoder *ie = NULL;
 *   lv_image_encoder_load(&ie, &cfg, weights);          // SigLIP + projector (+ newline)
 *   lv_image_stages st = {0};
 *   lv_image_encoder_run(ie, &img, &st);                // st.embeds: [st.geom.n_tokens, D]
 *   ... splice st.embeds; `dump` writes st.views / vision / projected / embeds ...
 *   lv_image_stages_free(&st);
 *   lv_image_encoder_free(ie);
 */
#ifndef LV_MERGE_H
#define LV_MERGE_H

#include "projector.h"
#include "vision.h"

typedef struct lv_image_encoder lv_image_encoder;   /* opaque: tower + projector */

/* Every stage of one image, all owned (free with lv_image_stages_free). */
typedef struct {
    lv_view_geometry geom;        /* views, grid, n_tokens */
    int P, Dv, D;                 /* tokens per view, tower width, LLM width */
    float *views;                 /* [n_views, 3, S, S] normalized pixels */
    float *vision;                /* [n_views, P, Dv] tower output */
    float *projected;             /* [n_views, P, D] projector output */
    float *embeds;                /* [geom.n_tokens, D] merged image rows */
    double t_preprocess, t_vision, t_projector, t_merge;   /* seconds (monotonic clock) */
} lv_image_stages;

/* Borrows cfg and w until lv_image_encoder_free. LV_ERR_SHAPE when a merge that needs
 * model.image_newline finds none. */
lv_status lv_image_encoder_load(lv_image_encoder **out, const lv_config *cfg,
                                const lv_weights *w);
/* img: decoded RGB (lv_image_load / lv_image_decode); st: zeroed or freed before. */
lv_status lv_image_encoder_run(lv_image_encoder *ie, const lv_image *img, lv_image_stages *st);
void      lv_image_stages_free(lv_image_stages *st);     /* NULL-safe; leaves it zeroed */
void      lv_image_encoder_free(lv_image_encoder *ie);   /* NULL-safe */

#endif
