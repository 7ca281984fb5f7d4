/* tokenizer.c - load and validate a Hugging Face tokenizer.json (BPE models only).
 *
 *   tokenizer.json --cJSON--> vocab map, merge map (rank, merged id), added tokens,
 *                             normalizer / pre_tokenizer / decoder / post_processor nodes
 *
 * Mirrors `tokenizers` 0.22: BpeBuilder::build (merge validation, merged token lookup with the
 * continuing_subword_prefix removed from the right part), AddedVocabulary::add_tokens (an
 * added token whose content is in the model vocabulary takes the vocabulary id), the serde
 * defaults of each component. Anything not implemented is refused with a specific error.
 */
#include "tokenizer.h"

#include <cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ids are kept in dense tables: refuse absurd ids instead of allocating for them. */
#define LV_TOK_MAX_ID (1 << 24)

/* ---- UTF-8 helpers and the GPT-2 byte <-> unicode map -------------------------------- */

/* bytes_char() of byte_level.rs: printable Latin-1 bytes map to themselves, the other 68
 * bytes to U+0100.. in byte order. Generated here as a table to keep the hot path a lookup. */
const uint16_t lv_byte_to_cp[256] = {
    256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271,
    272, 273, 274, 275, 276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287,
    288, 33,  34,  35,  36,  37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,
    48,  49,  50,  51,  52,  53,  54,  55,  56,  57,  58,  59,  60,  61,  62,  63,
    64,  65,  66,  67,  68,  69,  70,  71,  72,  73,  74,  75,  76,  77,  78,  79,
    80,  81,  82,  83,  84,  85,  86,  87,  88,  89,  90,  91,  92,  93,  94,  95,
    96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 289,
    290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300, 301, 302, 303, 304, 305,
    306, 307, 308, 309, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321,
    322, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 323, 174, 175,
    176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191,
    192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207,
    208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223,
    224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
    240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255,
};

/* Inverse of the 68 remapped bytes: code point 256 + i comes from byte lv_cp256_byte[i]. */
static const uint8_t lv_cp256_byte[68] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 127,
    128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144,
    145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 173,
};

int lv_cp_to_byte(uint32_t cp)
{
    if (cp >= 33 && cp <= 126) return (int)cp;
    if (cp >= 161 && cp <= 255 && cp != 173) return (int)cp;
    if (cp >= 256 && cp <= 323) return lv_cp256_byte[cp - 256];
    return -1;
}

int lv_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80 || n < 2) { *cp = c; return 1; }
    if (c < 0xE0) { *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F); return 2; }
    if (c < 0xF0 || n < 4) {
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
          ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    return 4;
}

int lv_utf8_put(char *out, uint32_t cp)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | (cp >> 6)); o[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t lv_utf8_invalid_at(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        int len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return i;
        if (i + (size_t)len > n || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (int k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += (size_t)len;
    }
    return (size_t)-1;
}

/* ---- hash maps ------------------------------------------------------------------------ */

static lv_status lv_strmap_init(lv_strmap *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    m->keys = calloc(cap, sizeof *m->keys);
    m->lens = calloc(cap, sizeof *m->lens);
    m->vals = calloc(cap, sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->lens || !m->vals) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    return LV_OK;
}

static void lv_strmap_free(lv_strmap *m)
{
    free(m->keys);
    free(m->lens);
    free(m->vals);
}

/* Insert or find: returns the slot; *found tells whether the key was there. */
static size_t lv_strmap_slot(const lv_strmap *m, const char *key, size_t len, int *found)
{
    size_t mask = m->cap - 1, i = (size_t)lv_tok_hash(key, len) & mask;
    while (m->keys[i]) {
        if (m->lens[i] == len && !memcmp(m->keys[i], key, len)) { *found = 1; return i; }
        i = (i + 1) & mask;
    }
    *found = 0;
    return i;
}

int32_t lv_strmap_get(const lv_strmap *m, const char *key, size_t len)
{
    if (!m->cap) return -1;
    int found;
    size_t i = lv_strmap_slot(m, key, len, &found);
    return found ? m->vals[i] : -1;
}

/* Returns 0 when inserted, 1 when the key already existed (value left unchanged). */
static int lv_strmap_put(lv_strmap *m, const char *key, size_t len, int32_t val)
{
    int found;
    size_t i = lv_strmap_slot(m, key, len, &found);
    if (found) return 1;
    m->keys[i] = key;
    m->lens[i] = (uint32_t)len;
    m->vals[i] = val;
    m->n++;
    return 0;
}

/* Later merges of the same pair overwrite earlier ones, as collecting into a HashMap does. */
static void lv_mergemap_put(lv_mergemap *m, int32_t a, int32_t b, uint32_t rank, int32_t id)
{
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t mask = m->cap - 1, i = (size_t)lv_tok_mix64(key) & mask;
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & mask;
    if (!m->keys[i]) m->n++;
    m->keys[i] = key;
    m->ranks[i] = rank;
    m->ids[i] = id;
}

/* ---- storage for token strings --------------------------------------------------------- */

static const char *lv_tok_store(lv_tokenizer *t, const char *s, size_t n)
{
    LV_ASSERT(t->storage_len + n + 1 <= t->storage_cap);  /* sized by a first pass */
    char *p = t->storage + t->storage_len;
    memcpy(p, s, n);
    p[n] = 0;
    t->storage_len += n + 1;
    return p;
}

/* ---- component parsing ------------------------------------------------------------------ */

static const char *lv_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int lv_json_bool(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return dflt;
}

static char *lv_strdup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) { memcpy(p, s, n); p[n] = 0; }
    return p;
}

/* Frees what a node owns (recursively), not the node itself: children live in arrays. */
static void lv_node_free(lv_tok_node *n)
{
    if (!n) return;
    for (int i = 0; i < n->n_children; i++) lv_node_free(&n->children[i]);
    free(n->children);
    if (n->re) pcre2_code_free(n->re);
    free(n->str);
    free(n->str2);
    free(n->tmpl);
}

/* Compile a {"String": s} / {"Regex": r} pattern; strings are matched literally. */
static lv_status lv_compile_pattern(const lv_tokenizer *t, const cJSON *pat, const char *what,
                                    lv_tok_node *n)
{
    const char *lit = lv_json_str(pat, "String"), *rx = lv_json_str(pat, "Regex");
    if (!lit && !rx)
        return lv_fail(LV_ERR_FORMAT, "%s: %s: pattern must be {\"String\": ...} or {\"Regex\": ...}",
                       t->path, what);
    char *src;
    if (lit) {
        size_t n0 = strlen(lit);
        src = malloc(2 * n0 + 1);
        if (!src) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n0; i++) {
            unsigned char c = (unsigned char)lit[i];
            if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                src[k++] = '\\';
            src[k++] = (char)c;
        }
        src[k] = 0;
        if (n0 == 0) {  /* an empty pattern matches nothing (pattern.rs) */
            free(src);
            src = lv_strdup_n("(*FAIL)", 7);
            if (!src) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
        }
    } else {
        src = lv_strdup_n(rx, strlen(rx));
        if (!src) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    }
    int err;
    PCRE2_SIZE off;
    n->re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
                          &off, NULL);
    if (!n->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        lv_status s = lv_fail(LV_ERR_UNSUPPORTED, "%s: %s: regex '%s' does not compile at offset %zu: %s",
                              t->path, what, src, (size_t)off, (char *)msg);
        free(src);
        return s;
    }
    free(src);
    n->jit = pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE) == 0;
    return LV_OK;
}

static lv_status lv_parse_normalizer(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n);
static lv_status lv_parse_pre(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n);
static lv_status lv_parse_decoder(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n);
static lv_status lv_parse_post(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n);

typedef lv_status (*lv_parse_fn)(const lv_tokenizer *, const cJSON *, lv_tok_node *);

static lv_status lv_parse_children(const lv_tokenizer *t, const cJSON *arr, const char *what,
                                   lv_parse_fn fn, lv_tok_node *n)
{
    if (!cJSON_IsArray(arr)) return lv_fail(LV_ERR_FORMAT, "%s: %s Sequence without a list", t->path, what);
    int k = cJSON_GetArraySize(arr);
    n->children = calloc((size_t)(k ? k : 1), sizeof *n->children);
    if (!n->children) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    const cJSON *c;
    cJSON_ArrayForEach(c, arr) {
        lv_status s = fn(t, c, &n->children[n->n_children]);
        n->n_children++;
        if (s != LV_OK) return s;
    }
    return LV_OK;
}

static const char *lv_type_of(const lv_tokenizer *t, const cJSON *j, const char *what)
{
    const char *type = cJSON_IsObject(j) ? lv_json_str(j, "type") : NULL;
    if (!type) lv_fail(LV_ERR_FORMAT, "%s: %s has no \"type\"", t->path, what);
    return type;
}

static lv_status lv_unsupported(const lv_tokenizer *t, const char *what, const char *type)
{
    return lv_fail(LV_ERR_UNSUPPORTED, "%s: unsupported %s type '%s'", t->path, what, type);
}

static lv_status lv_parse_normalizer(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n)
{
    const char *type = lv_type_of(t, j, "normalizer");
    if (!type) return LV_ERR_FORMAT;
    static const char *simple[] = {"NFC", "NFD", "NFKC", "NFKD", "Lowercase"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(type, simple[i])) { n->type = LV_NORM_NFC + i; return LV_OK; }
    if (!strcmp(type, "Sequence")) {
        n->type = LV_NORM_SEQUENCE;
        return lv_parse_children(t, cJSON_GetObjectItemCaseSensitive(j, "normalizers"),
                                 "normalizer", lv_parse_normalizer, n);
    }
    if (!strcmp(type, "Prepend")) {
        const char *p = lv_json_str(j, "prepend");
        if (!p) return lv_fail(LV_ERR_FORMAT, "%s: Prepend normalizer without \"prepend\"", t->path);
        n->type = LV_NORM_PREPEND;
        n->str_len = strlen(p);
        n->str = lv_strdup_n(p, n->str_len);
        return n->str ? LV_OK : lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (!strcmp(type, "Replace")) {
        const char *c = lv_json_str(j, "content");
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
        if (!c || !cJSON_IsObject(pat))
            return lv_fail(LV_ERR_FORMAT, "%s: Replace normalizer needs \"pattern\" and \"content\"", t->path);
        n->type = LV_NORM_REPLACE;
        n->str_len = strlen(c);
        n->str = lv_strdup_n(c, n->str_len);
        if (!n->str) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
        return lv_compile_pattern(t, pat, "Replace normalizer", n);
    }
    return lv_unsupported(t, "normalizer", type);
}

static lv_status lv_parse_behavior(const lv_tokenizer *t, const char *b, int *out)
{
    static const char *names[LV_SPLIT_COUNT] = {"Removed", "Isolated", "MergedWithPrevious",
                                                "MergedWithNext", "Contiguous"};
    for (int i = 0; b && i < LV_SPLIT_COUNT; i++)
        if (!strcmp(b, names[i])) { *out = i; return LV_OK; }
    return lv_fail(LV_ERR_FORMAT, "%s: Split pre-tokenizer: unknown behavior '%s'", t->path, b ? b : "(none)");
}

static lv_status lv_parse_metaspace(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n)
{
    const char *r = lv_json_str(j, "replacement");
    if (!r || !*r) return lv_fail(LV_ERR_FORMAT, "%s: Metaspace without \"replacement\"", t->path);
    uint32_t cp;
    size_t rl = (size_t)lv_utf8_next((const unsigned char *)r, strlen(r), &cp);
    n->str = lv_strdup_n(r, rl);
    n->str_len = rl;
    if (!n->str) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    const char *ps = lv_json_str(j, "prepend_scheme");
    if (ps) {
        if (!strcmp(ps, "always")) n->prepend_scheme = 0;
        else if (!strcmp(ps, "first")) n->prepend_scheme = 1;
        else if (!strcmp(ps, "never")) n->prepend_scheme = 2;
        else return lv_fail(LV_ERR_FORMAT, "%s: Metaspace: unknown prepend_scheme '%s'", t->path, ps);
    } else {
        n->prepend_scheme = lv_json_bool(j, "add_prefix_space", 1) ? 0 : 2;  /* legacy field */
    }
    n->split = lv_json_bool(j, "split", 1);
    return LV_OK;
}

static lv_status lv_parse_pre(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n)
{
    const char *type = lv_type_of(t, j, "pre_tokenizer");
    if (!type) return LV_ERR_FORMAT;
    if (!strcmp(type, "Sequence")) {
        n->type = LV_PRE_SEQUENCE;
        return lv_parse_children(t, cJSON_GetObjectItemCaseSensitive(j, "pretokenizers"),
                                 "pre_tokenizer", lv_parse_pre, n);
    }
    if (!strcmp(type, "ByteLevel")) {
        n->type = LV_PRE_BYTELEVEL;
        n->add_prefix_space = lv_json_bool(j, "add_prefix_space", 1);
        n->use_regex = lv_json_bool(j, "use_regex", 1);
        if (n->use_regex) {
            cJSON *pat = cJSON_CreateObject();
            if (!pat || !cJSON_AddStringToObject(pat, "Regex",
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+")) {
                cJSON_Delete(pat);
                return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
            }
            lv_status s = lv_compile_pattern(t, pat, "ByteLevel pre-tokenizer", n);
            cJSON_Delete(pat);
            n->behavior = LV_SPLIT_ISOLATED;
            return s;
        }
        return LV_OK;
    }
    if (!strcmp(type, "Split")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
        n->type = LV_PRE_SPLIT;
        if (!cJSON_IsObject(pat)) return lv_fail(LV_ERR_FORMAT, "%s: Split pre-tokenizer without \"pattern\"", t->path);
        LV_TRY(lv_parse_behavior(t, lv_json_str(j, "behavior"), &n->behavior));
        n->invert = lv_json_bool(j, "invert", 0);
        return lv_compile_pattern(t, pat, "Split pre-tokenizer", n);
    }
    if (!strcmp(type, "Digits")) {
        n->type = LV_PRE_DIGITS;
        n->individual_digits = lv_json_bool(j, "individual_digits", 0);
        return LV_OK;
    }
    if (!strcmp(type, "Metaspace")) {
        n->type = LV_PRE_METASPACE;
        return lv_parse_metaspace(t, j, n);
    }
    return lv_unsupported(t, "pre_tokenizer", type);
}

static lv_status lv_parse_decoder(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n)
{
    const char *type = lv_type_of(t, j, "decoder");
    if (!type) return LV_ERR_FORMAT;
    if (!strcmp(type, "Sequence")) {
        n->type = LV_DEC_SEQUENCE;
        return lv_parse_children(t, cJSON_GetObjectItemCaseSensitive(j, "decoders"), "decoder",
                                 lv_parse_decoder, n);
    }
    if (!strcmp(type, "ByteLevel")) { n->type = LV_DEC_BYTELEVEL; return LV_OK; }
    if (!strcmp(type, "ByteFallback")) { n->type = LV_DEC_BYTEFALLBACK; return LV_OK; }
    if (!strcmp(type, "Fuse")) { n->type = LV_DEC_FUSE; return LV_OK; }
    if (!strcmp(type, "Metaspace")) { n->type = LV_DEC_METASPACE; return lv_parse_metaspace(t, j, n); }
    if (!strcmp(type, "Replace")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
        const char *lit = cJSON_IsObject(pat) ? lv_json_str(pat, "String") : NULL;
        const char *c = lv_json_str(j, "content");
        if (!lit || !c)
            return lv_fail(LV_ERR_UNSUPPORTED, "%s: Replace decoder: only {\"String\": ...} patterns with a \"content\" are supported", t->path);
        n->type = LV_DEC_REPLACE;
        n->str_len = strlen(lit);
        n->str2_len = strlen(c);
        n->str = lv_strdup_n(lit, n->str_len);
        n->str2 = lv_strdup_n(c, n->str2_len);
        return n->str && n->str2 ? LV_OK : lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (!strcmp(type, "Strip")) {
        const char *c = lv_json_str(j, "content");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "start");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "stop");
        if (!c || !*c || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 || b->valuedouble < 0)
            return lv_fail(LV_ERR_FORMAT, "%s: Strip decoder needs \"content\", \"start\", \"stop\"", t->path);
        uint32_t cp;
        n->type = LV_DEC_STRIP;
        n->str_len = (size_t)lv_utf8_next((const unsigned char *)c, strlen(c), &cp);
        n->str = lv_strdup_n(c, n->str_len);
        n->strip_start = a->valuedouble > 1e6 ? 1000000 : (int)a->valuedouble;
        n->strip_stop = b->valuedouble > 1e6 ? 1000000 : (int)b->valuedouble;
        return n->str ? LV_OK : lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    }
    return lv_unsupported(t, "decoder", type);
}

/* Id of a post-processor special token: its "ids" list in TemplateProcessing. */
static lv_status lv_template_add(const lv_tokenizer *t, lv_tok_node *n, int32_t id)
{
    int32_t *p = realloc(n->tmpl, (size_t)(n->n_tmpl + 1) * sizeof *p);
    if (!p) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    n->tmpl = p;
    if (id >= t->size || id < -1)
        return lv_fail(LV_ERR_FORMAT, "%s: post_processor: special token id %d out of range [0, %d)",
                       t->path, (int)id, t->size);
    n->tmpl[n->n_tmpl++] = id;
    return LV_OK;
}

static lv_status lv_parse_post(const lv_tokenizer *t, const cJSON *j, lv_tok_node *n)
{
    const char *type = lv_type_of(t, j, "post_processor");
    if (!type) return LV_ERR_FORMAT;
    if (!strcmp(type, "Sequence")) {
        n->type = LV_POST_SEQUENCE;
        return lv_parse_children(t, cJSON_GetObjectItemCaseSensitive(j, "processors"),
                                 "post_processor", lv_parse_post, n);
    }
    if (!strcmp(type, "ByteLevel")) { n->type = LV_POST_NOOP; return LV_OK; }  /* offsets only */
    if (!strcmp(type, "TemplateProcessing")) {
        n->type = LV_POST_TEMPLATE;
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(j, "single");
        const cJSON *specials = cJSON_GetObjectItemCaseSensitive(j, "special_tokens");
        if (!cJSON_IsArray(single))
            return lv_fail(LV_ERR_FORMAT, "%s: TemplateProcessing without a \"single\" template", t->path);
        const cJSON *piece;
        cJSON_ArrayForEach(piece, single) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(piece, "SpecialToken");
            if (cJSON_GetObjectItemCaseSensitive(piece, "Sequence")) {
                LV_TRY(lv_template_add(t, n, -1));
                continue;
            }
            const char *name = st ? lv_json_str(st, "id") : NULL;
            const cJSON *sp = name ? cJSON_GetObjectItemCaseSensitive(specials, name) : NULL;
            const cJSON *ids = sp ? cJSON_GetObjectItemCaseSensitive(sp, "ids") : NULL;
            if (!cJSON_IsArray(ids))
                return lv_fail(LV_ERR_FORMAT, "%s: TemplateProcessing: special token '%s' has no ids in \"special_tokens\"",
                               t->path, name ? name : "(none)");
            const cJSON *id;
            cJSON_ArrayForEach(id, ids) {
                if (!cJSON_IsNumber(id) || id->valuedouble < 0)
                    return lv_fail(LV_ERR_FORMAT, "%s: TemplateProcessing: bad id for '%s'", t->path, name);
                LV_TRY(lv_template_add(t, n, id->valuedouble >= LV_TOK_MAX_ID ? LV_TOK_MAX_ID : (int32_t)id->valuedouble));
            }
        }
        return LV_OK;
    }
    if (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing")) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(j, "cls");
        const cJSON *sep = cJSON_GetObjectItemCaseSensitive(j, "sep");
        const cJSON *ci = cJSON_GetArrayItem(cls, 1), *si = cJSON_GetArrayItem(sep, 1);
        if (!cJSON_IsNumber(ci) || !cJSON_IsNumber(si) || ci->valuedouble < 0 || si->valuedouble < 0)
            return lv_fail(LV_ERR_FORMAT, "%s: %s needs \"cls\" and \"sep\" as [token, id]", t->path, type);
        n->type = LV_POST_TEMPLATE;
        LV_TRY(lv_template_add(t, n, ci->valuedouble >= LV_TOK_MAX_ID ? LV_TOK_MAX_ID : (int32_t)ci->valuedouble));
        LV_TRY(lv_template_add(t, n, -1));
        return lv_template_add(t, n, si->valuedouble >= LV_TOK_MAX_ID ? LV_TOK_MAX_ID : (int32_t)si->valuedouble);
    }
    return lv_unsupported(t, "post_processor", type);
}

/* Parse an optional top-level component ("normalizer": null is "none"). */
static lv_status lv_parse_optional(lv_tokenizer *t, const cJSON *root, const char *key,
                                   lv_parse_fn fn, lv_tok_node **out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) return LV_OK;
    *out = calloc(1, sizeof **out);
    if (!*out) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    return fn(t, j, *out);
}

/* ---- model: vocab, merges, added tokens ---------------------------------------------------- */

static lv_status lv_check_id(const lv_tokenizer *t, const cJSON *v, const char *what,
                             const char *tok, int32_t *id)
{
    if (!cJSON_IsNumber(v))
        return lv_fail(LV_ERR_FORMAT, "%s: %s '%s': id is not a number", t->path, what, tok);
    if (v->valuedouble < 0 || v->valuedouble >= LV_TOK_MAX_ID)
        return lv_fail(LV_ERR_FORMAT, "%s: %s '%s': id %.0f out of range [0, %d)", t->path, what,
                       tok, v->valuedouble, LV_TOK_MAX_ID);
    if (v->valuedouble != (double)(int32_t)v->valuedouble)
        return lv_fail(LV_ERR_FORMAT, "%s: %s '%s': id is not an integer", t->path, what, tok);
    *id = (int32_t)v->valuedouble;
    return LV_OK;
}

static lv_status lv_set_id(lv_tokenizer *t, int32_t id, const char *s, size_t n, const char *what)
{
    if (t->id_to_token[id]) {
        if (t->id_len[id] == n && !memcmp(t->id_to_token[id], s, n)) return LV_OK;
        return lv_fail(LV_ERR_FORMAT, "%s: duplicate id %d: %s '%s' and '%s'", t->path, (int)id,
                       what, s, t->id_to_token[id]);
    }
    t->id_to_token[id] = s;
    t->id_len[id] = (uint32_t)n;
    return LV_OK;
}

static lv_status lv_load_merges(lv_tokenizer *t, const cJSON *merges)
{
    int nm = cJSON_GetArraySize(merges);
    size_t cap = 16;
    while (cap < 2 * (size_t)nm + 2) cap <<= 1;
    t->merges.keys = calloc(cap, sizeof *t->merges.keys);
    t->merges.ranks = calloc(cap, sizeof *t->merges.ranks);
    t->merges.ids = calloc(cap, sizeof *t->merges.ids);
    t->merges.cap = cap;
    if (!t->merges.keys || !t->merges.ranks || !t->merges.ids)
        return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    size_t bufcap = 256;
    char *buf = malloc(bufcap);
    if (!buf) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    uint32_t rank = 0;
    const cJSON *m;
    lv_status s = LV_OK;
    cJSON_ArrayForEach(m, merges) {
        const char *a, *b;
        size_t la, lb;
        if (cJSON_IsString(m)) {
            if (!strncmp(m->valuestring, "#version", 8)) continue;  /* convert_merges_to_hashmap */
            a = m->valuestring;
            const char *sp = strchr(a, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                s = lv_fail(LV_ERR_FORMAT, "%s: merge %u '%s' is not two tokens separated by one space",
                            t->path, rank, a);
                break;
            }
            la = (size_t)(sp - a);
            b = sp + 1;
            lb = strlen(b);
        } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 &&
                   cJSON_IsString(cJSON_GetArrayItem(m, 0)) && cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
            a = cJSON_GetArrayItem(m, 0)->valuestring;
            b = cJSON_GetArrayItem(m, 1)->valuestring;
            la = strlen(a);
            lb = strlen(b);
        } else {
            s = lv_fail(LV_ERR_FORMAT, "%s: merge %u is neither \"a b\" nor [a, b]", t->path, rank);
            break;
        }
        int32_t ia = lv_strmap_get(&t->vocab, a, la), ib = lv_strmap_get(&t->vocab, b, lb);
        if (ia < 0 || ib < 0) {
            s = lv_fail(LV_ERR_TOKENIZER, "%s: merge %u references unknown token '%.*s'", t->path,
                        rank, ia < 0 ? (int)la : (int)lb, ia < 0 ? a : b);
            break;
        }
        size_t skip = t->cont_prefix_len <= lb ? t->cont_prefix_len : lb;
        size_t ln = la + lb - skip;
        if (ln > bufcap) {
            char *nb = realloc(buf, ln * 2);
            if (!nb) { s = lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory"); break; }
            buf = nb;
            bufcap = ln * 2;
        }
        memcpy(buf, a, la);
        memcpy(buf + la, b + skip, lb - skip);
        int32_t in = lv_strmap_get(&t->vocab, buf, ln);
        if (in < 0) {
            s = lv_fail(LV_ERR_TOKENIZER, "%s: merge %u: merged token '%.*s' is not in the vocabulary",
                        t->path, rank, (int)ln, buf);
            break;
        }
        lv_mergemap_put(&t->merges, ia, ib, rank, in);
        rank++;
    }
    free(buf);
    return s;
}

static lv_status lv_load_added(lv_tokenizer *t, const cJSON *added)
{
    int na = cJSON_GetArraySize(added);
    t->added = calloc((size_t)(na ? na : 1), sizeof *t->added);
    if (!t->added) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    LV_TRY(lv_strmap_init(&t->added_map, (size_t)na));
    const cJSON *a;
    cJSON_ArrayForEach(a, added) {
        const char *content = lv_json_str(a, "content");
        if (!content)
            return lv_fail(LV_ERR_FORMAT, "%s: added_tokens[%d] has no \"content\"", t->path, t->n_added);
        int32_t id;
        LV_TRY(lv_check_id(t, cJSON_GetObjectItemCaseSensitive(a, "id"), "added token", content, &id));
        size_t len = strlen(content);
        if (!len) continue;  /* add_tokens ignores empty contents */
        int32_t vid = lv_strmap_get(&t->vocab, content, len);
        if (vid >= 0) id = vid;  /* AddedVocabulary::add_tokens: the model's id wins */
        if (lv_strmap_get(&t->added_map, content, len) >= 0)
            return lv_fail(LV_ERR_FORMAT, "%s: added token '%s' listed twice", t->path, content);
        lv_added_token *at = &t->added[t->n_added];
        at->content = lv_tok_store(t, content, len);
        at->len = len;
        at->id = id;
        at->single_word = lv_json_bool(a, "single_word", 0);
        at->lstrip = lv_json_bool(a, "lstrip", 0);
        at->rstrip = lv_json_bool(a, "rstrip", 0);
        at->special = lv_json_bool(a, "special", 0);
        at->normalized = lv_json_bool(a, "normalized", !at->special);
        lv_strmap_put(&t->added_map, at->content, len, t->n_added);
        t->n_added++;
    }
    return LV_OK;
}

/* Index added tokens by first byte, longest first, separately for the raw-text matcher and
 * the normalized-text matcher (refresh_added_tokens). Runs after the normalizer is parsed. */
static lv_status lv_index_added(lv_tokenizer *t)
{
    for (int i = 0; i < t->n_added; i++) {
        lv_added_token *a = &t->added[i];
        if (a->normalized && t->normalizer)
            LV_TRY(lv_tok_normalize(t, a->content, a->len, &a->norm, &a->norm_len));
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < t->n_added; i++) {
            const lv_added_token *a = &t->added[i];
            size_t len = a->norm ? a->norm_len : a->len;
            if (a->normalized != pass || !len) continue;
            int b = (unsigned char)(a->norm ? a->norm : a->content)[0];
            int *l = realloc(t->added_by_byte[pass][b], (size_t)(t->n_by_byte[pass][b] + 1) * sizeof(int));
            if (!l) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
            t->added_by_byte[pass][b] = l;
            int k = t->n_by_byte[pass][b]++;
            while (k > 0) {
                const lv_added_token *o = &t->added[l[k - 1]];
                if ((o->norm ? o->norm_len : o->len) >= len) break;
                l[k] = l[k - 1];
                k--;
            }
            l[k] = i;
        }
    }
    return LV_OK;
}

static lv_status lv_load_model(lv_tokenizer *t, const cJSON *root)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) return lv_fail(LV_ERR_FORMAT, "%s: no \"model\" object", t->path);
    const char *type = lv_json_str(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!type && cJSON_IsObject(vocab) && cJSON_IsArray(merges)) type = "BPE";  /* untagged serde */
    if (!type) return lv_fail(LV_ERR_FORMAT, "%s: model has no \"type\"", t->path);
    if (strcmp(type, "BPE"))
        return lv_fail(LV_ERR_UNSUPPORTED, "%s: unsupported tokenizer model type '%s' (only BPE is implemented)",
                       t->path, type);
    if (!cJSON_IsObject(vocab)) return lv_fail(LV_ERR_FORMAT, "%s: BPE model without a \"vocab\" object", t->path);
    if (!cJSON_IsArray(merges)) return lv_fail(LV_ERR_FORMAT, "%s: BPE model without a \"merges\" list", t->path);
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble != 0.0)
        return lv_fail(LV_ERR_UNSUPPORTED, "%s: BPE dropout %g is not supported (inference uses none)",
                       t->path, dropout->valuedouble);

    /* Size the string storage: vocab keys + added contents + option strings. */
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return lv_fail(LV_ERR_FORMAT, "%s: \"added_tokens\" is not a list", t->path);
    size_t need = 1, nv = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, vocab) { need += strlen(v->string) + 1; nv++; }
    cJSON_ArrayForEach(v, added) {
        const char *c = lv_json_str(v, "content");
        need += (c ? strlen(c) : 0) + 1;
    }
    t->storage = malloc(need);
    t->storage_cap = need;
    if (!t->storage) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");

    /* First pass over ids: the table size is the largest id + 1 (len(tokenizer)). */
    int32_t maxid = -1, id;
    cJSON_ArrayForEach(v, vocab) {
        LV_TRY(lv_check_id(t, v, "vocab token", v->string, &id));
        if (id > maxid) maxid = id;
    }
    cJSON_ArrayForEach(v, added) {
        const char *c = lv_json_str(v, "content");
        LV_TRY(lv_check_id(t, cJSON_GetObjectItemCaseSensitive(v, "id"), "added token", c ? c : "?", &id));
        if (id > maxid) maxid = id;
    }
    if (maxid < 0) return lv_fail(LV_ERR_FORMAT, "%s: empty vocabulary", t->path);
    t->size = maxid + 1;
    t->id_to_token = calloc((size_t)t->size, sizeof *t->id_to_token);
    t->id_len = calloc((size_t)t->size, sizeof *t->id_len);
    t->id_special = calloc((size_t)t->size, 1);
    t->id_added = calloc((size_t)t->size, 1);
    if (!t->id_to_token || !t->id_len || !t->id_special || !t->id_added)
        return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");

    LV_TRY(lv_strmap_init(&t->vocab, nv));
    cJSON_ArrayForEach(v, vocab) {
        size_t len = strlen(v->string);
        id = (int32_t)v->valuedouble;
        const char *s = lv_tok_store(t, v->string, len);
        if (lv_strmap_put(&t->vocab, s, len, id))
            return lv_fail(LV_ERR_FORMAT, "%s: vocab token '%s' listed twice", t->path, s);
        LV_TRY(lv_set_id(t, id, s, len, "vocab token"));
    }

    const char *unk = lv_json_str(model, "unk_token");
    t->unk_id = -1;
    if (unk) {
        t->unk_id = lv_strmap_get(&t->vocab, unk, strlen(unk));
        if (t->unk_id < 0)
            return lv_fail(LV_ERR_TOKENIZER, "%s: unk_token '%s' is not in the vocabulary", t->path, unk);
    }
    t->fuse_unk = lv_json_bool(model, "fuse_unk", 0);
    t->byte_fallback = lv_json_bool(model, "byte_fallback", 0);
    t->ignore_merges = lv_json_bool(model, "ignore_merges", 0);
    const char *cp = lv_json_str(model, "continuing_subword_prefix");
    const char *es = lv_json_str(model, "end_of_word_suffix");
    if (cp) {
        t->cont_prefix_len = strlen(cp);
        if (!(t->cont_prefix = lv_strdup_n(cp, t->cont_prefix_len))) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (es) {
        t->end_suffix_len = strlen(es);
        if (!(t->end_suffix = lv_strdup_n(es, t->end_suffix_len))) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_ids[b] = lv_strmap_get(&t->vocab, name, 6);
    }
    LV_TRY(lv_load_merges(t, merges));
    LV_TRY(lv_load_added(t, added));
    for (int i = 0; i < t->n_added; i++) {
        const lv_added_token *a = &t->added[i];
        LV_TRY(lv_set_id(t, a->id, a->content, a->len, "added token"));
        t->id_added[a->id] = 1;
        t->id_special[a->id] |= (unsigned char)a->special;
    }
    return LV_OK;
}

/* ---- public ----------------------------------------------------------------------------------- */

void lv_tokenizer_free(lv_tokenizer *t)
{
    if (!t) return;
    lv_tok_node **nodes[4] = {&t->normalizer, &t->pre_tokenizer, &t->decoder, &t->post_processor};
    for (int i = 0; i < 4; i++) {
        lv_node_free(*nodes[i]);
        free(*nodes[i]);
    }
    for (int b = 0; b < 256; b++) {
        free(t->added_by_byte[0][b]);
        free(t->added_by_byte[1][b]);
    }
    for (int i = 0; i < t->n_added; i++) free(t->added[i].norm);
    lv_strmap_free(&t->vocab);
    lv_strmap_free(&t->added_map);
    free(t->merges.keys);
    free(t->merges.ranks);
    free(t->merges.ids);
    free(t->added);
    free(t->id_to_token);
    free(t->id_len);
    free(t->id_special);
    free(t->id_added);
    free(t->cont_prefix);
    free(t->end_suffix);
    free(t->storage);
    free(t->path);
    free(t);
}

lv_status lv_tokenizer_load_json(lv_tokenizer **out, const char *json, size_t len, const char *name)
{
    *out = NULL;
    lv_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory");
    t->path = lv_strdup_n(name, strlen(name));
    if (!t->path) { free(t); return lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory"); }
    const char *end = NULL;
    /* JSON text is UTF-8 (RFC 8259); cJSON passes raw bytes through, and invalid UTF-8 in a
     * normalizer's content would reach the UTF-mode regexes, which trust their input */
    size_t bad = lv_utf8_invalid_at(json, len);
    cJSON *root = bad == (size_t)-1 ? cJSON_ParseWithLengthOpts(json, len, &end, 0) : NULL;
    lv_status s = LV_OK;
    if (bad != (size_t)-1) {
        s = lv_fail(LV_ERR_FORMAT, "%s: not valid UTF-8 at byte %zu (JSON text must be UTF-8)", name, bad);
    } else if (!root) {
        size_t off = end ? (size_t)(end - json) : 0;
        s = lv_fail(LV_ERR_FORMAT, "%s: malformed JSON near byte %zu", name, off);
    } else if (!cJSON_IsObject(root)) {
        s = lv_fail(LV_ERR_FORMAT, "%s: top level is not a JSON object", name);
    }
    if (s == LV_OK) s = lv_load_model(t, root);
    if (s == LV_OK) s = lv_parse_optional(t, root, "normalizer", lv_parse_normalizer, &t->normalizer);
    if (s == LV_OK) s = lv_parse_optional(t, root, "pre_tokenizer", lv_parse_pre, &t->pre_tokenizer);
    if (s == LV_OK) s = lv_parse_optional(t, root, "decoder", lv_parse_decoder, &t->decoder);
    if (s == LV_OK) s = lv_parse_optional(t, root, "post_processor", lv_parse_post, &t->post_processor);
    if (s == LV_OK) s = lv_index_added(t);
    cJSON_Delete(root);
    if (s != LV_OK) {
        lv_tokenizer_free(t);
        return s;
    }
    *out = t;
    return LV_OK;
}

lv_status lv_tokenizer_load(lv_tokenizer **out, const char *path)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return lv_fail(LV_ERR_IO, "%s: cannot open tokenizer file", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            size_t nc = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, nc);
            if (!nb) { free(buf); fclose(f); return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return lv_fail(LV_ERR_IO, "%s: read error", path); }
    lv_status s = lv_tokenizer_load_json(out, buf, n, path);
    free(buf);
    return s;
}

int lv_tokenizer_size(const lv_tokenizer *t) { return t->size; }

int32_t lv_tokenizer_added_id(const lv_tokenizer *t, const char *content)
{
    int32_t k = lv_strmap_get(&t->added_map, content, strlen(content));
    return k < 0 ? -1 : t->added[k].id;
}

int32_t lv_tokenizer_token_id(const lv_tokenizer *t, const char *token)
{
    int32_t id = lv_tokenizer_added_id(t, token);
    return id >= 0 ? id : lv_strmap_get(&t->vocab, token, strlen(token));
}

const char *lv_tokenizer_token(const lv_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->size ? t->id_to_token[id] : NULL;
}

int lv_tokenizer_is_special(const lv_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->size && t->id_special[id];
}
