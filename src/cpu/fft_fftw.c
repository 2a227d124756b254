/* CPU FFT path: overlap-save with FFTW3, two real blocks per complex transform; see cpu_fft.h. Plans are made once
 * per length and cached process-wide (FFTW_ESTIMATE, so creating a plan stays cheap) and run
 * from many threads at once through FFTW's new-array execute functions, which are
 * thread-safe; each thread owns one aligned buffer pair. */
#include "cpu_fft.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#ifdef DWCONV_HAVE_FFTW
#include <fftw3.h>
#include <pthread.h>
#endif
/* Hot loops of the FFT path get AVX-512 / AVX2 clones picked at load time by the CPU. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DW_CLONES
#endif

/* Below this many transform points a call stays on one thread. */
#define SERIAL_POINTS 65536.0

#ifdef _OPENMP
#include <omp.h>
#define dw_thread_id() omp_get_thread_num()
#else
#define dw_thread_id() 0
#endif

struct dwconv_cpu_fft {
  dwconv_problem prob;
  size_t L, nc;          /* transform length; real-transform bins L/2+1 */
  int threads;
  struct plan_entry *plans; /* shared FFTW plans from the cache */
  void *r2c, *c2r;       /* real pair: kernel spectra and a row's odd last block */
  void *fwd, *bwd;       /* complex pair (NULL when rows have one block): two blocks at once */
  void *spectrum;        /* krows x nc complex, scaled by 1/L */
  size_t krows;
  unsigned char *buf_mem; /* threads x buf_stride bytes: input and output, L complex each */
  size_t buf_stride, out_offset;
  size_t bytes;
};

#ifdef DWCONV_HAVE_FFTW

/* The FFTW planner (plan creation and destruction) is not thread-safe: one lock for the
 * whole library. Callers who also plan with FFTW themselves must not do so concurrently. */
static pthread_mutex_t planner_mutex = PTHREAD_MUTEX_INITIALIZER;
static void mutex_lock(void) { pthread_mutex_lock(&planner_mutex); }
static void mutex_unlock(void) { pthread_mutex_unlock(&planner_mutex); }
/* fork() while another thread plans would leave the child a locked mutex (and FFTW's planner
 * mid-change) forever: the lock is taken around fork, so the child starts with a consistent
 * planner and a free lock. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void install_atfork(void) { (void)pthread_atfork(mutex_lock, mutex_unlock, mutex_unlock); }
static void planner_lock(void) {
  pthread_once(&atfork_once, install_atfork);
  mutex_lock();
}
static void planner_unlock(void) { mutex_unlock(); }

#define DW_T float
#define DW_X(name) fftwf_##name
#define DW_SFX(name) name##_f32
#include "fft_template.h"
#undef DW_T
#undef DW_X
#undef DW_SFX

#define DW_T double
#define DW_X(name) fftw_##name
#define DW_SFX(name) name##_f64
#include "fft_template.h"

void dwconv__fftw_lock(void) { planner_lock(); }
void dwconv__fftw_unlock(void) { planner_unlock(); }

/* ---- a process-wide cache of FFTW plan pairs ----
 * Even FFTW_ESTIMATE planning costs 1-4 ms per length on the development machine, more than
 * a whole small convolution, so plan pairs are kept by (dtype, L) and shared between dwconv
 * plans (FFTW's new-array execute is thread-safe). All dwconv buffers are 64-byte aligned,
 * so one FFTW plan serves every buffer. Unused pairs are kept up to CACHE_IDLE_MAX, oldest
 * freed first, so memory stays bounded over any number of create/destroy cycles. When new
 * wisdom arrives (dwconv_fft_tune / dwconv_fft_wisdom_import) every cached pair becomes
 * stale: idle ones are freed at once, pairs still in use when their last user lets go, and
 * no stale pair is handed out again, so the next plan is made from the new wisdom. */
#define CACHE_IDLE_MAX 8

typedef struct plan_entry {
  int f64;
  size_t L;
  void *r2c, *c2r; /* always made */
  void *fwd, *bwd; /* made on first need */
  size_t refs;
  int stale;               /* made before the latest wisdom: never handed out again */
  struct plan_entry *next; /* most recently used first */
} plan_entry;

static plan_entry *plan_cache;

static int make_pair(plan_entry *e, int cplx, void *in, void *out) {
  if (cplx)
    return e->f64 ? plan_pair_f64(e->L, 1, FFTW_ESTIMATE, in, out, &e->fwd, &e->bwd)
                  : plan_pair_f32(e->L, 1, FFTW_ESTIMATE, in, out, &e->fwd, &e->bwd);
  return e->f64 ? plan_pair_f64(e->L, 0, FFTW_ESTIMATE, in, out, &e->r2c, &e->c2r)
                : plan_pair_f32(e->L, 0, FFTW_ESTIMATE, in, out, &e->r2c, &e->c2r);
}

static void free_entry(plan_entry *e) {
  if (e->f64) {
    plan_free_f64(e->r2c, e->c2r);
    plan_free_f64(e->fwd, e->bwd);
  } else {
    plan_free_f32(e->r2c, e->c2r);
    plan_free_f32(e->fwd, e->bwd);
  }
  dwconv__free(e);
}

/* Returns a referenced cache entry for (dtype, L) holding the real plans and, when cplx, the
 * complex ones, creating what is missing on the given 64-byte aligned buffers; NULL on
 * failure (the cache is left as it was). */
static plan_entry *plan_acquire(int f64, size_t L, int cplx, void *in, void *out) {
  planner_lock();
  plan_entry **pp = &plan_cache, *e;
  for (e = plan_cache; e != NULL; pp = &e->next, e = e->next)
    if (e->f64 == f64 && e->L == L && !e->stale) break;
  int fresh = e == NULL;
  if (fresh) {
    e = (plan_entry *)dwconv__malloc(sizeof *e);
    if (e == NULL) {
      planner_unlock();
      return NULL;
    }
    memset(e, 0, sizeof *e);
    e->f64 = f64;
    e->L = L;
    if (!make_pair(e, 0, in, out)) {
      free_entry(e);
      planner_unlock();
      return NULL;
    }
  } else {
    *pp = e->next; /* unlink; relinked at the front below */
  }
  if (cplx && e->fwd == NULL && !make_pair(e, 1, in, out)) {
    if (fresh) {
      free_entry(e);
    } else {
      e->next = plan_cache;
      plan_cache = e;
    }
    planner_unlock();
    return NULL;
  }
  e->refs++;
  e->next = plan_cache;
  plan_cache = e;
  planner_unlock();
  return e;
}

/* Drops a reference; frees idle stale pairs and the least recently used idle pairs beyond
 * CACHE_IDLE_MAX. */
static void plan_release(plan_entry *rel) {
  planner_lock();
  rel->refs--;
  size_t idle = 0;
  for (plan_entry **pp = &plan_cache; *pp != NULL;) {
    plan_entry *e = *pp;
    if (e->refs == 0 && (e->stale || ++idle > CACHE_IDLE_MAX)) {
      *pp = e->next;
      free_entry(e);
    } else {
      pp = &e->next;
    }
  }
  planner_unlock();
}

void dwconv__fft_cache_stale_locked(void) {
  for (plan_entry **pp = &plan_cache; *pp != NULL;) {
    plan_entry *e = *pp;
    if (e->refs == 0) {
      *pp = e->next;
      free_entry(e);
    } else {
      e->stale = 1;
      pp = &e->next;
    }
  }
}

dwconv_status dwconv__cpu_fft_tune(const dwconv_problem *prob) {
  const size_t L = prob->geom.block_len, es = prob->elem_size;
  if (L > (size_t)INT_MAX)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "FFT length %zu exceeds FFTW's int limit", L);
  size_t bytes;
  if (!dwconv__mul_ok(L, 2 * es, &bytes) || bytes > SIZE_MAX / 2 - 64)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "FFT tuning buffers overflow (L = %zu)", L);
  bytes = (bytes + 63) & ~(size_t)63;
  unsigned char *buf = (unsigned char *)dwconv__malloc(2 * bytes);
  if (buf == NULL)
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating FFT tuning buffers (%zu bytes)", 2 * bytes);
  const int f64 = prob->desc.dtype == DWCONV_FLOAT64;
  int ok = 1;
  planner_lock();
  /* The plans themselves are dropped again: what stays is FFTW's wisdom, which every later
   * FFTW_ESTIMATE planning of these transforms picks up. */
  const int kinds = prob->geom.blocks_per_row > 1 ? 2 : 1; /* complex pair only when used */
  for (int cplx = 0; cplx < kinds && ok; cplx++) {
    void *p1 = NULL, *p2 = NULL;
    ok = f64 ? plan_pair_f64(L, cplx, FFTW_MEASURE, buf, buf + bytes, &p1, &p2)
             : plan_pair_f32(L, cplx, FFTW_MEASURE, buf, buf + bytes, &p1, &p2);
    if (ok) {
      if (f64)
        plan_free_f64(p1, p2);
      else
        plan_free_f32(p1, p2);
    }
  }
  dwconv__fft_cache_stale_locked();
  planner_unlock();
  dwconv__free(buf);
  if (!ok) return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "FFTW could not plan transforms of length %zu", L);
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cpu_fft_create(const dwconv_problem *prob, dwconv_cpu_fft **out) {
  *out = NULL;
  dwconv_cpu_fft *f = (dwconv_cpu_fft *)dwconv__malloc(sizeof *f);
  if (f == NULL) return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating the FFT state");
  memset(f, 0, sizeof *f);
  f->prob = *prob;
  f->L = prob->geom.block_len;
  f->nc = f->L / 2 + 1;
  f->threads = prob->threads;
  f->krows = prob->geom.rows;
  if (f->L > (size_t)INT_MAX) {
    dwconv__free(f);
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "FFT length %zu exceeds FFTW's int limit", prob->geom.block_len);
  }
  size_t es = prob->elem_size, cplx_bytes = 0, total = 0, spec_bytes = 0;
  int ok = dwconv__mul_ok(f->L, 2 * es, &cplx_bytes) && cplx_bytes <= SIZE_MAX - 63;
  if (ok) cplx_bytes = (cplx_bytes + 63) & ~(size_t)63;
  f->out_offset = cplx_bytes;
  ok = ok && dwconv__add_ok(cplx_bytes, cplx_bytes, &f->buf_stride) &&
       dwconv__mul_ok(f->buf_stride, (size_t)f->threads, &total) &&
       dwconv__mul_ok(f->krows, f->nc * 2 * es, &spec_bytes);
  if (!ok) {
    dwconv__free(f);
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "FFT workspace size overflows (L = %zu)",
                         prob->geom.block_len);
  }
  f->buf_mem = (unsigned char *)dwconv__malloc(total);
  if (f->buf_mem == NULL) {
    dwconv__free(f);
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating FFT buffers (%zu bytes)", total);
  }
  f->plans = plan_acquire(prob->desc.dtype == DWCONV_FLOAT64, f->L, prob->geom.blocks_per_row > 1, f->buf_mem,
                          f->buf_mem + f->out_offset);
  if (f->plans == NULL) {
    size_t L = f->L;
    dwconv__free(f->buf_mem);
    dwconv__free(f);
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "FFTW could not plan transforms of length %zu", L);
  }
  f->r2c = f->plans->r2c;
  f->c2r = f->plans->c2r;
  f->fwd = f->plans->fwd;
  f->bwd = f->plans->bwd;
  f->bytes = sizeof *f + total;
  *out = f;
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cpu_fft_set_kernel(dwconv_cpu_fft *f, const void *B, ptrdiff_t ldb) {
  size_t krows = ldb == 0 ? 1 : f->prob.geom.rows;
  size_t bytes = krows * f->nc * 2 * f->prob.elem_size; /* checked at create */
  if (f->spectrum == NULL || f->krows != krows) {
    void *spec = dwconv__malloc(bytes);
    if (spec == NULL)
      return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating the kernel spectrum (%zu bytes)", bytes);
    if (f->spectrum) {
      dwconv__free(f->spectrum);
      f->bytes -= f->krows * f->nc * 2 * f->prob.elem_size;
    }
    f->spectrum = spec;
    f->bytes += bytes;
  }
  f->krows = krows;
  if (f->prob.desc.dtype == DWCONV_FLOAT64)
    set_kernel_f64(f, (const double *)B, ldb);
  else
    set_kernel_f32(f, (const float *)B, ldb);
  return DWCONV_SUCCESS;
}

void dwconv__cpu_fft_execute(dwconv_cpu_fft *f, const void *A, ptrdiff_t lda, void *C, ptrdiff_t ldc) {
  if (f->prob.desc.dtype == DWCONV_FLOAT64)
    execute_f64(f, (const double *)A, lda, (double *)C, ldc);
  else
    execute_f32(f, (const float *)A, lda, (float *)C, ldc);
}

int dwconv__cpu_fft_fuses(const dwconv_cpu_fft *f, ptrdiff_t ldb) {
  /* Whole rows are the work items there: with fewer than ~4 rows per thread the (row, pair)
   * items of execute balance better. */
  return ldb != 0 && f->prob.geom.rows >= 4 * (size_t)f->threads;
}

dwconv_status dwconv__cpu_fft_convolve(dwconv_cpu_fft *f, const void *A, ptrdiff_t lda, const void *B,
                                       ptrdiff_t ldb, void *C, ptrdiff_t ldc) {
  /* threads x nc complex: no larger than the transform buffers checked at create. */
  size_t bytes = (size_t)f->threads * f->nc * 2 * f->prob.elem_size;
  void *kbuf = dwconv__malloc(bytes);
  if (kbuf == NULL)
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating per-thread kernel spectra (%zu bytes)", bytes);
  if (f->prob.desc.dtype == DWCONV_FLOAT64)
    convolve_rows_f64(f, (const double *)A, lda, (const double *)B, ldb, (double *)C, ldc, (cplx_f64 *)kbuf);
  else
    convolve_rows_f32(f, (const float *)A, lda, (const float *)B, ldb, (float *)C, ldc, (cplx_f32 *)kbuf);
  dwconv__free(kbuf);
  return DWCONV_SUCCESS;
}

size_t dwconv__cpu_fft_bytes(const dwconv_cpu_fft *f) { return f->bytes; }

void dwconv__cpu_fft_destroy(dwconv_cpu_fft *f) {
  if (f == NULL) return;
  if (f->plans != NULL) plan_release(f->plans);
  dwconv__free(f->spectrum);
  dwconv__free(f->buf_mem);
  dwconv__free(f);
}

const char *dwconv__cpu_fft_version(void) { return fftw_version; }

#else /* !DWCONV_HAVE_FFTW: the front end never picks FFT; these keep the link whole. */

const char *dwconv__cpu_fft_version(void) { return "none"; }

dwconv_status dwconv__cpu_fft_create(const dwconv_problem *prob, dwconv_cpu_fft **out) {
  (void)prob;
  *out = NULL;
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "this dwconv was built without FFTW");
}
dwconv_status dwconv__cpu_fft_set_kernel(dwconv_cpu_fft *f, const void *B, ptrdiff_t ldb) {
  (void)f; (void)B; (void)ldb;
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "this dwconv was built without FFTW");
}
void dwconv__cpu_fft_execute(dwconv_cpu_fft *f, const void *A, ptrdiff_t lda, void *C, ptrdiff_t ldc) {
  (void)f; (void)A; (void)lda; (void)C; (void)ldc;
}
int dwconv__cpu_fft_fuses(const dwconv_cpu_fft *f, ptrdiff_t ldb) { (void)f; (void)ldb; return 0; }
dwconv_status dwconv__cpu_fft_convolve(dwconv_cpu_fft *f, const void *A, ptrdiff_t lda, const void *B,
                                       ptrdiff_t ldb, void *C, ptrdiff_t ldc) {
  (void)f; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc;
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "this dwconv was built without FFTW");
}
size_t dwconv__cpu_fft_bytes(const dwconv_cpu_fft *f) { (void)f; return 0; }
void dwconv__cpu_fft_destroy(dwconv_cpu_fft *f) { (void)f; }
dwconv_status dwconv__cpu_fft_tune(const dwconv_problem *prob) {
  (void)prob;
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "this dwconv was built without FFTW");
}

#endif
