/* cmd_info.c - `lladav info`: what a model directory holds and what running it will cost.
 *
 *   config.json --lv_config_load--> lv_config ; weights --lv_weights_open (mmap)--> lv_weights
 *   --lv_config_check_weights--> every tensor and shape verified --> report (no compute)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static double lv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "8,434,837,024" */
static const char *lv_grouped(char *buf, size_t n, int64_t v)
{
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%lld", (long long)v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
        if (i > 0 && raw[i - 1] != '-' && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
    return buf;
}

/* Activation bytes of one LLM forward over T rows with logits for G rows (fp32 activations):
 * residual, normed input, q, k, v, attention output [T, D] each; gate and up [T, F]; one
 * attention score block [64, T] per thread; logits [G, V]; a weight-conversion panel of
 * 4 MiB per thread. */
static double lv_llm_activation_bytes(const lv_config *c, int T, int G, int threads)
{
    double f = 6.0 * T * c->hidden_size + 2.0 * T * c->intermediate_size +
               64.0 * T * threads + (double)G * c->vocab_size;
    return 4.0 * f + 4.0 * 1048576.0 * threads;
}

/* Vision tower per view: P tokens; residual, normed, q, k, v, out [P, Dv]; fc1 [P, Fv];
 * scores [P, P] per thread; projector hidden/output [P, D] x 2. */
static double lv_vision_activation_bytes(const lv_config *c, int threads)
{
    double g = c->v_image_size / c->v_patch_size, P = g * g;
    return 4.0 * (6.0 * P * c->v_hidden_size + P * c->v_intermediate_size + P * P * threads +
                  2.0 * P * c->hidden_size);
}

lv_status lv_cmd_info(int argc, char **argv)
{
    const char *model = NULL;
    int prompt_len = 2048, gen_len = 128, threads = 0;
    const lv_opt opts[] = {
        {"--model", "-m", LV_OPT_STR, &model, "DIR", "model directory (config.json + safetensors)"},
        {"--prompt-len", NULL, LV_OPT_INT, &prompt_len, "N", "prompt length for the memory estimate (default 2048)"},
        {"--gen-length", NULL, LV_OPT_INT, &gen_len, "N", "response length for the memory estimate (default 128)"},
        {"--threads", "-t", LV_OPT_COUNT, &threads, "N", "threads assumed by the estimate (default: physical cores)"},
    };
    int nopt = (int)(sizeof opts / sizeof opts[0]), npos, help;
    const char *pos[1];
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt, pos, 0, &npos, &help));
    if (help) {
        lv_cli_usage("info", "--model DIR [options]",
                     "Load a model directory (mmap + validation, no compute) and describe it.", opts, nopt);
        return LV_OK;
    }
    if (!model) return lv_fail(LV_ERR_ARG, "info: --model DIR is required");
    if (prompt_len < 1 || gen_len < 0)
        return lv_fail(LV_ERR_ARG, "info: --prompt-len must be >= 1 and --gen-length >= 0");
    threads = lv_cli_threads(threads);

    char path[4096];
    lv_config c;
    double t0 = lv_now();
    snprintf(path, sizeof path, "%s/config.json", model);
    LV_TRY(lv_config_load(&c, path));
    lv_weights *w = NULL;
    LV_TRY(lv_weights_open(&w, model));
    lv_status st = lv_config_check_weights(&c, w);
    double t_load = lv_now() - t0;
    if (st != LV_OK) { lv_weights_free(w); return st; }

    char a[32], b[32], d[32], e[32];
    printf("model       %s\n", model);
    printf("arch        %s\n", c.has_vision
               ? "LLaDA-V: SigLIP vision tower -> projector -> LLaDA masked-diffusion transformer"
               : "LLaDA (text only): masked-diffusion transformer");
    printf("names       %s\n", c.scheme == LV_SCHEME_OLMO ? "original LLaDA (model.transformer.blocks.N.*)"
                                                          : "LLaMA-style (model.layers.N.*)");
    printf("language    hidden %d, intermediate %d, layers %d, heads %d x %d, kv heads %d, vocab %d,\n"
           "            rms eps %g, rope theta %g, tied embeddings %s, mask id %d%s\n",
           c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads, c.head_dim,
           c.num_key_value_heads, c.vocab_size, c.rms_norm_eps, c.rope_theta,
           c.tie_word_embeddings ? "yes" : "no", c.mask_token_id >= 0 ? c.mask_token_id : 126336,
           c.mask_token_id >= 0 ? " (config)" : " (default; tokenizer <|mdm_mask|> wins when present)");
    if (c.has_vision) {
        int g = c.v_image_size / c.v_patch_size;
        printf("vision      hidden %d, intermediate %d, layers %d, heads %d, image %d, patch %d "
               "(%d tokens per view), ln eps %g, %s\n",
               c.v_hidden_size, c.v_intermediate_size, c.v_num_hidden_layers, c.v_num_attention_heads,
               c.v_image_size, c.v_patch_size, g * g, c.v_layer_norm_eps, c.v_hidden_act);
        printf("projector   %s %d -> %d, image_newline [%d]\n", c.mm_projector_type, c.mm_hidden_size,
               c.hidden_size, c.hidden_size);
        const char *aspect = c.aspect == LV_ASPECT_ANYRES ? "anyres" : c.aspect == LV_ASPECT_PAD ? "pad" : "square";
        printf("images      %s", aspect);
        if (c.aspect == LV_ASPECT_ANYRES && c.anyres_max > 0) printf("_max_%d", c.anyres_max);
        if (c.n_pinpoints > 0)
            printf(", %d grid pinpoints (%dx%d .. %dx%d)", c.n_pinpoints, c.pinpoints[0][0], c.pinpoints[0][1],
                   c.pinpoints[c.n_pinpoints - 1][0], c.pinpoints[c.n_pinpoints - 1][1]);
        printf(", merge %s\n", c.merge == LV_MERGE_FLAT ? "flat" : "spatial_unpad");
    }

    int64_t count[LV_DTYPE_COUNT] = {0}, bytes[LV_DTYPE_COUNT] = {0};
    for (int i = 0; i < lv_weights_count(w); i++) {
        const lv_tensor *t = lv_weights_at(w, i);
        count[t->dtype]++;
        bytes[t->dtype] += (int64_t)t->nbytes;
    }
    char sz[32];
    printf("weights     %d file(s), %d tensors, %s mapped read-only:", lv_weights_n_files(w),
           lv_weights_count(w), lv_cli_bytes(sz, sizeof sz, (double)lv_weights_mapped_bytes(w)));
    for (int k = 0; k < LV_DTYPE_COUNT; k++)
        if (count[k]) printf(" %s %lld (%s)", lv_dtype_name((lv_dtype)k), (long long)count[k],
                             lv_cli_bytes(sz, sizeof sz, (double)bytes[k]));
    printf("\n");

    int64_t pl = lv_config_param_count(&c, LV_PART_LLM), pv = lv_config_param_count(&c, LV_PART_VISION),
            pp = lv_config_param_count(&c, LV_PART_PROJECTOR);
    printf("params      language %s, vision %s, projector %s, total %s (%.3g)\n", lv_grouped(a, sizeof a, pl),
           lv_grouped(b, sizeof b, pv), lv_grouped(d, sizeof d, pp), lv_grouped(e, sizeof e, pl + pv + pp),
           (double)(pl + pv + pp));
    int T = prompt_len + gen_len;
    printf("memory      one LLM forward over %d + %d tokens: ~%s of activations (fp32, %d threads)\n",
           prompt_len, gen_len, lv_cli_bytes(sz, sizeof sz, lv_llm_activation_bytes(&c, T, gen_len, threads)), threads);
    if (c.has_vision)
        printf("            vision tower + projector: ~%s per view\n",
               lv_cli_bytes(sz, sizeof sz, lv_vision_activation_bytes(&c, threads)));
    printf("load        %.3f s (mmap + validation of every header and tensor shape)\n", t_load);
    lv_weights_free(w);
    return LV_OK;
}
