/* cmd_dump.c - `lladav dump`: the stage tensors of one request for parity checks against the
 * PyTorch reference, in the format of interfaces.md §2:
 *
 *   IMAGE --views [n, 3, S, S] --SigLIP--> vision [n, P, Dv] --projector--> projected [n, P, D]
 *         --merge--> image_embeds [N_img, D] (spliced at the -200 of prompt_ids)
 *   TEXT --chat template--> prompt_ids [L] --embed + LLaDA-V sampler (generate_with_embeds
 *   semantics: bans, <|eot_id|> stop)--> logits0 [G, V], response_ids [n], committed_step [G]
 *   --lv_st_writer--> FILE.safetensors (__metadata__: every parameter)
 */
#include "cmd_generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    lv_dtype dt;
    int ndim;
    int64_t shape[4];
    const void *data;
} lv_dump_item;

static lv_status lv_dump_write(const char *path, const lv_dump_item *it, int n, const char *const *meta,
                               int n_meta)
{
    lv_st_writer *w = NULL;
    lv_status s = lv_st_writer_init(&w);
    for (int i = 0; s == LV_OK && i < n; i++) s = lv_st_writer_add(w, it[i].name, it[i].dt, it[i].ndim, it[i].shape);
    for (int i = 0; s == LV_OK && i < n_meta; i++) s = lv_st_writer_set_metadata(w, meta[2 * i], meta[2 * i + 1]);
    if (s == LV_OK) s = lv_st_writer_begin(w, path);
    for (int i = 0; s == LV_OK && i < n; i++) {
        size_t bytes = lv_dtype_size(it[i].dt);
        for (int k = 0; k < it[i].ndim; k++) bytes *= (size_t)it[i].shape[k];
        if (bytes) s = lv_st_writer_write(w, it[i].data, bytes);
    }
    if (s == LV_OK) s = lv_st_writer_finish(w);
    lv_st_writer_free(w);
    return s;
}

lv_status lv_cmd_dump(int argc, char **argv)
{
    lv_gen_opts o;
    const char *out_path = NULL, *image = NULL;
    lv_gen_opts_default(&o);
    lv_opt opts[LV_GEN_N_OPTS + 3];
    lv_gen_opts_table(&o, opts);
    const lv_opt extra[3] = {
        {"--image", "-i", LV_OPT_STR, &image, "PATH", "PNG or JPEG image; adds views, vision, projected, image_embeds"},
        {"--out", "-o", LV_OPT_STR, &out_path, "FILE", "output .safetensors (required)"},
        {"--raw", NULL, LV_OPT_FLAG, &o.raw, NULL, "use TEXT as the whole prompt (no chat template)"},
    };
    memcpy(opts + LV_GEN_N_OPTS, extra, sizeof extra);
    int nopt = LV_GEN_N_OPTS + 3, npos, help;
    const char *pos[1];
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt, pos, 0, &npos, &help));
    if (help) {
        lv_cli_usage("dump", "--model DIR --prompt TEXT --out FILE.safetensors [options]",
                     "Write prompt_ids, logits0, response_ids and committed_step of one request "
                     "(interfaces.md section 2) for parity checks.", opts, nopt);
        return LV_OK;
    }
    if (!o.model || !o.prompt || !out_path)
        return lv_fail(LV_ERR_ARG, "dump: --model DIR, --prompt TEXT and --out FILE are required");
    lv_cli_threads(o.threads);
    LV_TRY(lv_cli_precision(o.precision));

    lv_llada_dir d;
    lv_diffusion_params p;
    int32_t *ids = NULL, *resp = NULL, *cstep = NULL;
    float *pe = NULL, *logits0 = NULL;
    int n_ids = 0, n_rows = 0;
    lv_gen_image im = {0};
    lv_status s = lv_llada_dir_open(&d, o.model);
    if (s == LV_OK) s = lv_gen_opts_params(&o, &d, &p);
    if (s == LV_OK && image) s = lv_gen_image_encode(&im, &d, image);
    if (s == LV_OK)
        s = lv_gen_prompt(&d, o.prompt, o.raw, image ? &im : NULL, p.gen_length, &ids, &n_ids, &pe, &n_rows);
    if (s == LV_OK) {
        resp = malloc((size_t)p.gen_length * sizeof *resp);
        cstep = malloc((size_t)p.gen_length * sizeof *cstep);
        logits0 = malloc((size_t)p.gen_length * (size_t)p.vocab * sizeof *logits0);
        if (!resp || !cstep || !logits0) s = lv_fail(LV_ERR_NOMEM, "dump: output buffers");
    }
    lv_diffusion_result r = {.ids = resp, .committed_step = cstep, .logits0 = logits0};
    if (s == LV_OK) s = lv_llada_dir_generate(&d, pe, n_rows, &p, &r);
    if (s == LV_OK) {
        char params[512], num[6][32];
        lv_diffusion_params_str(&p, params, sizeof params);
        snprintf(num[0], sizeof num[0], "%d", p.vocab);
        snprintf(num[1], sizeof num[1], "%d", (int)p.mask_id);
        snprintf(num[2], sizeof num[2], "%d", n_rows);
        snprintf(num[3], sizeof num[3], "%d", r.n_passes);
        snprintf(num[4], sizeof num[4], "%llu", (unsigned long long)p.seed);
        snprintf(num[5], sizeof num[5], "%d", p.steps);
        const char *meta[] = {"producer", "lladav dump", "model", o.model, "prompt", o.prompt, "image", image ? image : "",
                              "params", params, "steps", num[5], "temperature", o.temperature,
                              "remasking", o.remasking, "cfg", o.cfg, "seed", num[4],
                              "v_eff", num[0], "mask_id", num[1], "prompt_length", num[2],
                              "n_passes", num[3]};
        const int nv = im.g.n_views, S = im.g.image_size;
        const lv_dump_item all[8] = {
            {"prompt_ids", LV_DTYPE_I32, 1, {n_ids}, ids},
            {"views", LV_DTYPE_F32, 4, {nv, 3, S, S}, im.views},
            {"vision", LV_DTYPE_F32, 3, {nv, im.P, im.Dv}, im.vision},
            {"projected", LV_DTYPE_F32, 3, {nv, im.P, im.D}, im.projected},
            {"image_embeds", LV_DTYPE_F32, 2, {im.g.n_tokens, im.D}, im.image_embeds},
            {"logits0", LV_DTYPE_F32, 2, {p.gen_length, p.vocab}, logits0},
            {"response_ids", LV_DTYPE_I32, 1, {r.n_ids}, resp},
            {"committed_step", LV_DTYPE_I32, 1, {p.gen_length}, cstep},
        };
        lv_dump_item items[8];
        int n_items = 0;
        for (int i = 0; i < 8; i++)
            if (image || (i < 1 || i > 4)) items[n_items++] = all[i];
        s = lv_dump_write(out_path, items, n_items, meta, (int)(sizeof meta / sizeof meta[0]) / 2);
    }
    free(ids);
    free(pe);
    free(resp);
    free(cstep);
    free(logits0);
    lv_gen_image_free(&im);
    lv_llada_dir_free(&d);
    return s;
}
