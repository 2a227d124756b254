/* Kernel preparation on the device: reverse and/or scale rows in place. The direct path uses
 * it to turn uploaded B rows into correlation taps (reverse for CONVOLVE); the FFT path to turn
 * them into b' (reverse for CORRELATE) with the inverse transform's 1/L folded in. */
#include <cuda_runtime.h>

#include <climits>

#include "cuda_kernels.h"

namespace {

/* Thread t of a row owns the pair (t, p-1-t), so the in-place reversal needs no barrier. */
template <typename T>
__global__ void prepare_rows_kernel(T *x, size_t ld, size_t rows, size_t p, int flip, T scale) {
  const size_t pairs = (p + 1) / 2;
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    T *row = x + r * ld;
    for (size_t t = threadIdx.x; t < pairs; t += blockDim.x) {
      const size_t u = p - 1 - t;
      const T lo = row[t], hi = row[u];
      row[t] = (flip ? hi : lo) * scale;
      if (u != t) row[u] = (flip ? lo : hi) * scale;
    }
  }
}

}  // namespace

extern "C" cudaError_t dwconv__cuda_launch_prepare_rows(void *x, size_t ld, size_t rows, size_t p,
                                                        int flip, double scale, int f64,
                                                        cudaStream_t stream) {
  if (rows == 0 || p == 0) return cudaSuccess;
  const unsigned grid = rows < (size_t)INT_MAX ? (unsigned)rows : (unsigned)INT_MAX;
  const size_t pairs = (p + 1) / 2;
  const unsigned threads = pairs >= 256 ? 256u : (unsigned)((pairs + 31) / 32 * 32);
  const cudaError_t before = cudaPeekAtLastError();
  if (f64)
    prepare_rows_kernel<double><<<grid, threads, 0, stream>>>(static_cast<double *>(x), ld, rows,
                                                              p, flip, scale);
  else
    prepare_rows_kernel<float><<<grid, threads, 0, stream>>>(static_cast<float *>(x), ld, rows, p,
                                                             flip, (float)scale);
  return dwconv__cuda_launched(before);
}
