/* test_metrics.c - every scoring rule of pipeline/metrics.c against the known values of
 * benchmarks.md §6 (verified there with the reference scripts). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "testutil.h"

#define REL_EQ(got, want, rel)                                                                   \
    ck_assert_msg(fabs((got) - (want)) <= (rel) * fmax(1e-300, fabs(want)) + 1e-15,             \
                  "%s = %.12g, want %.12g", #got, (double)(got), (double)(want))

START_TEST(test_yesno_table)
{
    /* §6.2 parsing table: response, official MME, lmms-eval MME, POPE, VLMEvalKit */
    static const struct { const char *r; int mme, lmms, pope, vlm; } t[] = {
        {"Yes", LV_YN_YES, LV_YN_YES, LV_YN_YES, LV_YN_YES},
        {"No.", LV_YN_NO, LV_YN_NO, LV_YN_NO, LV_YN_NO},
        {"Not sure", LV_YN_NO, LV_YN_NO, LV_YN_YES, LV_YN_OTHER},
        {"eyes", LV_YN_YES, LV_YN_YES, LV_YN_YES, LV_YN_OTHER},
        {"Y", LV_YN_OTHER, LV_YN_YES, LV_YN_YES, LV_YN_OTHER},
        {"NO", LV_YN_NO, LV_YN_NO, LV_YN_YES, LV_YN_NO},
        {"I think yes", LV_YN_OTHER, LV_YN_OTHER, LV_YN_YES, LV_YN_YES},
        {"There is no dog in the image.", LV_YN_OTHER, LV_YN_OTHER, LV_YN_NO, LV_YN_NO},
        {"Yes, there is a cat. No other animals.", LV_YN_YES, LV_YN_YES, LV_YN_YES, LV_YN_OTHER},
        {"I don't think so", LV_YN_OTHER, LV_YN_OTHER, LV_YN_YES, LV_YN_OTHER},
        {"yes and no", LV_YN_YES, LV_YN_YES, LV_YN_NO, LV_YN_OTHER},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        ck_assert_msg(lv_yesno_parse(t[i].r, LV_YNRULE_MME) == (lv_yn)t[i].mme, "mme %s", t[i].r);
        ck_assert_msg(lv_yesno_parse(t[i].r, LV_YNRULE_LMMS) == (lv_yn)t[i].lmms, "lmms %s", t[i].r);
        ck_assert_msg(lv_yesno_parse(t[i].r, LV_YNRULE_POPE) == (lv_yn)t[i].pope, "pope %s", t[i].r);
        ck_assert_msg(lv_yesno_parse(t[i].r, LV_YNRULE_VLMEVAL) == (lv_yn)t[i].vlm, "vlmeval %s", t[i].r);
    }
    ck_assert_int_eq(lv_yesno_parse("yes/no", LV_YNRULE_VLMEVAL), LV_YN_OTHER);
    ck_assert_int_eq(lv_yesno_gold(" Yes "), LV_YN_YES);
    ck_assert_int_eq(lv_yesno_gold("no"), LV_YN_NO);
    ck_assert_int_eq(lv_yesno_gold("maybe"), LV_YN_OTHER);
}
END_TEST

START_TEST(test_pope_hand)
{
    /* §6.3: labels y y y y n n n n, predictions y y y n y y n n */
    const char *lab = "yyyynnnn", *pred = "yyynyynn";
    lv_yn_counts c = {0};
    for (int i = 0; i < 8; i++)
        lv_yn_counts_add(&c, lab[i] == 'y' ? LV_YN_YES : LV_YN_NO, pred[i] == 'y' ? LV_YN_YES : LV_YN_NO);
    ck_assert_int_eq(c.tp, 3);
    ck_assert_int_eq(c.fn, 1);
    ck_assert_int_eq(c.fp, 2);
    ck_assert_int_eq(c.tn, 2);
    lv_pope_scores s = lv_pope_scores_of(&c);
    REL_EQ(s.accuracy, 0.625, 1e-12);
    REL_EQ(s.precision, 0.6, 1e-12);
    REL_EQ(s.recall, 0.75, 1e-12);
    REL_EQ(s.f1, 2.0 / 3.0, 1e-12);
    REL_EQ(s.yes_ratio, 0.625, 1e-12);
}
END_TEST

START_TEST(test_mme_hand)
{
    /* §6.2: two images, image 1 both right, image 2 one right -> acc 75, acc+ 50, score 125 */
    const char *g[] = {"img1", "img2", "img1", "img2"};
    const int ok[] = {1, 0, 1, 1};
    lv_group_scores s;
    ck_assert_int_eq(lv_group_accuracy(g, ok, 4, &s), LV_OK);
    REL_EQ(s.acc, 75.0, 1e-12);
    REL_EQ(s.acc_plus, 50.0, 1e-12);
    REL_EQ(s.acc + s.acc_plus, 125.0, 1e-12);
    ck_assert_int_eq(lv_mme_is_cognition("code_reasoning"), 1);
    ck_assert_int_eq(lv_mme_is_cognition("OCR"), 0);
    ck_assert_int_eq(lv_mme_is_cognition("ocr"), 0);
    ck_assert_int_eq(lv_mme_is_cognition("foo"), -1);
}
END_TEST

START_TEST(test_mc_mmmu)
{
    /* §6.7 with options A red, B blue, C green, D yellow */
    const char *ch[] = {"red", "blue", "green", "yellow"};
    static const struct { const char *r; int want; } t[] = {
        {"B", 1}, {"(B)", 1}, {"B.", 1}, {"Answer: A", 0}, {"The answer is (C).", 2},
        {"A and B are wrong, the answer is D", 3}, {"C, D", 3},
        {"I think the color is blue because the sky is", 1}, {"b", -1}, {"blue", -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        ck_assert_msg(lv_mc_mmmu(t[i].r, ch, 4) == t[i].want, "mmmu '%s' -> %d, want %d", t[i].r,
                      lv_mc_mmmu(t[i].r, ch, 4), t[i].want);
}
END_TEST

START_TEST(test_mc_can_infer)
{
    const char *ch[] = {"cat", "dog", "bird", "fish"};
    ck_assert_int_eq(lv_mc_can_infer("B", ch, 4), 1);
    ck_assert_int_eq(lv_mc_can_infer("(C) bird", ch, 4), 2);
    ck_assert_int_eq(lv_mc_can_infer("The answer is D.", ch, 4), 3);
    ck_assert_int_eq(lv_mc_can_infer("A or B", ch, 4), -1);
    ck_assert_int_eq(lv_mc_can_infer("It is a dog", ch, 4), 1);          /* text match */
    ck_assert_int_eq(lv_mc_can_infer("a dog chasing a cat", ch, 4), -1); /* two texts */
    ck_assert_int_eq(lv_mc_can_infer("nothing", ch, 4), -1);
    ck_assert_int_eq(lv_mc_gold_index("B", 4), 1);
    ck_assert_int_eq(lv_mc_gold_index("(d)", 4), 3);
    ck_assert_int_eq(lv_mc_gold_index("E", 4), -1);
}
END_TEST

START_TEST(test_mmbench_circular)
{
    /* §6.8: original row answer B, rotated copies answer A, D, C; a model always saying "B" */
    const char *ch[4][4] = {{"cat", "dog", "bird", "fish"}, {"dog", "bird", "fish", "cat"},
                            {"bird", "fish", "cat", "dog"}, {"fish", "cat", "dog", "bird"}};
    const char gold[4] = {'B', 'A', 'D', 'C'};
    const char *group[4] = {"7", "7", "7", "7"};
    int ok[4];
    for (int i = 0; i < 4; i++) ok[i] = lv_mc_can_infer("B", ch[i], 4) == gold[i] - 'A';
    lv_group_scores s;
    ck_assert_int_eq(lv_group_accuracy(group, ok, 4, &s), LV_OK);
    ck_assert_int_eq(s.n_groups, 1);
    ck_assert_int_eq(s.n_groups_correct, 0);
    ck_assert_int_eq(ok[0], 1);   /* vanilla accuracy on the original row: 1 */
}
END_TEST

static int mm_has_num(const lv_mmmu_pred *p, double v)
{
    for (int i = 0; i < p->n_nums; i++)
        if (p->nums[i] == v) return 1;
    return 0;
}

static int mm_has_str(const lv_mmmu_pred *p, const char *s)
{
    for (int i = 0; i < p->n_strs; i++)
        if (!strcmp(p->strs[i], s)) return 1;
    return 0;
}

START_TEST(test_mmmu_open)
{
    lv_mmmu_pred p;
    ck_assert_int_eq(lv_mmmu_open_parse("The answer is 42.", &p), LV_OK);
    ck_assert_int_eq(p.n_nums, 1);
    ck_assert_int_eq(p.n_strs, 0);
    ck_assert(mm_has_num(&p, 42.0));
    const char *g42[] = {"42"};
    ck_assert(lv_mmmu_open_correct(&p, g42, 1));
    lv_mmmu_pred_free(&p);

    ck_assert_int_eq(lv_mmmu_open_parse("1,234", &p), LV_OK);
    ck_assert_int_eq(p.n_nums, 2);
    ck_assert_int_eq(p.n_strs, 0);
    ck_assert(mm_has_num(&p, 1234.0) && mm_has_num(&p, 234.0));
    lv_mmmu_pred_free(&p);

    ck_assert_int_eq(lv_mmmu_open_parse("so the result is 3.5 meters", &p), LV_OK);
    ck_assert_int_eq(p.n_nums, 1);
    ck_assert_int_eq(p.n_strs, 1);
    ck_assert(mm_has_num(&p, 3.5) && mm_has_str(&p, "3.5 meters"));
    const char *gm[] = {"meters"}, *gx[] = {"4"};
    ck_assert(lv_mmmu_open_correct(&p, gm, 1));
    ck_assert(!lv_mmmu_open_correct(&p, gx, 1));
    lv_mmmu_pred_free(&p);

    /* "step b" vs gold "B": gold normalizes to " b"/"b " and is a substring */
    ck_assert_int_eq(lv_mmmu_open_parse("step b", &p), LV_OK);
    const char *gb[] = {"B"};
    ck_assert(lv_mmmu_open_correct(&p, gb, 1));
    lv_mmmu_pred_free(&p);

    /* the plain-number pattern ends with \b: "1a" and "12so" hold no number */
    ck_assert_int_eq(lv_mmmu_open_parse("1a no12someters 7", &p), LV_OK);
    ck_assert_int_eq(p.n_nums, 1);
    ck_assert(mm_has_num(&p, 7.0));
    const char *g12[] = {"12"};
    ck_assert(!lv_mmmu_open_correct(&p, g12, 1));
    lv_mmmu_pred_free(&p);

    ck_assert_int_eq(lv_mmmu_open_parse("It is 1.5e3 or -2 units", &p), LV_OK);
    ck_assert(mm_has_num(&p, 1500.0) && mm_has_num(&p, -2.0));
    lv_mmmu_pred_free(&p);
}
END_TEST

START_TEST(test_vqa_normalize)
{
    /* §6.5 normalizer column */
    static const char *t[][2] = {
        {"Two.", "2"}, {"A dog.", "dog"}, {"dont know", "don't know"}, {"3,000", "3000"},
        {"yes!", "yes"}, {"hot-dog", "hot dog"}, {"1.5", "1.5"}, {"U.S.A.", "usa"},
        {"(a) red", "red"}, {"man's hat", "man 's hat"}, {"red/white", "red white"},
        {"10:30", "10:30"}, {"none", "0"}, {"twenty", "twenty"}, {"one hundred", "1 hundred"},
        {" Tennis  racket ", "tennis racket"},
        {"0.!1 !", "0.1"},   /* punctuation pass first, then the period rule on its result */
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char *n = lv_vqa_normalize(t[i][0]);
        ck_assert_msg(n && !strcmp(n, t[i][1]), "normalize '%s' -> '%s', want '%s'", t[i][0], n, t[i][1]);
        free(n);
    }
}
END_TEST

START_TEST(test_vqa_accuracy)
{
    const char *g[10];
    /* k matching answers -> 0, .3, .6, .9, 1 */
    const double want[] = {0.0, 0.3, 0.6, 0.9, 1.0, 1.0};
    for (int k = 0; k <= 5; k++) {
        for (int i = 0; i < 10; i++) g[i] = i < k ? "cat" : "dog";
        if (k == 0)
            for (int i = 0; i < 10; i++) g[i] = "dog";
        REL_EQ(lv_vqa_accuracy("cat", g, 10), want[k], 1e-12);
    }
    for (int i = 0; i < 10; i++) g[i] = i < 2 ? "red" : i < 7 ? "dark red" : "maroon";
    REL_EQ(lv_vqa_accuracy("red", g, 10), 0.6, 1e-12);
    REL_EQ(lv_vqa_accuracy("Red", g, 10), 0.6, 1e-12);
    REL_EQ(lv_vqa_accuracy("dark red", g, 10), 1.0, 1e-12);
    REL_EQ(lv_vqa_accuracy("maroon", g, 10), 0.9, 1e-12);
    REL_EQ(lv_vqa_accuracy("blue", g, 10), 0.0, 1e-12);
    for (int i = 0; i < 10; i++) g[i] = "yes";
    REL_EQ(lv_vqa_accuracy("Yes", g, 10), 1.0, 1e-12);
    for (int i = 0; i < 10; i++) g[i] = i < 4 ? "2" : i < 7 ? "two" : "3";
    REL_EQ(lv_vqa_accuracy("two", g, 10), 1.0, 1e-12);
    REL_EQ(lv_vqa_accuracy("Two", g, 10), 1.0, 1e-12);
    REL_EQ(lv_vqa_accuracy("2", g, 10), 1.0, 1e-12);
    REL_EQ(lv_vqa_accuracy("3", g, 10), 0.9, 1e-12);
    const char *e[] = {"The Dog.", "cat"};
    ck_assert(lv_exact_match("dog", e, 2, 1));
    ck_assert(!lv_exact_match("dog", e, 2, 0));
    ck_assert(lv_exact_match(" cat ", e, 2, 0));
}
END_TEST

START_TEST(test_relaxed)
{
    /* §6.6: (prediction, target) */
    static const struct { const char *p, *t; int ok; } r[] = {
        {"12.5", "12", 1}, {"12.7", "12", 0}, {"95", "100", 1}, {"94.9", "100", 0},
        {"20%", "0.2", 1}, {"19%", "20", 0}, {"Yes", "yes", 1}, {"0", "0", 1},
        {"0.0", "0", 0}, {"1,000", "1000", 0}, {"12.0", "12", 1},
    };
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        ck_assert_msg(lv_relaxed_correct(r[i].p, r[i].t) == r[i].ok, "relaxed %s %s", r[i].p, r[i].t);
    double v;
    ck_assert(lv_py_float(" 1_000 ", 7, &v) && v == 1000.0);
    ck_assert(!lv_py_float("0x10", 4, &v));
    ck_assert(lv_py_float("-Inf", 4, &v) && isinf(v) && v < 0);
}
END_TEST

START_TEST(test_anls)
{
    const char *g1[] = {"0.28"}, *g2[] = {"Hello World"}, *g3[] = {"receipt", "the receipt"},
               *g4[] = {"apple"}, *g5[] = {"ab"}, *g6[] = {"1/2"}, *g7[] = {"Dr. Smith", "Smith"},
               *g8[] = {"TALKINGHEADS"}, *g9[] = {"hello   world"};
    for (int v = 0; v < 2; v++) {
        REL_EQ(lv_anls("0.29", g1, 1, (lv_anls_variant)v), 0.75, 1e-12);
        REL_EQ(lv_anls("hello world", g2, 1, (lv_anls_variant)v), 1.0, 1e-12);
        REL_EQ(lv_anls("reciept", g3, 2, (lv_anls_variant)v), 0.714286, 1e-6);
        REL_EQ(lv_anls("orange", g4, 1, (lv_anls_variant)v), 0.0, 1e-12);
        REL_EQ(lv_anls("abcde", g5, 1, (lv_anls_variant)v), 0.0, 1e-12);
        REL_EQ(lv_anls("1/2 cup", g6, 1, (lv_anls_variant)v), 0.0, 1e-12);
        REL_EQ(lv_anls("smith", g7, 2, (lv_anls_variant)v), 1.0, 1e-12);
        REL_EQ(lv_anls("TVLKINGHEVDS", g8, 1, (lv_anls_variant)v), 0.833333, 1e-6);
    }
    REL_EQ(lv_anls("hello wrld", g9, 1, LV_ANLS_LMMS), 0.923077, 1e-6);
    REL_EQ(lv_anls("hello wrld", g9, 1, LV_ANLS_OFFICIAL), 0.909091, 1e-6);
    REL_EQ(lv_anls("ac", g5, 1, LV_ANLS_OFFICIAL), 0.0, 1e-12);
    REL_EQ(lv_anls("ac", g5, 1, LV_ANLS_LMMS), 0.5, 1e-12);
}
END_TEST

/* Corpus + per-image caption scores of pre-tokenized inputs. */
static lv_caption_scores cap_run(int n, const char **cands, const char ***refs, const int *nr, double *cider,
                                 double *rouge)
{
    lv_caption_scores s;
    ck_assert_int_eq(lv_caption_score(cands, (const char *const *const *)refs, nr, n, 0, &s, cider, rouge, NULL),
                     LV_OK);
    return s;
}

START_TEST(test_captions_vectors)
{
    const double R = 1e-9;
    double ci[3], ro[3];
    {   /* two images, candidate = reference */
        const char *c[] = {"a cat", "a dog"}, *r0[] = {"a cat"}, *r1[] = {"a dog"}, **r[] = {r0, r1};
        int nr[] = {1, 1};
        lv_caption_scores s = cap_run(2, c, r, nr, ci, ro);
        REL_EQ(s.cider, 5.0, R);
        REL_EQ(s.bleu[0], 1.0, R);
        REL_EQ(s.bleu[1], 1.0, R);
        REL_EQ(s.bleu[2], 0.01, 1e-6);
        REL_EQ(s.bleu[3], 0.001, 1e-6);
        REL_EQ(s.rouge_l, 1.0, R);
    }
    {
        const char *c[] = {"a cat sat on the mat", "a dog ran in the park"};
        const char *r0[] = {"a cat sat on the mat"}, *r1[] = {"a dog ran in the park"}, **r[] = {r0, r1};
        int nr[] = {1, 1};
        lv_caption_scores s = cap_run(2, c, r, nr, ci, ro);
        REL_EQ(s.cider, 10.0, R);
        for (int k = 0; k < 4; k++) REL_EQ(s.bleu[k], 1.0, R);
        REL_EQ(s.rouge_l, 1.0, R);
    }
    {
        const char *c[] = {"a cat sat", "a dog ran in the park"};
        const char *r0[] = {"a cat sat on the mat"}, *r1[] = {"a dog ran in the park"}, **r[] = {r0, r1};
        int nr[] = {1, 1};
        lv_caption_scores s = cap_run(2, c, r, nr, ci, ro);
        REL_EQ(ci[0], 4.0585201088, R);
        REL_EQ(s.cider, 7.0292600544, R);
        for (int k = 0; k < 4; k++) REL_EQ(s.bleu[k], 0.7165313104, R);
        REL_EQ(s.rouge_l, 0.8144329897, R);
    }
    const char *ra[] = {"a cat sits on a mat", "there is a cat on the mat"};
    const char *rb[] = {"a dog runs in the park", "a brown dog is running on grass"};
    {
        const char *c[] = {"a cat is on the mat"}, **r[] = {ra};
        int nr[] = {2};
        lv_caption_scores s = cap_run(1, c, r, nr, ci, ro);
        REL_EQ(s.cider, 0.0, R);
        REL_EQ(s.bleu[0], 0.9999999997, R);
        REL_EQ(s.bleu[1], 0.7745966690, R);
        REL_EQ(s.bleu[2], 0.5313292844, R);
        REL_EQ(s.bleu[3], 0.0000840896, 1e-6);
        REL_EQ(s.rouge_l, 0.7587064677, R);
    }
    {
        const char *c[] = {"a cat is on the mat", "a dog is running in the park"}, **r[] = {ra, rb};
        int nr[] = {2, 2};
        lv_caption_scores s = cap_run(2, c, r, nr, ci, ro);
        REL_EQ(s.bleu[0], 0.9999999998, R);
        REL_EQ(s.bleu[1], 0.8528028653, R);
        REL_EQ(s.bleu[2], 0.6235319077, R);
        REL_EQ(s.bleu[3], 0.0000767131, 1e-6);
        REL_EQ(s.rouge_l, 0.7693788093, R);
        REL_EQ(ro[0], 0.7587064677, R);
        REL_EQ(ro[1], 0.7800511509, R);
        REL_EQ(s.cider, 3.1975631186, R);
        REL_EQ(ci[0], 3.2280272742, R);
        REL_EQ(ci[1], 3.1670989630, R);
    }
    {
        const char *c[] = {"a cat sits on a mat", "zebra"}, **r[] = {ra, rb};
        int nr[] = {2, 2};
        lv_caption_scores s = cap_run(2, c, r, nr, ci, ro);
        REL_EQ(s.bleu[0], 0.4196071366, R);
        REL_EQ(s.bleu[1], 0.4532275080, R);
        REL_EQ(s.cider, 3.0234546079, R);
        REL_EQ(ci[0], 6.0469092157, R);
        REL_EQ(ci[1], 0.0, R);
        REL_EQ(s.rouge_l, 0.5, R);
    }
    {
        const char *r0[] = {"a man riding a horse on a beach", "a person rides a horse along the shore",
                            "a horse and rider on the sand"};
        const char *r1[] = {"two dogs playing with a ball", "a pair of dogs play with a red ball",
                            "dogs chase a ball in a yard"};
        const char *r2[] = {"a plate of food with broccoli", "a dish with broccoli and rice",
                            "broccoli and meat on a white plate"};
        const char *c[] = {"a man riding a horse on the beach", "two dogs play with a ball",
                           "a plate with rice and broccoli"};
        const char **r[] = {r0, r1, r2};
        int nr[] = {3, 3, 3};
        lv_caption_scores s = cap_run(3, c, r, nr, ci, ro);
        REL_EQ(s.cider, 2.7971265679, R);
        REL_EQ(ci[0], 3.4868107262, R);
        REL_EQ(ci[1], 3.1457032843, R);
        REL_EQ(ci[2], 1.7588656932, R);
        REL_EQ(s.bleu[0], 0.9999999999, R);
        REL_EQ(s.bleu[1], 0.8401680503, R);
        REL_EQ(s.bleu[2], 0.7066984026, R);
        REL_EQ(s.bleu[3], 0.5985389380, R);
        REL_EQ(s.rouge_l, 0.7916666667, R);
        REL_EQ(ro[0], 0.875, R);
        REL_EQ(ro[1], 0.8333333333, R);
        REL_EQ(ro[2], 0.6666666667, R);
    }
}
END_TEST

START_TEST(test_ptb_tokenize)
{
    static const char *t[][2] = {
        {"A man's hat.", "a man 's hat"},
        {"Two dogs, playing (happily)!", "two dogs playing happily"},
        {"It doesn't fit", "it does n't fit"},
        {"A well-known 3.5 m sign; 3,000 \"people\"", "a well-known 3.5 m sign 3,000 people"},
        {"The U.S. flag -- waving...", "the u.s. flag waving"},
        {"man 's hat , does n't", "man 's hat does n't"},           /* pre-tokenized stays */
        {"I cannot pay $5, 50% off", "i can not pay $ 5 50 % off"},
        {"the dogs' bowls 'here'", "the dogs bowls here"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char *s = lv_ptb_tokenize(t[i][0]);
        ck_assert_msg(s && !strcmp(s, t[i][1]), "ptb '%s' -> '%s', want '%s'", t[i][0], s, t[i][1]);
        free(s);
    }
    /* tokenizing is a no-op on the pre-tokenized vectors */
    const char *c[] = {"A cat sat.", "a dog ran in the park"};
    const char *r0[] = {"A cat sat on the mat."}, *r1[] = {"a dog ran in the park"};
    const char *const *r[] = {r0, r1};
    int nr[] = {1, 1};
    lv_caption_scores s;
    ck_assert_int_eq(lv_caption_score(c, r, nr, 2, 1, &s, NULL, NULL, NULL), LV_OK);
    REL_EQ(s.cider, 7.0292600544, 1e-9);
}
END_TEST

START_TEST(test_helpers)
{
    /* §6.9: judge pairs (8,6), (9,9), (7,4) -> means 8.0 / 6.333 -> 79.2 */
    const double ref[] = {8, 9, 7}, cand[] = {6, 9, 4};
    double rel = lv_llava_bench_relative(ref, cand, 3);
    REL_EQ(rel, 100.0 * 19.0 / 24.0, 1e-12);
    REL_EQ(round(rel * 10.0) / 10.0, 79.2, 1e-12);
    const double v[] = {4, 1, 3, 2};
    REL_EQ(lv_percentile(v, 4, 0.5), 2.5, 1e-12);
    REL_EQ(lv_percentile(v, 4, 0.9), 3.7, 1e-12);
    ck_assert(lv_hash64(LV_HASH64_INIT, "a", 1) != lv_hash64(LV_HASH64_INIT, "b", 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, test_yesno_table);
    tcase_add_test(tc, test_pope_hand);
    tcase_add_test(tc, test_mme_hand);
    tcase_add_test(tc, test_mc_mmmu);
    tcase_add_test(tc, test_mc_can_infer);
    tcase_add_test(tc, test_mmbench_circular);
    tcase_add_test(tc, test_mmmu_open);
    tcase_add_test(tc, test_vqa_normalize);
    tcase_add_test(tc, test_vqa_accuracy);
    tcase_add_test(tc, test_relaxed);
    tcase_add_test(tc, test_anls);
    tcase_add_test(tc, test_captions_vectors);
    tcase_add_test(tc, test_ptb_tokenize);
    tcase_add_test(tc, test_helpers);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
