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
 * its code in the runtime's last-error slot; cudaGetLastError clears it so it is not
 * attributed to a later, unrelated call. */
int dwconv__cuda_device_count(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n > 0 ? n : 0;
}

/* Name, compute capability and memory of one device. Free memory needs a context on that
 * device, so the current device is switched for the query and restored afterwards. */
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
  e = cudaGetDevice(&prev);
  if (e == cudaSuccess && prev != device) e = cudaSetDevice(device);
  size_t free_b = 0, total_b = 0;
  if (e == cudaSuccess) e = cudaMemGetInfo(&free_b, &total_b);
  if (prev != device) (void)cudaSetDevice(prev);
  if (e != cudaSuccess)
    return dwconv__error(DWCONV_ERROR_DEVICE, "cudaMemGetInfo on device %d: %s", device, cudaGetErrorString(e));
  info->free_memory = free_b;
  return DWCONV_SUCCESS;
}

/* See internal.h. */
int dwconv__cuda_is_device_memory(const void *p) {
  enum cudaMemoryType type;
  int device;
  if (dwconv__cuda_pointer_type(p, &type, &device) != cudaSuccess) {
    /* The runtime cannot tell (unusable here, e.g. in a forked child): the caller is a CPU
     * plan, which treats the array as host memory rather than fail. */
    (void)cudaGetLastError();
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
