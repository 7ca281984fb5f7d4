/* cmd_eval.c - `lladav eval`: score benchmark runs without the model.
 *
 *   --rescore RUN_DIR : run.json (benchmark path, format) + predictions.jsonl
 *                       --lv_bench_load + lv_preds_load--> lv_score_run
 *                       --> RUN_DIR/{summary.json, report.md, report.html[, official/]}
 *   --merge RUN_DIR.. : shard runs (same fingerprint) --lv_preds_merge--> --out DIR, then as above
 *
 *   --bench PATH      : run the model (lladav.h) over the selected samples of a benchmark:
 *                       run.json (settings + fingerprint) --resume gate--> per sample: prompt
 *                       (template) + image --lv_model_ask--> answer --> one predictions.jsonl
 *                       line, flushed; progress on stderr --> summary/report as --rescore
 *
 * A benchmark whose files already hold responses (MME eval_tool txt folders) can be scored
 * with --rescore DIR --bench PATH and no predictions.jsonl: its responses are the predictions.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "eval_text.h"
#include "lladav.h"
#include "report.h"

static const char *ev_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A path from run.json: absolute, else relative to the run dir when it exists there, else as
 * written (relative to the working directory). */
static char *ev_resolve(const char *run_dir, const char *p)
{
    struct stat st;
    if (!p) return NULL;
    if (p[0] == '/') return strdup(p);
    char *q = NULL;
    if (asprintf(&q, "%s/%s", run_dir, p) < 0) return NULL;
    if (stat(q, &st) == 0) return q;
    free(q);
    return strdup(p);
}

typedef struct {
    const char *bench, *format, *images, *annotations, *split;
    const char *yesno_rule, *mc_rule;   /* alternative parsers for a rescore */
    const char *question;               /* batch VQA: this question for every image of --bench DIR */
    int         official;
} ev_opts;

/* Load the benchmark named by the options or by run.json's "benchmark" object. */
static lv_status ev_bench(lv_bench **b, const char *run_dir, const cJSON *run, const ev_opts *o)
{
    const cJSON *bj = run ? cJSON_GetObjectItemCaseSensitive(run, "benchmark") : NULL;
    char *path = o->bench ? strdup(o->bench) : ev_resolve(run_dir, ev_str(bj, "path"));
    char *images = o->images ? strdup(o->images) : ev_resolve(run_dir, ev_str(bj, "image_root"));
    char *ann = o->annotations ? strdup(o->annotations) : ev_resolve(run_dir, ev_str(bj, "annotations"));
    lv_status st = LV_OK;
    if (!path) st = lv_fail(LV_ERR_ARG, "eval: %s/run.json names no benchmark.path; give --bench PATH", run_dir);
    lv_bench_params p = lv_bench_default_params();
    p.format = o->format ? o->format : ev_str(bj, "format");
    p.image_root = images;
    p.annotations = ann;
    p.split = o->split ? o->split : ev_str(bj, "split");
    if (st == LV_OK) st = o->question ? lv_bench_images(b, path, o->question) : lv_bench_load(b, path, &p);
    static const char *const yn[LV_YNRULE_COUNT] = {"mme", "lmms", "pope", "vlmeval"};
    if (st == LV_OK && o->yesno_rule) {
        int r = -1;
        for (int k = 0; k < LV_YNRULE_COUNT; k++)
            if (!strcmp(o->yesno_rule, yn[k])) r = k;
        if (r < 0) st = lv_fail(LV_ERR_ARG, "eval: --yesno-rule '%s' is not mme, lmms, pope or vlmeval", o->yesno_rule);
        else (*b)->yn_rule = (lv_yn_rule)r;
    }
    if (st == LV_OK && o->mc_rule) {
        if (!strcmp(o->mc_rule, "can_infer")) (*b)->mc_rule = LV_MCRULE_CAN_INFER;
        else if (!strcmp(o->mc_rule, "mmmu")) (*b)->mc_rule = LV_MCRULE_MMMU;
        else st = lv_fail(LV_ERR_ARG, "eval: --mc-rule '%s' is not can_infer or mmmu", o->mc_rule);
    }
    if (st != LV_OK && *b) {
        lv_bench_free(*b);
        *b = NULL;
    }
    free(path);
    free(images);
    free(ann);
    return st;
}

static lv_status ev_score_and_write(const lv_bench *b, const lv_preds *p, const char *dir, const cJSON *run,
                                    int official)
{
    lv_scoring *sc = NULL;
    LV_TRY(lv_score_run(&sc, b, p));
    lv_status st = lv_report_write(sc, dir, run);
    if (st == LV_OK && official) st = lv_official_export(sc, dir);
    if (st == LV_OK) {
        const cJSON *s = sc->summary, *ov = cJSON_GetObjectItemCaseSensitive(s, "overall"),
                    *c = cJSON_GetObjectItemCaseSensitive(s, "counts"), *mme = cJSON_GetObjectItemCaseSensitive(s, "mme");
        const cJSON *score = cJSON_GetObjectItemCaseSensitive(ov, "score");
        printf("%s: %d samples, %d done, %d scored, %d unparsed", b->name ? b->name : "benchmark",
               cJSON_GetObjectItemCaseSensitive(c, "total")->valueint, cJSON_GetObjectItemCaseSensitive(c, "done")->valueint,
               cJSON_GetObjectItemCaseSensitive(c, "scored")->valueint, cJSON_GetObjectItemCaseSensitive(c, "unparsed")->valueint);
        if (cJSON_IsNumber(score)) printf(", score %.2f", score->valuedouble);
        if (mme)
            printf(", MME perception %.2f cognition %.2f",
                   cJSON_GetObjectItemCaseSensitive(mme, "perception")->valuedouble,
                   cJSON_GetObjectItemCaseSensitive(mme, "cognition")->valuedouble);
        printf("\nwrote %s/summary.json, report.md, report.html%s\n", dir, official ? ", official/" : "");
    }
    lv_scoring_free(sc);
    return st;
}

static lv_status ev_rescore(const char *dir, const ev_opts *o)
{
    char *rp = NULL, *pp = NULL;
    if (asprintf(&rp, "%s/run.json", dir) < 0) rp = NULL;
    if (asprintf(&pp, "%s/predictions.jsonl", dir) < 0) pp = NULL;
    if (!rp || !pp) { free(rp); free(pp); return lv_fail(LV_ERR_NOMEM, "eval: out of memory"); }
    struct stat sb;
    lv_status st = LV_OK;
    cJSON *run = stat(rp, &sb) == 0 ? lv_json_read(rp, &st) : NULL;
    lv_bench *b = NULL;
    lv_preds p = {0};
    if (st == LV_OK) st = ev_bench(&b, dir, run, o);
    if (st == LV_OK) st = lv_preds_load(&p, pp);
    if (st == LV_OK && p.n == 0) {   /* responses held by the benchmark files themselves */
        for (int i = 0; st == LV_OK && i < b->n; i++)
            if (b->samples[i].output && !b->samples[i].error)
                st = lv_preds_add(&p, b->samples[i].id, b->samples[i].output, NULL, 0, NULL);
        if (st == LV_OK) st = lv_preds_index(&p);
    }
    if (st == LV_OK && p.dropped) fprintf(stderr, "lladav: note: %s: dropped a truncated last line\n", pp);
    if (st == LV_OK) st = ev_score_and_write(b, &p, dir, run, o->official);
    lv_preds_free(&p);
    lv_bench_free(b);
    cJSON_Delete(run);
    free(rp);
    free(pp);
    return st;
}

static lv_status ev_merge(const char *out, const char *const *dirs, int n, const ev_opts *o)
{
    cJSON *run = NULL;
    char *fp0 = NULL;
    lv_status st = LV_OK;
    for (int d = 0; st == LV_OK && d < n; d++) {
        char *rp = NULL;
        if (asprintf(&rp, "%s/run.json", dirs[d]) < 0) return lv_fail(LV_ERR_NOMEM, "eval: out of memory");
        cJSON *r = lv_json_read(rp, &st);
        char *fp = r ? lv_run_fingerprint(r) : NULL;
        if (st == LV_OK && !fp) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
        if (st == LV_OK && fp0 && strcmp(fp, fp0))
            st = lv_fail(LV_ERR_INPUT, "merge: %s has fingerprint %s, %s/run.json has %s: not the same run settings",
                         rp, fp, dirs[0], fp0);
        if (!fp0) { fp0 = fp; run = r; r = NULL; }
        else free(fp);
        cJSON_Delete(r);
        free(rp);
    }
    lv_bench *b = NULL;
    lv_preds p = {0};
    if (st == LV_OK) st = ev_bench(&b, dirs[0], run, o);
    if (st == LV_OK) st = lv_preds_merge(&p, b, dirs, n);
    if (st == LV_OK && mkdir(out, 0777) != 0 && errno != EEXIST)
        st = lv_fail(LV_ERR_IO, "%s: cannot create folder: %s", out, strerror(errno));
    char *pp = NULL;
    if (st == LV_OK && asprintf(&pp, "%s/predictions.jsonl", out) < 0) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
    if (st == LV_OK) st = lv_preds_write(&p, pp);
    if (st == LV_OK) {   /* run.json of the merged run: the shards' settings without the shard */
        cJSON_DeleteItemFromObjectCaseSensitive(run, "shard");
        cJSON_DeleteItemFromObjectCaseSensitive(run, "fingerprint");
        cJSON_AddStringToObject(run, "fingerprint", fp0);
        cJSON *from = cJSON_CreateStringArray(dirs, n);
        cJSON_AddItemToObject(run, "merged_from", from);
        char *t = cJSON_Print(run), *rp = NULL;
        if (!t || asprintf(&rp, "%s/run.json", out) < 0) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
        FILE *f = st == LV_OK ? fopen(rp, "wb") : NULL;
        if (st == LV_OK && (!f || fputs(t, f) < 0 || fputc('\n', f) < 0)) st = lv_fail(LV_ERR_IO, "%s: cannot write", rp);
        if (f && fclose(f) != 0 && st == LV_OK) st = lv_fail(LV_ERR_IO, "%s: cannot write", rp);
        free(t);
        free(rp);
    }
    if (st == LV_OK) {
        fprintf(stderr, "lladav: merged %d predictions from %d runs into %s\n", p.n, n, out);
        st = ev_score_and_write(b, &p, out, run, o->official);
    }
    free(pp);
    lv_preds_free(&p);
    lv_bench_free(b);
    cJSON_Delete(run);
    free(fp0);
    return st;
}

typedef struct {
    const char *model, *out, *shard;
    const char *think;                              /* "no_think" | "think" | "none" */
    int         limit, sample, threads, force, overwrite, quiet;
    int         gen_length, steps, block_length;   /* 0: the benchmark's per-type setting */
    float       temperature;                        /* < 0: per type */
    uint64_t    seed;
    const char *mode;                               /* fast-mode preset (docs/MODES.md), NULL = exact */
    const char *precision;                          /* "bf16" or NULL / "f32" (exact) */
    int         reuse_prefix;                       /* approximate prefix K/V reuse (docs/MODES.md) */
    int         image_cache_mb;                     /* -1: LV_IMAGE_CACHE_MB */
} ev_run_opts;

static double ev_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* FNV-1a of a file (0 when unreadable) and its size. */
static unsigned long long ev_file_hash(const char *path, long long *size)
{
    char *buf;
    size_t n;
    *size = 0;
    if (lv_file_read(path, &buf, &n) != LV_OK) { lv_clear_error(); return 0; }
    unsigned long long h = lv_hash64(LV_HASH64_INIT, buf, n);
    *size = (long long)n;
    free(buf);
    return h;
}

/* The weights' identity without reading them whole: for every *.safetensors file in the
 * folder (sorted), its name, size, first and last MiB. */
static unsigned long long ev_weights_hash(const char *dir, long long *bytes, int *files)
{
    unsigned long long h = LV_HASH64_INIT;
    *bytes = 0;
    *files = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 12 || strcmp(e->d_name + l - 12, ".safetensors")) continue;
        char **q = realloc(names, (size_t)(n + 1) * sizeof *q);
        if (!q) break;
        names = q;
        if ((names[n] = strdup(e->d_name))) n++;
    }
    closedir(d);
    for (int i = 1; i < n; i++)   /* insertion sort: a handful of shards */
        for (int k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            char *t = names[k];
            names[k] = names[k - 1];
            names[k - 1] = t;
        }
    unsigned char *buf = malloc((size_t)1 << 20);
    for (int i = 0; i < n; i++) {
        char *path = lv_strfmt("%s/%s", dir, names[i]);
        FILE *f = path ? fopen(path, "rb") : NULL;
        struct stat sb;
        if (f && buf && stat(path, &sb) == 0) {
            long long size = (long long)sb.st_size;
            h = lv_hash64(h, names[i], strlen(names[i]) + 1);
            h = lv_hash64(h, &size, sizeof size);
            size_t got = fread(buf, 1, (size_t)1 << 20, f);
            h = lv_hash64(h, buf, got);
            if (size > (1LL << 21) && fseek(f, -(1L << 20), SEEK_END) == 0) {
                got = fread(buf, 1, (size_t)1 << 20, f);
                h = lv_hash64(h, buf, got);
            }
            *bytes += size;
            (*files)++;
        }
        if (f) fclose(f);
        free(path);
        free(names[i]);
    }
    free(buf);
    free(names);
    return h;
}

/* Everything the answers depend on: benchmark content, templates and generation per type,
 * model files, seed and selection. Runtime facts (threads, start time) go under "runtime",
 * which the fingerprint ignores. */
static cJSON *ev_run_json(const lv_bench *b, const ev_opts *o, const ev_run_opts *r, const char *model_dir,
                          const lv_bench_gen *gen)
{
    cJSON *j = cJSON_CreateObject(), *x;
    char hex[32];
    long long size;
    x = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(x, "path", model_dir);
    char *cfg = lv_strfmt("%s/config.json", model_dir), *tok = lv_strfmt("%s/tokenizer.json", model_dir);
    snprintf(hex, sizeof hex, "%016llx", cfg ? ev_file_hash(cfg, &size) : 0ull);
    cJSON_AddStringToObject(x, "config_hash", hex);
    snprintf(hex, sizeof hex, "%016llx", tok ? ev_file_hash(tok, &size) : 0ull);
    cJSON_AddStringToObject(x, "tokenizer_hash", hex);
    int files;
    snprintf(hex, sizeof hex, "%016llx", ev_weights_hash(model_dir, &size, &files));
    cJSON_AddStringToObject(x, "weights_hash", hex);
    cJSON_AddNumberToObject(x, "weights_bytes", (double)size);
    cJSON_AddNumberToObject(x, "weights_files", files);
    free(cfg);
    free(tok);
    x = cJSON_AddObjectToObject(j, "benchmark");
    cJSON_AddStringToObject(x, "path", b->path);
    cJSON_AddStringToObject(x, "format", b->format);
    if (o->images) cJSON_AddStringToObject(x, "image_root", o->images);
    if (o->annotations) cJSON_AddStringToObject(x, "annotations", o->annotations);
    if (o->split) cJSON_AddStringToObject(x, "split", o->split);
    unsigned long long h = LV_HASH64_INIT;   /* the samples as read: ids, texts, golds, images */
    for (int i = 0; i < b->n; i++) {
        const lv_sample *s = &b->samples[i];
        const char *parts[] = {s->id, s->question, s->hint, s->prompt, s->error};
        for (int k = 0; k < 5; k++) h = lv_hash64(h, parts[k] ? parts[k] : "", parts[k] ? strlen(parts[k]) + 1 : 1);
        for (int k = 0; k < s->n_golds; k++) h = lv_hash64(h, s->golds[k], strlen(s->golds[k]) + 1);
        for (int k = 0; k < s->n_choices; k++) h = lv_hash64(h, s->choices[k], strlen(s->choices[k]) + 1);
        for (int k = 0; k < s->n_images; k++) h = lv_hash64(h, s->images[k], strlen(s->images[k]) + 1);
        h = lv_hash64(h, s->image_bytes ? s->image_bytes : (const unsigned char *)"", s->n_image_bytes);
    }
    snprintf(hex, sizeof hex, "%016llx", h);
    cJSON_AddStringToObject(x, "samples_hash", hex);
    cJSON_AddNumberToObject(x, "samples", b->n);
    cJSON *t = cJSON_AddObjectToObject(j, "templates"), *g = cJSON_AddObjectToObject(j, "generation");
    for (int k = 0; k < LV_QTYPE_COUNT; k++) {
        cJSON_AddStringToObject(t, lv_qtype_name((lv_qtype)k), b->templates[k] ? b->templates[k] : lv_bench_default_template((lv_qtype)k));
        cJSON *q = cJSON_AddObjectToObject(g, lv_qtype_name((lv_qtype)k));
        cJSON_AddNumberToObject(q, "gen_length", gen[k].gen_length);
        cJSON_AddNumberToObject(q, "block_length", gen[k].block_length);
        cJSON_AddNumberToObject(q, "steps", gen[k].steps);
        cJSON_AddNumberToObject(q, "temperature", gen[k].temperature);
        cJSON_AddStringToObject(q, "stop", gen[k].stop);
        cJSON_AddStringToObject(q, "remasking", "low_confidence");
    }
    cJSON_AddStringToObject(j, "think_mode", r->think);
    if (r->mode && strcmp(r->mode, "exact")) cJSON_AddStringToObject(j, "mode", r->mode);
    if (r->precision && strcmp(r->precision, "f32")) cJSON_AddStringToObject(j, "precision", r->precision);
    if (r->reuse_prefix) cJSON_AddBoolToObject(j, "reuse_prefix", 1);
    cJSON_AddNumberToObject(j, "seed", (double)r->seed);
    x = cJSON_AddObjectToObject(j, "selection");
    cJSON_AddNumberToObject(x, "limit", r->limit);
    cJSON_AddNumberToObject(x, "sample", r->sample);
    if (r->shard) cJSON_AddStringToObject(j, "shard", r->shard);
    x = cJSON_AddObjectToObject(j, "runtime");
    cJSON_AddNumberToObject(x, "threads", r->threads);
    time_t now = time(NULL);
    struct tm tmv;
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    cJSON_AddStringToObject(x, "start_time", stamp);
    char *fp = lv_run_fingerprint(j);
    cJSON_AddStringToObject(j, "fingerprint", fp ? fp : "");
    free(fp);
    return j;
}

static lv_status ev_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return lv_fail(LV_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    return bad ? lv_fail(LV_ERR_IO, "%s: write failed", path) : LV_OK;
}

/* mkdir -p */
static lv_status ev_mkdirs(const char *dir)
{
    char *d = strdup(dir);
    if (!d) return lv_fail(LV_ERR_NOMEM, "out of memory");
    for (char *p = d + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(d, 0777) != 0 && errno != EEXIST) {
                lv_status st = lv_fail(LV_ERR_IO, "%s: cannot create folder: %s", d, strerror(errno));
                free(d);
                return st;
            }
            *p = c;
            if (!c) break;
        }
    }
    free(d);
    return LV_OK;
}

static lv_status ev_run(const ev_opts *o, const ev_run_opts *r)
{
    lv_bench *b = NULL;
    LV_TRY(ev_bench(&b, ".", NULL, o));
    char model_dir[4096], *run_dir = NULL, *rp = NULL, *pp = NULL;
    lv_status st = LV_OK;
    if (r->model) snprintf(model_dir, sizeof model_dir, "%s", r->model);
    else st = lv_model_find(model_dir, sizeof model_dir);
    const char *stem = strrchr(model_dir, '/') && strrchr(model_dir, '/')[1] ? strrchr(model_dir, '/') + 1 : model_dir;
    if (st == LV_OK) run_dir = r->out ? strdup(r->out) : lv_strfmt("runs/%s/%s", b->name ? b->name : "bench", stem);
    if (st == LV_OK && run_dir) {
        rp = lv_strfmt("%s/run.json", run_dir);
        pp = lv_strfmt("%s/predictions.jsonl", run_dir);
    }
    if (st == LV_OK && (!run_dir || !rp || !pp)) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
    int shard_k = 0, shard_n = 1;
    if (st == LV_OK && r->shard) st = lv_shard_parse(r->shard, &shard_k, &shard_n);
    /* generation per type: the benchmark's, overridden by the command line */
    lv_bench_gen gen[LV_QTYPE_COUNT];
    for (int k = 0; k < LV_QTYPE_COUNT; k++) {
        gen[k] = b->gen[k];
        if (r->gen_length > 0) gen[k].gen_length = r->gen_length;
        if (r->block_length > 0) gen[k].block_length = r->block_length;
        else if (r->gen_length > 0) gen[k].block_length = gen[k].gen_length;
        if (r->steps > 0) gen[k].steps = r->steps;
        else if (r->gen_length > 0) gen[k].steps = gen[k].gen_length;
        if (r->temperature >= 0) gen[k].temperature = r->temperature;
    }
    cJSON *run = st == LV_OK ? ev_run_json(b, o, r, model_dir, gen) : NULL;
    if (st == LV_OK && !run) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
    /* resume gate */
    if (st == LV_OK) st = ev_mkdirs(run_dir);
    if (st == LV_OK && r->overwrite) remove(pp);
    else if (st == LV_OK && !r->force) {
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(run, "fingerprint");
        st = lv_run_check_resume(run_dir, fp->valuestring);
    }
    int dropped = 0;
    if (st == LV_OK) st = lv_preds_repair(pp, &dropped);
    if (st == LV_OK && dropped) fprintf(stderr, "lladav: note: %s: cut a truncated last line\n", pp);
    char *rj = st == LV_OK ? cJSON_Print(run) : NULL;
    if (st == LV_OK) st = rj ? ev_write_text(rp, rj) : lv_fail(LV_ERR_NOMEM, "eval: out of memory");
    free(rj);
    lv_preds done = {0};
    if (st == LV_OK) st = lv_preds_load(&done, pp);
    unsigned char *keep = st == LV_OK ? calloc((size_t)(b->n ? b->n : 1), 1) : NULL;
    if (st == LV_OK && !keep) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
    long todo = 0, selected = 0;
    if (st == LV_OK) {
        selected = lv_bench_select(b, r->limit, r->sample, r->seed, shard_k, shard_n, keep);
        for (int i = 0; i < b->n; i++)
            if (keep[i] && lv_preds_find(&done, b->samples[i].id)) keep[i] = 0;
            else todo += keep[i];
    }
    if (st == LV_OK && !r->quiet)
        fprintf(stderr, "lladav: %s: %d samples (%d unreadable), %ld selected, %ld to run, %ld done before -> %s\n",
                b->name ? b->name : "bench", b->n, b->n_errors, selected, todo, selected - todo, run_dir);
    lv_model *m = NULL;
    if (st == LV_OK && todo) {
        lv_model_params mp = lv_model_default_params();
        mp.threads = r->threads;
        if (r->image_cache_mb >= 0) mp.image_cache_mb = r->image_cache_mb;
        st = lv_model_load(&m, model_dir, &mp);
    }
    FILE *f = st == LV_OK && todo ? fopen(pp, "ab") : NULL;
    if (st == LV_OK && todo && !f) st = lv_fail(LV_ERR_IO, "%s: cannot append: %s", pp, strerror(errno));
    lv_run_progress prog;
    lv_run_progress_init(&prog, todo, ev_now());
    int tty = isatty(2);
    double last_print = 0.0;
    for (int i = 0; st == LV_OK && i < b->n; i++) {
        if (!keep[i]) continue;
        const lv_sample *s = &b->samples[i];
        const lv_bench_gen *g = &gen[s->type];
        char *prompt = lv_bench_prompt(b, s), *err = NULL, *output = NULL;
        /* LLaDA-V's lmms-eval wrapper appends " /no_think" (or " /think") to the user text;
         * predictions record the prompt without it (run.json has think_mode) */
        char *asked = prompt && strcmp(r->think, "none") ? lv_strfmt("%s /%s", prompt, r->think) : (prompt ? strdup(prompt) : NULL);
        lv_sampler_params sp = lv_sampler_default_params();
        sp.gen_length = g->gen_length;
        sp.block_length = g->block_length;
        sp.steps = g->steps;
        sp.temperature = g->temperature;
        sp.seed = r->seed;
        if (r->mode) lv_sampler_set_mode(&sp, r->mode);   /* validated with the options */
        sp.cache.reuse_prefix = r->reuse_prefix;
        lv_result ans = {0};
        double t0 = ev_now();
        lv_status as = LV_OK;
        if (!prompt || !asked) as = lv_fail(LV_ERR_NOMEM, "out of memory");
        else if (s->n_images > 1) as = lv_fail(LV_ERR_UNSUPPORTED, "%d images: multi-image samples are not supported yet", s->n_images);
        else if (s->image_bytes) as = lv_model_ask_memory(m, s->image_bytes, s->n_image_bytes, s->id, asked, &sp, &ans);
        else as = lv_model_ask(m, s->n_images ? s->images[0] : NULL, asked, &sp, &ans);
        free(asked);
        double dt = ev_now() - t0;
        if (as == LV_OK) {
            output = strdup(ans.answer ? ans.answer : "");
            if (output && g->stop[0]) {   /* lmms-eval "until": cut at the stop string */
                char *cut = strstr(output, g->stop);
                if (cut) *cut = 0;
            }
        } else err = lv_strfmt("%s: %s", lv_status_name(as), lv_last_error());
        lv_pred_info info = {g->gen_length, g->block_length, g->steps, g->temperature, "low_confidence", r->seed,
                             ans.n_text_tokens, ans.n_image_tokens, dt * 1000.0};
        char *line = lv_pred_line(b, s, prompt, output, output ? NULL : (err ? err : "out of memory"), &info);
        if (!line) st = lv_fail(LV_ERR_NOMEM, "eval: out of memory");
        else if (fputs(line, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0)
            st = lv_fail(LV_ERR_IO, "%s: write failed", pp);
        /* the running score: the line carries the per-sample score */
        cJSON *lj = line ? cJSON_Parse(line) : NULL;
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(lj, "score"), *pa = cJSON_GetObjectItemCaseSensitive(lj, "parsed");
        lv_run_progress_step(&prog, ev_now(), cJSON_IsNumber(sc), cJSON_IsNumber(sc) ? sc->valuedouble : 0.0, !cJSON_IsFalse(pa));
        cJSON_Delete(lj);
        free(line);
        free(prompt);
        free(output);
        free(err);
        lv_result_free(&ans);
        double now = ev_now();
        if (!r->quiet && (tty || now - last_print > 30.0 || prog.done == todo || prog.done == 1)) {
            char pl[256];
            lv_run_progress_format(&prog, now, pl, sizeof pl);
            fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", pl);
            last_print = now;
        }
    }
    if (tty && !r->quiet && todo) fputc('\n', stderr);
    if (m && !r->quiet) {   /* images are cached by content: each distinct one decoded + encoded once */
        long enc = 0, reu = 0;
        lv_model_image_counts(m, &enc, &reu);
        fprintf(stderr, "lladav: images: %ld encoded, %ld reused\n", enc, reu);
    }
    if (f && fclose(f) != 0 && st == LV_OK) st = lv_fail(LV_ERR_IO, "%s: write failed", pp);
    lv_model_free(m);
    free(keep);
    lv_preds_free(&done);
    /* score everything the run folder holds */
    lv_preds all = {0};
    if (st == LV_OK) st = lv_preds_load(&all, pp);
    if (st == LV_OK) st = ev_score_and_write(b, &all, run_dir, run, o->official);
    lv_preds_free(&all);
    cJSON_Delete(run);
    lv_bench_free(b);
    free(run_dir);
    free(rp);
    free(pp);
    return st;
}

lv_status lv_cmd_eval(int argc, char **argv)
{
    const char *rescore = NULL, *out = NULL;
    int merge = 0;
    ev_opts o = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    ev_run_opts r = {NULL, NULL, NULL, "no_think", 0, 0, 0, 0, 0, 0, 0, 0, 0, -1.0f, 0, NULL, NULL, 0, -1};
    const lv_opt opts[] = {
        {"--bench", NULL, LV_OPT_STR, &o.bench, "PATH", "benchmark folder or file to run (or, with --rescore, instead of run.json's)"},
        {"--question", NULL, LV_OPT_STR, &o.question, "TEXT", "batch VQA: ask TEXT about every image below --bench DIR (ids = relative paths)"},
        {"--model", "-m", LV_OPT_STR, &r.model, "DIR", "model directory (default: $LLADAV_MODEL, else the bundled model)"},
        {"--out", "-o", LV_OPT_STR, &out, "DIR", "run folder (default runs/<benchmark>/<model>); output of --merge"},
        {"--limit", NULL, LV_OPT_INT, &r.limit, "N", "run the first N readable samples (default all)"},
        {"--sample", NULL, LV_OPT_INT, &r.sample, "N", "run N samples chosen by hash(seed, id), stable under reordering"},
        {"--shard", NULL, LV_OPT_STR, &r.shard, "K/N", "run shard K of N (by hash of id); merge the shards with --merge"},
        {"--seed", NULL, LV_OPT_U64, &r.seed, "N", "sampler seed and --sample seed (default 0)"},
        {"--gen-length", NULL, LV_OPT_INT, &r.gen_length, "N", "response tokens for every type (default: per type, benchmark.json)"},
        {"--steps", NULL, LV_OPT_INT, &r.steps, "N", "forward passes (default: per type, or --gen-length)"},
        {"--block-length", NULL, LV_OPT_INT, &r.block_length, "N", "block length (default: per type, or --gen-length)"},
        {"--temperature", NULL, LV_OPT_FLOAT, &r.temperature, "T", "sampling temperature (default: per type, 0)"},
        {"--think-mode", NULL, LV_OPT_STR, &r.think, "M", "no_think, think or none: \" /M\" after the prompt, as LLaDA-V's eval (default no_think)"},
        {"--mode", NULL, LV_OPT_STR, &r.mode, "M", "exact, fast or fastest: sampler speed preset, docs/MODES.md (default exact)"},
        {"--reuse-prefix", NULL, LV_OPT_FLAG, &r.reuse_prefix, NULL, "approximate: keep the K/V of the rows through the image across its questions (docs/MODES.md)"},
        {"--precision", NULL, LV_OPT_STR, &r.precision, "P", "f32 (exact, default) or bf16: faster BF16-weight GEMMs and attention that change logits (BENCH.md)"},
        {"--threads", "-t", LV_OPT_COUNT, &r.threads, "N", "threads (default: physical cores)"},
        {"--image-cache-mb", NULL, LV_OPT_COUNT, &r.image_cache_mb, "N", "memory for encoded images kept for later questions (default 1024)"},
        {"--force", NULL, LV_OPT_FLAG, &r.force, NULL, "resume even when run.json's fingerprint differs"},
        {"--overwrite", NULL, LV_OPT_FLAG, &r.overwrite, NULL, "start the run folder's predictions afresh"},
        {"--quiet", "-q", LV_OPT_FLAG, &r.quiet, NULL, "no progress on stderr"},
        {"--rescore", NULL, LV_OPT_STR, &rescore, "RUN_DIR", "recompute summary.json, report.md and report.html of a run"},
        {"--merge", NULL, LV_OPT_FLAG, &merge, NULL, "merge the shard runs given as arguments into --out"},
        {"--format", NULL, LV_OPT_STR, &o.format, "NAME", "auto (default), native, mme, mme_txt, pope, mmbench, vqav2, textvqa, docvqa, chartqa, gqa, seed, scienceqa, coco, karpathy"},
        {"--images", NULL, LV_OPT_STR, &o.images, "DIR", "image folder of POPE / VQA / COCO / GQA / ... files (they name images only)"},
        {"--annotations", NULL, LV_OPT_STR, &o.annotations, "FILE", "VQAv2 annotation json"},
        {"--split", NULL, LV_OPT_STR, &o.split, "NAME", "Karpathy / ScienceQA split (default test)"},
        {"--yesno-rule", NULL, LV_OPT_STR, &o.yesno_rule, "RULE", "yes/no parser: mme, lmms, pope, vlmeval (default: by benchmark)"},
        {"--mc-rule", NULL, LV_OPT_STR, &o.mc_rule, "RULE", "letter extraction: can_infer, mmmu (default: by benchmark)"},
        {"--official", NULL, LV_OPT_FLAG, &o.official, NULL, "also write official-format exports to RUN_DIR/official/"},
    };
    int nopt = (int)(sizeof opts / sizeof opts[0]), npos = 0, help = 0;
    const char *pos[256];
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt, pos, 256, &npos, &help));
    if (help) {
        lv_cli_usage("eval", "--bench PATH [--model DIR] [options] | --rescore RUN_DIR | --merge --out DIR RUN_DIR...",
                     "Run a model over a benchmark (native questions.jsonl, MME, POPE, MMBench, VQAv2, ... see\n"
                     "benchmarks.md), appending to RUN_DIR/predictions.jsonl and resuming where it stopped;\n"
                     "or rescore a run folder without the model, or merge --shard K/N runs. Every mode writes\n"
                     "summary.json, report.md and a self-contained report.html.", opts, nopt);
        return LV_OK;
    }
    if (rescore && merge) return lv_fail(LV_ERR_ARG, "eval: --rescore and --merge exclude each other");
    if (rescore) {
        if (npos) return lv_fail(LV_ERR_ARG, "eval: unexpected argument '%s'", pos[0]);
        return ev_rescore(rescore, &o);
    }
    if (merge) {
        if (!out) return lv_fail(LV_ERR_ARG, "eval: --merge needs --out DIR");
        if (npos < 1) return lv_fail(LV_ERR_ARG, "eval: --merge needs at least one RUN_DIR");
        return ev_merge(out, pos, npos, &o);
    }
    if (!o.bench) return lv_fail(LV_ERR_ARG, "eval: give --bench PATH, --rescore RUN_DIR or --merge --out DIR RUN_DIR...");
    if (npos) return lv_fail(LV_ERR_ARG, "eval: unexpected argument '%s'", pos[0]);
    if (r.limit < 0 || r.sample < 0 || r.gen_length < 0 || r.steps < 0 || r.block_length < 0)
        return lv_fail(LV_ERR_ARG, "eval: --limit, --sample, --gen-length, --steps and --block-length must be >= 0");
    if (r.limit && r.sample) return lv_fail(LV_ERR_ARG, "eval: --limit and --sample exclude each other");
    if (r.force && r.overwrite) return lv_fail(LV_ERR_ARG, "eval: --force and --overwrite exclude each other");
    lv_sampler_params mode_check = lv_sampler_default_params();
    if (r.mode) LV_TRY(lv_sampler_set_mode(&mode_check, r.mode));
    LV_TRY(lv_cli_precision(r.precision));
    if (strcmp(r.think, "no_think") && strcmp(r.think, "think") && strcmp(r.think, "none"))
        return lv_fail(LV_ERR_ARG, "eval: --think-mode '%s' is not no_think, think or none", r.think);
    r.out = out;
    return ev_run(&o, &r);
}
