# Step 6 of scripts/gpu-check.sh (sourced there): the Python package on a GPU machine without
# network. Uses REPO, OUT, record() of gpu-check.sh. Writes OUT/python-install.log and
# OUT/python-pytest.log (with -rs: every skipped test named).
gpu_check_python() {
  local venv="$REPO/build-py/gpu-venv" wh="${GPU_CHECK_WHEELHOUSE:-$REPO/wheelhouse}"
  local extra=()
  if ! command -v python3 >/dev/null; then
    record python FAIL "no python3 on this machine"
    return
  fi
  if [ ! -d "$wh" ]; then
    record python FAIL "no wheelhouse at $wh: run scripts/gpu-wheelhouse.sh where there is network and carry wheelhouse/"
    return
  fi
  # The C build's own rule (FindFFTW3): without the development files, build without FFTW.
  if ! ls /usr/include/fftw3.h >/dev/null 2>&1; then
    extra+=(-Ccmake.define.DWCONV_WITH_FFTW=OFF)
  fi
  rm -rf "$venv"
  if ! { python3 -m venv --system-site-packages "$venv" &&
         "$venv/bin/python" -m pip install --no-index --find-links "$wh" nanobind scikit-build-core pytest hypothesis &&
         "$venv/bin/python" -m pip install --no-index --find-links "$wh" --no-build-isolation -v "${extra[@]}" "$REPO"; } \
       >"$OUT/python-install.log" 2>&1; then
    record python FAIL "pip install failed; python-install.log"
    return
  fi
  local r=0
  (cd "$REPO" && timeout "${GPU_CHECK_PYTEST_TIMEOUT:-480}" "$venv/bin/python" -m pytest python/tests -rs \
      -p no:cacheprovider -x) >"$OUT/python-pytest.log" 2>&1 || r=$?
  local summary
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$OUT/python-pytest.log" | tail -1)
  if [ $r -ne 0 ]; then
    record python FAIL "pytest exit $r: $summary; python-pytest.log"
  elif grep -q 'SKIPPED.*test_gpu' "$OUT/python-pytest.log"; then
    record python FAIL "GPU-array tests skipped on a GPU machine: $summary; python-pytest.log"
  else
    record python PASS "$summary; python-pytest.log"
  fi
}
