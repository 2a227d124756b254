/* cuBLAS is loaded with dlopen when the first GEMM plan is made, not linked: libcublas and
 * libcublasLt add about 155 MB to the resident memory of every process that loads them (their
 * start-up touches that much), which programs that never use ALGO_GEMM should not pay.
 * The library is DWCONV_CUBLAS_SONAME (the toolkit the build used, e.g. "libcublas.so.13"),
 * or the file named by the environment variable DWCONV_CUBLAS_LIBRARY; a build without
 * DWCONV_CUBLAS_SONAME (the GPU-less host test) takes the functions from the program itself.
 * A successful load is kept for the life of the process; a failed one is retried by the next
 * GEMM plan. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#include "cuda_util.h"
#include "gemm.h"

static dwconv_cublas_api api;
static int loaded;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Resolves every function from handle into *a; returns the name of the first one missing. */
static const char *resolve(void *handle, dwconv_cublas_api *a) {
#define SYM(field, name)                                  \
  do {                                                    \
    *(void **)(&a->field) = dlsym(handle, name);          \
    if (a->field == NULL) return name;                    \
  } while (0)
  SYM(create, "cublasCreate_v2");
  SYM(destroy, "cublasDestroy_v2");
  SYM(set_workspace, "cublasSetWorkspace_v2");
  SYM(set_stream, "cublasSetStream_v2");
  SYM(gemm, "cublasGemmStridedBatchedEx");
#undef SYM
  return NULL;
}

dwconv_status dwconv__cublas_load(const dwconv_cublas_api **out) {
  pthread_mutex_lock(&lock);
  dwconv_status st = DWCONV_SUCCESS;
  if (!loaded) {
    const char *name = getenv("DWCONV_CUBLAS_LIBRARY");
#ifdef DWCONV_CUBLAS_SONAME
    if (name == NULL || *name == '\0') name = DWCONV_CUBLAS_SONAME;
#else
    if (name != NULL && *name == '\0') name = NULL;
#endif
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    const char *missing = NULL;
    if (h == NULL) {
      const char *why = dlerror();
      st = dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "ALGO_GEMM needs cuBLAS, which could not be loaded (%s): %s; install the CUDA "
                         "toolkit's cuBLAS or set DWCONV_CUBLAS_LIBRARY to its path",
                         name ? name : "the program itself", why ? why : "unknown error");
    } else if ((missing = resolve(h, &api)) != NULL) {
      st = dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "the cuBLAS library %s lacks %s (too old a cuBLAS?)",
                         name ? name : "in the program", missing);
      dlclose(h);
    } else {
      loaded = 1; /* kept open: plans of this process keep using it */
    }
  }
  pthread_mutex_unlock(&lock);
  *out = st == DWCONV_SUCCESS ? &api : NULL;
  return st;
}
