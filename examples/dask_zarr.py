#!/usr/bin/env python3
"""Row-wise convolution of a zarr array larger than a worker's memory, on a Dask cluster.

    python examples/dask_zarr.py                 # 4 GiB float32 A (8192 x 131072), P = 33
    python examples/dask_zarr.py --small         # 1 GiB A, 512 MiB per worker

The script starts its own LocalCluster (2 worker processes, each with a memory limit smaller
than A), writes A to a zarr array on local disk (skipped when it is already there), computes
C = dwconv.dask.convolve(A, B, "same") chunk by chunk into another zarr array with a progress
bar, checks a sample of rows against scipy.signal.convolve, and prints the throughput and each
worker's peak memory. Nothing else is started or contacted.

Needs: pip install 'dwconv[dask]' scipy (the package's README).
"""
import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np


def peak_rss_bytes():
    """This process's peak resident memory. Linux: VmHWM of /proc/self/status, the high-water
    mark of this process's own address space. ru_maxrss is not used there: it survives exec,
    so a worker started by a large parent (fork + exec) would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def make_input(path, rows, n, chunk_rows, seed=1):
    """Writes A (rows x n, float32, standard normal) to a zarr array at path, a block of rows
    at a time (never all of A in memory); reuses a complete one already there."""
    import zarr
    marker = os.path.join(path, ".complete")
    if os.path.exists(marker):
        z = zarr.open_array(path, mode="r")
        if z.shape == (rows, n) and z.dtype == np.float32:
            return
    shutil.rmtree(path, ignore_errors=True)
    z = zarr.create_array(store=path, shape=(rows, n), chunks=(chunk_rows, n), dtype=np.float32,
                          compressors=None)
    rng = np.random.default_rng(seed)
    for r in range(0, rows, chunk_rows):
        h = min(chunk_rows, rows - r)
        z[r:r + h] = rng.standard_normal((h, n), dtype=np.float32)
    open(marker, "w").close()


def convolve_zarr(client, in_path, out_path, b, mode="same", progress=True):
    """C = dwconv.dask.convolve(A, b, mode) from zarr in_path to zarr out_path on the client's
    cluster. Returns the wall time in seconds."""
    import dask.array as da
    from distributed import progress as show_progress, wait

    import dwconv.dask

    a = da.from_zarr(in_path)
    c = dwconv.dask.convolve(a, b, mode, method="direct")
    shutil.rmtree(out_path, ignore_errors=True)
    t0 = time.perf_counter()
    # Uncompressed like A: random data does not compress, and the codec would cost more than
    # the convolution (P = 33 is about 70 flops per sample).
    store = da.to_zarr(c, out_path, compute=False, compressors=None)
    fut = client.compute(store)
    if progress:
        show_progress(fut)
        print(file=sys.stderr)
    wait(fut)
    fut.result()
    return time.perf_counter() - t0


def check_rows(in_path, out_path, b, mode, rows=8, seed=2):
    """Largest relative L2 error of `rows` random rows of C against scipy.signal.convolve."""
    import scipy.signal as sg
    import zarr
    a = zarr.open_array(in_path, mode="r")
    c = zarr.open_array(out_path, mode="r")
    pick = np.random.default_rng(seed).choice(a.shape[0], size=min(rows, a.shape[0]),
                                              replace=False)
    worst = 0.0
    for m in sorted(pick):
        ref = sg.convolve(a[m].astype(np.float64), b.astype(np.float64), mode, method="fft")
        got = c[m].astype(np.float64)
        worst = max(worst, np.linalg.norm(got - ref) / np.linalg.norm(ref))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="1 GiB A and 512 MiB per worker")
    ap.add_argument("--rows", type=int, help="rows of A (default 8192; --small 512)")
    ap.add_argument("--signal", type=int, default=131072, help="samples per row (default 131072)")
    ap.add_argument("--kernel", type=int, default=33, help="kernel length P (default 33)")
    ap.add_argument("--chunk-rows", type=int, default=128, help="rows per zarr chunk (default 128)")
    ap.add_argument("--memory-limit", help="per worker (default 1.5GiB; --small 512MiB)")
    ap.add_argument("--dir", help="where the zarr arrays go (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the zarr arrays")
    opt = ap.parse_args()
    rows = opt.rows or (2048 if opt.small else 8192)
    limit = opt.memory_limit or ("512MiB" if opt.small else "1.5GiB")

    from distributed import Client, LocalCluster

    import dwconv

    work = opt.dir or tempfile.mkdtemp(prefix="dwconv-dask-", dir=os.getcwd())
    in_path, out_path = os.path.join(work, "A.zarr"), os.path.join(work, "C.zarr")
    size = rows * opt.signal * 4
    print("A: %d x %d float32 = %.2f GiB at %s; B: one kernel of %d taps; mode same"
          % (rows, opt.signal, size / 2 ** 30, in_path, opt.kernel))
    t0 = time.perf_counter()
    make_input(in_path, rows, opt.signal, opt.chunk_rows)
    print("A written in %.1f s" % (time.perf_counter() - t0))
    b = np.hanning(opt.kernel).astype(np.float32)
    b /= b.sum()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=limit,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        from dask.utils import parse_bytes
        print("cluster: 2 workers x 1 thread, memory limit %s each (A is %.1fx that); "
              "dashboard %s" % (limit, size / parse_bytes(limit), client.dashboard_link))
        seconds = convolve_zarr(client, in_path, out_path, b)
        peaks = client.run(peak_rss_bytes)
    print("C = dwconv.dask.convolve(A, B, 'same') -> %s: %.2f s, %.2f GB/s of A (dwconv %s, %s)"
          % (out_path, seconds, size / seconds / 1e9, dwconv.__version__,
             dwconv.info()["cpu_simd"]))
    for addr, peak in sorted(peaks.items()):
        print("worker %s peak RSS %.0f MiB (limit %s)" % (addr, peak / 2 ** 20, limit))
    err = check_rows(in_path, out_path, b, "same")
    print("rows checked against scipy.signal.convolve: max relative error %.2e" % err)
    if not opt.keep and not opt.dir:
        shutil.rmtree(work, ignore_errors=True)
    if err > 1e-5:
        print("FAILED: error above 1e-5", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
