/*
 * libFuzzer target for the public API's argument checks and small executions.
 *
 * Build and run: scripts/ci-fuzz.sh (or see tests/fuzz/CMakeLists.txt). Needs clang with
 * -fsanitize=fuzzer,address,undefined; links dwconv_static built with the same
 * instrumentation (-fsanitize=fuzzer-no-link) and tests/test_common.c (long-double reference)
 * against the Check stand-in (no Check library needed).
 *
 * Each input decodes to one descriptor (sizes, enums, threads -- in range or not, small or
 * huge), strides lda / ldb / ldc (natural, padded, too small, zero, negative, huge), the
 * positions of A, B and C (or NULL) inside one arena fenced by PROT_NONE guard regions, the
 * call sequence (plan path with or without set_kernel, or the one-shot call) and the data.
 * An independent model of the documented rules says whether each call is valid. Then:
 *  - every call returns a status, never crashes (ASan / UBSan / guard pages watch);
 *  - an invalid call fails (with the exact status when a single rule is broken), writes
 *    nothing: the arena is bitwise unchanged, and plan_create leaves *plan NULL;
 *  - a valid call on small sizes succeeds; on huge sizes it may only report SIZE_OVERFLOW or
 *    OUT_OF_MEMORY; valid calls whose arrays would not fit in the arena are not made (that
 *    would be the caller's bug);
 *  - after a successful execute, nothing outside C's output elements changed (A, B, row
 *    padding, the rest of the arena) and C matches the long-double reference within the
 *    suite's tolerance.
 */
#define _GNU_SOURCE 1 /* pthread_barrier_t, setenv, mmap flags, clock_gettime under -std=c11 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "test_common.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define FZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef FZ_POISON
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_BYTES (128u * 1024u)
#define GUARD_BYTES (1u << 20)
/* "Small": every array's span under this many bytes, so the plan must be creatable. */
#define SMALL_BYTES (1u << 20)

static unsigned char *arena, *snap, *expect;

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1:detect_leaks=1"; }

static void setup(void) {
  if (arena != NULL) return;
  size_t total = (size_t)GUARD_BYTES * 2 + ARENA_BYTES;
  unsigned char *m = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) abort();
  arena = m + GUARD_BYTES;
  if (mprotect(arena, ARENA_BYTES, PROT_READ | PROT_WRITE) != 0) abort();
  snap = malloc(ARENA_BYTES);
  expect = malloc(ARENA_BYTES);
  if (snap == NULL || expect == NULL) abort();
}

typedef struct reader {
  const uint8_t *p;
  size_t n, i;
} reader;

static uint8_t rd8(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static uint16_t rd16(reader *r) {
  uint16_t lo = rd8(r);
  return (uint16_t)(lo | (uint16_t)rd8(r) << 8);
}

static const size_t k_huge[] = {
    SIZE_MAX,
    SIZE_MAX / 2,
    SIZE_MAX / 2 + 1,
    (size_t)PTRDIFF_MAX / 4 + 1,
    (size_t)PTRDIFF_MAX / 8,
    (size_t)1 << 40,
    (size_t)1 << 33,
    ((size_t)1 << 32) + 1,
    ((size_t)1 << 31) + 5,
    ((size_t)1 << 31) - 1,
    65537,
    (size_t)1 << 62,
};
#define N_HUGE (sizeof k_huge / sizeof k_huge[0])

/* A length: mostly 0..199, sometimes a huge value. */
static size_t rd_len(reader *r, int allow_huge) {
  uint16_t v = rd16(r);
  if (allow_huge && (v & 0x8000) && (v & 0x7000) == 0x7000) return k_huge[(v & 0xff) % N_HUGE];
  return (size_t)(v & 0x7fff) % 200;
}

/* An enum value: mostly in range, sometimes anything. */
static int rd_enum(reader *r, int count) {
  uint8_t b = rd8(r);
  if (b < 232) return b % count;
  return (int)b - 240; /* -8 .. 15 */
}

/* A stride relative to the natural one. */
static ptrdiff_t sat_add(ptrdiff_t a, ptrdiff_t b) { return a > PTRDIFF_MAX - b ? PTRDIFF_MAX : a + b; }

static ptrdiff_t rd_stride(reader *r, size_t natural) {
  uint8_t kind = rd8(r), x = rd8(r);
  ptrdiff_t nat = natural > (size_t)PTRDIFF_MAX ? PTRDIFF_MAX : (ptrdiff_t)natural;
  switch (kind % 10) {
    case 0: return 0;
    case 1: case 2: case 3: return nat;
    case 4: return sat_add(nat, x % 8);
    case 5: return nat - 1 - (x % 3);
    case 6: return -1 - (ptrdiff_t)(x % 4);
    case 7: return (ptrdiff_t)(k_huge[x % N_HUGE] > (size_t)PTRDIFF_MAX ? PTRDIFF_MAX : k_huge[x % N_HUGE]);
    case 8: return sat_add(nat, (ptrdiff_t)x * 3);
    default: return (ptrdiff_t)x;
  }
}

/* ---- the model of the documented rules ---- */

static int mul_ok(size_t a, size_t b, size_t *o) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *o = a * b;
  return 1;
}

/* Bytes spanned by rows of len at stride ld (ld = 0: one row); 0 = does not fit ptrdiff_t. */
static size_t span(size_t rows, size_t ld, size_t len, size_t es) {
  size_t last, elems, bytes;
  if (rows == 0) return 0;
  if (!mul_ok(rows - 1, ld, &last) || last > SIZE_MAX - len) return 0;
  elems = last + len;
  if (!mul_ok(elems, es, &bytes) || bytes > (size_t)PTRDIFF_MAX) return 0;
  return bytes;
}

enum { V_OK = 0, V_INVALID = 1, V_OVERFLOW = 2, V_NODEV = 4, V_KNS = 8, V_NOTSUP = 16 };

typedef struct model {
  unsigned create, kernel, exec; /* V_* flags: broken rules per call */
  size_t out_len, es;
  size_t a_bytes, b_bytes, c_bytes;
  int small;
  int fft; /* the plan runs the FFT path (from dwconv_plan_get_info) */
} model;

static size_t out_len_of(int mode, size_t n, size_t p, int *ovf) {
  *ovf = 0;
  if (n > SIZE_MAX - p + 1) {
    *ovf = 1;
    return 0;
  }
  switch (mode) {
    case DWCONV_MODE_FULL: return n + p - 1;
    case DWCONV_MODE_VALID: return (n > p ? n - p : p - n) + 1;
    default: return n;
  }
}

static unsigned status_flag(dwconv_status st) {
  switch (st) {
    case DWCONV_SUCCESS: return V_OK;
    case DWCONV_ERROR_INVALID_VALUE: return V_INVALID;
    case DWCONV_ERROR_SIZE_OVERFLOW: return V_OVERFLOW;
    case DWCONV_ERROR_NO_DEVICE: return V_NODEV;
    case DWCONV_ERROR_KERNEL_NOT_SET: return V_KNS;
    case DWCONV_ERROR_NOT_SUPPORTED: return V_NOTSUP;
    default: return 0x100;
  }
}

/* Failing call: status must be one of the broken rules' (exact when only one is broken). */
static void expect_failure(const char *call, unsigned broken, dwconv_status st) {
  unsigned f = status_flag(st);
  if (st == DWCONV_SUCCESS || !(f & broken)) {
    fprintf(stderr, "%s: rules broken 0x%x but status %s (%s)\n", call, broken, dwconv_status_string(st),
            dwconv_last_error());
    abort();
  }
  if (dwconv_last_error()[0] == '\0') {
    fprintf(stderr, "%s: failed with no message\n", call);
    abort();
  }
}

/* Valid call: small sizes must succeed; huge ones may only run out of memory / limits. */
static int expect_valid(const char *call, int small, dwconv_status st) {
  if (st == DWCONV_SUCCESS) return 1;
  if (!small && (st == DWCONV_ERROR_OUT_OF_MEMORY || st == DWCONV_ERROR_SIZE_OVERFLOW)) return 0;
  fprintf(stderr, "%s: valid call failed: %s (%s)\n", call, dwconv_status_string(st), dwconv_last_error());
  abort();
}

static void arena_unchanged(const char *call) {
  if (memcmp(arena, snap, ARENA_BYTES) != 0) {
    fprintf(stderr, "%s: a failed call changed memory\n", call);
    abort();
  }
}

/* After a successful execute: only C's output elements changed, and they are right. */
static void check_result(const dwconv_desc *d, const model *m, size_t offA, ptrdiff_t lda, size_t offB,
                         ptrdiff_t ldb, size_t offC, ptrdiff_t ldc) {
  memcpy(expect, snap, ARENA_BYTES);
  for (size_t r = 0; r < d->rows; r++) {
    size_t o = offC + r * (size_t)ldc * m->es;
    memcpy(expect + o, arena + o, m->out_len * m->es);
  }
  if (memcmp(expect, arena, ARENA_BYTES) != 0) {
    fprintf(stderr, "execute wrote outside C's output elements (or changed A)\n");
    abort();
  }
  long double *ref = tc_ref_problem(d, snap + offA, lda, snap + offB, ldb);
  if (ref == NULL) abort();
  /* Per row: ||C - ref|| <= tol * scale. scale is the suite's (tc_rel_err: max(||ref||,
   * 0.5 sqrt(sum of squared products))); for FFT plans also ||a_row|| ||b_row||, the
   * normwise scale of an FFT convolution's rounding error, which does not shrink with the
   * part of the full convolution a mode keeps (SAME / VALID with P >> N keep a window whose
   * own products are small next to the row's energy: fuzzing found a 1.9e-5 relative error
   * there for float32, rows 7 N 2 P 50 SAME, against the suite's 1e-5). */
  const size_t rows = d->rows, len = m->out_len, n = d->signal_len, p = d->kernel_len;
  double worst = 0.0;
  for (size_t r = 0; r < rows; r++) {
    const unsigned char *c = arena + offC + r * (size_t)ldc * m->es;
    const unsigned char *a = snap + offA + (lda == 0 ? 0 : r * (size_t)lda * m->es);
    const unsigned char *b = snap + offB + (ldb == 0 ? 0 : r * (size_t)ldb * m->es);
    long double num = 0, den = 0, sq = 0, na = 0, nb = 0;
    for (size_t i = 0; i < len; i++) {
      long double v = tc_get(c, d->dtype, i), e = v - ref[r * len + i];
      num += e * e;
      den += ref[r * len + i] * ref[r * len + i];
      sq += ref[rows * len + r * len + i];
    }
    if (0.25L * sq > den) den = 0.25L * sq;
    if (d->algo == DWCONV_ALGO_FFT || m->fft) {
      for (size_t i = 0; i < n; i++) na += tc_get(a, d->dtype, i) * tc_get(a, d->dtype, i);
      for (size_t i = 0; i < p; i++) nb += tc_get(b, d->dtype, i) * tc_get(b, d->dtype, i);
      if (na * nb > den) den = na * nb;
    }
    double err = den == 0.0L ? (double)sqrtl(num) : (double)sqrtl(num / den);
    if (!(err <= worst)) worst = err;
  }
  free(ref);
  if (!(worst <= tc_tol(d->dtype))) {
    fprintf(stderr, "result error %g > %g (rows %zu N %zu P %zu %s mode %d op %d algo %d)\n", worst,
            tc_tol(d->dtype), d->rows, d->signal_len, d->kernel_len, tc_dtype_name(d->dtype), (int)d->mode,
            (int)d->op, (int)d->algo);
    abort();
  }
}

/* While the library runs, only the arrays a valid call may touch are addressable: the rest
 * of the arena is ASan-poisoned, so even a one-element over-read is caught. */
static void fence(int b_ok, size_t offB, size_t b_bytes, int ac_ok, size_t offA, size_t a_bytes, size_t offC,
                  size_t c_bytes) {
  FZ_POISON(arena, ARENA_BYTES);
  if (b_ok) FZ_UNPOISON(arena + offB, b_bytes);
  if (ac_ok) {
    FZ_UNPOISON(arena + offA, a_bytes);
    FZ_UNPOISON(arena + offC, c_bytes);
  }
}
static void unfence(void) { FZ_UNPOISON(arena, ARENA_BYTES); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  reader r = {data, size, 0};
  uint8_t flags = rd8(&r);
  int huge_ok = (flags & 0x80) != 0;
  dwconv_desc d = dwconv_desc_make(0, 0, 0, DWCONV_FLOAT32);
  uint8_t rb = rd8(&r);
  d.rows = (huge_ok && rb >= 250) ? k_huge[rb % N_HUGE] : (size_t)(rb % 9);
  d.signal_len = rd_len(&r, huge_ok);
  d.kernel_len = rd_len(&r, huge_ok);
  d.dtype = (dwconv_dtype)rd_enum(&r, 2);
  d.mode = (dwconv_mode)rd_enum(&r, 4);
  d.op = (dwconv_op)rd_enum(&r, 2);
  {
    uint8_t b = rd8(&r);
    d.backend = b < 250 ? (b % 2 ? DWCONV_BACKEND_CPU : DWCONV_BACKEND_AUTO) : (dwconv_backend)((int)b - 251);
  }
  d.algo = (dwconv_algo)rd_enum(&r, 4);
  d.threads = (int)(rd8(&r) % 5) - 1;
  d.device_memory_limit = rd8(&r);

  model m;
  memset(&m, 0, sizeof m);
  int enums_ok = (unsigned)d.dtype <= 1 && (unsigned)d.mode <= 3 && (unsigned)d.op <= 1 &&
                 (unsigned)d.backend <= 2 && (unsigned)d.algo <= 3;
  if (!enums_ok || d.threads < 0 || d.rows == 0 || d.signal_len == 0 || d.kernel_len == 0) m.create |= V_INVALID;
  m.es = d.dtype == DWCONV_FLOAT64 ? 8 : 4;
  int ovf = 0;
  if (enums_ok && d.signal_len && d.kernel_len && d.rows) {
    m.out_len = out_len_of(d.mode, d.signal_len, d.kernel_len, &ovf);
    if (ovf || !span(d.rows, m.out_len, m.out_len, m.es) || !span(d.rows, d.signal_len, d.signal_len, m.es) ||
        !span(d.rows, d.kernel_len, d.kernel_len, m.es))
      m.create |= V_OVERFLOW;
  }
  if (d.backend == DWCONV_BACKEND_CUDA && dwconv_cuda_device_count() == 0) m.create |= V_NODEV;
  /* ALGO_GEMM runs on CUDA plans only: a plan that lands on the CPU refuses it. */
  if (enums_ok && d.algo == DWCONV_ALGO_GEMM &&
      (d.backend == DWCONV_BACKEND_CPU || (d.backend == DWCONV_BACKEND_AUTO && dwconv_cuda_device_count() == 0)))
    m.create |= V_NOTSUP;
  size_t n = d.signal_len, p = d.kernel_len, rows = d.rows;

  /* strides, pointers, call sequence */
  ptrdiff_t lda = rd_stride(&r, n), ldb = rd_stride(&r, p), ldc = rd_stride(&r, m.out_len);
  uint8_t ptrs = rd8(&r);
  size_t es = m.es;
  size_t offA = (size_t)rd16(&r) % (ARENA_BYTES / 2) / es * es;
  size_t offB = (size_t)rd16(&r) % (ARENA_BYTES / 2) / es * es;
  size_t offC = (size_t)rd16(&r) % (ARENA_BYTES / 2) / es * es;
  /* Rarely (the high bits of the pointer byte all but one set), one array is moved off its
   * element alignment by 1..es-1 bytes: that array must then be refused with INVALID_VALUE
   * (A, B and C must be aligned to their element size). */
  const unsigned mis_sel = ptrs >> 3; /* 29: A, 30: B, 31: C */
  const size_t mis_by = 1 + (size_t)(ptrs & 3) % (es - 1);
  if (mis_sel == 29) offA += mis_by;
  if (mis_sel == 30) offB += mis_by;
  if (mis_sel == 31) offC += mis_by;
  unsigned char *A = (ptrs & 1) ? NULL : arena + offA;
  unsigned char *B = (ptrs & 2) ? NULL : arena + offB;
  unsigned char *C = (ptrs & 4) ? NULL : arena + offC;
  const int misA = A != NULL && offA % es != 0, misB = B != NULL && offB % es != 0,
            misC = C != NULL && offC % es != 0;
  int oneshot = (flags & 1) != 0, set_kernel = (flags & 6) != 0;

  /* set_kernel rules */
  if (B == NULL || misB || ldb < 0 || (ldb != 0 && (size_t)ldb < p)) m.kernel |= V_INVALID;
  else if (!(m.b_bytes = span(ldb == 0 ? 1 : rows, (size_t)ldb, p, es))) m.kernel |= V_OVERFLOW;
  /* execute rules */
  if (A == NULL || C == NULL || misA || misC || lda < 0 || ldc < 0 || (lda != 0 && (size_t)lda < n) ||
      (size_t)ldc < m.out_len)
    m.exec |= V_INVALID;
  else {
    m.a_bytes = span(lda == 0 ? 1 : rows, (size_t)lda, n, es);
    m.c_bytes = span(rows, (size_t)ldc, m.out_len, es);
    if (!m.a_bytes || !m.c_bytes) m.exec |= V_OVERFLOW;
    else if ((uintptr_t)A < (uintptr_t)C + m.c_bytes && (uintptr_t)C < (uintptr_t)A + m.a_bytes)
      m.exec |= V_INVALID; /* C overlaps A (whole spans) */
  }
  m.small = !(m.create & V_OVERFLOW) && rows * n * es <= SMALL_BYTES && rows * p * es <= SMALL_BYTES &&
            rows * m.out_len * es <= SMALL_BYTES;
  int b_fits = !m.kernel && offB + m.b_bytes <= ARENA_BYTES;
  int ac_fit = !m.exec && offA + m.a_bytes <= ARENA_BYTES && offC + m.c_bytes <= ARENA_BYTES;

  /* A valid plan's workspace grows with P (FFT blocks L >= P; the direct path's scratch too,
   * see docs/RELIABILITY.md finding 3): valid descriptors with P over 64 MiB of data are not
   * built here, they would only measure the machine's memory. */
  int skip_create = !m.create && p > ((size_t)64 << 20) / m.es;
  if (getenv("FUZZ_API_VERBOSE") != NULL)
    fprintf(stderr,
            "rows %zu N %zu P %zu dtype %d mode %d op %d backend %d algo %d threads %d | lda %td ldb %td ldc %td | "
            "A %s+%zu B %s+%zu C %s+%zu | %s set_kernel %d | broken create 0x%x kernel 0x%x exec 0x%x small %d "
            "out_len %zu a/b/c bytes %zu %zu %zu\n",
            rows, n, p, (int)d.dtype, (int)d.mode, (int)d.op, (int)d.backend, (int)d.algo, d.threads, lda, ldb, ldc,
            A ? "arena" : "NULL", offA, B ? "arena" : "NULL", offB, C ? "arena" : "NULL", offC,
            oneshot ? "one-shot" : "plan", set_kernel, m.create, m.kernel, m.exec, m.small, m.out_len, m.a_bytes,
            m.b_bytes, m.c_bytes);

  /* arena contents: small exact values (k / 16) from the rest of the input */
  {
    size_t count = ARENA_BYTES / es;
    const uint8_t *src = r.i < size ? data + r.i : (const uint8_t *)"\x11\xf3\x05";
    size_t srcn = r.i < size ? size - r.i : 3;
    for (size_t i = 0; i < count; i++) {
      double v = (double)(int8_t)src[i % srcn] / 16.0 + (double)(i % 7) / 64.0;
      if (es == 8) ((double *)arena)[i] = v;
      else ((float *)arena)[i] = (float)v;
    }
  }
  memcpy(snap, arena, ARENA_BYTES);

  if (oneshot) {
    unsigned broken = m.create ? m.create : m.kernel ? m.kernel : m.exec;
    /* set_kernel (reached when create is valid) reads B; execute reads A, writes C: valid
     * accesses to arrays that do not fit in the arena would be the caller's bug */
    if (!m.create && !m.kernel && !(b_fits && (m.exec || ac_fit))) return 0;
    if (skip_create) return 0;
    m.fft = d.algo != DWCONV_ALGO_DIRECT; /* AUTO may pick FFT */
    fence(!m.create && b_fits, offB, m.b_bytes, !m.create && !m.kernel && ac_fit, offA, m.a_bytes, offC, m.c_bytes);
    dwconv_status st = dwconv_convolve(&d, A, lda, B, ldb, C, ldc);
    unfence();
    if (broken && !m.create && !m.small && (st == DWCONV_ERROR_OUT_OF_MEMORY || st == DWCONV_ERROR_SIZE_OVERFLOW)) {
      /* the one-shot call checks every argument before making the plan, so this branch
       * should no longer be taken; it stays permissive for huge descriptors whose size
       * limits (e.g. an FFT length beyond FFTW's int) the model does not track */
      arena_unchanged("dwconv_convolve");
    } else if (broken) {
      expect_failure("dwconv_convolve", broken, st);
      arena_unchanged("dwconv_convolve");
    } else if (expect_valid("dwconv_convolve", m.small, st)) {
      check_result(&d, &m, offA, lda, offB, ldb, offC, ldc);
    } else {
      arena_unchanged("dwconv_convolve");
    }
    return 0;
  }

  if (skip_create) return 0;
  dwconv_plan *plan = (dwconv_plan *)(uintptr_t)0x10;
  dwconv_status st = dwconv_plan_create(&plan, &d);
  if (m.create) {
    expect_failure("dwconv_plan_create", m.create, st);
    if (plan != NULL) abort();
    /* NULL plans are rejected by every call */
    if (dwconv_plan_set_kernel(NULL, B, ldb) != DWCONV_ERROR_INVALID_VALUE) abort();
    if (dwconv_plan_execute(NULL, A, lda, C, ldc) != DWCONV_ERROR_INVALID_VALUE) abort();
    arena_unchanged("NULL plan");
    return 0;
  }
  if (!expect_valid("dwconv_plan_create", m.small, st)) {
    if (plan != NULL) abort();
    return 0;
  }
  dwconv_plan_info info;
  if (dwconv_plan_get_info(plan, &info) != DWCONV_SUCCESS || info.output_len != m.out_len ||
      info.backend != DWCONV_BACKEND_CPU || (info.algo != DWCONV_ALGO_DIRECT && info.algo != DWCONV_ALGO_FFT) ||
      (d.algo != DWCONV_ALGO_AUTO && info.algo != d.algo))
    abort();
  m.fft = info.algo == DWCONV_ALGO_FFT;
  int kernel_ok = 0;
  if (set_kernel && (m.kernel || b_fits)) {
    fence(b_fits, offB, m.b_bytes, 0, 0, 0, 0, 0);
    st = dwconv_plan_set_kernel(plan, B, ldb);
    unfence();
    if (m.kernel) {
      expect_failure("dwconv_plan_set_kernel", m.kernel, st);
      arena_unchanged("dwconv_plan_set_kernel");
    } else {
      kernel_ok = expect_valid("dwconv_plan_set_kernel", m.small, st);
    }
  }
  unsigned eb = m.exec | (kernel_ok ? 0 : V_KNS);
  if (eb || ac_fit) {
    memcpy(snap, arena, ARENA_BYTES);
    fence(0, 0, 0, ac_fit, offA, m.a_bytes, offC, m.c_bytes);
    st = dwconv_plan_execute(plan, A, lda, C, ldc);
    unfence();
    if (eb) {
      expect_failure("dwconv_plan_execute", eb, st);
      arena_unchanged("dwconv_plan_execute");
    } else if (expect_valid("dwconv_plan_execute", m.small, st)) {
      check_result(&d, &m, offA, lda, offB, ldb, offC, ldc);
    }
  }
  dwconv_plan_destroy(plan);
  return 0;
}
