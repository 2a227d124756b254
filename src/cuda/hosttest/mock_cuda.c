/* Host-memory stand-in for the CUDA runtime and cuFFT calls src/cuda uses, so the backend's
 * host logic (sizing, chunking, staging, pointer placement, kernel preparation, FFT
 * orchestration, error paths) runs under ASan/UBSan on a machine without a GPU.
 *
 * What it models, so that a mistake in the backend makes the host test fail:
 * - Memory: "device" memory is malloc'd and filled with NaN bytes (reads of unwritten data
 *   show up); allocations record their kind (device, pinned host, managed) and device, so
 *   cudaPointerGetAttributes classifies them. Two devices, with per-thread current device and
 *   context (cudaSetDevice makes a context current; the driver's cuCtxGetCurrent /
 *   cuCtxSetCurrent through cudaGetDriverEntryPointByVersion), and a record of which devices
 *   ever had a context made.
 * - Asynchrony: copies, memsets, kernel launches and cuFFT executions are queued per stream
 *   and run only at synchronisation points (stream / event / device synchronize, stream
 *   destroy), in a random interleaving of the streams that respects stream order and
 *   cudaStreamWaitEvent. A missing wait therefore reads stale or unwritten data. Pageable host
 *   memory in a copy gives the implicit synchronisation of the real runtime: host-to-device
 *   from pageable memory first runs the stream's earlier work and reads the source at the
 *   call; device-to-host into pageable memory completes before the call returns.
 * - Errors: a per-thread last-error slot set by every failing call (cudaGetLastError clears
 *   it, cudaPeekAtLastError does not); mock_set_last_error() leaves a caller's pending error;
 *   launch configuration limits (threads, shared memory, grid) and injectable launch failures
 *   (mock_fail_launch); a sticky error (mock_sticky_at_launch) after which every call fails.
 * - Misuse: using a destroyed stream, a cuFFT plan whose stream was destroyed, copies outside
 *   an allocation, cuFFT reading a workspace nobody initialised: each counts in
 *   mock_violations (the host test fails on any) with a message.
 * - cuFFT: transforms in the plan's own precision (float plans compute in float, with
 *   pairwise sums so the error grows like cuFFT's, O(log n)), the batched layout of the plan,
 *   the in-place rule idist = 2 * odist for R2C/C2R, and a length limit (mock_cufft_max_len,
 *   CUFFT_INVALID_SIZE past it); mock_cufft_refuse makes plan creation fail with a code. */
#include <complex.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cuda_runtime_api.h>
#include <cufft.h>

#define MOCK_DEVICES 2

/* ---- knobs and counters the host test reads or sets ---- */
size_t mock_live_dev, mock_live_host, mock_dev_bytes, mock_host_allocs;
int mock_fail_pinned;
size_t mock_max_pitch = 2147483647;
size_t mock_free_mem = (size_t)1 << 30; /* cudaMemGetInfo: the default budget is half */
int mock_violations;
int mock_ctx_made[MOCK_DEVICES];   /* a context was made current on the device */
int mock_fail_launch;              /* the n-th launch from now fails (1 = next) */
cudaError_t mock_fail_launch_code = cudaErrorInvalidConfiguration;
int mock_sticky_at_launch;         /* the n-th launch from now poisons the context */
cufftResult mock_cufft_refuse;     /* non-zero: cufftMakePlanMany64 returns it */
long long mock_cufft_max_len = (long long)1 << 27;
size_t mock_sync_frees;          /* cudaFree + cudaFreeHost calls: each synchronises the device */
int mock_pools_supported = 1;    /* cudaDevAttrMemoryPoolsSupported */
size_t mock_fft_forward_execs;   /* forward transforms queued (one per FFT chunk) */
long long mock_fft_last_batch;   /* the batch of the last forward transform */
unsigned long long mock_rng = 0x9E3779B97F4A7C15ull;

static void violation(const char *fmt, const char *what) {
  fprintf(stderr, "mock: VIOLATION: ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\n");
  mock_violations++;
}

static unsigned long long rnd(void) {
  mock_rng ^= mock_rng << 13;
  mock_rng ^= mock_rng >> 7;
  mock_rng ^= mock_rng << 17;
  return mock_rng;
}

/* ---- errors ---- */
static _Thread_local cudaError_t last_err;
static cudaError_t sticky;
static cudaError_t ret(cudaError_t e) {
  if (sticky != cudaSuccess) e = sticky;
  if (e != cudaSuccess) last_err = e;
  return e;
}
void mock_set_last_error(cudaError_t e) { last_err = e; }
void mock_clear_sticky(void) { sticky = cudaSuccess; last_err = cudaSuccess; }
cudaError_t cudaGetLastError(void) {
  cudaError_t e = sticky != cudaSuccess ? sticky : last_err;
  last_err = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError(void) { return sticky != cudaSuccess ? sticky : last_err; }
const char *cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "mockError"; }
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "mock error"; }

/* ---- devices and contexts ---- */
static _Thread_local int cur_ctx = -1; /* -1: no current context */
static int ctx_obj[MOCK_DEVICES];
/* A call that needs a context makes the current device's (device 0's if none) current. */
static int ctx(void) {
  if (cur_ctx < 0) cur_ctx = 0;
  mock_ctx_made[cur_ctx] = 1;
  return cur_ctx;
}
int mock_current_context(void) { return cur_ctx; }
cudaError_t cudaGetDevice(int *d) { *d = cur_ctx < 0 ? 0 : cur_ctx; return ret(cudaSuccess); }
cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= MOCK_DEVICES) return ret(cudaErrorInvalidDevice);
  cur_ctx = d;
  mock_ctx_made[d] = 1;
  return ret(cudaSuccess);
}
cudaError_t cudaGetDeviceCount(int *n) { *n = MOCK_DEVICES; return ret(cudaSuccess); }
static int mock_cuCtxGetCurrent(void **c) { *c = cur_ctx < 0 ? NULL : &ctx_obj[cur_ctx]; return 0; }
static int mock_cuCtxSetCurrent(void *c) {
  if (c == NULL) { cur_ctx = -1; return 0; }
  cur_ctx = (int)((int *)c - ctx_obj);
  return 0;
}
cudaError_t cudaGetDriverEntryPointByVersion(const char *sym, void **fn, unsigned int v,
                                             unsigned long long flags,
                                             enum cudaDriverEntryPointQueryResult *q) {
  (void)v; (void)flags;
  *fn = strcmp(sym, "cuCtxGetCurrent") == 0   ? (void *)mock_cuCtxGetCurrent
        : strcmp(sym, "cuCtxSetCurrent") == 0 ? (void *)mock_cuCtxSetCurrent
                                              : NULL;
  if (q) *q = *fn ? cudaDriverEntryPointSuccess : cudaDriverEntryPointSymbolNotFound;
  return ret(cudaSuccess);
}
cudaError_t cudaMemGetInfo(size_t *f, size_t *t) { ctx(); *f = mock_free_mem; *t = mock_free_mem * 2; return ret(cudaSuccess); }
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int dev) {
  memset(p, 0, sizeof *p);
  if (dev < 0 || dev >= MOCK_DEVICES) return ret(cudaErrorInvalidDevice);
  snprintf(p->name, sizeof p->name, "mock device %d", dev);
  p->major = 9;
  p->multiProcessorCount = 132;
  p->totalGlobalMem = mock_free_mem * 2;
  return ret(cudaSuccess);
}
cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int dev) {
  if (dev < 0 || dev >= MOCK_DEVICES) return ret(cudaErrorInvalidDevice);
  *v = a == cudaDevAttrMaxPitch ? (int)mock_max_pitch : a == cudaDevAttrMemoryPoolsSupported ? mock_pools_supported : 0;
  return ret(cudaSuccess);
}

/* ---- memory registry ---- */
enum { K_DEV, K_PINNED, K_MANAGED };
#define MAXA 100000
static struct { char *p; size_t n; int kind, dev; } reg[MAXA];
static int nreg;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static void reg_add(void *p, size_t n, int kind, int dev) {
  pthread_mutex_lock(&reg_lock);
  reg[nreg].p = p; reg[nreg].n = n; reg[nreg].kind = kind; reg[nreg].dev = dev; nreg++;
  pthread_mutex_unlock(&reg_lock);
}
static int reg_find(const void *p) {
  for (int i = nreg - 1; i >= 0; i--)
    if ((const char *)p >= reg[i].p && (const char *)p < reg[i].p + (reg[i].n ? reg[i].n : 1)) return i;
  return -1;
}
/* -1: pageable host memory; else the registry index. Reports ranges that leave an allocation. */
static int classify(const void *p, size_t extent, const char *what) {
  int i = reg_find(p);
  if (i >= 0 && (const char *)p + extent > reg[i].p + reg[i].n) violation("%s runs past the end of its allocation", what);
  return i;
}
static cudaError_t alloc(void **p, size_t n, int kind) {
  *p = malloc(n ? n : 1);
  if (!*p) return ret(cudaErrorMemoryAllocation);
  memset(*p, 0xFF, n); /* NaN pattern: uninitialised reads show up as NaN */
  reg_add(*p, n, kind, ctx());
  return cudaSuccess;
}
cudaError_t cudaMalloc(void **p, size_t n) {
  if (sticky) return ret(sticky);
  cudaError_t e = alloc(p, n, K_DEV);
  if (e) return e;
  mock_live_dev++;
  mock_dev_bytes += n;
  return ret(cudaSuccess);
}
cudaError_t cudaMallocManaged(void **p, size_t n, unsigned flags) {
  (void)flags;
  cudaError_t e = alloc(p, n, K_MANAGED);
  if (e) return e;
  mock_live_dev++;
  return ret(cudaSuccess);
}
static void drain_all(void);
/* Releases a device or managed allocation at once. */
static void release_dev(void *p, const char *what) {
  pthread_mutex_lock(&reg_lock);
  int i = reg_find(p);
  if (i < 0 || reg[i].p != p || reg[i].kind == K_PINNED) { fprintf(stderr, "mock: %s of unknown %p\n", what, p); abort(); }
  if (reg[i].kind == K_DEV) mock_dev_bytes -= reg[i].n;
  reg[i] = reg[--nreg];
  pthread_mutex_unlock(&reg_lock);
  free(p);
  mock_live_dev--;
}
cudaError_t cudaFree(void *p) {
  if (!p) return ret(cudaSuccess);
  mock_sync_frees++;
  drain_all(); /* cudaFree synchronises the device */
  release_dev(p, "cudaFree");
  return ret(cudaSuccess);
}
cudaError_t cudaMallocHost(void **p, size_t n) {
  if (mock_fail_pinned) { *p = NULL; return ret(cudaErrorMemoryAllocation); }
  cudaError_t e = alloc(p, n, K_PINNED);
  if (e) return e;
  mock_live_host++;
  mock_host_allocs++;
  return ret(cudaSuccess);
}
cudaError_t cudaFreeHost(void *p) {
  mock_sync_frees++;
  drain_all();
  pthread_mutex_lock(&reg_lock);
  int i = reg_find(p);
  if (i < 0 || reg[i].p != p || reg[i].kind != K_PINNED) { fprintf(stderr, "mock: cudaFreeHost of unknown %p\n", p); abort(); }
  reg[i] = reg[--nreg];
  pthread_mutex_unlock(&reg_lock);
  free(p);
  mock_live_host--;
  return ret(cudaSuccess);
}
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p) {
  memset(a, 0, sizeof *a);
  int i = reg_find(p);
  if (i < 0) { a->type = cudaMemoryTypeUnregistered; a->device = -2; return ret(cudaSuccess); }
  a->device = reg[i].dev;
  a->type = reg[i].kind == K_PINNED ? cudaMemoryTypeHost : reg[i].kind == K_MANAGED ? cudaMemoryTypeManaged : cudaMemoryTypeDevice;
  if (reg[i].kind != K_DEV) a->hostPointer = (void *)p;
  if (reg[i].kind != K_PINNED) a->devicePointer = (void *)p;
  return ret(cudaSuccess);
}

/* ---- streams, events and the queue ---- */
typedef struct mevent { unsigned long long recorded, done; int destroyed; } mevent;
typedef struct mop {
  int kind; /* 0 run, 1 record, 2 wait */
  void (*run)(void *);
  void *arg;
  mevent *ev;
  unsigned long long gen;
  struct mop *next;
} mop;
typedef struct mstream { int device, destroyed; mop *head, *tail; } mstream;
#define MAXS 4096
static mstream *streams[MAXS]; /* every stream ever made (destroyed ones stay, marked) */
static int nstreams;
static mstream legacy; /* the NULL stream: its work runs at once, after everything queued */

static mstream *stream_of(cudaStream_t s, const char *what) {
  if (s == NULL) return &legacy;
  mstream *m = (mstream *)s;
  if (m->destroyed) violation("%s on a destroyed stream", what);
  return m;
}
static int runnable(mstream *m) {
  if (!m->head) return 0;
  return m->head->kind != 2 || m->head->ev->done >= m->head->gen;
}
static void step(mstream *m) {
  mop *o = m->head;
  m->head = o->next;
  if (!m->head) m->tail = NULL;
  if (o->kind == 0) o->run(o->arg);
  else if (o->kind == 1 && o->ev->done < o->gen) o->ev->done = o->gen;
  free(o);
}
/* Runs queued work, one operation at a time from a randomly chosen stream that can run, until
 * done(arg) holds. */
static void run_until(int (*done)(void *), void *arg) {
  while (!done(arg)) {
    mstream *cand[MAXS];
    int n = 0;
    for (int i = 0; i < nstreams; i++)
      if (runnable(streams[i])) cand[n++] = streams[i];
    if (n == 0) { fprintf(stderr, "mock: synchronisation can never complete (waits on events never recorded)\n"); abort(); }
    step(cand[rnd() % (unsigned)n]);
  }
}
static int stream_empty(void *m) { return ((mstream *)m)->head == NULL; }
static int all_empty(void *unused) {
  (void)unused;
  for (int i = 0; i < nstreams; i++) if (streams[i]->head) return 0;
  return 1;
}
static void drain_all(void) { run_until(all_empty, NULL); }
static void sync_stream(mstream *m) {
  if (m == &legacy) drain_all(); else run_until(stream_empty, m);
}
static void enqueue(mstream *m, int kind, void (*run)(void *), void *arg, mevent *ev, unsigned long long gen) {
  if (m == &legacy) { /* the legacy stream waits for all work, and all work waits for it */
    drain_all();
    if (kind == 0) run(arg);
    else if (kind == 1 && ev->done < gen) ev->done = gen;
    return;
  }
  mop *o = calloc(1, sizeof *o);
  o->kind = kind; o->run = run; o->arg = arg; o->ev = ev; o->gen = gen;
  if (m->tail) m->tail->next = o; else m->head = o;
  m->tail = o;
}
void mock_enqueue(cudaStream_t s, void (*run)(void *), void *arg) { enqueue(stream_of(s, "kernel launch"), 0, run, arg, NULL, 0); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned f) {
  (void)f;
  if (sticky) return ret(sticky);
  if (nstreams == MAXS) { fprintf(stderr, "mock: too many streams\n"); abort(); }
  mstream *m = calloc(1, sizeof *m);
  m->device = ctx();
  streams[nstreams++] = m;
  *s = (cudaStream_t)m;
  return ret(cudaSuccess);
}
cudaError_t cudaStreamCreate(cudaStream_t *s) { return cudaStreamCreateWithFlags(s, 0); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  mstream *m = stream_of(s, "cudaStreamDestroy");
  sync_stream(m); /* its work completes; the handle is dead from now on */
  m->destroyed = 1;
  return ret(cudaSuccess);
}
cudaError_t cudaStreamGetDevice(cudaStream_t s, int *d) {
  if (s == NULL) { *d = cur_ctx < 0 ? 0 : cur_ctx; return ret(cudaSuccess); }
  mstream *m = (mstream *)s;
  if (m->destroyed) return ret(cudaErrorInvalidResourceHandle);
  *d = m->device;
  return ret(cudaSuccess);
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  sync_stream(stream_of(s, "cudaStreamSynchronize"));
  return ret(cudaSuccess);
}
cudaError_t cudaDeviceSynchronize(void) { drain_all(); return ret(cudaSuccess); }
static mevent **events; /* every event ever made: queued operations may still name a
                          destroyed one, so none is freed; kept reachable for the leak checker */
static size_t nevents, events_cap;
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned f) {
  (void)f;
  if (sticky) return ret(sticky);
  if (nevents == events_cap) {
    events_cap = events_cap ? 2 * events_cap : 1024;
    events = realloc(events, events_cap * sizeof *events);
    if (!events) abort();
  }
  mevent *v = calloc(1, sizeof *v);
  events[nevents++] = v;
  *e = (cudaEvent_t)v;
  return ret(cudaSuccess);
}
cudaError_t cudaEventDestroy(cudaEvent_t e) { ((mevent *)e)->destroyed = 1; return ret(cudaSuccess); }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  mevent *v = (mevent *)e;
  if (v->destroyed) violation("%s of a destroyed event", "cudaEventRecord");
  enqueue(stream_of(s, "cudaEventRecord"), 1, NULL, NULL, v, ++v->recorded);
  return ret(cudaSuccess);
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned f) {
  (void)f;
  mevent *v = (mevent *)e;
  enqueue(stream_of(s, "cudaStreamWaitEvent"), 2, NULL, NULL, v, v->recorded);
  return ret(cudaSuccess);
}
static int event_done(void *v) { return ((mevent *)v)->done >= ((mevent *)v)->recorded; }
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  run_until(event_done, e);
  return ret(cudaSuccess);
}

/* ---- stream-ordered allocation (the device's default memory pool) ---- */
/* cudaMallocAsync: the memory is returned at once and is valid in the stream's order (the
 * mock does not check other streams' ordering); cudaFreeAsync queues the release behind the
 * stream's work, so a later operation of another stream that is not ordered after it reads
 * freed memory (ASan reports it) and nothing waits for the device. Refused (like the real
 * runtime) on a device without pools. */
cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t st) {
  if (sticky) return ret(sticky);
  if (!mock_pools_supported) return ret(cudaErrorNotSupported);
  (void)stream_of(st, "cudaMallocAsync");
  cudaError_t e = alloc(p, n, K_DEV);
  if (e) return e;
  mock_live_dev++;
  mock_dev_bytes += n;
  return ret(cudaSuccess);
}
static void run_free(void *p) { release_dev(p, "cudaFreeAsync"); }
cudaError_t cudaFreeAsync(void *p, cudaStream_t st) {
  if (!p) return ret(cudaSuccess);
  if (!mock_pools_supported) return ret(cudaErrorNotSupported);
  int i = reg_find(p);
  if (i < 0 || reg[i].p != p || reg[i].kind != K_DEV) { fprintf(stderr, "mock: cudaFreeAsync of unknown %p\n", p); abort(); }
  enqueue(stream_of(st, "cudaFreeAsync"), 0, run_free, p, NULL, 0);
  return ret(sticky != cudaSuccess ? sticky : cudaSuccess);
}

/* ---- copies and memsets ---- */
typedef struct copy_op { char *d; const char *s; size_t dp, sp, w, h; char *own; int set; int v; } copy_op;
static void run_copy(void *a) {
  copy_op *c = a;
  for (size_t r = 0; r < c->h; r++) {
    if (c->set) memset(c->d + r * c->dp, c->v, c->w);
    else memcpy(c->d + r * c->dp, c->s + r * c->sp, c->w);
  }
  free(c->own);
  free(c);
}
static cudaError_t copy2d(void *d, size_t dp, const void *s, size_t sp, size_t w, size_t h, cudaStream_t st) {
  if (sticky) return ret(sticky);
  if (w == 0 || h == 0) return ret(cudaSuccess);
  if (h > 1 && (dp > mock_max_pitch || sp > mock_max_pitch || w > dp || w > sp)) return ret(cudaErrorInvalidPitchValue);
  mstream *m = stream_of(st, "copy");
  const size_t dext = (h - 1) * dp + w, sext = (h - 1) * sp + w;
  const int di = classify(d, dext, "copy destination"), si = classify(s, sext, "copy source");
  copy_op *c = calloc(1, sizeof *c);
  c->d = d; c->s = s; c->dp = dp; c->sp = sp; c->w = w; c->h = h;
  if (si < 0) {
    /* From pageable memory: the stream's earlier work first, and the source read now (the
     * runtime stages it before returning). */
    sync_stream(m);
    c->own = malloc(w * h);
    for (size_t r = 0; r < h; r++) memcpy(c->own + r * w, (const char *)s + r * sp, w);
    c->s = c->own; c->sp = w;
  }
  if (di < 0) {
    /* Into pageable memory: complete before returning. */
    sync_stream(m);
    run_copy(c);
    return ret(cudaSuccess);
  }
  enqueue(m, 0, run_copy, c, NULL, 0);
  return ret(cudaSuccess);
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, enum cudaMemcpyKind k, cudaStream_t st) {
  (void)k;
  return copy2d(d, n, s, n, n, 1, st);
}
cudaError_t cudaMemcpy2DAsync(void *d, size_t dp, const void *s, size_t sp, size_t w, size_t h,
                              enum cudaMemcpyKind k, cudaStream_t st) {
  (void)k;
  return copy2d(d, dp, s, sp, w, h, st);
}
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, enum cudaMemcpyKind k) {
  (void)k;
  drain_all();
  cudaError_t e = copy2d(d, n, s, n, n, 1, NULL);
  return e;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st) {
  if (sticky) return ret(sticky);
  if (classify(d, n, "memset") < 0) violation("%s of host memory", "cudaMemsetAsync");
  copy_op *c = calloc(1, sizeof *c);
  c->d = d; c->w = n; c->h = 1; c->set = 1; c->v = v;
  enqueue(stream_of(st, "cudaMemsetAsync"), 0, run_copy, c, NULL, 0);
  return ret(cudaSuccess);
}

/* ---- kernel launches (emu_kernels.cpp) ---- */
/* Checks a launch the way the runtime does, counts down the injected failures, and returns
 * 1 when the kernel may be queued. A failed launch only sets the last-error slot. */
int mock_launch_ok(unsigned grid, unsigned threads, size_t smem, cudaStream_t s) {
  (void)stream_of(s, "kernel launch");
  cudaError_t e = cudaSuccess;
  if (threads == 0 || threads > 1024 || grid == 0 || grid > 2147483647u || smem > 48 * 1024)
    e = cudaErrorInvalidConfiguration;
  if (mock_fail_launch > 0 && --mock_fail_launch == 0) e = mock_fail_launch_code;
  if (mock_sticky_at_launch > 0 && --mock_sticky_at_launch == 0) sticky = cudaErrorIllegalAddress;
  if (sticky) e = sticky;
  if (e != cudaSuccess) { last_err = e; return 0; }
  return 1;
}

/* ---- cuFFT ---- */
typedef struct {
  long long n, idist, odist, inembed, onembed, batch;
  cufftType type;
  int made, in_use;
  void *work;
  size_t work_bytes;
  cudaStream_t stream;
} mplan;
static mplan plans[1024];
cufftResult cufftCreate(cufftHandle *h) {
  for (int i = 0; i < 1024; i++)
    if (!plans[i].in_use) { memset(&plans[i], 0, sizeof plans[i]); plans[i].in_use = 1; *h = i; return CUFFT_SUCCESS; }
  return CUFFT_ALLOC_FAILED;
}
cufftResult cufftSetAutoAllocation(cufftHandle h, int a) { (void)h; (void)a; return CUFFT_SUCCESS; }
cufftResult cufftMakePlanMany64(cufftHandle h, int rank, long long *n, long long *ie, long long is,
                                long long id, long long *oe, long long os, long long od,
                                cufftType t, long long batch, size_t *ws) {
  if (mock_cufft_refuse != CUFFT_SUCCESS) return mock_cufft_refuse;
  if (rank != 1 || is != 1 || os != 1 || n[0] < 1 || batch < 1) return CUFFT_INVALID_VALUE;
  if (n[0] > mock_cufft_max_len) return CUFFT_INVALID_SIZE;
  const int r2c = t == CUFFT_R2C || t == CUFFT_D2Z;
  const long long reals = n[0], bins = n[0] / 2 + 1;
  /* The embeddings must hold one transform's input and output. */
  if (ie[0] < (r2c ? reals : bins) || oe[0] < (r2c ? bins : reals) || id < ie[0] || od < oe[0]) return CUFFT_INVALID_VALUE;
  mplan *p = &plans[h];
  p->n = n[0]; p->idist = id; p->odist = od; p->inembed = ie[0]; p->onembed = oe[0]; p->batch = batch; p->type = t; p->made = 1;
  *ws = 1000 + (size_t)batch * 8;
  p->work_bytes = *ws;
  return CUFFT_SUCCESS;
}
cufftResult cufftSetWorkArea(cufftHandle h, void *w) { plans[h].work = w; return CUFFT_SUCCESS; }
cufftResult cufftSetStream(cufftHandle h, cudaStream_t s) {
  if (s != NULL) (void)stream_of(s, "cufftSetStream");
  plans[h].stream = s;
  return CUFFT_SUCCESS;
}
cufftResult cufftDestroy(cufftHandle h) {
  /* The real cuFFT may use the plan's stream while destroying it (crash if destroyed). */
  if (plans[h].stream != NULL && ((mstream *)plans[h].stream)->destroyed)
    violation("%s: the plan's stream was destroyed before the plan", "cufftDestroy");
  plans[h].made = 0;
  plans[h].in_use = 0;
  return CUFFT_SUCCESS;
}

/* Pairwise sums, so a float transform's rounding error grows like log n as cuFFT's does. */
static float complex psum_f(const float complex *x, long long n) {
  if (n <= 8) { float complex s = 0; for (long long i = 0; i < n; i++) s += x[i]; return s; }
  return psum_f(x, n / 2) + psum_f(x + n / 2, n - n / 2);
}
static double complex psum_d(const double complex *x, long long n) {
  if (n <= 8) { double complex s = 0; for (long long i = 0; i < n; i++) s += x[i]; return s; }
  return psum_d(x, n / 2) + psum_d(x + n / 2, n - n / 2);
}
typedef struct { mplan p; void *in, *out; int dbl, fwd; } fft_op;
static void run_fft(void *a) {
  fft_op *f = a;
  mplan *p = &f->p;
  const long long n = p->n, bins = n / 2 + 1;
  double complex *td = malloc(sizeof(double complex) * (size_t)n);
  float complex *tf = malloc(sizeof(float complex) * (size_t)n);
  double complex *X = malloc(sizeof(double complex) * (size_t)n);
  double *x = malloc(sizeof(double) * (size_t)n);
  /* Twiddles exp(-+2 pi i m / n), rounded to float for float plans as cuFFT's tables are. */
  double complex *wd = malloc(sizeof(double complex) * (size_t)n);
  float complex *wf = malloc(sizeof(float complex) * (size_t)n);
  for (long long m = 0; m < n; m++) {
    const double ang = (f->fwd ? -2 : 2) * M_PI * (double)m / (double)n;
    wd[m] = cos(ang) + I * sin(ang);
    wf[m] = (float)cos(ang) + I * (float)sin(ang);
  }
  for (long long b = 0; b < p->batch; b++) {
    if (f->fwd) {
      for (long long j = 0; j < n; j++) {
        double v = f->dbl ? ((const double *)f->in)[b * p->idist + j] : ((const float *)f->in)[b * p->idist + j];
        if (isnan(v)) fprintf(stderr, "mock: R2C reads NaN (uninitialised?) batch %lld j %lld\n", b, j);
        x[j] = v;
      }
      for (long long k = 0; k < bins; k++) {
        for (long long j = 0; j < n; j++) {
          const long long m = (j * k) % n;
          if (f->dbl) td[j] = x[j] * wd[m];
          else tf[j] = (float)x[j] * wf[m];
        }
        X[k] = f->dbl ? psum_d(td, n) : (double complex)psum_f(tf, n);
      }
      for (long long k = 0; k < bins; k++) {
        if (f->dbl) { ((double *)f->out)[2 * (b * p->odist + k)] = creal(X[k]); ((double *)f->out)[2 * (b * p->odist + k) + 1] = cimag(X[k]); }
        else { ((float *)f->out)[2 * (b * p->odist + k)] = (float)creal(X[k]); ((float *)f->out)[2 * (b * p->odist + k) + 1] = (float)cimag(X[k]); }
      }
    } else {
      for (long long k = 0; k < bins; k++) {
        double re = f->dbl ? ((const double *)f->in)[2 * (b * p->idist + k)] : ((const float *)f->in)[2 * (b * p->idist + k)];
        double im = f->dbl ? ((const double *)f->in)[2 * (b * p->idist + k) + 1] : ((const float *)f->in)[2 * (b * p->idist + k) + 1];
        X[k] = re + I * im;
      }
      for (long long j = 0; j < n; j++) {
        /* Hermitian extension: bin k and n - k. */
        for (long long k = 0; k < n; k++) {
          double complex v = k < bins ? X[k] : conj(X[n - k]);
          const long long m = (j * k) % n;
          if (f->dbl) td[k] = v * wd[m];
          else tf[k] = (float complex)v * wf[m];
        }
        x[j] = creal(f->dbl ? psum_d(td, n) : (double complex)psum_f(tf, n));
      }
      for (long long j = 0; j < n; j++) {
        if (f->dbl) ((double *)f->out)[b * p->odist + j] = x[j]; else ((float *)f->out)[b * p->odist + j] = (float)x[j];
      }
    }
  }
  free(td); free(tf); free(X); free(x); free(wd); free(wf); free(f);
}
static cufftResult exec(cufftHandle h, void *in, void *out, cufftType want, int dbl, int fwd) {
  mplan *p = &plans[h];
  if (!p->made) return CUFFT_INVALID_PLAN;
  if (p->type != want) return CUFFT_INVALID_TYPE;
  if (p->work == NULL) return CUFFT_INVALID_VALUE;
  const size_t es = dbl ? 8 : 4;
  const size_t in_units = fwd ? 1 : 2, out_units = fwd ? 2 : 1; /* reals per element */
  if (in == out && (fwd ? p->idist != 2 * p->odist : 2 * p->idist != p->odist)) return CUFFT_INVALID_VALUE;
  (void)classify(in, (size_t)(p->batch * p->idist) * in_units * es, "cuFFT input");
  (void)classify(out, (size_t)(p->batch * p->odist) * out_units * es, "cuFFT output");
  for (size_t i = 0; i + 4 <= p->work_bytes && i < 256; i += 4)
    if (memcmp((const char *)p->work + i, "\xff\xff\xff\xff", 4) == 0) { violation("%s reads a workspace nobody initialised", "cuFFT"); break; }
  if (fwd) { mock_fft_forward_execs++; mock_fft_last_batch = p->batch; }
  fft_op *f = malloc(sizeof *f);
  f->p = *p; f->in = in; f->out = out; f->dbl = dbl; f->fwd = fwd;
  enqueue(stream_of(p->stream, "cuFFT execution"), 0, run_fft, f, NULL, 0);
  return CUFFT_SUCCESS;
}
cufftResult cufftExecR2C(cufftHandle h, cufftReal *i, cufftComplex *o) { return exec(h, i, o, CUFFT_R2C, 0, 1); }
cufftResult cufftExecD2Z(cufftHandle h, cufftDoubleReal *i, cufftDoubleComplex *o) { return exec(h, i, o, CUFFT_D2Z, 1, 1); }
cufftResult cufftExecC2R(cufftHandle h, cufftComplex *i, cufftReal *o) { return exec(h, i, o, CUFFT_C2R, 0, 0); }
cufftResult cufftExecZ2D(cufftHandle h, cufftDoubleComplex *i, cufftDoubleReal *o) { return exec(h, i, o, CUFFT_Z2D, 1, 0); }
