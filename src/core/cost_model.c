/* Chooses direct or FFT, and the overlap-save block length, from a cost model.
 *
 * Direct, per row:  out_len * (min(N, P) * t_mac + t_out)   (the CPU swaps roles when P > N)
 * FFT, per row:     CPU:  floor(blocks/2) * T_cplx(L) + (blocks % 2) * T_real(L) + blocks * L * t_point
 *                         (two real blocks of a row share one complex transform pair; a row's odd
 *                         last block uses the real pair; T from the measured cpu_fft_table.h)
 *                   CUDA: blocks * (L * log2(L) * t_fft + L * t_point)
 *                   with blocks = ceil(out_len / (L - P + 1)).
 * Constants are per backend and dtype, in nanoseconds (CPU: one thread; only ratios matter for
 * the choice). docs/PERFORMANCE.md records how they were measured. */
#include <limits.h>
#include <math.h>

#include "cpu_fft_table.h"
#include "gemm_model.h"
#include "internal.h"

typedef struct cost_constants {
  double t_mac;   /* direct: one multiply-add */
  double t_out;   /* direct: per output sample (loads, stores, loop overhead) */
  double t_fft;   /* CUDA FFT: per L*log2(L) of one forward + one inverse transform */
  double t_point; /* FFT: per transform point (gather, multiply, scatter) */
} cost_constants;

/* CPU: AVX-512 direct kernel 81 GFLOP/s (f32) per thread at P = 63 on the development machine;
 * gather/multiply/scatter 0.9 ns a transform point, fitted to whole-run times at
 * M = 256, N = 16384, P = 63..4095 on one pinned thread (docs/PERFORMANCE.md). */
static const cost_constants cpu_f32 = {0.0247, 0.05, 0, 0.9};
static const cost_constants cpu_f64 = {0.0494, 0.10, 0, 1.3};
/* CUDA constants: assumed, not yet measured on a GPU (H100 fp32 peak ~60 TFLOP/s, ~3 TB/s;
 * cuFFT reaches ~50% of bandwidth). FP64 runs at half the FP32 rate on an H100 (not the 1/64
 * of consumer GPUs), so f64 costs twice f32 throughout. Replace with figures from a GPU run. */
static const cost_constants cuda_f32 = {0.00004, 0.0030, 0.00050, 0.0050};
static const cost_constants cuda_f64 = {0.00008, 0.0060, 0.00100, 0.0100};

#define CPU_TABLE_LEN (sizeof cpu_fft_table / sizeof cpu_fft_table[0])

/* CPU transform pair times for length L: from the table, or extrapolated by L log L from its
 * largest power of two (with a 20% penalty for leaving the measured range). */
static void cpu_pair_times(size_t L, int f64, double *t_real, double *t_cplx) {
  for (size_t i = 0; i < CPU_TABLE_LEN; i++)
    if (cpu_fft_table[i].L == (double)L) {
      *t_real = f64 ? cpu_fft_table[i].real_f64 : cpu_fft_table[i].real_f32;
      *t_cplx = f64 ? cpu_fft_table[i].cplx_f64 : cpu_fft_table[i].cplx_f32;
      return;
    }
  const cpu_fft_time *top = &cpu_fft_table[0];
  for (size_t i = 0; i < CPU_TABLE_LEN; i++)
    if (cpu_fft_table[i].L > top->L && ((size_t)cpu_fft_table[i].L & ((size_t)cpu_fft_table[i].L - 1)) == 0)
      top = &cpu_fft_table[i];
  double scale = 1.2 * (double)L * log2((double)L) / (top->L * log2(top->L));
  *t_real = scale * (f64 ? top->real_f64 : top->real_f32);
  *t_cplx = scale * (f64 ? top->cplx_f64 : top->cplx_f32);
}

static double fft_row_cost(const dwconv_problem *prob, const cost_constants *k, size_t L) {
  const dwconv_geometry *g = &prob->geom;
  double blocks = ceil((double)g->out_len / (double)(L - g->p + 1));
  if (prob->desc.backend == DWCONV_BACKEND_CUDA)
    return blocks * ((double)L * log2((double)L) * k->t_fft + (double)L * k->t_point);
  double t_real, t_cplx;
  cpu_pair_times(L, prob->desc.dtype == DWCONV_FLOAT64, &t_real, &t_cplx);
  double pairs = floor(blocks / 2), odd = blocks - 2 * pairs;
  return pairs * t_cplx + odd * t_real + blocks * (double)L * k->t_point;
}

/* Is L a candidate block length for this backend? CPU: the measured table's lengths, and
 * 2^a * {1, 3, 5} above it, within FFTW's int; CUDA: any even 7-smooth length. */
static int candidate(const dwconv_problem *prob, size_t L) {
  if (L % 2 != 0) return 0;
  if (prob->desc.backend == DWCONV_BACKEND_CUDA) return 1;
  if (L > (size_t)INT_MAX) return 0; /* FFTW takes int lengths */
  /* Inside the measured range only measured lengths; beyond it 2^a * {1, 3, 5}. */
  if ((double)L <= cpu_fft_table[CPU_TABLE_LEN - 1].L) {
    for (size_t i = 0; i < CPU_TABLE_LEN; i++)
      if (cpu_fft_table[i].L == (double)L) return 1;
    return 0;
  }
  size_t m = L;
  while (m % 2 == 0) m /= 2;
  return m == 1 || m == 3 || m == 5;
}

/* Best block length by the cost model, searched over 7-smooth lengths from P+1 up to one
 * block covering the whole output row. Returns 0 if none fits. */
static size_t best_block_len(const dwconv_problem *prob, const cost_constants *k, double *cost_out) {
  const dwconv_geometry *g = &prob->geom;
  size_t hi = dwconv__next_smooth7(g->out_len + g->p - 1);
  size_t lo = g->p + 1 < 16 ? 16 : g->p + 1;
  if (hi == 0) return 0;
  if (hi < lo) hi = lo;
  /* Lengths up to twice the one-block size: the best candidate shape (e.g. a power of two)
   * may lie just above it, and a power of two always lies in [lo, 2 lo). */
  if (hi > SIZE_MAX / 2) return 0;
  hi *= 2;
  size_t best = 0;
  double best_cost = INFINITY;
  for (size_t f7 = 1; f7 <= hi; f7 *= 7)
    for (size_t f5 = f7; f5 <= hi; f5 *= 5)
      for (size_t f3 = f5; f3 <= hi; f3 *= 3)
        for (size_t L = f3; L <= hi; L *= 2) {
          if (L < lo || !candidate(prob, L)) continue;
          double c = fft_row_cost(prob, k, L);
          if (c < best_cost || (c == best_cost && L < best)) {
            best_cost = c;
            best = L;
          }
          if (L > SIZE_MAX / 2) break;
        }
  *cost_out = best_cost;
  return best;
}

dwconv_status dwconv__choose_algorithm(dwconv_problem *prob, int fft_available) {
  const int f64 = prob->desc.dtype == DWCONV_FLOAT64;
  const cost_constants *k = prob->desc.backend == DWCONV_BACKEND_CUDA ? (f64 ? &cuda_f64 : &cuda_f32)
                                                                      : (f64 ? &cpu_f64 : &cpu_f32);
  dwconv_geometry *g = &prob->geom;
  /* GEMM is only ever asked for (dwconv__gemm_check has refused it on the CPU): AUTO leaves it
   * out while dwconv__gemm_row_cost's constants are unmeasured. */
  if (prob->desc.algo == DWCONV_ALGO_GEMM) return dwconv__gemm_choose_block(prob);
  if (prob->desc.algo == DWCONV_ALGO_FFT && !fft_available)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "ALGO_FFT requested but this dwconv was built without FFTW (DWCONV_WITH_FFTW=OFF)");
  if (prob->desc.algo == DWCONV_ALGO_DIRECT || !fft_available) {
    prob->desc.algo = DWCONV_ALGO_DIRECT;
    return DWCONV_SUCCESS;
  }
  double fft = 0;
  size_t L = best_block_len(prob, k, &fft);
  if (L == 0) {
    if (prob->desc.algo == DWCONV_ALGO_FFT)
      return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "no FFT block length fits kernel_len %zu", g->p);
    prob->desc.algo = DWCONV_ALGO_DIRECT;
    return DWCONV_SUCCESS;
  }
  dwconv__geometry_set_block(g, L);
  if (prob->desc.algo == DWCONV_ALGO_AUTO) {
    double taps = (double)(g->p < g->n || prob->desc.backend == DWCONV_BACKEND_CUDA ? g->p : g->n);
    double direct = (double)g->out_len * (taps * k->t_mac + k->t_out);
    prob->desc.algo = direct <= fft ? DWCONV_ALGO_DIRECT : DWCONV_ALGO_FFT;
  }
  return DWCONV_SUCCESS;
}

void dwconv__correlation_taps(dwconv_op op, dwconv_dtype dtype, const void *src, size_t p,
                              void *dst) {
  if (dtype == DWCONV_FLOAT64) {
    const double *s = (const double *)src;
    double *d = (double *)dst;
    for (size_t t = 0; t < p; t++) d[t] = op == DWCONV_OP_CONVOLVE ? s[p - 1 - t] : s[t];
  } else {
    const float *s = (const float *)src;
    float *d = (float *)dst;
    for (size_t t = 0; t < p; t++) d[t] = op == DWCONV_OP_CONVOLVE ? s[p - 1 - t] : s[t];
  }
}
