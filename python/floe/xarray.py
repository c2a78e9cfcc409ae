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

``groupby(...).mean()``, ``resample(...).mean()`` (without flox) and ``apply_ufunc(...,
dask="parallelized")`` with one output work. Not yet supported (they raise
``NotImplementedError`` naming the method, or ``TypeError`` for NumPy functions floe
lacks): ``blockwise``,
``reduction`` (``first``/``last``), ``scan``, ``shuffle``, and ``rolling`` (NumPy's
``sliding_window_view``).
"""

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

    def map_blocks(self, func, *args, dtype=None, chunks=None, drop_axis=None,
                   new_axis=None, **kwargs):
        """``func`` on every block of one array, keeping its shape (what xarray's decoders
        ask for); other forms raise ``NotImplementedError``."""
        arrays = [a for a in args if isinstance(a, fa.Array)]
        if len(arrays) != 1 or drop_axis or new_axis or (
                chunks is not None and tuple(chunks) != arrays[0].chunks):
            raise NotImplementedError(
                "floe's xarray map_blocks takes one array whose blocks keep their shape")
        x = arrays[0]
        rest = [a for a in args if a is not x]
        pos = args.index(x) if any(a is x for a in args) else 0

        def f(block):
            call = list(rest)
            call.insert(pos, block)
            return func(*call, **kwargs)

        return x.map_blocks(f, dtype=dtype if dtype is not None else x.dtype)

    def store(self, sources, targets, **kwargs):
        """Writes each array into its target (anything with ``__setitem__``), in the
        ``regions`` given; ``compute=False`` is refused (floe has no delayed stores for
        xarray yet)."""
        if kwargs.get("compute", True) is False:
            raise NotImplementedError("floe's xarray store writes at once (compute=True)")
        if isinstance(sources, fa.Array):
            sources, targets = [sources], [targets]
        regions = kwargs.get("regions") or [None] * len(sources)
        for src, target, region in zip(sources, targets, regions):
            if region is None:
                fa.store(src, target)
            else:
                fa.store(src, _Region(target, region))

    def _unsupported(self, name):
        raise NotImplementedError(f"floe's xarray chunk manager has no {name} yet")

    def apply_gufunc(self, func, signature, *args, axes=None, keepdims=False,
                     output_dtypes=None, vectorize=None, **kwargs):
        """``apply_ufunc(..., dask="parallelized")``: ``func`` on aligned blocks, core
        dimensions in one block (see ``floe.array.apply_gufunc``)."""
        kwargs.pop("meta", None)
        return fa.apply_gufunc(func, signature, *args, axes=axes, keepdims=keepdims,
                               output_dtypes=output_dtypes, vectorize=vectorize, **kwargs)

    def blockwise(self, *args, **kwargs):
        self._unsupported("blockwise")

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

    def scan(self, *args, **kwargs):
        self._unsupported("scan")


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
