/* AVX-512F direct kernels (compiled with -mavx512f -mfma, used only when the CPU has them). */
#include <immintrin.h>
#include <math.h>

#include "direct_kernels.h"

#define DW_FN direct_f32_avx512
#define DW_T float
#define DW_V __m512
#define DW_W 16
#define DW_R 8
#define DW_LOAD(p) _mm512_loadu_ps(p)
#define DW_STORE(p, v) _mm512_storeu_ps(p, v)
#define DW_SET1(s) _mm512_set1_ps(s)
#define DW_ZERO() _mm512_setzero_ps()
#define DW_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define DW_SFMA(a, b, c) fmaf(a, b, c)
#include "direct_template.h"
#undef DW_FN
#undef DW_T
#undef DW_V
#undef DW_W
#undef DW_LOAD
#undef DW_STORE
#undef DW_SET1
#undef DW_ZERO
#undef DW_FMA
#undef DW_SFMA

#define DW_FN direct_f64_avx512
#define DW_T double
#define DW_V __m512d
#define DW_W 8
#define DW_LOAD(p) _mm512_loadu_pd(p)
#define DW_STORE(p, v) _mm512_storeu_pd(p, v)
#define DW_SET1(s) _mm512_set1_pd(s)
#define DW_ZERO() _mm512_setzero_pd()
#define DW_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define DW_SFMA(a, b, c) fma(a, b, c)
#include "direct_template.h"

const dwconv_direct_impl dwconv__direct_avx512 = {"avx512", direct_f32_avx512, direct_f64_avx512};
