/* test_tokenizer.c - the tokenizer against the Hugging Face library, error cases, prompt assembly.
 *
 * tests/tokenizer/expected/NAME.jsonl holds, per line of tests/tokenizer/corpus.jsonl, the ids
 * and decodes produced by `tokenizers` 0.22 (tests/tokenizer/make_expected.js). NAME's
 * tokenizer.json is tests/tokenizer/models/NAME/ (qwen3 committed as .gz, unpacked by cmake; gpt4o, llama3, llama2 via
 * tests/tokenizer/fetch_models.sh) or tests/fixtures/models/NAME/ (the tiny LLaDA fixtures).
 * Absent tokenizers are reported as SKIP on stderr; the committed ones must be present.
 */
#include <check.h>
#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "language.h"
#include "testutil.h"

static const char *lv_tok_names[] = {"qwen3", "gpt4o", "llama3", "llama2", "tiny-bf16-sharded", "tiny-f32",
                                     "variant-bailing", "variant-norm", "variant-splits",
                                     "variant-metaspace", "variant-metaspace-always", "gemma3",
                                     "deepseek_v3"};
#define LV_N_TOKS ((int)(sizeof lv_tok_names / sizeof lv_tok_names[0]))

static const char *tok_path(const char *name)
{
    static const char *dirs[] = {"tests/tokenizer/models", "tests/fixtures/models"};
    static char buf[1024];
    for (int d = 0; d < 2; d++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/%s/tokenizer.json", dirs[d], name);
        snprintf(buf, sizeof buf, "%s", lv_test_path(rel));
        FILE *f = fopen(buf, "rb");
        if (f) { fclose(f); return buf; }
    }
    return NULL;
}

/* Split a file into lines (in place); returns the count. */
static int split_lines(char *s, char ***lines)
{
    int n = 0, cap = 1024;
    *lines = malloc((size_t)cap * sizeof **lines);
    for (char *p = s; *p;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (n == cap) *lines = realloc(*lines, (size_t)(cap *= 2) * sizeof **lines);
        (*lines)[n++] = p;
        if (!e) break;
        p = e + 1;
    }
    return n;
}

static int ids_equal(const int32_t *got, int n, const cJSON *want)
{
    if (cJSON_GetArraySize(want) != n) return 0;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, want) if ((int32_t)v->valuedouble != got[i++]) return 0;
    return 1;
}

static void print_ids(const char *what, const int32_t *ids, int n)
{
    fprintf(stderr, "    %s:", what);
    for (int i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", (int)ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* Byte-level tokenizers without a normalizer reproduce the text exactly. */
static int exact_roundtrip(const char *name)
{
    return !strcmp(name, "gpt4o") || !strcmp(name, "llama3") || !strncmp(name, "tiny", 4);
}

START_TEST(test_corpus_matches_hf)
{
    const char *name = lv_tok_names[_i];
    const char *path = tok_path(name);
    if (!path) {
        ck_assert_msg(strcmp(name, "qwen3"), "the committed qwen3 tokenizer is missing");
        fprintf(stderr, "SKIP: tokenizer '%s' absent (run tests/tokenizer/fetch_models.sh)\n", name);
        return;
    }
    char rel[256];
    snprintf(rel, sizeof rel, "tests/tokenizer/expected/%s.jsonl", name);
    char *corpus = lv_test_read_file(lv_test_path("tests/tokenizer/corpus.jsonl"), NULL);
    char *expected = lv_test_read_file(lv_test_path(rel), NULL);
    ck_assert_msg(corpus && expected, "cannot read corpus or %s", rel);
    char **cl, **el;
    int nc = split_lines(corpus, &cl), ne = split_lines(expected, &el);
    while (nc > 0 && !*cl[nc - 1]) nc--;
    while (ne > 0 && !*el[ne - 1]) ne--;
    /* line 1 fingerprints the tokenizer.json the ids were made from */
    size_t tn;
    char *tj = lv_test_read_file(path, &tn);
    ck_assert(tj);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < tn; i++) h = (h ^ (unsigned char)tj[i]) * 0x100000001b3ull;
    free(tj);
    char fp[17];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)h);
    cJSON *head = cJSON_Parse(el[0]);
    const char *want_fp = cJSON_GetStringValue(cJSON_GetObjectItem(head, "tokenizer_fnv1a64"));
    int stale = !want_fp || strcmp(want_fp, fp);
    cJSON_Delete(head);
    if (stale) {
        free(cl); free(el); free(corpus); free(expected);
        ck_assert_msg(strcmp(name, "qwen3"), "%s: expected ids were made from another tokenizer.json", rel);
        fprintf(stderr, "SKIP: %s was made from another version of %s (fingerprint %s): run "
                        "tests/tokenizer/regen.sh\n", rel, path, fp);
        return;
    }
    el++;
    ne--;
    ck_assert_int_eq(nc, ne);
    ck_assert_int_ge(nc, 500);

    lv_tokenizer *tok = NULL;
    ck_assert_msg(lv_tokenizer_load(&tok, path) == LV_OK, "%s", lv_last_error());
    int bad = 0, checked = 0, roundtrip = 0;
    for (int i = 0; i < nc; i++) {
        cJSON *text = cJSON_Parse(cl[i]), *exp = cJSON_Parse(el[i]);
        ck_assert(cJSON_IsString(text) && cJSON_IsObject(exp));
        const char *s = text->valuestring;
        int32_t *ids, *ids_sp;
        int n, n_sp;
        ck_assert_msg(lv_tokenizer_encode(tok, s, strlen(s), 0, &ids, &n) == LV_OK, "%s", lv_last_error());
        ck_assert_msg(lv_tokenizer_encode(tok, s, strlen(s), 1, &ids_sp, &n_sp) == LV_OK, "%s", lv_last_error());
        char *dec, *dec_skip, *dec_mine;
        size_t dl, dsl, dml;
        ck_assert(lv_tokenizer_decode(tok, ids, n, 0, &dec_mine, &dml) == LV_OK);
        /* decode the reference ids too, so a decode bug shows even where encode differs */
        const cJSON *wid = cJSON_GetObjectItem(exp, "ids"), *wsp = cJSON_GetObjectItem(exp, "ids_special");
        int nw = cJSON_GetArraySize(wid), nws = cJSON_GetArraySize(wsp);
        int32_t *w = malloc(((size_t)nw + 1) * sizeof *w), *ws = malloc(((size_t)nws + 1) * sizeof *ws);
        int k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, wid) w[k++] = (int32_t)v->valuedouble;
        k = 0;
        cJSON_ArrayForEach(v, wsp) ws[k++] = (int32_t)v->valuedouble;
        ck_assert(lv_tokenizer_decode(tok, w, nw, 0, &dec, &dl) == LV_OK);
        ck_assert(lv_tokenizer_decode(tok, ws, nws, 1, &dec_skip, &dsl) == LV_OK);
        const char *want_dec = cJSON_GetObjectItem(exp, "decoded")->valuestring;
        const char *want_skip = cJSON_GetObjectItem(exp, "decoded_skip")->valuestring;
        int ok_ids = ids_equal(ids, n, wid), ok_sp = ids_equal(ids_sp, n_sp, wsp);
        int ok_dec = dl == strlen(want_dec) && !memcmp(dec, want_dec, dl);
        int ok_skip = dsl == strlen(want_skip) && !memcmp(dec_skip, want_skip, dsl);
        int ok_rt = !exact_roundtrip(name) || (dml == strlen(s) && !memcmp(dec_mine, s, dml));
        roundtrip += dml == strlen(s) && !memcmp(dec_mine, s, dml);
        if (!(ok_ids && ok_sp && ok_dec && ok_skip && ok_rt)) {
            if (bad < 5) {
                fprintf(stderr, "%s: corpus line %d %s: ids %s, ids_special %s, decode %s, decode_skip %s, roundtrip %s\n",
                        name, i + 1, cl[i], ok_ids ? "ok" : "DIFFER", ok_sp ? "ok" : "DIFFER",
                        ok_dec ? "ok" : "DIFFER", ok_skip ? "ok" : "DIFFER", ok_rt ? "ok" : "DIFFER");
                if (!ok_ids) { print_ids("got ", ids, n); print_ids("want", w, nw); }
                if (!ok_dec) fprintf(stderr, "    decode got '%s' want '%s'\n", dec, want_dec);
            }
            bad++;
        }
        checked++;
        free(ids); free(ids_sp); free(dec); free(dec_skip); free(dec_mine); free(w); free(ws);
        cJSON_Delete(text);
        cJSON_Delete(exp);
    }
    fprintf(stderr, "%s: %d corpus texts, %d differ from the HF library, %d decode(encode(x)) == x\n",
            name, checked, bad, roundtrip);
    lv_tokenizer_free(tok);
    free(cl); free(el - 1); free(corpus); free(expected);
    ck_assert_int_eq(bad, 0);
}
END_TEST

/* Encode throughput on ~3 MB of corpus text (reported, not asserted). */
START_TEST(test_throughput_report)
{
    const char *path = tok_path("qwen3");
    ck_assert(path);
    lv_tokenizer *tok = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(lv_tokenizer_load(&tok, path) == LV_OK, "%s", lv_last_error());
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double load_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    size_t cn;
    char *corpus = lv_test_read_file(lv_test_path("tests/tokenizer/corpus.jsonl"), &cn);
    ck_assert(corpus);
    size_t target = 3u << 20, n = 0;
    char *text = malloc(target + cn + 1);
    while (n < target) { memcpy(text + n, corpus, cn); n += cn; }  /* JSON-escaped: mixed text */
    text[n] = 0;
    int32_t *ids;
    int nid;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(lv_tokenizer_encode(tok, text, n, 0, &ids, &nid) == LV_OK, "%s", lv_last_error());
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr, "throughput: qwen3 load %.2f s; encode %.2f MB in %.3f s = %.2f MB/s (%d ids)\n",
            load_s, (double)n / 1e6, s, (double)n / 1e6 / s, nid);
    char *dec;
    size_t dl;
    ck_assert(lv_tokenizer_decode(tok, ids, nid, 0, &dec, &dl) == LV_OK);
    ck_assert_uint_gt(dl, n / 2);
    free(dec); free(ids); free(text); free(corpus);
    lv_tokenizer_free(tok);
}
END_TEST

/* ---- error cases on small hand-written tokenizer.json files ---------------------------- */

#define MINI_VOCAB "{\"a\": 0, \"b\": 1, \"ab\": 2, \"c\": 3}"
#define MINI(model_extra, merges, rest) \
    "{\"version\": \"1.0\", \"normalizer\": null, \"pre_tokenizer\": null," \
    " \"post_processor\": null, \"decoder\": null, " rest "\"model\": {\"type\": \"BPE\", " model_extra \
    "\"vocab\": " MINI_VOCAB ", \"merges\": " merges "}}"

static void expect_fail(const char *json, lv_status want, const char *needle)
{
    lv_tokenizer *tok = (lv_tokenizer *)1;
    lv_status s = lv_tokenizer_load_json(&tok, json, strlen(json), "mini/tokenizer.json");
    ck_assert_msg(s == want, "status %s, want %s (%s)", lv_status_name(s), lv_status_name(want), lv_last_error());
    ck_assert_ptr_null(tok);
    ck_assert_msg(strstr(lv_last_error(), "mini/tokenizer.json"), "message names no file: %s", lv_last_error());
    ck_assert_msg(strstr(lv_last_error(), needle), "message '%s' lacks '%s'", lv_last_error(), needle);
}

START_TEST(test_load_errors)
{
    lv_tokenizer *tok = NULL;
    ck_assert_int_eq(lv_tokenizer_load(&tok, "/nonexistent/tokenizer.json"), LV_ERR_IO);
    ck_assert(strstr(lv_last_error(), "/nonexistent/tokenizer.json"));
    expect_fail("{\"model\": {", LV_ERR_FORMAT, "malformed JSON");
    expect_fail("[1, 2]", LV_ERR_FORMAT, "not a JSON object");
    expect_fail("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", LV_ERR_UNSUPPORTED,
                "unsupported tokenizer model type 'WordPiece'");
    expect_fail("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", LV_ERR_UNSUPPORTED,
                "unsupported tokenizer model type 'Unigram'");
    expect_fail(MINI("", "[\"a x\"]", ""), LV_ERR_TOKENIZER, "merge 0 references unknown token 'x'");
    expect_fail(MINI("", "[\"b c\"]", ""), LV_ERR_TOKENIZER, "merged token 'bc' is not in the vocabulary");
    expect_fail(MINI("", "[\"a b c\"]", ""), LV_ERR_FORMAT, "not two tokens");
    expect_fail(MINI("", "[[\"a\"]]", ""), LV_ERR_FORMAT, "neither");
    expect_fail("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}", LV_ERR_FORMAT,
                "out of range");
    expect_fail("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1e12}, \"merges\": []}}", LV_ERR_FORMAT,
                "out of range");
    expect_fail("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1.5}, \"merges\": []}}", LV_ERR_FORMAT,
                "not an integer");
    expect_fail("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}",
                LV_ERR_FORMAT, "duplicate id 0");
    expect_fail(MINI("", "[]", "\"added_tokens\": [{\"id\": 1, \"content\": \"<x>\"}], "), LV_ERR_FORMAT,
                "duplicate id 1");
    expect_fail(MINI("\"unk_token\": \"<unk>\", ", "[]", ""), LV_ERR_TOKENIZER, "unk_token '<unk>'");
    expect_fail("{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, \"model\": {\"type\": \"BPE\", "
                "\"vocab\": {\"a\": 0}, \"merges\": []}}", LV_ERR_UNSUPPORTED,
                "unsupported pre_tokenizer type 'BertPreTokenizer'");
    expect_fail("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, \"behavior\": \"Isolated\"},"
                " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", LV_ERR_UNSUPPORTED,
                "does not compile");
    expect_fail("{\"normalizer\": {\"type\": \"Precompiled\"}, \"model\": {\"type\": \"BPE\", "
                "\"vocab\": {\"a\": 0}, \"merges\": []}}", LV_ERR_UNSUPPORTED, "normalizer type 'Precompiled'");
    expect_fail("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", LV_ERR_FORMAT, "empty vocabulary");
}
END_TEST

START_TEST(test_api_and_input_errors)
{
    const char *json = MINI("\"unk_token\": \"c\", ", "[\"a b\"]",
        "\"added_tokens\": [{\"id\": 7, \"content\": \"<|eot_id|>\", \"special\": true},"
        " {\"id\": 5, \"content\": \"xyz\", \"special\": false, \"normalized\": true}], ");
    lv_tokenizer *tok = NULL;
    ck_assert_msg(lv_tokenizer_load_json(&tok, json, strlen(json), "mini") == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(lv_tokenizer_size(tok), 8);
    ck_assert_int_eq(lv_tokenizer_added_id(tok, "<|eot_id|>"), 7);
    ck_assert_int_eq(lv_tokenizer_added_id(tok, "ab"), -1);
    ck_assert_int_eq(lv_tokenizer_token_id(tok, "ab"), 2);
    ck_assert_str_eq(lv_tokenizer_token(tok, 7), "<|eot_id|>");
    ck_assert_ptr_null(lv_tokenizer_token(tok, 6));
    ck_assert_int_eq(lv_tokenizer_is_special(tok, 7), 1);
    ck_assert_int_eq(lv_tokenizer_is_special(tok, 5), 0);
    int32_t *ids;
    int n;
    /* "ab" merges, "d" is unknown -> unk "c" (id 3), added tokens split out */
    ck_assert(lv_tokenizer_encode(tok, "abd<|eot_id|>xyzab", 18, 0, &ids, &n) == LV_OK);
    int32_t want[] = {2, 3, 7, 5, 2};
    ck_assert_int_eq(n, 5);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(ids[i], want[i]);
    free(ids);
    ck_assert_int_eq(lv_tokenizer_encode(tok, "a\xff", 2, 0, &ids, &n), LV_ERR_INPUT);
    ck_assert(strstr(lv_last_error(), "byte 1"));
    ck_assert(lv_tokenizer_encode(tok, "", 0, 1, &ids, &n) == LV_OK && n == 0);
    free(ids);
    char *s;
    size_t len;
    int32_t bad[] = {0, 8};
    ck_assert_int_eq(lv_tokenizer_decode(tok, bad, 2, 0, &s, &len), LV_ERR_INPUT);
    ck_assert(strstr(lv_last_error(), "id 8"));
    int32_t hole[] = {2, 6, 7, 0};  /* 6 has no token: skipped like the HF library */
    ck_assert(lv_tokenizer_decode(tok, hole, 4, 1, &s, &len) == LV_OK);
    ck_assert_str_eq(s, "ab a");  /* no decoder: tokens joined with spaces */
    free(s);
    lv_tokenizer_free(tok);
    lv_tokenizer_free(NULL);
}
END_TEST

/* ---- prompt assembly -------------------------------------------------------------------------- */

START_TEST(test_prompt_render)
{
    char *turn, *p;
    ck_assert(lv_prompt_user_turn("Please describe the image in detail.", 1, &turn) == LV_OK);
    ck_assert_str_eq(turn, "<image>\nPlease describe the image in detail.");
    ck_assert(lv_prompt_render(turn, &p) == LV_OK);
    ck_assert_str_eq(p,
        "<|startoftext|><|start_header_id|>system<|end_header_id|>\n\n"
        "You are a helpful language and vision assistant. You are able to understand the visual content "
        "that the user provides, and assist the user with a variety of tasks using natural language."
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
        "<image>\nPlease describe the image in detail.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
    free(turn);
    free(p);
    ck_assert(lv_prompt_user_turn("two", 2, &turn) == LV_OK);
    ck_assert_str_eq(turn, "<image> <image>\ntwo");
    free(turn);
    ck_assert(lv_prompt_user_turn("a <image> b", 1, &turn) == LV_OK);
    ck_assert_str_eq(turn, "a <image> b");
    free(turn);
    ck_assert_int_eq(lv_prompt_user_turn("a <image> b", 2, &turn), LV_ERR_INPUT);
    ck_assert_int_eq(lv_prompt_user_turn("a <image> b", 0, &turn), LV_ERR_INPUT);
    ck_assert(lv_prompt_render(" \t hi \n\u3000", &p) == LV_OK);  /* only the content is trimmed */
    ck_assert(strstr(p, "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"));
    free(p);
}
END_TEST

/* tokenizer_image_token on the tiny LLaDA fixtures: ids are the chunks' ids joined by -200;
 * with a BOS-prepending post_processor (tiny-bf16-sharded) the auto-BOS of every chunk is
 * dropped and the literal one kept, as in mm_utils.py. */
START_TEST(test_prompt_ids)
{
    const char *names[] = {"tiny-f32", "tiny-bf16-sharded"};
    for (int k = 0; k < 2; k++) {
        const char *path = tok_path(names[k]);
        if (!path) { fprintf(stderr, "SKIP: fixture tokenizer %s absent\n", names[k]); continue; }
        lv_tokenizer *tok = NULL;
        ck_assert_msg(lv_tokenizer_load(&tok, path) == LV_OK, "%s", lv_last_error());
        int32_t bos = lv_tokenizer_added_id(tok, "<|startoftext|>");
        ck_assert_int_ge(bos, 0);
        int32_t *ids, *c0, *c1;
        int n, n0, n1;
        ck_assert(lv_prompt_build(tok, "What is shown?", 1, &ids, &n) == LV_OK);
        char *turn, *p;
        ck_assert(lv_prompt_user_turn("What is shown?", 1, &turn) == LV_OK);
        ck_assert(lv_prompt_render(turn, &p) == LV_OK);
        char *img = strstr(p, "<image>");
        ck_assert(lv_tokenizer_encode(tok, p, (size_t)(img - p), 1, &c0, &n0) == LV_OK);
        ck_assert(lv_tokenizer_encode(tok, img + 7, strlen(img + 7), 1, &c1, &n1) == LV_OK);
        ck_assert_int_eq(c0[0], bos);
        /* BOS, chunk0[1:], -200, chunk1[1:] */
        ck_assert_int_eq(n, 1 + (n0 - 1) + 1 + (n1 - 1));
        ck_assert_int_eq(ids[0], bos);
        for (int i = 1; i < n0; i++) ck_assert_int_eq(ids[i], c0[i]);
        ck_assert_int_eq(ids[n0], LV_IMAGE_TOKEN_ID);
        for (int i = 1; i < n1; i++) ck_assert_int_eq(ids[n0 + i], c1[i]);
        /* the assistant header closes the prompt */
        static const char tail[] = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        int32_t *t;
        int nt;
        ck_assert(lv_tokenizer_encode(tok, tail, sizeof tail - 1, 0, &t, &nt) == LV_OK);
        ck_assert_int_ge(n, nt);
        ck_assert_int_eq(t[0], lv_tokenizer_added_id(tok, "<|eot_id|>"));
        for (int i = 0; i < nt; i++) ck_assert_int_eq(ids[n - nt + i], t[i]);
        free(t);
        free(ids); free(c0); free(c1); free(turn); free(p);
        lv_tokenizer_free(tok);
    }
}
END_TEST

/* The JSON string value of "key" in a one-line object, with its length: cJSON strings stop at
 * the first \u0000, and the reference's data has NUL characters. Returned, free(). */
static char *json_string_field(const char *line, const char *key, size_t *len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    ck_assert_msg(p, "no %s in %s", key, line);
    p += strlen(pat);
    char *out = malloc(strlen(p) * 2 + 1);
    size_t k = 0;
    while (*p != '"') {
        if (*p != '\\') { out[k++] = *p++; continue; }
        char e = p[1];
        p += 2;
        if (e != 'u') {
            out[k++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
            continue;
        }
        unsigned u = (unsigned)strtoul((char[5]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
        p += 4;
        if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned lo = (unsigned)strtoul((char[5]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
            p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (u < 0x80) out[k++] = (char)u;
        else if (u < 0x800) { out[k++] = (char)(0xC0 | (u >> 6)); out[k++] = (char)(0x80 | (u & 0x3F)); }
        else if (u < 0x10000) {
            out[k++] = (char)(0xE0 | (u >> 12));
            out[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (u & 0x3F));
        } else {
            out[k++] = (char)(0xF0 | (u >> 18));
            out[k++] = (char)(0x80 | ((u >> 12) & 0x3F));
            out[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (u & 0x3F));
        }
    }
    out[k] = 0;
    *len = k;
    return out;
}

/* Every parity fixture of the PyTorch reference (tests/fixtures/ref/<case>.json + .safetensors):
 * lv_prompt_build on the sidecar's --model/--image/--prompt gives the reference's prompt_ids. */
START_TEST(test_prompt_matches_reference)
{
    DIR *d = opendir(lv_test_path("tests/fixtures/ref"));
    if (!d) { fprintf(stderr, "SKIP: tests/fixtures/ref absent\n"); return; }
    struct dirent *de;
    int cases = 0;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json")) continue;
        char rel[512], st_rel[512];
        snprintf(rel, sizeof rel, "tests/fixtures/ref/%s", de->d_name);
        snprintf(st_rel, sizeof st_rel, "tests/fixtures/ref/%.*s.safetensors", (int)(nl - 5), de->d_name);
        char *js = lv_test_read_file(lv_test_path(rel), NULL);
        ck_assert(js);
        cJSON *side = cJSON_Parse(js);
        free(js);
        const cJSON *cli = cJSON_GetObjectItem(side, "cli"), *a;
        const char *model = NULL, *prompt = NULL;
        int image = 0, prev_model = 0, prev_prompt = 0;
        cJSON_ArrayForEach(a, cli) {
            const char *v = cJSON_GetStringValue(a);
            if (prev_model) model = v;
            if (prev_prompt) prompt = v;
            prev_model = v && !strcmp(v, "--model");
            prev_prompt = v && !strcmp(v, "--prompt");
            image |= v && !strcmp(v, "--image");
        }
        ck_assert_msg(model && prompt, "%s: no --model/--prompt in cli", rel);
        char tp[512];
        snprintf(tp, sizeof tp, "%s/tokenizer.json", model);
        lv_tokenizer *tok = NULL;
        ck_assert_msg(lv_tokenizer_load(&tok, lv_test_path(tp)) == LV_OK, "%s", lv_last_error());
        int32_t *ids;
        int n;
        ck_assert_msg(lv_prompt_build(tok, prompt, image, &ids, &n) == LV_OK, "%s", lv_last_error());
        lv_weights *w = NULL;
        ck_assert_msg(lv_weights_open(&w, lv_test_path(st_rel)) == LV_OK, "%s", lv_last_error());
        const lv_tensor *t = lv_weights_get(w, "prompt_ids");
        ck_assert_msg(t && t->dtype == LV_DTYPE_I32, "%s: no I32 prompt_ids", st_rel);
        const int32_t *want = t->data;
        int same = t->numel == n;
        for (int i = 0; same && i < n; i++) same = want[i] == ids[i];
        if (!same) {
            print_ids("got ", ids, n);
            print_ids("want", want, (int)t->numel);
        }
        ck_assert_msg(same, "%s: prompt ids differ from the reference's prompt_ids", st_rel);
        cases++;
        lv_weights_free(w);
        free(ids);
        lv_tokenizer_free(tok);
        cJSON_Delete(side);
    }
    closedir(d);
    fprintf(stderr, "prompt: %d reference fixtures, prompt_ids identical\n", cases);
    ck_assert_int_gt(cases, 0);
}
END_TEST

/* The reference's own tokenizer parity data (tests/fixtures/tokenizer/<model>.jsonl): encode
 * and decode ops, incl. incomplete UTF-8 and specials, from the HF library. */
START_TEST(test_reference_tokenizer_ops)
{
    const char *names[] = {"tiny-f32", "tiny-bf16-sharded"};
    for (int k = 0; k < 2; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fixtures/tokenizer/%s.jsonl", names[k]);
        char *data = lv_test_read_file(lv_test_path(rel), NULL);
        const char *path = tok_path(names[k]);
        if (!data || !path) { fprintf(stderr, "SKIP: %s or its tokenizer absent\n", rel); free(data); continue; }
        lv_tokenizer *tok = NULL;
        ck_assert_msg(lv_tokenizer_load(&tok, path) == LV_OK, "%s", lv_last_error());
        char **lines;
        int nl = split_lines(data, &lines), ops = 0;
        for (int i = 0; i < nl; i++) {
            if (!*lines[i]) continue;
            cJSON *o = cJSON_Parse(lines[i]);
            ck_assert(o);
            const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(o, "op"));
            const cJSON *jids = cJSON_GetObjectItem(o, "ids");
            if (!strcmp(op, "encode")) {
                size_t tl;
                char *text = json_string_field(lines[i], "text", &tl);
                int32_t *ids;
                int n;
                for (int sp = 0; sp < 2; sp++) {
                    ck_assert(lv_tokenizer_encode(tok, text, tl, sp, &ids, &n) == LV_OK);
                    ck_assert_msg(ids_equal(ids, n, sp ? cJSON_GetObjectItem(o, "ids_special") : jids),
                                  "%s line %d: encode(special=%d) differs", rel, i + 1, sp);
                    free(ids);
                }
                free(text);
            } else {
                int n = cJSON_GetArraySize(jids), j = 0;
                int32_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
                const cJSON *v;
                cJSON_ArrayForEach(v, jids) ids[j++] = (int32_t)v->valuedouble;
                static const char *keys[2] = {"text", "text_skip_special"};
                for (int sk = 0; sk < 2; sk++) {
                    char *s;
                    size_t len;
                    ck_assert(lv_tokenizer_decode(tok, ids, n, sk, &s, &len) == LV_OK);
                    size_t wl;
                    char *want = json_string_field(lines[i], keys[sk], &wl);
                    ck_assert_msg(len == wl && !memcmp(s, want, len),
                                  "%s line %d: decode(skip=%d) '%s' != '%s'", rel, i + 1, sk, s, want);
                    free(want);
                    free(s);
                }
                free(ids);
            }
            ops++;
            cJSON_Delete(o);
        }
        fprintf(stderr, "%s: %d reference ops identical\n", rel, ops);
        free(lines);
        free(data);
        lv_tokenizer_free(tok);
    }
}
END_TEST

static Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("hf_parity");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_corpus_matches_hf, 0, LV_N_TOKS);
    tcase_add_test(tc, test_throughput_report);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_load_errors);
    tcase_add_test(te, test_api_and_input_errors);
    suite_add_tcase(s, te);
    TCase *tp = tcase_create("prompt");
    tcase_add_test(tp, test_prompt_render);
    tcase_add_test(tp, test_prompt_ids);
    tcase_add_test(tp, test_prompt_matches_reference);
    tcase_add_test(tp, test_reference_tokenizer_ops);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    return lv_test_run(tokenizer_suite());
}
