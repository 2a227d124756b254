/* The CPU backend: the table of functions the front end calls, and the direct path's work
 * split. Work is cut into fixed (row, output range) chunks from the shared geometry; the cut
 * depends only on the problem, never on the thread count, so results are bitwise identical
 * for any number of threads. Chunks are handed out dynamically (dwconv__omp_grab): on a
 * machine where another process holds a core, the free thread takes more chunks instead of
 * waiting at the end for the slowed one (measured: static halves cost 8 ms instead of 0.9 ms
 * at P = 3 then). */
#include <stdlib.h>
#include <string.h>

#include "cpu_fft.h"
#include "direct_kernels.h"
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#define dw_thread_id() omp_get_thread_num()
#else
#define dw_thread_id() 0
#endif

/* Output samples per direct work chunk: large enough to amortise the per-chunk edge set-up,
 * small enough that rows shorter than the thread count still spread over all cores. */
#define DIRECT_CHUNK_OUTS 4096
/* Below this many multiply-adds a run stays on one thread (thread start-up costs more). */
#define SERIAL_MACS 65536.0

typedef struct cpu_state {
  dwconv_problem prob;
  const dwconv_direct_impl *impl;
  dwconv_chunking chunks;     /* direct: the work split */
  void *taps;                 /* direct: krows x P correlation taps */
  size_t krows;
  /* Direct with P > N: the roles swap (convolution commutes), so each output costs N
   * multiply-adds instead of P: the taps, zero-padded by N-1 on both sides, become the signal
   * and the row of A the taps. krows x (P + 2N - 2) elements. */
  int swap;
  void *kpad;
  size_t kpad_len;
  unsigned char *scratch;     /* direct: threads x scratch_stride bytes, edge windows */
  size_t scratch_stride;
  dwconv_cpu_fft *fft;        /* FFT path */
  size_t bytes;
} cpu_state;

static void cpu_destroy(void *vs) {
  cpu_state *s = (cpu_state *)vs;
  if (s == NULL) return;
  dwconv__cpu_fft_destroy(s->fft);
  dwconv__free(s->taps);
  dwconv__free(s->kpad);
  dwconv__free(s->scratch);
  dwconv__free(s);
}

/* Test hook: DWCONV_CPU_CHUNK_OUTS overrides the chunk size so tests can show that the split
 * does not change results. */
static size_t direct_chunk_outs(void) {
  const char *e = getenv("DWCONV_CPU_CHUNK_OUTS");
  if (e != NULL) {
    long v = strtol(e, NULL, 10);
    if (v > 0) return (size_t)v;
  }
  return DIRECT_CHUNK_OUTS;
}

static dwconv_status cpu_create(const dwconv_problem *prob, void **out) {
  cpu_state *s = (cpu_state *)dwconv__malloc(sizeof *s);
  if (s == NULL) return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating the CPU plan state");
  memset(s, 0, sizeof *s);
  s->prob = *prob;
  s->bytes = sizeof *s;
  if (prob->desc.algo == DWCONV_ALGO_FFT) {
    dwconv_status st = dwconv__cpu_fft_create(prob, &s->fft);
    if (st != DWCONV_SUCCESS) {
      cpu_destroy(s);
      return st;
    }
    s->bytes += dwconv__cpu_fft_bytes(s->fft);
    *out = s;
    return DWCONV_SUCCESS;
  }
  s->impl = dwconv__direct_select();
  s->swap = prob->geom.p > prob->geom.n;
  s->kpad_len = prob->geom.p + 2 * (prob->geom.n - 1); /* P > N: no overflow (N+P-1 fits) */
  size_t outs = direct_chunk_outs();
  dwconv__chunking_init(&s->chunks, &prob->geom, outs / prob->geom.out_len + 1, outs, 1);
  /* An edge window holds up to one chunk of outputs plus the P-1 samples they reach over;
   * with swapped roles scratch holds just one chunk of reversed outputs. */
  size_t elems, bytes, total;
  if (!dwconv__add_ok(s->chunks.outs_per_chunk, s->swap ? 0 : prob->geom.p, &elems) ||
      !dwconv__mul_ok(elems, prob->elem_size, &bytes) ||
      !dwconv__mul_ok((bytes + 63) & ~(size_t)63, (size_t)prob->threads, &total)) {
    cpu_destroy(s);
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "direct scratch size overflows (P = %zu)", prob->geom.p);
  }
  s->scratch_stride = (bytes + 63) & ~(size_t)63;
  s->scratch = (unsigned char *)dwconv__malloc(total);
  if (s->scratch == NULL) {
    cpu_destroy(s);
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating direct scratch (%zu bytes)", total);
  }
  s->bytes += total;
  *out = s;
  return DWCONV_SUCCESS;
}

static dwconv_status cpu_set_kernel(void *vs, const void *B, ptrdiff_t ldb) {
  cpu_state *s = (cpu_state *)vs;
  if (s->fft != NULL) return dwconv__cpu_fft_set_kernel(s->fft, B, ldb);
  const size_t P = s->prob.geom.p, N = s->prob.geom.n, es = s->prob.elem_size;
  const size_t krows = ldb == 0 ? 1 : s->prob.geom.rows;
  const size_t row_elems = s->swap ? s->kpad_len : P;
  void **dst = s->swap ? &s->kpad : &s->taps;
  size_t elems, bytes;
  if (!dwconv__mul_ok(krows, row_elems, &elems) || !dwconv__mul_ok(elems, es, &bytes))
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "kernel storage overflows");
  if (*dst == NULL || s->krows != krows) {
    void *t = dwconv__malloc(bytes);
    if (t == NULL)
      return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating kernel taps (%zu bytes)", bytes);
    if (*dst != NULL) s->bytes -= s->krows * row_elems * es;
    dwconv__free(*dst);
    *dst = t;
    s->krows = krows;
    s->bytes += bytes;
  }
  for (size_t r = 0; r < krows; r++) {
    unsigned char *row = (unsigned char *)*dst + r * row_elems * es;
    size_t pad = s->swap ? N - 1 : 0;
    memset(row, 0, pad * es);
    dwconv__correlation_taps(s->prob.desc.op, s->prob.desc.dtype,
                             (const unsigned char *)B + r * (size_t)ldb * es, P, row + pad * es);
    memset(row + (pad + P) * es, 0, pad * es);
  }
  return DWCONV_SUCCESS;
}

/* Outputs [lo, hi) of one row whose windows reach past an end of A: copy the windows' span
 * with zeros outside A into scratch and run the same kernel on it. */
static void direct_edge(const cpu_state *s, int tid, const unsigned char *a, const void *k,
                        unsigned char *c, size_t lo, size_t hi) {
  if (lo >= hi) return;
  const dwconv_geometry *g = &s->prob.geom;
  const size_t es = s->prob.elem_size;
  const ptrdiff_t n = (ptrdiff_t)g->n;
  unsigned char *w = s->scratch + (size_t)tid * s->scratch_stride;
  ptrdiff_t start = dwconv__window_start(g, lo);
  ptrdiff_t len = (ptrdiff_t)(hi - lo + g->p - 1);
  ptrdiff_t in_lo, in_hi; /* window slots holding A */
  dwconv__window_clip(start, len, n, &in_lo, &in_hi);
  memset(w, 0, (size_t)in_lo * es);
  if (in_hi > in_lo)
    memcpy(w + (size_t)in_lo * es, a + (size_t)(start + in_lo) * es, (size_t)(in_hi - in_lo) * es);
  memset(w + (size_t)in_hi * es, 0, (size_t)(len - in_hi) * es);
  if (s->prob.desc.dtype == DWCONV_FLOAT64)
    s->impl->f64((const double *)w, (const double *)k, g->p, (double *)c + lo, hi - lo);
  else
    s->impl->f32((const float *)w, (const float *)k, g->p, (float *)c + lo, hi - lo);
}

/* One work chunk with swapped roles (P > N): z[j] = sum_u Kpad[w0 + j + u] a[u] is output
 * out_len-1-j, so the chunk's outputs come out reversed through scratch. */
static void direct_chunk_swapped(const cpu_state *s, int tid, const unsigned char *a, size_t m,
                                 unsigned char *c, size_t o0, size_t o1) {
  const dwconv_geometry *g = &s->prob.geom;
  const size_t es = s->prob.elem_size, count = o1 - o0;
  const unsigned char *kp = (const unsigned char *)s->kpad + (s->krows > 1 ? m : 0) * s->kpad_len * es;
  /* w0 = P - off - out_len >= 1 - N, so the window start stays inside the padded row. */
  ptrdiff_t w0 = (ptrdiff_t)g->p - (ptrdiff_t)g->full_offset - (ptrdiff_t)g->out_len;
  const unsigned char *x = kp + (size_t)(w0 + (ptrdiff_t)(g->n - 1) + (ptrdiff_t)(g->out_len - o1)) * es;
  unsigned char *z = s->scratch + (size_t)tid * s->scratch_stride;
  if (s->prob.desc.dtype == DWCONV_FLOAT64) {
    s->impl->f64((const double *)x, (const double *)a, g->n, (double *)z, count);
    for (size_t q = 0; q < count; q++) ((double *)c)[o0 + q] = ((const double *)z)[count - 1 - q];
  } else {
    s->impl->f32((const float *)x, (const float *)a, g->n, (float *)z, count);
    for (size_t q = 0; q < count; q++) ((float *)c)[o0 + q] = ((const float *)z)[count - 1 - q];
  }
}

/* Outputs [o0, o1) of row m, split into left edge, interior and right edge. */
static void direct_row(const cpu_state *s, int tid, const unsigned char *A, ptrdiff_t lda,
                       unsigned char *C, ptrdiff_t ldc, size_t m, size_t o0, size_t o1) {
  const dwconv_geometry *g = &s->prob.geom;
  const size_t es = s->prob.elem_size;
  const unsigned char *a = A + (size_t)((ptrdiff_t)m * lda) * es;
  unsigned char *c = C + (size_t)((ptrdiff_t)m * ldc) * es;
  if (s->swap) {
    direct_chunk_swapped(s, tid, a, m, c, o0, o1);
    return;
  }
  const void *k = (const unsigned char *)s->taps + (s->krows > 1 ? m : 0) * g->p * es;
  size_t ib = g->interior_begin, ie = g->interior_end;
  size_t i0 = o0 > ib ? o0 : ib, i1 = o1 < ie ? o1 : ie;
  if (i0 >= i1) { /* no interior here: the whole chunk is edge */
    direct_edge(s, tid, a, k, c, o0, o1);
    return;
  }
  direct_edge(s, tid, a, k, c, o0, i0);
  const unsigned char *x = a + (size_t)dwconv__window_start(g, i0) * es;
  if (s->prob.desc.dtype == DWCONV_FLOAT64)
    s->impl->f64((const double *)x, (const double *)k, g->p, (double *)c + i0, i1 - i0);
  else
    s->impl->f32((const float *)x, (const float *)k, g->p, (float *)c + i0, i1 - i0);
  direct_edge(s, tid, a, k, c, i1, o1);
}

/* One work chunk: a band of rows (short rows are grouped so a chunk is worth a grab) times an
 * output range. */
static void direct_chunk(const cpu_state *s, int tid, const unsigned char *A, ptrdiff_t lda,
                         unsigned char *C, ptrdiff_t ldc, size_t idx) {
  dwconv_chunk ch;
  dwconv__chunk_get(&s->chunks, &s->prob.geom, idx, &ch);
  for (size_t m = ch.row_begin; m < ch.row_begin + ch.row_count; m++)
    direct_row(s, tid, A, lda, C, ldc, m, ch.out_begin, ch.out_begin + ch.out_count);
}

static dwconv_status cpu_execute(void *vs, const void *A, ptrdiff_t lda, void *C, ptrdiff_t ldc) {
  cpu_state *s = (cpu_state *)vs;
  if (s->fft != NULL) {
    dwconv__cpu_fft_execute(s->fft, A, lda, C, ldc);
    return DWCONV_SUCCESS;
  }
  const dwconv_geometry *g = &s->prob.geom;
  const ptrdiff_t n_chunks = (ptrdiff_t)dwconv__chunk_count(&s->chunks);
  const double macs = (double)g->rows * (double)g->out_len * (double)(s->swap ? g->n : g->p);
  const int threads = macs < SERIAL_MACS ? 1 : dwconv__threads_cap(s->prob.threads);
  (void)threads; /* unused without OpenMP */
  const int grab = dwconv__omp_grab(n_chunks, threads);
  (void)grab;
#pragma omp parallel for schedule(dynamic, grab) num_threads(threads) if (threads > 1 && n_chunks > 1)
  for (ptrdiff_t i = 0; i < n_chunks; i++)
    direct_chunk(s, dw_thread_id(), (const unsigned char *)A, lda, (unsigned char *)C, ldc, (size_t)i);
  return DWCONV_SUCCESS;
}

/* Whether the byte spans of B (rows x ldb, last row P) and C (rows x ldc, last row out_len)
 * share any byte. Strides are >= 0 and the spans were checked to fit at validation. */
static int b_overlaps_c(const cpu_state *s, const void *B, ptrdiff_t ldb, const void *C, ptrdiff_t ldc) {
  const dwconv_geometry *g = &s->prob.geom;
  int ok;
  size_t b_bytes = dwconv__span_bytes(g->rows, (size_t)ldb, g->p, s->prob.elem_size, &ok);
  size_t c_bytes = dwconv__span_bytes(g->rows, (size_t)ldc, g->out_len, s->prob.elem_size, &ok);
  return dwconv__bytes_overlap(B, b_bytes, C, c_bytes);
}

/* dwconv_convolve's call: the FFT path's fused one-shot when it applies, else the two steps.
 * The fused path reads row m of B after rows < m of C are written, so it is not taken when B
 * and C overlap (B may alias anything; the two steps copy all of B first). Found by fuzz_api
 * (tests/fuzz/corpus_api/regress-fused-oneshot-b-aliases-c; test_oneshot_b_aliases_c). */
static dwconv_status cpu_convolve(void *vs, const void *A, ptrdiff_t lda, const void *B, ptrdiff_t ldb,
                                  void *C, ptrdiff_t ldc) {
  cpu_state *s = (cpu_state *)vs;
  if (s->fft != NULL && dwconv__cpu_fft_fuses(s->fft, ldb) && !b_overlaps_c(s, B, ldb, C, ldc))
    return dwconv__cpu_fft_convolve(s->fft, A, lda, B, ldb, C, ldc);
  dwconv_status st = cpu_set_kernel(vs, B, ldb);
  return st != DWCONV_SUCCESS ? st : cpu_execute(vs, A, lda, C, ldc);
}

static void cpu_get_info(const void *vs, dwconv_plan_info *info) {
  const cpu_state *s = (const cpu_state *)vs;
  info->workspace_bytes = s->bytes;
  info->simd = s->impl != NULL ? s->impl->name : "fftw";
}

const char *dwconv__cpu_simd_name(void) { return dwconv__direct_select()->name; }

const dwconv_backend_ops dwconv__cpu_ops = {
    "cpu", cpu_create, cpu_set_kernel, cpu_execute, NULL, cpu_get_info, cpu_destroy, cpu_convolve,
};
