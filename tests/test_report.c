/* test_report.c - pipeline/report.c: predictions reading (truncated last line), scoring and the
 * summary blocks on the tiny benchmarks of tests/eval, shard selection + merge equal to the
 * unsharded summary, the resume fingerprint gate, report files and official exports. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "testutil.h"

static lv_bench *tr_bench(const char *rel, const char *images)
{
    lv_bench_params p = lv_bench_default_params();
    p.image_root = images ? lv_test_path(images) : NULL;
    lv_bench *b = NULL;
    ck_assert_msg(lv_bench_load(&b, lv_test_path(rel), &p) == LV_OK, "%s", lv_last_error());
    return b;
}

static double tr_num(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *v = o;
    for (char *k = strtok(buf, "."); k && v; k = strtok(NULL, ".")) v = cJSON_GetObjectItemCaseSensitive(v, k);
    ck_assert_msg(cJSON_IsNumber(v), "summary has no number at %s", path);
    return v->valuedouble;
}

#define NEAR(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-9, "%s = %.12g, want %.12g", #a, (double)(a), (double)(b))

START_TEST(test_preds_truncated)
{
    lv_preds p;
    ck_assert_int_eq(lv_preds_load(&p, lv_test_path("tests/eval/runs/native/predictions.jsonl")), LV_OK);
    ck_assert_int_eq(p.n, 8);
    ck_assert_int_eq(p.dropped, 1);
    const lv_pred *r = lv_preds_find(&p, "yn1");
    ck_assert_str_eq(r->output, "Yes");                       /* the truncated "No" is not used */
    r = lv_preds_find(&p, "free1");
    ck_assert_ptr_null(r->output);
    ck_assert_str_eq(r->error, "image decode failed");
    ck_assert_ptr_null(lv_preds_find(&p, "nope"));
    lv_preds_free(&p);

    const char *dir = lv_test_tmpdir();
    const char *bad = lv_test_join(dir, "bad.jsonl");
    const char *text = "{\"id\":\"a\",\"output\":\"x\"}\n{oops\n{\"id\":\"b\"}\n";
    lv_test_write_file(bad, text, strlen(text));
    ck_assert_int_eq(lv_preds_load(&p, bad), LV_ERR_FORMAT);
    ck_assert_msg(strstr(lv_last_error(), "bad.jsonl:2: not valid JSON"), "%s", lv_last_error());
    ck_assert_int_eq(lv_preds_load(&p, lv_test_join(dir, "absent.jsonl")), LV_OK);  /* fresh run */
    ck_assert_int_eq(p.n, 0);
    lv_preds_free(&p);

    /* repair before appending: a complete last record gets its newline, a partial one goes */
    const char *rp = lv_test_join(dir, "resume.jsonl");
    int dropped;
    const char *t1 = "{\"id\":\"a\",\"output\":\"x\"}\n{\"id\":\"b\",\"output\":\"y\"}";
    lv_test_write_file(rp, t1, strlen(t1));
    ck_assert_int_eq(lv_preds_load(&p, rp), LV_OK);
    ck_assert_int_eq(p.n, 2);   /* complete without its newline: kept */
    lv_preds_free(&p);
    ck_assert_int_eq(lv_preds_repair(rp, &dropped), LV_OK);
    ck_assert_int_eq(dropped, 0);
    char *t = lv_test_read_file(rp, NULL);
    ck_assert_str_eq(t, "{\"id\":\"a\",\"output\":\"x\"}\n{\"id\":\"b\",\"output\":\"y\"}\n");
    free(t);
    const char *t2 = "{\"id\":\"a\",\"output\":\"x\"}\n{\"id\":\"b\",\"out";
    lv_test_write_file(rp, t2, strlen(t2));
    ck_assert_int_eq(lv_preds_repair(rp, &dropped), LV_OK);
    ck_assert_int_eq(dropped, 1);
    t = lv_test_read_file(rp, NULL);
    ck_assert_str_eq(t, "{\"id\":\"a\",\"output\":\"x\"}\n");
    free(t);
    ck_assert_int_eq(lv_preds_repair(lv_test_join(dir, "absent.jsonl"), &dropped), LV_OK);
}
END_TEST

START_TEST(test_score_native)
{
    lv_bench *b = tr_bench("tests/eval/native", NULL);
    lv_preds p;
    ck_assert_int_eq(lv_preds_load(&p, lv_test_path("tests/eval/runs/native/predictions.jsonl")), LV_OK);
    lv_scoring *sc;
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    const cJSON *s = sc->summary;
    NEAR(tr_num(s, "counts.total"), 16);
    NEAR(tr_num(s, "counts.done"), 8);
    NEAR(tr_num(s, "counts.scored"), 7);
    NEAR(tr_num(s, "counts.unparsed"), 1);
    NEAR(tr_num(s, "counts.read_errors"), 8);
    NEAR(tr_num(s, "counts.generation_errors"), 1);
    /* yn1 right, yn2 wrong, alias1 unparsed; mc1 right; 7 VQA 1.0; anls1 1 - 1/11 */
    NEAR(tr_num(s, "overall.correct"), 4);
    NEAR(tr_num(s, "overall.score"), 100.0 * (1 + 0 + 0 + 1 + 1 + (1 - 1.0 / 11)) / 6);
    NEAR(tr_num(s, "categories.color.score"), 100.0 * 2 / 3);
    NEAR(tr_num(s, "yesno.tp"), 1);
    NEAR(tr_num(s, "yesno.other"), 1);
    NEAR(tr_num(s, "captions.images"), 1);
    NEAR(tr_num(s, "vqa.accuracy"), 100.0);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(s, "circular"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(s, "mme"));
    for (int i = 0; i < sc->n; i++)
        if (sc->r[i].s->id && !strcmp(sc->r[i].s->id, "mc1")) ck_assert_str_eq(sc->r[i].extracted, "B");
    NEAR(tr_num(s, "timing.p50_ms"), 110.25);
    lv_scoring_free(sc);
    lv_preds_free(&p);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_score_mme)
{
    lv_bench *b = tr_bench("tests/eval/mme", NULL);
    lv_preds p;
    ck_assert_int_eq(lv_preds_load(&p, lv_test_path("tests/eval/runs/mme/predictions.jsonl")), LV_OK);
    lv_scoring *sc;
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    const cJSON *s = sc->summary;
    /* existence: 2 of 3 right (one line of the file is broken), images 1 of 2 -> 66.67 + 50 */
    NEAR(tr_num(s, "mme.subtasks.existence.acc"), 200.0 / 3);
    NEAR(tr_num(s, "mme.subtasks.existence.acc_plus"), 50.0);
    NEAR(tr_num(s, "mme.subtasks.artwork.score"), 200.0);
    /* "I think so" is "other" under the official first-4-chars rule */
    NEAR(tr_num(s, "mme.subtasks.code_reasoning.acc"), 50.0);
    NEAR(tr_num(s, "mme.subtasks.code_reasoning.acc_plus"), 0.0);
    NEAR(tr_num(s, "mme.perception"), 200.0 / 3 + 50.0 + 200.0);
    NEAR(tr_num(s, "mme.cognition"), 50.0);
    NEAR(tr_num(s, "counts.unparsed"), 1);
    lv_scoring_free(sc);
    lv_preds_free(&p);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_score_pope_mmbench)
{
    lv_bench *b = tr_bench("tests/eval/pope", "tests/eval/coco/val2014");
    lv_preds p = {0};
    /* random split: labels y n y n; answers y y n n, the last one "not" -> no */
    ck_assert_int_eq(lv_preds_add(&p, "random/1", "Yes.", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_add(&p, "random/2", "NO", NULL, 0, NULL), LV_OK);   /* POPE rule: yes */
    ck_assert_int_eq(lv_preds_add(&p, "random/3", "There is no person.", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_add(&p, "random/4", "It is not there", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_add(&p, "adversarial/1", "no", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_index(&p), LV_OK);
    lv_scoring *sc;
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    const char *od = lv_test_join(lv_test_tmpdir(), "pope");
    ck_assert_int_eq(lv_official_export(sc, od), LV_OK);
    char *ans = lv_test_read_file(lv_test_join(od, "official/pope_random_answers.jsonl"), NULL);
    ck_assert_str_eq(ans, "{\"question_id\":1,\"text\":\"Yes.\"}\n{\"question_id\":2,\"text\":\"NO\"}\n"
                          "{\"question_id\":3,\"text\":\"There is no person.\"}\n{\"question_id\":4,\"text\":\"It is not there\"}\n");
    free(ans);
    const cJSON *s = sc->summary;
    NEAR(tr_num(s, "pope.random.accuracy"), 0.5);
    NEAR(tr_num(s, "pope.random.precision"), 0.5);
    NEAR(tr_num(s, "pope.random.recall"), 0.5);
    NEAR(tr_num(s, "pope.random.yes_ratio"), 0.5);
    NEAR(tr_num(s, "pope.adversarial.accuracy"), 1.0);
    NEAR(tr_num(s, "pope.mean_accuracy"), 0.75);
    lv_scoring_free(sc);
    lv_preds_free(&p);
    lv_bench_free(b);

    b = tr_bench("tests/eval/mmbench_dev.tsv", NULL);
    const char *ids[] = {"1", "1000001", "2000001", "3000001", "2"};
    for (int i = 0; i < 5; i++) ck_assert_int_eq(lv_preds_add(&p, ids[i], i == 4 ? "A. yes" : "B", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_index(&p), LV_OK);
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    s = sc->summary;
    /* benchmarks.md §6.8: always "B" is right on the original row only -> circular 0 for that
     * question; question 2 right -> 1 of 2 */
    NEAR(tr_num(s, "circular.questions"), 2);
    NEAR(tr_num(s, "circular.accuracy"), 50.0);
    NEAR(tr_num(s, "circular.vanilla_row_accuracy"), 40.0);
    NEAR(tr_num(s, "circular.categories.animals"), 0.0);
    NEAR(tr_num(s, "circular.l2_categories.reasoning"), 100.0);
    lv_scoring_free(sc);
    lv_preds_free(&p);
    lv_bench_free(b);
}
END_TEST

static void tr_write_run(const char *dir, const char *shard)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *bj = cJSON_AddObjectToObject(r, "benchmark");
    cJSON_AddStringToObject(bj, "path", lv_test_path("tests/eval/native"));
    cJSON_AddNumberToObject(r, "seed", 0);
    if (shard) cJSON_AddStringToObject(r, "shard", shard);
    char *fp = lv_run_fingerprint(r);
    cJSON_AddStringToObject(r, "fingerprint", fp);
    char *t = cJSON_Print(r);
    lv_test_write_file(lv_test_join(dir, "run.json"), t, strlen(t));
    free(t);
    free(fp);
    cJSON_Delete(r);
}

START_TEST(test_shard_merge)
{
    lv_bench *b = tr_bench("tests/eval/native", NULL);
    lv_preds all;
    ck_assert_int_eq(lv_preds_load(&all, lv_test_path("tests/eval/runs/native/predictions.jsonl")), LV_OK);
    const int N = 3;
    char dirs[3][512];
    const char *dp[3];
    lv_preds sh[3];
    memset(sh, 0, sizeof sh);
    int count[3] = {0, 0, 0};
    for (int i = 0; i < all.n; i++) {
        int k = lv_shard_of(all.v[i].id, N);
        ck_assert(k >= 0 && k < N);
        ck_assert_int_eq(k, lv_shard_of(all.v[i].id, N));  /* deterministic */
        count[k]++;
        /* shards are written in reverse order: merge must restore benchmark order */
        ck_assert_int_eq(lv_preds_add(&sh[k], all.v[i].id, all.v[i].output, all.v[i].error, all.v[i].time_ms, all.v[i].line), LV_OK);
    }
    ck_assert_int_eq(count[0] + count[1] + count[2], 8);
    for (int k = 0; k < N; k++) {
        snprintf(dirs[k], sizeof dirs[k], "%s/shard%d", lv_test_tmpdir(), k + 1);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dirs[k]);
        ck_assert_int_eq(system(cmd), 0);
        char spec[16];
        snprintf(spec, sizeof spec, "%d/%d", k + 1, N);
        tr_write_run(dirs[k], spec);
        lv_preds rev = {0};
        for (int i = sh[k].n - 1; i >= 0; i--)
            ck_assert_int_eq(lv_preds_add(&rev, sh[k].v[i].id, sh[k].v[i].output, sh[k].v[i].error, sh[k].v[i].time_ms, sh[k].v[i].line), LV_OK);
        ck_assert_int_eq(lv_preds_write(&rev, lv_test_join(dirs[k], "predictions.jsonl")), LV_OK);
        lv_preds_free(&rev);
        lv_preds_free(&sh[k]);
        dp[k] = dirs[k];
    }
    lv_preds merged;
    ck_assert_msg(lv_preds_merge(&merged, b, dp, N) == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(merged.n, 8);
    lv_scoring *a, *m;
    ck_assert_int_eq(lv_score_run(&a, b, &all), LV_OK);
    ck_assert_int_eq(lv_score_run(&m, b, &merged), LV_OK);
    char *ja = cJSON_Print(a->summary), *jm = cJSON_Print(m->summary);
    ck_assert_str_eq(ja, jm);   /* field by field, hash included */
    free(ja);
    free(jm);
    lv_scoring_free(a);
    lv_scoring_free(m);
    lv_preds_free(&merged);

    /* the same id with a different output in two shards is refused */
    lv_preds x = {0};
    ck_assert_int_eq(lv_preds_add(&x, "yn1", "No", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_write(&x, lv_test_join(dirs[lv_shard_of("yn1", N) == 0 ? 1 : 0], "predictions.jsonl")), LV_OK);
    lv_preds_free(&x);
    ck_assert_int_eq(lv_preds_merge(&merged, b, dp, N), LV_ERR_INPUT);
    ck_assert_msg(strstr(lv_last_error(), "id yn1 has different outputs"), "%s", lv_last_error());
    /* an id the benchmark does not have is refused */
    ck_assert_int_eq(lv_preds_add(&x, "ghost", "x", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_write(&x, lv_test_join(dirs[0], "predictions.jsonl")), LV_OK);
    lv_preds_free(&x);
    ck_assert_int_eq(lv_preds_merge(&merged, b, dp, N), LV_ERR_INPUT);
    ck_assert_msg(strstr(lv_last_error(), "id ghost is not in the benchmark"), "%s", lv_last_error());

    int k, n;
    ck_assert_int_eq(lv_shard_parse("2/3", &k, &n), LV_OK);
    ck_assert_int_eq(k, 1);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(lv_shard_parse("4/3", &k, &n), LV_ERR_ARG);
    ck_assert_int_eq(lv_shard_parse("0/3", &k, &n), LV_ERR_ARG);
    ck_assert_int_eq(lv_shard_parse("1-3", &k, &n), LV_ERR_ARG);
    lv_preds_free(&all);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_resume_fingerprint)
{
    cJSON *r = cJSON_Parse("{\"model\":\"m\",\"seed\":0,\"start_time\":\"t1\",\"shard\":\"1/2\"}");
    cJSON *r2 = cJSON_Parse("{\"model\":\"m\",\"seed\":0,\"start_time\":\"t2\"}");
    cJSON *r3 = cJSON_Parse("{\"model\":\"m\",\"seed\":1,\"start_time\":\"t1\"}");
    char *f1 = lv_run_fingerprint(r), *f2 = lv_run_fingerprint(r2), *f3 = lv_run_fingerprint(r3);
    ck_assert_str_eq(f1, f2);        /* start time and shard do not matter */
    cJSON *r4 = cJSON_Parse("{\"model\":{\"path\":\"/a\",\"config_hash\":\"1\"},\"runtime\":{\"threads\":4}}");
    cJSON *r5 = cJSON_Parse("{\"model\":{\"path\":\"/b\",\"config_hash\":\"1\"},\"runtime\":{\"threads\":1}}");
    char *f4 = lv_run_fingerprint(r4), *f5 = lv_run_fingerprint(r5);
    ck_assert_str_eq(f4, f5);        /* nor where the model is, nor the thread count */
    free(f4);
    free(f5);
    cJSON_Delete(r4);
    cJSON_Delete(r5);
    ck_assert_str_ne(f1, f3);        /* the seed does */
    const char *dir = lv_test_join(lv_test_tmpdir(), "");
    ck_assert_int_eq(lv_run_check_resume(lv_test_tmpdir(), f1), LV_OK);   /* no run.json yet */
    char *t = NULL;
    ck_assert(asprintf(&t, "{\"fingerprint\":\"%s\"}", f1) > 0);
    lv_test_write_file(lv_test_join(lv_test_tmpdir(), "run.json"), t, strlen(t));
    ck_assert_int_eq(lv_run_check_resume(lv_test_tmpdir(), f1), LV_OK);
    ck_assert_int_eq(lv_run_check_resume(lv_test_tmpdir(), f3), LV_ERR_INPUT);
    ck_assert_msg(strstr(lv_last_error(), "run.json: fingerprint"), "%s", lv_last_error());
    (void)dir;
    free(t);
    free(f1);
    free(f2);
    free(f3);
    cJSON_Delete(r);
    cJSON_Delete(r2);
    cJSON_Delete(r3);
}
END_TEST

/* A fake thumbnailer: a 1x1 GIF for any image. */
static int tr_thumb(const char *path, const unsigned char *bytes, size_t n, unsigned char **out, size_t *out_n)
{
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    (void)path;
    (void)bytes;
    (void)n;
    *out = malloc(sizeof gif - 1);
    memcpy(*out, gif, sizeof gif - 1);
    *out_n = sizeof gif - 1;
    return 0;
}

START_TEST(test_report_files)
{
    lv_bench *b = tr_bench("tests/eval/native", NULL);
    lv_preds p;
    ck_assert_int_eq(lv_preds_load(&p, lv_test_path("tests/eval/runs/native/predictions.jsonl")), LV_OK);
    lv_scoring *sc;
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    const char *dir = lv_test_join(lv_test_tmpdir(), "report");
    ck_assert_int_eq(lv_report_write(sc, dir, NULL), LV_OK);
    ck_assert_int_eq(lv_official_export(sc, dir), LV_OK);
    char *html = lv_test_read_file(lv_test_join(dir, "report.html"), NULL);
    char *md = lv_test_read_file(lv_test_join(dir, "report.md"), NULL);
    char *js = lv_test_read_file(lv_test_join(dir, "summary.json"), NULL);
    char *ans = lv_test_read_file(lv_test_join(dir, "official/answers_llava.jsonl"), NULL);
    ck_assert(html && md && js && ans);
    ck_assert(strstr(html, "<svg") && strstr(html, "data:image/png;base64,"));
    ck_assert(strstr(html, "Yes, it is blue."));
    ck_assert(!strstr(html, "<script"));
    ck_assert(strstr(md, "## Categories") && strstr(md, "| color | 3 | 3 | 3 | 2 | 0 | 66.67 |"));
    ck_assert(strstr(js, sc->hash));
    ck_assert(strstr(ans, "\"question_id\":7"));
    free(html);
    free(md);
    free(js);
    free(ans);
    lv_scoring_free(sc);

    /* a thumbnailer replaces the embedded originals */
    lv_report_set_thumbnailer(tr_thumb);
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    const char *d3 = lv_test_join(lv_test_tmpdir(), "thumbs");
    ck_assert_int_eq(lv_report_write(sc, d3, NULL), LV_OK);
    lv_report_set_thumbnailer(NULL);
    html = lv_test_read_file(lv_test_join(d3, "report.html"), NULL);
    ck_assert(strstr(html, "data:image/gif;base64,R0lGODlh"));
    ck_assert(!strstr(html, "data:image/png"));
    free(html);
    lv_scoring_free(sc);
    lv_preds_free(&p);
    lv_bench_free(b);

    /* VQA results json: [{question_id, answer}] with the normalized answer */
    b = tr_bench("tests/eval/vqav2/v2_OpenEnded_mscoco_val2014_questions.json", "tests/eval/coco/val2014");
    lv_preds q = {0};
    ck_assert_int_eq(lv_preds_add(&q, "421", "Two.", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_add(&q, "420", "Dark red", NULL, 0, NULL), LV_OK);
    ck_assert_int_eq(lv_preds_index(&q), LV_OK);
    ck_assert_int_eq(lv_score_run(&sc, b, &q), LV_OK);
    NEAR(tr_num(sc->summary, "vqa.accuracy"), 100.0);
    NEAR(tr_num(sc->summary, "categories.number.score"), 100.0);
    NEAR(tr_num(sc->summary, "subcategories.how many.n"), 1);
    const char *d2 = lv_test_join(lv_test_tmpdir(), "vqa");
    ck_assert_int_eq(lv_official_export(sc, d2), LV_OK);
    char *v = lv_test_read_file(lv_test_join(d2, "official/vqa_results.json"), NULL);
    ck_assert_str_eq(v, "[{\"question_id\":420,\"answer\":\"dark red\"},{\"question_id\":421,\"answer\":\"2\"}]");
    free(v);
    lv_scoring_free(sc);
    lv_preds_free(&q);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_select_and_line)
{
    lv_bench *b = tr_bench("tests/eval/native", NULL);
    unsigned char keep[64], k2[64], un[64];
    ck_assert_int_eq(lv_bench_select(b, 0, 0, 0, 0, 1, keep), 8);      /* every readable sample */
    ck_assert_int_eq(lv_bench_select(b, 3, 0, 0, 0, 1, keep), 3);
    ck_assert(keep[0] && keep[1] && keep[2] && !keep[3]);
    ck_assert_int_eq(lv_bench_select(b, 0, 4, 7, 0, 1, keep), 4);
    ck_assert_int_eq(lv_bench_select(b, 0, 4, 7, 0, 1, k2), 4);
    ck_assert(!memcmp(keep, k2, (size_t)b->n));                          /* deterministic */
    ck_assert_int_eq(lv_bench_select(b, 0, 4, 8, 0, 1, k2), 4);
    ck_assert(memcmp(keep, k2, (size_t)b->n));                           /* the seed matters */
    memset(un, 0, sizeof un);
    long total = 0;
    for (int k = 0; k < 3; k++) {                                        /* shards partition the sample */
        total += lv_bench_select(b, 0, 4, 7, k, 3, k2);
        for (int i = 0; i < b->n; i++) {
            ck_assert(!(un[i] && k2[i]));
            un[i] |= k2[i];
        }
    }
    ck_assert_int_eq(total, 4);
    ck_assert(!memcmp(un, keep, (size_t)b->n));

    lv_pred_info info = {2, 2, 2, 0.0, "low_confidence", 0, 40, 729, 12.5};
    const lv_sample *s = &b->samples[2];   /* mc1: gold B */
    char *line = lv_pred_line(b, s, "P", "The answer is B.", NULL, &info);
    cJSON *o = cJSON_Parse(line);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "extracted")->valuestring, "B");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "correct")));
    NEAR(tr_num(o, "gen.steps"), 2);
    NEAR(tr_num(o, "n_image_tokens"), 729);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "image")->valuestring, s->images[0]);
    cJSON_Delete(o);
    free(line);
    /* ANLS answers: the text after the last "Answer:" (LLaDA-V's DocVQA filter) */
    line = lv_pred_line(b, &b->samples[7], NULL, "It says hello. Answer: **Hello World**.", NULL, NULL);
    o = cJSON_Parse(line);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "id")->valuestring, "anls1");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "extracted")->valuestring, "Hello World");
    NEAR(cJSON_GetObjectItem(o, "score")->valuedouble, 1.0);
    cJSON_Delete(o);
    free(line);
    line = lv_pred_line(b, &b->samples[3], NULL, NULL, "out of memory", NULL);   /* failed sample */
    o = cJSON_Parse(line);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "output")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "correct")));
    ck_assert_str_eq(cJSON_GetObjectItem(o, "error")->valuestring, "out of memory");
    ck_assert(cJSON_GetObjectItem(o, "meta") && cJSON_GetArraySize(cJSON_GetObjectItem(o, "images")) == 2);
    /* lines written by the runner are read back by the rescoring path: 2 tokens in 12.5 ms */
    lv_preds p = {0};
    cJSON *id = cJSON_GetObjectItem(o, "id");
    ck_assert_int_eq(lv_preds_add(&p, id->valuestring, NULL, "out of memory", 0, line), LV_OK);
    char *l2 = lv_pred_line(b, s, "P", "B", NULL, &info);
    ck_assert_int_eq(lv_preds_add(&p, s->id, "B", NULL, info.time_ms, l2), LV_OK);
    free(l2);
    ck_assert_int_eq(p.v[1].gen_tokens, 2);
    ck_assert_int_eq(lv_preds_index(&p), LV_OK);
    lv_scoring *sc;
    ck_assert_int_eq(lv_score_run(&sc, b, &p), LV_OK);
    NEAR(tr_num(sc->summary, "timing.gen_tokens_per_s"), 160.0);
    NEAR(tr_num(sc->summary, "counts.generation_errors"), 1);
    lv_scoring_free(sc);
    lv_preds_free(&p);
    cJSON_Delete(o);
    free(line);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_progress)
{
    lv_run_progress p;
    char line[160];
    lv_run_progress_init(&p, 100, 10.0);
    lv_run_progress_format(&p, 10.0, line, sizeof line);
    ck_assert_str_eq(line, "0/100   0.0% | ? s/sample | ETA ? | elapsed 0s | score - | unparsed 0");
    lv_run_progress_step(&p, 40.0, 1, 1.0, 1);           /* 30 s: warm-up, kept out of the average */
    lv_run_progress_step(&p, 42.0, 1, 0.0, 0);           /* 2 s */
    lv_run_progress_step(&p, 44.0, 0, 0.0, 1);           /* 2 s, not scored */
    NEAR(p.ema, 2.0);
    lv_run_progress_format(&p, 44.0, line, sizeof line);
    ck_assert_str_eq(line, "3/100   3.0% | 2.00 s/sample | ETA 3m14s | elapsed 34s | score 50.00 | unparsed 1");
    lv_run_progress_step(&p, 48.0, 1, 1.0, 1);           /* 4 s -> 0.9 * 2 + 0.1 * 4 */
    NEAR(p.ema, 2.2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, test_preds_truncated);
    tcase_add_test(tc, test_score_native);
    tcase_add_test(tc, test_score_mme);
    tcase_add_test(tc, test_score_pope_mmbench);
    tcase_add_test(tc, test_shard_merge);
    tcase_add_test(tc, test_resume_fingerprint);
    tcase_add_test(tc, test_report_files);
    tcase_add_test(tc, test_select_and_line);
    tcase_add_test(tc, test_progress);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
