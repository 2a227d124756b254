/* libFuzzer target: calibration files (src/core/calibration.c) on arbitrary contents.
 *
 * A mutated file almost never survives the checksum, which would leave the checks behind it
 * unfuzzed. So the input is taken as a file body: a line "key @" gets this machine's key and
 * the correct checksum line is appended, then the text goes through the parser and, written
 * to a file, through the loader (DWCONV_CALIBRATION). Requires
 *   - never a crash, hang or sanitizer report;
 *   - a rejected file leaves the built-in constants and a reason; an accepted one is
 *     CALIBRATED;
 *   - whatever constants were loaded, AUTO plans (and a forced FFT plan, whose block length the
 *     constants choose) compute the right answer against a naive double convolution: hostile
 *     constants may make dwconv slow, never wrong.
 * Seeds: tests/fuzz/corpus_calibration (bodies as dwconv writes them, with "key @").
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calibration.h"

static char path[64];

static void remove_file(void) { unlink(path); }

/* Runs (rows 2, N 300, P, FULL, dt) with algo and checks it against the naive convolution. */
static void check_run(dwconv_dtype dt, size_t P, dwconv_algo algo) {
  enum { M = 2, N = 300, PMAX = 400 };
  static double a[M * N], b[M * PMAX];
  static int ready;
  if (!ready) {
    uint64_t s = 12345;
    for (int i = 0; i < M * N; i++) a[i] = (double)((s = s * 6364136223846793005ull + 1) >> 40) / (1 << 24) - 0.5;
    for (int i = 0; i < M * PMAX; i++) b[i] = (double)((s = s * 6364136223846793005ull + 1) >> 40) / (1 << 24) - 0.5;
    ready = 1;
  }
  const size_t out = N + P - 1;
  dwconv_desc d = dwconv_desc_make(M, N, P, dt);
  d.algo = algo;
  d.backend = DWCONV_BACKEND_CPU;
  d.threads = 1;
  static float af[M * N], bf[M * PMAX], cf[M * (N + PMAX)];
  static double cd[M * (N + PMAX)];
  for (int i = 0; i < M * N; i++) af[i] = (float)a[i];
  for (size_t i = 0; i < M * P; i++) bf[i] = (float)b[i];
  dwconv_status st = dt == DWCONV_FLOAT32 ? dwconv_convolve(&d, af, N, bf, (ptrdiff_t)P, cf, (ptrdiff_t)out)
                                          : dwconv_convolve(&d, a, N, b, (ptrdiff_t)P, cd, (ptrdiff_t)out);
  if (st != DWCONV_SUCCESS) {
    fprintf(stderr, "run after loading failed: %s\n", dwconv_last_error());
    abort();
  }
  double e2 = 0, r2 = 0;
  for (size_t m = 0; m < M; m++)
    for (size_t k = 0; k < out; k++) {
      double ref = 0;
      for (size_t j = 0; j < P; j++)
        if (k >= j && k - j < N) ref += a[m * N + k - j] * b[m * P + j];
      double got = dt == DWCONV_FLOAT32 ? cf[m * out + k] : cd[m * out + k];
      e2 += (got - ref) * (got - ref);
      r2 += ref * ref;
    }
  double err = sqrt(e2 / r2), tol = dt == DWCONV_FLOAT32 ? 1e-5 : 1e-12;
  if (!(err <= tol)) {
    fprintf(stderr, "result after loading: relative error %.3g > %g (P %zu, algo %d)\n", err, tol, P, (int)algo);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (path[0] == '\0') {
    snprintf(path, sizeof path, "/tmp/dwconv-fuzz-cal-%ld.txt", (long)getpid());
    atexit(remove_file);
    setenv("DWCONV_CALIBRATION", path, 1);
  }
  if (size > 70000) return 0;
  char key[256];
  dwconv__cal_machine_key(key, sizeof key);
  /* body with every "key @" expanded, then the checksum line */
  size_t keys = 0;
  for (size_t i = 4; i < size; i++) keys += data[i] == '@' && memcmp(data + i - 4, "key ", 4) == 0;
  char *text = malloc(size + keys * strlen(key) + 64);
  if (text == NULL) abort();
  size_t n = 0;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == '@' && i >= 4 && memcmp(data + i - 4, "key ", 4) == 0) {
      memcpy(text + n, key, strlen(key));
      n += strlen(key);
    } else {
      text[n++] = (char)data[i];
    }
  }
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
  n += (size_t)sprintf(text + n, "checksum %016llx\n", (unsigned long long)h);

  static dwconv_cal_file f;
  char why[256] = "";
  int ok = dwconv__cal_parse(text, n, &f, why, sizeof why);
  if (!ok && why[0] == '\0') {
    fprintf(stderr, "rejected without a reason\n");
    abort();
  }
  FILE *fp = fopen(path, "wb");
  if (fp == NULL || fwrite(text, 1, n, fp) != n || fclose(fp) != 0) abort();
  free(text);
  dwconv__cal_reset();
  dwconv_calibration_state s;
  if (dwconv_calibration_status(&s) != DWCONV_SUCCESS) abort();
  int used = ok && f.has_cpu && strcmp(f.key, key) == 0;
  if ((s.source == DWCONV_CONSTANTS_CALIBRATED) != used) {
    fprintf(stderr, "parser said %d (%s), loader says source %d (%s)\n", ok, why, (int)s.source, s.reason);
    abort();
  }
  if (!used && s.reason[0] == '\0') {
    fprintf(stderr, "file not used, no reason given\n");
    abort();
  }
  /* Runs only when the file's constants are in use: a rejected file leaves the built-in
   * constants, which every other test covers. */
  for (int dt = 0; dt < 2 && used; dt++) {
    check_run((dwconv_dtype)dt, 40, DWCONV_ALGO_AUTO);
    check_run((dwconv_dtype)dt, 400, DWCONV_ALGO_FFT);
  }
  return 0;
}
