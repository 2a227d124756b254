#!/bin/sh
# Prints the ALGO_AUTO acceptance tables for this machine: for M=256 x N=16384 and
# M=128 x N=32768, mode same, float32 and float64, over 24 kernel lengths from 3 to 8191,
# AUTO against forced DIRECT and forced FFT on reused plans (bench_auto), once with the
# constants calibrated on this machine just before and once with the built-in constants
# (DWCONV_CALIBRATION=off).
#
# Measure on a quiet machine. Other work moves these timings more than the 10% being
# checked, and a higher priority does not help much: at load average 20-27 here, nice -n -20
# still measured P = 3 direct at 10x its quiet time (memory bandwidth and kernel time are
# shared too). The load average is printed before each table.
#
#   bench/auto_table.sh [BUILD_DIR] [REPEAT]     (defaults: build, 7)
#
# The calibration is written to a temporary file (the user's own calibration file is neither
# read nor replaced). Load averages are printed before and after: on a busy machine the
# medians move, and ratios of AUTO to the forced runs of the same plan show the noise.
set -eu
build=${1:-build}
repeat=${2:-7}
bench="$build/bench/bench_auto"
cli="$build/tools/dwconv"
for f in "$bench" "$cli"; do
  [ -x "$f" ] || { echo "auto_table.sh: $f not built (cmake --build $build)" >&2; exit 2; }
done
cal=$(mktemp /tmp/dwconv-auto-table-XXXXXX)
trap 'rm -f "$cal"' EXIT
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) threads"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
DWCONV_CALIBRATION="$cal" "$cli" calibrate
# The constants the calibrated tables use, so a pick can be traced to its figures.
sed 's/^/# calibration file: /' "$cal"
for consts in calibrated built-in; do
  if [ "$consts" = calibrated ]; then use="$cal"; else use=off; fi
  for shape in "256 16384" "128 32768"; do
    set -- $shape
    for dt in f32 f64; do
      echo
      echo "## $consts constants: M=$1, N=$2, $dt, same (load $(cut -d' ' -f1 /proc/loadavg))"
      # bench_auto's per-P spread lines (median [min-max] of each plan) come first, as comments.
      DWCONV_CALIBRATION="$use" "$bench" --rows "$1" --signal "$2" --dtype "$dt" --mode same \
        --repeat "$repeat" 2>&1 | sed 's/^P /# spread (ms, median [min-max] n=runs) P /'
    done
  done
done
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
