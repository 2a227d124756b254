#!/usr/bin/env python3
"""The Python package against the C library and the Python peers, in one run, on the same data.

Two parts:
  1. overhead: the seed question's 4 x 10 * 20 (float64 and float32), whole calls timed with
     many repetitions (timeit, best of rounds): dwconv.convolve, the numpy.convolve row loop,
     scipy.signal.convolve row loop, scipy.signal.fftconvolve(axes=1), and the C library's
     own one-shot call (bench_dwconv, the same call without Python);
  2. throughput: M=256, N=16384, mode same, float32, P in 3..4095: dwconv.Plan.execute and
     dwconv.convolve against bench_dwconv's reuse and one-shot medians (the binding's
     throughput relative to the C library) and the Python peers a user would call (numpy
     loop, scipy fftconvolve / oaconvolve with axes, torch conv1d groups, torchaudio
     convolve / fftconvolve where they import).

Every output is checked against a float64 reference (bench/peers.py's); ratios are medians of
`--rounds` interleaved rounds, with the spread (min-max over rounds) beside them. Prints a
Markdown table; --json writes everything.

Usage: bench/python_bench.py [--bench PATH] [--rounds R] [--quick] [--json FILE]
"""
import argparse
import json
import os
import sys
import tempfile
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402  (timing, reference and peer helpers shared with the C suite)

import dwconv  # noqa: E402


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def best_us(fn, number, rounds=5):
    """Best per-call time in microseconds over `rounds` timeit rounds of `number` calls."""
    return 1e6 * min(timeit.repeat(fn, number=number, repeat=rounds)) / number


def c_library(bench, m, n, p, dtype, mode, threads, repeat, tmpdir, a, b):
    """bench_dwconv's reuse and one-shot medians (ms) for these arrays."""
    fa, fb = os.path.join(tmpdir, "a.bin"), os.path.join(tmpdir, "b.bin")
    a.tofile(fa)
    b.tofile(fb)
    r = peers.run_bench(bench, ["--rows", m, "--signal", n, "--kernel", p,
                                "--dtype", "f64" if dtype == np.float64 else "f32",
                                "--mode", mode, "--backend", "cpu", "--threads", threads,
                                "--repeat", repeat, "--warmup", 2, "--max-time", 2,
                                "--input-a", fa, "--input-b", fb])
    if "error" in r:
        raise RuntimeError("bench_dwconv: " + r["error"])
    return r["reuse"]["median_ms"], r["oneshot"]["median_ms"]


def seed_overhead(bench, rounds, tmpdir):
    import scipy.signal as sg
    rows = []
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(1)
        a = rng.standard_normal((4, 10)).astype(dtype)
        b = rng.standard_normal((4, 20)).astype(dtype)
        ref = peers.reference(a, b, "full")
        assert peers.rel_l2(dwconv.convolve(a, b), ref) < peers.TOL[np.dtype(dtype).name]
        impls = {
            "dwconv.convolve": lambda: dwconv.convolve(a, b),
            "numpy.convolve loop": lambda: np.stack([np.convolve(x, y) for x, y in zip(a, b)]),
            "scipy.signal.convolve loop": lambda: np.stack([sg.convolve(x, y) for x, y in zip(a, b)]),
            "scipy.signal.fftconvolve(axes=1)": lambda: sg.fftconvolve(a, b, axes=1),
        }
        per = {k: [] for k in impls}
        per["C dwconv_convolve (bench_dwconv one-shot)"] = []
        for _ in range(rounds):
            for k, f in impls.items():
                per[k].append(best_us(f, 2000))
            _, one = c_library(bench, 4, 10, 20, dtype, "full", 1, 2000, tmpdir, a, b)
            per["C dwconv_convolve (bench_dwconv one-shot)"].append(1e3 * one)
        for k, v in per.items():
            rows.append(dict(dtype=np.dtype(dtype).name, impl=k, median_us=median(v),
                             min_us=min(v), max_us=max(v)))
    return rows


def torchaudio_peers():
    try:
        import torchaudio.functional as taf
        import torch
    except Exception as e:  # not installable for this torch, or missing
        return {}, "torchaudio not available (%s)" % type(e).__name__
    def mk(fn):
        def make(A, B, mode, threads):
            torch.set_num_threads(threads)
            a, b = torch.from_numpy(A), torch.from_numpy(B)
            tmode = "full" if mode == "causal" else mode
            return (lambda: fn(a, b, mode=tmode).numpy()), threads
        return make
    return {"torchaudio convolve": mk(taf.convolve), "torchaudio fftconvolve": mk(taf.fftconvolve)}, None


def throughput(bench, rounds, ps, m, n, threads, tmpdir, quick, with_peers=True):
    mode = "same"
    dtype = np.float32
    tol = peers.TOL["float32"]
    makers = {
        "numpy.convolve loop": peers.peer_numpy_loop,
        "scipy fftconvolve": peers._scipy_peer("fftconvolve"),
        "scipy oaconvolve": peers._scipy_peer("oaconvolve"),
        "torch conv1d (groups)": peers._torch_cpu("conv1d"),
    }
    extra, ta_note = torchaudio_peers() if with_peers else ({}, None)
    makers.update(extra)
    if not with_peers:
        makers = {}
    out = []
    for p in ps:
        rng = np.random.default_rng(1)
        a = rng.standard_normal((m, n)).astype(dtype)
        b = rng.standard_normal((m, p)).astype(dtype)
        ref = peers.reference(a, b, mode)
        plan = dwconv.Plan(m, n, p, dtype, mode, threads=threads)
        plan.set_kernel(b)
        row = dict(P=p, c_reuse=[], c_oneshot=[], py_reuse=[], py_oneshot=[], py_alloc=[],
                   peers={})
        c_out = np.empty((m, n), dtype)  # 'same': N samples per row
        err = peers.rel_l2(plan.execute(a), ref)
        assert err < tol, "dwconv wrong at P=%d: %g" % (p, err)
        assert peers.rel_l2(dwconv.convolve(a, b, mode, threads=threads), ref) < tol
        runners = {}
        for name, make in makers.items():
            try:
                fn, _ = make(a, b, mode, threads)
                got = fn()
                e = peers.rel_l2(np.asarray(got), ref)
                runners[name] = fn if e < tol else None
                row["peers"][name] = [] if e < tol else "WRONG (rel. error %.2g)" % e
            except Exception as e:  # noqa: BLE001 - a peer that cannot run is reported
                row["peers"][name] = "not available (%s)" % type(e).__name__
        for _ in range(rounds):
            reuse, one = c_library(bench, m, n, p, dtype, mode, threads, 5, tmpdir, a, b)
            row["c_reuse"].append(reuse)
            row["c_oneshot"].append(one)
            # Into a reused output, as bench_dwconv writes into one C: the binding's own cost.
            s, _, _ = peers.time_fn(lambda: plan.execute(a, out=c_out), 2, 5, 2.0)
            row["py_reuse"].append(1e3 * median(s))
            s, _, _ = peers.time_fn(lambda: dwconv.convolve(a, b, mode, threads=threads, out=c_out),
                                    2, 5, 2.0)
            row["py_oneshot"].append(1e3 * median(s))
            # A fresh result per call, as the peers return (first-touch page faults included).
            s, _, _ = peers.time_fn(lambda: dwconv.convolve(a, b, mode, threads=threads), 2, 5, 2.0)
            row["py_alloc"].append(1e3 * median(s))
            for name, fn in runners.items():
                if fn is None:
                    continue
                slow = name.startswith("numpy") or name.startswith("torch conv1d")
                s, _, _ = peers.time_fn(fn, 0 if slow else 1, 1 if slow or quick else 3,
                                        1.0 if slow else 2.0)
                row["peers"][name].append(1e3 * median(s))
        plan.close()
        out.append(row)
        print("P=%d done" % p, file=sys.stderr, flush=True)
    return out, ta_note


def spread(xs):
    return "%.2f [%.2f-%.2f]" % (median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", help="path to bench_dwconv (default: build-bench/ or build/)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 rounds, P in {3, 63, 1023}")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--binding-only", action="store_true",
                    help="no peers: the binding against the C library alone (peers' thread pools, "
                         "e.g. torch's and OpenBLAS's spinning threads, otherwise share the cores "
                         "with dwconv's in this process and slow short calls)")
    ap.add_argument("--json")
    opt = ap.parse_args()
    bench = peers.find_bench(opt.bench)
    rounds = 3 if opt.quick else opt.rounds
    ps = [3, 63, 1023] if opt.quick else [3, 15, 63, 255, 1023, 4095]
    machine = peers.machine_info()
    machine["dwconv"] = dwconv.info()
    tmp_base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="dwconv-pybench-", dir=tmp_base) as tmpdir:
        seed = seed_overhead(bench, rounds, tmpdir)
        thr, ta_note = throughput(bench, rounds, ps, 256, 16384, opt.threads, tmpdir, opt.quick,
                                  not opt.binding_only)
    machine["loadavg_end"] = os.getloadavg()[0]
    print("# dwconv Python package: %s, %s, commit %s, load %.2f -> %.2f\n"
          % (machine["cpu_model"], machine["date_utc"], machine["git_commit"],
             machine["loadavg_start"] or 0, machine["loadavg_end"]))
    print("## Seed case 4 x 10 * 20, whole call (us, median of %d rounds [min-max])\n" % rounds)
    print("| dtype | implementation | us |\n|---|---|--:|")
    for r in seed:
        print("| %s | %s | %.2f [%.2f-%.2f] |" % (r["dtype"], r["impl"], r["median_us"],
                                                 r["min_us"], r["max_us"]))
    print("\n## M=256, N=16384, same, float32: Python binding vs the C library and the peers\n")
    print("Times in ms, median over rounds [min-max]. Plan.execute and dwconv.convolve write into "
          "a reused `out=` as bench_dwconv writes into one C; 'py/C' = C time / Python time "
          "(1.00 = no binding cost). 'convolve (new result)' allocates its result as the peers "
          "do; 'x best peer' = best correct peer / that.\n")
    names = list(thr[0]["peers"]) if thr else []
    if opt.binding_only:
        print("(--binding-only: no peers in this process)\n")
    print("| P | C reuse | Plan.execute | py/C reuse | C one-shot | dwconv.convolve | py/C one-shot | "
          "convolve (new result) | " + " | ".join(names) + " | x best peer |")
    print("|" + "--:|" * (8 + len(names) + 1))
    for r in thr:
        ratio_reuse = [c / p for c, p in zip(r["c_reuse"], r["py_reuse"])]
        ratio_one = [c / p for c, p in zip(r["c_oneshot"], r["py_oneshot"])]
        cells, best = [], None
        for nme in names:
            v = r["peers"][nme]
            if isinstance(v, list) and v:
                cells.append("%.2f" % median(v))
                best = median(v) if best is None else min(best, median(v))
            else:
                cells.append(str(v) if not isinstance(v, list) else "-")
        x = ("%.1fx" % (best / median(r["py_alloc"]))) if best else "-"
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["P"], spread(r["c_reuse"]), spread(r["py_reuse"]), spread(ratio_reuse),
            spread(r["c_oneshot"]), spread(r["py_oneshot"]), spread(ratio_one),
            spread(r["py_alloc"]), " | ".join(cells), x))
    if ta_note:
        print("\n" + ta_note)
    if opt.json:
        with open(opt.json, "w") as f:
            json.dump(dict(machine=machine, seed=seed, throughput=thr, torchaudio=ta_note), f,
                      indent=1)


if __name__ == "__main__":
    main()
