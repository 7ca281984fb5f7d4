/* metrics.c - benchmark scoring rules, see metrics.h. Each rule names the reference script it
 * mirrors; where that script's behaviour is surprising the quirk is kept and commented, because
 * the point of these functions is to reproduce published numbers. */
#include "metrics.h"

#include "eval_text.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small string helpers ---------------------------------------------------------------- */

static char *mt_strdup(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

/* Python str.lower() restricted to ASCII (non-ASCII bytes pass through). */
static char *mt_lower(const char *s)
{
    char *p = mt_strdup(s);
    if (p)
        for (char *q = p; *q; q++) *q = (char)tolower((unsigned char)*q);
    return p;
}

static int mt_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* [b, e) of s with Python-style whitespace stripped. */
static void mt_trim(const char *s, size_t n, size_t *b, size_t *e)
{
    size_t i = 0, j = n;
    while (i < j && mt_space(s[i])) i++;
    while (j > i && mt_space(s[j - 1])) j--;
    *b = i;
    *e = j;
}

/* Number of UTF-8 code points in s[0..n) (continuation bytes are not counted). */
static size_t mt_u8len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Byte length of the first k code points of s. */
static size_t mt_u8prefix(const char *s, size_t k)
{
    size_t i = 0, c = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == k) break;
            c++;
        }
        i++;
    }
    return i;
}

static int mt_contains_n(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(s + i, needle, m)) return 1;
    return 0;
}

/* ---- yes / no ---------------------------------------------------------------------------- */

const char *lv_yn_str(lv_yn v) { return v == LV_YN_YES ? "yes" : v == LV_YN_NO ? "no" : "other"; }

/* calculation.py parse_pred_ans on an already lowercased answer. */
static lv_yn mt_yn_first4(const char *s)
{
    if (!strcmp(s, "yes")) return LV_YN_YES;
    if (!strcmp(s, "no")) return LV_YN_NO;
    size_t k = mt_u8prefix(s, 4);
    if (mt_contains_n(s, k, "yes")) return LV_YN_YES;
    if (mt_contains_n(s, k, "no")) return LV_YN_NO;
    return LV_YN_OTHER;
}

static lv_yn mt_yn_pope(const char *r)
{
    const char *dot = strchr(r, '.');
    size_t n = dot ? (size_t)(dot - r) : strlen(r);
    /* words = text.replace(',', '').split(' '): split on single spaces, commas deleted */
    size_t i = 0;
    while (i <= n) {
        char w[8];
        size_t wl = 0, j = i;
        int too_long = 0;
        for (; j < n && r[j] != ' '; j++) {
            if (r[j] == ',') continue;
            if (wl < 4) w[wl++] = r[j]; else too_long = 1;
        }
        w[wl] = 0;
        if (!too_long && (!strcmp(w, "No") || !strcmp(w, "no") || !strcmp(w, "not"))) return LV_YN_NO;
        i = j + 1;
    }
    return LV_YN_YES;
}

static lv_yn mt_yn_vlmeval(const char *r);   /* with the VQA punctuation rules below */

lv_yn lv_yesno_parse(const char *response, lv_yn_rule rule)
{
    if (!response) return rule == LV_YNRULE_POPE ? LV_YN_YES : LV_YN_OTHER;
    if (rule == LV_YNRULE_POPE) return mt_yn_pope(response);
    if (rule == LV_YNRULE_VLMEVAL) return mt_yn_vlmeval(response);
    char *s = mt_lower(response);
    if (!s) return LV_YN_OTHER;
    if (rule == LV_YNRULE_LMMS) {
        /* pred.lower().strip().replace(".", "") */
        size_t b, e, o = 0;
        mt_trim(s, strlen(s), &b, &e);
        for (size_t i = b; i < e; i++)
            if (s[i] != '.') s[o++] = s[i];
        s[o] = 0;
        if (mt_u8len(s, o) == 1 && strcmp(s, "yes") && strcmp(s, "no")) {
            lv_yn v = !strcmp(s, "y") ? LV_YN_YES : !strcmp(s, "n") ? LV_YN_NO : LV_YN_OTHER;
            free(s);
            return v;
        }
    }
    lv_yn v = mt_yn_first4(s);
    free(s);
    return v;
}

lv_yn lv_yesno_gold(const char *gold)
{
    if (!gold) return LV_YN_OTHER;
    size_t b, e;
    mt_trim(gold, strlen(gold), &b, &e);
    if (e - b == 3 && !strncasecmp(gold + b, "yes", 3)) return LV_YN_YES;
    if (e - b == 2 && !strncasecmp(gold + b, "no", 2)) return LV_YN_NO;
    return LV_YN_OTHER;
}

void lv_yn_counts_add(lv_yn_counts *c, lv_yn gold, lv_yn pred)
{
    if (pred == LV_YN_OTHER) c->other++;
    int py = pred == LV_YN_YES, gy = gold == LV_YN_YES;
    if (py && gy) c->tp++;
    else if (py) c->fp++;
    else if (gy) c->fn++;
    else c->tn++;
}

lv_pope_scores lv_pope_scores_of(const lv_yn_counts *c)
{
    lv_pope_scores s;
    long n = c->tp + c->fp + c->tn + c->fn;
    s.n = n;
    s.accuracy = n ? (double)(c->tp + c->tn) / (double)n : 0.0;
    s.precision = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0.0;
    s.recall = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2.0 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    s.yes_ratio = n ? (double)(c->tp + c->fp) / (double)n : 0.0;
    return s;
}

/* ---- grouped accuracy ---------------------------------------------------------------------- */

typedef struct {
    const char *key;
    long        idx;
} mt_keyed;

static int mt_keyed_cmp(const void *a, const void *b)
{
    const mt_keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

lv_status lv_group_accuracy(const char *const *group, const int *correct, long n, lv_group_scores *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    mt_keyed *k = malloc((size_t)(n ? n : 1) * sizeof *k);
    if (!k) return lv_fail(LV_ERR_NOMEM, "group accuracy: out of memory for %ld questions", n);
    long m = 0;
    for (long i = 0; i < n; i++) {
        out->n_correct += correct[i] != 0;
        if (group && group[i]) {
            k[m].key = group[i];
            k[m++].idx = i;
        } else {
            out->n_groups++;
            out->n_groups_correct += correct[i] != 0;
        }
    }
    qsort(k, (size_t)m, sizeof *k, mt_keyed_cmp);
    for (long i = 0; i < m;) {
        long j = i;
        int all = 1;
        for (; j < m && !strcmp(k[j].key, k[i].key); j++) all &= correct[k[j].idx] != 0;
        out->n_groups++;
        out->n_groups_correct += all;
        i = j;
    }
    free(k);
    out->acc = n ? 100.0 * (double)out->n_correct / (double)n : 0.0;
    out->acc_plus = out->n_groups ? 100.0 * (double)out->n_groups_correct / (double)out->n_groups : 0.0;
    return LV_OK;
}

const char *const lv_mme_subtasks[14] = {
    "existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark",
    "artwork", "OCR", "commonsense_reasoning", "numerical_calculation", "text_translation",
    "code_reasoning",
};

int lv_mme_is_cognition(const char *subtask)
{
    for (int i = 0; i < 14; i++)
        if (subtask && !strcasecmp(subtask, lv_mme_subtasks[i])) return i >= 10;
    return -1;
}

/* ---- multiple choice ----------------------------------------------------------------------- */

int lv_mc_gold_index(const char *gold, int n)
{
    if (!gold) return -1;
    int idx = -1;
    for (const char *p = gold; *p; p++) {
        if (mt_space(*p) || *p == '(' || *p == ')' || *p == '.') continue;
        if (idx >= 0) return -1;
        int c = toupper((unsigned char)*p) - 'A';
        if (c < 0 || c >= n) return -1;
        idx = c;
    }
    return idx;
}

int lv_mc_can_infer(const char *answer, const char *const *choices, int n)
{
    if (!answer || n <= 0 || n > 26) return -1;
    /* can_infer_option: exactly one option letter among the tokens */
    char *mod = mt_strdup(answer);
    if (!mod) return -1;
    for (char *p = mod; *p; p++)
        if (strchr(".()[],:;!*#{}", *p)) *p = ' ';
    int found = -1, count = 0;
    for (int c = 0; c < n; c++) {
        for (char *p = mod; *p;) {
            while (*p && mt_space(*p)) p++;
            char *w = p;
            while (*p && !mt_space(*p)) p++;
            if (p - w == 1 && *w == 'A' + c) { count++; found = c; break; }
        }
    }
    free(mod);
    if (count == 1) return found;
    /* can_infer_text: exactly one option text inside the lowercased answer */
    char *low = mt_lower(answer);
    if (!low) return -1;
    found = -1;
    count = 0;
    for (int c = 0; c < n; c++) {
        char *opt = mt_lower(choices[c] ? choices[c] : "");
        if (opt && strstr(low, opt)) { count++; found = c; }
        free(opt);
    }
    free(low);
    return count == 1 ? found : -1;
}

/* Last occurrence of needle in s (byte offset), -1 if absent; case-folded when fold. */
static long mt_rfind(const char *s, const char *needle, int fold)
{
    size_t n = strlen(s), m = strlen(needle);
    for (size_t i = n + 1; i-- > 0;)
        if (i + m <= n && !(fold ? strncasecmp(s + i, needle, m) : strncmp(s + i, needle, m)))
            return (long)i;
    return -1;
}

int lv_mc_mmmu(const char *response, const char *const *choices, int n)
{
    if (!response || n <= 0 || n > 26) return -1;
    /* for char in [',', '.', '!', '?', ';', ':', "'"]: response = response.strip(char) */
    size_t b = 0, e = strlen(response);
    for (const char *c = ",.!?;:'"; *c; c++) {
        while (b < e && response[b] == *c) b++;
        while (e > b && response[e - 1] == *c) e--;
    }
    lv_text rb = {0};
    lv_text_putc(&rb, ' ');
    lv_text_put(&rb, response + b, e - b);
    lv_text_putc(&rb, ' ');
    char *r = lv_text_take(&rb);
    if (!r) return -1;
    int cand[26], nc = 0, brack = 0, index_ans = 1;
    char pat[8];
    for (int c = 0; c < n; c++) {
        snprintf(pat, sizeof pat, "(%c)", 'A' + c);
        if (strstr(r, pat)) { cand[nc++] = c; brack = 1; }
    }
    if (!nc)
        for (int c = 0; c < n; c++) {
            snprintf(pat, sizeof pat, "%c ", 'A' + c);
            if (strstr(r, pat)) cand[nc++] = c;
        }
    if (!nc)
        for (int c = 0; c < n; c++) {
            snprintf(pat, sizeof pat, "%c.", 'A' + c);
            if (strstr(r, pat)) cand[nc++] = c;
        }
    if (!nc) {
        int words = 0;
        for (const char *p = r; *p;) {
            while (*p && mt_space(*p)) p++;
            if (*p) words++;
            while (*p && !mt_space(*p)) p++;
        }
        if (words > 5)
            for (int c = 0; c < n; c++)
                if (choices[c] && mt_rfind(r, choices[c], 1) >= 0) { cand[nc++] = c; index_ans = 0; }
    }
    int pick = -1;
    if (nc == 1) pick = cand[0];
    else if (nc > 1) {
        long best = -2;
        for (int i = 0; i < nc; i++) {
            long at;
            if (!index_ans) at = mt_rfind(r, choices[cand[i]], 1);
            else {
                snprintf(pat, sizeof pat, brack ? "(%c)" : " %c ", 'A' + cand[i]);
                at = mt_rfind(r, pat, 0);
            }
            if (at > best) { best = at; pick = cand[i]; }  /* np.argmax: first maximum */
        }
    }
    free(r);
    return pick;
}

/* ---- Python float() ------------------------------------------------------------------------ */

int lv_py_float(const char *s, size_t len, double *out)
{
    size_t b, e;
    mt_trim(s, len, &b, &e);
    if (b == e || e - b > 400) return 0;
    char buf[512];
    size_t o = 0, i = b;
    if (s[i] == '+' || s[i] == '-') buf[o++] = s[i++];
    size_t rest = e - i;
    const char *words[] = {"inf", "infinity", "nan"};
    for (int w = 0; w < 3; w++)
        if (rest == strlen(words[w]) && !strncasecmp(s + i, words[w], rest)) {
            *out = w == 2 ? NAN : (buf[0] == '-' ? -INFINITY : INFINITY);
            return 1;
        }
    int digits = 0, dot = 0, exp = 0;
    for (; i < e; i++) {
        char c = s[i];
        if (isdigit((unsigned char)c)) { digits++; buf[o++] = c; }
        else if (c == '_') {  /* only between two digits */
            if (i == b || i + 1 >= e || !isdigit((unsigned char)s[i - 1]) || !isdigit((unsigned char)s[i + 1])) return 0;
        } else if (c == '.' && !dot && !exp) { dot = 1; buf[o++] = c; }
        else if ((c == 'e' || c == 'E') && digits && !exp) {
            exp = 1;
            buf[o++] = c;
            if (i + 1 < e && (s[i + 1] == '+' || s[i + 1] == '-')) buf[o++] = s[++i];
            if (i + 1 >= e || !isdigit((unsigned char)s[i + 1])) return 0;
        } else return 0;
    }
    if (!digits) return 0;
    buf[o] = 0;
    char *end;
    *out = strtod(buf, &end);
    return *end == 0;
}

int lv_relaxed_correct(const char *pred, const char *target)
{
    if (!pred || !target) return 0;
    double p, t;
    size_t lp = strlen(pred), lt = strlen(target);
    /* _to_float: text.endswith('%') -> float(text.rstrip('%')) / 100 */
    int pct_p = lp && pred[lp - 1] == '%', pct_t = lt && target[lt - 1] == '%';
    while (lp && pred[lp - 1] == '%' && pct_p) lp--;
    while (lt && target[lt - 1] == '%' && pct_t) lt--;
    int okp = lv_py_float(pred, lp, &p), okt = lv_py_float(target, lt, &t);
    if (okp && pct_p) p /= 100.0;
    if (okt && pct_t) t /= 100.0;
    if (okp && okt && t != 0.0) return fabs(p - t) / fabs(t) <= 0.05;
    return !strcasecmp(pred, target);
}

/* ---- VQA normalization ----------------------------------------------------------------------- */

static const char *const mt_contractions[][2] = {
    {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"},
    {"couldnt", "couldn't"}, {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"},
    {"didnt", "didn't"}, {"doesnt", "doesn't"}, {"dont", "don't"}, {"hadnt", "hadn't"},
    {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"}, {"havent", "haven't"},
    {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"}, {"hes", "he's"}, {"howd", "how'd"},
    {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"}, {"I'dve", "I'd've"}, {"Im", "I'm"},
    {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"},
    {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"},
    {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"}, {"mightve", "might've"},
    {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"},
    {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"},
    {"'ow'sat", "'ow's'at"}, {"shant", "shan't"}, {"shed've", "she'd've"}, {"she'dve", "she'd've"},
    {"she's", "she's"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"},
    {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
    {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
    {"somebodys", "somebody's"}, {"someoned", "someone'd"}, {"someoned've", "someone'd've"},
    {"someone'dve", "someone'd've"}, {"someonell", "someone'll"}, {"someones", "someone's"},
    {"somethingd", "something'd"}, {"somethingd've", "something'd've"},
    {"something'dve", "something'd've"}, {"somethingll", "something'll"}, {"thats", "that's"},
    {"thered", "there'd"}, {"thered've", "there'd've"}, {"there'dve", "there'd've"},
    {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"},
    {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"}, {"theyve", "they've"},
    {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"}, {"we'dve", "we'd've"},
    {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"}, {"whatre", "what're"},
    {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"},
    {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"}, {"whod've", "who'd've"},
    {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"}, {"whove", "who've"},
    {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"},
    {"wouldve", "would've"}, {"wouldnt", "wouldn't"}, {"wouldnt've", "wouldn't've"},
    {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"},
    {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"},
    {"youd", "you'd"}, {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"},
    {"youre", "you're"}, {"youve", "you've"},
};

static const char *const mt_numbers[] = {"none", "zero", "one", "two",   "three", "four",
                                         "five", "six",  "seven", "eight", "nine", "ten"};
static const char *const mt_number_vals[] = {"0", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};

/* vqaEval processPunctuation (= EvalAI process_punctuation) on t, which it frees: each mark of
 * the list is deleted when the text has it next to a space or holds a digit-comma-digit, else
 * replaced by a space; then PERIOD_STRIP.sub("", text, re.UNICODE) on the result, where
 * re.UNICODE lands in the count slot, so at most 32 periods not followed by a digit go. */
static char *mt_punctuation(char *t)
{
    static const char punct[] = ";/[]\"{}()=+\\_-><@`,?!";
    int comma_digit = 0;
    for (size_t i = 0; t[i] && t[i + 1]; i++)
        comma_digit |= isdigit((unsigned char)t[i]) && t[i + 1] == ',' && isdigit((unsigned char)t[i + 2]);
    char keep_or_del[256] = {0};
    for (const char *q = punct; *q; q++) {
        char sp1[3] = {*q, ' ', 0}, sp2[3] = {' ', *q, 0};
        keep_or_del[(unsigned char)*q] = (comma_digit || strstr(t, sp1) || strstr(t, sp2)) ? 'd' : 's';
    }
    lv_text o = {0};
    for (char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (keep_or_del[c] != 'd') lv_text_putc(&o, keep_or_del[c] == 's' ? ' ' : (char)c);
    }
    free(t);
    t = lv_text_take(&o);
    if (!t) return NULL;
    int periods = 0;
    size_t k = 0;
    for (size_t i = 0; t[i]; i++) {
        if (t[i] == '.' && !isdigit((unsigned char)t[i + 1]) && periods < 32) { periods++; continue; }
        t[k++] = t[i];
    }
    t[k] = 0;
    return t;
}

/* VLMEvalKit YOrN_Extraction: lowercase, processPunctuation, split; "yes" among the words and
 * "no" not -> yes, the reverse -> no, else Unknown (other). */
static lv_yn mt_yn_vlmeval(const char *r)
{
    char *t = mt_lower(r);
    t = t ? mt_punctuation(t) : NULL;
    if (!t) return LV_YN_OTHER;
    int yes = 0, no = 0;
    for (char *p = t; *p;) {
        while (*p && mt_space(*p)) p++;
        char *w = p;
        while (*p && !mt_space(*p)) p++;
        yes |= p - w == 3 && !strncmp(w, "yes", 3);
        no |= p - w == 2 && !strncmp(w, "no", 2);
    }
    free(t);
    return yes && !no ? LV_YN_YES : no && !yes ? LV_YN_NO : LV_YN_OTHER;
}

char *lv_vqa_normalize(const char *answer)
{
    if (!answer) answer = "";
    /* EvalAIAnswerProcessor.word_tokenize: lower, drop ',' then '?', then "'s" -> " 's" (each a
     * whole-string replace, in that order), strip; then newlines and tabs become spaces and the
     * text is stripped again */
    lv_text a = {0};
    for (const char *p = answer; *p; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (c != ',' && c != '?') lv_text_putc(&a, c);
    }
    char *low = lv_text_take(&a);
    if (!low) return NULL;
    lv_text w1 = {0};
    for (const char *p = low; *p; p++) {
        if (p[0] == '\'' && p[1] == 's') { lv_text_put(&w1, " 's", 3); p++; continue; }
        lv_text_putc(&w1, *p == '\n' || *p == '\t' ? ' ' : *p);
    }
    free(low);
    char *t = lv_text_take(&w1);
    if (!t) return NULL;
    size_t b, e;
    mt_trim(t, strlen(t), &b, &e);
    memmove(t, t + b, e - b);
    t[e - b] = 0;
    t = mt_punctuation(t);
    if (!t) return NULL;
    /* process_digit_article: number words, articles, contractions; words joined by a space */
    lv_text w = {0};
    for (char *p = t; *p;) {
        while (*p && mt_space(*p)) p++;
        if (!*p) break;
        char *s = p;
        while (*p && !mt_space(*p)) p++;
        char save = *p;
        *p = 0;
        for (char *q = s; *q; q++) *q = (char)tolower((unsigned char)*q);
        const char *word = s;
        for (size_t k = 0; k < sizeof mt_numbers / sizeof *mt_numbers; k++)
            if (!strcmp(word, mt_numbers[k])) word = mt_number_vals[k];
        if (strcmp(word, "a") && strcmp(word, "an") && strcmp(word, "the")) {
            for (size_t k = 0; k < sizeof mt_contractions / sizeof *mt_contractions; k++)
                if (!strcmp(word, mt_contractions[k][0])) { word = mt_contractions[k][1]; break; }
            if (w.n) lv_text_putc(&w, ' ');
            lv_text_put(&w, word, strlen(word));
        }
        *p = save;
    }
    free(t);
    return lv_text_take(&w);
}

double lv_vqa_accuracy(const char *pred, const char *const *golds, int n)
{
    if (n <= 0) return 0.0;
    char *p = lv_vqa_normalize(pred);
    char **g = calloc((size_t)n, sizeof *g);
    double acc = 0.0;
    if (p && g) {
        for (int i = 0; i < n; i++) g[i] = lv_vqa_normalize(golds[i]);
        /* vqaEval.py: for each gt, the other gts that equal the answer, min(1, k/3) */
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            int k = 0;
            for (int j = 0; j < n; j++)
                if (j != i && g[j] && !strcmp(g[j], p)) k++;
            sum += fmin(1.0, (double)k / 3.0);
        }
        acc = sum / (double)n;
    }
    if (g)
        for (int i = 0; i < n; i++) free(g[i]);
    free(g);
    free(p);
    return acc;
}

int lv_exact_match(const char *pred, const char *const *golds, int n, int normalize)
{
    if (!pred) return 0;
    char *p = normalize ? lv_vqa_normalize(pred) : NULL;
    size_t pb, pe;
    mt_trim(pred, strlen(pred), &pb, &pe);
    int hit = 0;
    for (int i = 0; i < n && !hit; i++) {
        if (!golds[i]) continue;
        if (normalize) {
            char *g = lv_vqa_normalize(golds[i]);
            hit = p && g && !strcmp(p, g);
            free(g);
        } else {
            size_t gb, ge;
            mt_trim(golds[i], strlen(golds[i]), &gb, &ge);
            hit = ge - gb == pe - pb && !memcmp(golds[i] + gb, pred + pb, pe - pb);
        }
    }
    free(p);
    return hit;
}

/* ---- ANLS ----------------------------------------------------------------------------------- */

/* Code points of s (malloc'd), lowercased (ASCII) and with whitespace runs collapsed. */
static uint32_t *mt_u32_collapse(const char *s, size_t *len)
{
    size_t n = strlen(s), o = 0;
    uint32_t *cp = malloc((n + 1) * sizeof *cp);
    if (!cp) return NULL;
    int pending_space = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (mt_space((char)c)) { pending_space = o > 0; i++; continue; }
        if (pending_space) { cp[o++] = ' '; pending_space = 0; }
        uint32_t v;
        int k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        v = k == 1 ? (uint32_t)tolower(c) : (uint32_t)(c & (0x7F >> k));
        for (int j = 1; j < k && i + (size_t)j < n; j++) v = (v << 6) | ((unsigned char)s[i + j] & 0x3F);
        cp[o++] = v;
        i += (size_t)k;
    }
    *len = o;
    return cp;
}

static size_t mt_levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t *row = malloc((nb + 1) * sizeof *row);
    if (!row) return na > nb ? na : nb;
    for (size_t j = 0; j <= nb; j++) row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[nb];
    free(row);
    return d;
}

double lv_anls(const char *pred, const char *const *golds, int n, lv_anls_variant v)
{
    if (!pred) pred = "";
    size_t np;
    uint32_t *p = mt_u32_collapse(pred, &np);
    if (!p) return 0.0;
    double best = 0.0, min_nl = 1.0;
    for (int i = 0; i < n; i++) {
        if (!golds[i]) continue;
        size_t ng;
        uint32_t *g = mt_u32_collapse(golds[i], &ng);
        if (!g) continue;
        double dist = (double)mt_levenshtein(g, ng, p, np), nl;
        if (v == LV_ANLS_LMMS) {
            size_t len = mt_u8len(golds[i], strlen(golds[i])), lp = mt_u8len(pred, strlen(pred));
            if (lp > len) len = lp;
            nl = len ? dist / (double)len : 0.0;
            if (nl < min_nl) min_nl = nl;
        } else {
            size_t len = ng > np ? ng : np;
            nl = len ? dist / (double)len : 0.0;
            double s = nl < 0.5 ? 1.0 - nl : 0.0;
            if (s > best) best = s;
        }
        free(g);
    }
    free(p);
    if (v == LV_ANLS_LMMS) {
        double q = n > 0 ? 1.0 - min_nl : 0.0;
        return q < 0.5 ? 0.0 : q;
    }
    return best;
}

/* ---- MMMU open answers ---------------------------------------------------------------------- */

static int mt_pred_add_str(lv_mmmu_pred *p, const char *s, size_t n)
{
    for (int i = 0; i < p->n_strs; i++)
        if (strlen(p->strs[i]) == n && !memcmp(p->strs[i], s, n)) return 1;
    char **q = realloc(p->strs, (size_t)(p->n_strs + 1) * sizeof *q);
    if (!q) return 0;
    p->strs = q;
    if (!(q[p->n_strs] = malloc(n + 1))) return 0;
    memcpy(q[p->n_strs], s, n);
    q[p->n_strs++][n] = 0;
    return 1;
}

static int mt_pred_add_num(lv_mmmu_pred *p, double v)
{
    for (int i = 0; i < p->n_nums; i++)
        if (p->nums[i] == v) return 1;
    double *q = realloc(p->nums, (size_t)(p->n_nums + 1) * sizeof *q);
    if (!q) return 0;
    p->nums = q;
    q[p->n_nums++] = v;
    return 1;
}

/* normalize_str: a number (commas removed) -> round(x, 2); else lowercase, and a single
 * character c becomes both " c" and "c ". */
static int mt_pred_add_norm(lv_mmmu_pred *p, const char *s, size_t n)
{
    size_t b, e;
    mt_trim(s, n, &b, &e);
    char *t = malloc(e - b + 1);
    if (!t) return 0;
    size_t o = 0;
    for (size_t i = b; i < e; i++)
        if (s[i] != ',') t[o++] = s[i];
    t[o] = 0;
    double v;
    int ok;
    if (lv_py_float(t, o, &v)) {
        char r[64];
        snprintf(r, sizeof r, "%.2f", v);  /* correctly rounded, like Python round(x, 2) */
        ok = mt_pred_add_num(p, isfinite(v) ? strtod(r, NULL) : v);
    } else {
        for (size_t i = b; i < e; i++) t[i - b] = (char)tolower((unsigned char)s[i]);
        t[e - b] = 0;
        if (mt_u8len(t, e - b) == 1) {
            char two[8];
            snprintf(two, sizeof two, " %s", t);
            ok = mt_pred_add_str(p, two, strlen(two));
            snprintf(two, sizeof two, "%s ", t);
            ok = ok && mt_pred_add_str(p, two, strlen(two));
        } else ok = mt_pred_add_str(p, t, e - b);
    }
    free(t);
    return ok;
}

/* extract_numbers: the three regex lists of the reference, concatenated in its order:
 * comma-grouped -?\b\d{1,3}(?:,\d{3})+\b, scientific -?\d+(?:\.\d+)?[eE][+-]?\d+, simple
 * -?(?:\d+\.\d+|\.\d+|\d+\b) not followed by an exponent, a comma or a digit. Each scan moves
 * one character on after a failed start, as re.findall does. */
static int mt_is_d(const char *s, size_t i, size_t n) { return i < n && isdigit((unsigned char)s[i]); }
static int mt_is_w(const char *s, size_t i, size_t n)
{
    return i < n && (isalnum((unsigned char)s[i]) || s[i] == '_');
}

/* [eE][+-]?\d at i */
static int mt_exp_at(const char *s, size_t i, size_t n)
{
    if (i >= n || (s[i] != 'e' && s[i] != 'E')) return 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    return mt_is_d(s, i, n);
}

/* End of the match starting at j (after an optional '-'), 0 if none. */
static size_t mt_num_match(const char *s, size_t j, size_t n, int kind)
{
    size_t a = j;
    while (mt_is_d(s, a, n)) a++;
    if (kind == 0) {
        if (a == j || (j > 0 && mt_is_w(s, j - 1, n))) return 0;
        for (size_t l1 = 3; l1 >= 1; l1--) {
            if (j + l1 > a) continue;
            size_t k = j + l1, end = 0;
            while (k < n && s[k] == ',' && mt_is_d(s, k + 1, n) && mt_is_d(s, k + 2, n) && mt_is_d(s, k + 3, n)) {
                k += 4;
                if (!mt_is_w(s, k, n)) end = k;
            }
            if (end) return end;
        }
        return 0;
    }
    if (kind == 1) {
        if (a == j) return 0;
        size_t k = a;
        if (k < n && s[k] == '.' && mt_is_d(s, k + 1, n)) {
            size_t f = k + 1;
            while (mt_is_d(s, f, n)) f++;
            if (mt_exp_at(s, f, n)) k = f;
        }
        if (!mt_exp_at(s, k, n)) return 0;
        k += (s[k + 1] == '+' || s[k + 1] == '-') ? 2 : 1;
        while (mt_is_d(s, k, n)) k++;
        return k;
    }
    size_t f = 0;
    if (a < n && s[a] == '.' && mt_is_d(s, a + 1, n)) {   /* \d+\.\d+ or \.\d+ */
        f = a + 1;
        while (mt_is_d(s, f, n)) f++;
        if (mt_exp_at(s, f, n) || mt_is_d(s, f, n) || (f < n && s[f] == ',')) f = 0;
    }
    /* \d+\b: a digit run ending at a word boundary (backtracking cannot make one inside it) */
    if (!f && a > j && !mt_is_w(s, a, n) && !mt_exp_at(s, a, n) && !(a < n && s[a] == ',')) f = a;
    return f;
}

static int mt_extract_numbers(lv_mmmu_pred *p, const char *s, size_t n)
{
    for (int kind = 0; kind < 3; kind++)
        for (size_t i = 0; i < n;) {
            size_t end = s[i] == '-' ? mt_num_match(s, i + 1, n, kind) : 0;
            if (!end) end = mt_num_match(s, i, n, kind);
            if (!end) { i++; continue; }
            if (!mt_pred_add_norm(p, s + i, end - i)) return 0;
            i = end;
        }
    return 1;
}

void lv_mmmu_pred_free(lv_mmmu_pred *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_strs; i++) free(p->strs[i]);
    free(p->strs);
    free(p->nums);
    memset(p, 0, sizeof *p);
}

lv_status lv_mmmu_open_parse(const char *response, lv_mmmu_pred *out)
{
    memset(out, 0, sizeof *out);
    if (!response) response = "";
    /* response.strip().strip(".").lower(); the sentence split regex '\.\s(?=[A-Z])|\n' runs on
     * lowercased text, so only newlines split */
    size_t b, e;
    mt_trim(response, strlen(response), &b, &e);
    while (b < e && response[b] == '.') b++;
    while (e > b && response[e - 1] == '.') e--;
    char *r = malloc(e - b + 1);
    if (!r) return lv_fail(LV_ERR_NOMEM, "mmmu open parse: out of memory");
    for (size_t i = b; i < e; i++) r[i - b] = (char)tolower((unsigned char)response[i]);
    r[e - b] = 0;
    static const char *const keys[] = {"could be ", "so ", "is ", "thus ", "therefore ", "final ",
                                       "answer ", "result ", "="};
    /* key responses: per sentence, the shortest tail after the last occurrence of any key */
    char **kr = NULL;
    size_t *kl = NULL;
    int nk = 0, nsent = 1, ok = 1;
    for (char *c = r; *c; c++) nsent += *c == '\n';
    char *sent = r;
    for (int si = 0; si < nsent && ok; si++) {
        char *nl = strchr(sent, '\n');
        size_t sl = nl ? (size_t)(nl - sent) : strlen(sent);
        int nkeys = si == nsent - 1 ? 9 : 8;
        const char *best = NULL;
        size_t best_len = 0;
        for (int k = 0; k < nkeys; k++) {
            size_t m = strlen(keys[k]);
            const char *last = NULL;
            for (size_t i = 0; i + m <= sl; i++)
                if (!memcmp(sent + i, keys[k], m)) last = sent + i + m;
            if (!last) continue;
            size_t tb, te;
            mt_trim(last, sl - (size_t)(last - sent), &tb, &te);
            /* `if not shortest`: an empty tail found first is replaced by any later one */
            if (!best || !best_len || te - tb < best_len) { best = last + tb; best_len = te - tb; }
        }
        if (best && best_len) {
            int punct = best_len == 1 && strchr(":,.!?;'", best[0]);
            if (!punct) {
                char **q = realloc(kr, (size_t)(nk + 1) * sizeof *q);
                size_t *ql = realloc(kl, (size_t)(nk + 1) * sizeof *ql);
                if (q) kr = q;
                if (ql) kl = ql;
                if (!q || !ql) ok = 0;
                else { kr[nk] = (char *)best; kl[nk++] = best_len; }
            }
        }
        sent = nl ? nl + 1 : sent + sl;
    }
    if (ok && nk == 0) {
        char **q = malloc(sizeof *q);
        size_t *ql = malloc(sizeof *ql);
        free(kr);
        free(kl);
        kr = q;
        kl = ql;
        if (!q || !ql) ok = 0;
        else { kr[0] = r; kl[0] = strlen(r); nk = 1; }
    }
    for (int i = 0; i < nk && ok; i++) ok = mt_pred_add_norm(out, kr[i], kl[i]);
    for (int i = 0; i < nk && ok; i++) ok = mt_extract_numbers(out, kr[i], kl[i]);
    free(kr);
    free(kl);
    free(r);
    if (!ok) {
        lv_mmmu_pred_free(out);
        return lv_fail(LV_ERR_NOMEM, "mmmu open parse: out of memory");
    }
    return LV_OK;
}

int lv_mmmu_open_correct(const lv_mmmu_pred *p, const char *const *golds, int n_golds)
{
    lv_mmmu_pred g = {0};
    for (int i = 0; i < n_golds; i++)
        if (golds[i] && !mt_pred_add_norm(&g, golds[i], strlen(golds[i]))) break;
    int hit = 0;
    for (int i = 0; i < p->n_strs && !hit; i++)
        for (int j = 0; j < g.n_strs && !hit; j++) hit = strstr(p->strs[i], g.strs[j]) != NULL;
    for (int i = 0; i < p->n_nums && !hit; i++)
        for (int j = 0; j < g.n_nums && !hit; j++) hit = p->nums[i] == g.nums[j];
    lv_mmmu_pred_free(&g);
    return hit;
}

double lv_llava_bench_relative(const double *reference, const double *candidate, long n)
{
    double r = 0.0, c = 0.0;
    for (long i = 0; i < n; i++) {
        r += reference[i];
        c += candidate[i];
    }
    return n > 0 && r != 0.0 ? 100.0 * (c / (double)n) / (r / (double)n) : 0.0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int mt_dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lv_percentile(const double *v, long n, double q)
{
    if (n <= 0) return 0.0;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return 0.0;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, mt_dbl_cmp);
    double pos = q * (double)(n - 1);
    long lo = (long)floor(pos);
    if (lo >= n - 1) lo = n - 1;
    double frac = pos - (double)lo, r = s[lo];
    if (lo + 1 < n) r = s[lo] + (s[lo + 1] - s[lo]) * frac;
    free(s);
    return r;
}

unsigned long long lv_hash64(unsigned long long h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- captions: PTB-like tokenizer ------------------------------------------------------------ */

/* Tokens made only of these characters are dropped, like pycocoevalcap's PUNCTUATIONS filter
 * ('' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;); brackets of every kind are dropped
 * (CoreNLP would keep [ ] as -LSB- -RSB-, which never occur in COCO captions). */
static int mt_ptb_dropped(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(".?!,:;-'`\"()[]{}", t[i])) return 0;
    return 1;
}

static void mt_ptb_emit(lv_text *o, const char *t, size_t n)
{
    if (!n || mt_ptb_dropped(t, n)) return;
    if (o->n) lv_text_putc(o, ' ');
    lv_text_put(o, t, n);
}

/* One word without leading/trailing punctuation: PTB's fused forms (cannot gonna gotta wanna)
 * and clitics split off its end. */
static void mt_ptb_word(lv_text *o, const char *w, size_t n)
{
    static const char *const fused[][2] = {{"cannot", "can"}, {"gonna", "gon"}, {"gotta", "got"}, {"wanna", "wan"}};
    for (int k = 0; k < 4; k++)
        if (n == strlen(fused[k][0]) && !memcmp(w, fused[k][0], n)) {
            size_t m = strlen(fused[k][1]);
            mt_ptb_emit(o, w, m);
            mt_ptb_emit(o, w + m, n - m);
            return;
        }
    static const char *const cl[] = {"n't", "'s", "'m", "'d", "'re", "'ve", "'ll"};
    for (int k = 0; k < 7; k++) {
        size_t m = strlen(cl[k]);
        if (n > m && !memcmp(w + n - m, cl[k], m)) {
            mt_ptb_emit(o, w, n - m);
            mt_ptb_emit(o, w + n - m, m);
            return;
        }
    }
    mt_ptb_emit(o, w, n);
}

/* "'s" "'m" "'d" "'re" "'ve" "'ll" at [q, e): a clitic written apart (pre-tokenized text). */
static int mt_ptb_clitic_at(const char *q, const char *e)
{
    static const char *const cl[] = {"'s", "'m", "'d", "'re", "'ve", "'ll"};
    for (int k = 0; k < 6; k++)
        if ((size_t)(e - q) == strlen(cl[k]) && !memcmp(q, cl[k], (size_t)(e - q))) return 1;
    return 0;
}

/* [w, q) is an abbreviation written with periods, like "u.s" or "a.m" (letter(.letter)+). */
static int mt_ptb_abbrev(const char *w, const char *q)
{
    if (q - w < 3) return 0;
    for (const char *p = w; p < q; p++)
        if ((p - w) % 2 == 0 ? !isalpha((unsigned char)*p) : *p != '.') return 0;
    return (q - w) % 2 == 1;
}

char *lv_ptb_tokenize(const char *text)
{
    lv_text o = {0};
    char *s = mt_lower(text ? text : "");
    if (!s) return NULL;
    for (char *p = s; *p;) {
        while (*p && mt_space(*p)) p++;
        char *b = p;
        while (*p && !mt_space(*p)) p++;
        char *e = p;
        /* inside a chunk: ( ) [ ] { } ; ! ? " ` and "..." always split; ',' and ':' split
         * unless between digits (3,000 10:30); '.' splits unless followed by a letter or a
         * digit (3.5) or ending an abbreviation (u.s.); a leading '$' and a trailing '%' are
         * tokens of their own; a quote "'" splits unless it starts a clitic ('s 're ...) */
        char *w = b;
        for (char *q = b; q < e; q++) {
            char c = *q;
            int digit_around = q > b && q + 1 < e && isdigit((unsigned char)q[-1]) && isdigit((unsigned char)q[1]);
            int split = strchr("()[]{};!?\"`", c) != NULL || ((c == ',' || c == ':') && !digit_around) ||
                        (c == '.' && !(q + 1 < e && isalnum((unsigned char)q[1])) && !(q + 1 == e && mt_ptb_abbrev(w, q))) ||
                        (c == '\'' && (q + 1 == e || (q == w && !mt_ptb_clitic_at(q, e)))) ||
                        (c == '$' && q == w) || (c == '%' && q + 1 == e);
            if (!split) continue;
            mt_ptb_word(&o, w, (size_t)(q - w));
            mt_ptb_emit(&o, q, 1);
            w = q + 1;
        }
        mt_ptb_word(&o, w, (size_t)(e - w));
    }
    free(s);
    return lv_text_take(&o);
}

/* ---- captions: n-gram tables --------------------------------------------------------------- */

/* Interned words and n-grams (n <= 4) with dense ids, open addressing. */
typedef struct {
    int32_t *key;    /* [cap][5]: n, w0..w3 (unused -1) */
    int32_t *slot;   /* [hcap] id + 1, 0 empty */
    size_t   n, cap, hcap;
} mt_ngrams;

typedef struct {
    char   **word;   /* [n] */
    int32_t *slot;   /* [hcap] */
    size_t   n, cap, hcap;
} mt_words;

static uint64_t mt_hash_str(const char *s, size_t n) { return lv_hash64(LV_HASH64_INIT, s, n); }

static int mt_words_id(mt_words *t, const char *s, size_t n, int32_t *id)
{
    if ((t->n + 1) * 2 > t->hcap) {
        size_t hc = t->hcap ? t->hcap * 2 : 1024;
        int32_t *sl = calloc(hc, sizeof *sl);
        if (!sl) return 0;
        for (size_t i = 0; i < t->n; i++) {
            size_t h = mt_hash_str(t->word[i], strlen(t->word[i])) & (hc - 1);
            while (sl[h]) h = (h + 1) & (hc - 1);
            sl[h] = (int32_t)i + 1;
        }
        free(t->slot);
        t->slot = sl;
        t->hcap = hc;
    }
    size_t h = mt_hash_str(s, n) & (t->hcap - 1);
    while (t->slot[h]) {
        const char *w = t->word[t->slot[h] - 1];
        if (strlen(w) == n && !memcmp(w, s, n)) { *id = t->slot[h] - 1; return 1; }
        h = (h + 1) & (t->hcap - 1);
    }
    if (t->n == t->cap) {
        size_t c = t->cap ? t->cap * 2 : 512;
        char **q = realloc(t->word, c * sizeof *q);
        if (!q) return 0;
        t->word = q;
        t->cap = c;
    }
    char *w = malloc(n + 1);
    if (!w) return 0;
    memcpy(w, s, n);
    w[n] = 0;
    t->word[t->n] = w;
    t->slot[h] = (int32_t)t->n + 1;
    *id = (int32_t)t->n++;
    return 1;
}

static int mt_ngrams_id(mt_ngrams *t, const int32_t *k5, int32_t *id)
{
    if ((t->n + 1) * 2 > t->hcap) {
        size_t hc = t->hcap ? t->hcap * 2 : 4096;
        int32_t *sl = calloc(hc, sizeof *sl);
        if (!sl) return 0;
        for (size_t i = 0; i < t->n; i++) {
            size_t h = mt_hash_str((const char *)(t->key + 5 * i), 5 * sizeof(int32_t)) & (hc - 1);
            while (sl[h]) h = (h + 1) & (hc - 1);
            sl[h] = (int32_t)i + 1;
        }
        free(t->slot);
        t->slot = sl;
        t->hcap = hc;
    }
    size_t h = mt_hash_str((const char *)k5, 5 * sizeof(int32_t)) & (t->hcap - 1);
    while (t->slot[h]) {
        if (!memcmp(t->key + 5 * (size_t)(t->slot[h] - 1), k5, 5 * sizeof(int32_t))) {
            *id = t->slot[h] - 1;
            return 1;
        }
        h = (h + 1) & (t->hcap - 1);
    }
    if (t->n == t->cap) {
        size_t c = t->cap ? t->cap * 2 : 4096;
        int32_t *q = realloc(t->key, c * 5 * sizeof *q);
        if (!q) return 0;
        t->key = q;
        t->cap = c;
    }
    memcpy(t->key + 5 * t->n, k5, 5 * sizeof(int32_t));
    t->slot[h] = (int32_t)t->n + 1;
    *id = (int32_t)t->n++;
    return 1;
}

/* One sentence: tokens and its n-gram counts in first-occurrence order, k = 1..4
 * (pycocoevalcap precook order). */
typedef struct {
    int32_t *tok;  int len;
    int32_t *ng;   int32_t *cnt;  int8_t *order;  int n_ng;   /* order = n - 1 */
} mt_sent;

typedef struct {
    mt_words  words;
    mt_ngrams grams;
    int32_t  *stamp;   /* [grams.n] scratch: last user id */
    int32_t  *where;   /* [grams.n] scratch: position in the current sentence */
    size_t    scratch_cap;
} mt_corpus;

static int mt_scratch(mt_corpus *c)
{
    if (c->grams.n <= c->scratch_cap) return 1;
    size_t cap = c->grams.n * 2;
    int32_t *s = realloc(c->stamp, cap * sizeof *s), *w;
    if (!s) return 0;
    c->stamp = s;
    w = realloc(c->where, cap * sizeof *w);
    if (!w) return 0;
    c->where = w;
    for (size_t i = c->scratch_cap; i < cap; i++) c->stamp[i] = -1;
    c->scratch_cap = cap;
    return 1;
}

static int mt_sent_build(mt_corpus *c, mt_sent *s, const char *text, int tokenize, int32_t sent_id)
{
    memset(s, 0, sizeof *s);
    char *tk = tokenize ? lv_ptb_tokenize(text) : mt_strdup(text ? text : "");
    if (!tk) return 0;
    size_t n = strlen(tk);
    s->tok = malloc((n / 2 + 2) * sizeof *s->tok);
    int ok = s->tok != NULL;
    for (size_t i = 0; ok && i < n;) {
        while (i < n && mt_space(tk[i])) i++;
        size_t b = i;
        while (i < n && !mt_space(tk[i])) i++;
        if (i > b) ok = mt_words_id(&c->words, tk + b, i - b, &s->tok[s->len++]);
    }
    free(tk);
    int L = s->len, cap = 4 * L + 1;
    s->ng = malloc((size_t)cap * sizeof *s->ng);
    s->cnt = malloc((size_t)cap * sizeof *s->cnt);
    s->order = malloc((size_t)cap);
    ok = ok && s->ng && s->cnt && s->order;
    for (int k = 1; ok && k <= 4; k++)
        for (int i = 0; ok && i + k <= L; i++) {
            int32_t key[5] = {k, -1, -1, -1, -1}, id;
            for (int j = 0; j < k; j++) key[1 + j] = s->tok[i + j];
            ok = mt_ngrams_id(&c->grams, key, &id) && mt_scratch(c);
            if (!ok) break;
            if (c->stamp[id] == sent_id) { s->cnt[c->where[id]]++; continue; }
            c->stamp[id] = sent_id;
            c->where[id] = s->n_ng;
            s->ng[s->n_ng] = id;
            s->cnt[s->n_ng] = 1;
            s->order[s->n_ng++] = (int8_t)(k - 1);
        }
    return ok;
}

static void mt_sent_free(mt_sent *s)
{
    free(s->tok);
    free(s->ng);
    free(s->cnt);
    free(s->order);
}

static int mt_lcs(const int32_t *a, int na, const int32_t *b, int nb)
{
    int *row = calloc((size_t)nb + 1, sizeof *row);
    if (!row) return 0;
    for (int i = 1; i <= na; i++) {
        int diag = 0;
        for (int j = 1; j <= nb; j++) {
            int up = row[j];
            row[j] = a[i - 1] == b[j - 1] ? diag + 1 : (up > row[j - 1] ? up : row[j - 1]);
            diag = up;
        }
    }
    int r = row[nb];
    free(row);
    return r;
}

/* CIDEr-D vector of a sentence: weights tf·(log N − log max(1, df)) per n-gram, norms per n,
 * and "length" = number of bigrams (cider_scorer counts2vec quirk). */
static void mt_cider_vec(const mt_sent *s, const int32_t *df, double ref_len, double *w, double norm[4],
                         int *length)
{
    double sq[4] = {0, 0, 0, 0};
    *length = 0;
    for (int i = 0; i < s->n_ng; i++) {
        double d = log(fmax(1.0, (double)df[s->ng[i]]));
        w[i] = (double)s->cnt[i] * (ref_len - d);
        sq[s->order[i]] += w[i] * w[i];
        if (s->order[i] == 1) *length += s->cnt[i];
    }
    for (int k = 0; k < 4; k++) norm[k] = sqrt(sq[k]);
}

lv_status lv_caption_score(const char *const *cands, const char *const *const *refs, const int *n_refs,
                           int n_images, int tokenize, lv_caption_scores *out, double *cider_img,
                           double *rouge_img, double (*bleu_img)[4])
{
    memset(out, 0, sizeof *out);
    if (n_images <= 0) return LV_OK;
    mt_corpus c;
    memset(&c, 0, sizeof c);
    mt_sent *cs = calloc((size_t)n_images, sizeof *cs);
    mt_sent **rs = calloc((size_t)n_images, sizeof *rs);
    lv_status st = LV_OK;
    int32_t sid = 0;
    if (!cs || !rs) st = LV_ERR_NOMEM;
    for (int i = 0; st == LV_OK && i < n_images; i++) {
        if (n_refs[i] <= 0) { st = lv_fail(LV_ERR_INPUT, "caption score: image %d has no reference", i); break; }
        if (!mt_sent_build(&c, &cs[i], cands[i], tokenize, sid++)) st = LV_ERR_NOMEM;
        rs[i] = calloc((size_t)n_refs[i], sizeof **rs);
        if (!rs[i]) st = LV_ERR_NOMEM;
        for (int r = 0; st == LV_OK && r < n_refs[i]; r++)
            if (!mt_sent_build(&c, &rs[i][r], refs[i][r], tokenize, sid++)) st = LV_ERR_NOMEM;
    }
    int32_t *df = NULL, *maxc = NULL;
    double *wc = NULL, *wr = NULL, *rv = NULL;
    size_t G = c.grams.n;
    int maxng = 1;
    for (int i = 0; st == LV_OK && i < n_images; i++) {
        if (cs[i].n_ng > maxng) maxng = cs[i].n_ng;
        for (int r = 0; r < n_refs[i]; r++)
            if (rs[i][r].n_ng > maxng) maxng = rs[i][r].n_ng;
    }
    if (st == LV_OK) {
        df = calloc(G + 1, sizeof *df);
        maxc = calloc(G + 1, sizeof *maxc);
        rv = calloc(G + 1, sizeof *rv);
        wc = malloc((size_t)maxng * sizeof *wc);
        wr = malloc((size_t)maxng * sizeof *wr);
        if (!df || !maxc || !rv || !wc || !wr || !mt_scratch(&c)) st = LV_ERR_NOMEM;
    }
    if (st == LV_OK) {
        for (size_t g = 0; g < G; g++) c.stamp[g] = -1;
        /* document frequency: images whose reference set holds the n-gram */
        for (int i = 0; i < n_images; i++)
            for (int r = 0; r < n_refs[i]; r++)
                for (int k = 0; k < rs[i][r].n_ng; k++) {
                    int32_t g = rs[i][r].ng[k];
                    if (c.stamp[g] != i) { c.stamp[g] = i; df[g]++; }
                }
        double ref_len = log((double)n_images), rouge_sum = 0.0, cider_sum = 0.0;
        long testlen = 0, reflen = 0, guess[4] = {0}, correct[4] = {0};
        const double tiny = 1e-15, small = 1e-9, beta = 1.2;
        for (size_t g = 0; g < G; g++) c.stamp[g] = -1;
        for (int i = 0; i < n_images; i++) {
            const mt_sent *cd = &cs[i];
            /* BLEU (bleu_scorer cook_refs/cook_test, option "closest") */
            int best_len = -1, best_diff = 0;
            for (int r = 0; r < n_refs[i]; r++) {
                const mt_sent *rf = &rs[i][r];
                int diff = abs(rf->len - cd->len);
                if (best_len < 0 || diff < best_diff || (diff == best_diff && rf->len < best_len)) {
                    best_len = rf->len;
                    best_diff = diff;
                }
                for (int k = 0; k < rf->n_ng; k++) {
                    int32_t g = rf->ng[k];
                    if (c.stamp[g] != i) { c.stamp[g] = i; maxc[g] = 0; }
                    if (rf->cnt[k] > maxc[g]) maxc[g] = rf->cnt[k];
                }
            }
            long gs[4], cr[4] = {0, 0, 0, 0};
            for (int k = 0; k < 4; k++) gs[k] = cd->len - k > 0 ? cd->len - k : 0;
            for (int k = 0; k < cd->n_ng; k++) {
                int32_t g = cd->ng[k];
                int m = c.stamp[g] == i ? maxc[g] : 0;
                cr[cd->order[k]] += cd->cnt[k] < m ? cd->cnt[k] : m;
            }
            testlen += cd->len;
            reflen += best_len;
            for (int k = 0; k < 4; k++) { guess[k] += gs[k]; correct[k] += cr[k]; }
            if (bleu_img) {
                double b = 1.0, ratio = ((double)cd->len + tiny) / ((double)best_len + small);
                for (int k = 0; k < 4; k++) {
                    b *= ((double)cr[k] + tiny) / ((double)gs[k] + small);
                    bleu_img[i][k] = pow(b, 1.0 / (k + 1));
                    if (ratio < 1) bleu_img[i][k] *= exp(1.0 - 1.0 / ratio);
                }
            }
            /* ROUGE-L: max precision and max recall over references, independently */
            double pmax = 0.0, rmax = 0.0;
            for (int r = 0; r < n_refs[i]; r++) {
                const mt_sent *rf = &rs[i][r];
                int l = mt_lcs(rf->tok, rf->len, cd->tok, cd->len);
                double p = cd->len ? (double)l / cd->len : 0.0, q = rf->len ? (double)l / rf->len : 0.0;
                if (p > pmax) pmax = p;
                if (q > rmax) rmax = q;
            }
            double rl = pmax != 0.0 && rmax != 0.0
                            ? ((1 + beta * beta) * pmax * rmax) / (rmax + beta * beta * pmax) : 0.0;
            if (rouge_img) rouge_img[i] = rl;
            rouge_sum += rl;
            /* CIDEr-D: clipped cosine per n, Gaussian penalty on the bigram-count difference */
            double nc[4], score[4] = {0, 0, 0, 0};
            int lc;
            mt_cider_vec(cd, df, ref_len, wc, nc, &lc);
            for (int r = 0; r < n_refs[i]; r++) {
                const mt_sent *rf = &rs[i][r];
                double nr[4], val[4] = {0, 0, 0, 0};
                int lr;
                mt_cider_vec(rf, df, ref_len, wr, nr, &lr);
                for (int k = 0; k < rf->n_ng; k++) rv[rf->ng[k]] = wr[k];
                for (int k = 0; k < cd->n_ng; k++) {
                    double vr = rv[cd->ng[k]];
                    val[cd->order[k]] += fmin(wc[k], vr) * vr;
                }
                for (int k = 0; k < rf->n_ng; k++) rv[rf->ng[k]] = 0.0;
                double delta = (double)(lc - lr), pen = exp(-(delta * delta) / (2.0 * 6.0 * 6.0));
                for (int n = 0; n < 4; n++) {
                    if (nc[n] != 0.0 && nr[n] != 0.0) val[n] /= nc[n] * nr[n];
                    score[n] += val[n] * pen;
                }
            }
            double ci = (score[0] + score[1] + score[2] + score[3]) / 4.0 / n_refs[i] * 10.0;
            if (cider_img) cider_img[i] = ci;
            cider_sum += ci;
        }
        double b = 1.0, ratio = ((double)testlen + tiny) / ((double)reflen + small);
        for (int k = 0; k < 4; k++) {
            b *= ((double)correct[k] + tiny) / ((double)guess[k] + small);
            out->bleu[k] = pow(b, 1.0 / (k + 1));
            if (ratio < 1) out->bleu[k] *= exp(1.0 - 1.0 / ratio);
            out->guess[k] = guess[k];
            out->correct[k] = correct[k];
        }
        out->testlen = testlen;
        out->reflen = reflen;
        out->rouge_l = rouge_sum / n_images;
        out->cider = cider_sum / n_images;
    }
    if (st == LV_ERR_NOMEM) lv_fail(st, "caption score: out of memory for %d images", n_images);
    for (int i = 0; cs && rs && i < n_images; i++) {
        mt_sent_free(&cs[i]);
        if (rs[i])
            for (int r = 0; r < n_refs[i]; r++) mt_sent_free(&rs[i][r]);
        free(rs[i]);
    }
    free(cs);
    free(rs);
    free(df);
    free(maxc);
    free(rv);
    free(wc);
    free(wr);
    for (size_t i = 0; i < c.words.n; i++) free(c.words.word[i]);
    free(c.words.word);
    free(c.words.slot);
    free(c.grams.key);
    free(c.grams.slot);
    free(c.stamp);
    free(c.where);
    return st;
}
