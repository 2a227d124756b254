/* The element-wise kernels of the overlap-save FFT path: gather (build zero-padded segments),
 * multiply (apply the kernel spectrum) and scatter (keep the linear part of each block). The
 * transforms themselves are cuFFT calls made from fft_run.c.
 *
 * Each kernel walks the transform slots of the rectangle with a grid-stride loop over
 * blockIdx.x (64-bit slot numbers, so no grid limit applies) and the samples of one slot with
 * the threads of the block, so the row/block arithmetic is done once per slot. */
#include <cuda_runtime.h>

#include <climits>

#include "cuda_kernels.h"

namespace {

template <typename T>
struct Complex;
template <>
struct Complex<float> {
  using type = float2;
};
template <>
struct Complex<double> {
  using type = double2;
};

/* Outputs made by block b of a rectangle: step, except for the last block of a row. */
__device__ __forceinline__ size_t block_count(const dwconv_cuda_work &w, const dwconv_cuda_os &os,
                                              size_t b) {
  const size_t done = b * os.step;
  return w.outs - done < os.step ? w.outs - done : os.step;
}

template <typename T>
__global__ void gather_kernel(const dwconv_cuda_work w, const dwconv_cuda_os os, T *x) {
  const unsigned long long slots = (unsigned long long)w.rows * os.nb;
  for (unsigned long long slot = blockIdx.x; slot < slots; slot += gridDim.x) {
    const size_t r = (size_t)(slot / os.nb), b = (size_t)(slot % os.nb);
    const size_t need = block_count(w, os, b) + w.p - 1;
    const T *a = static_cast<const T *>(w.in.a) + r * w.in.lda;
    const long long first = w.s0 + (long long)(b * os.step);
    T *dst = x + slot * os.slot_ld;
    for (size_t l = threadIdx.x; l < os.len; l += blockDim.x) {
      const long long k = first + (long long)l;
      dst[l] = (l < need && k >= w.in.a_lo && k < w.in.a_hi) ? a[k - w.in.a_lo] : T(0);
    }
  }
}

template <typename T>
__global__ void multiply_kernel(const dwconv_cuda_work w, const dwconv_cuda_os os, T *x) {
  using C = typename Complex<T>::type;
  const unsigned long long slots = (unsigned long long)w.rows * os.nb;
  const size_t bins = os.len / 2 + 1;
  for (unsigned long long slot = blockIdx.x; slot < slots; slot += gridDim.x) {
    const size_t r = (size_t)(slot / os.nb);
    const C *h = static_cast<const C *>(w.kern) + r * w.ldk;
    C *y = reinterpret_cast<C *>(x + slot * os.slot_ld);
    for (size_t f = threadIdx.x; f < bins; f += blockDim.x) {
      const C u = y[f], v = h[f];
      C o;
      o.x = u.x * v.x - u.y * v.y;
      o.y = u.x * v.y + u.y * v.x;
      y[f] = o;
    }
  }
}

template <typename T>
__global__ void scatter_kernel(const dwconv_cuda_work w, const dwconv_cuda_os os, const T *x) {
  const unsigned long long slots = (unsigned long long)w.rows * os.nb;
  for (unsigned long long slot = blockIdx.x; slot < slots; slot += gridDim.x) {
    const size_t r = (size_t)(slot / os.nb), b = (size_t)(slot % os.nb);
    const size_t count = block_count(w, os, b);
    const T *src = x + slot * os.slot_ld + (w.p - 1);
    T *c = static_cast<T *>(w.c) + r * w.ldc + b * os.step;
    for (size_t j = threadIdx.x; j < count; j += blockDim.x) c[j] = src[j];
  }
}

/* One block per slot (up to INT_MAX blocks), threads = the per-slot extent rounded up to a
 * warp, at most 256. */
struct Config {
  unsigned grid, threads;
};
Config config(const dwconv_cuda_work *w, const dwconv_cuda_os *os, size_t extent) {
  const unsigned long long slots = (unsigned long long)w->rows * os->nb;
  Config c;
  c.grid = slots < (unsigned long long)INT_MAX ? (unsigned)slots : (unsigned)INT_MAX;
  const size_t t = (extent + 31) / 32 * 32;
  c.threads = t < 256 ? (unsigned)t : 256u;
  return c;
}

bool empty(const dwconv_cuda_work *w, const dwconv_cuda_os *os) {
  return w->rows == 0 || w->outs == 0 || os->nb == 0;
}

}  // namespace

extern "C" cudaError_t dwconv__cuda_launch_os_gather(const dwconv_cuda_work *w,
                                                     const dwconv_cuda_os *os, void *x, int f64,
                                                     cudaStream_t stream) {
  if (empty(w, os)) return cudaSuccess;
  const Config c = config(w, os, os->len);
  const cudaError_t before = cudaPeekAtLastError();
  if (f64)
    gather_kernel<double><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<double *>(x));
  else
    gather_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<float *>(x));
  return dwconv__cuda_launched(before);
}

extern "C" cudaError_t dwconv__cuda_launch_os_multiply(const dwconv_cuda_work *w,
                                                       const dwconv_cuda_os *os, void *x, int f64,
                                                       cudaStream_t stream) {
  if (empty(w, os)) return cudaSuccess;
  const Config c = config(w, os, os->len / 2 + 1);
  const cudaError_t before = cudaPeekAtLastError();
  if (f64)
    multiply_kernel<double><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<double *>(x));
  else
    multiply_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<float *>(x));
  return dwconv__cuda_launched(before);
}

extern "C" cudaError_t dwconv__cuda_launch_os_scatter(const dwconv_cuda_work *w,
                                                      const dwconv_cuda_os *os, const void *x,
                                                      int f64, cudaStream_t stream) {
  if (empty(w, os)) return cudaSuccess;
  const Config c = config(w, os, os->step);
  const cudaError_t before = cudaPeekAtLastError();
  if (f64)
    scatter_kernel<double><<<c.grid, c.threads, 0, stream>>>(*w, *os,
                                                             static_cast<const double *>(x));
  else
    scatter_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *os,
                                                            static_cast<const float *>(x));
  return dwconv__cuda_launched(before);
}
