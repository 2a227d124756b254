/* Status strings (all in this one file) and the per-thread detail message. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_error[1024]; /* room for the cuBLAS plugin loader's list of files tried */

const char *dwconv_status_string(dwconv_status status) {
  switch (status) {
    case DWCONV_SUCCESS: return "DWCONV_SUCCESS: no error";
    case DWCONV_ERROR_INVALID_VALUE: return "DWCONV_ERROR_INVALID_VALUE: invalid argument";
    case DWCONV_ERROR_SIZE_OVERFLOW: return "DWCONV_ERROR_SIZE_OVERFLOW: size too large";
    case DWCONV_ERROR_OUT_OF_MEMORY: return "DWCONV_ERROR_OUT_OF_MEMORY: allocation failed";
    case DWCONV_ERROR_NOT_SUPPORTED: return "DWCONV_ERROR_NOT_SUPPORTED: not supported by this build";
    case DWCONV_ERROR_NO_DEVICE: return "DWCONV_ERROR_NO_DEVICE: no usable CUDA device";
    case DWCONV_ERROR_DEVICE: return "DWCONV_ERROR_DEVICE: CUDA call failed";
    case DWCONV_ERROR_KERNEL_NOT_SET: return "DWCONV_ERROR_KERNEL_NOT_SET: execute before set_kernel";
    case DWCONV_ERROR_INTERNAL: return "DWCONV_ERROR_INTERNAL: internal error (a dwconv bug)";
    case DWCONV_ERROR_IO: return "DWCONV_ERROR_IO: a file could not be read or written";
  }
  return "DWCONV_ERROR_UNKNOWN: status value out of range";
}

const char *dwconv_last_error(void) { return last_error; }

void dwconv__clear_error(void) { last_error[0] = '\0'; }

dwconv_status dwconv__error(dwconv_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

const char *dwconv_version_string(void) {
#define DWCONV_STR2(x) #x
#define DWCONV_STR(x) DWCONV_STR2(x)
  return DWCONV_STR(DWCONV_VERSION_MAJOR) "." DWCONV_STR(DWCONV_VERSION_MINOR) "." DWCONV_STR(
      DWCONV_VERSION_PATCH);
}
