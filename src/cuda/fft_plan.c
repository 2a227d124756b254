/* cuFFT plans for the overlap-save path: a batched R2C and a batched C2R of length L over
 * s->shape.slots transforms in cuFFT's in-place layout (real rows padded to 2*(L/2+1)), made
 * with the 64-bit API so batch x length beyond 2^31 is fine, and with the workspace allocated
 * by the plan itself so it counts against the device-memory budget. */
#include "cuda_state.h"
#include "cuda_util.h"

/* Creates one plan; on failure the handle (if created) is left for dwconv__cuda_fft_destroy. */
static dwconv_status make_plan(cufftHandle *h, int *have, cufftType type, long long len,
                               long long batch, long long in_ld, long long out_ld, size_t *work,
                               const char *what) {
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUFFT_PLAN)) return dwconv__cufft_fail(CUFFT_ALLOC_FAILED, what);
  cufftResult r = cufftCreate(h);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, what);
  *have = 1;
  r = cufftSetAutoAllocation(*h, 0);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, what);
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUFFT_PLAN)) return dwconv__cufft_fail(CUFFT_ALLOC_FAILED, what);
  long long n[1] = {len}, inembed[1] = {in_ld}, onembed[1] = {out_ld};
  r = cufftMakePlanMany64(*h, 1, n, inembed, 1, in_ld, onembed, 1, out_ld, type, batch, work);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_plan_fail(r, what);
  return DWCONV_SUCCESS;
}

/* Makes both plans and records the workspace the larger needs. A transform cuFFT refuses
 * (length or batch beyond its limits) is NOT_SUPPORTED (dwconv__cufft_plan_fail), so
 * ALGO_AUTO takes the direct path instead. */
dwconv_status dwconv__cuda_fft_plan(dwconv_cuda_state *s) {
  const long long len = (long long)s->prob.geom.block_len;
  const long long bins = len / 2 + 1, real_ld = (long long)s->slot_ld;
  const long long batch = (long long)s->shape.slots;
  size_t w1 = 0, w2 = 0;
  dwconv_status st = make_plan(&s->r2c, &s->have_r2c, s->f64 ? CUFFT_D2Z : CUFFT_R2C, len, batch,
                               real_ld, bins, &w1, "cuFFT forward plan (cufftMakePlanMany64)");
  if (st == DWCONV_SUCCESS)
    st = make_plan(&s->c2r, &s->have_c2r, s->f64 ? CUFFT_Z2D : CUFFT_C2R, len, batch, bins,
                   real_ld, &w2, "cuFFT inverse plan (cufftMakePlanMany64)");
  /* A few bytes even when cuFFT asks for none, so no plan ever runs with a NULL work area;
   * recorded here so the budget check in create counts exactly what is allocated. */
  s->fft_work_bytes = w1 > w2 ? w1 : w2;
  if (s->fft_work_bytes < 256) s->fft_work_bytes = 256;
  return st;
}

/* Allocates the shared workspace (the plans never run concurrently: every use is ordered on
 * one stream or by the compute events) and hands it to both plans. The workspace is zeroed
 * once, on `stream` (the caller synchronises): cuFFT may read parts of it it has not written
 * (padding), which compute-sanitizer initcheck reports inside cuFFT's frames otherwise. */
dwconv_status dwconv__cuda_fft_set_workspace(dwconv_cuda_state *s, cudaStream_t stream) {
  cudaError_t e = dwconv__cuda_malloc(&s->fft_work, s->fft_work_bytes);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMalloc (cuFFT workspace)");
  s->device_bytes += s->fft_work_bytes;
  e = cudaMemsetAsync(s->fft_work, 0, s->fft_work_bytes, stream);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMemsetAsync (cuFFT workspace)");
  cufftResult r = cufftSetWorkArea(s->r2c, s->fft_work);
  if (r == CUFFT_SUCCESS) r = cufftSetWorkArea(s->c2r, s->fft_work);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, "cufftSetWorkArea");
  return DWCONV_SUCCESS;
}

/* Frees plans and workspace; safe on a partly made state. Returns the first failure (with
 * detail) so create's retry path and destroy can report it. */
dwconv_status dwconv__cuda_fft_destroy(dwconv_cuda_state *s) {
  dwconv_status st = DWCONV_SUCCESS;
  if (s->have_r2c) {
    cufftResult r = cufftDestroy(s->r2c);
    if (r != CUFFT_SUCCESS) st = dwconv__cufft_fail(r, "cufftDestroy (forward plan)");
    s->have_r2c = 0;
  }
  if (s->have_c2r) {
    cufftResult r = cufftDestroy(s->c2r);
    if (r != CUFFT_SUCCESS && st == DWCONV_SUCCESS)
      st = dwconv__cufft_fail(r, "cufftDestroy (inverse plan)");
    s->have_c2r = 0;
  }
  if (s->fft_work != NULL) {
    cudaError_t e = cudaFree(s->fft_work);
    if (e != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e, "cudaFree (cuFFT workspace)");
    s->fft_work = NULL;
    s->device_bytes -= s->fft_work_bytes;
  }
  s->fft_work_bytes = 0;
  return st;
}
