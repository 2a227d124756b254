/* Portable C direct kernels (any CPU), and the run-time choice of variant.
 * The "vector" here is a single scalar, so the same template gives a plain loop that the
 * compiler may still vectorise. This file is compiled with -ffp-contract=off (CMakeLists.txt)
 * so multiply and add are rounded separately everywhere, whatever -march a packager uses:
 * every output then gets the same arithmetic wherever a chunk boundary falls. */
#include <stdlib.h>
#include <string.h>

#include "direct_kernels.h"

/* Multiply, then add: each rounded, as on a CPU without FMA. */
static inline float mul_add_f32(float a, float b, float c) {
  float m = a * b;
  return m + c;
}
static inline double mul_add_f64(double a, double b, double c) {
  double m = a * b;
  return m + c;
}

#define DW_FN direct_f32_portable
#define DW_T float
#define DW_V float
#define DW_W 1
#define DW_R 8
#define DW_LOAD(p) (*(p))
#define DW_STORE(p, v) (*(p) = (v))
#define DW_SET1(s) (s)
#define DW_ZERO() 0.0f
#define DW_FMA(a, b, c) mul_add_f32(a, b, c)
#define DW_SFMA(a, b, c) mul_add_f32(a, b, c)
#include "direct_template.h"

#define DW_FN direct_f64_portable
#define DW_T double
#define DW_V double
#define DW_R 8
#define DW_W 1
#define DW_LOAD(p) (*(p))
#define DW_STORE(p, v) (*(p) = (v))
#define DW_SET1(s) (s)
#define DW_ZERO() 0.0
#define DW_FMA(a, b, c) mul_add_f64(a, b, c)
#define DW_SFMA(a, b, c) mul_add_f64(a, b, c)
#include "direct_template.h"

const dwconv_direct_impl dwconv__direct_portable = {"portable", direct_f32_portable,
                                                    direct_f64_portable};

/* Variants in order of preference, with the CPU feature test for each. */
const dwconv_direct_impl *dwconv__direct_select(void) {
  const char *cap = getenv("DWCONV_SIMD");
  int rank_cap = 3;
  if (cap != NULL) {
    if (strcmp(cap, "portable") == 0) rank_cap = 1;
    else if (strcmp(cap, "avx2") == 0) rank_cap = 2;
  }
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
#ifdef DWCONV_HAVE_AVX512
  if (rank_cap >= 3 && __builtin_cpu_supports("avx512f")) return &dwconv__direct_avx512;
#endif
#ifdef DWCONV_HAVE_AVX2
  if (rank_cap >= 2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return &dwconv__direct_avx2;
#endif
#endif
  (void)rank_cap;
  return &dwconv__direct_portable;
}
