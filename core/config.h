/* config.h - config.json of LLaDA-V (LLaVA-style keys, optional vision_config) and of the
 * original LLaDA-8B (OLMo-style keys), plus the one table of checkpoint tensor names.
 *
 *   lv_config c;
 *   if (lv_config_load(&c, "model_dir/config.json") != LV_OK) ...   // parse + sanity checks
 *   if (lv_config_check_weights(&c, w) != LV_OK) ...               // every tensor, every shape
 *
 * Tensor names live only in lv_tensor_name() (config.c): the checker, `lladav synth` and the
 * stage loaders all ask it, so the two naming schemes (spec §2.1 / §2.2) are handled once.
 */
#ifndef LV_CONFIG_H
#define LV_CONFIG_H

#include <stdint.h>

#include "safetensors.h"

#define LV_MAX_PINPOINTS 64

typedef enum {
    LV_SCHEME_LLAMA,      /* model.layers.N.self_attn.q_proj.weight ... (LLaDA-V, HF layout) */
    LV_SCHEME_OLMO,       /* model.transformer.blocks.N.q_proj.weight ... (original LLaDA-8B) */
    LV_SCHEME_COUNT
} lv_name_scheme;

typedef enum { LV_ASPECT_ANYRES, LV_ASPECT_PAD, LV_ASPECT_SQUARE, LV_ASPECT_COUNT } lv_aspect;
typedef enum { LV_MERGE_SPATIAL_UNPAD, LV_MERGE_FLAT, LV_MERGE_COUNT } lv_merge;

typedef struct {
    /* ---- language model (config.json names) ---- */
    int    hidden_size;            /* D    4096 */
    int    intermediate_size;      /* F    12288 */
    int    num_hidden_layers;      /*      32 */
    int    num_attention_heads;    /* H    32 */
    int    num_key_value_heads;    /*      32 (must equal H: LLaDA has no GQA) */
    int    head_dim;               /* HD = D / H */
    int    vocab_size;             /* V    126464 checkpoint rows */
    float  rms_norm_eps;           /*      1e-5 */
    double rope_theta;             /*      500000 */
    int    tie_word_embeddings;    /*      0 */
    int    mask_token_id;          /* -1 when config.json has none (then tokenizer / 126336) */
    lv_name_scheme scheme;         /* from the config keys; verified against the weights */

    /* ---- multimodal (absent for text-only LLaDA: has_vision = 0) ---- */
    int    has_vision;
    int    mm_hidden_size;         /* Dv   1152 */
    char   mm_projector_type[32];  /* "mlp2x_gelu" */
    lv_aspect aspect;              /* image_aspect_ratio */
    int    anyres_max;             /* N of "anyres_max_N"; 0 for plain "anyres" */
    int    n_pinpoints;            /* image_grid_pinpoints as [width, height] pixel pairs */
    int    pinpoints[LV_MAX_PINPOINTS][2];
    lv_merge merge;                /* mm_patch_merge_type */

    /* ---- vision tower (vision_config, else SigLIP so400m-patch14-384 defaults) ---- */
    int    v_hidden_size;          /* 1152 */
    int    v_intermediate_size;    /* 4304 */
    int    v_num_hidden_layers;    /* 0 = the number present in the weights (set by check) */
    int    v_num_attention_heads;  /* 16 */
    int    v_image_size;           /* 384 */
    int    v_patch_size;           /* 14 */
    float  v_layer_norm_eps;       /* 1e-6 */
    char   v_hidden_act[32];       /* "gelu_pytorch_tanh" */
} lv_config;

/* Parse and sanity-check (positive dims, H divides D, known enums, pinpoints); errors name
 * the file and the key. */
lv_status lv_config_load(lv_config *c, const char *path);
lv_status lv_config_parse(lv_config *c, const char *json, size_t len, const char *path);

/* What each tensor is; layer = -1 for non-layer tensors. */
typedef enum {
    LV_W_EMBED, LV_W_LM_HEAD, LV_W_FINAL_NORM,
    LV_W_ATTN_NORM, LV_W_Q, LV_W_K, LV_W_V, LV_W_O, LV_W_FFN_NORM, LV_W_GATE, LV_W_UP, LV_W_DOWN,
    LV_WV_PATCH_W, LV_WV_PATCH_B, LV_WV_POS,
    LV_WV_LN1_W, LV_WV_LN1_B, LV_WV_Q_W, LV_WV_Q_B, LV_WV_K_W, LV_WV_K_B, LV_WV_V_W, LV_WV_V_B,
    LV_WV_O_W, LV_WV_O_B, LV_WV_LN2_W, LV_WV_LN2_B, LV_WV_FC1_W, LV_WV_FC1_B, LV_WV_FC2_W,
    LV_WV_FC2_B,
    LV_WP_0_W, LV_WP_0_B, LV_WP_2_W, LV_WP_2_B, LV_W_IMAGE_NEWLINE,
    LV_W_COUNT
} lv_wkind;

typedef enum { LV_PART_LLM, LV_PART_VISION, LV_PART_PROJECTOR, LV_PART_COUNT } lv_part;

/* Write the checkpoint name of (kind, layer) under c->scheme into buf; returns buf. */
const char *lv_tensor_name(char *buf, size_t size, const lv_config *c, lv_wkind kind, int layer);
/* Expected shape of (kind) for config c; returns ndim. */
int         lv_tensor_shape(int64_t shape[LV_ST_MAX_DIMS], const lv_config *c, lv_wkind kind);
lv_part     lv_wkind_part(lv_wkind kind);
int         lv_wkind_per_layer(lv_wkind kind);

/* Enumerate every expected tensor of c in checkpoint order (embed, layers, norm, head,
 * vision, projector). Stops and returns the callback's status if it is not LV_OK.
 * Vision layers: v_num_hidden_layers of them (none while it is still 0, i.e. before
 * lv_config_check_weights counted them); no lm_head with tie_word_embeddings; SigLIP's
 * post_layernorm is never visited (the reference does not apply it). */
typedef lv_status (*lv_tensor_visit_fn)(void *ctx, lv_wkind kind, int layer, const char *name,
                                        int ndim, const int64_t *shape);
lv_status lv_config_visit_tensors(const lv_config *c, lv_tensor_visit_fn fn, void *ctx);

/* Verify that every expected tensor exists with the expected shape and a float dtype; sets
 * c->v_num_hidden_layers from the weights when it is 0; detects the name scheme when
 * the config keys left it open. Fails on the first problem with its name and shapes. */
lv_status lv_config_check_weights(lv_config *c, const lv_weights *w);

/* Parameter count per part, as spec §2.4 counts the checkpoint: LV_PART_VISION includes
 * SigLIP's post_layernorm (2 x v_hidden_size, stored though unused), LV_PART_PROJECTOR
 * includes model.image_newline; the published model sums to 8,434,837,024. */
int64_t   lv_config_param_count(const lv_config *c, lv_part part);

#endif
