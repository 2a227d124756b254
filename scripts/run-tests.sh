#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install dependencies, then
#   1. build (with CUDA when nvcc is found: GPU tests are then reported as skipped on machines
#      without a GPU) and run every ctest entry;
#   2. the same CPU suite again under ASan + UBSan (scripts/ci-sanitize.sh);
#   3. short fixed-time libFuzzer runs of the API and the .npy reader (scripts/ci-fuzz.sh).
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
  DWCONV_FUZZ_SECONDS="${DWCONV_FUZZ_SECONDS:-45}" bash scripts/ci-fuzz.sh
fi
echo "dwconv: all tests finished in $(( $(date +%s) - start )) s"
