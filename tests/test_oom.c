/*
 * test_oom: out-of-memory handling, via the internal hook dwconv__fault_inject_alloc(n)
 * (src/core/alloc.c; links dwconv_static), which makes the n-th host allocation from now fail.
 * For n = 1, 2, ... until plan creation + set_kernel + execute all succeed, each failing call
 * must return exactly DWCONV_ERROR_OUT_OF_MEMORY (plan_create also setting *plan = NULL and
 * a non-empty dwconv_last_error()), and afterwards the library -- and the same plan, when
 * set_kernel or execute was the call that failed -- must work and give the right result.
 * Under Check each test runs in a fresh (forked) process, so process-wide caches start cold
 * and their allocations are failed too (run with -DDWCONV_SANITIZE=ON to catch misuse of
 * freed memory on those paths).
 * Same for the one-shot dwconv_convolve. Run as `test_oom cpu` or `test_oom cuda`.
 * (Leaks on these paths are caught when the suite is built with -DDWCONV_SANITIZE=ON.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_common.h"

typedef struct oom_case {
  size_t rows, n, p;
  dwconv_dtype dt;
  dwconv_mode mode;
  dwconv_algo algo;
  int threads;
  int broadcast_b; /* 1: ldb = 0 */
} oom_case;

static const oom_case k_cases[] = {
    {3, 100, 9, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_ALGO_DIRECT, 1, 0},
    {3, 100, 9, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_ALGO_DIRECT, 2, 0},
    {4, 1000, 33, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_ALGO_FFT, 1, 0},
    {4, 1000, 33, DWCONV_FLOAT64, DWCONV_MODE_FULL, DWCONV_ALGO_FFT, 2, 0},
    {2, 5000, 7, DWCONV_FLOAT32, DWCONV_MODE_VALID, DWCONV_ALGO_FFT, 2, 1},
    {5, 64, 64, DWCONV_FLOAT64, DWCONV_MODE_CAUSAL, DWCONV_ALGO_AUTO, 0, 0},
    {1, 9, 20, DWCONV_FLOAT32, DWCONV_MODE_VALID, DWCONV_ALGO_FFT, 1, 0},
    {3, 2000, 5, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_ALGO_DIRECT, 2, 1},
};
#define N_CASES (int)(sizeof k_cases / sizeof k_cases[0])

/* Input data and reference for one case. */
typedef struct oom_data {
  dwconv_desc d;
  void *A, *B, *C;
  ptrdiff_t ldb;
  size_t len;
  long double *ref;
} oom_data;

/* Builds the descriptor, random A / B and the reference for case c. */
static void make_data(const oom_case *c, oom_data *x) {
  x->d = tc_desc(c->rows, c->n, c->p, c->dt, c->mode, DWCONV_OP_CONVOLVE, c->algo);
  x->d.threads = c->threads;
  x->len = tc_out_len(c->mode, c->n, c->p);
  x->ldb = c->broadcast_b ? 0 : (ptrdiff_t)c->p;
  x->A = tc_alloc(c->rows * c->n, c->dt);
  x->B = tc_alloc(c->rows * c->p, c->dt);
  x->C = tc_alloc(c->rows * x->len, c->dt);
  tc_rng r;
  tc_rng_seed(&r, 1300 + c->n);
  tc_fill_normal(&r, x->A, c->dt, c->rows, c->n, c->n);
  tc_fill_normal(&r, x->B, c->dt, c->rows, c->p, c->p);
  x->ref = tc_ref_problem(&x->d, x->A, (ptrdiff_t)c->n, x->B, x->ldb);
}

/* Frees what make_data allocated. */
static void free_data(oom_data *x) {
  free(x->A);
  free(x->B);
  free(x->C);
  free(x->ref);
}

/* Asserts x->C matches the reference (after clearing C and executing `plan`). */
static void execute_and_check(dwconv_plan *plan, oom_data *x, const char *what, size_t k) {
  memset(x->C, 0, x->d.rows * x->len * tc_esize(x->d.dtype));
  dwconv_status st = dwconv_plan_execute(plan, x->A, (ptrdiff_t)x->d.signal_len, x->C, (ptrdiff_t)x->len);
  ck_assert_msg(st == DWCONV_SUCCESS, "%s (fault at allocation %zu): execute: %s: %s", what, k,
                dwconv_status_string(st), dwconv_last_error());
  double e = tc_max_row_err(x->C, (ptrdiff_t)x->len, x->d.dtype, x->ref, x->d.rows, x->len);
  ck_assert_msg(e <= tc_tol(x->d.dtype), "%s (fault at allocation %zu): rel err %.3g", what, k, e);
}

/* A fresh plan, without injected faults, works end to end. */
static void library_still_works(oom_data *x, size_t k) {
  dwconv_plan *plan = NULL;
  ck_assert_msg(dwconv_plan_create(&plan, &x->d) == DWCONV_SUCCESS, "after fault %zu: plan_create: %s", k,
                dwconv_last_error());
  ck_assert_msg(dwconv_plan_set_kernel(plan, x->B, x->ldb) == DWCONV_SUCCESS,
                "after fault %zu: set_kernel: %s", k, dwconv_last_error());
  execute_and_check(plan, x, "fresh plan after a fault", k);
  dwconv_plan_destroy(plan);
}

/* Asserts st is OUT_OF_MEMORY with a non-empty detail message. */
static void expect_oom(dwconv_status st, const char *call, size_t k) {
  ck_assert_msg(st == DWCONV_ERROR_OUT_OF_MEMORY, "%s with allocation %zu failing returned %d (%s), want OUT_OF_MEMORY; %s",
                call, k, (int)st, dwconv_status_string(st), dwconv_last_error());
  ck_assert_msg(dwconv_last_error()[0] != '\0', "%s: OUT_OF_MEMORY without a dwconv_last_error() message", call);
}

/* Plan path: fail allocation k = 1, 2, ... until everything succeeds. */
START_TEST(test_oom_plan_path) {
  const oom_case *c = &k_cases[_i];
  if (c->algo == DWCONV_ALGO_FFT && !tc_fft_available(tc_backend)) return;
  oom_data x;
  make_data(c, &x);
  size_t failures = 0, k;
  for (k = 1; k < 100000; k++) {
    dwconv__fault_inject_alloc(k);
    dwconv_plan *plan = (dwconv_plan *)(uintptr_t)0x10;
    dwconv_status st = dwconv_plan_create(&plan, &x.d);
    if (st != DWCONV_SUCCESS) {
      dwconv__fault_inject_alloc(0);
      expect_oom(st, "plan_create", k);
      ck_assert_msg(plan == NULL, "plan_create failed (fault %zu) but *plan is not NULL", k);
      failures++;
      /* No fresh-plan check here: a successful plan would warm process-wide caches (the FFTW
       * plan cache) and hide the allocations that only happen on a cold start. */
      continue;
    }
    st = dwconv_plan_set_kernel(plan, x.B, x.ldb);
    if (st != DWCONV_SUCCESS) {
      dwconv__fault_inject_alloc(0);
      expect_oom(st, "set_kernel", k);
      failures++;
      /* The same plan recovers: set_kernel again, then execute. */
      st = dwconv_plan_set_kernel(plan, x.B, x.ldb);
      ck_assert_msg(st == DWCONV_SUCCESS, "set_kernel retry after fault %zu: %s", k, dwconv_last_error());
      execute_and_check(plan, &x, "plan whose set_kernel failed", k);
      dwconv_plan_destroy(plan);
      continue;
    }
    st = dwconv_plan_execute(plan, x.A, (ptrdiff_t)c->n, x.C, (ptrdiff_t)x.len);
    if (st != DWCONV_SUCCESS) {
      dwconv__fault_inject_alloc(0);
      expect_oom(st, "execute", k);
      failures++;
      execute_and_check(plan, &x, "plan whose execute failed", k);
      dwconv_plan_destroy(plan);
      continue;
    }
    /* Everything succeeded with allocation k armed: no more allocations to fail. */
    size_t made = dwconv__fault_inject_alloc(0);
    ck_assert_msg(made < k, "all calls succeeded although allocation %zu of %zu was failed", k, made);
    double e = tc_max_row_err(x.C, (ptrdiff_t)x.len, c->dt, x.ref, c->rows, x.len);
    ck_assert_msg(e <= tc_tol(c->dt), "final run: rel err %.3g", e);
    execute_and_check(plan, &x, "second execute", k);
    dwconv_plan_destroy(plan);
    break;
  }
  ck_assert_msg(k < 100000, "never succeeded");
  ck_assert_msg(failures >= 1, "no allocation failure was ever reported (k reached %zu)", k);
  library_still_works(&x, k);
  fprintf(stderr, "test_oom case %d: %zu injected allocation failures handled\n", _i, failures);
  free_data(&x);
}
END_TEST

/* One-shot path: dwconv_convolve returns OUT_OF_MEMORY for each failing allocation until it
 * succeeds, then gives the right result. */
START_TEST(test_oom_oneshot) {
  const oom_case *c = &k_cases[_i];
  if (c->algo == DWCONV_ALGO_FFT && !tc_fft_available(tc_backend)) return;
  oom_data x;
  make_data(c, &x);
  size_t k;
  for (k = 1; k < 100000; k++) {
    dwconv__fault_inject_alloc(k);
    dwconv_status st = dwconv_convolve(&x.d, x.A, (ptrdiff_t)c->n, x.B, x.ldb, x.C, (ptrdiff_t)x.len);
    dwconv__fault_inject_alloc(0);
    if (st == DWCONV_SUCCESS) break;
    expect_oom(st, "dwconv_convolve", k);
  }
  ck_assert_msg(k > 1, "dwconv_convolve succeeded with its first allocation failing");
  double e = tc_max_row_err(x.C, (ptrdiff_t)x.len, c->dt, x.ref, c->rows, x.len);
  ck_assert_msg(e <= tc_tol(c->dt), "one-shot after faults: rel err %.3g", e);
  library_still_works(&x, k);
  free_data(&x);
}
END_TEST

/* Device resources (CUDA backend only; the CPU run checks the sites are never reached):
 * the k-th cudaMalloc / cudaMallocHost / cuFFT plan step fails, k = 1, 2, ... until a run
 * reaches none. A refused pinned buffer falls back to pageable copies, so that site may
 * succeed; the others must return exactly OUT_OF_MEMORY. Each failure is followed by a fresh
 * run that must be right. */
static const dwconv_fault_site k_dev_sites[] = {DWCONV_FAULT_CUDA_MALLOC, DWCONV_FAULT_CUDA_HOST_ALLOC,
                                                DWCONV_FAULT_CUFFT_PLAN};
START_TEST(test_oom_device_sites) {
  const oom_case *c = &k_cases[_i % N_CASES];
  dwconv_fault_site site = k_dev_sites[_i / N_CASES];
  if (c->algo == DWCONV_ALGO_FFT && !tc_fft_available(tc_backend)) return;
  oom_data x;
  make_data(c, &x);
  size_t k, failures = 0;
  for (k = 1; k < 10000; k++) {
    dwconv__fault_inject(site, k);
    dwconv_plan *plan = NULL;
    dwconv_status st = dwconv_plan_create(&plan, &x.d);
    if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, x.B, x.ldb);
    if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, x.A, (ptrdiff_t)c->n, x.C, (ptrdiff_t)x.len);
    size_t made = dwconv__fault_inject(site, 0);
    dwconv_plan_destroy(plan);
    if (st != DWCONV_SUCCESS) {
      expect_oom(st, "device resource", k);
      failures++;
      library_still_works(&x, k);
      continue;
    }
    double e = tc_max_row_err(x.C, (ptrdiff_t)x.len, c->dt, x.ref, c->rows, x.len);
    ck_assert_msg(e <= tc_tol(c->dt), "site %d fault %zu absorbed but rel err %.3g", (int)site, k, e);
    if (made < k) break; /* the armed call was never reached: every call at this site covered */
  }
  if (tc_backend != DWCONV_BACKEND_CUDA)
    ck_assert_msg(k == 1 && failures == 0, "CPU run reached CUDA fault site %d", (int)site);
  else if (site != DWCONV_FAULT_CUDA_HOST_ALLOC)
    ck_assert_msg(failures >= 1, "site %d: no fault was ever reported (k reached %zu)", (int)site, k);
  fprintf(stderr, "test_oom device site %d case %d: %zu calls covered, %zu failures\n", (int)site,
          _i % N_CASES, k - 1, failures);
  free_data(&x);
}
END_TEST

/* ALGO_AUTO falls back to DIRECT when the FFT it chose cannot get its memory: with the FFT's
 * first FFTW plan (CPU) or its first device allocation (CUDA) failed, plan_create succeeds,
 * get_info reports DIRECT, the result is right and no error is left; the same shape without
 * the fault is an FFT plan (so the fallback was what happened); an explicit ALGO_FFT with the
 * same fault still fails with OUT_OF_MEMORY. The first attempts use transform lengths nothing
 * cached before (failed attempts leave the CPU's FFTW plan cache as it was). */
START_TEST(test_auto_falls_back_to_direct) {
  const dwconv_fault_site site = tc_backend == DWCONV_BACKEND_CUDA ? DWCONV_FAULT_CUDA_MALLOC : DWCONV_FAULT_FFTW_PLAN;
  if (!tc_fft_available(tc_backend)) {
    printf("test_auto_falls_back_to_direct: no FFT in this build: not applicable\n");
    return;
  }
  oom_case c = {4, 6001, 1201, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_ALGO_FFT, 1, 0};
  oom_data x;
  make_data(&c, &x);
  dwconv_plan *plan = NULL;
  dwconv_plan_info info;
  if (tc_backend == DWCONV_BACKEND_CUDA) { /* no plan cache there: ask AUTO first */
    x.d.algo = DWCONV_ALGO_AUTO;
    ck_assert_int_eq(dwconv_plan_create(&plan, &x.d), DWCONV_SUCCESS);
    ck_assert_int_eq(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS);
    dwconv_plan_destroy(plan);
    plan = NULL;
    x.d.algo = DWCONV_ALGO_FFT;
    if (info.algo != DWCONV_ALGO_FFT) {
      printf("test_auto_falls_back_to_direct: AUTO picks direct for this shape on CUDA: not applicable\n");
      free_data(&x);
      return;
    }
  }
  dwconv__fault_inject(site, 1);
  dwconv_status st = dwconv_plan_create(&plan, &x.d);
  dwconv__fault_inject(site, 0);
  ck_assert_msg(st == DWCONV_ERROR_OUT_OF_MEMORY && plan == NULL, "explicit FFT with the fault: %d (%s)", (int)st,
                dwconv_last_error());

  x.d.algo = DWCONV_ALGO_AUTO;
  dwconv__fault_inject(site, 1);
  st = dwconv_plan_create(&plan, &x.d);
  size_t hits = dwconv__fault_inject(site, 0);
  ck_assert_msg(hits >= 1, "the fault site was never reached (%zu): the test proves nothing", hits);
  ck_assert_msg(st == DWCONV_SUCCESS, "AUTO with the FFT failing: %d (%s)", (int)st, dwconv_last_error());
  ck_assert_str_eq(dwconv_last_error(), "");
  ck_assert_int_eq(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS);
  ck_assert_int_eq(info.algo, DWCONV_ALGO_DIRECT);
  ck_assert_int_eq(dwconv_plan_set_kernel(plan, x.B, x.ldb), DWCONV_SUCCESS);
  execute_and_check(plan, &x, "AUTO fallback to direct", 0);
  dwconv_plan_destroy(plan);

  plan = NULL; /* without the fault, AUTO's choice for this shape is FFT */
  ck_assert_int_eq(dwconv_plan_create(&plan, &x.d), DWCONV_SUCCESS);
  ck_assert_int_eq(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS);
  ck_assert_msg(info.algo == DWCONV_ALGO_FFT, "AUTO picks %d here; the test needs an FFT shape", (int)info.algo);
  dwconv_plan_destroy(plan);
  free_data(&x);
}
END_TEST

/* The hook itself: counts allocations and fails exactly the armed one. */
START_TEST(test_fault_hook) {
  dwconv__fault_inject_alloc(0);
  void *p1 = dwconv__malloc(10);
  void *p2 = dwconv__malloc(0);
  ck_assert_ptr_nonnull(p1);
  ck_assert_ptr_nonnull(p2);
  ck_assert_msg(((uintptr_t)p1 % 64) == 0, "dwconv__malloc not 64-byte aligned");
  ck_assert_uint_eq(dwconv__fault_inject_alloc(2), 2);
  void *q1 = dwconv__malloc(8), *q2 = dwconv__malloc(8), *q3 = dwconv__malloc(8);
  ck_assert_ptr_nonnull(q1);
  ck_assert_ptr_null(q2);
  ck_assert_ptr_nonnull(q3);
  ck_assert_uint_eq(dwconv__fault_inject_alloc(0), 3);
  dwconv__free(p1);
  dwconv__free(p2);
  dwconv__free(q1);
  dwconv__free(q3);
  dwconv__free(NULL);
}
END_TEST

/* The suite. */
static Suite *make_suite(void) {
  Suite *s = suite_create("oom");
  TCase *tc = tcase_create("oom");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_fault_hook);
  tcase_add_test(tc, test_auto_falls_back_to_direct);
  tcase_add_loop_test(tc, test_oom_plan_path, 0, N_CASES);
  tcase_add_loop_test(tc, test_oom_oneshot, 0, N_CASES);
  tcase_add_loop_test(tc, test_oom_device_sites, 0, N_CASES * 3);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_oom", make_suite); }
