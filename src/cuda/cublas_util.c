/* cuBLAS status mapping; see gemm.h. Names come from a table here rather than
 * cublasGetStatusName, so a message never depends on the cuBLAS build being new enough. */
#include "cuda_util.h"
#include "gemm.h"

const char *dwconv__cublas_string(cublasStatus_t res) {
  switch (res) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

dwconv_status dwconv__cublas_fail(cublasStatus_t res, const char *what) {
  /* A failed cuBLAS call may leave a CUDA error behind; it is reported through res. */
  (void)cudaGetLastError();
  dwconv_status st;
  switch (res) {
    case CUBLAS_STATUS_ALLOC_FAILED: st = DWCONV_ERROR_OUT_OF_MEMORY; break;
    case CUBLAS_STATUS_NOT_SUPPORTED:
    case CUBLAS_STATUS_ARCH_MISMATCH: st = DWCONV_ERROR_NOT_SUPPORTED; break;
    case CUBLAS_STATUS_INVALID_VALUE: st = DWCONV_ERROR_INTERNAL; break;
    default: st = DWCONV_ERROR_DEVICE; break;
  }
  return dwconv__error(st, "%s: cuBLAS error %d (%s)%s", what, (int)res, dwconv__cublas_string(res),
                       st == DWCONV_ERROR_INTERNAL ? "; dwconv passed an invalid argument, please report it" : "");
}
