/* libFuzzer target for the .npy header parser (tools/npy.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Itools tests/cli/fuzz_npy.c tools/npy.c \
 *         -o fuzz_npy && ./fuzz_npy -max_total_time=60
 *
 * Checks, besides memory safety: the parser never asks for fewer bytes than it was given,
 * a parsed header is self-consistent, and a header built by npy_build_header parses back to
 * the same shape and dtype. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy_header h;
  size_t need = 0;
  char err[256];
  /* Copy to an exact-size heap buffer so ASan catches any read past the end. */
  unsigned char *buf = malloc(size ? size : 1);
  if (buf == NULL) return 0;
  memcpy(buf, data, size);
  npy_status st = npy_parse_header(buf, size, &h, &need, err, sizeof err);
  if (st == NPY_NEED_MORE && need <= size) abort();
  if (st == NPY_BAD && strlen(err) == 0) abort();
  if (st == NPY_OK) {
    if (h.ndim < 1 || h.ndim > 2 || h.shape[0] == 0 || h.shape[1] == 0 || h.data_offset > size) abort();
    unsigned char out[256];
    size_t n = npy_build_header(out, sizeof out, h.dtype, h.ndim, h.shape);
    npy_header back;
    if (n == 0 || npy_parse_header(out, n, &back, &need, err, sizeof err) != NPY_OK) abort();
    if (back.ndim != h.ndim || back.shape[0] != h.shape[0] || back.dtype != h.dtype || back.data_offset != n ||
        (h.ndim == 2 && back.shape[1] != h.shape[1]))
      abort();
  }
  free(buf);
  return 0;
}
