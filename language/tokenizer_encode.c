/* tokenizer_encode.c - text -> ids, as TokenizerImpl::encode of `tokenizers` 0.22.
 *
 *   text --added tokens (raw)--> pieces --normalizer--> --added tokens (normalized)-->
 *        --pre_tokenizer (ByteLevel/Split/Digits/Metaspace)--> words --BPE--> ids
 *        --post_processor (only with add_special)--> ids
 *
 * A piece list holds text spans (owned by the list's buffer) and already-resolved added
 * tokens; every stage maps one list to the next, skipping token pieces (PreTokenizedString
 * ::split never re-splits a split that has tokens) and dropping empty spans.
 * BPE is Word::merge_all: a min-heap on (merge rank, position) over a linked list of symbols,
 * stale heap entries skipped, so a word of n symbols costs O(n log n).
 */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

typedef struct {
    size_t  off, len;    /* span in the list's buffer */
    int32_t token;       /* >= 0: an added token already resolved, the span is unused */
    int     at_origin;   /* starts at byte 0 of the original text (Metaspace "first") */
} lv_piece;

typedef struct {
    char     *buf;       /* [cap] */
    size_t    len, cap;
    lv_piece *p;         /* [n] */
    size_t    n, cap_p;
} lv_pieces;

typedef struct { int32_t *v; size_t n, cap; } lv_ids;

typedef struct { uint32_t rank; int32_t pos, id; } lv_merge_item;

typedef struct { int32_t id, prev, next; uint32_t len; } lv_symbol;

/* Per-call scratch: regex match state, BPE scratch, and a word -> ids cache (like the BPE
 * model's cache, but per call so a shared tokenizer stays immutable). */
typedef struct {
    const lv_tokenizer  *t;
    pcre2_match_data    *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack     *jit;
    lv_symbol           *sym;
    size_t               sym_cap;
    lv_merge_item       *heap;
    size_t               heap_cap;
    char                *cache_keys;   /* arena of cached words */
    size_t               ck_len, ck_cap;
    size_t              *cache_off;    /* [cache_cap] word offset + 1 in cache_keys, 0 empty */
    uint32_t            *cache_wlen;   /* [cache_cap] */
    size_t              *cache_ids;    /* [cache_cap] offset into cache_idv */
    uint32_t            *cache_nids;   /* [cache_cap] */
    size_t               cache_cap, cache_n;
    lv_ids               cache_idv;
} lv_enc;

#define LV_NOMEM() lv_fail(LV_ERR_NOMEM, "tokenizer: out of memory")

/* ---- small containers ---------------------------------------------------------------------- */

static lv_status lv_ids_push(lv_ids *ids, int32_t id)
{
    if (ids->n == ids->cap) {
        size_t nc = ids->cap ? ids->cap * 2 : 64;
        int32_t *nv = realloc(ids->v, nc * sizeof *nv);
        if (!nv) return LV_NOMEM();
        ids->v = nv;
        ids->cap = nc;
    }
    ids->v[ids->n++] = id;
    return LV_OK;
}

static lv_status lv_pieces_reserve(lv_pieces *l, size_t extra)
{
    if (l->len + extra > l->cap) {
        size_t nc = l->cap ? l->cap : 256;
        while (nc < l->len + extra) nc *= 2;
        char *nb = realloc(l->buf, nc);
        if (!nb) return LV_NOMEM();
        l->buf = nb;
        l->cap = nc;
    }
    return LV_OK;
}

/* Append a span (copying text) or a token piece; empty spans are dropped. */
static lv_status lv_pieces_add(lv_pieces *l, const char *s, size_t n, int32_t token, int origin)
{
    if (token < 0 && n == 0) return LV_OK;
    if (l->n == l->cap_p) {
        size_t nc = l->cap_p ? l->cap_p * 2 : 64;
        lv_piece *np = realloc(l->p, nc * sizeof *np);
        if (!np) return LV_NOMEM();
        l->p = np;
        l->cap_p = nc;
    }
    lv_piece *p = &l->p[l->n++];
    p->token = token;
    p->at_origin = origin;
    p->off = l->len;
    p->len = token < 0 ? n : 0;
    if (token < 0) {
        LV_TRY(lv_pieces_reserve(l, n));
        memcpy(l->buf + l->len, s, n);
        l->len += n;
    }
    return LV_OK;
}

static void lv_pieces_clear(lv_pieces *l) { l->len = 0; l->n = 0; }

static void lv_pieces_free(lv_pieces *l)
{
    free(l->buf);
    free(l->p);
}

/* ---- Unicode classes used outside regexes ---------------------------------------------------- */

/* Rust's char::is_whitespace / regex \s: the White_Space property. */
static int lv_is_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* regex \w: Alphabetic, M, Nd, Pc, Join_Control (approximated with L*, Nl, M*, Nd, Pc). */
static int lv_is_word(uint32_t c)
{
    if (c == 0x200C || c == 0x200D) return 1;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return 0;
    }
}

/* char::is_numeric: general categories Nd, Nl, No. */
static int lv_is_numeric(uint32_t c)
{
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/* Code point that ends just before s[end] (s valid UTF-8, end > 0). */
static uint32_t lv_cp_before(const char *s, size_t end)
{
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    uint32_t cp;
    lv_utf8_next((const unsigned char *)s + i, end - i, &cp);
    return cp;
}

/* ---- regex matching ------------------------------------------------------------------------------ */

/* Next match of re in s[0..n) at or after `from`: 1 and [*ms, *me) when found. */
static int lv_re_find(lv_enc *e, const lv_tok_node *node, const char *s, size_t n, size_t from,
                      size_t *ms, size_t *me, lv_status *st)
{
    int rc;
    if (node->jit)
        rc = pcre2_jit_match(node->re, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK, e->md, e->mctx);
    else
        rc = pcre2_match(node->re, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK, e->md, e->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(rc, msg, sizeof msg);
        *st = lv_fail(LV_ERR_LIMIT, "%s: regex match failed on a %zu-byte piece: %s", e->t->path, n, (char *)msg);
        return 0;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* Pattern::find_matches: the spans of s, each flagged as match or not, covering s. The flags
 * are returned in a growable array of (start, end, is_match) triples. */
typedef struct { size_t a, b; int m; } lv_span;
typedef struct { lv_span *v; size_t n, cap; } lv_spans;

static lv_status lv_spans_push(lv_spans *l, size_t a, size_t b, int m)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        lv_span *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return LV_NOMEM();
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = (lv_span){a, b, m};
    return LV_OK;
}

static lv_status lv_find_matches_re(lv_enc *e, const lv_tok_node *node, const char *s, size_t n,
                                    lv_spans *out)
{
    lv_status st = LV_OK;
    size_t prev = 0, from = 0, ms, me;
    out->n = 0;
    while (from <= n && lv_re_find(e, node, s, n, from, &ms, &me, &st)) {
        if (prev != ms) LV_TRY(lv_spans_push(out, prev, ms, 0));
        LV_TRY(lv_spans_push(out, ms, me, 1));
        prev = me;
        if (me == ms) {  /* empty match: step over one character */
            if (me >= n) break;
            uint32_t cp;
            from = me + (size_t)lv_utf8_next((const unsigned char *)s + me, n - me, &cp);
        } else {
            from = me;
        }
    }
    if (st != LV_OK) return st;
    if (prev != n) LV_TRY(lv_spans_push(out, prev, n, 0));
    return LV_OK;
}

/* The char-predicate Pattern (Digits): every matching char is its own match span. */
static lv_status lv_find_matches_numeric(const char *s, size_t n, lv_spans *out)
{
    size_t last = 0, i = 0;
    out->n = 0;
    while (i < n) {
        uint32_t cp;
        int k = lv_utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (lv_is_numeric(cp)) {
            if (last < i) LV_TRY(lv_spans_push(out, last, i, 0));
            LV_TRY(lv_spans_push(out, i, i + (size_t)k, 1));
            last = i + (size_t)k;
        }
        i += (size_t)k;
    }
    if (last < n) LV_TRY(lv_spans_push(out, last, n, 0));
    return LV_OK;
}

/* NormalizedString::split: apply the delimiter behaviour to the spans (in place), then add
 * the kept spans of s to `out`. */
static lv_status lv_split_apply(lv_spans *sp, int behavior, int invert, const char *s,
                                int origin, lv_pieces *out)
{
    if (invert)
        for (size_t i = 0; i < sp->n; i++) sp->v[i].m = !sp->v[i].m;
    size_t k = 0;
    int prev = 0;
    switch (behavior) {
    case LV_SPLIT_ISOLATED:
        for (size_t i = 0; i < sp->n; i++) sp->v[i].m = 0;
        k = sp->n;
        break;
    case LV_SPLIT_REMOVED:
        k = sp->n;
        break;
    case LV_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < sp->n; i++) {
            int m = sp->v[i].m;
            if (m == prev && k > 0) sp->v[k - 1].b = sp->v[i].b;
            else sp->v[k++] = (lv_span){sp->v[i].a, sp->v[i].b, 0};
            prev = m;
        }
        break;
    case LV_SPLIT_MERGED_WITH_PREVIOUS:
        for (size_t i = 0; i < sp->n; i++) {
            int m = sp->v[i].m;
            if (m && !prev && k > 0) sp->v[k - 1].b = sp->v[i].b;
            else sp->v[k++] = (lv_span){sp->v[i].a, sp->v[i].b, 0};
            prev = m;
        }
        break;
    case LV_SPLIT_MERGED_WITH_NEXT:
        /* fold from the right, then the spans are in reverse: write them back reversed */
        for (size_t i = sp->n; i-- > 0;) {
            int m = sp->v[i].m;
            lv_span cur = sp->v[i];
            if (m && !prev && k > 0) {
                sp->v[sp->n - k].a = cur.a;  /* slot holding the last pushed span */
            } else {
                k++;
                sp->v[sp->n - k] = (lv_span){cur.a, cur.b, 0};
            }
            prev = m;
        }
        memmove(sp->v, sp->v + (sp->n - k), k * sizeof *sp->v);
        break;
    default:
        break;
    }
    for (size_t i = 0; i < k; i++) {
        if (sp->v[i].m) continue;  /* removed */
        LV_TRY(lv_pieces_add(out, s + sp->v[i].a, sp->v[i].b - sp->v[i].a, -1,
                             origin && sp->v[i].a == 0));
    }
    return LV_OK;
}

/* ---- added tokens ---------------------------------------------------------------------------------- */

/* AddedVocabulary::find_matches on one span, with the raw (pass 0) or normalized (pass 1)
 * token set: leftmost-longest, non-overlapping, single_word / lstrip / rstrip honoured. */
static lv_status lv_split_added(const lv_tokenizer *t, int pass, const char *s, size_t n,
                                int origin, lv_pieces *out)
{
    size_t start_offset = 0, i = 0;
    while (i < n) {
        int b = (unsigned char)s[i], found = -1;
        for (int k = 0; k < t->n_by_byte[pass][b]; k++) {
            const lv_added_token *a = &t->added[t->added_by_byte[pass][b][k]];
            const char *c = a->norm ? a->norm : a->content;
            size_t cl = a->norm ? a->norm_len : a->len;
            if (cl <= n - i && !memcmp(s + i, c, cl)) { found = t->added_by_byte[pass][b][k]; break; }
        }
        if (found < 0) { i++; continue; }
        const lv_added_token *a = &t->added[found];
        size_t start = i, stop = i + (a->norm ? a->norm_len : a->len);
        i = stop;
        if (a->single_word) {
            int start_space = start == 0 || !lv_is_word(lv_cp_before(s, start));
            uint32_t cp = 0;
            if (stop < n) lv_utf8_next((const unsigned char *)s + stop, n - stop, &cp);
            int stop_space = stop == n || !lv_is_word(cp);
            if (!start_space || !stop_space) continue;
        }
        if (a->lstrip) {
            size_t ns = start;
            while (ns > 0) {
                uint32_t cp = lv_cp_before(s, ns);
                if (!lv_is_space(cp)) break;
                ns -= cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (a->rstrip) {
            while (stop < n) {
                uint32_t cp;
                int k = lv_utf8_next((const unsigned char *)s + stop, n - stop, &cp);
                if (!lv_is_space(cp)) break;
                stop += (size_t)k;
            }
        }
        if (start < start_offset) start = start_offset;
        if (start_offset < start)
            LV_TRY(lv_pieces_add(out, s + start_offset, start - start_offset, -1, origin && start_offset == 0));
        LV_TRY(lv_pieces_add(out, NULL, 0, a->id, 0));
        start_offset = stop;
        if (i < stop) i = stop;
    }
    if (start_offset < n)
        LV_TRY(lv_pieces_add(out, s + start_offset, n - start_offset, -1, origin && start_offset == 0));
    return LV_OK;
}

/* ---- normalizers ------------------------------------------------------------------------------------ */

static lv_status lv_set_str(char **s, size_t *n, char *ns, size_t nn)
{
    free(*s);
    *s = ns;
    *n = nn;
    return LV_OK;
}

static lv_status lv_norm_node(lv_enc *e, const lv_tok_node *node, char **s, size_t *n)
{
    switch (node->type) {
    case LV_NORM_NFC: case LV_NORM_NFD: case LV_NORM_NFKC: case LV_NORM_NFKD: {
        if (!*n) return LV_OK;
        int opt = UTF8PROC_STABLE;
        opt |= (node->type == LV_NORM_NFC || node->type == LV_NORM_NFKC) ? UTF8PROC_COMPOSE : UTF8PROC_DECOMPOSE;
        if (node->type == LV_NORM_NFKC || node->type == LV_NORM_NFKD) opt |= UTF8PROC_COMPAT;
        /* An ASCII char followed by ASCII (or the end) is left as is by every normal form: ASCII
         * chars are starters without decompositions and never the second half of a
         * composition. Only the runs between such chars go through utf8proc. */
        const unsigned char *u = (const unsigned char *)*s;
        size_t i = 0, k = 0, cap = *n + 16;
        char *o = malloc(cap);
        if (!o) return LV_NOMEM();
        while (i < *n) {
            size_t j = i;
            while (j < *n && u[j] < 0x80 && (j + 1 == *n || u[j + 1] < 0x80)) j++;
            if (j > i) {
                memcpy(o + k, u + i, j - i);
                k += j - i;
                i = j;
                continue;
            }
            for (j = i + 1; j < *n && !(u[j] < 0x80 && (j + 1 == *n || u[j + 1] < 0x80)); j++) {}
            utf8proc_uint8_t *dst = NULL;
            utf8proc_ssize_t r = utf8proc_map(u + i, (utf8proc_ssize_t)(j - i), &dst, (utf8proc_option_t)opt);
            if (r < 0) {
                free(dst);
                free(o);
                return lv_fail(LV_ERR_INPUT, "%s: normalization failed: %s", e->t->path, utf8proc_errmsg(r));
            }
            if (k + (size_t)r + (*n - j) + 1 > cap) {
                cap = (k + (size_t)r + (*n - j) + 1) * 2;
                char *no = realloc(o, cap);
                if (!no) { free(dst); free(o); return LV_NOMEM(); }
                o = no;
            }
            memcpy(o + k, dst, (size_t)r);
            k += (size_t)r;
            free(dst);
            i = j;
        }
        return lv_set_str(s, n, o, k);
    }
    case LV_NORM_LOWERCASE: {
        char *o = malloc(*n * 2 + 1);
        if (!o) return LV_NOMEM();
        size_t k = 0, i = 0;
        while (i < *n) {
            uint32_t cp;
            i += (size_t)lv_utf8_next((const unsigned char *)*s + i, *n - i, &cp);
            if (cp == 0x130) {  /* str::to_lowercase: U+0130 -> "i\u0307" */
                k += (size_t)lv_utf8_put(o + k, 'i');
                k += (size_t)lv_utf8_put(o + k, 0x307);
                continue;
            }
            k += (size_t)lv_utf8_put(o + k, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
        }
        return lv_set_str(s, n, o, k);
    }
    case LV_NORM_PREPEND: {
        if (!*n) return LV_OK;
        char *o = malloc(*n + node->str_len + 1);
        if (!o) return LV_NOMEM();
        memcpy(o, node->str, node->str_len);
        memcpy(o + node->str_len, *s, *n);
        return lv_set_str(s, n, o, *n + node->str_len);
    }
    case LV_NORM_REPLACE: {
        lv_spans sp = {0};
        lv_status st = lv_find_matches_re(e, node, *s, *n, &sp);
        size_t nm = 0;
        for (size_t i = 0; i < sp.n; i++) nm += (size_t)sp.v[i].m;
        char *o = st == LV_OK ? malloc(*n + nm * node->str_len + 1) : NULL;
        if (st == LV_OK && !o) st = LV_NOMEM();
        if (st != LV_OK) { free(sp.v); return st; }
        size_t k = 0;
        for (size_t i = 0; i < sp.n; i++) {
            if (sp.v[i].m) { memcpy(o + k, node->str, node->str_len); k += node->str_len; }
            else { memcpy(o + k, *s + sp.v[i].a, sp.v[i].b - sp.v[i].a); k += sp.v[i].b - sp.v[i].a; }
        }
        free(sp.v);
        return lv_set_str(s, n, o, k);
    }
    case LV_NORM_SEQUENCE:
        for (int i = 0; i < node->n_children; i++) LV_TRY(lv_norm_node(e, &node->children[i], s, n));
        return LV_OK;
    default:
        return lv_fail(LV_ERR_INTERNAL, "tokenizer: bad normalizer node %d", node->type);
    }
}

/* ---- pre-tokenizers --------------------------------------------------------------------------------- */

/* Run `node` over every text piece of *in, writing into *tmp, then swap the lists. */
static lv_status lv_pre_node(lv_enc *e, const lv_tok_node *node, lv_pieces *in, lv_pieces *tmp)
{
    if (node->type == LV_PRE_SEQUENCE) {
        for (int i = 0; i < node->n_children; i++) LV_TRY(lv_pre_node(e, &node->children[i], in, tmp));
        return LV_OK;
    }
    lv_spans sp = {0};
    lv_status st = LV_OK;
    char *work = NULL;
    size_t work_cap = 0;
    lv_pieces_clear(tmp);
    for (size_t pi = 0; pi < in->n && st == LV_OK; pi++) {
        const lv_piece p = in->p[pi];
        if (p.token >= 0) { st = lv_pieces_add(tmp, NULL, 0, p.token, 0); continue; }
        const char *s = in->buf + p.off;
        size_t n = p.len;
        switch (node->type) {
        case LV_PRE_BYTELEVEL: {
            /* optional prefix space, regex split, then every byte -> its GPT-2 code point */
            int pre = node->add_prefix_space && s[0] != ' ';
            size_t need = n + (size_t)pre;
            if (need > work_cap) {
                char *nw = realloc(work, need);
                if (!nw) { st = LV_NOMEM(); break; }
                work = nw;
                work_cap = need;
            }
            if (pre) work[0] = ' ';
            memcpy(work + pre, s, n);
            size_t first = tmp->n;
            if (node->use_regex) {
                st = lv_find_matches_re(e, node, work, need, &sp);
                if (st == LV_OK) st = lv_split_apply(&sp, LV_SPLIT_ISOLATED, 0, work, p.at_origin, tmp);
            } else {
                st = lv_pieces_add(tmp, work, need, -1, p.at_origin);
            }
            /* map bytes in place: rewrite the new pieces at the end of tmp's buffer */
            for (size_t k = first; k < tmp->n && st == LV_OK; k++) {
                lv_piece *q = &tmp->p[k];
                size_t off = q->off, len = q->len;
                st = lv_pieces_reserve(tmp, 2 * len);
                if (st != LV_OK) break;
                char *dst = tmp->buf + tmp->len;
                size_t w = 0;
                for (size_t i = 0; i < len; i++)
                    w += (size_t)lv_utf8_put(dst + w, lv_byte_to_cp[(unsigned char)tmp->buf[off + i]]);
                q->off = tmp->len;
                q->len = w;
                tmp->len += w;
            }
            break;
        }
        case LV_PRE_SPLIT:
            st = lv_find_matches_re(e, node, s, n, &sp);
            if (st == LV_OK) st = lv_split_apply(&sp, node->behavior, node->invert, s, p.at_origin, tmp);
            break;
        case LV_PRE_DIGITS:
            st = lv_find_matches_numeric(s, n, &sp);
            if (st == LV_OK)
                st = lv_split_apply(&sp, node->individual_digits ? LV_SPLIT_ISOLATED : LV_SPLIT_CONTIGUOUS,
                                    0, s, p.at_origin, tmp);
            break;
        case LV_PRE_METASPACE: {
            size_t nsp = 0;
            for (size_t i = 0; i < n; i++) nsp += s[i] == ' ';
            size_t need = n + nsp * node->str_len + node->str_len;
            if (need > work_cap) {
                char *nw = realloc(work, need);
                if (!nw) { st = LV_NOMEM(); break; }
                work = nw;
                work_cap = need;
            }
            size_t w = 0;
            for (size_t i = 0; i < n; i++) {
                if (s[i] == ' ') { memcpy(work + w, node->str, node->str_len); w += node->str_len; }
                else work[w++] = s[i];
            }
            int starts = w >= node->str_len && !memcmp(work, node->str, node->str_len);
            if (!starts && (node->prepend_scheme == 0 || (node->prepend_scheme == 1 && p.at_origin))) {
                memmove(work + node->str_len, work, w);
                memcpy(work, node->str, node->str_len);
                w += node->str_len;
            }
            if (!node->split) { st = lv_pieces_add(tmp, work, w, -1, p.at_origin); break; }
            /* split on the replacement char, MergedWithNext */
            sp.n = 0;
            size_t last = 0;
            for (size_t i = 0; i < w && st == LV_OK;) {
                if (i + node->str_len <= w && !memcmp(work + i, node->str, node->str_len)) {
                    if (last < i) st = lv_spans_push(&sp, last, i, 0);
                    if (st == LV_OK) st = lv_spans_push(&sp, i, i + node->str_len, 1);
                    i += node->str_len;
                    last = i;
                } else {
                    i++;
                }
            }
            if (st == LV_OK && last < w) st = lv_spans_push(&sp, last, w, 0);
            if (st == LV_OK) st = lv_split_apply(&sp, LV_SPLIT_MERGED_WITH_NEXT, 0, work, p.at_origin, tmp);
            break;
        }
        default:
            st = lv_fail(LV_ERR_INTERNAL, "tokenizer: bad pre-tokenizer node %d", node->type);
        }
    }
    free(sp.v);
    free(work);
    if (st != LV_OK) return st;
    lv_pieces swap = *in;
    *in = *tmp;
    *tmp = swap;
    return LV_OK;
}

/* ---- BPE --------------------------------------------------------------------------------------------- */

static int lv_item_less(const lv_merge_item *a, const lv_merge_item *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static lv_status lv_heap_push(lv_enc *e, size_t *n, lv_merge_item it)
{
    if (*n == e->heap_cap) {
        size_t nc = e->heap_cap ? e->heap_cap * 2 : 256;
        lv_merge_item *nh = realloc(e->heap, nc * sizeof *nh);
        if (!nh) return LV_NOMEM();
        e->heap = nh;
        e->heap_cap = nc;
    }
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!lv_item_less(&it, &e->heap[p])) break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i] = it;
    return LV_OK;
}

static lv_merge_item lv_heap_pop(lv_enc *e, size_t *n)
{
    lv_merge_item top = e->heap[0], last = e->heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && lv_item_less(&e->heap[c + 1], &e->heap[c])) c++;
        if (!lv_item_less(&e->heap[c], &last)) break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (*n) e->heap[i] = last;
    return top;
}

static int lv_merge_get(const lv_mergemap *m, int32_t a, int32_t b, uint32_t *rank, int32_t *id)
{
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t mask = m->cap - 1, i = (size_t)lv_tok_mix64(key) & mask;
    while (m->keys[i]) {
        if (m->keys[i] == key) { *rank = m->ranks[i]; *id = m->ids[i]; return 1; }
        i = (i + 1) & mask;
    }
    return 0;
}

static lv_status lv_sym_push(lv_enc *e, size_t *n, int32_t id, uint32_t len)
{
    if (*n == e->sym_cap) {
        size_t nc = e->sym_cap ? e->sym_cap * 2 : 256;
        lv_symbol *ns = realloc(e->sym, nc * sizeof *ns);
        if (!ns) return LV_NOMEM();
        e->sym = ns;
        e->sym_cap = nc;
    }
    e->sym[*n] = (lv_symbol){id, (int32_t)*n - 1, (int32_t)*n + 1, len};
    (*n)++;
    return LV_OK;
}

/* BPE::merge_word + Word::merge_all for one pre-token; ids appended to out. */
static lv_status lv_bpe_word(lv_enc *e, const char *w, size_t n, lv_ids *out)
{
    const lv_tokenizer *t = e->t;
    if (t->ignore_merges) {
        int32_t id = lv_strmap_get(&t->vocab, w, n);
        if (id >= 0) return lv_ids_push(out, id);
    }
    size_t ns = 0, i = 0;
    int32_t unk = -1;
    size_t unk_len = 0;
    char small[64];
    while (i < n) {
        uint32_t cp;
        size_t cl = (size_t)lv_utf8_next((const unsigned char *)w + i, n - i, &cp);
        int first = i == 0, last = i + cl == n;
        const char *key = w + i;
        size_t kl = cl;
        char *heap_key = NULL;
        if ((!first && t->cont_prefix_len) || (last && t->end_suffix_len)) {
            size_t need = cl + (first ? 0 : t->cont_prefix_len) + (last ? t->end_suffix_len : 0);
            char *k = need <= sizeof small ? small : (heap_key = malloc(need));
            if (!k) return LV_NOMEM();
            kl = 0;
            if (!first && t->cont_prefix_len) { memcpy(k, t->cont_prefix, t->cont_prefix_len); kl += t->cont_prefix_len; }
            memcpy(k + kl, w + i, cl);
            kl += cl;
            if (last && t->end_suffix_len) { memcpy(k + kl, t->end_suffix, t->end_suffix_len); kl += t->end_suffix_len; }
            key = k;
        }
        int32_t id = lv_strmap_get(&t->vocab, key, kl);
        lv_status st = LV_OK;
        if (id >= 0) {
            if (unk >= 0) { st = lv_sym_push(e, &ns, unk, (uint32_t)unk_len); unk = -1; }
            if (st == LV_OK) st = lv_sym_push(e, &ns, id, (uint32_t)cl);
        } else {
            int done = 0;
            if (t->byte_fallback) {
                int ok = 1;
                for (size_t k = 0; k < kl; k++) ok &= t->byte_ids[(unsigned char)key[k]] >= 0;
                if (ok) {
                    for (size_t k = 0; k < kl && st == LV_OK; k++)
                        st = lv_sym_push(e, &ns, t->byte_ids[(unsigned char)key[k]], 1);
                    done = 1;
                }
            }
            if (!done && t->unk_id >= 0) {
                if (unk >= 0 && t->fuse_unk) {
                    unk_len += cl;
                } else {
                    if (unk >= 0) st = lv_sym_push(e, &ns, unk, (uint32_t)unk_len);
                    unk = t->unk_id;
                    unk_len = cl;
                }
            }
        }
        free(heap_key);
        LV_TRY(st);
        i += cl;
    }
    if (unk >= 0) LV_TRY(lv_sym_push(e, &ns, unk, (uint32_t)unk_len));
    if (!ns) return LV_OK;
    e->sym[ns - 1].next = -1;

    size_t nh = 0;
    uint32_t rank;
    int32_t nid;
    for (size_t k = 0; k + 1 < ns; k++)
        if (lv_merge_get(&t->merges, e->sym[k].id, e->sym[k + 1].id, &rank, &nid))
            LV_TRY(lv_heap_push(e, &nh, (lv_merge_item){rank, (int32_t)k, nid}));
    while (nh) {
        lv_merge_item top = lv_heap_pop(e, &nh);
        lv_symbol *cur = &e->sym[top.pos];
        if (cur->len == 0 || cur->next == -1) continue;
        lv_symbol *right = &e->sym[cur->next];
        if (!lv_merge_get(&t->merges, cur->id, right->id, &rank, &nid) || nid != top.id) continue;
        cur->id = top.id;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0) e->sym[cur->next].prev = top.pos;
        if (cur->prev >= 0 && lv_merge_get(&t->merges, e->sym[cur->prev].id, cur->id, &rank, &nid))
            LV_TRY(lv_heap_push(e, &nh, (lv_merge_item){rank, cur->prev, nid}));
        if (cur->next >= 0 && lv_merge_get(&t->merges, cur->id, e->sym[cur->next].id, &rank, &nid))
            LV_TRY(lv_heap_push(e, &nh, (lv_merge_item){rank, top.pos, nid}));
    }
    for (int32_t k = 0; k >= 0; k = e->sym[k].next) LV_TRY(lv_ids_push(out, e->sym[k].id));
    return LV_OK;
}

/* BPE with the per-call cache for words shorter than 256 bytes. */
static lv_status lv_bpe_cached(lv_enc *e, const char *w, size_t n, lv_ids *out)
{
    if (n >= 256) return lv_bpe_word(e, w, n, out);
    if (e->cache_n * 2 >= e->cache_cap) {  /* grow (rehash) */
        size_t nc = e->cache_cap ? e->cache_cap * 2 : 4096;
        size_t *no = calloc(nc, sizeof *no), *ni = calloc(nc, sizeof *ni);
        uint32_t *nl = calloc(nc, sizeof *nl), *nn = calloc(nc, sizeof *nn);
        if (!no || !ni || !nl || !nn) { free(no); free(ni); free(nl); free(nn); return LV_NOMEM(); }
        for (size_t i = 0; i < e->cache_cap; i++) {
            if (!e->cache_off[i]) continue;
            size_t j = (size_t)lv_tok_hash(e->cache_keys + e->cache_off[i] - 1, e->cache_wlen[i]) & (nc - 1);
            while (no[j]) j = (j + 1) & (nc - 1);
            no[j] = e->cache_off[i];
            nl[j] = e->cache_wlen[i];
            ni[j] = e->cache_ids[i];
            nn[j] = e->cache_nids[i];
        }
        free(e->cache_off); free(e->cache_wlen); free(e->cache_ids); free(e->cache_nids);
        e->cache_off = no; e->cache_wlen = nl; e->cache_ids = ni; e->cache_nids = nn;
        e->cache_cap = nc;
    }
    size_t j = (size_t)lv_tok_hash(w, n) & (e->cache_cap - 1);
    while (e->cache_off[j]) {
        if (e->cache_wlen[j] == n && !memcmp(e->cache_keys + e->cache_off[j] - 1, w, n)) {
            for (uint32_t q = 0; q < e->cache_nids[j]; q++)
                LV_TRY(lv_ids_push(out, e->cache_idv.v[e->cache_ids[j] + q]));
            return LV_OK;
        }
        j = (j + 1) & (e->cache_cap - 1);
    }
    size_t before = out->n;
    LV_TRY(lv_bpe_word(e, w, n, out));
    if (e->ck_len + n > e->ck_cap) {
        size_t nc = e->ck_cap ? e->ck_cap * 2 : 65536;
        while (nc < e->ck_len + n) nc *= 2;
        char *nk = realloc(e->cache_keys, nc);
        if (!nk) return LV_NOMEM();
        e->cache_keys = nk;
        e->ck_cap = nc;
    }
    memcpy(e->cache_keys + e->ck_len, w, n);
    e->cache_off[j] = e->ck_len + 1;
    e->cache_wlen[j] = (uint32_t)n;
    e->ck_len += n;
    e->cache_ids[j] = e->cache_idv.n;
    e->cache_nids[j] = (uint32_t)(out->n - before);
    for (size_t q = before; q < out->n; q++) LV_TRY(lv_ids_push(&e->cache_idv, out->v[q]));
    e->cache_n++;
    return LV_OK;
}

/* ---- post-processor ---------------------------------------------------------------------------------- */

static lv_status lv_post_node(const lv_tok_node *node, lv_ids *ids)
{
    if (node->type == LV_POST_NOOP) return LV_OK;
    if (node->type == LV_POST_SEQUENCE) {
        for (int i = 0; i < node->n_children; i++) LV_TRY(lv_post_node(&node->children[i], ids));
        return LV_OK;
    }
    lv_ids out = {0};
    for (int i = 0; i < node->n_tmpl; i++) {
        lv_status st = LV_OK;
        if (node->tmpl[i] >= 0) st = lv_ids_push(&out, node->tmpl[i]);
        else for (size_t k = 0; k < ids->n && st == LV_OK; k++) st = lv_ids_push(&out, ids->v[k]);
        if (st != LV_OK) { free(out.v); return st; }
    }
    free(ids->v);
    *ids = out;
    return LV_OK;
}

/* ---- driver ---------------------------------------------------------------------------------------------- */

static void lv_enc_free(lv_enc *e)
{
    pcre2_match_data_free(e->md);
    pcre2_match_context_free(e->mctx);
    pcre2_jit_stack_free(e->jit);
    free(e->sym);
    free(e->heap);
    free(e->cache_keys);
    free(e->cache_off);
    free(e->cache_wlen);
    free(e->cache_ids);
    free(e->cache_nids);
    free(e->cache_idv.v);
}

static lv_status lv_enc_init(lv_enc *e, const lv_tokenizer *t)
{
    memset(e, 0, sizeof *e);
    e->t = t;
    e->md = pcre2_match_data_create(4, NULL);
    e->mctx = pcre2_match_context_create(NULL);
    /* whitespace runs of a few MB need more than the default 32 KiB JIT stack */
    e->jit = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, NULL);
    if (!e->md || !e->mctx || !e->jit) return LV_NOMEM();
    pcre2_jit_stack_assign(e->mctx, NULL, e->jit);
    return LV_OK;
}

lv_status lv_tok_normalize(const lv_tokenizer *t, const char *s, size_t n, char **out, size_t *out_len)
{
    lv_enc e;
    lv_status st = lv_enc_init(&e, t);
    char *buf = malloc(n + 1);
    if (st == LV_OK && !buf) st = LV_NOMEM();
    if (st == LV_OK) {
        memcpy(buf, s, n);
        size_t len = n;
        if (t->normalizer) st = lv_norm_node(&e, t->normalizer, &buf, &len);
        *out_len = len;
    }
    lv_enc_free(&e);
    if (st != LV_OK) { free(buf); return st; }
    *out = buf;
    return LV_OK;
}

static lv_status lv_encode_run(lv_enc *e, const char *text, size_t len, int add_special,
                               lv_pieces *a, lv_pieces *b, lv_ids *ids)
{
    const lv_tokenizer *t = e->t;
    /* 1. added tokens with normalized=false, on the raw text */
    LV_TRY(lv_split_added(t, 0, text, len, 1, a));
    /* 2. normalize each remaining span, then match the normalized added tokens in it */
    lv_pieces_clear(b);
    for (size_t i = 0; i < a->n; i++) {
        lv_piece p = a->p[i];
        if (p.token >= 0) { LV_TRY(lv_pieces_add(b, NULL, 0, p.token, 0)); continue; }
        if (!t->normalizer) { LV_TRY(lv_split_added(t, 1, a->buf + p.off, p.len, p.at_origin, b)); continue; }
        char *s = malloc(p.len + 1);
        if (!s) return LV_NOMEM();
        memcpy(s, a->buf + p.off, p.len);
        size_t n = p.len;
        lv_status st = lv_norm_node(e, t->normalizer, &s, &n);
        if (st == LV_OK) st = lv_split_added(t, 1, s, n, p.at_origin, b);
        free(s);
        LV_TRY(st);
    }
    /* 3. pre-tokenize */
    if (t->pre_tokenizer) LV_TRY(lv_pre_node(e, t->pre_tokenizer, b, a));
    /* 4. the model, piece by piece */
    for (size_t i = 0; i < b->n; i++) {
        lv_piece p = b->p[i];
        if (p.token >= 0) LV_TRY(lv_ids_push(ids, p.token));
        else LV_TRY(lv_bpe_cached(e, b->buf + p.off, p.len, ids));
    }
    /* 5. post-process */
    if (add_special && t->post_processor) LV_TRY(lv_post_node(t->post_processor, ids));
    return LV_OK;
}

lv_status lv_tokenizer_encode(const lv_tokenizer *t, const char *text, size_t len, int add_special,
                              int32_t **ids_out, int *n_out)
{
    *ids_out = NULL;
    *n_out = 0;
    size_t bad = lv_utf8_invalid_at(text, len);
    if (bad != (size_t)-1)
        return lv_fail(LV_ERR_INPUT, "%s: text is not valid UTF-8 (byte %zu)", t->path, bad);
    if (len > (size_t)1 << 30)
        return lv_fail(LV_ERR_LIMIT, "%s: text of %zu bytes exceeds the 1 GiB limit", t->path, len);
    lv_enc e;
    lv_pieces a = {0}, b = {0};
    lv_ids ids = {0};
    lv_status st = lv_enc_init(&e, t);
    if (st == LV_OK) st = lv_encode_run(&e, text, len, add_special, &a, &b, &ids);
    if (st == LV_OK && !ids.v && (ids.v = malloc(sizeof *ids.v)) == NULL) st = LV_NOMEM();  /* never NULL */
    lv_enc_free(&e);
    lv_pieces_free(&a);
    lv_pieces_free(&b);
    if (st != LV_OK) { free(ids.v); return st; }
    if (ids.n > (size_t)INT32_MAX) { free(ids.v); return lv_fail(LV_ERR_LIMIT, "%s: too many ids", t->path); }
    *ids_out = ids.v;
    *n_out = (int)ids.n;
    return LV_OK;
}
