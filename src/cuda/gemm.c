/* The GEMM path of CUDA plans: buffers, cuBLAS handle and the per-rectangle sequence; see
 * gemm.h for the formulation. Plain C: the two kernels are in gemm_kernels.cu. */
#include <limits.h>
#include <string.h>

#include "cuda_state.h"
#include "cuda_util.h"
#include "gemm.h"
#include "gemm_kernels.h"

#define WORKSPACE_MIN ((size_t)16 << 10)
#define WORKSPACE_MAX ((size_t)32 << 20)

static int is_x3(const dwconv_problem *prob) { return prob->desc.math == DWCONV_MATH_TF32X3; }


size_t dwconv__cuda_gemm_row_bytes(const dwconv_problem *prob, size_t outs) {
  const dwconv_geometry *g = &prob->geom;
  const size_t t = g->block_step, kp = dwconv__gemm_k_ld(g), parts = is_x3(prob) ? 2 : 1;
  const size_t nb = (outs + t - 1) / t;
  size_t elems = dwconv__sat_mul(dwconv__sat_mul(nb, kp), parts);            /* X */
  elems = dwconv__sat_add(elems, dwconv__sat_mul(dwconv__sat_mul(kp, t), parts));    /* W */
  elems = dwconv__sat_add(elems, dwconv__sat_mul(nb, t));                    /* Y */
  return dwconv__sat_mul(elems, prob->elem_size);
}

size_t dwconv__cuda_gemm_workspace_bytes(size_t budget) {
  size_t w = budget / 16;
  return w < WORKSPACE_MIN ? WORKSPACE_MIN : w > WORKSPACE_MAX ? WORKSPACE_MAX : w;
}

/* Creates the handle through the fault-injection point of every device resource. */
static dwconv_status make_handle(dwconv_cuda_gemm *gm) {
  dwconv_status st = dwconv__cublas_load(&gm->api);
  if (st != DWCONV_SUCCESS) return st;
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUBLAS_HANDLE))
    return dwconv__cublas_fail(CUBLAS_STATUS_ALLOC_FAILED, "cublasCreate");
  cublasStatus_t r = gm->api->create(&gm->handle);
  if (r != CUBLAS_STATUS_SUCCESS) return dwconv__cublas_fail(r, "cublasCreate");
  gm->have_handle = 1;
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cuda_gemm_create(dwconv_cuda_state *s) {
  const dwconv_problem *prob = &s->prob;
  const dwconv_geometry *g = &prob->geom;
  const dwconv_chunking *c = &s->shape.chunks;
  dwconv_cuda_gemm *gm = (dwconv_cuda_gemm *)dwconv__malloc(sizeof *gm);
  if (gm == NULL)
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating the GEMM state (%zu bytes)", sizeof *gm);
  memset(gm, 0, sizeof *gm);
  s->gemm = gm;
  const size_t t = g->block_step, kp = dwconv__gemm_k_ld(g), es = s->es;
  const size_t nb = (c->outs_per_chunk + t - 1) / t, rows = c->rows_per_chunk;
  /* The chunk sizing counted these (dwconv__cuda_gemm_row_bytes), so none overflows. */
  gm->x_part = rows * nb * kp;
  gm->w_part = rows * kp * t;
  const size_t parts = is_x3(prob) ? 2 : 1;
  dwconv_status st = dwconv__cuda_plan_alloc(s, &gm->x, gm->x_part * parts * es, "cudaMalloc (GEMM block inputs X)");
  if (st == DWCONV_SUCCESS) st = dwconv__cuda_plan_alloc(s, &gm->w, gm->w_part * parts * es, "cudaMalloc (GEMM Toeplitz W)");
  if (st == DWCONV_SUCCESS) st = dwconv__cuda_plan_alloc(s, &gm->y, rows * nb * t * es, "cudaMalloc (GEMM blocks Y)");
  gm->work_bytes = dwconv__cuda_gemm_workspace_bytes(s->budget);
  if (st == DWCONV_SUCCESS) st = dwconv__cuda_plan_alloc(s, &gm->work, gm->work_bytes, "cudaMalloc (cuBLAS workspace)");
  if (st == DWCONV_SUCCESS) st = make_handle(gm);
  if (st == DWCONV_SUCCESS) {
    /* Our own workspace: the budget covers it, and cuBLAS makes no allocation of its own
     * behind the plan's back at execute time. */
    cublasStatus_t r = gm->api->set_workspace(gm->handle, gm->work, gm->work_bytes);
    if (r != CUBLAS_STATUS_SUCCESS) st = dwconv__cublas_fail(r, "cublasSetWorkspace");
  }
  return st;
}

dwconv_status dwconv__cuda_gemm_destroy(dwconv_cuda_state *s) {
  dwconv_cuda_gemm *gm = s->gemm;
  if (gm == NULL) return DWCONV_SUCCESS;
  dwconv_status st = DWCONV_SUCCESS;
  if (gm->have_handle) {
    cublasStatus_t r = gm->api->destroy(gm->handle);
    if (r != CUBLAS_STATUS_SUCCESS) st = dwconv__cublas_fail(r, "cublasDestroy");
  }
  void *bufs[4] = {gm->x, gm->w, gm->y, gm->work};
  for (int i = 0; i < 4; i++) {
    cudaError_t e = dwconv__cuda_dev_free(bufs[i], s->pooled, s->streams[0]);
    if (e != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e, "freeing the GEMM buffers");
  }
  dwconv__free(gm);
  s->gemm = NULL;
  return st;
}

/* One cuBLAS product of the sequence: Y = alpha W^T-view x X-view + beta Y in cuBLAS's
 * column-major terms (see compute below). */
typedef struct product {
  int m, n, k, batch;
  long long stride_w, stride_x, stride_y;
  int ldy;
} product;

static dwconv_status gemm_call(dwconv_cuda_state *s, const product *pr, const void *w, const void *x,
                               void *y, int beta_one) {
  const int f64 = s->f64;
  const float f_one = 1.0f, f_zero = 0.0f;
  const double d_one = 1.0, d_zero = 0.0;
  const void *alpha = f64 ? (const void *)&d_one : (const void *)&f_one;
  const void *beta = beta_one ? alpha : f64 ? (const void *)&d_zero : (const void *)&f_zero;
  const cudaDataType type = f64 ? CUDA_R_64F : CUDA_R_32F;
  const cublasComputeType_t compute = f64 ? CUBLAS_COMPUTE_64F
                                      : s->prob.desc.math == DWCONV_MATH_IEEE ? CUBLAS_COMPUTE_32F
                                                                              : CUBLAS_COMPUTE_32F_FAST_TF32;
  cublasStatus_t r = s->gemm->api->gemm(
      s->gemm->handle, CUBLAS_OP_N, CUBLAS_OP_N, pr->m, pr->n, pr->k, alpha, w, type, pr->m, pr->stride_w, x,
      type, pr->k, pr->stride_x, beta, y, type, pr->ldy, pr->stride_y, pr->batch, compute, CUBLAS_GEMM_DEFAULT);
  return r == CUBLAS_STATUS_SUCCESS ? DWCONV_SUCCESS : dwconv__cublas_fail(r, "cublasGemmStridedBatchedEx");
}

static dwconv_status launched(cudaError_t e, const char *what) {
  return e == cudaSuccess ? DWCONV_SUCCESS : dwconv__cuda_fail(e, what);
}

/* Row-major Y_m (nb x T, row stride T) = X_m (nb x Kp) W_m (Kp x T) is, column-major,
 * Y_m^T (T x nb, ld T) = W_m^T (T x Kp, ld T) X_m^T (Kp x nb, ld Kp): cuBLAS's m = T,
 * n = nb, k = Kp with no transposes. A broadcast A or kernel is a stride of 0; a broadcast
 * kernel with per-row inputs stacks the rows into n (one plain GEMM) when Y is contiguous. */
dwconv_status dwconv__cuda_gemm_compute(dwconv_cuda_state *s, const dwconv_cuda_work *w,
                                        cudaStream_t stream) {
  dwconv_cuda_gemm *gm = s->gemm;
  const dwconv_geometry *g = &s->prob.geom;
  const size_t es = s->es;
  dwconv_cuda_gemm_geo geo;
  geo.t = g->block_step;
  geo.kk = g->block_len;
  geo.kp = dwconv__gemm_k_ld(g);
  geo.nb = (w->outs + geo.t - 1) / geo.t;
  if (w->rows == 0 || w->outs == 0) return DWCONV_SUCCESS;
  const size_t xrows = w->in.lda == 0 ? 1 : w->rows, wrows = w->ldk == 0 ? 1 : w->rows;
  size_t blocks, xel, wel, yel;
  if (!dwconv__mul_ok(w->rows, geo.nb, &blocks) || !dwconv__mul_ok(blocks, geo.kp, &xel) ||
      xel > gm->x_part || !dwconv__mul_ok(wrows * geo.kp, geo.t, &wel) || wel > gm->w_part ||
      blocks > (size_t)INT_MAX)
    return dwconv__error(DWCONV_ERROR_INTERNAL, "GEMM rectangle of %zu rows x %zu blocks exceeds the chunk's buffers",
                         w->rows, geo.nb);
  const int x3 = is_x3(&s->prob);
  char *x_hi = (char *)gm->x, *w_hi = (char *)gm->w;
  char *x_lo = x3 ? x_hi + gm->x_part * es : NULL, *w_lo = x3 ? w_hi + gm->w_part * es : NULL;
  dwconv_status st = launched(dwconv__cuda_launch_gemm_gather(w, &geo, xrows, x_hi, x_lo, s->f64, stream),
                              "GEMM gather launch");
  if (st == DWCONV_SUCCESS)
    st = launched(dwconv__cuda_launch_gemm_toeplitz(w->kern, w->ldk, wrows, g->p, &geo, w_hi, w_lo, s->f64, stream),
                  "GEMM Toeplitz launch");
  if (st != DWCONV_SUCCESS) return st;

  /* Whole blocks go straight into C; a last partial block would write past the row. */
  yel = geo.nb * geo.t;
  const int direct = yel == w->outs;
  void *y = direct ? w->c : gm->y;
  const size_t ystride = direct ? w->ldc : yel;
  product pr;
  pr.m = (int)geo.t;
  pr.k = (int)geo.kp;
  pr.ldy = (int)geo.t;
  if (wrows == 1 && xrows == w->rows && ystride == yel) {
    pr.n = (int)(w->rows * geo.nb);
    pr.batch = 1;
    pr.stride_w = pr.stride_x = pr.stride_y = 0;
  } else {
    pr.n = (int)geo.nb;
    pr.batch = (int)w->rows;
    pr.stride_w = wrows == 1 ? 0 : (long long)(geo.kp * geo.t);
    pr.stride_x = xrows == 1 ? 0 : (long long)(geo.nb * geo.kp);
    pr.stride_y = (long long)ystride;
  }
  cublasStatus_t r = gm->api->set_stream(gm->handle, stream);
  if (r != CUBLAS_STATUS_SUCCESS) return dwconv__cublas_fail(r, "cublasSetStream");
  if (x3) {
    /* The two small cross terms first, then the large one, all accumulated in FP32. */
    st = gemm_call(s, &pr, w_hi, x_lo, y, 0);
    if (st == DWCONV_SUCCESS) st = gemm_call(s, &pr, w_lo, x_hi, y, 1);
    if (st == DWCONV_SUCCESS) st = gemm_call(s, &pr, w_hi, x_hi, y, 1);
  } else {
    st = gemm_call(s, &pr, w_hi, x_hi, y, 0);
  }
  if (st != DWCONV_SUCCESS || direct) return st;
  return dwconv__cuda_copy_rows(s, w->c, w->ldc * es, y, yel * es, w->outs * es, w->rows, stream,
                                "copying GEMM blocks to C");
}
