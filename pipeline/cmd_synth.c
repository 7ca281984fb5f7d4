/* cmd_synth.c - `lladav synth`: a random-weight checkpoint in the real Hugging Face layout.
 *
 *   preset or --config  ->  lv_config  ->  lv_config_visit_tensors (the one name table)
 *        -> shards model-0000K-of-0000N.safetensors (+ index) streamed tensor by tensor
 *        -> config.json written last, so a directory with a config is a complete checkpoint.
 *
 * Weights are uniform with a per-tensor standard deviation chosen so activations keep their
 * scale through the network (norm gains 1, biases small, projections ~ 1/sqrt(fan_in), the
 * residual branches' output projections scaled down by sqrt(2 * layers)). Generation streams in
 * 1 MiB chunks: the 8B preset never holds more than one chunk in memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"

typedef struct {
    const char *name, *about;
    int text_only, olmo;
    int D, F, L, H, V;             /* language model */
    int vD, vF, vL, vH, vS, vP;    /* vision tower: width, mlp, layers, heads, image, patch */
    const char *pinpoints;         /* string form, in units of the vision image size */
    const char *aspect;
} lv_preset;

/* Shapes of the published checkpoints (spec §1-2) and two small ones for tests/benchmarks. */
static const lv_preset lv_presets[] = {
    {"llada-v-8b", "LLaDA-V 8B shape (spec §1): SigLIP so400m 26 layers, anyres_max_4",
     0, 0, 4096, 12288, 32, 32, 126464, 1152, 4304, 26, 16, 384, 14, "(1x1),...,(6x6)", "anyres_max_4"},
    {"llada-8b", "original LLaDA-8B-Instruct shape, OLMo-style names, text only",
     1, 1, 4096, 12288, 32, 32, 126464, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"llada-v-1b", "a ~1.2B LLaDA-V-like model: 2048 wide, 12 layers, 8-layer SigLIP tower",
     0, 0, 2048, 5632, 12, 16, 126464, 1152, 4304, 8, 16, 384, 14, "(1x1),...,(6x6)", "anyres_max_4"},
    {"tiny", "a tiny LLaDA-V for tests: 64 wide, 2 layers, 56px views",
     0, 0, 64, 128, 2, 4, 512, 32, 64, 2, 2, 56, 14, "(1x1),...,(3x3)", "anyres_max_4"},
};
#define LV_N_PRESETS ((int)(sizeof lv_presets / sizeof lv_presets[0]))

/* with_mask_id: small vocabularies cannot hold the default mask id 126336, so a preset written
 * without a tokenizer names its last row as the mask; with a tokenizer, <|mdm_mask|> decides. */
static cJSON *lv_preset_json(const lv_preset *p, int with_mask_id)
{
    cJSON *j = cJSON_CreateObject();
    if (p->olmo) {
        cJSON_AddStringToObject(j, "model_type", "llada");
        cJSON_AddNumberToObject(j, "d_model", p->D);
        cJSON_AddNumberToObject(j, "n_heads", p->H);
        cJSON_AddNumberToObject(j, "n_kv_heads", p->H);
        cJSON_AddNumberToObject(j, "n_layers", p->L);
        cJSON_AddNumberToObject(j, "mlp_hidden_size", p->F);
        cJSON_AddNumberToObject(j, "embedding_size", p->V);
        cJSON_AddNumberToObject(j, "vocab_size", p->V);
        cJSON_AddStringToObject(j, "activation_type", "silu");
        cJSON_AddStringToObject(j, "block_type", "llama");
        cJSON_AddStringToObject(j, "layer_norm_type", "rms");
        cJSON_AddNumberToObject(j, "rms_norm_eps", 1e-5);
        cJSON_AddNumberToObject(j, "rope_theta", 500000.0);
        cJSON_AddBoolToObject(j, "weight_tying", 0);
        cJSON_AddBoolToObject(j, "include_bias", 0);
        cJSON_AddNumberToObject(j, "mask_token_id", 126336);
        return j;
    }
    cJSON_AddStringToObject(j, "model_type", "llava_llada");
    cJSON_AddNumberToObject(j, "hidden_size", p->D);
    cJSON_AddNumberToObject(j, "intermediate_size", p->F);
    cJSON_AddNumberToObject(j, "num_hidden_layers", p->L);
    cJSON_AddNumberToObject(j, "num_attention_heads", p->H);
    cJSON_AddNumberToObject(j, "num_key_value_heads", p->H);
    cJSON_AddNumberToObject(j, "rms_norm_eps", 1e-5);
    cJSON_AddNumberToObject(j, "rope_theta", 500000.0);
    cJSON_AddNullToObject(j, "rope_scaling");
    cJSON_AddNumberToObject(j, "vocab_size", p->V);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", 0);
    cJSON_AddStringToObject(j, "hidden_act", "silu");
    cJSON_AddStringToObject(j, "torch_dtype", "bfloat16");
    if (with_mask_id && p->V <= 126336) cJSON_AddNumberToObject(j, "mask_token_id", p->V - 1);
    if (p->text_only) return j;
    cJSON_AddNumberToObject(j, "mm_hidden_size", p->vD);
    cJSON_AddStringToObject(j, "mm_projector_type", "mlp2x_gelu");
    cJSON_AddStringToObject(j, "image_aspect_ratio", p->aspect);
    cJSON_AddStringToObject(j, "image_grid_pinpoints", p->pinpoints);
    cJSON_AddStringToObject(j, "mm_patch_merge_type", "spatial_unpad");
    cJSON_AddNumberToObject(j, "mm_vision_select_layer", -2);
    cJSON_AddStringToObject(j, "mm_vision_select_feature", "patch");
    cJSON *v = cJSON_AddObjectToObject(j, "vision_config");
    cJSON_AddNumberToObject(v, "hidden_size", p->vD);
    cJSON_AddNumberToObject(v, "intermediate_size", p->vF);
    cJSON_AddNumberToObject(v, "num_hidden_layers", p->vL);
    cJSON_AddNumberToObject(v, "num_attention_heads", p->vH);
    cJSON_AddNumberToObject(v, "image_size", p->vS);
    cJSON_AddNumberToObject(v, "patch_size", p->vP);
    cJSON_AddNumberToObject(v, "layer_norm_eps", 1e-6);
    cJSON_AddStringToObject(v, "hidden_act", "gelu_pytorch_tanh");
    return j;
}

/* ---- deterministic weights ------------------------------------------------------------ */

static uint64_t lv_splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Distribution of one tensor: value = mean + std * sqrt(3) * u, u uniform in [-1, 1). */
static void lv_synth_dist(const lv_config *c, lv_wkind k, const int64_t *shape, int ndim,
                          double *mean, double *std)
{
    int64_t fan_in = ndim >= 2 ? shape[ndim - 1] : 1;
    if (k == LV_WV_PATCH_W) fan_in = shape[1] * shape[2] * shape[3];
    double resid = sqrt(2.0 * (c->num_hidden_layers > 0 ? c->num_hidden_layers : 1));
    *mean = 0;
    switch (k) {
    case LV_W_FINAL_NORM: case LV_W_ATTN_NORM: case LV_W_FFN_NORM:
    case LV_WV_LN1_W: case LV_WV_LN2_W:
        *mean = 1.0; *std = 0.02; return;                     /* norm gains around 1 */
    case LV_WV_LN1_B: case LV_WV_LN2_B: case LV_WV_PATCH_B: case LV_WV_Q_B: case LV_WV_K_B:
    case LV_WV_V_B: case LV_WV_O_B: case LV_WV_FC1_B: case LV_WV_FC2_B: case LV_WP_0_B:
    case LV_WP_2_B:
        *std = 0.02; return;
    case LV_W_EMBED: *std = 1.0; return;                      /* RMSNorm follows */
    case LV_WV_POS: *std = 0.5; return;
    case LV_W_IMAGE_NEWLINE: *std = 1.0; return;
    case LV_W_O: case LV_W_DOWN: case LV_WV_O_W: case LV_WV_FC2_W:
        *std = 1.0 / sqrt((double)fan_in) / resid; return;   /* residual branch outputs */
    default:
        *std = 1.0 / sqrt((double)fan_in); return;
    }
}

typedef struct {
    const lv_config *cfg;
    lv_dtype dtype;
    uint64_t seed;
    int n_shards, n_tensors;
    int64_t total_bytes, shard_target;
    /* pass 1: count and size; pass 2: declare into the writer of the current shard */
    int pass, shard, idx;
    int64_t shard_bytes;
    int *shard_of;                  /* [n_tensors] */
    lv_st_writer *w;
    const char *dir;
    cJSON *weight_map;
    char shard_name[64];
} lv_synth;

static void lv_shard_name(char *buf, size_t n, int k, int of)
{
    if (of == 1) snprintf(buf, n, "model.safetensors");
    else snprintf(buf, n, "model-%05d-of-%05d.safetensors", k + 1, of);
}

static lv_status lv_synth_count(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                                const int64_t *shape)
{
    (void)kind; (void)layer; (void)name;
    lv_synth *s = ctx;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    s->total_bytes += n * (int64_t)lv_dtype_size(s->dtype);
    s->n_tensors++;
    return LV_OK;
}

static lv_status lv_synth_assign(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                                 const int64_t *shape)
{
    (void)kind; (void)layer; (void)name;
    lv_synth *s = ctx;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    int64_t bytes = n * (int64_t)lv_dtype_size(s->dtype);
    if (s->shard_bytes > 0 && s->shard_bytes + bytes > s->shard_target && s->shard < s->n_shards - 1) {
        s->shard++;
        s->shard_bytes = 0;
    }
    s->shard_of[s->idx++] = s->shard;
    s->shard_bytes += bytes;
    return LV_OK;
}

static lv_status lv_synth_declare(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                                  const int64_t *shape)
{
    (void)kind; (void)layer;
    lv_synth *s = ctx;
    if (s->shard_of[s->idx++] != s->shard) return LV_OK;
    if (s->weight_map) cJSON_AddStringToObject(s->weight_map, name, s->shard_name);
    return lv_st_writer_add(s->w, name, s->dtype, ndim, shape);
}

static lv_status lv_synth_fill(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                               const int64_t *shape)
{
    lv_synth *s = ctx;
    int tensor = s->idx++;
    if (s->shard_of[tensor] != s->shard) return LV_OK;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double mean, std;
    lv_synth_dist(s->cfg, kind, shape, ndim, &mean, &std);
    double a = std * sqrt(3.0);
    /* Stream of this tensor: hash of its name, so values do not depend on shard layout. */
    uint64_t stream = s->seed * 0x100000001B3ull;
    for (const char *p = name; *p; p++) stream = (stream ^ (uint8_t)*p) * 0x100000001B3ull;
    (void)layer;
    enum { CHUNK = 1 << 18 };
    static float buf32[CHUNK];
    static uint16_t buf16[CHUNK];
    for (int64_t off = 0; off < n; off += CHUNK) {
        int m = (int)(n - off < CHUNK ? n - off : CHUNK);
        for (int i = 0; i < m; i++) {
            uint64_t r = lv_splitmix64(stream ^ lv_splitmix64((uint64_t)(off + i)));
            double u = (double)(r >> 11) * (2.0 / 9007199254740992.0) - 1.0;   /* [-1, 1) */
            buf32[i] = (float)(mean + a * u);
        }
        const void *src = buf32;
        size_t bytes = (size_t)m * 4;
        if (s->dtype == LV_DTYPE_BF16 || s->dtype == LV_DTYPE_F16) {
            for (int i = 0; i < m; i++)
                buf16[i] = s->dtype == LV_DTYPE_BF16 ? lv_f32_to_bf16(buf32[i]) : lv_f32_to_f16(buf32[i]);
            src = buf16;
            bytes = (size_t)m * 2;
        }
        LV_TRY(lv_st_writer_write(s->w, src, bytes));
    }
    return LV_OK;
}

static lv_status lv_write_json(const char *path, cJSON *j)
{
    char *text = cJSON_Print(j);
    if (!text) return lv_fail(LV_ERR_NOMEM, "%s: cannot render JSON", path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    size_t n = strlen(text);
    int ok = f && fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return lv_fail(LV_ERR_IO, "%s: cannot write file", path);
    }
    return LV_OK;
}

static lv_status lv_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return lv_fail(LV_ERR_IO, "%s: cannot open file", from);
    FILE *out = fopen(to, "wb");
    if (!out) { fclose(in); return lv_fail(LV_ERR_IO, "%s: cannot create file", to); }
    char buf[65536];
    size_t n;
    int ok = 1;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) { ok = 0; break; }
    if (ferror(in)) ok = 0;
    fclose(in);
    if (fclose(out) != 0) ok = 0;
    return ok ? LV_OK : lv_fail(LV_ERR_IO, "%s: cannot copy to %s", from, to);
}

static lv_status lv_synth_run(lv_synth *s, cJSON *config_json, const char *tokenizer)
{
    char path[4096];
    LV_TRY(lv_config_visit_tensors(s->cfg, lv_synth_count, s));
    if (s->n_shards > s->n_tensors) s->n_shards = s->n_tensors;
    s->shard_target = (s->total_bytes + s->n_shards - 1) / s->n_shards;
    s->shard_of = calloc((size_t)s->n_tensors, sizeof *s->shard_of);
    if (!s->shard_of) return lv_fail(LV_ERR_NOMEM, "synth: out of memory");
    s->idx = 0;
    LV_TRY(lv_config_visit_tensors(s->cfg, lv_synth_assign, s));
    s->n_shards = s->shard + 1;
    cJSON *index = NULL;
    if (s->n_shards > 1) {
        index = cJSON_CreateObject();
        cJSON *meta = cJSON_AddObjectToObject(index, "metadata");
        cJSON_AddNumberToObject(meta, "total_size", (double)s->total_bytes);
        s->weight_map = cJSON_AddObjectToObject(index, "weight_map");
    }
    lv_status st = LV_OK;
    for (int k = 0; k < s->n_shards && st == LV_OK; k++) {
        s->shard = k;
        lv_shard_name(s->shard_name, sizeof s->shard_name, k, s->n_shards);
        snprintf(path, sizeof path, "%s/%s", s->dir, s->shard_name);
        st = lv_st_writer_init(&s->w);
        if (st == LV_OK) st = lv_st_writer_set_metadata(s->w, "format", "pt");
        s->idx = 0;
        if (st == LV_OK) st = lv_config_visit_tensors(s->cfg, lv_synth_declare, s);
        if (st == LV_OK) st = lv_st_writer_begin(s->w, path);
        s->idx = 0;
        if (st == LV_OK) st = lv_config_visit_tensors(s->cfg, lv_synth_fill, s);
        if (st == LV_OK) st = lv_st_writer_finish(s->w);
        lv_st_writer_free(s->w);
        s->w = NULL;
        fprintf(stderr, "\rsynth: wrote %s", path);
    }
    fprintf(stderr, "\n");
    if (st == LV_OK && index) {
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", s->dir);
        st = lv_write_json(path, index);
    }
    cJSON_Delete(index);
    if (st == LV_OK && tokenizer) {
        snprintf(path, sizeof path, "%s/tokenizer.json", s->dir);
        st = lv_copy_file(tokenizer, path);
    }
    if (st == LV_OK) {
        snprintf(path, sizeof path, "%s/config.json", s->dir);
        st = lv_write_json(path, config_json);
    }
    free(s->shard_of);
    return st;
}

lv_status lv_cmd_synth(int argc, char **argv)
{
    const char *preset = NULL, *config = NULL, *dtype = "bf16", *out = NULL, *tokenizer = NULL;
    int shards = 1;
    uint64_t seed = 0;
    const lv_opt opts[] = {
        {"--preset", NULL, LV_OPT_STR, &preset, "NAME", "llada-v-8b | llada-8b | llada-v-1b | tiny"},
        {"--config", NULL, LV_OPT_STR, &config, "FILE", "a config.json to follow instead of a preset"},
        {"--dtype", NULL, LV_OPT_STR, &dtype, "T", "bf16 | f16 | f32 (default bf16)"},
        {"--shards", NULL, LV_OPT_INT, &shards, "N", "number of safetensors shards (default 1)"},
        {"--seed", NULL, LV_OPT_U64, &seed, "S", "random seed (default 0)"},
        {"--tokenizer", NULL, LV_OPT_STR, &tokenizer, "FILE", "tokenizer.json to copy into the model"},
        {"--out", "-o", LV_OPT_STR, &out, "DIR", "output directory (created; must not hold a config.json)"},
    };
    int nopt = (int)(sizeof opts / sizeof opts[0]), npos, help;
    const char *pos[1];
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt, pos, 0, &npos, &help));
    if (help) {
        lv_cli_usage("synth", "(--preset NAME | --config FILE) --out DIR [options]",
                     "Write a random-weight checkpoint in the real Hugging Face layout.", opts, nopt);
        printf("\nPresets:\n");
        for (int i = 0; i < LV_N_PRESETS; i++)
            printf("  %-12s %s\n", lv_presets[i].name, lv_presets[i].about);
        return LV_OK;
    }
    if (!out) return lv_fail(LV_ERR_ARG, "synth: --out DIR is required");
    if (!preset == !config) return lv_fail(LV_ERR_ARG, "synth: give exactly one of --preset or --config");
    if (shards < 1 || shards > 9999) return lv_fail(LV_ERR_ARG, "synth: --shards must be in 1..9999, got %d", shards);
    lv_dtype dt;
    if (!strcmp(dtype, "bf16")) dt = LV_DTYPE_BF16;
    else if (!strcmp(dtype, "f16")) dt = LV_DTYPE_F16;
    else if (!strcmp(dtype, "f32")) dt = LV_DTYPE_F32;
    else return lv_fail(LV_ERR_ARG, "synth: --dtype must be bf16, f16 or f32, got '%s'", dtype);

    cJSON *cj = NULL;
    if (preset) {
        for (int i = 0; i < LV_N_PRESETS && !cj; i++)
            if (!strcmp(lv_presets[i].name, preset)) cj = lv_preset_json(&lv_presets[i], tokenizer == NULL);
        if (!cj) return lv_fail(LV_ERR_ARG, "synth: unknown preset '%s' (see lladav synth --help)", preset);
    } else {
        char *text = NULL;
        size_t len = 0;
        LV_TRY(lv_read_text_file(config, 16u << 20, &text, &len));
        cj = cJSON_ParseWithLength(text, len);
        free(text);
        if (!cj) return lv_fail(LV_ERR_FORMAT, "%s: not valid JSON", config);
    }
    char *text = cJSON_PrintUnformatted(cj);
    lv_config cfg;
    lv_status st = text ? lv_config_parse(&cfg, text, strlen(text), preset ? preset : config)
                        : lv_fail(LV_ERR_NOMEM, "synth: out of memory");
    free(text);
    if (st == LV_OK && cfg.has_vision && cfg.v_num_hidden_layers <= 0)
        st = lv_fail(LV_ERR_CONFIG, "%s: vision_config.num_hidden_layers is needed to synthesize the tower",
                     preset ? preset : config);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", out);
    struct stat sb;
    if (st == LV_OK && mkdir(out, 0777) != 0 && (stat(out, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        st = lv_fail(LV_ERR_IO, "%s: cannot create directory", out);
    if (st == LV_OK && stat(path, &sb) == 0)
        st = lv_fail(LV_ERR_ARG, "%s: already holds a checkpoint (config.json); choose an empty directory", out);
    if (st == LV_OK) {
        lv_synth s = {.cfg = &cfg, .dtype = dt, .seed = seed, .n_shards = shards, .dir = out};
        st = lv_synth_run(&s, cj, tokenizer);
        char sz[32];
        if (st == LV_OK)
            fprintf(stderr, "synth: %s: %d tensors, %s of %s in %d file(s)\n", out, s.n_tensors,
                    lv_cli_bytes(sz, sizeof sz, (double)s.total_bytes), lv_dtype_name(dt), s.n_shards);
    }
    cJSON_Delete(cj);
    return st;
}
