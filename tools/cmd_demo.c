/* `dwconv demo`: the seed example (M=4, N=10, P=20 random rows, full mode) on every available
 * backend and algorithm, in float64 and float32, each checked against a naive long-double
 * reference; prints the 4 x 29 result and then the throughput of one larger shape. Exits 1 if
 * any check fails. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "dwconv.h"
#include "reference.h"
#include "rng.h"

/* Prints the --help text to f. */
static void demo_usage(FILE *f) {
  fputs("usage: dwconv demo [--seed N] [--no-large]\n"
        "\n"
        "Runs the seed example (M=4, N=10, P=20 random, full mode) on CPU direct, CPU fft and\n"
        "CUDA (when a GPU is present), in float64 and float32, checks each result against a\n"
        "naive long-double reference (PASS/FAIL), prints the 4x29 result, then measures one\n"
        "larger shape (256 x 16384, P = 63, same mode, float32) on each backend.\n"
        "exit status: 0 all PASS, 1 a check failed or a run failed, 2 bad usage\n",
        f);
}

/* One backend/algorithm combination to try. */
typedef struct variant {
  const char *name;
  dwconv_backend backend;
  dwconv_algo algo;
} variant;

/* max |got - ref| / max |ref| over count samples (got in dtype). */
static double rel_error(const void *got, dwconv_dtype dt, const long double *ref, size_t count) {
  long double num = 0, den = 0;
  for (size_t i = 0; i < count; i++) {
    long double g = dt == DWCONV_FLOAT64 ? ((const double *)got)[i] : ((const float *)got)[i];
    long double e = fabsl(g - ref[i]), r = fabsl(ref[i]);
    if (!(e <= num)) num = e; /* NaN counts as the worst error */
    if (r > den) den = r;
  }
  return (double)(den > 0 ? num / den : num);
}

/* Reference for all rows of a (M x N) and b (M x P), both double, into ref (M x out_len). */
static void reference(const double *a, const double *b, size_t m, size_t n, size_t p, dwconv_mode mode,
                      long double *ref) {
  size_t ol = dwconv_output_len(mode, n, p);
  for (size_t r = 0; r < m; r++) ref_row(a + r * n, n, b + r * p, p, mode, DWCONV_OP_CONVOLVE, ref + r * ol);
}

/* Runs one variant in one dtype on the small problem; returns 1 PASS, 0 FAIL, -1 not
 * available here (printed as SKIP). c receives the output (float64 or float32). */
static int run_small(const variant *v, dwconv_dtype dt, const double *a, const double *b, size_t m, size_t n,
                     size_t p, const long double *ref, void *c) {
  size_t ol = dwconv_output_len(DWCONV_MODE_FULL, n, p), es = dt == DWCONV_FLOAT64 ? 8 : 4;
  void *A = malloc(m * n * es), *B = malloc(m * p * es);
  int result = 0;
  if (A == NULL || B == NULL) {
    printf("  %-12s %-8s out of memory\n", v->name, dt == DWCONV_FLOAT64 ? "float64" : "float32");
    goto done;
  }
  for (size_t i = 0; i < m * n; i++)
    if (dt == DWCONV_FLOAT64) ((double *)A)[i] = a[i];
    else ((float *)A)[i] = (float)a[i];
  for (size_t i = 0; i < m * p; i++)
    if (dt == DWCONV_FLOAT64) ((double *)B)[i] = b[i];
    else ((float *)B)[i] = (float)b[i];
  dwconv_desc d = dwconv_desc_make(m, n, p, dt);
  d.backend = v->backend;
  d.algo = v->algo;
  dwconv_status st = dwconv_convolve(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, c, (ptrdiff_t)ol);
  const char *dn = dt == DWCONV_FLOAT64 ? "float64" : "float32";
  if (st == DWCONV_ERROR_NOT_SUPPORTED || st == DWCONV_ERROR_NO_DEVICE) {
    printf("  %-12s %-8s SKIP (%s)\n", v->name, dn, dwconv_last_error());
    result = -1;
  } else if (st != DWCONV_SUCCESS) {
    printf("  %-12s %-8s FAIL: %s\n", v->name, dn, dwconv_last_error());
  } else {
    /* The float32 reference is the same sums on the rounded inputs; its tolerance allows for
     * float32 accumulation (direct) and transform round-off (FFT). */
    double err = rel_error(c, dt, ref, m * ol), tol = dt == DWCONV_FLOAT64 ? 1e-12 : 2e-5;
    result = err <= tol;
    printf("  %-12s %-8s rel. error %.2e (tolerance %.0e)  %s\n", v->name, dn, err, tol, result ? "PASS" : "FAIL");
  }
done:
  free(A);
  free(B);
  return result;
}

/* Median of n doubles (sorts them). */
static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Times the larger shape on one variant and checks two rows; returns 1 ok, 0 failed, -1 skip. */
static int run_large(const variant *v) {
  const size_t m = 256, n = 16384, p = 63;
  const dwconv_mode mode = DWCONV_MODE_SAME;
  size_t ol = dwconv_output_len(mode, n, p);
  float *A = malloc(m * n * sizeof *A), *B = malloc(m * p * sizeof *B), *C = malloc(m * ol * sizeof *C);
  double *ad = malloc(n * sizeof *ad), *bd = malloc(p * sizeof *bd);
  long double *ref = malloc(ol * sizeof *ref);
  dwconv_plan *plan = NULL;
  int result = 0;
  if (!A || !B || !C || !ad || !bd || !ref) {
    printf("  %-12s out of memory\n", v->name);
    goto done;
  }
  rng g = {12345};
  for (size_t i = 0; i < m * n; i++) A[i] = (float)rng_normal(&g);
  for (size_t i = 0; i < m * p; i++) B[i] = (float)rng_normal(&g);
  dwconv_desc d = dwconv_desc_make(m, n, p, DWCONV_FLOAT32);
  d.mode = mode;
  d.backend = v->backend;
  d.algo = v->algo;
  dwconv_status st = dwconv_plan_create(&plan, &d);
  if (st == DWCONV_ERROR_NOT_SUPPORTED || st == DWCONV_ERROR_NO_DEVICE) {
    printf("  %-12s SKIP (%s)\n", v->name, dwconv_last_error());
    result = -1;
    goto done;
  }
  if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)ol); /* warm-up */
  double t[5];
  for (int k = 0; k < 5 && st == DWCONV_SUCCESS; k++) {
    double t0 = cli_now();
    st = dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)ol);
    t[k] = cli_now() - t0;
  }
  if (st != DWCONV_SUCCESS) {
    printf("  %-12s FAIL: %s\n", v->name, dwconv_last_error());
    goto done;
  }
  /* Check the first and the last row against the reference. */
  double err = 0;
  for (size_t r = 0; r < m; r += m - 1) {
    for (size_t i = 0; i < n; i++) ad[i] = A[r * n + i];
    for (size_t i = 0; i < p; i++) bd[i] = B[r * p + i];
    ref_row(ad, n, bd, p, mode, DWCONV_OP_CONVOLVE, ref);
    double e = rel_error(C + r * ol, DWCONV_FLOAT32, ref, ol);
    if (!(e <= err)) err = e;
  }
  qsort(t, 5, sizeof t[0], cmp_double);
  dwconv_plan_info info;
  dwconv_plan_get_info(plan, &info);
  double med = t[2], samples = (double)m * (double)ol;
  result = err <= 2e-5;
  printf("  %-12s algo %-6s %8.3f ms  %8.1f Msamples/s  %7.2f GFLOP/s (direct-equivalent)  rel. error %.1e  %s\n",
         v->name, cli_algo_name(info.algo), med * 1e3, samples / med * 1e-6, 2.0 * samples * (double)p / med * 1e-9,
         err, result ? "PASS" : "FAIL");
done:
  dwconv_plan_destroy(plan);
  free(A);
  free(B);
  free(C);
  free(ad);
  free(bd);
  free(ref);
  return result;
}

/* See commands.h. */
int cmd_demo(int argc, char **argv) {
  static const struct option longopts[] = {{"seed", required_argument, NULL, 's'},
                                           {"no-large", no_argument, NULL, 'n'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  long seed = 2024;
  int large = 1, c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 's':
        if (!cli_parse_long(optarg, 0, 0x7fffffffL, &seed))
          return cli_error("demo: --seed wants a non-negative integer, got '%s'", optarg), EXIT_USAGE;
        break;
      case 'n': large = 0; break;
      case 'h': demo_usage(stdout); return EXIT_OK;
      case ':': return cli_error("demo: option '%s' needs a value", argv[optind - 1]), EXIT_USAGE;
      default: return cli_error("demo: unknown option '%s' (see dwconv demo --help)", argv[optind - 1]), EXIT_USAGE;
    }
  }
  if (optind != argc) return cli_error("demo: unexpected argument '%s'", argv[optind]), EXIT_USAGE;

  enum { M = 4, N = 10, P = 20, OL = N + P - 1 };
  double a[M * N], b[M * P], a32[M * N], b32[M * P], c64[M * OL];
  float c32[M * OL];
  long double ref64[M * OL], ref32[M * OL];
  rng g = {(uint64_t)seed};
  for (int i = 0; i < M * N; i++) a32[i] = (float)(a[i] = rng_normal(&g));
  for (int i = 0; i < M * P; i++) b32[i] = (float)(b[i] = rng_normal(&g));
  reference(a, b, M, N, P, DWCONV_MODE_FULL, ref64);
  reference(a32, b32, M, N, P, DWCONV_MODE_FULL, ref32);

  variant vs[6];
  int nv = 0;
  vs[nv++] = (variant){"cpu direct", DWCONV_BACKEND_CPU, DWCONV_ALGO_DIRECT};
  vs[nv++] = (variant){"cpu fft", DWCONV_BACKEND_CPU, DWCONV_ALGO_FFT};
  int ndev = dwconv_cuda_device_count();
  if (ndev > 0) {
    vs[nv++] = (variant){"cuda direct", DWCONV_BACKEND_CUDA, DWCONV_ALGO_DIRECT};
    vs[nv++] = (variant){"cuda fft", DWCONV_BACKEND_CUDA, DWCONV_ALGO_FFT};
  }
  printf("dwconv %s demo: C[m,:] = convolve(A[m,:], B[m,:]), M=%d N=%d P=%d, mode full (seed %ld)\n",
         dwconv_version_string(), M, N, P, seed);
  printf("CUDA devices: %d%s\n\n", ndev, ndev > 0 ? "" : " (CUDA variants skipped)");

  int failed = 0, shown = 0;
  for (int i = 0; i < nv; i++) {
    int r64 = run_small(&vs[i], DWCONV_FLOAT64, a, b, M, N, P, ref64, c64);
    int r32 = run_small(&vs[i], DWCONV_FLOAT32, a32, b32, M, N, P, ref32, c32);
    if (r64 == 0 || r32 == 0) failed = 1;
    if (r64 == 1 && !shown && vs[i].backend == DWCONV_BACKEND_CPU && vs[i].algo == DWCONV_ALGO_DIRECT) shown = 1;
  }
  if (shown) {
    /* c64 still holds the last float64 run; recompute the CPU direct one for display. */
    dwconv_desc d = dwconv_desc_make(M, N, P, DWCONV_FLOAT64);
    d.backend = DWCONV_BACKEND_CPU;
    d.algo = DWCONV_ALGO_DIRECT;
    dwconv_convolve(&d, a, N, b, P, c64, OL);
    printf("\nC (%d x %d, float64, cpu direct):\n", M, OL);
    for (int r = 0; r < M; r++) {
      for (int i = 0; i < OL; i++) printf("%s%8.4f", i ? " " : "", c64[r * OL + i]);
      printf("\n");
    }
  }
  if (large) {
    printf("\nthroughput, 256 x 16384 float32, P = 63, mode same (median of 5, plan reused):\n");
    variant lv[2] = {{"cpu auto", DWCONV_BACKEND_CPU, DWCONV_ALGO_AUTO},
                     {"cuda auto", DWCONV_BACKEND_CUDA, DWCONV_ALGO_AUTO}};
    for (int i = 0; i < (ndev > 0 ? 2 : 1); i++)
      if (run_large(&lv[i]) == 0) failed = 1;
  }
  printf("\n%s\n", failed ? "demo: FAIL" : "demo: PASS");
  return failed ? EXIT_RUNTIME : EXIT_OK;
}
