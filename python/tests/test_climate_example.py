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
