/*
 * Shared helpers for the dwconv tests: the backend under test, a seeded random generator,
 * typed buffers, a naive long-double reference convolution (scipy.signal semantics, written
 * from the specification, not from the library), error measures and the test runner main().
 *
 * Only the public API (dwconv.h) is used here, so this file links against either the shared
 * library or dwconv_static.
 */
#ifndef DWCONV_TEST_COMMON_H
#define DWCONV_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* TC_ASAN is 1 in an AddressSanitizer build (gcc or clang): heap and RSS checks that ASan's
 * own allocator hides are skipped there, LeakSanitizer covers them instead. */
#if defined(__SANITIZE_ADDRESS__)
#define TC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TC_ASAN 1
#endif
#endif
#ifndef TC_ASAN
#define TC_ASAN 0
#endif

#include "dwconv.h"

#ifdef DWCONV_TEST_USE_SHIM
#include "check_shim.h"
#else
#include <check.h>
#endif

/* Backend under test: DWCONV_BACKEND_CPU ("cpu", the default) or DWCONV_BACKEND_CUDA ("cuda"),
 * set by tc_main() from argv[1] before any test runs. */
extern dwconv_backend tc_backend;

/* Per-test timeout in seconds (Check, fork mode). Generous: the sweeps run for a while on a
 * loaded 2-core machine. ctest has its own TIMEOUT on top. */
#define TC_TIMEOUT_S 900

/* ---- random numbers: splitmix64, deterministic per seed ---- */
typedef struct tc_rng {
  uint64_t s;
} tc_rng;

/* Seeds the generator; equal seeds give equal sequences on every platform. */
void tc_rng_seed(tc_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t tc_rng_u64(tc_rng *r);
/* Uniform in [0, 1). */
double tc_rng_uniform(tc_rng *r);
/* Standard normal (Box-Muller). */
double tc_rng_normal(tc_rng *r);
/* Uniform integer in [lo, hi] (inclusive). */
size_t tc_rng_range(tc_rng *r, size_t lo, size_t hi);

/* ---- typed buffers (float or double, chosen at run time) ---- */

/* Bytes per element of dt (4 or 8). */
size_t tc_esize(dwconv_dtype dt);
/* Zero-filled buffer of `elems` elements of dt (at least one); aborts the process when out
 * of memory. Free with free(). */
void *tc_alloc(size_t elems, dwconv_dtype dt);
/* Element i of buf, widened to long double. */
long double tc_get(const void *buf, dwconv_dtype dt, size_t i);
/* Stores v (rounded to dt) as element i of buf. */
void tc_set(void *buf, dwconv_dtype dt, size_t i, double v);
/* Fills rows x len elements at row stride ld with standard normal values (rounded to dt);
 * the padding between rows (ld > len) is left alone. */
void tc_fill_normal(tc_rng *r, void *buf, dwconv_dtype dt, size_t rows, size_t len, size_t ld);
/* Sets elements [0, count) of buf to v. */
void tc_fill_value(void *buf, dwconv_dtype dt, size_t count, double v);

/* ---- reference (independent of the library) ---- */

/* Output length and offset in the full convolution for a mode, from the specification:
 * full: N+P-1 at 0; same: N at (P-1)/2; valid: max-min+1 at min-1; causal: N at 0. */
size_t tc_out_len(dwconv_mode mode, size_t n, size_t p);
size_t tc_full_offset(dwconv_mode mode, size_t n, size_t p);

/* Full convolution (op CONVOLVE) or correlation (op CORRELATE = convolve with b reversed) of
 * one row a (n elements) with b (p elements), in long double: full[0 .. n+p-2]. When sq is
 * not NULL it receives, per output, the sum of the squared products (the natural scale of
 * that output for random data; see tc_rel_err). */
void tc_ref_full_row(dwconv_op op, const void *a, const void *b, dwconv_dtype dt, size_t n,
                     size_t p, long double *full, long double *sq);

/* Reference output for a whole problem, honouring lda = 0 / ldb = 0 broadcasts. Returns a
 * malloc'd array (free()) of 2 x rows x out_len: first the values ref[m*out_len + i], then
 * (at ref + rows*out_len) the matching sums of squared products. */
long double *tc_ref_problem(const dwconv_desc *d, const void *A, ptrdiff_t lda, const void *B,
                            ptrdiff_t ldb);

/* ---- comparisons ---- */

/* Relative L2 error of one output row c[0..len) against ref:
 *   ||c - ref|| / max(||ref||, 0.5 * sqrt(sum sq))
 * where sq (may be NULL) holds each output's sum of squared products. For random data
 * ||ref||^2 ~ sum sq, so this is the plain relative L2 error; the second term only matters
 * for very short rows whose few outputs cancel by chance (e.g. VALID with N == P: one dot
 * product), where the plain measure would be ill-conditioned. +INFINITY when c holds a NaN
 * or Inf where ref is finite. */
double tc_rel_err(const void *c, dwconv_dtype dt, const long double *ref, const long double *sq,
                  size_t len);
/* The acceptance bound: 1e-5 for float32, 1e-12 for float64. */
double tc_tol(dwconv_dtype dt);
/* Largest per-row relative error of C (rows x out_len at stride ldc) against ref, an array
 * laid out like tc_ref_problem's (values, then sums of squared products). */
double tc_max_row_err(const void *C, ptrdiff_t ldc, dwconv_dtype dt, const long double *ref,
                      size_t rows, size_t out_len);

/* ---- running the library ---- */

/* Descriptor for the backend under test, threads = 1 (tests set other counts explicitly). */
dwconv_desc tc_desc(size_t rows, size_t n, size_t p, dwconv_dtype dt, dwconv_mode mode,
                    dwconv_op op, dwconv_algo algo);
/* Whether this build can run ALGO_FFT on backend b (FFTW present, or CUDA). */
int tc_fft_available(dwconv_backend b);

/* Resident set of this process in KiB (/proc/self/statm), -1 when unknown. */
long tc_rss_kib(void);
/* Plan, set kernel, execute, destroy. Returns the first failing status (SUCCESS if none);
 * on failure copies dwconv_last_error() into err (when err != NULL, errlen bytes). */
dwconv_status tc_run(const dwconv_desc *d, const void *A, ptrdiff_t lda, const void *B,
                     ptrdiff_t ldb, void *C, ptrdiff_t ldc, char *err, size_t errlen);

/* Names for messages. */
const char *tc_mode_name(dwconv_mode m);
const char *tc_op_name(dwconv_op o);
const char *tc_dtype_name(dwconv_dtype t);
const char *tc_algo_name(dwconv_algo a);

/* Case-insensitive substring test (for checking dwconv_last_error() wording). */
int tc_contains_ci(const char *haystack, const char *needle);

/* Collects failures inside a long loop so a sweep asserts once (Check's per-assert overhead
 * is a pipe write in fork mode) yet reports the first few failures in full. */
typedef struct tc_failures {
  long count;
  char first[1024];
} tc_failures;
/* Records one failure (printf-style description); prints the first 10 to stderr. */
void tc_fail(tc_failures *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Records what the test is doing now (printf-style, truncated to 255 chars). If the process
 * then crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL), tc_main's handler prints
 * "crashed while: <context>" to stderr before dying from the signal, so a fault inside the
 * library names the configuration that triggered it. */
void tc_context(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Test runner: parses argv[1] ("cpu" default, or "cuda"); for cuda without a device prints
 * "SKIPPED: <prog>_cuda: no CUDA device" and returns 77. Otherwise runs make_suite()'s suite
 * (CUDA: without fork, since the CUDA runtime is already initialised and does not survive it),
 * prints Check's summary and "N passed, N failed", and returns 0 only when everything
 * passed. */
int tc_main(int argc, char **argv, const char *prog, Suite *(*make_suite)(void));

#endif /* DWCONV_TEST_COMMON_H */
