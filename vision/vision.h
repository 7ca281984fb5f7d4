/* vision.h - the public header of lladav's vision library: image decoding, the reference
 * preprocessing (PIL BICUBIC, anyres views), the SigLIP tower and the view merge.
 *
 *   lv_image img = {0};
 *   lv_image_load(&img, "cat.jpg");                       // PNG / JPEG -> 8-bit RGB
 *   lv_view_geometry g;
 *   lv_vision_geometry(&g, cfg, img.width, img.height);   // best grid, views, token count
 *   float *views = malloc(lv_vision_views_numel(&g) * sizeof(float));
 *   lv_vision_preprocess(views, &g, &img);                // [n_views, 3, S, S]
 *   lv_siglip_encode(enc, views, g.n_views, feats);       // [n_views, P, Dv]
 *   ... projector ...                                     // [n_views, P, D]
 *   lv_vision_merge(tokens, projected, newline, D, &g);   // [g.n_tokens, D]
 *
 * Pipeline (spec §3, §4.1, §4.3; LLaVA-NeXT mm_utils.py + llava_arch.py):
 *   file -> decode -> RGB u8 -> {base: resize S x S} + {resize-and-pad to best pinpoint,
 *   crops row-major} -> rescale/normalize CHW f32 -> SigLIP -> projector -> merge.
 */
#ifndef LV_VISION_H
#define LV_VISION_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* ---- images ------------------------------------------------------------------------- */

/* Limits checked on the declared dimensions before any pixel buffer is allocated. */
#define LV_IMAGE_MAX_SIDE   16384                        /* pixels per side */
#define LV_IMAGE_MAX_PIXELS (64LL * 1024 * 1024)         /* width * height (64 megapixels) */
#define LV_IMAGE_MAX_BYTES  (512LL * 1024 * 1024)        /* size of an encoded file */

typedef struct {
    int      width, height;
    uint8_t *rgb;                 /* [height, width, 3], owned; free with lv_image_free */
} lv_image;

/* Decode PNG (libpng) or JPEG (libjpeg-turbo), detected by magic bytes, to 8-bit RGB exactly
 * as PIL's Image.open(...).convert("RGB") does: alpha dropped (not composited), palettes
 * expanded, gray replicated, 16-bit samples to their high byte (16-bit gray without alpha is
 * PIL mode "I" and is clipped to 255 instead), CMYK/YCCK JPEG inverted (Adobe) and converted
 * with PIL's cmyk2rgb, EXIF orientation ignored. Errors: LV_ERR_IO, LV_ERR_UNSUPPORTED
 * (other formats), LV_ERR_IMAGE (corrupt or truncated), LV_ERR_LIMIT (dimensions). */
lv_status lv_image_load(lv_image *img, const char *path);
/* The bytes of an image file, unchecked (lv_image_load = this + lv_image_decode): *data is
 * malloc'd, free() it. LV_ERR_IO (missing, not a regular file, read error), LV_ERR_LIMIT
 * (over LV_IMAGE_MAX_BYTES), LV_ERR_NOMEM. */
lv_status lv_image_read_file(const char *path, unsigned char **data, size_t *size);
/* Same from memory; name is used in error messages only. data is borrowed for the call. */
lv_status lv_image_decode(lv_image *img, const void *data, size_t size, const char *name);
/* Same from base64 text (RFC 4648 standard alphabet, '=' padding optional, whitespace
 * skipped, an optional "data:...;base64," prefix), as benchmark TSVs embed images. */
lv_status lv_image_decode_base64(lv_image *img, const char *b64, size_t len, const char *name);
void      lv_image_free(lv_image *img);               /* NULL-safe, leaves {0, 0, NULL} */

/* PIL Image.resize((width, height), BICUBIC) of Pillow 9.4 bit for bit (spec §3.6); an
 * exact copy when the size is unchanged. out is overwritten (free it first if it held one). */
lv_status lv_image_resize(lv_image *out, const lv_image *in, int width, int height);

/* ---- preprocessing geometry (spec §3.2-3.4, §3.8, §4.3) ------------------------------ */

typedef struct {
    lv_aspect aspect;             /* from cfg->aspect */
    lv_merge  merge;              /* from cfg->merge */
    int anyres_max;               /* N of anyres_max_N, 0 for plain anyres */
    int image_size;               /* S: view side, vision_config.image_size (384) */
    int patch_grid;               /* g = S / patch_size (27): tokens per view = g*g */
    int orig_w, orig_h;           /* decoded image size */
    int best_w, best_h;           /* anyres: selected pinpoint canvas (wc, hc); else S, S */
    int grid_w, grid_h;           /* anyres crop grid nx (columns), ny (rows); else 0, 0 */
    int content_w, content_h;     /* anyres: resized content inside the canvas */
    int off_x, off_y;             /* anyres: paste offset of the content */
    int n_views;                  /* 1 + nx*ny for anyres, 1 for pad / square */
    int unpad_r0, unpad_c0;       /* spatial_unpad: first kept row / column of the stitched */
    int unpad_h, unpad_w;         /*   (g*ny) x (g*nx) crop-grid map, and the kept size */
    int merged_h, merged_w;       /* spatial_unpad: final crop-grid feature map h' x w' */
    int n_tokens;                 /* merged image tokens N_img (spec §4.3); pad / square:
                                     P, plus one newline under spatial_unpad */
} lv_view_geometry;

/* Best pinpoint (w, h) for an image W x H: spec §3.2 (LLaVA select_best_resolution), doubles,
 * first best in list order wins ties. pinpoints: [n][2] as (width, height). */
void lv_anyres_select(int *best_w, int *best_h, const int (*pinpoints)[2], int n, int W, int H);

/* Fill g for an image of width x height under cfg (aspect mode, pinpoints, merge type,
 * v_image_size, v_patch_size). LV_ERR_CONFIG when the geometry cannot be formed. */
lv_status lv_vision_geometry(lv_view_geometry *g, const lv_config *cfg, int width, int height);
size_t    lv_vision_views_numel(const lv_view_geometry *g);   /* n_views * 3 * S * S */

/* Views in the reference order (base first, then crops row-major; pad: expand2square with
 * (127,127,127) then resize; square: resize), normalized to CHW float32 as
 * SigLipImageProcessor: x = f32(f64(u8) * (1/255)), y = (x - 0.5f) / 0.5f (no fp16 cast).
 * views: caller-allocated [n_views, 3, S, S]. */
lv_status lv_vision_preprocess(float *views, const lv_view_geometry *g, const lv_image *img);

/* ---- SigLIP vision tower (spec §4.1; SigLipVisionModel with the last layer deleted) ----- */

/* opaque; owns float32 biases/norms and the scratch of one encode, so one encode at a time
 * per handle */
typedef struct lv_siglip lv_siglip;

/* Borrows w (mmap) and cfg until lv_siglip_free. Every vision layer present runs
 * (cfg->v_num_hidden_layers, else the count found in the weights). */
lv_status lv_siglip_load(lv_siglip **out, const lv_config *cfg, const lv_weights *w);
/* pixels: [n, 3, S, S] (lv_vision_preprocess); out: caller-allocated [n, P, Dv], the last
 * encoder layer's output without post_layernorm. */
lv_status lv_siglip_encode(lv_siglip *enc, const float *pixels, int n, float *out);
void      lv_siglip_free(lv_siglip *enc);     /* NULL-safe, accepts a half-built object */
int       lv_siglip_n_tokens(const lv_siglip *enc);   /* P = (S / patch)^2 */
int       lv_siglip_width(const lv_siglip *enc);      /* Dv */

/* ---- merging projected views into the image token rows (spec §4.3) -------------------- */

/* projected: [n_views, P, D] projector output; newline: [D] model.image_newline (only read by
 * spatial_unpad); out: caller-allocated [g->n_tokens, D].
 *   anyres + spatial_unpad: base view, then the stitched crop grid unpadded to the original
 *     aspect, bilinearly downsampled when anyres_max_N says so, a newline after each row;
 *   pad / square + spatial_unpad: the single view and one newline (generate_demo.py's
 *     single-image path; lmms-eval's stacked multi-image path would have no newline);
 *   flat: every view's tokens in view order, no newline. */
lv_status lv_vision_merge(float *out, const float *projected, const float *newline, int D,
                          const lv_view_geometry *g);

#endif
