#!/bin/sh
# Bad input and bad usage: every case must exit with status 2, print exactly one line on
# stderr, create no output file (and no leftover temporary file), and leave an existing output
# file byte-for-byte untouched. Last, a full disk (file-size limit): the same, but exit 1.
# usage: test_bad_input.sh DWCONV TESTTOOL WORKDIR
set -u
. "$(dirname "$0")/common.sh"

"$TT" write A.npy --shape 7,100 --seed 1
"$TT" write B.npy --shape 7,13 --seed 2
"$TT" write b.npy --shape 9 --seed 3
echo "precious" > keep.npy
cp keep.npy keep.orig

# refused WANT WHAT OUT RC : after a refused run whose exit status was RC: the status is WANT,
# one line on stderr (err.txt), no new.npy, keep.npy unchanged, no temporary file left.
refused() {
  [ "$4" = "$1" ] || failed "$2 (-o $3): exit $4, expected $1; stderr: $(cat err.txt)"
  [ "$(wc -l < err.txt)" = 1 ] || failed "$2: stderr is not one line: $(cat err.txt)"
  [ -e new.npy ] && { failed "$2: new.npy was created"; rm -f new.npy; }
  cmp -s keep.npy keep.orig || { failed "$2: keep.npy was modified"; cp keep.orig keep.npy; }
  left=$(ls -A | grep -E '^\.(new|keep)\.npy\.' || true)
  [ -z "$left" ] || { failed "$2: temporary files left: $left"; rm -f $left; }
}

# expect2 NAME ARGS... : runs `dwconv ARGS -o new.npy`, then `dwconv ARGS -o keep.npy`.
expect2() {
  what=$1
  shift
  for out in new.npy keep.npy; do
    "$DW" conv "$@" -o $out -q > out.txt 2> err.txt
    refused 2 "$what" $out $?
  done
  echo "ok: $what: $(cat err.txt)"
}
bad() { # bad NAME WRITEARGS... : writes X.npy with the given options and uses it as A and as B
  name=$1
  shift
  rm -f X.npy
  "$TT" write X.npy "$@" || failed "$name: cli_testtool write failed"
  expect2 "$name (as A)" X.npy B.npy
  expect2 "$name (as B)" A.npy X.npy
}

# Malformed files
bad "truncated data" --shape 7,100 --truncate 5
bad "trailing bytes" --shape 7,100 --extra 3
bad "big-endian f4" --shape 7,100 --descr '>f4'
bad "big-endian f8" --shape 7,100 --descr '>f8'
bad "int32 dtype" --shape 7,100 --descr '<i4'
bad "complex dtype" --shape 7,100 --descr '<c8'
bad "float16 dtype" --shape 7,100 --descr '<f2'
bad "Fortran order" --shape 7,100 --fortran
bad "3-D array" --shape 7,100 --shape-text '(7, 10, 10)'
bad "0-D array" --shape 1 --shape-text '()'
bad "zero rows" --shape 7,100 --shape-text '(0, 100)'
bad "zero columns" --shape 7,100 --shape-text '(7, 0)'
bad "zero length 1-D" --shape 7 --shape-text '(0,)'
bad "corrupt shape" --shape 7,100 --shape-text '(7, banana)'
bad "negative shape" --shape 7,100 --shape-text '(-7, 100)'
bad "overflowing shape" --shape 7,100 --shape-text '(4294967296, 4294967296)'
bad "header length past the end" --shape 7,100 --hlen 60000
bad "header length over 1 MiB (v2)" --shape 7,100 --version 2 --hlen 2000000
bad "header length 4 GiB (v3)" --shape 7,100 --version 3 --hlen 4294967295
bad "unknown format version" --shape 7,100 --version 4
bad "unknown key" --shape 7,100 --descr "<f4', 'extra': 'x"
head -c 30 A.npy > cut.npy
expect2 "file ends inside the header" cut.npy B.npy
head -c 5 A.npy > cut5.npy
expect2 "file ends inside the magic" cut5.npy B.npy
: > empty.npy
expect2 "empty file" empty.npy B.npy
printf 'this is not a numpy file at all\n' > text.npy
expect2 "bad magic" text.npy B.npy
expect2 "input is a folder" . B.npy
expect2 "missing input" nosuch.npy B.npy

# Shapes that do not go together
"$TT" write B6.npy --shape 6,13 --seed 4
expect2 "row counts differ" A.npy B6.npy

# Bad output paths (run by hand: the output path is the point)
out_case() { # out_case NAME OUTPUT
  "$DW" conv A.npy B.npy -o "$2" -q 2> err.txt
  rc=$?
  [ $rc = 2 ] || failed "$1: exit $rc, expected 2; stderr: $(cat err.txt)"
  [ "$(wc -l < err.txt)" = 1 ] || failed "$1: stderr is not one line"
  echo "ok: $1: $(cat err.txt)"
}
cp A.npy A.orig
out_case "output is input A" A.npy
out_case "output is input B" B.npy
ln -s A.npy link.npy
out_case "output is a link to input A" link.npy
ln A.npy hard.npy
out_case "output is a hard link to input A" hard.npy
cmp -s A.npy A.orig || failed "input A was modified"
out_case "output folder does not exist" nosuchdir/C.npy
out_case "output parent is a file" A.orig/C.npy
mkdir -p outdir
out_case "output is a folder" outdir
out_case "output path ends in /" outdir/
mkfifo fifo.npy
out_case "output is a FIFO" fifo.npy
[ -p fifo.npy ] || failed "output is a FIFO: fifo.npy was replaced"
if [ "$(id -u)" != 0 ]; then
  mkdir -p ro && chmod 555 ro
  out_case "output folder not writable" ro/C.npy
  chmod 755 ro
fi

# Bad usage
usage_case() { # usage_case NAME ARGS...
  name=$1
  shift
  "$DW" "$@" > out.txt 2> err.txt
  rc=$?
  [ $rc = 2 ] || failed "$name: exit $rc, expected 2"
  [ "$(wc -l < err.txt)" -ge 1 ] || failed "$name: no message"
  [ -e new.npy ] && { failed "$name: new.npy was created"; rm -f new.npy; }
  echo "ok: $name: $(head -n 1 err.txt)"
}
usage_case "no command"
usage_case "unknown command" frobnicate
usage_case "missing -o" conv A.npy B.npy
usage_case "one input" conv A.npy -o new.npy
usage_case "three inputs" conv A.npy B.npy b.npy -o new.npy
usage_case "bad mode" conv A.npy B.npy -o new.npy --mode middle
usage_case "bad backend" conv A.npy B.npy -o new.npy --backend tpu
usage_case "bad algo" conv A.npy B.npy -o new.npy --algo magic
usage_case "bad threads" conv A.npy B.npy -o new.npy --threads 0
usage_case "bad memory limit" conv A.npy B.npy -o new.npy --memory-limit lots
usage_case "negative memory limit" conv A.npy B.npy -o new.npy --memory-limit -5M
usage_case "unknown option" conv A.npy B.npy -o new.npy --frobnicate
usage_case "option without value" conv A.npy B.npy -o
usage_case "bench bad dtype" bench --dtype f16
usage_case "bench bad list" bench --kernel 3,,4
echo "not wisdom" > junk.wis
usage_case "bench junk wisdom" bench --rows 4 --signal 10 --kernel 3 --backend cpu --fft-wisdom junk.wis
usage_case "demo bad seed" demo --seed x
usage_case "info extra argument" info extra

# A full disk, simulated with a file-size limit (the limit's signal is ignored by dwconv, so
# reserving the output's size, or a write, fails with EFBIG): a run-time failure, exit 1, one
# message naming the write, no output and no temporary file left, an existing output untouched.
"$TT" write big.npy --shape 64,20000 --seed 4   # output 64 x 20012 float32 = 5 MB
for out in new.npy keep.npy; do
  (ulimit -f 200 && "$DW" conv big.npy b.npy -o $out -q --backend cpu) > out.txt 2> err.txt
  refused 1 "disk full" $out $?
  grep -Eqi "write|reserve" err.txt || failed "disk full: message names neither the write nor the reservation: $(cat err.txt)"
done
echo "ok: disk full (ulimit -f): $(cat err.txt)"

if [ $fail = 0 ]; then echo "bad_input: all cases ok"; exit 0; fi
echo "bad_input: $fail failures"
exit 1
