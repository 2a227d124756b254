/* Pinned staging for pageable host arrays: a ring of DWCONV_CUDA_STAGES small page-locked
 * buffers of a fixed size (independent of the chunk), packed and unpacked by several CPU
 * threads while the copy engines move the neighbouring pieces.
 *
 * A chunk's input (or output) rectangle is cut into pieces that fit one buffer (whole rows
 * where they fit, else row segments). Uploading a piece: wait until the buffer's previous copy
 * is done (its event), pack the piece into it, queue the host-to-device copy and record the
 * buffer's event. Downloading: queue the device-to-host copy into a buffer, record its event,
 * and unpack it into C when the buffer is next needed (or at the drain), so up to
 * DWCONV_CUDA_STAGES copies are in flight while the CPU threads move the data of another.
 * Pinned memory of a few MiB costs about a millisecond to allocate, once per plan; a staging
 * the size of the chunk (up to hundreds of MiB) would cost more than the copies it serves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_state.h"
#include "cuda_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

/* Below this many bytes a piece is copied by one thread: waking the others costs more. */
#define PARALLEL_BYTES ((size_t)256 << 10)
/* The unit of work of the threads that share a piece. */
#define PARALLEL_BLOCK ((size_t)64 << 10)
/* Helper threads at most (the calling thread is the eighth copier). */
#define MAX_HELPERS 7

/* Bytes [b0, b1) of the rows x width rectangle, counted row by row, from src to dst. */
static void copy_part(char *dst, size_t dpitch, const char *src, size_t spitch, size_t width,
                      size_t b0, size_t b1) {
  while (b0 < b1) {
    const size_t r = b0 / width, c = b0 % width;
    size_t n = width - c;
    if (n > b1 - b0) n = b1 - b0;
    memcpy(dst + r * dpitch + c, src + r * spitch + c, n);
    b0 += n;
  }
}

/* The copier pool. A copy is cut into blocks of PARALLEL_BLOCK bytes; the calling thread
 * publishes the job, wakes the helpers and claims blocks itself like they do, then waits only
 * for blocks a helper has claimed and not finished. A helper the OS has not scheduled yet
 * therefore costs nothing: the caller copies what nobody claimed (an OpenMP region would wait
 * for every thread of its team to arrive, which on a busy machine costs whole time slices per
 * piece). One job at a time: a caller that finds the pool busy (another plan's staging) or its
 * locks held (a forked child) copies alone. Helpers are started on first use and kept. */
typedef struct copy_job {
  char *dst;
  const char *src;
  size_t dpitch, spitch, width, total, blocks;
  int helpers; /* how many helpers take part */
} copy_job;
static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* held by a job's caller */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the fields below */
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static int pool_started;
static unsigned long long pool_gen; /* job number */
static copy_job pool_job;
static atomic_ullong pool_ticket; /* (job number mod 2^32) << 32 | next block to claim */
static atomic_size_t pool_done;   /* blocks of the current job copied */

/* Claims the next block of job `gen` (0 when the job is over or replaced). */
static int claim(unsigned long long gen, size_t blocks, size_t *b) {
  unsigned long long t = atomic_load(&pool_ticket);
  for (;;) {
    if ((t >> 32) != (gen & 0xffffffffull) || (t & 0xffffffffull) >= blocks) return 0;
    if (atomic_compare_exchange_weak(&pool_ticket, &t, t + 1)) {
      *b = (size_t)(t & 0xffffffffull);
      return 1;
    }
  }
}

static void run_blocks(const copy_job *j, unsigned long long gen) {
  size_t b;
  while (claim(gen, j->blocks, &b)) {
    const size_t b0 = b * PARALLEL_BLOCK, b1 = b0 + PARALLEL_BLOCK < j->total ? b0 + PARALLEL_BLOCK : j->total;
    copy_part(j->dst, j->dpitch, j->src, j->spitch, j->width, b0, b1);
    atomic_fetch_add(&pool_done, 1);
  }
}

static void *helper_main(void *arg) {
  const int index = (int)(intptr_t)arg;
  unsigned long long seen = 0;
  pthread_mutex_lock(&pool_lock);
  for (;;) {
    while (pool_gen == seen) pthread_cond_wait(&pool_wake, &pool_lock);
    seen = pool_gen;
    const copy_job j = pool_job;
    if (index >= j.helpers) continue;
    pthread_mutex_unlock(&pool_lock);
    run_blocks(&j, seen);
    pthread_mutex_lock(&pool_lock);
  }
  return NULL;
}

void dwconv__cuda_copy_host_rect(void *dst, size_t dpitch, const void *src, size_t spitch,
                                 size_t width, size_t rows, int threads) {
  const size_t total = width * rows;
  if (total == 0) return;
  if (threads > MAX_HELPERS + 1) threads = MAX_HELPERS + 1;
  if ((size_t)threads > total / PARALLEL_BLOCK) threads = (int)(total / PARALLEL_BLOCK);
  if (threads <= 1 || total < PARALLEL_BYTES || pthread_mutex_trylock(&pool_busy) != 0) {
    copy_part((char *)dst, dpitch, (const char *)src, spitch, width, 0, total);
    return;
  }
  if (pthread_mutex_trylock(&pool_lock) != 0) {
    pthread_mutex_unlock(&pool_busy);
    copy_part((char *)dst, dpitch, (const char *)src, spitch, width, 0, total);
    return;
  }
  while (pool_started < threads - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int made = pthread_create(&t, &attr, helper_main, (void *)(intptr_t)pool_started) == 0;
    pthread_attr_destroy(&attr);
    if (!made) break; /* fewer helpers: the caller copies more itself */
    pool_started++;
  }
  copy_job j = {(char *)dst, (const char *)src, dpitch, spitch, width, total,
                (total + PARALLEL_BLOCK - 1) / PARALLEL_BLOCK, threads - 1};
  pool_job = j;
  const unsigned long long gen = ++pool_gen;
  atomic_store(&pool_done, 0);
  atomic_store(&pool_ticket, (gen & 0xffffffffull) << 32);
  pthread_cond_broadcast(&pool_wake);
  pthread_mutex_unlock(&pool_lock);
  run_blocks(&j, gen);
  /* Only blocks a helper claimed are left, each a few microseconds of copying. */
  while (atomic_load(&pool_done) < j.blocks) sched_yield();
  pthread_mutex_unlock(&pool_busy);
}

/* The buffer size: DWCONV_CUDA_STAGE_BYTES (test-only, to make pieces tiny) or the default,
 * rounded down to whole elements. */
static size_t stage_capacity(size_t es) {
  size_t cap = DWCONV_CUDA_STAGE_DEFAULT;
  const char *v = getenv("DWCONV_CUDA_STAGE_BYTES");
  if (v != NULL && *v != '\0') {
    char *end = NULL;
    unsigned long long x = strtoull(v, &end, 10);
    if (end != NULL && *end == '\0' && x > 0 && x <= DWCONV_CUDA_STAGE_DEFAULT) cap = (size_t)x;
  }
  cap -= cap % es;
  return cap < es ? es : cap;
}

/* Lets the pinned buffers go (to the process-wide cache, freed only when it is full: see
 * dwconv__cuda_pinned_give); returns the first failure (all are let go anyway). */
dwconv_status dwconv__cuda_free_staging(dwconv_cuda_state *s) {
  dwconv_status st = DWCONV_SUCCESS;
  for (int k = 0; k < DWCONV_CUDA_STAGES; k++) {
    cudaError_t e = dwconv__cuda_pinned_give(s->stage[k], s->stage_cap);
    s->stage[k] = NULL;
    s->stage_busy[k] = 0;
    s->stage_unpack[k].rows = 0;
    if (e != cudaSuccess && st == DWCONV_SUCCESS) st = dwconv__cuda_fail(e, "cudaFreeHost (staging)");
  }
  s->pinned_bytes = 0;
  s->pinned = 0;
  return st;
}

dwconv_status dwconv__cuda_staging(dwconv_cuda_state *s) {
  if (s->staging_ready) return DWCONV_SUCCESS;
  s->stage_cap = stage_capacity(s->es);
  const char *no_pinned = getenv("DWCONV_CUDA_NO_PINNED"); /* test-only: force the fallback */
  s->pinned = no_pinned == NULL || *no_pinned == '\0' || strcmp(no_pinned, "0") == 0;
  for (int k = 0; k < DWCONV_CUDA_STAGES && s->pinned; k++) {
    cudaError_t e = dwconv__cuda_pinned_take(&s->stage[k], s->stage_cap);
    if (e == cudaSuccess) {
      s->pinned_bytes += s->stage_cap;
    } else if (e == cudaErrorMemoryAllocation) {
      dwconv__cuda_clear_own(e); /* handled: the fallback below */
      s->pinned = 0;
    } else {
      dwconv_status st = dwconv__cuda_fail(e, "cudaMallocHost (staging)");
      char cause[512];
      snprintf(cause, sizeof cause, "%s", dwconv_last_error());
      (void)dwconv__cuda_free_staging(s);
      return dwconv__error(st, "%s", cause);
    }
  }
  if (!s->pinned) {
    dwconv_status st = dwconv__cuda_free_staging(s);
    if (st != DWCONV_SUCCESS) return st;
  }
  s->next_stage = 0;
  s->staging_ready = 1;
  return DWCONV_SUCCESS;
}

/* Waits for buffer k's last copy and, for a download, moves its data into C. */
static dwconv_status settle(dwconv_cuda_state *s, int k) {
  if (!s->stage_busy[k]) return DWCONV_SUCCESS;
  cudaError_t e = cudaEventSynchronize(s->stage_done[k]);
  s->stage_busy[k] = 0;
  dwconv_cuda_unpack *u = &s->stage_unpack[k];
  const size_t rows = u->rows;
  u->rows = 0;
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "copying through the staging buffers");
  if (rows != 0)
    dwconv__cuda_copy_host_rect(u->dst, u->dpitch, s->stage[k], u->width, u->width, rows,
                                s->stage_threads);
  return DWCONV_SUCCESS;
}

/* The next buffer of the ring, free for a new piece. */
static dwconv_status take(dwconv_cuda_state *s, int *k) {
  *k = s->next_stage;
  s->next_stage = (s->next_stage + 1) % DWCONV_CUDA_STAGES;
  return settle(s, *k);
}

/* One piece: rows x width bytes, host side (src or dst) at pitch hpitch, device side at
 * dpitch. upload: host -> device, else device -> host. */
static dwconv_status piece(dwconv_cuda_state *s, int upload, char *host, size_t hpitch, char *dev,
                           size_t dpitch, size_t width, size_t rows, cudaStream_t stream) {
  int k;
  dwconv_status st = take(s, &k);
  if (st != DWCONV_SUCCESS) return st;
  if (upload) {
    dwconv__cuda_copy_host_rect(s->stage[k], width, host, hpitch, width, rows, s->stage_threads);
    st = dwconv__cuda_copy_rows(s, dev, dpitch, s->stage[k], width, width, rows, stream,
                                "copying A to the device");
  } else {
    st = dwconv__cuda_copy_rows(s, s->stage[k], width, dev, dpitch, width, rows, stream,
                                "copying C to the host");
  }
  if (st != DWCONV_SUCCESS) return st;
  cudaError_t e = cudaEventRecord(s->stage_done[k], stream);
  if (e != cudaSuccess) return dwconv__cuda_fail(e, "cudaEventRecord (staging)");
  s->stage_busy[k] = 1;
  if (!upload) {
    s->stage_unpack[k].dst = host;
    s->stage_unpack[k].dpitch = hpitch;
    s->stage_unpack[k].width = width;
    s->stage_unpack[k].rows = rows;
  }
  return DWCONV_SUCCESS;
}

dwconv_status dwconv__cuda_staged_copy(dwconv_cuda_state *s, int upload, void *host, size_t hpitch,
                                       void *dev, size_t dpitch, size_t width, size_t rows,
                                       cudaStream_t stream) {
  char *h = (char *)host, *d = (char *)dev;
  const size_t cap = s->stage_cap;
  dwconv_status st = DWCONV_SUCCESS;
  if (width == 0) return st;
  if (width <= cap) {
    const size_t per = cap / width;
    for (size_t r = 0; r < rows && st == DWCONV_SUCCESS; r += per) {
      const size_t n = rows - r < per ? rows - r : per;
      st = piece(s, upload, h + r * hpitch, hpitch, d + r * dpitch, dpitch, width, n, stream);
    }
    return st;
  }
  /* Rows longer than a buffer: segments of cap bytes (whole elements: cap is a multiple). */
  for (size_t r = 0; r < rows && st == DWCONV_SUCCESS; r++)
    for (size_t c = 0; c < width && st == DWCONV_SUCCESS; c += cap) {
      const size_t n = width - c < cap ? width - c : cap;
      st = piece(s, upload, h + r * hpitch + c, n, d + r * dpitch + c, n, n, 1, stream);
    }
  return st;
}

dwconv_status dwconv__cuda_staging_drain(dwconv_cuda_state *s, int failed) {
  dwconv_status st = DWCONV_SUCCESS;
  for (int i = 0; i < DWCONV_CUDA_STAGES; i++) {
    const int k = (s->next_stage + i) % DWCONV_CUDA_STAGES;
    if (failed) s->stage_unpack[k].rows = 0; /* C is not written after a failure */
    dwconv_status sk = settle(s, k);
    if (sk != DWCONV_SUCCESS && st == DWCONV_SUCCESS) st = sk;
  }
  return st;
}
