/* Measures the CPU cost model's constants (dwconv_calibrate): the library's own direct and
 * FFT paths are timed on small problems, so the constants include everything a reused plan's
 * execute does (edges, gather and scatter, the spectrum multiply), not just the transforms.
 *
 * Robust to a shared machine:
 * - One thread: the constants are per thread anyway (both paths split rows over threads the
 *   same way), and with every core in use a core taken by another process stalls each
 *   parallel region for a scheduler time slice (seen here: 2-4 ms steps in 0.5 ms runs),
 *   while one thread just runs on the free core.
 * - Interleaved: every measurement's plan is made first, then PASSES passes each time every
 *   measurement once. A burst of load lasting part of the second hits some passes of every
 *   measurement alike instead of all repeats of a few, so the ratios the choice depends on
 *   stay right. Each figure is the median over passes.
 * - From memory, not cache: the arrays worth choosing an algorithm for are larger than the
 *   caches, and streaming A and C from memory costs the FFT path (a few operations per
 *   sample) far more than the direct path (P multiply-adds per sample). So each run reads A
 *   and writes C at the next place in a pool twice the size of the last-level cache (from
 *   sysconf / sysfs; at least 16 MiB): what a run touches was evicted by the runs since.
 * Budget: about 1-2 s for both dtypes; 2.4-2.7 s measured on the 2-core development VM at
 * load average 14-16. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/calibration.h"
#include "internal.h"

/* Work per timed execute: enough points that the call's fixed cost is small beside it, few
 * enough that a run usually fits in one scheduler time slice. */
#define FFT_POINTS (1 << 16)
/* Longest block length measured; longer ones are extrapolated (cost_model.c), with a margin. */
#define FFT_MAX_MEASURED 32768
#define PASSES 7
/* Block pairs per row in the FFT pair measurements, at most. */
#define PAIRS_PER_ROW 8
/* Direct: two kernel lengths around where direct and FFT meet on the machines seen so far
 * (P ~ 50-200) give the per-tap slope and the per-output intercept; short rows the per-row
 * cost. */
#define DIRECT_N 16384
#define DIRECT_P1 32
#define DIRECT_P2 256
#define SHORT_N 32
#define SHORT_ROWS 256

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One measured configuration: a ready CPU plan and its per-pass times. */
typedef struct meas {
  void *state;
  size_t rows, n, p;
  double per_row; /* units of work a row holds (FFT block pairs; 1 otherwise) */
  double t[PASSES];
} meas;

/* Makes the plan for (rows, n, p, mode causal, dtype), direct or FFT with block length L,
 * with its kernel set from B. */
static dwconv_status meas_init(meas *m, const void *B, int f64, size_t rows, size_t n, size_t p, size_t L) {
  dwconv_problem prob;
  memset(&prob, 0, sizeof prob);
  prob.desc = dwconv_desc_make(rows, n, p, f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
  prob.desc.mode = DWCONV_MODE_CAUSAL; /* out_len = n: the block count is exact */
  prob.desc.backend = DWCONV_BACKEND_CPU;
  prob.desc.algo = L ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
  prob.elem_size = f64 ? 8 : 4;
  prob.threads = 1;
  m->rows = rows;
  m->n = n;
  m->p = p;
  m->per_row = 1;
  dwconv_status st = dwconv__geometry_init(&prob.geom, prob.desc.mode, rows, n, p);
  if (st != DWCONV_SUCCESS) return dwconv__error(DWCONV_ERROR_INTERNAL, "calibration geometry (N %zu, P %zu)", n, p);
  if (L) dwconv__geometry_set_block(&prob.geom, L);
  st = dwconv__cpu_ops.create(&prob, &m->state);
  if (st == DWCONV_SUCCESS) st = dwconv__cpu_ops.set_kernel(m->state, B, (ptrdiff_t)p);
  return st;
}

/* Bytes of the last-level cache (the largest cache sysconf or sysfs reports), 0 if unknown. */
static size_t llc_bytes(void) {
  long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
  v = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (v <= 0) v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (v > 0) return (size_t)v;
  size_t best = 0;
  for (int i = 0; i < 8; i++) {
    char name[96];
    snprintf(name, sizeof name, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    FILE *f = fopen(name, "r");
    if (f == NULL) continue;
    unsigned long k = 0;
    char unit = 'K';
    if (fscanf(f, "%lu%c", &k, &unit) >= 1) {
      size_t b = unit == 'M' ? (size_t)k << 20 : (size_t)k << 10;
      if (b > best) best = b;
    }
    fclose(f);
  }
  return best;
}

/* Median over passes, per row or per unit of a row (ns of one thread's work). */
static double meas_row(meas *m) {
  qsort(m->t, PASSES, sizeof m->t[0], cmp_double);
  return m->t[PASSES / 2] / ((double)m->rows * m->per_row);
}

/* Rows for `points` per row: about FFT_POINTS in all, at least 2. */
static size_t rows_for(size_t points) {
  size_t r = (FFT_POINTS + points - 1) / points;
  return r < 2 ? 2 : r;
}

/* Candidate FFT block lengths, ascending: 2^a * {1, 5/4, 3/2} from 16 to FFT_MAX_MEASURED
 * (the lengths the CPU path uses; 7-smooth lengths with a factor 7 are slower per L log L
 * with FFTW_ESTIMATE). Returns the count. */
static size_t fft_lengths(size_t *out) {
  size_t n = 0;
  for (size_t L = 16; L <= FFT_MAX_MEASURED; L *= 2)
    for (size_t m = 4; m <= 6; m++) {
      size_t len = L * m / 4;
      if (len <= FFT_MAX_MEASURED && (m == 4 || L >= 32) && n < DWCONV_CAL_MAX_LENS) out[n++] = len;
    }
  return n;
}

dwconv_status dwconv__cal_measure_cpu(dwconv_cal_cpu *out, int threads) {
  (void)threads; /* per-thread constants, measured on one thread (see the top of this file) */
  memset(out, 0, sizeof *out);
  size_t lens[DWCONV_CAL_MAX_LENS], nl = 0;
#ifdef DWCONV_HAVE_FFTW
  nl = fft_lengths(lens);
#else
  (void)fft_lengths;
#endif
  /* Per dtype: 3 direct measurements, then a pair and a single measurement per length. */
  const size_t per_dt = 3 + 2 * nl, total = 1 + 2 * per_dt;
  meas *ms = (meas *)calloc(total, sizeof *ms);
  /* A and C come from a pool twice the last-level cache (see the top); B, set once per
   * measurement, from its own buffer. The largest problem: FFT rows of 2 x pairs x step
   * samples (at most FFT_POINTS + 4 L in all), direct 2 x DIRECT_N, short rows SHORT_ROWS x
   * SHORT_N. */
  const size_t elems = (size_t)FFT_POINTS + 4 * (size_t)FFT_MAX_MEASURED;
  size_t llc = llc_bytes(), pool_bytes = 2 * llc;
  if (pool_bytes < ((size_t)16 << 20)) pool_bytes = (size_t)16 << 20;
  if (pool_bytes > ((size_t)512 << 20)) pool_bytes = (size_t)512 << 20;
  const size_t pool_elems = pool_bytes / 8; /* in doubles: slices are 8-byte aligned */
  double *pool = (double *)dwconv__malloc(pool_bytes);
  void *B = dwconv__malloc(elems * 8);
  dwconv_status st = DWCONV_SUCCESS;
  if (ms == NULL || pool == NULL || B == NULL) {
    st = dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating calibration buffers (%zu MiB)", pool_bytes >> 20);
    goto done;
  }
  /* Ordinary values (not zeros or denormals, which some CPUs handle at another speed). */
  for (size_t i = 0; i < pool_elems; i++) pool[i] = 0.5 + (double)(i % 7) * 0.125;
  for (size_t i = 0; i < elems; i++) ((double *)B)[i] = 0.25 - (double)(i % 5) * 0.0625;
  size_t k = 0;
  /* The per-call cost: a call too small to start threads. */
  st = meas_init(&ms[k++], B, 0, 1, 16, 3, 0);
  for (int d = 0; d < 2 && st == DWCONV_SUCCESS; d++) {
    st = meas_init(&ms[k++], B, d, 2, DIRECT_N, DIRECT_P1, 0);
    if (st == DWCONV_SUCCESS) st = meas_init(&ms[k++], B, d, 2, DIRECT_N, DIRECT_P2, 0);
    if (st == DWCONV_SUCCESS) st = meas_init(&ms[k++], B, d, SHORT_ROWS, SHORT_N, DIRECT_P1, 0);
    /* FFT: rows of an even number of blocks (2 x PAIRS_PER_ROW when that fits in about
     * FFT_POINTS, else fewer; each pair of blocks one complex transform pair) and rows of
     * exactly one block (one real pair), P = L/4 + 1. Rows of many blocks, as real rows are:
     * rows of exactly two blocks overstated a pair by 5-23%, more for longer blocks, which
     * tilted the model towards short blocks. */
    for (size_t i = 0; i < nl && st == DWCONV_SUCCESS; i++) {
      size_t L = lens[i], p = L / 4 + 1, step = L - p + 1;
      size_t pairs = FFT_POINTS / (4 * L);
      pairs = pairs < 1 ? 1 : pairs > PAIRS_PER_ROW ? PAIRS_PER_ROW : pairs;
      st = meas_init(&ms[k], B, d, rows_for(2 * L * pairs), 2 * pairs * step, p, L);
      ms[k++].per_row = (double)pairs;
      if (st == DWCONV_SUCCESS) st = meas_init(&ms[k++], B, d, rows_for(L), step, p, L);
    }
  }
  if (st != DWCONV_SUCCESS) goto done;
  /* One untimed call each first (first touch of each plan's buffers), then the passes. */
  size_t at = 0; /* next free place in the pool, in doubles */
  for (int pass = -1; pass < PASSES; pass++)
    for (size_t j = 0; j < total; j++) {
      meas *m = &ms[j];
      size_t span = (m->rows * m->n + 7) & ~(size_t)7; /* 64-byte steps: 8 doubles */
      if (at + 2 * span > pool_elems) at = 0;
      double *a = pool + at, *c = pool + at + span;
      at += 2 * span;
      double t0 = now_ns();
      (void)dwconv__cpu_ops.execute(m->state, a, (ptrdiff_t)m->n, c, (ptrdiff_t)m->n);
      if (pass >= 0) m->t[pass] = now_ns() - t0;
    }

  k = 0;
  out->t_call = meas_row(&ms[k++]);
  for (int d = 0; d < 2; d++) {
    dwconv_cal_cpu_dtype *c = &out->dt[d];
    double d1 = meas_row(&ms[k++]), d2 = meas_row(&ms[k++]), ds = meas_row(&ms[k++]);
    double t_mac = (d2 - d1) / ((double)DIRECT_N * (double)(DIRECT_P2 - DIRECT_P1));
    if (!(t_mac > 1e-6)) t_mac = 1e-6; /* only noise can make the slope non-positive */
    double t_out = d1 / (double)DIRECT_N - (double)DIRECT_P1 * t_mac;
    double t_row = ds - (double)SHORT_N * ((double)DIRECT_P1 * t_mac + (t_out > 0 ? t_out : 0));
    c->t_mac = t_mac;
    c->t_out = t_out > 0 ? t_out : 0;
    c->t_row = t_row > 0 ? t_row : 0;
    /* FFT figures per row: a row's fixed costs stay inside them (the model adds t_row to
     * direct only). */
    for (size_t i = 0; i < nl; i++) {
      double pair = meas_row(&ms[k++]), single = meas_row(&ms[k++]);
      c->lens[i].L = (double)lens[i];
      c->lens[i].pair = pair > 1e-3 ? pair : 1e-3;
      c->lens[i].single = single > 1e-3 ? single : 1e-3;
    }
    c->nlens = nl;
  }
done:
  for (size_t j = 0; ms != NULL && j < total; j++)
    if (ms[j].state != NULL) dwconv__cpu_ops.destroy(ms[j].state);
  free(ms);
  dwconv__free(pool);
  dwconv__free(B);
  return st;
}
