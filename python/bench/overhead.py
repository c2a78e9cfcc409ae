"""Wall time of floe's Python API on floe-bench's workloads, as JSON lines, to compare with
`floe-bench elementwise --case random` and `floe-bench climate --data DIR` in one session.

    python python/bench/overhead.py [--data DIR] [--reps 3]

Build the package with `maturin develop --release` first.
"""

import argparse
import glob
import json
import os
import time

import floe
import floe.array as fa


def elementwise():
    t0 = time.perf_counter()
    x = fa.random.random((20000, 20000), chunks=(2000, 2000), seed=0)
    y = (x + x.T).mean(axis=0)
    y.compute()
    return time.perf_counter() - t0


def climate(files, case):
    t0 = time.perf_counter()
    x = fa.open_mfnetcdf(files, "t2m")
    if case == "mean":
        outs = [x.mean(axis=0)]
    elif case == "anom":
        outs = [x[100] - x.mean(axis=0)]
    else:
        outs = [x[::4].mean(axis=0) - x[2::4].mean(axis=0)]
    floe.compute(*outs)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data")
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    runs = [("elementwise", "random", elementwise)]
    if a.data:
        files = sorted(glob.glob(os.path.join(a.data, "*.nc")))
        for case in ["mean", "anom", "diff"]:
            runs.append(("climate", f"cfile_{case}", lambda c=case: climate(files, c)))
    for workload, case, fn in runs:
        for _ in range(a.reps):
            print(json.dumps({"workload": workload, "case": case, "tool": "floe-python",
                              "wall_s": round(fn(), 4)}), flush=True)


if __name__ == "__main__":
    main()
