/* threads.c - thread count shared by OpenMP and OpenBLAS; physical core detection. */
#include "threads.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int num_threads);   /* from libopenblas, not in cblas.h everywhere */

static int lv_n_threads = 0;

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
    lv_n_threads = n;
    openblas_set_num_threads(n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int lv_threads_get(void)
{
    if (lv_n_threads <= 0) lv_threads_set(0);
    return lv_n_threads;
}
