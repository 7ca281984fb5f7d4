/* tokenizer_decode.c - ids -> text, as TokenizerImpl::decode of `tokenizers` 0.22.
 *
 *   ids --id_to_token (skip specials on request)--> token strings --decoder chain--> join("")
 *
 * The decoders work on a list of strings (Decoder::decode_chain). ByteLevel turns the GPT-2
 * code points back into bytes and repairs them with String::from_utf8_lossy semantics: every
 * maximal invalid subsequence becomes one U+FFFD ("substitution of maximal subparts").
 */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

typedef struct { char *s; size_t n; } lv_str;
typedef struct { lv_str *v; size_t n, cap; } lv_strs;

#define LV_NOMEM() lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory")

static lv_status lv_strs_push(lv_strs *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        lv_str *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return LV_NOMEM();
        l->v = nv;
        l->cap = nc;
    }
    char *c = malloc(n + 1);
    if (!c) return LV_NOMEM();
    if (n) memcpy(c, s, n);
    c[n] = 0;
    l->v[l->n++] = (lv_str){c, n};
    return LV_OK;
}

static void lv_strs_free(lv_strs *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i].s);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Replace the whole list by the one string s[0..n) (owned, NUL-terminated). */
static lv_status lv_strs_set_one(lv_strs *l, char *s, size_t n)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i].s);
    if (!l->v) {
        l->v = malloc(sizeof *l->v);
        if (!l->v) { free(s); l->n = 0; return LV_NOMEM(); }
        l->cap = 1;
    }
    l->v[0] = (lv_str){s, n};
    l->n = 1;
    return LV_OK;
}

/* Concatenate all strings into one (Fuse). */
static lv_status lv_strs_fuse(lv_strs *l)
{
    size_t tot = 0;
    for (size_t i = 0; i < l->n; i++) tot += l->v[i].n;
    char *o = malloc(tot + 1);
    if (!o) return LV_NOMEM();
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) { memcpy(o + k, l->v[i].s, l->v[i].n); k += l->v[i].n; }
    o[k] = 0;
    return lv_strs_set_one(l, o, k);
}

/* String::from_utf8_lossy: out must hold 3 * n bytes (one U+FFFD per invalid byte at worst). */
static size_t lv_utf8_lossy(char *out, const unsigned char *s, size_t n)
{
    size_t i = 0, k = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { out[k++] = (char)c; i++; continue; }
        int len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else len = 0;
        size_t good = 1;  /* bytes of a valid prefix consumed so far */
        if (len) {
            if (i + 1 < n && s[i + 1] >= lo && s[i + 1] <= hi) {
                good = 2;
                while ((int)good < len && i + good < n && (s[i + good] & 0xC0) == 0x80) good++;
            }
        }
        if (len && (int)good == len) {
            memcpy(out + k, s + i, good);
            k += good;
        } else {
            memcpy(out + k, "\xEF\xBF\xBD", 3);
            k += 3;
        }
        i += good;
    }
    return k;
}

static lv_status lv_dec_node(const lv_tok_node *node, lv_strs *l)
{
    switch (node->type) {
    case LV_DEC_SEQUENCE:
        for (int i = 0; i < node->n_children; i++) LV_TRY(lv_dec_node(&node->children[i], l));
        return LV_OK;
    case LV_DEC_FUSE:
        return lv_strs_fuse(l);
    case LV_DEC_BYTELEVEL: {
        /* a token whose every char maps to a byte gives those bytes; otherwise its own UTF-8 */
        size_t tot = 0;
        for (size_t i = 0; i < l->n; i++) tot += l->v[i].n;
        unsigned char *bytes = malloc(tot + 1);
        char *out = malloc(3 * tot + 1);
        if (!bytes || !out) { free(bytes); free(out); return LV_NOMEM(); }
        size_t nb = 0;
        for (size_t i = 0; i < l->n; i++) {
            const lv_str *t = &l->v[i];
            size_t start = nb, j = 0;
            int ok = 1;
            while (j < t->n) {
                uint32_t cp;
                j += (size_t)lv_utf8_next((const unsigned char *)t->s + j, t->n - j, &cp);
                int b = lv_cp_to_byte(cp);
                if (b < 0) { ok = 0; break; }
                bytes[nb++] = (unsigned char)b;
            }
            if (!ok) {
                nb = start;
                memcpy(bytes + nb, t->s, t->n);
                nb += t->n;
            }
        }
        size_t k = lv_utf8_lossy(out, bytes, nb);
        free(bytes);
        out[k] = 0;
        return lv_strs_set_one(l, out, k);
    }
    case LV_DEC_BYTEFALLBACK: {
        lv_strs o = {0};
        unsigned char *pend = malloc(l->n + 1);
        size_t np = 0;
        lv_status st = pend ? LV_OK : LV_NOMEM();
        for (size_t i = 0; i <= l->n && st == LV_OK; i++) {
            const lv_str *t = i < l->n ? &l->v[i] : NULL;
            int byte = -1;
            if (t && t->n == 6 && !memcmp(t->s, "<0x", 3) && t->s[5] == '>') {
                char hex[3] = {t->s[3], t->s[4], 0}, *end;
                long v = strtol(hex, &end, 16);
                if (*end == 0 && hex[0] != '+' && hex[0] != '-' && hex[0] != ' ') byte = (int)v;
            }
            if (byte >= 0) { pend[np++] = (unsigned char)byte; continue; }
            if (np) {
                if (lv_utf8_invalid_at((const char *)pend, np) == (size_t)-1) st = lv_strs_push(&o, (const char *)pend, np);
                else for (size_t k = 0; k < np && st == LV_OK; k++) st = lv_strs_push(&o, "\xEF\xBF\xBD", 3);
                np = 0;
            }
            if (t && st == LV_OK) st = lv_strs_push(&o, t->s, t->n);
        }
        free(pend);
        if (st != LV_OK) { lv_strs_free(&o); return st; }
        lv_strs_free(l);
        *l = o;
        return LV_OK;
    }
    case LV_DEC_REPLACE:
        for (size_t i = 0; i < l->n; i++) {
            lv_str *t = &l->v[i];
            if (!node->str_len) continue;
            size_t cnt = 0;
            for (size_t j = 0; j + node->str_len <= t->n;)
                if (!memcmp(t->s + j, node->str, node->str_len)) { cnt++; j += node->str_len; } else j++;
            if (!cnt) continue;
            char *o = malloc(t->n + cnt * node->str2_len + 1);
            if (!o) return LV_NOMEM();
            size_t k = 0;
            for (size_t j = 0; j < t->n;) {
                if (j + node->str_len <= t->n && !memcmp(t->s + j, node->str, node->str_len)) {
                    memcpy(o + k, node->str2, node->str2_len);
                    k += node->str2_len;
                    j += node->str_len;
                } else {
                    o[k++] = t->s[j++];
                }
            }
            o[k] = 0;
            free(t->s);
            *t = (lv_str){o, k};
        }
        return LV_OK;
    case LV_DEC_STRIP:
        for (size_t i = 0; i < l->n; i++) {
            lv_str *t = &l->v[i];
            size_t a = 0, b = t->n, c = node->str_len;
            for (int k = 0; k < node->strip_start && a + c <= b && !memcmp(t->s + a, node->str, c); k++) a += c;
            for (int k = 0; k < node->strip_stop && b >= a + c && !memcmp(t->s + b - c, node->str, c); k++) b -= c;
            memmove(t->s, t->s + a, b - a);
            t->n = b - a;
            t->s[t->n] = 0;
        }
        return LV_OK;
    case LV_DEC_METASPACE:
        for (size_t i = 0; i < l->n; i++) {
            lv_str *t = &l->v[i];
            int drop = i == 0 && node->prepend_scheme != 2;
            size_t k = 0, c = node->str_len;
            for (size_t j = 0; j < t->n;) {
                if (j + c <= t->n && !memcmp(t->s + j, node->str, c)) {
                    if (!drop) t->s[k++] = ' ';
                    j += c;
                } else {
                    t->s[k++] = t->s[j++];
                }
            }
            t->n = k;
            t->s[k] = 0;
        }
        return LV_OK;
    default:
        return lv_fail(LV_ERR_INTERNAL, "tokenizer: bad decoder node %d", node->type);
    }
}

lv_status lv_tokenizer_decode(const lv_tokenizer *t, const int32_t *ids, int n_ids, int skip_special,
                              char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    lv_strs l = {0};
    lv_status st = LV_OK;
    for (int i = 0; i < n_ids && st == LV_OK; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->size) {
            st = lv_fail(LV_ERR_INPUT, "%s: id %d at position %d is out of range [0, %d)", t->path,
                         (int)id, i, t->size);
            break;
        }
        if (!t->id_to_token[id] || (skip_special && t->id_special[id])) continue;
        st = lv_strs_push(&l, t->id_to_token[id], t->id_len[id]);
    }
    if (st == LV_OK && t->decoder) st = lv_dec_node(t->decoder, &l);
    if (st == LV_OK && !t->decoder) {  /* no decoder: tokens.join(" ") */
        size_t tot = 0;
        for (size_t i = 0; i < l.n; i++) tot += l.v[i].n + 1;
        char *o = malloc(tot + 1);
        if (!o) st = LV_NOMEM();
        else {
            size_t k = 0;
            for (size_t i = 0; i < l.n; i++) {
                if (i) o[k++] = ' ';
                memcpy(o + k, l.v[i].s, l.v[i].n);
                k += l.v[i].n;
            }
            o[k] = 0;
            *text = o;
            *len = k;
        }
    } else if (st == LV_OK) {
        st = lv_strs_fuse(&l);
        if (st == LV_OK) {
            *text = l.v[0].s;
            *len = l.v[0].n;
            l.v[0].s = NULL;
        }
    }
    lv_strs_free(&l);
    return st;
}
