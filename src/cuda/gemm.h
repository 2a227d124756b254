/* The CUDA backend's GEMM path (gemm.c): block-Toeplitz batched matrix products on cuBLAS.
 * For every row m of a rectangle, with T outputs per block and K = P + T - 1 inputs per block:
 *   Y_m (nb x T) = X_m (nb x Kp) * W_m (Kp x T),   W_m[k][i] = taps_m[k - i] (0 off the band)
 * X_m's rows are the blocks' input windows (gather kernel), W_m the Toeplitz matrix of the
 * correlation taps (built per rectangle from the taps set_kernel stored), and one
 * cublasGemmStridedBatchedEx covers all rows (three for TF32X3: high x high, high x low,
 * low x high). docs/CUDA.md has the formulation, memory and error bounds. */
#ifndef DWCONV_CUDA_GEMM_H
#define DWCONV_CUDA_GEMM_H

#include <cublas_v2.h>

#include "cublas_plugin.h" /* dwconv_cublas_api: the cuBLAS functions dwconv uses */
#include "cuda_kernels.h"
#include "gemm_model.h"

struct dwconv_cuda_state;

/* Loads the cuBLAS plugin once per process (see cublas_load.c) and stores cuBLAS's functions in
 * *api. NOT_SUPPORTED with every file tried and why it failed when it cannot be loaded.
 * Thread-safe. */
dwconv_status dwconv__cublas_load(const dwconv_cublas_api **api);

/* What a GEMM plan holds besides the common state: X, W and Y for one chunk (shared by the
 * pipeline slots, like the FFT buffer: computes are serialised), the cuBLAS handle and its
 * workspace, all counted in the plan's device budget. */
typedef struct dwconv_cuda_gemm {
  const dwconv_cublas_api *api;
  cublasHandle_t handle;
  int have_handle;
  void *x, *w, *y; /* for TF32X3, x and w hold the high part and then the low part */
  size_t x_part, w_part; /* elements of one part */
  void *work;
  size_t work_bytes;
} dwconv_cuda_gemm;

/* Device bytes one chunk row of `outs` outputs needs for X, W and Y (all parts). */
size_t dwconv__cuda_gemm_row_bytes(const dwconv_problem *prob, size_t outs);

/* The cuBLAS workspace a plan with `budget` device bytes gives its handle: cuBLAS's
 * recommended 32 MiB on Hopper, less on small budgets, never under the 16 KiB below which
 * cuBLAS calls fail with ALLOC_FAILED. */
size_t dwconv__cuda_gemm_workspace_bytes(size_t budget);

/* Allocates X, W, Y and the workspace for s->shape's chunk and creates the handle. On failure
 * returns OUT_OF_MEMORY / DEVICE / NOT_SUPPORTED with detail; what was taken stays in
 * s->gemm for dwconv__cuda_gemm_destroy. */
dwconv_status dwconv__cuda_gemm_create(struct dwconv_cuda_state *s);

/* Frees what dwconv__cuda_gemm_create took (also a partial one, or none); returns the first
 * failure. */
dwconv_status dwconv__cuda_gemm_destroy(struct dwconv_cuda_state *s);

/* Queues rectangle w on stream: gather, Toeplitz, the GEMM(s), and a copy into w->c when the
 * rectangle's outputs are not a whole number of blocks. DEVICE / NOT_SUPPORTED / OUT_OF_MEMORY
 * on a CUDA or cuBLAS failure, INTERNAL if the rectangle exceeds the chunk's buffers. */
dwconv_status dwconv__cuda_gemm_compute(struct dwconv_cuda_state *s, const dwconv_cuda_work *w,
                                        cudaStream_t stream);

/* cuBLAS failures as dwconv statuses, with "what: cuBLAS error N (NAME)" for
 * dwconv_last_error(): ALLOC_FAILED is OUT_OF_MEMORY; NOT_SUPPORTED and ARCH_MISMATCH (the GPU
 * lacks what the math needs) NOT_SUPPORTED; INVALID_VALUE (arguments dwconv got wrong)
 * INTERNAL; everything else (not initialised, execution, mapping, internal, licence) DEVICE. */
dwconv_status dwconv__cublas_fail(cublasStatus_t res, const char *what);
const char *dwconv__cublas_string(cublasStatus_t res);

#endif /* DWCONV_CUDA_GEMM_H */
