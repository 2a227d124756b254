#!/usr/bin/env bash
# The whole benchmark suite in one command (from anywhere):
#
#   bench/run.sh [peers.py options]        e.g. bench/run.sh --quick   or   bench/run.sh --gpu
#
# 1. builds dwconv + bench_dwconv in build-bench/ (Release, no tests, -j2 at most:
#    BENCH_JOBS=N to change), reusing it when up to date;
# 2. runs bench/peers.py on the full suite (--shapes suite unless you pass --shapes),
#    writing bench/results/<UTC date>-<host>.json, .md (tables), .txt (console output) and
#    -<backend>.png plots (when matplotlib is importable: pip install matplotlib).
# Takes about 3-4 minutes on a quiet 2-core machine (well under 10). Needs python3 with numpy
# and scipy; torch and cupy peers are used when importable, otherwise listed "not available".
# Run it on a quiet machine: load from other processes shows up directly in the timings
# (peers.py warns when the load average is above 0.5 at the start).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
jobs="${BENCH_JOBS:-2}"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDWCONV_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j "$jobs" --target bench_dwconv >/dev/null

python3 -c "import numpy, scipy" 2>/dev/null || {
  echo "bench/run.sh: needs python3 with numpy and scipy (pip install numpy scipy)" >&2
  exit 2
}

stamp="$(date -u +%Y-%m-%d)-$(hostname -s 2>/dev/null || hostname)"
outdir=bench/results
mkdir -p "$outdir"
base="$outdir/$stamp"
args=("$@")
case " $* " in *" --shapes "*) ;; *) args=(--shapes suite "${args[@]}") ;; esac

start=$(date +%s)
python3 bench/peers.py --bench build-bench/bench/bench_dwconv \
  --json "$base.json" --md "$base.md" --plots "$base" "${args[@]}" 2>&1 | tee "$base.txt"
status=${PIPESTATUS[0]}
echo "bench/run.sh: finished in $(( $(date +%s) - start )) s; results in $base.{json,md,txt} (+ PNGs)" >&2
exit "$status"
