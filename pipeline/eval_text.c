/* eval_text.c - see eval_text.h. */
#include "eval_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lv_text_put(lv_text *t, const char *s, size_t n)
{
    if (t->oom) return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->n + n + 1) cap *= 2;
        char *q = realloc(t->p, cap);
        if (!q) { t->oom = 1; return; }
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = 0;
}

void lv_text_putc(lv_text *t, char c) { lv_text_put(t, &c, 1); }

void lv_text_puts(lv_text *t, const char *s) { lv_text_put(t, s, strlen(s)); }

void lv_text_printf(lv_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) { t->oom = 1; return; }
    lv_text_put(t, s, (size_t)n);
    free(s);
}

char *lv_text_take(lv_text *t)
{
    if (t->oom) {
        free(t->p);
        return NULL;
    }
    return t->p ? t->p : calloc(1, 1);
}

char *lv_strfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

lv_status lv_file_read(const char *path, char **buf, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lv_fail(LV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    while (b) {
        if (len + 1 >= cap) {
            char *q = realloc(b, cap * 2);
            if (!q) { free(b); b = NULL; break; }
            b = q;
            cap *= 2;
        }
        size_t got = fread(b + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!b) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    if (err) { free(b); return lv_fail(LV_ERR_IO, "%s: read error", path); }
    b[len] = 0;
    *buf = b;
    *n = len;
    return LV_OK;
}

cJSON *lv_json_read(const char *path, lv_status *st)
{
    char *buf;
    size_t n;
    *st = lv_file_read(path, &buf, &n);
    if (*st != LV_OK) return NULL;
    cJSON *o = cJSON_ParseWithLength(buf, n);
    free(buf);
    if (!o) *st = lv_fail(LV_ERR_FORMAT, "%s: not valid JSON", path);
    return o;
}
