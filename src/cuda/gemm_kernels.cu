/* The element-wise kernels of the GEMM path (see gemm_kernels.h): the block-input gather and
 * the Toeplitz builder. The matrix products themselves are cuBLAS calls made from gemm.c.
 *
 * Both walk matrix rows with a grid-stride loop over blockIdx.x (64-bit row numbers, so no
 * grid limit applies) and the elements of one row with the threads of the block, so the
 * index arithmetic is done once per row and stores are coalesced. */
#include <cuda_runtime.h>

#include <climits>

#include "gemm_kernels.h"

namespace {

/* TF32 high part of x: the mantissa rounded to 10 bits, to nearest even (what the tensor
 * cores take exactly). Inf and NaN are kept; a value that would round up past FLT_MAX is
 * truncated instead, so the low part x - hi stays finite and exact. */
__device__ __forceinline__ float tf32_high(float x) {
  const unsigned u = __float_as_uint(x);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  unsigned r = (u + 0xfffu + ((u >> 13) & 1u)) & 0xffffe000u;
  if ((r & 0x7f800000u) == 0x7f800000u) r = u & 0xffffe000u;
  return __uint_as_float(r);
}

/* Stores v at i of hi, or its TF32 high part there and the exact rest in lo. */
template <typename T>
__device__ __forceinline__ void store(T *hi, T *lo, size_t i, T v) {
  hi[i] = v;
}
template <>
__device__ __forceinline__ void store<float>(float *hi, float *lo, size_t i, float v) {
  if (lo == nullptr) {
    hi[i] = v;
    return;
  }
  const float h = tf32_high(v);
  hi[i] = h;
  /* Inf or NaN: its high part carries it; the rest would be NaN (inf - inf). */
  lo[i] = (__float_as_uint(v) & 0x7f800000u) == 0x7f800000u ? 0.0f : v - h;
}

template <typename T>
__global__ void gemm_gather_kernel(const dwconv_cuda_work w, const dwconv_cuda_gemm_geo geo,
                                   unsigned long long xrows, T *x_hi, T *x_lo) {
  const unsigned long long rows = xrows * geo.nb;
  for (unsigned long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const size_t r = (size_t)(row / geo.nb), b = (size_t)(row % geo.nb);
    const T *a = static_cast<const T *>(w.in.a) + r * w.in.lda;
    const long long first = w.s0 + (long long)(b * geo.t);
    const size_t base = (size_t)row * geo.kp;
    for (size_t k = threadIdx.x; k < geo.kp; k += blockDim.x) {
      const long long pos = first + (long long)k;
      const T v = (k < geo.kk && pos >= w.in.a_lo && pos < w.in.a_hi) ? a[pos - w.in.a_lo] : T(0);
      store<T>(x_hi, x_lo, base + k, v);
    }
  }
}

template <typename T>
__global__ void gemm_toeplitz_kernel(const T *taps, size_t ldk, unsigned long long wrows, size_t p,
                                     const dwconv_cuda_gemm_geo geo, T *w_hi, T *w_lo) {
  const unsigned long long rows = wrows * geo.kp;
  for (unsigned long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const size_t r = (size_t)(row / geo.kp), k = (size_t)(row % geo.kp);
    const T *tr = taps + r * ldk;
    const size_t base = (size_t)row * geo.t;
    for (size_t i = threadIdx.x; i < geo.t; i += blockDim.x) {
      /* k - i as a signed offset: taps lie in [0, p). */
      const long long d = (long long)k - (long long)i;
      store<T>(w_hi, w_lo, base + i, (d >= 0 && d < (long long)p) ? tr[d] : T(0));
    }
  }
}

/* One block per matrix row (up to INT_MAX blocks, the rest by the grid-stride loop),
 * threads = the row length rounded up to a warp, at most 256. */
struct Config {
  unsigned grid, threads;
};
Config config(unsigned long long rows, size_t extent) {
  Config c;
  c.grid = rows < (unsigned long long)INT_MAX ? (unsigned)rows : (unsigned)INT_MAX;
  const size_t t = (extent + 31) / 32 * 32;
  c.threads = t < 256 ? (unsigned)t : 256u;
  return c;
}

}  // namespace

extern "C" cudaError_t dwconv__cuda_launch_gemm_gather(const dwconv_cuda_work *w,
                                                       const dwconv_cuda_gemm_geo *geo,
                                                       size_t xrows, void *x_hi, void *x_lo,
                                                       int f64, cudaStream_t stream) {
  const unsigned long long rows = (unsigned long long)xrows * geo->nb;
  if (rows == 0 || geo->kp == 0) return cudaSuccess;
  if (f64 && x_lo != nullptr) return cudaErrorInvalidValue; /* no TF32 split of doubles */
  const Config c = config(rows, geo->kp);
  if (f64)
    gemm_gather_kernel<double><<<c.grid, c.threads, 0, stream>>>(*w, *geo, xrows, static_cast<double *>(x_hi),
                                                                 nullptr);
  else
    gemm_gather_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *geo, xrows, static_cast<float *>(x_hi),
                                                                static_cast<float *>(x_lo));
  return cudaGetLastError();
}

extern "C" cudaError_t dwconv__cuda_launch_gemm_toeplitz(const void *taps, size_t ldk, size_t wrows,
                                                         size_t p, const dwconv_cuda_gemm_geo *geo,
                                                         void *w_hi, void *w_lo, int f64,
                                                         cudaStream_t stream) {
  const unsigned long long rows = (unsigned long long)wrows * geo->kp;
  if (rows == 0 || geo->t == 0) return cudaSuccess;
  if (f64 && w_lo != nullptr) return cudaErrorInvalidValue;
  const Config c = config(rows, geo->t);
  if (f64)
    gemm_toeplitz_kernel<double><<<c.grid, c.threads, 0, stream>>>(
        static_cast<const double *>(taps), ldk, wrows, p, *geo, static_cast<double *>(w_hi), nullptr);
  else
    gemm_toeplitz_kernel<float><<<c.grid, c.threads, 0, stream>>>(
        static_cast<const float *>(taps), ldk, wrows, p, *geo, static_cast<float *>(w_hi),
        static_cast<float *>(w_lo));
  return cudaGetLastError();
}
