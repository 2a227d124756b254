/* CUDA-only paths that the shared reference tests cannot reach, each compared with the CPU
 * backend on the same data (direct: within the float tolerance; the CPU result is itself
 * checked against the long-double reference by test_correctness):
 *   - device pointers for A and C, used in place (cudaMalloc'd), on the plan's own streams;
 *   - the same queued on a user stream (dwconv_plan_set_stream), synchronised by the test;
 *   - host data with pinned staging refused (DWCONV_CUDA_NO_PINNED=1: pageable fallback);
 *   - host data with a device_memory_limit far below the data size (streamed in chunks);
 *   - set_stream on a CPU plan is NOT_SUPPORTED;
 *   - device-resident or pinned-host A and C in every mode x op x dtype x algorithm, padded
 *     rows, lda = 0 and ldb = 0, P < N and P > N, against the long-double reference
 *     (test_device_layouts; with `cpu` it runs on malloc'd buffers, checking the test itself).
 * Built only when CUDA is; `test_cuda_memory cuda` exits 77 (skipped) without a GPU. */
#define _POSIX_C_SOURCE 200809L
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

/* Rows x N, P per case: long rows, many rows, P > N. */
static const size_t k_cases[][3] = {{64, 20000, 31}, {3000, 257, 9}, {16, 300, 1000}, {5, 4099, 129}};
#define N_CASES (sizeof k_cases / sizeof k_cases[0])

/* CPU result of d on A, B into a fresh buffer (asserts success). The CPU runs FFT cases
 * with DIRECT when this build has no FFTW (GPU machines may lack its headers). */
static void *cpu_result(dwconv_desc d, const void *A, const void *B, size_t len) {
  d.backend = DWCONV_BACKEND_CPU;
  d.threads = 0;
  if (!tc_fft_available(DWCONV_BACKEND_CPU)) d.algo = DWCONV_ALGO_DIRECT;
  void *C = tc_alloc(d.rows * len, d.dtype);
  char err[256];
  dwconv_status st = tc_run(&d, A, (ptrdiff_t)d.signal_len, B, (ptrdiff_t)d.kernel_len, C, (ptrdiff_t)len,
                            err, sizeof err);
  ck_assert_msg(st == DWCONV_SUCCESS, "CPU run: %s (%s)", dwconv_status_string(st), err);
  return C;
}

/* Largest per-row relative difference of C against the CPU result, scaled like the
 * reference comparison (the CPU result stands in for the reference). */
static double diff_to_cpu(const void *C, const void *Ccpu, dwconv_dtype dt, size_t rows, size_t len) {
  long double *ref = (long double *)malloc(2 * rows * len * sizeof *ref);
  ck_assert_ptr_nonnull(ref);
  for (size_t i = 0; i < rows * len; i++) {
    ref[i] = tc_get(Ccpu, dt, i);
    ref[rows * len + i] = ref[i] * ref[i];
  }
  double e = tc_max_row_err(C, (ptrdiff_t)len, dt, ref, rows, len);
  free(ref);
  return e;
}

#define CUDA_OK(call)                                                                      \
  do {                                                                                     \
    cudaError_t e_ = (call);                                                               \
    ck_assert_msg(e_ == cudaSuccess, "%s: %s", #call, cudaGetErrorString(e_));             \
  } while (0)

/* Device-resident A and C, with and without a user stream, for both algorithms and dtypes. */
START_TEST(test_device_pointers) {
  const size_t rows = k_cases[_i][0], n = k_cases[_i][1], p = k_cases[_i][2];
  for (int di = 0; di < 2; di++)
    for (int ai = 0; ai < 2; ai++)
      for (int use_stream = 0; use_stream < 2; use_stream++) {
        dwconv_dtype dt = di ? DWCONV_FLOAT64 : DWCONV_FLOAT32;
        dwconv_algo algo = ai ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
        dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, algo);
        size_t len = n, es = tc_esize(dt);
        void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt), *C = tc_alloc(rows * len, dt);
        tc_rng r;
        tc_rng_seed(&r, 900 + (uint64_t)_i);
        tc_fill_normal(&r, A, dt, rows, n, n);
        tc_fill_normal(&r, B, dt, rows, p, p);
        void *Ccpu = cpu_result(d, A, B, len);
        void *dA = NULL, *dC = NULL;
        CUDA_OK(cudaMalloc(&dA, rows * n * es));
        CUDA_OK(cudaMalloc(&dC, rows * len * es));
        CUDA_OK(cudaMemcpy(dA, A, rows * n * es, cudaMemcpyHostToDevice));
        CUDA_OK(cudaMemset(dC, 0xEE, rows * len * es));
        cudaStream_t s = NULL;
        if (use_stream) CUDA_OK(cudaStreamCreate(&s));
        dwconv_plan *plan = NULL;
        ck_assert_int_eq(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS);
        if (use_stream) ck_assert_int_eq(dwconv_plan_set_stream(plan, (void *)s), DWCONV_SUCCESS);
        ck_assert_int_eq(dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p), DWCONV_SUCCESS);
        dwconv_status st = dwconv_plan_execute(plan, dA, (ptrdiff_t)n, dC, (ptrdiff_t)len);
        ck_assert_msg(st == DWCONV_SUCCESS, "execute on device pointers: %s (%s)", dwconv_status_string(st),
                      dwconv_last_error());
        if (use_stream) CUDA_OK(cudaStreamSynchronize(s));
        CUDA_OK(cudaMemcpy(C, dC, rows * len * es, cudaMemcpyDeviceToHost));
        double e = diff_to_cpu(C, Ccpu, dt, rows, len);
        ck_assert_msg(e <= tc_tol(dt), "rows %zu N %zu P %zu %s %s stream %d: rel diff to CPU %.3g", rows, n, p,
                      tc_dtype_name(dt), tc_algo_name(algo), use_stream, e);
        dwconv_plan_destroy(plan);
        if (use_stream) CUDA_OK(cudaStreamDestroy(s));
        CUDA_OK(cudaFree(dA));
        CUDA_OK(cudaFree(dC));
        free(A); free(B); free(C); free(Ccpu);
      }
}
END_TEST

/* Host data through pageable copies (pinned refused) and through a memory limit far below the
 * data, so it streams in many chunks; results match the CPU and the unconstrained run. */
START_TEST(test_host_streaming) {
  const size_t rows = k_cases[_i][0], n = k_cases[_i][1], p = k_cases[_i][2];
  for (int ai = 0; ai < 2; ai++)
    for (int variant = 0; variant < 2; variant++) {
      dwconv_dtype dt = DWCONV_FLOAT32;
      dwconv_algo algo = ai ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
      dwconv_desc d = tc_desc(rows, n, p, dt, DWCONV_MODE_FULL, DWCONV_OP_CORRELATE, algo);
      size_t len = n + p - 1, es = tc_esize(dt);
      void *A = tc_alloc(rows * n, dt), *B = tc_alloc(rows * p, dt), *C = tc_alloc(rows * len, dt);
      tc_rng r;
      tc_rng_seed(&r, 950 + (uint64_t)_i);
      tc_fill_normal(&r, A, dt, rows, n, n);
      tc_fill_normal(&r, B, dt, rows, p, p);
      void *Ccpu = cpu_result(d, A, B, len);
      if (variant == 0) setenv("DWCONV_CUDA_NO_PINNED", "1", 1);
      else d.device_memory_limit = (rows * (n + len) * es) / 8 + ((size_t)4 << 20);
      memset(C, 0xEE, rows * len * es);
      char err[256];
      dwconv_status st = tc_run(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)len, err, sizeof err);
      unsetenv("DWCONV_CUDA_NO_PINNED");
      ck_assert_msg(st == DWCONV_SUCCESS, "%s: %s (%s)", variant ? "memory limit" : "no pinned",
                    dwconv_status_string(st), err);
      double e = diff_to_cpu(C, Ccpu, dt, rows, len);
      ck_assert_msg(e <= tc_tol(dt), "rows %zu N %zu P %zu %s %s: rel diff to CPU %.3g", rows, n, p,
                    tc_algo_name(algo), variant ? "memory limit" : "no pinned", e);
      free(A); free(B); free(C); free(Ccpu);
    }
}
END_TEST

/* Every mode x op x dtype x algorithm with device-resident (cudaMalloc) or pinned-host
 * (cudaMallocHost: copied directly, no staging) A and C, in three layouts: padded rows (lda >
 * N, ldc > output_len, the padding must survive), lda = 0 (one signal, a filter bank) and
 * ldb = 0 (one kernel), P < N and P > N; each against the long-double reference.
 * DWCONV_TEST_QUICK=1 runs every fifth combination. Run with `cpu`, the same checks use
 * malloc'd buffers (this is how the test itself is checked on machines without a GPU). */
typedef enum { PLACE_DEVICE = 0, PLACE_PINNED = 1 } placement;

static void *place_alloc(placement where, size_t bytes) {
  void *p = NULL;
  if (tc_backend == DWCONV_BACKEND_CPU) p = malloc(bytes);
  else if (where == PLACE_DEVICE) CUDA_OK(cudaMalloc(&p, bytes));
  else CUDA_OK(cudaMallocHost(&p, bytes));
  ck_assert_ptr_nonnull(p);
  return p;
}
static void place_free(placement where, void *p) {
  if (tc_backend == DWCONV_BACKEND_CPU) free(p);
  else if (where == PLACE_DEVICE) CUDA_OK(cudaFree(p));
  else CUDA_OK(cudaFreeHost(p));
}
static void place_copy(placement where, void *dst, const void *src, size_t bytes, int to_place) {
  if (tc_backend == DWCONV_BACKEND_CPU || where == PLACE_PINNED) memcpy(dst, src, bytes);
  else CUDA_OK(cudaMemcpy(dst, src, bytes, to_place ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost));
}

START_TEST(test_device_layouts) {
  static const size_t np[][2] = {{300, 17}, {40, 129}, {1000, 301}};
  const char *q = getenv("DWCONV_TEST_QUICK");
  const int stride = q != NULL && strcmp(q, "0") != 0 ? 5 : 1; /* 5: coprime with every inner loop length, so every layout x placement still runs */
  const size_t rows = 5;
  tc_failures fl = {0};
  int combo = 0, ran = 0;
  for (size_t s = 0; s < sizeof np / sizeof np[0]; s++)
    for (int di = 0; di < 2; di++)
      for (int ai = 0; ai < 2; ai++)
        for (int mode = 0; mode < 4; mode++)
          for (int op = 0; op < 2; op++)
            for (int layout = 0; layout < 3; layout++)
              for (int pl = 0; pl < 2; pl++) {
                if (combo++ % stride != 0) continue;
                ran++;
                const size_t n = np[s][0], p = np[s][1];
                const dwconv_dtype dt = di ? DWCONV_FLOAT64 : DWCONV_FLOAT32;
                const dwconv_algo algo = ai ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
                const placement where = (placement)pl;
                dwconv_desc d = tc_desc(rows, n, p, dt, (dwconv_mode)mode, (dwconv_op)op, algo);
                const size_t out = tc_out_len(d.mode, n, p), es = tc_esize(dt);
                const ptrdiff_t lda = layout == 1 ? 0 : layout == 0 ? (ptrdiff_t)n + 3 : (ptrdiff_t)n;
                const ptrdiff_t ldb = layout == 2 ? 0 : (ptrdiff_t)p;
                const ptrdiff_t ldc = layout == 0 ? (ptrdiff_t)out + 5 : (ptrdiff_t)out;
                const size_t arows = lda == 0 ? 1 : rows, brows = ldb == 0 ? 1 : rows;
                const size_t a_elems = (arows - 1) * (size_t)(lda ? lda : 0) + n;
                const size_t c_elems = (rows - 1) * (size_t)ldc + out;
                void *A = tc_alloc(a_elems, dt), *B = tc_alloc(brows * p, dt), *C = tc_alloc(c_elems, dt);
                tc_rng r;
                tc_rng_seed(&r, 1200 + (uint64_t)combo);
                tc_fill_normal(&r, A, dt, arows, n, lda ? (size_t)lda : n);
                tc_fill_normal(&r, B, dt, brows, p, p);
                tc_fill_value(C, dt, c_elems, 777.0); /* the padding of C must keep this */
                void *pA = place_alloc(where, a_elems * es), *pC = place_alloc(where, c_elems * es);
                place_copy(where, pA, A, a_elems * es, 1);
                place_copy(where, pC, C, c_elems * es, 1);
                char err[256] = "";
                dwconv_status st = tc_run(&d, pA, lda, B, ldb, pC, ldc, err, sizeof err);
                place_copy(where, C, pC, c_elems * es, 0);
                if (st != DWCONV_SUCCESS) {
                  tc_fail(&fl, "N %zu P %zu %s %s %s %s layout %d %s: %s (%s)", n, p, tc_dtype_name(dt),
                          tc_algo_name(algo), tc_mode_name(d.mode), tc_op_name(d.op), layout,
                          pl ? "pinned" : "device", dwconv_status_string(st), err);
                } else {
                  long double *ref = tc_ref_problem(&d, A, lda, B, ldb);
                  double e = tc_max_row_err(C, ldc, dt, ref, rows, out);
                  free(ref);
                  int pad_ok = 1;
                  for (size_t m = 0; m < rows && ldc > (ptrdiff_t)out; m++)
                    for (size_t j = out; j < (size_t)ldc && m * (size_t)ldc + j < c_elems; j++)
                      if (tc_get(C, dt, m * (size_t)ldc + j) != 777.0L) pad_ok = 0;
                  if (!(e <= tc_tol(dt)) || !pad_ok)
                    tc_fail(&fl, "N %zu P %zu %s %s %s %s layout %d %s: error %.3g%s", n, p, tc_dtype_name(dt),
                            tc_algo_name(algo), tc_mode_name(d.mode), tc_op_name(d.op), layout,
                            pl ? "pinned" : "device", e, pad_ok ? "" : ", C's row padding overwritten");
                }
                place_free(where, pA);
                place_free(where, pC);
                free(A); free(B); free(C);
              }
  printf("test_cuda_memory: device layouts: %d of %d combinations run, %ld failed\n", ran, combo, fl.count);
  fflush(stdout);
  ck_assert_msg(fl.count == 0, "%ld of %d layout combinations failed (first ones above)", fl.count, ran);
}
END_TEST

/* CPU plans do not take a stream. */
START_TEST(test_cpu_plan_stream) {
  dwconv_desc d = dwconv_desc_make(2, 16, 3, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CPU;
  dwconv_plan *plan = NULL;
  ck_assert_int_eq(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS);
  ck_assert_int_eq(dwconv_plan_set_stream(plan, NULL), DWCONV_ERROR_NOT_SUPPORTED);
  dwconv_plan_destroy(plan);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("cuda_memory");
  TCase *tc = tcase_create("cuda_memory");
  tcase_set_timeout(tc, 1800);
  tcase_add_loop_test(tc, test_device_pointers, 0, (int)N_CASES);
  tcase_add_loop_test(tc, test_host_streaming, 0, (int)N_CASES);
  tcase_add_test(tc, test_cpu_plan_stream);
  suite_add_tcase(s, tc);
  TCase *lay = tcase_create("layouts");
  tcase_set_timeout(lay, 1800);
  tcase_add_test(lay, test_device_layouts);
  suite_add_tcase(s, lay);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_cuda_memory", make_suite); }
