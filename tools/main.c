/* The dwconv command-line program: dispatches to a subcommand (conv, bench, info, calibrate, demo). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "dwconv.h"
#include "outfile.h"

/* Prints the top-level --help text to f. */
static void usage(FILE *f) {
  fputs("usage: dwconv COMMAND [options]\n"
        "\n"
        "Depthwise (row-wise) 1-D convolution of NumPy .npy arrays, on CPU or CUDA.\n"
        "\n"
        "commands:\n"
        "  conv A.npy B.npy -o C.npy   C[m,:] = convolve(A[m,:], B[m,:]) for every row\n"
        "  bench                       throughput of each backend and algorithm\n"
        "  info                        version, build options, SIMD level, devices\n"
        "  calibrate                   measure the cost model's constants on this machine\n"
        "  demo                        a small checked example on every backend\n"
        "\n"
        "'dwconv COMMAND --help' describes each one. 'dwconv --version' prints the version.\n"
        "exit status: 0 success, 1 run-time failure, 2 bad usage or bad input\n",
        f);
}

/* Runs the subcommand named by argv[1]; returns its exit status (see cli_util.h). */
int main(int argc, char **argv) {
  if (argc < 2) {
    cli_error("missing command (conv, bench, info, calibrate, demo; see dwconv --help)");
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    printf("dwconv %s\n", dwconv_version_string());
    return EXIT_OK;
  }
  outfile_install_signal_handlers();
  if (strcmp(cmd, "conv") == 0) return cmd_conv(argc - 1, argv + 1);
  if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
  if (strcmp(cmd, "info") == 0) return cmd_info(argc - 1, argv + 1);
  if (strcmp(cmd, "demo") == 0) return cmd_demo(argc - 1, argv + 1);
  if (strcmp(cmd, "calibrate") == 0) return cmd_calibrate(argc - 1, argv + 1);
  cli_error("unknown command '%s' (conv, bench, info, calibrate, demo; see dwconv --help)", cmd);
  return EXIT_USAGE;
}
