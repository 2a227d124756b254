/* The CUDA backend's per-plan state and the functions that make up the backend, one file each:
 * cuda_backend.c (table, create, destroy, info, stream), cuda_sizing.c (memory budget and chunk
 * shape), fft_plan.c (cuFFT plans), set_kernel.c, compute.c (one rectangle of work on the
 * device), execute.c (pointer placement, chunk pipeline) and copy.c (strided copies). */
#ifndef DWCONV_CUDA_STATE_H
#define DWCONV_CUDA_STATE_H

#include <cuda_runtime_api.h>
#include <cufft.h>

#include "cuda_kernels.h"
#include "internal.h"

/* Pipeline depth for host data: while one slot computes, the other's copies run. */
#define DWCONV_CUDA_SLOTS 2

/* Where the chunks came from, for get_info and tests. */
typedef struct dwconv_cuda_shape {
  dwconv_chunking chunks; /* rows x outputs per chunk (outputs a multiple of block_step for FFT) */
  size_t in_cap;          /* input samples per row a chunk stages: min(outs + P - 1, N) */
  size_t slots;           /* FFT: transforms per batch, rows_per_chunk * blocks per chunk row */
  size_t kern_bytes;      /* taps or spectrum, all rows */
  size_t stage_bytes;     /* one slot's device input + output buffers */
} dwconv_cuda_shape;

typedef struct dwconv_cuda_state {
  dwconv_problem prob;
  int device;
  int f64;
  size_t es;          /* bytes per element */
  size_t max_pitch;   /* cudaMemcpy2D pitch limit of the device */
  size_t budget;      /* device bytes the plan may hold */

  cudaStream_t streams[DWCONV_CUDA_SLOTS];
  cudaEvent_t computed[DWCONV_CUDA_SLOTS]; /* compute of the slot's last chunk is done */
  cudaStream_t user_stream;                /* set_stream; NULL = the plan's own streams */

  /* Kernel: taps (rows x P, real) for DIRECT, spectrum (rows x (L/2+1), complex) for FFT. */
  void *kern;
  size_t kern_ld; /* elements (DIRECT) or complex bins (FFT) between rows; 0 = one row for all */

  dwconv_cuda_shape shape;
  void *dev_in[DWCONV_CUDA_SLOTS], *dev_out[DWCONV_CUDA_SLOTS];
  void *host_in[DWCONV_CUDA_SLOTS], *host_out[DWCONV_CUDA_SLOTS]; /* pinned staging */
  int pinned;        /* 1: staging made; 0: not (yet) made or refused: copies go straight
                        from/to the caller's memory */
  int staging_ready; /* dwconv__cuda_staging has run (first execute on pageable host data) */

  /* FFT: transform buffer (slots x slot_ld reals, cuFFT in-place layout), plans, workspace. */
  void *fft_buf;
  size_t slot_ld; /* 2 * (L/2 + 1) */
  cufftHandle r2c, c2r;
  int have_r2c, have_c2r;
  void *fft_work;
  size_t fft_work_bytes;

  size_t device_bytes, pinned_bytes; /* for get_info */

  struct dwconv_cuda_gemm *gemm; /* ALGO_GEMM: buffers and cuBLAS handle (gemm.h); else NULL */
} dwconv_cuda_state;

/* cuda_sizing.c: picks the chunk shape for prob within budget device bytes, of which
 * `reserve` are set aside for the cuFFT workspace. env_rows / env_outs (0 = none) cap the
 * chunk (the test-only DWCONV_CUDA_CHUNK_ROWS / _OUTS). OUT_OF_MEMORY when not even one
 * block of one row fits. */
dwconv_status dwconv__cuda_size_chunks(const dwconv_problem *prob, size_t budget, size_t reserve,
                                       size_t env_rows, size_t env_outs, dwconv_cuda_shape *out);

/* fft_plan.c: makes the R2C and C2R plans for s->shape.slots transforms of length L (64-bit
 * API, no auto-allocated workspace) and stores the workspace they need in s->fft_work_bytes.
 * The workspace itself is allocated by the caller. dwconv__cuda_fft_destroy frees the plans
 * and the workspace and may be called on a partly made state. */
dwconv_status dwconv__cuda_fft_plan(dwconv_cuda_state *s);
dwconv_status dwconv__cuda_fft_set_workspace(dwconv_cuda_state *s);
dwconv_status dwconv__cuda_fft_destroy(dwconv_cuda_state *s);

/* compute.c: queues one rectangle of work (device pointers only) on `stream`. */
dwconv_status dwconv__cuda_compute(dwconv_cuda_state *s, const dwconv_cuda_work *w,
                                   cudaStream_t stream);
/* compute.c: forward transform of every slot of the FFT buffer, in place (set_kernel uses it). */
dwconv_status dwconv__cuda_fft_forward(dwconv_cuda_state *s, cudaStream_t stream);

/* copy.c: copies `height` rows of `width` bytes between any two memories (cudaMemcpyDefault),
 * as one 2-D copy when the pitches allow it, else row by row. Queued on stream. */
dwconv_status dwconv__cuda_copy_rows(const dwconv_cuda_state *s, void *dst, size_t dpitch,
                                     const void *src, size_t spitch, size_t width, size_t height,
                                     cudaStream_t stream, const char *what);

/* set_kernel.c / execute.c: the backend table's entries. */
/* cuda_backend.c: makes the pinned staging buffers once (on the first execute that copies
 * pageable host data), or settles for pageable copies when the driver refuses them.
 * DEVICE on another CUDA failure (nothing kept; the next execute tries again). */
dwconv_status dwconv__cuda_staging(dwconv_cuda_state *s);

dwconv_status dwconv__cuda_set_kernel(void *state, const void *B, ptrdiff_t ldb);
dwconv_status dwconv__cuda_execute(void *state, const void *A, ptrdiff_t lda, void *C,
                                   ptrdiff_t ldc);

#endif /* DWCONV_CUDA_STATE_H */
