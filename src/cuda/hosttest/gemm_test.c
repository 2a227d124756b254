/* Test of the CUDA backend's GEMM path (ALGO_GEMM, desc.math) without a GPU: the public API
 * with BACKEND_CUDA over mock_cuda.c (runtime), mock_cublas.c (cuBLAS as a CPU GEMM; FAST_TF32
 * rounds its inputs to TF32) and emu_gemm.cpp (the real gather and Toeplitz kernel bodies).
 *
 * 1. Every mode x op x dtype x math on sizes with P > N, P = N, P = 1, N = 1 and T not dividing
 *    the output, each under layout variants (lda = 0, ldb = 0, padded rows, A and C in host,
 *    device and pinned memory, rows and output segments cut into chunks by a small budget or
 *    the chunk caps, forced block lengths): every output against a long-double reference,
 *    |got - ref| <= bound(math, dtype, P) * sum |a b|; C's padding and A untouched; the budget
 *    held; nothing leaked (device, pinned, cuBLAS handles); get_info right. float64 with TF32
 *    math must be NOT_SUPPORTED. The largest error / bound per (math, dtype) is printed.
 * 2. The cuBLAS plugin: loaded by GEMM plans only, from next to the program; one that cannot be
 *    loaded (missing, not a plugin, another dwconv's) refused with the reason. The API rules: GEMM on the CPU, non-IEEE math off GEMM, out-of-range enums; AUTO never
 *    picks GEMM.
 * 3. Every device resource of a GEMM plan failing in turn (OUT_OF_MEMORY, nothing leaked), and
 *    every cuBLAS call failing with every status (the mapped status, a message naming the call
 *    and status, nothing leaked, the plan usable again after an execute-time failure).
 * Usage: gemm_test. Exit status 0 when everything passed. */
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include "dwconv.h"

extern size_t mock_live_dev, mock_live_host, mock_dev_bytes, mock_free_mem;
size_t dwconv__cuda_pinned_trim(void); /* the library's pinned cache, emptied before leak checks */
extern int mock_fail_pinned, mock_live_cublas;
extern const char *mock_cublas_fail_call;
extern cublasStatus_t mock_cublas_fail_status;
extern size_t mock_gemm_calls, mock_gemm_tf32_calls;
size_t dwconv__cuda_fault_inject(size_t n);

static int fails;
#define CHECK(cond, ...)                 \
  do {                                   \
    if (!(cond)) {                       \
      fails++;                           \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);               \
      printf("\n");                      \
    }                                    \
  } while (0)

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned long long rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static double get(const void *p, size_t i, int f64) { return f64 ? ((const double *)p)[i] : ((const float *)p)[i]; }
static void set(void *p, size_t i, double v, int f64) { if (f64) ((double *)p)[i] = v; else ((float *)p)[i] = (float)v; }

/* 0: malloc, 1: "device" (cudaMalloc), 2: pinned host (cudaMallocHost). */
static void *alloc(size_t bytes, int where) {
  void *p = NULL;
  if (where == 2) { if (cudaMallocHost(&p, bytes)) abort(); mock_live_host--; }
  else if (where == 1) { if (cudaMalloc(&p, bytes)) abort(); mock_live_dev--; }
  else p = malloc(bytes ? bytes : 1);
  return p;
}
static void release(void *p, int where) {
  if (where == 2) { mock_live_host++; cudaFreeHost(p); }
  else if (where == 1) { mock_live_dev++; cudaFree(p); }
  else free(p);
}

/* The error bound of an output relative to sum |a b| over its taps (docs/CUDA.md):
 * IEEE: P products summed with one rounding each, (P + 1) u; TF32: both operands rounded to
 * TF32 (relative 2^-11 each) plus the FP32 sum; TF32X3: the three dropped or rounded low x low
 * terms, 3 * 2^-22 (1 + 2^-11), plus the sum over three products and two accumulations. */
static double bound(dwconv_math math, int f64, size_t p) {
  const double u = f64 ? ldexp(1, -53) : ldexp(1, -24), ut = ldexp(1, -11);
  switch (math) {
    case DWCONV_MATH_TF32: return 2 * ut + ut * ut + (double)(p + 1) * u * 1.01;
    case DWCONV_MATH_TF32X3: return 3 * ut * ut * (1 + ut) + (double)(p + 3) * u * 1.01;
    default: return (double)(p + 1) * u;
  }
}

typedef struct layout {
  const char *name;
  int lda, ldb, ldc; /* 0: broadcast (lda, ldb) / tight; 1: tight; 2: padded */
  int adev, cdev;
  int chunk_rows, chunk_outs; /* DWCONV_CUDA_CHUNK_* caps, 0 = none */
  int block;                  /* DWCONV_GEMM_BLOCK, 0 = the model's T */
  size_t limit;               /* desc.device_memory_limit */
} layout;

static const layout layouts[] = {
    {"tight, host", 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {"lda=0, device A and C, T=8", 0, 1, 2, 1, 1, 0, 0, 8, 0},
    {"ldb=0, padded A, pinned C, T=16", 2, 0, 1, 0, 2, 0, 0, 16, 0},
    {"lda=0 and ldb=0, device C", 0, 0, 2, 0, 1, 0, 0, 0, 0},
    {"padded, 1-row chunks of one block, T=8", 2, 2, 2, 0, 0, 1, 5, 8, 0},
    {"ldb=0, device A, 2-row chunks of 2 blocks, T=8", 1, 0, 1, 1, 0, 2, 16, 8, 0},
    {"budget 150 kB, pinned A", 1, 2, 2, 2, 0, 0, 0, 8, 150000},
};
#define NLAYOUTS (sizeof layouts / sizeof layouts[0])

typedef struct worst {
  double ratio, rel; /* largest error / bound, and error / sum |a b| */
  size_t outputs;
} worst;
static worst worst_of[3][2]; /* [math][f64] */

static void setenv_num(const char *name, int v) {
  char buf[32];
  if (v == 0) { unsetenv(name); return; }
  snprintf(buf, sizeof buf, "%d", v);
  setenv(name, buf, 1);
}

/* Runs one case; returns 1 when it ran (0 when refused as it must be). */
static int run_case(size_t M, size_t N, size_t P, int f64, dwconv_mode mode, dwconv_op op, dwconv_math math,
                    const layout *L) {
  const size_t out = dwconv_output_len(mode, N, P), es = f64 ? 8 : 4;
  const size_t lda = L->lda == 0 ? 0 : L->lda == 1 ? N : N + 3;
  const size_t ldb = L->ldb == 0 ? 0 : L->ldb == 1 ? P : P + 2;
  const size_t ldc = L->ldc == 1 ? out : out + 1;
  setenv_num("DWCONV_CUDA_CHUNK_ROWS", L->chunk_rows);
  setenv_num("DWCONV_CUDA_CHUNK_OUTS", L->chunk_outs);
  setenv_num("DWCONV_GEMM_BLOCK", L->block);
  dwconv_desc d = dwconv_desc_make(M, N, P, f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
  d.mode = mode; d.op = op; d.math = math; d.algo = DWCONV_ALGO_GEMM; d.backend = DWCONV_BACKEND_CUDA;
  d.device_memory_limit = L->limit;
  dwconv_plan *plan = NULL;
  const size_t dev_before = mock_dev_bytes;
  dwconv_status st = dwconv_plan_create(&plan, &d);
  if (f64 && math != DWCONV_MATH_IEEE) {
    CHECK(st == DWCONV_ERROR_NOT_SUPPORTED && plan == NULL && strstr(dwconv_last_error(), "float64"),
          "f64 with math %d: status %d (%s)", math, st, dwconv_last_error());
    return 0;
  }
  if (st != DWCONV_SUCCESS) {
    CHECK(0, "create M=%zu N=%zu P=%zu f64=%d mode=%d op=%d math=%d [%s]: %d %s", M, N, P, f64, mode, op, math,
          L->name, st, dwconv_last_error());
    return 0;
  }
  const size_t plan_dev = mock_dev_bytes - dev_before;
  CHECK(L->limit == 0 || plan_dev <= L->limit, "[%s] plan holds %zu device bytes, budget %zu", L->name, plan_dev,
        L->limit);
  dwconv_plan_info info;
  dwconv_plan_get_info(plan, &info);
  CHECK(info.algo == DWCONV_ALGO_GEMM && info.math == math && info.backend == DWCONV_BACKEND_CUDA &&
            info.block_len == P + info.block_step - 1 && info.block_step % 8 == 0 &&
            (L->block == 0 || info.block_step == (size_t)L->block) && info.output_len == out,
        "[%s] info: algo %d math %d K %zu T %zu", L->name, info.algo, info.math, info.block_len, info.block_step);

  const size_t asz = lda == 0 ? N : (M - 1) * lda + N, bsz = ldb == 0 ? P : (M - 1) * ldb + P;
  const size_t csz = (M - 1) * ldc + out;
  void *hA = malloc(asz * es), *hB = malloc(bsz * es);
  for (size_t i = 0; i < asz; i++) set(hA, i, (double)(rnd() % 200001) / 100000.0 - 1.0, f64);
  for (size_t i = 0; i < bsz; i++) set(hB, i, (double)(rnd() % 200001) / 100000.0 - 1.0, f64);
  void *A = alloc(asz * es, L->adev), *C = alloc(csz * es, L->cdev);
  memcpy(A, hA, asz * es);
  for (size_t i = 0; i < csz; i++) set(C, i, 12345.0, f64);
  const size_t tf32_before = mock_gemm_tf32_calls, calls_before = mock_gemm_calls;
  st = dwconv_plan_set_kernel(plan, hB, (ptrdiff_t)ldb);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, (ptrdiff_t)lda, C, (ptrdiff_t)ldc);
  CHECK(st == DWCONV_SUCCESS, "[%s] run: %d %s", L->name, st, dwconv_last_error());
  const size_t calls = mock_gemm_calls - calls_before, tf32_calls = mock_gemm_tf32_calls - tf32_before;
  CHECK(calls > 0 && (math == DWCONV_MATH_IEEE ? tf32_calls == 0 : tf32_calls == calls) &&
            (math != DWCONV_MATH_TF32X3 || calls % 3 == 0),
        "[%s] math %d: %zu GEMM calls, %zu with FAST_TF32", L->name, math, calls, tf32_calls);
  dwconv_plan_destroy(plan);

  const size_t off = mode == DWCONV_MODE_SAME ? (P - 1) / 2 : mode == DWCONV_MODE_VALID ? (N < P ? N : P) - 1 : 0;
  const double bnd = bound(math, f64, P);
  worst *w = &worst_of[math][f64];
  int bad = 0;
  for (size_t r = 0; r < M && st == DWCONV_SUCCESS; r++) {
    for (size_t i = 0; i < out; i++) {
      long double ref = 0, mag = 0;
      for (size_t k = 0; k < P; k++) {
        const size_t m = off + i;
        if (m < k || m - k >= N) continue;
        const long double a = get(hA, (lda ? r * lda : 0) + m - k, f64);
        const long double b = get(hB, (ldb ? r * ldb : 0) + (op == DWCONV_OP_CONVOLVE ? k : P - 1 - k), f64);
        ref += a * b;
        mag += fabsl(a * b);
      }
      const double got = get(C, r * ldc + i, f64);
      const double err = (double)fabsl((long double)got - ref);
      const double rel = mag > 0 ? err / (double)mag : (err == 0 ? 0 : INFINITY);
      if (!(rel <= bnd)) {
        if (bad++ < 3)
          printf("  r=%zu i=%zu got %.17g ref %.17Lg rel %.3g bound %.3g\n", r, i, got, ref, rel, bnd);
      }
      if (rel / bnd > w->ratio) w->ratio = rel / bnd;
      if (rel > w->rel) w->rel = rel;
      w->outputs++;
    }
    for (size_t i = out; r + 1 < M && i < ldc; i++)
      if (get(C, r * ldc + i, f64) != 12345.0) bad++;
  }
  CHECK(bad == 0, "M=%zu N=%zu P=%zu f64=%d mode=%d op=%d math=%d [%s] T=%zu: %d bad outputs or padding", M, N, P,
        f64, mode, op, math, L->name, info.block_step, bad);
  CHECK(memcmp(A, hA, asz * es) == 0, "[%s] A modified", L->name);
  release(A, L->adev);
  release(C, L->cdev);
  free(hA);
  free(hB);
  CHECK(mock_live_dev == 0 && (dwconv__cuda_pinned_trim(), mock_live_host == 0) && mock_live_cublas == 0, "[%s] leak: dev %zu host %zu cublas %d",
        L->name, mock_live_dev, mock_live_host, mock_live_cublas);
  mock_live_dev = mock_live_host = 0;
  mock_live_cublas = 0;
  return 1;
}

/* The sweep of part 1. */
static void sweep(void) {
  static const size_t sizes[][3] = {{3, 50, 7}, {2, 5, 13}, {3, 40, 1}, {4, 37, 5},
                                    {1, 1, 1},  {2, 100, 64}, {5, 9, 9}};
  int ran = 0, refused = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int f64 = 0; f64 <= 1; f64++)
      for (int mode = 0; mode < 4; mode++)
        for (int op = 0; op < 2; op++)
          for (int math = 0; math < 3; math++)
            for (size_t l = 0; l < NLAYOUTS; l++) {
              if (run_case(sizes[s][0], sizes[s][1], sizes[s][2], f64, (dwconv_mode)mode, (dwconv_op)op,
                           (dwconv_math)math, &layouts[l]))
                ran++;
              else
                refused++;
            }
  unsetenv("DWCONV_CUDA_CHUNK_ROWS");
  unsetenv("DWCONV_CUDA_CHUNK_OUTS");
  unsetenv("DWCONV_GEMM_BLOCK");
  printf("GEMM sweep: %d cases run, %d refused (float64 with TF32 math, as they must be)\n", ran, refused);
  static const char *names[] = {"IEEE", "TF32", "TF32X3"};
  for (int math = 0; math < 3; math++)
    for (int f64 = 0; f64 <= 1; f64++) {
      const worst *w = &worst_of[math][f64];
      if (w->outputs == 0) continue;
      printf("  %-6s %s: %7zu outputs, largest error %.3g x sum|ab| = %.3f of the bound (P = 64: %.3g)\n",
             names[math], f64 ? "f64" : "f32", w->outputs, w->rel, w->ratio, bound((dwconv_math)math, f64, 64));
    }
  /* The test can fail: TF32 rounding must show up well above the FP32 bound. */
  CHECK(worst_of[1][0].rel > 10 * bound(DWCONV_MATH_IEEE, 0, 64), "TF32 results as exact as FP32 (%.3g): mock not rounding?",
        worst_of[1][0].rel);
}

static int mapped_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  return info->dlpi_name != NULL && strcmp(info->dlpi_name, (const char *)data) == 0;
}
/* Whether the object at path is loaded. */
static int mapped(const char *path) { return dl_iterate_phdr(mapped_cb, (void *)path); }

/* The cuBLAS plugin (run.sh builds libdwconv_cublas.so from src/cuda/cublas_plugin.c next to
 * this program, and a copy with another ABI number): not loaded by other plans; a plugin that
 * cannot be loaded (missing, not a plugin, another dwconv's) is NOT_SUPPORTED with the file and
 * the reason, nothing leaked; then the next plan finds the real one next to the program. Runs
 * first: a successful load is kept for the process. */
static void load_failure(void) {
  char dir[4096];
  ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 64);
  CHECK(n > 0, "readlink /proc/self/exe");
  if (n <= 0) return;
  dir[n] = '\0';
  *strrchr(dir, '/') = '\0';
  char plugin[4160], foreign[4160];
  snprintf(plugin, sizeof plugin, "%s/libdwconv_cublas.so", dir);
  snprintf(foreign, sizeof foreign, "%s/libdwconv_cublas_foreign.so", dir);

  dwconv_desc d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
  dwconv_plan *plan = NULL;
  dwconv_status st;
  for (int b = DWCONV_BACKEND_CPU; b <= DWCONV_BACKEND_CUDA; b++) {
    d.backend = (dwconv_backend)b; d.algo = DWCONV_ALGO_DIRECT;
    st = dwconv_plan_create(&plan, &d);
    CHECK(st == DWCONV_SUCCESS, "direct plan on backend %d: %d %s", b, st, dwconv_last_error());
    dwconv_plan_destroy(plan);
  }
  CHECK(!mapped(plugin), "a direct plan loaded the cuBLAS plugin");

  d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_GEMM;
  const char *cases[][2] = {{"/nonexistent/libdwconv_cublas.so", "No such file"},
                            {"libm.so.6", "not a dwconv cuBLAS plugin"},
                            {foreign, "built for dwconv 0.0.0 (plugin ABI 1)"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    setenv("DWCONV_CUBLAS_LIBRARY", cases[i][0], 1);
    plan = NULL;
    st = dwconv_plan_create(&plan, &d);
    CHECK(st == DWCONV_ERROR_NOT_SUPPORTED && plan == NULL && strstr(dwconv_last_error(), "could not be loaded") &&
              strstr(dwconv_last_error(), cases[i][0]) && strstr(dwconv_last_error(), cases[i][1]) &&
              strstr(dwconv_last_error(), "DWCONV_CUBLAS_LIBRARY"),
          "plugin %s: %d %s", cases[i][0], st, dwconv_last_error());
    CHECK(mock_live_dev == 0 && (dwconv__cuda_pinned_trim(), mock_live_host == 0), "plugin %s: leak dev %zu host %zu",
          cases[i][0], mock_live_dev, mock_live_host);
    printf("  DWCONV_CUBLAS_LIBRARY=%s: %s\n", i == 2 ? "<foreign plugin>" : cases[i][0], dwconv_last_error());
  }
  CHECK(!mapped(plugin) && !mapped(foreign), "a refused plugin stayed loaded");
  unsetenv("DWCONV_CUBLAS_LIBRARY");
  st = dwconv_plan_create(&plan, &d);
  CHECK(st == DWCONV_SUCCESS, "cuBLAS back: %d %s", st, dwconv_last_error());
  dwconv_plan_destroy(plan);
  CHECK(mapped(plugin), "the plugin next to the program is not what was loaded");
  printf("cuBLAS plugin: not loaded by direct plans; missing / not a plugin / another dwconv's: NOT_SUPPORTED with the "
         "reason, nothing leaked; then found next to the program\n");
}

/* Part 2: the API rules. */
static void api_rules(void) {
  dwconv_plan *plan = (dwconv_plan *)&plan;
  dwconv_desc d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
  CHECK(d.math == DWCONV_MATH_IEEE, "desc_make math %d", d.math);
  d.backend = DWCONV_BACKEND_CPU; d.algo = DWCONV_ALGO_GEMM;
  dwconv_status st = dwconv_plan_create(&plan, &d);
  CHECK(st == DWCONV_ERROR_NOT_SUPPORTED && plan == NULL && strstr(dwconv_last_error(), "CUDA plans only"),
        "CPU + GEMM: %d %s", st, dwconv_last_error());
  for (int algo = 0; algo <= 3; algo++)
    for (int backend = 0; backend <= 2; backend++)
      for (int math = 1; math <= 2; math++) {
        /* GEMM with TF32 is a valid request where a GPU takes it (the mock has one). */
        if (algo == DWCONV_ALGO_GEMM && backend != DWCONV_BACKEND_CPU) continue;
        d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
        d.algo = (dwconv_algo)algo; d.backend = (dwconv_backend)backend; d.math = (dwconv_math)math;
        st = dwconv_plan_create(&plan, &d);
        CHECK(st == DWCONV_ERROR_NOT_SUPPORTED && plan == NULL &&
                  (strstr(dwconv_last_error(), "TF32") != NULL || strstr(dwconv_last_error(), "CUDA plans only") != NULL),
              "algo %d backend %d math %d: %d %s", algo, backend, math, st, dwconv_last_error());
      }
  d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
  d.math = (dwconv_math)3;
  CHECK(dwconv_plan_create(&plan, &d) == DWCONV_ERROR_INVALID_VALUE, "math 3 accepted");
  d.math = DWCONV_MATH_IEEE; d.algo = (dwconv_algo)4;
  CHECK(dwconv_plan_create(&plan, &d) == DWCONV_ERROR_INVALID_VALUE, "algo 4 accepted");
  /* AUTO: direct or FFT, IEEE, never GEMM (its constants are not measured). */
  int autos = 0;
  static const size_t Ps[] = {1, 15, 63, 255, 1023, 4095};
  static const size_t Ns[] = {64, 4096, 65536};
  for (size_t i = 0; i < 6; i++)
    for (size_t j = 0; j < 3; j++)
      for (int f64 = 0; f64 <= 1; f64++) {
        d = dwconv_desc_make(16, Ns[j], Ps[i], f64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
        d.backend = DWCONV_BACKEND_CUDA;
        d.device_memory_limit = (size_t)1 << 22; /* the mock's memory is real host memory */
        st = dwconv_plan_create(&plan, &d);
        dwconv_plan_info info = {0};
        if (st == DWCONV_SUCCESS) dwconv_plan_get_info(plan, &info);
        CHECK(st == DWCONV_SUCCESS && info.algo != DWCONV_ALGO_GEMM && info.math == DWCONV_MATH_IEEE,
              "AUTO N=%zu P=%zu: %d algo %d", Ns[j], Ps[i], st, info.algo);
        dwconv_plan_destroy(plan);
        autos++;
      }
  /* The one-shot call takes GEMM too. */
  float A[2 * 30], B[2 * 4], C[2 * 33];
  for (int i = 0; i < 60; i++) A[i] = (float)(i % 7) - 3.0f;
  for (int i = 0; i < 8; i++) B[i] = (float)(i % 3) - 1.0f;
  d = dwconv_desc_make(2, 30, 4, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_GEMM; d.math = DWCONV_MATH_TF32X3;
  st = dwconv_convolve(&d, A, 30, B, 4, C, 33);
  int ok = st == DWCONV_SUCCESS;
  for (int r = 0; r < 2 && ok; r++)
    for (int i = 0; i < 33; i++) {
      float want = 0;
      for (int k = 0; k < 4; k++)
        if (i - k >= 0 && i - k < 30) want += B[r * 4 + k] * A[r * 30 + i - k];
      if (C[r * 33 + i] != want) ok = 0; /* small integers: exact in every math */
    }
  CHECK(ok, "one-shot GEMM TF32X3: %d %s", st, dwconv_last_error());
  printf("API rules: GEMM and TF32 refused where they must be, %d AUTO plans never GEMM, one-shot GEMM right\n", autos);
}

/* Part 3a: every device resource (buffers, streams, events, the cuBLAS handle) failing in turn. */
static void resource_faults(void) {
  for (int math = 0; math < 3; math++) {
    size_t n;
    for (n = 1;; n++) {
      dwconv_desc d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
      d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_GEMM; d.math = (dwconv_math)math;
      dwconv__cuda_fault_inject(n);
      dwconv_plan *plan = NULL;
      dwconv_status st = dwconv_plan_create(&plan, &d);
      size_t made = dwconv__cuda_fault_inject(0);
      dwconv_plan_destroy(plan);
      CHECK(st == (n > made ? DWCONV_SUCCESS : DWCONV_ERROR_OUT_OF_MEMORY), "fault %zu of %zu: status %d %s", n, made,
            st, dwconv_last_error());
      CHECK(mock_live_dev == 0 && (dwconv__cuda_pinned_trim(), mock_live_host == 0) && mock_live_cublas == 0, "fault %zu: leak dev %zu host %zu cublas %d",
            n, mock_live_dev, mock_live_host, mock_live_cublas);
      mock_live_dev = mock_live_host = 0;
      mock_live_cublas = 0;
      if (n > made) break;
    }
    printf("GEMM plan creation (math %d): each of %zu device resource acquisitions failed in turn: OUT_OF_MEMORY, "
           "nothing leaked\n", math, n - 1);
  }
}

/* Part 3b: every cuBLAS call failing with every status. */
static void cublas_faults(void) {
  static const cublasStatus_t statuses[] = {
      CUBLAS_STATUS_NOT_INITIALIZED, CUBLAS_STATUS_ALLOC_FAILED,   CUBLAS_STATUS_INVALID_VALUE,
      CUBLAS_STATUS_ARCH_MISMATCH,   CUBLAS_STATUS_MAPPING_ERROR,  CUBLAS_STATUS_EXECUTION_FAILED,
      CUBLAS_STATUS_INTERNAL_ERROR,  CUBLAS_STATUS_NOT_SUPPORTED,  CUBLAS_STATUS_LICENSE_ERROR};
  static const char *names[] = {"CUBLAS_STATUS_NOT_INITIALIZED", "CUBLAS_STATUS_ALLOC_FAILED",
                                "CUBLAS_STATUS_INVALID_VALUE",   "CUBLAS_STATUS_ARCH_MISMATCH",
                                "CUBLAS_STATUS_MAPPING_ERROR",   "CUBLAS_STATUS_EXECUTION_FAILED",
                                "CUBLAS_STATUS_INTERNAL_ERROR",  "CUBLAS_STATUS_NOT_SUPPORTED",
                                "CUBLAS_STATUS_LICENSE_ERROR"};
  static const dwconv_status want[] = {DWCONV_ERROR_DEVICE,        DWCONV_ERROR_OUT_OF_MEMORY, DWCONV_ERROR_INTERNAL,
                                       DWCONV_ERROR_NOT_SUPPORTED, DWCONV_ERROR_DEVICE,        DWCONV_ERROR_DEVICE,
                                       DWCONV_ERROR_DEVICE,        DWCONV_ERROR_NOT_SUPPORTED, DWCONV_ERROR_DEVICE};
  static const char *calls[] = {"cublasCreate", "cublasSetWorkspace", "cublasSetStream", "cublasGemmStridedBatchedEx",
                                "cublasDestroy"};
  int cases = 0;
  float A[3 * 50], B[3 * 7], C[3 * 56];
  for (int i = 0; i < 150; i++) A[i] = (float)(i % 11) - 5.0f;
  for (int i = 0; i < 21; i++) B[i] = (float)(i % 5) - 2.0f;
  for (int c = 0; c < 5; c++)
    for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++) {
      const int at_create = c < 2, at_destroy = c == 4;
      dwconv_desc d = dwconv_desc_make(3, 50, 7, DWCONV_FLOAT32);
      d.backend = DWCONV_BACKEND_CUDA; d.algo = DWCONV_ALGO_GEMM; d.math = DWCONV_MATH_TF32X3;
      mock_cublas_fail_call = calls[c];
      mock_cublas_fail_status = statuses[k];
      dwconv_plan *plan = NULL;
      dwconv_status st = dwconv_plan_create(&plan, &d);
      if (!at_create) {
        CHECK(st == DWCONV_SUCCESS, "%s: create %d", calls[c], st);
        if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, 7);
        if (st == DWCONV_SUCCESS && !at_destroy) {
          st = dwconv_plan_execute(plan, A, 50, C, 56);
          CHECK(st == want[k] && strstr(dwconv_last_error(), calls[c]) && strstr(dwconv_last_error(), names[k]),
                "%s failing with %s: execute %d (%s)", calls[c], names[k], st, dwconv_last_error());
          /* The failure was transient: the same plan works again. */
          memset(C, 0, sizeof C);
          st = dwconv_plan_execute(plan, A, 50, C, 56);
          int ok = st == DWCONV_SUCCESS;
          for (int r = 0; r < 3 && ok; r++)
            for (int i = 0; i < 56; i++) {
              float s = 0;
              for (int t = 0; t < 7; t++)
                if (i - t >= 0 && i - t < 50) s += B[r * 7 + t] * A[r * 50 + i - t];
              if (C[r * 56 + i] != s) ok = 0;
            }
          CHECK(ok, "%s failing with %s: the next execute %d", calls[c], names[k], st);
        }
      } else {
        CHECK(st == want[k] && plan == NULL && strstr(dwconv_last_error(), calls[c]) &&
                  strstr(dwconv_last_error(), names[k]),
              "%s failing with %s: create %d (%s)", calls[c], names[k], st, dwconv_last_error());
      }
      dwconv_plan_destroy(plan);
      if (at_destroy)
        CHECK(strstr(dwconv_last_error(), "cublasDestroy") && strstr(dwconv_last_error(), names[k]),
              "cublasDestroy failing with %s: last error '%s'", names[k], dwconv_last_error());
      CHECK(mock_cublas_fail_call == NULL, "%s was never called", calls[c]);
      mock_cublas_fail_call = NULL;
      CHECK(mock_live_dev == 0 && (dwconv__cuda_pinned_trim(), mock_live_host == 0) && mock_live_cublas == 0, "%s/%s: leak dev %zu host %zu cublas %d",
            calls[c], names[k], mock_live_dev, mock_live_host, mock_live_cublas);
      mock_live_dev = mock_live_host = 0;
      mock_live_cublas = 0;
      cases++;
    }
  printf("cuBLAS failures: %d (call, status) pairs mapped to the right status and message, nothing leaked\n", cases);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* a sanitizer exit does not flush stdio */
  /* A 64 MiB "GPU": the default budget (half the free memory) gives a 2 MiB cuBLAS workspace,
   * which the mock really allocates and fills, instead of 32 MiB per plan. */
  mock_free_mem = (size_t)64 << 20;
  load_failure();
  api_rules();
  resource_faults();
  cublas_faults();
  sweep();
  printf("gemm_test: %d failures\n", fails);
  return fails != 0;
}
