/* The direct (time-domain) depthwise kernel and its launcher.
 *
 * One thread block computes a tile of TILE = THREADS * R consecutive outputs of one row. For
 * each chunk of up to KT taps it stages the taps and the TILE + KT - 1 input samples they touch
 * (zeros outside the row) in shared memory, then every thread accumulates R = 8 consecutive
 * outputs, keeping a sliding window of 2R inputs in registers. Per step of R taps a thread
 * makes 2R/V 16-byte shared loads (R new inputs, R taps; V = 4 floats or 2 doubles per load)
 * and R x R fused multiply-adds, so the inner loop is FMA instructions with a few loads and no
 * per-tap address arithmetic (scripts/kernel-report.py: 84% FFMA in the sm_90 SASS of the
 * float loop). The input window is stored with one pad chunk per 8 so the 16-byte loads of a
 * quarter-warp are free of bank conflicts. Fewer than R remaining taps use the same scheme,
 * unrolled. Taps longer than KT are processed chunk by chunk into the same accumulators, so
 * any P works with a fixed shared-memory footprint. Every output sums its taps in order with
 * fused multiply-adds, whatever the tile, the chunking or the thread count. Tiles are numbered
 * over rows x tiles-per-row with 64-bit indices and walked by a grid-stride loop on gridDim.x
 * only, so no grid dimension limit applies. Every mode and op arrive as the window start s0
 * and the correlation taps: no extra passes. */
#include <cuda_runtime.h>

#include <climits>

#include "cuda_kernels.h"

namespace {

constexpr int kOutsPerThread = 8; /* R: outputs per thread (register blocking) */

/* 16-byte vectors of T: the shared-memory loads of the inner loop. */
template <typename T>
struct Vec;
template <>
struct Vec<float> {
  using type = float4;
  static constexpr int n = 4;
};
template <>
struct Vec<double> {
  using type = double2;
  static constexpr int n = 2;
};

/* Shared-memory layout of the input window: 16-byte chunks, with one unused chunk after every
 * 8 (128 bytes, one pass over the 32 banks). Thread t's window starts at chunk t * R / V, so
 * without the pad the 8 threads of a quarter-warp (one 16-byte-load wavefront) would hit only
 * 4 (float) or 2 (double) distinct bank groups; with it they hit 8, conflict-free. */
__device__ __forceinline__ unsigned pad_chunk(unsigned c) { return c + (c >> 3); }
template <typename T>
__device__ __forceinline__ unsigned pad_elem(unsigned i) {
  constexpr unsigned V = Vec<T>::n;
  return pad_chunk(i / V) * V + i % V;
}
template <typename T>
__device__ __forceinline__ void unpack(const typename Vec<T>::type &v, T *out);
template <>
__device__ __forceinline__ void unpack<float>(const float4 &v, float *out) {
  out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
}
template <>
__device__ __forceinline__ void unpack<double>(const double2 &v, double *out) {
  out[0] = v.x; out[1] = v.y;
}

template <typename T>
__device__ __forceinline__ T fma_t(T a, T b, T c);
template <>
__device__ __forceinline__ float fma_t<float>(float a, float b, float c) {
  return fmaf(a, b, c);
}
template <>
__device__ __forceinline__ double fma_t<double>(double a, double b, double c) {
  return fma(a, b, c);
}

/* R elements starting at chunk c (R / V chunks) into w. c is a multiple of R / V, which
 * divides 8, so the R / V chunks never straddle a pad: one padded index, then immediate
 * offsets. */
template <typename T>
__device__ __forceinline__ void load_r(const T *s, unsigned c, T *w) {
  constexpr int R = kOutsPerThread, V = Vec<T>::n;
  static_assert(8 % (R / V) == 0, "a window load must not straddle a pad chunk");
  const typename Vec<T>::type *p = reinterpret_cast<const typename Vec<T>::type *>(s) + pad_chunk(c);
#pragma unroll
  for (int v = 0; v < R / V; v++) unpack<T>(p[v], w + v * V);
}

/* R taps starting at tap k (a multiple of V) of the unpadded tap array into k8. */
template <typename T>
__device__ __forceinline__ void load_taps(const T *s_k, unsigned k, T *k8) {
  constexpr int R = kOutsPerThread, V = Vec<T>::n;
  const typename Vec<T>::type *p = reinterpret_cast<const typename Vec<T>::type *>(s_k + k);
#pragma unroll
  for (int v = 0; v < R / V; v++) unpack<T>(p[v], k8 + v * V);
}

template <typename T, int THREADS, int KT>
__global__ void __launch_bounds__(THREADS) direct_kernel(const dwconv_cuda_work w) {
  constexpr int R = kOutsPerThread;
  constexpr unsigned V = Vec<T>::n;
  constexpr unsigned TILE = THREADS * R;
  /* Inputs one tap chunk reads: TILE + KT - 1, plus R so the window loads of the last step
   * stay inside the array (rounded up to whole chunks), plus the pad chunks. */
  constexpr unsigned SPAN = TILE + KT + R;
  constexpr unsigned CHUNKS = (SPAN + V - 1) / V;
  __shared__ alignas(16) T s_a[(CHUNKS + CHUNKS / 8 + 1) * V];
  /* Taps, plus R so the tail's vector loads stay inside (the extra values are never used). */
  __shared__ alignas(16) T s_k[KT + R];

  const unsigned long long tiles_per_row = (w.outs + TILE - 1) / TILE;
  const unsigned long long tiles = tiles_per_row * w.rows;
  const unsigned base = threadIdx.x * R;      /* first output of this thread in the tile */
  const unsigned chunk0 = threadIdx.x * (R / V); /* ... and its first input chunk */

  for (unsigned long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const size_t r = (size_t)(tile / tiles_per_row);
    const size_t j0 = (size_t)(tile % tiles_per_row) * TILE;
    const T *a = static_cast<const T *>(w.in.a) + r * w.in.lda;
    const T *taps = static_cast<const T *>(w.kern) + r * w.ldk;
    T acc[R];
#pragma unroll
    for (int q = 0; q < R; q++) acc[q] = T(0);

    for (size_t t0 = 0; t0 < w.p; t0 += KT) {
      const unsigned pc = (unsigned)(w.p - t0 < (size_t)KT ? w.p - t0 : (size_t)KT);
      const unsigned span = TILE + pc - 1 + R;
      const long long first = w.s0 + (long long)(j0 + t0);
      __syncthreads(); /* the previous chunk (or tile) is done with s_a and s_k */
      for (unsigned i = threadIdx.x; i < pc; i += THREADS) s_k[i] = taps[t0 + i];
      for (unsigned i = threadIdx.x; i < span; i += THREADS) {
        const long long x = first + (long long)i;
        s_a[pad_elem<T>(i)] = (x >= w.in.a_lo && x < w.in.a_hi) ? a[x - w.in.a_lo] : T(0);
      }
      __syncthreads();

      /* win[0..R) = inputs base + kk .. + R - 1; each step loads the next R and applies R
       * taps (R x R FMAs from 2 R / V vector loads). Taps in order for every output. */
      T win[2 * R];
      load_r<T>(s_a, chunk0, win);
      const unsigned kfull = pc - pc % R;
      unsigned c = chunk0 + R / V;
      const T *kp = s_k;
#pragma unroll 2
      for (unsigned kk = 0; kk < kfull; kk += R, c += R / V, kp += R) {
        load_r<T>(s_a, c, win + R);
        T k8[R];
        load_taps<T>(kp, 0, k8);
#pragma unroll
        for (int u = 0; u < R; u++)
#pragma unroll
          for (int q = 0; q < R; q++) acc[q] = fma_t<T>(win[q + u], k8[u], acc[q]);
#pragma unroll
        for (int q = 0; q < R; q++) win[q] = win[R + q];
      }
      /* Fewer than R taps left: the same window scheme, unrolled, each tap in order. */
      const unsigned rem = pc - kfull;
      if (rem != 0) {
        load_r<T>(s_a, c, win + R);
        T k8[R];
        load_taps<T>(s_k, kfull, k8);
#pragma unroll
        for (int u = 0; u < R - 1; u++) {
          if ((unsigned)u < rem) {
#pragma unroll
            for (int q = 0; q < R; q++) acc[q] = fma_t<T>(win[q + u], k8[u], acc[q]);
          }
        }
      }
    }

    /* Stage the tile in shared memory so the global stores are coalesced. */
    __syncthreads();
#pragma unroll
    for (int q = 0; q < R; q++) s_a[pad_elem<T>(base + q)] = acc[q];
    __syncthreads();
    T *c = static_cast<T *>(w.c) + r * w.ldc + j0;
    const size_t left = w.outs - j0;
    const unsigned n = left < TILE ? (unsigned)left : TILE;
    for (unsigned i = threadIdx.x; i < n; i += THREADS) c[i] = s_a[pad_elem<T>(i)];
  }
}

/* Tap chunk sizes: keep each block's static shared memory near 20-26 KB so several blocks
 * fit per SM on every supported architecture (48 KB static limit). */
template <typename T>
struct TapChunk;
template <>
struct TapChunk<float> {
  static constexpr int value = 2048;
};
template <>
struct TapChunk<double> {
  static constexpr int value = 1024;
};

template <typename T, int THREADS>
cudaError_t launch(const dwconv_cuda_work *w, cudaStream_t stream) {
  constexpr unsigned long long TILE = (unsigned long long)THREADS * kOutsPerThread;
  const unsigned long long tiles = ((w->outs + TILE - 1) / TILE) * (unsigned long long)w->rows;
  const unsigned grid = tiles < (unsigned long long)INT_MAX ? (unsigned)tiles : (unsigned)INT_MAX;
  const cudaError_t before = cudaPeekAtLastError();
  direct_kernel<T, THREADS, TapChunk<T>::value><<<grid, THREADS, 0, stream>>>(*w);
  return dwconv__cuda_launched(before);
}

}  // namespace

extern "C" cudaError_t dwconv__cuda_launch_direct(const dwconv_cuda_work *w, int f64,
                                                  cudaStream_t stream) {
  if (w->rows == 0 || w->outs == 0) return cudaSuccess;
  /* Short rows get 32-thread blocks (256-output tiles) so few threads idle past the row end;
   * longer rows get 128 threads (1024-output tiles) for more reuse of each staged input. */
  const bool short_rows = w->outs <= 256;
  if (f64) return short_rows ? launch<double, 32>(w, stream) : launch<double, 128>(w, stream);
  return short_rows ? launch<float, 32>(w, stream) : launch<float, 128>(w, stream);
}
