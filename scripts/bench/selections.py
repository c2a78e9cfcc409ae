"""Selections of data-dependent size, floe against Dask side by side (threaded scheduler,
both on 2 threads): a random 10000 x 10000 float64 array in 1000 x 1000 blocks (800 MB).

  source      x.sum()                          making and reducing x alone
  mask_sum    x[x > 0.5].sum()                 a lazy mask, then a reduction of unknown size
  mask_few    x[x > 0.999].compute()           about 0.1% of the elements, returned
  nonzero     np.flatnonzero(x > 0.999)        positions, returned
  unique      np.unique((x * 1000).astype(int), return_counts=True)
  einsum      np.einsum("ij,ij->i", x, x)      row norms squared
  percentile  np.percentile(x, [5, 50, 95])    floe: exact, two passes; Dask: da.percentile of
                                               the flattened array (approximate, its only form)

Each case runs in a fresh process (peak RSS is the process's); JSON lines on stdout:

  ~/.cache/floe-bench/venv/bin/python scripts/bench/selections.py --reps 2
"""
import argparse
import json
import resource
import subprocess
import sys
import time

N, BLOCK = 10000, 1000
CASES = ["source", "mask_sum", "mask_few", "nonzero", "unique", "einsum", "percentile"]


def run_case(lib, case):
    import numpy as np
    if lib == "floe":
        import floe
        import floe.array as xa
        floe.config.set(threads=2)
        x = xa.random.random((N, N), chunks=(BLOCK, BLOCK), seed=0)
    else:
        import dask
        import dask.array as xa
        dask.config.set(scheduler="threads", num_workers=2)
        x = xa.random.random((N, N), chunks=(BLOCK, BLOCK))
    t = time.perf_counter()
    if case == "source":
        out = x.sum().compute()
    elif case == "mask_sum":
        out = x[x > 0.5].sum().compute()
    elif case == "mask_few":
        out = x[x > 0.999].compute().size
    elif case == "nonzero":
        out = np.flatnonzero(x > 0.999).compute().size
    elif case == "unique":
        v, c = np.unique((x * 1000).astype(int), return_counts=True)
        v, c = (v.compute(), c.compute()) if lib == "floe" else __import__("dask").compute(v, c)
        out = int(c.sum())
    elif case == "einsum":
        out = float(np.einsum("ij,ij->i", x, x).compute().sum())
    elif case == "percentile":
        if lib == "floe":
            out = float(np.percentile(x, [5, 50, 95]).compute()[1])
        else:
            out = float(xa.percentile(x.ravel(), [5, 50, 95]).compute()[1])
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"case": case, "lib": lib, "seconds": round(seconds, 3),
                      "peak_rss_mb": round(rss), "check": float(out)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--case")
    p.add_argument("--lib")
    p.add_argument("--cases", default=",".join(CASES))
    a = p.parse_args()
    if a.case:
        run_case(a.lib, a.case)
        return
    for case in a.cases.split(","):
        for _ in range(a.reps):
            for lib in ["floe", "dask"]:
                subprocess.run([sys.executable, __file__, "--case", case, "--lib", lib], check=True)


if __name__ == "__main__":
    main()
