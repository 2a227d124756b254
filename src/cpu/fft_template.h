/* Overlap-save on FFTW, instantiated for float and double by fft_fftw.c.
 * Before including, define DW_T (float/double), DW_X(name) (fftwf_name / fftw_name) and
 * DW_SFX(name) (a suffix for this file's function names). */

typedef DW_T DW_SFX(cplx)[2];

/* Real buffer (L samples) and complex buffer (L/2+1 values) of thread `tid`. */
static DW_T *DW_SFX(real_buf)(const dwconv_cpu_fft *f, int tid) {
  return (DW_T *)(f->buf_mem + (size_t)tid * f->buf_stride);
}
static DW_SFX(cplx) *DW_SFX(cplx_buf)(const dwconv_cpu_fft *f, int tid) {
  return (DW_SFX(cplx) *)(f->buf_mem + (size_t)tid * f->buf_stride + f->cplx_offset);
}

/* Creates the forward and inverse plans for length n (caller holds the planner lock). */
static int DW_SFX(plan_pair)(size_t n, void *re, void *cx, void **r2c, void **c2r) {
  DW_X(plan) a = DW_X(plan_dft_r2c_1d)((int)n, (DW_T *)re, (DW_X(complex) *)cx, FFTW_ESTIMATE);
  DW_X(plan) b = DW_X(plan_dft_c2r_1d)((int)n, (DW_X(complex) *)cx, (DW_T *)re, FFTW_ESTIMATE);
  if (a == NULL || b == NULL) {
    if (a) DW_X(destroy_plan)(a);
    if (b) DW_X(destroy_plan)(b);
    return 0;
  }
  *r2c = (void *)a;
  *c2r = (void *)b;
  return 1;
}

static void DW_SFX(plan_free)(void *r2c, void *c2r) {
  DW_X(destroy_plan)((DW_X(plan))r2c);
  DW_X(destroy_plan)((DW_X(plan))c2r);
}

/* Spectrum row r = FFT(b' zero-padded to L) / L, b' = B (convolve) or B reversed (correlate). */
static void DW_SFX(set_kernel)(dwconv_cpu_fft *f, const DW_T *B, ptrdiff_t ldb) {
  const size_t L = f->L, P = f->prob.geom.p, nc = f->nc;
  const int rev = f->prob.desc.op == DWCONV_OP_CORRELATE;
  const DW_T scale = (DW_T)1 / (DW_T)L;
  DW_SFX(cplx) *spec = (DW_SFX(cplx) *)f->spectrum;
  ptrdiff_t rows = (ptrdiff_t)f->krows;
#pragma omp parallel for schedule(static) num_threads(f->threads) if (rows > 1)
  for (ptrdiff_t r = 0; r < rows; r++) {
    int tid = dw_thread_id();
    DW_T *re = DW_SFX(real_buf)(f, tid);
    DW_SFX(cplx) *cx = DW_SFX(cplx_buf)(f, tid);
    const DW_T *b = B + r * ldb;
    for (size_t j = 0; j < P; j++) re[j] = rev ? b[P - 1 - j] : b[j];
    memset(re + P, 0, (L - P) * sizeof(DW_T));
    DW_X(execute_dft_r2c)((DW_X(plan))f->r2c, re, (DW_X(complex) *)cx);
    DW_SFX(cplx) *out = spec + (size_t)r * nc;
    for (size_t j = 0; j < nc; j++) {
      out[j][0] = cx[j][0] * scale;
      out[j][1] = cx[j][1] * scale;
    }
  }
}

/* One overlap-save block: gather the zero-padded segment, transform, multiply, transform
 * back, and write the block's exact samples into the output row. */
static void DW_SFX(block)(const dwconv_cpu_fft *f, int tid, const DW_T *a, const DW_SFX(cplx) *spec,
                          DW_T *c, size_t b) {
  const dwconv_geometry *g = &f->prob.geom;
  const ptrdiff_t L = (ptrdiff_t)f->L, N = (ptrdiff_t)g->n;
  DW_T *re = DW_SFX(real_buf)(f, tid);
  DW_SFX(cplx) *cx = DW_SFX(cplx_buf)(f, tid);
  ptrdiff_t s = dwconv__os_segment_start(g, b);
  ptrdiff_t lo = s < 0 ? -s : 0;                 /* first buffer slot holding A */
  ptrdiff_t hi = N - s < L ? N - s : L;          /* one past the last */
  if (hi < lo) hi = lo;
  if (lo > L) lo = hi = L;
  memset(re, 0, (size_t)lo * sizeof(DW_T));
  memcpy(re + lo, a + s + lo, (size_t)(hi - lo) * sizeof(DW_T));
  memset(re + hi, 0, (size_t)(L - hi) * sizeof(DW_T));
  DW_X(execute_dft_r2c)((DW_X(plan))f->r2c, re, (DW_X(complex) *)cx);
  for (size_t j = 0; j < f->nc; j++) {
    DW_T xr = cx[j][0], xi = cx[j][1], kr = spec[j][0], ki = spec[j][1];
    cx[j][0] = xr * kr - xi * ki;
    cx[j][1] = xr * ki + xi * kr;
  }
  DW_X(execute_dft_c2r)((DW_X(plan))f->c2r, (DW_X(complex) *)cx, re);
  size_t first = b * g->block_step;
  size_t count = g->out_len - first < g->block_step ? g->out_len - first : g->block_step;
  memcpy(c + first, re + (g->p - 1), count * sizeof(DW_T));
}

static void DW_SFX(execute)(dwconv_cpu_fft *f, const DW_T *A, ptrdiff_t lda, DW_T *C,
                            ptrdiff_t ldc) {
  const dwconv_geometry *g = &f->prob.geom;
  const size_t bpr = g->blocks_per_row;
  const ptrdiff_t units = (ptrdiff_t)(g->rows * bpr);
  const DW_SFX(cplx) *spec = (const DW_SFX(cplx) *)f->spectrum;
  const size_t spec_stride = f->krows > 1 ? f->nc : 0;
#pragma omp parallel for schedule(static) num_threads(f->threads) if (units > 1)
  for (ptrdiff_t u = 0; u < units; u++) {
    size_t m = (size_t)u / bpr, b = (size_t)u % bpr;
    DW_SFX(block)(f, dw_thread_id(), A + (ptrdiff_t)m * lda, spec + m * spec_stride,
                  C + (ptrdiff_t)m * ldc, b);
  }
}
