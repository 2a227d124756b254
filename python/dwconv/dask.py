"""dwconv on Dask arrays: lazy row-wise convolution of arrays larger than one machine's memory.

``dwconv.dask.convolve(a, b, mode)`` returns a lazy ``dask.array.Array`` equal to
``dwconv.convolve`` on the whole array, computable by any Dask scheduler (threads, processes,
``dask.distributed``), with zarr / HDF5 / any Dask source as input.

How the graph is made
---------------------
* Every chunk along the batch axes is independent: one task per output block.
* Along the signal axis an output block [j0, j1) needs the input samples
  [j0 + s0 - (P-1), j1 + s0) (s0 = where the mode's output starts in the full convolution;
  the same window for convolve and correlate), with zeros past the row's ends. Its task reads
  exactly the parts of the input chunks that cover that window (several chunks when P is longer
  than a chunk; never the whole signal axis) and computes the block with mode 'valid' on it.
* Output chunks along the signal axis follow the input's boundaries, cut at the output length
  ('valid') or extended by blocks of the largest input chunk ('full', valid with P > N).
* When the signal axis is a single chunk, each task calls the in-memory function on its block
  directly (no window copy).

Results: with ``method='direct'`` every block is bitwise equal to the in-memory call (the direct
kernel sums each output's taps in the same order wherever the output sits). ``'fft'`` and
``'auto'`` (which may choose differently for a block than for the whole row) agree within the
library's FFT error bound (relative L2 error per row 1e-5 float32, 1e-12 float64).

Threads: a task uses ``threads`` CPU threads when given; else ``OMP_NUM_THREADS`` when it is set
in the worker's environment (``distributed`` nannies set it to 1 in each worker process, so N
single-threaded workers use N cores); else ``cores // (Dask threads in this process)`` (at
least 1): a worker with 2 threads on 8 cores gives each task 4, the local threaded scheduler
(one thread per core) gives 1, and the synchronous scheduler all cores. dwconv's OpenMP
threads and Dask's threads therefore do not oversubscribe the cores.

Plans: each worker thread keeps a small cache of dwconv plans (``PLAN_CACHE_SIZE`` per thread,
least recently used evicted) keyed by shape, dtype, mode, op, method, backend, threads and
device, so repeated block shapes reuse their plan (and its FFT plans).

GPU workers: blocks that are CuPy arrays (e.g. with dask-cuda, or ``a.map_blocks(cupy.asarray)``)
are computed on the worker's current GPU by the CUDA backend; the result blocks are CuPy arrays.
"""
import collections
import os
import threading

import numpy as np

from . import _api
from ._arrays import compute_dtype
from ._errors import InvalidValueError
from ._plan import Plan

try:
    import dask
    import dask.array as da
    import dask.array.utils
    from dask.highlevelgraph import HighLevelGraph
except ImportError as e:  # pragma: no cover - the module is only useful with dask
    raise ImportError("dwconv.dask needs dask[array] (pip install 'dwconv[dask]')") from e

__all__ = ["convolve", "correlate", "PLAN_CACHE_SIZE"]

PLAN_CACHE_SIZE = 8
_local = threading.local()


# --------------------------------------------------------------------------- task side

def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def task_threads(explicit):
    """CPU threads for one task (see the module's "Threads" rule); 0 = the C library's default
    (omp_get_max_threads(), which honours OMP_NUM_THREADS)."""
    if explicit:
        return explicit
    if os.environ.get("OMP_NUM_THREADS"):
        return 0  # set for this process (distributed's nannies set 1 per worker): honour it
    n = None
    try:
        from distributed import get_worker
        w = get_worker()
        n = getattr(getattr(w, "state", None), "nthreads", None) or w.nthreads
    except (ImportError, ValueError, AttributeError):
        n = None
    if n is None:
        if threading.current_thread() is threading.main_thread():
            import multiprocessing
            # the synchronous scheduler: all cores; a process-pool worker: one of `cores`
            n = 1 if multiprocessing.parent_process() is None else _cores()
        else:
            n = dask.config.get("num_workers", None) or _cores()
    return max(1, _cores() // max(1, int(n)))


def _cached_plan(rows, n, p, dtype, mode, op, method, backend, threads, device, math="ieee"):
    """A plan from this thread's LRU cache (made on a miss). Plans serve one thread at a
    time, so the cache is per thread."""
    cache = getattr(_local, "plans", None)
    if cache is None:
        cache = _local.plans = collections.OrderedDict()
    key = (rows, n, p, np.dtype(dtype).str, mode, op, method, backend, threads, device, math)
    plan = cache.get(key)
    if plan is not None:
        cache.move_to_end(key)
        return plan
    plan = Plan(rows, n, p, dtype, mode, op=op, method=method, backend=backend,
                threads=threads, device=None if device < 0 else device, math=math)
    cache[key] = plan
    while len(cache) > PLAN_CACHE_SIZE:
        _, old = cache.popitem(last=False)
        old.close()
    return plan


def _xp(x):
    """The array module of a block (numpy or cupy)."""
    if type(x).__module__.split(".", 1)[0] == "cupy":
        import cupy
        return cupy
    return np


def _device(xp):
    return xp.cuda.Device().id if xp is not np else -1


def _run_rows(x, b, mode, op, method, backend, threads, math="ieee"):
    """op(x, b, mode) for a block x (batch..., n) and its kernels b (batch or 1s..., p), through
    a cached plan: rows = the block's batch extent."""
    xp = _xp(x)
    batch = x.shape[:-1]
    rows = int(np.prod(batch, dtype=np.int64)) if batch else 1
    n, p = x.shape[-1], b.shape[-1]
    if rows == 0:
        return xp.empty(batch + (_api.output_len(_api.MODES[mode], n, p),), x.dtype)
    x2 = xp.ascontiguousarray(x).reshape(rows, n)
    if all(s == 1 for s in b.shape[:-1]):
        b2 = b.reshape(1, p)  # one kernel for every row (ldb = 0)
    else:
        b2 = xp.ascontiguousarray(xp.broadcast_to(b, batch + (p,))).reshape(rows, p)
    plan = _cached_plan(rows, n, p, x.dtype, mode, op, method, backend,
                        task_threads(threads) or None, _device(xp), math)
    plan.set_kernel(b2)
    c = plan.execute(x2)
    if xp is not np:
        xp.cuda.get_current_stream().synchronize()
    return c.reshape(batch + (c.shape[-1],))


def _whole_rows(x, b, mode, op, method, backend, threads, math, dtype):
    """A block holding whole rows: the in-memory call's own mode, no window copy."""
    x = x.astype(dtype, copy=False)
    b = b.astype(dtype, copy=False)
    return _run_rows(x, b, mode, op, method, backend, threads, math)


def _window(parts, cuts, pad_lo, pad_hi, b, op, method, backend, threads, math, dtype):
    """One output block from the input window: the given input chunks, each cut to
    cuts[i] = (start, stop), between pad_lo and pad_hi zeros; computed as 'valid'."""
    xp = _xp(parts[0])
    width = pad_lo + pad_hi + sum(e - s for s, e in cuts)
    batch = parts[0].shape[:-1]
    x = xp.empty(batch + (width,), dtype)
    x[..., :pad_lo] = 0
    pos = pad_lo
    for part, (s, e) in zip(parts, cuts):
        x[..., pos:pos + e - s] = part[..., s:e]
        pos += e - s
    x[..., pos:] = 0
    return _run_rows(x, b.astype(dtype, copy=False), "valid", op, method, backend, threads,
                     math)


# --------------------------------------------------------------------------- graph side

def _output_chunks(in_chunks, out_len):
    """Output chunk lengths along the signal axis: the input's boundaries cut at out_len, then
    blocks of the largest input chunk up to out_len."""
    bounds = []
    pos = 0
    for c in in_chunks:
        pos += c
        if pos >= out_len:
            break
        bounds.append(pos)
    step = max(in_chunks)
    last = bounds[-1] if bounds else 0
    while out_len - last > step:
        last += step
        bounds.append(last)
    bounds.append(out_len)
    return tuple(e - s for s, e in zip([0] + bounds[:-1], bounds))


def _as_dask(b, name):
    if isinstance(b, da.Array):
        if any(np.isnan(c) for cs in b.chunks for c in cs):
            raise InvalidValueError(
                "dwconv.dask: %s has unknown chunk sizes (shape %s); call "
                "%s.compute_chunk_sizes() first" % (name, b.shape, name), 1)
        return b
    return da.asarray(b)


def _dispatch(op, a, b, mode, axis, method, backend, threads, math):
    mode_code = _api.choice(_api.MODES, mode, "mode")
    _api.choice(_api.METHODS, method, "method")
    _api.choice(_api.BACKENDS, backend, "backend")
    _api.choice(_api.MATHS, math, "math")
    threads = _api.thread_count(threads) or None
    if not isinstance(a, da.Array):
        raise TypeError("dwconv.dask: a must be a dask.array.Array (use dwconv.convolve for "
                        "in-memory arrays), not %s" % type(a).__name__)
    a = _as_dask(a, "a")
    b = _as_dask(b, "b")
    dt = compute_dtype("a", a.dtype, "b", b.dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise InvalidValueError("dwconv.dask: a and b must have at least one axis", 1)
    nd = max(a.ndim, b.ndim)
    ax = _api.signal_axis(axis, nd)
    a = da.moveaxis(_api.lift(a, nd, ax), ax, -1)
    b = da.moveaxis(_api.lift(b, nd, ax), ax, -1)
    n, p = a.shape[-1], b.shape[-1]
    try:
        batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        raise InvalidValueError(
            "dwconv.dask: the batch shapes of a %s and b %s do not broadcast (axis %d is the "
            "signal axis)" % (a.shape[:-1], b.shape[:-1], ax), 1) from None
    if batch != a.shape[:-1]:
        raise InvalidValueError(
            "dwconv.dask: a's batch shape %s must be the full batch shape %s (b may broadcast "
            "against a, not a against b; broadcast a first with dask.array.broadcast_to)"
            % (a.shape[:-1], batch), 1)
    out_len = _api.output_len(mode_code, n, p)
    # b: one block along the signal axis, batch blocks aligned with a's (1 where broadcast)
    b_chunks = tuple(a.chunks[i] if b.shape[i] != 1 else (1,) for i in range(nd - 1)) + ((p,),)
    b = b.rechunk(b_chunks)
    in_chunks = a.chunks[-1]
    meta = dask.array.utils.meta_from_array(a._meta, nd, dtype=dt)
    token = dask.base.tokenize(a, b, op, mode, method, backend, threads, dt, math)
    name = "dwconv-%s-%s-%s" % (op, mode, token)
    params = (method, backend, threads, math)
    dsk = {}
    batch_blocks = [range(len(c)) for c in a.chunks[:-1]]
    if len(in_chunks) == 1:
        out_chunks = a.chunks[:-1] + ((out_len,),)
        for idx in np.ndindex(*[len(r) for r in batch_blocks]):
            bidx = tuple(i if b.shape[k] != 1 else 0 for k, i in enumerate(idx))
            dsk[(name,) + idx + (0,)] = (_whole_rows, (a.name,) + idx + (0,),
                                         (b.name,) + bidx + (0,), mode, op) + params + (dt,)
    else:
        out_chunks_sig = _output_chunks(in_chunks, out_len)
        out_chunks = a.chunks[:-1] + (out_chunks_sig,)
        starts = np.concatenate([[0], np.cumsum(in_chunks)]).astype(np.int64)
        s0 = {"full": 0, "same": (p - 1) // 2, "valid": min(n, p) - 1, "causal": 0}[mode]
        pieces = []
        j0 = 0
        for j, length in enumerate(out_chunks_sig):
            lo = j0 + s0 - (p - 1)   # first input sample the block reads (may be < 0)
            hi = j0 + length + s0    # one past the last (may be > n)
            pad_lo = max(0, -lo)
            pad_hi = max(0, hi - n)
            lo_c, hi_c = max(lo, 0), min(hi, n)
            ks, cuts = [], []
            if hi_c > lo_c:
                k0 = int(np.searchsorted(starts, lo_c, side="right") - 1)
                k1 = int(np.searchsorted(starts, hi_c, side="left") - 1)
                for k in range(k0, k1 + 1):
                    s = max(lo_c, starts[k]) - starts[k]
                    e = min(hi_c, starts[k + 1]) - starts[k]
                    if e > s:
                        ks.append(k)
                        cuts.append((int(s), int(e)))
            else:  # the window lies wholly outside the row: all zeros
                ks, cuts = [0], [(0, 0)]
                pad_lo, pad_hi = hi - lo, 0
            pieces.append((ks, cuts, pad_lo, pad_hi))
            j0 += length
        for idx in np.ndindex(*[len(r) for r in batch_blocks]):
            bidx = tuple(i if b.shape[k] != 1 else 0 for k, i in enumerate(idx))
            bkey = (b.name,) + bidx + (0,)
            for j, (ks, cuts, pad_lo, pad_hi) in enumerate(pieces):
                parts = [(a.name,) + idx + (k,) for k in ks]
                dsk[(name,) + idx + (j,)] = (_window, parts, cuts, pad_lo, pad_hi, bkey, op) \
                    + params + (dt,)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[a, b])
    out = da.Array(graph, name, out_chunks, meta=meta)
    return da.moveaxis(out, -1, ax) if ax != nd - 1 else out


def convolve(a, b, mode="full", *, axis=-1, method="auto", backend="auto", threads=None,
             math="ieee"):
    """Lazy ``dwconv.convolve`` of a Dask array: every signal of ``a`` along ``axis`` with its
    own kernel of ``b``.

    Parameters
    ----------
    a : dask.array.Array
        Signals; any chunking (along the signal axis too: each output block reads exactly the
        P - 1 samples of halo it needs from the neighbouring chunks). Its batch shape is the
        result's (``b`` broadcasts against ``a``).
    b : array (NumPy, CuPy) or dask.array.Array
        Kernels, usually small; its shape must be known when the graph is built.
    mode, axis, method, backend, math : as :func:`dwconv.convolve`.
    threads : int, optional
        CPU threads per task (default: cores divided by the Dask threads of the process).

    Returns
    -------
    dask.array.Array
        Lazy; shape, dtype and chunks known. Computing it equals ``dwconv.convolve(a, b, ...)``
        on the whole array (bitwise with ``method='direct'``).

    Raises
    ------
    TypeError, dwconv.InvalidValueError, dwconv.SizeOverflowError
        When the graph is built: bad dtype, mode, axis; batch shapes that do not broadcast;
        unknown chunk sizes; zero lengths.

    Examples
    --------
    >>> import numpy as np, dask.array as da, dwconv, dwconv.dask
    >>> a = da.from_array(np.arange(20.0).reshape(2, 10), chunks=(1, 4))
    >>> c = dwconv.dask.convolve(a, np.array([1.0, -1.0]), mode="same")
    >>> c.chunks
    ((1, 1), (4, 4, 2))
    >>> np.array_equal(c.compute(), dwconv.convolve(a.compute(), np.array([1.0, -1.0]), "same"))
    True
    """
    return _dispatch("convolve", a, b, mode, axis, method, backend, threads, math)


def correlate(a, b, mode="full", *, axis=-1, method="auto", backend="auto", threads=None,
              math="ieee"):
    """Lazy ``dwconv.correlate`` of a Dask array; as :func:`convolve` otherwise."""
    return _dispatch("correlate", a, b, mode, axis, method, backend, threads, math)
