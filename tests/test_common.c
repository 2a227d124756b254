/* Shared test helpers; see test_common.h. */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#ifdef DWCONV_TEST_USE_SHIM
#define DWCONV_CHECK_SHIM_IMPL 1
#endif
#include "test_common.h"

#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

dwconv_backend tc_backend = DWCONV_BACKEND_CPU;

/* ---- random numbers ---- */

void tc_rng_seed(tc_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull; }

uint64_t tc_rng_u64(tc_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double tc_rng_uniform(tc_rng *r) { return (double)(tc_rng_u64(r) >> 11) * 0x1.0p-53; }

double tc_rng_normal(tc_rng *r) {
  double u1 = tc_rng_uniform(r), u2 = tc_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

size_t tc_rng_range(tc_rng *r, size_t lo, size_t hi) {
  return lo + (size_t)(tc_rng_u64(r) % (uint64_t)(hi - lo + 1));
}

/* ---- typed buffers ---- */

size_t tc_esize(dwconv_dtype dt) { return dt == DWCONV_FLOAT64 ? 8 : 4; }

void *tc_alloc(size_t elems, dwconv_dtype dt) {
  void *p = calloc(elems ? elems : 1, tc_esize(dt));
  if (p == NULL) {
    fprintf(stderr, "test: out of memory allocating %zu elements\n", elems);
    abort();
  }
  return p;
}

long double tc_get(const void *buf, dwconv_dtype dt, size_t i) {
  return dt == DWCONV_FLOAT64 ? (long double)((const double *)buf)[i]
                              : (long double)((const float *)buf)[i];
}

void tc_set(void *buf, dwconv_dtype dt, size_t i, double v) {
  if (dt == DWCONV_FLOAT64) ((double *)buf)[i] = v;
  else ((float *)buf)[i] = (float)v;
}

void tc_fill_normal(tc_rng *r, void *buf, dwconv_dtype dt, size_t rows, size_t len, size_t ld) {
  for (size_t m = 0; m < rows; m++)
    for (size_t i = 0; i < len; i++) tc_set(buf, dt, m * ld + i, tc_rng_normal(r));
}

void tc_fill_value(void *buf, dwconv_dtype dt, size_t count, double v) {
  for (size_t i = 0; i < count; i++) tc_set(buf, dt, i, v);
}

/* ---- reference ---- */

size_t tc_out_len(dwconv_mode mode, size_t n, size_t p) {
  size_t mn = n < p ? n : p, mx = n < p ? p : n;
  switch (mode) {
    case DWCONV_MODE_FULL: return n + p - 1;
    case DWCONV_MODE_SAME: return n;
    case DWCONV_MODE_VALID: return mx - mn + 1;
    case DWCONV_MODE_CAUSAL: return n;
  }
  return 0;
}

size_t tc_full_offset(dwconv_mode mode, size_t n, size_t p) {
  size_t mn = n < p ? n : p;
  switch (mode) {
    case DWCONV_MODE_FULL: return 0;
    case DWCONV_MODE_SAME: return (p - 1) / 2;
    case DWCONV_MODE_VALID: return mn - 1;
    case DWCONV_MODE_CAUSAL: return 0;
  }
  return 0;
}

void tc_ref_full_row(dwconv_op op, const void *a, const void *b, dwconv_dtype dt, size_t n,
                     size_t p, long double *full, long double *sq) {
  /* Widen once, reversing b for correlate, so the inner loop is plain long double. */
  long double *x = (long double *)malloc(sizeof(long double) * (n + p));
  if (x == NULL) abort();
  long double *w = x + n;
  for (size_t i = 0; i < n; i++) x[i] = tc_get(a, dt, i);
  for (size_t j = 0; j < p; j++) w[j] = tc_get(b, dt, op == DWCONV_OP_CONVOLVE ? j : p - 1 - j);
  for (size_t k = 0; k < n + p - 1; k++) {
    /* full[k] = sum_j x[k-j] * w[j] over 0 <= j < p, 0 <= k-j < n. */
    size_t jlo = k >= n - 1 ? k - (n - 1) : 0;
    size_t jhi = k < p - 1 ? k : p - 1;
    long double s0 = 0.0L, s1 = 0.0L;
    size_t j = jlo;
    for (; j + 1 <= jhi; j += 2) {
      s0 += x[k - j] * w[j];
      s1 += x[k - j - 1] * w[j + 1];
    }
    if (j == jhi) s0 += x[k - j] * w[j];
    full[k] = s0 + s1;
    if (sq != NULL) {
      long double q = 0.0L;
      for (j = jlo; j <= jhi; j++) q += (x[k - j] * w[j]) * (x[k - j] * w[j]);
      sq[k] = q;
    }
  }
  free(x);
}

long double *tc_ref_problem(const dwconv_desc *d, const void *A, ptrdiff_t lda, const void *B,
                            ptrdiff_t ldb) {
  size_t n = d->signal_len, p = d->kernel_len, es = tc_esize(d->dtype);
  size_t len = tc_out_len(d->mode, n, p), off = tc_full_offset(d->mode, n, p);
  long double *ref = (long double *)malloc(sizeof(long double) * (2 * d->rows * len + 1));
  long double *full = (long double *)malloc(sizeof(long double) * 2 * (n + p));
  if (ref == NULL || full == NULL) abort();
  long double *sq = full + n + p;
  for (size_t m = 0; m < d->rows; m++) {
    const char *a = (const char *)A + (size_t)lda * m * es;
    const char *b = (const char *)B + (size_t)ldb * m * es;
    tc_ref_full_row(d->op, a, b, d->dtype, n, p, full, sq);
    memcpy(ref + m * len, full + off, len * sizeof(long double));
    memcpy(ref + d->rows * len + m * len, sq + off, len * sizeof(long double));
  }
  free(full);
  return ref;
}

/* ---- comparisons ---- */

double tc_rel_err(const void *c, dwconv_dtype dt, const long double *ref, const long double *sq,
                  size_t len) {
  long double num = 0.0L, den = 0.0L, scale = 0.0L;
  for (size_t i = 0; i < len; i++) {
    long double v = tc_get(c, dt, i);
    if (!isfinite(v) && isfinite(ref[i])) return INFINITY;
    long double e = v - ref[i];
    num += e * e;
    den += ref[i] * ref[i];
    if (sq != NULL) scale += sq[i];
  }
  if (0.25L * scale > den) den = 0.25L * scale;
  if (den == 0.0L) return (double)sqrtl(num);
  return (double)sqrtl(num / den);
}

double tc_tol(dwconv_dtype dt) { return dt == DWCONV_FLOAT64 ? 1e-12 : 1e-5; }

double tc_max_row_err(const void *C, ptrdiff_t ldc, dwconv_dtype dt, const long double *ref,
                      size_t rows, size_t out_len) {
  double worst = 0.0;
  for (size_t m = 0; m < rows; m++) {
    const char *c = (const char *)C + (size_t)ldc * m * tc_esize(dt);
    double e = tc_rel_err(c, dt, ref + m * out_len, ref + rows * out_len + m * out_len, out_len);
    if (!(e <= worst)) worst = e; /* also picks up NaN */
  }
  return worst;
}

/* ---- running the library ---- */

dwconv_desc tc_desc(size_t rows, size_t n, size_t p, dwconv_dtype dt, dwconv_mode mode,
                    dwconv_op op, dwconv_algo algo) {
  dwconv_desc d = dwconv_desc_make(rows, n, p, dt);
  d.mode = mode;
  d.op = op;
  d.algo = algo;
  d.backend = tc_backend;
  d.threads = 1;
  return d;
}

long tc_rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  long size = 0, res = 0;
  int n = fscanf(f, "%ld %ld", &size, &res);
  fclose(f);
  if (n != 2) return -1;
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

int tc_fft_available(dwconv_backend b) {
  if (b == DWCONV_BACKEND_CUDA) return 1;
#if defined(DWCONV_TEST_HAVE_FFTW) && DWCONV_TEST_HAVE_FFTW
  return 1;
#else
  return 0;
#endif
}

dwconv_status tc_run(const dwconv_desc *d, const void *A, ptrdiff_t lda, const void *B,
                     ptrdiff_t ldb, void *C, ptrdiff_t ldc, char *err, size_t errlen) {
  tc_context("rows=%zu N=%zu P=%zu %s %s %s %s threads=%d lda=%td ldb=%td ldc=%td", d->rows,
             d->signal_len, d->kernel_len, tc_mode_name(d->mode), tc_op_name(d->op),
             tc_dtype_name(d->dtype), tc_algo_name(d->algo), d->threads, lda, ldb, ldc);
  dwconv_plan *plan = NULL;
  dwconv_status st = dwconv_plan_create(&plan, d);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, ldb);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, lda, C, ldc);
  if (st != DWCONV_SUCCESS && err != NULL && errlen > 0)
    snprintf(err, errlen, "%s (%s)", dwconv_status_string(st), dwconv_last_error());
  dwconv_plan_destroy(plan);
  return st;
}

const char *tc_mode_name(dwconv_mode m) {
  switch (m) {
    case DWCONV_MODE_FULL: return "full";
    case DWCONV_MODE_SAME: return "same";
    case DWCONV_MODE_VALID: return "valid";
    case DWCONV_MODE_CAUSAL: return "causal";
  }
  return "?";
}
const char *tc_op_name(dwconv_op o) { return o == DWCONV_OP_CONVOLVE ? "convolve" : "correlate"; }
const char *tc_dtype_name(dwconv_dtype t) { return t == DWCONV_FLOAT64 ? "f64" : "f32"; }
const char *tc_algo_name(dwconv_algo a) {
  return a == DWCONV_ALGO_DIRECT ? "direct" : a == DWCONV_ALGO_FFT ? "fft" : a == DWCONV_ALGO_GEMM ? "gemm" : "auto";
}

int tc_contains_ci(const char *h, const char *n) {
  if (h == NULL || n == NULL) return 0;
  size_t hl = strlen(h), nl = strlen(n);
  for (size_t i = 0; i + nl <= hl; i++) {
    size_t k = 0;
    while (k < nl && tolower((unsigned char)h[i + k]) == tolower((unsigned char)n[k])) k++;
    if (k == nl) return 1;
  }
  return 0;
}

void tc_fail(tc_failures *f, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (f->count == 0) snprintf(f->first, sizeof f->first, "%s", buf);
  if (f->count < 10) fprintf(stderr, "FAIL: %s\n", buf);
  f->count++;
}

/* ---- crash context ---- */

static char tc_ctx[256];

void tc_context(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tc_ctx, sizeof tc_ctx, fmt, ap);
  va_end(ap);
}

/* Fatal-signal handler: prints the context (async-signal-safe write), then dies of the signal
 * (SA_RESETHAND restored the default action). */
static void tc_crash_handler(int sig) {
  static const char pre[] = "\ncrashed while: ";
  ssize_t w = write(2, pre, sizeof pre - 1);
  w = write(2, tc_ctx, strnlen(tc_ctx, sizeof tc_ctx));
  w = write(2, "\n", 1);
  (void)w;
  raise(sig);
}

/* Installs tc_crash_handler for the fatal signals. */
static void tc_install_crash_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = tc_crash_handler;
  sa.sa_flags = (int)SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
}

/* ---- runner ---- */

int tc_main(int argc, char **argv, const char *prog, Suite *(*make_suite)(void)) {
  const char *be = argc > 1 ? argv[1] : "cpu";
  if (strcmp(be, "cpu") == 0) {
    tc_backend = DWCONV_BACKEND_CPU;
  } else if (strcmp(be, "cuda") == 0) {
    tc_backend = DWCONV_BACKEND_CUDA;
    if (dwconv_cuda_device_count() == 0) {
      printf("SKIPPED: %s_cuda: no CUDA device\n", prog);
      fflush(stdout);
      return 77;
    }
  } else {
    fprintf(stderr, "usage: %s [cpu|cuda]\n", argv[0]);
    return 2;
  }
#ifdef DWCONV_TEST_USE_SHIM
  printf("%s: backend %s, dwconv %s, test framework: tests/check_shim.h (no fork)\n", prog, be,
         dwconv_version_string());
#else
  printf("%s: backend %s, dwconv %s, test framework: Check %d.%d.%d\n", prog, be,
         dwconv_version_string(), (int)CHECK_MAJOR_VERSION, (int)CHECK_MINOR_VERSION,
         (int)CHECK_MICRO_VERSION);
#endif
  /* A DWCONV_SIMD cap must take effect, or the per-variant ctest entries would silently
   * test the default kernel again. The capped variant may be lower still on a CPU without it. */
  const char *cap = getenv("DWCONV_SIMD"), *simd = dwconv_cpu_simd();
  printf("%s: CPU direct kernel %s%s%s\n", prog, simd, cap ? ", DWCONV_SIMD=" : "", cap ? cap : "");
  if (cap != NULL) {
    int ok = strcmp(cap, simd) == 0 || strcmp(simd, "portable") == 0 ||
             (strcmp(cap, "avx512") == 0 && strcmp(simd, "avx2") == 0);
    if (!ok) {
      printf("%s: DWCONV_SIMD=%s but the library runs the %s kernel\n", prog, cap, simd);
      return 1;
    }
  }
  fflush(stdout);
  tc_install_crash_handler();
  SRunner *sr = srunner_create(make_suite());
  /* dwconv_cuda_device_count() above initialised the CUDA runtime in this process, and CUDA
   * does not survive fork(): run the CUDA tests in-process (also what compute-sanitizer
   * wants). CPU tests keep Check's default (fork per test, unless CK_FORK=no). */
  if (tc_backend == DWCONV_BACKEND_CUDA) srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  printf("%d passed, %d failed\n", run - failed, failed);
  fflush(stdout);
  return (failed == 0 && run > 0) ? 0 : 1;
}
