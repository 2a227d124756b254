/* The CUDA backend's table and its plan lifetime: create (budget, streams, buffers, cuFFT
 * plans), destroy, get_info and set_stream. set_kernel and execute live in their own files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_state.h"
#include "cuda_util.h"
#include "gemm.h"

/* A test-only size cap from the environment (DWCONV_CUDA_CHUNK_ROWS / _OUTS), 0 when unset
 * or not a positive number. Read once per create, so a test sets it before making a plan. */
static size_t env_size(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0') return 0;
  char *end = NULL;
  unsigned long long x = strtoull(v, &end, 10);
  return (end != NULL && *end == '\0' && x > 0 && x <= SIZE_MAX) ? (size_t)x : 0;
}

/* The plan's device budget: desc.device_memory_limit, or half of the device's free memory at
 * create time, which leaves room for the caller's own arrays and for other plans. */
static dwconv_status budget_of(const dwconv_problem *prob, size_t *budget) {
  if (prob->desc.device_memory_limit != 0) {
    *budget = prob->desc.device_memory_limit;
    return DWCONV_SUCCESS;
  }
  size_t free_b = 0, total_b = 0;
  cudaError_t e = cudaMemGetInfo(&free_b, &total_b);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaMemGetInfo");
  *budget = free_b / 2;
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cuda_plan_alloc(dwconv_cuda_state *s, void **p, size_t bytes, const char *what) {
  cudaError_t e = dwconv__cuda_dev_alloc(p, bytes, s->pooled, s->streams[0]);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, what);
  s->device_bytes += bytes;
  return DWCONV_SUCCESS;
}

/* Sizes the chunks and, for FFT, makes the plans; when the plans' workspace does not fit next
 * to the buffers, sizes again with that workspace reserved (a smaller batch never needs
 * more), so the budget holds for everything the plan allocates, the host shape's device
 * slots included (made later, by the first execute that streams host data). */
static dwconv_status shape_and_plans(dwconv_cuda_state *s) {
  const size_t env_rows = env_size("DWCONV_CUDA_CHUNK_ROWS");
  const size_t env_outs = env_size("DWCONV_CUDA_CHUNK_OUTS");
  /* GEMM: the cuBLAS workspace is known up front. */
  size_t reserve = s->prob.desc.algo == DWCONV_ALGO_GEMM ? dwconv__cuda_gemm_workspace_bytes(s->budget) : 0;
  for (int attempt = 0;; attempt++) {
    dwconv_status st = dwconv__cuda_size_chunks(&s->prob, s->budget, reserve, env_rows, env_outs,
                                                &s->shape, &s->host);
    if (st != DWCONV_SUCCESS || s->prob.desc.algo != DWCONV_ALGO_FFT) return st;
    st = dwconv__cuda_fft_plan(s);
    if (st != DWCONV_SUCCESS) return st;
    const size_t host_slots = s->host.count > 1 ? DWCONV_CUDA_SLOTS : 1;
    size_t chunk = host_slots * s->host.stage_bytes + s->shape.slots * s->slot_ld * s->es;
    size_t total = s->shape.kern_bytes + chunk + s->fft_work_bytes;
    if (total <= s->budget) return DWCONV_SUCCESS;
    if (attempt >= 3)
      return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY,
                           "CUDA plan needs %zu device bytes with its cuFFT workspace (%zu) but "
                           "its budget is %zu; raise desc.device_memory_limit",
                           total, s->fft_work_bytes, s->budget);
    reserve = s->fft_work_bytes;
    st = dwconv__cuda_fft_destroy(s);
    if (st != DWCONV_SUCCESS) return st;
  }
}

/* Frees the device slots (the caller has synchronised); first failure returned. */
static dwconv_status free_host_slots(dwconv_cuda_state *s) {
  dwconv_status st = DWCONV_SUCCESS;
  for (int k = 0; k < DWCONV_CUDA_SLOTS; k++) {
    void *p[2] = {s->dev_in[k], s->dev_out[k]};
    for (int i = 0; i < 2; i++) {
      cudaError_t e = dwconv__cuda_dev_free(p[i], s->pooled, s->streams[0]);
      if (e != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e, "freeing a chunk slot");
    }
    s->dev_in[k] = s->dev_out[k] = NULL;
  }
  s->device_bytes -= (size_t)s->dev_slots * s->host.stage_bytes;
  s->dev_slots = 0;
  return st;
}

/* The device slots of the host shape, made by the first execute that streams host data:
 * device-resident work never holds them, so its chunks are sized without them (the budget
 * keeps their room). The second slot only serves a second chunk. */
dwconv_status dwconv__cuda_host_slots(dwconv_cuda_state *s) {
  if (s->dev_slots != 0) return DWCONV_SUCCESS;
  const int want = s->host.count > 1 ? DWCONV_CUDA_SLOTS : 1;
  const size_t rows = s->host.chunks.rows_per_chunk;
  const size_t in = rows * s->host.in_cap * s->es, out = rows * s->host.chunks.outs_per_chunk * s->es;
  dwconv_status st = DWCONV_SUCCESS;
  for (int k = 0; k < want && st == DWCONV_SUCCESS; k++) {
    cudaError_t e = dwconv__cuda_dev_alloc(&s->dev_in[k], in, s->pooled, s->streams[0]);
    if (e == cudaSuccess) e = dwconv__cuda_dev_alloc(&s->dev_out[k], out, s->pooled, s->streams[0]);
    if (e != cudaSuccess) {
      st = dwconv__cuda_fail(e, "cudaMalloc (chunk slot)");
      break;
    }
    s->dev_slots = k + 1;
    s->device_bytes += s->host.stage_bytes;
  }
  if (st != DWCONV_SUCCESS) {
    char cause[512];
    snprintf(cause, sizeof cause, "%s", dwconv_last_error());
    (void)free_host_slots(s); /* also a slot made only in part (its input) */
    return dwconv__error(st, "%s", cause);
  }
  /* Stream-ordered memory is usable by the other stream once its allocation has completed. */
  if (s->pooled) {
    cudaError_t e = cudaStreamSynchronize(s->streams[0]);
    if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaStreamSynchronize (chunk slots)");
  }
  return DWCONV_SUCCESS;
}

static dwconv_status release(dwconv_cuda_state *s);

/* The backend's create: see the file comment. On failure everything taken is freed and the
 * status is OUT_OF_MEMORY (an allocation failed or the budget is too small) or DEVICE, with
 * the CUDA/cuFFT detail in dwconv_last_error(). */
static dwconv_status create_state(const dwconv_problem *prob, void **state) {
  *state = NULL;
  dwconv_cuda_state *s = (dwconv_cuda_state *)dwconv__malloc(sizeof *s);
  if (s == NULL)
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating the CUDA plan state (%zu bytes)", sizeof *s);
  memset(s, 0, sizeof *s);
  s->prob = *prob;
  s->f64 = prob->desc.dtype == DWCONV_FLOAT64;
  s->es = prob->elem_size;
  s->slot_ld = 2 * (prob->geom.block_len / 2 + 1);
  dwconv_status st = DWCONV_SUCCESS;
  int pitch = 0;
  DWCONV_CUDA_TRY(st, cudaGetDevice(&s->device), "cudaGetDevice");
  DWCONV_CUDA_TRY(st, cudaDeviceGetAttribute(&pitch, cudaDevAttrMaxPitch, s->device),
                  "cudaDeviceGetAttribute (max pitch)");
  s->max_pitch = pitch > 0 ? (size_t)pitch : 0;
  s->pooled = dwconv__cuda_pools_supported(s->device);
  DWCONV_TRY(st, budget_of(prob, &s->budget));
  for (int k = 0; k < DWCONV_CUDA_SLOTS; k++) {
    DWCONV_CUDA_TRY(st, dwconv__cuda_stream_create(&s->streams[k]), "cudaStreamCreate");
    DWCONV_CUDA_TRY(st, dwconv__cuda_event_create(&s->computed[k]), "cudaEventCreate");
  }
  for (int k = 0; k < DWCONV_CUDA_STAGES; k++)
    DWCONV_CUDA_TRY(st, dwconv__cuda_event_create(&s->stage_done[k]), "cudaEventCreate");
  s->stage_threads = prob->threads < 8 ? prob->threads : 8; /* past ~8, memory bandwidth binds */
  if (s->stage_threads < 1) s->stage_threads = 1;
  DWCONV_TRY(st, shape_and_plans(s));

  DWCONV_TRY(st, dwconv__cuda_plan_alloc(s, &s->kern, s->shape.kern_bytes, "cudaMalloc (kernel)"));
  if (prob->desc.algo == DWCONV_ALGO_FFT) {
    const size_t bytes = s->shape.slots * s->slot_ld * s->es;
    DWCONV_TRY(st, dwconv__cuda_plan_alloc(s, &s->fft_buf, bytes, "cudaMalloc (FFT buffer)"));
    DWCONV_TRY(st, dwconv__cuda_fft_set_workspace(s, s->streams[0]));
    /* Defined contents from the start: slots a short chunk leaves unused are transformed too,
     * and compute-sanitizer initcheck must not see uninitialised reads. */
    DWCONV_CUDA_TRY(st, cudaMemsetAsync(s->fft_buf, 0, bytes, s->streams[0]), "cudaMemsetAsync (FFT buffer)");
    DWCONV_CUDA_TRY(st, cudaStreamSynchronize(s->streams[0]), "cudaStreamSynchronize");
  }
  if (prob->desc.algo == DWCONV_ALGO_GEMM) DWCONV_TRY(st, dwconv__cuda_gemm_create(s));
  /* Stream-ordered buffers are usable from every stream (the other plan stream, the
   * caller's) once their allocations on streams[0] have completed. */
  DWCONV_CUDA_TRY(st, cudaStreamSynchronize(s->streams[0]), "cudaStreamSynchronize");
  *state = s;
  return DWCONV_SUCCESS;

fail:
  /* Report the failure that got us here, not a later one from the cleanup it causes. */
  {
    char cause[512];
    strncpy(cause, dwconv_last_error(), sizeof cause - 1);
    cause[sizeof cause - 1] = '\0';
    (void)release(s);
    return dwconv__error(st, "%s", cause);
  }
}

/* Frees everything the state holds, tolerating a partly made one, and returns the first
 * failure (recorded for dwconv_last_error()); the rest is still freed. */
static dwconv_status release(dwconv_cuda_state *s) {
  int prev = s->device;
  dwconv_status st = dwconv__cuda_enter(s->device, &prev);
#define KEEP(call, what)                                   \
  do {                                                     \
    cudaError_t e_ = (call);                               \
    if (e_ != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e_, what); \
  } while (0)
  if (s->user_stream != NULL) KEEP(cudaStreamSynchronize(s->user_stream), "cudaStreamSynchronize (user stream)");
  for (int k = 0; k < DWCONV_CUDA_SLOTS; k++)
    if (s->streams[k] != NULL) KEEP(cudaStreamSynchronize(s->streams[k]), "cudaStreamSynchronize");
  dwconv_status fst = dwconv__cuda_fft_destroy(s);
  if (fst != DWCONV_SUCCESS && st == DWCONV_SUCCESS) st = fst;
  fst = dwconv__cuda_gemm_destroy(s);
  if (fst != DWCONV_SUCCESS && st == DWCONV_SUCCESS) st = fst;
  /* With pools, the frees are queued on streams[0] (synchronised above, and the only stream
   * that made them) and complete after its destroy below; nothing waits for the device. */
  KEEP(dwconv__cuda_dev_free(s->fft_buf, s->pooled, s->streams[0]), "freeing the FFT buffer");
  KEEP(dwconv__cuda_dev_free(s->kern, s->pooled, s->streams[0]), "freeing the kernel");
  {
    dwconv_status sst = free_host_slots(s);
    if (sst != DWCONV_SUCCESS && st == DWCONV_SUCCESS) st = sst;
  }
  for (int k = 0; k < DWCONV_CUDA_SLOTS; k++) {
    if (s->computed[k] != NULL) KEEP(cudaEventDestroy(s->computed[k]), "cudaEventDestroy");
    if (s->streams[k] != NULL) KEEP(cudaStreamDestroy(s->streams[k]), "cudaStreamDestroy");
  }
  {
    dwconv_status sst = dwconv__cuda_free_staging(s);
    if (sst != DWCONV_SUCCESS && st == DWCONV_SUCCESS) st = sst;
  }
  for (int k = 0; k < DWCONV_CUDA_STAGES; k++)
    if (s->stage_done[k] != NULL) KEEP(cudaEventDestroy(s->stage_done[k]), "cudaEventDestroy");
#undef KEEP
  st = dwconv__cuda_leave(prev, s->device, st);
  dwconv__free(s);
  return st;
}

/* The backend's destroy. It has no status to return, so a failure (for instance a context
 * poisoned by an earlier fault) is left in dwconv_last_error(); everything is freed anyway. */
static void destroy_state(void *state) {
  if (state != NULL) (void)release((dwconv_cuda_state *)state);
}

/* get_info: the CUDA-specific fields; the front end fills the rest. */
static void info_state(const void *state, dwconv_plan_info *info) {
  const dwconv_cuda_state *s = (const dwconv_cuda_state *)state;
  info->simd = "cuda";
  info->threads = 1; /* dwconv.h: CUDA plans report 1 (staging threads are an internal detail) */
  info->workspace_bytes = s->device_bytes + s->pinned_bytes;
}

/* set_stream: later calls queue on `stream` (a cudaStream_t of the plan's device; NULL goes
 * back to the plan's own streams). A stream that is not valid or belongs to another device is
 * INVALID_VALUE. Work already queued on the previous user stream is waited for first, because
 * it may still use the plan's FFT buffer. The plan keeps the stream until set_stream(NULL) or
 * destroy (destroy synchronises it), so the caller must not destroy the stream before either;
 * cuFFT is pointed back at the plan's own stream at the end of every call, so cuFFT never
 * holds the caller's stream past a call. */
static dwconv_status stream_state(void *state, void *stream) {
  dwconv_cuda_state *s = (dwconv_cuda_state *)state;
  int prev;
  dwconv_status st = dwconv__cuda_enter(s->device, &prev);
  if (st != DWCONV_SUCCESS) return st;
  if (stream != NULL) {
    int dev = -1;
    cudaError_t e = cudaStreamGetDevice((cudaStream_t)stream, &dev);
    if (e != cudaSuccess) {
      dwconv__cuda_clear_own(e);
      st = dwconv__error(DWCONV_ERROR_INVALID_VALUE, "set_stream: not a usable CUDA stream (%s: %s)",
                         cudaGetErrorName(e), cudaGetErrorString(e));
    } else if (dev != s->device) {
      st = dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "set_stream: the stream belongs to CUDA device %d but the plan to device %d", dev,
                         s->device);
    }
  }
  if (st == DWCONV_SUCCESS && s->user_stream != NULL && s->user_stream != (cudaStream_t)stream) {
    cudaError_t e = cudaStreamSynchronize(s->user_stream);
    if (e != cudaSuccess) st = dwconv__cuda_fail(e, "cudaStreamSynchronize (previous user stream)");
  }
  if (st == DWCONV_SUCCESS) s->user_stream = (cudaStream_t)stream;
  return dwconv__cuda_leave(prev, s->device, st);
}

const dwconv_backend_ops dwconv__cuda_ops = {
    "cuda", create_state, dwconv__cuda_set_kernel, dwconv__cuda_execute,
    stream_state, info_state, destroy_state, NULL};
