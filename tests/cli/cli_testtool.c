/* Helper for the dwconv CLI tests (tests/cli/*.sh).
 *
 *   cli_testtool write FILE --shape M[,N] [--dtype f4|f8] [--seed S] [--zero] [--sparse]
 *                 [--version 1|2|3] [--descr TEXT] [--fortran] [--shape-text TEXT]
 *                 [--hlen N] [--truncate K] [--extra K]
 *       Writes a .npy file with its own header writer (independent of tools/npy.c, so the
 *       program's reader is tested against a second implementation). The bad-file options
 *       write what they say: another descr, fortran_order True, a raw shape text, a header
 *       length field of N, K bytes cut off the end, K bytes appended. --sparse makes the data a
 *       hole (zeros) with ftruncate, for huge files.
 *   cli_testtool check C.npy A.npy B.npy [--mode M] [--correlate] [--sample K] [--tol T]
 *       Checks C against a long-double reference, row by row (K rows evenly spaced when
 *       --sample is given), with the CLI's broadcasting and dtype rules. Exit 0 if it matches.
 *   cli_testtool rss CMD [ARGS...]
 *       Runs CMD, prints its peak resident set in KiB (getrusage RUSAGE_CHILDREN) on stdout,
 *       exits with CMD's status.
 *   cli_testtool killafter SIGNUM SECONDS CMD [ARGS...]
 *       Runs CMD with SIGINT / SIGTERM at their default action (a shell's background job
 *       would ignore SIGINT), sends it SIGNUM after SECONDS, prints "signal N" or "exit N"
 *       for how it ended, exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dwconv.h"
#include "npy.h"
#include "reference.h"
#include "rng.h"

/* Prints a tool error (fmt has one %s) and returns 3, the "tool failed" status. */
static int die(const char *fmt, const char *arg) {
  fprintf(stderr, "cli_testtool: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  return 3;
}

/* ---- write ---- */

/* `write`: see the top of this file. */
static int cmd_write(int argc, char **argv) {
  const char *path = argv[0], *descr = "<f4", *shape_text = NULL;
  unsigned long long m = 0, n = 0, seed = 1, hlen_override = 0, truncate_by = 0, extra = 0;
  int ndim = 0, version = 1, fortran = 0, zero = 0, sparse = 0, have_hlen = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--shape") == 0 && v) {
      ndim = sscanf(v, "%llu,%llu", &m, &n);
      i++;
    } else if (strcmp(a, "--dtype") == 0 && v) {
      descr = strcmp(v, "f8") == 0 ? "<f8" : "<f4";
      i++;
    } else if (strcmp(a, "--descr") == 0 && v) {
      descr = v;
      i++;
    } else if (strcmp(a, "--seed") == 0 && v) {
      seed = strtoull(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--version") == 0 && v) {
      version = atoi(v);
      i++;
    } else if (strcmp(a, "--shape-text") == 0 && v) {
      shape_text = v;
      i++;
    } else if (strcmp(a, "--hlen") == 0 && v) {
      hlen_override = strtoull(v, NULL, 10);
      have_hlen = 1;
      i++;
    } else if (strcmp(a, "--truncate") == 0 && v) {
      truncate_by = strtoull(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--extra") == 0 && v) {
      extra = strtoull(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--fortran") == 0) {
      fortran = 1;
    } else if (strcmp(a, "--zero") == 0) {
      zero = 1;
    } else if (strcmp(a, "--sparse") == 0) {
      sparse = 1;
    } else {
      return die("write: bad argument '%s'", a);
    }
  }
  if (ndim < 1) return die("write: --shape M[,N] is required%s", "");
  char shape[96], dict[512];
  if (shape_text) snprintf(shape, sizeof shape, "%s", shape_text);
  else if (ndim == 1) snprintf(shape, sizeof shape, "(%llu,)", m);
  else snprintf(shape, sizeof shape, "(%llu, %llu)", m, n);
  int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                    fortran ? "True" : "False", shape);
  size_t pre = version == 1 ? 10 : 12, total = (pre + (size_t)dl + 1 + 63) / 64 * 64, hl = total - pre;
  unsigned char hdr[1024];
  memcpy(hdr, "\x93NUMPY", 6);
  hdr[6] = (unsigned char)version;
  hdr[7] = 0;
  unsigned long long hv = have_hlen ? hlen_override : hl;
  for (size_t k = 0; k < pre - 8; k++) hdr[8 + k] = (unsigned char)(hv >> (8 * k));
  memcpy(hdr + pre, dict, (size_t)dl);
  memset(hdr + pre + dl, ' ', hl - (size_t)dl - 1);
  hdr[total - 1] = '\n';

  size_t es = strstr(descr, "8") ? 8 : 4;
  unsigned long long count = ndim == 1 ? m : m * n, bytes = count * es;
  FILE *f = fopen(path, "wb");
  if (!f) return die("write: cannot create %s", path);
  fwrite(hdr, 1, total, f);
  if (!sparse) {
    rng g = {seed};
    for (unsigned long long i = 0; i < count; i++) {
      double x = zero ? 0.0 : rng_normal(&g);
      if (es == 8) fwrite(&x, 8, 1, f);
      else {
        float y = (float)x;
        fwrite(&y, 4, 1, f);
      }
    }
  }
  for (unsigned long long i = 0; i < extra; i++) fputc(0, f);
  if (fclose(f) != 0) return die("write: error writing %s", path);
  unsigned long long size = total + bytes + extra;
  if (sparse || truncate_by) {
    if (truncate(path, (off_t)(size - (truncate_by < size ? truncate_by : size))) != 0)
      return die("write: cannot size %s", path);
  }
  return 0;
}

/* ---- check ---- */

typedef struct arr {
  int fd;
  npy_header h;
  size_t rows, cols;
} arr;

/* Opens a .npy file and parses its header (first 4 KiB); 0 or 3. */
static int open_arr(const char *path, arr *a) {
  unsigned char buf[4096];
  a->fd = open(path, O_RDONLY);
  if (a->fd < 0) return die("check: cannot open %s", path);
  ssize_t got = pread(a->fd, buf, sizeof buf, 0);
  size_t need;
  char err[200];
  if (got <= 0 || npy_parse_header(buf, (size_t)got, &a->h, &need, err, sizeof err) != NPY_OK)
    return die("check: bad header in %s", path);
  a->rows = a->h.ndim == 2 ? a->h.shape[0] : 1;
  a->cols = a->h.ndim == 2 ? a->h.shape[1] : a->h.shape[0];
  return 0;
}

/* Row r of a as doubles (row 0 for a 1-D array). */
static int read_row(const arr *a, size_t r, double *out) {
  size_t es = npy_dtype_size(a->h.dtype);
  unsigned char *tmp = malloc(a->cols * es);
  if (pread(a->fd, tmp, a->cols * es, (off_t)(a->h.data_offset + (uint64_t)r * a->cols * es)) != (ssize_t)(a->cols * es)) {
    free(tmp);
    return -1;
  }
  for (size_t i = 0; i < a->cols; i++) {
    if (es == 8) memcpy(&out[i], tmp + 8 * i, 8);
    else {
      float f;
      memcpy(&f, tmp + 4 * i, 4);
      out[i] = f;
    }
  }
  free(tmp);
  return 0;
}

/* `check`: see the top of this file. */
static int cmd_check(int argc, char **argv) {
  if (argc < 3) return die("check: need C.npy A.npy B.npy%s", "");
  dwconv_mode mode = DWCONV_MODE_FULL;
  dwconv_op op = DWCONV_OP_CONVOLVE;
  size_t sample = 0;
  double tol = -1;
  for (int i = 3; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (strcmp(argv[i], "--mode") == 0) {
      mode = strcmp(v, "same") == 0 ? DWCONV_MODE_SAME : strcmp(v, "valid") == 0 ? DWCONV_MODE_VALID
             : strcmp(v, "causal") == 0 ? DWCONV_MODE_CAUSAL : DWCONV_MODE_FULL;
      i++;
    } else if (strcmp(argv[i], "--correlate") == 0) {
      op = DWCONV_OP_CORRELATE;
    } else if (strcmp(argv[i], "--sample") == 0) {
      sample = strtoull(v, NULL, 10);
      i++;
    } else if (strcmp(argv[i], "--tol") == 0) {
      tol = atof(v);
      i++;
    } else {
      return die("check: bad argument '%s'", argv[i]);
    }
  }
  arr c, a, b;
  if (open_arr(argv[0], &c) || open_arr(argv[1], &a) || open_arr(argv[2], &b)) return 3;
  size_t rows = a.h.ndim == 2 ? a.rows : b.rows, n = a.cols, p = b.cols;
  size_t ol = dwconv_output_len(mode, n, p);
  npy_dtype want = (a.h.dtype == NPY_F64 || b.h.dtype == NPY_F64) ? NPY_F64 : NPY_F32;
  int want_ndim = (a.h.ndim == 1 && b.h.ndim == 1) ? 1 : 2;
  if (c.h.dtype != want) return die("check: C has the wrong dtype%s", "");
  if (c.h.ndim != want_ndim || c.rows != rows || c.cols != ol) {
    fprintf(stderr, "check: C shape %zux%zu (ndim %d), expected %zux%zu (ndim %d)\n", c.rows, c.cols, c.h.ndim, rows, ol,
            want_ndim);
    return 1;
  }
  if (tol < 0) tol = want == NPY_F64 ? 1e-11 : 3e-5;
  double *ar = malloc(n * sizeof *ar), *br = malloc(p * sizeof *br), *cr = malloc(ol * sizeof *cr);
  long double *ref = malloc(ol * sizeof *ref);
  size_t step = sample && sample < rows ? rows / sample : 1;
  double worst = 0;
  int rc = 0;
  for (size_t r = 0; r < rows && rc == 0; r += step) {
    size_t rr = (step > 1 && r + step >= rows) ? rows - 1 : r; /* always include the last row */
    if (read_row(&a, a.h.ndim == 2 ? rr : 0, ar) || read_row(&b, b.h.ndim == 2 ? rr : 0, br) ||
        read_row(&c, rr, cr)) {
      rc = die("check: short read%s", "");
      break;
    }
    ref_row(ar, n, br, p, mode, op, ref);
    long double num = 0, den = 0;
    for (size_t i = 0; i < ol; i++) {
      long double e = fabsl((long double)cr[i] - ref[i]);
      if (!(e <= num)) num = e;
      if (fabsl(ref[i]) > den) den = fabsl(ref[i]);
    }
    double rel = (double)(den > 0 ? num / den : num);
    if (!(rel <= worst)) worst = rel;
    if (!(rel <= tol)) {
      fprintf(stderr, "check: row %zu differs: relative error %.3g > %.3g\n", rr, rel, tol);
      rc = 1;
    }
  }
  if (rc == 0) printf("check: ok (%zu rows x %zu, worst relative error %.3g)\n", rows, ol, worst);
  free(ar);
  free(br);
  free(cr);
  free(ref);
  close(a.fd);
  close(b.fd);
  close(c.fd);
  return rc;
}

/* ---- rss ---- */

/* `rss`: see the top of this file. */
static int cmd_rss(int argc, char **argv) {
  if (argc < 1) return die("rss: need a command%s", "");
  pid_t pid = fork();
  if (pid < 0) return die("rss: fork failed%s", "");
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  printf("%ld\n", ru.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- killafter ---- */

/* `killafter`: see the top of this file. */
static int cmd_killafter(int argc, char **argv) {
  if (argc < 3) return die("killafter: need SIGNUM SECONDS CMD%s", "");
  int sig = atoi(argv[0]);
  double secs = atof(argv[1]);
  pid_t pid = fork();
  if (pid < 0) return die("killafter: fork failed%s", "");
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  kill(pid, sig);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) printf("signal %d\n", WTERMSIG(status));
  else printf("exit %d\n", WEXITSTATUS(status));
  return 0;
}

/* Dispatches to write / check / rss / killafter. */
int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "write") == 0) return cmd_write(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "check") == 0) return cmd_check(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "rss") == 0) return cmd_rss(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "killafter") == 0) return cmd_killafter(argc - 2, argv + 2);
  fprintf(stderr, "usage: cli_testtool write|check|rss|killafter ... (see the comment at the top of cli_testtool.c)\n");
  return 3;
}
