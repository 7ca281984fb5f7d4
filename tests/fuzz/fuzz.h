/* fuzz.h - shared helpers of the fuzz targets in tests/fuzz/ (not a public header).
 *
 * Every fuzz_<name>.c defines LLVMFuzzerTestOneInput. It is linked either with libFuzzer
 * (clang, -DLV_FUZZ=ON) or with replay_main.c, which feeds it every file of a corpus folder
 * (the ctest "fuzz" tests of the normal and sanitizer builds). A target never aborts on bad
 * input: the library must answer with a status; the sanitizers and libFuzzer catch the rest.
 * Readers that only take a path get the input through a file in a private temporary folder.
 */
#ifndef LV_FUZZ_H
#define LV_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private folder for this process, created on first use, removed at exit. */
const char *fuzz_tmpdir(void);
/* tmpdir/rel (parents created); the returned path is valid until the next call. */
const char *fuzz_path(const char *rel);
/* Write data to tmpdir/rel, replacing it; returns the full path (valid until the next call). */
const char *fuzz_write(const char *rel, const void *data, size_t size);
/* LV_SOURCE_DIR/rel (LV_SOURCE_DIR env var first, then the compile-time source dir). */
const char *fuzz_source(const char *rel);
/* Split data at the first occurrence of sep (not included): returns 1 and sets the parts. */
int fuzz_split(const uint8_t *data, size_t size, const char *sep, size_t *first_len,
               const uint8_t **rest, size_t *rest_len);

#endif
