/* test_config.c - config.json parsing (LLaDA-V and LLaDA-8B keys), the tensor-name table,
 * the weight checker and the parameter counts (spec §1-2, interfaces.md §1).
 *
 * Weight-check cases build a checkpoint from the config's own tensor list with the writer,
 * then drop, reshape, retype or add tensors; malformed configs are a base config with one
 * key overridden (cJSON returns the first of duplicate keys, so the override is prepended).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "testutil.h"

/* tiny LLaDA-V (LLaVA keys), the shape of tests/fixtures/models/tiny-f32 */
#define BASE_LLAMA                                                                           \
    "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2,"           \
    " \"num_attention_heads\": 4, \"num_key_value_heads\": 4, \"rms_norm_eps\": 1e-05,"    \
    " \"rope_theta\": 10000.0, \"rope_scaling\": null, \"vocab_size\": 416,"                \
    " \"tie_word_embeddings\": false, \"hidden_act\": \"silu\", \"attention_bias\": false," \
    " \"mm_hidden_size\": 32, \"mm_projector_type\": \"mlp2x_gelu\","                      \
    " \"image_aspect_ratio\": \"anyres_max_4\", \"image_grid_pinpoints\": \"(1x1),...,(3x3)\"," \
    " \"mm_patch_merge_type\": \"spatial_unpad\", \"vision_config\": {\"hidden_size\": 32,"  \
    " \"intermediate_size\": 64, \"num_attention_heads\": 2, \"image_size\": 56,"          \
    " \"patch_size\": 14}}"

/* tiny original LLaDA (OLMo keys), text only */
#define BASE_OLMO                                                                            \
    "\"d_model\": 64, \"n_heads\": 4, \"n_kv_heads\": 4, \"n_layers\": 2,"                  \
    " \"mlp_hidden_size\": 128, \"embedding_size\": 416, \"vocab_size\": 400,"              \
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"weight_tying\": false,"          \
    " \"mask_token_id\": 389, \"activation_type\": \"silu\", \"include_bias\": false}"

/* the published GSAI-ML/LLaDA-V config.json keys (spec §1, §2.3) */
#define LLADA_V_8B                                                                           \
    "{\"hidden_size\": 4096, \"intermediate_size\": 12288, \"num_hidden_layers\": 32,"     \
    " \"num_attention_heads\": 32, \"num_key_value_heads\": 32, \"rms_norm_eps\": 1e-05,"  \
    " \"rope_theta\": 500000.0, \"rope_scaling\": null, \"vocab_size\": 126464,"            \
    " \"tie_word_embeddings\": false, \"bos_token_id\": 128000,"                             \
    " \"mm_vision_tower\": \"model/siglip2-so400m-patch14-384\", \"mm_hidden_size\": 1152," \
    " \"mm_projector_type\": \"mlp2x_gelu\", \"mm_vision_select_layer\": -2,"               \
    " \"image_aspect_ratio\": \"anyres_max_4\","                                             \
    " \"image_grid_pinpoints\": \"(1x1),...,(6x6)\", \"mm_patch_merge_type\": \"spatial_unpad\"}"

static void parse_ok(lv_config *c, const char *json)
{
    lv_status s = lv_config_parse(c, json, strlen(json), "config.json");
    ck_assert_msg(s == LV_OK, "%s", lv_last_error());
}

/* "{" + override + "," + base body */
static char *with_override(const char *override, const char *base_body)
{
    size_t n = strlen(override) + strlen(base_body) + 4;
    char *s = malloc(n);
    ck_assert_ptr_nonnull(s);
    snprintf(s, n, "{%s, %s", override, base_body);
    return s;
}

/* ---- fixtures and presets --------------------------------------------------------------- */

START_TEST(test_fixture_configs)
{
    lv_config a, b, o;
    ck_assert_int_eq(lv_config_load(&a, lv_test_path("tests/fixtures/models/tiny-f32/config.json")),
                     LV_OK);
    ck_assert_int_eq(a.scheme, LV_SCHEME_LLAMA);
    ck_assert_int_eq(a.hidden_size, 64);
    ck_assert_int_eq(a.intermediate_size, 128);
    ck_assert_int_eq(a.num_hidden_layers, 2);
    ck_assert_int_eq(a.num_attention_heads, 4);
    ck_assert_int_eq(a.head_dim, 16);
    ck_assert_int_eq(a.vocab_size, 416);
    ck_assert(a.rms_norm_eps == 1e-5f && a.rope_theta == 10000.0);
    ck_assert_int_eq(a.mask_token_id, -1);
    ck_assert_int_eq(a.has_vision, 1);
    ck_assert_int_eq(a.mm_hidden_size, 32);
    ck_assert_str_eq(a.mm_projector_type, "mlp2x_gelu");
    ck_assert_int_eq(a.aspect, LV_ASPECT_ANYRES);
    ck_assert_int_eq(a.anyres_max, 4);
    ck_assert_int_eq(a.merge, LV_MERGE_SPATIAL_UNPAD);
    ck_assert_int_eq(a.v_hidden_size, 32);
    ck_assert_int_eq(a.v_num_hidden_layers, 2);
    ck_assert_int_eq(a.v_image_size, 56);
    ck_assert_int_eq(a.v_patch_size, 14);
    ck_assert(a.v_layer_norm_eps == 1e-6f);
    ck_assert_str_eq(a.v_hidden_act, "gelu_pytorch_tanh");
    /* the string form expands exactly like the list form written by the reference */
    ck_assert_int_eq(
        lv_config_load(&b, lv_test_path("tests/fixtures/models/tiny-bf16-sharded/config.json")),
        LV_OK);
    ck_assert_int_eq(b.mask_token_id, 389);
    ck_assert_int_eq(a.n_pinpoints, 9);
    ck_assert_int_eq(b.n_pinpoints, 9);
    ck_assert_int_eq(memcmp(a.pinpoints, b.pinpoints, sizeof a.pinpoints[0] * 9), 0);
    ck_assert(a.pinpoints[1][0] == 56 && a.pinpoints[1][1] == 112);
    ck_assert_int_eq(lv_config_load(&o, lv_test_path("tests/fixtures/models/tiny-olmo/config.json")),
                     LV_OK);
    ck_assert_int_eq(o.scheme, LV_SCHEME_OLMO);
    ck_assert_int_eq(o.has_vision, 0);
    ck_assert_int_eq(o.vocab_size, 416);
    ck_assert(o.rope_theta == 500000.0);

    const char *dirs[3] = {"tests/fixtures/models/tiny-f32", "tests/fixtures/models/tiny-bf16-sharded",
                           "tests/fixtures/models/tiny-olmo"};
    lv_config *cs[3] = {&a, &b, &o};
    for (int i = 0; i < 3; i++) {
        lv_weights *w = NULL;
        ck_assert_int_eq(lv_weights_open(&w, lv_test_path(dirs[i])), LV_OK);
        ck_assert_msg(lv_config_check_weights(cs[i], w) == LV_OK, "%s", lv_last_error());
        lv_weights_free(w);
    }
    ck_assert_int_eq(a.v_num_hidden_layers, 2);
}
END_TEST

START_TEST(test_llada_v_preset)
{
    lv_config c;
    parse_ok(&c, LLADA_V_8B);
    ck_assert_int_eq(c.head_dim, 128);
    ck_assert_int_eq(c.mask_token_id, -1);
    /* no vision_config: SigLIP so400m-patch14-384 */
    ck_assert_int_eq(c.v_hidden_size, 1152);
    ck_assert_int_eq(c.v_intermediate_size, 4304);
    ck_assert_int_eq(c.v_num_attention_heads, 16);
    ck_assert_int_eq(c.v_image_size, 384);
    ck_assert_int_eq(c.v_patch_size, 14);
    ck_assert_int_eq(c.v_num_hidden_layers, 0);
    ck_assert(c.v_layer_norm_eps == 1e-6f);
    /* "(1x1),...,(6x6)": [i*384, j*384], i outer, j inner (spec §1.3) */
    ck_assert_int_eq(c.n_pinpoints, 36);
    ck_assert(c.pinpoints[0][0] == 384 && c.pinpoints[0][1] == 384);
    ck_assert(c.pinpoints[1][0] == 384 && c.pinpoints[1][1] == 768);
    ck_assert(c.pinpoints[6][0] == 768 && c.pinpoints[6][1] == 384);
    ck_assert(c.pinpoints[35][0] == 2304 && c.pinpoints[35][1] == 2304);
    /* spec §2.4: 26 vision layers, post-LN counted in vision, newline in projector */
    c.v_num_hidden_layers = 26;
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_LLM), 8015581184LL);
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_VISION), 397747744LL);
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_PROJECTOR), 21504000LL + 4096);
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_LLM) +
                         lv_config_param_count(&c, LV_PART_VISION) +
                         lv_config_param_count(&c, LV_PART_PROJECTOR),
                     8434837024LL);
    int64_t s[LV_ST_MAX_DIMS];
    ck_assert_int_eq(lv_tensor_shape(s, &c, LV_WV_POS), 2);
    ck_assert(s[0] == 729 && s[1] == 1152);
    ck_assert_int_eq(lv_tensor_shape(s, &c, LV_WV_PATCH_W), 4);
    ck_assert(s[0] == 1152 && s[1] == 3 && s[2] == 14 && s[3] == 14);
    ck_assert_int_eq(lv_tensor_shape(s, &c, LV_WP_0_W), 2);
    ck_assert(s[0] == 4096 && s[1] == 1152);
    ck_assert_int_eq(lv_tensor_shape(s, &c, LV_W_EMBED), 2);
    ck_assert(s[0] == 126464 && s[1] == 4096);
    ck_assert_int_eq(lv_tensor_shape(s, &c, LV_W_DOWN), 2);
    ck_assert(s[0] == 4096 && s[1] == 12288);
}
END_TEST

START_TEST(test_olmo_preset)
{
    const char *j = "{\"d_model\": 4096, \"n_heads\": 32, \"n_kv_heads\": 32, \"n_layers\": 32,"
                    " \"mlp_hidden_size\": 12288, \"embedding_size\": 126464, \"vocab_size\": 126464,"
                    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"weight_tying\": false,"
                    " \"mask_token_id\": 126336, \"activation_type\": \"silu\"}";
    lv_config c;
    parse_ok(&c, j);
    ck_assert_int_eq(c.scheme, LV_SCHEME_OLMO);
    ck_assert_int_eq(c.has_vision, 0);
    ck_assert_int_eq(c.mask_token_id, 126336);
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_LLM), 8015581184LL);
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_VISION), 0);
    ck_assert_int_eq(lv_config_param_count(&c, LV_PART_PROJECTOR), 0);
}
END_TEST

START_TEST(test_optional_keys)
{
    lv_config c;
    /* OLMo: n_kv_heads null = n_heads, mlp_ratio instead of mlp_hidden_size, vocab_size
     * when there is no embedding_size, defaults for eps and theta */
    parse_ok(&c, "{\"d_model\": 64, \"n_heads\": 4, \"n_kv_heads\": null, \"n_layers\": 1,"
                 " \"mlp_ratio\": 4, \"vocab_size\": 300}");
    ck_assert_int_eq(c.num_key_value_heads, 4);
    ck_assert_int_eq(c.intermediate_size, 256);
    ck_assert_int_eq(c.vocab_size, 300);
    ck_assert(c.rms_norm_eps == 1e-5f && c.rope_theta == 10000.0);
    ck_assert_int_eq(c.tie_word_embeddings, 0);
    /* LLaMA keys without multimodal keys: text only */
    parse_ok(&c, "{\"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 3,"
                 " \"num_attention_heads\": 2, \"vocab_size\": 100, \"tie_word_embeddings\": true}");
    ck_assert_int_eq(c.has_vision, 0);
    ck_assert_int_eq(c.tie_word_embeddings, 1);
    ck_assert_int_eq(c.num_key_value_heads, 2);
    /* aspect and merge defaults, "pad", plain "anyres", pinpoint string with spaces */
    char *j = with_override("\"image_aspect_ratio\": null, \"mm_patch_merge_type\": null",
                            BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    ck_assert_int_eq(c.aspect, LV_ASPECT_SQUARE);
    ck_assert_int_eq(c.merge, LV_MERGE_FLAT);
    j = with_override("\"image_aspect_ratio\": \"pad\", \"mm_patch_merge_type\": \"flat\"",
                      BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    ck_assert_int_eq(c.aspect, LV_ASPECT_PAD);
    j = with_override("\"image_aspect_ratio\": \"anyres\", \"image_grid_pinpoints\": "
                      "\"(1x1), ..., (2x3)\"", BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    ck_assert_int_eq(c.aspect, LV_ASPECT_ANYRES);
    ck_assert_int_eq(c.anyres_max, 0);
    ck_assert_int_eq(c.n_pinpoints, 6);
    static const int want[6][2] = {{56, 56}, {56, 112}, {56, 168}, {112, 56}, {112, 112},
                                   {112, 168}};
    ck_assert_int_eq(memcmp(c.pinpoints, want, sizeof want), 0);
    j = with_override("\"image_grid_pinpoints\": [[384, 768], [768, 384]]", BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    ck_assert_int_eq(c.n_pinpoints, 2);
    ck_assert(c.pinpoints[0][0] == 384 && c.pinpoints[0][1] == 768 && c.pinpoints[1][0] == 768);
}
END_TEST

/* ---- tensor names ----------------------------------------------------------------------- */

START_TEST(test_tensor_names)
{
    static const struct {
        lv_name_scheme scheme;
        lv_wkind kind;
        int layer;
        const char *name;
    } cases[] = {
        {LV_SCHEME_LLAMA, LV_W_EMBED, -1, "model.embed_tokens.weight"},
        {LV_SCHEME_LLAMA, LV_W_LM_HEAD, -1, "lm_head.weight"},
        {LV_SCHEME_LLAMA, LV_W_FINAL_NORM, -1, "model.norm.weight"},
        {LV_SCHEME_LLAMA, LV_W_ATTN_NORM, 0, "model.layers.0.input_layernorm.weight"},
        {LV_SCHEME_LLAMA, LV_W_O, 31, "model.layers.31.self_attn.o_proj.weight"},
        {LV_SCHEME_LLAMA, LV_W_FFN_NORM, 7, "model.layers.7.post_attention_layernorm.weight"},
        {LV_SCHEME_LLAMA, LV_W_GATE, 3, "model.layers.3.mlp.gate_proj.weight"},
        {LV_SCHEME_LLAMA, LV_W_DOWN, 3, "model.layers.3.mlp.down_proj.weight"},
        {LV_SCHEME_OLMO, LV_W_EMBED, -1, "model.transformer.wte.weight"},
        {LV_SCHEME_OLMO, LV_W_LM_HEAD, -1, "model.transformer.ff_out.weight"},
        {LV_SCHEME_OLMO, LV_W_FINAL_NORM, -1, "model.transformer.ln_f.weight"},
        {LV_SCHEME_OLMO, LV_W_ATTN_NORM, 5, "model.transformer.blocks.5.attn_norm.weight"},
        {LV_SCHEME_OLMO, LV_W_Q, 5, "model.transformer.blocks.5.q_proj.weight"},
        {LV_SCHEME_OLMO, LV_W_O, 5, "model.transformer.blocks.5.attn_out.weight"},
        {LV_SCHEME_OLMO, LV_W_FFN_NORM, 5, "model.transformer.blocks.5.ff_norm.weight"},
        {LV_SCHEME_OLMO, LV_W_GATE, 5, "model.transformer.blocks.5.ff_proj.weight"},
        {LV_SCHEME_OLMO, LV_W_UP, 5, "model.transformer.blocks.5.up_proj.weight"},
        {LV_SCHEME_OLMO, LV_W_DOWN, 5, "model.transformer.blocks.5.ff_out.weight"},
        {LV_SCHEME_OLMO, LV_WV_PATCH_W, -1,
         "model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"},
        {LV_SCHEME_LLAMA, LV_WV_POS, -1,
         "model.vision_tower.vision_tower.vision_model.embeddings.position_embedding.weight"},
        {LV_SCHEME_LLAMA, LV_WV_O_B, 25,
         "model.vision_tower.vision_tower.vision_model.encoder.layers.25.self_attn.out_proj.bias"},
        {LV_SCHEME_LLAMA, LV_WV_FC1_W, 0,
         "model.vision_tower.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight"},
        {LV_SCHEME_LLAMA, LV_WV_LN2_B, 1,
         "model.vision_tower.vision_tower.vision_model.encoder.layers.1.layer_norm2.bias"},
        {LV_SCHEME_LLAMA, LV_WP_0_W, -1, "model.mm_projector.0.weight"},
        {LV_SCHEME_LLAMA, LV_WP_2_B, -1, "model.mm_projector.2.bias"},
        {LV_SCHEME_OLMO, LV_W_IMAGE_NEWLINE, -1, "model.image_newline"},
    };
    lv_config c;
    memset(&c, 0, sizeof c);
    char buf[256];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        c.scheme = cases[i].scheme;
        ck_assert_str_eq(lv_tensor_name(buf, sizeof buf, &c, cases[i].kind, cases[i].layer),
                         cases[i].name);
    }
    ck_assert_int_eq(lv_wkind_part(LV_W_DOWN), LV_PART_LLM);
    ck_assert_int_eq(lv_wkind_part(LV_WV_PATCH_W), LV_PART_VISION);
    ck_assert_int_eq(lv_wkind_part(LV_WV_FC2_B), LV_PART_VISION);
    ck_assert_int_eq(lv_wkind_part(LV_WP_0_W), LV_PART_PROJECTOR);
    ck_assert_int_eq(lv_wkind_part(LV_W_IMAGE_NEWLINE), LV_PART_PROJECTOR);
    ck_assert(lv_wkind_per_layer(LV_W_Q) && lv_wkind_per_layer(LV_WV_LN1_W));
    ck_assert(!lv_wkind_per_layer(LV_W_EMBED) && !lv_wkind_per_layer(LV_WV_POS) &&
              !lv_wkind_per_layer(LV_WP_2_W));
}
END_TEST

typedef struct {
    int n, heads, lm_head;
} count_ctx;

static lv_status count_visit(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                             const int64_t *shape)
{
    count_ctx *x = ctx;
    (void)layer, (void)ndim, (void)shape, (void)name;
    x->n++;
    if (kind == LV_W_LM_HEAD) x->lm_head++;
    return LV_OK;
}

static lv_status stop_visit(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                            const int64_t *shape)
{
    (void)layer, (void)ndim, (void)shape, (void)name;
    (*(int *)ctx)++;
    return kind == LV_W_Q ? lv_fail(LV_ERR_INTERNAL, "stop") : LV_OK;
}

START_TEST(test_visit)
{
    lv_config c;
    char *j = with_override("\"vision_config\": {\"hidden_size\": 32, \"intermediate_size\": 64,"
                            " \"num_attention_heads\": 2, \"image_size\": 56, \"patch_size\": 14,"
                            " \"num_hidden_layers\": 3}", BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    count_ctx x = {0};
    ck_assert_int_eq(lv_config_visit_tensors(&c, count_visit, &x), LV_OK);
    /* embed + 2 x 9 + norm + head, vision 3 + 3 x 16, projector 4 + newline */
    ck_assert_int_eq(x.n, 1 + 18 + 2 + 3 + 48 + 5);
    ck_assert_int_eq(x.lm_head, 1);
    c.tie_word_embeddings = 1;
    memset(&x, 0, sizeof x);
    ck_assert_int_eq(lv_config_visit_tensors(&c, count_visit, &x), LV_OK);
    ck_assert_int_eq(x.lm_head, 0);
    int seen = 0;
    ck_assert_int_eq(lv_config_visit_tensors(&c, stop_visit, &seen), LV_ERR_INTERNAL);
    ck_assert_int_eq(seen, 3); /* embed, attn_norm, q */
}
END_TEST

/* ---- weight checks against checkpoints written here -------------------------------------- */

typedef struct {
    lv_st_writer *w;
    const char *skip;       /* tensor left out */
    const char *reshape;    /* tensor whose first dim grows by one */
    const char *retype;     /* tensor written as I32 */
    lv_dtype dtype;         /* dtype of the rest */
    lv_config rename_as;    /* names taken from this config's scheme */
} build_ctx;

static lv_status declare_visit(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                               const int64_t *shape)
{
    build_ctx *b = ctx;
    char buf[256];
    name = lv_tensor_name(buf, sizeof buf, &b->rename_as, kind, layer);
    if (b->skip && strcmp(name, b->skip) == 0) return LV_OK;
    int64_t s[LV_ST_MAX_DIMS];
    memcpy(s, shape, (size_t)ndim * sizeof *s);
    if (b->reshape && strcmp(name, b->reshape) == 0) s[0]++;
    lv_dtype dt = b->retype && strcmp(name, b->retype) == 0 ? LV_DTYPE_I32 : b->dtype;
    return lv_st_writer_add(b->w, name, dt, ndim, s);
}

/* Write c's tensors (zeros) plus extra 1-element F32 tensors to dir/model.safetensors. */
static const char *build_weights(const char *sub, const lv_config *c, build_ctx b,
                                 const char *const *extra)
{
    const char *dir = lv_test_join(lv_test_tmpdir(), sub);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(lv_st_writer_init(&b.w), LV_OK);
    if (b.rename_as.hidden_size == 0) b.rename_as = *c;
    ck_assert_int_eq(lv_config_visit_tensors(c, declare_visit, &b), LV_OK);
    int64_t one = 1;
    int n_extra = 0;
    for (; extra && extra[n_extra]; n_extra++)
        ck_assert_int_eq(lv_st_writer_add(b.w, extra[n_extra], LV_DTYPE_F32, 1, &one), LV_OK);
    ck_assert_int_eq(lv_st_writer_begin(b.w, lv_test_join(dir, "model.safetensors")), LV_OK);
    static const unsigned char zeros[4096];
    for (size_t left = lv_st_writer_data_bytes(b.w); left;) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        ck_assert_int_eq(lv_st_writer_write(b.w, zeros, n), LV_OK);
        left -= n;
    }
    ck_assert_int_eq(lv_st_writer_finish(b.w), LV_OK);
    lv_st_writer_free(b.w);
    return dir;
}

static lv_status check_dir(lv_config *c, const char *dir)
{
    lv_weights *w = NULL;
    ck_assert_int_eq(lv_weights_open(&w, dir), LV_OK);
    lv_status s = lv_config_check_weights(c, w);
    lv_weights_free(w);
    return s;
}

#define VT "model.vision_tower.vision_tower.vision_model."

START_TEST(test_check_weights_counts_vision_layers)
{
    lv_config c, gen;
    char *j = with_override("\"vision_config\": {\"hidden_size\": 32, \"intermediate_size\": 64,"
                            " \"num_attention_heads\": 2, \"image_size\": 56, \"patch_size\": 14}",
                            BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    ck_assert_int_eq(c.v_num_hidden_layers, 0);
    gen = c;
    gen.v_num_hidden_layers = 3;
    /* what the reference drops or never runs is ignored: post-LN, head, a stray layer 5 */
    static const char *const extra[] = {VT "post_layernorm.weight", VT "post_layernorm.bias",
                                        VT "head.probe", VT "encoder.layers.5.layer_norm1.weight",
                                        NULL};
    build_ctx b = {.dtype = LV_DTYPE_BF16};
    const char *dir = build_weights("vision3", &gen, b, extra);
    ck_assert_msg(check_dir(&c, dir) == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(c.v_num_hidden_layers, 3);
    /* an explicit vision_config.num_hidden_layers must be present in full */
    j = with_override("\"vision_config\": {\"hidden_size\": 32, \"intermediate_size\": 64,"
                      " \"num_attention_heads\": 2, \"image_size\": 56, \"patch_size\": 14,"
                      " \"num_hidden_layers\": 4}", BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    ck_assert_int_eq(check_dir(&c, dir), LV_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(),
                                 "missing tensor '" VT "encoder.layers.3.layer_norm1.weight'"));
    /* multimodal keys but a text-only checkpoint */
    lv_config text = c;
    text.has_vision = 0;
    dir = build_weights("textonly", &text, b, NULL);
    c.v_num_hidden_layers = 0;
    ck_assert_int_eq(check_dir(&c, dir), LV_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "hold no vision layer"));
}
END_TEST

START_TEST(test_check_weights_failures)
{
    lv_config c;
    char *j = with_override("\"vision_config\": {\"hidden_size\": 32, \"intermediate_size\": 64,"
                            " \"num_attention_heads\": 2, \"image_size\": 56, \"patch_size\": 14,"
                            " \"num_hidden_layers\": 2}", BASE_LLAMA);
    parse_ok(&c, j);
    free(j);
    build_ctx b = {.dtype = LV_DTYPE_F16, .skip = "model.layers.1.mlp.up_proj.weight"};
    const char *dir = build_weights("skip", &c, b, NULL);
    ck_assert_int_eq(check_dir(&c, dir), LV_ERR_SHAPE);
    ck_assert_str_eq(lv_last_error(), "missing tensor 'model.layers.1.mlp.up_proj.weight' "
                                      "(expected shape [128, 64])");

    b = (build_ctx){.dtype = LV_DTYPE_F32, .reshape = "model.norm.weight"};
    dir = build_weights("reshape", &c, b, NULL);
    ck_assert_int_eq(check_dir(&c, dir), LV_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "reshape/model.safetensors: tensor "
                                                  "'model.norm.weight': shape [65], expected [64]"));

    b = (build_ctx){.dtype = LV_DTYPE_BF16, .reshape = VT "embeddings.patch_embedding.weight"};
    dir = build_weights("reshape4", &c, b, NULL);
    ck_assert_int_eq(check_dir(&c, dir), LV_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "shape [33, 3, 14, 14], expected [32, 3, 14, 14]"));

    b = (build_ctx){.dtype = LV_DTYPE_BF16, .retype = "model.image_newline"};
    dir = build_weights("retype", &c, b, NULL);
    ck_assert_int_eq(check_dir(&c, dir), LV_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "tensor 'model.image_newline': dtype I32, "
                                                  "expected BF16, F16 or F32"));

    /* LLaMA-key config, OLMo-named weights: the scheme follows the weights */
    b = (build_ctx){.dtype = LV_DTYPE_BF16, .rename_as = c};
    b.rename_as.scheme = LV_SCHEME_OLMO;
    dir = build_weights("olmonames", &c, b, NULL);
    ck_assert_int_eq(c.scheme, LV_SCHEME_LLAMA);
    ck_assert_msg(check_dir(&c, dir) == LV_OK, "%s", lv_last_error());
    ck_assert_int_eq(c.scheme, LV_SCHEME_OLMO);

    /* tied embeddings: no lm_head needed; untied: its absence is reported */
    lv_config t = c;
    t.scheme = LV_SCHEME_LLAMA;
    t.tie_word_embeddings = 1;
    dir = build_weights("tied", &t, (build_ctx){.dtype = LV_DTYPE_F32}, NULL);
    ck_assert_msg(check_dir(&t, dir) == LV_OK, "%s", lv_last_error());
    t.tie_word_embeddings = 0;
    ck_assert_int_eq(check_dir(&t, dir), LV_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "missing tensor 'lm_head.weight' (expected "
                                                  "shape [416, 64])"));
}
END_TEST

/* ---- malformed configs ------------------------------------------------------------------- */

enum { RAW, LLAMA, OLMO };

static const struct {
    int base;
    const char *json;   /* RAW: the whole file; else an override prepended to the base */
    lv_status status;
    const char *frag;
} bad_configs[] = {
    {RAW, "{\"hidden_size\": 64,", LV_ERR_FORMAT, "config.json: not valid JSON"},
    {RAW, "[1, 2]", LV_ERR_FORMAT, "config.json: not a JSON object"},
    {RAW, "{\"model_type\": \"llama\"}", LV_ERR_CONFIG, "neither hidden_size"},
    {RAW, "{\"hidden_size\": 64}", LV_ERR_CONFIG, "config.json: missing key num_hidden_layers"},
    {LLAMA, "\"hidden_size\": 0", LV_ERR_CONFIG, "key hidden_size = 0 out of range [1, 65536]"},
    {LLAMA, "\"hidden_size\": 131072", LV_ERR_CONFIG, "key hidden_size = 131072 out of range"},
    {LLAMA, "\"hidden_size\": \"64\"", LV_ERR_CONFIG, "key hidden_size must be an integer"},
    {LLAMA, "\"hidden_size\": 64.5", LV_ERR_CONFIG, "key hidden_size must be an integer"},
    {LLAMA, "\"num_hidden_layers\": 2000", LV_ERR_CONFIG, "num_hidden_layers = 2000 out of range"},
    {LLAMA, "\"num_hidden_layers\": -1", LV_ERR_CONFIG, "num_hidden_layers = -1 out of range"},
    {LLAMA, "\"vocab_size\": 5000000", LV_ERR_CONFIG, "vocab_size = 5000000 out of range"},
    {LLAMA, "\"intermediate_size\": 0", LV_ERR_CONFIG, "intermediate_size = 0 out of range"},
    {LLAMA, "\"num_attention_heads\": 5", LV_ERR_CONFIG,
     "key num_attention_heads = 5 does not divide the hidden size 64"},
    {LLAMA, "\"num_key_value_heads\": 2", LV_ERR_CONFIG,
     "key num_key_value_heads = 2 differs from num_attention_heads = 4"},
    {LLAMA, "\"num_attention_heads\": 64, \"num_key_value_heads\": 64", LV_ERR_CONFIG,
     "head dim 1 (hidden 64 / num_attention_heads 64) must be even"},
    {LLAMA, "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}", LV_ERR_CONFIG,
     "key rope_scaling is set but only plain RoPE is supported"},
    {LLAMA, "\"rms_norm_eps\": 0", LV_ERR_CONFIG, "key rms_norm_eps = 0 out of range"},
    {LLAMA, "\"rope_theta\": -1", LV_ERR_CONFIG, "key rope_theta = -1 out of range"},
    {LLAMA, "\"rope_theta\": \"1e4\"", LV_ERR_CONFIG, "key rope_theta must be a number"},
    {LLAMA, "\"tie_word_embeddings\": \"no\"", LV_ERR_CONFIG,
     "key tie_word_embeddings must be true or false"},
    {LLAMA, "\"hidden_act\": \"gelu\"", LV_ERR_CONFIG, "key hidden_act = 'gelu' is unsupported"},
    {LLAMA, "\"attention_bias\": true", LV_ERR_CONFIG, "key attention_bias is set"},
    {LLAMA, "\"mask_token_id\": 416", LV_ERR_CONFIG, "key mask_token_id = 416 out of range [0, 415]"},
    {LLAMA, "\"mm_projector_type\": \"linear\"", LV_ERR_CONFIG,
     "key mm_projector_type = 'linear' is unsupported (mlp2x_gelu)"},
    {LLAMA, "\"mm_projector_type\": null", LV_ERR_CONFIG, "missing key mm_projector_type"},
    {LLAMA, "\"image_aspect_ratio\": \"crop\"", LV_ERR_CONFIG,
     "key image_aspect_ratio = 'crop' is unsupported"},
    {LLAMA, "\"image_aspect_ratio\": \"anyres_max_0\"", LV_ERR_CONFIG,
     "image_aspect_ratio = 'anyres_max_0': N of anyres_max_N"},
    {LLAMA, "\"image_aspect_ratio\": \"anyres_max_4x\"", LV_ERR_CONFIG,
     "image_aspect_ratio = 'anyres_max_4x': N of"},
    {LLAMA, "\"image_aspect_ratio\": 4", LV_ERR_CONFIG, "key image_aspect_ratio must be a string"},
    {LLAMA, "\"mm_patch_merge_type\": \"spatial\"", LV_ERR_CONFIG,
     "key mm_patch_merge_type = 'spatial' is unsupported"},
    {LLAMA, "\"image_grid_pinpoints\": \"(1x1),(6x)\"", LV_ERR_CONFIG,
     "image_grid_pinpoints = '(1x1),(6x)' is not of the form"},
    {LLAMA, "\"image_grid_pinpoints\": \"1x1,...,6x6\"", LV_ERR_CONFIG,
     "image_grid_pinpoints = '1x1,...,6x6' is not of the form"},
    {LLAMA, "\"image_grid_pinpoints\": \"(0x1),...,(2x2)\"", LV_ERR_CONFIG, "is not of the form"},
    {LLAMA, "\"image_grid_pinpoints\": \"(3x3),...,(1x1)\"", LV_ERR_CONFIG, "is an empty range"},
    {LLAMA, "\"image_grid_pinpoints\": \"(1x1),...,(9x9)\"", LV_ERR_CONFIG,
     "image_grid_pinpoints has more than 64 entries"},
    {LLAMA, "\"image_grid_pinpoints\": \"(1x1),..;,(2x2)\"", LV_ERR_CONFIG,
     "has an invalid character ';'"},
    {LLAMA, "\"image_grid_pinpoints\": [[384, 384], [384]]", LV_ERR_CONFIG,
     "key image_grid_pinpoints[1] is not a [width, height] pair"},
    {LLAMA, "\"image_grid_pinpoints\": [[0, 384]]", LV_ERR_CONFIG,
     "image_grid_pinpoints entry [0, 384] out of range"},
    {LLAMA, "\"image_grid_pinpoints\": 42", LV_ERR_CONFIG, "image_grid_pinpoints must be a list"},
    {LLAMA, "\"image_grid_pinpoints\": []", LV_ERR_CONFIG,
     "image_grid_pinpoints is missing or empty but image_aspect_ratio is anyres"},
    {LLAMA, "\"mm_hidden_size\": 48", LV_ERR_CONFIG,
     "key mm_hidden_size = 48 differs from the vision width 32"},
    {LLAMA, "\"vision_config\": {\"hidden_size\": 30, \"num_attention_heads\": 4}", LV_ERR_CONFIG,
     "key vision_config.num_attention_heads = 4 does not divide vision_config.hidden_size 30"},
    {LLAMA, "\"vision_config\": {\"hidden_act\": \"gelu\"}", LV_ERR_CONFIG,
     "key vision_config.hidden_act = 'gelu' is unsupported"},
    {LLAMA, "\"vision_config\": {\"patch_size\": 500, \"image_size\": 384}", LV_ERR_CONFIG,
     "key vision_config.patch_size = 500 exceeds vision_config.image_size 384"},
    {LLAMA, "\"vision_config\": [1]", LV_ERR_CONFIG, "key vision_config must be an object"},
    {LLAMA, "\"vision_config\": {\"image_size\": 0}", LV_ERR_CONFIG,
     "key vision_config.image_size = 0 out of range"},
    {LLAMA, "\"vision_config\": {\"num_hidden_layers\": 0}", LV_ERR_CONFIG,
     "key vision_config.num_hidden_layers = 0 out of range"},
    {LLAMA, "\"hidden_act\": \"silu_silu_silu_silu_silu_silu_silu_silu_silu_silu_silu_silu_silu\"",
     LV_ERR_CONFIG, "key hidden_act = 'silu_silu_silu_silu_silu_silu_silu_silu_...' is too long"},
    {LLAMA, "\"image_grid_pinpoints\": \"(1x1),............................................."
     "............................................................................................"
     "............................................................................................"
     "............................................................................................"
     "............................................................................................"
     "............................................................................................"
     "............................................................................................"
     "........................................................,(2x2)\"", LV_ERR_CONFIG,
     "key image_grid_pinpoints string is too long"},
    {OLMO, "\"d_model\": 0", LV_ERR_CONFIG, "key d_model = 0 out of range"},
    {OLMO, "\"n_kv_heads\": 2", LV_ERR_CONFIG, "key n_kv_heads = 2 differs from n_heads = 4"},
    {OLMO, "\"n_heads\": 3", LV_ERR_CONFIG, "key n_heads = 3 does not divide the hidden size 64"},
    {OLMO, "\"include_bias\": true", LV_ERR_CONFIG, "key include_bias is set"},
    {OLMO, "\"activation_type\": \"gelu\"", LV_ERR_CONFIG,
     "key activation_type = 'gelu' is unsupported"},
    {OLMO, "\"mlp_hidden_size\": null", LV_ERR_CONFIG, "missing key mlp_hidden_size"},
    {OLMO, "\"embedding_size\": 0", LV_ERR_CONFIG, "key embedding_size = 0 out of range"},
    {OLMO, "\"weight_tying\": 1", LV_ERR_CONFIG, "key weight_tying must be true or false"},
    {OLMO, "\"rope_scaling\": {\"factor\": 8}", LV_ERR_CONFIG, "key rope_scaling is set"},
    {OLMO, "\"block_type\": \"sequential\"", LV_ERR_CONFIG,
     "key block_type = 'sequential' is unsupported (llama)"},
    {OLMO, "\"layer_norm_type\": \"default\"", LV_ERR_CONFIG,
     "key layer_norm_type = 'default' is unsupported (rms)"},
    {OLMO, "\"rope\": false", LV_ERR_CONFIG, "key rope is not true"},
    {OLMO, "\"scale_logits\": true", LV_ERR_CONFIG, "key scale_logits is set"},
    {OLMO, "\"alibi\": true", LV_ERR_CONFIG, "key alibi is set"},
    {OLMO, "\"mlp_hidden_size\": null, \"mlp_ratio\": 64, \"d_model\": 32768, \"n_heads\": 4",
     LV_ERR_CONFIG, "key mlp_ratio = 64 gives an MLP width of 2097152"},
};

START_TEST(test_bad_config)
{
    const char *base = bad_configs[_i].base == LLAMA ? BASE_LLAMA : BASE_OLMO;
    char *json = bad_configs[_i].base == RAW ? NULL : with_override(bad_configs[_i].json, base);
    const char *text = json ? json : bad_configs[_i].json;
    lv_config c;
    lv_status s = lv_config_parse(&c, text, strlen(text), "dir/config.json");
    const char *e = lv_last_error();
    if (s != bad_configs[_i].status || !strstr(e, bad_configs[_i].frag) ||
        strncmp(e, "dir/config.json: ", 17) != 0)
        ck_abort_msg("case %d: got %s '%s', want %s with '%s'", _i, lv_status_name(s), e,
                     lv_status_name(bad_configs[_i].status), bad_configs[_i].frag);
    free(json);
}
END_TEST

START_TEST(test_load_errors)
{
    lv_config c;
    const char *dir = lv_test_tmpdir();
    ck_assert_int_eq(lv_config_load(&c, lv_test_join(dir, "nope.json")), LV_ERR_IO);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "nope.json: cannot open"));
    ck_assert_int_eq(lv_config_load(&c, dir), LV_ERR_IO);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "not a regular file"));
    const char *p = lv_test_join(dir, "config.json");
    lv_test_write_file(p, "{\"d_model\": 64,,}", 17);
    ck_assert_int_eq(lv_config_load(&c, p), LV_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lv_last_error(), "config.json: not valid JSON"));
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fixture_configs);
    tcase_add_test(tc, test_llada_v_preset);
    tcase_add_test(tc, test_olmo_preset);
    tcase_add_test(tc, test_optional_keys);
    tcase_add_test(tc, test_tensor_names);
    tcase_add_test(tc, test_visit);
    tcase_add_test(tc, test_check_weights_counts_vision_layers);
    tcase_add_test(tc, test_check_weights_failures);
    tcase_add_loop_test(tc, test_bad_config, 0, (int)(sizeof bad_configs / sizeof *bad_configs));
    tcase_add_test(tc, test_load_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lv_test_run(config_suite());
}
