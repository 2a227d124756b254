/* One rectangle of work on device memory: the direct kernel, or the overlap-save pipeline
 * gather -> R2C -> multiply by the kernel spectrum -> C2R -> scatter. Everything is queued on
 * the given stream; nothing here synchronizes or copies to or from the host. */
#include "cuda_state.h"
#include "cuda_util.h"
#include "gemm.h"

static dwconv_status fft_forward_with(dwconv_cuda_state *s, cufftHandle h, cudaStream_t stream);

/* Forward transform of the whole FFT buffer in place (all s->shape.slots transforms). */
dwconv_status dwconv__cuda_fft_forward(dwconv_cuda_state *s, cudaStream_t stream) {
  return fft_forward_with(s, s->r2c, stream);
}

dwconv_status dwconv__cuda_fft_use_stream(dwconv_cuda_state *s, cudaStream_t stream) {
  cufftResult r = cufftSetStream(s->r2c, stream);
  if (r == CUFFT_SUCCESS) r = cufftSetStream(s->c2r, stream);
  if (r == CUFFT_SUCCESS && s->have_r2c_host) r = cufftSetStream(s->r2c_host, stream);
  if (r == CUFFT_SUCCESS && s->have_c2r_host) r = cufftSetStream(s->c2r_host, stream);
  return r == CUFFT_SUCCESS ? DWCONV_SUCCESS : dwconv__cufft_fail(r, "cufftSetStream");
}

/* Forward transform in place of as many slots of the FFT buffer as plan h's batch holds. */
static dwconv_status fft_forward_with(dwconv_cuda_state *s, cufftHandle h, cudaStream_t stream) {
  cufftResult r = cufftSetStream(h, stream);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, "cufftSetStream (forward)");
  if (s->f64)
    r = cufftExecD2Z(h, (cufftDoubleReal *)s->fft_buf, (cufftDoubleComplex *)s->fft_buf);
  else
    r = cufftExecR2C(h, (cufftReal *)s->fft_buf, (cufftComplex *)s->fft_buf);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, s->f64 ? "cufftExecD2Z" : "cufftExecR2C");
  return DWCONV_SUCCESS;
}

/* Inverse transform in place of as many slots of the FFT buffer as plan h's batch holds. */
static dwconv_status fft_inverse(dwconv_cuda_state *s, cufftHandle h, cudaStream_t stream) {
  cufftResult r = cufftSetStream(h, stream);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, "cufftSetStream (inverse)");
  if (s->f64)
    r = cufftExecZ2D(h, (cufftDoubleComplex *)s->fft_buf, (cufftDoubleReal *)s->fft_buf);
  else
    r = cufftExecC2R(h, (cufftComplex *)s->fft_buf, (cufftReal *)s->fft_buf);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, s->f64 ? "cufftExecZ2D" : "cufftExecC2R");
  return DWCONV_SUCCESS;
}

static dwconv_status launched(cudaError_t e, const char *what) {
  return e == cudaSuccess ? DWCONV_SUCCESS : dwconv__cuda_fail(e, what);
}

/* Queues rectangle w on stream. The FFT path always transforms the full batch of the running
 * shape's plans (s->run: in place, or host chunks), so every transform of a shape runs
 * through the same plan; a last chunk smaller than the others (chunks are as equal as whole
 * rows and blocks allow) leaves stale slots that are computed and ignored. Returns
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
  const dwconv_cuda_shape *run = s->run != NULL ? s->run : &s->shape;
  const int own = run != &s->shape && s->have_r2c_host; /* the host shape's own batch */
  size_t used;
  if (!dwconv__mul_ok(w->rows, os.nb, &used) || used > run->slots)
    return dwconv__error(DWCONV_ERROR_INTERNAL, "FFT rectangle of %zu x %zu blocks exceeds the %zu-slot batch",
                         w->rows, os.nb, run->slots);
  dwconv_status st =
      launched(dwconv__cuda_launch_os_gather(w, &os, s->fft_buf, s->f64, stream), "overlap-save gather launch");
  if (st == DWCONV_SUCCESS) st = fft_forward_with(s, own ? s->r2c_host : s->r2c, stream);
  if (st == DWCONV_SUCCESS)
    st = launched(dwconv__cuda_launch_os_multiply(w, &os, s->fft_buf, s->f64, stream),
                  "spectrum multiply launch");
  if (st == DWCONV_SUCCESS) st = fft_inverse(s, own ? s->c2r_host : s->c2r, stream);
  if (st == DWCONV_SUCCESS)
    st = launched(dwconv__cuda_launch_os_scatter(w, &os, s->fft_buf, s->f64, stream),
                  "overlap-save scatter launch");
  return st;
}
