/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LV_RING 16
static char lv_ring[LV_RING][4096];
static int  lv_ring_i;

static char *lv_ring_next(void) { return lv_ring[lv_ring_i++ % LV_RING]; }

const char *lv_test_path(const char *rel)
{
    char *b = lv_ring_next();
    snprintf(b, 4096, "%s/%s", LV_SOURCE_DIR, rel);
    return b;
}

const char *lv_test_join(const char *dir, const char *name)
{
    char *b = lv_ring_next();
    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

static char lv_tmpdir[4096];

static pid_t lv_tmpdir_owner;

static void lv_rm_tmpdir(void)
{
    if (!lv_tmpdir[0] || getenv("LV_KEEP_TMP") || getpid() != lv_tmpdir_owner) return;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", lv_tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", lv_tmpdir);
}

/* Made by the parent before Check forks its test children (which may leave with _exit and
 * skip atexit), so one directory serves every test and the parent removes it at the end. */
__attribute__((constructor)) static void lv_make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(lv_tmpdir, sizeof lv_tmpdir, "%s/lvtest.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(lv_tmpdir)) { perror("mkdtemp"); exit(1); }
    lv_tmpdir_owner = getpid();
    atexit(lv_rm_tmpdir);
}

const char *lv_test_tmpdir(void) { return lv_tmpdir; }

void lv_test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

char *lv_test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); buf = NULL; }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = 0;
    if (n) *n = (size_t)len;
    return buf;
}

int lv_test_close(const char *name, const float *got, const float *want, size_t n, double atol,
                  double rtol)
{
    double max_abs = 0, max_rel = 0, se = 0, sw = 0;
    size_t bad = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i], d = fabs(g - w);
        int nan_mismatch = isnan(g) != isnan(w);
        if (!isnan(d)) {
            if (d > max_abs) max_abs = d;
            if (fabs(w) > 0 && d / fabs(w) > max_rel) max_rel = d / fabs(w);
            se += d * d;
            sw += w * w;
        }
        if (bad == (size_t)-1 && (nan_mismatch || d > atol + rtol * fabs(w))) bad = i;
    }
    if (bad == (size_t)-1) return 1;
    fprintf(stderr, "MISMATCH %s: n=%zu max_abs=%.3g max_rel=%.3g nmse=%.3g first bad [%zu]: "
                    "got %.9g want %.9g (atol %.3g rtol %.3g)\n",
            name, n, max_abs, max_rel, sw > 0 ? se / sw : se, bad, got[bad], want[bad], atol, rtol);
    return 0;
}

void lv_test_skip(const char *why)
{
    printf("SKIP: %s\n", why);
    fflush(stdout);
    exit(77);
}

int lv_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
