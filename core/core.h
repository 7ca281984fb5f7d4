/* core.h - the public header of lladav's core library: what every stage shares.
 *
 *   status.h       status list, lv_fail(), lv_last_error()
 *   safetensors.h  mmap'd weights (single file or shards), dtype conversion, writer
 *   config.h       config.json (LLaDA-V and LLaDA-8B), the tensor-name table, weight checks
 *   threads.h      the --threads knob shared with OpenBLAS
 *   kernels.h      GEMM over mmap'd weights, norms, RoPE, attention, activations
 *   arena.h        bump allocator for activations (no malloc in the sampling loop)
 *   rng.h          counter-based RNG: draws depend on (seed, stream, counter) only
 *
 * Data flows core -> vision, projector, language -> pipeline; nothing includes a sibling.
 */
#ifndef LV_CORE_H
#define LV_CORE_H

#include "status.h"
#include "safetensors.h"
#include "config.h"
#include "threads.h"
#include "kernels.h"
#include "arena.h"
#include "rng.h"

#endif
