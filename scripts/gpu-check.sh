#!/usr/bin/env bash
# gpu-check.sh OUTDIR -- everything dwconv needs checked on a machine with an NVIDIA GPU.
#
# Steps (each PASS / FAIL / SKIP in OUTDIR/report.md, its log next to it):
#   1. gpu        nvidia-smi finds a GPU (nvidia-smi.txt, nvidia-smi-q.txt)
#   2. configure  cmake with DWCONV_WITH_CUDA=ON and the tests (retried without FFTW when the
#                 machine has no FFTW3 development files; the report says so)
#   3. build      everything (library, tests, tools, bench)
#   4. ctest      all tests; on a GPU machine a skipped CUDA test (exit 77) counts as FAIL
#   5. sanitizer  every CUDA test executable (ctest label "cuda", i.e. `test_X cuda`) under
#                 compute-sanitizer --tool memcheck, racecheck, initcheck and synccheck with
#                 --error-exitcode=1
#   6. bench      python3 bench/peers.py --gpu --json OUTDIR/gpu_bench.json, when that file
#                 exists (noted as SKIP otherwise)
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
#   GPU_CHECK_JOBS        parallel build jobs (default: nproc)
#   GPU_CHECK_SAN_TIMEOUT seconds per compute-sanitizer run (default 1800)
#   GPU_CHECK_SAN_TOOLS   tools to run (default "memcheck racecheck initcheck synccheck")
#   GPU_CHECK_SKIP_BENCH=1 leave out step 6 (reported as SKIP)
#   GPU_CHECK_FORCE=1     go on without a GPU (see above)
set -uo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
OUT=$1
mkdir -p "$OUT" || { echo "gpu-check: cannot create $OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GPU_CHECK_BUILD_DIR:-$REPO/build-gpu-check}
JOBS=${GPU_CHECK_JOBS:-$(nproc 2>/dev/null || echo 4)}
SAN_TIMEOUT=${GPU_CHECK_SAN_TIMEOUT:-1800}
SAN_TOOLS=${GPU_CHECK_SAN_TOOLS:-memcheck racecheck initcheck synccheck}
REPORT=$OUT/report.md

# nvcc and compute-sanitizer are often installed outside PATH.
for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
  if [ -n "$d" ] && [ -d "$d/bin" ]; then PATH="$PATH:$d/bin"; fi
done
export PATH

STEPS=()   # "name|status|detail"
FAILED=0
record() { # record NAME STATUS DETAIL
  STEPS+=("$1|$2|$3")
  [ "$2" = FAIL ] && FAILED=1
  printf 'gpu-check: %-10s %-4s %s\n' "$1" "$2" "$3"
}

write_report() {
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
if [ "$GPU_PRESENT" = 1 ]; then
  record gpu PASS "$GPU_NAME (driver $GPU_DRIVER); nvidia-smi.txt"
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

# ---- 2. configure ----
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

# ---- 3. build ----
if cmake --build "$BUILD" -j "$JOBS" >"$OUT/build.log" 2>&1; then
  nw=$(grep -ci 'warning' "$OUT/build.log" || true)
  record build PASS "build.log ($nw lines mention warnings)"
else
  record build FAIL "build.log (last lines: $(tail -3 "$OUT/build.log" | tr '\n|' '  '))"
  finish
fi

# ---- 4. ctest ----
ctest --test-dir "$BUILD" --output-on-failure -j 4 --timeout 1800 \
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
  record ctest PASS "${summary}; ctest.log"
fi

# ---- 5. compute-sanitizer ----
SAN=$(command -v compute-sanitizer 2>/dev/null || true)
mkdir -p "$OUT/sanitizer"
: >"$OUT/sanitizer/summary.txt"
if [ -z "$SAN" ]; then
  record sanitizer FAIL "compute-sanitizer not found (looked in PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin)"
else
  # The CUDA tests are the ctest entries labelled "cuda": `<exe> cuda` (tests/CMakeLists.txt,
  # dwconv_register ... CUDA). Their exact command lines come from ctest's JSON listing.
  ctest --test-dir "$BUILD" -L cuda --show-only=json-v1 >"$OUT/sanitizer/tests.json" 2>/dev/null
  python3 - "$OUT/sanitizer/tests.json" >"$OUT/sanitizer/commands.txt" <<'EOF'
import json, shlex, sys
with open(sys.argv[1]) as f:
    data = json.load(f)
for t in data.get("tests", []):
    cmd = t.get("command")
    if not cmd:
        continue
    wd = next((p.get("value") for p in t.get("properties", []) if p.get("name") == "WORKING_DIRECTORY"), "")
    print(t["name"] + "\t" + (wd or "") + "\t" + " ".join(shlex.quote(c) for c in cmd))
EOF
  n=$(wc -l <"$OUT/sanitizer/commands.txt")
  if [ "$n" -eq 0 ]; then
    record sanitizer FAIL "no ctest entries labelled cuda (expected test_X_cuda running 'test_X cuda')"
  else
    bad=0
    runs=0
    while IFS=$'\t' read -r name wd cmd; do
      for tool in $SAN_TOOLS; do
        runs=$((runs + 1))
        log="$OUT/sanitizer/${name}.${tool}.log"
        extra=()
        [ "$tool" = memcheck ] && extra=(--leak-check full)
        # CK_FORK=no: Check's fork mode would hide the work in child processes; the shim never
        # forks anyway.
        eval "argv=($cmd)" # the line was written with shlex.quote
        (cd "${wd:-$BUILD}" && CK_FORK=no timeout "$SAN_TIMEOUT" "$SAN" --tool "$tool" \
          --error-exitcode=1 "${extra[@]}" "${argv[@]}") >"$log" 2>&1 </dev/null
        r=$?
        case $r in
          0) res=PASS ;;
          77) res="FAIL (test skipped: no device)"; bad=1 ;;
          124) res="FAIL (timeout ${SAN_TIMEOUT}s)"; bad=1 ;;
          *) res="FAIL (exit $r)"; bad=1 ;;
        esac
        errs=$(grep -Eo 'ERROR SUMMARY: [0-9]+ errors?' "$log" | tail -1)
        printf '%-40s %-10s %s %s\n' "$name" "$tool" "$res" "${errs:+($errs)}" >>"$OUT/sanitizer/summary.txt"
      done
    done <"$OUT/sanitizer/commands.txt"
    if [ $bad -eq 0 ]; then
      record sanitizer PASS "$runs runs ($n tests x tools: $SAN_TOOLS); sanitizer/summary.txt"
    else
      record sanitizer FAIL "see sanitizer/summary.txt and sanitizer/*.log"
    fi
  fi
fi

# ---- 6. benchmark ----
if [ "${GPU_CHECK_SKIP_BENCH:-0}" = 1 ]; then
  record bench SKIP "GPU_CHECK_SKIP_BENCH=1"
elif [ -f "$REPO/bench/peers.py" ]; then
  BENCH_ARGS=(--gpu --json "$OUT/gpu_bench.json")
  # peers.py looks in build-bench/ or build/ by default; point it at this build's driver.
  BENCH_EXE=$(find "$BUILD" -type f -name bench_dwconv -perm -u+x 2>/dev/null | head -1)
  if [ -n "$BENCH_EXE" ]; then BENCH_ARGS+=(--bench "$BENCH_EXE"); fi
  if (cd "$REPO" && python3 bench/peers.py "${BENCH_ARGS[@]}") >"$OUT/bench.log" 2>&1; then
    record bench PASS "gpu_bench.json, bench.log"
  else
    record bench FAIL "bench/peers.py failed; bench.log"
  fi
else
  record bench SKIP "bench/peers.py not present in this tree; no GPU benchmark run"
fi

finish
