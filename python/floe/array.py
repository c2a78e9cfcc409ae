"""Chunked n-d arrays with NumPy's names (floe's ``dask.array``).

Everything is lazy until ``compute()`` (or ``numpy.asarray(x)``): operations build a task
graph, and computing it runs the blocks on all cores with the GIL released.
"""

import builtins as _builtins
import operator as _operator
import os as _os
import sys as _sys
import types as _types

import numpy as _np

from . import _floe
from ._floe import (
    Array,
    arange,
    argtopk,
    argwhere,
    bincount,
    compute,
    concatenate,
    diag,
    digitize,
    empty,
    eye,
    flatnonzero,
    from_array as _from_array,
    from_npy,
    from_zarr,
    full,
    linspace,
    nonzero,
    ones,
    open_mfnetcdf,
    open_netcdf,
    stack,
    to_npy,
    to_zarr,
    topk,
    trim_internal,
    zeros,
)



def _netcdf4_variable(x):
    """``(path, name)`` of a ``netCDF4.Variable`` that floe's own reader can read as
    netCDF4 would (root group, the default masking and scaling on), else ``None``."""
    if type(x).__module__.split(".")[0] != "netCDF4" or type(x).__name__ != "Variable":
        return None
    try:
        group = x.group()
        if group.path != "/" or not (getattr(x, "mask", True) and getattr(x, "scale", True)):
            return None
        return group.filepath(), x.name
    except (AttributeError, ValueError, RuntimeError):
        return None


def _stored_values_read_alike(attrs):
    """Whether floe's NetCDF reader, which applies CF masking and scaling, returns a
    variable with these attributes exactly as stored: nothing to unpack, and any fill
    value NaN (masking NaN as NaN changes nothing)."""
    if _builtins.any(a in attrs for a in ("scale_factor", "add_offset", "_Unsigned")):
        return False
    for a in ("_FillValue", "missing_value"):
        if a in attrs:
            v = _np.asarray(attrs[a])
            if v.dtype.kind not in "fc" or not _np.isnan(v).all():
                return False
    return True


def _hdf5_dataset(x):
    """``(path, name)`` of an ``h5py.Dataset`` or ``h5netcdf.Variable`` in a file's root
    group that floe's reader gives exactly as the object's own reads do (no CF attributes:
    these libraries return the stored values), else ``None``."""
    module = type(x).__module__.split(".")[0]
    try:
        if module == "h5netcdf" and type(x).__name__ == "Variable":
            x = x._h5ds
            module = "h5py"
        if module != "h5py" or type(x).__name__ != "Dataset":
            return None
        name = x.name
        if name is None or name.count("/") != 1 or not _stored_values_read_alike(x.attrs):
            return None
        path = x.file.filename
        return (path, name[1:]) if isinstance(path, str) else None
    except (AttributeError, ValueError, RuntimeError, OSError):
        return None


def from_array(x, chunks=None, name=None, lock=None):
    """A lazy array over ``x``: a NumPy array, or any object with ``shape``, ``dtype`` and
    ``__getitem__`` (read block by block, as Dask's ``from_array``; ``lock=`` as Dask's).

    A ``netCDF4.Variable`` of a file's root group is read by floe's own parallel reader
    from the file's path (CF masking and scaling as netCDF4 applies them by default, fill
    values as NaN), without holding the GIL or an HDF5 lock; so is an ``h5py.Dataset`` or
    ``h5netcdf.Variable`` of a root group without CF attributes (those libraries return
    stored values, and so does floe then). Pass ``lock=`` to read through the library
    instead; other objects of netCDF4, h5py and h5netcdf are read one block at a time
    under one lock (HDF5 is not thread-safe).

    >>> import numpy as np, floe.array as fa
    >>> fa.from_array(np.arange(6.0), chunks=4).chunks
    ((4, 2),)
    """
    nc = _netcdf4_variable(x) if lock is None else None
    if nc is not None:
        try:
            return open_netcdf(nc[0], nc[1], chunks=chunks if chunks is not None else "auto")
        except (OSError, ValueError):
            pass  # a file floe's reader does not take: read through netCDF4
    h5 = _hdf5_dataset(x) if lock is None else None
    if h5 is not None:
        try:
            a = open_netcdf(h5[0], h5[1], chunks=chunks if chunks is not None else "auto")
            if a.shape == tuple(x.shape) and a.dtype == x.dtype:
                return a
        except (OSError, ValueError, TypeError):
            pass  # not a file (or a variable) floe's reader takes: read through the library
    if type(x).__module__.split(".")[0] == "netCDF4" and type(x).__name__ == "Variable":
        # Read one block at a time, as netCDF4's own objects are (HDF5 is not thread-safe).
        x, lock = _DecodedNetCDF4(x), True if lock is None else lock
    return _from_array(x, chunks, name, lock)


class _DecodedNetCDF4:
    """A ``netCDF4.Variable`` read through netCDF4 with the dtype its reads have: scaled
    variables are floats (the stored dtype is the packed one), and masked float elements
    are NaN rather than the fill value a plain ``numpy.asarray`` would leave."""

    def __init__(self, var):
        self.var, self.shape = var, var.shape
        packed = [a for a in ("scale_factor", "add_offset") if a in var.ncattrs()]
        if packed and getattr(var, "scale", True):
            self.dtype = _np.result_type(*(_np.asarray(var.getncattr(a)).dtype for a in packed))
        else:
            self.dtype = var.dtype

    def __getitem__(self, key):
        block = self.var[key]
        if _np.ma.isMaskedArray(block) and self.dtype.kind == "f":
            return block.astype(self.dtype).filled(_np.nan)
        return _np.asarray(block, dtype=self.dtype)


def where(condition, x=None, y=None):
    """NumPy's ``where``: elements of ``x`` where ``condition`` holds and of ``y`` elsewhere
    (all three broadcast); with the condition alone, ``nonzero(condition)``.

    >>> import numpy as np, floe.array as fa
    >>> x = fa.from_array(np.array([[0, 3], [4, 0]]), chunks=1)
    >>> fa.where(x > 0, x, -1).compute()
    array([[-1,  3],
           [ 4, -1]])
    >>> [i.compute() for i in fa.where(x)]
    [array([0, 1]), array([1, 0])]
    """
    if x is None and y is None:
        return nonzero(asarray(condition))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return _floe.where(condition, x, y)


def _truth(a):
    """``a`` as a boolean floe array (non-zero is true, as NumPy's conditions)."""
    a = asarray(a)
    return a if a.dtype == bool else a != 0


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True):
    """The sorted unique elements of ``ar`` (NaN once, last), and as asked the flat position
    of each one's first occurrence, each element's position among them (``ar``'s shape, as
    NumPy 2) and how often each occurs: NumPy's ``unique``. Each block is reduced to its unique values, then
    merged in a tree; the result has unknown size until computed (its ``shape`` is
    ``(nan,)``; see ``Array.compute_chunk_sizes``).

    >>> import numpy as np, floe.array as fa
    >>> x = fa.from_array(np.array([3, 1, 3, 2, 1, 3]), chunks=2)
    >>> values, counts = fa.unique(x, return_counts=True)
    >>> values.compute(), counts.compute()
    (array([1, 2, 3]), array([2, 1, 3]))
    """
    if axis is not None:
        raise NotImplementedError("floe's unique works on the flattened array (axis=None)")
    if not equal_nan:
        raise NotImplementedError("floe's unique keeps NaN once (equal_nan=True)")
    return _floe._unique(asarray(ar), return_index, return_inverse, return_counts)


def compress(condition, a, axis=None):
    """NumPy's ``compress``: the slices of ``a`` along ``axis`` (of the flattened array when
    ``None``) where the 1-d ``condition`` is true; a shorter condition keeps only that many
    leading slices. Lazy conditions make sizes unknown until computed.

    >>> import numpy as np, floe.array as fa
    >>> x = fa.from_array(np.arange(6).reshape(3, 2), chunks=1)
    >>> fa.compress([True, False, True], x, axis=0).compute()
    array([[0, 1],
           [4, 5]])
    """
    a = asarray(a)
    if axis is None:
        a, axis = a.ravel(), 0
    cond = _truth(condition)
    if cond.ndim != 1:
        raise ValueError("compress: the condition must be one-dimensional")
    n = a.shape[axis]
    if cond.shape[0] > n:
        # NumPy accepts surplus entries that are all false.
        if bool(cond[n:].any().compute()):
            raise IndexError(f"compress: a condition of {cond.shape[0]} selects past an axis of {n}")
        cond = cond[:n]
    if cond.shape[0] < n:
        key = [slice(None)] * a.ndim
        key[axis] = slice(0, cond.shape[0])
        a = a[tuple(key)]
    return _floe._compress(cond, a, axis)


def extract(condition, arr):
    """NumPy's ``extract``: the elements of ``arr`` where ``condition`` (of its shape) is
    non-zero, row-major, as ``arr[condition]``.

    >>> import numpy as np, floe.array as fa
    >>> x = fa.from_array(np.arange(6).reshape(2, 3), chunks=2)
    >>> fa.extract(x % 2 == 1, x).compute()
    array([1, 3, 5])
    """
    arr, cond = asarray(arr), _truth(condition)
    if cond.shape == arr.shape:
        return _floe._filter(arr, cond)
    # Otherwise NumPy's definition: both flattened, the condition at most as long.
    return compress(cond.ravel(), arr.ravel())


def count_nonzero(a, axis=None, *, keepdims=False):
    """NumPy's ``count_nonzero``: how many elements are non-zero (NaN counts), as int64.

    >>> import numpy as np, floe.array as fa
    >>> fa.count_nonzero(fa.from_array(np.eye(3), chunks=2), axis=0).compute()
    array([1, 1, 1])
    """
    return _truth(a).astype("int64").sum(axis=axis, keepdims=keepdims)


def asarray(x, chunks=None):
    """``x`` as a floe array (returned unchanged if it already is one)."""
    return x if isinstance(x, Array) else from_array(x, chunks=chunks)


def _known(a, op):
    """``a``, refused as the array operations refuse it when some axis has unknown size
    (a boolean mask's selection): ``op`` needs the sizes."""
    if _builtins.any(n != n for n in a.shape):  # NaN
        raise ValueError(f"{op} needs known chunk sizes, but `{a.name}` has axes of unknown size "
                         "(the result of a boolean mask); measure them with compute_chunk_sizes() first")
    return a


def store(sources, targets):
    """Write each source array into its target, as ``dask.array.store`` does.

    ``sources`` is a floe array or a list of them, ``targets`` one target or a list as long.
    A target is a path (``.npy`` for a name ending in .npy, else a Zarr store) or any object
    of the same shape that takes NumPy slices in ``__setitem__`` (a NumPy array, a
    zarr-python array, an h5py dataset): it is filled block by block as one computation, so
    the whole array is never in memory and work shared between blocks runs once.

    >>> import numpy as np, floe.array as fa
    >>> out = np.zeros((4, 6))
    >>> fa.store(fa.ones((4, 6), chunks=(2, 3)) * 2, out)
    >>> float(out.sum())
    48.0
    """
    if isinstance(sources, Array):
        sources, targets = [sources], [targets]
    sources, targets = list(sources), list(targets)
    if len(sources) != len(targets):
        raise ValueError(f"store: {len(sources)} sources but {len(targets)} targets")
    for x, target in zip(sources, targets):
        if not isinstance(x, Array):
            raise TypeError(f"store: sources must be floe arrays, not {type(x).__name__}")
        if isinstance(target, (str, _os.PathLike)):
            path = _os.fspath(target)
            (to_npy if path.endswith(".npy") else to_zarr)(x, path)
        elif hasattr(target, "__setitem__"):
            shape = tuple(getattr(target, "shape", x.shape))
            if shape != x.shape:
                raise ValueError(f"store: a target of shape {shape} for an array of shape {x.shape}")
            _floe._store(x, target)
        else:
            raise TypeError("store: a target must be a path or support __setitem__, "
                            f"not {type(target).__name__}")


def _like(make):
    def f(a, dtype=None, chunks=None, **kw):
        a = _known(asarray(a), make.__name__ + "_like")
        return make(a.shape, dtype=a.dtype if dtype is None else dtype,
                    chunks=a.chunks if chunks is None else chunks, **kw)

    f.__name__ = make.__name__ + "_like"
    f.__doc__ = f"``{make.__name__}`` shaped (and chunked, and typed) like ``a``."
    return f


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(a, fill_value, dtype=None, chunks=None):
    """``full`` shaped (and chunked, and typed) like ``a``."""
    return _like(lambda shape, **kw: full(shape, fill_value, **kw))(a, dtype, chunks)


def squeeze(a, axis=None):
    return asarray(a).squeeze(axis)


def swapaxes(a, axis1, axis2):
    return asarray(a).swapaxes(axis1, axis2)


def ravel(a):
    return asarray(a).ravel()


def round(a, decimals=0):  # noqa: A001 (NumPy's name)
    """Rounded to ``decimals`` places, half to even, lazily."""
    return asarray(a).round(decimals)


around = round


def conj(a):
    return asarray(a).conj()


conjugate = conj


def real(a):
    """The real part, lazily (real arrays as they are)."""
    return asarray(a).real


def imag(a):
    """The imaginary part, lazily (zeros for real arrays)."""
    return asarray(a).imag


def angle(z, deg=False):
    """``numpy.angle``: the argument of each complex element, in radians (degrees with
    ``deg``), lazily; ``0`` or ``π`` for real elements."""
    a = _floe._unary("angle", asarray(z))
    return a * (180.0 / _np.pi) if deg else a


def iscomplexobj(x):
    """Whether ``x`` has a complex dtype (no computation)."""
    return _np.dtype(x.dtype).kind == "c" if hasattr(x, "dtype") else _np.iscomplexobj(x)


def isrealobj(x):
    """Whether ``x`` has a real dtype (no computation)."""
    return not iscomplexobj(x)


def iscomplex(x):
    """Where the imaginary part is not zero, lazily."""
    return asarray(x).imag != 0


def isreal(x):
    """Where the imaginary part is zero, lazily."""
    return asarray(x).imag == 0


def moveaxis(a, source, destination):
    """``a`` with axes ``source`` moved to ``destination`` (ints or sequences), lazily."""
    a = asarray(a)
    src = [s % a.ndim for s in (source if isinstance(source, (list, tuple)) else [source])]
    dst = [d % a.ndim for d in (destination if isinstance(destination, (list, tuple)) else [destination])]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: source and destination must be distinct axes, as many of each")
    order = [ax for ax in range(a.ndim) if ax not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return a.transpose(order)


def flip(a, axis=None):
    """``a`` reversed along ``axis`` (an int, a sequence, or all axes), lazily."""
    a = asarray(a)
    axes = range(a.ndim) if axis is None else (axis if isinstance(axis, (list, tuple)) else [axis])
    key = [slice(None)] * a.ndim
    for ax in axes:
        if not -a.ndim <= ax < a.ndim:
            raise ValueError(f"flip: axis {ax} is out of bounds for {a.ndim} dimensions")
        key[ax % a.ndim] = slice(None, None, -1)
    return a[tuple(key)]


def fliplr(a):
    return flip(a, 1)


def flipud(a):
    return flip(a, 0)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``abs(a - b) <= atol + rtol * abs(b)`` elementwise, NumPy's rule (infinities equal
    only to themselves; NaNs equal only with ``equal_nan``), lazily."""
    a, b = _lazy(a), _lazy(b)
    close = (abs(a - b) <= atol + rtol * abs(b)) & isfinite(a) & isfinite(b)
    same_inf = (a == b) & ~(isfinite(a) & isfinite(b)) & ~isnan(a)
    both_nan = isnan(a) & isnan(b)
    return close | same_inf | both_nan if equal_nan else close | same_inf


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element is close (a lazy 0-d bool array: ``bool(...compute())``)."""
    return isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan).all()


def outer(a, b):
    """The outer product of ``a`` and ``b`` flattened, lazily."""
    return _lazy(a).ravel()[:, None] * _lazy(b).ravel()[None, :]


def _axis(a, axis, what):
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"{what}: axis {axis} is out of bounds for {a.ndim} dimensions")
    return axis % a.ndim


def _take(a, axis, sl):
    key = [slice(None)] * a.ndim
    key[axis] = sl
    return a[tuple(key)]


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th discrete difference along ``axis`` (``prepend``/``append`` values are
    joined first, as NumPy does), lazily."""
    a = _known(asarray(a), "diff")
    axis = _axis(a, axis, "diff")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative, not {n}")
    def edge(extra):
        e = _lazy(extra)
        if e.ndim == 0:
            shape = list(a.shape)
            shape[axis] = 1
            e = full(tuple(shape), extra, dtype=e.dtype)
        return e

    parts = ([edge(prepend)] if prepend is not None else []) + [a] + (
        [edge(append)] if append is not None else [])
    if len(parts) > 1:
        dtype = _np.result_type(*(p.dtype for p in parts))
        parts = [p.astype(dtype) for p in parts]
    a = concatenate(parts, axis) if len(parts) > 1 else a
    for _ in range(n):
        a = _take(a, axis, slice(1, None)) - _take(a, axis, slice(None, -1))
    return a


def roll(a, shift, axis=None):
    """Elements shifted by ``shift`` along ``axis`` (all of them, flattened, for ``None``),
    those past the end coming back at the start, lazily."""
    a = _known(asarray(a), "roll")
    if axis is None:
        return roll(a.ravel(), shift, 0).reshape(a.shape)
    shifts = shift if isinstance(shift, (list, tuple)) else [shift]
    axes = axis if isinstance(axis, (list, tuple)) else [axis] * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError("roll: shift and axis must have the same length")
    for s, ax in zip(shifts, axes):
        ax = _axis(a, ax, "roll")
        n = a.shape[ax]
        s = s % n if n else 0
        if s:
            a = concatenate([_take(a, ax, slice(n - s, None)), _take(a, ax, slice(None, n - s))], ax)
    return a


def rot90(a, k=1, axes=(0, 1)):
    """``a`` rotated by 90 degrees ``k`` times in the plane of ``axes``, lazily."""
    a = asarray(a)
    i, j = (_axis(a, ax, "rot90") for ax in axes)
    if i == j:
        raise ValueError("rot90: the axes must differ")
    k %= 4
    if k == 0:
        return a
    if k == 2:
        return flip(flip(a, i), j)
    order = list(range(a.ndim))
    order[i], order[j] = order[j], order[i]
    return flip(a, j).transpose(order) if k == 1 else flip(a.transpose(order), j)


def tile(a, reps):
    """``a`` repeated ``reps`` times along each axis (NumPy's rules for mismatched lengths),
    lazily."""
    a = _known(asarray(a), "tile")
    reps = tuple(reps) if isinstance(reps, (list, tuple)) else (reps,)
    if _builtins.any(r < 0 for r in reps):
        raise ValueError("tile: repetitions must be non-negative")
    if len(reps) > a.ndim:
        a = a.reshape((1,) * (len(reps) - a.ndim) + a.shape)
    reps = (1,) * (a.ndim - len(reps)) + reps
    for ax, r in enumerate(reps):
        if r == 0:
            return zeros(tuple(0 if i == ax else n for i, n in enumerate(a.shape)), dtype=a.dtype)
        if r > 1:
            a = concatenate([a] * r, ax)
    return a


def _triangle(a, k, lower):
    a = _known(asarray(a), "tril" if lower else "triu")
    if a.ndim < 2:
        raise ValueError("tril/triu: the array must be at least 2-d")
    n, m = a.shape[-2:]
    rows = arange(0, n, 1, chunks=(a.chunks[-2],), dtype="int64")[:, None]
    cols = arange(0, m, 1, chunks=(a.chunks[-1],), dtype="int64")[None, :]
    keep = (cols - rows <= k) if lower else (cols - rows >= k)
    return where(keep, a, zeros((), dtype=a.dtype))


def tril(a, k=0):
    """``a`` with the elements above the ``k``-th diagonal zeroed, lazily."""
    return _triangle(a, k, True)


def triu(a, k=0):
    """``a`` with the elements below the ``k``-th diagonal zeroed, lazily."""
    return _triangle(a, k, False)


def _reduction_input(name, x, dtype, out):
    """``x`` as a reduction ``name`` reads it: NumPy's ``dtype=`` is the accumulator's, so
    the elements are taken in it (extremes and truth values keep theirs); no ``out=``."""
    if out is not None:
        raise NotImplementedError("floe returns a new lazy array; out= is not supported")
    x = asarray(x)
    if dtype is not None and name.removeprefix("nan") not in ("min", "max", "any", "all"):
        x = x.astype(dtype)
    return x


def _nan_reduction(name):
    def f(x, axis=None, keepdims=False, split_every=None, dtype=None, out=None, **kw):
        return _floe._reduce(name, _reduction_input(name, x, dtype, out), axis=axis,
                             keepdims=keepdims, split_every=split_every, **kw)

    f.__name__ = name
    f.__doc__ = f"``numpy.{name}`` (NaN ignored) as a tree reduction over the blocks."
    return f


for _name in ["nansum", "nanmean", "nanmin", "nanmax", "nanvar", "nanstd"]:
    globals()[_name] = _nan_reduction(_name)


def _scan(name, what):
    def f(a, axis=None, dtype=None, out=None):
        if out is not None:
            raise NotImplementedError(f"floe.array.{name} returns a new lazy array; out= is not supported")
        return _floe._scan(name, asarray(a), axis=axis, dtype=dtype)

    f.__name__ = name
    f.__doc__ = (f"``numpy.{name}``: the cumulative {what} along ``axis`` (``None``: of the flattened "
                 "array), as a blocked scan — one pass over the blocks, each block scanned from "
                 "the running total of those before it.")
    return f


cumsum = _scan("cumsum", "sum")
cumprod = _scan("cumprod", "product")
nancumsum = _scan("nancumsum", "sum, NaN counted as zero")
nancumprod = _scan("nancumprod", "product, NaN counted as one")


def _bins_spec(bins):
    """One dimension's bins as the binding takes them: a count or a list of edges."""
    if isinstance(bins, str):
        raise ValueError(f"bins={bins!r}: floe has no named bin rules; give a count or the edges")
    if _np.ndim(bins) == 0:
        return int(bins)
    return [float(v) for v in _np.asarray(bins, dtype="f8").ravel()]


def histogram(a, bins=10, range=None, weights=None, density=False):
    """``numpy.histogram``: ``(counts, edges)`` of all of ``a``'s elements, lazily, in one
    pass over the blocks (each counts its own elements; the counts are summed as a tree).

    Without ``range``, equal-width bins span the data's minimum and maximum, found by a
    first pass (Dask needs ``range`` or edges). Elements outside the edges, and NaN, are not
    counted. ``counts`` is int64 (the weights' dtype with ``weights``, float64 with
    ``density``); ``edges`` is a float64 floe array.

    >>> import floe.array as fa
    >>> counts, edges = fa.histogram(fa.arange(10, chunks=4), bins=5, range=(0, 10))
    >>> counts.compute()
    array([2, 2, 2, 2, 2])
    """
    counts, (edges,) = _floe._histogramdd(
        [asarray(a)], [_bins_spec(bins)], [None if range is None else tuple(range)],
        weights=weights, density=bool(density), one_d=True)
    return counts, edges


def histogramdd(sample, bins=10, range=None, weights=None, density=False):
    """``numpy.histogramdd``: ``(counts, [edges per dimension])`` of points whose
    coordinates are the columns of a 2-d ``sample`` (N, D), or the arrays of a sequence of D
    arrays of one shape. ``bins`` is a count for all dimensions, or one count or edge list
    per dimension; ``range`` one ``(lo, hi)`` or ``None`` per dimension. Counts are
    float64, as NumPy's.
    """
    if hasattr(sample, "shape") and len(sample.shape) == 2:
        sample = asarray(sample)
        columns = [sample[:, d] for d in _builtins.range(sample.shape[1])]
    else:
        columns = [asarray(s) for s in sample]
    d = len(columns)
    if isinstance(bins, (int, _np.integer)):
        bins = [int(bins)] * d
    elif len(bins) != d:
        raise ValueError(f"The dimension of bins must be equal to the dimension of the sample x ({d})")
    ranges = [None] * d if range is None else [None if r is None else tuple(r) for r in range]
    return _floe._histogramdd(columns, [_bins_spec(b) for b in bins], ranges,
                              weights=weights, density=bool(density))


def histogram2d(x, y, bins=10, range=None, density=False, weights=None):
    """``numpy.histogram2d``: ``(counts, xedges, yedges)`` of the points ``(x[i], y[i])``;
    ``bins`` is a count, ``[nx, ny]``, one edge list for both, or ``[xedges, yedges]``.
    """
    if not isinstance(bins, (int, _np.integer)) and len(bins) not in (1, 2):
        bins = [bins, bins]
    counts, (xedges, yedges) = histogramdd([x, y], bins, range, weights, density)
    return counts, xedges, yedges


def _quantile(a, q, axis, keepdims, method, skip_nan, scale, out=None, overwrite_input=False,
              mean=False):
    if method != "linear":
        raise NotImplementedError(f"method={method!r}: floe interpolates linearly (NumPy's default) only")
    if out is not None:
        raise NotImplementedError("floe returns a new lazy array; out= is not supported")
    x = _known(asarray(a), "quantile")
    qa = _np.asarray(q, dtype="f8") / scale
    if not ((qa >= 0) & (qa <= 1)).all():
        what = "Percentiles must be in the range [0, 100]" if scale == 100 else "Quantiles must be in the range [0, 1]"
        raise ValueError(what)
    ndim = x.ndim
    if axis is None:
        reduced = list(_builtins.range(ndim))
    else:
        given = list(axis) if isinstance(axis, (tuple, list)) else [axis]
        bad = [a for a in given if not -ndim <= a < ndim]
        if bad:
            raise ValueError(f"axis {bad[0]} is out of bounds for array of dimension {ndim}")
        reduced = sorted({a % ndim for a in given})
        if len(reduced) != len(given):
            raise ValueError(f"repeated axis in {given}")
    kept = [d for d in _builtins.range(ndim) if d not in reduced]
    weak = isinstance(q, (int, float)) and not isinstance(q, bool)
    if x.dtype == _np.float32 and _np.result_type(x.dtype, q if weak else _np.asarray(q)) == _np.float64:
        # A float64 result is computed in float64, not rounded through float32 first.
        x = x.astype("f8")
    if qa.size == 0:
        # No quantiles: an empty result of NumPy's shape and dtype.
        shape = (0,) + tuple(1 if d in reduced else x.shape[d] for d in _builtins.range(ndim)
                             if keepdims or d in kept)
        weak = isinstance(q, (int, float)) and not isinstance(q, bool)
        dtype = _np.result_type(x.dtype if x.dtype.kind == "f" else _np.float64,
                                q if weak else _np.asarray(q))
        return zeros(shape, dtype=dtype)
    if not kept and x.npartitions > 1:
        # Over everything: two passes (sketches bracket the ranks, then the values in the
        # brackets), never the whole array in one block.
        r = _floe._quantile_all(x, [float(v) for v in qa.ravel()], skip_nan, mean)
    else:
        # The reduced axes moved last and merged into one: quantiles of each lane.
        lane = int(_np.prod([x.shape[d] for d in reduced], dtype="i8"))
        lanes = transpose(x, kept + reduced).reshape(*[x.shape[d] for d in kept], lane)
        r = _floe._quantile(lanes, [float(v) for v in qa.ravel()], -1, skip_nan, mean)
    # NumPy's dtype: the data's and q's promoted (a Python number q is weak).
    weak = isinstance(q, (int, float)) and not isinstance(q, bool)
    dtype = _np.result_type(x.dtype if x.dtype.kind == "f" else _np.float64,
                            q if weak else _np.asarray(q))
    if dtype != r.dtype:
        r = r.astype(dtype)
    if keepdims:
        r = r.reshape(*r.shape[:1], *[1 if d in reduced else x.shape[d] for d in _builtins.range(ndim)])
    if qa.ndim == 0:
        return r[0]
    return r.reshape(*qa.shape, *r.shape[1:])


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``numpy.quantile``, exact with NumPy's default linear interpolation: the reduced axes
    are brought into one block (as Dask's ``median`` does) and each lane is sorted. A lane
    with NaN gives NaN (see ``nanquantile``). ``axis=None`` needs the whole array in one block.

    >>> import floe.array as fa
    >>> fa.quantile(fa.arange(10, chunks=3), [0.25, 0.5]).compute()
    array([2.25, 4.5 ])
    """
    return _quantile(a, q, axis, keepdims, method, False, 1, out)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``numpy.nanquantile``: as ``quantile``, NaN ignored."""
    return _quantile(a, q, axis, keepdims, method, True, 1, out)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``numpy.percentile`` (``q`` in [0, 100]), exact as ``quantile``."""
    return _quantile(a, q, axis, keepdims, method, False, 100, out)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``numpy.nanpercentile``: as ``percentile``, NaN ignored."""
    return _quantile(a, q, axis, keepdims, method, True, 100, out)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``numpy.median``, exact: the mean of the two middle values as NumPy's (the reduced
    axes in one block, as Dask's ``median``; over the whole array in two passes)."""
    return _quantile(a, 0.5, axis, keepdims, "linear", False, 1, out, mean=True)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``numpy.nanmedian``: as ``median``, NaN ignored."""
    return _quantile(a, 0.5, axis, keepdims, "linear", True, 1, out, mean=True)


def overlap(x, depth, boundary=None):
    """Dask's ``overlap``: every block extended by ``depth`` elements of its neighbours (an
    int, one per axis, or ``{axis: depth}``), and past the array's edges by ``boundary``:
    ``"none"`` (default: edge blocks are not extended outward), ``"reflect"`` (mirrored,
    edge included), ``"periodic"``, ``"nearest"`` or a constant; one for all axes, or per
    axis. Blocks shorter than the depth are first joined to a neighbour.
    ``trim_internal(y, depth, boundary)`` cuts the margins off again.
    """
    return asarray(x).overlap(depth, boundary)


def map_overlap(func, *args, depth=None, boundary=None, trim=True, dtype=None, **kwargs):
    """Dask's ``map_overlap``: ``func(block, **kwargs)`` on every block of an array
    extended by ``depth`` (see ``overlap``), the margins cut from its results unless
    ``trim=False``. ``func`` gets and returns NumPy arrays of the extended block's shape; it
    runs under the GIL. With several arrays (of one shape; the others take the first one's
    blocks), ``func`` gets their extended blocks together, all with the same ``depth`` and
    ``boundary``; the result has the first array's dtype unless ``dtype=``. A 3-point moving
    average along the last axis, edges mirrored:

    >>> import numpy as np, floe.array as fa
    >>> x = fa.arange(10.0, chunks=4)
    >>> smooth = fa.map_overlap(lambda b: np.convolve(b, np.ones(3) / 3, mode="same"),
    ...                         x, depth=1, boundary="reflect")
    >>> np.round(smooth.compute(), 2)
    array([0.33, 1.  , 2.  , 3.  , 4.  , 5.  , 6.  , 7.  , 8.  , 8.67])
    >>> a, b = fa.arange(6.0, chunks=3), fa.ones(6, chunks=2)
    >>> fa.map_overlap(lambda u, v: u + v * np.roll(u, 1), a, b, depth=1, boundary=0).compute()
    array([0., 1., 3., 5., 7., 9.])
    """
    if not args:
        raise TypeError("map_overlap needs an array")
    if depth is None:
        raise TypeError("map_overlap needs depth=")
    for name, v in (("depth", depth), ("boundary", boundary)):
        if isinstance(v, list) and len(args) > 1 and len(v) == len(args):
            if _builtins.any(w != v[0] for w in v):
                raise NotImplementedError(f"floe's map_overlap takes one {name} for all arrays")
            if name == "depth":
                depth = v[0]
            else:
                boundary = v[0]
    f = (lambda *b: func(*b, **kwargs)) if kwargs else func
    if len(args) == 1:
        return asarray(args[0]).map_overlap(f, depth, boundary, trim, dtype)
    return _floe._map_overlap([asarray(a) for a in args], f, depth, boundary, trim, dtype)


def pad(array, pad_width, mode="constant", constant_values=0, **kwargs):
    """``numpy.pad``, lazily: each margin becomes one more block at its end of the axis.
    Modes ``"constant"`` (one ``constant_values`` for every side), ``"edge"``,
    ``"reflect"``, ``"symmetric"`` and ``"wrap"``, with pads wider than the axis as NumPy.

    >>> import floe.array as fa
    >>> fa.pad(fa.arange(4, chunks=2), (2, 1), mode="reflect").compute()
    array([2, 1, 0, 1, 2, 3, 2])
    """
    if kwargs:
        raise NotImplementedError(f"floe's pad takes no {sorted(kwargs)}")
    x = asarray(array)
    widths = _np.broadcast_to(_np.asarray(pad_width, dtype="i8"), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError("index can't contain negative values")
    if _np.ndim(constant_values) != 0:
        raise NotImplementedError("floe pads with one constant for every side")
    c = constant_values
    c = c.item() if isinstance(c, _np.generic) else c
    return _floe._pad(x, [tuple(int(v) for v in w) for w in widths], mode, c)


def repeat(a, repeats, axis=None):
    """``numpy.repeat``: each element ``repeats`` times (or ``repeats[i]`` times) along
    ``axis`` (``None``: of the flattened array), lazily; block ``k`` of the result holds
    block ``k``'s repeated elements."""
    x = asarray(a)
    if axis is None or (x.ndim == 0 and axis in (0, -1)):
        # A 0-d array repeats as a 1-d one, as NumPy's.
        x, axis = x.ravel(), 0
    r = _np.asarray(repeats, dtype="i8").ravel()
    if (r < 0).any():
        raise ValueError("repeats may not contain negative values")
    return _floe._repeat(x, [int(v) for v in r], axis)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``numpy.diagonal``, lazily: the two axes removed, the diagonal appended last; each
    piece of it reads the one block it crosses."""
    return asarray(a).diagonal(offset, axis1, axis2)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """``numpy.trace``: the sums along the diagonals, lazily."""
    if out is not None:
        raise NotImplementedError("floe returns a new lazy array; out= is not supported")
    return asarray(a).trace(offset, axis1, axis2, dtype)


def vdot(a, b):
    """``numpy.vdot``: the dot product of the flattened arrays, the first one conjugated,
    lazily."""
    a, b = _known(asarray(a), "vdot"), _known(asarray(b), "vdot")
    if a.size != b.size:
        raise ValueError(f"vdot: vectors of different sizes ({a.size} and {b.size})")
    return (a.ravel().conj() * b.ravel().rechunk(a.ravel().chunks)).sum()


def _einsum_parse(subscripts, operands):
    """The input letters of each operand and the output letters, ``...`` expanded."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
        if "->" in out:
            raise ValueError(f"einsum: more than one '->' in {subscripts!r}")
    else:
        lhs, out = subscripts, None
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {len(inputs)} operands in {subscripts!r}, {len(operands)} given")
    letters = set("".join(inputs).replace(".", "")) | set((out or "").replace(".", ""))
    for c in letters:
        if not (c.isascii() and c.isalpha()):
            raise ValueError(f"einsum: invalid subscript {c!r} in {subscripts!r}")
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 if c not in letters)
    ell_ndim = 0
    for term, op in zip(inputs, operands):
        if "..." in term:
            ell_ndim = _builtins.max(ell_ndim, op.ndim - len(term.replace("...", "")))
    ell = "".join(next(spare) for _ in _builtins.range(ell_ndim))
    expanded = []
    for term, op in zip(inputs, operands):
        if "..." in term:
            n = op.ndim - len(term.replace("...", ""))
            if n < 0:
                raise ValueError(f"einsum: operand of {op.ndim} dimensions for {term!r}")
            term = term.replace("...", ell[ell_ndim - n:])
        if "." in term:
            raise ValueError(f"einsum: invalid ellipsis in {subscripts!r}")
        if len(term) != op.ndim:
            raise ValueError(f"einsum: {term!r} names {len(term)} axes of an operand of {op.ndim}")
        expanded.append(term)
    if out is None:
        counts = {}
        for c in "".join(expanded):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        if "..." in out:
            out = out.replace("...", ell)
        elif ell and _builtins.any(ell_ndim and "..." in t for t in inputs):
            raise ValueError("einsum: output subscript must contain '...' when inputs do")
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: output subscript {out!r} repeats a letter")
        for c in out:
            if c not in "".join(expanded):
                raise ValueError(f"einsum: output letter {c!r} is in no operand")
    return expanded, out


def _einsum_diagonals(term, a):
    """Collapses each letter repeated within one operand to its diagonal."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        i = term.index(c)
        j = term.index(c, i + 1)
        if a.shape[i] != a.shape[j]:
            raise ValueError(f"einsum: axes {i} and {j} of one operand share {c!r} but differ in length")
        a = diagonal(a, 0, i, j)  # the diagonal becomes the last axis
        term = term[:i] + term[i + 1:j] + term[j + 1:] + c
    return term, a


def einsum(subscripts, *operands, dtype=None, optimize=False, split_every=None):
    """NumPy's ``einsum``: products of the operands summed over the letters the output does
    not name, lazily. Letters repeated in one operand take its diagonal; ``...`` broadcasts.
    Operands are combined two at a time: letters shared and needed later are kept
    (broadcast together), letters no later operand or the output needs are contracted
    with ``tensordot`` (blocked, as ``dot``) or summed.

    >>> import numpy as np, floe.array as fa
    >>> a = fa.from_array(np.arange(6.0).reshape(2, 3), chunks=2)
    >>> b = fa.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    >>> fa.einsum("ij,jk->ik", a, b).compute()
    array([[20., 23., 26., 29.],
           [56., 68., 80., 92.]])
    >>> fa.einsum("ij->j", a).compute(), fa.einsum("ii", fa.eye(3, chunks=2)).compute()
    (array([3., 5., 7.]), array(3.))
    """
    if not operands:
        raise ValueError("einsum: no operands")
    if not isinstance(subscripts, str):
        raise NotImplementedError("floe's einsum takes subscripts as a string")
    ops = [asarray(o) if isinstance(o, Array) else from_array(_np.asarray(o)) for o in operands]
    terms, out = _einsum_parse(subscripts, ops)
    pairs = [_einsum_diagonals(t, a) for t, a in zip(terms, ops)]
    if dtype is not None:
        pairs = [(t, a.astype(dtype)) for t, a in pairs]
    for _, a in pairs:
        if _builtins.any(n != n for n in a.shape):  # NaN: a selection of unknown size
            raise ValueError("einsum needs known chunk sizes; call compute_chunk_sizes() first")
    sizes = {}
    for t, a in pairs:
        for c, n in zip(t, a.shape):
            if n != 1 and sizes.get(c, 1) not in (1, n):
                raise ValueError(f"einsum: letter {c!r} has lengths {sizes[c]} and {n}")
            if n != 1 or c not in sizes:
                sizes[c] = n
    if _builtins.any(a.dtype == bool for _, a in pairs):
        # Products and sums of booleans as integers; the result is cast back to bool.
        pairs = [(t, a.astype("int64") if a.dtype == bool else a) for t, a in pairs]

    def needed(k):
        """Letters operands after ``k`` or the output use."""
        return set(out).union(*(set(t) for t, _ in pairs[k + 1:]))

    def sum_out(term, a, keep):
        axes = tuple(i for i, c in enumerate(term) if c not in keep)
        if axes:
            a = a.sum(axis=axes, split_every=split_every)
            term = "".join(c for c in term if c in keep)
        return term, a

    term, acc = sum_out(*pairs[0], needed(0) | set(pairs[1][0] if len(pairs) > 1 else ""))
    for k in _builtins.range(1, len(pairs)):
        t2, b = pairs[k]
        t2, b = sum_out(t2, b, needed(k) | set(term))
        later = needed(k)
        shared = [c for c in term if c in t2]
        contract = [c for c in shared if c not in later]
        same = _builtins.all(acc.shape[term.index(c)] == b.shape[t2.index(c)] for c in shared)
        if contract and len(contract) == len(shared) and same:
            # A pure contraction: blocked, as `dot`.
            acc = tensordot(acc, b, ([term.index(c) for c in contract],
                                     [t2.index(c) for c in contract]))
            term = "".join(c for c in term if c not in contract) + "".join(
                c for c in t2 if c not in contract)
            continue
        # Shared letters kept (batch letters) or broadcast: align both on the union of
        # their letters, multiply, and sum what nothing later needs.
        union = term + "".join(c for c in t2 if c not in term)
        a1 = _einsum_align(term, acc, union)
        b1 = _einsum_align(t2, b, union)
        term, acc = sum_out(union, a1 * b1, later)
    term, acc = sum_out(term, acc, set(out))
    if term != out:
        acc = transpose(acc, [term.index(c) for c in out])
    want = _np.dtype(dtype) if dtype is not None else _np.result_type(*(o.dtype for o in ops))
    return acc if acc.dtype == want else acc.astype(want)


def _einsum_align(term, a, union):
    """``a`` (axes named by ``term``) with its axes in ``union``'s order, length-1 axes
    inserted for the letters it lacks."""
    a = transpose(a, sorted(_builtins.range(len(term)), key=lambda i: union.index(term[i])))
    ordered = sorted(term, key=union.index)
    key = tuple(slice(None) if c in ordered else None for c in union)
    return a[key] if None in key else a


class _VIndex:
    """``x.vindex[i, j, ...]``: pointwise indexing, as Dask's. Integer arrays (or lists, or
    ints) for the leading axes broadcast together and name points; the result has their
    broadcast shape followed by the axes not indexed (a trailing ``:`` may name those).

    >>> import numpy as np, floe.array as fa
    >>> x = fa.from_array(np.arange(20).reshape(4, 5), chunks=2)
    >>> x.vindex[[0, 3, -1], [4, 0, 2]].compute()
    array([ 4, 15, 17])
    >>> x.vindex[[[0], [1]], [1, 2]].compute()
    array([[1, 2],
           [6, 7]])
    """

    def __init__(self, x):
        self._x = x

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        while key and isinstance(key[-1], slice) and key[-1] == slice(None):
            key = key[:-1]
        if not key:
            raise IndexError("vindex needs at least one integer index array")
        arrays = []
        for k in key:
            if isinstance(k, (slice, type(None), type(Ellipsis))) or isinstance(k, Array):
                raise IndexError("vindex takes in-memory integer arrays (or lists or ints) for the "
                                 f"leading axes, and only ':' after them, not {k!r}")
            a = _np.asarray(k)
            if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
                raise IndexError(f"vindex indices must be integers, not {a.dtype}")
            arrays.append(a.astype("int64"))
        try:
            shape = _np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError as e:
            raise IndexError(f"vindex: the index arrays do not broadcast together ({e})") from None
        return _floe._vindex(self._x, [_np.broadcast_to(a, shape) for a in arrays])


class BlockView:
    """``x.blocks[...]``: index the grid of blocks instead of the elements (Dask's
    ``blocks``). Ints, slices (with steps), lists and ``...`` select blocks along each axis;
    the result is the lazy array of those blocks, dimensions kept.

    >>> import floe.array as fa
    >>> x = fa.arange(10, chunks=4)
    >>> x.blocks[1].compute(), x.blocks[::-2].chunks
    (array([4, 5, 6, 7]), ((2, 4),))
    """

    def __init__(self, x):
        self._x = x

    @property
    def shape(self):
        return self._x.numblocks

    @property
    def size(self):
        return int(_np.prod(self.shape))

    def __getitem__(self, key):
        x = self._x
        key = key if isinstance(key, tuple) else (key,)
        if _builtins.sum(k is Ellipsis for k in key) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        i = next((j for j, k in enumerate(key) if k is Ellipsis), None)
        if i is not None:
            key = key[:i] + (slice(None),) * (x.ndim - len(key) + 1) + key[i + 1:]
        if len(key) > x.ndim:
            raise IndexError(f"too many indices for a grid of {x.ndim} block dimensions")
        key = key + (slice(None),) * (x.ndim - len(key))
        basic, lists = [], []
        for axis, k in enumerate(key):
            offsets = _np.concatenate([[0], _np.cumsum(x.chunks[axis])]).astype(int)
            nb = len(x.chunks[axis])
            if isinstance(k, (bool, _np.bool_)) or (isinstance(k, float) or isinstance(k, _np.floating)):
                raise IndexError(f"block indices must be integers, slices, lists or masks, not {type(k).__name__}")
            if isinstance(k, (int, _np.integer)):
                b = int(k) + nb if k < 0 else int(k)
                if not 0 <= b < nb:
                    raise IndexError(f"block index {k} is out of bounds for axis {axis} with {nb} blocks")
                basic.append(slice(int(offsets[b]), int(offsets[b + 1])))
                continue
            if isinstance(k, slice):
                picked = list(_builtins.range(nb)[k])
            else:
                arr = _np.asarray(k)
                if arr.ndim != 1 and arr.size:
                    raise IndexError("a block index list must be one-dimensional")
                if arr.dtype == bool:
                    if arr.size != nb:
                        raise IndexError(f"a block mask of {arr.size} for axis {axis} with {nb} blocks")
                    arr = _np.flatnonzero(arr)
                elif arr.size and arr.dtype.kind not in "iu":
                    raise IndexError(f"block indices must be integers, not {arr.dtype}")
                picked = [int(b) for b in arr.ravel()]
            picked = [b + nb if b < 0 else b for b in picked]
            if _builtins.any(not 0 <= b < nb for b in picked):
                raise IndexError(f"block index out of bounds for axis {axis} with {nb} blocks")
            if picked == list(_builtins.range(picked[0], picked[-1] + 1)) if picked else False:
                basic.append(slice(int(offsets[picked[0]]), int(offsets[picked[-1] + 1])))
            else:
                basic.append(slice(None))
                lists.append((axis, [slice(int(offsets[b]), int(offsets[b + 1])) for b in picked]))
        out = x[tuple(basic)]
        for axis, pieces in lists:
            # One piece per picked block, so the result's blocks are the picked ones.
            parts = [out[(slice(None),) * axis + (p,)] for p in pieces]
            out = concatenate(parts, axis) if parts else out[(slice(None),) * axis + (slice(0, 0),)]
        return out


def coarsen(reduction, x, axes, trim_excess=False, **kwargs):
    """Dask's ``coarsen``: every ``axes[a]`` consecutive elements along axis ``a`` combined
    by ``reduction`` (``np.mean``, ``np.sum``, ``np.max``… or its name), lazily; blocks are
    first aligned to whole windows. ``trim_excess`` drops a last partial window; otherwise
    each length must be a multiple of its factor.

    >>> import numpy as np, floe.array as fa
    >>> fa.coarsen(np.sum, fa.arange(12, chunks=5), {0: 3}).compute()
    array([ 3, 12, 21, 30])
    """
    if kwargs:
        raise NotImplementedError(f"floe's coarsen passes no keyword arguments to the reduction ({sorted(kwargs)})")
    x = asarray(x)
    name = reduction if isinstance(reduction, str) else getattr(reduction, "__name__", repr(reduction))
    factors = [1] * x.ndim
    for a, f in axes.items():
        if not -x.ndim <= a < x.ndim:
            raise ValueError(f"axis {a} is out of bounds for array of dimension {x.ndim}")
        factors[a % x.ndim] = int(f)
    return _floe._coarsen(name, x, factors, trim_excess)


def _cumulative(name):
    def f(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if include_initial:
            return NotImplemented
        if axis is None and asarray(x).ndim > 1:
            raise ValueError(f"{name} needs axis= for an array of more than one dimension")
        return globals()[name](x, axis=axis, dtype=dtype, out=out)

    return f


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


_UNARY_NAMES = ["abs", "absolute", "negative", "sqrt", "exp", "log", "log2", "log10", "sin",
                "cos", "tan", "floor", "ceil", "rint", "isnan", "isinf", "isfinite",
                "logical_not", "invert", "sign", "square", "arcsin", "arccos", "arctan", "sinh",
                "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "exp2",
                "cbrt", "deg2rad", "rad2deg", "reciprocal", "trunc", "fix", "signbit",
                "conjugate"]
_BINARY_NAMES = ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod",
                 "remainder", "power", "maximum", "minimum", "arctan2", "hypot", "copysign",
                 "logaddexp", "fmod", "fmax", "fmin"]
for _name in _UNARY_NAMES:
    globals()[_name] = _unary(_name)
for _name in _BINARY_NAMES:
    globals()[_name] = _binary(_name)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN to 0 and ±inf to the dtype's largest finite values, lazily (NumPy's defaults)."""
    if nan != 0.0 or posinf is not None or neginf is not None:
        raise NotImplementedError("floe's nan_to_num takes NumPy's default replacements only")
    return _floe._unary("nan_to_num", x)


def _reduction(name):
    def f(x, axis=None, keepdims=False, dtype=None, out=None, **kw):
        x = _reduction_input(name, x, dtype, out)
        return getattr(x, name)(axis=axis, keepdims=keepdims, **kw)

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


def _parse_gufunc_signature(signature):
    """``"(i,j),(j)->(i)"`` as ([("i", "j"), ("j",)], [("i",)])."""
    import re

    sig = signature.replace(" ", "")
    if "->" not in sig:
        raise ValueError(f"not a gufunc signature: {signature!r}")
    ins, outs = sig.split("->")
    parse = lambda side: [tuple(d for d in g.split(",") if d)
                          for g in re.findall(r"\(([^()]*)\)", side)]
    return parse(ins), parse(outs)


def apply_gufunc(func, signature, *args, axes=None, axis=None, keepdims=False,
                 output_dtypes=None, output_sizes=None, vectorize=None, allow_rechunk=False,
                 meta=None, **kwargs):
    """Dask's ``apply_gufunc``: ``func`` (a NumPy generalized ufunc, or a function working
    like one) on aligned blocks. The loop dimensions broadcast and keep their blocks; each
    core dimension (named in ``signature``, last in every input) must be one block, or is
    made one with ``allow_rechunk=True``. One output; ``vectorize=True`` wraps ``func`` in
    ``numpy.vectorize``.

    >>> import numpy as np, floe.array as fa
    >>> x = fa.from_array(np.arange(12.0).reshape(3, 4), chunks=(1, 4))
    >>> fa.apply_gufunc(lambda b: b.mean(axis=-1), "(i)->()", x, output_dtypes=float).compute()
    array([1.5, 5.5, 9.5])
    """
    if axes is not None or axis is not None or keepdims:
        raise NotImplementedError("floe's apply_gufunc takes the core dimensions last")
    ins, outs = _parse_gufunc_signature(signature)
    if len(outs) != 1:
        raise NotImplementedError("floe's apply_gufunc has one output")
    if len(ins) != len(args):
        raise ValueError(f"apply_gufunc: {len(args)} arguments for signature {signature!r}")
    if isinstance(output_dtypes, (list, tuple)):
        output_dtypes = output_dtypes[0] if output_dtypes else None
    if vectorize:
        func = _np.vectorize(func, signature=signature,
                             otypes=None if output_dtypes is None else [output_dtypes])
    if kwargs:
        inner = func
        func = lambda *b: inner(*b, **kwargs)  # noqa: E731
    arrays = [a if isinstance(a, Array) else from_array(_np.asarray(a)) for a in args]
    loop_nd = _builtins.max(a.ndim - len(core) for a, core in zip(arrays, ins))
    sizes = {}
    prepared = []
    for a, core in zip(arrays, ins):
        if a.ndim < len(core):
            raise ValueError(f"apply_gufunc: an input of {a.ndim} dimensions for core {core}")
        a = a.reshape(*((1,) * (loop_nd - (a.ndim - len(core))) + a.shape))
        for d, n in zip(core, a.shape[loop_nd:]):
            if sizes.setdefault(d, n) != n:
                raise ValueError(f"apply_gufunc: core dimension {d!r} has sizes {sizes[d]} and {n}")
        if core and _builtins.any(len(c) > 1 for c in a.chunks[loop_nd:]):
            if not allow_rechunk:
                raise ValueError(
                    f"apply_gufunc: core dimensions {core} span several blocks; rechunk them "
                    "to one block or pass allow_rechunk=True")
            a = a.rechunk({ax: -1 for ax in range(loop_nd, a.ndim)})
        prepared.append(a)
    # Loop axes: the first input longer than 1 there sets the blocks; others follow.
    loop_shape, loop_chunks = [], []
    for ax in range(loop_nd):
        n = _builtins.max(a.shape[ax] for a in prepared)
        src = next((a for a in prepared if a.shape[ax] == n), prepared[0])
        loop_shape.append(n)
        loop_chunks.append(tuple(src.chunks[ax]))
    for i, a in enumerate(prepared):
        want = {ax: loop_chunks[ax] for ax in range(loop_nd)
                if a.shape[ax] == loop_shape[ax] and a.chunks[ax] != loop_chunks[ax]}
        bad = [ax for ax in range(loop_nd) if a.shape[ax] not in (1, loop_shape[ax])]
        if bad:
            raise ValueError(f"apply_gufunc: loop dimensions do not broadcast: {a.shape}")
        if want:
            prepared[i] = a.rechunk(want)
    out_core = outs[0]
    for d in out_core:
        if d not in sizes and (output_sizes is None or d not in output_sizes):
            raise ValueError(f"apply_gufunc: the size of new core dimension {d!r} is unknown "
                             "(pass output_sizes)")
    out_sizes = [sizes.get(d, (output_sizes or {}).get(d)) for d in out_core]
    shape = tuple(loop_shape) + tuple(out_sizes)
    chunks = [list(c) for c in loop_chunks] + [[n] for n in out_sizes]
    if output_dtypes is None:
        raise ValueError("apply_gufunc needs output_dtypes (floe does not call func to find it)")
    return _floe._blockwise(prepared, func, _np.dtype(output_dtypes), list(shape), chunks, loop_nd)


def _fft_1d(kind):
    def f(a, n=None, axis=-1, norm=None, out=None):
        if out is not None:
            raise NotImplementedError("floe returns a new lazy array; out= is not supported")
        return _floe._fft(kind, asarray(a), n, axis, norm)

    f.__name__ = kind
    f.__doc__ = (f"``numpy.fft.{kind}`` along ``axis``, which must be one block (rechunk it "
                 "with ``-1`` first); the other axes keep their blocks.")
    return f


def _fft_nd(kind, default_axes=None):
    def f(a, s=None, axes=default_axes, norm=None, out=None):
        if out is not None:
            raise NotImplementedError("floe returns a new lazy array; out= is not supported")
        a = asarray(a)
        axes = None if axes is None else [int(ax) for ax in axes]
        if s is not None:
            # NumPy 2: -1 keeps the input's length along that axis.
            on = axes if axes is not None else range(a.ndim - len(s), a.ndim)
            s = [a.shape[ax] if int(n) == -1 else int(n) for n, ax in zip(s, on)]
        return _floe._fftn(kind, a, s, axes, norm)

    f.__name__ = kind if default_axes is None else kind.replace("n", "2")
    f.__doc__ = f"``numpy.fft.{f.__name__}`` over ``axes``, each of which must be one block."
    return f


def _swap_norm(norm):
    return {None: "forward", "backward": "forward", "forward": "backward"}.get(norm, norm)


def _hfft(a, n=None, axis=-1, norm=None, out=None):
    """``numpy.fft.hfft``: the real spectrum of a signal with Hermitian symmetry."""
    return fft.irfft(asarray(a).conj(), n, axis, _swap_norm(norm), out)


def _ihfft(a, n=None, axis=-1, norm=None, out=None):
    """``numpy.fft.ihfft``: the inverse of ``hfft``."""
    return fft.rfft(a, n, axis, _swap_norm(norm), out).conj()


fft = _types.SimpleNamespace(
    fft=_fft_1d("fft"), ifft=_fft_1d("ifft"), rfft=_fft_1d("rfft"), irfft=_fft_1d("irfft"),
    fftn=_fft_nd("fftn"), ifftn=_fft_nd("ifftn"), rfftn=_fft_nd("rfftn"),
    irfftn=_fft_nd("irfftn"),
    fft2=_fft_nd("fftn", (-2, -1)), ifft2=_fft_nd("ifftn", (-2, -1)),
    rfft2=_fft_nd("rfftn", (-2, -1)), irfft2=_fft_nd("irfftn", (-2, -1)),
    hfft=_hfft, ihfft=_ihfft,
    fftfreq=lambda n, d=1.0, chunks=None: _floe._fftfreq(n, d, chunks, False),
    rfftfreq=lambda n, d=1.0, chunks=None: _floe._fftfreq(n, d, chunks, True),
    fftshift=lambda x, axes=None: _floe._fftshift(
        asarray(x), None if axes is None else list(_np.atleast_1d(axes)), False),
    ifftshift=lambda x, axes=None: _floe._fftshift(
        asarray(x), None if axes is None else list(_np.atleast_1d(axes)), True),
)
fft.__doc__ = ("Discrete Fourier transforms (``numpy.fft``'s names) along axes held in one block; "
               "float32 and complex64 give complex64, other dtypes complex128.")

newaxis = None
# NumPy's (and the array API's) dtypes, constants and type queries, by the same names.
(int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64,
 complex64, complex128, bool_) = (_np.int8, _np.int16, _np.int32, _np.int64, _np.uint8,
                                  _np.uint16, _np.uint32, _np.uint64, _np.float16, _np.float32,
                                  _np.float64, _np.complex64, _np.complex128, _np.bool_)
e, pi, inf, nan = _np.e, _np.pi, _np.inf, _np.nan
finfo, iinfo = _np.finfo, _np.iinfo

# NumPy dispatch: np.sqrt(x), np.mean(x, axis=0), np.concatenate([x, y]) stay lazy.

_UNARY_UFUNCS = set(_UNARY_NAMES)
_BINARY_UFUNCS = set(_BINARY_NAMES)
_OPERATOR_UFUNCS = {
    "greater": _operator.gt, "greater_equal": _operator.ge, "less": _operator.lt,
    "less_equal": _operator.le, "equal": _operator.eq, "not_equal": _operator.ne,
    "logical_and": _operator.and_, "logical_or": _operator.or_, "logical_xor": _operator.xor,
    "bitwise_and": _operator.and_, "bitwise_or": _operator.or_, "bitwise_xor": _operator.xor,
    "matmul": _operator.matmul, "positive": _operator.pos,
}


def _lazy(a):
    """An operand as a floe array (NumPy arrays, lists and scalars too)."""
    return a if isinstance(a, Array) else from_array(_np.asarray(a))


def _array_ufunc(x, ufunc, method, inputs, kwargs):
    kwargs = kwargs or {}
    unsupported = _builtins.any(v is not None for v in kwargs.values())  # out=, where=, dtype=
    if method != "__call__" or unsupported or ufunc.nout != 1:
        return NotImplemented
    name = ufunc.__name__
    if name in _UNARY_UFUNCS and len(inputs) == 1:
        return _floe._unary(name, inputs[0])
    if name in _BINARY_UFUNCS and len(inputs) == 2:
        return _floe._binary(name, _lazy(inputs[0]), inputs[1])
    if name in _OPERATOR_UFUNCS and len(inputs) == ufunc.nin:
        return _OPERATOR_UFUNCS[name](*(_lazy(a) for a in inputs))
    return NotImplemented


def sliding_window_view(x, window_shape, axis=None, **kwargs):
    """NumPy's ``lib.stride_tricks.sliding_window_view``, lazily: the windows of
    ``window_shape`` along ``axis`` (all axes when ``None``), each a new trailing axis.
    Each block holds the windows that start in it, read from the block and the
    ``window - 1`` elements after it (see ``overlap``); the windows are copies, not views,
    so the result is writable (``writeable=``/``subok=`` are accepted and change nothing).

    >>> import numpy as np, floe.array as fa
    >>> w = fa.sliding_window_view(fa.arange(6, chunks=2), 3)
    >>> w.shape, w.chunks
    ((4, 3), ((2, 2), (3,)))
    >>> w.sum(axis=-1).compute()
    array([ 3,  6,  9, 12])
    """
    kwargs.pop("subok", None)
    kwargs.pop("writeable", None)
    kwargs.pop("automatic_rechunk", None)
    if kwargs:
        raise TypeError(f"sliding_window_view takes no {', '.join(sorted(kwargs))}")
    x = asarray(x)
    windows = (tuple(int(w) for w in window_shape) if _np.iterable(window_shape)
               else (int(window_shape),))
    if axis is None:
        axes = tuple(range(x.ndim))
        if len(windows) != x.ndim:
            raise ValueError(f"sliding_window_view: {len(windows)} window sizes for an array "
                             f"of {x.ndim} dimensions; give axis=")
    else:
        axes = tuple(_operator.index(a) for a in (axis if _np.iterable(axis) else (axis,)))
        if len(axes) != len(windows):
            raise ValueError(f"sliding_window_view: {len(windows)} window sizes for "
                             f"{len(axes)} axes")
        for a in axes:
            if not -x.ndim <= a < x.ndim:
                raise _np.exceptions.AxisError(a, x.ndim)
        axes = tuple(a % x.ndim for a in axes)
    if _builtins.any(w < 1 for w in windows):
        raise ValueError(f"sliding_window_view: window sizes must be at least 1, got {windows}")
    # Windows along one axis at a time: the windows of an axis become one trailing axis
    # (NumPy's order: the window axes in the order of `axis`).
    need = {}
    for a, w in zip(axes, windows):
        need[a] = need.get(a, 0) + w - 1
    for a, extra in need.items():
        if extra >= x.shape[a]:
            raise ValueError(f"sliding_window_view: window longer than axis {a} "
                             f"(length {x.shape[a]})")
    out = x
    for a, w in zip(axes, windows):
        out = _windows_along(out, a, w)
    return out


def _windows_along(x, axis, w):
    """The windows of ``w`` along ``axis`` as a new last axis (one block)."""
    n = x.shape[axis]
    if n - w + 1 <= 0:
        raise ValueError(f"sliding_window_view: window of {w} longer than axis {axis} "
                         f"(length {n})")
    depth = {a: 0 for a in range(x.ndim)}
    depth[axis] = w - 1
    # Every block extended by w - 1 on both sides (constant edges), so that each sees the
    # whole windows starting in it; the windows starting past n - w are cut off at the end.
    ext = x.overlap(depth, 0) if w > 1 else x
    # (Blocks shorter than the margin were joined to a neighbour first.)
    chunks = [list(c) for c in ext.chunks] + [[w]]
    chunks[axis] = [c - 2 * (w - 1) for c in chunks[axis]]
    shape = list(x.shape) + [w]
    lead = w - 1

    def windows(block):
        core = block.shape[axis] - 2 * lead
        v = _np.lib.stride_tricks.sliding_window_view(block, w, axis=axis)
        take = [slice(None)] * v.ndim
        take[axis] = slice(lead, lead + core)
        return _np.ascontiguousarray(v[tuple(take)])

    full = _floe._blockwise([ext], windows, x.dtype, shape, chunks, x.ndim)
    keep = [slice(None)] * (x.ndim + 1)
    keep[axis] = slice(0, n - w + 1)
    return full[tuple(keep)]


def _reshape(a, shape, order="C", **kw):
    if order != "C" or kw:
        raise NotImplementedError("floe reshapes in C order only")
    return a.reshape(*(shape if isinstance(shape, tuple) else (shape,)))


_FUNCTIONS = {
    **{getattr(_np, n): globals()[n] for n in ["sum", "prod", "mean", "min", "max", "any", "all",
                                                 "var", "std", "argmin", "argmax", "clip"]},
    _np.amin: globals()["min"],
    _np.amax: globals()["max"],
    _np.transpose: transpose,
    _np.round: round,
    _np.around: around,
    _np.squeeze: squeeze,
    _np.swapaxes: swapaxes,
    _np.ravel: lambda a, order="C": asarray(a).ravel() if order == "C" else NotImplemented,
    _np.nan_to_num: nan_to_num,
    _np.moveaxis: moveaxis,
    _np.flip: flip,
    _np.fliplr: fliplr,
    _np.flipud: flipud,
    _np.isclose: isclose,
    _np.allclose: allclose,
    _np.outer: outer,
    _np.diff: diff,
    _np.roll: roll,
    _np.rot90: rot90,
    _np.tile: tile,
    _np.tril: tril,
    _np.triu: triu,
    _np.fix: globals()["fix"],
    _np.zeros_like: zeros_like,
    _np.ones_like: ones_like,
    _np.full_like: full_like,
    **{getattr(_np, n): globals()[n] for n in ["nansum", "nanmean", "nanmin", "nanmax",
                                                 "nanvar", "nanstd"]},
    **{getattr(_np, n): globals()[n] for n in ["cumsum", "cumprod", "nancumsum", "nancumprod"]},
    **{getattr(_np, f"cumulative_{n}"): _cumulative(f"cum{n}") for n in ["sum", "prod"]
       if hasattr(_np, f"cumulative_{n}")},
    **{getattr(_np, n): globals()[n] for n in ["quantile", "nanquantile", "percentile",
                                                 "nanpercentile", "median", "nanmedian"]},
    _np.diagonal: diagonal,
    _np.trace: trace,
    _np.diag: lambda v, k=0: diag(_lazy(v), k),
    _np.vdot: vdot,
    _np.pad: pad,
    _np.repeat: repeat,
    _np.histogram: histogram,
    _np.histogram2d: histogram2d,
    _np.histogramdd: histogramdd,
    _np.bincount: bincount,
    _np.digitize: digitize,
    _np.dot: lambda a, b: _floe.matmul(_lazy(a), _lazy(b)),
    _np.matmul: lambda a, b: _floe.matmul(_lazy(a), _lazy(b)),
    _np.tensordot: lambda a, b, axes=2: _floe.tensordot(_lazy(a), _lazy(b), axes),
    _np.einsum: einsum,
    _np.concatenate: lambda seq, axis=0: concatenate([_lazy(a) for a in seq], axis),
    _np.stack: lambda seq, axis=0: stack([_lazy(a) for a in seq], axis),
    _np.where: lambda c, a=None, b=None: where(_lazy(c), a, b),
    _np.nonzero: lambda a: nonzero(_lazy(a)),
    _np.argwhere: lambda a: argwhere(_lazy(a)),
    _np.flatnonzero: lambda a: flatnonzero(_lazy(a)),
    _np.unique: unique,
    _np.compress: compress,
    _np.extract: extract,
    _np.count_nonzero: count_nonzero,
    _np.reshape: _reshape,
    _np.lib.stride_tricks.sliding_window_view: sliding_window_view,
    **{getattr(_np.fft, n): getattr(fft, n) for n in [
        "fft", "ifft", "rfft", "irfft", "fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2",
        "rfft2", "irfft2", "hfft", "ihfft", "fftshift", "ifftshift"]},
    _np.real: real,
    _np.imag: imag,
    _np.angle: angle,
    _np.iscomplexobj: iscomplexobj,
    _np.isrealobj: isrealobj,
    _np.iscomplex: iscomplex,
    _np.isreal: isreal,
    _np.result_type: lambda *args: _np.result_type(
        *(a.dtype if isinstance(a, Array) else a for a in args)),
    _np.shape: lambda a: a.shape,
    _np.ndim: lambda a: a.ndim,
    _np.size: lambda a: a.size,
}


def _array_function(func, types, args, kwargs):
    f = _FUNCTIONS.get(func)
    if f is None or not _builtins.all(issubclass(t, (Array, _np.ndarray)) for t in types):
        return NotImplemented
    return f(*args, **kwargs)


# Pickling. A floe array's graph is made of Rust closures, so an array pickles as the call
# that made it: each public function and method of this module records its call on the
# arrays it returns (``_recipe``), and unpickling replays the calls, source first. The
# innermost recorded call wins: ``from_array`` over a ``netCDF4.Variable`` pickles as the
# ``open_netcdf`` it became; ``np.mean(x)`` as the ``x.mean()`` it called.


def _rebuild(name, args, kwargs):
    """Unpickles an array: the call ``floe.array.<name>(*args, **kwargs)`` that made it."""
    f = _sys.modules[__name__]
    for part in name.split("."):
        f = getattr(f, part)
    return f(*args, **kwargs)


def _rebuild_method(x, name, args, kwargs):
    """Unpickles an array made by a method: ``x.<name>(*args, **kwargs)``."""
    return getattr(x, name)(*args, **kwargs)


def _rebuild_item(recipe, i):
    """Unpickles the ``i``-th array of a call that made several (``linalg.qr``...)."""
    rebuild, args = recipe
    return rebuild(*args)[i]


def _rebuild_view(x, view, key):
    """Unpickles ``x.blocks[key]`` or ``x.vindex[key]``."""
    return getattr(x, view)[key]


def _operands(args, kwargs):
    """The arrays a call was given, directly or in a list (``concatenate([x, y])``)."""
    found = []
    for a in (*args, *kwargs.values()) if kwargs else args:
        if isinstance(a, Array):
            found.append(a)
        elif isinstance(a, (list, tuple)):
            found.extend(b for b in a if isinstance(b, Array))
    return found


def _record(out, recipe, args, kwargs):
    """Gives the arrays ``out`` holds the recipe of the call that made them, unless a
    deeper call already did or the call returned one of its own operands unchanged. A call
    on an array without a recipe (made by a private call) records nothing, so that the
    public call around it does."""
    if isinstance(out, Array):
        outs = ((out, recipe),)
    elif isinstance(out, (tuple, list)):
        outs = [(o, (_rebuild_item, (recipe, i))) for i, o in enumerate(out)
                if isinstance(o, Array)]
    else:
        return out
    operands = _operands(args, kwargs)
    for a in operands:
        if a._recipe is None:
            return out
    for o, r in outs:
        if o._recipe is None:
            for a in operands:
                if o is a:
                    break
            else:
                o._recipe = r
    return out


def _recorded(f, name):
    """``f``, with the arrays it returns pickled as the call ``floe.array.<name>(...)``."""

    def call(*args, **kwargs):
        return _record(f(*args, **kwargs), (_rebuild, (name, args, kwargs)), args, kwargs)

    call.__name__ = getattr(f, "__name__", name.rsplit(".", 1)[-1])
    call.__qualname__ = call.__name__
    call.__doc__ = f.__doc__
    call.__wrapped__ = f
    return call


def _recorded_method(f, name):
    """The method ``f``, with the arrays it returns pickled as ``x.<name>(...)``."""

    def method(self, *args, **kwargs):
        return _record(f(self, *args, **kwargs), (_rebuild_method, (self, name, args, kwargs)),
                       (self, *args), kwargs)

    method.__name__ = name
    method.__qualname__ = f"Array.{name}"
    method.__doc__ = f.__doc__
    method.__wrapped__ = f
    return method


def _recorded_getter(get, name):
    """The property ``name``, with the array it returns pickled as ``getattr(x, name)``."""
    return property(lambda self: _record(get.__get__(self), (getattr, (self, name)), (self,), {}),
                    doc=get.__doc__)


def _recorded_view(cls, view):
    """``cls.__getitem__`` (``x.blocks[...]``, ``x.vindex[...]``), recorded."""
    getitem = cls.__getitem__

    def __getitem__(self, key):
        return _record(getitem(self, key), (_rebuild_view, (self._x, view, key)), (self._x,), {})

    __getitem__.__doc__ = getitem.__doc__
    cls.__getitem__ = __getitem__


# What is not recorded returns no array, or an array that is an operand's (persist) or
# a view's (blocks, vindex: recorded by their __getitem__).
_NOT_RECORDED = {"compute", "visualize", "to_svg", "persist", "compute_chunk_sizes", "blocks",
                 "vindex", "store", "to_npy", "to_zarr", "Array", "BlockView", "finfo", "iinfo"}
_wrapped = {}
for _name in [n for n in dir() if not n.startswith("_") and n not in _NOT_RECORDED]:
    _f = globals()[_name]
    if callable(_f) and not isinstance(_f, type):
        globals()[_name] = _wrapped[id(_f)] = _recorded(_f, _name)
for _space, _prefix in [(random, "random"), (linalg, "linalg"), (fft, "fft")]:
    for _name in [n for n in vars(_space) if not n.startswith("_")]:
        _f = getattr(_space, _name)
        setattr(_space, _name, _recorded(_f, f"{_prefix}.{_name}"))
# NumPy's functions dispatch to the recorded ones.
_FUNCTIONS = {k: _wrapped.get(id(f), f) for k, f in _FUNCTIONS.items()}
_RECORDED_DUNDERS = {
    "__getitem__", "__array_ufunc__", "__array_function__", "__neg__", "__pos__", "__abs__",
    "__invert__", "__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__",
    *(f"__{r}{op}__" for r in ("", "r") for op in (
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor")),
}
for _name, _f in list(vars(Array).items()):
    if _name in _NOT_RECORDED or (_name.startswith("_") and _name not in _RECORDED_DUNDERS):
        continue
    if type(_f).__name__ == "getset_descriptor":
        setattr(Array, _name, _recorded_getter(_f, _name))
    elif callable(_f):
        setattr(Array, _name, _recorded_method(_f, _name))
_persist = Array.persist


def _persisted(self):
    """``x.persist()``: its blocks are held in memory; it pickles as ``x`` does."""
    out = _persist(self)
    if out._recipe is None:
        out._recipe = self._recipe
    return out


_persisted.__doc__ = _persist.__doc__
Array.persist = _persisted
_recorded_view(BlockView, "blocks")
_recorded_view(_VIndex, "vindex")
del _name, _f, _space, _prefix, _wrapped

__all__ = [n for n in dir() if not n.startswith("_")]
