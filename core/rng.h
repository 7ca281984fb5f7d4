/* rng.h - a counter-based random generator: every draw is a pure function of
 * (seed, stream, counter), so results never depend on the thread count or on the order in
 * which rows are visited. The definition is shared with the PyTorch reference
 * (tests/reference/lladav_ref.py, CounterNoise; README "RNG"), so seeded fixtures match.
 *
 * All arithmetic mod 2^64:
 *   splitmix64(x) = z = x + 0x9E3779B97F4A7C15; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
 *                   z = (z ^ z>>27) * 0x94D049BB133111EB; z ^ z>>31
 *   u64(seed, stream, counter) = splitmix64((seed << 32) + (stream << 63) + counter)
 *   uniform64 = (u64 >> 11) · 2^-53   in [0, 1), float64
 *   uniform32 = (u64 >> 40) · 2^-24   in [0, 1), exact in float32
 *
 * Streams used by the sampler (language/diffusion.c), for forward pass p (counted from 0
 * across blocks), response row j in [0, G) (G = gen_length) and token v in [0, V_eff):
 *   Gumbel noise          stream 0, counter (p·G + j)·V + v, uniform64
 *   random remasking      stream 1, counter p·G + j,         uniform32
 */
#ifndef LV_RNG_H
#define LV_RNG_H

#include <stdint.h>

#define LV_RNG_STREAM_GUMBEL 0
#define LV_RNG_STREAM_REMASK 1

uint64_t lv_rng_splitmix64(uint64_t x);
uint64_t lv_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);
double   lv_rng_uniform64(uint64_t seed, uint64_t stream, uint64_t counter);  /* [0, 1) */
float    lv_rng_uniform32(uint64_t seed, uint64_t stream, uint64_t counter);  /* [0, 1) */

#endif
