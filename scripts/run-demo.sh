#!/usr/bin/env bash
# The main job, from a fresh machine: install dependencies, build, run `dwconv demo` (the seed's
# 4x10 * 4x20 case on every available backend, checked against a reference, then a throughput
# line on a larger shape).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
dwconv_install_deps
dwconv_build -DDWCONV_BUILD_TESTS=OFF
dir="${DWCONV_BUILD_DIR:-build}"
if [ -x "$dir/tools/dwconv" ]; then
  "$dir/tools/dwconv" demo
else
  "$dir/examples/example_seed"
fi
