/* bench_readers.c - benchmark files -> lv_bench (see bench_readers.h).
 *
 *   path --detect--> native | mme | mme_txt | pope | vqav2 | textvqa | coco | karpathy | mmbench
 *        --reader--> lv_sample[] in file order (bad lines -> error records) --> duplicate-id check
 *
 * Layouts follow benchmarks.md §1; defaults (templates, generation per type) follow §3, which
 * mirrors lmms-eval's defaults as used by LLaDA-V's eval/scripts/evaluate.sh.
 */
#include "bench_readers.h"

#include "eval_text.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- names and defaults ------------------------------------------------------------------ */

static const char *const rd_qtype_names[LV_QTYPE_COUNT] = {"yesno", "mc", "open", "caption", "free"};
static const char *const rd_metric_names[LV_METRIC_COUNT] = {
    "default", "yesno", "mc", "exact", "vqa", "relaxed", "anls", "mmmu_open", "caption", "none"};

const char *lv_qtype_name(lv_qtype t) { return (unsigned)t < LV_QTYPE_COUNT ? rd_qtype_names[t] : "?"; }
const char *lv_metric_name(lv_metric m) { return (unsigned)m < LV_METRIC_COUNT ? rd_metric_names[m] : "?"; }

int lv_qtype_parse(const char *s)
{
    for (int i = 0; s && i < LV_QTYPE_COUNT; i++)
        if (!strcmp(s, rd_qtype_names[i])) return i;
    return -1;
}

int lv_metric_parse(const char *s)
{
    for (int i = 0; s && i < LV_METRIC_COUNT; i++)
        if (!strcmp(s, rd_metric_names[i])) return i;
    return -1;
}

const char *lv_bench_default_template(lv_qtype t)
{
    switch (t) {
    case LV_QTYPE_YESNO:
    case LV_QTYPE_OPEN: return "{question}\nAnswer the question using a single word or phrase.";
    case LV_QTYPE_MC:
        return "{hint_line}{question}\n{choices}\nAnswer with the option's letter from the given choices directly.";
    case LV_QTYPE_CAPTION: return "Provide a one-sentence caption for the provided image.";
    default: return "{question}";
    }
}

lv_bench_gen lv_bench_default_gen(lv_qtype t)
{
    /* evaluate.sh: MC / yes-no 2/2/2; ChartQA-style short answers 16/16/16 stopping at "\n";
     * captions 64/64/32 (no reference setting); free text 128/32/128 */
    lv_bench_gen g = {128, 32, 128, 0.0, ""};
    if (t == LV_QTYPE_YESNO || t == LV_QTYPE_MC) g = (lv_bench_gen){2, 2, 2, 0.0, ""};
    else if (t == LV_QTYPE_OPEN) g = (lv_bench_gen){16, 16, 16, 0.0, "\n"};
    else if (t == LV_QTYPE_CAPTION) g = (lv_bench_gen){64, 64, 32, 0.0, ""};
    return g;
}

lv_bench_params lv_bench_default_params(void)
{
    lv_bench_params p = {NULL, NULL, NULL, NULL, 0, 0};
    return p;
}

lv_metric lv_bench_metric(const lv_bench *b, const lv_sample *s)
{
    lv_metric m = s->metric != LV_METRIC_DEFAULT ? s->metric : b->metrics[s->type];
    if (m != LV_METRIC_DEFAULT) return m;
    if (s->n_golds == 0) return LV_METRIC_NONE;
    switch (s->type) {
    case LV_QTYPE_YESNO: return LV_METRIC_YESNO;
    case LV_QTYPE_MC: return LV_METRIC_MC;
    case LV_QTYPE_OPEN: return s->n_golds >= 3 ? LV_METRIC_VQA : LV_METRIC_EXACT;
    case LV_QTYPE_CAPTION: return LV_METRIC_CAPTION;
    default: return LV_METRIC_NONE;
    }
}

/* ---- small helpers ------------------------------------------------------------------------- */

static char *rd_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static char *rd_strdup(const char *s) { return s ? rd_strndup(s, strlen(s)) : NULL; }

static int rd_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int rd_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *rd_basename(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int rd_ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcasecmp(s + n - m, suf);
}

int lv_bench_path_ok(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/' || rel[0] == '\\') return 0;
    for (const char *p = rel; *p;) {
        const char *e = p;
        while (*e && *e != '/' && *e != '\\') e++;
        if (e - p == 2 && p[0] == '.' && p[1] == '.') return 0;
        p = *e ? e + 1 : e;
    }
    return 1;
}

lv_status lv_base64_decode(const char *s, size_t n, unsigned char **out, size_t *out_n)
{
    unsigned char *o = malloc(n / 4 * 3 + 3);
    if (!o) return lv_fail(LV_ERR_NOMEM, "base64: out of memory for %zu bytes", n);
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+' || c == '-') v = 62;
        else if (c == '/' || c == '_') v = 63;
        else if (c == '=' || isspace(c)) continue;
        else {
            free(o);
            return lv_fail(LV_ERR_FORMAT, "base64: invalid character 0x%02x at offset %zu", c, i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    *out = o;
    *out_n = k;
    return LV_OK;
}

static lv_sample *rd_new_sample(lv_bench *b, int line)
{
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 256;
        lv_sample *q = realloc(b->samples, (size_t)cap * sizeof *q);
        if (!q) return NULL;
        b->samples = q;
        b->cap = cap;
    }
    lv_sample *s = &b->samples[b->n++];
    memset(s, 0, sizeof *s);
    s->line = line;
    s->type = LV_QTYPE_FREE;
    return s;
}

/* Mark s as an error record: "<file>:<line>: <why>"; the id falls back to "line:N". */
static void rd_sample_error(lv_bench *b, lv_sample *s, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rd_sample_error(lv_bench *b, lv_sample *s, const char *file, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (s->error) return;
    s->error = s->line ? lv_strfmt("%s:%d: %s", file, s->line, why) : lv_strfmt("%s: %s", file, why);
    if (!s->id) {
        s->id = lv_strfmt("line:%d", s->line);
        s->id_missing = 1;
    }
    b->n_errors++;
}

static int rd_push(char ***arr, int *n, const char *v, size_t len)
{
    char **q = realloc(*arr, (size_t)(*n + 1) * sizeof *q);
    if (!q) return 0;
    *arr = q;
    if (!(q[*n] = rd_strndup(v, len))) return 0;
    (*n)++;
    return 1;
}

static int rd_push_image(lv_sample *s, const char *root, const char *rel)
{
    char *p = root && *root ? lv_strfmt("%s/%s", root, rel) : rd_strdup(rel);
    if (!p) return 0;
    int ok = rd_push(&s->images, &s->n_images, p, strlen(p));
    free(p);
    return ok;
}

/* A JSON number as an integer id without undefined behaviour for huge values or NaN (fuzzing
 * found 6.9e110 cast to long long): out-of-range values saturate, NaN is 0. */
static long long rd_ll(double d)
{
    if (d != d) return 0;
    if (d <= -9.2e18) return LLONG_MIN;
    if (d >= 9.2e18) return LLONG_MAX;
    return (long long)d;
}

/* A JSON string or number as text ("17", "0.5"); NULL for other kinds. malloc'd. */
static char *rd_json_text(const cJSON *v)
{
    if (cJSON_IsString(v)) return rd_strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d > -1e15 && d < 1e15 && d == (double)(long long)d) return lv_strfmt("%lld", (long long)d);
        return lv_strfmt("%.17g", d);
    }
    if (cJSON_IsBool(v)) return rd_strdup(cJSON_IsTrue(v) ? "yes" : "no");
    return NULL;
}

char *lv_bench_id_text(const cJSON *v)
{
    return rd_json_text(v);
}

static const cJSON *rd_get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (!v && b) v = cJSON_GetObjectItemCaseSensitive(o, b);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* ---- native / LLaVA / POPE lines ---------------------------------------------------------- */

typedef struct {
    const char *file;       /* for messages */
    const char *img_root;   /* images are joined to this */
    const char *category;   /* forced category (POPE split), or NULL */
    const char *id_prefix;  /* "random/" for POPE files read together, or NULL */
    int         force_type; /* -1 or an lv_qtype */
    int         any_path;   /* absolute and ".." image paths allowed (lv_bench_params) */
} rd_line_ctx;

#define RD_OOM(b, s, f) rd_sample_error(b, s, f, "out of memory")

/* One questions.jsonl object -> s (or an error record). */
static void rd_native_obj(lv_bench *b, lv_sample *s, const cJSON *o, const rd_line_ctx *c)
{
    const char *f = c->file;
    if (!cJSON_IsObject(o)) { rd_sample_error(b, s, f, "line is not a JSON object"); return; }
    const cJSON *v = rd_get(o, "id", "question_id");
    char *id = v ? rd_json_text(v) : NULL;
    if (!id || !*id) { free(id); rd_sample_error(b, s, f, "missing or empty \"id\" (or \"question_id\")"); return; }
    s->id = c->id_prefix ? lv_strfmt("%s%s", c->id_prefix, id) : rd_strdup(id);
    s->id_is_number = cJSON_IsNumber(v);
    free(id);
    if (!s->id) { RD_OOM(b, s, f); return; }
    if ((v = rd_get(o, "question", "text"))) {
        if (!cJSON_IsString(v)) { rd_sample_error(b, s, f, "id %s: \"question\" is not a string", s->id); return; }
        s->question = rd_strdup(v->valuestring);
    }
    const char *fields[][2] = {{"hint", NULL}, {"category", NULL}, {"subcategory", NULL}, {"group", NULL}, {"prompt", NULL}};
    char **dst[] = {&s->hint, &s->category, &s->subcategory, &s->group, &s->prompt};
    for (int i = 0; i < 5; i++)
        if ((v = rd_get(o, fields[i][0], NULL))) {
            if (!(*dst[i] = rd_json_text(v))) {
                rd_sample_error(b, s, f, "id %s: \"%s\" is not a string", s->id, fields[i][0]);
                return;
            }
        }
    if (c->category) {
        free(s->category);
        s->category = rd_strdup(c->category);
    }
    /* images */
    const cJSON *im = rd_get(o, "image", NULL), *ims = rd_get(o, "images", NULL);
    if (im && !cJSON_IsString(im)) { rd_sample_error(b, s, f, "id %s: \"image\" is not a string", s->id); return; }
    if (ims && !cJSON_IsArray(ims)) { rd_sample_error(b, s, f, "id %s: \"images\" is not an array", s->id); return; }
    const cJSON *e;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *list = pass == 0 ? im : ims;
        if (!list) continue;
        for (e = pass == 0 ? list : list->child; e; e = pass == 0 ? NULL : e->next) {
            if (!cJSON_IsString(e)) { rd_sample_error(b, s, f, "id %s: an image path is not a string", s->id); return; }
            if (c->any_path ? !e->valuestring[0] : !lv_bench_path_ok(e->valuestring)) {
                rd_sample_error(b, s, f, c->any_path ? "id %s: empty image path%s"
                                : "id %s: image path '%s' must be relative and stay inside the benchmark folder",
                                s->id, e->valuestring);
                return;
            }
            int pushed = c->any_path && e->valuestring[0] == '/' ? rd_push(&s->images, &s->n_images, e->valuestring, strlen(e->valuestring))
                                                                 : rd_push_image(s, c->img_root, e->valuestring);
            if (!pushed) { RD_OOM(b, s, f); return; }
        }
    }
    /* golds */
    if ((v = rd_get(o, "answer", "label"))) {
        char *t = rd_json_text(v);
        if (!t) { rd_sample_error(b, s, f, "id %s: \"answer\" is not a string", s->id); return; }
        int ok = rd_push(&s->golds, &s->n_golds, t, strlen(t));
        free(t);
        if (!ok) { RD_OOM(b, s, f); return; }
    }
    int n_answer = s->n_golds;   /* 0 or 1: the "answer" field */
    if ((v = rd_get(o, "answers", NULL))) {
        if (!cJSON_IsArray(v)) { rd_sample_error(b, s, f, "id %s: \"answers\" is not an array", s->id); return; }
        cJSON_ArrayForEach(e, v) {
            char *t = rd_json_text(cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "answer") : e);
            if (!t) { rd_sample_error(b, s, f, "id %s: an entry of \"answers\" is not a string", s->id); return; }
            int ok = rd_push(&s->golds, &s->n_golds, t, strlen(t));
            free(t);
            if (!ok) { RD_OOM(b, s, f); return; }
        }
        /* "answer" repeated among "answers" is the same gold, not one more vote: counting it
         * would turn two alternatives into three and the open metric into VQA accuracy */
        for (int g = n_answer; n_answer == 1 && g < s->n_golds; g++)
            if (!strcmp(s->golds[0], s->golds[g])) {
                free(s->golds[0]);
                memmove(s->golds, s->golds + 1, (size_t)(--s->n_golds) * sizeof *s->golds);
                break;
            }
    }
    if ((v = rd_get(o, "choices", NULL))) {
        if (!cJSON_IsArray(v)) { rd_sample_error(b, s, f, "id %s: \"choices\" is not an array", s->id); return; }
        cJSON_ArrayForEach(e, v) {
            char *t = rd_json_text(e);
            if (!t) { rd_sample_error(b, s, f, "id %s: a choice is not a string", s->id); return; }
            int ok = rd_push(&s->choices, &s->n_choices, t, strlen(t));
            free(t);
            if (!ok) { RD_OOM(b, s, f); return; }
        }
        if (s->n_choices > 26) { rd_sample_error(b, s, f, "id %s: %d choices, at most 26", s->id, s->n_choices); return; }
    }
    /* type and metric */
    int t = c->force_type;
    if ((v = rd_get(o, "type", NULL))) {
        if (!cJSON_IsString(v) || (t = lv_qtype_parse(v->valuestring)) < 0) {
            rd_sample_error(b, s, f, "id %s: \"type\" must be one of yesno, mc, open, caption, free", s->id);
            return;
        }
    }
    if (t < 0) t = s->n_choices ? LV_QTYPE_MC : s->n_golds ? LV_QTYPE_OPEN : LV_QTYPE_FREE;
    s->type = (lv_qtype)t;
    if ((v = rd_get(o, "metric", NULL))) {
        int m = cJSON_IsString(v) ? lv_metric_parse(v->valuestring) : -1;
        if (m < 0) {
            rd_sample_error(b, s, f, "id %s: unknown \"metric\" (exact, vqa, relaxed, anls, mmmu_open, caption, none)", s->id);
            return;
        }
        s->metric = (lv_metric)m;
    }
    if ((v = rd_get(o, "meta", NULL))) {
        if (!cJSON_IsObject(v)) { rd_sample_error(b, s, f, "id %s: \"meta\" is not an object", s->id); return; }
        s->meta = cJSON_PrintUnformatted(v);
    }
    static const char *const skeys[LV_BENCH_N_SAMPLER_KEYS] = LV_BENCH_SAMPLER_KEYS;
    cJSON *so = NULL;
    for (int k = 0; k < LV_BENCH_N_SAMPLER_KEYS; k++) {
        if (!(v = rd_get(o, skeys[k], NULL))) continue;
        if (!cJSON_IsNumber(v) && !cJSON_IsString(v)) {
            cJSON_Delete(so);
            rd_sample_error(b, s, f, "id %s: \"%s\" is neither a number nor a string", s->id, skeys[k]);
            return;
        }
        if ((!so && !(so = cJSON_CreateObject())) || !cJSON_AddItemToObject(so, skeys[k], cJSON_Duplicate(v, 1))) {
            cJSON_Delete(so);
            RD_OOM(b, s, f);
            return;
        }
    }
    if (so) {
        s->sampler = cJSON_PrintUnformatted(so);
        cJSON_Delete(so);
        if (!s->sampler) { RD_OOM(b, s, f); return; }
    }
    /* consistency */
    if (!s->question && !s->prompt && s->type != LV_QTYPE_CAPTION) {
        rd_sample_error(b, s, f, "id %s: missing \"question\" (or \"text\" or \"prompt\")", s->id);
        return;
    }
    if (s->type == LV_QTYPE_MC) {
        if (s->n_choices < 2) { rd_sample_error(b, s, f, "id %s: type mc needs at least 2 \"choices\"", s->id); return; }
        for (int g = 0; g < s->n_golds; g++) {
            if (lv_mc_gold_index(s->golds[g], s->n_choices) >= 0) continue;
            int k = -1;  /* a gold given as the option text becomes its letter */
            for (int i = 0; i < s->n_choices; i++)
                if (!strcmp(s->golds[g], s->choices[i])) k = i;
            if (k < 0) {
                rd_sample_error(b, s, f, "id %s: mc answer '%s' is neither an option letter nor an option", s->id, s->golds[g]);
                return;
            }
            free(s->golds[g]);
            s->golds[g] = lv_strfmt("%c", 'A' + k);
        }
    }
    if (s->type == LV_QTYPE_YESNO)
        for (int g = 0; g < s->n_golds; g++)
            if (lv_yesno_gold(s->golds[g]) == LV_YN_OTHER) {
                rd_sample_error(b, s, f, "id %s: yesno answer '%s' is not yes or no", s->id, s->golds[g]);
                return;
            }
}

/* Every non-blank line of buf as one JSON object. */
/* Length of a UTF-8 byte-order mark at the start of buf (editors on Windows write one). */
static size_t rd_bom(const char *buf, size_t n) { return n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0; }

static lv_status rd_jsonl(lv_bench *b, const char *buf, size_t n, const rd_line_ctx *c, size_t max_line)
{
    int line = 0;
    for (size_t i = rd_bom(buf, n); i < n;) {
        size_t e = i;
        while (e < n && buf[e] != '\n') e++;
        line++;
        size_t j = i;
        while (j < e && isspace((unsigned char)buf[j])) j++;
        if (j < e) {
            lv_sample *s = rd_new_sample(b, line);
            if (!s) return lv_fail(LV_ERR_NOMEM, "%s: out of memory at line %d", c->file, line);
            if (e - i > max_line) {
                rd_sample_error(b, s, c->file, "line of %zu bytes exceeds the %zu-byte limit", e - i, max_line);
            } else {
                cJSON *o = cJSON_ParseWithLength(buf + i, e - i);
                if (!o) rd_sample_error(b, s, c->file, "not valid JSON");
                else rd_native_obj(b, s, o, c);
                cJSON_Delete(o);
            }
        }
        i = e + 1;
    }
    return LV_OK;
}

/* benchmark.json: name, templates, generation, metrics, category_order, image_root, rules. */
static lv_status rd_manifest(lv_bench *b, const char *path)
{
    char *buf;
    size_t n;
    LV_TRY(lv_file_read(path, &buf, &n));
    cJSON *o = cJSON_ParseWithLength(buf, n);
    free(buf);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return lv_fail(LV_ERR_FORMAT, "%s: not a JSON object", path);
    }
    lv_status st = LV_OK;
    const cJSON *v, *e;
    if ((v = rd_get(o, "name", NULL)) && cJSON_IsString(v)) {
        free(b->name);
        b->name = rd_strdup(v->valuestring);
    }
    if ((v = rd_get(o, "image_root", NULL))) {
        if (!cJSON_IsString(v) || !lv_bench_path_ok(v->valuestring)) {
            st = lv_fail(LV_ERR_FORMAT, "%s: image_root must be a relative path inside the folder", path);
        } else {
            char *r = lv_strfmt("%s/%s", b->root, v->valuestring);
            free(b->root);
            b->root = r;
        }
    }
    for (int t = 0; st == LV_OK && t < LV_QTYPE_COUNT; t++) {
        if ((v = rd_get(o, "templates", NULL)) && (e = rd_get(v, rd_qtype_names[t], NULL))) {
            if (!cJSON_IsString(e)) st = lv_fail(LV_ERR_FORMAT, "%s: templates.%s is not a string", path, rd_qtype_names[t]);
            else b->templates[t] = rd_strdup(e->valuestring);
        }
        if ((v = rd_get(o, "metrics", NULL)) && (e = rd_get(v, rd_qtype_names[t], NULL))) {
            int m = cJSON_IsString(e) ? lv_metric_parse(e->valuestring) : -1;
            if (m < 0) st = lv_fail(LV_ERR_FORMAT, "%s: metrics.%s is not a known metric", path, rd_qtype_names[t]);
            else b->metrics[t] = (lv_metric)m;
        }
        if ((v = rd_get(o, "generation", NULL)) && (e = rd_get(v, rd_qtype_names[t], NULL))) {
            lv_bench_gen *g = &b->gen[t];
            const cJSON *x;
            if ((x = rd_get(e, "gen_length", NULL)) && cJSON_IsNumber(x)) g->gen_length = x->valueint;
            if ((x = rd_get(e, "block_length", NULL)) && cJSON_IsNumber(x)) g->block_length = x->valueint;
            if ((x = rd_get(e, "steps", NULL)) && cJSON_IsNumber(x)) g->steps = x->valueint;
            if ((x = rd_get(e, "temperature", NULL)) && cJSON_IsNumber(x)) g->temperature = x->valuedouble;
            if ((x = rd_get(e, "stop", NULL)) && cJSON_IsString(x)) snprintf(g->stop, sizeof g->stop, "%s", x->valuestring);
            if (g->gen_length < 1 || g->block_length < 1 || g->steps < 1 || g->gen_length % g->block_length ||
                g->steps % (g->gen_length / g->block_length))
                st = lv_fail(LV_ERR_FORMAT,
                             "%s: generation.%s: gen_length %d, block_length %d, steps %d: need gen_length %% "
                             "block_length == 0 and steps divisible by the block count",
                             path, rd_qtype_names[t], g->gen_length, g->block_length, g->steps);
        }
    }
    if (st == LV_OK && (v = rd_get(o, "category_order", NULL)) && cJSON_IsArray(v))
        cJSON_ArrayForEach(e, v) {
            if (cJSON_IsString(e) && !rd_push(&b->category_order, &b->n_category_order, e->valuestring, strlen(e->valuestring))) {
                st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
        }
    if (st == LV_OK && (v = rd_get(o, "yesno_rule", NULL)) && cJSON_IsString(v)) {
        const char *r = v->valuestring;
        if (!strcmp(r, "mme")) b->yn_rule = LV_YNRULE_MME;
        else if (!strcmp(r, "pope")) b->yn_rule = LV_YNRULE_POPE;
        else if (!strcmp(r, "lmms")) b->yn_rule = LV_YNRULE_LMMS;
        else if (!strcmp(r, "vlmeval")) b->yn_rule = LV_YNRULE_VLMEVAL;
        else st = lv_fail(LV_ERR_FORMAT, "%s: yesno_rule '%s' is not mme, lmms, pope or vlmeval", path, r);
    }
    if (st == LV_OK && (v = rd_get(o, "mc_rule", NULL)) && cJSON_IsString(v)) {
        if (!strcmp(v->valuestring, "mmmu")) b->mc_rule = LV_MCRULE_MMMU;
        else if (!strcmp(v->valuestring, "can_infer")) b->mc_rule = LV_MCRULE_CAN_INFER;
        else st = lv_fail(LV_ERR_FORMAT, "%s: mc_rule '%s' is not can_infer or mmmu", path, v->valuestring);
    }
    cJSON_Delete(o);
    return st;
}

static lv_status rd_native(lv_bench *b, const char *path, const lv_bench_params *p, size_t max_line)
{
    char *qpath = rd_is_dir(path) ? lv_strfmt("%s/questions.jsonl", path) : rd_strdup(path);
    if (!qpath) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    if (rd_is_dir(path)) {
        char *m = lv_strfmt("%s/benchmark.json", path);
        lv_status st = m && rd_is_file(m) ? rd_manifest(b, m) : LV_OK;
        free(m);
        if (st != LV_OK) { free(qpath); return st; }
    }
    if (p->image_root) {
        free(b->root);
        b->root = rd_strdup(p->image_root);
    }
    char *buf;
    size_t n;
    lv_status st = lv_file_read(qpath, &buf, &n);
    if (st == LV_OK) {
        rd_line_ctx c = {qpath, b->root, NULL, NULL, -1, p->any_path};
        st = rd_jsonl(b, buf, n, &c, max_line);
        free(buf);
    }
    b->source = qpath;
    return st;
}

/* ---- POPE ------------------------------------------------------------------------------------ */

static int rd_str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names in dir accepted by keep(name); malloc'd array of malloc'd names. */
static lv_status rd_list_dir(const char *dir, int (*keep)(const char *), char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return lv_fail(LV_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    struct dirent *e;
    lv_status st = LV_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !keep(e->d_name)) continue;
        if (!rd_push(out, n, e->d_name, strlen(e->d_name))) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir); break; }
    }
    closedir(d);
    if (*n) qsort(*out, (size_t)*n, sizeof **out, rd_str_cmp);
    return st;
}

static void rd_free_list(char **l, int n)
{
    for (int i = 0; i < n; i++) free(l[i]);
    free(l);
}

static int rd_is_pope_name(const char *n) { return !strncmp(n, "coco_pope_", 10) && (rd_ends_with(n, ".json") || rd_ends_with(n, ".jsonl")); }

/* coco_pope_random.json -> "random" */
static char *rd_pope_split(const char *file)
{
    const char *b = rd_basename(file);
    if (!strncmp(b, "coco_pope_", 10)) b += 10;
    const char *dot = strrchr(b, '.');
    return rd_strndup(b, dot ? (size_t)(dot - b) : strlen(b));
}

static lv_status rd_pope_file(lv_bench *b, const char *file, int prefix_ids, size_t max_line)
{
    char *buf, *split = rd_pope_split(file), *prefix = split ? lv_strfmt("%s/", split) : NULL;
    size_t n;
    lv_status st = split && prefix ? lv_file_read(file, &buf, &n) : lv_fail(LV_ERR_NOMEM, "%s: out of memory", file);
    if (st == LV_OK) {
        rd_line_ctx c = {file, b->root, split, prefix_ids ? prefix : NULL, LV_QTYPE_YESNO, 0};
        st = rd_jsonl(b, buf, n, &c, max_line);
        free(buf);
    }
    free(split);
    free(prefix);
    return st;
}

static lv_status rd_pope(lv_bench *b, const char *path, size_t max_line)
{
    b->yn_rule = LV_YNRULE_POPE;
    if (!rd_is_dir(path)) return rd_pope_file(b, path, 0, max_line);
    char **names;
    int n;
    LV_TRY(rd_list_dir(path, rd_is_pope_name, &names, &n));
    lv_status st = n ? LV_OK : lv_fail(LV_ERR_FORMAT, "%s: no coco_pope_*.json files", path);
    for (int i = 0; st == LV_OK && i < n; i++) {
        char *f = lv_strfmt("%s/%s", path, names[i]);
        st = f ? rd_pope_file(b, f, 1, max_line) : lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
        free(f);
    }
    rd_free_list(names, n);
    return st;
}

/* ---- MME ------------------------------------------------------------------------------------- */

static int rd_is_txt(const char *n) { return rd_ends_with(n, ".txt"); }

/* The folder holding the subtask folders (or txt files): path, or a MME_Benchmark* child. */
static char *rd_mme_base(const char *path, int txt)
{
    for (int level = 0; level < 2; level++) {
        const char *subs[] = {"", "MME_Benchmark", "MME_Benchmark_release_version"};
        for (int k = level == 0 ? 0 : 1; k < (level == 0 ? 1 : 3); k++) {
            char *base = k ? lv_strfmt("%s/%s", path, subs[k]) : rd_strdup(path);
            int found = 0;
            for (int t = 0; base && t < 14 && !found; t++) {
                char *q = txt ? lv_strfmt("%s/%s.txt", base, lv_mme_subtasks[t]) : lv_strfmt("%s/%s", base, lv_mme_subtasks[t]);
                found = q && (txt ? rd_is_file(q) : rd_is_dir(q));
                free(q);
            }
            if (found) return base;
            free(base);
        }
    }
    return NULL;
}

/* An MME question ends with " Please answer yes or no."; lmms-eval removes it before adding its
 * own suffix (the default yesno template). */
static char *rd_mme_question(const char *q, size_t n)
{
    static const char tail[] = " Please answer yes or no.";
    size_t m = sizeof tail - 1;
    if (n >= m && !memcmp(q + n - m, tail, m)) n -= m;
    return rd_strndup(q, n);
}

static lv_status rd_mme_task(lv_bench *b, const char *base, const char *task)
{
    char *qa = lv_strfmt("%s/%s/questions_answers_YN", base, task);
    char *imgdir = NULL, *txtdir = NULL;
    if (!qa) return lv_fail(LV_ERR_NOMEM, "mme: out of memory");
    if (rd_is_dir(qa)) {   /* split layout */
        txtdir = qa;
        imgdir = lv_strfmt("%s/images", task);
    } else {               /* flat layout */
        free(qa);
        txtdir = lv_strfmt("%s/%s", base, task);
        imgdir = rd_strdup(task);
    }
    char **names = NULL;
    int n = 0;
    lv_status st = txtdir && imgdir ? rd_list_dir(txtdir, rd_is_txt, &names, &n) : lv_fail(LV_ERR_NOMEM, "mme: out of memory");
    for (int i = 0; st == LV_OK && i < n; i++) {
        char *file = lv_strfmt("%s/%s", txtdir, names[i]), *buf = NULL;
        size_t len = 0, stem_n = strlen(names[i]) - 4;
        char *stem = rd_strndup(names[i], stem_n);
        if (!file || !stem) { free(file); free(stem); st = lv_fail(LV_ERR_NOMEM, "mme: out of memory"); break; }
        lv_status rs = lv_file_read(file, &buf, &len);
        /* the image next to it: .jpg (perception) or .png (cognition) */
        char *img = lv_strfmt("%s/%s/%s.jpg", b->root, imgdir, stem), *rel = NULL;
        if (img && !rd_is_file(img)) {
            char *png = lv_strfmt("%s/%s/%s.png", b->root, imgdir, stem);
            if (png && rd_is_file(png)) { free(img); img = png; } else free(png);
        }
        rel = img ? rd_strdup(img + strlen(b->root) + 1) : NULL;
        int line = 0, k = 0;
        for (size_t p = 0; rs == LV_OK && p < len;) {
            size_t e = p;
            while (e < len && buf[e] != '\n') e++;
            line++;
            size_t ee = e;
            while (ee > p && (buf[ee - 1] == '\r' || buf[ee - 1] == ' ')) ee--;
            if (ee > p) {
                lv_sample *s = rd_new_sample(b, line);
                if (!s) { st = lv_fail(LV_ERR_NOMEM, "mme: out of memory"); break; }
                s->id = lv_strfmt("%s/%s/%d", task, stem, k++);
                s->type = LV_QTYPE_YESNO;
                s->category = rd_strdup(task);
                s->group = lv_strfmt("%s/%s", task, stem);
                const char *tab = memchr(buf + p, '\t', ee - p);
                if (!tab) rd_sample_error(b, s, file, "expected 'question<TAB>Yes|No'");
                else {
                    s->question = rd_mme_question(buf + p, (size_t)(tab - buf - p));
                    char *gold = rd_strndup(tab + 1, (size_t)(buf + ee - tab - 1));
                    if (!gold || lv_yesno_gold(gold) == LV_YN_OTHER)
                        rd_sample_error(b, s, file, "answer '%s' is not Yes or No", gold ? gold : "");
                    else {
                        for (char *g = gold; *g; g++) *g = (char)tolower((unsigned char)*g);
                        if (!rd_push(&s->golds, &s->n_golds, gold, strlen(gold)) || !rel || !rd_push_image(s, b->root, rel))
                            RD_OOM(b, s, file);
                    }
                    free(gold);
                }
            }
            p = e + 1;
        }
        if (rs != LV_OK) {
            lv_sample *s = rd_new_sample(b, 0);
            if (s) {
                s->id = lv_strfmt("%s/%s", task, stem);
                rd_sample_error(b, s, file, "cannot be read");
            }
        }
        free(buf);
        free(file);
        free(stem);
        free(img);
        free(rel);
    }
    rd_free_list(names, n);
    free(txtdir);
    free(imgdir);
    return st;
}

static lv_status rd_mme(lv_bench *b, const char *path)
{
    char *base = rd_mme_base(path, 0);
    if (!base) return lv_fail(LV_ERR_FORMAT, "%s: no MME subtask folders (existence, count, ..., code_reasoning)", path);
    free(b->root);
    b->root = base;
    b->yn_rule = LV_YNRULE_MME;
    for (int t = 0; t < 14; t++) {
        char *d = lv_strfmt("%s/%s", base, lv_mme_subtasks[t]);
        int have = d && rd_is_dir(d);
        free(d);
        if (have) LV_TRY(rd_mme_task(b, base, lv_mme_subtasks[t]));
    }
    return LV_OK;
}

/* eval_tool result folder: <task>.txt with lines image<TAB>question<TAB>gt<TAB>response; the
 * official tool pairs consecutive lines (one image = two questions), so groups are line pairs. */
static lv_status rd_mme_txt(lv_bench *b, const char *path)
{
    char *base = rd_mme_base(path, 1);
    if (!base) return lv_fail(LV_ERR_FORMAT, "%s: no MME result txt files (existence.txt, ...)", path);
    free(b->root);
    b->root = base;
    b->yn_rule = LV_YNRULE_MME;
    lv_status st = LV_OK;
    for (int t = 0; st == LV_OK && t < 14; t++) {
        const char *task = lv_mme_subtasks[t];
        char *file = lv_strfmt("%s/%s.txt", base, task), *buf = NULL;
        size_t len;
        if (!file || !rd_is_file(file)) { free(file); continue; }
        st = lv_file_read(file, &buf, &len);
        int line = 0, q = 0;
        for (size_t p = 0; st == LV_OK && p < len;) {
            size_t e = p;
            while (e < len && buf[e] != '\n') e++;
            line++;
            if (e > p) {
                lv_sample *s = rd_new_sample(b, line);
                if (!s) { st = lv_fail(LV_ERR_NOMEM, "mme: out of memory"); break; }
                const char *f[4];
                size_t fl[4];
                int nf = 0;
                for (size_t a = p; nf < 4;) {
                    const char *tab = nf < 3 ? memchr(buf + a, '\t', e - a) : NULL;
                    f[nf] = buf + a;
                    fl[nf++] = tab ? (size_t)(tab - buf - a) : e - a;
                    if (!tab) break;
                    a = (size_t)(tab - buf) + 1;
                }
                s->type = LV_QTYPE_YESNO;
                s->category = rd_strdup(task);
                s->group = lv_strfmt("%s/pair%d", task, q / 2);
                if (nf < 4) {
                    s->id = lv_strfmt("%s/%d", task, q);
                    rd_sample_error(b, s, file, "expected image<TAB>question<TAB>gt<TAB>response");
                } else {
                    size_t stem = fl[0];
                    for (size_t i = 0; i < fl[0]; i++)
                        if (f[0][i] == '.') stem = i;
                    char *st_ = rd_strndup(f[0], stem), *gold = rd_strndup(f[2], fl[2]);
                    s->id = lv_strfmt("%s/%s/%d", task, st_ ? st_ : "", q % 2);
                    free(st_);
                    s->question = rd_mme_question(f[1], fl[1]);
                    s->output = rd_strndup(f[3], fl[3]);
                    char *img = rd_strndup(f[0], fl[0]);
                    if (!gold || lv_yesno_gold(gold) == LV_YN_OTHER) rd_sample_error(b, s, file, "gt is not Yes or No");
                    else {
                        for (char *g = gold; *g; g++) *g = (char)tolower((unsigned char)*g);
                        if (!rd_push(&s->golds, &s->n_golds, gold, strlen(gold))) RD_OOM(b, s, file);
                        if (img && lv_bench_path_ok(img)) {
                            char *rel = lv_strfmt("%s/%s", task, img);
                            if (!rel || !rd_push_image(s, base, rel)) RD_OOM(b, s, file);
                            free(rel);
                        }
                    }
                    free(img);
                    free(gold);
                }
                q++;
            }
            p = e + 1;
        }
        free(buf);
        free(file);
    }
    return st;
}

/* ---- VQAv2, TextVQA, COCO, Karpathy (whole-file JSON) ------------------------------------- */

/* Images from a dataset record: require a safe relative name. */
static void rd_image_or_error(lv_bench *b, lv_sample *s, const char *file, const char *rel)
{
    if (!lv_bench_path_ok(rel)) rd_sample_error(b, s, file, "id %s: unsafe image path '%s'", s->id, rel);
    else if (!rd_push_image(s, b->root, rel)) RD_OOM(b, s, file);
}

typedef struct {
    long long    qid;
    const cJSON *ann;
    long         pos;   /* file order, so equal keys keep it */
} rd_ann;

static int rd_ann_cmp(const void *a, const void *b)
{
    const rd_ann *x = a, *y = b;
    if (x->qid != y->qid) return (x->qid > y->qid) - (x->qid < y->qid);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int rd_ann_key_cmp(const void *a, const void *b)
{
    long long x = ((const rd_ann *)a)->qid, y = ((const rd_ann *)b)->qid;
    return (x > y) - (x < y);
}

static int rd_is_ann_name(const char *n) { return strstr(n, "annotations") && rd_ends_with(n, ".json"); }

static lv_status rd_vqav2(lv_bench *b, const char *path, const cJSON *qj, const lv_bench_params *p)
{
    char *ann_path = p->annotations ? rd_strdup(p->annotations) : NULL;
    if (!ann_path) {  /* a sibling *annotations*.json */
        char *dir = rd_strndup(path, (size_t)(rd_basename(path) - path));
        char **names = NULL;
        int n = 0;
        if (dir && rd_list_dir(*dir ? dir : ".", rd_is_ann_name, &names, &n) == LV_OK && n == 1)
            ann_path = lv_strfmt("%s%s", dir, names[0]);
        rd_free_list(names, n);
        free(dir);
        if (!ann_path) return lv_fail(LV_ERR_ARG, "%s: VQAv2 questions need their annotations file (give it explicitly)", path);
    }
    lv_status st;
    cJSON *aj = lv_json_read(ann_path, &st);
    const cJSON *anns = aj ? rd_get(aj, "annotations", NULL) : NULL;
    if (aj && !cJSON_IsArray(anns)) st = lv_fail(LV_ERR_FORMAT, "%s: no \"annotations\" list", ann_path);
    int na = anns ? cJSON_GetArraySize(anns) : 0;
    rd_ann *idx = st == LV_OK ? malloc((size_t)(na ? na : 1) * sizeof *idx) : NULL;
    if (st == LV_OK && !idx) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", ann_path);
    int k = 0;
    const cJSON *e;
    if (st == LV_OK) {
        cJSON_ArrayForEach(e, anns) {
            const cJSON *q = rd_get(e, "question_id", NULL);
            if (cJSON_IsNumber(q)) { idx[k] = (rd_ann){rd_ll(q->valuedouble), e, k}; k++; }
        }
        qsort(idx, (size_t)k, sizeof *idx, rd_ann_cmp);
    }
    /* image file prefix from data_subtype ("val2014" -> COCO_val2014_%012d.jpg) */
    const cJSON *sub = rd_get(qj, "data_subtype", NULL);
    const char *subtype = cJSON_IsString(sub) ? sub->valuestring : "val2014";
    int line = 0;
    cJSON_ArrayForEach(e, rd_get(qj, "questions", NULL)) {
        if (st != LV_OK) break;
        lv_sample *s = rd_new_sample(b, ++line);
        if (!s) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); break; }
        const cJSON *qid = rd_get(e, "question_id", NULL), *q = rd_get(e, "question", NULL), *im = rd_get(e, "image_id", NULL);
        s->type = LV_QTYPE_OPEN;
        s->metric = LV_METRIC_VQA;
        if (!cJSON_IsNumber(qid) || !cJSON_IsString(q) || !cJSON_IsNumber(im)) {
            rd_sample_error(b, s, path, "question %d: needs numeric question_id and image_id and a question", line);
            continue;
        }
        s->id = rd_json_text(qid);
        s->question = rd_strdup(q->valuestring);
        char rel[128];
        snprintf(rel, sizeof rel, "COCO_%s_%012lld.jpg", subtype, rd_ll(im->valuedouble));
        rd_image_or_error(b, s, path, rel);
        rd_ann key = {rd_ll(qid->valuedouble), NULL, 0}, *hit = bsearch(&key, idx, (size_t)k, sizeof *idx, rd_ann_key_cmp);
        if (!hit) { rd_sample_error(b, s, path, "id %s: no annotation", s->id); continue; }
        const cJSON *at = rd_get(hit->ann, "answer_type", NULL), *qt = rd_get(hit->ann, "question_type", NULL), *a;
        if (cJSON_IsString(at)) s->category = rd_strdup(at->valuestring);
        if (cJSON_IsString(qt)) s->subcategory = rd_strdup(qt->valuestring);
        cJSON_ArrayForEach(a, rd_get(hit->ann, "answers", NULL)) {
            char *t = rd_json_text(rd_get(a, "answer", NULL));
            if (t && !rd_push(&s->golds, &s->n_golds, t, strlen(t))) RD_OOM(b, s, path);
            free(t);
        }
        if (!s->n_golds) rd_sample_error(b, s, ann_path, "id %s: annotation has no answers", s->id);
    }
    free(idx);
    cJSON_Delete(aj);
    free(ann_path);
    return st;
}

/* Question records of a JSON list: which keys hold what, per layout. */
typedef struct {
    const char *list;                  /* key of the record list, NULL: the top level is the list */
    const char *open_template;         /* the task's prompt (NULL: the default open template) */
    lv_bench_gen gen;                  /* generation of the open type (gen_length 0: default) */
    const char *id;                    /* id key, NULL: "<file stem>/<position>" */
    const char *question, *image, *image_fmt;   /* image_fmt: printf pattern for the file name */
    const char *answer, *answers;      /* one gold / a list of golds */
    lv_metric   metric;
    int         stem_category;         /* category = file stem (ChartQA human / augmented) */
} rd_records;

/* TextVQA: data[{question_id, question, image_id, answers[10]}], train_images/<image_id>.jpg */
static const rd_records rd_textvqa_map = {"data", NULL, {0, 0, 0, 0.0, ""}, "question_id", "question", "image_id", "%s.jpg",
                                         NULL, "answers", LV_METRIC_VQA, 0};
/* DocVQA / InfoVQA: data[{questionId, question, image: "documents/x.png", answers}]; LLaDA-V's
 * modified task asks for the reason then "Answer: X" and generates 32/32/16 (evaluate.sh) */
static const rd_records rd_docvqa_map = {
    "data", "{question}\nGive the reason and then write your final answer in the format 'Answer: X' where X is the "
            "answer to the question.",
    {32, 32, 16, 0.0, ""}, "questionId", "question", "image", "%s", NULL, "answers", LV_METRIC_ANLS, 0};
/* ChartQA: [{imgname, query, label}], images in png/; lmms-eval's single-word suffix */
static const rd_records rd_chartqa_map = {NULL, "{question}\nAnswer the question with a single word.", {16, 16, 16, 0.0, "\n"},
                                          NULL, "query", "imgname", "png/%s", "label", NULL, LV_METRIC_RELAXED, 1};

static lv_status rd_records_read(lv_bench *b, const char *path, const cJSON *j, const rd_records *m)
{
    const cJSON *list = m->list ? rd_get(j, m->list, NULL) : j, *e;
    if (!cJSON_IsArray(list)) return lv_fail(LV_ERR_FORMAT, "%s: expected a list of question records", path);
    char *stem = rd_strdup(rd_basename(path));
    if (!stem) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    if (strrchr(stem, '.')) *strrchr(stem, '.') = 0;
    if (m->open_template && !b->templates[LV_QTYPE_OPEN]) b->templates[LV_QTYPE_OPEN] = rd_strdup(m->open_template);
    if (m->gen.gen_length) b->gen[LV_QTYPE_OPEN] = m->gen;
    int line = 0;
    lv_status st = LV_OK;
    cJSON_ArrayForEach(e, list) {
        lv_sample *s = rd_new_sample(b, ++line);
        if (!s) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); break; }
        s->type = LV_QTYPE_OPEN;
        s->metric = m->metric;
        const cJSON *id = m->id ? rd_get(e, m->id, NULL) : NULL, *q = rd_get(e, m->question, NULL),
                    *im = rd_get(e, m->image, NULL), *a;
        s->id = m->id ? (id ? rd_json_text(id) : NULL) : lv_strfmt("%s/%d", stem, line - 1);
        if (!s->id || !cJSON_IsString(q) || !cJSON_IsString(im)) {
            rd_sample_error(b, s, path, "record %d: needs %s, %s and %s", line, m->id ? m->id : "a position", m->question, m->image);
            continue;
        }
        s->question = rd_strdup(q->valuestring);
        if (m->stem_category) s->category = rd_strdup(stem);
        char *rel = lv_strfmt(m->image_fmt, im->valuestring);
        if (rel) rd_image_or_error(b, s, path, rel);
        free(rel);
        const cJSON *golds = m->answers ? rd_get(e, m->answers, NULL) : NULL;
        if (m->answer && (a = rd_get(e, m->answer, NULL))) golds = a;
        if (golds && !cJSON_IsArray(golds)) {
            char *t = rd_json_text(golds);
            if (t && !rd_push(&s->golds, &s->n_golds, t, strlen(t))) RD_OOM(b, s, path);
            free(t);
        } else
            cJSON_ArrayForEach(a, golds) {
                char *t = rd_json_text(a);
                if (t && !rd_push(&s->golds, &s->n_golds, t, strlen(t))) RD_OOM(b, s, path);
                free(t);
            }
    }
    free(stem);
    return st;
}

/* GQA testdev_balanced_questions.json: {qid: {imageId, question, answer, types{structural}}},
 * images/<imageId>.jpg; exact match after the VQA normalization (LLaVA lowercases and strips a
 * final period, lmms-eval ignores case and punctuation: both agree with it on GQA's one-word
 * answers). */
static lv_status rd_gqa(lv_bench *b, const char *path, const cJSON *j)
{
    int line = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        lv_sample *s = rd_new_sample(b, ++line);
        if (!s) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
        s->type = LV_QTYPE_OPEN;
        s->metric = LV_METRIC_EXACT;
        s->id = rd_strdup(e->string ? e->string : "");
        const cJSON *im = rd_get(e, "imageId", NULL), *q = rd_get(e, "question", NULL), *a = rd_get(e, "answer", NULL),
                    *ty = rd_get(rd_get(e, "types", NULL), "structural", NULL);
        if (!s->id || !cJSON_IsString(im) || !cJSON_IsString(q)) {
            rd_sample_error(b, s, path, "question %d: needs imageId and question", line);
            continue;
        }
        s->question = rd_strdup(q->valuestring);
        if (cJSON_IsString(ty)) s->category = rd_strdup(ty->valuestring);
        char *rel = lv_strfmt("%s.jpg", im->valuestring);
        if (rel) rd_image_or_error(b, s, path, rel);
        free(rel);
        if (cJSON_IsString(a) && !rd_push(&s->golds, &s->n_golds, a->valuestring, strlen(a->valuestring))) RD_OOM(b, s, path);
    }
    return LV_OK;
}

/* SEED-Bench v1: questions[{question_id, question, choice_a..choice_d, answer, data_id,
 * data_type, question_type_id}] + question_type {name: id}; image questions only, files in the
 * image folder; category = question type name. */
static lv_status rd_seed(lv_bench *b, const char *path, const cJSON *j)
{
    const cJSON *types = rd_get(j, "question_type", NULL), *e, *t;
    int line = 0;
    cJSON_ArrayForEach(e, rd_get(j, "questions", NULL)) {
        line++;
        const cJSON *dt = rd_get(e, "data_type", NULL);
        if (cJSON_IsString(dt) && strcmp(dt->valuestring, "image")) continue;
        lv_sample *s = rd_new_sample(b, line);
        if (!s) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
        s->type = LV_QTYPE_MC;
        const cJSON *qid = rd_get(e, "question_id", NULL), *q = rd_get(e, "question", NULL), *im = rd_get(e, "data_id", NULL),
                    *a = rd_get(e, "answer", NULL), *ty = rd_get(e, "question_type_id", NULL);
        s->id = qid ? rd_json_text(qid) : NULL;
        if (!s->id || !cJSON_IsString(q) || !cJSON_IsString(im)) {
            rd_sample_error(b, s, path, "question %d: needs question_id, question and data_id", line);
            continue;
        }
        s->question = rd_strdup(q->valuestring);
        for (int k = 0; k < 26; k++) {
            char key[16];
            snprintf(key, sizeof key, "choice_%c", 'a' + k);
            const cJSON *c = rd_get(e, key, NULL);
            if (!c) break;
            char *txt = rd_json_text(c);
            if (!txt || !rd_push(&s->choices, &s->n_choices, txt, strlen(txt))) RD_OOM(b, s, path);
            free(txt);
        }
        char *gold = a ? rd_json_text(a) : NULL;
        if (gold && lv_mc_gold_index(gold, s->n_choices) >= 0) {
            if (!rd_push(&s->golds, &s->n_golds, gold, strlen(gold))) RD_OOM(b, s, path);
        } else if (gold) rd_sample_error(b, s, path, "id %s: answer '%s' is not an option letter", s->id, gold);
        free(gold);
        cJSON_ArrayForEach(t, types)
            if (cJSON_IsNumber(ty) && cJSON_IsNumber(t) && t->valuedouble == ty->valuedouble && t->string) s->category = rd_strdup(t->string);
        rd_image_or_error(b, s, path, im->valuestring);
    }
    return LV_OK;
}

static lv_status rd_coco(lv_bench *b, const char *path, const cJSON *j)
{
    const cJSON *images = rd_get(j, "images", NULL), *anns = rd_get(j, "annotations", NULL), *e;
    int na = cJSON_GetArraySize(anns), k = 0;
    rd_ann *idx = malloc((size_t)(na ? na : 1) * sizeof *idx);
    if (!idx) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    cJSON_ArrayForEach(e, anns) {
        const cJSON *im = rd_get(e, "image_id", NULL);
        if (cJSON_IsNumber(im)) { idx[k] = (rd_ann){rd_ll(im->valuedouble), e, k}; k++; }
    }
    qsort(idx, (size_t)k, sizeof *idx, rd_ann_cmp);
    int line = 0;
    cJSON_ArrayForEach(e, images) {
        lv_sample *s = rd_new_sample(b, ++line);
        if (!s) { free(idx); return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); }
        const cJSON *id = rd_get(e, "id", NULL), *fn = rd_get(e, "file_name", NULL);
        s->type = LV_QTYPE_CAPTION;
        if (!cJSON_IsNumber(id) || !cJSON_IsString(fn)) { rd_sample_error(b, s, path, "image %d: needs id and file_name", line); continue; }
        s->id = rd_json_text(id);
        rd_image_or_error(b, s, path, fn->valuestring);
        rd_ann key = {rd_ll(id->valuedouble), NULL, 0};
        rd_ann *hit = bsearch(&key, idx, (size_t)k, sizeof *idx, rd_ann_key_cmp);
        if (!hit) continue;  /* an image without captions: batch captioning only */
        while (hit > idx && hit[-1].qid == key.qid) hit--;
        for (; hit < idx + k && hit->qid == key.qid; hit++) {  /* captions in file order */
            const cJSON *cap = rd_get(hit->ann, "caption", NULL);
            if (cJSON_IsString(cap) && !rd_push(&s->golds, &s->n_golds, cap->valuestring, strlen(cap->valuestring)))
                RD_OOM(b, s, path);
        }
    }
    free(idx);
    return LV_OK;
}

/* ScienceQA (official repo layout): problems.json {pid: {question, choices, answer (index), hint,
 * image ("image.png" | null), subject, ...}} + pid_splits.json {split: [pid...]}, images in
 * images/<split>/<pid>/image.png. The IMG subset: problems of the split that have an image.
 * Prompt as lmms-eval ScienceQA-IMG: "Context: {hint}\n" when there is a hint. */
static lv_status rd_scienceqa(lv_bench *b, const char *dir, const char *split)
{
    char *pp = lv_strfmt("%s/problems.json", dir), *sp = lv_strfmt("%s/pid_splits.json", dir);
    lv_status st = pp && sp ? LV_OK : lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir);
    cJSON *probs = st == LV_OK ? lv_json_read(pp, &st) : NULL, *splits = st == LV_OK ? lv_json_read(sp, &st) : NULL;
    const cJSON *ids = splits ? rd_get(splits, split, NULL) : NULL, *e;
    if (st == LV_OK && !cJSON_IsArray(ids)) st = lv_fail(LV_ERR_FORMAT, "%s: no split '%s'", sp, split);
    if (st == LV_OK && !b->templates[LV_QTYPE_MC])
        b->templates[LV_QTYPE_MC] = rd_strdup("{context_line}{question}\n{choices}\n"
                                              "Answer with the option's letter from the given choices directly.");
    int line = 0;
    const cJSON *list = st == LV_OK ? ids : NULL;
    cJSON_ArrayForEach(e, list) {
        line++;
        const cJSON *pr = cJSON_IsString(e) ? rd_get(probs, e->valuestring, NULL) : NULL;
        if (pr && !cJSON_IsString(rd_get(pr, "image", NULL))) continue;   /* text-only problem */
        lv_sample *s = rd_new_sample(b, line);
        if (!s) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", pp); break; }
        s->type = LV_QTYPE_MC;
        s->id = rd_json_text(e);
        const cJSON *q = pr ? rd_get(pr, "question", NULL) : NULL, *a = pr ? rd_get(pr, "answer", NULL) : NULL,
                    *h = pr ? rd_get(pr, "hint", NULL) : NULL, *sub = pr ? rd_get(pr, "subject", NULL) : NULL,
                    *im = pr ? rd_get(pr, "image", NULL) : NULL, *c;
        if (!s->id || !cJSON_IsString(q) || !cJSON_IsNumber(a)) {
            rd_sample_error(b, s, sp, "entry %d of split %s: no such problem with question and answer in problems.json", line, split);
            continue;
        }
        s->question = rd_strdup(q->valuestring);
        if (cJSON_IsString(h) && *h->valuestring) s->hint = rd_strdup(h->valuestring);
        if (cJSON_IsString(sub)) s->category = rd_strdup(sub->valuestring);
        cJSON_ArrayForEach(c, rd_get(pr, "choices", NULL)) {
            char *t = rd_json_text(c);
            if (!t || !rd_push(&s->choices, &s->n_choices, t, strlen(t))) RD_OOM(b, s, pp);
            free(t);
        }
        int ans = a->valueint;
        if (ans < 0 || ans >= s->n_choices || s->n_choices > 26) {
            rd_sample_error(b, s, pp, "problem %s: answer %d outside its %d choices", s->id, ans, s->n_choices);
            continue;
        }
        char gold[2] = {(char)('A' + ans), 0};
        if (!rd_push(&s->golds, &s->n_golds, gold, 1)) RD_OOM(b, s, pp);
        char *rel = lv_strfmt("images/%s/%s/%s", split, s->id, im->valuestring);
        if (rel) rd_image_or_error(b, s, pp, rel);
        free(rel);
    }
    cJSON_Delete(probs);
    cJSON_Delete(splits);
    free(pp);
    free(sp);
    return st;
}

static int rd_is_image_name(const char *n)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".pgm", ".tga"};
    for (size_t k = 0; k < sizeof ext / sizeof *ext; k++)
        if (rd_ends_with(n, ext[k])) return 1;
    return 0;
}

static int rd_any(const char *n) { (void)n; return 1; }

/* Every image under dir/rel (recursively, sorted), as a free-type sample with id = relative path. */
static lv_status rd_images_walk(lv_bench *b, const char *dir, const char *rel, const char *question, int depth)
{
    if (depth > 16) return LV_OK;
    char *full = rel ? lv_strfmt("%s/%s", dir, rel) : rd_strdup(dir);
    char **names = NULL;
    int n = 0;
    lv_status st = full ? rd_list_dir(full, rd_any, &names, &n) : lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir);
    for (int i = 0; st == LV_OK && i < n; i++) {
        char *r = rel ? lv_strfmt("%s/%s", rel, names[i]) : rd_strdup(names[i]);
        char *f = r ? lv_strfmt("%s/%s", dir, r) : NULL;
        if (!r || !f) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir);
        else if (rd_is_dir(f)) st = rd_images_walk(b, dir, r, question, depth + 1);
        else if (rd_is_image_name(names[i])) {
            lv_sample *s = rd_new_sample(b, 0);
            if (!s) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir);
            else {
                s->id = rd_strdup(r);
                s->question = rd_strdup(question);
                if (!s->id || !s->question || !rd_push_image(s, dir, r)) RD_OOM(b, s, dir);
            }
        }
        free(r);
        free(f);
    }
    rd_free_list(names, n);
    free(full);
    return st;
}

lv_status lv_bench_images(lv_bench **out, const char *dir, const char *question)
{
    *out = NULL;
    if (!rd_is_dir(dir)) return lv_fail(LV_ERR_IO, "%s: not a folder", dir);
    lv_bench *b = calloc(1, sizeof *b);
    if (!b) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", dir);
    for (int t = 0; t < LV_QTYPE_COUNT; t++) b->gen[t] = lv_bench_default_gen((lv_qtype)t);
    b->yn_rule = LV_YNRULE_LMMS;
    b->name = rd_strdup(rd_basename(dir));
    b->format = rd_strdup("images");
    b->path = rd_strdup(dir);
    b->root = rd_strdup(dir);
    lv_status st = rd_images_walk(b, dir, NULL, question ? question : "", 0);
    if (st == LV_OK && b->n == 0) st = lv_fail(LV_ERR_INPUT, "%s: no images (.jpg .jpeg .png .bmp .gif .webp .ppm .pgm .tga)", dir);
    if (st != LV_OK) { lv_bench_free(b); return st; }
    *out = b;
    return LV_OK;
}

static lv_status rd_karpathy(lv_bench *b, const char *path, const cJSON *j, const char *split)
{
    int line = 0;
    const cJSON *e, *sent;
    cJSON_ArrayForEach(e, rd_get(j, "images", NULL)) {
        line++;
        const cJSON *sp = rd_get(e, "split", NULL);
        if (!cJSON_IsString(sp) || strcmp(sp->valuestring, split)) continue;
        lv_sample *s = rd_new_sample(b, line);
        if (!s) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
        const cJSON *id = rd_get(e, "cocoid", "imgid"), *fp = rd_get(e, "filepath", NULL), *fn = rd_get(e, "filename", NULL);
        s->type = LV_QTYPE_CAPTION;
        s->id = id ? rd_json_text(id) : NULL;
        if (!s->id || !cJSON_IsString(fn)) { rd_sample_error(b, s, path, "image %d: needs cocoid and filename", line); continue; }
        char *rel = cJSON_IsString(fp) ? lv_strfmt("%s/%s", fp->valuestring, fn->valuestring) : rd_strdup(fn->valuestring);
        if (rel) rd_image_or_error(b, s, path, rel);
        free(rel);
        cJSON_ArrayForEach(sent, rd_get(e, "sentences", NULL)) {
            const cJSON *raw = rd_get(sent, "raw", NULL);
            if (cJSON_IsString(raw) && !rd_push(&s->golds, &s->n_golds, raw->valuestring, strlen(raw->valuestring)))
                RD_OOM(b, s, path);
        }
    }
    return LV_OK;
}

/* ---- MMBench TSV ------------------------------------------------------------------------------ */

/* One CSV-style row with tab separators: "..." quoting with "" escapes; fields may hold tabs
 * and newlines. Returns the position after the row; fields point into buf (unquoted copies). */
typedef struct {
    char **f;
    int    n, cap;
} rd_row;

static void rd_row_clear(rd_row *r)
{
    for (int i = 0; i < r->n; i++) free(r->f[i]);
    r->n = 0;
}

static size_t rd_tsv_row(const char *buf, size_t n, size_t i, rd_row *r, int *ok, int *lines)
{
    rd_row_clear(r);
    *ok = 1;
    for (;;) {
        size_t b = i;
        char *v;
        if (i < n && buf[i] == '"') {
            size_t k = i + 1, o = 0;
            v = malloc(n - i + 1);
            if (!v) { *ok = 0; return n; }
            for (; k < n; k++) {
                if (buf[k] == '"') {
                    if (k + 1 < n && buf[k + 1] == '"') { v[o++] = '"'; k++; continue; }
                    break;
                }
                if (buf[k] == '\n') (*lines)++;
                v[o++] = buf[k];
            }
            v[o] = 0;
            i = k < n ? k + 1 : n;
            while (i < n && buf[i] != '\t' && buf[i] != '\n') i++;  /* junk after a quote is dropped */
        } else {
            while (i < n && buf[i] != '\t' && buf[i] != '\n') i++;
            size_t e = i;
            if (e > b && buf[e - 1] == '\r') e--;
            v = rd_strndup(buf + b, e - b);
        }
        if (!v) { *ok = 0; return n; }
        if (r->n == r->cap) {
            int cap = r->cap ? r->cap * 2 : 16;
            char **q = realloc(r->f, (size_t)cap * sizeof *q);
            if (!q) { free(v); *ok = 0; return n; }
            r->f = q;
            r->cap = cap;
        }
        r->f[r->n++] = v;
        if (i < n && buf[i] == '\t') { i++; continue; }
        (*lines)++;
        return i < n ? i + 1 : n;
    }
}

static int rd_nan(const char *v) { return !v || !*v || !strcmp(v, "nan") || !strcmp(v, "NaN"); }

static int rd_sample_id_cmp(const void *a, const void *b, void *ctx)
{
    const lv_sample *v = ctx;
    return strcmp(v[*(const int *)a].id, v[*(const int *)b].id);
}

static lv_status rd_mmbench(lv_bench *b, const char *path, size_t max_line)
{
    char *buf;
    size_t n;
    LV_TRY(lv_file_read(path, &buf, &n));
    rd_row hdr = {0}, row = {0};
    int ok, line = 1, lines_after = 0;
    size_t i = rd_tsv_row(buf, n, rd_bom(buf, n), &hdr, &ok, &lines_after);
    line += lines_after - 1;
    lv_status st = ok ? LV_OK : lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    enum { C_INDEX, C_QUESTION, C_HINT, C_ANSWER, C_CATEGORY, C_L2, C_IMAGE, C_IMAGE_PATH, C_GINDEX, C_N };
    static const char *const names[C_N] = {"index", "question", "hint", "answer", "category", "l2-category",
                                           "image", "image_path", "g_index"};
    int col[C_N], opt[26];
    for (int k = 0; k < C_N; k++) col[k] = -1;
    for (int k = 0; k < 26; k++) opt[k] = -1;
    for (int c = 0; c < hdr.n; c++) {
        for (int k = 0; k < C_N; k++)
            if (!strcmp(hdr.f[c], names[k])) col[k] = c;
        if (strlen(hdr.f[c]) == 1 && hdr.f[c][0] >= 'A' && hdr.f[c][0] <= 'Z') opt[hdr.f[c][0] - 'A'] = c;
    }
    if (st == LV_OK && (col[C_INDEX] < 0 || col[C_QUESTION] < 0))
        st = lv_fail(LV_ERR_FORMAT, "%s: header needs 'index' and 'question' columns", path);
    /* lmms-eval mmbench doc_to_text: "{hint} {question} There are several options:\nA. ..." */
    if (st == LV_OK && !b->templates[LV_QTYPE_MC])
        b->templates[LV_QTYPE_MC] = rd_strdup("{hint_space}{question} There are several options:\n{choices}\n"
                                              "Answer with the option's letter from the given choices directly.");
    int first = b->n;
    char **refs = NULL;   /* [b->n - first] the index an image cell refers to, or NULL */
    int refs_cap = 0;
    while (st == LV_OK && i < n) {
        int row_line = line + 1;
        size_t start = i;
        lines_after = 0;
        i = rd_tsv_row(buf, n, i, &row, &ok, &lines_after);
        line += lines_after;
        if (!ok) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); break; }
        if (row.n == 1 && !row.f[0][0]) continue;  /* blank line */
        lv_sample *s = rd_new_sample(b, row_line);
        if (!s) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); break; }
        if (b->n - first > refs_cap) {
            int cap = refs_cap ? refs_cap * 2 : 256;
            char **q = realloc(refs, (size_t)cap * sizeof *q);
            if (!q) { st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path); break; }
            memset(q + refs_cap, 0, (size_t)(cap - refs_cap) * sizeof *q);
            refs = q;
            refs_cap = cap;
        }
        s->type = LV_QTYPE_MC;
        const char *idx = col[C_INDEX] < row.n ? row.f[col[C_INDEX]] : NULL;
        if (idx && *idx) s->id = rd_strdup(idx);
        if (i - start > max_line) { rd_sample_error(b, s, path, "row of %zu bytes exceeds the %zu-byte limit", i - start, max_line); continue; }
        if (row.n != hdr.n) { rd_sample_error(b, s, path, "%d fields, header has %d", row.n, hdr.n); continue; }
        if (!s->id) { rd_sample_error(b, s, path, "empty index"); continue; }
#define RD_CELL(k) (col[k] >= 0 && !rd_nan(row.f[col[k]]) ? row.f[col[k]] : NULL)
        s->question = rd_strdup(RD_CELL(C_QUESTION) ? RD_CELL(C_QUESTION) : "");
        s->hint = rd_strdup(RD_CELL(C_HINT));
        s->category = rd_strdup(RD_CELL(C_CATEGORY));
        s->subcategory = rd_strdup(RD_CELL(C_L2));
        for (int k = 0; k < 26 && opt[k] >= 0 && !rd_nan(row.f[opt[k]]); k++)
            if (!rd_push(&s->choices, &s->n_choices, row.f[opt[k]], strlen(row.f[opt[k]]))) RD_OOM(b, s, path);
        if (s->n_choices < 2) { rd_sample_error(b, s, path, "index %s: fewer than 2 options", s->id); continue; }
        const char *ans = RD_CELL(C_ANSWER);
        if (ans) {
            if (lv_mc_gold_index(ans, s->n_choices) < 0) { rd_sample_error(b, s, path, "index %s: answer '%s' is not an option letter", s->id, ans); continue; }
            if (!rd_push(&s->golds, &s->n_golds, ans, strlen(ans))) RD_OOM(b, s, path);
        }
        /* circular group: g_index, else index mod 1e6 */
        const char *g = RD_CELL(C_GINDEX);
        char *end;
        long long iv = strtoll(s->id, &end, 10);
        s->group = g ? rd_strdup(g) : (*end == 0 ? lv_strfmt("%lld", iv % 1000000) : rd_strdup(s->id));
        const char *img = RD_CELL(C_IMAGE), *ip = RD_CELL(C_IMAGE_PATH);
        if (img && strlen(img) > 64) {
            if (lv_base64_decode(img, strlen(img), &s->image_bytes, &s->n_image_bytes) != LV_OK)
                rd_sample_error(b, s, path, "index %s: image cell is not base64", s->id);
        } else if (img) {
            if (!(refs[b->n - 1 - first] = rd_strdup(img))) RD_OOM(b, s, path);   /* resolved below */
        } else if (ip) {
            rd_image_or_error(b, s, path, ip);
        }
#undef RD_CELL
    }
    /* index-reference images: a short image cell names the row whose image to reuse */
    int nrows = b->n - first, nsrc = 0;
    int *src = st == LV_OK ? malloc((size_t)(nrows ? nrows : 1) * sizeof *src) : NULL;
    if (st == LV_OK && !src) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    for (int k = first; st == LV_OK && k < b->n; k++)
        if (b->samples[k].id && b->samples[k].image_bytes) src[nsrc++] = k;
    if (st == LV_OK) qsort_r(src, (size_t)nsrc, sizeof *src, rd_sample_id_cmp, b->samples);
    for (int k = first; st == LV_OK && k < b->n; k++) {
        lv_sample *s = &b->samples[k];
        const char *ref = refs[k - first];
        if (!ref || s->error) continue;
        int lo = 0, hi = nsrc - 1, hit = -1;
        while (lo <= hi) {
            int mid = lo + (hi - lo) / 2, c = strcmp(b->samples[src[mid]].id, ref);
            if (!c) { hit = src[mid]; break; }
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        if (hit < 0) { rd_sample_error(b, s, path, "index %s: image refers to index %s, which has no image", s->id, ref); continue; }
        const lv_sample *from = &b->samples[hit];
        s->image_bytes = malloc(from->n_image_bytes);
        if (!s->image_bytes) { RD_OOM(b, s, path); continue; }
        memcpy(s->image_bytes, from->image_bytes, from->n_image_bytes);
        s->n_image_bytes = from->n_image_bytes;
    }
    for (int k = 0; k < nrows && k < refs_cap; k++) free(refs[k]);
    free(refs);
    free(src);
    rd_row_clear(&hdr);
    rd_row_clear(&row);
    free(hdr.f);
    free(row.f);
    free(buf);
    return st;
}

/* ---- detection and entry points --------------------------------------------------------------- */

/* First non-blank line of a file as JSON has "label" -> POPE (JSON lines despite .json). */
static int rd_first_line_pope(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    if (!nl) return 0;
    *nl = 0;
    cJSON *o = cJSON_Parse(buf);
    int pope = cJSON_IsObject(o) && rd_get(o, "label", NULL) && rd_get(o, "text", NULL);
    cJSON_Delete(o);
    return pope;
}

static const char *rd_detect(const char *path)
{
    if (rd_is_dir(path)) {
        char *q = lv_strfmt("%s/questions.jsonl", path);
        int native = q && rd_is_file(q);
        free(q);
        if (native) return "native";
        char *base = rd_mme_base(path, 0);
        if (base) { free(base); return "mme"; }
        if ((base = rd_mme_base(path, 1))) { free(base); return "mme_txt"; }
        char *sq = lv_strfmt("%s/pid_splits.json", path);
        int scienceqa = sq && rd_is_file(sq);
        free(sq);
        if (scienceqa) return "scienceqa";
        char **names;
        int n;
        if (rd_list_dir(path, rd_is_pope_name, &names, &n) == LV_OK) {
            rd_free_list(names, n);
            if (n) return "pope";
        }
        return NULL;
    }
    if (rd_ends_with(path, ".tsv")) return "mmbench";
    if (rd_first_line_pope(path)) return "pope";
    if (rd_ends_with(path, ".jsonl")) return "native";
    return "json";  /* decided by the top-level keys */
}

lv_status lv_bench_load(lv_bench **out, const char *path, const lv_bench_params *pp)
{
    *out = NULL;
    lv_bench_params p = pp ? *pp : lv_bench_default_params();
    size_t max_line = p.max_line ? p.max_line : LV_BENCH_MAX_LINE;
    struct stat pst;   /* a regular file, a folder, or a pipe such as /dev/stdin (`vqa --input -`) */
    if (stat(path, &pst) != 0) return lv_fail(LV_ERR_IO, "%s: no such file or folder", path);
    if (!S_ISREG(pst.st_mode) && !S_ISDIR(pst.st_mode) && !S_ISFIFO(pst.st_mode))   /* /dev/zero: endless */
        return lv_fail(LV_ERR_IO, "%s: not a regular file, folder or pipe", path);
    const char *fmt = p.format && strcmp(p.format, "auto") ? p.format : rd_detect(path);
    if (!fmt) return lv_fail(LV_ERR_FORMAT, "%s: not a benchmark folder (no questions.jsonl, MME subtasks or POPE files)", path);
    lv_bench *b = calloc(1, sizeof *b);
    if (!b) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    *out = b;
    for (int t = 0; t < LV_QTYPE_COUNT; t++) b->gen[t] = lv_bench_default_gen((lv_qtype)t);
    b->yn_rule = LV_YNRULE_LMMS;
    b->path = rd_strdup(path);
    b->root = rd_is_dir(path) ? rd_strdup(path) : rd_strndup(path, (size_t)(rd_basename(path) - path));
    if (b->root && !rd_is_dir(path) && b->root[0]) b->root[strlen(b->root) - 1] = 0;
    if (b->root && !b->root[0]) { free(b->root); b->root = rd_strdup("."); }
    if (p.image_root && strcmp(fmt, "native")) { free(b->root); b->root = rd_strdup(p.image_root); }
    char *stem = rd_strdup(rd_basename(path));
    if (stem && strchr(stem, '.')) *strrchr(stem, '.') = 0;
    b->name = stem;
    lv_status st = LV_OK;
    cJSON *j = NULL;
    static const char *const json_formats[] = {"json", "vqav2", "textvqa", "docvqa", "chartqa", "gqa", "seed", "coco", "karpathy"};
    for (size_t k = 0; k < sizeof json_formats / sizeof *json_formats && !j && st == LV_OK; k++)
        if (!strcmp(fmt, json_formats[k])) j = lv_json_read(path, &st);
    if (st == LV_OK && !strcmp(fmt, "json")) {   /* decided by the top-level keys */
        const cJSON *im = rd_get(j, "images", NULL), *qs = rd_get(j, "questions", NULL), *data = rd_get(j, "data", NULL);
        const cJSON *first = cJSON_IsArray(j) ? j->child : NULL;
        fmt = qs ? (qs->child && rd_get(qs->child, "choice_a", NULL) ? "seed" : "vqav2")
              : data ? (data->child && rd_get(data->child, "questionId", NULL) ? "docvqa" : "textvqa")
              : rd_get(j, "annotations", NULL) && im ? "coco"
              : im && cJSON_GetArraySize(im) && rd_get(im->child, "sentences", NULL) ? "karpathy"
              : first && rd_get(first, "imgname", NULL) ? "chartqa"
              : cJSON_IsObject(j) && cJSON_IsObject(j->child) && rd_get(j->child, "imageId", NULL) ? "gqa"
              : NULL;
        if (!fmt)
            st = lv_fail(LV_ERR_FORMAT, "%s: unknown JSON layout (expected VQAv2, TextVQA, DocVQA, ChartQA, GQA, SEED-Bench, "
                                        "COCO or Karpathy)", path);
    }
    if (st == LV_OK) {
        if (!strcmp(fmt, "native") || !strcmp(fmt, "llava")) st = rd_native(b, path, &p, max_line);
        else if (!strcmp(fmt, "pope")) st = rd_pope(b, path, max_line);
        else if (!strcmp(fmt, "mme")) st = rd_mme(b, path);
        else if (!strcmp(fmt, "mme_txt")) st = rd_mme_txt(b, path);
        else if (!strcmp(fmt, "mmbench")) st = rd_mmbench(b, path, max_line);
        else if (!strcmp(fmt, "vqav2")) st = rd_vqav2(b, path, j, &p);
        else if (!strcmp(fmt, "textvqa")) st = rd_records_read(b, path, j, &rd_textvqa_map);
        else if (!strcmp(fmt, "docvqa")) st = rd_records_read(b, path, j, &rd_docvqa_map);
        else if (!strcmp(fmt, "chartqa")) st = rd_records_read(b, path, j, &rd_chartqa_map);
        else if (!strcmp(fmt, "gqa")) st = rd_gqa(b, path, j);
        else if (!strcmp(fmt, "scienceqa")) st = rd_scienceqa(b, path, p.split ? p.split : "test");
        else if (!strcmp(fmt, "seed")) st = rd_seed(b, path, j);
        else if (!strcmp(fmt, "coco")) st = rd_coco(b, path, j);
        else if (!strcmp(fmt, "karpathy")) st = rd_karpathy(b, path, j, p.split ? p.split : "test");
        else st = lv_fail(LV_ERR_ARG, "unknown benchmark format '%s'", fmt);
    }
    cJSON_Delete(j);
    b->format = rd_strdup(fmt ? fmt : "?");
    if (st == LV_OK) {
        /* duplicate ids: the later sample becomes an error record */
        char **ids = malloc((size_t)(b->n ? b->n : 1) * sizeof *ids);
        if (!ids) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
        int m = 0;
        for (int i = 0; st == LV_OK && i < b->n; i++)
            if (!b->samples[i].error) ids[m++] = b->samples[i].id;
        if (st == LV_OK) qsort(ids, (size_t)m, sizeof *ids, rd_str_cmp);
        for (int i = 1; st == LV_OK && i < m; i++)
            if (!strcmp(ids[i], ids[i - 1]) && (i < 2 || strcmp(ids[i], ids[i - 2]))) {
                int first = 0;
                for (int k = 0, seen = 0; k < b->n; k++) {
                    lv_sample *s = &b->samples[k];
                    if (s->error || strcmp(s->id, ids[i])) continue;
                    if (seen++) rd_sample_error(b, s, b->source ? b->source : path, "duplicate id %s (first at line %d)", s->id, first);
                    else first = s->line;
                }
            }
        free(ids);
    }
    if (st != LV_OK) {
        lv_bench_free(b);
        *out = NULL;
    }
    return st;
}

static void rd_free_strs(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void lv_bench_free(lv_bench *b)
{
    if (!b) return;
    for (int i = 0; i < b->n; i++) {
        lv_sample *s = &b->samples[i];
        free(s->id);
        free(s->error);
        rd_free_strs(s->images, s->n_images);
        free(s->image_bytes);
        free(s->question);
        free(s->hint);
        free(s->prompt);
        free(s->category);
        free(s->subcategory);
        free(s->group);
        rd_free_strs(s->golds, s->n_golds);
        rd_free_strs(s->choices, s->n_choices);
        free(s->meta);
        free(s->sampler);
        free(s->output);
    }
    free(b->samples);
    for (int t = 0; t < LV_QTYPE_COUNT; t++) free(b->templates[t]);
    rd_free_strs(b->category_order, b->n_category_order);
    free(b->name);
    free(b->format);
    free(b->path);
    free(b->source);
    free(b->root);
    free(b);
}

/* ---- prompts ------------------------------------------------------------------------------- */

char *lv_bench_prompt(const lv_bench *b, const lv_sample *s)
{
    if (s->prompt) return rd_strdup(s->prompt);
    const char *t = b->templates[s->type] ? b->templates[s->type] : lv_bench_default_template(s->type);
    const char *q = s->question ? s->question : "", *h = s->hint ? s->hint : "";
    lv_text o = {0};
    for (const char *p = t; *p;) {
        if (!strncmp(p, "{question}", 10)) { lv_text_puts(&o, q); p += 10; }
        else if (!strncmp(p, "{hint}", 6)) { lv_text_puts(&o, h); p += 6; }
        else if (!strncmp(p, "{hint_line}", 11)) {
            if (*h) lv_text_printf(&o, "%s\n", h);
            p += 11;
        } else if (!strncmp(p, "{hint_space}", 12)) {
            if (*h) lv_text_printf(&o, "%s ", h);
            p += 12;
        } else if (!strncmp(p, "{context_line}", 14)) {
            if (*h) lv_text_printf(&o, "Context: %s\n", h);
            p += 14;
        } else if (!strncmp(p, "{choices}", 9)) {
            for (int i = 0; i < s->n_choices; i++) lv_text_printf(&o, "%s%c. %s", i ? "\n" : "", 'A' + i, s->choices[i]);
            p += 9;
        } else lv_text_putc(&o, *p++);
    }
    return lv_text_take(&o);
}
