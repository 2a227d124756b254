// The real kernel bodies of ../direct_kernel.cu, ../fft_kernels.cu and ../prep_kernel.cu
// (extracted by run.sh into *_body.inc) behind the launcher interface of cuda_kernels.h, run
// on the CPU: one std::thread per CUDA thread, a std::barrier for __syncthreads, blocks one
// after another. run.sh rewrites each `__shared__ T name[n];` into a pointer to a per-block
// buffer that starts full of NaN bytes (as real shared memory starts with whatever the last
// block left), so a read of shared memory nobody wrote this block poisons the result.
// Launches go through the mock runtime: the configuration is checked (and a failure can be
// injected), and the kernel is queued on its stream and runs at a synchronisation point.
// Grids are capped at 3 blocks so the emulation stays quick and the kernels' grid-stride
// loops are exercised. The launchers mirror the grid/block choices of the .cu launchers;
// keep them in step.
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <climits>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#include "cuda_kernels.h"
extern "C" int mock_launch_ok(unsigned grid, unsigned threads, size_t smem, cudaStream_t s);
extern "C" void mock_enqueue(cudaStream_t s, void (*run)(void *), void *arg);
struct dim { unsigned x = 0, y = 0, z = 0; };
static thread_local dim threadIdx, blockIdx;
static dim gridDim, blockDim;
static std::barrier<> *bar;
// Shared memory of the running block: the n-th __shared__ declaration a thread reaches is the
// n-th buffer, made (NaN-filled) by the first thread that reaches it.
static std::mutex shared_lock;
static std::vector<void *> shared_bufs;
static thread_local size_t shared_next;
template <typename T> static T *emu_shared(size_t count) {
  std::lock_guard<std::mutex> g(shared_lock);
  const size_t k = shared_next++;
  if (k == shared_bufs.size()) {
    void *p = std::malloc(count * sizeof(T));
    std::memset(p, 0xFF, count * sizeof(T));
    shared_bufs.push_back(p);
  }
  return static_cast<T *>(shared_bufs[k]);
}
#undef __global__
#undef __device__
#undef __forceinline__
#define __global__
#define __device__
#define __forceinline__ inline
#undef __host__
#define __host__
#define __launch_bounds__(...)
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
    for (unsigned t = 0; t < threads; t++)
      ts.emplace_back([&, t, blk] { threadIdx.x = t; blockIdx.x = blk; shared_next = 0; f(); });
    for (auto &th : ts) th.join();
    for (void *p : shared_bufs) std::free(p);
    shared_bufs.clear();
  }
}
static void run_closure(void *a) {
  auto *f = static_cast<std::function<void()> *>(a);
  (*f)();
  delete f;
}
// A launch: the runtime's checks, then the kernel queued on its stream.
template <class F> static cudaError_t launch(unsigned grid, unsigned threads, cudaStream_t s, F f) {
  const cudaError_t before = cudaPeekAtLastError();
  if (mock_launch_ok(grid, threads, 0, s))
    mock_enqueue(s, run_closure, new std::function<void()>([=] { emulate(grid, threads, f); }));
  return dwconv__cuda_launched(before);
}
template <typename T, int TH> static cudaError_t direct(const dwconv_cuda_work *w, cudaStream_t s) {
  constexpr unsigned long long TILE = (unsigned long long)TH * dk::kOutsPerThread;
  unsigned long long tiles = ((w->outs + TILE - 1) / TILE) * w->rows;
  const dwconv_cuda_work wk = *w;
  return launch((unsigned)(tiles < INT_MAX ? tiles : INT_MAX), TH, s,
                [wk] { dk::direct_kernel<T, TH, dk::TapChunk<T>::value>(wk); });
}
extern "C" cudaError_t dwconv__cuda_launch_direct(const dwconv_cuda_work *w, int f64, cudaStream_t st) {
  if (w->rows == 0 || w->outs == 0) return cudaSuccess;
  bool s = w->outs <= 256;
  if (f64) return s ? direct<double, 32>(w, st) : direct<double, 128>(w, st);
  return s ? direct<float, 32>(w, st) : direct<float, 128>(w, st);
}
extern "C" cudaError_t dwconv__cuda_launch_prepare_rows(void *x, size_t ld, size_t rows, size_t p, int flip, double scale, int f64, cudaStream_t st) {
  if (rows == 0 || p == 0) return cudaSuccess;
  unsigned grid = rows < (size_t)INT_MAX ? (unsigned)rows : (unsigned)INT_MAX;
  size_t pairs = (p + 1) / 2;
  unsigned threads = pairs >= 256 ? 256u : (unsigned)((pairs + 31) / 32 * 32);
  if (f64) return launch(grid, threads, st, [=] { pk::prepare_rows_kernel<double>((double *)x, ld, rows, p, flip, scale); });
  return launch(grid, threads, st, [=] { pk::prepare_rows_kernel<float>((float *)x, ld, rows, p, flip, (float)scale); });
}
#define FFT_LAUNCH(name, kern, extent, cast)                                                       \
  extern "C" cudaError_t name(const dwconv_cuda_work *w, const dwconv_cuda_os *os, cast void *x, int f64, cudaStream_t st) { \
    if (fk::empty(w, os)) return cudaSuccess;                                                      \
    fk::Config c = fk::config(w, os, extent);                                                      \
    const dwconv_cuda_work wk = *w; const dwconv_cuda_os o = *os;                                  \
    if (f64) return launch(c.grid, c.threads, st, [=] { fk::kern<double>(wk, o, (cast double *)x, c.parts); }); \
    return launch(c.grid, c.threads, st, [=] { fk::kern<float>(wk, o, (cast float *)x, c.parts); }); \
  }
FFT_LAUNCH(dwconv__cuda_launch_os_gather, gather_kernel, os->len, )
FFT_LAUNCH(dwconv__cuda_launch_os_multiply, multiply_kernel,
           f64 ? fk::multiply_units<double>(os->len / 2 + 1) : fk::multiply_units<float>(os->len / 2 + 1), )
FFT_LAUNCH(dwconv__cuda_launch_os_scatter, scatter_kernel, os->step, const)
