"""floe as an xarray chunk manager: ``chunked_array_type="floe"``.

Registered under xarray's ``xarray.chunkmanagers`` entry point, so that with floe installed

>>> import xarray as xr, numpy as np
>>> ds = xr.Dataset({"t": (("time", "x"), np.arange(12.0).reshape(4, 3))})
>>> lazy = ds.chunk({"time": 2}, chunked_array_type="floe")
>>> type(lazy.t.data).__name__, lazy.t.data.chunks
('Array', ((2, 2), (3,)))
>>> float(lazy.t.mean().compute())
5.5

and ``xr.open_dataset(path, chunks={...}, chunked_array_type="floe")`` reads each block
from the file when it is computed. Arithmetic, reductions, indexing and ``compute()``/
``load()``/``.values`` run on floe's scheduler; floe arrays are not dask collections, so
xarray never mistakes them for dask arrays.

Variables that xarray reads from NetCDF4/HDF5 files (engines ``netcdf4`` and
``h5netcdf``) without CF decoding layers are read by floe's own parallel reader from the
file's path, not through the library under xarray's lock.

``groupby``, ``resample``, ``rolling`` (through NumPy's ``sliding_window_view``, which floe
implements lazily), ``apply_ufunc(..., dask="parallelized")``, ``ffill``/``bfill`` (``scan``),
``to_netcdf``/``to_zarr`` (``store``; with ``compute=False`` it returns a ``dask.delayed``
value, as xarray expects), ``map_blocks``/``blockwise`` and ``reduction`` work. xarray's
``shuffle`` (``groupby(...).shuffle_to_chunks()``) is not supported: it raises
``NotImplementedError``. Where ``flox`` is installed, xarray hands ``groupby`` and
``resample`` reductions to it, and flox knows only Dask and Cubed arrays: use
``xr.set_options(use_flox=False)`` with floe.
"""

import functools
import os

import numpy as np
from xarray.namedarray.parallelcompat import ChunkManagerEntrypoint

import floe
from . import array as fa


def _axis_spec(spec, n, previous):
    """One axis' chunks as floe takes them: an int, ``None``/``-1`` (whole), ``"auto"`` or
    explicit sizes; ``previous`` when not given."""
    if spec is None and previous is not None:
        return tuple(previous) if isinstance(previous, (tuple, list)) else previous
    if isinstance(spec, (list, tuple)):
        return tuple(int(c) for c in spec)
    return spec


def _recorded(method):
    """A manager method whose arrays pickle as the call that made them (see
    ``floe.array``'s pickling): the manager and the call's arguments."""
    name = method.__name__

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        return fa._record(method(self, *args, **kwargs),
                          (fa._rebuild_method, (self, name, args, kwargs)), args, kwargs)

    return call


class FloeManager(ChunkManagerEntrypoint):
    """xarray's interface to floe arrays (see the module's documentation)."""

    available = True

    def __init__(self):
        self.array_cls = fa.Array

    def is_chunked_array(self, data):
        return isinstance(data, fa.Array)

    def chunks(self, data):
        return data.chunks

    def normalize_chunks(self, chunks, shape=None, limit=None, dtype=None,
                         previous_chunks=None):
        """Dask's chunk forms (an int, ``-1``, ``"auto"``, a byte size, a tuple with one
        entry per axis, tuples of explicit sizes, ``{axis: chunks}``) as a tuple of tuples,
        resolved by floe's own rules for ``shape`` and ``dtype``."""
        if shape is None:
            if isinstance(chunks, tuple) and all(isinstance(c, tuple) for c in chunks):
                return chunks
            raise ValueError("normalize_chunks needs the shape unless chunks are explicit")
        shape = tuple(int(n) for n in shape)
        if isinstance(chunks, dict):
            chunks = tuple(chunks.get(a, chunks.get(a - len(shape), -1))
                           for a in range(len(shape)))
        if isinstance(chunks, (list, tuple)):
            previous = previous_chunks or (None,) * len(shape)
            chunks = tuple(_axis_spec(c, n, p) for c, n, p in zip(chunks, shape, previous))
        if limit is not None and chunks == "auto":
            chunks = f"{int(limit)}B"
        dtype = np.dtype(dtype if dtype is not None else "f8")
        return fa.empty(shape, chunks=chunks, dtype=dtype).chunks

    def from_array(self, data, chunks, **kwargs):
        """A lazy array over ``data``, read block by block when computed. A variable of a
        NetCDF4/HDF5 file that xarray would return undecoded is read by floe's own
        parallel reader; anything else through ``data[key]`` (xarray's backends lock their
        own reads)."""
        # xarray adds name=, lock=, inline_array=; its backends lock their own reads.
        kwargs.pop("name", None)
        kwargs.pop("inline_array", None)
        lock = kwargs.pop("lock", None)
        kwargs.pop("meta", None)
        kwargs.pop("asarray", None)
        if kwargs:
            raise TypeError(f"floe's from_array takes no {', '.join(sorted(kwargs))}")
        if isinstance(data, fa.Array):
            return data.rechunk(chunks)
        if isinstance(chunks, list):
            chunks = tuple(chunks)
        direct = _file_variable(data)
        if direct is not None:
            try:
                a = fa.open_netcdf(direct[0], direct[1], chunks=chunks)
                if a.shape == tuple(data.shape) and a.dtype == data.dtype:
                    return a
            except (OSError, ValueError, TypeError):
                pass  # a file or variable floe's reader does not take
        return fa.from_array(data, chunks=chunks, lock=lock)

    def rechunk(self, data, chunks, **kwargs):
        if isinstance(chunks, list):
            chunks = tuple(chunks)
        return data.rechunk(chunks)

    def compute(self, *data, **kwargs):
        """The arrays computed together (shared work runs once), as NumPy arrays; other
        objects are returned as they are."""
        return _on_floe_arrays(floe.compute, data)

    def persist(self, *data, **kwargs):
        """The arrays computed together and kept in memory as floe arrays."""
        return _on_floe_arrays(floe.persist, data)

    @property
    def array_api(self):
        return fa

    @_recorded
    def map_blocks(self, func, *args, dtype=None, chunks=None, drop_axis=None,
                   new_axis=None, **kwargs):
        """Dask's ``map_blocks``: ``func(*blocks, **kwargs)`` on aligned blocks of the
        arrays among ``args`` (other arguments passed as they are). ``drop_axis`` axes are
        read whole and removed; ``new_axis`` axes are added (one block); ``chunks`` gives
        the output's blocks (sizes per axis, or one block shape) when they change."""
        if not any(isinstance(a, fa.Array) for a in args):
            raise TypeError("map_blocks needs a floe array among its arguments")
        first = next(a for a in args if isinstance(a, fa.Array))
        nd = first.ndim
        drop = sorted({d % nd for d in _listed(drop_axis)})
        kept = [a for a in range(nd) if a not in drop]
        out_nd = len(kept) + len(_listed(new_axis))
        new = sorted({n % out_nd for n in _listed(new_axis)})
        out_from_in = dict(zip([o for o in range(out_nd) if o not in new], kept))
        arrays = _aligned([a for a in args if isinstance(a, fa.Array)], first)
        arrays = [a.rechunk({d: -1 for d in drop}) if drop else a for a in arrays]
        base = arrays[0]
        out_chunks = []
        for o in range(out_nd):
            given = chunks[o] if chunks is not None else None
            if o in out_from_in:
                mine = base.chunks[out_from_in[o]]
                if given is None:
                    out_chunks.append(list(mine))
                elif isinstance(given, (tuple, list)):
                    if len(given) != len(mine):
                        raise ValueError(f"map_blocks: chunks for axis {o} give {len(given)} "
                                         f"blocks, the input has {len(mine)}")
                    out_chunks.append([int(c) for c in given])
                else:
                    out_chunks.append([int(given)] * len(mine))
            else:
                size = 1 if given is None else given
                sizes = list(size) if isinstance(size, (tuple, list)) else [int(size)]
                if len(sizes) != 1:
                    raise ValueError(f"map_blocks: new axis {o} is one block, got chunks {size}")
                out_chunks.append([int(sizes[0])])
        in_to_out = {i: o for o, i in out_from_in.items()}
        maps = [[in_to_out.get(ax) for ax in range(a.ndim)] for a in arrays]
        slots = [i for i, a in enumerate(args) if isinstance(a, fa.Array)]

        def f(*blocks):
            call = list(args)
            for i, b in zip(slots, blocks):
                call[i] = b
            return func(*call, **kwargs)

        dtype = np.dtype(dtype if dtype is not None else first.dtype)
        return fa._floe._blockwise(arrays, f, dtype, [sum(c) for c in out_chunks],
                                   out_chunks, 0, maps)

    @_recorded
    def blockwise(self, func, out_ind, *args, dtype=None, adjust_chunks=None,
                  new_axes=None, align_arrays=True, concatenate=None, meta=None, **kwargs):
        """Dask's ``blockwise`` in index notation: ``args`` alternate arrays (or other
        values, with index ``None``) and their index strings; ``func`` gets the blocks that
        line up along the output's indices, whole along indices the output lacks (as
        Dask's ``concatenate=True``; otherwise wrapped in one list per such index)."""
        pairs = list(zip(args[::2], args[1::2]))
        sizes, chunks_of = {}, {}
        for a, ind in pairs:
            if isinstance(a, fa.Array):
                if ind is None or len(ind) != a.ndim:
                    raise ValueError(f"blockwise: index {ind!r} for an array of {a.ndim} dimensions")
                for letter, n, c in zip(ind, a.shape, a.chunks):
                    if letter not in sizes or sizes[letter] == 1:
                        sizes[letter], chunks_of[letter] = n, c
                    elif n not in (1, sizes[letter]):
                        raise ValueError(f"blockwise: index {letter!r} has lengths "
                                         f"{sizes[letter]} and {n}")
        arrays, maps, slots, contracted = [], [], [], []
        for i, (a, ind) in enumerate(pairs):
            if not isinstance(a, fa.Array):
                continue
            want = {}
            for ax, letter in enumerate(ind):
                if letter not in out_ind:
                    want[ax] = -1
                elif a.shape[ax] == sizes[letter] and a.chunks[ax] != chunks_of[letter]:
                    want[ax] = tuple(chunks_of[letter])
            arrays.append(a.rechunk(want) if want else a)
            maps.append([out_ind.index(letter) if letter in out_ind else None for letter in ind])
            slots.append(i)
            contracted.append(sum(letter not in out_ind for letter in ind))
        new_axes = dict(new_axes or {})
        out_chunks = []
        for letter in out_ind:
            if letter in chunks_of:
                c = [int(v) for v in chunks_of[letter]]
            elif letter in new_axes:
                n = new_axes[letter]
                c = [int(v) for v in n] if isinstance(n, (tuple, list)) else [int(n)]
            else:
                raise ValueError(f"blockwise: output index {letter!r} is on no input; "
                                 "give its length in new_axes=")
            adjust = (adjust_chunks or {}).get(letter)
            if callable(adjust):
                c = [int(adjust(v)) for v in c]
            elif isinstance(adjust, (tuple, list)):
                c = [int(v) for v in adjust]
            elif adjust is not None:
                c = [int(adjust)] * len(c)
            out_chunks.append(c)

        def f(*blocks):
            call = [a for a, _ in pairs]
            for slot, b, k in zip(slots, blocks, contracted):
                if not concatenate:
                    for _ in range(k):
                        b = [b]
                call[slot] = b
            return func(*call, **kwargs)

        dtype = np.dtype(dtype if dtype is not None else arrays[0].dtype)
        return fa._floe._blockwise(arrays, f, dtype, [sum(c) for c in out_chunks],
                                   out_chunks, 0, maps)

    def store(self, sources, targets, **kwargs):
        """Writes each array into its target (anything with ``__setitem__``), in the
        ``regions`` given, all in one computation. With ``compute=False`` nothing is
        written yet: the result is a ``dask.delayed`` value that writes when computed (what
        xarray's ``to_netcdf``/``to_zarr(compute=False)`` wrap), or a ``floe.delayed``
        value where Dask is not installed."""
        if isinstance(sources, fa.Array):
            sources, targets = [sources], [targets]
        sources, targets = list(sources), list(targets)
        regions = kwargs.get("regions") or [None] * len(sources)
        wrapped = [t if r is None else _Region(t, r) for t, r in zip(targets, regions)]
        if kwargs.get("compute", True) is not False:
            fa.store(sources, wrapped)
            return None
        try:
            import dask
        except ImportError:
            return floe.delayed(fa.store)(sources, wrapped)
        return dask.delayed(fa.store, pure=False)(sources, wrapped)

    def apply_gufunc(self, func, signature, *args, axes=None, keepdims=False,
                     output_dtypes=None, vectorize=None, **kwargs):
        """``apply_ufunc(..., dask="parallelized")``: ``func`` on aligned blocks, core
        dimensions in one block (see ``floe.array.apply_gufunc``)."""
        kwargs.pop("meta", None)
        return fa.apply_gufunc(func, signature, *args, axes=axes, keepdims=keepdims,
                               output_dtypes=output_dtypes, vectorize=vectorize, **kwargs)

    @_recorded
    def reduction(self, arr, func, combine_func=None, aggregate_func=None, axis=None,
                  dtype=None, keepdims=False):
        """A reduction along one axis as xarray's ``first``/``last`` ask for it:
        ``func(block, axis=(a,), keepdims=True)`` on each block, the partials joined along
        the axis, then ``aggregate_func`` (default ``func``) over them."""
        if axis is None or (isinstance(axis, (tuple, list)) and len(axis) != 1):
            raise NotImplementedError("floe's xarray reduction takes one axis")
        ax = axis[0] if isinstance(axis, (tuple, list)) else axis
        ax %= arr.ndim
        aggregate = aggregate_func or func
        dtype = np.dtype(dtype if dtype is not None else arr.dtype)
        # The reduced axis last, so that each block's partial drops to length one there.
        x = fa.moveaxis(arr, ax, -1)
        nb = len(x.chunks[-1])
        loop = x.ndim - 1
        partials = fa._floe._blockwise(
            [x],
            lambda b: func(b, axis=(b.ndim - 1,), keepdims=True), dtype,
            list(x.shape[:-1]) + [nb], [list(c) for c in x.chunks[:-1]] + [[1] * nb], x.ndim)
        whole = partials.rechunk({loop: -1})
        out = fa._floe._blockwise(
            [whole], lambda b: aggregate(b, axis=(b.ndim - 1,), keepdims=False), dtype,
            list(x.shape[:-1]), [list(c) for c in x.chunks[:-1]], loop)
        return out[(slice(None),) * ax + (None,)] if keepdims else out

    def unify_chunks(self, *args, **kwargs):
        """Arrays (given as ``array, dims, array, dims…``) rechunked to common blocks along
        each named dimension: ``({dim: chunks}, [arrays])``."""
        pairs = list(zip(args[::2], args[1::2]))
        chunks = {}
        for a, dims in pairs:
            if not isinstance(a, fa.Array):
                continue
            for d, c in zip(dims, a.chunks):
                if d not in chunks and len(c) > 0 and sum(c) > 1:
                    chunks[d] = tuple(c)
        out = []
        for a, dims in pairs:
            if isinstance(a, fa.Array):
                want = {i: chunks[d] for i, d in enumerate(dims)
                        if d in chunks and a.shape[i] == sum(chunks[d]) and a.chunks[i] != chunks[d]}
                out.append(a.rechunk(want) if want else a)
            else:
                out.append(a)
        return chunks, out

    @_recorded
    def scan(self, func, binop, ident, arr, axis, dtype, **kwargs):
        """Dask's ``cumreduction``: ``func(block, axis=axis)`` scans each block, and the
        carry from the blocks before it (``binop`` of their last values, from ``ident``;
        ``preop(block, axis=, keepdims=True)`` reduces a block when given) is combined in
        with ``binop(carry, scanned)`` (what ``ffill``/``bfill`` use)."""
        preop = kwargs.pop("preop", None)
        kwargs.pop("method", None)
        kwargs.pop("out", None)
        if kwargs:
            raise TypeError(f"scan takes no {', '.join(sorted(kwargs))}")
        axis %= arr.ndim
        dtype = np.dtype(dtype if dtype is not None else arr.dtype)
        nb = len(arr.chunks[axis])
        if nb == 1:
            return self.map_blocks(lambda b: func(b, axis=axis), arr, dtype=dtype)
        last = (slice(None),) * axis + (slice(-1, None),)

        def total(b):
            return preop(b, axis=axis, keepdims=True) if preop is not None else func(b, axis=axis)[last]

        per_block = [list(c) for c in arr.chunks]
        per_block[axis] = [1] * nb
        totals = fa._floe._blockwise([arr], total, dtype, [sum(c) for c in per_block],
                                     per_block, arr.ndim)

        def carries(t):
            # The carry into block k: binop over the totals of blocks 0..k-1, from ident.
            shape = list(t.shape)
            shape[axis] = 1
            carry = np.full(shape, ident, dtype=dtype)
            out = []
            for k in range(t.shape[axis]):
                out.append(carry)
                carry = binop(carry, t[(slice(None),) * axis + (slice(k, k + 1),)])
            return np.concatenate(out, axis=axis)

        whole = totals.rechunk({axis: -1})
        into = fa._floe._blockwise([whole], carries, dtype, list(whole.shape),
                                   [list(c) for c in whole.chunks], arr.ndim)
        into = into.rechunk({axis: 1})
        return fa._floe._blockwise([arr, into], lambda b, c: binop(c, func(b, axis=axis)),
                                   dtype, list(arr.shape), [list(c) for c in arr.chunks],
                                   arr.ndim)


def _listed(axes):
    if axes is None:
        return []
    return [int(a) for a in axes] if isinstance(axes, (list, tuple)) else [int(axes)]


def _aligned(arrays, first):
    """``arrays`` with those of ``first``'s shape in its blocks (others as they are)."""
    out = []
    for a in arrays:
        if a.ndim != first.ndim:
            raise NotImplementedError("floe's map_blocks takes arrays of one number of "
                                      "dimensions")
        want = {ax: tuple(c) for ax, (n, m, c) in enumerate(zip(a.shape, first.shape, first.chunks))
                if n == m and a.chunks[ax] != c}
        out.append(a.rechunk(want) if want else a)
    return out


_XARRAY_WRAPPERS = ("ImplicitToExplicitIndexingAdapter", "CopyOnWriteArray", "MemoryCachedArray")


def _file_variable(data):
    """``(path, name)`` when ``data`` is xarray's lazy view of a whole variable of a
    NetCDF4/HDF5 file's root group with no decoding on top and no CF attributes (what
    xarray returns is then the stored values, as floe's reader returns them), else
    ``None``."""
    a = data
    for _ in range(16):
        cls = type(a)
        if not cls.__module__.startswith("xarray."):
            return None
        if cls.__name__ in _XARRAY_WRAPPERS:
            a = a.array
        elif cls.__name__ == "LazilyIndexedArray":
            whole = all(isinstance(k, slice) and k.indices(n) == (0, n, 1)
                        for k, n in zip(a.key.tuple, a.array.shape))
            if not whole:
                return None
            a = a.array
        elif cls.__name__ in ("NetCDF4ArrayWrapper", "H5NetCDFArrayWrapper"):
            return _root_variable(a)
        else:
            return None
    return None


def _root_variable(wrapper):
    store = wrapper.datastore
    try:
        if getattr(store, "is_remote", False) or getattr(store, "_group", None) not in (None, "/"):
            return None
        path = store._filename
        if not isinstance(path, str):
            return None
        path = os.path.abspath(path)
        with store.lock:
            var = wrapper.get_array(needs_lock=False)
            attrs = ({n: var.getncattr(n) for n in var.ncattrs()} if hasattr(var, "ncattrs")
                     else dict(var.attrs))
        if not fa._stored_values_read_alike(attrs):
            return None
        return path, wrapper.variable_name
    except (AttributeError, OSError, RuntimeError, ValueError, KeyError):
        return None


def _on_floe_arrays(run, data):
    """``data`` with its floe arrays replaced by ``run(*those)``'s results, in order."""
    lazy = [i for i, d in enumerate(data) if isinstance(d, fa.Array)]
    out = list(data)
    if lazy:
        for i, r in zip(lazy, run(*(data[i] for i in lazy))):
            out[i] = r
    return tuple(out)


class _Region:
    """``target[region][key] = value`` for a store into part of a target."""

    def __init__(self, target, region):
        self.target, self.region = target, tuple(region)

    def __setitem__(self, key, value):
        key = key if isinstance(key, tuple) else (key,)
        full = []
        for i, r in enumerate(self.region):
            k = key[i] if i < len(key) else slice(None)
            start = r.start or 0
            stop = start + k.stop if k.stop is not None else r.stop
            full.append(slice(start + (k.start or 0), stop))
        self.target[tuple(full)] = value
