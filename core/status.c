/* status.c - status names, exit codes and the thread-local last-error detail. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local char lv_errbuf[1024];

static const struct {
    const char *name, *text;
    int code;
} lv_status_table[] = {
#define LV_X(name, code, text) {#name, text, code},
    LV_STATUS_LIST(LV_X)
#undef LV_X
};

const char *lv_status_str(lv_status s)
{
    return (unsigned)s < LV_STATUS_COUNT ? lv_status_table[s].text : "unknown status";
}

const char *lv_status_name(lv_status s)
{
    return (unsigned)s < LV_STATUS_COUNT ? lv_status_table[s].name : "UNKNOWN";
}

int lv_status_exit_code(lv_status s)
{
    return (unsigned)s < LV_STATUS_COUNT ? lv_status_table[s].code : 13;
}

const char *lv_last_error(void) { return lv_errbuf; }

void lv_clear_error(void) { lv_errbuf[0] = 0; }

lv_status lv_fail(lv_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lv_errbuf, sizeof lv_errbuf, fmt, ap);
    va_end(ap);
    return s;
}

void lv_assert_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "lladav: internal assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}
