/* cuFFT plans for the overlap-save path: a batched R2C and a batched C2R of length L over
 * s->shape.slots transforms (and s->host.slots, when host chunks are smaller) in cuFFT's
 * in-place layout (real rows padded to 2*(L/2+1)), made with the 64-bit API so batch x length beyond 2^31 is fine, and with the workspace allocated
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

/* Makes the R2C and C2R pair for `batch` transforms into r2c / c2r and returns the larger
 * workspace they need in *work. */
static dwconv_status make_pair(dwconv_cuda_state *s, long long batch, cufftHandle *r2c, int *have_r2c,
                               cufftHandle *c2r, int *have_c2r, size_t *work) {
  const long long len = (long long)s->prob.geom.block_len;
  const long long bins = len / 2 + 1, real_ld = (long long)s->slot_ld;
  size_t w1 = 0, w2 = 0;
  dwconv_status st = make_plan(r2c, have_r2c, s->f64 ? CUFFT_D2Z : CUFFT_R2C, len, batch, real_ld,
                               bins, &w1, "cuFFT forward plan (cufftMakePlanMany64)");
  if (st == DWCONV_SUCCESS)
    st = make_plan(c2r, have_c2r, s->f64 ? CUFFT_Z2D : CUFFT_C2R, len, batch, bins, real_ld, &w2,
                   "cuFFT inverse plan (cufftMakePlanMany64)");
  *work = w1 > w2 ? w1 : w2;
  return st;
}

/* Makes the plans and records the workspace the largest needs. The host shape gets its own
 * pair when its batch differs: a host chunk run through the in-place batch would transform
 * every slot of the larger batch for a fraction of them. A transform cuFFT refuses (length
 * or batch beyond its limits) is NOT_SUPPORTED (dwconv__cufft_plan_fail), so ALGO_AUTO takes
 * the direct path instead. */
dwconv_status dwconv__cuda_fft_plan(dwconv_cuda_state *s) {
  size_t w1 = 0, w2 = 0;
  dwconv_status st = make_pair(s, (long long)s->shape.slots, &s->r2c, &s->have_r2c, &s->c2r,
                               &s->have_c2r, &w1);
  if (st == DWCONV_SUCCESS && s->host.slots != s->shape.slots)
    st = make_pair(s, (long long)s->host.slots, &s->r2c_host, &s->have_r2c_host, &s->c2r_host,
                   &s->have_c2r_host, &w2);
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
  cudaError_t e = dwconv__cuda_dev_alloc(&s->fft_work, s->fft_work_bytes, s->pooled, stream);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMalloc (cuFFT workspace)");
  s->device_bytes += s->fft_work_bytes;
  e = cudaMemsetAsync(s->fft_work, 0, s->fft_work_bytes, stream);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMemsetAsync (cuFFT workspace)");
  cufftResult r = cufftSetWorkArea(s->r2c, s->fft_work);
  if (r == CUFFT_SUCCESS) r = cufftSetWorkArea(s->c2r, s->fft_work);
  if (r == CUFFT_SUCCESS && s->have_r2c_host) r = cufftSetWorkArea(s->r2c_host, s->fft_work);
  if (r == CUFFT_SUCCESS && s->have_c2r_host) r = cufftSetWorkArea(s->c2r_host, s->fft_work);
  if (r != CUFFT_SUCCESS) return dwconv__cufft_fail(r, "cufftSetWorkArea");
  return DWCONV_SUCCESS;
}

/* Frees plans and workspace; safe on a partly made state. Returns the first failure (with
 * detail) so create's retry path and destroy can report it. */
/* Destroys one plan if made; keeps the first failure in *st. */
static void destroy_plan(cufftHandle h, int *have, dwconv_status *st, const char *what) {
  if (!*have) return;
  cufftResult r = cufftDestroy(h);
  if (r != CUFFT_SUCCESS && *st == DWCONV_SUCCESS) *st = dwconv__cufft_fail(r, what);
  *have = 0;
}

dwconv_status dwconv__cuda_fft_destroy(dwconv_cuda_state *s) {
  dwconv_status st = DWCONV_SUCCESS;
  destroy_plan(s->r2c, &s->have_r2c, &st, "cufftDestroy (forward plan)");
  destroy_plan(s->c2r, &s->have_c2r, &st, "cufftDestroy (inverse plan)");
  destroy_plan(s->r2c_host, &s->have_r2c_host, &st, "cufftDestroy (forward plan, host chunks)");
  destroy_plan(s->c2r_host, &s->have_c2r_host, &st, "cufftDestroy (inverse plan, host chunks)");
  if (s->fft_work != NULL) {
    cudaError_t e = dwconv__cuda_dev_free(s->fft_work, s->pooled, s->streams[0]);
    if (e != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e, "freeing the cuFFT workspace");
    s->fft_work = NULL;
    s->device_bytes -= s->fft_work_bytes;
  }
  s->fft_work_bytes = 0;
  return st;
}
