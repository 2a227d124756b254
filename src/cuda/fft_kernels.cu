/* The element-wise kernels of the overlap-save FFT path: gather (build zero-padded segments),
 * multiply (apply the kernel spectrum) and scatter (keep the linear part of each block). The
 * transforms themselves are cuFFT calls made from compute.c.
 *
 * Each kernel walks (slot, part) tiles of the rectangle with a grid-stride loop over
 * blockIdx.x (64-bit numbers, so no grid limit applies); a block handles kEPT x blockDim.x
 * elements of one slot, so the row/block arithmetic is done once per tile. */
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

/* Each slot's extent (len samples for gather, len/2+1 bins for multiply, step outputs for
 * scatter) is cut into parts of blockDim.x * kEPT elements, one thread block per (slot, part)
 * and kEPT elements per thread at a stride of blockDim.x: loads stay coalesced, each thread has
 * kEPT independent loads in flight, and a few slots still fill the GPU (one block per slot,
 * one element per thread, left most SMs idle and every thread waiting on one load). */
constexpr unsigned kEPT = 4;

/* Part p of a slot covers elements [p * span, (p + 1) * span) with span = blockDim.x * kEPT. */
struct Part {
  unsigned long long slot;
  size_t first;
};
__device__ __forceinline__ Part part_of(unsigned long long tile, unsigned long long parts) {
  Part p;
  p.slot = tile / parts;
  p.first = (size_t)(tile % parts) * blockDim.x * kEPT;
  return p;
}

template <typename T>
__global__ void gather_kernel(const dwconv_cuda_work w, const dwconv_cuda_os os, T *x,
                              unsigned long long parts) {
  const unsigned long long tiles = (unsigned long long)w.rows * os.nb * parts;
  for (unsigned long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const Part pt = part_of(tile, parts);
    const size_t r = (size_t)(pt.slot / os.nb), b = (size_t)(pt.slot % os.nb);
    const size_t need = block_count(w, os, b) + w.p - 1;
    const T *a = static_cast<const T *>(w.in.a) + r * w.in.lda;
    const long long first = w.s0 + (long long)(b * os.step);
    T *dst = x + pt.slot * os.slot_ld;
    T v[kEPT];
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t l = pt.first + threadIdx.x + e * blockDim.x;
      const long long k = first + (long long)l;
      v[e] = (l < os.len && l < need && k >= w.in.a_lo && k < w.in.a_hi) ? a[k - w.in.a_lo] : T(0);
    }
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t l = pt.first + threadIdx.x + e * blockDim.x;
      if (l < os.len) dst[l] = v[e];
    }
  }
}

/* One bin of the spectrum product; every path below computes each bin with this same
 * expression, so the vector and scalar accesses give the same bits. */
template <typename C>
__device__ __forceinline__ C cmul(const C u, const C v) {
  C o;
  o.x = u.x * v.x - u.y * v.y;
  o.y = u.x * v.y + u.y * v.x;
  return o;
}

/* Work units per slot of the multiply: one bin each (double), or for float one pair of bins
 * per 16-byte access (the slot's first thread also takes the bins at the ends no pair
 * covers). */
template <typename T>
__host__ __device__ __forceinline__ size_t multiply_units(size_t bins) {
  return sizeof(T) == 4 ? bins / 2 : bins;
}

template <typename T>
__global__ void multiply_kernel(const dwconv_cuda_work w, const dwconv_cuda_os os, T *x,
                                unsigned long long parts) {
  using C = typename Complex<T>::type;
  const unsigned long long tiles = (unsigned long long)w.rows * os.nb * parts;
  const size_t bins = os.len / 2 + 1;
  for (unsigned long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const Part pt = part_of(tile, parts);
    const size_t r = (size_t)(pt.slot / os.nb);
    const C *h = static_cast<const C *>(w.kern) + r * w.ldk;
    C *y = reinterpret_cast<C *>(x + pt.slot * os.slot_ld);
    C u[kEPT], v[kEPT];
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t f = pt.first + threadIdx.x + e * blockDim.x;
      if (f < bins) {
        u[e] = y[f];
        v[e] = h[f];
      }
    }
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t f = pt.first + threadIdx.x + e * blockDim.x;
      if (f < bins) y[f] = cmul(u[e], v[e]);
    }
  }
}

/* float: two bins per 16-byte load and store. A slot's bins start 8-byte aligned (slot_ld is
 * even), and 16-byte aligned only when slot x (L/2+1) is even, so a slot whose first bin is
 * not takes it alone (head) and pairs from bin 1; an odd bin left at the end (tail) is alone
 * too; the slot's first thread does both. The spectrum row is read with the same 16-byte
 * loads when it has the same alignment as the slot, else as two 8-byte loads. */
template <>
__global__ void multiply_kernel<float>(const dwconv_cuda_work w, const dwconv_cuda_os os, float *x,
                                       unsigned long long parts) {
  const unsigned long long tiles = (unsigned long long)w.rows * os.nb * parts;
  const size_t bins = os.len / 2 + 1;
  for (unsigned long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const Part pt = part_of(tile, parts);
    const size_t r = (size_t)(pt.slot / os.nb);
    const float2 *h = static_cast<const float2 *>(w.kern) + r * w.ldk;
    float2 *y = reinterpret_cast<float2 *>(x + pt.slot * os.slot_ld);
    const size_t head = (reinterpret_cast<size_t>(y) & 15) != 0 ? 1 : 0;
    const bool h_pairs = ((reinterpret_cast<size_t>(h) & 15) != 0 ? 1u : 0u) == head;
    const size_t pairs = (bins - head) / 2;
    float4 u[kEPT], v[kEPT];
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t q = pt.first + threadIdx.x + e * blockDim.x, f = head + 2 * q;
      if (q < pairs) {
        u[e] = *reinterpret_cast<const float4 *>(y + f);
        if (h_pairs) {
          v[e] = *reinterpret_cast<const float4 *>(h + f);
        } else {
          const float2 a = h[f], b = h[f + 1];
          v[e].x = a.x; v[e].y = a.y; v[e].z = b.x; v[e].w = b.y;
        }
      }
    }
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t q = pt.first + threadIdx.x + e * blockDim.x, f = head + 2 * q;
      if (q < pairs) {
        float2 lo, hi, a, b;
        lo.x = u[e].x; lo.y = u[e].y; hi.x = u[e].z; hi.y = u[e].w;
        a.x = v[e].x; a.y = v[e].y; b.x = v[e].z; b.y = v[e].w;
        lo = cmul(lo, a);
        hi = cmul(hi, b);
        float4 o;
        o.x = lo.x; o.y = lo.y; o.z = hi.x; o.w = hi.y;
        *reinterpret_cast<float4 *>(y + f) = o;
      }
    }
    /* The bins no pair covers, by the slot's first thread (no pair touches them). */
    if (pt.first == 0 && threadIdx.x == 0) {
      if (head) y[0] = cmul(y[0], h[0]);
      if (head + 2 * pairs < bins) y[bins - 1] = cmul(y[bins - 1], h[bins - 1]);
    }
  }
}

template <typename T>
__global__ void scatter_kernel(const dwconv_cuda_work w, const dwconv_cuda_os os, const T *x,
                               unsigned long long parts) {
  const unsigned long long tiles = (unsigned long long)w.rows * os.nb * parts;
  for (unsigned long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const Part pt = part_of(tile, parts);
    const size_t r = (size_t)(pt.slot / os.nb), b = (size_t)(pt.slot % os.nb);
    const size_t count = block_count(w, os, b);
    const T *src = x + pt.slot * os.slot_ld + (w.p - 1);
    T *c = static_cast<T *>(w.c) + r * w.ldc + b * os.step;
    T v[kEPT];
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t j = pt.first + threadIdx.x + e * blockDim.x;
      if (j < count) v[e] = src[j];
    }
#pragma unroll
    for (unsigned e = 0; e < kEPT; e++) {
      const size_t j = pt.first + threadIdx.x + e * blockDim.x;
      if (j < count) c[j] = v[e];
    }
  }
}

/* threads = the per-slot extent rounded up to a warp, at most 256; parts = the blocks that
 * cover one slot's extent at kEPT elements per thread; grid = slots x parts (at most
 * INT_MAX, the kernels' grid-stride loops cover the rest). */
struct Config {
  unsigned grid, threads;
  unsigned long long parts;
};
Config config(const dwconv_cuda_work *w, const dwconv_cuda_os *os, size_t extent) {
  Config c;
  const size_t t = (extent + 31) / 32 * 32;
  c.threads = t < 256 ? (unsigned)t : 256u;
  const size_t span = (size_t)c.threads * kEPT;
  c.parts = (extent + span - 1) / span;
  const unsigned long long tiles = (unsigned long long)w->rows * os->nb * c.parts;
  c.grid = tiles < (unsigned long long)INT_MAX ? (unsigned)tiles : (unsigned)INT_MAX;
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
    gather_kernel<double><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<double *>(x), c.parts);
  else
    gather_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<float *>(x), c.parts);
  return dwconv__cuda_launched(before);
}

extern "C" cudaError_t dwconv__cuda_launch_os_multiply(const dwconv_cuda_work *w,
                                                       const dwconv_cuda_os *os, void *x, int f64,
                                                       cudaStream_t stream) {
  if (empty(w, os)) return cudaSuccess;
  const size_t bins = os->len / 2 + 1;
  const Config c = config(w, os, f64 ? multiply_units<double>(bins) : multiply_units<float>(bins));
  const cudaError_t before = cudaPeekAtLastError();
  if (f64)
    multiply_kernel<double><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<double *>(x), c.parts);
  else
    multiply_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *os, static_cast<float *>(x), c.parts);
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
                                                             static_cast<const double *>(x), c.parts);
  else
    scatter_kernel<float><<<c.grid, c.threads, 0, stream>>>(*w, *os,
                                                            static_cast<const float *>(x), c.parts);
  return dwconv__cuda_launched(before);
}
