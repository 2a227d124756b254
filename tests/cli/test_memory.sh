#!/bin/sh
# Bounded memory: `dwconv conv` on an A several times larger than --memory-limit (a sparse
# file, so the test is quick and takes no real disk) must keep its peak resident set near the
# limit, far below the file size. Peak RSS comes from getrusage(RUSAGE_CHILDREN) via
# cli_testtool rss.
# usage: test_memory.sh DWCONV TESTTOOL WORKDIR
set -u
. "$(dirname "$0")/common.sh"

ROWS=512 N=131072                     # A: 512 x 131072 float32 = 256 MiB
LIMIT_MB=16
"$TT" write A.npy --shape $ROWS,$N --sparse
# Random data in the rows the output check samples (0, 64, ..., 448 for --sample 8) and the
# last one, so the check compares real numbers, not zeros; the file stays mostly sparse.
"$TT" write r.npy --shape $N --seed 3
hA=$(( $(wc -c < A.npy) - ROWS * N * 4 ))
hr=$(( $(wc -c < r.npy) - N * 4 ))
for row in 0 64 128 192 256 320 384 448 $((ROWS - 1)); do
  dd if=r.npy of=A.npy bs=$((N * 4)) count=1 iflag=skip_bytes oflag=seek_bytes skip=$hr \
     seek=$((hA + row * N * 4)) conv=notrunc 2>/dev/null || failed "dd into row $row"
done
"$TT" write b.npy --shape 63 --seed 1
"$TT" write B.npy --shape $ROWS,63 --seed 2

for kernel in b.npy B.npy; do
  for algo in $ALGOS; do
    rss=$("$TT" rss "$DW" conv A.npy $kernel -o C.npy -q --backend cpu --algo $algo --memory-limit ${LIMIT_MB}M)
    rc=$?
    [ $rc = 0 ] || { failed "conv $kernel --algo $algo exited $rc"; continue; }
    # Limit + 40 MiB for the program, libraries, thread stacks and FFTW plans.
    bound=$(( (LIMIT_MB + 40) * 1024 ))
    echo "A = 256 MiB, kernel $kernel, algo $algo, --memory-limit ${LIMIT_MB}M: peak RSS ${rss} KiB (bound ${bound} KiB)"
    [ "$rss" -le "$bound" ] || failed "peak RSS $rss KiB exceeds $bound KiB"
    "$TT" check C.npy A.npy $kernel --sample 8 > /dev/null || failed "output check ($kernel, $algo)"
    rm -f C.npy
  done
done
rm -f A.npy r.npy
if [ $fail = 0 ]; then echo "memory: ok"; exit 0; fi
exit 1
