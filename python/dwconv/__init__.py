"""dwconv: depthwise (row-wise) 1-D convolution for NumPy, PyTorch and CuPy arrays.

``dwconv.convolve(a, b, mode)`` convolves every signal of ``a`` with its own kernel of ``b``
along one axis, exactly as ``scipy.signal.convolve`` would row by row, without ever mixing
rows; ``dwconv.correlate`` likewise. ``dwconv.Plan`` prepares a convolution once for many
batches. Computation runs in dwconv's C library (SIMD direct kernels, FFTW overlap-save,
OpenMP threads; CUDA for GPU arrays), with the GIL released.

>>> import numpy as np, dwconv
>>> A, B = np.ones((4, 10)), np.ones((4, 20))
>>> dwconv.convolve(A, B).shape
(4, 29)
"""
from . import _dwconv as _ext
from ._api import convolve, correlate
from ._errors import (DeviceError, DwconvError, DwconvIOError, DwconvMemoryError,
                      InternalError, InvalidValueError, KernelNotSetError, NoDeviceError,
                      NotSupportedError, SizeOverflowError)
from ._plan import Plan
from ._tools import (calibrate, calibration_status, fft_tune, fft_wisdom_export,
                     fft_wisdom_import, info)

__version__ = _ext.version()

__all__ = ["convolve", "correlate", "Plan", "info", "calibrate", "calibration_status",
           "fft_tune", "fft_wisdom_export",
           "fft_wisdom_import", "DwconvError", "InvalidValueError", "SizeOverflowError",
           "DwconvMemoryError", "NotSupportedError", "NoDeviceError", "DeviceError",
           "KernelNotSetError", "InternalError", "DwconvIOError", "__version__"]
