/* CPU FFT path: overlap-save on FFTW3 (float and double), two real blocks per complex transform. */
#ifndef DWCONV_CPU_FFT_H
#define DWCONV_CPU_FFT_H

#include "internal.h"

typedef struct dwconv_cpu_fft dwconv_cpu_fft;

/* Makes the FFTW plans (serialised library-wide: the FFTW planner is not thread-safe) and one
 * transform buffer per thread for prob's block length. OUT_OF_MEMORY or NOT_SUPPORTED (no
 * FFTW in this build) on failure, with nothing left allocated. */
dwconv_status dwconv__cpu_fft_create(const dwconv_problem *prob, dwconv_cpu_fft **out);

/* Transforms the kernel rows once: spectrum of B (CONVOLVE) or reversed B (CORRELATE),
 * zero-padded to the block length and scaled by 1/L. ldb = 0: one spectrum for all rows. */
dwconv_status dwconv__cpu_fft_set_kernel(dwconv_cpu_fft *f, const void *B, ptrdiff_t ldb);

/* Runs overlap-save over every (row, block) pair, in parallel, straight into C. */
void dwconv__cpu_fft_execute(dwconv_cpu_fft *f, const void *A, ptrdiff_t lda, void *C,
                             ptrdiff_t ldc);

/* Whether dwconv__cpu_fft_convolve applies: one kernel row per signal row (ldb != 0) and at
 * least 4 rows per thread. */
int dwconv__cpu_fft_fuses(const dwconv_cpu_fft *f, ptrdiff_t ldb);

/* One shot without the stored spectrum: each row's kernel spectrum is made by the thread that
 * then runs that row, in a small per-thread buffer. Gives the same bits as set_kernel +
 * execute. OUT_OF_MEMORY when the per-thread buffer cannot be had. */
dwconv_status dwconv__cpu_fft_convolve(dwconv_cpu_fft *f, const void *A, ptrdiff_t lda, const void *B,
                                       ptrdiff_t ldb, void *C, ptrdiff_t ldc);

/* Bytes held (buffers and spectrum). */
size_t dwconv__cpu_fft_bytes(const dwconv_cpu_fft *f);

void dwconv__cpu_fft_destroy(dwconv_cpu_fft *f);

#ifdef DWCONV_HAVE_FFTW
/* The library-wide FFTW planner lock (fft_fftw.c): held around every FFTW planner, plan
 * destruction and wisdom call. */
void dwconv__fftw_lock(void);
void dwconv__fftw_unlock(void);
/* With the lock held: frees idle cached plans and marks the others stale (new wisdom). */
void dwconv__fft_cache_stale_locked(void);
#endif

#endif /* DWCONV_CPU_FFT_H */
