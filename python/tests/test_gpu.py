"""GPU arrays (CuPy, torch CUDA tensors) computed on their GPU, results on the same device and
framework. Skipped, by name, where there is no GPU or no CUDA build; run by
scripts/gpu-check.sh on a GPU machine."""
import numpy as np
import pytest

import dwconv
from conftest import MODES, OPS, assert_rows_close

pytestmark = pytest.mark.gpu

if "cuda" not in dwconv.info()["features"]:
    pytest.skip("this dwconv was built without CUDA", allow_module_level=True)
if not dwconv.info()["gpus"]:
    pytest.skip("no usable CUDA GPU on this machine", allow_module_level=True)


def _cupy():
    return pytest.importorskip("cupy")


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    return torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_cupy_arrays(dtype, method):
    cp = _cupy()
    rng = np.random.default_rng(0)
    for mode in MODES:
        for op in OPS:
            a = rng.standard_normal((6, 300)).astype(dtype)
            b = rng.standard_normal((6, 45)).astype(dtype)
            fn = dwconv.convolve if op == "convolve" else dwconv.correlate
            c = fn(cp.asarray(a), cp.asarray(b), mode, method=method)
            assert isinstance(c, cp.ndarray) and c.dtype == dtype
            assert_rows_close(cp.asnumpy(c), op, a, b, mode)
    # broadcasts, strided views, out=, a non-default stream
    a = cp.asarray(rng.standard_normal((8, 500)).astype(dtype))
    b = cp.asarray(rng.standard_normal((8, 31)).astype(dtype))
    assert_rows_close(cp.asnumpy(dwconv.convolve(a[::2, 10:400], b[0], "same")), "convolve",
                      cp.asnumpy(a[::2, 10:400]), cp.asnumpy(b[0]), "same")
    out = cp.empty((8, 530), dtype)
    s = cp.cuda.Stream(non_blocking=True)
    with s:
        assert dwconv.convolve(a, b, out=out, stream=s) is out
    s.synchronize()
    assert_rows_close(cp.asnumpy(out), "convolve", cp.asnumpy(a), cp.asnumpy(b), "full")
    with pytest.raises(ValueError):
        dwconv.convolve(a, b, backend="cpu")
    # a host kernel with GPU signals is copied to their device; the result stays there
    c = dwconv.convolve(a, np.ones(3, dtype))
    assert isinstance(c, cp.ndarray)
    # a GPU kernel with host signals is refused (the result would live on the host)
    with pytest.raises(ValueError):
        dwconv.convolve(cp.asnumpy(a), b)
    # a plan on the GPU, asynchronous on the current stream
    with dwconv.Plan(8, 500, 31, dtype, "valid", backend="cuda") as plan:
        plan.set_kernel(b)
        c = plan.execute(a)
        cp.cuda.get_current_stream().synchronize()
        assert plan.info["backend"] == "cuda"
        assert_rows_close(cp.asnumpy(c), "convolve", cp.asnumpy(a), cp.asnumpy(b), "valid")


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_torch_cuda_tensors(dtype_name):
    torch = _torch_cuda()
    dtype = getattr(torch, dtype_name)
    a = torch.randn(4, 3, 257, device="cuda", dtype=dtype)
    b = torch.randn(4, 3, 33, device="cuda", dtype=dtype)
    for mode in MODES:
        c = dwconv.convolve(a, b, mode)
        assert isinstance(c, torch.Tensor) and c.is_cuda and c.dtype == dtype
        assert_rows_close(c.cpu().numpy(), "convolve", a.cpu().numpy(), b.cpu().numpy(), mode)
    # torch's own conv1d (groups) agrees, TF32 off so both are IEEE float32
    torch.backends.cudnn.allow_tf32 = False
    F = torch.nn.functional
    a2, b2 = a.reshape(12, 257), b.reshape(12, 33)
    want = F.conv1d(a2[None], torch.flip(b2, [1])[:, None, :], groups=12, padding=32)[0]
    assert torch.allclose(dwconv.convolve(a2, b2), want, rtol=1e-4, atol=1e-4)
