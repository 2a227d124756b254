/*
 * test_properties: properties and robustness of results, for every algorithm:
 *   impulse (delta kernels; exact for DIRECT), exact power-of-two scaling, linearity, shift,
 *   strides (lda > N, ldb > P with NaN padding; ldc > out_len with sentinel padding and guard
 *   zones), ldb = 0 / lda = 0 broadcasts, inputs unchanged, thread-count invariance and
 *   chunk invariance (DWCONV_CPU_CHUNK_OUTS) bitwise, NaN / Inf isolation between rows,
 *   a row of denormals, data near FLT_MAX / DBL_MAX, no access outside A / B / C (buffers
 *   butted against inaccessible pages), one-shot == plan, set_kernel replacing
 *   the kernel (and copying B), one plan executed many times, distinct plans used from
 *   several threads at once (dwconv.h's thread-safety promise; FFTW's planner is shared).
 * Run as `test_properties cpu` or `test_properties cuda`.
 */
#define _DEFAULT_SOURCE 1 /* setenv, unsetenv, mmap's MAP_ANONYMOUS */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_common.h"

static const dwconv_mode k_modes[4] = {DWCONV_MODE_FULL, DWCONV_MODE_SAME, DWCONV_MODE_VALID,
                                       DWCONV_MODE_CAUSAL};
static const dwconv_op k_ops[2] = {DWCONV_OP_CONVOLVE, DWCONV_OP_CORRELATE};
static const dwconv_dtype k_dtypes[2] = {DWCONV_FLOAT32, DWCONV_FLOAT64};
static const dwconv_algo k_algos[2] = {DWCONV_ALGO_DIRECT, DWCONV_ALGO_FFT};

/* Whether algo can run on the backend under test in this build (FFT needs FFTW on CPU). */
static int algo_ok(dwconv_algo a) { return a != DWCONV_ALGO_FFT || tc_fft_available(tc_backend); }

/* Runs d (create, set_kernel, execute, destroy) and asserts success. */
static void run_ok(const dwconv_desc *d, const void *A, ptrdiff_t lda, const void *B, ptrdiff_t ldb,
                   void *C, ptrdiff_t ldc) {
  char err[600];
  dwconv_status st = tc_run(d, A, lda, B, ldb, C, ldc, err, sizeof err);
  ck_assert_msg(st == DWCONV_SUCCESS, "rows=%zu N=%zu P=%zu %s %s %s %s threads=%d: %s", d->rows,
                d->signal_len, d->kernel_len, tc_mode_name(d->mode), tc_op_name(d->op),
                tc_dtype_name(d->dtype), tc_algo_name(d->algo), d->threads, err);
}

/* Short description of a descriptor for failure messages (thread-local static buffer). */
static const char *desc_str_r(const dwconv_desc *d) {
  static _Thread_local char buf[200];
  snprintf(buf, sizeof buf, "rows=%zu N=%zu P=%zu %s %s %s %s threads=%d", d->rows, d->signal_len,
           d->kernel_len, tc_mode_name(d->mode), tc_op_name(d->op), tc_dtype_name(d->dtype),
           tc_algo_name(d->algo), d->threads);
  return buf;
}
#define desc_str desc_str_r

/* Impulse: a delta kernel at row-distinct positions reproduces the mode's slice of the
 * shifted A -- exactly (==) for DIRECT, within the usual bound for FFT. */
START_TEST(test_impulse) {
  static const size_t sizes[][2] = {{1, 1},   {10, 1},  {10, 4},  {37, 16},    {200, 31},
                                    {5, 9},   {3, 64},  {1000, 64}, {4099, 300}};
  tc_failures f = {0};
  const size_t rows = 3;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int oi = 0; oi < 2; oi++)
        for (int mi = 0; mi < 4; mi++)
          for (int ai = 0; ai < 2; ai++) {
            size_t n = sizes[s][0], p = sizes[s][1];
            dwconv_dtype dt = k_dtypes[di];
            if (!algo_ok(k_algos[ai])) continue;
            dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[oi], k_algos[ai]);
            size_t len = tc_out_len(k_modes[mi], n, p), off = tc_full_offset(k_modes[mi], n, p);
            void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt), *C = tc_alloc(rows * len, dt);
            tc_rng r;
            tc_rng_seed(&r, 100 + s);
            tc_fill_normal(&r, A, dt, rows, n, n);
            /* Expected values, then (tc_ref_problem layout) their squares as the scale. */
            long double *want = (long double *)malloc(sizeof(long double) * 2 * rows * len + 1);
            for (size_t m = 0; m < rows; m++) {
              size_t pos = (m * 7 + 1) % p;
              tc_set(B, dt, m * p + pos, 1.0);
              /* correlate = convolve with B reversed: the delta moves to P-1-pos. */
              size_t shift = k_ops[oi] == DWCONV_OP_CONVOLVE ? pos : p - 1 - pos;
              for (size_t i = 0; i < len; i++) {
                long long src = (long long)(off + i) - (long long)shift;
                want[m * len + i] = src >= 0 && src < (long long)n ? tc_get(A, dt, m * n + (size_t)src) : 0.0L;
                want[rows * len + m * len + i] = want[m * len + i] * want[m * len + i];
              }
            }
            run_ok(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len);
            if (k_algos[ai] == DWCONV_ALGO_DIRECT) {
              for (size_t i = 0; i < rows * len; i++)
                if (tc_get(C, dt, i) != want[i]) {
                  tc_fail(&f, "%s: impulse not exact at row %zu i=%zu: %.9Lg vs %.9Lg", desc_str(&d),
                          i / len, i % len, tc_get(C, dt, i), want[i]);
                  break;
                }
            } else {
              double e = tc_max_row_err(C, (ptrdiff_t)len, dt, want, rows, len);
              if (!(e <= tc_tol(dt))) tc_fail(&f, "%s: impulse rel err %.3g", desc_str(&d), e);
            }
            free(want);
            free(A);
            free(B);
            free(C);
          }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* Scaling A by 2^5 and B by 2^-3 scales C by exactly 2^2 (bitwise): every algorithm built
 * from + and x commutes with power-of-two scaling when nothing under- or overflows. */
START_TEST(test_pow2_scaling_exact) {
  static const size_t sizes[][3] = {{2, 50, 7}, {3, 1000, 64}, {1, 17, 40}, {2, 4096, 255}};
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int mi = 0; mi < 4; mi++)
        for (int ai = 0; ai < 2; ai++) {
          size_t rows = sizes[s][0], n = sizes[s][1], p = sizes[s][2];
          dwconv_dtype dt = k_dtypes[di];
          if (!algo_ok(k_algos[ai])) continue;
          dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[mi % 2], k_algos[ai]);
          size_t len = tc_out_len(k_modes[mi], n, p);
          void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt);
          void *A2 = tc_alloc(rows * n, dt), *B2 = tc_alloc(rows * p, dt);
          void *C = tc_alloc(rows * len, dt), *C2 = tc_alloc(rows * len, dt);
          tc_rng r;
          tc_rng_seed(&r, 200 + s);
          tc_fill_normal(&r, A, dt, rows, n, n);
          tc_fill_normal(&r, B, dt, rows, p, p);
          for (size_t i = 0; i < rows * n; i++) tc_set(A2, dt, i, (double)tc_get(A, dt, i) * 32.0);
          for (size_t i = 0; i < rows * p; i++) tc_set(B2, dt, i, (double)tc_get(B, dt, i) / 8.0);
          run_ok(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len);
          run_ok(&d, A2, (ptrdiff_t)n, B2, (ptrdiff_t)p, C2, (ptrdiff_t)len);
          for (size_t i = 0; i < rows * len; i++)
            if (tc_get(C2, dt, i) != tc_get(C, dt, i) * 4.0L) {
              tc_fail(&f, "%s: C(32A, B/8) != 4 C(A, B) at %zu: %.17Lg vs %.17Lg", desc_str(&d), i,
                      tc_get(C2, dt, i), tc_get(C, dt, i) * 4.0L);
              break;
            }
          free(A); free(B); free(A2); free(B2); free(C); free(C2);
        }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* Linearity: C(A1 + 0.75 A2, B) == C(A1, B) + 0.75 C(A2, B) and the same in B, within
 * 4x the bound relative to ||C1|| + 0.75 ||C2|| per row. */
START_TEST(test_linearity) {
  static const size_t sizes[][3] = {{2, 100, 9}, {3, 777, 64}, {1, 10, 30}};
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int mi = 0; mi < 4; mi++)
        for (int ai = 0; ai < 2; ai++)
          for (int which = 0; which < 2; which++) { /* 0: linear in A, 1: linear in B */
            size_t rows = sizes[s][0], n = sizes[s][1], p = sizes[s][2];
            dwconv_dtype dt = k_dtypes[di];
            if (!algo_ok(k_algos[ai])) continue;
            dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[(mi + which) % 2], k_algos[ai]);
            size_t len = tc_out_len(k_modes[mi], n, p);
            size_t xl = which == 0 ? n : p; /* the operand that varies */
            void *X1 = tc_alloc(rows * xl, dt), *X2 = tc_alloc(rows * xl, dt), *X3 = tc_alloc(rows * xl, dt);
            void *Y = tc_alloc(rows * (which == 0 ? p : n), dt);
            void *C1 = tc_alloc(rows * len, dt), *C2 = tc_alloc(rows * len, dt), *C3 = tc_alloc(rows * len, dt);
            tc_rng r;
            tc_rng_seed(&r, 300 + s);
            tc_fill_normal(&r, X1, dt, rows, xl, xl);
            tc_fill_normal(&r, X2, dt, rows, xl, xl);
            tc_fill_normal(&r, Y, dt, rows, which == 0 ? p : n, which == 0 ? p : n);
            for (size_t i = 0; i < rows * xl; i++)
              tc_set(X3, dt, i, (double)(tc_get(X1, dt, i) + 0.75L * tc_get(X2, dt, i)));
            void *Cs[3] = {C1, C2, C3}, *Xs[3] = {X1, X2, X3};
            for (int k = 0; k < 3; k++) {
              if (which == 0) run_ok(&d, Xs[k], (ptrdiff_t)n, Y, (ptrdiff_t)p, Cs[k], (ptrdiff_t)len);
              else run_ok(&d, Y, (ptrdiff_t)n, Xs[k], (ptrdiff_t)p, Cs[k], (ptrdiff_t)len);
            }
            for (size_t m = 0; m < rows; m++) {
              long double num = 0, n1 = 0, n2 = 0;
              for (size_t i = m * len; i < (m + 1) * len; i++) {
                long double c1 = tc_get(C1, dt, i), c2 = tc_get(C2, dt, i), c3 = tc_get(C3, dt, i);
                long double e = c3 - (c1 + 0.75L * c2);
                num += e * e;
                n1 += c1 * c1;
                n2 += c2 * c2;
              }
              double rel = (double)(sqrtl(num) / (sqrtl(n1) + 0.75L * sqrtl(n2)));
              if (!(rel <= 4 * tc_tol(dt))) {
                tc_fail(&f, "%s: linearity in %s, row %zu: rel %.3g", desc_str(&d), which ? "B" : "A", m, rel);
                break;
              }
            }
            free(X1); free(X2); free(X3); free(Y); free(C1); free(C2); free(C3);
          }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* Shift (FULL mode): prepending s zeros to A, or to the kernel (convolve; appended for
 * correlate), shifts the output right by s: C'[k+s] == C[k], C'[0..s) == 0, within the bound
 * relative to the row's norm. */
START_TEST(test_shift) {
  static const size_t sizes[][3] = {{2, 40, 5}, {1, 300, 64}, {2, 9, 20}};
  static const size_t shifts[] = {1, 3, 17};
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t si = 0; si < 3; si++)
      for (int di = 0; di < 2; di++)
        for (int oi = 0; oi < 2; oi++)
          for (int ai = 0; ai < 2; ai++)
            for (int which = 0; which < 2; which++) {
              size_t rows = sizes[s][0], n = sizes[s][1], p = sizes[s][2], sh = shifts[si];
              dwconv_dtype dt = k_dtypes[di];
              dwconv_op op = k_ops[oi];
              if (!algo_ok(k_algos[ai])) continue;
              size_t n2 = which == 0 ? n + sh : n, p2 = which == 1 ? p + sh : p;
              dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_FULL, op, k_algos[ai]);
              dwconv_desc d2 = tc_desc(rows, n2, p2, dt, DWCONV_MODE_FULL, op, k_algos[ai]);
              size_t len = n + p - 1, len2 = n2 + p2 - 1;
              void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt);
              void *A2 = tc_alloc(rows * n2, dt), *B2 = tc_alloc(rows * p2, dt);
              void *C = tc_alloc(rows * len, dt), *C2 = tc_alloc(rows * len2, dt);
              tc_rng r;
              tc_rng_seed(&r, 400 + s);
              tc_fill_normal(&r, A, dt, rows, n, n);
              tc_fill_normal(&r, B, dt, rows, p, p);
              for (size_t m = 0; m < rows; m++) {
                size_t a_off = which == 0 ? sh : 0;
                /* Convolve: zeros before B shift the output; correlate: zeros after B. */
                size_t b_off = which == 1 && op == DWCONV_OP_CONVOLVE ? sh : 0;
                for (size_t i = 0; i < n; i++) tc_set(A2, dt, m * n2 + a_off + i, (double)tc_get(A, dt, m * n + i));
                for (size_t j = 0; j < p; j++) tc_set(B2, dt, m * p2 + b_off + j, (double)tc_get(B, dt, m * p + j));
              }
              run_ok(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len);
              run_ok(&d2, A2, (ptrdiff_t)n2, B2, (ptrdiff_t)p2, C2, (ptrdiff_t)len2);
              for (size_t m = 0; m < rows; m++) {
                long double num = 0, den = 0;
                for (size_t k = 0; k < len2; k++) {
                  long double want = k >= sh && k - sh < len ? tc_get(C, dt, m * len + k - sh) : 0.0L;
                  long double e = tc_get(C2, dt, m * len2 + k) - want;
                  num += e * e;
                  den += want * want;
                }
                double rel = (double)sqrtl(num / den);
                if (!(rel <= 2 * tc_tol(dt))) {
                  tc_fail(&f, "%s shift %zu of %s: row %zu rel %.3g", desc_str(&d), sh, which ? "B" : "A", m, rel);
                  break;
                }
              }
              free(A); free(B); free(A2); free(B2); free(C); free(C2);
            }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

#define GUARD 16 /* elements of guard zone before and after each buffer */

/* Strides: lda > N and ldb > P (padding and guard zones hold NaN, so reading them would
 * poison the result), ldc > out_len (padding and guards hold a sentinel that must survive);
 * A and B (with guards) must be bitwise unchanged. Also lda = 0, ldb = 0 and both
 * (broadcasts), where A / B are allocated with exactly one row. */
START_TEST(test_strides_and_broadcast) {
  static const size_t sizes[][3] = {{3, 50, 7}, {4, 13, 20}, {2, 300, 64}, {5, 1, 1}, {2, 2000, 3}};
  /* {pad_a, pad_b, pad_c}; -1 = broadcast (ld 0) */
  static const int strides[][3] = {{5, 3, 4}, {0, 0, 0}, {-1, 2, 1}, {1, -1, 3}, {-1, -1, 0}, {64, 0, 17}};
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t t = 0; t < sizeof strides / sizeof strides[0]; t++)
      for (int di = 0; di < 2; di++)
        for (int oi = 0; oi < 2; oi++)
          for (int mi = 0; mi < 4; mi++)
            for (int ai = 0; ai < 2; ai++) {
              size_t rows = sizes[s][0], n = sizes[s][1], p = sizes[s][2];
              dwconv_dtype dt = k_dtypes[di];
              size_t es = tc_esize(dt);
              if (!algo_ok(k_algos[ai])) continue;
              dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[oi], k_algos[ai]);
              d.threads = 2;
              size_t len = tc_out_len(k_modes[mi], n, p);
              size_t lda = strides[t][0] < 0 ? 0 : n + (size_t)strides[t][0];
              size_t ldb = strides[t][1] < 0 ? 0 : p + (size_t)strides[t][1];
              size_t ldc = len + (size_t)strides[t][2];
              size_t a_elems = lda ? rows * lda : n, b_elems = ldb ? rows * ldb : p;
              size_t c_elems = rows * ldc;
              void *Abuf = tc_alloc(a_elems + 2 * GUARD, dt), *Bbuf = tc_alloc(b_elems + 2 * GUARD, dt);
              void *Cbuf = tc_alloc(c_elems + 2 * GUARD, dt);
              tc_fill_value(Abuf, dt, a_elems + 2 * GUARD, NAN);
              tc_fill_value(Bbuf, dt, b_elems + 2 * GUARD, NAN);
              tc_fill_value(Cbuf, dt, c_elems + 2 * GUARD, -555.5);
              void *A = (char *)Abuf + GUARD * es, *B = (char *)Bbuf + GUARD * es, *C = (char *)Cbuf + GUARD * es;
              tc_rng r;
              tc_rng_seed(&r, 500 + s * 10 + t);
              tc_fill_normal(&r, A, dt, lda ? rows : 1, n, lda);
              tc_fill_normal(&r, B, dt, ldb ? rows : 1, p, ldb);
              void *Acopy = malloc((a_elems + 2 * GUARD) * es), *Bcopy = malloc((b_elems + 2 * GUARD) * es);
              memcpy(Acopy, Abuf, (a_elems + 2 * GUARD) * es);
              memcpy(Bcopy, Bbuf, (b_elems + 2 * GUARD) * es);
              run_ok(&d, A, (ptrdiff_t)lda, B, (ptrdiff_t)ldb, C, (ptrdiff_t)ldc);
              if (memcmp(Acopy, Abuf, (a_elems + 2 * GUARD) * es) != 0)
                tc_fail(&f, "%s lda=%zu: A modified", desc_str(&d), lda);
              if (memcmp(Bcopy, Bbuf, (b_elems + 2 * GUARD) * es) != 0)
                tc_fail(&f, "%s ldb=%zu: B modified", desc_str(&d), ldb);
              /* Everything outside the rows' [0, out_len) keeps the sentinel. */
              for (size_t i = 0; i < c_elems + 2 * GUARD; i++) {
                int inside = i >= GUARD && i < GUARD + c_elems && (i - GUARD) % ldc < len;
                if (!inside && tc_get(Cbuf, dt, i) != -555.5L) {
                  tc_fail(&f, "%s ldc=%zu: C written outside the output at offset %td", desc_str(&d),
                          ldc, (ptrdiff_t)i - GUARD);
                  break;
                }
              }
              long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)lda, B, (ptrdiff_t)ldb);
              double e = tc_max_row_err(C, (ptrdiff_t)ldc, dt, ref, rows, len);
              if (!(e <= tc_tol(dt)))
                tc_fail(&f, "%s lda=%zu ldb=%zu ldc=%zu: rel err %.3g", desc_str(&d), lda, ldb, ldc, e);
              free(ref); free(Acopy); free(Bcopy); free(Abuf); free(Bbuf); free(Cbuf);
            }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* Sets or clears the backend's test-only chunk cap (NULL clears): DWCONV_CPU_CHUNK_OUTS on the
 * CPU; on CUDA DWCONV_CUDA_CHUNK_ROWS and DWCONV_CUDA_CHUNK_OUTS, which force host data through
 * the device in many small chunks (the streaming path for arrays larger than the GPU). */
static void set_chunk_env(const char *v) {
  const char *names[] = {"DWCONV_CPU_CHUNK_OUTS", "DWCONV_CUDA_CHUNK_ROWS", "DWCONV_CUDA_CHUNK_OUTS"};
  for (int i = 0; i < 3; i++) {
    int on = v != NULL && (i == 0) == (tc_backend != DWCONV_BACKEND_CUDA);
    if (on) setenv(names[i], v, 1);
    else unsetenv(names[i]);
  }
}

/* Thread-count and chunk invariance: threads 1, 2, 3, 8 x chunk cap unset, 1, 7, 64 give
 * bitwise identical C, for DIRECT and FFT (the threads = 1 default-chunk result is also
 * checked against the reference). One loop iteration per size. On CUDA the chunk cap splits
 * host data into device chunks (cap 1 is left out there: a launch per sample is too slow under
 * compute-sanitizer); direct stays bitwise, FFT is held to the accuracy bound, since cuFFT
 * plans of different batch sizes may round differently (docs/CUDA.md). */
static const size_t k_inv_sizes[][3] = {{1, 1, 1},    {5, 7, 3},     {3, 100, 64}, {1, 4099, 129},
                                        {7, 1000, 33}, {2, 20000, 5}, {257, 64, 5}, {2, 60, 200}};
START_TEST(test_thread_chunk_invariance) {
  static const char *chunks[] = {NULL, "1", "7", "64"};
  static const int threads[] = {1, 2, 3, 8};
  tc_failures f = {0};
  size_t rows = k_inv_sizes[_i][0], n = k_inv_sizes[_i][1], p = k_inv_sizes[_i][2];
  for (int di = 0; di < 2; di++)
    for (int oi = 0; oi < 2; oi++)
      for (int mi = 0; mi < 4; mi++)
        for (int ai = 0; ai < 2; ai++) {
          dwconv_dtype dt = k_dtypes[di];
          if (!algo_ok(k_algos[ai])) continue;
          dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[oi], k_algos[ai]);
          size_t len = tc_out_len(k_modes[mi], n, p), es = tc_esize(dt);
          void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt);
          void *C0 = tc_alloc(rows * len, dt), *C = tc_alloc(rows * len, dt);
          tc_rng r;
          tc_rng_seed(&r, 600 + (uint64_t)_i);
          tc_fill_normal(&r, A, dt, rows, n, n);
          tc_fill_normal(&r, B, dt, rows, p, p);
          set_chunk_env(NULL);
          d.threads = 1;
          run_ok(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C0, (ptrdiff_t)len);
          long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p);
          double e = tc_max_row_err(C0, (ptrdiff_t)len, dt, ref, rows, len);
          free(ref);
          if (!(e <= tc_tol(dt))) tc_fail(&f, "%s: baseline rel err %.3g", desc_str(&d), e);
          for (int ti = 0; ti < 4; ti++)
            for (int ci = 0; ci < 4; ci++) {
              if (ti == 0 && ci == 0) continue;
              if (tc_backend == DWCONV_BACKEND_CUDA && chunks[ci] != NULL && strcmp(chunks[ci], "1") == 0)
                continue;
              d.threads = threads[ti];
              dwconv_plan *plan = NULL;
              set_chunk_env(chunks[ci]); /* read at plan creation */
              dwconv_status st = dwconv_plan_create(&plan, &d);
              set_chunk_env(NULL);
              if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p);
              memset(C, 0xEE, rows * len * es);
              if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)len);
              dwconv_plan_destroy(plan);
              if (st != DWCONV_SUCCESS) {
                tc_fail(&f, "%s chunk=%s: %s", desc_str(&d), chunks[ci] ? chunks[ci] : "default",
                        dwconv_status_string(st));
                continue;
              }
              if (tc_backend == DWCONV_BACKEND_CUDA && k_algos[ai] == DWCONV_ALGO_FFT) {
                long double *r2 = tc_ref_problem(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p);
                double e2 = tc_max_row_err(C, (ptrdiff_t)len, dt, r2, rows, len);
                free(r2);
                if (!(e2 <= tc_tol(dt)))
                  tc_fail(&f, "%s chunk=%s: rel err %.3g", desc_str(&d), chunks[ci] ? chunks[ci] : "default", e2);
              } else if (memcmp(C, C0, rows * len * es) != 0) {
                size_t i = 0;
                while (i < rows * len && memcmp((char *)C + i * es, (char *)C0 + i * es, es) == 0) i++;
                tc_fail(&f, "%s chunk=%s: differs from threads=1 default chunk at row %zu i=%zu "
                        "(%.17Lg vs %.17Lg)", desc_str(&d), chunks[ci] ? chunks[ci] : "default",
                        i / len, i % len, tc_get(C, dt, i), tc_get(C0, dt, i));
              }
            }
          free(A); free(B); free(C0); free(C);
        }
  ck_assert_msg(f.count == 0, "rows=%zu N=%zu P=%zu: %ld failures; first: %s", rows, n, p, f.count, f.first);
}
END_TEST

/* NaN / Inf isolation: a NaN or Inf in one row of A (or of B) leaves every other row
 * bitwise equal to a run without it; in FULL mode the poisoned row shows a non-finite value. */
START_TEST(test_nonfinite_isolation) {
  static const size_t sizes[][2] = {{40, 7}, {300, 64}, {1000, 3}, {5, 30}};
  const size_t rows = 5;
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int kind = 0; kind < 4; kind++) /* 0: NaN in A, 1: +Inf in A, 2: NaN in B, 3: -Inf in B */
      for (int di = 0; di < 2; di++)
        for (int mi = 0; mi < 4; mi++)
          for (int ai = 0; ai < 2; ai++)
            for (int threads = 1; threads <= 2; threads++) {
              size_t n = sizes[s][0], p = sizes[s][1];
              dwconv_dtype dt = k_dtypes[di];
              if (!algo_ok(k_algos[ai])) continue;
              dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[(kind + mi) % 2], k_algos[ai]);
              d.threads = threads;
              size_t len = tc_out_len(k_modes[mi], n, p), es = tc_esize(dt);
              void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt);
              void *A2 = tc_alloc(rows * n, dt), *B2 = tc_alloc(rows * p, dt);
              void *C = tc_alloc(rows * len, dt), *C2 = tc_alloc(rows * len, dt);
              tc_rng r;
              tc_rng_seed(&r, 700 + s);
              tc_fill_normal(&r, A, dt, rows, n, n);
              tc_fill_normal(&r, B, dt, rows, p, p);
              memcpy(A2, A, rows * n * es);
              memcpy(B2, B, rows * p * es);
              size_t bad_row = kind < 2 ? 2 : (kind == 2 ? 3 : 1);
              if (kind == 0) tc_set(A2, dt, bad_row * n + n / 2, NAN);
              if (kind == 1) tc_set(A2, dt, bad_row * n + n / 3, INFINITY);
              if (kind == 2) tc_set(B2, dt, bad_row * p + p / 2, NAN);
              if (kind == 3) tc_set(B2, dt, bad_row * p, -INFINITY);
              run_ok(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len);
              run_ok(&d, A2, (ptrdiff_t)n, B2, (ptrdiff_t)p, C2, (ptrdiff_t)len);
              for (size_t m = 0; m < rows; m++) {
                if (m == bad_row) continue;
                if (memcmp((char *)C + m * len * es, (char *)C2 + m * len * es, len * es) != 0) {
                  tc_fail(&f, "%s: %s in row %zu changed row %zu", desc_str(&d),
                          kind == 0 || kind == 2 ? "NaN" : "Inf", bad_row, m);
                  break;
                }
              }
              if (k_modes[mi] == DWCONV_MODE_FULL) {
                int nonfinite = 0;
                for (size_t i = 0; i < len; i++) nonfinite |= !isfinite(tc_get(C2, dt, bad_row * len + i));
                if (!nonfinite)
                  tc_fail(&f, "%s: the %s in row %zu vanished from the FULL output", desc_str(&d),
                          kind == 0 || kind == 2 ? "NaN" : "Inf", bad_row);
              }
              free(A); free(B); free(A2); free(B2); free(C); free(C2);
            }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* A row of subnormal inputs (|x| ~ 1e-40 float, 1e-310 double): its result is finite and
 * not flushed to zero (relative L2 error <= 1e-3, loose because subnormals carry fewer
 * bits), and the other rows are bitwise equal to a run with a normal row there. */
START_TEST(test_denormal_row) {
  static const size_t sizes[][2] = {{64, 5}, {500, 33}, {33, 33}};
  const size_t rows = 3;
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int mi = 0; mi < 4; mi++)
        for (int ai = 0; ai < 2; ai++) {
          size_t n = sizes[s][0], p = sizes[s][1];
          dwconv_dtype dt = k_dtypes[di];
          if (!algo_ok(k_algos[ai])) continue;
          dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[mi % 2], k_algos[ai]);
          size_t len = tc_out_len(k_modes[mi], n, p), es = tc_esize(dt);
          double tiny = dt == DWCONV_FLOAT64 ? 1e-310 : 1e-40;
          void *A = tc_alloc(rows * n, dt), *A2 = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt);
          void *C = tc_alloc(rows * len, dt), *C2 = tc_alloc(rows * len, dt);
          tc_rng r;
          tc_rng_seed(&r, 800 + s);
          tc_fill_normal(&r, A, dt, rows, n, n);
          tc_fill_normal(&r, B, dt, rows, p, p);
          memcpy(A2, A, rows * n * es);
          int subnormal = 1;
          for (size_t i = 0; i < n; i++) {
            double a = (double)tc_get(A, dt, n + i);
            if (fabs(a) < 0.05) a = a < 0 ? -0.05 : 0.05; /* keep it clear of zero */
            tc_set(A2, dt, n + i, a * tiny);
            long double v = tc_get(A2, dt, n + i);
            subnormal &= v != 0 && fabsl(v) < (dt == DWCONV_FLOAT64 ? DBL_MIN : FLT_MIN);
          }
          ck_assert_msg(subnormal, "test data: row 1 is not all subnormal");
          run_ok(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len);
          run_ok(&d, A2, (ptrdiff_t)n, B, (ptrdiff_t)p, C2, (ptrdiff_t)len);
          for (size_t m = 0; m < rows; m += 2)
            if (memcmp((char *)C + m * len * es, (char *)C2 + m * len * es, len * es) != 0)
              tc_fail(&f, "%s: a subnormal row 1 changed row %zu", desc_str(&d), m);
          long double *ref = tc_ref_problem(&d, A2, (ptrdiff_t)n, B, (ptrdiff_t)p);
          double e = tc_rel_err((char *)C2 + len * es, dt, ref + len, ref + rows * len + len, len);
          if (!(e <= 1e-3)) tc_fail(&f, "%s: subnormal row rel err %.3g (flushed to zero?)", desc_str(&d), e);
          free(ref); free(A); free(A2); free(B); free(C); free(C2);
        }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* Near the top of the range: A ~ +-0.5 MAX with a positive kernel of L1 norm 0.9, so every
 * true result is finite. DIRECT must give finite, accurate results. FFT spectra grow with
 * the block length L, so there A is scaled to MAX / (4 L^2) (feasible: no intermediate can
 * exceed MAX) and must likewise stay finite and accurate. */
START_TEST(test_near_max) {
  static const size_t sizes[][2] = {{200, 9}, {1000, 64}, {7, 7}};
  const size_t rows = 2;
  tc_failures f = {0};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int mi = 0; mi < 4; mi++)
        for (int oi = 0; oi < 2; oi++)
          for (int ai = 0; ai < 2; ai++) {
            size_t n = sizes[s][0], p = sizes[s][1];
            dwconv_dtype dt = k_dtypes[di];
            if (!algo_ok(k_algos[ai])) continue;
            dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[oi], k_algos[ai]);
            size_t len = tc_out_len(k_modes[mi], n, p);
            double big = dt == DWCONV_FLOAT64 ? DBL_MAX : FLT_MAX;
            double scale = 0.5 * big;
            dwconv_plan *plan = NULL;
            dwconv_status st = dwconv_plan_create(&plan, &d);
            ck_assert_msg(st == DWCONV_SUCCESS, "%s: %s", desc_str(&d), dwconv_last_error());
            if (k_algos[ai] == DWCONV_ALGO_FFT) {
              dwconv_plan_info info;
              ck_assert_int_eq(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS);
              double L = (double)info.block_len;
              scale = big / (4.0 * L * L);
            }
            void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt), *C = tc_alloc(rows * len, dt);
            tc_rng r;
            tc_rng_seed(&r, 900 + s);
            for (size_t i = 0; i < rows * n; i++) {
              double u = 0.5 + 0.5 * tc_rng_uniform(&r);
              tc_set(A, dt, i, (tc_rng_u64(&r) & 1 ? -u : u) * scale);
            }
            for (size_t m = 0; m < rows; m++) {
              double w[64], sum = 0;
              for (size_t j = 0; j < p; j++) sum += (w[j] = 0.1 + tc_rng_uniform(&r));
              for (size_t j = 0; j < p; j++) tc_set(B, dt, m * p + j, 0.9 * w[j] / sum);
            }
            st = dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p);
            if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)len);
            dwconv_plan_destroy(plan);
            ck_assert_msg(st == DWCONV_SUCCESS, "%s: %s", desc_str(&d), dwconv_last_error());
            long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p);
            for (size_t i = 0; i < rows * len; i++)
              if (!isfinite(tc_get(C, dt, i))) {
                tc_fail(&f, "%s (data ~%.3g): C[%zu] = %Lg, true result %Lg is finite", desc_str(&d),
                        scale, i, tc_get(C, dt, i), ref[i]);
                break;
              }
            double e = tc_max_row_err(C, (ptrdiff_t)len, dt, ref, rows, len);
            if (!(e <= tc_tol(dt))) tc_fail(&f, "%s (data ~%.3g): rel err %.3g", desc_str(&d), scale, e);
            free(ref); free(A); free(B); free(C);
          }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* dwconv_convolve (one shot) gives bitwise the same C as the plan path, for DIRECT, FFT and
 * AUTO, with strides; 9 rows on 1 and 2 threads take the CPU FFT path's fused one-shot (at
 * least 4 rows per thread), 3 rows the plain one; N = 500 and 3001 give one and several
 * overlap-save blocks per row. */
START_TEST(test_oneshot_equals_plan) {
  static const dwconv_algo algos[3] = {DWCONV_ALGO_DIRECT, DWCONV_ALGO_FFT, DWCONV_ALGO_AUTO};
  static const size_t k_rows[2] = {3, 9}, k_n[2] = {500, 3001};
  tc_failures f = {0};
  const size_t p = 40;
  for (int ri = 0; ri < 2; ri++)
  for (int ni = 0; ni < 2; ni++)
  for (int threads = 1; threads <= 2; threads++)
  for (int di = 0; di < 2; di++)
    for (int mi = 0; mi < 4; mi++)
      for (int ai = 0; ai < 3; ai++) {
        dwconv_dtype dt = k_dtypes[di];
        const size_t rows = k_rows[ri], n = k_n[ni];
        if (!algo_ok(algos[ai])) continue;
        dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[mi % 2], algos[ai]);
        d.threads = threads;
        size_t len = tc_out_len(k_modes[mi], n, p), es = tc_esize(dt), ldc = len + 3;
        void *A = tc_alloc(rows * (n + 1), dt), *B = tc_alloc(rows * p, dt);
        void *C1 = tc_alloc(rows * ldc, dt), *C2 = tc_alloc(rows * ldc, dt);
        tc_rng r;
        tc_rng_seed(&r, 1000 + (uint64_t)mi);
        tc_fill_normal(&r, A, dt, rows, n, n + 1);
        tc_fill_normal(&r, B, dt, rows, p, p);
        dwconv_status st = dwconv_convolve(&d, A, (ptrdiff_t)n + 1, B, (ptrdiff_t)p, C1, (ptrdiff_t)ldc);
        ck_assert_msg(st == DWCONV_SUCCESS, "%s: one-shot %s", desc_str(&d), dwconv_last_error());
        run_ok(&d, A, (ptrdiff_t)n + 1, B, (ptrdiff_t)p, C2, (ptrdiff_t)ldc);
        if (memcmp(C1, C2, rows * ldc * es) != 0) tc_fail(&f, "%s: one-shot differs from plan", desc_str(&d));
        long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n + 1, B, (ptrdiff_t)p);
        double e = tc_max_row_err(C1, (ptrdiff_t)ldc, dt, ref, rows, len);
        if (!(e <= tc_tol(dt))) tc_fail(&f, "%s: one-shot rel err %.3g", desc_str(&d), e);
        free(ref); free(A); free(B); free(C1); free(C2);
      }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* B may alias C in the one-shot call too (B is an input the library copies before writing
 * C). With 9 rows the CPU FFT path could fuse kernel transforms into the row loop and read a
 * later row of B after an earlier row of C overwrote it; B inside C's span, at its start
 * and at its end, DIRECT / FFT / AUTO, 1 and 2 threads, float and double: C must match the
 * reference computed from B's values before the call. (fuzz_api found the fused case.) */
START_TEST(test_oneshot_b_aliases_c) {
  static const dwconv_algo algos[3] = {DWCONV_ALGO_DIRECT, DWCONV_ALGO_FFT, DWCONV_ALGO_AUTO};
  tc_failures f = {0};
  const size_t rows = 9, n = 700, p = 300;
  for (int di = 0; di < 2; di++)
    for (int ai = 0; ai < 3; ai++)
      for (int threads = 1; threads <= 2; threads++)
        for (int where = 0; where < 3; where++) {
          dwconv_dtype dt = k_dtypes[di];
          if (!algo_ok(algos[ai])) continue;
          dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algos[ai]);
          d.threads = threads;
          size_t len = tc_out_len(d.mode, n, p), es = tc_esize(dt);
          void *A = tc_alloc(rows * n, dt), *Bcopy = tc_alloc(rows * p, dt);
          unsigned char *Cbuf = (unsigned char *)tc_alloc(rows * len, dt);
          /* B: rows x p, contiguous, placed inside C's bytes */
          size_t boff = where == 0 ? 0 : where == 1 ? (rows * len - rows * p) / 2 : rows * len - rows * p;
          void *B = Cbuf + boff * es;
          tc_rng r;
          tc_rng_seed(&r, 77 + (uint64_t)(di * 10 + where));
          tc_fill_normal(&r, A, dt, rows, n, n);
          tc_fill_normal(&r, Bcopy, dt, rows, p, p);
          memcpy(B, Bcopy, rows * p * es);
          dwconv_status st = dwconv_convolve(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, Cbuf, (ptrdiff_t)len);
          if (st != DWCONV_SUCCESS) {
            tc_fail(&f, "%s B at %zu: %s", desc_str(&d), boff, dwconv_last_error());
          } else {
            long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, Bcopy, (ptrdiff_t)p);
            double e = tc_max_row_err(Cbuf, (ptrdiff_t)len, dt, ref, rows, len);
            if (!(e <= tc_tol(dt))) tc_fail(&f, "%s, B inside C at element %zu: rel err %.3g", desc_str(&d), boff, e);
            free(ref);
          }
          free(A); free(Bcopy); free(Cbuf);
        }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* set_kernel copies B (scribbling over B afterwards changes nothing) and a second call
 * replaces the kernel (per-row and broadcast), bitwise like a fresh plan. */
START_TEST(test_set_kernel_replace) {
  tc_failures f = {0};
  const size_t rows = 3, n = 300, p = 21;
  for (int di = 0; di < 2; di++)
    for (int mi = 0; mi < 4; mi++)
      for (int ai = 0; ai < 2; ai++) {
        dwconv_dtype dt = k_dtypes[di];
        if (!algo_ok(k_algos[ai])) continue;
        dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[mi % 2], k_algos[ai]);
        size_t len = tc_out_len(k_modes[mi], n, p), es = tc_esize(dt);
        void *A = tc_alloc(rows * n, dt), *B1 = tc_alloc(rows * p, dt), *B1keep = tc_alloc(rows * p, dt);
        void *B2 = tc_alloc(rows * p, dt), *C = tc_alloc(rows * len, dt), *Cf = tc_alloc(rows * len, dt);
        tc_rng r;
        tc_rng_seed(&r, 1100 + (uint64_t)mi);
        tc_fill_normal(&r, A, dt, rows, n, n);
        tc_fill_normal(&r, B1, dt, rows, p, p);
        tc_fill_normal(&r, B2, dt, rows, p, p);
        memcpy(B1keep, B1, rows * p * es);
        dwconv_plan *plan = NULL;
        ck_assert_int_eq(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS);
        ck_assert_int_eq(dwconv_plan_set_kernel(plan, B1, (ptrdiff_t)p), DWCONV_SUCCESS);
        tc_fill_value(B1, dt, rows * p, NAN); /* the plan must hold its own copy */
        ck_assert_int_eq(dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)len), DWCONV_SUCCESS);
        long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B1keep, (ptrdiff_t)p);
        double e = tc_max_row_err(C, (ptrdiff_t)len, dt, ref, rows, len);
        free(ref);
        if (!(e <= tc_tol(dt))) tc_fail(&f, "%s: after scribbling B: rel err %.3g", desc_str(&d), e);
        /* Replace with B2 (per row), then with B2's first row broadcast. */
        for (int bc = 0; bc < 2; bc++) {
          ptrdiff_t ldb = bc ? 0 : (ptrdiff_t)p;
          ck_assert_int_eq(dwconv_plan_set_kernel(plan, B2, ldb), DWCONV_SUCCESS);
          ck_assert_int_eq(dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)len), DWCONV_SUCCESS);
          run_ok(&d, A, (ptrdiff_t)n, B2, ldb, Cf, (ptrdiff_t)len);
          if (memcmp(C, Cf, rows * len * es) != 0)
            tc_fail(&f, "%s: replaced kernel (ldb=%td) differs from a fresh plan", desc_str(&d), ldb);
          ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B2, ldb);
          e = tc_max_row_err(C, (ptrdiff_t)len, dt, ref, rows, len);
          free(ref);
          if (!(e <= tc_tol(dt))) tc_fail(&f, "%s: replaced kernel (ldb=%td) rel err %.3g", desc_str(&d), ldb, e);
        }
        dwconv_plan_destroy(plan);
        free(A); free(B1); free(B1keep); free(B2); free(C); free(Cf);
      }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* One plan executed many times with different A (and different lda / ldc each time): every
 * result is right, and re-running the first A reproduces the first C bitwise. */
START_TEST(test_many_executes) {
  tc_failures f = {0};
  const size_t rows = 4, n = 257, p = 16, runs = 12;
  for (int di = 0; di < 2; di++)
    for (int ai = 0; ai < 2; ai++) {
      dwconv_dtype dt = k_dtypes[di];
      if (!algo_ok(k_algos[ai])) continue;
      dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, k_algos[ai]);
      d.threads = 2;
      size_t len = n, es = tc_esize(dt);
      dwconv_plan *plan = NULL;
      ck_assert_int_eq(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS);
      void *B = tc_alloc(rows * p, dt), *A = tc_alloc(rows * (n + 8), dt);
      void *C = tc_alloc(rows * (len + 8), dt), *first = tc_alloc(rows * len, dt), *A0 = tc_alloc(rows * n, dt);
      tc_rng r;
      tc_rng_seed(&r, 1200);
      tc_fill_normal(&r, B, dt, rows, p, p);
      ck_assert_int_eq(dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p), DWCONV_SUCCESS);
      for (size_t k = 0; k <= runs; k++) {
        size_t lda = n + (k % 3) * 4, ldc = len + (k % 2) * 8;
        if (k == runs) {
          lda = n; /* last run: the first A again (k = 0 also had lda = n, ldc = len) */
          ldc = len;
          memcpy(A, A0, rows * n * es);
        } else {
          tc_fill_normal(&r, A, dt, rows, n, lda);
          if (k == 0) memcpy(A0, A, rows * n * es);
        }
        dwconv_status st = dwconv_plan_execute(plan, A, (ptrdiff_t)lda, C, (ptrdiff_t)ldc);
        ck_assert_msg(st == DWCONV_SUCCESS, "execute %zu: %s", k, dwconv_last_error());
        long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)lda, B, (ptrdiff_t)p);
        double e = tc_max_row_err(C, (ptrdiff_t)ldc, dt, ref, rows, len);
        free(ref);
        if (!(e <= tc_tol(dt))) tc_fail(&f, "%s: execute %zu rel err %.3g", desc_str(&d), k, e);
        if (k == 0) memcpy(first, C, rows * len * es);
        if (k == runs && memcmp(first, C, rows * len * es) != 0)
          tc_fail(&f, "%s: re-running the first A gives different bits", desc_str(&d));
      }
      dwconv_plan_destroy(plan);
      free(B); free(A); free(C); free(first); free(A0);
    }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* Work for one thread of test_concurrent_plans. */
typedef struct conc_arg {
  int id;
  long failures;
  char first[1024];
} conc_arg;

/* Thread body: 20 problems of random size (so FFT lengths vary and the library's shared FFTW
 * plan cache churns), each planned, run, checked and destroyed. No Check asserts here (only
 * the test's own thread may assert); failures are counted. */
static void *conc_worker(void *vp) {
  conc_arg *c = (conc_arg *)vp;
  tc_rng r;
  tc_rng_seed(&r, 1400 + (uint64_t)c->id);
  for (int it = 0; it < 20; it++) {
    size_t rows = tc_rng_range(&r, 1, 3), n = tc_rng_range(&r, 1, 700), p = tc_rng_range(&r, 1, 90);
    dwconv_dtype dt = k_dtypes[(it + c->id) % 2];
    dwconv_algo algo = k_algos[(it / 2 + c->id) % 2];
    if (!algo_ok(algo)) algo = DWCONV_ALGO_DIRECT;
    dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[it % 4], k_ops[(it / 4) % 2], algo);
    d.threads = 1 + it % 2;
    size_t len = tc_out_len(d.mode, n, p);
    void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt), *C = tc_alloc(rows * len, dt);
    tc_fill_normal(&r, A, dt, rows, n, n);
    tc_fill_normal(&r, B, dt, rows, p, p);
    char err[600];
    dwconv_status st = tc_run(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len, err, sizeof err);
    double e = 0;
    if (st == DWCONV_SUCCESS) {
      long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p);
      e = tc_max_row_err(C, (ptrdiff_t)len, dt, ref, rows, len);
      free(ref);
    }
    if (st != DWCONV_SUCCESS || !(e <= tc_tol(dt))) {
      if (c->failures++ == 0)
        snprintf(c->first, sizeof c->first, "thread %d: %s: %s, rel err %.3g", c->id, desc_str_r(&d),
                 st == DWCONV_SUCCESS ? "ok" : err, e);
    }
    free(A);
    free(B);
    free(C);
  }
  return NULL;
}

/* Distinct plans used from 4 threads at once (plan creation, FFTW planning through the shared
 * cache, execution, destruction) all give correct results. */
START_TEST(test_concurrent_plans) {
  enum { NT = 4 };
  pthread_t th[NT];
  conc_arg args[NT];
  for (int t = 0; t < NT; t++) {
    memset(&args[t], 0, sizeof args[t]);
    args[t].id = t;
    ck_assert_int_eq(pthread_create(&th[t], NULL, conc_worker, &args[t]), 0);
  }
  for (int t = 0; t < NT; t++) ck_assert_int_eq(pthread_join(th[t], NULL), 0);
  for (int t = 0; t < NT; t++)
    ck_assert_msg(args[t].failures == 0, "%ld failures; first: %s", args[t].failures, args[t].first);
}
END_TEST

/* A buffer of `bytes` bytes butted against an inaccessible page: it ends exactly where the
 * page begins (at_end = 1) or begins right after one (at_end = 0). Any access outside it
 * faults. Release with guarded_free. */
typedef struct guarded {
  char *map;
  size_t map_len;
  void *data;
} guarded;

/* Maps a guarded buffer (see guarded); asserts the mapping works. */
static guarded guarded_alloc(size_t bytes, int at_end) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  size_t pages = (bytes + pg - 1) / pg;
  if (pages == 0) pages = 1;
  guarded g;
  g.map_len = (pages + 2) * pg;
  g.map = (char *)mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_msg(g.map != MAP_FAILED, "mmap failed");
  ck_assert_int_eq(mprotect(g.map, pg, PROT_NONE), 0);
  ck_assert_int_eq(mprotect(g.map + (pages + 1) * pg, pg, PROT_NONE), 0);
  g.data = at_end ? g.map + (pages + 1) * pg - bytes : g.map + pg;
  return g;
}

/* Unmaps a guarded buffer. */
static void guarded_free(guarded *g) { munmap(g->map, g->map_len); }

/* A, B and C each butted against an inaccessible page, on their last byte (reads or writes
 * past the end fault) or on their first (before the start fault), also with lda = ldb = 0
 * and one-row A / B, for sizes where vector
 * blocks end exactly at the end of a row (N - P + 1 a multiple of 16 / 64 / 128, P a
 * multiple of 8 / 16) and others. A fault shows up as a crashed test. */
START_TEST(test_guard_pages) {
  static const size_t ns[] = {1, 7, 71, 72, 103, 143, 144, 159, 271, 300};
  static const size_t ps[] = {1, 8, 16, 17, 32, 64};
  const size_t rows = 2;
  tc_failures f = {0};
  for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
    for (size_t b = 0; b < sizeof ps / sizeof ps[0]; b++)
      for (int di = 0; di < 2; di++)
        for (int mi = 0; mi < 4; mi++)
          for (int ai = 0; ai < 2; ai++)
            for (int at_end = 0; at_end < 3; at_end++) { /* 2: at the end, lda = ldb = 0 */
              size_t n = ns[a], p = ps[b];
              dwconv_dtype dt = k_dtypes[di];
              if (!algo_ok(k_algos[ai])) continue;
              dwconv_desc d = tc_desc(rows, n, p, dt, k_modes[mi], k_ops[(a + b) % 2], k_algos[ai]);
              size_t len = tc_out_len(k_modes[mi], n, p), es = tc_esize(dt);
              size_t arows = at_end == 2 ? 1 : rows;
              ptrdiff_t lda = at_end == 2 ? 0 : (ptrdiff_t)n, ldb = at_end == 2 ? 0 : (ptrdiff_t)p;
              guarded ga = guarded_alloc(arows * n * es, at_end != 0), gb = guarded_alloc(arows * p * es, at_end != 0);
              guarded gc = guarded_alloc(rows * len * es, at_end != 0);
              tc_rng r;
              tc_rng_seed(&r, 1500 + a * 10 + b);
              tc_fill_normal(&r, ga.data, dt, arows, n, n);
              tc_fill_normal(&r, gb.data, dt, arows, p, p);
              run_ok(&d, ga.data, lda, gb.data, ldb, gc.data, (ptrdiff_t)len);
              tc_context("reference after guarded run");
              long double *ref = tc_ref_problem(&d, ga.data, lda, gb.data, ldb);
              double e = tc_max_row_err(gc.data, (ptrdiff_t)len, dt, ref, rows, len);
              if (!(e <= tc_tol(dt)))
                tc_fail(&f, "%s lda=%td ldb=%td (guarded %s): rel err %.3g", desc_str(&d), lda, ldb,
                        at_end ? "end" : "start", e);
              free(ref);
              guarded_free(&ga);
              guarded_free(&gb);
              guarded_free(&gc);
            }
  ck_assert_msg(f.count == 0, "%ld failures; first: %s", f.count, f.first);
}
END_TEST

/* The suite. */
static Suite *make_suite(void) {
  Suite *s = suite_create("properties");
  TCase *tc = tcase_create("properties");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_impulse);
  tcase_add_test(tc, test_pow2_scaling_exact);
  tcase_add_test(tc, test_linearity);
  tcase_add_test(tc, test_shift);
  tcase_add_test(tc, test_strides_and_broadcast);
  tcase_add_loop_test(tc, test_thread_chunk_invariance, 0,
                      (int)(sizeof k_inv_sizes / sizeof k_inv_sizes[0]));
  tcase_add_test(tc, test_nonfinite_isolation);
  tcase_add_test(tc, test_denormal_row);
  tcase_add_test(tc, test_near_max);
  tcase_add_test(tc, test_oneshot_equals_plan);
  tcase_add_test(tc, test_oneshot_b_aliases_c);
  tcase_add_test(tc, test_set_kernel_replace);
  tcase_add_test(tc, test_many_executes);
  tcase_add_test(tc, test_concurrent_plans);
  tcase_add_test(tc, test_guard_pages); /* last: under check_shim.h a fault ends the run */
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_properties", make_suite); }
