#!/usr/bin/env bash
# The main job, from a fresh machine: install dependencies, build, run `dwconv demo` (the seed's
# 4x10 * 4x20 case on every available backend, checked against a reference, then a throughput
# line on a larger shape); then install the Python package into .venv (pip install . from this
# checkout) and answer the seed question from Python, checked against scipy.signal.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
dwconv_install_deps
dwconv_build -DDWCONV_BUILD_TESTS=OFF
dir="${DWCONV_BUILD_DIR:-build}"
if [ -x "$dir/tools/dwconv" ]; then
  "$dir/tools/dwconv" demo
else
  "$dir/examples/example_seed"
fi
echo "dwconv: Python package into .venv (pip install .)"
dwconv_python_venv .venv scipy
.venv/bin/python -m pip install --quiet --disable-pip-version-check .
cd /tmp
"$OLDPWD/.venv/bin/python" - <<'PY'
import numpy as np, scipy.signal as sg, dwconv
M, N, P = 4, 10, 20
A, B = np.random.randn(M, N), np.random.randn(M, P)
C = dwconv.convolve(A, B)                     # row m = scipy.signal.convolve(A[m], B[m])
ref = np.vstack([sg.convolve(a, b) for a, b in zip(A, B)])
print("python: dwconv.convolve(A, B).shape =", C.shape,
      "max |C - scipy row loop| = %.1e" % abs(C - ref).max())
assert C.shape == (4, 29) and np.allclose(C, ref, rtol=1e-12, atol=1e-12)
PY
