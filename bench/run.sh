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
# Takes about 3-4 minutes on a quiet 2-core machine (well under 10). Runs in the project's
# virtual environment .venv (made when missing, with numpy, scipy and matplotlib from PyPI;
# BENCH_TORCH=1 adds torch); torch and cupy peers are used when importable, otherwise listed
# "not available". BENCH_PYTHON=1 also installs the Python package into .venv and runs
# bench/python_bench.py (the binding against the C library and the Python peers).
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

. scripts/deps.sh
pkgs=(numpy scipy matplotlib)
[ "${BENCH_TORCH:-0}" = 1 ] && pkgs+=(torch)
dwconv_python_venv .venv "${pkgs[@]}" || {
  echo "bench/run.sh: cannot make the virtual environment .venv with numpy, scipy, matplotlib" >&2
  exit 2
}
py=.venv/bin/python

stamp="$(date -u +%Y-%m-%d)-$(hostname -s 2>/dev/null || hostname)"
outdir=bench/results
mkdir -p "$outdir"
base="$outdir/$stamp"
args=("$@")
case " $* " in *" --shapes "*) ;; *) args=(--shapes suite "${args[@]}") ;; esac

start=$(date +%s)
"$py" bench/peers.py --bench build-bench/bench/bench_dwconv \
  --json "$base.json" --md "$base.md" --plots "$base" "${args[@]}" 2>&1 | tee "$base.txt"
status=${PIPESTATUS[0]}
if [ "${BENCH_PYTHON:-0}" = 1 ]; then
  "$py" -m pip install --quiet --disable-pip-version-check .
  "$py" bench/python_bench.py --bench build-bench/bench/bench_dwconv --json "$base-python.json" \
    | tee "$base-python.md" || status=1
fi
echo "bench/run.sh: finished in $(( $(date +%s) - start )) s; results in $base.{json,md,txt} (+ PNGs)" >&2
exit "$status"
