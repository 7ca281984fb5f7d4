/* fuzz_util.c - helpers of fuzz.h: one private temporary folder per process. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef LV_SOURCE_DIR
#define LV_SOURCE_DIR "."
#endif

static char fuzz_dir[PATH_MAX];
static char fuzz_buf[2 * PATH_MAX + 2];

static void fuzz_rmtree(const char *dir)
{
    char cmd[PATH_MAX + 16];
    if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd && system(cmd) != 0)
        fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

static void fuzz_cleanup(void)
{
    if (fuzz_dir[0]) fuzz_rmtree(fuzz_dir);
}

const char *fuzz_tmpdir(void)
{
    if (!fuzz_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/lv_fuzz_XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_dir, strerror(errno));
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return fuzz_dir;
}

const char *fuzz_path(const char *rel)
{
    snprintf(fuzz_buf, sizeof fuzz_buf, "%s/%s", fuzz_tmpdir(), rel);
    for (char *p = fuzz_buf + strlen(fuzz_dir) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(fuzz_buf, 0700);
        *p = '/';
    }
    return fuzz_buf;
}

const char *fuzz_write(const char *rel, const void *data, size_t size)
{
    const char *path = fuzz_path(rel);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        abort();
    }
    return path;
}

const char *fuzz_source(const char *rel)
{
    static char src[2 * PATH_MAX + 2];
    const char *env = getenv("LV_SOURCE_DIR");
    if (snprintf(src, sizeof src, "%s/%s", env && *env ? env : LV_SOURCE_DIR, rel) >= (int)sizeof src)
        abort();
    return src;
}

int fuzz_split(const uint8_t *data, size_t size, const char *sep, size_t *first_len,
               const uint8_t **rest, size_t *rest_len)
{
    size_t m = strlen(sep);
    for (size_t i = 0; i + m <= size; i++)
        if (!memcmp(data + i, sep, m)) {
            *first_len = i;
            *rest = data + i + m;
            *rest_len = size - i - m;
            return 1;
        }
    return 0;
}
