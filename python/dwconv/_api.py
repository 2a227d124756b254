"""convolve / correlate: scipy.signal semantics along one axis, every other axis a batch axis.

The dtype, axis, broadcasting and layout rules of the package live here, once; Plan
(_plan.py) and dwconv.dask reuse them.
"""
import operator
import sys
from typing import Any, Literal, Optional

Mode = Literal["full", "same", "valid", "causal"]
Method = Literal["auto", "direct", "fft", "gemm"]
Math = Literal["ieee", "tf32", "tf32x3"]
Backend = Literal["auto", "cpu", "cuda"]

import numpy as np

from . import _dwconv as _ext
from ._arrays import NUMPY, compute_dtype, framework_of
from ._errors import InvalidValueError, SizeOverflowError, error_for

MODES = {"full": 0, "same": 1, "valid": 2, "causal": 3}
OPS = {"convolve": 0, "correlate": 1}
METHODS = {"auto": 0, "direct": 1, "fft": 2, "gemm": 3}
MATHS = {"ieee": 0, "tf32": 1, "tf32x3": 2}
BACKENDS = {"auto": 0, "cpu": 1, "cuda": 2}
MAX_THREADS = 1024  # DWCONV_MAX_THREADS

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def choice(table, value, what):
    """table[value] for a keyword argument, or InvalidValueError listing the accepted words."""
    try:
        return table[value]
    except (KeyError, TypeError):
        raise InvalidValueError("dwconv: %s must be one of %s, not %r"
                                % (what, ", ".join(repr(k) for k in table), value), 1) from None


def thread_count(threads):
    """The C library's desc.threads for the Python keyword (None = all available)."""
    if threads is None:
        return 0
    t = operator.index(threads)
    if not 1 <= t <= MAX_THREADS:
        raise InvalidValueError("dwconv: threads must be None or 1..%d, not %d"
                                % (MAX_THREADS, t), 1)
    return t


def stream_handle(stream, fw, x):
    """The cudaStream_t (as an int) for GPU array x: the given stream (an int, or an object
    with .ptr (CuPy) or .cuda_stream (torch)), else the framework's current stream. The legacy
    default stream (0) is passed as cudaStreamLegacy (1) so that dwconv queues on it instead of
    on streams of its own."""
    if stream is None:
        s = fw.current_stream(x)
    elif hasattr(stream, "ptr"):
        s = stream.ptr
    elif hasattr(stream, "cuda_stream"):
        s = stream.cuda_stream
    else:
        s = operator.index(stream)
    if s < 0:
        raise InvalidValueError("dwconv: stream must be a CUDA stream handle, not %r" % (stream,), 1)
    return s or 1


def output_len(mode_code, n, p):
    """Samples per output row, with zero lengths and overflow reported as exceptions."""
    if n == 0 or p == 0:
        raise InvalidValueError("dwconv: the signal axis has length %d in a and %d in b; "
                                "both must be at least 1" % (n, p), 1)
    length = _ext.output_len(mode_code, n, p)
    if length == 0:
        raise SizeOverflowError("dwconv: output length of signal %d and kernel %d overflows"
                                % (n, p), 2)
    return length


def check_alloc(shape, itemsize):
    """Raises SizeOverflowError when an array of this shape cannot be addressed (the byte count
    overflows the address space), before anything is allocated."""
    total = itemsize
    for s in shape:
        total *= s
    if total > sys.maxsize:
        raise SizeOverflowError("dwconv: the result would need %d bytes (shape %s), more than "
                                "this machine can address" % (total, tuple(shape)), 2)


def signal_axis(axis, nd):
    """The signal axis as an index in [0, nd) for inputs of at most nd axes."""
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError("dwconv: axis must be an integer, not %r" % (axis,)) from None
    if not -nd <= ax < nd:
        raise InvalidValueError("dwconv: axis %d is out of range for %d-D input" % (ax, nd), 1)
    return ax % nd


def lift(x, nd, ax):
    """x (any framework's array, or a Dask array) with nd axes: a 1-D operand is a signal along
    axis ax; one with fewer axes is padded on the left (NumPy's broadcasting)."""
    if x.ndim == nd:
        return x
    if x.ndim == 1:
        shape = [1] * nd
        shape[ax] = x.shape[0]
        return x.reshape(tuple(shape))
    return x.reshape((1,) * (nd - x.ndim) + tuple(x.shape))


def _prepare(a, b, axis, name_a="a", name_b="b"):
    """Common front end of convolve/correlate: (fw, a, b, dtype, ax, nd), with a and b arrays
    of framework fw, computed dtype, each with the same ndim nd and the signal axis at ax."""
    fw, a = framework_of(a)
    fw_b, b = framework_of(b)
    dt = compute_dtype(name_a, fw.np_dtype(a), name_b, fw_b.np_dtype(b))
    if fw_b is not fw:
        if fw_b.device(b) >= 0 and fw.device(a) < 0:
            raise InvalidValueError("dwconv: %s is in host memory but %s is on a GPU; pass both "
                                    "on the same device" % (name_a, name_b), 1)
    elif fw.device(a) != fw.device(b):
        raise InvalidValueError("dwconv: %s and %s are on different devices (%s, %s)"
                                % (name_a, name_b, fw.device(a), fw.device(b)), 1)
    a = fw.convert(a, dt, a)
    b = fw.convert(b, dt, a)
    if a.ndim == 0 or b.ndim == 0:
        raise InvalidValueError("dwconv: %s and %s must have at least one axis (got %d-D and "
                                "%d-D)" % (name_a, name_b, a.ndim, b.ndim), 1)
    nd = max(a.ndim, b.ndim)
    ax = signal_axis(axis, nd)
    return fw, lift(a, nd, ax), lift(b, nd, ax), dt, ax, nd


def _check_out(fw, out, shape, dt, like):
    """Raises the named exception when `out` cannot take the result."""
    ofw, o = framework_of(out)
    if ofw is not fw or (fw is NUMPY and not isinstance(out, np.ndarray)):
        raise TypeError("dwconv: out must be a %s array like a, not %s"
                        % (fw.name, type(out).__name__))
    if tuple(o.shape) != tuple(shape):
        raise InvalidValueError("dwconv: out has shape %s; the result has shape %s"
                                % (tuple(o.shape), tuple(shape)), 1)
    if fw.np_dtype(o) != dt:
        raise TypeError("dwconv: out has dtype %s; the result's dtype is %s" % (fw.np_dtype(o), dt))
    if fw.device(o) != fw.device(like):
        raise InvalidValueError("dwconv: out is on device %s but a is on device %s"
                                % (fw.device(o), fw.device(like)), 1)
    if not fw.writeable(o):
        raise InvalidValueError("dwconv: out is read-only", 1)
    if ofw is NUMPY and not o.dtype.isnative:
        raise TypeError("dwconv: out must have native byte order")
    return o


def run_prepared(fw, a, b, c, mode_code, op_code, method_code, backend_code, math_code, threads,
                 stream):
    """Runs the C library on arrays whose last axis is the signal axis and whose batch axes
    already broadcast to c's (zero strides for broadcast axes). Copies an operand the C API
    cannot take as it is (the binding says which) and computes into a temporary when c is such
    an operand. Raises the dwconv exception for a failed call."""
    target = None
    for _ in range(4):
        st = _ext.run(a, b, c, mode_code, op_code, method_code, backend_code, math_code, threads,
                      stream)
        if st == 0:
            if target is not None:
                fw.copy_into(target, c)
            return
        if st == _ext.LAYOUT_A:
            a = fw.contiguous(a)
        elif st == _ext.LAYOUT_B:
            b = fw.contiguous(b)
        elif st == _ext.LAYOUT_C:
            target = c
            c = fw.empty(tuple(c.shape), fw.np_dtype(c), c)
        elif st == _ext.OVERLAP:
            raise InvalidValueError("dwconv: out overlaps a or b (in-place convolution is not "
                                    "supported)", 1)
        elif st == _ext.DEVICE_MISMATCH:
            raise InvalidValueError("dwconv: a, b and out must be on the same device (host "
                                    "memory or one CUDA device)", 1)
        else:
            raise error_for(st)
    raise InvalidValueError("dwconv: could not lay out the arrays for the C library", 1)


def _dispatch(op_code, a, b, mode, axis, method, backend, out, threads, stream, math):
    # Fast path: two C-ordered NumPy matrices of one float dtype, signal axis last, fresh result.
    # Saves the general path's framework and broadcast bookkeeping (a few microseconds), which
    # is most of a small call's cost.
    if (type(a) is np.ndarray and type(b) is np.ndarray and out is None and axis == -1
            and threads is None and math == "ieee" and a.ndim == 2 and b.ndim == 2):
        dt = a.dtype
        if (dt == b.dtype and (dt == _F32 or dt == _F64) and a.shape[0] == b.shape[0]
                and a.shape[0] and dt.isnative):
            m = MODES.get(mode)
            meth = METHODS.get(method)
            back = BACKENDS.get(backend)
            if m is not None and meth is not None and back is not None:
                length = _ext.output_len(m, a.shape[1], b.shape[1])
                if length:
                    c = np.empty((a.shape[0], length), dt)
                    if _ext.run(a, b, c, m, op_code, meth, back, 0, 0, 0) == 0:
                        return c
    # General path (also re-runs a fast-path call that failed, to raise the right error).
    m = choice(MODES, mode, "mode")
    meth = choice(METHODS, method, "method")
    back = choice(BACKENDS, backend, "backend")
    math_code = choice(MATHS, math, "math")
    nthreads = thread_count(threads)
    fw, a, b, dt, ax, nd = _prepare(a, b, axis)
    a = fw.moveaxis(a, ax, -1) if ax != nd - 1 else a
    b = fw.moveaxis(b, ax, -1) if ax != nd - 1 else b
    n, p = a.shape[-1], b.shape[-1]
    try:
        batch = np.broadcast_shapes(tuple(a.shape[:-1]), tuple(b.shape[:-1]))
    except ValueError:
        raise InvalidValueError(
            "dwconv: the batch shapes of a %s and b %s do not broadcast (axis %d is the signal "
            "axis; every other axis is a batch axis)"
            % (tuple(a.shape[:-1]), tuple(b.shape[:-1]), ax), 1) from None
    length = output_len(m, n, p)
    shape_last = batch + (length,)
    check_alloc(shape_last, dt.itemsize)
    shape = shape_last[:ax] + (length,) + shape_last[ax:-1] if ax != nd - 1 else shape_last
    gpu = fw.device(a) >= 0
    if gpu and back == BACKENDS["cpu"]:
        raise InvalidValueError("dwconv: backend='cpu' cannot compute on GPU arrays (use "
                                "backend='auto' or 'cuda', or copy them to the host)", 1)
    if out is None:
        c = fw.empty(shape_last, dt, a)
        result = fw.moveaxis(c, -1, ax) if ax != nd - 1 else c
    else:
        result = out
        o = _check_out(fw, out, shape, dt, a)
        c = fw.moveaxis(o, ax, -1) if ax != nd - 1 else o
    if 0 in batch:
        return result
    a = fw.broadcast_to(a, batch + (n,))
    b = fw.broadcast_to(b, batch + (p,))
    s = stream_handle(stream, fw, a) if gpu else 0
    run_prepared(fw, a, b, c, m, op_code, meth, back, math_code, nthreads, s)
    return result


def convolve(a: Any, b: Any, mode: Mode = "full", *, axis: int = -1, method: Method = "auto",
             backend: Backend = "auto", out: Any = None, threads: Optional[int] = None,
             stream: Any = None, math: Math = "ieee") -> Any:
    """Convolve every signal of ``a`` with its own kernel of ``b`` along one axis.

    For every index ``i`` of the other (batch) axes, the result along ``axis`` equals
    ``scipy.signal.convolve(a[i], b[i], mode)``; rows never mix. Batch axes broadcast by NumPy's
    rules: a ``b`` with one row (or 1-D) is one kernel for every signal, a 1-D ``a`` with a 2-D
    ``b`` is a filter bank (one signal, many kernels).

    Parameters
    ----------
    a, b : array_like, torch.Tensor or cupy.ndarray
        Signals (length N along ``axis``) and kernels (length P along ``axis``). float32 and
        float64 are computed as they are (mixed inputs promote as NumPy does); integer and bool
        inputs are computed in float64; float16, complex and object arrays raise TypeError.
        ``b`` is converted to ``a``'s framework; GPU arrays must be on one device.
    mode : {'full', 'same', 'valid', 'causal'}
        As scipy.signal.convolve: 'full' has N + P - 1 samples, 'same' N centred samples,
        'valid' max(N, P) - min(N, P) + 1; 'causal' is the first N samples of 'full' (the causal
        convolution of causal-conv1d and SSM layers).
    axis : int
        The signal axis of both inputs (default: the last).
    method : {'auto', 'direct', 'fft', 'gemm'}
        'auto' lets dwconv's cost model choose (direct or FFT); 'gemm' is the CUDA backend's
        tensor-core path (block-Toeplitz cuBLAS GEMM; GPU plans only, never chosen by 'auto').
    backend : {'auto', 'cpu', 'cuda'}
        'auto': GPU arrays on their GPU; host arrays on a GPU when this build has CUDA and a GPU
        is present, else on the CPU.
    out : array, optional
        Array of exactly the result's shape, dtype, framework and device, writeable and not
        overlapping ``a`` or ``b``; filled and returned. Untouched when an error is raised.
    threads : int, optional
        CPU threads (default: all; ``OMP_NUM_THREADS`` is honoured).
    stream : int or stream object, optional
        GPU arrays: the CUDA stream to queue on (an int handle, a CuPy stream or a torch
        stream); default: the framework's current stream. The call is ordered after work
        already queued on that stream and returns when the result is complete. Ignored for
        host arrays.
    math : {'ieee', 'tf32', 'tf32x3'}
        Arithmetic of method='gemm' (float32): 'ieee' (default) FP32; 'tf32' tensor cores with
        inputs rounded to TF32 (about 1e-3 relative error, as torch's default GPU convolutions);
        'tf32x3' three TF32 products, float32-level error. Any other method refuses non-IEEE
        math (NotSupportedError): it is never chosen silently.

    Returns
    -------
    array
        Same framework and device as ``a``; shape = the broadcast batch shape with the output
        length on ``axis``.

    Raises
    ------
    TypeError
        Unsupported dtype; ``out`` of another dtype or framework.
    dwconv.InvalidValueError (a ValueError)
        Bad mode, method, backend, axis or threads; batch shapes that do not broadcast; a zero
        signal or kernel length; ``out`` of the wrong shape, read-only or overlapping.
    dwconv.SizeOverflowError (an OverflowError)
        The result's size cannot be addressed.
    dwconv.DwconvError
        Any other failure of the C library, with its status and message.

    Examples
    --------
    >>> import numpy as np, dwconv
    >>> a = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.5]])
    >>> b = np.array([[0.0, 1.0, 0.5], [1.0, -1.0, 0.0]])
    >>> dwconv.convolve(a, b)
    array([[ 0. ,  1. ,  2.5,  4. ,  1.5],
           [ 0. ,  1. , -0.5, -0.5,  0. ]])
    >>> dwconv.convolve(a, b, mode="same")
    array([[ 1. ,  2.5,  4. ],
           [ 1. , -0.5, -0.5]])
    >>> dwconv.convolve(np.ones((4, 10)), np.ones((4, 20))).shape
    (4, 29)
    """
    return _dispatch(0, a, b, mode, axis, method, backend, out, threads, stream, math)


def correlate(a: Any, b: Any, mode: Mode = "full", *, axis: int = -1, method: Method = "auto",
              backend: Backend = "auto", out: Any = None, threads: Optional[int] = None,
              stream: Any = None, math: Math = "ieee") -> Any:
    """Cross-correlate every signal of ``a`` with its own kernel of ``b`` along one axis.

    As :func:`convolve` (same parameters, broadcasting, dtypes, devices and errors), with each
    result equal to ``scipy.signal.correlate(a[i], b[i], mode)``: the kernel is not flipped.
    'causal' keeps the first N samples of 'full'.

    Examples
    --------
    >>> import numpy as np, dwconv
    >>> dwconv.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    return _dispatch(1, a, b, mode, axis, method, backend, out, threads, stream, math)
