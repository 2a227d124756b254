/* Calibration files: the cost model's constants measured on this machine, cached like FFTW
 * wisdom, and the choice between them and the built-in constants.
 *
 * Where: the file named by DWCONV_CALIBRATION ("off" or "" = use none), else
 * $XDG_CACHE_HOME/dwconv/calibration-v1.txt, else $HOME/.cache/dwconv/calibration-v1.txt.
 * Loaded once per process, on the first plan that needs the constants (dwconv_calibrate and
 * dwconv__cal_reset make the next plan look again).
 *
 * Format (text, one record a line, at most MAX_FILE_BYTES):
 *   dwconv-calibration 1
 *   key <machine key>                         must equal dwconv__cal_machine_key() here
 *   cpu_call <ns>
 *   cpu <f32|f64> <t_mac> <t_out> <t_row> <n>  then n lines:
 *   fft <f32|f64> <L> <pair ns> <single ns>    L ascending
 *   cuda <major>.<minor> <device name>         optional, then one line per dtype:
 *   cuda_dt <f32|f64> <t_mac> <t_out> <t_fft> <t_point>
 *   checksum <16 hex digits>                  FNV-1a 64 of every byte before this line
 * Anything else (unknown record, bad number, wrong order, missing checksum, trailing bytes)
 * makes the whole file unused: a file is either exactly what dwconv wrote or ignored. */
#define _POSIX_C_SOURCE 200809L
#include "calibration.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define MAGIC "dwconv-calibration 1\n"
#define FILE_NAME "calibration-v1.txt"
/* A real file is about 4 KB; anything much larger is not one of ours. */
#define MAX_FILE_BYTES ((size_t)64 << 10)
#define MAX_LINE 400

static pthread_mutex_t cal_mutex = PTHREAD_MUTEX_INITIALIZER;
/* fork() while another thread holds the lock (reading the file) would leave the child a
 * lock nobody releases: it is taken around fork, as the FFTW planner lock is. */
static pthread_once_t cal_atfork_once = PTHREAD_ONCE_INIT;
static void cal_lock_raw(void) { pthread_mutex_lock(&cal_mutex); }
static void cal_unlock_raw(void) { pthread_mutex_unlock(&cal_mutex); }
static void cal_install_atfork(void) { (void)pthread_atfork(cal_lock_raw, cal_unlock_raw, cal_unlock_raw); }
static void cal_lock(void) {
  pthread_once(&cal_atfork_once, cal_install_atfork);
  cal_lock_raw();
}
static int cal_loaded;           /* the file (or its absence) has been looked at */
static dwconv_cal_file cal_file; /* valid when cal_have */
static int cal_have;
static char cal_path[1024];
static char cal_reason[512];

/* ---- the machine key ---- */

/* The CPU's model as the kernel reports it, with family and model numbers: VMs often show a
 * generic name ("AMD EPYC") for different generations. "unknown" when /proc is unavailable. */
static void cpu_model(char *out, size_t len) {
  char name[128] = "unknown", family[32] = "", model[32] = "";
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f != NULL) {
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
      char *colon = strchr(line, ':');
      if (colon == NULL) {
        if (line[0] == '\n') break; /* end of the first processor's block */
        continue;
      }
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      v[strcspn(v, "\n")] = '\0';
      if (strncmp(line, "model name", 10) == 0) snprintf(name, sizeof name, "%s", v);
      else if (strncmp(line, "cpu family", 10) == 0) snprintf(family, sizeof family, "%s", v);
      else if (strncmp(line, "model\t", 6) == 0 || strncmp(line, "model ", 6) == 0)
        snprintf(model, sizeof model, "%s", v);
    }
    fclose(f);
  }
  snprintf(out, len, "%s/%s/%s", name, family, model);
  /* The key is one line of a file, separated by ';'. */
  for (char *p = out; *p; p++)
    if (*p == ';' || (unsigned char)*p < 32) *p = ' ';
}

static int default_threads(void) {
#ifdef _OPENMP
  int t = omp_get_max_threads();
  if (t > DWCONV_MAX_THREADS) t = DWCONV_MAX_THREADS;
  return t < 1 ? 1 : t;
#else
  return 1;
#endif
}

void dwconv__cal_machine_key(char *out, size_t len) {
  char model[200];
  cpu_model(model, sizeof model);
  snprintf(out, len, "cpu=%s;simd=%s;threads=%d;dwconv=%s;fftw=%s", model, dwconv__cpu_simd_name(),
           default_threads(), dwconv_version_string(), dwconv__cpu_fft_version());
}

/* ---- text format ---- */

static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

/* A growable string for dwconv__cal_format. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  int failed;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = 1;
      return;
    }
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = 2 * b->cap + (size_t)n + 256;
    char *q = (char *)realloc(b->p, cap);
    if (q == NULL) {
      b->failed = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
}

static const char *dt_name[2] = {"f32", "f64"};

char *dwconv__cal_format(const dwconv_cal_file *f) {
  sbuf b = {0};
  b.p = (char *)malloc(4096);
  if (b.p == NULL) return NULL;
  b.cap = 4096;
  b.p[0] = '\0';
  sb_printf(&b, "%s", MAGIC);
  sb_printf(&b, "key %s\n", f->key);
  if (f->has_cpu) {
    /* %.9g keeps every constant to well under the measurement noise. */
    sb_printf(&b, "cpu_call %.9g\n", f->cpu.t_call);
    for (int d = 0; d < 2; d++) {
      const dwconv_cal_cpu_dtype *c = &f->cpu.dt[d];
      sb_printf(&b, "cpu %s %.9g %.9g %.9g %zu\n", dt_name[d], c->t_mac, c->t_out, c->t_row, c->nlens);
      for (size_t i = 0; i < c->nlens; i++)
        sb_printf(&b, "fft %s %.0f %.9g %.9g\n", dt_name[d], c->lens[i].L, c->lens[i].pair, c->lens[i].single);
    }
  }
  for (int i = 0; i < f->ncuda; i++) {
    const dwconv_cal_cuda *c = &f->cuda[i];
    sb_printf(&b, "cuda %d.%d %s\n", c->cc_major, c->cc_minor, c->device);
    for (int d = 0; d < 2; d++)
      sb_printf(&b, "cuda_dt %s %.9g %.9g %.9g %.9g\n", dt_name[d], c->dt[d].t_mac, c->dt[d].t_out,
                c->dt[d].t_fft, c->dt[d].t_point);
  }
  uint64_t h = b.failed ? 0 : fnv1a(b.p, b.len);
  sb_printf(&b, "checksum %016llx\n", (unsigned long long)h);
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* Reads one finite number in [lo, hi] at *s, skipping one leading space; advances *s. */
static int num(const char **s, double lo, double hi, double *out) {
  const char *p = *s;
  if (*p != ' ') return 0;
  p++;
  if (*p == ' ' || *p == '\0') return 0;
  char *end;
  errno = 0;
  double v = strtod(p, &end);
  if (end == p || errno == ERANGE || !isfinite(v) || v < lo || v > hi) return 0;
  *out = v;
  *s = end;
  return 1;
}

static int dtype_word(const char **s, int *d) {
  const char *p = *s;
  if (strncmp(p, " f32", 4) == 0) *d = 0;
  else if (strncmp(p, " f64", 4) == 0) *d = 1;
  else return 0;
  *s = p + 4;
  return 1;
}

#define FAIL(...)                              \
  do {                                         \
    snprintf(why, why_len, __VA_ARGS__);       \
    return 0;                                  \
  } while (0)

/* Time constants are nanoseconds: positive and below a day per operation. */
#define T_MAX 8.64e13
/* Longest block length a file may give: 64x what dwconv_calibrate measures (32768), so a file
 * from a later version that measures further still loads, and no transform a file picks is
 * huge. */
#define CAL_MAX_BLOCK 2097152.0

int dwconv__cal_parse(const char *text, size_t len, dwconv_cal_file *f, char *why, size_t why_len) {
  memset(f, 0, sizeof *f);
  if (len > MAX_FILE_BYTES) FAIL("larger than %zu bytes", MAX_FILE_BYTES);
  if (len < strlen(MAGIC) || memcmp(text, MAGIC, strlen(MAGIC)) != 0)
    FAIL("not a dwconv calibration file (first line is not \"dwconv-calibration 1\")");
  if (memchr(text, '\0', len) != NULL) FAIL("contains a NUL byte");
  /* The checksum line is the last line; it covers everything before it. */
  if (text[len - 1] != '\n') FAIL("truncated (no line end at the end)");
  size_t last = len - 1;
  while (last > 0 && text[last - 1] != '\n') last--;
  const char *ck = text + last;
  if (len - last < 9 || memcmp(ck, "checksum ", 9) != 0) FAIL("truncated (no checksum line)");
  size_t body = (size_t)(ck - text);
  if (len - body != 9 + 16 + 1) FAIL("malformed checksum line");
  unsigned long long want = 0;
  for (int i = 0; i < 16; i++) {
    char c = ck[9 + i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) FAIL("malformed checksum line");
    want = want << 4 | (unsigned)v;
  }
  if (fnv1a(text, body) != want) FAIL("checksum mismatch (file corrupt or edited)");

  /* Line by line over the body, after the magic line. */
  const char *p = text + strlen(MAGIC), *end = text + body;
  int lineno = 1, seen_key = 0, cur_dt = -1, cuda_dt_left = 0;
  size_t lens_left = 0;
  int seen_dt[2] = {0, 0};
  while (p < end) {
    lineno++;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) FAIL("line %d: no line end", lineno);
    size_t ll = (size_t)(nl - p);
    if (ll > MAX_LINE) FAIL("line %d: longer than %d characters", lineno, MAX_LINE);
    char line[MAX_LINE + 1];
    memcpy(line, p, ll);
    line[ll] = '\0';
    p = nl + 1;
    const char *s = line;
    int d;
    double v[4] = {0, 0, 0, 0};
    if (lens_left > 0) {
      /* fft <dt> <L> <pair> <single> */
      dwconv_cal_cpu_dtype *c = &f->cpu.dt[cur_dt];
      if (strncmp(s, "fft", 3) != 0) FAIL("line %d: expected an fft record", lineno);
      s += 3;
      if (!dtype_word(&s, &d) || d != cur_dt) FAIL("line %d: fft record of the wrong dtype", lineno);
      /* Even, 7-smooth and at most CAL_MAX_BLOCK: the lengths dwconv measures. A length with a
       * large prime factor is a slow transform however cheap the file says it is
       * (fuzz_calibration: "fft f64 9991028 900 0.01" made a 300-sample row run for 28 s). */
      if (!num(&s, 16, CAL_MAX_BLOCK, &v[0]) || v[0] != floor(v[0]) || fmod(v[0], 2) != 0 ||
          dwconv__next_smooth7((size_t)v[0]) != (size_t)v[0])
        FAIL("line %d: bad block length", lineno);
      if (c->nlens > 0 && v[0] <= c->lens[c->nlens - 1].L) FAIL("line %d: block lengths not ascending", lineno);
      if (!num(&s, 1e-6, T_MAX, &v[1]) || !num(&s, 1e-6, T_MAX, &v[2]) || *s != '\0')
        FAIL("line %d: bad fft times", lineno);
      c->lens[c->nlens].L = v[0];
      c->lens[c->nlens].pair = v[1];
      c->lens[c->nlens].single = v[2];
      c->nlens++;
      lens_left--;
      continue;
    }
    if (cuda_dt_left > 0) {
      dwconv_cal_cuda *c = &f->cuda[f->ncuda - 1];
      if (strncmp(s, "cuda_dt", 7) != 0) FAIL("line %d: expected a cuda_dt record", lineno);
      s += 7;
      if (!dtype_word(&s, &d) || d != 2 - cuda_dt_left) FAIL("line %d: cuda_dt records out of order", lineno);
      for (int i = 0; i < 4; i++)
        if (!num(&s, 1e-9, T_MAX, &v[i])) FAIL("line %d: bad cuda constant", lineno);
      if (*s != '\0') FAIL("line %d: trailing characters", lineno);
      c->dt[d].t_mac = v[0];
      c->dt[d].t_out = v[1];
      c->dt[d].t_fft = v[2];
      c->dt[d].t_point = v[3];
      cuda_dt_left--;
      continue;
    }
    if (strncmp(s, "key ", 4) == 0) {
      if (seen_key) FAIL("line %d: second key", lineno);
      if (strlen(s + 4) >= sizeof f->key) FAIL("line %d: key too long", lineno);
      snprintf(f->key, sizeof f->key, "%s", s + 4);
      seen_key = 1;
    } else if (!seen_key) {
      FAIL("line %d: the key must come first", lineno);
    } else if (strncmp(s, "cpu_call", 8) == 0) {
      s += 8;
      if (!num(&s, 0, T_MAX, &v[0]) || *s != '\0') FAIL("line %d: bad cpu_call", lineno);
      f->cpu.t_call = v[0];
    } else if (strncmp(s, "cpu", 3) == 0 && s[3] == ' ') {
      s += 3;
      if (!dtype_word(&s, &d) || seen_dt[d]) FAIL("line %d: bad or repeated cpu record", lineno);
      if (!num(&s, 1e-6, T_MAX, &v[0]) || !num(&s, 0, T_MAX, &v[1]) || !num(&s, 0, T_MAX, &v[2]) ||
          !num(&s, 0, DWCONV_CAL_MAX_LENS, &v[3]) || v[3] != floor(v[3]) || *s != '\0')
        FAIL("line %d: bad cpu record", lineno);
      dwconv_cal_cpu_dtype *c = &f->cpu.dt[d];
      c->t_mac = v[0];
      c->t_out = v[1];
      c->t_row = v[2];
      lens_left = (size_t)v[3];
      cur_dt = d;
      seen_dt[d] = 1;
    } else if (strncmp(s, "cuda ", 5) == 0) {
      if (f->ncuda == DWCONV_CAL_MAX_CUDA) FAIL("line %d: more than %d CUDA devices", lineno, DWCONV_CAL_MAX_CUDA);
      dwconv_cal_cuda *c = &f->cuda[f->ncuda];
      char *e;
      s += 5;
      long maj = strtol(s, &e, 10);
      if (e == s || *e != '.' || maj < 1 || maj > 99) FAIL("line %d: bad compute capability", lineno);
      s = e + 1;
      long min = strtol(s, &e, 10);
      if (e == s || *e != ' ' || min < 0 || min > 99) FAIL("line %d: bad compute capability", lineno);
      if (strlen(e + 1) == 0 || strlen(e + 1) >= sizeof c->device) FAIL("line %d: bad device name", lineno);
      snprintf(c->device, sizeof c->device, "%s", e + 1);
      c->cc_major = (int)maj;
      c->cc_minor = (int)min;
      f->ncuda++;
      cuda_dt_left = 2;
    } else {
      FAIL("line %d: unknown record", lineno);
    }
  }
  if (lens_left > 0 || cuda_dt_left > 0) FAIL("truncated (records missing before the checksum)");
  if (!seen_key) FAIL("no key");
  if (seen_dt[0] != seen_dt[1]) FAIL("cpu constants for only one dtype");
  f->has_cpu = seen_dt[0];
#ifdef DWCONV_HAVE_FFTW
  /* A calibration in a build with FFTW measures block lengths for both dtypes; without any the
   * model could not give a forced FFT plan a block length (fuzz_calibration found it). */
  for (int k = 0; k < 2 && f->has_cpu; k++)
    if (f->cpu.dt[k].nlens == 0) FAIL("no FFT block lengths for %s", dt_name[k]);
#endif
  for (int k = 0; k < 2 && f->has_cpu; k++) dwconv__cal_prune(&f->cpu.dt[k]);
  return 1;
}
#undef FAIL

void dwconv__cal_prune(dwconv_cal_cpu_dtype *d) {
  /* Two blocks never cost less than one: keeps the per-row cost non-decreasing in the block
   * count (what makes a longer kernel never predicted faster). */
  for (size_t i = 0; i < d->nlens; i++)
    if (d->lens[i].pair < d->lens[i].single) d->lens[i].pair = d->lens[i].single;
  /* A length some longer length beats on both counts is never the best choice (the longer
   * one also takes more output samples per block): drop it. Scanning from the longest keeps
   * the running minimum of what lies above. */
  size_t keep = 0;
  double min_pair = INFINITY, min_single = INFINITY;
  dwconv_cal_fft_len out[DWCONV_CAL_MAX_LENS];
  for (size_t i = d->nlens; i-- > 0;) {
    if (d->lens[i].pair >= min_pair && d->lens[i].single >= min_single) continue;
    out[keep++] = d->lens[i];
    if (d->lens[i].pair < min_pair) min_pair = d->lens[i].pair;
    if (d->lens[i].single < min_single) min_single = d->lens[i].single;
  }
  for (size_t i = 0; i < keep; i++) d->lens[i] = out[keep - 1 - i];
  d->nlens = keep;
}

/* ---- where the file lives ---- */

/* The calibration file's path: 1 and out filled, or 0 (none: DWCONV_CALIBRATION=off or "",
 * or neither XDG_CACHE_HOME nor HOME set) with the reason in out. dir receives the
 * directory dwconv may create for the default place ("" for an explicit path). */
static int file_path(char *out, size_t len, char *dir, size_t dir_len) {
  dir[0] = '\0';
  const char *env = getenv("DWCONV_CALIBRATION");
  if (env != NULL) {
    if (env[0] == '\0' || strcmp(env, "off") == 0) {
      snprintf(out, len, "DWCONV_CALIBRATION is \"%s\": calibration files disabled", env);
      return 0;
    }
    if ((size_t)snprintf(out, len, "%s", env) >= len) {
      snprintf(out, len, "DWCONV_CALIBRATION is too long a path");
      return 0;
    }
    return 1;
  }
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  /* The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored. */
  if (xdg != NULL && xdg[0] == '/')
    snprintf(dir, dir_len, "%s/dwconv", xdg);
  else if (home != NULL && home[0] != '\0')
    snprintf(dir, dir_len, "%s/.cache/dwconv", home);
  else {
    snprintf(out, len, "neither XDG_CACHE_HOME nor HOME is set: no place for a calibration file");
    return 0;
  }
  if ((size_t)snprintf(out, len, "%s/%s", dir, FILE_NAME) >= len) {
    snprintf(out, len, "the cache directory's path is too long");
    return 0;
  }
  return 1;
}

/* Reads a regular file of at most MAX_FILE_BYTES into a malloc'ed buffer. 0 with why on
 * failure. Opened non-blocking so a FIFO planted at the path cannot hang the process. */
static int read_small_file(const char *path, char **text, size_t *len, char *why, size_t why_len) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      snprintf(why, why_len, "no calibration file at %.300s (make one with dwconv_calibrate or `dwconv calibrate`)",
               path);
    else
      snprintf(why, why_len, "cannot open %.200s: %.100s", path, strerror(errno));
    return 0;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, why_len, "%.300s is not a regular file", path);
    close(fd);
    return 0;
  }
  if ((size_t)st.st_size > MAX_FILE_BYTES) {
    snprintf(why, why_len, "%.300s: larger than %zu bytes, not a calibration file", path, MAX_FILE_BYTES);
    close(fd);
    return 0;
  }
  char *buf = (char *)malloc(MAX_FILE_BYTES + 1);
  if (buf == NULL) {
    snprintf(why, why_len, "out of memory reading %.300s", path);
    close(fd);
    return 0;
  }
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, MAX_FILE_BYTES + 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(why, why_len, "cannot read %.200s: %.100s", path, strerror(errno));
      free(buf);
      close(fd);
      return 0;
    }
    if (r == 0) break;
    got += (size_t)r;
    if (got > MAX_FILE_BYTES) {
      snprintf(why, why_len, "%.300s grew past %zu bytes while read", path, MAX_FILE_BYTES);
      free(buf);
      close(fd);
      return 0;
    }
  }
  close(fd);
  *text = buf;
  *len = got;
  return 1;
}

/* With cal_mutex held: looks at the file once. */
static void load_locked(void) {
  if (cal_loaded) return;
  cal_loaded = 1;
  cal_have = 0;
  cal_reason[0] = '\0';
  char dir[1024];
  if (!file_path(cal_path, sizeof cal_path, dir, sizeof dir)) {
    snprintf(cal_reason, sizeof cal_reason, "%.500s", cal_path);
    cal_path[0] = '\0';
    return;
  }
  char *text = NULL;
  size_t len = 0;
  if (!read_small_file(cal_path, &text, &len, cal_reason, sizeof cal_reason)) return;
  char why[256];
  int ok = dwconv__cal_parse(text, len, &cal_file, why, sizeof why);
  free(text);
  if (!ok) {
    snprintf(cal_reason, sizeof cal_reason, "%.250s: %.250s", cal_path, why);
    return;
  }
  char key[256];
  dwconv__cal_machine_key(key, sizeof key);
  if (strcmp(key, cal_file.key) != 0) {
    snprintf(cal_reason, sizeof cal_reason, "%.150s was made for another machine or version (%.150s; here: %.150s)",
             cal_path, cal_file.key, key);
    return;
  }
  cal_have = 1;
  /* A file may hold CUDA constants only; the CPU model then keeps its built-in constants,
   * and the status says why. */
  if (!cal_file.has_cpu)
    snprintf(cal_reason, sizeof cal_reason, "%.400s has no CPU constants (built-in ones are used for the CPU)",
             cal_path);
}

int dwconv__cal_cpu(dwconv_cal_cpu *out) {
  cal_lock();
  load_locked();
  int src = DWCONV_CONSTANTS_BUILTIN;
  if (cal_have && cal_file.has_cpu) {
    *out = cal_file.cpu;
    dwconv__cal_team_factors(out);
    src = DWCONV_CONSTANTS_CALIBRATED;
  }
  cal_unlock_raw();
  if (src == DWCONV_CONSTANTS_BUILTIN) dwconv__cal_builtin_cpu(out);
  return src;
}

int dwconv__cal_cuda(const char *device, int cc_major, int cc_minor, dwconv_cal_cuda_dtype out[2]) {
  int found = 0;
  cal_lock();
  load_locked();
  for (int i = 0; cal_have && i < cal_file.ncuda && !found; i++) {
    const dwconv_cal_cuda *c = &cal_file.cuda[i];
    if (strcmp(c->device, device) == 0 && c->cc_major == cc_major && c->cc_minor == cc_minor) {
      out[0] = c->dt[0];
      out[1] = c->dt[1];
      found = 1;
    }
  }
  cal_unlock_raw();
  return found;
}

/* Whether any loaded file has CUDA constants (so the CUDA model asks the device's name only
 * then). */
int dwconv__cal_has_cuda(void) {
  cal_lock();
  load_locked();
  int n = cal_have ? cal_file.ncuda : 0;
  cal_unlock_raw();
  return n > 0;
}

void dwconv__cal_reset(void) {
  cal_lock();
  cal_loaded = 0;
  cal_have = 0;
  cal_unlock_raw();
}

/* ---- public ---- */

dwconv_status dwconv_calibration_status(dwconv_calibration_state *state) {
  dwconv__clear_error();
  if (state == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "state is NULL");
  memset(state, 0, sizeof *state);
  cal_lock();
  load_locked();
  state->source = cal_have && cal_file.has_cpu ? DWCONV_CONSTANTS_CALIBRATED : DWCONV_CONSTANTS_BUILTIN;
  memcpy(state->path, cal_path, sizeof state->path);
  memcpy(state->reason, cal_reason, sizeof state->reason);
  cal_unlock_raw();
  dwconv__cal_machine_key(state->key, sizeof state->key);
  return DWCONV_SUCCESS;
}

/* Creates dir and its parent (mode 0700: a cache is private to its user); existing is fine. */
static int make_dirs(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return 0;
      *p = '/';
    }
  return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

/* Writes text to path atomically: a temporary file in the same directory, fsync'ed, then
 * renamed over path, so a reader (or a crash, or a second writer) never sees half a file:
 * two processes writing at once each rename a whole file, and the last rename wins. */
static dwconv_status write_atomic(const char *path, const char *text) {
  static atomic_ulong counter;
  size_t n = strlen(path) + 64;
  char *tmp = (char *)malloc(n);
  if (tmp == NULL) return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating a file name");
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    snprintf(tmp, n, "%s.tmp.%ld.%lu", path, (long)getpid(), (unsigned long)atomic_fetch_add(&counter, 1));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    dwconv_status st = dwconv__error(DWCONV_ERROR_IO, "cannot create a file next to %s: %s", path, strerror(errno));
    free(tmp);
    return st;
  }
  size_t len = strlen(text), done = 0;
  int ok = 1, err = 0;
  while (ok && done < len) {
    ssize_t w = write(fd, text + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ok = 0;
      err = errno;
    } else {
      done += (size_t)w;
    }
  }
  if (ok && fsync(fd) != 0) ok = 0, err = errno;
  if (close(fd) != 0 && ok) ok = 0, err = errno;
  if (ok && rename(tmp, path) != 0) ok = 0, err = errno;
  if (!ok) {
    unlink(tmp);
    free(tmp);
    return dwconv__error(DWCONV_ERROR_IO, "cannot write %s: %s", path, strerror(err));
  }
  free(tmp);
  return DWCONV_SUCCESS;
}

dwconv_status dwconv_calibrate(const char *path) {
  dwconv__clear_error();
  char where[1024], dir[1024] = "";
  if (path != NULL) {
    if (path[0] == '\0') return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "path is empty");
    if ((size_t)snprintf(where, sizeof where, "%s", path) >= sizeof where)
      return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "path is longer than %zu characters", sizeof where - 1);
  } else if (!file_path(where, sizeof where, dir, sizeof dir)) {
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "no path given and %s", where);
  }
  dwconv_cal_file *f = (dwconv_cal_file *)calloc(1, sizeof *f);
  if (f == NULL) return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating calibration results");
  dwconv__cal_machine_key(f->key, sizeof f->key);
  dwconv_status st = dwconv__cal_measure_cpu(&f->cpu, default_threads());
  if (st != DWCONV_SUCCESS) {
    free(f);
    return st;
  }
  f->has_cpu = 1;
  for (int d = 0; d < 2; d++) dwconv__cal_prune(&f->cpu.dt[d]);
  /* CUDA constants already in the file being replaced are kept (they come from a GPU run). */
  cal_lock();
  load_locked();
  if (cal_have && strcmp(cal_path, where) == 0) {
    f->ncuda = cal_file.ncuda;
    memcpy(f->cuda, cal_file.cuda, sizeof f->cuda);
  }
  cal_unlock_raw();
  char *text = dwconv__cal_format(f);
  if (text == NULL) {
    free(f);
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "formatting calibration results");
  }
  if (dir[0] != '\0' && !make_dirs(dir)) {
    st = dwconv__error(DWCONV_ERROR_IO, "cannot create %s: %s", dir, strerror(errno));
  } else {
    st = write_atomic(where, text);
  }
  free(text);
  /* The measured constants take effect in this process whether or not the file could be
   * written (dwconv_calibration_status reports it). */
  cal_lock();
  cal_loaded = 1;
  cal_have = 1;
  cal_file = *f;
  snprintf(cal_path, sizeof cal_path, "%s", where);
  if (st == DWCONV_SUCCESS)
    cal_reason[0] = '\0';
  else
    snprintf(cal_reason, sizeof cal_reason, "measured in this process but not saved: %.400s", dwconv_last_error());
  cal_unlock_raw();
  free(f);
  return st;
}
