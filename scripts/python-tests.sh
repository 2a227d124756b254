#!/usr/bin/env bash
# The Python package's tests, as a user would meet the package: a fresh virtual environment
# (${DWCONV_PY_VENV:-build-py/venv}, made anew), `pip install .` from this checkout (the C
# library is built inside the package by scikit-build-core, with CUDA when nvcc is found),
# then pytest over python/tests. torch (CPU tests; a large download) is installed unless
# DWCONV_TEST_TORCH=0; tests whose package is missing are reported as skipped, by name.
# Run by scripts/run-tests.sh; usable alone (after scripts/deps.sh's packages are installed).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
venv="${DWCONV_PY_VENV:-build-py/venv}"
start=$(date +%s)
rm -rf "$venv"
dwconv_python_venv "$venv"
py="$(cd "$venv" && pwd)/bin/python"
echo "dwconv: pip install .[test,dask] into $venv ($("$py" --version))"
"$py" -m pip install --quiet --disable-pip-version-check ".[test,dask]"
if [ "${DWCONV_TEST_TORCH:-1}" = 1 ]; then
  "$py" -m pip install --quiet --disable-pip-version-check torch ||
    echo "dwconv: torch could not be installed; its tests will be reported as skipped"
fi
echo "dwconv: Python package installed in $(( $(date +%s) - start )) s"
# Run from outside the checkout so that `import dwconv` is the installed package.
(cd /tmp && "$py" -c \
  "import dwconv, numpy as np; print(dwconv.convolve(np.ones((4,10)), np.ones((4,20))).shape)")
"$py" -m pytest python/tests -ra -p no:cacheprovider --hypothesis-show-statistics \
  -o console_output_style=classic "$@"
echo "dwconv: Python tests finished in $(( $(date +%s) - start )) s"
