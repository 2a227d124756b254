/* Host stand-in for the cuBLAS calls src/cuda/gemm.c makes, for the GPU-less test: handles,
 * workspace, stream, and cublasGemmStridedBatchedEx as a plain CPU GEMM over the mock's
 * "device" memory. CUBLAS_COMPUTE_32F sums in float and CUBLAS_COMPUTE_64F in double, in
 * order of k with fused multiply-adds; CUBLAS_COMPUTE_32F_FAST_TF32 first rounds every element
 * of A and B to TF32 (10-bit mantissa, round to nearest even), as the tensor cores see them.
 * It checks what real cuBLAS would reject or crash on (dimensions, leading dimensions, type
 * combinations, host pointers, a handle without the workspace dwconv always sets), and any
 * call can be made to fail with a chosen status (mock_cublas_fail_*), so the tests reach
 * every error path. mock_live_cublas counts live handles for the leak checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

int mock_live_cublas;
/* Make the next call of mock_cublas_fail_call ("cublasCreate", ...) return
 * mock_cublas_fail_status; NULL: no failure. */
const char *mock_cublas_fail_call;
cublasStatus_t mock_cublas_fail_status;
/* Calls of cublasGemmStridedBatchedEx and of each compute type, for the tests. */
size_t mock_gemm_calls, mock_gemm_tf32_calls;

void mock_enqueue(cudaStream_t s, void (*run)(void *), void *arg); /* mock_cuda.c */

struct mock_handle {
  void *work;
  size_t work_bytes;
  cudaStream_t stream;
};

static int fail_now(const char *call) {
  if (mock_cublas_fail_call == NULL || strcmp(mock_cublas_fail_call, call) != 0) return 0;
  mock_cublas_fail_call = NULL;
  return 1;
}

static int is_device(const void *p) {
  struct cudaPointerAttributes a;
  return cudaPointerGetAttributes(&a, p) == cudaSuccess && a.type == cudaMemoryTypeDevice;
}

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle) {
  if (fail_now("cublasCreate")) return mock_cublas_fail_status;
  struct mock_handle *h = calloc(1, sizeof *h);
  if (h == NULL) return CUBLAS_STATUS_ALLOC_FAILED;
  *handle = (cublasHandle_t)h;
  mock_live_cublas++;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (handle == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  free(handle); /* real cuBLAS frees the handle even when it reports a failure */
  mock_live_cublas--;
  if (fail_now("cublasDestroy")) return mock_cublas_fail_status;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *work, size_t bytes) {
  if (fail_now("cublasSetWorkspace")) return mock_cublas_fail_status;
  if (handle == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (bytes != 0 && !is_device(work)) { fprintf(stderr, "mock: cuBLAS workspace is not device memory\n"); return CUBLAS_STATUS_INVALID_VALUE; }
  struct mock_handle *h = (struct mock_handle *)handle;
  h->work = work;
  h->work_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (fail_now("cublasSetStream")) return mock_cublas_fail_status;
  if (handle == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  ((struct mock_handle *)handle)->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

/* x rounded to TF32: 10 explicit mantissa bits, to nearest, ties to even; a finite value that
 * would round past FLT_MAX is truncated instead. Inf and NaN pass. */
static float tf32(float x) {
  unsigned u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  unsigned r = (u + 0xfffu + ((u >> 13) & 1u)) & 0xffffe000u;
  if ((r & 0x7f800000u) == 0x7f800000u) r = u & 0xffffe000u;
  float y;
  memcpy(&y, &r, 4);
  return y;
}

/* One queued GEMM (column-major, no transposes). */
struct gemm_op {
  int f64, round, m, n, k;
  const void *A; int lda; long long sa;
  const void *B; int ldb; long long sb;
  void *C; int ldc; long long sc;
  int batch;
  double alpha, beta;
};

static void run_gemm(void *arg) {
  const struct gemm_op *g = arg;
  for (int b = 0; b < g->batch; b++)
    for (int j = 0; j < g->n; j++)
      for (int i = 0; i < g->m; i++) {
        if (g->f64) {
          const double *a = (const double *)g->A + b * g->sa, *bb = (const double *)g->B + b * g->sb;
          double *c = (double *)g->C + b * g->sc;
          double s = 0;
          for (int l = 0; l < g->k; l++) s = fma(a[i + (long long)l * g->lda], bb[l + (long long)j * g->ldb], s);
          double *out = &c[i + (long long)j * g->ldc];
          *out = g->alpha * s + (g->beta == 0 ? 0 : g->beta * *out);
        } else {
          const float *a = (const float *)g->A + b * g->sa, *bb = (const float *)g->B + b * g->sb;
          float *c = (float *)g->C + b * g->sc;
          float s = 0;
          for (int l = 0; l < g->k; l++) {
            float x = a[i + (long long)l * g->lda], y = bb[l + (long long)j * g->ldb];
            if (g->round) x = tf32(x), y = tf32(y);
            s = fmaf(x, y, s);
          }
          float *out = &c[i + (long long)j * g->ldc];
          *out = (float)g->alpha * s + ((float)g->beta == 0 ? 0 : (float)g->beta * *out);
        }
      }
  free(arg);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                          int m, int n, int k, const void *alpha, const void *A,
                                          cudaDataType at, int lda, long long sa, const void *B, cudaDataType bt,
                                          int ldb, long long sb, const void *beta, void *C, cudaDataType ct,
                                          int ldc, long long sc, int batch, cublasComputeType_t compute,
                                          cublasGemmAlgo_t algo) {
  (void)algo;
  if (fail_now("cublasGemmStridedBatchedEx")) return mock_cublas_fail_status;
  if (handle == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  struct mock_handle *h = (struct mock_handle *)handle;
  if (h->work == NULL || h->work_bytes < (16 << 10)) {
    fprintf(stderr, "mock: GEMM on a handle without dwconv's workspace\n");
    return CUBLAS_STATUS_INTERNAL_ERROR;
  }
  if (ta != CUBLAS_OP_N || tb != CUBLAS_OP_N) return CUBLAS_STATUS_NOT_SUPPORTED; /* not modelled */
  if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < (m > 1 ? m : 1) || ldb < (k > 1 ? k : 1) || ldc < (m > 1 ? m : 1))
    return CUBLAS_STATUS_INVALID_VALUE;
  const int f64 = at == CUDA_R_64F;
  if (at != bt || at != ct || (at != CUDA_R_32F && at != CUDA_R_64F)) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (f64 ? compute != CUBLAS_COMPUTE_64F
          : compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  if (!is_device(A) || !is_device(B) || !is_device(C)) {
    fprintf(stderr, "mock: GEMM operand is not device memory\n");
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  const int round = compute == CUBLAS_COMPUTE_32F_FAST_TF32;
  mock_gemm_calls++;
  mock_gemm_tf32_calls += round;
  /* Like a real GEMM, queued on the handle's stream and run when the mock runtime reaches it
   * (alpha and beta are read now: they are host scalars the caller may reuse). */
  struct gemm_op *g = malloc(sizeof *g);
  if (!g) abort();
  *g = (struct gemm_op){f64, round, m, n, k, A, lda, sa, B, ldb, sb, C, ldc, sc, batch,
                        f64 ? *(const double *)alpha : *(const float *)alpha,
                        f64 ? *(const double *)beta : *(const float *)beta};
  mock_enqueue(h->stream, run_gemm, g);
  return CUBLAS_STATUS_SUCCESS;
}
