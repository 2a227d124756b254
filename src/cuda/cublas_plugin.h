/* The interface between libdwconv and its cuBLAS plugin, libdwconv_cublas.so
 * (cublas_plugin.c). The plugin is linked against cuBLAS; libdwconv is not, and loads the
 * plugin with dlopen at the first GEMM plan (cublas_load.c), so processes that never make one
 * do not pay cuBLAS's start-up memory. The plugin exports one function,
 * DWCONV_CUBLAS_PLUGIN_ENTRY, of type dwconv_cublas_plugin_fn; its signature never changes,
 * everything else is checked through DWCONV_CUBLAS_PLUGIN_ABI. */
#ifndef DWCONV_CUDA_CUBLAS_PLUGIN_H
#define DWCONV_CUDA_CUBLAS_PLUGIN_H

#include <stddef.h>

#include <cublas_v2.h>

#include "dwconv.h"

/* The plugin's file name: installed next to libdwconv (or the program or Python extension
 * module the static library is linked into). */
#define DWCONV_CUBLAS_PLUGIN_FILE "libdwconv_cublas.so"
#define DWCONV_CUBLAS_PLUGIN_ENTRY "dwconv_cublas_plugin"

/* What a plugin must match to be used: dwconv's version (DWCONV_VERSION_NUMBER) times 100
 * plus the revision of dwconv_cublas_api below (bumped whenever the table changes), so only
 * the plugin built with this dwconv is accepted. (The host test builds one with another
 * number, hence #ifndef.) */
#define DWCONV_CUBLAS_PLUGIN_TABLE_REVISION 1
#ifndef DWCONV_CUBLAS_PLUGIN_ABI
#define DWCONV_CUBLAS_PLUGIN_ABI \
  ((unsigned long)DWCONV_VERSION_NUMBER * 100ul + DWCONV_CUBLAS_PLUGIN_TABLE_REVISION)
#endif

/* The cuBLAS functions dwconv uses. */
typedef struct dwconv_cublas_api {
  cublasStatus_t (*create)(cublasHandle_t *handle);
  cublasStatus_t (*destroy)(cublasHandle_t handle);
  cublasStatus_t (*set_workspace)(cublasHandle_t handle, void *workspace, size_t bytes);
  cublasStatus_t (*set_stream)(cublasHandle_t handle, cudaStream_t stream);
  cublasStatus_t (*gemm)(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                         int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long strideA,
                         const void *B, cudaDataType Btype, int ldb, long long strideB, const void *beta, void *C,
                         cudaDataType Ctype, int ldc, long long strideC, int batchCount,
                         cublasComputeType_t computeType, cublasGemmAlgo_t algo);
} dwconv_cublas_api;

/* The plugin's entry: when abi equals the plugin's DWCONV_CUBLAS_PLUGIN_ABI and api_size
 * sizeof(dwconv_cublas_api), fills *api with cuBLAS's functions; returns the plugin's ABI
 * number either way (a caller that gets another number must not use *api, which is then
 * untouched). */
typedef unsigned long (*dwconv_cublas_plugin_fn)(unsigned long abi, dwconv_cublas_api *api, size_t api_size);

#endif /* DWCONV_CUDA_CUBLAS_PLUGIN_H */
