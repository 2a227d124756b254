/* The direct (time-domain) depthwise kernel and its launcher.
 *
 * One thread block computes a tile of TILE = THREADS * R consecutive outputs of one row. For
 * each chunk of up to KT taps it stages the taps and the TILE + KT - 1 input samples they touch
 * (zeros outside the row) in shared memory, then every thread accumulates R consecutive outputs,
 * keeping a sliding window of 2R inputs in registers: per tap, one broadcast load of the tap and
 * R fused multiply-adds, so the inner loop is bound by FMA issue, not by shared-memory loads.
 * Taps longer than KT are processed chunk by chunk into the same accumulators, so any P works
 * with a fixed shared-memory footprint. Tiles are numbered over rows x tiles-per-row with 64-bit
 * indices and walked by a grid-stride loop on gridDim.x only, so no grid dimension limit applies.
 * Every mode and op arrive as the window start s0 and the correlation taps: no extra passes. */
#include <cuda_runtime.h>

#include <climits>

#include "cuda_kernels.h"

namespace {

constexpr int kOutsPerThread = 8; /* R: outputs per thread (register blocking) */

/* Shared-memory index with one pad element per 32 banks' worth of data. Threads of a warp read
 * addresses R elements apart; without the pad those land in 32/R banks only (an 8-way conflict
 * for float). The pad rotates each 32-element run by one bank, which spreads them out. */
template <typename T>
__device__ __forceinline__ unsigned skew(unsigned i) {
  return i + (i >> (sizeof(T) == 4 ? 5 : 4));
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

template <typename T, int THREADS, int KT>
__global__ void __launch_bounds__(THREADS) direct_kernel(const dwconv_cuda_work w) {
  constexpr int R = kOutsPerThread;
  constexpr unsigned TILE = THREADS * R;
  /* Inputs one tap chunk reads: TILE + KT - 1, plus R so the window prefetch of the last
   * step stays inside initialised data. */
  constexpr unsigned SPAN = TILE + KT + R;
  __shared__ T s_a[SPAN + (SPAN >> (sizeof(T) == 4 ? 5 : 4)) + 1];
  __shared__ T s_k[KT];

  const unsigned long long tiles_per_row = (w.outs + TILE - 1) / TILE;
  const unsigned long long tiles = tiles_per_row * w.rows;
  const unsigned base = threadIdx.x * R;

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
        s_a[skew<T>(i)] = (x >= w.in.a_lo && x < w.in.a_hi) ? a[x - w.in.a_lo] : T(0);
      }
      __syncthreads();

      T win[2 * R];
#pragma unroll
      for (int q = 0; q < R; q++) win[q] = s_a[skew<T>(base + q)];
      const unsigned kfull = pc - pc % R;
      for (unsigned kk = 0; kk < kfull; kk += R) {
#pragma unroll
        for (int q = 0; q < R; q++) win[R + q] = s_a[skew<T>(base + kk + R + q)];
#pragma unroll
        for (int u = 0; u < R; u++) {
          const T wt = s_k[kk + u];
#pragma unroll
          for (int q = 0; q < R; q++) acc[q] = fma_t<T>(win[q + u], wt, acc[q]);
        }
#pragma unroll
        for (int q = 0; q < R; q++) win[q] = win[R + q];
      }
      for (unsigned k = kfull; k < pc; k++) { /* fewer than R taps left: same order, same FMAs */
        const T wt = s_k[k];
#pragma unroll
        for (int q = 0; q < R; q++) acc[q] = fma_t<T>(s_a[skew<T>(base + q + k)], wt, acc[q]);
      }
    }

    /* Stage the tile in shared memory so the global stores are coalesced. */
    __syncthreads();
#pragma unroll
    for (int q = 0; q < R; q++) s_a[skew<T>(base + q)] = acc[q];
    __syncthreads();
    T *c = static_cast<T *>(w.c) + r * w.ldc + j0;
    const size_t left = w.outs - j0;
    const unsigned n = left < TILE ? (unsigned)left : TILE;
    for (unsigned i = threadIdx.x; i < n; i += THREADS) c[i] = s_a[skew<T>(i)];
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
