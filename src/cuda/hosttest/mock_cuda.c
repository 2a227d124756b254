/* Host-memory stand-in for the CUDA runtime and cuFFT calls src/cuda uses, so the backend's
 * host logic (sizing, chunking, staging, pointer placement, kernel preparation, FFT
 * orchestration, error paths) runs under ASan/UBSan on a machine without a GPU.
 * "Device" memory is malloc'd, filled with NaN bytes and registered, so
 * cudaPointerGetAttributes can classify it and reads of unwritten data show up. Streams and
 * events are no-ops (everything runs in call order), so this does not test asynchrony.
 * cuFFT transforms are naive DFTs in double precision that honour the plan's batch layout. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cuda_runtime_api.h>
#include <cufft.h>

#define MAXA 100000
static struct { char *p; size_t n; int host; } reg[MAXA];
static int nreg;
size_t mock_live_dev, mock_live_host, mock_dev_bytes;
int mock_fail_pinned;

static void reg_add(void *p, size_t n, int host) { reg[nreg].p = p; reg[nreg].n = n; reg[nreg].host = host; nreg++; }
static int reg_find(const void *p) {
  for (int i = 0; i < nreg; i++)
    if ((const char *)p >= reg[i].p && (const char *)p < reg[i].p + (reg[i].n ? reg[i].n : 1)) return i;
  return -1;
}
cudaError_t cudaMalloc(void **p, size_t n) {
  *p = malloc(n ? n : 1);
  if (!*p) return cudaErrorMemoryAllocation;
  memset(*p, 0xFF, n); /* NaN pattern: uninitialised reads show up as NaN */
  reg_add(*p, n, 0);
  mock_live_dev++;
  mock_dev_bytes += n;
  return cudaSuccess;
}
cudaError_t cudaFree(void *p) {
  if (!p) return cudaSuccess;
  int i = reg_find(p);
  if (i < 0 || reg[i].p != p || reg[i].host) { fprintf(stderr, "mock: cudaFree of unknown %p\n", p); abort(); }
  mock_dev_bytes -= reg[i].n;
  reg[i] = reg[--nreg];
  free(p);
  mock_live_dev--;
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void **p, size_t n) {
  if (mock_fail_pinned) { *p = NULL; return cudaErrorMemoryAllocation; }
  *p = malloc(n ? n : 1);
  memset(*p, 0xFF, n);
  reg_add(*p, n, 1);
  mock_live_host++;
  return cudaSuccess;
}
cudaError_t cudaFreeHost(void *p) {
  int i = reg_find(p);
  if (i < 0 || reg[i].p != p || !reg[i].host) { fprintf(stderr, "mock: cudaFreeHost of unknown %p\n", p); abort(); }
  reg[i] = reg[--nreg];
  free(p); mock_live_host--; return cudaSuccess; }
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p) {
  memset(a, 0, sizeof *a);
  int i = reg_find(p);
  if (i >= 0 && reg[i].host) { a->type = cudaMemoryTypeHost; a->device = 0; a->hostPointer = (void *)p; }
  else if (i >= 0) { a->type = cudaMemoryTypeDevice; a->device = 0; a->devicePointer = (void *)p; }
  else a->type = cudaMemoryTypeUnregistered;
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, enum cudaMemcpyKind k, cudaStream_t st) {
  memcpy(d, s, n); return cudaSuccess;
}
size_t mock_max_pitch = 2147483647;
cudaError_t cudaMemcpy2DAsync(void *d, size_t dp, const void *s, size_t sp, size_t w, size_t h,
                              enum cudaMemcpyKind k, cudaStream_t st) {
  if (dp > mock_max_pitch || sp > mock_max_pitch || w > dp || w > sp) return cudaErrorInvalidPitchValue;
  for (size_t r = 0; r < h; r++) memcpy((char *)d + r * dp, (const char *)s + r * sp, w);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st) { memset(d, v, n); return cudaSuccess; }
cudaError_t cudaGetDevice(int *d) { *d = 0; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
size_t mock_free_mem = (size_t)1 << 30; /* cudaMemGetInfo: the default budget is half */
cudaError_t cudaMemGetInfo(size_t *f, size_t *t) { *f = mock_free_mem; *t = mock_free_mem * 2; return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int dev) {
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "mock device %d", dev);
  p->major = 9;
  p->multiProcessorCount = 132;
  p->totalGlobalMem = mock_free_mem * 2;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int dev) {
  *v = a == cudaDevAttrMaxPitch ? (int)mock_max_pitch : 0; return cudaSuccess;
}
static int dummy[64];
static int nstreams;
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned f) { *s = (cudaStream_t)&dummy[nstreams++ % 32]; return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t s) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned f) { return cudaSuccess; }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned f) { *e = (cudaEvent_t)&dummy[32 + (nstreams++ % 32)]; return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) { return cudaSuccess; }
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
const char *cudaGetErrorName(cudaError_t e) { return "mockError"; }
const char *cudaGetErrorString(cudaError_t e) { return "mock error"; }

/* ---- cuFFT: naive DFTs in double ---- */
typedef struct { long long n, idist, odist, batch; cufftType type; int made; void *work; } mplan;
static mplan plans[1024];
static int nplans;
cufftResult cufftCreate(cufftHandle *h) { *h = nplans++ % 1024; memset(&plans[*h], 0, sizeof(mplan)); return CUFFT_SUCCESS; }
cufftResult cufftSetAutoAllocation(cufftHandle h, int a) { return CUFFT_SUCCESS; }
cufftResult cufftMakePlanMany64(cufftHandle h, int rank, long long *n, long long *ie, long long is,
                                long long id, long long *oe, long long os, long long od,
                                cufftType t, long long batch, size_t *ws) {
  if (rank != 1 || is != 1 || os != 1) return CUFFT_INVALID_VALUE;
  mplan *p = &plans[h];
  p->n = n[0]; p->idist = id; p->odist = od; p->batch = batch; p->type = t; p->made = 1;
  *ws = 1000 + (size_t)batch * 8;
  return CUFFT_SUCCESS;
}
cufftResult cufftSetWorkArea(cufftHandle h, void *w) { plans[h].work = w; return CUFFT_SUCCESS; }
cufftResult cufftSetStream(cufftHandle h, cudaStream_t s) { return CUFFT_SUCCESS; }
cufftResult cufftDestroy(cufftHandle h) { plans[h].made = 0; return CUFFT_SUCCESS; }

static void r2c(mplan *p, const void *in, void *out, int dbl) {
  long long n = p->n, bins = n / 2 + 1;
  double *x = malloc(sizeof(double) * n);
  double complex *X = malloc(sizeof(double complex) * bins);
  if (!p->work) abort();
  for (long long b = 0; b < p->batch; b++) {
    for (long long j = 0; j < n; j++) {
      double v = dbl ? ((const double *)in)[b * p->idist + j] : ((const float *)in)[b * p->idist + j];
      if (isnan(v)) { fprintf(stderr, "mock: R2C reads NaN (uninitialised?) batch %lld j %lld\n", b, j); }
      x[j] = v;
    }
    for (long long k = 0; k < bins; k++) {
      double complex s = 0;
      for (long long j = 0; j < n; j++) s += x[j] * cexp(-2 * M_PI * I * (double)((j * k) % n) / n);
      X[k] = s;
    }
    for (long long k = 0; k < bins; k++) {
      if (dbl) { ((double *)out)[2 * (b * p->odist + k)] = creal(X[k]); ((double *)out)[2 * (b * p->odist + k) + 1] = cimag(X[k]); }
      else { ((float *)out)[2 * (b * p->odist + k)] = (float)creal(X[k]); ((float *)out)[2 * (b * p->odist + k) + 1] = (float)cimag(X[k]); }
    }
  }
  free(x); free(X);
}
static void c2r(mplan *p, const void *in, void *out, int dbl) {
  long long n = p->n, bins = n / 2 + 1;
  double complex *X = malloc(sizeof(double complex) * bins);
  double *x = malloc(sizeof(double) * n);
  for (long long b = 0; b < p->batch; b++) {
    for (long long k = 0; k < bins; k++) {
      double re = dbl ? ((const double *)in)[2 * (b * p->idist + k)] : ((const float *)in)[2 * (b * p->idist + k)];
      double im = dbl ? ((const double *)in)[2 * (b * p->idist + k) + 1] : ((const float *)in)[2 * (b * p->idist + k) + 1];
      X[k] = re + I * im;
    }
    for (long long j = 0; j < n; j++) {
      double s = creal(X[0]);
      long long kmax = (n % 2 == 0) ? n / 2 : bins;
      for (long long k = 1; k < kmax; k++) s += 2 * creal(X[k] * cexp(2 * M_PI * I * (double)((j * k) % n) / n));
      if (n % 2 == 0) s += creal(X[n / 2]) * ((j % 2) ? -1 : 1);
      x[j] = s;
    }
    for (long long j = 0; j < n; j++) {
      if (dbl) ((double *)out)[b * p->odist + j] = x[j]; else ((float *)out)[b * p->odist + j] = (float)x[j];
    }
  }
  free(x); free(X);
}
cufftResult cufftExecR2C(cufftHandle h, cufftReal *i, cufftComplex *o) { if (plans[h].type != CUFFT_R2C) return CUFFT_INVALID_TYPE; r2c(&plans[h], i, o, 0); return CUFFT_SUCCESS; }
cufftResult cufftExecD2Z(cufftHandle h, cufftDoubleReal *i, cufftDoubleComplex *o) { if (plans[h].type != CUFFT_D2Z) return CUFFT_INVALID_TYPE; r2c(&plans[h], i, o, 1); return CUFFT_SUCCESS; }
cufftResult cufftExecC2R(cufftHandle h, cufftComplex *i, cufftReal *o) { if (plans[h].type != CUFFT_C2R) return CUFFT_INVALID_TYPE; c2r(&plans[h], i, o, 0); return CUFFT_SUCCESS; }
cufftResult cufftExecZ2D(cufftHandle h, cufftDoubleComplex *i, cufftDoubleReal *o) { if (plans[h].type != CUFFT_Z2D) return CUFFT_INVALID_TYPE; c2r(&plans[h], i, o, 1); return CUFFT_SUCCESS; }
