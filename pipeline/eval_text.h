/* eval_text.h - private to pipeline/: the text plumbing the benchmark code shares (metrics,
 * readers, reports, lladav eval): a growable string, printf into a new string, whole files. */
#ifndef LV_EVAL_TEXT_H
#define LV_EVAL_TEXT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core.h"

/* Appends never fail loudly: out of memory sets oom, later appends are ignored, and
 * lv_text_take returns NULL. Zero-initialize: lv_text t = {0}; */
typedef struct {
    char  *p;     /* NUL-terminated once anything was appended */
    size_t n, cap;
    int    oom;
} lv_text;

void  lv_text_put(lv_text *t, const char *s, size_t n);
void  lv_text_putc(lv_text *t, char c);
void  lv_text_puts(lv_text *t, const char *s);
void  lv_text_printf(lv_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text as a malloc'd string ("" when empty); NULL (and the buffer freed) after an OOM. */
char *lv_text_take(lv_text *t);

/* printf into a new malloc'd string; NULL on out of memory. */
char *lv_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A whole file, NUL-terminated, malloc'd in *buf (regular files, pipes); "<path>: ..." errors. */
lv_status lv_file_read(const char *path, char **buf, size_t *n);
/* A whole JSON file parsed (free with cJSON_Delete); NULL with *st set on failure. */
cJSON    *lv_json_read(const char *path, lv_status *st);

#endif
