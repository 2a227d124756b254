// The real kernel bodies of ../gemm_kernels.cu (extracted by run.sh into gemm_body.inc) behind
// the launchers of gemm_kernels.h, run on the CPU. These kernels use neither shared memory
// nor __syncthreads, so each CUDA thread runs to completion in turn, one after another, in
// block order; grids are capped at 3 blocks (as in emu_kernels.cpp) so the grid-stride loops
// are exercised. The launchers mirror the grid/block choices of the .cu launchers.
#include <climits>
#include <cstring>
#include <functional>
#include "gemm_kernels.h"
extern "C" void mock_enqueue(cudaStream_t s, void (*run)(void *), void *arg);
struct dim { unsigned x = 0, y = 0, z = 0; };
static dim threadIdx, blockIdx, gridDim, blockDim;
#define __global__
#define __device__
#define __forceinline__ inline
static inline unsigned __float_as_uint(float x) { unsigned u; std::memcpy(&u, &x, 4); return u; }
static inline float __uint_as_float(unsigned u) { float x; std::memcpy(&x, &u, 4); return x; }
namespace gk {
#include "gemm_body.inc"
}
template <class F> static void emulate(unsigned long long rows, size_t extent, F f) {
  gk::Config c = gk::config(rows, extent);
  gridDim.x = c.grid < 3 ? c.grid : 3;
  blockDim.x = c.threads;
  for (unsigned b = 0; b < gridDim.x; b++)
    for (unsigned t = 0; t < blockDim.x; t++) { blockIdx.x = b; threadIdx.x = t; f(); }
}
static void run_closure(void *p) {
  auto *f = static_cast<std::function<void()> *>(p);
  (*f)();
  delete f;
}
// A launch: queued on its stream like every other kernel of the mock runtime. The work and
// geometry are copied: the caller's structs may be gone when the queue reaches the kernel.
template <class F> static void launch(cudaStream_t s, unsigned long long rows, size_t extent, F f) {
  mock_enqueue(s, run_closure, new std::function<void()>([=] { emulate(rows, extent, f); }));
}
extern "C" cudaError_t dwconv__cuda_launch_gemm_gather(const dwconv_cuda_work *w, const dwconv_cuda_gemm_geo *geo,
                                                       size_t xrows, void *x_hi, void *x_lo, int f64, cudaStream_t st) {
  const unsigned long long rows = (unsigned long long)xrows * geo->nb;
  if (rows == 0 || geo->kp == 0) return cudaSuccess;
  if (f64 && x_lo != nullptr) return cudaErrorInvalidValue;
  const dwconv_cuda_work wk = *w;
  const dwconv_cuda_gemm_geo g = *geo;
  if (f64) launch(st, rows, g.kp, [=] { gk::gemm_gather_kernel<double>(wk, g, xrows, (double *)x_hi, nullptr); });
  else launch(st, rows, g.kp, [=] { gk::gemm_gather_kernel<float>(wk, g, xrows, (float *)x_hi, (float *)x_lo); });
  return cudaSuccess;
}
extern "C" cudaError_t dwconv__cuda_launch_gemm_toeplitz(const void *taps, size_t ldk, size_t wrows, size_t p,
                                                         const dwconv_cuda_gemm_geo *geo, void *w_hi, void *w_lo,
                                                         int f64, cudaStream_t st) {
  const unsigned long long rows = (unsigned long long)wrows * geo->kp;
  if (rows == 0 || geo->t == 0) return cudaSuccess;
  if (f64 && w_lo != nullptr) return cudaErrorInvalidValue;
  const dwconv_cuda_gemm_geo g = *geo;
  if (f64) launch(st, rows, g.t, [=] { gk::gemm_toeplitz_kernel<double>((const double *)taps, ldk, wrows, p, g, (double *)w_hi, nullptr); });
  else launch(st, rows, g.t, [=] { gk::gemm_toeplitz_kernel<float>((const float *)taps, ldk, wrows, p, g, (float *)w_hi, (float *)w_lo); });
  return cudaSuccess;
}
