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
#include <pthread.h>
#include <sys/mman.h>
#include <cuda_runtime_api.h>
#include <cufft.h>
#include "dwconv.h"

extern size_t mock_live_dev, mock_live_host, mock_max_pitch, mock_dev_bytes, mock_host_allocs;
extern int mock_fail_pinned, mock_violations, mock_ctx_made[2], mock_fail_launch, mock_sticky_at_launch;
extern cufftResult mock_cufft_refuse;
extern size_t mock_fft_forward_execs;
extern long long mock_fft_last_batch;
extern unsigned long long mock_rng;
void mock_set_last_error(cudaError_t e);
void mock_clear_sticky(void);
int mock_current_context(void);
size_t dwconv__cuda_fault_inject(size_t n);
size_t dwconv__cuda_pinned_trim(void);
extern size_t mock_sync_frees;
extern int mock_pools_supported;

/* Pinned host memory still held once every plan is gone, less the library's pinned cache
 * (emptied here: what is left is a leak). */
static size_t live_host(void) {
  dwconv__cuda_pinned_trim();
  return mock_live_host;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned long long rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static size_t pick(const size_t *v, size_t n) { return v[rnd() % n]; }

/* Placement of a test array: 0 pageable host, 1 device, 2 pinned host, 3 managed, 4 read-only
 * host (a PROT_READ mapping, like the CLI's mapped input files; filled before protecting). */
static size_t ro_len(size_t bytes) { if (bytes > ((size_t)1 << 20)) abort(); return (size_t)1 << 20; }
static void *alloc(size_t bytes, int dev) {
  void *p;
  if (dev == 2) { int save = mock_fail_pinned; mock_fail_pinned = 0; if (cudaMallocHost(&p, bytes)) abort(); mock_fail_pinned = save; mock_live_host--; mock_host_allocs--; }
  else if (dev == 3) { if (cudaMallocManaged(&p, bytes, cudaMemAttachGlobal)) abort(); mock_live_dev--; }
  else if (dev == 4) { p = mmap(NULL, ro_len(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); if (p == MAP_FAILED) abort(); }
  else if (dev) { if (cudaMalloc(&p, bytes)) abort(); }
  else p = malloc(bytes ? bytes : 1);
  return p;
}
static void protect(void *p, size_t bytes, int dev) { if (dev == 4 && mprotect(p, ro_len(bytes), PROT_READ)) abort(); }
static void release(void *p, int dev) {
  if (dev == 2) { mock_live_host++; cudaFreeHost(p); }
  else if (dev == 3) { mock_live_dev++; cudaFree(p); }
  else if (dev == 4) munmap(p, ro_len(0));
  else if (dev) cudaFree(p);
  else free(p);
}

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

/* One problem through the CUDA backend, checked against a double-precision direct
 * convolution (FFT: relative to max|a| * sum|b| of the row), C's row padding and A untouched,
 * the budget respected and nothing leaked. Returns 1 on a failure (printed), 0 otherwise;
 * *oom counts creates refused by a small device_memory_limit. */
typedef struct tcase {
  size_t M, N, P, lda, ldb, ldc, limit;
  int f64, adev, cdev, user_stream, junk_kernel;
  dwconv_mode mode;
  dwconv_op op;
  dwconv_algo algo;
} tcase;

static int run_case(const tcase *t, int it, int *oom) {
  const size_t M = t->M, N = t->N, P = t->P, lda = t->lda, ldb = t->ldb, ldc = t->ldc;
  const int f64 = t->f64;
  const size_t out = dwconv_output_len(t->mode, N, P), es = f64 ? 8 : 4;
  const size_t asz = lda == 0 ? N : (M - 1) * lda + N, bsz = ldb == 0 ? P : (M - 1) * ldb + P, csz = (M - 1) * ldc + out;
  int fails = 0;
  void *hA = malloc(asz * es), *hB = malloc(bsz * es), *hC = malloc(csz * es);
  for (size_t i = 0; i < asz; i++) set(hA, i, (double)(rnd() % 2001) / 1000.0 - 1.0, f64);
  for (size_t i = 0; i < bsz; i++) set(hB, i, (double)(rnd() % 2001) / 1000.0 - 1.0, f64);
  for (size_t i = 0; i < csz; i++) set(hC, i, 12345.0, f64);
  void *A = alloc(asz * es, t->adev), *C = alloc(csz * es, t->cdev == 4 ? 0 : t->cdev);
  const int cdev = t->cdev == 4 ? 0 : t->cdev;
  memcpy(A, hA, asz * es);
  protect(A, asz * es, t->adev);
  memcpy(C, hC, csz * es);
  dwconv_desc d = dwconv_desc_make(M, N, P, f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
  d.mode = t->mode; d.op = t->op; d.algo = t->algo; d.backend = DWCONV_BACKEND_CUDA; d.device_memory_limit = t->limit;
  dwconv_plan *plan = NULL;
  cudaStream_t us = NULL;
  size_t before = mock_dev_bytes;
  dwconv_plan_info info = {0};
  dwconv_status st = dwconv_plan_create(&plan, &d);
  if (st == DWCONV_ERROR_OUT_OF_MEMORY && t->limit != 0) { (*oom)++; goto next; }
  if (st == DWCONV_SUCCESS && t->limit != 0 && mock_dev_bytes - before > t->limit) { printf("over budget: %zu > %zu\n", mock_dev_bytes - before, t->limit); fails++; }
  if (st != DWCONV_SUCCESS) { printf("create failed %d %s (M=%zu N=%zu P=%zu mode=%d algo=%d f64=%d limit=%zu)\n", st, dwconv_last_error(), M, N, P, t->mode, t->algo, f64, t->limit); fails++; goto next; }
  if (t->user_stream) {
    if (cudaStreamCreate(&us) != cudaSuccess) abort();
    if (dwconv_plan_set_stream(plan, us) != DWCONV_SUCCESS) { printf("set_stream failed: %s\n", dwconv_last_error()); fails++; }
  }
  if (t->junk_kernel) { /* a first kernel, replaced below */
    void *junk = calloc(bsz, es);
    if (dwconv_plan_set_kernel(plan, junk, (ptrdiff_t)ldb) != DWCONV_SUCCESS) { printf("set_kernel 1 failed\n"); fails++; }
    if (dwconv_plan_execute(plan, A, (ptrdiff_t)lda, C, (ptrdiff_t)ldc) != DWCONV_SUCCESS) { printf("execute 1 failed\n"); fails++; }
    free(junk);
  }
  st = dwconv_plan_set_kernel(plan, hB, (ptrdiff_t)ldb);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)lda, C, (ptrdiff_t)ldc);
  if (st != DWCONV_SUCCESS) { printf("run failed %d %s\n", st, dwconv_last_error()); fails++; dwconv_plan_destroy(plan); goto next; }
  /* An asynchronous execute (device A and C on the user stream) is complete after the stream
   * is synchronised: only then may C be read. */
  if (us != NULL && cudaStreamSynchronize(us) != cudaSuccess) abort();
  /* The device slots for host data are made by the execute: the budget holds them too. */
  if (t->limit != 0 && mock_dev_bytes - before > t->limit) { printf("over budget after execute: %zu > %zu\n", mock_dev_bytes - before, t->limit); fails++; }
  dwconv_plan_get_info(plan, &info);
  if (it < 0) printf("  (fixed case: algo %d, block length %zu)\n", info.algo, info.block_len);
  if (getenv("HOSTTEST_HASH") != NULL) { /* C's bytes, to compare two builds bit for bit */
    unsigned long long h = 1469598103934665603ull;
    for (size_t i = 0; i < csz * es; i++) h = (h ^ ((const unsigned char *)C)[i]) * 1099511628211ull;
    printf("  hash it=%d algo=%d f64=%d L=%zu: %016llx\n", it, info.algo, f64, info.block_len, h);
  }
  {
    size_t off = t->mode == DWCONV_MODE_SAME ? (P - 1) / 2 : t->mode == DWCONV_MODE_VALID ? (N < P ? N : P) - 1 : 0;
    double worst = 0;
    for (size_t r = 0; r < M; r++) {
      double rowmag = 0; /* FFT error scales with the block's energy, not one output's */
      for (size_t k = 0; k < N; k++) rowmag = fmax(rowmag, fabs(get(hA, (lda ? r * lda : 0) + k, f64)));
      { double bm = 0; for (size_t k = 0; k < P; k++) bm += fabs(get(hB, (ldb ? r * ldb : 0) + k, f64)); rowmag *= bm; }
      for (size_t i = 0; i < out; i++) {
        double ref = 0, mag = 0;
        size_t m = off + i;
        for (size_t k = 0; k < P; k++) {
          if (m < k || m - k >= N) continue;
          double a = get(hA, (lda ? r * lda : 0) + m - k, f64);
          double b = get(hB, (ldb ? r * ldb : 0) + (t->op == DWCONV_OP_CONVOLVE ? k : P - 1 - k), f64);
          ref += a * b; mag += fabs(a * b);
        }
        double got = get(C, r * ldc + i, f64);
        double err = fabs(got - ref) / ((info.algo == DWCONV_ALGO_FFT ? rowmag : mag) + 1e-30);
        if (!(err <= (f64 ? 1e-12 : 1e-5)) && !(fabs(got - ref) < 1e-6 && mag < 1e-6)) { if (err > worst || isnan(err)) worst = isnan(err) ? INFINITY : err; }
      }
      for (size_t i = out; r + 1 < M && i < ldc; i++)
        if (get(C, r * ldc + i, f64) != 12345.0) { worst = INFINITY; printf("  padding written r=%zu i=%zu\n", r, i); }
    }
    if (memcmp(A, hA, asz * es) != 0) { worst = INFINITY; printf("  A modified\n"); }
    if (worst > 0) {
      fails++;
      printf("FAIL it=%d M=%zu N=%zu P=%zu f64=%d mode=%d op=%d algo=%d(L=%zu S=%zu) lda=%zu ldb=%zu ldc=%zu adev=%d cdev=%d stream=%d chunk_rows=%s chunk_outs=%s stage=%s nopin=%d pitch=%zu limit=%zu worst=%g\n",
             it, M, N, P, f64, t->mode, t->op, info.algo, info.block_len, info.block_step, lda, ldb, ldc, t->adev, t->cdev, t->user_stream,
             getenv("DWCONV_CUDA_CHUNK_ROWS") ? getenv("DWCONV_CUDA_CHUNK_ROWS") : "-", getenv("DWCONV_CUDA_CHUNK_OUTS") ? getenv("DWCONV_CUDA_CHUNK_OUTS") : "-",
             getenv("DWCONV_CUDA_STAGE_BYTES") ? getenv("DWCONV_CUDA_STAGE_BYTES") : "-", mock_fail_pinned, mock_max_pitch, t->limit, worst);
    }
  }
  dwconv_plan_destroy(plan);
next:
  if (us != NULL) cudaStreamDestroy(us);
  release(A, t->adev); release(C, cdev); free(hA); free(hB); free(hC);
  if (mock_live_dev != 0 || live_host() != 0) { printf("LEAK dev=%zu host=%zu at it=%d\n", mock_live_dev, mock_live_host, it); fails++; mock_live_dev = mock_live_host = 0; }
  return fails;
}

static void set_env_size(const char *name, size_t v) {
  char buf[32];
  if (v == 0) { unsetenv(name); return; }
  snprintf(buf, sizeof buf, "%zu", v);
  setenv(name, buf, 1);
}

/* A device-resident f32 direct problem on `plan`'s data: fills A and B, runs, returns 1 when C
 * holds the full convolution. rows x n signal, p taps. */
static int device_run(dwconv_plan *plan, int rows, int n, int p, float *A, float *B, float *C) {
  for (int i = 0; i < rows * n; i++) A[i] = (float)(i % 9) - 4.0f;
  for (int i = 0; i < rows * p; i++) B[i] = (float)(i % 5) - 2.0f;
  if (dwconv_plan_set_kernel(plan, B, p) != DWCONV_SUCCESS) return 0;
  if (dwconv_plan_execute(plan, A, n, C, n + p - 1) != DWCONV_SUCCESS) return 0;
  return full_conv_ok(A, B, C, rows, n, p);
}

/* Staging sized to the work: a one-chunk problem makes one device slot and pins nothing (its
 * copies go straight from pageable memory); a problem of many chunks pins a ring of fixed-size
 * buffers however large its chunks are. */
static int staging_sizes(void) {
  int fails = 0;
  dwconv__cuda_pinned_trim(); /* pinned allocations are counted below */
  for (int chunks = 1; chunks <= 2; chunks++) {
    const int rows = 8, n = 2000, p = 9;
    if (chunks == 2) setenv("DWCONV_CUDA_CHUNK_ROWS", "2", 1); else unsetenv("DWCONV_CUDA_CHUNK_ROWS");
    setenv("DWCONV_CUDA_STAGE_BYTES", "4096", 1);
    dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
    d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_DIRECT;
    dwconv_plan *plan = NULL;
    size_t dev0 = mock_dev_bytes, pins0 = mock_host_allocs;
    float *A = malloc(sizeof(float) * rows * n), *B = malloc(sizeof(float) * rows * p), *C = malloc(sizeof(float) * rows * (n + p - 1));
    int ok = dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS;
    const size_t created = mock_dev_bytes - dev0;
    ok = ok && device_run(plan, rows, n, p, A, B, C);
    const size_t dev_bytes = mock_dev_bytes - dev0;
    /* taps at create; the execute on host data adds one slot (a chunk's clipped input +
     * output) per chunk in flight */
    const size_t chunk_rows = chunks == 1 ? rows : 2, slot = chunk_rows * (n + (n + p - 1)) * sizeof(float);
    const size_t want = rows * p * sizeof(float) + (chunks == 1 ? 1 : 2) * slot;
    if (created != rows * p * sizeof(float)) ok = 0;
    const size_t pins = mock_host_allocs - pins0;
    dwconv_plan_info info = {0};
    if (ok) dwconv_plan_get_info(plan, &info);
    const size_t want_pins = chunks == 1 ? 0 : 3;
    if (!ok || dev_bytes != want || pins != want_pins || (chunks == 2 && info.workspace_bytes != dev_bytes + 3 * 4096)) {
      printf("FAIL staging sizes (%s): ok %d, device bytes %zu (want %zu), pinned allocations %zu (want %zu), workspace %zu, %s\n",
             chunks == 1 ? "one chunk" : "four chunks", ok, dev_bytes, want, pins, want_pins, info.workspace_bytes, dwconv_last_error());
      fails++;
    } else {
      printf("staging sized to the work (%s): %zu device bytes, %zu pinned buffers\n", chunks == 1 ? "one chunk" : "four chunks", dev_bytes, pins);
    }
    dwconv_plan_destroy(plan);
    free(A); free(B); free(C);
  }
  unsetenv("DWCONV_CUDA_CHUNK_ROWS"); unsetenv("DWCONV_CUDA_STAGE_BYTES");
  return fails;
}

/* The staging copier pool: strided rectangles copied with 1..8 threads, from two threads at
 * once (one finds the pool busy and copies alone), every byte checked, nothing outside the
 * rectangle written. */
void dwconv__cuda_copy_host_rect(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t rows, int threads);
typedef struct { int threads, bad; } pool_arg;
static void *pool_copies(void *p) {
  pool_arg *a = p;
  const size_t width = 3000 * 4 + 12, spitch = width + 52, dpitch = width + 100, rows = 700;
  unsigned char *src = malloc(spitch * rows), *dst = malloc(dpitch * rows);
  for (int rep = 0; rep < 6; rep++) {
    for (size_t i = 0; i < spitch * rows; i++) src[i] = (unsigned char)(i * 7 + (size_t)rep);
    memset(dst, 0xAB, dpitch * rows);
    dwconv__cuda_copy_host_rect(dst, dpitch, src, spitch, width, rows, a->threads + rep % 3);
    for (size_t r = 0; r < rows; r++)
      for (size_t c = 0; c < dpitch; c++)
        if (dst[r * dpitch + c] != (c < width ? src[r * spitch + c] : 0xAB)) { a->bad = 1; break; }
  }
  free(src); free(dst);
  return NULL;
}
static int copier_pool(void) {
  int fails = 0;
  for (int t = 1; t <= 8; t += 3) {
    pool_arg a = {t, 0}, b = {t + 1, 0};
    pthread_t th;
    pthread_create(&th, NULL, pool_copies, &b);
    pool_copies(&a);
    pthread_join(th, NULL);
    if (a.bad || b.bad) { printf("FAIL staging copier pool: %d / %d threads, wrong bytes\n", t, t + 1); fails++; }
  }
  if (!fails) printf("staging copier pool: 2 MiB strided rectangles with 1-10 threads, two callers at once: exact\n");
  return fails;
}

/* Equal chunks: 10 rows under a cap of 6 rows per chunk run as two chunks of 5 (not 6 + 4),
 * so the plan's buffers (FFT batch included) are those of a cap of 5. */
static int equal_chunks(void) {
  size_t bytes[2];
  for (int k = 0; k < 2; k++) {
    setenv("DWCONV_CUDA_CHUNK_ROWS", k == 0 ? "6" : "5", 1);
    dwconv_desc d = dwconv_desc_make(10, 200, 20, DWCONV_FLOAT32);
    d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_FFT;
    dwconv_plan *plan = NULL;
    size_t before = mock_dev_bytes;
    if (dwconv_plan_create(&plan, &d) != DWCONV_SUCCESS) abort();
    bytes[k] = mock_dev_bytes - before;
    dwconv_plan_destroy(plan);
  }
  unsetenv("DWCONV_CUDA_CHUNK_ROWS");
  if (bytes[0] != bytes[1]) {
    printf("FAIL equal chunks: 10 rows capped at 6 per chunk hold %zu device bytes, capped at 5: %zu\n", bytes[0], bytes[1]);
    return 1;
  }
  printf("equal chunks: 10 rows capped at 6 per chunk run as 2 x 5 (%zu device bytes)\n", bytes[0]);
  return 0;
}

/* Chunks of device-resident data are sized without the streaming slots (device input and
 * output buffers for host data), which such an execute never uses: with a budget that holds
 * the kernel spectra, the whole FFT buffer, the cuFFT workspace and the smallest host
 * chunk's slots, device A and C run as one chunk (one batched forward transform); with room
 * for 4.5 rows' transforms, as 3 equal chunks of 4 rows. Host A and C on the same plans
 * stream through small chunks of their own, within the budget, with the right result. */
static int in_place_chunks(void) {
  int fails = 0;
  const int rows = 12, n = 600, p = 33, len = n + p - 1;
  const size_t es = sizeof(float);
  dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_FFT;
  dwconv_plan *plan = NULL;
  dwconv_plan_info info = {0};
  if (dwconv_plan_create(&plan, &d) != DWCONV_SUCCESS) abort();
  dwconv_plan_get_info(plan, &info);
  dwconv_plan_destroy(plan);
  const size_t L = info.block_len, S = info.block_step, nb = (len + S - 1) / S, slot_ld = 2 * (L / 2 + 1);
  const size_t row_fft = nb * slot_ld * es, kern = rows * slot_ld * es;
  const size_t in1 = S + p - 1 < (size_t)n ? S + p - 1 : (size_t)n, min_slots = 2 * (in1 + S) * es;
  float *A, *C, *B = malloc(sizeof(float) * rows * p), *hA = malloc(sizeof(float) * rows * n), *hC = malloc(sizeof(float) * rows * len);
  if (cudaMalloc((void **)&A, sizeof(float) * rows * n) || cudaMalloc((void **)&C, sizeof(float) * rows * len)) abort();
  for (int k = 0; k < 2; k++) {
    /* the mock's cuFFT workspace: 1000 + 8 bytes per transform of the batch */
    const size_t fit_rows2 = k == 0 ? 2 * rows : 9, work = 1000 + 8 * (fit_rows2 / 2 + 1) * nb;
    d.device_memory_limit = kern + fit_rows2 * row_fft / 2 + work + min_slots + 64;
    const size_t want_chunks = k == 0 ? 1 : 3, want_batch = (k == 0 ? rows : 4) * nb;
    size_t before = mock_dev_bytes;
    int ok = dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS && device_run(plan, rows, n, p, A, B, C);
    const size_t execs0 = mock_fft_forward_execs; /* one batched forward transform a chunk */
    ok = ok && dwconv_plan_execute(plan, A, n, C, len) == DWCONV_SUCCESS && full_conv_ok(A, B, C, rows, n, p);
    const size_t chunks = mock_fft_forward_execs - execs0;
    const long long batch = mock_fft_last_batch;
    memcpy(hA, A, sizeof(float) * rows * n);
    ok = ok && dwconv_plan_execute(plan, hA, n, hC, len) == DWCONV_SUCCESS && full_conv_ok(hA, B, hC, rows, n, p);
    const size_t held = mock_dev_bytes - before;
    dwconv_plan_destroy(plan);
    if (!ok || chunks != want_chunks || batch != (long long)want_batch || held > d.device_memory_limit) {
      printf("FAIL device-resident chunks (budget %zu): ok %d, %zu chunks of %lld transforms (want %zu of %zu), %zu device bytes held, %s\n",
             d.device_memory_limit, ok, chunks, batch, want_chunks, want_batch, held, dwconv_last_error());
      fails++;
    } else {
      printf("device-resident chunks: budget %zu -> %zu chunk%s of %lld transforms; host data on the same plan within it\n",
             d.device_memory_limit, chunks, chunks > 1 ? "s" : "", batch);
    }
  }
  cudaFree(A); cudaFree(C); free(B); free(hA); free(hC);
  return fails;
}

/* No device-synchronising free (cudaFree, cudaFreeHost: each waits for the whole device) on
 * the execute path or in a one-shot call: one-shot calls on device data (direct, FFT) and on
 * pageable host data streamed in several chunks through the pinned ring (twice: the second
 * call takes the cached ring), and a plan's executes on host and device data, its destroy
 * included. Then the fallback for a device without memory pools: the same calls, right
 * results, with cudaFree. */
static int no_sync_frees(void) {
  int fails = 0;
  const int rows = 4, n = 300, p = 9, len = n + p - 1;
  float *dA, *dC, A[4 * 300], B[4 * 9], C[4 * 308];
  if (cudaMalloc((void **)&dA, sizeof A) || cudaMalloc((void **)&dC, sizeof C)) abort();
  for (int i = 0; i < rows * n; i++) A[i] = dA[i] = (float)(i % 13) - 6.0f;
  for (int i = 0; i < rows * p; i++) B[i] = (float)(i % 7) - 3.0f;
  for (int pools = 1; pools >= 0; pools--) {
    mock_pools_supported = pools;
    dwconv__cuda_pinned_trim();
    const size_t frees0 = mock_sync_frees;
    int ok = 1;
    for (int algo = DWCONV_ALGO_DIRECT; algo <= DWCONV_ALGO_FFT; algo++) {
      dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
      d.backend = DWCONV_BACKEND_CUDA; d.algo = (dwconv_algo)algo;
      memset(dC, 0, sizeof C);
      ok = ok && dwconv_convolve(&d, dA, n, B, p, dC, len) == DWCONV_SUCCESS && full_conv_ok(A, B, dC, rows, n, p);
      setenv("DWCONV_CUDA_CHUNK_ROWS", "1", 1); /* four chunks: the pinned ring streams them */
      for (int rep = 0; rep < 2; rep++) {
        memset(C, 0, sizeof C);
        ok = ok && dwconv_convolve(&d, A, n, B, p, C, len) == DWCONV_SUCCESS && full_conv_ok(A, B, C, rows, n, p);
      }
      dwconv_plan *plan = NULL;
      ok = ok && dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS && dwconv_plan_set_kernel(plan, B, p) == DWCONV_SUCCESS;
      ok = ok && dwconv_plan_execute(plan, A, n, C, len) == DWCONV_SUCCESS && full_conv_ok(A, B, C, rows, n, p);
      ok = ok && dwconv_plan_execute(plan, dA, n, dC, len) == DWCONV_SUCCESS && full_conv_ok(A, B, dC, rows, n, p);
      dwconv_plan_destroy(plan);
      unsetenv("DWCONV_CUDA_CHUNK_ROWS");
    }
    const size_t frees = mock_sync_frees - frees0;
    if (!ok || (pools && frees != 0)) {
      printf("FAIL device-synchronising frees (memory pools %s): ok %d, %zu cudaFree/cudaFreeHost calls, %s\n",
             pools ? "supported" : "unsupported", ok, frees, dwconv_last_error());
      fails++;
    } else if (pools) {
      printf("one-shot calls and executes (device, pageable streamed, direct and FFT): no cudaFree / cudaFreeHost\n");
    } else {
      printf("without memory pools: the same calls right, with %zu cudaFree calls\n", frees);
    }
  }
  mock_pools_supported = 1;
  cudaFree(dA); cudaFree(dC);
  return fails;
}

/* The CUDA cost model's block lengths favour what cuFFT does well: for N = 65536 ('same')
 * and P = 15 ... 4095, float and double, the FFT length has at most two factors of 3, 5 or
 * 7 in all (the lengths picked without the radix factor are 180 = 2^2 3^2 5,
 * 4116 = 2^2 3 7^3, 17496 = 2^3 3^7 and 69984 = 2^5 3^7). */
static int cufft_lengths(void) {
  int fails = 0;
  const size_t Ps[] = {15, 63, 255, 1023, 4095};
  char got[256] = "";
  for (int f64 = 0; f64 <= 1; f64++)
    for (size_t i = 0; i < sizeof Ps / sizeof Ps[0]; i++) {
      dwconv_desc d = dwconv_desc_make(1, 65536, Ps[i], f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
      d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_FFT; d.mode = DWCONV_MODE_SAME;
      dwconv_plan *plan = NULL;
      dwconv_plan_info info = {0};
      if (dwconv_plan_create(&plan, &d) != DWCONV_SUCCESS) abort();
      dwconv_plan_get_info(plan, &info);
      dwconv_plan_destroy(plan);
      size_t L = info.block_len, odd = 0;
      for (size_t r = 3; r <= 7; r += 2)
        while (L % r == 0) { L /= r; odd++; }
      if ((L & (L - 1)) != 0 || odd > 2) {
        printf("FAIL cuFFT length: f%d P=%zu chose L=%zu (%zu factors of 3, 5, 7)\n", f64 ? 64 : 32, Ps[i], info.block_len, odd);
        fails++;
      }
      if (!f64) snprintf(got + strlen(got), sizeof got - strlen(got), " %zu->%zu", Ps[i], info.block_len);
    }
  if (!fails) printf("cuFFT lengths (N=65536 same, P->L, f32):%s; f64 too: at most two factors of 3, 5, 7\n", got);
  return fails;
}

/* The caller's stream: set_stream refuses a stream of another device; after an asynchronous
 * FFT execute on the caller's stream and set_stream(NULL), the caller may destroy the stream
 * before the plan (cuFFT must not still hold it: the mock counts a violation otherwise). */
static int stream_lifetime(void) {
  int fails = 0, v0 = mock_violations;
  const int rows = 2, n = 300, p = 20, len = n + p - 1;
  dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_FFT;
  dwconv_plan *plan = NULL;
  cudaStream_t mine, other;
  if (cudaStreamCreate(&mine)) abort();
  if (cudaSetDevice(1)) abort();
  if (cudaStreamCreate(&other)) abort();
  if (cudaSetDevice(0)) abort();
  float *A, *B, *C;
  if (cudaMalloc((void **)&A, sizeof(float) * rows * n) || cudaMalloc((void **)&C, sizeof(float) * rows * len)) abort();
  B = malloc(sizeof(float) * rows * p);
  for (int i = 0; i < rows * n; i++) A[i] = (float)(i % 9) - 4.0f;
  for (int i = 0; i < rows * p; i++) B[i] = (float)(i % 5) - 2.0f;
  int ok = dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS;
  dwconv_status wrong = ok ? dwconv_plan_set_stream(plan, other) : DWCONV_SUCCESS;
  if (wrong != DWCONV_ERROR_INVALID_VALUE) { printf("FAIL set_stream with a stream of device 1 on a device-0 plan gave %d\n", wrong); fails++; }
  ok = ok && dwconv_plan_set_kernel(plan, B, p) == DWCONV_SUCCESS && dwconv_plan_set_stream(plan, mine) == DWCONV_SUCCESS &&
       dwconv_plan_execute(plan, A, n, C, len) == DWCONV_SUCCESS;
  ok = ok && cudaStreamSynchronize(mine) == cudaSuccess && full_conv_ok(A, B, C, rows, n, p);
  ok = ok && dwconv_plan_set_stream(plan, NULL) == DWCONV_SUCCESS;
  cudaStreamDestroy(mine);
  dwconv_plan_destroy(plan); /* cuFFT plans destroyed here: their stream must not be `mine` */
  cudaStreamDestroy(other);
  cudaFree(A); cudaFree(C); free(B);
  if (!ok || mock_violations != v0) {
    printf("FAIL caller's stream lifetime: ok %d, violations %d, %s\n", ok, mock_violations - v0, dwconv_last_error());
    fails++;
    mock_violations = v0;
  } else {
    printf("caller's stream: another device's refused, destroyed after set_stream(NULL) and before the plan: fine\n");
  }
  return fails;
}

/* Errors belong to their owner: an error the caller left pending in the runtime is neither
 * reported as dwconv's launch failure nor cleared (direct and FFT, whose launches and cuFFT
 * calls run with it pending); a launch failure of dwconv's own is reported (DEVICE, the launch
 * named), taken out of the slot, and the plan works afterwards. */
static int errors_of_the_caller(void) {
  int fails = 0;
  const int rows = 3, n = 300, p = 7, len = n + p - 1;
  float *A, *C, B[3 * 7];
  if (cudaMalloc((void **)&A, sizeof(float) * rows * n) || cudaMalloc((void **)&C, sizeof(float) * rows * len)) abort();
  for (int algo = DWCONV_ALGO_DIRECT; algo <= DWCONV_ALGO_FFT; algo++) {
    dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
    d.backend = DWCONV_BACKEND_CUDA; d.algo = (dwconv_algo)algo;
    dwconv_plan *plan = NULL;
    int ok = dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS;
    mock_set_last_error(cudaErrorInvalidValue); /* the caller's own failed call, unchecked */
    ok = ok && device_run(plan, rows, n, p, A, B, C);
    cudaError_t left = cudaPeekAtLastError();
    if (!ok || left != cudaErrorInvalidValue) {
      printf("FAIL caller's pending error (algo %d): run ok %d, slot afterwards %d (want %d), %s\n", algo, ok, left,
             cudaErrorInvalidValue, dwconv_last_error());
      fails++;
    }
    (void)cudaGetLastError();
    mock_fail_launch = 1;
    dwconv_status st = dwconv_plan_execute(plan, A, n, C, len);
    int named = strstr(dwconv_last_error(), "launch") != NULL;
    cudaError_t after = cudaPeekAtLastError();
    mock_fail_launch = 0;
    int again = device_run(plan, rows, n, p, A, B, C);
    if (st != DWCONV_ERROR_DEVICE || !named || after != cudaSuccess || !again) {
      printf("FAIL dwconv's own launch failure (algo %d): status %d, named %d, slot %d, next run ok %d, %s\n", algo, st, named,
             after, again, dwconv_last_error());
      fails++;
    }
    dwconv_plan_destroy(plan);
  }
  /* A cuFFT failure (a refusal, NOT_SUPPORTED; or a setup failure, DEVICE) does not clear the
   * caller's pending error either. */
  for (int c = 0; c < 2; c++) {
    dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
    d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_FFT;
    dwconv_plan *plan = NULL;
    mock_set_last_error(cudaErrorInvalidValue);
    mock_cufft_refuse = c == 0 ? CUFFT_INTERNAL_ERROR : CUFFT_SETUP_FAILED;
    dwconv_status st = dwconv_plan_create(&plan, &d);
    mock_cufft_refuse = CUFFT_SUCCESS;
    cudaError_t left = cudaGetLastError();
    if (st == DWCONV_SUCCESS || left != cudaErrorInvalidValue) {
      printf("FAIL caller's pending error across a cuFFT refusal: status %d, slot %d\n", st, left);
      fails++;
    }
    dwconv_plan_destroy(plan);
  }
  /* Nor does a failure dwconv handles itself without the runtime having failed (a device
   * allocation refused by fault injection: create gives OUT_OF_MEMORY). */
  {
    dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
    d.backend = DWCONV_BACKEND_CUDA;
    dwconv_plan *plan = NULL;
    mock_set_last_error(cudaErrorInvalidValue);
    dwconv__cuda_fault_inject(1);
    dwconv_status st = dwconv_plan_create(&plan, &d);
    dwconv__cuda_fault_inject(0);
    cudaError_t left = cudaGetLastError();
    if (st != DWCONV_ERROR_OUT_OF_MEMORY || left != cudaErrorInvalidValue) {
      printf("FAIL caller's pending error across a refused allocation: status %d, slot %d\n", st, left);
      fails++;
    }
    dwconv_plan_destroy(plan);
  }
  cudaFree(A); cudaFree(C);
  if (!fails) printf("errors belong to their owner: the caller's pending error kept and not blamed; dwconv's launch failure reported and cleared\n");
  return fails;
}

/* Device restore: a thread with no current context calls a plan of device 1. Afterwards the
 * thread has no current context again and no context was made on device 0 (cudaSetDevice(0)
 * to "restore" would make one: since CUDA 12 it initialises the primary context). */
typedef struct { dwconv_plan *plan; float *A, *B, *C; int ok, ctx_after; } restore_arg;
static void *restore_thread(void *p) {
  restore_arg *r = p;
  r->ok = device_run(r->plan, 2, 100, 5, r->A, r->B, r->C);
  r->ctx_after = mock_current_context();
  return NULL;
}
static int restore_without_context(void) {
  int fails = 0;
  if (cudaSetDevice(1)) abort();
  restore_arg r = {0};
  dwconv_desc d = dwconv_desc_make(2, 100, 5, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_DIRECT;
  if (cudaMalloc((void **)&r.A, sizeof(float) * 200) || cudaMalloc((void **)&r.C, sizeof(float) * 2 * 104)) abort();
  r.B = malloc(sizeof(float) * 10);
  /* Device memory of device 1 given to a device-0 plan is refused. */
  if (cudaSetDevice(0)) abort();
  dwconv_plan *p0 = NULL;
  for (int i = 0; i < 10; i++) r.B[i] = 1.0f;
  dwconv_status wrong = dwconv_plan_create(&p0, &d) == DWCONV_SUCCESS && dwconv_plan_set_kernel(p0, r.B, 5) == DWCONV_SUCCESS
                            ? dwconv_plan_execute(p0, r.A, 100, r.C, 104)
                            : DWCONV_SUCCESS;
  dwconv_plan_destroy(p0);
  if (wrong != DWCONV_ERROR_INVALID_VALUE) { printf("FAIL device-1 memory on a device-0 plan gave %d\n", wrong); fails++; }
  if (cudaSetDevice(1)) abort();
  if (dwconv_plan_create(&r.plan, &d) != DWCONV_SUCCESS) abort();
  if (cudaSetDevice(0)) abort();
  mock_ctx_made[0] = 0; /* pretend device 0 was never used by this process */
  pthread_t th;
  pthread_create(&th, NULL, restore_thread, &r);
  pthread_join(th, NULL);
  int made0 = mock_ctx_made[0];
  mock_ctx_made[0] = 1;
  if (cudaSetDevice(1)) abort();
  dwconv_plan_destroy(r.plan);
  cudaFree(r.A); cudaFree(r.C); free(r.B);
  if (cudaSetDevice(0)) abort();
  if (!r.ok || r.ctx_after != -1 || made0) {
    printf("FAIL device restore from a thread without a context: run ok %d, context afterwards %d (want none), context made on device 0: %d\n",
           r.ok, r.ctx_after, made0);
    fails++;
  } else {
    printf("device restore: a thread without a context has none after a call on device 1, nothing made on device 0\n");
  }
  return fails;
}

/* cuFFT refusing a transform (not out of memory): ALGO_AUTO takes the direct path on the GPU,
 * an explicit ALGO_FFT gets NOT_SUPPORTED. The problem is one AUTO gives to FFT otherwise. */
static int cufft_refusal(void) {
  int fails = 0;
  const int rows = 2, n = 3000, p = 500, len = n + p - 1;
  dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CUDA;
  dwconv_plan *plan = NULL;
  dwconv_plan_info info = {0};
  if (dwconv_plan_create(&plan, &d) != DWCONV_SUCCESS) abort();
  dwconv_plan_get_info(plan, &info);
  dwconv_plan_destroy(plan);
  if (info.algo != DWCONV_ALGO_FFT) { printf("FAIL cuFFT refusal test: AUTO picks %d for this problem, not FFT\n", info.algo); return 1; }
  const cufftResult codes[] = {CUFFT_INVALID_SIZE, CUFFT_INTERNAL_ERROR};
  for (int c = 0; c < 2; c++) {
    mock_cufft_refuse = codes[c];
    dwconv_status st = dwconv_plan_create(&plan, &d);
    memset(&info, 0, sizeof info);
    float *A = malloc(sizeof(float) * rows * n), *B = malloc(sizeof(float) * rows * p), *C = malloc(sizeof(float) * rows * len);
    int ok = st == DWCONV_SUCCESS;
    if (ok) dwconv_plan_get_info(plan, &info);
    ok = ok && info.backend == DWCONV_BACKEND_CUDA && info.algo == DWCONV_ALGO_DIRECT;
    /* host memory, one chunk: no ring; the direct kernel at P = 500 on 3000 samples */
    for (int i = 0; i < rows * n; i++) A[i] = (float)(i % 9) - 4.0f;
    for (int i = 0; i < rows * p; i++) B[i] = (float)(i % 5) - 2.0f;
    ok = ok && dwconv_plan_set_kernel(plan, B, p) == DWCONV_SUCCESS && dwconv_plan_execute(plan, A, n, C, len) == DWCONV_SUCCESS &&
         full_conv_ok(A, B, C, rows, n, p);
    dwconv_plan_destroy(plan);
    dwconv_desc f = d;
    f.algo = DWCONV_ALGO_FFT;
    dwconv_status sf = dwconv_plan_create(&plan, &f);
    dwconv_plan_destroy(plan);
    mock_cufft_refuse = CUFFT_SUCCESS;
    free(A); free(B); free(C);
    if (!ok || sf != DWCONV_ERROR_NOT_SUPPORTED) {
      printf("FAIL cuFFT refusal %d: AUTO status %d backend %d algo %d (want CUDA DIRECT), explicit FFT %d (want NOT_SUPPORTED)\n",
             codes[c], st, info.backend, info.algo, sf);
      fails++;
    }
  }
  if (!fails) printf("cuFFT refusals (INVALID_SIZE, INTERNAL_ERROR): AUTO runs direct on the GPU, explicit FFT NOT_SUPPORTED\n");
  return fails;
}

/* A sticky error (a poisoned context) during an execute: DEVICE, every later call DEVICE,
 * destroy frees everything. */
static int sticky_error(void) {
  int fails = 0;
  const int rows = 3, n = 300, p = 7, len = n + p - 1;
  float A[3 * 300], B[3 * 7], C[3 * 306];
  for (int i = 0; i < rows * n; i++) A[i] = 1.0f;
  for (int i = 0; i < rows * p; i++) B[i] = 1.0f;
  dwconv_desc d = dwconv_desc_make(rows, n, p, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_FFT;
  dwconv_plan *plan = NULL;
  int ok = dwconv_plan_create(&plan, &d) == DWCONV_SUCCESS && dwconv_plan_set_kernel(plan, B, p) == DWCONV_SUCCESS;
  mock_sticky_at_launch = 2;
  dwconv_status s1 = ok ? dwconv_plan_execute(plan, A, n, C, len) : DWCONV_SUCCESS;
  dwconv_status s2 = ok ? dwconv_plan_execute(plan, A, n, C, len) : DWCONV_SUCCESS;
  dwconv_status s3 = ok ? dwconv_plan_set_kernel(plan, B, p) : DWCONV_SUCCESS;
  dwconv_plan_destroy(plan);
  mock_sticky_at_launch = 0;
  mock_clear_sticky();
  if (!ok || s1 != DWCONV_ERROR_DEVICE || s2 != DWCONV_ERROR_DEVICE || s3 != DWCONV_ERROR_DEVICE || mock_live_dev || live_host()) {
    printf("FAIL sticky error: statuses %d %d %d (want %d), leak dev=%zu host=%zu\n", s1, s2, s3, DWCONV_ERROR_DEVICE, mock_live_dev, mock_live_host);
    fails++;
    mock_live_dev = mock_live_host = 0;
  } else {
    printf("sticky error: the execute and every later call report DEVICE, destroy frees everything\n");
  }
  return fails;
}

/* Staging pack / unpack throughput (dwconv__cuda_copy_host_rect, the copies between the
 * caller's pageable rows and a pinned staging buffer) with 1, 2, ... threads: 256 MiB of
 * strided rows (64 KiB of data at a 68 KiB pitch, as for lda > N) through 4 MiB buffers, best
 * of 3. Prints GB/s (bytes moved / time) per direction and thread count. */
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

/* The machine's own copy scaling, the ceiling for pack / unpack: t threads, each copying its
 * contiguous share of the same bytes into (dir 0) or out of (dir 1) its own 4 MiB / t window,
 * with no synchronisation between pieces. */
struct copy_ref { char *host, *stage; size_t bytes, win; int dir; };
static void *copy_ref_run(void *arg) {
  const struct copy_ref *c = arg;
  for (size_t off = 0; off < c->bytes; off += c->win) {
    size_t n = c->bytes - off < c->win ? c->bytes - off : c->win;
    if (c->dir == 0) memcpy(c->stage, c->host + off, n);
    else memcpy(c->host + off, c->stage, n);
  }
  return NULL;
}
static double copy_ref_gbs(char *host, char *stage, size_t bytes, int t, int dir) {
  pthread_t th[64];
  struct copy_ref c[64];
  double best = 1e30;
  if (t > 64) t = 64;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (int i = 0; i < t; i++) {
      c[i] = (struct copy_ref){host + bytes / t * i, stage + (4 << 20) / t * i, bytes / t, (4 << 20) / t, dir};
      if (i > 0) pthread_create(&th[i], NULL, copy_ref_run, &c[i]);
    }
    copy_ref_run(&c[0]);
    for (int i = 1; i < t; i++) pthread_join(th[i], NULL);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  return bytes / best / 1e9;
}

static int stage_bench(int max_threads) {
  const size_t width = 64 << 10, pitch = 68 << 10, rows = 4096, piece_rows = (4 << 20) / width;
  char *host = malloc(pitch * rows), *stage = malloc(4 << 20);
  if (!host || !stage) return 1;
  memset(host, 1, pitch * rows);
  memset(stage, 2, 4 << 20);
  double base[2] = {0, 0}, ref_base[2] = {0, 0};
  for (int t = 1; t <= max_threads; t++) {
    double best[2] = {1e30, 1e30};
    for (int rep = 0; rep < 3; rep++)
      for (int dir = 0; dir < 2; dir++) {
        double t0 = now();
        for (size_t r = 0; r < rows; r += piece_rows) {
          if (dir == 0) dwconv__cuda_copy_host_rect(stage, width, host + r * pitch, pitch, width, piece_rows, t);
          else dwconv__cuda_copy_host_rect(host + r * pitch, pitch, stage, width, width, piece_rows, t);
        }
        double dt = now() - t0;
        if (dt < best[dir]) best[dir] = dt;
      }
    double gbs[2] = {width * rows / best[0] / 1e9, width * rows / best[1] / 1e9};
    if (t == 1) { base[0] = gbs[0]; base[1] = gbs[1]; }
    printf("staging with %d thread%s: pack %.1f GB/s (%.2fx), unpack %.1f GB/s (%.2fx)\n", t, t > 1 ? "s" : "", gbs[0],
           gbs[0] / base[0], gbs[1], gbs[1] / base[1]);
    double ref[2] = {copy_ref_gbs(host, stage, width * rows, t, 0), copy_ref_gbs(host, stage, width * rows, t, 1)};
    if (t == 1) { ref_base[0] = ref[0]; ref_base[1] = ref[1]; }
    printf("  plain memcpy, %d thread%s, same bytes, no piece sync (ceiling): in %.1f GB/s (%.2fx), out %.1f GB/s (%.2fx)\n",
           t, t > 1 ? "s" : "", ref[0], ref[0] / ref_base[0], ref[1], ref[1] / ref_base[1]);
  }
  free(host); free(stage);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "stage-bench") == 0) return stage_bench(argc > 2 ? atoi(argv[2]) : 2);
  int iters = argc > 1 ? atoi(argv[1]) : 2000;
  const size_t Ns[] = {1, 2, 5, 7, 10, 13, 33, 64, 100};
  const size_t Ps[] = {1, 2, 3, 4, 7, 10, 20, 33, 64};
  const size_t Ms[] = {1, 2, 3, 5};
  int fails = 0, ran = 0, oom = 0;
  for (int it = 0; it < iters; it++) {
    tcase t;
    t.M = pick(Ms, 4); t.N = pick(Ns, 9); t.P = pick(Ps, 9);
    t.f64 = rnd() % 2;
    t.mode = (dwconv_mode)(rnd() % 4);
    t.op = (dwconv_op)(rnd() % 2);
    t.algo = rnd() % 2 ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
    size_t out = dwconv_output_len(t.mode, t.N, t.P);
    t.lda = (size_t[]){0, t.N, t.N + 3}[rnd() % 3];
    t.ldb = (size_t[]){0, t.P, t.P + 2}[rnd() % 3];
    t.ldc = out + (rnd() % 2);
    t.adev = rnd() % 5; t.cdev = rnd() % 4;
    int envr = rnd() % 3, envo = rnd() % 3;
    mock_fail_pinned = rnd() % 4 == 0;
    mock_max_pitch = rnd() % 4 == 0 ? 8 : 2147483647;
    t.limit = rnd() % 4 == 0 ? (size_t)(200 + rnd() % 20000) : 0;
    set_env_size("DWCONV_CUDA_CHUNK_ROWS", envr == 0 ? 0 : envr == 1 ? 1 : 2);
    set_env_size("DWCONV_CUDA_CHUNK_OUTS", envo == 0 ? 0 : envo == 1 ? 1 : 5);
    /* Staging buffers of a few bytes: pieces of part of a row, whole rows, several rows. */
    set_env_size("DWCONV_CUDA_STAGE_BYTES", (size_t[]){0, 8, 24, 100}[rnd() % 4]);
    if (rnd() % 5 == 0) setenv("DWCONV_CUDA_NO_PINNED", "1", 1); else unsetenv("DWCONV_CUDA_NO_PINNED");
    t.user_stream = rnd() % 3 == 0;
    t.junk_kernel = rnd() % 3 == 0;
    int o = oom;
    fails += run_case(&t, it, &oom);
    if (oom == o) ran++;
  }
  unsetenv("DWCONV_CUDA_CHUNK_ROWS"); unsetenv("DWCONV_CUDA_CHUNK_OUTS"); unsetenv("DWCONV_CUDA_NO_PINNED");
  unsetenv("DWCONV_CUDA_STAGE_BYTES");
  mock_fail_pinned = 0;
  mock_max_pitch = 2147483647;
  /* Sizes the random draws do not reach: rows of more than 256 outputs (the 128-thread direct
   * kernel) and more taps than one shared-memory tap chunk (2048 float, 1024 double). */
  {
    const tcase fixed[] = {
        {2, 700, 5, 700, 5, 704, 0, 0, 1, 1, 0, 0, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT},
        {1, 40, 2100, 40, 2100, 2139, 0, 0, 0, 0, 0, 0, DWCONV_MODE_FULL, DWCONV_OP_CORRELATE, DWCONV_ALGO_DIRECT},
        {1, 30, 1100, 30, 1100, 1129, 0, 1, 1, 0, 0, 0, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT},
        {2, 600, 33, 600, 33, 600, 0, 0, 0, 0, 1, 0, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT},
        /* FFT blocks of more than 1024 samples: the element-wise kernels' slots in several parts */
        {1, 5000, 301, 5000, 301, 5300, 0, 0, 1, 1, 0, 0, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
      int f = run_case(&fixed[i], -1 - (int)i, &oom);
      printf("fixed case %zu (M=%zu N=%zu P=%zu f64=%d algo=%d): %s\n", i, fixed[i].M, fixed[i].N, fixed[i].P, fixed[i].f64,
             fixed[i].algo, f ? "FAIL" : "ok");
      fails += f;
    }
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
        if (mock_live_dev || live_host()) { printf("LEAK after fault n=%zu\n", n); fails++; }
        if (n > made) { printf("fault injection algo %d: %zu acquisitions covered\n", algo, made); break; }
        printf("  fault at acquisition %zu: create succeeded (pinned refused: pageable fallback), workspace %zu\n", n, info.workspace_bytes);
      } else {
        if (st != DWCONV_ERROR_OUT_OF_MEMORY) { printf("fault n=%zu gave %d\n", n, st); fails++; }
        if (mock_live_dev || live_host()) { printf("LEAK after failed create n=%zu: dev=%zu host=%zu\n", n, mock_live_dev, mock_live_host); fails++; mock_live_dev = mock_live_host = 0; }
        if (n < 3) printf("  n=%zu: %s\n", n, dwconv_last_error());
      }
    }
  }
  /* Pinned staging is made by the first execute on pageable host data: each of its
   * acquisitions failing in turn gives the pageable fallback (or nothing to fail once all
   * are covered), the right result, and nothing leaked; device data never makes staging. */
  setenv("DWCONV_CUDA_CHUNK_ROWS", "1", 1); /* four chunks: staging serves several */
  int slot_refusals = 0;
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
      const size_t pins0 = mock_host_allocs;
      dwconv__cuda_fault_inject(n);
      dwconv_status est = ok ? dwconv_plan_execute(plan, A, 300, C, 308) : DWCONV_ERROR_INTERNAL;
      size_t made = dwconv__cuda_fault_inject(0);
      /* A device slot for host data refused: OUT_OF_MEMORY naming it, nothing kept, and the
       * next execute makes the slots and runs. */
      if (est == DWCONV_ERROR_OUT_OF_MEMORY && dev_data != 1 && strstr(dwconv_last_error(), "chunk slot") != NULL) {
        if (!slot_refusals++) printf("  execute-time device slot refused: %s\n", dwconv_last_error());
        est = dwconv_plan_execute(plan, A, 300, C, 308);
      }
      ok = ok && est == DWCONV_SUCCESS;
      if (ok) dwconv_plan_get_info(plan, &after);
      memcpy(hC, C, sizeof hC);
      ok = ok && full_conv_ok(hA, hB, hC, 4, 300, 9);
      /* No staging for device or page-locked data (device data: no device slots either). */
      if (ok && dev_data == 1 && after.workspace_bytes != before.workspace_bytes) ok = 0;
      if (ok && dev_data == 2 && mock_host_allocs != pins0) ok = 0;
      /* With every acquisition allowed, pageable host data must get its staging ring. */
      if (ok && n > made && dev_data == 0 && (made < 3 || after.workspace_bytes <= before.workspace_bytes)) ok = 0;
      dwconv_plan_destroy(plan);
      release(A, dev_data); release(C, dev_data);
      if (!ok || mock_live_dev || live_host()) {
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
  unsetenv("DWCONV_CUDA_CHUNK_ROWS");
  fails += staging_sizes();
  fails += equal_chunks();
  fails += in_place_chunks();
  fails += cufft_lengths();
  fails += no_sync_frees();
  fails += copier_pool();
  fails += stream_lifetime();
  fails += errors_of_the_caller();
  fails += restore_without_context();
  fails += cufft_refusal();
  fails += sticky_error();
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
    if (!ok || mock_live_dev || live_host()) {
      printf("FAIL AUTO -> CPU fallback (algo %d): status %d, backend %d, leak dev=%zu host=%zu, %s\n", algo, st,
             info.backend, mock_live_dev, mock_live_host, dwconv_last_error());
      fails++;
      mock_live_dev = mock_live_host = 0;
    } else {
      printf("BACKEND_AUTO with the first device allocation failing (algo %d): plan made on the CPU, result right, "
             "device pointers refused\n", algo);
    }
  }
  if (mock_violations) { printf("FAIL: %d misuses of the CUDA runtime / cuFFT (see mock: VIOLATION above)\n", mock_violations); fails++; }
  printf("ran %d, oom (small limit) %d, fails %d\n", ran, oom, fails);
  return fails != 0;
}
