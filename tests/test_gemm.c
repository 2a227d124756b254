/*
 * test_gemm: ALGO_GEMM and desc.math through the public API. Run as `test_gemm cpu` or
 * `test_gemm cuda`.
 *   cpu:  GEMM and non-IEEE math are NOT_SUPPORTED with a message saying why; out-of-range
 *         enums are INVALID_VALUE.
 *   cuda: the same rules for the paths that stay IEEE (direct, FFT, AUTO, float64), AUTO never
 *         picks GEMM, and GEMM plans in every mode x op x dtype x math with lda = 0, ldb = 0
 *         and padded rows against the long-double reference, per-row relative L2 error within
 *         the math's bound (IEEE: the library's usual 1e-5 / 1e-12; TF32: 4e-3, covering
 *         tensor cores that truncate to TF32 rather than round; TF32X3: 1e-5).
 * The exact per-output bounds are checked without a GPU by src/cuda/hosttest/gemm_test.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

static void expect(dwconv_desc d, dwconv_status want, const char *needle) {
  dwconv_plan *plan = (dwconv_plan *)&d; /* must come back NULL */
  dwconv_status st = dwconv_plan_create(&plan, &d);
  ck_assert_msg(st == want && plan == NULL, "algo %d backend %d math %d dtype %d: status %d (%s), want %d", d.algo,
                d.backend, d.math, d.dtype, st, dwconv_last_error(), want);
  ck_assert_msg(tc_contains_ci(dwconv_last_error(), needle), "message \"%s\" lacks \"%s\"", dwconv_last_error(),
                needle);
}

START_TEST(test_refusals) {
  dwconv_desc d = tc_desc(3, 64, 7, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_GEMM);
  ck_assert_int_eq(dwconv_desc_make(1, 1, 1, DWCONV_FLOAT32).math, DWCONV_MATH_IEEE);
  if (tc_backend == DWCONV_BACKEND_CPU) {
    expect(d, DWCONV_ERROR_NOT_SUPPORTED, "CUDA plans only");
    d.math = DWCONV_MATH_TF32;
    expect(d, DWCONV_ERROR_NOT_SUPPORTED, "CUDA plans only");
  }
  for (int algo = DWCONV_ALGO_AUTO; algo <= DWCONV_ALGO_FFT; algo++)
    for (int math = DWCONV_MATH_TF32; math <= DWCONV_MATH_TF32X3; math++) {
      d = tc_desc(3, 64, 7, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, (dwconv_algo)algo);
      d.math = (dwconv_math)math;
      expect(d, DWCONV_ERROR_NOT_SUPPORTED, tc_backend == DWCONV_BACKEND_CPU ? "CPU plans" : "ALGO_GEMM only");
    }
  if (tc_backend == DWCONV_BACKEND_CUDA) {
    d = tc_desc(3, 64, 7, DWCONV_FLOAT64, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_GEMM);
    d.math = DWCONV_MATH_TF32;
    expect(d, DWCONV_ERROR_NOT_SUPPORTED, "float64");
  }
  d = tc_desc(3, 64, 7, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_GEMM);
  d.math = (dwconv_math)3;
  expect(d, DWCONV_ERROR_INVALID_VALUE, "math");
  d.math = DWCONV_MATH_IEEE;
  d.algo = (dwconv_algo)4;
  expect(d, DWCONV_ERROR_INVALID_VALUE, "algo");
}
END_TEST

/* AUTO's choices stay direct or FFT in IEEE: GEMM's constants are not measured yet. */
START_TEST(test_auto_never_gemm) {
  static const size_t Ps[] = {1, 15, 63, 255, 1023, 4095};
  static const size_t Ns[] = {64, 4096, 65536};
  for (int f64 = 0; f64 <= 1; f64++)
    for (size_t i = 0; i < 6; i++)
      for (size_t j = 0; j < 3; j++) {
        dwconv_desc d = tc_desc(8, Ns[j], Ps[i], f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32, DWCONV_MODE_SAME,
                                DWCONV_OP_CONVOLVE, DWCONV_ALGO_AUTO);
        dwconv_plan *plan = NULL;
        ck_assert_int_eq(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS);
        dwconv_plan_info info;
        ck_assert_int_eq(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS);
        ck_assert_msg(info.algo != DWCONV_ALGO_GEMM && info.math == DWCONV_MATH_IEEE, "N %zu P %zu: algo %d math %d",
                      Ns[j], Ps[i], info.algo, info.math);
        dwconv_plan_destroy(plan);
      }
}
END_TEST

static double math_tol(dwconv_math m, dwconv_dtype dt) {
  return m == DWCONV_MATH_TF32 ? 4e-3 : tc_tol(dt);
}

/* GEMM plans against the reference (CUDA only). */
START_TEST(test_gemm_results) {
  if (tc_backend != DWCONV_BACKEND_CUDA) return;
  static const size_t shapes[][3] = {{5, 3000, 15}, {3, 1000, 300}, {4, 40, 100}, {2, 777, 1}, {1, 1, 1}, {6, 129, 64}};
  tc_rng rng;
  tc_rng_seed(&rng, 13);
  tc_failures f = {0};
  int runs = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int dt = 0; dt <= 1; dt++)
      for (int mode = 0; mode < 4; mode++)
        for (int op = 0; op < 2; op++)
          for (int math = 0; math < 3; math++)
            for (int lay = 0; lay < 3; lay++) {
              if (dt == DWCONV_FLOAT64 && math != DWCONV_MATH_IEEE) continue;
              const size_t M = shapes[s][0], N = shapes[s][1], P = shapes[s][2];
              const dwconv_dtype dtype = (dwconv_dtype)dt;
              dwconv_desc d = tc_desc(M, N, P, dtype, (dwconv_mode)mode, (dwconv_op)op, DWCONV_ALGO_GEMM);
              d.math = (dwconv_math)math;
              const size_t out = tc_out_len(d.mode, N, P);
              /* lay 0: tight; 1: lda = 0 and padded C; 2: ldb = 0 and padded A */
              const ptrdiff_t lda = lay == 1 ? 0 : lay == 2 ? (ptrdiff_t)N + 5 : (ptrdiff_t)N;
              const ptrdiff_t ldb = lay == 2 ? 0 : (ptrdiff_t)P;
              const ptrdiff_t ldc = lay == 1 ? (ptrdiff_t)out + 3 : (ptrdiff_t)out;
              void *A = tc_alloc(lda == 0 ? N : M * (size_t)lda, dtype);
              void *B = tc_alloc(ldb == 0 ? P : M * P, dtype);
              void *C = tc_alloc(M * (size_t)ldc, dtype);
              tc_fill_normal(&rng, A, dtype, lda == 0 ? 1 : M, N, lda == 0 ? N : (size_t)lda);
              tc_fill_normal(&rng, B, dtype, ldb == 0 ? 1 : M, P, P);
              char err[512];
              dwconv_status st = tc_run(&d, A, lda, B, ldb, C, ldc, err, sizeof err);
              runs++;
              if (st != DWCONV_SUCCESS) {
                tc_fail(&f, "M %zu N %zu P %zu %s %s %s math %d lay %d: status %d %s", M, N, P, tc_dtype_name(dtype),
                        tc_mode_name(d.mode), tc_op_name(d.op), math, lay, st, err);
              } else {
                long double *ref = tc_ref_problem(&d, A, lda, B, ldb);
                double e = tc_max_row_err(C, ldc, dtype, ref, M, out);
                if (!(e <= math_tol(d.math, dtype)))
                  tc_fail(&f, "M %zu N %zu P %zu %s %s %s math %d lay %d: error %.3g", M, N, P, tc_dtype_name(dtype),
                          tc_mode_name(d.mode), tc_op_name(d.op), math, lay, e);
                free(ref);
              }
              free(A);
              free(B);
              free(C);
            }
  ck_assert_msg(f.count == 0, "%ld GEMM runs failed; first: %s", f.count, f.first);
  printf("test_gemm: %d GEMM runs checked\n", runs);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("gemm");
  TCase *tc = tcase_create("gemm");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_refusals);
  tcase_add_test(tc, test_auto_never_gemm);
  tcase_add_test(tc, test_gemm_results);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_gemm", make_suite); }
