#!/usr/bin/env python3
"""dwconv against the implementations people use today, on the same data.

For every shape of the chosen suite this script
  1. draws A (M x N) and B (M x P) with numpy (fixed seed), writes them as raw files;
  2. runs bench_dwconv on those files (subprocess, JSON): "oneshot" (dwconv_convolve: plan +
     kernel + execute) and "reuse" (execute on an existing plan) timings, and dwconv's output C;
  3. times each available peer on the same arrays (warm-up, repeats, median; time-bounded for
     slow peers) and keeps its output;
  4. checks every output (dwconv's and each peer's) against a float64 reference (scipy
     fftconvolve of the inputs promoted to float64, or a numpy row loop for tiny shapes):
     relative L2 error must be < 1e-4 (float32) / 1e-10 (float64), else the row is flagged
     WRONG and it can never be "best" or count for a speed-up;
  5. prints a table per shape (and a summary), writes JSON (--json), Markdown (--md) and PNG
     plots (--plots PREFIX; needs matplotlib).

Ratios: "x dwconv" = peer median time / dwconv reuse median time (so 3.0x means dwconv is 3
times faster than that peer; < 1 means the peer is faster). The oneshot ratio uses dwconv's
oneshot median instead. Peers that cannot be imported are listed as "not available", never
dropped silently.

Usage: bench/peers.py [--bench PATH] [--shapes core|suite|NAME[,NAME..]] [--quick] [--gpu]
                      [--repeat R] [--threads T] [--json FILE] [--md FILE] [--plots PREFIX]
See bench/README.md.
"""
import argparse
import datetime
import fnmatch
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOL = {"float32": 1e-4, "float64": 1e-10}


# --------------------------------------------------------------------------- shapes

def make_suite():
    """All shapes; 'group' selects them (core = the core acceptance shapes)."""
    shapes = []

    def add(name, group, M, N, P, dtype, mode):
        shapes.append(dict(name=name, group=group, M=M, N=N, P=P, dtype=dtype, mode=mode))

    for dt, tag in (("float64", "f64"), ("float32", "f32")):
        add(f"seed-{tag}", "seed", 4, 10, 20, dt, "full")
    for dt, tag in (("float32", "f32"), ("float64", "f64")):
        for P in (3, 15, 63, 255, 1023, 4095):
            add(f"core-P{P}-{tag}", "core" if dt == "float32" else "core64", 256, 16384, P, dt, "same")
    for dt, tag in (("float32", "f32"), ("float64", "f64")):
        add(f"long-{tag}", "long", 1024, 8192, 8192, dt, "same")
    for dt, tag in (("float32", "f32"), ("float64", "f64")):
        add(f"rows-{tag}", "rows", 65536, 1024, 31, dt, "same")
    return shapes


def select_shapes(spec):
    suite = make_suite()
    if spec == "suite":
        return suite
    if spec == "core":
        return [s for s in suite if s["group"] == "core"]
    out = []
    for pat in spec.split(","):
        hit = [s for s in suite if fnmatch.fnmatch(s["name"], pat) or s["group"] == pat]
        if not hit:
            # ad-hoc shape: MxNxP[:dtype[:mode]], e.g. 64x4096x127:f32:same
            try:
                dims, *rest = pat.split(":")
                M, N, P = (int(float(x)) for x in dims.lower().split("x"))
                dt = {"f32": "float32", "f64": "float64"}.get(rest[0] if rest else "f32",
                                                              rest[0] if rest else "float32")
                mode = rest[1] if len(rest) > 1 else "same"
                hit = [dict(name=pat, group="custom", M=M, N=N, P=P, dtype=dt, mode=mode)]
            except Exception:
                sys.exit(f"peers.py: unknown shape '{pat}'; known: core, suite, "
                         + ", ".join(sorted({s['group'] for s in suite})) + ", "
                         + ", ".join(s["name"] for s in suite) + ", or MxNxP[:f32|f64[:mode]]")
        out += [s for s in hit if s not in out]
    return out


def out_geometry(mode, N, P):
    """(offset into the full convolution, output length), scipy's rules."""
    if mode == "full":
        return 0, N + P - 1
    if mode == "same":
        return (P - 1) // 2, N
    if mode == "valid":
        return min(N, P) - 1, max(N, P) - min(N, P) + 1
    if mode == "causal":
        return 0, N
    raise ValueError(mode)


def slice_full(full, mode, N, P):
    off, n = out_geometry(mode, N, P)
    return full[..., off:off + n]


# --------------------------------------------------------------------------- timing

VERY_SLOW_S = 3.0  # a warm-up call longer than max(this, 3 x budget) is used as the sample


def time_fn(fn, warmup, repeat, budget, sync=None):
    """Warm-up calls, then up to `repeat` timed calls; stops early once `budget` seconds of
    timed calls are spent (at least one sample). A warm-up call that alone exceeds the budget
    ends the warm-up; one that exceeds max(VERY_SLOW_S, 3 x budget) is itself the only sample
    (first-call effects are negligible at that length; keeps the suite short).
    Returns (samples in seconds, last output, cold) with cold True in that last case."""
    out = None
    for _ in range(warmup):
        t0 = time.perf_counter()
        out = fn()
        if sync:
            sync()
        dt = time.perf_counter() - t0
        if dt > max(VERY_SLOW_S, 3 * budget):
            return [dt], out, True
        if dt > budget:
            break
    samples = []
    start = time.perf_counter()
    while len(samples) < repeat:
        out = None  # let the previous output go before the next call allocates
        t0 = time.perf_counter()
        out = fn()
        if sync:
            sync()
        samples.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget:
            break
    return samples, out, False


def stats_ms(samples):
    s = sorted(samples)
    n = len(s)
    med = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    return dict(n=n, median_ms=1e3 * med, min_ms=1e3 * s[0], max_ms=1e3 * s[-1],
                samples_ms=[round(1e3 * x, 6) for x in samples])


def rel_l2(x, ref, chunk_rows=4096):
    """||x - ref|| / ||ref|| in float64, by row blocks (bounded temporaries)."""
    if x is None or x.shape != ref.shape:
        return float("inf")
    num = den = 0.0
    for i in range(0, ref.shape[0], chunk_rows):
        r = ref[i:i + chunk_rows].astype(np.float64, copy=False)
        d = x[i:i + chunk_rows].astype(np.float64) - r
        num += float(np.vdot(d, d))
        den += float(np.vdot(r, r))
    if not math.isfinite(num):
        return float("inf")
    return math.sqrt(num / den) if den > 0 else math.sqrt(num)


# --------------------------------------------------------------------------- peers (CPU)

class Unavailable(Exception):
    pass


def peer_numpy_loop(A, B, mode, threads):
    N, P = A.shape[1], B.shape[1]
    # numpy's own modes where they equal scipy's (numpy 'same' has length max(N, P))
    native = mode in ("full", "valid") or (mode == "same" and N >= P)
    off, n = out_geometry(mode, N, P)

    def run():
        C = np.empty((A.shape[0], n), dtype=A.dtype)
        if native:
            for m in range(A.shape[0]):
                C[m] = np.convolve(A[m], B[m], mode)
        else:
            for m in range(A.shape[0]):
                C[m] = np.convolve(A[m], B[m], "full")[off:off + n]
        return C
    return run, 1  # a Python row loop is single-threaded


def _scipy_peer(fname):
    def make(A, B, mode, threads):
        import scipy.fft
        import scipy.signal
        f = getattr(scipy.signal, fname)
        N = A.shape[1]
        smode = "full" if mode == "causal" else mode

        def run():
            with scipy.fft.set_workers(threads):
                C = f(A, B, mode=smode, axes=1)
            if mode == "causal":
                C = C[:, :N]
            return C
        return run, threads
    return make


def _torch_cpu(kind):
    def make(A, B, mode, threads):
        try:
            import torch
        except Exception as e:
            raise Unavailable(f"torch not importable ({type(e).__name__}: {e})")
        torch.set_num_threads(threads)
        a, b = torch.from_numpy(A), torch.from_numpy(B)
        run = _torch_fn(torch, kind, a, b, mode)
        return (lambda: run().numpy()), threads
    return make


def _torch_fn(torch, kind, a, b, mode):
    """conv1d: F.conv1d(A[None], flip(B)[:, None, :], groups=M, padding) then slice the mode.
    fft: rfft/irfft of length next_fast_len(N + P - 1), product, slice."""
    import torch.nn.functional as F
    M, N = a.shape
    P = b.shape[1]
    if kind == "conv1d":
        w = torch.flip(b, [1])[:, None, :].contiguous()
        if mode == "valid" and N >= P:
            pad, sl = 0, None
        elif mode == "same" and P % 2 == 1:
            pad, sl = (P - 1) // 2, None
        else:
            pad, sl = P - 1, mode

        def run():
            y = F.conv1d(a[None], w, groups=M, padding=pad)[0]
            return slice_full(y, sl, N, P) if sl else y
        return run
    import scipy.fft
    L = scipy.fft.next_fast_len(N + P - 1, real=True)

    def run():
        fb = torch.fft.rfft(b, n=L)  # part of the call: B is an input
        y = torch.fft.irfft(torch.fft.rfft(a, n=L) * fb, n=L)
        return slice_full(y, mode, N, P)
    return run


# Peers whose cost is M x out_len x P multiply-adds however long the kernel (a direct sum):
# above SUBSET_MACS they run on the first rows only and their times are scaled by M / rows
# (rows are independent, so the cost is linear in them); the tables say so. Otherwise one
# call of torch conv1d on the long shape takes 40-50 s here and the suite blows its 10 min.
DIRECT_PEERS = ("numpy.convolve loop", "torch conv1d (cpu)")
SUBSET_MACS = 2e9

CPU_PEERS = [
    ("numpy.convolve loop", peer_numpy_loop),
    ("scipy fftconvolve", _scipy_peer("fftconvolve")),
    ("scipy oaconvolve", _scipy_peer("oaconvolve")),
    ("torch conv1d (cpu)", _torch_cpu("conv1d")),
    ("torch fft (cpu)", _torch_cpu("fft")),
]


# --------------------------------------------------------------------------- peers (GPU)

def _gpu_torch(kind, resident):
    def make(A, B, mode, threads):
        try:
            import torch
        except Exception as e:
            raise Unavailable(f"torch not importable ({type(e).__name__}: {e})")
        if not torch.cuda.is_available():
            raise Unavailable("torch.cuda.is_available() is False")
        dev = torch.device("cuda")
        sync = torch.cuda.synchronize
        if resident:
            a, b = torch.from_numpy(A).to(dev), torch.from_numpy(B).to(dev)
            f = _torch_fn(torch, kind, a, b, mode)
            return f, sync, (lambda y: y.cpu().numpy())
        # host arrays in, host array out: includes both copies (like dwconv's driver)
        Ah, Bh = torch.from_numpy(A).pin_memory(), torch.from_numpy(B).pin_memory()

        def run():
            a, b = Ah.to(dev, non_blocking=True), Bh.to(dev, non_blocking=True)
            return _torch_fn(torch, kind, a, b, mode)().cpu().numpy()
        return run, sync, None
    return make


def _gpu_cupy(fname, resident):
    def make(A, B, mode, threads):
        try:
            import cupy
            import cupyx.scipy.signal as cs
        except Exception as e:
            raise Unavailable(f"cupy/cupyx not importable ({type(e).__name__}: {e})")
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise Unavailable("no CUDA device for cupy")
        f = getattr(cs, fname)
        N = A.shape[1]
        smode = "full" if mode == "causal" else mode
        sync = cupy.cuda.Device().synchronize

        def conv(a, b):
            y = f(a, b, mode=smode, axes=1)
            return y[:, :N] if mode == "causal" else y
        if resident:
            a, b = cupy.asarray(A), cupy.asarray(B)
            return (lambda: conv(a, b)), sync, cupy.asnumpy
        return (lambda: cupy.asnumpy(conv(cupy.asarray(A), cupy.asarray(B)))), sync, None
    return make


GPU_PEERS = [
    ("torch conv1d (gpu, dev)", _gpu_torch("conv1d", True)),
    ("torch conv1d (gpu, host)", _gpu_torch("conv1d", False)),
    ("torch fft (gpu, dev)", _gpu_torch("fft", True)),
    ("torch fft (gpu, host)", _gpu_torch("fft", False)),
    ("cupyx fftconvolve (dev)", _gpu_cupy("fftconvolve", True)),
    ("cupyx fftconvolve (host)", _gpu_cupy("fftconvolve", False)),
    ("cupyx oaconvolve (dev)", _gpu_cupy("oaconvolve", True)),
    ("cupyx oaconvolve (host)", _gpu_cupy("oaconvolve", False)),
]


# --------------------------------------------------------------------------- machine info

def run_text(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
    except Exception:
        return ""


def machine_info():
    lscpu = {}
    for line in run_text(["lscpu"]).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            lscpu[k.strip()] = v.strip()
    try:
        cores = int(lscpu.get("Core(s) per socket", "0")) * int(lscpu.get("Socket(s)", "1"))
    except ValueError:
        cores = 0
    info = dict(
        date_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        host=platform.node(),
        cpu_model=lscpu.get("Model name", platform.processor()),
        cpus=os.cpu_count(), cores=cores or None,
        threads_per_core=lscpu.get("Thread(s) per core"),
        cpu_flags_avx512="avx512f" in lscpu.get("Flags", ""),
        os=platform.platform(), python=platform.python_version(), numpy=np.__version__,
        git_commit=run_text(["git", "rev-parse", "--short", "HEAD"]) or None,
        git_dirty=bool(run_text(["git", "status", "--porcelain", "--untracked-files=no"])),
        loadavg_start=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    )
    try:
        import scipy
        info["scipy"] = scipy.__version__
    except Exception:
        info["scipy"] = None
    for mod in ("torch", "cupy"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            info[mod] = None
    return info


# --------------------------------------------------------------------------- dwconv runner

def find_bench(path):
    cands = [path] if path else [os.path.join(ROOT, d, "bench", "bench_dwconv")
                                 for d in ("build-bench", "build")]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("peers.py: bench_dwconv not found (build it: bench/run.sh, or give --bench PATH)")


def run_bench(bench, args, timeout=900):
    """Runs bench_dwconv with --json -, returns the parsed JSON (or {'error': ...})."""
    cmd = [bench] + [str(a) for a in args] + ["--json", "-"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    try:
        res = json.loads(p.stdout)
    except json.JSONDecodeError:
        res = {"error": (p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}")[-500:]}
    if p.returncode != 0 and "error" not in res:
        res["error"] = f"exit {p.returncode}: {p.stderr.strip()[-300:]}"
    return res


def memcpy_bandwidth(bench, threads, repeat):
    r = run_bench(bench, ["--memcpy", "--threads", threads, "--repeat", repeat, "--warmup", 2,
                          "--bytes", 256 << 20])
    return r


# --------------------------------------------------------------------------- one shape

def _numpy_fftconvolve(A64, B64):
    """Full convolution of each row pair with numpy's real FFT (float64), in blocks of rows so
    the spectra stay within about 256 MiB: the reference when scipy is not installed."""
    M, N = A64.shape
    P = B64.shape[1]
    L = N + P - 1
    n = 1 << max(0, (L - 1).bit_length())  # a power of two: numpy's FFT is fastest there
    rows = max(1, (256 << 20) // (16 * (n // 2 + 1) * 3))
    full = np.empty((M, L))
    for r in range(0, M, rows):
        fa = np.fft.rfft(A64[r:r + rows], n, axis=1)
        fb = np.fft.rfft(B64[r:r + rows] if B64.shape[0] > 1 else B64, n, axis=1)
        full[r:r + rows] = np.fft.irfft(fa * fb, n, axis=1)[:, :L]
    return full


def reference(A, B, mode):
    N, P = A.shape[1], B.shape[1]
    A64, B64 = A.astype(np.float64), B.astype(np.float64)
    if A.shape[0] * N * P <= 1 << 22:
        full = np.stack([np.convolve(A64[m], B64[m]) for m in range(A.shape[0])])
    else:
        try:
            import scipy.signal
        except ImportError:  # the reference must not need scipy (a GPU machine may lack it)
            full = _numpy_fftconvolve(A64, B64)
        else:
            full = scipy.signal.fftconvolve(A64, B64, mode="full", axes=1)
    return np.ascontiguousarray(slice_full(full, mode, N, P))


def bench_shape(shape, opt, bench, tmpdir, backends, log0):
    log = log0 if opt.verbose else (lambda msg: None)
    M, N, P, dt, mode = shape["M"], shape["N"], shape["P"], shape["dtype"], shape["mode"]
    rng = np.random.default_rng(opt.seed)
    A = rng.standard_normal((M, N), dtype=np.float64).astype(dt)
    B = rng.standard_normal((M, P), dtype=np.float64).astype(dt)
    fa, fb, fc = (os.path.join(tmpdir, x) for x in ("a.bin", "b.bin", "c.bin"))
    A.tofile(fa)
    B.tofile(fb)
    ref = reference(A, B, mode)
    _, out_len = out_geometry(mode, N, P)
    tol = TOL[dt]
    res = dict(shape=shape, output_len=out_len, tolerance=tol, backends={})

    for backend in backends:
        rows = []
        bres = dict(dwconv=None, peers=rows)
        res["backends"][backend] = bres
        # ---- dwconv
        def dwconv_run(*extra):
            """bench_dwconv on this shape's files (plus `extra` options); C read back and
            checked against the reference (rel_l2_error, wrong)."""
            if os.path.exists(fc):
                os.remove(fc)
            r = run_bench(bench, ["--rows", M, "--signal", N, "--kernel", P,
                                  "--dtype", "f64" if dt == "float64" else "f32", "--mode", mode,
                                  "--backend", backend, "--threads", opt.bench_threads,
                                  "--repeat", opt.repeat, "--warmup", opt.warmup,
                                  "--max-time", opt.budget, "--input-a", fa, "--input-b", fb,
                                  "--out", fc, *extra])
            if "error" not in r:
                C = np.fromfile(fc, dtype=dt)
                C = C.reshape(M, out_len) if C.size == M * out_len else None
                r["rel_l2_error"] = rel_l2(C, ref)
                r["wrong"] = not (r["rel_l2_error"] < tol)
                del C
            return r

        j = dwconv_run()
        bres["dwconv"] = j
        # ---- dwconv again with tuned FFT plans (dwconv_fft_tune wisdom, made untimed first)
        if (opt.fft_tuned and backend == "cpu" and "error" not in j and j["plan"]["algo"] == "fft"):
            jt = dwconv_run("--fft-wisdom", os.path.join(tmpdir, "fft.wisdom"))
            bres["dwconv_tuned"] = jt
            log(f"  {backend} dwconv tuned: " + (f"reuse {jt['reuse']['median_ms']:.3f} ms, oneshot "
                                                 f"{jt['oneshot']['median_ms']:.3f} ms"
                                                 if "error" not in jt else f"ERROR {jt['error']}"))
        # ---- CUDA: dwconv again on device-resident A/B/C (CUDA-event timing), the figure to
        # set against the GPU peers' "(dev)" rows
        if backend == "cuda" and "error" not in j:
            bres["dwconv_dev"] = dwconv_run("--device-data")
        log(f"  {backend} dwconv: " + (f"reuse {j['reuse']['median_ms']:.3f} ms, oneshot "
                                       f"{j['oneshot']['median_ms']:.3f} ms, err {j['rel_l2_error']:.1e}"
                                       if "error" not in j else f"ERROR {j['error']}"))
        # ---- peers
        peers = CPU_PEERS if backend == "cpu" else GPU_PEERS
        for name, make in peers:
            row = dict(name=name)
            rows.append(row)
            sub = M
            if name in DIRECT_PEERS and float(M) * out_len * P > SUBSET_MACS:
                sub = max(1, int(SUBSET_MACS / (float(out_len) * P)))
                row["rows_timed"] = sub
            try:
                made = make(A[:sub], B[:sub], mode, opt.peer_threads)
            except Unavailable as e:
                row["available"] = False
                row["reason"] = str(e)
                continue
            except Exception as e:  # a peer that cannot be set up is reported, not dropped
                row["available"] = False
                row["reason"] = f"{type(e).__name__}: {e}"
                continue
            if backend == "cpu":
                fn, threads = made
                sync, fetch = None, None
            else:
                fn, sync, fetch = made
                threads = None
            row["available"] = True
            row["threads"] = threads
            slow = opt.slow_budget if name.startswith("numpy") else opt.budget
            try:
                samples, out, cold = time_fn(fn, opt.warmup, opt.repeat, slow, sync)
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"
                log(f"  {backend} {name}: ERROR {row['error']}")
                continue
            if fetch is not None:
                out = fetch(out)
            samples = [t * M / sub for t in samples]  # sub < M: scaled to all rows
            row.update(stats_ms(samples))
            row["cold"] = cold
            row["rel_l2_error"] = rel_l2(np.asarray(out), ref[:sub])
            row["wrong"] = not (row["rel_l2_error"] < tol)
            del out
            log(f"  {backend} {name}: {row['median_ms']:.3f} ms (n={row['n']}), "
                f"err {row['rel_l2_error']:.1e}")
        # ---- ratios, best peer, memory floor
        ok = [r for r in rows if r.get("available") and "median_ms" in r and not r["wrong"]]
        dw_ok = "error" not in j and not j["wrong"]
        if dw_ok:
            for r in rows:
                if "median_ms" in r:
                    r["ratio_vs_reuse"] = r["median_ms"] / j["reuse"]["median_ms"]
                    r["ratio_vs_oneshot"] = r["median_ms"] / j["oneshot"]["median_ms"]
        if ok:
            best = min(ok, key=lambda r: r["median_ms"])
            best["best"] = True
            bres["best_peer"] = best["name"]
            bres["best_peer_ms"] = best["median_ms"]
            if dw_ok:
                bres["speedup_reuse"] = best["median_ms"] / j["reuse"]["median_ms"]
                bres["speedup_oneshot"] = best["median_ms"] / j["oneshot"]["median_ms"]
            jd = bres.get("dwconv_dev")
            dev_ok = [r for r in ok if r["name"].endswith("dev)")]  # "(dev)", "(gpu, dev)"
            if jd and "error" not in jd and not jd["wrong"] and dev_ok:
                bd = min(dev_ok, key=lambda r: r["median_ms"])
                bres["best_dev_peer"] = bd["name"]
                bres["speedup_reuse_dev"] = bd["median_ms"] / jd["reuse"]["median_ms"]
                bres["speedup_oneshot_dev"] = bd["median_ms"] / jd["oneshot"]["median_ms"]
            jt = bres.get("dwconv_tuned")
            if jt and "error" not in jt and not jt["wrong"]:
                bres["speedup_reuse_tuned"] = best["median_ms"] / jt["reuse"]["median_ms"]
                bres["speedup_oneshot_tuned"] = best["median_ms"] / jt["oneshot"]["median_ms"]
        if "error" not in j and opt.memcpy_gbs:
            moved = j["bytes"]["a"] + j["bytes"]["b"] + j["bytes"]["c"]
            floor_ms = moved / (opt.memcpy_gbs * 1e9) * 1e3
            bres["memory_floor"] = dict(bytes_moved=moved, memcpy_gb_per_s=opt.memcpy_gbs,
                                        floor_ms=floor_ms,
                                        fraction_reuse=floor_ms / j["reuse"]["median_ms"],
                                        fraction_oneshot=floor_ms / j["oneshot"]["median_ms"])
    for f in (fa, fb, fc):
        if os.path.exists(f):
            os.remove(f)
    return res


# --------------------------------------------------------------------------- report

def fmt_ms(x):
    return "-" if x is None else (f"{x:.4f}" if x < 0.1 else f"{x:.3f}" if x < 100 else f"{x:.1f}")


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def shape_title(s):
    return f"{s['name']}: M={s['M']} N={s['N']} P={s['P']} {s['mode']} {s['dtype']}"


def shape_rows(res, backend):
    """Table rows: (impl, threads, median, min, n, err, ratio reuse, ratio oneshot, note)."""
    b = res["backends"][backend]
    out = []

    def run_rows(j, name, suffix, threads_and_note):
        """An ERROR row for a failed dwconv run, else its reuse and one-shot rows; the threads
        column and the note come from threads_and_note(j) (it may read j's plan)."""
        if "error" in j:
            out.append((name, "-", None, None, "-", "-", None, None, "ERROR: " + j["error"][:80]))
            return
        threads, note = threads_and_note(j)
        note = ("WRONG " if j["wrong"] else "") + note
        for kind in ("reuse", "oneshot"):
            st = j[kind]
            out.append((f"dwconv {kind}{suffix}", threads, st["median_ms"], st["min_ms"], str(st["n"]),
                        f"{j['rel_l2_error']:.1e}", None, None, note))

    def main_note(j):
        pl = j["plan"]
        info = f"{pl['algo']} {pl['simd']}" + (f" L={pl['block_len']}" if pl["block_len"] else "")
        return str(pl["threads"]), info + (" (host data, wall clock)" if backend == "cuda" else "")

    def dev_note(j):
        note = "device-resident A/B/C; reuse: CUDA events"
        if b.get("best_dev_peer"):
            note += (f"; vs {b['best_dev_peer']}: {b['speedup_reuse_dev']:.2f}x reuse, "
                     f"{b['speedup_oneshot_dev']:.2f}x one-shot")
        return "-", note

    run_rows(b["dwconv"], "dwconv", "", main_note)
    if b.get("dwconv_dev") is not None:
        run_rows(b["dwconv_dev"], "dwconv dev", " (dev)", dev_note)
    if b.get("dwconv_tuned") is not None:
        run_rows(b["dwconv_tuned"], "dwconv tuned", " tuned",
                 lambda j: (str(j["plan"]["threads"]), "tuned FFT plans (dwconv_fft_tune, untimed)"))
    for r in b["peers"]:
        if not r.get("available"):
            out.append((r["name"], "-", None, None, "-", "-", None, None,
                        "not available: " + r.get("reason", "")[:70]))
        elif "error" in r:
            out.append((r["name"], "-", None, None, "-", "-", None, None, "ERROR: " + r["error"][:70]))
        else:
            note = ("WRONG" if r["wrong"] else "") + ("<- best peer" if r.get("best") else "")
            if r.get("rows_timed"):
                note += f" timed on {r['rows_timed']} of {res['shape']['M']} rows, scaled"
            out.append((("* " if r.get("best") else "") + r["name"],
                        str(r["threads"]) if r["threads"] else "-", r["median_ms"], r["min_ms"],
                        f"{r['n']}c" if r.get("cold") else str(r["n"]), f"{r['rel_l2_error']:.1e}", r.get("ratio_vs_reuse"),
                        r.get("ratio_vs_oneshot"), note))
    return out


HEAD = ("implementation", "thr", "median ms", "min ms", "runs", "rel.err", "x reuse", "x oneshot", "note")


def floor_line(res, backend):
    mf = res["backends"][backend].get("memory_floor")
    if not mf:
        return None
    return (f"memory floor: {mf['bytes_moved'] / 1e6:.1f} MB moved (A read + B + C written) / "
            f"{mf['memcpy_gb_per_s']:.1f} GB/s memcpy = {mf['floor_ms']:.3f} ms; dwconv reuse reaches "
            f"{100 * mf['fraction_reuse']:.0f}% of it (oneshot {100 * mf['fraction_oneshot']:.0f}%)")


def print_shape(res, backend, out=sys.stdout):
    s = res["shape"]
    print(f"\n== [{backend}] {shape_title(s)}  (tolerance {res['tolerance']:g})", file=out)
    rows = [tuple("" if v is None else v for v in HEAD)]
    for r in shape_rows(res, backend):
        rows.append((r[0], r[1], fmt_ms(r[2]), fmt_ms(r[3]), r[4], r[5],
                     "" if r[6] is None else fmt_ratio(r[6]), "" if r[7] is None else fmt_ratio(r[7]), r[8]))
    w = [max(len(r[i]) for r in rows) for i in range(len(HEAD) - 1)]
    for r in rows:
        print("  " + "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                               for i, c in enumerate(r[:-1])) + "  " + r[-1], file=out)
    if s["P"] == 3 or s["group"] == "rows":
        line = floor_line(res, backend)
        if line:
            print("  " + line, file=out)


def summary_rows(results, backend):
    rows = []
    for res in results:
        b = res["backends"].get(backend)
        if not b:
            continue
        j = b["dwconv"]
        rows.append(dict(
            shape=res["shape"]["name"],
            algo="-" if "error" in j else j["plan"]["algo"],
            oneshot=None if "error" in j else j["oneshot"]["median_ms"],
            reuse=None if "error" in j else j["reuse"]["median_ms"],
            best=b.get("best_peer", "-"), best_ms=b.get("best_peer_ms"),
            speedup=b.get("speedup_reuse"), speedup1=b.get("speedup_oneshot"),
            speedup_t=b.get("speedup_reuse_tuned"), speedup1_t=b.get("speedup_oneshot_tuned"),
            status="ERROR" if "error" in j else "WRONG" if j.get("wrong") else "ok"))
    return rows


def print_summary(results, backend, out=sys.stdout):
    rows = summary_rows(results, backend)
    if not rows:
        return
    print(f"\n== summary [{backend}]: speed-up = best peer median / dwconv median", file=out)
    hdr = ("shape", "algo", "oneshot ms", "reuse ms", "best peer", "peer ms", "x reuse", "x oneshot",
           "x reuse tuned", "x oneshot tuned", "dwconv")
    tab = [hdr] + [(r["shape"], r["algo"], fmt_ms(r["oneshot"]), fmt_ms(r["reuse"]), r["best"],
                    fmt_ms(r["best_ms"]), fmt_ratio(r["speedup"]), fmt_ratio(r["speedup1"]),
                    fmt_ratio(r["speedup_t"]), fmt_ratio(r["speedup1_t"]), r["status"])
                   for r in rows]
    w = [max(len(t[i]) for t in tab) for i in range(len(hdr))]
    for t in tab:
        print("  " + "  ".join(c.ljust(w[i]) if i in (0, 1, 4) else c.rjust(w[i])
                               for i, c in enumerate(t)), file=out)


def markdown(doc):
    m = doc["machine"]
    L = [f"# dwconv benchmark {m['date_utc']} on {m['host']}", "",
         f"- CPU: {m['cpu_model']}, {m['cpus']} logical CPUs ({m['cores']} cores); "
         f"load average at start {m['loadavg_start'] or 0:.2f}, at end {m.get('loadavg_end') or 0:.2f}",
         f"- dwconv commit {m['git_commit']}{' (+ uncommitted changes)' if m['git_dirty'] else ''}; "
         f"numpy {m['numpy']}, scipy {m['scipy']}, torch {m['torch'] or 'not available'}, "
         f"cupy {m['cupy'] or 'not available'}",
         f"- options: {doc['options']}",
         f"- memcpy bandwidth: {doc.get('memcpy', {}).get('gb_per_s', 'n/a')} GB/s at the start, "
         f"{doc.get('memcpy_end', {}).get('gb_per_s', 'n/a')} GB/s at the end "
         f"((bytes read + written) / median time, {doc.get('memcpy', {}).get('threads', '?')} threads, "
         f"256 MiB buffers); memory floors use the start figure",
         "- times are medians; `x reuse` = peer median / dwconv reuse median (> 1: dwconv faster); "
         "`x oneshot` the same against dwconv's oneshot (plan + kernel + execute) median. "
         "rel.err = relative L2 error against a float64 reference; WRONG rows "
         "(error >= 1e-4 f32 / 1e-10 f64) never count as best. `tuned` = dwconv run again with "
         "FFTW_MEASURE plans made by dwconv_fft_tune before the timings (bench_dwconv --fft-wisdom; "
         "FFT shapes only; default plans are FFTW_ESTIMATE).", ""]
    for backend in doc["backends"]:
        rows = summary_rows(doc["results"], backend)
        if not rows:
            continue
        L += [f"## Summary ({backend})", "",
              "| shape | dwconv algo | oneshot ms | reuse ms | best peer | peer ms | x reuse | x oneshot "
              "| x reuse tuned | x oneshot tuned | dwconv |",
              "|---|---|--:|--:|---|--:|--:|--:|--:|--:|---|"]
        for r in rows:
            L.append(f"| {r['shape']} | {r['algo']} | {fmt_ms(r['oneshot'])} | {fmt_ms(r['reuse'])} | "
                     f"{r['best']} | {fmt_ms(r['best_ms'])} | {fmt_ratio(r['speedup'])} | "
                     f"{fmt_ratio(r['speedup1'])} | {fmt_ratio(r['speedup_t'])} | "
                     f"{fmt_ratio(r['speedup1_t'])} | {r['status']} |")
        L.append("")
        for res in doc["results"]:
            if backend not in res["backends"]:
                continue
            L += [f"### [{backend}] {shape_title(res['shape'])}", "",
                  "| " + " | ".join(HEAD) + " |", "|---|--:|--:|--:|--:|--:|--:|--:|---|"]
            for r in shape_rows(res, backend):
                name = f"**{r[0][2:]}**" if r[0].startswith("* ") else r[0]
                L.append(f"| {name} | {r[1]} | {fmt_ms(r[2])} | {fmt_ms(r[3])} | {r[4]} | {r[5]} | "
                         f"{'' if r[6] is None else fmt_ratio(r[6])} | "
                         f"{'' if r[7] is None else fmt_ratio(r[7])} | {r[8]} |")
            line = floor_line(res, backend) if (res["shape"]["P"] == 3 or res["shape"]["group"] == "rows") else None
            if line:
                L += ["", line]
            L.append("")
    return "\n".join(L) + "\n"


def plots(doc, prefix, log):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        log("plots: matplotlib is not importable, no PNG written (pip install matplotlib)")
        return []
    written = []
    for backend in doc["backends"]:
        # throughput vs P over the shapes that share (M, N, mode, dtype) and vary P
        groups = {}
        for res in doc["results"]:
            s = res["shape"]
            if backend in res["backends"]:
                groups.setdefault((s["dtype"], s["M"], s["N"], s["mode"]), []).append(res)
        groups = {k: v for k, v in groups.items() if len({r["shape"]["P"] for r in v}) >= 2}
        if not groups:
            log(f"plots [{backend}]: no shape family with several kernel lengths (use --shapes core or suite)")
            continue
        fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 4.8), squeeze=False)
        for ax, ((dt, M, N, mode), rs) in zip(axes[0], sorted(groups.items())):
            rs = sorted(rs, key=lambda r: r["shape"]["P"])
            series = {}
            for res in rs:
                P = res["shape"]["P"]
                samples = res["shape"]["M"] * res["output_len"]
                b = res["backends"][backend]
                j = b["dwconv"]
                if "error" not in j and not j["wrong"]:
                    for kind in ("reuse", "oneshot"):
                        series.setdefault(f"dwconv {kind}", []).append(
                            (P, samples / (j[kind]["median_ms"] * 1e-3) * 1e-9))
                jt = b.get("dwconv_tuned")
                if jt and "error" not in jt and not jt["wrong"]:
                    for kind in ("reuse", "oneshot"):
                        series.setdefault(f"dwconv {kind} tuned", []).append(
                            (P, samples / (jt[kind]["median_ms"] * 1e-3) * 1e-9))
                for r in b["peers"]:
                    if "median_ms" in r and not r["wrong"]:
                        series.setdefault(r["name"], []).append((P, samples / (r["median_ms"] * 1e-3) * 1e-9))
            floor = [(r["shape"]["P"], r["shape"]["M"] * r["output_len"] /
                      (r["backends"][backend]["memory_floor"]["floor_ms"] * 1e-3) * 1e-9)
                     for r in rs if "memory_floor" in r["backends"][backend]]
            if backend == "cpu" and floor:
                xs, ys = zip(*floor)
                ax.plot(xs, ys, color="gray", ls=":", lw=1.5, label="memory floor (memcpy bandwidth)")
            for name, pts in series.items():
                xs, ys = zip(*pts)
                style = dict(lw=2.5, marker="o") if name.startswith("dwconv") else dict(lw=1.2, marker=".")
                if name.startswith("dwconv oneshot"):
                    style["ls"] = "--"
                if name.endswith("tuned"):
                    style.update(lw=1.5, marker="^")
                ax.plot(xs, ys, label=name, **style)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("kernel length P")
            ax.set_ylabel("output samples / s  (G)")
            ax.set_title(f"{backend}: M={M} N={N} {mode} {dt}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        m = doc["machine"]
        fig.suptitle(f"dwconv vs peers, {m['cpu_model']} ({m['cpus']} CPUs), {m['date_utc']}, "
                     f"commit {m['git_commit']}", fontsize=9)
        fig.tight_layout()
        path = f"{prefix}-{backend}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        log(f"plots [{backend}]: wrote {path}")
    return written


# --------------------------------------------------------------------------- main

def finite(o):
    """JSON has no inf/nan: they become null."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [finite(v) for v in o]
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", help="path to bench_dwconv (default: build-bench/ or build/)")
    ap.add_argument("--shapes", default="suite",
                    help="core | suite | group (seed, core64, long, rows) | NAME[,NAME..] (globs ok) | MxNxP[:f32|f64[:mode]]")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, shorter time budgets")
    ap.add_argument("--gpu", action="store_true",
                    help="also the CUDA backend and GPU peers (torch conv1d/fft, cupyx)")
    ap.add_argument("--no-cpu", action="store_true", help="with --gpu: skip the CPU backend")
    ap.add_argument("--repeat", type=int, help="timed calls per implementation (default 10, --quick 3)")
    ap.add_argument("--warmup", type=int, help="warm-up calls (default 2, --quick 1)")
    ap.add_argument("--budget", type=float,
                    help="seconds of timed calls per implementation before repeats stop early "
                         "(default 2, --quick 0.5)")
    ap.add_argument("--slow-budget", type=float,
                    help="the same for the numpy row loop (default 1, --quick 0.3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for dwconv and the multi-threaded peers (default: all CPUs)")
    ap.add_argument("--peer-threads", type=int,
                    help="threads for the multi-threaded peers (default: --threads); 1 = how "
                         "scipy.signal runs when called plainly (scipy.fft workers default 1)")
    ap.add_argument("--no-fft-tuned", dest="fft_tuned", action="store_false",
                    help="skip the second dwconv run with tuned FFT plans on FFT shapes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verbose", "-v", action="store_true", help="a progress line per implementation")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--md", help="write the Markdown tables here")
    ap.add_argument("--plots", metavar="PREFIX", help="write PREFIX-<backend>.png (needs matplotlib)")
    ap.add_argument("--tmpdir", help="where the raw A/B/C files go (default /dev/shm when writable)")
    opt = ap.parse_args()
    opt.repeat = opt.repeat or (3 if opt.quick else 10)
    opt.warmup = opt.warmup if opt.warmup is not None else (1 if opt.quick else 2)
    opt.budget = opt.budget or (0.5 if opt.quick else 2.0)
    opt.slow_budget = opt.slow_budget or (0.3 if opt.quick else 1.0)
    opt.bench_threads = opt.threads
    opt.peer_threads = opt.peer_threads or opt.threads
    bench = find_bench(opt.bench)
    shapes = select_shapes(opt.shapes)
    backends = ([] if opt.no_cpu else ["cpu"]) + (["cuda"] if opt.gpu else [])

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_start = time.time()
    machine = machine_info()
    if machine["loadavg_start"] and machine["loadavg_start"] > 0.5:
        log(f"warning: load average {machine['loadavg_start']:.2f} at start: timings will be noisy")
    mc = memcpy_bandwidth(bench, opt.threads, 5 if opt.quick else 10)
    opt.memcpy_gbs = mc.get("gb_per_s")
    log(f"memcpy: {opt.memcpy_gbs:.1f} GB/s with {mc.get('threads')} threads" if opt.memcpy_gbs
        else f"memcpy: failed ({mc.get('error')})")

    tmp_base = opt.tmpdir or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    results = []
    with tempfile.TemporaryDirectory(prefix="dwconv-bench-", dir=tmp_base) as tmpdir:
        for s in shapes:
            log(f"running {shape_title(s)} ...")
            t0 = time.time()
            res = bench_shape(s, opt, bench, tmpdir, backends, log)
            res["seconds"] = round(time.time() - t0, 2)
            results.append(res)
            for b in backends:
                print_shape(res, b)
            sys.stdout.flush()
    machine["loadavg_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    # memcpy again at the end: on a busy machine the two differ; the floor lines used the
    # first, the JSON keeps both (memcpy, memcpy_end)
    mc_end = memcpy_bandwidth(bench, opt.threads, 5 if opt.quick else 10)
    if mc_end.get("gb_per_s"):
        log(f"memcpy at the end: {mc_end['gb_per_s']:.1f} GB/s")
    for b in backends:
        print_summary(results, b)

    doc = dict(machine=machine, backends=backends, memcpy=mc, memcpy_end=mc_end, results=results,
               options=dict(shapes=opt.shapes, quick=opt.quick, repeat=opt.repeat, warmup=opt.warmup,
                            budget_s=opt.budget, slow_budget_s=opt.slow_budget, threads=opt.threads,
                            seed=opt.seed, bench=os.path.relpath(bench, ROOT), fft_tuned=opt.fft_tuned),
               tolerances=TOL, seconds=round(time.time() - t_start, 1))
    if opt.json:
        with open(opt.json, "w") as f:
            json.dump(finite(doc), f, indent=1, default=str)
        log(f"wrote {opt.json}")
    if opt.md:
        with open(opt.md, "w") as f:
            f.write(markdown(doc))
        log(f"wrote {opt.md}")
    if opt.plots:
        doc["plots"] = plots(doc, opt.plots, log)
    log(f"done in {time.time() - t_start:.0f} s")
    bad = [r["shape"]["name"] for r in results for b in r["backends"].values()
           if "error" in b["dwconv"] or b["dwconv"].get("wrong")]
    if bad:
        log("dwconv ERROR/WRONG on: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
