#!/usr/bin/env python3
"""Compares `dwconv conv` with scipy.signal.convolve / correlate, row by row.

Inputs are written with NumPy itself (np.save and format versions 2.0 / 3.0 through
np.lib.format), outputs read with np.load, so this also checks that the program's .npy reader
and writer agree with NumPy. Covers every mode, convolve and correlate, float32 / float64 /
mixed dtypes, 1-D (broadcast) inputs, P > N, and both algorithms on a larger case.

usage: test_scipy.py DWCONV WORKDIR    (exit 77 = skipped: numpy or scipy missing)
"""
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    import scipy.signal as sg
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

DW, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
os.chdir(WORK)
rng = np.random.default_rng(7)
info = subprocess.run([DW, "info"], capture_output=True, text=True).stdout
ALGOS = ("direct", "fft") if any(l.startswith("FFTW:") and "yes" in l for l in info.splitlines()) else ("direct",)
failures = 0
runs = 0


def save(name, arr, version=None):
    if version is None:
        np.save(name, arr)
    else:
        with open(name, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


def expected(a, b, mode, correlate):
    """scipy on each row pair, with the CLI's broadcasting and dtype promotion."""
    dt = np.result_type(a.dtype, b.dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    fn = sg.correlate if correlate else sg.convolve
    if mode == "causal":  # not a scipy mode: the first N samples of full
        rows = lambda x, y: fn(x, y, "full", method="direct")[: x.shape[-1]]
    else:
        rows = lambda x, y: fn(x, y, mode, method="direct")
    if a.ndim == 1 and b.ndim == 1:
        return rows(a64, b64), dt
    m = a.shape[0] if a.ndim == 2 else b.shape[0]
    A = a64 if a.ndim == 2 else np.broadcast_to(a64, (m, a.shape[0]))
    B = b64 if b.ndim == 2 else np.broadcast_to(b64, (m, b.shape[0]))
    return np.vstack([rows(x, y) for x, y in zip(A, B)]), dt


def case(label, a, b, mode, correlate, extra=(), va=None, vb=None):
    global failures, runs
    runs += 1
    save("A.npy", a, va)
    save("B.npy", b, vb)
    cmd = [DW, "conv", "A.npy", "B.npy", "-o", "C.npy", "--mode", mode, "-q", *extra]
    if correlate:
        cmd.append("--correlate")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL {label}: exit {p.returncode}: {p.stderr.strip()}")
        failures += 1
        return
    c = np.load("C.npy")
    ref, dt = expected(a, b, mode, correlate)
    if c.dtype != dt or c.shape != ref.shape:
        print(f"FAIL {label}: got {c.dtype} {c.shape}, expected {dt} {ref.shape}")
        failures += 1
        return
    scale = np.max(np.abs(ref), axis=-1, keepdims=True)
    err = float(np.max(np.abs(c.astype(np.float64) - ref) / np.maximum(scale, 1e-300)))
    tol = 1e-11 if dt == np.float64 else 3e-5
    if not err <= tol:
        print(f"FAIL {label}: relative error {err:.3g} > {tol:g}")
        failures += 1


shapes = [(5, 64, 7), (3, 10, 20), (4, 33, 33), (2, 1, 5), (6, 17, 1)]
for (m, n, p) in shapes:
    for mode in ("full", "same", "valid", "causal"):
        for corr in (False, True):
            for ta, tb in ((np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64)):
                a = rng.standard_normal((m, n)).astype(ta)
                b = rng.standard_normal((m, p)).astype(tb)
                tag = f"{m}x{n} P={p} {mode} corr={corr} {a.dtype}/{b.dtype}"
                case(tag, a, b, mode, corr)
            a = rng.standard_normal((m, n)).astype(np.float32)
            case(f"1-D B {m}x{n} P={p} {mode} corr={corr}", a, rng.standard_normal(p).astype(np.float32), mode, corr)
            case(f"1-D A N={n} {m}xP={p} {mode} corr={corr}", rng.standard_normal(n),
                 rng.standard_normal((m, p)), mode, corr)
            case(f"1-D both N={n} P={p} {mode} corr={corr}", rng.standard_normal(n),
                 rng.standard_normal(p), mode, corr)

# Larger rows, both algorithms, small memory limit (several blocks), format versions 2 and 3.
a = rng.standard_normal((33, 5000)).astype(np.float32)
b = rng.standard_normal((33, 301)).astype(np.float32)
for mode in ("full", "same", "valid", "causal"):
    for algo in ALGOS:
        case(f"33x5000 P=301 {mode} {algo}", a, b, mode, False, ("--algo", algo, "--memory-limit", "512K"),
             va=(2, 0), vb=(3, 0))
        case(f"33x5000 P=301 {mode} {algo} correlate f64", a.astype(np.float64), b, mode, True,
             ("--algo", algo, "--memory-limit", "300K"))

print(f"scipy comparison: {runs} runs, {failures} failures")
sys.exit(1 if failures else 0)
