#!/usr/bin/env bash
# Prepares wheelhouse/ for the Python step of scripts/gpu-check.sh on a GPU machine without
# network access: the pure-Python wheels that building and testing the package needs
# (nanobind, scikit-build-core, pytest, hypothesis and their dependencies; a few MB, so the
# device tool can carry the folder). The GPU machine builds dwconv's own wheel from this
# checkout with its own CUDA toolkit (a binary wheel from here could name a CUDA runtime or an
# FFTW that machine does not have) and uses its own numpy, torch and cupy.
#   usage: scripts/gpu-wheelhouse.sh [DIR]      (default DIR: wheelhouse)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
dir="${1:-wheelhouse}"
mkdir -p "$dir"
dwconv_python_venv build-py/wheelhouse-venv
# --only-binary with a pure-Python platform: wheels that install on any Python 3.9+.
build-py/wheelhouse-venv/bin/python -m pip download --quiet --disable-pip-version-check \
  --only-binary=:all: --python-version 3.10 --platform any --implementation py \
  -d "$dir" nanobind scikit-build-core pytest hypothesis packaging pathspec pluggy iniconfig \
  attrs sortedcontainers tomli exceptiongroup typing_extensions
ls -1 "$dir" | sed 's/^/  /'
du -sh "$dir"
