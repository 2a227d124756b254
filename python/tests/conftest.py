"""Shared helpers: the row-by-row scipy reference and the library's accuracy criterion."""
import numpy as np
import pytest

try:
    import scipy.signal as sg
except ImportError:  # e.g. a GPU machine without network: numpy's full results + scipy's slicing
    sg = None

MODES = ["full", "same", "valid", "causal"]
OPS = ["convolve", "correlate"]

# tests/README.md, "Accuracy criterion": per output row,
#   ||C - ref||_2 / max(||ref||_2, 0.5 sqrt(sum of squared products)) <= bound
BOUND = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def ref_row(op, a, b, mode):
    """scipy.signal's answer for one row (computed in float64 from the given inputs), and the
    square root of each output's sum of squared products (the scale of its rounding error)."""
    a64 = np.asarray(a, np.float64)
    b64 = np.asarray(b, np.float64)
    if sg is None:
        return _numpy_ref_row(op, a64, b64, mode)
    fn = sg.convolve if op == "convolve" else sg.correlate
    if mode == "causal":
        full = fn(a64, b64, "full", method="direct")
        sq = fn(a64 * a64, b64 * b64, "full", method="direct")
        return full[: len(a64)], np.sqrt(np.abs(sq[: len(a64)]))
    r = fn(a64, b64, mode, method="direct")
    sq = fn(a64 * a64, b64 * b64, mode, method="direct")
    return r, np.sqrt(np.abs(sq))


def _numpy_ref_row(op, a, b, mode):
    """ref_row without scipy: numpy's full convolution / correlation, then the mode's slice as
    scipy.signal defines it (same: N samples from (P-1)//2; valid: from min(N, P)-1)."""
    n, p = len(a), len(b)
    if op == "convolve":
        full, sq = np.convolve(a, b), np.convolve(a * a, b * b)
    else:
        full = np.correlate(a, b, "full") if n >= p else np.correlate(b, a, "full")[::-1]
        sq = (np.correlate(a * a, b * b, "full") if n >= p
              else np.correlate(b * b, a * a, "full")[::-1])
    start, length = {"full": (0, n + p - 1), "same": ((p - 1) // 2, n),
                     "valid": (min(n, p) - 1, max(n, p) - min(n, p) + 1),
                     "causal": (0, n)}[mode]
    return full[start:start + length], np.sqrt(np.abs(sq[start:start + length]))


def reference(op, a, b, mode, axis=-1):
    """Row-wise scipy result of op(a, b, mode) along axis with broadcast batch axes, as
    (ref, scale) float64 arrays with the signal axis last."""
    a = np.asarray(a)
    b = np.asarray(b)
    nd = max(a.ndim, b.ndim)
    ax = axis % nd

    def lift(x):
        if x.ndim == nd:
            return x
        if x.ndim == 1:
            shape = [1] * nd
            shape[ax] = x.shape[0]
            return x.reshape(shape)
        return x.reshape((1,) * (nd - x.ndim) + x.shape)

    a = np.moveaxis(lift(a), ax, -1)
    b = np.moveaxis(lift(b), ax, -1)
    batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    a = np.broadcast_to(a, batch + a.shape[-1:])
    b = np.broadcast_to(b, batch + b.shape[-1:])
    refs, scales = [], []
    for idx in np.ndindex(*batch):
        r, s = ref_row(op, a[idx], b[idx], mode)
        refs.append(r)
        scales.append(s)
    length = len(refs[0]) if refs else 0
    if not refs:
        n, p = a.shape[-1], b.shape[-1]
        length = {"full": n + p - 1, "same": n, "causal": n,
                  "valid": max(n, p) - min(n, p) + 1}[mode]
    return (np.array(refs).reshape(batch + (length,)),
            np.array(scales).reshape(batch + (length,)))


def assert_rows_close(c, op, a, b, mode, axis=-1, dtype=None):
    """c (signal axis at `axis`) matches the row-wise scipy reference within the bound."""
    ref, scale = reference(op, a, b, mode, axis)
    c = np.moveaxis(np.asarray(c), axis % max(np.ndim(a), np.ndim(b)), -1)
    assert c.shape == ref.shape, (c.shape, ref.shape)
    dt = np.dtype(dtype) if dtype is not None else c.dtype
    assert np.all(np.isfinite(c)), "non-finite output"
    if c.size == 0:
        return
    c2 = c.reshape(-1, c.shape[-1]).astype(np.float64)
    r2 = ref.reshape(-1, ref.shape[-1])
    s2 = scale.reshape(-1, scale.shape[-1])
    err = np.linalg.norm(c2 - r2, axis=1)
    den = np.maximum(np.linalg.norm(r2, axis=1), 0.5 * np.linalg.norm(s2, axis=1))
    den[den == 0] = 1.0
    rel = err / den
    assert rel.max() <= BOUND[dt], "relative error %g > %g (row %d)" % (
        rel.max(), BOUND[dt], int(rel.argmax()))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
