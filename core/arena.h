/* arena.h - a bump allocator: one malloc per context, carved into 64-byte-aligned buffers,
 * reset per step, so the sampling loop never allocates (style.md B5, llm.c-style).
 *
 *   lv_arena a;
 *   size_t need = lv_arena_round(n1 * sizeof(float)) + lv_arena_round(n2 * sizeof(float));
 *   if (lv_arena_init(&a, need) != LV_OK) ...        // the one allocation
 *   float *x = lv_arena_alloc(&a, n1 * sizeof(float)); // NULL only if `need` was wrong
 *   lv_arena_reset(&a);                               // next step reuses the same bytes
 *   lv_arena_free(&a);
 */
#ifndef LV_ARENA_H
#define LV_ARENA_H

#include <stddef.h>

#include "status.h"

#define LV_ARENA_ALIGN 64

typedef struct {
    unsigned char *base;   /* [size] bytes, owned */
    size_t size;           /* capacity */
    size_t used;           /* bytes handed out since the last reset */
    size_t peak;           /* largest `used` seen, for scratch-size checks in tests */
} lv_arena;

/* n rounded up to LV_ARENA_ALIGN: what one lv_arena_alloc(n) consumes. */
size_t    lv_arena_round(size_t n);
lv_status lv_arena_init(lv_arena *a, size_t size);   /* LV_ERR_NOMEM names the size */
/* Borrowed until reset/free; uninitialised memory; NULL when the arena is exhausted. */
void     *lv_arena_alloc(lv_arena *a, size_t n);
void      lv_arena_reset(lv_arena *a);
void      lv_arena_free(lv_arena *a);                /* NULL-safe, idempotent */

#endif
