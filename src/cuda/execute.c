/* execute for CUDA plans.
 *
 * Each of A and C is classified by cudaPointerGetAttributes: device or managed memory is used
 * in place; anything else is host memory, streamed through the device chunk by chunk
 * (rows x output segments from dwconv__chunking_init). Host chunks run through a two-slot
 * pipeline on two streams: while chunk i computes on one stream, chunk i+1's input copy and
 * chunk i-1's output copy run on the other, and the CPU threads pack/unpack pageable data
 * through the pinned staging ring (staging.c) meanwhile. Computes are chained by events
 * because they share the FFT buffer and cuFFT workspace (the GPU is busy with one compute at
 * a time anyway).
 *
 * Every chunk's result depends only on its input samples, never on the chunk size: the direct
 * kernel sums each output in tap order whatever the tile, and the FFT gather makes each
 * transform's input a function of (row, block) alone. */
#include <string.h>

#include "cuda_state.h"
#include "cuda_util.h"

/* Sets *on_device for p: 1 for device memory of the plan's device or managed memory, 0 for
 * host memory; and *pinned: 1 for page-locked host memory (cudaMallocHost/cudaHostRegister),
 * which the copy engines can read directly, so it needs no staging. Device memory of another
 * device is INVALID_VALUE. */
static dwconv_status locate(const dwconv_cuda_state *s, const void *p, const char *name,
                            int *on_device, int *pinned) {
  *pinned = 0;
  *on_device = 0;
  enum cudaMemoryType type;
  int device;
  cudaError_t e = dwconv__cuda_pointer_type(p, &type, &device);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaPointerGetAttributes");
  *on_device = type == cudaMemoryTypeDevice || type == cudaMemoryTypeManaged;
  *pinned = type == cudaMemoryTypeHost;
  if (type == cudaMemoryTypeDevice && device != s->device)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "%s is memory of CUDA device %d but the plan was created on device %d",
                         name, device, s->device);
  return DWCONV_SUCCESS;
}

/* What one execute call works on. */
typedef struct job {
  const char *a;
  size_t lda; /* elements; 0 = broadcast row */
  char *c;
  size_t ldc;
  int a_dev, c_dev;
  int a_pinned, c_pinned; /* host arrays already page-locked: copied directly, no staging */
  int a_staged, c_staged; /* pageable host arrays going through the pinned staging ring */
  cudaStream_t streams[DWCONV_CUDA_SLOTS]; /* equal when running on the caller's stream */
} job;

/* Rectangle of chunk ch for slot `slot`, queuing the input copy when A is on the host. */
static dwconv_status stage_in(dwconv_cuda_state *s, const job *j, const dwconv_chunk *ch,
                              int slot, dwconv_cuda_work *w) {
  const dwconv_geometry *g = &s->prob.geom;
  const size_t es = s->es;
  w->s0 = (long long)ch->in_begin;
  w->rows = ch->row_count;
  w->outs = ch->out_count;
  w->p = g->p;
  w->ldk = s->kern_ld;
  w->kern = (const char *)s->kern +
            ch->row_begin * s->kern_ld * (s->prob.desc.algo == DWCONV_ALGO_FFT ? 2 * es : es);
  if (j->a_dev) {
    w->in.a = j->a + ch->row_begin * j->lda * es;
    w->in.lda = j->lda;
    w->in.a_lo = 0;
    w->in.a_hi = (long long)g->n;
    return DWCONV_SUCCESS;
  }
  /* Only the part of the chunk's input window inside [0, N) is copied; the kernels supply the
   * zeros outside it. A broadcast A (lda = 0) is staged once per chunk, not once per row. */
  long long lo = ch->in_begin < 0 ? 0 : (long long)ch->in_begin;
  long long hi = (long long)ch->in_begin + (long long)ch->in_count;
  if (hi > (long long)g->n) hi = (long long)g->n;
  if (hi < lo) hi = lo;
  const size_t width = (size_t)(hi - lo) * es, height = j->lda == 0 ? 1 : ch->row_count;
  const char *src = j->a + (ch->row_begin * j->lda + (size_t)lo) * es;
  const size_t dpitch = s->run->in_cap * es;
  w->in.a = s->dev_in[slot];
  w->in.lda = j->lda == 0 ? 0 : s->run->in_cap;
  w->in.a_lo = lo;
  w->in.a_hi = hi;
  if (width == 0) return DWCONV_SUCCESS;
  if (j->a_staged)
    return dwconv__cuda_staged_copy(s, 1, (void *)src, j->lda * es, s->dev_in[slot], dpitch, width,
                                    height, j->streams[slot]);
  return dwconv__cuda_copy_rows(s, s->dev_in[slot], dpitch, src, j->lda * es, width, height,
                                j->streams[slot], "copying A to the device");
}

/* Where chunk ch's output goes: in place into a device C, else the slot's device buffer. */
static void place_out(dwconv_cuda_state *s, const job *j, const dwconv_chunk *ch, int slot,
                      dwconv_cuda_work *w) {
  if (j->c_dev) {
    w->c = j->c + (ch->row_begin * j->ldc + ch->out_begin) * s->es;
    w->ldc = j->ldc;
  } else {
    w->c = s->dev_out[slot];
    w->ldc = s->run->chunks.outs_per_chunk;
  }
}

/* Queues the copy of chunk ch's output back to a host C: through the staging ring, or
 * straight into C (page-locked already, pinned memory refused, or a one-chunk problem). */
static dwconv_status stage_out(dwconv_cuda_state *s, const job *j, const dwconv_chunk *ch,
                               int slot) {
  const size_t es = s->es, spitch = s->run->chunks.outs_per_chunk * es;
  char *dst = j->c + (ch->row_begin * j->ldc + ch->out_begin) * es;
  if (j->c_staged)
    return dwconv__cuda_staged_copy(s, 0, dst, j->ldc * es, s->dev_out[slot], spitch,
                                    ch->out_count * es, ch->row_count, j->streams[slot]);
  return dwconv__cuda_copy_rows(s, dst, j->ldc * es, s->dev_out[slot], spitch, ch->out_count * es,
                                ch->row_count, j->streams[slot], "copying C to the host");
}

/* The chunk loop (see the file comment) over s->run's chunks. Chunk idx runs on slot
 * idx % slots (the device slots made for host data; both arrays on the device need none, and
 * their chunks alternate between the two streams all the same): its input is
 * queued (for a staged A the CPU packs it meanwhile), then its compute, ordered after the
 * previous chunk's compute (they share the FFT buffer). A staged C's download of chunk idx
 * is queued after chunk idx+1's compute, so the CPU unpacks it while the GPU computes. With
 * both arrays on the device nothing waits for the host, so on the caller's stream the whole
 * call is asynchronous. */
static dwconv_status run_chunks(dwconv_cuda_state *s, const job *j) {
  const dwconv_chunking *cc = &s->run->chunks;
  const size_t count = dwconv__chunk_count(cc);
  const size_t slots = s->dev_slots != 0 ? (size_t)s->dev_slots : DWCONV_CUDA_SLOTS;
  dwconv_chunk held; /* a staged C's chunk whose download is not queued yet */
  int holding = 0, held_slot = 0;
  dwconv_status st = DWCONV_SUCCESS;
  for (size_t idx = 0; idx < count && st == DWCONV_SUCCESS; idx++) {
    const int slot = (int)(idx % slots);
    const int before = (int)((idx + slots - 1) % slots);
    cudaStream_t stream = j->streams[slot];
    dwconv_chunk ch;
    dwconv__chunk_get(cc, &s->prob.geom, idx, &ch);
    dwconv_cuda_work w;
    st = stage_in(s, j, &ch, slot, &w);
    if (st != DWCONV_SUCCESS) break;
    place_out(s, j, &ch, slot, &w);
    if (idx > 0 && j->streams[before] != stream) {
      cudaError_t e = cudaStreamWaitEvent(stream, s->computed[before], 0);
      if (e != cudaSuccess) { st = dwconv__cuda_fail(e, "cudaStreamWaitEvent"); break; }
    }
    st = dwconv__cuda_compute(s, &w, stream);
    if (st != DWCONV_SUCCESS) break;
    cudaError_t e = cudaEventRecord(s->computed[slot], stream);
    if (e != cudaSuccess) { st = dwconv__cuda_fail(e, "cudaEventRecord"); break; }
    if (j->c_dev) continue;
    if (!j->c_staged) {
      st = stage_out(s, j, &ch, slot);
      continue;
    }
    if (holding) st = stage_out(s, j, &held, held_slot);
    held = ch;
    held_slot = slot;
    holding = 1;
  }
  if (st == DWCONV_SUCCESS && holding) st = stage_out(s, j, &held, held_slot);
  if (j->a_staged || j->c_staged) {
    /* Also after a failure: no queued copy may touch staging or C after we return. */
    dwconv_status dst = dwconv__cuda_staging_drain(s, st != DWCONV_SUCCESS);
    if (st == DWCONV_SUCCESS) st = dst;
  }
  return st;
}

/* Both arrays on the device, DIRECT: one launch over the whole problem (the kernel's grid
 * walk has no size limit and nothing needs staging). */
static dwconv_status run_direct_in_place(dwconv_cuda_state *s, const job *j) {
  const dwconv_geometry *g = &s->prob.geom;
  dwconv_cuda_work w;
  w.in.a = j->a;
  w.in.lda = j->lda;
  w.in.a_lo = 0;
  w.in.a_hi = (long long)g->n;
  w.s0 = (long long)dwconv__window_start(g, 0);
  w.c = j->c;
  w.ldc = j->ldc;
  w.rows = g->rows;
  w.outs = g->out_len;
  w.kern = s->kern;
  w.ldk = s->kern_ld;
  w.p = g->p;
  return dwconv__cuda_compute(s, &w, j->streams[0]);
}

/* The backend's execute: see the file comment. Synchronous unless both arrays are on the
 * device and a stream was set with set_stream. DEVICE / INVALID_VALUE with detail on failure. */
dwconv_status dwconv__cuda_execute(void *state, const void *A, ptrdiff_t lda, void *C,
                                   ptrdiff_t ldc) {
  dwconv_cuda_state *s = (dwconv_cuda_state *)state;
  int prev;
  dwconv_status st = dwconv__cuda_enter(s->device, &prev);
  if (st != DWCONV_SUCCESS) return st;
  job j;
  j.a = (const char *)A;
  j.lda = (size_t)lda;
  j.c = (char *)C;
  j.ldc = (size_t)ldc;
  st = locate(s, A, "A", &j.a_dev, &j.a_pinned);
  if (st == DWCONV_SUCCESS) st = locate(s, C, "C", &j.c_dev, &j.c_pinned);
  if (st != DWCONV_SUCCESS) return dwconv__cuda_leave(prev, s->device, st);

  const int async = j.a_dev && j.c_dev && s->user_stream != NULL;
  for (int k = 0; k < DWCONV_CUDA_SLOTS; k++) j.streams[k] = async ? s->user_stream : s->streams[k];
  if (!async && s->user_stream != NULL) {
    /* A synchronous call on a plan with a user stream: earlier asynchronous calls may still be
     * using the plan's FFT buffer on that stream. */
    cudaError_t e = cudaStreamSynchronize(s->user_stream);
    if (e != cudaSuccess) st = dwconv__cuda_fail(e, "cudaStreamSynchronize (the plan's user stream)");
  }
  /* Both arrays on the device: the in-place chunks, which no streaming slot shrank. Host
   * data: the host chunks through the device slots, made the first time they are needed. */
  const int in_place = j.a_dev && j.c_dev;
  s->run = in_place ? &s->shape : &s->host;
  if (st == DWCONV_SUCCESS && !in_place) st = dwconv__cuda_host_slots(s);
  /* Pageable host data of a problem of several chunks goes through the pinned staging ring,
   * made the first time it is needed. One chunk has nothing to overlap: its copies go
   * straight from/to the caller's memory (the driver stages pageable copies itself), so a
   * one-shot call pins nothing. */
  const int a_pageable = !j.a_dev && !j.a_pinned, c_pageable = !j.c_dev && !j.c_pinned;
  const int several = s->run->count > 1;
  if (st == DWCONV_SUCCESS && several && (a_pageable || c_pageable))
    st = dwconv__cuda_staging(s);
  j.a_staged = a_pageable && several && s->pinned;
  j.c_staged = c_pageable && several && s->pinned;
  if (st == DWCONV_SUCCESS) {
    if (in_place && s->prob.desc.algo == DWCONV_ALGO_DIRECT)
      st = run_direct_in_place(s, &j);
    else
      st = run_chunks(s, &j);
  }
  if (async && s->prob.desc.algo == DWCONV_ALGO_FFT) {
    /* cuFFT keeps the last stream it was given; the caller may destroy theirs once it has
     * called set_stream(NULL) or destroyed the plan, so never leave it with cuFFT. */
    dwconv_status rst = dwconv__cuda_fft_use_stream(s, s->streams[0]);
    if (st == DWCONV_SUCCESS) st = rst;
  }
  if (!async) {
    /* Device-only work on the plan's streams is still in flight; host work was finished. */
    for (int k = 0; k < DWCONV_CUDA_SLOTS; k++) {
      cudaError_t e = cudaStreamSynchronize(j.streams[k]);
      if (e != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e, "executing on the device");
    }
  }
  return dwconv__cuda_leave(prev, s->device, st);
}
