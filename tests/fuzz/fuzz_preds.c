/* fuzz_preds.c - `lladav eval --rescore` input: a predictions.jsonl (ids, raw model outputs,
 * errors) scored against the small benchmarks of tests/eval (native with every question type,
 * MME txt, POPE, MMBench, VQAv2, COCO captions), so every metric parses untrusted model text;
 * the report (summary.json, report.md, report.html) and the official exports of one benchmark
 * (picked by the input length) are written too. */
#include <stdlib.h>

#include "fuzz.h"
#include "report.h"

#define FUZZ_N_BENCH 6

static lv_bench *fuzz_bench[FUZZ_N_BENCH];
static int fuzz_ready;

static void fuzz_init(void)
{
    static const char *paths[FUZZ_N_BENCH] = {
        "tests/eval/native", "tests/eval/mme_txt", "tests/eval/pope/coco_pope_random.json",
        "tests/eval/mmbench_dev.tsv", "tests/eval/vqav2/v2_OpenEnded_mscoco_val2014_questions.json",
        "tests/eval/coco/captions_val2014.json",
    };
    for (int i = 0; i < FUZZ_N_BENCH; i++) {
        lv_bench_params p = lv_bench_default_params();
        if (lv_bench_load(&fuzz_bench[i], fuzz_source(paths[i]), &p) != LV_OK) abort();
    }
    fuzz_ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_ready) fuzz_init();
    const char *path = fuzz_write("predictions.jsonl", data, size);
    lv_preds p = {0};
    if (lv_preds_load(&p, path) == LV_OK && lv_preds_index(&p) == LV_OK) {
        for (int i = 0; i < FUZZ_N_BENCH; i++) {
            lv_scoring *sc = NULL;
            if (lv_score_run(&sc, fuzz_bench[i], &p) == LV_OK && (size_t)i == size % FUZZ_N_BENCH) {
                lv_report_write(sc, fuzz_path("run"), NULL);
                lv_official_export(sc, fuzz_path("run"));
            }
            lv_scoring_free(sc);
        }
    }
    lv_preds_free(&p);
    return 0;
}
