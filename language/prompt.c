/* prompt.c - the llava_llada prompt: chat template + tokenizer_image_token (spec §5.2, §5.3).
 *
 *   question --lmms-eval user turn--> "<image>\n" + question
 *            --chat template--> "<|startoftext|><|start_header_id|>system..." string
 *            --split on "<image>", encode chunks (add_special_tokens=True), drop BOS--> ids
 *
 * Mirrors conv_templates["llava_llada"] rendered by the tokenizer's Jinja chat_template
 * (train/llava/conversation.py, tokenizer_config.json) and mm_utils.tokenizer_image_token.
 */
#include <stdlib.h>
#include <string.h>

#include "language.h"
#include "tokenizer.h"

const char lv_llada_system_prompt[] =
    "You are a helpful language and vision assistant. You are able to understand the visual "
    "content that the user provides, and assist the user with a variety of tasks using natural "
    "language.";

#define LV_BOS "<|startoftext|>"
#define LV_HDR(role) "<|start_header_id|>" role "<|end_header_id|>\n\n"
#define LV_EOT "<|eot_id|>"

/* Python str.isspace(), which Jinja's `trim` (str.strip) uses. */
static int lv_py_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static size_t lv_cp_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

static int lv_count(const char *s, const char *pat)
{
    int n = 0;
    size_t pl = strlen(pat);
    for (const char *p = strstr(s, pat); p; p = strstr(p + pl, pat)) n++;
    return n;
}

lv_status lv_prompt_user_turn(const char *text, int n_images, char **out)
{
    *out = NULL;
    if (n_images < 0) return lv_fail(LV_ERR_ARG, "prompt: negative image count %d", n_images);
    int have = lv_count(text, LV_IMAGE_PLACEHOLDER);
    size_t tl = strlen(text), pre = 0;
    if (n_images > 0 && have == 0) {
        pre = (size_t)n_images * (sizeof LV_IMAGE_PLACEHOLDER);  /* "<image>" + ' ' or '\n' */
    } else if (have != n_images) {
        return lv_fail(LV_ERR_INPUT, "prompt: text has %d '%s' placeholders but %d image(s) were given",
                       have, LV_IMAGE_PLACEHOLDER, n_images);
    }
    char *s = malloc(pre + tl + 1);
    if (!s) return lv_fail(LV_ERR_NOMEM, "prompt: out of memory");
    size_t k = 0;
    for (int i = 0; pre && i < n_images; i++) {  /* " ".join(["<image>"] * n) + "\n" */
        memcpy(s + k, LV_IMAGE_PLACEHOLDER, sizeof LV_IMAGE_PLACEHOLDER - 1);
        k += sizeof LV_IMAGE_PLACEHOLDER - 1;
        s[k++] = i + 1 < n_images ? ' ' : '\n';
    }
    memcpy(s + k, text, tl + 1);
    *out = s;
    return LV_OK;
}

lv_status lv_prompt_render(const char *user_turn, char **out)
{
    *out = NULL;
    size_t n = strlen(user_turn);
    if (lv_utf8_invalid_at(user_turn, n) != (size_t)-1)
        return lv_fail(LV_ERR_INPUT, "prompt: text is not valid UTF-8 (byte %zu)", lv_utf8_invalid_at(user_turn, n));
    /* trim(content): only the content is trimmed, the template's own "\n\n" stays */
    size_t a = 0, b = n;
    while (a < b) {
        uint32_t cp;
        int k = lv_utf8_next((const unsigned char *)user_turn + a, b - a, &cp);
        if (!lv_py_space(cp)) break;
        a += (size_t)k;
    }
    while (b > a) {
        size_t i = b - 1;
        while (i > a && ((unsigned char)user_turn[i] & 0xC0) == 0x80) i--;
        uint32_t cp;
        lv_utf8_next((const unsigned char *)user_turn + i, b - i, &cp);
        if (!lv_py_space(cp) || lv_cp_len(cp) != b - i) break;
        b = i;
    }
    static const char head[] = LV_BOS LV_HDR("system");
    static const char user_hdr[] = LV_EOT LV_HDR("user");
    static const char tail[] = LV_EOT LV_HDR("assistant");
    /* messages with empty content are not rendered (the template filters them) */
    int has_user = n > 0;
    size_t tot = sizeof head + sizeof lv_llada_system_prompt + sizeof user_hdr + (b - a) + sizeof tail;
    char *s = malloc(tot);
    if (!s) return lv_fail(LV_ERR_NOMEM, "prompt: out of memory");
    size_t k = 0;
#define LV_PUT(p, len) (memcpy(s + k, (p), (len)), k += (len))
    LV_PUT(head, sizeof head - 1);
    LV_PUT(lv_llada_system_prompt, sizeof lv_llada_system_prompt - 1);
    if (has_user) {
        LV_PUT(user_hdr, sizeof user_hdr - 1);
        LV_PUT(user_turn + a, b - a);
    }
    LV_PUT(tail, sizeof tail - 1);
#undef LV_PUT
    s[k] = 0;
    *out = s;
    return LV_OK;
}

lv_status lv_prompt_tokenize(const lv_tokenizer *tok, const char *prompt, int32_t **ids_out, int *n_out)
{
    *ids_out = NULL;
    *n_out = 0;
    int n_chunks = lv_count(prompt, LV_IMAGE_PLACEHOLDER) + 1;
    int32_t bos = lv_tokenizer_added_id(tok, LV_BOS);
    int32_t *out = NULL;
    size_t n = 0, cap = 0;
    int offset = 0;
    const char *p = prompt;
    lv_status st = LV_OK;
    for (int c = 0; c < n_chunks && st == LV_OK; c++) {
        const char *e = c + 1 < n_chunks ? strstr(p, LV_IMAGE_PLACEHOLDER) : p + strlen(p);
        int32_t *ids;
        int nid;
        st = lv_tokenizer_encode(tok, p, (size_t)(e - p), 1, &ids, &nid);
        if (st != LV_OK) break;
        if (c == 0 && nid > 0 && bos >= 0 && ids[0] == bos) offset = 1;  /* keep that one BOS */
        size_t need = n + (size_t)nid + 2;
        if (need > cap) {
            cap = need * 2;
            int32_t *no = realloc(out, cap * sizeof *no);
            if (!no) { free(ids); st = lv_fail(LV_ERR_NOMEM, "prompt: out of memory"); break; }
            out = no;
        }
        if (c == 0 && offset) out[n++] = bos;
        if (c > 0) out[n++] = LV_IMAGE_TOKEN_ID;
        for (int i = offset; i < nid; i++) out[n++] = ids[i];  /* chunk[offset:] */
        free(ids);
        p = e + (c + 1 < n_chunks ? sizeof LV_IMAGE_PLACEHOLDER - 1 : 0);
    }
    if (st != LV_OK) { free(out); return st; }
    if (!out && !(out = malloc(sizeof *out))) return lv_fail(LV_ERR_NOMEM, "prompt: out of memory");
    *ids_out = out;
    *n_out = (int)n;
    return LV_OK;
}

lv_status lv_prompt_build(const lv_tokenizer *tok, const char *text, int n_images, int32_t **ids,
                          int *n_ids)
{
    char *turn = NULL, *prompt = NULL;
    lv_status st = lv_prompt_user_turn(text, n_images, &turn);
    if (st == LV_OK) st = lv_prompt_render(turn, &prompt);
    if (st == LV_OK) st = lv_prompt_tokenize(tok, prompt, ids, n_ids);
    free(turn);
    free(prompt);
    return st;
}
