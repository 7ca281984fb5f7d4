/* fuzz_st_index.c - model.safetensors.index.json next to two small valid shards (a.safetensors
 * holds "x" and "y", b.safetensors holds "z"): shard names, weight_map consistency, missing or
 * duplicated tensors, path tricks; an accepted index is then read tensor by tensor. */
#include <stdlib.h>

#include "core.h"
#include "fuzz.h"

static int fuzz_ready;

static void fuzz_init(void)
{
    float v[6] = {1, 2, 3, 4, 5, 6};
    lv_tensor a[2] = {
        {.name = "x", .dtype = LV_DTYPE_F32, .ndim = 2, .shape = {2, 2}, .numel = 4, .data = v,
         .nbytes = 16},
        {.name = "y", .dtype = LV_DTYPE_F32, .ndim = 1, .shape = {2}, .numel = 2, .data = v + 4,
         .nbytes = 8},
    };
    lv_tensor b = {.name = "z", .dtype = LV_DTYPE_BF16, .ndim = 1, .shape = {2}, .numel = 2,
                   .data = v, .nbytes = 4};
    if (lv_st_save(fuzz_path("a.safetensors"), a, 2) != LV_OK ||
        lv_st_save(fuzz_path("b.safetensors"), &b, 1) != LV_OK)
        abort();
    fuzz_ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_ready) fuzz_init();
    const char *path = fuzz_write("model.safetensors.index.json", data, size);
    lv_weights *w = NULL;
    if (lv_weights_open(&w, path) == LV_OK) {
        for (int i = 0; i < lv_weights_count(w); i++) {
            const lv_tensor *t = lv_weights_at(w, i);
            float *dst = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *dst);
            if (!dst) abort();
            lv_tensor_to_f32(dst, t, 0, t->numel);
            free(dst);
            lv_weights_file_path(w, t->file);
        }
    }
    lv_weights_free(w);
    return 0;
}
