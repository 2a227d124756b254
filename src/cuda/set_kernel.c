/* set_kernel for CUDA plans: B is uploaded once (from host or device memory) and turned into
 * the kernel representation on the device, so no per-row host work is done:
 *   DIRECT: correlation taps, rows x P (B reversed for CONVOLVE, as is for CORRELATE).
 *   FFT:    spectrum of b' (B for CONVOLVE, reversed for CORRELATE) zero-padded to L, scaled
 *           by 1/L so the inverse transform needs no separate pass; rows x (L/2+1) complex,
 *           transformed in batches through the plan's own forward transform.
 * With ldb = 0 only one row is kept and every row uses it (kern_ld = 0). The call is
 * synchronous: B may be changed or freed as soon as it returns. */
#include "cuda_state.h"
#include "cuda_util.h"

static dwconv_status taps_direct(dwconv_cuda_state *s, const void *B, size_t ldb, size_t krows,
                                 cudaStream_t stream) {
  const size_t p = s->prob.geom.p, es = s->es;
  dwconv_status st = dwconv__cuda_copy_rows(s, s->kern, p * es, B, ldb * es, p * es, krows, stream,
                                            "uploading the kernel B");
  if (st != DWCONV_SUCCESS) return st;
  cudaError_t e = dwconv__cuda_launch_prepare_rows(s->kern, p, krows, p,
                                                   s->prob.desc.op == DWCONV_OP_CONVOLVE, 1.0,
                                                   s->f64, stream);
  return e == cudaSuccess ? DWCONV_SUCCESS : dwconv__cuda_fail(e, "kernel flip launch");
}

static dwconv_status spectrum_fft(dwconv_cuda_state *s, const void *B, size_t ldb, size_t krows,
                                  cudaStream_t stream) {
  const dwconv_geometry *g = &s->prob.geom;
  const size_t es = s->es, slot_bytes = s->slot_ld * es;
  const double scale = 1.0 / (double)g->block_len;
  for (size_t r0 = 0; r0 < krows; r0 += s->shape.slots) {
    const size_t n = krows - r0 < s->shape.slots ? krows - r0 : s->shape.slots;
    /* Zeroing the whole buffer gives the zero padding past P and defined (zero) data in the
     * slots a short last batch does not use. */
    cudaError_t e = cudaMemsetAsync(s->fft_buf, 0, s->shape.slots * slot_bytes, stream);
    if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMemsetAsync (kernel padding)");
    dwconv_status st =
        dwconv__cuda_copy_rows(s, s->fft_buf, slot_bytes, (const char *)B + r0 * ldb * es,
                               ldb * es, g->p * es, n, stream, "uploading the kernel B");
    if (st != DWCONV_SUCCESS) return st;
    e = dwconv__cuda_launch_prepare_rows(s->fft_buf, s->slot_ld, n, g->p,
                                         s->prob.desc.op == DWCONV_OP_CORRELATE, scale, s->f64,
                                         stream);
    if (e != cudaSuccess) return dwconv__cuda_fail(e, "kernel flip/scale launch");
    st = dwconv__cuda_fft_forward(s, stream);
    if (st != DWCONV_SUCCESS) return st;
    /* In-place layout: a slot's L/2+1 complex bins occupy exactly its slot_ld reals, so the
     * batch's spectra are one contiguous block. */
    e = cudaMemcpyAsync((char *)s->kern + r0 * slot_bytes, s->fft_buf, n * slot_bytes,
                        cudaMemcpyDeviceToDevice, stream);
    if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMemcpyAsync (kernel spectrum)");
  }
  return DWCONV_SUCCESS;
}

/* The backend's set_kernel: see the file comment. Returns DEVICE (or OUT_OF_MEMORY) with the
 * CUDA/cuFFT detail on failure, after which the kernel buffer holds no usable kernel (a
 * failure part-way has overwritten the previous one) until a later call succeeds. */
dwconv_status dwconv__cuda_set_kernel(void *state, const void *B, ptrdiff_t ldb) {
  dwconv_cuda_state *s = (dwconv_cuda_state *)state;
  int prev;
  dwconv_status st = dwconv__cuda_enter(s->device, &prev);
  if (st != DWCONV_SUCCESS) return st;
  const size_t krows = ldb == 0 ? 1 : s->prob.geom.rows;
  cudaStream_t stream = s->streams[0];
  cudaError_t e = cudaSuccess;
  /* Work queued earlier on the caller's stream may still read the current kernel. */
  if (s->user_stream != NULL) e = cudaStreamSynchronize(s->user_stream);
  if (e != cudaSuccess) {
    st = dwconv__cuda_fail(e, "cudaStreamSynchronize (the plan's user stream)");
  } else {
    st = s->prob.desc.algo == DWCONV_ALGO_FFT ? spectrum_fft(s, B, (size_t)ldb, krows, stream)
                                              : taps_direct(s, B, (size_t)ldb, krows, stream);
    /* Wait even after a failure: nothing queued may outlive the call that reads B. */
    e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess && st == DWCONV_SUCCESS)
      st = dwconv__cuda_fail(e, "preparing the kernel on the device");
  }
  if (st == DWCONV_SUCCESS) {
    const size_t row = s->prob.desc.algo == DWCONV_ALGO_FFT ? s->prob.geom.block_len / 2 + 1
                                                            : s->prob.geom.p;
    s->kern_ld = ldb == 0 ? 0 : row;
  }
  return dwconv__cuda_leave(prev, s->device, st);
}
