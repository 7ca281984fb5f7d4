/* merge.c - projected view features -> the image token rows spliced into the prompt, as
 * LlavaMetaForCausalLM.prepare_inputs_labels_for_multimodal does (llava_arch.py, spec §4.3).
 *
 *   [base (P rows)] + spatial_unpad:  crops stitched to C x (g*ny) x (g*nx)
 *                                     -> unpad to the original aspect
 *                                     -> bilinear downsample (anyres_max_N, times > 1.1)
 *                                     -> image_newline after each row, read row-major
 *
 * It lives in the vision library although it runs on projector output: it needs only the
 * view geometry (vision's) and plain float arrays, no projector code.
 */
#include "vision.h"

#include <string.h>

/* Row y, column x of the stitched crop-grid map: token (y % g, x % g) of crop
 * (y / g, x / g), crops in row-major order after the base view. */
static const float *grid_at(const float *projected, const lv_view_geometry *g, int D, int y,
                            int x)
{
    int gp = g->patch_grid, view = 1 + (y / gp) * g->grid_w + x / gp;
    size_t tok = (size_t)(y % gp) * gp + (x % gp);
    return projected + ((size_t)view * gp * gp + tok) * D;
}

/* PyTorch upsample_bilinear2d (align_corners=False, output size given) source index and
 * weight along one axis, in float as its CPU kernel computes them. */
static void bilinear_index(int o, int n_in, int n_out, int *i0, int *i1, float *l1)
{
    float scale = (float)n_in / (float)n_out;
    float src = scale * ((float)o + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    int i = (int)src;
    if (i > n_in - 1) i = n_in - 1;
    float l = src - (float)i;
    *i0 = i;
    *i1 = i + (i < n_in - 1 ? 1 : 0);
    *l1 = l < 0 ? 0 : l > 1 ? 1 : l;
}

lv_status lv_vision_merge(float *out, const float *projected, const float *newline, int D,
                          const lv_view_geometry *g)
{
    size_t P = (size_t)g->patch_grid * g->patch_grid, row = (size_t)D;
    if (g->merge == LV_MERGE_FLAT) {
        memcpy(out, projected, (size_t)g->n_tokens * row * sizeof *out);
        return LV_OK;
    }
    if (!newline) return lv_fail(LV_ERR_ARG, "merge: spatial_unpad needs model.image_newline");
    memcpy(out, projected, P * row * sizeof *out);   /* base view first, no newline */
    if (g->aspect != LV_ASPECT_ANYRES) {              /* single view + one newline */
        memcpy(out + P * row, newline, row * sizeof *out);
        return LV_OK;
    }
    float *o = out + P * row;
    int h = g->unpad_h, w = g->unpad_w, r0 = g->unpad_r0, c0 = g->unpad_c0;
    int mh = g->merged_h, mw = g->merged_w, resized = mh != h || mw != w;
    for (int y = 0; y < mh; y++) {
        int y0 = y, y1 = y;
        float ly = 0;
        if (resized) bilinear_index(y, h, mh, &y0, &y1, &ly);
        for (int x = 0; x < mw; x++, o += row) {
            if (!resized) {
                memcpy(o, grid_at(projected, g, D, r0 + y, c0 + x), row * sizeof *o);
                continue;
            }
            int x0, x1;
            float lx;
            bilinear_index(x, w, mw, &x0, &x1, &lx);
            const float *a = grid_at(projected, g, D, r0 + y0, c0 + x0);
            const float *b = grid_at(projected, g, D, r0 + y0, c0 + x1);
            const float *c = grid_at(projected, g, D, r0 + y1, c0 + x0);
            const float *d = grid_at(projected, g, D, r0 + y1, c0 + x1);
            float hy0 = 1.0f - ly, wx0 = 1.0f - lx;
            for (int k = 0; k < D; k++)
                o[k] = hy0 * (wx0 * a[k] + lx * b[k]) + ly * (wx0 * c[k] + lx * d[k]);
        }
        memcpy(o, newline, row * sizeof *o);
        o += row;
    }
    return LV_OK;
}
