#!/usr/bin/env python3
"""dwconv.dask on a zarr array through a 2-worker LocalCluster, against the single-process CLI
on the same data and against the Dask peer a user would write, in one run.

    bench/dask_bench.py [--rows 8192] [--signal 131072] [--kernel 33] [--dir DIR]

Data: A float32 (rows x signal, standard normal) written once as zarr (uncompressed, chunks of
--chunk-rows rows) and as .npy; B one kernel of --kernel taps; mode same; outputs to zarr and
.npy on the same disk. Measured (wall clock, median of --repeat runs, spread printed):
  1. CLI    `dwconv conv A.npy B.npy -o C.npy --mode same` (one process, all cores);
  2. dwconv.dask.convolve(da.from_zarr(A), B, 'same', method='direct') -> to_zarr, on a
     LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=--memory-limit);
  3. peers  the same graph with scipy: da.map_blocks over the row chunks with
     scipy.signal.oaconvolve and with fftconvolve (block, B[None], 'same', axes=1) (the signal
     axis is one chunk, so map_overlap would add nothing), on the same cluster, once each.
All zarr arrays are uncompressed (like the .npy files). Only sampled rows of each output are
kept between steps, so --dir holds at most A (zarr and .npy) and one output: with --dir on a
memory-backed file system (/dev/shm) the run measures compute and the zarr pipeline without the
disk, on a disk it measures what that disk allows (writing C is the floor there).
Each worker's peak RSS is read after the runs (VmHWM in the worker process). Before the runs,
one row chunk is timed in this process (zarr read, zarr write, dwconv, each peer): read + write
is the I/O every pipeline over these stores pays, which bounds the ratio to the peers. Sample rows of
every output are checked against scipy. Prints a Markdown table; --json writes everything.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "examples"))
import dask_zarr  # noqa: E402  (input writer, the zarr pipeline, row checks)


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def write_npy(zarr_path, npy_path):
    """A.npy with the same values as the zarr array, written a block at a time."""
    import zarr
    z = zarr.open_array(zarr_path, mode="r")
    if os.path.exists(npy_path):
        m = np.load(npy_path, mmap_mode="r")
        if m.shape == z.shape and m.dtype == z.dtype:
            return
    out = np.lib.format.open_memmap(npy_path, mode="w+", dtype=z.dtype, shape=z.shape)
    step = z.chunks[0]
    for r in range(0, z.shape[0], step):
        out[r:r + step] = z[r:r + step]
    out.flush()
    del out


def scipy_peer(client, in_path, out_path, b, fname):
    """The graph a user would write with scipy: map_blocks over the row chunks (the signal
    axis is one chunk) with scipy.signal.<fname>(block, B[None], 'same', axes=1)."""
    import dask.array as da
    import scipy.signal as sg
    f = getattr(sg, fname)
    a = da.from_zarr(in_path)
    c = a.map_blocks(lambda x: f(x, b[None, :], mode="same", axes=1).astype(x.dtype),
                     dtype=a.dtype)
    shutil.rmtree(out_path, ignore_errors=True)
    t0 = time.perf_counter()
    client.compute(da.to_zarr(c, out_path, compute=False, compressors=None)).result()
    return time.perf_counter() - t0


def chunk_breakdown(a_zarr, tmp_zarr, b, reps=5):
    """Per-chunk costs in one worker-like process (one thread), median of reps: reading one
    row chunk from zarr, writing one to zarr, and computing it with dwconv and with each scipy
    peer. Read + write is the floor every pipeline over these stores pays per chunk, so
    (I/O + peer) / (I/O + dwconv) bounds the whole-run ratio to the peers on this machine."""
    import scipy.signal as sg
    import zarr

    import dwconv
    z = zarr.open_array(a_zarr, mode="r")
    rows = z.chunks[0]
    shutil.rmtree(tmp_zarr, ignore_errors=True)
    out = zarr.create_array(store=tmp_zarr, shape=(rows, z.shape[1]), chunks=(rows, z.shape[1]),
                            dtype=z.dtype, compressors=None)
    x = z[:rows]
    steps = {
        "read": lambda: z[:rows],
        "write": lambda: out.__setitem__(slice(None), x),
        "dwconv": lambda: dwconv.convolve(x, b, "same", method="direct", threads=1),
        "oaconvolve": lambda: sg.oaconvolve(x, b[None, :], mode="same", axes=1),
        "fftconvolve": lambda: sg.fftconvolve(x, b[None, :], mode="same", axes=1),
    }
    res = {}
    for name, f in steps.items():
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        res[name] = median(ts)
    shutil.rmtree(tmp_zarr, ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=8192)
    ap.add_argument("--signal", type=int, default=131072)
    ap.add_argument("--kernel", type=int, default=33)
    ap.add_argument("--chunk-rows", type=int, default=128)
    ap.add_argument("--memory-limit", default="1.5GiB")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cli", help="the dwconv program (default: build/tools/dwconv)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "build-bench", "dask-data"))
    ap.add_argument("--no-peer", action="store_true", help="skip the scipy peer")
    ap.add_argument("--json")
    opt = ap.parse_args()
    from dask.utils import parse_bytes
    import zarr
    from distributed import Client, LocalCluster

    import dwconv

    cli = opt.cli or os.path.join(ROOT, "build", "tools", "dwconv")
    os.makedirs(opt.dir, exist_ok=True)
    a_zarr, c_zarr = os.path.join(opt.dir, "A.zarr"), os.path.join(opt.dir, "C.zarr")
    p_zarr = os.path.join(opt.dir, "C_peer.zarr")
    a_npy, b_npy, c_npy = (os.path.join(opt.dir, x) for x in ("A.npy", "B.npy", "C.npy"))
    size = opt.rows * opt.signal * 4
    dask_zarr.make_input(a_zarr, opt.rows, opt.signal, opt.chunk_rows)
    write_npy(a_zarr, a_npy)
    b = np.hanning(opt.kernel).astype(np.float32)
    b /= b.sum()
    np.save(b_npy, b)
    res = dict(rows=opt.rows, signal=opt.signal, kernel=opt.kernel, bytes=size,
               memory_limit=opt.memory_limit, cli=[], dask=[], peer_oaconvolve=[],
               peer_fftconvolve=[],
               loadavg_start=os.getloadavg()[0], dwconv=dwconv.info())
    res["chunk"] = chunk_breakdown(a_zarr, os.path.join(opt.dir, "chunk.zarr"), b)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit=opt.memory_limit, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("dwconv.dask"))  # a long-lived cluster has it loaded
        sample = list(range(0, opt.rows, max(1, opt.rows // 16)))
        cli_rows, same = None, True
        for i in range(opt.repeat):
            if os.path.exists(c_npy):
                os.remove(c_npy)
            t0 = time.perf_counter()
            subprocess.run([cli, "conv", a_npy, b_npy, "-o", c_npy, "--mode", "same",
                            "--algo", "direct", "--quiet"], check=True)
            res["cli"].append(time.perf_counter() - t0)
            # Only sampled rows of each output are kept, so the data directory holds A (zarr
            # and .npy) and one output at a time: 12 GiB at the default size, which a
            # memory-backed directory (--dir /dev/shm/...) can hold on a 24 GiB machine.
            c_cli = np.load(c_npy, mmap_mode="r")
            rows_now = [np.array(c_cli[m]) for m in sample]
            del c_cli
            os.remove(c_npy)
            if cli_rows is not None:
                same &= all(np.array_equal(x, y) for x, y in zip(cli_rows, rows_now))
            cli_rows = rows_now
            res["dask"].append(dask_zarr.convolve_zarr(client, a_zarr, c_zarr, b, "same",
                                                       progress=False))
            c_d = zarr.open_array(c_zarr, mode="r")
            same &= all(np.array_equal(x, c_d[m]) for x, m in zip(cli_rows, sample))
            if i == opt.repeat - 1:
                res["err_dask"] = dask_zarr.check_rows(a_zarr, c_zarr, b, "same")
            shutil.rmtree(c_zarr)
            if not opt.no_peer and i == 0:
                for fname in ("oaconvolve", "fftconvolve"):
                    res["peer_" + fname].append(scipy_peer(client, a_zarr, p_zarr, b, fname))
                    if fname == "fftconvolve":
                        res["err_peer"] = dask_zarr.check_rows(a_zarr, p_zarr, b, "same")
                    shutil.rmtree(p_zarr)
            print("round %d: cli %.2f s, dask %.2f s" % (i, res["cli"][-1], res["dask"][-1]),
                  file=sys.stderr, flush=True)
        peaks = client.run(dask_zarr.peak_rss_bytes)
    res["worker_peak_rss"] = peaks
    res["loadavg_end"] = os.getloadavg()[0]
    res["cli_equals_dask_rows"] = bool(same)
    limit = parse_bytes(opt.memory_limit)
    gb = size / 1e9
    print("| what | median s | spread s | GB/s of A | vs CLI |")
    print("|---|--:|--:|--:|--:|")
    cli_med = median(res["cli"])
    for name, xs in (("CLI `dwconv conv` (1 process)", res["cli"]),
                     ("dwconv.dask, 2 workers", res["dask"]),
                     ("scipy oaconvolve via map_blocks, 2 workers", res["peer_oaconvolve"]),
                     ("scipy fftconvolve via map_blocks, 2 workers", res["peer_fftconvolve"])):
        if xs:
            print("| %s | %.2f | %.2f-%.2f | %.2f | %.2f |" % (
                name, median(xs), min(xs), max(xs), gb / median(xs), cli_med / median(xs)))
    ch = res["chunk"]
    io = ch["read"] + ch["write"]
    print("\nOne chunk (%d rows, %.0f MiB) in one thread, median of 5 (s): zarr read %.3f, zarr write "
          "%.3f, dwconv %.3f, oaconvolve %.3f, fftconvolve %.3f. Bound on the whole-run ratio to the "
          "peers from these (I/O + peer) / (I/O + dwconv): oaconvolve %.2fx, fftconvolve %.2fx."
          % (opt.chunk_rows, opt.chunk_rows * opt.signal * 4 / 2 ** 20, ch["read"], ch["write"],
             ch["dwconv"], ch["oaconvolve"], ch["fftconvolve"],
             (io + ch["oaconvolve"]) / (io + ch["dwconv"]), (io + ch["fftconvolve"]) / (io + ch["dwconv"])))
    for addr, peak in sorted(peaks.items()):
        print("\nworker %s peak RSS %.0f MiB of %.0f MiB limit" % (addr, peak / 2 ** 20, limit / 2 ** 20))
    print("\nrows vs scipy: dwconv.dask %.1e%s; CLI and dask outputs bitwise equal on sampled rows: %s; "
          "load %.2f -> %.2f" % (res["err_dask"], ", fftconvolve peer %.1e" % res["err_peer"]
                                 if "err_peer" in res else "",
                                 res["cli_equals_dask_rows"], res["loadavg_start"], res["loadavg_end"]))
    if opt.json:
        with open(opt.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
