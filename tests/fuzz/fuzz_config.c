/* fuzz_config.c - config.json parsing from memory; an accepted config then names and shapes
 * every tensor it expects, counts parameters, and forms the view geometry of a few image
 * sizes (pinpoints, aspect modes, patch grid). */
#include <stdlib.h>

#include "fuzz.h"
#include "vision.h"

static lv_status fuzz_visit(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                            const int64_t *shape)
{
    (void)layer;
    (void)name;
    (void)shape;
    int64_t sh[LV_ST_MAX_DIMS];
    if (lv_tensor_shape(sh, (const lv_config *)ctx, kind) != ndim) abort();
    return LV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lv_config c;
    if (lv_config_parse(&c, (const char *)data, size, "fuzz/config.json") != LV_OK) return 0;
    if (c.num_hidden_layers <= 64 && c.v_num_hidden_layers <= 64)
        lv_config_visit_tensors(&c, fuzz_visit, &c);
    for (int p = 0; p < LV_PART_COUNT; p++) lv_config_param_count(&c, (lv_part)p);
    char name[256];
    lv_tensor_name(name, sizeof name, &c, LV_W_Q, 0);
    static const int sizes[][2] = {{1, 1}, {56, 56}, {640, 480}, {37, 1000}, {16384, 2}};
    for (size_t i = 0; c.has_vision && i < sizeof sizes / sizeof *sizes; i++) {
        lv_view_geometry g;
        if (lv_vision_geometry(&g, &c, sizes[i][0], sizes[i][1]) == LV_OK) lv_vision_views_numel(&g);
    }
    return 0;
}
