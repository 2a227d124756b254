/* A naive long-double reference for checking results (demo, tests): the textbook sums,
 * slow but independent of every optimisation in the library. */
#ifndef DWCONV_TOOLS_REFERENCE_H
#define DWCONV_TOOLS_REFERENCE_H

#include <stddef.h>

#include "dwconv.h"

/* One output row: out[0..out_len) = mode slice of op(a[0..n), b[0..p)), with scipy's
 * definitions (correlate = convolve with b reversed). out_len must be
 * dwconv_output_len(mode, n, p). */
void ref_row(const double *a, size_t n, const double *b, size_t p, dwconv_mode mode, dwconv_op op,
             long double *out);

/* First sample of the full convolution that output sample 0 of mode is. */
size_t ref_mode_offset(dwconv_mode mode, size_t n, size_t p);

#endif /* DWCONV_TOOLS_REFERENCE_H */
