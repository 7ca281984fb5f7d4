/* fuzz_prompt.c - the llava_llada chat template and the "<image>" placeholder splitter with the
 * fixed tiny-f32 tokenizer. Byte 0 is the number of images (0..3); the rest is the question.
 * Every LV_IMAGE_TOKEN_ID in the ids must come from one placeholder. */
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
    if (size < 1) return 0;
    int n_images = data[0] & 3;
    char *text = malloc(size);
    if (!text) abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;   /* the API takes C strings: text ends at its first NUL */

    char *turn = NULL, *prompt = NULL;
    if (lv_prompt_user_turn(text, n_images, &turn) == LV_OK &&
        lv_prompt_render(turn, &prompt) == LV_OK) {
        int32_t *ids = NULL;
        int n = 0;
        if (lv_prompt_tokenize(fuzz_tok, prompt, &ids, &n) == LV_OK) {
            int images = 0;
            for (int i = 0; i < n; i++) images += ids[i] == LV_IMAGE_TOKEN_ID;
            int placeholders = 0;
            for (const char *p = prompt; (p = strstr(p, LV_IMAGE_PLACEHOLDER)); p++) placeholders++;
            if (images != placeholders) abort();
        }
        free(ids);
    }
    free(turn);
    free(prompt);
    int32_t *ids = NULL;
    int n = 0;
    lv_prompt_build(fuzz_tok, text, n_images, &ids, &n);
    free(ids);
    free(text);
    return 0;
}
