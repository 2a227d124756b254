/*
 * rel_soak: 10,000 create / set_kernel / execute / destroy cycles on small shapes, mixing
 * DIRECT, FFT (including block lengths beyond the FFTW cache's 8 idle entries, so entries
 * are evicted and re-planned), f32 / f64, per-row and broadcast kernels, and the one-shot
 * dwconv_convolve. Every result is compared bitwise with the first run of its shape.
 * Memory must stay flat: resident set size (/proc/self/statm) after a warm-up and at the end
 * may differ by at most REL_SOAK_RSS_SLACK_KB. Under ASan the RSS bound is not asserted (its
 * quarantine holds freed memory); LeakSanitizer checks at exit instead.
 * DWCONV_REL_SOAK_CYCLES overrides the cycle count.
 */
#define _GNU_SOURCE 1 /* pthread_barrier_t, setenv, mmap flags, clock_gettime under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_common.h"

#define REL_SOAK_CYCLES 10000
#define REL_SOAK_WARMUP 1000
#define REL_SOAK_RSS_SLACK_KB 1024

typedef struct shape {
  dwconv_desc d;
  void *A, *B, *expect, *C;
  ptrdiff_t ldb;
  size_t out_len, c_bytes;
  int have_expect;
} shape;

#define N_SHAPES 16

static void make_shapes(shape *s) {
  int fft = tc_fft_available(DWCONV_BACKEND_CPU);
  for (int i = 0; i < N_SHAPES; i++) {
    size_t rows = 1 + (size_t)(i % 4), n = 16 + 61 * (size_t)i, p = 1 + 9 * (size_t)(i % 7);
    dwconv_dtype dt = i % 3 == 0 ? DWCONV_FLOAT64 : DWCONV_FLOAT32;
    dwconv_algo algo = !fft || i % 2 == 0 ? DWCONV_ALGO_DIRECT : DWCONV_ALGO_FFT;
    if (i >= 12 && fft) { /* FFT block lengths beyond the cache's idle capacity */
      algo = DWCONV_ALGO_FFT;
      p = 150 * (size_t)(i - 11) * (size_t)(i - 11); /* 150, 600, 1350, 2400 */
      n = 2 * p + 37;
    }
    s[i].d = tc_desc(rows, n, p, dt, (dwconv_mode)(i % 4), (dwconv_op)(i / 4 % 2), algo);
    s[i].d.threads = i % 5 == 0 ? 2 : 1;
    s[i].ldb = i % 3 == 1 ? 0 : (ptrdiff_t)p;
    s[i].out_len = tc_out_len(s[i].d.mode, n, p);
    s[i].c_bytes = rows * s[i].out_len * tc_esize(dt);
    s[i].A = tc_alloc(rows * n, dt);
    s[i].B = tc_alloc(rows * p, dt);
    s[i].C = tc_alloc(rows * s[i].out_len, dt);
    s[i].expect = tc_alloc(rows * s[i].out_len, dt);
    s[i].have_expect = 0;
    tc_rng r;
    tc_rng_seed(&r, 4242 + (uint64_t)i);
    tc_fill_normal(&r, s[i].A, dt, rows, n, n);
    tc_fill_normal(&r, s[i].B, dt, rows, p, p);
  }
}

static dwconv_status cycle(shape *x, int oneshot) {
  ptrdiff_t lda = (ptrdiff_t)x->d.signal_len, ldc = (ptrdiff_t)x->out_len;
  if (oneshot) return dwconv_convolve(&x->d, x->A, lda, x->B, x->ldb, x->C, ldc);
  dwconv_plan *p = NULL;
  dwconv_status st = dwconv_plan_create(&p, &x->d);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(p, x->B, x->ldb);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(p, x->A, lda, x->C, ldc);
  dwconv_plan_destroy(p);
  return st;
}

START_TEST(test_soak) {
  const char *e = getenv("DWCONV_REL_SOAK_CYCLES");
  long cycles = e != NULL ? atol(e) : REL_SOAK_CYCLES;
  long warm = cycles / 10 < REL_SOAK_WARMUP ? cycles / 10 : REL_SOAK_WARMUP;
  shape s[N_SHAPES];
  make_shapes(s);
  tc_failures f = {0, ""};
  long rss_warm = -1, oneshots = 0, fft_runs = 0;
  /* The shape order is a fixed pseudo-random walk so neighbouring cycles differ. */
  tc_rng r;
  tc_rng_seed(&r, 99);
  dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 0); /* counts FFTW plan-pair creations */
  dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0);
  for (long c = 0; c < cycles; c++) {
    if (c == warm) rss_warm = tc_rss_kib();
    int i = (int)tc_rng_range(&r, 0, N_SHAPES - 1);
    int oneshot = c % 3 == 0;
    shape *x = &s[i];
    memset(x->C, 0x3c, x->c_bytes);
    dwconv_status st = cycle(x, oneshot);
    oneshots += oneshot;
    fft_runs += x->d.algo == DWCONV_ALGO_FFT;
    if (st != DWCONV_SUCCESS) {
      tc_fail(&f, "cycle %ld shape %d: %s (%s)", c, i, dwconv_status_string(st), dwconv_last_error());
      continue;
    }
    if (!x->have_expect) {
      memcpy(x->expect, x->C, x->c_bytes);
      x->have_expect = 1;
      long double *ref = tc_ref_problem(&x->d, x->A, (ptrdiff_t)x->d.signal_len, x->B, x->ldb);
      double err = tc_max_row_err(x->C, (ptrdiff_t)x->out_len, x->d.dtype, ref, x->d.rows, x->out_len);
      free(ref);
      if (!(err <= tc_tol(x->d.dtype))) tc_fail(&f, "shape %d: error %g against the reference", i, err);
    } else if (memcmp(x->C, x->expect, x->c_bytes) != 0) {
      tc_fail(&f, "cycle %ld shape %d: result differs bitwise from the first run", c, i);
    }
  }
  long rss_end = tc_rss_kib();
  size_t fftw_plans = dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 0);
  size_t host_allocs = dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, 0);
  /* distinct FFT block lengths used (more than 8 means the cache evicted and re-planned) */
  size_t ls[N_SHAPES], n_ls = 0;
  for (int i = 0; i < N_SHAPES; i++) {
    dwconv_plan *p = NULL;
    dwconv_plan_info info;
    if (s[i].d.algo != DWCONV_ALGO_FFT || dwconv_plan_create(&p, &s[i].d) != DWCONV_SUCCESS) continue;
    dwconv_plan_get_info(p, &info);
    dwconv_plan_destroy(p);
    size_t j = 0;
    while (j < n_ls && ls[j] != info.block_len + (s[i].d.dtype == DWCONV_FLOAT64 ? 1u : 0u)) j++;
    if (j == n_ls) ls[n_ls++] = info.block_len + (s[i].d.dtype == DWCONV_FLOAT64 ? 1u : 0u);
  }
  for (int i = 0; i < N_SHAPES; i++) {
    free(s[i].A);
    free(s[i].B);
    free(s[i].C);
    free(s[i].expect);
  }
  printf("rel_soak: %ld cycles (%ld one-shot, %ld FFT), RSS after %ld warm-up cycles %ld kB, at the end %ld kB "
         "(growth %ld kB, bound %d kB%s); %zu distinct FFT (dtype, L) pairs, %zu FFTW plan-pair creations (cache "
         "misses), %zu host allocations\n",
         cycles, oneshots, fft_runs, warm, rss_warm, rss_end, rss_end - rss_warm, REL_SOAK_RSS_SLACK_KB,
         TC_ASAN ? ", not asserted under ASan" : "", n_ls, fftw_plans, host_allocs);
  fflush(stdout);
  ck_assert_msg(f.count == 0, "%ld failures, first: %s", f.count, f.first);
  if (!TC_ASAN && rss_warm > 0 && rss_end > 0)
    ck_assert_msg(rss_end - rss_warm <= REL_SOAK_RSS_SLACK_KB, "RSS grew by %ld kB over %ld cycles",
                  rss_end - rss_warm, cycles - warm);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("rel_soak");
  TCase *tc = tcase_create("soak");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_soak);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "rel_soak", make_suite); }
