/*
 * test_geometry: unit tests of the internal geometry (src/core/geometry.c), linked against
 * dwconv_static: output slice per mode, interior range, overlap-save block coverage, chunking
 * coverage, and dwconv__next_smooth7 against brute force. Backend independent (no _cuda
 * variant). Every expectation is computed here from the specification, independently.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_common.h"

static const dwconv_mode k_modes[4] = {DWCONV_MODE_FULL, DWCONV_MODE_SAME, DWCONV_MODE_VALID,
                                       DWCONV_MODE_CAUSAL};

/* Brute-force interior test: does output i of (mode, n, p) read only samples inside A? */
static int bf_interior(size_t off, size_t n, size_t p, size_t i) {
  long long first = (long long)(off + i) - (long long)(p - 1), last = (long long)(off + i);
  return first >= 0 && last <= (long long)n - 1;
}

/* out_len, full_offset and the interior range for every mode and n, p in 1..48. */
START_TEST(test_geometry_init_small) {
  tc_failures f = {0};
  for (int mi = 0; mi < 4; mi++)
    for (size_t n = 1; n <= 48; n++)
      for (size_t p = 1; p <= 48; p++) {
        dwconv_geometry g;
        memset(&g, 0xAB, sizeof g);
        dwconv_mode mode = k_modes[mi];
        dwconv_status st = dwconv__geometry_init(&g, mode, 3, n, p);
        if (st != DWCONV_SUCCESS) {
          tc_fail(&f, "%s n=%zu p=%zu: status %d", tc_mode_name(mode), n, p, (int)st);
          continue;
        }
        size_t len = tc_out_len(mode, n, p), off = tc_full_offset(mode, n, p);
        if (g.rows != 3 || g.n != n || g.p != p || g.out_len != len || g.full_offset != off) {
          tc_fail(&f, "%s n=%zu p=%zu: out_len %zu (want %zu) full_offset %zu (want %zu)",
                  tc_mode_name(mode), n, p, g.out_len, len, g.full_offset, off);
          continue;
        }
        if (g.block_len != 0 || g.block_step != 0 || g.blocks_per_row != 0)
          tc_fail(&f, "%s n=%zu p=%zu: block fields not zeroed", tc_mode_name(mode), n, p);
        if (dwconv_output_len(mode, n, p) != len)
          tc_fail(&f, "dwconv_output_len(%s, %zu, %zu) = %zu, want %zu", tc_mode_name(mode), n, p,
                  dwconv_output_len(mode, n, p), len);
        /* Interior: exactly the outputs whose window lies inside A, as one range. */
        if (g.interior_begin > g.interior_end || g.interior_end > len) {
          tc_fail(&f, "%s n=%zu p=%zu: interior [%zu,%zu) not within [0,%zu)", tc_mode_name(mode),
                  n, p, g.interior_begin, g.interior_end, len);
          continue;
        }
        for (size_t i = 0; i < len; i++) {
          int want = bf_interior(off, n, p, i);
          int got = i >= g.interior_begin && i < g.interior_end;
          if (want != got) {
            tc_fail(&f, "%s n=%zu p=%zu: output %zu interior=%d, want %d (range [%zu,%zu))",
                    tc_mode_name(mode), n, p, i, got, want, g.interior_begin, g.interior_end);
            break;
          }
        }
        /* window_start(i) is the first input sample of output i's window. */
        for (size_t i = 0; i < len; i++)
          if (dwconv__window_start(&g, i) != (ptrdiff_t)(off + i) - (ptrdiff_t)(p - 1)) {
            tc_fail(&f, "%s n=%zu p=%zu: window_start(%zu) wrong", tc_mode_name(mode), n, p, i);
            break;
          }
      }
  ck_assert_msg(f.count == 0, "%ld geometry failures; first: %s", f.count, f.first);
}
END_TEST

/* Invalid sizes, bad mode and N+P-1 overflow. */
START_TEST(test_geometry_init_errors) {
  dwconv_geometry g;
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 0, 4, 4), DWCONV_ERROR_INVALID_VALUE);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 1, 0, 4), DWCONV_ERROR_INVALID_VALUE);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 1, 4, 0), DWCONV_ERROR_INVALID_VALUE);
  ck_assert_int_eq(dwconv__geometry_init(&g, (dwconv_mode)4, 1, 4, 4), DWCONV_ERROR_INVALID_VALUE);
  ck_assert_int_eq(dwconv__geometry_init(&g, (dwconv_mode)7, 1, 4, 4), DWCONV_ERROR_INVALID_VALUE);
  ck_assert_int_eq(dwconv__geometry_init(&g, (dwconv_mode)-1, 1, 4, 4), DWCONV_ERROR_INVALID_VALUE);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 1, SIZE_MAX, 2),
                   DWCONV_ERROR_SIZE_OVERFLOW);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_SAME, 1, 2, SIZE_MAX),
                   DWCONV_ERROR_SIZE_OVERFLOW);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 1, SIZE_MAX / 2 + 2, SIZE_MAX / 2 + 2),
                   DWCONV_ERROR_SIZE_OVERFLOW);
  /* The largest full length that fits: N + P - 1 == SIZE_MAX. */
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 1, SIZE_MAX, 1), DWCONV_SUCCESS);
  ck_assert_uint_eq(g.out_len, SIZE_MAX);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_FULL, 1, SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1),
                   DWCONV_SUCCESS); /* 2^63 + 2^63 - 1 == SIZE_MAX fits */
  ck_assert_uint_eq(g.out_len, SIZE_MAX);
  ck_assert_int_eq(dwconv__geometry_init(&g, DWCONV_MODE_VALID, 1, SIZE_MAX - 9, 10), DWCONV_SUCCESS);
  ck_assert_uint_eq(g.out_len, SIZE_MAX - 18);
  ck_assert_uint_eq(g.full_offset, 9);
}
END_TEST

/* Overlap-save: for many sizes and block lengths L >= P, the blocks of a row cover
 * [0, out_len) exactly once, and block b's L input samples (from os_segment_start) contain
 * the whole window of every output it makes. */
START_TEST(test_overlap_save_blocks) {
  tc_failures f = {0};
  static const size_t ns[] = {1, 2, 3, 5, 8, 13, 31, 64, 100, 257};
  static const size_t ps[] = {1, 2, 3, 4, 7, 16, 33, 64, 130};
  unsigned char *cover = (unsigned char *)malloc(1024);
  for (int mi = 0; mi < 4; mi++)
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
      for (size_t b = 0; b < sizeof ps / sizeof ps[0]; b++) {
        size_t n = ns[a], p = ps[b];
        for (size_t L = p; L <= p + 70; L += (L < p + 8 ? 1 : 9)) {
          dwconv_geometry g;
          ck_assert_int_eq(dwconv__geometry_init(&g, k_modes[mi], 2, n, p), DWCONV_SUCCESS);
          dwconv__geometry_set_block(&g, L);
          size_t step = L - p + 1, len = g.out_len;
          if (g.block_len != L || g.block_step != step ||
              g.blocks_per_row != (len + step - 1) / step) {
            tc_fail(&f, "%s n=%zu p=%zu L=%zu: block_step %zu blocks %zu", tc_mode_name(k_modes[mi]),
                    n, p, L, g.block_step, g.blocks_per_row);
            continue;
          }
          memset(cover, 0, len);
          for (size_t blk = 0; blk < g.blocks_per_row; blk++) {
            size_t o0 = blk * g.block_step;
            size_t o1 = o0 + g.block_step < len ? o0 + g.block_step : len;
            ptrdiff_t seg = dwconv__os_segment_start(&g, blk);
            if (o0 >= len) {
              tc_fail(&f, "n=%zu p=%zu L=%zu: block %zu starts past the row", n, p, L, blk);
              break;
            }
            for (size_t i = o0; i < o1; i++) {
              cover[i]++;
              ptrdiff_t w0 = (ptrdiff_t)(tc_full_offset(k_modes[mi], n, p) + i) - (ptrdiff_t)(p - 1);
              if (w0 < seg || w0 + (ptrdiff_t)p > seg + (ptrdiff_t)L) {
                tc_fail(&f, "%s n=%zu p=%zu L=%zu: output %zu window [%td,%td) outside block %zu [%td,%td)",
                        tc_mode_name(k_modes[mi]), n, p, L, i, w0, w0 + (ptrdiff_t)p, blk, seg,
                        seg + (ptrdiff_t)L);
                break;
              }
            }
          }
          for (size_t i = 0; i < len; i++)
            if (cover[i] != 1) {
              tc_fail(&f, "%s n=%zu p=%zu L=%zu: output %zu covered %d times",
                      tc_mode_name(k_modes[mi]), n, p, L, i, cover[i]);
              break;
            }
        }
      }
  free(cover);
  ck_assert_msg(f.count == 0, "%ld overlap-save failures; first: %s", f.count, f.first);
}
END_TEST

/* Chunking: for many geometries and (max_rows, max_out, align), the chunks cover the
 * rows x out_len grid exactly once, respect the limits, start on multiples of align when a
 * row is split, and carry the right input range. */
START_TEST(test_chunking_cover) {
  tc_failures f = {0};
  static const size_t rowss[] = {1, 2, 5, 9};
  static const size_t ns[] = {1, 4, 17, 100, 257};
  static const size_t ps[] = {1, 3, 16, 40};
  static const size_t max_rowss[] = {0, 1, 2, 3, 8, 100};
  static const size_t max_outs[] = {0, 1, 5, 7, 64, 100, 1000};
  static const size_t aligns[] = {0, 1, 2, 3, 8, 33, 200};
  unsigned char *cover = (unsigned char *)malloc(9 * 400);
  long checked = 0;
  for (size_t ri = 0; ri < 4; ri++)
    for (int mi = 0; mi < 4; mi++)
      for (size_t ni = 0; ni < 5; ni++)
        for (size_t pi = 0; pi < 4; pi++) {
          dwconv_geometry g;
          size_t rows = rowss[ri], n = ns[ni], p = ps[pi];
          ck_assert_int_eq(dwconv__geometry_init(&g, k_modes[mi], rows, n, p), DWCONV_SUCCESS);
          size_t len = g.out_len;
          for (size_t a = 0; a < 6; a++)
            for (size_t b = 0; b < 7; b++)
              for (size_t c = 0; c < 7; c++) {
                size_t mr = max_rowss[a], mo = max_outs[b], al = aligns[c];
                size_t al1 = al ? al : 1;
                dwconv_chunking ch;
                dwconv__chunking_init(&ch, &g, mr, mo, al);
                size_t count = dwconv__chunk_count(&ch);
                checked++;
                if (ch.rows_per_chunk < 1 || ch.rows_per_chunk > (mr ? mr : 1) ||
                    ch.outs_per_chunk < 1 || ch.outs_per_chunk > len ||
                    (ch.outs_per_chunk < len && ch.outs_per_chunk % al1 != 0) ||
                    (ch.outs_per_chunk < len && ch.outs_per_chunk > (mo > al1 ? mo : al1)) ||
                    count != ch.row_chunks * ch.out_chunks) {
                  tc_fail(&f, "rows=%zu n=%zu p=%zu %s max_rows=%zu max_out=%zu align=%zu: "
                          "rows_per_chunk %zu outs_per_chunk %zu",
                          rows, n, p, tc_mode_name(k_modes[mi]), mr, mo, al, ch.rows_per_chunk,
                          ch.outs_per_chunk);
                  continue;
                }
                memset(cover, 0, rows * len);
                int bad = 0;
                for (size_t idx = 0; idx < count && !bad; idx++) {
                  dwconv_chunk k;
                  dwconv__chunk_get(&ch, &g, idx, &k);
                  if (k.row_count == 0 || k.out_count == 0 || k.row_begin + k.row_count > rows ||
                      k.out_begin + k.out_count > len || k.row_count > ch.rows_per_chunk ||
                      k.out_count > ch.outs_per_chunk || k.out_begin % ch.outs_per_chunk != 0 ||
                      k.in_count != k.out_count + p - 1 ||
                      k.in_begin != (ptrdiff_t)(g.full_offset + k.out_begin) - (ptrdiff_t)(p - 1)) {
                    tc_fail(&f, "rows=%zu n=%zu p=%zu %s max_rows=%zu max_out=%zu align=%zu: chunk %zu "
                            "rows [%zu,+%zu) outs [%zu,+%zu) in [%td,+%zu)",
                            rows, n, p, tc_mode_name(k_modes[mi]), mr, mo, al, idx, k.row_begin,
                            k.row_count, k.out_begin, k.out_count, k.in_begin, k.in_count);
                    bad = 1;
                    break;
                  }
                  if (len > ch.outs_per_chunk && al1 <= len && k.out_begin % al1 != 0) {
                    tc_fail(&f, "n=%zu p=%zu align=%zu: chunk %zu starts at %zu, not a multiple of align",
                            n, p, al, idx, k.out_begin);
                    bad = 1;
                    break;
                  }
                  for (size_t r = k.row_begin; r < k.row_begin + k.row_count; r++)
                    for (size_t o = k.out_begin; o < k.out_begin + k.out_count; o++)
                      cover[r * len + o]++;
                }
                if (bad) continue;
                for (size_t i = 0; i < rows * len; i++)
                  if (cover[i] != 1) {
                    tc_fail(&f, "rows=%zu n=%zu p=%zu %s max_rows=%zu max_out=%zu align=%zu: "
                            "cell (%zu,%zu) covered %d times",
                            rows, n, p, tc_mode_name(k_modes[mi]), mr, mo, al, i / len, i % len,
                            cover[i]);
                    break;
                  }
              }
        }
  free(cover);
  ck_assert_msg(checked > 10000, "only %ld chunkings checked", checked);
  ck_assert_msg(f.count == 0, "%ld chunking failures; first: %s", f.count, f.first);
}
END_TEST

/* 1 when v's only prime factors are 2, 3, 5, 7 (1 included). */
static int is_smooth7(size_t v) {
  if (v == 0) return 0;
  static const size_t pr[] = {2, 3, 5, 7};
  for (int i = 0; i < 4; i++)
    while (v % pr[i] == 0) v /= pr[i];
  return v == 1;
}

/* qsort comparator for size_t. */
static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* dwconv__next_smooth7 against brute force for n in 0..5000, and for large n against a
 * sorted list of every 7-smooth number that fits in size_t. */
START_TEST(test_next_smooth7) {
  tc_failures f = {0};
  for (size_t n = 0; n <= 5000; n++) {
    size_t want = n < 1 ? 1 : n;
    while (!is_smooth7(want)) want++;
    size_t got = dwconv__next_smooth7(n);
    if (got != want) tc_fail(&f, "next_smooth7(%zu) = %zu, want %zu", n, got, want);
  }
  /* All 7-smooth numbers <= SIZE_MAX (about 70k of them). */
  size_t cap = 1 << 17, cnt = 0;
  size_t *all = (size_t *)malloc(cap * sizeof *all);
  for (size_t a = 1;; a *= 7) {
    for (size_t b = a;; b *= 5) {
      for (size_t c = b;; c *= 3) {
        for (size_t d = c;; d *= 2) {
          ck_assert(cnt < cap);
          all[cnt++] = d;
          if (d > SIZE_MAX / 2) break;
        }
        if (c > SIZE_MAX / 3) break;
      }
      if (b > SIZE_MAX / 5) break;
    }
    if (a > SIZE_MAX / 7) break;
  }
  qsort(all, cnt, sizeof *all, cmp_size);
  tc_rng r;
  tc_rng_seed(&r, 77);
  for (int t = 0; t < 20000; t++) {
    size_t n;
    if (t < 64) n = ((size_t)1 << (t % 64)) + (t & 1);                /* 2^k + 0/1 */
    else if (t < 200) n = all[tc_rng_range(&r, 0, cnt - 1)] + (t % 3) - 1; /* around smooth values */
    else n = (size_t)(tc_rng_u64(&r) >> tc_rng_range(&r, 0, 60));
    /* Smallest element >= n by binary search. */
    size_t lo = 0, hi = cnt;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (all[mid] < n) lo = mid + 1;
      else hi = mid;
    }
    size_t want = lo < cnt ? all[lo] : 0;
    if (n == 0) want = 1;
    size_t got = dwconv__next_smooth7(n);
    if (got != want) tc_fail(&f, "next_smooth7(%zu) = %zu, want %zu", n, got, want);
  }
  ck_assert_uint_eq(dwconv__next_smooth7(SIZE_MAX), 0); /* 2^64-1 is not 7-smooth, nothing above */
  ck_assert_uint_eq(dwconv__next_smooth7(all[cnt - 1]), all[cnt - 1]);
  ck_assert_uint_eq(dwconv__next_smooth7(all[cnt - 1] + 1), 0);
  free(all);
  ck_assert_msg(f.count == 0, "%ld next_smooth7 failures; first: %s", f.count, f.first);
}
END_TEST

/* dwconv__correlation_taps: convolve reverses, correlate copies, for both dtypes. */
START_TEST(test_correlation_taps) {
  for (size_t p = 1; p <= 9; p++) {
    double sd[9], dd[9];
    float sf[9], df[9];
    for (size_t t = 0; t < p; t++) sd[t] = sf[t] = (float)(t + 1) * 1.5f;
    dwconv__correlation_taps(DWCONV_OP_CONVOLVE, DWCONV_FLOAT64, sd, p, dd);
    dwconv__correlation_taps(DWCONV_OP_CONVOLVE, DWCONV_FLOAT32, sf, p, df);
    for (size_t t = 0; t < p; t++) {
      ck_assert_msg(dd[t] == sd[p - 1 - t] && df[t] == sf[p - 1 - t], "convolve taps p=%zu t=%zu", p, t);
    }
    dwconv__correlation_taps(DWCONV_OP_CORRELATE, DWCONV_FLOAT64, sd, p, dd);
    dwconv__correlation_taps(DWCONV_OP_CORRELATE, DWCONV_FLOAT32, sf, p, df);
    for (size_t t = 0; t < p; t++)
      ck_assert_msg(dd[t] == sd[t] && df[t] == sf[t], "correlate taps p=%zu t=%zu", p, t);
  }
}
END_TEST

/* The suite. */
static Suite *make_suite(void) {
  Suite *s = suite_create("geometry");
  TCase *tc = tcase_create("geometry");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_geometry_init_small);
  tcase_add_test(tc, test_geometry_init_errors);
  tcase_add_test(tc, test_overlap_save_blocks);
  tcase_add_test(tc, test_chunking_cover);
  tcase_add_test(tc, test_next_smooth7);
  tcase_add_test(tc, test_correlation_taps);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "test_geometry", make_suite); }
