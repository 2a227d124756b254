# Shared by the tests/cli shell tests: absolute paths for DWCONV and TESTTOOL, a fresh
# work folder, and a failure counter. Usage: . common.sh "$@"  (DWCONV TESTTOOL WORKDIR)
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
DW=$(abspath "$1")
TT=$(abspath "$2")
W=$(abspath "$3")
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
fail=0
failed() { echo "FAIL: $*"; fail=$((fail + 1)); }
# Algorithms this build has (a build without FFTW refuses --algo fft).
if "$DW" info 2>/dev/null | grep -q '^FFTW: *yes'; then ALGOS="direct fft"; else ALGOS="direct"; fi
