/* preprocess.c - view geometry and pixel views exactly as LLaVA-NeXT's process_images
 * (mm_utils.py: select_best_resolution, resize_and_pad_image, divide_to_patches,
 * expand2square) followed by SigLipImageProcessor (rescale, normalize), spec §3.
 *
 *   anyres:  base = resize(img, S x S)  +  canvas(best) <- paste(resize(img, content))
 *            -> crops S x S row-major;   views = [base, crops...]
 *   pad:     expand2square(img, 127) -> resize S x S        square: resize S x S
 *   each view: x = f32(f64(u8) * (1/255)), y = (x - 0.5f) / 0.5f, CHW float32
 */
#include "vision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lv_anyres_select(int *best_w, int *best_h, const int (*pinpoints)[2], int n, int W, int H)
{
    long long best_eff = 0;
    double best_waste = INFINITY;
    *best_w = *best_h = 0;
    for (int i = 0; i < n; i++) {
        int wc = pinpoints[i][0], hc = pinpoints[i][1];
        double sw = (double)wc / W, sh = (double)hc / H, s = sw < sh ? sw : sh;
        long long dw = (long long)(W * s), dh = (long long)(H * s);
        long long eff = dw * dh, orig = (long long)W * H;
        if (eff > orig) eff = orig;
        double waste = (double)((long long)wc * hc - eff);
        if (eff > best_eff || (eff == best_eff && waste < best_waste)) {
            *best_w = wc, *best_h = hc;
            best_eff = eff, best_waste = waste;
        }
    }
}

/* Python's float floor division a // b for a >= 0, b > 0 (floatobject.c float_floor_div):
 * the fmod-based quotient, then floored and corrected, as `h // times` in llava_arch.py. */
static double py_floordiv(double a, double b)
{
    double mod = fmod(a, b), div = (a - mod) / b;
    if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
    if (div == 0.0) return copysign(0.0, a / b);
    double fl = floor(div);
    if (div - fl > 0.5) fl += 1.0;
    return fl;
}

/* The crop-grid feature map after unpad_image and the anyres_max_N downsample (spec §4.3). */
static void merged_size(lv_view_geometry *g)
{
    int gp = g->patch_grid, Hc = gp * g->grid_h, Wc = gp * g->grid_w;
    int W = g->orig_w, H = g->orig_h;
    g->unpad_r0 = 0, g->unpad_c0 = 0, g->unpad_h = Hc, g->unpad_w = Wc;
    if ((double)W / H > (double)Wc / Hc) {   /* padding was added above and below */
        int nh = (int)(H * ((double)Wc / W)), pad = (Hc - nh) / 2;
        g->unpad_r0 = pad, g->unpad_h = Hc - 2 * pad;
    } else {                                 /* left and right (also when equal) */
        int nw = (int)(W * ((double)Hc / H)), pad = (Wc - nw) / 2;
        g->unpad_c0 = pad, g->unpad_w = Wc - 2 * pad;
    }
    int h = g->unpad_h, w = g->unpad_w;
    g->merged_h = h, g->merged_w = w;
    if (g->anyres_max > 0) {
        double times = sqrt((double)h * w / (double)(g->anyres_max * gp * gp));
        if (times > 1.1) {
            g->merged_h = (int)py_floordiv(h, times);
            g->merged_w = (int)py_floordiv(w, times);
        }
    }
}

lv_status lv_vision_geometry(lv_view_geometry *g, const lv_config *cfg, int width, int height)
{
    memset(g, 0, sizeof *g);
    int S = cfg->v_image_size, p = cfg->v_patch_size;
    if (S <= 0 || p <= 0 || S < p)
        return lv_fail(LV_ERR_CONFIG, "vision image_size %d / patch_size %d are invalid", S, p);
    if (width <= 0 || height <= 0)
        return lv_fail(LV_ERR_ARG, "image size %dx%d is invalid", width, height);
    g->aspect = cfg->aspect;
    g->merge = cfg->merge;
    g->anyres_max = cfg->anyres_max;
    g->image_size = S;
    g->patch_grid = S / p;
    g->orig_w = width, g->orig_h = height;
    g->best_w = g->best_h = S;
    g->n_views = 1;
    int P = g->patch_grid * g->patch_grid;
    if (cfg->aspect != LV_ASPECT_ANYRES) {
        /* pad / square: one view. The reference's single-image path (generate_demo.py passes
         * a list) appends one image_newline when the merge type is spatial_unpad; lmms-eval's
         * stacked-tensor path (spec §3.8) has none, as does flat. */
        g->n_tokens = P + (cfg->merge == LV_MERGE_SPATIAL_UNPAD);
        long long side = width > height ? width : height;
        if (cfg->aspect == LV_ASPECT_PAD && side * side > LV_IMAGE_MAX_PIXELS)
            return lv_fail(LV_ERR_LIMIT, "pad: the %lldx%lld square canvas of a %dx%d image exceeds "
                           "the %lld-pixel limit", side, side, width, height, LV_IMAGE_MAX_PIXELS);
        return LV_OK;
    }
    if (cfg->n_pinpoints <= 0)
        return lv_fail(LV_ERR_CONFIG, "image_aspect_ratio anyres needs image_grid_pinpoints");
    lv_anyres_select(&g->best_w, &g->best_h, (const int (*)[2])cfg->pinpoints, cfg->n_pinpoints,
                     width, height);
    if (g->best_w <= 0 || g->best_h <= 0 || g->best_w % S || g->best_h % S)
        return lv_fail(LV_ERR_CONFIG, "image_grid_pinpoints: best resolution %dx%d for a %dx%d "
                       "image is not a positive multiple of the view size %d",
                       g->best_w, g->best_h, width, height, S);
    g->grid_w = g->best_w / S, g->grid_h = g->best_h / S;
    g->n_views = 1 + g->grid_w * g->grid_h;
    /* resize_and_pad_image */
    double sw = (double)g->best_w / width, sh = (double)g->best_h / height;
    if (sw < sh) {
        g->content_w = g->best_w;
        double c = ceil(height * sw);
        g->content_h = c < g->best_h ? (int)c : g->best_h;
    } else {
        g->content_h = g->best_h;
        double c = ceil(width * sh);
        g->content_w = c < g->best_w ? (int)c : g->best_w;
    }
    g->off_x = (g->best_w - g->content_w) / 2;
    g->off_y = (g->best_h - g->content_h) / 2;
    if (cfg->merge == LV_MERGE_FLAT) {
        g->n_tokens = g->n_views * P;
        return LV_OK;
    }
    merged_size(g);
    g->n_tokens = P + g->merged_h * (g->merged_w + 1);
    return LV_OK;
}

size_t lv_vision_views_numel(const lv_view_geometry *g)
{
    return (size_t)g->n_views * 3 * g->image_size * g->image_size;
}

/* One S x S RGB window at (x0, y0) of src (pixels outside are black) -> CHW floats. */
static void view_to_chw(float *dst, const lv_image *src, int x0, int y0, int S, const float *lut)
{
    size_t plane = (size_t)S * S;
    for (int y = 0; y < S; y++) {
        for (int x = 0; x < S; x++) {
            int sx = x0 + x, sy = y0 + y;
            const uint8_t *p = NULL;
            if (sx >= 0 && sy >= 0 && sx < src->width && sy < src->height)
                p = src->rgb + ((size_t)sy * src->width + sx) * 3;
            for (int c = 0; c < 3; c++) dst[c * plane + (size_t)y * S + x] = lut[p ? p[c] : 0];
        }
    }
}

lv_status lv_vision_preprocess(float *views, const lv_view_geometry *g, const lv_image *img)
{
    if (img->width != g->orig_w || img->height != g->orig_h)
        return lv_fail(LV_ERR_ARG, "preprocess: image %dx%d does not match its geometry %dx%d",
                       img->width, img->height, g->orig_w, g->orig_h);
    float lut[256];
    for (int v = 0; v < 256; v++) {
        float x = (float)((double)v * (1.0 / 255.0));   /* HF rescale: f64 multiply, cast */
        lut[v] = (x - 0.5f) / 0.5f;                     /* HF normalize in float32 */
    }
    int S = g->image_size;
    size_t view = (size_t)3 * S * S;
    lv_image base = {0}, sq = {0}, content = {0};
    lv_status s = LV_OK;
    if (g->aspect == LV_ASPECT_PAD && img->width != img->height) {
        int side = img->width > img->height ? img->width : img->height;
        sq.width = sq.height = side;
        sq.rgb = malloc((size_t)side * side * 3);
        if (!sq.rgb) return lv_fail(LV_ERR_NOMEM, "preprocess: cannot allocate %dx%d", side, side);
        memset(sq.rgb, 127, (size_t)side * side * 3);   /* int(0.5 * 255) per channel */
        int ox = (side - img->width) / 2, oy = (side - img->height) / 2;
        for (int y = 0; y < img->height; y++)
            memcpy(sq.rgb + ((size_t)(y + oy) * side + ox) * 3,
                   img->rgb + (size_t)y * img->width * 3, (size_t)img->width * 3);
        s = lv_image_resize(&base, &sq, S, S);
    } else {
        s = lv_image_resize(&base, img, S, S);
    }
    if (s == LV_OK) {
        view_to_chw(views, &base, 0, 0, S, lut);
        if (g->aspect == LV_ASPECT_ANYRES)
            s = lv_image_resize(&content, img, g->content_w, g->content_h);
    }
    if (s == LV_OK && g->aspect == LV_ASPECT_ANYRES) {
        /* crop (x0, y0) of the canvas = content window at (x0 - off_x, y0 - off_y) */
        for (int r = 0; r < g->grid_h; r++)
            for (int c = 0; c < g->grid_w; c++)
                view_to_chw(views + view * (1 + (size_t)r * g->grid_w + c), &content,
                            c * S - g->off_x, r * S - g->off_y, S, lut);
    }
    lv_image_free(&base);
    lv_image_free(&sq);
    lv_image_free(&content);
    return s;
}
