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

/* Device chunk slots for host data: while one slot computes, the other's copies run. A plan
 * whose host shape is one chunk makes only the first; none are made before an execute
 * streams host data. */
#define DWCONV_CUDA_SLOTS 2
/* Pinned staging buffers (staging.c): a ring, so packing one overlaps the copies of two. */
#define DWCONV_CUDA_STAGES 3
/* Bytes per staging buffer: large enough that a copy's fixed cost (about 10 us) is small
 * next to its transfer (4 MiB at 50 GB/s: 80 us), small enough to pin in about a ms. */
#define DWCONV_CUDA_STAGE_DEFAULT ((size_t)4 << 20)

/* Where the chunks came from, for get_info and tests. */
typedef struct dwconv_cuda_shape {
  dwconv_chunking chunks; /* rows x outputs per chunk (outputs a multiple of block_step for FFT) */
  size_t in_cap;          /* input samples per row a chunk stages: min(outs + P - 1, N) */
  size_t slots;           /* FFT: transforms per batch, rows_per_chunk * blocks per chunk row */
  size_t kern_bytes;      /* taps or spectrum, all rows */
  size_t stage_bytes;     /* one slot's device input + output buffers */
  size_t compute_bytes;   /* the chunk's compute buffers (FFT transform buffer, GEMM X, W, Y) */
  size_t count;           /* chunks in the problem */
} dwconv_cuda_shape;

/* A download waiting in a staging buffer: rows x width bytes for C at pitch dpitch. */
typedef struct dwconv_cuda_unpack {
  char *dst;
  size_t dpitch, width, rows; /* rows = 0: nothing waiting */
} dwconv_cuda_unpack;

typedef struct dwconv_cuda_state {
  dwconv_problem prob;
  int device;
  int f64;
  size_t es;          /* bytes per element */
  size_t max_pitch;   /* cudaMemcpy2D pitch limit of the device */
  size_t budget;      /* device bytes the plan may hold */
  int pooled;         /* device buffers stream-ordered from the default memory pool, made and
                         freed on streams[0] (dwconv__cuda_dev_alloc) */

  cudaStream_t streams[DWCONV_CUDA_SLOTS];
  cudaEvent_t computed[DWCONV_CUDA_SLOTS]; /* compute of the slot's last chunk is done */
  cudaStream_t user_stream;                /* set_stream; NULL = the plan's own streams */

  /* Kernel: taps (rows x P, real) for DIRECT, spectrum (rows x (L/2+1), complex) for FFT. */
  void *kern;
  size_t kern_ld; /* elements (DIRECT) or complex bins (FFT) between rows; 0 = one row for all */

  /* Chunk shapes (cuda_sizing.c): `shape` for executes with A and C in device memory (it also
   * sizes the compute buffers and the cuFFT batch), `host` for executes that stream host
   * arrays through the device slots. `run` is the one the current execute uses. */
  dwconv_cuda_shape shape, host;
  const dwconv_cuda_shape *run;
  int dev_slots; /* device chunk slots made: 0 before the first streaming execute, then 2, or
                    1 when the host shape is one chunk */
  void *dev_in[DWCONV_CUDA_SLOTS], *dev_out[DWCONV_CUDA_SLOTS];

  /* Pinned staging ring (staging.c), for pageable host arrays of problems of several chunks. */
  void *stage[DWCONV_CUDA_STAGES];
  cudaEvent_t stage_done[DWCONV_CUDA_STAGES]; /* the buffer's last copy is done */
  int stage_busy[DWCONV_CUDA_STAGES];         /* its event was recorded and not yet waited for */
  dwconv_cuda_unpack stage_unpack[DWCONV_CUDA_STAGES];
  int next_stage;
  size_t stage_cap;  /* bytes per buffer */
  int stage_threads; /* CPU threads that pack and unpack */
  int pinned;        /* 1: staging made; 0: not (yet) made or refused: copies go straight
                        from/to the caller's memory */
  int staging_ready; /* dwconv__cuda_staging has run (first execute that needs it) */

  /* FFT: transform buffer (slots x slot_ld reals, cuFFT in-place layout), plans, workspace. */
  void *fft_buf;
  size_t slot_ld; /* 2 * (L/2 + 1) */
  cufftHandle r2c, c2r;
  int have_r2c, have_c2r;
  /* The host shape's batch when it differs from the in-place one (else the plans above). */
  cufftHandle r2c_host, c2r_host;
  int have_r2c_host, have_c2r_host;
  void *fft_work;
  size_t fft_work_bytes;

  size_t device_bytes, pinned_bytes; /* for get_info */

  struct dwconv_cuda_gemm *gemm; /* ALGO_GEMM: buffers and cuBLAS handle (gemm.h); else NULL */
} dwconv_cuda_state;

/* cuda_sizing.c: picks the in-place and host chunk shapes for prob within budget device
 * bytes, of which `reserve` are set aside for the cuFFT / cuBLAS workspace. env_rows /
 * env_outs (0 = none) cap the chunks (the test-only DWCONV_CUDA_CHUNK_ROWS / _OUTS).
 * OUT_OF_MEMORY when not even one block of one row fits. */
dwconv_status dwconv__cuda_size_chunks(const dwconv_problem *prob, size_t budget, size_t reserve,
                                       size_t env_rows, size_t env_outs, dwconv_cuda_shape *in_place,
                                       dwconv_cuda_shape *host);
/* cuda_backend.c: makes the device slots of the host shape (the first execute that streams
 * host data); OUT_OF_MEMORY or DEVICE when the device refuses them (nothing kept). */
dwconv_status dwconv__cuda_host_slots(dwconv_cuda_state *s);

/* fft_plan.c: makes the R2C and C2R plans for s->shape.slots transforms of length L (64-bit
 * API, no auto-allocated workspace), and a second pair for s->host.slots when that differs,
 * and stores the workspace the largest needs in s->fft_work_bytes.
 * The workspace itself is allocated by the caller. dwconv__cuda_fft_destroy frees the plans
 * and the workspace and may be called on a partly made state. */
dwconv_status dwconv__cuda_fft_plan(dwconv_cuda_state *s);
dwconv_status dwconv__cuda_fft_set_workspace(dwconv_cuda_state *s, cudaStream_t stream);
dwconv_status dwconv__cuda_fft_destroy(dwconv_cuda_state *s);

/* compute.c: queues one rectangle of work (device pointers only) on `stream`, FFT through
 * the plans of s->run's batch. */
dwconv_status dwconv__cuda_compute(dwconv_cuda_state *s, const dwconv_cuda_work *w,
                                   cudaStream_t stream);
/* compute.c: forward transform of every slot of the FFT buffer, in place (set_kernel uses it). */
dwconv_status dwconv__cuda_fft_forward(dwconv_cuda_state *s, cudaStream_t stream);
/* compute.c: points both cuFFT plans at `stream` (execute hands them back to the plan's own
 * stream after running on the caller's). */
dwconv_status dwconv__cuda_fft_use_stream(dwconv_cuda_state *s, cudaStream_t stream);

/* cuda_backend.c: device memory the plan holds (counted in device_bytes; stream-ordered on
 * streams[0] where the device has memory pools); `what` names the buffer in the error. */
dwconv_status dwconv__cuda_plan_alloc(dwconv_cuda_state *s, void **p, size_t bytes, const char *what);

/* copy.c: copies `height` rows of `width` bytes between any two memories (cudaMemcpyDefault),
 * as one 2-D copy when the pitches allow it, else row by row. Queued on stream. */
dwconv_status dwconv__cuda_copy_rows(const dwconv_cuda_state *s, void *dst, size_t dpitch,
                                     const void *src, size_t spitch, size_t width, size_t height,
                                     cudaStream_t stream, const char *what);

/* staging.c: makes the pinned staging ring once (on the first execute that streams pageable
 * host data in several chunks), or settles for pageable copies when the driver refuses
 * pinned memory. DEVICE on another CUDA failure (nothing kept; the next execute tries again). */
dwconv_status dwconv__cuda_staging(dwconv_cuda_state *s);
/* staging.c: frees the ring's buffers (the caller has synchronised); first failure returned. */
dwconv_status dwconv__cuda_free_staging(dwconv_cuda_state *s);
/* staging.c: queues a rows x width-byte copy between host memory (pitch hpitch) and device
 * memory (pitch dpitch) on stream through the ring: upload = host to device (packed now),
 * else device to host (unpacked when the buffer is reused or at the drain, so C is complete
 * only after dwconv__cuda_staging_drain). The ring must have been made (s->pinned). */
dwconv_status dwconv__cuda_staged_copy(dwconv_cuda_state *s, int upload, void *host, size_t hpitch,
                                       void *dev, size_t dpitch, size_t width, size_t rows,
                                       cudaStream_t stream);
/* staging.c: waits for every buffer's copy and finishes pending downloads into C (none when
 * `failed`: then only the waiting is done). Returns the first failure. */
dwconv_status dwconv__cuda_staging_drain(dwconv_cuda_state *s, int failed);
/* staging.c: copies a rows x width-byte rectangle between two host memories with up to
 * `threads` CPU threads (one for small rectangles). */
void dwconv__cuda_copy_host_rect(void *dst, size_t dpitch, const void *src, size_t spitch,
                                 size_t width, size_t rows, int threads);

/* set_kernel.c / execute.c: the backend table's entries. */

dwconv_status dwconv__cuda_set_kernel(void *state, const void *B, ptrdiff_t ldb);
dwconv_status dwconv__cuda_execute(void *state, const void *A, ptrdiff_t lda, void *C,
                                   ptrdiff_t ldc);

#endif /* DWCONV_CUDA_STATE_H */
