/* libFuzzer target: dwconv_fft_wisdom_import on arbitrary file contents.
 *
 * FFTW's own wisdom importer abort()s the process on some malformed entries (flag fields
 * wider than its bit-fields), so dwconv checks every entry before FFTW sees it
 * (src/cpu/fft_wisdom.c). This target feeds mutated wisdom files (seeds: real exports in
 * tests/fuzz/corpus_wisdom) to the import and requires
 *   - a status from the documented set (SUCCESS, INVALID_VALUE, OUT_OF_MEMORY), never a crash
 *     or abort;
 *   - after any import, an FFT plan of the seeds' lengths still computes the right answer
 *     (relative error against a naive double convolution), so wisdom that FFTW accepts can
 *     never make dwconv wrong.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwconv.h"

static char path[64];

static void remove_file(void) { unlink(path); }

/* Rows 2, N 300, P 40, FULL, float32 and float64 through the FFT path: its block length is one
 * of the lengths the seed files were tuned for (made with bench_dwconv --rows 2 --signal 300
 * --kernel 40 --mode full --algo fft --fft-wisdom FILE, f32 then f64). */
static void check_fft(dwconv_dtype dt) {
  enum { M = 2, N = 300, P = 40, OUT = N + P - 1 };
  static double a[M * N], b[M * P];
  static int ready;
  if (!ready) {
    uint64_t s = 12345;
    for (int i = 0; i < M * N; i++) a[i] = (double)((s = s * 6364136223846793005ull + 1) >> 40) / (1 << 24) - 0.5;
    for (int i = 0; i < M * P; i++) b[i] = (double)((s = s * 6364136223846793005ull + 1) >> 40) / (1 << 24) - 0.5;
    ready = 1;
  }
  dwconv_desc d = dwconv_desc_make(M, N, P, dt);
  d.algo = DWCONV_ALGO_FFT;
  d.backend = DWCONV_BACKEND_CPU;
  d.threads = 1;
  float af[M * N], bf[M * P], cf[M * OUT];
  double cd[M * OUT];
  for (int i = 0; i < M * N; i++) af[i] = (float)a[i];
  for (int i = 0; i < M * P; i++) bf[i] = (float)b[i];
  dwconv_status st = dt == DWCONV_FLOAT32 ? dwconv_convolve(&d, af, N, bf, P, cf, OUT)
                                          : dwconv_convolve(&d, a, N, b, P, cd, OUT);
  if (st != DWCONV_SUCCESS) {
    fprintf(stderr, "FFT run after import failed: %s\n", dwconv_last_error());
    abort();
  }
  double e2 = 0, r2 = 0;
  for (int m = 0; m < M; m++)
    for (int k = 0; k < OUT; k++) {
      double ref = 0;
      for (int j = 0; j < P; j++)
        if (k - j >= 0 && k - j < N) ref += a[m * N + k - j] * b[m * P + j];
      double got = dt == DWCONV_FLOAT32 ? cf[m * OUT + k] : cd[m * OUT + k];
      e2 += (got - ref) * (got - ref);
      r2 += ref * ref;
    }
  double err = sqrt(e2 / r2), tol = dt == DWCONV_FLOAT32 ? 1e-5 : 1e-12;
  if (!(err <= tol)) {
    fprintf(stderr, "FFT result after import: relative error %.3g > %g\n", err, tol);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (path[0] == '\0') { /* one scratch file per process, removed at exit */
    snprintf(path, sizeof path, "/tmp/dwconv-fuzz-wisdom-%ld.wis", (long)getpid());
    atexit(remove_file);
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL) abort();
  if (size > 0 && fwrite(data, 1, size, f) != size) abort();
  if (fclose(f) != 0) abort();
  dwconv_status st = dwconv_fft_wisdom_import(path);
  if (st != DWCONV_SUCCESS && st != DWCONV_ERROR_INVALID_VALUE && st != DWCONV_ERROR_OUT_OF_MEMORY) {
    fprintf(stderr, "import returned %d (%s): %s\n", (int)st, dwconv_status_string(st), dwconv_last_error());
    abort();
  }
  if (st != DWCONV_SUCCESS && dwconv_last_error()[0] == '\0') {
    fprintf(stderr, "import failed without a message\n");
    abort();
  }
  if (st == DWCONV_SUCCESS) { /* plans now come from the new wisdom: still right? */
    check_fft(DWCONV_FLOAT32);
    check_fft(DWCONV_FLOAT64);
  }
  return 0;
}
