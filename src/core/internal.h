/* Internal interfaces shared by the front end (src/core) and the backends (src/cpu, src/cuda).
 * Nothing here is public: the library is built with hidden visibility. */
#ifndef DWCONV_INTERNAL_H
#define DWCONV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dwconv.h"
#include "geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors: one thread-local detail message (error.c) ---- */

/* Records a printf-style detail message for dwconv_last_error() and returns status, so a
 * failure reads `return dwconv__error(DWCONV_ERROR_..., "what: %zu", x);`. */
dwconv_status dwconv__error(dwconv_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Clears this thread's detail message (called at the start of each public entry point). */
void dwconv__clear_error(void);

/* ---- host memory (alloc.c): every host allocation goes through here ---- */

/* 64-byte aligned, uninitialised; NULL on failure (also when a test injects a failure).
 * Free with dwconv__free. */
void *dwconv__malloc(size_t bytes);
void dwconv__free(void *p);

/* ---- fault injection (alloc.c), for tests: every place that can fail for lack of a
 * resource asks dwconv__fault_hit(site) first and fails as if the resource were refused. ---- */
typedef enum dwconv_fault_site {
  DWCONV_FAULT_HOST_ALLOC = 0, /* dwconv__malloc */
  DWCONV_FAULT_FFTW_PLAN,      /* FFTW plan creation */
  DWCONV_FAULT_CUDA_MALLOC,    /* cudaMalloc */
  DWCONV_FAULT_CUDA_HOST_ALLOC, /* cudaMallocHost (pinned staging; refusal falls back to pageable) */
  DWCONV_FAULT_CUFFT_PLAN,     /* cuFFT plan creation */
  DWCONV_FAULT_CUBLAS_HANDLE,  /* cuBLAS handle creation (cublasCreate) */
  DWCONV_FAULT_SITES
} dwconv_fault_site;
/* Makes the n-th call at `site` from now fail (1 = the next one); 0 disables. Returns how many
 * calls reached the site since the previous dwconv__fault_inject for it. */
size_t dwconv__fault_inject(dwconv_fault_site site, size_t n);
/* Counts a call at `site`; returns 1 when that call must fail. */
int dwconv__fault_hit(dwconv_fault_site site);
/* Same as dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, n). */
size_t dwconv__fault_inject_alloc(size_t n);

/* Checked arithmetic: return 0 and leave *out alone on overflow. */
static inline int dwconv__mul_ok(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}
static inline int dwconv__add_ok(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return 0;
  *out = a + b;
  return 1;
}
/* Saturating arithmetic: SIZE_MAX means "does not fit anywhere", which every comparison
 * against a memory budget then handles. */
static inline size_t dwconv__sat_mul(size_t a, size_t b) {
  size_t r;
  return dwconv__mul_ok(a, b, &r) ? r : SIZE_MAX;
}
static inline size_t dwconv__sat_add(size_t a, size_t b) {
  size_t r;
  return dwconv__add_ok(a, b, &r) ? r : SIZE_MAX;
}

/* Bytes spanned by `rows` rows of `len` elements at stride ld (ld = 0: one row), or 0 with
 * *ok = 0 when that does not fit in ptrdiff_t (strides and pointer offsets must). */
static inline size_t dwconv__span_bytes(size_t rows, size_t ld, size_t len, size_t elem, int *ok) {
  size_t elems, last, bytes;
  *ok = dwconv__mul_ok(rows - 1, ld, &last) && dwconv__add_ok(last, len, &elems) &&
        dwconv__mul_ok(elems, elem, &bytes) && bytes <= (size_t)PTRDIFF_MAX;
  return *ok ? bytes : 0;
}

/* Whether [p, p + pb) and [q, q + qb) share a byte (spans already checked not to wrap). */
static inline int dwconv__bytes_overlap(const void *p, size_t pb, const void *q, size_t qb) {
  const uintptr_t p0 = (uintptr_t)p, q0 = (uintptr_t)q;
  return p0 < q0 + qb && q0 < p0 + pb;
}

static inline size_t dwconv__dtype_size(dwconv_dtype t) { return t == DWCONV_FLOAT64 ? 8 : 4; }

/* Work items a CPU thread takes at a time from a dynamic OpenMP loop of n items: about 16
 * grabs per thread, so a thread slowed by another process is covered by the others, while
 * tens of thousands of tiny items do not each pay for a grab. Which thread runs an item never
 * changes its result. */
static inline int dwconv__omp_grab(ptrdiff_t n, int threads) {
  ptrdiff_t g = n / ((ptrdiff_t)threads * 16);
  return g < 1 ? 1 : g > 1 << 20 ? 1 << 20 : (int)g;
}

/* threads.c: the thread count to use now: `threads`, or 1 in a process forked from a
 * multi-threaded one when the OpenMP runtime is GNU libgomp (a multi-threaded region there
 * would hang forever). Call it right before every parallel region and for reported counts. */
int dwconv__threads_cap(int threads);

/* ---- the problem a backend receives: validated, with AUTO choices resolved ---- */
typedef struct dwconv_problem {
  dwconv_desc desc;       /* backend and algo are never AUTO here */
  dwconv_geometry geom;   /* output slice, overlap-save blocks */
  size_t elem_size;       /* bytes per element */
  int threads;            /* CPU threads to use, >= 1 */
  dwconv_constants_source constants_source; /* where the cost model's constants came from */
} dwconv_problem;

/* A backend is this table. The front end validates every argument before calling it, so a
 * backend trusts its inputs. */
typedef struct dwconv_backend_ops {
  const char *name;
  /* Allocate buffers and plans for prob; on failure free everything and return the status. */
  dwconv_status (*create)(const dwconv_problem *prob, void **state);
  /* Copy and prepare the kernel (taps or spectrum). ldb is 0 (broadcast) or >= P. */
  dwconv_status (*set_kernel)(void *state, const void *B, ptrdiff_t ldb);
  /* Run on A (lda 0 or >= N) into C (ldc >= out_len); C does not overlap A. */
  dwconv_status (*execute)(void *state, const void *A, ptrdiff_t lda, void *C, ptrdiff_t ldc);
  /* Optional (NULL: not supported by this backend). */
  dwconv_status (*set_stream)(void *state, void *stream);
  void (*get_info)(const void *state, dwconv_plan_info *info);
  void (*destroy)(void *state);
  /* Optional: set_kernel + execute in one call for dwconv_convolve, when the backend can do
   * it better (the CPU FFT path skips storing every row's spectrum). NULL: not offered. The
   * result must be bitwise what set_kernel + execute would give. */
  dwconv_status (*convolve)(void *state, const void *A, ptrdiff_t lda, const void *B, ptrdiff_t ldb,
                            void *C, ptrdiff_t ldc);
} dwconv_backend_ops;

extern const dwconv_backend_ops dwconv__cpu_ops;
#ifdef DWCONV_HAVE_CUDA
extern const dwconv_backend_ops dwconv__cuda_ops;
#endif
/* Makes FFTW_MEASURE plans (FFTW wisdom) for prob's block length, real and complex, then
 * marks the CPU FFT plan cache stale so later plans use them (fft_fftw.c). NOT_SUPPORTED
 * without FFTW. */
dwconv_status dwconv__cpu_fft_tune(const dwconv_problem *prob);
/* FFTW's version string ("none" in a build without FFTW), part of a calibration file's key. */
const char *dwconv__cpu_fft_version(void);
/* Name of the CPU direct kernel variant for the running CPU (cpu_backend.c). */
const char *dwconv__cpu_simd_name(void);
/* Usable CUDA devices (0 without CUDA, driver or GPU); never fails. */
int dwconv__cuda_device_count(void);
/* Fills *info for a device index already checked against the count (cuda_device.c). */
dwconv_status dwconv__cuda_device_info(int device, dwconv_device_info *info);
/* The calling thread's current CUDA device (the one a new CUDA plan uses): name and compute
 * capability; 0 when the runtime cannot tell (cuda_device.c). */
int dwconv__cuda_current_device_id(char *name, size_t len, int *cc_major, int *cc_minor);
/* 1 when p is device memory (cudaMalloc: not readable from the host); 0 for host, pinned or
 * managed memory, and when the runtime cannot tell. */
int dwconv__cuda_is_device_memory(const void *p);

/* ---- cost model (cost_model.c) ---- */

/* Chooses the algorithm (when desc.algo is AUTO) and the overlap-save block length for
 * prob->desc.backend; fills prob->desc.algo and prob->geom's block fields. fft_available says
 * whether the backend can run the FFT path in this build. */
dwconv_status dwconv__choose_algorithm(dwconv_problem *prob, int fft_available);

/* Correlation taps: dst[t] is what multiplies A[s + t] for the output whose window starts at
 * s. For CONVOLVE that is B reversed, for CORRELATE B itself. Works on float or double. */
void dwconv__correlation_taps(dwconv_op op, dwconv_dtype dtype, const void *src, size_t p,
                              void *dst);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_INTERNAL_H */
