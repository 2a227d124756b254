/*
 * test_correctness: results against the naive long-double reference for every
 * mode x op x dtype x algorithm:
 *   - all (N, P) with N, P in 1..64 (1-3 rows, row-distinct kernels, mixed strides);
 *   - larger sizes: primes (4093, 5999), 2^k and 2^k +- 1, P > N, a long row, random sizes;
 *   - ALGO_AUTO and threads 0 (all) on a few sizes.
 * Bound: per-row relative L2 error <= 1e-5 (float32), <= 1e-12 (float64).
 * Run as `test_correctness cpu` or `test_correctness cuda`. DWCONV_TEST_QUICK=1 thins the
 * small sweep (for compute-sanitizer runs).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

static const dwconv_mode k_modes[4] = {DWCONV_MODE_FULL, DWCONV_MODE_SAME, DWCONV_MODE_VALID,
                                       DWCONV_MODE_CAUSAL};
static const dwconv_op k_ops[2] = {DWCONV_OP_CONVOLVE, DWCONV_OP_CORRELATE};
static const dwconv_dtype k_dtypes[2] = {DWCONV_FLOAT32, DWCONV_FLOAT64};
static const dwconv_algo k_algos[2] = {DWCONV_ALGO_DIRECT, DWCONV_ALGO_FFT};

/* 1 when DWCONV_TEST_QUICK is set to something other than "0". */
static int quick_mode(void) {
  const char *q = getenv("DWCONV_TEST_QUICK");
  return q != NULL && q[0] != '\0' && strcmp(q, "0") != 0;
}

/* Runs one (rows, N, P) problem with strides lda/ldb/ldc padding (extra elements per row,
 * filled with NaN so a read of the padding shows up), for every mode x op x dtype x algo,
 * against the reference. The full reference row is computed once per op and dtype and sliced
 * per mode. threads: desc.threads to use. Failures are collected in f. */
static void check_problem(tc_failures *f, uint64_t seed, size_t rows, size_t n, size_t p,
                          size_t pad_a, size_t pad_b, size_t pad_c, int threads,
                          dwconv_algo only_algo) {
  for (int di = 0; di < 2; di++) {
    dwconv_dtype dt = k_dtypes[di];
    size_t lda = n + pad_a, ldb = p + pad_b;
    void *A = tc_alloc(rows * lda, dt), *B = tc_alloc(rows * ldb, dt);
    tc_fill_value(A, dt, rows * lda, NAN);
    tc_fill_value(B, dt, rows * ldb, NAN);
    tc_rng r;
    tc_rng_seed(&r, seed * 2 + (uint64_t)di);
    tc_fill_normal(&r, A, dt, rows, n, lda);
    tc_fill_normal(&r, B, dt, rows, p, ldb);
    /* full[(op*rows + m)*(N+P-1) + k], then the sums of squared products at fullsq. */
    long double *full = (long double *)malloc(sizeof(long double) * 4 * rows * (n + p - 1));
    long double *fullsq = full + 2 * rows * (n + p - 1);
    for (int oi = 0; oi < 2; oi++)
      for (size_t m = 0; m < rows; m++)
        tc_ref_full_row(k_ops[oi], (const char *)A + m * lda * tc_esize(dt),
                        (const char *)B + m * ldb * tc_esize(dt), dt, n, p,
                        full + (oi * rows + m) * (n + p - 1), fullsq + (oi * rows + m) * (n + p - 1));
    size_t cap = rows * (n + p - 1 + pad_c);
    void *C = tc_alloc(cap, dt);
    long double *ref = (long double *)malloc(sizeof(long double) * 2 * (n + p));
    long double *refsq = ref + n + p;
    for (int mi = 0; mi < 4; mi++)
      for (int oi = 0; oi < 2; oi++)
        for (int ai = 0; ai < 2; ai++) {
          dwconv_mode mode = k_modes[mi];
          dwconv_algo algo = k_algos[ai];
          if (only_algo != DWCONV_ALGO_AUTO && algo != only_algo) continue;
          dwconv_desc d = tc_desc(rows, n, p, dt, mode, k_ops[oi], algo);
          d.threads = threads;
          size_t len = tc_out_len(mode, n, p), off = tc_full_offset(mode, n, p);
          size_t ldc = len + pad_c;
          char err[600];
          if (algo == DWCONV_ALGO_FFT && !tc_fft_available(d.backend)) {
            dwconv_status st = tc_run(&d, A, (ptrdiff_t)lda, B, (ptrdiff_t)ldb, C, (ptrdiff_t)ldc, err, sizeof err);
            if (st != DWCONV_ERROR_NOT_SUPPORTED)
              tc_fail(f, "FFT without FFTW: status %d, want NOT_SUPPORTED", (int)st);
            continue;
          }
          tc_fill_value(C, dt, cap, -777.0);
          dwconv_status st = tc_run(&d, A, (ptrdiff_t)lda, B, (ptrdiff_t)ldb, C, (ptrdiff_t)ldc, err, sizeof err);
          if (st != DWCONV_SUCCESS) {
            tc_fail(f, "rows=%zu N=%zu P=%zu %s %s %s %s: %s", rows, n, p, tc_mode_name(mode),
                    tc_op_name(k_ops[oi]), tc_dtype_name(dt), tc_algo_name(algo), err);
            continue;
          }
          for (size_t m = 0; m < rows; m++) {
            memcpy(ref, full + (oi * rows + m) * (n + p - 1) + off, len * sizeof(long double));
            memcpy(refsq, fullsq + (oi * rows + m) * (n + p - 1) + off, len * sizeof(long double));
            const char *crow = (const char *)C + m * ldc * tc_esize(dt);
            double e = tc_rel_err(crow, dt, ref, refsq, len);
            if (!(e <= tc_tol(dt))) {
              tc_fail(f, "rows=%zu N=%zu P=%zu lda=%zu ldb=%zu ldc=%zu threads=%d %s %s %s %s: "
                      "row %zu rel err %.3g > %.0e (c[0]=%Lg ref[0]=%Lg)",
                      rows, n, p, lda, ldb, ldc, threads, tc_mode_name(mode),
                      tc_op_name(k_ops[oi]), tc_dtype_name(dt), tc_algo_name(algo), m, e,
                      tc_tol(dt), tc_get(crow, dt, 0), ref[0]);
              break;
            }
            for (size_t i = len; i < ldc; i++)
              if (tc_get(crow, dt, i) != -777.0L) {
                tc_fail(f, "rows=%zu N=%zu P=%zu %s %s %s %s: ldc padding of row %zu written at %zu",
                        rows, n, p, tc_mode_name(mode), tc_op_name(k_ops[oi]), tc_dtype_name(dt),
                        tc_algo_name(algo), m, i);
                break;
              }
          }
        }
    free(ref);
    free(C);
    free(full);
    free(A);
    free(B);
  }
}

/* Small sweep, one loop iteration per N in 1..64: every P in 1..64, 1-3 rows, all modes,
 * ops, dtypes and algorithms. Strides vary with (N, P) so padded rows are common. */
START_TEST(test_sweep_small) {
  size_t n = (size_t)_i;
  static const size_t quick[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64};
  int q = quick_mode();
  int in_quick = 0;
  for (size_t k = 0; k < sizeof quick / sizeof quick[0]; k++) in_quick |= quick[k] == n;
  if (q && !in_quick) return;
  tc_failures f = {0};
  long problems = 0;
  for (size_t p = 1; p <= 64; p++) {
    if (q) {
      int ok = 0;
      for (size_t k = 0; k < sizeof quick / sizeof quick[0]; k++) ok |= quick[k] == p;
      if (!ok) continue;
    }
    size_t rows = 1 + (n + p) % 3;
    size_t pad_a = p % 3 == 0 ? 3 : 0, pad_b = n % 4 == 1 ? 2 : 0, pad_c = (n + p) % 2;
    check_problem(&f, n * 1000 + p, rows, n, p, pad_a, pad_b, pad_c, 1, DWCONV_ALGO_AUTO);
    problems++;
  }
  ck_assert_msg(problems > 0, "nothing ran");
  ck_assert_msg(f.count == 0, "N=%zu: %ld failures; first: %s", n, f.count, f.first);
}
END_TEST

/* Larger sizes: {rows, N, P}. Primes 4093 and 5999 (both orders), 2^k and 2^k +- 1, P > N,
 * N = 1 with long P, one long row with a short kernel. */
static const size_t k_large[][3] = {
    {2, 4093, 5999}, {2, 5999, 4093}, {2, 4096, 33},  {2, 4097, 257}, {2, 4095, 1024},
    {1, 1025, 1023}, {2, 2047, 2049}, {2, 1, 4093},   {2, 4093, 1},   {1, 65537, 5},
    {1, 16384, 63},  {1, 300, 4097},  {4, 1000, 127}, {3, 8191, 9},   {1, 2048, 2048},
    {5, 513, 511},   {1, 5999, 5999}, {2, 127, 129},
};
#define N_LARGE (int)(sizeof k_large / sizeof k_large[0])
#define N_RANDOM 12

/* One larger problem per loop iteration: the table above, then N_RANDOM random sizes
 * (N in 65..5000, P in 1..6000, so P > N is common). Threads 2 for the DIRECT and FFT
 * runs, exercising the threaded paths on long rows. */
START_TEST(test_sizes_large) {
  tc_failures f = {0};
  size_t rows, n, p;
  if (_i < N_LARGE) {
    rows = k_large[_i][0];
    n = k_large[_i][1];
    p = k_large[_i][2];
  } else {
    tc_rng r;
    tc_rng_seed(&r, 4242 + (uint64_t)_i);
    rows = tc_rng_range(&r, 1, 3);
    n = tc_rng_range(&r, 65, 5000);
    p = tc_rng_range(&r, 1, 6000);
  }
  if (quick_mode() && n * p > 4000000) return;
  check_problem(&f, 99000 + (uint64_t)_i, rows, n, p, _i % 2, (_i / 2) % 2, _i % 3, 2,
                DWCONV_ALGO_AUTO);
  ck_assert_msg(f.count == 0, "rows=%zu N=%zu P=%zu: %ld failures; first: %s", rows, n, p,
                f.count, f.first);
}
END_TEST

/* ALGO_AUTO and threads = 0 (all cores) give correct results; the info says which
 * algorithm AUTO chose (never AUTO). */
START_TEST(test_auto_algo) {
  static const size_t sizes[][3] = {{3, 10, 3},   {2, 1000, 7},  {2, 1000, 200},
                                    {1, 20000, 31}, {4, 64, 64},  {2, 3, 300}};
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int mi = 0; mi < 4; mi++) {
        size_t rows = sizes[s][0], n = sizes[s][1], p = sizes[s][2];
        dwconv_dtype dt = k_dtypes[di];
        dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], DWCONV_OP_CONVOLVE, DWCONV_ALGO_AUTO);
        d.threads = 0;
        void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt);
        tc_rng r;
        tc_rng_seed(&r, 31 + s);
        tc_fill_normal(&r, A, dt, rows, n, n);
        tc_fill_normal(&r, B, dt, rows, p, p);
        size_t len = tc_out_len(k_modes[mi], n, p);
        void *C = tc_alloc(rows * len, dt);
        dwconv_plan *plan = NULL;
        dwconv_plan_info info;
        dwconv_status st = dwconv_plan_create(&plan, &d);
        if (st == DWCONV_SUCCESS) st = dwconv_plan_get_info(plan, &info);
        if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p);
        if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)len);
        if (st != DWCONV_SUCCESS) {
          tc_fail(&f, "AUTO rows=%zu N=%zu P=%zu: %s: %s", rows, n, p, dwconv_status_string(st),
                  dwconv_last_error());
        } else {
          if (info.algo != DWCONV_ALGO_DIRECT && info.algo != DWCONV_ALGO_FFT)
            tc_fail(&f, "AUTO: info.algo = %d", (int)info.algo);
          long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p);
          double e = tc_max_row_err(C, (ptrdiff_t)len, dt, ref, rows, len);
          if (!(e <= tc_tol(dt)))
            tc_fail(&f, "AUTO (%s) rows=%zu N=%zu P=%zu %s %s: rel err %.3g",
                    tc_algo_name(info.algo), rows, n, p, tc_mode_name(k_modes[mi]),
                    tc_dtype_name(dt), e);
          free(ref);
        }
        dwconv_plan_destroy(plan);
        free(A);
        free(B);
        free(C);
      }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* The suite. */
static Suite *make_suite(void) {
  Suite *s = suite_create("correctness");
  TCase *tc = tcase_create("sweep");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_loop_test(tc, test_sweep_small, 1, 65);
  suite_add_tcase(s, tc);
  tc = tcase_create("large");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_loop_test(tc, test_sizes_large, 0, N_LARGE + N_RANDOM);
  tcase_add_test(tc, test_auto_algo);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_correctness", make_suite); }
