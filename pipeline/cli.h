/* cli.h - private to the lladav executable: the option parser every subcommand uses and the
 * subcommand entry points. Only the CLI prints; the libraries return statuses. */
#ifndef LV_CLI_H
#define LV_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* LV_OPT_COUNT: an int >= 0 (thread counts: "-t -3" is a mistake, not "physical cores") */
typedef enum { LV_OPT_STR, LV_OPT_INT, LV_OPT_COUNT, LV_OPT_FLOAT, LV_OPT_U64, LV_OPT_FLAG } lv_opt_type;

typedef struct {
    const char *name;        /* "--model" */
    const char *alias;       /* "-m" or NULL */
    lv_opt_type type;
    void       *dst;         /* const char **, int * (INT, COUNT), float *, uint64_t *, int * (flag) */
    const char *meta;        /* "DIR" (NULL for flags) */
    const char *help;        /* one line, include the default */
} lv_opt;

/* Parse argv[1..argc) into opts; non-option words go to pos[0..*npos) (capacity max_pos).
 * "--" ends options. Unknown options, missing or malformed values give LV_ERR_ARG.
 * Returns LV_OK with *want_help = 1 when -h/--help was given. */
lv_status lv_cli_parse(int argc, char **argv, const lv_opt *opts, int nopts, const char **pos,
                       int max_pos, int *npos, int *want_help);
/* Print "usage: lladav CMD SYNOPSIS\n\nOptions:\n ..." to stdout. */
void lv_cli_usage(const char *cmd, const char *synopsis, const char *about, const lv_opt *opts,
                  int nopts);
/* "16.87 GB", "612.0 KB" (decimal units) into buf; returns buf. */
const char *lv_cli_bytes(char *buf, size_t n, double bytes);
/* Apply --threads (0 = physical cores) and return the count used. */
int  lv_cli_threads(int n);
/* Apply --precision: NULL or "f32" (exact, the default), "bf16" (BF16-weight GEMMs with bf16
 * activations, fp32 accumulation: faster, changes logits; LV_ERR_UNSUPPORTED without
 * AVX512-BF16). */
lv_status lv_cli_precision(const char *name);

/* Subcommands: argv[0] is the subcommand name. Return a status; main() prints the error. */
typedef lv_status (*lv_cmd_fn)(int argc, char **argv);
lv_status lv_cmd_info(int argc, char **argv);
lv_status lv_cmd_synth(int argc, char **argv);
lv_status lv_cmd_tokenize(int argc, char **argv);
lv_status lv_cmd_generate(int argc, char **argv);
lv_status lv_cmd_dump(int argc, char **argv);
lv_status lv_cmd_caption(int argc, char **argv);
lv_status lv_cmd_ask(int argc, char **argv);
lv_status lv_cmd_eval(int argc, char **argv);
lv_status lv_cmd_bench(int argc, char **argv);
lv_status lv_cmd_vqa(int argc, char **argv);

#endif
