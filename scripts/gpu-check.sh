#!/usr/bin/env bash
# gpu-check.sh OUTDIR [STEP...] -- everything dwconv needs checked on a machine with an NVIDIA GPU.
#
# Steps (each PASS / FAIL / SKIP in OUTDIR/report.md, its log next to it, its wall time noted):
#   1. gpu        nvidia-smi finds a GPU (nvidia-smi.txt, nvidia-smi-q.txt) and a probe built
#                 with nvcc sees it through the CUDA runtime (probe/probe.txt: the
#                 cudaGetDeviceCount error and the driver's and runtime's CUDA versions, so a
#                 driver older than the toolkit is named as the cause); always run
#   2. build      configure with DWCONV_WITH_CUDA=ON and the tests (retried without FFTW when
#                 the machine has no FFTW3 development files; the report says so), then build
#                 everything (library, tests, tools, bench)
#   3. ctest      all tests, the CUDA ones with DWCONV_TEST_QUICK=1 (GPU_CHECK_FULL=1: the
#                 full sweeps, 131,072 plan cycles in test_correctness_cuda alone); on a GPU
#                 machine a skipped CUDA test (exit 77) counts as FAIL
#   4. sanitizer  compute-sanitizer --error-exitcode=1: memcheck (with --leak-check full) on
#                 every CUDA test executable (ctest label "cuda", i.e. `test_X cuda`), and
#                 racecheck, initcheck and synccheck on the GPU_CHECK_SAN_DEEP ones; all with
#                 DWCONV_TEST_QUICK=1 and a per-run timeout (a run that hits it is INCOMPLETE,
#                 not FAIL); each run's reports are split into dwconv's and those inside cuFFT's
#                 own frames (scripts/sanitizer-split.py), both listed in the summary
#   5. bench      python3 bench/peers.py --gpu --no-cpu --json OUTDIR/gpu_bench.json (dwconv's
#                 CUDA backend, host- and device-resident, against the GPU peers)
#   6. gemmbench  python3 bench/gemm_bench.py: ALGO_GEMM with IEEE, TF32 and TF32X3 math beside
#                 direct, FFT and torch conv1d (its cudnn.allow_tf32 setting stated), M = 4096,
#                 N = 65536, P = 15..4095, float32 and float64, device-resident, each row with
#                 its predicted H100 time (docs/CUDA.md) and measured / predicted
#                 (OUTDIR/gemm_bench.md, .json). The GEMM path's tests themselves are ctest's
#                 test_gemm_cuda (steps 3 and 4).
#   7. stagebench the staging pack/unpack throughput on the host CPU with 1..8 threads beside
#                 plain memcpy's (src/cuda/hosttest/run.sh stage-bench 8, built with gcc/g++
#                 against the toolkit's headers, no GPU or FFTW needed; three runs:
#                 OUTDIR/stage_bench.txt). The target is 2 threads >= 1.6x one thread
#   8. python     the Python package on the GPU: a virtual environment over the machine's own
#                 python3 (--system-site-packages: its numpy, torch, cupy), pip install of this
#                 checkout with no network (build tools and pytest from wheelhouse/, made by
#                 scripts/gpu-wheelhouse.sh where there is network and carried along; without
#                 FFTW3 development files the package is built without FFTW), then pytest on
#                 python/tests (the GPU-array tests must run: skipped counts as FAIL)
# STEP... picks some of build, ctest, sanitizer, bench, gemmbench, stagebench, python (default:
# all, in that order). The
# device tool gives one command at most 10 minutes, so a lease runs them as separate calls
# against the same build directory (kept between calls on a warm machine):
#   gpu-check.sh OUT build ctest ; gpu-check.sh OUT sanitizer ; gpu-check.sh OUT bench ;
#   gpu-check.sh OUT gemmbench
# each call writing its own OUT/report.md (use a different OUT per call to keep all three).
# Exits 0 only if no step failed. Without a GPU it says so and exits 1 right after step 1;
# GPU_CHECK_FORCE=1 runs the remaining steps anyway (the CUDA tests then skip and count as
# failed), which is how the script itself is tested on a machine without a GPU.
#
# Needs: CUDA toolkit (nvcc, compute-sanitizer), cmake >= 3.25, a C compiler, python3 (used to
# read ctest's JSON test list). Ninja is used when present. Check is optional (the tests fall
# back to tests/check_shim.h). No network access is needed.
#
# Environment:
#   GPU_CHECK_BUILD_DIR   build directory (default: <repo>/build-gpu-check; kept outside OUTDIR
#                         so OUTDIR holds only small logs)
#   GPU_CHECK_JOBS        parallel build / ctest jobs (default: nproc)
#   GPU_CHECK_FULL=1      CUDA tests with their full sweeps (ctest and sanitizer steps)
#   GPU_CHECK_CTEST_TIMEOUT seconds per ctest entry (default 540)
#   GPU_CHECK_SAN_TIMEOUT seconds per compute-sanitizer run (default 180)
#   GPU_CHECK_SAN_BUDGET  seconds for the whole sanitizer step (default 480): runs are cut to
#                         what is left; runs cut or not started are NOT RUN and the step is
#                         INCOMPLETE (exit 1)
#   GPU_CHECK_SAN_TOOLS   tools for the GPU_CHECK_SAN_DEEP tests (default "racecheck initcheck
#                         synccheck"); memcheck always runs on every CUDA test
#   GPU_CHECK_SAN_DEEP    ctest names for those tools (default "test_cuda_memory_cuda"); memcheck
#                         runs on every CUDA test first, then these tools
#   GPU_CHECK_BENCH_ARGS  peers.py arguments instead of "--gpu --no-cpu"
#   GPU_CHECK_BENCH_TIMEOUT seconds for the benchmark (default 540)
#   GPU_CHECK_SKIP_BENCH=1 leave out step 5 (reported as SKIP)
#   GPU_CHECK_GEMM_BUDGET seconds for step 6's rows (default 420; rows predicted not to fit are
#                         reported NOT RUN)
#   GPU_CHECK_FORCE=1     go on without a GPU (see above)
set -uo pipefail

if [ $# -lt 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTDIR [build] [ctest] [sanitizer] [bench] [gemmbench] [stagebench] [python]" >&2
  exit 2
fi
OUT=$1
shift
WANT=" ${*:-build ctest sanitizer bench gemmbench stagebench python} "
for w in $WANT; do
  case $w in build | ctest | sanitizer | bench | gemmbench | stagebench | python) ;; *) echo "gpu-check: unknown step '$w' (build, ctest, sanitizer, bench, gemmbench, stagebench, python)" >&2; exit 2 ;; esac
done
want() { [[ $WANT == *" $1 "* ]]; }
mkdir -p "$OUT" || { echo "gpu-check: cannot create $OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GPU_CHECK_BUILD_DIR:-$REPO/build-gpu-check}
JOBS=${GPU_CHECK_JOBS:-$(nproc 2>/dev/null || echo 4)}
SAN_TIMEOUT=${GPU_CHECK_SAN_TIMEOUT:-180}
SAN_BUDGET=${GPU_CHECK_SAN_BUDGET:-480}
SAN_TOOLS=${GPU_CHECK_SAN_TOOLS:-racecheck initcheck synccheck}
SAN_DEEP=" ${GPU_CHECK_SAN_DEEP:-test_cuda_memory_cuda} "
CTEST_TIMEOUT=${GPU_CHECK_CTEST_TIMEOUT:-540}
QUICK=1
[ "${GPU_CHECK_FULL:-0}" = 1 ] && QUICK=0
REPORT=$OUT/report.md

# nvcc and compute-sanitizer are often installed outside PATH.
for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
  if [ -n "$d" ] && [ -d "$d/bin" ]; then PATH="$PATH:$d/bin"; fi
done
export PATH

STEPS=()   # "name|status|detail"
FAILED=0
T0=$(date +%s)
record() { # record NAME STATUS DETAIL (the wall time since the previous record is appended)
  local now
  now=$(date +%s)
  set -- "$1" "$2" "$3 [$((now - T0)) s]"
  T0=$now
  STEPS+=("$1|$2|$3")
  case $2 in FAIL | INCOMPLETE) FAILED=1 ;; esac
  printf 'gpu-check: %-10s %-4s %s\n' "$1" "$2" "$3"
  # Written after every step, so a call the device tool kills still leaves what it had.
  if declare -F write_report >/dev/null; then write_report; fi
}

write_report() {
  local s n st d
  {
    echo "# dwconv GPU check"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- host: $(hostname 2>/dev/null || echo unknown)"
    echo "- source: $REPO ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo 'no git')$(git -C "$REPO" diff --quiet 2>/dev/null || echo ', with local changes'))"
    echo "- GPU: ${GPU_NAME:-none found}"
    echo "- driver: ${GPU_DRIVER:-n/a}"
    echo "- nvcc: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'not found')"
    echo "- cmake: $(cmake --version 2>/dev/null | head -1 || echo 'not found')"
    echo "- build dir: $BUILD"
    echo
    echo "| step | result | detail |"
    echo "|---|---|---|"
    for s in "${STEPS[@]}"; do
      IFS='|' read -r n st d <<<"$s"
      echo "| $n | $st | $d |"
    done
    echo
    if [ "$FAILED" = 0 ]; then echo "Overall: PASS"; else echo "Overall: FAIL"; fi
    if [ -f "$OUT/sanitizer/summary.txt" ]; then
      echo
      echo "## compute-sanitizer runs"
      echo
      echo '```'
      cat "$OUT/sanitizer/summary.txt"
      echo '```'
    fi
    if [ -f "$OUT/ctest.log" ]; then
      echo
      echo "## ctest summary"
      echo
      echo '```'
      sed -n '/tests passed\|tests failed/,$p' "$OUT/ctest.log" | head -60
      echo '```'
    fi
  } >"$REPORT"
}

finish() {
  write_report
  echo "gpu-check: report in $REPORT"
  exit "$FAILED"
}

# ---- 1. GPU ----
GPU_PRESENT=0
if command -v nvidia-smi >/dev/null 2>&1; then
  if nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1; then
    nvidia-smi -q >"$OUT/nvidia-smi-q.txt" 2>&1 || true # details only; the call above decides
    GPU_NAME=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | paste -sd ';' -)
    GPU_DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
    if [ -n "$GPU_NAME" ]; then GPU_PRESENT=1; fi
  fi
fi
# The CUDA runtime's own view: nvidia-smi can see a GPU whose driver is too old for this
# toolkit's runtime, and then every CUDA test skips ("no device"). A small probe names the
# cause: cudaGetDeviceCount's error and the driver's and runtime's CUDA versions.
CUDA_PROBE=""
if [ "$GPU_PRESENT" = 1 ] && command -v nvcc >/dev/null 2>&1; then
  mkdir -p "$OUT/probe"
  cat >"$OUT/probe/probe.cu" <<'PROBE'
#include <cstdio>
#include <cuda_runtime_api.h>
int main() {
  int n = 0, drv = 0, rt = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  cudaDriverGetVersion(&drv);
  cudaRuntimeGetVersion(&rt);
  std::printf("cudaGetDeviceCount: %s (%s), %d device(s); driver supports CUDA %d.%d, runtime is CUDA %d.%d%s\n",
              cudaGetErrorName(e), cudaGetErrorString(e), n, drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10,
              e == cudaErrorInsufficientDriver || (drv != 0 && drv < rt)
                  ? ": THE DRIVER IS OLDER THAN THE TOOLKIT (install a newer driver or build with an older CUDA)" : "");
  return e != cudaSuccess || n < 1;
}
PROBE
  if nvcc -o "$OUT/probe/probe" "$OUT/probe/probe.cu" >"$OUT/probe/build.log" 2>&1; then
    CUDA_PROBE=$("$OUT/probe/probe" 2>&1) && probe_ok=1 || probe_ok=0
    echo "$CUDA_PROBE" >"$OUT/probe/probe.txt"
    if [ "$probe_ok" = 0 ]; then GPU_PRESENT=0; fi
  else
    CUDA_PROBE="(the CUDA probe did not build; probe/build.log)"
  fi
fi
if [ "$GPU_PRESENT" = 1 ]; then
  record gpu PASS "$GPU_NAME (driver $GPU_DRIVER); ${CUDA_PROBE:+$CUDA_PROBE; }nvidia-smi.txt"
elif [ -n "$CUDA_PROBE" ]; then
  record gpu FAIL "nvidia-smi sees $GPU_NAME (driver $GPU_DRIVER) but the CUDA runtime does not: $CUDA_PROBE"
  if [ "${GPU_CHECK_FORCE:-0}" != 1 ]; then
    echo "gpu-check: the CUDA runtime cannot use the GPU: $CUDA_PROBE" >&2
    finish
  fi
else
  record gpu FAIL "NO NVIDIA GPU FOUND: nvidia-smi is missing or reports no device (see nvidia-smi.txt if present)"
  if [ "${GPU_CHECK_FORCE:-0}" != 1 ]; then
    echo "gpu-check: this machine has no usable NVIDIA GPU; nothing else was run (GPU_CHECK_FORCE=1 runs the build and tests anyway)" >&2
    finish
  fi
fi

for t in cmake nvcc python3; do
  if ! command -v "$t" >/dev/null 2>&1; then
    record tools FAIL "$t not found in PATH"
    finish
  fi
done

# ---- 2. configure and build ----
if want build; then
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
# Real SASS for the GPU in this machine (not just the default list) and line info so
# compute-sanitizer reports file:line.
CONF=(-S "$REPO" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DDWCONV_WITH_CUDA=ON
      -DDWCONV_BUILD_TESTS=ON -DCMAKE_CUDA_FLAGS=-lineinfo)
if [ "$GPU_PRESENT" = 1 ]; then CONF+=(-DCMAKE_CUDA_ARCHITECTURES=native); fi
rm -f "$BUILD/CMakeCache.txt"
if cmake "${CONF[@]}" >"$OUT/configure.log" 2>&1; then
  record configure PASS "configure.log"
else
  rm -f "$BUILD/CMakeCache.txt"
  if cmake "${CONF[@]}" -DDWCONV_WITH_FFTW=OFF >"$OUT/configure-nofftw.log" 2>&1; then
    record configure PASS "only without FFTW (DWCONV_WITH_FFTW=OFF: CPU FFT tests are limited); configure.log, configure-nofftw.log"
  else
    record configure FAIL "configure.log, configure-nofftw.log"
    finish
  fi
fi

if cmake --build "$BUILD" -j "$JOBS" >"$OUT/build.log" 2>&1; then
  nw=$(grep -ci 'warning' "$OUT/build.log" || true)
  record build PASS "build.log ($nw lines mention warnings)"
else
  record build FAIL "build.log (last lines: $(tail -3 "$OUT/build.log" | tr '\n|' '  '))"
  finish
fi
elif { want ctest || want sanitizer || want bench; } && [ ! -f "$BUILD/CMakeCache.txt" ]; then
  # (the python step builds its own)
  record build FAIL "no build in $BUILD: run the build step first"
  finish
fi

# ---- 4. ctest ----
if want ctest; then
DWCONV_TEST_QUICK=$QUICK ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout "$CTEST_TIMEOUT" \
  --output-junit "$OUT/ctest-junit.xml" >"$OUT/ctest.log" 2>&1
rc=$?
skipped_cuda=$(ctest --test-dir "$BUILD" -N -L cuda 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: *//p' |
  while read -r name; do grep -E "[0-9]+/[0-9]+ Test +#[0-9]+: $name .*Skipped" "$OUT/ctest.log" >/dev/null && echo "$name"; done | paste -sd ' ' -)
summary=$(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -1)
if [ $rc -ne 0 ]; then
  record ctest FAIL "${summary:-ctest exit $rc}; ctest.log"
elif [ -n "$skipped_cuda" ]; then
  record ctest FAIL "${summary}; CUDA tests SKIPPED (no usable device seen by the tests): $skipped_cuda"
else
  record ctest PASS "${summary}; ctest.log (DWCONV_TEST_QUICK=$QUICK)"
fi
fi

# ---- 4. compute-sanitizer ----
if want sanitizer; then
SAN=$(command -v compute-sanitizer 2>/dev/null || true)
mkdir -p "$OUT/sanitizer"
: >"$OUT/sanitizer/summary.txt"
if [ -z "$SAN" ]; then
  record sanitizer FAIL "compute-sanitizer not found (looked in PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin)"
else
  # The CUDA tests are the ctest entries labelled "cuda": `<exe> cuda` (tests/CMakeLists.txt,
  # dwconv_register ... CUDA). Their exact command lines come from ctest's JSON listing.
  ctest --test-dir "$BUILD" -L cuda -LE reliability --show-only=json-v1 >"$OUT/sanitizer/tests.json" 2>/dev/null
  python3 - "$OUT/sanitizer/tests.json" >"$OUT/sanitizer/commands.txt" <<'EOF'
import json, shlex, sys
with open(sys.argv[1]) as f:
    data = json.load(f)
for t in data.get("tests", []):
    cmd = t.get("command")
    if not cmd:
        continue
    wd = next((p.get("value") for p in t.get("properties", []) if p.get("name") == "WORKING_DIRECTORY"), "")
    print(t["name"] + "\x1f" + (wd or "") + "\x1f" + " ".join(shlex.quote(c) for c in cmd))
EOF
  n=$(wc -l <"$OUT/sanitizer/commands.txt")
  if [ "$n" -eq 0 ]; then
    record sanitizer FAIL "no ctest entries labelled cuda (expected test_X_cuda running 'test_X cuda')"
  else
    bad=0
    runs=0
    skipped=0
    san_start=$(date +%s)
    # Pass 1: memcheck on every CUDA test (the GPU_CHECK_SAN_DEEP ones first); pass 2: the
    # other tools on the GPU_CHECK_SAN_DEEP tests. Each run gets at most what is left of the
    # step budget (and GPU_CHECK_SAN_TIMEOUT); a run the budget cut short, or one never
    # started, is NOT RUN: the step is then INCOMPLETE, never PASS.
    { grep -F -f <(printf '%s\x1f\n' $SAN_DEEP) "$OUT/sanitizer/commands.txt"
      grep -v -F -f <(printf '%s\x1f\n' $SAN_DEEP) "$OUT/sanitizer/commands.txt"; } \
      >"$OUT/sanitizer/order.txt" || true
    : >"$OUT/sanitizer/runs.txt"
    # Fields are separated by \x1f (not whitespace, so an empty working directory stays a field).
    while IFS=$'\x1f' read -r name wd cmd; do
      printf '%s\x1f%s\x1f%s\x1f%s\n' memcheck "$name" "$wd" "$cmd" >>"$OUT/sanitizer/runs.txt"
    done <"$OUT/sanitizer/order.txt"
    for tool in $SAN_TOOLS; do
      while IFS=$'\x1f' read -r name wd cmd; do
        [[ $SAN_DEEP == *" $name "* ]] && printf '%s\x1f%s\x1f%s\x1f%s\n' "$tool" "$name" "$wd" "$cmd" >>"$OUT/sanitizer/runs.txt"
      done <"$OUT/sanitizer/order.txt"
    done
    while IFS=$'\x1f' read -r tool name wd cmd; do
      left=$(( SAN_BUDGET - ($(date +%s) - san_start) ))
      if [ "$left" -lt 10 ]; then
        printf '%-40s %-10s NOT RUN (step budget %s s spent)\n' "$name" "$tool" "$SAN_BUDGET" >>"$OUT/sanitizer/summary.txt"
        skipped=$((skipped + 1))
        continue
      fi
      limit=$SAN_TIMEOUT
      cut_by_budget=0
      if [ "$left" -lt "$limit" ]; then limit=$left; cut_by_budget=1; fi
      runs=$((runs + 1))
      log="$OUT/sanitizer/${name}.${tool}.log"
      extra=()
      [ "$tool" = memcheck ] && extra=(--leak-check full)
      # CK_FORK=no: Check's fork mode would hide the work in child processes; the shim never
      # forks anyway.
      eval "argv=($cmd)" # the line was written with shlex.quote
      (cd "${wd:-$BUILD}" && CK_FORK=no DWCONV_TEST_QUICK=$QUICK timeout -k 15 "$limit" "$SAN" --tool "$tool" \
        --error-exitcode=1 "${extra[@]}" "${argv[@]}") >"$log" 2>&1 </dev/null
      r=$?
      case $r in
        0) res=PASS ;;
        77) res="FAIL (test skipped: no device)"; bad=1 ;;
        124)
          if [ $cut_by_budget = 1 ]; then
            res="NOT RUN (cut at ${limit}s by the step budget)"
            runs=$((runs - 1))
            skipped=$((skipped + 1))
          else
            # The sanitizer ran out of its own time: no verdict on the test, so the step is
            # INCOMPLETE (a slow tool is not a found error).
            res="INCOMPLETE (its own timeout, ${limit}s)"
            runs=$((runs - 1))
            skipped=$((skipped + 1))
          fi ;;
        *) res="FAIL (exit $r)"; bad=1 ;;
      esac
      errs=$(grep -Eo 'ERROR SUMMARY: [0-9]+ errors?' "$log" | tail -1)
      # Reports inside cuFFT's own kernels and frames are counted apart from dwconv's.
      split=$(python3 "$REPO/scripts/sanitizer-split.py" "$log" 2>/dev/null || true)
      printf '%-40s %-10s %s %s %s\n' "$name" "$tool" "$res" "${errs:+($errs)}" "${split:+[$split]}" >>"$OUT/sanitizer/summary.txt"
    done <"$OUT/sanitizer/runs.txt"
    if [ $bad -eq 0 ] && [ $skipped -gt 0 ]; then
      record sanitizer INCOMPLETE "$runs runs passed, $skipped NOT RUN (GPU_CHECK_SAN_BUDGET=$SAN_BUDGET s); sanitizer/summary.txt"
    elif [ $bad -eq 0 ]; then
      record sanitizer PASS "$runs runs (memcheck on $n tests; $SAN_TOOLS on$SAN_DEEP); sanitizer/summary.txt"
    else
      record sanitizer FAIL "see sanitizer/summary.txt and sanitizer/*.log"
    fi
  fi
fi
fi

# ---- 5. benchmark ----
if ! want bench; then
  :
elif [ "${GPU_CHECK_SKIP_BENCH:-0}" = 1 ]; then
  record bench SKIP "GPU_CHECK_SKIP_BENCH=1"
elif [ -f "$REPO/bench/peers.py" ]; then
  read -r -a BENCH_ARGS <<<"${GPU_CHECK_BENCH_ARGS:---gpu --no-cpu}"
  BENCH_ARGS+=(--json "$OUT/gpu_bench.json" --md "$OUT/gpu_bench.md")
  # peers.py looks in build-bench/ or build/ by default; point it at this build's driver.
  BENCH_EXE=$(find "$BUILD" -type f -name bench_dwconv -perm -u+x 2>/dev/null | head -1)
  if [ -n "$BENCH_EXE" ]; then BENCH_ARGS+=(--bench "$BENCH_EXE"); fi
  if (cd "$REPO" && timeout "${GPU_CHECK_BENCH_TIMEOUT:-540}" python3 bench/peers.py "${BENCH_ARGS[@]}") >"$OUT/bench.log" 2>&1; then
    record bench PASS "gpu_bench.json, gpu_bench.md, bench.log (peers.py ${BENCH_ARGS[*]})"
  else
    record bench FAIL "bench/peers.py failed or timed out; bench.log"
  fi
else
  record bench SKIP "bench/peers.py not present in this tree; no GPU benchmark run"
fi

# ---- 6. GEMM benchmark ----
if want gemmbench; then
  GEMM_BUDGET=${GPU_CHECK_GEMM_BUDGET:-420}
  BENCH_EXE=$(find "$BUILD" -type f -name bench_dwconv -perm -u+x 2>/dev/null | head -1)
  if [ -z "$BENCH_EXE" ]; then
    record gemmbench FAIL "bench_dwconv not found in $BUILD"
  elif (cd "$REPO" && timeout $((GEMM_BUDGET + 120)) python3 bench/gemm_bench.py --bench "$BENCH_EXE" \
          --budget "$GEMM_BUDGET" --json "$OUT/gemm_bench.json" --md "$OUT/gemm_bench.md") >"$OUT/gemm_bench.log" 2>&1; then
    notrun=$(grep -c 'NOT RUN' "$OUT/gemm_bench.md" || true)
    record gemmbench PASS "gemm_bench.md, gemm_bench.json, gemm_bench.log ($notrun rows NOT RUN for the budget)"
  else
    record gemmbench FAIL "bench/gemm_bench.py failed or timed out; gemm_bench.log"
  fi
fi

# ---- 7. staging pack/unpack throughput (host CPU) ----
if want stagebench; then
  sb="$OUT/stagebench-build"
  if (cd "$REPO" && HOSTTEST_BUILD_DIR="$sb" timeout 300 bash src/cuda/hosttest/run.sh stage-bench 8 &&
      timeout 120 "$sb/host_test" stage-bench 8 && timeout 120 "$sb/host_test" stage-bench 8) \
      >"$OUT/stage_bench.txt" 2>&1; then
    two=$(grep -E '^staging with 2 threads' "$OUT/stage_bench.txt" | sed -E 's/.*pack [0-9.]+ GB\/s \(([0-9.]+)x\), unpack [0-9.]+ GB\/s \(([0-9.]+)x\)/\1x\/\2x/' | tr '\n' ' ')
    record stagebench PASS "stage_bench.txt (2 threads / 1, pack/unpack, three runs: $two)"
  else
    record stagebench FAIL "src/cuda/hosttest/run.sh stage-bench failed; stage_bench.txt"
  fi
fi

# ---- 8. the Python package ----
if want python; then
  . "$REPO/scripts/gpu-check-python.sh"
  gpu_check_python
fi

finish
