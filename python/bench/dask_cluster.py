"""floe on a dask.distributed cluster against dask.array on the same cluster, same
session: `(x + x.T).mean(axis=0)` over a 20000² float64 random array in 2000² blocks (and
over `ones`), and with `--climate DIR` the talk's mean over time of `t2m` in a directory
of daily NetCDF files (floe: `open_mfnetcdf`, one block per file; dask: xarray's
`open_mfdataset(..., chunks={})`, one block per file, its dask array), on a
`LocalCluster` of 2 worker processes with 1 thread each (loopback).

    python python/bench/dask_cluster.py [--reps 3] [--n 20000] [--chunk 2000] [--climate DIR]

With `--ops`, operations that run as floe block functions on the workers, against the
same in dask.array over a 10000² random array (or 10⁸ values): a histogram with a given
range, a mask's selection summed, the 10 largest of each column, the mean spectrum of the
rows (FFT along rows held whole), and percentiles of every value (floe's are exact;
dask's `percentile` merges per-block estimates).

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


def ops(n=10000, c=2000, size=10**8):
    """Per case: (floe expression, dask expression, a check of a result)."""
    fx = lambda chunks=c: fa.random.random((n, n), chunks=chunks, seed=0)  # noqa: E731
    dx = lambda chunks=c: da.random.default_rng(0).random((n, n), chunks=chunks)  # noqa: E731
    fv, dv = fa.random.random(size, chunks=10**7, seed=1), da.random.default_rng(1).random(size, chunks=10**7)
    total = lambda h: int(h.sum()) == n * n  # noqa: E731
    return {
        "histogram": (lambda: fa.histogram(fx(), bins=100, range=(0, 1))[0],
                      lambda: da.histogram(dx(), bins=100, range=(0, 1))[0], total),
        "mask sum": (lambda: (lambda x: x[x > 0.5].sum())(fx()),
                     lambda: (lambda x: x[x > 0.5].sum())(dx()),
                     lambda s: abs(float(s) / (0.375 * n * n) - 1) < 0.01),
        "topk": (lambda: fx().topk(10, axis=0), lambda: da.topk(dx(), 10, axis=0),
                 lambda t: t.shape == (10, n) and bool((t > 0.99).all())),
        "fft rows": (lambda: abs(fa.fft.rfft(fx((1000, n)), axis=1)).mean(axis=0),
                     lambda: abs(da.fft.rfft(dx((1000, n)), axis=1)).mean(axis=0),
                     lambda m: m.shape == (n // 2 + 1,)),
        "percentile": (lambda: fa.percentile(fv, [1, 50, 99]), lambda: da.percentile(dv, [1, 50, 99]),
                       lambda p: np.allclose(p, [0.01, 0.5, 0.99], atol=1e-3)),
    }


def run_ops(client, reps):
    for case, (make_floe, make_dask, ok) in ops().items():
        for _ in range(reps):
            for system in ("floe", "dask"):
                expr = make_floe() if system == "floe" else make_dask()
                if system == "floe":
                    tasks = len(floe.dask.graph(expr)[0])
                    t = time.perf_counter()
                    (out,) = floe.compute(expr, scheduler=client)
                else:
                    tasks = len(dict(expr.__dask_graph__()))
                    t = time.perf_counter()
                    (out,) = dask.compute(expr, scheduler=client)
                wall = time.perf_counter() - t
                if not ok(np.asarray(out)):
                    raise SystemExit(f"{system} {case}: a wrong result")
                print(json.dumps({
                    "workload": "dask_cluster", "system": system, "case": case,
                    "workers": 2, "tasks": tasks, "seconds": round(wall, 4),
                }), flush=True)


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
    ap.add_argument("--ops", action="store_true", help="only the block-function operations")
    args = ap.parse_args()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        if args.ops:
            run_ops(client, args.reps)
            return
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
