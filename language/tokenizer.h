/* tokenizer.h - private to language/: the loaded form of a Hugging Face tokenizer.json.
 *
 *   tokenizer.c         load + validate (cJSON -> the structs below)
 *   tokenizer_encode.c  added tokens -> normalizer -> pre-tokenizer -> BPE -> post_processor
 *   tokenizer_decode.c  ids -> token strings -> decoder chain -> UTF-8 (lossy like Rust)
 *
 * Each component is a small tagged node; Sequence nodes hold children. The names mirror the
 * `tokenizers` crate (normalizers::*, pre_tokenizers::*, decoders::*, processors::*).
 */
#ifndef LV_TOKENIZER_PRIVATE_H
#define LV_TOKENIZER_PRIVATE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "language.h"

/* Open-addressing string -> int32 map (keys borrowed from the tokenizer's storage). */
typedef struct {
    const char **keys;  /* [cap] NULL = empty */
    uint32_t    *lens;  /* [cap] */
    int32_t     *vals;  /* [cap] */
    size_t       cap, n;
} lv_strmap;

/* BPE merge table: (left id, right id) -> (rank, merged id). */
typedef struct {
    uint64_t *keys;   /* [cap] (left << 32 | right) + 1, 0 = empty */
    uint32_t *ranks;  /* [cap] */
    int32_t  *ids;    /* [cap] */
    size_t    cap, n;
} lv_mergemap;

typedef struct {
    const char *content;  /* borrowed from storage */
    size_t      len;
    char       *norm;     /* normalized content (normalized tokens only; owned), else NULL */
    size_t      norm_len;
    int32_t     id;
    int         single_word, lstrip, rstrip, normalized, special;
} lv_added_token;

typedef enum {
    LV_NORM_NFC, LV_NORM_NFD, LV_NORM_NFKC, LV_NORM_NFKD, LV_NORM_LOWERCASE, LV_NORM_PREPEND,
    LV_NORM_REPLACE, LV_NORM_SEQUENCE, LV_NORM_COUNT
} lv_norm_type;

typedef enum {
    LV_SPLIT_REMOVED, LV_SPLIT_ISOLATED, LV_SPLIT_MERGED_WITH_PREVIOUS,
    LV_SPLIT_MERGED_WITH_NEXT, LV_SPLIT_CONTIGUOUS, LV_SPLIT_COUNT
} lv_split_behavior;

typedef enum {
    LV_PRE_BYTELEVEL, LV_PRE_SPLIT, LV_PRE_DIGITS, LV_PRE_METASPACE, LV_PRE_SEQUENCE,
    LV_PRE_COUNT
} lv_pre_type;

typedef enum {
    LV_DEC_BYTELEVEL, LV_DEC_BYTEFALLBACK, LV_DEC_FUSE, LV_DEC_REPLACE, LV_DEC_STRIP,
    LV_DEC_METASPACE, LV_DEC_SEQUENCE, LV_DEC_COUNT
} lv_dec_type;

typedef enum { LV_POST_TEMPLATE, LV_POST_NOOP, LV_POST_SEQUENCE, LV_POST_COUNT } lv_post_type;

typedef struct lv_tok_node lv_tok_node;
struct lv_tok_node {
    int          type;         /* lv_norm_type / lv_pre_type / lv_dec_type / lv_post_type */
    lv_tok_node *children;     /* [n_children] for Sequence */
    int          n_children;
    /* Split (pre-tokenizer), Replace (normalizer): a compiled regex, literal ones escaped */
    pcre2_code  *re;
    int          jit;          /* pcre2_jit_compile succeeded */
    int          behavior;     /* lv_split_behavior */
    int          invert;
    /* ByteLevel */
    int          add_prefix_space, use_regex;
    /* Digits */
    int          individual_digits;
    /* Metaspace: replacement char; prepend_scheme 0 always, 1 first, 2 never; split */
    char        *str;          /* Prepend text, Replace/Strip content, Metaspace replacement */
    size_t       str_len;
    char        *str2;         /* Replace content (decoder: pattern is str, content str2) */
    size_t       str2_len;
    int          prepend_scheme, split;
    int          strip_start, strip_stop;
    /* TemplateProcessing: the "single" template as a flat id list with -1 = the sequence */
    int32_t     *tmpl;         /* [n_tmpl] */
    int          n_tmpl;
};

struct lv_tokenizer {
    char          *path;        /* for messages */
    char          *storage;     /* all token strings, NUL-separated */
    size_t         storage_len, storage_cap;
    lv_strmap      vocab;       /* model vocabulary: token -> id */
    lv_strmap      added_map;   /* added token content -> index into added[] */
    const char   **id_to_token; /* [size] NULL where no token */
    uint32_t      *id_len;      /* [size] byte length of id_to_token[i] */
    unsigned char *id_special;  /* [size] 1 for added tokens flagged special */
    unsigned char *id_added;    /* [size] 1 for added tokens */
    int            size;        /* largest id + 1 */
    lv_mergemap    merges;
    lv_added_token *added;      /* [n_added] */
    int            n_added;
    /* Matchers: [0] tokens with normalized=false (raw text), [1] normalized ones (matched in
     * normalized text by their normalized content); per first byte, longest first. */
    int           *added_by_byte[2][256];
    int            n_by_byte[2][256];
    /* BPE options */
    int32_t        unk_id;      /* -1 when no unk_token */
    int            fuse_unk, byte_fallback, ignore_merges;
    char          *cont_prefix, *end_suffix; /* NULL when absent */
    size_t         cont_prefix_len, end_suffix_len;
    int32_t        byte_ids[256]; /* byte_fallback: id of <0xNN>, -1 when absent */
    lv_tok_node   *normalizer, *pre_tokenizer, *decoder, *post_processor; /* NULL = none */
};

/* Apply the tokenizer's normalizer to s[0..n): *out returned (free()), *out_len its length. */
lv_status lv_tok_normalize(const lv_tokenizer *t, const char *s, size_t n, char **out,
                           size_t *out_len);
/* Hashes shared by the maps (tokenizer.c) and the per-call word cache (tokenizer_encode.c). */
static inline uint64_t lv_tok_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;  /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static inline uint64_t lv_tok_mix64(uint64_t x)  /* murmur3 finalizer, for merge-pair keys */
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* String map */
int32_t lv_strmap_get(const lv_strmap *m, const char *key, size_t len); /* -1 if absent */
/* GPT-2 byte <-> unicode map: code point of byte b, and byte of a code point (-1 if none). */
extern const uint16_t lv_byte_to_cp[256];
int  lv_cp_to_byte(uint32_t cp);
/* Decode one UTF-8 code point at s[0..n) (input already validated): returns its length. */
int  lv_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
int  lv_utf8_put(char *out, uint32_t cp);             /* writes 1..4 bytes, returns count */
/* Byte offset of the first invalid UTF-8 sequence, or (size_t)-1 when valid. */
size_t lv_utf8_invalid_at(const char *s, size_t n);

#endif
