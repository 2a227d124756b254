/* `dwconv calibrate`: measures the cost model's constants on this machine and saves them
 * (dwconv_calibrate), or, with --status, reports which constants plans use and why. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "commands.h"
#include "dwconv.h"

/* Prints the --help text to f. */
static void calibrate_usage(FILE *f) {
  fputs("usage: dwconv calibrate [-o FILE] [--status]\n"
        "\n"
        "Measures the constants ALGO_AUTO's cost model uses (direct and FFT costs, both\n"
        "dtypes, the default thread count; 1-3 s) and saves them where every later\n"
        "process finds them: FILE, else $DWCONV_CALIBRATION, else\n"
        "$XDG_CACHE_HOME/dwconv/calibration-v1.txt or ~/.cache/dwconv/calibration-v1.txt.\n"
        "Run it on a quiet machine, with the OMP_NUM_THREADS the programs will use.\n"
        "\n"
        "  -o FILE     write FILE instead of the default place\n"
        "  --status    measure nothing: print which constants plans use now, and why\n",
        f);
}

/* Prints what dwconv_calibration_status reports. */
static int print_status(void) {
  dwconv_calibration_state s;
  dwconv_status st = dwconv_calibration_status(&s);
  if (st != DWCONV_SUCCESS) {
    cli_error("calibrate: %s", cli_dwconv_error(st));
    return EXIT_RUNTIME;
  }
  printf("constants:    %s\n", s.source == DWCONV_CONSTANTS_CALIBRATED ? "calibrated" : "built-in");
  printf("file:         %s\n", s.path[0] ? s.path : "(none)");
  if (s.reason[0]) printf("not used:     %s\n", s.reason);
  printf("machine key:  %s\n", s.key);
  return EXIT_OK;
}

/* See commands.h. */
int cmd_calibrate(int argc, char **argv) {
  const char *out = NULL;
  int status_only = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      calibrate_usage(stdout);
      return EXIT_OK;
    } else if (strcmp(argv[i], "--status") == 0) {
      status_only = 1;
    } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else {
      cli_error("calibrate: unexpected argument '%s' (see dwconv calibrate --help)", argv[i]);
      return EXIT_USAGE;
    }
  }
  if (status_only) return print_status();
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dwconv_status st = dwconv_calibrate(out);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (st != DWCONV_SUCCESS) {
    cli_error("calibrate: %s", cli_dwconv_error(st));
    return st == DWCONV_ERROR_INVALID_VALUE ? EXIT_USAGE : EXIT_RUNTIME;
  }
  dwconv_calibration_state s;
  (void)dwconv_calibration_status(&s);
  printf("calibrated in %.2f s, saved to %s\n",
         (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), s.path);
  return EXIT_OK;
}
