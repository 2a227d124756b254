/* Naive long-double reference (see reference.h). */
#include "reference.h"

/* See reference.h. */
size_t ref_mode_offset(dwconv_mode mode, size_t n, size_t p) {
  switch (mode) {
    case DWCONV_MODE_SAME: return (p - 1) / 2;
    case DWCONV_MODE_VALID: return (n < p ? n : p) - 1;
    default: return 0; /* FULL, CAUSAL */
  }
}

/* See reference.h. */
void ref_row(const double *a, size_t n, const double *b, size_t p, dwconv_mode mode, dwconv_op op,
             long double *out) {
  size_t off = ref_mode_offset(mode, n, p), len = dwconv_output_len(mode, n, p);
  for (size_t i = 0; i < len; i++) {
    size_t k = off + i; /* index into the full result: sum over a[j] * b[k - j] */
    long double s = 0;
    size_t j0 = k >= p - 1 ? k - (p - 1) : 0, j1 = k < n - 1 ? k : n - 1;
    for (size_t j = j0; j <= j1; j++) {
      size_t t = k - j;
      long double bv = op == DWCONV_OP_CONVOLVE ? b[t] : b[p - 1 - t];
      s += (long double)a[j] * bv;
    }
    out[i] = s;
  }
}
