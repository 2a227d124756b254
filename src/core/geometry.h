/* Geometry shared by every backend: which samples of the full convolution a mode keeps, the
 * overlap-save block layout, and how a problem is cut into chunks. Computed once here so the
 * CPU tests check the same arithmetic the GPU path relies on. Plain C, no allocation. */
#ifndef DWCONV_GEOMETRY_H
#define DWCONV_GEOMETRY_H

#include <stddef.h>

#include "dwconv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dwconv_geometry {
  size_t rows, n, p;
  size_t out_len;     /* samples per output row */
  size_t full_offset; /* index in the full convolution of output sample 0 */
  /* Outputs [interior_begin, interior_end) read only samples inside A; the rest read zeros
   * past an end of A. interior_begin <= interior_end. */
  size_t interior_begin, interior_end;
  /* Overlap-save (0 until dwconv__geometry_set_block): block b makes outputs
   * [b*block_step, min((b+1)*block_step, out_len)) from the block_len input samples starting
   * at dwconv__os_segment_start(g, b). */
  size_t block_len, block_step, blocks_per_row;
} dwconv_geometry;

/* Fills g for the mode and sizes. Returns SUCCESS, INVALID_VALUE (zero size or bad mode) or
 * SIZE_OVERFLOW (N+P-1 does not fit size_t). */
dwconv_status dwconv__geometry_init(dwconv_geometry *g, dwconv_mode mode, size_t rows, size_t n,
                                    size_t p);

/* Sets the overlap-save block length L (>= P) and the derived step and block count. */
void dwconv__geometry_set_block(dwconv_geometry *g, size_t block_len);

/* First input sample (may be negative: zeros) of the window that makes output sample i. */
static inline ptrdiff_t dwconv__window_start(const dwconv_geometry *g, size_t i) {
  return (ptrdiff_t)(g->full_offset + i) - (ptrdiff_t)(g->p - 1);
}

/* The part of a window of len samples starting at sample start (may be negative) that lies
 * inside a row of n samples: window slots [*lo, *hi) hold samples start + *lo ..
 * start + *hi - 1, all other slots are zeros. 0 <= *lo <= *hi <= len. */
static inline void dwconv__window_clip(ptrdiff_t start, ptrdiff_t len, ptrdiff_t n, ptrdiff_t *lo,
                                       ptrdiff_t *hi) {
  ptrdiff_t a = start < 0 ? -start : 0;
  ptrdiff_t b = n - start < len ? n - start : len;
  if (a > len) a = len;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/* First input sample of overlap-save block b (may be negative: zeros before A). */
static inline ptrdiff_t dwconv__os_segment_start(const dwconv_geometry *g, size_t b) {
  return dwconv__window_start(g, b * g->block_step);
}

/* A rectangle of the output: rows [row_begin, row_begin+row_count) x samples
 * [out_begin, out_begin+out_count). Its input is samples [in_begin, in_begin+in_count) of
 * each row (in_count = out_count + P - 1), where indices outside [0, N) are zeros. */
typedef struct dwconv_chunk {
  size_t row_begin, row_count;
  size_t out_begin, out_count;
  ptrdiff_t in_begin;
  size_t in_count;
} dwconv_chunk;

/* Cuts rows x out_len into a grid of chunks of at most max_rows rows and max_out samples;
 * max_out is rounded down to a multiple of align (e.g. the overlap-save step, so chunks hold
 * whole blocks), but never below align. */
typedef struct dwconv_chunking {
  size_t rows_per_chunk, outs_per_chunk;
  size_t row_chunks, out_chunks;
} dwconv_chunking;

void dwconv__chunking_init(dwconv_chunking *c, const dwconv_geometry *g, size_t max_rows,
                           size_t max_out, size_t align);
static inline size_t dwconv__chunk_count(const dwconv_chunking *c) {
  return c->row_chunks * c->out_chunks;
}
/* Chunk number idx (0 <= idx < count), output chunks of one row band first. */
void dwconv__chunk_get(const dwconv_chunking *c, const dwconv_geometry *g, size_t idx,
                       dwconv_chunk *out);

/* Smallest 7-smooth integer (2^a 3^b 5^c 7^d) >= n, or 0 if none fits size_t. */
size_t dwconv__next_smooth7(size_t n);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_GEOMETRY_H */
