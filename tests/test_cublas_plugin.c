/* The cuBLAS plugin libdwconv_cublas.so and its loader (src/cuda/cublas_load.c), with the real
 * cuBLAS and no GPU: loading the plugin maps libcublas but needs no device. Linked with the
 * static library, so it calls the loader (a hidden internal function) directly.
 *   1. CPU plans map neither the plugin nor libcublas.
 *   2. DWCONV_CUBLAS_LIBRARY naming a missing file, or a library that is not the plugin:
 *      NOT_SUPPORTED, the message naming the file and the reason; nothing stays loaded.
 *   3. Without it: the loader finds the plugin (not next to this program; through the
 *      program's RUNPATH, which CMake points at the plugin's directory), the table is full,
 *      a second call returns the same table, and libcublas is now mapped. The resident set
 *      before and after is printed: what a process pays for cuBLAS.
 * One Check test (the loader's state is per process, so the steps run in order in one test).
 * CUDA builds only. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwconv.h"
#include "gemm.h"
#include "test_common.h"

static int mapped_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  return info->dlpi_name != NULL && strstr(info->dlpi_name, (const char *)data) != NULL;
}
/* Whether a loaded object's path contains `part`. */
static int mapped(const char *part) { return dl_iterate_phdr(mapped_cb, (void *)part); }

START_TEST(test_plugin) {
  /* 1. CPU work only. */
  enum { M = 4, N = 300, P = 17 };
  static float A[M * N], B[M * P], C[M * (N + P - 1)];
  for (int i = 0; i < M * N; i++) A[i] = (float)(i % 13) - 6.0f;
  for (int i = 0; i < M * P; i++) B[i] = (float)(i % 5) - 2.0f;
  dwconv_desc d = dwconv_desc_make(M, N, P, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CPU;
  for (int algo = DWCONV_ALGO_AUTO; algo <= DWCONV_ALGO_FFT; algo++) {
    d.algo = (dwconv_algo)algo;
    dwconv_plan *plan = NULL;
    dwconv_status st = dwconv_plan_create(&plan, &d);
    if (st == DWCONV_ERROR_NOT_SUPPORTED) continue; /* FFT without FFTW */
    ck_assert_msg(st == DWCONV_SUCCESS, "CPU plan, algo %d: %s", algo, dwconv_last_error());
    ck_assert_msg(dwconv_plan_set_kernel(plan, B, P) == DWCONV_SUCCESS, "set_kernel: %s", dwconv_last_error());
    ck_assert_msg(dwconv_plan_execute(plan, A, N, C, N + P - 1) == DWCONV_SUCCESS, "execute: %s", dwconv_last_error());
    dwconv_plan_destroy(plan);
  }
  ck_assert_msg(!mapped(DWCONV_CUBLAS_PLUGIN_FILE) && !mapped("libcublas"), "CPU plans loaded the cuBLAS plugin or cuBLAS");
  printf("CPU plans: neither %s nor libcublas loaded\n", DWCONV_CUBLAS_PLUGIN_FILE);

  /* 2. Overrides that cannot work. */
  const dwconv_cublas_api *api = (const dwconv_cublas_api *)&api;
  static const char *const bad[][2] = {{"/nonexistent/libdwconv_cublas.so", "No such file"},
                                       {"libm.so.6", "not a dwconv cuBLAS plugin"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("DWCONV_CUBLAS_LIBRARY", bad[i][0], 1);
    dwconv_status st = dwconv__cublas_load(&api);
    ck_assert_msg(st == DWCONV_ERROR_NOT_SUPPORTED && api == NULL && strstr(dwconv_last_error(), "could not be loaded") &&
              strstr(dwconv_last_error(), bad[i][0]) && strstr(dwconv_last_error(), bad[i][1]),
          "DWCONV_CUBLAS_LIBRARY=%s: status %d, %s", bad[i][0], st, dwconv_last_error());
    printf("DWCONV_CUBLAS_LIBRARY=%s: %s\n", bad[i][0], dwconv_last_error());
  }
  ck_assert_msg(!mapped(DWCONV_CUBLAS_PLUGIN_FILE) && !mapped("libcublas"), "a failed load left the plugin or cuBLAS loaded");
  unsetenv("DWCONV_CUBLAS_LIBRARY");

  /* 3. The real plugin, found by the search. */
  long before = tc_rss_kib();
  dwconv_status st = dwconv__cublas_load(&api);
  long after = tc_rss_kib();
  ck_assert_msg(st == DWCONV_SUCCESS && api != NULL, "load: status %d, %s", st, dwconv_last_error());
  if (st == DWCONV_SUCCESS) {
    ck_assert_msg(api->create != NULL && api->destroy != NULL && api->set_workspace != NULL && api->set_stream != NULL &&
              api->gemm != NULL,
          "the plugin's table has holes");
    const dwconv_cublas_api *again = NULL;
    ck_assert_msg(dwconv__cublas_load(&again) == DWCONV_SUCCESS && again == api, "a second load gave another table");
    ck_assert_msg(mapped(DWCONV_CUBLAS_PLUGIN_FILE) && mapped("libcublas.so"), "the plugin or libcublas is not mapped");
    printf("plugin loaded: VmRSS %ld KiB before, %ld KiB after (+%ld KiB for the plugin and cuBLAS)\n", before, after,
           after - before);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("cublas_plugin");
  TCase *tc = tcase_create("cublas_plugin");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_plugin);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_cublas_plugin", make_suite); }
