/* merge.c - image -> prompt rows: the glue of prepare_inputs_labels_for_multimodal's image
 * branch (llava_arch.py), over the vision and projector libraries.
 *
 *   RGB --lv_vision_preprocess--> views --lv_siglip_encode--> vision
 *       --lv_projector_forward--> projected --lv_vision_merge--> embeds [N_img, D]
 *
 * It sits in the pipeline library because it is the one place that needs both siblings; the
 * merge arithmetic itself (unpad, anyres_max downsample, newlines) is vision/merge.c, which
 * needs only the view geometry and plain arrays.
 */
#include "merge.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lv_image_encoder {
    const lv_config *cfg;    /* borrowed */
    lv_siglip *tower;
    lv_projector *proj;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

lv_status lv_image_encoder_load(lv_image_encoder **out, const lv_config *cfg,
                                const lv_weights *w)
{
    *out = NULL;
    lv_image_encoder *ie = calloc(1, sizeof *ie);
    if (!ie) return lv_fail(LV_ERR_NOMEM, "image encoder: cannot allocate");
    ie->cfg = cfg;
    lv_status s = lv_siglip_load(&ie->tower, cfg, w);
    if (s == LV_OK) s = lv_projector_load(&ie->proj, cfg, w);
    if (s == LV_OK && cfg->merge == LV_MERGE_SPATIAL_UNPAD && !lv_projector_newline(ie->proj)) {
        char name[256];
        s = lv_fail(LV_ERR_SHAPE, "missing tensor '%s' (mm_patch_merge_type spatial_unpad "
                    "appends it after each row)",
                    lv_tensor_name(name, sizeof name, cfg, LV_W_IMAGE_NEWLINE, -1));
    }
    if (s == LV_OK && lv_projector_in_dim(ie->proj) != lv_siglip_width(ie->tower))
        s = lv_fail(LV_ERR_CONFIG, "mm_hidden_size %d differs from the vision width %d",
                    lv_projector_in_dim(ie->proj), lv_siglip_width(ie->tower));
    if (s != LV_OK) {
        lv_image_encoder_free(ie);
        return s;
    }
    *out = ie;
    return LV_OK;
}

void lv_image_encoder_free(lv_image_encoder *ie)
{
    if (!ie) return;
    lv_siglip_free(ie->tower);
    lv_projector_free(ie->proj);
    free(ie);
}

void lv_image_stages_free(lv_image_stages *st)
{
    if (!st) return;
    free(st->views);
    free(st->vision);
    free(st->projected);
    free(st->embeds);
    memset(st, 0, sizeof *st);
}

static lv_status stage_alloc(float **p, size_t n, const char *what)
{
    if (!(*p = malloc(sizeof **p * (n ? n : 1))))
        return lv_fail(LV_ERR_NOMEM, "image encoder: cannot allocate %s (%zu floats)", what, n);
    return LV_OK;
}

static lv_status run_stages(lv_image_encoder *ie, const lv_image *img, lv_image_stages *st)
{
    double t0 = now_s();
    LV_TRY(lv_vision_geometry(&st->geom, ie->cfg, img->width, img->height));
    const lv_view_geometry *g = &st->geom;
    st->P = lv_siglip_n_tokens(ie->tower);
    st->Dv = lv_siglip_width(ie->tower);
    st->D = lv_projector_out_dim(ie->proj);
    size_t rows = (size_t)g->n_views * st->P;
    LV_TRY(stage_alloc(&st->views, lv_vision_views_numel(g), "views"));
    LV_TRY(stage_alloc(&st->vision, rows * st->Dv, "vision features"));
    LV_TRY(stage_alloc(&st->projected, rows * st->D, "projected features"));
    LV_TRY(stage_alloc(&st->embeds, (size_t)g->n_tokens * st->D, "image rows"));
    LV_TRY(lv_vision_preprocess(st->views, g, img));
    double t1 = now_s();
    LV_TRY(lv_siglip_encode(ie->tower, st->views, g->n_views, st->vision));
    double t2 = now_s();
    LV_TRY(lv_projector_forward(ie->proj, st->vision, (int)rows, st->projected));
    double t3 = now_s();
    LV_TRY(lv_vision_merge(st->embeds, st->projected, lv_projector_newline(ie->proj), st->D, g));
    st->t_preprocess = t1 - t0, st->t_vision = t2 - t1, st->t_projector = t3 - t2;
    st->t_merge = now_s() - t3;
    return LV_OK;
}

lv_status lv_image_encoder_run(lv_image_encoder *ie, const lv_image *img, lv_image_stages *st)
{
    memset(st, 0, sizeof *st);
    lv_status s = run_stages(ie, img, st);
    if (s != LV_OK) lv_image_stages_free(st);
    return s;
}
