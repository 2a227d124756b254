#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install dependencies, build (with CUDA when nvcc
# is found: GPU tests are then reported as skipped on machines without a GPU), run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
dwconv_install_deps
start=$(date +%s)
dwconv_build -DDWCONV_BUILD_TESTS=ON
dir="${DWCONV_BUILD_DIR:-build}"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 1500
echo "dwconv: tests finished in $(( $(date +%s) - start )) s"
