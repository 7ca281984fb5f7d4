/* language.h - the language library: tokenizer, prompt assembly, LLaDA language model.
 *
 *   text --lv_prompt_build--> ids (-200 per image) --LLaDA + diffusion sampler--> response ids
 *   response ids --lv_tokenizer_decode--> text
 *
 * Sections: tokenizer (Hugging Face tokenizer.json, byte-level / byte-fallback BPE), prompt
 * (the llava_llada chat template and tokenizer_image_token), then the LLaDA model.
 */
#ifndef LV_LANGUAGE_H
#define LV_LANGUAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* ---------------------------------------------------------------------------------------
 * Tokenizer: a Hugging Face `tokenizers` BPE model loaded from tokenizer.json (spec §8).
 *
 *   lv_tokenizer *tok = NULL;
 *   if (lv_tokenizer_load(&tok, "model/tokenizer.json") != LV_OK)
 *       fprintf(stderr, "error: %s\n", lv_last_error());
 *   int32_t *ids; int n;
 *   lv_tokenizer_encode(tok, text, strlen(text), 0, &ids, &n);   // ids: returned, free()
 *   char *s; size_t len;
 *   lv_tokenizer_decode(tok, ids, n, 0, &s, &len);                 // s: returned, free()
 *   lv_tokenizer_free(tok);
 *
 * Supported (each as the Hugging Face library 0.22 does it): model BPE (byte-level or
 * byte_fallback, unk/fuse_unk, continuing_subword_prefix/end_of_word_suffix, ignore_merges,
 * merges as "a b" or [a, b]); normalizers NFC/NFD/NFKC/NFKD, Lowercase, Prepend, Replace,
 * Sequence; pre-tokenizers ByteLevel, Split (regex or string, every behaviour, invert), Digits,
 * Metaspace, Sequence; decoders ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace,
 * Sequence; post-processors TemplateProcessing, ByteLevel, Roberta/Bert, Sequence. Anything else
 * is refused at load with LV_ERR_UNSUPPORTED naming the file and the component. The file's
 * "truncation" and "padding" are ignored, as transformers' PreTrainedTokenizerFast does when
 * called without truncation/padding arguments (the reference's `tokenizer(chunk)`).
 * A loaded tokenizer is immutable: concurrent encode/decode calls on it are safe.
 * ------------------------------------------------------------------------------------- */
typedef struct lv_tokenizer lv_tokenizer;  /* opaque; owns vocab, merges, regexes */

lv_status lv_tokenizer_load(lv_tokenizer **out, const char *path);
/* Same from an in-memory tokenizer.json; `name` is used in error messages. */
lv_status lv_tokenizer_load_json(lv_tokenizer **out, const char *json, size_t len,
                                 const char *name);
void      lv_tokenizer_free(lv_tokenizer *tok);  /* NULL-safe */

/* Encode UTF-8 text [len bytes] to ids. Added tokens written in the text are matched as the
 * HF library matches them. add_special != 0 applies the post_processor (e.g. a BOS template),
 * like `tokenizer(text).input_ids`; 0 is `encode(text, add_special_tokens=False)`.
 * *ids: returned, free with free() (non-NULL even when *n_ids == 0).
 * Invalid UTF-8 gives LV_ERR_INPUT. */
lv_status lv_tokenizer_encode(const lv_tokenizer *tok, const char *text, size_t len,
                              int add_special, int32_t **ids, int *n_ids);
/* Decode ids to UTF-8 text as `tokenizer.decode(ids, skip_special_tokens)`: ids with no token
 * are skipped, invalid byte sequences become U+FFFD. Ids < 0 or >= lv_tokenizer_size() give
 * LV_ERR_INPUT. *text: returned, NUL-terminated (it may hold NUL bytes: use *len), free(). */
lv_status lv_tokenizer_decode(const lv_tokenizer *tok, const int32_t *ids, int n_ids,
                              int skip_special, char **text, size_t *len);

/* len(tokenizer): largest id (model vocabulary or added token) + 1. */
int         lv_tokenizer_size(const lv_tokenizer *tok);
/* Id of the added token with this exact content ("<|eot_id|>", "<|mdm_mask|>", ...), -1 if
 * there is none. Special ids are always looked up this way, never assumed. */
int32_t     lv_tokenizer_added_id(const lv_tokenizer *tok, const char *content);
/* Id of a token (added tokens first, then the model vocabulary), -1 if absent. */
int32_t     lv_tokenizer_token_id(const lv_tokenizer *tok, const char *token);
/* Token string of an id (borrowed, valid until lv_tokenizer_free), NULL if none. */
const char *lv_tokenizer_token(const lv_tokenizer *tok, int32_t id);
/* 1 if id is an added token flagged special (dropped by skip_special), else 0. */
int         lv_tokenizer_is_special(const lv_tokenizer *tok, int32_t id);

/* ---------------------------------------------------------------------------------------
 * Prompt assembly (spec §5.2, §5.3): the llava_llada chat template and the reference's
 * tokenizer_image_token. Image positions are marked with LV_IMAGE_TOKEN_ID.
 *
 *   int32_t *ids; int n;
 *   lv_prompt_build(tok, "What is in the image?", 1, &ids, &n);  // "<image>\n" is prepended
 *   // ids = BOS, <|start_header_id|>, system..., -200, question..., assistant header
 *   free(ids);
 * ------------------------------------------------------------------------------------- */
#define LV_IMAGE_TOKEN_ID (-200)                 /* IMAGE_TOKEN_INDEX of the reference */
#define LV_IMAGE_PLACEHOLDER "<image>"           /* DEFAULT_IMAGE_TOKEN */
extern const char lv_llada_system_prompt[];      /* conv_templates["llava_llada"].system */

/* The user turn as the lmms-eval wrapper builds it: with n_images > 0 and no "<image>" in
 * text, "<image> <image> ...\n" (n_images placeholders) + text; otherwise text unchanged, and
 * then the number of "<image>" in text must equal n_images (else LV_ERR_INPUT).
 * *out: returned, free(). */
lv_status lv_prompt_user_turn(const char *text, int n_images, char **out);
/* The full llava_llada chat-template string for one user turn (system prompt, BOS prefix,
 * header tokens, trimmed content, assistant header appended). *out: returned, free(). */
lv_status lv_prompt_render(const char *user_turn, char **out);
/* tokenizer_image_token on a raw prompt (no template): split on "<image>", encode each chunk
 * with add_special_tokens=True, drop every chunk's first id when chunk 0 starts with BOS (the
 * added token "<|startoftext|>", LLaDA's bos_token), join with LV_IMAGE_TOKEN_ID.
 * *ids: returned, free(). */
lv_status lv_prompt_tokenize(const lv_tokenizer *tok, const char *prompt, int32_t **ids,
                             int *n_ids);
/* lv_prompt_user_turn + lv_prompt_render + lv_prompt_tokenize. *ids: returned, free(). */
lv_status lv_prompt_build(const lv_tokenizer *tok, const char *text, int n_images,
                          int32_t **ids, int *n_ids);

/* ---------------------------------------------------------------------------------------
 * LLaDA language model and the masked-diffusion sampler: their declarations live in
 *   diffusion.h  lv_diffusion_generate: the sampler of spec §6 behind a logits callback
 *   llada.h      lv_llada_load / lv_llada_forward: the bidirectional transformer of §4.4
 * ------------------------------------------------------------------------------------- */
#include "diffusion.h"
#include "llada.h"

#endif
