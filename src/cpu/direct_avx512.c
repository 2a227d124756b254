/* AVX-512F direct kernels (compiled with -mavx512f -mfma, used only when the CPU has them).
 * Tap groups use valignd/valignq windows: measured on Zen 4 at P = 63, one thread,
 * 81 GFLOP/s against 67 for one unaligned load per tap (docs/PERFORMANCE.md). */
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
#define DW_ALIGNR(hi, lo, u) \
  _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), (u)))
#define DW_ALIGN_STEPS                                                                          \
  DW_STEP(0) DW_STEP(1) DW_STEP(2) DW_STEP(3) DW_STEP(4) DW_STEP(5) DW_STEP(6) DW_STEP(7)       \
  DW_STEP(8) DW_STEP(9) DW_STEP(10) DW_STEP(11) DW_STEP(12) DW_STEP(13) DW_STEP(14) DW_STEP(15)
#include "direct_template.h"

#define DW_FN direct_f64_avx512
#define DW_T double
#define DW_V __m512d
#define DW_R 8
#define DW_W 8
#define DW_LOAD(p) _mm512_loadu_pd(p)
#define DW_STORE(p, v) _mm512_storeu_pd(p, v)
#define DW_SET1(s) _mm512_set1_pd(s)
#define DW_ZERO() _mm512_setzero_pd()
#define DW_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define DW_SFMA(a, b, c) fma(a, b, c)
#define DW_ALIGNR(hi, lo, u) \
  _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(hi), _mm512_castpd_si512(lo), (u)))
#define DW_ALIGN_STEPS \
  DW_STEP(0) DW_STEP(1) DW_STEP(2) DW_STEP(3) DW_STEP(4) DW_STEP(5) DW_STEP(6) DW_STEP(7)
#include "direct_template.h"

const dwconv_direct_impl dwconv__direct_avx512 = {"avx512", direct_f32_avx512, direct_f64_avx512};
