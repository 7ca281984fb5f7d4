/* config.c - config.json of LLaDA-V and LLaDA-8B, the checkpoint tensor-name table, and the
 * weight checker.
 *
 *   config.json --lv_config_parse--> lv_config --lv_tensor_name/shape--> expected tensors
 *                                        |                                  |
 *                                        +---- lv_config_check_weights <----+-- lv_weights
 *
 * Two key sets: LLaVA/HF (`hidden_size`, ... as written by LlavaLLaDAModelLM's config, spec
 * §2.3) and OLMo (`d_model`, ... of the original LLaDA-8B ModelConfig, spec §1.1). Missing
 * optional keys take the defaults the reference classes would use; everything the C runtime
 * does not implement (rope_scaling, GQA, biases, other projectors) is refused here, by name,
 * instead of silently computing something else.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define LV_CFG_MAX_FILE   (16u << 20)
#define LV_CFG_MAX_HIDDEN 65536
#define LV_CFG_MAX_FFN    (1 << 20)
#define LV_CFG_MAX_LAYERS 1024
#define LV_CFG_MAX_VOCAB  (4 << 20)
#define LV_CFG_MAX_IMAGE  8192      /* vision image_size and pinpoint sides, in pixels */
#define LV_CFG_MAX_GRID   64        /* anyres_max_N and "(AxB)" grid multiples */

/* SigLIP so400m-patch14-384 (SigLipVisionConfig defaults in LLaDA-V's siglip_encoder.py) */
#define LV_SIGLIP_HIDDEN 1152
#define LV_SIGLIP_FFN    4304
#define LV_SIGLIP_HEADS  16
#define LV_SIGLIP_IMAGE  384
#define LV_SIGLIP_PATCH  14

/* ---- JSON accessors: every error names the file and the key --------------------------- */

typedef struct {
    const cJSON *obj;
    const char *path;
    const char *prefix;  /* "" or "vision_config." */
} lv_cfg_ctx;

static const cJSON *lv_key(const lv_cfg_ctx *x, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(x->obj, key);
    return cJSON_IsNull(j) ? NULL : j;
}

/* Integer key in [lo, hi]; absent: *out = def when optional, else an error. */
static lv_status lv_get_int(const lv_cfg_ctx *x, const char *key, int required, int def, int lo,
                            int hi, int *out)
{
    const cJSON *j = lv_key(x, key);
    if (!j) {
        if (required)
            return lv_fail(LV_ERR_CONFIG, "%s: missing key %s%s", x->path, x->prefix, key);
        *out = def;
        return LV_OK;
    }
    if (!cJSON_IsNumber(j) || floor(j->valuedouble) != j->valuedouble)
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s must be an integer", x->path, x->prefix, key);
    if (j->valuedouble < lo || j->valuedouble > hi)
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s = %.17g out of range [%d, %d]", x->path,
                       x->prefix, key, j->valuedouble, lo, hi);
    *out = (int)j->valuedouble;
    return LV_OK;
}

/* Positive finite number below hi. */
static lv_status lv_get_num(const lv_cfg_ctx *x, const char *key, double def, double hi,
                            double *out)
{
    const cJSON *j = lv_key(x, key);
    if (!j) {
        *out = def;
        return LV_OK;
    }
    if (!cJSON_IsNumber(j))
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s must be a number", x->path, x->prefix, key);
    if (!(j->valuedouble > 0 && j->valuedouble < hi))
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s = %.17g out of range (0, %g)", x->path,
                       x->prefix, key, j->valuedouble, hi);
    *out = j->valuedouble;
    return LV_OK;
}

static lv_status lv_get_bool(const lv_cfg_ctx *x, const char *key, int def, int *out)
{
    const cJSON *j = lv_key(x, key);
    if (!j) {
        *out = def;
        return LV_OK;
    }
    if (!cJSON_IsBool(j))
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s must be true or false", x->path, x->prefix,
                       key);
    *out = cJSON_IsTrue(j);
    return LV_OK;
}

/* String key copied into buf; absent: def (NULL def = leave buf empty). */
static lv_status lv_get_str(const lv_cfg_ctx *x, const char *key, const char *def, char *buf,
                            size_t size)
{
    const cJSON *j = lv_key(x, key);
    const char *v = def;
    if (j) {
        if (!cJSON_IsString(j))
            return lv_fail(LV_ERR_CONFIG, "%s: key %s%s must be a string", x->path, x->prefix,
                           key);
        v = j->valuestring;
    }
    if (!v) v = "";
    if (strlen(v) >= size)
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s = '%.40s...' is too long", x->path, x->prefix,
                       key, v);
    snprintf(buf, size, "%s", v);
    return LV_OK;
}

/* A key whose presence with a true / non-null value means a feature the runtime lacks. */
static lv_status lv_refuse_true(const lv_cfg_ctx *x, const char *key, const char *why)
{
    const cJSON *j = lv_key(x, key);
    if (j && !cJSON_IsFalse(j))
        return lv_fail(LV_ERR_CONFIG, "%s: key %s is set but %s", x->path, key, why);
    return LV_OK;
}

/* An optional string key that, when present, must have the one value implemented. */
static lv_status lv_require_str(const lv_cfg_ctx *x, const char *key, const char *want)
{
    char v[64];
    LV_TRY(lv_get_str(x, key, want, v, sizeof v));
    if (strcmp(v, want) != 0)
        return lv_fail(LV_ERR_CONFIG, "%s: key %s%s = '%s' is unsupported (%s)", x->path,
                       x->prefix, key, v, want);
    return LV_OK;
}

/* ---- language model ------------------------------------------------------------------- */

static lv_status lv_parse_llm(lv_config *c, const lv_cfg_ctx *x)
{
    int olmo = c->scheme == LV_SCHEME_OLMO;
    LV_TRY(lv_get_int(x, olmo ? "d_model" : "hidden_size", 1, 0, 1, LV_CFG_MAX_HIDDEN,
                      &c->hidden_size));
    LV_TRY(lv_get_int(x, olmo ? "n_layers" : "num_hidden_layers", 1, 0, 1, LV_CFG_MAX_LAYERS,
                      &c->num_hidden_layers));
    LV_TRY(lv_get_int(x, olmo ? "n_heads" : "num_attention_heads", 1, 0, 1, LV_CFG_MAX_HIDDEN,
                      &c->num_attention_heads));
    LV_TRY(lv_get_int(x, olmo ? "n_kv_heads" : "num_key_value_heads", 0, c->num_attention_heads,
                      1, LV_CFG_MAX_HIDDEN, &c->num_key_value_heads));
    if (olmo) {
        /* LLaDALlamaBlock: mlp_hidden_size, else mlp_ratio * d_model */
        int ratio = 0;
        LV_TRY(lv_get_int(x, "mlp_ratio", 0, 0, 1, 64, &ratio));
        if (!lv_key(x, "mlp_hidden_size") && ratio == 0)
            return lv_fail(LV_ERR_CONFIG, "%s: missing key mlp_hidden_size", x->path);
        LV_TRY(lv_get_int(x, "mlp_hidden_size", 0, ratio * c->hidden_size, 1, LV_CFG_MAX_FFN,
                          &c->intermediate_size));
        if (c->intermediate_size > LV_CFG_MAX_FFN)
            return lv_fail(LV_ERR_CONFIG, "%s: key mlp_ratio = %d gives an MLP width of %d, "
                           "above %d", x->path, ratio, c->intermediate_size, LV_CFG_MAX_FFN);
        /* wte rows: embedding_size (padded vocabulary) when given, else vocab_size */
        LV_TRY(lv_get_int(x, lv_key(x, "embedding_size") ? "embedding_size" : "vocab_size", 1, 0,
                          1, LV_CFG_MAX_VOCAB, &c->vocab_size));
        LV_TRY(lv_get_bool(x, "weight_tying", 0, &c->tie_word_embeddings));
        char act[32];
        LV_TRY(lv_get_str(x, "activation_type", "silu", act, sizeof act));
        if (strcmp(act, "silu") != 0 && strcmp(act, "swiglu") != 0)
            return lv_fail(LV_ERR_CONFIG, "%s: key activation_type = '%s' is unsupported (silu)",
                           x->path, act);
        LV_TRY(lv_require_str(x, "block_type", "llama"));
        LV_TRY(lv_require_str(x, "layer_norm_type", "rms"));
        const cJSON *rope = lv_key(x, "rope");
        if (rope && !cJSON_IsTrue(rope))
            return lv_fail(LV_ERR_CONFIG, "%s: key rope is not true (only RoPE models are "
                           "supported)", x->path);
        LV_TRY(lv_refuse_true(x, "scale_logits", "logit scaling is not supported"));
        LV_TRY(lv_refuse_true(x, "include_bias", "linear biases are not supported"));
        LV_TRY(lv_refuse_true(x, "include_qkv_bias", "q/k/v biases are not supported"));
        LV_TRY(lv_refuse_true(x, "alibi", "ALiBi is not supported (RoPE only)"));
    } else {
        LV_TRY(lv_get_int(x, "intermediate_size", 1, 0, 1, LV_CFG_MAX_FFN,
                          &c->intermediate_size));
        LV_TRY(lv_get_int(x, "vocab_size", 1, 0, 1, LV_CFG_MAX_VOCAB, &c->vocab_size));
        LV_TRY(lv_get_bool(x, "tie_word_embeddings", 0, &c->tie_word_embeddings));
        LV_TRY(lv_require_str(x, "hidden_act", "silu"));
        LV_TRY(lv_refuse_true(x, "attention_bias", "attention biases are not supported"));
        LV_TRY(lv_refuse_true(x, "mlp_bias", "MLP biases are not supported"));
    }
    LV_TRY(lv_refuse_true(x, "rope_scaling", "only plain RoPE is supported (must be null)"));
    double eps, theta;
    LV_TRY(lv_get_num(x, "rms_norm_eps", 1e-5, 1.0, &eps));
    LV_TRY(lv_get_num(x, "rope_theta", 10000.0, 1e12, &theta));
    c->rms_norm_eps = (float)eps;
    c->rope_theta = theta;
    const char *hk = olmo ? "n_heads" : "num_attention_heads";
    if (c->hidden_size % c->num_attention_heads)
        return lv_fail(LV_ERR_CONFIG, "%s: key %s = %d does not divide the hidden size %d",
                       x->path, hk, c->num_attention_heads, c->hidden_size);
    c->head_dim = c->hidden_size / c->num_attention_heads;
    if (c->head_dim % 2)
        return lv_fail(LV_ERR_CONFIG, "%s: head dim %d (hidden %d / %s %d) must be even for "
                       "RoPE", x->path, c->head_dim, c->hidden_size, hk, c->num_attention_heads);
    if (c->num_key_value_heads != c->num_attention_heads)
        return lv_fail(LV_ERR_CONFIG, "%s: key %s = %d differs from %s = %d (grouped-query "
                       "attention is not supported)", x->path,
                       olmo ? "n_kv_heads" : "num_key_value_heads", c->num_key_value_heads, hk,
                       c->num_attention_heads);
    LV_TRY(lv_get_int(x, "mask_token_id", 0, -1, 0, c->vocab_size - 1, &c->mask_token_id));
    return LV_OK;
}

/* ---- multimodal ----------------------------------------------------------------------- */

static lv_status lv_parse_vision_config(lv_config *c, const lv_cfg_ctx *top)
{
    const cJSON *vc = lv_key(top, "vision_config");
    if (vc && !cJSON_IsObject(vc))
        return lv_fail(LV_ERR_CONFIG, "%s: key vision_config must be an object", top->path);
    cJSON empty = {0};
    empty.type = cJSON_Object;
    lv_cfg_ctx x = {vc ? vc : &empty, top->path, "vision_config."};
    LV_TRY(lv_get_int(&x, "hidden_size", 0, LV_SIGLIP_HIDDEN, 1, LV_CFG_MAX_HIDDEN,
                      &c->v_hidden_size));
    LV_TRY(lv_get_int(&x, "intermediate_size", 0, LV_SIGLIP_FFN, 1, LV_CFG_MAX_FFN,
                      &c->v_intermediate_size));
    LV_TRY(lv_get_int(&x, "num_hidden_layers", 0, 0, 1, LV_CFG_MAX_LAYERS,
                      &c->v_num_hidden_layers));
    LV_TRY(lv_get_int(&x, "num_attention_heads", 0, LV_SIGLIP_HEADS, 1, LV_CFG_MAX_HIDDEN,
                      &c->v_num_attention_heads));
    LV_TRY(lv_get_int(&x, "image_size", 0, LV_SIGLIP_IMAGE, 1, LV_CFG_MAX_IMAGE,
                      &c->v_image_size));
    LV_TRY(lv_get_int(&x, "patch_size", 0, LV_SIGLIP_PATCH, 1, LV_CFG_MAX_IMAGE,
                      &c->v_patch_size));
    double eps;
    LV_TRY(lv_get_num(&x, "layer_norm_eps", 1e-6, 1.0, &eps));
    c->v_layer_norm_eps = (float)eps;
    LV_TRY(lv_require_str(&x, "hidden_act", "gelu_pytorch_tanh"));
    snprintf(c->v_hidden_act, sizeof c->v_hidden_act, "gelu_pytorch_tanh");
    if (c->v_hidden_size % c->v_num_attention_heads)
        return lv_fail(LV_ERR_CONFIG, "%s: key vision_config.num_attention_heads = %d does not "
                       "divide vision_config.hidden_size %d", top->path,
                       c->v_num_attention_heads, c->v_hidden_size);
    if (c->v_patch_size > c->v_image_size)
        return lv_fail(LV_ERR_CONFIG, "%s: key vision_config.patch_size = %d exceeds "
                       "vision_config.image_size %d", top->path, c->v_patch_size,
                       c->v_image_size);
    return LV_OK;
}

static lv_status lv_add_pinpoint(lv_config *c, const char *path, long w, long h)
{
    if (c->n_pinpoints >= LV_MAX_PINPOINTS)
        return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints has more than %d entries",
                       path, LV_MAX_PINPOINTS);
    if (w < 1 || h < 1 || w > LV_CFG_MAX_IMAGE || h > LV_CFG_MAX_IMAGE)
        return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints entry [%ld, %ld] out of "
                       "range [1, %d]", path, w, h, LV_CFG_MAX_IMAGE);
    c->pinpoints[c->n_pinpoints][0] = (int)w;
    c->pinpoints[c->n_pinpoints][1] = (int)h;
    c->n_pinpoints++;
    return LV_OK;
}

/* "(AxB)" at s: 1 and the two multiples on success. */
static int lv_parse_grid_pair(const char *s, size_t n, long *a, long *b)
{
    char tmp[32], *end;
    if (n < 5 || n >= sizeof tmp || s[0] != '(' || s[n - 1] != ')') return 0;
    memcpy(tmp, s + 1, n - 2);
    tmp[n - 2] = 0;
    if (tmp[0] < '0' || tmp[0] > '9') return 0;
    errno = 0;
    *a = strtol(tmp, &end, 10);
    if (*end != 'x' || end[1] < '0' || end[1] > '9') return 0;
    *b = strtol(end + 1, &end, 10);
    return !*end && !errno && *a >= 1 && *b >= 1 && *a <= LV_CFG_MAX_GRID &&
           *b <= LV_CFG_MAX_GRID;
}

/* "(1x1),...,(6x6)": LLaVA's train.py keeps only the first and last pair as a range and
 * expands i (width multiple) outer, j (height multiple) inner, in units of image_size. */
static lv_status lv_parse_pinpoint_string(lv_config *c, const char *path, const char *str)
{
    char s[512];
    size_t n = 0;
    for (const char *p = str; *p; p++)
        if (*p != ' ') {
            if (n + 1 >= sizeof s)
                return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints string is too long",
                               path);
            s[n++] = *p;
        }
    s[n] = 0;
    const char *first_end = strchr(s, ')'), *last_start = strrchr(s, '(');
    long a0, b0, a1, b1;
    if (!first_end || !last_start ||
        !lv_parse_grid_pair(s, (size_t)(first_end - s) + 1, &a0, &b0) ||
        !lv_parse_grid_pair(last_start, strlen(last_start), &a1, &b1))
        return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints = '%s' is not of the form "
                       "\"(AxB),...,(CxD)\" with positive multiples up to %d", path, str,
                       LV_CFG_MAX_GRID);
    /* the middle must be ",...," or ",(AxB)," items */
    for (const char *p = first_end + 1; p < last_start; p++)
        if (!strchr(",.()x0123456789", *p))
            return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints = '%s' has an invalid "
                           "character '%c'", path, str, *p);
    if (a0 > a1 || b0 > b1)
        return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints = '%s' is an empty range",
                       path, str);
    for (long i = a0; i <= a1; i++)
        for (long j = b0; j <= b1; j++)
            LV_TRY(lv_add_pinpoint(c, path, i * c->v_image_size, j * c->v_image_size));
    return LV_OK;
}

static lv_status lv_parse_pinpoints(lv_config *c, const lv_cfg_ctx *x)
{
    const cJSON *p = lv_key(x, "image_grid_pinpoints");
    if (!p) return LV_OK;
    if (cJSON_IsString(p)) return lv_parse_pinpoint_string(c, x->path, p->valuestring);
    if (!cJSON_IsArray(p))
        return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints must be a list of [width, "
                       "height] pairs or a \"(1x1),...,(6x6)\" string", x->path);
    int i = 0;
    for (const cJSON *e = p->child; e; e = e->next, i++) {
        const cJSON *w = cJSON_GetArrayItem(e, 0), *h = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(w) ||
            !cJSON_IsNumber(h) || floor(w->valuedouble) != w->valuedouble ||
            floor(h->valuedouble) != h->valuedouble || fabs(w->valuedouble) > 1e9 ||
            fabs(h->valuedouble) > 1e9)
            return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints[%d] is not a [width, "
                           "height] pair of integers", x->path, i);
        LV_TRY(lv_add_pinpoint(c, x->path, (long)w->valuedouble, (long)h->valuedouble));
    }
    return LV_OK;
}

static lv_status lv_parse_mm(lv_config *c, const lv_cfg_ctx *x)
{
    static const char *const mm_keys[] = {"mm_vision_tower", "mm_projector_type",
                                          "mm_hidden_size", "vision_config",
                                          "image_aspect_ratio"};
    for (size_t i = 0; i < sizeof mm_keys / sizeof *mm_keys; i++)
        if (lv_key(x, mm_keys[i])) c->has_vision = 1;
    if (!c->has_vision) return LV_OK;
    LV_TRY(lv_parse_vision_config(c, x));
    LV_TRY(lv_get_int(x, "mm_hidden_size", 0, c->v_hidden_size, 1, LV_CFG_MAX_HIDDEN,
                      &c->mm_hidden_size));
    if (c->mm_hidden_size != c->v_hidden_size)
        return lv_fail(LV_ERR_CONFIG, "%s: key mm_hidden_size = %d differs from the vision "
                       "width %d", x->path, c->mm_hidden_size, c->v_hidden_size);
    if (!lv_key(x, "mm_projector_type"))
        return lv_fail(LV_ERR_CONFIG, "%s: missing key mm_projector_type (LLaVA would default "
                       "to 'linear'; only mlp2x_gelu is supported)", x->path);
    LV_TRY(lv_get_str(x, "mm_projector_type", NULL, c->mm_projector_type,
                      sizeof c->mm_projector_type));
    LV_TRY(lv_require_str(x, "mm_projector_type", "mlp2x_gelu"));

    /* absent image_aspect_ratio: LLaVA's process_images resizes to a square */
    char v[64];
    LV_TRY(lv_get_str(x, "image_aspect_ratio", "square", v, sizeof v));
    if (strcmp(v, "square") == 0) {
        c->aspect = LV_ASPECT_SQUARE;
    } else if (strcmp(v, "pad") == 0) {
        c->aspect = LV_ASPECT_PAD;
    } else if (strcmp(v, "anyres") == 0) {
        c->aspect = LV_ASPECT_ANYRES;
    } else if (strncmp(v, "anyres_max_", 11) == 0) {
        char *end;
        long n = v[11] >= '1' && v[11] <= '9' ? strtol(v + 11, &end, 10) : 0;
        if (n < 1 || n > LV_CFG_MAX_GRID || *end)
            return lv_fail(LV_ERR_CONFIG, "%s: key image_aspect_ratio = '%s': N of anyres_max_N "
                           "must be in [1, %d]", x->path, v, LV_CFG_MAX_GRID);
        c->aspect = LV_ASPECT_ANYRES;
        c->anyres_max = (int)n;
    } else {
        return lv_fail(LV_ERR_CONFIG, "%s: key image_aspect_ratio = '%s' is unsupported "
                       "(anyres_max_N, anyres, pad, square)", x->path, v);
    }

    LV_TRY(lv_get_str(x, "mm_patch_merge_type", "flat", v, sizeof v));
    if (strcmp(v, "spatial_unpad") == 0) c->merge = LV_MERGE_SPATIAL_UNPAD;
    else if (strcmp(v, "flat") == 0) c->merge = LV_MERGE_FLAT;
    else
        return lv_fail(LV_ERR_CONFIG, "%s: key mm_patch_merge_type = '%s' is unsupported "
                       "(spatial_unpad, flat)", x->path, v);

    LV_TRY(lv_parse_pinpoints(c, x));
    if (c->aspect == LV_ASPECT_ANYRES && c->n_pinpoints == 0)
        return lv_fail(LV_ERR_CONFIG, "%s: key image_grid_pinpoints is missing or empty but "
                       "image_aspect_ratio is anyres", x->path);
    return LV_OK;
}

lv_status lv_config_parse(lv_config *c, const char *json, size_t len, const char *path)
{
    memset(c, 0, sizeof *c);
    c->mask_token_id = -1;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return lv_fail(LV_ERR_FORMAT, "%s: not valid JSON", path);
    lv_cfg_ctx x = {root, path, ""};
    lv_status s = LV_OK;
    if (!cJSON_IsObject(root)) {
        s = lv_fail(LV_ERR_FORMAT, "%s: not a JSON object", path);
    } else if (lv_key(&x, "hidden_size")) {
        c->scheme = LV_SCHEME_LLAMA;
    } else if (lv_key(&x, "d_model")) {
        c->scheme = LV_SCHEME_OLMO;
    } else {
        s = lv_fail(LV_ERR_CONFIG, "%s: neither hidden_size (LLaDA-V / HF keys) nor d_model "
                    "(LLaDA-8B / OLMo keys) is present", path);
    }
    if (s == LV_OK) s = lv_parse_llm(c, &x);
    if (s == LV_OK) s = lv_parse_mm(c, &x);
    cJSON_Delete(root);
    return s;
}

lv_status lv_config_load(lv_config *c, const char *path)
{
    memset(c, 0, sizeof *c);
    char *buf = NULL;
    size_t n = 0;
    LV_TRY(lv_read_text_file(path, LV_CFG_MAX_FILE, &buf, &n));
    lv_status s = lv_config_parse(c, buf, n, path);
    free(buf);
    return s;
}

/* ---- tensor names and shapes ----------------------------------------------------------- */

#define LV_VT "model.vision_tower.vision_tower.vision_model."

static const char *const lv_names[LV_SCHEME_COUNT][LV_W_COUNT] = {
    [LV_SCHEME_LLAMA] = {
        [LV_W_EMBED] = "model.embed_tokens.weight",
        [LV_W_LM_HEAD] = "lm_head.weight",
        [LV_W_FINAL_NORM] = "model.norm.weight",
        [LV_W_ATTN_NORM] = "model.layers.%d.input_layernorm.weight",
        [LV_W_Q] = "model.layers.%d.self_attn.q_proj.weight",
        [LV_W_K] = "model.layers.%d.self_attn.k_proj.weight",
        [LV_W_V] = "model.layers.%d.self_attn.v_proj.weight",
        [LV_W_O] = "model.layers.%d.self_attn.o_proj.weight",
        [LV_W_FFN_NORM] = "model.layers.%d.post_attention_layernorm.weight",
        [LV_W_GATE] = "model.layers.%d.mlp.gate_proj.weight",
        [LV_W_UP] = "model.layers.%d.mlp.up_proj.weight",
        [LV_W_DOWN] = "model.layers.%d.mlp.down_proj.weight",
    },
    /* rename_checkpoint.py mapping, spec §2.2; block ff_out = down, model ff_out = head */
    [LV_SCHEME_OLMO] = {
        [LV_W_EMBED] = "model.transformer.wte.weight",
        [LV_W_LM_HEAD] = "model.transformer.ff_out.weight",
        [LV_W_FINAL_NORM] = "model.transformer.ln_f.weight",
        [LV_W_ATTN_NORM] = "model.transformer.blocks.%d.attn_norm.weight",
        [LV_W_Q] = "model.transformer.blocks.%d.q_proj.weight",
        [LV_W_K] = "model.transformer.blocks.%d.k_proj.weight",
        [LV_W_V] = "model.transformer.blocks.%d.v_proj.weight",
        [LV_W_O] = "model.transformer.blocks.%d.attn_out.weight",
        [LV_W_FFN_NORM] = "model.transformer.blocks.%d.ff_norm.weight",
        [LV_W_GATE] = "model.transformer.blocks.%d.ff_proj.weight",
        [LV_W_UP] = "model.transformer.blocks.%d.up_proj.weight",
        [LV_W_DOWN] = "model.transformer.blocks.%d.ff_out.weight",
    },
};

/* Vision tower and projector: the same names under both schemes. */
static const char *const lv_mm_names[LV_W_COUNT] = {
    [LV_WV_PATCH_W] = LV_VT "embeddings.patch_embedding.weight",
    [LV_WV_PATCH_B] = LV_VT "embeddings.patch_embedding.bias",
    [LV_WV_POS] = LV_VT "embeddings.position_embedding.weight",
    [LV_WV_LN1_W] = LV_VT "encoder.layers.%d.layer_norm1.weight",
    [LV_WV_LN1_B] = LV_VT "encoder.layers.%d.layer_norm1.bias",
    [LV_WV_Q_W] = LV_VT "encoder.layers.%d.self_attn.q_proj.weight",
    [LV_WV_Q_B] = LV_VT "encoder.layers.%d.self_attn.q_proj.bias",
    [LV_WV_K_W] = LV_VT "encoder.layers.%d.self_attn.k_proj.weight",
    [LV_WV_K_B] = LV_VT "encoder.layers.%d.self_attn.k_proj.bias",
    [LV_WV_V_W] = LV_VT "encoder.layers.%d.self_attn.v_proj.weight",
    [LV_WV_V_B] = LV_VT "encoder.layers.%d.self_attn.v_proj.bias",
    [LV_WV_O_W] = LV_VT "encoder.layers.%d.self_attn.out_proj.weight",
    [LV_WV_O_B] = LV_VT "encoder.layers.%d.self_attn.out_proj.bias",
    [LV_WV_LN2_W] = LV_VT "encoder.layers.%d.layer_norm2.weight",
    [LV_WV_LN2_B] = LV_VT "encoder.layers.%d.layer_norm2.bias",
    [LV_WV_FC1_W] = LV_VT "encoder.layers.%d.mlp.fc1.weight",
    [LV_WV_FC1_B] = LV_VT "encoder.layers.%d.mlp.fc1.bias",
    [LV_WV_FC2_W] = LV_VT "encoder.layers.%d.mlp.fc2.weight",
    [LV_WV_FC2_B] = LV_VT "encoder.layers.%d.mlp.fc2.bias",
    [LV_WP_0_W] = "model.mm_projector.0.weight",
    [LV_WP_0_B] = "model.mm_projector.0.bias",
    [LV_WP_2_W] = "model.mm_projector.2.weight",
    [LV_WP_2_B] = "model.mm_projector.2.bias",
    [LV_W_IMAGE_NEWLINE] = "model.image_newline",
};

lv_part lv_wkind_part(lv_wkind kind)
{
    if (kind <= LV_W_DOWN) return LV_PART_LLM;
    if (kind <= LV_WV_FC2_B) return LV_PART_VISION;
    return LV_PART_PROJECTOR;
}

int lv_wkind_per_layer(lv_wkind kind)
{
    return (kind >= LV_W_ATTN_NORM && kind <= LV_W_DOWN) ||
           (kind >= LV_WV_LN1_W && kind <= LV_WV_FC2_B);
}

const char *lv_tensor_name(char *buf, size_t size, const lv_config *c, lv_wkind kind, int layer)
{
    LV_ASSERT((unsigned)kind < LV_W_COUNT && (unsigned)c->scheme < LV_SCHEME_COUNT);
    const char *fmt = lv_wkind_part(kind) == LV_PART_LLM ? lv_names[c->scheme][kind]
                                                         : lv_mm_names[kind];
    if (lv_wkind_per_layer(kind)) {
        LV_ASSERT(layer >= 0);
        snprintf(buf, size, fmt, layer);
    } else {
        snprintf(buf, size, "%s", fmt);
    }
    return buf;
}

static int lv_set_shape(int64_t *s, int n, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t v[4] = {a, b, c, d};
    for (int i = 0; i < n; i++) s[i] = v[i];
    return n;
}

int lv_tensor_shape(int64_t shape[LV_ST_MAX_DIMS], const lv_config *c, lv_wkind kind)
{
    int64_t D = c->hidden_size, F = c->intermediate_size, V = c->vocab_size;
    int64_t KV = (int64_t)c->num_key_value_heads * c->head_dim;
    int64_t Dv = c->v_hidden_size, Fv = c->v_intermediate_size, p = c->v_patch_size;
    int64_t g = c->v_patch_size ? c->v_image_size / c->v_patch_size : 0; /* patches per side */
    switch (kind) {
    case LV_W_EMBED:
    case LV_W_LM_HEAD: return lv_set_shape(shape, 2, V, D, 0, 0);
    case LV_W_FINAL_NORM:
    case LV_W_ATTN_NORM:
    case LV_W_FFN_NORM: return lv_set_shape(shape, 1, D, 0, 0, 0);
    case LV_W_Q:
    case LV_W_O: return lv_set_shape(shape, 2, D, D, 0, 0);
    case LV_W_K:
    case LV_W_V: return lv_set_shape(shape, 2, KV, D, 0, 0);
    case LV_W_GATE:
    case LV_W_UP: return lv_set_shape(shape, 2, F, D, 0, 0);
    case LV_W_DOWN: return lv_set_shape(shape, 2, D, F, 0, 0);
    case LV_WV_PATCH_W: return lv_set_shape(shape, 4, Dv, 3, p, p);   /* conv [out, in, k, k] */
    case LV_WV_POS: return lv_set_shape(shape, 2, g * g, Dv, 0, 0);
    case LV_WV_Q_W:
    case LV_WV_K_W:
    case LV_WV_V_W:
    case LV_WV_O_W: return lv_set_shape(shape, 2, Dv, Dv, 0, 0);
    case LV_WV_FC1_W: return lv_set_shape(shape, 2, Fv, Dv, 0, 0);
    case LV_WV_FC1_B: return lv_set_shape(shape, 1, Fv, 0, 0, 0);
    case LV_WV_FC2_W: return lv_set_shape(shape, 2, Dv, Fv, 0, 0);
    case LV_WV_PATCH_B:
    case LV_WV_LN1_W:
    case LV_WV_LN1_B:
    case LV_WV_Q_B:
    case LV_WV_K_B:
    case LV_WV_V_B:
    case LV_WV_O_B:
    case LV_WV_LN2_W:
    case LV_WV_LN2_B:
    case LV_WV_FC2_B: return lv_set_shape(shape, 1, Dv, 0, 0, 0);
    case LV_WP_0_W: return lv_set_shape(shape, 2, D, c->mm_hidden_size, 0, 0);
    case LV_WP_2_W: return lv_set_shape(shape, 2, D, D, 0, 0);
    case LV_WP_0_B:
    case LV_WP_2_B:
    case LV_W_IMAGE_NEWLINE: return lv_set_shape(shape, 1, D, 0, 0, 0);
    default: LV_ASSERT(!"unknown tensor kind"); return 0;
    }
}

static lv_status lv_visit_one(const lv_config *c, lv_tensor_visit_fn fn, void *ctx, lv_wkind k,
                              int layer)
{
    char name[256];
    int64_t shape[LV_ST_MAX_DIMS];
    int nd = lv_tensor_shape(shape, c, k);
    return fn(ctx, k, layer, lv_tensor_name(name, sizeof name, c, k, layer), nd, shape);
}

lv_status lv_config_visit_tensors(const lv_config *c, lv_tensor_visit_fn fn, void *ctx)
{
    LV_TRY(lv_visit_one(c, fn, ctx, LV_W_EMBED, -1));
    for (int l = 0; l < c->num_hidden_layers; l++)
        for (int k = LV_W_ATTN_NORM; k <= LV_W_DOWN; k++)
            LV_TRY(lv_visit_one(c, fn, ctx, (lv_wkind)k, l));
    LV_TRY(lv_visit_one(c, fn, ctx, LV_W_FINAL_NORM, -1));
    if (!c->tie_word_embeddings) LV_TRY(lv_visit_one(c, fn, ctx, LV_W_LM_HEAD, -1));
    if (!c->has_vision) return LV_OK;
    for (int k = LV_WV_PATCH_W; k <= LV_WV_POS; k++)
        LV_TRY(lv_visit_one(c, fn, ctx, (lv_wkind)k, -1));
    for (int l = 0; l < c->v_num_hidden_layers; l++)
        for (int k = LV_WV_LN1_W; k <= LV_WV_FC2_B; k++)
            LV_TRY(lv_visit_one(c, fn, ctx, (lv_wkind)k, l));
    for (int k = LV_WP_0_W; k <= LV_W_IMAGE_NEWLINE; k++)
        LV_TRY(lv_visit_one(c, fn, ctx, (lv_wkind)k, -1));
    return LV_OK;
}

/* ---- weight check ---------------------------------------------------------------------- */

static void lv_fmt_shape(char *buf, size_t size, int nd, const int64_t *s)
{
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < nd && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? ", " : "", (long long)s[i]);
    if (k < size) snprintf(buf + k, size - k, "]");
}

static lv_status lv_check_one(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                              const int64_t *shape)
{
    const lv_weights *w = ctx;
    (void)kind;
    (void)layer;
    char want[LV_ST_MAX_DIMS * 22 + 3], got[LV_ST_MAX_DIMS * 22 + 3];
    lv_fmt_shape(want, sizeof want, ndim, shape);
    const lv_tensor *t = lv_weights_get(w, name);
    if (!t) return lv_fail(LV_ERR_SHAPE, "missing tensor '%s' (expected shape %s)", name, want);
    const char *file = lv_weights_file_path(w, t->file);
    if (!lv_dtype_is_float(t->dtype))
        return lv_fail(LV_ERR_DTYPE, "%s: tensor '%s': dtype %s, expected BF16, F16 or F32", file,
                       name, lv_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        lv_fmt_shape(got, sizeof got, t->ndim, t->shape);
        return lv_fail(LV_ERR_SHAPE, "%s: tensor '%s': shape %s, expected %s", file, name, got,
                       want);
    }
    return LV_OK;
}

lv_status lv_config_check_weights(lv_config *c, const lv_weights *w)
{
    char name[256];
    /* the config keys pick a scheme; the weights may still use the other one */
    if (!lv_weights_get(w, lv_tensor_name(name, sizeof name, c, LV_W_EMBED, -1))) {
        lv_config o = *c;
        o.scheme = c->scheme == LV_SCHEME_LLAMA ? LV_SCHEME_OLMO : LV_SCHEME_LLAMA;
        if (lv_weights_get(w, lv_tensor_name(name, sizeof name, &o, LV_W_EMBED, -1)))
            c->scheme = o.scheme;
    }
    if (c->has_vision && c->v_num_hidden_layers == 0) {
        /* layers present, contiguous from 0 (the published checkpoint holds 26 of 27) */
        int n = 0;
        while (n < LV_CFG_MAX_LAYERS &&
               lv_weights_get(w, lv_tensor_name(name, sizeof name, c, LV_WV_LN1_W, n)))
            n++;
        if (n == 0)
            return lv_fail(LV_ERR_SHAPE, "missing tensor '%s': the config has multimodal keys "
                           "but the weights hold no vision layer",
                           lv_tensor_name(name, sizeof name, c, LV_WV_LN1_W, 0));
        c->v_num_hidden_layers = n;
    }
    return lv_config_visit_tensors(c, lv_check_one, (void *)w);
}

/* ---- parameter count ------------------------------------------------------------------- */

typedef struct {
    lv_part part;
    int64_t n;
} lv_count_ctx;

static lv_status lv_count_one(void *ctx, lv_wkind kind, int layer, const char *name, int ndim,
                              const int64_t *shape)
{
    lv_count_ctx *x = ctx;
    (void)layer;
    (void)name;
    if (lv_wkind_part(kind) != x->part) return LV_OK;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    x->n += n;
    return LV_OK;
}

/* Parameters of the checkpoint per part, as spec §2.4 counts them: the vision part includes
 * SigLIP's post_layernorm (2 x Dv, present in the checkpoint though the reference never
 * applies it), the projector part includes model.image_newline. For the published model
 * (v_num_hidden_layers = 26) that is 8,015,581,184 + 397,747,744 + 21,508,096 =
 * 8,434,837,024. Vision layers count only once known (vision_config or check_weights). */
int64_t lv_config_param_count(const lv_config *c, lv_part part)
{
    lv_count_ctx x = {part, 0};
    lv_config_visit_tensors(c, lv_count_one, &x);
    if (part == LV_PART_VISION && c->has_vision) x.n += 2 * (int64_t)c->v_hidden_size;
    return x.n;
}
