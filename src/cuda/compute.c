/* One rectangle of work on device memory: the direct kernel, or the overlap-save pipeline
 * gather -> R2C -> multiply by the kernel spectrum -> C2R -> scatter. Everything is queued on
 * the given stream; nothing here synchronizes or copies to or from the host. */
#include "cuda_state.h"
#include "cuda_util.h"
#include "gemm.h"

/* Forward transform of the whole FFT buffer in place (all s->shape.slots transforms). */
dwconv_status dwconv__cuda_fft_forward(dwconv_cuda_state *s, cudaStream_t stream) {
  cufftResult r = cufftSetStream(s->r2c, stream);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, "cufftSetStream (forward)");
  if (s->f64)
    r = cufftExecD2Z(s->r2c, (cufftDoubleReal *)s->fft_buf, (cufftDoubleComplex *)s->fft_buf);
  else
    r = cufftExecR2C(s->r2c, (cufftReal *)s->fft_buf, (cufftComplex *)s->fft_buf);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, s->f64 ? "cufftExecD2Z" : "cufftExecR2C");
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cuda_fft_use_stream(dwconv_cuda_state *s, cudaStream_t stream) {
  cufftResult r = cufftSetStream(s->r2c, stream);
  if (r == CUFFT_SUCCESS) r = cufftSetStream(s->c2r, stream);
  return r == CUFFT_SUCCESS ? DWCONV_SUCCESS : dwconv__cufft_fail(r, "cufftSetStream");
}

/* Inverse transform of the whole FFT buffer in place. */
static dwconv_status fft_inverse(dwconv_cuda_state *s, cudaStream_t stream) {
  cufftResult r = cufftSetStream(s->c2r, stream);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, "cufftSetStream (inverse)");
  if (s->f64)
    r = cufftExecZ2D(s->c2r, (cufftDoubleComplex *)s->fft_buf, (cufftDoubleReal *)s->fft_buf);
  else
    r = cufftExecC2R(s->c2r, (cufftComplex *)s->fft_buf, (cufftReal *)s->fft_buf);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, s->f64 ? "cufftExecZ2D" : "cufftExecC2R");
  return DWCONV_SUCCESS;
}

static dwconv_status launched(cudaError_t e, const char *what) {
  return e == cudaSuccess ? DWCONV_SUCCESS : dwconv__cuda_fail(e, what);
}

/* Queues rectangle w on stream. The FFT path always transforms the full batch the plans were
 * made for: a smaller last chunk leaves stale slots that are computed and ignored, which costs
 * at most one chunk's work and means every transform runs through the same plan. Returns
 * DEVICE (launch or cuFFT failure) or INTERNAL if the rectangle exceeds the batch. */
dwconv_status dwconv__cuda_compute(dwconv_cuda_state *s, const dwconv_cuda_work *w,
                                   cudaStream_t stream) {
  if (s->prob.desc.algo == DWCONV_ALGO_DIRECT)
    return launched(dwconv__cuda_launch_direct(w, s->f64, stream), "direct kernel launch");
  if (s->prob.desc.algo == DWCONV_ALGO_GEMM) return dwconv__cuda_gemm_compute(s, w, stream);

  const dwconv_geometry *g = &s->prob.geom;
  dwconv_cuda_os os;
  os.len = g->block_len;
  os.step = g->block_step;
  os.nb = (w->outs + g->block_step - 1) / g->block_step;
  os.slot_ld = s->slot_ld;
  size_t used;
  if (!dwconv__mul_ok(w->rows, os.nb, &used) || used > s->shape.slots)
    return dwconv__error(DWCONV_ERROR_INTERNAL, "FFT rectangle of %zu x %zu blocks exceeds the %zu-slot batch",
                         w->rows, os.nb, s->shape.slots);
  dwconv_status st =
      launched(dwconv__cuda_launch_os_gather(w, &os, s->fft_buf, s->f64, stream), "overlap-save gather launch");
  if (st == DWCONV_SUCCESS) st = dwconv__cuda_fft_forward(s, stream);
  if (st == DWCONV_SUCCESS)
    st = launched(dwconv__cuda_launch_os_multiply(w, &os, s->fft_buf, s->f64, stream),
                  "spectrum multiply launch");
  if (st == DWCONV_SUCCESS) st = fft_inverse(s, stream);
  if (st == DWCONV_SUCCESS)
    st = launched(dwconv__cuda_launch_os_scatter(w, &os, s->fft_buf, s->f64, stream),
                  "overlap-save scatter launch");
  return st;
}
