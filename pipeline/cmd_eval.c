/* cmd_eval.c - `lladav eval`: score benchmark runs without the model.
 *
 *   --rescore RUN_DIR : run.json (benchmark path, format) + predictions.jsonl
 *                       --lv_bench_load + lv_preds_load--> lv_score_run
 *                       --> RUN_DIR/{summary.json, report.md, report.html[, official/]}
 *   --merge RUN_DIR.. : shard runs (same fingerprint) --lv_preds_merge--> --out DIR, then as above
 *
 * A benchmark whose files already hold responses (MME eval_tool txt folders) can be scored
 * with --rescore DIR --bench PATH and no predictions.jsonl: its responses are the predictions.
 * Running the model over a benchmark (`lladav eval --model ...`) comes with the vision pipeline.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "eval_text.h"
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
    if (st == LV_OK) st = lv_bench_load(b, path, &p);
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

lv_status lv_cmd_eval(int argc, char **argv)
{
    const char *rescore = NULL, *out = NULL;
    int merge = 0;
    ev_opts o = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    const lv_opt opts[] = {
        {"--rescore", NULL, LV_OPT_STR, &rescore, "RUN_DIR", "recompute summary.json, report.md and report.html of a run"},
        {"--merge", NULL, LV_OPT_FLAG, &merge, NULL, "merge the shard runs given as arguments into --out"},
        {"--out", "-o", LV_OPT_STR, &out, "DIR", "output run folder of --merge"},
        {"--bench", NULL, LV_OPT_STR, &o.bench, "PATH", "benchmark folder or file (default: run.json benchmark.path)"},
        {"--format", NULL, LV_OPT_STR, &o.format, "NAME", "auto, native, mme, mme_txt, pope, vqav2, textvqa, coco, karpathy, mmbench (default auto)"},
        {"--images", NULL, LV_OPT_STR, &o.images, "DIR", "image folder for POPE / VQA / COCO files"},
        {"--annotations", NULL, LV_OPT_STR, &o.annotations, "FILE", "VQAv2 annotation json"},
        {"--split", NULL, LV_OPT_STR, &o.split, "NAME", "Karpathy split (default test)"},
        {"--yesno-rule", NULL, LV_OPT_STR, &o.yesno_rule, "RULE", "yes/no parser: mme, lmms, pope, vlmeval (default: by benchmark)"},
        {"--mc-rule", NULL, LV_OPT_STR, &o.mc_rule, "RULE", "letter extraction: can_infer, mmmu (default: by benchmark)"},
        {"--official", NULL, LV_OPT_FLAG, &o.official, NULL, "also write official-format exports to RUN_DIR/official/"},
    };
    int nopt = (int)(sizeof opts / sizeof opts[0]), npos = 0, help = 0;
    const char *pos[256];
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt, pos, 256, &npos, &help));
    if (help) {
        lv_cli_usage("eval", "--rescore RUN_DIR [options] | --merge --out DIR RUN_DIR...",
                     "Score benchmark predictions without the model: rescore a run folder (run.json +\n"
                     "predictions.jsonl) or merge --shard K/N runs into one. Writes summary.json, report.md\n"
                     "and a self-contained report.html.", opts, nopt);
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
    return lv_fail(LV_ERR_ARG, "eval: give --rescore RUN_DIR or --merge --out DIR RUN_DIR... (running the model over "
                               "a benchmark is not available yet)");
}
