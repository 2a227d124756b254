#!/usr/bin/env bash
# ASan + UBSan run of the whole CPU test suite (see docs/RELIABILITY.md).
#
# Configures a second build (default build-asan) with -DDWCONV_SANITIZE=ON (ASan + UBSan,
# -fno-sanitize-recover=all) and -DDWCONV_WITH_CUDA=OFF, builds it and runs every ctest entry
# there with LeakSanitizer on. Exits non-zero on any build error, test failure, sanitizer
# report or leak. Meant to run in CI after the normal suite (scripts/run-tests.sh).
#
# Environment:
#   DWCONV_ASAN_DIR   build directory (default build-asan)
#   DWCONV_JOBS       parallel build / test jobs (default: nproc)
#   DWCONV_ASAN_FULL  1 = full sweeps (default: DWCONV_TEST_QUICK=1, the thinner sweeps the
#                     test engineer provides for sanitizer runs)
#   CC                compiler (default: cc; gcc and clang both work)
#
# The reliability tests (tests/reliability) are switched on with
# -DDWCONV_BUILD_RELIABILITY_TESTS=ON; should the main build not register them (no rel_*
# ctest entries), this script builds them standalone in ${DWCONV_ASAN_DIR}-rel with the same
# flags and runs them too.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${DWCONV_ASAN_DIR:-build-asan}"
jobs="${DWCONV_JOBS:-$(nproc)}"
start=$(date +%s)

gen=()
if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDWCONV_SANITIZE=ON -DDWCONV_WITH_CUDA=OFF)

echo "ci-sanitize: configuring $dir (ASan + UBSan, CUDA off)"
cmake -S . -B "$dir" "${gen[@]}" "${common[@]}" \
  -DDWCONV_BUILD_TESTS=ON -DDWCONV_BUILD_TOOLS=ON -DDWCONV_BUILD_BENCH=OFF -DDWCONV_BUILD_EXAMPLES=OFF \
  -DDWCONV_BUILD_RELIABILITY_TESTS=ON >/dev/null
cmake --build "$dir" -j "$jobs"

rel_dir=""
if ! ctest --test-dir "$dir" -N -R '^rel_' | grep -q 'rel_faults'; then
  rel_dir="${dir}-rel"
  echo "ci-sanitize: the main build has no rel_* tests; building tests/reliability standalone in $rel_dir"
  cmake -S tests/reliability -B "$rel_dir" "${gen[@]}" "${common[@]}" -DDWCONV_RELIABILITY_STANDALONE=ON >/dev/null
  cmake --build "$rel_dir" -j "$jobs"
fi
build_s=$(( $(date +%s) - start ))

# detect_leaks: LeakSanitizer at every process exit (also Check's forked children).
# allocator_may_return_null: a refused huge allocation is reported by dwconv as
# OUT_OF_MEMORY, which the tests expect, instead of ASan aborting the process.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}"
if [ "${DWCONV_ASAN_FULL:-0}" != 1 ]; then export DWCONV_TEST_QUICK=1; fi

status=0
# package_consumer builds an uninstrumented program against the instrumented library: it is
# a packaging test, covered by the normal suite, and cannot link here.
ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 1500 -E '^package_consumer$' || status=1
if [ -n "$rel_dir" ]; then
  ctest --test-dir "$rel_dir" --output-on-failure -j "$jobs" --timeout 1500 || status=1
fi
total_s=$(( $(date +%s) - start ))
echo "ci-sanitize: build ${build_s} s, total ${total_s} s, $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
