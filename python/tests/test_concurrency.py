"""The GIL is released during computations; Ctrl-C is honoured; plans are per thread; forked
multiprocessing workers work after multi-threaded calls in the parent."""
import multiprocessing
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import dwconv


def long_inputs():
    rng = np.random.default_rng(3)
    return (rng.standard_normal((256, 65536)).astype(np.float32),
            rng.standard_normal((256, 127)).astype(np.float32))


def test_gil_released_during_a_call():
    """Another Python thread makes progress while one long convolution runs: its progress
    stamps fall well inside the call's time window."""
    a, b = long_inputs()
    dwconv.convolve(a[:8], b[:8], method="direct")  # warm-up
    stamps = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    time.sleep(0.02)
    try:
        t0 = time.perf_counter()
        dwconv.convolve(a, b, method="direct", threads=1)
        t1 = time.perf_counter()
    finally:
        stop.set()
        t.join()
    assert t1 - t0 > 0.05, "the call was too short to tell (%.3f s)" % (t1 - t0)
    margin = 0.1 * (t1 - t0)
    inside = [s for s in stamps if t0 + margin < s < t1 - margin]
    # With the GIL held the ticker could not run at all inside the window.
    assert len(inside) >= 10, "only %d ticks inside a %.3f s call" % (len(inside), t1 - t0)


def test_plans_in_parallel_threads_and_one_plan_per_thread():
    a, b = long_inputs()
    a, b = a[:32, :8192], b[:32]
    want = dwconv.convolve(a, b, "same", threads=1)
    results = {}

    def work(k):
        with dwconv.Plan(32, 8192, 127, "float32", "same", threads=1) as plan:
            plan.set_kernel(b)
            for _ in range(5):
                results[k] = plan.execute(a)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert np.array_equal(results[k], want)
    # one plan used by two threads at once: the second is refused, not computed wrong
    plan = dwconv.Plan(256, 65536, 127, "float32", method="direct", threads=1)
    big_a, big_b = long_inputs()
    plan.set_kernel(big_b)
    errors = []

    def other():
        time.sleep(0.05)
        try:
            plan.execute(big_a[:1, :])
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    plan.execute(big_a)
    t.join()
    plan.close()
    assert errors and "another thread" in str(errors[0])


def test_ctrl_c_during_a_long_call():
    """SIGINT during a long call raises KeyboardInterrupt once the call returns (in a child
    process, so the test runner's own SIGINT handling is not involved)."""
    code = textwrap.dedent("""
        import os, signal, sys, threading, time
        import numpy as np, dwconv
        a = np.ones((512, 65536), np.float32); b = np.ones((512, 255), np.float32)
        t0 = time.perf_counter()
        dwconv.convolve(a[:4], b[:4], method="direct")
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            for _ in range(50):   # each call ~0.1-1 s; the interrupt must stop the loop
                dwconv.convolve(a, b, method="direct")
        except KeyboardInterrupt:
            print("interrupted after %.2f s" % (time.perf_counter() - t0))
            sys.exit(0)
        print("not interrupted")
        sys.exit(1)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrupted" in r.stdout


def _worker(args):
    a, b = args
    return dwconv.convolve(a, b, "same")


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method: Linux")
def test_forked_multiprocessing_workers():
    """Workers forked after multi-threaded calls in the parent compute (and do not hang: GNU
    libgomp's pool does not survive fork; the C library then runs the child on one thread)."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((64, 4096)).astype(np.float32)
    b = rng.standard_normal((64, 63)).astype(np.float32)
    want = dwconv.convolve(a, b, "same", threads=2)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        res = pool.map_async(_worker, [(a, b)] * 4)
        got = res.get(timeout=60)
    for g in got:
        assert np.array_equal(g, want)
