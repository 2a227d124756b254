/*
 * rel_limits: size limits.
 *
 * test_overflow_no_alloc: requests whose element / byte counts overflow size_t or exceed
 *   PTRDIFF_MAX fail with exactly DWCONV_ERROR_SIZE_OVERFLOW before any host allocation (the
 *   DWCONV_FAULT_HOST_ALLOC counter stays 0), through plan_create, the one-shot call, and
 *   set_kernel / execute strides on a valid plan; arrays whose extent wraps the address space.
 * test_huge_validation: N or P near / above 2^31 with M = 1 and rows near 2^32 (sizes whose
 *   data would not fit in this machine): plan creation either succeeds with a small plan
 *   whose info is right, or fails with SIZE_OVERFLOW / OUT_OF_MEMORY -- no crash, no data
 *   touched (execute is not called: the arrays do not exist).
 * test_many_rows: rows = 65536 k + 1 (CUDA grid limits on the other backend) run for real on
 *   the CPU with small N, DIRECT and FFT, per-row and broadcast kernels, checked against the
 *   long-double reference on every row.
 * test_big_signal: N = 2^28 float32 (1 GiB per array), one row, only with DWCONV_REL_BIG=1.
 * test_huge_strides: lda, ldb, ldc = 2^31 + 77 elements, so row 2 starts 2^32 + 154 elements
 *   (16 or 32 GiB) into each array: offsets that wrap a 32-bit int or unsigned, in elements and
 *   in bytes, on DIRECT and FFT, per-row and broadcast kernels, plan and one-shot, checked
 *   against the long-double reference on every row. The arrays are sparse mappings
 *   (MAP_NORESERVE): only the pages of the rows are ever touched (a few KiB of memory).
 */
#define _GNU_SOURCE 1 /* pthread_barrier_t, setenv, mmap flags, clock_gettime under -std=c11 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "test_common.h"

static size_t allocs_reached(void) { return dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0); }

typedef struct ovf {
  size_t rows, n, p;
  dwconv_dtype dt;
  dwconv_mode mode;
  dwconv_algo algo;
  const char *what;
} ovf;

#define H (SIZE_MAX / 2 + 1)
static const ovf k_ovf[] = {
    {1, SIZE_MAX, 2, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_AUTO, "N + P - 1 overflows"},
    {1, 2, SIZE_MAX, DWCONV_FLOAT64, DWCONV_MODE_VALID, DWCONV_ALGO_DIRECT, "P huge, N + P - 1 overflows"},
    {1, H, H, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_ALGO_FFT, "N = P = 2^63"},
    {SIZE_MAX, 4, 3, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_AUTO, "rows = SIZE_MAX"},
    {(size_t)1 << 33, (size_t)1 << 30, 3, DWCONV_FLOAT64, DWCONV_MODE_CAUSAL, DWCONV_ALGO_DIRECT, "rows x N = 2^63"},
    {1, PTRDIFF_MAX / 4 + 1, 1, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_ALGO_DIRECT, "bytes of A > PTRDIFF_MAX"},
    {1, PTRDIFF_MAX / 8, 9, DWCONV_FLOAT64, DWCONV_MODE_FULL, DWCONV_ALGO_FFT, "bytes of C > PTRDIFF_MAX"},
    {3, 5, PTRDIFF_MAX / 8, DWCONV_FLOAT32, DWCONV_MODE_VALID, DWCONV_ALGO_AUTO, "bytes of 3 rows of B > PTRDIFF_MAX"},
    {(size_t)1 << 40, (size_t)1 << 21, 1, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_AUTO, "rows x N x 4 = 2^63"},
    {(size_t)1 << 62, 1, 1, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_DIRECT, "rows x 4 bytes = 2^64"},
};
#define N_OVF (int)(sizeof k_ovf / sizeof k_ovf[0])

START_TEST(test_overflow_no_alloc) {
  const ovf *o = &k_ovf[_i];
  dwconv_desc d = tc_desc(o->rows, o->n, o->p, o->dt, o->mode, DWCONV_OP_CONVOLVE, o->algo);
  float dummy[16] = {0};
  float out[16];
  allocs_reached();
  dwconv_plan *p = (dwconv_plan *)(uintptr_t)8;
  dwconv_status st = dwconv_plan_create(&p, &d);
  size_t a1 = allocs_reached();
  ck_assert_msg(st == DWCONV_ERROR_SIZE_OVERFLOW, "%s: plan_create gave %s (%s)", o->what, dwconv_status_string(st),
                dwconv_last_error());
  ck_assert_ptr_null(p);
  ck_assert_msg(a1 == 0, "%s: %zu host allocations before SIZE_OVERFLOW", o->what, a1);
  ck_assert_msg(dwconv_last_error()[0] != '\0', "%s: no message", o->what);
  /* The one-shot path (the buffers are never touched: validation fails first). */
  st = dwconv_convolve(&d, dummy, 0, dummy, 0, out, 16);
  a1 = allocs_reached();
  ck_assert_msg(st == DWCONV_ERROR_SIZE_OVERFLOW, "%s: dwconv_convolve gave %s", o->what, dwconv_status_string(st));
  ck_assert_msg(a1 == 0, "%s: %zu host allocations in the one-shot path", o->what, a1);
}
END_TEST

/* Strides whose extents overflow, on a valid small plan: SIZE_OVERFLOW, no allocation, the
 * arrays are not touched (they are tiny), C unchanged. */
START_TEST(test_stride_overflow) {
  dwconv_algo algo = _i == 0 ? DWCONV_ALGO_DIRECT : DWCONV_ALGO_FFT;
  if (algo == DWCONV_ALGO_FFT && !tc_fft_available(DWCONV_BACKEND_CPU)) return;
  dwconv_desc d = tc_desc(3, 8, 3, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algo);
  dwconv_plan *p = NULL;
  ck_assert_int_eq(dwconv_plan_create(&p, &d), DWCONV_SUCCESS);
  float A[3 * 8], B[3 * 3], C[3 * 10];
  for (int i = 0; i < 24; i++) A[i] = (float)i;
  for (int i = 0; i < 9; i++) B[i] = 1.0f;
  for (int i = 0; i < 30; i++) C[i] = -7.0f;
  const ptrdiff_t big[] = {PTRDIFF_MAX, PTRDIFF_MAX / 2, PTRDIFF_MAX / 4 + 1, PTRDIFF_MAX / 8 + 1};
  allocs_reached();
  for (int k = 0; k < 4; k++) {
    ck_assert_int_eq(dwconv_plan_set_kernel(p, B, big[k]), DWCONV_ERROR_SIZE_OVERFLOW);
  }
  ck_assert_uint_eq(allocs_reached(), 0);
  ck_assert_int_eq(dwconv_plan_set_kernel(p, B, 3), DWCONV_SUCCESS);
  allocs_reached();
  for (int k = 0; k < 4; k++) {
    ck_assert_int_eq(dwconv_plan_execute(p, A, big[k], C, 10), DWCONV_ERROR_SIZE_OVERFLOW);
    ck_assert_int_eq(dwconv_plan_execute(p, A, 8, C, big[k]), DWCONV_ERROR_SIZE_OVERFLOW);
  }
  /* extents that wrap the address space: the pointers are never dereferenced */
  void *top = (void *)(UINTPTR_MAX - 15);
  ck_assert_int_eq(dwconv_plan_execute(p, top, 8, C, 10), DWCONV_ERROR_SIZE_OVERFLOW);
  ck_assert_int_eq(dwconv_plan_execute(p, A, 8, top, 10), DWCONV_ERROR_SIZE_OVERFLOW);
  ck_assert_uint_eq(allocs_reached(), 0);
  for (int i = 0; i < 30; i++) ck_assert(C[i] == -7.0f);
  ck_assert_int_eq(dwconv_plan_execute(p, A, 8, C, 10), DWCONV_SUCCESS);
  ck_assert(fabsf(C[0]) < 1e-4f && fabsf(C[1] - 1.0f) < 1e-4f && fabsf(C[2] - 3.0f) < 1e-4f);
  dwconv_plan_destroy(p);
}
END_TEST

typedef struct huge {
  size_t rows, n, p;
  dwconv_dtype dt;
  dwconv_mode mode;
  dwconv_algo algo;
} huge;

static const huge k_huge[] = {
    {1, ((size_t)1 << 31) + 5, 3, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_DIRECT},
    {1, ((size_t)1 << 31) + 5, 3, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_ALGO_FFT},
    {1, ((size_t)1 << 31) + 5, 3, DWCONV_FLOAT64, DWCONV_MODE_VALID, DWCONV_ALGO_AUTO},
    {1, ((size_t)1 << 32) + 1, 7, DWCONV_FLOAT32, DWCONV_MODE_CAUSAL, DWCONV_ALGO_AUTO},
    {1, 5, ((size_t)1 << 31) - 1, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_FFT},
    {1, 5, ((size_t)1 << 31) + 1, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_FFT},
    {1, 5, ((size_t)1 << 31) + 1, DWCONV_FLOAT32, DWCONV_MODE_VALID, DWCONV_ALGO_DIRECT},
    {1, ((size_t)1 << 31) - 1, ((size_t)1 << 31) - 1, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_ALGO_AUTO},
    {((size_t)1 << 32) + 1, 2, 2, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_DIRECT},
    {65537, ((size_t)1 << 31) + 5, 3, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_AUTO},
};
#define N_HUGE (int)(sizeof k_huge / sizeof k_huge[0])

START_TEST(test_huge_validation) {
  const huge *h = &k_huge[_i];
  if (h->algo == DWCONV_ALGO_FFT && !tc_fft_available(DWCONV_BACKEND_CPU)) return;
  dwconv_desc d = tc_desc(h->rows, h->n, h->p, h->dt, h->mode, DWCONV_OP_CONVOLVE, h->algo);
  dwconv_plan *p = NULL;
  allocs_reached();
  clock_t t0 = clock();
  dwconv_status st = dwconv_plan_create(&p, &d);
  size_t a = allocs_reached();
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  dwconv_plan_info info;
  memset(&info, 0, sizeof info);
  if (st == DWCONV_SUCCESS) {
    ck_assert_int_eq(dwconv_plan_get_info(p, &info), DWCONV_SUCCESS);
    ck_assert_uint_eq(info.output_len, tc_out_len(h->mode, h->n, h->p));
    ck_assert_uint_eq(info.output_len, dwconv_output_len(h->mode, h->n, h->p));
  } else {
    ck_assert_msg(st == DWCONV_ERROR_SIZE_OVERFLOW || st == DWCONV_ERROR_OUT_OF_MEMORY,
                  "case %d: unexpected %s (%s)", _i, dwconv_status_string(st), dwconv_last_error());
    ck_assert_ptr_null(p);
  }
  printf("rel_limits: huge case %d rows %zu N %zu P %zu %s %s: %s, %zu host allocations, algo %s, L %zu, "
         "workspace %zu bytes, %.2f s\n",
         _i, h->rows, h->n, h->p, tc_dtype_name(h->dt), tc_algo_name(h->algo), dwconv_status_string(st), a,
         tc_algo_name(info.algo), info.block_len, info.workspace_bytes, secs);
  fflush(stdout);
  dwconv_plan_destroy(p);
}
END_TEST

static void run_rows(size_t rows, size_t n, size_t p, dwconv_dtype dt, dwconv_algo algo, int bcast) {
  dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algo);
  d.threads = 2;
  size_t out = tc_out_len(d.mode, n, p);
  void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt), *C = tc_alloc(rows * out, dt);
  tc_rng r;
  tc_rng_seed(&r, rows + n + p);
  tc_fill_normal(&r, A, dt, rows, n, n);
  tc_fill_normal(&r, B, dt, rows, p, p);
  ptrdiff_t ldb = bcast ? 0 : (ptrdiff_t)p;
  char err[256] = "";
  dwconv_status st = tc_run(&d, A, (ptrdiff_t)n, B, ldb, C, (ptrdiff_t)out, err, sizeof err);
  ck_assert_msg(st == DWCONV_SUCCESS, "rows %zu: %s", rows, err);
  long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)n, B, ldb);
  double e = tc_max_row_err(C, (ptrdiff_t)out, dt, ref, rows, out);
  free(ref);
  printf("rel_limits: rows %zu N %zu P %zu %s %s ldb %s: max row error %.3g\n", rows, n, p, tc_dtype_name(dt),
         tc_algo_name(algo), bcast ? "0" : "per-row", e);
  fflush(stdout);
  ck_assert_msg(e <= tc_tol(dt), "rows %zu N %zu P %zu %s: error %g", rows, n, p, tc_algo_name(algo), e);
  free(A);
  free(B);
  free(C);
}

START_TEST(test_many_rows) {
  int fft = tc_fft_available(DWCONV_BACKEND_CPU);
  switch (_i) {
    case 0: run_rows(65537, 64, 5, DWCONV_FLOAT32, DWCONV_ALGO_DIRECT, 0); break;
    case 1: run_rows(65537, 64, 17, DWCONV_FLOAT64, fft ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT, 1); break;
    case 2: run_rows(2 * 65536 + 1, 16, 3, DWCONV_FLOAT32, fft ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT, 0); break;
    case 3: run_rows(65535, 9, 9, DWCONV_FLOAT64, DWCONV_ALGO_AUTO, 1); break;
    case 4: run_rows(65536, 33, 2, DWCONV_FLOAT32, DWCONV_ALGO_DIRECT, 1); break;
  }
}
END_TEST

/* N = 2^28 float32, one row (1 GiB each for A and C): opt-in with DWCONV_REL_BIG=1. Checks a
 * sparse sample of outputs against the exact sums (integer-valued data keeps them exact). */
START_TEST(test_big_signal) {
  const char *e = getenv("DWCONV_REL_BIG");
  if (e == NULL || atoi(e) == 0) {
    printf("rel_limits: N = 2^28 float32 run skipped (set DWCONV_REL_BIG=1)\n");
    return;
  }
  const size_t n = (size_t)1 << 28, p = 3;
  dwconv_algo algo = _i == 0 ? DWCONV_ALGO_DIRECT : DWCONV_ALGO_FFT;
  if (algo == DWCONV_ALGO_FFT && !tc_fft_available(DWCONV_BACKEND_CPU)) return;
  dwconv_desc d = tc_desc(1, n, p, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, algo);
  d.threads = 2;
  float *A = malloc(n * sizeof *A), *C = malloc(n * sizeof *C);
  ck_assert_ptr_nonnull(A);
  ck_assert_ptr_nonnull(C);
  for (size_t i = 0; i < n; i++) A[i] = (float)((i * 2654435761u >> 7) % 17) - 8.0f;
  const float B[3] = {1.0f, 2.0f, -1.0f};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dwconv_status st = dwconv_convolve(&d, A, (ptrdiff_t)n, B, 0, C, (ptrdiff_t)n);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ck_assert_msg(st == DWCONV_SUCCESS, "%s", dwconv_last_error());
  double worst = 0.0;
  for (size_t k = 0; k < 4096; k++) {
    size_t i = k == 0 ? 0 : k == 1 ? n - 1 : (k * 65521u * 4099u) % n;
    /* SAME, P = 3: C[i] = full[i + 1] = sum_j B[j] A[i + 1 - j] */
    double want = 0.0;
    for (size_t j = 0; j < p; j++) {
      ptrdiff_t ai = (ptrdiff_t)i + 1 - (ptrdiff_t)j;
      if (ai >= 0 && ai < (ptrdiff_t)n) want += (double)B[j] * A[ai];
    }
    double diff = (double)C[i] - want;
    if (diff < 0) diff = -diff;
    if (diff > worst) worst = diff;
  }
  printf("rel_limits: N = 2^28 float32 %s: %.2f s, worst abs error over 4096 samples %.3g\n", tc_algo_name(algo),
         (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), worst);
  fflush(stdout);
  ck_assert_msg(worst <= (algo == DWCONV_ALGO_DIRECT ? 0.0 : 1e-3), "worst error %g", worst);
  free(A);
  free(C);
}
END_TEST

/* ---- strides beyond 32 bits ---- */

#define HUGE_STRIDE (((ptrdiff_t)1 << 31) + 77)

/* A sparse array of `rows` rows at stride HUGE_STRIDE elements, or NULL when the system will
 * not map that much address space (the caller reports the test as skipped). */
static void *map_sparse(size_t rows, size_t len, dwconv_dtype dt, size_t *bytes) {
  *bytes = ((rows - 1) * (size_t)HUGE_STRIDE + len) * tc_esize(dt);
  void *p = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

START_TEST(test_huge_strides) {
  static const struct {
    dwconv_dtype dt;
    dwconv_algo algo;
    int bcast, oneshot;
    size_t n, p;
  } cases[] = {
      {DWCONV_FLOAT32, DWCONV_ALGO_DIRECT, 0, 0, 777, 45},  {DWCONV_FLOAT64, DWCONV_ALGO_DIRECT, 1, 1, 1031, 9},
      {DWCONV_FLOAT32, DWCONV_ALGO_FFT, 0, 1, 5000, 301},  {DWCONV_FLOAT64, DWCONV_ALGO_FFT, 1, 0, 4099, 700},
      {DWCONV_FLOAT32, DWCONV_ALGO_FFT, 0, 0, 3000, 1200},
  };
  const size_t ncases = sizeof cases / sizeof cases[0];
  ck_assert_int_lt(_i, (int)ncases);
  const dwconv_dtype dt = cases[_i].dt;
  const dwconv_algo algo = cases[_i].algo;
  const size_t rows = 3, n = cases[_i].n, p = cases[_i].p;
  if (algo == DWCONV_ALGO_FFT && !tc_fft_available(tc_backend)) {
    printf("rel_limits: huge stride case %d SKIPPED: no FFT in this build\n", _i);
    return;
  }
  dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algo);
  d.threads = 2;
  const size_t out = tc_out_len(d.mode, n, p);
  const ptrdiff_t lda = HUGE_STRIDE, ldb = cases[_i].bcast ? 0 : HUGE_STRIDE, ldc = HUGE_STRIDE;
  size_t abytes, bbytes, cbytes;
  void *A = map_sparse(rows, n, dt, &abytes), *B = map_sparse(cases[_i].bcast ? 1 : rows, p, dt, &bbytes),
       *C = map_sparse(rows, out, dt, &cbytes);
  if (A == NULL || B == NULL || C == NULL) {
    printf("rel_limits: huge stride case %d SKIPPED: mmap of %zu + %zu + %zu bytes (MAP_NORESERVE) refused\n", _i,
           abytes, bbytes, cbytes);
    if (A) munmap(A, abytes);
    if (B) munmap(B, bbytes);
    if (C) munmap(C, cbytes);
    return;
  }
  tc_rng r;
  tc_rng_seed(&r, 31 + (uint64_t)_i);
  tc_fill_normal(&r, A, dt, rows, n, (size_t)lda);
  tc_fill_normal(&r, B, dt, cases[_i].bcast ? 1 : rows, p, (size_t)HUGE_STRIDE);
  /* The pages of C's rows hold a sentinel beyond out_len: it must survive. */
  const size_t esz = tc_esize(dt);
  for (size_t m = 0; m < rows; m++)
    tc_fill_value((char *)C + m * (size_t)ldc * esz + out * esz, dt, 64, 12345.0);
  dwconv_status st;
  char err[256] = "";
  if (cases[_i].oneshot) {
    st = dwconv_convolve(&d, A, lda, B, ldb, C, ldc);
    if (st != DWCONV_SUCCESS) snprintf(err, sizeof err, "%s", dwconv_last_error());
  } else {
    st = tc_run(&d, A, lda, B, ldb, C, ldc, err, sizeof err);
  }
  ck_assert_msg(st == DWCONV_SUCCESS, "huge stride case %d: %s (%s)", _i, dwconv_status_string(st), err);
  long double *ref = tc_ref_problem(&d, A, lda, B, ldb);
  double e = tc_max_row_err(C, ldc, dt, ref, rows, out);
  free(ref);
  for (size_t m = 0; m < rows; m++)
    for (size_t j = 0; j < 64; j++)
      ck_assert_msg(tc_get((char *)C + m * (size_t)ldc * esz, dt, out + j) == 12345.0L,
                    "huge stride case %d: row %zu written past out_len", _i, m);
  printf("rel_limits: huge stride case %d (row 2 at element %td) %s %s N %zu P %zu %s %s: max row error %.3g\n", _i,
         2 * HUGE_STRIDE, tc_dtype_name(dt), tc_algo_name(algo), n, p, cases[_i].bcast ? "ldb 0" : "per-row B",
         cases[_i].oneshot ? "one-shot" : "plan", e);
  fflush(stdout);
  ck_assert_msg(e <= tc_tol(dt), "huge stride case %d: error %g", _i, e);
  munmap(A, abytes);
  munmap(B, bbytes);
  munmap(C, cbytes);
}
END_TEST

/* desc.threads far beyond the machine must be a status, never a crash (it once reached
 * OpenMP and killed the process: libgomp "Thread creation failed" at 40000, SIGSEGV at
 * 100000). Counts above DWCONV_MAX_THREADS are INVALID_VALUE at plan creation. */
START_TEST(test_thread_count_limit) {
  dwconv_algo algo = _i == 0 ? DWCONV_ALGO_DIRECT : DWCONV_ALGO_FFT;
  if (algo == DWCONV_ALGO_FFT && !tc_fft_available(DWCONV_BACKEND_CPU)) return;
  const int counts[] = {DWCONV_MAX_THREADS + 1, 40000, 100000, 2147483647};
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    dwconv_desc d = tc_desc(4, 20000, 33, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algo);
    d.threads = counts[c];
    dwconv_plan *plan = (dwconv_plan *)1;
    dwconv_status st = dwconv_plan_create(&plan, &d);
    ck_assert_msg(st == DWCONV_ERROR_INVALID_VALUE, "threads = %d: %s", counts[c], dwconv_status_string(st));
    ck_assert_ptr_null(plan);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("rel_limits");
  TCase *tc = tcase_create("limits");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_loop_test(tc, test_overflow_no_alloc, 0, N_OVF);
  tcase_add_loop_test(tc, test_stride_overflow, 0, 2);
  tcase_add_loop_test(tc, test_huge_validation, 0, N_HUGE);
  tcase_add_loop_test(tc, test_many_rows, 0, 5);
  tcase_add_loop_test(tc, test_big_signal, 0, 2);
  tcase_add_loop_test(tc, test_thread_count_limit, 0, 2);
  tcase_add_loop_test(tc, test_huge_strides, 0, 5);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "rel_limits", make_suite); }
