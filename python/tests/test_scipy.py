"""dwconv.convolve / correlate against scipy.signal row by row on the CPU backend: every mode x
op x dtype x method, edge sizes, broadcasts, N-D batches, axes, layouts, out= and plans."""
import itertools

import numpy as np
import pytest

import dwconv
from conftest import MODES, OPS, assert_rows_close

DTYPES = [np.float32, np.float64]
METHODS = ["auto", "direct", "fft"]
FFT = "fftw" in dwconv.info()["features"]

SHAPES = [  # (M, N, P)
    (4, 10, 20),      # the seed: P > N
    (3, 17, 5),
    (1, 1, 1),        # N = 1, P = 1, one row
    (2, 1, 7),        # N = 1
    (5, 33, 1),       # P = 1
    (2, 64, 64),      # N = P
    (3, 40, 41),      # P = N + 1
    (2, 300, 127),    # several FFT blocks per row
]


def fn(op):
    return dwconv.convolve if op == "convolve" else dwconv.correlate


def data(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def skip_no_fft(method):
    if method == "fft" and not FFT:
        pytest.skip("this build has no FFTW (method='fft' raises NotSupportedError)")


@pytest.mark.parametrize("mode,op,dtype,method", list(itertools.product(MODES, OPS, DTYPES, METHODS)))
def test_every_mode_op_dtype_method(rng, mode, op, dtype, method):
    skip_no_fft(method)
    for m, n, p in SHAPES:
        a, b = data(rng, (m, n), dtype), data(rng, (m, p), dtype)
        c = fn(op)(a, b, mode, method=method, backend="cpu")
        assert c.dtype == dtype and isinstance(c, np.ndarray)
        assert_rows_close(c, op, a, b, mode)


@pytest.mark.parametrize("mode,op", list(itertools.product(MODES, OPS)))
def test_broadcasts(rng, mode, op):
    a, b = data(rng, (6, 50), np.float64), data(rng, (6, 9), np.float64)
    # one kernel for every row: 1-D b and one-row b
    for bb in (b[0], b[:1]):
        assert_rows_close(fn(op)(a, bb, mode), op, a, bb, mode)
    # a filter bank: one 1-D signal, many kernels
    c = fn(op)(a[0], b, mode)
    assert c.shape[0] == 6
    assert_rows_close(c, op, a[0], b, mode)
    # N-D batches broadcast both ways: (3, 1, N) with (1, 4, P) -> (3, 4, L)
    a3, b3 = data(rng, (3, 1, 40), np.float32), data(rng, (1, 4, 7), np.float32)
    c3 = fn(op)(a3, b3, mode)
    assert c3.shape[:2] == (3, 4)
    assert_rows_close(c3, op, a3, b3, mode)
    # the batch shape is the broadcast one in every mode, also 'same' (not a's batch shape)
    c4 = fn(op)(a3[:1], b3, mode)
    assert c4.shape[:2] == (1, 4)


@pytest.mark.parametrize("mode", MODES)
def test_nd_batches_and_axes(rng, mode):
    a = data(rng, (2, 3, 30), np.float64)
    b = data(rng, (2, 3, 8), np.float64)
    assert_rows_close(dwconv.convolve(a, b, mode), "convolve", a, b, mode)
    # axis 0 and 1: the signal on another axis, results placed on that axis
    for axis in (0, 1, -2, -3):
        at = np.moveaxis(a, -1, axis).copy()
        bt = np.moveaxis(b, -1, axis).copy()
        c = dwconv.convolve(at, bt, mode, axis=axis)
        assert_rows_close(c, "convolve", at, bt, mode, axis=axis)
    # 2-D, axis 0 (columns are the signals)
    a2, b2 = data(rng, (25, 4), np.float32), data(rng, (6, 4), np.float32)
    c2 = dwconv.correlate(a2, b2, mode, axis=0)
    assert c2.shape[1] == 4
    assert_rows_close(c2, "correlate", a2, b2, mode, axis=0)
    # a 1-D kernel with the signal on axis 0
    assert_rows_close(dwconv.convolve(a2, b2[:, 0], mode, axis=0), "convolve", a2, b2[:, 0],
                      mode, axis=0)


def test_one_dimensional(rng):
    a, b = data(rng, 25, np.float64), data(rng, 6, np.float64)
    for mode in MODES:
        c = dwconv.convolve(a, b, mode)
        assert c.ndim == 1
        assert_rows_close(c, "convolve", a, b, mode)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layouts(rng, dtype):
    big = data(rng, (12, 600), dtype)
    kb = data(rng, (12, 40), dtype)
    views = {
        "rows of a wider array": (big[:, 10:500], kb),
        "every other row": (big[::2, :300], kb[::2]),
        "fortran order": (np.asfortranarray(big[:, :200]), np.asfortranarray(kb)),
        "negative signal stride": (big[:, ::-1], kb[:, ::-1]),
        "non-unit signal stride": (big[:, ::3], kb[:, ::2]),
        "reversed rows": (big[::-1], kb[::-1]),
        "big-endian": (big[:, :100].astype(np.dtype(dtype).newbyteorder(">")), kb),
        "misaligned": (np.frombuffer(b"\0" + big[:, :50].tobytes(), dtype=dtype, offset=1).reshape(12, 50), kb),
        "broadcast view": (np.broadcast_to(big[0, :80], (12, 80)), kb),
    }
    for name, (a, b) in views.items():
        for mode in ("full", "same", "valid"):
            c = dwconv.convolve(a, b, mode)
            assert c.dtype == np.dtype(dtype).newbyteorder("=") or c.dtype == dtype, name
            assert_rows_close(c, "convolve", a, b, mode, dtype=dtype)


def test_zero_copy_views(rng):
    """Views whose signal axis is contiguous go to the C library without a copy: the call
    allocates only the result (NumPy allocations are traced by tracemalloc)."""
    import tracemalloc
    a = data(rng, (256, 8192), np.float32)
    b = data(rng, (256, 16), np.float32)
    out = np.empty((128, 4000), np.float32)
    dwconv.convolve(a[::2, 100:4100], b[::2], "same", out=out)  # warm-up
    tracemalloc.start()
    try:
        dwconv.convolve(a[::2, 100:4100], b[::2], "same", out=out)
        c = dwconv.convolve(a[::2, 100:4100], b[::2], "same")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < c.nbytes + (1 << 20), "a view was copied: peak %d bytes" % peak
    assert np.array_equal(c, out)
    # the same values as a contiguous copy, bitwise (zero-copy changes nothing)
    assert np.array_equal(c, dwconv.convolve(np.ascontiguousarray(a[::2, 100:4100]),
                                             np.ascontiguousarray(b[::2]), "same"))


def test_dtypes_promote(rng):
    a32, b64 = data(rng, (3, 20), np.float32), data(rng, (3, 5), np.float64)
    assert dwconv.convolve(a32, b64).dtype == np.float64
    assert dwconv.convolve(a32, a32[:, :4]).dtype == np.float32
    ai = rng.integers(-5, 5, (3, 20))
    c = dwconv.convolve(ai, np.ones((3, 3), np.int32))
    assert c.dtype == np.float64
    assert_rows_close(c, "convolve", ai, np.ones((3, 3)), "full")
    cb = dwconv.convolve(ai > 0, np.array([True, False, True]))
    assert cb.dtype == np.float64
    assert_rows_close(cb, "convolve", ai > 0, np.array([1.0, 0.0, 1.0]), "full")
    # integer inputs with float32 promote as NumPy does (float64)
    assert dwconv.convolve(ai, a32[:, :4]).dtype == np.float64
    # lists are arrays
    assert np.allclose(dwconv.convolve([1, 2, 3], [0, 1]), [0, 1, 2, 3])


@pytest.mark.parametrize("mode,op", list(itertools.product(MODES, OPS)))
def test_out(rng, mode, op):
    a, b = data(rng, (5, 70), np.float32), data(rng, (5, 12), np.float32)
    want = fn(op)(a, b, mode)
    out = np.full(want.shape, np.nan, np.float32)
    got = fn(op)(a, b, mode, out=out)
    assert got is out
    assert np.array_equal(out, want)
    # a non-contiguous out (every other column of a wider array) is filled in place too
    wide = np.full((5, 2 * want.shape[1]), 7.0, np.float32)
    fn(op)(a, b, mode, out=wide[:, ::2])
    assert np.array_equal(wide[:, ::2], want) and np.all(wide[:, 1::2] == 7.0)
    # out with the signal on axis 0
    out_t = np.empty(want.T.shape, np.float32)
    fn(op)(a.T, b.T, mode, axis=0, out=out_t)
    assert np.array_equal(out_t, want.T)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
def test_plan_reuse(rng, dtype, method):
    skip_no_fft(method)
    m, n, p = 6, 200, 31
    for mode, op in itertools.product(MODES, OPS):
        with dwconv.Plan(m, n, p, dtype, mode, op=op, method=method, backend="cpu") as plan:
            b = data(rng, (m, p), dtype)
            plan.set_kernel(b)
            for _ in range(3):
                a = data(rng, (m, n), dtype)
                c = plan.execute(a)
                assert c.shape == (m, plan.output_len)
                assert_rows_close(c, op, a, b, mode)
                # the plan and the one-shot call give the same bits
                assert np.array_equal(c, fn(op)(a, b, mode, method=method, backend="cpu"))
            # broadcast kernel and filter bank through the plan
            plan.set_kernel(b[0])
            assert_rows_close(plan.execute(a), op, a, b[0], mode)
            plan.set_kernel(b)
            assert_rows_close(plan.execute(a[0]), op, a[0], b, mode)
            out = np.empty((m, plan.output_len), dtype)
            assert plan.execute(a[:, ::1], out=out) is out
            info = plan.info
            assert info["backend"] == "cpu"
            assert info["algorithm"] in ("direct", "fft")
            if method != "auto":
                assert info["algorithm"] == method
        assert plan.closed


def test_threads_give_same_bits(rng):
    a, b = data(rng, (64, 3000), np.float32), data(rng, (64, 200), np.float32)
    one = dwconv.convolve(a, b, "same", threads=1)
    two = dwconv.convolve(a, b, "same", threads=2)
    assert np.array_equal(one, two)


def test_empty_batch():
    c = dwconv.convolve(np.ones((0, 10)), np.ones((0, 3)), "same")
    assert c.shape == (0, 10)
    c = dwconv.convolve(np.ones((2, 0, 10)), np.ones((3,)), "full")
    assert c.shape == (2, 0, 12)


def test_reference_without_scipy_agrees(rng):
    """The numpy-only reference (used where scipy is missing, e.g. the GPU machine) gives
    scipy's answer, so tests there check the same thing."""
    import conftest
    if conftest.sg is None:
        pytest.skip("scipy not installed: nothing to compare the fallback with")
    for n, p in [(10, 20), (20, 10), (7, 7), (1, 5), (5, 1)]:
        a, b = rng.standard_normal(n), rng.standard_normal(p)
        for op, mode in itertools.product(OPS, MODES):
            r1, s1 = conftest.ref_row(op, a, b, mode)
            r2, s2 = conftest._numpy_ref_row(op, a, b, mode)
            assert r1.shape == r2.shape
            assert np.allclose(r1, r2, rtol=1e-12, atol=1e-12) and np.allclose(s1, s2)
