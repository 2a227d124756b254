/* How many CUDA devices this process can use. */
#include <cuda_runtime_api.h>

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
