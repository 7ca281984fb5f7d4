/* rng.h - a counter-based random generator: every draw is a pure function of
 * (seed, stream, counter), so results never depend on the thread count or on the order in
 * which rows are visited.
 *
 * Definition (also what tests/reference mirrors in Python; all arithmetic mod 2^64):
 *   mix(z)      = splitmix64 finaliser: z ^= z>>30; z *= 0xBF58476D1CE4E5B9;
 *                                      z ^= z>>27; z *= 0x94D049BB133111EB; z ^= z>>31
 *   key         = mix(seed + 0x9E3779B97F4A7C15 * (stream + 1))
 *   u64         = mix(key  + 0x9E3779B97F4A7C15 * (counter + 1))
 *   uniform64   = (u64 >> 11) * 2^-53        in [0, 1), float64
 *   uniform32   = (u64 >> 40) * 2^-24        in [0, 1), exactly representable in float32
 *
 * Streams used by the sampler (language/diffusion.c): forward pass f (counted from 0 across
 * blocks) uses stream 2f for the Gumbel noise of entry (r, v) with counter r*V + v, and stream
 * 2f+1 for the random-remasking confidence of row r with counter r, where r is the index of the
 * position inside the generated region (0 = first generated token) and V the effective
 * vocabulary size.
 */
#ifndef LV_RNG_H
#define LV_RNG_H

#include <stdint.h>

uint64_t lv_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);
double   lv_rng_uniform64(uint64_t seed, uint64_t stream, uint64_t counter);  /* [0, 1) */
float    lv_rng_uniform32(uint64_t seed, uint64_t stream, uint64_t counter);  /* [0, 1) */

/* Key of (seed, stream), so a row loop can derive draws with lv_rng_keyed_u64(key, counter). */
uint64_t lv_rng_key(uint64_t seed, uint64_t stream);
uint64_t lv_rng_keyed_u64(uint64_t key, uint64_t counter);

#endif
