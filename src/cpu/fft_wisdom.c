/* FFT wisdom files: dwconv_fft_wisdom_export / dwconv_fft_wisdom_import (public API,
 * dwconv.h). One file holds FFTW's double- and single-precision wisdom:
 *
 *   dwconv-fftw-wisdom 1\n
 *   f64 <bytes>\n<FFTW double wisdom text>\n
 *   f32 <bytes>\n<FFTW float wisdom text>\n
 *
 * The byte counts let the reader hand FFTW exactly one block each (FFTW's own file reader
 * leaves the read position unspecified, so two blocks cannot share a FILE). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_fft.h"

#ifdef DWCONV_HAVE_FFTW
#include <fftw3.h>

#define MAGIC "dwconv-fftw-wisdom 1\n"
/* Real wisdom for a few dozen lengths is tens of KB; refuse to slurp anything absurd. */
#define MAX_FILE_BYTES ((size_t)64 << 20)

/* A growable byte buffer for FFTW's export callback. */
typedef struct text_buf {
  char *p;
  size_t len, cap;
  int failed;
} text_buf;

static void put_char(char c, void *data) {
  text_buf *b = (text_buf *)data;
  if (b->failed) return;
  if (b->len == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 4096;
    char *q = (char *)realloc(b->p, cap);
    if (q == NULL) {
      b->failed = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  b->p[b->len++] = c;
}

/* FFTW's import callback over [p, end). */
typedef struct text_cursor {
  const char *p, *end;
} text_cursor;

static int get_char(void *data) {
  text_cursor *c = (text_cursor *)data;
  return c->p < c->end ? (unsigned char)*c->p++ : EOF;
}

static int write_block(FILE *f, const char *tag, const text_buf *b) {
  return fprintf(f, "%s %zu\n", tag, b->len) > 0 && fwrite(b->p, 1, b->len, f) == b->len &&
         fputc('\n', f) != EOF;
}

dwconv_status dwconv_fft_wisdom_export(const char *path) {
  dwconv__clear_error();
  if (path == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "path is NULL");
  text_buf d = {0}, s = {0};
  dwconv__fftw_lock();
  fftw_export_wisdom(put_char, &d);
  fftwf_export_wisdom(put_char, &s);
  dwconv__fftw_unlock();
  dwconv_status st = DWCONV_SUCCESS;
  char *tmp = NULL;
  if (d.failed || s.failed) {
    st = dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "collecting FFTW wisdom (%zu + %zu bytes)", d.cap, s.cap);
    goto done;
  }
  /* A temporary file next to the target, renamed over it once complete: a reader never sees
   * half a file, and a failed export leaves any previous file as it was. */
  size_t n = strlen(path) + 64;
  tmp = (char *)malloc(n);
  if (tmp == NULL) {
    st = dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating a file name");
    goto done;
  }
  /* open(O_EXCL, 0666) rather than mkstemp: the file gets the usual umask permissions. */
  static _Atomic unsigned long counter;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    snprintf(tmp, n, "%s.tmp.%ld.%lu", path, (long)getpid(), (unsigned long)counter++);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    st = dwconv__error(DWCONV_ERROR_IO, "cannot create a file next to %s: %s", path, strerror(errno));
    goto done;
  }
  FILE *f = fdopen(fd, "wb");
  if (f == NULL) {
    close(fd);
    unlink(tmp);
    st = dwconv__error(DWCONV_ERROR_IO, "cannot write %s: %s", tmp, strerror(errno));
    goto done;
  }
  /* Flushed to the disk before the rename, so a crash leaves the old file or the new one. */
  int ok = fputs(MAGIC, f) != EOF && write_block(f, "f64", &d) && write_block(f, "f32", &s) &&
           fflush(f) == 0 && fsync(fd) == 0;
  int err = errno;
  if (fclose(f) != 0 && ok) {
    ok = 0;
    err = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = 0;
    err = errno;
  }
  if (!ok) {
    unlink(tmp);
    st = dwconv__error(DWCONV_ERROR_IO, "cannot write %s: %s", path, strerror(err));
  }
done:
  free(tmp);
  free(d.p);
  free(s.p);
  return st;
}

/* Parses "<tag> <bytes>\n<bytes of text>\n" at *pos; returns 0 when malformed. */
static int read_block(const char *tag, const char **pos, const char *end, text_cursor *out) {
  const char *p = *pos;
  size_t tl = strlen(tag);
  if ((size_t)(end - p) < tl + 2 || memcmp(p, tag, tl) != 0 || p[tl] != ' ') return 0;
  p += tl + 1;
  size_t len = 0;
  int digits = 0;
  while (p < end && *p >= '0' && *p <= '9' && digits < 12) {
    len = 10 * len + (size_t)(*p++ - '0');
    digits++;
  }
  if (digits == 0 || p >= end || *p++ != '\n' || (size_t)(end - p) <= len || p[len] != '\n') return 0;
  out->p = p;
  out->end = p + len;
  *pos = p + len + 1;
  return 1;
}

/* Reads "#x<hex>" at *p (after blanks); 0 when absent or longer than 16 digits. */
static int read_hex(const char **p, const char *end, unsigned long long *v) {
  const char *q = *p;
  while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
  if (end - q < 3 || q[0] != '#' || q[1] != 'x') return 0;
  q += 2;
  unsigned long long x = 0;
  int digits = 0;
  for (; q < end && digits <= 16; q++, digits++) {
    int c = *q, d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) break;
    x = (x << 4) | (unsigned long long)d;
  }
  if (digits == 0 || digits > 16) return 0;
  *v = x;
  *p = q;
  return 1;
}

/* FFTW's wisdom importer asserts (abort()s the process) when a solver entry's flag fields do
 * not fit its bit-fields (planner.c: l and u 20 bits, the time limit 9), so a corrupted or
 * hostile file must not reach it unchecked. Checks every entry
 *   (<solver> <reg_id> #x<l> #x<u> #x<timelimit> #x<sig0> #x<sig1> #x<sig2> #x<sig3>)
 * after the header line; returns 0 when one is malformed or out of range. */
static int wisdom_entries_ok(const char *p, const char *end) {
  if (p == end) return 1; /* no wisdom of this precision */
  const char *open = memchr(p, '(', (size_t)(end - p)); /* the header "(fftw-3.x fftw_wisdom ..." */
  if (open == NULL) return 0;
  for (p = open + 1; p < end; p++) {
    if (*p != '(') continue;
    const char *q = p + 1;
    while (q < end && *q != ' ' && *q != ')') q++; /* solver name */
    while (q < end && *q == ' ') q++;
    if (q < end && *q == '-') q++;
    const char *digits = q;
    while (q < end && *q >= '0' && *q <= '9') q++;
    if (q == digits || q - digits > 9) return 0; /* reg_id */
    unsigned long long f[7];
    for (int i = 0; i < 7; i++)
      if (!read_hex(&q, end, &f[i])) return 0;
    if (f[0] >= (1ull << 20) || f[1] >= (1ull << 20) || f[2] >= (1ull << 9)) return 0;
    p = q;
  }
  return 1;
}

dwconv_status dwconv_fft_wisdom_import(const char *path) {
  dwconv__clear_error();
  if (path == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "path is NULL");
  FILE *f = fopen(path, "rb");
  if (f == NULL) return dwconv__error(DWCONV_ERROR_IO, "cannot open %s: %s", path, strerror(errno));
  /* Read in growing steps (the file may be a pipe), never past MAX_FILE_BYTES + 1. */
  char *text = NULL;
  size_t len = 0, cap = 0;
  int read_err = 0, no_mem = 0;
  for (;;) {
    if (len == cap) {
      if (cap > MAX_FILE_BYTES) break;
      size_t ncap = cap ? 4 * cap : 65536;
      if (ncap > MAX_FILE_BYTES + 1) ncap = MAX_FILE_BYTES + 1;
      char *q = (char *)realloc(text, ncap);
      if (q == NULL) {
        no_mem = 1;
        break;
      }
      text = q;
      cap = ncap;
    }
    size_t got = fread(text + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      read_err = ferror(f);
      break;
    }
  }
  fclose(f);
  if (no_mem) {
    free(text);
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating a read buffer for %s", path);
  }
  dwconv_status st = DWCONV_SUCCESS;
  const char *pos = text, *end = text + len; /* text is NULL only when len is 0 */
  text_cursor d, s;
  if (read_err) {
    st = dwconv__error(DWCONV_ERROR_IO, "cannot read %s", path);
  } else if (len > MAX_FILE_BYTES) {
    st = dwconv__error(DWCONV_ERROR_INVALID_VALUE, "%s is over %zu bytes: not a dwconv wisdom file", path,
                       MAX_FILE_BYTES);
  } else if (len < sizeof MAGIC - 1 || memcmp(text, MAGIC, sizeof MAGIC - 1) != 0) {
    st = dwconv__error(DWCONV_ERROR_INVALID_VALUE, "%s is not a dwconv wisdom file (no \"%.18s\" header)", path,
                       MAGIC);
  } else if (pos += sizeof MAGIC - 1, !read_block("f64", &pos, end, &d) || !read_block("f32", &pos, end, &s)) {
    st = dwconv__error(DWCONV_ERROR_INVALID_VALUE, "%s: malformed dwconv wisdom file", path);
  } else if (!wisdom_entries_ok(d.p, d.end) || !wisdom_entries_ok(s.p, s.end)) {
    st = dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                       "%s: malformed FFTW wisdom entry (a field out of range: corrupted file?)", path);
  } else {
    dwconv__fftw_lock();
    /* An empty block means "no wisdom of that precision": nothing to import. */
    int ok_d = d.p == d.end || fftw_import_wisdom(get_char, &d);
    int ok_s = s.p == s.end || fftwf_import_wisdom(get_char, &s);
    if (ok_d || ok_s) dwconv__fft_cache_stale_locked();
    dwconv__fftw_unlock();
    if (!ok_d || !ok_s)
      st = dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "%s: this FFTW rejected the %s wisdom (made by another FFTW version or corrupted)", path,
                         !ok_d ? "double-precision" : "single-precision");
  }
  free(text);
  return st;
}

#else /* !DWCONV_HAVE_FFTW */

dwconv_status dwconv_fft_wisdom_export(const char *path) {
  dwconv__clear_error();
  if (path == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "path is NULL");
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "this dwconv was built without FFTW");
}

dwconv_status dwconv_fft_wisdom_import(const char *path) {
  dwconv__clear_error();
  if (path == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "path is NULL");
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "this dwconv was built without FFTW");
}

#endif
