"""floe as xarray's chunk manager (chunked_array_type="floe") against xarray on NumPy."""

import numpy as np
import pytest

xr = pytest.importorskip("xarray")

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
    again = lazy.chunk({"time": 4, "lat": -1})
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
    with pytest.raises(NotImplementedError, match="scan"):
        m.scan(np.cumsum, np.add, 0, fa.ones(3, chunks=1))


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
