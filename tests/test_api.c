/*
 * test_api: every public error path with its exact status, dwconv_last_error() wording,
 * status strings, version, dwconv_output_len, descriptor defaults, plan info, set_stream,
 * destroy(NULL), *plan = NULL on failure, and that a failed call leaves C and the plan
 * untouched. Run as `test_api cpu` or `test_api cuda`.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

/* Asserts that `call` returns exactly `want`, that dwconv_last_error() is then non-empty and
 * contains `needle` (case-insensitive; "" = only non-empty). */
#define EXPECT_STATUS(call, want, needle)                                                        \
  do {                                                                                           \
    dwconv_status st_ = (call);                                                                  \
    ck_assert_msg(st_ == (want), "%s returned %d (%s), want %d; last_error: %s", #call, (int)st_, \
                  dwconv_status_string(st_), (int)(want), dwconv_last_error());                  \
    if ((want) != DWCONV_SUCCESS) {                                                              \
      const char *le_ = dwconv_last_error();                                                     \
      ck_assert_msg(le_ != NULL && le_[0] != '\0', "%s: dwconv_last_error() empty after failure", \
                    #call);                                                                      \
      ck_assert_msg(tc_contains_ci(le_, (needle)), "%s: last_error \"%s\" does not mention \"%s\"", \
                    #call, le_, (needle));                                                       \
    }                                                                                            \
  } while (0)

/* A small valid float32 plan (rows 3, N 16, P 5, FULL) on the backend under test. */
static dwconv_desc small_desc(void) {
  return tc_desc(3, 16, 5, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT);
}

/* Creates a plan for d and asserts success. */
static dwconv_plan *make_plan(const dwconv_desc *d) {
  dwconv_plan *plan = NULL;
  dwconv_status st = dwconv_plan_create(&plan, d);
  ck_assert_msg(st == DWCONV_SUCCESS && plan != NULL, "plan_create failed: %s: %s",
                dwconv_status_string(st), dwconv_last_error());
  return plan;
}

/* Status strings: never NULL, distinct, start with the enum name; out-of-range values too. */
START_TEST(test_status_strings) {
  static const char *names[] = {"DWCONV_SUCCESS", "DWCONV_ERROR_INVALID_VALUE",
                                "DWCONV_ERROR_SIZE_OVERFLOW", "DWCONV_ERROR_OUT_OF_MEMORY",
                                "DWCONV_ERROR_NOT_SUPPORTED", "DWCONV_ERROR_NO_DEVICE",
                                "DWCONV_ERROR_DEVICE", "DWCONV_ERROR_KERNEL_NOT_SET",
                                "DWCONV_ERROR_INTERNAL", "DWCONV_ERROR_IO"};
  /* Pinned values. */
  ck_assert_int_eq(DWCONV_SUCCESS, 0);
  ck_assert_int_eq(DWCONV_ERROR_INVALID_VALUE, 1);
  ck_assert_int_eq(DWCONV_ERROR_SIZE_OVERFLOW, 2);
  ck_assert_int_eq(DWCONV_ERROR_OUT_OF_MEMORY, 3);
  ck_assert_int_eq(DWCONV_ERROR_NOT_SUPPORTED, 4);
  ck_assert_int_eq(DWCONV_ERROR_NO_DEVICE, 5);
  ck_assert_int_eq(DWCONV_ERROR_DEVICE, 6);
  ck_assert_int_eq(DWCONV_ERROR_KERNEL_NOT_SET, 7);
  ck_assert_int_eq(DWCONV_ERROR_INTERNAL, 8);
  ck_assert_int_eq(DWCONV_ERROR_IO, 9);
  for (int s = 0; s <= 9; s++) {
    const char *str = dwconv_status_string((dwconv_status)s);
    ck_assert_ptr_nonnull(str);
    ck_assert_msg(strncmp(str, names[s], strlen(names[s])) == 0 &&
                      (str[strlen(names[s])] == ':' || str[strlen(names[s])] == '\0'),
                  "status %d string \"%s\" does not start with %s", s, str, names[s]);
    for (int t = 0; t < s; t++)
      ck_assert_msg(strcmp(str, dwconv_status_string((dwconv_status)t)) != 0,
                    "statuses %d and %d share a string", s, t);
  }
  static const int bad[] = {10, 11, 100, -1, -100, 0x7fffffff};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *str = dwconv_status_string((dwconv_status)bad[i]);
    ck_assert_msg(str != NULL && str[0] != '\0', "status %d gives NULL/empty string", bad[i]);
    for (int t = 0; t <= 9; t++)
      ck_assert_msg(strcmp(str, dwconv_status_string((dwconv_status)t)) != 0,
                    "out-of-range status %d named like status %d", bad[i], t);
  }
}
END_TEST

/* Version string matches the header macros. */
START_TEST(test_version) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", DWCONV_VERSION_MAJOR, DWCONV_VERSION_MINOR,
           DWCONV_VERSION_PATCH);
  ck_assert_str_eq(dwconv_version_string(), want);
  ck_assert_int_eq(DWCONV_VERSION_NUMBER,
                   DWCONV_VERSION_MAJOR * 10000 + DWCONV_VERSION_MINOR * 100 + DWCONV_VERSION_PATCH);
}
END_TEST

/* dwconv_desc_make fills the documented defaults. */
START_TEST(test_desc_defaults) {
  dwconv_desc d = dwconv_desc_make(7, 11, 13, DWCONV_FLOAT64);
  ck_assert_uint_eq(d.rows, 7);
  ck_assert_uint_eq(d.signal_len, 11);
  ck_assert_uint_eq(d.kernel_len, 13);
  ck_assert_int_eq(d.dtype, DWCONV_FLOAT64);
  ck_assert_int_eq(d.mode, DWCONV_MODE_FULL);
  ck_assert_int_eq(d.op, DWCONV_OP_CONVOLVE);
  ck_assert_int_eq(d.backend, DWCONV_BACKEND_AUTO);
  ck_assert_int_eq(d.algo, DWCONV_ALGO_AUTO);
  ck_assert_int_eq(d.threads, 0);
  ck_assert_uint_eq(d.device_memory_limit, 0);
  /* Never fails, even for invalid values (plan_create validates). */
  d = dwconv_desc_make(0, 0, 0, (dwconv_dtype)9);
  ck_assert_uint_eq(d.rows, 0);
}
END_TEST

/* dwconv_output_len per mode (incl. P > N), 0 for invalid arguments and overflow. */
START_TEST(test_output_len) {
  static const dwconv_mode modes[] = {DWCONV_MODE_FULL, DWCONV_MODE_SAME, DWCONV_MODE_VALID,
                                      DWCONV_MODE_CAUSAL};
  /* Hand-written expectations (scipy): {mode, N, P, len}. */
  static const size_t cases[][4] = {
      {0, 10, 3, 12}, {1, 10, 3, 10}, {2, 10, 3, 8},  {3, 10, 3, 10}, {0, 3, 10, 12},
      {1, 3, 10, 3},  {2, 3, 10, 8},  {3, 3, 10, 3},  {0, 1, 1, 1},   {1, 1, 1, 1},
      {2, 1, 1, 1},   {3, 1, 1, 1},   {2, 7, 7, 1},   {2, 1, 64, 64}, {0, 64, 1, 64},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ck_assert_msg(dwconv_output_len(modes[cases[i][0]], cases[i][1], cases[i][2]) == cases[i][3],
                  "output_len(%s, %zu, %zu) = %zu, want %zu", tc_mode_name(modes[cases[i][0]]),
                  cases[i][1], cases[i][2],
                  dwconv_output_len(modes[cases[i][0]], cases[i][1], cases[i][2]), cases[i][3]);
  for (size_t n = 1; n <= 40; n++)
    for (size_t p = 1; p <= 40; p++)
      for (int m = 0; m < 4; m++)
        ck_assert_uint_eq(dwconv_output_len(modes[m], n, p), tc_out_len(modes[m], n, p));
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_FULL, 0, 5), 0);
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_SAME, 5, 0), 0);
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_VALID, 0, 0), 0);
  ck_assert_uint_eq(dwconv_output_len((dwconv_mode)4, 5, 5), 0);
  ck_assert_uint_eq(dwconv_output_len((dwconv_mode)7, 5, 5), 0);
  ck_assert_uint_eq(dwconv_output_len((dwconv_mode)-1, 5, 5), 0);
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_FULL, SIZE_MAX, 2), 0);
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_FULL, SIZE_MAX / 2 + 2, SIZE_MAX / 2 + 2), 0);
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_FULL, SIZE_MAX, 1), SIZE_MAX);
  ck_assert_uint_eq(dwconv_output_len(DWCONV_MODE_FULL, SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1), SIZE_MAX);
}
END_TEST

/* Asserts plan_create(d) fails with `want` / `needle`, setting a non-NULL *plan to NULL. */
static void expect_create_fails(const dwconv_desc *d, dwconv_status want, const char *needle,
                                const char *what) {
  dwconv_plan *plan = (dwconv_plan *)(uintptr_t)0x10; /* garbage that must be overwritten */
  dwconv_status st = dwconv_plan_create(&plan, d);
  ck_assert_msg(st == want, "%s: plan_create returned %d (%s), want %d; last_error: %s", what,
                (int)st, dwconv_status_string(st), (int)want, dwconv_last_error());
  ck_assert_msg(plan == NULL, "%s: *plan not set to NULL on failure", what);
  const char *le = dwconv_last_error();
  ck_assert_msg(le != NULL && le[0] != '\0', "%s: dwconv_last_error() empty", what);
  ck_assert_msg(tc_contains_ci(le, needle), "%s: last_error \"%s\" does not mention \"%s\"", what,
                le, needle);
  /* The one-shot path reports the same status. */
  float a[4] = {0}, b[4] = {0}, c[64];
  st = dwconv_convolve(d, a, 0, b, 0, c, 0);
  ck_assert_msg(st == want, "%s: dwconv_convolve returned %d, want %d", what, (int)st, (int)want);
}

/* plan_create argument errors: NULLs, zero sizes, bad enums, negative threads. */
START_TEST(test_create_invalid) {
  dwconv_desc d = small_desc();
  EXPECT_STATUS(dwconv_plan_create(NULL, &d), DWCONV_ERROR_INVALID_VALUE, "plan");
  dwconv_plan *plan = (dwconv_plan *)(uintptr_t)0x10;
  EXPECT_STATUS(dwconv_plan_create(&plan, NULL), DWCONV_ERROR_INVALID_VALUE, "desc");
  ck_assert_ptr_null(plan);
  float a[16] = {0}, b[5] = {0}, c[20];
  EXPECT_STATUS(dwconv_convolve(NULL, a, 0, b, 0, c, 20), DWCONV_ERROR_INVALID_VALUE, "desc");

  d = small_desc(); d.rows = 0;        expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "rows", "rows 0");
  d = small_desc(); d.signal_len = 0;  expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "signal_len", "N 0");
  d = small_desc(); d.kernel_len = 0;  expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "kernel_len", "P 0");
  d = small_desc(); d.mode = (dwconv_mode)7;     expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "mode", "mode 7");
  d = small_desc(); d.mode = (dwconv_mode)4;     expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "mode", "mode 4");
  d = small_desc(); d.mode = (dwconv_mode)-1;    expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "mode", "mode -1");
  d = small_desc(); d.dtype = (dwconv_dtype)-1;  expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "dtype", "dtype -1");
  d = small_desc(); d.dtype = (dwconv_dtype)2;   expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "dtype", "dtype 2");
  d = small_desc(); d.op = (dwconv_op)2;         expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "op", "op 2");
  d = small_desc(); d.op = (dwconv_op)-1;        expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "op", "op -1");
  d = small_desc(); d.backend = (dwconv_backend)3;  expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "backend", "backend 3");
  d = small_desc(); d.backend = (dwconv_backend)-1; expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "backend", "backend -1");
  d = small_desc(); d.algo = (dwconv_algo)4;     expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "algo", "algo 4");
  d = small_desc(); d.algo = (dwconv_algo)-1;    expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "algo", "algo -1");
  d = small_desc(); d.threads = -1;              expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "threads", "threads -1");
  d = small_desc(); d.threads = INT32_MIN;       expect_create_fails(&d, DWCONV_ERROR_INVALID_VALUE, "threads", "threads INT_MIN");
}
END_TEST

/* plan_create size overflow: N+P-1, rows x length, bytes beyond PTRDIFF_MAX. */
START_TEST(test_create_overflow) {
  dwconv_desc d;
  d = small_desc(); d.signal_len = SIZE_MAX; d.kernel_len = 2;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "N+P-1 overflow");
  d = small_desc(); d.signal_len = SIZE_MAX / 2 + 2; d.kernel_len = SIZE_MAX / 2 + 2;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "N+P-1 overflow (halves)");
  d = small_desc(); d.rows = SIZE_MAX; d.signal_len = 2; d.kernel_len = 2;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "rows x N overflow");
  d = small_desc(); d.rows = SIZE_MAX / 4 + 1; d.signal_len = 1; d.kernel_len = 1;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "rows x 4 bytes overflow");
  d = small_desc(); d.rows = 1; d.signal_len = SIZE_MAX / 4 + 1; d.kernel_len = 1;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "N x 4 bytes overflow");
  d = small_desc(); d.rows = 1; d.signal_len = 1; d.kernel_len = SIZE_MAX / 8 + 1;
  d.dtype = DWCONV_FLOAT64; d.mode = DWCONV_MODE_SAME;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "P x 8 bytes overflow");
  /* Fits size_t but not ptrdiff_t. */
  d = small_desc(); d.rows = 1; d.signal_len = (size_t)PTRDIFF_MAX / 4 + 1; d.kernel_len = 1;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "N x 4 bytes > PTRDIFF_MAX");
  d = small_desc(); d.rows = 3; d.signal_len = (size_t)PTRDIFF_MAX / 8; d.kernel_len = 1;
  expect_create_fails(&d, DWCONV_ERROR_SIZE_OVERFLOW, "", "rows x N x 4 bytes > PTRDIFF_MAX");
}
END_TEST

/* BACKEND_CUDA without a device (or in a CPU-only build) is NO_DEVICE; AUTO falls back to CPU. */
START_TEST(test_no_device) {
  int devices = dwconv_cuda_device_count();
  ck_assert_int_ge(devices, 0);
#if !DWCONV_TEST_BUILD_HAS_CUDA
  ck_assert_msg(devices == 0, "CPU-only build reports %d CUDA devices", devices);
#endif
  if (devices == 0) {
    dwconv_desc d = small_desc();
    d.backend = DWCONV_BACKEND_CUDA;
    expect_create_fails(&d, DWCONV_ERROR_NO_DEVICE, "CUDA", "BACKEND_CUDA without a device");
    d.backend = DWCONV_BACKEND_AUTO;
    dwconv_plan *plan = make_plan(&d);
    dwconv_plan_info info;
    ck_assert_int_eq(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS);
    ck_assert_int_eq(info.backend, DWCONV_BACKEND_CPU);
    dwconv_plan_destroy(plan);
  }
}
END_TEST

/* Build features agree with what plans do; dwconv_cuda_device_info's status codes: NULL info
 * and out-of-range devices are INVALID_VALUE, a CPU-only build NO_DEVICE; real devices report
 * a name and memory. */
START_TEST(test_features_and_device_info) {
  unsigned f = dwconv_build_features();
  ck_assert_msg((f & ~(DWCONV_FEATURE_CUDA | DWCONV_FEATURE_FFTW | DWCONV_FEATURE_OPENMP)) == 0,
                "unknown feature bits 0x%x", f);
  ck_assert_int_eq(!!(f & DWCONV_FEATURE_FFTW), tc_fft_available(DWCONV_BACKEND_CPU));
  ck_assert_int_eq(!!(f & DWCONV_FEATURE_CUDA), DWCONV_TEST_BUILD_HAS_CUDA);
  const char *simd = dwconv_cpu_simd();
  ck_assert_msg(simd != NULL && (strcmp(simd, "avx512") == 0 || strcmp(simd, "avx2") == 0 ||
                                 strcmp(simd, "portable") == 0), "dwconv_cpu_simd() = %s", simd);
  dwconv_device_info di;
  EXPECT_STATUS(dwconv_cuda_device_info(0, NULL), DWCONV_ERROR_INVALID_VALUE, "info");
  int n = dwconv_cuda_device_count();
  if (!(f & DWCONV_FEATURE_CUDA)) {
    EXPECT_STATUS(dwconv_cuda_device_info(0, &di), DWCONV_ERROR_NO_DEVICE, "CUDA");
    return;
  }
  EXPECT_STATUS(dwconv_cuda_device_info(-1, &di), DWCONV_ERROR_INVALID_VALUE, "range");
  EXPECT_STATUS(dwconv_cuda_device_info(n, &di), DWCONV_ERROR_INVALID_VALUE, "range");
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(dwconv_cuda_device_info(i, &di), DWCONV_SUCCESS);
    ck_assert_msg(di.name[0] != '\0' && di.total_memory > 0 && di.free_memory <= di.total_memory &&
                      di.compute_major >= 7 && di.multiprocessors > 0,
                  "device %d: '%s' %zu/%zu bytes, cc %d.%d", i, di.name, di.free_memory, di.total_memory,
                  di.compute_major, di.compute_minor);
  }
}
END_TEST

/* set_kernel errors: NULL plan / B, negative ldb, 0 < ldb < P, ldb extent overflow. The plan
 * stays usable and KERNEL_NOT_SET persists until a successful set_kernel. */
START_TEST(test_set_kernel_errors) {
  dwconv_desc d = small_desc();
  dwconv_plan *plan = make_plan(&d);
  float B[3 * 8], A[3 * 16], C[3 * 20];
  memset(B, 0, sizeof B);
  memset(A, 0, sizeof A);
  EXPECT_STATUS(dwconv_plan_set_kernel(NULL, B, 5), DWCONV_ERROR_INVALID_VALUE, "plan");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, NULL, 5), DWCONV_ERROR_INVALID_VALUE, "B");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, -1), DWCONV_ERROR_INVALID_VALUE, "ldb");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, PTRDIFF_MIN), DWCONV_ERROR_INVALID_VALUE, "ldb");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 4), DWCONV_ERROR_INVALID_VALUE, "ldb");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 1), DWCONV_ERROR_INVALID_VALUE, "ldb");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, PTRDIFF_MAX), DWCONV_ERROR_SIZE_OVERFLOW, "");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, PTRDIFF_MAX / 4), DWCONV_ERROR_SIZE_OVERFLOW, "");
  /* None of those set a kernel. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 20), DWCONV_ERROR_KERNEL_NOT_SET, "set_kernel");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 5), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 8), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 0), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 20), DWCONV_SUCCESS, "");
  /* Arrays not aligned to their element size (e.g. a buffer viewed at an odd byte offset). */
  {
    float *Bm = (float *)malloc(3 * 8 * sizeof(float) + 8);
    ck_assert_ptr_nonnull(Bm);
    memset(Bm, 0, 3 * 8 * sizeof(float) + 8);
    EXPECT_STATUS(dwconv_plan_set_kernel(plan, (char *)Bm + 1, 5), DWCONV_ERROR_INVALID_VALUE, "aligned");
    EXPECT_STATUS(dwconv_plan_set_kernel(plan, (char *)Bm + 2, 0), DWCONV_ERROR_INVALID_VALUE, "B");
    EXPECT_STATUS(dwconv_plan_set_kernel(plan, (char *)Bm + 4, 5), DWCONV_SUCCESS, "");
    free(Bm);
  }

  dwconv_plan_destroy(plan);

  /* P = 1: any ldb >= 1 is fine. */
  d = tc_desc(2, 4, 1, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT);
  plan = make_plan(&d);
  double Bd[4] = {1, 2, 3, 4};
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, Bd, 1), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, Bd, -5), DWCONV_ERROR_INVALID_VALUE, "ldb");
  /* float64: 4-byte alignment is not enough. */
  {
    unsigned char *raw = (unsigned char *)malloc(8 * sizeof(double) + 8);
    ck_assert_ptr_nonnull(raw);
    memset(raw, 0, 8 * sizeof(double) + 8);
    EXPECT_STATUS(dwconv_plan_set_kernel(plan, raw + 4, 1), DWCONV_ERROR_INVALID_VALUE, "aligned");
    EXPECT_STATUS(dwconv_plan_set_kernel(plan, raw + 8, 1), DWCONV_SUCCESS, "");
    free(raw);
  }
  dwconv_plan_destroy(plan);
}
END_TEST

/* Fills n floats with a recognisable sentinel. */
static void fill_sentinel(float *c, size_t n) {
  for (size_t i = 0; i < n; i++) c[i] = -12345.25f;
}
/* 1 when all n floats still hold the sentinel. */
static int is_sentinel(const float *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (c[i] != -12345.25f) return 0;
  return 1;
}

/* execute errors with exact statuses; C untouched by every failed call; the plan still
 * produces the right answer afterwards. */
START_TEST(test_execute_errors) {
  dwconv_desc d = small_desc(); /* rows 3, N 16, P 5, FULL: out_len 20 */
  dwconv_plan *plan = make_plan(&d);
  float A[3 * 16], B[3 * 5], C[3 * 24];
  tc_rng r;
  tc_rng_seed(&r, 5);
  tc_fill_normal(&r, A, DWCONV_FLOAT32, 3, 16, 16);
  tc_fill_normal(&r, B, DWCONV_FLOAT32, 3, 5, 5);
  fill_sentinel(C, 3 * 24);
  /* Before set_kernel. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 20), DWCONV_ERROR_KERNEL_NOT_SET, "set_kernel");
  ck_assert_msg(is_sentinel(C, 3 * 24), "KERNEL_NOT_SET execute wrote to C");
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 5), DWCONV_SUCCESS, "");

  EXPECT_STATUS(dwconv_plan_execute(NULL, A, 16, C, 20), DWCONV_ERROR_INVALID_VALUE, "plan");
  EXPECT_STATUS(dwconv_plan_execute(plan, NULL, 16, C, 20), DWCONV_ERROR_INVALID_VALUE, "A");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, NULL, 20), DWCONV_ERROR_INVALID_VALUE, "C");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, -1, C, 20), DWCONV_ERROR_INVALID_VALUE, "lda");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, PTRDIFF_MIN, C, 20), DWCONV_ERROR_INVALID_VALUE, "lda");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, -20), DWCONV_ERROR_INVALID_VALUE, "ldc");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 15, C, 20), DWCONV_ERROR_INVALID_VALUE, "lda");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 1, C, 20), DWCONV_ERROR_INVALID_VALUE, "lda");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 19), DWCONV_ERROR_INVALID_VALUE, "ldc");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 0), DWCONV_ERROR_INVALID_VALUE, "ldc");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 1), DWCONV_ERROR_INVALID_VALUE, "ldc");
  /* A or C not aligned to 4 bytes. */
  EXPECT_STATUS(dwconv_plan_execute(plan, (char *)A + 1, 16, C, 20), DWCONV_ERROR_INVALID_VALUE, "A (");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, (char *)C + 2, 20), DWCONV_ERROR_INVALID_VALUE, "C (");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 0, (char *)C + 3, 20), DWCONV_ERROR_INVALID_VALUE, "aligned");
  /* Extents that overflow: (rows-1) * ld * 4 bytes. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, PTRDIFF_MAX, C, 20), DWCONV_ERROR_SIZE_OVERFLOW, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, PTRDIFF_MAX / 4, C, 20), DWCONV_ERROR_SIZE_OVERFLOW, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, PTRDIFF_MAX), DWCONV_ERROR_SIZE_OVERFLOW, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, PTRDIFF_MAX / 8), DWCONV_ERROR_SIZE_OVERFLOW, "");
  ck_assert_msg(is_sentinel(C, 3 * 24), "a failed execute wrote to C");

  /* After all the failures the plan works and gives the right result. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, C, 24), DWCONV_SUCCESS, "");
  long double *ref = tc_ref_problem(&d, A, 16, B, 5);
  double err = tc_max_row_err(C, 24, DWCONV_FLOAT32, ref, 3, 20);
  ck_assert_msg(err <= tc_tol(DWCONV_FLOAT32), "result after errors: rel err %g", err);
  for (int m = 0; m < 3; m++)
    ck_assert_msg(is_sentinel(C + m * 24 + 20, 4), "ldc padding of row %d written", m);
  free(ref);
  /* lda = 0 and ldc exactly out_len are fine. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 0, C, 20), DWCONV_SUCCESS, "");
  dwconv_plan_destroy(plan);
}
END_TEST

/* C overlapping A's span is INVALID_VALUE (also interleaved rows and lda = 0); adjacent
 * buffers are fine. C overlapping B is not checked (B was copied by set_kernel). */
START_TEST(test_overlap) {
  dwconv_desc d = small_desc(); /* rows 3, N 16, P 5, FULL: out_len 20 */
  dwconv_plan *plan = make_plan(&d);
  float *buf = (float *)tc_alloc(400, DWCONV_FLOAT32);
  tc_rng r;
  tc_rng_seed(&r, 9);
  tc_fill_normal(&r, buf, DWCONV_FLOAT32, 1, 400, 400);
  float B[5] = {1, 2, 3, 4, 5};
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, B, 0), DWCONV_SUCCESS, "");
  float *A = buf + 100; /* A spans [100, 148) with lda 16 */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A + 47, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A + 10, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  /* C's span is (rows-1)*ldc + out_len = 60 floats: from A - 59 its last element is A[0]. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A - 59, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  /* Interleaved: A rows at lda 40, C rows between them. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 40, A + 16, 40), DWCONV_ERROR_INVALID_VALUE, "overlap");
  /* Broadcast A (lda 0) spans only its first row. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 0, A + 15, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 0, A + 16, 20), DWCONV_SUCCESS, "");
  /* Adjacent, no overlap: C right after A's span, and C right before A. */
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A + 48, 20), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A - 60, 20), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, A, 16, A - 100, 20), DWCONV_SUCCESS, "");
  /* Float64 plan: byte extents (8 bytes per element). */
  dwconv_plan_destroy(plan);
  d.dtype = DWCONV_FLOAT64;
  plan = make_plan(&d);
  double Bd[5] = {1, 2, 3, 4, 5};
  double *Ad = (double *)buf; /* 200 doubles */
  EXPECT_STATUS(dwconv_plan_set_kernel(plan, Bd, 0), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, Ad, 16, Ad + 47, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  EXPECT_STATUS(dwconv_plan_execute(plan, Ad + 60, 16, Ad + 1, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  EXPECT_STATUS(dwconv_plan_execute(plan, Ad + 60, 16, Ad, 20), DWCONV_SUCCESS, "");
  EXPECT_STATUS(dwconv_plan_execute(plan, Ad + 60, 16, Ad + 108, 20), DWCONV_SUCCESS, "");
  dwconv_plan_destroy(plan);
  free(buf);
}
END_TEST

/* get_info: NULL arguments; fields for DIRECT, FFT and AUTO plans. */
START_TEST(test_get_info) {
  dwconv_plan_info info;
  dwconv_desc d = small_desc();
  dwconv_plan *plan = make_plan(&d);
  EXPECT_STATUS(dwconv_plan_get_info(NULL, &info), DWCONV_ERROR_INVALID_VALUE, "plan");
  EXPECT_STATUS(dwconv_plan_get_info(plan, NULL), DWCONV_ERROR_INVALID_VALUE, "info");
  dwconv_plan_destroy(plan);

  static const dwconv_algo algos[] = {DWCONV_ALGO_DIRECT, DWCONV_ALGO_FFT, DWCONV_ALGO_AUTO};
  static const size_t sizes[][3] = {{3, 16, 5}, {2, 1000, 64}, {1, 5, 9}, {4, 4096, 300}};
  for (int ai = 0; ai < 3; ai++)
    for (int si = 0; si < 4; si++)
      for (int mi = 0; mi < 4; mi++) {
        dwconv_algo algo = algos[ai];
        if (algo == DWCONV_ALGO_FFT && !tc_fft_available(tc_backend)) continue;
        d = tc_desc(sizes[si][0], sizes[si][1], sizes[si][2], DWCONV_FLOAT32, (dwconv_mode)mi,
                    DWCONV_OP_CONVOLVE, algo);
        d.threads = 2;
        plan = make_plan(&d);
        memset(&info, 0xCD, sizeof info);
        EXPECT_STATUS(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS, "");
        ck_assert_int_eq(info.backend, tc_backend);
        if (algo != DWCONV_ALGO_AUTO) ck_assert_int_eq(info.algo, algo);
        ck_assert_msg(info.algo == DWCONV_ALGO_DIRECT || info.algo == DWCONV_ALGO_FFT,
                      "info.algo %d", (int)info.algo);
        ck_assert_uint_eq(info.output_len, tc_out_len((dwconv_mode)mi, sizes[si][1], sizes[si][2]));
        if (info.algo == DWCONV_ALGO_FFT) {
          ck_assert_uint_ge(info.block_len, sizes[si][2] + 1);
          ck_assert_uint_eq(info.block_step, info.block_len - sizes[si][2] + 1);
        } else {
          ck_assert_uint_eq(info.block_len, 0);
          ck_assert_uint_eq(info.block_step, 0);
        }
        ck_assert_ptr_nonnull(info.simd);
        if (tc_backend == DWCONV_BACKEND_CPU) {
          ck_assert_msg(info.threads >= 1 && info.threads <= 2, "info.threads %d (asked 2)", info.threads);
          /* dwconv.h lists the direct-path variants; FFT plans report something else. */
          if (info.algo == DWCONV_ALGO_DIRECT)
            ck_assert_msg(strcmp(info.simd, "avx512") == 0 || strcmp(info.simd, "avx2") == 0 ||
                              strcmp(info.simd, "portable") == 0,
                          "DIRECT plan: info.simd \"%s\"", info.simd);
          else
            ck_assert_msg(info.simd[0] != '\0', "FFT plan: info.simd empty");
        } else {
          ck_assert_int_eq(info.threads, 1);
          ck_assert_str_eq(info.simd, "cuda");
        }
        ck_assert_uint_gt(info.workspace_bytes, 0);
        dwconv_plan_destroy(plan);
      }
  /* threads = 0 means "all": at least one. */
  d = small_desc();
  d.threads = 0;
  plan = make_plan(&d);
  EXPECT_STATUS(dwconv_plan_get_info(plan, &info), DWCONV_SUCCESS, "");
  ck_assert_int_ge(info.threads, 1);
  dwconv_plan_destroy(plan);
}
END_TEST

/* ALGO_FFT in a build without FFTW is NOT_SUPPORTED (CPU); otherwise it plans fine. */
START_TEST(test_fft_availability) {
  dwconv_desc d = tc_desc(2, 100, 10, DWCONV_FLOAT64, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE,
                          DWCONV_ALGO_FFT);
  if (tc_fft_available(tc_backend)) {
    dwconv_plan *plan = make_plan(&d);
    dwconv_plan_destroy(plan);
  } else {
    expect_create_fails(&d, DWCONV_ERROR_NOT_SUPPORTED, "FFT", "FFT without FFTW");
  }
}
END_TEST

/* set_stream: CPU plans say NOT_SUPPORTED; NULL plan is INVALID_VALUE. destroy(NULL) is fine. */
START_TEST(test_stream_and_destroy) {
  EXPECT_STATUS(dwconv_plan_set_stream(NULL, NULL), DWCONV_ERROR_INVALID_VALUE, "plan");
  dwconv_desc d = small_desc();
  dwconv_plan *plan = make_plan(&d);
  if (tc_backend == DWCONV_BACKEND_CPU)
    EXPECT_STATUS(dwconv_plan_set_stream(plan, NULL), DWCONV_ERROR_NOT_SUPPORTED, "");
  else
    EXPECT_STATUS(dwconv_plan_set_stream(plan, NULL), DWCONV_SUCCESS, "");
  dwconv_plan_destroy(plan);
  dwconv_plan_destroy(NULL);
}
END_TEST

/* dwconv_convolve argument errors (NULL A/B/C, bad strides) report like the plan path. */
START_TEST(test_convolve_errors) {
  dwconv_desc d = small_desc();
  float A[3 * 16] = {0}, B[3 * 5] = {0}, C[3 * 20];
  EXPECT_STATUS(dwconv_convolve(&d, NULL, 16, B, 5, C, 20), DWCONV_ERROR_INVALID_VALUE, "A");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, NULL, 5, C, 20), DWCONV_ERROR_INVALID_VALUE, "B");
  EXPECT_STATUS(dwconv_convolve(&d, (char *)A + 1, 16, B, 5, C, 20), DWCONV_ERROR_INVALID_VALUE, "aligned");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, (char *)B + 2, 5, C, 20), DWCONV_ERROR_INVALID_VALUE, "B (");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, B, 5, (char *)C + 1, 20), DWCONV_ERROR_INVALID_VALUE, "C (");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, B, 5, NULL, 20), DWCONV_ERROR_INVALID_VALUE, "C");
  EXPECT_STATUS(dwconv_convolve(&d, A, 15, B, 5, C, 20), DWCONV_ERROR_INVALID_VALUE, "lda");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, B, 4, C, 20), DWCONV_ERROR_INVALID_VALUE, "ldb");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, B, 5, C, 19), DWCONV_ERROR_INVALID_VALUE, "ldc");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, B, 5, A, 20), DWCONV_ERROR_INVALID_VALUE, "overlap");
  EXPECT_STATUS(dwconv_convolve(&d, A, 16, B, 5, C, 20), DWCONV_SUCCESS, "");
  /* A NULL array or a negative stride is reported before any plan is made: even a valid
   * descriptor far too large to allocate gives INVALID_VALUE, not OUT_OF_MEMORY. */
  dwconv_desc huge = dwconv_desc_make((size_t)1 << 40, 1 << 20, 33, DWCONV_FLOAT32);
  huge.backend = d.backend;
  /* (ldb = P: per-row kernels, whose 2^40-row copy cannot be allocated.) */
  EXPECT_STATUS(dwconv_convolve(&huge, NULL, 1 << 20, B, 33, C, 1 << 20), DWCONV_ERROR_INVALID_VALUE, "A");
  EXPECT_STATUS(dwconv_convolve(&huge, A, -1, B, 33, C, 1 << 20), DWCONV_ERROR_INVALID_VALUE, "lda");
}
END_TEST

/* Thread body for test_last_error_per_thread: fails one call, records its message. */
static void *fail_in_thread(void *arg) {
  char *out = (char *)arg;
  dwconv_plan *plan = NULL;
  dwconv_status st = dwconv_plan_create(&plan, NULL);
  snprintf(out, 256, "%d|%s", (int)st, dwconv_last_error());
  return NULL;
}

/* dwconv_last_error() is per thread: a failure on another thread does not change ours, and
 * ours is not visible there. */
START_TEST(test_last_error_per_thread) {
  dwconv_desc d = small_desc();
  d.threads = -3;
  dwconv_plan *plan = NULL;
  EXPECT_STATUS(dwconv_plan_create(&plan, &d), DWCONV_ERROR_INVALID_VALUE, "threads");
  char mine[256], theirs[256];
  snprintf(mine, sizeof mine, "%s", dwconv_last_error());
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, theirs), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_str_eq(dwconv_last_error(), mine);
  ck_assert_msg(strncmp(theirs, "1|", 2) == 0 && tc_contains_ci(theirs, "desc") &&
                    !tc_contains_ci(theirs, "threads"),
                "other thread's error: \"%s\"", theirs);
}
END_TEST

/* The suite. */
static Suite *make_suite(void) {
  Suite *s = suite_create("api");
  TCase *tc = tcase_create("api");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_status_strings);
  tcase_add_test(tc, test_version);
  tcase_add_test(tc, test_desc_defaults);
  tcase_add_test(tc, test_output_len);
  tcase_add_test(tc, test_create_invalid);
  tcase_add_test(tc, test_create_overflow);
  tcase_add_test(tc, test_no_device);
  tcase_add_test(tc, test_features_and_device_info);
  tcase_add_test(tc, test_set_kernel_errors);
  tcase_add_test(tc, test_execute_errors);
  tcase_add_test(tc, test_overlap);
  tcase_add_test(tc, test_get_info);
  tcase_add_test(tc, test_fft_availability);
  tcase_add_test(tc, test_stream_and_destroy);
  tcase_add_test(tc, test_convolve_errors);
  tcase_add_test(tc, test_last_error_per_thread);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_api", make_suite); }
