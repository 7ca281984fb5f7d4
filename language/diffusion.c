/* diffusion.c - masked-diffusion sampler (spec §6), mirroring LLaDAModelLM.generate_with_embeds
 * of LLaDA-V (LV_SAMPLER_LLADA_V) and generate() of LLaDA's generate.py (LV_SAMPLER_LLADA_TEXT).
 *
 *   per block b: k[s] = schedule(#masked in block, steps per block)
 *     per step s: logits of the candidate rows (masked, before the block end or the stop)
 *                 -> bans -> x0 = argmax (Gumbel-max when T > 0) -> confidence
 *                 -> commit the k[s] most confident rows (ties: lowest index) -> stop scan
 *
 * Masks are tracked by id (equivalent to the embedding test of the reference, spec §6.7): a
 * committed x0 == mask_id keeps the row masked, as the embedding comparison would.
 * Known divergence (§6.6): when fewer finite candidates than k[s] remain, torch.topk picks
 * -inf entries; with ties to the lowest index those are prompt rows (no-ops), which holds as
 * long as the prompt has at least k[s] rows, so they are not modelled here.
 */
#include "diffusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lv_diffusion_params lv_diffusion_default_params(void)
{
    lv_diffusion_params p;
    memset(&p, 0, sizeof p);
    p.sampler = LV_SAMPLER_LLADA_V;
    p.steps = 128;
    p.gen_length = 128;
    p.block_length = 128;
    p.remasking = LV_REMASK_LOW_CONFIDENCE;
    p.mask_id = -1;
    p.eos_id = -1;
    p.eot_id = -1;
    return p;
}

const char *lv_remask_name(lv_remask r)
{
    return r == LV_REMASK_RANDOM ? "random" : r == LV_REMASK_LOW_CONFIDENCE ? "low_confidence" : "?";
}

lv_status lv_remask_parse(lv_remask *out, const char *name)
{
    for (int r = 0; r < LV_REMASK_COUNT; r++)
        if (!strcmp(name, lv_remask_name((lv_remask)r))) {
            *out = (lv_remask)r;
            return LV_OK;
        }
    return lv_fail(LV_ERR_ARG, "remasking: unknown strategy '%s' (expected low_confidence or random)",
                   name);
}

lv_status lv_diffusion_validate(const lv_diffusion_params *p)
{
    if ((unsigned)p->sampler >= LV_SAMPLER_COUNT)
        return lv_fail(LV_ERR_ARG, "sampler: unknown variant %d", (int)p->sampler);
    if (p->gen_length < 1) return lv_fail(LV_ERR_ARG, "gen_length: must be >= 1, got %d", p->gen_length);
    if (p->block_length < 1 || p->gen_length % p->block_length)
        return lv_fail(LV_ERR_ARG, "block_length: must divide gen_length %d, got %d", p->gen_length,
                       p->block_length);
    int nb = p->gen_length / p->block_length;
    if (p->steps < 1 || p->steps % nb)
        return lv_fail(LV_ERR_ARG, "steps: must be a positive multiple of the %d blocks, got %d", nb,
                       p->steps);
    if (p->steps > p->gen_length)
        return lv_fail(LV_ERR_ARG, "steps: at most gen_length %d, got %d", p->gen_length, p->steps);
    if (!(p->temperature >= 0.0) || isinf(p->temperature))
        return lv_fail(LV_ERR_ARG, "temperature: must be finite and >= 0, got %g", p->temperature);
    if (!(p->cfg_scale >= 0.0) || isinf(p->cfg_scale))
        return lv_fail(LV_ERR_ARG, "cfg: must be finite and >= 0, got %g", p->cfg_scale);
    if ((unsigned)p->remasking >= LV_REMASK_COUNT)
        return lv_fail(LV_ERR_ARG, "remasking: unknown strategy %d", (int)p->remasking);
    if (!(p->threshold >= 0.0) || isinf(p->threshold) || !(p->factor >= 0.0) || isinf(p->factor))
        return lv_fail(LV_ERR_ARG, "threshold / factor: must be finite and >= 0, got %g / %g",
                       p->threshold, p->factor);
    if (p->threshold > 0 && p->factor > 0)
        return lv_fail(LV_ERR_ARG, "threshold and factor: parallel decoding takes one of them");
    if (p->vocab < 1) return lv_fail(LV_ERR_ARG, "vocab: must be >= 1, got %d", p->vocab);
    if (p->mask_id < 0) return lv_fail(LV_ERR_ARG, "mask_id: not set");
    if (p->n_ban < 0 || (p->n_ban && !p->ban_ids) || p->n_stops < 0 || (p->n_stops && !p->stops) ||
        p->n_suffix < 0 || (p->n_suffix && !p->suffix))
        return lv_fail(LV_ERR_ARG, "bans, stops or suffix: count without array");
    if (p->gen_length > LV_MAX_SEQ_LEN - p->n_suffix)
        return lv_fail(LV_ERR_LIMIT, "gen_length: %d response + %d suffix rows exceed the limit of %d",
                       p->gen_length, p->n_suffix, LV_MAX_SEQ_LEN);
    for (int i = 0; i < p->n_ban; i++)
        if (p->ban_ids[i] < 0 || p->ban_ids[i] >= p->vocab)
            return lv_fail(LV_ERR_ARG, "ban id %d: outside the vocabulary [0, %d)", p->ban_ids[i], p->vocab);
    for (int i = 0; i < p->n_stops; i++)
        if (p->stops[i].n < 1 || !p->stops[i].ids)
            return lv_fail(LV_ERR_ARG, "stop sequence %d: empty", i);
    for (int i = 0; i < p->n_suffix; i++)
        if (p->suffix[i] < 0 || p->suffix[i] >= p->vocab)
            return lv_fail(LV_ERR_ARG, "suffix id %d: outside the vocabulary [0, %d)", p->suffix[i], p->vocab);
    if (p->sampler == LV_SAMPLER_LLADA_TEXT && (p->n_stops || p->n_suffix || p->n_ban))
        return lv_fail(LV_ERR_ARG, "stops, bans and suffix exist only in the LLaDA-V sampler");
    if (p->sampler == LV_SAMPLER_LLADA_TEXT &&
        (((p->logits_eos_inf || p->confidence_eos_eot_inf) && (p->eos_id < 0 || p->eos_id >= p->vocab)) ||
         (p->confidence_eos_eot_inf && (p->eot_id < 0 || p->eot_id >= p->vocab))))
        return lv_fail(LV_ERR_ARG, "eos/eot suppression: eos_id %d / eot_id %d not in the vocabulary",
                       p->eos_id, p->eot_id);
    return LV_OK;
}

const char *lv_diffusion_params_str(const lv_diffusion_params *p, char *buf, size_t size)
{
    snprintf(buf, size,
             "sampler=%s steps=%d gen_length=%d block_length=%d temperature=%g cfg=%g "
             "remasking=%s seed=%llu mask_id=%d vocab=%d bans=%d stops=%d suffix=%d",
             p->sampler == LV_SAMPLER_LLADA_TEXT ? "llada_text" : "llada_v", p->steps,
             p->gen_length, p->block_length, p->temperature, p->cfg_scale,
             lv_remask_name(p->remasking), (unsigned long long)p->seed, (int)p->mask_id, p->vocab,
             p->n_ban, p->n_stops, p->n_suffix);
    size_t n = strlen(buf);
    if (p->threshold > 0 && n < size) snprintf(buf + n, size - n, " threshold=%g", p->threshold);
    if (p->factor > 0 && n < size) snprintf(buf + n, size - n, " factor=%g", p->factor);
    return buf;
}

void lv_diffusion_schedule(int *out, int n, int steps)
{
    for (int j = 0; j < steps; j++) out[j] = n / steps + (j < n % steps ? 1 : 0);
}

int lv_diffusion_parallel_count(const lv_diffusion_params *p, const double *conf,
                                const int32_t *order, int n)
{
    if (n < 1) return 0;
    int k = 1;
    if (p->threshold > 0) {   /* get_transfer_index: the top one, then all >= threshold */
        while (k < n && conf[order[k]] >= p->threshold) k++;
        return k;
    }
    /* get_transfer_index_dynamic: top_i = first 0-based i with c[i] < 1 - f/(i+2), t[0] = -1;
     * a loop without break leaves top_i = n-1; top_i 0 or n-1 is bumped by one */
    for (k = 1; k < n; k++)
        if (conf[order[k]] < 1.0 - p->factor / (double)(k + 2)) break;
    if (k == n) k = n - 1;
    return k == 0 || k == n - 1 ? k + 1 : k;
}

/* Everything the step loop touches, allocated once. */
typedef struct {
    int32_t *tail;    /* [G + S] ids of the response + suffix */
    int32_t *rows;    /* [G] tail rows whose logits are requested */
    int32_t *x0;      /* [G] proposed token per requested row */
    double *conf;     /* [G] confidence per requested row, -inf = not a candidate */
    int32_t *order;   /* [G] candidates sorted by (-conf, row) */
    int *sched;       /* [steps per block] */
    float *logits;    /* [G, V] conditional (then guided) logits of the requested rows */
    float *logits_u;  /* [G, V] unconditional logits (cfg only) */
} lv_dstate;

static void lv_dstate_free(lv_dstate *s)
{
    free(s->tail); free(s->rows); free(s->x0); free(s->conf); free(s->order); free(s->sched);
    free(s->logits); free(s->logits_u);
}

static lv_status lv_dstate_alloc(lv_dstate *s, const lv_diffusion_params *p)
{
    size_t G = (size_t)p->gen_length, V = (size_t)p->vocab;
    memset(s, 0, sizeof *s);
    s->tail = malloc((G + (size_t)p->n_suffix) * sizeof *s->tail);
    s->rows = malloc(G * sizeof *s->rows);
    s->x0 = malloc(G * sizeof *s->x0);
    s->conf = malloc(G * sizeof *s->conf);
    s->order = malloc(G * sizeof *s->order);
    s->sched = malloc((size_t)p->steps * sizeof *s->sched);
    s->logits = malloc(G * V * sizeof *s->logits);
    if (p->cfg_scale > 0) s->logits_u = malloc(G * V * sizeof *s->logits_u);
    if (!s->tail || !s->rows || !s->x0 || !s->conf || !s->order || !s->sched || !s->logits ||
        (p->cfg_scale > 0 && !s->logits_u)) {
        lv_dstate_free(s);
        return lv_fail(LV_ERR_NOMEM, "sampler: cannot allocate logits for %zu rows x %zu tokens", G, V);
    }
    return LV_OK;
}

/* argmax with ties to the lowest id (torch.argmax / np.argmax). */
static int32_t lv_argmax(const float *l, int V)
{
    int32_t best = 0;
    for (int v = 1; v < V; v++)
        if (l[v] > l[best]) best = v;
    return best;
}

/* Gumbel-max in float64 (§6.3): argmax_v exp(l_v) / (-ln u_v)^T, u from the counter RNG. */
static int32_t lv_gumbel_argmax(const float *l, int V, double T, uint64_t seed, uint64_t counter0)
{
    int32_t best = 0;
    double best_s = -1.0;
    for (int v = 0; v < V; v++) {
        double u = lv_rng_uniform64(seed, LV_RNG_STREAM_GUMBEL, counter0 + (uint64_t)v);
        double s = exp((double)l[v]) / pow(-log(u), T);
        if (s > best_s) {
            best_s = s;
            best = v;
        }
    }
    return best;
}

/* float32 softmax probability of entry idx (generate.py runs softmax in the logits dtype). */
static double lv_softmax32_prob(const float *l, int V, int idx)
{
    float mx = -INFINITY, sum = 0.0f;
    for (int v = 0; v < V; v++) mx = l[v] > mx ? l[v] : mx;
    if (mx == -INFINITY) return 0.0;
    for (int v = 0; v < V; v++) sum += expf(l[v] - mx);
    return (double)(expf(l[idx] - mx) / sum);
}

/* x0 and confidence of one requested, masked row (bans applied in place to its logits). */
static void lv_row_decide(const lv_diffusion_params *p, float *l, int j, int pass, int32_t *x0,
                          double *conf)
{
    int V = p->vocab, text = p->sampler == LV_SAMPLER_LLADA_TEXT;
    if (!text)
        for (int b = 0; b < p->n_ban; b++) l[p->ban_ids[b]] = -INFINITY;
    if (text && p->logits_eos_inf) l[p->eos_id] = -INFINITY;
    uint64_t G = (uint64_t)p->gen_length;
    if (p->temperature > 0)
        *x0 = lv_gumbel_argmax(l, V, p->temperature, p->seed, ((uint64_t)pass * G + (uint64_t)j) * (uint64_t)V);
    else
        *x0 = lv_argmax(l, V);
    if (text && p->confidence_eos_eot_inf) {
        l[p->eos_id] = -INFINITY;
        l[p->eot_id] = -INFINITY;
    }
    if (p->remasking == LV_REMASK_RANDOM)
        *conf = lv_rng_uniform32(p->seed, LV_RNG_STREAM_REMASK, (uint64_t)pass * G + (uint64_t)j);
    else
        *conf = text ? lv_softmax32_prob(l, V, *x0) : lv_softmax64_prob(l, V, *x0);
}

static int lv_conf_before(const double *conf, int32_t a, int32_t b)
{
    return conf[a] > conf[b] || (conf[a] == conf[b] && a < b);
}

/* Sort idx[0..n) by (-conf, index): insertion sort, n <= gen_length, no allocation. */
static void lv_sort_candidates(int32_t *idx, int n, const double *conf)
{
    for (int i = 1; i < n; i++) {
        int32_t v = idx[i];
        int k = i - 1;
        while (k >= 0 && lv_conf_before(conf, v, idx[k])) {
            idx[k + 1] = idx[k];
            k--;
        }
        idx[k + 1] = v;
    }
}

/* §6.4: first occurrence of each stop sequence in the response; stop_pos only moves earlier. */
static void lv_scan_stops(const lv_diffusion_params *p, const int32_t *gen, int *found, int *stop)
{
    for (int q = 0; q < p->n_stops; q++) {
        const lv_token_seq *sq = &p->stops[q];
        for (int st = 0; st + sq->n <= p->gen_length; st++) {
            int m = 0;
            while (m < sq->n && gen[st + m] == sq->ids[m]) m++;
            if (m == sq->n) {
                if (!*found || st < *stop) {
                    *stop = st;
                    *found = 1;
                }
                break;
            }
        }
        if (*found) break;
    }
}

static int lv_any_masked(const int32_t *gen, int from, int to, int32_t mask)
{
    for (int j = from; j < to; j++)
        if (gen[j] == mask) return 1;
    return 0;
}

lv_status lv_diffusion_generate(const lv_diffusion_params *p, lv_logits_fn fn, void *model,
                                lv_diffusion_result *r)
{
    LV_TRY(lv_diffusion_validate(p));
    if (!fn || !r || !r->ids) return lv_fail(LV_ERR_ARG, "sampler: missing callback or output array");
    lv_dstate s;
    LV_TRY(lv_dstate_alloc(&s, p));

    const int G = p->gen_length, S = p->n_suffix, V = p->vocab, text = p->sampler == LV_SAMPLER_LLADA_TEXT;
    const int nb = G / p->block_length, spb = p->steps / nb;
    const int parallel = p->threshold > 0 || p->factor > 0;
    const float cfg1 = (float)(p->cfg_scale + 1.0);
    for (int j = 0; j < G; j++) s.tail[j] = p->mask_id;
    for (int j = 0; j < S; j++) s.tail[G + j] = p->suffix[j];
    if (r->committed_step)
        for (int j = 0; j < G; j++) r->committed_step[j] = -1;

    lv_status st = LV_OK;
    int pass = 0, found = 0, stop = G, committed = 0;
    for (int b = 0; b < nb && st == LV_OK; b++) {
        int bs = b * p->block_length, be = bs + p->block_length;
        if (found && stop <= bs) break;
        int n_b = 0;
        for (int j = bs; j < be; j++) n_b += s.tail[j] == p->mask_id;
        lv_diffusion_schedule(s.sched, n_b, spb);
        /* parallel decoding: every pass commits at least one row, so block_length passes fill
         * the block (Fast-dLLM loops until the block has no mask) */
        for (int step = 0; step < (parallel ? p->block_length : spb); step++) {
            if (!text || parallel) {
                if (found && !lv_any_masked(s.tail, 0, stop, p->mask_id)) break;
                if (!lv_any_masked(s.tail, bs, be, p->mask_id)) break;
            }
            int lim = found ? stop : be;
            /* Rows that can be committed: masked and before lim (§6.7). The first pass of a
             * dump asks for every response row so logits0 is complete. */
            int all = pass == 0 && r->logits0, n_rows = 0;
            for (int j = 0; j < G; j++)
                if (all || (j < lim && s.tail[j] == p->mask_id)) s.rows[n_rows++] = j;
            if (n_rows > 0) {
                lv_pass_info pi = {pass, b, step, bs, be, lim};
                if (p->on_pass) st = p->on_pass(model, &pi);
                if (st == LV_OK) st = fn(model, s.tail, G + S, 0, s.rows, n_rows, s.logits);
                if (st == LV_OK && p->cfg_scale > 0)
                    st = fn(model, s.tail, G + S, 1, s.rows, n_rows, s.logits_u);
                if (st != LV_OK) break;
                if (p->cfg_scale > 0) {
                    size_t n = (size_t)n_rows * V;
                    for (size_t i = 0; i < n; i++)
                        s.logits[i] = s.logits_u[i] + cfg1 * (s.logits[i] - s.logits_u[i]);
                }
                if (all) memcpy(r->logits0, s.logits, (size_t)G * V * sizeof *s.logits);
            }
#pragma omp parallel for schedule(dynamic, 1) if ((size_t)n_rows * V >= LV_OMP_MIN_WORK || p->temperature > 0)
            for (int i = 0; i < n_rows; i++) {
                int j = s.rows[i];
                s.conf[i] = -INFINITY;
                if (j < lim && s.tail[j] == p->mask_id)
                    lv_row_decide(p, s.logits + (size_t)i * V, j, pass, &s.x0[i], &s.conf[i]);
            }
            int nc = 0;
            for (int i = 0; i < n_rows; i++)
                if (s.rows[i] < lim && s.tail[s.rows[i]] == p->mask_id) s.order[nc++] = i;
            lv_sort_candidates(s.order, nc, s.conf);
            int k = parallel ? lv_diffusion_parallel_count(p, s.conf, s.order, nc)
                             : s.sched[step] < nc ? s.sched[step] : nc;
            for (int q = 0; q < k; q++) {
                int i = s.order[q], j = s.rows[i];
                s.tail[j] = s.x0[i];
                if (r->committed_step) r->committed_step[j] = pass;
                committed++;
            }
            pass++;
            if (!text && p->n_stops) lv_scan_stops(p, s.tail, &found, &stop);
            if (p->progress) p->progress(p->progress_user, pass - 1, b, nb, committed, G, s.tail);
        }
    }
    if (st == LV_OK) {
        int end = found ? stop : G;
        memcpy(r->ids, s.tail, (size_t)end * sizeof *r->ids);
        memcpy(r->ids + end, s.tail + G, (size_t)S * sizeof *r->ids);
        r->n_ids = end + S;
        r->n_passes = pass;
        r->stopped = found;
    }
    lv_dstate_free(&s);
    return st;
}
