"""dwconv.Plan: a plan made once and executed on many batches (the C library's dwconv_plan)."""
import operator
import threading
from typing import Any, Optional

import numpy as np

from . import _dwconv as _ext
from ._api import (BACKENDS, MATHS, METHODS, MODES, OPS, check_alloc, choice, output_len,
                   stream_handle, thread_count)
from ._arrays import compute_dtype, framework_of
from ._errors import InvalidValueError, error_for

_NAMES_BACKEND = {1: "cpu", 2: "cuda"}
_NAMES_ALGO = {1: "direct", 2: "fft", 3: "gemm"}
_NAMES_MATH = {v: k for k, v in MATHS.items()}
_NAMES_SOURCE = {0: "built-in", 1: "calibrated"}


class Plan:
    """A convolution of fixed shape, prepared once and run on many batches.

    Parameters
    ----------
    rows, signal_len, kernel_len : int
        M signals of length N, M kernels of length P (one kernel broadcast to every row is
        set with a 1-D or one-row ``b``; one signal for every kernel by a 1-D or one-row ``a``).
    dtype : {'float32', 'float64'} or numpy dtype
    mode : {'full', 'same', 'valid', 'causal'}
    op : {'convolve', 'correlate'}
    method : {'auto', 'direct', 'fft', 'gemm'}
    backend : {'auto', 'cpu', 'cuda'}
    threads : int, optional
        CPU threads (default: all).
    device : int, optional
        CUDA plans: the GPU to make the plan on (default: the current one).
    device_memory_limit : int, optional
        Bytes the plan may hold on a GPU (0: the library's default).
    math : {'ieee', 'tf32', 'tf32x3'}
        Arithmetic of method='gemm' (see :func:`dwconv.convolve`).

    A plan is used by one thread at a time: a call while another thread is inside one of its
    calls raises RuntimeError (different plans run in parallel; the GIL is released). Use it
    as a context manager, or call :meth:`close`, to free its memory at a known point.

    Examples
    --------
    >>> import numpy as np, dwconv
    >>> with dwconv.Plan(2, 5, 3, "float64", mode="same") as plan:
    ...     plan.set_kernel(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    ...     plan.execute(np.arange(10.0).reshape(2, 5))
    array([[1., 2., 3., 4., 0.],
           [0., 5., 6., 7., 8.]])
    """

    def __init__(self, rows: int, signal_len: int, kernel_len: int, dtype: Any = "float32",
                 mode: str = "full", *, op: str = "convolve", method: str = "auto",
                 backend: str = "auto", threads: Optional[int] = None,
                 device: Optional[int] = None, device_memory_limit: int = 0,
                 math: str = "ieee") -> None:
        self._plan = None
        self.rows = operator.index(rows)
        self.signal_len = operator.index(signal_len)
        self.kernel_len = operator.index(kernel_len)
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError("dwconv: a plan computes in float32 or float64, not %s" % dt)
        self.dtype = dt
        self.mode = mode
        self.op = op
        self._mode = choice(MODES, mode, "mode")
        self._op = choice(OPS, op, "op")
        for name, v in (("rows", self.rows), ("signal_len", self.signal_len),
                        ("kernel_len", self.kernel_len)):
            if v < 1:
                raise InvalidValueError("dwconv: %s must be at least 1, not %d" % (name, v), 1)
        self.output_len = output_len(self._mode, self.signal_len, self.kernel_len)
        self.device = -1 if device is None else operator.index(device)
        plan = _ext.Plan(self.rows, self.signal_len, self.kernel_len,
                         0 if dt == np.float32 else 1, self._mode, self._op,
                         choice(METHODS, method, "method"), choice(BACKENDS, backend, "backend"),
                         choice(MATHS, math, "math"), thread_count(threads), operator.index(device_memory_limit), self.device)
        st = plan.create()
        if st:
            raise error_for(st)
        self._plan = plan
        self._lock = threading.Lock()
        self._stream = 0

    # -- helpers -------------------------------------------------------------------------
    def _enter(self):
        if self._plan is None:
            raise InvalidValueError("dwconv: the plan is closed", 1)
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("dwconv: this Plan is in use by another thread (one plan serves "
                               "one thread at a time; make a plan per thread)")

    def _rows2d(self, fw, x, length, name):
        """x as a rows x length matrix of this plan's dtype (a 1-D or one-row x stays one row:
        the C call broadcasts it with a zero row stride)."""
        compute_dtype(name, fw.np_dtype(x), name, fw.np_dtype(x))  # TypeError for float16 etc.
        x = fw.convert(x, self.dtype, x)
        if x.ndim == 1:
            x = fw.reshape(x, (1, x.shape[0]))
        if x.ndim != 2 or x.shape[1] != length or x.shape[0] not in (1, self.rows):
            raise InvalidValueError(
                "dwconv: %s has shape %s; this plan takes (%d, %d), (1, %d) or (%d,)"
                % (name, tuple(x.shape), self.rows, length, length, length), 1)
        if x.shape[0] == 1 and self.rows > 1:
            x = fw.broadcast_to(x, (self.rows, length))
        return x

    # -- the plan's calls ----------------------------------------------------------------
    def set_kernel(self, b: Any) -> None:
        """Prepares the kernels ``b`` ((rows, P), or (P,) / (1, P) for one kernel on every
        row): flipped or transformed once, copied (``b`` may change afterwards)."""
        self._enter()
        try:
            fw, b = framework_of(b)
            b = self._rows2d(fw, b, self.kernel_len, "b")
            for _ in range(2):
                st = self._plan.set_kernel(b)
                if st != _ext.LAYOUT_B:
                    break
                b = fw.contiguous(b)
            if st:
                raise error_for(st)
        finally:
            self._lock.release()

    def execute(self, a: Any, out: Any = None, *, stream: Any = None) -> Any:
        """Runs the plan on signals ``a`` ((rows, N), or (N,) / (1, N): one signal for every
        kernel) and returns the (rows, output_len) result in ``a``'s framework and device
        (or fills ``out``).

        GPU arrays: queued on ``stream`` (default: the framework's current stream) and, as any
        GPU operation of that framework, asynchronous: synchronise that stream before reading
        the result from the host."""
        self._enter()
        try:
            fw, a = framework_of(a)
            a = self._rows2d(fw, a, self.signal_len, "a")
            shape = (self.rows, self.output_len)
            if out is None:
                check_alloc(shape, self.dtype.itemsize)
                c = fw.empty(shape, self.dtype, a)
            else:
                ofw, c = framework_of(out)
                if ofw is not fw or tuple(c.shape) != shape or ofw.np_dtype(c) != self.dtype:
                    raise InvalidValueError("dwconv: out must be a %s array of shape %s and dtype "
                                            "%s" % (fw.name, shape, self.dtype), 1)
                if not fw.writeable(c):
                    raise InvalidValueError("dwconv: out is read-only", 1)
            if fw.device(a) >= 0:
                s = stream_handle(stream, fw, a)
                if s != self._stream:
                    st = self._plan.set_stream(s)
                    if st:
                        raise error_for(st)
                    self._stream = s
            target = None
            for _ in range(3):
                st = self._plan.execute(a, c)
                if st == _ext.LAYOUT_A:
                    a = fw.contiguous(a)
                elif st == _ext.LAYOUT_C and target is None:
                    target, c = c, fw.empty(shape, self.dtype, a)
                else:
                    break
            if st:
                raise error_for(st)
            if target is not None:
                fw.copy_into(target, c)
                c = target
            return out if out is not None else c
        finally:
            self._lock.release()

    @property
    def info(self) -> dict:
        """What the plan does: a dict with backend ('cpu' / 'cuda'), algorithm ('direct' /
        'fft' / 'gemm'), output_len, block_len and block_step (FFT overlap-save; GEMM: K and T;
        0 for direct), threads, workspace_bytes, simd (the CPU kernel variant, 'fftw' or
        'cuda'), math ('ieee', 'tf32', 'tf32x3') and constants (where the cost model's
        constants came from: 'built-in' or 'calibrated', see :func:`dwconv.calibrate`)."""
        if self._plan is None:
            raise InvalidValueError("dwconv: the plan is closed", 1)
        d = self._plan.info()
        d["backend"] = _NAMES_BACKEND.get(d["backend"], d["backend"])
        d["algorithm"] = _NAMES_ALGO.get(d.pop("algo"), "unknown")
        d["math"] = _NAMES_MATH.get(d["math"], d["math"])
        d["constants"] = _NAMES_SOURCE.get(d.pop("constants_source"), "unknown")
        return d

    def close(self) -> None:
        """Frees the plan (idempotent). GPU plans wait for the work queued on their stream."""
        if self._plan is not None:
            with self._lock:
                if self._stream:
                    self._plan.set_stream(0)
                self._plan.close()
                self._plan = None

    @property
    def closed(self):
        return self._plan is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self._plan is None else "open"
        return ("dwconv.Plan(rows=%d, signal_len=%d, kernel_len=%d, dtype=%s, mode=%r, op=%r; %s)"
                % (self.rows, self.signal_len, self.kernel_len, self.dtype, self.mode, self.op,
                   state))
