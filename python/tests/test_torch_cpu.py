"""torch CPU tensors in, torch tensors out (skipped, by name, where torch is not installed)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import dwconv  # noqa: E402
from conftest import MODES, assert_rows_close  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mode", MODES)
def test_torch_in_torch_out(mode, dtype):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5, 3, 100, generator=g, dtype=dtype)
    b = torch.randn(5, 3, 9, generator=g, dtype=dtype)
    c = dwconv.convolve(a, b, mode)
    assert isinstance(c, torch.Tensor) and c.dtype == dtype and c.device.type == "cpu"
    assert_rows_close(c.numpy(), "convolve", a.numpy(), b.numpy(), mode)
    # non-contiguous views, requires_grad inputs, axis 0, broadcast kernel
    at = a.transpose(0, 2)  # signal on axis 0, non-contiguous
    c0 = dwconv.correlate(at, b[:, :, :].transpose(0, 2), mode, axis=0)
    assert_rows_close(c0.numpy(), "correlate", at.numpy(), b.transpose(0, 2).numpy(), mode, axis=0)
    ag = a.clone().requires_grad_(True)
    assert torch.equal(dwconv.convolve(ag, b[0, 0], mode),
                       dwconv.convolve(a, b[0, 0], mode))


def test_torch_out_and_plan_and_mixed():
    a = torch.randn(4, 64)
    b = torch.randn(4, 7)
    out = torch.empty(4, 70)
    assert dwconv.convolve(a, b, out=out) is out
    assert torch.equal(out, dwconv.convolve(a, b))
    with dwconv.Plan(4, 64, 7, "float32", "same") as plan:
        plan.set_kernel(b)
        c = plan.execute(a)
        assert isinstance(c, torch.Tensor)
        assert torch.equal(c, dwconv.convolve(a, b, "same"))
    # a NumPy kernel with a torch signal: the result is torch
    c = dwconv.convolve(a, b.numpy())
    assert isinstance(c, torch.Tensor)
    # integer tensors compute in float64; float16 is refused
    assert dwconv.convolve(torch.ones(2, 5, dtype=torch.int32), torch.ones(2, 2)).dtype == torch.float64
    with pytest.raises(TypeError):
        dwconv.convolve(a.half(), b)
    with pytest.raises(TypeError):
        dwconv.convolve(a.to(torch.bfloat16), b)
    with pytest.raises(TypeError):
        dwconv.convolve(a, b, out=np.empty((4, 70), np.float32))


def test_same_answer_as_torch_conv1d():
    """The original question's torch recipe (groups=M conv1d with a flipped kernel)."""
    F = torch.nn.functional
    m, n, p = 4, 10, 20
    a = torch.randn(m, n, dtype=torch.float64)
    b = torch.randn(m, p, dtype=torch.float64)
    want = F.conv1d(a[None], torch.flip(b, [1])[:, None, :], groups=m, padding=p - 1)[0]
    assert torch.allclose(dwconv.convolve(a, b), want, rtol=1e-12, atol=1e-12)
