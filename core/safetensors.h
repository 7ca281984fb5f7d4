/* safetensors.h - read-only mmap of safetensors files and sharded checkpoints, and a writer.
 *
 *   lv_weights *w = NULL;
 *   if (lv_weights_open(&w, "path/to/model_dir") != LV_OK)       // dir, file or index.json
 *       fprintf(stderr, "error: %s\n", lv_last_error());
 *   const lv_tensor *t = lv_weights_get(w, "model.norm.weight"); // borrowed, NULL if absent
 *   lv_tensor_to_f32(dst, t, 0, t->numel);                      // dst caller-allocated
 *   lv_weights_free(w);
 *
 * Everything in a file is validated before it is trusted (header length within the file and
 * under LV_ST_MAX_HEADER, well-formed JSON, known dtype, shape product x dtype size equal to the
 * byte range, ranges inside the data section, no overlaps, no duplicate names; for shards: every
 * shard named in the index exists and holds every tensor the index promises for it, and no
 * tensor appears in two shards). Each failure names the file and the tensor.
 */
#ifndef LV_SAFETENSORS_H
#define LV_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define LV_ST_MAX_DIMS   8
#define LV_ST_MAX_HEADER (100u << 20)   /* 100 MiB, the same cap as the reference Rust crate */

typedef enum {
    LV_DTYPE_F32,
    LV_DTYPE_F16,
    LV_DTYPE_BF16,
    LV_DTYPE_I32,     /* only in dump files (prompt_ids, response_ids); never a weight */
    LV_DTYPE_COUNT
} lv_dtype;

const char *lv_dtype_name(lv_dtype t);          /* "F32", "F16", "BF16", "I32" */
size_t      lv_dtype_size(lv_dtype t);          /* bytes per element */
int         lv_dtype_is_float(lv_dtype t);

typedef struct {
    const char *name;                 /* borrowed, valid until lv_weights_free */
    lv_dtype    dtype;
    int         ndim;
    int64_t     shape[LV_ST_MAX_DIMS];
    int64_t     numel;
    const void *data;                 /* borrowed: points into the read-only mmap */
    size_t      nbytes;
    int         file;                 /* index of the shard it lives in */
} lv_tensor;

typedef struct lv_weights lv_weights;  /* opaque: one file or a sharded set */

/* path: a .safetensors file, a model.safetensors.index.json, or a directory holding
 * model.safetensors or model.safetensors.index.json. */
lv_status        lv_weights_open(lv_weights **out, const char *path);
void             lv_weights_free(lv_weights *w);                     /* NULL-safe */
const lv_tensor *lv_weights_get(const lv_weights *w, const char *name); /* NULL if absent */
int              lv_weights_count(const lv_weights *w);
const lv_tensor *lv_weights_at(const lv_weights *w, int i);         /* sorted by name */
size_t           lv_weights_mapped_bytes(const lv_weights *w);      /* sum of file sizes */
int              lv_weights_n_files(const lv_weights *w);
const char      *lv_weights_file_path(const lv_weights *w, int file);
/* __metadata__ value of the first file holding one (dump files record parameters there). */
const char      *lv_weights_metadata(const lv_weights *w, const char *key);

/* Conversions (plain loops, exact: bf16/f16 widen exactly to f32). */
float lv_bf16_to_f32(uint16_t h);
float lv_f16_to_f32(uint16_t h);
uint16_t lv_f32_to_bf16(float f);             /* round to nearest even, NaN kept quiet */
uint16_t lv_f32_to_f16(float f);              /* round to nearest even */
/* dst[0..n) = f32 of elements [first, first+n) of t; t must be a float dtype (or I32). */
void lv_tensor_to_f32(float *dst, const lv_tensor *t, int64_t first, int64_t n);

/* ---- writer ---------------------------------------------------------------------------
 * Streaming: declare every tensor first, then begin() writes the header, then write() the
 * data of the tensors in declaration order in chunks of any size, then finish(). Output goes
 * to PATH.tmp and is renamed to PATH only when complete, so no partial file claims success.
 */
typedef struct lv_st_writer lv_st_writer;

lv_status lv_st_writer_init(lv_st_writer **out);
lv_status lv_st_writer_add(lv_st_writer *w, const char *name, lv_dtype dt, int ndim,
                           const int64_t *shape);
lv_status lv_st_writer_set_metadata(lv_st_writer *w, const char *key, const char *value);
size_t    lv_st_writer_data_bytes(const lv_st_writer *w);      /* total of declared tensors */
lv_status lv_st_writer_begin(lv_st_writer *w, const char *path);
lv_status lv_st_writer_write(lv_st_writer *w, const void *data, size_t nbytes);
lv_status lv_st_writer_finish(lv_st_writer *w);
void      lv_st_writer_free(lv_st_writer *w);                   /* NULL-safe; removes PATH.tmp */

/* Convenience: write n in-memory tensors (name, dtype, shape, data) in one call. */
lv_status lv_st_save(const char *path, const lv_tensor *tensors, int n);

/* ---- small text files (index.json, config.json, tokenizer files) ----------------------
 * Read a whole regular file into *out (malloc'd, NUL-terminated, free() it); LV_ERR_LIMIT
 * when it is larger than max_bytes, LV_ERR_IO when it cannot be read. */
lv_status lv_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len);

#endif
