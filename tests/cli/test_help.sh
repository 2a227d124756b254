#!/bin/sh
# Every subcommand answers --help on stdout with status 0; --version works.
# usage: test_help.sh DWCONV
set -u
fail=0
for cmd in "" conv bench info calibrate demo; do
  out=$("$1" $cmd --help 2>/dev/null)
  rc=$?
  [ $rc = 0 ] || { echo "FAIL: dwconv $cmd --help exited $rc"; fail=1; }
  case $out in *usage:*) ;; *) echo "FAIL: dwconv $cmd --help printed no usage"; fail=1 ;; esac
done
"$1" --version | grep -q '^dwconv [0-9]' || { echo "FAIL: --version"; fail=1; }
[ $fail = 0 ] && echo "help: ok"
exit $fail
