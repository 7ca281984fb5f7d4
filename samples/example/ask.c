/* ask.c - the smallest program on lladav's embedding API (lladav.h): one answer about an image.
 *
 *   cc ask.c $(pkg-config --cflags --libs lladav) -o ask
 *   ./ask MODEL_DIR IMAGE "What is in the image?" [GEN_LENGTH]
 *
 * Prints the answer on stdout, the token counts and stage times on stderr; the same answer as
 * `lladav ask --model MODEL_DIR --gen-length GEN_LENGTH IMAGE QUESTION`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lladav.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL_DIR IMAGE QUESTION [GEN_LENGTH]\n", argv[0]);
        return 1;
    }
    lv_model *m = NULL;
    lv_model_params mp = lv_model_default_params();
    if (lv_model_load(&m, argv[1], &mp) != LV_OK) {
        fprintf(stderr, "ask: %s\n", lv_last_error());
        return 1;
    }
    lv_sampler_params sp = lv_sampler_default_params();
    if (argc > 4) sp.gen_length = atoi(argv[4]);
    lv_result r = {0};
    lv_status s = lv_model_ask(m, argv[2], argv[3], &sp, &r);
    if (s == LV_OK) {
        fwrite(r.answer, 1, r.answer_len, stdout);   /* an answer may hold NUL bytes */
        putchar('\n');
        fprintf(stderr, "%d text + %d image tokens -> %d response tokens in %d passes; "
                        "vision %.3fs, sampling %.3fs, total %.3fs\n",
                r.n_text_tokens, r.n_image_tokens, r.n_response_tokens, r.n_passes, r.t_vision,
                r.t_sampling, r.t_total);
    } else {
        fprintf(stderr, "ask: %s\n", lv_last_error());
    }
    lv_result_free(&r);
    lv_model_free(m);
    return s == LV_OK ? 0 : lv_status_exit_code(s);
}
