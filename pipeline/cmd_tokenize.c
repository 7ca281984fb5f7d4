/* cmd_tokenize.c - `lladav tokenize`: encode or decode stdin line by line (interfaces.md §3).
 *
 *   stdin line --(plain text | JSON string)--> lv_tokenizer_encode (no special tokens added)
 *              --> "1 2 3" | "[1,2,3]"
 *   with --decode: "1 2 3" | "[1,2,3]" --> lv_tokenizer_decode --> text | JSON string
 *
 * One output line per input line, flushed per line so the command can run as a coprocess.
 * A line's ending ("\n" or "\r\n") is not part of it. JSON is parsed here rather than with
 * cJSON because texts may hold NUL characters (\u0000), which cJSON strings cannot carry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "language.h"

typedef struct { char *v; size_t n, cap; } lv_buf;

static int lv_buf_put(lv_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1) nc *= 2;
        char *nv = realloc(b->v, nc);
        if (!nv) return -1;
        b->v = nv;
        b->cap = nc;
    }
    memcpy(b->v + b->n, s, n);
    b->n += n;
    b->v[b->n] = 0;
    return 0;
}

static const char *lv_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

static int lv_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* The line must be exactly one JSON string (surrounding whitespace allowed). */
static lv_status lv_parse_json_string(const char *line, long lineno, lv_buf *out)
{
    out->n = 0;
    const char *p = lv_skip_ws(line);
    if (*p != '"') return lv_fail(LV_ERR_INPUT, "stdin line %ld: expected a JSON string", lineno);
    p++;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == 0) return lv_fail(LV_ERR_INPUT, "stdin line %ld: unterminated JSON string", lineno);
        if (c < 0x20) return lv_fail(LV_ERR_INPUT, "stdin line %ld: raw control character 0x%02x in a JSON string", lineno, c);
        if (c == '"') { p++; break; }
        if (c != '\\') {
            if (lv_buf_put(out, p, 1)) return lv_fail(LV_ERR_NOMEM, "tokenize: out of memory");
            p++;
            continue;
        }
        char e = p[1], ch;
        p += 2;
        switch (e) {
        case '"': ch = '"'; break;
        case '\\': ch = '\\'; break;
        case '/': ch = '/'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
            unsigned u, lo;
            if (lv_hex4(p, &u)) return lv_fail(LV_ERR_INPUT, "stdin line %ld: bad \\u escape", lineno);
            p += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (p[0] != '\\' || p[1] != 'u' || lv_hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return lv_fail(LV_ERR_INPUT, "stdin line %ld: unpaired surrogate \\u%04X", lineno, u);
                p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                return lv_fail(LV_ERR_INPUT, "stdin line %ld: unpaired surrogate \\u%04X", lineno, u);
            }
            char enc[4];
            size_t k = 0;
            if (u < 0x80) enc[k++] = (char)u;
            else if (u < 0x800) { enc[k++] = (char)(0xC0 | (u >> 6)); enc[k++] = (char)(0x80 | (u & 0x3F)); }
            else if (u < 0x10000) {
                enc[k++] = (char)(0xE0 | (u >> 12));
                enc[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
                enc[k++] = (char)(0x80 | (u & 0x3F));
            } else {
                enc[k++] = (char)(0xF0 | (u >> 18));
                enc[k++] = (char)(0x80 | ((u >> 12) & 0x3F));
                enc[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
                enc[k++] = (char)(0x80 | (u & 0x3F));
            }
            if (lv_buf_put(out, enc, k)) return lv_fail(LV_ERR_NOMEM, "tokenize: out of memory");
            continue;
        }
        default:
            return lv_fail(LV_ERR_INPUT, "stdin line %ld: bad escape in a JSON string", lineno);
        }
        if (lv_buf_put(out, &ch, 1)) return lv_fail(LV_ERR_NOMEM, "tokenize: out of memory");
    }
    if (*lv_skip_ws(p)) return lv_fail(LV_ERR_INPUT, "stdin line %ld: text after the JSON string", lineno);
    return LV_OK;
}

static void lv_write_json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20 || c == 0x7F) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

/* Ids: "1 2 3" (spaces or tabs) or, with jsonl, "[1, 2, 3]". */
static lv_status lv_parse_ids(const char *line, int jsonl, long lineno, int32_t **ids, int *n, int *cap)
{
    const char *p = jsonl ? lv_skip_ws(line) : line;
    *n = 0;
    if (jsonl) {
        if (*p != '[') return lv_fail(LV_ERR_INPUT, "stdin line %ld: expected a JSON array of ids", lineno);
        p = lv_skip_ws(p + 1);
        if (*p == ']') {
            if (*lv_skip_ws(p + 1)) return lv_fail(LV_ERR_INPUT, "stdin line %ld: text after the JSON array", lineno);
            return LV_OK;
        }
    }
    for (;;) {
        while (!jsonl && (*p == ' ' || *p == '\t')) p++;
        if (!jsonl && !*p) return LV_OK;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || (*p != '-' && (*p < '0' || *p > '9')))
            return lv_fail(LV_ERR_INPUT, "stdin line %ld: expected an integer id at column %ld", lineno, (long)(p - line) + 1);
        if (v < -2147483647LL - 1 || v > 2147483647LL)
            return lv_fail(LV_ERR_INPUT, "stdin line %ld: id %.*s out of range", lineno, (int)(end - p), p);
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            int32_t *ni = realloc(*ids, (size_t)*cap * sizeof *ni);
            if (!ni) return lv_fail(LV_ERR_NOMEM, "tokenize: out of memory");
            *ids = ni;
        }
        (*ids)[(*n)++] = (int32_t)v;
        p = end;
        if (!jsonl) {
            if (*p && *p != ' ' && *p != '\t')
                return lv_fail(LV_ERR_INPUT, "stdin line %ld: expected an integer id at column %ld", lineno, (long)(p - line) + 1);
            continue;
        }
        p = lv_skip_ws(p);
        if (*p == ',') { p = lv_skip_ws(p + 1); continue; }
        if (*p == ']') {
            if (*lv_skip_ws(p + 1)) return lv_fail(LV_ERR_INPUT, "stdin line %ld: text after the JSON array", lineno);
            return LV_OK;
        }
        return lv_fail(LV_ERR_INPUT, "stdin line %ld: malformed JSON array of ids", lineno);
    }
}

/* Prefix the library's message with the input line number. */
static lv_status lv_line_fail(lv_status st, long lineno)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", lv_last_error());
    return lv_fail(st, "stdin line %ld: %s", lineno, msg);
}

lv_status lv_cmd_tokenize(int argc, char **argv)
{
    const char *path = NULL;
    int jsonl = 0, decode = 0, help = 0, npos = 0;
    const char *pos[1];
    const lv_opt opts[] = {
        {"--tokenizer", "-t", LV_OPT_STR, &path, "FILE", "tokenizer.json of the model (required)"},
        {"--jsonl", NULL, LV_OPT_FLAG, &jsonl, NULL, "lines are JSON: strings in, id arrays out (reverse with --decode)"},
        {"--decode", NULL, LV_OPT_FLAG, &decode, NULL, "decode ids to text instead of encoding"},
    };
    const int nopts = (int)(sizeof opts / sizeof opts[0]);
    LV_TRY(lv_cli_parse(argc, argv, opts, nopts, pos, 0, &npos, &help));
    if (help) {
        lv_cli_usage("tokenize", "--tokenizer FILE [--jsonl] [--decode] < input",
                     "Encode standard input line by line (ids separated by spaces; no special tokens\n"
                     "are added beyond those written in the text), or decode ids back to text.\n"
                     "Plain --decode writes texts as they are (a decoded newline starts a new output\n"
                     "line); use --jsonl for an exact one-line-per-input mapping.", opts, nopts);
        return LV_OK;
    }
    if (!path) return lv_fail(LV_ERR_ARG, "tokenize: --tokenizer FILE is required");
    lv_tokenizer *tok = NULL;
    LV_TRY(lv_tokenizer_load(&tok, path));

    lv_status st = LV_OK;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    long lineno = 0;
    lv_buf text = {0};
    int32_t *ids = NULL;
    int cap = 0;
    while (st == LV_OK && (len = getline(&line, &lcap, stdin)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        if (n && line[n - 1] == '\n') n--;
        if (n && line[n - 1] == '\r') n--;
        line[n] = 0;
        if (!decode) {
            const char *s = line;
            size_t sn = n;
            if (jsonl) {
                if ((st = lv_parse_json_string(line, lineno, &text)) != LV_OK) break;
                s = text.v ? text.v : "";
                sn = text.n;
            } else if (memchr(line, 0, n)) {
                st = lv_fail(LV_ERR_INPUT, "stdin line %ld: NUL byte in plain text (use --jsonl)", lineno);
                break;
            }
            int32_t *out;
            int nout;
            if ((st = lv_tokenizer_encode(tok, s, sn, 0, &out, &nout)) != LV_OK) {
                st = lv_line_fail(st, lineno);
                break;
            }
            if (jsonl) putchar('[');
            for (int i = 0; i < nout; i++) printf(i ? (jsonl ? ",%d" : " %d") : "%d", (int)out[i]);
            if (jsonl) putchar(']');
            putchar('\n');
            free(out);
        } else {
            int nid;
            if ((st = lv_parse_ids(line, jsonl, lineno, &ids, &nid, &cap)) != LV_OK) break;
            char *s;
            size_t sn;
            if ((st = lv_tokenizer_decode(tok, ids, nid, 0, &s, &sn)) != LV_OK) {
                st = lv_line_fail(st, lineno);
                break;
            }
            if (jsonl) lv_write_json_string(stdout, s, sn);
            else fwrite(s, 1, sn, stdout);
            putchar('\n');
            free(s);
        }
        if (fflush(stdout)) st = lv_fail(LV_ERR_IO, "tokenize: cannot write to standard output");
    }
    if (st == LV_OK && ferror(stdin)) st = lv_fail(LV_ERR_IO, "tokenize: error reading standard input");
    free(line);
    free(text.v);
    free(ids);
    lv_tokenizer_free(tok);
    return st;
}
