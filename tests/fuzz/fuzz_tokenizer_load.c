/* fuzz_tokenizer_load.c - tokenizer.json from memory: model type, vocab, merges (strings or
 * pairs, cyclic, unknown tokens), added tokens, normalizer / pre-tokenizer / decoder /
 * post-processor trees and their regexes. An accepted tokenizer encodes and decodes a fixed
 * text with specials, digits, spaces and non-ASCII characters. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "language.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lv_tokenizer *tok = NULL;
    if (lv_tokenizer_load_json(&tok, (const char *)data, size, "fuzz/tokenizer.json") == LV_OK) {
        static const char text[] = "Hello <|eot_id|> world 12345  caf\xc3\xa9 \xe4\xb8\xad\n\t<image>";
        int32_t *ids = NULL;
        int n = 0;
        for (int special = 0; special < 2; special++) {
            if (lv_tokenizer_encode(tok, text, sizeof text - 1, special, &ids, &n) == LV_OK) {
                char *s = NULL;
                size_t len;
                if (lv_tokenizer_decode(tok, ids, n, special, &s, &len) == LV_OK) free(s);
            }
            free(ids);
            ids = NULL;
        }
        int V = lv_tokenizer_size(tok);
        for (int32_t id = 0; id < V && id < 512; id++) {
            const char *t = lv_tokenizer_token(tok, id);
            if (t) lv_tokenizer_token_id(tok, t);
            lv_tokenizer_is_special(tok, id);
        }
        lv_tokenizer_added_id(tok, "<|mdm_mask|>");
    }
    lv_tokenizer_free(tok);
    return 0;
}
