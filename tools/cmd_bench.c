/* `dwconv bench`: throughput of each backend and algorithm on given or default shapes.
 *
 * For every shape (rows x signal x kernel, the cartesian product of the lists given), backend
 * and algorithm (direct, fft, auto): one warm-up, then --repeat timed runs of a reused plan
 * (dwconv_plan_execute only) and --repeat timed one-shot calls (dwconv_convolve: plan
 * creation, kernel preparation, execution and destruction). Reports median, min and max time,
 * output samples/s, GB/s (bytes of A + B + C), GFLOP/s (2 * out_len * P * M, the direct
 * method's count, whatever the algorithm) and, for CUDA, the speed-up over the CPU run of the
 * same shape and algorithm. --json writes every field. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "dwconv.h"
#include "rng.h"

#define MAX_LIST 32
#define MAX_REPEAT 1000

typedef struct bench_opts {
  size_t rows[MAX_LIST], signal[MAX_LIST], kernel[MAX_LIST];
  size_t nrows, nsignal, nkernel; /* 0: the default shape set */
  dwconv_dtype dtype;
  dwconv_mode mode;
  int cpu, cuda;                  /* backends to run */
  int repeat, threads;
  const char *json;
  const char *fft_wisdom; /* --fft-wisdom FILE: tuned CPU FFT plans, read and (re)written */
} bench_opts;

typedef struct timing {
  double median, min, max;
} timing;

/* One measured (shape, backend, algorithm). */
typedef struct record {
  size_t rows, n, p, out_len;
  dwconv_backend backend;
  dwconv_algo algo, used;
  size_t block_len;
  int threads;
  const char *simd;
  int ok;                 /* 1 measured, 0 skipped or failed (see note) */
  char note[160];
  timing reused, oneshot;
  double samples_s, gbytes_s, gflops, speedup; /* from the reused median; speedup 0 = n/a */
} record;

/* Prints the --help text to f. */
static void bench_usage(FILE *f) {
  fputs("usage: dwconv bench [options]\n"
        "\n"
        "Measures each backend and algorithm (direct, fft, auto) on each shape.\n"
        "Default shapes: 4x10 * P=20 (the seed example) and 256x16384 with P = 3, 63, 1023, 4095.\n"
        "\n"
        "options:\n"
        "  --rows LIST      M values, comma-separated (e.g. 256,4096)\n"
        "  --signal LIST    N values\n"
        "  --kernel LIST    P values (e.g. 3,63,4095); shapes are all combinations\n"
        "  --dtype T        f32 (default) or f64\n"
        "  --mode MODE      full (default), same, valid, causal\n"
        "  --backend B      cpu, cuda or both (default: both when a GPU is present, else cpu)\n"
        "  --repeat R       timed runs per measurement (default 5), after one warm-up\n"
        "  --threads N      CPU threads (default: all)\n"
        "  --json FILE      also write all results as JSON\n"
        "  --fft-wisdom F   tuned CPU FFT plans: read F if it exists, tune the lengths the FFT\n"
        "                   runs use (untimed, seconds once), save F at the end\n"
        "  -h, --help       this help\n"
        "\n"
        "Columns: reused = plan made once, execute timed; one-shot = dwconv_convolve timed\n"
        "(plan creation included). Msamp/s = output samples per second; GB/s = bytes of\n"
        "A + B + C per second; GFLOP/s = 2 * out_len * P * M per second (direct-equivalent);\n"
        "gpu/cpu = CPU median time / CUDA median time for the same shape and algorithm.\n",
        f);
}

/* Parses the command line; returns -1 to go on, else the exit status. */
static int bench_parse(int argc, char **argv, bench_opts *o) {
  static const struct option longopts[] = {
      {"rows", required_argument, NULL, 'M'},   {"signal", required_argument, NULL, 'N'},
      {"kernel", required_argument, NULL, 'P'}, {"dtype", required_argument, NULL, 'd'},
      {"mode", required_argument, NULL, 'm'},   {"backend", required_argument, NULL, 'b'},
      {"repeat", required_argument, NULL, 'r'}, {"threads", required_argument, NULL, 't'},
      {"json", required_argument, NULL, 'j'},   {"help", no_argument, NULL, 'h'},
      {"fft-wisdom", required_argument, NULL, 'W'},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->dtype = DWCONV_FLOAT32;
  o->mode = DWCONV_MODE_FULL;
  o->repeat = 5;
  o->cpu = 1;
  o->cuda = dwconv_cuda_device_count() > 0;
  opterr = 0;
  optind = 1;
  int c;
  long v;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'M':
      case 'N':
      case 'P': {
        size_t *dst = c == 'M' ? o->rows : c == 'N' ? o->signal : o->kernel;
        size_t *cnt = c == 'M' ? &o->nrows : c == 'N' ? &o->nsignal : &o->nkernel;
        if ((*cnt = cli_parse_list(optarg, dst, MAX_LIST)) == 0)
          return cli_error("bench: --%s wants positive integers separated by commas (at most %d), got '%s'",
                           c == 'M' ? "rows" : c == 'N' ? "signal" : "kernel", MAX_LIST, optarg),
                 EXIT_USAGE;
        break;
      }
      case 'd':
        if (strcmp(optarg, "f32") == 0 || strcmp(optarg, "float32") == 0) o->dtype = DWCONV_FLOAT32;
        else if (strcmp(optarg, "f64") == 0 || strcmp(optarg, "float64") == 0) o->dtype = DWCONV_FLOAT64;
        else return cli_error("bench: --dtype wants f32 or f64, got '%s'", optarg), EXIT_USAGE;
        break;
      case 'm':
        if (!cli_parse_mode(optarg, &o->mode))
          return cli_error("bench: unknown --mode '%s' (full, same, valid, causal)", optarg), EXIT_USAGE;
        break;
      case 'b':
        if (strcmp(optarg, "cpu") == 0) o->cpu = 1, o->cuda = 0;
        else if (strcmp(optarg, "cuda") == 0) o->cpu = 0, o->cuda = 1;
        else if (strcmp(optarg, "both") == 0) o->cpu = 1, o->cuda = 1;
        else return cli_error("bench: --backend wants cpu, cuda or both, got '%s'", optarg), EXIT_USAGE;
        break;
      case 'r':
        if (!cli_parse_long(optarg, 1, MAX_REPEAT, &v))
          return cli_error("bench: --repeat wants 1 to %d, got '%s'", MAX_REPEAT, optarg), EXIT_USAGE;
        o->repeat = (int)v;
        break;
      case 't':
        if (!cli_parse_long(optarg, 1, DWCONV_MAX_THREADS, &v))
          return cli_error("bench: --threads wants 1 to %d, got '%s'", DWCONV_MAX_THREADS, optarg), EXIT_USAGE;
        o->threads = (int)v;
        break;
      case 'j': o->json = optarg; break;
      case 'W': o->fft_wisdom = optarg; break;
      case 'h': bench_usage(stdout); return EXIT_OK;
      case ':': return cli_error("bench: option '%s' needs a value", argv[optind - 1]), EXIT_USAGE;
      default: return cli_error("bench: unknown option '%s' (see dwconv bench --help)", argv[optind - 1]), EXIT_USAGE;
    }
  }
  if (optind != argc) return cli_error("bench: unexpected argument '%s'", argv[optind]), EXIT_USAGE;
  if (o->nrows || o->nsignal || o->nkernel) {
    /* Any list given: the others default to the large default shape's values. */
    if (!o->nrows) o->rows[o->nrows++] = 256;
    if (!o->nsignal) o->signal[o->nsignal++] = 16384;
    if (!o->nkernel) o->kernel[o->nkernel++] = 63;
  }
  return -1;
}

/* qsort order for doubles. */
static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Median, min and max of t[0..n) (sorts t). */
static timing summarize(double *t, int n) {
  qsort(t, (size_t)n, sizeof t[0], cmp_double);
  timing s;
  s.min = t[0];
  s.max = t[n - 1];
  s.median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  return s;
}

/* Measures one (shape, backend, algorithm) into *rec, using caller-owned A, B, C. */
static void measure(const bench_opts *o, record *rec, const void *A, const void *B, void *C, double *t) {
  dwconv_desc d = dwconv_desc_make(rec->rows, rec->n, rec->p, o->dtype);
  d.mode = o->mode;
  d.backend = rec->backend;
  d.algo = rec->algo;
  d.threads = o->threads;
  ptrdiff_t lda = (ptrdiff_t)rec->n, ldb = (ptrdiff_t)rec->p, ldc = (ptrdiff_t)rec->out_len;
  dwconv_plan *plan = NULL;
  dwconv_status st = dwconv_plan_create(&plan, &d);
  dwconv_plan_info probe;
  if (st == DWCONV_SUCCESS && o->fft_wisdom != NULL && dwconv_plan_get_info(plan, &probe) == DWCONV_SUCCESS &&
      probe.backend == DWCONV_BACKEND_CPU && probe.algo == DWCONV_ALGO_FFT) {
    /* --fft-wisdom: tune (untimed; instant when already tuned), then a plan made from it. */
    dwconv_plan_destroy(plan);
    plan = NULL;
    st = dwconv_fft_tune(&d);
    if (st == DWCONV_SUCCESS) st = dwconv_plan_create(&plan, &d);
  }
  if (st == DWCONV_SUCCESS) {
    dwconv_plan_info info;
    dwconv_plan_get_info(plan, &info);
    rec->used = info.algo;
    rec->block_len = info.block_len;
    rec->threads = info.threads;
    rec->simd = info.simd;
    st = dwconv_plan_set_kernel(plan, B, ldb);
  }
  if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, lda, C, ldc); /* warm-up */
  for (int k = 0; k < o->repeat && st == DWCONV_SUCCESS; k++) {
    double t0 = cli_now();
    st = dwconv_plan_execute(plan, A, lda, C, ldc);
    t[k] = cli_now() - t0;
  }
  dwconv_plan_destroy(plan);
  if (st == DWCONV_SUCCESS) {
    rec->reused = summarize(t, o->repeat);
    for (int k = 0; k < o->repeat && st == DWCONV_SUCCESS; k++) {
      double t0 = cli_now();
      st = dwconv_convolve(&d, A, lda, B, ldb, C, ldc);
      t[k] = cli_now() - t0;
    }
    if (st == DWCONV_SUCCESS) rec->oneshot = summarize(t, o->repeat);
  }
  if (st != DWCONV_SUCCESS) {
    snprintf(rec->note, sizeof rec->note, "%s: %s",
             st == DWCONV_ERROR_NOT_SUPPORTED || st == DWCONV_ERROR_NO_DEVICE ? "skipped" : "failed",
             cli_dwconv_error(st));
    return;
  }
  rec->ok = 1;
  double es = o->dtype == DWCONV_FLOAT64 ? 8 : 4, m = (double)rec->rows, med = rec->reused.median;
  double samples = m * (double)rec->out_len;
  rec->samples_s = samples / med;
  rec->gbytes_s = (m * ((double)rec->n + (double)rec->p) + samples) * es / med * 1e-9;
  rec->gflops = 2.0 * samples * (double)rec->p / med * 1e-9;
}

/* Writes s as a JSON string literal. */
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
    else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
    else fputc(ch, f);
  }
  fputc('"', f);
}

/* Writes "name": {median_s, min_s, max_s}. */
static void json_timing(FILE *f, const char *name, const timing *t) {
  fprintf(f, "\"%s\": {\"median_s\": %.9g, \"min_s\": %.9g, \"max_s\": %.9g}", name, t->median, t->min, t->max);
}

/* Writes all records as one JSON document. */
static void write_json(FILE *f, const bench_opts *o, const record *r, size_t n) {
  fprintf(f, "{\n  \"dwconv_version\": ");
  json_str(f, dwconv_version_string());
  fprintf(f, ",\n  \"dtype\": \"%s\",\n  \"mode\": \"%s\",\n  \"repeat\": %d,\n  \"warmup\": 1,\n  \"results\": [\n",
          o->dtype == DWCONV_FLOAT64 ? "float64" : "float32", cli_mode_name(o->mode), o->repeat);
  for (size_t i = 0; i < n; i++) {
    const record *x = &r[i];
    fprintf(f, "    {\"rows\": %zu, \"signal_len\": %zu, \"kernel_len\": %zu, \"output_len\": %zu, ", x->rows, x->n,
            x->p, x->out_len);
    fprintf(f, "\"backend\": \"%s\", \"algo\": \"%s\", \"status\": \"%s\"", cli_backend_name(x->backend),
            cli_algo_name(x->algo), x->ok ? "ok" : "skipped");
    if (!x->ok) {
      fprintf(f, ", \"note\": ");
      json_str(f, x->note);
    } else {
      fprintf(f, ", \"algo_used\": \"%s\", \"block_len\": %zu, \"threads\": %d, \"simd\": ", cli_algo_name(x->used),
              x->block_len, x->threads);
      json_str(f, x->simd);
      fprintf(f, ",\n     ");
      json_timing(f, "reused_plan", &x->reused);
      fprintf(f, ", ");
      json_timing(f, "one_shot", &x->oneshot);
      fprintf(f, ",\n     \"output_samples_per_s\": %.6g, \"gbytes_per_s\": %.6g, \"gflops\": %.6g", x->samples_s,
              x->gbytes_s, x->gflops);
      fprintf(f, ", \"one_shot_output_samples_per_s\": %.6g",
              (double)x->rows * (double)x->out_len / x->oneshot.median);
      if (x->speedup > 0) fprintf(f, ", \"gpu_over_cpu\": %.6g", x->speedup);
      else fprintf(f, ", \"gpu_over_cpu\": null");
    }
    fprintf(f, "}%s\n", i + 1 < n ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
}

/* Prints one table row. */
static void print_record(const record *x) {
  printf("%6zu %7zu %5zu  %-4s %-6s ", x->rows, x->n, x->p, cli_backend_name(x->backend), cli_algo_name(x->algo));
  if (!x->ok) {
    printf("%s\n", x->note);
    return;
  }
  printf("%-6s %10.4f [%9.4f ..%9.4f] %10.1f %7.2f %8.2f %10.4f", cli_algo_name(x->used), x->reused.median * 1e3,
         x->reused.min * 1e3, x->reused.max * 1e3, x->samples_s * 1e-6, x->gbytes_s, x->gflops,
         x->oneshot.median * 1e3);
  if (x->speedup > 0) printf(" %7.2fx", x->speedup);
  printf("\n");
  fflush(stdout);
}

/* See commands.h. */
int cmd_bench(int argc, char **argv) {
  bench_opts o;
  int rc = bench_parse(argc, argv, &o);
  if (rc >= 0) return rc;

  /* The shape list: defaults or the cartesian product. */
  size_t shapes[64][3], ns = 0;
  if (!o.nrows) {
    static const size_t def[][3] = {{4, 10, 20}, {256, 16384, 3}, {256, 16384, 63}, {256, 16384, 1023}, {256, 16384, 4095}};
    for (size_t i = 0; i < sizeof def / sizeof def[0]; i++) memcpy(shapes[ns++], def[i], sizeof def[i]);
  } else {
    for (size_t a = 0; a < o.nrows; a++)
      for (size_t b = 0; b < o.nsignal; b++)
        for (size_t c = 0; c < o.nkernel; c++) {
          if (ns == 64) return cli_error("bench: at most 64 shapes per run"), EXIT_USAGE;
          shapes[ns][0] = o.rows[a], shapes[ns][1] = o.signal[b], shapes[ns][2] = o.kernel[c], ns++;
        }
  }
  /* Every shape is checked before anything is written (the JSON file included). */
  for (size_t s = 0; s < ns; s++) {
    size_t m = shapes[s][0], n = shapes[s][1], p = shapes[s][2];
    size_t ol = dwconv_output_len(o.mode, n, p), es = o.dtype == DWCONV_FLOAT64 ? 8 : 4;
    size_t widest = n > ol ? n : ol;
    if (widest < p) widest = p;
    if (ol == 0 || m > SIZE_MAX / es / widest / 2)
      return cli_error("bench: shape %zu x %zu, P %zu is too large", m, n, p), EXIT_USAGE;
  }
  if ((rc = cli_wisdom_import("bench", o.fft_wisdom)) != EXIT_OK) return rc;
  FILE *jf = NULL;
  if (o.json != NULL && (jf = fopen(o.json, "w")) == NULL)
    return cli_error("%s: cannot write: %s", o.json, strerror(errno)), EXIT_USAGE;

  static const dwconv_algo algos[3] = {DWCONV_ALGO_DIRECT, DWCONV_ALGO_FFT, DWCONV_ALGO_AUTO};
  size_t cap = ns * 6, nrec = 0;
  record *recs = calloc(cap, sizeof *recs);
  double *t = malloc((size_t)o.repeat * sizeof *t);
  if (recs == NULL || t == NULL) {
    cli_error("bench: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  printf("dwconv %s bench: %s, mode %s, %d runs after 1 warm-up; times in ms\n", dwconv_version_string(),
         o.dtype == DWCONV_FLOAT64 ? "float64" : "float32", cli_mode_name(o.mode), o.repeat);
  printf("%6s %7s %5s  %-4s %-6s %-6s %10s %23s %10s %7s %8s %10s %8s\n", "M", "N", "P", "be", "algo", "used",
         "median", "[min .. max]", "Msamp/s", "GB/s", "GFLOP/s", "one-shot", "gpu/cpu");
  rc = EXIT_OK;
  for (size_t s = 0; s < ns; s++) {
    size_t m = shapes[s][0], n = shapes[s][1], p = shapes[s][2];
    size_t ol = dwconv_output_len(o.mode, n, p), es = o.dtype == DWCONV_FLOAT64 ? 8 : 4;
    void *A = malloc(m * n * es), *B = malloc(m * p * es), *C = malloc(m * ol * es);
    if (A == NULL || B == NULL || C == NULL) {
      free(A), free(B), free(C);
      cli_error("bench: out of memory for shape %zu x %zu, P %zu", m, n, p);
      rc = EXIT_RUNTIME;
      goto out;
    }
    rng g = {(uint64_t)(s + 1)};
    for (size_t i = 0; i < m * n; i++)
      if (es == 8) ((double *)A)[i] = rng_normal(&g);
      else ((float *)A)[i] = (float)rng_normal(&g);
    for (size_t i = 0; i < m * p; i++)
      if (es == 8) ((double *)B)[i] = rng_normal(&g);
      else ((float *)B)[i] = (float)rng_normal(&g);
    for (int be = 0; be < 2; be++) {
      if ((be == 0 && !o.cpu) || (be == 1 && !o.cuda)) continue;
      for (int a = 0; a < 3; a++) {
        record *x = &recs[nrec++];
        x->rows = m, x->n = n, x->p = p, x->out_len = ol;
        x->backend = be ? DWCONV_BACKEND_CUDA : DWCONV_BACKEND_CPU;
        x->algo = algos[a];
        measure(&o, x, A, B, C, t);
        if (be == 1 && x->ok && nrec > 3 && recs[nrec - 4].ok && recs[nrec - 4].backend == DWCONV_BACKEND_CPU &&
            recs[nrec - 4].p == p && recs[nrec - 4].rows == m && recs[nrec - 4].n == n)
          x->speedup = recs[nrec - 4].reused.median / x->reused.median;
        print_record(x);
        if (!x->ok && strncmp(x->note, "failed", 6) == 0) rc = EXIT_RUNTIME;
      }
    }
    free(A), free(B), free(C);
  }
  if (o.fft_wisdom != NULL && cli_wisdom_export("bench", o.fft_wisdom, 0))
    printf("tuned CPU FFT plans (tuning untimed) kept in %s\n", o.fft_wisdom);
  if (jf != NULL) {
    write_json(jf, &o, recs, nrec);
    if (fclose(jf) != 0) {
      cli_error("%s: write error: %s", o.json, strerror(errno));
      rc = EXIT_RUNTIME;
    }
    jf = NULL;
  }
out:
  if (jf != NULL) fclose(jf);
  free(recs);
  free(t);
  return rc;
}
