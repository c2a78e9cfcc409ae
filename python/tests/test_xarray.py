"""floe as xarray's chunk manager (chunked_array_type="floe") against xarray on NumPy."""

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")

import floe.array as fa  # noqa: E402


@pytest.fixture
def ds():
    rng = np.random.default_rng(0)
    t = rng.standard_normal((8, 5, 6)).astype("f4")
    return xr.Dataset(
        {"t2m": (("time", "lat", "lon"), t), "mask": (("lat", "lon"), t[0] > 0)},
        coords={"time": np.arange(8), "lat": np.linspace(-60, 60, 5),
                "lon": np.arange(6) * 60.0},
    )


def test_chunk_builds_floe_arrays_and_computes_as_numpy(ds):
    lazy = ds.chunk({"time": 3, "lon": 4}, chunked_array_type="floe")
    data = lazy.t2m.data
    assert isinstance(data, fa.Array)
    assert data.chunks == ((3, 3, 2), (5,), (4, 2))
    assert lazy.chunks == {"time": (3, 3, 2), "lat": (5,), "lon": (4, 2)}
    for got, want in [
        (lazy.t2m.mean("time"), ds.t2m.mean("time")),
        ((lazy.t2m - lazy.t2m.mean("time")).std("lon"), (ds.t2m - ds.t2m.mean("time")).std("lon")),
        (lazy.t2m.where(lazy.mask).sum(["lat", "lon"]), ds.t2m.where(ds.mask).sum(["lat", "lon"])),
        (np.sqrt(abs(lazy.t2m)).max(), np.sqrt(abs(ds.t2m)).max()),
        (lazy.t2m.isel(time=slice(1, None, 2)), ds.t2m.isel(time=slice(1, None, 2))),
        (lazy.t2m.sel(lat=0.0), ds.t2m.sel(lat=0.0)),
    ]:
        assert isinstance(got.data, fa.Array), "stays lazy"
        xr.testing.assert_allclose(got.compute(), want, rtol=1e-5)
    np.testing.assert_allclose(lazy.t2m.values, ds.t2m.values)
    loaded = lazy.load()
    assert isinstance(loaded.t2m.data, np.ndarray)


def test_rechunk_persist_and_reductions_keep_the_manager(ds):
    lazy = ds.t2m.chunk({"time": 2}, chunked_array_type="floe")
    # Without chunked_array_type xarray would pick Dask where it is installed.
    again = lazy.chunk({"time": 4, "lat": -1}, chunked_array_type="floe")
    assert isinstance(again.data, fa.Array)
    assert again.data.chunks == ((4, 4), (5,), (6,))
    kept = again.persist()
    assert isinstance(kept.data, fa.Array)
    xr.testing.assert_allclose(kept.mean().compute(), ds.t2m.mean(), rtol=1e-5)


def test_open_dataset_reads_blocks_lazily(ds, tmp_path):
    path = tmp_path / "t.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path, chunks={"time": 2}, chunked_array_type="floe") as opened:
        t = opened.t2m
        assert isinstance(t.data, fa.Array)
        assert t.data.chunks[0] == (2, 2, 2, 2)
        day_night = t.isel(time=slice(0, None, 2)).mean("time") - t.isel(time=slice(1, None, 2)).mean("time")
        want = ds.t2m.isel(time=slice(0, None, 2)).mean("time") - ds.t2m.isel(time=slice(1, None, 2)).mean("time")
        xr.testing.assert_allclose(day_night.compute(), want, rtol=1e-5)
        # Written back out through the chunk manager's store, block by block.
        out = tmp_path / "anomaly.nc"
        (t - t.mean("time")).to_dataset(name="anomaly").to_netcdf(out)
    with xr.open_dataset(out) as back:
        xr.testing.assert_allclose(back.anomaly, ds.t2m - ds.t2m.mean("time"), rtol=1e-5)


def test_normalize_chunks_takes_dasks_forms():
    from floe.xarray import FloeManager

    m = FloeManager()
    assert m.normalize_chunks((2, -1), shape=(5, 3), dtype="f8") == ((2, 2, 1), (3,))
    assert m.normalize_chunks({0: 2}, shape=(5, 3), dtype="f8") == ((2, 2, 1), (3,))
    assert m.normalize_chunks(((3, 2), (3,)), shape=(5, 3)) == ((3, 2), (3,))
    assert m.normalize_chunks("auto", shape=(5, 3), dtype="f8") == ((5,), (3,))
    assert m.normalize_chunks(2, shape=(5, 3), dtype="f4") == ((2, 2, 1), (2, 1))


def test_groupby_and_resample_stay_lazy():
    pd = pytest.importorskip("pandas")
    t = np.random.default_rng(1).standard_normal((60, 4, 5))
    ds = xr.Dataset({"t": (("time", "y", "x"), t)},
                    coords={"time": pd.date_range("2000-01-01", periods=60, freq="D")})
    lazy = ds.chunk({"time": 10}, chunked_array_type="floe")
    for got, want in [
        (lazy.t.groupby("time.month").mean(), ds.t.groupby("time.month").mean()),
        (lazy.t.groupby("time.month") - lazy.t.groupby("time.month").mean(),
         ds.t.groupby("time.month") - ds.t.groupby("time.month").mean()),
        (lazy.t.resample(time="7D").mean(), ds.t.resample(time="7D").mean()),
    ]:
        assert isinstance(got.data, fa.Array)
        xr.testing.assert_allclose(got.compute(), want)


def test_apply_ufunc_parallelized(ds):
    lazy = ds.chunk({"time": 3}, chunked_array_type="floe")
    # Elementwise, and a reduction over a core dimension held in one block.
    got = xr.apply_ufunc(np.tanh, lazy.t2m, dask="parallelized", output_dtypes=[np.float32])
    assert isinstance(got.data, fa.Array)
    xr.testing.assert_allclose(got.compute(), np.tanh(ds.t2m), rtol=1e-6)
    span = xr.apply_ufunc(lambda b: b.max(axis=-1) - b.min(axis=-1), lazy.t2m,
                          input_core_dims=[["lon"]], dask="parallelized",
                          output_dtypes=[np.float32])
    assert isinstance(span.data, fa.Array)
    xr.testing.assert_allclose(span.compute(), ds.t2m.max("lon") - ds.t2m.min("lon"))
    with pytest.raises(ValueError, match="core dimension"):
        xr.apply_ufunc(lambda b: b.sum(axis=-1), lazy.t2m, input_core_dims=[["time"]],
                       dask="parallelized", output_dtypes=[np.float32])


def test_first_last_and_unify_chunks():
    pd = pytest.importorskip("pandas")
    t = np.random.default_rng(2).standard_normal((20, 3))
    t[0, 1] = np.nan
    da = xr.DataArray(t, dims=("time", "x"),
                      coords={"time": pd.date_range("2000-01-01", periods=20, freq="D")})
    lazy = da.chunk({"time": 6}, chunked_array_type="floe")
    for got, want in [(lazy.resample(time="5D").first(), da.resample(time="5D").first()),
                      (lazy.resample(time="5D").last(), da.resample(time="5D").last())]:
        assert isinstance(got.data, fa.Array)
        xr.testing.assert_allclose(got.compute(), want)
    from floe.xarray import FloeManager

    a, b = fa.ones((6, 4), chunks=(2, 4)), fa.ones((6,), chunks=3)
    chunks, (a2, b2) = FloeManager().unify_chunks(a, ("t", "x"), b, ("t",))
    assert chunks["t"] == (2, 2, 2) and b2.chunks == ((2, 2, 2),) and a2 is a


def test_inline_repr_does_not_compute(ds):
    lazy = ds.chunk({"time": 3}, chunked_array_type="floe")
    assert lazy.t2m.data._repr_inline_(80) == "floe.Array<chunksize=(3, 5, 6), dtype=float32>"
    assert len(lazy.t2m.data._repr_inline_(20)) == 20
    assert "floe.Array<chunksize=(3, 5, 6)" in repr(lazy)


def test_rolling_windows_stay_lazy():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    t = rng.standard_normal((30, 4, 5))
    t[4, 1, 2] = np.nan
    da = xr.DataArray(t, dims=("time", "y", "x"),
                      coords={"time": pd.date_range("2000-01-01", periods=30, freq="D")})
    lazy = da.chunk({"time": 7, "x": 2}, chunked_array_type="floe")
    for got, want in [
        (lazy.rolling(time=3).mean(), da.rolling(time=3).mean()),
        (lazy.rolling(time=5, center=True).sum(), da.rolling(time=5, center=True).sum()),
        (lazy.rolling(time=4, min_periods=2).max(), da.rolling(time=4, min_periods=2).max()),
        (lazy.rolling(time=3, x=2).mean(), da.rolling(time=3, x=2).mean()),
        (lazy.rolling(time=9).construct("w"), da.rolling(time=9).construct("w")),
    ]:
        assert isinstance(got.data, fa.Array), "stays lazy"
        xr.testing.assert_allclose(got.compute(), want)


def test_map_blocks_blockwise_and_scan_follow_dask():
    from floe.xarray import FloeManager

    m = FloeManager()
    a = np.arange(24.0).reshape(4, 6)
    x = fa.from_array(a, chunks=(2, 3))
    # Same shape, several arrays, extra arguments.
    got = m.map_blocks(lambda u, k, v: u * k + v, x, 10, fa.from_array(a, chunks=(4, 2)))
    assert got.chunks == x.chunks
    np.testing.assert_array_equal(got.compute(), a * 10 + a)
    # A new leading axis, as xarray's isocalendar asks.
    stacked = m.map_blocks(lambda b: np.stack([b, -b]), x, new_axis=0, chunks=(2, 2, 3))
    assert stacked.chunks == ((2,), (2, 2), (3, 3))
    np.testing.assert_array_equal(stacked.compute(), np.stack([a, -a]))
    # A dropped axis, read whole, as xarray's char-to-bytes asks.
    rows = m.map_blocks(lambda b: b.sum(axis=1), x, drop_axis=1, chunks=((2, 2),))
    np.testing.assert_array_equal(rows.compute(), a.sum(axis=1))
    with pytest.raises(ValueError, match="blocks"):
        m.map_blocks(lambda b: b, x, chunks=((1, 1, 2), (3, 3)))
    # blockwise in index notation: a transpose and a contraction.
    t = m.blockwise(lambda b: b.T, "ji", x, "ij", dtype="f8")
    np.testing.assert_array_equal(t.compute(), a.T)
    y = fa.from_array(np.ones((6, 5)), chunks=(3, 5))
    prod = m.blockwise(lambda u, v: u @ v, "ik", x, "ij", y, "jk", dtype="f8", concatenate=True)
    np.testing.assert_allclose(prod.compute(), a @ np.ones((6, 5)))
    # scan: a cumulative sum, and a forward fill carried across blocks (xarray's push).
    v = np.array([[1.0, np.nan, np.nan, 4, np.nan, np.nan, np.nan, 2]] * 2)
    z = fa.from_array(v, chunks=(1, 3))
    cs = m.scan(np.cumsum, np.add, 0, fa.from_array(a, chunks=(1, 2)), axis=0, dtype="f8")
    np.testing.assert_array_equal(cs.compute(), np.cumsum(a, axis=0))

    def ffill(b, axis):
        out = b.copy()
        for i in range(1, b.shape[axis]):
            prev = np.take(out, [i - 1], axis=axis)
            cur = np.take(out, [i], axis=axis)
            idx = [slice(None)] * b.ndim
            idx[axis] = slice(i, i + 1)
            out[tuple(idx)] = np.where(np.isnan(cur), prev, cur)
        return out

    def last_valid(b, axis, keepdims):
        return np.take(ffill(b, axis), [-1], axis=axis)

    filled = m.scan(ffill, lambda c, b: np.where(np.isnan(b), c, b), np.nan, z, axis=1,
                    dtype="f8", preop=last_valid)
    np.testing.assert_array_equal(filled.compute(), ffill(v, 1))


def test_store_later_and_to_zarr(ds, tmp_path):
    from floe.xarray import FloeManager

    x = fa.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    out = np.zeros((5, 4))
    pending = FloeManager().store([x], [out], regions=[(slice(1, 4), slice(None))],
                                  compute=False)
    assert not out.any(), "nothing written before compute"
    pending.compute()
    np.testing.assert_array_equal(out[1:4], np.arange(12.0).reshape(3, 4))
    assert not out[0].any() and not out[4].any()
    pytest.importorskip("zarr")
    lazy = ds.chunk({"time": 3}, chunked_array_type="floe")
    (lazy.t2m * 2).to_dataset(name="twice").to_zarr(tmp_path / "t.zarr", consolidated=False)
    with xr.open_zarr(tmp_path / "t.zarr", consolidated=False,
                     chunked_array_type="floe") as back:
        assert isinstance(back.twice.data, fa.Array)
        xr.testing.assert_allclose(back.twice.compute(), ds.t2m * 2)


def test_file_variables_take_floes_reader_only_when_values_agree(tmp_path):
    # A plain float variable: read by floe's reader (its pickle recipe says so).
    rng = np.random.default_rng(4)
    plain = rng.standard_normal((6, 4, 5)).astype("f4")
    packed = xr.DataArray(np.round(rng.standard_normal((6, 4, 5)) * 10, 1),
                          dims=("time", "y", "x"))
    packed[0, 0, 0] = np.nan
    ds = xr.Dataset({"plain": (("time", "y", "x"), plain), "packed": packed})
    path = tmp_path / "mixed.nc"
    ds.to_netcdf(path, encoding={"packed": {"dtype": "i2", "scale_factor": 0.1,
                                            "_FillValue": -9999}})
    engines = ["netcdf4"]
    try:
        import h5netcdf  # noqa: F401
        engines.append("h5netcdf")
    except ImportError:
        pass
    for engine in engines:
        with xr.open_dataset(path, engine=engine, chunks={"time": 4},
                             chunked_array_type="floe") as opened, \
                xr.open_dataset(path, engine=engine) as eager:
            assert opened.plain.data._recipe[1][0] == "open_netcdf", engine
            assert opened.plain.data.chunks[0] == (4, 2)
            # CF-encoded: xarray decodes it; floe reads through xarray and agrees.
            assert opened.packed.data._recipe[1][0] == "from_array", engine
            for name in ["plain", "packed"]:
                xr.testing.assert_allclose(opened[name].compute(), eager[name])
            xr.testing.assert_allclose((opened.plain - opened.packed).mean("time").compute(),
                                       (eager.plain - eager.packed).mean("time"))


def test_lazy_arrays_pickle_copy_and_tokenize(tmp_path):
    import copy
    import pickle

    sources = [fa.ones((4, 6), chunks=(2, 3)), fa.random.random((5, 5), chunks=2, seed=7),
               fa.from_array(np.arange(10.0), chunks=3), fa.arange(12, chunks=5)]
    fa.to_npy(fa.arange(8.0, chunks=3), str(tmp_path / "a.npy"))
    sources.append(fa.from_npy(str(tmp_path / "a.npy"), chunks=4))
    for x in sources:
        y = pickle.loads(pickle.dumps(x))
        assert isinstance(y, fa.Array) and y.chunks == x.chunks and y.dtype == x.dtype
        np.testing.assert_array_equal(y.compute(), x.compute())
    derived = sources[0] + 1
    # xarray results pickle lazily too: the calls of floe.array and of the chunk manager
    # that made them are replayed.
    times = pd.date_range("2014-01-01", periods=40)
    eager = xr.Dataset({"t": (("time", "x"), np.random.default_rng(1).random((40, 6)))},
                       coords={"time": times})
    lazy = eager.chunk({"time": 8}, chunked_array_type="floe")
    for f in (lambda d: d.t.mean("time"), lambda d: d.groupby("time.month").mean(),
              lambda d: d.t.rolling(time=3).mean(), lambda d: d.t.resample(time="10D").first(),
              lambda d: d.t - d.t.mean("time"), lambda d: d):
        back = pickle.loads(pickle.dumps(f(lazy)))
        data = back if isinstance(back, xr.Dataset) else back.to_dataset(name="r")
        assert all(isinstance(v.data, fa.Array) for v in data.data_vars.values())
        xr.testing.assert_allclose(back.compute(), f(eager))
    # Copies share the (immutable) expression; xarray's deep copies use this.
    for c in (copy.copy(derived), copy.deepcopy(derived)):
        np.testing.assert_array_equal(c.compute(), derived.compute())
    ds = xr.Dataset({"v": (("a", "b"), derived)})
    np.testing.assert_array_equal(ds.copy(deep=True).v.values, derived.compute())
    # Dask's tokenize protocol: one token per expression, the same for the same object.
    assert derived.__dask_tokenize__() == derived.__dask_tokenize__()
    assert derived.__dask_tokenize__() == copy.copy(derived).__dask_tokenize__()
    assert derived.__dask_tokenize__() != (sources[0] + 1).__dask_tokenize__()


def test_climate_xarray_example_matches_numpy(tmp_path):
    import importlib.util
    import os

    from test_climate_example import write_days

    x = write_days(str(tmp_path))
    spec = importlib.util.spec_from_file_location(
        "climate_xarray",
        os.path.join(os.path.dirname(__file__), "..", "examples", "climate_xarray.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    maps = example.main(str(tmp_path), str(tmp_path))
    i = x.shape[0] // 2
    np.testing.assert_allclose(maps["mean"], x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(maps["anomaly"], x[i] - x.mean(axis=0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(maps["day-vs-night"], x[::4].mean(0) - x[2::4].mean(0),
                               rtol=1e-5, atol=1e-4)
    for name in ["mean", "anomaly", "day-vs-night"]:
        assert os.path.getsize(tmp_path / f"{name}.png") > 1000


def test_xarray_finds_the_manager_by_name_option_and_array_type(ds):
    from xarray.namedarray.parallelcompat import (
        get_chunked_array_type, guess_chunkmanager, list_chunkmanagers)

    from floe.xarray import FloeManager

    assert isinstance(list_chunkmanagers()["floe"], FloeManager)
    assert isinstance(guess_chunkmanager("floe"), FloeManager)
    x = fa.ones((3, 4), chunks=2)
    assert isinstance(get_chunked_array_type(x, np.ones(3), 1.0), FloeManager)
    with pytest.raises(TypeError):
        get_chunked_array_type(np.ones(3))
    with xr.set_options(chunk_manager="floe"):
        lazy = ds.chunk({"time": 4})
    assert isinstance(lazy.t2m.data, fa.Array)
    # A floe array given to xarray directly is recognised as chunked.
    da = xr.DataArray(x, dims=("a", "b"))
    assert da.chunks == ((2, 1), (2, 2))
    assert isinstance((da * 2).sum("a").data, fa.Array)
