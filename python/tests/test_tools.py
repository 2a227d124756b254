"""dwconv.info(), FFT plan tuning and wisdom files."""
import numpy as np
import pytest

import dwconv
from conftest import assert_rows_close

FFT = "fftw" in dwconv.info()["features"]


def test_info():
    i = dwconv.info()
    assert i["version"] == dwconv.__version__ and i["version"].count(".") == 2
    assert set(i["features"]) <= {"cuda", "fftw", "openmp"}
    assert i["cpu_simd"] in ("avx512", "avx2", "portable")
    for g in i["gpus"]:
        assert g["name"] and len(g["compute_capability"]) == 2 and g["total_memory"] > 0


@pytest.mark.skipif("cuda" not in dwconv.info()["features"], reason="this build has no CUDA")
def test_cublas_plugin_beside_the_extension():
    # method="gemm" loads cuBLAS through the plugin libdwconv_cublas.so, which the library code
    # in the extension looks for in the extension's own directory first.
    import pathlib

    from dwconv import _dwconv

    assert (pathlib.Path(_dwconv.__file__).parent / "libdwconv_cublas.so").is_file()


@pytest.mark.skipif(not FFT, reason="this build has no FFTW")
def test_tune_and_wisdom_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((4, 6000)).astype(np.float32)
    b = rng.standard_normal((4, 511)).astype(np.float32)
    dwconv.fft_tune(4, 6000, 511, "float32", "same", threads=1)
    tuned = dwconv.convolve(a, b, "same", method="fft", backend="cpu", threads=1)
    assert_rows_close(tuned, "convolve", a, b, "same")
    path = tmp_path / "dwconv.wis"
    dwconv.fft_wisdom_export(path)
    assert path.stat().st_size > 0
    dwconv.fft_wisdom_import(str(path))  # str and PathLike both work
    again = dwconv.convolve(a, b, "same", method="fft", backend="cpu", threads=1)
    assert np.array_equal(tuned, again)
    with pytest.raises(TypeError):
        dwconv.fft_tune(4, 6000, 511, "float16")
    with pytest.raises(ValueError):
        dwconv.fft_tune(0, 6000, 511)


def test_calibration(tmp_path, monkeypatch):
    """calibrate() writes a file the plans then use; status says where constants come from."""
    path = tmp_path / "calibration.txt"
    monkeypatch.setenv("DWCONV_CALIBRATION", str(path))
    st = dwconv.calibration_status()
    assert st["source"] in ("built-in", "calibrated") and isinstance(st["reason"], str)
    dwconv.calibrate(path)
    assert path.stat().st_size > 0
    with dwconv.Plan(8, 4096, 63, "float32", "same", backend="cpu") as plan:
        assert plan.info["constants"] == "calibrated"
        assert plan.info["math"] == "ieee"
    with pytest.raises(OSError):
        dwconv.calibrate(tmp_path / "no-such-dir" / "c.txt")
