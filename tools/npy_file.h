/* .npy input files: open and validate, map row windows, convert elements.
 *
 * Inputs are never read whole: callers map one window of rows at a time (npy_window_map),
 * use it, and unmap it, so the resident memory of an input stays at one window however large
 * the file is. */
#ifndef DWCONV_TOOLS_NPY_FILE_H
#define DWCONV_TOOLS_NPY_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "npy.h"

typedef struct npy_input {
  const char *path;   /* as given (not copied) */
  int fd;             /* -1 when closed */
  npy_header h;
  uint64_t file_size;
  dev_t dev;          /* identity, to refuse an output path that is this input */
  ino_t ino;
  size_t rows, cols;  /* 2-D: shape; 1-D: rows = 1, cols = shape[0] */
} npy_input;

/* Opens path and validates it fully: a regular file, a supported header (see npy.h), and
 * exactly header + data bytes long. Returns 0, or -1 with a one-line reason in err (which
 * does not repeat the path). The fd is closed on failure. */
int npy_input_open(npy_input *in, const char *path, char *err, size_t errlen);

/* Closes the file (safe to call twice). */
void npy_input_close(npy_input *in);

/* A mapped window of consecutive rows. */
typedef struct npy_window {
  void *map;                 /* the mapping (page-aligned), NULL when empty */
  size_t map_len;
  const unsigned char *data; /* first byte of the first requested row */
  size_t bytes;              /* bytes of the requested rows */
} npy_window;

/* Maps rows [row0, row0 + nrows) of in read-only. Returns 0, or -1 with errno set. */
int npy_window_map(const npy_input *in, size_t row0, size_t nrows, npy_window *w);

/* Unmaps the window (safe on an empty one). Its pages stop counting as this process's
 * resident memory. */
void npy_window_unmap(npy_window *w);

/* Asks the kernel to start reading rows [row0, row0 + nrows) into the page cache in the
 * background (for the next window). Best effort. */
void npy_input_prefetch(const npy_input *in, size_t row0, size_t nrows);

/* Returns the window's elements as dtype `want`: w->data itself when it already has that
 * dtype and is suitably aligned, else buf (count elements of `want`, caller-allocated) after
 * converting / copying into it. */
const void *npy_window_as(const npy_window *w, npy_dtype have, npy_dtype want, void *buf,
                          size_t count);

#endif /* DWCONV_TOOLS_NPY_FILE_H */
