/* Chooses direct or FFT, and the overlap-save block length, from a cost model.
 *
 * Direct:  time/row = out_len * (P * t_mac + t_out)
 * FFT:     time/row = blocks * (L * log2(L) * t_fft * radix(L) + L * t_point)
 *          with blocks = ceil(out_len / (L - P + 1)), L 7-smooth, and radix(L) the measured
 *          slow-down of FFTW on lengths with factors 3, 5 and 7 against powers of two.
 * The constants are per backend and dtype, in nanoseconds per single thread (CPU) or per
 * device (CUDA); docs/PERFORMANCE.md records how they were measured (bench/calibrate). Only
 * their ratios matter for the choice. */
#include <math.h>

#include "internal.h"

typedef struct cost_constants {
  double t_mac;    /* direct: one multiply-add */
  double t_out;    /* direct: per output sample (loads, stores, loop overhead) */
  double t_fft;    /* FFT: per L*log2(L) of one forward + one inverse real transform */
  double t_point;  /* FFT: per transform point (copy in, multiply, copy out) */
  double l2_bytes; /* transforms bigger than this (3 buffers) slow down by l2_penalty */
  double l2_penalty;
} cost_constants;

/* CPU constants: measured on one thread of the 2-core AMD EPYC (Zen 4) development machine
 * (bench/calibrate; docs/PERFORMANCE.md): AVX-512 direct 81 GFLOP/s f32; FFTW_ESTIMATE
 * r2c+c2r pair 0.21 ns per L*log2(L) (f32) for powers of two; gather, multiply and scatter
 * about 1 ns per point. */
static const cost_constants cpu_f32 = {0.0247, 0.05, 0.21, 1.0, 1 << 20, 1.15};
static const cost_constants cpu_f64 = {0.0494, 0.10, 0.36, 1.4, 1 << 20, 1.15};
/* CUDA constants: assumed, not yet measured on a GPU (H100 fp32 peak ~60 TFLOP/s, ~3 TB/s;
 * cuFFT reaches ~50% of bandwidth). Replace with bench/calibrate figures from a GPU run. */
static const cost_constants cuda_f32 = {0.00004, 0.0030, 0.00050, 0.0050, 1e30, 1.0};
static const cost_constants cuda_f64 = {0.0012, 0.0060, 0.00100, 0.0100, 1e30, 1.0};

/* FFTW's slow-down on odd factors, from its measured time per L*log2(L): x1.15 for a factor 3
 * (384, 768, 1536), x1.4 for 7 (448), x2.2 for 3^2 7^2 (882). */
static double radix_penalty(size_t L) {
  double f = 1.0;
  while (L % 3 == 0) { L /= 3; f += 0.12; }
  while (L % 5 == 0) { L /= 5; f += 0.15; }
  while (L % 7 == 0) { L /= 7; f += 0.4; }
  return f;
}

static double fft_cost(const cost_constants *k, const dwconv_geometry *g, size_t L, size_t es) {
  double blocks = ceil((double)g->out_len / (double)(L - g->p + 1));
  double per = (double)L * log2((double)L) * k->t_fft * radix_penalty(L) + (double)L * k->t_point;
  if (3.0 * (double)L * (double)es > k->l2_bytes) per *= k->l2_penalty;
  return blocks * per;
}

/* Best 7-smooth block length for the FFT path, by the cost model. */
static size_t best_block_len(const cost_constants *k, const dwconv_geometry *g, size_t es,
                             double *cost_out) {
  /* One block covering the whole output row is the largest length worth trying. */
  size_t hi = dwconv__next_smooth7(g->out_len + g->p - 1);
  size_t lo = g->p + 1 < 8 ? 8 : g->p + 1;
  if (hi < lo) hi = dwconv__next_smooth7(lo);
  size_t best = hi;
  double best_cost = fft_cost(k, g, hi, es);
  for (size_t f7 = 1; f7 <= hi; f7 *= 7)
    for (size_t f5 = f7; f5 <= hi; f5 *= 5)
      for (size_t f3 = f5; f3 <= hi; f3 *= 3)
        for (size_t L = f3; L <= hi; L *= 2) {
          if (L < lo || L % 2 != 0) continue; /* even lengths keep the real transforms simple */
          double c = fft_cost(k, g, L, es);
          if (c < best_cost || (c == best_cost && L < best)) {
            best_cost = c;
            best = L;
          }
        }
  *cost_out = best_cost;
  return best;
}

dwconv_status dwconv__choose_algorithm(dwconv_problem *prob, int fft_available) {
  const int f64 = prob->desc.dtype == DWCONV_FLOAT64;
  const cost_constants *k = prob->desc.backend == DWCONV_BACKEND_CUDA ? (f64 ? &cuda_f64 : &cuda_f32)
                                                                      : (f64 ? &cpu_f64 : &cpu_f32);
  dwconv_geometry *g = &prob->geom;
  if (prob->desc.algo == DWCONV_ALGO_FFT && !fft_available)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "ALGO_FFT requested but this dwconv was built without FFTW (DWCONV_WITH_FFTW=OFF)");
  if (prob->desc.algo == DWCONV_ALGO_DIRECT || !fft_available) {
    prob->desc.algo = DWCONV_ALGO_DIRECT;
    return DWCONV_SUCCESS;
  }
  double fft = 0;
  size_t L = best_block_len(k, g, prob->elem_size, &fft);
  if (L == 0 || L < g->p)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "no FFT block length fits kernel_len %zu", g->p);
  dwconv__geometry_set_block(g, L);
  if (prob->desc.algo == DWCONV_ALGO_AUTO) {
    double direct = (double)g->out_len * ((double)g->p * k->t_mac + k->t_out);
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
