/* test_limits.c - every documented input limit (tests/fuzz/README.md "Limits") at its edge:
 * the value at the limit passes the limit check, one past it is refused with its status and a
 * message naming the limit, before the big allocation. Plain C (ctest "limits"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_readers.h"
#include "fuzz.h"
#include "language.h"
#include "vision.h"

static int n_fail, n_pass;

#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        if (cond) n_pass++;                                                         \
        else {                                                                      \
            n_fail++;                                                               \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                             \
            printf(__VA_ARGS__);                                                    \
            printf(" (last error: %s)\n", lv_last_error());                        \
        }                                                                           \
    } while (0)

static uint32_t crc32_update(uint32_t c, const uint8_t *p, size_t n)
{
    c = ~c;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = c >> 1 ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Signature, IHDR (8-bit RGB, w x h), an IDAT holding an empty zlib stream, IEND. */
static size_t png_header(uint8_t *out, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    static const uint8_t empty_zlib[8] = {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
    size_t n = 0;
    memcpy(out, sig, 8);
    n += 8;
    const struct { const char *type; uint8_t data[13]; size_t len; } chunks[3] = {
        {"IHDR", {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0}, 13},
        {"IDAT", {0}, 8},
        {"IEND", {0}, 0},
    };
    for (int c = 0; c < 3; c++) {
        uint8_t data[13];
        memcpy(data, c == 1 ? empty_zlib : chunks[c].data, chunks[c].len);
        if (c == 0) { put_be32(data, w); put_be32(data + 4, h); }
        put_be32(out + n, (uint32_t)chunks[c].len);
        memcpy(out + n + 4, chunks[c].type, 4);
        memcpy(out + n + 8, data, chunks[c].len);
        put_be32(out + n + 8 + chunks[c].len, crc32_update(0, out + n + 4, 4 + chunks[c].len));
        n += 12 + chunks[c].len;
    }
    return n;
}

static lv_status decode_dims(uint32_t w, uint32_t h)
{
    uint8_t buf[128];
    size_t n = png_header(buf, w, h);
    lv_image img = {0};
    lv_status s = lv_image_decode(&img, buf, n, "limits.png");
    lv_image_free(&img);
    return s;
}

static void test_image(void)
{
    CHECK(decode_dims(LV_IMAGE_MAX_SIDE + 1, 1) == LV_ERR_LIMIT, "side %d + 1", LV_IMAGE_MAX_SIDE);
    CHECK(decode_dims(1, LV_IMAGE_MAX_SIDE + 1) == LV_ERR_LIMIT, "height %d + 1", LV_IMAGE_MAX_SIDE);
    /* at the side limit the header passes; the empty IDAT then fails as corrupt data */
    CHECK(decode_dims(LV_IMAGE_MAX_SIDE, 1) == LV_ERR_IMAGE, "side at the limit");
    CHECK(strstr(lv_last_error(), "exceeds the limit") == NULL, "side at the limit: no limit error");
    uint32_t side = 8192;   /* 8192 x 8192 = LV_IMAGE_MAX_PIXELS */
    CHECK((long long)side * side == LV_IMAGE_MAX_PIXELS, "pixel limit is 8192^2");
    CHECK(decode_dims(side, side + 1) == LV_ERR_LIMIT, "pixels %lld + 8192", LV_IMAGE_MAX_PIXELS);
    CHECK(strstr(lv_last_error(), "67108864 pixels") != NULL, "pixel limit named");
    CHECK(decode_dims(side, side) == LV_ERR_IMAGE, "pixels at the limit");
    CHECK(decode_dims(0x7fffffff, 0x7fffffff) == LV_ERR_LIMIT, "largest PNG dimensions");

    /* pad mode's square canvas of the longer side counts against the pixel limit too */
    lv_config c;
    CHECK(lv_config_load(&c, fuzz_source("tests/fixtures/models/tiny-f16-pad/config.json")) == LV_OK, "pad config");
    CHECK(c.aspect == LV_ASPECT_PAD, "pad fixture");
    lv_view_geometry g;
    CHECK(lv_vision_geometry(&g, &c, (int)side, 1) == LV_OK, "pad canvas at the limit");
    CHECK(lv_vision_geometry(&g, &c, 1, (int)side + 1) == LV_ERR_LIMIT, "pad canvas over the limit");

    /* encoded size: a sparse file one byte over LV_IMAGE_MAX_BYTES is refused unread */
    const char *big = fuzz_write("big.png", "", 0);
    CHECK(truncate(big, LV_IMAGE_MAX_BYTES + 1) == 0, "sparse file");
    lv_image img = {0};
    CHECK(lv_image_load(&img, big) == LV_ERR_LIMIT, "file of %lld + 1 bytes", LV_IMAGE_MAX_BYTES);
    CHECK(strstr(lv_last_error(), "536870912 bytes") != NULL, "byte limit named");
    CHECK(truncate(big, LV_IMAGE_MAX_BYTES) == 0, "sparse file");
    CHECK(lv_image_load(&img, big) == LV_ERR_UNSUPPORTED, "file at the byte limit is read (zeros)");
    lv_image_free(&img);
    unlink(big);
}

static lv_status open_header(uint64_t hlen, size_t file_size)
{
    const char *path = fuzz_write("limits.safetensors", "", 0);
    FILE *f = fopen(path, "wb");
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(hlen >> (8 * i));
    fwrite(le, 1, 8, f);
    fputc('{', f);
    fclose(f);
    if (file_size && truncate(path, (off_t)file_size) != 0) return LV_ERR_INTERNAL;
    lv_weights *w = NULL;
    lv_status s = lv_weights_open(&w, path);
    lv_weights_free(w);
    return s;
}

static void test_safetensors(void)
{
    /* one byte over, really in the file (sparse): the limit; declared but absent: malformed */
    CHECK(open_header((uint64_t)LV_ST_MAX_HEADER + 1, 9 + (size_t)LV_ST_MAX_HEADER) == LV_ERR_LIMIT, "header %u + 1", LV_ST_MAX_HEADER);
    CHECK(strstr(lv_last_error(), "exceeds the 104857600-byte limit") != NULL, "header limit named");
    CHECK(open_header((uint64_t)LV_ST_MAX_HEADER + 1, 0) == LV_ERR_FORMAT, "header %u + 1 past the end", LV_ST_MAX_HEADER);
    CHECK(strstr(lv_last_error(), "runs past the end") != NULL, "lying header length named");
    CHECK(open_header(UINT64_MAX, 0) == LV_ERR_FORMAT, "header length 2^64 - 1");
    /* a header of exactly LV_ST_MAX_HEADER bytes (sparse zeros after '{') is parsed, and fails
     * as JSON, not on the limit */
    CHECK(open_header(LV_ST_MAX_HEADER, 8 + (size_t)LV_ST_MAX_HEADER) == LV_ERR_FORMAT, "header at the limit");
    CHECK(strstr(lv_last_error(), "-byte limit") == NULL, "header at the limit: no limit error");
    unlink(fuzz_path("limits.safetensors"));
}

static void test_jsonl_line(size_t max_line, size_t line_len, int expect_error)
{
    char *line = malloc(line_len + 2);
    static const char head[] = "{\"id\": \"a\", \"question\": \"";
    memset(line, 'x', line_len);
    memcpy(line, head, sizeof head - 1);
    memcpy(line + line_len - 2, "\"}", 2);
    line[line_len] = '\n';
    fuzz_write("limits/questions.jsonl", line, line_len + 1);
    free(line);
    lv_bench_params p = lv_bench_default_params();
    p.format = "native";
    p.max_line = max_line;
    lv_bench *b = NULL;
    lv_status s = lv_bench_load(&b, fuzz_path("limits"), &p);
    CHECK(s == LV_OK && b->n == 1, "jsonl line of %zu bytes loads", line_len);
    if (s == LV_OK && b->n == 1) {
        const char *e = b->samples[0].error;
        CHECK(expect_error ? e && strstr(e, "-byte limit") : !e,
              "line of %zu bytes with max_line %zu: error '%s'", line_len, max_line, e ? e : "");
    }
    lv_bench_free(b);
}

static void test_bench(void)
{
    test_jsonl_line(4096, 4096, 0);
    test_jsonl_line(4096, 4097, 1);
    /* the default, LV_BENCH_MAX_LINE (64 MiB), applies when max_line is 0 */
    test_jsonl_line(0, LV_BENCH_MAX_LINE + 1, 1);
    unlink(fuzz_path("limits/questions.jsonl"));
}

static void test_sequence(void)
{
    lv_diffusion_params p = lv_diffusion_default_params();
    p.mask_id = 1;
    p.vocab = 2;
    p.gen_length = p.block_length = p.steps = LV_MAX_SEQ_LEN;
    CHECK(lv_diffusion_validate(&p) == LV_OK, "gen_length at the limit");
    p.gen_length = p.block_length = p.steps = LV_MAX_SEQ_LEN + 1;
    CHECK(lv_diffusion_validate(&p) == LV_ERR_LIMIT, "gen_length %d + 1", LV_MAX_SEQ_LEN);
    int32_t suffix = 0;
    p.gen_length = p.block_length = p.steps = LV_MAX_SEQ_LEN;
    p.suffix = &suffix;
    p.n_suffix = 1;
    CHECK(lv_diffusion_validate(&p) == LV_ERR_LIMIT, "gen_length + suffix over the limit");
    p.gen_length = p.block_length = p.steps = 0x7fffffff;
    p.n_suffix = 0;
    CHECK(lv_diffusion_validate(&p) == LV_ERR_LIMIT, "gen_length INT_MAX");
}

int main(void)
{
    test_image();
    test_safetensors();
    test_bench();
    test_sequence();
    printf("limits: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
