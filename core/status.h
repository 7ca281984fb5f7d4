/* status.h - one status list, one detailed last-error message (style.md B4).
 *
 * The library never prints and never exits: a failing call records a single-line detail
 * with lv_fail() and returns its status; only the CLI (pipeline/main.c) prints
 * "lladav: error: <detail>" and exits with lv_status_exit_code(status).
 */
#ifndef LV_STATUS_H
#define LV_STATUS_H

/* X(name, exit code, text) -- every status has its own exit code, documented in --help. */
#define LV_STATUS_LIST(X)                                                     \
    X(OK,              0, "success")                                          \
    X(ERR_ARG,         1, "invalid argument or usage")                        \
    X(ERR_IO,          2, "cannot open, read or write a file")                \
    X(ERR_FORMAT,      3, "malformed file")                                   \
    X(ERR_DTYPE,       4, "unsupported tensor dtype")                         \
    X(ERR_SHAPE,       5, "missing tensor or tensor shape mismatch")          \
    X(ERR_CONFIG,      6, "invalid or unsupported model configuration")       \
    X(ERR_TOKENIZER,   7, "invalid tokenizer or text")                        \
    X(ERR_IMAGE,       8, "image cannot be decoded")                          \
    X(ERR_UNSUPPORTED, 9, "unsupported format or feature")                    \
    X(ERR_LIMIT,      10, "input exceeds a documented limit")                 \
    X(ERR_INPUT,      11, "invalid input data")                               \
    X(ERR_NOMEM,      12, "out of memory")                                    \
    X(ERR_INTERNAL,   13, "internal error")

typedef enum {
#define LV_X(name, code, text) LV_##name,
    LV_STATUS_LIST(LV_X)
#undef LV_X
    LV_STATUS_COUNT
} lv_status;

const char *lv_status_str(lv_status s);        /* short text from the list, never NULL */
const char *lv_status_name(lv_status s);       /* "ERR_FORMAT", ... */
int         lv_status_exit_code(lv_status s);  /* distinct per status, 0 for LV_OK */

/* Detail of the last failure on this thread (like sqlite3_errmsg); "" when none. */
const char *lv_last_error(void);
/* Record a printf-style detail (one lowercase line: file, object, problem, found vs expected)
 * and return s, so call sites read `return lv_fail(LV_ERR_SHAPE, "%s: ...", path, ...)`. */
lv_status   lv_fail(lv_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void        lv_clear_error(void);

/* Programmer errors only (never untrusted input): abort with file:line, like GGML_ASSERT. */
#define LV_ASSERT(x)                                                          \
    do {                                                                      \
        if (!(x)) lv_assert_fail(__FILE__, __LINE__, #x);                     \
    } while (0)
void lv_assert_fail(const char *file, int line, const char *expr);

/* Propagate a failing status unchanged. */
#define LV_TRY(expr)                                                          \
    do {                                                                      \
        lv_status lv_try_s_ = (expr);                                         \
        if (lv_try_s_ != LV_OK) return lv_try_s_;                             \
    } while (0)

#endif
