"""floe: parallel, larger-than-memory computing on NumPy-like arrays (a Rust core).

>>> import floe.array as fa
>>> x = fa.ones((5000, 1000), chunks=(1000, 1000))
>>> float(x.sum().compute())
5000000.0

Names follow Dask's: port code by changing ``import dask.array as da`` to
``import floe.array as fa``. Computations release the GIL and run on all cores.
"""

from . import _floe, array, config
from .array import Array
from .delayed import Delayed, delayed


def compute(*values):
    """Compute floe arrays (to NumPy arrays) and delayed values together; other objects
    are returned as they are. Work shared between arrays (or between delayed values) runs
    once."""
    out = list(values)
    arrays = [i for i, v in enumerate(values) if isinstance(v, Array)]
    lazies = [i for i, v in enumerate(values) if isinstance(v, Delayed)]
    if arrays:
        for i, r in zip(arrays, _floe.compute(*[values[i] for i in arrays])):
            out[i] = r
    if lazies:
        for i, r in zip(lazies, _floe._compute_delayed(*[values[i] for i in lazies])):
            out[i] = r
    return tuple(out)


__all__ = ["array", "config", "Array", "Delayed", "compute", "delayed"]
__version__ = "0.1.0"
