/* threads.h - the one --threads knob and lladav's own thread pool.
 *
 * All parallel work of core/ (and of the vision tower, projector and LLaDA through it) runs on
 * one persistent pthread pool: the calling thread plus lv_threads_get() - 1 workers that sleep
 * on a condition variable between jobs (no spinning: on a loaded 2-core machine, OpenMP's and
 * OpenBLAS's spin-waiting workers fighting over the cores made 2 threads 2.5-3x slower than 1).
 * OpenBLAS itself is kept at one thread and called from inside pool tasks on fixed slices, so
 * exactly one set of threads exists. Work is split into tasks whose boundaries depend on the
 * problem size only (never on the thread count), and each task reduces in a fixed order, so
 * results are identical for any thread count.
 *
 *   static void row_task(void *ctx, int task) { ... rows [task*B, task*B + B) ... }
 *   lv_parallel_for(n_tasks, row_task, &ctx);   // returns when every task has run
 */
#ifndef LV_THREADS_H
#define LV_THREADS_H

#include <stddef.h>

int  lv_physical_cores(void);     /* physical cores (not SMT siblings), >= 1 */
/* n <= 0 means lv_physical_cores(). Also sets OpenBLAS to 1 thread (the pool slices GEMMs)
 * and OpenMP to n (for the few OpenMP loops left outside core/). */
void lv_threads_set(int n);
int  lv_threads_get(void);

typedef void (*lv_task_fn)(void *ctx, int task);

/* Run fn(ctx, 0..n_tasks) on the pool (the caller works too) and return when all are done.
 * Tasks may run in any order on any thread. A call from inside a task, or with one thread,
 * runs inline. Concurrent callers from different user threads are serialised. */
void lv_parallel_for(int n_tasks, lv_task_fn fn, void *ctx);

/* Tasks for n rows of `work` elements each: one when the whole job is smaller than
 * LV_PAR_MIN_WORK (waking a thread costs more), else about 4 per thread. Rows are
 * independent in every caller, so the split never changes a result. */
#define LV_PAR_MIN_WORK ((size_t)1 << 16)
int  lv_par_tasks(int n, size_t work);

/* A grow-only float buffer private to the calling OS thread (pool worker or user thread),
 * for per-task scratch (widened weight panels, attention scores); NULL on allocation failure
 * of a larger size. Valid until the next call on the same thread. */
float *lv_thread_scratch(size_t n_floats);

#endif
