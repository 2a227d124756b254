#!/usr/bin/env python3
"""dwconv from Python with NumPy arrays, through ctypes (no compiled extension needed).

    from dwconv_numpy import Dwconv
    dw = Dwconv("/usr/local/lib/libdwconv.so")      # or build/libdwconv.so
    C = dw.convolve(A, B, mode="same")              # C[m] = scipy.signal.convolve(A[m], B[m], "same")
    C = dw.convolve(A, b, op="correlate")           # 1-D b: one kernel for every row (ldb = 0)
    with dw.plan(A.shape[0], A.shape[1], B.shape[1], np.float32, mode="valid") as p:
        p.set_kernel(B)                             # kernel prepared once
        for A in batches: C = p.execute(A)          # many signal batches

Arrays must be C-contiguous float32 or float64 (2-D: rows x length; the row stride may be
larger than the length, e.g. a slice A[:, :n] of a wider array). Errors raise DwconvError
with dwconv's own message. The GIL is released during the call (ctypes does that), so
Python threads can run other plans at the same time.

Run as a script it is the example's test: it compares with scipy.signal.convolve /
correlate row by row for every mode, both ops, both dtypes, broadcast kernels and signals,
strided rows and both algorithms, and checks that bad input raises the documented status.
    usage: dwconv_numpy.py LIBDWCONV_SO      (exit 77 = skipped: numpy or scipy missing)
"""
import ctypes as C
import sys

try:
    import numpy as np
except ImportError:  # only the self-test may run without it (it then reports "skipped")
    np = None

_DT = {np.dtype(np.float32): 0, np.dtype(np.float64): 1} if np is not None else {}
_MODE = {"full": 0, "same": 1, "valid": 2, "causal": 3}
_OP = {"convolve": 0, "correlate": 1}
_ALGO = {"auto": 0, "direct": 1, "fft": 2, "gemm": 3}
_BACKEND = {"auto": 0, "cpu": 1, "cuda": 2}
_PTRDIFF = C.c_ssize_t  # ptrdiff_t: the same width as ssize_t on the platforms dwconv builds for


class _Desc(C.Structure):  # dwconv_desc (include/dwconv.h)
    _fields_ = [("rows", C.c_size_t), ("signal_len", C.c_size_t), ("kernel_len", C.c_size_t),
                ("dtype", C.c_int), ("mode", C.c_int), ("op", C.c_int), ("backend", C.c_int),
                ("algo", C.c_int), ("threads", C.c_int), ("device_memory_limit", C.c_size_t),
                ("math", C.c_int)]


class _Info(C.Structure):  # dwconv_plan_info
    _fields_ = [("backend", C.c_int), ("algo", C.c_int), ("output_len", C.c_size_t),
                ("block_len", C.c_size_t), ("block_step", C.c_size_t), ("threads", C.c_int),
                ("workspace_bytes", C.c_size_t), ("simd", C.c_char_p), ("math", C.c_int)]


class DwconvError(RuntimeError):
    """A dwconv call failed: .status is the dwconv_status value, str() dwconv's message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _rows(x, dtype, name):
    """(array, row stride in elements) for a 1-D or 2-D array of dtype with unit column stride."""
    if not isinstance(x, np.ndarray) or x.dtype != dtype:
        raise TypeError(f"{name} must be a numpy array of {np.dtype(dtype).name}")
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D")
    if x.size == 0:  # no data to lay out: dwconv itself reports the zero length
        return x, x.shape[1]
    if not x.flags.aligned:  # dwconv refuses arrays not aligned to their element size
        if name == "out":
            raise ValueError("out must be aligned to its element size")
        x = np.require(x, requirements="AC")
    if x.strides[1] != x.itemsize or x.strides[0] % x.itemsize or x.strides[0] < 0:
        raise ValueError(f"{name} must be 1-D or 2-D with contiguous rows (use np.ascontiguousarray)")
    return x, x.strides[0] // x.itemsize if x.shape[0] > 1 else x.shape[1]


class Dwconv:
    """The library, loaded from the path of libdwconv.so."""

    def __init__(self, path):
        self.lib = L = C.CDLL(path)
        L.dwconv_desc_make.restype = _Desc
        L.dwconv_desc_make.argtypes = [C.c_size_t, C.c_size_t, C.c_size_t, C.c_int]
        L.dwconv_output_len.restype = C.c_size_t
        L.dwconv_output_len.argtypes = [C.c_int, C.c_size_t, C.c_size_t]
        L.dwconv_convolve.argtypes = [C.POINTER(_Desc), C.c_void_p, _PTRDIFF, C.c_void_p,
                                      _PTRDIFF, C.c_void_p, _PTRDIFF]
        L.dwconv_plan_create.argtypes = [C.POINTER(C.c_void_p), C.POINTER(_Desc)]
        L.dwconv_plan_set_kernel.argtypes = [C.c_void_p, C.c_void_p, _PTRDIFF]
        L.dwconv_plan_execute.argtypes = [C.c_void_p, C.c_void_p, _PTRDIFF, C.c_void_p, _PTRDIFF]
        L.dwconv_plan_get_info.argtypes = [C.c_void_p, C.POINTER(_Info)]
        L.dwconv_plan_destroy.argtypes = [C.c_void_p]
        L.dwconv_plan_destroy.restype = None
        L.dwconv_last_error.restype = C.c_char_p
        L.dwconv_version_string.restype = C.c_char_p
        self.version = L.dwconv_version_string().decode()

    def _check(self, status):
        if status != 0:
            raise DwconvError(status, self.lib.dwconv_last_error().decode(errors="replace"))

    def desc(self, rows, n, p, dtype, mode="full", op="convolve", algo="auto", backend="auto", threads=0):
        d = self.lib.dwconv_desc_make(rows, n, p, _DT[np.dtype(dtype)])
        d.mode, d.op, d.algo, d.backend, d.threads = _MODE[mode], _OP[op], _ALGO[algo], _BACKEND[backend], threads
        return d

    def convolve(self, A, B, mode="full", op="convolve", **kw):
        """Row m of the result = scipy.signal.convolve (or correlate) of A[m] and B[m] in mode.
        A 1-D A or B is used for every row. Returns a new (rows x output_len) array."""
        dtype = np.result_type(A, B)
        if dtype not in _DT:
            raise TypeError("A and B must be float32 or float64")
        A, lda = _rows(np.asarray(A, dtype), dtype, "A")
        B, ldb = _rows(np.asarray(B, dtype), dtype, "B")
        rows = max(A.shape[0], B.shape[0])
        if A.shape[0] not in (1, rows) or B.shape[0] not in (1, rows):
            raise ValueError(f"A has {A.shape[0]} rows and B {B.shape[0]}: they must match, or one be 1-D")
        lda, ldb = (0 if A.shape[0] == 1 and rows > 1 else lda), (0 if B.shape[0] == 1 and rows > 1 else ldb)
        d = self.desc(rows, A.shape[1], B.shape[1], dtype, mode, op, **kw)
        out = self.lib.dwconv_output_len(d.mode, d.signal_len, d.kernel_len)
        Cout = np.empty((rows, out), dtype)
        self._check(self.lib.dwconv_convolve(C.byref(d), A.ctypes.data, lda, B.ctypes.data, ldb,
                                             Cout.ctypes.data, out))
        return Cout

    def plan(self, rows, n, p, dtype, **kw):
        return Plan(self, self.desc(rows, n, p, dtype, **kw))


class Plan:
    """A dwconv plan: set_kernel once, execute many times. Use as a context manager (or close())."""

    def __init__(self, dw, d):
        self.dw, self.d, self.h = dw, d, C.c_void_p()
        dw._check(dw.lib.dwconv_plan_create(C.byref(self.h), C.byref(d)))
        self.dtype = np.float64 if d.dtype == 1 else np.float32
        self.output_len = dw.lib.dwconv_output_len(d.mode, d.signal_len, d.kernel_len)

    def info(self):
        i = _Info()
        self.dw._check(self.dw.lib.dwconv_plan_get_info(self.h, C.byref(i)))
        return {"backend": i.backend, "algo": {1: "direct", 2: "fft", 3: "gemm"}[i.algo], "block_len": i.block_len,
                "threads": i.threads, "workspace_bytes": i.workspace_bytes, "simd": i.simd.decode()}

    def set_kernel(self, B):
        B, ldb = _rows(B, self.dtype, "B")
        if B.shape[1] != self.d.kernel_len or B.shape[0] not in (1, self.d.rows):
            raise ValueError(f"B must be {self.d.rows} x {self.d.kernel_len} or 1-D of {self.d.kernel_len}")
        self.dw._check(self.dw.lib.dwconv_plan_set_kernel(self.h, B.ctypes.data, 0 if B.shape[0] == 1 else ldb))

    def execute(self, A, out=None):
        A, lda = _rows(A, self.dtype, "A")
        if A.shape[1] != self.d.signal_len or A.shape[0] not in (1, self.d.rows):
            raise ValueError(f"A must be {self.d.rows} x {self.d.signal_len} or 1-D of {self.d.signal_len}")
        if out is None:
            out = np.empty((self.d.rows, self.output_len), self.dtype)
        out, ldc = _rows(out, self.dtype, "out")
        if not out.flags.writeable:
            raise ValueError("out must be writeable")
        if out.shape != (self.d.rows, self.output_len):
            raise ValueError(f"out must be {self.d.rows} x {self.output_len}")
        self.dw._check(self.dw.lib.dwconv_plan_execute(self.h, A.ctypes.data, 0 if A.shape[0] == 1 else lda,
                                                       out.ctypes.data, ldc))
        return out

    def close(self):
        if self.h:
            self.dw.lib.dwconv_plan_destroy(self.h)
            self.h = C.c_void_p()

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_worker_dw = None


def _worker_convolve(args):
    """One multiprocessing task of the self-test: the parent's Dwconv, inherited by fork."""
    A, B = args
    return _worker_dw.convolve(A, B, backend="cpu", threads=2)


def _test(path):
    try:
        if np is None:
            raise ImportError("numpy is not installed")
        import scipy.signal as sg
    except ImportError as e:
        print(f"SKIPPED: {e}")
        return 77
    dw = Dwconv(path)
    rng = np.random.default_rng(5)
    bad = 0
    algos = ("direct", "fft")
    runs = 0
    for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-12)):
        for (m, n, p) in ((3, 50, 7), (4, 10, 20), (2, 300, 301)):
            for mode in ("full", "same", "valid", "causal"):
                for op in ("convolve", "correlate"):
                    for algo in algos:
                        A = rng.standard_normal((m, n)).astype(dtype)
                        B = rng.standard_normal((m, p)).astype(dtype)
                        try:
                            got = dw.convolve(A, B, mode=mode, op=op, algo=algo, backend="cpu")
                        except DwconvError as e:
                            if algo == "fft" and e.status == 4:  # NOT_SUPPORTED: a build without FFTW
                                continue
                            raise
                        f = sg.convolve if op == "convolve" else sg.correlate
                        want = np.array([f(A[i].astype(np.float64), B[i].astype(np.float64),
                                           "full" if mode == "causal" else mode) for i in range(m)])
                        if mode == "causal":
                            want = want[:, :n]
                        err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300)
                        runs += 1
                        if not err <= tol:
                            bad += 1
                            print(f"FAIL {np.dtype(dtype).name} {m}x{n} P={p} {mode} {op} {algo}: rel err {err:.3g}")
    # Broadcasts, strided rows, a reused plan.
    A = rng.standard_normal((5, 64)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    got = dw.convolve(A, b, backend="cpu")
    want = np.array([np.convolve(A[i].astype(np.float64), b.astype(np.float64)) for i in range(5)])
    bad += not np.allclose(got, want, rtol=1e-5, atol=1e-5)
    wide = rng.standard_normal((5, 100)).astype(np.float64)
    with dw.plan(5, 64, 9, np.float64, mode="same", backend="cpu") as pl:
        pl.set_kernel(b.astype(np.float64))
        for _ in range(3):
            got = pl.execute(wide[:, :64])  # row stride 100, length 64
            want = np.array([np.convolve(wide[i, :64], b.astype(np.float64), "same") for i in range(5)])
            bad += not np.allclose(got, want, rtol=1e-12, atol=1e-12)
        info = pl.info()
    # A misaligned input view (a buffer at an odd byte offset) is copied, not refused.
    raw = np.zeros(5 * 64 * 4 + 1, np.uint8)
    mis = np.frombuffer(raw.data, np.float32, 5 * 64, offset=1).reshape(5, 64)
    mis_ok = not mis.flags.aligned
    got = dw.convolve(mis, b, backend="cpu")
    bad += not (mis_ok and np.array_equal(got, dw.convolve(np.array(mis), b, backend="cpu")))
    # Errors carry dwconv's status and message.
    try:
        dw.convolve(np.zeros((2, 0), np.float32), np.ones((2, 3), np.float32))
        bad += 1
        print("FAIL: zero-length rows were accepted")
    except DwconvError as e:
        bad += e.status != 1  # DWCONV_ERROR_INVALID_VALUE
        print(f"ok: zero-length rows -> status {e.status}: {e}")
    try:
        dw.convolve(A, b, threads=-1)
        bad += 1
        print("FAIL: threads = -1 was accepted")
    except DwconvError as e:
        bad += e.status != 1
        print(f"ok: threads = -1 -> status {e.status}: {e}")
    # Python multiprocessing workers started by fork, after this process ran dwconv on
    # several threads (GNU libgomp's threads do not survive fork: dwconv used to hang there).
    import multiprocessing as mp
    global _worker_dw
    _worker_dw = dw
    big = rng.standard_normal((8, 20000)).astype(np.float32)
    kern = rng.standard_normal((8, 301)).astype(np.float32)
    want_big = dw.convolve(big, kern, backend="cpu", threads=2)
    try:
        with mp.get_context("fork").Pool(2) as pool:
            outs = pool.map_async(_worker_convolve, [(big, kern)] * 4).get(timeout=60)
        same = all(np.array_equal(o, want_big) for o in outs)
        bad += not same
        print(f"{'ok' if same else 'FAIL'}: 4 calls in 2 forked multiprocessing workers finished"
              f"{', same bits as the parent' if same else ' with different results'}")
    except mp.TimeoutError:
        bad += 1
        print("FAIL: forked multiprocessing workers did not finish in 60 s (hung?)")
    print(f"dwconv {dw.version} via ctypes: {runs} comparisons with scipy.signal, plan info {info}, "
          f"{bad} failures")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(_test(sys.argv[1]))
