/* Randomised test of the CUDA backend without a GPU: the public API with BACKEND_CUDA over
 * mock_cuda.c (runtime + cuFFT) and emu_kernels.cpp (the real kernel bodies on CPU threads).
 * Each iteration draws sizes, dtype, mode, op, algorithm, strides (0 = broadcast, padded),
 * placement of A and C (host, "device", pinned host), chunk caps (DWCONV_CUDA_CHUNK_*),
 * pinned refusal, a tiny 2-D copy pitch limit, a device-memory limit and an optional user
 * stream / kernel replacement, and checks C against a double-precision direct convolution
 * (FFT: relative to max|a| * sum|b| of the row), the padding of C and A untouched, the
 * budget respected, and no device/pinned leak. Then every device resource acquisition is
 * made to fail in turn (dwconv__cuda_fault_inject): create must return OUT_OF_MEMORY and
 * free everything, or succeed (the pinned fallback). Usage: host_test [iterations]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cuda_runtime_api.h>
#include "dwconv.h"

extern size_t mock_live_dev, mock_live_host, mock_max_pitch, mock_dev_bytes;
extern int mock_fail_pinned;
size_t dwconv__cuda_fault_inject(size_t n);

static unsigned long long rng = 88172645463325252ull;
static unsigned long long rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static size_t pick(const size_t *v, size_t n) { return v[rnd() % n]; }

static void *alloc(size_t bytes, int dev) {
  void *p;
  if (dev == 2) { int save = mock_fail_pinned; mock_fail_pinned = 0; if (cudaMallocHost(&p, bytes)) abort(); mock_fail_pinned = save; mock_live_host--; }
  else if (dev) { if (cudaMalloc(&p, bytes)) abort(); }
  else p = malloc(bytes ? bytes : 1);
  return p;
}
static void release(void *p, int dev) { if (dev == 2) { mock_live_host++; cudaFreeHost(p); } else if (dev) cudaFree(p); else free(p); }

/* 1 when C (rows x (n + p - 1), float) holds the full convolutions of A's rows (n) with B's
 * rows (p), within float rounding of the double-precision sums. */
static int full_conv_ok(const float *A, const float *B, const float *C, int rows, int n, int p) {
  const int out = n + p - 1;
  for (int m = 0; m < rows; m++)
    for (int i = 0; i < out; i++) {
      double want = 0;
      for (int k = 0; k < p; k++)
        if (i - k >= 0 && i - k < n) want += (double)B[m * p + k] * A[m * n + i - k];
      if (fabs(C[m * out + i] - want) > 1e-4 * (1 + fabs(want))) return 0;
    }
  return 1;
}

static double get(const void *p, size_t i, int f64) { return f64 ? ((const double *)p)[i] : ((const float *)p)[i]; }
static void set(void *p, size_t i, double v, int f64) { if (f64) ((double *)p)[i] = v; else ((float *)p)[i] = (float)v; }

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 2000;
  const size_t Ns[] = {1, 2, 5, 7, 10, 13, 33, 64, 100};
  const size_t Ps[] = {1, 2, 3, 4, 7, 10, 20, 33, 64};
  const size_t Ms[] = {1, 2, 3, 5};
  int fails = 0, ran = 0, oom = 0;
  for (int it = 0; it < iters; it++) {
    size_t M = pick(Ms, 4), N = pick(Ns, 9), P = pick(Ps, 9);
    int f64 = rnd() % 2;
    dwconv_mode mode = (dwconv_mode)(rnd() % 4);
    dwconv_op op = (dwconv_op)(rnd() % 2);
    dwconv_algo algo = rnd() % 2 ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
    size_t out = dwconv_output_len(mode, N, P);
    size_t lda = (size_t[]){0, N, N + 3}[rnd() % 3];
    size_t ldb = (size_t[]){0, P, P + 2}[rnd() % 3];
    size_t ldc = out + (rnd() % 2);
    int adev = rnd() % 3, cdev = rnd() % 3;
    int envr = rnd() % 3, envo = rnd() % 3;
    mock_fail_pinned = rnd() % 4 == 0;
    mock_max_pitch = rnd() % 4 == 0 ? 8 : 2147483647;
    size_t limit = rnd() % 4 == 0 ? (size_t)(200 + rnd() % 20000) : 0;
    char buf[32];
    if (envr) { snprintf(buf, sizeof buf, "%d", envr == 1 ? 1 : 2); setenv("DWCONV_CUDA_CHUNK_ROWS", buf, 1); } else unsetenv("DWCONV_CUDA_CHUNK_ROWS");
    if (envo) { snprintf(buf, sizeof buf, "%d", envo == 1 ? 1 : 5); setenv("DWCONV_CUDA_CHUNK_OUTS", buf, 1); } else unsetenv("DWCONV_CUDA_CHUNK_OUTS");
    if (rnd() % 5 == 0) setenv("DWCONV_CUDA_NO_PINNED", "1", 1); else unsetenv("DWCONV_CUDA_NO_PINNED");
    size_t es = f64 ? 8 : 4;
    size_t arows = lda == 0 ? 1 : M, brows = ldb == 0 ? 1 : M;
    size_t asz = lda == 0 ? N : (M - 1) * lda + N, bsz = ldb == 0 ? P : (M - 1) * ldb + P, csz = (M - 1) * ldc + out;
    void *hA = malloc(asz * es), *hB = malloc(bsz * es), *hC = malloc(csz * es);
    for (size_t i = 0; i < asz; i++) set(hA, i, (double)(rnd() % 2001) / 1000.0 - 1.0, f64);
    for (size_t i = 0; i < bsz; i++) set(hB, i, (double)(rnd() % 2001) / 1000.0 - 1.0, f64);
    for (size_t i = 0; i < csz; i++) set(hC, i, 12345.0, f64);
    void *A = alloc(asz * es, adev), *C = alloc(csz * es, cdev);
    memcpy(A, hA, asz * es);
    memcpy(C, hC, csz * es);
    dwconv_desc d = dwconv_desc_make(M, N, P, f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
    d.mode = mode; d.op = op; d.algo = algo; d.backend = DWCONV_BACKEND_CUDA; d.device_memory_limit = limit;
    dwconv_plan *plan = NULL;
    size_t before = mock_dev_bytes;
    dwconv_status st = dwconv_plan_create(&plan, &d);
    if (st == DWCONV_ERROR_OUT_OF_MEMORY && limit != 0) { oom++; goto next; }
    if (st == DWCONV_SUCCESS && limit != 0 && mock_dev_bytes - before > limit) { printf("over budget: %zu > %zu\n", mock_dev_bytes - before, limit); fails++; }
    if (st != DWCONV_SUCCESS) { printf("create failed %d %s (M=%zu N=%zu P=%zu mode=%d algo=%d f64=%d limit=%zu)\n", st, dwconv_last_error(), M, N, P, mode, algo, f64, limit); fails++; goto next; }
    static int user_stream_obj;
    if (rnd() % 3 == 0 && dwconv_plan_set_stream(plan, &user_stream_obj) != DWCONV_SUCCESS) { printf("set_stream failed\n"); fails++; }
    if (rnd() % 3 == 0) { /* a first kernel, replaced below */
      void *junk = calloc(bsz, es);
      if (dwconv_plan_set_kernel(plan, junk, (ptrdiff_t)ldb) != DWCONV_SUCCESS) { printf("set_kernel 1 failed\n"); fails++; }
      if (dwconv_plan_execute(plan, A, (ptrdiff_t)lda, C, (ptrdiff_t)ldc) != DWCONV_SUCCESS) { printf("execute 1 failed\n"); fails++; }
      free(junk);
    }
    st = dwconv_plan_set_kernel(plan, hB, (ptrdiff_t)ldb);
    if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)lda, C, (ptrdiff_t)ldc);
    if (st != DWCONV_SUCCESS) { printf("run failed %d %s\n", st, dwconv_last_error()); fails++; dwconv_plan_destroy(plan); goto next; }
    dwconv_plan_info info;
    dwconv_plan_get_info(plan, &info);
    dwconv_plan_destroy(plan);
    ran++;
    {
      size_t off = mode == DWCONV_MODE_SAME ? (P - 1) / 2 : mode == DWCONV_MODE_VALID ? (N < P ? N : P) - 1 : 0;
      double worst = 0;
      for (size_t r = 0; r < M; r++) {
        double rowmag = 0; /* FFT error scales with the block's energy, not one output's */
        for (size_t t = 0; t < N; t++) rowmag = fmax(rowmag, fabs(get(hA, (lda ? r * lda : 0) + t, f64)));
        { double bm = 0; for (size_t t = 0; t < P; t++) bm += fabs(get(hB, (ldb ? r * ldb : 0) + t, f64)); rowmag *= bm; }
        for (size_t i = 0; i < out; i++) {
          double ref = 0, mag = 0;
          size_t m = off + i;
          for (size_t k = 0; k < P; k++) {
            if (m < k || m - k >= N) continue;
            double a = get(hA, (lda ? r * lda : 0) + m - k, f64);
            double b = get(hB, (ldb ? r * ldb : 0) + (op == DWCONV_OP_CONVOLVE ? k : P - 1 - k), f64);
            ref += a * b; mag += fabs(a * b);
          }
          double got = get(C, r * ldc + i, f64);
          double err = fabs(got - ref) / ((algo == DWCONV_ALGO_FFT ? rowmag : mag) + 1e-30);
          if (!(err <= (f64 ? 1e-12 : 1e-5)) && !(fabs(got - ref) < 1e-6 && mag < 1e-6)) { if (err > worst || isnan(err)) worst = isnan(err) ? INFINITY : err; }
        }
        for (size_t i = out; r + 1 < M && i < ldc; i++)
          if (get(C, r * ldc + i, f64) != 12345.0) { worst = INFINITY; printf("  padding written r=%zu i=%zu\n", r, i); }
      }
      if (memcmp(A, hA, asz * es) != 0) { worst = INFINITY; printf("  A modified\n"); }
      if (worst > 0) {
        fails++;
        printf("FAIL it=%d M=%zu N=%zu P=%zu f64=%d mode=%d op=%d algo=%d(L=%zu S=%zu) lda=%zu ldb=%zu ldc=%zu adev=%d cdev=%d envr=%d envo=%d nopin=%d pitch=%zu limit=%zu worst=%g\n",
               it, M, N, P, f64, mode, op, info.algo, info.block_len, info.block_step, lda, ldb, ldc, adev, cdev, envr, envo, mock_fail_pinned, mock_max_pitch, limit, worst);
      }
    }
  next:
    release(A, adev); release(C, cdev); free(hA); free(hB); free(hC);
    if (mock_live_dev != 0 || mock_live_host != 0) { printf("LEAK dev=%zu host=%zu at it=%d\n", mock_live_dev, mock_live_host, it); fails++; mock_live_dev = mock_live_host = 0; }
  }
  /* fault injection: every acquisition failing in turn */
  unsetenv("DWCONV_CUDA_CHUNK_ROWS"); unsetenv("DWCONV_CUDA_CHUNK_OUTS"); unsetenv("DWCONV_CUDA_NO_PINNED");
  mock_fail_pinned = 0;
  for (int algo = 1; algo <= 2; algo++) {
    for (size_t n = 1;; n++) {
      dwconv_desc d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
      d.backend = DWCONV_BACKEND_CUDA; d.algo = (dwconv_algo)algo;
      dwconv__cuda_fault_inject(n);
      dwconv_plan *plan = NULL;
      dwconv_status st = dwconv_plan_create(&plan, &d);
      size_t made = dwconv__cuda_fault_inject(0);
      if (mock_live_dev != (st == DWCONV_SUCCESS ? mock_live_dev : 0)) {}
      if (st == DWCONV_SUCCESS) {
        dwconv_plan_info info; dwconv_plan_get_info(plan, &info);
        dwconv_plan_destroy(plan);
        if (mock_live_dev || mock_live_host) { printf("LEAK after fault n=%zu\n", n); fails++; }
        if (n > made) { printf("fault injection algo %d: %zu acquisitions covered\n", algo, made); break; }
        printf("  fault at acquisition %zu: create succeeded (pinned refused: pageable fallback), workspace %zu\n", n, info.workspace_bytes);
      } else {
        if (st != DWCONV_ERROR_OUT_OF_MEMORY) { printf("fault n=%zu gave %d\n", n, st); fails++; }
        if (mock_live_dev || mock_live_host) { printf("LEAK after failed create n=%zu: dev=%zu host=%zu\n", n, mock_live_dev, mock_live_host); fails++; mock_live_dev = mock_live_host = 0; }
        if (n < 3) printf("  n=%zu: %s\n", n, dwconv_last_error());
      }
    }
  }
  /* Pinned staging is made by the first execute on pageable host data: each of its
   * acquisitions failing in turn gives the pageable fallback (or nothing to fail once all
   * are covered), the right result, and nothing leaked; device data never makes staging. */
  for (int dev_data = 0; dev_data <= 2; dev_data++) /* pageable host, device, pinned host */
    for (size_t n = 1;; n++) {
      dwconv_desc d = dwconv_desc_make(4, 300, 9, DWCONV_FLOAT32);
      d.backend = DWCONV_BACKEND_CUDA;
      dwconv_plan *plan = NULL;
      float hA[4 * 300], hB[4 * 9], hC[4 * 308];
      for (int i = 0; i < 1200; i++) hA[i] = (float)(i % 13) - 6.0f;
      for (int i = 0; i < 36; i++) hB[i] = (float)(i % 7) - 3.0f;
      int ok = dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS && dwconv_plan_set_kernel(plan, hB, 9) == DWCONV_SUCCESS;
      dwconv_plan_info before = {0}, after = {0};
      if (ok) dwconv_plan_get_info(plan, &before);
      float *A = (float *)alloc(sizeof hA, dev_data), *C = (float *)alloc(sizeof hC, dev_data);
      memcpy(A, hA, sizeof hA); /* the mock's device memory is host memory */
      dwconv__cuda_fault_inject(n);
      ok = ok && dwconv_plan_execute(plan, A, 300, C, 308) == DWCONV_SUCCESS;
      size_t made = dwconv__cuda_fault_inject(0);
      if (ok) dwconv_plan_get_info(plan, &after);
      memcpy(hC, C, sizeof hC);
      ok = ok && full_conv_ok(hA, hB, hC, 4, 300, 9);
      if (ok && dev_data && after.workspace_bytes != before.workspace_bytes) ok = 0; /* no staging made */
      /* With every acquisition allowed, pageable host data must get its staging (4 buffers). */
      if (ok && n > made && dev_data == 0 && (made < 4 || after.workspace_bytes <= before.workspace_bytes)) ok = 0;
      dwconv_plan_destroy(plan);
      release(A, dev_data); release(C, dev_data);
      if (!ok || mock_live_dev || mock_live_host) {
        printf("FAIL staging fault n=%zu (device data %d): ok %d, leak dev=%zu host=%zu, %s\n", n, dev_data, ok,
               mock_live_dev, mock_live_host, dwconv_last_error());
        fails++;
        mock_live_dev = mock_live_host = 0;
        break;
      }
      if (n > made) {
        printf("execute-time staging (device data %d): %zu acquisitions covered, workspace %zu -> %zu bytes\n", dev_data,
               made, before.workspace_bytes, after.workspace_bytes);
        break;
      }
    }
  /* BACKEND_AUTO picked the GPU, whose first allocation fails: the plan is made on the CPU
   * (explicit BACKEND_CUDA gives OUT_OF_MEMORY above), nothing leaks, the result is right. */
  for (int algo = 0; algo <= 2; algo++) {
    dwconv_desc d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
    d.algo = (dwconv_algo)algo; /* backend AUTO */
    dwconv__cuda_fault_inject(1);
    dwconv_plan *plan = NULL;
    dwconv_status st = dwconv_plan_create(&plan, &d);
    dwconv__cuda_fault_inject(0);
    dwconv_plan_info info = {0};
    if (st == DWCONV_SUCCESS) dwconv_plan_get_info(plan, &info);
    float A[3 * 50], B[3 * 7], C[3 * 56];
    for (int i = 0; i < 150; i++) A[i] = (float)(i % 11) - 5.0f;
    for (int i = 0; i < 21; i++) B[i] = (float)(i % 5) - 2.0f;
    int ok = st == DWCONV_SUCCESS && info.backend == DWCONV_BACKEND_CPU && *dwconv_last_error() == '\0' &&
             dwconv_plan_set_kernel(plan, B, 7) == DWCONV_SUCCESS && dwconv_plan_execute(plan, A, 50, C, 56) == DWCONV_SUCCESS;
    ok = ok && full_conv_ok(A, B, C, 3, 50, 7);
    /* That CPU plan must refuse device memory (the real CPU would crash reading it), in
     * set_kernel, execute and the one-shot call alike. */
    float *dA = (float *)alloc(sizeof A, 1), *dB = (float *)alloc(sizeof B, 1), *dC = (float *)alloc(sizeof C, 1);
    if (ok) {
      dwconv_status s1 = dwconv_plan_execute(plan, dA, 50, C, 56);
      int m1 = strstr(dwconv_last_error(), "GPU memory") != NULL;
      dwconv_status s2 = dwconv_plan_execute(plan, A, 50, dC, 56);
      dwconv_status s3 = dwconv_plan_set_kernel(plan, dB, 7);
      dwconv__cuda_fault_inject(1);
      dwconv_status s4 = dwconv_convolve(&d, dA, 50, B, 7, C, 56);
      dwconv__cuda_fault_inject(0);
      if (s1 != DWCONV_ERROR_INVALID_VALUE || !m1 || s2 != DWCONV_ERROR_INVALID_VALUE ||
          s3 != DWCONV_ERROR_INVALID_VALUE || s4 != DWCONV_ERROR_INVALID_VALUE) {
        printf("FAIL AUTO -> CPU plan given device memory: statuses %d %d %d %d (want %d), %s\n", s1, s2, s3, s4,
               DWCONV_ERROR_INVALID_VALUE, dwconv_last_error());
        ok = 0;
      }
    }
    release(dA, 1); release(dB, 1); release(dC, 1);
    dwconv_plan_destroy(plan);
    if (!ok || mock_live_dev || mock_live_host) {
      printf("FAIL AUTO -> CPU fallback (algo %d): status %d, backend %d, leak dev=%zu host=%zu, %s\n", algo, st,
             info.backend, mock_live_dev, mock_live_host, dwconv_last_error());
      fails++;
      mock_live_dev = mock_live_host = 0;
    } else {
      printf("BACKEND_AUTO with the first device allocation failing (algo %d): plan made on the CPU, result right, "
             "device pointers refused\n", algo);
    }
  }
  printf("ran %d, oom (small limit) %d, fails %d\n", ran, oom, fails);
  return fails != 0;
}
