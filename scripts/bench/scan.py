"""The blocked-scan reference: `cumsum` along each axis against `sum(axis=0)` of a random
20000 x 20000 float64 array in 2000 x 2000 blocks (3.2 GB), in Dask (threaded scheduler).
Each block of a cumulative sum is consumed as it is made (stored into a target that drops
it), as `floe-bench scan` does.

  source       x alone, made and dropped
  sum0         x.sum(axis=0)
  cumsum0      x.cumsum(axis=0)
  cumsum1      x.cumsum(axis=1)
  histogram    da.histogram(x, bins=100, range=(0, 1))
  numpy_cumsum0  np.cumsum over the whole array in memory (one thread), for scale

The floe side: `floe-bench scan --threads 2`.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench"))
from benchlib import main  # noqa: E402

N, BLOCK = 20000, 2000


class Drop:
    """A store target that keeps nothing."""

    def __setitem__(self, key, value):
        pass


def x():
    import dask.array as da
    return da.random.random((N, N), chunks=(BLOCK, BLOCK))


def consume(y):
    import dask.array as da
    da.store(y, Drop(), lock=False)


def source():
    consume(x())


def sum0():
    x().sum(axis=0).compute()


def cumsum0():
    consume(x().cumsum(axis=0))


def cumsum1():
    consume(x().cumsum(axis=1))


def histogram():
    import dask.array as da
    counts, _ = da.histogram(x(), bins=100, range=(0, 1))
    counts.compute()


def numpy_cumsum0():
    import numpy as np
    a = np.random.default_rng(0).random((N, N))
    np.cumsum(a, axis=0)


params = dict(shape=(N, N), chunks=(BLOCK, BLOCK))
cases = {
    "source": ("dask", params, source),
    "sum0": ("dask", params, sum0),
    "cumsum0": ("dask", params, cumsum0),
    "cumsum1": ("dask", params, cumsum1),
    "histogram": ("dask", params, histogram),
    "numpy_cumsum0": ("numpy", params, numpy_cumsum0),
}

if __name__ == "__main__":
    main("scan", cases)
