/* The CPU direct-convolution inner kernels, one set per instruction-set variant, and the
 * run-time choice between them. */
#ifndef DWCONV_DIRECT_KERNELS_H
#define DWCONV_DIRECT_KERNELS_H

#include <stddef.h>

/* y[i] = sum_{t < p} x[i + t] * k[t] for i < count, taps summed in order t = 0, 1, ...
 * x holds count + p - 1 readable samples. The SIMD variants use fused multiply-adds in every
 * lane and in their scalar tails, so a sample's value does not depend on where a call's range
 * starts: splitting a row among threads or chunks gives bitwise identical results. */
typedef void (*dwconv_direct_f32_fn)(const float *x, const float *k, size_t p, float *y,
                                     size_t count);
typedef void (*dwconv_direct_f64_fn)(const double *x, const double *k, size_t p, double *y,
                                     size_t count);

typedef struct dwconv_direct_impl {
  const char *name; /* "avx512", "avx2", "portable" */
  dwconv_direct_f32_fn f32;
  dwconv_direct_f64_fn f64;
} dwconv_direct_impl;

extern const dwconv_direct_impl dwconv__direct_portable;
#ifdef DWCONV_HAVE_AVX2
extern const dwconv_direct_impl dwconv__direct_avx2;
#endif
#ifdef DWCONV_HAVE_AVX512
extern const dwconv_direct_impl dwconv__direct_avx512;
#endif

/* The best variant the running CPU supports. DWCONV_SIMD=portable|avx2|avx512 in the
 * environment caps the choice (for tests and comparisons). */
const dwconv_direct_impl *dwconv__direct_select(void);

#endif /* DWCONV_DIRECT_KERNELS_H */
