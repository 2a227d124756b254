/* Measures the FFTW_ESTIMATE transform times the CPU cost model uses (src/core/cpu_fft_table.h):
 * for each candidate overlap-save length L = 2^a * {1, 3, 5} from 16 to 2^20, the time of one
 * real pair (r2c + c2r) and one complex pair (forward + backward), float and double, one
 * thread, minimum over repeats (robust to a busy machine). Prints the table as C source.
 * Build and run: cc -O2 bench/calibrate_fft.c -lfftw3f -lfftw3 -lm -o calibrate_fft && ./calibrate_fft */
#define _POSIX_C_SOURCE 200809L
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Minimum seconds per call of fn over `rounds` rounds of `reps` calls. */
#define TIME_MIN(out, reps, body)                            \
  do {                                                       \
    double best_ = 1e30;                                     \
    for (int round_ = 0; round_ < 7; round_++) {             \
      double t0_ = now();                                    \
      for (int r_ = 0; r_ < (reps); r_++) { body; }          \
      double dt_ = (now() - t0_) / (reps);                   \
      if (dt_ < best_) best_ = dt_;                          \
    }                                                        \
    (out) = best_;                                           \
  } while (0)

int main(void) {
  printf("/* L, f32 real pair ns, f32 complex pair ns, f64 real pair ns, f64 complex pair ns */\n");
  for (long L = 16; L <= (1L << 20); L *= 2) {
    for (int m = 1; m <= 5; m += 2) {
      if (m == 3 && L * 3 / 2 > (1L << 20)) continue;
      long n = m == 1 ? L : m == 3 ? L * 3 / 2 : L * 5 / 4;
      if (n % 2 || (m != 1 && L < 32)) continue;
      int reps = (int)(4000000 / n) + 1;
      double t[4];
      float *fr = fftwf_malloc(sizeof(float) * 2 * n);
      fftwf_complex *fa = fftwf_malloc(sizeof(fftwf_complex) * n), *fb = fftwf_malloc(sizeof(fftwf_complex) * n);
      double *dr = fftw_malloc(sizeof(double) * 2 * n);
      fftw_complex *da = fftw_malloc(sizeof(fftw_complex) * n), *db = fftw_malloc(sizeof(fftw_complex) * n);
      for (long i = 0; i < n; i++) { fr[i] = 1; dr[i] = 1; fa[i][0] = da[i][0] = 1; fa[i][1] = da[i][1] = 0; }
      fftwf_plan p1 = fftwf_plan_dft_r2c_1d((int)n, fr, fb, FFTW_ESTIMATE), p2 = fftwf_plan_dft_c2r_1d((int)n, fb, fr, FFTW_ESTIMATE);
      fftwf_plan p3 = fftwf_plan_dft_1d((int)n, fa, fb, FFTW_FORWARD, FFTW_ESTIMATE), p4 = fftwf_plan_dft_1d((int)n, fa, fb, FFTW_BACKWARD, FFTW_ESTIMATE);
      fftw_plan q1 = fftw_plan_dft_r2c_1d((int)n, dr, db, FFTW_ESTIMATE), q2 = fftw_plan_dft_c2r_1d((int)n, db, dr, FFTW_ESTIMATE);
      fftw_plan q3 = fftw_plan_dft_1d((int)n, da, db, FFTW_FORWARD, FFTW_ESTIMATE), q4 = fftw_plan_dft_1d((int)n, da, db, FFTW_BACKWARD, FFTW_ESTIMATE);
      TIME_MIN(t[0], reps, { fftwf_execute(p1); fftwf_execute(p2); });
      TIME_MIN(t[1], reps, { fftwf_execute(p3); fftwf_execute(p4); });
      TIME_MIN(t[2], reps, { fftw_execute(q1); fftw_execute(q2); });
      TIME_MIN(t[3], reps, { fftw_execute(q3); fftw_execute(q4); });
      printf("    {%ld, %.0f, %.0f, %.0f, %.0f},\n", n, t[0] * 1e9, t[1] * 1e9, t[2] * 1e9, t[3] * 1e9);
      fflush(stdout);
      fftwf_destroy_plan(p1); fftwf_destroy_plan(p2); fftwf_destroy_plan(p3); fftwf_destroy_plan(p4);
      fftw_destroy_plan(q1); fftw_destroy_plan(q2); fftw_destroy_plan(q3); fftw_destroy_plan(q4);
      fftwf_free(fr); fftwf_free(fa); fftwf_free(fb); fftw_free(dr); fftw_free(da); fftw_free(db);
    }
  }
  return 0;
}
