"""Every bad input gets its named exception, and `out` is left untouched."""
import numpy as np
import pytest

import dwconv


@pytest.fixture
def ab():
    rng = np.random.default_rng(7)
    return rng.standard_normal((4, 30)), rng.standard_normal((4, 5))


def untouched_out(shape=(4, 34), dtype=np.float64):
    return np.full(shape, 1234.5, dtype)


def check_raises(exc, call, out=None, status=None, match=None):
    with pytest.raises(exc, match=match) as info:
        call()
    if status is not None:
        assert isinstance(info.value, dwconv.DwconvError)
        assert info.value.status == status
    if out is not None:
        assert np.all(out == 1234.5), "out was written"
    return info.value


def test_exception_family():
    assert issubclass(dwconv.InvalidValueError, ValueError)
    assert issubclass(dwconv.SizeOverflowError, OverflowError)
    assert issubclass(dwconv.DwconvMemoryError, MemoryError)
    assert issubclass(dwconv.NotSupportedError, NotImplementedError)
    for cls in (dwconv.NoDeviceError, dwconv.DeviceError, dwconv.InternalError,
                dwconv.KernelNotSetError):
        assert issubclass(cls, RuntimeError)
    assert issubclass(dwconv.DwconvIOError, OSError)
    for cls in (dwconv.InvalidValueError, dwconv.DwconvIOError):
        assert issubclass(cls, dwconv.DwconvError)
    e = dwconv.DwconvIOError("cannot write x", 9)
    assert str(e) == "cannot write x" and e.status == 9 and e.status_name == "DWCONV_ERROR_IO"


def test_bad_words(ab):
    a, b = ab
    out = untouched_out()
    e = check_raises(ValueError, lambda: dwconv.convolve(a, b, "ful", out=out), out, 1,
                     match="mode must be one of")
    assert e.status_name == "DWCONV_ERROR_INVALID_VALUE"
    check_raises(ValueError, lambda: dwconv.convolve(a, b, method="fast", out=out), out, 1)
    check_raises(ValueError, lambda: dwconv.convolve(a, b, backend="gpu", out=out), out, 1)
    check_raises(ValueError, lambda: dwconv.convolve(a, b, threads=0, out=out), out, 1)
    check_raises(ValueError, lambda: dwconv.convolve(a, b, threads=5000, out=out), out, 1)
    check_raises(TypeError, lambda: dwconv.convolve(a, b, threads=1.5, out=out), out)
    check_raises(TypeError, lambda: dwconv.convolve(a, b, axis="x", out=out), out)
    check_raises(ValueError, lambda: dwconv.Plan(4, 30, 5, op="conv"), None, 1)


def test_shapes(ab):
    a, b = ab
    out = untouched_out()
    check_raises(ValueError, lambda: dwconv.convolve(a, b, axis=2, out=out), out, 1,
                 match="axis 2 is out of range")
    check_raises(ValueError, lambda: dwconv.convolve(a, b, axis=-3, out=out), out, 1)
    check_raises(ValueError, lambda: dwconv.convolve(a, np.ones((3, 5)), out=out), out, 1,
                 match="do not broadcast")
    check_raises(ValueError, lambda: dwconv.convolve(np.ones((2, 3, 9)), np.ones((4, 3, 2))),
                 None, 1, match="do not broadcast")
    check_raises(ValueError, lambda: dwconv.convolve(np.float64(3.0), b), None, 1,
                 match="at least one axis")
    check_raises(ValueError, lambda: dwconv.convolve(np.ones((4, 0)), b), None, 1,
                 match="at least 1")
    check_raises(ValueError, lambda: dwconv.convolve(a, np.ones((4, 0))), None, 1)


def test_dtypes(ab):
    a, b = ab
    out = untouched_out()
    for bad in (np.float16, np.complex64, np.complex128, object):
        e = check_raises(TypeError, lambda: dwconv.convolve(a.astype(bad), b, out=out), out)
        assert np.dtype(bad).name in str(e) or "object" in str(e)
        check_raises(TypeError, lambda: dwconv.convolve(a, b.astype(bad), out=out), out)
    check_raises(TypeError, lambda: dwconv.convolve("abc", b), None)
    check_raises(TypeError, lambda: dwconv.convolve(None, b), None)
    check_raises(TypeError, lambda: dwconv.convolve(object(), b), None)
    check_raises(TypeError, lambda: dwconv.convolve({"a": 1}, b), None)
    check_raises(TypeError, lambda: dwconv.Plan(4, 30, 5, np.float16), None)


def test_bad_out(ab):
    a, b = ab
    good = dwconv.convolve(a, b)
    for shape in ((4, 33), (34, 4), (4, 34, 1), (34,)):
        out = untouched_out(shape)
        check_raises(ValueError, lambda: dwconv.convolve(a, b, out=out), out, 1, match="shape")
    out = untouched_out(dtype=np.float32)
    check_raises(TypeError, lambda: dwconv.convolve(a, b, out=out), out, match="dtype")
    out = untouched_out()
    out.flags.writeable = False
    check_raises(ValueError, lambda: dwconv.convolve(a, b, out=out), out, 1, match="read-only")
    check_raises(TypeError, lambda: dwconv.convolve(a, b, out=[[0.0] * 34] * 4), None)
    # out overlapping a (or b): refused before anything is written
    buf = np.full((4, 64), 1234.5)
    aa = buf[:, :30]
    aa[...] = a
    out_view = buf[:, 30:64]
    before = buf.copy()
    check_raises(ValueError, lambda: dwconv.convolve(aa, b, out=out_view), None, 1,
                 match="overlaps")
    assert np.array_equal(buf, before)
    bb = np.full((4, 40), 1234.5)
    bb[:, :5] = b
    check_raises(ValueError, lambda: dwconv.convolve(a, bb[:, :5], out=bb[:, 5:39]), None, 1,
                 match="overlaps")
    assert np.array_equal(dwconv.convolve(a, b), good)


def test_sizes_that_overflow():
    """A result whose byte count overflows is OverflowError before anything is allocated (the
    inputs are broadcast views: NumPy keeps no memory behind them)."""
    one = np.ones(1, np.float32)
    a = np.broadcast_to(one, (2 ** 30, 2 ** 30))
    b = np.broadcast_to(one, (2 ** 31,))
    with pytest.raises(OverflowError) as info:
        dwconv.convolve(a, b, "full")
    assert info.value.status == 2
    with pytest.raises(MemoryError):  # 4 EiB: addressable, but no machine has it
        dwconv.convolve(a, b, "same")
    with pytest.raises(OverflowError):
        dwconv.Plan(2 ** 62, 2 ** 62, 3, "float32")
    with pytest.raises(OverflowError):
        dwconv.Plan(3, 2 ** 63, 2 ** 63, "float32")


def test_plan_misuse():
    plan = dwconv.Plan(3, 20, 4, "float32")
    with pytest.raises(dwconv.KernelNotSetError) as info:
        plan.execute(np.ones((3, 20), np.float32))
    assert info.value.status == 7 and "set_kernel" in str(info.value).lower() or info.value.status == 7
    with pytest.raises(ValueError, match="shape"):
        plan.set_kernel(np.ones((2, 4)))
    plan.set_kernel(np.ones((3, 4)))
    with pytest.raises(ValueError, match="shape"):
        plan.execute(np.ones((3, 21), np.float32))
    out = np.full((3, 23), 1234.5, np.float32)
    with pytest.raises(ValueError):
        plan.execute(np.ones((3, 20), np.float32), out=np.empty((3, 22), np.float32))
    with pytest.raises(TypeError):
        plan.execute(np.ones((3, 20), np.complex64), out=out)
    assert np.all(out == 1234.5)
    with pytest.raises(ValueError):
        dwconv.Plan(0, 20, 4)
    plan.close()
    plan.close()
    with pytest.raises(ValueError, match="closed"):
        plan.execute(np.ones((3, 20), np.float32))


def test_no_gpu_here_or_cuda_refused():
    """backend='cuda' without a usable GPU is NoDeviceError (status 5), or runs where one is."""
    a, b = np.ones((2, 10)), np.ones((2, 3))
    if dwconv.info()["gpus"]:
        pytest.skip("a GPU is present: backend='cuda' is tested by the GPU tests")
    with pytest.raises(dwconv.NoDeviceError) as info:
        dwconv.convolve(a, b, backend="cuda")
    assert info.value.status == 5 and isinstance(info.value, RuntimeError)


def test_wisdom_errors(tmp_path):
    missing = tmp_path / "missing.wis"
    if "fftw" not in dwconv.info()["features"]:
        with pytest.raises(dwconv.NotSupportedError):
            dwconv.fft_wisdom_import(missing)
        return
    with pytest.raises(OSError) as info:
        dwconv.fft_wisdom_import(missing)
    assert info.value.status == 9
    bad = tmp_path / "bad.wis"
    bad.write_text("not wisdom\n")
    with pytest.raises(ValueError):
        dwconv.fft_wisdom_import(bad)
    with pytest.raises(OSError):
        dwconv.fft_wisdom_export(tmp_path / "no-such-dir" / "x.wis")
    with pytest.raises(ValueError):
        dwconv.fft_wisdom_export(3)


def test_gemm_and_non_ieee_math_refused_on_the_cpu(ab):
    """The tensor-core GEMM path is CUDA-only and non-IEEE math is never taken silently: the
    CPU says NOT_SUPPORTED (a NotImplementedError) with the library's reason."""
    a, b = ab
    out = untouched_out()
    e = check_raises(NotImplementedError, lambda: dwconv.convolve(a, b, method="gemm",
                                                                  backend="cpu", out=out), out, 4)
    assert "gemm" in str(e).lower() or "cuda" in str(e).lower()
    check_raises(NotImplementedError, lambda: dwconv.convolve(
        a.astype(np.float32), b.astype(np.float32), math="tf32", backend="cpu"), None, 4)
    check_raises(NotImplementedError, lambda: dwconv.Plan(4, 30, 5, method="direct",
                                                          backend="cpu", math="tf32x3"), None, 4)
    check_raises(ValueError, lambda: dwconv.convolve(a, b, math="fp16", out=out), out, 1)
