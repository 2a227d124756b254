/* bench_dwconv -- times dwconv on one shape given on the command line.
 *
 *   bench_dwconv --rows M --signal N --kernel P [--dtype f32|f64] [--mode full|same|valid|causal]
 *                [--op convolve|correlate] [--algo auto|direct|fft|gemm] [--math ieee|tf32|tf32x3]
 *                [--backend cpu|cuda|auto]
 *                [--threads T] [--repeat R] [--warmup W] [--max-time S] [--seed S]
 *                [--input-a FILE --input-b FILE] [--out FILE] [--check K] [--json FILE|-]
 *                [--no-oneshot] [--no-reuse]
 *   bench_dwconv --memcpy [--bytes B] [--threads T] [--repeat R] [--warmup W] [--json FILE|-]
 *
 * Two timings, reported separately:
 *   oneshot: dwconv_convolve() per call (plan creation + set_kernel + execute + destroy);
 *   reuse:   dwconv_plan_execute() only, on a plan made (and its kernel set) once beforehand.
 * Each: W untimed warm-up calls, then up to R timed calls (fewer when --max-time seconds have
 * been spent and at least one sample exists); median, min, max and mean of the samples.
 * Wall clock (CLOCK_MONOTONIC). For --backend cuda, A, B and C are host arrays: the timings
 * include host<->device copies; device-resident data is NOT measured by this driver.
 *
 * Inputs: raw row-major binary files of the chosen dtype (--input-a M*N values, --input-b M*P
 * values), or, without them, a fixed-seed standard normal generator (splitmix64 + Box-Muller).
 * --out writes C (M x output_len, row-major, dtype) as raw binary after the timings (the result
 * of the last reuse call, or of the last oneshot call with --no-reuse).
 * --check K compares the first K rows with a naive double-precision convolution (stderr + JSON).
 *
 * --memcpy measures copy bandwidth: GB/s = (bytes read + bytes written) / time = 2*B / t, with
 * T threads each copying its slice (OpenMP when available), median of the repeats. peers.py
 * uses it for the memory-floor line.
 *
 * Exit status: 0 ok, 1 dwconv call failed, 2 bad usage / I/O error. Errors also go into the
 * JSON ("error") when --json is given, so a driver script can report them. */
#define _POSIX_C_SOURCE 200809L
#include <dwconv.h>

#include "bench_device.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---------- options ---------- */

typedef struct opts {
  size_t rows, signal, kernel;
  dwconv_dtype dtype;
  dwconv_mode mode;
  dwconv_op op;
  dwconv_algo algo;
  dwconv_math math;
  dwconv_backend backend;
  int threads;
  int repeat, warmup;
  double max_time;
  uint64_t seed;
  const char *input_a, *input_b, *out, *json;
  const char *fft_wisdom; /* --fft-wisdom FILE: tuned FFT plans (imported, or made and saved) */
  int check_rows;
  int do_oneshot, do_reuse;
  int memcpy_mode;
  size_t memcpy_bytes;
  int device_data; /* --device-data: A, B, C in device memory, reuse timed with CUDA events */
} opts;

static const char *json_path = NULL; /* for fail() */

static void usage(FILE *f) {
  fprintf(f,
          "usage: bench_dwconv --rows M --signal N --kernel P [options]\n"
          "       bench_dwconv --memcpy [--bytes B] [--threads T] [--repeat R] [--json FILE|-]\n"
          "options:\n"
          "  --dtype f32|f64            element type (default f32)\n"
          "  --mode full|same|valid|causal  output mode (default same)\n"
          "  --op convolve|correlate    (default convolve)\n"
          "  --algo auto|direct|fft|gemm (default auto: the cost model picks; gemm: CUDA, cuBLAS)\n"
          "  --math ieee|tf32|tf32x3    arithmetic of --algo gemm, float32 (default ieee)\n"
          "  --backend cpu|cuda|auto    (default cpu); cuda: host-resident data, wall clock\n"
          "  --device-data              with --backend cuda: A, B, C in device memory (cudaMalloc),\n"
          "                             reuse timed with CUDA events on the plan's stream\n"
          "  --threads T                CPU threads, 0 = all (default 0)\n"
          "  --repeat R                 timed calls per timing (default 10)\n"
          "  --warmup W                 untimed calls first (default 2)\n"
          "  --max-time S               stop repeating after S seconds (>= 1 sample; default 0 = off)\n"
          "  --seed S                   generator seed when no input files (default 1)\n"
          "  --input-a FILE --input-b FILE  raw row-major inputs of the dtype (M*N, M*P values)\n"
          "  --out FILE                 write C (M x output_len, raw row-major) after timing\n"
          "  --check K                  compare first K rows with a naive double reference\n"
          "  --json FILE|-              write results as JSON (- = stdout)\n"
          "  --fft-wisdom FILE          tuned FFT plans: import FILE if it exists, tune this shape\n"
          "                             (untimed) and save FILE (dwconv_fft_tune / _wisdom_*)\n"
          "  --no-oneshot / --no-reuse  skip one of the two timings\n"
          "  --memcpy [--bytes B]       memcpy bandwidth (default B = 256 MiB per buffer)\n");
}

static void json_error(const char *msg) {
  if (!json_path) return;
  FILE *f = strcmp(json_path, "-") == 0 ? stdout : fopen(json_path, "w");
  if (!f) return;
  fputs("{\"error\": \"", f);
  for (const char *c = msg; *c; c++) {
    if (*c == '"' || *c == '\\') fputc('\\', f);
    if ((unsigned char)*c < 0x20) fputc(' ', f);
    else fputc(*c, f);
  }
  fputs("\"}\n", f);
  if (f != stdout) fclose(f);
}

static void fail(int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fprintf(stderr, "bench_dwconv: %s\n", buf);
  json_error(buf);
  exit(code);
}

static size_t parse_size(const char *name, const char *v) {
  char *end;
  errno = 0;
  double d = strtod(v, &end); /* accepts 1e6, 16384 */
  if (errno || end == v || *end || d < 0 || d > 1e18 || d != floor(d))
    fail(2, "bad value for %s: '%s'", name, v);
  return (size_t)d;
}

static int pick(const char *name, const char *v, const char *const *choices, int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(v, choices[i]) == 0) return i;
  fail(2, "bad value for %s: '%s'", name, v);
  return -1;
}

static void parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  o->dtype = DWCONV_FLOAT32;
  o->mode = DWCONV_MODE_SAME;
  o->op = DWCONV_OP_CONVOLVE;
  o->algo = DWCONV_ALGO_AUTO;
  o->backend = DWCONV_BACKEND_CPU;
  o->repeat = 10;
  o->warmup = 2;
  o->seed = 1;
  o->do_oneshot = o->do_reuse = 1;
  o->memcpy_bytes = (size_t)256 << 20;
  /* find --json first so that parse errors reach it */
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--json") == 0) json_path = argv[i + 1];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strcmp(a, "--memcpy") == 0) { o->memcpy_mode = 1; continue; }
    if (strcmp(a, "--no-oneshot") == 0) { o->do_oneshot = 0; continue; }
    if (strcmp(a, "--no-reuse") == 0) { o->do_reuse = 0; continue; }
    if (strcmp(a, "--device-data") == 0) { o->device_data = 1; continue; }
    if (i + 1 >= argc) fail(2, "option %s needs a value (or is unknown); see --help", a);
    const char *v = argv[++i];
    if (strcmp(a, "--rows") == 0) o->rows = parse_size(a, v);
    else if (strcmp(a, "--signal") == 0) o->signal = parse_size(a, v);
    else if (strcmp(a, "--kernel") == 0) o->kernel = parse_size(a, v);
    else if (strcmp(a, "--dtype") == 0) {
      static const char *const c[] = {"f32", "f64"};
      static const char *const c2[] = {"float32", "float64"};
      o->dtype = (strcmp(v, c2[0]) == 0 || strcmp(v, c2[1]) == 0) ? (dwconv_dtype)pick(a, v, c2, 2)
                                                                  : (dwconv_dtype)pick(a, v, c, 2);
    } else if (strcmp(a, "--mode") == 0) {
      static const char *const c[] = {"full", "same", "valid", "causal"};
      o->mode = (dwconv_mode)pick(a, v, c, 4);
    } else if (strcmp(a, "--op") == 0) {
      static const char *const c[] = {"convolve", "correlate"};
      o->op = (dwconv_op)pick(a, v, c, 2);
    } else if (strcmp(a, "--algo") == 0) {
      static const char *const c[] = {"auto", "direct", "fft", "gemm"};
      o->algo = (dwconv_algo)pick(a, v, c, 4);
    } else if (strcmp(a, "--math") == 0) {
      static const char *const c[] = {"ieee", "tf32", "tf32x3"};
      o->math = (dwconv_math)pick(a, v, c, 3);
    } else if (strcmp(a, "--backend") == 0) {
      static const char *const c[] = {"auto", "cpu", "cuda"};
      o->backend = (dwconv_backend)pick(a, v, c, 3);
    } else if (strcmp(a, "--threads") == 0) o->threads = (int)parse_size(a, v);
    else if (strcmp(a, "--repeat") == 0) o->repeat = (int)parse_size(a, v);
    else if (strcmp(a, "--warmup") == 0) o->warmup = (int)parse_size(a, v);
    else if (strcmp(a, "--max-time") == 0) {
      char *end;
      o->max_time = strtod(v, &end);
      if (end == v || *end || o->max_time < 0) fail(2, "bad value for --max-time: '%s'", v);
    } else if (strcmp(a, "--seed") == 0) o->seed = (uint64_t)parse_size(a, v);
    else if (strcmp(a, "--input-a") == 0) o->input_a = v;
    else if (strcmp(a, "--input-b") == 0) o->input_b = v;
    else if (strcmp(a, "--out") == 0) o->out = v;
    else if (strcmp(a, "--check") == 0) o->check_rows = (int)parse_size(a, v);
    else if (strcmp(a, "--json") == 0) o->json = v;
    else if (strcmp(a, "--fft-wisdom") == 0) o->fft_wisdom = v;
    else if (strcmp(a, "--bytes") == 0) o->memcpy_bytes = parse_size(a, v);
    else fail(2, "unknown option %s; see --help", a);
  }
  if (o->repeat < 1) o->repeat = 1;
  if (o->memcpy_mode) return;
  if (!o->rows || !o->signal || !o->kernel) fail(2, "--rows, --signal and --kernel are required (>= 1)");
  if (!o->input_a != !o->input_b) fail(2, "give both --input-a and --input-b, or neither");
}

/* ---------- helpers ---------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xalloc(size_t bytes) {
  size_t n = (bytes + 63) / 64 * 64;
  if (n == 0) n = 64;
  void *p = aligned_alloc(64, n);
  if (!p) fail(2, "out of memory allocating %zu bytes", bytes);
  return p;
}

static size_t mul_or_die(size_t a, size_t b) {
  if (a && b > SIZE_MAX / a) fail(2, "size overflow (%zu x %zu)", a, b);
  return a * b;
}

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Standard normal values (Box-Muller on 53-bit uniforms). */
static void fill_normal(void *buf, size_t n, dwconv_dtype dt, uint64_t *state) {
  const double two_pi = 6.283185307179586476925286766559;
  for (size_t i = 0; i < n; i += 2) {
    double u1 = ((double)(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(splitmix64(state) >> 11) * 0x1.0p-53;
    double r = sqrt(-2.0 * log(u1));
    double z[2] = {r * cos(two_pi * u2), r * sin(two_pi * u2)};
    for (size_t k = 0; k < 2 && i + k < n; k++) {
      if (dt == DWCONV_FLOAT64) ((double *)buf)[i + k] = z[k];
      else ((float *)buf)[i + k] = (float)z[k];
    }
  }
}

static void read_raw(const char *path, void *buf, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) fail(2, "cannot open %s: %s", path, strerror(errno));
  size_t got = fread(buf, 1, bytes, f);
  int extra = fgetc(f);
  fclose(f);
  if (got != bytes || extra != EOF)
    fail(2, "%s: expected exactly %zu bytes (shape x dtype), got %s%zu", path, bytes,
         extra != EOF ? "more than " : "", got);
}

static void write_raw(const char *path, const void *buf, size_t bytes) {
  FILE *f = fopen(path, "wb");
  if (!f) fail(2, "cannot create %s: %s", path, strerror(errno));
  if (fwrite(buf, 1, bytes, f) != bytes || fclose(f) != 0) fail(2, "cannot write %s", path);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct stats {
  int n;
  double median, min, max, mean, total;
  double *samples; /* seconds */
} stats;

static void summarize(stats *s) {
  double *t = malloc(sizeof(double) * (size_t)s->n);
  memcpy(t, s->samples, sizeof(double) * (size_t)s->n);
  qsort(t, (size_t)s->n, sizeof(double), cmp_double);
  s->min = t[0];
  s->max = t[s->n - 1];
  s->median = s->n % 2 ? t[s->n / 2] : 0.5 * (t[s->n / 2 - 1] + t[s->n / 2]);
  double sum = 0;
  for (int i = 0; i < s->n; i++) sum += t[i];
  s->mean = sum / s->n;
  s->total = sum;
  free(t);
}

static void die_status(dwconv_status st, const char *what) {
  fail(1, "%s failed: %s (%s)", what, dwconv_status_string(st), dwconv_last_error());
}

static const char *algo_name(dwconv_algo a) {
  return a == DWCONV_ALGO_DIRECT ? "direct" : a == DWCONV_ALGO_FFT ? "fft" : a == DWCONV_ALGO_GEMM ? "gemm" : "auto";
}
static const char *math_name(dwconv_math m) {
  return m == DWCONV_MATH_TF32 ? "tf32" : m == DWCONV_MATH_TF32X3 ? "tf32x3" : "ieee";
}
static const char *backend_name(dwconv_backend b) {
  return b == DWCONV_BACKEND_CPU ? "cpu" : b == DWCONV_BACKEND_CUDA ? "cuda" : "auto";
}
static const char *mode_name(dwconv_mode m) {
  static const char *const n[] = {"full", "same", "valid", "causal"};
  return (unsigned)m < 4 ? n[m] : "?";
}

static void json_stats(FILE *f, const char *name, const stats *s, int last) {
  fprintf(f, "  \"%s\": {\"n\": %d, \"median_ms\": %.6f, \"min_ms\": %.6f, \"max_ms\": %.6f, "
             "\"mean_ms\": %.6f, \"samples_ms\": [",
          name, s->n, 1e3 * s->median, 1e3 * s->min, 1e3 * s->max, 1e3 * s->mean);
  for (int i = 0; i < s->n; i++) fprintf(f, "%s%.6f", i ? ", " : "", 1e3 * s->samples[i]);
  fprintf(f, "]}%s\n", last ? "" : ",");
}

/* With `threads` threads, each takes its share of the n bytes (the last takes the rest) and
 * either first-touches src and dst (copy = 0) or copies src to dst (copy = 1). The same split
 * both times, so each thread copies the pages it touched. */
static void slices(char *dst, char *src, size_t n, int threads, int copy) {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
  (void)threads;
  {
    int t = 0, nt = 1;
#endif
    size_t lo = n / (size_t)nt * (size_t)t, hi = t == nt - 1 ? n : n / (size_t)nt * (size_t)(t + 1);
    if (copy) {
      memcpy(dst + lo, src + lo, hi - lo);
    } else {
      memset(src + lo, 1, hi - lo);
      memset(dst + lo, 0, hi - lo);
    }
  }
}

/* ---------- memcpy bandwidth ---------- */

static int run_memcpy(const opts *o) {
  size_t bytes = o->memcpy_bytes < 4096 ? 4096 : o->memcpy_bytes;
  char *src = xalloc(bytes), *dst = xalloc(bytes);
  int threads = 1;
#ifdef _OPENMP
  threads = o->threads > 0 ? o->threads : omp_get_max_threads();
#endif
  slices(dst, src, bytes, threads, 0); /* first touch by the threads that will copy */
  int total = o->warmup + o->repeat;
  stats s = {0};
  s.samples = malloc(sizeof(double) * (size_t)o->repeat);
  double start_all = now_s();
  for (int r = 0; r < total; r++) {
    double t0 = now_s();
    slices(dst, src, bytes, threads, 1);
    double dt = now_s() - t0;
    if (r >= o->warmup) s.samples[s.n++] = dt;
    if (o->max_time > 0 && s.n >= 1 && now_s() - start_all > o->max_time) break;
  }
  summarize(&s);
  volatile char sink = dst[bytes / 2];
  (void)sink;
  double gbs = 2.0 * (double)bytes / s.median * 1e-9;
  fprintf(stderr, "memcpy: %zu MiB x %d threads: %.2f GB/s (read+written, median of %d; best %.2f)\n",
          bytes >> 20, threads, gbs, s.n, 2.0 * (double)bytes / s.min * 1e-9);
  if (o->json) {
    FILE *f = strcmp(o->json, "-") == 0 ? stdout : fopen(o->json, "w");
    if (!f) fail(2, "cannot create %s", o->json);
    fprintf(f, "{\n  \"kind\": \"memcpy\",\n  \"bytes\": %zu,\n  \"threads\": %d,\n"
               "  \"gb_per_s\": %.4f,\n  \"gb_per_s_best\": %.4f,\n"
               "  \"definition\": \"(bytes read + bytes written) / median time = 2*bytes/t\",\n",
            bytes, threads, gbs, 2.0 * (double)bytes / s.min * 1e-9);
    json_stats(f, "copy", &s, 1);
    fprintf(f, "}\n");
    if (f != stdout) fclose(f);
  }
  free(s.samples);
  free(src);
  free(dst);
  return 0;
}

/* ---------- naive reference for --check ---------- */

static double elem(const void *p, size_t i, dwconv_dtype dt) {
  return dt == DWCONV_FLOAT64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

/* Relative L2 error of the first k rows of C against a naive double-precision computation.
 * correlate is checked as convolve with the flipped kernel (scipy's rule for N >= P). */
static double check_rows(const opts *o, const void *A, const void *B, const void *C, size_t out_len,
                         size_t k) {
  size_t N = o->signal, P = o->kernel, off = 0;
  switch (o->mode) {
  case DWCONV_MODE_FULL: off = 0; break;
  case DWCONV_MODE_SAME: off = (P - 1) / 2; break;
  case DWCONV_MODE_VALID: off = (N < P ? N : P) - 1; break;
  case DWCONV_MODE_CAUSAL: off = 0; break;
  }
  double num = 0, den = 0;
  for (size_t m = 0; m < k; m++)
    for (size_t j = 0; j < out_len; j++) {
      size_t kk = j + off; /* index into the full convolution */
      double acc = 0;
      size_t t_lo = kk >= N - 1 ? kk - (N - 1) : 0, t_hi = kk < P - 1 ? kk : P - 1;
      for (size_t t = t_lo; t <= t_hi; t++) {
        size_t bt = o->op == DWCONV_OP_CONVOLVE ? t : P - 1 - t;
        acc += elem(A, m * N + kk - t, o->dtype) * elem(B, m * P + bt, o->dtype);
      }
      double d = elem(C, m * out_len + j, o->dtype) - acc;
      num += d * d;
      den += acc * acc;
    }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* ---------- main ---------- */

int main(int argc, char **argv) {
  opts o;
  parse(argc, argv, &o);
  if (o.memcpy_mode) return run_memcpy(&o);

  const size_t M = o.rows, N = o.signal, P = o.kernel;
  const size_t es = o.dtype == DWCONV_FLOAT64 ? 8 : 4;
  const size_t out_len = dwconv_output_len(o.mode, N, P);
  if (!out_len) fail(2, "invalid shape for mode %s", mode_name(o.mode));
  const size_t a_bytes = mul_or_die(mul_or_die(M, N), es);
  const size_t b_bytes = mul_or_die(mul_or_die(M, P), es);
  const size_t c_bytes = mul_or_die(mul_or_die(M, out_len), es);

  if (o.device_data && o.backend != DWCONV_BACKEND_CUDA) fail(2, "--device-data needs --backend cuda");
  if (o.backend == DWCONV_BACKEND_CUDA && dwconv_cuda_device_count() == 0)
    fail(1, "backend cuda: no usable CUDA device (or dwconv built without CUDA)");

  void *A = xalloc(a_bytes), *B = xalloc(b_bytes), *C = xalloc(c_bytes);
  if (o.input_a) {
    read_raw(o.input_a, A, a_bytes);
    read_raw(o.input_b, B, b_bytes);
  } else {
    uint64_t st = o.seed;
    fill_normal(A, M * N, o.dtype, &st);
    fill_normal(B, M * P, o.dtype, &st);
  }
  memset(C, 0, c_bytes); /* first touch outside the timings */
  /* --device-data: the library sees device pointers (Ad, Bd, Cd); otherwise the host arrays. */
  bench_dev dev;
  memset(&dev, 0, sizeof dev);
  const void *Ad = A, *Bd = B;
  void *Cd = C;
  if (o.device_data) {
    char derr[256];
    if (bench_dev_setup(&dev, A, a_bytes, B, b_bytes, c_bytes, derr, sizeof derr) != 0) fail(1, "%s", derr);
    Ad = dev.A, Bd = dev.B, Cd = dev.C;
  }

  dwconv_desc d = dwconv_desc_make(M, N, P, o.dtype);
  d.mode = o.mode;
  d.op = o.op;
  d.algo = o.algo;
  d.backend = o.backend;
  d.threads = o.threads;
  d.math = o.math;
  dwconv_status st;

  /* Tuned FFT plans: import FILE when it exists, then tune this shape (instant when the file
   * already covers it) and save FILE. All before any timing; the one-shot timings then
   * include planning from that wisdom, as a user's would. */
  const char *wisdom_how = "none";
  double t_tune = 0;
  if (o.fft_wisdom) {
    FILE *wf = fopen(o.fft_wisdom, "rb");
    wisdom_how = wf != NULL ? "imported" : "tuned";
    if (wf != NULL) {
      fclose(wf);
      st = dwconv_fft_wisdom_import(o.fft_wisdom);
      if (st != DWCONV_SUCCESS) die_status(st, "dwconv_fft_wisdom_import");
    }
    double ts = now_s();
    st = dwconv_fft_tune(&d);
    t_tune = now_s() - ts;
    if (st != DWCONV_SUCCESS) die_status(st, "dwconv_fft_tune");
    st = dwconv_fft_wisdom_export(o.fft_wisdom);
    if (st != DWCONV_SUCCESS) die_status(st, "dwconv_fft_wisdom_export");
    if (wf != NULL && t_tune > 0.05) wisdom_how = "imported, then tuned"; /* the file lacked this shape */
  }

  /* Plan info (and cold plan creation / set_kernel times) from a first plan. */
  dwconv_plan *plan = NULL;
  double t0 = now_s();
  st = dwconv_plan_create(&plan, &d);
  double t_create = now_s() - t0;
  if (st != DWCONV_SUCCESS) die_status(st, "dwconv_plan_create");
  if (o.device_data) { /* queue on our stream, so CUDA events bracket exactly the plan's work */
    st = dwconv_plan_set_stream(plan, dev.stream);
    if (st != DWCONV_SUCCESS) die_status(st, "dwconv_plan_set_stream");
  }
  t0 = now_s();
  st = dwconv_plan_set_kernel(plan, Bd, (ptrdiff_t)P);
  double t_kernel = now_s() - t0;
  if (st != DWCONV_SUCCESS) die_status(st, "dwconv_plan_set_kernel");
  dwconv_plan_info info;
  st = dwconv_plan_get_info(plan, &info);
  if (st != DWCONV_SUCCESS) die_status(st, "dwconv_plan_get_info");

  stats one = {0}, reuse = {0};
  one.samples = malloc(sizeof(double) * (size_t)o.repeat);
  reuse.samples = malloc(sizeof(double) * (size_t)o.repeat);

  if (o.do_oneshot) {
    double start = now_s();
    for (int r = 0; r < o.warmup + o.repeat; r++) {
      double ts = now_s();
      st = dwconv_convolve(&d, Ad, (ptrdiff_t)N, Bd, (ptrdiff_t)P, Cd, (ptrdiff_t)out_len);
      double dt = now_s() - ts;
      if (st != DWCONV_SUCCESS) die_status(st, "dwconv_convolve");
      if (r >= o.warmup) one.samples[one.n++] = dt;
      if (o.max_time > 0 && one.n >= 1 && now_s() - start > o.max_time) break;
    }
    summarize(&one);
  }
  if (o.do_reuse) {
    double start = now_s();
    for (int r = 0; r < o.warmup + o.repeat; r++) {
      char derr[256];
      if (o.device_data && bench_dev_start(&dev, derr, sizeof derr) != 0) fail(1, "%s", derr);
      double ts = now_s();
      st = dwconv_plan_execute(plan, Ad, (ptrdiff_t)N, Cd, (ptrdiff_t)out_len);
      double dt = now_s() - ts;
      if (st != DWCONV_SUCCESS) die_status(st, "dwconv_plan_execute");
      if (o.device_data) { /* the GPU time of the queued work (execute returned once queued) */
        double ms;
        if (bench_dev_stop(&dev, &ms, derr, sizeof derr) != 0) fail(1, "%s", derr);
        dt = ms * 1e-3;
      }
      if (r >= o.warmup) reuse.samples[reuse.n++] = dt;
      if (o.max_time > 0 && reuse.n >= 1 && now_s() - start > o.max_time) break;
    }
    summarize(&reuse);
  }
  if (!o.do_oneshot && !o.do_reuse) { /* still produce C for --out / --check */
    st = dwconv_plan_execute(plan, Ad, (ptrdiff_t)N, Cd, (ptrdiff_t)out_len);
    if (st != DWCONV_SUCCESS) die_status(st, "dwconv_plan_execute");
  }
  if (o.device_data) { /* C back for --out / --check, after the plan's stream is done */
    char derr[256];
    if (bench_dev_start(&dev, derr, sizeof derr) != 0) fail(1, "%s", derr);
    double ms;
    if (bench_dev_stop(&dev, &ms, derr, sizeof derr) != 0 || bench_dev_fetch(&dev, C, c_bytes, derr, sizeof derr) != 0)
      fail(1, "%s", derr);
  }
  dwconv_plan_destroy(plan);
  bench_dev_free(&dev);

  double check_err = -1;
  size_t k = o.check_rows > 0 ? ((size_t)o.check_rows < M ? (size_t)o.check_rows : M) : 0;
  if (k) {
    check_err = check_rows(&o, A, B, C, out_len, k);
    fprintf(stderr, "check: first %zu rows, relative L2 error vs naive double: %.3e\n", k, check_err);
  }
  if (o.out) write_raw(o.out, C, c_bytes);

  const double samples_out = (double)M * (double)out_len;
  const double flops_direct = 2.0 * (double)M * (double)out_len * (double)P; /* direct-equivalent */
  const char *resid = o.device_data
                          ? "device-resident A/B/C (cudaMalloc); reuse = CUDA events around execute on the plan's stream, one-shot = wall clock"
                      : info.backend == DWCONV_BACKEND_CUDA
                          ? "host-resident A/B/C, wall clock incl. host<->device copies (--device-data: device-resident)"
                          : "host";

  /* human-readable summary on stderr */
  fprintf(stderr, "dwconv %s M=%zu N=%zu P=%zu %s %s: backend=%s algo=%s math=%s block_len=%zu simd=%s threads=%d\n",
          o.dtype == DWCONV_FLOAT64 ? "f64" : "f32", M, N, P, mode_name(o.mode),
          o.op == DWCONV_OP_CONVOLVE ? "convolve" : "correlate", backend_name(info.backend),
          algo_name(info.algo), math_name(info.math), info.block_len, info.simd ? info.simd : "?", info.threads);
  if (o.do_oneshot)
    fprintf(stderr, "  oneshot: median %.3f ms (min %.3f, max %.3f, n=%d)\n", 1e3 * one.median,
            1e3 * one.min, 1e3 * one.max, one.n);
  if (o.do_reuse)
    fprintf(stderr, "  reuse:   median %.3f ms (min %.3f, max %.3f, n=%d)  %.2f Gsamples/s, %.1f GFLOP/s direct-equivalent\n",
            1e3 * reuse.median, 1e3 * reuse.min, 1e3 * reuse.max, reuse.n,
            samples_out / reuse.median * 1e-9, flops_direct / reuse.median * 1e-9);
  if (info.backend == DWCONV_BACKEND_CUDA)
    fprintf(stderr, "  note: CUDA timings are %s\n", resid);
  if (o.fft_wisdom)
    fprintf(stderr, "  fft plans: tuned (%s %s; tuning this shape took %.2f s, untimed)\n", wisdom_how,
            o.fft_wisdom, t_tune);

  if (o.json) {
    FILE *f = strcmp(o.json, "-") == 0 ? stdout : fopen(o.json, "w");
    if (!f) fail(2, "cannot create %s", o.json);
    fprintf(f, "{\n  \"kind\": \"dwconv\",\n  \"version\": \"%s\",\n", dwconv_version_string());
    fprintf(f, "  \"shape\": {\"rows\": %zu, \"signal\": %zu, \"kernel\": %zu, \"dtype\": \"%s\", "
               "\"mode\": \"%s\", \"op\": \"%s\", \"output_len\": %zu},\n",
            M, N, P, o.dtype == DWCONV_FLOAT64 ? "float64" : "float32", mode_name(o.mode),
            o.op == DWCONV_OP_CONVOLVE ? "convolve" : "correlate", out_len);
    fprintf(f, "  \"request\": {\"algo\": \"%s\", \"math\": \"%s\", \"backend\": \"%s\", \"threads\": %d, \"repeat\": %d, "
               "\"warmup\": %d, \"max_time_s\": %g, \"input\": \"%s\"},\n",
            algo_name(o.algo), math_name(o.math), backend_name(o.backend), o.threads, o.repeat, o.warmup, o.max_time,
            o.input_a ? "files" : "generated");
    fprintf(f, "  \"plan\": {\"backend\": \"%s\", \"algo\": \"%s\", \"math\": \"%s\", \"block_len\": %zu, \"block_step\": %zu, "
               "\"simd\": \"%s\", \"threads\": %d, \"workspace_bytes\": %zu, "
               "\"create_ms\": %.6f, \"set_kernel_ms\": %.6f},\n",
            backend_name(info.backend), algo_name(info.algo), math_name(info.math), info.block_len, info.block_step,
            info.simd ? info.simd : "", info.threads, info.workspace_bytes, 1e3 * t_create, 1e3 * t_kernel);
    fprintf(f, "  \"data\": \"%s\",\n", resid);
    fprintf(f, "  \"fft_wisdom\": {\"used\": %s, \"how\": \"%s\", \"tune_s\": %.3f},\n",
            o.fft_wisdom ? "true" : "false", wisdom_how, t_tune);
    fprintf(f, "  \"bytes\": {\"a\": %zu, \"b\": %zu, \"c\": %zu},\n", a_bytes, b_bytes, c_bytes);
    if (k) fprintf(f, "  \"check\": {\"rows\": %zu, \"rel_l2_error\": %.6e},\n", k, check_err);
    if (o.do_reuse)
      fprintf(f, "  \"reuse_gsamples_per_s\": %.6f,\n  \"reuse_gflops_direct_equiv\": %.6f,\n",
              samples_out / reuse.median * 1e-9, flops_direct / reuse.median * 1e-9);
    if (o.do_oneshot) json_stats(f, "oneshot", &one, !o.do_reuse);
    if (o.do_reuse) json_stats(f, "reuse", &reuse, 1);
    if (!o.do_oneshot && !o.do_reuse) fprintf(f, "  \"timed\": false\n");
    fprintf(f, "}\n");
    if (f != stdout) fclose(f);
  }
  free(one.samples);
  free(reuse.samples);
  free(A);
  free(B);
  free(C);
  return 0;
}
