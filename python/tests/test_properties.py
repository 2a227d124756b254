"""Hypothesis: random shapes, strides, dtypes, modes, ops, axes and broadcasts against scipy
row by row, within the library's documented error bound (tests/README.md)."""
import os

import numpy as np
import pytest

hyp = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dwconv  # noqa: E402
from conftest import MODES, OPS, assert_rows_close  # noqa: E402

EXAMPLES = int(os.environ.get("DWCONV_HYPOTHESIS_EXAMPLES", "600"))
METHODS = ["auto", "direct"] + (["fft"] if "fftw" in dwconv.info()["features"] else [])


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(1, 90))
    p = draw(st.integers(1, 90))
    nbatch = draw(st.integers(0, 2))
    batch = tuple(draw(st.integers(1, 4)) for _ in range(nbatch))
    # each batch axis of a or b may be broadcast (extent 1)
    a_batch = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else s for s in batch)
    b_batch = tuple(1 if draw(st.booleans()) else s for s in batch)
    step_a = draw(st.sampled_from([1, 1, 2, -1]))
    step_b = draw(st.sampled_from([1, 1, 3, -1]))
    axis_pos = draw(st.integers(0, nbatch))  # where the signal axis sits
    one_d_b = nbatch == 1 and draw(st.integers(0, 4)) == 0
    order = draw(st.sampled_from(["C", "F"]))
    return dict(dtype=dtype, n=n, p=p, a_batch=a_batch, b_batch=b_batch, step_a=step_a,
                step_b=step_b, axis_pos=axis_pos, one_d_b=one_d_b, order=order,
                mode=draw(st.sampled_from(MODES)), op=draw(st.sampled_from(OPS)),
                method=draw(st.sampled_from(METHODS)), seed=draw(st.integers(0, 2 ** 31)))


def make(rng, batch, length, step, dtype, axis_pos, order):
    """An array with `length` samples on axis axis_pos, the signal axis strided by `step`."""
    full = rng.standard_normal(batch + (length * abs(step),)).astype(dtype)
    x = full[..., ::step] if step > 0 else full[..., ::-abs(step)][..., :length]
    x = x[..., :length]
    x = np.moveaxis(x, -1, axis_pos)
    return np.asfortranarray(x) if order == "F" else x


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_cases_match_scipy(c):
    rng = np.random.default_rng(c["seed"])
    a = make(rng, c["a_batch"], c["n"], c["step_a"], c["dtype"], c["axis_pos"], c["order"])
    if c["one_d_b"]:
        b = make(rng, (), c["p"], c["step_b"], c["dtype"], 0, "C")
    else:
        b = make(rng, c["b_batch"], c["p"], c["step_b"], c["dtype"], c["axis_pos"], "C")
    fn = dwconv.convolve if c["op"] == "convolve" else dwconv.correlate
    got = fn(a, b, c["mode"], axis=c["axis_pos"], method=c["method"], backend="cpu")
    assert got.dtype == c["dtype"]
    assert_rows_close(got, c["op"], a, b, c["mode"], axis=c["axis_pos"])
