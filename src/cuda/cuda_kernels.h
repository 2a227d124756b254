/* The CUDA kernels' launchers: the only interface between the plain-C host code in src/cuda
 * and the .cu files. Each launcher queues the kernel on `stream` and returns the launch's own
 * error (dwconv__cuda_launched), so a caller checks one value and an error the caller of
 * dwconv left pending is neither blamed on dwconv nor cleared.
 * All sizes are 64-bit; nothing here allocates or synchronizes. */
#ifndef DWCONV_CUDA_KERNELS_H
#define DWCONV_CUDA_KERNELS_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A band of rows of the input as the kernels see it. Logical sample k (an index into the
 * zero-extended row of A) is a[row * lda + (k - a_lo)] when a_lo <= k < a_hi, and 0 otherwise,
 * so the same kernels read a user's device array in place (a_lo = 0, a_hi = N) or a staged
 * window of it (a_lo, a_hi = the clipped chunk input). lda = 0 repeats row 0. */
typedef struct dwconv_cuda_input {
  const void *a;
  size_t lda;
  long long a_lo, a_hi;
} dwconv_cuda_input;

/* One rectangle of work: rows x outs output samples written to c (row stride ldc). Output j of
 * a row is the correlation of the window of `p` samples starting at logical sample s0 + j with
 * that row's taps. kern points at the kernel data of the rectangle's first row (taps for the
 * direct path, spectrum for the FFT path) with row stride ldk elements; ldk = 0 repeats row 0. */
typedef struct dwconv_cuda_work {
  dwconv_cuda_input in;
  long long s0;
  void *c;
  size_t ldc;
  size_t rows, outs;
  const void *kern;
  size_t ldk;
  size_t p;
} dwconv_cuda_work;

/* cuda_util.c: the result of a kernel launch, given the last-error slot's content read with
 * cudaPeekAtLastError() just before the launch: cudaSuccess when the launch left the slot as
 * it was (a pending error of the caller is neither blamed on the launch nor cleared), else the
 * launch's error, taken out of the slot. Launch configurations are checked before launching,
 * so a launch failing with exactly the caller's pending code is not a case that arises; a
 * sticky error shows at the synchronisation that follows. */
cudaError_t dwconv__cuda_launched(cudaError_t before);

/* Direct path: c[r, j] = sum_{t < p} in(r, s0 + j + t) * taps[r, t], in float (f64 = 0) or
 * double (f64 = 1), summed in order of t with fused multiply-adds, so a value does not depend
 * on how the work is cut into rectangles. */
cudaError_t dwconv__cuda_launch_direct(const dwconv_cuda_work *w, int f64, cudaStream_t stream);

/* Kernel preparation, in place on rows x p elements at row stride ld: reverses each row when
 * flip is non-zero, and multiplies every element by scale. */
cudaError_t dwconv__cuda_launch_prepare_rows(void *x, size_t ld, size_t rows, size_t p, int flip,
                                             double scale, int f64, cudaStream_t stream);

/* Overlap-save geometry of one rectangle of the FFT path: blocks of `step` outputs, `nb`
 * blocks per row, transforms of length len stored at a stride of slot_ld real elements
 * (2 * (len / 2 + 1): cuFFT's in-place layout). Slot r * nb + b holds block b of row r. */
typedef struct dwconv_cuda_os {
  size_t len, step, nb, slot_ld;
} dwconv_cuda_os;

/* Fills slot r*nb+b of x with the len input samples starting at s0 + b*step, zeroing samples
 * past the (count_b + p - 1) that block b's outputs need so that a slot's content, and hence
 * its transform, depends only on (row, block) and never on the chunking. */
cudaError_t dwconv__cuda_launch_os_gather(const dwconv_cuda_work *w, const dwconv_cuda_os *os,
                                          void *x, int f64, cudaStream_t stream);

/* spec[slot, f] *= kern[row(slot), f] for f < len/2+1 complex bins of every used slot. */
cudaError_t dwconv__cuda_launch_os_multiply(const dwconv_cuda_work *w, const dwconv_cuda_os *os,
                                            void *x, int f64, cudaStream_t stream);

/* c[r, b*step + j] = x[slot, p - 1 + j] for j < count_b: the linear-convolution samples of
 * each block, written straight into the output rectangle. */
cudaError_t dwconv__cuda_launch_os_scatter(const dwconv_cuda_work *w, const dwconv_cuda_os *os,
                                           const void *x, int f64, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_CUDA_KERNELS_H */
