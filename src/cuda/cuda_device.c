/* How many CUDA devices this process can use, and what they are. */
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <string.h>

#include "cuda_util.h"
#include "internal.h"

/* Returns cudaGetDeviceCount's count, or 0 when it fails: no driver, a driver older than the
 * runtime ("CUDA driver version is insufficient"), no device, or devices hidden by
 * CUDA_VISIBLE_DEVICES all mean "no GPU here", which is a normal state, not an error (the
 * front end then reports NO_DEVICE only if the caller insisted on CUDA). The failed call leaves
 * its code in the runtime's last-error slot; it is taken out (only if still there) so the
 * caller's next cudaGetLastError does not report dwconv's handled failure. */
int dwconv__cuda_device_count(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    dwconv__cuda_clear_own(e);
    return 0;
  }
  return n > 0 ? n : 0;
}

/* Name, compute capability and memory of one device. Free memory needs a context on that
 * device, so the current device is switched for the query and the caller's state restored
 * afterwards (dwconv__cuda_enter / leave: no context is made on a device the caller never
 * used). */
dwconv_status dwconv__cuda_device_info(int device, dwconv_device_info *info) {
  struct cudaDeviceProp prop;
  cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess)
    return dwconv__error(DWCONV_ERROR_DEVICE, "cudaGetDeviceProperties(%d): %s", device, cudaGetErrorString(e));
  memset(info, 0, sizeof *info);
  snprintf(info->name, sizeof info->name, "%s", prop.name);
  info->compute_major = prop.major;
  info->compute_minor = prop.minor;
  info->total_memory = prop.totalGlobalMem;
  info->multiprocessors = prop.multiProcessorCount;
  int prev = 0;
  dwconv_status st = dwconv__cuda_enter(device, &prev);
  if (st != DWCONV_SUCCESS) return st;
  size_t free_b = 0, total_b = 0;
  e = cudaMemGetInfo(&free_b, &total_b);
  if (e != cudaSuccess) st = dwconv__cuda_fail(e, "cudaMemGetInfo");
  st = dwconv__cuda_leave(prev, device, st);
  if (st != DWCONV_SUCCESS) return st;
  info->free_memory = free_b;
  return DWCONV_SUCCESS;
}

/* See internal.h. */
int dwconv__cuda_is_device_memory(const void *p) {
  enum cudaMemoryType type;
  int device;
  cudaError_t e = dwconv__cuda_pointer_type(p, &type, &device);
  if (e != cudaSuccess) {
    /* The runtime cannot tell (unusable here, e.g. in a forked child): the caller is a CPU
     * plan, which treats the array as host memory rather than fail. */
    dwconv__cuda_clear_own(e);
    return 0;
  }
  return type == cudaMemoryTypeDevice;
}

int dwconv__cuda_current_device_id(char *name, size_t len, int *cc_major, int *cc_minor) {
  int dev = 0;
  struct cudaDeviceProp prop;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
    (void)cudaGetLastError(); /* a failed query must not linger as the next call's error */
    return 0;
  }
  snprintf(name, len, "%s", prop.name);
  *cc_major = prop.major;
  *cc_minor = prop.minor;
  return 1;
}
