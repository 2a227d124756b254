/* .npy input files (see npy_file.h). */
#define _GNU_SOURCE
#include "npy_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads exactly len bytes at off; returns the count read (short at end of file) or -1. */
static ssize_t read_at(int fd, void *buf, size_t len, off_t off) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* See npy_file.h. */
int npy_input_open(npy_input *in, const char *path, char *err, size_t errlen) {
  memset(in, 0, sizeof *in);
  in->path = path;
  in->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (in->fd < 0) {
    snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(in->fd, &st) != 0) {
    snprintf(err, errlen, "cannot stat: %s", strerror(errno));
    goto fail;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "not a regular file");
    goto fail;
  }
  in->file_size = (uint64_t)st.st_size;
  in->dev = st.st_dev;
  in->ino = st.st_ino;

  /* Read the preamble, then exactly the header it announces (at most 1 MiB + preamble). */
  size_t have = 0, want = NPY_PREAMBLE_V2;
  unsigned char *buf = NULL;
  npy_status ps;
  for (;;) {
    unsigned char *nb = realloc(buf, want);
    if (nb == NULL) {
      free(buf);
      snprintf(err, errlen, "out of memory reading the header");
      goto fail;
    }
    buf = nb;
    ssize_t r = read_at(in->fd, buf + have, want - have, (off_t)have);
    if (r < 0) {
      free(buf);
      snprintf(err, errlen, "read error: %s", strerror(errno));
      goto fail;
    }
    have += (size_t)r;
    size_t need = 0;
    ps = npy_parse_header(buf, have, &in->h, &need, err, errlen);
    if (ps != NPY_NEED_MORE) break;
    if (have < want || need <= have) {
      /* The file ended inside the header. */
      free(buf);
      snprintf(err, errlen, "truncated .npy header (file is %llu bytes, header needs %zu)",
               (unsigned long long)in->file_size, need > have ? need : want);
      goto fail;
    }
    want = need;
  }
  free(buf);
  if (ps != NPY_OK) goto fail; /* err already set */

  uint64_t expect = in->h.data_offset + in->h.data_bytes;
  if (expect < in->h.data_offset || in->file_size < expect) {
    snprintf(err, errlen, "truncated: shape needs %llu data bytes but the file has %llu after the header",
             (unsigned long long)in->h.data_bytes,
             (unsigned long long)(in->file_size > in->h.data_offset ? in->file_size - in->h.data_offset : 0));
    goto fail;
  }
  if (in->file_size > expect) {
    snprintf(err, errlen, "corrupt: %llu unexpected bytes after the array data",
             (unsigned long long)(in->file_size - expect));
    goto fail;
  }
  if (in->h.shape[0] > SIZE_MAX || in->h.shape[1] > SIZE_MAX || in->h.data_bytes > (uint64_t)PTRDIFF_MAX) {
    snprintf(err, errlen, "array too large for this machine");
    goto fail;
  }
  if (in->h.ndim == 2) {
    in->rows = (size_t)in->h.shape[0];
    in->cols = (size_t)in->h.shape[1];
  } else {
    in->rows = 1;
    in->cols = (size_t)in->h.shape[0];
  }
  return 0;
fail:
  close(in->fd);
  in->fd = -1;
  return -1;
}

/* See npy_file.h. */
void npy_input_close(npy_input *in) {
  if (in->fd >= 0) close(in->fd);
  in->fd = -1;
}

/* The mmap offset granularity. */
static size_t page_size(void) {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096;
}

/* See npy_file.h. */
int npy_window_map(const npy_input *in, size_t row0, size_t nrows, npy_window *w) {
  memset(w, 0, sizeof w[0]);
  size_t row_bytes = in->cols * npy_dtype_size(in->h.dtype);
  uint64_t off = in->h.data_offset + (uint64_t)row0 * row_bytes;
  size_t bytes = nrows * row_bytes;
  uint64_t aligned = off / page_size() * page_size();
  size_t len = (size_t)(off - aligned) + bytes;
  void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, in->fd, (off_t)aligned);
  if (m == MAP_FAILED) return -1;
  /* Sequential access: aggressive readahead, and pages behind us may be dropped early. */
  (void)madvise(m, len, MADV_SEQUENTIAL);
  w->map = m;
  w->map_len = len;
  w->data = (const unsigned char *)m + (off - aligned);
  w->bytes = bytes;
  return 0;
}

/* See npy_file.h. */
void npy_window_unmap(npy_window *w) {
  if (w->map != NULL) munmap(w->map, w->map_len);
  memset(w, 0, sizeof w[0]);
}

/* See npy_file.h. */
void npy_input_prefetch(const npy_input *in, size_t row0, size_t nrows) {
  size_t row_bytes = in->cols * npy_dtype_size(in->h.dtype);
  uint64_t off = in->h.data_offset + (uint64_t)row0 * row_bytes;
  (void)posix_fadvise(in->fd, (off_t)off, (off_t)(nrows * row_bytes), POSIX_FADV_WILLNEED);
}

/* See npy_file.h. */
const void *npy_window_as(const npy_window *w, npy_dtype have, npy_dtype want, void *buf,
                          size_t count) {
  size_t es = npy_dtype_size(have);
  if (have == want && (uintptr_t)w->data % es == 0) return w->data;
  const unsigned char *src = w->data;
  if (have == want) {
    memcpy(buf, src, count * es);
  } else if (have == NPY_F32) { /* widen f32 -> f64 (exact) */
    double *d = buf;
    for (size_t i = 0; i < count; i++) {
      float f;
      memcpy(&f, src + i * 4, 4);
      d[i] = (double)f;
    }
  } else { /* f64 -> f32 is never asked for: mixed inputs are promoted to f64 */
    float *d = buf;
    for (size_t i = 0; i < count; i++) {
      double x;
      memcpy(&x, src + i * 8, 8);
      d[i] = (float)x;
    }
  }
  return buf;
}
