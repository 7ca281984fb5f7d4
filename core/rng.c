/* rng.c - splitmix64 counter hashing (definition in rng.h). */
#include "rng.h"

uint64_t lv_rng_splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t lv_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return lv_rng_splitmix64((seed << 32) + (stream << 63) + counter);
}

double lv_rng_uniform64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return (double)(lv_rng_u64(seed, stream, counter) >> 11) * 0x1p-53;
}

float lv_rng_uniform32(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return (float)(lv_rng_u64(seed, stream, counter) >> 40) * 0x1p-24f;
}
