"""dwconv.dask: lazy graphs equal to the in-memory call, on zarr input chunked along rows and
along the signal axis (chunks shorter than P too), through a LocalCluster of process workers
with a memory limit; a worker killed mid-computation; bad input refused at graph build time."""
import itertools
import os
import signal
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

import dwconv  # noqa: E402
import dwconv.dask as dwd  # noqa: E402
from conftest import MODES, OPS, BOUND  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit="1GiB", dashboard_address=None,
                                       silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def fns(op):
    return (dwd.convolve, dwconv.convolve) if op == "convolve" else (dwd.correlate, dwconv.correlate)


def write_zarr(path, x, chunks):
    z = zarr.create_array(store=str(path), shape=x.shape, chunks=chunks, dtype=x.dtype)
    z[...] = x
    return da.from_zarr(str(path))


def rel_rows(got, want):
    g = got.reshape(-1, got.shape[-1]).astype(np.float64)
    w = want.reshape(-1, want.shape[-1]).astype(np.float64)
    den = np.maximum(np.linalg.norm(w, axis=1), 1e-300)
    return (np.linalg.norm(g - w, axis=1) / den).max()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zarr_through_cluster_every_mode_and_op(client, tmp_path, dtype):
    rng = np.random.default_rng(11)
    A = rng.standard_normal((9, 300)).astype(dtype)
    # rows in chunks of 4, the signal axis in chunks of 64 and of 13 (shorter than P = 40)
    lazy_arrays, wanted, labels = [], [], []
    for k, chunks in enumerate([(4, 300), (4, 64), (3, 13)]):
        a = write_zarr(tmp_path / ("a%d.zarr" % k), A, chunks)
        for p, per_row in ((40, True), (5, False), (1, True)):
            B = rng.standard_normal((9, p) if per_row else (p,)).astype(dtype)
            for mode, op in itertools.product(MODES, OPS):
                lazy, eager = fns(op)
                c = lazy(a, B, mode, method="direct")
                want = eager(A, B, mode, method="direct")
                assert c.shape == want.shape and c.dtype == want.dtype
                lazy_arrays.append(c)
                wanted.append(want)
                labels.append((chunks, p, mode, op))
    results = client.gather(client.compute(lazy_arrays))
    for got, want, label in zip(results, wanted, labels):
        assert np.array_equal(got, want), label


def test_fft_within_bound_and_other_schedulers(tmp_path):
    rng = np.random.default_rng(12)
    A = rng.standard_normal((6, 2000))
    B = rng.standard_normal((6, 300))
    a = da.from_array(A, chunks=(3, 256))
    for mode in MODES:
        want = dwconv.convolve(A, B, mode, method="direct")
        for method in ("fft", "auto"):
            if method == "fft" and "fftw" not in dwconv.info()["features"]:
                continue
            got = dwd.convolve(a, B, mode, method=method).compute(scheduler="threads")
            assert rel_rows(got, want) <= BOUND[np.dtype(np.float64)]
    # processes scheduler, float32, b as a Dask array, signal on axis 0
    A32 = rng.standard_normal((500, 4)).astype(np.float32)
    B32 = da.from_array(rng.standard_normal((30, 4)).astype(np.float32), chunks=(10, 2))
    c = dwd.correlate(da.from_array(A32, chunks=(64, 2)), B32, "same", axis=0, method="direct")
    got = c.compute(scheduler="processes", num_workers=2)
    assert np.array_equal(got, dwconv.correlate(A32, B32.compute(), "same", axis=0,
                                                method="direct"))


def test_chunks_meta_and_laziness():
    a = da.ones((8, 100), chunks=(4, 30), dtype=np.float32)
    c = dwd.convolve(a, np.ones(7, np.float32), "full")
    assert c.shape == (8, 106) and c.dtype == np.float32
    assert c.chunks == ((4, 4), (30, 30, 30, 10, 6))
    assert isinstance(c._meta, np.ndarray)
    assert dwd.convolve(a, np.ones(7), "valid").chunks == ((4, 4), (30, 30, 30, 4))
    assert dwd.convolve(a, np.ones(7), "same").chunks == a.chunks
    # no chunk ever spans the whole signal axis when the input does not
    big = da.ones((2, 10000), chunks=(1, 1000))
    c = dwd.convolve(big, np.ones(3000), "full", method="direct")
    assert max(c.chunks[1]) == 1000
    # each task reads only the input chunks its window covers: P - 1 + 1000 samples span at
    # most 5 chunks of 1000 (never the whole row of 10 chunks), plus its block of kernels
    import dask.core
    graph = c.__dask_graph__()
    dsk = dict(graph)
    for key in graph.layers[c.name]:
        deps = dask.core.get_dependencies(dsk, key)
        assert 2 <= len(deps) <= 6, (key, len(deps))
    np.testing.assert_array_equal(c.compute(), dwconv.convolve(big.compute(), np.ones(3000),
                                                                method="direct"))


def test_bad_input_at_graph_build():
    a = da.ones((4, 50), chunks=(2, 10))
    with pytest.raises(ValueError, match="do not broadcast"):
        dwd.convolve(a, np.ones((3, 5)))
    with pytest.raises(ValueError, match="full batch shape"):
        dwd.convolve(a[:1], np.ones((4, 5)))
    with pytest.raises(ValueError, match="out of range"):
        dwd.convolve(a, np.ones(5), axis=2)
    with pytest.raises(ValueError, match="mode"):
        dwd.convolve(a, np.ones(5), "sam")
    with pytest.raises(TypeError):
        dwd.convolve(a.astype(np.complex64), np.ones(5))
    with pytest.raises(TypeError, match="dask.array.Array"):
        dwd.convolve(np.ones((4, 50)), np.ones(5))
    unknown = a[a[:, 0] > 0]  # unknown number of rows
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        dwd.convolve(unknown, np.ones(5))
    lazy_b = da.ones((4, 8), chunks=2)
    lazy_b = lazy_b[lazy_b[:, 0] > 0]  # a kernel array of unknown shape
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        dwd.convolve(a, lazy_b)
    with pytest.raises(ValueError, match="at least 1"):
        dwd.convolve(da.ones((4, 0), chunks=2), np.ones(5))


def test_plan_cache_is_bounded_and_reused():
    dwd._local.plans = None
    x = np.ones((3, 40))
    for n in range(dwd.PLAN_CACHE_SIZE + 5):
        dwd._run_rows(x[:, : 10 + n], np.ones((1, 4)), "same", "convolve", "direct", "cpu", 1)
    assert len(dwd._local.plans) == dwd.PLAN_CACHE_SIZE
    first = next(reversed(dwd._local.plans.values()))
    dwd._run_rows(x[:, : 10 + dwd.PLAN_CACHE_SIZE + 4], np.ones((1, 4)), "same", "convolve",
                  "direct", "cpu", 1)
    assert next(reversed(dwd._local.plans.values())) is first  # reused, not remade


def test_threads_rule(monkeypatch):
    cores = dwd._cores()
    assert dwd.task_threads(3) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as distributed's nannies set it
    assert dwd.task_threads(None) == 0           # 0: the library follows OMP_NUM_THREADS
    monkeypatch.delenv("OMP_NUM_THREADS")
    # the synchronous scheduler (main thread, no worker): all cores
    assert dwd.task_threads(None) == cores
    # a thread of the local threaded scheduler: one per core -> 1
    out = []
    t = threading.Thread(target=lambda: out.append(dwd.task_threads(None)))
    t.start()
    t.join()
    assert out == [max(1, cores // cores)]


def test_distributed_workers_one_thread_each(client):
    """Under a LocalCluster of single-threaded process workers each task computes on one
    thread (the nanny's OMP_NUM_THREADS=1), so 2 workers use 2 cores."""
    def probe():
        import dwconv as d
        with d.Plan(4, 100, 3, threads=dwd.task_threads(None) or None, backend="cpu") as p:
            return os.environ.get("OMP_NUM_THREADS"), p.info["threads"]
    for env, threads in client.run(probe).values():
        assert threads == (int(env) if env else max(1, dwd._cores()))


def _slow_graph(tmp_path):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((16, 40000)).astype(np.float32)
    B = rng.standard_normal((16, 2001)).astype(np.float32)
    a = write_zarr(tmp_path / "slow.zarr", A, (2, 20000))
    return A, B, dwd.convolve(a, B, "same", method="direct", threads=1)


def test_worker_killed_mid_computation(tmp_path):
    """A worker process killed while tasks run: Dask reschedules them, the result is complete
    and equal to the in-memory call."""
    A, B, c = _slow_graph(tmp_path)
    want = dwconv.convolve(A, B, "same", method="direct", threads=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="1GiB", dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as cl:
        pids = list(cl.run(os.getpid).values())
        fut = cl.compute(c)
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until some (not all) tasks are done
            if cl.run_on_scheduler(lambda dask_scheduler: sum(
                    1 for ts in dask_scheduler.tasks.values() if ts.state == "memory")) >= 2:
                break
            time.sleep(0.05)
        assert not fut.done(), "the computation ended before a worker could be killed"
        os.kill(pids[0], signal.SIGKILL)
        got = fut.result(timeout=300)
        assert fut.status == "finished"
    assert np.array_equal(got, want)


def test_doc_example():
    import doctest
    res = doctest.testmod(dwd, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
