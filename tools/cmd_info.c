/* `dwconv info`: library version, build options (dwconv_build_features), SIMD level
 * (dwconv_cpu_simd), CPU threads and GPUs. When CUDA is built but no device is usable, the
 * reason a CUDA plan is refused is printed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "dwconv.h"

/* Prints the --help text to f. */
static void info_usage(FILE *f) {
  fputs("usage: dwconv info\n"
        "\n"
        "Prints the library version, build options (CUDA, FFTW, OpenMP), the CPU's SIMD\n"
        "level, the CPU threads a plan uses by default, and the CUDA devices found.\n",
        f);
}

/* Creates a small CPU plan with the given algo and threads; fills *info on success. */
static dwconv_status probe(dwconv_algo algo, int threads, dwconv_plan_info *info) {
  dwconv_desc d = dwconv_desc_make(2, 64, 8, DWCONV_FLOAT32);
  d.backend = DWCONV_BACKEND_CPU;
  d.algo = algo;
  d.threads = threads;
  dwconv_plan *p = NULL;
  dwconv_status st = dwconv_plan_create(&p, &d);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_get_info(p, info);
  dwconv_plan_destroy(p);
  return st;
}

/* See commands.h. */
int cmd_info(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      info_usage(stdout);
      return EXIT_OK;
    }
    cli_error("info: unexpected argument '%s' (see dwconv info --help)", argv[i]);
    return EXIT_USAGE;
  }
  dwconv_plan_info pi;
  printf("dwconv %s (built against headers %d.%d.%d)\n", dwconv_version_string(), DWCONV_VERSION_MAJOR,
         DWCONV_VERSION_MINOR, DWCONV_VERSION_PATCH);

  unsigned features = dwconv_build_features();
  printf("FFTW:         %s\n", features & DWCONV_FEATURE_FFTW ? "yes" : "no (ALGO_FFT unavailable on the CPU)");
  printf("OpenMP:       %s\n", features & DWCONV_FEATURE_OPENMP ? "yes" : "no (one CPU thread)");
  printf("SIMD (CPU):   %s\n", dwconv_cpu_simd());
  dwconv_status st;

  long online = sysconf(_SC_NPROCESSORS_ONLN);
  st = probe(DWCONV_ALGO_DIRECT, 0, &pi);
  printf("CPU threads:  %d used by default (%ld online; set OMP_NUM_THREADS or --threads to change)\n",
         st == DWCONV_SUCCESS ? pi.threads : 0, online);

  int ndev = dwconv_cuda_device_count();
  if (!(features & DWCONV_FEATURE_CUDA)) {
    printf("CUDA:         not built (configure with -DDWCONV_WITH_CUDA=ON)\n");
  } else if (ndev > 0) {
    printf("CUDA:         yes, %d device%s\n", ndev, ndev == 1 ? "" : "s");
    for (int i = 0; i < ndev; i++) {
      dwconv_device_info di;
      if (dwconv_cuda_device_info(i, &di) == DWCONV_SUCCESS)
        printf("  GPU %d:      %s, compute %d.%d, %d SMs, %.1f GiB (%.1f GiB free)\n", i, di.name,
               di.compute_major, di.compute_minor, di.multiprocessors,
               (double)di.total_memory / 1073741824.0, (double)di.free_memory / 1073741824.0);
      else
        printf("  GPU %d:      (%s)\n", i, dwconv_last_error());
    }
  } else {
    dwconv_desc d = dwconv_desc_make(1, 16, 4, DWCONV_FLOAT32);
    d.backend = DWCONV_BACKEND_CUDA;
    dwconv_plan *p = NULL;
    st = dwconv_plan_create(&p, &d);
    dwconv_plan_destroy(p);
    printf("CUDA:         no usable device (%s)\n",
           st == DWCONV_SUCCESS ? "plan made anyway" : cli_dwconv_error(st));
  }
  return EXIT_OK;
}
