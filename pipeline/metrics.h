/* metrics.h - private to pipeline/: the benchmark scoring rules, each mirroring one reference
 * script (docs: /work/shared/spec/benchmarks.md §1 and §6), double precision, reductions in a
 * fixed order (input order), no random fallbacks (an unparsed answer is wrong and reported).
 *
 *   yes/no     MME eval_tool calculation.py (first 4 chars), lmms-eval mme utils, POPE evaluate.py
 *   MME        acc / acc+ / score per subtask, perception and cognition sums
 *   POPE       accuracy, precision, recall, F1 (positive = yes), yes-ratio of the predictions
 *   MC         VLMEvalKit matching_util.can_infer; MMMU eval_utils parse_multi_choice_response
 *   open       MMMU parse_open_response + eval_open; VQA soft accuracy (vqaEval.py + EvalAI
 *              answer processor); exact match; ChartQA relaxed; ANLS (DocVQA and lmms-eval)
 *   captions   pycocoevalcap Bleu(4), Rouge (ROUGE-L, beta 1.2), Cider (CIDEr-D, sigma 6)
 *              after a PTB-like tokenizer
 */
#ifndef LV_METRICS_H
#define LV_METRICS_H

#include <stddef.h>

#include "core.h"

/* ---- yes / no ------------------------------------------------------------------------- */
typedef enum { LV_YN_YES, LV_YN_NO, LV_YN_OTHER, LV_YN_COUNT } lv_yn;
typedef enum { LV_YNRULE_MME, LV_YNRULE_LMMS, LV_YNRULE_POPE, LV_YNRULE_VLMEVAL, LV_YNRULE_COUNT } lv_yn_rule;

/* MME official: lowercase; exact "yes"/"no", else "yes" then "no" searched in the first 4
 * characters, else other. lmms-eval: strip, delete ".", a lone y/n counts, then the same.
 * POPE: text before the first ".", commas deleted, split on single spaces; any word exactly
 * "No", "no" or "not" gives no, everything else (even "NO", "") is yes. VLMEvalKit: lowercase,
 * VQA punctuation pass, words; yes xor no, else other. */
lv_yn       lv_yesno_parse(const char *response, lv_yn_rule rule);
/* "yes"/"no" (any case, surrounding blanks) -> LV_YN_YES/NO, else LV_YN_OTHER. */
lv_yn       lv_yesno_gold(const char *gold);
const char *lv_yn_str(lv_yn v);   /* "yes" | "no" | "other" */

typedef struct {
    long tp, fp, tn, fn;    /* positive = yes; a prediction "other" counts as a no-prediction */
    long other;             /* predictions that were neither yes nor no */
} lv_yn_counts;
typedef struct {
    double accuracy, precision, recall, f1, yes_ratio; /* fractions in [0, 1]; 0 when undefined */
    long   n;
} lv_pope_scores;
void           lv_yn_counts_add(lv_yn_counts *c, lv_yn gold, lv_yn pred);
lv_pope_scores lv_pope_scores_of(const lv_yn_counts *c);

/* ---- grouped accuracy (MME acc+, MMBench circular) ------------------------------------- */
typedef struct {
    long   n, n_correct;            /* questions */
    long   n_groups, n_groups_correct;
    double acc, acc_plus;           /* percent: 100·n_correct/n, 100·groups all right/groups */
} lv_group_scores;
/* group[i]: group key of question i (NULL = a group of its own); correct[i] in {0,1}.
 * Groups are compared by string; order of the input does not matter. */
lv_status lv_group_accuracy(const char *const *group, const int *correct, long n,
                            lv_group_scores *out);
/* MME: subtask name -> 1 cognition, 0 perception, -1 not an MME subtask (case-insensitive;
 * accepts "commonsense_reasoning", "numerical_calculation", "text_translation",
 * "code_reasoning" and the 10 perception names incl. "OCR"). Score = acc + acc_plus. */
int         lv_mme_is_cognition(const char *subtask);
extern const char *const lv_mme_subtasks[14];  /* leaderboard order, perception first */

/* ---- multiple choice --------------------------------------------------------------------- */
/* VLMEvalKit can_infer: replace .()[],:;!*#{} by spaces and split; exactly one option letter
 * as a token -> it; else exactly one option text (lowercased) a substring of the lowercased
 * answer -> it; else -1. choices[k] is option letter 'A'+k; n <= 26. */
int lv_mc_can_infer(const char *answer, const char *const *choices, int n);
/* MMMU parse_multi_choice_response without the random fallback: -1 when nothing parses. */
int lv_mc_mmmu(const char *response, const char *const *choices, int n);
/* Gold letter ("B", " b ", "(B)") -> index, or -1. */
int lv_mc_gold_index(const char *gold, int n);

/* ---- open answers ------------------------------------------------------------------------ */
/* MMMU open parse: candidates as strings and numbers (normalized, de-duplicated, in first
 * appearance order). Returned arrays are malloc'd; free with lv_mmmu_pred_free. */
typedef struct {
    char  **strs;  int n_strs;
    double *nums;  int n_nums;
} lv_mmmu_pred;
lv_status lv_mmmu_open_parse(const char *response, lv_mmmu_pred *out);
void      lv_mmmu_pred_free(lv_mmmu_pred *p);
/* eval_open: a normalized gold string is a substring of a candidate string, or a gold number
 * equals a candidate number. */
int       lv_mmmu_open_correct(const lv_mmmu_pred *p, const char *const *golds, int n_golds);

/* EvalAI answer processor + vqaEval punctuation/number/article/contraction rules
 * (benchmarks.md §1.6). Returns malloc'd text. */
char  *lv_vqa_normalize(const char *answer);
/* VQA soft accuracy of pred against n golds (usually 10): mean over golds i of
 * min(1, #{j != i : gold_j == pred} / 3), both sides normalized with lv_vqa_normalize. */
double lv_vqa_accuracy(const char *pred, const char *const *golds, int n);
/* 1 if the normalized prediction equals any normalized gold (normalize = 1), or the raw
 * strings are equal after trimming blanks (normalize = 0). */
int    lv_exact_match(const char *pred, const char *const *golds, int n, int normalize);
/* ChartQA relaxed accuracy (pix2struct): both parse as Python floats (a trailing '%' divides
 * by 100) and the target is non-zero -> |p - t| / |t| <= 0.05; else case-insensitive equality. */
int    lv_relaxed_correct(const char *pred, const char *target);
/* Python float(): trims blanks, accepts digits/underscores/exponent/inf/nan, not hex. */
int    lv_py_float(const char *s, size_t len, double *out);

typedef enum { LV_ANLS_OFFICIAL, LV_ANLS_LMMS } lv_anls_variant;
/* max over golds of 1 - NL. OFFICIAL: lowercase + collapse whitespace on both sides,
 * NL = lev / max(len) of the normalized strings, 0 when NL >= 0.5. LMMS: distance on the
 * collapsed strings, divided by the raw lengths, 0 only when 1 - NL < 0.5. Lengths and
 * distances count UTF-8 code points; lowercasing is ASCII. */
double lv_anls(const char *pred, const char *const *golds, int n, lv_anls_variant v);

/* LLaVA-Bench (summarize_gpt_review.py): 100 * mean(candidate scores) / mean(reference scores)
 * of the judge's score pairs; papers print it with one decimal. 0 when n = 0. */
double lv_llava_bench_relative(const double *reference, const double *candidate, long n);

/* ---- captions ---------------------------------------------------------------------------- */
/* PTB-like tokenizer (stand-in for CoreNLP PTBTokenizer -preserveLines -lowerCase + the
 * pycocoevalcap punctuation filter): lowercase, split off punctuation and clitics ('s n't 're
 * 've 'll 'd 'm), keep hyphenated words and numbers like 3.5 / 3,000 whole, drop punctuation
 * tokens. Returns the tokens joined by single spaces (malloc'd). */
char *lv_ptb_tokenize(const char *text);

typedef struct {
    double bleu[4], rouge_l, cider;   /* corpus values (cider as pycocoevalcap: 0..10) */
    long   testlen, reflen, guess[4], correct[4];  /* BLEU internals, summed over images */
} lv_caption_scores;
/* n_images candidates; refs[i][0..n_refs[i]) references. tokenize = 0: the inputs are already
 * space-separated tokens (pycocoevalcap scorer input); 1: run lv_ptb_tokenize first.
 * Optional per-image outputs (caller-allocated [n_images] / [n_images][4], may be NULL). */
lv_status lv_caption_score(const char *const *cands, const char *const *const *refs,
                           const int *n_refs, int n_images, int tokenize, lv_caption_scores *out,
                           double *cider_img, double *rouge_img, double (*bleu_img)[4]);

/* ---- small shared helpers ---------------------------------------------------------------- */
/* Percentile q in [0, 1] of a double array (sorted copy, linear interpolation like numpy). */
double lv_percentile(const double *v, long n, double q);
/* FNV-1a 64 over bytes, chained: h = lv_hash64(h, data, n); start with LV_HASH64_INIT. */
#define LV_HASH64_INIT 0xcbf29ce484222325ull
unsigned long long lv_hash64(unsigned long long h, const void *data, size_t n);

#endif
