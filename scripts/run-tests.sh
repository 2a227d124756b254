#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install dependencies, then
#   1. build (with CUDA when nvcc is found: GPU tests are then reported as skipped on machines
#      without a GPU) and run every ctest entry;
#   2. the same CPU suite again under ASan + UBSan (scripts/ci-sanitize.sh);
#   3. the CUDA backend's host logic and kernel bodies on the CPU against a mock CUDA runtime,
#      ASan + UBSan, every device resource acquisition failed in turn (src/cuda/hosttest);
#   4. short fixed-time libFuzzer runs of the API, the .npy reader and wisdom files
#      (scripts/ci-fuzz.sh);
#   5. the build options' other side: without FFTW and OpenMP (and CUDA), every ctest entry
#      again (FFT requests must then say NOT_SUPPORTED and AUTO must use direct; ~30 s);
#   6. the GPU-check tooling's parts that need no GPU (scripts/test-gpu-check-tools.py: the
#      benchmark's reference without scipy, sanitizer reports split by owner; ~2 s);
#   7. when nvcc and cuobjdump are found: the kernels' sm_90 SASS has no spills and the float
#      direct kernel's inner loop is at least 80% FFMA (scripts/kernel-report.py; ~15 s).
#   8. the Python package: a fresh virtual environment, `pip install .` from this checkout,
#      pytest (scripts/python-tests.sh).
# DWCONV_QUICK=1 stops after step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
dwconv_install_deps
start=$(date +%s)
dwconv_build -DDWCONV_BUILD_TESTS=ON
dir="${DWCONV_BUILD_DIR:-build}"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 1500
echo "dwconv: main suite finished in $(( $(date +%s) - start )) s"
if [ "${DWCONV_QUICK:-0}" != 1 ]; then
  bash scripts/ci-sanitize.sh
  cuda_inc="${CUDA_HOME:-/usr/local/cuda}/include/cuda_runtime_api.h"
  if command -v g++ >/dev/null && [ -f "$cuda_inc" ]; then
    echo "dwconv: CUDA backend host test (mock runtime, ASan + UBSan)"
    bash src/cuda/hosttest/run.sh 150
  else
    echo "dwconv: CUDA backend host test SKIPPED (needs g++ and the CUDA headers)"
  fi
  # deps.sh installed clang and libFuzzer, so a skipped fuzz run is a failure here.
  DWCONV_FUZZ_REQUIRED="${DWCONV_FUZZ_REQUIRED:-1}" DWCONV_FUZZ_SECONDS="${DWCONV_FUZZ_SECONDS:-45}" \
    bash scripts/ci-fuzz.sh
  echo "dwconv: build without FFTW and OpenMP (DWCONV_WITH_FFTW=OFF, DWCONV_WITH_OPENMP=OFF)"
  DWCONV_BUILD_DIR="$dir-nofftw" dwconv_build -DDWCONV_BUILD_TESTS=ON -DDWCONV_WITH_FFTW=OFF \
    -DDWCONV_WITH_OPENMP=OFF -DDWCONV_WITH_CUDA=OFF
  ctest --test-dir "$dir-nofftw" --output-on-failure -j "$(nproc)" --timeout 1500
  echo "dwconv: GPU-check tooling without a GPU"
  python3 scripts/test-gpu-check-tools.py
  cuda_bin="${CUDA_HOME:-/usr/local/cuda}/bin"
  # A toolkit without cuobjdump: NVIDIA's own wheels on PyPI carry it and nvdisasm (a few MB).
  if [ -z "${CUOBJDUMP:-}" ] && ! command -v cuobjdump >/dev/null && [ ! -x "$cuda_bin/cuobjdump" ] &&
     { command -v nvcc >/dev/null || [ -x "$cuda_bin/nvcc" ]; } &&
     dwconv_python_venv build-py/tools-venv nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm 2>/dev/null; then
    CUOBJDUMP=$(find build-py/tools-venv -path '*/bin/cuobjdump' -type f | head -1)
    PATH="$(dirname "${CUOBJDUMP:-.}"):$PATH"  # cuobjdump runs nvdisasm from PATH
    export CUOBJDUMP
  fi
  if { command -v nvcc >/dev/null || [ -x "$cuda_bin/nvcc" ]; } &&
     { [ -n "${CUOBJDUMP:-}" ] || command -v cuobjdump >/dev/null || [ -x "$cuda_bin/cuobjdump" ]; }; then
    echo "dwconv: kernel SASS (no spills, direct kernel inner loop >= 80% FFMA on sm_90)"
    python3 scripts/kernel-report.py --arch sm_90 --check-fma "direct_kernel<float, 128:sm_90:80"
  else
    echo "dwconv: kernel SASS check SKIPPED (needs nvcc and cuobjdump; CUOBJDUMP=path names one)"
  fi
  echo "dwconv: Python package (scripts/python-tests.sh)"
  bash scripts/python-tests.sh
fi
echo "dwconv: all tests finished in $(( $(date +%s) - start )) s"
