/* safetensors.c - read-only mmap of safetensors files and sharded checkpoints, and a writer.
 *
 *   file:  [u64 LE header length N][N bytes JSON header, space padded][data section]
 *   header: {"__metadata__": {str: str}, "name": {"dtype": "BF16", "shape": [..],
 *            "data_offsets": [begin, end]}, ...}   offsets relative to the data section
 *   index:  model.safetensors.index.json {"weight_map": {"name": "model-0000K-of-0000N..."}}
 *
 * Mirrors what the reference Rust crate (safetensors::SafeTensors::deserialize) and
 * transformers' sharded loading check, stricter where a check is cheap: every header field is
 * validated before a pointer into the map is formed, so a hostile file can only produce an
 * error message. Nothing in the data section is read at open (an 8B bf16 checkpoint opens in
 * milliseconds and stays out of RSS until a loader touches its tensors).
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define LV_ST_MAX_INDEX (100u << 20)      /* index.json cap, as large as a header may be */
#define LV_ST_EXACT_INT 9007199254740992.0 /* 2^53: beyond it a JSON number is not exact */

/* ---- dtypes --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t size;
    int is_float;
} lv_dtype_table[LV_DTYPE_COUNT] = {
    [LV_DTYPE_F32] = {"F32", 4, 1},
    [LV_DTYPE_F16] = {"F16", 2, 1},
    [LV_DTYPE_BF16] = {"BF16", 2, 1},
    [LV_DTYPE_I32] = {"I32", 4, 0},
};

const char *lv_dtype_name(lv_dtype t)
{
    return (unsigned)t < LV_DTYPE_COUNT ? lv_dtype_table[t].name : "?";
}

size_t lv_dtype_size(lv_dtype t) { return (unsigned)t < LV_DTYPE_COUNT ? lv_dtype_table[t].size : 0; }

int lv_dtype_is_float(lv_dtype t)
{
    return (unsigned)t < LV_DTYPE_COUNT && lv_dtype_table[t].is_float;
}

static int lv_dtype_parse(const char *s, lv_dtype *out)
{
    for (int i = 0; i < LV_DTYPE_COUNT; i++)
        if (strcmp(s, lv_dtype_table[i].name) == 0) {
            *out = (lv_dtype)i;
            return 1;
        }
    return 0;
}

/* ---- conversions ---------------------------------------------------------------------- */

static uint32_t lv_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float lv_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float lv_bf16_to_f32(uint16_t h) { return lv_bits_f32((uint32_t)h << 16); }

float lv_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) return lv_bits_f32(sign | 0x7f800000u | (m << 13)); /* inf, NaN payload */
    if (e == 0) {
        /* zero or subnormal: m * 2^-24, exact in f32 */
        float v = (float)m * 0x1p-24f;
        return sign ? -v : v;
    }
    return lv_bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t lv_f32_to_bf16(float f)
{
    uint32_t u = lv_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1);                                             /* RNE */
    return (uint16_t)(u >> 16);
}

/* Round the low `shift` bits of m away, to nearest even. */
static uint32_t lv_round_shift(uint32_t m, int shift)
{
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return r + (rem > half || (rem == half && (r & 1)));
}

uint16_t lv_f32_to_f16(float f)
{
    uint32_t u = lv_f32_bits(f), sign = (u >> 16) & 0x8000, x = u & 0x7fffffffu;
    if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00 | ((x >> 13) & 0x3ff)); /* NaN */
    if (x >= 0x47800000u) return (uint16_t)(sign | 0x7c00);    /* >= 65536 (and inf): inf */
    if (x < 0x33000000u) return (uint16_t)sign;                /* <= 2^-25 rounds to zero */
    uint32_t e = x >> 23, m = x & 0x7fffff;
    if (e < 113) /* below 2^-14: f16 subnormal, units of 2^-24 */
        return (uint16_t)(sign | lv_round_shift(m | 0x800000, (int)(126 - e)));
    /* normal; a carry out of the mantissa bumps the exponent, up to inf (0x7c00) */
    return (uint16_t)(sign | lv_round_shift(((e - 112) << 23) | m, 13));
}

/* Tensor data need not be 2-byte aligned (header lengths are not always padded). */
static inline uint16_t lv_load_u16(const unsigned char *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

void lv_tensor_to_f32(float *dst, const lv_tensor *t, int64_t first, int64_t n)
{
    LV_ASSERT(first >= 0 && n >= 0 && first + n <= t->numel);
    const unsigned char *p = (const unsigned char *)t->data + (size_t)first * lv_dtype_size(t->dtype);
    switch (t->dtype) {
    case LV_DTYPE_F32:
        memcpy(dst, p, (size_t)n * 4);
        break;
    case LV_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = lv_bf16_to_f32(lv_load_u16(p + 2 * i));
        break;
    case LV_DTYPE_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = lv_f16_to_f32(lv_load_u16(p + 2 * i));
        break;
    case LV_DTYPE_I32:
        for (int64_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, p + 4 * i, 4);
            dst[i] = (float)v;
        }
        break;
    default:
        LV_ASSERT(!"unknown dtype");
    }
}

/* ---- reader --------------------------------------------------------------------------- */

typedef struct {
    char *path;
    void *map;          /* whole file, PROT_READ, MAP_PRIVATE */
    size_t size;
    int n_meta;
    char **meta;        /* [2 * n_meta] key, value */
} lv_st_file;

struct lv_weights {
    lv_st_file *files;  /* [n_files] */
    int n_files;
    lv_tensor *tensors; /* [n] sorted by name; names owned (malloc'd) */
    int n;
    size_t mapped;
};

static char *lv_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static lv_status lv_nomem(const char *what)
{
    return lv_fail(LV_ERR_NOMEM, "out of memory while loading %s", what);
}

static int lv_tensor_cmp_name(const void *a, const void *b)
{
    return strcmp(((const lv_tensor *)a)->name, ((const lv_tensor *)b)->name);
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int lv_json_uint(const cJSON *j, int64_t *out)
{
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0) || d >= LV_ST_EXACT_INT || floor(d) != d) return 0;
    *out = (int64_t)d;
    return 1;
}

typedef struct {
    int64_t begin, end;
    int idx;
} lv_range;

static int lv_range_cmp(const void *a, const void *b)
{
    const lv_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static lv_status lv_parse_metadata(lv_st_file *f, const cJSON *m)
{
    if (!cJSON_IsObject(m))
        return lv_fail(LV_ERR_FORMAT, "%s: __metadata__ is not an object of strings", f->path);
    int n = cJSON_GetArraySize(m);
    f->meta = calloc((size_t)(2 * n + 1), sizeof *f->meta);
    if (!f->meta) return lv_nomem(f->path);
    for (const cJSON *e = m->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return lv_fail(LV_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string",
                           f->path, e->string);
        f->meta[2 * f->n_meta] = lv_strdup(e->string);
        f->meta[2 * f->n_meta + 1] = lv_strdup(e->valuestring);
        f->n_meta++;
        if (!f->meta[2 * f->n_meta - 2] || !f->meta[2 * f->n_meta - 1]) return lv_nomem(f->path);
    }
    return LV_OK;
}

/* Validate one header entry and fill *t (name set by the caller). */
static lv_status lv_parse_entry(const lv_st_file *f, const cJSON *e, size_t data_size,
                                lv_tensor *t, lv_range *r)
{
    const char *path = f->path, *name = e->string;
    if (!cJSON_IsObject(e))
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!dt) return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': missing dtype", path, name);
    if (!cJSON_IsString(dt))
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", path, name);
    if (!lv_dtype_parse(dt->valuestring, &t->dtype))
        return lv_fail(LV_ERR_DTYPE, "%s: tensor '%s': unsupported dtype %s (BF16, F16, F32, I32 "
                       "are supported)", path, name, dt->valuestring);
    if (!sh) return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': missing shape", path, name);
    if (!cJSON_IsArray(sh))
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': shape is not an array", path, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > LV_ST_MAX_DIMS)
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': %d dims, at most %d are supported", path,
                       name, nd, LV_ST_MAX_DIMS);
    t->ndim = nd;
    /* numel capped at 2^60 so numel x dtype size cannot overflow */
    int64_t numel = 1, cap = (int64_t)1 << 60;
    int zero = 0, i = 0;
    for (const cJSON *d = sh->child; d; d = d->next, i++) {
        if (!lv_json_uint(d, &t->shape[i]))
            return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative "
                           "integer", path, name, i);
        if (t->shape[i] == 0) zero = 1;
        else if (!zero && numel > cap / t->shape[i]) numel = cap + 1;
        else if (!zero) numel *= t->shape[i];
    }
    if (zero) numel = 0;
    t->numel = numel;
    if (!off) return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': missing data_offsets", path, name);
    int64_t b, en;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !lv_json_uint(off->child, &b) ||
        !lv_json_uint(off->child->next, &en))
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': data_offsets is not a pair of "
                       "non-negative integers", path, name);
    if (b > en)
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] begin after "
                       "end", path, name, (long long)b, (long long)en);
    char shp[LV_ST_MAX_DIMS * 22 + 3];
    size_t k = 0;
    shp[k++] = '[';
    for (int j = 0; j < nd; j++)
        k += (size_t)snprintf(shp + k, sizeof shp - k, "%s%lld", j ? ", " : "",
                              (long long)t->shape[j]);
    snprintf(shp + k, sizeof shp - k, "]");
    int64_t dsz = (int64_t)lv_dtype_size(t->dtype);
    if (numel > cap / dsz)
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': shape %s x %s is larger than the data "
                       "section (%zu bytes)", path, name, shp, dt->valuestring, data_size);
    if (numel * dsz != en - b)
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': shape %s x %s needs %lld bytes, "
                       "data_offsets give %lld", path, name, shp, dt->valuestring,
                       (long long)(numel * dsz), (long long)(en - b));
    if ((uint64_t)en > data_size)
        return lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] outside the "
                       "data section of %zu bytes (file truncated?)", path, name, (long long)b,
                       (long long)en, data_size);
    t->nbytes = (size_t)(en - b);
    r->begin = b;
    r->end = en;
    return LV_OK;
}

static void lv_file_close(lv_st_file *f)
{
    if (f->map) munmap(f->map, f->size);
    for (int i = 0; i < 2 * f->n_meta; i++) free(f->meta[i]);
    free(f->meta);
    free(f->path);
    memset(f, 0, sizeof *f);
}

/* Map f->path and parse its header; appends its tensors (unsorted) to *ts / *nt. */
static lv_status lv_file_open(lv_st_file *f, int file_idx, lv_tensor **ts, int *nt)
{
    const char *path = f->path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lv_fail(LV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lv_fail(LV_ERR_IO, "%s: not a regular file", path);
    }
    f->size = (size_t)st.st_size;
    if (f->size < 8) {
        close(fd);
        return lv_fail(LV_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header "
                       "length", path, f->size);
    }
    void *map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return lv_fail(LV_ERR_IO, "%s: cannot mmap: %s", path, strerror(errno));
    f->map = map;
#ifdef MADV_DONTDUMP
    madvise(map, f->size, MADV_DONTDUMP); /* a crash dump need not hold 16 GB of weights */
#endif
    const unsigned char *p = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | p[i];
    if (hlen > f->size - 8)   /* a lying length first: that is a malformed file */
        return lv_fail(LV_ERR_FORMAT, "%s: header length %llu runs past the end of the file "
                       "(%zu bytes)", path, (unsigned long long)hlen, f->size);
    if (hlen > LV_ST_MAX_HEADER)   /* a header that is really there, but too large to parse */
        return lv_fail(LV_ERR_LIMIT, "%s: header length %llu exceeds the %u-byte limit", path,
                       (unsigned long long)hlen, LV_ST_MAX_HEADER);
    if (hlen < 2 || p[8] != '{')
        return lv_fail(LV_ERR_FORMAT, "%s: header is not a JSON object", path);
    const char *hdr = (const char *)p + 8, *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!root) return lv_fail(LV_ERR_FORMAT, "%s: header is not valid JSON (near byte %lld)", path,
                              end ? (long long)(end - hdr) : -1LL);
    for (; end && end < hdr + hlen; end++)
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(root);
            return lv_fail(LV_ERR_FORMAT, "%s: header has trailing bytes after the JSON object "
                           "(at byte %lld)", path, (long long)(end - hdr));
        }
    size_t data_size = f->size - 8 - (size_t)hlen;
    const unsigned char *data = p + 8 + hlen;
    int n = cJSON_GetArraySize(root), first = *nt, n_meta_seen = 0;
    lv_status s = LV_OK;
    lv_range *ranges = malloc((size_t)(n + 1) * sizeof *ranges);
    lv_tensor *grown = realloc(*ts, (size_t)(first + n + 1) * sizeof **ts);
    if (!ranges || !grown) {
        free(ranges);
        if (grown) *ts = grown;
        cJSON_Delete(root);
        return lv_nomem(path);
    }
    *ts = grown;
    int nr = 0;
    for (const cJSON *e = root->child; e && s == LV_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (n_meta_seen++) s = lv_fail(LV_ERR_FORMAT, "%s: duplicate __metadata__", path);
            else s = lv_parse_metadata(f, e);
            continue;
        }
        lv_tensor *t = &(*ts)[*nt];
        memset(t, 0, sizeof *t);
        s = lv_parse_entry(f, e, data_size, t, &ranges[nr]);
        if (s != LV_OK) break;
        t->name = lv_strdup(e->string);
        if (!t->name) {
            s = lv_nomem(path);
            break;
        }
        t->file = file_idx;
        t->data = data + ranges[nr].begin;
        ranges[nr].idx = *nt;
        nr++;
        (*nt)++;
    }
    cJSON_Delete(root);
    /* duplicate names: cJSON keeps both keys, so compare neighbours after sorting */
    if (s == LV_OK) {
        qsort(*ts + first, (size_t)(*nt - first), sizeof **ts, lv_tensor_cmp_name);
        for (int i = first + 1; i < *nt && s == LV_OK; i++)
            if (strcmp((*ts)[i - 1].name, (*ts)[i].name) == 0)
                s = lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': duplicate name in the header", path,
                            (*ts)[i].name);
    }
    /* overlaps: sort byte ranges, empty tensors overlap nothing */
    if (s == LV_OK) {
        for (int i = first; i < *nt; i++) {
            ranges[i - first].begin = (const unsigned char *)(*ts)[i].data - data;
            ranges[i - first].end = ranges[i - first].begin + (int64_t)(*ts)[i].nbytes;
            ranges[i - first].idx = i;
        }
        qsort(ranges, (size_t)nr, sizeof *ranges, lv_range_cmp);
        int64_t max_end = 0;
        int owner = -1;
        for (int i = 0; i < nr && s == LV_OK; i++) {
            if (ranges[i].begin == ranges[i].end) continue;
            if (owner >= 0 && ranges[i].begin < max_end)
                s = lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': bytes [%lld, %lld) overlap tensor "
                            "'%s'", path, (*ts)[ranges[i].idx].name, (long long)ranges[i].begin,
                            (long long)ranges[i].end, (*ts)[owner].name);
            if (ranges[i].end > max_end) {
                max_end = ranges[i].end;
                owner = ranges[i].idx;
            }
        }
    }
    free(ranges);
    return s;
}

void lv_weights_free(lv_weights *w)
{
    if (!w) return;
    for (int i = 0; i < w->n; i++) free((char *)w->tensors[i].name);
    free(w->tensors);
    for (int i = 0; i < w->n_files; i++) lv_file_close(&w->files[i]);
    free(w->files);
    free(w);
}

static lv_status lv_add_file(lv_weights *w, const char *path)
{
    lv_st_file *g = realloc(w->files, (size_t)(w->n_files + 1) * sizeof *g);
    if (!g) return lv_nomem(path);
    w->files = g;
    lv_st_file *f = &w->files[w->n_files];
    memset(f, 0, sizeof *f);
    f->path = lv_strdup(path);
    if (!f->path) return lv_nomem(path);
    w->n_files++;
    LV_TRY(lv_file_open(f, w->n_files - 1, &w->tensors, &w->n));
    w->mapped += f->size;
    return LV_OK;
}

static char *lv_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    s[a] = '/';
    memcpy(s + a + 1, name, b + 1);
    return s;
}

lv_status lv_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return lv_fail(LV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return lv_fail(LV_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(fp);
        return lv_fail(LV_ERR_LIMIT, "%s: %lld bytes, larger than the %zu-byte limit", path,
                       (long long)st.st_size, max_bytes);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(fp);
        return lv_nomem(path);
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, fp);
    int err = ferror(fp);
    fclose(fp);
    if (err || n != (size_t)st.st_size) {
        free(buf);
        return lv_fail(LV_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return LV_OK;
}

/* Shard names come from an untrusted file: a plain name inside the index's directory. */
static int lv_shard_name_ok(const char *s)
{
    return *s && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

typedef struct {
    const char *tensor, *shard;
} lv_map_entry;

static int lv_map_cmp(const void *a, const void *b)
{
    return strcmp(((const lv_map_entry *)a)->tensor, ((const lv_map_entry *)b)->tensor);
}

static int lv_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static lv_status lv_open_index(lv_weights *w, const char *path)
{
    char *text = NULL, *dir = NULL;
    size_t len = 0;
    LV_TRY(lv_read_text_file(path, LV_ST_MAX_INDEX, &text, &len));
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    lv_status s = LV_OK;
    lv_map_entry *map = NULL;
    const char **shards = NULL;
    int n_map = 0, n_shards = 0;
    const cJSON *wm = NULL;
    if (!root) {
        s = lv_fail(LV_ERR_FORMAT, "%s: not valid JSON", path);
        goto done;
    }
    wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(root) || !wm) {
        s = lv_fail(LV_ERR_FORMAT, "%s: no weight_map object", path);
        goto done;
    }
    if (!cJSON_IsObject(wm)) {
        s = lv_fail(LV_ERR_FORMAT, "%s: weight_map is not an object", path);
        goto done;
    }
    int n = cJSON_GetArraySize(wm);
    if (n == 0) {   /* no shard would be opened: nothing to map, sort or search */
        s = lv_fail(LV_ERR_FORMAT, "%s: weight_map is empty", path);
        goto done;
    }
    map = malloc((size_t)(n + 1) * sizeof *map);
    shards = malloc((size_t)(n + 1) * sizeof *shards);
    if (!map || !shards) {
        s = lv_nomem(path);
        goto done;
    }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            s = lv_fail(LV_ERR_FORMAT, "%s: weight_map entry '%s' is not a string", path, e->string);
            goto done;
        }
        if (!lv_shard_name_ok(e->valuestring)) {
            s = lv_fail(LV_ERR_FORMAT, "%s: tensor '%s': shard name '%s' is not a plain file name "
                        "in the index directory", path, e->string, e->valuestring);
            goto done;
        }
        map[n_map].tensor = e->string;
        map[n_map++].shard = e->valuestring;
        int k = 0;
        while (k < n_shards && strcmp(shards[k], e->valuestring) != 0) k++;
        if (k == n_shards) shards[n_shards++] = e->valuestring;
    }
    qsort(map, (size_t)n_map, sizeof *map, lv_map_cmp);
    qsort(shards, (size_t)n_shards, sizeof *shards, lv_str_cmp); /* file index = shard order */
    for (int i = 1; i < n_map; i++)
        if (strcmp(map[i - 1].tensor, map[i].tensor) == 0) {
            s = lv_fail(LV_ERR_FORMAT, "%s: tensor '%s' listed twice in weight_map", path,
                        map[i].tensor);
            goto done;
        }
    const char *slash = strrchr(path, '/');
    dir = slash ? malloc((size_t)(slash - path) + 1) : lv_strdup(".");
    if (!dir) {
        s = lv_nomem(path);
        goto done;
    }
    if (slash) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
        if (!dir[0]) strcpy(dir, "/");
    }
    for (int k = 0; k < n_shards && s == LV_OK; k++) {
        char *sp = lv_join(dir, shards[k]);
        if (!sp) {
            s = lv_nomem(path);
            break;
        }
        int before = w->n;
        s = lv_add_file(w, sp);
        free(sp);
        if (s == LV_ERR_IO) {
            char why[512];
            snprintf(why, sizeof why, "%s", lv_last_error());
            s = lv_fail(LV_ERR_IO, "%s: shard '%s' named in the index cannot be opened (%s)",
                        path, shards[k], why);
        }
        /* every tensor of this shard must be mapped to it by the index */
        for (int i = before; i < w->n && s == LV_OK; i++) {
            lv_map_entry key = {w->tensors[i].name, NULL};
            const lv_map_entry *m = bsearch(&key, map, (size_t)n_map, sizeof *map, lv_map_cmp);
            if (!m)
                s = lv_fail(LV_ERR_FORMAT, "%s: tensor '%s' is not listed in the index %s",
                            w->files[k].path, w->tensors[i].name, path);
            else if (strcmp(m->shard, shards[k]) != 0)
                s = lv_fail(LV_ERR_FORMAT, "%s: tensor '%s' is in this shard but the index maps "
                            "it to %s", w->files[k].path, w->tensors[i].name, m->shard);
        }
    }
    if (s != LV_OK) goto done;
    /* each shard holds only tensors the index maps to it, and the index maps a name to one
     * shard, so no tensor can be in two shards; what is left is a promised tensor missing */
    qsort(w->tensors, (size_t)w->n, sizeof *w->tensors, lv_tensor_cmp_name);
    for (int i = 0; i < n_map; i++) {
        lv_tensor key = {.name = map[i].tensor};
        if (!bsearch(&key, w->tensors, (size_t)w->n, sizeof key, lv_tensor_cmp_name)) {
            s = lv_fail(LV_ERR_FORMAT, "%s/%s: tensor '%s' promised by the index is missing",
                        dir, map[i].shard, map[i].tensor);
            goto done;
        }
    }
done:
    free(dir);
    free(map);
    free(shards);
    cJSON_Delete(root);
    return s;
}

static int lv_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int lv_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static lv_status lv_weights_open_path(lv_weights *w, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return lv_fail(LV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char *single = lv_join(path, "model.safetensors");
        char *index = lv_join(path, "model.safetensors.index.json");
        lv_status s;
        if (!single || !index) s = lv_nomem(path);
        else if (lv_is_file(single)) s = lv_add_file(w, single);
        else if (lv_is_file(index)) s = lv_open_index(w, index);
        else s = lv_fail(LV_ERR_IO, "%s: directory holds neither model.safetensors nor "
                         "model.safetensors.index.json", path);
        free(single);
        free(index);
        return s;
    }
    if (lv_ends_with(path, ".json")) return lv_open_index(w, path);
    LV_TRY(lv_add_file(w, path));
    qsort(w->tensors, (size_t)w->n, sizeof *w->tensors, lv_tensor_cmp_name);
    return LV_OK;
}

lv_status lv_weights_open(lv_weights **out, const char *path)
{
    *out = NULL;
    lv_weights *w = calloc(1, sizeof *w);
    if (!w) return lv_nomem(path);
    lv_status s = lv_weights_open_path(w, path);
    if (s != LV_OK) {
        lv_weights_free(w);
        return s;
    }
    *out = w;
    return LV_OK;
}

const lv_tensor *lv_weights_get(const lv_weights *w, const char *name)
{
    if (!w || !name) return NULL;
    lv_tensor key = {.name = name};
    return bsearch(&key, w->tensors, (size_t)w->n, sizeof key, lv_tensor_cmp_name);
}

int lv_weights_count(const lv_weights *w) { return w ? w->n : 0; }

const lv_tensor *lv_weights_at(const lv_weights *w, int i)
{
    return w && i >= 0 && i < w->n ? &w->tensors[i] : NULL;
}

size_t lv_weights_mapped_bytes(const lv_weights *w) { return w ? w->mapped : 0; }

int lv_weights_n_files(const lv_weights *w) { return w ? w->n_files : 0; }

const char *lv_weights_file_path(const lv_weights *w, int file)
{
    return w && file >= 0 && file < w->n_files ? w->files[file].path : NULL;
}

const char *lv_weights_metadata(const lv_weights *w, const char *key)
{
    if (!w || !key) return NULL;
    for (int f = 0; f < w->n_files; f++)
        for (int i = 0; i < w->files[f].n_meta; i++)
            if (strcmp(w->files[f].meta[2 * i], key) == 0) return w->files[f].meta[2 * i + 1];
    return NULL;
}

/* ---- writer --------------------------------------------------------------------------- */

typedef struct {
    char *name;
    lv_dtype dtype;
    int ndim;
    int64_t shape[LV_ST_MAX_DIMS];
    size_t nbytes;
} lv_st_decl;

struct lv_st_writer {
    lv_st_decl *decl;    /* [n] in declaration (= file) order */
    int n, cap;
    char **meta;         /* [2 * n_meta] key, value */
    int n_meta;
    size_t total;        /* sum of nbytes */
    size_t written;
    char *path, *tmp;
    FILE *fp;
    int done;
};

lv_status lv_st_writer_init(lv_st_writer **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? LV_OK : lv_fail(LV_ERR_NOMEM, "out of memory creating a safetensors writer");
}

lv_status lv_st_writer_add(lv_st_writer *w, const char *name, lv_dtype dt, int ndim,
                           const int64_t *shape)
{
    if (w->fp || w->done)
        return lv_fail(LV_ERR_ARG, "safetensors writer: tensor '%s' declared after begin", name);
    if (!name[0] || strcmp(name, "__metadata__") == 0)
        return lv_fail(LV_ERR_ARG, "safetensors writer: invalid tensor name '%s'", name);
    if ((unsigned)dt >= LV_DTYPE_COUNT || ndim < 0 || ndim > LV_ST_MAX_DIMS)
        return lv_fail(LV_ERR_ARG, "safetensors writer: tensor '%s': bad dtype or ndim %d", name,
                       ndim);
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->decl[i].name, name) == 0)
            return lv_fail(LV_ERR_ARG, "safetensors writer: tensor '%s' declared twice", name);
    size_t nb = lv_dtype_size(dt);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && nb > SIZE_MAX / 2 / (size_t)shape[i]))
            return lv_fail(LV_ERR_ARG, "safetensors writer: tensor '%s': bad dim %lld", name,
                           (long long)shape[i]);
        nb *= (size_t)shape[i];
    }
    if (w->total > SIZE_MAX / 2 - nb)
        return lv_fail(LV_ERR_ARG, "safetensors writer: tensor '%s': file too large", name);
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        lv_st_decl *d = realloc(w->decl, (size_t)cap * sizeof *d);
        if (!d) return lv_fail(LV_ERR_NOMEM, "out of memory declaring tensor '%s'", name);
        w->decl = d;
        w->cap = cap;
    }
    lv_st_decl *d = &w->decl[w->n];
    memset(d, 0, sizeof *d);
    d->name = lv_strdup(name);
    if (!d->name) return lv_fail(LV_ERR_NOMEM, "out of memory declaring tensor '%s'", name);
    d->dtype = dt;
    d->ndim = ndim;
    if (ndim) memcpy(d->shape, shape, (size_t)ndim * sizeof *shape);
    d->nbytes = nb;
    w->total += nb;
    w->n++;
    return LV_OK;
}

lv_status lv_st_writer_set_metadata(lv_st_writer *w, const char *key, const char *value)
{
    if (w->fp || w->done)
        return lv_fail(LV_ERR_ARG, "safetensors writer: metadata '%s' set after begin", key);
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[2 * i], key) == 0) {
            char *v = lv_strdup(value);
            if (!v) return lv_fail(LV_ERR_NOMEM, "out of memory setting metadata '%s'", key);
            free(w->meta[2 * i + 1]);
            w->meta[2 * i + 1] = v;
            return LV_OK;
        }
    char **m = realloc(w->meta, (size_t)(2 * w->n_meta + 2) * sizeof *m);
    if (!m) return lv_fail(LV_ERR_NOMEM, "out of memory setting metadata '%s'", key);
    w->meta = m;
    m[2 * w->n_meta] = lv_strdup(key);
    m[2 * w->n_meta + 1] = lv_strdup(value);
    w->n_meta++;
    if (!m[2 * w->n_meta - 2] || !m[2 * w->n_meta - 1])
        return lv_fail(LV_ERR_NOMEM, "out of memory setting metadata '%s'", key);
    return LV_OK;
}

size_t lv_st_writer_data_bytes(const lv_st_writer *w) { return w->total; }

/* A growable string for the header. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} lv_sbuf;

static void lv_sb_put(lv_sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *g = realloc(b->s, cap);
        if (!g) {
            b->oom = 1;
            return;
        }
        b->s = g;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void lv_sb_str(lv_sbuf *b, const char *s) { lv_sb_put(b, s, strlen(s)); }

static void lv_sb_fmt(lv_sbuf *b, const char *fmt, long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    lv_sb_put(b, tmp, (size_t)n);
}

/* JSON string literal: quotes, backslash and control bytes escaped, UTF-8 passed through. */
static void lv_sb_json(lv_sbuf *b, const char *s)
{
    lv_sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            lv_sb_put(b, e, 2);
        } else if (c < 0x20) {
            lv_sb_fmt(b, "\\u%04llx", c);
        } else {
            lv_sb_put(b, (const char *)&c, 1);
        }
    }
    lv_sb_put(b, "\"", 1);
}

lv_status lv_st_writer_begin(lv_st_writer *w, const char *path)
{
    if (w->fp || w->done) return lv_fail(LV_ERR_ARG, "safetensors writer: begin called twice");
    lv_sbuf b = {0};
    lv_sb_str(&b, "{");
    if (w->n_meta) {
        lv_sb_str(&b, "\"__metadata__\":{");
        for (int i = 0; i < w->n_meta; i++) {
            if (i) lv_sb_str(&b, ",");
            lv_sb_json(&b, w->meta[2 * i]);
            lv_sb_str(&b, ":");
            lv_sb_json(&b, w->meta[2 * i + 1]);
        }
        lv_sb_str(&b, "}");
    }
    size_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const lv_st_decl *d = &w->decl[i];
        if (i || w->n_meta) lv_sb_str(&b, ",");
        lv_sb_json(&b, d->name);
        lv_sb_str(&b, ":{\"dtype\":\"");
        lv_sb_str(&b, lv_dtype_name(d->dtype));
        lv_sb_str(&b, "\",\"shape\":[");
        for (int j = 0; j < d->ndim; j++) lv_sb_fmt(&b, j ? ",%lld" : "%lld", d->shape[j]);
        lv_sb_fmt(&b, "],\"data_offsets\":[%lld,", (long long)off);
        off += d->nbytes;
        lv_sb_fmt(&b, "%lld]}", (long long)off);
    }
    lv_sb_str(&b, "}");
    while (!b.oom && b.n % 8) lv_sb_str(&b, " "); /* data section starts 8-byte aligned */
    if (b.oom) {
        free(b.s);
        return lv_fail(LV_ERR_NOMEM, "%s: out of memory building the header", path);
    }
    if (b.n > LV_ST_MAX_HEADER) {
        free(b.s);
        return lv_fail(LV_ERR_LIMIT, "%s: header of %zu bytes exceeds the %u-byte limit", path,
                       b.n, LV_ST_MAX_HEADER);
    }
    w->path = lv_strdup(path);
    w->tmp = malloc(strlen(path) + 5);
    if (!w->path || !w->tmp) {
        free(b.s);
        return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    }
    sprintf(w->tmp, "%s.tmp", path);
    w->fp = fopen(w->tmp, "wb");
    if (!w->fp) {
        free(b.s);
        return lv_fail(LV_ERR_IO, "%s: cannot create: %s", w->tmp, strerror(errno));
    }
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)b.n >> (8 * i));
    int ok = fwrite(len, 1, 8, w->fp) == 8 && fwrite(b.s, 1, b.n, w->fp) == b.n;
    free(b.s);
    if (!ok) return lv_fail(LV_ERR_IO, "%s: write error: %s", w->tmp, strerror(errno));
    return LV_OK;
}

lv_status lv_st_writer_write(lv_st_writer *w, const void *data, size_t nbytes)
{
    if (!w->fp) return lv_fail(LV_ERR_ARG, "safetensors writer: write before begin");
    if (nbytes > w->total - w->written)
        return lv_fail(LV_ERR_ARG, "%s: writing %zu bytes past the %zu declared", w->tmp,
                       w->written + nbytes - w->total, w->total);
    if (nbytes && fwrite(data, 1, nbytes, w->fp) != nbytes)
        return lv_fail(LV_ERR_IO, "%s: write error: %s", w->tmp, strerror(errno));
    w->written += nbytes;
    return LV_OK;
}

lv_status lv_st_writer_finish(lv_st_writer *w)
{
    if (!w->fp) return lv_fail(LV_ERR_ARG, "safetensors writer: finish before begin");
    if (w->written != w->total)
        return lv_fail(LV_ERR_ARG, "%s: %zu of %zu declared data bytes written", w->tmp,
                       w->written, w->total);
    /* on disk before the rename publishes it: after a crash the final name holds either
     * nothing or the whole file, never a file whose tail the kernel had not written yet */
    int err = fflush(w->fp) != 0 || ferror(w->fp) || fsync(fileno(w->fp)) != 0;
    err |= fclose(w->fp) != 0;
    w->fp = NULL;
    if (err) return lv_fail(LV_ERR_IO, "%s: write error: %s", w->tmp, strerror(errno));
    if (rename(w->tmp, w->path) != 0)
        return lv_fail(LV_ERR_IO, "%s: cannot rename to %s: %s", w->tmp, w->path, strerror(errno));
    w->done = 1;
    return LV_OK;
}

void lv_st_writer_free(lv_st_writer *w)
{
    if (!w) return;
    if (w->fp) fclose(w->fp);
    if (w->tmp && !w->done) unlink(w->tmp);
    for (int i = 0; i < w->n; i++) free(w->decl[i].name);
    free(w->decl);
    for (int i = 0; i < 2 * w->n_meta; i++) free(w->meta[i]);
    free(w->meta);
    free(w->path);
    free(w->tmp);
    free(w);
}

lv_status lv_st_save(const char *path, const lv_tensor *tensors, int n)
{
    lv_st_writer *w = NULL;
    LV_TRY(lv_st_writer_init(&w));
    lv_status s = LV_OK;
    for (int i = 0; i < n && s == LV_OK; i++)
        s = lv_st_writer_add(w, tensors[i].name, tensors[i].dtype, tensors[i].ndim,
                             tensors[i].shape);
    if (s == LV_OK) s = lv_st_writer_begin(w, path);
    for (int i = 0; i < n && s == LV_OK; i++)
        s = lv_st_writer_write(w, tensors[i].data, w->decl[i].nbytes);
    if (s == LV_OK) s = lv_st_writer_finish(w);
    lv_st_writer_free(w);
    return s;
}
