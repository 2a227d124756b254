/* Helpers shared by the subcommands (see cli_util.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* See cli_util.h. */
void cli_error(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* One line, always: a message quoting file content or a path must not break it. */
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  fprintf(stderr, "dwconv: %s\n", line);
}

/* See cli_util.h. */
int cli_parse_size(const char *s, size_t *out) {
  if (s == NULL || *s == '\0' || *s == '-' || *s == '+') return 0;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || !(v > 0) || !isfinite(v)) return 0;
  double mul = 1;
  switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
  }
  if (strcasecmp(end, "ib") == 0 && mul > 1) end += 2;
  else if (strcasecmp(end, "b") == 0) end += 1;
  if (*end != '\0') return 0;
  double bytes = floor(v * mul);
  if (bytes < 1 || bytes >= 18446744073709551615.0 || bytes > (double)SIZE_MAX) return 0;
  *out = (size_t)bytes;
  return 1;
}

/* See cli_util.h. */
int cli_parse_long(const char *s, long lo, long hi, long *out) {
  if (s == NULL || *s == '\0') return 0;
  errno = 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* See cli_util.h. */
size_t cli_parse_list(const char *s, size_t *out, size_t cap) {
  size_t n = 0;
  const char *p = s;
  if (s == NULL || *s == '\0') return 0;
  for (;;) {
    if (*p < '0' || *p > '9') return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno != 0 || v == 0 || v > SIZE_MAX || n == cap) return 0;
    out[n++] = (size_t)v;
    if (*end == '\0') return n;
    if (*end != ',') return 0;
    p = end + 1;
  }
}

/* See cli_util.h. */
double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *const mode_names[] = {"full", "same", "valid", "causal"};
static const char *const backend_names[] = {"auto", "cpu", "cuda"};
static const char *const algo_names[] = {"auto", "direct", "fft", "gemm"};
static const char *const math_names[] = {"ieee", "tf32", "tf32x3"};

/* See cli_util.h; "?" for values out of range. */
const char *cli_mode_name(dwconv_mode m) { return (unsigned)m < 4 ? mode_names[m] : "?"; }
const char *cli_backend_name(dwconv_backend b) { return (unsigned)b < 3 ? backend_names[b] : "?"; }
const char *cli_algo_name(dwconv_algo a) { return (unsigned)a < 4 ? algo_names[a] : "?"; }
const char *cli_math_name(dwconv_math m) { return (unsigned)m < 3 ? math_names[m] : "?"; }

/* See cli_util.h: exact lower-case names, as --help lists them. */
int cli_parse_mode(const char *s, dwconv_mode *m) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, mode_names[i]) == 0) return *m = (dwconv_mode)i, 1;
  return 0;
}
/* See cli_util.h. */
int cli_parse_backend(const char *s, dwconv_backend *b) {
  for (int i = 0; i < 3; i++)
    if (strcmp(s, backend_names[i]) == 0) return *b = (dwconv_backend)i, 1;
  return 0;
}
/* See cli_util.h. */
int cli_parse_algo(const char *s, dwconv_algo *a) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, algo_names[i]) == 0) return *a = (dwconv_algo)i, 1;
  return 0;
}

/* See cli_util.h. */
int cli_parse_math(const char *s, dwconv_math *m) {
  for (int i = 0; i < 3; i++)
    if (strcmp(s, math_names[i]) == 0) return *m = (dwconv_math)i, 1;
  return 0;
}

/* See cli_util.h. */
int cli_status_exit(dwconv_status st) {
  switch (st) {
    case DWCONV_SUCCESS: return EXIT_OK;
    case DWCONV_ERROR_INVALID_VALUE:
    case DWCONV_ERROR_SIZE_OVERFLOW:
    case DWCONV_ERROR_NOT_SUPPORTED:
    case DWCONV_ERROR_NO_DEVICE: return EXIT_USAGE;
    default: return EXIT_RUNTIME;
  }
}

/* See cli_util.h. */
const char *cli_dwconv_error(dwconv_status st) {
  const char *msg = dwconv_last_error();
  return msg != NULL && *msg ? msg : dwconv_status_string(st);
}

/* See cli_util.h. */
int cli_wisdom_import(const char *cmd, const char *path) {
  if (path == NULL || access(path, F_OK) != 0) return EXIT_OK;
  dwconv_status st = dwconv_fft_wisdom_import(path);
  if (st == DWCONV_SUCCESS) return EXIT_OK;
  cli_error("%s: --fft-wisdom: %s", cmd, cli_dwconv_error(st));
  return st == DWCONV_ERROR_IO ? EXIT_USAGE : cli_status_exit(st);
}

/* See cli_util.h. */
int cli_wisdom_export(const char *cmd, const char *path, int quiet) {
  dwconv_status st = dwconv_fft_wisdom_export(path);
  if (st != DWCONV_SUCCESS && !quiet) cli_error("%s: warning: --fft-wisdom: %s", cmd, cli_dwconv_error(st));
  return st == DWCONV_SUCCESS;
}

/* See cli_util.h. */
const char *cli_fmt_bytes(double bytes, char *buf, size_t cap) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, u++;
  snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.2f %s", bytes, unit[u]);
  return buf;
}
