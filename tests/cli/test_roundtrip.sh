#!/bin/sh
# Round trips: .npy files written by cli_testtool (its own header writer), convolved by
# `dwconv conv`, checked against cli_testtool's long-double reference. Covers every mode,
# convolve and correlate, float32 / float64 / mixed inputs, 1-D (broadcast) inputs, P > N,
# format versions 1.0 / 2.0 / 3.0, both algorithms, and blocks with a partial last block.
# usage: test_roundtrip.sh DWCONV TESTTOOL WORKDIR
set -u
. "$(dirname "$0")/common.sh"
n=0
run() { # run CHECKARGS -- CONVARGS ; conv writes C.npy
  n=$((n + 1))
  if ! "$DW" conv "$@" -o C.npy -q 2> err.txt; then
    echo "FAIL: dwconv conv $* exited non-zero: $(cat err.txt)"
    fail=1
    return
  fi
  if [ -s err.txt ]; then echo "FAIL: dwconv conv $* printed: $(cat err.txt)"; fail=1; fi
}
check() { # check A B MODE [--correlate]
  if ! "$TT" check C.npy "$@" > out.txt 2>&1; then
    echo "FAIL: check $*: $(cat out.txt)"
    fail=1
  fi
}

# inputs: 2-D and 1-D, float32 and float64, P < N, P > N, odd/even P
"$TT" write A4.npy --shape 7,100 --seed 1
"$TT" write A8.npy --shape 7,100 --seed 2 --dtype f8
"$TT" write B4.npy --shape 7,13 --seed 3
"$TT" write B8.npy --shape 7,12 --seed 4 --dtype f8
"$TT" write Bl.npy --shape 7,131 --seed 5            # P > N
"$TT" write b4.npy --shape 9 --seed 6                 # 1-D kernel
"$TT" write a4.npy --shape 50 --seed 7                # 1-D signal
"$TT" write a8.npy --shape 50 --seed 8 --dtype f8
"$TT" write A4v2.npy --shape 7,100 --seed 1 --version 2
"$TT" write B4v3.npy --shape 7,13 --seed 3 --version 3

for mode in full same valid causal; do
  for corr in "" --correlate; do
    for pair in "A4 B4" "A8 B8" "A4 B8" "A8 B4" "A4 Bl" "A4 b4" "A8 b4" "a4 B4" "a8 B4" "a4 b4" "A4v2 B4v3"; do
      set -- $pair
      run "$1.npy" "$2.npy" --mode $mode $corr
      check "$1.npy" "$2.npy" --mode $mode $corr
    done
    for algo in $ALGOS; do
      run A4.npy B4.npy --mode $mode $corr --algo $algo --backend cpu --threads 1
      check A4.npy B4.npy --mode $mode $corr
    done
    # Small memory limit: blocks of 3 rows (3 + 3 + 1: a partial last block) and of 1 row.
    run A4.npy B4.npy --mode $mode $corr --memory-limit 4K
    check A4.npy B4.npy --mode $mode $corr
    run A4.npy b4.npy --mode $mode $corr --memory-limit 2K
    check A4.npy b4.npy --mode $mode $corr
  done
done

# An existing output is replaced on success; no temporary file is left behind.
echo old > C.npy
run A4.npy B4.npy
check A4.npy B4.npy --mode full
left=$(ls -A | grep '^\.C\.npy\.' || true)
[ -z "$left" ] || { echo "FAIL: temporary files left: $left"; fail=1; }
# Output in another folder, given with a relative path.
mkdir -p sub && "$DW" conv A4.npy B4.npy -o sub/D.npy -q && [ -f sub/D.npy ] || { echo "FAIL: sub/D.npy"; fail=1; }
# Output permissions follow the umask like a normal create (not mkstemp's 0600).
(umask 022 && "$DW" conv A4.npy B4.npy -o perm.npy -q)
case $(ls -l perm.npy) in -rw-r--r--*) ;; *) echo "FAIL: perm.npy mode $(ls -l perm.npy)"; fail=1 ;; esac

# --fft-wisdom: the first run tunes and writes the file, the second reads it; both results
# right; a file that is not wisdom is bad input (exit 2, no output written).
case " $ALGOS " in *" fft "*)
  run A4.npy B4.npy --mode same --algo fft --fft-wisdom plans.wis
  check A4.npy B4.npy --mode same
  head -c 20 plans.wis 2>/dev/null | grep -q dwconv-fftw-wisdom || { echo "FAIL: plans.wis not written"; fail=1; }
  run A4.npy B4.npy --mode same --algo fft --fft-wisdom plans.wis
  check A4.npy B4.npy --mode same
  echo junk > junk.wis
  rc=0; "$DW" conv A4.npy B4.npy -o W.npy --algo fft --fft-wisdom junk.wis -q 2>/dev/null || rc=$?
  { [ $rc = 2 ] && [ ! -e W.npy ]; } || { echo "FAIL: --fft-wisdom junk.wis: exit $rc, W.npy $(ls W.npy 2>&1)"; fail=1; }
  ;;
esac

[ $fail = 0 ] && echo "roundtrip: $n runs ok"
exit $fail
