/* bench_auto -- how close ALGO_AUTO comes to the better of forced DIRECT and forced FFT.
 *
 *   bench_auto [--rows M] [--signal N] [--dtype f32|f64] [--mode same|full|valid|causal]
 *              [--threads T] [--repeat R] [--kernels P1,P2,...]
 *
 * For each kernel length P of the grid (default: 24 values from 3 to 8191) three CPU plans
 * are made (ALGO_AUTO, ALGO_DIRECT, ALGO_FFT), each given the same kernel once; then R rounds
 * time one dwconv_plan_execute of each, in an order that rotates every round, so a disturbance
 * from another process falls on all three alike. Reported: the median of each (min-max spread
 * in the log), AUTO's choice (algorithm and block length), auto / min(direct, fft), and
 * auto / min over larger P of AUTO's time (the "a longer kernel is never faster" check, from a
 * second pass that times the AUTO plans of all P interleaved, R rounds); the
 * same two ratios from the fastest run of each (less sensitive to other processes: on a
 * shared machine the medians of AUTO and of the forced run of the very same plan can differ
 * by more than the 10% being checked); and the same two ratios paired: within each round the
 * ratio of AUTO's run to the forced plan's run (or to AUTO's run at the larger P) beside it in
 * time, median over the rounds (a slow spell of the machine longer than a round cancels).
 * When after the first round one forced algorithm is over 4x the other, it is not timed again
 * (it cannot be the minimum; its "median" is then that one run; this keeps P = 8191 direct,
 * seconds a call, from dominating the run time).
 * Last lines: the worst ratios and where the cost model's constants came from
 * (dwconv_plan_info.constants_source / dwconv_calibration_status).
 * Exit status: 0 ok (whatever the ratios), 1 a dwconv call failed, 2 bad usage. */
#define _POSIX_C_SOURCE 200809L
#include <dwconv.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_GRID 64
#define MAX_REPEAT 64

static const size_t default_grid[] = {3,   5,   7,   11,   15,   23,   31,   47,   63,   95,   127,  159,
                                      191, 255, 383, 511,  767,  1023, 1535, 2047, 3071, 4095, 6143, 8191};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void fill(void *p, size_t n, dwconv_dtype t, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    double v = (double)(seed >> 11) / 9007199254740992.0 - 0.5;
    if (t == DWCONV_FLOAT64)
      ((double *)p)[i] = v;
    else
      ((float *)p)[i] = (float)v;
  }
}

static void die(const char *what) {
  fprintf(stderr, "bench_auto: %s: %s\n", what, dwconv_last_error());
  exit(1);
}

int main(int argc, char **argv) {
  size_t M = 256, N = 16384, grid[MAX_GRID], ng = sizeof default_grid / sizeof default_grid[0];
  memcpy(grid, default_grid, sizeof default_grid);
  dwconv_dtype dtype = DWCONV_FLOAT32;
  dwconv_mode mode = DWCONV_MODE_SAME;
  int threads = 0, repeat = 7;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) goto usage;
    if (strcmp(a, "--rows") == 0) M = strtoul(v, NULL, 10);
    else if (strcmp(a, "--signal") == 0) N = strtoul(v, NULL, 10);
    else if (strcmp(a, "--threads") == 0) threads = atoi(v);
    else if (strcmp(a, "--repeat") == 0) repeat = atoi(v);
    else if (strcmp(a, "--dtype") == 0 && (strcmp(v, "f32") == 0 || strcmp(v, "f64") == 0))
      dtype = strcmp(v, "f64") == 0 ? DWCONV_FLOAT64 : DWCONV_FLOAT32;
    else if (strcmp(a, "--mode") == 0) {
      static const char *names[] = {"full", "same", "valid", "causal"};
      int k = 0;
      while (k < 4 && strcmp(v, names[k]) != 0) k++;
      if (k == 4) goto usage;
      mode = (dwconv_mode)k;
    } else if (strcmp(a, "--kernels") == 0) {
      ng = 0;
      for (char *s = (char *)v; *s && ng < MAX_GRID;) {
        grid[ng++] = strtoul(s, &s, 10);
        if (*s == ',') s++;
        else if (*s) goto usage;
      }
    } else
      goto usage;
    i++;
  }
  if (M == 0 || N == 0 || repeat < 3 || repeat > MAX_REPEAT || ng == 0) goto usage;

  const size_t es = dtype == DWCONV_FLOAT64 ? 8 : 4;
  size_t pmax = 0;
  for (size_t g = 0; g < ng; g++) pmax = grid[g] > pmax ? grid[g] : pmax;
  size_t outmax = N + pmax - 1;
  void *A = malloc(M * N * es), *B = malloc(M * pmax * es), *C = malloc(M * outmax * es);
  if (!A || !B || !C) {
    fprintf(stderr, "bench_auto: out of memory\n");
    return 1;
  }
  fill(A, M * N, dtype, 1);
  fill(B, M * pmax, dtype, 2);

  static const char *algo_name[] = {"auto", "direct", "fft"};
  double med[MAX_GRID][3], lo[MAX_GRID][3], hi[MAX_GRID][3];
  double mono_med[MAX_GRID], mono_lo[MAX_GRID];
  double pair_best[MAX_GRID], pair_mono[MAX_GRID]; /* medians of per-round ratios */
  dwconv_plan *auto_plan[MAX_GRID];
  size_t auto_L[MAX_GRID];
  dwconv_algo auto_algo[MAX_GRID];
  dwconv_constants_source src = DWCONV_CONSTANTS_BUILTIN;
  printf("# rows %zu, signal %zu, %s, mode %d, repeat %d, simd %s\n", M, N,
         dtype == DWCONV_FLOAT64 ? "f64" : "f32", (int)mode, repeat, dwconv_cpu_simd());
  printf("| P | direct ms | fft ms | auto ms | auto picks | auto / best | auto ms, interleaved over P "
         "| auto / auto(larger P) | min: auto / best | min: auto / auto(larger P) "
         "| paired: auto / best | paired: auto / auto(larger P) |\n");
  printf("|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|\n");
  for (size_t g = 0; g < ng; g++) {
    size_t P = grid[g];
    dwconv_plan *plan[3];
    for (int k = 0; k < 3; k++) {
      dwconv_desc d = dwconv_desc_make(M, N, P, dtype);
      d.mode = mode;
      d.backend = DWCONV_BACKEND_CPU;
      d.algo = (dwconv_algo)k;
      d.threads = threads;
      if (dwconv_plan_create(&plan[k], &d) != DWCONV_SUCCESS) die("plan_create");
      if (dwconv_plan_set_kernel(plan[k], B, (ptrdiff_t)P) != DWCONV_SUCCESS) die("set_kernel");
    }
    dwconv_plan_info info;
    dwconv_plan_get_info(plan[0], &info);
    auto_algo[g] = info.algo;
    auto_L[g] = info.block_len;
    src = info.constants_source;
    size_t ldc = dwconv_output_len(mode, N, P);
    double t[3][MAX_REPEAT];
    int n[3] = {0, 0, 0}, skip[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) /* warm-up: first-touch of buffers, FFTW plans, caches */
      if (dwconv_plan_execute(plan[k], A, (ptrdiff_t)N, C, (ptrdiff_t)ldc) != DWCONV_SUCCESS) die("execute");
    for (int r = 0; r < repeat; r++) {
      for (int j = 0; j < 3; j++) {
        int k = (j + r) % 3;
        if (skip[k]) continue;
        double t0 = now();
        if (dwconv_plan_execute(plan[k], A, (ptrdiff_t)N, C, (ptrdiff_t)ldc) != DWCONV_SUCCESS) die("execute");
        t[k][n[k]++] = (now() - t0) * 1e3;
      }
      if (r == 0) {
        double d = median(t[1], n[1]), f = median(t[2], n[2]);
        if (d > 4 * f) skip[1] = 1;
        if (f > 4 * d) skip[2] = 1;
      }
    }
    /* Paired: the ratio of AUTO to each forced plan within one round (runs next to each other
     * in time), median over rounds; against the better forced plan. A slow spell of the
     * machine longer than a round then cancels, where the medians of separate plans can land
     * on different sides of a two-speed machine (seen: the very same configuration 1.19x). */
    pair_best[g] = 0; /* auto / min(direct, fft) = max(auto / direct, auto / fft) */
    for (int k = 1; k < 3; k++)
      if (n[k] == n[0]) {
        double q[MAX_REPEAT];
        for (int r = 0; r < n[0]; r++) q[r] = t[0][r] / t[k][r];
        double m = median(q, n[0]);
        if (m > pair_best[g]) pair_best[g] = m;
      }
    for (int k = 0; k < 3; k++) {
      med[g][k] = median(t[k], n[k]); /* sorts t[k] */
      lo[g][k] = t[k][0];
      hi[g][k] = t[k][n[k] - 1];
      if (k > 0) dwconv_plan_destroy(plan[k]);
    }
    auto_plan[g] = plan[0];
    fprintf(stderr, "P %zu:", P);
    for (int k = 0; k < 3; k++)
      fprintf(stderr, " %s %.3f [%.3f-%.3f] n=%d", algo_name[k], med[g][k], lo[g][k], hi[g][k], n[k]);
    fprintf(stderr, "\n");
  }
  /* The monotonicity check compares AUTO's times at different P. Timed in the loop above they
   * were minutes apart, and this machine's speed drifts by more than the 10% being checked
   * over minutes; so the AUTO plans of every P are timed again here, interleaved: each round
   * runs every P once (starting point rotating), and the ratios come from these medians. */
  {
    static double tm[MAX_GRID][MAX_REPEAT];
    for (int r = 0; r < repeat; r++)
      for (size_t j = 0; j < ng; j++) {
        size_t g = (j + (size_t)r) % ng, P = grid[g];
        size_t ldc = dwconv_output_len(mode, N, P);
        double t0 = now();
        if (dwconv_plan_execute(auto_plan[g], A, (ptrdiff_t)N, C, (ptrdiff_t)ldc) != DWCONV_SUCCESS) die("execute");
        tm[g][r] = (now() - t0) * 1e3;
      }
    for (size_t g = 0; g < ng; g++) { /* paired, as above: same round, then the median */
      pair_mono[g] = 0;
      for (size_t h = 0; h < ng; h++)
        if (grid[h] > grid[g]) {
          double q[MAX_REPEAT];
          for (int r = 0; r < repeat; r++) q[r] = tm[g][r] / tm[h][r];
          double m = median(q, repeat);
          if (m > pair_mono[g]) pair_mono[g] = m;
        }
    }
    for (size_t g = 0; g < ng; g++) {
      mono_med[g] = median(tm[g], repeat);
      mono_lo[g] = tm[g][0];
      fprintf(stderr, "P %zu: auto interleaved over P %.3f [%.3f-%.3f] n=%d\n", grid[g], mono_med[g], tm[g][0],
              tm[g][repeat - 1], repeat);
      dwconv_plan_destroy(auto_plan[g]);
    }
  }
  double worst_best = 0, worst_mono = 0, worst_best_min = 0, worst_mono_min = 0, worst_best_pair = 0,
         worst_mono_pair = 0;
  size_t at_best = 0, at_mono = 0, at_best_min = 0, at_mono_min = 0, at_best_pair = 0, at_mono_pair = 0;
  for (size_t g = 0; g < ng; g++) {
    double best = med[g][1] < med[g][2] ? med[g][1] : med[g][2];
    double best_min = lo[g][1] < lo[g][2] ? lo[g][1] : lo[g][2];
    double rb = med[g][0] / best, rm = 0, rb_min = lo[g][0] / best_min, rm_min = 0;
    for (size_t h = 0; h < ng; h++)
      if (grid[h] > grid[g]) {
        if (mono_med[g] / mono_med[h] > rm) rm = mono_med[g] / mono_med[h];
        if (mono_lo[g] / mono_lo[h] > rm_min) rm_min = mono_lo[g] / mono_lo[h];
      }
    if (rb > worst_best) worst_best = rb, at_best = grid[g];
    if (rm > worst_mono) worst_mono = rm, at_mono = grid[g];
    if (rb_min > worst_best_min) worst_best_min = rb_min, at_best_min = grid[g];
    if (rm_min > worst_mono_min) worst_mono_min = rm_min, at_mono_min = grid[g];
    if (pair_best[g] > worst_best_pair) worst_best_pair = pair_best[g], at_best_pair = grid[g];
    if (pair_mono[g] > worst_mono_pair) worst_mono_pair = pair_mono[g], at_mono_pair = grid[g];
    char pick[64];
    if (auto_algo[g] == DWCONV_ALGO_FFT)
      snprintf(pick, sizeof pick, "fft L=%zu", auto_L[g]);
    else
      snprintf(pick, sizeof pick, "direct");
    char rms[32], rms_min[32];
    if (rm > 0) snprintf(rms, sizeof rms, "%.2f", rm);
    else snprintf(rms, sizeof rms, "-");
    if (rm_min > 0) snprintf(rms_min, sizeof rms_min, "%.2f", rm_min);
    else snprintf(rms_min, sizeof rms_min, "-");
    char pbs[32], pms[32];
    if (pair_best[g] > 0) snprintf(pbs, sizeof pbs, "%.2f", pair_best[g]);
    else snprintf(pbs, sizeof pbs, "-");
    if (pair_mono[g] > 0) snprintf(pms, sizeof pms, "%.2f", pair_mono[g]);
    else snprintf(pms, sizeof pms, "-");
    printf("| %zu | %.3f | %.3f | %.3f | %s | %.2f | %.3f | %s | %.2f | %s | %s | %s |\n", grid[g], med[g][1],
           med[g][2], med[g][0], pick, rb, mono_med[g], rms, rb_min, rms_min, pbs, pms);
  }
  dwconv_calibration_state cs;
  dwconv_calibration_status(&cs);
  printf("# medians: worst auto / best %.3f at P = %zu; worst auto / auto(larger P) %.3f at P = %zu\n", worst_best,
         at_best, worst_mono, at_mono);
  printf("# fastest runs: worst auto / best %.3f at P = %zu; worst auto / auto(larger P) %.3f at P = %zu\n",
         worst_best_min, at_best_min, worst_mono_min, at_mono_min);
  printf("# paired (median of per-round ratios): worst auto / best %.3f at P = %zu; worst auto / auto(larger P) "
         "%.3f at P = %zu\n",
         worst_best_pair, at_best_pair, worst_mono_pair, at_mono_pair);
  printf("# constants: %s (%s)\n", src == DWCONV_CONSTANTS_CALIBRATED ? "calibrated file" : "built-in",
         cs.path[0] ? cs.path : "no file");
  if (cs.reason[0]) printf("# calibration file not used: %s\n", cs.reason);
  free(A);
  free(B);
  free(C);
  return 0;
usage:
  fprintf(stderr,
          "usage: bench_auto [--rows M] [--signal N] [--dtype f32|f64] [--mode same|full|valid|causal]\n"
          "                  [--threads T] [--repeat R (3..%d)] [--kernels P1,P2,...]\n",
          MAX_REPEAT);
  return 2;
}
