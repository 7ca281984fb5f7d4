/* test_readers.c - every benchmark reader of pipeline/bench_readers.c on the tiny hand-made
 * files of tests/eval/: fields, aliases, error records for bad lines, escaping paths, TSV
 * quoting, circular groups, prompts and benchmark.json overrides. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bench_readers.h"
#include "testutil.h"

static lv_bench *rt_load(const char *rel, const char *format, const char *image_root)
{
    lv_bench_params p = lv_bench_default_params();
    p.format = format;
    p.image_root = image_root ? lv_test_path(image_root) : NULL;
    lv_bench *b = NULL;
    lv_status st = lv_bench_load(&b, lv_test_path(rel), &p);
    ck_assert_msg(st == LV_OK, "load %s: %s", rel, lv_last_error());
    return b;
}

static const lv_sample *rt_get(const lv_bench *b, const char *id)
{
    for (int i = 0; i < b->n; i++)
        if (b->samples[i].id && !strcmp(b->samples[i].id, id)) return &b->samples[i];
    ck_abort_msg("no sample %s", id);
    return NULL;
}

static int rt_ends(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

START_TEST(test_native)
{
    lv_bench *b = rt_load("tests/eval/native", NULL, NULL);
    ck_assert_str_eq(b->format, "native");
    ck_assert_str_eq(b->name, "tiny-native");
    ck_assert_int_eq(b->n, 16);
    ck_assert_int_eq(b->n_errors, 8);
    const lv_sample *s = rt_get(b, "yn1");
    ck_assert(!s->error);
    ck_assert_int_eq(s->type, LV_QTYPE_YESNO);
    ck_assert_str_eq(s->group, "red");
    ck_assert_int_eq(s->n_images, 1);
    ck_assert(rt_ends(s->images[0], "tests/eval/native/images/red.png"));
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_YESNO);

    s = rt_get(b, "mc1");
    ck_assert_int_eq(s->type, LV_QTYPE_MC);       /* choices without a type -> mc */
    ck_assert_str_eq(s->golds[0], "B");           /* gold given as option text -> letter */
    char *p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "Look closely.\nWhat color is it?\nA. red\nB. blue\nC. green\n"
                        "Answer with the option's letter from the given choices directly.");
    free(p);

    s = rt_get(b, "7");                           /* numeric id, images list, 10 answers */
    ck_assert_int_eq(s->n_images, 2);
    ck_assert_int_eq(s->n_golds, 10);
    ck_assert_int_eq(s->type, LV_QTYPE_OPEN);
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_VQA);
    ck_assert_str_eq(s->meta, "{\"source\":\"hand\"}");
    p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "What color is the first?\nAnswer the question using a single word or phrase.");
    free(p);
    ck_assert_int_eq(b->gen[LV_QTYPE_OPEN].gen_length, 8);   /* benchmark.json override */
    ck_assert_int_eq(b->gen[LV_QTYPE_OPEN].steps, 4);
    ck_assert_int_eq(b->gen[LV_QTYPE_MC].gen_length, 2);     /* default */

    s = rt_get(b, "cap1");
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_CAPTION);
    p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "Provide a one-sentence caption for the provided image.");
    free(p);
    s = rt_get(b, "free1");
    ck_assert_int_eq(s->type, LV_QTYPE_FREE);
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_NONE);
    p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "Please: Describe it.");          /* benchmark.json template */
    free(p);
    s = rt_get(b, "alias1");                              /* question_id / text / label */
    ck_assert_str_eq(s->question, "Is it red?");
    ck_assert_str_eq(s->golds[0], "yes");
    s = rt_get(b, "anls1");
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_ANLS);
    p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "Read the text.");
    free(p);

    /* error records: one line each, naming file and line */
    static const struct { const char *id, *msg; } errs[] = {
        {"line:10", "questions.jsonl:10: not valid JSON"},
        {"line:11", "questions.jsonl:11: missing or empty \"id\""},
        {"esc1", "must be relative and stay inside"},
        {"esc2", "must be relative and stay inside"},
        {"mcbad", "neither an option letter"},
        {"typebad", "\"type\" must be one of"},
        {"line:17", "line is not a JSON object"},
    };
    for (size_t i = 0; i < sizeof errs / sizeof *errs; i++) {
        s = rt_get(b, errs[i].id);
        ck_assert_msg(s->error && strstr(s->error, errs[i].msg), "%s: error '%s'", errs[i].id, s->error);
        ck_assert(!strchr(s->error, '\n'));
    }
    int dup = 0;
    for (int i = 0; i < b->n; i++)
        if (b->samples[i].error && strstr(b->samples[i].error, "duplicate id yn1")) dup++;
    ck_assert_int_eq(dup, 1);
    ck_assert(!rt_get(b, "yn1")->error);   /* the first one stays */
    lv_bench_free(b);
}
END_TEST

START_TEST(test_max_line)
{
    lv_bench_params p = lv_bench_default_params();
    p.max_line = 100;
    lv_bench *b = NULL;
    ck_assert_int_eq(lv_bench_load(&b, lv_test_path("tests/eval/native"), &p), LV_OK);
    const lv_sample *s = rt_get(b, "line:4");   /* the 10-answer line is longer than 100 bytes */
    ck_assert_msg(s->error && strstr(s->error, "exceeds the 100-byte limit"), "%s", s->error);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_llava_jsonl)
{
    lv_bench *b = rt_load("tests/eval/llava_questions.jsonl", NULL, NULL);
    ck_assert_int_eq(b->n, 2);
    ck_assert_int_eq(b->n_errors, 0);
    const lv_sample *s = rt_get(b, "0");
    ck_assert_int_eq(s->type, LV_QTYPE_FREE);
    ck_assert_str_eq(s->category, "conv");
    ck_assert(rt_ends(s->images[0], "tests/eval/native/images/red.png"));
    char *p = lv_bench_prompt(b, s);   /* the suffix is already in the text: kept unchanged */
    ck_assert_str_eq(p, "What color?\nAnswer the question using a single word or phrase.");
    free(p);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_mme)
{
    lv_bench *b = rt_load("tests/eval/mme", NULL, NULL);
    ck_assert_str_eq(b->format, "mme");
    ck_assert_int_eq(b->yn_rule, LV_YNRULE_MME);
    ck_assert_int_eq(b->n, 8);
    ck_assert_int_eq(b->n_errors, 1);
    /* leaderboard order: existence, ..., artwork, ..., code_reasoning */
    ck_assert_str_eq(b->samples[0].id, "existence/000000006040/0");
    const lv_sample *s = rt_get(b, "artwork/10002/1");   /* split layout */
    ck_assert_str_eq(s->question, "Is this artwork created by Monet?");
    ck_assert_str_eq(s->golds[0], "no");
    ck_assert_str_eq(s->group, "artwork/10002");
    ck_assert_str_eq(s->category, "artwork");
    ck_assert(rt_ends(s->images[0], "MME_Benchmark/artwork/images/10002.jpg"));
    s = rt_get(b, "code_reasoning/0001/0");              /* flat layout, png */
    ck_assert(rt_ends(s->images[0], "MME_Benchmark/code_reasoning/0001.png"));
    s = rt_get(b, "existence/000000008277/1");
    ck_assert_msg(s->error && strstr(s->error, "000000008277.txt:2: expected"), "%s", s->error);
    char *p = lv_bench_prompt(b, rt_get(b, "existence/000000006040/0"));
    ck_assert_str_eq(p, "Is there a train in this image?\nAnswer the question using a single word or phrase.");
    free(p);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_mme_txt)
{
    lv_bench *b = rt_load("tests/eval/mme_txt", NULL, NULL);
    ck_assert_str_eq(b->format, "mme_txt");
    ck_assert_int_eq(b->n, 6);
    ck_assert_int_eq(b->n_errors, 0);
    const lv_sample *s = rt_get(b, "existence/000000008277/1");
    ck_assert_str_eq(s->output, "I think yes");
    ck_assert_str_eq(s->group, "existence/pair1");
    lv_bench_free(b);
}
END_TEST

START_TEST(test_pope)
{
    lv_bench *b = rt_load("tests/eval/pope/coco_pope_random.json", NULL, "tests/eval/coco/val2014");
    ck_assert_str_eq(b->format, "pope");
    ck_assert_int_eq(b->yn_rule, LV_YNRULE_POPE);
    ck_assert_int_eq(b->n, 4);
    const lv_sample *s = rt_get(b, "2");
    ck_assert_str_eq(s->category, "random");
    ck_assert_int_eq(s->type, LV_QTYPE_YESNO);
    ck_assert_str_eq(s->golds[0], "no");
    ck_assert(rt_ends(s->images[0], "tests/eval/coco/val2014/COCO_val2014_000000310196.jpg"));
    lv_bench_free(b);
    /* a folder of splits: ids get the split as prefix; a bad label is an error record */
    b = rt_load("tests/eval/pope", NULL, "tests/eval/coco/val2014");
    ck_assert_int_eq(b->n, 6);
    ck_assert_int_eq(b->n_errors, 1);
    ck_assert_str_eq(b->samples[0].id, "adversarial/1");
    ck_assert(strstr(rt_get(b, "adversarial/2")->error, "coco_pope_adversarial.json:2: id adversarial/2: yesno answer"));
    ck_assert(!rt_get(b, "random/4")->error);
    lv_bench_free(b);
}
END_TEST

START_TEST(test_vqav2_textvqa)
{
    lv_bench *b = rt_load("tests/eval/vqav2/v2_OpenEnded_mscoco_val2014_questions.json", NULL, "tests/eval/coco/val2014");
    ck_assert_str_eq(b->format, "vqav2");
    ck_assert_int_eq(b->n, 3);
    const lv_sample *s = rt_get(b, "421");
    ck_assert_int_eq(s->n_golds, 10);
    ck_assert_str_eq(s->category, "number");
    ck_assert_str_eq(s->subcategory, "how many");
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_VQA);
    ck_assert(rt_ends(s->images[0], "val2014/COCO_val2014_000000000042.jpg"));
    ck_assert(strstr(rt_get(b, "422")->error, "no annotation"));
    lv_bench_free(b);

    b = rt_load("tests/eval/textvqa_val.json", NULL, "tests/eval/coco/val2014");
    ck_assert_str_eq(b->format, "textvqa");
    s = rt_get(b, "34602");
    ck_assert_int_eq(s->n_golds, 10);
    ck_assert(rt_ends(s->images[0], "003a8ae2ef43b901.jpg"));
    ck_assert(strstr(rt_get(b, "34603")->error, "unsafe image path '../evil.jpg'"));
    lv_bench_free(b);
}
END_TEST

START_TEST(test_docvqa_chartqa_gqa_seed)
{
    lv_bench *b = rt_load("tests/eval/docvqa_val.json", NULL, "tests/eval");
    ck_assert_str_eq(b->format, "docvqa");
    const lv_sample *s = rt_get(b, "337");
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_ANLS);
    ck_assert(rt_ends(s->images[0], "tests/eval/documents/xnbl0037_1.png"));
    ck_assert_str_eq(s->golds[0], "1/8/93");
    ck_assert(strstr(rt_get(b, "338")->error, "unsafe image path"));
    char *p = lv_bench_prompt(b, s);   /* LLaDA-V's DocVQA task prompt and 32/32/16 */
    ck_assert_str_eq(p, "what is the date mentioned in this letter?\nGive the reason and then write your final answer in "
                        "the format 'Answer: X' where X is the answer to the question.");
    free(p);
    ck_assert_int_eq(b->gen[LV_QTYPE_OPEN].gen_length, 32);
    ck_assert_int_eq(b->gen[LV_QTYPE_OPEN].steps, 16);
    lv_bench_free(b);

    b = rt_load("tests/eval/chartqa/test_human.json", NULL, "tests/eval/chartqa");
    ck_assert_str_eq(b->format, "chartqa");
    ck_assert_int_eq(b->n, 3);
    s = rt_get(b, "test_human/0");             /* no ids in ChartQA: file stem + position */
    ck_assert_str_eq(s->category, "test_human");
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_RELAXED);
    ck_assert(rt_ends(s->images[0], "chartqa/png/41699051005347.png"));
    ck_assert_str_eq(s->golds[0], "12.5");
    ck_assert(strstr(rt_get(b, "test_human/2")->error, "test_human.json:3: record 3: needs"));
    p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "What is the peak value?\nAnswer the question with a single word.");
    free(p);
    ck_assert_str_eq(b->gen[LV_QTYPE_OPEN].stop, "\n");
    lv_bench_free(b);

    b = rt_load("tests/eval/gqa_testdev_balanced_questions.json", NULL, "tests/eval/gqa_images");
    ck_assert_str_eq(b->format, "gqa");
    ck_assert_int_eq(b->n, 2);
    s = rt_get(b, "201307251");
    ck_assert_str_eq(s->question, "Is it overcast?");
    ck_assert_str_eq(s->category, "verify");
    ck_assert_int_eq(lv_bench_metric(b, s), LV_METRIC_EXACT);
    ck_assert(rt_ends(s->images[0], "gqa_images/n161313.jpg"));
    lv_bench_free(b);

    b = rt_load("tests/eval/seed_bench.json", NULL, "tests/eval/seed_images");
    ck_assert_str_eq(b->format, "seed");
    ck_assert_int_eq(b->n, 2);                 /* the video question is left out */
    s = rt_get(b, "101669");
    ck_assert_int_eq(s->type, LV_QTYPE_MC);
    ck_assert_int_eq(s->n_choices, 4);
    ck_assert_str_eq(s->choices[3], "Four");
    ck_assert_str_eq(s->category, "Scene Understanding");
    ck_assert(rt_ends(s->images[0], "seed_images/1454426_2591111986"));
    ck_assert(strstr(rt_get(b, "102")->error, "answer 'E' is not an option letter"));
    lv_bench_free(b);
}
END_TEST

START_TEST(test_scienceqa_images)
{
    lv_bench *b = rt_load("tests/eval/scienceqa", NULL, NULL);
    ck_assert_str_eq(b->format, "scienceqa");
    ck_assert_int_eq(b->n, 3);                 /* problem 8 has no image: not in the IMG subset */
    const lv_sample *s = rt_get(b, "7");
    ck_assert_str_eq(s->golds[0], "A");
    ck_assert_str_eq(s->category, "social science");
    ck_assert(rt_ends(s->images[0], "scienceqa/images/test/7/image.png"));
    char *p = lv_bench_prompt(b, s);          /* no hint: no Context line */
    ck_assert_str_eq(p, "Which of these states is farthest north?\nA. West Virginia\nB. Louisiana\nC. Arizona\n"
                        "D. Oklahoma\nAnswer with the option's letter from the given choices directly.");
    free(p);
    p = lv_bench_prompt(b, rt_get(b, "9"));
    ck_assert_str_eq(p, "Context: Look at the picture.\nSelect the solid.\nA. air\nB. rock\n"
                        "Answer with the option's letter from the given choices directly.");
    free(p);
    ck_assert(strstr(rt_get(b, "10")->error, "answer 5 outside its 2 choices"));
    lv_bench_free(b);

    ck_assert_int_eq(lv_bench_images(&b, lv_test_path("tests/eval/native"), "What is this?"), LV_OK);
    ck_assert_int_eq(b->n, 2);
    ck_assert_str_eq(b->samples[0].id, "images/blue.png");      /* sorted relative paths */
    ck_assert_str_eq(b->samples[1].id, "images/red.png");
    ck_assert_int_eq(b->samples[0].type, LV_QTYPE_FREE);
    p = lv_bench_prompt(b, &b->samples[1]);
    ck_assert_str_eq(p, "What is this?");
    free(p);
    lv_bench_free(b);
    ck_assert_int_eq(lv_bench_images(&b, lv_test_path("tests/eval/vqav2"), "q"), LV_ERR_INPUT);
}
END_TEST

START_TEST(test_coco_karpathy)
{
    lv_bench *b = rt_load("tests/eval/coco/captions_val2014.json", NULL, "tests/eval/coco/val2014");
    ck_assert_str_eq(b->format, "coco");
    ck_assert_int_eq(b->n, 2);
    const lv_sample *s = rt_get(b, "42");
    ck_assert_int_eq(s->type, LV_QTYPE_CAPTION);
    ck_assert_int_eq(s->n_golds, 2);
    ck_assert_str_eq(s->golds[0], "A brown square on a page.");
    ck_assert_str_eq(s->golds[1], "An orange-brown tile.");
    ck_assert_str_eq(rt_get(b, "310196")->golds[1], "A plain grey picture.");
    lv_bench_free(b);

    b = rt_load("tests/eval/coco/dataset_coco.json", NULL, "tests/eval/coco");
    ck_assert_str_eq(b->format, "karpathy");
    ck_assert_int_eq(b->n, 1);   /* split "test" only */
    s = rt_get(b, "42");
    ck_assert(rt_ends(s->images[0], "coco/val2014/COCO_val2014_000000000042.jpg"));
    ck_assert_str_eq(s->golds[0], "A brown square.");
    lv_bench_free(b);
}
END_TEST

START_TEST(test_mmbench)
{
    lv_bench *b = rt_load("tests/eval/mmbench_dev.tsv", NULL, NULL);
    ck_assert_str_eq(b->format, "mmbench");
    ck_assert_int_eq(b->n, 7);
    ck_assert_int_eq(b->n_errors, 2);
    const lv_sample *s = rt_get(b, "1");
    ck_assert_int_eq(s->n_choices, 4);
    ck_assert_ptr_null(s->hint);                       /* nan */
    ck_assert_str_eq(s->group, "1");
    ck_assert_int_eq(s->n_image_bytes > 8, 1);
    ck_assert(!memcmp(s->image_bytes, "\x89PNG", 4));
    const lv_sample *c = rt_get(b, "3000001");         /* rotated copy, image by index */
    ck_assert_str_eq(c->group, "1");
    ck_assert_str_eq(c->golds[0], "C");
    ck_assert_int_eq(c->n_image_bytes, s->n_image_bytes);
    ck_assert(!memcmp(c->image_bytes, s->image_bytes, s->n_image_bytes));
    s = rt_get(b, "2");                                 /* quoted tab, newline, "" */
    ck_assert_str_eq(s->question, "A \"quoted\"\tquestion\nwith a newline?");
    ck_assert_str_eq(s->hint, "Hint, with comma");
    ck_assert_int_eq(s->n_choices, 2);                  /* nan options end the list */
    ck_assert_int_eq(s->line, 6);
    ck_assert_str_eq(s->category, "logic");
    ck_assert_str_eq(s->subcategory, "reasoning");
    char *p = lv_bench_prompt(b, s);
    ck_assert_str_eq(p, "Hint, with comma A \"quoted\"\tquestion\nwith a newline? There are several options:\nA. yes\n"
                        "B. no\nAnswer with the option's letter from the given choices directly.");
    free(p);
    p = lv_bench_prompt(b, rt_get(b, "1"));   /* nan hint: no leading space */
    ck_assert_str_eq(p, "Which animal barks? There are several options:\nA. cat\nB. dog\nC. bird\nD. fish\n"
                        "Answer with the option's letter from the given choices directly.");
    free(p);
    ck_assert(strstr(rt_get(b, "3")->error, "mmbench_dev.tsv:8: 2 fields, header has 12"));
    ck_assert(strstr(rt_get(b, "4")->error, "refers to index 99"));
    lv_bench_free(b);
}
END_TEST

START_TEST(test_failures)
{
    lv_bench *b = NULL;
    lv_bench_params p = lv_bench_default_params();
    ck_assert_int_eq(lv_bench_load(&b, lv_test_path("tests/eval/nope"), &p), LV_ERR_IO);
    ck_assert_ptr_null(b);
    ck_assert(strstr(lv_last_error(), "tests/eval/nope: no such file"));
    ck_assert_int_eq(lv_bench_load(&b, lv_test_path("tests/eval/coco"), &p), LV_ERR_FORMAT);
    p.format = "parquet";
    ck_assert_int_eq(lv_bench_load(&b, lv_test_path("tests/eval/native"), &p), LV_ERR_ARG);
    const char *dir = lv_test_tmpdir();
    const char *manifest = "{\"generation\": {\"mc\": {\"gen_length\": 5, \"block_length\": 2}}}";
    const char *questions = "{\"id\":1,\"question\":\"q\"}\n";
    lv_test_write_file(lv_test_join(dir, "benchmark.json"), manifest, strlen(manifest));
    lv_test_write_file(lv_test_join(dir, "questions.jsonl"), questions, strlen(questions));
    p.format = NULL;
    ck_assert_int_eq(lv_bench_load(&b, dir, &p), LV_ERR_FORMAT);
    ck_assert_msg(strstr(lv_last_error(), "benchmark.json: generation.mc"), "%s", lv_last_error());
    ck_assert(lv_bench_path_ok("images/a.png") && lv_bench_path_ok("a..b/c.png"));
    ck_assert(!lv_bench_path_ok("a/../b.png") && !lv_bench_path_ok("/a") && !lv_bench_path_ok("") && !lv_bench_path_ok(".."));
    /* a byte-order mark and CRLF line ends are accepted */
    const char *bom = "\xEF\xBB\xBF{\"id\":\"a\",\"question\":\"q\",\"answer\":\"yes\"}\r\n{\"id\":\"b\",\"question\":\"r\"}\r\n";
    const char *d2 = lv_test_join(dir, "bom.jsonl");
    lv_test_write_file(d2, bom, strlen(bom));
    ck_assert_int_eq(lv_bench_load(&b, d2, &p), LV_OK);
    ck_assert_int_eq(b->n, 2);
    ck_assert_int_eq(b->n_errors, 0);
    ck_assert_str_eq(b->samples[0].golds[0], "yes");
    lv_bench_free(b);
    /* "answer" repeated in "answers" is one gold (two alternatives stay exact match, not a
     * three-vote VQA accuracy); a different "answer" is kept; VQA's repeated votes stay */
    const char *alt = "{\"id\":\"c\",\"question\":\"how many?\",\"answer\":\"2\",\"answers\":[\"2\",\"two\"]}\n"
                      "{\"id\":\"d\",\"question\":\"q\",\"answer\":\"x\",\"answers\":[\"y\",\"z\"]}\n"
                      "{\"id\":\"e\",\"question\":\"q\",\"answers\":[\"a\",\"a\",\"a\"]}\n";
    const char *d3 = lv_test_join(dir, "alt.jsonl");
    lv_test_write_file(d3, alt, strlen(alt));
    ck_assert_int_eq(lv_bench_load(&b, d3, &p), LV_OK);
    ck_assert_int_eq(b->samples[0].n_golds, 2);
    ck_assert_str_eq(b->samples[0].golds[0], "2");
    ck_assert_str_eq(b->samples[0].golds[1], "two");
    ck_assert_int_eq(lv_bench_metric(b, &b->samples[0]), LV_METRIC_EXACT);
    ck_assert_int_eq(b->samples[1].n_golds, 3);
    ck_assert_int_eq(b->samples[2].n_golds, 3);
    ck_assert_int_eq(lv_bench_metric(b, &b->samples[2]), LV_METRIC_VQA);
    lv_bench_free(b);
    unsigned char *out;
    size_t n;
    ck_assert_int_eq(lv_base64_decode("aGVsbG8=", 8, &out, &n), LV_OK);
    ck_assert_int_eq(n, 5);
    ck_assert(!memcmp(out, "hello", 5));
    free(out);
    ck_assert_int_eq(lv_base64_decode("aGV*bG8=", 8, &out, &n), LV_ERR_FORMAT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("readers");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, test_native);
    tcase_add_test(tc, test_max_line);
    tcase_add_test(tc, test_llava_jsonl);
    tcase_add_test(tc, test_mme);
    tcase_add_test(tc, test_mme_txt);
    tcase_add_test(tc, test_pope);
    tcase_add_test(tc, test_vqav2_textvqa);
    tcase_add_test(tc, test_docvqa_chartqa_gqa_seed);
    tcase_add_test(tc, test_scienceqa_images);
    tcase_add_test(tc, test_coco_karpathy);
    tcase_add_test(tc, test_mmbench);
    tcase_add_test(tc, test_failures);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
