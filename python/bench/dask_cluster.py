"""floe on a dask.distributed cluster against dask.array on the same cluster, same
session: `(x + x.T).mean(axis=0)` over a 20000² float64 random array in 2000² blocks (and
over `ones`), and with `--climate DIR` the talk's mean over time of `t2m` in a directory
of daily NetCDF files (floe: `open_mfnetcdf`, one block per file; dask: xarray's
`open_mfdataset(..., chunks={})`, one block per file, its dask array), on a
`LocalCluster` of 2 worker processes with 1 thread each (loopback).

    python python/bench/dask_cluster.py [--reps 3] [--n 20000] [--chunk 2000] [--climate DIR]

Seconds are the computation's (graph built and handed over, results gathered), not the
opening of the files.

One JSON line per run: the system (`floe`: floe's tasks through `floe.compute(...,
scheduler=client)`; `dask`: the same expression in dask.array), the case, seconds, and
the number of tasks the scheduler ran.
"""

import argparse
import glob
import json
import os
import time

import dask
import dask.array as da
import distributed
import numpy as np

import floe
import floe.array as fa
import floe.dask


def cases(n, c):
    return {
        "random": (
            lambda: fa.random.random((n, n), chunks=c, seed=0),
            lambda: da.random.default_rng(0).random((n, n), chunks=c),
        ),
        "ones": (
            lambda: fa.ones((n, n), chunks=c),
            lambda: da.ones((n, n), chunks=c),
        ),
    }


def climate(client, files, reps):
    import xarray as xr

    want = None
    for _ in range(reps):
        for system in ("floe", "dask"):
            if system == "floe":
                expr = fa.open_mfnetcdf(files, "t2m").mean(axis=0)
                tasks = len(floe.dask.graph(expr)[0])
                t = time.perf_counter()
                (out,) = floe.compute(expr, scheduler=client)
            else:
                ds = xr.open_mfdataset(files, combine="nested", concat_dim="time", chunks={})
                expr = ds["t2m"].data.mean(axis=0)
                tasks = len(dict(expr.__dask_graph__()))
                t = time.perf_counter()
                (out,) = dask.compute(expr, scheduler=client)
                ds.close()
            wall = time.perf_counter() - t
            want = out if want is None else want
            if not np.allclose(out, want, rtol=1e-5):
                raise SystemExit(f"{system}: the means differ")
            print(json.dumps({
                "workload": "dask_cluster", "system": system, "case": "climate",
                "expr": "t2m.mean(axis=0)", "files": len(files), "shape": list(np.shape(out)),
                "workers": 2, "tasks": tasks, "seconds": round(wall, 4),
            }), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--climate", help="a directory of daily NetCDF files (floe climate --synthetic)")
    ap.add_argument("--only-climate", action="store_true")
    args = ap.parse_args()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        if args.climate:
            files = sorted(glob.glob(os.path.join(args.climate, "*.nc")))
            climate(client, files, args.reps)
        for case, (make_floe, make_dask) in cases(args.n, args.chunk).items():
            if args.only_climate:
                break
            for _ in range(args.reps):
                for system in ("floe", "dask"):
                    if system == "floe":
                        x = make_floe()
                        expr = (x + x.T).mean(axis=0)
                        tasks = len(floe.dask.graph(expr)[0])
                        t = time.perf_counter()
                        (out,) = floe.compute(expr, scheduler=client)
                    else:
                        x = make_dask()
                        expr = (x + x.T).mean(axis=0)
                        tasks = len(dict(expr.__dask_graph__()))
                        t = time.perf_counter()
                        (out,) = dask.compute(expr, scheduler=client)
                    wall = time.perf_counter() - t
                    if case == "ones" and not np.all(out == 2.0):
                        raise SystemExit(f"{system}: wrong result")
                    print(json.dumps({
                        "workload": "dask_cluster", "system": system, "case": case,
                        "expr": "(x + x.T).mean(axis=0)", "shape": [args.n, args.n],
                        "chunks": [args.chunk, args.chunk], "workers": 2,
                        "tasks": tasks, "seconds": round(wall, 4),
                    }), flush=True)


if __name__ == "__main__":
    main()
