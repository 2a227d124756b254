/* The cost model's constants (cost_model.c), where they come from (built in, or a calibration
 * file measured on this machine), and the calibration file itself (calibration.c).
 *
 * All CPU times are nanoseconds of one thread's work (wall time x threads), so that only the
 * ratio between direct and FFT decides; a plan's predicted wall time divides by its threads. */
#ifndef DWCONV_CALIBRATION_H
#define DWCONV_CALIBRATION_H

#include <stddef.h>

#include "internal.h"

/* Most FFT block lengths a constants set holds (2^a * {1, 3, 5} from 16 to 2^20 is 48). */
#define DWCONV_CAL_MAX_LENS 64

/* The overlap-save cost of one block length, per row: floor(blocks/2) * pair + (blocks % 2) *
 * single. `pair` is two blocks done together (one complex transform pair, the gather, the
 * spectrum multiply and the scatter of both), `single` one block alone (real transform pair). */
typedef struct dwconv_cal_fft_len {
  double L, pair, single;
} dwconv_cal_fft_len;

/* One dtype's CPU constants. */
typedef struct dwconv_cal_cpu_dtype {
  double t_mac; /* direct: one multiply-add */
  double t_out; /* direct: per output sample (loads, stores, loop overhead) */
  double t_row; /* direct: per row (edge windows, row set-up); the FFT figures include theirs */
  size_t nlens; /* FFT block lengths below, ascending; 0: FFT cost unknown (no FFTW) */
  dwconv_cal_fft_len lens[DWCONV_CAL_MAX_LENS];
} dwconv_cal_cpu_dtype;

typedef struct dwconv_cal_cpu {
  dwconv_cal_cpu_dtype dt[2]; /* [0] float32, [1] float64 */
  double t_call;              /* ns per execute call (thread start, dispatch); wall time */
  /* Per dtype: factor on the FFT figures for a plan on more than one thread (0 or 1: none).
   * The FFT path scales worse over threads and large arrays than direct (cost_model.c);
   * constants measured on one thread (a calibration file) need it, built-in ones were fitted
   * at two threads and hold it already. Not stored in the file. */
  double fft_team[2];
} dwconv_cal_cpu;

/* One dtype's CUDA constants (the CUDA cost model in cost_model.c). */
typedef struct dwconv_cal_cuda_dtype {
  double t_mac, t_out, t_fft, t_point;
} dwconv_cal_cuda_dtype;

/* CUDA constants for one device, keyed by its name and compute capability. */
typedef struct dwconv_cal_cuda {
  char device[128];
  int cc_major, cc_minor;
  dwconv_cal_cuda_dtype dt[2];
} dwconv_cal_cuda;

#define DWCONV_CAL_MAX_CUDA 8

/* What a calibration file holds (also the in-memory form of a loaded one). */
typedef struct dwconv_cal_file {
  char key[256]; /* this machine's key the file was made for (dwconv__cal_machine_key) */
  int has_cpu;
  dwconv_cal_cpu cpu;
  int ncuda;
  dwconv_cal_cuda cuda[DWCONV_CAL_MAX_CUDA];
} dwconv_cal_file;

/* The built-in CPU constants for the running machine (SIMD variant, cache sizes). */
void dwconv__cal_builtin_cpu(dwconv_cal_cpu *out);

/* Sets out->fft_team for constants measured on one thread (a calibration file's). */
void dwconv__cal_team_factors(dwconv_cal_cpu *out);

/* The CPU constants in effect now and their source (DWCONV_CONSTANTS_*): loads the
 * calibration file on first use (DWCONV_CALIBRATION, else the cache directory). */
int dwconv__cal_cpu(dwconv_cal_cpu *out);

/* CUDA constants for a device (name, compute capability) if a loaded calibration file has
 * them: 1 and *out filled, else 0. */
int dwconv__cal_cuda(const char *device, int cc_major, int cc_minor, dwconv_cal_cuda_dtype out[2]);

/* "cpu=<model>;simd=<variant>;threads=<n>;dwconv=<version>;fftw=<version>": what a file must
 * have been made for to be used here. threads is the count plans use by default. */
void dwconv__cal_machine_key(char *out, size_t len);

/* Serialises f (text, versioned, checksummed) into a malloc'ed string; NULL when out of
 * memory. */
char *dwconv__cal_format(const dwconv_cal_file *f);

/* Parses text of len bytes into *f. Returns 1, or 0 with a reason in why (never trusting
 * the text: lengths, counts, numbers and the checksum are all checked). */
int dwconv__cal_parse(const char *text, size_t len, dwconv_cal_file *f, char *why, size_t why_len);

/* Measures this machine's CPU constants with the library's own plans (cpu_calibrate.c). */
dwconv_status dwconv__cal_measure_cpu(dwconv_cal_cpu *out, int threads);

/* Makes an FFT set "safe to search": drops block lengths that a longer one beats (a longer
 * block with a cheaper pair time is never worse), so cost never decreases with L. */
void dwconv__cal_prune(dwconv_cal_cpu_dtype *d);

/* Whether a loaded calibration file holds CUDA constants for any device. */
int dwconv__cal_has_cuda(void);

/* The CPU model's choice for geometry g (rows, lengths, mode) under constants k: *algo (DIRECT
 * or FFT, never AUTO) and *block_len (the best FFT block length, 0 when none fits or
 * !fft_available), and the model's best predicted wall time in ns (that of the cheaper path and
 * block length; the block length taken may cost up to 10% more, see BLOCK_TIE). Pure: no I/O. */
double dwconv__cpu_predict(const dwconv_cal_cpu *k, const dwconv_geometry *g, dwconv_dtype dtype, int threads,
                           int fft_available, dwconv_algo *algo, size_t *block_len);

/* Forgets the loaded file so the next plan loads again (tests; after dwconv_calibrate). */
void dwconv__cal_reset(void);

#endif /* DWCONV_CALIBRATION_H */
