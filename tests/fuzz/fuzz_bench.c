/* fuzz_bench.c - every benchmark reader of pipeline/bench_readers.h. Byte 0 picks the reader
 * (modulo 8); the rest is written where that reader looks and loaded with the format named:
 *   0 native folder: questions.jsonl, or benchmark.json + "\n--8<--\n" + questions.jsonl
 *   1 LLaVA question jsonl          2 POPE coco_pope_*.json (JSON lines)
 *   3 MME eval_tool txt folder      4 MME release folder (split layout, one question file)
 *   5 MMBench TSV (base64 images)   6 JSON decided by its keys (VQAv2 / TextVQA / COCO /
 *   Karpathy); "\n--8<--\n" + VQAv2 annotations when present
 *   7 Karpathy split "val"
 * Every sample of an accepted file then renders its prompt and picks its metric. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_readers.h"
#include "fuzz.h"

#define SEP "\n--8<--\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int which = data[0] % 8;
    data++;
    size--;
    lv_bench_params p = lv_bench_default_params();
    p.max_line = 4096;     /* the limit itself is tested; small here so long lines hit it */
    const uint8_t *rest;
    size_t first, rest_len;
    char path[4096];
    switch (which) {
    case 0:
        if (fuzz_split(data, size, SEP, &first, &rest, &rest_len)) {
            fuzz_write("native/benchmark.json", data, first);
            fuzz_write("native/questions.jsonl", rest, rest_len);
        } else {
            unlink(fuzz_path("native/benchmark.json"));
            fuzz_write("native/questions.jsonl", data, size);
        }
        snprintf(path, sizeof path, "%s", fuzz_path("native"));
        p.format = "native";
        break;
    case 1:
        snprintf(path, sizeof path, "%s", fuzz_write("llava/q.jsonl", data, size));
        p.format = "llava";
        break;
    case 2:
        snprintf(path, sizeof path, "%s", fuzz_write("pope/coco_pope_random.json", data, size));
        p.format = "pope";
        break;
    case 3:
        fuzz_write("mme_txt/existence.txt", data, size);
        snprintf(path, sizeof path, "%s", fuzz_path("mme_txt"));
        p.format = "mme_txt";
        break;
    case 4:
        fuzz_write("mme/existence/questions_answers_YN/1.txt", data, size);
        fuzz_write("mme/existence/images/1.jpg", "", 0);
        snprintf(path, sizeof path, "%s", fuzz_path("mme"));
        p.format = "mme";
        break;
    case 5:
        snprintf(path, sizeof path, "%s", fuzz_write("mmbench/dev.tsv", data, size));
        p.format = "mmbench";
        break;
    case 6:
        if (fuzz_split(data, size, SEP, &first, &rest, &rest_len)) {
            static char ann[4096];
            snprintf(ann, sizeof ann, "%s", fuzz_write("json/ann.json", rest, rest_len));
            p.annotations = ann;
            size = first;
        }
        snprintf(path, sizeof path, "%s", fuzz_write("json/q.json", data, size));
        p.format = "auto";
        break;
    default:
        snprintf(path, sizeof path, "%s", fuzz_write("karpathy/dataset_coco.json", data, size));
        p.format = "karpathy";
        p.split = "val";
        break;
    }
    lv_bench *b = NULL;
    if (lv_bench_load(&b, path, &p) == LV_OK) {
        for (int i = 0; i < b->n; i++) {
            const lv_sample *s = &b->samples[i];
            if (s->error) continue;
            free(lv_bench_prompt(b, s));
            lv_bench_metric(b, s);
        }
    }
    lv_bench_free(b);
    return 0;
}
