"""The talk's climate mean as climate users write it — over ``netCDF4.Variable`` objects and
through xarray — with floe and with Dask, side by side, as JSON lines.

    python python/bench/xarray_climate.py --data DIR [--reps 3] [--case NAME ...]

DIR holds daily files from ``gen_climate.py --days 120`` (``t2m`` (4, 721, 1440) float32).
Each run is a fresh process (its ``peak_rss_mb`` is its own). Cases:

- ``floe_notebook`` / ``dask_notebook_lock``: the talk's notebook line for line,
  ``from_array(netCDF4.Dataset(fn).variables["t2m"], chunks=(4, 200, 200))`` over every
  file, concatenated, ``mean(axis=0)``; Dask needs one shared lock (HDF5 is not
  thread-safe), floe reads the variables with its own reader.
- ``floe_xarray`` / ``xarray_dask``: ``xr.open_mfdataset(files, ...).t2m.mean("time")``
  with ``chunked_array_type="floe"`` and with Dask (one block per file in both).
- ``floe_mfnetcdf``: ``fa.open_mfnetcdf(files, "t2m").mean(axis=0)``, what ``floe climate``
  computes for its mean map.

Install floe in release mode into the environment first (``pip install ./python``).
"""

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def floe_notebook(files):
    import netCDF4

    import floe.array as fa
    arrays = [fa.from_array(netCDF4.Dataset(fn).variables["t2m"], chunks=(4, 200, 200))
              for fn in files]
    return fa.concatenate(arrays, axis=0).mean(axis=0).compute()


def dask_notebook_lock(files):
    import dask.array as da
    import netCDF4
    from dask.utils import SerializableLock

    lock = SerializableLock()
    arrays = [da.from_array(netCDF4.Dataset(fn).variables["t2m"], chunks=(4, 200, 200),
                            lock=lock) for fn in files]
    return da.concatenate(arrays, axis=0).mean(axis=0).compute()


def floe_xarray(files):
    import xarray as xr
    with xr.open_mfdataset(files, chunked_array_type="floe") as ds:
        return ds.t2m.mean("time").values


def xarray_dask(files):
    import xarray as xr
    with xr.open_mfdataset(files, parallel=False) as ds:
        return ds.t2m.mean("time").values


def floe_mfnetcdf(files):
    import floe.array as fa
    return fa.open_mfnetcdf(files, "t2m").mean(axis=0).compute()


CASES = {f.__name__: f for f in [floe_notebook, dask_notebook_lock, floe_xarray, xarray_dask,
                                 floe_mfnetcdf]}
TOOLS = {"floe_notebook": "floe", "dask_notebook_lock": "dask", "floe_xarray": "xarray+floe",
         "xarray_dask": "xarray+dask", "floe_mfnetcdf": "floe"}


def one(case, data):
    files = sorted(glob.glob(os.path.join(data, "*.nc")))
    t0 = time.perf_counter()
    out = CASES[case](files)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "workload": "climate_xarray", "case": case, "tool": TOOLS[case],
        "wall_s": round(wall, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "params": {"files": len(files), "checksum": round(float(out.mean()), 3)},
    }), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.path.join(
        os.environ.get("BENCH_DATA", os.path.expanduser("~/.cache/floe-bench/data")), "climate"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--case", action="append", choices=sorted(CASES))
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        return one(a.one, a.data)
    walls = {}
    for case in a.case or list(CASES):
        for _ in range(a.reps):
            r = subprocess.run([sys.executable, __file__, "--data", a.data, "--one", case],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(json.dumps({"case": case, "error": r.stderr.strip().splitlines()[-1:]}))
                break
            line = r.stdout.strip().splitlines()[-1]
            print(line, flush=True)
            walls.setdefault(case, []).append(json.loads(line)["wall_s"])
    for case, w in walls.items():
        print(f"# {case}: median {statistics.median(w):.3f} s over {len(w)}", file=sys.stderr)


if __name__ == "__main__":
    main()
