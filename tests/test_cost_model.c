/*
 * test_cost_model: the CPU cost model itself (dwconv__cpu_predict), no timing. On dense grids
 * of kernel lengths P (every P up to 600, then steps of about 1% up to 3 N) the predicted best
 * time never decreases as P grows (a longer kernel is never predicted faster), in modes full,
 * same and causal, both dtypes, several N and thread counts, for: the built-in constants and
 * noisy constant sets (each FFT entry scaled by
 * a random factor in [0.5, 2], as a disturbed calibration could produce, then cleaned as the
 * loader does, half of them with the factors a calibration file's constants get on several
 * threads). Every chosen block length is one whose cost is measured or lies past the
 * longest measured one (where it is bounded by scaling), is even and > P, and fits FFTW's int.
 * The two-thread factors move the direct/FFT crossover up for calibrated constants only.
 * The block-length tie rule on hand-made figures.
 * Also: pruning keeps pair >= single and leaves no length that a longer one beats outright.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibration.h"
#include "test_common.h"

/* Checks monotonicity and block lengths of constants k over the grid; counts failures
 * (quiet: only counts them, for a check that is expected to fail). */
static void check_model(const dwconv_cal_cpu *k, const char *what, tc_failures *fails, int quiet) {
  const size_t ns[] = {1000, 16384, 32768};
  const dwconv_mode modes[] = {DWCONV_MODE_FULL, DWCONV_MODE_SAME, DWCONV_MODE_CAUSAL};
  const int threads[] = {1, 2, 7};
  for (int d = 0; d < 2; d++)
    for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
      for (size_t im = 0; im < 3; im++)
        for (size_t it = 0; it < 3; it++) {
          const size_t N = ns[in];
          double prev = 0;
          size_t prev_p = 0;
          for (size_t P = 1; P <= 3 * N; P = P < 600 ? P + 1 : P + P / 100) {
            dwconv_geometry g;
            ck_assert_int_eq(dwconv__geometry_init(&g, modes[im], 256, N, P), DWCONV_SUCCESS);
            dwconv_algo algo;
            size_t L;
            double t = dwconv__cpu_predict(k, &g, d ? DWCONV_FLOAT64 : DWCONV_FLOAT32, threads[it], 1, &algo, &L);
            if (quiet) {
              fails->count += t < prev * (1 - 1e-12);
              prev = t;
              continue;
            }
            if (!(t > 0) || !isfinite(t))
              tc_fail(fails, "%s: f%d N %zu mode %d P %zu: predicted %g", what, d ? 64 : 32, N, (int)modes[im], P, t);
            if (t < prev * (1 - 1e-12))
              tc_fail(fails, "%s: f%d N %zu mode %s threads %d: predicted %.6g at P %zu < %.6g at P %zu", what,
                      d ? 64 : 32, N, tc_mode_name(modes[im]), threads[it], t, P, prev, prev_p);
            prev = t;
            prev_p = P;
            if (L != 0) {
              const dwconv_cal_cpu_dtype *c = &k->dt[d];
              int measured = 0;
              for (size_t i = 0; i < c->nlens; i++) measured |= c->lens[i].L == (double)L;
              int beyond = c->nlens > 0 && (double)L > c->lens[c->nlens - 1].L;
              if (!(measured || beyond) || L % 2 || L <= P || L > (size_t)INT_MAX)
                tc_fail(fails, "%s: P %zu N %zu: block length %zu neither measured nor bounded", what, P, N, L);
            }
          }
        }
}

/* The same constants with every FFT figure scaled by a random factor in [0.5, 2] (and the
 * direct ones by [0.7, 1.4]), then cleaned as the loader cleans a file. */
static void noisy(const dwconv_cal_cpu *base, dwconv_cal_cpu *out, tc_rng *r) {
  *out = *base;
  for (int d = 0; d < 2; d++) {
    dwconv_cal_cpu_dtype *c = &out->dt[d];
    c->t_mac *= 0.7 + 0.7 * tc_rng_uniform(r);
    c->t_out *= 0.7 + 0.7 * tc_rng_uniform(r);
    for (size_t i = 0; i < c->nlens; i++) {
      c->lens[i].pair *= exp2(2 * tc_rng_uniform(r) - 1);
      c->lens[i].single *= exp2(2 * tc_rng_uniform(r) - 1);
    }
    dwconv__cal_prune(c);
  }
}

START_TEST(test_monotone_builtin) {
  tc_failures fails = {0};
  dwconv_cal_cpu k;
  dwconv__cal_builtin_cpu(&k);
  check_model(&k, "built-in", &fails, 0);
  ck_assert_msg(fails.count == 0, "%ld failures; first: %s", fails.count, fails.first);
}
END_TEST

START_TEST(test_monotone_noisy) {
  tc_failures fails = {0};
  tc_rng r;
  tc_rng_seed(&r, 14);
  dwconv_cal_cpu base, k;
  dwconv__cal_builtin_cpu(&base);
  for (int trial = 0; trial < 12 && fails.count == 0; trial++) {
    noisy(&base, &k, &r);
    if (trial % 2) dwconv__cal_team_factors(&k); /* as a calibration file's constants get */
    char what[32];
    snprintf(what, sizeof what, "noisy set %d", trial);
    check_model(&k, what, &fails, 0);
  }
  ck_assert_msg(fails.count == 0, "%ld failures; first: %s", fails.count, fails.first);
}
END_TEST

/* The first P (in steps of 1) from which the model picks FFT for N = 32768, mode same. */
static size_t crossover(const dwconv_cal_cpu *k, int f64, int threads) {
  for (size_t P = 2; P < 4096; P++) {
    dwconv_geometry g;
    ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_SAME, 128, 32768, P), DWCONV_SUCCESS);
    dwconv_algo algo;
    size_t L;
    (void)dwconv__cpu_predict(k, &g, f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32, threads, 1, &algo, &L);
    if (algo == DWCONV_ALGO_FFT) return P;
  }
  return 0;
}

/* Constants measured on one thread (a calibration file's) move the direct/FFT crossover up
 * on two threads, more for float64; built-in ones (fitted at two threads) do not move. */
START_TEST(test_team_factors) {
  dwconv_cal_cpu k;
  dwconv__cal_builtin_cpu(&k);
  if (k.dt[0].nlens == 0 || k.dt[1].nlens == 0) { /* built without FFTW: no FFT costs, direct always */
    dwconv__cal_team_factors(&k);
    for (int d = 0; d < 2; d++) ck_assert_uint_eq(crossover(&k, d, 2), 0);
    return;
  }
  for (int d = 0; d < 2; d++) ck_assert_uint_eq(crossover(&k, d, 2), crossover(&k, d, 1));
  dwconv__cal_team_factors(&k);
  ck_assert(k.fft_team[0] >= 1 && k.fft_team[1] > k.fft_team[0]);
  for (int d = 0; d < 2; d++) {
    size_t one = crossover(&k, d, 1), two = crossover(&k, d, 2);
    ck_assert_msg(one > 0 && two > one, "f%d: crossover %zu on one thread, %zu on two", d ? 64 : 32, one, two);
    ck_assert_uint_eq(crossover(&k, d, 7), two);
  }
}
END_TEST

/* Without the cleaning, the noisy sets do break monotonicity: the check above can fail. */
START_TEST(test_unpruned_can_fail) {
  tc_rng r;
  tc_rng_seed(&r, 14);
  dwconv_cal_cpu base, k;
  dwconv__cal_builtin_cpu(&base);
  if (base.dt[0].nlens == 0) return; /* no FFT in this build: nothing to choose */
  int broken = 0;
  for (int trial = 0; trial < 12 && !broken; trial++) {
    k = base;
    for (int d = 0; d < 2; d++)
      for (size_t i = 0; i < k.dt[d].nlens; i++) {
        k.dt[d].lens[i].pair *= exp2(4 * tc_rng_uniform(&r) - 2);
        k.dt[d].lens[i].single *= exp2(4 * tc_rng_uniform(&r) - 2);
      }
    tc_failures fails = {0};
    check_model(&k, "unpruned", &fails, 1);
    broken = fails.count > 0;
  }
  ck_assert_msg(broken, "unpruned noisy constants never broke monotonicity: the check is too weak");
}
END_TEST

START_TEST(test_prune) {
  dwconv_cal_cpu_dtype c;
  memset(&c, 0, sizeof c);
  const double v[][3] = {{16, 100, 150}, {32, 90, 80}, {64, 300, 200}, {128, 250, 190}, {256, 900, 500}};
  for (size_t i = 0; i < 5; i++) c.lens[c.nlens++] = (dwconv_cal_fft_len){v[i][0], v[i][1], v[i][2]};
  dwconv__cal_prune(&c);
  /* 16 (pair raised to 150) is beaten by 32 on both; 64 by 128; 32, 128, 256 stay. */
  ck_assert_uint_eq(c.nlens, 3);
  ck_assert(c.lens[0].L == 32 && c.lens[1].L == 128 && c.lens[2].L == 256);
  for (size_t i = 0; i < c.nlens; i++) ck_assert(c.lens[i].pair >= c.lens[i].single);
}
END_TEST

/* The block-length tie rule on hand-made figures (N = 16384, mode same, P = 255: L = 512 / 1024 /
 * 2048 / 4096 take 64 / 22 / 10 / 5 blocks a row): among lengths of at most 2048 points the
 * longest within 10% of the cheapest is taken, never a longer one through the tie; a cheapest
 * length past 2048 is taken as it is; the predicted time is the cheapest length's. */
static size_t tie_pick(double row1024, double row2048, double row4096, double *t) {
  dwconv_cal_cpu k;
  memset(&k, 0, sizeof k);
  size_t L = 0;
  for (int d = 0; d < 2; d++) {
    dwconv_cal_cpu_dtype *c = &k.dt[d];
    c->t_mac = 1.0; /* direct far dearer than any FFT length */
    const double pair[4] = {2000.0 / 32, row1024 / 11, row2048 / 5, row4096 / 2.7};
    const double len[4] = {512, 1024, 2048, 4096};
    for (int i = 0; i < 4; i++) c->lens[c->nlens++] = (dwconv_cal_fft_len){len[i], pair[i], 0.7 * pair[i]};
    dwconv__cal_prune(c);
    ck_assert_uint_eq(c->nlens, 4);
    dwconv_geometry g;
    ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_SAME, 1, 16384, 255), DWCONV_SUCCESS);
    dwconv_algo algo;
    size_t Ld;
    *t = dwconv__cpu_predict(&k, &g, d ? DWCONV_FLOAT64 : DWCONV_FLOAT32, 1, 1, &algo, &Ld);
    ck_assert_int_eq(algo, DWCONV_ALGO_FFT);
    if (d) ck_assert_uint_eq(Ld, L); /* the same rule for both dtypes */
    L = Ld;
  }
  return L;
}

START_TEST(test_block_tie) {
  double t;
  ck_assert_uint_eq(tie_pick(1000, 1080, 1030, &t), 2048); /* 8% dearer: a tie; 4096 too long */
  ck_assert(fabs(t - 1000) < 1e-6);                         /* the cheapest length's time */
  ck_assert_uint_eq(tie_pick(1000, 1120, 1300, &t), 1024); /* 12% dearer: not a tie */
  ck_assert(fabs(t - 1000) < 1e-6);
  ck_assert_uint_eq(tie_pick(1000, 1050, 950, &t), 4096);  /* cheapest past 2048: taken as is */
  ck_assert(fabs(t - 950) < 1e-6);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("cost_model");
  TCase *tc = tcase_create("cost_model");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_prune);
  tcase_add_test(tc, test_monotone_builtin);
  tcase_add_test(tc, test_monotone_noisy);
  tcase_add_test(tc, test_team_factors);
  tcase_add_test(tc, test_block_tie);
  tcase_add_test(tc, test_unpruned_can_fail);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_cost_model", make_suite); }
