// The real kernel bodies of ../direct_kernel.cu, ../fft_kernels.cu and ../prep_kernel.cu
// (extracted by run.sh into *_body.inc) behind the launcher interface of cuda_kernels.h, run
// on the CPU: one std::thread per CUDA thread, a std::barrier for __syncthreads, blocks one
// after another (so a static "__shared__" array is per block). Grids are capped at 3 blocks
// so the emulation stays quick and the kernels' grid-stride loops are exercised. The
// launchers mirror the grid/block choices of the .cu launchers; keep them in step.
#include <barrier>
#include <cmath>
#include <cstdio>
#include <climits>
#include <thread>
#include <vector>
#include "cuda_kernels.h"
struct dim { unsigned x = 0, y = 0, z = 0; };
static thread_local dim threadIdx, blockIdx;
static dim gridDim, blockDim;
static std::barrier<> *bar;
#undef __global__
#undef __device__
#undef __forceinline__
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(x)
#define __syncthreads() bar->arrive_and_wait()
using std::fma; using std::fmaf;
namespace dk {
#include "kernel_body.inc"
}
namespace fk {
#include "fft_body.inc"
}
namespace pk {
#include "prep_body.inc"
}
template <class F> static void emulate(unsigned grid, unsigned threads, F f) {
  if (grid > 3) grid = 3;
  gridDim.x = grid; blockDim.x = threads;
  std::barrier<> b(threads); bar = &b;
  for (unsigned blk = 0; blk < grid; blk++) {
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; t++) ts.emplace_back([&, t, blk] { threadIdx.x = t; blockIdx.x = blk; f(); });
    for (auto &th : ts) th.join();
  }
}
template <typename T, int TH> static void direct(const dwconv_cuda_work *w) {
  constexpr unsigned long long TILE = (unsigned long long)TH * 8;
  unsigned long long tiles = ((w->outs + TILE - 1) / TILE) * w->rows;
  emulate((unsigned)(tiles < INT_MAX ? tiles : INT_MAX), TH, [&] { dk::direct_kernel<T, TH, dk::TapChunk<T>::value>(*w); });
}
extern "C" cudaError_t dwconv__cuda_launch_direct(const dwconv_cuda_work *w, int f64, cudaStream_t) {
  if (w->rows == 0 || w->outs == 0) return cudaSuccess;
  bool s = w->outs <= 256;
  if (f64) { if (s) direct<double, 32>(w); else direct<double, 128>(w); }
  else { if (s) direct<float, 32>(w); else direct<float, 128>(w); }
  return cudaSuccess;
}
extern "C" cudaError_t dwconv__cuda_launch_prepare_rows(void *x, size_t ld, size_t rows, size_t p, int flip, double scale, int f64, cudaStream_t) {
  if (rows == 0 || p == 0) return cudaSuccess;
  unsigned grid = rows < (size_t)INT_MAX ? (unsigned)rows : (unsigned)INT_MAX;
  size_t pairs = (p + 1) / 2;
  unsigned threads = pairs >= 256 ? 256u : (unsigned)((pairs + 31) / 32 * 32);
  if (f64) emulate(grid, threads, [&] { pk::prepare_rows_kernel<double>((double *)x, ld, rows, p, flip, scale); });
  else emulate(grid, threads, [&] { pk::prepare_rows_kernel<float>((float *)x, ld, rows, p, flip, (float)scale); });
  return cudaSuccess;
}
#define FFT_LAUNCH(name, kern, extent, cast)                                                       \
  extern "C" cudaError_t name(const dwconv_cuda_work *w, const dwconv_cuda_os *os, cast void *x, int f64, cudaStream_t) { \
    if (fk::empty(w, os)) return cudaSuccess;                                                      \
    fk::Config c = fk::config(w, os, extent);                                                      \
    if (f64) emulate(c.grid, c.threads, [&] { fk::kern<double>(*w, *os, (cast double *)x); });     \
    else emulate(c.grid, c.threads, [&] { fk::kern<float>(*w, *os, (cast float *)x); });           \
    return cudaSuccess;                                                                            \
  }
FFT_LAUNCH(dwconv__cuda_launch_os_gather, gather_kernel, os->len, )
FFT_LAUNCH(dwconv__cuda_launch_os_multiply, multiply_kernel, os->len / 2 + 1, )
FFT_LAUNCH(dwconv__cuda_launch_os_scatter, scatter_kernel, os->step, const)
