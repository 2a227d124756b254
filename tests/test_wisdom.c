/*
 * test_wisdom: FFT plan tuning and wisdom files (dwconv_fft_tune, dwconv_fft_wisdom_export,
 * dwconv_fft_wisdom_import): every error status exactly; tuned plans stay within the error
 * bounds against the long-double reference; a plan made before tuning keeps working; an
 * exported file imports back and reproduces the tuned results bitwise; export replaces the
 * file whole and leaves no temporary behind; injected FFTW-plan and allocation failures in
 * tuning give OUT_OF_MEMORY and leave the library working. Builds without FFTW: every call
 * returns NOT_SUPPORTED. CPU only (links dwconv_static for the fault-injection hook).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "test_common.h"

#define EXPECT(call, want, needle)                                                                  \
  do {                                                                                              \
    dwconv_status st_ = (call);                                                                     \
    ck_assert_msg(st_ == (want), "%s returned %d (%s), want %d; last_error: %s", #call, (int)st_,    \
                  dwconv_status_string(st_), (int)(want), dwconv_last_error());                     \
    if ((want) != DWCONV_SUCCESS)                                                                   \
      ck_assert_msg(tc_contains_ci(dwconv_last_error(), (needle)),                                  \
                    "%s: last_error \"%s\" does not mention \"%s\"", #call, dwconv_last_error(),    \
                    (needle));                                                                      \
  } while (0)

/* A problem whose FFT plan uses a short transform (tuning it takes well under a second). */
static dwconv_desc fft_desc(dwconv_dtype dt) {
  return tc_desc(5, 3000, 200, dt, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT);
}

#if DWCONV_TEST_HAVE_FFTW

/* A fresh directory for this test's files (removed with its contents by rm_dir). */
static void make_dir(char *dir, size_t len) {
  snprintf(dir, len, "/tmp/dwconv-test-wisdom-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Number of entries in dir other than . and .., and removes them and dir when `remove`. */
static int dir_entries(const char *dir, int remove) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    n++;
    if (remove) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  }
  closedir(d);
  if (remove) rmdir(dir);
  return n;
}

static void write_file(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(text, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* Whole file into a malloc'd buffer; *len its size. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  ck_assert_int_ge(n, 0);
  rewind(f);
  char *buf = (char *)malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* Runs d on A/B into C (through plan, or a one-off plan when plan is NULL) and returns the
 * largest per-row relative error against the reference. */
static double run_err(const dwconv_desc *d, dwconv_plan *plan, const void *A, const void *B, void *C,
                      const long double *ref) {
  size_t out = dwconv_output_len(d->mode, d->signal_len, d->kernel_len);
  dwconv_status st = plan ? dwconv_plan_execute(plan, A, (ptrdiff_t)d->signal_len, C, (ptrdiff_t)out)
                          : tc_run(d, A, (ptrdiff_t)d->signal_len, B, (ptrdiff_t)d->kernel_len, C,
                                   (ptrdiff_t)out, NULL, 0);
  ck_assert_msg(st == DWCONV_SUCCESS, "run: %s (%s)", dwconv_status_string(st), dwconv_last_error());
  return tc_max_row_err(C, (ptrdiff_t)out, d->dtype, ref, d->rows, out);
}


/* Argument errors, exact statuses, before anything is tuned or written. */
START_TEST(test_errors) {
  EXPECT(dwconv_fft_tune(NULL), DWCONV_ERROR_INVALID_VALUE, "desc");
  dwconv_desc d = fft_desc(DWCONV_FLOAT32);
  d.rows = 0;
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_INVALID_VALUE, "rows");
  d = fft_desc(DWCONV_FLOAT32);
  d.dtype = (dwconv_dtype)7;
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_INVALID_VALUE, "");
  d = fft_desc(DWCONV_FLOAT32);
  d.mode = (dwconv_mode)-1;
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_INVALID_VALUE, "");
  d = fft_desc(DWCONV_FLOAT32);
  d.signal_len = SIZE_MAX / 2;
  d.kernel_len = SIZE_MAX / 2 + 5;
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_SIZE_OVERFLOW, "overflow");
  /* Backend and algo fields are ignored: tuning is for the CPU FFT path. */
  d = fft_desc(DWCONV_FLOAT32);
  d.algo = DWCONV_ALGO_DIRECT;
  d.backend = DWCONV_BACKEND_CUDA;
  d.signal_len = 100;
  d.kernel_len = 30;
  EXPECT(dwconv_fft_tune(&d), DWCONV_SUCCESS, "");

  EXPECT(dwconv_fft_wisdom_export(NULL), DWCONV_ERROR_INVALID_VALUE, "path");
  EXPECT(dwconv_fft_wisdom_import(NULL), DWCONV_ERROR_INVALID_VALUE, "path");

  char dir[64], path[256];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/missing.wis", dir);
  EXPECT(dwconv_fft_wisdom_import(path), DWCONV_ERROR_IO, "missing.wis");
  snprintf(path, sizeof path, "%s/no-such-dir/out.wis", dir);
  EXPECT(dwconv_fft_wisdom_export(path), DWCONV_ERROR_IO, "out.wis");
  EXPECT(dwconv_fft_wisdom_import(dir), DWCONV_ERROR_IO, ""); /* a directory */

  snprintf(path, sizeof path, "%s/bad.wis", dir);
  write_file(path, "hello world\n", 12);
  EXPECT(dwconv_fft_wisdom_import(path), DWCONV_ERROR_INVALID_VALUE, "not a dwconv wisdom file");
  write_file(path, "", 0);
  EXPECT(dwconv_fft_wisdom_import(path), DWCONV_ERROR_INVALID_VALUE, "not a dwconv wisdom file");
  static const char *malformed[] = {
      "dwconv-fftw-wisdom 1\n",
      "dwconv-fftw-wisdom 1\nf64 5\nabc\n",             /* block shorter than its count */
      "dwconv-fftw-wisdom 1\nf64 x\n\nf32 0\n\n",       /* no count */
      "dwconv-fftw-wisdom 1\nf32 0\n\nf64 0\n\n",       /* wrong order */
      "dwconv-fftw-wisdom 1\nf64 0\n\nf32 99999999999999\n\n",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
    write_file(path, malformed[i], strlen(malformed[i]));
    EXPECT(dwconv_fft_wisdom_import(path), DWCONV_ERROR_INVALID_VALUE, "malformed");
  }
  const char *rejected = "dwconv-fftw-wisdom 1\nf64 11\n(not-wisdom\nf32 0\n\n";
  write_file(path, rejected, strlen(rejected));
  EXPECT(dwconv_fft_wisdom_import(path), DWCONV_ERROR_INVALID_VALUE, "rejected");
  dir_entries(dir, 1);
}
END_TEST

/* Tuning keeps results within the bounds, does not disturb a plan made before it, and an
 * exported file brings back exactly the tuned plans. */
START_TEST(test_tune_export_import) {
  char dir[64], path[256];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/plans.wis", dir);
  for (int f64 = 0; f64 <= 1; f64++) {
    dwconv_dtype dt = f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32;
    dwconv_desc d = fft_desc(dt);
    size_t out = dwconv_output_len(d.mode, d.signal_len, d.kernel_len);
    tc_rng r;
    tc_rng_seed(&r, 17 + (uint64_t)f64);
    void *A = tc_alloc(d.rows * d.signal_len, dt), *B = tc_alloc(d.rows * d.kernel_len, dt);
    void *C0 = tc_alloc(d.rows * out, dt), *C1 = tc_alloc(d.rows * out, dt), *C2 = tc_alloc(d.rows * out, dt);
    tc_fill_normal(&r, A, dt, d.rows, d.signal_len, d.signal_len);
    tc_fill_normal(&r, B, dt, d.rows, d.kernel_len, d.kernel_len);
    long double *ref = tc_ref_problem(&d, A, (ptrdiff_t)d.signal_len, B, (ptrdiff_t)d.kernel_len);

    dwconv_plan *before = NULL;
    ck_assert_int_eq(dwconv_plan_create(&before, &d), DWCONV_SUCCESS);
    ck_assert_int_eq(dwconv_plan_set_kernel(before, B, (ptrdiff_t)d.kernel_len), DWCONV_SUCCESS);
    double e0 = run_err(&d, before, A, B, C0, ref);
    ck_assert_msg(e0 <= tc_tol(dt), "untuned %s: error %.3g", tc_dtype_name(dt), e0);

    EXPECT(dwconv_fft_tune(&d), DWCONV_SUCCESS, "");
    double eb = run_err(&d, before, A, B, C2, ref); /* the plan made before still runs */
    ck_assert_msg(eb <= tc_tol(dt), "plan made before tuning, %s: error %.3g", tc_dtype_name(dt), eb);
    ck_assert_msg(memcmp(C0, C2, d.rows * out * tc_esize(dt)) == 0,
                  "a plan made before tuning changed its results");
    dwconv_plan_destroy(before);

    double e1 = run_err(&d, NULL, A, B, C1, ref);
    ck_assert_msg(e1 <= tc_tol(dt), "tuned %s: error %.3g", tc_dtype_name(dt), e1);

    EXPECT(dwconv_fft_wisdom_export(path), DWCONV_SUCCESS, "");
    EXPECT(dwconv_fft_wisdom_export(path), DWCONV_SUCCESS, ""); /* replaces it */
    ck_assert_int_eq(dir_entries(dir, 0), 1);                   /* no temporary left */
    size_t len;
    char *text = read_file(path, &len);
    ck_assert_msg(strncmp(text, "dwconv-fftw-wisdom 1\n", 21) == 0, "header: %.30s", text);
    ck_assert_msg(strstr(text, f64 ? "fftw_wisdom" : "fftwf_wisdom") != NULL, "no FFTW wisdom in the file");
    /* A truncated copy is refused and changes nothing. */
    char cut[300];
    snprintf(cut, sizeof cut, "%s/cut.wis", dir);
    write_file(cut, text, len / 2);
    EXPECT(dwconv_fft_wisdom_import(cut), DWCONV_ERROR_INVALID_VALUE, "malformed");
    unlink(cut);
    free(text);

    EXPECT(dwconv_fft_wisdom_import(path), DWCONV_SUCCESS, "");
    memset(C2, 0, d.rows * out * tc_esize(dt));
    (void)run_err(&d, NULL, A, B, C2, ref);
    ck_assert_msg(memcmp(C1, C2, d.rows * out * tc_esize(dt)) == 0,
                  "%s: results after import differ from the tuned ones", tc_dtype_name(dt));
    free(ref);
    free(A);
    free(B);
    free(C0);
    free(C1);
    free(C2);
  }
  dir_entries(dir, 1);
}
END_TEST

/* A full disk while exporting, simulated with a file-size limit (RLIMIT_FSIZE, its SIGXFSZ
 * ignored so the write fails with EFBIG, as on a full disk: ENOSPC): exactly
 * DWCONV_ERROR_IO naming the write, the existing file byte-for-byte unchanged, no temporary
 * left behind; with the limit lifted the same export works. Limit and signal are restored
 * (the Check stand-in runs every test in one process). */
START_TEST(test_export_disk_full) {
  char dir[64], path[256];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/plans.wis", dir);
  dwconv_desc d = fft_desc(DWCONV_FLOAT32);
  EXPECT(dwconv_fft_tune(&d), DWCONV_SUCCESS, "");
  write_file(path, "old contents\n", 13);
  struct rlimit old_lim, lim;
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
  lim = old_lim;
  lim.rlim_cur = 64; /* bytes: far less than any export (the header alone is 21) plus wisdom */
  void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
  dwconv_status st = dwconv_fft_wisdom_export(path);
  char msg[512];
  snprintf(msg, sizeof msg, "%s", dwconv_last_error());
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
  signal(SIGXFSZ, old_sig);
  ck_assert_msg(st == DWCONV_ERROR_IO, "export on a full disk: %s (%s)", dwconv_status_string(st), msg);
  ck_assert_msg(tc_contains_ci(msg, "writ"), "message does not name the write: %s", msg);
  size_t len;
  char *text = read_file(path, &len);
  ck_assert_msg(len == 13 && memcmp(text, "old contents\n", 13) == 0, "the existing file was changed");
  free(text);
  ck_assert_int_eq(dir_entries(dir, 0), 1); /* no temporary left */
  EXPECT(dwconv_fft_wisdom_export(path), DWCONV_SUCCESS, "");
  dir_entries(dir, 1);
}
END_TEST

/* A file whose FFTW entry has a flag field too wide for FFTW's bit-fields: FFTW's own
 * importer would abort() the process on it; dwconv must refuse it with INVALID_VALUE. The
 * file is a real export with the first entry's second flag field set to #x7fffffff (and the
 * block's byte count adjusted). */
START_TEST(test_import_hostile_entry) {
  char dir[64], path[256], bad[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/good.wis", dir);
  snprintf(bad, sizeof bad, "%s/bad.wis", dir);
  dwconv_desc d = fft_desc(DWCONV_FLOAT32);
  EXPECT(dwconv_fft_tune(&d), DWCONV_SUCCESS, "");
  EXPECT(dwconv_fft_wisdom_export(path), DWCONV_SUCCESS, "");
  size_t len;
  char *text = read_file(path, &len);
  char *blk = strstr(text, "\nf32 ");
  ck_assert_ptr_nonnull(blk);
  size_t count = strtoul(blk + 5, NULL, 10);
  char *entry = strstr(blk, "\n  (");
  ck_assert_msg(entry != NULL, "no entry in the f32 block: %s", blk);
  /* skip "(name reg_id #x<l> " to the u field */
  char *q = strchr(entry + 4, ' ');
  ck_assert_ptr_nonnull(q);
  q = strchr(q + 1, ' ');
  ck_assert_ptr_nonnull(q);
  q = strchr(q + 1, ' ');
  ck_assert_msg(q != NULL && q[1] == '#', "unexpected entry: %.80s", entry);
  char *u_end = strchr(q + 1, ' ');
  ck_assert_ptr_nonnull(u_end);
  const char *wide = " #x7fffffff";
  size_t old_u = (size_t)(u_end - q), new_u = strlen(wide);
  char *out = (char *)malloc(len + 64);
  ck_assert_ptr_nonnull(out);
  size_t head = (size_t)(blk - text) + 1; /* through the newline before "f32" */
  size_t n = (size_t)snprintf(out, 64 + head, "%.*sf32 %zu", (int)head, text, count - old_u + new_u);
  char *after_count = strchr(blk + 1, '\n'); /* the newline ending "f32 <count>" */
  size_t mid = (size_t)(q - after_count);
  memcpy(out + n, after_count, mid);
  n += mid;
  memcpy(out + n, wide, new_u);
  n += new_u;
  memcpy(out + n, u_end, len - (size_t)(u_end - text));
  n += len - (size_t)(u_end - text);
  write_file(bad, out, n);
  EXPECT(dwconv_fft_wisdom_import(bad), DWCONV_ERROR_INVALID_VALUE, "out of range");
  EXPECT(dwconv_fft_wisdom_import(path), DWCONV_SUCCESS, ""); /* the original still imports */
  dwconv_plan *plan = NULL;
  EXPECT(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS, "");
  dwconv_plan_destroy(plan);
  free(out);
  free(text);
  dir_entries(dir, 1);
}
END_TEST

/* Failures inside tuning: exactly OUT_OF_MEMORY, and tuning and planning work afterwards. */
START_TEST(test_tune_faults) {
  dwconv_desc d = fft_desc(DWCONV_FLOAT32);
  d.signal_len = 500;
  d.kernel_len = 40;
  dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 1);
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_OUT_OF_MEMORY, "plan");
  dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 2); /* the complex pair this time */
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_OUT_OF_MEMORY, "plan");
  dwconv__fault_inject(DWCONV_FAULT_FFTW_PLAN, 0);
  dwconv__fault_inject_alloc(1);
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_OUT_OF_MEMORY, "buffers");
  dwconv__fault_inject_alloc(0);
  EXPECT(dwconv_fft_tune(&d), DWCONV_SUCCESS, "");
  dwconv_plan *plan = NULL;
  EXPECT(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS, "");
  dwconv_plan_destroy(plan);
}
END_TEST

#else /* no FFTW in this build */

START_TEST(test_not_supported) {
  dwconv_desc d = fft_desc(DWCONV_FLOAT32);
  EXPECT(dwconv_fft_tune(&d), DWCONV_ERROR_NOT_SUPPORTED, "fftw");
  /* Argument checks come first, as in a build with FFTW. */
  EXPECT(dwconv_fft_tune(NULL), DWCONV_ERROR_INVALID_VALUE, "desc");
  EXPECT(dwconv_fft_wisdom_export(NULL), DWCONV_ERROR_INVALID_VALUE, "path");
  EXPECT(dwconv_fft_wisdom_import(NULL), DWCONV_ERROR_INVALID_VALUE, "path");
  EXPECT(dwconv_fft_wisdom_export("/tmp/dwconv-never-written.wis"), DWCONV_ERROR_NOT_SUPPORTED, "fftw");
  EXPECT(dwconv_fft_wisdom_import("/tmp/dwconv-never-written.wis"), DWCONV_ERROR_NOT_SUPPORTED, "fftw");
  ck_assert_int_ne(access("/tmp/dwconv-never-written.wis", F_OK), 0);
}
END_TEST

#endif

static Suite *make_suite(void) {
  Suite *s = suite_create("wisdom");
  TCase *tc = tcase_create("wisdom");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
#if DWCONV_TEST_HAVE_FFTW
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_tune_export_import);
  tcase_add_test(tc, test_import_hostile_entry);
  tcase_add_test(tc, test_export_disk_full);
  tcase_add_test(tc, test_tune_faults);
#else
  tcase_add_test(tc, test_not_supported);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_wisdom", make_suite); }
