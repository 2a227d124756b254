/* Strided row copies between host and device memory (or device and device). */
#include "cuda_state.h"
#include "cuda_util.h"

/* One cudaMemcpy2DAsync when both pitches are within the device's limit for 2-D copies (very
 * long rows can exceed it), else one cudaMemcpyAsync per row. cudaMemcpyDefault lets the
 * runtime tell host from device through unified addressing, so this serves the kernel upload
 * (B anywhere), staging copies and the pageable fallback alike. */
dwconv_status dwconv__cuda_copy_rows(const dwconv_cuda_state *s, void *dst, size_t dpitch,
                                     const void *src, size_t spitch, size_t width, size_t height,
                                     cudaStream_t stream, const char *what) {
  if (width == 0 || height == 0) return DWCONV_SUCCESS;
  cudaError_t e;
  if (height == 1) {
    e = cudaMemcpyAsync(dst, src, width, cudaMemcpyDefault, stream);
  } else if (dpitch <= s->max_pitch && spitch <= s->max_pitch) {
    e = cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, cudaMemcpyDefault, stream);
  } else {
    e = cudaSuccess;
    for (size_t r = 0; r < height && e == cudaSuccess; r++)
      e = cudaMemcpyAsync((char *)dst + r * dpitch, (const char *)src + r * spitch, width,
                          cudaMemcpyDefault, stream);
  }
  return e == cudaSuccess ? DWCONV_SUCCESS : dwconv__cuda_fail(e, what);
}
