/* NumPy .npy header parser and builder (see npy.h). Pure functions on byte buffers. */
#include "npy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* The .npy descr of a dtype. */
const char *npy_dtype_descr(npy_dtype t) { return t == NPY_F64 ? "<f8" : "<f4"; }

/* printf into err (bounded), used for every NPY_BAD return. */
static npy_status bad(char *err, size_t errlen, const char *fmt, ...) {
  if (err != NULL && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return NPY_BAD;
}

/* A cursor over the dict text. */
typedef struct cursor {
  const unsigned char *p, *end;
} cursor;

/* Skips Python whitespace. */
static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

/* Reads a quoted string (no escapes) into out (cap bytes, truncated, NUL-terminated, with
 * non-printable bytes shown as '?'). Returns 0 when there is no well-formed string here. */
static int read_string(cursor *c, char *out, size_t cap) {
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
  unsigned char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\') return 0;
    if (n + 1 < cap) out[n++] = (*c->p >= 0x20 && *c->p < 0x7f) ? (char)*c->p : '?';
    c->p++;
  }
  if (c->p >= c->end) return 0;
  c->p++;
  out[n] = '\0';
  return 1;
}

/* Reads a non-negative decimal integer (an optional Python 2 'L' suffix is allowed).
 * Returns 0 on no digits or overflow of uint64. */
static int read_uint(cursor *c, uint64_t *v) {
  uint64_t x = 0;
  int digits = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned d = (unsigned)(*c->p - '0');
    if (x > (UINT64_MAX - d) / 10) return 0;
    x = x * 10 + d;
    c->p++;
    digits++;
  }
  if (!digits) return 0;
  if (c->p < c->end && *c->p == 'L') c->p++;
  *v = x;
  return 1;
}

/* Matches a bare word (True, False) followed by a non-identifier byte. */
static int read_word(cursor *c, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
  const unsigned char *q = c->p + n;
  if (q < c->end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_'))
    return 0;
  c->p = q;
  return 1;
}

/* Reads a shape tuple "(a, b, ...)" into shape[] (up to 8 entries; *ndim gets the count, which
 * may exceed 8 to report e.g. 9-D). Returns 0 when malformed. A one-entry tuple needs its
 * trailing comma, as in Python. */
static int read_shape(cursor *c, uint64_t shape[8], int *ndim) {
  if (c->p >= c->end || *c->p != '(') return 0;
  c->p++;
  int n = 0, trailing_comma = 0;
  skip_ws(c);
  while (c->p < c->end && *c->p != ')') {
    uint64_t v;
    if (!read_uint(c, &v)) return 0;
    if (n < 8) shape[n] = v;
    n++;
    skip_ws(c);
    trailing_comma = 0;
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      trailing_comma = 1;
      skip_ws(c);
    } else if (c->p < c->end && *c->p != ')') {
      return 0;
    }
  }
  if (c->p >= c->end) return 0;
  c->p++;
  if (n == 1 && !trailing_comma) return 0;
  *ndim = n;
  return 1;
}

/* Little-endian 16- and 32-bit header length fields. */
static uint32_t le16(const unsigned char *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8; }
static uint32_t le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Parses the dict text (between the preamble and the data) into h. */
static npy_status parse_dict(const unsigned char *text, size_t len, npy_header *h, char *err,
                             size_t errlen) {
  cursor c = {text, text + len};
  char key[32], descr[40];
  int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0, ndim = 0;
  uint64_t shape[8] = {0};

  skip_ws(&c);
  if (c.p >= c.end || *c.p != '{') return bad(err, errlen, "corrupt header: no '{' dict");
  c.p++;
  for (;;) {
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') {
      c.p++;
      break;
    }
    if (!read_string(&c, key, sizeof key)) return bad(err, errlen, "corrupt header: expected a quoted key");
    skip_ws(&c);
    if (c.p >= c.end || *c.p != ':') return bad(err, errlen, "corrupt header: expected ':' after '%s'", key);
    c.p++;
    skip_ws(&c);
    if (strcmp(key, "descr") == 0) {
      if (have_descr++) return bad(err, errlen, "corrupt header: duplicate key 'descr'");
      if (c.p < c.end && (*c.p == '[' || *c.p == '{'))
        return bad(err, errlen, "unsupported dtype: structured arrays are not supported (need '<f4' or '<f8')");
      if (!read_string(&c, descr, sizeof descr)) return bad(err, errlen, "corrupt header: bad 'descr' value");
    } else if (strcmp(key, "fortran_order") == 0) {
      if (have_fortran++) return bad(err, errlen, "corrupt header: duplicate key 'fortran_order'");
      if (read_word(&c, "True")) fortran = 1;
      else if (read_word(&c, "False")) fortran = 0;
      else return bad(err, errlen, "corrupt header: 'fortran_order' is not True or False");
    } else if (strcmp(key, "shape") == 0) {
      if (have_shape++) return bad(err, errlen, "corrupt header: duplicate key 'shape'");
      if (!read_shape(&c, shape, &ndim)) return bad(err, errlen, "corrupt header: bad 'shape' tuple");
    } else {
      return bad(err, errlen, "corrupt header: unexpected key '%s'", key);
    }
    skip_ws(&c);
    if (c.p < c.end && *c.p == ',') {
      c.p++;
    } else if (!(c.p < c.end && *c.p == '}')) {
      return bad(err, errlen, "corrupt header: expected ',' or '}' in the dict");
    }
  }
  /* After the dict NumPy pads with spaces and ends with '\n'; tolerate any whitespace, and NUL
   * padding some third-party writers use. */
  while (c.p < c.end && (*c.p == ' ' || *c.p == '\t' || *c.p == '\n' || *c.p == '\r' || *c.p == 0))
    c.p++;
  if (c.p != c.end) return bad(err, errlen, "corrupt header: unexpected bytes after the dict");
  if (!have_descr || !have_fortran || !have_shape)
    return bad(err, errlen, "corrupt header: missing key '%s'",
               !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");

  if (strcmp(descr, "<f4") == 0) {
    h->dtype = NPY_F32;
  } else if (strcmp(descr, "<f8") == 0) {
    h->dtype = NPY_F64;
  } else if (strcmp(descr, ">f4") == 0 || strcmp(descr, ">f8") == 0) {
    return bad(err, errlen, "big-endian dtype '%s' is not supported (save a.astype('<f%c'))", descr,
               descr[2]);
  } else {
    return bad(err, errlen, "unsupported dtype '%s' (need float32 '<f4' or float64 '<f8')", descr);
  }
  if (ndim == 0) return bad(err, errlen, "0-D (scalar) arrays are not supported (need 1-D or 2-D)");
  if (ndim > 2) return bad(err, errlen, "%d-D arrays are not supported (need 1-D or 2-D)", ndim);
  if (fortran && ndim == 2)
    return bad(err, errlen, "Fortran-order arrays are not supported (save np.ascontiguousarray(a))");
  uint64_t count = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == 0) return bad(err, errlen, "zero-length axis %d in shape", i);
    if (count > UINT64_MAX / shape[i]) return bad(err, errlen, "corrupt header: shape overflows");
    count *= shape[i];
  }
  uint64_t es = npy_dtype_size(h->dtype);
  if (count > UINT64_MAX / es) return bad(err, errlen, "corrupt header: shape overflows");
  h->ndim = ndim;
  h->shape[0] = shape[0];
  h->shape[1] = ndim == 2 ? shape[1] : 1;
  h->data_bytes = count * es;
  return NPY_OK;
}

/* See npy.h. */
npy_status npy_parse_header(const unsigned char *buf, size_t len, npy_header *h, size_t *need,
                            char *err, size_t errlen) {
  if (err != NULL && errlen > 0) err[0] = '\0';
  size_t m = len < sizeof npy_magic ? len : sizeof npy_magic;
  if (memcmp(buf, npy_magic, m) != 0) return bad(err, errlen, "not a .npy file (bad magic)");
  if (len < 8) {
    *need = NPY_PREAMBLE_V1;
    return NPY_NEED_MORE;
  }
  int major = buf[6], minor = buf[7];
  if (major < 1 || major > 3 || minor != 0)
    return bad(err, errlen, "unsupported .npy format version %d.%d (need 1.0, 2.0 or 3.0)", major, minor);
  size_t pre = major == 1 ? NPY_PREAMBLE_V1 : NPY_PREAMBLE_V2;
  if (len < pre) {
    *need = pre;
    return NPY_NEED_MORE;
  }
  uint32_t hlen = major == 1 ? le16(buf + 8) : le32(buf + 8);
  if (hlen > NPY_MAX_HEADER_LEN)
    return bad(err, errlen, "header length %lu exceeds the %u-byte limit (corrupt file?)",
               (unsigned long)hlen, NPY_MAX_HEADER_LEN);
  if (len < pre + hlen) {
    *need = pre + hlen;
    return NPY_NEED_MORE;
  }
  npy_header tmp;
  npy_status st = parse_dict(buf + pre, hlen, &tmp, err, errlen);
  if (st != NPY_OK) return st;
  tmp.major = major;
  tmp.minor = minor;
  tmp.data_offset = pre + hlen;
  *h = tmp;
  return NPY_OK;
}

/* See npy.h. */
size_t npy_build_header(unsigned char *out, size_t cap, npy_dtype dtype, int ndim,
                        const uint64_t *shape) {
  char dict[160];
  int n;
  if (ndim == 1)
    n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu,), }",
                 npy_dtype_descr(dtype), (unsigned long long)shape[0]);
  else
    n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu, %llu), }",
                 npy_dtype_descr(dtype), (unsigned long long)shape[0], (unsigned long long)shape[1]);
  if (n < 0 || (size_t)n >= sizeof dict) return 0;
  /* Pad with spaces so that preamble + dict + '\n' is a multiple of 64 (data aligned). */
  size_t total = NPY_PREAMBLE_V1 + (size_t)n + 1;
  total = (total + 63) / 64 * 64;
  if (total > cap) return 0;
  size_t hlen = total - NPY_PREAMBLE_V1;
  memcpy(out, npy_magic, 6);
  out[6] = 1;
  out[7] = 0;
  out[8] = (unsigned char)(hlen & 0xff);
  out[9] = (unsigned char)(hlen >> 8);
  memcpy(out + NPY_PREAMBLE_V1, dict, (size_t)n);
  memset(out + NPY_PREAMBLE_V1 + n, ' ', hlen - (size_t)n - 1);
  out[total - 1] = '\n';
  return total;
}
