/* See bench_device.h. */
#include "bench_device.h"

#include <stdio.h>
#include <string.h>

#ifdef BENCH_HAVE_CUDA
#include <cuda_runtime_api.h>

static int cuda_err(cudaError_t e, const char *what, char *err, size_t errlen) {
  snprintf(err, errlen, "%s: %s", what, cudaGetErrorString(e));
  return -1;
}

int bench_dev_available(void) { return 1; }

int bench_dev_setup(bench_dev *d, const void *A, size_t a_bytes, const void *B, size_t b_bytes,
                    size_t c_bytes, char *err, size_t errlen) {
  memset(d, 0, sizeof *d);
  cudaStream_t s = NULL;
  cudaEvent_t e0 = NULL, e1 = NULL;
  const char *what; /* the step that failed, for the message */
  cudaError_t e;
  if ((e = cudaMalloc(&d->A, a_bytes)) != cudaSuccess) { what = "cudaMalloc (A on the device)"; goto fail; }
  if ((e = cudaMalloc(&d->B, b_bytes)) != cudaSuccess) { what = "cudaMalloc (B on the device)"; goto fail; }
  if ((e = cudaMalloc(&d->C, c_bytes)) != cudaSuccess) { what = "cudaMalloc (C on the device)"; goto fail; }
  what = "copying A/B to the device";
  if ((e = cudaMemcpy(d->A, A, a_bytes, cudaMemcpyHostToDevice)) != cudaSuccess ||
      (e = cudaMemcpy(d->B, B, b_bytes, cudaMemcpyHostToDevice)) != cudaSuccess ||
      (e = cudaMemset(d->C, 0, c_bytes)) != cudaSuccess ||
      /* cudaMemset may still be running on the legacy stream, which the non-blocking stream
       * below does not wait for. */
      (e = cudaDeviceSynchronize()) != cudaSuccess)
    goto fail;
  if ((e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)) != cudaSuccess) { what = "cudaStreamCreate"; goto fail; }
  d->stream = s;
  what = "cudaEventCreate";
  if ((e = cudaEventCreate(&e0)) != cudaSuccess) goto fail;
  d->ev_start = e0;
  if ((e = cudaEventCreate(&e1)) != cudaSuccess) goto fail;
  d->ev_stop = e1;
  return 0;
fail:
  bench_dev_free(d); /* frees whatever was made: members are NULL until assigned */
  return cuda_err(e, what, err, errlen);
}

int bench_dev_start(bench_dev *d, char *err, size_t errlen) {
  cudaError_t e = cudaEventRecord((cudaEvent_t)d->ev_start, (cudaStream_t)d->stream);
  return e == cudaSuccess ? 0 : cuda_err(e, "cudaEventRecord", err, errlen);
}

int bench_dev_stop(bench_dev *d, double *ms, char *err, size_t errlen) {
  cudaError_t e = cudaEventRecord((cudaEvent_t)d->ev_stop, (cudaStream_t)d->stream);
  if (e == cudaSuccess) e = cudaEventSynchronize((cudaEvent_t)d->ev_stop);
  float t = 0;
  if (e == cudaSuccess) e = cudaEventElapsedTime(&t, (cudaEvent_t)d->ev_start, (cudaEvent_t)d->ev_stop);
  if (e != cudaSuccess) return cuda_err(e, "timing with CUDA events", err, errlen);
  *ms = t;
  return 0;
}

int bench_dev_fetch(bench_dev *d, void *C, size_t c_bytes, char *err, size_t errlen) {
  cudaError_t e = cudaMemcpy(C, d->C, c_bytes, cudaMemcpyDeviceToHost);
  return e == cudaSuccess ? 0 : cuda_err(e, "copying C from the device", err, errlen);
}

void bench_dev_free(bench_dev *d) {
  if (d->ev_start) cudaEventDestroy((cudaEvent_t)d->ev_start);
  if (d->ev_stop) cudaEventDestroy((cudaEvent_t)d->ev_stop);
  if (d->stream) cudaStreamDestroy((cudaStream_t)d->stream);
  if (d->A) cudaFree(d->A);
  if (d->B) cudaFree(d->B);
  if (d->C) cudaFree(d->C);
  memset(d, 0, sizeof *d);
}

#else /* no CUDA runtime in this build */

static int no_cuda(char *err, size_t errlen) {
  snprintf(err, errlen, "--device-data needs a bench_dwconv built with CUDA (DWCONV_WITH_CUDA=ON)");
  return -1;
}
int bench_dev_available(void) { return 0; }
int bench_dev_setup(bench_dev *d, const void *A, size_t a_bytes, const void *B, size_t b_bytes,
                    size_t c_bytes, char *err, size_t errlen) {
  (void)A; (void)a_bytes; (void)B; (void)b_bytes; (void)c_bytes;
  memset(d, 0, sizeof *d);
  return no_cuda(err, errlen);
}
int bench_dev_start(bench_dev *d, char *err, size_t errlen) { (void)d; return no_cuda(err, errlen); }
int bench_dev_stop(bench_dev *d, double *ms, char *err, size_t errlen) {
  (void)d; (void)ms;
  return no_cuda(err, errlen);
}
int bench_dev_fetch(bench_dev *d, void *C, size_t c_bytes, char *err, size_t errlen) {
  (void)d; (void)C; (void)c_bytes;
  return no_cuda(err, errlen);
}
void bench_dev_free(bench_dev *d) { (void)d; }

#endif
