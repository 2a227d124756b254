/* Output slices per mode, overlap-save layout and chunking; see geometry.h. */
#include "geometry.h"

#include <stdint.h>

dwconv_status dwconv__geometry_init(dwconv_geometry *g, dwconv_mode mode, size_t rows, size_t n,
                                    size_t p) {
  if (rows == 0 || n == 0 || p == 0) return DWCONV_ERROR_INVALID_VALUE;
  if (n - 1 > SIZE_MAX - p) return DWCONV_ERROR_SIZE_OVERFLOW;
  size_t full = n + p - 1;
  size_t shorter = n < p ? n : p;
  g->rows = rows;
  g->n = n;
  g->p = p;
  switch (mode) {
    case DWCONV_MODE_FULL: g->out_len = full; g->full_offset = 0; break;
    case DWCONV_MODE_SAME: g->out_len = n; g->full_offset = (p - 1) / 2; break;
    case DWCONV_MODE_VALID:
      /* scipy swaps the inputs when P > N: the valid part is where the shorter one fits. */
      g->out_len = full - 2 * (shorter - 1);
      g->full_offset = shorter - 1;
      break;
    case DWCONV_MODE_CAUSAL: g->out_len = n; g->full_offset = 0; break;
    default: return DWCONV_ERROR_INVALID_VALUE;
  }
  /* Output i reads A[i + off - (P-1) .. i + off]; inside A when i >= P-1-off and
   * i + off <= N-1. */
  size_t lo = g->full_offset >= p - 1 ? 0 : p - 1 - g->full_offset;
  size_t hi = g->full_offset >= n ? 0 : n - g->full_offset;
  if (lo > g->out_len) lo = g->out_len;
  if (hi > g->out_len) hi = g->out_len;
  if (hi < lo) hi = lo;
  g->interior_begin = lo;
  g->interior_end = hi;
  g->block_len = g->block_step = g->blocks_per_row = 0;
  return DWCONV_SUCCESS;
}

void dwconv__geometry_set_block(dwconv_geometry *g, size_t block_len) {
  g->block_len = block_len;
  g->block_step = block_len - g->p + 1;
  g->blocks_per_row = (g->out_len + g->block_step - 1) / g->block_step;
}

void dwconv__chunking_init(dwconv_chunking *c, const dwconv_geometry *g, size_t max_rows,
                           size_t max_out, size_t align) {
  if (align == 0) align = 1;
  if (max_rows == 0) max_rows = 1;
  if (max_rows > g->rows) max_rows = g->rows;
  max_out -= max_out % align;
  if (max_out < align) max_out = align;
  if (max_out > g->out_len) max_out = g->out_len;
  c->rows_per_chunk = max_rows;
  c->outs_per_chunk = max_out;
  c->row_chunks = (g->rows + max_rows - 1) / max_rows;
  c->out_chunks = (g->out_len + max_out - 1) / max_out;
}

void dwconv__chunk_get(const dwconv_chunking *c, const dwconv_geometry *g, size_t idx,
                       dwconv_chunk *out) {
  size_t rc = idx / c->out_chunks, oc = idx % c->out_chunks;
  out->row_begin = rc * c->rows_per_chunk;
  out->row_count = g->rows - out->row_begin < c->rows_per_chunk ? g->rows - out->row_begin
                                                                 : c->rows_per_chunk;
  out->out_begin = oc * c->outs_per_chunk;
  out->out_count = g->out_len - out->out_begin < c->outs_per_chunk ? g->out_len - out->out_begin
                                                                    : c->outs_per_chunk;
  out->in_begin = dwconv__window_start(g, out->out_begin);
  out->in_count = out->out_count + g->p - 1;
}

size_t dwconv__next_smooth7(size_t n) {
  if (n <= 1) return 1;
  size_t best = 0;
  /* Enumerate 2^a 3^b 5^c 7^d >= n by walking the 3/5/7 part and doubling up to n. */
  for (size_t f7 = 1;; f7 *= 7) {
    for (size_t f5 = f7;; f5 *= 5) {
      for (size_t f3 = f5;; f3 *= 3) {
        size_t v = f3;
        while (v < n && v <= SIZE_MAX / 2) v *= 2;
        if (v >= n && (best == 0 || v < best)) best = v;
        if (f3 >= n || f3 > SIZE_MAX / 3) break;
      }
      if (f5 >= n || f5 > SIZE_MAX / 5) break;
    }
    if (f7 >= n || f7 > SIZE_MAX / 7) break;
  }
  return best;
}
