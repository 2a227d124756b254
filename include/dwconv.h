/*
 * dwconv -- depthwise (row-wise) 1-D convolution.
 *
 * Given two row-major 2-D arrays A (M x N) and B (M x P) that share their first axis,
 * dwconv computes C[m,:] = convolve(A[m,:], B[m,:]) for every row m, never mixing rows.
 * Output modes match scipy.signal.convolve / scipy.signal.correlate exactly.
 *
 * Typical use:
 *   dwconv_desc d = dwconv_desc_make(M, N, P, DWCONV_FLOAT32);
 *   d.mode = DWCONV_MODE_SAME;
 *   dwconv_plan *plan;
 *   if (dwconv_plan_create(&plan, &d) != DWCONV_SUCCESS) { puts(dwconv_last_error()); ... }
 *   dwconv_plan_set_kernel(plan, B, P);          // once
 *   dwconv_plan_execute(plan, A, N, C, N);       // as often as you like
 *   dwconv_plan_destroy(plan);
 *
 * Thread safety: distinct plans may be used from distinct threads at once. One plan must not
 * be used by two threads at the same time. dwconv_last_error() is per thread. dwconv calls the
 * FFTW planner and wisdom functions (in dwconv_plan_create, dwconv_plan_destroy,
 * dwconv_convolve, dwconv_fft_tune and dwconv_fft_wisdom_export / _import) under its own
 * lock; an application that also plans with FFTW must not do so while another thread is in
 * one of those calls. Wisdom the application gives FFTW directly does not refresh plans dwconv
 * has cached; dwconv_fft_wisdom_import does.
 *
 * fork(): dwconv and CPU plans made before a fork keep working in the child (CUDA plans do
 * not: a CUDA context does not survive fork). In GCC builds (GNU libgomp, whose threads do not
 * survive fork) a child forked from a process running more than one thread computes on one
 * thread (same bits; dwconv_plan_get_info reports 1 thread). This needs dwconv loaded before
 * the fork: a child that first loads it after the fork cannot tell, and can hang in libgomp.
 * fork() waits while another thread is inside dwconv's FFTW planning (e.g. dwconv_fft_tune).
 */
#ifndef DWCONV_H
#define DWCONV_H

#include <stddef.h>

#include "dwconv_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time version. dwconv_version_string() gives the run-time (linked) version. */
#define DWCONV_VERSION_MAJOR 0
#define DWCONV_VERSION_MINOR 1
#define DWCONV_VERSION_PATCH 0
#define DWCONV_VERSION_NUMBER \
  (DWCONV_VERSION_MAJOR * 10000 + DWCONV_VERSION_MINOR * 100 + DWCONV_VERSION_PATCH)

/* Largest desc.threads accepted (more is INVALID_VALUE; thread creation would fail first). */
#define DWCONV_MAX_THREADS 1024

/* Element type of A, B and C (all three share it). */
typedef enum { DWCONV_FLOAT32 = 0, DWCONV_FLOAT64 = 1 } dwconv_dtype;

/* Which samples of the full convolution (length N+P-1) each output row keeps.
 * FULL:   all N+P-1.
 * SAME:   N samples starting at (P-1)/2 of full (scipy "same").
 * VALID:  max(N,P)-min(N,P)+1 samples starting at min(N,P)-1 of full (scipy "valid", P > N allowed).
 * CAUSAL: the first N samples of full (causal-conv1d / SSM layers). */
typedef enum {
  DWCONV_MODE_FULL = 0,
  DWCONV_MODE_SAME = 1,
  DWCONV_MODE_VALID = 2,
  DWCONV_MODE_CAUSAL = 3
} dwconv_mode;

/* CONVOLVE flips B (scipy.signal.convolve); CORRELATE does not (scipy.signal.correlate). */
typedef enum { DWCONV_OP_CONVOLVE = 0, DWCONV_OP_CORRELATE = 1 } dwconv_op;

/* Where the work runs. AUTO: CUDA when this build has it and a GPU is present, else CPU; when
 * the GPU cannot take the plan (DWCONV_ERROR_DEVICE or OUT_OF_MEMORY from plan creation: device
 * memory full, GPU held by another process in exclusive mode, ...) AUTO makes it on the CPU
 * instead (dwconv_plan_get_info tells which); such a plan returns INVALID_VALUE for device
 * memory in A, B or C. CPU: never touches the CUDA runtime. */
typedef enum {
  DWCONV_BACKEND_AUTO = 0,
  DWCONV_BACKEND_CPU = 1,
  DWCONV_BACKEND_CUDA = 2
} dwconv_backend;

/* How the work is done. AUTO: the backend's cost model picks direct or FFT; when it picks FFT
 * but the FFT's memory cannot be had (OUT_OF_MEMORY, e.g. rows x (L/2+1) kernel spectra over
 * desc.device_memory_limit), AUTO takes direct instead (dwconv_plan_get_info tells which).
 * GEMM: CUDA plans only (a CPU plan returns NOT_SUPPORTED): each row's outputs in blocks of T,
 * computed as one batched cuBLAS matrix product against a Toeplitz matrix of the taps, on
 * tensor cores where desc.math allows (docs/CUDA.md). AUTO does not pick GEMM. */
typedef enum {
  DWCONV_ALGO_AUTO = 0,
  DWCONV_ALGO_DIRECT = 1,
  DWCONV_ALGO_FFT = 2,
  DWCONV_ALGO_GEMM = 3
} dwconv_algo;

/* Arithmetic the plan may use. IEEE: float32 or float64 arithmetic throughout (the default,
 * and the only choice for CPU plans and for the direct and FFT paths). TF32 and TF32X3 apply to
 * float32 CUDA plans with ALGO_GEMM only (any other plan returns NOT_SUPPORTED; nothing picks
 * them on its own): TF32 rounds A and B to TF32 (10-bit mantissa) on the tensor cores, about
 * 1e-3 relative error (bound in docs/CUDA.md, the setting PyTorch uses by default for GPU
 * convolutions); TF32X3 splits each operand into a high and a low TF32 part and adds three
 * products, error at the float32 level at a third of TF32's speed. */
typedef enum {
  DWCONV_MATH_IEEE = 0,
  DWCONV_MATH_TF32 = 1,
  DWCONV_MATH_TF32X3 = 2
} dwconv_math;

/* Status codes. The values are pinned and will not change.
 * 1-2: bad parameter, 3: resources, 4-5: not supported here, 6: execution failed,
 * 7: call order, 8: a bug in dwconv (please report it), 9: a file could not be read or written. */
typedef enum {
  DWCONV_SUCCESS = 0,
  DWCONV_ERROR_INVALID_VALUE = 1,  /* NULL pointer, zero length, bad enum, bad stride, C overlaps A,
                                      array not aligned to its element size */
  DWCONV_ERROR_SIZE_OVERFLOW = 2,  /* element or byte counts overflow size_t, or exceed a backend limit */
  DWCONV_ERROR_OUT_OF_MEMORY = 3,  /* a host or device allocation failed */
  DWCONV_ERROR_NOT_SUPPORTED = 4,  /* valid request this build cannot do (e.g. FFT in a build without FFTW) */
  DWCONV_ERROR_NO_DEVICE = 5,      /* CUDA backend requested, but no CUDA build or no usable GPU */
  DWCONV_ERROR_DEVICE = 6,         /* a CUDA runtime or cuFFT call failed */
  DWCONV_ERROR_KERNEL_NOT_SET = 7, /* execute before set_kernel */
  DWCONV_ERROR_INTERNAL = 8,
  DWCONV_ERROR_IO = 9              /* reading or writing a file failed (FFT wisdom files) */
} dwconv_status;

/* Everything that fixes a plan. Make one with dwconv_desc_make(), then change fields. */
typedef struct dwconv_desc {
  size_t rows, signal_len, kernel_len; /* M, N, P; all >= 1 */
  dwconv_dtype dtype;
  dwconv_mode mode;
  dwconv_op op;
  dwconv_backend backend;
  dwconv_algo algo;
  int threads;                /* CPU threads, 0 = all (omp_get_max_threads(), honours OMP_NUM_THREADS);
                                 at most DWCONV_MAX_THREADS */
  size_t device_memory_limit; /* bytes the plan may hold on a GPU, 0 = library default */
  dwconv_math math;           /* IEEE (default); TF32 / TF32X3: float32 CUDA GEMM plans only */
} dwconv_desc;

/* Where the cost model's constants (the figures ALGO_AUTO and the FFT block length are chosen
 * by) came from. BUILTIN: built into the library, adjusted at run time to the CPU's SIMD
 * variant and cache sizes; CALIBRATED: measured on this machine by dwconv_calibrate() and
 * read from the calibration file (see dwconv_calibrate). */
typedef enum { DWCONV_CONSTANTS_BUILTIN = 0, DWCONV_CONSTANTS_CALIBRATED = 1 } dwconv_constants_source;

/* What a plan actually does, filled by dwconv_plan_get_info(). */
typedef struct dwconv_plan_info {
  dwconv_backend backend; /* CPU or CUDA, never AUTO */
  dwconv_algo algo;       /* DIRECT, FFT or GEMM, never AUTO */
  size_t output_len;      /* samples per output row */
  size_t block_len;       /* FFT: overlap-save transform length L; GEMM: input samples per
                             block, K = P + T - 1; DIRECT: 0 */
  size_t block_step;      /* FFT: new output samples per block, L - P + 1; GEMM: outputs per
                             block T; DIRECT: 0 */
  int threads;            /* CPU threads at most (small runs use one); CUDA: 1 */
  size_t workspace_bytes; /* memory the plan holds (host + device), kernel included */
  const char *simd;       /* CPU direct plans: kernel variant "avx512", "avx2" or "portable";
                             CPU FFT plans: "fftw"; CUDA plans: "cuda" */
  dwconv_math math;       /* the arithmetic used: IEEE unless a GEMM plan was asked for TF32 */
  dwconv_constants_source constants_source; /* where the cost model's constants for the
                                               plan's backend came from when the plan was made
                                               (they chose algo under ALGO_AUTO, and block_len) */
} dwconv_plan_info;

typedef struct dwconv_plan dwconv_plan; /* opaque */

/* Returns a descriptor with the given sizes and the defaults: FULL, CONVOLVE, BACKEND_AUTO,
 * ALGO_AUTO, threads 0, device_memory_limit 0, MATH_IEEE. Never fails; dwconv_plan_create validates. */
DWCONV_API dwconv_desc dwconv_desc_make(size_t rows, size_t signal_len, size_t kernel_len,
                                        dwconv_dtype dtype);

/* Samples per output row for this mode, or 0 when the arguments are invalid
 * (zero length, bad mode) or the full length N+P-1 overflows size_t (any mode). */
DWCONV_API size_t dwconv_output_len(dwconv_mode mode, size_t signal_len, size_t kernel_len);

/* Validates *desc and builds a plan: picks backend and algorithm, sizes buffers, makes FFT
 * plans. On success stores the plan in *plan and returns DWCONV_SUCCESS. On failure *plan is
 * set to NULL (when plan is not NULL), nothing is leaked, and the status says why;
 * dwconv_last_error() has the detail. */
DWCONV_API dwconv_status dwconv_plan_create(dwconv_plan **plan, const dwconv_desc *desc);

/* Prepares the kernel B (rows x kernel_len, row stride ldb elements) once: flipped for the
 * direct path, transformed for the FFT path. ldb = 0 uses B's first row for every row;
 * otherwise ldb >= kernel_len. B is copied: the caller may free or change it afterwards.
 * A, B and C must be aligned to their element size (4 or 8 bytes), else INVALID_VALUE.
 * May be called again to replace the kernel. A call refused by the argument checks
 * (INVALID_VALUE, SIZE_OVERFLOW) leaves the previous kernel in place; one that fails later
 * (OUT_OF_MEMORY, DEVICE) leaves the plan without a kernel (execute returns KERNEL_NOT_SET)
 * until a call succeeds. */
DWCONV_API dwconv_status dwconv_plan_set_kernel(dwconv_plan *plan, const void *B, ptrdiff_t ldb);

/* C[m, 0:output_len] = op(A[m, 0:N], kernel[m]) for every row m. Strides in elements:
 * lda = 0 uses A's first row for every kernel (a filter bank), otherwise lda >= N;
 * ldc >= output_len. C must not overlap A. A is not modified. On host data the call is
 * synchronous. Returns DWCONV_ERROR_KERNEL_NOT_SET before dwconv_plan_set_kernel(). */
DWCONV_API dwconv_status dwconv_plan_execute(dwconv_plan *plan, const void *A, ptrdiff_t lda,
                                             void *C, ptrdiff_t ldc);

/* Fills *info with what the plan does (backend, algorithm, block length, threads, memory). */
DWCONV_API dwconv_status dwconv_plan_get_info(const dwconv_plan *plan, dwconv_plan_info *info);

/* CUDA plans: queue work on the given cudaStream_t (NULL = the plan's own streams). With a
 * stream set, execute on device pointers returns as soon as the work is queued on it; the
 * caller synchronizes that stream before reading C. The plan synchronizes the stream it holds
 * when it is replaced and when the plan is destroyed, so the stream must outlive its use:
 * call dwconv_plan_set_stream(plan, NULL) or destroy the plan before cudaStreamDestroy.
 * CPU plans: DWCONV_ERROR_NOT_SUPPORTED. */
DWCONV_API dwconv_status dwconv_plan_set_stream(dwconv_plan *plan, void *cuda_stream);

/* Frees everything the plan holds. NULL is fine. */
DWCONV_API void dwconv_plan_destroy(dwconv_plan *plan);

/* One shot: create a plan for *desc, set kernel B, execute, destroy. Same rules as above. */
DWCONV_API dwconv_status dwconv_convolve(const dwconv_desc *desc, const void *A, ptrdiff_t lda,
                                         const void *B, ptrdiff_t ldb, void *C, ptrdiff_t ldc);

/* A static string naming the status, e.g. "DWCONV_ERROR_INVALID_VALUE: invalid argument".
 * Never NULL, also for values out of range. */
DWCONV_API const char *dwconv_status_string(dwconv_status status);

/* The detail message of this thread's most recent dwconv call that returns a dwconv_status:
 * why it failed, or "" if it succeeded. The other calls (dwconv_desc_make, dwconv_output_len,
 * dwconv_plan_destroy, ...) do not reset it; dwconv_plan_destroy of a CUDA plan may set it
 * when releasing device resources fails. Valid until this thread's next dwconv call. */
DWCONV_API const char *dwconv_last_error(void);

/* Run-time library version, "MAJOR.MINOR.PATCH". */
DWCONV_API const char *dwconv_version_string(void);

/* Number of usable CUDA devices; 0 in a build without CUDA or on a machine with no GPU/driver. */
DWCONV_API int dwconv_cuda_device_count(void);

/* One CUDA device, filled by dwconv_cuda_device_info(). */
typedef struct dwconv_device_info {
  char name[256];           /* e.g. "NVIDIA H100 80GB HBM3" */
  int compute_major, compute_minor; /* compute capability, e.g. 9.0 */
  size_t total_memory;      /* bytes */
  size_t free_memory;       /* bytes free now */
  int multiprocessors;
} dwconv_device_info;

/* Describes CUDA device `device` (0 <= device < dwconv_cuda_device_count()). Returns
 * INVALID_VALUE for a NULL info or a device out of range, NO_DEVICE in a build without CUDA,
 * DEVICE when the CUDA runtime fails. The calling thread's current device is left unchanged. */
DWCONV_API dwconv_status dwconv_cuda_device_info(int device, dwconv_device_info *info);

/* Bit flags of dwconv_build_features(): what this build of the library contains. */
#define DWCONV_FEATURE_CUDA 1u   /* the CUDA backend (a GPU may still be absent) */
#define DWCONV_FEATURE_FFTW 2u   /* the CPU FFT path (FFTW3) */
#define DWCONV_FEATURE_OPENMP 4u /* CPU threads (OpenMP) */

/* The DWCONV_FEATURE_* flags of this build, OR-ed together. */
DWCONV_API unsigned dwconv_build_features(void);

/* The CPU direct kernel variant chosen for the running CPU: "avx512", "avx2" or "portable"
 * (after any cap set with the DWCONV_SIMD environment variable). Never NULL. */
DWCONV_API const char *dwconv_cpu_simd(void);

/* ---- FFT plan tuning (CPU FFT path) ----
 * The CPU FFT path plans its FFTW transforms with FFTW_ESTIMATE: a few milliseconds per
 * transform length, so even a one-shot call stays cheap. Measured plans (FFTW_MEASURE) run
 * transforms of length ~4096 and up 1.3x to 2.9x faster on the development machine (no gain
 * around 1000, docs/PERFORMANCE.md) but take 0.1 to 2 s per length to make (more for lengths
 * far beyond 10^5), so dwconv makes them only when asked. Tuned plans are FFTW "wisdom": every
 * plan created afterwards in this process for a tuned length uses them, and the export /
 * import calls below keep them across processes (a file is valid for the FFTW version and
 * machine that made it). Results from tuned plans differ from untuned ones in the last bits
 * (another FFT algorithm) and meet the same error bounds. These calls hold the library-wide
 * FFTW planner lock: other threads creating or destroying FFT plans wait meanwhile.
 * In a build without FFTW all three return NOT_SUPPORTED (after the argument checks). Any of
 * them returns OUT_OF_MEMORY when a buffer cannot be had. */

/* Makes measured plans for the transform length(s) a CPU FFT plan for *desc uses (desc.algo
 * and desc.backend are taken as FFT and CPU; everything else is validated exactly as
 * dwconv_plan_create does, with the same status codes). Takes 0.1 to a few seconds. */
DWCONV_API dwconv_status dwconv_fft_tune(const dwconv_desc *desc);

/* Writes FFTW's wisdom of this process (both precisions: the tuned plans, plus what FFTW keeps
 * from ordinary planning and any wisdom the application made itself) to the file `path`,
 * replacing it atomically (written and fsync'ed to a temporary file in the same directory,
 * then renamed over `path`; a symlink at `path` is replaced, not followed). IO when the file
 * cannot be written, INVALID_VALUE for a NULL path. */
DWCONV_API dwconv_status dwconv_fft_wisdom_export(const char *path);

/* Adds the tuned plans in `path` (written by dwconv_fft_wisdom_export) to this process.
 * IO when the file cannot be read, INVALID_VALUE for a NULL path or a file that is not
 * dwconv wisdom, has a malformed or out-of-range entry (checked before FFTW sees it: FFTW's
 * own importer would abort the process on some), or that this FFTW rejects (e.g. made by
 * another FFTW version); on failure plans made afterwards are as good as before the call. */
DWCONV_API dwconv_status dwconv_fft_wisdom_import(const char *path);

/* ---- calibration of the cost model ----
 * ALGO_AUTO and the FFT block length are chosen by a cost model. Its built-in constants are
 * adjusted to the CPU at run time; measured ones are better. dwconv_calibrate() measures them
 * on this machine (1-3 s) and saves them in a calibration file, which every later process
 * loads by itself, on its first plan, from:
 *   $DWCONV_CALIBRATION when set ("off" or "": use no file, always the built-in constants),
 *   else $XDG_CACHE_HOME/dwconv/calibration-v1.txt (when XDG_CACHE_HOME is an absolute path),
 *   else $HOME/.cache/dwconv/calibration-v1.txt.
 * A file is used only when it was made for this machine: same CPU model, SIMD variant
 * (dwconv_cpu_simd), default thread count (OMP_NUM_THREADS / omp_get_max_threads), dwconv
 * version and FFTW version. Any other file (missing, unreadable, not a regular file, corrupt,
 * truncated, edited, made elsewhere) is ignored, never trusted: plans then use the built-in
 * constants, and dwconv_calibration_status says why. The constants only steer the choice of
 * algorithm and block length; results are correct whichever constants are used. The file may
 * also hold CUDA constants, keyed by device name and compute capability (docs/PERFORMANCE.md);
 * CUDA plans without an entry for their device use built-in ones. */

/* What dwconv_calibration_status reports. */
typedef struct dwconv_calibration_state {
  dwconv_constants_source source; /* the CPU constants CPU plans made now use */
  char path[1024];   /* the calibration file looked at (or written by dwconv_calibrate);
                        "" when there is no place for one */
  char reason[512];  /* why no calibration file is used (missing, corrupt, other machine, ...);
                        "" when one is */
  char key[512];     /* what a file must have been made for to be used on this machine */
} dwconv_calibration_state;

/* Fills *state: which constants CPU plans use now and, when not a calibration file, why.
 * Loads the file first if no plan has yet. INVALID_VALUE for a NULL state. */
DWCONV_API dwconv_status dwconv_calibration_status(dwconv_calibration_state *state);

/* Measures the cost model's CPU constants on this machine (direct multiply-add and per-output
 * times, FFT block costs for each candidate block length, per-row and per-call overheads; both
 * dtypes, the default thread count; 1-3 s) and saves them to `path`, or, for a NULL
 * path, to the default place above (creating its directory, mode 0700). The file is written
 * atomically (a temporary file in the same directory, fsync'ed, renamed over the old one), so
 * readers and concurrent calibrations never see a torn file. Plans made afterwards in this
 * process use the new constants, also when saving failed. CUDA constants in the file being
 * replaced are kept. Returns IO when the file cannot be written (dwconv_last_error says why),
 * INVALID_VALUE for an empty path or, with a NULL path, when there is no default place
 * (DWCONV_CALIBRATION=off, no HOME), OUT_OF_MEMORY. Run it on a quiet machine: the medians of
 * short repeats absorb brief disturbances, not a machine that is busy throughout. */
DWCONV_API dwconv_status dwconv_calibrate(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_H */
