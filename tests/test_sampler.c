/* test_sampler.c - the masked-diffusion sampler (language/diffusion.c) driven by scripted logits,
 * no weights: schedule, block order, ties, bans, EOT stop with the stop-aware candidate region
 * and early exit, cfg, suffix, random remasking and Gumbel noise from the counter RNG, thread
 * independence, the generate.py variant and parameter validation. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion.h"
#include "testutil.h"

#define MASK 99

/* Scripted model: fixed logits per tail row, optionally other ones for the unconditional pass;
 * records what the sampler asked for. */
typedef struct {
    int V, n_tail;
    const float *cond;     /* [n_tail, V] */
    const float *uncond;   /* [n_tail, V] or NULL */
    int calls, uncond_calls;
    int asked_unmasked;    /* a request for a row that is not masked (beyond the first pass) */
    int max_row;           /* largest row requested */
    int first_rows[64];    /* rows of the first call */
    int n_first;
} ts_model;

static lv_status ts_logits(void *m_, const int32_t *tail, int n_tail, int uncond, const int32_t *rows,
                           int n_rows, float *logits)
{
    ts_model *m = m_;
    ck_assert_int_eq(n_tail, m->n_tail);
    if (uncond) m->uncond_calls++;
    else m->calls++;
    for (int i = 0; i < n_rows; i++) {
        if (i > 0) ck_assert_int_lt(rows[i - 1], rows[i]);
        if (rows[i] > m->max_row) m->max_row = rows[i];
        if (m->calls > 1 && tail[rows[i]] != MASK) m->asked_unmasked = 1;
        if (m->calls == 1 && !uncond && i < 64) m->first_rows[m->n_first++] = rows[i];
        const float *src = (uncond ? m->uncond : m->cond) + (size_t)rows[i] * m->V;
        memcpy(logits + (size_t)i * m->V, src, (size_t)m->V * sizeof *logits);
    }
    return LV_OK;
}

static float *ts_peaks(int n, int V, const int *tok, const float *peak)
{
    float *l = calloc((size_t)n * V, sizeof *l);
    for (int j = 0; j < n; j++) l[(size_t)j * V + tok[j]] = peak[j];
    return l;
}

static lv_diffusion_params ts_params(int G, int block, int steps, int V)
{
    lv_diffusion_params p = lv_diffusion_default_params();
    p.gen_length = G;
    p.block_length = block;
    p.steps = steps;
    p.vocab = V;
    p.mask_id = MASK;
    return p;
}

static void ts_run(const lv_diffusion_params *p, ts_model *m, int32_t *ids, int32_t *cs,
                   lv_diffusion_result *r)
{
    memset(r, 0, sizeof *r);
    r->ids = ids;
    r->committed_step = cs;
    ck_assert_int_eq(lv_diffusion_generate(p, ts_logits, m, r), LV_OK);
}

START_TEST(test_schedule)
{
    int s[5];
    lv_diffusion_schedule(s, 10, 4);
    ck_assert(s[0] == 3 && s[1] == 3 && s[2] == 2 && s[3] == 2);
    lv_diffusion_schedule(s, 3, 5);
    ck_assert(s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 0 && s[4] == 0);
}
END_TEST

/* One block, one token per step: the most confident row first. */
START_TEST(test_single_block_order)
{
    enum { G = 6, V = 8 };
    int tok[G] = {1, 2, 3, 4, 5, 6};
    float pk[G] = {1, 2, 3, 4, 5, 6};
    float *l = ts_peaks(G, V, tok, pk);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, G, G, V);
    int32_t ids[G], cs[G];
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    ck_assert_int_eq(r.n_ids, G);
    ck_assert_int_eq(r.n_passes, G);
    for (int j = 0; j < G; j++) {
        ck_assert_int_eq(ids[j], tok[j]);
        ck_assert_int_eq(cs[j], G - 1 - j);
    }
    ck_assert(!m.asked_unmasked);
    free(l);
}
END_TEST

/* Two blocks of 4, 2 steps each: block 0 completes before block 1 is looked at, and passes
 * count from 0 across blocks. */
START_TEST(test_blocks)
{
    enum { G = 8, V = 10 };
    int tok[G] = {1, 2, 3, 4, 5, 6, 7, 8};
    float pk[G] = {1, 2, 3, 4, 5, 6, 7, 8};
    float *l = ts_peaks(G, V, tok, pk);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, 4, 4, V);
    int32_t ids[G], cs[G];
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    int want[G] = {1, 1, 0, 0, 3, 3, 2, 2};
    for (int j = 0; j < G; j++) ck_assert_int_eq(cs[j], want[j]);
    ck_assert_int_eq(r.n_passes, 4);
    ck_assert_int_eq(m.n_first, 4);   /* only the rows of block 0 went through the LM head */
    ck_assert_int_eq(m.first_rows[3], 3);
    free(l);
}
END_TEST

/* Ties: argmax to the lowest id, equal confidences to the lowest position. */
START_TEST(test_ties)
{
    enum { G = 4, V = 5 };
    float *l = calloc(G * V, sizeof *l);
    for (int j = 0; j < G; j++) l[j * V + 1] = l[j * V + 3] = 2.0f;
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, G, G, V);
    int32_t ids[G], cs[G];
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    for (int j = 0; j < G; j++) {
        ck_assert_int_eq(ids[j], 1);
        ck_assert_int_eq(cs[j], j);
    }
    free(l);
}
END_TEST

/* Bans apply at masked rows after logits0 is captured. */
START_TEST(test_bans_and_logits0)
{
    enum { G = 2, V = 6 };
    float l[G * V] = {0, 0, 9, 0, 0, 5, /**/ 0, 0, 9, 0, 0, 4};
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, G, G, V);
    int32_t ban[2] = {2, 0}, ids[G], cs[G];
    float l0[G * V];
    p.ban_ids = ban;
    p.n_ban = 2;
    lv_diffusion_result r = {.ids = ids, .committed_step = cs, .logits0 = l0};
    ck_assert_int_eq(lv_diffusion_generate(&p, ts_logits, &m, &r), LV_OK);
    ck_assert_int_eq(ids[0], 5);
    ck_assert_int_eq(ids[1], 5);
    ck_assert(memcmp(l0, l, sizeof l) == 0);
    ck_assert_int_eq(cs[0], 0);   /* exp(5) vs exp(4) over the unbanned rest: row 0 surer */
}
END_TEST

/* EOT at row 3 first: rows after it are never candidates again (even the more confident
 * ones), the loop ends when no mask remains before it, the response stops before it. */
START_TEST(test_eot_stop_region)
{
    enum { G = 8, V = 10, EOT = 7 };
    int tok[G] = {1, 1, 1, EOT, 2, 2, 2, 2};
    float pk[G] = {1, 2, 3, 20, 10, 11, 12, 13};
    float *l = ts_peaks(G, V, tok, pk);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, G, G, V);
    int32_t eot = EOT, ids[G], cs[G];
    lv_token_seq stop = {&eot, 1};
    p.stops = &stop;
    p.n_stops = 1;
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    ck_assert_int_eq(r.stopped, 1);
    ck_assert_int_eq(r.n_ids, 3);
    ck_assert_int_eq(r.n_passes, 4);
    int want[G] = {3, 2, 1, 0, -1, -1, -1, -1};
    for (int j = 0; j < G; j++) ck_assert_int_eq(cs[j], want[j]);
    ck_assert_int_le(m.max_row, 7);
    ck_assert(!m.asked_unmasked);
    free(l);
}
END_TEST

/* A two-token stop sequence, and an early exit that skips the later block entirely. */
START_TEST(test_stop_sequence_skips_blocks)
{
    enum { G = 8, V = 10 };
    int tok[G] = {4, 5, 6, 1, 1, 1, 1, 1};
    float pk[G] = {9, 8, 7, 1, 2, 3, 4, 5};
    float *l = ts_peaks(G, V, tok, pk);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, 4, 8, V);
    int32_t seq[2] = {5, 6}, ids[G], cs[G];
    lv_token_seq stop = {seq, 2};
    p.stops = &stop;
    p.n_stops = 1;
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    /* passes 0,1,2 commit rows 0,1,2; "5 6" at row 1 -> stop; block 1 never runs */
    ck_assert_int_eq(r.n_ids, 1);
    ck_assert_int_eq(ids[0], 4);
    ck_assert_int_eq(r.n_passes, 3);
    ck_assert_int_le(m.max_row, 3);
    ck_assert_int_eq(cs[3], -1);
    ck_assert_int_eq(cs[4], -1);
    free(l);
}
END_TEST

START_TEST(test_cfg)
{
    enum { G = 3, V = 4 };
    float c[G * V] = {1, 2, 0, 0, /**/ 0, 1, 3, 0, /**/ 2, 0, 0, 1};
    float u[G * V] = {1, 1, 1, 1, /**/ 0, 0, 0, 5, /**/ 0, 3, 0, 0};
    ts_model m = {.V = V, .n_tail = G, .cond = c, .uncond = u};
    lv_diffusion_params p = ts_params(G, G, G, V);
    p.cfg_scale = 2.0;
    int32_t ids[G], cs[G];
    float l0[G * V];
    lv_diffusion_result r = {.ids = ids, .committed_step = cs, .logits0 = l0};
    ck_assert_int_eq(lv_diffusion_generate(&p, ts_logits, &m, &r), LV_OK);
    for (int i = 0; i < G * V; i++) ck_assert_float_eq(l0[i], u[i] + 3.0f * (c[i] - u[i]));
    ck_assert_int_eq(m.uncond_calls, m.calls);
    ck_assert_int_eq(ids[0], 1);   /* guided: 1+3*(2-1)=4 beats 1 */
    ck_assert_int_eq(ids[1], 2);   /* 0+3*3=9 beats 5+3*(0-5)=-10 */
    ck_assert_int_eq(ids[2], 0);   /* 6 vs 3+3*(-3)=-6 */
}
END_TEST

START_TEST(test_suffix)
{
    enum { G = 4, S = 2, V = 6 };
    int tok[G + S] = {1, 2, 3, 4, 0, 0};
    float pk[G + S] = {1, 2, 3, 4, 50, 50};
    float *l = ts_peaks(G + S, V, tok, pk);
    ts_model m = {.V = V, .n_tail = G + S, .cond = l};
    lv_diffusion_params p = ts_params(G, 2, 4, V);
    int32_t suf[S] = {5, 5}, ids[G + S], cs[G];
    p.suffix = suf;
    p.n_suffix = S;
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    ck_assert_int_eq(r.n_ids, G + S);
    ck_assert_int_le(m.max_row, G - 1);
    for (int j = 0; j < G; j++) ck_assert_int_eq(ids[j], tok[j]);
    ck_assert_int_eq(ids[G], 5);
    ck_assert_int_eq(ids[G + 1], 5);
    free(l);
}
END_TEST

/* Random remasking: the first committed row is the argmax of the pass-0 uniforms
 * (stream 1, counter 0·G + j), the same for the same seed. */
START_TEST(test_random_remasking)
{
    enum { G = 6, V = 4 };
    float *l = calloc(G * V, sizeof *l);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, G, G, V);
    p.remasking = LV_REMASK_RANDOM;
    p.seed = 5;
    int32_t ids[G], cs[G], cs2[G];
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    int best = 0;
    for (int j = 1; j < G; j++)
        if (lv_rng_uniform32(5, 1, (uint64_t)j) > lv_rng_uniform32(5, 1, (uint64_t)best)) best = j;
    ck_assert_int_eq(cs[best], 0);
    ts_run(&p, &m, ids, cs2, &r);
    ck_assert(memcmp(cs, cs2, sizeof cs) == 0);
    free(l);
}
END_TEST

static void ts_random_logits(float *l, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) l[i] = (float)(4.0 * lv_rng_uniform64(seed, 0, i));
}

/* Gumbel-max: the committed token of the pass-0 row equals a direct evaluation of the float64
 * formula; runs with 1 and 2 threads are identical. */
START_TEST(test_gumbel_threads)
{
    enum { G = 16, V = 50 };
    float *l = malloc(G * V * sizeof *l);
    ts_random_logits(l, G * V, 11);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, 8, 8, V);
    p.temperature = 0.8;
    p.seed = 1234;
    int32_t ids1[G], cs1[G], ids2[G], cs2[G];
    lv_diffusion_result r1, r2;
    lv_threads_set(1);
    ts_run(&p, &m, ids1, cs1, &r1);
    lv_threads_set(2);
    ts_run(&p, &m, ids2, cs2, &r2);
    lv_threads_set(0);
    ck_assert(memcmp(ids1, ids2, sizeof ids1) == 0);
    ck_assert(memcmp(cs1, cs2, sizeof cs1) == 0);
    for (int j = 0; j < G; j++)
        if (cs1[j] == 0) {
            int best = 0;
            double bs = -1;
            for (int v = 0; v < V; v++) {
                double u = lv_rng_uniform64(1234, 0, (uint64_t)j * V + (uint64_t)v);
                double s = exp((double)l[j * V + v]) / pow(-log(u), 0.8);
                if (s > bs) { bs = s; best = v; }
            }
            ck_assert_int_eq(ids1[j], best);
        }
    free(l);
}
END_TEST

/* generate.py: no bans, no stop, every step runs its forward pass. */
START_TEST(test_text_variant)
{
    enum { G = 4, V = 8, EOT = 7 };
    int tok[G] = {EOT, 2, 2, 2};
    float pk[G] = {9, 1, 2, 3};
    float *l = ts_peaks(G, V, tok, pk);
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, 2, 4, V);
    p.sampler = LV_SAMPLER_LLADA_TEXT;
    int32_t ids[G], cs[G];
    lv_diffusion_result r;
    ts_run(&p, &m, ids, cs, &r);
    ck_assert_int_eq(r.n_ids, G);
    ck_assert_int_eq(r.n_passes, 4);
    ck_assert_int_eq(ids[0], EOT);
    int want[G] = {0, 1, 3, 2};
    for (int j = 0; j < G; j++) ck_assert_int_eq(cs[j], want[j]);
    /* logits_eos_inf: the EOS (here 7) can no longer be chosen */
    p.logits_eos_inf = 1;
    p.eos_id = EOT;
    ts_run(&p, &m, ids, cs, &r);
    ck_assert_int_eq(ids[0], 0);
    free(l);
}
END_TEST

START_TEST(test_validation)
{
    lv_diffusion_params p = ts_params(10, 3, 10, 8);
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    ck_assert(strstr(lv_last_error(), "block_length"));
    p = ts_params(8, 4, 3, 8);
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    ck_assert(strstr(lv_last_error(), "steps"));
    p = ts_params(8, 4, 16, 8);
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    p = ts_params(8, 4, 8, 8);
    p.temperature = -1;
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    ck_assert(strstr(lv_last_error(), "temperature"));
    p = ts_params(8, 4, 8, 8);
    p.mask_id = -1;
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    p = ts_params(8, 4, 8, 8);
    int32_t bad = 8;
    p.ban_ids = &bad;
    p.n_ban = 1;
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_ERR_ARG);
    p = ts_params(8, 4, 8, 8);
    ck_assert_int_eq(lv_diffusion_validate(&p), LV_OK);
    lv_remask rm;
    ck_assert_int_eq(lv_remask_parse(&rm, "random"), LV_OK);
    ck_assert_int_eq(rm, LV_REMASK_RANDOM);
    ck_assert_int_eq(lv_remask_parse(&rm, "greedy"), LV_ERR_ARG);
    char buf[256];
    ck_assert(strstr(lv_diffusion_params_str(&p, buf, sizeof buf), "steps=8"));
}
END_TEST

/* Fast-dLLM parallel decoding counts (spec §7.2) on sorted confidences. */
START_TEST(test_parallel_count)
{
    lv_diffusion_params p = ts_params(8, 8, 8, 4);
    int32_t ord[5] = {0, 1, 2, 3, 4};
    const double c1[5] = {0.95, 0.92, 0.5, 0.4, 0.1};
    p.threshold = 0.9;
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c1, ord, 5), 2);
    p.threshold = 0.99;   /* none above: still the best one */
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c1, ord, 5), 1);
    p.threshold = 1.0 + 1e-9;
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c1, ord, 5), 1);
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c1, ord, 0), 0);
    /* factor 1: t_2 = 2/3, t_3 = 0.75, t_4 = 0.8 (0-based i: 1 - f/(i+2)) */
    p.threshold = 0;
    p.factor = 1;
    const double c2[4] = {0.9, 0.7, 0.6, 0.1};
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c2, ord, 4), 2);   /* 0.6 < 0.75 */
    const double c4[3] = {0.9, 0.5, 0.4};
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c4, ord, 3), 1);   /* 0.5 < 2/3 */
    /* the quirk: a break at the last element, or none, takes all */
    const double c3[3] = {0.9, 0.7, 0.5};
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c3, ord, 3), 3);   /* 0.5 < 0.75, last */
    const double c5[2] = {0.9, 0.1};
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c5, ord, 2), 2);
    const double c6[4] = {0.95, 0.9, 0.9, 0.85};
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c6, ord, 4), 4);   /* no break */
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c6, ord, 1), 1);
    int32_t rev[3] = {2, 1, 0};   /* order indexes conf */
    const double c7[3] = {0.1, 0.7, 0.9};
    ck_assert_int_eq(lv_diffusion_parallel_count(&p, c7, rev, 3), 3);
}
END_TEST

/* Fixed confidences e^p / (e^p + 7): p = 1..6 -> 0.28, 0.51, 0.74, 0.89, 0.955, 0.98. */
START_TEST(test_threshold_and_factor_generate)
{
    enum { G = 6, V = 8 };
    int tok[G] = {1, 2, 3, 4, 5, 6};
    float pk[G] = {1, 2, 3, 4, 5, 6};
    float *l = ts_peaks(G, V, tok, pk);
    int32_t ids[G], cs[G];
    lv_diffusion_result r;
    /* threshold 0.9: rows 5, 4 together, then one per pass (steps 2 is ignored) */
    ts_model m = {.V = V, .n_tail = G, .cond = l};
    lv_diffusion_params p = ts_params(G, G, 2, V);
    p.threshold = 0.9;
    ts_run(&p, &m, ids, cs, &r);
    int want1[G] = {4, 3, 2, 1, 0, 0};
    ck_assert_int_eq(r.n_passes, 5);
    for (int j = 0; j < G; j++) {
        ck_assert_int_eq(cs[j], want1[j]);
        ck_assert_int_eq(ids[j], tok[j]);
    }
    /* threshold above 1: the plain one-token-per-step schedule */
    ts_model m2 = {.V = V, .n_tail = G, .cond = l};
    p = ts_params(G, G, 2, V);
    p.threshold = 1.0 + 1e-6;
    ts_run(&p, &m2, ids, cs, &r);
    ck_assert_int_eq(r.n_passes, G);
    for (int j = 0; j < G; j++) ck_assert_int_eq(cs[j], G - 1 - j);
    /* factor 1: 0.74 < 0.8 stops at 3 rows; then 0.51 < 2/3 one row; then [0.51, 0.28]
     * breaks at the last element and the quirk takes both */
    ts_model m3 = {.V = V, .n_tail = G, .cond = l};
    p = ts_params(G, G, G, V);
    p.factor = 1;
    ts_run(&p, &m3, ids, cs, &r);
    int want3[G] = {2, 2, 1, 0, 0, 0};
    ck_assert_int_eq(r.n_passes, 3);
    for (int j = 0; j < G; j++) ck_assert_int_eq(cs[j], want3[j]);
    /* blocks: parallel decoding fills block 0 before block 1 */
    ts_model m4 = {.V = V, .n_tail = G, .cond = l};
    p = ts_params(G, 3, 2, V);
    p.threshold = 0.5;
    ts_run(&p, &m4, ids, cs, &r);
    int want4[G] = {1, 0, 0, 2, 2, 2};
    ck_assert_int_eq(r.n_passes, 3);
    for (int j = 0; j < G; j++) ck_assert_int_eq(cs[j], want4[j]);
    free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("sampler");
    tcase_add_test(tc, test_schedule);
    tcase_add_test(tc, test_single_block_order);
    tcase_add_test(tc, test_blocks);
    tcase_add_test(tc, test_ties);
    tcase_add_test(tc, test_bans_and_logits0);
    tcase_add_test(tc, test_eot_stop_region);
    tcase_add_test(tc, test_stop_sequence_skips_blocks);
    tcase_add_test(tc, test_cfg);
    tcase_add_test(tc, test_suffix);
    tcase_add_test(tc, test_random_remasking);
    tcase_add_test(tc, test_gumbel_threads);
    tcase_add_test(tc, test_text_variant);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_parallel_count);
    tcase_add_test(tc, test_threshold_and_factor_generate);
    suite_add_tcase(s, tc);
    return lv_test_run(s);
}
