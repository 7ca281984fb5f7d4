/* arena.c - bump allocator backing every activation buffer (see arena.h). */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

size_t lv_arena_round(size_t n)
{
    return (n + LV_ARENA_ALIGN - 1) / LV_ARENA_ALIGN * LV_ARENA_ALIGN;
}

lv_status lv_arena_init(lv_arena *a, size_t size)
{
    memset(a, 0, sizeof *a);
    size = lv_arena_round(size ? size : 1);
    a->base = aligned_alloc(LV_ARENA_ALIGN, size);
    if (!a->base)
        return lv_fail(LV_ERR_NOMEM, "arena: cannot allocate %zu bytes of activations", size);
    a->size = size;
    return LV_OK;
}

void *lv_arena_alloc(lv_arena *a, size_t n)
{
    size_t r = lv_arena_round(n ? n : 1);
    if (!a->base || r > a->size - a->used) return NULL;
    void *p = a->base + a->used;
    a->used += r;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

void lv_arena_reset(lv_arena *a) { a->used = 0; }

void lv_arena_free(lv_arena *a)
{
    if (!a) return;
    free(a->base);
    memset(a, 0, sizeof *a);
}
