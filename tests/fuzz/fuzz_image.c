/* fuzz_image.c - PNG / JPEG decoding from memory (and as base64 text), then the reference
 * preprocessing of the decoded image under the tiny fixture config in its three aspect modes
 * (anyres_max_4 with spatial_unpad, pad, square): geometry, views, merge. */
#include <stdlib.h>

#include "fuzz.h"
#include "vision.h"

/* Preprocessing cost grows with the pixel count; bigger (valid) images only decode. */
#define FUZZ_MAX_PREPROCESS_PIXELS (1 << 20)

static lv_config fuzz_cfg[3];
static int fuzz_ready;

static void fuzz_init(void)
{
    if (lv_config_load(&fuzz_cfg[0], fuzz_source("tests/fixtures/models/tiny-f32/config.json")) != LV_OK)
        abort();
    fuzz_cfg[1] = fuzz_cfg[0];
    fuzz_cfg[1].aspect = LV_ASPECT_PAD;
    fuzz_cfg[2] = fuzz_cfg[0];
    fuzz_cfg[2].aspect = LV_ASPECT_SQUARE;
    fuzz_cfg[2].merge = LV_MERGE_FLAT;
    fuzz_ready = 1;
}

static void fuzz_views(const lv_image *img)
{
    if ((long long)img->width * img->height > FUZZ_MAX_PREPROCESS_PIXELS) return;
    for (int k = 0; k < 3; k++) {
        lv_view_geometry g;
        if (lv_vision_geometry(&g, &fuzz_cfg[k], img->width, img->height) != LV_OK) continue;
        float *views = malloc(lv_vision_views_numel(&g) * sizeof *views);
        if (!views) abort();
        if (lv_vision_preprocess(views, &g, img) == LV_OK) {
            /* merge with the views standing in for projected features (D = 4) */
            int P = g.patch_grid * g.patch_grid, D = 4;
            float nl[4] = {1, 2, 3, 4};
            float *out = malloc((size_t)g.n_tokens * D * sizeof *out);
            if (!out) abort();
            if ((size_t)g.n_views * P * D <= lv_vision_views_numel(&g))
                lv_vision_merge(out, views, nl, D, &g);
            free(out);
        }
        free(views);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_ready) fuzz_init();
    lv_image img = {0};
    if (lv_image_decode(&img, data, size, "fuzz") == LV_OK) fuzz_views(&img);
    lv_image_free(&img);
    if (size < (1 << 16) && lv_image_decode_base64(&img, (const char *)data, size, "fuzz") == LV_OK)
        fuzz_views(&img);
    lv_image_free(&img);
    return 0;
}
