/* report.h - private to pipeline/: predictions.jsonl -> scores -> summary.json, report.md,
 * report.html, official exports; shard selection and merge; resume bookkeeping
 * (docs: /work/shared/spec/benchmarks.md §5).
 *
 *   lv_bench (bench_readers.h) + predictions.jsonl --lv_preds_load--> lv_preds
 *     --lv_score_run--> lv_scoring (per-sample extracted/score/correct + summary JSON)
 *     --lv_report_write--> RUN_DIR/{summary.json, report.md, report.html}
 *     --lv_official_export--> RUN_DIR/official/...
 *
 * Runs (cmd_eval.c): lv_bench_select (limit / sample / shard) -> lv_pred_line per answer,
 * appended after lv_preds_repair; run.json's lv_run_fingerprint gates a resume;
 * lv_run_progress formats the stderr progress line.
 *
 * Scores depend only on the samples and the raw outputs, in benchmark order, so a merge of
 * shard runs gives a summary equal field by field to the unsharded one (timing aside).
 */
#ifndef LV_REPORT_H
#define LV_REPORT_H

#include <cjson/cJSON.h>

#include "bench_readers.h"

/* One predictions.jsonl line. */
typedef struct {
    char  *id;
    char  *output;       /* raw model text (NULL when the sample failed) */
    char  *error;        /* why generation failed, or NULL */
    double time_ms;      /* 0 when absent */
    int    gen_tokens;   /* gen.gen_length of the line, 0 when absent (tokens/s in the summary) */
    char  *line;         /* the line as read (without newline), kept verbatim for merges */
} lv_pred;

typedef struct {
    lv_pred *v;          /* [n] in file order */
    int      n, cap;
    int      dropped;    /* 1 if a truncated last line was dropped */
    int     *by_id;      /* [n] indices sorted by id (built by lv_preds_index) */
} lv_preds;

/* Read a predictions file (a missing file is an empty list). A last line that does not parse
 * as a JSON object with an id is a truncated write and is dropped (dropped = 1); any other bad
 * line fails with "<file>:<line>: ...". Later duplicates of an id replace earlier ones. */
lv_status      lv_preds_load(lv_preds *p, const char *path);
/* Before appending to a predictions file on resume: a truncated last line is cut off
 * (*dropped = 1), a complete one missing its newline gets it. A missing file is fine. */
lv_status      lv_preds_repair(const char *path, int *dropped);
void           lv_preds_free(lv_preds *p);
/* Append a record (copies everything); line NULL builds {"id", "output"[, "error"]}. */
lv_status      lv_preds_add(lv_preds *p, const char *id, const char *output, const char *error,
                            double time_ms, const char *line);
lv_status      lv_preds_index(lv_preds *p);
const lv_pred *lv_preds_find(const lv_preds *p, const char *id);   /* after lv_preds_index */
/* Write the lines, one per record, in the order of p. */
lv_status      lv_preds_write(const lv_preds *p, const char *path);

typedef struct {
    const lv_sample *s;
    const lv_pred   *p;          /* NULL: not done */
    lv_metric        metric;
    char            *extracted;  /* parsed answer ("yes", "B", normalized text) or NULL */
    double           score;      /* 0..1 (captions: CIDEr-D of the image, 0..10) */
    int              correct;    /* 1/0; -1 for metrics without a right/wrong answer */
    int              parsed;     /* 0 when the answer could not be extracted (counted wrong) */
    int              scored;     /* done, has golds and a metric other than none */
} lv_scored;

typedef struct {
    const lv_bench *b;
    lv_scored      *r;           /* [n] one per sample, benchmark order */
    int             n;
    cJSON          *summary;     /* owned; the content of summary.json */
    char            hash[17];    /* predictions hash (hex FNV-1a 64 of id\toutput\n in order) */
} lv_scoring;

/* Score every sample that has a prediction. Returned *out: free with lv_scoring_free. */
lv_status lv_score_run(lv_scoring **out, const lv_bench *b, const lv_preds *p);
void      lv_scoring_free(lv_scoring *sc);
/* Thumbnails for report.html: given an image file (path) or its bytes, return 0 and a small
 * PNG/JPEG in *out (malloc'd, freed by the report) - e.g. decode + stb_image_resize in the
 * vision library. Without one (or when it fails) images up to 256 KiB are embedded as they are
 * and larger ones linked. */
typedef int (*lv_thumb_fn)(const char *path, const unsigned char *bytes, size_t n, unsigned char **out,
                           size_t *out_n);
void      lv_report_set_thumbnailer(lv_thumb_fn fn);   /* NULL restores the default */
/* summary.json, report.md and a self-contained report.html in dir. run_json: the run.json
 * content to quote in the header (may be NULL). */
lv_status lv_report_write(const lv_scoring *sc, const char *dir, const cJSON *run_json);
/* dir/official/: MME eval_tool txt per subtask, POPE answers (label order), VQA results json,
 * COCO caption results json, MMMU eval-only dict, LLaVA answer jsonl - whichever apply. */
lv_status lv_official_export(const lv_scoring *sc, const char *dir);

/* A sample belongs to shard k (0-based) of n iff lv_shard_of(id, n) == k: FNV-1a of the id,
 * so the split is stable under reordering and independent of the file. */
int       lv_shard_of(const char *id, int n);
/* "K/N" with 1 <= K <= N -> k = K - 1, n = N. */
lv_status lv_shard_parse(const char *spec, int *k, int *n);
/* The samples a run processes: first --limit N (the first N readable samples; 0 = no limit) or
 * --sample N (the N with the smallest FNV-1a of "seed:id", stable under reordering), applied to
 * the whole benchmark, then shard k of n (n <= 1: all) - so the union of the shards of a run is
 * the unsharded run. keep: caller-allocated [b->n]; error records are never kept. Returns the
 * number kept. */
long      lv_bench_select(const lv_bench *b, long limit, long sample, unsigned long long seed, int shard_k,
                          int shard_n, unsigned char *keep);

/* What a run records about one generation (benchmarks.md §5). */
typedef struct {
    int                gen_length, block_length, steps;
    double             temperature;
    const char        *remasking;        /* "low_confidence" | "random" */
    unsigned long long seed;
    int                n_prompt_tokens, n_image_tokens;
    double             time_ms;
} lv_pred_info;
/* One predictions.jsonl line (no newline) for sample s: id, category, type, images, prompt,
 * output (raw), extracted, gold, score, correct, parsed, gen, token counts, time_ms, error, and
 * meta when the sample has one. Scored like lv_score_run (captions: score null, corpus-level).
 * output NULL + error: a failed sample. malloc'd, NULL on out of memory. */
char     *lv_pred_line(const lv_bench *b, const lv_sample *s, const char *prompt, const char *output,
                       const char *error, const lv_pred_info *info);
/* Union of the predictions of several run dirs, in benchmark order; the same id with two
 * different outputs is an error; ids unknown to the benchmark are an error. */
lv_status lv_preds_merge(lv_preds *out, const lv_bench *b, const char *const *run_dirs, int n_dirs);

/* Progress of a run (benchmarks.md §5): done/total, %, seconds per sample as an EMA that skips
 * the first sample (warm-up), ETA, elapsed, running score and unparsed count. Times are
 * seconds from any monotonic clock. The runner prints lv_run_progress_format on stderr: one
 * updating line on a TTY, periodic plain lines otherwise. */
typedef struct {
    long   total, done, scored, unparsed;   /* done counts samples of this process only */
    double score_sum;                       /* sum of per-sample scores (0..1) */
    double start, last, ema;                /* seconds; ema = 0 until two samples are done */
    int    steps;
} lv_run_progress;
void lv_run_progress_init(lv_run_progress *p, long total, double now);
/* One finished sample: scored (0/1), its score (0..1) and whether its answer parsed. */
void lv_run_progress_step(lv_run_progress *p, double now, int scored, double score, int parsed);
/* "37/100  37.0% | 1.84 s/sample | ETA 1m56s | elapsed 1m08s | score 62.16 | unparsed 2" */
void lv_run_progress_format(const lv_run_progress *p, double now, char *buf, size_t n);

/* Hex hash of a run.json object without its "fingerprint", "start_time", "shard", "runtime"
 * and "merged_from" keys and without file locations (model.path, benchmark.path / image_root /
 * annotations; the content hashes stay):
 * equal fingerprints mean predictions can be mixed. malloc'd. */
char     *lv_run_fingerprint(const cJSON *run);
/* Resume gate: LV_OK if dir has no run.json or its fingerprint equals `fingerprint`. */
lv_status lv_run_check_resume(const char *dir, const char *fingerprint);

#endif
