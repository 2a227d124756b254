"""The array frameworks dwconv accepts, behind one small interface.

NumPy arrays (and anything np.asarray takes), PyTorch tensors and CuPy arrays are handled
natively: results come back as the same framework's arrays on the same device. Any other
object with ``__dlpack__`` is viewed through NumPy (CPU) or CuPy / PyTorch (CUDA) without a
copy, and the result is an array of that framework. The C boundary itself is nanobind's
ndarray (buffer protocol / DLPack), so nothing here parses array interfaces by hand.
"""
import sys

import numpy as np

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _dtype_error(name, dtype):
    return TypeError(
        "dwconv: %s has dtype %s; dwconv computes in float32 or float64 (integer and bool "
        "inputs are converted to float64; float16, complex and object arrays are not "
        "supported)" % (name, dtype))


def compute_dtype(name_a, da, name_b, db):
    """The dtype (numpy.dtype) to compute in for input dtypes da, db (numpy dtypes).

    float32/float64 promote as NumPy does; integer and bool inputs count as float64; any other
    kind (float16, complex, object, strings, ...) raises TypeError naming it."""
    out = None
    for name, d in ((name_a, da), (name_b, db)):
        if d.kind == "f":
            if d.itemsize not in (4, 8):
                raise _dtype_error(name, d)
            t = _F32 if d.itemsize == 4 else _F64
        elif d.kind in "biu":
            t = _F64
        else:
            raise _dtype_error(name, d)
        out = t if out is None or t is _F64 else out
    return out


class NumpyFramework:
    """numpy.ndarray (the default for lists, scalars and objects NumPy can convert)."""

    name = "numpy"

    @staticmethod
    def asarray(x):
        return np.asarray(x)

    @staticmethod
    def np_dtype(x):
        return x.dtype

    @staticmethod
    def device(x):
        return -1

    @staticmethod
    def convert(x, dtype, like):
        """x as an array of this framework with dtype (numpy dtype), native byte order and
        aligned, on like's device; no copy when it already is."""
        x = np.asarray(x)
        if x.dtype != dtype or not x.dtype.isnative:
            x = x.astype(dtype)
        if not x.flags.aligned:
            x = x.copy()
        return x

    @staticmethod
    def empty(shape, dtype, like):
        return np.empty(shape, dtype)

    @staticmethod
    def contiguous(x):
        return np.ascontiguousarray(x)

    moveaxis = staticmethod(np.moveaxis)
    broadcast_to = staticmethod(np.broadcast_to)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def writeable(x):
        return bool(x.flags.writeable)

    @staticmethod
    def copy_into(dst, src):
        dst[...] = src

    @staticmethod
    def current_stream(x):
        return 0


class TorchFramework:
    """torch.Tensor, on the CPU or a CUDA device."""

    name = "torch"

    def __init__(self, torch):
        self.torch = torch
        self._to_np = {torch.float32: _F32, torch.float64: _F64, torch.float16: np.dtype("float16"),
                       torch.bool: np.dtype(bool), torch.uint8: np.dtype(np.uint8),
                       torch.int8: np.dtype(np.int8), torch.int16: np.dtype(np.int16),
                       torch.int32: np.dtype(np.int32), torch.int64: np.dtype(np.int64),
                       torch.complex64: np.dtype(np.complex64),
                       torch.complex128: np.dtype(np.complex128)}
        self._from_np = {_F32: torch.float32, _F64: torch.float64}

    def asarray(self, x):
        return x.detach()

    def np_dtype(self, x):
        d = self._to_np.get(x.dtype)
        if d is None:  # bfloat16 and friends have no NumPy twin: name them as torch does
            raise TypeError("dwconv: dtype %s is not supported (float32 or float64; integer and "
                            "bool inputs are converted to float64)" % x.dtype)
        return d

    def device(self, x):
        return x.device.index if x.is_cuda else -1

    def convert(self, x, dtype, like):
        t = self.torch
        if not isinstance(x, t.Tensor):
            x = t.as_tensor(np.asarray(x))
        x = x.detach()
        want = self._from_np[dtype]
        if x.dtype != want or x.device != like.device:
            x = x.to(device=like.device, dtype=want)
        return x

    def empty(self, shape, dtype, like):
        return self.torch.empty(shape, dtype=self._from_np[dtype], device=like.device)

    def contiguous(self, x):
        return x.contiguous()

    def moveaxis(self, x, src, dst):
        return self.torch.movedim(x, src, dst)

    def broadcast_to(self, x, shape):
        return self.torch.broadcast_to(x, shape)

    def reshape(self, x, shape):
        return x.reshape(shape)

    def writeable(self, x):
        return True

    def copy_into(self, dst, src):
        with self.torch.no_grad():
            dst.copy_(src)

    def current_stream(self, x):
        if not x.is_cuda:
            return 0
        return self.torch.cuda.current_stream(x.device).cuda_stream


class CupyFramework:
    """cupy.ndarray (on its CUDA device)."""

    name = "cupy"

    def __init__(self, cupy):
        self.cp = cupy

    def asarray(self, x):
        return x

    def np_dtype(self, x):
        return x.dtype

    def device(self, x):
        return x.device.id

    def convert(self, x, dtype, like):
        cp = self.cp
        with cp.cuda.Device(like.device.id):
            x = cp.asarray(x)
            if x.dtype != dtype:
                x = x.astype(dtype)
        return x

    def empty(self, shape, dtype, like):
        with self.cp.cuda.Device(like.device.id):
            return self.cp.empty(shape, dtype)

    def contiguous(self, x):
        with self.cp.cuda.Device(x.device.id):
            return self.cp.ascontiguousarray(x)

    def moveaxis(self, x, src, dst):
        return self.cp.moveaxis(x, src, dst)

    def broadcast_to(self, x, shape):
        return self.cp.broadcast_to(x, shape)

    def reshape(self, x, shape):
        return x.reshape(shape)

    def writeable(self, x):
        return True

    def copy_into(self, dst, src):
        with self.cp.cuda.Device(dst.device.id):
            dst[...] = src

    def current_stream(self, x):
        return self.cp.cuda.get_current_stream().ptr


NUMPY = NumpyFramework()
_torch_fw = None
_cupy_fw = None


def framework_of(x):
    """(framework, array) for an input object: the framework adapter and x as its array."""
    global _torch_fw, _cupy_fw
    if isinstance(x, np.ndarray):
        return NUMPY, x
    mod = type(x).__module__.split(".", 1)[0]
    if mod == "torch":
        if _torch_fw is None:
            _torch_fw = TorchFramework(sys.modules["torch"])
        return _torch_fw, x.detach()
    if mod == "cupy":
        if _cupy_fw is None:
            _cupy_fw = CupyFramework(sys.modules["cupy"])
        return _cupy_fw, x
    if hasattr(x, "__dlpack_device__") and not hasattr(x, "__array__"):
        dev_type, _ = x.__dlpack_device__()
        if dev_type == 2:  # kDLCUDA: view through CuPy, else PyTorch
            try:
                import cupy
                return framework_of(cupy.from_dlpack(x))
            except ImportError:
                import torch
                return framework_of(torch.from_dlpack(x))
        return NUMPY, np.from_dlpack(x)
    return NUMPY, np.asarray(x)
