/* replay_main.c - run a fuzz target over files without libFuzzer (gcc builds, ctest "fuzz").
 *
 *   fuzz_image_replay tests/fuzz/corpus/image [more files or folders...]
 *
 * Each argument is a file or a folder whose regular files are replayed in name order; a
 * target that crashes, leaks or trips a sanitizer fails the test, like a libFuzzer run with
 * -runs=0 over the same corpus. Prints the number of inputs replayed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            else buf = nb;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { free(buf); fprintf(stderr, "replay: cannot read %s\n", path); return 1; }
    /* an exact-size copy, so ASan sees a read past the input as one */
    unsigned char *in = malloc(n ? n : 1);
    if (!in) { free(buf); return 1; }
    memcpy(in, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int bad = 0, count = 0;
    if (argc < 2) { fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]); return 1; }
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) { fprintf(stderr, "replay: no such file %s\n", argv[a]); bad = 1; continue; }
        if (!S_ISDIR(st.st_mode)) { bad |= replay_file(argv[a]); count++; continue; }
        DIR *d = opendir(argv[a]);
        if (!d) { fprintf(stderr, "replay: cannot list %s\n", argv[a]); bad = 1; continue; }
        char **names = NULL;
        int n = 0, cap = 0;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            if (n == cap) {
                char **nn = realloc(names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *names);
                if (!nn) break;
                names = nn;
            }
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        for (int i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], names[i]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) { bad |= replay_file(path); count++; }
            free(names[i]);
        }
        free(names);
    }
    printf("replayed %d input(s)\n", count);
    return bad || count == 0;
}
