/* cmd_generate.h - what `lladav generate` and `lladav dump` share (cmd_generate.c): the sampler
 * options, their translation into lv_diffusion_params, and the text prompt set-up. */
#ifndef LV_CMD_GENERATE_H
#define LV_CMD_GENERATE_H

#include "cli.h"
#include "language.h"

#define LV_GEN_N_OPTS 10   /* rows written by lv_gen_opts_table */

typedef struct {
    const char *model, *prompt;
    const char *temperature, *cfg, *remasking;   /* parsed by lv_gen_opts_params (float64) */
    int steps, gen_length, block_length, threads, raw;
    uint64_t seed;
} lv_gen_opts;

void lv_gen_opts_default(lv_gen_opts *o);
/* Writes the LV_GEN_N_OPTS option rows (model, prompt, sampler, threads) to opts. */
void lv_gen_opts_table(lv_gen_opts *o, lv_opt *opts);
/* Sampler params for o on model d (mask id, V_eff, bans, <|eot_id|> stop, dump semantics). */
lv_status lv_gen_opts_params(const lv_gen_opts *o, const lv_llada_dir *d, lv_diffusion_params *p);
/* Prompt ids of text (llava_llada chat template unless raw) and their embeddings, with the LM
 * loaded for Lp + n_tail rows. *ids, *pe: returned, free(). Images are not handled here. */
lv_status lv_gen_text_prompt(lv_llada_dir *d, const char *text, int raw, int n_tail, int32_t **ids,
                             int *n_ids, float **pe);

#endif
