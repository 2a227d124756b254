/*
 * rel_faults: fault injection at every host allocation and every FFTW plan creation.
 *
 * For each case (direct / FFT, f32 / f64, ldb = 0 / per row, threads 1 / 2) and each site
 * (DWCONV_FAULT_HOST_ALLOC, DWCONV_FAULT_FFTW_PLAN), for k = 1, 2, ... until the whole
 * sequence create + set_kernel + execute succeeds, the k-th call reaching the site fails:
 *  - the failing call returns exactly DWCONV_ERROR_OUT_OF_MEMORY (create also sets *plan NULL
 *    and dwconv_last_error() is non-empty);
 *  - a plan whose set_kernel / execute failed is retried without fault and gives results
 *    bitwise identical to a clean run, then is destroyed;
 *  - a fresh full run afterwards is bitwise identical to the clean run;
 *  - same for the one-shot dwconv_convolve;
 *  - host-alloc faults with the FFTW cache warm: the process heap (mallinfo2 in-use bytes) is
 *    the same before and after each failing sequence (skipped under ASan, whose allocator
 *    mallinfo does not see; there LeakSanitizer checks at exit of each forked test).
 *
 * The FFTW plan cache is process-wide: a cached (dtype, L) pair means creation never reaches
 * the FFTW_PLAN site. Before every FFTW_PLAN attempt the cache is flushed (9 idle FFT plans of
 * the other dtype evict everything older: LRU of 8), and the test asserts that the clean
 * counting run reached the site at least once. Counts are printed per case.
 */
#define _GNU_SOURCE 1 /* pthread_barrier_t, setenv, mmap flags, clock_gettime under -std=c11 */
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "test_common.h"

typedef struct fcase {
  size_t rows, n, p;
  dwconv_dtype dt;
  dwconv_mode mode;
  dwconv_op op;
  dwconv_algo algo;
  int threads;
  int broadcast_b; /* ldb = 0 */
  int pad;         /* extra stride elements on lda / ldc */
} fcase;

static const fcase k_cases[] = {
    {3, 100, 9, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT, 1, 0, 0},
    {3, 200, 17, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_OP_CORRELATE, DWCONV_ALGO_DIRECT, 2, 1, 3},
    {2, 20, 50, DWCONV_FLOAT32, DWCONV_MODE_VALID, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT, 2, 1, 0},
    {4, 1000, 33, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 1, 0, 1},
    {4, 3000, 65, DWCONV_FLOAT64, DWCONV_MODE_FULL, DWCONV_OP_CORRELATE, DWCONV_ALGO_FFT, 2, 1, 0},
    {2, 5000, 7, DWCONV_FLOAT32, DWCONV_MODE_CAUSAL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 2, 1, 0},
    {1, 9, 20, DWCONV_FLOAT64, DWCONV_MODE_VALID, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 1, 0, 0},
    {3, 700, 129, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 1, 0, 2},
    {5, 64, 64, DWCONV_FLOAT32, DWCONV_MODE_CAUSAL, DWCONV_OP_CORRELATE, DWCONV_ALGO_AUTO, 2, 0, 0},
};
#define N_CASES (int)(sizeof k_cases / sizeof k_cases[0])

typedef struct fdata {
  dwconv_desc d;
  void *A, *B, *C, *clean;
  ptrdiff_t lda, ldb, ldc;
  size_t out_len, c_bytes;
} fdata;

static void make_data(const fcase *c, fdata *x) {
  x->d = tc_desc(c->rows, c->n, c->p, c->dt, c->mode, c->op, c->algo);
  x->d.threads = c->threads;
  x->out_len = tc_out_len(c->mode, c->n, c->p);
  x->lda = (ptrdiff_t)(c->n + (size_t)c->pad);
  x->ldc = (ptrdiff_t)(x->out_len + (size_t)c->pad);
  x->ldb = c->broadcast_b ? 0 : (ptrdiff_t)c->p;
  x->A = tc_alloc(c->rows * (size_t)x->lda, c->dt);
  x->B = tc_alloc(c->rows * c->p, c->dt);
  x->c_bytes = c->rows * (size_t)x->ldc * tc_esize(c->dt);
  x->C = tc_alloc(c->rows * (size_t)x->ldc, c->dt);
  x->clean = tc_alloc(c->rows * (size_t)x->ldc, c->dt);
  tc_rng r;
  tc_rng_seed(&r, 7700 + c->n * 3 + c->p);
  tc_fill_normal(&r, x->A, c->dt, c->rows, c->n, (size_t)x->lda);
  tc_fill_normal(&r, x->B, c->dt, c->rows, c->p, c->p);
}

static void free_data(fdata *x) {
  free(x->A);
  free(x->B);
  free(x->C);
  free(x->clean);
}

/* C filled with a sentinel (so stale results cannot pass as fresh ones). */
static void poison_c(fdata *x) { memset(x->C, 0x5a, x->c_bytes); }

/* Evicts every idle entry of the FFTW plan cache: creates and destroys 9 FFT plans of the
 * dtype other than `dt` with distinct block lengths (LRU keeps 8 idle pairs). */
static void flush_fftw_cache(dwconv_dtype dt) {
  if (!tc_fft_available(DWCONV_BACKEND_CPU)) return;
  dwconv_dtype other = dt == DWCONV_FLOAT64 ? DWCONV_FLOAT32 : DWCONV_FLOAT64;
  size_t seen[16], made = 0;
  for (size_t i = 0; made < 9 && i < 64; i++) {
    size_t p = 2 + i * i * 11;
    dwconv_desc d = tc_desc(1, 8 * p + 100, p, other, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT);
    dwconv_plan *pl = NULL;
    if (dwconv_plan_create(&pl, &d) == DWCONV_SUCCESS) {
      dwconv_plan_info info;
      dwconv_plan_get_info(pl, &info);
      size_t j = 0;
      while (j < made && seen[j] != info.block_len) j++;
      if (j == made) seen[made++] = info.block_len;
    }
    dwconv_plan_destroy(pl);
  }
  ck_assert_msg(made == 9, "could not make 9 distinct FFT block lengths to flush the plan cache");
}

static size_t heap_in_use(void) {
#if !TC_ASAN && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#else
  return 0;
#endif
}

typedef struct run_result {
  dwconv_status st;
  int stage; /* 0 create, 1 set_kernel, 2 execute, 3 all succeeded */
  char err[256];
} run_result;

/* Plan path. A plan whose set_kernel or execute failed is retried (no fault armed by then). */
static run_result run_plan(fdata *x, tc_failures *f, const char *what) {
  run_result r = {DWCONV_SUCCESS, 0, ""};
  dwconv_plan *plan = (dwconv_plan *)(uintptr_t)1; /* must be reset to NULL on failure */
  poison_c(x);
  r.st = dwconv_plan_create(&plan, &x->d);
  if (r.st != DWCONV_SUCCESS) {
    snprintf(r.err, sizeof r.err, "%s", dwconv_last_error());
    if (plan != NULL) tc_fail(f, "%s: create failed (%d) but *plan != NULL", what, (int)r.st);
    return r;
  }
  r.stage = 1;
  r.st = dwconv_plan_set_kernel(plan, x->B, x->ldb);
  if (r.st == DWCONV_SUCCESS) {
    r.stage = 2;
    r.st = dwconv_plan_execute(plan, x->A, x->lda, x->C, x->ldc);
    if (r.st == DWCONV_SUCCESS) r.stage = 3;
  }
  if (r.st != DWCONV_SUCCESS) {
    snprintf(r.err, sizeof r.err, "%s", dwconv_last_error());
    /* the same plan must recover */
    dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0);
    dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 0);
    dwconv_status s2 = DWCONV_SUCCESS;
    if (r.stage == 1) s2 = dwconv_plan_set_kernel(plan, x->B, x->ldb);
    poison_c(x);
    if (s2 == DWCONV_SUCCESS) s2 = dwconv_plan_execute(plan, x->A, x->lda, x->C, x->ldc);
    if (s2 != DWCONV_SUCCESS)
      tc_fail(f, "%s: plan did not recover after failed stage %d: %s", what, r.stage, dwconv_status_string(s2));
    else if (memcmp(x->C, x->clean, x->c_bytes) != 0)
      tc_fail(f, "%s: recovered plan gives results different from a clean run", what);
  }
  dwconv_plan_destroy(plan);
  return r;
}

static run_result run_oneshot(fdata *x) {
  run_result r = {DWCONV_SUCCESS, 3, ""};
  poison_c(x);
  r.st = dwconv_convolve(&x->d, x->A, x->lda, x->B, x->ldb, x->C, x->ldc);
  if (r.st != DWCONV_SUCCESS) {
    r.stage = 0;
    snprintf(r.err, sizeof r.err, "%s", dwconv_last_error());
  }
  return r;
}

/* Totals for the summary line (per forked test process). */
typedef struct counts {
  size_t reached_clean, injected, ooms;
} counts;

/* Drives one site for one path until the sequence succeeds. */
static void sweep(const fcase *c, fdata *x, dwconv_fault_site site, int oneshot, int cold, tc_failures *f,
                  counts *cnt) {
  const char *sname = site == DWCONV_FAULT_HOST_ALLOC ? (cold ? "host_alloc(cold cache)" : "host_alloc") : "fftw_plan";
  int is_fft_site = site == DWCONV_FAULT_FFTW_PLAN || cold; /* flush the FFTW cache before each run */
  /* clean counting run */
  if (is_fft_site) flush_fftw_cache(c->dt);
  dwconv__fault_inject(site, 0);
  run_result r0 = oneshot ? run_oneshot(x) : run_plan(x, f, "clean");
  cnt->reached_clean = dwconv__fault_inject(site, 0);
  if (r0.st != DWCONV_SUCCESS || memcmp(x->C, x->clean, x->c_bytes) != 0) {
    tc_fail(f, "%s/%s: clean run failed or differs", sname, oneshot ? "oneshot" : "plan");
    return;
  }
  dwconv_plan_info info;
  memset(&info, 0, sizeof info);
  {
    dwconv_plan *p = NULL;
    if (dwconv_plan_create(&p, &x->d) == DWCONV_SUCCESS) dwconv_plan_get_info(p, &info);
    dwconv_plan_destroy(p);
  }
  if (is_fft_site && info.algo == DWCONV_ALGO_FFT && cnt->reached_clean == 0)
    tc_fail(f, "fftw_plan: the FFT case never reached the FFTW_PLAN site (plan cache not flushed?)");
  for (size_t k = 1; k <= 10000; k++) {
    if (is_fft_site) flush_fftw_cache(c->dt);
    size_t before = heap_in_use();
    dwconv__fault_inject(site, k);
    run_result r = oneshot ? run_oneshot(x) : run_plan(x, f, sname);
    size_t reached = dwconv__fault_inject(site, 0);
    if (r.st == DWCONV_SUCCESS) {
      if (reached >= k)
        tc_fail(f, "%s k=%zu: call %zu was armed to fail and reached (%zu calls) but the run succeeded", sname, k, k,
                reached);
      if (memcmp(x->C, x->clean, x->c_bytes) != 0) tc_fail(f, "%s k=%zu: result differs from clean run", sname, k);
      if (k - 1 != cnt->reached_clean)
        tc_fail(f, "%s: clean run reached the site %zu times, fault sweep succeeded at k=%zu", sname,
                cnt->reached_clean, k);
      break;
    }
    cnt->injected++;
    if (r.st == DWCONV_ERROR_OUT_OF_MEMORY) cnt->ooms++;
    else
      tc_fail(f, "%s/%s k=%zu stage %d: status %s, expected OUT_OF_MEMORY (%s)", sname, oneshot ? "oneshot" : "plan",
              k, r.stage, dwconv_status_string(r.st), r.err);
    if (r.err[0] == '\0') tc_fail(f, "%s k=%zu: empty dwconv_last_error()", sname, k);
    if (!is_fft_site) {
      /* With the FFTW cache warm (host-alloc sweep: the clean run cached the pair, and a
       * failure never evicts a cached pair), every byte taken must have been given back. */
      size_t after = heap_in_use();
      if (after != before)
        tc_fail(f, "%s/%s k=%zu: heap in use %zu -> %zu bytes across a failed run (leak?)", sname,
                oneshot ? "oneshot" : "plan", k, before, after);
    }
    /* library keeps working: a fresh full run is identical to the clean one */
    run_result again = run_plan(x, f, "after-fault");
    if (again.st != DWCONV_SUCCESS || memcmp(x->C, x->clean, x->c_bytes) != 0)
      tc_fail(f, "%s k=%zu: the run after the fault failed or differs (%s)", sname, k, dwconv_status_string(again.st));
  }
}

static void run_case(int i, dwconv_fault_site site) {
  const fcase *c = &k_cases[i];
  if (c->algo == DWCONV_ALGO_FFT && !tc_fft_available(DWCONV_BACKEND_CPU)) return;
  fdata x;
  make_data(c, &x);
  tc_failures f = {0, ""};
  /* clean reference result, checked against the long-double reference once */
  dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0);
  dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 0);
  memset(x.clean, 0x5a, x.c_bytes);
  dwconv_status st = dwconv_convolve(&x.d, x.A, x.lda, x.B, x.ldb, x.clean, x.ldc);
  ck_assert_msg(st == DWCONV_SUCCESS, "case %d: clean run failed: %s", i, dwconv_last_error());
  long double *ref = tc_ref_problem(&x.d, x.A, x.lda, x.B, x.ldb);
  double err = tc_max_row_err(x.clean, x.ldc, c->dt, ref, c->rows, x.out_len);
  free(ref);
  ck_assert_msg(err <= tc_tol(c->dt), "case %d: clean run error %g", i, err);
  /* warm-up (OpenMP pool, FFTW cache) before heap accounting */
  run_result w = run_plan(&x, &f, "warm-up");
  ck_assert_int_eq(w.st, DWCONV_SUCCESS);

  counts plan_c = {0, 0, 0}, one_c = {0, 0, 0}, cold_c = {0, 0, 0};
  sweep(c, &x, site, 0, 0, &f, &plan_c);
  sweep(c, &x, site, 1, 0, &f, &one_c);
  /* host allocations with a cold FFTW cache also reach the cache entry's allocation */
  if (site == DWCONV_FAULT_HOST_ALLOC && c->algo == DWCONV_ALGO_FFT) sweep(c, &x, site, 0, 1, &f, &cold_c);
  printf("rel_faults: case %d (%zux%zu*%zu %s %s threads %d ldb %s) site %s: plan path reached %zu, injected %zu; "
         "one-shot reached %zu, injected %zu; plan path with cold FFTW cache reached %zu, injected %zu\n",
         i, c->rows, c->n, c->p, tc_dtype_name(c->dt), tc_algo_name(c->algo), c->threads,
         c->broadcast_b ? "0" : "per-row", site == DWCONV_FAULT_HOST_ALLOC ? "HOST_ALLOC" : "FFTW_PLAN",
         plan_c.reached_clean, plan_c.injected, one_c.reached_clean, one_c.injected, cold_c.reached_clean,
         cold_c.injected);
  fflush(stdout);
  free_data(&x);
  ck_assert_msg(f.count == 0, "case %d: %ld failures, first: %s", i, f.count, f.first);
  if (site == DWCONV_FAULT_FFTW_PLAN && c->algo == DWCONV_ALGO_FFT)
    ck_assert_msg(plan_c.injected > 0 && one_c.injected > 0, "case %d: no FFTW plan fault was injected", i);
  if (site == DWCONV_FAULT_HOST_ALLOC) ck_assert_msg(plan_c.injected > 0, "case %d: no host alloc fault injected", i);
}

START_TEST(test_host_alloc_faults) { run_case(_i, DWCONV_FAULT_HOST_ALLOC); }
END_TEST

START_TEST(test_fftw_plan_faults) { run_case(_i, DWCONV_FAULT_FFTW_PLAN); }
END_TEST

/* A fault armed at a site that the call never reaches stays armed, does not fire elsewhere,
 * and disarming returns the count: the hook's bookkeeping is what the sweeps rely on. */
START_TEST(test_site_isolation) {
  fdata x;
  make_data(&k_cases[0], &x); /* direct: never reaches FFTW_PLAN */
  dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0);
  dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 1);
  dwconv_status st = dwconv_convolve(&x.d, x.A, x.lda, x.B, x.ldb, x.C, x.ldc);
  ck_assert_int_eq(st, DWCONV_SUCCESS);
  ck_assert_uint_eq(dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 0), 0);
  ck_assert_uint_gt(dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0), 0);
  free_data(&x);
}
END_TEST

/* The heap accounting used above does see a leak (outside ASan). */
START_TEST(test_heap_accounting_sees_leaks) {
  if (TC_ASAN || heap_in_use() == 0) return;
  size_t before = heap_in_use();
  void *volatile leak = malloc(200);
  size_t after = heap_in_use();
  free(leak);
  ck_assert_msg(after >= before + 200, "heap accounting blind: %zu -> %zu", before, after);
  ck_assert_uint_eq(heap_in_use(), before);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("rel_faults");
  TCase *tc = tcase_create("faults");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_site_isolation);
  tcase_add_test(tc, test_heap_accounting_sees_leaks);
  tcase_add_loop_test(tc, test_host_alloc_faults, 0, N_CASES);
  tcase_add_loop_test(tc, test_fftw_plan_faults, 0, N_CASES);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) {
#if !TC_ASAN && defined(__GLIBC__)
  /* The heap accounting needs glibc's per-thread cache off (mallinfo counts cached chunks as
   * in use): re-run this program once with the tunable set. */
  const char *tun = getenv("GLIBC_TUNABLES");
  if (tun == NULL || strstr(tun, "glibc.malloc.tcache_count=0") == NULL) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s%sglibc.malloc.tcache_count=0", tun ? tun : "", tun ? ":" : "");
    setenv("GLIBC_TUNABLES", buf, 1);
    execv("/proc/self/exe", argv);
    /* exec failed: fall through; heap accounting may then report false growth */
  }
#endif
  return tc_main(argc, argv, "rel_faults", make_suite);
}
