/* threads.c - thread count, physical core detection and the condition-variable thread pool. */
#include "threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int num_threads);   /* from libopenblas, not in cblas.h everywhere */

#define LV_POOL_MAX 256

static atomic_int lv_n_threads = 0;

/* Count distinct (physical id, core id) pairs in /proc/cpuinfo; fall back to online CPUs. */
int lv_physical_cores(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    int n = 0;
    if (f) {
        char line[256];
        int phys = 0, seen[4096][2];
        while (fgets(line, sizeof line, f) && n < 4096) {
            int v;
            if (sscanf(line, "physical id : %d", &v) == 1) phys = v;
            else if (sscanf(line, "core id : %d", &v) == 1) {
                int dup = 0;
                for (int i = 0; i < n && !dup; i++) dup = seen[i][0] == phys && seen[i][1] == v;
                if (!dup) { seen[n][0] = phys; seen[n][1] = v; n++; }
            }
        }
        fclose(f);
    }
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    return n;
}

void lv_threads_set(int n)
{
    if (n <= 0) n = lv_physical_cores();
    if (n > LV_POOL_MAX) n = LV_POOL_MAX;
    atomic_store(&lv_n_threads, n);
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int lv_threads_get(void)
{
    if (atomic_load(&lv_n_threads) <= 0) lv_threads_set(0);
    return atomic_load(&lv_n_threads);
}

int lv_par_tasks(int n, size_t work)
{
    if (n <= 1 || (size_t)n * work < LV_PAR_MIN_WORK) return n < 1 ? 0 : 1;
    int t = 4 * lv_threads_get();
    return t < n ? t : n;
}

/* ---- the pool ---------------------------------------------------------------------------
 * One job at a time: the caller publishes (fn, ctx, n_tasks), bumps `gen` and broadcasts;
 * the first n_help workers take task indices from an atomic counter, the caller too; the last
 * helper to finish signals `done`. Workers not needed for a job go back to sleep. */
typedef struct {
    pthread_mutex_t call;          /* serialises jobs of different user threads */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long gen;             /* job counter */
    int n_spawned;                 /* workers started (ids 1..n_spawned) */
    unsigned long spawn_gen;       /* `gen` before the job that started the newest workers */
    int n_help;                    /* workers taking part in the current job */
    int busy;                      /* helpers of the current job still running */
    lv_task_fn fn;
    void *ctx;
    int n_tasks;
    atomic_int next;               /* next task index to hand out */
} lv_pool;

static lv_pool lv_the_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                              PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0,
                              NULL, NULL, 0, 0};
static _Thread_local int lv_in_task = 0;
static pthread_once_t lv_pool_once = PTHREAD_ONCE_INIT;

/* A forked child has only the thread that forked: it starts with an empty pool (fresh locks),
 * and spawns its own workers on its first job (Check forks every test). */
static void lv_pool_after_fork(void)
{
    lv_pool *p = &lv_the_pool;
    pthread_mutex_init(&p->call, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->n_spawned = p->n_help = p->busy = 0;
}

static void lv_pool_fork_prepare(void)
{
    pthread_mutex_lock(&lv_the_pool.call);   /* no job in flight while forking */
}

static void lv_pool_fork_parent(void)
{
    pthread_mutex_unlock(&lv_the_pool.call);
}

static void lv_pool_register_fork(void)
{
    pthread_atfork(lv_pool_fork_prepare, lv_pool_fork_parent, lv_pool_after_fork);
}

static void lv_pool_drain(lv_pool *p, lv_task_fn fn, void *ctx, int n_tasks)
{
    lv_in_task = 1;
    for (int t; (t = atomic_fetch_add(&p->next, 1)) < n_tasks;) fn(ctx, t);
    lv_in_task = 0;
}

static void *lv_pool_worker(void *arg)
{
    lv_pool *p = &lv_the_pool;
    int id = (int)(size_t)arg;
    pthread_mutex_lock(&p->mu);
    unsigned long seen = p->spawn_gen;   /* so the job that started it is not missed */
    for (;;) {
        while (p->gen == seen) pthread_cond_wait(&p->wake, &p->mu);
        seen = p->gen;
        if (id > p->n_help) continue;
        lv_task_fn fn = p->fn;
        void *ctx = p->ctx;
        int n_tasks = p->n_tasks;
        pthread_mutex_unlock(&p->mu);
        lv_pool_drain(p, fn, ctx, n_tasks);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    return NULL;
}

void lv_parallel_for(int n_tasks, lv_task_fn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    int want = lv_threads_get();
    if (want > n_tasks) want = n_tasks;
    if (lv_in_task || want <= 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    lv_pool *p = &lv_the_pool;
    pthread_once(&lv_pool_once, lv_pool_register_fork);
    pthread_mutex_lock(&p->call);
    pthread_mutex_lock(&p->mu);
    p->spawn_gen = p->gen;
    while (p->n_spawned < want - 1) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int ok = pthread_create(&th, &at, lv_pool_worker, (void *)(size_t)(p->n_spawned + 1)) == 0;
        pthread_attr_destroy(&at);
        if (!ok) break;   /* fewer threads: still correct, the caller does the rest */
        p->n_spawned++;
    }
    p->n_help = want - 1 < p->n_spawned ? want - 1 : p->n_spawned;
    p->busy = p->n_help;
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->gen++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    lv_pool_drain(p, fn, ctx, n_tasks);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->call);
}

/* ---- per-thread scratch ------------------------------------------------------------------ */

static _Thread_local float *lv_scratch_buf = NULL;
static _Thread_local size_t lv_scratch_cap = 0;

float *lv_thread_scratch(size_t n_floats)
{
    if (n_floats > lv_scratch_cap) {
        free(lv_scratch_buf);
        lv_scratch_buf = malloc(n_floats * sizeof *lv_scratch_buf);
        lv_scratch_cap = lv_scratch_buf ? n_floats : 0;
    }
    return lv_scratch_buf;
}
