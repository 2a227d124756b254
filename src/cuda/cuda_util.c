/* Error mapping, fault-injected resource acquisition and device switching; see cuda_util.h. */
#include "cuda_util.h"

#include <pthread.h>
#include <stdatomic.h>

void dwconv__cuda_clear_own(cudaError_t err) {
  if (err != cudaSuccess && cudaPeekAtLastError() == err) (void)cudaGetLastError();
}

dwconv_status dwconv__cuda_fail(cudaError_t err, const char *what) {
  const char *name = cudaGetErrorName(err), *text = cudaGetErrorString(err);
  dwconv__cuda_clear_own(err);
  dwconv_status st = err == cudaErrorMemoryAllocation ? DWCONV_ERROR_OUT_OF_MEMORY
                                                      : DWCONV_ERROR_DEVICE;
  return dwconv__error(st, "%s: %s: %s", what, name ? name : "cudaError", text ? text : "");
}

const char *dwconv__cufft_string(cufftResult res) {
  switch (res) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "CUFFT_UNKNOWN_ERROR";
  }
}

dwconv_status dwconv__cufft_fail(cufftResult res, const char *what) {
  dwconv_status st = res == CUFFT_ALLOC_FAILED ? DWCONV_ERROR_OUT_OF_MEMORY : DWCONV_ERROR_DEVICE;
  return dwconv__error(st, "%s: cuFFT error %d (%s)", what, (int)res, dwconv__cufft_string(res));
}

dwconv_status dwconv__cufft_plan_fail(cufftResult res, const char *what) {
  switch (res) {
    case CUFFT_INVALID_SIZE:
    case CUFFT_INTERNAL_ERROR:
    case CUFFT_INVALID_VALUE:
    case CUFFT_NOT_SUPPORTED:
    case CUFFT_NOT_IMPLEMENTED:
      return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "%s: cuFFT refuses this transform: error %d (%s)",
                           what, (int)res, dwconv__cufft_string(res));
    default:
      return dwconv__cufft_fail(res, what);
  }
}

cudaError_t dwconv__cuda_launched(cudaError_t before) {
  cudaError_t after = cudaPeekAtLastError();
  if (after == before) return cudaSuccess;
  (void)cudaGetLastError();
  return after;
}

/* Fault injection is global like the host one (tests drive it single-threaded); atomics keep
 * it race-free when plans are created from several threads. */
static atomic_size_t acquire_count;
static atomic_size_t fail_at; /* 0: never */

size_t dwconv__cuda_fault_inject(size_t n) {
  size_t made = atomic_exchange(&acquire_count, 0);
  atomic_store(&fail_at, n);
  return made;
}

int dwconv__cuda_fault_due(dwconv_fault_site site) {
  size_t k = atomic_fetch_add(&acquire_count, 1) + 1;
  size_t f = atomic_load(&fail_at);
  int per_site = dwconv__fault_hit(site); /* the library-wide per-site counters (alloc.c) */
  return per_site || (f != 0 && k == f);
}

cudaError_t dwconv__cuda_dev_alloc(void **p, size_t bytes, int pooled, cudaStream_t stream) {
  *p = NULL;
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUDA_MALLOC)) return cudaErrorMemoryAllocation;
  return pooled ? cudaMallocAsync(p, bytes, stream) : cudaMalloc(p, bytes);
}

cudaError_t dwconv__cuda_dev_free(void *p, int pooled, cudaStream_t stream) {
  if (p == NULL) return cudaSuccess;
  return pooled ? cudaFreeAsync(p, stream) : cudaFree(p);
}

int dwconv__cuda_pools_supported(int device) {
  int v = 0;
  cudaError_t e = cudaDeviceGetAttribute(&v, cudaDevAttrMemoryPoolsSupported, device);
  if (e != cudaSuccess) {
    dwconv__cuda_clear_own(e); /* an old driver without the attribute: plain cudaMalloc */
    return 0;
  }
  return v != 0;
}

/* The pinned cache: two rings of the default staging size. */
#define DWCONV_CUDA_PINNED_CACHE 6
static pthread_mutex_t pinned_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { void *p; size_t bytes; } pinned_cache[DWCONV_CUDA_PINNED_CACHE];
static int pinned_cached;

cudaError_t dwconv__cuda_pinned_take(void **p, size_t bytes) {
  *p = NULL;
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUDA_HOST_ALLOC)) return cudaErrorMemoryAllocation;
  pthread_mutex_lock(&pinned_lock);
  for (int i = 0; i < pinned_cached; i++)
    if (pinned_cache[i].bytes == bytes) {
      *p = pinned_cache[i].p;
      pinned_cache[i] = pinned_cache[--pinned_cached];
      break;
    }
  pthread_mutex_unlock(&pinned_lock);
  return *p != NULL ? cudaSuccess : cudaMallocHost(p, bytes);
}

cudaError_t dwconv__cuda_pinned_give(void *p, size_t bytes) {
  if (p == NULL) return cudaSuccess;
  pthread_mutex_lock(&pinned_lock);
  const int kept = pinned_cached < DWCONV_CUDA_PINNED_CACHE;
  if (kept) {
    pinned_cache[pinned_cached].p = p;
    pinned_cache[pinned_cached].bytes = bytes;
    pinned_cached++;
  }
  pthread_mutex_unlock(&pinned_lock);
  return kept ? cudaSuccess : cudaFreeHost(p);
}

size_t dwconv__cuda_pinned_trim(void) {
  pthread_mutex_lock(&pinned_lock);
  const int n = pinned_cached;
  for (int i = 0; i < n; i++) (void)cudaFreeHost(pinned_cache[i].p);
  pinned_cached = 0;
  pthread_mutex_unlock(&pinned_lock);
  return (size_t)n;
}

cudaError_t dwconv__cuda_stream_create(cudaStream_t *s) {
  *s = NULL;
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUDA_MALLOC)) return cudaErrorMemoryAllocation;
  /* Blocking (default-flag) streams: work queued here waits for work the caller queued on the
   * legacy default stream, the usual way device inputs are produced. */
  return cudaStreamCreateWithFlags(s, cudaStreamDefault);
}

cudaError_t dwconv__cuda_event_create(cudaEvent_t *e) {
  *e = NULL;
  if (dwconv__cuda_fault_due(DWCONV_FAULT_CUDA_MALLOC)) return cudaErrorMemoryAllocation;
  return cudaEventCreateWithFlags(e, cudaEventDisableTiming);
}

cudaError_t dwconv__cuda_pointer_type(const void *p, enum cudaMemoryType *type, int *device) {
  struct cudaPointerAttributes attr;
  cudaError_t e = cudaPointerGetAttributes(&attr, p);
  if (e == cudaErrorInvalidValue) {
    dwconv__cuda_clear_own(e);
    *type = cudaMemoryTypeUnregistered;
    *device = -1;
    return cudaSuccess;
  }
  if (e != cudaSuccess) return e;
  *type = attr.type;
  *device = attr.device;
  return cudaSuccess;
}

/* The driver's cuCtxGetCurrent / cuCtxSetCurrent, found through the runtime (no link to
 * libcuda: a build without a driver must still link and run). NULL when the driver does not
 * provide them; leave then falls back to cudaSetDevice. CUresult and CUcontext are spelled as
 * int and void * here to keep cuda.h out of the host code. */
typedef int (*ctx_get_fn)(void **ctx);
typedef int (*ctx_set_fn)(void *ctx);
static _Atomic(ctx_get_fn) ctx_get;
static _Atomic(ctx_set_fn) ctx_set;
static atomic_int ctx_looked_up;

static void *driver_symbol(const char *name) {
  void *fn = NULL;
  enum cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
#if CUDART_VERSION >= 12050
  cudaError_t e = cudaGetDriverEntryPointByVersion(name, &fn, 4000, cudaEnableDefault, &q);
#else
  cudaError_t e = cudaGetDriverEntryPoint(name, &fn, cudaEnableDefault, &q);
#endif
  if (e != cudaSuccess) {
    dwconv__cuda_clear_own(e);
    return NULL;
  }
  return q == cudaDriverEntryPointSuccess ? fn : NULL;
}

static void look_up_ctx_functions(void) {
  if (atomic_load(&ctx_looked_up)) return;
  ctx_get_fn g = (ctx_get_fn)driver_symbol("cuCtxGetCurrent");
  ctx_set_fn s = (ctx_set_fn)driver_symbol("cuCtxSetCurrent");
  if (g != NULL && s != NULL) {
    atomic_store(&ctx_get, g);
    atomic_store(&ctx_set, s);
  }
  atomic_store(&ctx_looked_up, 1);
}

dwconv_status dwconv__cuda_enter(int device, int *prev) {
  look_up_ctx_functions();
  ctx_get_fn get = atomic_load(&ctx_get);
  void *ctx = NULL;
  /* Any failure of cuCtxGetCurrent (the driver not initialised yet) also means that this
   * thread has no current context. */
  const int none = get != NULL && (get(&ctx) != 0 || ctx == NULL);
  cudaError_t e = cudaGetDevice(prev);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaGetDevice");
  if (none) *prev = DWCONV_CUDA_NO_CONTEXT;
  if (*prev != device) {
    e = cudaSetDevice(device);
    if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaSetDevice (the plan's device)");
  }
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cuda_leave(int prev, int device, dwconv_status st) {
  if (prev == device) return st;
  if (prev == DWCONV_CUDA_NO_CONTEXT) {
    ctx_set_fn set = atomic_load(&ctx_set);
    if (set != NULL && set(NULL) != 0 && st == DWCONV_SUCCESS)
      return dwconv__error(DWCONV_ERROR_DEVICE, "cuCtxSetCurrent(NULL) (restoring the caller's state) failed");
    return st;
  }
  cudaError_t e = cudaSetDevice(prev);
  if (e != cudaSuccess && st == DWCONV_SUCCESS)
    return dwconv__cuda_fail(e, "cudaSetDevice (restoring the caller's device)");
  return st;
}
