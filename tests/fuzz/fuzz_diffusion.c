/* fuzz_diffusion.c - the sampler's parameter validation, and small accepted runs of the sampler
 * itself against scripted logits (a hash of the tail, the row and the column, so runs are
 * deterministic and depend on the canvas). The input is read as little-endian fields:
 *   u8 sampler, i16 steps, i16 gen_length, i16 block_length, u8 temperature/16,
 *   u8 cfg/16, u8 remasking, u8 seed, i16 mask_id, i16 vocab, u8 flags, u8 eos, u8 eot,
 *   then n_ban, n_stops, n_suffix (u8 each) and their ids (i16), stop lengths (u8).
 * A NaN or infinite temperature / cfg comes from the high values of their bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "language.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_reader;

static int rd_u8(fuzz_reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static int rd_i16(fuzz_reader *r)
{
    int lo = rd_u8(r), hi = rd_u8(r);
    return (int16_t)(uint16_t)(lo | hi << 8);
}

static double rd_real(fuzz_reader *r)
{
    int v = rd_u8(r);
    return v == 255 ? NAN : v == 254 ? INFINITY : v == 253 ? -1.0 : v / 16.0;
}

static lv_status fuzz_logits(void *model, const int32_t *tail, int n_tail, int uncond,
                             const int32_t *rows, int n_rows, float *logits)
{
    int V = *(const int *)model;
    uint32_t h = 2166136261u ^ (uint32_t)uncond;
    for (int i = 0; i < n_tail; i++) h = (h ^ (uint32_t)tail[i]) * 16777619u;
    for (int r = 0; r < n_rows; r++)
        for (int v = 0; v < V; v++) {
            uint32_t x = (h ^ (uint32_t)rows[r] * 2654435761u ^ (uint32_t)v * 40503u) * 2246822519u;
            x ^= x >> 15;
            /* a few ties and a few -inf columns on purpose */
            logits[(size_t)r * V + v] = (x & 31) == 0 ? -INFINITY : (float)(x % 7);
        }
    return LV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    lv_diffusion_params p = lv_diffusion_default_params();
    p.sampler = (lv_sampler)(rd_u8(&r) % 3);
    p.steps = rd_i16(&r);
    p.gen_length = rd_i16(&r);
    p.block_length = rd_i16(&r);
    p.temperature = rd_real(&r);
    p.cfg_scale = rd_real(&r);
    p.remasking = (lv_remask)(rd_u8(&r) % 3);
    p.seed = (uint64_t)rd_u8(&r);
    p.mask_id = rd_i16(&r);
    p.vocab = rd_i16(&r);
    int flags = rd_u8(&r);
    p.logits_eos_inf = flags & 1;
    p.confidence_eos_eot_inf = (flags >> 1) & 1;
    p.eos_id = rd_u8(&r) - 1;
    p.eot_id = rd_u8(&r) - 1;
    int n_ban = rd_u8(&r) % 8, n_stops = rd_u8(&r) % 4, n_suffix = rd_u8(&r) % 8;
    int32_t ban[8], suffix[8], stop_ids[4][4];
    lv_token_seq stops[4];
    for (int i = 0; i < n_ban; i++) ban[i] = rd_i16(&r);
    for (int i = 0; i < n_suffix; i++) suffix[i] = rd_i16(&r);
    for (int i = 0; i < n_stops; i++) {
        stops[i].n = rd_u8(&r) % 5;
        for (int k = 0; k < stops[i].n; k++) stop_ids[i][k] = rd_i16(&r);
        stops[i].ids = stops[i].n ? stop_ids[i] : NULL;
    }
    p.ban_ids = n_ban ? ban : NULL;
    p.n_ban = n_ban;
    p.suffix = n_suffix ? suffix : NULL;
    p.n_suffix = n_suffix;
    p.stops = n_stops ? stops : NULL;
    p.n_stops = n_stops;

    char buf[512];
    lv_diffusion_params_str(&p, buf, sizeof buf);
    if (lv_diffusion_validate(&p) != LV_OK) return 0;
    /* small enough to run: the validator's acceptance is then exercised end to end */
    if (p.gen_length > 64 || p.vocab > 64 || p.mask_id >= 4096) return 0;
    int32_t *ids = malloc((size_t)(p.gen_length + p.n_suffix) * sizeof *ids);
    int32_t *committed = malloc((size_t)p.gen_length * sizeof *committed);
    if (!ids || !committed) abort();
    lv_diffusion_result res = {.ids = ids, .committed_step = committed};
    int V = p.vocab;
    if (lv_diffusion_generate(&p, fuzz_logits, &V, &res) == LV_OK) {
        if (res.n_ids < 0 || res.n_ids > p.gen_length + p.n_suffix) abort();
        for (int i = 0; i < res.n_ids; i++)
            if (ids[i] < 0 || (ids[i] >= p.vocab && ids[i] != p.mask_id)) abort();
    }
    free(ids);
    free(committed);
    return 0;
}
