#!/usr/bin/env bash
# Short fixed-time libFuzzer runs (see docs/RELIABILITY.md):
#   fuzz_api  (tests/fuzz/fuzz_api.c)  public API argument checks + small executions
#   fuzz_npy  (tests/cli/fuzz_npy.c)   the CLI's .npy header parser
#   fuzz_wisdom (tests/fuzz/fuzz_wisdom.c) FFT wisdom files (dwconv_fft_wisdom_import)
#   fuzz_calibration (tests/fuzz/fuzz_calibration.c) cost model calibration files
# Each target starts from its corpus (tests/fuzz/corpus_api, _npy, _wisdom, _calibration) and runs
# DWCONV_FUZZ_SECONDS (default 60) seconds. New inputs go to the build dir, never into the
# source tree (set DWCONV_FUZZ_MERGE=1 to merge them into the checked-in corpora, then review).
# Crashes are written to $DWCONV_FUZZ_DIR/artifacts/ and make the script exit 1.
#
# Skips (exit 0 with a clear message) when clang or its libFuzzer runtime is missing;
# DWCONV_FUZZ_REQUIRED=1 turns that into a failure.
#
# Environment: CLANG (default clang), DWCONV_FUZZ_DIR (default build-fuzz), DWCONV_JOBS,
#   DWCONV_FUZZ_SECONDS, DWCONV_FUZZ_TARGETS (default "fuzz_api fuzz_npy fuzz_wisdom fuzz_calibration").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir="${DWCONV_FUZZ_DIR:-build-fuzz}"
secs="${DWCONV_FUZZ_SECONDS:-60}"
jobs="${DWCONV_JOBS:-$(nproc)}"
targets="${DWCONV_FUZZ_TARGETS:-fuzz_api fuzz_npy fuzz_wisdom fuzz_calibration}"
cc="${CLANG:-clang}"

skip() {
  echo "ci-fuzz: SKIPPED: $*"
  if [ "${DWCONV_FUZZ_REQUIRED:-0}" = 1 ]; then exit 1; fi
  exit 0
}
command -v "$cc" >/dev/null 2>&1 || skip "'$cc' not found (install clang to run the fuzzers)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
"$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1 ||
  skip "$cc cannot build -fsanitize=fuzzer,address,undefined (libFuzzer / compiler-rt missing)"

start=$(date +%s)
gen=()
if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
CC="$cc" cmake -S tests/fuzz -B "$dir" "${gen[@]}" >/dev/null
# shellcheck disable=SC2086
cmake --build "$dir" -j "$jobs" --target $targets
echo "ci-fuzz: build $(( $(date +%s) - start )) s"

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
mkdir -p "$dir/artifacts"
status=0
for t in $targets; do
  case "$t" in
    fuzz_api) corpus="$root/tests/fuzz/corpus_api" ;;
    fuzz_npy) corpus="$root/tests/fuzz/corpus_npy" ;;
    fuzz_wisdom) corpus="$root/tests/fuzz/corpus_wisdom" ;;
    fuzz_calibration) corpus="$root/tests/fuzz/corpus_calibration" ;;
    *) echo "ci-fuzz: unknown target $t"; exit 2 ;;
  esac
  work="$dir/corpus_work/$t"
  mkdir -p "$work"
  echo "ci-fuzz: $t for ${secs} s (corpus $(ls "$corpus" | wc -l) files)"
  log="$dir/$t.log"
  maxlen=512
  [ "$t" = fuzz_wisdom ] && maxlen=4096 # real wisdom files are 1-3 KB
  [ "$t" = fuzz_calibration ] && maxlen=4096 # real calibration files are 2-3 KB
  if "$dir/$t" "$work" "$corpus" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
      -malloc_limit_mb=16384 -max_len="$maxlen" -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$t-" >"$log" 2>&1; then
    grep -E "stat::number_of_executed_runs|stat::new_units_added|Done [0-9]+ runs" "$log" | sed "s/^/ci-fuzz: $t: /" || true
  else
    status=1
    echo "ci-fuzz: $t FAILED; last lines of $log:"
    tail -n 60 "$log"
  fi
  if [ "${DWCONV_FUZZ_MERGE:-0}" = 1 ]; then
    "$dir/$t" -merge=1 "$corpus" "$work" >/dev/null 2>&1 || true
  fi
done
echo "ci-fuzz: total $(( $(date +%s) - start )) s, $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
