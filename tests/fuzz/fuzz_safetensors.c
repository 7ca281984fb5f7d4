/* fuzz_safetensors.c - one safetensors file: header length, JSON header, dtypes, shapes,
 * offsets, metadata; every tensor of an accepted file is then read in full (f32 conversion),
 * so a range the validator let through outside the mapping shows up under ASan. */
#include <stdlib.h>

#include "core.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("model.safetensors", data, size);
    lv_weights *w = NULL;
    if (lv_weights_open(&w, path) == LV_OK) {
        for (int i = 0; i < lv_weights_count(w); i++) {
            const lv_tensor *t = lv_weights_at(w, i);
            if (lv_weights_get(w, t->name) != t) abort();
            float *dst = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *dst);
            if (!dst) abort();
            lv_tensor_to_f32(dst, t, 0, t->numel);
            free(dst);
        }
        lv_weights_metadata(w, "format");
        lv_weights_mapped_bytes(w);
    }
    lv_weights_free(w);
    return 0;
}
