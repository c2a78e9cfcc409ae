"""The talk's notebook (examples/climate.py) end to end on a tiny synthetic set of daily
NetCDF files written with netCDF4."""

import importlib.util
import os

import netCDF4  # installed with matplotlib by scripts/test.sh
import numpy as np


def write_days(directory, days=3, lat=37, lon=72):
    rng = np.random.default_rng(0)
    data = []
    for d in range(days):
        t = (280 + rng.standard_normal((4, lat, lon)) * 5).astype("f4")
        with netCDF4.Dataset(os.path.join(directory, f"2014-01-{d + 1:02d}.nc"), "w") as ds:
            ds.createDimension("time", 4)
            ds.createDimension("latitude", lat)
            ds.createDimension("longitude", lon)
            v = ds.createVariable("t2m", "f4", ("time", "latitude", "longitude"))
            v[:] = t
        data.append(t)
    return np.concatenate(data)


def test_the_climate_notebook_runs_and_matches_numpy(tmp_path):
    x = write_days(str(tmp_path))
    spec = importlib.util.spec_from_file_location(
        "climate", os.path.join(os.path.dirname(__file__), "..", "examples", "climate.py"))
    climate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(climate)
    mean, anomaly, day_night = climate.main(str(tmp_path), str(tmp_path))
    i = x.shape[0] // 2
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(anomaly, x[i] - x.mean(axis=0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(day_night, x[::4].mean(0) - x[2::4].mean(0), rtol=1e-5, atol=1e-4)
    for name in ["mean", "anomaly", "day-vs-night"]:
        assert os.path.getsize(tmp_path / f"{name}.png") > 1000


class CountingLock:
    """A lock that records how many holders it ever had at once."""

    def __init__(self):
        import threading
        self._lock, self.held, self.most, self.uses = threading.Lock(), 0, 0, 0

    def acquire(self):
        self._lock.acquire()
        self.held += 1
        self.uses += 1
        self.most = max(self.most, self.held)

    def release(self):
        self.held -= 1
        self._lock.release()


def test_netcdf4_variables_are_read_safely_in_parallel_runs(tmp_path):
    import floe
    import floe.array as fa
    x = write_days(str(tmp_path), days=4)
    floe.config.set(threads=2)
    try:
        for _ in range(5):
            datasets = [netCDF4.Dataset(str(p)) for p in sorted(tmp_path.glob("*.nc"))]
            parts = [fa.from_array(d.variables["t2m"], chunks=(1, 10, 10)) for d in datasets]
            got = fa.concatenate(parts).mean(axis=0).compute()
            np.testing.assert_allclose(got, x.mean(axis=0), rtol=1e-5)
            for d in datasets:
                d.close()
        # Dask's lock= argument: a lock object is held around every read.
        lock = CountingLock()
        a = np.arange(100.0).reshape(10, 10)
        np.testing.assert_array_equal(fa.from_array(_Wrapped(a), chunks=2, lock=lock).compute(), a)
        assert lock.uses == 25 and lock.most == 1
        np.testing.assert_array_equal(fa.from_array(_Wrapped(a), chunks=5, lock=False).compute(), a)
        import pytest
        with pytest.raises(TypeError, match="lock"):
            fa.from_array(_Wrapped(a), lock=3)
    finally:
        floe.config.set()


class _Wrapped:
    """An array-like that is not a NumPy array (read through __getitem__)."""

    def __init__(self, a):
        self.a, self.shape, self.dtype = a, a.shape, a.dtype

    def __getitem__(self, key):
        return self.a[key]


def test_netcdf4_variables_take_floes_reader(tmp_path):
    import floe.array as fa
    path = str(tmp_path / "masked.nc")
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("y", 6)
        ds.createDimension("x", 5)
        v = ds.createVariable("t", "i2", ("y", "x"), fill_value=-999)
        v.scale_factor, v.add_offset = 0.5, 10.0
        raw = (np.arange(30).reshape(6, 5) * 3 - 40).astype("i2")
        v[:] = raw * 0.5 + 10.0
        v[2, 3] = np.ma.masked
    ds = netCDF4.Dataset(path)
    var = ds.variables["t"]
    want = var[:]                                  # netCDF4's masked, scaled values
    x = fa.from_array(var, chunks=(4, 5))
    ds.close()                                     # floe reads by path: closing is fine
    got = x.compute()
    np.testing.assert_allclose(got[~want.mask], want.compressed())
    assert np.isnan(got[2, 3])
    # lock= reads through netCDF4 itself, as Dask does.
    with netCDF4.Dataset(path) as ds2:
        through = fa.from_array(ds2.variables["t"], chunks=(4, 5), lock=True).compute()
    np.testing.assert_allclose(through[~want.mask], want.compressed())


def test_h5py_and_h5netcdf_datasets_read_in_parallel_safely(tmp_path):
    import pytest

    import floe
    import floe.array as fa
    h5py = pytest.importorskip("h5py")
    x = write_days(str(tmp_path), days=2)
    files = sorted(tmp_path.glob("*.nc"))
    with h5py.File(files[0], "r") as f:
        ds = f["t2m"]
        a = fa.from_array(ds, chunks=(2, 10, 10))
        # A plain variable of the root group: floe's own reader, from the path.
        assert a._recipe[1][0] == "open_netcdf"
        np.testing.assert_array_equal(a.compute(), x[:4])
        # lock= reads through h5py itself.
        b = fa.from_array(ds, chunks=(2, 10, 10), lock=True)
        assert b._recipe[1][0] == "from_array"
        np.testing.assert_array_equal(b.compute(), x[:4])
    # A dataset with CF attributes (h5py returns the stored numbers) and one in a group:
    # read through h5py under floe's HDF5 lock, many blocks from two threads.
    path = tmp_path / "plain.h5"
    raw = (np.arange(600).reshape(20, 30) % 97).astype("i2")
    with h5py.File(path, "w") as f:
        f["packed"] = raw
        f["packed"].attrs["scale_factor"] = 0.5
        f.create_group("g")["inner"] = raw.astype("f8")
    floe.config.set(threads=2)
    try:
        with h5py.File(path, "r") as f:
            p = fa.from_array(f["packed"], chunks=(3, 4))
            g = fa.from_array(f["g/inner"], chunks=(3, 4))
            assert p._recipe[1][0] == "from_array" and g._recipe[1][0] == "from_array"
            got_p, got_g = floe.compute(p, g)
        np.testing.assert_array_equal(got_p, raw)
        np.testing.assert_array_equal(got_g, raw.astype("f8"))
    finally:
        floe.config.set()
    h5netcdf = pytest.importorskip("h5netcdf")
    with h5netcdf.File(files[1], "r") as f:
        v = fa.from_array(f.variables["t2m"], chunks=(4, 37, 72))
        assert v._recipe[1][0] == "open_netcdf"
        np.testing.assert_array_equal(v.compute(), x[4:])
