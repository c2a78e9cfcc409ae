"""Chunked n-d arrays with NumPy's names (floe's ``dask.array``).

Everything is lazy until ``compute()`` (or ``numpy.asarray(x)``): operations build a task
graph, and computing it runs the blocks on all cores with the GIL released.
"""

import types as _types

import numpy as _np

from . import _floe
from ._floe import (
    Array,
    arange,
    compute,
    concatenate,
    empty,
    eye,
    from_array,
    from_npy,
    from_zarr,
    full,
    linspace,
    ones,
    open_mfnetcdf,
    open_netcdf,
    stack,
    to_npy,
    to_zarr,
    zeros,
)

where = _floe.where


def asarray(x, chunks=None):
    """``x`` as a floe array (returned unchanged if it already is one)."""
    return x if isinstance(x, Array) else from_array(x, chunks=chunks)


def store(x, path):
    """Write ``x`` to ``path``: ``.npy`` for a file name ending in .npy, else a Zarr store."""
    path = str(path)
    (to_npy if path.endswith(".npy") else to_zarr)(x, path)


def _unary(name):
    def f(x):
        return _floe._unary(name, x)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``numpy.{name}``, lazily."
    return f


def _binary(name):
    def f(x, y):
        return _floe._binary(name, x, y)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``numpy.{name}``, lazily."
    return f


for _name in ["abs", "absolute", "negative", "sqrt", "exp", "log", "log2", "log10", "sin",
              "cos", "tan", "floor", "ceil", "round", "rint", "isnan", "isinf", "isfinite",
              "logical_not", "invert", "sign", "square"]:
    globals()[_name] = _unary(_name)
for _name in ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod",
              "remainder", "power", "maximum", "minimum"]:
    globals()[_name] = _binary(_name)


def _reduction(name):
    def f(x, axis=None, keepdims=False, **kw):
        return getattr(asarray(x), name)(axis=axis, keepdims=keepdims, **kw)

    f.__name__ = name
    f.__doc__ = f"``numpy.{name}`` as a tree reduction over the blocks."
    return f


for _name in ["sum", "prod", "mean", "min", "max", "any", "all", "var", "std"]:
    globals()[_name] = _reduction(_name)


def argmin(x, axis=None):
    return asarray(x).argmin(axis=axis)


def argmax(x, axis=None):
    return asarray(x).argmax(axis=axis)


def transpose(x, axes=None):
    return asarray(x).transpose(*(axes or ()))


def clip(x, a_min=None, a_max=None):
    return asarray(x).clip(a_min, a_max)


def dot(a, b):
    return _floe.matmul(a, b)


matmul = _floe.matmul
tensordot = _floe.tensordot

random = _types.SimpleNamespace(
    random=lambda size, chunks=None, seed=0: _floe.random_uniform(size, chunks, seed, 0.0, 1.0),
    uniform=lambda low=0.0, high=1.0, size=None, chunks=None, seed=0: _floe.random_uniform(
        size, chunks, seed, low, high),
    normal=lambda loc=0.0, scale=1.0, size=None, chunks=None, seed=0: _floe.random_normal(
        size, chunks, seed, loc, scale),
)
random.__doc__ = "Random arrays, reproducible from ``seed`` whatever the chunking."

linalg = _types.SimpleNamespace(
    svd=_floe.svd,
    svd_compressed=_floe.svd_compressed,
    qr=_floe.qr,
    tsqr=_floe.tsqr,
    cholesky=_floe.cholesky,
    solve=_floe.solve,
    inv=_floe.inv,
    lstsq=_floe.lstsq,
    norm=_floe.norm,
)
linalg.__doc__ = "Blocked linear algebra: TSQR, SVD, randomized SVD, solvers, norms."

newaxis = None

__all__ = [n for n in dir() if not n.startswith("_")]
