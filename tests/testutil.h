/* testutil.h - shared helpers for the Check suites: fixture paths, temp dirs, files, and a
 * tolerance check that prints name, n, max_abs, max_rel, nmse and the first bad index. */
#ifndef LV_TESTUTIL_H
#define LV_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* LV_SOURCE_DIR "/" rel, in a small ring of static buffers. */
const char *lv_test_path(const char *rel);
/* A fresh directory under $TMPDIR (or /tmp), removed at exit. */
const char *lv_test_tmpdir(void);
/* Join dir + "/" + name into a ring buffer. */
const char *lv_test_join(const char *dir, const char *name);
void        lv_test_write_file(const char *path, const void *data, size_t n);
/* Read a whole file (malloc'd, NUL-terminated); NULL if it cannot be read. */
char       *lv_test_read_file(const char *path, size_t *n);
/* 1 if |got-want| <= atol + rtol*|want| everywhere (and no NaN mismatch); else prints the
 * report to stderr and returns 0. Use as ck_assert(lv_test_close(...)). */
int         lv_test_close(const char *name, const float *got, const float *want, size_t n,
                          double atol, double rtol);
/* Run every test of s (CK_NORMAL output), free it; the process exit code: 0 all passed, else 1. */
int         lv_test_run(Suite *s);
/* Exit 77 after printing "SKIP: <why>" (ctest counts the test as skipped). */
void        lv_test_skip(const char *why);

#endif
