/* threads.h - the one --threads knob shared by our OpenMP loops and OpenBLAS.
 *
 * The Debian OpenBLAS is the pthread build: BLAS is only ever called outside OpenMP regions,
 * and both pools are sized by lv_threads_set(). Work is split by rows so that results never
 * depend on the thread count (reductions run in a fixed order inside one row).
 */
#ifndef LV_THREADS_H
#define LV_THREADS_H

int  lv_physical_cores(void);     /* physical cores (not SMT siblings), >= 1 */
void lv_threads_set(int n);       /* n <= 0 means lv_physical_cores() */
int  lv_threads_get(void);

#endif
