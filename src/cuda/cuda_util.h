/* Helpers shared by the CUDA backend's host code: turning CUDA and cuFFT failures into dwconv
 * statuses with a detail message, acquiring device resources through one place (so tests can
 * make each acquisition fail in turn), and running on the plan's device. Plain C. */
#ifndef DWCONV_CUDA_UTIL_H
#define DWCONV_CUDA_UTIL_H

#include <cuda_runtime_api.h>
#include <cufft.h>

#include "cuda_kernels.h"
#include "internal.h"

/* Records "what: cudaErrorName: description" for dwconv_last_error() and returns
 * DWCONV_ERROR_OUT_OF_MEMORY for an allocation failure, DWCONV_ERROR_DEVICE otherwise. Also
 * takes err out of the runtime's last-error slot when it is the slot's content (the failed
 * call put it there), so the caller does not see an error dwconv handled; an error the caller
 * left there is never cleared (see dwconv__cuda_clear_own). */
dwconv_status dwconv__cuda_fail(cudaError_t err, const char *what);

/* Clears the runtime's last-error slot only when it holds err, the failure of a call dwconv
 * just made and handled: a failing runtime call overwrites the slot, so an equal value there
 * is ours. A different pending value (the caller's own unchecked failure) is left alone. */
void dwconv__cuda_clear_own(cudaError_t err);

/* The same as dwconv__cuda_fail for cuFFT: CUFFT_ALLOC_FAILED is OUT_OF_MEMORY, everything
 * else DEVICE. cuFFT reports through its return value only, so the CUDA last-error slot is
 * not touched (clearing it could swallow the caller's pending error). */
dwconv_status dwconv__cufft_fail(cufftResult res, const char *what);

/* For plan creation (cufftMakePlanMany64): CUFFT_ALLOC_FAILED is OUT_OF_MEMORY; a refusal of
 * the transform itself (CUFFT_INVALID_SIZE, CUFFT_INTERNAL_ERROR on huge lengths,
 * CUFFT_INVALID_VALUE, CUFFT_NOT_SUPPORTED, CUFFT_NOT_IMPLEMENTED) is NOT_SUPPORTED, which lets
 * an ALGO_AUTO plan take the direct path instead; anything else DEVICE. */
dwconv_status dwconv__cufft_plan_fail(cufftResult res, const char *what);


/* Name of a cufftResult ("CUFFT_ALLOC_FAILED"), or "CUFFT_UNKNOWN_ERROR". */
const char *dwconv__cufft_string(cufftResult res);

/* On failure of `call`, store the status in `st` and jump to the function's `fail` label.
 * Used where a function must undo what it took; straight-line code calls the helpers. */
#define DWCONV_CUDA_TRY(st, call, what)                \
  do {                                                 \
    cudaError_t dwconv_e_ = (call);                    \
    if (dwconv_e_ != cudaSuccess) {                    \
      (st) = dwconv__cuda_fail(dwconv_e_, (what));     \
      goto fail;                                       \
    }                                                  \
  } while (0)
#define DWCONV_CUFFT_TRY(st, call, what)               \
  do {                                                 \
    cufftResult dwconv_r_ = (call);                    \
    if (dwconv_r_ != CUFFT_SUCCESS) {                  \
      (st) = dwconv__cufft_fail(dwconv_r_, (what));    \
      goto fail;                                       \
    }                                                  \
  } while (0)
#define DWCONV_TRY(st, expr)                           \
  do {                                                 \
    (st) = (expr);                                     \
    if ((st) != DWCONV_SUCCESS) goto fail;             \
  } while (0)

/* ---- device resources: every acquisition goes through these ---- */

/* cudaMallocHost / stream and event creation (and dwconv__cuda_dev_alloc below); a fault
 * injected with dwconv__cuda_fault_inject() makes them return cudaErrorMemoryAllocation
 * without calling CUDA (the pinned one then exercises the pageable fallback). */
cudaError_t dwconv__cuda_stream_create(cudaStream_t *s);
/* A plan's device buffers: stream-ordered (cudaMallocAsync / cudaFreeAsync on `stream`, from
 * the device's default memory pool) when `pooled`, else cudaMalloc / cudaFree. cudaFree
 * synchronises the whole device, so with pools a plan's destroy (and with it a one-shot
 * call) waits for nothing but the plan's own work. The allocation counts as a device
 * resource for fault injection; the free is queued behind the stream's work. */
cudaError_t dwconv__cuda_dev_alloc(void **p, size_t bytes, int pooled, cudaStream_t stream);
cudaError_t dwconv__cuda_dev_free(void *p, int pooled, cudaStream_t stream);
/* 1 when `device` supports stream-ordered allocation (cudaDevAttrMemoryPoolsSupported). */
int dwconv__cuda_pools_supported(int device);
/* Pinned staging buffers come from a small process-wide cache (at most
 * DWCONV_CUDA_PINNED_CACHE buffers, freed only at exit) before cudaMallocHost, and go back to
 * it when a plan lets them go: cudaFreeHost synchronises the whole device, which a plan's
 * destroy and every one-shot call on pageable data would otherwise pay. Taking counts as a
 * pinned acquisition for fault injection; giving frees (cudaFreeHost) only when the cache
 * is full. Pinned memory is portable across devices under unified addressing, so buffers are
 * matched by size alone. */
cudaError_t dwconv__cuda_pinned_take(void **p, size_t bytes);
cudaError_t dwconv__cuda_pinned_give(void *p, size_t bytes);
/* Test hook: frees every cached pinned buffer; returns how many there were. */
size_t dwconv__cuda_pinned_trim(void);
cudaError_t dwconv__cuda_event_create(cudaEvent_t *e);
/* Every device resource acquisition asks here first: non-zero when a fault is due now, either
 * from dwconv__cuda_fault_inject (any device resource, in order) or from the per-site
 * dwconv__fault_inject(site, n) of internal.h. cuFFT plan steps then report
 * CUFFT_ALLOC_FAILED, the others cudaErrorMemoryAllocation. */
int dwconv__cuda_fault_due(dwconv_fault_site site);

/* Test hook, like dwconv__fault_inject_alloc for host memory: make the n-th device resource
 * acquisition from now fail (1 = the next one); 0 disables. Returns how many acquisitions were
 * made since the previous call, so a test can loop n = 1, 2, ... until a create succeeds. */
size_t dwconv__cuda_fault_inject(size_t n);

/* ---- where a pointer points ---- */

/* The memory type of p (cudaMemoryTypeUnregistered for plain host memory) and, for device
 * memory, its device. Runtimes before 11.0 report plain host memory as cudaErrorInvalidValue:
 * that becomes Unregistered, with the error cleared. Other failures are returned. */
cudaError_t dwconv__cuda_pointer_type(const void *p, enum cudaMemoryType *type, int *device);

/* ---- running on the plan's device ---- */

/* *prev from dwconv__cuda_enter when the calling thread had no current CUDA context. */
#define DWCONV_CUDA_NO_CONTEXT (-1)

/* Makes `device` current, storing in *prev what dwconv__cuda_leave needs to restore the
 * caller's state: the caller's current device, or DWCONV_CUDA_NO_CONTEXT when the thread had
 * no current context (cudaGetDevice then reports device 0 although nothing is initialised on
 * it). Returns DEVICE (with detail) when a runtime call fails. */
dwconv_status dwconv__cuda_enter(int device, int *prev);
/* Restores the caller's state from dwconv__cuda_enter: its device, or no current context
 * (through the driver's cuCtxSetCurrent(NULL)), so a thread that never used a device does not
 * get a context made on it: since CUDA 12 cudaSetDevice initialises the device's primary
 * context. Returns `st` unless that succeeded and the restore failed. */
dwconv_status dwconv__cuda_leave(int prev, int device, dwconv_status st);

#endif /* DWCONV_CUDA_UTIL_H */
