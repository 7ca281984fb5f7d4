/* rng.c - splitmix64-based counter RNG (definition in rng.h). */
#include "rng.h"

#define LV_GOLDEN 0x9E3779B97F4A7C15ull

static uint64_t lv_mix64(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ull;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t lv_rng_key(uint64_t seed, uint64_t stream) { return lv_mix64(seed + LV_GOLDEN * (stream + 1)); }

uint64_t lv_rng_keyed_u64(uint64_t key, uint64_t counter) { return lv_mix64(key + LV_GOLDEN * (counter + 1)); }

uint64_t lv_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return lv_rng_keyed_u64(lv_rng_key(seed, stream), counter);
}

double lv_rng_uniform64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return (double)(lv_rng_u64(seed, stream, counter) >> 11) * 0x1p-53;
}

float lv_rng_uniform32(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return (float)(lv_rng_u64(seed, stream, counter) >> 40) * 0x1p-24f;
}
