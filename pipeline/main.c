/* main.c - the lladav command: dispatch to a subcommand, print its error, map the status to
 * its exit code. The data flow of every command is in its cmd_*.c file:
 *
 *   image --vision/--> views --vision/ SigLIP--> features --projector/--> visual tokens
 *   text  --language/ tokenizer + chat template--> ids ; splice visual tokens at <image>
 *   masked response --language/ LLaDA forward + diffusion sampler--> answer
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef LV_VERSION
#define LV_VERSION "dev"
#endif
#ifndef LV_GIT_COMMIT
#define LV_GIT_COMMIT "unknown"
#endif

static const struct {
    const char *name;
    lv_cmd_fn   fn;
    const char *about;
} lv_commands[] = {
    {"info",  lv_cmd_info,  "describe a model directory: dimensions, dtypes, parameters, memory"},
    {"synth", lv_cmd_synth, "write a random-weight checkpoint in the real Hugging Face layout"},
    {"tokenize", lv_cmd_tokenize, "encode or decode text with a tokenizer.json, line by line (interfaces.md 3)"},
    {"vqa",   lv_cmd_vqa,   "answer a JSONL file of questions about images into a JSONL file; resumable"},
    {"eval",  lv_cmd_eval,  "run a model over a benchmark and score it; --rescore a run, --merge shards"},
    {"generate", lv_cmd_generate, "answer a text prompt with the masked-diffusion sampler"},
    {"dump",  lv_cmd_dump,  "write the stage tensors of one request for parity checks (interfaces.md 2)"},
    {"caption", lv_cmd_caption, "caption images in one sentence (default: the bundled model)"},
    {"ask",   lv_cmd_ask,   "answer a question about an image"},
    {"bench", lv_cmd_bench, "time every stage of a model against the GEMM peak measured in the same run"},
};
#define LV_N_COMMANDS ((int)(sizeof lv_commands / sizeof lv_commands[0]))

static void lv_usage(FILE *f)
{
    fprintf(f, "lladav %s - a C runtime for LLaDA-V, the diffusion vision-language model\n\n"
               "usage: lladav COMMAND [options]   (lladav COMMAND --help for its options)\n\n"
               "Commands:\n", LV_VERSION);
    for (int i = 0; i < LV_N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", lv_commands[i].name, lv_commands[i].about);
    fprintf(f, "\nExit codes:\n");
    for (int s = 0; s < LV_STATUS_COUNT; s++)
        fprintf(f, "  %2d  %s\n", lv_status_exit_code((lv_status)s), lv_status_str((lv_status)s));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        lv_usage(stderr);
        return lv_status_exit_code(LV_ERR_ARG);
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        lv_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("lladav %s (commit %s)\n", LV_VERSION, LV_GIT_COMMIT);
        return 0;
    }
    for (int i = 0; i < LV_N_COMMANDS; i++) {
        if (strcmp(argv[1], lv_commands[i].name)) continue;
        lv_clear_error();
        lv_status s = lv_commands[i].fn(argc - 1, argv + 1);
        if (s != LV_OK) {
            const char *detail = lv_last_error();
            fprintf(stderr, "lladav: error: %s\n", detail[0] ? detail : lv_status_str(s));
            if (s == LV_ERR_ARG)
                fprintf(stderr, "lladav: hint: run 'lladav %s --help' for usage\n", argv[1]);
        }
        return lv_status_exit_code(s);
    }
    fprintf(stderr, "lladav: error: unknown command '%s' (run 'lladav --help')\n", argv[1]);
    return lv_status_exit_code(LV_ERR_ARG);
}
