/* Chooses direct or FFT, and the overlap-save block length, from a cost model.
 *
 * CPU, per row (ns of one thread's work; constants from calibration.h's dwconv_cal_cpu):
 *   direct:  t_row + out_len * (min(N, P) * t_mac + t_out)     (roles swap when P > N)
 *   FFT:     floor(blocks / 2) * pair(L) + (blocks % 2) * single(L)
 *            with blocks = ceil(out_len / (L - P + 1)); pair(L) and single(L) are the measured
 *            costs of two blocks done together (one complex transform pair) and of one block
 *            alone, for each candidate L; lengths past the longest measured one cost that
 *            one's figure scaled by L log L, plus a margin (they are bounded, not measured).
 * CUDA, per row:
 *   direct:  out_len * (P * t_mac + t_out)
 *   FFT:     blocks * (L * log2(L) * t_fft * radix_factor(L) + L * t_point)
 * The CPU constants come from a calibration file made on this machine when there is one
 * (calibration.c), else from the built-in set below, adjusted to the CPU at run time.
 *
 * Monotone in P: for a fixed output length, direct's cost grows with P; each block length's
 * FFT cost grows with its block count, which grows with P (pair >= single is enforced); and
 * the set of candidate lengths only loses short lengths as P grows, so the predicted best time
 * never falls when the kernel gets longer (tests/test_cost_model.c checks it on dense grids). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calibration.h"
#include "cpu_fft_table.h"
#include "gemm_model.h"
#include "internal.h"

/* Margin on FFT costs extrapolated past the longest measured block length: larger transforms
 * fall out of cache, so L log L scaling alone underestimates them. */
#define EXTRAPOLATION_MARGIN 1.25

/* CUDA constants: assumed, not yet measured on a GPU (H100 fp32 peak ~60 TFLOP/s, ~3 TB/s;
 * cuFFT reaches ~50% of bandwidth). FP64 runs at half the FP32 rate on an H100 (not the 1/64
 * of consumer GPUs), so f64 costs twice f32 throughout. A calibration file's entry for the
 * device replaces them (docs/PERFORMANCE.md). */
static const dwconv_cal_cuda_dtype cuda_builtin[2] = {{0.00004, 0.0030, 0.00050, 0.0050},
                                                      {0.00008, 0.0060, 0.00100, 0.0100}};

/* ---- built-in CPU constants ----
 * Without a calibration file the constants are derived from what the running CPU tells:
 * - Direct: the kernel variant picked at run time (dwconv_cpu_simd) and the CPU's vendor set
 *   the multiply-add cost, from measurements per variant: AVX-512 on AMD Zen 4 0.0247 ns per
 *   f32 multiply-add per thread (Zen 4 splits 512-bit operations into two 256-bit halves);
 *   AVX-512 on Intel cores, which run two full-width FMAs a cycle, 0.6 x that (fitted to the
 *   2-core Xeon's direct/FFT crossover, P ~ 110-130 against Zen 4's ~70); AVX2 0.0255 ns f32,
 *   0.042 f64 (Zen 3, fitted to its two-thread crossover, see below); portable 0.25 ns (Zen 3).
 *   f64 costs twice f32 in the AVX-512 kernel (half the lanes).
 * - FFT: transform-pair times of cpu_fft_table.h (FFTW_ESTIMATE, Zen 4) plus 0.9 / 1.3 ns a
 *   transform point for gather, multiply and scatter. FFTW runs the same AVX2 codelets on all
 *   three machines; measured through the whole FFT path on Zen 3, the per-block costs came
 *   within 10% of these for every length up to 32768 (docs/PERFORMANCE.md).
 * - Threads: the model works per thread (both paths split rows over threads alike); the
 *   thread count scales the predicted time, and on more than one thread the FFT figures are
 *   multiplied by fft_team (see dwconv__cal_team_factors; 1 for the built-in constants, which
 *   were fitted at two threads). */

#define CPU_TABLE_LEN (sizeof cpu_fft_table / sizeof cpu_fft_table[0])

/* 1 on an Intel CPU (x86 builds with GCC or clang), else 0. */
static int cpu_is_intel(void) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_is("intel") != 0;
#else
  return 0;
#endif
}

void dwconv__cal_builtin_cpu(dwconv_cal_cpu *out) {
  memset(out, 0, sizeof *out);
  const char *simd = dwconv__cpu_simd_name();
  double mac32, mac64, out32 = 0.05, out64 = 0.10;
  if (strcmp(simd, "avx512") == 0) {
    mac32 = cpu_is_intel() ? 0.6 * 0.0247 : 0.0247;
    mac64 = 2 * mac32;
  } else if (strcmp(simd, "avx2") == 0) {
    /* Fitted to where direct and FFT cross with the default two threads on Zen 3: between
     * P = 63 and 95 for f32 and f64 (M=256 x N=16384 and M=128 x N=32768, docs/PERFORMANCE.md).
     * One thread measures 0.035 / 0.070 ns (a cross near P = 50 / 40): two threads share the
     * memory bus, which costs the FFT path (a few operations per sample) more than direct. */
    mac32 = 0.0255;
    mac64 = 0.042;
  } else {
    mac32 = 0.25;
    mac64 = 0.21;
    out32 = 0.08;
    out64 = 0.24;
  }
  const double mac[2] = {mac32, mac64}, outc[2] = {out32, out64}, point[2] = {0.9, 1.3};
  out->t_call = 1000;
  for (int d = 0; d < 2; d++) {
    dwconv_cal_cpu_dtype *c = &out->dt[d];
    c->t_mac = mac[d];
    c->t_out = outc[d];
    /* 0, not the ~200 ns measured on Zen 3: the built-in FFT figures hold no per-row cost
     * either (transforms and points only), and charging one side alone would tip tiny rows
     * to FFT. */
    c->t_row = 0;
#ifdef DWCONV_HAVE_FFTW
    for (size_t i = 0; i < CPU_TABLE_LEN && c->nlens < DWCONV_CAL_MAX_LENS; i++) {
      const cpu_fft_time *e = &cpu_fft_table[i];
      dwconv_cal_fft_len *x = &c->lens[c->nlens++];
      x->L = e->L;
      x->pair = (d ? e->cplx_f64 : e->cplx_f32) + 2 * e->L * point[d];
      x->single = (d ? e->real_f64 : e->real_f32) + e->L * point[d];
    }
#else
    (void)point;
#endif
    dwconv__cal_prune(c);
  }
}

/* Calibration times one thread on small problems; plans run on several threads over arrays
 * larger than the caches, where the FFT path loses more than direct: each sample goes through
 * several passes over per-thread buffers (gather, two transforms, spectrum multiply, scatter)
 * between reading A and writing C, and threads sharing a core complex's caches and memory
 * path slow those more than direct's register-blocked multiply-add loop. Measured on the 2-vCPU
 * Zen 3 VM at the benchmark shapes (M=256 x N=16384 and M=128 x N=32768, mode same, two
 * threads, P = 63 and 95 where the paths cross), measured FFT/direct time ratios over 5
 * benchmark runs were float32 1.0-1.2 at P = 63 and 0.75-0.82 at 95, float64 1.05-1.25 and
 * 0.76-0.79, while the one-thread calibrated model (8 calibrations) said 0.98-1.14 / 0.67-0.76
 * and 0.91-1.06 / 0.67-0.74: the median calibration is 1.03-1.07x (float32) and ~1.1x
 * (float64) too favourable to FFT, and the ratio scatters +-12% between calibrations. Timing
 * the thread effect inside the calibration was tried and was no better than a constant
 * (0.97-1.25 within minutes on one machine: the effect is the size of a shared VM's noise).
 * So on more than one thread the FFT figures of calibrated constants count 1.20x (float32)
 * and 1.25x (float64): the bias plus a margin for the scatter, with which every one of the 8
 * calibrations puts P = 63 on direct and P = 95 on FFT (the model's crossover then sits near
 * P = 80, the measured one near 70). Without them AUTO took FFT at P = 63 with direct 1.13x
 * (float32) and 1.25x (float64) faster. */
void dwconv__cal_team_factors(dwconv_cal_cpu *out) {
  out->fft_team[0] = 1.20;
  out->fft_team[1] = 1.25;
}

/* ---- the CPU model ---- */

/* Cost of one row with block length L; index i of a measured length, or -1 for a length past
 * the longest measured one (scaled from it). */
static double cpu_fft_row(const dwconv_cal_cpu_dtype *c, const dwconv_geometry *g, size_t L, ptrdiff_t i) {
  double blocks = ceil((double)g->out_len / (double)(L - g->p + 1));
  double pair, single;
  if (i >= 0) {
    pair = c->lens[i].pair;
    single = c->lens[i].single;
  } else {
    const dwconv_cal_fft_len *top = &c->lens[c->nlens - 1];
    double s = EXTRAPOLATION_MARGIN * (double)L * log2((double)L) / (top->L * log2(top->L));
    pair = s * top->pair;
    single = s * top->single;
  }
  double pairs = floor(blocks / 2);
  return pairs * pair + (blocks - 2 * pairs) * single;
}

/* Lengths whose predicted cost is within this factor of the cheapest count as a tie, and the
 * longest of them is taken, among lengths of at most BLOCK_TIE_LEN points (complex buffers of
 * 16 KiB float32, 32 KiB float64: a thread's input and output buffers stay in a 32-64 KiB L1).
 * Why: a calibration times one thread, and on two threads the shorter blocks lose more (timed
 * on the 2-vCPU Zen 3, interleaved, medians of 21, two threads, M=256 x N=16384 and M=128 x
 * N=32768: float64 P = 255, L = 1024 / 1280 / 2048 at 17.4-22.2 / 15.9-21.0 / 16.8-20.4 ms where
 * one thread had 1024 and 2048 within 2%; float32 P = 127-511, L = 2048 was the fastest or within
 * 3% of it in all 12 cases, 1024 up to 1.34x and 3072 / 4096 1.02-1.25x slower than it), and a
 * calibration's per-length figures scatter by up to ~7% (90th percentile) between calibrations,
 * so among near-equal costs the model's cheapest short length is a coin toss. Earlier, with a 5%
 * band and a 4096-point float32 bound, one calibration took L = 1024 at float64 P = 255 (10%
 * slower than 2048, a 1.10-1.12 "longer kernel faster" step) and picks at float32 P = 511-767
 * spread over 2048-4096. Past the first cache level the costs of neighbouring lengths jump by
 * 1.5x both ways (f64 P = 1023, M=256 x N=16384: L = 3072 / 4096 / 6144 / 8192 / 10240 at 19.5 /
 * 21.4 / 31.0 / 28.8 / 21.1 ms), and there the measured figures decide alone. */
#define BLOCK_TIE 1.10
#define BLOCK_TIE_LEN 2048

/* Best FFT block length for g under c: measured lengths >= max(P + 1, 16), then lengths
 * 2^a * {1, 5/4, 3/2} past the longest measured one up to twice the one-block size (within
 * FFTW's int); the cheapest, or, when the cheapest is at most BLOCK_TIE_LEN, the longest
 * within BLOCK_TIE of it among lengths of at most BLOCK_TIE_LEN. Returns 0 when none fits;
 * *cost is the cheapest predicted cost and *pick_cost that of the length returned. */
static size_t cpu_best_block(const dwconv_cal_cpu_dtype *c, const dwconv_geometry *g, double *cost,
                             double *pick_cost) {
  size_t cand[2 * DWCONV_CAL_MAX_LENS + 128];
  double cc[sizeof cand / sizeof cand[0]];
  size_t n = 0;
  double best_cost = INFINITY;
  *cost = *pick_cost = INFINITY;
  if (c->nlens == 0) return 0;
  const size_t lo = g->p + 1 < 16 ? 16 : g->p + 1;
  for (size_t i = 0; i < c->nlens; i++) {
    size_t L = (size_t)c->lens[i].L;
    if (L < lo) continue;
    cand[n] = L;
    cc[n] = cpu_fft_row(c, g, L, (ptrdiff_t)i);
    if (cc[n] < best_cost) best_cost = cc[n];
    n++;
  }
  size_t one = dwconv__next_smooth7(g->out_len + g->p - 1);
  size_t hi = one == 0 || one > (size_t)INT_MAX / 2 ? (size_t)INT_MAX : 2 * one;
  size_t top = (size_t)c->lens[c->nlens - 1].L;
  for (size_t base = 16; base <= hi && base <= (size_t)INT_MAX / 2; base *= 2)
    for (size_t m = 4; m <= 6; m++) {
      size_t L = base * m / 4;
      if (L <= top || L < lo || L > hi || n == sizeof cand / sizeof cand[0]) continue;
      cand[n] = L;
      cc[n] = cpu_fft_row(c, g, L, -1);
      if (cc[n] < best_cost) best_cost = cc[n];
      n++;
    }
  size_t best = 0;
  for (size_t i = 0; i < n; i++) /* the cheapest (the first one, on equal costs) */
    if (cc[i] == best_cost && best == 0) best = cand[i], *pick_cost = cc[i];
  for (size_t i = 0; i < n; i++)
    if (cc[i] <= BLOCK_TIE * best_cost && cand[i] > best && best <= BLOCK_TIE_LEN && cand[i] <= BLOCK_TIE_LEN)
      best = cand[i], *pick_cost = cc[i];
  *cost = best_cost;
  return best;
}

static double cpu_direct_row(const dwconv_cal_cpu_dtype *c, const dwconv_geometry *g) {
  double taps = (double)(g->p < g->n ? g->p : g->n);
  return c->t_row + (double)g->out_len * (taps * c->t_mac + c->t_out);
}

double dwconv__cpu_predict(const dwconv_cal_cpu *k, const dwconv_geometry *g, dwconv_dtype dtype, int threads,
                           int fft_available, dwconv_algo *algo, size_t *block_len) {
  const int d = dtype == DWCONV_FLOAT64;
  const dwconv_cal_cpu_dtype *c = &k->dt[d];
  double direct = cpu_direct_row(c, g), fft = INFINITY, fft_pick = INFINITY;
  size_t L = fft_available ? cpu_best_block(c, g, &fft, &fft_pick) : 0;
  if (threads > 1 && k->fft_team[d] > 1) { /* every length alike: L stays */
    fft *= k->fft_team[d];
    fft_pick *= k->fft_team[d];
  }
  *block_len = L;
  /* FFT only when the length taken beats direct. The time returned is the model's best,
   * min(direct, cheapest length), within BLOCK_TIE of the path taken: monotone in P. */
  *algo = L != 0 && fft_pick < direct ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
  double row = L != 0 && fft < direct ? fft : direct;
  double rows_per_thread = ceil((double)g->rows / (double)(threads < 1 ? 1 : threads));
  return k->t_call + rows_per_thread * row;
}

/* ---- the CUDA model ---- */

/* cuFFT's cost per L log2 L of a length L = 2^a 3^b 5^c 7^d relative to a power of two:
 * 1 + 0.10 b + 0.15 c + 0.20 d. NVIDIA's cuFFT guide says powers of two are fastest and the
 * smaller a length's prime factors the better; its radix-3/5/7 kernels do fewer points per
 * pass than the radix-2^k ones, so lengths heavy in 3^k or 7^k take more passes over memory
 * than L log2 L (which already charges log2 3 = 1.58 bits per factor 3) accounts for. The
 * step sizes are assumed, not measured: without them the model picks lengths such as
 * 17496 = 2^3 3^7 and 4116 = 2^2 3 7^3, a few percent cheaper on paper than powers of two
 * and exactly the sizes cuFFT does worst among the 7-smooth ones. Like cuda_builtin, they
 * are to be replaced by figures measured on a GPU. The CPU model measures its lengths. */
static double cufft_radix_factor(size_t L) {
  static const struct { size_t p; double step; } radix[] = {{3, 0.10}, {5, 0.15}, {7, 0.20}};
  double f = 1.0;
  for (size_t i = 0; i < sizeof radix / sizeof radix[0]; i++)
    while (L % radix[i].p == 0) {
      L /= radix[i].p;
      f += radix[i].step;
    }
  return f;
}

static size_t cuda_best_block(const dwconv_cal_cuda_dtype *k, const dwconv_geometry *g, double *cost_out) {
  size_t hi = dwconv__next_smooth7(g->out_len + g->p - 1);
  size_t lo = g->p + 1 < 16 ? 16 : g->p + 1;
  if (hi == 0) return 0;
  if (hi < lo) hi = lo;
  if (hi > SIZE_MAX / 2) return 0;
  hi *= 2;
  size_t best = 0;
  double best_cost = INFINITY;
  for (size_t f7 = 1; f7 <= hi; f7 *= 7)
    for (size_t f5 = f7; f5 <= hi; f5 *= 5)
      for (size_t f3 = f5; f3 <= hi; f3 *= 3)
        for (size_t L = f3; L <= hi; L *= 2) {
          if (L >= lo && L % 2 == 0) {
            double blocks = ceil((double)g->out_len / (double)(L - g->p + 1));
            double c = blocks * ((double)L * log2((double)L) * k->t_fft * cufft_radix_factor(L) +
                                 (double)L * k->t_point);
            if (c < best_cost || (c == best_cost && L < best)) best_cost = c, best = L;
          }
          if (L > SIZE_MAX / 2) break;
        }
  *cost_out = best_cost;
  return best;
}

/* The CUDA constants for the current device: a calibration file's entry for its name and
 * compute capability, else the built-in ones. Returns the source. */
static int cuda_constants(dwconv_cal_cuda_dtype out[2]) {
#ifdef DWCONV_HAVE_CUDA
  char name[256];
  int maj = 0, min = 0;
  if (dwconv__cal_has_cuda() && dwconv__cuda_current_device_id(name, sizeof name, &maj, &min) &&
      dwconv__cal_cuda(name, maj, min, out))
    return DWCONV_CONSTANTS_CALIBRATED;
#endif
  out[0] = cuda_builtin[0];
  out[1] = cuda_builtin[1];
  return DWCONV_CONSTANTS_BUILTIN;
}

dwconv_status dwconv__choose_algorithm(dwconv_problem *prob, int fft_available) {
  const int f64 = prob->desc.dtype == DWCONV_FLOAT64;
  dwconv_geometry *g = &prob->geom;
  /* GEMM is only ever asked for (dwconv__gemm_check has refused it on the CPU): AUTO leaves it
   * out while dwconv__gemm_row_cost's constants are unmeasured. */
  if (prob->desc.algo == DWCONV_ALGO_GEMM) return dwconv__gemm_choose_block(prob);
  if (prob->desc.algo == DWCONV_ALGO_FFT && !fft_available)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "ALGO_FFT requested but this dwconv was built without FFTW (DWCONV_WITH_FFTW=OFF)");
  /* The constants are looked up for every plan, also one whose algorithm is fixed, so that
   * plan info always says which constants the backend uses now. */
  dwconv_cal_cuda_dtype kc[2];
  dwconv_cal_cpu k;
  if (prob->desc.backend == DWCONV_BACKEND_CUDA)
    prob->constants_source = (dwconv_constants_source)cuda_constants(kc);
  else
    prob->constants_source = (dwconv_constants_source)dwconv__cal_cpu(&k);
  if (prob->desc.algo == DWCONV_ALGO_DIRECT || !fft_available) {
    prob->desc.algo = DWCONV_ALGO_DIRECT;
    return DWCONV_SUCCESS;
  }
  size_t L = 0;
  dwconv_algo pick = DWCONV_ALGO_DIRECT;
  if (prob->desc.backend == DWCONV_BACKEND_CUDA) {
    const dwconv_cal_cuda_dtype *kk = kc;
    double fft = 0;
    L = cuda_best_block(&kk[f64], g, &fft);
    double direct = (double)g->out_len * ((double)g->p * kk[f64].t_mac + kk[f64].t_out);
    pick = L != 0 && fft < direct ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
  } else {
    (void)dwconv__cpu_predict(&k, g, prob->desc.dtype, prob->threads, 1, &pick, &L);
  }
  if (L == 0) {
    if (prob->desc.algo == DWCONV_ALGO_FFT)
      return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "no FFT block length fits kernel_len %zu", g->p);
    prob->desc.algo = DWCONV_ALGO_DIRECT;
    return DWCONV_SUCCESS;
  }
  dwconv__geometry_set_block(g, L);
  if (prob->desc.algo == DWCONV_ALGO_AUTO) prob->desc.algo = pick;
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
