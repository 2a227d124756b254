/* NumPy .npy format: header parsing and building, on byte buffers only.
 *
 * No file I/O and no dwconv dependency here, so the parser can be fuzzed on its own
 * (feed npy_parse_header any bytes with their exact length). Supported: format versions 1.0,
 * 2.0 and 3.0; descr '<f4' or '<f8' exactly (NumPy always spells little-endian floats that
 * way); fortran_order False (True is accepted for 1-D arrays, where the layouts coincide);
 * 1-D or 2-D shapes with no zero-length axis. Everything else is rejected with a one-line
 * reason. */
#ifndef DWCONV_TOOLS_NPY_H
#define DWCONV_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest header (dict text) accepted, in bytes. NumPy itself refuses more than 10000 by
 * default; 1 MiB leaves room for odd writers while bounding what a corrupt file can ask for. */
#define NPY_MAX_HEADER_LEN (1u << 20)

/* Bytes of the fixed preamble before the dict: magic (6) + version (2) + length (2 or 4). */
#define NPY_PREAMBLE_V1 10u
#define NPY_PREAMBLE_V2 12u

typedef enum { NPY_F32 = 0, NPY_F64 = 1 } npy_dtype;

/* A parsed header. */
typedef struct npy_header {
  int major, minor;      /* format version */
  npy_dtype dtype;       /* element type */
  int ndim;              /* 1 or 2 */
  uint64_t shape[2];     /* shape[0..ndim-1]; every entry >= 1 */
  uint64_t data_offset;  /* bytes from the start of the file to the first element */
  uint64_t data_bytes;   /* product of shape times element size (checked for overflow) */
} npy_header;

/* Element size in bytes. */
static inline size_t npy_dtype_size(npy_dtype t) { return t == NPY_F64 ? 8u : 4u; }

/* The .npy descr string of a dtype ("<f4" or "<f8"). */
const char *npy_dtype_descr(npy_dtype t);

/* Status of npy_parse_header. */
typedef enum {
  NPY_OK = 0,
  NPY_NEED_MORE = 1, /* buf is a valid prefix; *need says how many bytes the header occupies */
  NPY_BAD = 2        /* not a supported .npy header; err holds the reason */
} npy_status;

/* Parses the header at the start of buf (len bytes; buf may hold more, e.g. the whole file).
 * On NPY_OK fills *h. On NPY_NEED_MORE sets *need to the total header size (preamble + dict)
 * when it is known, or to the preamble size when even that is missing; call again with at
 * least that many bytes. On NPY_BAD writes a one-line reason (no trailing newline) into err
 * (errlen bytes, always NUL-terminated when errlen > 0). Never reads past buf[len-1]. */
npy_status npy_parse_header(const unsigned char *buf, size_t len, npy_header *h, size_t *need,
                            char *err, size_t errlen);

/* Builds a complete version 1.0 header (preamble + dict + space padding + '\n') for a
 * C-order array of the given dtype and shape (ndim 1 or 2). The total length is a multiple of
 * 64, as NumPy writes it, so the data that follows is aligned. Writes at most cap bytes into
 * out and returns the header length, or 0 when cap is too small (256 bytes is always
 * enough). */
size_t npy_build_header(unsigned char *out, size_t cap, npy_dtype dtype, int ndim,
                        const uint64_t *shape);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_TOOLS_NPY_H */
