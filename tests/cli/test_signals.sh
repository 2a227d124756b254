#!/bin/sh
# Interrupted runs: SIGINT or SIGTERM in the middle of `dwconv conv` must remove the temporary
# output, leave no C.npy (or leave an existing one untouched), and end the process by the
# signal (shell status 128 + N).
# usage: test_signals.sh DWCONV TESTTOOL WORKDIR
set -u
. "$(dirname "$0")/common.sh"

# A slow run: 256 MiB sparse A, 2047 taps, direct, one thread (many seconds of work).
"$TT" write A.npy --shape 512,131072 --sparse
"$TT" write b.npy --shape 2047 --seed 1

for sig in 2 15; do
  for existing in no yes; do
    rm -f C.npy
    [ $existing = yes ] && echo precious > C.npy
    "$TT" killafter $sig 1.0 "$DW" conv A.npy b.npy -o C.npy -q --backend cpu --algo direct --threads 1 > how.txt &
    sleep 0.5
    during=$(ls -A | grep -c '^\.C\.npy\.' || true)
    wait
    how=$(cat how.txt)
    [ "$during" = 1 ] || failed "signal $sig: no temporary file while running (found $during)"
    [ "$how" = "signal $sig" ] || failed "signal $sig: process ended with '$how'"
    left=$(ls -A | grep '^\.C\.npy\.' || true)
    [ -z "$left" ] || failed "signal $sig: temporary file left: $left"
    if [ $existing = yes ]; then
      [ "$(cat C.npy)" = precious ] || failed "signal $sig: existing C.npy was changed"
    else
      [ ! -e C.npy ] || failed "signal $sig: C.npy was created"
    fi
    echo "signal $sig, existing output $existing: $how, temporary file seen while running: $during"
  done
done
rm -f A.npy
if [ $fail = 0 ]; then echo "signals: ok"; exit 0; fi
exit 1
