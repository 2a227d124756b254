/* AVX2 + FMA direct kernels (compiled with -mavx2 -mfma, used only when the CPU has them).
 * 12 accumulators + broadcast + load fit the 16 ymm registers; loads fold into the FMAs. */
#include <immintrin.h>
#include <math.h>

#include "direct_kernels.h"

#define DW_FN direct_f32_avx2
#define DW_T float
#define DW_V __m256
#define DW_W 8
#define DW_R 12
#define DW_LOAD(p) _mm256_loadu_ps(p)
#define DW_STORE(p, v) _mm256_storeu_ps(p, v)
#define DW_SET1(s) _mm256_set1_ps(s)
#define DW_ZERO() _mm256_setzero_ps()
#define DW_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define DW_SFMA(a, b, c) fmaf(a, b, c)
#include "direct_template.h"

#define DW_FN direct_f64_avx2
#define DW_T double
#define DW_V __m256d
#define DW_R 12
#define DW_W 4
#define DW_LOAD(p) _mm256_loadu_pd(p)
#define DW_STORE(p, v) _mm256_storeu_pd(p, v)
#define DW_SET1(s) _mm256_set1_pd(s)
#define DW_ZERO() _mm256_setzero_pd()
#define DW_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define DW_SFMA(a, b, c) fma(a, b, c)
#include "direct_template.h"

const dwconv_direct_impl dwconv__direct_avx2 = {"avx2", direct_f32_avx2, direct_f64_avx2};
