"""floe graphs on dask: tasks written down as data, run by dask's schedulers and by a
real ``distributed.LocalCluster`` of two worker processes, against floe's own results."""

import functools
import os
import pickle
import signal
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe
import floe.array as fa
import floe.dask

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


def expressions(x, y, a):
    """Array expressions over random arrays ``x`` and ``y`` (square, same chunks) and
    ``a`` (one made from a NumPy array): elementwise, transposes, reductions of every
    kind, slices, rechunks, concatenations, reshapes, generators, FFTs, histograms,
    quantiles, selections of unknown size, ``unique``, overlapping blocks, objects read
    through ``from_array``."""
    n, c = x.shape[0], c_of(x)
    return {
        "x + x.T mean": (x + x.T).mean(axis=0),
        "sum": x.sum(),
        "var ddof": (x * 2 - y).var(axis=1, ddof=1),
        "std all": y.std(),
        "argmin": x.argmin(axis=1),
        "nanmax": fa.where(x > 0.5, x, np.nan).max(axis=0),
        "slice": x[::-2, 1:][:, 0],
        "rechunk": (x - y.T).rechunk((7, 11)),
        "concatenate": fa.concatenate([x, y * 3], axis=1).sum(axis=0),
        "reshape": a.reshape(-1) ** 2,
        "from numpy": a.T - a.mean(axis=0),
        "generators": fa.eye(x.shape[0], chunks=x.chunksize[0]) + fa.arange(x.shape[0], chunks=5),
        "any": (x > 0.99).any(axis=0),
        "astype": (x * 100).astype("int32").sum(axis=1),
        "cumsum": fa.cumsum(x, axis=0) - fa.nancumprod(y, axis=1),
        "digitize": fa.digitize(y, [-1.0, 0.0, 0.5]) + fa.digitize(x, [0.9, 0.1], right=True),
        "diagonal": fa.diag(x, 1) + fa.diag(fa.diag(y)).sum(axis=0)[1:],
        "pad": fa.pad(x, ((2, 1), (0, 3)), constant_values=-1.0).sum(axis=0) + fa.pad(y, ((1, 2), (0, 3)), mode="reflect")[:, 0],
        "stack, outer, triu": fa.stack([x, fa.outer(x[0], y[:, 1])]).sum(axis=0) + fa.triu(y),
        "map_blocks": x.map_blocks(np.sin) * 2 + y.map_blocks(functools.partial(np.cumsum, axis=1), dtype="float32"),
        "apply_gufunc": fa.apply_gufunc(np.sort, "(i)->(i)", x.rechunk((c_of(x), -1)), output_dtypes=float),
        "fft": abs(fa.fft.fft(x.rechunk((c, -1)), axis=1)) + fa.fft.fftfreq(n, d=0.5, chunks=c)
        + fa.fft.irfft(fa.fft.rfft(y.rechunk((-1, c)), axis=0), n=n, axis=0),
        "histogram": fa.histogram(x, bins=5, range=(0, 1))[0] + fa.histogram(y, bins=5, weights=x)[0],
        "quantiles": fa.percentile(x.reshape(-1), [10, 50, 90]) + fa.nanquantile(y, [0.1, 0.5, 0.9], axis=0).sum(axis=1),
        "topk, coarsen": x.topk(2, axis=0).sum(axis=0) + y.argtopk(-2, axis=0).sum(axis=0)
        + fa.coarsen(np.max, x, {0: 2}, trim_excess=True).sum(axis=0),
        "mask": x[x > 0.5] * 2,
        "nonzero": fa.nonzero(x > 0.8)[1] + fa.flatnonzero(y < 0).sum(),
        "unique": fa.unique(fa.floor(x * 5), return_counts=True)[1],
        "vindex": x.vindex[[0, n - 1, n // 2], [1, 0, n - 1]] + y.vindex[[[0], [n - 1]], 1].sum(),
        "map_overlap": fa.map_overlap(neighbours, x, depth=1, boundary="reflect"),
        "complex": (x + 1j * y).mean(axis=0) + fa.nanvar(x - 1j * a, axis=1),
        "from_array object": fa.from_array(Wrapped(np.arange(n * n).reshape(n, n) % 5), chunks=c) * x,
    }


class Wrapped:
    """An array-like object that is not a NumPy array: ``from_array`` reads it block by
    block (module-level, so that it travels pickled)."""

    def __init__(self, values):
        self.values, self.shape, self.dtype = values, values.shape, values.dtype

    def __getitem__(self, key):
        return self.values[key]


def neighbours(b):
    """The sum of each element and its neighbours along the first axis."""
    out = b.copy()
    out[1:] += b[:-1]
    out[:-1] += b[1:]
    return out


def c_of(x):
    return x.chunksize[0]


def shifted(b):
    """A module-level function: it travels in graphs pickled with plain ``pickle``."""
    return b - b.min()


def inputs(n=24, c=10, seed=0):
    x = fa.random.random((n, n), chunks=c, seed=seed)
    y = fa.random.normal(size=(n, n), chunks=c, seed=seed + 1)
    a = fa.from_array(np.arange(n * n, dtype="float64").reshape(n, n) % 7, chunks=(c, n))
    return x, y, a


def check(got, want, what):
    assert got.dtype == want.dtype, what
    assert got.shape == want.shape, what
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=what)


def test_every_kind_of_expression_runs_on_dask_sync():
    for what, e in expressions(*inputs()).items():
        check(floe.dask.to_dask(e).compute(scheduler="sync"), e.compute(), what)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 30),
    c=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    pick=st.integers(0, len(expressions(*inputs(4, 2))) - 1),
)
def test_random_expressions_match_locally_and_on_dask(n, c, seed, pick):
    exprs = list(expressions(*inputs(n, min(c, n), seed)).items())
    what, e = exprs[pick]
    check(floe.dask.to_dask(e).compute(scheduler="threads"), e.compute(), what)


def test_the_graph_survives_pickle_and_shares_work():
    x, y, _ = inputs()
    m = x.mean(axis=0)
    dsk, names = floe.dask.graph(m, x - m)
    back = pickle.loads(pickle.dumps(dsk))
    assert back.keys() == dsk.keys()
    # The mean's tasks are there once for both outputs: one fused task per block of the
    # mean (its column's bands reduced, then finalized), the generator's blocks once.
    banded = [k for k, v in dsk.items() if isinstance(v, tuple) and '"banded"' in v[1]]
    assert len(banded) == m.numblocks[0]
    generated = [k for k in dsk if k[0].startswith("uniform-")]
    assert len(generated) == x.numblocks[0] * x.numblocks[1]
    got = dask.get(back, [(names[0], 0), (names[1], 1, 2)])
    np.testing.assert_allclose(got[0], m.compute()[:10])
    np.testing.assert_allclose(got[1], (x - m).compute()[10:20, 20:])


def test_same_array_twice_and_zero_dimensional_results():
    x, _, _ = inputs()
    s = x.sum()
    a, b, c = floe.compute(s, s, x[0, 0], scheduler="sync")
    assert a == b == pytest.approx(float(s.compute()))
    assert c == pytest.approx(float(x[0, 0].compute()))


FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "floe-io", "tests", "fixtures")
DAYS = [os.path.join(FIXTURES, f"day{i}.nc") for i in range(3)]


def file_expressions(tmp):
    """The talk's climate expressions over NetCDF files (contiguous, chunked and deflated,
    packed integers), and arrays read from ``.npy`` files (C and Fortran order) and a
    Zarr store floe wrote."""
    x = fa.open_mfnetcdf(DAYS, "t2m", chunks=(4, 5, 12))
    mean = x.mean(axis=0)
    c = np.arange(7 * 5 * 3, dtype="float64").reshape(7, 5, 3) % 11
    np.save(os.path.join(tmp, "c.npy"), c)
    np.save(os.path.join(tmp, "f.npy"), np.asfortranarray(c[0]))
    fa.to_zarr(fa.from_array(c, chunks=(3, 5, 2)), os.path.join(tmp, "c.zarr"))
    npy = fa.from_npy(os.path.join(tmp, "c.npy"), chunks=(2, 5, 3))
    return {
        "mean over time": mean,
        "anomaly": x[5] - mean,
        "day - night": x[::4].mean(axis=0) - x[2::4].mean(axis=0),
        "chunked": fa.open_netcdf(os.path.join(FIXTURES, "chunked.nc"), "t2m", chunks=(3, 5, 7)).max(axis=1),
        "packed": fa.open_netcdf(os.path.join(FIXTURES, "packed.nc"), "t2m", chunks=(2, 9, 5)) * 2,
        "npy": npy.sum(axis=0) + npy[3],
        "fortran npy": fa.from_npy(os.path.join(tmp, "f.npy"), chunks=(2, 2)).T,
        "zarr": fa.from_zarr(os.path.join(tmp, "c.zarr"), chunks=(4, 5, 3)).mean(axis=(0, 2)),
    }


def check_nan(got, want, what):
    assert got.dtype == want.dtype and got.shape == want.shape, what
    np.testing.assert_array_equal(got, want, err_msg=what)


def test_file_reads_run_on_dask_sync(tmp_path):
    for what, e in file_expressions(str(tmp_path)).items():
        check_nan(floe.dask.to_dask(e).compute(scheduler="sync"), e.compute(), what)


def test_a_file_changed_after_the_graph_was_made_fails_naming_it(tmp_path):
    path = str(tmp_path / "x.npy")
    np.save(path, np.arange(10.0))
    d = floe.dask.to_dask(fa.from_npy(path, chunks=5) * 2)
    np.save(path, np.arange(12.0))
    with pytest.raises(Exception, match="x.npy.*changed since the graph was made"):
        d.compute(scheduler="sync")


def test_functions_over_blocks_of_unknown_size_run_on_dask():
    x, y, _ = inputs()
    m = x[x > 0.5]
    e = m.map_blocks(np.cumsum) * m.map_blocks(np.sin) + y[x > 0.5]
    got = floe.dask.to_dask(e).compute(scheduler="sync")
    check(got, e.compute(), "map_blocks over a selection")
    # A function giving blocks of another length along an unknown axis is its result;
    # another dtype is converted block by block, whatever their sizes.
    f = m.map_blocks(lambda b: b[:1])
    np.testing.assert_array_equal(floe.dask.to_dask(f).compute(scheduler="sync"), f.compute())
    g = m.map_blocks(lambda b: (b[: len(b) // 2] * 100).astype("int16"), dtype="int32")
    check(floe.dask.to_dask(g).compute(scheduler="sync"), g.compute(), "converted")


def test_python_functions_over_blocks_travel_in_the_graph():
    x, _, _ = inputs()
    y = x.map_blocks(shifted)
    dsk, (name,) = floe.dask.graph(y + 1)
    back = pickle.loads(pickle.dumps(dsk))
    got = dask.get(back, [(name, i, j) for i in range(3) for j in range(3)])
    want = (y + 1).compute()
    np.testing.assert_array_equal(np.block([list(got[3 * i:3 * i + 3]) for i in range(3)]), want)
    # A function that writes into its block gets a block of its own, as locally.
    def inplace(b):
        b += 1
        return b

    z = x.map_blocks(inplace) + x
    np.testing.assert_array_equal(floe.dask.to_dask(z).compute(scheduler="sync"), z.compute())
    # Results converted to the block's dtype as floe converts them (NaN and values out of
    # range to integers), not as NumPy does.
    w = x.map_blocks(lambda b: np.where(b > 0.5, np.nan, b * 1e12), dtype="int32")
    np.testing.assert_array_equal(floe.dask.to_dask(w).compute(scheduler="sync"), w.compute())
    # A function that fails, or returns another shape, fails its task with its own error.
    def boom(b):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        floe.dask.to_dask(x.map_blocks(boom)).compute(scheduler="sync")
    with pytest.raises(ValueError, match="returned a block of shape"):
        floe.dask.to_dask(x.map_blocks(lambda b: b[:1])).compute(scheduler="sync")



def test_delayed_values_run_on_dask():
    @floe.delayed
    def inc(x, by=1):
        return x + by

    parts = [inc(i, by=2) for i in range(5)]
    total = floe.delayed(sum)(parts)
    pair = floe.delayed((len, 1))  # a plain tuple dask would otherwise read as a task
    chain = floe.delayed(0)
    for _ in range(3000):  # longer than Python's recursion limit
        chain = inc(chain)
    x, _, _ = inputs()
    got = floe.compute(total, x.sum(), pair, chain, {"a": 1}, scheduler="sync")
    assert got[0] == sum(i + 2 for i in range(5)) == total.compute()
    assert got[1] == pytest.approx(float(x.sum().compute()))
    assert got[2] == (len, 1)
    assert got[3] == 3000
    assert got[4] == {"a": 1}


def test_run_refuses_bad_specs_with_value_errors():
    with pytest.raises(ValueError, match="JSON"):
        floe.dask.run("not json")
    with pytest.raises(ValueError, match="no task kind"):
        floe.dask.run('{"task": "frobnicate"}')
    with pytest.raises(ValueError, match="partial"):
        floe.dask.run(
            '{"task": "finalize", "op": {"name": "mean"}, "axes": [0], "keepdims": false, "dtype": "float64"}',
            np.ones(3),
        )
    with pytest.raises(ValueError, match="task value"):
        floe.dask.run('{"task": "combine", "op": {"name": "sum"}, "axes": [0]}', b"garbage")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_arrays_on_a_local_cluster(client):
    x, y, a = inputs(40, 12, 7)
    exprs = expressions(x, y, a)
    with distributed.get_task_stream(client) as stream:
        got = floe.compute(*exprs.values(), scheduler=client)
    for (what, e), g in zip(exprs.items(), got):
        check(g, e.compute(), what)
    # The tasks ran on both worker processes, each a call of floe's kernels.
    assert {t["worker"] for t in stream.data} == set(client.scheduler_info()["workers"])
    # Delayed calls travel to the workers pickled.
    squares = [floe.delayed(np.square)(np.arange(3) + i) for i in range(4)]
    (total,) = floe.compute(floe.delayed(sum)(squares), scheduler=client)
    np.testing.assert_array_equal(total, sum(np.square(np.arange(3) + i) for i in range(4)))


def linalg_expressions():
    """TSQR (recursing), QR of a short-and-fat array, SVD and ``svd_compressed`` over a
    generator and over data from NumPy, and a matrix product."""
    tall = fa.random.random((600, 6), chunks=(10, 6), seed=1)
    q, r = fa.linalg.tsqr(tall)
    fat = fa.from_array(np.arange(120.0).reshape(4, 30) % 7 + np.eye(4, 30), chunks=(4, 7))
    q2, r2 = fa.linalg.qr(fat)
    u, s, v = fa.linalg.svd(fa.random.random((200, 8), chunks=(50, 8), seed=2))
    cu, cs, cv = fa.linalg.svd_compressed(fa.random.random((300, 120), chunks=(60, 40), seed=3), 5, seed=4)
    a = fa.random.random((30, 400), chunks=(15, 10), seed=5)
    sq = fa.random.random((12, 12), chunks=4, seed=6) + 12 * fa.eye(12, chunks=4)
    b = fa.random.random(12, chunks=4, seed=7)
    fit = fa.linalg.lstsq(fa.random.random((60, 4), chunks=(15, 4), seed=8), fa.random.random(60, chunks=15, seed=9))
    return {
        "solve": fa.linalg.solve(sq, b), "inv": fa.linalg.inv(sq),
        "cholesky": fa.linalg.cholesky(sq @ sq.T), "lstsq": fit[0], "lstsq rank": fit[2],
        "tsqr q": q, "tsqr r": r, "qr q": q2, "qr r": r2,
        "svd u": u, "svd s": s, "svd v": v,
        "compressed u": cu, "compressed s": cs, "compressed v": cv,
        "product": a @ a.T,
    }


def test_linear_algebra_runs_on_dask_sync():
    for what, e in linalg_expressions().items():
        check(floe.dask.to_dask(e).compute(scheduler="sync"), e.compute(), what)


def test_linear_algebra_on_a_local_cluster(client):
    exprs = linalg_expressions()
    got = floe.compute(*exprs.values(), scheduler=client)
    for (what, e), g in zip(exprs.items(), got):
        check(g, e.compute(), what)


def test_python_functions_on_a_local_cluster(client):
    x, _, _ = inputs(30, 7, 2)
    k = 3.5  # a closure's value travels with its function
    y = x.map_blocks(lambda b: np.exp(b) * k, dtype="float32")
    (got,) = floe.compute(y.sum(axis=0), scheduler=client)
    np.testing.assert_allclose(got, y.sum(axis=0).compute(), rtol=1e-6)


def test_file_reads_on_a_local_cluster(client, tmp_path):
    exprs = file_expressions(str(tmp_path))
    got = floe.compute(*exprs.values(), scheduler=client)
    for (what, e), g in zip(exprs.items(), got):
        check_nan(g, e.compute(), what)


def hdf5_arrays(tmp):
    """An HDF5 dataset read through h5py (``lock=True``: floe's own reader bypassed, one
    read at a time), and the same values through a plain object with a lock of its own."""
    h5py = pytest.importorskip("h5py")
    path = os.path.join(tmp, "values.h5")
    values = (np.arange(30 * 8, dtype="int16").reshape(30, 8) * 7) % 23
    with h5py.File(path, "w") as f:
        f.create_dataset("v", data=values, chunks=(5, 8))
    f = h5py.File(path, "r")
    return fa.from_array(f["v"], chunks=(7, 3), lock=True), values


def test_objects_read_through_from_array_run_on_dask_sync(tmp_path):
    import threading

    x, values = hdf5_arrays(str(tmp_path))
    got = floe.dask.to_dask(x.astype("float32") / 2).compute(scheduler="sync")
    np.testing.assert_array_equal(got, values.astype("float32") / 2)
    # The user's lock is held around each read, as locally.
    lock = threading.Lock()
    w = fa.from_array(Wrapped(values), chunks=(7, 3), lock=lock)
    d = floe.dask.to_dask(w.sum(axis=0))
    assert any(v[0] is floe.dask._read_block and v[2] is lock for v in d.dask.values() if isinstance(v, tuple))
    np.testing.assert_array_equal(d.compute(scheduler="threads"), values.sum(axis=0))
    # An object whose reads give the wrong shape fails naming the block.
    bad = fa.from_array(Wrapped(values), chunks=(7, 3))
    tasks = [v for v in floe.dask.to_dask(bad).dask.values() if isinstance(v, tuple)]
    first = next(t for t in tasks if t[0] is floe.dask._read_block and '"index":[0,0]' in t[3])
    with pytest.raises(ValueError, match=r"block \(0, 0\).*shape \(5, 3\)"):
        floe.dask._read_block(Wrapped(values[:5]), None, first[3])


def test_objects_read_through_from_array_on_a_local_cluster(client, tmp_path):
    # An h5py dataset travels to the workers as its file and name (distributed's own
    # serialization of h5py objects), a plain object pickled.
    x, values = hdf5_arrays(str(tmp_path))
    w = fa.from_array(Wrapped(values), chunks=(4, 8))
    got = floe.compute(x.mean(axis=0), (w - x)[::2], scheduler=client)
    np.testing.assert_allclose(got[0], values.mean(axis=0))
    np.testing.assert_array_equal(got[1], np.zeros((15, 8), "int16"))


def test_a_killed_worker_still_gives_the_right_result(client):
    # About 2 GB generated and reduced in 256 tasks: seconds of work on two workers.
    x = fa.random.random((16000, 16000), chunks=1000, seed=3)
    y = ((x + x.T) ** 2).mean(axis=0)
    want = y.compute()
    pids = client.run(os.getpid)
    future = client.compute(floe.dask.to_dask(y))
    # Kill a worker process while it runs tasks (its nanny starts another; dask runs the
    # lost tasks again).
    deadline = time.monotonic() + 30
    busy = []
    while not busy and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        time.sleep(0.01)
    time.sleep(0.2)
    if future.done():
        pytest.skip("the computation finished before a worker could be killed")
    os.kill(pids[busy[0]], signal.SIGKILL)
    got = future.result(timeout=300)
    np.testing.assert_allclose(got, want, rtol=1e-12)
