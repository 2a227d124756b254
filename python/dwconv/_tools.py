"""Library-wide calls: build information, FFT plan tuning and wisdom files."""
import operator
import os

import numpy as np

from . import _dwconv as _ext
from ._api import MODES, OPS, choice, thread_count
from ._errors import InvalidValueError, error_for


def info():
    """What this dwconv is and what it can use here.

    Returns
    -------
    dict
        ``version``; ``features`` (which of 'cuda', 'fftw', 'openmp' this build has);
        ``cpu_simd`` (the CPU direct kernel variant: 'avx512', 'avx2' or 'portable');
        ``gpus``: one dict per usable CUDA device with ``name``, ``compute_capability``,
        ``total_memory``, ``free_memory`` (bytes) and ``multiprocessors``.

    Examples
    --------
    >>> import dwconv
    >>> sorted(dwconv.info())
    ['cpu_simd', 'features', 'gpus', 'version']
    """
    f = _ext.build_features()
    features = [name for bit, name in ((_ext.FEATURE_CUDA, "cuda"), (_ext.FEATURE_FFTW, "fftw"),
                                       (_ext.FEATURE_OPENMP, "openmp")) if f & bit]
    gpus = []
    for i in range(_ext.cuda_device_count()):
        d = _ext.cuda_device_info(i)
        if d.pop("status") == 0:
            gpus.append(d)
    return {"version": _ext.version(), "features": features, "cpu_simd": _ext.cpu_simd(),
            "gpus": gpus}


def fft_tune(rows, signal_len, kernel_len, dtype="float32", mode="full", *, op="convolve",
             threads=None):
    """Makes measured FFTW plans (FFTW_MEASURE) for the CPU FFT lengths such a convolution
    uses; every later plan of those lengths in this process uses them. Takes 0.1 to a few
    seconds; pays for long kernels (transform lengths around 4096 and up). Keep the result
    across processes with :func:`fft_wisdom_export` / :func:`fft_wisdom_import`.

    Raises NotSupportedError in a build without FFTW."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError("dwconv: dtype must be float32 or float64, not %s" % dt)
    st = _ext.fft_tune(operator.index(rows), operator.index(signal_len),
                       operator.index(kernel_len), 0 if dt == np.float32 else 1,
                       choice(MODES, mode, "mode"), choice(OPS, op, "op"), thread_count(threads))
    if st:
        raise error_for(st)


_SOURCES = {0: "built-in", 1: "calibrated"}


def calibrate(path=None):
    """Measures the CPU cost model's constants on this machine (1-3 s; run it on a quiet
    machine) and saves them to ``path`` or, by default, where every later process finds them
    ($DWCONV_CALIBRATION, else the user's cache directory). Plans made afterwards choose the
    algorithm and FFT block length from them. Raises DwconvIOError when the file cannot be
    written."""
    st = _ext.calibrate(None if path is None else _path(path))
    if st:
        raise error_for(st)


def calibration_status():
    """Which cost-model constants CPU plans use: a dict with ``source`` ('built-in' or
    'calibrated'), ``path`` (the calibration file looked at), ``reason`` (why no file is used,
    '' when one is) and ``key`` (what a file must have been made for to be used here)."""
    d = _ext.calibration_status()
    st = d.pop("status")
    if st:
        raise error_for(st)
    d["source"] = _SOURCES.get(d["source"], d["source"])
    return d


def _path(path):
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise InvalidValueError("dwconv: path must be a str or os.PathLike, not %s"
                                % type(path).__name__, 1) from None


def fft_wisdom_export(path):
    """Writes this process's FFT wisdom (tuned plans) to ``path``, replacing it atomically.
    Raises DwconvIOError (an OSError) when the file cannot be written."""
    st = _ext.fft_wisdom_export(_path(path))
    if st:
        raise error_for(st)


def fft_wisdom_import(path):
    """Adds the tuned plans in ``path`` (written by :func:`fft_wisdom_export`) to this process.
    Raises DwconvIOError when the file cannot be read, InvalidValueError when it is not valid
    dwconv wisdom for this FFTW."""
    st = _ext.fft_wisdom_import(_path(path))
    if st:
        raise error_for(st)
