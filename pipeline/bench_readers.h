/* bench_readers.h - private to pipeline/: benchmark files -> one in-memory list of samples
 * (docs: /work/shared/spec/benchmarks.md §1 layouts, §3 native format).
 *
 *   lv_bench *b = NULL;
 *   lv_bench_params p = lv_bench_default_params();      // format "auto"
 *   if (lv_bench_load(&b, "bench/mme", &p) != LV_OK) fprintf(stderr, "%s\n", lv_last_error());
 *   for (int i = 0; i < b->n; i++) {
 *       const lv_sample *s = &b->samples[i];
 *       if (s->error) { ... one-line reason, the run goes on ... }
 *       char *prompt = lv_bench_prompt(b, s);            // template of s->type, free()
 *   }
 *   lv_bench_free(b);
 *
 * Formats: native folder (questions.jsonl + optional benchmark.json) and LLaVA question jsonl
 * (aliases question_id/text/label); MME release folder (split and flat layouts) and MME
 * eval_tool result txt folders; POPE coco_pope_*.json (JSON lines) files or a folder of them;
 * VQAv2 questions + annotations; TextVQA, DocVQA/InfoVQA, ChartQA, GQA and SEED-Bench json;
 * ScienceQA folders (problems.json + pid_splits.json, IMG subset); a folder of images (batch);
 * COCO caption annotations and Karpathy dataset_coco.json; MMBench TSV (quoted, base64 images,
 * index references, nan, circular).
 *
 * Robustness: a bad line or row becomes a sample with `error` set (id = its id, or
 * "line:N"), never a failed load; lv_bench_load fails only when the file itself cannot be read
 * or has the wrong shape. Image paths must be relative and may not contain ".." components
 * (checked lexically; symlinks are trusted). Lines (TSV rows) longer than max_line bytes
 * (default LV_BENCH_MAX_LINE = 64 MiB, room for base64 images) are error records.
 */
#ifndef LV_BENCH_READERS_H
#define LV_BENCH_READERS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core.h"
#include "metrics.h"

#define LV_BENCH_MAX_LINE ((size_t)64 << 20)

typedef enum { LV_QTYPE_YESNO, LV_QTYPE_MC, LV_QTYPE_OPEN, LV_QTYPE_CAPTION, LV_QTYPE_FREE, LV_QTYPE_COUNT } lv_qtype;

typedef enum {
    LV_METRIC_DEFAULT,      /* by type: yesno, mc, open -> vqa (>= 3 golds) or exact, caption */
    LV_METRIC_YESNO, LV_METRIC_MC, LV_METRIC_EXACT, LV_METRIC_VQA, LV_METRIC_RELAXED,
    LV_METRIC_ANLS, LV_METRIC_MMMU_OPEN, LV_METRIC_CAPTION, LV_METRIC_NONE, LV_METRIC_COUNT
} lv_metric;

typedef enum { LV_MCRULE_CAN_INFER, LV_MCRULE_MMMU, LV_MCRULE_COUNT } lv_mc_rule;

typedef struct {
    char          *id;            /* unique key for resume, joins and reports */
    int            line;          /* 1-based line / TSV row of the source file, 0 if none */
    char          *error;         /* NULL, or why this sample could not be read */
    char         **images;        /* [n_images] paths joined to the image root */
    int            n_images;
    unsigned char *image_bytes;   /* [n_image_bytes] an embedded image (MMBench base64), or NULL */
    size_t         n_image_bytes;
    char          *question, *hint, *prompt;        /* prompt: full user text, bypasses templates */
    char          *category, *subcategory, *group;  /* NULL when absent */
    lv_qtype       type;
    lv_metric      metric;
    char         **golds;         /* [n_golds] answer(s); an mc gold is a letter */
    int            n_golds;
    char         **choices;       /* [n_choices] mc options, rendered "A. ..." in order */
    int            n_choices;
    char          *meta;          /* serialized JSON object copied into predictions, or NULL */
    char          *sampler;       /* serialized JSON object of the line's sampler overrides
                                     (LV_BENCH_SAMPLER_KEYS), or NULL; `vqa` applies them */
    int            id_is_number;  /* the id was a JSON number (echoed as one by `vqa`) */
    int            id_missing;    /* an error record whose line had no id: id is "line:N" */
    char          *output;        /* a response the file already holds (MME eval_tool txt) */
} lv_sample;

typedef struct {
    int    gen_length, block_length, steps;
    double temperature;
    char   stop[16];             /* stop string ("" = none) */
} lv_bench_gen;

typedef struct {
    const char *format;       /* NULL or "auto", "native", "mme", "mme_txt", "pope", "vqav2",
                                 "textvqa", "docvqa", "chartqa", "gqa", "seed", "scienceqa",
                                 "coco", "karpathy", "mmbench" */
    const char *image_root;   /* folder of images named by the file (POPE, VQA, COCO, ...) */
    const char *annotations;  /* VQAv2 annotation json (default: a sibling *annotations*.json) */
    const char *split;        /* Karpathy / ScienceQA split to read (default "test") */
    size_t      max_line;     /* 0 = LV_BENCH_MAX_LINE */
    int         any_path;     /* native/LLaVA jsonl: also absolute image paths and ".." (a
                                 user's own request list, `vqa`), not only paths inside */
} lv_bench_params;

/* Per-line sampler settings a questions line may carry (native format, read into
 * lv_sample.sampler): the names of the `generate` flags with '_' for '-'. */
#define LV_BENCH_SAMPLER_KEYS {"gen_length", "steps", "block_length", "temperature", "cfg", "remasking", \
                               "seed", "mode", "cache", "dllm_cache", "cache_refresh", "threshold", "factor"}
#define LV_BENCH_N_SAMPLER_KEYS 13

typedef struct {
    char        *name, *format, *path, *root;  /* root: folder that image paths are under */
    char        *source;                       /* the questions file read (messages), or NULL */
    lv_sample   *samples;                      /* [n] in file order */
    int          n, cap, n_errors;
    char        *templates[LV_QTYPE_COUNT];    /* NULL = default template */
    lv_bench_gen gen[LV_QTYPE_COUNT];
    lv_metric    metrics[LV_QTYPE_COUNT];      /* LV_METRIC_DEFAULT = by type */
    lv_yn_rule   yn_rule;                      /* mme: MME, pope: POPE, else lmms-eval */
    lv_mc_rule   mc_rule;
    char       **category_order;               /* [n_category_order] from benchmark.json */
    int          n_category_order;
} lv_bench;

lv_bench_params lv_bench_default_params(void);
/* Returned *out: free with lv_bench_free. */
lv_status   lv_bench_load(lv_bench **out, const char *path, const lv_bench_params *p);
void        lv_bench_free(lv_bench *b);   /* NULL-safe */
/* Batch VQA over a folder: every image below dir (recursively; .jpg .jpeg .png .bmp .gif .webp
 * .ppm .pgm .tga), sorted, one free-type sample each with id = path relative to dir. */
lv_status   lv_bench_images(lv_bench **out, const char *dir, const char *question);

/* The user text of s: s->prompt, else the template of its type with {question}, {hint},
 * {hint_line} ("hint\n" or ""), {hint_space} ("hint " or ""), {context_line} ("Context: hint\n"
 * or ""), {choices}
 * ("A. x\nB. y") filled in. malloc'd, NULL on OOM. */
char       *lv_bench_prompt(const lv_bench *b, const lv_sample *s);
const char *lv_bench_default_template(lv_qtype t);
lv_bench_gen lv_bench_default_gen(lv_qtype t);
/* The metric that scores s (explicit, benchmark.json per type, else the type default). */
lv_metric   lv_bench_metric(const lv_bench *b, const lv_sample *s);

const char *lv_qtype_name(lv_qtype t);        /* "yesno", ... */
int         lv_qtype_parse(const char *s);    /* -1 if unknown */
const char *lv_metric_name(lv_metric m);      /* "default", "yesno", "exact", ... */
int         lv_metric_parse(const char *s);   /* -1 if unknown */

/* 1 if rel is a safe relative path: not empty, not absolute, no ".." component, no NUL. */
int         lv_bench_path_ok(const char *rel);
/* A JSON id (string, or number printed as an integer when it is one) as text; malloc'd, NULL
 * for other types. The readers key samples by it; `vqa` keys its output records by it. */
char       *lv_bench_id_text(const cJSON *v);
/* Base64 (standard alphabet, blanks ignored, padding optional) -> malloc'd bytes. */
lv_status   lv_base64_decode(const char *s, size_t n, unsigned char **out, size_t *out_n);

#endif
