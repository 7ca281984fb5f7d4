/* fuzz_tokenizer.c - encode and decode with the fixed tiny-f32 fixture tokenizer (byte-level
 * BPE with added tokens and a BOS template): the input as UTF-8 text (with and without
 * specials; invalid UTF-8 must be refused, never crash), and the same bytes read as int32 ids
 * for decoding (out-of-range ids refused). Round trip: decode(encode(text)) == text for valid
 * UTF-8 without added-token strings is not asserted (normalization may change it). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "language.h"

static lv_tokenizer *fuzz_tok;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_tok &&
        lv_tokenizer_load(&fuzz_tok, fuzz_source("tests/fixtures/models/tiny-f32/tokenizer.json")) != LV_OK)
        abort();
    for (int special = 0; special < 2; special++) {
        int32_t *ids = NULL;
        int n = 0;
        if (lv_tokenizer_encode(fuzz_tok, (const char *)data, size, special, &ids, &n) == LV_OK) {
            char *s = NULL;
            size_t len;
            for (int i = 0; i < n; i++)
                if (ids[i] < 0 || ids[i] >= lv_tokenizer_size(fuzz_tok)) abort();
            if (lv_tokenizer_decode(fuzz_tok, ids, n, special, &s, &len) == LV_OK) free(s);
        }
        free(ids);
    }
    /* the bytes as ids, mostly in range */
    int n = (int)(size / 2);
    int32_t *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    if (!ids) abort();
    int V = lv_tokenizer_size(fuzz_tok);
    for (int i = 0; i < n; i++) {
        int v = data[2 * i] | data[2 * i + 1] << 8;
        ids[i] = v >= 0xff00 ? -(v & 0xff) : v % (V + 8);
    }
    for (int skip = 0; skip < 2; skip++) {
        char *s = NULL;
        size_t len;
        if (lv_tokenizer_decode(fuzz_tok, ids, n, skip, &s, &len) == LV_OK) free(s);
    }
    free(ids);
    return 0;
}
