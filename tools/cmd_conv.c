/* `dwconv conv A.npy B.npy -o C.npy`: row-wise convolution of two .npy files, streamed.
 *
 * Memory: the inputs are never read whole. Rows are processed in blocks sized so that one
 * block's mapped input windows, conversion buffers and output buffer plus the plan's own
 * workspace fit in --memory-limit (default 256 MiB). One plan is made for the block row count
 * and reused for every full block; the last, partial block (if any) gets a second plan made
 * for its row count (simpler and cheaper than padding a copy of the input). Each block's input
 * windows are mapped, used and unmapped, so resident memory stays at about one block however
 * large the files are. Output is written with pwrite into a temporary file that is renamed
 * over -o only when complete (see outfile.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "dwconv.h"
#include "npy.h"
#include "npy_file.h"
#include "outfile.h"
#include "progress.h"

#define DEFAULT_MEMORY_LIMIT ((size_t)256 << 20)

typedef struct conv_opts {
  const char *a_path, *b_path, *out_path;
  dwconv_mode mode;
  dwconv_op op;
  dwconv_backend backend;
  dwconv_algo algo;
  dwconv_math math;
  int threads;
  size_t memory_limit;
  const char *fft_wisdom; /* --fft-wisdom FILE: tuned FFT plans, read and (re)written */
  int quiet, verbose;
} conv_opts;

/* Everything one run holds; released by conv_cleanup in any state. */
typedef struct conv_run {
  npy_input a, b;
  int a_bcast, b_bcast;       /* 1-D input: one row for every row (lda / ldb = 0) */
  size_t rows, n, p, out_len; /* M, N, P and samples per output row */
  npy_dtype dt;               /* computation and output dtype */
  size_t es;                  /* its size */
  size_t block_rows;          /* rows per full block */
  dwconv_plan *plan, *tail_plan;
  void *abuf, *bbuf, *cbuf;   /* conversion buffers (NULL when not needed) and output block */
  const void *a_fixed;        /* broadcast A, converted once */
  const void *b_fixed;        /* broadcast B, converted once */
  npy_window a_fixed_win, b_fixed_win;
  out_file out;
  size_t header_len;
} conv_run;

/* Prints the --help text to f. */
static void conv_usage(FILE *f) {
  fputs("usage: dwconv conv A.npy B.npy -o C.npy [options]\n"
        "\n"
        "Row-wise convolution: C[m,:] = convolve(A[m,:], B[m,:]) for every row m, as\n"
        "scipy.signal.convolve (or correlate) would compute on each pair of rows.\n"
        "A is M x N and B is M x P (.npy, little-endian float32 or float64, C order).\n"
        "A 1-D B is one kernel for every row of A; a 1-D A is one signal for every row of B.\n"
        "C has A's dtype (float64 when either input is float64).\n"
        "\n"
        "options:\n"
        "  -o, --output FILE      output .npy (required; written atomically)\n"
        "  -m, --mode MODE        full (default), same, valid, causal\n"
        "      --correlate        correlate instead of convolve (B is not flipped)\n"
        "      --backend B        auto (default), cpu, cuda\n"
        "      --algo A           auto (default), direct, fft, gemm (CUDA only: cuBLAS)\n"
        "      --math M           ieee (default), tf32, tf32x3: TF32 tensor-core math for\n"
        "                         float32 --algo gemm (docs/CUDA.md: error bounds)\n"
        "  -t, --threads N        CPU threads (default: all)\n"
        "      --memory-limit S   bound on buffers held at once, e.g. 512M, 1G (default 256M)\n"
        "      --fft-wisdom FILE  tuned FFT plans: read FILE if it exists; when the CPU FFT path\n"
        "                         runs, tune its transforms first if FILE lacks them (seconds,\n"
        "                         once) and save FILE; 1.3-2.9x faster long transforms\n"
        "  -q, --quiet            no progress bar, no warnings\n"
        "  -v, --verbose          print the plan (backend, algorithm, blocks) on stderr\n"
        "  -h, --help             this help\n"
        "\n"
        "exit status: 0 done, 1 run-time failure, 2 bad usage or bad input (nothing written)\n",
        f);
}

/* Parses the command line into *o; returns -1 on success, else the exit status to return. */
static int conv_parse(int argc, char **argv, conv_opts *o) {
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},   {"mode", required_argument, NULL, 'm'},
      {"correlate", no_argument, NULL, 'c'},      {"backend", required_argument, NULL, 'B'},
      {"algo", required_argument, NULL, 'a'},     {"threads", required_argument, NULL, 't'},
      {"memory-limit", required_argument, NULL, 'L'}, {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},        {"fft-wisdom", required_argument, NULL, 'W'},
      {"math", required_argument, NULL, 'M'},
      {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->mode = DWCONV_MODE_FULL;
  o->op = DWCONV_OP_CONVOLVE;
  o->backend = DWCONV_BACKEND_AUTO;
  o->algo = DWCONV_ALGO_AUTO;
  o->memory_limit = DEFAULT_MEMORY_LIMIT;
  opterr = 0;
  optind = 1;
  int c;
  long v;
  while ((c = getopt_long(argc, argv, ":o:m:t:qvh", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': o->out_path = optarg; break;
      case 'm':
        if (!cli_parse_mode(optarg, &o->mode))
          return cli_error("conv: unknown --mode '%s' (full, same, valid, causal)", optarg), EXIT_USAGE;
        break;
      case 'c': o->op = DWCONV_OP_CORRELATE; break;
      case 'B':
        if (!cli_parse_backend(optarg, &o->backend))
          return cli_error("conv: unknown --backend '%s' (auto, cpu, cuda)", optarg), EXIT_USAGE;
        break;
      case 'a':
        if (!cli_parse_algo(optarg, &o->algo))
          return cli_error("conv: unknown --algo '%s' (auto, direct, fft, gemm)", optarg), EXIT_USAGE;
        break;
      case 'M':
        if (!cli_parse_math(optarg, &o->math))
          return cli_error("conv: unknown --math '%s' (ieee, tf32, tf32x3)", optarg), EXIT_USAGE;
        break;
      case 't':
        if (!cli_parse_long(optarg, 1, DWCONV_MAX_THREADS, &v))
          return cli_error("conv: --threads wants a count from 1 to %d, got '%s'", DWCONV_MAX_THREADS, optarg), EXIT_USAGE;
        o->threads = (int)v;
        break;
      case 'L':
        if (!cli_parse_size(optarg, &o->memory_limit))
          return cli_error("conv: --memory-limit wants a size like 512M or 1G, got '%s'", optarg), EXIT_USAGE;
        break;
      case 'W': o->fft_wisdom = optarg; break;
      case 'q': o->quiet = 1; break;
      case 'v': o->verbose = 1; break;
      case 'h': conv_usage(stdout); return EXIT_OK;
      case ':': return cli_error("conv: option '%s' needs a value", argv[optind - 1]), EXIT_USAGE;
      default: return cli_error("conv: unknown option '%s' (see dwconv conv --help)", argv[optind - 1]), EXIT_USAGE;
    }
  }
  if (argc - optind != 2)
    return cli_error("conv: expected two inputs A.npy B.npy, got %d (see dwconv conv --help)", argc - optind),
           EXIT_USAGE;
  o->a_path = argv[optind];
  o->b_path = argv[optind + 1];
  if (o->out_path == NULL) return cli_error("conv: missing -o OUTPUT.npy"), EXIT_USAGE;
  return -1;
}

/* Refuses an output path that is one of the inputs (also through a link), a folder, or an
 * existing non-regular file. */
static int check_output_path(const conv_opts *o, const conv_run *r) {
  struct stat st;
  if (stat(o->out_path, &st) != 0) return 0; /* does not exist yet: fine */
  if ((st.st_dev == r->a.dev && st.st_ino == r->a.ino) || (st.st_dev == r->b.dev && st.st_ino == r->b.ino))
    return cli_error("%s: output is the same file as input '%s'", o->out_path,
                     st.st_ino == r->a.ino && st.st_dev == r->a.dev ? o->a_path : o->b_path),
           -1;
  if (S_ISDIR(st.st_mode)) return cli_error("%s: output path is a folder", o->out_path), -1;
  /* The result replaces the target by rename: refuse to turn a device, FIFO or socket (say
   * /dev/null) into a regular file. A symlink to a regular file is replaced itself. */
  if (!S_ISREG(st.st_mode))
    return cli_error("%s: output exists and is not a regular file", o->out_path), -1;
  return 0;
}

/* Whether an input must be copied before use: its dtype differs from the computation's, or
 * its data offset leaves the elements misaligned. */
static int needs_copy(const npy_input *in, npy_dtype dt) {
  return in->h.dtype != dt || in->h.data_offset % npy_dtype_size(in->h.dtype) != 0;
}

/* Bytes one row of len elements of an input costs in a block: its mapped window plus the
 * converted copy when needs_copy. */
static size_t row_cost(const npy_input *in, size_t len, npy_dtype dt) {
  return len * npy_dtype_size(in->h.dtype) + (needs_copy(in, dt) ? len * npy_dtype_size(dt) : 0);
}

/* The descriptor of a plan for `rows` rows. */
static dwconv_desc conv_desc(const conv_opts *o, const conv_run *r, size_t rows) {
  dwconv_desc d = dwconv_desc_make(rows, r->n, r->p, r->dt == NPY_F64 ? DWCONV_FLOAT64 : DWCONV_FLOAT32);
  d.mode = o->mode;
  d.op = o->op;
  d.backend = o->backend;
  d.algo = o->algo;
  d.threads = o->threads;
  d.math = o->math;
  return d;
}

/* Makes a plan for `rows` rows; on failure prints why and returns the exit status. */
static int make_plan(const conv_opts *o, const conv_run *r, size_t rows, dwconv_plan **plan) {
  dwconv_desc d = conv_desc(o, r, rows);
  dwconv_status st = dwconv_plan_create(plan, &d);
  if (st != DWCONV_SUCCESS) {
    cli_error("conv: cannot make a plan (M=%zu N=%zu P=%zu): %s", rows, r->n, r->p,
              cli_dwconv_error(st));
    return cli_status_exit(st);
  }
  return EXIT_OK;
}

/* Picks the block row count and makes the main plan: the largest count whose buffers plus the
 * plan's workspace fit the memory limit (at least one row; a warning says when even one row
 * does not fit). */
static int plan_blocks(const conv_opts *o, conv_run *r) {
  size_t per_row = r->out_len * r->es, fixed = 0;
  if (r->a_bcast) fixed += row_cost(&r->a, r->n, r->dt);
  else per_row += row_cost(&r->a, r->n, r->dt);
  if (r->b_bcast) fixed += row_cost(&r->b, r->p, r->dt);
  else per_row += row_cost(&r->b, r->p, r->dt);
  size_t limit = o->memory_limit;
  size_t rows = limit > fixed ? (limit - fixed) / per_row : 1;
  if (rows < 1) rows = 1;
  if (rows > r->rows) rows = r->rows;
  for (int attempt = 0;; attempt++) {
    int rc = make_plan(o, r, rows, &r->plan);
    if (rc != EXIT_OK) return rc;
    dwconv_plan_info info;
    size_t ws = dwconv_plan_get_info(r->plan, &info) == DWCONV_SUCCESS ? info.workspace_bytes : 0;
    double need = (double)fixed + (double)ws + (double)rows * (double)per_row;
    if (need <= (double)limit || rows == 1 || attempt == 3) {
      if (need > (double)limit && !o->quiet) {
        char a[32], b[32];
        cli_error("conv: warning: --memory-limit %s is below what one block needs (%s); using that",
                  cli_fmt_bytes((double)limit, a, sizeof a), cli_fmt_bytes(need, b, sizeof b));
      }
      break;
    }
    size_t fit = limit > fixed + ws ? (limit - fixed - ws) / per_row : 1;
    if (fit < 1) fit = 1;
    if (fit >= rows) break;
    dwconv_plan_destroy(r->plan);
    r->plan = NULL;
    rows = fit;
  }
  r->block_rows = rows;
  if (o->verbose) {
    dwconv_plan_info info;
    char lim[32], ws[32];
    if (dwconv_plan_get_info(r->plan, &info) == DWCONV_SUCCESS)
      fprintf(stderr,
              "dwconv: conv: M=%zu N=%zu P=%zu %s, mode %s, output %zu per row; backend %s, algo %s "
              "(math %s, block_len %zu, simd %s, %d threads, workspace %s); %zu rows per block, %zu blocks; "
              "--memory-limit %s\n",
              r->rows, r->n, r->p, r->dt == NPY_F64 ? "float64" : "float32", cli_mode_name(o->mode), r->out_len,
              cli_backend_name(info.backend), cli_algo_name(info.algo), cli_math_name(info.math), info.block_len, info.simd ? info.simd : "?",
              info.threads, cli_fmt_bytes((double)info.workspace_bytes, ws, sizeof ws), rows,
              (r->rows + rows - 1) / rows, cli_fmt_bytes((double)limit, lim, sizeof lim));
  }
  return EXIT_OK;
}

/* --fft-wisdom, after planning: when the main plan runs the CPU FFT path, tunes its transforms
 * (instant when the imported file already has them), remakes the plan so it uses them, and
 * saves FILE. A file that cannot be written only warns: the result does not depend on it. */
static int wisdom_tune(const conv_opts *o, conv_run *r) {
  dwconv_plan_info info;
  if (o->fft_wisdom == NULL || dwconv_plan_get_info(r->plan, &info) != DWCONV_SUCCESS ||
      info.backend != DWCONV_BACKEND_CPU || info.algo != DWCONV_ALGO_FFT)
    return EXIT_OK;
  /* Instant when the imported FILE already has this length; say so only when it takes time. */
  dwconv_desc d = conv_desc(o, r, r->block_rows);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dwconv_status st = dwconv_fft_tune(&d);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  if (st == DWCONV_SUCCESS && !o->quiet && secs > 0.2)
    fprintf(stderr, "dwconv: conv: tuned FFT plans of length %zu in %.1f s (kept in %s)\n", info.block_len, secs,
            o->fft_wisdom);
  if (st != DWCONV_SUCCESS) {
    cli_error("conv: --fft-wisdom: tuning failed: %s", cli_dwconv_error(st));
    return EXIT_RUNTIME;
  }
  dwconv_plan_destroy(r->plan);
  r->plan = NULL;
  int rc = make_plan(o, r, r->block_rows, &r->plan);
  if (rc != EXIT_OK) return rc == EXIT_USAGE ? EXIT_RUNTIME : rc; /* it worked a moment ago */
  cli_wisdom_export("conv", o->fft_wisdom, o->quiet);
  return EXIT_OK;
}

/* Allocates n bytes aligned for SIMD loads; NULL on failure. */
static void *alloc_aligned(size_t n) {
  void *p = NULL;
  return posix_memalign(&p, 64, n ? n : 64) == 0 ? p : NULL;
}

/* Allocates the block buffers and loads the broadcast (1-D) inputs once. */
static int prepare_buffers(const conv_opts *o, conv_run *r) {
  size_t br = r->block_rows;
  if (needs_copy(&r->a, r->dt) && (r->abuf = alloc_aligned((r->a_bcast ? 1 : br) * r->n * r->es)) == NULL)
    goto oom;
  if (needs_copy(&r->b, r->dt) && (r->bbuf = alloc_aligned((r->b_bcast ? 1 : br) * r->p * r->es)) == NULL)
    goto oom;
  if ((r->cbuf = alloc_aligned(br * r->out_len * r->es)) == NULL) goto oom;
  if (r->a_bcast) {
    if (npy_window_map(&r->a, 0, 1, &r->a_fixed_win) != 0)
      return cli_error("%s: cannot map: %s", o->a_path, strerror(errno)), EXIT_RUNTIME;
    r->a_fixed = npy_window_as(&r->a_fixed_win, r->a.h.dtype, r->dt, r->abuf, r->n);
  }
  if (r->b_bcast) {
    if (npy_window_map(&r->b, 0, 1, &r->b_fixed_win) != 0)
      return cli_error("%s: cannot map: %s", o->b_path, strerror(errno)), EXIT_RUNTIME;
    r->b_fixed = npy_window_as(&r->b_fixed_win, r->b.h.dtype, r->dt, r->bbuf, r->p);
  }
  return EXIT_OK;
oom:
  return cli_error("conv: out of memory allocating block buffers (%zu rows per block)", br), EXIT_RUNTIME;
}

/* Reports a failed set_kernel / execute; returns the exit status. The plan was accepted, so
 * the input was valid: any failure here is a run-time one. */
static int check(dwconv_status st, const char *what) {
  if (st == DWCONV_SUCCESS) return EXIT_OK;
  cli_error("conv: %s failed: %s", what, cli_dwconv_error(st));
  return EXIT_RUNTIME;
}

/* Computes rows [r0, r0 + nr) with plan and writes them to the output file. */
static int run_block(const conv_opts *o, conv_run *r, dwconv_plan *plan, size_t r0, size_t nr) {
  npy_window aw = {0}, bw = {0};
  const void *A = r->a_fixed, *B = r->b_fixed;
  int rc = EXIT_OK;
  char err[256];
  if (!r->b_bcast) {
    if (npy_window_map(&r->b, r0, nr, &bw) != 0) {
      cli_error("%s: cannot map rows %zu..%zu: %s", o->b_path, r0, r0 + nr, strerror(errno));
      return EXIT_RUNTIME;
    }
    B = npy_window_as(&bw, r->b.h.dtype, r->dt, r->bbuf, nr * r->p);
  }
  if (B != r->b_fixed || r0 == 0 || plan == r->tail_plan) {
    rc = check(dwconv_plan_set_kernel(plan, B, r->b_bcast ? 0 : (ptrdiff_t)r->p), "set_kernel");
    npy_window_unmap(&bw); /* set_kernel copied B */
    if (rc != EXIT_OK) goto done;
  }
  if (!r->a_bcast) {
    if (npy_window_map(&r->a, r0, nr, &aw) != 0) {
      cli_error("%s: cannot map rows %zu..%zu: %s", o->a_path, r0, r0 + nr, strerror(errno));
      rc = EXIT_RUNTIME;
      goto done;
    }
    if (r0 + nr < r->rows) /* start reading the next block while this one computes */
      npy_input_prefetch(&r->a, r0 + nr, r0 + 2 * nr <= r->rows ? nr : r->rows - r0 - nr);
    A = npy_window_as(&aw, r->a.h.dtype, r->dt, r->abuf, nr * r->n);
    if (A != aw.data) npy_window_unmap(&aw);
  }
  rc = check(dwconv_plan_execute(plan, A, r->a_bcast ? 0 : (ptrdiff_t)r->n, r->cbuf, (ptrdiff_t)r->out_len),
             "execute");
  if (rc != EXIT_OK) goto done;
  size_t bytes = nr * r->out_len * r->es;
  if (outfile_pwrite(&r->out, r->cbuf, bytes, r->header_len + (uint64_t)r0 * r->out_len * r->es, err,
                     sizeof err) != 0) {
    cli_error("%s: %s", o->out_path, err);
    rc = EXIT_RUNTIME;
  }
done:
  npy_window_unmap(&aw);
  npy_window_unmap(&bw);
  return rc;
}

/* Releases everything; removes the temporary output unless it was committed. */
static void conv_cleanup(conv_run *r) {
  outfile_abort(&r->out);
  dwconv_plan_destroy(r->plan);
  dwconv_plan_destroy(r->tail_plan);
  npy_window_unmap(&r->a_fixed_win);
  npy_window_unmap(&r->b_fixed_win);
  free(r->abuf);
  free(r->bbuf);
  free(r->cbuf);
  npy_input_close(&r->a);
  npy_input_close(&r->b);
}

/* Opens and checks both inputs and derives the problem shape; returns the exit status. */
static int open_inputs(const conv_opts *o, conv_run *r) {
  char err[256];
  if (npy_input_open(&r->a, o->a_path, err, sizeof err) != 0)
    return cli_error("%s: %s", o->a_path, err), EXIT_USAGE;
  if (npy_input_open(&r->b, o->b_path, err, sizeof err) != 0)
    return cli_error("%s: %s", o->b_path, err), EXIT_USAGE;
  r->a_bcast = r->a.h.ndim == 1;
  r->b_bcast = r->b.h.ndim == 1;
  if (!r->a_bcast && !r->b_bcast && r->a.rows != r->b.rows)
    return cli_error("%s: has %zu rows but %s has %zu (row counts must match)", o->b_path, r->b.rows,
                     o->a_path, r->a.rows),
           EXIT_USAGE;
  r->rows = r->a_bcast ? r->b.rows : r->a.rows;
  r->n = r->a.cols;
  r->p = r->b.cols;
  r->dt = (r->a.h.dtype == NPY_F64 || r->b.h.dtype == NPY_F64) ? NPY_F64 : NPY_F32;
  r->es = npy_dtype_size(r->dt);
  r->out_len = dwconv_output_len(o->mode, r->n, r->p);
  if (r->out_len == 0 || r->out_len > SIZE_MAX / r->es / r->rows)
    return cli_error("conv: output size overflows (M=%zu N=%zu P=%zu)", r->rows, r->n, r->p), EXIT_USAGE;
  return EXIT_OK;
}

/* See commands.h. */
int cmd_conv(int argc, char **argv) {
  conv_opts o;
  int rc = conv_parse(argc, argv, &o);
  if (rc >= 0) return rc;

  conv_run r;
  memset(&r, 0, sizeof r);
  r.a.fd = r.b.fd = r.out.fd = -1;
  char err[256];
  progress pr;

  if ((rc = open_inputs(&o, &r)) != EXIT_OK) goto out;
  if (check_output_path(&o, &r) != 0) {
    rc = EXIT_USAGE;
    goto out;
  }
  if ((rc = cli_wisdom_import("conv", o.fft_wisdom)) != EXIT_OK) goto out;
  if ((rc = plan_blocks(&o, &r)) != EXIT_OK) goto out;

  /* Create the output before any work, so an unwritable path fails fast. */
  unsigned char hdr[256];
  uint64_t shape[2] = {r.rows, r.out_len};
  if (r.a_bcast && r.b_bcast) shape[0] = r.out_len;
  r.header_len = npy_build_header(hdr, sizeof hdr, r.dt, r.a_bcast && r.b_bcast ? 1 : 2, shape);
  uint64_t total = r.header_len + (uint64_t)r.rows * r.out_len * r.es;
  int ob = outfile_begin(&r.out, o.out_path, total, err, sizeof err);
  if (ob != 0) {
    cli_error("%s: %s", o.out_path, err);
    rc = ob == -2 ? EXIT_RUNTIME : EXIT_USAGE;
    goto out;
  }
  if (outfile_pwrite(&r.out, hdr, r.header_len, 0, err, sizeof err) != 0) {
    cli_error("%s: %s", o.out_path, err);
    rc = EXIT_RUNTIME;
    goto out;
  }
  /* After the output exists: an unwritable -o fails before seconds of tuning. */
  if ((rc = wisdom_tune(&o, &r)) != EXIT_OK) goto out;
  if ((rc = prepare_buffers(&o, &r)) != EXIT_OK) goto out;

  progress_init(&pr, "conv", o.quiet);
  double row_bytes = (double)(r.a_bcast ? 0 : r.n * npy_dtype_size(r.a.h.dtype)) +
                     (double)(r.b_bcast ? 0 : r.p * npy_dtype_size(r.b.h.dtype)) + (double)(r.out_len * r.es);
  for (size_t r0 = 0; r0 < r.rows; r0 += r.block_rows) {
    size_t nr = r.rows - r0 < r.block_rows ? r.rows - r0 : r.block_rows;
    dwconv_plan *plan = r.plan;
    if (nr < r.block_rows) {
      if ((rc = make_plan(&o, &r, nr, &r.tail_plan)) != EXIT_OK) {
        if (rc == EXIT_USAGE) rc = EXIT_RUNTIME; /* the main plan worked: this is not bad input */
        goto out_progress;
      }
      plan = r.tail_plan;
    }
    if ((rc = run_block(&o, &r, plan, r0, nr)) != EXIT_OK) goto out_progress;
    progress_update(&pr, r0 + nr, r.rows, (double)(r0 + nr) * row_bytes);
  }
  progress_finish(&pr);
  if (outfile_commit(&r.out, err, sizeof err) != 0) {
    cli_error("%s: %s", o.out_path, err);
    rc = EXIT_RUNTIME;
  }
  goto out;
out_progress:
  progress_finish(&pr);
out:
  conv_cleanup(&r);
  return rc;
}
