/* report.c - predictions -> scores -> summary.json / report.md / report.html, official exports,
 * shards, merge and resume (see report.h; benchmarks.md §5 for the file contents).
 *
 *   samples (bench order) x predictions (by id) --metric per sample--> lv_scored[]
 *   --> summary: counts, overall, per category/type, MME / POPE / VQA / MMBench / caption blocks
 */
#include "report.h"

#include "eval_text.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------------------------- */

static char *rp_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

static lv_status rp_mkdir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return lv_fail(LV_ERR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
    return LV_OK;
}

/* Write text to dir/name through a temporary file and a rename, so readers never see half. */
static lv_status rp_write(const char *dir, const char *name, const char *text, size_t n)
{
    char *path = lv_strfmt("%s/%s", dir, name), *tmp = lv_strfmt("%s/.%s.tmp", dir, name);
    lv_status st = LV_OK;
    if (!path || !tmp) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir);
    FILE *f = st == LV_OK ? fopen(tmp, "wb") : NULL;
    if (st == LV_OK && !f) st = lv_fail(LV_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    if (f) {
        int bad = fwrite(text, 1, n, f) != n;
        bad |= fclose(f) != 0;
        if (bad) st = lv_fail(LV_ERR_IO, "%s: write failed", tmp);
        else if (rename(tmp, path) != 0) st = lv_fail(LV_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        if (st != LV_OK) remove(tmp);
    }
    free(path);
    free(tmp);
    return st;
}

/* HTML-escaped text. */
static void rp_html(lv_text *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': lv_text_puts(b, "&lt;"); break;
        case '>': lv_text_puts(b, "&gt;"); break;
        case '&': lv_text_puts(b, "&amp;"); break;
        case '"': lv_text_puts(b, "&quot;"); break;
        case '\'': lv_text_puts(b, "&#39;"); break;
        default: lv_text_put(b, s, 1);
        }
    }
}

/* Markdown table cell: one line, pipes escaped, cut at max bytes. */
static void rp_md(lv_text *b, const char *s, size_t max)
{
    size_t k = 0;
    for (; s && *s && k < max; s++, k++) {
        if (*s == '|') lv_text_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r' || *s == '\t') lv_text_puts(b, " ");
        else lv_text_put(b, s, 1);
    }
    if (s && *s) lv_text_puts(b, "…");
}

/* ---- predictions ------------------------------------------------------------------------------ */


static int rp_by_id_cmp(const void *a, const void *b, void *ctx)
{
    const lv_preds *p = ctx;
    const lv_pred *x = &p->v[*(const int *)a], *y = &p->v[*(const int *)b];
    int c = strcmp(x->id, y->id);
    return c ? c : (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

lv_status lv_preds_index(lv_preds *p)
{
    free(p->by_id);
    p->by_id = malloc((size_t)(p->n ? p->n : 1) * sizeof *p->by_id);
    if (!p->by_id) return lv_fail(LV_ERR_NOMEM, "predictions: out of memory");
    for (int i = 0; i < p->n; i++) p->by_id[i] = i;
    qsort_r(p->by_id, (size_t)p->n, sizeof *p->by_id, rp_by_id_cmp, p);
    return LV_OK;
}

const lv_pred *lv_preds_find(const lv_preds *p, const char *id)
{
    if (!p || !p->by_id || !id) return NULL;
    int lo = 0, hi = p->n - 1, hit = -1;
    while (lo <= hi) {   /* the last record of an id wins: take the upper end of equal keys */
        int mid = lo + (hi - lo) / 2, c = strcmp(p->v[p->by_id[mid]].id, id);
        if (c <= 0) {
            if (c == 0) hit = mid;
            lo = mid + 1;
        } else hi = mid - 1;
    }
    return hit >= 0 ? &p->v[p->by_id[hit]] : NULL;
}

static void rp_pred_free(lv_pred *r)
{
    free(r->id);
    free(r->output);
    free(r->error);
    free(r->line);
}

void lv_preds_free(lv_preds *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) rp_pred_free(&p->v[i]);
    free(p->v);
    free(p->by_id);
    memset(p, 0, sizeof *p);
}

lv_status lv_preds_add(lv_preds *p, const char *id, const char *output, const char *error, double time_ms,
                       const char *line)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 256;
        lv_pred *q = realloc(p->v, (size_t)cap * sizeof *q);
        if (!q) return lv_fail(LV_ERR_NOMEM, "predictions: out of memory");
        p->v = q;
        p->cap = cap;
    }
    lv_pred *r = &p->v[p->n];
    memset(r, 0, sizeof *r);
    r->id = rp_strdup(id);
    r->output = rp_strdup(output);
    r->error = rp_strdup(error);
    r->time_ms = time_ms;
    if (line) {
        r->line = rp_strdup(line);
        cJSON *o = cJSON_Parse(line);
        const cJSON *g = o ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "gen"), "gen_length") : NULL;
        if (cJSON_IsNumber(g) && g->valuedouble > 0 && g->valuedouble < 1e9) r->gen_tokens = g->valueint;
        cJSON_Delete(o);
    }
    else {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "id", id);
            if (output) cJSON_AddStringToObject(o, "output", output);
            else cJSON_AddNullToObject(o, "output");
            if (error) cJSON_AddStringToObject(o, "error", error);
            if (time_ms > 0) cJSON_AddNumberToObject(o, "time_ms", time_ms);
            r->line = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
        }
    }
    if (!r->id || !r->line || (output && !r->output) || (error && !r->error)) {
        rp_pred_free(r);
        return lv_fail(LV_ERR_NOMEM, "predictions: out of memory");
    }
    p->n++;
    free(p->by_id);
    p->by_id = NULL;
    return LV_OK;
}

/* A prediction's id as the readers key samples (a bool is no id here). */
static char *rp_json_id(const cJSON *v)
{
    return cJSON_IsBool(v) ? NULL : lv_bench_id_text(v);
}

lv_status lv_preds_load(lv_preds *p, const char *path)
{
    memset(p, 0, sizeof *p);
    struct stat st_;
    if (stat(path, &st_) != 0 && errno == ENOENT) return lv_preds_index(p);
    char *buf;
    size_t n;
    LV_TRY(lv_file_read(path, &buf, &n));
    lv_status st = LV_OK;
    int line = 0;
    for (size_t i = 0; st == LV_OK && i < n;) {
        size_t e = i;
        while (e < n && buf[e] != '\n') e++;
        line++;
        int last = e >= n;   /* no newline after it: a write that did not finish */
        size_t j = i;
        while (j < e && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r')) j++;
        if (j < e) {
            cJSON *o = cJSON_ParseWithLength(buf + i, e - i);
            const cJSON *id = o ? cJSON_GetObjectItemCaseSensitive(o, "id") : NULL;
            char *ids = id ? rp_json_id(id) : NULL;
            if (!o || !ids) {
                if (last) p->dropped = 1;
                else st = lv_fail(LV_ERR_FORMAT, "%s:%d: %s", path, line, !o ? "not valid JSON" : "missing \"id\"");
            } else {
                const cJSON *out = cJSON_GetObjectItemCaseSensitive(o, "output"),
                            *err = cJSON_GetObjectItemCaseSensitive(o, "error"),
                            *tm = cJSON_GetObjectItemCaseSensitive(o, "time_ms");
                char *l = malloc(e - i + 1);
                if (!l) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
                else {
                    memcpy(l, buf + i, e - i);
                    l[e - i] = 0;
                    if (e - i && l[e - i - 1] == '\r') l[e - i - 1] = 0;
                    st = lv_preds_add(p, ids, cJSON_IsString(out) ? out->valuestring : NULL,
                                      cJSON_IsString(err) ? err->valuestring : NULL,
                                      cJSON_IsNumber(tm) ? tm->valuedouble : 0.0, l);
                    free(l);
                }
            }
            free(ids);
            cJSON_Delete(o);
        }
        i = e + 1;
    }
    free(buf);
    if (st == LV_OK) st = lv_preds_index(p);
    if (st != LV_OK) lv_preds_free(p);
    return st;
}

lv_status lv_preds_repair(const char *path, int *dropped)
{
    *dropped = 0;
    struct stat sb;
    if (stat(path, &sb) != 0) return errno == ENOENT ? LV_OK : lv_fail(LV_ERR_IO, "%s: %s", path, strerror(errno));
    char *buf;
    size_t n;
    LV_TRY(lv_file_read(path, &buf, &n));
    lv_status st = LV_OK;
    if (n && buf[n - 1] != '\n') {
        size_t b = n;
        while (b && buf[b - 1] != '\n') b--;
        cJSON *o = cJSON_ParseWithLength(buf + b, n - b);
        int whole = cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "id");
        cJSON_Delete(o);
        if (whole) {   /* complete record, only its newline missing */
            FILE *f = fopen(path, "ab");
            if (!f || fputc('\n', f) == EOF || fclose(f) != 0) st = lv_fail(LV_ERR_IO, "%s: cannot append", path);
        } else {
            if (truncate(path, (off_t)b) != 0) st = lv_fail(LV_ERR_IO, "%s: cannot truncate: %s", path, strerror(errno));
            *dropped = 1;
        }
    }
    free(buf);
    return st;
}

lv_status lv_preds_write(const lv_preds *p, const char *path)
{
    lv_text b = {0};
    for (int i = 0; i < p->n; i++) {
        lv_text_puts(&b, p->v[i].line);
        lv_text_puts(&b, "\n");
    }
    if (b.oom) { free(b.p); return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); }
    const char *slash = strrchr(path, '/');
    char *dir = slash ? lv_strfmt("%.*s", (int)(slash - path), path) : rp_strdup(".");
    lv_status st = dir ? rp_write(dir, slash ? slash + 1 : path, b.p ? b.p : "", b.n) : lv_fail(LV_ERR_NOMEM, "out of memory");
    free(dir);
    free(b.p);
    return st;
}

/* ---- scoring ------------------------------------------------------------------------------------ */

static char *rp_trim_dup(const char *s)
{
    if (!s) return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    return lv_strfmt("%.*s", (int)n, s);
}

static void rp_score_one(const lv_bench *b, lv_scored *r)
{
    const lv_sample *s = r->s;
    const char *out = r->p->output;
    const char *const *golds = (const char *const *)s->golds;
    r->correct = -1;
    r->parsed = 1;
    switch (r->metric) {
    case LV_METRIC_YESNO: {
        lv_yn v = lv_yesno_parse(out, b->yn_rule);
        r->extracted = rp_strdup(lv_yn_str(v));
        r->parsed = v != LV_YN_OTHER;
        r->correct = v != LV_YN_OTHER && v == lv_yesno_gold(golds[0]);
        break;
    }
    case LV_METRIC_MC: {
        const char *const *ch = (const char *const *)s->choices;
        int k = b->mc_rule == LV_MCRULE_MMMU ? lv_mc_mmmu(out, ch, s->n_choices) : lv_mc_can_infer(out, ch, s->n_choices);
        r->parsed = k >= 0;
        if (k >= 0) r->extracted = lv_strfmt("%c", 'A' + k);
        r->correct = k >= 0 && k == lv_mc_gold_index(golds[0], s->n_choices);
        break;
    }
    case LV_METRIC_EXACT:
        r->extracted = lv_vqa_normalize(out);
        r->correct = lv_exact_match(out, golds, s->n_golds, 1);
        break;
    case LV_METRIC_VQA:
        r->extracted = lv_vqa_normalize(out);
        r->score = lv_vqa_accuracy(out, golds, s->n_golds);
        r->correct = r->score > 0.999;
        break;
    case LV_METRIC_RELAXED: {
        r->extracted = rp_trim_dup(out);
        r->correct = 0;
        for (int g = 0; g < s->n_golds && r->extracted; g++) r->correct |= lv_relaxed_correct(r->extracted, golds[g]);
        break;
    }
    case LV_METRIC_ANLS: {
        /* LLaDA-V's DocVQA filter: the text after the last "Answer:", asterisks removed,
         * trailing '.', ',' and blanks stripped; other outputs are taken whole */
        const char *a = NULL;
        for (const char *q = out; (q = strstr(q, "Answer:")); q++) a = q + 7;
        if (a) {
            lv_text t = {0};
            for (; *a; a++)
                if (*a != '*') lv_text_putc(&t, *a);
            char *x = lv_text_take(&t);
            size_t n = x ? strlen(x) : 0;
            while (x && n && strchr(".,\t\n\r ", x[n - 1])) x[--n] = 0;
            r->extracted = x ? rp_trim_dup(x) : NULL;
            free(x);
        } else r->extracted = rp_trim_dup(out);
        r->score = lv_anls(r->extracted ? r->extracted : "", golds, s->n_golds, LV_ANLS_OFFICIAL);
        r->correct = r->score >= 0.5;
        break;
    }
    case LV_METRIC_MMMU_OPEN: {
        lv_mmmu_pred mp;
        if (lv_mmmu_open_parse(out, &mp) == LV_OK) {
            r->correct = lv_mmmu_open_correct(&mp, golds, s->n_golds);
            if (mp.n_strs) r->extracted = rp_strdup(mp.strs[0]);
            else if (mp.n_nums) r->extracted = lv_strfmt("%g", mp.nums[0]);
            lv_mmmu_pred_free(&mp);
        } else r->correct = 0;
        break;
    }
    case LV_METRIC_CAPTION: r->extracted = rp_trim_dup(out); break;
    default: break;
    }
    if (r->correct >= 0 && r->metric != LV_METRIC_VQA && r->metric != LV_METRIC_ANLS) r->score = r->correct;
}

static const char *rp_cat(const lv_sample *s) { return s->category ? s->category : "(none)"; }

/* The readable results sharing a category (or subcategory): indices into sc->r in benchmark
 * order. Groups come in report order: benchmark.json category_order, then first appearance. */
typedef struct {
    const char *key;
    long        rank;
    int        *idx;    /* [n] points into the shared store */
    int         n;
} rp_group;

typedef struct {
    rp_group *g;
    int       n;
    int      *store;
} rp_grouping;

static const char *rp_key(const lv_scoring *sc, int i, int sub)
{
    return sub ? sc->r[i].s->subcategory : rp_cat(sc->r[i].s);
}

typedef struct {
    const lv_scoring *sc;
    int               sub;
} rp_key_ctx;

static int rp_idx_cmp(const void *a, const void *b, void *ctx)
{
    const rp_key_ctx *k = ctx;
    int x = *(const int *)a, y = *(const int *)b, c = strcmp(rp_key(k->sc, x, k->sub), rp_key(k->sc, y, k->sub));
    return c ? c : (x > y) - (x < y);
}

static int rp_rank_cmp(const void *a, const void *b)
{
    long x = ((const rp_group *)a)->rank, y = ((const rp_group *)b)->rank;
    return (x > y) - (x < y);
}

/* O(n log n): sort the indices by key, cut the runs, order the runs. */
static lv_status rp_group_by(const lv_scoring *sc, int sub, rp_grouping *out)
{
    memset(out, 0, sizeof *out);
    int m = 0;
    out->store = malloc((size_t)(sc->n ? sc->n : 1) * sizeof *out->store);
    if (!out->store) return lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    for (int i = 0; i < sc->n; i++)
        if (!sc->r[i].s->error && rp_key(sc, i, sub)) out->store[m++] = i;
    rp_key_ctx ctx = {sc, sub};
    qsort_r(out->store, (size_t)m, sizeof *out->store, rp_idx_cmp, &ctx);
    out->g = malloc((size_t)(m ? m : 1) * sizeof *out->g);
    if (!out->g) { free(out->store); return lv_fail(LV_ERR_NOMEM, "summary: out of memory"); }
    const lv_bench *b = sc->b;
    for (int i = 0; i < m;) {
        int j = i;
        const char *k = rp_key(sc, out->store[i], sub);
        while (j < m && !strcmp(rp_key(sc, out->store[j], sub), k)) j++;
        rp_group *g = &out->g[out->n++];
        g->key = k;
        g->idx = out->store + i;
        g->n = j - i;
        g->rank = (long)b->n_category_order + out->store[i];   /* first appearance */
        for (int o = 0; !sub && o < b->n_category_order; o++)
            if (!strcmp(b->category_order[o], k)) { g->rank = o; break; }
        i = j;
    }
    qsort(out->g, (size_t)out->n, sizeof *out->g, rp_rank_cmp);
    return LV_OK;
}

static void rp_grouping_free(rp_grouping *g)
{
    free(g->g);
    free(g->store);
}

static const rp_group *rp_group_find(const rp_grouping *gs, const char *key)
{
    for (int i = 0; i < gs->n; i++)
        if (!strcmp(gs->g[i].key, key)) return &gs->g[i];
    return NULL;
}

/* {n, done, scored, correct, unparsed, score} over idx[0..n) (idx NULL: every result). */
static cJSON *rp_block(const lv_scoring *sc, const int *idx, int n_idx)
{
    long n = 0, done = 0, scored = 0, correct = 0, unparsed = 0, in_score = 0;
    double sum = 0.0;
    int count = idx ? n_idx : sc->n;
    for (int k = 0; k < count; k++) {
        const lv_scored *r = &sc->r[idx ? idx[k] : k];
        if (r->s->error) continue;
        n++;
        done += r->p != NULL;
        if (!r->scored) continue;
        scored++;
        correct += r->correct > 0;
        unparsed += !r->parsed;
        if (r->metric == LV_METRIC_CAPTION) continue;   /* corpus metrics: the captions block */
        sum += r->score;
        in_score++;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "done", (double)done);
    cJSON_AddNumberToObject(o, "scored", (double)scored);
    cJSON_AddNumberToObject(o, "correct", (double)correct);
    cJSON_AddNumberToObject(o, "unparsed", (double)unparsed);
    /* mean per-sample score x 100 (accuracy, VQA accuracy, ANLS); null when nothing counts */
    if (in_score) cJSON_AddNumberToObject(o, "score", 100.0 * sum / (double)in_score);
    else cJSON_AddNullToObject(o, "score");
    return o;
}

/* acc / acc+ over the scored results of idx[0..n) (idx NULL: all) with metric m, by group. */
static lv_status rp_groups(const lv_scoring *sc, const int *idx, int n_idx, lv_metric m, lv_group_scores *out)
{
    int count = idx ? n_idx : sc->n;
    const char **g = malloc((size_t)(count ? count : 1) * sizeof *g);
    int *ok = malloc((size_t)(count ? count : 1) * sizeof *ok);
    long k = 0;
    lv_status st = g && ok ? LV_OK : lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    for (int j = 0; st == LV_OK && j < count; j++) {
        const lv_scored *r = &sc->r[idx ? idx[j] : j];
        if (r->s->error || !r->scored || r->correct < 0 || r->metric != m) continue;
        g[k] = r->s->group;
        ok[k++] = r->correct > 0;
    }
    if (st == LV_OK) st = lv_group_accuracy(g, ok, k, out);
    free(g);
    free(ok);
    return st;
}

static cJSON *rp_mme_block(const lv_scoring *sc, const rp_grouping *cats, lv_status *st)
{
    cJSON *o = cJSON_CreateObject(), *tasks = cJSON_AddObjectToObject(o, "subtasks");
    double perception = 0.0, cognition = 0.0;
    int np = 0, nc = 0;
    for (int t = 0; t < 14 && *st == LV_OK; t++) {
        lv_group_scores g;
        const rp_group *cg = NULL;
        for (int k = 0; k < cats->n && !cg; k++)
            if (!strcasecmp(cats->g[k].key, lv_mme_subtasks[t])) cg = &cats->g[k];
        if (!cg) continue;
        *st = rp_groups(sc, cg->idx, cg->n, LV_METRIC_YESNO, &g);
        if (*st != LV_OK || g.n == 0) continue;
        cJSON *x = cJSON_AddObjectToObject(tasks, lv_mme_subtasks[t]);
        cJSON_AddNumberToObject(x, "questions", (double)g.n);
        cJSON_AddNumberToObject(x, "images", (double)g.n_groups);
        cJSON_AddNumberToObject(x, "acc", g.acc);
        cJSON_AddNumberToObject(x, "acc_plus", g.acc_plus);
        cJSON_AddNumberToObject(x, "score", g.acc + g.acc_plus);
        if (t < 10) { perception += g.acc + g.acc_plus; np++; }
        else { cognition += g.acc + g.acc_plus; nc++; }
    }
    cJSON_AddNumberToObject(o, "perception", perception);
    cJSON_AddNumberToObject(o, "perception_subtasks", np);
    cJSON_AddNumberToObject(o, "cognition", cognition);
    cJSON_AddNumberToObject(o, "cognition_subtasks", nc);
    cJSON_AddNumberToObject(o, "total", perception + cognition);
    return o;
}

static void rp_add_pope(cJSON *o, const lv_yn_counts *c)
{
    lv_pope_scores s = lv_pope_scores_of(c);
    cJSON_AddNumberToObject(o, "n", (double)s.n);
    cJSON_AddNumberToObject(o, "accuracy", s.accuracy);
    cJSON_AddNumberToObject(o, "precision", s.precision);
    cJSON_AddNumberToObject(o, "recall", s.recall);
    cJSON_AddNumberToObject(o, "f1", s.f1);
    cJSON_AddNumberToObject(o, "yes_ratio", s.yes_ratio);
    cJSON_AddNumberToObject(o, "tp", (double)c->tp);
    cJSON_AddNumberToObject(o, "fp", (double)c->fp);
    cJSON_AddNumberToObject(o, "tn", (double)c->tn);
    cJSON_AddNumberToObject(o, "fn", (double)c->fn);
    cJSON_AddNumberToObject(o, "other", (double)c->other);
}

static lv_yn_counts rp_yn_counts(const lv_scoring *sc, const int *idx, int n_idx)
{
    lv_yn_counts c = {0, 0, 0, 0, 0};
    for (int k = 0; k < (idx ? n_idx : sc->n); k++) {
        const lv_scored *r = &sc->r[idx ? idx[k] : k];
        if (r->s->error || !r->scored || r->metric != LV_METRIC_YESNO) continue;
        lv_yn_counts_add(&c, lv_yesno_gold(r->s->golds[0]), lv_yesno_parse(r->p->output, sc->b->yn_rule));
    }
    return c;
}

/* Caption metrics over done caption samples; per-image CIDEr-D goes to r->score. */
static lv_status rp_captions(lv_scoring *sc, cJSON *summary)
{
    int n = 0;
    for (int i = 0; i < sc->n; i++) n += sc->r[i].scored && sc->r[i].metric == LV_METRIC_CAPTION;
    if (!n) return LV_OK;
    const char **cands = malloc((size_t)n * sizeof *cands);
    const char *const **refs = malloc((size_t)n * sizeof *refs);
    int *nr = malloc((size_t)n * sizeof *nr), *at = malloc((size_t)n * sizeof *at);
    double *cider = malloc((size_t)n * sizeof *cider);
    lv_status st = cands && refs && nr && at && cider ? LV_OK : lv_fail(LV_ERR_NOMEM, "captions: out of memory");
    int k = 0;
    for (int i = 0; st == LV_OK && i < sc->n; i++) {
        const lv_scored *r = &sc->r[i];
        if (!r->scored || r->metric != LV_METRIC_CAPTION) continue;
        cands[k] = r->p->output ? r->p->output : "";
        refs[k] = (const char *const *)r->s->golds;
        nr[k] = r->s->n_golds;
        at[k++] = i;
    }
    lv_caption_scores cs;
    if (st == LV_OK) st = lv_caption_score(cands, refs, nr, n, 1, &cs, cider, NULL, NULL);
    if (st == LV_OK) {
        for (int j = 0; j < n; j++) sc->r[at[j]].score = cider[j];
        cJSON *o = cJSON_AddObjectToObject(summary, "captions");
        cJSON_AddNumberToObject(o, "images", n);
        const char *names[4] = {"bleu_1", "bleu_2", "bleu_3", "bleu_4"};
        for (int j = 0; j < 4; j++) cJSON_AddNumberToObject(o, names[j], cs.bleu[j]);
        cJSON_AddNumberToObject(o, "rouge_l", cs.rouge_l);
        cJSON_AddNumberToObject(o, "cider_d", cs.cider);
        cJSON_AddNumberToObject(o, "testlen", (double)cs.testlen);
        cJSON_AddNumberToObject(o, "reflen", (double)cs.reflen);
        cJSON_AddStringToObject(o, "note", "pycocoevalcap BLEU/ROUGE-L/CIDEr-D after a PTB-like tokenizer; "
                                           "METEOR and SPICE need Java (see official/ exports)");
    }
    free(cands);
    free(refs);
    free(nr);
    free(at);
    free(cider);
    return st;
}

static lv_status rp_summary(lv_scoring *sc)
{
    const lv_bench *b = sc->b;
    cJSON *s = cJSON_CreateObject();
    if (!s) return lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    sc->summary = s;
    cJSON_AddStringToObject(s, "benchmark", b->name ? b->name : "");
    cJSON_AddStringToObject(s, "format", b->format ? b->format : "");
    long total = b->n, done = 0, scored = 0, unparsed = 0, read_errors = 0, gen_errors = 0;
    double tsum = 0.0, tok = 0.0, tok_ms = 0.0;
    double *times = malloc((size_t)(b->n ? b->n : 1) * sizeof *times);
    long nt = 0;
    if (!times) return lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    for (int i = 0; i < sc->n; i++) {
        const lv_scored *r = &sc->r[i];
        read_errors += r->s->error != NULL;
        if (!r->p) continue;
        done++;
        gen_errors += r->p->error != NULL;
        scored += r->scored;
        unparsed += r->scored && !r->parsed;
        if (r->p->time_ms > 0) { times[nt++] = r->p->time_ms; tsum += r->p->time_ms; }
        if (r->p->time_ms > 0 && r->p->gen_tokens > 0) { tok += r->p->gen_tokens; tok_ms += r->p->time_ms; }
    }
    cJSON *c = cJSON_AddObjectToObject(s, "counts");
    cJSON_AddNumberToObject(c, "total", (double)total);
    cJSON_AddNumberToObject(c, "done", (double)done);
    cJSON_AddNumberToObject(c, "scored", (double)scored);
    cJSON_AddNumberToObject(c, "unparsed", (double)unparsed);
    cJSON_AddNumberToObject(c, "read_errors", (double)read_errors);
    cJSON_AddNumberToObject(c, "generation_errors", (double)gen_errors);
    cJSON_AddNumberToObject(c, "missing", (double)(total - read_errors - done));
    lv_status st = rp_captions(sc, s);
    if (st != LV_OK) { free(times); return st; }
    cJSON_AddItemToObject(s, "overall", rp_block(sc, NULL, 0));
    rp_grouping cats, subs;
    st = rp_group_by(sc, 0, &cats);
    if (st != LV_OK) { free(times); return st; }
    st = rp_group_by(sc, 1, &subs);
    if (st != LV_OK) { free(times); rp_grouping_free(&cats); return st; }
    cJSON *pc = cJSON_AddObjectToObject(s, "categories");
    for (int k = 0; k < cats.n; k++) cJSON_AddItemToObject(pc, cats.g[k].key, rp_block(sc, cats.g[k].idx, cats.g[k].n));
    cJSON *pt = cJSON_AddObjectToObject(s, "types");
    int has_metric[LV_METRIC_COUNT] = {0}, has_group = 0, has_mc_group = 0, ntype[LV_QTYPE_COUNT] = {0};
    int *tidx = malloc((size_t)(sc->n ? sc->n : 1) * LV_QTYPE_COUNT * sizeof *tidx);
    if (!tidx) st = lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    for (int i = 0; st == LV_OK && i < sc->n; i++) {
        const lv_scored *r = &sc->r[i];
        if (r->s->error) continue;
        tidx[(size_t)r->s->type * (size_t)sc->n + (size_t)ntype[r->s->type]++] = i;
        has_metric[r->metric] = 1;
        has_group |= r->s->group != NULL && r->scored;
        has_mc_group |= r->s->group != NULL && r->scored && r->metric == LV_METRIC_MC;
    }
    for (int t = 0; st == LV_OK && t < LV_QTYPE_COUNT; t++)
        if (ntype[t]) cJSON_AddItemToObject(pt, lv_qtype_name((lv_qtype)t), rp_block(sc, tidx + (size_t)t * (size_t)sc->n, ntype[t]));
    free(tidx);
    /* subcategories (VQAv2 question type, MMBench l2-category, ...) in order of appearance */
    if (subs.n) {
        cJSON *psub = cJSON_AddObjectToObject(s, "subcategories");
        for (int k = 0; k < subs.n; k++) cJSON_AddItemToObject(psub, subs.g[k].key, rp_block(sc, subs.g[k].idx, subs.g[k].n));
    }
    /* yes/no: confusion matrix; MME block for MME formats; POPE per split */
    if (st == LV_OK && has_metric[LV_METRIC_YESNO]) {
        lv_yn_counts yc = rp_yn_counts(sc, NULL, 0);
        rp_add_pope(cJSON_AddObjectToObject(s, "yesno"), &yc);
        int mme = b->format && !strncmp(b->format, "mme", 3);
        if (!mme && has_group && cats.n) {   /* a native MME copy: every category an MME subtask */
            mme = 1;
            for (int k = 0; mme && k < cats.n; k++) mme = lv_mme_is_cognition(cats.g[k].key) >= 0;
        }
        if (mme) cJSON_AddItemToObject(s, "mme", rp_mme_block(sc, &cats, &st));
        if (b->yn_rule == LV_YNRULE_POPE) {
            cJSON *po = cJSON_AddObjectToObject(s, "pope");
            double f1 = 0.0, acc = 0.0;
            for (int k = 0; k < cats.n; k++) {
                lv_yn_counts pc2 = rp_yn_counts(sc, cats.g[k].idx, cats.g[k].n);
                lv_pope_scores ps = lv_pope_scores_of(&pc2);
                rp_add_pope(cJSON_AddObjectToObject(po, cats.g[k].key), &pc2);
                f1 += ps.f1;
                acc += ps.accuracy;
            }
            cJSON_AddNumberToObject(po, "mean_f1", cats.n ? f1 / cats.n : 0.0);
            cJSON_AddNumberToObject(po, "mean_accuracy", cats.n ? acc / cats.n : 0.0);
        }
    }
    if (st == LV_OK && has_mc_group) {
        cJSON *mo = cJSON_AddObjectToObject(s, "circular");
        lv_group_scores g;
        st = rp_groups(sc, NULL, 0, LV_METRIC_MC, &g);
        cJSON_AddNumberToObject(mo, "questions", (double)g.n_groups);
        cJSON_AddNumberToObject(mo, "rows", (double)g.n);
        cJSON_AddNumberToObject(mo, "accuracy", g.acc_plus);
        cJSON_AddNumberToObject(mo, "vanilla_row_accuracy", g.acc);
        cJSON *mc = cJSON_AddObjectToObject(mo, "categories");
        for (int k = 0; st == LV_OK && k < cats.n; k++) {
            st = rp_groups(sc, cats.g[k].idx, cats.g[k].n, LV_METRIC_MC, &g);
            if (g.n) cJSON_AddNumberToObject(mc, cats.g[k].key, g.acc_plus);
        }
        cJSON *ml = cJSON_AddObjectToObject(mo, "l2_categories");
        for (int k = 0; st == LV_OK && k < subs.n; k++) {
            st = rp_groups(sc, subs.g[k].idx, subs.g[k].n, LV_METRIC_MC, &g);
            if (g.n) cJSON_AddNumberToObject(ml, subs.g[k].key, g.acc_plus);
        }
    }
    rp_grouping_free(&cats);
    rp_grouping_free(&subs);
    if (has_metric[LV_METRIC_VQA]) {
        cJSON *vo = cJSON_AddObjectToObject(s, "vqa");
        double sum = 0.0;
        long n = 0;
        for (int i = 0; i < sc->n; i++)
            if (sc->r[i].scored && sc->r[i].metric == LV_METRIC_VQA) { sum += sc->r[i].score; n++; }
        cJSON_AddNumberToObject(vo, "questions", (double)n);
        cJSON_AddNumberToObject(vo, "accuracy", n ? 100.0 * sum / (double)n : 0.0);
        cJSON_AddStringToObject(vo, "normalization", "EvalAI answer processor on prediction and answers");
    }
    cJSON *tm = cJSON_AddObjectToObject(s, "timing");
    cJSON_AddNumberToObject(tm, "total_s", tsum / 1000.0);
    cJSON_AddNumberToObject(tm, "mean_ms", nt ? tsum / (double)nt : 0.0);
    cJSON_AddNumberToObject(tm, "p50_ms", lv_percentile(times, nt, 0.5));
    cJSON_AddNumberToObject(tm, "p90_ms", lv_percentile(times, nt, 0.9));
    /* generated (masked) positions per second of sample time: gen_length / time, end to end */
    cJSON_AddNumberToObject(tm, "gen_tokens_per_s", tok_ms > 0 ? tok / (tok_ms / 1000.0) : 0.0);
    free(times);
    cJSON_AddStringToObject(s, "predictions_hash", sc->hash);
    if (st == LV_OK && !cJSON_GetObjectItemCaseSensitive(s, "predictions_hash"))
        st = lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    return st;
}

lv_status lv_score_run(lv_scoring **out, const lv_bench *b, const lv_preds *p)
{
    *out = NULL;
    lv_scoring *sc = calloc(1, sizeof *sc);
    if (!sc) return lv_fail(LV_ERR_NOMEM, "scoring: out of memory");
    sc->b = b;
    sc->n = b->n;
    sc->r = calloc((size_t)(b->n ? b->n : 1), sizeof *sc->r);
    if (!sc->r) { free(sc); return lv_fail(LV_ERR_NOMEM, "scoring: out of memory"); }
    unsigned long long h = LV_HASH64_INIT;
    for (int i = 0; i < b->n; i++) {
        lv_scored *r = &sc->r[i];
        r->s = &b->samples[i];
        r->metric = lv_bench_metric(b, r->s);
        r->correct = -1;
        r->parsed = 1;
        if (r->s->error) continue;
        r->p = lv_preds_find(p, r->s->id);
        if (!r->p) continue;
        const char *o = r->p->output ? r->p->output : "";
        h = lv_hash64(h, r->s->id, strlen(r->s->id));
        h = lv_hash64(h, "\t", 1);
        h = lv_hash64(h, o, strlen(o));
        h = lv_hash64(h, "\n", 1);
        r->scored = r->s->n_golds > 0 && r->metric != LV_METRIC_NONE;
        if (!r->scored) continue;
        if (!r->p->output) {   /* a failed generation counts as a wrong answer */
            r->parsed = 0;
            r->correct = r->metric == LV_METRIC_CAPTION ? -1 : 0;
            continue;
        }
        rp_score_one(b, r);
    }
    snprintf(sc->hash, sizeof sc->hash, "%016llx", h);
    lv_status st = rp_summary(sc);
    if (st != LV_OK) { lv_scoring_free(sc); return st; }
    *out = sc;
    return LV_OK;
}

void lv_scoring_free(lv_scoring *sc)
{
    if (!sc) return;
    for (int i = 0; i < sc->n; i++) free(sc->r[i].extracted);
    free(sc->r);
    cJSON_Delete(sc->summary);
    free(sc);
}

/* ---- report.md / report.html ------------------------------------------------------------------- */

static double rp_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

/* "%.2f" of a score field, or "-" when it is null (no sample counts toward it). */
static const char *rp_score_str(const cJSON *o, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "score");
    if (cJSON_IsNumber(v)) snprintf(buf, n, "%.2f", v->valuedouble);
    else snprintf(buf, n, "-");
    return buf;
}

static const char *rp_gold_text(const lv_sample *s, char *buf, size_t n)
{
    buf[0] = 0;
    size_t o = 0;
    for (int g = 0; g < s->n_golds && o + 4 < n; g++) {
        int w = snprintf(buf + o, n - o, "%s%s", g ? " | " : "", s->golds[g]);
        if (w < 0) break;
        o += (size_t)w;
        if (g >= 4 && s->n_golds > 5) { snprintf(buf + (o < n ? o : n - 1), n - (o < n ? o : n - 1), " | …"); break; }
    }
    return buf;
}

static int rp_failed(const lv_scored *r)
{
    if (!r->scored) return 0;
    if (r->metric == LV_METRIC_CAPTION) return 0;
    return r->correct == 0 || (r->metric == LV_METRIC_VQA && r->score < 0.999);
}

static const char *rp_mime(const unsigned char *p, size_t n)
{
    if (n >= 8 && !memcmp(p, "\x89PNG", 4)) return "image/png";
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8) return "image/jpeg";
    if (n >= 6 && !memcmp(p, "GIF8", 4)) return "image/gif";
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return "image/webp";
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "image/bmp";
    return NULL;
}

static void rp_base64(lv_text *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        lv_text_put(b, q, 4);
    }
}

#define RP_EMBED_MAX ((size_t)256 << 10)   /* images up to 256 KiB are embedded as data URIs */

/* Relative path from folder `from` to file `to` (both made absolute); NULL if unresolvable. */
static char *rp_relpath(const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(from, a) || !realpath(to, b)) return NULL;
    size_t i = 0, common = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '/') common = i;
        i++;
    }
    if (!a[i] && b[i] == '/') common = i;
    lv_text o = {0};
    for (const char *p = a + common; *p; p++)
        if (*p == '/') lv_text_puts(&o, "../");
    lv_text_puts(&o, b + common + 1);
    return o.oom ? (free(o.p), NULL) : o.p;
}

static lv_thumb_fn rp_thumbnailer;

void lv_report_set_thumbnailer(lv_thumb_fn fn) { rp_thumbnailer = fn; }

/* The thumbnail of a sample: the thumbnailer's small image when one is set and succeeds, else
 * the original bytes (embedded file or MMBench bytes) as a data URI when at most 256 KiB, else a
 * relative link to the file. */
static void rp_thumb(lv_text *h, const lv_sample *s, const char *dir)
{
    const unsigned char *bytes = s->image_bytes;
    size_t n = s->n_image_bytes;
    char *file = NULL;
    unsigned char *small = NULL;
    size_t fn = 0, sn = 0;
    if (rp_thumbnailer && (bytes || s->n_images) &&
        rp_thumbnailer(bytes ? NULL : s->images[0], bytes, n, &small, &sn) == 0 && small && rp_mime(small, sn)) {
        bytes = small;
        n = sn;
    } else if (!bytes && s->n_images) {
        struct stat st;
        if (stat(s->images[0], &st) == 0 && (size_t)st.st_size <= RP_EMBED_MAX &&
            lv_file_read(s->images[0], &file, &fn) == LV_OK) {
            bytes = (const unsigned char *)file;
            n = fn;
        }
    }
    const char *mime = bytes ? rp_mime(bytes, n) : NULL;
    if (mime && n <= RP_EMBED_MAX) {
        lv_text_printf(h, "<img class=\"th\" alt=\"\" src=\"data:%s;base64,", mime);
        rp_base64(h, bytes, n);
        lv_text_puts(h, "\">");
    } else if (s->n_images) {
        char *rel = rp_relpath(dir, s->images[0]);
        lv_text_puts(h, "<a href=\"");
        rp_html(h, rel ? rel : s->images[0]);
        lv_text_puts(h, "\">image</a>");
        free(rel);
    } else lv_text_puts(h, "<span class=\"dim\">no image</span>");
    free(file);
    free(small);
}

static void rp_sample_row_md(lv_text *m, const lv_scored *r)
{
    char gold[512];
    lv_text_printf(m, "| %s | ", r->metric == LV_METRIC_CAPTION ? "" : rp_failed(r) ? "✗" : "✓");
    rp_md(m, r->s->id, 60);
    lv_text_puts(m, " | ");
    rp_md(m, r->s->question ? r->s->question : "", 80);
    lv_text_puts(m, " | ");
    rp_md(m, rp_gold_text(r->s, gold, sizeof gold), 60);
    lv_text_puts(m, " | ");
    rp_md(m, r->extracted ? r->extracted : "(unparsed)", 40);
    lv_text_puts(m, " | ");
    rp_md(m, r->p->output ? r->p->output : (r->p->error ? r->p->error : ""), 100);
    lv_text_puts(m, " |\n");
}

static void rp_sample_html(lv_text *h, const lv_scored *r, const char *dir)
{
    char gold[1024];
    lv_text_printf(h, "<tr class=\"%s\"><td>", rp_failed(r) ? "bad" : "good");
    rp_thumb(h, r->s, dir);
    lv_text_puts(h, "</td><td><b>");
    rp_html(h, r->s->id);
    lv_text_puts(h, "</b><br>");
    rp_html(h, r->s->question ? r->s->question : "");
    lv_text_puts(h, "</td><td>");
    rp_html(h, rp_gold_text(r->s, gold, sizeof gold));
    lv_text_puts(h, "</td><td>");
    rp_html(h, r->extracted ? r->extracted : "(unparsed)");
    lv_text_puts(h, "</td><td><pre>");
    rp_html(h, r->p->output ? r->p->output : (r->p->error ? r->p->error : ""));
    lv_text_printf(h, "</pre></td><td>%.3g</td></tr>\n", r->score);
}

#define RP_FAILS_PER_CATEGORY 3
#define RP_MAX_CATEGORIES     100   /* categories in the report tables (all are in summary.json) */

lv_status lv_report_write(const lv_scoring *sc, const char *dir, const cJSON *run_json)
{
    LV_TRY(rp_mkdir(dir));
    char *js = cJSON_Print(sc->summary);
    if (!js) return lv_fail(LV_ERR_NOMEM, "summary: out of memory");
    size_t jn = strlen(js);
    char *jsn = realloc(js, jn + 2);
    if (!jsn) { free(js); return lv_fail(LV_ERR_NOMEM, "summary: out of memory"); }
    jsn[jn] = '\n';
    jsn[jn + 1] = 0;
    lv_status st = rp_write(dir, "summary.json", jsn, jn + 1);
    free(jsn);
    if (st != LV_OK) return st;

    const cJSON *s = sc->summary, *counts = cJSON_GetObjectItemCaseSensitive(s, "counts"),
                *overall = cJSON_GetObjectItemCaseSensitive(s, "overall"),
                *cats = cJSON_GetObjectItemCaseSensitive(s, "categories"), *c;
    lv_text m = {0}, h = {0};
    const char *name = sc->b->name ? sc->b->name : "benchmark";
    /* report.md */
    lv_text_printf(&m, "# %s — lladav evaluation\n\n", name);
    lv_text_printf(&m, "- format: %s, path: %s\n", sc->b->format, sc->b->path);
    lv_text_printf(&m, "- samples: %.0f total, %.0f done, %.0f scored, %.0f unparsed, %.0f read errors, %.0f generation errors, %.0f missing\n",
          rp_num(counts, "total"), rp_num(counts, "done"), rp_num(counts, "scored"), rp_num(counts, "unparsed"),
          rp_num(counts, "read_errors"), rp_num(counts, "generation_errors"), rp_num(counts, "missing"));
    lv_text_printf(&m, "- predictions hash: %s\n", sc->hash);
    /* run.json settings: its scalar fields (and benchmark.path) */
    const cJSON *c0;
    cJSON_ArrayForEach(c0, run_json) {
        if (cJSON_IsString(c0) && strlen(c0->valuestring) < 200) lv_text_printf(&m, "- %s: %s\n", c0->string, c0->valuestring);
        else if (cJSON_IsNumber(c0)) lv_text_printf(&m, "- %s: %.17g\n", c0->string, c0->valuedouble);
        else if (cJSON_IsBool(c0)) lv_text_printf(&m, "- %s: %s\n", c0->string, cJSON_IsTrue(c0) ? "true" : "false");
    }
    char sbuf[32];
    lv_text_printf(&m, "\n## Overall\n\n| n | scored | correct | score |\n|---|---|---|---|\n| %.0f | %.0f | %.0f | %s |\n",
          rp_num(overall, "n"), rp_num(overall, "scored"), rp_num(overall, "correct"), rp_score_str(overall, sbuf, sizeof sbuf));
    const cJSON *mme = cJSON_GetObjectItemCaseSensitive(s, "mme");
    if (mme) {
        lv_text_printf(&m, "\n## MME\n\nPerception %.2f, Cognition %.2f, total %.2f\n\n| subtask | acc | acc+ | score |\n|---|---|---|---|\n",
              rp_num(mme, "perception"), rp_num(mme, "cognition"), rp_num(mme, "total"));
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(mme, "subtasks"))
            lv_text_printf(&m, "| %s | %.2f | %.2f | %.2f |\n", c->string, rp_num(c, "acc"), rp_num(c, "acc_plus"), rp_num(c, "score"));
    }
    const cJSON *pope = cJSON_GetObjectItemCaseSensitive(s, "pope");
    if (pope) {
        lv_text_puts(&m, "\n## POPE\n\n| split | accuracy | precision | recall | F1 | yes-ratio |\n|---|---|---|---|---|---|\n");
        cJSON_ArrayForEach(c, pope)
            if (cJSON_IsObject(c))
                lv_text_printf(&m, "| %s | %.4f | %.4f | %.4f | %.4f | %.4f |\n", c->string, rp_num(c, "accuracy"),
                      rp_num(c, "precision"), rp_num(c, "recall"), rp_num(c, "f1"), rp_num(c, "yes_ratio"));
        lv_text_printf(&m, "\nmean F1 %.4f, mean accuracy %.4f\n", rp_num(pope, "mean_f1"), rp_num(pope, "mean_accuracy"));
    }
    const cJSON *circ = cJSON_GetObjectItemCaseSensitive(s, "circular");
    if (circ)
        lv_text_printf(&m, "\n## Circular multiple choice\n\n%.0f questions (%.0f rows): circular accuracy %.2f, row accuracy %.2f\n",
              rp_num(circ, "questions"), rp_num(circ, "rows"), rp_num(circ, "accuracy"), rp_num(circ, "vanilla_row_accuracy"));
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(s, "captions");
    if (caps)
        lv_text_printf(&m, "\n## Captions\n\n| BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | ROUGE-L | CIDEr-D |\n|---|---|---|---|---|---|\n"
                  "| %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n",
              rp_num(caps, "bleu_1"), rp_num(caps, "bleu_2"), rp_num(caps, "bleu_3"), rp_num(caps, "bleu_4"),
              rp_num(caps, "rouge_l"), rp_num(caps, "cider_d"));
    const cJSON *yn = cJSON_GetObjectItemCaseSensitive(s, "yesno");
    if (yn)
        lv_text_printf(&m, "\n## Yes/no confusion\n\n| | pred yes | pred no/other |\n|---|---|---|\n| gold yes | %.0f | %.0f |\n"
                  "| gold no | %.0f | %.0f |\n\nanswers neither yes nor no: %.0f\n",
              rp_num(yn, "tp"), rp_num(yn, "fn"), rp_num(yn, "fp"), rp_num(yn, "tn"), rp_num(yn, "other"));
    const cJSON *circ_cats = circ ? cJSON_GetObjectItemCaseSensitive(circ, "categories") : NULL;
    lv_text_printf(&m, "\n## Categories\n\n| category | n | done | scored | correct | unparsed | score |%s\n|---|---|---|---|---|---|---|%s\n",
                   circ ? " circular |" : "", circ ? "---|" : "");
    int shown_cats = 0, ncat = cJSON_GetArraySize(cats);
    cJSON_ArrayForEach(c, cats) {
        if (shown_cats++ >= RP_MAX_CATEGORIES) {
            lv_text_printf(&m, "\n%d more categories in summary.json\n", ncat - RP_MAX_CATEGORIES);
            break;
        }
        lv_text_puts(&m, "| ");
        rp_md(&m, c->string, 60);
        lv_text_printf(&m, " | %.0f | %.0f | %.0f | %.0f | %.0f | %s |", rp_num(c, "n"), rp_num(c, "done"), rp_num(c, "scored"),
              rp_num(c, "correct"), rp_num(c, "unparsed"), rp_score_str(c, sbuf, sizeof sbuf));
        const cJSON *cc = circ_cats ? cJSON_GetObjectItemCaseSensitive(circ_cats, c->string) : NULL;
        if (circ) lv_text_printf(&m, cJSON_IsNumber(cc) ? " %.2f |" : " - |", cJSON_IsNumber(cc) ? cc->valuedouble : 0.0);
        lv_text_puts(&m, "\n");
    }
    int shown = 0;
    for (int i = 0; i < sc->n && shown < 10; i++) {
        const lv_scored *r = &sc->r[i];
        if (!r->scored || r->parsed) continue;
        if (!shown++) lv_text_puts(&m, "\n## Unparsed outputs (first 10)\n\n| ok | id | question | gold | extracted | output |\n|---|---|---|---|---|---|\n");
        rp_sample_row_md(&m, r);
    }
    /* report.html */
    lv_text_puts(&h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    rp_html(&h, name);
    lv_text_puts(&h, " — lladav</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}"
                "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;"
                "vertical-align:top;text-align:left}th{background:#f0f0f0}.num{text-align:right}"
                ".th{width:96px;max-height:128px;object-fit:contain}tr.bad td:first-child{border-left:4px solid #c33}"
                "tr.good td:first-child{border-left:4px solid #3a3}pre{white-space:pre-wrap;margin:0;max-width:420px}"
                ".dim{color:#888}h2{margin-top:28px}</style></head><body>\n<h1>");
    rp_html(&h, name);
    lv_text_puts(&h, " <span class=\"dim\">lladav evaluation</span></h1>\n<p>format ");
    rp_html(&h, sc->b->format);
    lv_text_printf(&h, " &middot; %.0f samples, %.0f done, %.0f scored, %.0f unparsed, %.0f read errors, %.0f generation errors"
              " &middot; predictions hash <code>%s</code></p>\n",
          rp_num(counts, "total"), rp_num(counts, "done"), rp_num(counts, "scored"), rp_num(counts, "unparsed"),
          rp_num(counts, "read_errors"), rp_num(counts, "generation_errors"), sc->hash);
    int hdr = 0;
    cJSON_ArrayForEach(c0, run_json) {
        if (!cJSON_IsString(c0) && !cJSON_IsNumber(c0) && !cJSON_IsBool(c0)) continue;
        if (cJSON_IsString(c0) && strlen(c0->valuestring) >= 200) continue;
        if (!hdr++) lv_text_puts(&h, "<details><summary>run settings</summary><table>\n");
        lv_text_puts(&h, "<tr><th>");
        rp_html(&h, c0->string);
        lv_text_puts(&h, "</th><td>");
        if (cJSON_IsString(c0)) rp_html(&h, c0->valuestring);
        else if (cJSON_IsNumber(c0)) lv_text_printf(&h, "%.17g", c0->valuedouble);
        else lv_text_puts(&h, cJSON_IsTrue(c0) ? "true" : "false");
        lv_text_puts(&h, "</td></tr>\n");
    }
    if (hdr) lv_text_puts(&h, "</table></details>\n");
    lv_text_printf(&h, "<h2>Overall score: %s</h2>\n", rp_score_str(overall, sbuf, sizeof sbuf));
    if (mme)
        lv_text_printf(&h, "<p>MME perception <b>%.2f</b>, cognition <b>%.2f</b>, total <b>%.2f</b></p>\n",
              rp_num(mme, "perception"), rp_num(mme, "cognition"), rp_num(mme, "total"));
    if (pope) lv_text_printf(&h, "<p>POPE mean F1 <b>%.4f</b>, mean accuracy <b>%.4f</b></p>\n", rp_num(pope, "mean_f1"), rp_num(pope, "mean_accuracy"));
    if (circ) lv_text_printf(&h, "<p>Circular accuracy <b>%.2f</b> over %.0f questions</p>\n", rp_num(circ, "accuracy"), rp_num(circ, "questions"));
    if (caps)
        lv_text_printf(&h, "<p>BLEU-4 <b>%.4f</b>, ROUGE-L <b>%.4f</b>, CIDEr-D <b>%.4f</b></p>\n", rp_num(caps, "bleu_4"),
              rp_num(caps, "rouge_l"), rp_num(caps, "cider_d"));
    /* bar chart: one bar per category, score 0..100 */
    int nbar = ncat < RP_MAX_CATEGORIES ? ncat : RP_MAX_CATEGORIES, row = 22, lw = 200, bw = 400;
    lv_text_printf(&h, "<h2>Per category</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n",
          lw + bw + 70, row * nbar + 24);
    int k = 0;
    cJSON_ArrayForEach(c, cats) {
        if (k >= nbar) break;
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(c, "score");
        double v = cJSON_IsNumber(sv) ? sv->valuedouble : 0.0;
        double w = v / 100.0 * bw;
        if (w < 0) w = 0;
        if (w > bw) w = bw;
        lv_text_printf(&h, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">", lw - 6, k * row + 15);
        rp_html(&h, c->string);
        lv_text_printf(&h, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eee\"/>"
                  "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#4a7bd0\"/>"
                  "<text x=\"%.1f\" y=\"%d\" font-size=\"12\">%s</text>\n",
              lw, k * row + 3, bw, row - 6, lw, k * row + 3, w, row - 6, lw + w + 4, k * row + 15,
              rp_score_str(c, sbuf, sizeof sbuf));
        k++;
    }
    lv_text_printf(&h, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
              "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#666\">0</text>"
              "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#666\" text-anchor=\"end\">100</text></svg>\n",
          lw, lw, row * nbar, lw, row * nbar + 16, lw + bw, row * nbar + 16);
    lv_text_puts(&h, "<table><tr><th>category</th><th>n</th><th>done</th><th>scored</th><th>correct</th><th>unparsed</th><th>score</th>");
    if (mme) lv_text_puts(&h, "<th>acc</th><th>acc+</th><th>MME score</th>");
    if (circ) lv_text_puts(&h, "<th>circular</th>");
    lv_text_puts(&h, "</tr>\n");
    shown_cats = 0;
    cJSON_ArrayForEach(c, cats) {
        if (shown_cats++ >= RP_MAX_CATEGORIES) break;
        lv_text_puts(&h, "<tr><td>");
        rp_html(&h, c->string);
        lv_text_printf(&h, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td>"
                  "<td class=\"num\">%.0f</td><td class=\"num\">%s</td>",
              rp_num(c, "n"), rp_num(c, "done"), rp_num(c, "scored"), rp_num(c, "correct"), rp_num(c, "unparsed"),
              rp_score_str(c, sbuf, sizeof sbuf));
        const cJSON *t = mme ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mme, "subtasks"), c->string) : NULL;
        if (mme && t) lv_text_printf(&h, "<td class=\"num\">%.2f</td><td class=\"num\">%.2f</td><td class=\"num\">%.2f</td>", rp_num(t, "acc"), rp_num(t, "acc_plus"), rp_num(t, "score"));
        else if (mme) lv_text_puts(&h, "<td></td><td></td><td></td>");
        const cJSON *cc = circ_cats ? cJSON_GetObjectItemCaseSensitive(circ_cats, c->string) : NULL;
        if (circ && cJSON_IsNumber(cc)) lv_text_printf(&h, "<td class=\"num\">%.2f</td>", cc->valuedouble);
        else if (circ) lv_text_puts(&h, "<td class=\"num\">-</td>");
        lv_text_puts(&h, "</tr>\n");
    }
    lv_text_puts(&h, "</table>\n");
    if (ncat > RP_MAX_CATEGORIES)
        lv_text_printf(&h, "<p class=\"dim\">%d more categories in summary.json</p>\n", ncat - RP_MAX_CATEGORIES);
    if (yn)
        lv_text_printf(&h, "<h2>Yes/no confusion</h2><table><tr><th></th><th>pred yes</th><th>pred no / other</th></tr>"
                  "<tr><th>gold yes</th><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td></tr>"
                  "<tr><th>gold no</th><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td></tr></table>"
                  "<p>answers neither yes nor no: %.0f</p>\n",
              rp_num(yn, "tp"), rp_num(yn, "fn"), rp_num(yn, "fp"), rp_num(yn, "tn"), rp_num(yn, "other"));
    /* failures per category (up to K) plus one success */
    lv_text_printf(&m, "\n## Failures (up to %d per category, plus one success)\n", RP_FAILS_PER_CATEGORY);
    lv_text_printf(&h, "<h2>Failures <span class=\"dim\">(up to %d per category, plus one success)</span></h2>\n", RP_FAILS_PER_CATEGORY);
    rp_grouping groups;
    if (st == LV_OK) st = rp_group_by(sc, 0, &groups);
    const cJSON *fail_cats = st == LV_OK ? cats : NULL;
    shown_cats = 0;
    cJSON_ArrayForEach(c, fail_cats) {
        if (shown_cats++ >= RP_MAX_CATEGORIES) break;
        int fails = 0, good = 0;
        const rp_group *g = rp_group_find(&groups, c->string);
        for (int k = 0; g && k < g->n; k++) {
            const lv_scored *r = &sc->r[g->idx[k]];
            if (!r->p || !r->scored) continue;
            int bad = rp_failed(r);
            if (bad ? fails >= RP_FAILS_PER_CATEGORY : good >= 1) continue;
            if (!fails && !good) {
                lv_text_puts(&m, "\n### ");
                rp_md(&m, c->string, 80);
                lv_text_puts(&m, "\n\n| ok | id | question | gold | extracted | output |\n|---|---|---|---|---|---|\n");
                lv_text_puts(&h, "<h3>");
                rp_html(&h, c->string);
                lv_text_puts(&h, "</h3><table><tr><th>image</th><th>question</th><th>gold</th><th>extracted</th><th>output</th><th>score</th></tr>\n");
            }
            fails += bad;
            good += !bad;
            rp_sample_row_md(&m, r);
            rp_sample_html(&h, r, dir);
        }
        if (fails || good) lv_text_puts(&h, "</table>\n");
    }
    if (st == LV_OK) rp_grouping_free(&groups);
    int nerr = 0;
    for (int i = 0; i < sc->n; i++) {
        const lv_sample *e = sc->r[i].s;
        if (!e->error) continue;
        if (!nerr++) {
            lv_text_puts(&m, "\n## Read errors\n\n");
            lv_text_puts(&h, "<h2>Read errors</h2><ul>\n");
        }
        if (nerr > 50) continue;
        lv_text_puts(&m, "- ");
        rp_md(&m, e->error, 300);
        lv_text_puts(&m, "\n");
        lv_text_puts(&h, "<li><code>");
        rp_html(&h, e->error);
        lv_text_puts(&h, "</code></li>\n");
    }
    if (nerr) lv_text_puts(&h, "</ul>\n");
    lv_text_puts(&h, "</body></html>\n");
    if (m.oom || h.oom) st = lv_fail(LV_ERR_NOMEM, "report: out of memory");
    if (st == LV_OK) st = rp_write(dir, "report.md", m.p, m.n);
    if (st == LV_OK) st = rp_write(dir, "report.html", h.p, h.n);
    free(m.p);
    free(h.p);
    return st;
}

/* ---- official exports -------------------------------------------------------------------------- */

lv_status lv_official_export(const lv_scoring *sc, const char *dir)
{
    char *od = lv_strfmt("%s/official", dir);
    if (!od) return lv_fail(LV_ERR_NOMEM, "export: out of memory");
    lv_status st = rp_mkdir(dir);
    if (st == LV_OK) st = rp_mkdir(od);
    const lv_bench *b = sc->b;
    int mme = b->format && !strncmp(b->format, "mme", 3);
    char *md = lv_strfmt("%s/mme_eval_tool", od);
    if (!md) st = lv_fail(LV_ERR_NOMEM, "export: out of memory");
    /* MME eval_tool: <task>.txt, image<TAB>question<TAB>gt<TAB>response, pairs adjacent (file order) */
    for (int t = 0; mme && st == LV_OK && t < 14; t++) {
        lv_text o = {0};
        for (int i = 0; i < sc->n; i++) {
            const lv_scored *r = &sc->r[i];
            if (!r->p || r->s->error || !r->s->category || strcmp(r->s->category, lv_mme_subtasks[t])) continue;
            const char *img = r->s->n_images ? strrchr(r->s->images[0], '/') : NULL;
            char *resp = rp_strdup(r->p->output ? r->p->output : "");
            for (char *q = resp; q && *q; q++)
                if (*q == '\t' || *q == '\n' || *q == '\r') *q = ' ';
            lv_text_printf(&o, "%s\t%s Please answer yes or no.\t%s\t%s\n", img ? img + 1 : (r->s->n_images ? r->s->images[0] : ""),
                  r->s->question ? r->s->question : "", r->s->golds[0][0] == 'y' ? "Yes" : "No", resp ? resp : "");
            free(resp);
        }
        if (o.n) {
            char *name = lv_strfmt("%s.txt", lv_mme_subtasks[t]);
            st = rp_mkdir(md);
            if (st == LV_OK) st = name && !o.oom ? rp_write(md, name, o.p, o.n) : lv_fail(LV_ERR_NOMEM, "export: out of memory");
            free(name);
        }
        free(o.p);
    }
    /* LLaVA answer jsonl (every format; POPE's eval_pope.py pairs these with labels by order),
     * VQA results [{question_id, answer}], COCO results [{image_id, caption}] */
    cJSON *vqa = cJSON_CreateArray(), *coco = cJSON_CreateArray();
    lv_text ans = {0};
    int nv = 0, ncap = 0;
    for (int i = 0; st == LV_OK && i < sc->n; i++) {
        const lv_scored *r = &sc->r[i];
        if (!r->p || r->s->error) continue;
        cJSON *a = cJSON_CreateObject();
        char *end;
        long long qid = strtoll(r->s->id, &end, 10);
        if (*end == 0 && *r->s->id) cJSON_AddNumberToObject(a, "question_id", (double)qid);
        else cJSON_AddStringToObject(a, "question_id", r->s->id);
        cJSON_AddStringToObject(a, "prompt", r->s->question ? r->s->question : "");
        cJSON_AddStringToObject(a, "text", r->p->output ? r->p->output : "");
        cJSON_AddStringToObject(a, "model_id", "lladav");
        char *line = cJSON_PrintUnformatted(a);
        if (line) { lv_text_puts(&ans, line); lv_text_puts(&ans, "\n"); }
        else ans.oom = 1;
        free(line);
        cJSON_Delete(a);
        if (r->metric == LV_METRIC_VQA && *end == 0) {
            cJSON *v = cJSON_CreateObject();
            cJSON_AddNumberToObject(v, "question_id", (double)qid);
            cJSON_AddStringToObject(v, "answer", r->extracted ? r->extracted : "");
            cJSON_AddItemToArray(vqa, v);
            nv++;
        }
        if (r->metric == LV_METRIC_CAPTION && *end == 0) {
            cJSON *v = cJSON_CreateObject();
            cJSON_AddNumberToObject(v, "image_id", (double)qid);
            cJSON_AddStringToObject(v, "caption", r->p->output ? r->p->output : "");
            cJSON_AddItemToArray(coco, v);
            ncap++;
        }
    }
    if (st == LV_OK && ans.oom) st = lv_fail(LV_ERR_NOMEM, "export: out of memory");
    if (st == LV_OK && ans.n) st = rp_write(od, "answers_llava.jsonl", ans.p, ans.n);
    /* POPE evaluate.py pairs answers with a label file by line order: one answer file per split
     * (category), in the split file's order, {"question_id", "text"} per line */
    for (int i = 0; st == LV_OK && b->yn_rule == LV_YNRULE_POPE && i < sc->n; i++) {
        const char *split = sc->r[i].s->category;
        int first = 1;
        for (int k = 0; k < i && first; k++) first = !sc->r[k].s->category || !split || strcmp(sc->r[k].s->category, split);
        if (!first || !split) continue;
        lv_text o = {0};
        for (int k = i; k < sc->n; k++) {
            const lv_scored *r = &sc->r[k];
            if (!r->s->category || strcmp(r->s->category, split) || r->s->error) continue;
            const char *slash = strchr(r->s->id, '/');
            cJSON *a = cJSON_CreateObject();
            const char *qid = slash ? slash + 1 : r->s->id;
            char *end;
            long long v = strtoll(qid, &end, 10);
            if (*qid && !*end) cJSON_AddNumberToObject(a, "question_id", (double)v);
            else cJSON_AddStringToObject(a, "question_id", qid);
            cJSON_AddStringToObject(a, "text", r->p && r->p->output ? r->p->output : "");
            char *line = cJSON_PrintUnformatted(a);
            cJSON_Delete(a);
            if (!line) { o.oom = 1; break; }
            lv_text_printf(&o, "%s\n", line);
            free(line);
        }
        char *name = lv_strfmt("pope_%s_answers.jsonl", split);
        st = name && !o.oom ? rp_write(od, name, o.p ? o.p : "", o.n) : lv_fail(LV_ERR_NOMEM, "export: out of memory");
        free(name);
        free(o.p);
    }
    for (int pass = 0; pass < 2 && st == LV_OK; pass++) {
        if (!(pass ? ncap : nv)) continue;
        char *t = cJSON_PrintUnformatted(pass ? coco : vqa);
        st = t ? rp_write(od, pass ? "coco_captions_results.json" : "vqa_results.json", t, strlen(t))
               : lv_fail(LV_ERR_NOMEM, "export: out of memory");
        free(t);
    }
    /* MMMU main_eval_only.py input: {id: parsed answer}, the letter for multiple choice ("" when
     * nothing parsed: lladav does not guess) and the raw response for open questions, which
     * the script parses itself */
    cJSON *mmmu = cJSON_CreateObject();
    int nm = 0;
    for (int i = 0; st == LV_OK && mmmu && i < sc->n; i++) {
        const lv_scored *r = &sc->r[i];
        if (!r->p || r->s->error) continue;
        if (r->metric == LV_METRIC_MMMU_OPEN) cJSON_AddStringToObject(mmmu, r->s->id, r->p->output ? r->p->output : "");
        else if (r->metric == LV_METRIC_MC && b->mc_rule == LV_MCRULE_MMMU)
            cJSON_AddStringToObject(mmmu, r->s->id, r->extracted ? r->extracted : "");
        else continue;
        nm++;
    }
    if (st == LV_OK && nm) {
        char *t = cJSON_Print(mmmu);
        st = t ? rp_write(od, "mmmu_eval_only.json", t, strlen(t)) : lv_fail(LV_ERR_NOMEM, "export: out of memory");
        free(t);
    }
    cJSON_Delete(mmmu);
    free(ans.p);
    cJSON_Delete(vqa);
    cJSON_Delete(coco);
    free(md);
    free(od);
    return st;
}

/* ---- shards, merge, resume ------------------------------------------------------------------- */

int lv_shard_of(const char *id, int n)
{
    if (n <= 1) return 0;
    return (int)(lv_hash64(LV_HASH64_INIT, id, strlen(id)) % (unsigned long long)n);
}

lv_status lv_shard_parse(const char *spec, int *k, int *n)
{
    char *end;
    long a = strtol(spec ? spec : "", &end, 10);
    if (end == spec || *end != '/') return lv_fail(LV_ERR_ARG, "--shard '%s': expected K/N", spec ? spec : "");
    const char *q = end + 1;
    long bn = strtol(q, &end, 10);
    if (end == q || *end || bn < 1 || bn > 1000000 || a < 1 || a > bn)
        return lv_fail(LV_ERR_ARG, "--shard '%s': expected K/N with 1 <= K <= N", spec);
    *k = (int)a - 1;
    *n = (int)bn;
    return LV_OK;
}

typedef struct {
    unsigned long long h;
    int                i;
} rp_ranked;

static int rp_ranked_cmp(const void *a, const void *b)
{
    const rp_ranked *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

long lv_bench_select(const lv_bench *b, long limit, long sample, unsigned long long seed, int shard_k, int shard_n,
                     unsigned char *keep)
{
    long n = 0;
    for (int i = 0; i < b->n; i++) keep[i] = !b->samples[i].error;
    if (limit > 0)
        for (int i = 0; i < b->n; i++)
            if (keep[i] && ++n > limit) keep[i] = 0;
    if (sample > 0) {
        rp_ranked *r = malloc((size_t)(b->n ? b->n : 1) * sizeof *r);
        if (!r) {   /* out of memory: fall back to the first N, still deterministic */
            n = 0;
            for (int i = 0; i < b->n; i++)
                if (keep[i] && ++n > sample) keep[i] = 0;
        } else {
            int m = 0;
            for (int i = 0; i < b->n; i++) {
                if (!keep[i]) continue;
                char head[32];
                int hl = snprintf(head, sizeof head, "%llu:", seed);
                unsigned long long h = lv_hash64(LV_HASH64_INIT, head, (size_t)hl);
                r[m].h = lv_hash64(h, b->samples[i].id, strlen(b->samples[i].id));
                r[m++].i = i;
            }
            qsort(r, (size_t)m, sizeof *r, rp_ranked_cmp);
            for (int k = (int)(sample < m ? sample : m); k < m; k++) keep[r[k].i] = 0;
            free(r);
        }
    }
    n = 0;
    for (int i = 0; i < b->n; i++) {
        if (keep[i] && shard_n > 1 && lv_shard_of(b->samples[i].id, shard_n) != shard_k) keep[i] = 0;
        n += keep[i];
    }
    return n;
}

char *lv_pred_line(const lv_bench *b, const lv_sample *s, const char *prompt, const char *output, const char *error,
                   const lv_pred_info *info)
{
    lv_pred p = {(char *)s->id, (char *)output, (char *)error, info ? info->time_ms : 0.0, info ? info->gen_length : 0, NULL};
    lv_scored r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.p = &p;
    r.metric = lv_bench_metric(b, s);
    r.correct = -1;
    r.parsed = 1;
    r.scored = s->n_golds > 0 && r.metric != LV_METRIC_NONE;
    if (r.scored && output) rp_score_one(b, &r);
    else if (r.scored) { r.parsed = 0; r.correct = r.metric == LV_METRIC_CAPTION ? -1 : 0; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", s->id);
    if (s->category) cJSON_AddStringToObject(o, "category", s->category);
    cJSON_AddStringToObject(o, "type", lv_qtype_name(s->type));
    if (s->n_images == 1) cJSON_AddStringToObject(o, "image", s->images[0]);
    else if (s->n_images > 1) cJSON_AddItemToObject(o, "images", cJSON_CreateStringArray((const char *const *)s->images, s->n_images));
    if (prompt) cJSON_AddStringToObject(o, "prompt", prompt);
    if (output) cJSON_AddStringToObject(o, "output", output);
    else cJSON_AddNullToObject(o, "output");
    if (r.extracted) cJSON_AddStringToObject(o, "extracted", r.extracted);
    else cJSON_AddNullToObject(o, "extracted");
    if (s->n_golds == 1) cJSON_AddStringToObject(o, "gold", s->golds[0]);
    else if (s->n_golds > 1) cJSON_AddItemToObject(o, "gold", cJSON_CreateStringArray((const char *const *)s->golds, s->n_golds));
    else cJSON_AddNullToObject(o, "gold");
    if (r.scored && r.metric != LV_METRIC_CAPTION) cJSON_AddNumberToObject(o, "score", r.score);
    else cJSON_AddNullToObject(o, "score");
    if (r.correct >= 0) cJSON_AddBoolToObject(o, "correct", r.correct);
    else cJSON_AddNullToObject(o, "correct");
    cJSON_AddBoolToObject(o, "parsed", r.parsed);
    cJSON_AddStringToObject(o, "metric", lv_metric_name(r.metric));
    if (info) {
        cJSON *g = cJSON_AddObjectToObject(o, "gen");
        cJSON_AddNumberToObject(g, "gen_length", info->gen_length);
        cJSON_AddNumberToObject(g, "steps", info->steps);
        cJSON_AddNumberToObject(g, "block_length", info->block_length);
        cJSON_AddNumberToObject(g, "temperature", info->temperature);
        cJSON_AddStringToObject(g, "remasking", info->remasking ? info->remasking : "low_confidence");
        cJSON_AddNumberToObject(g, "seed", (double)info->seed);
        cJSON_AddNumberToObject(o, "n_prompt_tokens", info->n_prompt_tokens);
        cJSON_AddNumberToObject(o, "n_image_tokens", info->n_image_tokens);
        cJSON_AddNumberToObject(o, "time_ms", info->time_ms);
    }
    if (error) cJSON_AddStringToObject(o, "error", error);
    if (s->meta) {
        cJSON *m = cJSON_Parse(s->meta);
        if (m) cJSON_AddItemToObject(o, "meta", m);
    }
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(r.extracted);
    return line;
}

lv_status lv_preds_merge(lv_preds *out, const lv_bench *b, const char *const *run_dirs, int n_dirs)
{
    memset(out, 0, sizeof *out);
    lv_preds *in = calloc((size_t)(n_dirs ? n_dirs : 1), sizeof *in);
    if (!in) return lv_fail(LV_ERR_NOMEM, "merge: out of memory");
    lv_status st = LV_OK;
    for (int d = 0; st == LV_OK && d < n_dirs; d++) {
        char *path = lv_strfmt("%s/predictions.jsonl", run_dirs[d]);
        st = path ? lv_preds_load(&in[d], path) : lv_fail(LV_ERR_NOMEM, "merge: out of memory");
        free(path);
    }
    /* every prediction must name a sample of the benchmark */
    lv_preds ids = {0};
    for (int i = 0; st == LV_OK && i < b->n; i++)
        if (!b->samples[i].error) st = lv_preds_add(&ids, b->samples[i].id, NULL, NULL, 0, "{}");
    if (st == LV_OK) st = lv_preds_index(&ids);
    for (int d = 0; st == LV_OK && d < n_dirs; d++)
        for (int i = 0; st == LV_OK && i < in[d].n; i++)
            if (!lv_preds_find(&ids, in[d].v[i].id))
                st = lv_fail(LV_ERR_INPUT, "%s/predictions.jsonl: id %s is not in the benchmark %s", run_dirs[d], in[d].v[i].id, b->path);
    lv_preds_free(&ids);
    for (int i = 0; st == LV_OK && i < b->n; i++) {
        const lv_sample *s = &b->samples[i];
        if (s->error) continue;
        const lv_pred *pick = NULL;
        int from = -1;
        for (int d = 0; d < n_dirs && st == LV_OK; d++) {
            const lv_pred *q = lv_preds_find(&in[d], s->id);
            if (!q) continue;
            if (pick && ((pick->output == NULL) != (q->output == NULL) || (pick->output && strcmp(pick->output, q->output))))
                st = lv_fail(LV_ERR_INPUT, "merge: id %s has different outputs in %s and %s", s->id, run_dirs[from], run_dirs[d]);
            if (!pick) { pick = q; from = d; }
        }
        if (pick && st == LV_OK) st = lv_preds_add(out, pick->id, pick->output, pick->error, pick->time_ms, pick->line);
    }
    for (int d = 0; d < n_dirs; d++) lv_preds_free(&in[d]);
    free(in);
    if (st == LV_OK) st = lv_preds_index(out);
    if (st != LV_OK) lv_preds_free(out);
    return st;
}

void lv_run_progress_init(lv_run_progress *p, long total, double now)
{
    memset(p, 0, sizeof *p);
    p->total = total;
    p->start = p->last = now;
}

void lv_run_progress_step(lv_run_progress *p, double now, int scored, double score, int parsed)
{
    double dt = now - p->last;
    p->last = now;
    p->done++;
    p->steps++;
    if (scored) {
        p->scored++;
        p->score_sum += score;
        p->unparsed += !parsed;
    }
    if (p->steps == 2) p->ema = dt;                 /* the first sample carries the warm-up */
    else if (p->steps > 2) p->ema = 0.9 * p->ema + 0.1 * dt;
}

/* "1h02m", "3m07s", "42s" */
static void rp_duration(char *buf, size_t n, double s)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

void lv_run_progress_format(const lv_run_progress *p, double now, char *buf, size_t n)
{
    char eta[32] = "?", el[32], rate[32] = "? s/sample", score[32] = "-";
    double per = p->ema > 0 ? p->ema : p->steps == 1 ? p->last - p->start : 0.0;
    if (per > 0) {
        snprintf(rate, sizeof rate, "%.2f s/sample", per);
        rp_duration(eta, sizeof eta, per * (double)(p->total - p->done));
    }
    rp_duration(el, sizeof el, now - p->start);
    if (p->scored) snprintf(score, sizeof score, "%.2f", 100.0 * p->score_sum / (double)p->scored);
    snprintf(buf, n, "%ld/%ld %5.1f%% | %s | ETA %s | elapsed %s | score %s | unparsed %ld", p->done, p->total,
             p->total ? 100.0 * (double)p->done / (double)p->total : 100.0, rate, eta, el, score, p->unparsed);
}

char *lv_run_fingerprint(const cJSON *run)
{
    cJSON *c = cJSON_Duplicate(run, 1);
    if (!c) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(c, "fingerprint");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "start_time");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "shard");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "runtime");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "merged_from");
    /* where the files are is not what they are: the hashes next to the paths say that */
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "model"), "path");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "benchmark"), "path");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "benchmark"), "image_root");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "benchmark"), "annotations");
    char *t = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    if (!t) return NULL;
    unsigned long long h = lv_hash64(LV_HASH64_INIT, t, strlen(t));
    free(t);
    return lv_strfmt("%016llx", h);
}

lv_status lv_run_check_resume(const char *dir, const char *fingerprint)
{
    char *path = lv_strfmt("%s/run.json", dir);
    if (!path) return lv_fail(LV_ERR_NOMEM, "out of memory");
    struct stat st_;
    if (stat(path, &st_) != 0) { free(path); return LV_OK; }
    lv_status st;
    cJSON *o = lv_json_read(path, &st);
    const cJSON *f = o ? cJSON_GetObjectItemCaseSensitive(o, "fingerprint") : NULL;
    if (st == LV_OK && (!cJSON_IsString(f) || strcmp(f->valuestring, fingerprint)))
        st = lv_fail(LV_ERR_INPUT,
                     "%s: fingerprint %s differs from this run's %s (model, benchmark or settings changed); "
                     "use --force to mix or --overwrite to restart",
                     path, cJSON_IsString(f) ? f->valuestring : "(none)", fingerprint);
    cJSON_Delete(o);
    free(path);
    return st;
}
