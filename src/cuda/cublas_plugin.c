/* libdwconv_cublas.so: the cuBLAS plugin libdwconv loads at the first GEMM plan
 * (cublas_plugin.h, cublas_load.c). It is linked against cuBLAS, so a missing or too old
 * cuBLAS fails when the plugin is linked (build) or loaded (the loader's message), never as a
 * missing symbol later. Built with hidden visibility: its one exported symbol is the entry
 * below. Not part of libdwconv itself (CMakeLists.txt keeps it out of dwconv_objects). */
#include "cublas_plugin.h"

#if defined(__GNUC__)
#define DWCONV_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define DWCONV_PLUGIN_EXPORT
#endif

DWCONV_PLUGIN_EXPORT unsigned long dwconv_cublas_plugin(unsigned long abi, dwconv_cublas_api *api, size_t api_size);

unsigned long dwconv_cublas_plugin(unsigned long abi, dwconv_cublas_api *api, size_t api_size) {
  if (abi != DWCONV_CUBLAS_PLUGIN_ABI || api == NULL || api_size != sizeof *api) return DWCONV_CUBLAS_PLUGIN_ABI;
  api->create = cublasCreate_v2;
  api->destroy = cublasDestroy_v2;
  api->set_workspace = cublasSetWorkspace_v2;
  api->set_stream = cublasSetStream_v2;
  api->gemm = cublasGemmStridedBatchedEx;
  return DWCONV_CUBLAS_PLUGIN_ABI;
}
