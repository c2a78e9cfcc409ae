"""NumPy's side of `floe-bench elementwise --case sum_1gb`: `np.sum` over the same 1 GB
float64 array (the same values: floe's `random.uniform(seed=0)` numbers, rebuilt here from
its SplitMix64 stream), timed warm, with the error of each sum against `math.fsum`.

    python python/bench/numpy_sum.py [--reps 3] [--ill]

`--ill` sums ill-conditioned values instead (the same as the Rust case's `--ill` variant:
large terms that nearly cancel): the error column is what to compare.
"""

import argparse
import json
import math
import time

import numpy as np

N = 1 << 27  # 2^27 float64 = 1 GiB


def splitmix_uniform(seed, n):
    """floe's `random::uniform(.., seed, 0, 1)`: element i is mix(mix(seed + G) + (i + 1) G)."""
    g = np.uint64(0x9E3779B97F4A7C15)

    def mix(z):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    with np.errstate(over="ignore"):
        base = mix(np.uint64(seed) + g)
        out = np.empty(n, dtype=np.float64)
        step = 1 << 22
        for lo in range(0, n, step):
            i = np.arange(lo, min(lo + step, n), dtype=np.uint64)
            state = base + (i + np.uint64(1)) * g
            bits = np.uint64(0x3FF0000000000000) | (mix(state) >> np.uint64(12))
            out[lo : lo + len(i)] = bits.view(np.float64) - 1.0
    return out


def ill_conditioned(x):
    """Large terms that nearly cancel, carrying small ones: (u - 0.5) * 1e12 + u."""
    return (x - 0.5) * 1e12 + x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ill", action="store_true")
    args = ap.parse_args()
    x = splitmix_uniform(0, N)
    if args.ill:
        x = ill_conditioned(x)
    exact = math.fsum(x)
    for _ in range(args.reps):
        t = time.perf_counter()
        s = float(np.sum(x))
        wall = time.perf_counter() - t
        print(json.dumps({
            "workload": "elementwise", "case": "sum_1gb" + ("_ill" if args.ill else ""),
            "tool": "numpy", "wall_s": round(wall, 4), "sum": s,
            "abs_error": abs(s - exact), "bytes": x.nbytes,
        }), flush=True)


if __name__ == "__main__":
    main()
