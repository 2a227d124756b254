#!/usr/bin/env bash
# Installs what building and testing dwconv needs on Debian/Ubuntu, when run as root;
# otherwise prints the exact apt-get line and fails. Sourced by run-demo.sh and run-tests.sh.
# Needs: a C compiler (present), cmake, make, pkg-config, FFTW3 (-dev), Check, clang and its
# libFuzzer runtime.
# clang runs the libFuzzer harnesses. Optional: nvcc (the CUDA backend is built when found),
# python3 numpy+scipy (CLI cross-checks against scipy).
set -euo pipefail

dwconv_install_deps() {
  # clang's libFuzzer runtime is a separate package (only recommended by clang).
  local want=(cmake make pkg-config libfftw3-dev check clang libclang-rt-14-dev)
  local missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "dwconv: installing ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "dwconv: missing packages; run as root:" >&2
      echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi
  # The CLI tests compare with scipy when it is importable; they are skipped (and say so)
  # when it is not, so a failed install here is not fatal.
  # pip first (a Python of its own, e.g. pyenv); Debian's packages for the system python3,
  # which refuses pip installs (PEP 668) or has no pip.
  if command -v python3 >/dev/null && ! python3 -c "import numpy, scipy" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check numpy scipy 2>/dev/null ||
      { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null &&
        apt-get install -y -qq --no-install-recommends python3-numpy python3-scipy >/dev/null 2>&1; } ||
      true
    python3 -c "import numpy, scipy" 2>/dev/null ||
      echo "dwconv: numpy/scipy not available; the scipy cross-check (cli_scipy) will be skipped"
  fi
  # nvcc is often installed outside PATH.
  if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  fi
}

# Configures and builds into ${DWCONV_BUILD_DIR:-build} with any extra CMake arguments given.
dwconv_build() {
  local dir="${DWCONV_BUILD_DIR:-build}"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "$dir" -j "$(nproc)"
}

# Makes (if missing) a Python virtual environment at $1 and pip-installs the remaining arguments
# into it. On Debian's own python3 the venv module and the headers an extension build needs
# (python3-venv, python3-dev) are separate packages: installed here when missing (as root).
dwconv_python_venv() {
  local venv="$1"
  shift
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1 ||
       ! python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
      rm -rf "$venv"
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "dwconv: installing python3-venv python3-dev"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends python3-venv python3-dev python3-pip >/dev/null
      fi
      python3 -m venv "$venv" || { echo "dwconv: cannot make a virtual environment (apt-get install python3-venv python3-dev)" >&2; return 1; }
    fi
  fi
  if [ $# -gt 0 ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  fi
}
