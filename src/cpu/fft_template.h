/* Overlap-save on FFTW, instantiated for float and double by fft_fftw.c.
 * Before including, define DW_T (float/double), DW_X(name) (fftwf_name / fftw_name) and
 * DW_SFX(name) (a suffix for this file's function names).
 *
 * Two neighbouring real overlap-save blocks of the same row travel through one complex
 * transform: z = a_b + i a_(b+1). The kernel is real, so multiplying Z by its spectrum and
 * transforming back gives block b's result in the real part and block b+1's in the imaginary
 * part. One complex pair of transforms of length L costs 0.35-0.7 of two real pairs with
 * FFTW_ESTIMATE plans for L <= 4096 (measured; docs/PERFORMANCE.md). Blocks of different rows
 * are never paired: a row's rounding error and any NaN or Inf stay within that row. A row's
 * last block, when the row has an odd number of them, uses the real transforms. */

typedef DW_T DW_SFX(cplx)[2];

/* Input and output buffers (L complex values each) of thread `tid`. */
static DW_SFX(cplx) *DW_SFX(in_buf)(const dwconv_cpu_fft *f, int tid) {
  return (DW_SFX(cplx) *)(f->buf_mem + (size_t)tid * f->buf_stride);
}
static DW_SFX(cplx) *DW_SFX(out_buf)(const dwconv_cpu_fft *f, int tid) {
  return (DW_SFX(cplx) *)(f->buf_mem + (size_t)tid * f->buf_stride + f->out_offset);
}

/* Creates the real (r2c, c2r) or, with cplx, the complex (forward, backward) plans for length
 * n on the given buffers with FFTW planner flags `flags` (FFTW_ESTIMATE, or FFTW_MEASURE when
 * tuning: that overwrites the buffers); the caller holds the planner lock. Returns 0 on
 * failure. */
static int DW_SFX(plan_pair)(size_t n, int cplx, unsigned flags, void *in, void *out, void **p1, void **p2) {
  DW_X(plan) a, b;
  if (dwconv__fault_hit(DWCONV_FAULT_FFTW_PLAN)) return 0;
  if (cplx) {
    a = DW_X(plan_dft_1d)((int)n, (DW_X(complex) *)in, (DW_X(complex) *)out, FFTW_FORWARD, flags);
    b = DW_X(plan_dft_1d)((int)n, (DW_X(complex) *)in, (DW_X(complex) *)out, FFTW_BACKWARD, flags);
  } else {
    a = DW_X(plan_dft_r2c_1d)((int)n, (DW_T *)in, (DW_X(complex) *)out, flags);
    b = DW_X(plan_dft_c2r_1d)((int)n, (DW_X(complex) *)out, (DW_T *)in, flags);
  }
  if (a == NULL || b == NULL) {
    if (a) DW_X(destroy_plan)(a);
    if (b) DW_X(destroy_plan)(b);
    return 0;
  }
  *p1 = (void *)a;
  *p2 = (void *)b;
  return 1;
}

static void DW_SFX(plan_free)(void *p1, void *p2) {
  if (p1) DW_X(destroy_plan)((DW_X(plan))p1);
  if (p2) DW_X(destroy_plan)((DW_X(plan))p2);
}

/* One spectrum row into k: FFT of b' zero-padded to L, scaled by 1/L, bins 0..L/2 (the rest
 * follow from K[L-j] = conj K[j]); b' = b (convolve) or b reversed (correlate). Uses thread
 * tid's buffers. */
static void DW_SFX(kernel_row)(const dwconv_cpu_fft *f, int tid, const DW_T *b, DW_SFX(cplx) *k) {
  const size_t L = f->L, P = f->prob.geom.p, nc = f->nc;
  const int rev = f->prob.desc.op == DWCONV_OP_CORRELATE;
  const DW_T scale = (DW_T)1 / (DW_T)L;
  DW_T *re = (DW_T *)DW_SFX(in_buf)(f, tid);
  DW_SFX(cplx) *z = DW_SFX(out_buf)(f, tid);
  for (size_t j = 0; j < P; j++) re[j] = rev ? b[P - 1 - j] : b[j];
  memset(re + P, 0, (L - P) * sizeof *re);
  DW_X(execute_dft_r2c)((DW_X(plan))f->r2c, re, (DW_X(complex) *)z);
  for (size_t j = 0; j < nc; j++) {
    k[j][0] = z[j][0] * scale;
    k[j][1] = z[j][1] * scale;
  }
}

/* Every kernel row's spectrum into f->spectrum (krows x nc). */
static void DW_SFX(set_kernel)(dwconv_cpu_fft *f, const DW_T *B, ptrdiff_t ldb) {
  DW_SFX(cplx) *spec = (DW_SFX(cplx) *)f->spectrum;
  const ptrdiff_t rows = (ptrdiff_t)f->krows;
  const int threads = (double)rows * (double)f->L < SERIAL_POINTS ? 1 : dwconv__threads_cap(f->threads);
  (void)threads; /* unused without OpenMP */
  const int grab = dwconv__omp_grab(rows, threads);
  (void)grab;
#pragma omp parallel for schedule(dynamic, grab) num_threads(threads) if (threads > 1 && rows > 1)
  for (ptrdiff_t r = 0; r < rows; r++)
    DW_SFX(kernel_row)(f, dw_thread_id(), B + r * ldb, spec + (size_t)r * f->nc);
}

/* Slots [0, n) of both lanes: the real lane from x (zeros when x is NULL), the imaginary lane
 * from y (likewise). One loop per case, so each one vectorises. */
DW_CLONES static void DW_SFX(fill2)(DW_SFX(cplx) *in, size_t n, const DW_T *x, const DW_T *y) {
  if (x != NULL && y != NULL) {
    for (size_t j = 0; j < n; j++) {
      in[j][0] = x[j];
      in[j][1] = y[j];
    }
  } else if (x != NULL) {
    for (size_t j = 0; j < n; j++) {
      in[j][0] = x[j];
      in[j][1] = 0;
    }
  } else if (y != NULL) {
    for (size_t j = 0; j < n; j++) {
      in[j][0] = 0;
      in[j][1] = y[j];
    }
  } else {
    memset(in, 0, n * sizeof *in);
  }
}

/* Blocks b and b+1 of row a into the real and imaginary lanes, zeros outside A. The slots
 * are cut at the points where either block enters or leaves A, so every piece is one
 * vectorised pass. (At P = 4095, mode same, every block pair reaches past an end of A; the
 * former per-lane strided loop there took 16% of the profile, and cutting it took the reused
 * plan from 8.7 to 8.0 ms.) */
static void DW_SFX(gather2)(const dwconv_geometry *g, size_t L, const DW_T *a, size_t b,
                            DW_SFX(cplx) *in) {
  const ptrdiff_t N = (ptrdiff_t)g->n, Ls = (ptrdiff_t)L;
  const ptrdiff_t s0 = dwconv__os_segment_start(g, b), s1 = dwconv__os_segment_start(g, b + 1);
  ptrdiff_t lo0, hi0, lo1, hi1; /* slots holding A, per lane */
  dwconv__window_clip(s0, Ls, N, &lo0, &hi0);
  dwconv__window_clip(s1, Ls, N, &lo1, &hi1);
  ptrdiff_t cut[6] = {0, lo0, hi0, lo1, hi1, Ls};
  for (int i = 1; i < 6; i++) /* insertion sort of six values */
    for (int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
      ptrdiff_t t = cut[j];
      cut[j] = cut[j - 1];
      cut[j - 1] = t;
    }
  for (int i = 0; i < 5; i++) {
    const ptrdiff_t u = cut[i], v = cut[i + 1];
    if (u == v) continue;
    /* No cut lies inside (u, v): each lane is wholly inside or outside A here. */
    const DW_T *x = lo0 <= u && v <= hi0 ? a + (s0 + u) : NULL;
    const DW_T *y = lo1 <= u && v <= hi1 ? a + (s1 + u) : NULL;
    DW_SFX(fill2)(in + u, (size_t)(v - u), x, y);
  }
}

/* The exact samples of blocks b (real lane) and b+1 (imaginary lane) into output row c. */
DW_CLONES static void DW_SFX(scatter2)(const dwconv_geometry *g, const DW_SFX(cplx) *out, DW_T *c,
                                       size_t b) {
  const size_t S = g->block_step, first = b * S;
  const DW_SFX(cplx) *src = out + (g->p - 1);
  size_t n1 = g->out_len - first - S < S ? g->out_len - first - S : S; /* block b+1 may be short */
  DW_T *c0 = c + first, *c1 = c + first + S;
  size_t j = 0;
  for (; j < n1; j++) {
    c0[j] = src[j][0];
    c1[j] = src[j][1];
  }
  for (; j < S; j++) c0[j] = src[j][0];
}

/* w[j] = z[j] * k[j] for j < n (w may be z). */
DW_CLONES static void DW_SFX(mul_bins)(size_t n, const DW_SFX(cplx) *z, const DW_SFX(cplx) *k,
                                       DW_SFX(cplx) *w) {
  for (size_t j = 0; j < n; j++) {
    DW_T zr = z[j][0], zi = z[j][1], kr = k[j][0], ki = k[j][1];
    w[j][0] = zr * kr - zi * ki;
    w[j][1] = zr * ki + zi * kr;
  }
}

/* w = z * K pointwise over the full circle of L bins, K stored for bins 0..L/2 only (the
 * kernel is real: K[L-j] = conj K[j]); the upper half walks the stored bins backwards. */
DW_CLONES static void DW_SFX(mul_full)(size_t L, const DW_SFX(cplx) *z, const DW_SFX(cplx) *k,
                                       DW_SFX(cplx) *w) {
  const size_t nc = L / 2 + 1;
  DW_SFX(mul_bins)(nc, z, k, w);
  const DW_SFX(cplx) *zu = z + nc;
  DW_SFX(cplx) *wu = w + nc;
  const size_t nu = L - nc; /* bins nc..L-1 use conj(K[L-nc-q]) for q = 0..nu-1 */
  for (size_t q = 0; q < nu; q++) {
    size_t h = nu - q; /* = L - (nc + q), in 1..L/2-1 */
    DW_T zr = zu[q][0], zi = zu[q][1], kr = k[h][0], ki = -k[h][1];
    wu[q][0] = zr * kr - zi * ki;
    wu[q][1] = zr * ki + zi * kr;
  }
}

/* A single block through the real transforms (a row's odd last block): stride-1 real data. */
static void DW_SFX(single_block)(const dwconv_cpu_fft *f, int tid, const DW_T *a, const DW_SFX(cplx) *k,
                                 DW_T *c, size_t b) {
  const dwconv_geometry *g = &f->prob.geom;
  const ptrdiff_t N = (ptrdiff_t)g->n, Ls = (ptrdiff_t)f->L;
  DW_T *re = (DW_T *)DW_SFX(in_buf)(f, tid);
  DW_SFX(cplx) *z = DW_SFX(out_buf)(f, tid);
  ptrdiff_t s = dwconv__os_segment_start(g, b);
  ptrdiff_t lo, hi;
  dwconv__window_clip(s, Ls, N, &lo, &hi);
  memset(re, 0, (size_t)lo * sizeof *re);
  if (hi > lo) memcpy(re + lo, a + (s + lo), (size_t)(hi - lo) * sizeof *re);
  memset(re + hi, 0, (size_t)(Ls - hi) * sizeof *re);
  DW_X(execute_dft_r2c)((DW_X(plan))f->r2c, re, (DW_X(complex) *)z);
  DW_SFX(mul_bins)(f->nc, z, k, z);
  DW_X(execute_dft_c2r)((DW_X(plan))f->c2r, (DW_X(complex) *)z, re);
  size_t first = b * g->block_step;
  size_t count = g->out_len - first < g->block_step ? g->out_len - first : g->block_step;
  memcpy(c + first, re + (g->p - 1), count * sizeof *re);
}

/* Blocks b and b+1 of row a (or block b alone when it is the row's last and bpr is odd)
 * through thread tid's buffers with spectrum k, into output row c. */
static void DW_SFX(blocks)(const dwconv_cpu_fft *f, int tid, const DW_T *a, const DW_SFX(cplx) *k, DW_T *c,
                           size_t b) {
  const dwconv_geometry *g = &f->prob.geom;
  if (b + 1 == g->blocks_per_row) {
    DW_SFX(single_block)(f, tid, a, k, c, b);
    return;
  }
  DW_SFX(cplx) *in = DW_SFX(in_buf)(f, tid), *out = DW_SFX(out_buf)(f, tid);
  DW_SFX(gather2)(g, f->L, a, b, in);
  DW_X(execute_dft)((DW_X(plan))f->fwd, (DW_X(complex) *)in, (DW_X(complex) *)out);
  DW_SFX(mul_full)(f->L, out, k, in);
  DW_X(execute_dft)((DW_X(plan))f->bwd, (DW_X(complex) *)in, (DW_X(complex) *)out);
  DW_SFX(scatter2)(g, out, c, b);
}

/* Every row's blocks, as pairs (b, b+1) through the complex transforms plus the odd last
 * block through the real ones; work items are (row, pair) and do not depend on the thread
 * count, so neither do the results. */
static void DW_SFX(execute)(dwconv_cpu_fft *f, const DW_T *A, ptrdiff_t lda, DW_T *C,
                            ptrdiff_t ldc) {
  const dwconv_geometry *g = &f->prob.geom;
  const size_t bpr = g->blocks_per_row, L = f->L, per_row = (bpr + 1) / 2;
  const ptrdiff_t units = (ptrdiff_t)(g->rows * per_row);
  const DW_SFX(cplx) *spec = (const DW_SFX(cplx) *)f->spectrum;
  const size_t spec_stride = f->krows > 1 ? f->nc : 0;
  /* Small runs stay on one thread: waking a team costs more than they do. */
  const int threads = (double)g->rows * (double)bpr * (double)L < SERIAL_POINTS ? 1 : dwconv__threads_cap(f->threads);
  (void)threads; /* unused without OpenMP */
  const int grab = dwconv__omp_grab(units, threads);
  (void)grab;
#pragma omp parallel for schedule(dynamic, grab) num_threads(threads) if (threads > 1 && units > 1)
  for (ptrdiff_t u = 0; u < units; u++) {
    const size_t m = (size_t)u / per_row, b = 2 * ((size_t)u % per_row);
    DW_SFX(blocks)(f, dw_thread_id(), A + (ptrdiff_t)m * lda, spec + m * spec_stride, C + (ptrdiff_t)m * ldc, b);
  }
}

/* One shot with one kernel row per signal row: each row's spectrum is made in thread tid's
 * slot of kbuf (threads x nc) just before that row's blocks use it, instead of all rows'
 * spectra first. Same transforms and arithmetic as set_kernel + execute, so the same bits;
 * what goes is the rows x nc spectrum array: its allocation, first-touch page faults and a
 * round trip through memory. Work items are whole rows (the caller uses this only when
 * there are several rows per thread). */
static void DW_SFX(convolve_rows)(const dwconv_cpu_fft *f, const DW_T *A, ptrdiff_t lda, const DW_T *B,
                                  ptrdiff_t ldb, DW_T *C, ptrdiff_t ldc, DW_SFX(cplx) *kbuf) {
  const dwconv_geometry *g = &f->prob.geom;
  const ptrdiff_t rows = (ptrdiff_t)g->rows;
  const int threads = (double)g->rows * (double)(g->blocks_per_row + 1) * (double)f->L < SERIAL_POINTS ? 1 : dwconv__threads_cap(f->threads);
  (void)threads; /* unused without OpenMP */
  const int grab = dwconv__omp_grab(rows, threads);
  (void)grab;
#pragma omp parallel for schedule(dynamic, grab) num_threads(threads) if (threads > 1 && rows > 1)
  for (ptrdiff_t m = 0; m < rows; m++) {
    const int tid = dw_thread_id();
    DW_SFX(cplx) *k = kbuf + (size_t)tid * f->nc;
    DW_SFX(kernel_row)(f, tid, B + m * ldb, k);
    for (size_t b = 0; b < g->blocks_per_row; b += 2)
      DW_SFX(blocks)(f, tid, A + m * lda, k, C + m * ldc, b);
  }
}
