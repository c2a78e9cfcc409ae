"""floe graphs on dask: run a floe computation on a ``dask.distributed`` cluster (or any
dask scheduler), each task still a floe kernel in Rust.

Floe writes each task of a graph down as data (its operation and parameters: a JSON
text) and hands dask a plain graph whose tasks all call one function,
:func:`run`, with that text and the task's inputs. Values travel between workers as
NumPy arrays (array blocks) or ``bytes`` (a reduction's partial result); arrays made from
NumPy arrays travel as their blocks. Install floe on every worker.

>>> import floe, floe.array as fa, floe.dask
>>> x = fa.random.random((400, 400), chunks=100, seed=1)
>>> y = (x + x.T).mean(axis=0)
>>> d = floe.dask.to_dask(y)            # a dask.array.Array over floe's tasks
>>> d.chunks
((100, 100, 100, 100),)
>>> import numpy as np
>>> bool(np.allclose(d.compute(scheduler="sync"), y.compute()))
True

On a cluster, pass the client: ``floe.compute(y, scheduler=client)``.

Files read by floe (``open_netcdf``, ``open_mfnetcdf``, ``from_npy``, ``from_zarr``) are
read on the workers: the same file (same size and modification time) must be at the same
path there. Python functions over blocks (``map_blocks``, ``map_overlap``,
``apply_gufunc``) travel pickled in the graph, as ``floe.delayed`` calls do, and so do
objects read through ``from_array`` that are not NumPy arrays (with their lock: objects
over HDF5 are read one block at a time in each worker; on a cluster the object and its
lock must pickle, as h5py datasets do). Selections of unknown size
(``x[mask]``, ``nonzero``, ``unique``) run as dask arrays of unknown chunks, and so do
functions over their blocks. Only arrays made in Rust from closures (``from_fn``,
``map_blocks`` over a Rust function) have no description as data: their graphs raise
``NotImplementedError`` naming the operation.
"""

import json
import uuid

import numpy as np

from . import _floe

__all__ = ["run", "to_dask", "graph", "delayed_graph", "compute"]


def run(spec, *inputs):
    """Runs one floe task: ``spec`` is its JSON text, ``inputs`` the values of the tasks
    it reads (NumPy arrays, or ``bytes`` for partial results). The GIL is released while
    the kernel runs. Dask workers call this; it is rarely called directly."""
    return _floe._dask_run(spec, *inputs)


def _call_blocks(func, spec, *blocks):
    """Runs a task of ``map_blocks`` (or ``apply_gufunc``) on a dask worker: ``func`` on the
    NumPy blocks, its result converted to the task's dtype and checked against the block
    the task describes (``spec``, JSON text), as floe's own scheduler checks it."""
    task = json.loads(spec)
    # Each call gets blocks of its own, as floe's scheduler gives it: a function that
    # writes into its input cannot change another task's.
    out = np.asarray(func(*[np.array(b, copy=True) for b in blocks]))
    return _as_described(out, task, getattr(func, "__name__", "the function"))


def _read_block(obj, lock, spec):
    """Reads a task's block of ``obj`` (``from_array`` over an object that is not a NumPy
    array) on a dask worker: ``obj[slices]`` under ``lock`` (``None``; ``True``, one
    read at a time of HDF5 objects; or an object with ``acquire`` and ``release``),
    converted to the task's dtype and checked against the block ``spec`` describes."""
    task = json.loads(spec)
    info = task["info"]
    key = tuple(slice(o, o + n) for o, n in zip(info["offset"], info["shape"]))
    # One read at a time of objects over HDF5 (h5py, netCDF4, h5netcdf), which is not
    # thread-safe: the lock floe's own reads of such objects hold in this process.
    lock = _floe._hdf5_lock() if lock is True else lock
    if lock is None:
        out = np.asarray(obj[key])
    else:
        lock.acquire()
        try:
            out = np.asarray(obj[key])
        finally:
            lock.release()
    return _as_described(out, task, f"reading block {tuple(info['index'])}")


def _as_described(out, task, what):
    """``out`` (a NumPy array) as the block ``task`` describes: its dtype (converted as
    floe converts, NaN and out-of-range floats to integers included) and shape (checked)."""
    dtype = np.dtype(task["dtype"])
    if out.dtype.kind not in "biufc" or out.dtype == np.float16:
        raise TypeError(f"{what} returned a block of dtype {out.dtype}, which floe does not hold")
    shape = tuple(task["info"]["shape"])
    # Along axes of unknown size (a mask's selection) the block has its own size.
    unknown = task.get("unknown") or [False] * len(shape)
    if len(out.shape) != len(shape) or any(
        n != s and not u for n, s, u in zip(out.shape, shape, unknown)
    ):
        raise ValueError(
            f"{what} returned a block of shape {out.shape} "
            f"for block {tuple(task['info']['index'])}, which is {shape}"
        )
    if out.dtype != dtype:
        # floe's own conversion (NaN and out-of-range floats to integers as floe casts
        # them, not as NumPy does), as the local task converts.
        # The block's own shape (along unknown axes, the described one is a bound).
        kernel = {"kernel": "astype", "dtype": dtype.name}
        info = dict(task["info"], shape=list(out.shape))
        out = run(json.dumps({"task": "elementwise", "kernel": kernel, "info": info,
                              "perms": [None]}), out)
    return out


def graph(*arrays):
    """The dask graph (a plain dict) computing every block of ``arrays``, and per array
    the key name of its blocks: block ``(i, j)`` of array ``k`` is ``(names[k], i, j)``.
    Work shared between the arrays is one set of tasks.

    >>> import floe.array as fa, floe.dask
    >>> x = fa.ones((4, 4), chunks=2)
    >>> dsk, (name,) = floe.dask.graph(x.sum(axis=0))
    >>> sorted(k[1:] for k in dsk if k[0] == name)
    [(0,), (1,)]
    """
    tasks, outputs = _floe._dask_graph(*arrays)
    token = uuid.uuid4().hex
    names = [f"floe-{token}-{k}" for k in range(len(arrays))]
    # Each array block is its task's key; a task that is a block of two arrays (the same
    # array twice) is keyed by the first, the second an alias.
    keys = {}
    aliases = []
    for name, blocks in zip(names, outputs):
        for index, task in blocks:
            key = (name, *index)
            if task in keys:
                aliases.append((key, keys[task]))
            else:
                keys[task] = key
    dsk = {}
    for task, op, spec, deps in tasks:
        key = keys.setdefault(task, (f"{op}-{token}", task))
        if isinstance(spec, str):
            dsk[key] = (run, spec, *[keys[d] for d in deps])
        elif isinstance(spec, tuple) and len(spec) == 3:
            text, obj, lock = spec  # an object read block by block: it travels pickled
            dsk[key] = (_read_block, obj, lock, text)
        elif isinstance(spec, tuple):
            text, func = spec  # a Python function over blocks: it travels pickled
            dsk[key] = (_call_blocks, func, text, *[keys[d] for d in deps])
        else:
            dsk[key] = spec  # a block in memory: a literal of the graph
    for key, target in aliases:
        dsk[key] = target
    return dsk, names


def to_dask(x):
    """``x`` as a ``dask.array.Array`` whose tasks run floe's kernels (see the module's
    documentation): the same chunks and dtype, computed by any dask scheduler."""
    dsk, (name,) = graph(x)
    return _dask_array(dsk, name, x)


def _dask_array(dsk, name, x):
    """The ``dask.array.Array`` of blocks ``(name, i, j…)`` of ``dsk``, shaped as ``x``."""
    import dask.array as da
    import numpy as np
    from dask.highlevelgraph import HighLevelGraph

    hlg = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(hlg, name, chunks=x.chunks, dtype=np.dtype(x.dtype))


def _call(func, args, kwargs):
    return func(*args, **(kwargs or {}))


def delayed_graph(*values):
    """The dask graph (a plain dict) computing floe ``Delayed`` values, and their keys:
    each call a task ``func(*args, **kwargs)`` whose function and plain arguments travel
    pickled (cloudpickle on a cluster), its ``Delayed`` arguments the keys of their tasks.

    >>> import floe, floe.dask
    >>> total = floe.delayed(sum)([floe.delayed(len)("ab"), 3])
    >>> dsk, (key,) = floe.dask.delayed_graph(total)
    >>> import dask
    >>> dask.get(dsk, key)
    5
    """
    from dask.core import quote

    from .delayed import Delayed

    dsk = {}

    def key_of(d):
        # Iterative: chains of delayed calls can be longer than Python's recursion limit.
        stack = [d]
        while stack:
            node = stack[-1]
            if node.key in dsk:
                stack.pop()
                continue
            parts = node._dask_parts()
            pending = []
            if parts[0] == "same":
                pending = [parts[1]]
            elif parts[0] == "call":
                _, _, args, kwargs = parts
                pending = [a for a in list(args) + list((kwargs or {}).values()) if isinstance(a, Delayed)]
            pending = [p for p in pending if p.key not in dsk]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if parts[0] == "value":
                dsk[node.key] = quote(parts[1])
            elif parts[0] == "same":
                dsk[node.key] = parts[1].key
            else:
                _, func, args, kwargs = parts
                # Plain arguments as they are, even those dask would read as tasks.
                sub = lambda a: a.key if isinstance(a, Delayed) else quote(a)  # noqa: E731
                args = [sub(a) for a in args]
                kwargs = {k: sub(v) for k, v in (kwargs or {}).items()}
                dsk[node.key] = (_call, func, args, (dict, [[k, v] for k, v in kwargs.items()]))
        return d.key

    keys = [key_of(v) for v in values]
    return dsk, keys


def compute(*values, scheduler):
    """Computes floe arrays and ``Delayed`` values together on a dask ``scheduler`` (a
    ``distributed.Client``, ``"sync"``, ``"threads"``…), returning NumPy arrays and the
    values' results; shared work runs once. This is what ``floe.compute(*values,
    scheduler=...)`` does."""
    import dask
    from dask.delayed import Delayed as DaskDelayed

    from .array import Array

    arrays = [v for v in values if isinstance(v, Array)]
    lazies = [v for v in values if not isinstance(v, Array)]
    dsk, names = graph(*arrays) if arrays else ({}, [])
    ddsk, keys = delayed_graph(*lazies) if lazies else ({}, [])
    names, keys = iter(names), iter(keys)
    collections = []
    for v in values:
        if isinstance(v, Array):
            collections.append(_dask_array(dsk, next(names), v))
        else:
            collections.append(DaskDelayed(next(keys), ddsk))
    return dask.compute(*collections, scheduler=scheduler)
