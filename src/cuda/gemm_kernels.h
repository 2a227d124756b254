/* Launchers of the GEMM path's kernels (gemm_kernels.cu): the gather that builds each block's
 * input row X and the Toeplitz builder of W. Same contract as cuda_kernels.h: each checks its
 * launch configuration, queues the kernel on `stream` and returns cudaGetLastError(). */
#ifndef DWCONV_GEMM_KERNELS_H
#define DWCONV_GEMM_KERNELS_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Block geometry of one rectangle: blocks of t outputs, kk = P + t - 1 input samples each,
 * stored in rows of kp (kk rounded up to the alignment) elements; nb blocks per row. */
typedef struct dwconv_cuda_gemm_geo {
  size_t t, kk, kp, nb;
} dwconv_cuda_gemm_geo;

/* X[r, b, k] = in(r, s0 + b*t + k) for k < kk (zero outside [a_lo, a_hi)), 0 for kk <= k < kp,
 * for r < xrows (1 when w->in.lda is 0), b < nb; X row (r, b) at (r*nb + b)*kp. With x_lo
 * non-NULL (float only) x_hi gets each value rounded to TF32 and x_lo the exact rest. */
cudaError_t dwconv__cuda_launch_gemm_gather(const dwconv_cuda_work *w, const dwconv_cuda_gemm_geo *geo,
                                            size_t xrows, void *x_hi, void *x_lo, int f64,
                                            cudaStream_t stream);

/* W[r, k, i] = taps[r*ldk + k - i] when 0 <= k - i < p, else 0, for r < wrows, k < kp, i < t;
 * row (r, k) at (r*kp + k)*t. x_lo as for the gather: the TF32 high / low split. */
cudaError_t dwconv__cuda_launch_gemm_toeplitz(const void *taps, size_t ldk, size_t wrows, size_t p,
                                              const dwconv_cuda_gemm_geo *geo, void *w_hi,
                                              void *w_lo, int f64, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_GEMM_KERNELS_H */
