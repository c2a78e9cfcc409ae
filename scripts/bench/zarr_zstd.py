"""The compressed-Zarr reference: `mean(axis=0)` of a 4 GB float64 Zarr (v3) array that
Dask writes with zarr-python's default codecs (zstd), chunks 5000 x 4000 (160 MB each).

  write        da.random.random((25000, 20000), chunks=(5000, 4000)).to_zarr(store)
  dask         da.from_zarr(store).mean(axis=0).compute()    threaded scheduler
  numpy_stream zarr-python reads one chunk row at a time, NumPy sums (one thread)

The floe side: `floe-bench bounded --data STORE --case mean0 --drop-caches`.
Uses the harness of ../shared/bench (JSON lines, --reps, --drop-caches); the store goes
to $BENCH_DATA/zarr-zstd-4gb.zarr. Run `--case write --reps 1` first.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench"))
from benchlib import DATA, main  # noqa: E402

SHAPE, CHUNKS = (25000, 20000), (5000, 4000)
STORE = os.environ.get("ZSTD_STORE", os.path.join(DATA, "zarr-zstd-4gb.zarr"))


def write():
    import dask.array as da
    da.random.random(SHAPE, chunks=CHUNKS).to_zarr(STORE, overwrite=True)
    import zarr
    z = zarr.open_array(STORE, mode="r")
    return dict(bytes=z.nbytes, compressors=str(z.compressors))


def dask_mean0():
    import dask.array as da
    da.from_zarr(STORE).mean(axis=0).compute()


def numpy_stream():
    import numpy as np
    import zarr
    z = zarr.open_array(STORE, mode="r")
    s = np.zeros(z.shape[1])
    for i in range(0, z.shape[0], CHUNKS[0]):
        s += z[i:i + CHUNKS[0]].sum(axis=0)
    return dict(check=float(s.mean() / z.shape[0]))


params = dict(shape=SHAPE, chunks=CHUNKS, store=STORE)
cases = {
    "write": ("dask", params, write),
    "dask": ("dask", params, dask_mean0),
    "numpy_stream": ("numpy", params, numpy_stream),
}

if __name__ == "__main__":
    main("zarr_zstd", cases)
