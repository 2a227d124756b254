/* The GEMM path's front-end rules and block length; see gemm_model.h.
 *
 * Per row, with T outputs per block, K = P + T - 1 (padded to Kp) and n outputs per row:
 *   flops  2 * n * Kp * passes              (passes: 1, or 3 for TF32X3)
 *   bytes  es * n * (2 * Kp / T * parts     (X written by the gather, read by the GEMM)
 *                    + 2 * Kp * T / n * parts (W written once per chunk row, read by the GEMM)
 *                    + 4)                     (A read, Y written and read, C written)
 * (parts: 1, or 2 for TF32X3's high and low halves). Larger T wastes flops on the Toeplitz
 * zeros and grows W; smaller T grows X. The time is the roofline max(flops / rate,
 * bytes / bandwidth), and T is the power-of-two multiple of DWCONV_GEMM_ALIGN that minimises
 * it. The rates are H100 SXM datasheet figures scaled by assumed efficiencies, not
 * measurements: they pick T, and AUTO does not use them (measured = 0) until a GPU run
 * replaces them. */
#include <math.h>
#include <stdlib.h>

#include "gemm_model.h"

typedef struct gemm_constants {
  double flop_per_ns; /* sustained GEMM rate */
  double byte_per_ns; /* sustained device-memory bandwidth */
} gemm_constants;

/* H100 SXM: FP32 (SIMT) 67 TFLOP/s, TF32 tensor 495 (dense), FP64 tensor 67, HBM3 3.35 TB/s;
 * assumed sustained 75% (FP32), 60% (TF32), 80% (FP64) and 80% of the bandwidth. */
static const gemm_constants gemm_f32_ieee = {50000.0, 2700.0};
static const gemm_constants gemm_f32_tf32 = {300000.0, 2700.0};
static const gemm_constants gemm_f64_ieee = {54000.0, 2700.0};
/* 0 until the constants above come from a GPU run (scripts/gpu-check.sh bench). */
static const int gemm_measured = 0;

dwconv_status dwconv__gemm_check(const dwconv_problem *prob) {
  const dwconv_desc *d = &prob->desc;
  const char *math = d->math == DWCONV_MATH_TF32 ? "TF32" : "TF32X3";
  if (d->algo == DWCONV_ALGO_GEMM && d->backend == DWCONV_BACKEND_CPU)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "ALGO_GEMM runs on CUDA plans only (cuBLAS tensor cores); this plan is on the "
                         "CPU (BACKEND_CPU, or BACKEND_AUTO without a GPU), where ALGO_DIRECT or "
                         "ALGO_FFT do the work");
  if (d->math == DWCONV_MATH_IEEE) return DWCONV_SUCCESS;
  if (d->backend == DWCONV_BACKEND_CPU)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "desc.math %s needs a CUDA plan with ALGO_GEMM; CPU plans compute in IEEE "
                         "arithmetic only (use DWCONV_MATH_IEEE)",
                         math);
  if (d->algo != DWCONV_ALGO_GEMM)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "desc.math %s applies to ALGO_GEMM only: the %s path computes in IEEE "
                         "arithmetic (use DWCONV_MATH_IEEE, or ALGO_GEMM; ALGO_AUTO does not pick "
                         "GEMM)",
                         math, d->algo == DWCONV_ALGO_DIRECT ? "direct" : d->algo == DWCONV_ALGO_FFT ? "FFT" : "AUTO");
  if (d->dtype == DWCONV_FLOAT64)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "desc.math %s applies to float32; float64 GEMM plans use DGEMM (IEEE, "
                         "DWCONV_MATH_IEEE)",
                         math);
  return DWCONV_SUCCESS;
}

double dwconv__gemm_row_cost(const dwconv_problem *prob, size_t t, int *measured) {
  const dwconv_geometry *g = &prob->geom;
  const int f64 = prob->desc.dtype == DWCONV_FLOAT64;
  const dwconv_math math = prob->desc.math;
  const gemm_constants *k = f64 ? &gemm_f64_ieee : math == DWCONV_MATH_IEEE ? &gemm_f32_ieee : &gemm_f32_tf32;
  const double passes = math == DWCONV_MATH_TF32X3 ? 3.0 : 1.0;
  const double parts = math == DWCONV_MATH_TF32X3 ? 2.0 : 1.0;
  const double n = (double)g->out_len, T = (double)t;
  const double kp = ceil(((double)g->p + T - 1.0) / DWCONV_GEMM_ALIGN) * DWCONV_GEMM_ALIGN;
  const double nb = ceil(n / T);
  const double flops = 2.0 * nb * T * kp * passes;
  const double elems = nb * T * (2.0 * kp / T * parts + 4.0) + 2.0 * kp * T * parts;
  const double bytes = elems * (double)prob->elem_size;
  *measured = gemm_measured;
  return fmax(flops / k->flop_per_ns, bytes / k->byte_per_ns);
}

/* The test-only DWCONV_GEMM_BLOCK, or 0 when unset or not a positive multiple of the
 * alignment. */
static size_t env_block(void) {
  const char *v = getenv("DWCONV_GEMM_BLOCK");
  if (v == NULL || *v == '\0') return 0;
  char *end = NULL;
  unsigned long long x = strtoull(v, &end, 10);
  if (end == NULL || *end != '\0' || x == 0 || x % DWCONV_GEMM_ALIGN != 0 || x > DWCONV_GEMM_MAX_T) return 0;
  return (size_t)x;
}

dwconv_status dwconv__gemm_choose_block(dwconv_problem *prob) {
  dwconv_geometry *g = &prob->geom;
  /* Kp must fit an int (cuBLAS dimensions) with room for the largest T. */
  if (g->p > (size_t)0x7fffffff - DWCONV_GEMM_MAX_T - DWCONV_GEMM_ALIGN)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW,
                         "kernel_len %zu is too long for ALGO_GEMM (cuBLAS takes int dimensions); "
                         "use ALGO_FFT",
                         g->p);
  size_t best = env_block();
  if (best == 0) {
    double best_cost = INFINITY;
    int measured;
    /* No block longer than the row (rounded up to the alignment) is worth its zeros. */
    for (size_t t = DWCONV_GEMM_ALIGN; t <= DWCONV_GEMM_MAX_T; t *= 2) {
      double c = dwconv__gemm_row_cost(prob, t, &measured);
      if (c < best_cost) {
        best_cost = c;
        best = t;
      }
      if (t >= g->out_len) break;
    }
  }
  dwconv__geometry_set_block(g, g->p + best - 1);
  return DWCONV_SUCCESS;
}
