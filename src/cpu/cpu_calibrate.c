/* Measures the CPU cost model's constants (dwconv_calibrate): the library's own direct and
 * FFT paths are timed on small problems, so the constants include everything a reused plan's
 * execute does (edges, gather and scatter, the spectrum multiply), not just the transforms.
 *
 * On one thread: the constants are per thread anyway (both paths split rows over threads the
 * same way), and one thread is far steadier on a shared machine: with every core in use, a
 * core taken by another process stalls each parallel region for a scheduler time slice (seen
 * here: 2-4 ms steps in 0.5 ms runs), while one thread just moves to the free core. Each
 * figure is the median of a few short repeats, so a brief disturbance moves one repeat, not
 * the figure. Budget: about 1 s for both dtypes. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/calibration.h"
#include "internal.h"

/* Work per timed execute: enough points that the call's fixed cost is small beside it. */
#define FFT_POINTS (1 << 17)
/* Longest block length measured; longer ones are extrapolated (cost_model.c), with a margin. */
#define FFT_MAX_MEASURED 32768
#define REPEATS 7

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Buffers shared by every measurement: A, B and C, big enough for the largest problem. */
typedef struct bufs {
  void *a, *b, *c;
  size_t a_elems, b_elems, c_elems;
} bufs;

/* Median wall time (ns) of one execute of a CPU plan for (rows, n, p, mode causal, dtype),
 * direct or FFT with block length L; < 0 on failure (status in *st). */
static double time_exec(const bufs *bf, int f64, size_t rows, size_t n, size_t p, size_t L, int threads,
                        int reps, dwconv_status *st) {
  dwconv_problem prob;
  memset(&prob, 0, sizeof prob);
  prob.desc = dwconv_desc_make(rows, n, p, f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
  prob.desc.mode = DWCONV_MODE_CAUSAL; /* out_len = n: the block count is exact */
  prob.desc.backend = DWCONV_BACKEND_CPU;
  prob.desc.algo = L ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
  prob.elem_size = f64 ? 8 : 4;
  prob.threads = dwconv__threads_cap(threads);
  *st = dwconv__geometry_init(&prob.geom, prob.desc.mode, rows, n, p);
  if (*st != DWCONV_SUCCESS) return -1;
  if (L) dwconv__geometry_set_block(&prob.geom, L);
  void *state = NULL;
  *st = dwconv__cpu_ops.create(&prob, &state);
  if (*st != DWCONV_SUCCESS) return -1;
  *st = dwconv__cpu_ops.set_kernel(state, bf->b, (ptrdiff_t)p);
  double t[16];
  if (reps > 16) reps = 16;
  /* One untimed call first: buffers' first touch, plan caches. */
  for (int r = -1; r < reps && *st == DWCONV_SUCCESS; r++) {
    double t0 = now_ns();
    *st = dwconv__cpu_ops.execute(state, bf->a, (ptrdiff_t)n, bf->c, (ptrdiff_t)n);
    if (r >= 0) t[r] = now_ns() - t0;
  }
  dwconv__cpu_ops.destroy(state);
  if (*st != DWCONV_SUCCESS) return -1;
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return t[reps / 4];
}

/* Rows for a measurement of `points` per row: a multiple of the thread count, so every
 * thread gets the same share, and enough rows for about FFT_POINTS in all. */
static size_t rows_for(size_t points, int threads) {
  size_t r = (FFT_POINTS + points - 1) / points;
  size_t t = (size_t)threads;
  r = (r + t - 1) / t * t;
  return r < 2 * t ? 2 * t : r;
}

static dwconv_status measure_dtype(const bufs *bf, int f64, int threads, dwconv_cal_cpu_dtype *out) {
  dwconv_status st;
  const double th = (double)threads;
  /* Direct: two kernel lengths around where direct and FFT meet on the machines seen so far
   * (P ~ 50-200) give the per-tap slope and the per-output intercept; a short-row run gives
   * the per-row cost. Times are per row and thread (wall x threads / rows). */
  const size_t n = 16384, p1 = 32, p2 = 256, rows = 2;
  double d1 = time_exec(bf, f64, rows, n, p1, 0, threads, REPEATS, &st);
  double d2 = d1 < 0 ? -1 : time_exec(bf, f64, rows, n, p2, 0, threads, REPEATS, &st);
  if (d2 < 0) return st;
  d1 *= th / (double)rows;
  d2 *= th / (double)rows;
  double t_mac = (d2 - d1) / ((double)n * (double)(p2 - p1));
  if (!(t_mac > 1e-6)) t_mac = 1e-6; /* noise can only make this nonsense, never negative work */
  double t_out = d1 / (double)n - (double)p1 * t_mac;
  if (t_out < 0) t_out = 0;
  const size_t ns = 32, rs = 256;
  double ds = time_exec(bf, f64, rs, ns, p1, 0, threads, REPEATS, &st);
  if (ds < 0) return st;
  double t_row = ds * th / (double)rs - (double)ns * ((double)p1 * t_mac + t_out);
  out->t_mac = t_mac;
  out->t_out = t_out;
  out->t_row = t_row > 0 ? t_row : 0;

  /* FFT: for each candidate block length L = 2^a * {1, 3, 5} (the lengths the CPU path uses;
   * factor-7 lengths are slower per L log L with FFTW_ESTIMATE), rows of exactly two blocks
   * (one complex transform pair) and of exactly one block (one real pair). P = L/4 + 1. */
  out->nlens = 0;
#ifdef DWCONV_HAVE_FFTW
  for (size_t L = 16; L <= FFT_MAX_MEASURED; L *= 2)
    for (size_t m = 4; m <= 6; m++) { /* L, 5L/4, 3L/2: ascending */
      size_t len = L * m / 4;
      if (len > FFT_MAX_MEASURED || (m != 4 && L < 32) || out->nlens == DWCONV_CAL_MAX_LENS) continue;
      size_t p = len / 4 + 1, step = len - p + 1;
      size_t r2 = rows_for(2 * len, threads), r1 = rows_for(len, threads);
      int reps = len >= 8192 ? 5 : REPEATS;
      double t2 = time_exec(bf, f64, r2, 2 * step, p, len, threads, reps, &st);
      double t1 = t2 < 0 ? -1 : time_exec(bf, f64, r1, step, p, len, threads, reps, &st);
      if (t1 < 0) return st;
      /* Per row: a row's fixed costs stay inside these figures (the model adds t_row to
       * direct only). */
      double pair = t2 * th / (double)r2, single = t1 * th / (double)r1;
      dwconv_cal_fft_len *e = &out->lens[out->nlens++];
      e->L = (double)len;
      e->pair = pair > 1e-3 ? pair : 1e-3;
      e->single = single > 1e-3 ? single : 1e-3;
    }
#endif
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cal_measure_cpu(dwconv_cal_cpu *out, int threads) {
  memset(out, 0, sizeof *out);
  (void)threads; /* per-thread constants, measured on one thread (see the top of this file) */
  threads = 1;
  bufs bf;
  /* Room for the largest problem: FFT rows_for(2L) x 2 x step samples (at most FFT_POINTS +
   * 4 L), direct 2 x 16384, short rows 256 x 32. */
  size_t t = (size_t)threads;
  size_t a_elems = 4 * (size_t)FFT_POINTS + 4 * (size_t)FFT_MAX_MEASURED * t;
  if (a_elems < 4 * t * 8192) a_elems = 4 * t * 8192;
  bf.a_elems = bf.c_elems = a_elems;
  bf.b_elems = (size_t)FFT_POINTS + 4 * (size_t)FFT_MAX_MEASURED * t;
  bf.a = dwconv__malloc(a_elems * 8);
  bf.b = dwconv__malloc(bf.b_elems * 8);
  bf.c = dwconv__malloc(a_elems * 8);
  dwconv_status st = DWCONV_SUCCESS;
  if (bf.a == NULL || bf.b == NULL || bf.c == NULL) {
    st = dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating calibration buffers");
  } else {
    /* Ordinary values (not zeros or denormals, which some CPUs handle at another speed). */
    for (size_t i = 0; i < a_elems; i++) ((double *)bf.a)[i] = 0.5 + (double)(i % 7) * 0.125;
    for (size_t i = 0; i < bf.b_elems; i++) ((double *)bf.b)[i] = 0.25 - (double)(i % 5) * 0.0625;
    /* The per-call cost: a call too small to start threads. */
    dwconv_status s2;
    double tc = time_exec(&bf, 0, 1, 16, 3, 0, threads, REPEATS, &s2);
    out->t_call = tc > 0 ? tc : 0;
    for (int d = 0; d < 2 && st == DWCONV_SUCCESS; d++) st = measure_dtype(&bf, d, threads, &out->dt[d]);
  }
  dwconv__free(bf.a);
  dwconv__free(bf.b);
  dwconv__free(bf.c);
  return st;
}
