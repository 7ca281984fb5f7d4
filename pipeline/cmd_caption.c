/* cmd_caption.c - `lladav caption IMAGE...` and `lladav ask IMAGE QUESTION`: the embedding API
 * (lladav.h) behind the sampler flags of `generate` (cmd_generate.h).
 *
 *   model (--model, else $LLADAV_MODEL, else the bundled one) --lv_model_load--> once per run
 *   each IMAGE --lv_model_ask (decode, views, SigLIP, projector, merge, prompt, sampler)-->
 *   answer on stdout ("PATH: answer" when several images; --json: one object per image with
 *   token counts and stage times); progress on stderr unless --quiet
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_generate.h"
#include "lladav.h"

/* The bundled shapes models' training prompt for captions, which is also lmms-eval's caption prompt. */
#define LV_CAPTION_PROMPT "Provide a one-sentence caption for the provided image."
#define LV_CAP_N_EXTRA 2

typedef struct {
    const char *name;   /* image path shown in the progress line */
    int steps, tty;
    double t0;
} lv_cap_progress;

static double lv_cap_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "IMAGE  step 3/16  block 1/1  committed 3/16  0.1s" on stderr, as generate's progress line:
 * redrawn in place on a terminal, one line per pass otherwise. */
static void lv_cap_on_pass(void *user, int pass, int block, int n_blocks, int committed, int G,
                           const int32_t *tail)
{
    (void)tail;
    const lv_cap_progress *g = user;
    fprintf(stderr, "%s%s  step %d/%d  block %d/%d  committed %d/%d  %.1fs%s", g->tty ? "\r" : "",
            g->name, pass + 1, g->steps, block + 1, n_blocks, committed, G, lv_cap_now() - g->t0,
            g->tty ? "   " : "\n");
}

/* s[len] as a JSON string literal; unlike cJSON strings it may hold NUL bytes (a decoded
 * answer can: byte-level tokens cover every byte). Returned, free(); NULL when out of memory. */
static char *lv_cap_json_string(const char *s, size_t len)
{
    char *out = malloc(6 * len + 3), *p = out;
    if (!out) return NULL;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    *p = 0;
    return out;
}

cJSON *lv_answer_json(const lv_model *m, const char *image, const char *question, const lv_result *r)
{
    cJSON *o = cJSON_CreateObject(), *tok = cJSON_CreateObject(), *t = cJSON_CreateObject();
    char *answer = lv_cap_json_string(r->answer, r->answer_len);
    cJSON_AddStringToObject(o, "model", lv_model_path(m));
    if (image) cJSON_AddStringToObject(o, "image", image);
    else cJSON_AddNullToObject(o, "image");
    cJSON_AddStringToObject(o, "question", question);
    cJSON_AddRawToObject(o, "answer", answer ? answer : "null");
    free(answer);
    cJSON_AddNumberToObject(o, "image_width", r->image_width);
    cJSON_AddNumberToObject(o, "image_height", r->image_height);
    cJSON_AddNumberToObject(o, "views", r->n_views);
    if (image) cJSON_AddBoolToObject(o, "image_reused", r->image_reused);
    cJSON_AddNumberToObject(tok, "prompt_text", r->n_text_tokens);
    cJSON_AddNumberToObject(tok, "image", r->n_image_tokens);
    cJSON_AddNumberToObject(tok, "prompt_rows", r->n_prompt_rows);
    cJSON_AddNumberToObject(tok, "response", r->n_response_tokens);
    cJSON_AddNumberToObject(tok, "forward_passes", r->n_passes);
    cJSON_AddBoolToObject(tok, "stopped", r->stopped);
    cJSON_AddItemToObject(o, "tokens", tok);
    const struct { const char *k; double v; } st[] = {
        {"decode", r->t_decode}, {"preprocess", r->t_preprocess}, {"vision", r->t_vision},
        {"projector", r->t_projector}, {"merge", r->t_merge}, {"prompt_embed", r->t_embed},
        {"sampling", r->t_sampling}, {"total", r->t_total},
    };
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) cJSON_AddNumberToObject(t, st[i].k, st[i].v);
    cJSON_AddItemToObject(o, "seconds", t);
    return o;
}

/* Shared by both commands: parse, load the model once, answer question about each image. */
static lv_status lv_cap_run(int argc, char **argv, int is_ask)
{
    lv_gen_opts o;
    int quiet = 0, json = 0, npos = 0, help = 0;
    lv_gen_opts_default(&o);
    lv_opt opts[LV_GEN_N_OPTS + LV_CAP_N_EXTRA];
    lv_gen_opts_table(&o, opts);
    opts[0].help = "model directory (default: $LLADAV_MODEL, else the bundled " LV_BUNDLED_MODEL ")";
    opts[1].help = "the caption request (default \"" LV_CAPTION_PROMPT "\")";
    if (!is_ask) {   /* LLaDA-V caption settings of spec/benchmarks.md: 64 / 64 / 32 */
        o.gen_length = 64;
        opts[2].help = "forward passes in total (default: gen-length / 2)";
        opts[3].help = "response length in tokens (default 64)";
    }
    const lv_opt extra[LV_CAP_N_EXTRA] = {
        {"--json", NULL, LV_OPT_FLAG, &json, NULL, "one JSON object per image: answer, token counts, stage times"},
        {"--quiet", "-q", LV_OPT_FLAG, &quiet, NULL, "no progress line"},
    };
    memcpy(opts + LV_GEN_N_OPTS, extra, sizeof extra);
    int nopt = LV_GEN_N_OPTS + LV_CAP_N_EXTRA;
    if (is_ask) {   /* the question is positional: drop the --prompt row */
        memmove(opts + 1, opts + 2, (size_t)(nopt - 2) * sizeof *opts);
        nopt--;
    }
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return lv_fail(LV_ERR_NOMEM, "arguments");
    lv_status s = lv_cli_parse(argc, argv, opts, nopt, pos, argc, &npos, &help);
    if (s == LV_OK && help) {
        if (is_ask)
            lv_cli_usage("ask", "[--model DIR] [options] IMAGE QUESTION",
                         "Answer a question about a PNG or JPEG image; only the answer goes to stdout.",
                         opts, nopt);
        else
            lv_cli_usage("caption", "[--model DIR] [options] IMAGE...",
                         "Caption each image in one sentence; with several images each line is "
                         "'PATH: caption'.", opts, nopt);
        free(pos);
        return LV_OK;
    }
    if (s == LV_OK && is_ask && npos != 2)
        s = lv_fail(LV_ERR_ARG, "ask: expected IMAGE QUESTION, got %d argument(s)", npos);
    if (s == LV_OK && !is_ask && npos < 1) s = lv_fail(LV_ERR_ARG, "caption: expected at least one IMAGE");
    const char *question = is_ask && npos == 2 ? pos[1] : o.prompt ? o.prompt : LV_CAPTION_PROMPT;
    int n_images = is_ask ? 1 : npos;

    lv_sampler_params sp;
    lv_cap_progress g = {.tty = isatty(2)};
    if (!is_ask && o.steps <= 0) o.steps = o.gen_length > 1 ? o.gen_length / 2 : 1;
    if (s == LV_OK) s = lv_gen_opts_sampler(&o, &sp);
    if (s == LV_OK && !quiet) {
        sp.progress = lv_cap_on_pass;
        sp.progress_user = &g;
        g.steps = sp.steps > 0 ? sp.steps : sp.gen_length;
    }
    lv_model *m = NULL;
    if (s == LV_OK) {
        lv_cli_threads(o.threads);
        s = lv_cli_precision(o.precision);
    }
    if (s == LV_OK) {
        s = lv_model_load(&m, o.model, NULL);
    }
    for (int i = 0; s == LV_OK && i < n_images; i++) {
        lv_result r = {0};
        g.name = pos[i];
        g.t0 = lv_cap_now();
        s = lv_model_ask(m, pos[i], question, &sp, &r);
        if (!quiet && s == LV_OK)
            fprintf(stderr, "%s%s: %d passes, %d tokens, prompt %d rows (%d image), %.2fs\n",
                    g.tty ? "\n" : "", pos[i], r.n_passes, r.n_response_tokens, r.n_prompt_rows, r.n_image_tokens, r.t_total);
        if (s == LV_OK && json) {
            cJSON *obj = lv_answer_json(m, pos[i], question, &r);
            char *txt = obj ? cJSON_PrintUnformatted(obj) : NULL;
            if (txt) puts(txt);
            else s = lv_fail(LV_ERR_NOMEM, "%s: JSON output", pos[i]);
            cJSON_free(txt);
            cJSON_Delete(obj);
        } else if (s == LV_OK) {
            if (n_images > 1) printf("%s: ", pos[i]);
            fwrite(r.answer, 1, r.answer_len, stdout);
            fputc('\n', stdout);
        }
        fflush(stdout);
        lv_result_free(&r);
    }
    lv_model_free(m);
    free(pos);
    return s;
}

lv_status lv_cmd_caption(int argc, char **argv)
{
    return lv_cap_run(argc, argv, 0);
}

lv_status lv_cmd_ask(int argc, char **argv)
{
    return lv_cap_run(argc, argv, 1);
}
